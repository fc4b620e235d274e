#!/bin/bash
# 36-systemd: `worker run` speaks systemd's notify protocol on the socket
# NOTIFY_SOCKET names (a path, or '@' for the abstract namespace): READY=1
# once its lease exists, WATCHDOG=1 every WATCHDOG_USEC/2 (only if
# WATCHDOG_PID is unset or its own pid), STOPPING=1 when a stop begins;
# jobs do not see those variables; the units install with the right
# ExecStart= and pass systemd-analyze verify (when it exists).
. "$(dirname "$0")/../lib.sh"

q init >/dev/null

# A receiver: one line per datagram ("\n" shown as "|"), then " pid=P" (the
# sender, from SCM_CREDENTIALS) and, for READY=1, " lease=yes|no": whether
# the sender's lease record existed when the datagram arrived.
cat >"$TEST_DIR/recv.py" <<'EOF'
import glob, socket, struct, sys
name, spool = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind("\0" + name[1:] if name.startswith("@") else name)
print("bound", flush=True)
while True:
    msg, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12))
    pid = 0
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("3i", data[:12])[0]
    text = msg.decode()
    line = text.replace("\n", "|") + " pid=%d" % pid
    if "READY=1" in text.split("\n"):
        leases = glob.glob("%s/processing/*-%d/lease" % (spool, pid))
        line += " lease=" + ("yes" if leases else "no")
    print(line, flush=True)
EOF

RECV_PIDS=()
trap 'kill "${RECV_PIDS[@]}" 2>/dev/null; _cleanup' EXIT
# receiver NAME LOG: start one and wait until it is bound
receiver() {
	python3 "$TEST_DIR/recv.py" "$1" "$SPOOL" >"$2" 2>&1 &
	RECV_PIDS+=("$!")
	wait_until 20 grep -qx bound "$2" || diag "receiver $1: $(cat "$2")"
}

# count LOG LINE-REGEX: how many lines match
count() {
	grep -cE "$2" "$1"
}

atleast() {
	local n
	n=$(count "$1" "$2")
	[ "$n" -ge "$3" ] || {
		echo "$n lines match $2 in $1, want $3 or more"
		return 1
	}
}

# --- a path: READY=1, the watchdog, a job's environment, STOPPING=1 ----------
A=$TEST_DIR/a.log
receiver "$TEST_DIR/notify.sock" "$A"
NOTIFY_SOCKET=$TEST_DIR/notify.sock WATCHDOG_USEC=200000 \
	"$QUEUECTL" worker run </dev/null >>"$TEST_DIR/fg-worker.log" 2>&1 &
W=$!
BG_PIDS+=("$W")
wait_for 30 "READY=1 arrives on the path socket" grep -q '^READY=1' "$A"
like "$(grep '^READY=1' "$A")" "^READY=1\|STATUS=watching $SPOOL pid=$W lease=yes\$" \
	"... from the worker itself, once its lease exists, with a STATUS line"
is "$(sed -n 2p "$A" | cut -d' ' -f1)" "READY=1|STATUS=watching" "... and before any WATCHDOG=1"
is "$(count "$A" '^READY=1')" 1 "READY=1 is sent once"
wait_for 20 "WATCHDOG=1 arrives again and again (WATCHDOG_USEC 0.2 s)" \
	atleast "$A" "^WATCHDOG=1 pid=$W\$" 5

runq enqueue --id envjob 'echo "N=${NOTIFY_SOCKET-unset} U=${WATCHDOG_USEC-unset} P=${WATCHDOG_PID-unset} J=$QUEUECTL_JOB_ID"; while [ ! -e go ]; do sleep 0.05; done'
rc_is 0 "enqueue a job that waits for a file"
wait_for 20 "... it runs" in_state envjob processing
wait_for 20 "... and has written its environment" \
	grep -q J=envjob "$(lease_of "$W")/envjob.stdout"
kill -TERM "$W"
wait_for 20 "STOPPING=1 arrives on SIGTERM" grep -q '^STOPPING=1' "$A"
like "$(grep '^STOPPING=1' "$A")" "^STOPPING=1\|STATUS=stopping: finishing the running job pid=$W\$" \
	"... saying the running job is being finished"
check "... while the job still runs" in_state envjob processing
n=$(count "$A" '^WATCHDOG=1')
wait_for 20 "the watchdog goes on while the last job finishes" atleast "$A" '^WATCHDOG=1' $((n + 3))
touch go
wait_for 20 "the job finishes in done/" in_state envjob done
wait_for 20 "the worker exits once the job is recorded" dead_pid "$W"
wait "$W"
rc=$?
rc_is 0 "the worker exits 0 after the job"
check "... its jobs did not see NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID" \
	grep -qx 'N=unset U=unset P=unset J=envjob' "$SPOOL/done/envjob.stdout"

# --- '@': the abstract namespace; WATCHDOG_PID ours, or another's -------------
B=$TEST_DIR/b.log C=$TEST_DIR/c.log
abstract=@queuectl-test-$MARK-$$
receiver "$abstract" "$B"
receiver "$TEST_DIR/c.sock" "$C"
NOTIFY_SOCKET=$abstract WATCHDOG_USEC=200000 bash -c \
	'export WATCHDOG_PID=$$; exec "$QUEUECTL" worker run' </dev/null >>"$TEST_DIR/fg-worker.log" 2>&1 &
WB=$!
BG_PIDS+=("$WB")
NOTIFY_SOCKET=$TEST_DIR/c.sock WATCHDOG_USEC=200000 WATCHDOG_PID=1 \
	"$QUEUECTL" worker run </dev/null >>"$TEST_DIR/fg-worker.log" 2>&1 &
WC=$!
BG_PIDS+=("$WC")
wait_for 30 "READY=1 arrives on an abstract socket ('@' name)" \
	grep -q "^READY=1|STATUS=watching $SPOOL pid=$WB lease=yes\$" "$B"
wait_for 20 "... WATCHDOG=1 too when WATCHDOG_PID is the worker's pid" \
	atleast "$B" "^WATCHDOG=1 pid=$WB\$" 5
wait_for 30 "READY=1 from a worker whose WATCHDOG_PID is another process" \
	grep -q "^READY=1.* pid=$WC lease=yes\$" "$C"
n=$(count "$B" '^WATCHDOG=1')
wait_until 20 atleast "$B" '^WATCHDOG=1' $((n + 5))
is "$(count "$C" '^WATCHDOG=1')" 0 "... sends no WATCHDOG=1 (meanwhile the other sent 5)"
runq worker stop
rc_is 0 "worker stop"
check "both workers are gone" bash -c "! kill -0 $WB 2>/dev/null && ! kill -0 $WC 2>/dev/null"
check "STOPPING=1 arrived from an idle worker" grep -qx "STOPPING=1|STATUS=stopping pid=$WB" "$B"
check "... and from the other" grep -q "^STOPPING=1" "$C"

# --- no NOTIFY_SOCKET, a bad one, and detached workers ------------------------
NOTIFY_SOCKET=relative/name "$QUEUECTL" worker run </dev/null >"$TEST_DIR/bad.log" 2>&1 &
WD=$!
BG_PIDS+=("$WD")
wait_for 30 "a worker with a NOTIFY_SOCKET that is not a path nor '@' runs" worker_ready "$WD"
check "... saying why it does not notify" grep -q "NOTIFY_SOCKET: Invalid argument (not notifying" "$TEST_DIR/bad.log"
runq worker stop

NOTIFY_SOCKET=$TEST_DIR/c.sock WATCHDOG_USEC=200000 start_workers 1
rc_is 0 "worker start with NOTIFY_SOCKET set"
runq enqueue --id envjob2 'echo "N=${NOTIFY_SOCKET-unset} U=${WATCHDOG_USEC-unset}"'
wait_for 20 "a detached worker runs a job" in_state envjob2 done
check "... which does not see NOTIFY_SOCKET either" grep -qx 'N=unset U=unset' "$SPOOL/done/envjob2.stdout"
check "... and the detached worker does not notify (it is no service's main process)" \
	bash -c "! grep -q 'pid=${WPIDS[0]}' '$C'"
runq worker stop

# --- the units: make install, ExecStart=, systemd-analyze verify --------------
P=$TEST_DIR/prefix
run make -s -C "$TOP" -o queuectl install PREFIX="$P"
rc_is 0 "make install PREFIX=$P"
sys=$P/lib/systemd/system/queuectl-worker@.service
usr=$P/lib/systemd/user/queuectl-worker@.service
check "the system unit is installed under PREFIX/lib/systemd/system" test -f "$sys"
check "the user unit under PREFIX/lib/systemd/user" test -f "$usr"
is "$(grep '^ExecStart=' "$sys")" "ExecStart=$P/bin/queuectl worker run" "the system unit runs PREFIX/bin/queuectl"
is "$(grep '^ExecStart=' "$usr")" "ExecStart=$P/bin/queuectl worker run" "so does the user unit"
for u in "$sys" "$usr"; do
	like "$(grep -E '^(Type|KillMode|Restart)=' "$u" | tr '\n' ' ')" \
		'^Type=notify KillMode=mixed Restart=on-failure $' "${u#"$P"/}: Type=notify, KillMode=mixed, Restart=on-failure"
done
check "the system unit sets the spool" grep -qx 'Environment=QUEUECTL_SPOOL=%S/queuectl' "$sys"
check "the user unit leaves the spool to queuectl's default" bash -c "! grep -q '^Environment=.*QUEUECTL_SPOOL' '$usr'"
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -m 0700 "$TEST_DIR/runtime"
	cp "$sys" "$TEST_DIR/queuectl-worker@3.service"
	run systemd-analyze verify --man=no "$TEST_DIR/queuectl-worker@3.service"
	rc_is 0 "systemd-analyze verify: the system unit (instance 3)"
	is "$err" "" "... without a warning"
	run env XDG_RUNTIME_DIR="$TEST_DIR/runtime" systemd-analyze verify --man=no --user "$usr"
	rc_is 0 "systemd-analyze verify --user: the user unit"
	is "$err" "" "... without a warning"
else
	skip "systemd-analyze is not installed: units not verified"
fi

for p in "${RECV_PIDS[@]}"; do
	{ kill "$p" && wait "$p"; } 2>/dev/null
done
done_testing

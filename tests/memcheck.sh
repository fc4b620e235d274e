#!/bin/bash
# tests/memcheck.sh - queuectl's commands under valgrind: no invalid access,
# no definite or indirect leak (valgrind exits 99 on any error).
. "$(dirname "$0")/lib.sh"

if ! command -v valgrind >/dev/null; then
	skip "valgrind is not installed"
	echo "1..$_T_N"
	exit 0
fi

VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
	--error-exitcode=99 --trace-children=no --track-fds=no --num-callers=30)
n=0

# vg DESC EXPECTED_STATUS ARGS...: run queuectl ARGS under valgrind
vg() {
	local desc=$1 want=$2
	shift 2
	n=$((n + 1))
	timeout -k 5 180 "${VG[@]}" --log-file="$TEST_DIR/vg.$n.log" "$QUEUECTL" "$@" >"$TEST_DIR/vg.$n.out" 2>"$TEST_DIR/vg.$n.err"
	rc=$?
	out=$(cat "$TEST_DIR/vg.$n.out")
	if [ "$rc" = "$want" ] && ! [ -s "$TEST_DIR/vg.$n.log" ]; then
		ok "valgrind: $desc"
	else
		not_ok "valgrind: $desc"
		diag "exit status $rc (want $want)"
		diag "$(head -c 2000 "$TEST_DIR/vg.$n.err")"
		diag "$(head -n 80 "$TEST_DIR/vg.$n.log")"
	fi
}

vg "init" 0 init
vg "--help" 0 --help
vg "--version" 0 --version
vg "unknown command" 64 frobnicate
vg "enqueue plain" 0 enqueue --id plain 'echo plain'
vg "enqueue argv" 0 enqueue --id argv -- sh -c 'echo "a b" > /dev/null'
vg "enqueue JSON" 0 enqueue '{"id":"json1","command":"echo json","meta":{"k":[1,2,3]},"priority":2}'
n=$((n + 1))
printf '{"id":"stdin1","command":"true"}' | timeout 180 "${VG[@]}" --log-file="$TEST_DIR/vg.$n.log" "$QUEUECTL" enqueue - >/dev/null 2>"$TEST_DIR/vg.$n.err"
rc=$?
if [ "$rc" = 0 ] && ! [ -s "$TEST_DIR/vg.$n.log" ]; then ok "valgrind: enqueue -"; else
	not_ok "valgrind: enqueue -"
	diag "exit $rc; $(cat "$TEST_DIR/vg.$n.err" "$TEST_DIR/vg.$n.log")"
fi
vg "enqueue bad JSON" 65 enqueue '{"command":'
vg "enqueue duplicate" 73 enqueue --id plain true
vg "enqueue bad id" 65 enqueue --id ../x true
vg "enqueue with options" 0 enqueue --priority 3 --max-retries 1 --timeout 5 --delay 1h --id opts true
vg "config set" 0 config set backoff_base 1.5
vg "config get" 0 config get backoff_base
vg "config list" 0 config list
vg "config bad key" 64 config set nosuch 1
vg "list" 0 list
vg "list --json" 0 list --json
vg "status" 0 status
vg "status --json" 0 status --json
vg "show" 0 show json1
vg "show --json" 0 show json1 --json
vg "show unknown" 66 show nosuch

# a drop-in that will be quarantined, and a job that fails into the DLQ
printf '{not json' >"$SPOOL/tmp/bad"
mv "$SPOOL/tmp/bad" "$SPOOL/pending/bad.json"
q enqueue --id fails --max-retries 0 'echo oops >&2; exit 2' >/dev/null
# MEMCHECK_JOBS plain jobs (1,000 by default, as issue 3 asks)
NJOBS=${MEMCHECK_JOBS:-1000}
for i in $(seq 1 "$NJOBS"); do
	printf '{"id":"job-%s","command":"echo job %s"}\n' "$i" "$i" >"$SPOOL/tmp/j"
	mv "$SPOOL/tmp/j" "$SPOOL/pending/job-$i.json"
done
rm -f "$SPOOL/pending/opts.json"

# a foreground worker under valgrind
"${VG[@]}" --log-file="$TEST_DIR/vg.worker.log" "$QUEUECTL" worker run </dev/null >"$TEST_DIR/vg.worker.out" 2>"$TEST_DIR/vg.worker.err" &
wpid=$!
BG_PIDS+=("$wpid")
wait_for 60 "valgrind worker: starts" worker_ready "$wpid"
wait_for 600 "valgrind worker: processes the jobs" bash -c "[ \$(ls '$SPOOL/pending' | wc -l) -eq 0 ] && [ -z \"\$(ls -A '$SPOOL/processing'/*/ 2>/dev/null | grep json)\" ] && [ -f '$SPOOL/dead/bad.invalid' ]"
check "valgrind worker: $((NJOBS + 4)) jobs done" test "$(count_json "$SPOOL/done")" -eq $((NJOBS + 4))
check "valgrind worker: failing job dead" test -f "$SPOOL/dead/fails.json"
check "valgrind worker: bad file quarantined" test -f "$SPOOL/dead/bad.invalid"
kill -TERM "$wpid"
if wait_until 60 dead_pid "$wpid"; then
	wait "$wpid"
	rc=$?
else
	diag "the worker under valgrind did not exit within 60 s of SIGTERM; killing it"
	kill -9 "$wpid" 2>/dev/null
	wait "$wpid"
	rc=timeout
fi
if [ "$rc" = 0 ] && ! [ -s "$TEST_DIR/vg.worker.log" ]; then
	ok "valgrind: worker run, $NJOBS+ jobs, SIGTERM"
else
	not_ok "valgrind: worker run, $NJOBS+ jobs, SIGTERM"
	diag "exit status $rc"
	diag "$(head -n 100 "$TEST_DIR/vg.worker.log")"
	diag "$(tail -n 20 "$TEST_DIR/vg.worker.err")"
fi

vg "logs" 0 logs fails
vg "logs --stdout" 0 logs json1 --stdout
vg "dlq list" 0 dlq list
vg "dlq list --json" 0 dlq list --json
vg "dlq retry" 0 dlq retry fails
vg "dlq retry unknown" 66 dlq retry nosuch
vg "recover" 0 recover
vg "worker stop (none running)" 0 worker stop

done_testing

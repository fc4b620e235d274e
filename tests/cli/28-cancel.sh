#!/bin/bash
# 28-cancel: cancel of pending, held, failed and running jobs (the process
# group really gone; SIGKILL after kill_grace for a job that ignores
# SIGTERM), requests made by hand, requests racing with claims, crash
# points; the request file SPOOL/cancel/ID is always settled.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set kill_grace 1 >/dev/null
q config set backoff_base 1000 >/dev/null

# cancelled ID [ATTEMPTS]: in dead/ as cancelled, no request, nothing held
cancelled() {
	local f=$SPOOL/dead/$1.json
	jq -e --argjson n "${2:-0}" '.state == "dead" and .last_error == "cancelled" and
		.attempts == $n and .finished_at != null and .next_run_at == null' "$f" >/dev/null 2>&1 || {
		echo "$1 is not cancelled with ${2:-0} attempts: $(job_dir "$1") $(cat "$f" 2>/dev/null)"
		return 1
	}
	[ ! -e "$SPOOL/cancel/$1" ] || { echo "cancel/$1 is left"; return 1; }
	[ "$(job_dir "$1")" = dead ] || { echo "$1 also elsewhere"; return 1; }
}

# --- no worker: pending and held jobs -------------------------------------------
q enqueue --id p1 "echo p1 > p1.out" >/dev/null
runq cancel p1
rc_is 0 "cancel of a pending job"
is "$out" "p1" "cancel prints the id"
check "p1: in dead/ as cancelled, attempts 0, no request left" cancelled p1 0
check "pending/ is empty" dirs_empty "$SPOOL/pending"
runq cancel p1
rc_is 0 "cancel of a cancelled job exits 0"
q enqueue --hold --id h1 "echo h1" >/dev/null
runq cancel h1
rc_is 0 "cancel of a held job"
check "h1 cancelled" cancelled h1 0

# --- a request made by hand, seen by a worker at its claim ------------------------
# (once the worker has started: its lease exists before its start-up sweep,
# which settles a request whose job is nowhere, as m1's is not yet)
fg_worker
wait_for 30 "the worker has started" grep -q "started, pid $FG_PID," "$TEST_DIR/fg-worker.log"
touch "$SPOOL/cancel/m1"
q enqueue --id m1 "echo m1 > m1.out" >/dev/null
wait_for 30 "a job with a request is not started by the worker that claims it" cancelled m1 0
check "it never ran" absent m1.out
check "p1 never ran either" absent p1.out

# --- a failed job waiting for its retry ---------------------------------------------
q enqueue --id f1 --max-retries 3 "echo f1-out; exit 3" >/dev/null
wait_for 30 "f1 fails once and waits in failed/" in_state f1 failed
runq cancel f1
rc_is 0 "cancel of a failed job"
check "f1 cancelled, its attempt kept" cancelled f1 1
check "its logs went with it" grep -q '^f1-out$' "$SPOOL/dead/f1.stdout"

# --- a running job: the whole process group ends ---------------------------------
q enqueue --id r1 "sh -c 'sleep 300; : bg-$MARK' & sh -c 'sleep 300; : fg-$MARK'; wait" >/dev/null
wait_for 30 "r1 runs, with a background child" procs "bg-$MARK"
check "and a foreground one" procs "fg-$MARK"
runq cancel r1
rc_is 0 "cancel of a running job"
is "$out" "r1" "cancel prints the id once the job is in dead/"
check "r1 cancelled, attempt 1" cancelled r1 1
jq_ok "r1: exit_code 143 (SIGTERM)" "$SPOOL/dead/r1.json" '.exit_code == 143'
check "the background child is gone (the group was signalled, not the leader)" no_procs "bg-$MARK"
check "the foreground child is gone" no_procs "fg-$MARK"
check "the worker is still alive" alive "$FG_PID"

# --- a job that ignores SIGTERM: SIGKILL after kill_grace -------------------------
q enqueue --id t1 "trap '' TERM; sh -c 'sleep 300; : term-$MARK'" >/dev/null
wait_for 30 "t1 runs" procs "term-$MARK"
t0=$(now_ms)
runq cancel t1
t1=$(now_ms)
rc_is 0 "cancel of a job that ignores SIGTERM"
check "t1 cancelled" cancelled t1 1
jq_ok "t1: killed by SIGKILL (exit_code 137)" "$SPOOL/dead/t1.json" '.exit_code == 137'
check "cancel took at least kill_grace (1 s): $((t1 - t0)) ms" test $((t1 - t0)) -ge 900
check "no process of t1 is left" no_procs "term-$MARK"
check "the worker is still alive" alive "$FG_PID"

# --- a worker that cannot act in time: exit 75, the request stays -------------
q enqueue --id s1 "sh -c 'sleep 300; : stop-$MARK'" >/dev/null
wait_for 30 "s1 runs" procs "stop-$MARK"
kill -STOP "$FG_PID"
runq cancel s1
rc_is 75 "cancel gives up after kill_grace + 5 s while the worker is stopped"
like "$err" "still running" "and says the job still runs"
check "the request stays" exists "$SPOOL/cancel/s1"
kill -CONT "$FG_PID"
wait_for 30 "the worker, continued, acts on the request" cancelled s1 1
check "no process of s1 is left" no_procs "stop-$MARK"

# --- the job of a dead worker: cancel reclaims the lease first ---------------
q enqueue --id k1 --max-retries 3 "sh -c 'sleep 300; : dead-$MARK'" >/dev/null
wait_for 30 "k1 runs" procs "dead-$MARK"
kill -9 "$FG_PID"
wait "$FG_PID" 2>/dev/null
runq cancel k1
rc_is 0 "cancel of the job of a worker killed with -9"
check "k1 cancelled (the interrupted attempt counted)" cancelled k1 1
check "its orphaned process group is gone" no_procs "dead-$MARK"
check "the dead lease is gone" dirs_empty "$SPOOL/processing"
fg_worker

# --- what cannot be cancelled ----------------------------------------------------
q enqueue --id d1 true >/dev/null
wait_for 30 "d1 is done" in_state d1 done
runq cancel d1
rc_is 1 "cancel of a done job: exit 1"
like "$err" "d1: already done: nothing to cancel" "and says it is done"
check "no request is left for it" absent "$SPOOL/cancel/d1"
runq cancel nosuch
rc_is 66 "cancel of an unknown id: 66"
runq cancel ../x
rc_is 65 "cancel of an invalid id: 65"
runq cancel
rc_is 64 "cancel without an id: 64"

# --- requests racing with claims: two workers, two cancellers ---------------------
fg_worker
N=40
for i in $(seq 1 $N); do echo "{\"id\":\"x$i\",\"command\":\"sleep 0.0$((i % 5))\"}"; done | q enqueue --batch >/dev/null
( for i in $(seq 1 2 $N); do q cancel "x$i" >/dev/null 2>&1; echo "x$i $?"; done >rc1.txt ) &
c1=$!
( for i in $(seq 2 2 $N); do q cancel "x$i" >/dev/null 2>&1; echo "x$i $?"; done >rc2.txt ) &
c2=$!
wait "$c1" "$c2"
bad=
for i in $(seq 1 $N); do
	r=$(grep -h "^x$i " rc1.txt rc2.txt | cut -d' ' -f2)
	d=$(job_dir "x$i")
	case "$r:$d" in
	0:dead) jq -e '.last_error == "cancelled"' "$SPOOL/dead/x$i.json" >/dev/null || bad="$bad x$i(dead,not-cancelled)" ;;
	1:done) ;;
	*) bad="$bad x$i(rc=$r,in=$d)" ;;
	esac
	[ "$(find "$SPOOL" -name "x$i.json" | wc -l)" = 1 ] || bad="$bad x$i(copies)"
done
is "$bad" "" "each raced job is cancelled in dead/ (exit 0) or was done (exit 1), once"
diag "raced: $(cat rc1.txt rc2.txt | grep -c ' 0$') cancelled, $(cat rc1.txt rc2.txt | grep -c ' 1$') done first"
check "no request is left in cancel/" dirs_empty "$SPOOL/cancel"
check "no job is left in a lease" bash -c "! ls '$SPOOL'/processing/*/*.json 2>/dev/null | grep -q ."

# --- a request while the worker retries recording a failure (fault shim) ------
FAULT_SO=$TEST_DIR/fault.so
FLAG=$TEST_DIR/fault.flag
if cc -shared -fPIC -o "$FAULT_SO" "$TOP/tests/fault/fault.c" -ldl 2>/dev/null; then
	q worker stop --now >/dev/null 2>&1
	touch "$FLAG"
	export LD_PRELOAD=$FAULT_SO QUEUECTL_FAULT=rename:EIO \
		QUEUECTL_FAULT_PATH=/failed/ QUEUECTL_FAULT_FLAG=$FLAG
	old_asan=${ASAN_OPTIONS:-}
	export ASAN_OPTIONS=${old_asan:+$old_asan:}verify_asan_link_order=0
	fg_worker
	unset LD_PRELOAD QUEUECTL_FAULT QUEUECTL_FAULT_PATH QUEUECTL_FAULT_FLAG
	export ASAN_OPTIONS=$old_asan
	q enqueue --id g1 --max-retries 3 "exit 4" >/dev/null
	wait_for 30 "the worker cannot move g1 to failed/ and keeps it" \
		grep -q "g1: cannot record the result" "$TEST_DIR/fg-worker.log"
	touch "$SPOOL/cancel/g1"
	wait_until 5 grep -q "g1: cannot record the result.*try 2" "$TEST_DIR/fg-worker.log"
	rm -f "$FLAG"
	wait_for 30 "once it can, the held failure goes to dead/ as cancelled, not to failed/" cancelled g1 1
	q worker stop --now >/dev/null 2>&1
else
	skip "no C compiler for the fault shim"
fi

# --- crash points (test build) ------------------------------------------------
case $QUEUECTL in *asan*) CQ=$QUEUECTL ;; *) CQ=${CRASH_QUEUECTL:-} ;; esac
case $CQ in /*) ;; ?*) CQ=$TOP/$CQ ;; esac
if [ -n "$CQ" ] && [ -x "$CQ" ]; then
	q worker stop >/dev/null 2>&1
	q enqueue --id c1 true >/dev/null
	run env QUEUECTL_CRASH_AT=cancel.after_request "$CQ" cancel c1
	rc_is 137 "cancel killed after its request"
	check "the request is there" exists "$SPOOL/cancel/c1"
	check "c1 still pending" in_state c1 pending
	runq recover
	like "$out" "settled 1 cancel request" "recover settles the request"
	check "c1 cancelled by recover" cancelled c1 0
	q enqueue --hold --id c2 true >/dev/null
	run env QUEUECTL_CRASH_AT=settle.before_move "$CQ" cancel c2
	rc_is 137 "cancel killed between the rewrite and the move"
	jq_ok "c2 is in hold/, saying dead" "$SPOOL/hold/c2.json" '.state == "dead"'
	q enqueue --id c3 true >/dev/null
	fg_worker
	wait_for 30 "a worker starting settles the stale request" cancelled c2 0
	wait_for 30 "and runs the other job" in_state c3 done
	check "tmp/ is empty" dirs_empty "$SPOOL/tmp"
else
	skip "no crash-point build (set CRASH_QUEUECTL)"
fi

done_testing

#!/bin/bash
# 58-standby: an idle worker makes the child of its next job ahead (the
# "standby": its own process group, waiting on its go pipe), and a job
# that arrives runs in it (spool-layout/README.md, "claim", step 4). A
# standby that someone kills is reaped and replaced; it goes with the
# worker, whether the worker stops or is killed.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null

# kids PID: the pids of process PID's children
kids() {
	ps -o pid= --ppid "$1" | tr -d ' '
}
# one_kid PID: PID has exactly one child, which is not a zombie
one_kid() {
	local k
	k=$(ps -o stat= --ppid "$1")
	[ "$(echo "$k" | grep -c .)" = 1 ] && [[ $k != Z* ]] || {
		echo "children of $1: $(ps -o pid=,stat= --ppid "$1" | tr '\n' ' ')"
		return 1
	}
}

fg_worker
w=$FG_PID
wait_for 30 "an idle worker has one child waiting" one_kid "$w"
sb=$(kids "$w")
is "$(ps -o pgid= -p "$sb" | tr -d ' ')" "$sb" "... in its own process group"
like "$(readlink "/proc/$sb/fd/63")" "/run\$" "... holding the lease's run lock as descriptor 63"
runq list --state processing
is "$out" "" "... and it is no job: nothing is processing"

q enqueue --id a 'echo pid=$$' >/dev/null
wait_for 30 "a ends in done/" in_state a 'done'
like "$(cat "$SPOOL/done/a.stdout")" "pid=$sb\$" "a ran in the standby child"
jq_ok "... attempts 1, exit 0" "$SPOOL/done/a.json" '.attempts == 1 and .exit_code == 0'
wait_for 30 "after a, a new standby child" eval "one_kid $w && [ \"\$(kids $w)\" != '$sb' ]"

# A standby killed while the worker idles: reaped, and the next job runs.
sb=$(kids "$w")
kill -9 "$sb"
wait_for 30 "a killed standby is reaped (no zombie left)" eval "! ps -o stat= --ppid $w | grep -q Z"
check "the worker says so" grep -q "the standby child $sb ended unused" "$TEST_DIR/fg-worker.log"
q enqueue --id b 'echo pid=$$' >/dev/null
wait_for 30 "b ends in done/" in_state b 'done'
jq_ok "... attempts 1, exit 0" "$SPOOL/done/b.json" '.attempts == 1 and .exit_code == 0'
unlike "$(cat "$SPOOL/done/b.stdout")" "pid=$sb\$" "... not in the killed child"
check "the worker is alive" alive "$w"
wait_for 30 "... and has a standby child again" one_kid "$w"

# It goes with the worker: at stop, even a standby that someone stopped...
sb=$(kids "$w")
kill -STOP "$sb"
Q_TIMEOUT=20 runq worker stop
rc_is 0 "worker stop, the standby child stopped (SIGSTOP)"
wait_for 30 "the worker exits" dead_pid "$w"
kill -CONT "$sb" 2>/dev/null
check "the standby child is gone with the worker" dead_pid "$sb"
check "processing/ is empty" dirs_empty "$SPOOL/processing"

# ... and when the worker is killed (it reads end of file, runs nothing).
fg_worker
w=$FG_PID
wait_for 30 "a new worker has its standby child" one_kid "$w"
sb=$(kids "$w")
kill -9 "$w"
wait "$w" 2>/dev/null
wait_for 30 "the standby of a killed worker exits" dead_pid "$sb"
runq recover
rc_is 0 "recover reclaims the dead lease"
check "processing/ is empty" dirs_empty "$SPOOL/processing"
check "no job ran: done/ holds a and b only" test "$(ls "$SPOOL/done" | grep -c json)" = 2

done_testing

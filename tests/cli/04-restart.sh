#!/bin/bash
# 04-restart: jobs survive worker stop/start; graceful stop finishes the
# running job; stop --now puts it back in pending/ without counting it.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
runq worker stop
rc_is 0 "worker stop with no worker exits 0"
like "$out" "stopped 0 worker|no workers running" "... and says so"

# --- jobs survive a stop and a restart ----------------------------------------
start_workers 1
runq worker stop
rc_is 0 "stop the first worker"
ids=
for i in 1 2 3 4 5; do
	ids+=" $(q enqueue "echo job$i")"
done
check "with no worker the 5 jobs stay in pending/" count_is pending 5
start_workers 1
rc_is 0 "restart a worker"
for id in $ids; do
	wait_for 30 "job $id enqueued while stopped runs after the restart" exists "$SPOOL/done/$id.json"
done
jq_ok "... with attempts 1" "$SPOOL/done/${ids##* }.json" '.attempts == 1'

# --- graceful stop lets the running job finish ---------------------------------
runq enqueue --id slow "sleep 2; echo finished > slow.out"
runq enqueue --id behind 'echo behind'
wait_for 30 "slow job is running" in_state slow processing
runq worker stop
rc_is 0 "graceful worker stop exits 0"
check "after worker stop returns, the running job is in done/" test -f "$SPOOL/done/slow.json"
jq_ok "... exit_code 0, attempts 1" "$SPOOL/done/slow.json" '.exit_code == 0 and .attempts == 1'
check "... and it ran to the end" grep -qx finished "$TEST_DIR/work/slow.out"
check "the job queued behind it was not claimed" test -f "$SPOOL/pending/behind.json"
jq_ok "... attempts 0" "$SPOOL/pending/behind.json" '(.attempts // 0) == 0'
check "lease removed after graceful stop" test -z "$(ls -A "$SPOOL/processing")"
check "worker exited" dead_pid "${WPIDS[0]}"

# --- stop --now ----------------------------------------------------------------
start_workers 1
wait_for 30 "the job left behind runs after restart" exists "$SPOOL/done/behind.json"
runq enqueue --id longjob "sleep 30; sleep $MARK"
wait_for 30 "sleep 30 job is running" in_state longjob processing
wait_until 10 procs "sleep $MARK"
t0=$(now_ms)
runq worker stop --now
t1=$(now_ms)
rc_is 0 "worker stop --now exits 0"
check "stop --now returned well before the job would end ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 20000
check "the job is back in pending/" test -f "$SPOOL/pending/longjob.json"
jq_ok "... with attempts unchanged (0)" "$SPOOL/pending/longjob.json" '(.attempts // 0) == 0'
jq_ok "... state pending" "$SPOOL/pending/longjob.json" '.state == "pending"'
jq_ok "... no exit_code/last_error recorded" "$SPOOL/pending/longjob.json" '.exit_code == null and .last_error == null'
check "no other copy of the job" bash -c "[ \$(find '$SPOOL' -name 'longjob.json' | wc -l) = 1 ]"
wait_for 5 "the job's processes are gone" no_procs "sleep $MARK"
check "lease removed after stop --now" test -z "$(ls -A "$SPOOL/processing")"
check "worker exited" dead_pid "${WPIDS[0]}"
check "tmp/ holds no leftover" test -z "$(ls -A "$SPOOL/tmp")"

# --- stop --now of a retry keeps the earlier attempt ---------------------------
rm -f "$SPOOL/pending/longjob.json"
q config set backoff_base 1 >/dev/null
runq enqueue --id retryjob --max-retries 3 "if [ -e retry.flag ]; then sleep 1$MARK; else touch retry.flag; exit 1; fi"
start_workers 1
wait_for 30 "second attempt of the retried job is running" procs "^sleep 1$MARK"
runq worker stop --now
rc_is 0 "worker stop --now during attempt 2"
jq_ok "the job is back in pending/ with attempts 1 (the interrupted attempt not counted)" "$SPOOL/pending/retryjob.json" '.attempts == 1'
wait_for 5 "its sleep is gone" no_procs "sleep 1$MARK"

# --- stop --now with 3 workers each running a job ---------------------------------
rm -f "$SPOOL/pending/retryjob.json"
for i in 1 2 3; do
	q enqueue --id multi$i "sleep 6$i$MARK" >/dev/null
done
start_workers 3
wait_for 30 "3 workers run 3 jobs" bash -c "[ \$(pgrep -fc '^sleep 6[123]$MARK') -eq 3 ]"
runq worker stop --now
rc_is 0 "worker stop --now of 3 busy workers"
like "$out" "stopped 3 worker" "... says stopped 3 workers"
for i in 1 2 3; do
	jq_ok "multi$i back in pending/ with attempts 0" "$SPOOL/pending/multi$i.json" '(.attempts // 0) == 0 and .state == "pending"'
done
wait_for 5 "none of their sleeps survive" no_procs "sleep 6[123]$MARK"
check "processing/ is empty" dirs_empty "$SPOOL/processing"
rm -f "$SPOOL"/pending/multi*

# --- SIGINT to worker run is a graceful stop ------------------------------------
# (non-interactive bash makes background jobs ignore SIGINT; env restores it)
rm -f "$SPOOL/pending/retryjob.json"
env --default-signal=INT "$QUEUECTL" worker run </dev/null >>"$TEST_DIR/fg-worker.log" 2>&1 &
FG_PID=$!
BG_PIDS+=("$FG_PID")
wait_for 30 "worker run is ready" worker_ready "$FG_PID"
runq enqueue --id intjob 'sleep 1.5; echo int-done'
wait_for 30 "job running under worker run" in_state intjob processing
kill -INT "$FG_PID"
wait_until 30 dead_pid "$FG_PID"
wait "$FG_PID"
is "$?" 0 "worker run exits 0 after SIGINT"
check "SIGINT let the running job finish (done/)" test -f "$SPOOL/done/intjob.json"
check "lease removed" test -z "$(ls -A "$SPOOL/processing")"

done_testing

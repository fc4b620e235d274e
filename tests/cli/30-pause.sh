#!/bin/bash
# 30-pause: pause and resume the spool (SPOOL/paused): live workers finish
# their job and claim nothing new, staying alive; a worker started while
# paused claims nothing; resume makes them run; status shows it; stop and
# stop --now still work while paused.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
log=$TEST_DIR/fg-worker.log

# --- a worker that learns of the pause through inotify ----------------------
fg_worker
w1=$FG_PID
runq enqueue --id r1 "until [ -e go1 ]; do sleep 0.05; done; echo r1 # $MARK"
wait_for 30 "r1 runs" in_state r1 processing
runq pause
rc_is 0 "pause"
like "$out" "^paused" "pause says so"
check "SPOOL/paused exists" exists "$SPOOL/paused"
like "$(cat "$SPOOL/paused")" "^by $(id -un) on [^ ]+ \(pid [0-9]+\) at [0-9T:.-]+Z$" "SPOOL/paused says who paused and when"
check "tmp/ holds nothing of the pause" dirs_empty "$SPOOL/tmp"
wait_for 30 "the worker logs the pause" grep -q "spool paused" "$log"
runq enqueue --id p1 "echo p1 > p1.out"
touch go1
wait_for 30 "the running job finishes while paused" in_state r1 done
if wait_until 2 in_state p1 processing; then
	not_ok "a job enqueued while paused stays pending"
else
	ok "a job enqueued while paused stays pending"
fi
check "p1 is in pending/" in_state p1 pending
check "the worker is alive" alive "$w1"

# --- status ----------------------------------------------------------------
runq status --json
is "$(jq -r .paused <<<"$out")" true "status --json: paused true"
runq status
like "$out" "paused by $(id -un) on" "status says paused and by whom"

# --- pause twice, resume twice ----------------------------------------------
before=$(cat "$SPOOL/paused")
runq pause
rc_is 0 "pause while paused exits 0"
like "$err" "already paused by $(id -un)" "and says since when"
is "$(cat "$SPOOL/paused")" "$before" "SPOOL/paused is left as it was"

# --- a worker started while paused claims nothing ---------------------------
fg_worker
w2=$FG_PID
wait_for 30 "the new worker sees the pause at start" bash -c "[ \$(grep -c 'spool paused' '$log') -ge 2 ]"
if wait_until 2 in_state p1 processing; then
	not_ok "still pending with two paused workers"
else
	ok "still pending with two paused workers"
fi

# --- resume -------------------------------------------------------------------
runq resume
rc_is 0 "resume"
check "SPOOL/paused is gone" absent "$SPOOL/paused"
wait_for 30 "resume makes the pending job run" in_state p1 done
is "$(cat p1.out 2>/dev/null)" "p1" "it ran once"
runq status --json
is "$(jq -r .paused <<<"$out")" false "status --json: paused false"
runq status
unlike "$out" "paused" "status no longer says paused"
runq resume
rc_is 0 "resume when not paused exits 0"
like "$err" "not paused" "and says so"
runq enqueue --id n1 "echo n1"
wait_for 30 "jobs run as before" in_state n1 done
runq pause extra
rc_is 64 "pause takes no argument"

# --- touch and rm do the same -------------------------------------------------
npaused=$(grep -c 'spool paused' "$log")
touch "$SPOOL/paused"
wait_for 30 "touch SPOOL/paused pauses the workers" bash -c "[ \$(grep -c 'spool paused' '$log') -ge $((npaused + 2)) ]"
runq enqueue --id t1 "echo t1"
if wait_until 2 in_state t1 done; then
	not_ok "a job enqueued after touch waits"
else
	ok "a job enqueued after touch waits"
fi
rm "$SPOOL/paused"
wait_for 30 "rm SPOOL/paused resumes them" in_state t1 done

# --- stop while paused: graceful and --now ----------------------------------
runq enqueue --id s1 "until [ -e go2 ]; do sleep 0.05; done # $MARK"
wait_for 30 "s1 runs" in_state s1 processing
q pause >/dev/null
runq worker stop --now
rc_is 0 "worker stop --now while paused"
check "the workers are gone" bash -c "! kill -0 $w1 2>/dev/null && ! kill -0 $w2 2>/dev/null"
check "the running job went back to pending/" in_state s1 pending
check "no job process left" no_procs "go2 ]; do sleep 0.05; done # $MARK"
start_workers 1
wait_for 30 "a detached worker started while paused sees it" grep -q "spool paused" "$SPOOL/worker.log"
runq worker stop
rc_is 0 "graceful worker stop while paused"
check "the worker is gone" dead_pid "${WPIDS[0]}"
check "s1 still pending" in_state s1 pending
check "no lease left" dirs_empty "$SPOOL/processing"

# --- a spool reached through a symbolic link ----------------------------------
ln -s "$SPOOL" "$TEST_DIR/link"
touch go2         # s1, still pending, may run now
q resume >/dev/null 2>&1
QUEUECTL_SPOOL=$TEST_DIR/link fg_worker
check "a worker starts on a spool path that is a symlink" alive "$FG_PID"
QUEUECTL_SPOOL=$TEST_DIR/link q pause >/dev/null
wait_for 30 "and sees the pause" bash -c "[ \$(grep -c 'spool paused' '$log') -ge $((npaused + 3)) ]"
q resume >/dev/null
runq enqueue --id l1 "echo l1"
wait_for 30 "and runs jobs after resume" in_state l1 done

done_testing

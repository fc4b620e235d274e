#!/bin/bash
# 26-wait: queuectl wait blocks until jobs are done or dead and exits with
# their status (the first failing one's, in argument order); --timeout
# gives 75, an unknown or vanished id 66; a job in failed/ is not finished.
# Jobs that must stay running wait on a FIFO that the test opens.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set backoff_base 1 >/dev/null
start_workers 3

# release FIFO: let the job reading FIFO go on.
release() {
	echo go >"$1"
}

# --- usage and unknown ids ------------------------------------------------------
runq wait
rc_is 64 "wait without an id is a usage error"
runq wait --timeout soon x
rc_is 64 "a bad --timeout is a usage error"
runq wait ../x
rc_is 65 "an invalid id exits 65"
runq wait no-such-job
rc_is 66 "an id that is nowhere exits 66"
like "$err" "no such job: no-such-job" "... saying so"

# --- a job already finished -------------------------------------------------------
runq enqueue --id quick true
wait_for 30 "quick done" in_state quick done
runq wait quick
rc_is 0 "wait on a done job exits 0 at once"
is "$out$err" "" "... silently"

# --- blocks until the job finishes, then its exit status ---------------------------
mkfifo f3
runq enqueue --id three --max-retries 0 'read x <f3; exit 3'
bg three q wait three
wait_for 30 "job three runs" in_state three processing
check "wait is still blocked while the job runs" alive "$BG_PID"
release f3
wait_for 30 "wait returns once the job is dead" ended three
is "$(cat "$TEST_DIR/three.rc")" 3 "wait exits with the job's status 3"
jq_ok "... the status recorded in dead/three.json" "$SPOOL/dead/three.json" '.exit_code == 3'
like "$(cat "$TEST_DIR/three.err")" "job three failed: exit status 3" "... and says why on stderr"

# --- several jobs: the first failing one in argument order --------------------------
runq enqueue --id five --max-retries 0 'exit 5'
runq enqueue --id ok1 true
wait_for 30 "five dead" in_state five dead
runq wait ok1 three five
rc_is 3 "wait ok1 three five exits 3"
runq wait ok1 five three
rc_is 5 "wait ok1 five three exits 5"
runq wait quick ok1
rc_is 0 "wait on two done jobs exits 0"

# --- a signal, a dead job without a status --------------------------------------------
runq enqueue --id killed --max-retries 0 'kill -KILL $$'
wait_for 30 "killed dead" in_state killed dead
runq wait killed
rc_is 137 "a job killed by SIGKILL gives 128 + 9"
printf '{"id":"nostatus","command":"true","state":"dead","attempts":1,"last_error":"cancelled"}\n' \
	>"$SPOOL/tmp/nostatus" && mv "$SPOOL/tmp/nostatus" "$SPOOL/dead/nostatus.json"
runq wait nostatus
rc_is 1 "a dead job without exit_code (cancelled) gives 1"
like "$err" "job nostatus failed: cancelled" "... naming its last_error"

# --- --timeout ---------------------------------------------------------------------
mkfifo fslow
runq enqueue --id slow 'read x <fslow; exit 0'
wait_for 30 "job slow runs" in_state slow processing
t0=$(now_ms)
runq wait --timeout 0.5 quick slow
rc_is 75 "--timeout gives up with 75"
like "$err" "still waiting for: slow$" "... naming the job not finished"
check "... after about the timeout" test $(($(now_ms) - t0)) -ge 450
check "... leaving the job running" in_state slow processing
runq wait --timeout 0 quick
rc_is 0 "--timeout 0 on a finished job exits 0"
bg slow q wait --timeout 60 slow slow
release fslow
wait_for 30 "wait --timeout 60 slow slow (an id twice) returns when the job is done" ended slow
is "$(cat "$TEST_DIR/slow.rc")" 0 "... with 0"

# --- failed/ waiting for a retry is not finished ----------------------------------------
mkfifo fretry
runq enqueue --id retried --max-retries 1 'if [ -e tried ]; then read x <fretry; exit 0; fi; touch tried; exit 1'
bg retried q wait retried
wait_for 30 "retried fails once" bash -c "[ -e '$SPOOL/failed/retried.json' ] || jq -e '.attempts == 2' '$SPOOL'/processing/*/retried.json"
wait_for 30 "retried runs its second attempt" bash -c "jq -e '.attempts == 2' '$SPOOL'/processing/*/retried.json"
check "wait did not return while the job was in failed/" alive "$BG_PID"
release fretry
wait_for 30 "wait returns after the retry" ended retried
is "$(cat "$TEST_DIR/retried.rc")" 0 "... with 0 (done on the second attempt)"

# --- a job that leaves the spool --------------------------------------------------------
runq enqueue --id later --delay 1h true
bg gone q wait later
wait_for 30 "wait on a delayed job sleeps on inotify" watching "queuectl wait later"
rm "$SPOOL/pending/later.json"
wait_for 30 "wait returns when the job is removed" ended gone
is "$(cat "$TEST_DIR/gone.rc")" 66 "... with 66"
like "$(cat "$TEST_DIR/gone.err")" "job later left the spool" "... saying so"

# --- a file that is not a job -------------------------------------------------------------
printf 'not json' >"$SPOOL/tmp/bad" && mv "$SPOOL/tmp/bad" "$SPOOL/pending/bad.json"
runq wait bad
rc_is 1 "a dropped-in file that is not a job counts as dead (1)"
check "... it was quarantined" exists "$SPOOL/dead/bad.invalid"

# --- many short jobs, waited on at once (no move missed) ------------------------------
ids=()
for i in $(seq 1 30); do
	ids+=("$(q enqueue --no-sync true)")
done
runq wait --timeout 60 "${ids[@]}"
rc_is 0 "wait on 30 jobs enqueued just before exits 0"
check "... all of them done" count_is done $((30 + 4))

done_testing

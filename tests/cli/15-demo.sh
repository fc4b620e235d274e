#!/bin/bash
# 15-demo: the README's demo (tests/demo.sh) runs to the end, and the
# enqueue argument checks and live drop-ins of non-regular files added
# after review.
. "$(dirname "$0")/../lib.sh"

# --- the demo ----------------------------------------------------------------
run timeout -k 5 120 sh "$TOP/tests/demo.sh" "$QUEUECTL"
rc_is 0 "tests/demo.sh exits 0"
like "$out" "demo finished" "the demo reaches its end"
like "$out" "flaky +3 +exit status 3" "dlq list shows the failing job after 3 attempts"
like "$out" "hello from " "logs shows the first job's output"
like "$out" "stopped 2 workers" "the demo stops its 2 workers"

# --- enqueue argument checks ---------------------------------------------------
q init >/dev/null
runq enqueue '{"command":"true"}' --priority 3
rc_is 64 "options after a JSON job are refused (64)"
check "nothing was enqueued" test "$(count_json "$SPOOL/pending")" -eq 0
runq enqueue --run-at 2030-01-01T00:00:00Z --delay 5 true
rc_is 64 "--run-at with --delay is refused (64)"
runq enqueue -p 3 true
rc_is 64 "short options are not accepted: -p is not an option"
runq enqueue '{"command":"true","run_at":"2030-01-02 03:04:05+01:00"}'
rc_is 0 "JSON with a run_at in another form is accepted"
jq_ok "run_at is stored in canonical UTC form" "$SPOOL/pending/$out.json" \
	'.run_at == "2030-01-02T02:04:05.000Z"'

runq enqueue --id kw -- if true
rc_is 0 "enqueue -- if true"
jq_ok "a reserved word first is quoted: run as a command name" "$SPOOL/pending/kw.json" \
	'.command == "'"'"'if'"'"' true"'
runq enqueue --id asg -- A=1 env
jq_ok "an assignment first is quoted: run as a command name" "$SPOOL/pending/asg.json" \
	'.command == "'"'"'A=1'"'"' env"'
rm -f "$SPOOL/pending/kw.json" "$SPOOL/pending/asg.json"

# --- worker start --count=N ----------------------------------------------------
runq worker start --count=2
rc_is 0 "worker start --count=2"
is "$(printf '%s\n' "$out" | grep -c '^[0-9][0-9]*$')" 2 "two pids printed"

# --- non-regular entries appearing in pending/ are quarantined at once ---------
ln -s /etc/passwd "$SPOOL/pending/link.json"
mkfifo "$SPOOL/pending/fifo.json"
mkdir "$SPOOL/pending/dir.json"
wait_for 20 "a symlink made in pending/ is quarantined" exists "$SPOOL/dead/link.invalid"
wait_for 20 "a FIFO made in pending/ is quarantined" exists "$SPOOL/dead/fifo.invalid"
wait_for 20 "a directory made in pending/ is quarantined" exists "$SPOOL/dead/dir.invalid"
check "the symlink is still a symlink (not followed)" test -L "$SPOOL/dead/link.invalid"
check "/etc/passwd untouched" test -s /etc/passwd

# --- a dropped job gets created_at from its file when claimed ------------------
printf '{"command":"true"}' >"$SPOOL/tmp/d"
mv "$SPOOL/tmp/d" "$SPOOL/pending/dropped.json"
wait_for 20 "the dropped job is done" exists "$SPOOL/done/dropped.json"
jq_ok "the dropped job has a created_at" "$SPOOL/done/dropped.json" '.created_at | type == "string"'

done_testing

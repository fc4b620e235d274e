#!/bin/bash
# 02-retry: failed attempts, exponential backoff, the dead letter queue,
# dlq retry, exit codes of commands that are not found or killed.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
runq config set backoff_base 1.5
rc_is 0 "config set backoff_base 1.5"

runq enqueue --max-retries 2 'echo out-line; echo err-line >&2; exit 3'
rc_is 0 "enqueue a failing job with --max-retries 2"
id=$out
runq enqueue --max-retries 0 --id notfound 'nonexistent-cmd-xyz --flag'
runq enqueue --max-retries 0 --id killed 'kill -9 $$'
runq enqueue --max-retries 1 --id flaky 'if [ -e flaky.flag ]; then echo second-ok; else touch flaky.flag; echo first-fails; exit 1; fi'

start_workers 1
rc_is 0 "worker start"

# first failure: copy the file while it waits in failed/
wait_for 30 "after attempt 1 the job waits in failed/" cp "$SPOOL/failed/$id.json" "$TEST_DIR/f1.json"
f1=$TEST_DIR/f1.json
jq_ok "failed after attempt 1: state failed, attempts 1, exit_code 3" "$f1" '.state == "failed" and .attempts == 1 and .exit_code == 3'
jq_ok "failed job has last_error" "$f1" '(.last_error | type) == "string" and (.last_error | length) > 0'
jq_ok "failed job has finished_at and next_run_at" "$f1" '(.finished_at | ms) > 0 and (.next_run_at | ms) > 0'
d1=$(jqf "$f1" '(.next_run_at | ms) - (.finished_at | ms)')
check "next_run_at - finished_at = 1.5^1 s (got ${d1} ms)" test "${d1:-0}" -ge 1400 -a "${d1:-0}" -le 1800
check "failed/ keeps the logs beside the job (or the job moved on)" bash -c "[ -f '$SPOOL/failed/$id.stdout' ] || [ ! -f '$SPOOL/failed/$id.json' ]"

wait_for 30 "after attempt 2 the job waits in failed/ again" \
	bash -c "jq -e '.attempts == 2' '$SPOOL/failed/$id.json' >/dev/null && cp '$SPOOL/failed/$id.json' '$TEST_DIR/f2.json'"
f2=$TEST_DIR/f2.json
d2=$(jqf "$f2" '(.next_run_at | ms) - (.finished_at | ms)')
check "next_run_at - finished_at = 1.5^2 s after attempt 2 (got ${d2} ms)" test "${d2:-0}" -ge 2150 -a "${d2:-0}" -le 2600
s2=$(jqf "$f2" '.started_at | ms')
n1=$(jqf "$f1" '.next_run_at | ms')
check "attempt 2 did not start before next_run_at (started $s2, due $n1)" test "${s2:-0}" -ge "${n1:-1}"

wait_for 30 "after attempt 3 the job is dead" exists "$SPOOL/dead/$id.json"
dj=$SPOOL/dead/$id.json
jq_ok "dead job: state dead, attempts 3 (1 + max_retries)" "$dj" '.state == "dead" and .attempts == 3'
jq_ok "dead job: exit_code 3 and last_error" "$dj" '.exit_code == 3 and (.last_error | type) == "string" and (.last_error | length) > 0'
jq_ok "dead job: last_error mentions exit status 3" "$dj" '.last_error | test("3")'
jq_ok "dead job: no next_run_at" "$dj" '.next_run_at == null'
s3=$(jqf "$dj" '.started_at | ms')
n2=$(jqf "$f2" '.next_run_at | ms')
check "attempt 3 did not start before next_run_at" test "${s3:-0}" -ge "${n2:-1}"
check "no copy left in failed/" bash -c "! ls '$SPOOL/failed/' | grep -q '$id'"
check "no copy left in pending/" absent "$SPOOL/pending/$id.json"
is "$(grep -c '^=== queuectl: attempt [123] on ' "$SPOOL/dead/$id.stdout" 2>/dev/null)" 3 "stdout log has the three attempt markers"
is "$(grep -c '^out-line$' "$SPOOL/dead/$id.stdout" 2>/dev/null)" 3 "stdout log has the output of every attempt"
is "$(grep -c '^err-line$' "$SPOOL/dead/$id.stderr" 2>/dev/null)" 3 "stderr log has the output of every attempt"
check "attempt markers in order" bash -c "grep -o 'attempt [0-9]' '$SPOOL/dead/$id.stdout' | tr -d '\n' | grep -qx 'attempt 1attempt 2attempt 3'"

wait_for 30 "command not found: job dead" exists "$SPOOL/dead/notfound.json"
jq_ok "command not found: exit_code 127 recorded" "$SPOOL/dead/notfound.json" '.exit_code == 127 and .attempts == 1'
jq_ok "command not found: last_error mentions 127" "$SPOOL/dead/notfound.json" '.last_error | test("127")'
check "command not found: sh's message in the stderr log" grep -q 'nonexistent-cmd-xyz' "$SPOOL/dead/notfound.stderr"

wait_for 30 "killed job: dead" exists "$SPOOL/dead/killed.json"
jq_ok "killed by SIGKILL: exit_code 137" "$SPOOL/dead/killed.json" '.exit_code == 137'
jq_ok "killed by SIGKILL: last_error names signal 9" "$SPOOL/dead/killed.json" '.last_error | test("signal 9|KILL")'

wait_for 30 "job that fails once then succeeds ends in done/" exists "$SPOOL/done/flaky.json"
jq_ok "... with attempts 2, exit_code 0" "$SPOOL/done/flaky.json" '.attempts == 2 and .exit_code == 0 and .state == "done"'
jq_ok "... and last_error/next_run_at cleared" "$SPOOL/done/flaky.json" '.last_error == null and .next_run_at == null'
check "... both attempts in its log" bash -c "grep -qx first-fails '$SPOOL/done/flaky.stdout' && grep -qx second-ok '$SPOOL/done/flaky.stdout'"
check "failed/ is empty now" test -z "$(ls -A "$SPOOL/failed")"

# --- the DLQ -----------------------------------------------------------------
runq dlq list
rc_is 0 "dlq list exits 0"
like "$out" "$id" "dlq list shows the dead job"
like "$out" "notfound" "dlq list shows the other dead job"
unlike "$out" "flaky" "dlq list does not show a done job"
runq dlq list --json
rc_is 0 "dlq list --json exits 0"
is "$(jq -r "map(select(.id == \"$id\")) | .[0].attempts" <<<"$out" 2>/dev/null)" 3 "dlq list --json has the job with attempts 3"
is "$(jq -r 'length' <<<"$out" 2>/dev/null)" 3 "dlq list --json lists the 3 dead jobs"
runq status --json
is "$(jq -r .jobs.dead <<<"$out" 2>/dev/null)" 3 "status --json counts 3 dead"
is "$(jq -r .jobs.done <<<"$out" 2>/dev/null)" 1 "status --json counts 1 done"

runq worker stop
rc_is 0 "worker stop"

runq dlq retry "$id"
rc_is 0 "dlq retry ID exits 0"
is "$out" "$id" "dlq retry prints the id"
p=$SPOOL/pending/$id.json
check "dlq retry moves the job to pending/" test -f "$p"
check "dlq retry removes it from dead/" absent "$SPOOL/dead/$id.json"
jq_ok "retried job: attempts 0, state pending" "$p" '.attempts == 0 and .state == "pending"'
jq_ok "retried job: last_error, exit_code, next_run_at cleared" "$p" '.last_error == null and .exit_code == null and .next_run_at == null'
jq_ok "retried job: command and max_retries kept" "$p" '.command == "echo out-line; echo err-line >&2; exit 3" and .max_retries == 2'
is "$(stat -c %a "$p" 2>/dev/null)" 600 "retried job file mode 0600"

runq dlq retry "$id"
rc_is 66 "dlq retry of a job that is not in dead/ exits 66"
runq dlq retry no-such-job
rc_is 66 "dlq retry of an unknown id exits 66"
runq dlq retry flaky
rc_is 66 "dlq retry of a done job exits 66"
check "... and leaves it in done/" test -f "$SPOOL/done/flaky.json"

runq enqueue --max-retries 0 --id dead2 'exit 1'
runq enqueue --max-retries 0 --id dead3 'exit 2'
rm -f "$p" # keep the first one out of the way
start_workers 1
wait_for 30 "two more jobs die" bash -c "[ -f '$SPOOL/dead/dead2.json' ] && [ -f '$SPOOL/dead/dead3.json' ]"
runq worker stop
runq dlq retry --all
rc_is 0 "dlq retry --all exits 0"
is "$(sort <<<"$out" | tr '\n' ' ')" "dead2 dead3 killed notfound " "dlq retry --all prints every retried id"
check "dead/ holds no job after dlq retry --all" test "$(count_json "$SPOOL/dead")" -eq 0
for j in dead2 dead3 killed notfound; do
	jq_ok "dlq retry --all: $j back in pending/ with attempts 0" "$SPOOL/pending/$j.json" '.attempts == 0 and .state == "pending"'
done
runq dlq retry --all
rc_is 0 "dlq retry --all with nothing dead exits 0"
is "$out" "" "... and prints nothing"

# backoff_max caps the delay
q config set backoff_base 100 >/dev/null
q config set backoff_max 1 >/dev/null
for j in dead2 dead3 killed notfound; do rm -f "$SPOOL/pending/$j.json"; done
runq enqueue --id capped --max-retries 1 'exit 1'
start_workers 1
wait_for 30 "backoff_max 1: first failure waits in failed/" cp "$SPOOL/failed/capped.json" "$TEST_DIR/capped.json"
d=$(jqf "$TEST_DIR/capped.json" '(.next_run_at | ms) - (.finished_at | ms)')
check "next_run_at - finished_at = min(backoff_max 1, 100^1) s (got $d ms)" test "${d:-0}" -ge 900 -a "${d:-0}" -le 1300
wait_for 30 "... and the retry runs after 1 s, not 100 s" exists "$SPOOL/dead/capped.json"
jq_ok "... attempts 2" "$SPOOL/dead/capped.json" '.attempts == 2'
runq worker stop

# a command or last_error with a newline stays on its job's line
printf '{"id":"nl","command":"echo a\\nrm -rf x","attempts":1,"max_retries":0,"state":"dead","last_error":"x\\ny"}\n' >"$SPOOL/dead/nl.json"
runq dlq list
is "$(grep '^nl ' <<<"$out" | grep -c 'x?y .*echo a?rm -rf x')" 1 "dlq list prints control characters as ? (one line per job)"

done_testing

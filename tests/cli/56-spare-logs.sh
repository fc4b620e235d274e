#!/bin/bash
# 56-spare-logs: a worker keeps two empty spare logs in its lease
# (.stdout-spare, .stderr-spare) and renames them to a job's logs when the
# job starts, so that the start creates no file (spool-layout/README.md,
# "claim", step 4). The spares are neither jobs nor logs to anything that
# reads a lease, and go with the lease: at `worker stop` and when a dead
# worker's lease is reclaimed.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set backoff_base 1 >/dev/null    # a retry after 1 s

# holds PID FILE: process PID has FILE open
holds() {
	ls -l "/proc/$1/fd" 2>/dev/null | grep -q -- "-> $2\$"
}

fg_worker
w=$FG_PID
lease=$(lease_of "$w")
for s in stdout stderr; do
	check "the lease has an empty .$s-spare" test -f "$lease/.$s-spare" -a ! -s "$lease/.$s-spare"
	check "... which the worker holds open" holds "$w" "$lease/.$s-spare"
done
out_ino=$(stat -c %i "$lease/.stdout-spare")
err_ino=$(stat -c %i "$lease/.stderr-spare")

# A job's first attempt: its logs are the spares, renamed.
q enqueue --id a "echo out-a; echo err-a >&2" >/dev/null
wait_for 30 "a ends in done/" in_state a 'done'
is "$(stat -c %i "$SPOOL/done/a.stdout" 2>&1)" "$out_ino" "a's stdout log is the spare stdout log"
is "$(stat -c %i "$SPOOL/done/a.stderr" 2>&1)" "$err_ino" "a's stderr log is the spare stderr log"
like "$(cat "$SPOOL/done/a.stdout")" "=== queuectl: attempt 1 .*out-a" "... holding the attempt marker, then the output"
like "$(cat "$SPOOL/done/a.stderr")" "=== queuectl: attempt 1 .*err-a" "... on both streams"
check "new spares are in the lease" eval "[ \"\$(stat -c %i '$lease/.stdout-spare')\" != '$out_ino' ] && [ \"\$(stat -c %i '$lease/.stderr-spare')\" != '$err_ino' ]"
check "... held by the worker" holds "$w" "$lease/.stdout-spare"

# A second attempt appends to the log the first one left; the spare stays.
out_ino=$(stat -c %i "$lease/.stdout-spare")
q enqueue --id b --max-retries 1 \
	"if [ -e '$TEST_DIR/b.once' ]; then echo second; else touch '$TEST_DIR/b.once'; echo first; exit 1; fi" >/dev/null
wait_for 30 "b ends in done/ after a retry" in_state b 'done'
jq_ok "... attempts 2" "$SPOOL/done/b.json" '.attempts == 2 and .exit_code == 0'
is "$(grep -c '=== queuectl: attempt' "$SPOOL/done/b.stdout")" 2 "... one log with both attempts' markers"
like "$(cat "$SPOOL/done/b.stdout")" "first.*attempt 2.*second" "... and both outputs, in order"
check "new spares after b's first attempt" test "$(stat -c %i "$lease/.stdout-spare")" != "$out_ino"

# Nothing that reads the spool takes the spares for jobs or logs.
runq list --state processing
is "$out" "" "list --state processing: nothing while the worker idles"
q status --json >"$TEST_DIR/status.json"
jq_ok "status: no job processing" "$TEST_DIR/status.json" '.jobs.processing == 0'

# They go with the lease: at worker stop...
runq worker stop
rc_is 0 "worker stop"
wait "$w"
check "processing/ is empty after the worker stops" dirs_empty "$SPOOL/processing"

# ... and when a dead worker's lease is reclaimed.
fg_worker
w=$FG_PID
lease=$(lease_of "$w")
check "a new worker's lease has its spares" test -e "$lease/.stdout-spare" -a -e "$lease/.stderr-spare"
kill -9 "$w"
wait "$w" 2>/dev/null
runq recover
rc_is 0 "recover reclaims the dead lease"
check "... and removes it, spares and all" dirs_empty "$SPOOL/processing"

done_testing

#!/bin/bash
# 47-pause-due: a paused worker ignores due times. A job whose run_at
# passes while the spool is paused is not claimed, and the worker does not
# wake for it over and over (nothing tested that: a worker that kept the
# due time as its poll timeout spun once it passed); after resume it runs.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
fg_worker
wpid=$FG_PID
runq pause
rc_is 0 "pause"
wait_for 30 "the worker sees the pause" grep -q "spool paused" "$TEST_DIR/fg-worker.log"
runq enqueue --id later --delay 0.2 "echo ran > later.out"
rc_is 0 "a job due in 0.2 s"
due=$(jq -r '.run_at' "$SPOOL/pending/later.json")
wait_for 30 "its run_at ($due) passes" bash -c "[ \"\$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)\" \\> '$due' ]"
# A measured second of idleness (not a wait for a condition)
c0=$(awk '{print $14 + $15}' "/proc/$wpid/stat")
sleep 1
c1=$(awk '{print $14 + $15}' "/proc/$wpid/stat")
check "the paused worker uses no CPU once the job is due ($((c1 - c0)) ticks in 1 s)" test $((c1 - c0)) -lt 10
check "... and leaves the job pending" in_state later pending
runq resume
wait_for 30 "after resume the job runs" in_state later done
is "$(cat later.out 2>/dev/null)" "ran" "... its command ran"
kill -TERM "$wpid"
wait_for 30 "the worker stops" dead_pid "$wpid"

done_testing

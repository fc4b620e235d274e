#!/bin/bash
# 55-start-mend: the lease record's start time of a job's leader is computed
# at the clone and checked against /proc 10 ms after the go byte; one that
# differs is mended in the record and logged (spool-layout/README.md,
# "claim", step 5). A test build (QUEUECTL_TEST_SKEW) records a wrong one.
. "$(dirname "$0")/../lib.sh"

test_build

q init >/dev/null
q config set sync 0 >/dev/null
q enqueue --id long "while [ ! -e '$TEST_DIR/go' ]; do sleep 0.05; done" >/dev/null
QUEUECTL_TEST_SKEW=pgid_start:7 "$CQ" worker run </dev/null >"$TEST_DIR/w.log" 2>&1 &
w=$!
BG_PIDS+=("$w")
wait_for 30 "the worker finds the recorded start time wrong and mends it" \
	grep -q "long: start time [0-9]* computed at the clone, [0-9]* in /proc: lease record mended" "$TEST_DIR/w.log"
check_lease_start "... and now its leader's start time as /proc/PID/stat gives it"
touch "$TEST_DIR/go"
wait_for 30 "the job then ends in done/" exists "$SPOOL/done/long.json"
kill "$w"
wait "$w" 2>/dev/null

done_testing

#!/bin/bash
# 55-start-mend: the lease record's start time of a job's leader is computed
# at the clone and checked against /proc 10 ms after the go byte; one that
# differs is mended in the record and logged (spool-layout/README.md,
# "claim", step 5). A test build (QUEUECTL_TEST_SKEW) records a wrong one.
. "$(dirname "$0")/../lib.sh"

# The ASan pass runs the sanitizer build, which has the test hooks too.
case $QUEUECTL in *asan*) CQ=$QUEUECTL ;; *) CQ=${CRASH_QUEUECTL:-} ;; esac
case $CQ in /*) ;; ?*) CQ=$TOP/$CQ ;; esac
if [ -z "$CQ" ] || [ ! -x "$CQ" ]; then
	skip "no test build (set CRASH_QUEUECTL)"
	done_testing
fi

q init >/dev/null
q config set sync 0 >/dev/null
q enqueue --id long "while [ ! -e '$TEST_DIR/go' ]; do sleep 0.05; done" >/dev/null
QUEUECTL_TEST_SKEW=pgid_start:7 "$CQ" worker run </dev/null >"$TEST_DIR/w.log" 2>&1 &
w=$!
BG_PIDS+=("$w")
wait_for 30 "the worker finds the recorded start time wrong and mends it" \
	grep -q "long: start time [0-9]* computed at the clone, [0-9]* in /proc: lease record mended" "$TEST_DIR/w.log"
rec=$(find "$SPOOL/processing" -name lease | head -1)
pg=$(jq -r .pgid "$rec" 2>/dev/null)
check "the lease record names the job's process group" test "${pg:-0}" -gt 1
is "$(jq -r .pgid_start "$rec" 2>/dev/null)" \
	"$(sed 's/.*) //' "/proc/$pg/stat" 2>/dev/null | cut -d' ' -f20)" \
	"... and now its leader's start time as /proc/PID/stat gives it"
touch "$TEST_DIR/go"
wait_for 30 "the job then ends in done/" exists "$SPOOL/done/long.json"
kill "$w"
wait "$w" 2>/dev/null

done_testing

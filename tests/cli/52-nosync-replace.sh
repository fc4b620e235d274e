#!/bin/bash
# 52-nosync-replace: with sync = 0 a file is replaced by an exchange
# (renameat2 RENAME_EXCHANGE, then the old version, now in tmp/, unlinked),
# not by a rename over it, which ext4 flushes; and the worker marks the
# attempt started in the job file shortly after the job starts
# (spool-layout/README.md, "Replacing a file" and "claim"); the lease
# record's start time of the job's leader, computed at the clone, is right.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set sync 0 >/dev/null

# --- a running job's file says so, soon after it starts ----------------------------
q enqueue --id long "while [ ! -e '$TEST_DIR/go' ]; do sleep 0.05; done" >/dev/null
start_workers 1
# marked LEASED-JOB-JQ-FILTER: the job file of "long" in its lease passes it
marked() {
	jq -e "$1" "$(find "$SPOOL/processing" -name long.json | head -1)"
}
wait_for 30 "its file in the lease says attempts 1, processing" marked \
	'.attempts == 1 and .state == "processing" and .started_at != null and .worker != null'
# The record's start time of the job's leader, computed at the clone from
# CLOCK_BOOTTIME (or read from /proc near a tick's edge), is /proc's.
check_lease_start "... and its leader's start time as /proc/PID/stat gives it"
touch "$TEST_DIR/go"
wait_for 30 "then it is done" exists "$SPOOL/done/long.json"
jq_ok "counted once" "$SPOOL/done/long.json" '.attempts == 1 and .state == "done"'

# --- jobs that end at once: counted once, nothing left in tmp/ ---------------------
for i in 1 2 3 4 5; do
	q enqueue --id "quick$i" true >/dev/null
done
wait_for 30 "five quick jobs are done" count_is done 6
check "each counted once" jq -e -s 'all(.[]; .attempts == 1)' \
	"$SPOOL"/done/quick?.json
wait_for 10 "tmp/ holds no old version of a replaced file" dirs_empty "$SPOOL/tmp"
check_not "no start time computed at a clone differed from /proc's" \
	grep -q "lease record mended" "$SPOOL/worker.log"

# --- a directory where a file is to be replaced stays as it was ---------------------
# The reason of a quarantined job goes to dead/<id>.reason by a replace: an
# exchange with a directory there is undone (the file is not put in place,
# the directory not moved into tmp/).
mkdir "$SPOOL/dead/bad.reason"
printf 'not json\n' >"$SPOOL/tmp/bad"
mv "$SPOOL/tmp/bad" "$SPOOL/pending/bad.json"
wait_for 30 "the bad file is quarantined" exists "$SPOOL/dead/bad.invalid"
check "dead/bad.reason is still a directory" test -d "$SPOOL/dead/bad.reason"
wait_for 10 "nothing of it is left in tmp/" dirs_empty "$SPOOL/tmp"
q enqueue --id after-bad true >/dev/null
wait_for 30 "the worker goes on" exists "$SPOOL/done/after-bad.json"

done_testing

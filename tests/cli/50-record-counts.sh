#!/bin/bash
# 50-record-counts: with sync = 0 the worker rewrites the job file (attempts
# + 1) only after the go byte, and until then the lease record counts the
# attempt (spool-layout/README.md, claim). A reclaim counts an attempt that
# the record names and the file does not, once; a record left from another
# attempt counts nothing. Needs the crash-point build for the first part.
. "$(dirname "$0")/../lib.sh"

case $QUEUECTL in *asan*) CQ=$QUEUECTL ;; *) CQ=${CRASH_QUEUECTL:-} ;; esac
case $CQ in /*) ;; ?*) CQ=$TOP/$CQ ;; esac

# crash_at SYNC POINT: a worker of a fresh spool killed at POINT while
# starting job s (sleep 300); sets $d to the spool.
crash_at() {
	d=$TEST_DIR/c-$1-$2
	"$CQ" -d "$d" init >/dev/null
	"$CQ" -d "$d" config set sync "$1" >/dev/null
	"$CQ" -d "$d" enqueue --id s --max-retries 5 "sleep 300$MARK" >/dev/null
	QUEUECTL_CRASH_AT=$2 "$CQ" -d "$d" worker run 2>>"$TEST_DIR/crash.log"
	is "$?" 137 "sync = $1: the worker is killed at $2"
}

# recovered SYNC: recover, then s is in failed/ once with one attempt counted
recovered() {
	"$CQ" -d "$d" recover >/dev/null
	check "sync = $1: recover kills the orphaned job" no_procs "sleep 300$MARK"
	check "sync = $1: s is in failed/ and nowhere else" \
		test "$(find "$d" -name s.json)" = "$d/failed/s.json"
	jq_ok "sync = $1: the interrupted attempt is counted once" "$d/failed/s.json" \
		'.attempts == 1 and .last_error == "worker died" and .started_at != null'
}

if [ -z "$CQ" ] || [ ! -x "$CQ" ]; then
	skip "no crash-point build (set CRASH_QUEUECTL)"
else
	crash_at 0 spawn.after_go
	wait_for 10 "the job runs" procs "sleep 300$MARK"
	jq_ok "sync = 0: the job runs before its file counts the attempt" \
		"$(find "$d/processing" -name s.json)" '(.attempts // 0) == 0'
	recovered 0
	crash_at 1 spawn.after_go
	wait_for 10 "the job runs" procs "sleep 300$MARK"
	jq_ok "sync = 1: the file counts the attempt before the job starts" \
		"$(find "$d/processing" -name s.json)" '.attempts == 1 and .state == "processing"'
	recovered 1
fi

# A dead lease made by hand: its record names job ID, attempt N.
# dead_lease NAME ID N FILE-JSON
dead_lease() {
	local l=$SPOOL/processing/$1
	mkdir -m 0700 "$l"
	printf '{"worker":"%s","host":"%s","pid":999999,"job":"%s","attempt":%s,"pgid":0,"job_started_at":"2026-01-02T03:04:05.000Z"}\n' \
		"$1" "$(hostname)" "$2" "$3" >"$l/lease"
	printf '%s\n' "$4" >"$l/$2.json"
}

q init >/dev/null
dead_lease ghost-1 x 3 '{"id":"x","command":"true","state":"pending","attempts":0}'
dead_lease ghost-2 y 2 '{"id":"y","command":"true","state":"failed","attempts":1}'
q recover >/dev/null
jq_ok "a record of another attempt counts nothing: x back in pending/" \
	"$SPOOL/pending/x.json" '.attempts == 0 and .state == "pending"'
jq_ok "the record's attempt of y is counted: failed/, attempts 2, as recorded" \
	"$SPOOL/failed/y.json" '.attempts == 2 and .last_error == "worker died" and
	.worker == "ghost-2" and .started_at == "2026-01-02T03:04:05.000Z"'
check "both dead leases are gone" test -z "$(ls -A "$SPOOL/processing")"

done_testing

#!/bin/bash
# 19-review: regressions for the defects found in the first code review.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set backoff_max 0 >/dev/null

# --- concurrent dlq retry of one id: one wins, the job is in pending/ once ---
for round in 1 2 3 4 5 6 7 8; do
	printf '{"id":"r%s","command":"true","state":"dead","attempts":4}\n' "$round" \
		>"$SPOOL/dead/r$round.json"
done
for round in 1 2 3 4 5 6 7 8; do
	for i in 1 2 3 4; do q dlq retry "r$round" >/dev/null 2>&1 & done
	wait
done
bad=
for round in 1 2 3 4 5 6 7 8; do
	[ "$(find "$SPOOL" -name "r$round.json" | sed "s|$SPOOL/||")" = "pending/r$round.json" ] ||
		bad="$bad r$round:[$(find "$SPOOL" -name "r$round.json" | sed "s|$SPOOL/||" | tr '\n' ' ')]"
done
is "$bad" "" "4 concurrent dlq retries of one id leave it in pending/ only, 8 rounds"
rm -f "$SPOOL"/pending/r*.json

# --- an attempt that cannot start is retried once a second, not in a loop --
ln -s /nonexistent "$SPOOL/pending/nostart.stdout"
fg_worker
printf '{"command":"true"}' >"$SPOOL/tmp/n"
t0=$(now_ms)
mv "$SPOOL/tmp/n" "$SPOOL/pending/nostart.json"
wait_for 20 "the worker reports it cannot start the job" \
	bash -c "[ \$(grep -c 'nostart: cannot start' '$TEST_DIR/fg-worker.log') -ge 3 ]"
t1=$(now_ms)
n=$(grep -c 'nostart: cannot start' "$TEST_DIR/fg-worker.log")
check "... about once a second ($n tries in $((t1 - t0)) ms)" test $((t1 - t0)) -ge $(((n - 1) * 900))
check "... and the job stays in pending/" exists "$SPOOL/pending/nostart.json"
rm -f "$SPOOL/pending/nostart.json" "$SPOOL/pending/nostart.stdout"

# --- a drop-in duplicate of a running job is quarantined; logs are kept ---
W1=$FG_PID
fg_worker                       # a second worker, free to claim the duplicate
runq enqueue --id dup "echo first; sleep 2; : dup$MARK"
wait_for 20 "dup runs" procs "dup$MARK"
printf '{"command":"echo second"}' >"$SPOOL/tmp/d"
mv "$SPOOL/tmp/d" "$SPOOL/pending/dup.json"
wait_for 20 "the duplicate is quarantined" exists "$SPOOL/dead/dup.reason"
like "$(cat "$SPOOL/dead/dup.reason" 2>&1)" "already in processing/" "... with a reason naming processing/"
wait_for 20 "the first dup finishes" exists "$SPOOL/done/dup.json"
check "... with its stdout log intact" grep -q '^first$' "$SPOOL/done/dup.stdout"
check_not "the second command never ran" grep -q second "$SPOOL/done/dup.stdout"
kill -TERM "$FG_PID" "$W1"
wait_for 20 "the first worker stops" dead_pid "$W1"
wait_for 20 "the second worker stops" dead_pid "$FG_PID"

# --- a drop-in duplicate of a held job is quarantined; hold/ keeps it ------
runq enqueue --id hdup "echo held"
runq hold hdup
rc_is 0 "hdup held"
fg_worker
printf '{"command":"echo second"}' >"$SPOOL/tmp/h"
mv "$SPOOL/tmp/h" "$SPOOL/pending/hdup.json"
wait_for 20 "the duplicate of a held job is quarantined" exists "$SPOOL/dead/hdup.reason"
like "$(cat "$SPOOL/dead/hdup.reason" 2>&1)" "already in hold/" "... with a reason naming hold/"
check "the held job is still in hold/" exists "$SPOOL/hold/hdup.json"
check_not "... and no copy of it ran" exists "$SPOOL/done/hdup.json"
kill -TERM "$FG_PID"
wait_for 20 "that worker stops" dead_pid "$FG_PID"

# --- worker stop signals only the process that wrote the lease -------------
sleep 1000 &
victim=$!
BG_PIDS+=("$victim")
fake=$SPOOL/processing/$(uname -n | cut -d. -f1)-$victim
mkdir "$fake"
printf '{"worker":"x","host":"%s","pid":%s,"pid_start":1,"job":null}\n' \
	"$(uname -n | cut -d. -f1 | tr -c 'A-Za-z0-9\n-' -)" "$victim" >"$fake/lease"
: >"$fake/lock"
flock "$fake/lock" sleep 1000 &
holder=$!
BG_PIDS+=("$holder")
wait_until 10 bash -c "! flock -n '$fake/lock' true"
runq worker stop
rc_is 0 "worker stop with a lease whose pid is some other process"
check "... did not signal that process" alive "$victim"
kill "$holder" 2>/dev/null
rm -rf "$fake"

# --- a FIFO where a lock file should be does not hang anything -------------
mkdir "$SPOOL/processing/fifo-1"
mkfifo "$SPOOL/processing/fifo-1/lock"
Q_TIMEOUT=10 runq status
rc_is 0 "status with a FIFO as a lease lock does not hang"
Q_TIMEOUT=10 runq recover
check "recover with a FIFO as a lease lock does not hang (exit $rc)" test "$rc" -ne 124
rm -rf "$SPOOL/processing/fifo-1"

# --- a group-writable state directory or config is refused ------------------
chmod 0770 "$SPOOL/pending"
runq list
rc_is 77 "a group-writable pending/ is refused (77)"
like "$err" "chmod go-w .*pending" "... saying how to fix it"
chmod 0700 "$SPOOL/pending"
chmod 0666 "$SPOOL/config"
runq list
rc_is 77 "a world-writable config is refused (77)"
chmod 0600 "$SPOOL/config"
runq list
rc_is 0 "after chmod the spool is accepted again"

done_testing

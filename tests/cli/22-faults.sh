#!/bin/bash
# 22-faults: file system errors injected with an LD_PRELOAD shim
# (tests/fault/fault.c, built here into the test's directory): write, fsync,
# rename, open and mkdir fail with ENOSPC, EIO, EMFILE or EDQUOT.
#   - enqueue reports a clear error, exits 73/74/75 and leaves nothing
#     behind: no job in pending/, nothing in tmp/;
#   - a worker that cannot record a result (or put back a job it could not
#     start) keeps the job in its lease and tries again, and once the fault
#     is lifted the job ends in done/ (or dead/) exactly once, the worker
#     alive all along;
#   - nothing crashes.
. "$(dirname "$0")/../lib.sh"

CC=${CC:-cc}
FAULT_SO=$TEST_DIR/fault.so
FLOG=$TEST_DIR/fault.log     # one line per injected failure (the shim's log)
FLAG=$TEST_DIR/fault.flag    # QUEUECTL_FAULT_FLAG: fail only while it exists
WLOG=$TEST_DIR/fg-worker.log

if ! command -v "$CC" >/dev/null 2>&1; then
	skip "fault injection: no C compiler ($CC) to build the shim"
	done_testing
fi
if ! "$CC" -shared -fPIC -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Werror -o "$FAULT_SO" "$TOP/tests/fault/fault.c" \
	-ldl 2>"$TEST_DIR/cc.err"; then
	not_ok "the fault shim builds cleanly"
	diag "$(cat "$TEST_DIR/cc.err")"
	done_testing
fi
ok "the fault shim builds cleanly (-Wall -Wextra -Werror)"

# The ASan runtime wants to be first in the library list; the shim only
# wraps calls and passes them on, so tell it not to insist.
FAULT_ASAN_OPTIONS=${ASAN_OPTIONS:-}
[ -n "${ASAN_RUN:-}" ] &&
	FAULT_ASAN_OPTIONS=${FAULT_ASAN_OPTIONS:+$FAULT_ASAN_OPTIONS:}verify_asan_link_order=0

# fault_on SPEC [VAR=VALUE...]: from now on queuectl runs with the shim.
fault_on() {
	export LD_PRELOAD=$FAULT_SO QUEUECTL_FAULT=$1 QUEUECTL_FAULT_LOG=$FLOG
	shift
	local kv
	for kv in "$@"; do
		export "${kv?}"
	done
	[ -n "${ASAN_RUN:-}" ] && export ASAN_OPTIONS=$FAULT_ASAN_OPTIONS
	return 0
}

fault_off() {
	unset LD_PRELOAD QUEUECTL_FAULT QUEUECTL_FAULT_LOG QUEUECTL_FAULT_PATH \
		QUEUECTL_FAULT_SKIP QUEUECTL_FAULT_COUNT QUEUECTL_FAULT_FLAG
	[ -n "${ASAN_RUN:-}" ] && export ASAN_OPTIONS=${FAULT_ASAN_OPTIONS%:verify_asan_link_order=0}
	return 0
}

# faulty SPEC [VAR=VALUE...] -- CMD...: run CMD with the shim.
faulty() {
	(
		local spec=$1 kv=()
		shift
		while [ "$1" != -- ]; do
			kv+=("$1")
			shift
		done
		shift
		fault_on "$spec" "${kv[@]}"
		"$@"
	)
}

# new_spool NAME: a fresh spool for the next part.
new_spool() {
	stop_everything
	SPOOL=$TEST_DIR/$1
	export QUEUECTL_SPOOL=$SPOOL
	q init >/dev/null
}

# faulty_worker SPEC [VAR=VALUE...]: a foreground worker (FG_PID, also w)
# that runs with the shim armed as fault_on sets it.
faulty_worker() {
	fault_on "$@"
	fg_worker
	fault_off
	w=$FG_PID
}

# fault_hits PATTERN: the shim failed a call whose line matches PATTERN.
fault_hits() {
	grep -q -- "$1" "$FLOG" 2>/dev/null || {
		echo "no injected failure matching '$1' in $FLOG"
		return 1
	}
}

# nothing_left ID: no ID anywhere in the spool and tmp/ empty (or absent).
nothing_left() {
	local f
	f=$(find "$SPOOL" -name "$1.*" 2>/dev/null)
	[ -z "$f" ] || {
		echo "left behind: $f"
		return 1
	}
	[ ! -d "$SPOOL/tmp" ] || dirs_empty "$SPOOL/tmp"
}

# only_in ID STATE: ID.json is in STATE/ and in no other state directory.
only_in() {
	local n
	n=$(find "$SPOOL"/{pending,processing,done,failed,dead} -name "$1.json" 2>/dev/null | wc -l)
	if [ "$n" != 1 ] || [ ! -f "$SPOOL/$2/$1.json" ]; then
		echo "$1.json: $n copies; $(find "$SPOOL" -name "$1.*")"
		return 1
	fi
}

log_has() {
	grep -qE -- "$1" "$WLOG" 2>/dev/null || {
		echo "no line matching '$1' in the worker log:"
		tail -n 20 "$WLOG" 2>/dev/null
		return 1
	}
}

declare -A STRERR=([ENOSPC]="No space left on device" [EIO]="Input/output error"
	[EMFILE]="Too many open files" [EDQUOT]="Disk quota exceeded")

# --- enqueue under every fault ----------------------------------------------
q init >/dev/null
for call in write fsync rename open; do
	for e in ENOSPC EIO EMFILE EDQUOT; do
		id=e-$call-$e
		rm -f "$FLOG"
		run faulty "$call:$e" QUEUECTL_FAULT_PATH="$SPOOL/" -- q enqueue --id "$id" "echo $id"
		rc_in "73 74 75" "enqueue with $call failing ($e) exits 73/74/75"
		like "$err" "^queuectl: .*${STRERR[$e]}" "... saying '${STRERR[$e]}'"
		check "... the fault was hit and nothing is left (no job, tmp/ empty)" \
			eval "fault_hits ' $call' && nothing_left '$id'"
	done
done

# the steps one by one: the job's temporary file, the lock, the rename
rm -f "$FLOG"
run faulty open:EMFILE QUEUECTL_FAULT_PATH="$SPOOL/tmp/" -- q enqueue --id e-tmpopen true
rc_is 75 "enqueue: cannot create its file in tmp/ (EMFILE): temporary failure (75)"
check "... nothing is left" eval "fault_hits /tmp/ && nothing_left e-tmpopen"
rm -f "$FLOG"
run faulty open:EIO QUEUECTL_FAULT_PATH="$SPOOL/lock" -- q enqueue --id e-lock true
rc_is 74 "enqueue: cannot open SPOOL/lock after writing tmp/ (EIO): I/O error (74)"
check "... the file it wrote in tmp/ is removed" eval "fault_hits /lock && nothing_left e-lock"
rm -f "$FLOG"
run faulty open:EIO QUEUECTL_FAULT_PATH="$SPOOL/lock" -- bash -c 'printf "true\n{\"id\":\"e-blk\",\"command\":\"true\"}\n" | "$QUEUECTL" enqueue --batch'
rc_is 74 "enqueue --batch with an id of its own: cannot take SPOOL/lock (EIO): 74"
like "$err" "record 2: cannot enqueue" "... the error names the record that needed the lock"
like "$out" "^[0-9]{8}-[0-9]{6}\.[0-9]{3}-[0-9a-z]{6}\$" "... the job before it, queued, has its id printed, alone"
check "... that job is in pending/, e-blk is not, tmp/ is empty" eval "fault_hits /lock && dirs_empty '$SPOOL/tmp' && test -f '$SPOOL/pending/$out.json' && test \"\$(ls '$SPOOL/pending')\" = '$out.json'"
rm -f "$SPOOL/pending/$out.json"
rm -f "$FLOG"
run faulty open:EIO QUEUECTL_FAULT_PATH="$SPOOL/lock" -- bash -c 'printf "true\ntrue\n" | "$QUEUECTL" enqueue --batch'
rc_is 0 "enqueue --batch of generated ids takes no lock: SPOOL/lock failing does not matter"
is "$(printf '%s\n' "$out" | wc -l)" 2 "... two ids printed"
check "... the lock was not even opened" eval "! fault_hits /lock"
rm -f "$FLOG"
run faulty open:EIO QUEUECTL_FAULT_PATH="$SPOOL/lock" -- q enqueue true
rc_is 0 "enqueue of one job with a generated id takes no lock either"
rm -f "$SPOOL"/pending/*.json
rm -f "$FLOG"
run faulty rename:ENOSPC QUEUECTL_FAULT_PATH="$SPOOL/pending/" -- q enqueue --id e-pend true
rc_is 74 "enqueue: the rename into pending/ fails (ENOSPC): 74"
check "... nothing is left" eval "fault_hits /pending/ && nothing_left e-pend"
runq enqueue --id e-pend true
rc_is 0 "the same enqueue without the fault succeeds"
check "... e-pend is in pending/ once" only_in e-pend pending

# A lease that cannot be opened must not pass for one that does not hold
# the id: enqueue would make a second job of that id.
mkdir -m 0700 "$SPOOL/processing/ghost-1"
printf '{"id":"e-dup","command":"true","state":"processing"}\n' >"$SPOOL/processing/ghost-1/e-dup.json"
rm -f "$FLOG"
run faulty open:EMFILE QUEUECTL_FAULT_PATH=/processing/ghost-1 -- q enqueue --id e-dup true
rc_is 75 "enqueue cannot look into a lease (EMFILE): temporary failure, not success"
check "... no second e-dup in pending/" eval "fault_hits ghost-1 && absent '$SPOOL/pending/e-dup.json' && dirs_empty '$SPOOL/tmp'"
runq enqueue --id e-dup true
rc_is 73 "without the fault the duplicate is refused (73)"
# ... nor for one that does not run the same command (--unique), nor be
# counted as empty
printf '{"id":"e-uniq","command":"echo uniq","state":"processing"}\n' >"$SPOOL/processing/ghost-1/e-uniq.json"
rm -f "$FLOG"
run faulty open:EMFILE QUEUECTL_FAULT_PATH=/processing/ghost-1 -- q enqueue --unique 'echo uniq'
rc_is 75 "enqueue --unique cannot look into a lease (EMFILE): 75"
check "... no second 'echo uniq' in pending/" eval "fault_hits ghost-1 && test -z \"\$(grep -l 'echo uniq' '$SPOOL/pending/'*.json 2>/dev/null)\""
rm -f "$FLOG"
run faulty open:EMFILE QUEUECTL_FAULT_PATH=/processing/ghost-1 -- q status --json
rc_is 75 "status cannot count a lease's jobs (EMFILE): 75, not a count of 0"
runq enqueue --unique 'echo uniq'
is "$out" "e-uniq" "without the fault --unique names the running job"
rm -rf "$SPOOL/processing/ghost-1"

# The job is queued but the fsync of pending/ (or the batch's syncfs) that
# makes it durable fails: the id is printed, and the exit status says 74.
rm -f "$FLOG"
run faulty fsync:EIO QUEUECTL_FAULT_PATH="$SPOOL/pending" -- q enqueue --id e-dsync true
rc_is 74 "enqueue: the fsync of pending/ fails after the rename: 74"
is "$out" "e-dsync" "... the id is printed: the job is queued"
like "$err" "e-dsync is queued, but may not survive a power loss" "... and the message says so"
check "... e-dsync is in pending/ once" eval "fault_hits /pending && only_in e-dsync pending"
rm -f "$FLOG"
run faulty fsync:EIO -- bash -c 'printf "{\"id\":\"e-bs1\",\"command\":\"true\"}\n{\"id\":\"e-bs2\",\"command\":\"true\"}\n" | "$QUEUECTL" enqueue --batch'
rc_is 74 "enqueue --batch: the group's syncfs fails: 74"
is "$out" "e-bs1
e-bs2" "... the ids are printed: the jobs are queued"
like "$err" "the last 2 jobs are queued, but may not survive a power loss: sync: Input/output error" "... and the message says so, with the sync's error"
check "... both are in pending/ once" eval "fault_hits syncfs && only_in e-bs1 pending && only_in e-bs2 pending"

# metrics: a journal segment that cannot be read is an error, not "nothing
# happened" (a segment removed meanwhile is skipped)
J=$TEST_DIR/jspool
q -d "$J" init >/dev/null
q -d "$J" enqueue --id m-1 true >/dev/null
q -d "$J" worker start >/dev/null
wait_for 30 "metrics: a job is done (one journal line)" exists "$J/done/m-1.json"
q -d "$J" worker stop >/dev/null
runq -d "$J" metrics --json
is "$(jq -r '.windows["1h"].done' <<<"$out" 2>/dev/null)" 1 "metrics counts the job done"
rm -f "$FLOG"
run faulty open:EIO QUEUECTL_FAULT_PATH="$J/journal/2" -- q -d "$J" metrics --json
rc_is 74 "metrics: a journal segment cannot be opened (EIO): 74"
like "$err" "^queuectl: .*${STRERR[EIO]}" "... saying '${STRERR[EIO]}'"
check "... the fault was hit" fault_hits /journal/2

# mkdir: creating the spool, or one of its directories
for e in ENOSPC EIO EMFILE EDQUOT; do
	fresh=$TEST_DIR/fresh-$e/spool
	rm -f "$FLOG"
	run faulty "mkdir:$e" QUEUECTL_FAULT_PATH="$fresh" QUEUECTL_SPOOL="$fresh" -- q enqueue --id e-mkdir true
	rc_in "73 74 75" "enqueue into a new spool, mkdir failing ($e): 73/74/75"
	like "$err" "^queuectl: .*${STRERR[$e]}" "... saying '${STRERR[$e]}'"
	check "... no job was written" eval "fault_hits mkdir && test -z \"\$(find '$TEST_DIR/fresh-$e' -type f)\""
done
fresh=$TEST_DIR/fresh-sub/spool
rm -f "$FLOG"
run faulty mkdir:EDQUOT QUEUECTL_FAULT_PATH="$fresh/pending" QUEUECTL_SPOOL="$fresh" -- q enqueue --id e-mkdir true
rc_in "73 74 75" "enqueue: cannot create pending/ (EDQUOT): 73/74/75"
check "... no job was written" eval "fault_hits pending && test -z \"\$(find '$TEST_DIR/fresh-sub' -type f)\""

# --- a worker that cannot record a result --------------------------------------
# 1. rename into done/ fails (EIO) while the flag exists.
new_spool spool-w1
touch "$FLAG"
rm -f "$FLOG"
faulty_worker rename:EIO QUEUECTL_FAULT_PATH="$SPOOL/done/" QUEUECTL_FAULT_FLAG="$FLAG"
runq enqueue --id w1 "echo out-w1"
rc_is 0 "w1 enqueued"
wait_for 30 "the move of w1 to done/ fails (EIO)" fault_hits "/done/w1.json"
wait_for 30 "the worker says it cannot record the result, and tries again" log_has "w1: cannot record the result: .*try 2"
check "w1 is kept in the worker's lease" in_state w1 processing
check "... and is not in done/" absent "$SPOOL/done/w1.json"
runq enqueue --id w1b "echo out-w1b"
check "the worker claims nothing while it holds w1" in_state w1b pending
check "the worker is alive" alive "$w"
rm -f "$FLAG"
wait_for 30 "fault lifted: w1 ends in done/" in_state w1 'done'
check "... exactly once" only_in w1 'done'
jq_ok "... state done, exit_code 0, attempts 1" "$SPOOL/done/w1.json" '.state == "done" and .exit_code == 0 and .attempts == 1'
is "$(grep -c out-w1 "$SPOOL/done/w1.stdout" 2>/dev/null)" 1 "... its output once, beside it"
wait_for 30 "w1b runs next and ends in done/" in_state w1b 'done'
check "the worker logged the recovery" log_has "w1: result recorded after [0-9]+ tries"
check "the worker is still alive" alive "$w"
runq worker stop
rc_is 0 "worker stop"
wait "$w"
is "$?" 0 "the worker exited 0"
check "processing/ and tmp/ are empty" dirs_empty "$SPOOL/processing" "$SPOOL/tmp"

# 1b. sync = 0: a job that ends before its file is marked started, and whose
#     result cannot be written (renames out of tmp/ fail): the lease record
#     keeps naming the attempt while the job is held, so that it still
#     counts when the worker is killed then.
new_spool spool-w1b
q config set sync 0 >/dev/null
rm -f "$FLAG" "$FLOG"
faulty_worker rename:EIO QUEUECTL_FAULT_PATH="$SPOOL/tmp/" QUEUECTL_FAULT_FLAG="$FLAG"
touch "$FLAG"
runq enqueue --id w1b true
wait_for 30 "w1b's result cannot be written (EIO)" log_has "w1b: cannot record the result: .*try 2"
# record_job: the lease record's job field
record_job() { jq -r .job "$(lease_of "$w")/lease" 2>/dev/null; }
is "$(record_job)" w1b "... and the lease record still names it"
kill -9 "$w"
wait "$w" 2>/dev/null
rm -f "$FLAG"
runq recover
rc_is 0 "recover after the worker is killed"
wait_for 10 "w1b is in failed/" in_state w1b failed
jq_ok "... with the attempt counted" "$SPOOL/failed/w1b.json" '.attempts == 1 and .last_error == "worker died"'

# 1c. A job enqueued to an idle worker is read once, for the index: after
#     the claim the text kept then is used (a second open would fail here).
new_spool spool-w1c
rm -f "$FLOG"
faulty_worker open:EIO QUEUECTL_FAULT_PATH="/w1c.json" QUEUECTL_FAULT_SKIP=1 QUEUECTL_FAULT_COUNT=1
runq enqueue --id w1c true
wait_for 30 "w1c runs" in_state w1c done
check_not "... its file opened once (no second open, which would fail)" fault_hits "w1c.json"

# 1d. sync = 0 on a filesystem without RENAME_EXCHANGE (FUSE, NFS: EINVAL):
#     the replace falls back to a rename, and keeps to it.
new_spool spool-w1d
q config set sync 0 >/dev/null
rm -f "$FLAG" "$FLOG"
faulty_worker rename:EINVAL QUEUECTL_FAULT_PATH="$SPOOL/tmp/" QUEUECTL_FAULT_FLAG="$FLAG" QUEUECTL_FAULT_COUNT=1
touch "$FLAG"
runq enqueue --id w1d true
wait_for 30 "w1d runs, its exchange refused (EINVAL)" in_state w1d done
check "... the exchange was tried" fault_hits "$SPOOL/tmp/"
runq enqueue --id w1e true
wait_for 30 "the next job runs too" in_state w1e done
jq_ok "... both counted once" "$SPOOL/done/w1e.json" '.attempts == 1'
wait_for 10 "nothing is left in tmp/" dirs_empty "$SPOOL/tmp"
check_not "the worker logged no failure for them" log_has "w1[de]: cannot"

# 1f. a filesystem without RENAME_NOREPLACE (FUSE: EINVAL): the worker's
#     lease, a directory, is renamed into processing/ all the same (a plain
#     rename once its name is found free).
new_spool spool-w1f
rm -f "$FLOG"
faulty_worker rename:EINVAL QUEUECTL_FAULT_PATH="$SPOOL/tmp/lease." QUEUECTL_FAULT_COUNT=1
check "the lease's RENAME_NOREPLACE was refused" fault_hits "tmp/lease\."
runq enqueue --id w1f true
wait_for 30 "the worker runs a job from its lease" in_state w1f done
check "... and tmp/ holds no half-built lease" dirs_empty "$SPOOL/tmp"

# 2. fsync of the result file fails (EIO) 3 times, then works: the result was
#    not even written, the worker keeps it in memory.
new_spool spool-w2
rm -f "$FLOG"
# fsyncs of files in tmp/: the 1st marks the attempt started, the 2nd on
# record the result.
faulty_worker fsync:EIO QUEUECTL_FAULT_PATH="$SPOOL/tmp/" QUEUECTL_FAULT_SKIP=1 QUEUECTL_FAULT_COUNT=3
runq enqueue --id w2 "echo out-w2"
wait_for 30 "w2: the result cannot be written (fsync EIO), tried 3 times" log_has "w2: cannot record the result: Input/output error \(try 3"
wait_for 30 "then w2 ends in done/" in_state w2 'done'
check "... exactly once" only_in w2 'done'
jq_ok "... exit_code 0, attempts 1" "$SPOOL/done/w2.json" '.state == "done" and .exit_code == 0 and .attempts == 1'
is "$(grep -c . "$FLOG")" 3 "the shim failed exactly 3 fsyncs"
check "the worker is alive" alive "$w"
check "tmp/ holds no leftover" dirs_empty "$SPOOL/tmp"

# 3. a failed job whose move to dead/ fails twice (EDQUOT)
new_spool spool-w3
rm -f "$FLOG"
faulty_worker rename:EDQUOT QUEUECTL_FAULT_PATH="$SPOOL/dead/" QUEUECTL_FAULT_COUNT=2
runq enqueue --id w3 --max-retries 0 "echo out-w3; exit 3"
wait_for 30 "w3 ends in dead/ after 2 failed moves" in_state w3 dead
check "... exactly once" only_in w3 dead
jq_ok "... exit_code 3, attempts 1" "$SPOOL/dead/w3.json" '.state == "dead" and .exit_code == 3 and .attempts == 1'
is "$(grep -c /dead/w3.json "$FLOG")" 2 "the shim failed 2 renames into dead/"
check "the worker is alive" alive "$w"

# --- a worker that cannot start a job ----------------------------------------
# 4. the claimed file cannot be opened (EMFILE): it goes back to pending/
#    and is tried again, its attempt not counted.
new_spool spool-w4
touch "$FLAG"
rm -f "$FLOG"
faulty_worker open:EMFILE QUEUECTL_FAULT_PATH="/w4.json" QUEUECTL_FAULT_FLAG="$FLAG"
runq enqueue --id w4 "echo out-w4"
wait_for 30 "w4 cannot be read in the lease (EMFILE), more than once" eval "[ \"\$(grep -c 'processing/.*/w4.json' '$FLOG')\" -ge 2 ]"
check "the worker is alive" alive "$w"
rm -f "$FLAG"
wait_for 30 "fault lifted: w4 ends in done/" in_state w4 'done'
check "... exactly once" only_in w4 'done'
jq_ok "... attempts 1: the attempts that did not start are not counted" "$SPOOL/done/w4.json" '.attempts == 1 and .exit_code == 0'

# 5. the claim itself (the rename out of pending/) fails (EIO): the job stays
#    in pending/ and is claimed again a second later, not at the next rescan.
new_spool spool-w5c
touch "$FLAG"
rm -f "$FLOG"
faulty_worker rename:EIO QUEUECTL_FAULT_PATH="$SPOOL/pending/w5c.json" QUEUECTL_FAULT_FLAG="$FLAG"
runq enqueue --id w5c "echo out-w5c"
wait_for 30 "the claim of w5c fails (EIO), and is tried again" eval "[ \"\$(grep -c 'pending/w5c.json' '$FLOG')\" -ge 2 ]"
check "w5c is still in pending/" in_state w5c pending
rm -f "$FLAG"
wait_for 30 "fault lifted: w5c ends in done/" in_state w5c 'done'
check "... exactly once" only_in w5c 'done'
jq_ok "... attempts 1" "$SPOOL/done/w5c.json" '.attempts == 1 and .exit_code == 0'
check "the worker is alive" alive "$w"

# 5b. the attempt's log cannot be created (EMFILE; nor can the lease's spare
#    logs, whose names also hold "stdout"): the child, already made, ends
#    without running the command; the job goes back to pending/, its
#    attempt not counted, and runs once the fault is lifted.
new_spool spool-w6
touch "$FLAG"
rm -f "$FLOG"
faulty_worker open:EMFILE QUEUECTL_FAULT_PATH="stdout" QUEUECTL_FAULT_FLAG="$FLAG"
runq enqueue --id w6 "echo ran >>$TEST_DIR/w6.ran"
wait_for 30 "w6's log cannot be created (EMFILE), more than once" eval "[ \"\$(grep -c 'processing/.*/w6.stdout' '$FLOG')\" -ge 2 ]"
check "... and the command never ran" absent "$TEST_DIR/w6.ran"
check "the worker is alive" alive "$w"
rm -f "$FLAG"
wait_for 30 "fault lifted: w6 ends in done/" in_state w6 'done'
is "$(cat "$TEST_DIR/w6.ran" 2>&1)" ran "... having run once"
jq_ok "... attempts 1" "$SPOOL/done/w6.json" '.attempts == 1 and .exit_code == 0'

# 5e. the lease's spare log cannot be renamed to the attempt's (EIO): the
#    worker creates the log itself, the job runs once with its output
#    there, and the worker opens a spare again for the next job.
new_spool spool-spare
rm -f "$FLOG"
faulty_worker rename:EIO QUEUECTL_FAULT_PATH="/.stdout-spare"
lease=$(lease_of "$w")
spare=$(stat -c %i "$lease/.stdout-spare" 2>/dev/null)
check "the lease has its spare logs" test -n "$spare" -a -e "$lease/.stderr-spare"
runq enqueue --id s1 "echo out-s1"
wait_for 30 "s1 ends in done/" in_state s1 'done'
check "... the spare's rename was failed" fault_hits "/.stdout-spare"
is "$(grep -c out-s1 "$SPOOL/done/s1.stdout" 2>/dev/null)" 1 "... its output in its log"
is "$(grep -c '=== queuectl: attempt' "$SPOOL/done/s1.stdout" 2>/dev/null)" 1 "... after one attempt marker"
jq_ok "... attempts 1" "$SPOOL/done/s1.json" '.attempts == 1 and .exit_code == 0'
check_not "... started at the first try (no \"cannot start\")" log_has "s1: cannot start"
# (the spare is still there, its rename having failed: it is opened again)
wait_for 30 "the worker holds a spare stdout log again" eval "ls -l /proc/$w/fd | grep -q '$lease/.stdout-spare\$'"
check "the worker is alive" alive "$w"

# timer_fences SPEC WHAT REASON: a worker started with the shim armed as SPEC
# fences itself (status 3), its log saying "fenced: REASON"; the lease
# check's timer is what fails, and nothing would ever check the lease again.
timer_fences() {
	local tw
	rm -f "$FLOG"
	fault_on "$1"
	"$QUEUECTL" worker run </dev/null >"$TEST_DIR/$1.log" 2>&1 &
	tw=$!
	BG_PIDS+=("$tw")
	fault_off
	wait_for 30 "a worker whose lease timer $2 exits" dead_pid "$tw"
	wait "$tw"
	is "$?" 3 "... with the fence's status, 3"
	check "... the fault was hit" test -s "$FLOG"
	like "$(cat "$TEST_DIR/$1.log")" "fenced: $3" "... and says why"
}

# 5c. the lease check's timer cannot be armed (EINVAL).
new_spool spool-timer
timer_fences timer:EINVAL "cannot be armed" \
	"cannot arm the lease check's timer: Invalid argument"
# 5d. reading that timer fails (EIO).
new_spool spool-timerread
q config set lease_check 0.2 >/dev/null
timer_fences timerread:EIO "cannot be read" \
	"cannot read the lease check's timer: Input/output error"

# 6. writes to tmp/ fail (ENOSPC): the attempt cannot be marked started, and
#    the job cannot be put back either (its old contents go through tmp/);
#    the worker keeps it until it can.
new_spool spool-w5
rm -f "$FLAG" "$FLOG"
faulty_worker write:ENOSPC QUEUECTL_FAULT_PATH="$SPOOL/tmp/" QUEUECTL_FAULT_FLAG="$FLAG"
touch "$FLAG"    # after the worker has built its lease (through tmp/)
runq enqueue --id w5 "echo out-w5"
wait_for 30 "w5 cannot be started, nor put back: kept, tried again" log_has "w5: cannot put it back: No space left on device \(try 2"
check "w5 is in the worker's lease" in_state w5 processing
check "the worker is alive" alive "$w"
rm -f "$FLAG"
wait_for 30 "fault lifted: w5 ends in done/" in_state w5 'done'
check "... exactly once" only_in w5 'done'
jq_ok "... attempts 1" "$SPOOL/done/w5.json" '.attempts == 1 and .exit_code == 0'
is "$(grep -c '=== queuectl: attempt' "$SPOOL/done/w5.stdout" 2>/dev/null)" 1 "... one attempt marker in its log"
check "the worker is alive" alive "$w"
runq worker stop
rc_is 0 "worker stop"
wait "$w"
is "$?" 0 "the worker exited 0"
check "processing/ and tmp/ are empty" dirs_empty "$SPOOL/processing" "$SPOOL/tmp"

# 7. a worker told to stop while it still cannot record a result: it exits,
#    leaving the job in its lease (a dead lease now), which `recover` (or the
#    next worker) settles from what the file says.
new_spool spool-w7
touch "$FLAG"
rm -f "$FLOG"
faulty_worker rename:ENOSPC QUEUECTL_FAULT_PATH="$SPOOL/done/" QUEUECTL_FAULT_FLAG="$FLAG"
lease=$(lease_of "$w")
runq enqueue --id w7 "echo out-w7"
wait_for 30 "w7: the result cannot be recorded" log_has "w7: cannot record the result: No space left on device"
runq worker stop
rc_is 0 "worker stop while w7 is held"
wait "$w"
is "$?" 0 "the worker exited 0"
check "it said where w7 is" log_has "w7: left in the lease"
check "w7 is in the dead worker's lease" test -f "$lease/w7.json"
rm -f "$FLAG"
runq recover
rc_is 0 "recover"
check "w7 is in done/ exactly once" only_in w7 'done'
jq_ok "... attempts 1, exit_code 0" "$SPOOL/done/w7.json" '.attempts == 1 and .exit_code == 0'
check "the lease is gone" absent "$lease"

# 8. the same, but the fault is gone by the time the worker stops: its last
#    try at stop records the result, and it exits cleanly.
new_spool spool-w8
touch "$FLAG"
rm -f "$FLOG"
faulty_worker rename:ENOSPC QUEUECTL_FAULT_PATH="$SPOOL/done/" QUEUECTL_FAULT_FLAG="$FLAG"
runq enqueue --id w8 "echo out-w8"
# after the 3rd failed try the next one is 4 s away: stop comes first
wait_for 30 "w8: the result cannot be recorded, 3 tries" log_has "w8: cannot record the result: .*try 3"
rm -f "$FLAG"
runq worker stop
rc_is 0 "worker stop while w8 is held and the fault is gone"
wait "$w"
is "$?" 0 "the worker exited 0 (its last try succeeded)"
check "w8 is in done/ exactly once" only_in w8 'done'
check "processing/ and tmp/ are empty" dirs_empty "$SPOOL/processing" "$SPOOL/tmp"

# --- worker start: cannot build its lease --------------------------------------
new_spool spool-w6
rm -f "$FLOG"
run faulty mkdir:ENOSPC QUEUECTL_FAULT_PATH="$SPOOL/tmp/lease." -- q worker run
rc_in "1 73 74 75" "worker run cannot create its lease (ENOSPC): exits non-zero, no crash"
like "$err" "No space left on device" "... saying why"
check "... and leaves no lease" eval "fault_hits lease && dirs_empty '$SPOOL/processing' '$SPOOL/tmp'"

done_testing

#!/bin/bash
# 18-crash: kill -9 at every crash point (src/crash.h: before and after each
# rename and fsync of enqueue, claim, completion, retry scheduling, the DLQ
# move, lease creation and reclaim), then let a normal worker or `recover`
# repair the spool: every job ends where it belongs, exactly once, with no
# lease or temporary file left behind. Needs the test build with crash
# points ($CRASH_QUEUECTL, built by make check as build/test/queuectl).
. "$(dirname "$0")/../lib.sh"

test_build

# where ID DIR: the places a job's json is in (one line each).
where() {
	find "$1" -name "$2.json" | sed "s|^$1/||; s|/$2.json$||"
}

# settled DIR: job a in done/, b in dead/ (and nothing elsewhere).
settled() {
	[ -f "$1/done/a.json" ] && [ -f "$1/dead/b.json" ]
}

# repaired_by DIR PID: settled, and the only lease left is worker PID's.
repaired_by() {
	settled "$1" && [ "$(ls "$1/processing")" != "" ] &&
		[ "$(ls "$1/processing" | grep -v -- "-$2\$")" = "" ]
}

# check_spool CASE DIR: the invariants after repair.
check_spool() {
	local c=$1 d=$2 bad=
	[ "$(where "$d" a)" = done ] || bad="$bad a in [$(where "$d" a | tr '\n' ' ')]"
	[ "$(where "$d" b)" = dead ] || bad="$bad b in [$(where "$d" b | tr '\n' ' ')]"
	[ -z "$(ls -A "$d/processing")" ] || bad="$bad leases left: $(ls "$d/processing")"
	[ -z "$(ls -A "$d/tmp")" ] || bad="$bad tmp/ not empty: $(ls "$d/tmp")"
	[ -z "$(ls "$d/pending" "$d/failed")" ] 2>/dev/null || true
	[ -z "$(find "$d/pending" "$d/failed" -type f)" ] || bad="$bad pending/failed not empty"
	jq -e '.attempts >= 1 and .attempts <= 2 and .exit_code == 0' "$d/done/a.json" >/dev/null ||
		bad="$bad a: $(jq -c '{attempts,exit_code}' "$d/done/a.json" 2>&1)"
	jq -e '.attempts == 2' "$d/dead/b.json" >/dev/null ||
		bad="$bad b: $(jq -c '{attempts,last_error}' "$d/dead/b.json" 2>&1)"
	if [ -z "$bad" ]; then
		ok "$c: repaired: a done, b dead, each once; no lease or tmp file left"
	else
		not_ok "$c: repaired"
		diag "$bad"
	fi
}

# worker_case POINT N: a worker that dies at the N-th hit of POINT while
# running a (succeeds) and b (fails twice, max_retries 1). Returns 1 when
# the worker settled everything without reaching the point.
worker_case() {
	local p=$1 n=$2 d=$TEST_DIR/c-$1-$2 pid crashed=0 t
	"$CQ" -d "$d" init >/dev/null
	"$CQ" -d "$d" config set backoff_max 0 >/dev/null
	"$CQ" -d "$d" config set sync 0 >/dev/null   # the points are hit all the same
	"$CQ" -d "$d" enqueue --id a 'echo a' >/dev/null
	"$CQ" -d "$d" enqueue --id b --max-retries 1 'exit 1' >/dev/null
	QUEUECTL_CRASH_AT=$p:$n "$CQ" -d "$d" worker run 2>>"$TEST_DIR/crash.log" &
	pid=$!
	for t in $(seq 1 1000); do
		if ! kill -0 "$pid" 2>/dev/null; then crashed=1; break; fi
		settled "$d" && break
		sleep 0.01
	done
	if [ $crashed = 0 ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid"
		rm -rf "$d"
		return 1
	fi
	wait "$pid"
	# the repair: a normal worker, once it has reclaimed the dead lease
	"$CQ" -d "$d" worker run 2>>"$TEST_DIR/crash.log" &
	pid=$!
	wait_until 30 repaired_by "$d" "$pid"
	kill -TERM "$pid"
	wait "$pid"
	check_spool "$p:$n" "$d"
	rm -rf "$d"
	return 0
}

each_crash_point 12 worker_case write.before_fsync write.after_fsync \
    replace.before_rename replace.after_rename move.after_link \
    move.after_rename move.before_fsync move.after_fsync lease.before_rename \
    lease.after_rename spawn.before_go spawn.after_go

# --- enqueue: the job is there once, or not at all; the id stays usable ---
for p in write.before_fsync write.after_fsync enqueue.before_rename \
    enqueue.after_rename enqueue.after_fsync; do
	d=$TEST_DIR/e-$p
	"$CQ" -d "$d" init >/dev/null
	QUEUECTL_CRASH_AT=$p "$CQ" -d "$d" enqueue --id e true >/dev/null 2>&1
	is "$?" 137 "enqueue killed at $p"
	"$CQ" -d "$d" recover >/dev/null
	n=$(find "$d" -name e.json | wc -l)
	check "$p: e.json is in pending/ once or nowhere" test "$n" -le 1
	check "$p: tmp/ is empty after recover" test -z "$(ls -A "$d/tmp")"
	"$CQ" -d "$d" enqueue --id e true >/dev/null 2>&1
	rc=$?
	if [ "$n" = 1 ]; then is "$rc" 73 "$p: enqueue again is refused (73)"
	else is "$rc" 0 "$p: enqueue again succeeds"; fi
	is "$(find "$d" -name e.json | wc -l)" 1 "$p: e.json exists exactly once"
done

# --- reclaim: a reclaimer dying half-way leaves work the next one finishes ---
for p in reclaim.after_kill move.after_rename reclaim.before_remove; do
	d=$TEST_DIR/r-$p
	"$CQ" -d "$d" init >/dev/null
	"$CQ" -d "$d" enqueue --id s --max-retries 5 "sleep 300$MARK" >/dev/null
	"$CQ" -d "$d" worker run 2>>"$TEST_DIR/crash.log" &
	pid=$!
	wait_until 20 procs "sleep 300$MARK"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	QUEUECTL_CRASH_AT=$p "$CQ" -d "$d" recover >/dev/null 2>&1
	is "$?" 137 "recover killed at $p"
	"$CQ" -d "$d" recover >/dev/null
	check "$p: the orphaned job process is gone" no_procs "sleep 300$MARK"
	is "$(where "$d" s)" failed "$p: the job is in failed/ exactly once"
	jq_ok "$p: the interrupted attempt is counted" "$d/failed/s.json" \
		'.attempts == 1 and .last_error == "worker died"'
	check "$p: no lease left" test -z "$(ls -A "$d/processing")"
done

done_testing

#!/bin/bash
# 31-after: dependencies. enqueue --after ID[,ID...] (and "after" in JSON
# and drop-ins): a job starts only once every named job is in done/; a
# dependency in dead/ sends its dependents to dead/ ("dependency ID failed"),
# down a chain; unknown ids and cycles are refused at enqueue; a dropped-in
# job naming an unknown id goes to dead/; a blocked job does not hold up
# ready ones, and the worker neither spins on it nor watches done/ and dead/
# when nothing is blocked.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
log=$TEST_DIR/order.log

# ms TIME: a job time field in ms
jms() { jqf "$1" "$2 | ms"; }

# watched PID: 1 if worker PID has inotify watches on done/ and dead/ (the
# fdinfo of an inotify fd lists each watched inode), 0 if on neither
watched() {
	local d n=0 ino
	for d in done dead; do
		ino=$(printf '%x' "$(stat -c %i "$SPOOL/$d")")
		cat /proc/"$1"/fdinfo/* 2>/dev/null | grep -q "^inotify wd:.* ino:$ino " && n=$((n + 1))
	done
	case $n in 2) echo 1 ;; 0) echo 0 ;; *) echo "$n of 2" ;; esac
}
watched_is() {
	local n
	n=$(watched "$1")
	[ "$n" = "$2" ] || {
		echo "worker $1: watches of done/ and dead/: $n, want $2"
		return 1
	}
}

# --- refused at enqueue --------------------------------------------------------------
runq enqueue --after nosuch true
rc_is 66 "--after an unknown id exits 66"
like "$err" "dependency nosuch: no such job" "... naming it"
count_is pending 0 || not_ok "... nothing enqueued"
runq enqueue --id self --after self true
rc_is 65 "a job after itself exits 65"
runq enqueue --after 'a/b' true
rc_is 65 "--after an invalid id exits 65"
runq enqueue '{"command":"true","after":"x"}'
rc_is 65 "\"after\" that is not an array exits 65"
runq enqueue '{"command":"true","after":["x","x"]}'
rc_is 65 "\"after\" naming an id twice exits 65"

# a cycle through dropped-in files (enqueue refuses unknown ids, drop-ins do not)
printf '{"command":"true","after":["cy2"]}\n' >"$SPOOL/pending/cy1.json"
printf '{"command":"true","after":["cy1"]}\n' >"$SPOOL/pending/cy0.json"
runq enqueue --id cy2 --after cy0 true
rc_is 65 "a dependency cycle exits 65"
like "$err" "dependency cycle: job cy0 waits, directly or not, for cy2" "... naming the way back"
check "... nothing enqueued" absent "$SPOOL/pending/cy2.json"
check "tmp/ is empty" dirs_empty "$SPOOL/tmp"
runq enqueue --id cy3 --after cy0 true
rc_is 0 "the same dependencies without the cycle are accepted"
rm -f "$SPOOL"/pending/cy*.json

# --- the file ------------------------------------------------------------------------
runq enqueue --id base true
runq enqueue --id multi --after base --after base,cy9 true
rc_is 66 "one unknown id among several is refused"
runq enqueue --id multi --after base --after base true
rc_is 0 "--after repeated"
jq_ok "\"after\" holds each id once, in order" "$SPOOL/pending/multi.json" '.after == ["base"]'
runq enqueue --id multi2 --after multi '{"command":"true","after":["base"]}'
jq_ok "--after adds to a JSON job's \"after\"" "$SPOOL/pending/multi2.json" '.after == ["base","multi"]'
runq show multi
rc_is 0 "show a blocked job"
like "$out" "blocked +waiting for base" "... says what it waits for"
runq show --json multi2
is "$(jq -r .blocked <<<"$out")" "waiting for base" "show --json: \"blocked\""
runq show --json base
is "$(jq -r '.blocked // "none"' <<<"$out")" none "a job without dependencies has no \"blocked\""

# --- a chain runs in order, with 2 workers -------------------------------------------------
step() { # step NAME: a command that logs its start and end
	echo "echo start-$1 >> '$log'; sleep 0.2; echo end-$1 >> '$log'"
}
q enqueue --id c3 -- "$(step c3)" >/dev/null
q enqueue --id c2 --after c3 -- "$(step c2)" >/dev/null
q enqueue --id c1 --after c2 -- "$(step c1)" >/dev/null
q enqueue --id c0 --after c1,c3 -- "$(step c0)" >/dev/null
start_workers 2
rc_is 0 "two workers"
wait_for 30 "the chain is done" exists "$SPOOL/done/c0.json"
is "$(tr '\n' ' ' <"$log")" "start-c3 end-c3 start-c2 end-c2 start-c1 end-c1 start-c0 end-c0 " \
	"c0 after c1 after c2 after c3: run one after the other, in order"
for p in "c2 c3" "c1 c2" "c0 c1"; do
	set -- $p
	s=$(jms "$SPOOL/done/$1.json" .started_at)
	f=$(jms "$SPOOL/done/$2.json" .finished_at)
	check "$1 started ($s) after $2 finished ($f), within 2 s (inotify, no rescan)" \
		test "${s:-0}" -ge "${f:-1}" -a "${s:-0}" -le "$(( ${f:-0} + 2000 ))"
done
wait_for 30 "multi, multi2 and base are done" bash -c "[ -f '$SPOOL/done/multi2.json' ] && [ -f '$SPOOL/done/multi.json' ]"
for p in ${WPIDS[@]}; do
	wait_for 10 "worker $p does not watch done/ and dead/ once nothing is blocked" watched_is "$p" 0
done

# --- a failed dependency sends its dependents to dead/, down the chain ----------------------
q enqueue --id f0 --max-retries 0 -- sh -c "while [ ! -e '$TEST_DIR/f0.go' ]; do sleep 0.05; done; exit 3" >/dev/null
q enqueue --id f1 --after f0 -- touch "$TEST_DIR/f1.ran" >/dev/null
q enqueue --id f2 --after f1 -- touch "$TEST_DIR/f2.ran" >/dev/null
q enqueue --id f3 --after base,f2 -- touch "$TEST_DIR/f3.ran" >/dev/null
wait_for 10 "f0 is running" in_state f0 processing
wait_for 10 "a worker watches done/ and dead/ while jobs are blocked" \
	bash -c "$(declare -f watched); SPOOL='$SPOOL'; [ \$(watched ${WPIDS[0]}) = 1 ] || [ \$(watched ${WPIDS[1]}) = 1 ]"
touch "$TEST_DIR/f0.go"
for j in f1 f2 f3; do
	wait_for 30 "$j is dead" exists "$SPOOL/dead/$j.json"
done
jq_ok "f1: last_error \"dependency f0 failed\", no attempt, state dead" "$SPOOL/dead/f1.json" \
	'.last_error == "dependency f0 failed" and .attempts == 0 and .state == "dead" and (.finished_at | ms) > 0'
jq_ok "f2: \"dependency f1 failed\"" "$SPOOL/dead/f2.json" '.last_error == "dependency f1 failed"'
jq_ok "f3 (after a done job and f2): \"dependency f2 failed\"" "$SPOOL/dead/f3.json" '.last_error == "dependency f2 failed"'
check "none of them ran" bash -c "! ls '$TEST_DIR'/f?.ran 2>/dev/null | grep -q ."
runq dlq list
like "$out" "f2" "dlq list shows them"

# a dependency already dead when the job is enqueued
runq enqueue --id late --after f0 true
rc_is 0 "--after a dead job is accepted"
wait_for 30 "... and the job goes to dead/" exists "$SPOOL/dead/late.json"
jq_ok "... with \"dependency f0 failed\"" "$SPOOL/dead/late.json" '.last_error == "dependency f0 failed"'

# a dropped-in job naming an unknown id
printf '{"command":"touch %s/u.ran","after":["base","ghost"]}\n' "$TEST_DIR" >"$SPOOL/tmp/u"
mv "$SPOOL/tmp/u" "$SPOOL/pending/unk.json"
wait_for 30 "a dropped-in job after an unknown id goes to dead/" exists "$SPOOL/dead/unk.json"
jq_ok "... with \"dependency ghost unknown\"" "$SPOOL/dead/unk.json" '.last_error == "dependency ghost unknown"'
check "... without running" absent "$TEST_DIR/u.ran"
runq worker stop

# --- a blocked job does not hold up ready ones; no spinning --------------------------------
# worker A runs the dependency, which waits for a file; worker B is left
# with a blocked job and ready ones
fg_worker
apid=$FG_PID
q enqueue --id later -- sh -c "while [ ! -e '$TEST_DIR/later.go' ]; do sleep 0.05; done" >/dev/null
wait_for 30 "worker A runs the dependency" in_state later processing
fg_worker
wpid=$FG_PID
q enqueue --id blocked --priority -10 --after later -- touch "$TEST_DIR/blocked.ran" >/dev/null
q enqueue --id free1 --priority 5 -- touch "$TEST_DIR/free1.ran" >/dev/null
wait_for 30 "a ready job runs although a blocked one has a better priority" exists "$SPOOL/done/free1.json"
check "the blocked job is still pending" in_state blocked pending
check "... and did not run" absent "$TEST_DIR/blocked.ran"
jq_ok "... no attempt counted" "$SPOOL/pending/blocked.json" '.attempts == 0'
q enqueue --id free2 -- touch "$TEST_DIR/free2.ran" >/dev/null
wait_for 30 "another ready job runs" exists "$SPOOL/done/free2.json"
check "the idle worker watches done/ and dead/ while a job is blocked" watched_is "$wpid" 1
# A measured second of idleness (not a wait for a condition): a worker that
# spun on the blocked job would claim and read it over and over.
r0=$(awk '/^syscr/ {print $2}' "/proc/$wpid/io")
c0=$(awk '{print $14 + $15}' "/proc/$wpid/stat")
sleep 1
r1=$(awk '/^syscr/ {print $2}' "/proc/$wpid/io")
c1=$(awk '{print $14 + $15}' "/proc/$wpid/stat")
check "an idle worker with a blocked job makes no reads ($((r1 - r0)) in 1 s)" test $((r1 - r0)) -lt 20
check "... and uses no CPU ($((c1 - c0)) ticks in 1 s)" test $((c1 - c0)) -lt 10
check "... the blocked job is still pending" in_state blocked pending

touch "$TEST_DIR/later.go"
wait_for 30 "once its dependency is done the blocked job runs" exists "$SPOOL/done/blocked.json"
check "... its command ran" exists "$TEST_DIR/blocked.ran"
s=$(jms "$SPOOL/done/blocked.json" .started_at)
f=$(jms "$SPOOL/done/later.json" .finished_at)
check "... at once ($((s - f)) ms after)" test "$((s - f))" -ge 0 -a "$((s - f))" -le 2000
for p in "$apid" "$wpid"; do
	wait_for 10 "worker $p drops the done/ and dead/ watches" watched_is "$p" 0
	kill -TERM "$p"
	wait_for 30 "worker $p stops" dead_pid "$p"
done

# --- --batch: a chain in one batch -----------------------------------------------------------
rm -f "$log"
run bash -c "printf '%s\n' '{\"id\":\"b1\",\"command\":\"echo b1 >> $log\"}' \
	'{\"id\":\"b2\",\"command\":\"echo b2 >> $log\",\"after\":[\"b1\"]}' \
	'{\"id\":\"b3\",\"command\":\"echo b3 >> $log\",\"after\":[\"b2\",\"b1\"]}' | '$QUEUECTL' enqueue --batch"
rc_is 0 "enqueue --batch of a chain"
run bash -c "printf '%s\n' 'true' '{\"command\":\"true\",\"after\":[\"nope\"]}' | '$QUEUECTL' enqueue --batch"
rc_is 66 "a batch record after an unknown id exits 66"
like "$err" "record 2: dependency nope: no such job" "... naming the record"
is "$(wc -l <<<"$out")" 1 "... after the record before it"
start_workers 2
wait_for 30 "the batch chain is done" exists "$SPOOL/done/b3.json"
is "$(tr '\n' ' ' <"$log")" "b1 b2 b3 " "... in order"
runq worker stop

# --- crashes while a job is sent to dead/ for its dependency ---------------------------------
# A worker killed at each step of the claim, rewrite and move of a doomed
# job (crash-point build): the next worker finishes the job's way to dead/,
# with no attempt counted and no lease or temporary file left.
case $QUEUECTL in *asan*) CQ=$QUEUECTL ;; *) CQ=${CRASH_QUEUECTL:-} ;; esac
case $CQ in /*) ;; ?*) CQ=$TOP/$CQ ;; esac
# doom_case POINT N: 1 if the worker did not reach the point
doom_case() {
	local d=$TEST_DIR/crash-$1-$2 pid t crashed=0 bad=
	"$CQ" -d "$d" init >/dev/null
	"$CQ" -d "$d" config set sync 0 >/dev/null
	printf '{"id":"f","command":"false","state":"dead","attempts":1}\n' >"$d/dead/f.json"
	"$CQ" -d "$d" enqueue --id g --after f true >/dev/null
	QUEUECTL_CRASH_AT=$1:$2 "$CQ" -d "$d" worker run 2>>"$TEST_DIR/crash.log" &
	pid=$!
	for t in $(seq 1 500); do
		kill -0 "$pid" 2>/dev/null || { crashed=1; break; }
		[ -f "$d/dead/g.json" ] && break
		sleep 0.01
	done
	if [ $crashed = 0 ]; then
		kill -TERM "$pid"; wait "$pid"; rm -rf "$d"; return 1
	fi
	wait "$pid"
	"$CQ" -d "$d" worker run 2>>"$TEST_DIR/crash.log" &
	pid=$!
	wait_until 30 bash -c "[ -f '$d/dead/g.json' ] && [ \"\$(ls '$d/processing')\" != '' ] &&
		[ \"\$(ls '$d/processing' | grep -v -- '-$pid\$')\" = '' ]"
	kill -TERM "$pid"; wait "$pid"
	jq -e '.state == "dead" and .attempts == 0 and .last_error == "dependency f failed"' \
		"$d/dead/g.json" >/dev/null 2>&1 || bad="g: $(cat "$d/dead/g.json" 2>&1)"
	[ -z "$(find "$d/pending" "$d/tmp" "$d/processing" -mindepth 1 2>/dev/null)" ] ||
		bad="$bad left: $(find "$d/pending" "$d/tmp" "$d/processing" -mindepth 1)"
	if [ -z "$bad" ]; then ok "crash at $1:$2: g ends in dead/ once, attempts 0"
	else not_ok "crash at $1:$2"; diag "$bad"; fi
	rm -rf "$d"
}
if [ -z "$CQ" ] || [ ! -x "$CQ" ]; then
	skip "no crash-point build (set CRASH_QUEUECTL)"
else
	each_crash_point 4 doom_case replace.before_rename \
	    replace.after_rename move.after_link move.after_rename move.after_fsync
fi

done_testing

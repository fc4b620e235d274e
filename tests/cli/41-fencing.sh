#!/bin/bash
# 41-fencing: a worker confirms its lease every lease_check; when the lease
# is lost (its lock file removed, made again and locked by someone else, its directory
# renamed away: what a host cut off from the others sees once another host
# took over) or cannot be confirmed within lease_timeout (here: the worker
# frozen with SIGSTOP, as a hung filesystem or a suspended host), it kills
# its job's process group at once, records nothing and exits 3; another
# worker then reclaims the job as an interrupted attempt. A healthy worker
# is not fenced, and stops with 0. Reclaim never kills a process group of
# a lease from another host, and leaves such a lease while its job still
# runs there (the job holds the lease's run lock); a worker tries it again
# every second, so the job runs again soon after it ends there.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set lease_check 0.2
q config set lease_timeout 2
q config set backoff_base 1
log=$TEST_DIR/fg-worker.log

# job ID: a job whose first attempt runs until killed, the second ends
job() {
	runq enqueue --id "$1" "if [ \"\$QUEUECTL_ATTEMPT\" = 1 ]; then sleep 300; fi; echo ran \$QUEUECTL_ATTEMPT # $MARK $1"
}

# running ID: ID runs, its process group recorded in the lease
running() {
	in_state "$1" processing && procs "$MARK $1" &&
		[ "$(jq -r .pgid "$SPOOL/$(job_dir "$1")/lease")" -gt 1 ] 2>/dev/null
}

# group_gone PGID: no process of group PGID is left but zombies (whoever
# inherited them reaps them in its own time)
group_gone() {
	! ps -o stat= -g "$1" | grep -qv '^Z'
}

# fenced PID NAME: worker PID ended with status 3
fenced() {
	wait_for 30 "$2: the worker exits" dead_pid "$1"
	wait "$1"
	is "$?" 3 "$2: it exits with status 3"
}

# unrecorded ID LEASE: ID is still in LEASE as started, no result
unrecorded() {
	jq_ok "$1: nothing recorded (still processing, attempt 1, no finished_at)" \
		"$2/$1.json" '.state == "processing" and .attempts == 1 and .finished_at == null'
	check "$1: done/ and failed/ do not have it" bash -c \
		"[ ! -e '$SPOOL/done/$1.json' ] && [ ! -e '$SPOOL/failed/$1.json' ]"
}

# start ID: a new worker runs job ID; sets w, lease and pg (its group)
start() {
	fg_worker
	w=$FG_PID
	lease=$(lease_of "$w")
	job "$1"
	wait_for 30 "$1 runs" running "$1"
	pg=$(jq -r .pgid "$lease/lease")
}

# reclaimed ID: another worker reclaims ID as an interrupted attempt, and
# its second attempt ends in done/
reclaimed() {
	fg_worker
	wait_for 30 "$1: reclaimed and run again to done/" in_state "$1" done
	jq_ok "$1: 2 attempts, done" "$SPOOL/done/$1.json" '.attempts == 2 and .exit_code == 0'
	like "$(cat "$SPOOL/done/$1.stdout")" "attempt 1 on .*attempt 2 on .*ran 2" \
		"$1: its log has both attempts, the second ran"
	kill "$FG_PID"
	wait_for 30 "$1: that worker stops" dead_pid "$FG_PID"
}

# --- a healthy worker with frequent checks is never fenced ----------------
fg_worker
w=$FG_PID
runq enqueue --id h1 "sleep 1.5; echo healthy # $MARK"
wait_for 30 "h1 runs to done/ with checks every 0.2 s" in_state h1 done
check "the worker is alive" alive "$w"
runq status --json
is "$(jq -r ".workers[0].host" <<<"$out")" "$(hostname | cut -d. -f1 | tr -c 'A-Za-z0-9\n' -)" \
	"status --json names the worker's host"
like "$(jq -r ".workers[0].id" <<<"$out")" "^[A-Za-z0-9-]+-$w\$" "the worker id is HOST-PID"
kill "$w"
wait_for 30 "a graceful stop" dead_pid "$w"
wait "$w"
is "$?" 0 "ends with status 0, not the fence's"
check_not "and no fence" grep -q fenced "$log"

# --- its lock file replaced and locked by another process -----------------
start f1
rm "$lease/lock"
: >"$lease/lock"
flock -o "$lease/lock" sleep 600 &
holder=$!
BG_PIDS+=("$holder")
wait_for 30 "the new lock is held" bash -c "! flock -n '$lease/lock' true"
fenced "$w" "lock taken"
wait_for 10 "f1's process group is killed" group_gone "$pg"
like "$(cat "$log")" "fenced: lease lost" "the worker says why"
unrecorded f1 "$lease"
kill "$holder"
wait_for 30 "the other lock holder is gone" bash -c "flock -n '$lease/lock' true"
reclaimed f1

# --- its lease directory renamed away --------------------------------------
start f2
mv "$lease" "$lease.away"
fenced "$w" "directory renamed"
wait_for 10 "f2's process group is killed" group_gone "$pg"
unrecorded f2 "$lease.away"
reclaimed f2

# --- not confirmed within lease_timeout: the worker frozen for longer -----
start f3
kill -STOP "$w"
sleep 2.5        # the freeze itself: longer than lease_timeout (2 s)
check "f3 still runs while its worker is frozen" procs "$MARK f3"
kill -CONT "$w"
fenced "$w" "frozen for 2.5 s"
wait_for 10 "f3's process group is killed" group_gone "$pg"
like "$(cat "$log")" "fenced: lease not confirmed for [0-9.]+ s \(lease_timeout 2.0 s\)" \
	"the worker says it was not confirmed within lease_timeout"
unrecorded f3 "$lease"
reclaimed f3

# --- reclaim kills orphaned groups of this host's leases only --------------
# A dead lease whose record says another host, with the pgid of a live
# group here: the group means nothing on this host and must survive.
setsid bash -c "exec -a 'sleep-other-$MARK' sleep 300" &
other=$!
BG_PIDS+=("$other")
wait_for 30 "a process group of ours runs" alive "$other"
d=$SPOOL/processing/otherhost-$other
mkdir -m 0700 "$d"
: >"$d/lock"
printf '{"worker":"otherhost-%s","host":"otherhost","pid":%s,"job":"o1","pgid":%s,"pgid_start":%s}\n' \
	"$other" "$other" "$other" "$(awk '{ print $22 }' "/proc/$other/stat")" >"$d/lease"
printf '{"id":"o1","command":"true","state":"processing","attempts":1,"max_retries":0,"started_at":"2026-01-01T00:00:00Z"}\n' >"$d/o1.json"
chmod 0600 "$d"/*
runq recover
rc_is 0 "recover reclaims the other host's dead lease"
check "o1 is settled as an interrupted attempt (dead: no retries left)" in_state o1 dead
jq_ok "o1: worker died" "$SPOOL/dead/o1.json" '.last_error == "worker died"'
check "the group with that pgid on this host is not killed" alive "$other"
kill "$other"
check "the lease is gone" test ! -e "$d"

# --- another host's dead lease is reclaimed only once its worker must have
# fenced itself: free (by our clock) for its lease_timeout + 1 s. Its locks
# may have been freed early (its filesystem client died) while its job
# still ran there.
d=$SPOOL/processing/otherhost-fenced
mkdir -m 0700 "$d"
: >"$d/lock"
printf '{"worker":"otherhost-fenced","host":"otherhost","pid":1,"lease_timeout_ms":2000,"job":"o2","attempt":1,"pgid":0}\n' >"$d/lease"
printf '{"id":"o2","command":"true","state":"processing","attempts":1,"max_retries":0,"started_at":"2026-01-01T00:00:00Z"}\n' >"$d/o2.json"
chmod 0600 "$d"/*
t0=$(now_ms)
runq recover
t1=$(now_ms)
rc_is 0 "recover reclaims another host's dead lease whose record gives lease_timeout 2 s"
check "... after it has been free for 3 s ($((t1 - t0)) ms)" test $((t1 - t0)) -ge 2900
like "$err" "waiting until the dead leases of other hosts" "... saying that it waits"
check "o2 is settled as an interrupted attempt" in_state o2 dead

# Many dead leases of other hosts: each is reclaimed once free for its
# time. (A table of "first seen free" times that evicted its oldest entry
# for a new one, at 64, kept evicting the ones about to be due: recover
# never ended.)
for i in $(seq 200); do
	d=$SPOOL/processing/otherhost-many$i
	mkdir -m 0700 "$d"
	: >"$d/lock"
	printf '{"worker":"otherhost-many%s","host":"otherhost","pid":1,"lease_timeout_ms":100,"job":null}\n' "$i" >"$d/lease"
	chmod 0600 "$d"/*
done
run timeout 60 "$QUEUECTL" -d "$SPOOL" recover
rc_is 0 "recover reclaims 200 dead leases of another host"
check "... every one" test -z "$(find "$SPOOL/processing" -maxdepth 1 -name 'otherhost-many*')"

# --- a dead lease of another host whose job still runs there -------------
# Its worker was killed with -9, its job goes on (it holds <lease>/run, fd
# 63): no other host may reclaim it until the job ends.
start f4
check "the job holds the lease's run lock (fd 63)" bash -c \
	"[ \"\$(readlink /proc/$(pgrep -f "$MARK f4" | head -n 1)/fd/63)\" = '$lease/run' ]"
kill -9 "$w"
wait_for 30 "f4's worker is gone" dead_pid "$w"
jq -c '.host = "otherhost"' "$lease/lease" >"$TEST_DIR/rec" && cat "$TEST_DIR/rec" >"$lease/lease"
# beside it, another host's dead lease that must first stay free 2 s
g=$SPOOL/processing/otherhost-grace
mkdir -m 0700 "$g"
: >"$g/lock"
printf '{"worker":"otherhost-grace","host":"otherhost","pid":1,"lease_timeout_ms":1000,"job":null}\n' >"$g/lease"
chmod 0600 "$g"/*
runq recover
rc_is 75 "recover leaves the lease of another host whose job still runs"
check "... but waits for the other one and reclaims it" test ! -e "$g"
check "f4 is still in the lease" test -e "$lease/f4.json"
check "and still runs" procs "$MARK f4"
jq_ok "the lease record says its worker's lease_timeout (2 s)" "$lease/lease" '.lease_timeout_ms == 2000'
kill -9 -- -"$pg"
wait_for 10 "f4's group has ended (as its own host's next worker would end it)" group_gone "$pg"
t0=$(now_ms)
runq recover
t1=$(now_ms)
rc_is 0 "then recover reclaims it"
check "... once it has been free for that lease_timeout + 1 s ($((t1 - t0)) ms)" test $((t1 - t0)) -ge 2900
check "f4 is settled as an interrupted attempt" in_state f4 failed
jq_ok "f4: worker died" "$SPOOL/failed/f4.json" '.last_error == "worker died"'

# A process that an ended job left behind holds the run lock too: once the
# record is idle (no job named) it does not keep the lease from another host.
fg_worker
w=$FG_PID
lease=$(lease_of "$w")
# (it says it is up once out of the job's process group, which the worker
# kills when the job ends)
runq enqueue --id bg1 "setsid bash -c ': >$TEST_DIR/bg-up; exec -a sleep-bg-$MARK sleep 300' >/dev/null 2>&1 & until [ -e $TEST_DIR/bg-up ]; do sleep 0.01; done"
wait_for 30 "bg1 is done, its background process left running" \
	eval "in_state bg1 done && procs sleep-bg-$MARK"
wait_for 30 "the lease record is idle" jq -e '.job == null' "$lease/lease"
kill -9 "$w"
wait_for 30 "bg1's worker is gone" dead_pid "$w"
jq -c '.host = "otherhost" | del(.lease_timeout_ms)' "$lease/lease" >"$TEST_DIR/rec" && cat "$TEST_DIR/rec" >"$lease/lease"
runq recover
rc_is 0 "recover reclaims another host's idle dead lease though a leftover process holds its run lock"
check "the lease is gone" test ! -e "$lease"
pkill -f "sleep-bg-$MARK"

# A worker that left such a lease tries it again every second: the job runs
# again soon after it ends there, not at the worker's next housekeeping
# (60 s).
start f5
kill -9 "$w"
wait_for 30 "f5's worker is gone" dead_pid "$w"
jq -c '.host = "otherhost"' "$lease/lease" >"$TEST_DIR/rec" && cat "$TEST_DIR/rec" >"$lease/lease"
fg_worker
w=$FG_PID
wait_for 30 "a new worker has started (its start reclaim is done)" grep -q "started, pid $w," "$log"
check "it left f5's lease while f5 runs" test -e "$lease/f5.json"
kill -9 -- -"$pg"
wait_for 10 "f5's group has ended" group_gone "$pg"
wait_for 10 "the worker reclaims the lease within seconds" test ! -e "$lease"
wait_for 30 "f5 runs again to done/" in_state f5 done
jq_ok "f5: 2 attempts, done" "$SPOOL/done/f5.json" '.attempts == 2 and .exit_code == 0'
kill "$w"
wait_for 30 "that worker stops" dead_pid "$w"

done_testing

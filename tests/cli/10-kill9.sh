#!/bin/bash
# 10-kill9: a worker killed with SIGKILL; `recover` or another worker
# reclaims its lease: the orphaned job is killed, the attempt counts
# ("worker died"), the lease directory goes away.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set backoff_base 1000 >/dev/null # retries far away: nothing re-runs by itself

runq recover
rc_is 0 "recover with nothing to do exits 0"
like "$out" "reclaimed 0 jobs from 0 dead workers" "... and says so"

# --- reclaimed by `queuectl recover` ------------------------------------------------
M1="sleep 1$MARK"
runq enqueue --id orphan1 --max-retries 2 "$M1"
start_workers 1
w1=${WPIDS[0]}
lease1=$(lease_of "$w1")
wait_for 30 "job running under worker 1" procs "$M1"
jq_ok "the lease record names the job and its process group" "$lease1/lease" '.job == "orphan1" and (.pgid | type) == "number"'
kill -9 "$w1"
wait_until 10 dead_pid "$w1"
check "worker 1 is dead" dead_pid "$w1"
check "its job's sleep outlives it (orphan)" procs "$M1"
check "its lease directory is still there" test -d "$lease1"
runq status --json
is "$(jq -r '.workers | length' <<<"$out" 2>/dev/null)" 0 "status --json does not count the dead worker"
runq recover
rc_is 0 "recover exits 0"
like "$out" "reclaimed 1 jobs? from 1 dead workers?" "recover says 1 job from 1 worker"
wait_for 5 "the orphaned sleep was killed" no_procs "$M1"
check "the lease directory is removed" absent "$lease1"
check "the job is in failed/ (retries left)" test -f "$SPOOL/failed/orphan1.json"
jq_ok "attempts counts the interrupted attempt (1)" "$SPOOL/failed/orphan1.json" '.attempts == 1'
jq_ok "last_error is 'worker died'" "$SPOOL/failed/orphan1.json" '.last_error == "worker died"'
jq_ok "state failed, with next_run_at" "$SPOOL/failed/orphan1.json" '.state == "failed" and .next_run_at != null'
check "its logs moved with it" test -f "$SPOOL/failed/orphan1.stdout"
check "processing/ is empty" test -z "$(ls -A "$SPOOL/processing")"
runq recover
like "$out" "reclaimed 0 jobs from 0 dead workers" "a second recover finds nothing"

# --- reclaimed by another worker at its start -----------------------------------------
M2="sleep 2$MARK"
runq enqueue --id orphan2 --max-retries 0 "$M2"
start_workers 1
w2=${WPIDS[0]}
lease2=$(lease_of "$w2")
wait_for 30 "orphan2 running under worker 2" procs "$M2"
kill -9 "$w2"
wait_until 10 dead_pid "$w2"
start_workers 1
w3=${WPIDS[0]}
rc_is 0 "another worker starts"
wait_for 30 "the new worker reclaims: orphan2 in dead/ (max-retries 0)" exists "$SPOOL/dead/orphan2.json"
jq_ok "orphan2: attempts 1, last_error 'worker died'" "$SPOOL/dead/orphan2.json" '.attempts == 1 and .last_error == "worker died"'
wait_for 5 "orphan2's sleep was killed" no_procs "$M2"
wait_for 10 "worker 2's lease directory removed" absent "$lease2"
check "the new worker is alive" alive "$w3"
runq worker stop
rc_is 0 "worker stop"

# --- the leader is gone but members of its group remain ---------------------------
M3="sleep 3$MARK"
runq enqueue --id orphan3 --max-retries 0 "$M3 & $M3 & wait"
start_workers 1
w4=${WPIDS[0]}
lease4=$(lease_of "$w4")
wait_for 30 "orphan3 running" bash -c "[ \$(pgrep -fc '^$M3') -eq 2 ]"
pg=$(jqf "$lease4/lease" .pgid)
kill -9 "$w4"
wait_until 10 dead_pid "$w4"
[[ $pg =~ ^[1-9][0-9]*$ ]] && kill -9 "$pg" # the group leader (sh) dies too
wait_until 10 dead_pid "$pg"
check "the group leader is gone, its two sleeps remain" test "$(pgrep -fc "^$M3")" -eq 2
runq recover
rc_is 0 "recover"
wait_for 5 "recover killed the remaining members of the job's group" no_procs "$M3"
jq_ok "orphan3: dead with 'worker died'" "$SPOOL/dead/orphan3.json" '.last_error == "worker died" and .attempts == 1'
check "its lease directory is removed" absent "$lease4"

# --- a job that kills its worker ends in dead/, never loops -------------------------
q config set backoff_base 1 >/dev/null
runq enqueue --id killer --max-retries 1 'echo "attempt $QUEUECTL_ATTEMPT"; kill -9 "${QUEUECTL_WORKER##*-}"; sleep 5'
killer_done() {
	dead_pid "${WPIDS[0]}" || [ -f "$SPOOL/dead/killer.json" ]
}
starts=0
while [ ! -f "$SPOOL/dead/killer.json" ] && [ $starts -lt 6 ]; do
	start_workers 1 || break
	starts=$((starts + 1))
	wait_until 30 killer_done
	q recover >/dev/null
done
check "a job that kills its worker ends in dead/ ($starts worker starts)" test -f "$SPOOL/dead/killer.json"
jq_ok "... after 2 attempts (1 + max_retries)" "$SPOOL/dead/killer.json" '.attempts == 2 and .last_error == "worker died"'
check "... worker started at most 4 times" test "$starts" -le 4
runq worker stop --now

# --- hand-made dead leases (crash at each step of the protocol) ----------------------
fake=$SPOOL/processing/fakehost-4000001
mkdir -m 700 "$fake"
: >"$fake/lock"
printf '{"worker":"fakehost-4000001","host":"fakehost","pid":4000001,"job":null}\n' >"$fake/lease"
# claimed, not started yet (crash after the rename): goes back unchanged
printf '{"id":"notstarted","command":"true","state":"pending","attempts":0,"created_at":"2026-01-01T00:00:00.000Z"}\n' >"$fake/notstarted.json"
cp "$fake/notstarted.json" "$TEST_DIR/notstarted.orig"
# started, not finished: counts as a failed attempt
printf '{"id":"started","command":"true","state":"processing","attempts":1,"max_retries":0,"created_at":"2026-01-01T00:00:00.000Z","started_at":"2026-01-01T00:00:01.000Z"}\n' >"$fake/started.json"
printf 'partial output\n' >"$fake/started.stdout"
# a log file left from a cut-short move: a link to the job's log in done/
printf '{"id":"moved","command":"true","state":"done","attempts":1,"exit_code":0,"created_at":"2026-01-01T00:00:00.000Z"}\n' >"$SPOOL/done/moved.json"
printf 'moved log\n' >"$SPOOL/done/moved.stdout"
ln "$SPOOL/done/moved.stdout" "$fake/moved.stdout"
chmod 600 "$fake"/*
runq recover
rc_is 0 "recover of a hand-made dead lease"
check "not-started job back in pending/" test -f "$SPOOL/pending/notstarted.json"
check "... unchanged" cmp "$TEST_DIR/notstarted.orig" "$SPOOL/pending/notstarted.json"
check "started job counted: dead/ (max_retries 0)" test -f "$SPOOL/dead/started.json"
jq_ok "... attempts 1, last_error 'worker died'" "$SPOOL/dead/started.json" '.attempts == 1 and .last_error == "worker died"'
check "... its log followed it" grep -qx 'partial output' "$SPOOL/dead/started.stdout"
check "leftover log link removed, the job's log kept" bash -c "[ -f '$SPOOL/done/moved.stdout' ] && [ \$(stat -c %h '$SPOOL/done/moved.stdout') = 1 ]"
check "the dead lease directory is removed" absent "$fake"
like "$out" "reclaimed 2 jobs? from 1 dead workers?" "recover counts 2 jobs from 1 worker"

# a lease whose worker is alive is left alone
start_workers 1
w5=${WPIDS[0]}
runq recover
like "$out" "reclaimed 0 jobs from 0 dead workers" "recover leaves a live worker's lease alone"
check "the live worker's lease is still there" worker_ready "$w5"

done_testing

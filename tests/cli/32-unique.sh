#!/bin/bash
# 32-unique: enqueue --unique / "unique": true refuses a job whose command is
# already pending, failed or running (exit 0, the existing id printed;
# --unique=strict: exit 73); done and dead jobs do not count; concurrent
# unique enqueues of one command leave one job; --batch too.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null

# count_cmd CMD: how many jobs in pending/ have the command CMD
count_cmd() {
	jq -r .command "$SPOOL"/pending/*.json | grep -cxF -- "$1"
}

# --- pending -----------------------------------------------------------------
runq enqueue --unique -- echo same
rc_is 0 "enqueue --unique of a new command"
first=$out
runq enqueue --unique -- echo same
rc_is 0 "the same command again with --unique exits 0"
is "$out" "$first" "... printing the existing job's id"
count_is pending 1 || not_ok "... and enqueues nothing"
check "tmp/ is empty" dirs_empty "$SPOOL/tmp"
jq_ok "the unique job's file says unique" "$SPOOL/pending/$first.json" '.unique == true'

runq enqueue --unique=strict -- echo same
rc_is 73 "--unique=strict with the command pending exits 73"
like "$err" "job $first \\(in pending/\\) has the same command" "... naming the job and where it is"
is "$out" "" "... printing no id"
count_is pending 1 || not_ok "... and enqueues nothing"

runq enqueue --unique --id mine -- echo same
is "$out" "$first" "--unique with --id: the existing job's id"
check "... no job 'mine'" absent "$SPOOL/pending/mine.json"

runq enqueue --unique '{"command":"echo same","priority":3}'
is "$out" "$first" "a JSON job with other fields but the same command is refused too"
runq enqueue '{"command":"echo same","unique":true}'
rc_is 0 "\"unique\": true in the JSON"
is "$out" "$first" "... refuses it the same way"
(cd / && q enqueue --unique -- echo same) >"$TEST_DIR/o" 2>&1
is "$(cat "$TEST_DIR/o")" "$first" "another cwd does not make it another command"

runq enqueue -- echo same
rc_is 0 "without --unique the same command is enqueued again"
unlike "$out" "^$first\$" "... as a new job"
second=$out
count_is pending 2 || not_ok "two jobs pending"
runq enqueue --unique -- echo 'same '
unlike "$out" "^($first|$second)\$" "a command that differs by a blank is another command"
third=$out

runq enqueue --unique=yes true
rc_is 64 "--unique=yes is a usage error"
runq enqueue '{"command":"true","unique":"yes"}'
rc_is 65 "\"unique\": \"yes\" is bad job data"

# --- running and failed count; done and dead do not --------------------------------
q enqueue --id run1 -- sh -c "touch '$TEST_DIR/run1.started'; while [ ! -e '$TEST_DIR/run1.go' ]; do sleep 0.05; done; exit 1" >/dev/null
q enqueue --id dies --max-retries 0 -- sh -c 'exit 3' >/dev/null
rm -f "$SPOOL/pending/$first.json" "$SPOOL/pending/$second.json" "$SPOOL/pending/$third.json"
q config set backoff_base 1000 >/dev/null   # a failed job stays in failed/
start_workers 1
wait_for 30 "run1 is running" exists "$TEST_DIR/run1.started"
runq enqueue --unique -- sh -c "touch '$TEST_DIR/run1.started'; while [ ! -e '$TEST_DIR/run1.go' ]; do sleep 0.05; done; exit 1"
is "$out" "run1" "a running job's command counts (the running job's id)"
runq enqueue --unique=strict -- sh -c "touch '$TEST_DIR/run1.started'; while [ ! -e '$TEST_DIR/run1.go' ]; do sleep 0.05; done; exit 1"
rc_is 73 "... --unique=strict exits 73"
like "$err" "in processing/" "... saying it is in processing/"
touch "$TEST_DIR/run1.go"
wait_for 30 "run1 fails and waits in failed/" exists "$SPOOL/failed/run1.json"
runq enqueue --unique -- sh -c "touch '$TEST_DIR/run1.started'; while [ ! -e '$TEST_DIR/run1.go' ]; do sleep 0.05; done; exit 1"
is "$out" "run1" "a failed job waiting for its retry counts"
wait_for 30 "the dying job is dead" exists "$SPOOL/dead/dies.json"
runq enqueue --unique --id dies2 -- sh -c 'exit 3'
is "$out" "dies2" "a dead job does not count"
q enqueue --id donejob -- echo done-once >/dev/null
wait_for 30 "donejob is done" exists "$SPOOL/done/donejob.json"
runq enqueue --unique --id donejob2 -- echo done-once
is "$out" "donejob2" "a done job does not count"
runq worker stop

# --- held jobs count (hold/, when the spool has it) --------------------------------------
mkdir -p "$SPOOL/hold" && chmod 0700 "$SPOOL/hold"
printf '{"id":"held1","command":"echo held"}\n' >"$SPOOL/hold/held1.json"
runq enqueue --unique -- echo held
is "$out" "held1" "a job in hold/ counts"
runq enqueue --unique=strict -- echo held
like "$err" "held1 \\(in hold/\\)" "... --unique=strict says it is in hold/"
rm -f "$SPOOL/hold/held1.json"

# --- concurrent unique enqueues leave one job ----------------------------------------
# 1,000 other jobs pending make the check long enough for the enqueues to
# overlap (without the lock, several would find no job and enqueue)
seq 1000 | sed 's/^/echo filler /' | q enqueue --batch --no-sync >/dev/null
for i in 1 2 3 4 5 6 7 8; do
	"$QUEUECTL" enqueue --unique -- echo concurrent >"$TEST_DIR/c$i.out" 2>"$TEST_DIR/c$i.err" &
	pids[i]=$!
done
allok=1
for i in 1 2 3 4 5 6 7 8; do
	wait "${pids[i]}" || allok=0
done
is "$allok" 1 "8 concurrent --unique enqueues of one command all exit 0"
is "$(count_cmd 'echo concurrent')" 1 "... and leave exactly one job"
is "$(cat "$TEST_DIR"/c?.out | sort -u | wc -l)" 1 "... all printing the same id"
cid=$(cat "$TEST_DIR/c1.out")
check "... the id of the job in pending/" exists "$SPOOL/pending/$cid.json"
for i in 1 2 3 4 5 6; do
	"$QUEUECTL" enqueue --unique=strict -- echo strict-race >"$TEST_DIR/s$i.out" 2>/dev/null &
	pids[i]=$!
done
n0=0
for i in 1 2 3 4 5 6; do
	wait "${pids[i]}" && n0=$((n0 + 1))
done
is "$n0" 1 "6 concurrent --unique=strict enqueues: exactly one succeeds"
is "$(count_cmd 'echo strict-race')" 1 "... one job"

# --- --batch ------------------------------------------------------------------------------
run bash -c "printf 'echo b1\necho concurrent\necho b1\necho b2\n' | '$QUEUECTL' enqueue --batch --unique"
rc_is 0 "enqueue --batch --unique"
mapfile -t b <<<"$out"
is "${#b[@]}" 4 "... prints an id for every record"
is "${b[1]}" "$cid" "... the existing job's for a command already pending"
is "${b[2]}" "${b[0]}" "... and for a command repeated in the batch, the first one's"
is "$(count_cmd 'echo b1')" 1 "... one job per command"
run bash -c "printf 'echo b3\necho b1\necho b4\n' | '$QUEUECTL' enqueue --batch --unique=strict"
rc_is 73 "enqueue --batch --unique=strict stops at a command already pending"
like "$err" "record 2: job ${b[0]} \\(in pending/\\) has the same command" "... naming the record and the job"
is "$(wc -l <<<"$out")" 1 "... after printing the id of the record before it"
is "$(count_cmd 'echo b4')" 0 "... echo b4 was not enqueued"
run bash -c "printf '{\"command\":\"echo b1\",\"unique\":true}\n{\"command\":\"echo b1\"}\n' | '$QUEUECTL' enqueue --batch"
mapfile -t b2 <<<"$out"
is "${b2[0]}" "${b[0]}" "a batch record with \"unique\": true is checked"
unlike "${b2[1]}" "^${b[0]}\$" "... one without it is not"
check "tmp/ is empty" dirs_empty "$SPOOL/tmp"

done_testing

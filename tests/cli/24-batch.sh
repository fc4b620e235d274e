#!/bin/bash
# 24-batch: enqueue --batch and --batch0: one job a record from standard
# input, one id a line printed once the group is durable, options applied to
# every job, a bad record stops the run after the jobs before it, and
# records that arrive slowly are acknowledged without waiting for the end.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null

# --- lines: JSON jobs and command lines, blank lines skipped -----------------
run bash -c 'printf "echo one\n\n{\"id\":\"two\",\"command\":\"echo two\",\"max_retries\":7}\n   \necho three" |
	"$QUEUECTL" enqueue --batch --priority 5'
rc_is 0 "enqueue --batch of three records"
mapfile -t ids <<<"$out"
is "${#ids[@]}" 3 "... prints three ids"
is "${ids[1]}" two "... in input order, the JSON job's own id"
check "... the ids sort in order of creation" bash -c "[[ '${ids[0]}' < '${ids[2]}' ]]"
for id in "${ids[@]}"; do
	jq_ok "pending/$id.json has priority 5 from the option" "$SPOOL/pending/$id.json" '.priority == 5'
done
jq_ok "the command line is stored as it is" "$SPOOL/pending/${ids[0]}.json" '.command == "echo one"'
jq_ok "the last record needs no newline" "$SPOOL/pending/${ids[2]}.json" '.command == "echo three"'
jq_ok "JSON fields are kept" "$SPOOL/pending/two.json" '.max_retries == 7 and .attempts == 0 and .state == "pending"'
jq_ok "each job records the caller's directory" "$SPOOL/pending/two.json" ".cwd == \"$TEST_DIR/work\""
check "tmp/ is empty" dirs_empty "$SPOOL/tmp"

# --- NUL-separated commands may hold newlines -----------------------------------
run bash -c 'printf "printf %%s\\\\n a b\0echo x\0" | "$QUEUECTL" enqueue --batch0 --no-sync'
rc_is 0 "enqueue --batch0"
mapfile -t ids0 <<<"$out"
is "${#ids0[@]}" 2 "... two ids"
jq_ok "... a record with a newline is one command" "$SPOOL/pending/${ids0[0]}.json" '.command == "printf %s\\n a b"'

# --- a bad record: the ones before it are enqueued and printed -------------------
before=$(count_json "$SPOOL/pending")
run bash -c 'printf "echo ok1\necho ok2\n{not json\necho never\n" | "$QUEUECTL" enqueue --batch'
rc_is 65 "a bad JSON record exits 65"
like "$err" "record 3: bad job" "... naming its record number"
is "$(wc -l <<<"$out")" 2 "... after printing the two ids before it"
count_is pending $((before + 2)) || not_ok "... and exactly those two are pending"
check "... 'echo never' was not enqueued" bash -c "! grep -l 'echo never' '$SPOOL'/pending/*.json"
check "tmp/ is still empty" dirs_empty "$SPOOL/tmp"

run bash -c 'printf "{\"id\":\"dupb\",\"command\":\"true\"}\n\n{\"id\":\"dupb\",\"command\":\"false\"}\n" | "$QUEUECTL" enqueue --batch'
rc_is 73 "a duplicate id in the batch exits 73"
like "$err" "record 3: job dupb already exists" "... naming the record and the id"
is "$out" "dupb" "... after printing the first"
jq_ok "... the first one is kept" "$SPOOL/pending/dupb.json" '.command == "true"'

run bash -c "printf 'echo %s\n' \"\$(printf 'a\xffb')\" | \"\$QUEUECTL\" enqueue --batch"
rc_is 65 "a command that is not UTF-8 exits 65"

# --- usage ---------------------------------------------------------------------
runq enqueue --batch echo hi </dev/null
rc_is 64 "--batch with a command on the line is a usage error"
runq enqueue --batch --id x </dev/null
rc_is 64 "--batch with --id is a usage error"
runq enqueue --batch </dev/null
rc_is 0 "--batch with empty input enqueues nothing and succeeds"
is "$out" "" "... printing nothing"

# --- a slow producer: each record is acknowledged before the next arrives -------
fifo=$TEST_DIR/fifo
mkfifo "$fifo"
"$QUEUECTL" enqueue --batch <"$fifo" >"$TEST_DIR/slow.out" 2>"$TEST_DIR/slow.err" &
bpid=$!
BG_PIDS+=("$bpid")
exec 7>"$fifo"
echo "echo slow1" >&7
wait_for 20 "the first record's id is printed while stdin stays open" \
	bash -c "[ \$(wc -l <'$TEST_DIR/slow.out') -eq 1 ]"
id1=$(head -n 1 "$TEST_DIR/slow.out")
check "... and its job is pending" test -f "$SPOOL/pending/$id1.json"
echo "echo slow2" >&7
wait_for 20 "the second record's id follows" bash -c "[ \$(wc -l <'$TEST_DIR/slow.out') -eq 2 ]"
# a job with an id of its own takes SPOOL/lock: released before the next
# read blocks, not held while the producer is silent
echo '{"id":"slow3","command":"true"}' >&7
wait_for 20 "a record with its own id is acknowledged" bash -c "[ \$(wc -l <'$TEST_DIR/slow.out') -eq 3 ]"
check "... and SPOOL/lock is free while stdin stays open" flock -n "$SPOOL/lock" true
exec 7>&-
wait_until 20 dead_pid "$bpid"
wait "$bpid"
is "$?" 0 "enqueue --batch exits 0 at the end of its input"

# --- input ends the run after jobs were queued: they are printed first -----
# (from a regular file, always readable: no pause in the input flushes the
# group before the bad record is read)
before=$(count_json "$SPOOL/pending")
{ echo "echo big-before"; head -c 2200000 /dev/zero | tr "\0" x; echo; } >"$TEST_DIR/big.in"
run bash -c '"$QUEUECTL" enqueue --batch <"$1"' _ "$TEST_DIR/big.in"
rc_is 65 "a record over the size limit after a good one: 65"
like "$err" "record 2: larger than" "... the error names record 2"
like "$out" "^[0-9]{8}-[0-9]{6}\.[0-9]{3}-[0-9a-z]{6}\$" "... the job queued before it has its id printed, alone"
check "... and that job is in pending/" test -f "$SPOOL/pending/$out.json"
is "$(count_json "$SPOOL/pending")" "$((before + 1))" "... one job more in pending/"

# --- many jobs: all enqueued, every one run once ------------------------------
seq 1 1000 | sed 's/^/true #/' | "$QUEUECTL" enqueue --batch --no-sync >"$TEST_DIR/many.out"
is "$(wc -l <"$TEST_DIR/many.out")" 1000 "1,000 records: 1,000 ids"
is "$(sort -u "$TEST_DIR/many.out" | wc -l)" 1000 "... all distinct"
total=$(count_json "$SPOOL/pending")
start_workers 2
wait_for 120 "all $total jobs reach done/" count_is done "$total"
runq worker stop
rc_is 0 "worker stop"

done_testing

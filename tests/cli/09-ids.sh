#!/bin/bash
# 09-ids: hostile ids refused (65, nothing created), duplicates refused (73)
# wherever the first one is, concurrent enqueues of one id.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null

# spool_is_empty: no job file anywhere in the spool, nothing in tmp/
spool_is_empty() {
	local f
	f=$(find "$SPOOL" -mindepth 1 ! -path "$SPOOL/config" ! -path "$SPOOL/lock" ! -path "$SPOOL/worker.log" \
		! -path "$SPOOL/tmp" ! -path "$SPOOL/pending" ! -path "$SPOOL/processing" \
		! -path "$SPOOL/done" ! -path "$SPOOL/failed" ! -path "$SPOOL/dead" ! -path "$SPOOL/hold" ! -path "$SPOOL/cancel")
	[ -z "$f" ] || {
		echo "unexpected: $f"
		return 1
	}
}

long129=$(printf 'a%.0s' $(seq 1 129))
long128=$(printf 'b%.0s' $(seq 1 128))
bad_ids=("../x" "a/b" "" ".hidden" "-x" "$long129" $'a\nb' "héllo" "a b" "_x" "x/" "." ".." "a:b" "tab	x" "/abs" "a\\b" '$x' "ü")
i=0
for id in "${bad_ids[@]}"; do
	i=$((i + 1))
	shown=$(printf '%q' "$id")
	[ ${#shown} -gt 40 ] && shown="${shown:0:20}...(${#id} chars)"
	runq enqueue --id "$id" "touch $TEST_DIR/ran-$i"
	rc_is 65 "enqueue --id $shown exits 65"
	is "$out" "" "enqueue --id $shown prints no id"
	like "$err" '^queuectl: ' "enqueue --id $shown: error message on stderr"
	json=$(jq -cn --arg id "$id" --arg c "touch $TEST_DIR/ranj-$i" '{id: $id, command: $c}')
	runq enqueue "$json"
	rc_is 65 "enqueue JSON with id $shown exits 65"
done
check "hostile ids created nothing in the spool" spool_is_empty
check "... nor outside it" bash -c "[ ! -e '$TEST_DIR/x' ] && [ ! -e '$SPOOL/x' ] && [ ! -e '$SPOOL/x.json' ] && [ ! -e '$TEST_DIR/x.json' ]"
runq enqueue --id=../y true
rc_is 65 "enqueue --id=../y exits 65"
run bash -c "printf '{\"id\":\"../z\",\"command\":\"true\"}' | \"\$QUEUECTL\" enqueue -"
rc_is 65 "enqueue - with id ../z exits 65"
check "still nothing created" spool_is_empty

# ids at the limits are accepted
for id in "$long128" A 9 "a.b_c-d" "x..y" "Z-"; do
	runq enqueue --id "$id" true
	rc_is 0 "valid id '${id:0:30}' (${#id} chars) accepted"
	check "... stored as pending/<id>.json" test -f "$SPOOL/pending/$id.json"
done

# --- duplicates -------------------------------------------------------------------------
runq enqueue --id dup1 'echo first'
rc_is 0 "enqueue --id dup1"
cp "$SPOOL/pending/dup1.json" "$TEST_DIR/dup1.saved"
runq enqueue --id dup1 'echo second'
rc_is 73 "duplicate of a pending job exits 73"
like "$err" "dup1" "the message names the id"
like "$err" "already exists" "the message says it already exists"
check "the first job is unchanged" cmp "$TEST_DIR/dup1.saved" "$SPOOL/pending/dup1.json"
runq enqueue '{"id":"dup1","command":"echo third"}'
rc_is 73 "duplicate by JSON exits 73"
check "tmp/ is empty after refused duplicates" test -z "$(ls -A "$SPOOL/tmp")"

runq enqueue --id dupdone 'echo done-once'
runq enqueue --id dupdead --max-retries 0 'exit 1'
runq enqueue --id dupfailed --max-retries 5 'exit 1'
runq enqueue --id duprun "sleep 30; sleep $MARK"
q config set backoff_base 1000 >/dev/null
# run them with a worker; the low-priority sleep last
start_workers 1
wait_for 30 "dupdone done" exists "$SPOOL/done/dupdone.json"
wait_for 30 "dupdead dead" exists "$SPOOL/dead/dupdead.json"
wait_for 30 "dupfailed failed (retry far away)" exists "$SPOOL/failed/dupfailed.json"
wait_for 30 "duprun running" in_state duprun processing
runq enqueue --id dupdone true
rc_is 73 "duplicate of a done job exits 73"
like "$err" "done" "the message says where (done/)"
runq enqueue --id dupdead true
rc_is 73 "duplicate of a dead job exits 73"
runq enqueue --id dupfailed true
rc_is 73 "duplicate of a failed job exits 73"
runq enqueue --id duprun true
rc_is 73 "duplicate of a running job exits 73"
runq worker stop --now
check "done job still done and unchanged" jq -e '.command == "echo done-once" and .attempts == 1' "$SPOOL/done/dupdone.json"

# --- concurrent enqueues of one id -------------------------------------------------------
for i in $(seq 1 10); do
	("$QUEUECTL" enqueue --id race1 "echo racer $i" >"$TEST_DIR/race.out.$i" 2>"$TEST_DIR/race.err.$i"; echo $? >"$TEST_DIR/race.rc.$i") &
done
wait
is "$(cat "$TEST_DIR"/race.rc.* | grep -cx 0)" 1 "10 concurrent enqueues of one id: exactly one succeeds"
is "$(cat "$TEST_DIR"/race.rc.* | grep -cx 73)" 9 "... the 9 others exit 73"
check "... one pending/race1.json" test -f "$SPOOL/pending/race1.json"
is "$(find "$SPOOL" -name 'race1*' | wc -l)" 1 "... and no other copy anywhere"
winner=$(grep -lx 0 "$TEST_DIR"/race.rc.* | head -n1)
winner=${winner##*.}
jq_ok "... holding the winner's command" "$SPOOL/pending/race1.json" ".command == \"echo racer $winner\""
check "tmp/ is empty after the race" test -z "$(ls -A "$SPOOL/tmp")"

# concurrent enqueues without ids: all distinct
for i in $(seq 1 30); do
	("$QUEUECTL" enqueue --no-sync true >"$TEST_DIR/gen.$i") &
done
wait
is "$(cat "$TEST_DIR"/gen.* | sort -u | wc -l)" 30 "30 concurrent enqueues get 30 distinct ids"
n=0
for id in $(cat "$TEST_DIR"/gen.*); do
	[ -f "$SPOOL/pending/$id.json" ] && n=$((n + 1))
done
is "$n" 30 "... and 30 files in pending/"

# show/logs/dlq retry refuse hostile ids too
runq show ../x
rc_in "64 65 66" "show ../x is refused"
runq logs ../../etc/passwd
rc_in "64 65 66" "logs ../../etc/passwd is refused"
unlike "$out" "root:" "... and prints nothing from /etc/passwd"
runq dlq retry ../x
rc_in "64 65 66" "dlq retry ../x is refused"

done_testing

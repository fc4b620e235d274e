#!/bin/bash
# 08-dropin: jobs dropped into pending/ by hand (tmp + mv, or written in
# place); malformed entries are quarantined in dead/ with their reason, the
# bytes unchanged, and the worker keeps going.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
P=$SPOOL/pending
T=$SPOOL/tmp

# a job dropped while no worker runs is found by the start-up scan
printf '{"command":"echo before-start"}\n' >"$T/x0"
mv "$T/x0" "$P/before.json"

start_workers 1
wpid=${WPIDS[0]}
wait_for 30 "a job dropped before the worker started runs" exists "$SPOOL/done/before.json"

# --- good drop-ins ------------------------------------------------------------------
printf '{"command":"echo dropped > %s/drop1.out"}' "$TEST_DIR" >"$T/x1"
mv "$T/x1" "$P/drop1.json"
wait_for 30 "tmp/ + mv into pending/: picked up by the running worker" exists "$SPOOL/done/drop1.json"
jq_ok "drop1: the id is filled in from the file name" "$SPOOL/done/drop1.json" '.id == "drop1"'
jq_ok "drop1: attempts 1, exit_code 0, state done" "$SPOOL/done/drop1.json" '.attempts == 1 and .exit_code == 0 and .state == "done"'
check "drop1 ran" grep -qx dropped "$TEST_DIR/drop1.out"

printf '{"command":"echo direct","meta":{"owner":"me"}}' >"$P/direct1.json"
wait_for 30 "file written directly into pending/ (printf >) is picked up" exists "$SPOOL/done/direct1.json"
jq_ok "unknown fields of a drop-in are kept" "$SPOOL/done/direct1.json" '.meta.owner == "me"'
check "its output" grep -qx direct "$SPOOL/done/direct1.stdout"

printf '{"id":"withid","command":"echo with-id"}' >"$P/withid.json"
wait_for 30 "drop-in whose id field matches the name runs" exists "$SPOOL/done/withid.json"

# written slowly: must wait until it is closed, not be quarantined half-written
(
	printf '{"comm'
	sleep 1
	printf 'and":"echo slow-writer"}'
) >"$P/slowwrite.json"
wait_for 30 "a file written slowly in place runs once closed" exists "$SPOOL/done/slowwrite.json"
check "... and was not quarantined" absent "$SPOOL/dead/slowwrite.invalid"

printf '{"command":"echo hidden"}' >"$P/.hidden.json"

# --- malformed drop-ins ---------------------------------------------------------------
names=()
# drop NAME CONTENT: write content to tmp/ and mv it to pending/NAME.json
drop() {
	printf '%s' "$2" >"$T/.d-$1"
	cp "$T/.d-$1" "$TEST_DIR/orig-$1"
	mv "$T/.d-$1" "$P/$1.json"
	names+=("$1")
}
drop badjson '{"command": "echo x",'
drop nocmd '{"id":"nocmd","priority":1}'
drop mismatch "{\"id\":\"other\",\"command\":\"touch $TEST_DIR/mismatch-ran\"}"
drop badstate "{\"command\":\"touch $TEST_DIR/badstate-ran\",\"state\":\"bogus\"}"
drop notobject '["echo","x"]'
drop cmdnumber '{"command":42}'
drop badprio "{\"command\":\"touch $TEST_DIR/badprio-ran\",\"priority\":\"high\"}"
drop empty ''
printf '{not json at all' >"$TEST_DIR/orig-inplace"
printf '{not json at all' >"$P/inplace.json"
names+=(inplace)

# a symlink to a valid job: never followed
printf '{"command":"touch %s/symlink-ran"}' "$TEST_DIR" >"$TEST_DIR/target.json"
cp "$TEST_DIR/target.json" "$TEST_DIR/target.orig"
ln -s "$TEST_DIR/target.json" "$T/.lnk"
mv "$T/.lnk" "$P/link.json"
# a FIFO: opening it would block a careless worker forever
mkfifo "$T/.fifo"
mv "$T/.fifo" "$P/fifo.json"
# a directory
mkdir "$T/.dir"
mv "$T/.dir" "$P/dir.json"
# a file name that is not a valid id
printf "{\"command\":\"touch $TEST_DIR/badname-ran\"}" >"$T/.bn"
cp "$T/.bn" "$TEST_DIR/orig-badname"
mv "$T/.bn" "$P/bad name.json"

# and after all that, a good job
printf '{"command":"echo still-alive"}' >"$T/.good"
mv "$T/.good" "$P/afterbad.json"
wait_for 30 "a good job dropped after the bad ones still runs" exists "$SPOOL/done/afterbad.json"
check "the worker is still running" alive "$wpid"

for n in "${names[@]}"; do
	wait_for 30 "$n: quarantined as dead/$n.invalid" exists "$SPOOL/dead/$n.invalid"
	check "$n: removed from pending/" absent "$P/$n.json"
	check "$n: original bytes unchanged" cmp "$TEST_DIR/orig-$n" "$SPOOL/dead/$n.invalid"
	check "$n: dead/$n.reason names the file" grep -qx "file: $n.json" "$SPOOL/dead/$n.reason"
	check "$n: dead/$n.reason has a reason" grep -qE '^reason: .+' "$SPOOL/dead/$n.reason"
	check "$n: dead/$n.reason has a time" grep -qE '^time: .+' "$SPOOL/dead/$n.reason"
done
check "missing command: the reason says so" grep -qi 'command' "$SPOOL/dead/nocmd.reason"
check "id mismatch: the reason says so" grep -qi 'id' "$SPOOL/dead/mismatch.reason"
check "unknown state: the reason says so" grep -qi 'state' "$SPOOL/dead/badstate.reason"
for f in mismatch-ran badstate-ran badprio-ran badname-ran; do
	check "a quarantined job never ran ($f)" absent "$TEST_DIR/$f"
done

wait_for 30 "symlink: quarantined as dead/link.invalid" exists "$SPOOL/dead/link.invalid"
check "symlink: the entry moved is the link itself" test -L "$SPOOL/dead/link.invalid"
check "symlink: its target untouched" cmp "$TEST_DIR/target.json" "$TEST_DIR/target.orig"
check "symlink: the target job was never run" absent "$TEST_DIR/symlink-ran"
check "symlink: reason written" grep -qE '^reason: .+' "$SPOOL/dead/link.reason"
wait_for 30 "FIFO: quarantined as dead/fifo.invalid" exists "$SPOOL/dead/fifo.invalid"
check "FIFO: still a FIFO" test -p "$SPOOL/dead/fifo.invalid"
check "FIFO: reason written" grep -qE '^reason: .+' "$SPOOL/dead/fifo.reason"
wait_for 30 "directory: quarantined as dead/dir.invalid" exists "$SPOOL/dead/dir.invalid"
check "directory: still a directory" test -d "$SPOOL/dead/dir.invalid"
check "directory: reason written" grep -qE '^reason: .+' "$SPOOL/dead/dir.reason"

wait_for 30 "a file whose name is not a valid id is quarantined" bash -c "grep -lx 'file: bad name.json' '$SPOOL'/dead/*.reason"
r=$(grep -lx 'file: bad name.json' "$SPOOL"/dead/*.reason 2>/dev/null | head -n1)
qid=$(basename "${r:-x.reason}" .reason)
like "$qid" '^[A-Za-z0-9][A-Za-z0-9._-]*$' "... under a generated qid ($qid)"
check "... bytes unchanged" cmp "$TEST_DIR/orig-badname" "$SPOOL/dead/$qid.invalid"

check "dot files in pending/ are left alone" test -f "$P/.hidden.json"
check "the worker is still running after the bad files" alive "$wpid"
check "nothing left in pending/ but the dot file" test "$(ls "$P" | wc -l)" -eq 0

# --- duplicates ----------------------------------------------------------------------
cp "$SPOOL/done/drop1.json" "$TEST_DIR/drop1.saved"
printf "{\"command\":\"touch $TEST_DIR/dup-ran\"}" >"$T/.dup"
cp "$T/.dup" "$TEST_DIR/orig-dup"
mv "$T/.dup" "$P/drop1.json"
wait_for 30 "a drop-in duplicating a done job is quarantined" bash -c "grep -lx 'file: drop1.json' '$SPOOL'/dead/*.reason"
r=$(grep -lx 'file: drop1.json' "$SPOOL"/dead/*.reason 2>/dev/null | head -n1)
qid=$(basename "${r:-x.reason}" .reason)
check "... its bytes unchanged" cmp "$TEST_DIR/orig-dup" "$SPOOL/dead/$qid.invalid"
check "... the done job untouched" cmp "$TEST_DIR/drop1.saved" "$SPOOL/done/drop1.json"
check "... and it never ran" absent "$TEST_DIR/dup-ran"

# a second bad file with a name already used in dead/ gets another qid
printf 'garbage' >"$T/.g2"
mv "$T/.g2" "$P/badjson.json"
wait_for 30 "a second bad 'badjson.json' is quarantined too" bash -c "[ \$(grep -lx 'file: badjson.json' '$SPOOL'/dead/*.reason | wc -l) -eq 2 ]"
check "the first quarantined copy is unchanged" cmp "$TEST_DIR/orig-badjson" "$SPOOL/dead/badjson.invalid"

# --- the DLQ shows quarantined files ------------------------------------------------
runq dlq list
rc_is 0 "dlq list exits 0"
like "$out" "nocmd" "dlq list shows a quarantined file"
runq dlq list --json
rc_is 0 "dlq list --json exits 0"
printf '%s' "$out" >"$TEST_DIR/dlq.json"
jq_ok "dlq list --json: quarantined entry has invalid, reason, file" "$TEST_DIR/dlq.json" \
	'map(select(.id == "nocmd"))[0] | .invalid == true and .state == "dead" and (.reason | length) > 0 and .file == "nocmd.json"'
cp "$SPOOL/dead/nocmd.invalid" "$TEST_DIR/nocmd.before"
runq dlq retry nocmd
check "dlq retry of a quarantined file is refused (exit $rc)" test "$rc" -ne 0
check "... and it stays in dead/ unchanged" cmp "$TEST_DIR/nocmd.before" "$SPOOL/dead/nocmd.invalid"
runq dlq retry --all
rc_is 0 "dlq retry --all with only quarantined files"
check "dlq retry --all leaves quarantined files alone" test -f "$SPOOL/dead/badjson.invalid"

# fixing a quarantined file and moving it back works
printf '{"command":"echo fixed"}' >"$T/.fix"
mv "$T/.fix" "$P/nocmd.json"
wait_for 30 "a fixed file moved back to pending/ runs" exists "$SPOOL/done/nocmd.json"
check "the worker is still running at the end" alive "$wpid"

done_testing

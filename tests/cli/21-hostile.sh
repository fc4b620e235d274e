#!/bin/bash
# 21-hostile: hostile job data, through enqueue and as drop-in files: 100 MB
# of JSON, 10,000 levels of nesting, duplicate keys, wrong types, huge
# numbers, invalid UTF-8. Each is refused (enqueue, 65) or quarantined with
# its reason and its bytes kept (drop-in); the worker keeps running.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
python3 - "$TEST_DIR" <<'PY'
import sys
d = sys.argv[1]
with open(d + "/big.json", "w") as f:
    f.write('{"command":"true","pad":"' + "A" * (100 * 1024 * 1024) + '"}')
with open(d + "/deep.json", "w") as f:
    f.write('{"command":"true","x":' + "[" * 10000 + "]" * 10000 + "}")
cases = {
    "dupkey": b'{"command":"echo a","command":"rm -rf /tmp/nothing"}',
    "wrongtype": b'{"command":["echo","a"]}',
    "hugeprio": b'{"command":"true","priority":1e300}',
    "negretries": b'{"command":"true","max_retries":-1}',
    "hugetimeout": b'{"command":"true","timeout":99999999999}',
    "badutf8": b'{"command":"echo \xff\xfe"}',
    "nan": b'{"command":"true","priority":NaN}',
}
for name, data in cases.items():
    with open(d + "/" + name + ".json", "wb") as f:
        f.write(data)
PY
names="big deep dupkey wrongtype hugeprio negretries hugetimeout badutf8 nan"

for n in $names; do
	Q_TIMEOUT=30 run q enqueue - <"$TEST_DIR/$n.json"
	rc_is 65 "enqueue - of $n is refused (65)"
done
check "nothing was enqueued" test "$(count_json "$SPOOL/pending")" -eq 0

fg_worker
for n in $names; do
	cp "$TEST_DIR/$n.json" "$SPOOL/tmp/$n"
	mv "$SPOOL/tmp/$n" "$SPOOL/pending/$n.json"
done
for n in $names; do
	wait_for 30 "drop-in $n is quarantined" exists "$SPOOL/dead/$n.reason"
	check "... its bytes are kept" cmp -s "$TEST_DIR/$n.json" "$SPOOL/dead/$n.invalid"
done
like "$(cat "$SPOOL/dead/big.reason")" "too large" "the 100 MB file: reason says too large"
like "$(cat "$SPOOL/dead/dupkey.reason")" "duplicate key" "duplicate keys: reason names them"
like "$(cat "$SPOOL/dead/badutf8.reason")" "UTF-8" "invalid UTF-8: reason says so"
runq enqueue --id after 'echo still here'
wait_for 20 "the worker still runs jobs afterwards" exists "$SPOOL/done/after.json"
check "the worker is alive" alive "$FG_PID"
rm -f "$SPOOL/dead/big.invalid" "$TEST_DIR/big.json"

# --- what the fuzzers found (their inputs are seeds in tests/fuzz/corpus/) ----
runq enqueue -- printf "$(printf 'a\xffb')"
rc_is 65 "enqueue -- WORDS that are not UTF-8 exits 65"
like "$err" "not valid UTF-8" "... saying the command is not valid UTF-8"
# --- what enqueue adds to a job must not make a file that workers refuse --------
mkdir -p "$TEST_DIR/$(printf 'd\xff')"
(cd "$TEST_DIR/$(printf 'd\xff')" && "$QUEUECTL" enqueue true) >/dev/null 2>"$TEST_DIR/err" && rc=0 || rc=$?
is "$rc" 65 "enqueue from a directory whose name is not UTF-8 exits 65"
like "$(cat "$TEST_DIR/err")" "not valid UTF-8" "... saying so"
runq enqueue --cwd "$TEST_DIR/$(printf 'd\xff')" true
rc_is 65 "enqueue --cwd DIR not UTF-8 exits 65"
runq enqueue --env "X=$(printf '\xfe')" true
rc_is 65 "enqueue --env with a value not UTF-8 exits 65"
python3 -c 'import json; print(json.dumps({"command": "echo " + "a" * (1048576 - 60)}))' >"$TEST_DIR/nearly.json"
run bash -c '"$QUEUECTL" enqueue - <"$1"' _ "$TEST_DIR/nearly.json"
rc_is 65 "a job under 1 MiB that enqueue's own fields push over it exits 65"
like "$err" "larger than 1040384 bytes" "... saying so"
python3 -c 'import json; print(json.dumps({"command": "echo " + "a" * (1048576 - 1000)}))' >"$TEST_DIR/nearly.json"
run bash -c '"$QUEUECTL" enqueue - <"$1"' _ "$TEST_DIR/nearly.json"
rc_is 65 "a job that would leave workers less than 8 KiB of room under 1 MiB exits 65"
check "... and none of them left a file in tmp/ or pending/" bash -c "[ -z \"\$(ls -A '$SPOOL/tmp' '$SPOOL/pending' | grep -v ':\$' | grep .)\" ]"
python3 -c 'import json; print(json.dumps({"command": "true", "meta": "a" * (1048576 - 8192 - 2000)}))' >"$TEST_DIR/roomy.json"
run bash -c '"$QUEUECTL" enqueue --id roomy - <"$1"' _ "$TEST_DIR/roomy.json"
rc_is 0 "one with room left is enqueued"
wait_for 30 "... runs, and its file, grown by what the worker adds, is still a job in done/" \
	bash -c '"$QUEUECTL" show roomy >/dev/null && [ -f "$1/done/roomy.json" ]' _ "$SPOOL"
check "... not quarantined" absent "$SPOOL/dead/roomy.invalid"
# The same rule for a job dropped in: one under 1 MiB that leaves workers
# less than 8 KiB is quarantined unrun (its rewrite would pass 1 MiB).
python3 -c 'import json; print(json.dumps({"command": "touch '"$TEST_DIR"'/tight-ran", "meta": "a" * (1048576 - 200)}))' >"$SPOOL/tmp/tight"
mv "$SPOOL/tmp/tight" "$SPOOL/pending/tight.json"
wait_for 30 "a dropped-in job leaving less than 8 KiB under 1 MiB is quarantined" \
	eval 'exists "$SPOOL/dead/tight.invalid" && exists "$SPOOL/dead/tight.reason"'
like "$(cat "$SPOOL/dead/tight.reason" 2>&1)" "too large" "... the reason says too large"
check "... it did not run" absent "$TEST_DIR/tight-ran"
runq enqueue --run-at 1970-01-01T00:00:00+01:00 true
rc_is 64 "--run-at before 1970 (by its offset) is refused"
runq enqueue --run-at 9999-12-31T23:59:59-01:00 true
rc_is 64 "--run-at after 9999 (by its offset) is refused"
runq enqueue --id kw --delay 1h -- time true
rc_is 0 "enqueue -- time true"
jq_ok "... 'time' is quoted: it runs the command, not bash's keyword" \
	"$SPOOL/pending/kw.json" '.command == "'"'time'"' true"'
printf '{"command":"true","a\\n":1,"a\\n":2}' >"$SPOOL/tmp/nl"
mv "$SPOOL/tmp/nl" "$SPOOL/pending/nl.json"
wait_for 20 "a duplicate key with a newline is quarantined" exists "$SPOOL/dead/nl.reason"
check "... its reason is one line, the key shown escaped" \
	grep -qxF 'reason: duplicate key "a\n"' "$SPOOL/dead/nl.reason"
# a drop-in whose name holds a terminal escape is quarantined; dlq list
# shows its name with the control bytes replaced
printf '{"command":"true"}' >"$SPOOL/tmp/esc"
mv "$SPOOL/tmp/esc" "$SPOOL/pending/$(printf 'evil\033]0;pwned\007\177').json"
wait_for 20 "a file whose name holds an escape is quarantined" \
	bash -c "grep -lq 'pwned' '$SPOOL'/dead/*.reason"
runq dlq list
rc_is 0 "dlq list"
like "$out" "invalid  evil\?\]0;pwned\?\?\.json" "... lists it with '?' for the control bytes (DEL too)"
check "... and prints no control byte" bash -c "! printf '%s' \"\$1\" | grep -q \"\$(printf '[\033\007\177]')\"" _ "$out"
printf 'sync = 0\0\nmax_retries = 9\n' >>"$SPOOL/config"
runq config get max_retries
like "$err" "NUL byte" "a config file with a NUL byte is refused (warned) ..."
is "$out" "3" "... and the defaults are used"
runq config set max_retries 4
rc_is 0 "config set repairs a config file with a NUL byte"
check "... the line with the NUL is gone" bash -c "! grep -qa 'sync = 0' '$SPOOL/config'"
runq config get max_retries
is "$out$err" "4" "... and the file reads back cleanly"

done_testing

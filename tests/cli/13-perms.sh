#!/bin/bash
# 13-perms: a spool root writable by group or others (or owned by another
# user) is refused with exit 77 and a hint to chmod; files are 0600/0700
# whatever the umask.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q enqueue --id existing true >/dev/null

cmds=("status" "status --json" "list" "list --json" "enqueue true" "enqueue --id x1 true" "show existing"
	"logs existing" "dlq list" "dlq retry --all" "config list" "config get max_retries" "config set max_retries 1"
	"recover" "worker start" "init")

for mode in 0770 0777 0722 0702; do
	chmod "$mode" "$SPOOL"
	cp "$SPOOL/config" "$TEST_DIR/config.saved" 2>/dev/null
	for c in "${cmds[@]}"; do
		# shellcheck disable=SC2086
		runq $c
		rc_is 77 "spool mode $mode: '$c' refused with exit 77"
		[ "$mode" = 0770 ] || [ "$mode" = 0777 ] || continue
		like "$err" "chmod" "spool mode $mode: '$c' says to chmod"
	done
	is "$(stat -c %a "$SPOOL")" "${mode#0}" "mode $mode: the tool did not change the spool's mode itself"
done
runq status
like "$err" "^queuectl: .*$SPOOL" "the message names the spool"
like "$err" "writable by group or others" "the message says why"
check "nothing was enqueued while refused" test "$(count_json "$SPOOL/pending")" -eq 1
check "no worker was started while refused" test -z "$(ls -A "$SPOOL/processing")"

chmod 0700 "$SPOOL"
runq status
rc_is 0 "after chmod 0700 status works"
runq enqueue --id afterfix true
rc_is 0 "after chmod 0700 enqueue works"
chmod 0755 "$SPOOL"
runq status
rc_is 0 "mode 0755 (readable, not writable by others) is accepted"
chmod 0750 "$SPOOL"
runq list
rc_is 0 "mode 0750 is accepted"
chmod 0700 "$SPOOL"

# a fresh spool under a group-writable parent is still created 0700
mkdir -m 0777 "$TEST_DIR/open"
runq --spool "$TEST_DIR/open/spool" init
rc_is 0 "init under a world-writable parent"
is "$(stat -c %a "$TEST_DIR/open/spool" 2>/dev/null)" 700 "... creates the spool 0700"

# --- the spool root owned by another user ---------------------------------------------
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$SPOOL"
	runq status
	rc_is 77 "spool owned by another user: status refused with 77"
	runq enqueue true
	rc_is 77 "spool owned by another user: enqueue refused with 77"
	chown 0 "$SPOOL"
	runq status
	rc_is 0 "owned by us again: status works"
else
	skip "spool owned by another user: needs root"
fi

# --- modes whatever the umask -------------------------------------------------------
rm -rf "$TEST_DIR/um"
run bash -c "umask 000; '$QUEUECTL' --spool '$TEST_DIR/um' init"
rc_is 0 "init with umask 000"
is "$(stat -c %a "$TEST_DIR/um")" 700 "umask 000: spool root 0700"
for d in tmp cancel pending processing done failed dead hold; do
	is "$(stat -c %a "$TEST_DIR/um/$d" 2>/dev/null)" 700 "umask 000: $d/ 0700"
done
run bash -c "umask 000; '$QUEUECTL' --spool '$TEST_DIR/um' enqueue --id m1 'echo x'"
is "$(stat -c %a "$TEST_DIR/um/pending/m1.json" 2>/dev/null)" 600 "umask 000: job file 0600"
run bash -c "umask 000; '$QUEUECTL' --spool '$TEST_DIR/um' config set max_retries 2"
is "$(stat -c %a "$TEST_DIR/um/config" 2>/dev/null)" 600 "umask 000: config 0600"
run bash -c "umask 000; exec '$QUEUECTL' --spool '$TEST_DIR/um' worker start"
umpid=$out
BG_PIDS+=("$umpid")
wait_until 30 test -f "$TEST_DIR/um/done/m1.json"
for f in done/m1.json done/m1.stdout done/m1.stderr; do
	is "$(stat -c %a "$TEST_DIR/um/$f" 2>/dev/null)" 600 "umask 000: $f 0600"
done
for l in "$TEST_DIR"/um/processing/*; do
	is "$(stat -c %a "$l" 2>/dev/null)" 700 "umask 000: lease directory 0700"
	is "$(stat -c %a "$l/lease" 2>/dev/null)" 600 "umask 000: lease file 0600"
done
run timeout 30 "$QUEUECTL" --spool "$TEST_DIR/um" worker stop
rc_is 0 "stop the worker of the second spool"

# --- symlinks are not followed -------------------------------------------------------
mkdir -p "$TEST_DIR/elsewhere"
echo secret >"$TEST_DIR/elsewhere/secret.stdout"
printf '{"id":"lnk","command":"true","state":"done","attempts":1,"exit_code":0}\n' >"$TEST_DIR/elsewhere/lnk.json"
ln -s "$TEST_DIR/elsewhere/lnk.json" "$SPOOL/done/lnk.json"
ln -s "$TEST_DIR/elsewhere/secret.stdout" "$SPOOL/done/lnk.stdout"
runq logs lnk
unlike "$out" "secret" "logs does not read a log through a symlink"
runq show lnk --json
unlike "$out" '"command"' "show does not read a job through a symlink"
rm -f "$SPOOL/done/lnk.json" "$SPOOL/done/lnk.stdout"

done_testing

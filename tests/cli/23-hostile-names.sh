#!/bin/bash
# 23-hostile-names: the hostile inputs of issue 3 that 09-ids, 08-dropin and
# 21-hostile leave out: a 10 KB id, ids with NUL, newline, "..", "/" or
# non-ASCII inside JSON escapes; drop-in files whose names are hostile
# (unicode, newline, too long for an id); a lease directory with no lock
# file; a job file without read permission for the worker. Each is refused
# or quarantined with its reason, nothing hangs, no byte of user data is lost.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null

# spool_has_no_job: no *.json in any state directory, nothing in tmp/
spool_has_no_job() {
	local f
	f=$(find "$SPOOL"/{tmp,pending,done,failed,dead,processing} -mindepth 1 2>/dev/null)
	[ -z "$f" ] || {
		echo "unexpected: $f"
		return 1
	}
}

# --- ids through enqueue ----------------------------------------------------
long10k=$(printf 'a%.0s' $(seq 1 10240))
runq enqueue --id "$long10k" true
rc_is 65 "enqueue --id of 10 KB exits 65"
like "$err" "invalid id" "... saying the id is invalid"
runq enqueue "{\"id\":\"$long10k\",\"command\":\"true\"}"
rc_is 65 "a JSON job with a 10 KB id exits 65"
for esc in 'a\u0000b' 'a\nb' '..' 'a\/b' '\u00e9t\u00e9' '\u2603' 'x\u0000'; do
	runq enqueue "{\"id\":\"$esc\",\"command\":\"true\"}"
	rc_is 65 "a JSON job with id \"$esc\" exits 65"
done
runq enqueue '{"command":"echo a\u0000b"}'
rc_is 65 "a command with an escaped NUL exits 65"
check "none of them left a file in the spool" spool_has_no_job

# --- hostile names dropped into pending/ --------------------------------------
fg_worker
drop() { # drop NAME BYTES: write BYTES to tmp/, rename to pending/NAME
	printf '%s' "$2" >"$SPOOL/tmp/drop"
	mv "$SPOOL/tmp/drop" "$SPOOL/pending/$1"
}
drop "$(printf 'caf\xc3\xa9.json')" '{"command":"echo unicode"}'
drop $'new\nline.json' '{"command":"echo newline"}'
name200=$(printf 'n%.0s' $(seq 1 200)).json
drop "$name200" '{"command":"echo long"}'
drop 'a..b.json' '{"command":"echo dots"}'
wait_for 20 "three hostile drop-in names are quarantined" \
	bash -c "[ \$(ls '$SPOOL/dead' | grep -c '\\.reason\$') -ge 3 ]"
wait_for 20 "a..b.json, a valid id, runs" exists "$SPOOL/done/a..b.json"
check "pending/ is empty" dirs_empty "$SPOOL/pending"
for want in unicode newline long; do
	f=$(grep -l "\"echo $want\"" "$SPOOL"/dead/*.invalid 2>/dev/null | head -n1)
	check "the '$want' drop-in's bytes are kept in dead/" test -n "$f"
	r=${f%.invalid}.reason
	check "... with a reason file that names why" grep -qi "name\|id" "$r"
done
check_not "no quarantined name reaches done/" \
	bash -c "ls '$SPOOL/done' | grep -q 'caf\\|new\\|nnnn'"

# --- a job file the worker cannot read (root reads everything: skip) ------------
if [ "$(id -u)" != 0 ]; then
	drop 'noread.json' '{"command":"echo noread"}'
	chmod 0000 "$SPOOL/pending/noread.json"
	wait_until 3 absent "$SPOOL/pending/noread.json"
	check "an unreadable job is not quarantined" absent "$SPOOL/dead/noread.invalid"
	chmod 0600 "$SPOOL"/pending/noread.json "$SPOOL"/processing/*/noread.json 2>/dev/null
	wait_for 20 "... and runs once it is readable" exists "$SPOOL/done/noread.json"
else
	skip "unreadable job file: root reads every file"
fi

# --- a lease directory with no lock file -----------------------------------------
stop_everything
lease=$SPOOL/processing/$(uname -n | cut -d. -f1)-999999
mkdir -m 0700 "$lease"
printf '{"id":"orphan","command":"echo orphan","attempts":0}\n' >"$lease/orphan.json"
Q_TIMEOUT=20 runq status
rc_is 0 "status with a lease that has no lock file"
Q_TIMEOUT=20 runq recover
rc_is 0 "recover with a lease that has no lock file"
check "... the lease directory is gone" absent "$lease"
check "... and its job is back, once" bash -c \
	"[ \$(find '$SPOOL' -name orphan.json | wc -l) = 1 ] && ! [ -e '$SPOOL/dead/orphan.invalid' ]"
fg_worker
wait_for 20 "the reclaimed job runs to done/" exists "$SPOOL/done/orphan.json"

done_testing

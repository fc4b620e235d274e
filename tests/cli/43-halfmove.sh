#!/bin/bash
# 43-halfmove: a move cut short between its link and its unlink. Where
# renameat2(RENAME_NOREPLACE) is refused (FUSE, GlusterFS: EINVAL), a move
# between state directories is link + unlink; a worker killed between the
# two leaves the job under two names of one file, in its dead lease and in
# the target. The reclaim finishes the move (drops the lease's name) instead
# of quarantining the job as a duplicate of itself; a different file of
# the same id there is still a duplicate.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
lease=$SPOOL/processing/$(uname -n | cut -d. -f1)-999999
mkdir -m 0700 "$lease"
: >"$lease/lock"

# the same file in the dead lease and in done/ (a settle cut short)
printf '{"id":"half","command":"true","state":"done","attempts":1,"exit_code":0}\n' >"$SPOOL/done/half.json"
ln "$SPOOL/done/half.json" "$lease/half.json"
printf 'out\n' >"$SPOOL/done/half.stdout"
ln "$SPOOL/done/half.stdout" "$lease/half.stdout"
# a different file with the id of a job in done/: a real duplicate
printf '{"id":"twin","command":"true","state":"done","attempts":1}\n' >"$SPOOL/done/twin.json"
printf '{"id":"twin","command":"other","state":"done","attempts":1}\n' >"$lease/twin.json"

Q_TIMEOUT=20 runq recover
rc_is 0 "recover reclaims the dead lease"
check "... the lease is gone" absent "$lease"
check "the half-moved job is in done/, once" bash -c \
	"[ \$(find '$SPOOL' -name half.json | wc -l) = 1 ] && [ -f '$SPOOL/done/half.json' ]"
check "... not quarantined as a duplicate of itself" absent "$SPOOL/dead/half.invalid"
is "$(stat -c %h "$SPOOL/done/half.json")" 1 "... one name left for its file"
is "$(cat "$SPOOL/done/half.stdout" 2>/dev/null)" out "... its log kept"
check "the different file of an existing id is still quarantined" exists "$SPOOL/dead/twin.invalid"
check "... and the job in done/ is untouched" jq -e '.command == "true"' "$SPOOL/done/twin.json"

# a move cut short after linking a log: the next move of the job finds the
# log in the target already (the same file) and still drops its old name
q enqueue --hold --id hl "echo hl" >/dev/null
printf 'earlier\n' >"$SPOOL/hold/hl.stdout"
ln "$SPOOL/hold/hl.stdout" "$SPOOL/pending/hl.stdout"
runq release hl
rc_is 0 "release of a job whose log is linked in pending/ already"
check "... the job is in pending/" exists "$SPOOL/pending/hl.json"
check "... its log's old name in hold/ is gone" absent "$SPOOL/hold/hl.stdout"
is "$(stat -c %h "$SPOOL/pending/hl.stdout")" 1 "... one name left for the log"
done_testing

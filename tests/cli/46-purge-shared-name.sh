#!/bin/bash
# 46-purge-shared-name: a quarantined file and a job of the same id in dead/.
# Quarantine names its entry after the id when dead/ has neither ID.invalid
# nor ID.json, but a job of that id may reach dead/ later (the file fixed
# and dropped in again while the .invalid stays). The logs ID.stdout and
# ID.stderr are then the job's (a move replaces older ones): purging the old
# .invalid keeps them, purging the job removes them.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set sync 0 >/dev/null

# a file that was not a job, quarantined 10 days ago
echo 'not json' >"$SPOOL/dead/x.invalid"
printf 'file: x.json\nreason: bad\ntime: x\n' >"$SPOOL/dead/x.reason"
touch -d '10 days ago' "$SPOOL/dead/x.invalid" "$SPOOL/dead/x.reason"
# the job x, fixed and run since, dead an hour ago with its logs
fin=$(date -u -d "@$(($(date +%s) - 3600))" +%Y-%m-%dT%H:%M:%S.000Z)
printf '{"id":"x","command":"false","state":"dead","attempts":1,"finished_at":"%s","exit_code":1}\n' \
	"$fin" >"$SPOOL/dead/x.json"
echo "x's output" >"$SPOOL/dead/x.stdout"
echo "x's errors" >"$SPOOL/dead/x.stderr"

runq purge --older-than 7d -v
rc_is 0 "purge --older-than 7d"
is "$out" "$(printf 'dead x (invalid)\npurged 1 job (done 0, dead 1)')" "... removes the old quarantined entry"
check "x.invalid and x.reason are gone" test ! -e "$SPOOL/dead/x.invalid" -a ! -e "$SPOOL/dead/x.reason"
check "the job x is kept" test -f "$SPOOL/dead/x.json"
is "$(cat "$SPOOL/dead/x.stdout" 2>&1)" "x's output" "... with its stdout log"
is "$(cat "$SPOOL/dead/x.stderr" 2>&1)" "x's errors" "... and its stderr log"
runq logs x
like "$out" "x's output" "logs x still shows it"

runq purge --state dead -v
rc_is 0 "purge of the job itself"
check "... removes its json and its logs" test ! -e "$SPOOL/dead/x.json" -a ! -e "$SPOOL/dead/x.stdout" -a ! -e "$SPOOL/dead/x.stderr"

done_testing

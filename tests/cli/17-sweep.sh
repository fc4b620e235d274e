#!/bin/bash
# 17-sweep: tmp/ holds no stale files: what a dead queuectl process left
# there is removed at once by recover (and by workers), what a live one or a
# producer is writing stays until it is a day old.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
host=$(uname -n | cut -d. -f1 | tr -c 'A-Za-z0-9\n-' -)
dead=999999
while kill -0 "$dead" 2>/dev/null; do dead=$((dead - 1)); done
sleep 1000 &
live=$!
BG_PIDS+=("$live")

touch "$SPOOL/tmp/$host.$dead.1.0badf00d"
touch "$SPOOL/tmp/$host.$live.1.0badf00d"
touch "$SPOOL/tmp/producer-file"
touch -d '2 days ago' "$SPOOL/tmp/old-producer-file"
mkdir "$SPOOL/tmp/lease.$host-$dead"
touch "$SPOOL/tmp/lease.$host-$dead/lock" "$SPOOL/tmp/lease.$host-$dead/lease"

runq recover
rc_is 0 "recover exits 0"
like "$out" "removed 3 stale files from tmp/" "recover reports the 3 stale entries"
check_not "a dead process's temp file is removed" exists "$SPOOL/tmp/$host.$dead.1.0badf00d"
check_not "a dead process's half-built lease is removed" exists "$SPOOL/tmp/lease.$host-$dead"
check_not "a producer's file older than a day is removed" exists "$SPOOL/tmp/old-producer-file"
check "a live process's temp file stays" exists "$SPOOL/tmp/$host.$live.1.0badf00d"
check "a producer's recent file stays" exists "$SPOOL/tmp/producer-file"

touch "$SPOOL/tmp/$host.$dead.2.0badf00d"
start_workers 1
wait_for 20 "a starting worker removes a dead process's temp file" absent "$SPOOL/tmp/$host.$dead.2.0badf00d"
check "the producer's file is still there" exists "$SPOOL/tmp/producer-file"

done_testing

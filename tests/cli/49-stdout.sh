#!/bin/bash
# 49-stdout: a command whose output cannot be written (a full disk:
# /dev/full) says so and exits 74 instead of 0, so that a script never
# takes a cut listing for the whole one.
. "$(dirname "$0")/../lib.sh"

[ -w /dev/full ] || { skip "no /dev/full"; done_testing; }
q init >/dev/null
runq enqueue --id one -- true
for cmd in "status" "status --json" "list" "list --json" "show one" "metrics" "config list" "top" "--help"; do
	run bash -c "\"\$QUEUECTL\" $cmd >/dev/full"
	rc_is 74 "queuectl $cmd >/dev/full exits 74"
	like "$err" "queuectl: standard output: No space left on device" "... and says why"
done
run bash -c '"$QUEUECTL" status >/dev/null'
rc_is 0 "the same to a writable output exits 0"
done_testing

#!/bin/bash
# 48-lock-stall: a worker never waits for SPOOL/lock in its loop. Another
# process may hold the lock for a while (an enqueue --batch of jobs with
# their own ids, a config set, a slow cancel); a worker that has a stale
# cancel request to settle skips it until the lock is free, and meanwhile
# starts and runs jobs as usual.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
command -v flock >/dev/null || { skip "no flock(1)"; done_testing; }

# a stale request: its job is nowhere
mkdir -p "$SPOOL/cancel"
: >"$SPOOL/cancel/gone"
runq enqueue --id runs -- true
flock "$SPOOL/lock" sh -c "echo held >'$TEST_DIR/held'; while [ ! -e '$TEST_DIR/release' ]; do sleep 0.05; done" &
BG_PIDS+=("$!")
wait_for 10 "another process holds SPOOL/lock" exists "$TEST_DIR/held"

if fg_worker; then
	ok "the worker starts while the lock is held"
else
	not_ok "the worker starts while the lock is held"
fi
wait_for 30 "... and runs a job meanwhile" exists "$SPOOL/done/runs.json"
check "the stale request waits for the lock" exists "$SPOOL/cancel/gone"

touch "$TEST_DIR/release"
runq recover
rc_is 0 "recover (which waits for the lock) settles it once the lock is free"
check "... the request is gone" absent "$SPOOL/cancel/gone"
done_testing

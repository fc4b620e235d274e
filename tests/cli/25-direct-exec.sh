#!/bin/bash
# 25-direct-exec: a command with nothing for the shell to do runs without
# /bin/sh (the job's process is the program itself), with the exit statuses
# and messages sh would give; anything else still runs through sh.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
fg_worker
N=${MARK//./}   # digits only: a sleep argument

# the job's process group leader is the program, not sh
runq enqueue --id direct --max-retries 0 -- sleep 300$N
wait_for 20 "direct runs" procs "sleep 300$N"
lease=$(lease_of "$FG_PID")
wait_for 10 "the lease records the job's process group" \
	bash -c "jq -e '.pgid > 0' '$lease/lease' >/dev/null"
pgid=$(jq -r .pgid "$lease/lease")
is "$(cat "/proc/$pgid/comm" 2>/dev/null)" "sleep" "a simple command is exec'ed directly (no sh)"
kill "$pgid"
wait_for 20 "direct ends" exists "$SPOOL/dead/direct.json"

# ... and one with a shell character runs under sh
runq enqueue --id viash "sleep 310$N; true"
wait_for 20 "viash runs" procs "sleep 310$N"
wait_for 10 "the lease records viash's group" \
	bash -c "jq -e '.job == \"viash\" and .pgid > 0' '$lease/lease' >/dev/null"
pgid=$(jq -r .pgid "$lease/lease")
is "$(cat "/proc/$pgid/comm" 2>/dev/null)" "sh" "a command with ';' runs under sh"
pkill -f "^sleep 310$N"
wait_for 20 "viash ends" exists "$SPOOL/done/viash.json"

# not found: 127, as sh
runq enqueue --id nf --max-retries 0 nosuch-command-$MARK
wait_for 20 "nf is dead" exists "$SPOOL/dead/nf.json"
jq_ok "... with exit code 127, as sh -c gives" "$SPOOL/dead/nf.json" '.exit_code == 127'
check "... and 'not found' in its stderr" grep -q "nosuch-command-$MARK: not found" "$SPOOL/dead/nf.stderr"

# found but not executable: 126, as sh
printf 'echo hi\n' >"$TEST_DIR/noexec"
chmod 0644 "$TEST_DIR/noexec"
runq enqueue --id ne --max-retries 0 "$TEST_DIR/noexec"
wait_for 20 "ne is dead" exists "$SPOOL/dead/ne.json"
jq_ok "... with exit code 126, as sh -c gives" "$SPOOL/dead/ne.json" '.exit_code == 126'
check "... and 'Permission denied' in its stderr" grep -q "Permission denied" "$SPOOL/dead/ne.stderr"

# an executable script without #! runs with sh, as sh -c would
printf 'echo "no shebang $1"\n' >"$TEST_DIR/plain"
chmod 0755 "$TEST_DIR/plain"
runq enqueue --id ns "$TEST_DIR/plain" arg1
wait_for 20 "ns is done" exists "$SPOOL/done/ns.json"
check "... its output is as sh gives it" grep -qx "no shebang arg1" "$SPOOL/done/ns.stdout"

# PATH lookup and arguments, compared with sh -c
runq enqueue --id args -- printf '<%s>' a b,c --d=e
wait_for 20 "args is done" exists "$SPOOL/done/args.json"
check "... words reach the program as sh would pass them" \
	grep -qx "<a><b,c><--d=e>" "$SPOOL/done/args.stdout"
runq enqueue --id env 'env'
wait_for 20 "env is done" exists "$SPOOL/done/env.json"
check "... the job's environment is set without sh too" grep -qx "QUEUECTL_JOB_ID=env" "$SPOOL/done/env.stdout"
runq enqueue --id echo 'echo -e a'
wait_for 20 "echo is done" exists "$SPOOL/done/echo.json"
check "... echo is sh's builtin (dash prints -e)" grep -qx -- "$(sh -c 'echo -e a')" "$SPOOL/done/echo.stdout"

# with nothing left to run, the lease record says idle again (it is written
# only when no job follows at once)
lease=$(lease_of "$FG_PID")
wait_for 10 "the lease record is idle again" \
	bash -c "jq -e '.job == null and (has(\"pgid\") | not)' '$lease/lease' >/dev/null"
runq status
like "$out" "pid $FG_PID +idle" "status shows the worker idle"

done_testing

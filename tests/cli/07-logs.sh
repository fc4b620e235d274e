#!/bin/bash
# 07-logs: stdout and stderr captured apart, `logs`, the log_max_bytes cap.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
MARKER_RE='^=== queuectl: attempt [0-9]+ on .+ at .+ ===$'

runq enqueue --id both 'echo to-out; echo to-err >&2; echo out2; printf "no-newline"'
runq enqueue --id silent true
runq enqueue --id big 'head -c 1048576 /dev/zero | tr "\0" x'
start_workers 1

wait_for 30 "job 'both' done" exists "$SPOOL/done/both.json"
so=$SPOOL/done/both.stdout
se=$SPOOL/done/both.stderr
check "stdout log holds stdout" grep -qx to-out "$so"
check "stdout log holds all of it" grep -qx out2 "$so"
check "output without a final newline is kept" grep -q 'no-newline' "$so"
check "stdout log does not hold stderr" bash -c "! grep -q to-err '$so'"
check "stderr log holds stderr" grep -qx to-err "$se"
check "stderr log does not hold stdout" bash -c "! grep -q to-out '$se'"
like "$(head -n 1 "$so")" "$MARKER_RE" "stdout log starts with the attempt marker"
like "$(head -n 1 "$se")" "$MARKER_RE" "stderr log starts with the attempt marker"
like "$(head -n 1 "$so")" "attempt 1 on $(jqf "$SPOOL/done/both.json" .worker) at " "the marker names the worker"
is "$(stat -c %a "$so" 2>/dev/null)" 600 "log files have mode 0600"

runq logs both
rc_is 0 "logs ID exits 0"
like "$out" "==> stdout <==" "logs prints the stdout header"
like "$out" "==> stderr <==" "logs prints the stderr header"
like "$out" "to-out" "logs prints stdout"
like "$out" "to-err" "logs prints stderr"
runq logs both --stdout
rc_is 0 "logs --stdout exits 0"
is "$out" "$(cat "$so")" "logs --stdout prints the stdout log as is"
runq logs both --stderr
rc_is 0 "logs --stderr exits 0"
is "$out" "$(cat "$se")" "logs --stderr prints the stderr log as is"
runq logs no-such-job
rc_is 66 "logs of an unknown id exits 66"

wait_for 30 "job without output done" exists "$SPOOL/done/silent.json"
is "$(grep -cv '^=== queuectl' "$SPOOL/done/silent.stdout" 2>/dev/null)" 0 "a silent job's log holds only the marker"
check "... which is there" grep -qE "$MARKER_RE" "$SPOOL/done/silent.stdout"

wait_for 30 "1 MiB job done" exists "$SPOOL/done/big.json"
sz=$(stat -c %s "$SPOOL/done/big.stdout" 2>/dev/null || echo 0)
check "1 MiB of output kept under the default 10 MiB cap (size $sz)" test "$sz" -ge 1048576 -a "$sz" -lt 1049600
check "no truncation marker under the cap" bash -c "! grep -q 'output truncated' '$SPOOL/done/big.stdout'"

# --- logs of a running job -------------------------------------------------------
runq enqueue --id running 'echo early; sleep 3; echo late'
wait_for 30 "running job's stdout is in its lease" bash -c "grep -qx early '$SPOOL'/processing/*/running.stdout"
runq logs running --stdout
rc_is 0 "logs of a running job exits 0"
like "$out" "early" "logs of a running job shows the output so far"
runq show running --json
is "$(jq -r .state <<<"$out" 2>/dev/null)" processing "show --json of a running job says processing"

# --- the cap ----------------------------------------------------------------------
runq config set log_max_bytes 1k
rc_is 0 "config set log_max_bytes 1k"
is "$(q config get log_max_bytes)" 1024 "log_max_bytes 1k is 1024"
runq enqueue --id capped 'head -c 102400 /dev/zero | tr "\0" y; echo small-err >&2; echo end-rc=$?'
runq enqueue --id capped2 --max-retries 1 'yes abcdefghij | head -c 50000; exit 1'
q config set backoff_base 1 >/dev/null
wait_for 30 "job printing 100 KB done" exists "$SPOOL/done/capped.json"
jq_ok "capped: exit_code 0 (output beyond the cap is dropped, not an error)" "$SPOOL/done/capped.json" '.exit_code == 0'
sz=$(stat -c %s "$SPOOL/done/capped.stdout" 2>/dev/null || echo 0)
check "capped stdout log is small (size $sz)" test "$sz" -ge 1024 -a "$sz" -lt 2048
check "truncation marker present" grep -qE '^=== queuectl: output truncated after [0-9]+ bytes ===$' "$SPOOL/done/capped.stdout"
check "truncation marker names 1024 bytes" grep -q 'output truncated after 1024 bytes' "$SPOOL/done/capped.stdout"
is "$(grep -v '^=== queuectl' "$SPOOL/done/capped.stdout" | tr -d '\n' | wc -c)" 1024 "exactly 1024 bytes of output kept"
check "stderr under the cap kept whole" grep -qx small-err "$SPOOL/done/capped.stderr"
check "no truncation marker in the small stderr" bash -c "! grep -q 'truncated' '$SPOOL/done/capped.stderr'"

wait_for 30 "capped2 (2 attempts) dead" exists "$SPOOL/dead/capped2.json"
is "$(grep -c 'output truncated after' "$SPOOL/dead/capped2.stdout" 2>/dev/null)" 2 "the cap applies to each attempt"
is "$(grep -cE "$MARKER_RE" "$SPOOL/dead/capped2.stdout" 2>/dev/null)" 2 "two attempt markers"
sz=$(stat -c %s "$SPOOL/dead/capped2.stdout" 2>/dev/null || echo 0)
check "capped2 log size bounded (size $sz)" test "$sz" -lt 4096
check "logs moved with the job: nothing left in failed/" test -z "$(ls -A "$SPOOL/failed")"

done_testing

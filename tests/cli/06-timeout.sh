#!/bin/bash
# 06-timeout: per-job and configured timeouts; SIGTERM then SIGKILL after
# kill_grace; no process of the job's group outlives it.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set kill_grace 1 >/dev/null
is "$(q config get kill_grace)" 1 "config set kill_grace 1"

M1="sleep 1$MARK"
M2="sleep 2$MARK"
M3="sleep 3$MARK"
M4="sleep 4$MARK"
M5="sleep 5$MARK"

runq enqueue --timeout 1 --max-retries 0 --id t1 "$M1 & $M1; wait"
rc_is 0 "enqueue --timeout 1"
runq enqueue --timeout 1 --max-retries 0 --id t2 "trap '' TERM; $M2 & $M2; wait"
runq enqueue --timeout 1 --max-retries 1 --id t3 "$M3"
runq enqueue --timeout 10 --id quick 'sleep 0.2; echo quick'
runq enqueue --id leftover "$M4 >/dev/null 2>&1 & echo main-done"
runq enqueue --max-retries 0 '{"id":"t5","command":"sleep 30","timeout":0.5}'
rc_is 0 "JSON job with a fractional timeout"

start_workers 1

wait_for 30 "t1 (timeout 1, max-retries 0) ends in dead/" exists "$SPOOL/dead/t1.json"
jq_ok "t1: last_error mentions the timeout" "$SPOOL/dead/t1.json" '.last_error | test("time"; "i")'
jq_ok "t1: last_error is 'timed out after 1 s'" "$SPOOL/dead/t1.json" '.last_error | test("timed out after 1(\\.0+)? ?s")'
jq_ok "t1: exit_code is 128+signal (SIGTERM: 143)" "$SPOOL/dead/t1.json" '.exit_code == 143'
jq_ok "t1: duration about 1 s" "$SPOOL/dead/t1.json" '.duration_ms >= 900 and .duration_ms < 10000'
wait_for 5 "t1: no '$M1' survives" no_procs "$M1"

wait_for 30 "t2 (ignores SIGTERM) ends in dead/" exists "$SPOOL/dead/t2.json"
jq_ok "t2: killed with SIGKILL after kill_grace (exit_code 137)" "$SPOOL/dead/t2.json" '.exit_code == 137'
jq_ok "t2: duration about timeout + kill_grace = 2 s" "$SPOOL/dead/t2.json" '.duration_ms >= 1900 and .duration_ms < 15000'
jq_ok "t2: last_error mentions the timeout" "$SPOOL/dead/t2.json" '.last_error | test("timed out")'
wait_for 5 "t2: no '$M2' survives (it ignored SIGTERM)" no_procs "$M2"

wait_for 30 "t3 (timeout, max-retries 1) goes through failed/ to dead/" exists "$SPOOL/dead/t3.json"
jq_ok "t3: attempts 2" "$SPOOL/dead/t3.json" '.attempts == 2'
wait_for 5 "t3: no '$M3' survives" no_procs "$M3"

wait_for 30 "a job quicker than its timeout ends in done/" exists "$SPOOL/done/quick.json"
jq_ok "quick: exit_code 0, attempts 1" "$SPOOL/done/quick.json" '.exit_code == 0 and .attempts == 1'

wait_for 30 "job leaving a background process behind: done/" exists "$SPOOL/done/leftover.json"
wait_for 5 "leftover: the background '$M4' of its process group was killed" no_procs "$M4"

wait_for 30 "t5 (timeout 0.5 in JSON) ends in dead/" exists "$SPOOL/dead/t5.json"
jq_ok "t5: timed out" "$SPOOL/dead/t5.json" '.last_error | test("timed out")'
jq_ok "t5: duration under the 30 s sleep" "$SPOOL/dead/t5.json" '.duration_ms >= 400 and .duration_ms < 10000'

# --- timeout from the config, read by the running worker ---------------------------
runq config set timeout 1
rc_is 0 "config set timeout 1"
runq enqueue --max-retries 0 --id cfg "$M5"
wait_for 30 "job without --timeout uses the configured timeout" exists "$SPOOL/dead/cfg.json"
jq_ok "cfg: timed out" "$SPOOL/dead/cfg.json" '.last_error | test("timed out")'
wait_for 5 "cfg: no '$M5' survives" no_procs "$M5"
jq_ok "cfg: the job file has no timeout field (the config applied)" "$SPOOL/dead/cfg.json" '(.timeout // 0) == 0 or .timeout == 1'
runq config set timeout 0
runq enqueue --timeout 0 --id notimeout 'sleep 1.2; echo ok'
wait_for 30 "timeout 0 means none" exists "$SPOOL/done/notimeout.json"

check "the worker survived all that" alive "${WPIDS[0]}"

done_testing

#!/bin/bash
# 12-json: the --json outputs (status, list, show, dlq list) and the exit
# codes of bad input and unknown jobs.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
spool_real=$(realpath "$SPOOL")

# --- empty spool ----------------------------------------------------------------------
runq status --json
rc_is 0 "status --json exits 0"
printf '%s' "$out" >"$TEST_DIR/s0.json"
jq_ok "status --json is one JSON object" "$TEST_DIR/s0.json" 'type == "object"'
jq_ok "status --json keys: spool, jobs, paused, workers, avg_duration_ms, warnings" "$TEST_DIR/s0.json" \
	'(keys | sort) == ["avg_duration_ms","jobs","paused","spool","warnings","workers"]'
jq_ok "status --json warnings: [] with the default settings" "$TEST_DIR/s0.json" '.warnings == []'
jq_ok "status --json spool is the spool path" "$TEST_DIR/s0.json" ".spool == \"$SPOOL\" or .spool == \"$spool_real\""
jq_ok "status --json jobs: six states, all 0" "$TEST_DIR/s0.json" \
	'.jobs == {"pending":0,"processing":0,"done":0,"failed":0,"dead":0,"held":0}'
jq_ok "status --json workers: []" "$TEST_DIR/s0.json" '.workers == []'
jq_ok "status --json avg_duration_ms: null with no done job" "$TEST_DIR/s0.json" '.avg_duration_ms == null'
is "$(jq -s length <<<"$out" 2>/dev/null)" 1 "status --json prints exactly one document"
runq list --json
rc_is 0 "list --json on an empty spool"
is "$(jq -c . <<<"$out" 2>/dev/null)" "[]" "list --json on an empty spool is []"
runq dlq list --json
is "$(jq -c . <<<"$out" 2>/dev/null)" "[]" "dlq list --json on an empty spool is []"
runq list
rc_is 0 "list on an empty spool exits 0"

# --- some jobs --------------------------------------------------------------------------
q enqueue --id j1 'echo one' >/dev/null
q enqueue --id j2 'echo two' >/dev/null
q enqueue --id j3 --max-retries 0 'exit 4' >/dev/null
q enqueue --id j4 --priority 10 "sleep 30; sleep $MARK" >/dev/null
q enqueue --id j5 --delay 1h 'echo later' >/dev/null
runq list --json
rc_is 0 "list --json exits 0"
printf '%s' "$out" >"$TEST_DIR/l1.json"
jq_ok "list --json is an array of 5 jobs" "$TEST_DIR/l1.json" 'type == "array" and length == 5'
jq_ok "list --json: each has id, command, state" "$TEST_DIR/l1.json" 'all(.[]; has("id") and has("command") and .state == "pending")'
jq_ok "list --json: oldest first" "$TEST_DIR/l1.json" 'map(.id) == ["j1","j2","j3","j4","j5"]'

start_workers 1
wpid=${WPIDS[0]}
wait_for 30 "j1, j2 done, j3 dead" bash -c "[ -f '$SPOOL/done/j1.json' ] && [ -f '$SPOOL/done/j2.json' ] && [ -f '$SPOOL/dead/j3.json' ]"
wait_for 30 "j4 running" in_state j4 processing

runq status --json
rc_is 0 "status --json with jobs"
printf '%s' "$out" >"$TEST_DIR/s1.json"
jq_ok "status --json counts" "$TEST_DIR/s1.json" '.jobs == {"pending":1,"processing":1,"done":2,"failed":0,"dead":1,"held":0}'
jq_ok "status --json workers: one entry {id, pid, job}" "$TEST_DIR/s1.json" \
	".workers | length == 1 and (.[0] | .pid == $wpid and .job == \"j4\" and (.id | type) == \"string\")"
jq_ok "status --json worker id is its lease directory name" "$TEST_DIR/s1.json" \
	".workers[0].id == \"$(basename "$(lease_of "$wpid")")\""
avg=$(cat "$SPOOL"/done/j1.json "$SPOOL"/done/j2.json | jq -s 'map(.duration_ms) | add / length')
jq_ok "status --json avg_duration_ms = the mean of done jobs' duration_ms ($avg)" "$TEST_DIR/s1.json" \
	"(.avg_duration_ms | type) == \"number\" and ((.avg_duration_ms - $avg) | fabs) <= 1"

runq list --state done --json
printf '%s' "$out" >"$TEST_DIR/ld.json"
jq_ok "list --state done --json: j1 and j2" "$TEST_DIR/ld.json" 'map(.id) == ["j1","j2"] and all(.[]; .state == "done")'
runq list --state completed --json
is "$(jq -c 'map(.id)' <<<"$out" 2>/dev/null)" '["j1","j2"]' "list --state completed = done"
runq list --state processing --json
is "$(jq -c 'map(.id)' <<<"$out" 2>/dev/null)" '["j4"]' "list --state processing"
runq list --state dead --json
is "$(jq -c 'map(.id)' <<<"$out" 2>/dev/null)" '["j3"]' "list --state dead"
runq list --json
is "$(jq -c 'map(.id + " " + .state) | sort' <<<"$out" 2>/dev/null)" \
	'["j1 done","j2 done","j3 dead","j4 processing","j5 pending"]' \
	"list --json: each job with the state of the directory it was read in"
runq list --state pending
like "$out" "j5" "list --state pending (human) shows j5"
unlike "$out" "j1" "... and not j1"
runq list --state bogus
rc_is 64 "list --state bogus exits 64"
runq list --json
printf '%s' "$out" >"$TEST_DIR/l2.json"
jq_ok "list --json: all 5 with their states" "$TEST_DIR/l2.json" \
	'(map({(.id): .state}) | add) == {"j1":"done","j2":"done","j3":"dead","j4":"processing","j5":"pending"}'

runq show j1 --json
rc_is 0 "show --json exits 0"
printf '%s' "$out" >"$TEST_DIR/sh1.json"
jq_ok "show --json: the job with state and dir" "$TEST_DIR/sh1.json" \
	'.id == "j1" and .command == "echo one" and .state == "done" and .dir == "done" and .exit_code == 0 and .attempts == 1'
runq show j4 --json
printf '%s' "$out" >"$TEST_DIR/sh4.json"
jq_ok "show --json of a running job: dir processing/WORKER" "$TEST_DIR/sh4.json" \
	".state == \"processing\" and .dir == \"processing/$(basename "$(lease_of "$wpid")")\""
runq show j5 --json
is "$(jq -r '.state + " " + .dir' <<<"$out" 2>/dev/null)" "pending pending" "show --json of a pending job"
runq show j3 --json
is "$(jq -r '.state + " " + .dir + " " + (.exit_code | tostring)' <<<"$out" 2>/dev/null)" "dead dead 4" "show --json of a dead job"
runq show j1
rc_is 0 "show (human) exits 0"
like "$out" "state" "show (human) has a state line"
like "$out" "echo one" "show (human) has the command"
runq show nosuchjob
rc_is 66 "show of an unknown id exits 66"
like "$err" "^queuectl: .*nosuchjob" "... with an error naming it"
runq show nosuchjob --json
rc_is 66 "show --json of an unknown id exits 66"
is "$out" "" "... and prints nothing on stdout"

runq dlq list --json
rc_is 0 "dlq list --json exits 0"
printf '%s' "$out" >"$TEST_DIR/dlq.json"
jq_ok "dlq list --json: array with the dead job" "$TEST_DIR/dlq.json" \
	'type == "array" and length == 1 and .[0].id == "j3" and .[0].exit_code == 4 and .[0].state == "dead"'

runq config list --json
check "config list --json is valid JSON" jq -e 'type == "object"' <<<"$out"

# --- bad job data: 65 ------------------------------------------------------------------
for j in '{"command":' '{"id":"x1"}' '{"command":5}' '{"command":""}' '{"command":"true","priority":"x"}' \
	'{"command":"true","max_retries":-1}' '{"command":"true","timeout":-1}' '{"command":"true","run_at":"not a time"}' \
	'{"command":"true","attempts":"many"}' '{"command":"true"} trailing' '{"command":"true","priority":1.5}'; do
	runq enqueue "$j"
	rc_is 65 "enqueue '$j' exits 65"
	like "$err" "^queuectl: " "... with an error on stderr"
done
run bash -c 'echo "{not json" | "$QUEUECTL" enqueue -'
rc_is 65 "enqueue - with invalid JSON exits 65"
run bash -c 'printf "" | "$QUEUECTL" enqueue -'
rc_is 65 "enqueue - with empty stdin exits 65"
run bash -c 'echo "[1,2]" | "$QUEUECTL" enqueue -'
rc_is 65 "enqueue - with a JSON array exits 65"
check "bad job data created nothing" test "$(count_json "$SPOOL/pending")" -eq 1
check "tmp/ is empty" test -z "$(ls -A "$SPOOL/tmp")"

# --- usage: 64; unknown jobs: 66 ----------------------------------------------------
runq enqueue --priority abc true
rc_is 64 "--priority abc exits 64"
runq enqueue --max-retries -1 true
rc_is 64 "--max-retries -1 exits 64"
runq enqueue --timeout -1 true
rc_is 64 "--timeout -1 exits 64"
runq enqueue --priority
rc_is 64 "--priority without a value exits 64"
runq show
rc_is 64 "show without an id exits 64"
runq logs nosuchjob
rc_is 66 "logs of an unknown id exits 66"
runq dlq retry nosuchjob
rc_is 66 "dlq retry of an unknown id exits 66"
runq dlq retry
rc_is 64 "dlq retry without an id exits 64"
runq dlq bogus
rc_is 64 "dlq bogus exits 64"
runq worker bogus
rc_is 64 "worker bogus exits 64"
runq worker start --count 0
rc_in "64" "worker start --count 0 exits 64"
runq worker start --count abc
rc_is 64 "worker start --count abc exits 64"

# --- a live lease whose record names no filesystem, polling: "?" for it -------
L=$SPOOL/processing/w-nofs
mkdir "$L"
printf '{"worker":"w-nofs","host":"h","pid":1,"poll_ms":5000,"job":null}\n' >"$L/lease"
: >"$L/lock"
flock "$L/lock" sleep 1000 &
BG_PIDS+=("$!")
wait_for 10 "a process holds the fake lease's lock" bash -c "! flock -n '$L/lock' true"
runq status
like "$out" "w-nofs  pid 1  idle  \(\?: inotify \+ poll every 5 s\)" "status: a polling lease without fs shows '?' for it"
kill "$!" 2>/dev/null
wait "$!" 2>/dev/null
rm -rf "$L"

done_testing

#!/bin/bash
# 29-hold: hold and release (hold/, the held state), enqueue --hold; a live
# worker never claims a held job; a failed job keeps its attempts and logs
# through a round trip and runs at once when released.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
runq config set backoff_base 1000
rc_is 0 "config set backoff_base 1000 (a failed job waits long)"

# --- a pending job held before a worker starts ------------------------------
runq enqueue --id p1 "echo p1 >> ran.txt"
runq hold p1
rc_is 0 "hold a pending job"
is "$out" "p1" "hold prints the id"
check "p1.json moved to hold/" exists "$SPOOL/hold/p1.json"
check "p1.json gone from pending/" absent "$SPOOL/pending/p1.json"
jq_ok "its state field says held" "$SPOOL/hold/p1.json" '.state == "held" and .attempts == 0'
runq hold p1
rc_is 0 "hold of a held job succeeds"
like "$err" "already held" "and says it was held already"
is "$out" "" "and prints no id"

printf '{"not-a-command": 1}\n' >"$SPOOL/pending/bad.json"
runq hold bad
rc_is 65 "hold of a file that is not a valid job: 65"
like "$err" "not a valid job" "and says why"
check "the file stays in pending/ (for a worker to quarantine)" exists "$SPOOL/pending/bad.json"
rm -f "$SPOOL/pending/bad.json"
runq hold ../x
like "$err" "invalid id: ../x" "an invalid id is named as such"

# --- enqueue --hold; a worker claims neither -------------------------------
runq enqueue --hold --id h1 "echo h1 >> ran.txt"
rc_is 0 "enqueue --hold"
check "enqueue --hold writes into hold/" exists "$SPOOL/hold/h1.json"
jq_ok "enqueue --hold: state held" "$SPOOL/hold/h1.json" '.state == "held"'
check "enqueue --hold: nothing in pending/" count_is pending 0
printf '%s\n' 'echo b1 >> ran.txt' 'echo b2 >> ran.txt' | q enqueue --hold --batch >batch.ids
is "$(count_json "$SPOOL/hold")" 4 "enqueue --hold --batch puts its jobs into hold/"
runq enqueue --id h1 true
rc_is 73 "enqueue of an id that is held is refused (73)"
like "$err" "hold/" "and the message names hold/"

fg_worker
runq enqueue --id s1 "echo s1 >> ran.txt"
wait_for 30 "a job enqueued after the held ones runs" in_state s1 done
is "$(cat ran.txt)" "s1" "no held job ran"
is "$(count_json "$SPOOL/hold")" 4 "the four held jobs are still in hold/"

# --- status, list, show see held jobs ---------------------------------------
runq status --json
is "$(jq -r .jobs.held <<<"$out")" 4 "status --json counts 4 held"
runq status
like "$out" "held 4" "status counts 4 held"
runq list --state held --json
is "$(jq -r 'map(.id) | sort | join(" ")' <<<"$out")" "$(sort batch.ids | tr '\n' ' ')h1 p1" "list --state held lists them"
is "$(jq -r 'map(.state) | unique | join(" ")' <<<"$out")" "held" "list --json: state held"
runq list --state hold
like "$out" "p1 +held" "list --state hold (the directory's name) works too"
runq show p1 --json
is "$(jq -r '.state + " " + .dir' <<<"$out")" "held hold" "show --json: state held, dir hold"

# --- release: the worker runs them ------------------------------------------
runq release p1 h1 $(cat batch.ids)
rc_is 0 "release four jobs"
is "$(echo "$out" | wc -l)" 4 "release prints their ids"
wait_for 30 "released jobs run" count_is done 5
check "hold/ is empty" dirs_empty "$SPOOL/hold"
jq_ok "a released job ran once" "$SPOOL/done/p1.json" '.attempts == 1 and .state == "done"'

# --- a failed job: keeps attempts and logs; released runs now ---------------
runq enqueue --id f1 --max-retries 3 "echo out-\$QUEUECTL_ATTEMPT; [ -e f1.ok ]"
wait_for 30 "f1 fails once and waits in failed/ (1000 s backoff)" in_state f1 failed
runq hold f1
rc_is 0 "hold a failed job"
jq_ok "held failed job keeps attempts, last_error, next_run_at" "$SPOOL/hold/f1.json" \
	'.state == "held" and .attempts == 1 and (.last_error | length) > 0 and .next_run_at != null'
check "its logs moved with it" grep -q '^out-1$' "$SPOOL/hold/f1.stdout"
check "no logs left in failed/" bash -c "! ls '$SPOOL/failed' | grep -q f1"
touch f1.ok
runq release f1
rc_is 0 "release the failed job"
wait_for 30 "released at once (next_run_at dropped), it runs and succeeds" in_state f1 done
jq_ok "attempts kept: this was attempt 2" "$SPOOL/done/f1.json" '.attempts == 2'
check "the log holds both attempts" bash -c "grep -q '^out-1$' '$SPOOL/done/f1.stdout' && grep -q '^out-2$' '$SPOOL/done/f1.stdout'"

# --- what cannot be held or released ----------------------------------------
runq hold s1
rc_is 1 "hold of a done job: exit 1"
like "$err" "s1: cannot hold: it is done" "and says it is done"
runq release s1
rc_is 1 "release of a job that is not held: exit 1"
runq hold nosuchjob
rc_is 66 "hold of an unknown id: 66"
runq release ../x
rc_is 65 "release of an invalid id: 65"
runq hold
rc_is 64 "hold without an id: 64"
runq enqueue --id opt1 --run-at 2099-01-01T00:00:00Z true
runq hold opt1 -x
rc_is 64 "hold ID -x: an option after the ids is a usage error (64), not an invalid id"
check "... and nothing is held" absent "$SPOOL/hold/opt1.json"
runq cancel opt1 --now
rc_is 64 "cancel ID --now: 64"
runq enqueue --hold --id m1 true
runq release ../x m1 nosuchjob
rc_is 66 "release of several ids exits with the last failure's status (66, not 65)"
is "$out" "m1" "and still releases the valid id between the failures"
check "m1 left hold/" absent "$SPOOL/hold/m1.json"
runq enqueue --id r1 "sleep 30 # $MARK"
wait_for 30 "r1 runs" in_state r1 processing
runq hold r1
rc_is 1 "hold of a running job: exit 1"
like "$err" "it is processing" "and says it is running"
check "r1 still runs" in_state r1 processing

# --- crash points (test build): hold/ is the truth, release finishes --------
case $QUEUECTL in *asan*) CQ=$QUEUECTL ;; *) CQ=${CRASH_QUEUECTL:-} ;; esac
case $CQ in /*) ;; ?*) CQ=$TOP/$CQ ;; esac
if [ -n "$CQ" ] && [ -x "$CQ" ]; then
	q worker stop --now >/dev/null 2>&1
	q enqueue --id c1 true >/dev/null
	run env QUEUECTL_CRASH_AT=hold.after_move "$CQ" hold c1
	rc_is 137 "hold killed at hold.after_move"
	jq_ok "c1 is in hold/, its file still saying pending" "$SPOOL/hold/c1.json" '.state == "pending"'
	runq list --state held
	like "$out" "c1 +held" "list shows it held (the directory is the truth)"
	run env QUEUECTL_CRASH_AT=release.before_move "$CQ" release c1
	rc_is 137 "release killed at release.before_move"
	check "c1 is still in hold/" exists "$SPOOL/hold/c1.json"
	runq release c1
	rc_is 0 "release again finishes"
	jq_ok "c1 in pending/, state pending" "$SPOOL/pending/c1.json" '.state == "pending"'
	runq recover
	check "tmp/ is empty after recover" dirs_empty "$SPOOL/tmp"
else
	skip "no crash-point build (set CRASH_QUEUECTL)"
fi

done_testing

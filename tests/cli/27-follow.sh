#!/bin/bash
# 27-follow: logs -f follows a job's output live from the beginning of its
# log and ends when the job is done or dead (following every attempt), or
# with --attempt N when attempt N is over; --stdout/--stderr pick a stream;
# enqueue --wait copies the job's output to its own stdout and stderr as it
# comes (without the attempt markers) and exits with the job's status.
# Jobs that must go on later wait on FIFOs that the test opens.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set backoff_base 1 >/dev/null
start_workers 2
MARKER_RE='=== queuectl: attempt [0-9]+ on [^ ]+ at [^ ]+ ==='

# holds NAME REGEX: does NAME.out match REGEX (grep -E)?
holds() {
	grep -qE -- "$2" "$TEST_DIR/$1.out" || {
		echo "$1.out: $(cat "$TEST_DIR/$1.out")"
		return 1
	}
}

bgout() { cat "$TEST_DIR/$1.out"; }
bgerr() { cat "$TEST_DIR/$1.err"; }
bgrc() { cat "$TEST_DIR/$1.rc" 2>/dev/null; }

release() {
	echo go >"$1"
}

# --- usage --------------------------------------------------------------------------
runq logs -f
rc_is 64 "logs -f without an id is a usage error"
runq logs -f x --stdout --stderr
rc_is 64 "--stdout with --stderr is a usage error"
runq logs --attempt 0 x
rc_is 64 "--attempt 0 is a usage error"
runq logs -f no-such-job
rc_is 66 "logs -f of an unknown id exits 66"

# --- output as it comes, from the beginning ---------------------------------------------
mkfifo f1 f2
runq enqueue --id live 'echo first; read x <f1; echo second; echo err-line >&2; read x <f2; echo third'
wait_for 30 "job live printed its first line" bash -c "grep -qx first '$SPOOL'/processing/*/live.stdout"
bg live q logs -f live --stdout
wait_for 30 "logs -f (started later) shows the first line" holds live '^first$'
check "... and goes on waiting" alive "$BG_PID"
release f1
wait_for 30 "logs -f shows the second line once printed" holds live '^second$'
unlike "$(bgout live)" "third" "... not a line not yet printed"
unlike "$(bgout live)" "err-line" "... nor stderr (--stdout)"
check "... still running" alive "$BG_PID"
release f2
wait_for 30 "logs -f ends when the job is done" ended live
is "$(bgrc live)" 0 "... with 0"
check "the job is done" in_state live done
is "$(bgout live)" "$(cat "$SPOOL/done/live.stdout")" "logs -f --stdout printed the log exactly"
like "$(head -n 1 "$TEST_DIR/live.out")" "^$MARKER_RE$" "... from its attempt marker on"

runq logs -f live
rc_is 0 "logs -f of a done job ends at once"
is "$out" "$(q logs live)" "... printing what logs prints (both streams, headers)"
runq logs -f --stderr live
is "$out" "$(cat "$SPOOL/done/live.stderr")" "logs -f --stderr prints the stderr log"

# --- a job that has not started -----------------------------------------------------------
runq enqueue --hold --id later 'echo started-now'
bg later q logs -f later
wait_for 30 "logs -f of a held job sleeps on inotify" watching "queuectl logs -f later"
check "... still running" alive "$BG_PID"
is "$(bgout later)" "" "... printing nothing yet"
runq release later
wait_for 30 "... and ends after the job ran" ended later
like "$(bgout later)" "started-now" "... with its output"

runq enqueue --hold --id vanishing true
bg vanishing q logs -f vanishing
wait_for 30 "logs -f of a held job sleeps on inotify (2)" watching "queuectl logs -f vanishing"
rm "$SPOOL/hold/vanishing.json"
wait_for 30 "logs -f ends when the job leaves the spool" ended vanishing
is "$(bgrc vanishing)" 66 "... with 66"

# --- enqueue --wait ----------------------------------------------------------------------
mkfifo fw
bg ew q enqueue --wait --max-retries 0 -- sh -c 'echo out-1; echo err-1 >&2; read x <fw; echo out-2; exit 7'
wait_for 30 "enqueue --wait copies stdout as it comes" holds ew '^out-1$'
wait_for 30 "... and stderr" bash -c "grep -qx err-1 '$TEST_DIR/ew.err'"
check "... while the job runs" alive "$BG_PID"
release fw
wait_for 30 "enqueue --wait returns when the job is dead" ended ew
is "$(bgrc ew)" 7 "... with the job's exit status 7"
is "$(bgout ew)" "$(printf 'out-1\nout-2')" "... stdout is the job's stdout exactly (no markers)"
ewid=$(head -n 1 "$TEST_DIR/ew.err")
check "... the id is the first line of stderr ($ewid)" exists "$SPOOL/dead/$ewid.json"
like "$(bgerr ew)" "err-1" "... stderr holds the job's stderr"
unlike "$(bgerr ew)" "=== queuectl" "... without markers"
like "$(bgerr ew)" "job $ewid failed: exit status 7" "... and why it failed"

runq enqueue --wait -- printf '%s\n' 'a b' c
rc_is 0 "enqueue --wait of a job that succeeds exits 0"
is "$out" "$(printf 'a b\nc')" "... printing its output"
is "$(wc -l <<<"$err")" 1 "... and only the id on stderr"

runq enqueue --wait --max-retries 1 'printf part; exit 3'
rc_is 3 "enqueue --wait of a job that fails twice exits 3"
is "$out" "partpart" "... its output of both attempts, markers dropped even mid-line"
check "... it made 2 attempts" jq -e '.attempts == 2' "$SPOOL/dead/$(head -n 1 <<<"$err").json"

runq enqueue --wait '{"command": "echo from-json; exit 0"}'
rc_is 0 "enqueue --wait of a JSON job"
is "$out" "from-json" "... prints its output"

runq enqueue --wait --batch </dev/null
rc_is 64 "enqueue --wait --batch is a usage error"

# --- attempts ----------------------------------------------------------------------------
q config set backoff_base 1000 >/dev/null  # a failed attempt waits in failed/
mkfifo fa1 fa2
runq enqueue --hold --id tries --max-retries 1 'if [ -e tried ]; then echo try-2; echo e-2 >&2; read x <fa2; exit 0; fi; touch tried; echo try-1; read x <fa1; exit 1'
bg all q logs -f tries --stdout
ALL_PID=$BG_PID
bg a1 q logs -f --attempt 1 tries --stdout
bg a2 q logs -f --attempt 2 --stderr tries
runq release tries
wait_for 30 "logs -f --attempt 1 shows attempt 1" holds a1 '^try-1$'
release fa1
wait_for 30 "tries waits in failed/" in_state tries failed
wait_for 30 "logs -f --attempt 1 ends when attempt 1 is over" ended a1
is "$(bgrc a1)" 0 "... with 0"
is "$(bgout a1 | grep -cE "$MARKER_RE")" 1 "... one attempt marker"
like "$(bgout a1 | head -n 1)" "attempt 1 on" "... attempt 1's"
check "logs -f (all attempts) goes on while the job is in failed/" alive "$ALL_PID"
is "$(bgout a2)" "" "logs -f --attempt 2 prints nothing yet"
runq hold tries
runq release tries
wait_for 30 "attempt 2 runs" holds all '^try-2$'
wait_for 30 "logs -f --attempt 2 --stderr shows attempt 2's stderr" holds a2 '^e-2$'
release fa2
wait_for 30 "logs -f of all attempts ends when the job is done" ended all
wait_for 30 "logs -f --attempt 2 ends too" ended a2
check "tries is done" in_state tries done
is "$(bgout all)" "$(cat "$SPOOL/done/tries.stdout")" "logs -f followed both attempts: the whole stdout log"
is "$(bgout all | grep -cE "$MARKER_RE")" 2 "... two markers"
unlike "$(bgout a2)" "try-" "--attempt 2 --stderr: no stdout"
like "$(bgout a2 | head -n 1)" "attempt 2 on" "... from attempt 2's marker"
runq logs --attempt 1 tries
like "$out" "==> stdout <==" "logs --attempt 1 (no -f) prints both streams"
like "$out" "try-1" "... attempt 1's output"
unlike "$out" "try-2|e-2" "... not attempt 2's"
runq logs --attempt 3 tries
rc_is 66 "logs --attempt 3 of a job that made 2 exits 66"
like "$err" "no attempt 3" "... saying so"

done_testing

#!/bin/bash
# 38-top: the dashboard. Not on a terminal it prints one plain snapshot; in
# a terminal (tmux) it shows counts, workers with their job, the last
# failures and the jobs finished, follows the spool as it changes, and its
# keys pause/resume the spool, retry the DLQ (after a y/n question) and quit.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null

# --- a snapshot when standard output is not a terminal -----------------------
runq enqueue --id waiting -- true
runq enqueue --id bad --max-retries 0 -- sh -c 'echo nope >&2; exit 3'
runq top
rc_is 0 "top with stdout not a terminal exits 0"
like "$out" "jobs: pending 2  processing 0  done 0  failed 0  dead 0" "... and prints the counts"
like "$out" "workers: 0" "... and the workers"
like "$out" "last failures:"$'\n'"  none" "... and that nothing failed"
check "... as plain text (no escape sequence)" bash -c '! grep -q $'"'"'\033'"'"' <<<"$1"' _ "$out"
runq top extra
rc_is 64 "top takes no argument"

# --- the same with a worker: failures and finished jobs -------------------------
start_workers 1
wait_for 30 "the failing job reaches dead/" exists "$SPOOL/dead/bad.json"
wait_for 30 "the other one done/" exists "$SPOOL/done/waiting.json"
runq top
like "$out" "  [0-9:]{8}  dead    bad  exit status 3" "the snapshot lists the dead job with its error"
like "$out" "finished: 2 in the last minute, 2 in the last hour" "... and counts the two finished jobs"
like "$out" "workers: 1"$'\n'"  [^ ]+ +pid ${WPIDS[0]} +idle" "... and the idle worker"

# --- in a terminal ---------------------------------------------------------------
if ! command -v tmux >/dev/null; then
	skip "tmux is not installed (tests/deps.sh test installs it)"
	done_testing
fi
TMUX_SOCK=$TEST_DIR/tmux.sock
tm() { tmux -S "$TMUX_SOCK" "$@"; }
pane() { tm capture-pane -p -t top 2>/dev/null; }
# pane_has REGEX: the screen shows REGEX
pane_has() {
	local p
	p=$(pane)
	[[ $p =~ $1 ]] || {
		echo "screen: $p"
		return 1
	}
}
trap 'tm kill-server 2>/dev/null; _cleanup' EXIT

tm new-session -d -s top -x 120 -y 40 -e "QUEUECTL_SPOOL=$SPOOL" -e LC_ALL=C \
	"exec '$QUEUECTL' top 2>'$TEST_DIR/top.err'"
TOP_PID=$(tm list-panes -t top -F '#{pane_pid}')
wait_for 30 "top draws its screen in a terminal" pane_has "queuectl top  $SPOOL"
check "... the header and keys are shown" pane_has "keys: q quit, p pause/resume the spool, r retry the DLQ"

touch "$TEST_DIR/hold-on"
runq enqueue --id slow -- sh -c "while [ -e '$TEST_DIR/hold-on' ]; do sleep 0.05; done"
wait_for 30 "the screen shows the running job and its worker" \
	pane_has "pid ${WPIDS[0]} +running slow for [0-9.]+ s"
check "... and the count of processing jobs" pane_has "processing 1"

tm send-keys -t top p
wait_for 30 "key p pauses the spool (SPOOL/paused)" exists "$SPOOL/paused"
wait_for 30 "... and the screen says so" pane_has "\[PAUSED\]"
rm -f "$TEST_DIR/hold-on"
wait_for 30 "the running job still finishes while paused" exists "$SPOOL/done/slow.json"
runq enqueue --id later -- true
wait_for 30 "a new job shows as pending" pane_has "pending 1 "
check "... and stays pending while paused" exists "$SPOOL/pending/later.json"

tm send-keys -t top r
wait_for 30 "key r asks before retrying the DLQ" pane_has "retry the 1 job of the DLQ\? y/n"
tm send-keys -t top n
wait_for 30 "n answers no" pane_has "DLQ not retried"
check "... and the dead job stays dead" exists "$SPOOL/dead/bad.json"
tm send-keys -t top r
wait_for 30 "asked again" pane_has "y/n"
tm send-keys -t top y
wait_for 30 "y retries it" pane_has "retried 1 dead job"
check "... it is back in pending/ (the spool is paused)" exists "$SPOOL/pending/bad.json"
jq_ok "... with a fresh start" "$SPOOL/pending/bad.json" '.attempts == 0 and .last_error == null'
check "... dead/ is empty" pane_has "dead 0"

tm send-keys -t top p
wait_for 30 "p again resumes the spool" absent "$SPOOL/paused"
wait_for 30 "the pending jobs run" exists "$SPOOL/done/later.json"

tm send-keys -t top q
wait_for 30 "q quits" dead_pid "$TOP_PID"
check "top wrote nothing to stderr" test ! -s "$TEST_DIR/top.err"
done_testing

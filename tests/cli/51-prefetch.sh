#!/bin/bash
# 51-prefetch: a worker that starts on a directory of more than 256 job
# files reads them with a prefetch thread ahead (src/prefetch.h): it opens
# regular files only (never a FIFO, which would block it, nor what a
# symlink names), every file is still looked at, and the jobs run in their
# order. On FUSE or a network filesystem there is no prefetch thread.
. "$(dirname "$0")/../lib.sh"

N=300
q init >/dev/null
# made first: the lowest inode numbers, so the first the prefetch meets
mkfifo "$SPOOL/pending/fifo.json"
ln -s "$SPOOL/pending/fifo.json" "$SPOOL/pending/link.json"
for i in $(seq -w 1 $N); do
	printf '{"command":"echo %s >>%s/ran","created_at":"2026-01-01T00:00:00.%03dZ"}\n' \
		"$i" "$TEST_DIR" "$((10#$i))" >"$SPOOL/pending/j$i.json"
done
printf '{"command":"echo first >>%s/ran","priority":-5}\n' "$TEST_DIR" >"$SPOOL/pending/zz-first.json"

# strace counts the prefetch's fadvise calls (one per regular job file
# it got to before the worker had read them all)
if command -v strace >/dev/null; then
	strace -f -qq -e trace=fadvise64 -o "$TEST_DIR/strace" \
		"$QUEUECTL" worker run </dev/null >>"$TEST_DIR/fg-worker.log" 2>&1 &
else
	"$QUEUECTL" worker run </dev/null >>"$TEST_DIR/fg-worker.log" 2>&1 &
fi
pid=$!
BG_PIDS+=("$pid")
wait_for 60 "all $((N + 1)) jobs are done" eval \
	'[ "$(count_json "$SPOOL/done")" = $((N + 1)) ]'
wait_for 20 "the FIFO is quarantined" exists "$SPOOL/dead/fifo.invalid"
wait_for 20 "the symlink is quarantined" exists "$SPOOL/dead/link.invalid"
is "$(head -n 1 "$TEST_DIR/ran")" first "the job of the highest priority ran first"
check "the others ran in created_at order" \
	eval 'tail -n +2 "$TEST_DIR/ran" | sort -c'
runq worker stop
rc_is 0 "worker stop"
wait_for 20 "the worker (and strace) ended" dead_pid "$pid"
if [ -f "$TEST_DIR/strace" ]; then
	n=$(grep -c 'POSIX_FADV_WILLNEED' "$TEST_DIR/strace")
	# it is stopped once the worker has read them all; none where the
	# spool is on FUSE or a network filesystem (tests/multihost/core.sh)
	if local_spool; then
		check "a prefetch thread ran ($n fadvise calls)" test "$n" -ge 1
	else
		is "$n" 0 "no prefetch thread on $SPOOL_FS (a local disk only)"
	fi
else
	skip "no strace: the prefetch calls are not counted"
fi

done_testing

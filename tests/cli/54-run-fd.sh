#!/bin/bash
# 54-run-fd: every process of a job holds the lease's run lock as descriptor
# 63 (spool-layout/README.md, "claim"), also when the worker's own
# descriptor of that lock already is 63: dup2(63, 63) changes nothing, so
# the close-on-exec flag must be cleared by hand.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null

# worker_with K: a foreground worker (FG_PID) started with descriptors 3 to
# K+2 open, so that its own descriptors come K higher
worker_with() {
	(
		for ((i = 3; i < 3 + $1; i++)); do
			eval "exec $i</dev/null"
		done
		exec "$QUEUECTL" worker run </dev/null >>"$TEST_DIR/w.log" 2>&1
	) &
	FG_PID=$!
	BG_PIDS+=("$FG_PID")
	wait_until 30 worker_ready "$FG_PID"
}

# Find how many inherited descriptors put the worker's run lock on 63.
found=
for ((k = 30; k <= 62; k++)); do
	worker_with "$k" || break
	if [[ "$(readlink "/proc/$FG_PID/fd/63" 2>/dev/null)" == */run ]]; then
		found=$k
		break
	fi
	kill "$FG_PID"
	wait "$FG_PID" 2>/dev/null
done
check "some number of inherited descriptors ($found) puts a worker's run lock on 63" \
	test -n "$found"
[ -n "$found" ] || { done_testing; exit; }

q enqueue --id r63 "readlink /proc/\$\$/fd/63" >/dev/null
wait_for 30 "the job runs" eval "exists '$SPOOL/done/r63.json' || exists '$SPOOL/failed/r63.json'"
check "... and succeeds (readlink finds its descriptor 63)" exists "$SPOOL/done/r63.json"
like "$(cat "$SPOOL"/*/r63.stdout 2>/dev/null)" "/run\$" \
	"... which is the run lock"
kill "$FG_PID"
wait "$FG_PID" 2>/dev/null

done_testing

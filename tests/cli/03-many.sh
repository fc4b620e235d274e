#!/bin/bash
# 03-many: 3 workers, 200 jobs from 4 concurrent producers: every job runs
# exactly once.
. "$(dirname "$0")/../lib.sh"

N=200
q init >/dev/null

start_workers 3
rc_is 0 "worker start --count 3 exits 0"
is "${#WPIDS[@]}" 3 "worker start --count 3 prints 3 pids"
is "$(printf '%s\n' "${WPIDS[@]}" | sort -u | wc -l)" 3 "the 3 pids differ"
for p in "${WPIDS[@]}"; do
	check "worker $p is alive and has its lease" worker_ready "$p"
done
is "$(ls "$SPOOL/processing" | wc -l)" 3 "3 lease directories"
runq status --json
is "$(jq -r '.workers | length' <<<"$out" 2>/dev/null)" 3 "status --json lists 3 workers"
is "$(jq -r '[.workers[].pid] | sort | map(tostring) | join(" ")' <<<"$out" 2>/dev/null)" \
	"$(printf '%s\n' "${WPIDS[@]}" | sort -n | tr '\n' ' ' | sed 's/ $//')" "status --json shows their pids"

# 4 producers x 50 jobs, at the same time, while the workers run
for p in 1 2 3 4; do
	(
		for i in $(seq 1 $((N / 4))); do
			"$QUEUECTL" enqueue 'echo "$QUEUECTL_JOB_ID" >> results' || echo "enqueue failed: $?" >&2
		done >"$TEST_DIR/ids.$p" 2>"$TEST_DIR/enqueue-err.$p"
	) &
	prod[$p]=$!
done
for p in 1 2 3 4; do
	wait "${prod[$p]}"
done
cat "$TEST_DIR"/ids.? >"$TEST_DIR/ids"
is "$(cat "$TEST_DIR"/enqueue-err.?)" "" "no enqueue failed"
is "$(wc -l <"$TEST_DIR/ids")" "$N" "$N ids printed"
is "$(sort -u "$TEST_DIR/ids" | wc -l)" "$N" "all $N generated ids are distinct"

wait_for 120 "all $N jobs reach done/" count_is done "$N"
check "pending/ is empty" test "$(count_json "$SPOOL/pending")" -eq 0
check "failed/ and dead/ are empty" dirs_empty "$SPOOL/failed" "$SPOOL/dead"
is "$(wc -l <"$TEST_DIR/work/results")" "$N" "results file has $N lines"
is "$(sort -u "$TEST_DIR/work/results" | wc -l)" "$N" "each job ran exactly once (no duplicate line)"
is "$(sort "$TEST_DIR/work/results" | tr '\n' ' ')" "$(sort "$TEST_DIR/ids" | tr '\n' ' ')" "the results are exactly the enqueued ids"
is "$(cat "$SPOOL"/done/*.json | jq -s 'map(select(.attempts != 1 or .exit_code != 0 or .state != "done")) | length')" 0 \
	"every done job: attempts 1, exit_code 0, state done"
workers=$(cat "$SPOOL"/done/*.json | jq -rs 'map(.worker) | unique | length')
diag "jobs were run by $workers distinct workers"
check "jobs were run by at least one of the 3 workers" test "$workers" -ge 1 -a "$workers" -le 3
is "$(ls "$SPOOL"/done/*.stdout | wc -l)" "$N" "every done job has its stdout log"
check "tmp/ is empty" test -z "$(ls -A "$SPOOL/tmp")"
runq status --json
is "$(jq -c .jobs <<<"$out" 2>/dev/null)" "{\"pending\":0,\"processing\":0,\"done\":$N,\"failed\":0,\"dead\":0,\"held\":0}" "status --json counts"
check "avg_duration_ms is a number" jq -e '.avg_duration_ms | type == "number"' <<<"$out"
runq list --state done --json
is "$(jq length <<<"$out" 2>/dev/null)" "$N" "list --state done --json has $N jobs"

runq worker stop
rc_is 0 "worker stop exits 0"
like "$out" "stopped 3 worker" "worker stop stops the 3 workers"
for p in "${WPIDS[@]}"; do
	check "worker $p exited" dead_pid "$p"
done
check "processing/ is empty" test -z "$(ls -A "$SPOOL/processing")"

done_testing

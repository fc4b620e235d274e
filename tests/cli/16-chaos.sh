#!/bin/bash
# 16-chaos: the chaos suite, short: 300 jobs (150 with an ASan build), 3
# workers, a kill -9 every 300 ms, one `worker stop --now` and one graceful
# stop; every job in done/ exactly once, re-run only after its worker was
# killed under it, never two runs at once. `make chaos` runs 2,000 jobs.
# Its TAP lines are tests/chaos.sh's.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
QUEUECTL=${QUEUECTL:-$TOP/queuectl}
jobs=300
case $QUEUECTL in *asan*) jobs=150 ;; esac
[ -n "${ASAN_RUN:-}" ] && jobs=150
export QUEUECTL
export CHAOS_JOBS=${CHAOS_CHECK_JOBS:-$jobs}
export CHAOS_WORKERS=3 CHAOS_KILL_MS=300
export CHAOS_DEADLINE=${CHAOS_CHECK_DEADLINE:-240} CHAOS_STALL=30
exec bash "$TOP/tests/chaos.sh"

#!/bin/sh
# A short tour of queuectl on a temporary spool: what `make demo` runs.
# Usage: tests/demo.sh [PATH-TO-QUEUECTL]
set -eu
Q=$(cd "$(dirname "${1:-./queuectl}")" && pwd)/$(basename "${1:-./queuectl}")
dir=$(mktemp -d /tmp/queuectl-demo.XXXXXX)
export QUEUECTL_SPOOL="$dir/spool"
trap '"$Q" worker stop --now >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT INT TERM
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

run "$Q" init
run "$Q" config set backoff_base 1.2        # quick retries for the demo
ok=$("$Q" enqueue 'echo "hello from $QUEUECTL_JOB_ID"; uname -sr')
say "$Q enqueue 'echo hello ...'"; echo "$ok"
run "$Q" enqueue --id flaky --max-retries 2 -- sh -c 'echo trying >&2; exit 3'
run "$Q" enqueue --id urgent --priority -10 'echo I run first'
run "$Q" enqueue --id later --delay 2 'date -u +"scheduled job ran at %T"'
run "$Q" list
run "$Q" worker start --count 2

# Wait until every job has finished (done or dead), at most 30 s.
i=0
until [ -z "$(find "$QUEUECTL_SPOOL/pending" "$QUEUECTL_SPOOL/failed" -name '*.json')" ] &&
      [ "$("$Q" status --json | jq '.jobs.processing')" = 0 ]; do
	i=$((i + 1)); [ $i -lt 300 ] || { echo "demo: jobs did not finish" >&2; exit 1; }
	sleep 0.1
done
run "$Q" status
run "$Q" list
run "$Q" dlq list
run "$Q" logs "$ok"
run "$Q" logs flaky --stderr
run "$Q" worker stop
say "ls $QUEUECTL_SPOOL/done"; ls "$QUEUECTL_SPOOL/done"
[ -f "$QUEUECTL_SPOOL/dead/flaky.json" ] && [ -f "$QUEUECTL_SPOOL/done/later.json" ]
echo; echo "demo finished: spool was $QUEUECTL_SPOOL (removed)"

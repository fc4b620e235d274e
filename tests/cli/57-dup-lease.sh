#!/bin/bash
# 57-dup-lease: a drop-in file whose id is running in another worker's lease
# is quarantined as a duplicate, unrun (spool-layout/README.md, "claim",
# step 2). The claiming worker looks into processing/ only when its link
# count says there is another lease than its own; here there is.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
start_workers 2
q enqueue --id d "while [ ! -e '$TEST_DIR/go' ]; do sleep 0.05; done; echo first" >/dev/null
wait_for 30 "d runs in a worker's lease" in_state d processing
lease=$(job_dir d)

printf '{"command":"touch %s/dup-ran"}' "$TEST_DIR" >"$SPOOL/tmp/.d"
mv "$SPOOL/tmp/.d" "$SPOOL/pending/d.json"
wait_for 30 "a drop-in d.json is quarantined by the other worker" \
	bash -c "grep -lx 'file: d.json' '$SPOOL'/dead/*.reason"
r=$(grep -lx 'file: d.json' "$SPOOL"/dead/*.reason 2>/dev/null | head -n1)
like "$(cat "${r:-/dev/null}")" "duplicate id: d already in processing/" "... as a duplicate of the running job"
check "... and never ran" absent "$TEST_DIR/dup-ran"
is "$(job_dir d)" "$lease" "the running d stays in its lease"

touch "$TEST_DIR/go"
wait_for 30 "the first d ends in done/" in_state d 'done'
is "$(grep -c first "$SPOOL/done/d.stdout")" 1 "... with its own output"
check "the duplicate did not run afterwards either" absent "$TEST_DIR/dup-ran"

done_testing

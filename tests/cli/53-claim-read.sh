#!/bin/bash
# 53-claim-read: a worker reads a job file once when it is indexed and, if
# the file it then claims is still the same (inode, size, mtime), does not
# read it again (spool-layout/README.md, "The cost of a job"). A file
# replaced in between runs with its new contents.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q pause >/dev/null
T=$SPOOL/tmp
P=$SPOOL/pending

# Indexed by the worker's start-up scan (done before `worker start`
# returns): the worker keeps its text. The replacement, of the same size
# and mtime, only refreshes the index entry, and the claim (after resume)
# finds another inode in its lease.
printf '{"command":"echo one > %s/x.out"}' "$TEST_DIR" >"$T/x1"
mv "$T/x1" "$P/x.json"
start_workers 1
printf '{"command":"echo two > %s/x.out"}' "$TEST_DIR" >"$T/x2"
touch -r "$P/x.json" "$T/x2"     # the same mtime: only the inode differs
mv "$T/x2" "$P/x.json"
q resume >/dev/null
wait_for 30 "the replaced job runs" exists "$SPOOL/done/x.json"
is "$(cat "$TEST_DIR/x.out" 2>/dev/null)" two "... with the contents it had when claimed"
jq_ok "... which its file in done/ has" "$SPOOL/done/x.json" '.command | test("echo two")'

# The usual case: indexed on its event, claimed at once, read once.
q enqueue --id y "echo three > '$TEST_DIR/y.out'" >/dev/null
wait_for 30 "a job enqueued to an idle worker runs" exists "$SPOOL/done/y.json"
is "$(cat "$TEST_DIR/y.out" 2>/dev/null)" three "... as enqueued"

done_testing

#!/bin/bash
# 20-floor: enqueue refuses new jobs when the spool's filesystem has less
# free space than config min_free (percent), as mail spools do.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
is "$(q config get min_free)" 1 "min_free defaults to 1 (percent)"
runq config set min_free 100
rc_is 0 "config set min_free 100"
runq enqueue true
rc_is 75 "with min_free 100 enqueue is a temporary failure (75)"
like "$err" "min_free" "... naming the setting"
check "nothing was written to pending/" test "$(count_json "$SPOOL/pending")" -eq 0
check "nothing was left in tmp/" test -z "$(ls -A "$SPOOL/tmp")"
runq config set min-free 0
rc_is 0 "config set min-free 0 (off)"
runq enqueue true
rc_is 0 "with min_free 0 enqueue works"
runq config set min_free 101
rc_is 64 "min_free 101 is refused (64)"
like "$err" "0 to 100" "... with the range"

done_testing

#!/bin/bash
# 45-after-retry: dependencies count until a job's first attempt only. A
# retry does not wait again (its dependency may be purged from done/
# meanwhile, and it still runs); dlq retry, which resets attempts, makes them
# count again.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set backoff_base 1000 >/dev/null     # a failed job waits long
fg_worker

runq enqueue --id dep true
wait_for 30 "the dependency is done" in_state dep done
runq enqueue --id r --max-retries 2 --after dep "[ -e go ] || exit 3"
rc_is 0 "a job after it"
wait_for 30 "its first attempt fails" in_state r failed
jq_ok "... attempts 1" "$SPOOL/failed/r.json" '.attempts == 1'

# --- a retry does not wait for its dependency again ----------------------------
runq purge --state done
rc_is 0 "purge the dependency"
check "... dep is gone" absent "$SPOOL/done/dep.json"
touch go
runq hold r
runq release r
rc_is 0 "hold and release: the retry is due at once"
wait_for 30 "the retry runs although dep is gone" in_state r done
jq_ok "... attempts 2, no error" "$SPOOL/done/r.json" '.attempts == 2 and .last_error == null'

# --- dlq retry makes the dependencies count again -----------------------------
rm -f go
runq enqueue --id r2 --max-retries 0 --after r "[ -e go ] || exit 3"
wait_for 30 "r2 fails for good" in_state r2 dead
runq purge --state done
check "... its dependency r is gone" absent "$SPOOL/done/r.json"
runq dlq retry r2
rc_is 0 "dlq retry r2"
wait_for 30 "r2 goes to dead/ again, for its unknown dependency" in_state r2 dead
jq_ok "... without running" "$SPOOL/dead/r2.json" \
	'.attempts == 0 and .last_error == "dependency r unknown"'

done_testing

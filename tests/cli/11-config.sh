#!/bin/bash
# 11-config: config get/set/list, key spellings, errors naming the key and
# range, the file readable with cat, changes seen by a running worker.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null

# numeq A B: numerically equal
numeq() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0 && a != "") }'
}

declare -A defaults=([max_retries]=3 [backoff_base]=2 [backoff_max]=3600 [timeout]=0 [kill_grace]=5 [log_max_bytes]=10485760 [sync]=1)
for k in max_retries backoff_base backoff_max timeout kill_grace log_max_bytes sync; do
	runq config get "$k"
	rc_is 0 "config get $k exits 0"
	check "default $k = ${defaults[$k]} (got '$out')" numeq "$out" "${defaults[$k]}"
done

runq config list
rc_is 0 "config list exits 0"
is "$(grep -cE '^[a-z_]+ = .+$' <<<"$out")" 14 "config list prints 14 'key = value' lines"
for k in "${!defaults[@]}"; do
	check "config list has $k" grep -qE "^$k = " <<<"$out"
done
runq config get
rc_is 0 "config get without a key exits 0"
is "$(grep -cE '^[a-z_]+ = .+$' <<<"$out")" 14 "config get prints all 14 keys"
runq config list --json
rc_is 0 "config list --json exits 0"
check "config list --json is an object with the 14 keys" jq -e '(keys | sort) == ["backoff_base","backoff_max","keep_dead","keep_done","kill_grace","lease_check","lease_timeout","lock_failover","log_max_bytes","max_retries","min_free","poll_interval","sync","timeout"]' <<<"$out"
check "... the multi-host timings auto, lock_failover 42" jq -e '.poll_interval == "auto" and .lease_check == "auto" and .lease_timeout == "auto" and .lock_failover == 42' <<<"$out"
check "config list --json values are numbers" jq -e '.max_retries == 3 and .backoff_base == 2 and .log_max_bytes == 10485760' <<<"$out"
check "... and durations text" jq -e '.keep_done == "forever" and .keep_dead == "forever"' <<<"$out"

# --- set -------------------------------------------------------------------------------
runq config set max-retries 5
rc_is 0 "config set max-retries (dashes) exits 0"
is "$(q config get max_retries)" 5 "dashes and underscores are the same key"
is "$(q config get max-retries)" 5 "config get with dashes"
check "SPOOL/config is readable with cat: max_retries = 5" grep -qE '^max_retries *= *5$' "$SPOOL/config"
is "$(stat -c %a "$SPOOL/config" 2>/dev/null)" 600 "config file has mode 0600"
runq config set max_retries 6
is "$(grep -cE '^max[-_]retries' "$SPOOL/config")" 1 "setting a key again replaces its line"
is "$(q config get max_retries)" 6 "new value read back"
runq config set backoff_base 1.5
check "backoff_base 1.5" numeq "$(q config get backoff_base)" 1.5
runq config set log_max_bytes 2M
is "$(q config get log_max_bytes)" 2097152 "log_max_bytes 2M = 2097152"
runq config set log_max_bytes 3k
is "$(q config get log_max_bytes)" 3072 "log_max_bytes 3k = 3072"
runq config set log_max_bytes 1G
is "$(q config get log_max_bytes)" 1073741824 "log_max_bytes 1G"
for v in off no false 0; do
	runq config set sync "$v"
	rc_is 0 "config set sync $v"
	is "$(q config get sync)" 0 "sync $v = 0"
done
for v in on yes true 1; do
	runq config set sync "$v"
	is "$(q config get sync)" 1 "sync $v = 1"
done
runq config set timeout 2.5
check "timeout 2.5" numeq "$(q config get timeout)" 2.5
runq config set kill-grace 0
rc_is 0 "kill_grace 0 is allowed"

# --- errors ---------------------------------------------------------------------------
cp "$SPOOL/config" "$TEST_DIR/config.saved"
runq config set nosuchkey 1
rc_is 64 "unknown key: exit 64"
like "$err" "nosuchkey" "unknown key: the message names the key"
like "$err" "^queuectl: " "unknown key: message starts with 'queuectl: '"
runq config get nosuchkey
rc_is 64 "config get of an unknown key: exit 64"
like "$err" "nosuchkey" "... names the key"
bad=("backoff_base 0.5" "backoff_base abc" "backoff_base 1001" "max_retries -1" "max_retries 1.5" "max_retries x"
	"timeout -3" "timeout 1x" "kill_grace -1" "sync 2" "sync maybe" "log_max_bytes 1X" "log_max_bytes -5" "backoff_max -1" "max_retries ''")
for kv in "${bad[@]}"; do
	k=${kv%% *}
	v=${kv#* }
	[ "$v" = "''" ] && v=
	runq config set "$k" "$v"
	rc_is 64 "config set $kv: exit 64"
	like "$err" "$k" "config set $kv: the message names the key"
done
runq config set backoff_base 0.5
like "$err" "1.*1000" "backoff_base error names the accepted range (1 to 1000)"
runq config set max_retries -1
like "$err" "[0-9]" "max_retries error names the accepted range"
check "bad sets left the config file unchanged" cmp "$TEST_DIR/config.saved" "$SPOOL/config"
runq config set max_retries
rc_is 64 "config set without a value: 64"
runq config frob
rc_is 64 "config frob: 64"

# --- hand-edited file ----------------------------------------------------------------
printf '# my settings\nmax-retries = 2\n\nbackoff_base = 3\n' >"$SPOOL/config"
is "$(q config get max_retries)" 2 "a hand-written file with comments and dashes is read"
runq config set timeout 7
rc_is 0 "config set on a hand-written file"
check "... keeps the comment" grep -qx '# my settings' "$SPOOL/config"
check "... keeps the other settings" numeq "$(q config get backoff_base)" 3
is "$(q config get max_retries)" 2 "... and max_retries"
is "$(q config get timeout)" 7 "... and sets timeout"
printf 'max_retries = 2\nbogus_key = 1\n' >"$SPOOL/config"
runq config get max_retries
rc_is 0 "a config file with an unknown key: commands still work"
like "$err" "bogus_key|line 2" "... with a warning naming the key or the line"
is "$out" 3 "... and the defaults in force"
runq config set max_retries 4
rc_is 0 "... config set still works on it"
printf 'max_retries = 2\n' >"$SPOOL/config"

# --- a running worker sees changes without a restart -------------------------------
runq config set max_retries 3
runq config set backoff_base 1
start_workers 1
runq enqueue --id before 'exit 1'
wait_for 30 "with max_retries 3 a failing job goes to failed/" exists "$SPOOL/failed/before.json"
runq config set max_retries 0
rc_is 0 "config set max_retries 0 while the worker runs"
runq enqueue --id after 'exit 1'
wait_for 30 "the running worker applies max_retries 0: straight to dead/" exists "$SPOOL/dead/after.json"
jq_ok "... with attempts 1" "$SPOOL/dead/after.json" '.attempts == 1'
runq enqueue --id explicit --max-retries 1 'exit 1'
wait_for 30 "a job's own max_retries beats the config" exists "$SPOOL/dead/explicit.json"
jq_ok "... attempts 2" "$SPOOL/dead/explicit.json" '.attempts == 2'
check "the worker was not restarted" alive "${WPIDS[0]}"

done_testing

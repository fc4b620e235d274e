#!/bin/bash
# 42-doctor: queuectl doctor reports the spool's filesystem, how workers
# watch it, the lease timings and the workers; it exits 0 when the settings
# keep the rules, 1 with a warning line for each rule broken (status shows
# the same warnings); the new config keys refuse bad values, naming the
# range.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null

# on a local disk; tests/multihost/core.sh runs this on GlusterFS (FUSE),
# where the auto values are those of a network filesystem
run q doctor
rc_is 0 "doctor on a fresh spool: exit 0"
like "$out" "^spool: $SPOOL" "it names the spool"
if local_spool; then
	like "$out" "filesystem: [a-z0-9]+ \(local\)" "the filesystem is local"
	like "$out" "workers watch: inotify only" "workers will use inotify only"
	like "$out" "lease: confirmed every 10 s \(lease_check\), fenced after 60 s" "the lease timings (auto)"
	watch="inotify only"
else
	like "$out" "filesystem: [a-z0-9]+ \(network or FUSE" "the filesystem ($SPOOL_FS) is a network or FUSE one"
	like "$out" "workers watch: inotify, and rescan every 1 s" "workers will poll every second"
	like "$out" "lease: confirmed every 7.875 s \(lease_check\), fenced after 31.5 s" "the lease timings (auto, lock_failover 42 s)"
	watch=polling
fi
like "$out" "permissions: mode 0700" "the spool's mode"
like "$out" "workers: 0 alive" "no worker"
like "$out" "no warnings" "no warnings"

fg_worker
w=$FG_PID
run q doctor
like "$out" "workers: 1 alive: [A-Za-z0-9-]+-$w \([a-z0-9]+, $watch\)" "it lists the live worker"

# the liveness rule: lease_check at most half of lease_timeout
q config set lease_timeout 4
q config set lease_check 3
run q doctor
rc_is 1 "lease_check 3 s of lease_timeout 4 s: exit 1"
like "$out" "warning: lease_check \(3 s\) is more than half of lease_timeout \(4 s\)" "and says why"
runq status
like "$out" "warning: lease_check \(3 s\) is more than half" "status shows the warning too"
runq status --json
like "$(jq -r '.warnings[0]' <<<"$out")" "^lease_check \(3 s\) is more than half" "status --json has it in warnings"
q config set lease_check 2
run q doctor
rc_is 0 "lease_check 2 s of 4 s: exit 0"
runq status --json
is "$(jq -c .warnings <<<"$out")" "[]" "status --json: no warnings"

# a local disk has no lock failover to respect; poll_interval is a knob there
q config set lock_failover 3
run q doctor
if local_spool; then
	rc_is 0 "lock_failover is not checked on a local disk"
else
	rc_is 1 "lock_failover 3 s with lease_timeout 4 s on $SPOOL_FS: exit 1"
	like "$out" "warning: lease_timeout \(4 s\) \+ 1 s is more than lock_failover \(3 s\)" "and says why"
fi
q config set poll_interval 0.5
run q doctor
like "$out" "workers watch: inotify, and rescan every 0.5 s" "an explicit poll_interval is in force on a local disk too"

# ranges
for kv in "poll_interval -1" "poll_interval 3601" "lease_check 0" "lease_timeout 0.1" \
	"lock_failover auto" "lock_failover 0.5"; do
	# shellcheck disable=SC2086
	run q config set $kv
	rc_is 64 "config set $kv refused"
	like "$err" "${kv%% *}: bad value .*must be" "the error names ${kv%% *} and its range"
done
run q config set lease-check auto
rc_is 0 "lease-check auto accepted"

# a bad config file is a warning
printf 'lease_timeout = soon\n' >>"$SPOOL/config"
run q doctor
rc_is 1 "a config file with a bad value: exit 1"
like "$out" "warning: config: line [0-9]+: lease_timeout: bad value 'soon'" "doctor says which line"

# usage
run q doctor extra
rc_is 64 "doctor takes no argument"

kill "$w"
done_testing

#!/bin/bash
# tests/multihost/measure.sh - the figures of tests/multihost/README.md.
#
# On a fresh GlusterFS volume with 3 hosts (gluster.sh): set-up and
# teardown time; enqueue rates (one process per job with and without sync,
# and --batch) on the volume and on local disk; worker throughput on the
# volume (2 workers per host, jobs `true`); lock failover, as seen by a
# blocked flock(1) on another host, after SIGKILL of the holder, after the
# holder's FUSE client dies, and after the holder's host is cut off (and
# what the cut-off holder's flock -n on its own descriptor says after the
# heal, with and without another host holding the lock then). Prints one
# "figure: NAME VALUE" line each; not a test (no assertions).
#
#   MEASURE_JOBS (600)   jobs for the rates   MEASURE_ROUNDS (5) lock rounds
#   QUEUECTL             the binary (default: ./queuectl at the top)

export LC_ALL=C
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JOBS=${MEASURE_JOBS:-600}
ROUNDS=${MEASURE_ROUNDS:-5}

# shellcheck source=tests/multihost/gluster.sh
. "$HERE/gluster.sh"
gluster_require
gluster_install || exit 1
cd / || exit 1

fig() { echo "figure: $*"; }
ns() { date +%s%N; }
ms_since() { echo $((($(ns) - $1) / 1000000)); }

gluster_up 3 || exit 1
fig "setup_ms $QMH_UP_MS"
Q=$QUEUECTL
m1=$(host_mnt 1) m2=$(host_mnt 2) m3=$(host_mnt 3)
PRELOAD=
if ! on_host 1 "$Q" init >/dev/null; then
	echo "queuectl init fails on the volume" >&2
	exit 1
fi
LOCAL=$(mktemp -d /tmp/qmh-local.XXXXXX)

# rate N DESC CMD...: run CMD (a loop of N submissions), print jobs/s
rate() {
	local n=$1 d=$2 t
	shift 2
	t=$(ns)
	"$@" >/dev/null
	fig "$d $(awk -v n="$n" -v ms="$(ms_since "$t")" 'BEGIN { printf "%.0f", n * 1000 / ms }')"
}
loop='for ((i = 0; i < $1; i++)); do "$2" enqueue $3 --id "$4$i" true >/dev/null || exit 1; done'
rate 200 submit_sync_per_s on_host 1 bash -c "$loop" - 200 "$Q" "" s
rate 200 submit_nosync_per_s on_host 1 bash -c "$loop" - 200 "$Q" --no-sync n
rate "$JOBS" submit_batch_per_s on_host 1 bash -c 'seq "$1" | sed "s/.*/true/" | "$2" enqueue --batch' - "$JOBS" "$Q"
rate 200 local_submit_sync_per_s env QUEUECTL_SPOOL="$LOCAL/spool" bash -c "$loop" - 200 "$Q" "" s
rate 200 local_submit_nosync_per_s env QUEUECTL_SPOOL="$LOCAL/spool" bash -c "$loop" - 200 "$Q" --no-sync n
rm -rf "$LOCAL"

# worker throughput: everything above (400 + JOBS jobs) with 2 workers a host
total=$((400 + JOBS))
if ! on_host 2 "$Q" worker start >/dev/null 2>&1; then
	fig "worker_start_plain failed: $(tail -n 1 "$m1/spool/worker.log")"
	cc -shared -fPIC -o "$QMH_DIR/noreplace.so" "$HERE/noreplace.c" -ldl || exit 1
	PRELOAD=$QMH_DIR/noreplace.so
	echo "# workers run with the test shim tests/multihost/noreplace.c from here on" >&2
fi
on_host 2 "$Q" worker stop >/dev/null 2>&1
t=$(ns)
for n in 1 2 3; do
	on_host "$n" env ${PRELOAD:+LD_PRELOAD=$PRELOAD} "$Q" worker start --count 2 >/dev/null
done
end=$(($(ns) + 300000000000))
while [ "$(find "$m1/spool/done" -name '*.json' | wc -l)" -lt "$total" ] && [ "$(ns)" -lt "$end" ]; do
	sleep 0.1
done
el=$(ms_since "$t")
fig "workers_6_jobs_per_s $(awk -v n="$total" -v ms="$el" 'BEGIN { printf "%.0f", n * 1000 / ms }') ($total jobs in $el ms, $(find "$m1/spool/done" -name '*.json' | wc -l) done)"
fig "jobs_per_host $(cat "$m1"/spool/done/*.json | jq -r .worker | cut -d- -f1 | sort | uniq -c | tr -s ' \n' ' ')"
# a job enqueued on h1 while only h2 and h3 have workers
on_host 1 "$Q" worker stop >/dev/null
on_host 1 "$Q" enqueue --id crosshost true >/dev/null
t=$(ns)
qmh_wait 20 test -e "$m1/spool/done/crosshost.json"
if [ -e "$m1/spool/done/crosshost.json" ]; then
	fig "crosshost_pickup_ms $(ms_since "$t")"
else
	fig "crosshost_pickup_ms >20000 (still in $(cd "$m1/spool" && ls -d */crosshost.json */*/crosshost.json 2>/dev/null))"
fi
for n in 2 3; do on_host "$n" "$Q" worker stop >/dev/null; done

# --- lock failover ------------------------------------------------------------
: >"$m1/lk"
# holder N [SECS]: host N locks lk (fd 9) and sleeps SECS; then tries
# flock -n on its own descriptor and writes the result to $QMH_DIR/relock
holder() {
	on_host "$1" bash -c 'exec 9>>"$1" && flock 9 && echo "locked $$" >"$2" &&
		sleep "$3" 9>&-; flock -n 9; echo "relock exit $?" >>"$2"' - "$(host_mnt "$1")/lk" "$QMH_DIR/relock" "${2:-600}" \
		>/dev/null 2>>"$QMH_DIR/measure.err" &
	HOLDER_JOB=$!
	qmh_wait 10 grep -q locked "$QMH_DIR/relock"
	# the locking bash itself (on_host execs into it), not the subshell
	HOLDER=$(awk '$1 == "locked" { print $2 }' "$QMH_DIR/relock")
}
# waiter N HOLD: host N blocks on lk, writes the time it got it, keeps it HOLD s
waiter() {
	rm -f "$QMH_DIR/got"
	on_host "$1" flock -w 120 "$(host_mnt "$1")/lk" sh -c 'date +%s%N >"$1"; sleep "$2"' - "$QMH_DIR/got" "$2" \
		>/dev/null 2>>"$QMH_DIR/measure.err" &
	WAITER=$!
	sleep 0.3
}
got_ms() { # $1: start ns
	qmh_wait 120 test -s "$QMH_DIR/got"
	echo $((($(cat "$QMH_DIR/got") - $1) / 1000000))
}
# rounds HOW: ROUNDS times, h1 holds, h2 waits, HOW ends h1's hold ("holder":
# SIGKILL of the holding process, "client": of h1's FUSE client); the times
drop_holder() { kill -9 "$HOLDER"; }
drop_client() { kill_client 1; }
rounds() {
	local r list=
	for ((r = 0; r < ROUNDS; r++)); do
		rm -f "$QMH_DIR/relock"
		holder 1
		waiter 2 0
		t=$(ns)
		"drop_$1"
		list+=" $(got_ms "$t")"
		wait "$WAITER" 2>/dev/null
		kill -9 "$HOLDER" 2>/dev/null
		wait "$HOLDER_JOB" 2>/dev/null
		[ "$1" = client ] && { remount 1 || exit 1; }
	done
	echo "$list"
}
fig "failover_sigkill_ms$(rounds holder)"
fig "failover_client_killed_ms$(rounds client)"
# host cut: the waiter on h2 keeps the lock for HOLD s (first round) or
# lets it go at once (second); the holder on h3 tries again after the heal
for hold in 30 0; do
	rm -f "$QMH_DIR/relock"
	holder 3 25
	waiter 2 "$hold"
	t=$(ns)
	host_cut 3
	ms=$(got_ms "$t")
	sleep $((QMH_TIMEOUT * 2))
	host_heal 3
	qmh_wait 60 grep -q relock "$QMH_DIR/relock"
	fig "failover_cut_ms $ms (ping-timeout $QMH_TIMEOUT s); other host holding after heal: $([ "$hold" = 0 ] && echo no || echo yes); cut-off holder's flock -n on its own fd after heal: $(grep relock "$QMH_DIR/relock" || echo none)"
	wait "$HOLDER_JOB" "$WAITER" 2>/dev/null
	qmh_wait 60 ls "$m3/lk"
done

id=$QMH_ID
gluster_down
fig "teardown_ms $QMH_DOWN_MS"
ip netns list | grep -q "^$id-" && echo "namespaces left!" >&2
exit 0

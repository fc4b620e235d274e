#!/bin/bash
# tests/multihost/smoke.sh - does the harness work? (tests/multihost/gluster.sh)
#
# Brings up the volume and 3 hosts, checks that each host has its own mount,
# network namespace and host name, that a file written on one host is read
# on another, that renames and flock(1) are exclusive across hosts, that a
# cut host cannot reach the server and a healed one can, that a killed
# client's mount fails and a remount works; then tears down and checks that
# no namespace, mount or process is left. TAP; skips (exit 0) without root
# or /dev/fuse.

export LC_ALL=C
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source=tests/multihost/gluster.sh
. "$HERE/gluster.sh"
gluster_require

# shellcheck source=tests/multihost/tap.sh
. "$HERE/tap.sh"
# t DESC CMD...: one TAP line from CMD's status, its output as diagnostics
t() {
	local d=$1 o
	shift
	if o=$("$@" 2>&1); then
		ok "$d"
	else
		not_ok "$d"
		[ -n "$o" ] && sed 's/^/# /' <<<"$o" >&2
	fi
}
if ! gluster_install; then
	not_ok "GlusterFS is installed"
	echo "1..$T_N"
	exit 1
fi
if gluster_up 3; then
	ok "gluster_up: volume and 3 hosts in $QMH_UP_MS ms"
else
	not_ok "gluster_up"
	echo "1..$T_N"
	exit 1
fi

t "three distinct live mounts" bash -c '[ "$(grep -c " '"$QMH_DIR"'/mnt/h[0-9] fuse.glusterfs " /proc/mounts)" = 3 ]'
names=$(for n in 1 2 3; do on_host "$n" hostname; done | tr '\n' ' ')
t "each host has its own host name ($names)" test "$names" = "h1 h2 h3 "
t "the machine's host name is untouched" test "$(hostname)" != h1
addr=$(on_host 2 ip -4 -o addr show dev eth0 | awk '{ print $4 }')
t "host 2 has its own address ($addr)" test "$addr" = "$QMH_NET.12/24"
t "host 1's FUSE client lives in host 1's netns" bash -c \
	"ip netns pids $QMH_ID-h1 | grep -qx $(client_pid 1)"

m1=$(host_mnt 1) m2=$(host_mnt 2) m3=$(host_mnt 3)
echo hello >"$m1/x"
t "a file written on h1 is read on h2" test "$(cat "$m2/x")" = hello

# rename race: the same name renamed from two hosts, exactly one wins
wins=0 rounds=50
mkdir -p "$m1/a" "$m1/b" "$m1/c"
for ((i = 0; i < rounds; i++)); do
	echo "$i" >"$m1/a/f$i"
	on_host 2 mv "$m2/a/f$i" "$m2/b/f$i" 2>/dev/null &
	p=$!
	on_host 3 mv "$m3/a/f$i" "$m3/c/f$i" 2>/dev/null
	r3=$?
	wait $p
	r2=$?
	[ $((r2 == 0)) != $((r3 == 0)) ] && wins=$((wins + 1))
done
t "rename of one name from two hosts: exactly one wins ($wins of $rounds)" test "$wins" = "$rounds"

# flock across hosts
: >"$m1/lock"
on_host 1 flock "$m1/lock" sleep 3 &
holder=$!
sleep 1
t "flock held on h1 is exclusive on h2" bash -c "! timeout 5 flock -n '$m2/lock' true"
wait $holder
t "and free on h2 once h1 lets go" timeout 5 flock -n "$m2/lock" true

# cut and heal
host_cut 3
t "a cut host cannot reach the server" bash -c "! on_host 3 bash -c 'timeout 2 bash -c \"exec 3<>/dev/tcp/$QMH_NET.1/24007\"' 2>/dev/null"
host_heal 3
t "a healed host can" qmh_wait 10 on_host 3 bash -c "timeout 2 bash -c 'exec 3<>/dev/tcp/$QMH_NET.1/24007'"
t "and its mount works again" qmh_wait 30 ls "$m3/x"

# kill the client, remount
kill_client 2
sleep 0.2
t "a killed client's mount fails" bash -c "! timeout 5 cat '$m2/x'"
t "remount brings it back" remount 2
t "and it reads the volume" test "$(cat "$m2/x")" = hello

id=$QMH_ID dir=$QMH_DIR
gluster_down
t "gluster_down: done in $QMH_DOWN_MS ms" true
t "no namespace left" bash -c "! ip netns list | grep -q '^$id-'"
t "no mount left" bash -c "! grep -q ' $dir/' /proc/mounts"
# ([/] keeps the pattern from matching the bash -c that runs pgrep)
t "no gluster process of ours left" bash -c "! pgrep -fa -- '[/]${dir#/}/'"
t "its directory is gone" test ! -e "$dir"
gluster_down
t "gluster_down twice is harmless" true

echo "1..$T_N"
tap_tally

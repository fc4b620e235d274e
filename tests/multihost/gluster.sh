# tests/multihost/gluster.sh - a GlusterFS volume mounted by several
# simulated hosts on this one machine (sourced by tests/multihost/*.sh).
#
# Needs root, /dev/fuse, iproute2 and util-linux (nsenter, unshare); GlusterFS
# is installed from Debian when missing. Nothing here touches the machine's
# own network namespace, routes or firewall: every interface and address is
# made inside namespaces of ours, named $QMH_ID-* (QMH_ID=qmh-PID-RANDOM).
#
#   server   netns $QMH_ID-srv: bridge qmh-br 10.200.0.1/24, glusterd (its
#            own working, run and log directories and CLI socket under
#            $QMH_DIR, no systemd), one brick ($QMH_DIR/brick), volume qmhvol
#   host N   netns $QMH_ID-hN: eth0 10.200.0.(10+N)/24, the other end of
#            the veth (qmh-hN) on the server's bridge; its own glusterfs FUSE
#            client (own caches, lock owner, TCP connections) mounted at
#            $QMH_DIR/mnt/hN; commands run with host name hN (own UTS ns)
#
# Functions:
#   gluster_require      exit 0 with "skipped: needs root and /dev/fuse" (and a
#                        TAP "1..0 # SKIP" line) unless both are there; else
#                        set the traps: gluster_down on exit, exit on signals
#   gluster_install      install glusterfs-server and glusterfs-client (apt-get)
#   gluster_up [N]       bring up the server and N hosts (default $QMH_HOSTS, 3);
#                        returns 1 (with a message on stderr) on failure: call
#                        gluster_down then (it is safe at any point)
#   gluster_down         kill every process in our namespaces, unmount, delete
#                        the namespaces (and with them the veths and bridge)
#                        and $QMH_DIR; idempotent, meant for an EXIT trap
#   on_host N CMD...     run CMD as host N: in its netns, with host name hN,
#                        QUEUECTL_SPOOL=$(host_mnt N)/spool
#   host_mnt N           host N's mount point
#   host_cut N           cut host N off (its bridge port down: packets are
#                        dropped, nobody is told, as with a pulled cable)
#   host_heal N          bring it back
#   kill_client N        SIGKILL host N's FUSE client (its mount then fails
#                        with ENOTCONN)
#   remount N            lazy-unmount host N's mount and mount it again
#   gluster_cli ARGS...  the gluster CLI, talking to our glusterd
#   client_pid N         pid of host N's FUSE client
#
# Settings (environment):
#   QMH_HOSTS (3)        hosts made by gluster_up
#   QMH_TIMEOUT (5)      network.ping-timeout and the TCP keepalive and
#                        user timeouts of clients and bricks, in seconds
#   QMH_VOL_OPTS         more "key value" pairs for `gluster volume set`
#   QMH_CLIENT_OPTS      more options for each glusterfs client, e.g.
#                        "--entry-timeout=0 --attribute-timeout=0"
#   QMH_TMP (/tmp)       where $QMH_DIR is made (a local file system)
#   QUEUECTL             the binary the scripts run (absolute after this
#                        file; default ./queuectl at the top of the tree,
#                        which is $TOP)

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QUEUECTL=${QUEUECTL:-$TOP/queuectl}
case $QUEUECTL in /*) ;; *) QUEUECTL=$PWD/$QUEUECTL ;; esac
QMH_HOSTS=${QMH_HOSTS:-3}
QMH_TIMEOUT=${QMH_TIMEOUT:-5}
QMH_ID=${QMH_ID:-qmh-$$-$RANDOM}
QMH_DIR=${QMH_DIR:-}
QMH_VOL=qmhvol
QMH_SRV=$QMH_ID-srv
QMH_NET=10.200.0

# The options every run sets: failover after QMH_TIMEOUT seconds, and no
# client-side cache of file contents or of closes, so that what one host
# wrote and renamed is what another host reads.
qmh_vol_options() {
	local t=$QMH_TIMEOUT
	echo "network.ping-timeout $t"
	echo "server.tcp-user-timeout $t client.tcp-user-timeout $t"
	echo "server.keepalive-time $t server.keepalive-interval 1 server.keepalive-count 2"
	echo "client.keepalive-time $t client.keepalive-interval 1 client.keepalive-count 2"
	echo "performance.quick-read off performance.io-cache off"
	echo "performance.flush-behind off performance.open-behind off"
	echo "client.strict-locks on"
	[ -n "${QMH_VOL_OPTS:-}" ] && echo "$QMH_VOL_OPTS"
	return 0
}

qmh_log() {
	echo "# gluster: $*" >&2
}

qmh_now_ms() {
	date +%s%3N
}

gluster_require() {
	if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then
		echo "1..0 # SKIP needs root and /dev/fuse"
		echo "skipped: needs root and /dev/fuse"
		exit 0
	fi
	trap gluster_down EXIT
	trap 'exit 130' INT TERM HUP
}

gluster_install() {
	command -v glusterd >/dev/null && command -v glusterfs >/dev/null && return 0
	qmh_log "installing glusterfs-server and glusterfs-client from Debian"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q glusterfs-server glusterfs-client >"${TMPDIR:-/tmp}/qmh-apt.log" 2>&1; then
		apt-get update -q >>"${TMPDIR:-/tmp}/qmh-apt.log" 2>&1
		apt-get install -y -q glusterfs-server glusterfs-client >>"${TMPDIR:-/tmp}/qmh-apt.log" 2>&1 || {
			qmh_log "apt-get install failed: $(tail -n 3 "${TMPDIR:-/tmp}/qmh-apt.log")"
			return 1
		}
	fi
	command -v glusterd >/dev/null && command -v glusterfs >/dev/null
}

gluster_cli() {
	nsenter --net="/run/netns/$QMH_SRV" -- gluster --mode=script \
		--glusterd-sock="$QMH_DIR/run/glusterd.socket" \
		--log-file="$QMH_DIR/log/cli.log" "$@"
}

# qmh_wait SECS CMD...: run CMD every 50 ms until it succeeds (0) or SECS pass.
qmh_wait() {
	local end=$(($(qmh_now_ms) + $1 * 1000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(qmh_now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

qmh_server_up() {
	local d=$QMH_DIR
	mkdir -p "$d"/{wd,run,log,brick,mnt} || return 1
	ip netns add "$QMH_SRV" || return 1
	ip -n "$QMH_SRV" link set lo up &&
		ip -n "$QMH_SRV" link add qmh-br type bridge &&
		ip -n "$QMH_SRV" addr add "$QMH_NET.1/24" dev qmh-br &&
		ip -n "$QMH_SRV" link set qmh-br up || return 1
	cat >"$d/glusterd.vol" <<EOF
volume management
    type mgmt/glusterd
    option working-directory $d/wd
    option run-directory $d/run
    option logging-directory $d/log
    option glusterd-sockfile $d/run/glusterd.socket
    option transport-type socket
    option transport.socket.listen-port 24007
    option transport.socket.read-fail-log off
    option ping-timeout 0
    option event-threads 1
end-volume
EOF
	nsenter --net="/run/netns/$QMH_SRV" -- glusterd -f "$d/glusterd.vol" \
		-p "$d/run/glusterd.pid" -l "$d/log/glusterd.log" || {
		qmh_log "glusterd did not start: $(tail -n 5 "$d/log/glusterd.log" 2>/dev/null)"
		return 1
	}
	qmh_wait 20 gluster_cli volume list || {
		qmh_log "glusterd does not answer: $(tail -n 5 "$d/log/glusterd.log")"
		return 1
	}
	gluster_cli volume create "$QMH_VOL" "$QMH_NET.1:$d/brick" force >/dev/null &&
		gluster_cli volume set "$QMH_VOL" $(qmh_vol_options) >/dev/null &&
		gluster_cli volume start "$QMH_VOL" >/dev/null || {
		qmh_log "volume set-up failed: $(tail -n 5 "$d/log/cli.log")"
		return 1
	}
}

host_mnt() {
	echo "$QMH_DIR/mnt/h$1"
}

client_pid() {
	cat "$QMH_DIR/run/h$1.pid" 2>/dev/null
}

# qmh_mounted DIR: DIR is a live glusterfs mount.
qmh_mounted() {
	grep -q " $1 fuse.glusterfs " /proc/mounts && timeout 5 stat -f "$1" >/dev/null 2>&1 &&
		timeout 5 ls "$1" >/dev/null 2>&1
}

qmh_mount() {
	local n=$1 m
	m=$(host_mnt "$n")
	mkdir -p "$m" || return 1
	# shellcheck disable=SC2086
	nsenter --net="/run/netns/$QMH_ID-h$n" -- glusterfs --process-name fuse \
		--volfile-server="$QMH_NET.1" --volfile-id="$QMH_VOL" \
		--log-file="$QMH_DIR/log/h$n.log" --pid-file="$QMH_DIR/run/h$n.pid" \
		${QMH_CLIENT_OPTS:-} "$m" || return 1
	qmh_wait 20 qmh_mounted "$m" || {
		qmh_log "host h$n: mount failed: $(tail -n 5 "$QMH_DIR/log/h$n.log")"
		return 1
	}
}

qmh_host_up() {
	local n=$1 ns=$QMH_ID-h$1
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up &&
		ip -n "$QMH_SRV" link add "qmh-h$n" type veth peer name eth0 netns "$ns" &&
		ip -n "$QMH_SRV" link set "qmh-h$n" master qmh-br up &&
		ip -n "$ns" addr add "$QMH_NET.$((10 + n))/24" dev eth0 &&
		ip -n "$ns" link set eth0 up || return 1
	qmh_mount "$n"
}

gluster_up() {
	local n hosts=${1:-$QMH_HOSTS} t0
	t0=$(qmh_now_ms)
	if [ -z "$QMH_DIR" ]; then
		QMH_DIR=$(mktemp -d "${QMH_TMP:-/tmp}/qmh.XXXXXX") || return 1
	fi
	chmod 0755 "$QMH_DIR"
	echo "$QMH_ID" >"$QMH_DIR/id"
	qmh_server_up || return 1
	for ((n = 1; n <= hosts; n++)); do
		qmh_host_up "$n" || {
			qmh_log "host h$n did not come up"
			return 1
		}
	done
	QMH_UP_MS=$(($(qmh_now_ms) - t0))
}

# on_host N CMD...: CMD in host N's netns, with host name hN and the spool
# on its mount. The UTS namespace is made per command: a worker started by
# it keeps it for its life.
on_host() {
	local n=$1
	shift
	nsenter --net="/run/netns/$QMH_ID-h$n" -- unshare --uts -- \
		sh -c 'hostname "$1" && shift && exec "$@"' qmh "h$n" \
		env QUEUECTL_SPOOL="$(host_mnt "$n")/spool" "$@"
}

host_cut() {
	ip -n "$QMH_SRV" link set "qmh-h$1" down
}

host_heal() {
	ip -n "$QMH_SRV" link set "qmh-h$1" up
}

kill_client() {
	local p
	p=$(client_pid "$1")
	[ -n "$p" ] && kill -9 "$p" 2>/dev/null
}

remount() {
	local m
	m=$(host_mnt "$1")
	kill_client "$1"
	umount -l "$m" 2>/dev/null
	qmh_mount "$1"
}

# qmh_ns_kill NS: SIGKILL every process in netns NS, wait (5 s) until gone.
qmh_ns_kill() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$(ip netns pids "$1" 2>/dev/null)
		[ -z "$p" ] && return 0
		# shellcheck disable=SC2086
		kill -9 $p 2>/dev/null
		sleep 0.05
	done
	qmh_log "processes left in $1: $p"
	return 1
}

gluster_down() {
	local ns m left t0
	t0=$(qmh_now_ms)
	[ -n "${QMH_ID:-}" ] || return 0
	# hosts first: workers, jobs and FUSE clients, then their mounts
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E "^$QMH_ID-h[0-9]+$"); do
		qmh_ns_kill "$ns"
	done
	if [ -n "$QMH_DIR" ]; then
		for m in $(awk -v d="$QMH_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts); do
			umount -l "$m" 2>/dev/null || qmh_log "cannot unmount $m"
		done
	fi
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E "^$QMH_ID-(h[0-9]+|srv)$"); do
		qmh_ns_kill "$ns"
		ip netns del "$ns" 2>/dev/null || qmh_log "cannot delete netns $ns"
	done
	if [ -n "$QMH_DIR" ] && [ -d "$QMH_DIR" ]; then
		left=$(awk -v d="$QMH_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts)
		if [ -z "$left" ] && [ -z "${QMH_KEEP:-}" ]; then
			rm -rf "$QMH_DIR"
		else
			qmh_log "kept $QMH_DIR${left:+ (still mounted: $left)}"
		fi
	fi
	QMH_DOWN_MS=$(($(qmh_now_ms) - t0))
	return 0
}

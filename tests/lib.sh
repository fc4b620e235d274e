# tests/lib.sh - sourced by every tests/cli/*.sh and tests/memcheck.sh.
#
# Gives each test file a fresh spool ($SPOOL, exported as QUEUECTL_SPOOL) in
# a private temporary directory ($TEST_DIR, the current directory is
# $TEST_DIR/work), TAP helpers, and a trap that stops every worker and job
# process of that spool and removes the directory.
#
#   ok DESC / not_ok DESC          one TAP line
#   is GOT EXPECTED DESC           string equality
#   like GOT REGEX DESC            bash =~ match
#   unlike GOT REGEX DESC
#   check DESC CMD...              passes when CMD exits 0
#   check_not DESC CMD...          passes when CMD exits non-zero
#   wait_for SECS DESC CMD...      re-runs CMD every 20 ms until it succeeds
#   wait_until SECS CMD...         the same, without a TAP line (returns 0/1)
#   run CMD...                     sets $rc, $out, $err
#   bg NAME CMD...                 CMD in the background (pid in $BG_PID);
#                                  its stdout, stderr and status go to
#                                  $TEST_DIR/NAME.out, .err, .rc
#   ended NAME                     has bg NAME exited? (for wait_for)
#   watching PATTERN               does a process matching PATTERN (pgrep -f)
#                                  hold an inotify descriptor?
#   rc_is EXPECTED DESC            checks $rc of the last run (diag: $err)
#   jq_ok DESC FILE FILTER         passes when FILTER is true of FILE
#   skip DESC                      "ok N - # SKIP DESC"
#   local_spool                    is $SPOOL on a local disk? (not FUSE or a
#                                  network filesystem, where workers poll:
#                                  tests/multihost/core.sh runs the suite
#                                  on GlusterFS); sets SPOOL_FS
#   each_crash_point MAX FN P...   FN P 1, FN P 2, ... for each crash point P
#   done_testing                   stops workers, "1..N", exit 1 on failure
#
# Tests wait on conditions with a deadline, never on fixed sleeps.

export LC_ALL=C
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QUEUECTL=${QUEUECTL:-$TOP/queuectl}
case $QUEUECTL in
/*) ;;
*/*) QUEUECTL=$PWD/$QUEUECTL ;;
*) QUEUECTL=$(command -v "$QUEUECTL" || echo "$QUEUECTL") ;;
esac
export QUEUECTL

TEST_NAME=$(basename "$0" .sh)
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/queuectl-$TEST_NAME.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
chmod 0700 "$TEST_DIR"
SPOOL=$TEST_DIR/spool
export QUEUECTL_SPOOL=$SPOOL
unset XDG_STATE_HOME
mkdir -p "$TEST_DIR/work"
cd "$TEST_DIR/work" || exit 1

# A marker unique to this test file run, for pgrep -f of job processes.
MARK=$(( ($$ % 9000) + 1000 )).$(( RANDOM % 900 + 100 ))

_T_N=0
_T_FAIL=0
BG_PIDS=()
_CLEANED=0

diag() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line" >&2
	done <<<"$*"
}

ok() {
	_T_N=$((_T_N + 1))
	echo "ok $_T_N - $*"
}

not_ok() {
	_T_N=$((_T_N + 1))
	_T_FAIL=$((_T_FAIL + 1))
	echo "not ok $_T_N - $*"
	diag "failed at $(_where): $*"
}

_where() {
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		if [[ ${BASH_SOURCE[i]} != *lib.sh ]]; then
			echo "${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]}"
			return
		fi
	done
	echo "?"
}

skip() {
	_T_N=$((_T_N + 1))
	echo "ok $_T_N - # SKIP $*"
}

local_spool() {
	SPOOL_FS=$(stat -f -c %T "$SPOOL")
	case $SPOOL_FS in
	fuse* | nfs* | smb* | cifs | ceph | afs | 9p | v9fs | ocfs2 | gfs* | lustre | gpfs) return 1 ;;
	esac
}

is() {
	if [[ "$1" == "$2" ]]; then
		ok "$3"
	else
		not_ok "$3"
		diag "     got: '$1'"
		diag "expected: '$2'"
		return 1
	fi
}

like() {
	if [[ "$1" =~ $2 ]]; then
		ok "$3"
	else
		not_ok "$3"
		diag "     got: '$1'"
		diag "expected to match: $2"
		return 1
	fi
}

unlike() {
	if [[ "$1" =~ $2 ]]; then
		not_ok "$3"
		diag "     got: '$1'"
		diag "expected not to match: $2"
		return 1
	else
		ok "$3"
	fi
}

check() {
	local desc=$1 o r
	shift
	o=$("$@" 2>&1)
	r=$?
	if [ $r -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "command (exit $r): $*"
		[ -n "$o" ] && diag "$o"
		return 1
	fi
}

check_not() {
	local desc=$1 o r
	shift
	o=$("$@" 2>&1)
	r=$?
	if [ $r -ne 0 ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "command unexpectedly succeeded: $*"
		[ -n "$o" ] && diag "$o"
		return 1
	fi
}

_now_us() {
	local t=${EPOCHREALTIME/./}
	echo "${t#0}"
}

_poll_out=
# wait_until SECS CMD...: run CMD every 20 ms until it succeeds (0) or SECS
# pass (1). The output of the last try is in $_poll_out.
wait_until() {
	local secs=$1 deadline now
	shift
	# WAIT_CAP=N caps every deadline (for quick dry runs of the suite)
	if [ -n "${WAIT_CAP:-}" ] && [ "$secs" -gt "$WAIT_CAP" ]; then
		secs=$WAIT_CAP
	fi
	deadline=$(( $(_now_us) + secs * 1000000 ))
	while :; do
		if _poll_out=$("$@" 2>&1); then
			return 0
		fi
		now=$(_now_us)
		[ "$now" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}

wait_for() {
	local secs=$1 desc=$2
	shift 2
	if wait_until "$secs" "$@"; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "condition not met within ${secs}s: $*"
		[ -n "$_poll_out" ] && diag "$_poll_out"
		return 1
	fi
}

_sanitizer_scan() {
	local f
	for f in "$@"; do
		[ -f "$f" ] || continue
		if grep -qE 'ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer|runtime error:|==[0-9]+==.*(Invalid|uninitialised|definitely lost)' "$f" 2>/dev/null; then
			{
				echo "---- from $f:"
				head -n 60 "$f"
			} >>"$TEST_DIR/sanitizer.log"
		fi
	done
}

rc=0 out= err=
# run CMD...: run it, $rc = exit status, $out/$err = its stdout/stderr.
run() {
	"$@" >"$TEST_DIR/.out" 2>"$TEST_DIR/.err"
	rc=$?
	out=$(cat "$TEST_DIR/.out")
	err=$(cat "$TEST_DIR/.err")
	_sanitizer_scan "$TEST_DIR/.err"
	return 0
}

# bg NAME CMD...: run CMD in the background, killed at the end of the file;
# NAME.out, NAME.err and (once it exits) NAME.rc in $TEST_DIR.
BG_PID=
bg() {
	local name=$1
	shift
	(
		"$@" >"$TEST_DIR/$name.out" 2>"$TEST_DIR/$name.err"
		echo $? >"$TEST_DIR/$name.rc"
	) &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# ended NAME: has bg NAME exited?
ended() {
	[ -s "$TEST_DIR/$1.rc" ] || {
		echo "$1 has not exited"
		return 1
	}
}

# watching PATTERN: a process whose command line matches PATTERN has an
# inotify descriptor (it sleeps on events, its watches set).
watching() {
	local p f
	for p in $(pgrep -f -- "$(_pat "$1")"); do
		for f in /proc/"$p"/fd/*; do
			[ "$(readlink "$f" 2>/dev/null)" = "anon_inode:inotify" ] && return 0
		done
	done
	echo "no process matching $1 watches with inotify"
	return 1
}

# q ARGS...: queuectl with a timeout.
q() {
	timeout -k 5 "${Q_TIMEOUT:-60}" "$QUEUECTL" "$@"
}

# runq ARGS...: run q ARGS...
runq() {
	run q "$@"
}

rc_is() {
	if [ "$rc" = "$1" ]; then
		ok "$2"
	else
		not_ok "$2"
		diag "exit status: got $rc, expected $1"
		[ -n "$out" ] && diag "stdout: $out"
		[ -n "$err" ] && diag "stderr: $err"
		return 1
	fi
}

# rc_in "64 65" DESC
rc_in() {
	local e
	for e in $1; do
		if [ "$rc" = "$e" ]; then
			ok "$2"
			return 0
		fi
	done
	not_ok "$2"
	diag "exit status: got $rc, expected one of: $1"
	[ -n "$out" ] && diag "stdout: $out"
	[ -n "$err" ] && diag "stderr: $err"
	return 1
}

jq_ok() {
	local desc=$1 file=$2 filter=$3
	if [ -f "$file" ] && jq -e "$JQ_DEFS $filter" "$file" >/dev/null 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "jq filter not true: $filter"
		if [ -f "$file" ]; then
			diag "$file: $(head -c 3000 "$file")"
		else
			diag "$file: does not exist"
		fi
		return 1
	fi
}

# jqf FILE FILTER: print the filter's value (raw).
jqf() {
	jq -r "$JQ_DEFS $2" "$1" 2>/dev/null
}

# ms: ISO 8601 UTC time ("...T10:30:00.123Z") -> milliseconds since the epoch.
JQ_DEFS='def ms: if . == null then null else (capture("^(?<s>[^.Z]+)(\\.(?<f>[0-9]+))?Z$") | ((.s + "Z") | fromdateiso8601) * 1000 + (((.f // "0") + "000")[0:3] | tonumber)) end;'

# iso_ms TIME: the same with date(1).
iso_ms() {
	date -u -d "$1" +%s%3N
}

now_ms() {
	date +%s%3N
}

# count_json DIR: number of *.json entries in DIR.
count_json() {
	find "$1" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l
}

# count_is STATE N: exactly N jobs in SPOOL/STATE.
count_is() {
	local n
	n=$(count_json "$SPOOL/$1")
	[ "$n" -eq "$2" ] || {
		echo "$1/ holds $n jobs, want $2"
		return 1
	}
}

# exists FILE (for wait_for, with a message when it does not)
exists() {
	[ -e "$1" ] || [ -L "$1" ] || {
		echo "$1 does not exist"
		return 1
	}
}

absent() {
	if [ -e "$1" ] || [ -L "$1" ]; then
		echo "$1 exists"
		return 1
	fi
}

# dirs_empty DIR...: no entry in any of them
dirs_empty() {
	local f
	f=$(find "$@" -mindepth 1 -maxdepth 1 2>&1)
	[ -z "$f" ] || {
		echo "not empty: $f"
		return 1
	}
}

# job_dir ID: where ID.json is now (pending, done, processing/W, ...).
job_dir() {
	local f
	for f in "$SPOOL"/{pending,done,failed,dead}/"$1".json "$SPOOL"/processing/*/"$1".json; do
		if [ -e "$f" ]; then
			f=${f%/*}
			echo "${f#"$SPOOL"/}"
			return 0
		fi
	done
	return 1
}

# in_state ID STATE (processing matches any lease)
in_state() {
	local d
	d=$(job_dir "$1") || {
		echo "job $1 not found in the spool"
		return 1
	}
	case $2 in
	processing) [[ $d == processing/* ]] ;;
	*) [ "$d" = "$2" ] ;;
	esac || {
		echo "job $1 is in $d/, want $2"
		return 1
	}
}

# lease_of PID: the lease directory of worker PID.
lease_of() {
	local d
	for d in "$SPOOL"/processing/*-"$1"; do
		[ -d "$d" ] && {
			echo "$d"
			return 0
		}
	done
	return 1
}

worker_ready() {
	local d
	d=$(lease_of "$1") && [ -f "$d/lease" ] || {
		echo "no lease of worker $1"
		return 1
	}
}

# procs PATTERN / no_procs PATTERN: is some process's command line matching
# PATTERN (pgrep -f) running? The pattern is written so that it does not
# match the command line of whoever runs it.
_pat() {
	case $1 in
	^*) printf '%s' "$1" ;;
	*) printf '[%s]%s' "${1:0:1}" "${1:1}" ;;
	esac
}

procs() {
	pgrep -f -- "$(_pat "$1")" >/dev/null
}

no_procs() {
	local p
	p=$(pgrep -fa -- "$(_pat "$1")") || return 0
	echo "still running: $p"
	return 1
}

# worker_ready_in SPOOLDIR PID: the same for another spool
worker_ready_in() {
	local d
	for d in "$1"/processing/*-"$2"; do
		[ -f "$d/lease" ] && return 0
	done
	echo "no lease of worker $2 in $1"
	return 1
}

alive() {
	[[ $1 =~ ^[1-9][0-9]*$ ]] || return 1
	kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]
}

dead_pid() {
	! alive "$1"
}

# fg_worker [ARGS...]: start "queuectl worker run" in the background, its
# stderr appended to $TEST_DIR/fg-worker.log; sets FG_PID and waits until it
# has its lease.
FG_PID=
fg_worker() {
	"$QUEUECTL" "$@" worker run </dev/null >>"$TEST_DIR/fg-worker.log" 2>&1 &
	FG_PID=$!
	BG_PIDS+=("$FG_PID")
	wait_until 30 worker_ready "$FG_PID" || {
		diag "foreground worker $FG_PID did not get ready: $_poll_out"
		return 1
	}
}

# start_workers [N]: "queuectl worker start --count N"; sets WPIDS.
WPIDS=()
start_workers() {
	local n=${1:-1}
	runq worker start --count "$n"
	WPIDS=()
	local p
	for p in $out; do
		WPIDS+=("$p")
	done
	if [ "$rc" != 0 ] || [ "${#WPIDS[@]}" != "$n" ]; then
		diag "worker start --count $n: exit $rc, stdout '$out', stderr '$err'"
		while [ "${#WPIDS[@]}" -lt "$n" ]; do
			WPIDS+=(none)
		done
		return 1
	fi
}

# pids of processes whose initial environment holds our spool
_spool_pids() {
	local e p
	for e in /proc/[0-9]*/environ; do
		p=${e#/proc/}
		p=${p%/environ}
		[ "$p" = $$ ] && continue
		[ "$p" = "$BASHPID" ] && continue
		grep -qzxF "QUEUECTL_SPOOL=$SPOOL" "$e" 2>/dev/null && echo "$p"
	done
}

_lease_pids() {
	local l p
	for l in "$SPOOL"/processing/*/lease; do
		[ -f "$l" ] || continue
		p=$(jq -r '.pid // empty' "$l" 2>/dev/null)
		[[ $p =~ ^[1-9][0-9]*$ ]] || continue
		# only a process that is ours (its environment names our spool)
		grep -qzxF "QUEUECTL_SPOOL=$SPOOL" "/proc/$p/environ" 2>/dev/null && echo "$p"
	done
}

# stop_everything: stop every worker and job process of this spool.
stop_everything() {
	local p
	[ -d "$SPOOL" ] && chmod 0700 "$SPOOL" 2>/dev/null
	if [ -d "$SPOOL/processing" ] && [ -n "$(ls -A "$SPOOL/processing" 2>/dev/null)" ]; then
		timeout -k 2 20 "$QUEUECTL" worker stop --now >/dev/null 2>&1
	fi
	for p in "${BG_PIDS[@]}"; do
		[[ $p =~ ^[1-9][0-9]*$ ]] && kill -9 "$p" 2>/dev/null
	done
	for p in $(_lease_pids); do
		kill -9 "$p" 2>/dev/null
	done
	for p in $(_spool_pids); do
		kill -9 "$p" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}"; do
		[[ $p =~ ^[1-9][0-9]*$ ]] && wait "$p" 2>/dev/null
	done
	BG_PIDS=()
}

_cleanup() {
	[ "$_CLEANED" = 1 ] && return
	_CLEANED=1
	stop_everything
	cd / || true
	if [ -n "${KEEP_TEST_DIR:-}" ]; then
		echo "# kept $TEST_DIR" >&2
	else
		chmod -R u+rwX "$TEST_DIR" 2>/dev/null
		rm -rf "$TEST_DIR"
	fi
}
trap _cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

done_testing() {
	stop_everything
	_sanitizer_scan "$SPOOL/worker.log" "$TEST_DIR/fg-worker.log"
	if [ -s "$TEST_DIR/sanitizer.log" ]; then
		not_ok "no sanitizer or valgrind reports"
		diag "$(head -n 200 "$TEST_DIR/sanitizer.log")"
	else
		ok "no sanitizer or valgrind reports"
	fi
	echo "1..$_T_N"
	if [ "$_T_FAIL" -gt 0 ]; then
		diag "$_T_FAIL of $_T_N tests failed"
		exit 1
	fi
	exit 0
}

# each_crash_point MAX FN POINT...: for each crash point, run FN POINT N for
# N = 1, 2, ... (at most MAX) while FN returns 0 (it crashed there), then
# check that the point was reached at least once.
each_crash_point() {
	local max=$1 fn=$2 p n
	shift 2
	for p in "$@"; do
		n=1
		while [ "$n" -le "$max" ] && "$fn" "$p" "$n"; do
			n=$((n + 1))
		done
		check "$p: reached at least once" test "$n" -gt 1
	done
}

# require the binary (a missing binary fails the file, not silently)
if [ ! -x "$QUEUECTL" ]; then
	echo "not ok 1 - queuectl binary exists: $QUEUECTL"
	echo "1..1"
	exit 1
fi

# test_build: set CQ to the build with crash points and test hooks (the
# ASan pass's binary has them too; else $CRASH_QUEUECTL, which make check
# builds as build/test/queuectl), or skip the whole test file.
test_build() {
	case $QUEUECTL in *asan*) CQ=$QUEUECTL ;; *) CQ=${CRASH_QUEUECTL:-} ;; esac
	case $CQ in /*) ;; ?*) CQ=$TOP/$CQ ;; esac
	if [ -z "$CQ" ] || [ ! -x "$CQ" ]; then
		skip "no test build (set CRASH_QUEUECTL)"
		done_testing
	fi
}

# check_lease_start WHAT: the lease record (of the only lease) names the
# job's process group, and its leader's start time as /proc/PID/stat gives
# it (WHAT completes that check's description).
check_lease_start() {
	local rec pg
	rec=$(find "$SPOOL/processing" -name lease | head -1)
	pg=$(jq -r .pgid "$rec" 2>/dev/null)
	check "the lease record names the job's process group" test "${pg:-0}" -gt 1
	is "$(jq -r .pgid_start "$rec" 2>/dev/null)" \
		"$(sed 's/.*) //' "/proc/$pg/stat" 2>/dev/null | cut -d' ' -f20)" "$1"
}

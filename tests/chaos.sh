#!/bin/bash
# tests/chaos.sh - the chaos suite (`make chaos`; a short run is
# tests/cli/16-chaos.sh in `make check`).
#
# N jobs, W workers, and a loop that every CHAOS_KILL_MS kill -9's a random
# worker and starts a new one; once a third of the jobs are done it runs
# `worker stop --now`, once two thirds are, `worker stop`, each followed by
# a fresh set of workers. Every other turn, between the kill and the new
# worker, it also starts a `queuectl recover` and kill -9's it a few
# milliseconds later, so that reclaims and tmp/ sweeps are cut short too
# (a worker reclaims before it is ready, so worker kills never do that).
#
# Every job appends "ID start NS ATTEMPT WORKER RUN" when it starts and
# "ID end NS ATTEMPT WORKER RUN" when it ends to a results file, and holds a
# flock(1) on a file of its own while it runs: a run that starts while an
# earlier run of the same job is still alive is caught in the act.
#
# When every job is in done/ the loop stops; `recover` and `worker stop`
# must then leave a clean spool, and the spool and the results file show:
#   - every job in done/ exactly once, no job file anywhere else, nothing
#     quarantined, no lease directory left, tmp/ empty;
#   - every job's last run completed, and its done json says exit 0 and the
#     attempt number of that run;
#   - a job ran again only if the worker of its earlier run was killed
#     (kill -9) or stopped (--now) under it: runs are matched to worker
#     lives from this script's log of starts, kills and stops, and that
#     worker must not have started another job between the run and its end;
#   - attempt numbers go +1 after a kill, +0 after stop --now; attempts
#     counted that never ran (a kill between the claim and the exec) plus
#     kill-interrupted runs are at most the number of kills;
#   - no two runs of a job overlapped: no run found the job's lock held,
#     none started between another run's start and end, none started before
#     the worker of the previous run was killed or stopped.
# "interrupted" counts the runs cut short by a kill or stop --now, whether
# or not their command got to its end before the reclaim killed it;
# "duplicates" counts the runs beyond one per job: the two must be equal.
# Output: TAP, then "chaos: jobs J, kills K, interrupted I, duplicates D,
# lost L, S s". Exit status 1 on any failure.
#
# Environment:
#   CHAOS_JOBS (2000)  CHAOS_WORKERS (3)  CHAOS_KILL_MS (300)
#   CHAOS_DEADLINE (600)  seconds for all jobs to reach done/
#   CHAOS_STALL (60)   give up when no job reached done/ for this many seconds
#   CHAOS_KEEP=1       keep the temporary directory
#   QUEUECTL           the binary (default: ./queuectl at the top of the tree)

export LC_ALL=C
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QUEUECTL=${QUEUECTL:-$TOP/queuectl}
case $QUEUECTL in
/*) ;;
*/*) QUEUECTL=$PWD/$QUEUECTL ;;
*) QUEUECTL=$(command -v "$QUEUECTL" || echo "$QUEUECTL") ;;
esac
N=${CHAOS_JOBS:-2000}
WORKERS=${CHAOS_WORKERS:-3}
KILL_MS=${CHAOS_KILL_MS:-300}
DEADLINE=${CHAOS_DEADLINE:-600}
STALL=${CHAOS_STALL:-60}

T_N=0
T_FAIL=0
ok() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $*"
}
not_ok() {
	T_N=$((T_N + 1))
	T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $*"
}
diag() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line" >&2
	done <<<"$*"
}
# check COND DESC [DIAG]: one TAP line from a condition already evaluated
check() {
	if [ "$1" = 0 ]; then
		ok "$2"
	else
		not_ok "$2"
		[ -n "${3:-}" ] && diag "$3"
	fi
	return 0
}

for v in N WORKERS KILL_MS DEADLINE STALL; do
	if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
		echo "not ok 1 - chaos settings: $v='${!v}' must be a positive integer"
		echo "1..1"
		exit 1
	fi
done
for tool in jq flock timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "not ok 1 - $tool is installed (needed by the chaos suite)"
		echo "1..1"
		exit 1
	fi
done
if [ ! -x "$QUEUECTL" ]; then
	echo "not ok 1 - queuectl binary exists: $QUEUECTL"
	echo "1..1"
	exit 1
fi

now_us() {
	local t=${EPOCHREALTIME/./}
	echo "${t#0}"
}

DIR=$(mktemp -d "${TMPDIR:-/tmp}/queuectl-chaos.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 1
}
chmod 0700 "$DIR"
SPOOL=$DIR/spool
export QUEUECTL_SPOOL=$SPOOL
unset XDG_STATE_HOME
RESULTS=$DIR/results # written by the jobs
EVENTS=$DIR/events   # START/KILL/STOPNOW/STOP/END pid usec, by this script
LOCKS=$DIR/locks
mkdir -p "$LOCKS" "$DIR/work"
: >"$RESULTS"
: >"$EVENTS"
cd "$DIR/work" || exit 1

STARTED=()     # every worker pid we started
PRODUCER=
CLEANED=0

# Is pid a live (not zombie) process?
alive() {
	local s
	[[ $1 =~ ^[1-9][0-9]*$ ]] || return 1
	{ s=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
	s=${s##*) }
	s=${s%% *}
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

# Is pid a queuectl worker of our spool?
is_worker() {
	local c
	ours "$1" || return 1
	{ c=$(tr '\0' ' ' <"/proc/$1/cmdline"); } 2>/dev/null || return 1
	[[ $c == *queuectl*" worker "* ]]
}

# Is pid a process of our spool (its environment names it)?
ours() {
	grep -qzxF "QUEUECTL_SPOOL=$SPOOL" "/proc/$1/environ" 2>/dev/null
}

# Every live process of our spool: workers and job processes.
spool_pids() {
	local e p
	for e in /proc/[0-9]*/environ; do
		p=${e#/proc/}
		p=${p%/environ}
		[ "$p" = $$ ] || [ "$p" = "$BASHPID" ] && continue
		grep -qzxF "QUEUECTL_SPOOL=$SPOOL" "$e" 2>/dev/null && alive "$p" && echo "$p"
	done
}

cleanup() {
	local p
	[ "$CLEANED" = 1 ] && return
	CLEANED=1
	[ -n "$PRODUCER" ] && kill -9 "$PRODUCER" 2>/dev/null
	for p in "${STARTED[@]}"; do
		alive "$p" && ours "$p" && kill -9 "$p" 2>/dev/null
	done
	for p in $(jq -r '.pid // empty' "$SPOOL"/processing/*/lease 2>/dev/null); do
		alive "$p" && ours "$p" && kill -9 "$p" 2>/dev/null
	done
	for p in $(spool_pids); do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "$PRODUCER" ] && wait "$PRODUCER" 2>/dev/null
	cd / || true
	if [ -n "${CHAOS_KEEP:-}" ]; then
		echo "# kept $DIR" >&2
	else
		chmod -R u+rwX "$DIR" 2>/dev/null
		rm -rf "$DIR"
	fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# q ARGS...: queuectl with a deadline; stderr kept for the sanitizer scan.
q() {
	timeout -k 5 "${Q_TIMEOUT:-60}" "$QUEUECTL" "$@" 2>>"$DIR/cli.err"
}

T0=$(now_us)

# --- the job ------------------------------------------------------------------
# $1 id, $2 seconds to sleep. Runs as "/bin/sh -c COMMAND"; the command execs
# this script, so the process group is: bash, flock, sleep.
cat >"$DIR/job.sh" <<EOF
#!/bin/bash
r='$RESULTS' a=\${QUEUECTL_ATTEMPT:-?} w=\${QUEUECTL_WORKER:-?}
exec 9>>'$LOCKS'/"\$1" || exit 1
if ! flock -n 9; then
	printf '%s overlap %s000 %s %s %s\n' "\$1" "\${EPOCHREALTIME/./}" "\$a" "\$w" "\$\$" >>"\$r"
	exit 1
fi
t=\${EPOCHREALTIME/./}
printf '%s start %s000 %s %s %s\n' "\$1" "\$t" "\$a" "\$w" "\$\$.\$t" >>"\$r"
sleep "\$2"
printf '%s end %s000 %s %s %s\n' "\$1" "\${EPOCHREALTIME/./}" "\$a" "\$w" "\$\$.\$t" >>"\$r"
EOF
chmod 0700 "$DIR/job.sh"

id_of() {
	printf 'c%05d' "$1"
}
# Most jobs are short; every 10th sleeps 0.3 s and two in 10 sleep 0.05 s,
# so that kills land in the middle of runs.
sleep_of() {
	case $(($1 % 10)) in
	0) echo 0.3 ;;
	1 | 5) echo 0.05 ;;
	*) echo 0.01 ;;
	esac
}

# --- spool --------------------------------------------------------------------
r=0
{
	q init >/dev/null &&
		q config set max_retries 1000 >/dev/null &&
		q config set backoff_base 2 >/dev/null &&
		q config set backoff_max 0.2 >/dev/null &&
		q config set kill_grace 2 >/dev/null
} || r=1
check $r "a fresh spool: max_retries 1000, backoff_max 0.2, kill_grace 2" "$(tail -n 5 "$DIR/cli.err")"

# --- workers ------------------------------------------------------------------
LIVE=()        # the workers that should be alive now
START_FAILS=0
# start_workers N: start N workers, note their pids (START is written before
# the start, so that it precedes every run of theirs).
start_workers() {
	local out p t
	t=$(now_us)
	out=$(q worker start --count "$1")
	local rc=$? n=0
	for p in $out; do
		[[ $p =~ ^[1-9][0-9]*$ ]] || continue
		echo "START $p $t" >>"$EVENTS"
		STARTED+=("$p")
		LIVE+=("$p")
		n=$((n + 1))
	done
	if [ $rc != 0 ] || [ $n != "$1" ]; then
		START_FAILS=$((START_FAILS + 1))
		diag "worker start --count $1: exit $rc, pids '$out': $(tail -n 3 "$DIR/cli.err")"
	fi
}

# prune: drop the workers that are gone from LIVE; they died on their own.
DIED=()
prune() {
	local p keep=()
	for p in "${LIVE[@]}"; do
		if alive "$p"; then
			keep+=("$p")
		else
			echo "DIED $p $(now_us)" >>"$EVENTS"
			DIED+=("$p")
		fi
	done
	LIVE=("${keep[@]}")
}

# stop_all now|graceful: worker stop [--now]; STOPNOW/STOP for the stopped.
STOP_RC=()
STOP_N=()
stop_all() {
	local p t rc out
	prune
	t=$(now_us)
	for p in "${LIVE[@]}"; do
		echo "$([ "$1" = now ] && echo STOPNOW || echo STOP) $p $t" >>"$EVENTS"
	done
	if [ "$1" = now ]; then
		out=$(q worker stop --now)
	else
		out=$(q worker stop)
	fi
	rc=$?
	STOP_RC+=("$rc")
	STOP_N+=("${#LIVE[@]}:$out")
	LIVE=()
}

ndone() {
	local f
	f=("$SPOOL"/done/*.json)
	[ -e "${f[0]}" ] || {
		echo 0
		return
	}
	echo "${#f[@]}"
}

# --- the producer: all N jobs, at once with the chaos -------------------------
(
	for ((i = 1; i <= N; i++)); do
		id=$(id_of $i)
		timeout -k 5 60 "$QUEUECTL" enqueue --id "$id" -- "$DIR/job.sh" "$id" "$(sleep_of $i)" \
			>/dev/null 2>>"$DIR/enqueue.err" || echo "$id $?" >>"$DIR/enqueue.fail"
	done
) &
PRODUCER=$!

start_workers "$WORKERS"

# --- the chaos ----------------------------------------------------------------
KILLS=0
RECOVER_KILLS=0
turn=0
STOPPED_NOW=0
did_now=0
did_graceful=0
finished=0
stalled=0
deadline=$((T0 + DEADLINE * 1000000))
last_n=-1
last_progress=$T0
sleep_s=$(awk -v m="$KILL_MS" 'BEGIN { printf "%.3f", m / 1000 }')
while :; do
	sleep "$sleep_s"
	n=$(ndone)
	if [ "$n" -ge "$N" ]; then
		finished=1
		break
	fi
	now=$(now_us)
	[ "$now" -ge "$deadline" ] && break
	if [ "$n" != "$last_n" ]; then
		last_n=$n
		last_progress=$now
	elif [ $((now - last_progress)) -ge $((STALL * 1000000)) ]; then
		stalled=1
		break
	fi
	if [ $did_now = 0 ] && [ "$n" -ge $((N / 3)) ]; then
		did_now=1
		prune
		STOPPED_NOW=${#LIVE[@]}
		stop_all now
		start_workers "$WORKERS"
		continue
	fi
	if [ $did_graceful = 0 ] && [ "$n" -ge $((2 * N / 3)) ]; then
		did_graceful=1
		stop_all graceful
		start_workers "$WORKERS"
		continue
	fi
	prune
	if [ "${#LIVE[@]}" -gt 0 ]; then
		i=$((RANDOM % ${#LIVE[@]}))
		p=${LIVE[$i]}
		if is_worker "$p"; then
			echo "KILL $p $(now_us)" >>"$EVENTS"
			kill -9 "$p" 2>/dev/null && KILLS=$((KILLS + 1))
			unset "LIVE[$i]"
			LIVE=("${LIVE[@]}")
		fi
	fi
	# every other turn, a recover of the lease just killed, cut short
	turn=$((turn + 1))
	if [ $((turn % 2)) = 0 ]; then
		"$QUEUECTL" recover >/dev/null 2>>"$DIR/recover.err" &
		rp=$!
		sleep "0.00$((RANDOM % 8))"
		kill -9 "$rp" 2>/dev/null
		wait "$rp" 2>/dev/null
		[ $? = 137 ] && RECOVER_KILLS=$((RECOVER_KILLS + 1))
	fi
	# keep WORKERS alive: replace the killed one (and any that died alone)
	[ "${#LIVE[@]}" -lt "$WORKERS" ] && start_workers $((WORKERS - ${#LIVE[@]}))
done
wait "$PRODUCER"
PRODUCER=
T_END=$(now_us)

nfail=0
[ -f "$DIR/enqueue.fail" ] && nfail=$(wc -l <"$DIR/enqueue.fail")
check "$nfail" "all $N jobs enqueued during the chaos" "$nfail enqueues failed: $(head -n 5 "$DIR/enqueue.fail" 2>/dev/null) $(tail -n 5 "$DIR/enqueue.err" 2>/dev/null)"
check $((START_FAILS > 0)) "every worker start succeeded" "$START_FAILS worker starts failed"
check $((KILLS == 0)) "workers were killed: $KILLS kill -9"
check $((${#DIED[@]} > 0)) "no worker died on its own (${#DIED[@]})" "died: ${DIED[*]}; worker.log: $(tail -n 20 "$SPOOL/worker.log")"
r=1
[ "${#STOP_RC[@]}" -ge 1 ] && [ "${STOP_RC[0]}" = 0 ] && r=0
check $r "worker stop --now in the middle (exit ${STOP_RC[0]:-none}: ${STOP_N[0]:-not run})"
r=1
[ "${#STOP_RC[@]}" -ge 2 ] && [ "${STOP_RC[1]}" = 0 ] && r=0
check $r "graceful worker stop in the middle (exit ${STOP_RC[1]:-none}: ${STOP_N[1]:-not run})"
# what a stuck lease looks like: its record, and the processes it names
lease_report() {
	local d p
	for d in "$SPOOL"/processing/*/; do
		[ -d "$d" ] || continue
		echo "lease ${d%/}:"
		ls -l "$d"
		cat "$d/lease" 2>/dev/null
		echo
		for p in $(jq -r '.pid, .pgid // empty' "$d/lease" 2>/dev/null); do
			echo "process $p: $(ps -o pid=,ppid=,pgid=,stat=,wchan:20=,args= -p "$p" 2>/dev/null || echo gone)"
			echo "  group $p: $(ps -o pid=,stat=,args= -g "$p" 2>/dev/null | tr '\n' ';')"
		done
	done
}
why=
[ $stalled = 1 ] && why=" (stalled: no job finished for ${STALL}s)"
check $((finished == 0)) "all $N jobs reached done/ within ${DEADLINE}s ($(ndone) did, $(((T_END - T0) / 1000000)) s)$why" \
	"$(q status 2>&1)
$(lease_report)"

# --- the end: recover, stop, look -------------------------------------------------
# The killed workers must be dead (their locks free) before recover, and
# preferably reaped too: the tmp/ sweep keeps the files of a pid that still
# exists, and a zombie does until its parent (init, here) reaps it. Some
# container inits reap only every few seconds: wait up to 5 s for that.
gone_deadline=$(($(now_us) + 10000000))
reap_deadline=$(($(now_us) + 5000000))
for p in "${STARTED[@]}"; do
	for l in "${LIVE[@]}"; do [ "$p" = "$l" ] && continue 2; done
	while alive "$p" && ours "$p" && [ "$(now_us)" -lt "$gone_deadline" ]; do
		sleep 0.02
	done
	while [ -e "/proc/$p" ] && ! alive "$p" && [ "$(now_us)" -lt "$reap_deadline" ]; do
		sleep 0.05
	done
done
out=$(q recover)
r=$?
check $r "recover exits 0 ($(tr '\n' ';' <<<"$out" | sed 's/;$//; s/;/; /g'))"
prune
for p in "${LIVE[@]}"; do echo "END $p $(now_us)" >>"$EVENTS"; done
out=$(q worker stop)
r=$?
check $r "worker stop exits 0 ($(tr '\n' ';' <<<"$out" | sed 's/;$//; s/;/; /g'))"
stray=$(spool_pids)
check $((${#stray} > 0)) "no worker or job process of the spool is left" "still running: $(for p in $stray; do tr '\0' ' ' <"/proc/$p/cmdline"; echo " ($p)"; done)"

leases=$(ls -A "$SPOOL/processing")
check $((${#leases} > 0)) "no lease directory is left in processing/" "$leases"
# tmp_report: each leftover in tmp/, its writer (HOST.PID.SEQ.RAND or
# lease.HOST-PID) and what became of that process.
tmp_report() {
	local f p st ev
	for f in "$SPOOL"/tmp/*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		p=${f##*/}
		p=${p#lease.}
		p=${p#*[.-]}
		p=${p%%.*}
		st=gone
		if [ -e "/proc/$p" ]; then
			st=$(ps -o stat=,args= -p "$p" 2>/dev/null)
		fi
		ev=$(awk -v p="$p" '$2 == p { printf "%s%s@%s", s, $1, $3; s = " " }' "$EVENTS")
		echo "${f##*/}: $(stat -c '%s bytes, mtime %Y' "$f"); writer $p: $st; events: ${ev:-none}"
		case $st in
		Z*) echo "  (writer $p is dead but not yet reaped by its parent, a zombie; the sweep keeps the files of a pid that kill(pid, 0) finds)" ;;
		gone) echo "  (writer $p is gone: recover should have removed this)" ;;
		esac
	done
}
leftover=$(ls -A "$SPOOL/tmp")
check $((${#leftover} > 0)) "tmp/ is empty: nothing left by killed workers" "$(tmp_report)"
old=$(find "$SPOOL/tmp" -mindepth 1 ! -newermt "@$((T0 / 1000000))" 2>/dev/null)
check $((${#old} > 0)) "nothing in tmp/ older than the run" "$old"

# Where is every job file?
(
	cd "$SPOOL" || exit 1
	for d in pending failed dead done processing/*; do
		[ -d "$d" ] || continue
		for f in "$d"/*; do
			[ -e "$f" ] || [ -L "$f" ] || continue
			echo "$d ${f##*/}"
		done
	done
) >"$DIR/files"
awk '$2 ~ /\.json$/ { sub(/\.json$/, "", $2); print $2, $1 }' "$DIR/files" | sort >"$DIR/where"
for ((i = 1; i <= N; i++)); do id_of $i; echo; done >"$DIR/ids"
LOST=$(awk '$2 == "done" { print $1 }' "$DIR/where" | sort -u | comm -23 "$DIR/ids" - | wc -l)
check $((LOST > 0)) "every job is in done/ ($LOST lost)" "not in done/: $(awk '$2 == "done" { print $1 }' "$DIR/where" | sort -u | comm -23 "$DIR/ids" - | head -n 20 | tr '\n' ' ')"
elsewhere=$(awk '$2 != "done"' "$DIR/where")
twice=$(cut -d' ' -f1 "$DIR/where" | uniq -d)
unknown=$(cut -d' ' -f1 "$DIR/where" | sort -u | comm -13 "$DIR/ids" -)
check $((${#elsewhere} + ${#twice} + ${#unknown} > 0)) "no job file outside done/, none in two places, no unknown one" \
	"elsewhere: $elsewhere
in two places: $twice
unknown: $unknown"
bad=$(awk '$2 !~ /\.(json|stdout|stderr)$/ || $1 != "done"' "$DIR/files")
check $((${#bad} > 0)) "nothing quarantined, no stray file (log, .invalid, .reason) outside done/" "$(head -n 20 <<<"$bad")"
# every done job has its two logs, each a single link (no leftover of a move)
links=$(find "$SPOOL/done" -name '*.std*' -links +1 | head -n 10)
nlogs=$(find "$SPOOL/done" -name '*.std*' | wc -l)
check $((${#links} > 0 || nlogs != 2 * N)) "every done job has its 2 logs, none with an extra link ($nlogs logs)" "$links"

# --- the runs -----------------------------------------------------------------
(cd "$SPOOL/done" && find . -maxdepth 1 -name '*.json' -print0 | xargs -0 -r jq -r \
	'[.id, .attempts, .state, (.exit_code | tostring), (.last_error // "-" | gsub(" "; "_"))] | join(" ")') \
	>"$DIR/attempts" 2>>"$DIR/cli.err"
awk -v N="$N" -v ATT="$DIR/attempts" -v EV="$EVENTS" -f - "$DIR/attempts" "$EVENTS" "$RESULTS" >"$DIR/analysis" <<'AWK'
function fail(cat, msg) { nf[cat]++; if (nf[cat] <= 10) print "FAIL", cat, msg }
function t(us) { return sprintf("%.0f", us) }
# the life of worker pid p that was running at time s: the index of its
# last START at or before s; returns the event that ended it (KILL, STOPNOW,
# STOP, END) in EVK/EVT, "" if none
function cause(p, s,    i, st) {
	EVK = ""; EVT = 0; LIFE = 0
	for (i = 1; i <= nev[p]; i++)
		if (evk[p, i] == "START" && evt[p, i] <= s) st = i
	if (!st) return ""
	LIFE = st
	for (i = st + 1; i <= nev[p]; i++)
		if (evk[p, i] != "START") { EVK = evk[p, i]; EVT = evt[p, i]; return EVK }
		else break
	return ""
}
FILENAME == ATT { att[$1] = $2; state[$1] = $3; code[$1] = $4; next }
FILENAME == EV {
	n = ++nev[$2]; evk[$2, n] = $1; evt[$2, n] = $3 + 0
	if ($1 == "KILL") kills++
	if ($1 == "STOPNOW") stoppednow++
	next
}
{
	id = $1; kind = $2; us = substr($3, 1, length($3) - 3) + 0; a = $4; w = $5; rid = $6
	p = w; sub(/.*-/, "", p)
	if (!(id ~ /^c[0-9]+$/) || substr(id, 2) + 0 < 1 || substr(id, 2) + 0 > N) { fail("garbage", "unknown job in results: " $0); next }
	if (kind == "overlap") { overlaps++; fail("overlap-lock", id ": a run found the lock of an earlier run held: " $0); next }
	if (kind == "start") {
		if (rid in rs) { fail("garbage", "run started twice: " $0); next }
		rs[rid] = us; ra[rid] = a + 0; rp[rid] = p; rj[rid] = id
		k = ++nr[id]; run[id, k] = rid
		k = ++nw[p]; wrun[p, k] = rid
		next
	}
	if (kind == "end") {
		if (!(rid in rs) || (rid in re)) { fail("garbage", "end without its start: " $0); next }
		re[rid] = us
		next
	}
	fail("garbage", "bad line: " $0)
}
END {
	for (i = 1; i <= N; i++) {
		id = sprintf("c%05d", i)
		k = nr[id]
		if (k == 0) {
			if (id in att) fail("final", id ": in done/ but never ran")
			continue
		}
		# runs in order of start
		for (j = 1; j <= k; j++) o[j] = run[id, j]
		for (j = 2; j <= k; j++) {
			x = o[j]
			for (m = j - 1; m >= 1 && rs[o[m]] > rs[x]; m--) o[m + 1] = o[m]
			o[m + 1] = x
		}
		maxend = 0; notbefore = 0; minatt = 1
		for (j = 1; j <= k; j++) {
			x = o[j]; s = rs[x]
			if (s < maxend)
				fail("overlap-time", id ": run " j " started at " t(s) " us, before an earlier run ended at " t(maxend))
			if (s <= notbefore)
				fail("overlap-time", id ": run " j " started at " t(s) " us, before the worker of run " j - 1 " was killed or stopped at " t(notbefore))
			if ((x in re) && re[x] > maxend) maxend = re[x]
			if (ra[x] < minatt)
				fail("attempts", id ": run " j " has attempt " ra[x] ", expected at least " minatt)
			else
				phantom += ra[x] - minatt
			if (j == k) {
				if (!(x in re)) fail("final", id ": its last run has no end")
				if (!(id in att)) continue
				if (ra[x] != att[id])
					fail("attempts", id ": done json says attempts " att[id] ", its last run was attempt " ra[x])
				if (code[id] != "0" || state[id] != "done")
					fail("final", id ": done json has state " state[id] ", exit_code " code[id])
				continue
			}
			# a run that was not the last: its worker must have died under it
			dups++
			p = rp[x]
			c = cause(p, s); life = LIFE; tend = EVT
			moved = ""
			if (c == "KILL" || c == "STOPNOW") {
				# ... and not have started another job in between
				for (m = 1; m <= nw[p] && moved == ""; m++) {
					y = wrun[p, m]
					if (y == x || rs[y] <= s || rs[y] >= tend) continue
					cause(p, rs[y])
					if (LIFE == life) moved = y
				}
			}
			if (moved != "") {
				fail("unexplained", id ": run " j " (attempt " ra[x] ") on worker " p " was re-run, but that worker went on to run " rj[moved] " (attempt " ra[moved] ") before it was " (c == "KILL" ? "killed" : "stopped"))
				minatt = ra[x]
			} else if (c == "KILL" || c == "STOPNOW") {
				notbefore = tend
				if (c == "KILL") { bykill++; minatt = ra[x] + 1 } else { bynow++; minatt = ra[x] }
				if (!(x in re)) noend++
				else if (c == "KILL") completed++
				else completednow++
			} else {
				fail("unexplained", id ": run " j " (attempt " ra[x] ", worker " rp[x] ") was re-run, but its worker was " (c == "" ? "never killed" : "ended by " c))
				minatt = ra[x]
			}
		}
	}
	print "STAT kills", kills + 0
	print "STAT stoppednow", stoppednow + 0
	print "STAT runs_extra", dups + 0
	print "STAT bykill", bykill + 0
	print "STAT bynow", bynow + 0
	print "STAT completed", completed + 0
	print "STAT completednow", completednow + 0
	print "STAT noend", noend + 0
	print "STAT phantom", phantom + 0
	print "STAT overlaps", overlaps + 0
	for (c in nf) print "STAT fail_" c, nf[c]
}
AWK
stat() {
	awk -v k="$1" '$1 == "STAT" && $2 == k { print $3; f = 1 } END { if (!f) print 0 }' "$DIR/analysis"
}
fails() {
	grep "^FAIL $1 " "$DIR/analysis" | cut -d' ' -f3-
}
DUPS=$(stat runs_extra)
BYKILL=$(stat bykill)
BYNOW=$(stat bynow)
INTERRUPTED=$((BYKILL + BYNOW))
PHANTOM=$(stat phantom)
check "$(stat fail_garbage)" "the results file holds only well-formed runs of our jobs" "$(fails garbage)"
check "$(stat fail_final)" "every job ran; its last run completed, and done/ says exit 0" "$(fails final)"
check "$(stat fail_unexplained)" "a job ran again only after its worker was killed or stopped --now under it" "$(fails unexplained)"
check $((DUPS != INTERRUPTED)) "duplicates ($DUPS) = interrupted attempts ($INTERRUPTED)"
check "$(stat fail_attempts)" "attempts agree with the runs: +1 after a kill, +0 after stop --now, the last one in done/" "$(fails attempts)"
check $((BYKILL + PHANTOM > KILLS)) "each kill cost at most one attempt ($BYKILL interrupted runs + $PHANTOM attempts that never started <= $KILLS kills)"
check $((BYNOW > STOPPED_NOW)) "stop --now interrupted at most one run per worker ($BYNOW <= $STOPPED_NOW)"
check "$(stat fail_overlap-lock)" "no run of a job started while an earlier run of it was alive (lock)" "$(fails overlap-lock)"
check "$(stat fail_overlap-time)" "no two runs of a job overlapped in time" "$(fails overlap-time)"

# sanitizer reports (ASan/UBSan builds) from the workers and the commands
san=$(cat "$SPOOL/worker.log" "$DIR/cli.err" "$DIR/enqueue.err" "$DIR/recover.err" 2>/dev/null |
	grep -E 'ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer|runtime error:' | head -n 20)
check $((${#san} > 0)) "no sanitizer report" "$san"
werr=$(grep -vE 'worker [^ ]+: (started, pid|stopped$|stopped, put back|reclaimed [0-9]+ job)|: [^ ]+: stopped, put back in pending/$' "$SPOOL/worker.log" 2>/dev/null | head -n 20)
[ -n "$werr" ] && diag "worker.log says:
$werr"

SECS=$(((T_END - T0) / 1000000))
echo "1..$T_N"
diag "kill -9 of a running recover: $RECOVER_KILLS"
diag "interrupted runs: $BYKILL by kill -9, $BYNOW by stop --now; $(stat noend) never ended, $(stat completed) had finished their command but their worker was killed before recording it, $(stat completednow) had finished it (or nearly) when stop --now came; $PHANTOM attempts counted that never started"
echo "chaos: jobs $N, kills $KILLS, interrupted $INTERRUPTED, duplicates $DUPS, lost $LOST, $SECS s"
if [ "$T_FAIL" -gt 0 ]; then
	diag "$T_FAIL of $T_N tests failed"
	[ -z "${CHAOS_KEEP:-}" ] && diag "(CHAOS_KEEP=1 keeps the spool and the results)"
	exit 1
fi
exit 0

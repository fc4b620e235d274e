#!/usr/bin/env bash
# bench/run.sh - queuectl side by side with nq, task-spooler (tsp) and the
# machine's own limits; see bench/README.md. Run from anywhere, after
# `make` (./queuectl) and `sh bench/deps.sh`:
#
#   bash bench/run.sh                 # full run, about 15 minutes on 2 cores
#   BENCH_QUICK=1 bash bench/run.sh   # every size shrunk, about 2 minutes
#
# Prints a table and writes bench/RESULTS.md and bench/*.png.
# Environment: QUEUECTL (binary, default ./queuectl), BENCH_DISK_DIR (default
# /var/tmp), BENCH_TMPFS_DIR (default /dev/shm), BENCH_OUT (default bench),
# and the sizes below (BENCH_SAMPLES, BENCH_JOBS, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=${BENCH_QUICK:-0}

if [ "$QUICK" = 1 ]; then
	d_samples=20 d_jobs=1000 d_syncdisk=300 d_peer=200 d_batch=2000
	d_fsyncfiles=100 d_scale=10000 d_claim=1000 d_reps=2
else
	d_samples=150 d_jobs=10000 d_syncdisk=2000 d_peer=900 d_batch=20000
	d_fsyncfiles=300 d_scale=100000 d_claim=2000 d_reps=3
fi
SAMPLES=${BENCH_SAMPLES:-$d_samples}      # pickup samples per variant
JOBS=${BENCH_JOBS:-$d_jobs}               # throughput: pending jobs
SYNCDISK=${BENCH_SYNCDISK_JOBS:-$d_syncdisk}  # ... with sync = 1 on disk
PEER=${BENCH_PEER_JOBS:-$d_peer}          # nq / tsp runs (tsp holds < ~995)
BATCH=${BENCH_BATCH_JOBS:-$d_batch}       # enqueue --batch and raw_files
FSYNCFILES=${BENCH_FSYNC_FILES:-$d_fsyncfiles}  # raw_files -f
SCALE=${BENCH_SCALE:-$d_scale}            # the big spool
CLAIM=${BENCH_CLAIM_JOBS:-$d_claim}       # claim-rate jobs in the big spool
SMALL=100                                 # the small spool
REPS=${BENCH_REPS:-$d_reps}
OUTDIR=${BENCH_OUT:-bench}

B=$ROOT/build/bench
mkdir -p "$B" "$OUTDIR"
for t in stamp raw_spawn raw_files pickup waitn; do
	${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	    -o "$B/$t" "bench/$t.c"
done
# a private copy, so that a rebuild of ./queuectl during the run changes nothing
cp -f "${QUEUECTL:-./queuectl}" "$B/queuectl"
Q=$B/queuectl
STAMP=$B/stamp
for t in nq tsp; do
	command -v $t >/dev/null || { echo "bench: $t missing: run sh bench/deps.sh" >&2; exit 1; }
done

DISK=$(mktemp -d "${BENCH_DISK_DIR:-/var/tmp}/queuectl-bench.XXXXXX")
TMPFS=$(mktemp -d "${BENCH_TMPFS_DIR:-/dev/shm}/queuectl-bench.XXXXXX")
MOUNTED=""
if [ "$(stat -f -c %T "$TMPFS")" != tmpfs ]; then
	mkdir -p "$DISK/tmpfs"
	if mount -t tmpfs -o size=8g,mode=0700 tmpfs "$DISK/tmpfs" 2>/dev/null; then
		MOUNTED=$DISK/tmpfs; rmdir "$TMPFS"; TMPFS=$DISK/tmpfs
	else
		echo "bench: warning: $TMPFS is not tmpfs and mounting one failed" >&2
	fi
fi
chmod 700 "$DISK" "$TMPFS"
RES=$TMPFS/results.tsv; : > "$RES"
REG=$TMPFS/registry; : > "$REG"      # spools, tsp sockets, nq dirs, pids to clean up

# ---------------------------------------------------------------- cleanup
# kill_tree PID: the processes this script started below PID (by id), deepest first
kill_tree() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		kill_tree "$c"
		kill "$c" 2>/dev/null || true
	done
}
cleanup() {
	local kind what
	trap - EXIT INT TERM
	kill_tree $$      # e.g. a waitn still counting, and what it started
	[ -f "$REG" ] || return 0
	while read -r kind what; do
		case $kind in
		spool) [ -d "$what" ] && timeout 30 "$Q" -d "$what" worker stop --now \
		        </dev/null >/dev/null 2>&1 || true ;;
		pid)   grep -qs 100000 "/proc/$what/cmdline" && kill "$what" 2>/dev/null || true ;;
		tsp)   [ -S "$what" ] && TS_SOCKET=$what timeout 10 tsp -K \
		        </dev/null >/dev/null 2>&1 || true ;;
		nq)    local f   # a job file is executable until its job has ended
		       for f in "$what"/,*; do
		               [ -x "$f" ] && [ -d "/proc/${f##*.}" ] || continue
		               kill "${f##*.}" 2>/dev/null || true
		       done ;;
		esac
	done < "$REG"
	# the processes of a killed tsp server's clients go away by themselves
	[ -n "$MOUNTED" ] && umount "$MOUNTED" 2>/dev/null
	rm -rf "$TMPFS" "$DISK" 2>/dev/null || rm -rf "$TMPFS" "$DISK" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
rec() { printf '%s\t%s\n' "$1" "$2" >> "$RES"; }
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
fdiv() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.6g\n", a / b }'; }
jsonl() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) print "{\"command\":\"true\"}" }'; }
fsync_dir() { sync -f "$1" 2>/dev/null || sync; }

# new_spool DIR SYNC: a fresh spool in the new directory DIR
new_spool() {
	mkdir -p "$1"
	"$Q" -d "$1/spool" init >/dev/null
	"$Q" -d "$1/spool" config set sync "$2" >/dev/null
	echo "spool $1/spool" >> "$REG"
	echo "$1/spool"
}

HAVE_BATCH=0
"$Q" enqueue --help 2>&1 | grep -q -- --batch && HAVE_BATCH=1
# fill SPOOL N: N pending `true` jobs, fast: enqueue --batch --no-sync when it
# exists, else the drop-in protocol (write in tmp/, rename into pending/)
fill() {
	if [ "$HAVE_BATCH" = 1 ]; then
		jsonl "$2" | "$Q" -d "$1" enqueue --batch --no-sync >/dev/null
	else
		"$B/raw_files" "$1/tmp" "$1/pending" "$2" >/dev/null
	fi
}

# lock_hold DIR: hold DIR/lock until lock_release; a job `flock -s DIR/lock
# true` blocks a peer's queue until then
lock_hold() {
	: > "$1/lock"
	( exec 9> "$1/lock"; flock -x 9; exec sleep 100000 ) &
	HOLDER=$!
	echo "pid $HOLDER" >> "$REG"
	while flock -n -s "$1/lock" true; do sleep 0.01; done
}
lock_release() { kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true; }

# ---------------------------------------------------------------- machine
log "bench: quick=$QUICK samples=$SAMPLES jobs=$JOBS peer=$PEER batch=$BATCH scale=$SCALE reps=$REPS batch-option=$HAVE_BATCH"
MACH_CPU=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
MACH_NPROC=$(nproc)
MACH_KERNEL=$(uname -sr)
MACH_DISKFS="$(findmnt -no FSTYPE,OPTIONS -T "$DISK" 2>/dev/null | head -1) ($(df -P "$DISK" | awk 'NR==2 { print $1 }'))"
MACH_TMPFS="$(findmnt -no FSTYPE -T "$TMPFS" 2>/dev/null | head -1)"
MACH_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
V_Q=$("$Q" --version 2>&1 | head -1)
if GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
	[ -n "$(git -C "$ROOT" status --porcelain -- src Makefile 2>/dev/null)" ] &&
	    GIT_REV="$GIT_REV + uncommitted changes in src/"
	V_Q="$V_Q (built from $GIT_REV)"
fi
V_NQ=$(dpkg-query -W -f '${Version}' nq 2>/dev/null || echo '?')
V_TSP=$(dpkg-query -W -f '${Version}' task-spooler 2>/dev/null || echo '?')
V_DASH=$(dpkg-query -W -f '${Version}' dash 2>/dev/null || echo '?')
MACH_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# ================================================================ pickup
log "pickup latency: $SAMPLES samples x 11 variants, interleaved"
L=$DISK/lat; mkdir -p "$L/nq" "$L/tsp" "$TMPFS/stamps"
L1=$(new_spool "$L/q1" 1)
L8=$(new_spool "$L/q8" 0)
L0=$(new_spool "$L/q0" 0)
"$Q" -d "$L1" worker start --count 1 >/dev/null
"$Q" -d "$L8" worker start --count 8 >/dev/null
"$Q" -d "$L0" worker start --count 1 >/dev/null
echo "nq $L/nq" >> "$REG"
echo "tsp $L/tsp/sock" >> "$REG"
TS_SOCKET=$L/tsp/sock TMPDIR=$L/tsp tsp -S 1 >/dev/null
NQDIR=$L/nq TS_SOCKET=$L/tsp/sock TMPDIR=$L/tsp \
"$B/pickup" -n "$SAMPLES" -s 30 -d "$TMPFS/stamps" -o "$TMPFS/lat" \
    direct "$STAMP" {} ::: \
    direct-sh sh -c "$STAMP {}" ::: \
    qc-nosync "$Q" -d "$L1" enqueue --no-sync -- "$STAMP" {} ::: \
    qc-sync "$Q" -d "$L1" enqueue -- "$STAMP" {} ::: \
    qc-sync0 "$Q" -d "$L0" enqueue --no-sync -- "$STAMP" {} ::: \
    qc8-nosync "$Q" -d "$L8" enqueue --no-sync -- "$STAMP" {} ::: \
    nq nq "$STAMP" {} ::: \
    nq-sh nq sh -c "$STAMP {}" ::: \
    tsp tsp "$STAMP" {} ::: \
    tsp-sh tsp sh -c "$STAMP {}" > "$TMPFS/lat.summary"
"$Q" -d "$L1" worker stop >/dev/null
"$Q" -d "$L8" worker stop >/dev/null
"$Q" -d "$L0" worker stop >/dev/null
TS_SOCKET=$L/tsp/sock tsp -K >/dev/null 2>&1 || true
awk '{ printf "lat.%s.median\t%s\nlat.%s.p90\t%s\nlat.%s.p99\t%s\nlat.%s.min\t%s\nlat.%s.max\t%s\nlat.%s.lost\t%s\n", \
    $1, $3, $1, $4, $1, $5, $1, $6, $1, $7, $1, $8 }' "$TMPFS/lat.summary" >> "$RES"

# ================================================================ throughput
# interleaved: per repetition, per worker count: raw, then each queuectl config
for r in $(seq "$REPS"); do
	for P in 1 2 4; do
		log "throughput rep $r/$REPS, $P processes"
		read -r rate _ < <("$B/raw_spawn" -n "$JOBS" -p "$P")
		rec "thr.raw.P$P" "$rate"
		for fs in tmpfs disk; do
			for sy in 0 1; do
				n=$JOBS; base=$TMPFS
				[ $fs = disk ] && base=$DISK
				[ $fs = disk ] && [ $sy = 1 ] && n=$SYNCDISK
				d=$base/thr-$fs-s$sy-P$P-r$r
				S=$(new_spool "$d" "$sy")
				fill "$S" "$n"
				fsync_dir "$S"
				read -r total _ < <("$B/waitn" -n "$n" -t 1800 -o /dev/null "$S/done" \
				    -- "$Q" -d "$S" worker start --count "$P")
				"$Q" -d "$S" worker stop >/dev/null
				rec "thr.qc.$fs.sync$sy.P$P" "$(fdiv "$n" "$total")"
				[ $fs = tmpfs ] && rm -rf "$d"
			done
		done
	done
done

# ================================================================ peers and enqueue
peer_qc_enqueue() {   # fs mode: per-process enqueue of PEER jobs, no worker
	local fs=$1 mode=$2 base=$TMPFS d S rate opt=""
	[ "$fs" = disk ] && base=$DISK
	[ "$mode" = nosync ] && opt=--no-sync
	d=$base/enq-$fs-$mode-r$r
	S=$(new_spool "$d" 1)
	read -r rate _ < <("$B/raw_spawn" -q -n "$PEER" -p 1 -- "$Q" -d "$S" enqueue $opt true)
	rec "enq.qc.$fs.$mode" "$rate"
	LAST_SPOOL=$S
}
peer_qc_drain() {     # spool sync workers key
	local S=$1 total
	"$Q" -d "$S" config set sync "$2" >/dev/null
	fsync_dir "$S"
	read -r total _ < <("$B/waitn" -n "$PEER" -t 1800 -o /dev/null "$S/done" \
	    -- "$Q" -d "$S" worker start --count "$3")
	"$Q" -d "$S" worker stop >/dev/null
	rec "$4" "$(fdiv "$PEER" "$total")"
}
peer_nq() {
	local d=$DISK/nq-r$r rate t0 t1
	mkdir -p "$d/q"; echo "nq $d/q" >> "$REG"
	lock_hold "$d"
	NQDIR=$d/q nq flock -s "$d/lock" true >/dev/null
	read -r rate _ < <(NQDIR=$d/q "$B/raw_spawn" -q -n "$PEER" -p 1 -- nq sh -c true)
	rec enq.nq "$rate"
	fsync_dir "$d"
	t0=$(now_us); lock_release
	NQDIR=$d/q timeout 1800 nq -w
	t1=$(now_us)
	rec drain.nq.P1 "$(fdiv "$PEER" "$(fdiv $((t1 - t0)) 1000000)")"
}
peer_tsp() {          # slots
	local S=$1 d=$DISK/tsp-S$1-r$r rate t0 t1 i
	mkdir -p "$d"; echo "tsp $d/sock" >> "$REG"
	export TS_SOCKET=$d/sock TMPDIR=$d
	tsp -S "$S" >/dev/null
	lock_hold "$d"
	for i in $(seq "$S"); do tsp flock -s "$d/lock" true >/dev/null; done
	read -r rate _ < <("$B/raw_spawn" -q -n "$PEER" -p 1 -- tsp sh -c true)
	rec enq.tsp "$rate"
	t0=$(now_us); lock_release
	for i in $(seq "$S"); do timeout 1800 tsp -w $((PEER + S - i)) >/dev/null || true; done
	t1=$(now_us)
	rec "drain.tsp.P$S" "$(fdiv "$PEER" "$(fdiv $((t1 - t0)) 1000000)")"
	tsp -K >/dev/null 2>&1 || true
	unset TS_SOCKET TMPDIR
}
e2e_qc() {            # enqueue option: a shell loop enqueues, 1 worker runs
	local d=$DISK/e2e-qc$1-r$r S total
	S=$(new_spool "$d" 1)
	"$Q" -d "$S" worker start --count 1 >/dev/null
	read -r total _ < <("$B/waitn" -n "$PEER" -t 1800 "$S/done" -- bash -c \
	    'for ((i = 0; i < $1; i++)); do "$2" -d "$3" enqueue $4 true >/dev/null; done' \
	    _ "$PEER" "$Q" "$S" "$1")
	"$Q" -d "$S" worker stop >/dev/null
	rec "e2e.qc$1" "$(fdiv "$PEER" "$total")"
}
e2e_nq() {
	local d=$DISK/e2e-nq-r$r t0 t1 i
	mkdir -p "$d/q"; echo "nq $d/q" >> "$REG"
	t0=$(now_us)
	for ((i = 0; i < PEER; i++)); do NQDIR=$d/q nq sh -c true >/dev/null; done
	NQDIR=$d/q timeout 1800 nq -w
	t1=$(now_us)
	rec e2e.nq "$(fdiv "$PEER" "$(fdiv $((t1 - t0)) 1000000)")"
}
e2e_tsp() {
	local d=$DISK/e2e-tsp-r$r t0 t1 i
	mkdir -p "$d"; echo "tsp $d/sock" >> "$REG"
	export TS_SOCKET=$d/sock TMPDIR=$d
	tsp -S 1 >/dev/null
	t0=$(now_us)
	for ((i = 0; i < PEER; i++)); do tsp sh -c true >/dev/null; done
	timeout 1800 tsp -w $((PEER - 1)) >/dev/null || true
	t1=$(now_us)
	rec e2e.tsp "$(fdiv "$PEER" "$(fdiv $((t1 - t0)) 1000000)")"
	tsp -K >/dev/null 2>&1 || true
	unset TS_SOCKET TMPDIR
}
batch_enqueue() {     # fs
	local fs=$1 base=$TMPFS d S t0 t1 mode opt rate
	[ "$fs" = disk ] && base=$DISK
	for mode in nosync sync; do
		if [ "$HAVE_BATCH" = 1 ]; then
			opt=""; [ $mode = nosync ] && opt=--no-sync
			d=$base/batch-$fs-$mode-r$r
			S=$(new_spool "$d" 1)
			t0=$(now_us)
			"$Q" -d "$S" enqueue --batch $opt < "$TMPFS/batch.jsonl" >/dev/null
			t1=$(now_us)
			rec "enq.batch.$fs.$mode" "$(fdiv "$BATCH" "$(fdiv $((t1 - t0)) 1000000)")"
			[ "$fs" = tmpfs ] && rm -rf "$d"
		fi
	done
	d=$base/rawfiles-$fs-r$r; mkdir -p "$d/t" "$d/p" "$d/f"
	read -r rate _ < <("$B/raw_files" "$d/t" "$d/p" "$BATCH"); rec "enq.raw.$fs" "$rate"
	read -r rate _ < <("$B/raw_files" -f "$d/t" "$d/f" "$FSYNCFILES"); rec "enq.rawsync.$fs" "$rate"
	[ "$fs" = tmpfs ] && rm -rf "$d"
	return 0
}
jsonl "$BATCH" > "$TMPFS/batch.jsonl"

for r in $(seq "$REPS"); do
	log "peers and enqueue rep $r/$REPS ($PEER jobs)"
	peer_qc_enqueue tmpfs sync;   rm -rf "$(dirname "$LAST_SPOOL")"
	peer_qc_enqueue tmpfs nosync; rm -rf "$(dirname "$LAST_SPOOL")"
	peer_qc_enqueue disk sync;    peer_qc_drain "$LAST_SPOOL" 1 1 drain.qc.sync1.P1
	peer_nq
	peer_qc_enqueue disk nosync;  peer_qc_drain "$LAST_SPOOL" 0 1 drain.qc.sync0.P1
	peer_tsp 1
	d=$DISK/drain2-r$r; S=$(new_spool "$d" 0); fill "$S" "$PEER"
	peer_qc_drain "$S" 0 2 drain.qc.sync0.P2
	peer_tsp 2
	d=$DISK/drain2s-r$r; S=$(new_spool "$d" 1); fill "$S" "$PEER"
	peer_qc_drain "$S" 1 2 drain.qc.sync1.P2
	log "end to end and batch rep $r/$REPS"
	e2e_qc ""; e2e_nq; e2e_qc --no-sync; e2e_tsp
	batch_enqueue tmpfs; batch_enqueue disk
done

# ================================================================ scale
DROP=0
if (sync; echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then DROP=1; fi
# scale_run LABEL SIZE: a spool with SIZE pending jobs on disk (sync = 0)
scale_run() {
	local label=$1 size=$2 d S k out total cmd start mk2 mk t0 t1 i pid
	d=$DISK/scale-$label-$(now_us); S=$(new_spool "$d" 0)
	k=$CLAIM; [ "$k" -gt $((size - 1)) ] && k=$((size - 1))
	log "scale: $size pending jobs ($label): generating"
	"$B/raw_files" "$S/tmp" "$S/pending" "$size" >/dev/null
	# the first job (priority -1): stamp, then 1 s idle for the RSS reading
	printf '{"command":"%s %s/first.ns; sleep 1","priority":-1}\n' "$STAMP" "$d" > "$S/tmp/a-first.json"
	mv "$S/tmp/a-first.json" "$S/pending/a-first.json"
	sync
	log "scale: $size pending jobs ($label): first claim, RSS, claim rate"
	( for i in $(seq 3000); do [ -s "$d/first.ns" ] && [ -s "$d/pids" ] && break; sleep 0.01; done
	  sleep 0.4; pid=$(head -n 1 "$d/pids")
	  awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" > "$d/rss" ) &
	out=$("$B/waitn" -n $((k + 1)) -m 2,$((k + 1)) -t 1800 -o "$d/pids" "$S/done" \
	    -- "$Q" -d "$S" worker start --count 1)
	wait $! || true
	read -r total _ cmd start mk2 mk <<< "$out"
	rec "scale.$label.first_ms" "$(fdiv $(( $(cat "$d/first.ns") - start )) 1000000)"
	rec "scale.$label.start_ms" "$(fdiv "$cmd" 0.001)"
	rec "scale.$label.claim_rate" "$(fdiv $((k - 1)) "$(awk -v a="$mk" -v b="$mk2" 'BEGIN { print a - b }')")"
	[ -s "$d/rss" ] && rec "scale.$label.rss_kb" "$(cat "$d/rss")"
	"$Q" -d "$S" worker stop >/dev/null
	for i in 1 2 3 4 5; do
		t0=$(now_us); "$Q" -d "$S" status >/dev/null; t1=$(now_us)
		rec "scale.$label.status_ms" "$(fdiv $((t1 - t0)) 1000)"
	done
	for i in 1 2 3; do
		t0=$(now_us); { "$Q" -d "$S" list --state pending | head -n 20 >/dev/null; } || true; t1=$(now_us)
		rec "scale.$label.list_ms" "$(fdiv $((t1 - t0)) 1000)"
	done
	# warm restarts, then a cold one: a new first job each time
	for i in 1 2 3; do
		[ $i = 3 ] && [ $DROP = 0 ] && break
		printf '{"command":"%s %s/r%d.ns","priority":%d}\n' "$STAMP" "$d" $i $((-1 - i)) > "$S/tmp/a-r$i.json"
		mv "$S/tmp/a-r$i.json" "$S/pending/a-r$i.json"
		sync
		[ $i = 3 ] && echo 3 > /proc/sys/vm/drop_caches
		read -r total _ cmd start _ < <("$B/waitn" -n 1 -t 600 -o /dev/null "$S/done" \
		    -- "$Q" -d "$S" worker start --count 1)
		"$Q" -d "$S" worker stop >/dev/null
		if [ $i = 3 ]; then
			rec "scale.$label.cold_first_ms" "$(fdiv $(( $(cat "$d/r$i.ns") - start )) 1000000)"
			rec "scale.$label.cold_start_ms" "$(fdiv "$cmd" 0.001)"
			sync; echo 3 > /proc/sys/vm/drop_caches
			t0=$(now_us); "$Q" -d "$S" status >/dev/null; t1=$(now_us)
			rec "scale.$label.cold_status_ms" "$(fdiv $((t1 - t0)) 1000)"
		else
			rec "scale.$label.first_ms" "$(fdiv $(( $(cat "$d/r$i.ns") - start )) 1000000)"
			rec "scale.$label.start_ms" "$(fdiv "$cmd" 0.001)"
		fi
	done
}
scale_run small $SMALL
scale_run big "$SCALE"
scale_run small $SMALL

# ================================================================ report
# agg KEY: "median min max n" of the values recorded under KEY
agg() {
	awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$RES" | sort -g |
	    awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - - 0"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.6g %.6g %.6g %d\n", m, v[1], v[NR], NR }'
}
med() { agg "$1" | cut -d' ' -f1; }
# fmt KEY [DIGITS]: "median (min-max)"
fmt() {
	local m lo hi n p=${2:-0}
	read -r m lo hi n < <(agg "$1")
	[ "$n" = 0 ] && { echo "n/a"; return; }
	if [ "$n" = 1 ]; then printf "%.${p}f" "$m"; else printf "%.${p}f (%.${p}f–%.${p}f)" "$m" "$lo" "$hi"; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "n/a"; else printf "%.2f\n", a / b }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "n/a"; else printf "%.0f%%\n", 100 * a / b }'; }
lat() { awk -v l="$1" -v c="$2" '$1 == l { print $c }' "$TMPFS/lat.summary"; }
yesno() { awk "BEGIN { exit !($1) }" 2>/dev/null && echo "met" || echo "NOT met"; }

REPORT=$TMPFS/report.md
{
echo "# queuectl benchmark results"
echo
echo "Written by \`bench/run.sh\`$([ "$QUICK" = 1 ] && echo ' with BENCH_QUICK=1 (small sizes: indicative only)'). See bench/README.md for what each figure means."
echo
echo "## Machine"
echo
echo "| | |"
echo "|---|---|"
echo "| date | $MACH_DATE |"
echo "| CPU | $MACH_NPROC × $MACH_CPU |"
echo "| kernel | $MACH_KERNEL |"
echo "| disk | $MACH_DISKFS |"
echo "| tmpfs | $MACH_TMPFS |"
echo "| load average at start | $MACH_LOAD |"
echo "| versions | $V_Q; nq $V_NQ; task-spooler (tsp) $V_TSP; dash $V_DASH |"
echo "| sizes | $SAMPLES latency samples per variant; throughput $JOBS jobs ($SYNCDISK with sync = 1 on disk); peers $PEER jobs; batch $BATCH jobs; scale $SCALE and $SMALL jobs; $REPS repetitions |"
echo "| enqueue --batch | $([ "$HAVE_BATCH" = 1 ] && echo 'available (spools filled with it)' || echo 'not available in this build (spools filled by the drop-in protocol)') |"
echo
echo "Figures are medians over the repetitions, with min–max in brackets. All variants of a figure ran interleaved in the same run."
echo
echo "## Pickup latency"
echo
echo "From just before the enqueue command is started to the job's first act (\`bench/stamp\` writing CLOCK_REALTIME), idle queue, spools on disk, $SAMPLES samples per variant. Milliseconds."
echo
echo "| variant | median | p90 | p99 | min | max | median − direct | median − direct sh |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
dsh=$(lat direct-sh 3); dex=$(lat direct 3)
for v in direct direct-sh qc-sync0 qc8-nosync qc-nosync qc-sync nq nq-sh tsp tsp-sh; do
	case $v in
	direct) desc="direct spawn: stamp" ;;
	direct-sh) desc="direct spawn: sh -c 'stamp'" ;;
	qc-nosync) desc="queuectl enqueue --no-sync, 1 idle worker (config sync = 1)" ;;
	qc-sync) desc="queuectl enqueue (fsync), 1 idle worker (config sync = 1)" ;;
	qc-sync0) desc="queuectl enqueue --no-sync, 1 idle worker, config sync = 0" ;;
	qc8-nosync) desc="queuectl enqueue --no-sync, 8 idle workers, config sync = 0" ;;
	nq) desc="nq stamp" ;;
	nq-sh) desc="nq sh -c 'stamp'" ;;
	tsp) desc="tsp stamp" ;;
	tsp-sh) desc="tsp sh -c 'stamp'" ;;
	esac
	m=$(lat $v 3)
	[ -z "$m" ] && continue
	lost=$(lat $v 8); [ "$lost" != 0 ] && desc="$desc ($lost lost)"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$desc" "$m" "$(lat $v 4)" "$(lat $v 5)" \
	    "$(lat $v 6)" "$(lat $v 7)" "$(awk -v a="$m" -v b="$dex" 'BEGIN { printf "%+.3f", a - b }')" \
	    "$(awk -v a="$m" -v b="$dsh" 'BEGIN { printf "%+.3f", a - b }')"
done
echo
echo "nq and tsp exec their argument vector directly; queuectl runs a command with shell syntax through \`/bin/sh -c\` and (in builds that have issue 4's direct exec) one without it directly, as \`stamp FILE\` here. So \`direct\` is the floor for \`nq\`, \`tsp\` and a directly executed queuectl job, \`direct-sh\` for \`nq sh -c\`, \`tsp sh -c\` and a queuectl job run through sh. Plot: latency-cdf.png."
echo
echo "## Worker throughput"
echo
echo "$JOBS pending \`true\` jobs ($SYNCDISK with sync = 1 on disk), N workers started, until all are in done/ (worker start-up included). Jobs per second; ratio = queuectl / raw fork+exec of \`sh -c true\` with as many processes."
echo
echo "| config | 1 | 2 | 4 | ratio 1 | ratio 2 | ratio 4 |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '| raw fork+exec sh -c true | %s | %s | %s | 1 | 1 | 1 |\n' "$(fmt thr.raw.P1)" "$(fmt thr.raw.P2)" "$(fmt thr.raw.P4)"
for fs in tmpfs disk; do for sy in 0 1; do
	k=thr.qc.$fs.sync$sy
	printf '| queuectl %s sync = %s | %s | %s | %s | %s | %s | %s |\n' "$fs" "$sy" \
	    "$(fmt $k.P1)" "$(fmt $k.P2)" "$(fmt $k.P4)" \
	    "$(ratio "$(med $k.P1)" "$(med thr.raw.P1)")" "$(ratio "$(med $k.P2)" "$(med thr.raw.P2)")" \
	    "$(ratio "$(med $k.P4)" "$(med thr.raw.P4)")"
done; done
echo
echo "fsync cost on disk (sync = 1 / sync = 0): 1 worker $(ratio "$(med thr.qc.disk.sync1.P1)" "$(med thr.qc.disk.sync0.P1)"), 2 workers $(ratio "$(med thr.qc.disk.sync1.P2)" "$(med thr.qc.disk.sync0.P2)"), 4 workers $(ratio "$(med thr.qc.disk.sync1.P4)" "$(med thr.qc.disk.sync0.P4)") (1.00 = free). Plot: throughput.png."
echo
echo "### Side by side with nq and tsp ($PEER jobs, disk)"
echo
echo "Draining: the jobs are queued behind a blocker job, then the blocker is released (queuectl: the spool is filled, then workers start) and the clock runs until the last job ends. End to end: a bash loop enqueues one job per process while one worker/slot runs them, until the last ends. Jobs per second; peers run \`sh -c true\`, queuectl the command \`true\` (through \`sh -c\`, or executed directly in builds with issue 4's direct exec)."
echo
echo "| | jobs/s | vs nq | vs tsp (same slots) |"
echo "|---|---:|---:|---:|"
printf '| drain, queuectl 1 worker, sync = 1 | %s | %s | %s |\n' "$(fmt drain.qc.sync1.P1)" "$(ratio "$(med drain.qc.sync1.P1)" "$(med drain.nq.P1)")" "$(ratio "$(med drain.qc.sync1.P1)" "$(med drain.tsp.P1)")"
printf '| drain, queuectl 1 worker, sync = 0 | %s | %s | %s |\n' "$(fmt drain.qc.sync0.P1)" "$(ratio "$(med drain.qc.sync0.P1)" "$(med drain.nq.P1)")" "$(ratio "$(med drain.qc.sync0.P1)" "$(med drain.tsp.P1)")"
printf '| drain, nq | %s | 1 | |\n' "$(fmt drain.nq.P1)"
printf '| drain, tsp 1 slot | %s | | 1 |\n' "$(fmt drain.tsp.P1)"
printf '| drain, queuectl 2 workers, sync = 1 | %s | | %s |\n' "$(fmt drain.qc.sync1.P2)" "$(ratio "$(med drain.qc.sync1.P2)" "$(med drain.tsp.P2)")"
printf '| drain, queuectl 2 workers, sync = 0 | %s | | %s |\n' "$(fmt drain.qc.sync0.P2)" "$(ratio "$(med drain.qc.sync0.P2)" "$(med drain.tsp.P2)")"
printf '| drain, tsp 2 slots | %s | | 1 |\n' "$(fmt drain.tsp.P2)"
printf '| end to end, queuectl enqueue (fsync), 1 worker | %s | %s | %s |\n' "$(fmt e2e.qc)" "$(ratio "$(med e2e.qc)" "$(med e2e.nq)")" "$(ratio "$(med e2e.qc)" "$(med e2e.tsp)")"
printf '| end to end, queuectl enqueue --no-sync, 1 worker | %s | %s | %s |\n' "$(fmt e2e.qc--no-sync)" "$(ratio "$(med e2e.qc--no-sync)" "$(med e2e.nq)")" "$(ratio "$(med e2e.qc--no-sync)" "$(med e2e.tsp)")"
printf '| end to end, nq | %s | 1 | |\n' "$(fmt e2e.nq)"
printf '| end to end, tsp 1 slot | %s | | 1 |\n' "$(fmt e2e.tsp)"
echo
echo "## Enqueue rate"
echo
echo "Per process: one enqueue command per job, $PEER jobs, started one after another by \`raw_spawn\` (no worker running; nq and tsp queue behind a blocker). Batch: $BATCH JSON lines on stdin of one \`queuectl enqueue --batch\`; raw create+write(300 B)+rename of as many files in one process ($FSYNCFILES with fsync of file and directory each). Jobs per second."
echo
echo "| | tmpfs | disk |"
echo "|---|---:|---:|"
printf '| queuectl enqueue (fsync) | %s | %s |\n' "$(fmt enq.qc.tmpfs.sync)" "$(fmt enq.qc.disk.sync)"
printf '| queuectl enqueue --no-sync | %s | %s |\n' "$(fmt enq.qc.tmpfs.nosync)" "$(fmt enq.qc.disk.nosync)"
printf '| nq sh -c true | | %s |\n' "$(fmt enq.nq)"
printf '| tsp sh -c true | | %s |\n' "$(fmt enq.tsp)"
printf '| queuectl enqueue --batch | %s | %s |\n' "$(fmt enq.batch.tmpfs.sync)" "$(fmt enq.batch.disk.sync)"
printf '| queuectl enqueue --batch --no-sync | %s | %s |\n' "$(fmt enq.batch.tmpfs.nosync)" "$(fmt enq.batch.disk.nosync)"
printf '| raw create+write+rename | %s | %s |\n' "$(fmt enq.raw.tmpfs)" "$(fmt enq.raw.disk)"
printf '| raw, fsync file and directory each | %s | %s |\n' "$(fmt enq.rawsync.tmpfs)" "$(fmt enq.rawsync.disk)"
echo
echo "Ratios: per-process enqueue (fsync, disk) / nq = $(ratio "$(med enq.qc.disk.sync)" "$(med enq.nq)"), --no-sync / nq = $(ratio "$(med enq.qc.disk.nosync)" "$(med enq.nq)"), / tsp = $(ratio "$(med enq.qc.disk.nosync)" "$(med enq.tsp)"); batch --no-sync / raw: tmpfs $(ratio "$(med enq.batch.tmpfs.nosync)" "$(med enq.raw.tmpfs)"), disk $(ratio "$(med enq.batch.disk.nosync)" "$(med enq.raw.disk)")."
echo
echo "## Scale"
echo
echo "A spool on disk with $SCALE pending \`true\` jobs (and one with $SMALL), config sync = 0 (so that claim costs are not hidden behind fsync). First claim: from the start of \`queuectl worker start --count 1\` to the first act of the first job (priority −1, \`stamp\`); three starts (right after generating the spool, then two restarts), all with a warm page cache. Claim rate: jobs per second over the next $CLAIM jobs (over $((SMALL - 1)) in the small spool). RSS: VmRSS of the worker while its first job sleeps, the whole spool indexed."
echo
echo "| | $SMALL jobs | $SCALE jobs | ratio |"
echo "|---|---:|---:|---:|"
for x in "first claim, ms:first_ms:1" "worker start returns, ms:start_ms:1" "claim rate, jobs/s:claim_rate:0" \
         "status, ms:status_ms:1" "list --state pending \\| head -n 20, ms:list_ms:1" "idle worker RSS, KiB:rss_kb:0" \
         "first claim, cold cache, ms:cold_first_ms:1" "status, cold cache, ms:cold_status_ms:1"; do
	IFS=: read -r name key p <<< "$x"
	printf '| %s | %s | %s | %s |\n' "$name" "$(fmt scale.small.$key "$p")" "$(fmt scale.big.$key "$p")" \
	    "$(ratio "$(med scale.big.$key)" "$(med scale.small.$key)")"
done
[ "$DROP" = 0 ] && echo && echo "Cold cache: not permitted (writing /proc/sys/vm/drop_caches failed)."
rss_s=$(med scale.small.rss_kb); rss_b=$(med scale.big.rss_kb)
echo
echo "RSS per indexed job: $(awk -v a="$rss_b" -v b="$rss_s" -v n=$((SCALE - SMALL)) 'BEGIN { if (a == "-" || b == "-") print "n/a"; else printf "%.0f bytes", (a - b) * 1024 / n }')."
echo
echo "## Targets of issue 4"
echo
echo "| target | measured | |"
echo "|---|---|---|"
qs=$(lat qc-sync 3); q0=$(lat qc-sync0 3); q8=$(lat qc8-nosync 3); nqm=$(lat nq 3); tsm=$(lat tsp 3)
delta() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f", a - b }'; }
echo "| pickup median within 1 ms of a direct spawn of the same command, \`sh -c\` as the issue defines it (no fsync: enqueue --no-sync, config sync = 0) | $q0 vs $dsh ms ($(delta "$q0" "$dsh")) | $(yesno "$q0 - $dsh <= 1") |"
echo "| the same against a direct exec of \`stamp\` without sh: reported | $q0 vs $dex ms ($(delta "$q0" "$dex")) | |"
echo "| the same with every fsync (enqueue, config sync = 1): reported | $qs ms | |"
echo "| pickup median below nq and tsp, each running \`stamp\` without sh (no fsync) | $q0 vs nq $nqm, tsp $tsm ms | $(yesno "$q0 < $nqm && $q0 < $tsm") |"
echo "| with 8 idle workers within 2 ms of a direct \`sh -c\` spawn (no fsync) | $q8 vs $dsh ms ($(delta "$q8" "$dsh")) | $(yesno "$q8 - $dsh <= 2") |"
echo "| the same against a direct exec without sh: reported | $q8 vs $dex ms ($(delta "$q8" "$dex")) | |"
for P in 1 2 4; do
	a=$(med thr.qc.tmpfs.sync0.P$P); b=$(med thr.raw.P$P)
	echo "| throughput sync = 0 ≥ 80% of raw, $P proc. (tmpfs) | $(pct "$a" "$b") | $(yesno "$a >= 0.8 * $b") |"
done
a=$(med thr.qc.disk.sync1.P1); b=$(med thr.qc.disk.sync0.P1)
echo "| sync = 1 on disk within 2× of sync = 0 (1 worker) | $(ratio "$b" "$a")× slower | $(yesno "$b <= 2 * $a") |"
a=$(med enq.batch.tmpfs.nosync); b=$(med enq.raw.tmpfs)
if [ "$HAVE_BATCH" = 1 ]; then
	echo "| enqueue --batch --no-sync ≥ 20,000/s on tmpfs | $(printf '%.0f' "$a")/s | $(yesno "$a >= 20000") |"
	echo "| enqueue --batch ≥ 50% of raw create+rename | $(pct "$a" "$b") | $(yesno "$a >= 0.5 * $b") |"
else
	echo "| enqueue --batch ≥ 20,000/s, ≥ 50% of raw | no --batch in this build | NOT met |"
fi
a=$(med enq.qc.disk.nosync); b=$(med enq.nq); c=$(med enq.qc.disk.sync)
echo "| per-process enqueue at least as fast as nq's (both acknowledge before an fsync: --no-sync) | $(printf '%.0f' "$a") vs $(printf '%.0f' "$b")/s | $(yesno "$a >= $b") |"
echo "| the same, queuectl acknowledging after its 2 fsyncs: reported | $(printf '%.0f' "$c")/s ($(ratio "$c" "$b")× nq) | |"
a=$(med scale.big.first_ms)
echo "| first claim with $SCALE jobs within 1 s (warm) | $(printf '%.0f' "$a") ms | $(yesno "$a <= 1000") |"
a=$(med scale.big.claim_rate); b=$(med scale.small.claim_rate)
echo "| claim rate within 20% of the $SMALL-job spool | $(pct "$a" "$b") | $(yesno "$a >= 0.8 * $b") |"
a=$(med scale.big.status_ms)
echo "| status under 50 ms with $SCALE jobs | $(printf '%.1f' "$a") ms | $(yesno "$a < 50") |"
echo "| idle worker RSS < 4 MiB + 200 B/job | $rss_b KiB with $SCALE jobs | $(yesno "$rss_b * 1024 < 4194304 + 200 * $SCALE") |"
} > "$REPORT"

# ---------------------------------------------------------------- plots
PL=$TMPFS/plot; mkdir -p "$PL"
plot_ok=1
cdf_cmd=""; ci=0
colors=(black '#1f77b4' '#ff7f0e' '#2ca02c' '#d62728' '#9467bd' '#8c564b' '#e377c2' '#7f7f7f' '#17becf')
for v in direct direct-sh qc-nosync qc-sync qc-sync0 qc8-nosync nq-sh tsp-sh nq tsp; do
	f=$TMPFS/lat.$v.txt
	[ -s "$f" ] || continue
	sort -g "$f" | awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; i++) printf "%.4f %.4f\n", v[i] / 1000, i / NR }' > "$PL/cdf.$v"
	cdf_cmd="$cdf_cmd${cdf_cmd:+, }'$PL/cdf.$v' using 1:2 with steps lw 2 lc rgb '${colors[ci]}' dt $((ci / 5 + 1)) title '$v'"
	ci=$((ci + 1))
done
{
	for P in 1 2 4; do
		printf '%s' "$P"
		for k in thr.raw thr.qc.tmpfs.sync0 thr.qc.tmpfs.sync1 thr.qc.disk.sync0 thr.qc.disk.sync1; do
			read -r m lo hi _ < <(agg "$k.P$P"); printf ' %s %s %s' "$m" "$lo" "$hi"
		done
		echo
	done
} > "$PL/thr.dat"
{
	echo "1 $(agg drain.tsp.P1 | cut -d' ' -f1-3) $(agg drain.nq.P1 | cut -d' ' -f1-3)"
	echo "2 $(agg drain.tsp.P2 | cut -d' ' -f1-3) - - -"
} > "$PL/peers.dat"
gnuplot 2>"$PL/gnuplot.err" <<EOF || plot_ok=0
set terminal pngcairo size 1000,560 font ",10"
set output '$PL/latency-cdf.png'
set title "Pickup latency: enqueue start to the job's first act ($SAMPLES samples each)"
set xlabel "milliseconds (log scale)"
set ylabel "fraction of samples"
set logscale x
set key bottom right
set grid
plot $cdf_cmd
set output '$PL/throughput.png'
unset logscale x
set title "Worker throughput: $JOBS pending jobs ($SYNCDISK on disk with sync = 1); peers: $PEER jobs on disk"
set xlabel "workers (processes, slots)"
set ylabel "jobs per second"
set xrange [0.5:4.5]
set xtics (1, 2, 4)
set yrange [0:*]
set key outside right top
set datafile missing "-"
plot '$PL/thr.dat' using 1:2:3:4 with yerrorlines lw 2 title 'raw fork+exec sh -c true', \
     '' using 1:5:6:7 with yerrorlines lw 2 title 'queuectl tmpfs sync=0', \
     '' using 1:8:9:10 with yerrorlines lw 2 title 'queuectl tmpfs sync=1', \
     '' using 1:11:12:13 with yerrorlines lw 2 title 'queuectl disk sync=0', \
     '' using 1:14:15:16 with yerrorlines lw 2 title 'queuectl disk sync=1', \
     '$PL/peers.dat' using 1:2:3:4 with yerrorlines lw 2 title 'tsp (slots), disk', \
     '' using 1:5:6:7 with yerrorbars pt 7 ps 1.5 title 'nq, disk'
EOF
if [ "$plot_ok" = 1 ]; then
	cp "$PL/latency-cdf.png" "$PL/throughput.png" "$OUTDIR/"
	{ echo; echo "## Plots"; echo; echo "![pickup latency CDF](latency-cdf.png)"; echo; echo "![throughput against workers](throughput.png)"; } >> "$REPORT"
else
	log "gnuplot failed: $(cat "$PL/gnuplot.err")"
fi
cp "$REPORT" "$OUTDIR/RESULTS.md"
cp "$RES" "$OUTDIR/results.tsv"
cat "$REPORT"
log "bench: wrote $OUTDIR/RESULTS.md${plot_ok:+ and plots}; cleaning up"

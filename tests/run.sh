#!/bin/bash
# tests/run.sh - the test runner behind `make check`.
#
#   UNIT_TESTS="tests/unit/test_a tests/unit/test_b"  unit test executables
#   QUEUECTL=./queuectl                               binary for tests/cli
#   ASAN_QUEUECTL=./queuectl-asan                     if set: tests/cli again
#   MEMCHECK=1                                        if set: tests/memcheck.sh
#   FUZZ=1                                            if set: a short run of each
#                                                     fuzzer (FUZZ_SECONDS, 20)
#   TESTS="01 07"                                     only cli tests whose name
#                                                     contains one of these
#   JOBS=2                                            test files run at once (1 or 2)
#   V=1                                               print every TAP line
#
# Counts every "ok"/"not ok" line; a script that exits non-zero without a
# "not ok" (or prints no plan) counts as one failure. The last line is
# "N passed, N failed"; the exit status is 1 when anything failed.

export LC_ALL=C
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP" || exit 1

QUEUECTL=${QUEUECTL:-./queuectl}
case $QUEUECTL in /*) ;; */*) QUEUECTL=$TOP/${QUEUECTL#./} ;; esac
if [ -n "${ASAN_QUEUECTL:-}" ]; then
	case $ASAN_QUEUECTL in /*) ;; */*) ASAN_QUEUECTL=$TOP/${ASAN_QUEUECTL#./} ;; esac
fi
JOBS=${JOBS:-2}
[ "$JOBS" -ge 1 ] 2>/dev/null || JOBS=1
[ "$JOBS" -gt 2 ] && JOBS=2
FILE_TIMEOUT=${FILE_TIMEOUT:-600}

RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/queuectl-run.XXXXXX") || exit 1
trap 'rm -rf "$RESULTS"' EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
seq=0

# run_one NAME OUTBASE CMD...: run a test, keep its stdout/stderr/status.
run_one() {
	local name=$1 base=$2
	shift 2
	local t0 t1
	t0=$(date +%s%N)
	timeout -k 10 "$FILE_TIMEOUT" "$@" >"$base.out" 2>"$base.err" </dev/null
	echo $? >"$base.rc"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000)) >"$base.ms"
	echo "$name" >"$base.name"
}

# report OUTBASE KIND: count and print the results of one test.
report() {
	local base=$1 kind=$2 name rc ms np nf plan
	name=$(cat "$base.name")
	rc=$(cat "$base.rc")
	ms=$(cat "$base.ms")
	np=$(grep -cE '^ok( |$)' "$base.out")
	nf=$(grep -cE '^not ok( |$)' "$base.out")
	plan=$(grep -cE '^1\.\.[0-9]+' "$base.out")
	local extra=0 why=
	if [ "$rc" != 0 ] && [ "$nf" = 0 ]; then
		if [ "$kind" = unit ] && [ "$np" = 0 ] && [ "$rc" = 77 ]; then
			:
		else
			extra=1
			why="exited with status $rc without a 'not ok'"
			[ "$rc" = 124 ] || [ "$rc" = 137 ] && why="timed out after ${FILE_TIMEOUT}s (status $rc)"
		fi
	elif [ "$kind" = script ] && [ "$plan" = 0 ]; then
		extra=1
		why="printed no plan (1..N): it stopped early"
	elif [ "$kind" = unit ] && [ "$rc" = 0 ] && [ "$np" = 0 ] && [ "$nf" = 0 ]; then
		np=1 # a unit test binary without TAP output: one test
	fi
	passed=$((passed + np))
	failed=$((failed + nf + extra))
	if [ "$nf" = 0 ] && [ "$extra" = 0 ]; then
		printf 'PASS %-32s %4d ok  %6.1fs\n' "$name" "$np" "$(awk -v m="$ms" 'BEGIN{print m/1000}')"
		if [ -n "${V:-}" ]; then
			sed "s|^|    |" "$base.out"
		fi
	else
		printf 'FAIL %-32s %4d ok  %3d failed  %6.1fs\n' "$name" "$np" "$((nf + extra))" "$(awk -v m="$ms" 'BEGIN{print m/1000}')"
		[ -n "$why" ] && echo "    $name: $why"
		grep -E '^not ok( |$)' "$base.out" | sed "s|^|    $name: |"
		if [ -s "$base.err" ]; then
			echo "    --- $name: stderr (last 80 lines):"
			tail -n 80 "$base.err" | sed 's|^|    |'
		fi
	fi
}

# run_set KIND PREFIX FILE...: run test files (at most $JOBS at once) with the
# environment already exported, report in order.
run_set() {
	local kind=$1 prefix=$2
	shift 2
	local f bases=() pids=() base name i
	for f in "$@"; do
		seq=$((seq + 1))
		base=$RESULTS/$seq
		name=$prefix${f#tests/}
		if [ "$kind" = unit ]; then
			run_one "$name" "$base" "$f" &
		else
			run_one "$name" "$base" bash "$f" &
		fi
		pids+=($!)
		bases+=("$base")
		if [ "${#pids[@]}" -ge "$JOBS" ]; then
			wait "${pids[0]}"
			report "${bases[0]}" "$kind"
			pids=("${pids[@]:1}")
			bases=("${bases[@]:1}")
		fi
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
		report "${bases[$i]}" "$kind"
	done
}

# 1. unit tests
units=()
for u in ${UNIT_TESTS:-}; do
	units+=("$u")
done
if [ "${#units[@]}" -gt 0 ]; then
	echo "== unit tests"
	run_set unit "" "${units[@]}"
fi

# 2. CLI tests
cli=()
for f in tests/cli/*.sh; do
	[ -f "$f" ] || continue
	if [ -n "${TESTS:-}" ]; then
		keep=
		for pat in $TESTS; do
			[[ $f == *"$pat"* ]] && keep=1
		done
		[ -n "$keep" ] || continue
	fi
	cli+=("$f")
done

if [ "${#cli[@]}" -gt 0 ]; then
	echo "== cli tests ($QUEUECTL)"
	export QUEUECTL
	PLAIN_QUEUECTL=$QUEUECTL
	run_set script "" "${cli[@]}"

	# 3. the same under ASan/UBSan
	if [ -n "${ASAN_QUEUECTL:-}" ]; then
		echo "== cli tests under ASan/UBSan ($ASAN_QUEUECTL)"
		export QUEUECTL=$ASAN_QUEUECTL
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
		export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
		export SKIP_SLOW=1 ASAN_RUN=1
		run_set script "asan:" "${cli[@]}"
		unset ASAN_OPTIONS UBSAN_OPTIONS SKIP_SLOW ASAN_RUN
		export QUEUECTL=$PLAIN_QUEUECTL
	fi
fi

# 4. valgrind
if [ "${MEMCHECK:-}" = 1 ]; then
	echo "== memcheck"
	export QUEUECTL
	run_set script "" tests/memcheck.sh
fi

# 5. a short run of each fuzzer (make fuzz runs them for long)
if [ "${FUZZ:-}" = 1 ]; then
	echo "== fuzz (${FUZZ_SECONDS:-20} s each)"
	export FUZZ_SECONDS=${FUZZ_SECONDS:-20} FUZZ_OUT=build/fuzz-check
	run_set script "" tests/fuzz/run.sh
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/bash
# tests/fuzz/run.sh - build the libFuzzer harnesses and run each for a while.
#
#   FUZZ_SECONDS=20          seconds per harness (make check: short; make fuzz: 600)
#   FUZZ_TARGETS="job config args"   which harnesses, in this order
#   FUZZ_CC=clang            the compiler (needs libFuzzer: clang's -fsanitize=fuzzer)
#   FUZZ_NICE=10             niceness of the fuzzing processes
#   FUZZ_KEEP_CORPUS=1       keep build/fuzz/corpus-X between runs (grows it)
#   FUZZ_OUT=build/fuzz      where binaries, corpus copies, logs and artifacts go
#
# Builds build/fuzz/fuzz_X from tests/fuzz/fuzz_X.c and src/{util,job,config}.c
# with ASan+UBSan, copies the seeds tests/fuzz/corpus/X to build/fuzz/corpus-X
# (the repository is never written), and runs the fuzzer on the copy. Prints
# TAP: "1..N", then one line per harness. A crash, a leak, a sanitizer report
# or a failed property leaves its input in build/fuzz/artifacts-X/ and the log
# in build/fuzz/fuzz_X.log. Without clang or its fuzzer runtime every harness
# is skipped.
#
# Reproduce a crash: build/fuzz/fuzz_X build/fuzz/artifacts-X/crash-...
# Add it as a regression seed (once fixed): copy it to tests/fuzz/corpus/X/.

export LC_ALL=C
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$TOP" || exit 1

SECS=${FUZZ_SECONDS:-20}
case $SECS in '' | *[!0-9]*) echo "FUZZ_SECONDS: not a number: $SECS" >&2; exit 64 ;; esac
[ "$SECS" -ge 1 ] || SECS=1
TARGETS=${FUZZ_TARGETS:-job config args}
CC_FUZZ=${FUZZ_CC:-clang}
NICE=${FUZZ_NICE:-10}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
OUT=${FUZZ_OUT:-build/fuzz}
WARN="-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror"
CFLAGS_FUZZ="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"

# shellcheck disable=SC2206
targets=($TARGETS)
echo "1..${#targets[@]}"

skip_all() {
	local i=0 t
	for t in "${targets[@]}"; do
		i=$((i + 1))
		echo "ok $i - fuzz_$t # SKIP $1"
	done
	exit 0
}

command -v "$CC_FUZZ" >/dev/null 2>&1 || skip_all "clang missing"
command -v "$PKG_CONFIG" >/dev/null 2>&1 || skip_all "pkg-config missing"
PKG_CFLAGS=$($PKG_CONFIG --cflags libcjson libbsd 2>/dev/null) ||
	skip_all "libcjson or libbsd development files missing"
PKG_LIBS=$($PKG_CONFIG --libs libcjson libbsd)
mkdir -p "$OUT" || exit 1

# Does the compiler have the libFuzzer runtime (and ASan/UBSan)?
probe=$OUT/probe
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
    >"$probe.c"
# shellcheck disable=SC2086
if ! "$CC_FUZZ" $CFLAGS_FUZZ -o "$probe" "$probe.c" >"$probe.log" 2>&1; then
	skip_all "$CC_FUZZ has no libFuzzer runtime (-fsanitize=fuzzer)"
fi
rm -f "$probe" "$probe.c" "$probe.log"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Print the interesting part of a failed run's log as TAP comments.
diag() {
	grep -E 'check failed|ERROR: |runtime error|SUMMARY|^    #[0-9] |^  [^ ]|Test unit written|Hint|leak' "$1" |
		grep -v 'in fuzzer::\|in LLVMFuzzer\|libFuzzer.*run' |
		head -n 40 | sed 's/^/#   /'
}

n=0
failed=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	src=tests/fuzz/fuzz_$t.c
	bin=$OUT/fuzz_$t
	log=$OUT/fuzz_$t.log
	corpus=$OUT/corpus-$t
	art=$OUT/artifacts-$t
	case $t in
	config) dict=tests/fuzz/config.dict maxlen=4096 ;;
	args) dict=tests/fuzz/job.dict maxlen=4096 ;;
	*) dict=tests/fuzz/job.dict maxlen=16384 ;;
	esac
	if [ ! -f "$src" ] || [ ! -d "tests/fuzz/corpus/$t" ]; then
		echo "not ok $n - fuzz_$t: no $src or tests/fuzz/corpus/$t/"
		failed=$((failed + 1))
		continue
	fi

	# shellcheck disable=SC2086
	if ! "$CC_FUZZ" $CFLAGS_FUZZ $WARN $PKG_CFLAGS -Isrc -o "$bin" "$src" \
	    src/util.c src/shell.c src/job.c src/config.c $PKG_LIBS -lm >"$log" 2>&1; then
		echo "not ok $n - fuzz_$t: build failed"
		head -n 30 "$log" | sed 's/^/#   /'
		failed=$((failed + 1))
		continue
	fi

	if [ -z "${FUZZ_KEEP_CORPUS:-}" ]; then
		rm -rf "$corpus"
	fi
	mkdir -p "$corpus" || exit 1
	cp tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null
	rm -rf "$art"
	mkdir -p "$art" || exit 1

	# -max_total_time bounds the fuzzing; timeout(1) bounds everything else
	# (a hang in the seed replay, a stuck process).
	timeout -k 10 $((SECS + 120)) nice -n "$NICE" "$bin" \
	    -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
	    -max_len="$maxlen" -dict="$dict" -print_final_stats=1 \
	    -artifact_prefix="$art/" "$corpus" >>"$log" 2>&1
	rc=$?

	runs=$(sed -n 's/^Done \([0-9][0-9]*\) runs in.*/\1/p' "$log" | tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //')
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | sed 's/ft: //')
	crash=$(find "$art" -type f 2>/dev/null | head -n 1)
	if [ "$rc" = 0 ] && [ -z "$crash" ]; then
		echo "ok $n - fuzz_$t: $SECS s, ${runs:-?} runs, cov ${cov:-?}, ft ${ft:-?}, no crash"
	else
		why="exit status $rc"
		[ "$rc" = 124 ] || [ "$rc" = 137 ] && why="did not stop in time"
		[ -n "$crash" ] && why="crash, input in $crash"
		echo "not ok $n - fuzz_$t: $why (${runs:-?} runs; log $log)"
		diag "$log"
		[ -n "$crash" ] && echo "#   reproduce: $bin $crash"
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ]

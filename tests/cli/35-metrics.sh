#!/bin/bash
# 35-metrics: queuectl metrics from the journal (journal/<hour>.<writer>,
# appended by the settle of every outcome and by workers at start and stop)
# and the state directories: counts, outcomes per window, retry and dead
# rates, duration percentiles checked against the job files with jq,
# utilisation against the journal's lines, --json, --prometheus to stdout
# and to a file replaced atomically; a torn last line and the segments of
# other writers; old segments removed by a worker; 100,000 journal lines
# read within a deadline.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set sync 0 >/dev/null
q config set backoff_base 1 >/dev/null

# --- nothing finished yet (no duration to sort) --------------------------------
for f in "" --json --prometheus; do
	runq metrics $f
	rc_is 0 "metrics $f on a spool where nothing has finished"
done

# --- jobs with known durations, a retry and a dead job -----------------------
for d in 0.05 0.1 0.15 0.2 0.3 0.45; do
	q enqueue --id "d$d" "sleep $d" >/dev/null
done
q enqueue --id bad --max-retries 1 false >/dev/null
start_workers 2
wait_for 60 "six jobs done, one dead after a retry" bash -c \
	"[ \$(ls '$SPOOL/done' | grep -c '\\.json\$') -eq 6 ] && [ -f '$SPOOL/dead/bad.json' ]"
runq worker stop
rc_is 0 "workers stopped"

check "the journal's segments are named HOUR.HOST-PID" \
	bash -c "! ls '$SPOOL/journal' | grep -vE '^[0-9]{8}T[0-9]{2}\\.[A-Za-z0-9-]+-[0-9]+\$'"
is "$(ls "$SPOOL/journal" | sed 's/^[^.]*\.//' | sort -u | wc -l)" 2 "... one writer per worker"
cat "$SPOOL"/journal/* >"$TEST_DIR/journal.txt"
check "every journal line has six fields" awk 'NF != 6 { exit 1 }' "$TEST_DIR/journal.txt"
is "$(awk '$2 == "done"' "$TEST_DIR/journal.txt" | wc -l)" 6 "six done lines"
is "$(awk '$2 == "failed" && $6 == "bad" && $4 == 1' "$TEST_DIR/journal.txt" | wc -l)" 1 "one failed line: bad, attempt 1"
is "$(awk '$2 == "dead" && $6 == "bad" && $4 == 2' "$TEST_DIR/journal.txt" | wc -l)" 1 "one dead line: bad, attempt 2"
is "$(awk '$2 == "start"' "$TEST_DIR/journal.txt" | wc -l)" 2 "two start lines"
is "$(awk '$2 == "stop"' "$TEST_DIR/journal.txt" | wc -l)" 2 "two stop lines"
for id in d0.2 d0.45; do
	is "$(awk -v id="$id" '$6 == id { print $3 }' "$TEST_DIR/journal.txt")" \
		"$(jqf "$SPOOL/done/$id.json" .duration_ms)" "$id: the line's duration is the job's duration_ms"
done

# --- --json -------------------------------------------------------------------
runq metrics --json
rc_is 0 "metrics --json"
echo "$out" >"$TEST_DIR/m.json"
check "... is one JSON document" jq -e . "$TEST_DIR/m.json"
jq_ok "jobs per state: done 6, dead 1, others 0 (held too)" "$TEST_DIR/m.json" \
	'.jobs == {"pending":0,"processing":0,"done":6,"failed":0,"dead":1,"held":0}'
for w in 1m 1h; do
	jq_ok "$w: done 6, failed 1, dead 1, finished 7" "$TEST_DIR/m.json" \
		".windows[\"$w\"] | .done == 6 and .failed == 1 and .dead == 1 and .finished == 7"
	jq_ok "$w: retry rate and dead rate 1/8" "$TEST_DIR/m.json" \
		".windows[\"$w\"] | .retry_rate == 0.125 and .dead_rate == 0.125"
done
jq_ok "1h throughput: 7 jobs / 3600 s" "$TEST_DIR/m.json" '.windows["1h"].throughput_per_s == 7 / 3600'
jq_ok "1m throughput: 7 jobs / 60 s" "$TEST_DIR/m.json" '.windows["1m"].throughput_per_s == 7 / 60'

# nearest rank percentiles of the done jobs' duration_ms, from the files
jq -s '[.[].duration_ms] | sort | . as $v | length as $n
	| def rank(p): ((p * $n / 100) | ceil) as $r | $v[(if $r < 1 then 1 else $r end) - 1];
	{count: $n, p50: rank(50), p90: rank(90), p99: rank(99), max: $v[-1]}' \
	"$SPOOL"/done/*.json >"$TEST_DIR/want.json"
check "duration percentiles equal those of the job files (jq)" \
	jq -e --slurpfile want "$TEST_DIR/want.json" '.duration_ms | del(.window) == $want[0]' "$TEST_DIR/m.json"
check "... and p50 < max: the durations differ" jq -e '.duration_ms.p50 < .duration_ms.max and .duration_ms.max >= 450' "$TEST_DIR/m.json"

# utilisation: from the journal's start/stop and durations, per worker
awk '$2 == "start" { s[$5] = $1 } $2 == "stop" { e[$5] = $1 }
	$3 != "-" { b[$5] += $3 }
	END { for (w in s) printf "%s %d %d\n", w, e[w] - s[w], b[w] }' "$TEST_DIR/journal.txt" | sort >"$TEST_DIR/util.want"
jq -r '.workers[] | "\(.id) \(.wall_ms["1h"]) \(.busy_ms["1h"])"' "$TEST_DIR/m.json" | sort >"$TEST_DIR/util.got"
check "per worker: wall = stop - start, busy = its attempts' durations" cmp "$TEST_DIR/util.want" "$TEST_DIR/util.got"
jq_ok "workers gone, utilisation = busy / wall" "$TEST_DIR/m.json" \
	'[.workers[] | (.alive == false) and ((.utilisation["1h"] - .busy_ms["1h"] / .wall_ms["1h"]) | fabs < 1e-9)] | all and length == 2'
jq_ok "overall utilisation is between 0 and 1" "$TEST_DIR/m.json" \
	'.windows["1h"].utilisation > 0 and .windows["1h"].utilisation <= 1'

# --- text -------------------------------------------------------------------------
runq metrics
rc_is 0 "metrics"
like "$out" "jobs: pending 0, processing 0, done 6, failed 0, dead 1" "... counts per state"
like "$out" "finished \\(done\\+dead\\) +7 +7" "... finished in the last minute and hour"
like "$out" "retry rate +12.5% +12.5%" "... retry rate"
p50=$(jqf "$TEST_DIR/want.json" .p50)
like "$out" "duration of done jobs, last hour \\(6\\): p50 $p50 ms" "... p50 of the done jobs"

# --- Prometheus ------------------------------------------------------------------
# prom_ok FILE: every sample is NAME{LABELS} VALUE with NAME queuectl_*, and
# each metric has its HELP and TYPE lines before its samples
prom_ok() {
	awk '
	/^# HELP queuectl_[a-z_]+ / { help[$3] = 1; next }
	/^# TYPE queuectl_[a-z_]+ (gauge|counter|summary)$/ { type[$3] = 1; next }
	/^queuectl_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (NaN|[-+]?[0-9.]+(e[-+]?[0-9]+)?)$/ {
		n = $1; sub(/\{.*/, "", n); base = n; sub(/_(sum|count)$/, "", base)
		if (!(n in type) && !(base in type)) { print "no TYPE before " $0; bad = 1 }
		if (!(n in help) && !(base in help)) { print "no HELP before " $0; bad = 1 }
		samples++; next }
	{ print "bad line: " $0; bad = 1 }
	END { exit bad || samples < 20 }' "$1"
}
runq metrics --prometheus
rc_is 0 "metrics --prometheus (stdout)"
echo "$out" >"$TEST_DIR/stdout.prom"
check "... is text exposition format, names prefixed queuectl_" prom_ok "$TEST_DIR/stdout.prom"
check "... queuectl_jobs{state=\"done\"} 6" grep -qx 'queuectl_jobs{state="done"} 6' "$TEST_DIR/stdout.prom"
check "... the duration percentiles are gauges (a sliding window is no summary)" grep -qx '# TYPE queuectl_job_duration_seconds gauge' "$TEST_DIR/stdout.prom"
check_not "... with no _sum or _count that would go down" grep -q 'queuectl_job_duration_seconds_\(sum\|count\)' "$TEST_DIR/stdout.prom"
check "... the p50 in seconds" grep -qx "queuectl_job_duration_seconds{quantile=\"0.5\"} $(awk -v v="$p50" 'BEGIN { printf "%.9g", v / 1000 }')" "$TEST_DIR/stdout.prom"

mkdir "$TEST_DIR/textfile"
prom=$TEST_DIR/textfile/queuectl.prom
echo old >"$TEST_DIR/textfile/old"
ln "$TEST_DIR/textfile/old" "$prom"
(umask 022 && "$QUEUECTL" metrics --prometheus "$prom")
is "$?" 0 "metrics --prometheus FILE"
check "... FILE holds the exposition" prom_ok "$prom"
is "$(cat "$TEST_DIR/textfile/old")" old "... FILE was replaced by a rename, not written in place (its old link is intact)"
is "$(ls -A "$TEST_DIR/textfile" | sort | tr '\n' ' ')" "old queuectl.prom " "... no temporary file left beside it"
is "$(stat -c %a "$prom")" 644 "... readable by the collector (0666 & ~umask)"
ino=$(stat -c %i "$prom")
"$QUEUECTL" metrics --prometheus="$prom"
check "... a second run replaces it again (new inode)" test "$(stat -c %i "$prom")" != "$ino"
runq metrics --prometheus "$TEST_DIR/no/such/dir/x.prom"
rc_is 73 "a FILE that cannot be created: exit 73"
like "$err" "no/such/dir" "... naming it"
runq metrics --frob
rc_is 64 "an unknown option: exit 64"

# --- other writers, torn lines ------------------------------------------------------
hour=$(date -u +%Y%m%dT%H)
now=$(now_ms)
printf '%s done 999999 1 ghost-1 ghostjob\n%s done 5' "$now" "$now" >"$SPOOL/journal/$hour.ghost-1"
q metrics --json >"$TEST_DIR/m2.json"
jq_ok "a dead worker's segment counts; its torn last line does not" "$TEST_DIR/m2.json" \
	'.windows["1h"].done == 7 and .duration_ms.max == 999999 and ([.workers[].id] | index("ghost-1") != null)'
printf 'garbage line\n' >>"$SPOOL/journal/$hour.ghost-1"
q metrics --json >"$TEST_DIR/m3.json"
jq_ok "a line that does not parse is skipped" "$TEST_DIR/m3.json" '.windows["1h"].done == 7'

# --- old segments go ----------------------------------------------------------------
old=$(date -u -d '30 hours ago' +%Y%m%dT%H)
echo "$(( now - 30 * 3600 * 1000 )) done 1 1 w-1 x" >"$SPOOL/journal/$old.w-1"
fg_worker
wait_for 30 "a worker removes a segment older than 24 hours" absent "$SPOOL/journal/$old.w-1"
check "... and keeps the current ones" test -f "$SPOOL/journal/$hour.ghost-1"
kill "$FG_PID"
wait_until 20 dead_pid "$FG_PID"

# --- 100,000 done jobs in the journal ---------------------------------------------
big=$TEST_DIR/big
QUEUECTL_SPOOL=$big q init >/dev/null
mkdir "$big/journal"
now=$(now_ms)
# 100,000 lines over the last 59 minutes, each in the segment of its hour
awk -v now="$now" -v dir="$big/journal" 'BEGIN {
	for (i = 0; i < 100000; i++) {
		t = now - 3540000 + int(i * 35.4)
		cmd = "date -u -d @" int(t / 1000) " +%Y%m%dT%H"
		h = int(t / 3600000)
		if (!(h in seg)) { cmd | getline seg[h]; close(cmd) }
		printf "%.0f done %d 1 bench-%d job%06d\n", t, 1 + i % 5000, i % 4, i > (dir "/" seg[h] ".bench-1")
	}
}'
is "$(cat "$big"/journal/* | wc -l)" 100000 "a generated journal of 100,000 done lines"
start=$(_now_us)
QUEUECTL_SPOOL=$big q metrics --json >"$TEST_DIR/big.json"
rc=$?
ms=$(( ($(_now_us) - start) / 1000 ))
rc_is 0 "metrics on it"
jq_ok "... counts 100,000 done in the last hour" "$TEST_DIR/big.json" \
	'.windows["1h"].done == 100000 and .duration_ms.count == 100000 and .duration_ms.max == 5000'
# measured 26 ms (plain) on the development machine; 3 s leaves room for
# ASan and a loaded 2-core machine
check "... within 3 s (took $ms ms)" test "$ms" -lt 3000
diag "metrics on 100,000 journal lines: $ms ms ($QUEUECTL)"

done_testing

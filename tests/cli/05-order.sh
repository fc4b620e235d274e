#!/bin/bash
# 05-order: priority (lower first, ties in arrival order), arrival order of
# generated ids, run_at / --run-at / --delay.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null

# --- priority, with no worker running ----------------------------------------
# name:priority, in arrival order. Tie ids are in reverse alphabetical order
# so that "arrival order" and "id order" differ.
spec="p5a:5 p0z:0 m3y:-3 p0y:0 p10:10 m3x:-3 p0x:0 m100:-100"
for s in $spec; do
	name=${s%%:*}
	prio=${s#*:}
	runq enqueue --id "$name" --priority "$prio" "echo $name >> order.txt"
	[ "$rc" = 0 ] || diag "enqueue $name failed: $err"
	sleep 0.01 # distinct created_at for the ties (not what makes tests pass)
done
jq_ok "priority is stored" "$SPOOL/pending/m3y.json" '.priority == -3'

runq list --state pending
rc_is 0 "list --state pending"
is "$(awk '{print $1}' <<<"$out" | grep -E '^(p|m)[0-9]' | tr '\n' ' ')" "p5a p0z m3y p0y p10 m3x p0x m100 " "list shows jobs oldest first"
runq list --state pending --json
is "$(jq -r 'map(.id) | join(" ")' <<<"$out" 2>/dev/null)" "p5a p0z m3y p0y p10 m3x p0x m100" "list --json: oldest first"

start_workers 1
wait_for 30 "all 8 jobs ran" bash -c "[ \$(wc -l < order.txt) -eq 8 ]"
is "$(tr '\n' ' ' <order.txt)" "m100 m3y m3x p0z p0y p0x p5a p10 " "jobs ran by priority, ties in arrival order"
runq worker stop

# --- generated ids sort by creation time ----------------------------------------
ids=()
for i in $(seq 1 15); do
	ids+=("$(q enqueue --no-sync true)")
done
prev=
sorted=1
for id in "${ids[@]}"; do
	t=${id%-*} # the time part: YYYYMMDD-HHMMSS.mmm
	if [[ -n $prev && $t < $prev ]]; then
		sorted=0
		diag "id $id sorts before the previous one ($prev)"
	fi
	prev=$t
done
is "$sorted" 1 "generated ids increase with arrival time"
is "$(ls "$SPOOL/pending" | head -n 1)" "${ids[0]}.json" "ls pending/ lists the first one first"
for id in "${ids[@]}"; do rm -f "$SPOOL/pending/$id.json"; done

# --- run_at / --delay -------------------------------------------------------------
start_workers 1
t0=$(now_ms)
runq enqueue --id delayed --delay 2 --priority -100 'echo delayed >> order2.txt'
rc_is 0 "enqueue --delay 2"
ra=$(jqf "$SPOOL/pending/delayed.json" '.run_at | ms')
ca=$(jqf "$SPOOL/pending/delayed.json" '.created_at | ms')
check "run_at = created_at + 2 s (got $((ra - ca)) ms)" test $((ra - ca)) -ge 1900 -a $((ra - ca)) -le 2500
runq enqueue --id notdelayed 'echo notdelayed >> order2.txt'
wait_for 30 "a job without run_at runs while the delayed one (higher priority) waits" exists "$SPOOL/done/notdelayed.json"
now=$(now_ms)
if [ "$now" -lt "${ra:-0}" ]; then
	check "the delayed job is still pending before its run_at" in_state delayed pending
else
	skip "machine too slow to look before run_at"
fi
wait_for 30 "the delayed job runs" exists "$SPOOL/done/delayed.json"
sa=$(jqf "$SPOOL/done/delayed.json" '.started_at | ms')
check "delayed job: started_at >= run_at ($sa >= $ra)" test "${sa:-0}" -ge "$ra"
is "$(tr '\n' ' ' <order2.txt)" "notdelayed delayed " "the due job ran before the delayed one"

target=$(($(now_ms) / 1000 + 3))
iso=$(date -u -d "@$target" +%Y-%m-%dT%H:%M:%SZ)
runq enqueue --id runat --run-at "$iso" 'echo runat'
rc_is 0 "enqueue --run-at ISO time"
like "$(jqf "$SPOOL/pending/runat.json" .run_at)" "^${iso%Z}(\.0+)?Z\$" "run_at stored as given"
wait_for 30 "--run-at job runs" exists "$SPOOL/done/runat.json"
sa=$(jqf "$SPOOL/done/runat.json" '.started_at | ms')
check "--run-at job: started_at >= run_at" test "${sa:-0}" -ge $((target * 1000))

runq enqueue '{"id":"jsonrunat","command":"echo j","run_at":"'"$(date -u -d "@$(($(now_ms) / 1000 + 2))" +%Y-%m-%dT%H:%M:%S.500Z)"'"}'
rc_is 0 "JSON job with run_at (milliseconds)"
wait_for 30 "JSON run_at job runs" exists "$SPOOL/done/jsonrunat.json"
check "JSON run_at job: started_at >= run_at" jq -e "$JQ_DEFS (.started_at | ms) >= (.run_at | ms)" "$SPOOL/done/jsonrunat.json"

runq enqueue --id past --run-at 2001-01-01T00:00:00Z 'echo past'
wait_for 30 "a job with run_at in the past runs at once" exists "$SPOOL/done/past.json"
runq worker stop

# --- time formats (no worker) --------------------------------------------------
runq enqueue --id offset --run-at 2030-01-01T10:00:00+01:00 true
rc_is 0 "--run-at with a +01:00 offset"
like "$(jqf "$SPOOL/pending/offset.json" .run_at)" '^2030-01-01T09:00:00(\.0+)?Z$' "offset converted to UTC"
runq enqueue --id spaced --run-at '2030-01-01 10:00:00Z' true
rc_is 0 "--run-at with a space instead of T"
like "$(jqf "$SPOOL/pending/spaced.json" .run_at)" '^2030-01-01T10:00:00(\.0+)?Z$' "space form stored"
runq enqueue --id local --run-at '2030-06-01T12:00:00' true
like "$(jqf "$SPOOL/pending/local.json" .run_at)" "^$(date -u -d '2030-06-01 12:00:00' +%Y-%m-%dT%H:%M:%S)(\.0+)?Z\$" "no zone means local time"
runq enqueue --id delay5m --delay 5m true
rc_is 0 "--delay 5m"
d=$(jqf "$SPOOL/pending/delay5m.json" '(.run_at | ms) - (.created_at | ms)')
check "--delay 5m = 300 s (got $d ms)" test "${d:-0}" -ge 299000 -a "${d:-0}" -le 301000
runq enqueue --id delay15 --delay 1.5 true
d=$(jqf "$SPOOL/pending/delay15.json" '(.run_at | ms) - (.created_at | ms)')
check "--delay 1.5 = 1500 ms (got $d ms)" test "${d:-0}" -ge 1400 -a "${d:-0}" -le 2000
runq enqueue --id badtime --run-at tomorrow true
rc_in "64 65" "--run-at tomorrow is refused"
check "... and creates nothing" absent "$SPOOL/pending/badtime.json"
runq enqueue --id baddelay --delay -5 true
rc_in "64 65" "--delay -5 is refused"
runq enqueue --id badprio --priority high true
rc_is 64 "--priority high is refused with 64"
check "... and creates nothing" absent "$SPOOL/pending/badprio.json"

done_testing

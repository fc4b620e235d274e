#!/bin/bash
# 34-purge: queuectl purge by state and age (finished_at, else mtime; the
# .reason's mtime for a quarantined file), logs removed with their job (the
# json last: a crash in between leaves the job, listed, without its logs),
# -v and --json output, usage errors; config keep_done / keep_dead applied
# by a worker on its own.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
q config set sync 0 >/dev/null

# craft STATE ID AGE-SECONDS: a finished job dropped into STATE/ with its
# logs, finished AGE seconds ago (the file's mtime is now).
craft() {
	local fin
	fin=$(date -u -d "@$(($(date +%s) - $3))" +%Y-%m-%dT%H:%M:%S.000Z)
	printf '{"id":"%s","command":"true","state":"%s","attempts":1,"finished_at":"%s","duration_ms":5,"exit_code":0}\n' \
		"$2" "$1" "$fin" >"$SPOOL/$1/$2.json"
	echo out >"$SPOOL/$1/$2.stdout"
	: >"$SPOOL/$1/$2.stderr"
}

# gone STATE ID: no file of ID left in STATE/
gone() {
	local f
	f=$(find "$SPOOL/$1" -name "$2.*")
	[ -z "$f" ] || {
		echo "left: $f"
		return 1
	}
}

# --- real jobs, then crafted ones -------------------------------------------
for i in 1 2 3; do q enqueue --id "real$i" "echo real$i" >/dev/null; done
q enqueue --id realdead --max-retries 0 false >/dev/null
fg_worker
wait_for 30 "the real jobs finish" bash -c "[ \$(ls '$SPOOL/done' | grep -c '\\.json\$') -eq 3 ] && [ -f '$SPOOL/dead/realdead.json' ]"
kill "$FG_PID"
wait_until 20 dead_pid "$FG_PID"

craft done old10d $((10 * 86400))
craft done new1h 3600
craft dead olddead3d $((3 * 86400))
# a job without finished_at: its age is the file's mtime
printf '{"id":"nofin","command":"true","state":"done"}\n' >"$SPOOL/done/nofin.json"
touch -d '20 days ago' "$SPOOL/done/nofin.json"
# a quarantined file: its age is the .reason's mtime (the .invalid keeps
# whatever mtime the dropped file had)
echo 'not json' >"$SPOOL/dead/q1.invalid"
printf 'file: q1.json\nreason: bad\ntime: x\n' >"$SPOOL/dead/q1.reason"
touch -d '3 days ago' "$SPOOL/dead/q1.reason"
echo 'not json' >"$SPOOL/dead/q2.invalid"
touch -d '30 days ago' "$SPOOL/dead/q2.invalid"
printf 'file: q2.json\nreason: bad\ntime: x\n' >"$SPOOL/dead/q2.reason"

runq list --state done --json
check "crafted jobs in done/ are jobs to list" jq -e '[.[].id] | index("old10d") != null' <<<"$out"

# --- by state and age -------------------------------------------------------
runq purge --state done --older-than 7d -v
rc_is 0 "purge --state done --older-than 7d"
check "... -v names old10d" grep -qx "done old10d" <<<"$out"
check "... and nofin (mtime 20 days old)" grep -qx "done nofin" <<<"$out"
is "$(grep -c '^done ' <<<"$out")" 2 "... and no other job"
like "$out" "purged 2 jobs \\(done 2, dead 0\\)$" "... and prints the count"
check "old10d's json and logs are gone" gone done old10d
check "nofin is gone" gone done nofin
check "new1h (finished an hour ago) stays, with its logs" test -f "$SPOOL/done/new1h.json" -a -f "$SPOOL/done/new1h.stdout"
check "the real jobs stay" test -f "$SPOOL/done/real1.json"
check "dead/ is untouched by --state done" test -f "$SPOOL/dead/olddead3d.json" -a -f "$SPOOL/dead/q1.invalid"

runq purge --state dead --older-than 2d --json
rc_is 0 "purge --state dead --older-than 2d --json"
check "... prints one JSON document: purged 2, dead [olddead3d, q1], done []" \
	jq -e '.purged == 2 and (.dead | sort) == ["olddead3d", "q1"] and .done == []' <<<"$out"
check "olddead3d and its logs are gone" gone dead olddead3d
check "q1.invalid and q1.reason are gone" gone dead q1
check "q2 stays: its .reason is new, whatever the .invalid's mtime" test -f "$SPOOL/dead/q2.invalid" -a -f "$SPOOL/dead/q2.reason"
check "realdead stays (it died seconds ago)" test -f "$SPOOL/dead/realdead.json"

# --- usage ------------------------------------------------------------------
runq purge --state pending
rc_is 64 "--state pending is a usage error"
like "$err" "done or dead" "... saying which states"
runq purge --older-than 7x
rc_is 64 "--older-than 7x is a usage error"
like "$err" "7x" "... naming the value"
runq purge extra
rc_is 64 "an extra argument is a usage error"
check "nothing was removed by the refused runs" test -f "$SPOOL/done/real1.json" -a -f "$SPOOL/done/new1h.json"

# --- a crash between the logs and the json: the job stays visible ------------
CQ=${CRASH_QUEUECTL:-}
case $QUEUECTL in *asan*) CQ=$QUEUECTL ;; esac
case $CQ in /*) ;; ?*) CQ=$TOP/$CQ ;; esac
if [ -n "$CQ" ] && [ -x "$CQ" ]; then
	run env QUEUECTL_CRASH_AT=purge.before_unlink timeout 20 "$CQ" purge --state done
	rc_is 137 "purge killed at purge.before_unlink"
	n=$(ls "$SPOOL/done" | grep -c '\.json$')
	is "$(ls "$SPOOL/done" | grep -vc '\.json$')" $(((n - 1) * 2)) "... one job lost its logs, the others have theirs"
	runq list --state done
	is "$(grep -c . <<<"$out")" "$n" "... every job is still listed"
else
	skip "no crash-point build (set CRASH_QUEUECTL)"
	skip "no crash-point build"
	skip "no crash-point build"
fi

# --- everything ---------------------------------------------------------------
ndone=$(ls "$SPOOL/done" | grep -c '\.json$')
runq purge --older-than 0s
rc_is 0 "purge --older-than 0s"
is "$out" "purged $((ndone + 2)) jobs (done $ndone, dead 2)" "... removes every done and dead job"
check "done/ is empty, logs too" dirs_empty "$SPOOL/done"
check "dead/ is empty, quarantined files too" dirs_empty "$SPOOL/dead"
runq list
is "$out" "" "list shows nothing"
runq purge
is "$out" "purged 0 jobs (done 0, dead 0)" "purge of an empty spool"

# --- keep_done / keep_dead applied by a worker ---------------------------------
runq config set keep_done 1d
rc_is 0 "config set keep_done 1d"
is "$(q config get keep-done)" 1d "... reads back as 1d"
is "$(q config get keep_dead)" forever "keep_dead is forever by default"
runq config set keep_dead 3w
rc_is 64 "keep_dead 3w is refused"
like "$err" "keep_dead.*30s, 15m, 12h, 7d.*forever" "... the error names the key and the accepted values"
craft done wold 172800
touch -d '2 days ago' "$SPOOL/done/wold.json"
craft done wnew 60
craft dead wdead 172800
touch -d '2 days ago' "$SPOOL/dead/wdead.json"
q enqueue --id wjob "echo hi" >/dev/null
fg_worker
wait_for 30 "the worker purges the 2-day-old done job on its own" gone done wold
wait_for 30 "... and still runs a job" in_state wjob done
check "the minute-old done job stays" test -f "$SPOOL/done/wnew.json"
check "the dead job stays (keep_dead is forever)" test -f "$SPOOL/dead/wdead.json" -a -f "$SPOOL/dead/wdead.stdout"
check "the worker logs what it purged" grep -q "retention: purged 1 job" "$TEST_DIR/fg-worker.log"
kill "$FG_PID"
wait_until 20 dead_pid "$FG_PID"

q config set keep_dead 0s >/dev/null
q config set keep_done forever >/dev/null
fg_worker
wait_for 30 "keep_dead 0s: a new worker empties dead/" gone dead wdead
check "keep_done forever: done/ is left alone" test -f "$SPOOL/done/wnew.json" -a -f "$SPOOL/done/wjob.json"

done_testing

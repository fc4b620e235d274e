#!/bin/bash
# 33-env: per-job environment and working directory: "env" and "cwd" in the
# job file, enqueue --env and --cwd, the QUEUECTL_* variables that the job's
# env cannot override, a cwd that does not exist, bad values refused.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
mkdir -p "$TEST_DIR/jobdir" "$TEST_DIR/out"
out_dir=$TEST_DIR/out

# The worker's own environment: one variable the job overrides, one it keeps.
export QTEST_OVERRIDE=from-worker QTEST_KEEP=kept-from-worker

# --- enqueue --env / --cwd --------------------------------------------------------
runq enqueue --id e1 --env QTEST_A=alpha --env 'QTEST_B=two words=x' \
	--env QTEST_OVERRIDE=from-job --env QUEUECTL_JOB_ID=forged \
	--env QUEUECTL_SPOOL=/forged --env QUEUECTL_ATTEMPT=99 \
	--cwd "$TEST_DIR/jobdir" -- sh -c "env > '$out_dir/e1.env'; pwd > '$out_dir/e1.pwd'"
rc_is 0 "enqueue --env ... --cwd DIR"
f=$SPOOL/pending/e1.json
jq_ok "the job file has the env object" "$f" \
	'.env == {"QTEST_A":"alpha","QTEST_B":"two words=x","QTEST_OVERRIDE":"from-job","QUEUECTL_JOB_ID":"forged","QUEUECTL_SPOOL":"/forged","QUEUECTL_ATTEMPT":"99"}'
jq_ok "... and the cwd" "$f" ".cwd == \"$TEST_DIR/jobdir\""

(cd "$TEST_DIR/jobdir" && q enqueue --id e2 --cwd ../out -- sh -c "pwd > e2.pwd") >/dev/null
jq_ok "a relative --cwd is taken from the caller's directory" "$SPOOL/pending/e2.json" \
	".cwd == \"$TEST_DIR/jobdir/../out\""

runq enqueue --id e3 "{\"command\":\"env > '$out_dir/e3.env'\",\"env\":{\"QTEST_J\":\"json\",\"QTEST_K\":\"k1\"}}" --env QTEST_K=k2
rc_is 64 "options after a JSON job are refused"
runq enqueue --id e3 --env QTEST_K=k2 "{\"command\":\"env > '$out_dir/e3.env'\",\"env\":{\"QTEST_J\":\"json\",\"QTEST_K\":\"k1\"}}"
rc_is 0 "enqueue a JSON job with env, plus --env"
jq_ok "--env adds to the JSON's env and overrides its name" "$SPOOL/pending/e3.json" \
	'.env == {"QTEST_J":"json","QTEST_K":"k2"}'

# a dropped-in file with env and cwd
printf '{"command":"env > %s/d1.env; pwd > %s/d1.pwd","env":{"QTEST_D":"dropped"},"cwd":"%s"}\n' \
	"$out_dir" "$out_dir" "$TEST_DIR" >"$SPOOL/tmp/d1"
mv "$SPOOL/tmp/d1" "$SPOOL/pending/d1.json"

# a cwd that does not exist: the attempt fails with a clear last_error
runq enqueue --id nocwd --max-retries 0 --cwd "$TEST_DIR/no-such-dir" -- touch "$out_dir/nocwd.ran"
rc_is 0 "enqueue with a --cwd that does not exist is accepted (it may appear later)"
runq enqueue --id filecwd --max-retries 0 --cwd "$out_dir/e1.env" true
# a command exiting 126 in a good directory keeps its own error
runq enqueue --id ex126 --max-retries 0 'exit 126'

start_workers 1
rc_is 0 "worker start"
for j in e1 e2 e3 d1; do
	wait_for 30 "$j is done" exists "$SPOOL/done/$j.json"
done
e1env=$out_dir/e1.env
check "the job sees its --env value" grep -qx 'QTEST_A=alpha' "$e1env"
check "... a value with a blank and '='" grep -qx 'QTEST_B=two words=x' "$e1env"
check "the job's env overrides the worker's" grep -qx 'QTEST_OVERRIDE=from-job' "$e1env"
is "$(grep -c '^QTEST_OVERRIDE=' "$e1env")" 1 "... once"
check "the worker's other variables are kept" grep -qx 'QTEST_KEEP=kept-from-worker' "$e1env"
check "QUEUECTL_JOB_ID is the worker's, not the job's" grep -qx 'QUEUECTL_JOB_ID=e1' "$e1env"
check "QUEUECTL_ATTEMPT is the worker's" grep -qx 'QUEUECTL_ATTEMPT=1' "$e1env"
check "QUEUECTL_SPOOL is the worker's" grep -qx "QUEUECTL_SPOOL=$SPOOL" "$e1env"
is "$(grep -c '^QUEUECTL_JOB_ID=' "$e1env")" 1 "QUEUECTL_JOB_ID appears once"
check "QUEUECTL_WORKER is set" grep -q '^QUEUECTL_WORKER=.*-[0-9]' "$e1env"
is "$(cat "$out_dir/e1.pwd" 2>/dev/null)" "$TEST_DIR/jobdir" "the job runs in its --cwd"
is "$(cat "$out_dir/e2.pwd" 2>/dev/null)" "$out_dir" "... a relative one too"
check "a JSON env reaches the job" grep -qx 'QTEST_J=json' "$out_dir/e3.env"
check "... with the --env override" grep -qx 'QTEST_K=k2' "$out_dir/e3.env"
check "a dropped-in job's env reaches it" grep -qx 'QTEST_D=dropped' "$out_dir/d1.env"
is "$(cat "$out_dir/d1.pwd" 2>/dev/null)" "$TEST_DIR" "... and it runs in its cwd"
check "a job without env does not get another job's" bash -c "! grep -q '^QTEST_A=' '$out_dir/d1.env'"

wait_for 30 "the job with a missing cwd is dead" exists "$SPOOL/dead/nocwd.json"
jq_ok "... last_error names the directory and the reason" "$SPOOL/dead/nocwd.json" \
	".last_error == \"cannot change directory to $TEST_DIR/no-such-dir: No such file or directory\""
jq_ok "... exit_code 126, one attempt" "$SPOOL/dead/nocwd.json" '.exit_code == 126 and .attempts == 1'
check "... its command did not run" absent "$out_dir/nocwd.ran"
check "... the stderr log says so too" grep -q "cannot change directory to $TEST_DIR/no-such-dir" "$SPOOL/dead/nocwd.stderr"
wait_for 30 "the job whose cwd is a file is dead" exists "$SPOOL/dead/filecwd.json"
jq_ok "... last_error: not a directory" "$SPOOL/dead/filecwd.json" '.last_error | test("cannot change directory to .*: Not a directory")'
wait_for 30 "a job that exits 126 itself is dead" exists "$SPOOL/dead/ex126.json"
jq_ok "... with last_error exit status 126" "$SPOOL/dead/ex126.json" '.last_error == "exit status 126"'
runq worker stop

# --- refused ----------------------------------------------------------------------
runq enqueue --env NOEQUALS true
rc_is 64 "--env without '=' is a usage error"
runq enqueue --env =value true
rc_is 64 "--env with an empty name is a usage error"
runq enqueue --cwd '' true
rc_is 64 "--cwd '' is a usage error"
runq enqueue '{"command":"true","env":{"A=B":"1"}}'
rc_is 65 "a JSON env name with '=' is refused (65)"
like "$err" "env" "... naming env"
runq enqueue '{"command":"true","env":{"A":1}}'
rc_is 65 "a JSON env value that is not a string is refused"
runq enqueue '{"command":"true","env":["A=1"]}'
rc_is 65 "a JSON env that is not an object is refused"
runq enqueue '{"command":"true","cwd":"relative/dir"}'
rc_is 65 "a relative cwd in JSON is refused"
printf '{"command":"true","env":{"A":["x"]}}' >"$SPOOL/pending/badenv.json"
start_workers 1
wait_for 30 "a dropped-in file with a bad env is quarantined" exists "$SPOOL/dead/badenv.reason"
check "... the reason names env" grep -q 'env' "$SPOOL/dead/badenv.reason"
runq worker stop

# --- --batch applies --env and --cwd to every job -----------------------------------
run bash -c "printf 'env > b1.env\nenv > b2.env\n' | '$QUEUECTL' enqueue --batch --env QTEST_BATCH=yes --cwd '$out_dir'"
rc_is 0 "enqueue --batch --env --cwd"
mapfile -t bids <<<"$out"
for id in "${bids[@]}"; do
	jq_ok "batch job $id has env and cwd" "$SPOOL/pending/$id.json" \
		".env == {\"QTEST_BATCH\":\"yes\"} and .cwd == \"$out_dir\""
done

done_testing

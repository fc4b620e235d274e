#!/bin/bash
# 01-basic: init, --version, --help, usage errors, enqueue forms, the job
# file, and a job running to done/ under `worker start` and `worker run`.
. "$(dirname "$0")/../lib.sh"

ID_RE='^[0-9]{8}-[0-9]{6}\.[0-9]{3}-[0-9a-z]{6}$'
TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?Z$'

# --- init -------------------------------------------------------------------
runq init
rc_is 0 "init exits 0"
like "$out" "$(basename "$SPOOL")\$" "init prints the spool path"
is "$(stat -c %a "$SPOOL")" 700 "spool root has mode 0700"
for d in tmp cancel pending processing done failed dead hold; do
	if [ -d "$SPOOL/$d" ] && [ ! -L "$SPOOL/$d" ]; then
		is "$(stat -c %a "$SPOOL/$d")" 700 "init creates $d/ with mode 0700"
	else
		not_ok "init creates $d/ with mode 0700"
	fi
done
runq init
rc_is 0 "init again on an existing spool exits 0"
check "init again keeps the spool a directory" test -d "$SPOOL/pending"

# --- version and help --------------------------------------------------------
runq --version
rc_is 0 "--version exits 0"
like "$out" '^queuectl [0-9]+\.[0-9]+\.[0-9]+$' "--version prints 'queuectl X.Y.Z'"
runq -V
rc_is 0 "-V exits 0"
like "$out" '^queuectl [0-9]+\.[0-9]+\.[0-9]+$' "-V prints 'queuectl X.Y.Z'"

runq --help
rc_is 0 "--help exits 0"
for c in enqueue worker status list show logs dlq config recover; do
	like "$out" "$c" "--help mentions $c"
done
runq -h
rc_is 0 "-h exits 0"
like "$out" "enqueue" "-h prints the usage"

for c in init enqueue worker status list show logs dlq config recover; do
	runq "$c" --help
	rc_is 0 "$c --help exits 0"
	like "$out" "$c" "$c --help mentions $c"
done

# --- usage errors ------------------------------------------------------------
runq frobnicate
rc_is 64 "unknown command exits 64"
is "$out" "" "unknown command prints nothing on stdout"
like "$err" "queuectl" "unknown command: error on stderr"
runq --no-such-option status
rc_is 64 "unknown global option exits 64"
runq enqueue --no-such-option true
rc_is 64 "unknown enqueue option exits 64"
runq status --bogus
rc_is 64 "unknown status option exits 64"
runq
rc_is 64 "no command at all exits 64"
runq enqueue
rc_is 64 "enqueue without a command exits 64"
check "usage errors created no job" count_is pending 0

# --- enqueue: plain command ---------------------------------------------------
runq enqueue 'echo hello'
rc_is 0 "enqueue of a plain command exits 0"
id1=$out
like "$id1" "$ID_RE" "enqueue prints one generated id"
f=$SPOOL/pending/$id1.json
check "pending/ID.json exists" test -f "$f"
is "$(stat -c %a "$f" 2>/dev/null)" 600 "pending/ID.json has mode 0600"
jq_ok "pending/ID.json is valid JSON with the command" "$f" '.command == "echo hello"'
jq_ok "the id field equals the file name" "$f" ".id == \"$id1\""
jq_ok "state is pending" "$f" '.state == "pending"'
jq_ok "attempts is 0" "$f" '(.attempts // 0) == 0'
like "$(jqf "$f" .created_at)" "$TIME_RE" "created_at is an ISO 8601 UTC time"
created=$(jqf "$f" '.created_at | ms')
now=$(now_ms)
check "created_at is now (within 60 s)" test $((now - created)) -lt 60000 -a $((now - created)) -gt -5000
jq_ok "cwd is recorded" "$f" ".cwd == \"$TEST_DIR/work\""
jq_ok "max_retries and timeout not given are left out" "$f" '(has("max_retries") | not) and (has("timeout") | not)'
check "tmp/ is empty after enqueue" test -z "$(ls -A "$SPOOL/tmp")"

runq enqueue 'echo one; echo two | tr a-z A-Z'
jq_ok "one word is stored as a shell command line, as is" "$SPOOL/pending/$out.json" '.command == "echo one; echo two | tr a-z A-Z"'
idshell=$out

# --- enqueue: argv quoting ----------------------------------------------------
runq enqueue --id quoting -- sh -c 'echo a b > f'
rc_is 0 "enqueue -- sh -c '...' exits 0"
is "$out" quoting "enqueue --id prints the given id"
jq_ok "argv words are quoted for the shell: sh -c 'echo a b > f'" "$SPOOL/pending/quoting.json" \
	'.command == "sh -c '"'"'echo a b > f'"'"'"'
runq enqueue --id quoting2 -- printf '[%s]\n' "it's" '' '$HOME' '*' 'a"b'
rc_is 0 "enqueue of words with quotes, empty word, \$ and * exits 0"
runq enqueue --id plainwords -- echo plain words
jq_ok "plain words stay unquoted" "$SPOOL/pending/plainwords.json" '.command == "echo plain words"'

# --- enqueue: JSON forms ------------------------------------------------------
runq enqueue '{"id":"job1","command":"echo hi from json","meta":{"owner":"me","n":[1,2]}}'
rc_is 0 "enqueue of a JSON object exits 0"
is "$out" job1 "enqueue JSON prints its id"
jq_ok "JSON job stored with its command" "$SPOOL/pending/job1.json" '.command == "echo hi from json" and .state == "pending"'
jq_ok "unknown fields are kept" "$SPOOL/pending/job1.json" '.meta == {"owner":"me","n":[1,2]}'
like "$(jqf "$SPOOL/pending/job1.json" .created_at)" "$TIME_RE" "JSON job gets created_at"

run bash -c 'echo "{\"id\":\"job2\",\"command\":\"echo from stdin\"}" | "$QUEUECTL" enqueue -'
rc_is 0 "enqueue - reads the JSON object from stdin"
is "$out" job2 "enqueue - prints the id"
jq_ok "stdin job stored" "$SPOOL/pending/job2.json" '.command == "echo from stdin"'

runq enqueue '{"command":"echo no id"}'
rc_is 0 "JSON without an id is accepted"
like "$out" "$ID_RE" "JSON without an id gets a generated id"
check "and is stored under that id" test -f "$SPOOL/pending/$out.json"
idnoid=$out

runq enqueue '{"id":"job3","command":"true","run_after":"2030-01-02T03:04:05Z"}'
rc_is 0 "run_after is accepted"
like "$(jqf "$SPOOL/pending/job3.json" .run_at)" '^2030-01-02T03:04:05(\.0+)?Z$' "run_after is stored as run_at"

runq enqueue --priority 5 --max-retries 4 --timeout 9 '{"id":"job4","command":"true","priority":1}'
rc_is 0 "options with a JSON job exit 0"
jq_ok "options override JSON fields" "$SPOOL/pending/job4.json" '.priority == 5 and .max_retries == 4 and .timeout == 9'

runq enqueue --id opts --priority -3 --max-retries 0 --timeout 2.5 true
rc_is 0 "enqueue with all options exits 0"
jq_ok "priority, max_retries, timeout stored" "$SPOOL/pending/opts.json" '.priority == -3 and .max_retries == 0 and .timeout == 2.5'

runq enqueue --no-sync --id nosync 'echo nosync'
rc_is 0 "enqueue --no-sync exits 0"
check "--no-sync job is in pending/" test -f "$SPOOL/pending/nosync.json"

runq enqueue --id envjob 'echo "id=$QUEUECTL_JOB_ID attempt=$QUEUECTL_ATTEMPT spool=$QUEUECTL_SPOOL worker=$QUEUECTL_WORKER"'
runq enqueue --id stdinjob 'cat; echo "cat-rc=$?"'
runq enqueue --id errjob 'echo to-stderr >&2'
runq enqueue --id pwdjob 'pwd > pwd.out'

# --- running: worker start -----------------------------------------------------
start_workers 1
rc_is 0 "worker start exits 0"
like "$out" '^[0-9]+$' "worker start prints one pid"
wpid=${WPIDS[0]:-0}
check "the worker is alive" alive "$wpid"
ld=$(lease_of "$wpid")
check "worker start returns with the lease directory created" test -d "$ld"
check "lease directory holds lock" test -f "$ld/lock"
jq_ok "lease record names the worker's pid" "$ld/lease" ".pid == $wpid"
is "$(stat -c %a "$ld" 2>/dev/null)" 700 "lease directory has mode 0700"

all="$id1 $idshell quoting quoting2 plainwords job1 job2 $idnoid job3 job4 opts nosync envjob stdinjob errjob pwdjob"
ready="$id1 $idshell quoting quoting2 plainwords job1 job2 $idnoid job4 opts nosync envjob stdinjob errjob pwdjob"
for id in $ready; do
	wait_for 30 "job $id completes (done/)" exists "$SPOOL/done/$id.json"
done
d=$SPOOL/done/$id1.json
jq_ok "done job: state done, exit_code 0, attempts 1" "$d" '.state == "done" and .exit_code == 0 and .attempts == 1'
jq_ok "done job: last_error null" "$d" '.last_error == null'
jq_ok "done job: started_at <= finished_at, duration_ms >= 0" "$d" '(.started_at | ms) <= (.finished_at | ms) and .duration_ms >= 0'
jq_ok "done job: created_at <= started_at" "$d" '(.created_at | ms) <= (.started_at | ms)'
jq_ok "done job: worker recorded" "$d" '(.worker | type) == "string" and (.worker | length) > 0'
jq_ok "done job: command unchanged" "$d" '.command == "echo hello"'
is "$(stat -c %a "$d" 2>/dev/null)" 600 "done/ID.json has mode 0600"
check "pending/ID.json is gone" absent "$SPOOL/pending/$id1.json"
check "logs beside the job: done/ID.stdout" test -f "$SPOOL/done/$id1.stdout"
check "logs beside the job: done/ID.stderr" test -f "$SPOOL/done/$id1.stderr"
check "stdout log holds the output" grep -qx hello "$SPOOL/done/$id1.stdout"
check "stdout log holds the attempt marker" grep -q '^=== queuectl: attempt 1 on .* at .* ===$' "$SPOOL/done/$id1.stdout"
check "stderr log holds the attempt marker" grep -q '^=== queuectl: attempt 1 on .* at .* ===$' "$SPOOL/done/$id1.stderr"
check "stdout log of a shell command line" grep -qx TWO "$SPOOL/done/$idshell.stdout"
check "argv job ran exactly as given (file f holds 'a b')" grep -qx 'a b' "$TEST_DIR/work/f"
exp=$(printf '[%s]\n' "it's" '' '$HOME' '*' 'a"b')
is "$(grep -v '^=== queuectl' "$SPOOL/done/quoting2.stdout")" "$exp" "argv words with quotes, empty word, \$HOME and * ran exactly as given"
check "JSON job ran" grep -qx 'hi from json' "$SPOOL/done/job1.stdout"
jq_ok "unknown fields survive the run" "$SPOOL/done/job1.json" '.meta == {"owner":"me","n":[1,2]}'
check "stdin job ran" grep -qx 'from stdin' "$SPOOL/done/job2.stdout"
check "job environment: QUEUECTL_JOB_ID, _ATTEMPT, _SPOOL, _WORKER" \
	grep -q "^id=envjob attempt=1 spool=$SPOOL worker=..*" "$SPOOL/done/envjob.stdout"
check "job stdin is /dev/null (cat sees EOF)" grep -qx 'cat-rc=0' "$SPOOL/done/stdinjob.stdout"
check "stderr output goes to ID.stderr" grep -qx to-stderr "$SPOOL/done/errjob.stderr"
check "the job runs in the enqueuer's directory" grep -qx "$TEST_DIR/work" "$TEST_DIR/work/pwd.out"
check "job with run_at in 2030 is still pending" test -f "$SPOOL/pending/job3.json"

runq status
rc_is 0 "status exits 0"
like "$out" "done" "status mentions done"
runq list
rc_is 0 "list exits 0"
like "$out" "$id1" "list shows a done job"
like "$out" "job3" "list shows a pending job"
runq show "$id1"
rc_is 0 "show exits 0"
like "$out" "done" "show says done"
like "$out" "echo hello" "show shows the command"

runq worker stop
rc_is 0 "worker stop exits 0"
like "$out" "stopped 1 worker" "worker stop prints 'stopped 1 workers'"
wait_for 10 "worker is gone after worker stop" dead_pid "$wpid"
check "lease directory removed" test -z "$(ls -A "$SPOOL/processing")"

# --- running: worker run (foreground) -----------------------------------------
fg_worker
check "worker run: lease created" worker_ready "$FG_PID"
runq enqueue 'echo fg-ran'
idfg=$out
wait_for 30 "worker run runs a job" exists "$SPOOL/done/$idfg.json"
check "its output" grep -qx fg-ran "$SPOOL/done/$idfg.stdout"
kill -TERM "$FG_PID"
wait_until 30 dead_pid "$FG_PID"
wait "$FG_PID"
is "$?" 0 "worker run exits 0 on SIGTERM"
check "worker run removed its lease" test -z "$(ls -A "$SPOOL/processing")"

# --- spool location -----------------------------------------------------------
other=$TEST_DIR/other-spool
runq --spool "$other" init
rc_is 0 "--spool DIR init exits 0"
is "$(stat -c %a "$other" 2>/dev/null)" 700 "--spool DIR is created with mode 0700"
runq -d "$other" enqueue --id inother true
rc_is 0 "-d DIR enqueue exits 0"
check "-d DIR puts the job in that spool" test -f "$other/pending/inother.json"
check "... and not in \$QUEUECTL_SPOOL" absent "$SPOOL/pending/inother.json"
mkdir -p "$TEST_DIR/xdg"
run env -u QUEUECTL_SPOOL XDG_STATE_HOME="$TEST_DIR/xdg" "$QUEUECTL" enqueue --id inxdg true
rc_is 0 "enqueue with \$XDG_STATE_HOME"
check "\$XDG_STATE_HOME/queuectl is the spool" test -f "$TEST_DIR/xdg/queuectl/pending/inxdg.json"
is "$(stat -c %a "$TEST_DIR/xdg/queuectl" 2>/dev/null)" 700 "\$XDG_STATE_HOME/queuectl created with mode 0700"
mkdir -p "$TEST_DIR/home/.local/state"
run env -u QUEUECTL_SPOOL -u XDG_STATE_HOME HOME="$TEST_DIR/home" "$QUEUECTL" enqueue --id inhome true
rc_is 0 "enqueue with only \$HOME"
check "~/.local/state/queuectl is the spool" test -f "$TEST_DIR/home/.local/state/queuectl/pending/inhome.json"

# a relative spool path: jobs and scripts must still find the spool
mkdir -p "$TEST_DIR/work/sub"
runq -d relspool init
rc_is 0 "init with a relative --spool"
check "... creates it relative to the current directory" test -d "$TEST_DIR/work/relspool/pending"
runq -d relspool worker start
relw=$out
(cd "$TEST_DIR/work/sub" && "$QUEUECTL" -d ../relspool enqueue --id relj 'd=$(cd "$QUEUECTL_SPOOL" 2>/dev/null && pwd -P); echo "$d" > spoolpath.out') >/dev/null
wait_for 30 "job of a relative spool runs" exists "$TEST_DIR/work/relspool/done/relj.json"
is "$(cat "$TEST_DIR/work/sub/spoolpath.out" 2>/dev/null)" "$(cd "$TEST_DIR/work/relspool" && pwd -P)" \
	"\$QUEUECTL_SPOOL given to a job designates the spool from the job's directory"
runq -d relspool status --json
like "$(jq -r .spool <<<"$out" 2>/dev/null)" '^/' "status --json: spool is an absolute path"
runq -d relspool worker stop
wait_until 10 dead_pid "$relw"

# With descriptors 0-2 closed, /dev/null takes their place, so that neither
# the spool's directories nor the job file do (the id printed to a
# directory would fail: exit 74).
"$QUEUECTL" -d relspool enqueue --id closedfds true 0<&- 1>&- 2>&-
rc=$? out= err=
rc_is 0 "enqueue with descriptors 0-2 closed"
jq_ok "... queues a valid job" "$TEST_DIR/work/relspool/pending/closedfds.json" '.command == "true"'

done_testing

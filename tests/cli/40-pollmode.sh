#!/bin/bash
# 40-pollmode: workers, wait and logs -f rescan the spool every
# poll_interval where inotify cannot see every change. On a local disk
# the default is inotify only, and an explicit poll_interval makes a
# worker poll too (strace counts its directory reads). With root, /dev/fuse
# and bindfs, the spool is also mounted through FUSE (bindfs of $SPOOL):
# changes made on the local path are then like another host's, unseen by
# inotify on the FUSE mount; a worker there finds them by polling (and not
# without), wait and logs -f there see jobs that a worker on the local
# path runs, a directory dropped into pending/ is quarantined (it cannot be
# linked, and FUSE refuses RENAME_NOREPLACE), and a worker whose filesystem
# stops answering (bindfs stopped) kills its job and exits 3 within
# lease_timeout.
. "$(dirname "$0")/../lib.sh"

q init >/dev/null
log=$TEST_DIR/fg-worker.log

# getdents COUNT PID SECS: strace PID for SECS seconds; COUNT directory reads
getdents() {
	timeout "$3" strace -f -qq -e trace=getdents64 -p "$2" -o "$TEST_DIR/st.$2" 2>/dev/null
	grep -c getdents64 "$TEST_DIR/st.$2"
}

# --- local disk: inotify only, unless poll_interval says otherwise ---------
if local_spool; then
	fg_worker
	w=$FG_PID
	runq status --json
	is "$(jq -r '.workers[0].watch' <<<"$out")" inotify "status --json: a worker on a local disk uses inotify only"
	is "$(jq -r '.workers[0].poll_interval' <<<"$out")" 0 "poll_interval 0"
	unlike "$(jq -r '.workers[0].fs' <<<"$out")" "^(fuse|null)\$" "and names the local filesystem"
	runq status
	like "$out" "idle  \([a-z0-9]+: inotify\)" "status says it"
	if command -v strace >/dev/null; then
		n=$(getdents 1.5 "$w" 1.5)
		is "$n" 0 "an idle worker on a local disk reads no directory (1.5 s)"
	else
		skip "strace is not installed"
	fi
	kill "$w"
	wait_for 30 "it stops" dead_pid "$w"
else
	skip "a worker on a local disk uses inotify only: the spool is on $SPOOL_FS"
fi

q config set poll_interval 0.1
fg_worker
w=$FG_PID
runq status --json
is "$(jq -r '.workers[0].watch' <<<"$out")" inotify+poll "poll_interval 0.1: the worker polls too"
is "$(jq -r '.workers[0].poll_interval' <<<"$out")" 0.1 "status --json: poll_interval 0.1"
runq status
like "$out" "inotify \+ poll every 0.1 s" "status says it"
if command -v strace >/dev/null; then
	n=$(getdents 1.5 "$w" 1.5)
	if [ "$n" -ge 8 ]; then
		ok "it rescans pending/ and failed/ every 0.1 s ($n directory reads in 1.5 s)"
	else
		not_ok "it rescans pending/ and failed/ every 0.1 s ($n directory reads in 1.5 s)"
	fi
else
	skip "strace is not installed"
fi
runq enqueue --id l1 "echo l1 # $MARK"
wait_for 30 "a job still runs" in_state l1 done
# ESTALE is how a network filesystem reports a file renamed away while it
# was being opened (GlusterFS, to enqueue --wait): wait takes it for the
# lost race it is and looks again (the fault shim of tests/22; 116 is
# ESTALE on Linux)
if cc -shared -fPIC -o "$TEST_DIR/fault.so" "$TOP/tests/fault/fault.c" -ldl 2>"$TEST_DIR/cc.err"; then
	run env LD_PRELOAD="$TEST_DIR/fault.so" QUEUECTL_FAULT=open:116 \
		QUEUECTL_FAULT_PATH=/done/l1.json QUEUECTL_FAULT_COUNT=1 QUEUECTL_FAULT_LOG="$TEST_DIR/flog" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$QUEUECTL" wait l1
	rc_is 0 "wait: an open of the job file that fails with ESTALE is tried again"
	check "(the open failed with ESTALE once)" test "$(wc -l <"$TEST_DIR/flog")" = 1
else
	skip "no C compiler for the fault shim: $(cat "$TEST_DIR/cc.err")"
fi
kill "$w"
wait_for 30 "it stops" dead_pid "$w"
q config set poll_interval auto

# --- a FUSE mount of the spool ---------------------------------------------
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ] || ! command -v bindfs >/dev/null; then
	skip "the FUSE part needs root, /dev/fuse and bindfs"
	done_testing
fi
M=$TEST_DIR/mnt
mkdir -m 0700 "$M"
bindfs -f -o hard_remove "$SPOOL" "$M" 2>"$TEST_DIR/bindfs.err" &
fuse=$!
trap 'stop_everything; kill -CONT $fuse 2>/dev/null; umount -l "$M" 2>/dev/null; _cleanup' EXIT
wait_for 30 "the spool is mounted through FUSE" mountpoint -q "$M"
qm() { "$QUEUECTL" --spool "$M" "$@"; }

# drop ID: a job dropped in on the local path (another host, for the mount)
drop() {
	printf '{"id":"%s","command":"echo %s # %s"}\n' "$1" "$1" "$MARK" >"$SPOOL/tmp/$1"
	mv "$SPOOL/tmp/$1" "$SPOOL/pending/$1.json"
}

q config set poll_interval 0
fg_worker --spool "$M"
w=$FG_PID
drop p0
if wait_until 3 in_state p0 done; then
	not_ok "poll_interval 0: a drop-in on the other path is not seen by inotify (3 s)"
else
	ok "poll_interval 0: a drop-in on the other path is not seen by inotify (3 s)"
fi
run qm enqueue --id m0 "echo m0 # $MARK"
wait_for 30 "a job enqueued through the mount is seen at once" in_state m0 done
kill "$w"
wait_for 30 "the worker stops" dead_pid "$w"
run qm doctor
rc_is 1 "doctor on the FUSE spool with poll_interval 0: exit 1"
like "$out" "warning: poll_interval is 0 on a network filesystem" "and says why"

q config set poll_interval auto
fg_worker --spool "$M"
w=$FG_PID
run qm status --json
is "$(jq -r '.workers[0].fs' <<<"$out")" fuse "status --json: the worker's spool is on fuse"
is "$(jq -r '.workers[0].watch' <<<"$out")" inotify+poll "it polls (poll_interval auto)"
is "$(jq -r '.workers[0].poll_interval' <<<"$out")" 1 "every second"
wait_for 30 "the earlier drop-in is claimed (scan at start)" in_state p0 done
drop p1
wait_for 10 "a drop-in on the other path is claimed by polling" in_state p1 done
# a directory dropped into pending/ is quarantined on FUSE too, where it
# cannot be linked and RENAME_NOREPLACE is refused (EINVAL)
mkdir "$M/tmp/.d"
mv "$M/tmp/.d" "$M/pending/dir.json"
wait_for 10 "FUSE: a directory in pending/ is quarantined as dead/dir.invalid" test -d "$SPOOL/dead/dir.invalid"
check "FUSE: ... and is left in no lease (the claim moved it there)" bash -c "! ls -d '$SPOOL'/pending/dir.json '$SPOOL'/processing/*/dir.json 2>/dev/null | grep -q ."
check "FUSE: ... with its reason" grep -qE '^reason: .+' "$SPOOL/dead/dir.reason"
run qm doctor
rc_is 0 "doctor on the FUSE spool with the defaults: exit 0"
like "$out" "filesystem: fuse \(network or FUSE" "doctor names the filesystem"
like "$out" "rescan every 1 s" "and the workers' polling"
kill "$w"
wait_for 30 "the worker stops" dead_pid "$w"

# wait and logs -f through the mount, for a job run on the local path
fg_worker
w=$FG_PID
runq enqueue --id x1 --hold "for i in 1 2 3; do echo line\$i; sleep 0.3; done # $MARK"
bg waitm qm wait --timeout 30 x1
bg logsm qm logs -f x1
wait_for 30 "wait on the mount is watching" watching "wait --timeout 30 x1"
wait_for 30 "logs -f on the mount is watching" watching "logs -f x1"
runq release x1
wait_for 30 "x1 runs to done/ (on the local path)" in_state x1 done
wait_for 10 "wait through the mount sees it by polling" ended waitm
is "$(cat "$TEST_DIR/waitm.rc")" 0 "wait exits 0"
wait_for 10 "logs -f through the mount ends too" ended logsm
like "$(tr '\n' ' ' <"$TEST_DIR/logsm.out")" "line1 line2 line3" "logs -f printed the whole output"
q config set poll_interval 0
runq enqueue --id x2 --hold "echo x2 # $MARK"
bg waitm2 qm wait --timeout 3 x2
wait_for 30 "wait on the mount is watching" watching "wait --timeout 3 x2"
runq release x2
wait_for 30 "x2 runs to done/" in_state x2 done
wait_for 10 "with poll_interval 0, wait through the mount" ended waitm2
is "$(cat "$TEST_DIR/waitm2.rc")" 75 "times out (75): inotify saw nothing"
q config set poll_interval auto
kill "$w"
wait_for 30 "the worker stops" dead_pid "$w"

# a filesystem that stops answering: the worker fences itself
q config set lease_timeout 2
q config set lease_check 0.3
fg_worker --spool "$M"
w=$FG_PID
runq enqueue --id hang1 "sleep 300 # $MARK hang1"
wait_for 30 "hang1 runs" procs "$MARK hang1"
kill -STOP "$fuse"
wait_for 10 "the filesystem stopped: hang1 is killed within lease_timeout" no_procs "$MARK hang1"
wait_for 10 "and the worker exits" dead_pid "$w"
wait "$w"
is "$?" 3 "with status 3"
kill -CONT "$fuse"
like "$(cat "$log")" "fenced: lease not confirmed" "the worker says why"
jq_ok "hang1: nothing recorded" "$(lease_of "$w")/hang1.json" '.state == "processing" and .finished_at == null'

stop_everything
umount "$M" || umount -l "$M"
done_testing

#!/bin/bash
# tests/multihost/core.sh - the core integration suite (tests/run.sh, the
# tests/cli/ files, plain build) once with every spool on a GlusterFS mount.
#
# tests/lib.sh makes each test's directory, and so its spool, under $TMPDIR:
# here TMPDIR is a directory on host h1's mount of a fresh volume
# (gluster.sh). The suite runs in this machine's own namespaces (a mount is
# seen from every network namespace); only the FUSE client lives in h1's.
# First it checks that a plain worker starts on the volume; if not (today:
# EINVAL from renameat2(RENAME_NOREPLACE) of the lease directory, see
# run.sh), that is one failure, and the suite runs with the test shim
# tests/multihost/noreplace.c preloaded into everything, to show what fails
# beyond that (MH_SHIM=0: without it, where every test that needs a worker
# fails after its waits). Ends with the list of failing files and
# "N passed, N failed" (the suite's plus that check). Skips (exit 0) without
# root or /dev/fuse.
#
# What the test files assume of a local disk, and how it is handled here:
# - 14-bigspool times the making and listing of 100,000 job files against
#   limits for a local disk (60 s, 30 s); GlusterFS here takes 95 s to
#   make them and 79 s to list them (and the file then hits FILE_TIMEOUT):
#   it runs with BIGSPOOL_N=10000 (the same checks, a tenth of the files).
# - 40-pollmode and 42-doctor check what a worker and doctor do on a local
#   disk (inotify only, lease timings 10 s / 60 s, no lock_failover rule):
#   where the spool is on FUSE (tests/lib.sh local_spool) 40 skips that
#   part and 42 checks the network values instead.
# - 51-prefetch checks that a worker starting on 300 job files reads them
#   with a prefetch thread, which runs on a local disk only: on FUSE it
#   checks that none ran.
#
#   TESTS="01 02"    only these test files (as tests/run.sh)
#   MH_SHIM=0|1      never / always preload the shim (default: only when a
#                    plain worker does not start)
#   FILE_TIMEOUT     per test file (default here 300 s)
#   BIGSPOOL_N       jobs in 14-bigspool (default here 10000)
#   QUEUECTL, CRASH_QUEUECTL as for tests/run.sh

export LC_ALL=C
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source=tests/multihost/gluster.sh
. "$HERE/gluster.sh"
gluster_require
gluster_install || { echo "not ok 1 - GlusterFS is installed"; echo "0 passed, 1 failed"; exit 1; }
gluster_up 1 || { echo "not ok 1 - GlusterFS volume up"; echo "0 passed, 1 failed"; exit 1; }

export TMPDIR
TMPDIR=$(host_mnt 1)/tmp
mkdir -p "$TMPDIR" && chmod 0700 "$TMPDIR"
export QUEUECTL      # gluster.sh made it absolute
[ -x "$TOP/build/test/queuectl" ] && export CRASH_QUEUECTL=${CRASH_QUEUECTL:-$TOP/build/test/queuectl}
export FILE_TIMEOUT=${FILE_TIMEOUT:-300}
export BIGSPOOL_N=${BIGSPOOL_N:-10000}
pre=0
shim=${MH_SHIM:-}
mkdir -m 0700 "$TMPDIR/pre"
if out=$(QUEUECTL_SPOOL=$TMPDIR/pre/spool "$QUEUECTL" worker start 2>&1); then
	echo "ok - a plain worker starts on the volume"
	QUEUECTL_SPOOL=$TMPDIR/pre/spool "$QUEUECTL" worker stop >/dev/null
else
	pre=1
	echo "not ok - a plain worker starts on the volume"
	echo "# $out: $(tail -n 1 "$TMPDIR/pre/spool/worker.log" 2>/dev/null)"
	[ -z "$shim" ] && shim=1
fi
if [ "$shim" = 1 ]; then
	cc -shared -fPIC -o "$QMH_DIR/noreplace.so" "$HERE/noreplace.c" -ldl || exit 1
	export LD_PRELOAD=$QMH_DIR/noreplace.so
fi
echo "# core suite with TMPDIR=$TMPDIR (GlusterFS)${LD_PRELOAD:+, LD_PRELOAD=noreplace.so}"
unset ASAN_QUEUECTL MEMCHECK FUZZ UNIT_TESTS
# in the background, so that a signal reaches the traps at once
bash "$TOP/tests/run.sh" >"$QMH_DIR/core.out" 2>&1 &
wait $!
unset LD_PRELOAD
grep -v '^[0-9]* passed, [0-9]* failed$' "$QMH_DIR/core.out"
echo "# failing on GlusterFS: $(awk '$1 == "FAIL" { printf "%s ", $2 }' "$QMH_DIR/core.out")"
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$QMH_DIR/core.out" | tail -n 1)
np=${last%% *} nf=${last#*, }
nf=${nf%% *}
[ -n "$last" ] || { np=0 nf=1; }
echo "$((np + 1 - pre)) passed, $((nf + pre)) failed"
[ $((nf + pre)) = 0 ]

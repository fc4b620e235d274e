#!/bin/bash
# tests/multihost/tap.sh - TAP output for the multi-host scripts (sourced by
# tests/multihost/run.sh and smoke.sh).
#
# ok DESC / not_ok DESC print one numbered TAP line; tap_tally prints the
# plan and the tally and returns 0 only when nothing failed.

T_N=0
T_FAIL=0
ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"; }
tap_tally() {
	echo "$((T_N - T_FAIL)) passed, $T_FAIL failed"
	[ "$T_FAIL" = 0 ]
}

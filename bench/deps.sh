#!/bin/sh
# bench/deps.sh - install the benchmark's peers and tools from Debian when missing:
#   nq (nq, fq, tq), task-spooler (tsp on Debian), gnuplot-nox; hyperfine is optional.
# Run as root (or with sudo available). Safe to run again: installs only what is missing.
set -eu

need=""
command -v nq >/dev/null 2>&1 || need="$need nq"
command -v tsp >/dev/null 2>&1 || need="$need task-spooler"    # Debian names it tsp
command -v gnuplot >/dev/null 2>&1 || need="$need gnuplot-nox"
command -v cc >/dev/null 2>&1 || need="$need build-essential"
# optional (run.sh does not need it; handy for one-off timings): only tried
# along with a required package, so that a machine without it is not
# updated on every run
opt=""
command -v hyperfine >/dev/null 2>&1 || opt="hyperfine"

[ -z "$need" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "bench/deps.sh: missing:$need; run as root to install them" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "bench/deps.sh: installing:$need${opt:+ (optional: $opt)}" >&2
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
if [ -n "$opt" ]; then
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $opt >/dev/null 2>&1 \
        || echo "bench/deps.sh: optional $opt not installed" >&2
fi
exit 0

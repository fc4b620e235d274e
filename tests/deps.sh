#!/bin/sh
# tests/deps.sh [build|test] - install what building (the default) or
# testing queuectl needs, if it is missing (Debian 12). Safe to run again:
# it installs nothing when all is there. `make check` runs it with "test".
set -e
pkgs="build-essential pkg-config libcjson-dev libbsd-dev"
case ${1:-build} in
build) ;;
test) pkgs="$pkgs jq valgrind mandoc procps python3 tmux clang libclang-rt-14-dev strace bindfs" ;;
*) echo "usage: sh tests/deps.sh [build|test]" >&2; exit 64 ;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "tests/deps.sh: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "tests/deps.sh: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

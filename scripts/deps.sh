#!/bin/sh
# Install the Debian packages sysring needs, if any is missing.
#
#   scripts/deps.sh [--bench] [--test] [--guest] [--list]
#
#   (none)   building the library and sdu: compiler, cmake, pkg-config, liburing
#   --bench  the benchmark's baselines: libuv, gdu, bfs
#   --test   the whole test suite: libuv (the benchmark is built too), g++ and
#            clang (header tests), mandoc and man-db (man pages), the Debian
#            packaging tools and DKMS (package and module tests), the kernel
#            headers
#   --guest  the kernel module's tests in a qemu guest
#   --list   print the packages instead of installing them
set -eu
pkgs="build-essential cmake pkg-config liburing-dev"
list=0
for a in "$@"; do
	case $a in
	--bench) pkgs="$pkgs libuv1-dev gdu bfs" ;;
	--test)
		pkgs="$pkgs libuv1-dev g++ clang mandoc groff-base man-db dpkg-dev debhelper dh-dkms dkms lintian"
		pkgs="$pkgs linux-headers-amd64 kmod util-linux"
		;;
	--guest) pkgs="$pkgs qemu-system-x86 linux-headers-amd64 busybox-static cpio xz-utils" ;;
	--list) list=1 ;;
	*)
		echo "usage: $0 [--bench] [--test] [--guest] [--list]" >&2
		exit 2
		;;
	esac
done
pkgs=$(echo "$pkgs" | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ $list -eq 1 ]; then
	echo "$pkgs"
	exit 0
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null; then
		echo "$0: not root and no sudo: as root, run apt-get install$missing" >&2
		exit 1
	fi
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing

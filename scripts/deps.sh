#!/bin/sh
# Install the Debian packages sysring needs, if any is missing.
# Usage: scripts/deps.sh [--guest]   (--guest adds what the kernel-module guest tests need)
set -eu
pkgs="build-essential cmake pkg-config liburing-dev libuv1-dev"
if [ "${1:-}" = "--guest" ]; then
	pkgs="$pkgs qemu-system-x86 linux-headers-amd64 busybox-static cpio xz-utils"
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The kernel module as users install modules, against the installed Debian
# kernel headers (the host here runs a kernel that cannot load modules, so
# the module is built, installed into a staging root and checked, not loaded;
# the guest tests load it):
#   1. cmake --install BUILD --component dkms (staged under DESTDIR)
#      installs the DKMS source tree where dkms looks for it,
#      /usr/src/sysring-VERSION (dkms.conf at its top), the udev rule in
#      udev's directory, the sysusers.d entry for the group and sysring.ko(4);
#   2. dkms add + dkms build (in a private DKMS tree) compile sysring.ko for
#      the headers' kernel; without dkms, the same Makefile path DKMS runs;
#      the shipped build does not turn warnings into errors
#      (SYSRING_KMOD_WERROR=1 does);
#   3. kmod/Makefile's modules_install installs it into
#      INSTALL_MOD_PATH/lib/modules/KVER/updates and runs depmod, so that
#      modprobe finds it; with no signing key (distribution headers have
#      none) it neither signs nor prints sign-file's errors;
#   4. the udev rule gives the node to root and the group "sysring", 0660,
#      and the sysusers.d entry creates that group.
#
#   dkms.sh SOURCE_DIR BUILD_DIR
set -u
src=$(readlink -f "$1")
build=$(readlink -f "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/sysring_dkms.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
fails=0
checks=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# The kernel whose headers are installed: linux-headers-amd64's, as
# kmod/Makefile picks it, else any installed headers.
kver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null | sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')
if [ -z "$kver" ] || [ ! -f "/usr/src/linux-headers-$kver/Makefile" ]; then
	kver=$(ls -d /usr/src/linux-headers-*/ 2>/dev/null | sed -n 's|^/usr/src/linux-headers-\(.*\)/$|\1|p' |
		while read -r k; do [ -f "/usr/src/linux-headers-$k/Module.symvers" ] && echo "$k"; done | tail -1)
fi
[ -n "$kver" ] || { echo "SKIP: no kernel headers installed (apt-get install linux-headers-amd64)"; exit 77; }
kdir=/usr/src/linux-headers-$kver
command -v make >/dev/null || { echo "SKIP: no make"; exit 77; }
echo "kernel headers: $kver"

# ---- 1 ----
D=$work/dest
checks=$((checks + 1))
# with the build's own prefix (/usr/local by default): the DKMS tree, the
# udev rule and the group's entry go where dkms, udev and systemd-sysusers
# look whatever the prefix; the page goes with the other pages
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
if ! DESTDIR=$D cmake --install "$build" --component dkms >"$work/log" 2>&1; then
	fail "cmake --install --component dkms"
	cat "$work/log"
	exit 1
fi
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$src/kmod/dkms.conf")
tree=$D/usr/src/sysring-$version
[ -d "$tree" ] || fail "no DKMS tree in /usr/src/sysring-$version: $(cd "$D" && find . -name dkms.conf)"
for f in dkms.conf kmod/Makefile kmod/Kbuild include/sysring/uapi.h include/sysring/syslet.h \
	src/core/interp.h src/table/syscalls.def; do
	checks=$((checks + 1))
	[ -f "$tree/$f" ] || fail "DKMS tree lacks $f"
done
for f in usr/lib/udev/rules.d/60-sysring.rules usr/lib/sysusers.d/sysring.conf "${prefix#/}/share/man/man4/sysring.ko.4"; do
	checks=$((checks + 1))
	[ -f "$D/$f" ] || fail "not installed: /$f"
done
checks=$((checks + 1))
grep -q "sysring_chan\|async_setup" "$tree/kmod/"*.c && fail "the DKMS tree holds library sources"

# ---- 2 ----
checks=$((checks + 1))
if command -v dkms >/dev/null; then
	mkdir -p "$work/dkms"
	if ! dkms add -m sysring -v "$version" --sourcetree "$D/usr/src" --dkmstree "$work/dkms" >"$work/log" 2>&1 ||
		! dkms build -m sysring -v "$version" -k "$kver" --sourcetree "$D/usr/src" --dkmstree "$work/dkms" \
			>>"$work/log" 2>&1; then
		fail "dkms build"
		cat "$work/log"
		find "$work/dkms" -name make.log -exec tail -30 {} \;
	fi
	ko=$(find "$work/dkms" -name 'sysring.ko*' -path "*/$kver/*" | head -1)
	how="dkms build"
else
	echo "note: dkms is not installed; building as its dkms.conf says (MAKE[0])"
	cp -r "$tree" "$work/copy"
	if ! make -C "$work/copy/kmod" KVER="$kver" KDIR="$kdir" modules >"$work/log" 2>&1; then
		fail "make modules (dkms.conf's MAKE[0])"
		tail -30 "$work/log"
	fi
	ko=$work/copy/kmod/sysring.ko
	how="make modules"
fi
checks=$((checks + 1))
if [ -z "$ko" ] || [ ! -f "$ko" ]; then
	fail "$how produced no sysring.ko"
elif command -v modinfo >/dev/null; then
	vm=$(modinfo -F vermagic "$ko")
	case $vm in "$kver "*) ;; *) fail "sysring.ko's vermagic is '$vm', not for $kver" ;; esac
	[ "$(modinfo -F license "$ko")" = GPL ] || fail "sysring.ko's licence is not GPL"
fi

# ---- 3 ----
cp -r "$tree" "$work/mi"
checks=$((checks + 1))
# V=1: the compiler's command lines, to see its flags
if ! make -C "$work/mi/kmod" KVER="$kver" KDIR="$kdir" INSTALL_MOD_PATH="$work/root" V=1 modules_install \
	>"$work/log" 2>&1; then
	fail "make modules_install"
	tail -30 "$work/log"
fi
checks=$((checks + 1))
[ -f "$work/root/lib/modules/$kver/updates/sysring.ko" ] ||
	fail "modules_install did not install lib/modules/$kver/updates/sysring.ko: $(find "$work/root" -type f)"
checks=$((checks + 1))
grep -q 'sysring_main\.c' "$work/log" && ! grep -Eq -- '-Werror( |$)' "$work/log" ||
	fail "the shipped module build turns warnings into errors (-Werror): $(grep -Eo -- '-Werror( |$)' "$work/log" | head -1)"
checks=$((checks + 1))
grep -Ei 'SSL error|sign-file|error' "$work/log" | grep -v -- '-Werror' >"$work/noise" &&
	fail "modules_install prints errors: $(head -5 "$work/noise")"
checks=$((checks + 1))
if command -v modprobe >/dev/null; then
	modprobe -d "$work/root" -S "$kver" --show-depends sysring >"$work/modprobe" 2>&1 &&
		grep -q "/lib/modules/$kver/updates/sysring.ko" "$work/modprobe" ||
		fail "modprobe does not find sysring after modules_install (no depmod?): $(cat "$work/modprobe")"
else
	grep -q 'updates/sysring.ko' "$work/root/lib/modules/$kver/modules.dep" 2>/dev/null ||
		fail "modules_install did not run depmod: no modules.dep naming updates/sysring.ko"
fi
# our CI's build makes warnings errors (the kernel rebuilds an object when its flags change)
checks=$((checks + 1))
make -C "$kdir" M="$work/mi/kmod" SYSRING_KMOD_WERROR=1 V=1 sysring_ring.o >"$work/log" 2>&1 &&
	grep -Eq -- '-Werror( |$)' "$work/log" || fail "SYSRING_KMOD_WERROR=1 does not add -Werror: $(tail -5 "$work/log")"

# ---- 4 ----
rule=$D/usr/lib/udev/rules.d/60-sysring.rules
checks=$((checks + 1))
grep -v '^#' "$rule" | grep -q 'KERNEL=="sysring".*OWNER="root".*GROUP="sysring".*MODE="0660"' ||
	fail "the udev rule does not give /dev/sysring to root:sysring 0660"
checks=$((checks + 1))
grep -v '^#' "$D/usr/lib/sysusers.d/sysring.conf" | grep -Eq '^g[[:space:]]+sysring[[:space:]]+-' ||
	fail "the sysusers.d entry does not create the system group sysring"
if command -v systemd-sysusers >/dev/null; then
	# applied to an empty root: it creates the group there, a system group
	mkdir -p "$work/sysroot/etc"
	checks=$((checks + 1))
	systemd-sysusers --root="$work/sysroot" "$D/usr/lib/sysusers.d/sysring.conf" >"$work/log" 2>&1 &&
		awk -F: '$1 == "sysring" && $3 < 1000 && $4 == "" { ok = 1 } END { exit !ok }' "$work/sysroot/etc/group" ||
		fail "systemd-sysusers did not create an empty system group sysring: $(cat "$work/log" "$work/sysroot/etc/group" 2>&1)"
fi

echo "dkms: $checks checks, $fails failed"
[ $fails -eq 0 ]

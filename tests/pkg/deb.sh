#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian packages.
#   deb.sh build SOURCE_DIR WORK_DIR
#       a copy of the tree -> dpkg-buildpackage -us -uc -b: libsysring0,
#       libsysring-dev, sysring-tools, sysring-dkms, with the expected
#       contents.
#   deb.sh lintian SOURCE_DIR WORK_DIR   (after "build")
#       lintian on the build's .changes reports no error.
#   deb.sh install SOURCE_DIR WORK_DIR   (root; after "build")
#       apt-get install of the four packages; a program built against the
#       installed libsysring-dev with pkg-config (shared and static) and with
#       find_package runs; sdu runs and agrees with du; the man pages are
#       found; sysring-dkms created the group and built the module for the
#       installed kernel headers through DKMS. Then everything is purged.
set -u
mode=$1
src=$(readlink -f "$2")
work=$(readlink -f "$3")
fails=0
checks=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
check() { # description command...
	local what=$1
	shift
	checks=$((checks + 1))
	if ! "$@" >"$work/check.log" 2>&1; then
		fail "$what"
		sed 's/^/  /' "$work/check.log" | tail -30
		return 1
	fi
}
version=$(sed -n '1s/^sysring (\([^)]*\)).*/\1/p' "$src/debian/changelog")
arch=$(dpkg --print-architecture 2>/dev/null)
debs="libsysring0_${version}_$arch.deb libsysring-dev_${version}_$arch.deb sysring-tools_${version}_$arch.deb
sysring-dkms_${version}_all.deb"

case $mode in
build)
	missing=""
	for t in dpkg-buildpackage:dpkg-dev dh:debhelper dh_dkms:dh-dkms cmake:cmake; do
		command -v "${t%%:*}" >/dev/null || missing="$missing ${t##*:}"
	done
	[ -z "$missing" ] || { echo "SKIP: not installed:$missing (scripts/deps.sh --test installs them)"; exit 77; }
	[ "$arch" = amd64 ] || { echo "SKIP: the packages are built for amd64 only (the module and the call table are x86-64)"; exit 77; }
	rm -rf "$work"
	mkdir -p "$work/src"
	# the working tree as it is (uncommitted changes included), without
	# build directories and the products of earlier package builds
	(cd "$src" && tar --exclude='./build*' --exclude=./.git --exclude='./obj-*' --exclude=./debian/tmp \
		--exclude='./debian/.debhelper' -cf - .) | tar -xf - -C "$work/src"
	checks=$((checks + 1))
	if ! (cd "$work/src" && DEB_BUILD_OPTIONS="parallel=$(nproc) noautodbgsym" dpkg-buildpackage -us -uc -b) \
		>"$work/build.log" 2>&1; then
		fail "dpkg-buildpackage -us -uc -b"
		tail -40 "$work/build.log"
		exit 1
	fi
	for d in $debs; do
		checks=$((checks + 1))
		[ -f "$work/$d" ] || fail "not built: $d"
	done
	has() { # deb path-regex
		checks=$((checks + 1))
		dpkg-deb -c "$work/$1" | awk '{print $6}' | grep -Eq "$2" || fail "$1 lacks $2"
	}
	has "libsysring0_${version}_$arch.deb" '/libsysring\.so\.0\.[0-9]+\.[0-9]+$'
	has "libsysring-dev_${version}_$arch.deb" '^\./usr/include/sysring\.h$'
	has "libsysring-dev_${version}_$arch.deb" '^\./usr/include/sysring/batchsys\.h$'
	has "libsysring-dev_${version}_$arch.deb" '/libsysring\.a$'
	has "libsysring-dev_${version}_$arch.deb" '/pkgconfig/sysring\.pc$'
	has "libsysring-dev_${version}_$arch.deb" '/cmake/sysring/sysringConfig\.cmake$'
	has "libsysring-dev_${version}_$arch.deb" '/man3/async_submit\.3\.gz$'
	has "libsysring-dev_${version}_$arch.deb" '/man7/sysring\.7\.gz$'
	has "sysring-tools_${version}_$arch.deb" '^\./usr/bin/sdu$'
	has "sysring-tools_${version}_$arch.deb" '/man1/sdu\.1\.gz$'
	has "sysring-dkms_${version}_all.deb" "^\./usr/src/sysring-$version/dkms\.conf$"
	has "sysring-dkms_${version}_all.deb" "^\./usr/src/sysring-$version/kmod/Kbuild$"
	has "sysring-dkms_${version}_all.deb" '/udev/rules\.d/60-sysring\.rules$'
	has "sysring-dkms_${version}_all.deb" '/man4/sysring\.ko\.4\.gz$'
	has "sysring-dkms_${version}_all.deb" '^\./usr/lib/sysusers\.d/sysring\.conf$'
	# the module's page goes with the module, in no other package
	for d in $debs; do
		case $d in sysring-dkms_*) continue ;; esac
		checks=$((checks + 1))
		dpkg-deb -c "$work/$d" | grep -q '/man4/' && fail "$d ships a section-4 page"
	done
	checks=$((checks + 1))
	grep -q '^Maintainer: Seed' "$src/debian/control" && fail "debian/control's Maintainer is the seed's placeholder"
	checks=$((checks + 1))
	n=$(dpkg-deb -c "$work/libsysring-dev_${version}_$arch.deb" | grep -c '/man3/.*\.3\.gz')
	[ "$n" -eq "$(find "$src/man/man3" -name '*.3' | wc -l)" ] || fail "libsysring-dev has $n section-3 pages"
	echo "deb build: $checks checks, $fails failed"
	;;
lintian)
	command -v lintian >/dev/null || { echo "SKIP: lintian is not installed"; exit 77; }
	[ -f "$work/sysring_${version}_$arch.changes" ] ||
		{ echo "FAIL: no $work/sysring_${version}_$arch.changes (run deb.sh build first)"; exit 1; }
	checks=$((checks + 1))
	lintian --fail-on error --tag-display-limit 0 "$work/sysring_${version}_$arch.changes" >"$work/lintian.log" 2>&1
	rc=$?
	grep -v 'running with root privileges' "$work/lintian.log"
	[ $rc -eq 0 ] || fail "lintian reports errors (exit $rc)"
	echo "lintian: $(grep -c '^E:' "$work/lintian.log") errors, $(grep -c '^W:' "$work/lintian.log") warnings," \
		"$(grep -c '^I:' "$work/lintian.log") notes"
	;;
install)
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: installing packages needs root"
		exit 77
	fi
	for d in $debs; do
		[ -f "$work/$d" ] || { echo "FAIL: $work/$d is missing (run deb.sh build first)"; exit 1; }
	done
	command -v apt-get >/dev/null || { echo "SKIP: no apt-get"; exit 77; }
	# One test run at a time on this machine installs and purges them.
	exec 9>/var/lock/sysring-deb-test.lock
	flock -w 1200 9 || { echo "FAIL: could not take /var/lock/sysring-deb-test.lock"; exit 1; }
	pkgs="libsysring0 libsysring-dev sysring-tools sysring-dkms"
	apt_opts=(-y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
	export DEBIAN_FRONTEND=noninteractive
	purge() {
		# shellcheck disable=SC2086
		apt-get purge "${apt_opts[@]}" $pkgs >"$work/purge.log" 2>&1
	}
	trap purge EXIT
	paths=()
	for d in $debs; do paths+=("$work/$d"); done
	checks=$((checks + 1))
	if ! apt-get install "${apt_opts[@]}" --no-install-recommends "${paths[@]}" >"$work/install.log" 2>&1; then
		fail "apt-get install of the packages"
		tail -40 "$work/install.log"
		exit 1
	fi
	grep -iE 'dkms|sysring|Building|Error' "$work/install.log" | sed 's/^/  install: /' | tail -15

	cat >"$work/app.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sysring.h>
#include <sysring/batchsys.h>

int main(void)
{
	async_context_t ctx;
	struct async_event ev;
	if (async_setup(8, &ctx))
		return 1;
	struct async_cb *cb = async_cb_new(SYS_getppid, 0);
	struct async_cb *cbs[] = {cb};
	if (async_submit(ctx, 1, cbs) != 1 || async_getevents(ctx, 1, 1, &ev, NULL) != 1 || ev.res != getppid())
		return 2;
	async_cb_free(cb);
	async_destroy(ctx);
	int h = batchsys_open(), fd = open("/dev/null", O_WRONLY);
	batchsys_batch_t *b = batchsys_batch_alloc(h);
	batchsys_push_write(b, fd, "abc", 3);
	if (batchsys_post_batch(h, b) != 1 || batch_batch_get_result(b, 0)->result != 3)
		return 3;
	batchsys_batch_free(b);
	batchsys_close_fd(h, fd);
	batchsys_close(h);
	printf("libsysring %s from the package works\n", sysring_version());
	return 0;
}
C
	unset PKG_CONFIG_PATH
	# shellcheck disable=SC2046
	check "build against libsysring-dev (pkg-config)" cc -Wall -Werror $(pkg-config --cflags sysring) "$work/app.c" \
		$(pkg-config --libs sysring) -o "$work/app"
	check "run it" "$work/app"
	checks=$((checks + 1))
	ldd "$work/app" | grep -Eq "libsysring.so.0 => (/usr)?/lib/[^ ]*/libsysring.so.0" ||
		fail "the program does not load the packaged libsysring.so.0: $(ldd "$work/app" | grep sysring)"
	# shellcheck disable=SC2046
	check "static build (pkg-config --static)" cc -static "$work/app.c" $(pkg-config --static --cflags --libs sysring) \
		-o "$work/app_static"
	check "static run" "$work/app_static"
	mkdir -p "$work/cm"
	cp "$work/app.c" "$work/cm/"
	printf 'cmake_minimum_required(VERSION 3.18)\nproject(c C)\nfind_package(sysring 0.1 REQUIRED)\nadd_executable(app app.c)\ntarget_link_libraries(app PRIVATE sysring::sysring)\n' \
		>"$work/cm/CMakeLists.txt"
	check "find_package against the package" cmake -S "$work/cm" -B "$work/cm/b"
	check "build it" cmake --build "$work/cm/b"
	check "run it" "$work/cm/b/app"
	checks=$((checks + 1))
	a=$(sdu /usr/include | cut -f1)
	b=$(du -s /usr/include | cut -f1)
	[ -n "$a" ] && [ "$a" = "$b" ] || fail "packaged sdu says '$a' for /usr/include, du says '$b'"
	if command -v man >/dev/null; then
		for p in async_submit batchsys_push_writev sysring sdu sysring.ko; do
			check "man $p" man -w "$p"
		done
	fi
	check "group sysring" getent group sysring
	check "sysusers.d entry for the group" test -f /usr/lib/sysusers.d/sysring.conf
	check "udev rule installed" test -f /usr/lib/udev/rules.d/60-sysring.rules -o -f /lib/udev/rules.d/60-sysring.rules
	# DKMS built and installed the module for the kernels whose headers are there
	kver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null | sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')
	if [ -n "$kver" ] && [ -d "/lib/modules/$kver/build" ]; then
		checks=$((checks + 1))
		dkms status sysring 2>/dev/null | grep -q "sysring/$version, $kver, .*installed" ||
			fail "dkms status: $(dkms status sysring 2>&1)"
		ko=$(find "/lib/modules/$kver" -name 'sysring.ko*' | head -1)
		checks=$((checks + 1))
		[ -n "$ko" ] && modinfo -F vermagic "$ko" | grep -q "^$kver " || fail "no sysring.ko for $kver: '$ko'"
		# DKMS ran depmod: modprobe finds the module (for that kernel)
		checks=$((checks + 1))
		modprobe -S "$kver" --show-depends sysring 2>&1 | grep -q "insmod .*/sysring\.ko" ||
			fail "modprobe -S $kver does not find sysring: $(modprobe -S "$kver" --show-depends sysring 2>&1)"
		# no signing noise: without a key nothing is signed, quietly
		checks=$((checks + 1))
		grep -Ei 'SSL error|sign-file' "$work/install.log" && fail "installing sysring-dkms prints signing errors"
		find /var/lib/dkms/sysring -name make.log -exec grep -HEi 'SSL error|sign-file' {} + && fail "the DKMS build log has signing errors"
	else
		echo "note: no kernel headers for an installed kernel: DKMS built nothing"
	fi
	trap - EXIT
	checks=$((checks + 1))
	purge || { fail "apt-get purge"; tail -20 "$work/purge.log"; }
	checks=$((checks + 1))
	[ ! -e "/usr/src/sysring-$version" ] && [ ! -e /usr/include/sysring.h ] &&
		! dkms status sysring 2>/dev/null | grep -q sysring || fail "purging left files behind"
	echo "deb install: $checks checks, $fails failed"
	;;
*)
	echo "usage: deb.sh build|lintian|install SOURCE_DIR WORK_DIR"
	exit 2
	;;
esac
[ $fails -eq 0 ]

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sysring as a user installs and consumes it:
#   1. cmake --install BUILD --prefix P installs the expected files (headers,
#      libsysring.so.0 with its SONAME and versioned symbols, libsysring.so,
#      libsysring.a, sysring.pc naming P, the CMake package, sdu, man pages);
#   2. a C program and a C++ program built with pkg-config against P run,
#      shared and fully static (pkg-config --static);
#   3. a CMake project with find_package(sysring) runs, with sysring::sysring
#      and sysring::sysring_static; a version of another minor is refused;
#   4. the installed sdu runs without LD_LIBRARY_PATH; man finds the pages;
#   5. a project that add_subdirectory()s sysring gets the library and
#      sysring::sysring, and none of sysring's tests, benchmark or examples;
#   6. sysring configures without libuv (only the benchmark needs it);
#   7. without liburing's pkg-config file, configuring fails with a message
#      naming the Debian package liburing-dev.
#
#   install.sh SOURCE_DIR BUILD_DIR
set -u
src=$(readlink -f "$1")
build=$(readlink -f "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/sysring_install.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
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
	if ! "$@" >"$work/log" 2>&1; then
		fail "$what"
		sed 's/^/  /' "$work/log" | tail -30
		return 1
	fi
}
for t in cmake pkg-config cc readelf nm; do
	command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
jobs=$(nproc 2>/dev/null || echo 2)

# ---- 1. the install ----
P=$work/prefix
check "cmake --install" cmake --install "$build" --prefix "$P" || { echo "install: cannot go on"; exit 1; }
so0=$(find "$P" -name libsysring.so.0 | head -1)
[ -n "$so0" ] || { fail "no libsysring.so.0 under $P"; exit 1; }
libdir=$(dirname "$so0")
rel=${libdir#"$P"/}
for f in include/sysring.h include/sysring/async.h include/sysring/syslet.h include/sysring/batchsys.h \
	include/sysring/channel.h include/sysring/uapi.h "$rel/libsysring.so" "$rel/libsysring.so.0" \
	"$rel/libsysring.a" "$rel/pkgconfig/sysring.pc" "$rel/cmake/sysring/sysringConfig.cmake" \
	"$rel/cmake/sysring/sysringConfigVersion.cmake" "$rel/cmake/sysring/sysringTargets.cmake" bin/sdu \
	share/man/man1/sdu.1 share/man/man7/sysring.7 share/man/man3/async_submit.3 \
	share/man/man3/sysring_pop_multiple.3; do
	checks=$((checks + 1))
	[ -e "$P/$f" ] || fail "not installed: $f"
done
checks=$((checks + 1))
n_src=$(find "$src/man/man3" -name '*.3' | wc -l)
n_inst=$(find "$P/share/man/man3" -name '*.3' | wc -l)
[ "$n_src" -eq "$n_inst" ] || fail "$n_inst section-3 pages installed, $n_src in the tree"
checks=$((checks + 1))
[ -L "$P/$rel/libsysring.so" ] && [ -L "$P/share/man/man3/sysring_pop_multiple.3" ] ||
	fail "libsysring.so or a man page link was not installed as a symbolic link"
# what must not be installed: tests, benchmark, examples, the module's tree
# and its page (those go with the module: --component dkms, sysring-dkms)
for f in bin/sysring-bench bin/kv_channel bin/epoll_stat src share/man/man4; do
	checks=$((checks + 1))
	[ ! -e "$P/$f" ] || fail "installed but should not be: $f"
done
checks=$((checks + 1))
readelf -d "$so0" | grep -q 'SONAME.*\[libsysring\.so\.0\]' || fail "SONAME is not libsysring.so.0"
# every exported symbol is versioned and part of the API
bad=$(nm -D --defined-only "$so0" | awk '$2 != "A" {print $3}' |
	grep -Ev '^(async_[a-z_]+|umem_add|sysring_[a-z_]+|batchsys_[a-z0-9_]+)@@SYSRING_0\.1$')
checks=$((checks + 1))
[ -z "$bad" ] || fail "exported symbols outside the API or unversioned: $bad"
checks=$((checks + 1))
grep -qx "prefix=$P" "$P/$rel/pkgconfig/sysring.pc" ||
	fail "sysring.pc does not name the install prefix: $(head -3 "$P/$rel/pkgconfig/sysring.pc")"

# ---- 2. pkg-config ----
export PKG_CONFIG_PATH=$libdir/pkgconfig
cat >"$work/app.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sysring.h>
#include <sysring/batchsys.h>

int main(void)
{
	/* async: getpid through a context */
	async_context_t ctx;
	if (async_setup(8, &ctx))
		return 1;
	struct async_cb *cb = async_cb_new(SYS_getpid, 0);
	struct async_cb *cbs[] = {cb};
	struct async_event ev;
	if (async_submit(ctx, 1, cbs) != 1 || async_getevents(ctx, 1, 1, &ev, NULL) != 1 ||
	    ev.res != getpid())
		return 2;
	async_cb_free(cb);
	async_destroy(ctx);
	/* a batch: two writes to /dev/null */
	int h = batchsys_open();
	batchsys_batch_t *b = batchsys_batch_alloc(h);
	int fd = open("/dev/null", 1);
	batchsys_push_write(b, fd, "ab", 2);
	batchsys_push_write(b, fd, "cde", 3);
	if (batchsys_post_batch(h, b) != 2 || batch_batch_get_result(b, 1)->result != 3)
		return 3;
	batchsys_batch_free(b);
	batchsys_close_fd(h, fd);
	batchsys_close(h);
	printf("sysring %s works\n", sysring_version());
	return strcmp(sysring_version(), "0.0.0") ? 0 : 4;
}
C
sed -i 's/#include <unistd.h>/#include <unistd.h>\n#include <fcntl.h>/' "$work/app.c"
cp "$work/app.c" "$work/app.cpp"
# shellcheck disable=SC2046
check "pkg-config shared build" cc -Wall -Werror $(pkg-config --cflags sysring) "$work/app.c" \
	$(pkg-config --libs sysring) -o "$work/app_shared"
check "pkg-config shared run" env LD_LIBRARY_PATH="$libdir" "$work/app_shared"
checks=$((checks + 1))
LD_LIBRARY_PATH="$libdir" ldd "$work/app_shared" | grep -q "libsysring.so.0 => $libdir/" ||
	fail "app_shared does not load $libdir/libsysring.so.0"
checks=$((checks + 1))
# a program using the shared library needs nothing else at link time
pkg-config --libs sysring | grep -qE 'luring|lpthread' && fail "pkg-config --libs names liburing or pthread"
# shellcheck disable=SC2046
check "pkg-config --static build (-static)" cc -static $(pkg-config --static --cflags sysring) "$work/app.c" \
	$(pkg-config --static --libs sysring) -o "$work/app_static"
check "static run" "$work/app_static"
checks=$((checks + 1))
readelf -d "$work/app_static" 2>/dev/null | grep -q NEEDED && fail "app_static has dynamic dependencies"
if command -v c++ >/dev/null; then
	# shellcheck disable=SC2046
	check "pkg-config C++ build" c++ -std=c++17 -Wall -Wextra -pedantic -Werror $(pkg-config --cflags sysring) \
		"$work/app.cpp" $(pkg-config --libs sysring) -o "$work/app_cxx"
	check "C++ run" env LD_LIBRARY_PATH="$libdir" "$work/app_cxx"
fi

# ---- 3. find_package ----
mkdir -p "$work/cm"
cp "$work/app.c" "$work/cm/app.c"
cat >"$work/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(sysring 0.1 REQUIRED)
add_executable(app_shared app.c)
target_link_libraries(app_shared PRIVATE sysring::sysring)
add_executable(app_static app.c)
target_link_libraries(app_static PRIVATE sysring::sysring_static)
CM
check "find_package configure" cmake -S "$work/cm" -B "$work/cm/build" -DCMAKE_PREFIX_PATH="$P"
check "find_package build" cmake --build "$work/cm/build" -j"$jobs"
# the installed targets carry their RPATH into the build tree
check "find_package shared run" "$work/cm/build/app_shared"
check "find_package static run" "$work/cm/build/app_static"
checks=$((checks + 1))
readelf -d "$work/cm/build/app_static" | grep -q 'NEEDED.*libsysring' && fail "app_static needs libsysring.so"
sed -i 's/find_package(sysring 0.1 REQUIRED)/find_package(sysring 0.2 REQUIRED)/' "$work/cm/CMakeLists.txt"
checks=$((checks + 1))
cmake -S "$work/cm" -B "$work/cm/build2" -DCMAKE_PREFIX_PATH="$P" >/dev/null 2>&1 &&
	fail "find_package(sysring 0.2) accepted version 0.1"

# ---- 4. sdu and man ----
check "installed sdu runs without LD_LIBRARY_PATH" env -u LD_LIBRARY_PATH "$P/bin/sdu" "$P/include"
if command -v man >/dev/null; then
	for p in async_submit sysring_pop_multiple sysring.7 sdu; do
		check "man finds $p" env MANPATH="$P/share/man" man -w "${p%.7}"
	done
fi

# ---- 5. add_subdirectory ----
mkdir -p "$work/sub"
cp "$work/app.c" "$work/sub/app.c"
cat >"$work/sub/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(parent C)
enable_testing()
add_subdirectory("$src" sysring)
add_executable(app app.c)
target_link_libraries(app PRIVATE sysring::sysring)
add_test(NAME parent_app COMMAND app)
CM
check "add_subdirectory configure" cmake -S "$work/sub" -B "$work/sub/build"
ntests=$(cd "$work/sub/build" && ctest -N | sed -n 's/^Total Tests: //p')
checks=$((checks + 1))
[ "$ntests" = 1 ] || fail "add_subdirectory: the parent has $ntests tests, want its own 1"
cmake --build "$work/sub/build" --target help >"$work/targets" 2>&1
for t in sysring-bench sdu kv_channel epoll_stat t_async_basic t_header_cxx; do
	checks=$((checks + 1))
	grep -q "\.\.\. $t\$" "$work/targets" && fail "add_subdirectory adds target $t"
done
check "add_subdirectory build" cmake --build "$work/sub/build" --target app -j"$jobs"
check "add_subdirectory run" "$work/sub/build/app"

# ---- 6. no libuv ----
mkdir -p "$work/pc"
upc=$(pkg-config --variable=pcfiledir liburing 2>/dev/null)
if [ -n "$upc" ]; then
	cp "$upc/liburing.pc" "$work/pc/"
	check "configure without libuv" env PKG_CONFIG_LIBDIR="$work/pc" PKG_CONFIG_PATH= \
		cmake -S "$src" -B "$work/nouv" -DSYSRING_BUILD_TESTS=OFF
	checks=$((checks + 1))
	grep -q "libuv not found" "$work/log" || fail "configure without libuv: no message about the benchmark"
	cmake --build "$work/nouv" --target help >"$work/targets" 2>&1
	checks=$((checks + 1))
	grep -q '\.\.\. sysring-bench$' "$work/targets" && fail "without libuv the benchmark target still exists"
fi

# ---- 7. no liburing ----
mkdir -p "$work/nopc"
checks=$((checks + 1))
if env PKG_CONFIG_LIBDIR="$work/nopc" PKG_CONFIG_PATH= cmake -S "$src" -B "$work/nouring" \
	-DSYSRING_BUILD_TESTS=OFF >"$work/log" 2>&1; then
	fail "configure without liburing.pc succeeded"
elif ! grep -q 'liburing-dev' "$work/log" || grep -q 'A required package was not found' "$work/log"; then
	fail "configure without liburing.pc does not name liburing-dev: $(grep -A3 'CMake Error' "$work/log" | head -8)"
fi

echo "install: $checks checks, $fails failed"
[ $fails -eq 0 ]

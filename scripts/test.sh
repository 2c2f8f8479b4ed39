#!/usr/bin/env bash
# Install what is missing, then build and run the whole test suite:
#   1. the normal build (RelWithDebInfo, -Werror), with the kernel module's
#      tests in a qemu guest (label "guest") and the packaging tests (label
#      "pkg": install + pkg-config + find_package, DKMS, Debian packages)
#   2. ASan + UBSan
#   3. TSan
# Each runs ctest; the script fails if any test fails or if a run found no test.
# SYSRING_TEST_VARIANTS="plain asan tsan" selects variants.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test --guest
variants=${SYSRING_TEST_VARIANTS:-"plain asan tsan"}
jobs=$(nproc)
status=0
start=$(date +%s)
for v in $variants; do
	vstart=$(date +%s)
	case $v in
	plain) dir=build; opts="" ;;
	# (the benchmark is built once, in the plain variant: no test runs it)
	asan) dir=build-asan; opts="-DSYSRING_SANITIZE=address,undefined -DSYSRING_BUILD_BENCH=OFF" ;;
	tsan) dir=build-tsan; opts="-DSYSRING_SANITIZE=thread -DSYSRING_BUILD_BENCH=OFF" ;;
	*) echo "unknown variant $v"; exit 2 ;;
	esac
	echo "=== $v: configure and build ($dir)"
	# shellcheck disable=SC2086
	cmake -S . -B "$dir" -DSYSRING_WERROR=ON $opts >/dev/null
	cmake --build "$dir" -j"$jobs" >/dev/null
	echo "=== $v: ctest"
	runner=""
	# TSan's shadow memory needs a fixed layout; newer kernels randomise
	# mmap too widely for gcc 12's TSan, so run it without ASLR.
	[ "$v" = tsan ] && runner="setarch $(uname -m) -R"
	log="$dir/ctest.log"
	set +e
	# The guest (kernel module) tests boot a qemu guest and the packaging
	# tests build and install the library again: run them once, in the
	# plain variant; the sanitizers instrument only the host library.
	exclude="soak"
	[ "$v" = plain ] || exclude="soak|guest|pkg"
	$runner ctest --test-dir "$dir" --output-on-failure -j"$jobs" -LE "$exclude" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	if ! grep -Eq '^[0-9]+% tests passed, [0-9]+ tests failed out of [1-9][0-9]*' "$log"; then
		echo "=== $v: ctest ran no test"
		rc=1
	fi
	[ $rc -eq 0 ] || status=1
	echo "=== $v: $(($(date +%s) - vstart)) s"
done
echo "=== all variants: $(($(date +%s) - start)) s, $([ $status -eq 0 ] && echo passed || echo FAILED)"
exit $status

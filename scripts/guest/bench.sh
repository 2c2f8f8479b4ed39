#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Print the sysring.ko benchmark table, measured inside a qemu TCG guest.
#
#   scripts/guest/bench.sh [BUILD_DIR] [--quick]
#
# The figures are EMULATED (qemu's translator, not a CPU): only ratios within
# one run mean anything. See tests/guest/kmod_bench.c for what is measured.
# Exit 77 when no guest can run here (the reason is printed).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build-guest}
[ $# -gt 0 ] && shift
append=""
[ "${1:-}" = "--quick" ] && append="SYSRING_BENCH_QUICK=1"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
"$SRC/scripts/guest/run.sh" "$BUILD" --timeout 900 ${append:+--append "$append"} kmod_bench >"$out" 2>&1
rc=$?
set -e
# The table without the harness's prefixes; the verdict line last.
sed -n 's/^\[kmod_bench\] \{0,1\}//p' "$out"
grep -E '^(PASS|FAIL|SKIP)' "$out" | grep -v '^PASS' || true
[ $rc -eq 0 ] || tail -20 "$out"
exit $rc

#!/bin/sh
# Install what is missing, build sysring optimised, and print the benchmark table.
# Extra arguments go to sysring-bench (--quick, --runs N, --json, --only SECTIONS).
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh --bench
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target sysring-bench >/dev/null
# Run from the build directory: plots (batch.svg) are written there.
cd build-release
exec bench/sysring-bench "$@"

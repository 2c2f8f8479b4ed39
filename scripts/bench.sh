#!/bin/sh
# Install what is missing, build sysring optimised, and print the benchmark table.
#
# Extra arguments go to sysring-bench:
#   --quick            a tenth of the iterations, 3 samples per figure, a 30,000-file tree
#   --runs N           samples per figure (default 5)
#   --only LIST        sections: async ring inline uring batch chan files tree
#   --reverse          every comparison (and the sections) in reverse order
#   --both-orders      half the rounds in each order, both ratios printed
#   --no-cold          skip the rows that drop the page cache (they need root)
#   --tree-files N     size of the generated tree (default 170000)
#   --dir DIR          where files and trees are generated (default /var/tmp)
#   --full             chan's full message counts (by default a quarter)
#   --json             rows as JSON
#   --profile PATTERN  only the matching contenders, in-process (for perf, strace)
# The table goes to stdout, progress to stderr; plots (targets.svg, batch.svg,
# tree.svg) are written into build-release/. Most of the time goes to the
# cold-cache rows and the 170,000-file tree; the script prints how long the run
# took (on the 2-CPU development VM with a load average of 10-16 from other
# work: about 10-13 minutes by default, 3-4 with --quick).
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh --bench
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target sysring-bench >/dev/null
# Run from the build directory: plots are written there.
cd build-release
start=$(date +%s)
status=0
bench/sysring-bench "$@" || status=$?
echo "sysring-bench took $(($(date +%s) - start)) s; plots in $(pwd)" >&2
exit $status

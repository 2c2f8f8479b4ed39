#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every public header compiles alone, as the first and only include of a
# translation unit, as C99, C11 and C++17 with -Wall -Wextra -pedantic
# -Werror (and -Wshadow), with gcc/g++ and (when installed) clang/clang++, and without
# _GNU_SOURCE or any other feature macro. <sysring.h> must not define
# Batchsys's generic names (a program may have its own enum Syscall, kRead,
# read_params_t, ...); <sysring/batchsys.h> must still provide them.
#
#   headers.sh INCLUDE_DIR
set -u
inc=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/sysring_headers.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
fails=0
checks=0

compilers=()
for c in gcc:g++ clang:clang++; do
	cc=${c%%:*}
	cxx=${c##*:}
	command -v "$cc" >/dev/null && compilers+=("$cc:c99" "$cc:c11")
	command -v "$cxx" >/dev/null && compilers+=("$cxx:c++17")
done
command -v g++ >/dev/null || command -v clang++ >/dev/null || {
	echo "SKIP: no C++ compiler (install g++)"
	exit 77
}

compile() { # compiler:std file [extra flags]
	local comp=${1%%:*} std=${1##*:} src=$2
	shift 2
	checks=$((checks + 1))
	if ! "$comp" -std="$std" -Wall -Wextra -pedantic -Wshadow -Werror "$@" -I"$inc" -c "$src" -o "$work/out.o" \
		>"$work/log" 2>&1; then
		fails=$((fails + 1))
		echo "FAIL: $comp -std=$std: $(head -c 300 "$src" | tr '\n' ' ')"
		sed 's/^/  /' "$work/log" | head -20
	fi
}

headers=$(cd "$inc" && find . -name '*.h' | sed 's|^\./||' | sort)
[ -n "$headers" ] || { echo "FAIL: no header under $inc"; exit 1; }
for h in $headers; do
	for cs in "${compilers[@]}"; do
		case $cs in *++*) ext=cpp ;; *) ext=c ;; esac
		printf '#include <%s>\n' "$h" >"$work/t.$ext"
		compile "$cs" "$work/t.$ext"
	done
done

# The umbrella header leaves Batchsys's names to the program.
cat >"$work/names.c" <<'C'
#include <sysring.h>
enum Syscall { kRead, kWrite, kClose, kSocket };
typedef int read_params_t;
typedef int write_params_t;
typedef int syscall_result_t;
int kAccept = 0;
int main(void) { async_context_t ctx = 0; (void)ctx; return kRead + kAccept; }
C
cp "$work/names.c" "$work/names.cpp"
for cs in "${compilers[@]}"; do
	case $cs in *++*) compile "$cs" "$work/names.cpp" ;; *) compile "$cs" "$work/names.c" ;; esac
done
# ... and Batchsys's programs still get them, alongside the umbrella.
cat >"$work/bs.c" <<'C'
#include <sysring.h>
#include <sysring/batchsys.h>
int main(void)
{
	enum Syscall s = kRead;
	read_params_t p;
	syscall_result_t r;
	(void)p; (void)r;
	return (int)s + (int)sizeof(batchsys_batch_t) - 4056;
}
C
cp "$work/bs.c" "$work/bs.cpp"
for cs in "${compilers[@]}"; do
	case $cs in *++*) compile "$cs" "$work/bs.cpp" ;; *) compile "$cs" "$work/bs.c" ;; esac
done

echo "headers: $checks compilations, $fails failed (${compilers[*]})"
[ $fails -eq 0 ]

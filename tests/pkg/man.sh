#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The man pages: lint-clean for mandoc (-T lint, every level) and groff
# (-ww); every function the shared library exports, and every inline function
# of the public headers, has a section-3 page (its own, or a link to the page
# of its group) whose NAME lists it and whose SYNOPSIS declares it; every
# section-3 page names only functions that exist and has NAME, SYNOPSIS,
# DESCRIPTION, RETURN VALUE, ERRORS, NOTES and SEE ALSO in that order; every
# reference to a sysring page points at one that exists.
#
#   man.sh MAN_DIR LIBSYSRING_SO [INCLUDE_DIR]
set -u
man=$(readlink -f "$1")
lib=$(readlink -f "$2")
inc=$(readlink -f "${3:-$man/../include}")
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
command -v nm >/dev/null || { echo "SKIP: no nm (binutils)"; exit 77; }
command -v mandoc >/dev/null || command -v groff >/dev/null ||
	{ echo "SKIP: neither mandoc nor groff is installed (apt-get install mandoc)"; exit 77; }

cd "$man" || exit 1
pages=$(find . -name '*.[0-9]' -type f | sed 's|^\./||' | sort)
links=$(find . -name '*.[0-9]' -type l | sed 's|^\./||' | sort)
[ -n "$pages" ] || { echo "FAIL: no page in $man"; exit 1; }

# ---- lint ----
if command -v mandoc >/dev/null; then
	# shellcheck disable=SC2086
	out=$(mandoc -T lint $pages 2>&1)
	[ -z "$out" ] || fail "mandoc -T lint:"$'\n'"$out"
fi
if command -v groff >/dev/null; then
	# shellcheck disable=SC2086
	if [ -n "$(groff -ww -z -man $pages 2>&1)" ]; then
		for p in $pages; do # which ones
			out=$(groff -ww -z -man "$p" 2>&1)
			[ -z "$out" ] || fail "groff -ww $p:"$'\n'"$out"
		done
	fi
fi

# NAME's names of a page: the text between .SH NAME and the next .SH, up to \-
names_of() {
	awk '/^\.SH /{insec = ($2 == "NAME"); next} insec {print}' "$1" | tr '\n' ' ' |
		sed 's/\\-.*//; s/,/ /g'
}
synopsis_of() {
	awk '/^\.SH /{insec = ($2 == "SYNOPSIS"); next} insec {print}' "$1" | tr -d '"'
}

# ---- section 3: structure ----
want="NAME SYNOPSIS DESCRIPTION RETURN VALUE ERRORS NOTES SEE ALSO"
for p in $pages; do
	case $p in man3/*) ;; *) continue ;; esac
	got=$(awk '/^\.SH /{sub(/^\.SH +/, ""); gsub(/"/, ""); print}' "$p" | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$want" ] || fail "$p: sections are '$got', want '$want'"
done

# ---- coverage: exported and inline functions ----
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TW]$/ {sub(/@.*/, "", $3); print $3}' | sort -u)
[ -n "$syms" ] || fail "no exported function in $lib"
inlines=$(cat "$inc"/sysring.h "$inc"/sysring/*.h |
	sed -n 's/^static inline [^(]*[ *]\([a-z_][a-z0-9_]*\)(.*/\1/p' | sort -u)
covered=0
for s in $syms $inlines; do
	p=man3/$s.3
	if [ ! -e "$p" ]; then
		fail "$s has no page ($p)"
		continue
	fi
	real=$(readlink -f "$p")
	names_of "$real" | tr ' ' '\n' | grep -qx "$s" || fail "$p: NAME of $(basename "$real") does not list $s"
	synopsis_of "$real" | grep -q "[ *]$s(" || fail "$p: SYNOPSIS of $(basename "$real") does not declare $s"
	covered=$((covered + 1))
done
# every name on a page is a function that exists
for p in $pages; do
	case $p in man3/*) ;; *) continue ;; esac
	for n in $(names_of "$p"); do
		echo "$syms $inlines" | tr ' ' '\n' | grep -qx "$n" || fail "$p names $n, which the library does not have"
	done
done
for l in $links; do
	[ -e "$l" ] || fail "$l: dangling link"
done

# ---- references to sysring's pages ----
for p in $pages; do
	grep -o '^\.BR [a-z_.]* ([0-9])' "$p" | while read -r _ name sec; do
		sec=${sec//[()]/}
		case $name in
		async_* | sys_async_* | sysring* | batchsys_* | batch_batch_* | umem_add | sdu)
			[ -e "man$sec/$name.$sec" ] || echo "FAIL: $p refers to $name($sec), which has no page"
			;;
		esac
	done
done | tee "${TMPDIR:-/tmp}/sysring_man_refs.$$"
[ -s "${TMPDIR:-/tmp}/sysring_man_refs.$$" ] && fails=$((fails + $(wc -l <"${TMPDIR:-/tmp}/sysring_man_refs.$$")))
rm -f "${TMPDIR:-/tmp}/sysring_man_refs.$$"

nfull=$(echo "$pages" | grep -c '^man3/')
echo "man: $(echo "$pages" | wc -w) pages ($nfull full section-3 pages), $(echo "$links" | wc -w) links;" \
	"$covered functions covered ($(echo "$syms" | wc -w) exported, $(echo "$inlines" | wc -w) inline); $fails failures"
[ $fails -eq 0 ]

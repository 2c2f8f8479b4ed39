#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sdu against GNU du -s on generated trees: same stdout, the same messages on
# stderr (du's "du:" read as "sdu:", compared as sorted sets: the walks visit
# entries in different orders), the same exit status; for both of sdu's
# walkers (syslets, --plain). compare_mixed also checks that stdout and
# stderr interleave as du's do when they share a pipe (each FILE's messages
# before its line).
#
#   sdu_du.sh SDU CASE     CASE: tree | options | unreadable | mount | fds
#   (SDU_DU_QUICK=1: fewer option combinations, for sanitizer builds)
#
# Exit 0 pass, 1 fail, 77 skip (with the reason).
set -u
SDU=$(readlink -f "$1")
CASE=$2
export LC_ALL=C
unset DU_BLOCK_SIZE BLOCK_SIZE BLOCKSIZE POSIXLY_CORRECT

command -v du >/dev/null || { echo "SKIP: no du"; exit 77; }
du --version 2>/dev/null | grep -q GNU || { echo "SKIP: du is not GNU du"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sdu_du.XXXXXX") || exit 1
cleanup() {
	[ -n "${mnt:-}" ] && umount "$mnt" 2>/dev/null
	chmod -R u+rwx "$work" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
fails=0
checks=0
RUNAS=()

# compare DIR ARGS...: run du -s ARGS and sdu ARGS (both walkers) in DIR.
compare() {
	local dir=$1
	shift
	(cd "$dir" && "${RUNAS[@]}" du -s "$@" >"$work/du.out" 2>"$work/du.err")
	local du_rc=$?
	sed "s/^du: /sdu: /; s/^Try 'du --help'/Try 'sdu --help'/" "$work/du.err" | sort >"$work/du.err.s"
	for mode in syslet plain; do
		local extra=()
		[ $mode = plain ] && extra=(--plain)
		(cd "$dir" && "${RUNAS[@]}" "$SDU" "${extra[@]}" "$@" >"$work/sdu.out" 2>"$work/sdu.err")
		local rc=$?
		sort "$work/sdu.err" >"$work/sdu.err.s"
		checks=$((checks + 1))
		if [ $rc -ne $du_rc ] || ! cmp -s "$work/du.out" "$work/sdu.out" ||
			! cmp -s "$work/du.err.s" "$work/sdu.err.s"; then
			fails=$((fails + 1))
			echo "FAIL ($mode) in $dir: sdu $* (exit $rc) vs du -s $* (exit $du_rc)"
			diff "$work/du.out" "$work/sdu.out" | sed 's/^/  stdout: /'
			diff "$work/du.err.s" "$work/sdu.err.s" | sed 's/^/  stderr: /'
		fi
	done
}

# compare_mixed DIR ARGS...: stdout and stderr into one pipe; the messages
# between two lines of stdout are compared as sets (the walks visit entries
# in different orders), the segments in order.
segments() { # the merged output, each run of messages sorted, lines kept in place
	awk '/^s?du: / { m[n++] = $0; next } { flush(); print } END { flush() }
	     function flush(  i, j, t) { for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (m[j] < m[i]) { t = m[i]; m[i] = m[j]; m[j] = t }
	                                 for (i = 0; i < n; i++) print m[i]; n = 0 }'
}
compare_mixed() {
	local dir=$1
	shift
	(cd "$dir" && "${RUNAS[@]}" du -s "$@" 2>&1 | cat) | sed 's/^du: /sdu: /' | segments >"$work/du.mix"
	for mode in syslet plain; do
		local extra=()
		[ $mode = plain ] && extra=(--plain)
		(cd "$dir" && "${RUNAS[@]}" "$SDU" "${extra[@]}" "$@" 2>&1 | cat) | segments >"$work/sdu.mix"
		checks=$((checks + 1))
		if ! cmp -s "$work/du.mix" "$work/sdu.mix"; then
			fails=$((fails + 1))
			echo "FAIL ($mode) in $dir: sdu $* 2>&1 does not interleave as du -s $* 2>&1"
			diff "$work/du.mix" "$work/sdu.mix" | sed 's/^/  /'
		fi
	done
}

# A tree with what du has rules for: hard links (inside one FILE and across
# FILEs), sparse and preallocated files, symbolic links (short, long,
# dangling, to a directory), a FIFO, empty directories, a directory larger
# than one getdents buffer, names with spaces and quotes, nesting.
make_tree() {
	local r=$1
	mkdir -p "$r"/a/b/c/d "$r"/e "$r/sp ace" "$r/q'uote" "$r"/big "$r"/empty "$r"/-h
	for i in $(seq 1 40); do
		head -c $((i * 397)) /dev/zero >"$r/a/f$i"
		head -c $((i * 1031)) /dev/zero >"$r/a/b/g$i"
	done
	echo data >"$r/a/b/c/d/deep"
	for i in $(seq 1 1500); do : >"$r/big/entry-with-a-rather-long-name-number-$i"; done
	head -c 70000 /dev/zero >"$r/e/linked"
	ln "$r/e/linked" "$r/e/linked2"
	ln "$r/e/linked" "$r/a/b/linked3"
	truncate -s 50M "$r/e/sparse"
	dd if=/dev/zero of="$r/e/sparse2" bs=4096 count=3 seek=1000 conv=notrunc status=none
	fallocate -l 1M "$r/e/prealloc" 2>/dev/null || head -c 1048576 /dev/zero >"$r/e/prealloc"
	ln -s f1 "$r/a/short-link"
	ln -s "$(printf 'x%.0s' $(seq 1 200))" "$r/a/long-dangling-link"
	ln -s ../e "$r/a/dirlink"
	mkfifo "$r/e/fifo"
	echo x >"$r/sp ace/f"
	echo y >"$r/q'uote/f"
	echo z >"$r/-h/f"
}

case $CASE in
tree)
	t=$work/t
	make_tree "$t"
	optsets=("" "-h" "--apparent-size" "-h --apparent-size" "-c" "-x" "-b" "-hc --apparent-size")
	# under sanitizers (slow), fewer option sets: the walk is the same
	[ -n "${SDU_DU_QUICK:-}" ] && optsets=("" "-hcx --apparent-size")
	for opts in "${optsets[@]}"; do
		# shellcheck disable=SC2086
		compare "$work" $opts t
		# several FILEs: in order, hard links and repeated or nested FILEs
		# counted once, a missing FILE reported while the rest print
		# shellcheck disable=SC2086
		compare "$t" $opts a e a a/b "sp ace" "q'uote" e/linked missing a/dirlink a/dirlink/ big
		# shellcheck disable=SC2086
		compare "$t" $opts a/b a
		# shellcheck disable=SC2086
		compare "$t" $opts -- -h ./
	done
	compare "$t/a"
	compare "$t" -c e/sparse e/sparse2 e/prealloc e/fifo a/short-link
	;;
options)
	t=$work/t
	mkdir -p "$t"
	# du -h's rounding: sizes around each unit boundary, as apparent sizes
	# of sparse files (one FILE each, so nothing is counted twice)
	args=()
	for n in 0 1 512 1023 1024 1025 1536 10239 10240 10241 10752 102400 1048575 1048576 1048577 \
		10485759 10485760 10485761 1073741823 1073741824 1073741825 1099511627776 1099511627777; do
		truncate -s $n "$t/s$n"
		args+=("s$n")
	done
	compare "$t" -h --apparent-size "${args[@]}"
	compare "$t" --apparent-size "${args[@]}"
	compare "$t" -b "${args[@]}"
	compare "$t" -hc --apparent-size "${args[@]}"
	compare "$t" -sch s0 s1024
	# options sdu does not take, --help, --version
	checks=$((checks + 1))
	out=$("$SDU" --help) && echo "$out" | grep -q '^Usage: sdu' || { echo "FAIL: --help"; fails=$((fails + 1)); }
	checks=$((checks + 1))
	out=$("$SDU" --version) && echo "$out" | grep -Eq '^sdu \(sysring\) [0-9]+\.[0-9]+\.[0-9]+$' ||
		{ echo "FAIL: --version: $out"; fails=$((fails + 1)); }
	# du's messages for what it does not take: every invalid letter of a
	# group, unknown and ambiguous long options, an argument given to a
	# flag; a zero-length FILE name (the other FILEs still count)
	for bad in -q -wier -xQz --no-such-option --h --apparent-size=3 --he=x "-s -wier" "-wq -c --zz -y"; do
		# shellcheck disable=SC2086
		compare "$t" $bad s0
	done
	# -weird: du's -d (--max-depth) wants an argument, sdu has no -d: the
	# other letters are reported as du reports them, and d as invalid
	checks=$((checks + 1))
	du -s -weird >/dev/null 2>"$work/du.err"
	"$SDU" -s -weird >"$work/o" 2>"$work/e"
	rc=$?
	if [ $rc -ne 1 ] || [ -s "$work/o" ] ||
		[ "$(grep -v "'d'" "$work/du.err" | sed "s/^du: /sdu: /; s/'du --help'/'sdu --help'/")" != \
			"$(grep -v "'d'" "$work/e")" ] || ! grep -qx "sdu: invalid option -- 'd'" "$work/e"; then
		echo "FAIL: sdu -s -weird: exit $rc, stderr '$(cat "$work/e")'; du said '$(cat "$work/du.err")'"
		fails=$((fails + 1))
	fi
	compare "$t" ''
	compare "$t" -c s1024 '' s0
	for bad in -q --no-such-option; do
		checks=$((checks + 1))
		"$SDU" $bad "$t" >"$work/o" 2>"$work/e"
		rc=$?
		if [ $rc -ne 1 ] || [ -s "$work/o" ] || ! grep -q "Try 'sdu --help'" "$work/e"; then
			echo "FAIL: sdu $bad: exit $rc, stdout '$(cat "$work/o")', stderr '$(cat "$work/e")'"
			fails=$((fails + 1))
		fi
	done
	;;
unreadable)
	# Permissions bind everyone but root: as root, run both as nobody.
	t=$work/t
	make_tree "$t"
	mkdir -p "$t/closed/inner" "$t/noexec" "$t/noread" "$t/a/closed2"
	echo hidden >"$t/closed/inner/f"
	echo f >"$t/noexec/f"
	echo g >"$t/noexec/g"
	echo h >"$t/noread/h"
	if [ "$(id -u)" -eq 0 ]; then
		command -v setpriv >/dev/null || { echo "SKIP: root, and no setpriv to drop to an unprivileged user"; exit 77; }
		id nobody >/dev/null 2>&1 || { echo "SKIP: root, and no user 'nobody' to run as"; exit 77; }
		RUNAS=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --inh-caps=-all)
		chown -R nobody "$t"
		# the binary and its library where nobody can read them
		mkdir "$work/bin"
		cp "$SDU" "$work/bin/sdu"
		for lib in $(ldd "$SDU" | awk '/libsysring/ {print $3}'); do cp "$lib" "$work/bin/"; done
		chmod -R a+rX "$work/bin"
		SDU=$work/bin/sdu
		export LD_LIBRARY_PATH=$work/bin
	fi
	chmod 000 "$t/closed" "$t/a/closed2" # cannot read directory
	chmod 644 "$t/noexec"                # entries cannot be stat'ed: cannot access
	chmod 311 "$t/noread"                # search but no read: cannot read directory
	compare "$work" t
	compare "$t" -c a closed noexec noread e
	compare "$t" -h --apparent-size closed
	compare "$t" -x a
	compare_mixed "$t" -c a closed e noread noexec missing
	;;
mount)
	# -x stops at a mount point and leaves it out; without -x it is counted.
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: mounting a tmpfs needs root"; exit 77; }
	t=$work/t
	make_tree "$t"
	mkdir -p "$t/a/mnt"
	if ! mount -t tmpfs -o size=16m sdu_du "$t/a/mnt" 2>"$work/mount.err"; then
		echo "SKIP: cannot mount a tmpfs here: $(cat "$work/mount.err")"
		exit 77
	fi
	mnt=$t/a/mnt
	mkdir -p "$mnt/sub"
	head -c 300000 /dev/urandom >"$mnt/sub/data"
	ln "$mnt/sub/data" "$mnt/link"
	for opts in "" "-x" "-x --apparent-size" "--apparent-size" "-xc" "-xh"; do
		# shellcheck disable=SC2086
		compare "$t" $opts a
		# shellcheck disable=SC2086
		compare "$t" $opts a/mnt a/mnt/sub e
	done
	;;
fds)
	# Few descriptors: a wide and deep tree (deeper than the descriptors
	# left at the lowest limits) must still be walked whole, as du walks it
	# (directories waiting for a descriptor are retried, not reported), and
	# so must a real tree. Descriptors this script inherits count against
	# the limit, as they do for a user's shell.
	command -v prlimit >/dev/null || { echo "SKIP: no prlimit"; exit 77; }
	t=$work/t
	for i in $(seq 1 60); do
		p="$t/w$i"
		for j in $(seq 1 12); do p="$p/d$j"; done
		mkdir -p "$p"
		echo x >"$p/leaf"
	done
	mkdir -p "$t/wide"
	for i in $(seq 1 200); do mkdir "$t/wide/$i"; echo x >"$t/wide/$i/f"; done
	# a comb: every level has more siblings of the next than the lowest
	# limits leave descriptors, so a depth-first walk keeps the descriptors
	# of most levels (for the siblings still to open) while it goes down:
	# at 12, sdu has to give some back and open by path
	p=$t/comb
	for j in $(seq 1 30); do
		mkdir -p "$p/n" "$p/x1/s" "$p/x2" "$p/x3" "$p/x4" "$p/x5" "$p/x6" "$p/x7"
		echo x >"$p/x1/f"
		p=$p/n
	done
	make_tree "$t/full"
	for n in 12 16 20 48; do
		RUNAS=(prlimit --nofile=$n:$n)
		compare "$work" t
		compare "$t" -c w1 wide w2/d1 full comb
	done
	;;
*)
	echo "unknown case $CASE"
	exit 2
	;;
esac

echo "$CASE: $checks comparisons, $fails failed"
[ $checks -gt 0 ] && [ $fails -eq 0 ]

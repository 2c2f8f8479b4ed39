#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Test sysring.ko in a qemu guest running Debian's 6.1 kernel.
#
#   scripts/guest/run.sh BUILD_DIR [options] [TEST...]
#
# TEST is the name of a program in tests/guest/ (kmod_batch, kmod_fuzz, ...)
# or the path of an extra statically linked binary (the library's own tests,
# built by kmod/guest.cmake), run in the guest with /dev/sysring present.
# Without TEST: every tests/guest/*.c except the benchmark.
#
# Options:
#   --timeout S     hard limit for the whole guest run (default 480 s)
#   --append ARGS   extra kernel command-line words (FOO=bar reaches the
#                   guest programs as environment variables)
#   --run LABEL ENV PATH
#                   run the static binary PATH, reported as LABEL, with the
#                   environment words ENV ("A=1 B=2"; "" or - for none)
#   --no-tests      only what is named (with --run), not tests/guest/*.c
#
# What it does, caching everything it can under BUILD_DIR/guest:
#   1. the guest kernel: apt-get download linux-image-$KVER (KVER from the
#      installed linux-headers-amd64), extract vmlinuz, decompress its XZ
#      payload to an ELF vmlinux that qemu boots through the PVH entry;
#   2. the module: a copy of kmod/ with the shared headers, built with
#      make -C /usr/src/linux-headers-$KVER M=... (the source tree stays clean);
#   3. the guest programs: gcc -static from tests/guest/*.c;
#   4. an initramfs: static busybox, the .ko, the programs, an /init that
#      loads the module, runs each program with a timeout, and reports the
#      result and the kernel log of each;
#   5. qemu-system-x86_64 -accel tcg under `timeout` (KVM here is PVM, which
#      Debian's kernel does not boot on; see ../shared/GUEST.md);
#   6. the serial console parsed into PASS/FAIL/SKIP lines. Any BUG:,
#      WARNING:, Oops or general protection in the guest's kernel log fails
#      the run, as does a guest that does not finish.
#
# Exit: 0 all passed (or skipped), 1 a failure, 77 cannot run here (reason
# printed): no qemu, no headers, no kernel and no apt access, ...
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
usage() {
	sed -n '4,22p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}
[ $# -ge 1 ] || usage
BUILD=$1
shift
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
WORK=$BUILD/guest
LIMIT=480
APPEND=""
names=()
# extra runs: parallel arrays of label, binary path, environment words
xlabel=()
xpath=()
xenv=()
no_tests=0
abspath() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) LIMIT=$2; shift 2 ;;
	--append) APPEND="$APPEND $2"; shift 2 ;;
	--no-tests) no_tests=1; shift ;;
	--run)
		if [ $# -lt 4 ] || [ ! -f "$4" ]; then
			echo "run.sh: --run LABEL ENV PATH: no file ${4:-}" >&2
			exit 2
		fi
		xlabel+=("$2"); xpath+=("$(abspath "$4")")
		if [ "$3" = - ]; then xenv+=(""); else xenv+=("$3"); fi
		shift 4
		;;
	-h|--help) usage ;;
	-*) echo "unknown option $1"; usage ;;
	*)
		if [ -f "$1" ]; then
			xlabel+=("$(basename "$1")"); xenv+=(""); xpath+=("$(abspath "$1")")
		elif [ -f "$SRC/tests/guest/$1.c" ]; then
			names+=("$1")
		else
			echo "run.sh: no guest test or file named $1" >&2
			exit 2
		fi
		shift
		;;
	esac
done

skip() {
	echo "SKIP: guest tests: $*"
	exit 77
}
log() { echo "[guest] $*"; }

# A static ELF executable: no program interpreter.
is_static() {
	[ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ] &&
		! readelf -l "$1" 2>/dev/null | grep -q 'program interpreter'
}

# ---- what this machine must have ----------------------------------------
for tool in qemu-system-x86_64 cpio gzip xz gcc make dpkg-deb readelf flock; do
	command -v $tool >/dev/null 2>&1 || skip "$tool not installed (scripts/deps.sh --guest)"
done
BUSYBOX=/bin/busybox
is_static "$BUSYBOX" || skip "no static busybox at $BUSYBOX (package busybox-static)"
KVER=${SYSRING_GUEST_KVER:-$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
	sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')}
[ -n "$KVER" ] || skip "linux-headers-amd64 not installed (scripts/deps.sh --guest)"
KDIR=/usr/src/linux-headers-$KVER
[ -d "$KDIR" ] || skip "$KDIR missing"

mkdir -p "$WORK"
# One guest run at a time per build tree (ctest -j, bench.sh alongside).
exec 9>"$WORK/.lock"
flock 9

# ---- 1. the guest kernel, cached -----------------------------------------
KCACHE=$WORK/kernel
VMLINUX=$KCACHE/vmlinux-$KVER
mkdir -p "$KCACHE"
if [ ! -s "$VMLINUX" ]; then
	debs=("$KCACHE"/linux-image-"$KVER"_*.deb)
	deb=${debs[0]}
	if [ ! -f "$deb" ]; then
		log "downloading linux-image-$KVER"
		(cd "$KCACHE" && apt-get download "linux-image-$KVER" >/dev/null 2>&1) ||
			skip "cannot apt-get download linux-image-$KVER (no apt access?)"
		debs=("$KCACHE"/linux-image-"$KVER"_*.deb)
		deb=${debs[0]}
	fi
	log "extracting vmlinuz-$KVER"
	rm -rf "$KCACHE/x" && mkdir -p "$KCACHE/x"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$KCACHE/x" "./boot/vmlinuz-$KVER"
	bz=$KCACHE/x/boot/vmlinuz-$KVER
	# The bzImage's payload is XZ; decompressed it is the ELF vmlinux,
	# which qemu boots directly (PVH), skipping the slow decompressor.
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | head -1 | cut -d: -f1)
	[ -n "$off" ] || skip "no XZ payload in vmlinuz-$KVER"
	# xz stops with an error at the trailing bytes after the stream.
	tail -c +$((off + 1)) "$bz" | xz -dc >"$VMLINUX.tmp" 2>/dev/null || true
	if [ "$(head -c 4 "$VMLINUX.tmp" | od -An -c | tr -d ' ')" != '177ELF' ]; then
		rm -f "$VMLINUX.tmp"
		skip "could not decompress vmlinuz-$KVER to an ELF vmlinux"
	fi
	mv "$VMLINUX.tmp" "$VMLINUX"
	rm -rf "$KCACHE/x" "$deb"
fi

# ---- 2. the module, built in a copy ---------------------------------------
KB=$WORK/kmod-tree
rm -rf "$KB" && mkdir -p "$KB/src"
cp -r "$SRC/kmod" "$SRC/include" "$KB/"
cp -r "$SRC/src/core" "$SRC/src/table" "$KB/src/"
log "building sysring.ko against $KVER"
# (warnings are errors here, for us; not in the shipped build: kmod/Kbuild)
if ! make -C "$KDIR" M="$KB/kmod" SYSRING_KMOD_WERROR=1 modules >"$WORK/kmod-build.log" 2>&1; then
	cat "$WORK/kmod-build.log"
	echo "FAIL: module build"
	exit 1
fi
KO=$KB/kmod/sysring.ko

# ---- 3. the guest programs ------------------------------------------------
BIN=$WORK/bin
mkdir -p "$BIN"
if [ ${#names[@]} -eq 0 ] && [ $no_tests -eq 0 ] && { [ ${#xpath[@]} -eq 0 ] || [ -n "${SYSRING_GUEST_ALL:-}" ]; }; then
	for c in "$SRC"/tests/guest/*.c; do
		n=$(basename "$c" .c)
		[ "$n" = kmod_bench ] && continue
		names+=("$n")
	done
fi
for n in "${names[@]}"; do
	c=$SRC/tests/guest/$n.c
	if [ ! -x "$BIN/$n" ] || [ -n "$(find "$SRC/tests/guest/" "$SRC/include/sysring" \
		"$SRC/src/table/syscalls.def" -type f -newer "$BIN/$n" 2>/dev/null | head -1)" ]; then
		gcc -static -O2 -g0 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
			-I"$SRC/include" -I"$SRC/tests/guest" -o "$BIN/$n" "$c" -luring -lpthread ||
			{ echo "FAIL: building $n"; exit 1; }
	fi
done

# ---- 4. the initramfs -----------------------------------------------------
ROOT=$WORK/initramfs
rm -rf "$ROOT" && mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,tests}
cp "$BUSYBOX" "$ROOT/bin/busybox"
cp "$KO" "$ROOT/sysring.ko"
order=()
: >"$ROOT/tests/list"
for n in "${names[@]}"; do
	cp "$BIN/$n" "$ROOT/tests/$n"
	order+=("$n")
	echo "$n $n" >>"$ROOT/tests/list"
done
for i in "${!xpath[@]}"; do
	x=${xpath[$i]}
	b=$(basename "$x")
	is_static "$x" || { echo "FAIL: $x is not statically linked"; exit 1; }
	[ -e "$ROOT/tests/$b" ] || cp "$x" "$ROOT/tests/$b"
	order+=("${xlabel[$i]}")
	echo "${xlabel[$i]} $b ${xenv[$i]}" >>"$ROOT/tests/list"
done
cat >"$ROOT/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
# Loopback for the programs that use sockets.
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
echo "SR-BOOT $(uname -r) cpus=$(nproc)"
# Kernel messages go to the log only; each test's are printed after it.
echo 1 >/proc/sys/kernel/printk
export SYSRING_KO=/sysring.ko
if ! insmod /sysring.ko; then
	echo "SR-INSMOD-FAILED"
	dmesg | sed 's/^/SR-KMSG /'
	poweroff -f
fi
dmesg -c | sed 's/^/SR-KMSG /'
while read -r t bin envs; do
	# A program that unloads the module must put it back; if not, say so.
	[ -e /dev/sysring ] || { echo "SR-MODULE-MISSING before $t"; insmod /sysring.ko; }
	echo "SR-START $t"
	t0=$(cut -d' ' -f1 /proc/uptime)
	# busybox sh has no PIPESTATUS: the exit code goes through a file.
	(cd /tmp && env $envs timeout ${SR_TEST_TIMEOUT:-300} /tests/$bin </dev/null; echo $? >/.rc) 2>&1 |
		sed "s/^/[$t] /"
	t1=$(cut -d' ' -f1 /proc/uptime)
	dmesg -c | sed 's/^/SR-KMSG /'
	echo "SR-RESULT $t $(cat /.rc) $t0 $t1"
done </tests/list
# Every context is closed now: the module must unload.
if rmmod sysring; then echo "SR-RMMOD ok"; else echo "SR-RMMOD-FAILED"; fi
dmesg -c | sed 's/^/SR-KMSG /'
echo "SR-DONE"
poweroff -f
EOF
chmod +x "$ROOT/init"
(cd "$ROOT" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$WORK/initramfs.cpio.gz"

# ---- 5. boot ----------------------------------------------------------------
SERIAL=$WORK/serial.log
[ ${#order[@]} -gt 0 ] || { echo "run.sh: nothing to run" >&2; exit 2; }
log "booting $KVER under TCG (${#order[@]} programs, limit ${LIMIT}s)"
t0=$(date +%s%N)
set +e
# nokaslr: the fuzzer's "kernel address" arguments then point at the real
# kernel text and direct map.
timeout -k 5 "$LIMIT" qemu-system-x86_64 -M pc -accel tcg -cpu max -smp 2 -m 768M \
	-nographic -no-reboot -kernel "$VMLINUX" -initrd "$WORK/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 oops=panic nokaslr $APPEND" \
	</dev/null >"$SERIAL" 2>&1
qrc=$?
set -e
t1=$(date +%s%N)
log "guest ran $(awk "BEGIN{printf \"%.1f\", ($t1 - $t0) / 1e9}") s (qemu exit $qrc)"

# ---- 6. results -------------------------------------------------------------
# The programs' own output, then one verdict per program.
tr -d '\r' <"$SERIAL" >"$SERIAL.txt"
grep -E '^\[[A-Za-z0-9_.:+-]+\] ' "$SERIAL.txt" || true
status=0
npass=0
nskip=0
bad_re='BUG:|WARNING:|Oops|general protection|Call Trace|kernel BUG|RIP:'
for n in "${order[@]}"; do
	line=$(grep -E "^SR-RESULT $n " "$SERIAL.txt" | tail -1 || true)
	kmsg=$(sed -n "/^SR-START $n\$/,/^SR-RESULT $n /p" "$SERIAL.txt" | grep '^SR-KMSG' | grep -E "$bad_re" || true)
	if [ -z "$line" ]; then
		echo "FAIL: $n (no result: the guest crashed or hung)"
		status=1
		continue
	fi
	read -r _ _ rc ts te <<<"$line"
	secs=$(awk "BEGIN{printf \"%.1f\", $te-$ts}")
	if [ -n "$kmsg" ]; then
		echo "FAIL: $n (kernel log: $(echo "$kmsg" | head -3 | tr '\n' ' '))"
		status=1
	elif [ "$rc" = 0 ]; then
		echo "PASS: $n (${secs}s emulated)"
		npass=$((npass + 1))
	elif [ "$rc" = 77 ]; then
		echo "SKIP: $n"
		nskip=$((nskip + 1))
	else
		if [ "$rc" = 124 ] || [ "$rc" = 143 ]; then rc="$rc: timed out"; fi
		echo "FAIL: $n (exit $rc)"
		status=1
	fi
done
if grep -q '^SR-MODULE-MISSING' "$SERIAL.txt"; then
	echo "FAIL: $(grep '^SR-MODULE-MISSING' "$SERIAL.txt" | head -1 | cut -d' ' -f2-): a program left the module unloaded"
	status=1
fi
if grep -q '^SR-RMMOD-FAILED' "$SERIAL.txt"; then
	echo "FAIL: rmmod sysring at the end (a context leaked?)"
	status=1
fi
if grep -q '^SR-INSMOD-FAILED' "$SERIAL.txt"; then
	echo "FAIL: insmod sysring.ko"
	grep '^SR-KMSG' "$SERIAL.txt" | tail -20
	status=1
fi
if ! grep -q '^SR-DONE' "$SERIAL.txt"; then
	echo "FAIL: the guest did not finish (qemu exit $qrc); last lines of $SERIAL:"
	tail -30 "$SERIAL.txt"
	status=1
fi
# Whatever happened outside a test (boot, rmmod, a panic).
other=$(grep -E "$bad_re|Kernel panic" "$SERIAL.txt" | grep -vE '^\[' | grep -v '^SR-RESULT' || true)
if [ -n "$other" ]; then
	echo "FAIL: kernel log:"
	echo "$other" | head -40
	status=1
fi
if [ $status -eq 0 ] && [ $npass -eq 0 ] && [ $nskip -gt 0 ]; then
	echo "SKIP: every guest program skipped"
	exit 77
fi
if [ $status -eq 0 ]; then
	echo "guest: ${npass} passed, ${nskip} skipped"
else
	echo "guest: FAILED (serial log: $SERIAL)"
fi
exit $status

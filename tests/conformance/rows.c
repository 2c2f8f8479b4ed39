/* SPDX-License-Identifier: MIT */
/*
 * The table of situations: ROW(name, kind, flags, call...) with up to four
 * calls C(number, arguments...) whose arguments are symbolic (conf.h: the
 * setup's fds and paths, buffers valid, read-only, unmapped or running into
 * an unmapped or read-only page, iovecs, msghdrs, lengths, offsets).
 * Missing arguments are 0. ROWX adds an expected difference: the faces and
 * configurations where it may differ and the reason (docs/engines.md).
 *
 * Sections: every call of the io_uring column (src/table/uring.def) on every
 * kind of fd it takes, with valid, boundary and bad arguments (the
 * non-blocking column, src/table/nowait.def, is a subset); the stat family;
 * a sample of calls that only the threads run; faults (issue 12 item 2,
 * issue 17 item 5); sequences for batches and syslets (items 5, 6, 9);
 * non-blocking fds (item 1); huge counts (item 3); file positions (item 4).
 */
#include "conf.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <sysring/syslet.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x8
#endif
#ifndef RWF_APPEND
#define RWF_APPEND 0x10
#endif
#define NR_futex_wake 454 /* 6.7; ENOSYS before, plainly and through sysring */
#define NR_futex_wait 455
#define FUTEX2_U32_PRIVATE 0x82

/* Strings (A_STR): relative to the run directory; "=x" is x as it is. */
const char *const conf_strs[] = {
	"",                  /* 0 */
	"f",                 /* 1 */
	"g",                 /* 2 */
	"d",                 /* 3 */
	"l",                 /* 4 */
	"h",                 /* 5 */
	"missing/x",         /* 6 */
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", /* 7: a component over NAME_MAX */
	"d/e",               /* 8 */
	"fifo",              /* 9 */
	"/",                 /* 10 */
	"f/x",               /* 11 */
	"/dev/null",         /* 12 */
	"=f",                /* 13 */
	"=missing",          /* 14 */
	"=g",                /* 15 */
	"=h",                /* 16 */
	"=user.sr",          /* 17 */
	"=user.none",        /* 18 */
	"=user.new",         /* 19 */
	"=l",                /* 20 */
	"=mfd",              /* 21 */
};

#define V(x) {A_V, (long)(x)}
#define FD {A_FD, 0}
#define FD2 {A_FD2, 0}
#define FDX {A_FDX, 0}
#define BUF(o) {A_BUF, (o)}
#define RO(o) {A_RO, (o)}
#define UNM(o) {A_UNM, (o)}
#define EDGE(n) {A_EDGE, (n)}
#define RWRO(n) {A_RWRO, (n)}
#define PATH {A_PATH, 0}
#define PATH2 {A_PATH2, 0}
#define PATHN {A_PATHN, 0}
#define STR(i) {A_STR, (i)}
#define IOV(p) {A_IOV, (p)}
#define MSG(p) {A_MSG, (p)}
#define LENP(v) {A_LENP, (long)(v)}
#define OFFP(v) {A_OFFP, (long)(v)}
#define ADDR {A_ADDR, 0}
#define ADDRLEN {A_ADDRLEN, 0}
#define HOW(f) {A_HOW, (long)(f)}
#define EPEV(e) {A_EPEV, (long)(e)}
#define FUT {A_FUTEX, 0}
#define CTR(v) {A_CTR, (long)(v)}
#define TS(ns) {A_TS, (long)(ns)}
#define VUNM {A_VUNM, 0}
#define PID {A_PID, 0}
#define NUL V(0)

#define C(nr, ...) {(nr), {__VA_ARGS__}}
/* The number of calls is counted by the harness (conf_ncalls): braces do not
 * group macro arguments, so the preprocessor cannot count C(...)s. */
#define ROW(nm, k, fl, ...) {.name = (nm), .kind = (k), .flags = (fl), .c = {__VA_ARGS__}}
#define ROWX(nm, k, fl, xf, xc, reason, ...)                                                                        \
	{.name = (nm), .kind = (k), .flags = (fl), .c = {__VA_ARGS__}, .xfaces = (xf), .xcfg = (xc), .why = (reason)}

#define ON_EXECUTORS (XF(F_ASYNC) | XF(F_SYSLET) | XF(F_SYSLET_ASYNC))
#define ANY_CFG (XC_ANY_ENGINE | XC_ANY_INLINE)
#define WHY_FDNUM                                                                                                   \
	"fd numbers: a new fd takes the lowest free number when the call gets it; the plain accept reserves it "      \
	"before it waits, io_uring's when the connection comes, an executor's when it starts the call, after fds "    \
	"opened meanwhile (the connecting socket)"
#define WHY_THREAD                                                                                                  \
	"thread-scoped: run on an executor thread, the call answers for that thread, not the submitting one"

const struct row conf_rows[] = {
	/* ---------------- read: every kind of fd ---------------- */
	ROW("read regular", K_REG, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read regular at 100", K_REG_MID, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read at end of file", K_REG_END, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read O_RDONLY", K_REG_RO, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read O_WRONLY", K_REG_WO, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read O_APPEND", K_APPEND, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read O_DIRECT aligned", K_DIRECT, 0, C(SYS_read, FD, BUF(0), V(4096))),
	ROW("read O_DIRECT misaligned", K_DIRECT, 0, C(SYS_read, FD, BUF(1), V(4096))),
	ROW("read empty file", K_EMPTYF, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read fixed file", K_PFILE, 0, C(SYS_read, FD, BUF(0), V(4096))),
	ROW("read directory", K_PDIR, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read pipe", K_PIPE_R, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read pipe O_NONBLOCK", K_PIPE_R_NB, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read empty pipe", K_PIPE_E, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read empty pipe O_NONBLOCK", K_PIPE_E_NB, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read pipe write end", K_PIPE_W, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read FIFO", K_FIFO, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read socketpair", K_SP_STREAM, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read empty socketpair", K_SP_STREAM_E, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read empty socketpair O_NONBLOCK", K_SP_STREAM_E_NB, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read datagram", K_SP_DGRAM, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read seqpacket", K_SP_SEQ, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read TCP", K_TCP, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read empty TCP", K_TCP_E, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read empty TCP O_NONBLOCK", K_TCP_E_NB, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read UDP", K_UDP, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read listener", K_LISTEN, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read eventfd", K_EVENTFD, 0, C(SYS_read, FD, BUF(0), V(8))),
	ROW("read eventfd 4 bytes", K_EVENTFD, 0, C(SYS_read, FD, BUF(0), V(4))),
	ROW("read eventfd 0", K_EVENTFD_0, 0, C(SYS_read, FD, BUF(0), V(8))),
	ROW("read eventfd 0 O_NONBLOCK", K_EVENTFD_NB0, 0, C(SYS_read, FD, BUF(0), V(8))),
	ROW("read timerfd O_NONBLOCK", K_TIMERFD_NB, 0, C(SYS_read, FD, BUF(0), V(8))),
	ROW("read expired timerfd", K_TIMERFD_EXP, 0, C(SYS_read, FD, BUF(0), V(8))),
	ROW("read signalfd O_NONBLOCK", K_SIGNALFD_NB, 0, C(SYS_read, FD, BUF(0), V(128))),
	ROW("read signalfd, process signal", K_SIGNALFD_PROC, 0, C(SYS_read, FD, BUF(0), V(128))),
	ROWX("read signalfd, thread signal", K_SIGNALFD_THR, 0, ON_EXECUTORS, ANY_CFG, WHY_THREAD,
	     C(SYS_read, FD, BUF(0), V(128))),
	ROW("read inotify O_NONBLOCK", K_INOTIFY_NB, 0, C(SYS_read, FD, BUF(0), V(4096))),
	ROW("read inotify event", K_INOTIFY_EV, 0, C(SYS_read, FD, BUF(0), V(4096))),
	ROW("read inotify", K_INOTIFY_E, 0, C(SYS_read, FD, BUF(0), V(4096))),
	ROW("read pty O_NONBLOCK", K_PTY_NB, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read pty", K_PTY_DATA, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read /dev/null", K_DEVNULL, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read /dev/zero", K_DEVZERO, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read procfs", K_PROC, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read /proc/self/comm", K_PROC_COMM, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read sysfs", K_SYSFS, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read directory fd", K_DIR, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read closed fd", K_CLOSED, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read fd -1", K_NEG, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read fd 1000000", K_BIGFD, 0, C(SYS_read, FD, BUF(0), V(100))),
	ROW("read epoll fd", K_EPOLL, 0, C(SYS_read, FD, BUF(0), V(100))),
	/* read: arguments */
	ROW("read count 0", K_REG, 0, C(SYS_read, FD, BUF(0), V(0))),
	ROW("read NULL buffer", K_REG, 0, C(SYS_read, FD, NUL, V(100))),
	ROW("read unmapped buffer", K_REG, 0, C(SYS_read, FD, UNM(0), V(100))),
	ROW("read read-only buffer", K_REG, 0, C(SYS_read, FD, RO(0), V(100))),
	ROW("read into an unmapped page", K_REG, 0, C(SYS_read, FD, EDGE(50), V(100))),
	ROW("read into a read-only page", K_REG, 0, C(SYS_read, FD, RWRO(50), V(100))),
	ROW("read at 100 into an unmapped page", K_REG_MID, 0, C(SYS_read, FD, EDGE(50), V(100))),
	ROW("read O_APPEND into an unmapped page", K_APPEND, 0, C(SYS_read, FD, EDGE(50), V(100))),
	ROW("read pipe into an unmapped page", K_PIPE_R, 0, C(SYS_read, FD, EDGE(5), V(10))),
	ROW("read socketpair into an unmapped page", K_SP_STREAM, 0, C(SYS_read, FD, EDGE(5), V(10))),
	ROW("read count SIZE_MAX-3", K_REG, 0, C(SYS_read, FD, BUF(0), V(-4))),
	ROW("read count SSIZE_MAX+1", K_REG, 0, C(SYS_read, FD, BUF(0), V(0x8000000000000000UL))),
	ROW("read count 2^40", K_REG, 0, C(SYS_read, FD, BUF(0), V(1L << 40))),
	ROW("read count 0x7ffff001", K_REG, 0, C(SYS_read, FD, BUF(0), V(0x7ffff001))),
	ROW("read pipe count SIZE_MAX-3", K_PIPE_R, 0, C(SYS_read, FD, BUF(0), V(-4))),
	ROW("read socketpair count SIZE_MAX-3", K_SP_STREAM, 0, C(SYS_read, FD, BUF(0), V(-4))),
	ROW("read, argument pointer unmapped", K_REG, R_NOBATCH, C(SYS_read, FD, VUNM, V(10))),
	ROW("read, count pointer unmapped", K_PIPE_R, R_NOBATCH, C(SYS_read, FD, BUF(0), VUNM)),

	/* ---------------- write ---------------- */
	ROW("write regular", K_REG, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write regular at 100", K_REG_MID, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write at end of file", K_REG_END, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write O_RDONLY", K_REG_RO, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write O_WRONLY", K_REG_WO, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write O_APPEND", K_APPEND, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write O_DIRECT aligned", K_DIRECT, 0, C(SYS_write, FD, BUF(0), V(4096))),
	ROW("write O_DIRECT misaligned", K_DIRECT, 0, C(SYS_write, FD, BUF(1), V(4096))),
	ROW("write empty file", K_EMPTYF, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write fixed file O_RDONLY", K_PFILE, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write pipe", K_PIPE_W, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write full pipe O_NONBLOCK", K_PIPE_W_NB_FULL, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write full pipe", K_PIPE_W_FULL, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write pipe without reader", K_PIPE_W_NOREADER, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write pipe read end", K_PIPE_R, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write FIFO", K_FIFO, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write socketpair", K_SP_STREAM, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write datagram", K_SP_DGRAM, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write TCP", K_TCP, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write unconnected UDP", K_UDP, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write eventfd", K_EVENTFD, 0, C(SYS_write, FD, BUF(0), V(8))),
	ROW("write eventfd 4 bytes", K_EVENTFD, 0, C(SYS_write, FD, BUF(0), V(4))),
	ROW("write timerfd", K_TIMERFD_NB, 0, C(SYS_write, FD, BUF(0), V(8))),
	ROW("write pty", K_PTY_NB, 0, C(SYS_write, FD, BUF(0), V(10))),
	ROW("write /dev/null", K_DEVNULL, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write /dev/zero", K_DEVZERO, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write /proc/self/comm", K_PROC_COMM, 0, C(SYS_write, FD, RO(0), V(5))),
	ROW("write sysfs O_RDONLY", K_SYSFS, 0, C(SYS_write, FD, BUF(0), V(5))),
	ROW("write directory fd", K_DIR, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write closed fd", K_CLOSED, 0, C(SYS_write, FD, BUF(0), V(100))),
	ROW("write fd -1", K_NEG, 0, C(SYS_write, FD, BUF(0), V(100))),
	/* write: arguments */
	ROW("write count 0", K_REG, 0, C(SYS_write, FD, BUF(0), V(0))),
	ROW("write NULL buffer", K_REG, 0, C(SYS_write, FD, NUL, V(100))),
	ROW("write unmapped buffer", K_REG, 0, C(SYS_write, FD, UNM(0), V(100))),
	ROW("write from a read-only page", K_REG, 0, C(SYS_write, FD, RO(0), V(100))),
	ROW("write from an unmapped page", K_REG, 0, C(SYS_write, FD, EDGE(50), V(100))),
	ROW("write at 100 from an unmapped page", K_REG_MID, 0, C(SYS_write, FD, EDGE(50), V(100))),
	ROW("write O_APPEND from an unmapped page", K_APPEND, 0, C(SYS_write, FD, EDGE(50), V(100))),
	ROW("write pipe from an unmapped page", K_PIPE_W, 0, C(SYS_write, FD, EDGE(5), V(10))),
	ROW("write socketpair from an unmapped page", K_SP_STREAM, 0, C(SYS_write, FD, EDGE(5), V(10))),
	ROW("write count SIZE_MAX-3", K_REG, 0, C(SYS_write, FD, BUF(0), V(-4))),
	ROW("write count SSIZE_MAX+1", K_REG, 0, C(SYS_write, FD, BUF(0), V(0x8000000000000000UL))),
	ROW("write count 2^40", K_REG, 0, C(SYS_write, FD, BUF(0), V(1L << 40))),
	ROW("write O_APPEND count 2^40", K_APPEND, 0, C(SYS_write, FD, BUF(0), V(1L << 40))),
	ROW("write pipe count SIZE_MAX-3", K_PIPE_W, 0, C(SYS_write, FD, BUF(0), V(-4))),
	ROW("write, argument pointer unmapped", K_REG, R_NOBATCH, C(SYS_write, FD, BUF(0), VUNM)),

	/* ---------------- positioned reads and writes ---------------- */
	ROW("pread64 at 10", K_REG, 0, C(SYS_pread64, FD, BUF(0), V(100), V(10))),
	ROW("pread64 beyond the end", K_REG, 0, C(SYS_pread64, FD, BUF(0), V(100), V(100000))),
	ROW("pread64 negative offset", K_REG, 0, C(SYS_pread64, FD, BUF(0), V(100), V(-1))),
	ROW("pread64 pipe", K_PIPE_R, 0, C(SYS_pread64, FD, BUF(0), V(100), V(0))),
	ROW("pread64 empty pipe O_NONBLOCK", K_PIPE_E_NB, 0, C(SYS_pread64, FD, BUF(0), V(100), V(0))),
	ROW("pread64 socketpair", K_SP_STREAM, 0, C(SYS_pread64, FD, BUF(0), V(100), V(0))),
	ROW("pread64 /dev/zero", K_DEVZERO, 0, C(SYS_pread64, FD, BUF(0), V(100), V(0))),
	ROW("pread64 O_DIRECT", K_DIRECT, 0, C(SYS_pread64, FD, BUF(0), V(4096), V(4096))),
	ROW("pread64 into an unmapped page", K_REG, 0, C(SYS_pread64, FD, EDGE(50), V(100), V(10))),
	ROW("pread64 count SIZE_MAX-3", K_REG, 0, C(SYS_pread64, FD, BUF(0), V(-4), V(0))),
	ROW("pread64 closed fd", K_CLOSED, 0, C(SYS_pread64, FD, BUF(0), V(100), V(0))),
	ROW("pwrite64 at 10", K_REG, 0, C(SYS_pwrite64, FD, BUF(0), V(100), V(10))),
	ROW("pwrite64 O_APPEND", K_APPEND, 0, C(SYS_pwrite64, FD, BUF(0), V(100), V(10))),
	ROW("pwrite64 negative offset", K_REG, 0, C(SYS_pwrite64, FD, BUF(0), V(100), V(-1))),
	ROW("pwrite64 pipe", K_PIPE_W, 0, C(SYS_pwrite64, FD, BUF(0), V(100), V(0))),
	ROW("pwrite64 from an unmapped page", K_REG, 0, C(SYS_pwrite64, FD, EDGE(50), V(100), V(10))),
	ROW("pwrite64 at the largest offset", K_REG, 0, C(SYS_pwrite64, FD, BUF(0), V(100), V(0x7fffffffffffffffL))),
	ROW("pwrite64 O_DIRECT", K_DIRECT, 0, C(SYS_pwrite64, FD, BUF(0), V(4096), V(4096))),
	ROW("pwrite64 count SIZE_MAX-3", K_REG, 0, C(SYS_pwrite64, FD, BUF(0), V(-4), V(0))),
	ROW("pread64, offset pointer unmapped", K_REG, R_NOBATCH, C(SYS_pread64, FD, BUF(0), V(10), VUNM)),

	/* ---------------- vectored ---------------- */
	ROW("readv two", K_REG, 0, C(SYS_readv, FD, IOV(IOV_TWO), V(2))),
	ROW("readv into an unmapped page", K_REG, 0, C(SYS_readv, FD, IOV(IOV_EDGE), V(2))),
	ROW("readv into a read-only page", K_REG, 0, C(SYS_readv, FD, IOV(IOV_ONE_RWRO), V(1))),
	ROW("readv unmapped base", K_REG, 0, C(SYS_readv, FD, IOV(IOV_BADBASE), V(2))),
	ROW("readv 1025 iovecs", K_REG, 0, C(SYS_readv, FD, IOV(IOV_MANY), V(1025))),
	ROW("readv 0 iovecs", K_REG, 0, C(SYS_readv, FD, IOV(IOV_ONE), V(0))),
	ROW("readv -1 iovecs", K_REG, 0, C(SYS_readv, FD, IOV(IOV_ONE), V(-1))),
	ROW("readv iovec array unmapped", K_REG, 0, C(SYS_readv, FD, UNM(0), V(1))),
	ROW("readv iovec length over SSIZE_MAX", K_REG, 0, C(SYS_readv, FD, IOV(IOV_HUGE), V(2))),
	ROW("readv pipe", K_PIPE_R, 0, C(SYS_readv, FD, IOV(IOV_TWO), V(2))),
	ROW("readv empty pipe", K_PIPE_E, 0, C(SYS_readv, FD, IOV(IOV_TWO), V(2))),
	ROW("readv empty pipe O_NONBLOCK", K_PIPE_E_NB, 0, C(SYS_readv, FD, IOV(IOV_TWO), V(2))),
	ROW("readv socketpair", K_SP_STREAM, 0, C(SYS_readv, FD, IOV(IOV_TWO), V(2))),
	ROW("readv datagram", K_SP_DGRAM, 0, C(SYS_readv, FD, IOV(IOV_TWO), V(2))),
	ROW("readv inotify O_NONBLOCK", K_INOTIFY_NB, 0, C(SYS_readv, FD, IOV(IOV_ONE), V(1))),
	ROW("writev two", K_REG, 0, C(SYS_writev, FD, IOV(IOV_TWO), V(2))),
	ROW("writev from an unmapped page", K_REG, 0, C(SYS_writev, FD, IOV(IOV_EDGE), V(2))),
	ROW("writev from a read-only page", K_REG, 0, C(SYS_writev, FD, IOV(IOV_RO), V(1))),
	ROW("writev unmapped base", K_REG, 0, C(SYS_writev, FD, IOV(IOV_BADBASE), V(2))),
	ROW("writev 1025 iovecs", K_REG, 0, C(SYS_writev, FD, IOV(IOV_MANY), V(1025))),
	ROW("writev iovec array unmapped", K_REG, 0, C(SYS_writev, FD, UNM(0), V(1))),
	ROW("writev O_APPEND", K_APPEND, 0, C(SYS_writev, FD, IOV(IOV_TWO), V(2))),
	ROW("writev O_APPEND from an unmapped page", K_APPEND, 0, C(SYS_writev, FD, IOV(IOV_EDGE), V(2))),
	ROW("writev pipe", K_PIPE_W, 0, C(SYS_writev, FD, IOV(IOV_TWO), V(2))),
	ROW("writev full pipe O_NONBLOCK", K_PIPE_W_NB_FULL, 0, C(SYS_writev, FD, IOV(IOV_TWO), V(2))),
	ROW("writev full pipe", K_PIPE_W_FULL, 0, C(SYS_writev, FD, IOV(IOV_TWO), V(2))),
	ROW("writev socketpair", K_SP_STREAM, 0, C(SYS_writev, FD, IOV(IOV_TWO), V(2))),
	ROW("writev pipe without reader", K_PIPE_W_NOREADER, 0, C(SYS_writev, FD, IOV(IOV_TWO), V(2))),
	ROW("preadv at 10", K_REG, 0, C(SYS_preadv, FD, IOV(IOV_TWO), V(2), V(10), V(0))),
	ROW("preadv negative offset", K_REG, 0, C(SYS_preadv, FD, IOV(IOV_TWO), V(2), V(-1), V(0))),
	ROW("preadv pipe", K_PIPE_R, 0, C(SYS_preadv, FD, IOV(IOV_TWO), V(2), V(0), V(0))),
	ROW("preadv into an unmapped page", K_REG, 0, C(SYS_preadv, FD, IOV(IOV_EDGE), V(2), V(10), V(0))),
	ROW("pwritev at 10", K_REG, 0, C(SYS_pwritev, FD, IOV(IOV_TWO), V(2), V(10), V(0))),
	ROW("pwritev negative offset", K_REG, 0, C(SYS_pwritev, FD, IOV(IOV_TWO), V(2), V(-1), V(0))),
	ROW("pwritev O_APPEND", K_APPEND, 0, C(SYS_pwritev, FD, IOV(IOV_TWO), V(2), V(10), V(0))),
	ROW("preadv2 at the file position", K_REG_MID, 0, C(SYS_preadv2, FD, IOV(IOV_TWO), V(2), V(-1), V(0), V(0))),
	ROW("preadv2 at 10", K_REG, 0, C(SYS_preadv2, FD, IOV(IOV_TWO), V(2), V(10), V(0), V(0))),
	ROW("preadv2 RWF_NOWAIT", K_REG, 0, C(SYS_preadv2, FD, IOV(IOV_TWO), V(2), V(0), V(0), V(RWF_NOWAIT))),
	ROW("preadv2 RWF_HIPRI", K_REG, 0, C(SYS_preadv2, FD, IOV(IOV_TWO), V(2), V(0), V(0), V(RWF_HIPRI))),
	ROW("preadv2 unknown flag", K_REG, 0, C(SYS_preadv2, FD, IOV(IOV_TWO), V(2), V(0), V(0), V(0x1000))),
	ROW("preadv2 RWF_NOWAIT empty pipe", K_PIPE_E, 0, C(SYS_preadv2, FD, IOV(IOV_TWO), V(2), V(-1), V(0), V(RWF_NOWAIT))),
	ROW("preadv2 empty pipe O_NONBLOCK", K_PIPE_E_NB, 0, C(SYS_preadv2, FD, IOV(IOV_TWO), V(2), V(-1), V(0), V(0))),
	ROW("preadv2 at the position into an unmapped page", K_REG, 0,
	    C(SYS_preadv2, FD, IOV(IOV_EDGE), V(2), V(-1), V(0), V(0))),
	ROW("preadv2 offset -2", K_REG, 0, C(SYS_preadv2, FD, IOV(IOV_TWO), V(2), V(-2), V(0), V(0))),
	ROW("pwritev2 at the file position", K_REG_MID, 0, C(SYS_pwritev2, FD, IOV(IOV_TWO), V(2), V(-1), V(0), V(0))),
	ROW("pwritev2 RWF_APPEND", K_REG, 0, C(SYS_pwritev2, FD, IOV(IOV_TWO), V(2), V(10), V(0), V(RWF_APPEND))),
	ROW("pwritev2 RWF_DSYNC", K_REG, 0, C(SYS_pwritev2, FD, IOV(IOV_TWO), V(2), V(10), V(0), V(RWF_DSYNC))),
	ROW("pwritev2 unknown flag", K_REG, 0, C(SYS_pwritev2, FD, IOV(IOV_TWO), V(2), V(10), V(0), V(0x1000))),
	ROW("pwritev2 at the position from an unmapped page", K_REG, 0,
	    C(SYS_pwritev2, FD, IOV(IOV_EDGE), V(2), V(-1), V(0), V(0))),
	ROW("pwritev2 O_APPEND from an unmapped page", K_APPEND, 0,
	    C(SYS_pwritev2, FD, IOV(IOV_EDGE), V(2), V(-1), V(0), V(0))),

	/* ---------------- sync ---------------- */
	ROW("fsync regular", K_REG, 0, C(SYS_fsync, FD)),
	ROW("fsync pipe", K_PIPE_R, 0, C(SYS_fsync, FD)),
	ROW("fsync /dev/null", K_DEVNULL, 0, C(SYS_fsync, FD)),
	ROW("fsync closed fd", K_CLOSED, 0, C(SYS_fsync, FD)),
	ROW("fdatasync regular", K_REG, 0, C(SYS_fdatasync, FD)),
	ROW("fdatasync socket", K_SP_STREAM, 0, C(SYS_fdatasync, FD)),
	ROW("sync_file_range", K_REG, 0, C(SYS_sync_file_range, FD, V(0), V(4096), V(SYNC_FILE_RANGE_WRITE))),
	ROW("sync_file_range unknown flag", K_REG, 0, C(SYS_sync_file_range, FD, V(0), V(4096), V(0x100))),
	ROW("sync_file_range negative offset", K_REG, 0, C(SYS_sync_file_range, FD, V(-1), V(4096), V(0))),
	ROW("sync_file_range length 2^33", K_REG, 0, C(SYS_sync_file_range, FD, V(0), V(1L << 33), V(0))),
	ROW("sync_file_range pipe", K_PIPE_R, 0, C(SYS_sync_file_range, FD, V(0), V(4096), V(0))),

	/* ---------------- open family ---------------- */
	ROW("open existing", K_TREE, 0, C(SYS_open, STR(1), V(O_RDONLY), V(0))),
	ROW("open O_CREAT new", K_TREE, 0, C(SYS_open, STR(2), V(O_CREAT | O_RDWR), V(0600))),
	ROW("open O_CREAT mode", K_TREE, 0, C(SYS_open, STR(5), V(O_CREAT | O_WRONLY), V(0751))),
	ROW("open O_CREAT|O_EXCL existing", K_TREE, 0, C(SYS_open, STR(1), V(O_CREAT | O_EXCL | O_RDWR), V(0600))),
	ROW("open O_TRUNC", K_TREE, 0, C(SYS_open, STR(1), V(O_RDWR | O_TRUNC), V(0))),
	ROW("open missing", K_TREE, 0, C(SYS_open, STR(2), V(O_RDONLY), V(0))),
	ROW("open missing directory", K_TREE, 0, C(SYS_open, STR(6), V(O_RDONLY), V(0))),
	ROW("open name too long", K_TREE, 0, C(SYS_open, STR(7), V(O_RDONLY), V(0))),
	ROW("open empty name", K_TREE, 0, C(SYS_open, STR(0), V(O_RDONLY), V(0))),
	ROW("open NULL name", K_TREE, 0, C(SYS_open, NUL, V(O_RDONLY), V(0))),
	ROW("open unmapped name", K_TREE, 0, C(SYS_open, UNM(0), V(O_RDONLY), V(0))),
	ROW("open name running into an unmapped page", K_TREE, 0, C(SYS_open, EDGE(3), V(O_RDONLY), V(0))),
	ROW("open directory O_WRONLY", K_TREE, 0, C(SYS_open, STR(3), V(O_WRONLY), V(0))),
	ROW("open O_DIRECTORY on a file", K_TREE, 0, C(SYS_open, STR(1), V(O_RDONLY | O_DIRECTORY), V(0))),
	ROW("open through a file", K_TREE, 0, C(SYS_open, STR(11), V(O_RDONLY), V(0))),
	ROW("open symlink", K_TREE, 0, C(SYS_open, STR(4), V(O_RDONLY), V(0))),
	ROW("open symlink O_NOFOLLOW", K_TREE, 0, C(SYS_open, STR(4), V(O_RDONLY | O_NOFOLLOW), V(0))),
	ROW("open O_PATH", K_TREE, 0, C(SYS_open, STR(1), V(O_PATH), V(0))),
	ROW("open O_CLOEXEC|O_NONBLOCK", K_TREE, 0, C(SYS_open, STR(1), V(O_RDONLY | O_CLOEXEC | O_NONBLOCK), V(0))),
	ROW("open unknown flag", K_TREE, 0, C(SYS_open, STR(1), V(O_RDONLY | 0x40000000), V(0))),
	ROW("open access mode 3", K_TREE, 0, C(SYS_open, STR(1), V(3), V(0))),
	ROW("open O_TMPFILE", K_TREE, 0, C(SYS_open, STR(3), V(O_TMPFILE | O_RDWR), V(0600))),
	ROW("open FIFO O_RDONLY|O_NONBLOCK", K_FIFO, 0, C(SYS_open, STR(9), V(O_RDONLY | O_NONBLOCK), V(0))),
	ROW("open /dev/null", K_NONE, 0, C(SYS_open, STR(12), V(O_RDWR), V(0))),
	ROW("open, name pointer unmapped", K_TREE, R_NOBATCH, C(SYS_open, VUNM, V(O_RDONLY), V(0))),
	ROW("creat new", K_TREE, 0, C(SYS_creat, STR(5), V(0644))),
	ROW("creat existing", K_TREE, 0, C(SYS_creat, STR(1), V(0644))),
	ROW("creat directory", K_TREE, 0, C(SYS_creat, STR(3), V(0644))),
	ROW("openat relative", K_TREE, 0, C(SYS_openat, FD, STR(13), V(O_RDONLY), V(0))),
	ROW("openat AT_FDCWD", K_TREE, 0, C(SYS_openat, V(AT_FDCWD), STR(1), V(O_RDONLY), V(0))),
	ROW("openat closed dirfd", K_CLOSED, 0, C(SYS_openat, FD, STR(13), V(O_RDONLY), V(0))),
	ROW("openat closed dirfd, absolute name", K_CLOSED, 0, C(SYS_openat, FD, STR(12), V(O_RDONLY), V(0))),
	ROW("openat file as dirfd", K_REG, 0, C(SYS_openat, FD, STR(13), V(O_RDONLY), V(0))),
	ROW("openat2", K_TREE, 0, C(SYS_openat2, V(AT_FDCWD), STR(1), HOW(O_RDONLY), V(sizeof(struct open_how)))),
	ROW("openat2 O_CREAT", K_TREE, 0, C(SYS_openat2, V(AT_FDCWD), STR(2), HOW(O_CREAT | O_RDWR), V(24))),
	ROW("openat2 missing", K_TREE, 0, C(SYS_openat2, V(AT_FDCWD), STR(2), HOW(O_RDONLY), V(24))),
	ROW("openat2 how unmapped", K_TREE, 0, C(SYS_openat2, V(AT_FDCWD), STR(1), UNM(0), V(24))),
	ROW("openat2 how NULL", K_TREE, 0, C(SYS_openat2, V(AT_FDCWD), STR(1), NUL, V(24))),
	ROW("openat2 how running into an unmapped page", K_TREE, 0, C(SYS_openat2, V(AT_FDCWD), STR(1), EDGE(16), V(24))),
	ROW("openat2 size 8", K_TREE, 0, C(SYS_openat2, V(AT_FDCWD), STR(1), HOW(O_RDONLY), V(8))),
	ROW("openat2 size 32", K_TREE, 0, C(SYS_openat2, V(AT_FDCWD), STR(1), HOW(O_RDONLY), V(32))),
	ROW("openat2 size 4097", K_TREE, 0, C(SYS_openat2, V(AT_FDCWD), STR(1), HOW(O_RDONLY), V(4097))),
	ROW("openat2 unknown flag", K_TREE, 0, C(SYS_openat2, V(AT_FDCWD), STR(1), HOW(0x40000000), V(24))),
	ROW("openat2 name unmapped", K_TREE, 0, C(SYS_openat2, V(AT_FDCWD), UNM(0), HOW(O_RDONLY), V(24))),

	/* ---------------- close ---------------- */
	ROW("close regular", K_REG, 0, C(SYS_close, FD)),
	ROW("close closed fd", K_CLOSED, 0, C(SYS_close, FD)),
	ROW("close fd -1", K_NEG, 0, C(SYS_close, FD)),
	ROW("close socket: the peer sees it", K_SP_STREAM, 0, C(SYS_close, FD)),
	ROW("close pipe write end: the reader sees it", K_PIPE_W, 0, C(SYS_close, FD)),
	ROW("close, fd pointer unmapped", K_REG, R_NOBATCH, C(SYS_close, VUNM)),

	/* ---------------- the stat family ---------------- */
	ROW("stat fixed file", K_PFILE, 0, C(SYS_stat, PATH, BUF(0))),
	ROW("stat fixed directory", K_PDIR, 0, C(SYS_stat, PATH, BUF(0))),
	ROW("stat /dev/null", K_DEVNULL, R_MASKSTAT, C(SYS_stat, PATH, BUF(0))),
	ROW("stat symlink", K_TREE, R_MASKSTAT, C(SYS_stat, STR(4), BUF(0))),
	ROW("stat missing", K_TREE, 0, C(SYS_stat, STR(2), BUF(0))),
	ROW("stat NULL name", K_TREE, 0, C(SYS_stat, NUL, BUF(0))),
	ROW("stat unmapped buffer", K_PFILE, 0, C(SYS_stat, PATH, UNM(0))),
	ROW("stat read-only buffer", K_PFILE, 0, C(SYS_stat, PATH, RO(0))),
	ROW("stat NULL buffer", K_PFILE, 0, C(SYS_stat, PATH, NUL)),
	ROW("stat buffer running into an unmapped page", K_PFILE, 0, C(SYS_stat, PATH, EDGE(64))),
	ROW("stat buffer running into a read-only page", K_PFILE, 0, C(SYS_stat, PATH, RWRO(64))),
	ROW("lstat symlink", K_TREE, R_MASKSTAT, C(SYS_lstat, STR(4), BUF(0))),
	ROW("lstat unmapped buffer", K_TREE, 0, C(SYS_lstat, STR(1), UNM(0))),
	ROW("lstat missing", K_TREE, 0, C(SYS_lstat, STR(2), BUF(0))),
	ROW("fstat fixed file", K_PFILE, 0, C(SYS_fstat, FD, BUF(0))),
	ROW("fstat fixed directory", K_PDIR, 0, C(SYS_fstat, FD, BUF(0))),
	ROW("fstat pipe", K_PIPE_R, R_MASKSTAT, C(SYS_fstat, FD, BUF(0))),
	ROW("fstat socket", K_SP_STREAM, R_MASKSTAT, C(SYS_fstat, FD, BUF(0))),
	ROW("fstat eventfd", K_EVENTFD, R_MASKSTAT, C(SYS_fstat, FD, BUF(0))),
	ROW("fstat /dev/null", K_DEVNULL, R_MASKSTAT, C(SYS_fstat, FD, BUF(0))),
	ROW("fstat procfs", K_PROC, R_MASKSTAT, C(SYS_fstat, FD, BUF(0))),
	ROW("fstat closed fd", K_CLOSED, 0, C(SYS_fstat, FD, BUF(0))),
	ROW("fstat fd -1", K_NEG, 0, C(SYS_fstat, FD, BUF(0))),
	ROW("fstat unmapped buffer", K_PFILE, 0, C(SYS_fstat, FD, UNM(0))),
	ROW("fstat read-only buffer", K_PFILE, 0, C(SYS_fstat, FD, RO(0))),
	ROW("fstat buffer running into an unmapped page", K_PFILE, 0, C(SYS_fstat, FD, EDGE(64))),
	ROW("newfstatat", K_PFILE, 0, C(SYS_newfstatat, V(AT_FDCWD), PATH, BUF(0), V(0))),
	ROW("newfstatat AT_EMPTY_PATH", K_PFILE, 0, C(SYS_newfstatat, FD, STR(0), BUF(0), V(AT_EMPTY_PATH))),
	ROW("newfstatat AT_SYMLINK_NOFOLLOW", K_TREE, R_MASKSTAT,
	    C(SYS_newfstatat, V(AT_FDCWD), STR(4), BUF(0), V(AT_SYMLINK_NOFOLLOW))),
	ROW("newfstatat relative", K_TREE, R_MASKSTAT, C(SYS_newfstatat, FD, STR(13), BUF(0), V(0))),
	ROW("newfstatat closed dirfd", K_CLOSED, 0, C(SYS_newfstatat, FD, STR(13), BUF(0), V(0))),
	ROW("newfstatat unknown flag", K_PFILE, 0, C(SYS_newfstatat, V(AT_FDCWD), PATH, BUF(0), V(0x40000))),
	ROW("newfstatat AT_STATX_DONT_SYNC", K_PFILE, 0, C(SYS_newfstatat, V(AT_FDCWD), PATH, BUF(0), V(0x4000))),
	ROW("newfstatat unmapped buffer", K_PFILE, 0, C(SYS_newfstatat, V(AT_FDCWD), PATH, UNM(0), V(0))),
	ROW("statx", K_PFILE, 0, C(SYS_statx, V(AT_FDCWD), PATH, V(0), V(STATX_BASIC_STATS), BUF(0))),
	ROW("statx AT_EMPTY_PATH", K_PFILE, 0, C(SYS_statx, FD, STR(0), V(AT_EMPTY_PATH), V(STATX_ALL), BUF(0))),
	ROW("statx pipe", K_PIPE_R, R_MASKSTATX, C(SYS_statx, FD, STR(0), V(AT_EMPTY_PATH), V(STATX_BASIC_STATS), BUF(0))),
	ROW("statx missing", K_TREE, 0, C(SYS_statx, V(AT_FDCWD), STR(2), V(0), V(STATX_BASIC_STATS), BUF(0))),
	ROW("statx unmapped buffer", K_PFILE, 0, C(SYS_statx, V(AT_FDCWD), PATH, V(0), V(STATX_BASIC_STATS), UNM(0))),
	ROW("statx read-only buffer", K_PFILE, 0, C(SYS_statx, V(AT_FDCWD), PATH, V(0), V(STATX_BASIC_STATS), RO(0))),
	ROW("statx unknown flag", K_PFILE, 0, C(SYS_statx, V(AT_FDCWD), PATH, V(0x80000), V(STATX_BASIC_STATS), BUF(0))),
	ROW("statx reserved mask bit", K_PFILE, 0, C(SYS_statx, V(AT_FDCWD), PATH, V(0), V(0x80000000U), BUF(0))),
	ROW("statx NULL name", K_PFILE, 0, C(SYS_statx, V(AT_FDCWD), NUL, V(0), V(STATX_BASIC_STATS), BUF(0))),
	ROW("stat, buffer pointer unmapped", K_PFILE, R_NOBATCH, C(SYS_stat, PATH, VUNM)),

	/* ---------------- file space, advice, size ---------------- */
	ROW("fallocate", K_REG, 0, C(SYS_fallocate, FD, V(0), V(0), V(16384))),
	ROW("fallocate FALLOC_FL_KEEP_SIZE", K_REG, 0, C(SYS_fallocate, FD, V(FALLOC_FL_KEEP_SIZE), V(0), V(16384))),
	ROW("fallocate unknown mode", K_REG, 0, C(SYS_fallocate, FD, V(0x100), V(0), V(16384))),
	ROW("fallocate negative length", K_REG, 0, C(SYS_fallocate, FD, V(0), V(0), V(-1))),
	ROW("fallocate length 0", K_REG, 0, C(SYS_fallocate, FD, V(0), V(0), V(0))),
	ROW("fallocate pipe", K_PIPE_W, 0, C(SYS_fallocate, FD, V(0), V(0), V(100))),
	ROW("fallocate O_RDONLY", K_REG_RO, 0, C(SYS_fallocate, FD, V(0), V(0), V(100))),
	ROW("fadvise64", K_REG, 0, C(SYS_fadvise64, FD, V(0), V(4096), V(POSIX_FADV_WILLNEED))),
	ROW("fadvise64 unknown advice", K_REG, 0, C(SYS_fadvise64, FD, V(0), V(4096), V(99))),
	ROW("fadvise64 negative length", K_REG, 0, C(SYS_fadvise64, FD, V(0), V(-1), V(0))),
	ROW("fadvise64 length 2^33", K_REG, 0, C(SYS_fadvise64, FD, V(0), V(1L << 33), V(0))),
	ROW("fadvise64 pipe", K_PIPE_R, 0, C(SYS_fadvise64, FD, V(0), V(100), V(0))),
	ROW("fadvise64 closed fd", K_CLOSED, 0, C(SYS_fadvise64, FD, V(0), V(100), V(0))),
	ROW("madvise", K_NONE, 0, C(SYS_madvise, BUF(0), V(4096), V(MADV_NORMAL))),
	ROW("madvise MADV_DONTNEED", K_NONE, 0, C(SYS_madvise, BUF(4096), V(4096), V(MADV_DONTNEED))),
	ROW("madvise misaligned", K_NONE, 0, C(SYS_madvise, BUF(1), V(4096), V(MADV_NORMAL))),
	ROW("madvise unknown advice", K_NONE, 0, C(SYS_madvise, BUF(0), V(4096), V(999))),
	ROW("madvise unmapped range", K_NONE, 0, C(SYS_madvise, V(4096), V(4096), V(MADV_NORMAL))),
	ROW("ftruncate", K_REG, 0, C(SYS_ftruncate, FD, V(100))),
	ROW("ftruncate grow", K_REG, 0, C(SYS_ftruncate, FD, V(20000))),
	ROW("ftruncate negative", K_REG, 0, C(SYS_ftruncate, FD, V(-1))),
	ROW("ftruncate O_RDONLY", K_REG_RO, 0, C(SYS_ftruncate, FD, V(100))),
	ROW("ftruncate pipe", K_PIPE_W, 0, C(SYS_ftruncate, FD, V(100))),
	ROW("ftruncate closed fd", K_CLOSED, 0, C(SYS_ftruncate, FD, V(100))),

	/* ---------------- splice and tee ---------------- */
	ROW("splice file to pipe at an offset", K_FILEPIPE, 0, C(SYS_splice, FD, OFFP(10), FDX, NUL, V(100), V(0))),
	ROW("splice file to pipe at the position", K_FILEPIPE, 0, C(SYS_splice, FD, NUL, FDX, NUL, V(100), V(0))),
	ROW("splice pipe to file at an offset", K_FILEPIPE, 0, C(SYS_splice, FD2, NUL, FD, OFFP(0), V(10), V(0))),
	ROW("splice pipe to file at the position", K_FILEPIPE, 0, C(SYS_splice, FD2, NUL, FD, NUL, V(10), V(0))),
	ROW("splice off_out unmapped", K_FILEPIPE, 0, C(SYS_splice, FD2, NUL, FD, UNM(0), V(10), V(0))),
	ROW("splice off_in unmapped", K_FILEPIPE, 0, C(SYS_splice, FD, UNM(0), FDX, NUL, V(100), V(0))),
	ROW("splice off_in read-only", K_FILEPIPE, 0, C(SYS_splice, FD, RO(0), FDX, NUL, V(100), V(0))),
	ROW("splice negative offset", K_FILEPIPE, 0, C(SYS_splice, FD, OFFP(-1), FDX, NUL, V(100), V(0))),
	ROW("splice offset on a pipe", K_FILEPIPE, 0, C(SYS_splice, FD2, OFFP(0), FD, NUL, V(10), V(0))),
	ROW("splice length 0", K_FILEPIPE, 0, C(SYS_splice, FD, OFFP(0), FDX, NUL, V(0), V(0))),
	ROW("splice length 2^33", K_FILEPIPE, 0, C(SYS_splice, FD, OFFP(0), FDX, NUL, V(1L << 33), V(0))),
	ROW("splice pipe to pipe", K_TWOPIPES, 0, C(SYS_splice, FD, NUL, FDX, NUL, V(100), V(0))),
	ROW("splice empty pipe SPLICE_F_NONBLOCK", K_TWOPIPES, 0,
	    C(SYS_splice, FD2, NUL, FDX, NUL, V(100), V(SPLICE_F_NONBLOCK))),
	ROW("splice closed fd", K_CLOSED, 0, C(SYS_splice, FD, NUL, FD, NUL, V(100), V(0))),
	ROW("tee", K_TWOPIPES, 0, C(SYS_tee, FD, FDX, V(100), V(0))),
	ROW("tee file", K_FILEPIPE, 0, C(SYS_tee, FD, FDX, V(100), V(0))),
	ROW("tee empty pipe SPLICE_F_NONBLOCK", K_TWOPIPES, 0, C(SYS_tee, FD2, FDX, V(100), V(SPLICE_F_NONBLOCK))),
	ROW("tee length 2^33", K_TWOPIPES, 0, C(SYS_tee, FD, FDX, V(1L << 33), V(0))),
	ROW("splice, offset pointer unmapped", K_FILEPIPE, R_NOBATCH, C(SYS_splice, FD, OFFP(10), FDX, NUL, VUNM, V(0))),

	/* ---------------- names ---------------- */
	ROW("rename", K_TREE, 0, C(SYS_rename, STR(1), STR(2))),
	ROW("rename missing", K_TREE, 0, C(SYS_rename, STR(2), STR(5))),
	ROW("rename file over directory", K_TREE, 0, C(SYS_rename, STR(1), STR(3))),
	ROW("rename NULL", K_TREE, 0, C(SYS_rename, NUL, STR(2))),
	ROW("rename unmapped", K_TREE, 0, C(SYS_rename, STR(1), UNM(0))),
	ROW("renameat relative", K_TREE, 0, C(SYS_renameat, FD, STR(13), FD, STR(15))),
	ROW("renameat2 RENAME_NOREPLACE existing", K_TREE, 0,
	    C(SYS_renameat2, V(AT_FDCWD), STR(1), V(AT_FDCWD), STR(4), V(RENAME_NOREPLACE))),
	ROW("renameat2 RENAME_EXCHANGE", K_TREE, 0, C(SYS_renameat2, V(AT_FDCWD), STR(1), V(AT_FDCWD), STR(3), V(RENAME_EXCHANGE))),
	ROW("renameat2 unknown flag", K_TREE, 0, C(SYS_renameat2, V(AT_FDCWD), STR(1), V(AT_FDCWD), STR(2), V(0x100))),
	ROW("renameat2 NOREPLACE|EXCHANGE", K_TREE, 0,
	    C(SYS_renameat2, V(AT_FDCWD), STR(1), V(AT_FDCWD), STR(3), V(RENAME_NOREPLACE | RENAME_EXCHANGE))),
	ROW("unlink", K_TREE, 0, C(SYS_unlink, STR(1))),
	ROW("unlink directory", K_TREE, 0, C(SYS_unlink, STR(3))),
	ROW("unlink missing", K_TREE, 0, C(SYS_unlink, STR(2))),
	ROW("unlink unmapped", K_TREE, 0, C(SYS_unlink, UNM(0))),
	ROW("unlinkat AT_REMOVEDIR", K_TREE, 0, C(SYS_unlinkat, V(AT_FDCWD), STR(3), V(AT_REMOVEDIR))),
	ROW("unlinkat relative", K_TREE, 0, C(SYS_unlinkat, FD, STR(13), V(0))),
	ROW("unlinkat unknown flag", K_TREE, 0, C(SYS_unlinkat, V(AT_FDCWD), STR(1), V(0x1))),
	ROW("rmdir", K_TREE, 0, C(SYS_rmdir, STR(3))),
	ROW("rmdir file", K_TREE, 0, C(SYS_rmdir, STR(1))),
	ROW("rmdir missing", K_TREE, 0, C(SYS_rmdir, STR(2))),
	ROW("rmdir not empty", K_PDIR, 0, C(SYS_rmdir, PATH)),
	ROW("mkdir", K_TREE, 0, C(SYS_mkdir, STR(5), V(0750))),
	ROW("mkdir existing", K_TREE, 0, C(SYS_mkdir, STR(3), V(0750))),
	ROW("mkdir missing parent", K_TREE, 0, C(SYS_mkdir, STR(6), V(0750))),
	ROW("mkdir through a file", K_TREE, 0, C(SYS_mkdir, STR(11), V(0750))),
	ROW("mkdir NULL", K_TREE, 0, C(SYS_mkdir, NUL, V(0750))),
	ROW("mkdirat relative", K_TREE, 0, C(SYS_mkdirat, FD, STR(16), V(0700))),
	ROW("symlink", K_TREE, 0, C(SYS_symlink, STR(1), STR(5))),
	ROW("symlink existing", K_TREE, 0, C(SYS_symlink, STR(1), STR(4))),
	ROW("symlink NULL target", K_TREE, 0, C(SYS_symlink, NUL, STR(5))),
	ROW("symlink empty target", K_TREE, 0, C(SYS_symlink, STR(0), STR(5))),
	ROW("symlinkat relative", K_TREE, 0, C(SYS_symlinkat, STR(13), FD, STR(16))),
	ROW("link", K_TREE, 0, C(SYS_link, STR(1), STR(2))),
	ROW("link existing", K_TREE, 0, C(SYS_link, STR(1), STR(4))),
	ROW("link directory", K_TREE, 0, C(SYS_link, STR(3), STR(2))),
	ROW("linkat AT_SYMLINK_FOLLOW", K_TREE, 0, C(SYS_linkat, V(AT_FDCWD), STR(4), V(AT_FDCWD), STR(2), V(AT_SYMLINK_FOLLOW))),
	ROW("linkat symlink itself", K_TREE, 0, C(SYS_linkat, V(AT_FDCWD), STR(4), V(AT_FDCWD), STR(2), V(0))),
	ROW("linkat unknown flag", K_TREE, 0, C(SYS_linkat, V(AT_FDCWD), STR(1), V(AT_FDCWD), STR(2), V(0x1))),

	/* ---------------- extended attributes ---------------- */
	ROW("getxattr", K_XATTR, 0, C(SYS_getxattr, PATH, STR(17), BUF(0), V(64))),
	ROW("getxattr size 0", K_XATTR, 0, C(SYS_getxattr, PATH, STR(17), NUL, V(0))),
	ROW("getxattr too small", K_XATTR, 0, C(SYS_getxattr, PATH, STR(17), BUF(0), V(2))),
	ROW("getxattr missing name", K_XATTR, 0, C(SYS_getxattr, PATH, STR(18), BUF(0), V(64))),
	ROW("getxattr buffer unmapped", K_XATTR, 0, C(SYS_getxattr, PATH, STR(17), UNM(0), V(64))),
	ROW("getxattr name unmapped", K_XATTR, 0, C(SYS_getxattr, PATH, UNM(0), BUF(0), V(64))),
	ROW("getxattr missing file", K_XATTR, 0, C(SYS_getxattr, PATH2, STR(17), BUF(0), V(64))),
	ROW("fgetxattr", K_XATTR, 0, C(SYS_fgetxattr, FD, STR(17), BUF(0), V(64))),
	ROW("fgetxattr closed fd", K_CLOSED, 0, C(SYS_fgetxattr, FD, STR(17), BUF(0), V(64))),
	ROW("setxattr", K_XATTR, 0, C(SYS_setxattr, PATH, STR(17), RO(0), V(5), V(0))),
	ROW("setxattr XATTR_CREATE existing", K_XATTR, 0, C(SYS_setxattr, PATH, STR(17), RO(0), V(5), V(XATTR_CREATE))),
	ROW("setxattr XATTR_REPLACE missing", K_XATTR, 0, C(SYS_setxattr, PATH, STR(19), RO(0), V(5), V(XATTR_REPLACE))),
	ROW("setxattr unknown flag", K_XATTR, 0, C(SYS_setxattr, PATH, STR(17), RO(0), V(5), V(4))),
	ROW("setxattr value unmapped", K_XATTR, 0, C(SYS_setxattr, PATH, STR(17), UNM(0), V(5), V(0))),
	ROW("fsetxattr", K_XATTR, 0, C(SYS_fsetxattr, FD, STR(17), BUF(0), V(5), V(0))),
	ROW("fsetxattr closed fd", K_CLOSED, 0, C(SYS_fsetxattr, FD, STR(17), BUF(0), V(5), V(0))),

	/* ---------------- sockets ---------------- */
	ROW("socket inet stream", K_NONE, 0, C(SYS_socket, V(AF_INET), V(SOCK_STREAM), V(0))),
	ROW("socket unix dgram nonblocking cloexec", K_NONE, 0,
	    C(SYS_socket, V(AF_UNIX), V(SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC), V(0))),
	ROW("socket unknown family", K_NONE, 0, C(SYS_socket, V(9999), V(SOCK_STREAM), V(0))),
	ROW("socket unknown type", K_NONE, 0, C(SYS_socket, V(AF_INET), V(99), V(0))),
	ROW("socket unknown protocol", K_NONE, 0, C(SYS_socket, V(AF_INET), V(SOCK_STREAM), V(99))),
	ROW("connect TCP", K_TCP_SOCK, 0, C(SYS_connect, FD, ADDR, ADDRLEN)),
	ROW("connect TCP O_NONBLOCK", K_TCP_SOCK_NB, 0, C(SYS_connect, FD, ADDR, ADDRLEN)),
	ROW("connect O_NONBLOCK, backlog full", K_TCP_SOCK_NB_FULL, 0, C(SYS_connect, FD, ADDR, ADDRLEN)),
	ROW("connect address unmapped", K_TCP_SOCK, 0, C(SYS_connect, FD, UNM(0), V(16))),
	ROW("connect address length 0", K_TCP_SOCK, 0, C(SYS_connect, FD, ADDR, V(0))),
	ROW("connect closed fd", K_CLOSED, 0, C(SYS_connect, FD, ADDR, V(16))),
	ROW("connect regular file", K_REG, 0, C(SYS_connect, FD, ADDR, V(16))),
	ROW("connect unix to a missing name", K_USOCK, 0, C(SYS_connect, FD, ADDR, ADDRLEN)),
	ROW("accept", K_LISTEN, 0, C(SYS_accept, FD, NUL, NUL)),
	/* Any engine: an executor thread starts the call some time after its
	 * submission (under load, after the test's connecting socket exists). */
	ROWX("accept, nothing waiting", K_LISTEN_E, 0, ON_EXECUTORS | XF(F_BATCH_URING), ANY_CFG,
	     WHY_FDNUM, C(SYS_accept, FD, NUL, NUL)),
	ROW("accept O_NONBLOCK, nothing waiting", K_LISTEN_NB, 0, C(SYS_accept, FD, NUL, NUL)),
	ROW("accept4 O_NONBLOCK, nothing waiting", K_LISTEN_NB, 0, C(SYS_accept4, FD, NUL, NUL, V(0))),
	ROW("accept4 SOCK_NONBLOCK|SOCK_CLOEXEC", K_LISTEN, 0, C(SYS_accept4, FD, NUL, NUL, V(SOCK_NONBLOCK | SOCK_CLOEXEC))),
	ROW("accept4 unknown flag", K_LISTEN, 0, C(SYS_accept4, FD, NUL, NUL, V(0x1))),
	ROW("accept unix with address", K_ULISTEN, 0, C(SYS_accept, FD, BUF(0), LENP(128))),
	ROW("accept address length unmapped", K_ULISTEN, 0, C(SYS_accept, FD, BUF(0), UNM(0))),
	ROW("accept address unmapped", K_ULISTEN, 0, C(SYS_accept, FD, UNM(0), LENP(128))),
	ROW("accept address length read-only", K_ULISTEN, 0, C(SYS_accept, FD, BUF(0), RO(0))),
	ROW("accept address without its length", K_ULISTEN, 0, C(SYS_accept, FD, BUF(0), NUL)),
	ROW("accept negative address length", K_ULISTEN, 0, C(SYS_accept, FD, BUF(0), LENP(-1))),
	ROW("accept regular file", K_REG, 0, C(SYS_accept, FD, NUL, NUL)),
	ROW("accept unconnected socket", K_TCP_SOCK, 0, C(SYS_accept, FD, NUL, NUL)),
	ROW("accept closed fd", K_CLOSED, 0, C(SYS_accept, FD, NUL, NUL)),
	ROW("sendto socketpair", K_SP_STREAM, 0, C(SYS_sendto, FD, BUF(0), V(10), V(0), NUL, V(0))),
	ROW("sendto UDP with address", K_UDP, 0, C(SYS_sendto, FD2, BUF(0), V(4), V(0), ADDR, ADDRLEN)),
	ROW("sendto unconnected UDP", K_UDP, 0, C(SYS_sendto, FD, BUF(0), V(4), V(0), NUL, V(0))),
	ROW("sendto address unmapped", K_UDP, 0, C(SYS_sendto, FD2, BUF(0), V(4), V(0), UNM(0), V(16))),
	ROW("sendto buffer unmapped", K_SP_STREAM, 0, C(SYS_sendto, FD, UNM(0), V(10), V(0), NUL, V(0))),
	ROW("sendto from an unmapped page", K_SP_STREAM, 0, C(SYS_sendto, FD, EDGE(5), V(10), V(0), NUL, V(0))),
	ROW("sendto MSG_DONTWAIT", K_SP_STREAM, 0, C(SYS_sendto, FD, BUF(0), V(10), V(MSG_DONTWAIT), NUL, V(0))),
	ROW("sendto length 2^33", K_SP_DGRAM, 0, C(SYS_sendto, FD, BUF(0), V(1L << 33), V(0), NUL, V(0))),
	ROW("sendto pipe", K_PIPE_W, 0, C(SYS_sendto, FD, BUF(0), V(10), V(0), NUL, V(0))),
	ROW("sendto closed fd", K_CLOSED, 0, C(SYS_sendto, FD, BUF(0), V(10), V(0), NUL, V(0))),
	ROW("recvfrom socketpair", K_SP_STREAM, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), NUL, NUL)),
	ROW("recvfrom MSG_PEEK", K_SP_STREAM, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(MSG_PEEK), NUL, NUL)),
	ROW("recvfrom MSG_WAITALL", K_SP_STREAM, 0, C(SYS_recvfrom, FD, BUF(0), V(10), V(MSG_WAITALL), NUL, NUL)),
	ROW("recvfrom MSG_DONTWAIT, empty", K_SP_STREAM_E, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(MSG_DONTWAIT), NUL, NUL)),
	ROW("recvfrom, empty", K_SP_STREAM_E, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), NUL, NUL)),
	ROW("recvfrom O_NONBLOCK, empty", K_SP_STREAM_E_NB, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), NUL, NUL)),
	ROW("recvfrom with address", K_UNIX_DG_NAMED, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), BUF(256), LENP(128))),
	ROW("recvfrom address length unmapped", K_UNIX_DG_NAMED, 0,
	    C(SYS_recvfrom, FD, BUF(0), V(64), V(0), BUF(256), UNM(0))),
	ROW("recvfrom address length read-only", K_UNIX_DG_NAMED, 0,
	    C(SYS_recvfrom, FD, BUF(0), V(64), V(0), BUF(256), RO(0))),
	ROW("recvfrom address unmapped", K_UNIX_DG_NAMED, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), UNM(0), LENP(128))),
	ROW("recvfrom short address length", K_UNIX_DG_NAMED, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), BUF(256), LENP(4))),
	ROW("recvfrom address without its length", K_UNIX_DG_NAMED, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), BUF(256), NUL)),
	ROW("recvfrom negative address length", K_UNIX_DG_NAMED, 0,
	    C(SYS_recvfrom, FD, BUF(0), V(64), V(0), BUF(256), LENP(-1))),
	ROW("recvfrom buffer unmapped", K_SP_STREAM, 0, C(SYS_recvfrom, FD, UNM(0), V(64), V(0), NUL, NUL)),
	ROW("recvfrom into an unmapped page", K_SP_STREAM, 0, C(SYS_recvfrom, FD, EDGE(5), V(10), V(0), NUL, NUL)),
	ROW("recvfrom truncated datagram", K_SP_DGRAM, 0, C(SYS_recvfrom, FD, BUF(0), V(3), V(0), NUL, NUL)),
	ROW("recvfrom TCP", K_TCP, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), NUL, NUL)),
	ROW("recvfrom empty TCP", K_TCP_E, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), NUL, NUL)),
	ROW("recvfrom empty TCP O_NONBLOCK", K_TCP_E_NB, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), NUL, NUL)),
	ROW("recvfrom UDP", K_UDP, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), NUL, NUL)),
	ROW("recvfrom listener", K_LISTEN, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), NUL, NUL)),
	ROW("recvfrom pipe", K_PIPE_R, 0, C(SYS_recvfrom, FD, BUF(0), V(64), V(0), NUL, NUL)),
	ROW("recvfrom length 2^33", K_SP_STREAM, 0, C(SYS_recvfrom, FD, BUF(0), V(1L << 33), V(0), NUL, NUL)),
	ROW("recvfrom, address length pointer unmapped", K_UNIX_DG_NAMED, R_NOBATCH,
	    C(SYS_recvfrom, FD, BUF(0), V(64), V(0), BUF(256), VUNM)),
	ROW("sendmsg", K_SP_STREAM, 0, C(SYS_sendmsg, FD, MSG(MSG_ONE), V(0))),
	ROW("sendmsg msghdr unmapped", K_SP_STREAM, 0, C(SYS_sendmsg, FD, UNM(0), V(0))),
	ROW("sendmsg iovec unmapped", K_SP_STREAM, 0, C(SYS_sendmsg, FD, MSG(MSG_BADIOV), V(0))),
	ROW("sendmsg data unmapped", K_SP_STREAM, 0, C(SYS_sendmsg, FD, MSG(MSG_IOVUNM), V(0))),
	ROW("sendmsg datagram", K_SP_DGRAM, 0, C(SYS_sendmsg, FD, MSG(MSG_ONE), V(0))),
	ROW("sendmsg pipe", K_PIPE_W, 0, C(SYS_sendmsg, FD, MSG(MSG_ONE), V(0))),
	ROW("sendmsg name unmapped", K_SP_DGRAM, 0, C(SYS_sendmsg, FD, MSG(MSG_BADNAME), V(0))),
	ROW("sendmsg msghdr read-only", K_SP_STREAM, 0, C(SYS_sendmsg, FD, RO(0), V(0))),
	ROW("recvmsg", K_SP_STREAM, 0, C(SYS_recvmsg, FD, MSG(MSG_ONE), V(0))),
	ROW("recvmsg with name", K_UNIX_DG_NAMED, 0, C(SYS_recvmsg, FD, MSG(MSG_NAME), V(0))),
	ROW("recvmsg name unmapped", K_UNIX_DG_NAMED, 0, C(SYS_recvmsg, FD, MSG(MSG_BADNAME), V(0))),
	ROW("recvmsg msghdr unmapped", K_SP_STREAM, 0, C(SYS_recvmsg, FD, UNM(0), V(0))),
	ROW("recvmsg msghdr read-only", K_SP_STREAM, 0, C(SYS_recvmsg, FD, RO(0), V(0))),
	ROW("recvmsg iovec unmapped", K_SP_STREAM, 0, C(SYS_recvmsg, FD, MSG(MSG_BADIOV), V(0))),
	ROW("recvmsg data unmapped", K_SP_STREAM, 0, C(SYS_recvmsg, FD, MSG(MSG_IOVUNM), V(0))),
	ROW("recvmsg O_NONBLOCK, empty", K_SP_STREAM_E_NB, 0, C(SYS_recvmsg, FD, MSG(MSG_ONE), V(0))),
	ROW("recvmsg, empty", K_SP_STREAM_E, 0, C(SYS_recvmsg, FD, MSG(MSG_ONE), V(0))),
	ROW("recvmsg MSG_DONTWAIT, empty", K_SP_STREAM_E, 0, C(SYS_recvmsg, FD, MSG(MSG_ONE), V(MSG_DONTWAIT))),
	ROW("recvmsg MSG_WAITALL", K_SP_STREAM, 0, C(SYS_recvmsg, FD, MSG(MSG_ONE), V(MSG_WAITALL | MSG_DONTWAIT))),
	ROW("recvmsg datagram", K_SP_DGRAM, 0, C(SYS_recvmsg, FD, MSG(MSG_ONE), V(0))),
	ROW("shutdown SHUT_WR", K_SP_STREAM, 0, C(SYS_shutdown, FD, V(SHUT_WR))),
	ROW("shutdown TCP SHUT_RDWR", K_TCP, 0, C(SYS_shutdown, FD, V(SHUT_RDWR))),
	ROW("shutdown unknown how", K_SP_STREAM, 0, C(SYS_shutdown, FD, V(7))),
	ROW("shutdown regular file", K_REG, 0, C(SYS_shutdown, FD, V(SHUT_WR))),
	ROW("shutdown unconnected", K_TCP_SOCK, 0, C(SYS_shutdown, FD, V(SHUT_WR))),
	ROW("bind unix", K_USOCK, 0, C(SYS_bind, FD, ADDR, ADDRLEN)),
	ROW("bind address in use", K_TCP_SOCK, 0, C(SYS_bind, FD, ADDR, ADDRLEN)),
	ROW("bind address unmapped", K_USOCK, 0, C(SYS_bind, FD, UNM(0), V(16))),
	ROW("bind short length", K_USOCK, 0, C(SYS_bind, FD, ADDR, V(1))),
	ROW("bind regular file", K_REG, 0, C(SYS_bind, FD, ADDR, V(16))),
	ROW("listen", K_TCP_SOCK, 0, C(SYS_listen, FD, V(4))),
	ROW("listen negative backlog", K_TCP_SOCK, 0, C(SYS_listen, FD, V(-1))),
	ROW("listen UDP", K_UDP, 0, C(SYS_listen, FD, V(4))),
	ROW("listen regular file", K_REG, 0, C(SYS_listen, FD, V(4))),

	/* ---------------- epoll ---------------- */
	ROW("epoll_ctl add", K_EPOLL, 0, C(SYS_epoll_ctl, FD, V(EPOLL_CTL_ADD), FDX, EPEV(EPOLLOUT)),
	    C(SYS_epoll_wait, FD, BUF(0), V(4), V(0))),
	ROW("epoll_ctl add existing", K_EPOLL, 0, C(SYS_epoll_ctl, FD, V(EPOLL_CTL_ADD), FD2, EPEV(EPOLLIN))),
	ROW("epoll_ctl mod", K_EPOLL, 0, C(SYS_epoll_ctl, FD, V(EPOLL_CTL_MOD), FD2, EPEV(EPOLLIN | EPOLLET)),
	    C(SYS_epoll_wait, FD, BUF(0), V(4), V(0))),
	ROW("epoll_ctl del", K_EPOLL, 0, C(SYS_epoll_ctl, FD, V(EPOLL_CTL_DEL), FD2, NUL),
	    C(SYS_epoll_wait, FD, BUF(0), V(4), V(0))),
	ROW("epoll_ctl event unmapped", K_EPOLL, 0, C(SYS_epoll_ctl, FD, V(EPOLL_CTL_ADD), FDX, UNM(0))),
	ROW("epoll_ctl unknown op", K_EPOLL, 0, C(SYS_epoll_ctl, FD, V(99), FDX, EPEV(EPOLLIN))),
	ROW("epoll_ctl itself", K_EPOLL, 0, C(SYS_epoll_ctl, FD, V(EPOLL_CTL_ADD), FD, EPEV(EPOLLIN))),
	ROW("epoll_ctl on a regular file", K_REG, 0, C(SYS_epoll_ctl, FD, V(EPOLL_CTL_ADD), V(0), EPEV(EPOLLIN))),
	ROW("epoll_wait ready", K_EPOLL, 0, C(SYS_epoll_wait, FD, BUF(0), V(4), V(0))),
	ROW("epoll_wait ready, no timeout", K_EPOLL, 0, C(SYS_epoll_wait, FD, BUF(0), V(4), V(-1))),
	ROW("epoll_wait, nothing ready", K_EPOLL_E, 0, C(SYS_epoll_wait, FD, BUF(0), V(4), V(-1))),
	ROW("epoll_wait, nothing ready, timeout 0", K_EPOLL_E, 0, C(SYS_epoll_wait, FD, BUF(0), V(4), V(0))),
	ROW("epoll_wait maxevents 0", K_EPOLL, 0, C(SYS_epoll_wait, FD, BUF(0), V(0), V(-1))),
	ROW("epoll_wait events unmapped", K_EPOLL, 0, C(SYS_epoll_wait, FD, UNM(0), V(4), V(-1))),
	ROW("epoll_wait events read-only", K_EPOLL, 0, C(SYS_epoll_wait, FD, RO(0), V(4), V(0))),
	ROW("epoll_wait regular file", K_REG, 0, C(SYS_epoll_wait, FD, BUF(0), V(4), V(-1))),

	/* ---------------- futexes ---------------- */
	ROW("futex wait", K_FUTEX, 0, C(SYS_futex, FUT, V(FUTEX_WAIT_PRIVATE), V(0), NUL, NUL, V(0))),
	ROW("futex wait, other value", K_FUTEX, 0, C(SYS_futex, FUT, V(FUTEX_WAIT_PRIVATE), V(1), NUL, NUL, V(0))),
	ROW("futex wait with a timeout", K_NONE, 0, C(SYS_futex, FUT, V(FUTEX_WAIT_PRIVATE), V(0), TS(1000000), NUL, V(0))),
	ROW("futex wait bitset", K_FUTEX, 0, C(SYS_futex, FUT, V(FUTEX_WAIT_BITSET_PRIVATE), V(0), NUL, NUL, V(1))),
	ROW("futex wait bitset 0", K_FUTEX, 0, C(SYS_futex, FUT, V(FUTEX_WAIT_BITSET_PRIVATE), V(0), NUL, NUL, V(0))),
	ROW("futex wake", K_FUTEX, 0, C(SYS_futex, FUT, V(FUTEX_WAKE_PRIVATE), V(1), NUL, NUL, V(0))),
	ROW("futex wake bitset", K_FUTEX, 0, C(SYS_futex, FUT, V(FUTEX_WAKE_BITSET_PRIVATE), V(1), NUL, NUL, V(1))),
	ROW("futex unmapped", K_NONE, 0, C(SYS_futex, UNM(0), V(FUTEX_WAIT_PRIVATE), V(0), NUL, NUL, V(0))),
	ROW("futex misaligned", K_NONE, 0, C(SYS_futex, BUF(1), V(FUTEX_WAIT_PRIVATE), V(0), NUL, NUL, V(0))),
	ROW("futex unknown op", K_NONE, 0, C(SYS_futex, FUT, V(99), V(0), NUL, NUL, V(0))),
	ROW("futex_wait", K_FUTEX, 0, C(NR_futex_wait, FUT, V(0), V(0xffffffff), V(FUTEX2_U32_PRIVATE), NUL, V(CLOCK_MONOTONIC))),
	ROW("futex_wait, other value", K_FUTEX, 0,
	    C(NR_futex_wait, FUT, V(1), V(0xffffffff), V(FUTEX2_U32_PRIVATE), NUL, V(CLOCK_MONOTONIC))),
	ROW("futex_wait unknown flags", K_FUTEX, 0, C(NR_futex_wait, FUT, V(1), V(0xffffffff), V(0x1000), NUL, V(0))),
	ROW("futex_wake", K_FUTEX, 0, C(NR_futex_wake, FUT, V(0xffffffff), V(1), V(FUTEX2_U32_PRIVATE))),

	/* ---------------- processes and pipes ---------------- */
	ROW("waitid exited child", K_CHILD, R_NOMEM, C(SYS_waitid, V(P_PID), PID, BUF(0), V(WEXITED), NUL)),
	ROW("waitid WNOWAIT", K_CHILD, R_NOMEM, C(SYS_waitid, V(P_PID), PID, BUF(0), V(WEXITED | WNOWAIT), NUL)),
	ROW("waitid running child WNOHANG", K_CHILD_RUN, 0, C(SYS_waitid, V(P_PID), PID, BUF(0), V(WEXITED | WNOHANG), NUL)),
	ROW("waitid running child", K_CHILD_RUN, R_NOMEM, C(SYS_waitid, V(P_PID), PID, BUF(0), V(WEXITED), NUL)),
	ROW("waitid no options", K_CHILD, 0, C(SYS_waitid, V(P_PID), PID, BUF(0), V(0), NUL)),
	ROW("waitid not a child", K_NONE, 0, C(SYS_waitid, V(P_PID), V(1), BUF(0), V(WEXITED), NUL)),
	ROW("waitid infop unmapped", K_CHILD, 0, C(SYS_waitid, V(P_PID), PID, UNM(0), V(WEXITED), NUL)),
	ROW("waitid with rusage", K_CHILD, R_NOMEM, C(SYS_waitid, V(P_PID), PID, BUF(0), V(WEXITED), BUF(512))),
	ROW("pipe", K_NONE, 0, C(SYS_pipe, BUF(0))),
	ROW("pipe2 O_NONBLOCK|O_CLOEXEC", K_NONE, 0, C(SYS_pipe2, BUF(0), V(O_NONBLOCK | O_CLOEXEC))),
	ROW("pipe2 unknown flag", K_NONE, 0, C(SYS_pipe2, BUF(0), V(0x1))),
	ROW("pipe unmapped", K_NONE, 0, C(SYS_pipe, UNM(0))),
	ROW("pipe read-only", K_NONE, 0, C(SYS_pipe, RO(0))),
	ROW("pipe running into an unmapped page", K_NONE, 0, C(SYS_pipe, EDGE(4))),

	/* ---------------- a sample of calls only the threads run ---------------- */
	ROW("getdents64", K_PDIR, 0, C(SYS_getdents64, FD, BUF(0), V(4096))),
	ROW("getdents64 small buffer", K_PDIR, 0, C(SYS_getdents64, FD, BUF(0), V(8))),
	ROW("getdents64 unmapped", K_PDIR, 0, C(SYS_getdents64, FD, UNM(0), V(4096))),
	ROW("getdents64 regular file", K_REG, 0, C(SYS_getdents64, FD, BUF(0), V(4096))),
	ROW("readlink", K_TREE, 0, C(SYS_readlink, STR(4), BUF(0), V(64))),
	ROW("readlink not a link", K_TREE, 0, C(SYS_readlink, STR(1), BUF(0), V(64))),
	ROW("readlink unmapped", K_TREE, 0, C(SYS_readlink, STR(4), UNM(0), V(64))),
	ROW("readlinkat relative", K_TREE, 0, C(SYS_readlinkat, FD, STR(20), BUF(0), V(64))),
	ROW("fchmod", K_REG, 0, C(SYS_fchmod, FD, V(0600))),
	ROW("chmod", K_TREE, 0, C(SYS_chmod, STR(1), V(0604))),
	ROW("fchown", K_REG, R_ROOT, C(SYS_fchown, FD, V(65534), V(65534))),
	ROW("lseek SEEK_SET", K_REG, 0, C(SYS_lseek, FD, V(10), V(SEEK_SET))),
	ROW("lseek SEEK_END", K_REG, 0, C(SYS_lseek, FD, V(-10), V(SEEK_END))),
	ROW("lseek negative", K_REG, 0, C(SYS_lseek, FD, V(-1), V(SEEK_SET))),
	ROW("lseek pipe", K_PIPE_R, 0, C(SYS_lseek, FD, V(0), V(SEEK_SET))),
	ROW("lseek SEEK_DATA beyond the end", K_REG, 0, C(SYS_lseek, FD, V(100000), V(SEEK_DATA))),
	ROW("lseek unknown whence", K_REG, 0, C(SYS_lseek, FD, V(0), V(9))),
	ROW("fcntl F_GETFL", K_PIPE_R_NB, 0, C(SYS_fcntl, FD, V(F_GETFL), V(0))),
	ROW("fcntl F_SETFL O_NONBLOCK", K_PIPE_R, 0, C(SYS_fcntl, FD, V(F_SETFL), V(O_NONBLOCK))),
	ROW("fcntl F_DUPFD", K_REG, 0, C(SYS_fcntl, FD, V(F_DUPFD), V(100))),
	ROW("fcntl F_DUPFD_CLOEXEC", K_REG, 0, C(SYS_fcntl, FD, V(F_DUPFD_CLOEXEC), V(0))),
	ROW("fcntl unknown command", K_REG, 0, C(SYS_fcntl, FD, V(9999), V(0))),
	ROW("fcntl F_GETLK unmapped", K_REG, 0, C(SYS_fcntl, FD, V(F_GETLK), UNM(0))),
	ROW("ioctl FIONREAD", K_PIPE_R, 0, C(SYS_ioctl, FD, V(FIONREAD), BUF(0))),
	ROW("ioctl FIONREAD unmapped", K_PIPE_R, 0, C(SYS_ioctl, FD, V(FIONREAD), UNM(0))),
	ROW("ioctl unknown request", K_REG, 0, C(SYS_ioctl, FD, V(0x1234), BUF(0))),
	ROW("ioctl FIONBIO", K_PIPE_R, 0, C(SYS_ioctl, FD, V(FIONBIO), RO(0))),
	ROW("dup", K_REG, 0, C(SYS_dup, FD)),
	ROW("dup closed fd", K_CLOSED, 0, C(SYS_dup, FD)),
	ROW("dup2", K_REG, 0, C(SYS_dup2, FD, V(50))),
	ROW("dup2 onto itself", K_REG, 0, C(SYS_dup2, FD, FD)),
	ROW("dup2 fd -1", K_REG, 0, C(SYS_dup2, V(-1), V(50))),
	ROW("dup3 O_CLOEXEC", K_REG, 0, C(SYS_dup3, FD, V(51), V(O_CLOEXEC))),
	ROW("dup3 onto itself", K_REG, 0, C(SYS_dup3, FD, FD, V(0))),
	ROW("dup3 unknown flag", K_REG, 0, C(SYS_dup3, FD, V(51), V(0x1))),
	ROW("getpid", K_NONE, 0, C(SYS_getpid)),
	ROW("getppid", K_NONE, 0, C(SYS_getppid)),
	ROW("getuid", K_NONE, 0, C(SYS_getuid)),
	ROWX("gettid", K_NONE, 0, ON_EXECUTORS, ANY_CFG, WHY_THREAD, C(SYS_gettid)),
	ROW("uname", K_NONE, 0, C(SYS_uname, BUF(0))),
	ROW("uname unmapped", K_NONE, 0, C(SYS_uname, UNM(0))),
	ROW("access", K_PFILE, 0, C(SYS_access, PATH, V(R_OK))),
	ROW("access missing", K_TREE, 0, C(SYS_access, STR(2), V(R_OK))),
	ROW("faccessat", K_PFILE, 0, C(SYS_faccessat, V(AT_FDCWD), PATH, V(W_OK))),
	ROW("faccessat2 unknown flag", K_PFILE, 0, C(SYS_faccessat2, V(AT_FDCWD), PATH, V(R_OK), V(0x1))),
	ROW("truncate", K_TREE, 0, C(SYS_truncate, STR(1), V(10))),
	ROW("truncate missing", K_TREE, 0, C(SYS_truncate, STR(2), V(10))),
	ROW("utimensat", K_TREE, 0, C(SYS_utimensat, V(AT_FDCWD), STR(1), NUL, V(0))),
	ROW("utimensat unknown flag", K_TREE, 0, C(SYS_utimensat, V(AT_FDCWD), STR(1), NUL, V(0x8000))),
	ROW("copy_file_range", K_REG, 0, C(SYS_copy_file_range, FD, OFFP(0), FD, OFFP(8192), V(100), V(0))),
	ROW("copy_file_range to a pipe", K_FILEPIPE, 0, C(SYS_copy_file_range, FD, NUL, FDX, NUL, V(10), V(0))),
	ROW("copy_file_range offset unmapped", K_REG, 0, C(SYS_copy_file_range, FD, UNM(0), FD, OFFP(8192), V(100), V(0))),
	ROW("sendfile", K_FILEPIPE, 0, C(SYS_sendfile, FDX, FD, OFFP(0), V(100))),
	ROW("sendfile at the position", K_FILEPIPE, 0, C(SYS_sendfile, FDX, FD, NUL, V(100))),
	ROW("sendfile offset unmapped", K_FILEPIPE, 0, C(SYS_sendfile, FDX, FD, UNM(0), V(100))),
	ROW("getcwd", K_NONE, 0, C(SYS_getcwd, BUF(0), V(256))),
	ROW("getcwd too small", K_NONE, 0, C(SYS_getcwd, BUF(0), V(1))),
	ROW("mknodat FIFO", K_TREE, 0, C(SYS_mknodat, V(AT_FDCWD), STR(5), V(S_IFIFO | 0644), V(0))),
	ROW("flock", K_REG, 0, C(SYS_flock, FD, V(LOCK_EX | LOCK_NB))),
	ROW("flock unknown op", K_REG, 0, C(SYS_flock, FD, V(99))),
	ROW("nanosleep 1 ms", K_NONE, 0, C(SYS_nanosleep, TS(1000000), NUL)),
	ROW("nanosleep negative", K_NONE, 0, C(SYS_nanosleep, TS(-1), NUL)),
	ROW("clock_gettime", K_NONE, R_NOMEM, C(SYS_clock_gettime, V(CLOCK_MONOTONIC), BUF(0))),
	ROW("clock_gettime unknown clock", K_NONE, 0, C(SYS_clock_gettime, V(999), BUF(0))),
	ROW("clock_gettime unmapped", K_NONE, 0, C(SYS_clock_gettime, V(CLOCK_MONOTONIC), UNM(0))),
	ROW("getrandom", K_NONE, R_NOMEM, C(SYS_getrandom, BUF(0), V(16), V(0))),
	ROW("getrandom unknown flag", K_NONE, 0, C(SYS_getrandom, BUF(0), V(16), V(0x100))),
	ROW("sched_yield", K_NONE, 0, C(SYS_sched_yield)),
	ROW("kill 0", K_NONE, 0, C(SYS_kill, V(0), V(0))),
	ROW("memfd_create", K_NONE, 0, C(SYS_memfd_create, STR(21), V(MFD_CLOEXEC))),
	ROW("eventfd2", K_NONE, 0, C(SYS_eventfd2, V(5), V(EFD_NONBLOCK))),
	ROW("timerfd_create", K_NONE, 0, C(SYS_timerfd_create, V(CLOCK_MONOTONIC), V(0))),
	ROW("inotify_init1", K_NONE, 0, C(SYS_inotify_init1, V(IN_NONBLOCK))),
	ROW("epoll_create1", K_NONE, 0, C(SYS_epoll_create1, V(0))),
	ROW("epoll_create1 unknown flag", K_NONE, 0, C(SYS_epoll_create1, V(1))),
	ROW("socketpair", K_NONE, 0, C(SYS_socketpair, V(AF_UNIX), V(SOCK_STREAM), V(0), BUF(0))),
	ROW("socketpair unmapped", K_NONE, 0, C(SYS_socketpair, V(AF_UNIX), V(SOCK_STREAM), V(0), UNM(0))),
	ROW("getsockopt SO_TYPE", K_SP_STREAM, 0, C(SYS_getsockopt, FD, V(SOL_SOCKET), V(SO_TYPE), BUF(0), LENP(4))),
	ROW("getsockopt length unmapped", K_SP_STREAM, 0, C(SYS_getsockopt, FD, V(SOL_SOCKET), V(SO_TYPE), BUF(0), UNM(0))),
	ROW("setsockopt SO_REUSEADDR", K_TCP_SOCK, 0, C(SYS_setsockopt, FD, V(SOL_SOCKET), V(SO_REUSEADDR), RO(0), V(4))),
	ROW("getsockname", K_UNIX_DG_NAMED, 0, C(SYS_getsockname, FD, BUF(0), LENP(128))),
	ROW("getpeername unconnected", K_TCP_SOCK, 0, C(SYS_getpeername, FD, BUF(0), LENP(128))),
	ROWX("prctl PR_GET_NAME", K_NONE, 0, ON_EXECUTORS, ANY_CFG, WHY_THREAD, C(SYS_prctl, V(PR_GET_NAME), BUF(0))),
	ROW("unknown call 1000", K_NONE, 0, C(1000)),

	/* ---------------- sequences (batches, syslet chains) ---------------- */
	ROW("chain: read then write", K_FILEPIPE, 0, C(SYS_read, FD2, BUF(0), V(10)), C(SYS_write, FD, BUF(0), V(10))),
	ROW("chain: a failure does not stop", K_REG, 0, C(SYS_read, FD, BUF(0), V(10)), C(SYS_read, V(-1), BUF(0), V(10)),
	    C(SYS_write, FD, BUF(0), V(10))),
	ROW("chain: stop after a failure", K_REG, R_STOP, C(SYS_read, FD, BUF(0), V(10)), C(SYS_read, V(-1), BUF(0), V(10)),
	    C(SYS_write, FD, BUF(0), V(10))),
	ROW("chain: a short read does not stop", K_REG, R_STOP, C(SYS_pread64, FD, BUF(0), V(100), V(8150)),
	    C(SYS_pread64, FD, BUF(200), V(10), V(0))),
	ROW("chain: a bad call among good ones", K_REG, 0, C(SYS_write, FD, BUF(0), V(10)),
	    C(SYS_writev, FD, IOV(IOV_ONE), V(1025)), C(SYS_write, FD, BUF(100), V(10))),
	ROW("chain: a bad call among good ones, stop", K_REG, R_STOP, C(SYS_write, FD, BUF(0), V(10)),
	    C(SYS_writev, FD, IOV(IOV_ONE), V(1025)), C(SYS_write, FD, BUF(100), V(10))),
	ROW("chain: close then write", K_REG, 0, C(SYS_close, FD), C(SYS_write, FD, BUF(0), V(10))),
	ROW("chain: the fd number reused", K_REG, 0, C(SYS_write, FD, BUF(0), V(5)), C(SYS_close, FD),
	    C(SYS_openat, V(AT_FDCWD), STR(5), V(O_CREAT | O_RDWR), V(0644)), C(SYS_write, FD, BUF(100), V(5))),
	ROW("chain: dup2 over a used fd", K_FILEPIPE, 0, C(SYS_write, FD, BUF(0), V(5)), C(SYS_dup2, FDX, FD),
	    C(SYS_write, FD, BUF(100), V(5))),
	ROW("chain: writes at the position", K_REG, 0, C(SYS_write, FD, BUF(0), V(10)), C(SYS_write, FD, BUF(100), V(10)),
	    C(SYS_read, FD, BUF(200), V(10))),
	ROW("chain: an unmapped argument in the middle", K_REG, R_NOBATCH, C(SYS_read, FD, BUF(0), V(10)),
	    C(SYS_write, FD, VUNM, V(10)), C(SYS_read, FD, BUF(100), V(10))),
	ROW("plain close after use: the peer sees the hang-up", K_SP_STREAM, R_CLOSE_FD, C(SYS_write, FD, BUF(0), V(5))),
	ROW("plain close after use: the reader sees end of file", K_PIPE_W, R_CLOSE_FD, C(SYS_write, FD, BUF(0), V(5))),

	/* ---------------- non-blocking fds stay non-blocking ---------------- */
	ROW("O_NONBLOCK inotify, then a pipe with its number", K_INOTIFY_NB, 0, C(SYS_read, FD, BUF(0), V(4096)),
	    C(SYS_close, FD), C(SYS_pipe2, BUF(8192), V(O_NONBLOCK)), C(SYS_read, FD, BUF(64), V(10))),
	ROW("O_NONBLOCK signalfd, then a pipe with its number", K_SIGNALFD_NB, 0, C(SYS_read, FD, BUF(0), V(128)),
	    C(SYS_close, FD), C(SYS_pipe2, BUF(8192), V(O_NONBLOCK)), C(SYS_read, FD, BUF(64), V(10))),
	ROW("O_NONBLOCK pty, then a pipe with its number", K_PTY_NB, 0, C(SYS_read, FD, BUF(0), V(100)), C(SYS_close, FD),
	    C(SYS_pipe2, BUF(8192), V(O_NONBLOCK)), C(SYS_read, FD, BUF(64), V(10))),
	ROW("/dev/null, then an O_NONBLOCK pipe with its number", K_DEVNULL, 0, C(SYS_write, FD, BUF(0), V(10)),
	    C(SYS_close, FD), C(SYS_pipe2, BUF(8192), V(O_NONBLOCK)), C(SYS_read, FD, BUF(64), V(10))),
	ROW("O_NONBLOCK set by fcntl", K_PIPE_E, 0, C(SYS_fcntl, FD, V(F_SETFL), V(O_NONBLOCK)), C(SYS_read, FD, BUF(0), V(10))),

	/* ---------------- credentials: a call runs with its caller's ---------------- */
	ROW("open a root-only file as uid 65534", K_CREDS, R_ROOT, C(SYS_open, PATH, V(O_RDONLY), V(0))),
	ROW("openat a root-only file as uid 65534", K_CREDS, R_ROOT, C(SYS_openat, V(AT_FDCWD), PATH, V(O_RDONLY), V(0))),
	ROW("openat2 a root-only file as uid 65534", K_CREDS, R_ROOT,
	    C(SYS_openat2, V(AT_FDCWD), PATH, HOW(O_RDONLY), V(24))),
	ROW("create a file as uid 65534", K_CREDS, R_ROOT, C(SYS_openat, V(AT_FDCWD), STR(5), V(O_CREAT | O_RDWR), V(0644))),
	ROW("mkdir as uid 65534", K_CREDS, R_ROOT, C(SYS_mkdir, STR(3), V(0755))),
	ROW("unlink a root file as uid 65534", K_CREDS, R_ROOT, C(SYS_unlink, PATH)),
	ROW("stat a root-only file as uid 65534", K_CREDS, R_ROOT | R_MASKSTAT, C(SYS_stat, PATH, BUF(0))),
	ROW("fchown as uid 65534", K_CREDS, R_ROOT, C(SYS_open, STR(5), V(O_CREAT | O_RDWR), V(0644)),
	    C(SYS_fchown, V(0), V(0), V(0))),

	/* ---------------- umem_add ---------------- */
	ROW("umem_add", K_NONE, R_NOBATCH, C(__NR_umem_add, CTR(10), V(5))),
	ROW("umem_add to -4", K_NONE, R_NOBATCH, C(__NR_umem_add, CTR(0), V(-4))),
	ROW("umem_add to -4 after a call that waited", K_PIPE_E, R_NOBATCH, C(SYS_read, FD, BUF(0), V(5)),
	    C(__NR_umem_add, CTR(0), V(-4))),
	ROW("umem_add to -4 twice after a call that waited", K_PIPE_E, R_NOBATCH, C(SYS_read, FD, BUF(0), V(5)),
	    C(__NR_umem_add, CTR(0), V(-2)), C(__NR_umem_add, CTR(-2), V(-2))),
	ROW("umem_add counter unmapped", K_NONE, R_NOBATCH, C(__NR_umem_add, UNM(0), V(1))),
	ROW("umem_add counter read-only", K_NONE, R_NOBATCH, C(__NR_umem_add, RO(0), V(1))),
	ROW("umem_add counter NULL", K_NONE, R_NOBATCH, C(__NR_umem_add, NUL, V(1))),
	ROW("umem_add, counter pointer unmapped", K_NONE, R_NOBATCH, C(__NR_umem_add, VUNM, V(1))),
};

const unsigned int conf_nrows = sizeof(conf_rows) / sizeof(conf_rows[0]);

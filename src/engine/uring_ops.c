/* SPDX-License-Identifier: MIT */
/*
 * The io_uring column: one struct sr_uring_op per call that io_uring can
 * perform. Each prep turns the raw arguments of the call (a[0..5], in the
 * order of the x86-64 entry point) into an SQE with liburing's helpers; each
 * done (where needed) makes the result and the side effects identical to the
 * plain call's. Anything io_uring would do differently with these arguments
 * is refused with -EOPNOTSUPP, and the call runs on another engine.
 *
 * Opcodes newer than Debian's liburing 2.3 headers are defined below from
 * the kernel's UAPI (include/uapi/linux/io_uring.h, enum io_uring_op); they
 * are used only where the running kernel's probe lists them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <liburing.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "../core/core.h"
#include "../core/rawsys.h"
#include "../core/uaccess.h"
#include "../table/table.h"

/* enum io_uring_op, kernel 6.7 .. 6.16 */
#define SR_IORING_OP_WAITID 50
#define SR_IORING_OP_FUTEX_WAIT 51
#define SR_IORING_OP_FUTEX_WAKE 52
#define SR_IORING_OP_FTRUNCATE 55
#define SR_IORING_OP_BIND 56
#define SR_IORING_OP_LISTEN 57
#define SR_IORING_OP_EPOLL_WAIT 59
#define SR_IORING_OP_PIPE 62
/* futex2 flags (include/uapi/linux/futex.h, 6.7) */
#define SR_FUTEX2_SIZE_U32 0x02
#define SR_FUTEX2_PRIVATE 128

#define P(x) ((void *)(x))
#define OP(name, opc, prepfn, donefn)                                                       \
	const struct sr_uring_op sr_uop_##name = {.opcode = (opc), .prep = (prepfn), .done = (donefn)}
/* An op with fds (bits of mask: a[i]) whose O_NONBLOCK the plain call
 * honours on a pipe or socket -- accept says EAGAIN, connect EINPROGRESS,
 * splice EAGAIN -- where io_uring waits for readiness (table.h, nbfds). */
#define OP_NB(name, opc, prepfn, donefn, mask)                                              \
	const struct sr_uring_op sr_uop_##name = {.opcode = (opc), .nbfds = (mask), .prep = (prepfn), .done = (donefn)}
/* An op that waits for an event, not for I/O (table.h, waits). */
#define OP_WAITS(name, opc, prepfn, donefn)                                                 \
	const struct sr_uring_op sr_uop_##name = {.opcode = (opc), .waits = 1, .prep = (prepfn), .done = (donefn)}
/* These change what fd numbers name (table.h, fdtab). */
#define OP_FDTAB(name, opc, prepfn, mask)                                                   \
	const struct sr_uring_op sr_uop_##name = {.opcode = (opc), .fdtab = 1, .nbfds = (mask), .prep = (prepfn)}
/* An op io_uring always runs in io-wq (REQ_F_FORCE_ASYNC in its prep). */
#define OP_PUNTS(name, opc, prepfn, donefn)                                                 \
	const struct sr_uring_op sr_uop_##name = {                                          \
		.opcode = (opc), .punts = 1, .prep = (prepfn), .done = (donefn)}

/* ---- fd kinds whose plain call io_uring does not reproduce ---- */

/*
 * What the preps of one submit asked about fds (lseek, fstat, getsockopt):
 * a batch of 64 writes to one fd asks once, not 64 times. Valid only from
 * sr_uring_kinds_begin to the end of that submit, on that thread: between
 * submits an fd number may name another file, and a timeout or position
 * may change at any time, so nothing is kept longer. Within one submit the
 * calls have not run yet when their preps ask (the kernel sees them at
 * io_uring_submit), so the answers are the ones each prep would get --
 * except a position after an SQ that filled mid-submit (uring.c, get_sqe),
 * which only xfer_done_rw's check of a read looks at.
 */
enum { Q_POS, Q_RCV, Q_SND };
struct kent {
	long fd;
	long val; /* Q_POS: lseek's answer; Q_RCV/Q_SND: the timeout is set */
	int q;
};
static __thread struct {
	unsigned int n;
	struct kent e[8];
} kc;

void sr_uring_kinds_begin(void)
{
	kc.n = 0;
}

static inline struct kent *kc_find(long fd, int q)
{
	/* a batch asks about one fd call after call: the last answer first */
	if (sr_likely(kc.n && kc.e[kc.n - 1].fd == fd && kc.e[kc.n - 1].q == q))
		return &kc.e[kc.n - 1];
	for (unsigned int i = 0; i < kc.n; i++)
		if (kc.e[i].fd == fd && kc.e[i].q == q)
			return &kc.e[i];
	return NULL;
}

static void kc_add(long fd, int q, long val)
{
	if (kc.n < sizeof(kc.e) / sizeof(kc.e[0]))
		kc.e[kc.n++] = (struct kent){.fd = fd, .val = val, .q = q};
}

/* SO_RCVTIMEO or SO_SNDTIMEO (opt) of a socket is set: its blocking plain
 * call gives up after it (EAGAIN, connect EINPROGRESS), where io_uring waits
 * for readiness with no limit. Asked at every call that would go to
 * io_uring -- a setsockopt may change it at any time -- and only then (a
 * call that completed inline never asks). Not a socket, or a bad fd: false,
 * and io_uring gives the plain call's ENOTSOCK/EBADF itself. */
static bool sock_timeo_set(long fd, int opt)
{
	int q = opt == SO_RCVTIMEO ? Q_RCV : Q_SND;
	struct kent *k = kc_find(fd, q);
	struct timeval tv = {0, 0};
	socklen_t len = sizeof(tv);
	bool set;

	if (k)
		return k->val;
	set = !sr_rawsys6(SYS_getsockopt, fd, SOL_SOCKET, opt, (long)&tv, (long)&len, 0) && (tv.tv_sec || tv.tv_usec);
	kc_add(fd, q, set);
	return set;
}

/* A blocking socket call of direction opt (SO_RCVTIMEO: receive, accept;
 * SO_SNDTIMEO: send, connect): MSG_DONTWAIT never waits, a timeout makes
 * the plain call stop waiting (table.h, the io_uring column's preps). */
static bool sock_call_differs(long fd, int opt, long msgflags)
{
	return !(msgflags & MSG_DONTWAIT) && sock_timeo_set(fd, opt);
}

/* An fd without a position (lseek said ESPIPE): a character device -- a
 * tty or pty, whose read returns at once by its termios (VMIN 0 VTIME 0,
 * a timer, a hang-up) where io_uring's poll-retry waits for data, or any
 * other device whose readiness io_uring cannot read -- or a socket with a
 * timeout in the transfer's direction. Pipes and sockets without one are
 * io_uring's. */
static __attribute__((noinline)) bool unseekable_differs(long fd, int opt)
{
	struct stat st;

	if (sr_rawsys6(SYS_fstat, fd, (long)&st, 0, 0, 0, 0))
		return false;
	if (S_ISCHR(st.st_mode))
		return true;
	return S_ISSOCK(st.st_mode) && sock_timeo_set(fd, opt);
}

/* ---- read / write family ---- */

/*
 * A transfer at the file position. io_uring (6.1 .. 6.18, io_uring/rw.c)
 * retries a short transfer on a regular file or block device in io-wq and,
 * when the retry fails -- RLIMIT_FSIZE's EFBIG, a full disk, a page that
 * faults, an I/O error -- answers the bytes moved so far but stores the
 * file position only for a result >= 0 (kiocb_done): the position stays
 * where it was, where the plain call has moved it by the count. So prep
 * keeps the position (lseek SEEK_CUR, which also tells an fd without one:
 * unseekable_differs) and the count, and done puts the position where the
 * plain call leaves it after a short count (xfer_done). A call whose
 * position io_uring stored (a read that ended at end of file) is left
 * alone. The position io_uring would use is the one at prep: calls on one
 * fd are run in submission order by nobody (plain calls of several threads
 * neither), and a batch stops at a short transfer (batchsys.c, IO_LINK).
 */
static __attribute__((noinline)) int xfer_prep_ask(const long a[6], union sr_aux *x, int opt, uint64_t count)
{
	struct kent *k = kc_find(a[0], Q_POS);

	if (k) {
		x->xf.pos = k->val;
	} else {
		x->xf.pos = sr_rawsys6(SYS_lseek, a[0], 0, SEEK_CUR, 0, 0, 0);
		kc_add(a[0], Q_POS, x->xf.pos);
	}
	x->xf.count = count;
	if (x->xf.pos == -ESPIPE && unseekable_differs(a[0], opt))
		return -EOPNOTSUPP;
	return 0;
}

/* The common case inline: the position of the fd the previous prep of
 * this submit asked about, an fd that has one. */
static inline int xfer_prep(const long a[6], union sr_aux *x, int opt, uint64_t count)
{
	if (sr_likely(kc.n)) {
		const struct kent *k = &kc.e[kc.n - 1];
		if (k->fd == a[0] && k->q == Q_POS && k->val >= 0) {
			x->xf.pos = k->val;
			x->xf.count = count;
			return 0;
		}
	}
	return xfer_prep_ask(a, x, opt, count);
}

/* The bytes an iovec array asks for; 0 when it cannot be read (done then
 * treats every positive result as possibly short). */
static uint64_t iov_count(const long a[6])
{
	struct iovec v[16];
	uint64_t total = 0;

	if (a[2] <= 0 || a[2] > 1024)
		return 0;
	for (long i = 0; i < a[2]; i += 16) {
		long k = a[2] - i < 16 ? a[2] - i : 16;
		if (sr_ua_copy(v, (const struct iovec *)a[1] + i, (size_t)k * sizeof(v[0])))
			return 0;
		for (long j = 0; j < k; j++)
			total += v[j].iov_len;
	}
	return total;
}

/* After a short count at the file position: a write io_uring cut short on
 * a regular file or block device never stored its position (such a write
 * is retried until it fails, io_write), so the position moves by the count
 * from wherever it is (also in a batch, where the position at prep was
 * before the calls ahead of it); a read did unless its retry failed --
 * then the position is still the one at prep. The plain call leaves it after the bytes moved,
 * at the end of the file for an append. Slow path: short results only. */
static __attribute__((noinline)) long xfer_short(long res, const long a[6], union sr_aux *x, bool write,
						 bool append, long nowait_flags)
{
	long cur;

	/* A write with RWF_NOWAIT is not retried (REQ_F_NOWAIT): it is
	 * checked as a read is. */
	if (write && !(nowait_flags & RWF_NOWAIT)) {
		struct stat st;
		long fl = sr_rawsys6(SYS_fcntl, a[0], F_GETFL, 0, 0, 0, 0);
		/* only regular files and block devices are retried (need_complete_io);
		 * on others io_uring stored the position of its short count */
		if (sr_rawsys6(SYS_fstat, a[0], (long)&st, 0, 0, 0, 0) || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
			return res;
		if (append || (fl >= 0 && (fl & O_APPEND)))
			sr_rawsys6(SYS_lseek, a[0], 0, SEEK_END, 0, 0, 0);
		else
			sr_rawsys6(SYS_lseek, a[0], res, SEEK_CUR, 0, 0, 0);
		return res;
	}
	cur = sr_rawsys6(SYS_lseek, a[0], 0, SEEK_CUR, 0, 0, 0);
	if (cur == x->xf.pos)
		sr_rawsys6(SYS_lseek, a[0], res, SEEK_CUR, 0, 0, 0);
	return res;
}
/* The common full count (and errors) return at once, inline in each done. */
static inline long xfer_done_rw(long res, const long a[6], union sr_aux *x, bool write, bool append,
				long nowait_flags)
{
	if (sr_likely(res <= 0 || x->xf.pos < 0 || (x->xf.count && (uint64_t)res >= x->xf.count)))
		return res;
	return xfer_short(res, a, x, write, append, nowait_flags);
}
static long done_read(long res, const long a[6], union sr_aux *x)
{
	return xfer_done_rw(res, a, x, false, false, 0);
}
static long done_write(long res, const long a[6], union sr_aux *x)
{
	return xfer_done_rw(res, a, x, true, false, 0);
}
/* preadv2/pwritev2: only at offset -1 (prep sets pos to -1 otherwise) */
static long done_write2(long res, const long a[6], union sr_aux *x)
{
	return xfer_done_rw(res, a, x, true, (a[5] & RWF_APPEND) != 0, a[5]);
}

/* An iovec count io_uring's 32-bit SQE length would cut: readv(2) takes an
 * unsigned long (EINVAL above UIO_MAXIOV). */
static bool iovcnt_narrows(long n)
{
	return (unsigned long)n > 0xffffffffUL;
}

static int prep_read(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	/* offset -1: the file position, used and advanced as read(2) does */
	io_uring_prep_read(s, (int)a[0], P(a[1]), (unsigned)a[2], (__u64)-1);
	if (a[2] < 0 || (unsigned long)a[2] > 0x7ffff000ul)
		return -EOPNOTSUPP;
	return xfer_prep(a, x, SO_RCVTIMEO, (uint64_t)a[2]);
}
static int prep_pread(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (a[3] < 0)
		return -EOPNOTSUPP; /* pread64 says EINVAL; io_uring would use the position */
	io_uring_prep_read(s, (int)a[0], P(a[1]), (unsigned)a[2], (__u64)a[3]);
	return (unsigned long)a[2] > 0x7ffff000ul ? -EOPNOTSUPP : 0;
}
static int prep_readv(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	if (iovcnt_narrows(a[2]))
		return -EOPNOTSUPP;
	io_uring_prep_readv(s, (int)a[0], P(a[1]), (unsigned)a[2], (__u64)-1);
	return xfer_prep(a, x, SO_RCVTIMEO, iov_count(a));
}
static int prep_preadv(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (a[3] < 0 || iovcnt_narrows(a[2]))
		return -EOPNOTSUPP;
	io_uring_prep_readv(s, (int)a[0], P(a[1]), (unsigned)a[2], (__u64)a[3]);
	return 0;
}
/* The RWF_ flags io_uring treats as the plain call does; any other (say
 * RWF_HIPRI, which io_uring refuses without IOPOLL) is left to the threads. */
#define SR_RWF_SAME (RWF_NOWAIT | RWF_DSYNC | RWF_SYNC | RWF_APPEND)

static int prep_preadv2(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	if (a[5] & ~(long)SR_RWF_SAME || iovcnt_narrows(a[2]))
		return -EOPNOTSUPP;
	/* preadv2's offset -1 means the file position, as io_uring's does */
	io_uring_prep_readv2(s, (int)a[0], P(a[1]), (unsigned)a[2], (__u64)a[3], (int)a[5]);
	x->xf.pos = -1;
	return a[3] == -1 ? xfer_prep(a, x, SO_RCVTIMEO, iov_count(a)) : 0;
}
static int prep_write(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	io_uring_prep_write(s, (int)a[0], P(a[1]), (unsigned)a[2], (__u64)-1);
	if (a[2] < 0 || (unsigned long)a[2] > 0x7ffff000ul)
		return -EOPNOTSUPP;
	return xfer_prep(a, x, SO_SNDTIMEO, (uint64_t)a[2]);
}
static int prep_pwrite(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (a[3] < 0)
		return -EOPNOTSUPP;
	io_uring_prep_write(s, (int)a[0], P(a[1]), (unsigned)a[2], (__u64)a[3]);
	return (unsigned long)a[2] > 0x7ffff000ul ? -EOPNOTSUPP : 0;
}
static int prep_writev(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	if (iovcnt_narrows(a[2]))
		return -EOPNOTSUPP;
	io_uring_prep_writev(s, (int)a[0], P(a[1]), (unsigned)a[2], (__u64)-1);
	return xfer_prep(a, x, SO_SNDTIMEO, iov_count(a));
}
static int prep_pwritev(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (a[3] < 0 || iovcnt_narrows(a[2]))
		return -EOPNOTSUPP;
	io_uring_prep_writev(s, (int)a[0], P(a[1]), (unsigned)a[2], (__u64)a[3]);
	return 0;
}
static int prep_pwritev2(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	if (a[5] & ~(long)SR_RWF_SAME || iovcnt_narrows(a[2]))
		return -EOPNOTSUPP;
	io_uring_prep_writev2(s, (int)a[0], P(a[1]), (unsigned)a[2], (__u64)a[3], (int)a[5]);
	x->xf.pos = -1;
	return a[3] == -1 ? xfer_prep(a, x, SO_SNDTIMEO, iov_count(a)) : 0;
}
/* A transfer: its direction and buffer shape, its offset argument (0:
 * always the file position), and a[0] an fd whose O_NONBLOCK matters. */
#define OP_XFER(name, opc, prepfn, x, pos, ...)                                              \
	const struct sr_uring_op sr_uop_##name = {.opcode = (opc), .nbfds = 1, .xfer = (x),   \
						  .pos_arg = (pos), .prep = (prepfn), __VA_ARGS__}
OP_XFER(read, IORING_OP_READ, prep_read, SR_XFER_IN_BUF, 0, .done = done_read);
OP_XFER(pread64, IORING_OP_READ, prep_pread, SR_XFER_IN_BUF, 3);
OP_XFER(readv, IORING_OP_READV, prep_readv, SR_XFER_IN_IOV, 0, .done = done_read);
OP_XFER(preadv, IORING_OP_READV, prep_preadv, SR_XFER_IN_IOV, 3);
OP_XFER(preadv2, IORING_OP_READV, prep_preadv2, SR_XFER_IN_IOV, 3, .done = done_read);
OP_XFER(write, IORING_OP_WRITE, prep_write, SR_XFER_OUT_BUF, 0, .rest = 1, .done = done_write);
OP_XFER(pwrite64, IORING_OP_WRITE, prep_pwrite, SR_XFER_OUT_BUF, 3);
OP_XFER(writev, IORING_OP_WRITEV, prep_writev, SR_XFER_OUT_IOV, 0, .vrest = 1, .done = done_write);
OP_XFER(pwritev, IORING_OP_WRITEV, prep_pwritev, SR_XFER_OUT_IOV, 3, .vrest = 1);
OP_XFER(pwritev2, IORING_OP_WRITEV, prep_pwritev2, SR_XFER_OUT_IOV, 3, .vrest = 1, .done = done_write2);

/* ---- sync ---- */

static int prep_fsync(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_fsync(s, (int)a[0], 0);
	return 0;
}
static int prep_fdatasync(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_fsync(s, (int)a[0], IORING_FSYNC_DATASYNC);
	return 0;
}
static int prep_sync_file_range(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (a[2] < 0 || a[2] > 0xffffffffL || a[1] < 0)
		return -EOPNOTSUPP; /* io_uring carries a 32-bit length */
	io_uring_prep_sync_file_range(s, (int)a[0], (unsigned)a[2], (__u64)a[1], (int)a[3]);
	return 0;
}
OP_PUNTS(fsync, IORING_OP_FSYNC, prep_fsync, NULL);
OP_PUNTS(fdatasync, IORING_OP_FSYNC, prep_fdatasync, NULL);
OP_PUNTS(sync_file_range, IORING_OP_SYNC_FILE_RANGE, prep_sync_file_range, NULL);

/* ---- open / close ---- */

static int prep_open(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_openat(s, AT_FDCWD, P(a[0]), (int)a[1], (mode_t)a[2]);
	return 0;
}
static int prep_creat(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_openat(s, AT_FDCWD, P(a[0]), O_CREAT | O_WRONLY | O_TRUNC, (mode_t)a[1]);
	return 0;
}
static int prep_openat(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_openat(s, (int)a[0], P(a[1]), (int)a[2], (mode_t)a[3]);
	return 0;
}
static int prep_openat2(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	/* io_uring takes struct open_how of exactly the size it knows */
	if ((size_t)a[3] != sizeof(struct open_how))
		return -EOPNOTSUPP;
	io_uring_prep_openat2(s, (int)a[0], P(a[1]), P(a[2]));
	return 0;
}
static int prep_close(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	struct stat st;

	(void)x;
	/* io_uring will not close an io_uring instance (EBADF, and the fd
	 * stays open): an fd on an anonymous inode (no file type: io_uring,
	 * eventfd, epoll, ...) goes to the threads, whose plain close
	 * answers. One fstat, on this path only. */
	if (fstat((int)a[0], &st) == 0 && !(st.st_mode & S_IFMT))
		return -EOPNOTSUPP;
	io_uring_prep_close(s, (int)a[0]);
	return 0;
}
OP_FDTAB(open, IORING_OP_OPENAT, prep_open, 0);
OP_FDTAB(creat, IORING_OP_OPENAT, prep_creat, 0);
OP_FDTAB(openat, IORING_OP_OPENAT, prep_openat, 0);
OP_FDTAB(openat2, IORING_OP_OPENAT2, prep_openat2, 0);
OP_FDTAB(close, IORING_OP_CLOSE, prep_close, 0);

/* ---- stat family: statx into aux, then the struct stat the call fills ---- */

/* A NULL path: with AT_EMPTY_PATH, 6.11 and later take it as "" (the fd
 * itself) where io_uring's statx says EFAULT; earlier kernels say EFAULT
 * plainly. The plain call answers for the running kernel. */
static int prep_statx(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (!a[1])
		return -EOPNOTSUPP;
	io_uring_prep_statx(s, (int)a[0], P(a[1]), (int)a[2], (unsigned)a[3], P(a[4]));
	return 0;
}

static void stat_prep(struct io_uring_sqe *s, int dfd, const char *path, int flags, union sr_aux *x)
{
	io_uring_prep_statx(s, dfd, path, flags, STATX_BASIC_STATS, &x->stx);
}

/* What the kernel's cp_new_stat puts in an x86-64 struct stat, copied out
 * as the kernel does: a buffer that cannot be written is the call's
 * EFAULT (the bytes before the fault written, as copy_to_user leaves them). */
static long stat_done(long res, struct stat *ust, union sr_aux *x)
{
	const struct statx *sx = &x->stx;
	struct stat stb, *st = &stb;

	if (res < 0)
		return res;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(sx->stx_dev_major, sx->stx_dev_minor);
	st->st_ino = sx->stx_ino;
	st->st_nlink = sx->stx_nlink;
	st->st_mode = sx->stx_mode;
	st->st_uid = sx->stx_uid;
	st->st_gid = sx->stx_gid;
	st->st_rdev = makedev(sx->stx_rdev_major, sx->stx_rdev_minor);
	st->st_size = (off_t)sx->stx_size;
	st->st_blksize = sx->stx_blksize;
	st->st_blocks = (blkcnt_t)sx->stx_blocks;
	st->st_atim.tv_sec = sx->stx_atime.tv_sec;
	st->st_atim.tv_nsec = sx->stx_atime.tv_nsec;
	st->st_mtim.tv_sec = sx->stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = sx->stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = sx->stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = sx->stx_ctime.tv_nsec;
	return sr_ua_copy(ust, st, sizeof(*st));
}

static int prep_stat(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	stat_prep(s, AT_FDCWD, P(a[0]), 0, x);
	return 0;
}
static int prep_lstat(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	stat_prep(s, AT_FDCWD, P(a[0]), AT_SYMLINK_NOFOLLOW, x);
	return 0;
}
static long done_stat(long res, const long a[6], union sr_aux *x)
{
	return stat_done(res, P(a[1]), x);
}
static int prep_fstat(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	stat_prep(s, (int)a[0], "", AT_EMPTY_PATH, x);
	return 0;
}
static int prep_newfstatat(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	/* newfstatat accepts these flags; statx any others differently */
	if (a[3] & ~(long)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EOPNOTSUPP;
	if (!a[1])
		return -EOPNOTSUPP; /* a NULL path: as prep_statx */
	stat_prep(s, (int)a[0], P(a[1]), (int)a[3], x);
	return 0;
}
static long done_newfstatat(long res, const long a[6], union sr_aux *x)
{
	return stat_done(res, P(a[2]), x);
}
OP_PUNTS(statx, IORING_OP_STATX, prep_statx, NULL);
OP_PUNTS(stat, IORING_OP_STATX, prep_stat, done_stat);
OP_PUNTS(lstat, IORING_OP_STATX, prep_lstat, done_stat);
OP_PUNTS(fstat, IORING_OP_STATX, prep_fstat, done_stat);
OP_PUNTS(newfstatat, IORING_OP_STATX, prep_newfstatat, done_newfstatat);

/* ---- file space and advice ---- */

static int prep_fallocate(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_fallocate(s, (int)a[0], (int)a[1], (__u64)a[2], (__u64)a[3]);
	return 0;
}
static int prep_fadvise(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (a[2] < 0 || a[2] > 0xffffffffL)
		return -EOPNOTSUPP; /* 32-bit length in the SQE */
	io_uring_prep_fadvise(s, (int)a[0], (__u64)a[1], (off_t)a[2], (int)a[3]);
	return 0;
}
static int prep_madvise(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if ((unsigned long)a[1] > 0xffffffffUL)
		return -EOPNOTSUPP;
	io_uring_prep_madvise(s, P(a[0]), (off_t)a[1], (int)a[2]);
	return 0;
}
static int prep_ftruncate(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_rw(SR_IORING_OP_FTRUNCATE, s, (int)a[0], NULL, 0, (__u64)a[1]);
	return 0;
}
OP_PUNTS(fallocate, IORING_OP_FALLOCATE, prep_fallocate, NULL);
OP(fadvise64, IORING_OP_FADVISE, prep_fadvise, NULL);
OP_PUNTS(madvise, IORING_OP_MADVISE, prep_madvise, NULL);
OP_PUNTS(ftruncate, SR_IORING_OP_FTRUNCATE, prep_ftruncate, NULL);

/* ---- splice / tee: io_uring takes offsets by value, the call updates them ---- */

static int prep_splice(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	uint64_t in = (uint64_t)-1, out = (uint64_t)-1;
	if ((unsigned long)a[4] > 0xffffffffUL)
		return -EOPNOTSUPP;
	/* The offsets are the caller's memory: one that cannot be read (or,
	 * in done, written) is the plain call's EFAULT, which the threads
	 * give (splice(2) reads them before it moves anything). */
	if ((a[1] && (sr_ua_read8(P(a[1]), &in) || sr_ua_probe(P(a[1]), 8, true))) ||
	    (a[3] && (sr_ua_read8(P(a[3]), &out) || sr_ua_probe(P(a[3]), 8, true))))
		return -EOPNOTSUPP;
	x->spl.in = (int64_t)in;
	x->spl.out = (int64_t)out;
	if ((a[1] && x->spl.in < 0) || (a[3] && x->spl.out < 0))
		return -EOPNOTSUPP; /* let the kernel say EINVAL its own way */
	io_uring_prep_splice(s, (int)a[0], x->spl.in, (int)a[2], x->spl.out, (unsigned)a[4],
			     (unsigned)a[5]);
	return 0;
}
static long done_splice(long res, const long a[6], union sr_aux *x)
{
	/* Probed writable at prep; a caller that unmapped them meanwhile
	 * gets EFAULT, as the kernel's put_user would give it. */
	if (res > 0) {
		if (a[1] && sr_ua_write8(P(a[1]), (uint64_t)(x->spl.in + res)))
			return -EFAULT;
		if (a[3] && sr_ua_write8(P(a[3]), (uint64_t)(x->spl.out + res)))
			return -EFAULT;
	}
	return res;
}
static int prep_tee(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if ((unsigned long)a[2] > 0xffffffffUL)
		return -EOPNOTSUPP;
	io_uring_prep_tee(s, (int)a[0], (int)a[1], (unsigned)a[2], (unsigned)a[3]);
	return 0;
}
/* both ends may be O_NONBLOCK pipes (EAGAIN plainly) */
OP_NB(splice, IORING_OP_SPLICE, prep_splice, done_splice, 1 | 4);
OP_NB(tee, IORING_OP_TEE, prep_tee, NULL, 1 | 2);

/* ---- names in the file system ---- */

static int prep_rename(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_renameat(s, AT_FDCWD, P(a[0]), AT_FDCWD, P(a[1]), 0);
	return 0;
}
static int prep_renameat(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_renameat(s, (int)a[0], P(a[1]), (int)a[2], P(a[3]), 0);
	return 0;
}
static int prep_renameat2(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_renameat(s, (int)a[0], P(a[1]), (int)a[2], P(a[3]), (unsigned)a[4]);
	return 0;
}
static int prep_unlink(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_unlinkat(s, AT_FDCWD, P(a[0]), 0);
	return 0;
}
static int prep_unlinkat(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_unlinkat(s, (int)a[0], P(a[1]), (int)a[2]);
	return 0;
}
static int prep_rmdir(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_unlinkat(s, AT_FDCWD, P(a[0]), AT_REMOVEDIR);
	return 0;
}
static int prep_mkdir(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_mkdirat(s, AT_FDCWD, P(a[0]), (mode_t)a[1]);
	return 0;
}
static int prep_mkdirat(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_mkdirat(s, (int)a[0], P(a[1]), (mode_t)a[2]);
	return 0;
}
static int prep_symlink(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_symlinkat(s, P(a[0]), AT_FDCWD, P(a[1]));
	return 0;
}
static int prep_symlinkat(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_symlinkat(s, P(a[0]), (int)a[1], P(a[2]));
	return 0;
}
static int prep_link(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_linkat(s, AT_FDCWD, P(a[0]), AT_FDCWD, P(a[1]), 0);
	return 0;
}
static int prep_linkat(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_linkat(s, (int)a[0], P(a[1]), (int)a[2], P(a[3]), (int)a[4]);
	return 0;
}
OP_PUNTS(rename, IORING_OP_RENAMEAT, prep_rename, NULL);
OP_PUNTS(renameat, IORING_OP_RENAMEAT, prep_renameat, NULL);
OP_PUNTS(renameat2, IORING_OP_RENAMEAT, prep_renameat2, NULL);
OP_PUNTS(unlink, IORING_OP_UNLINKAT, prep_unlink, NULL);
OP_PUNTS(unlinkat, IORING_OP_UNLINKAT, prep_unlinkat, NULL);
OP_PUNTS(rmdir, IORING_OP_UNLINKAT, prep_rmdir, NULL);
OP_PUNTS(mkdir, IORING_OP_MKDIRAT, prep_mkdir, NULL);
OP_PUNTS(mkdirat, IORING_OP_MKDIRAT, prep_mkdirat, NULL);
OP_PUNTS(symlink, IORING_OP_SYMLINKAT, prep_symlink, NULL);
OP_PUNTS(symlinkat, IORING_OP_SYMLINKAT, prep_symlinkat, NULL);
OP_PUNTS(link, IORING_OP_LINKAT, prep_link, NULL);
OP_PUNTS(linkat, IORING_OP_LINKAT, prep_linkat, NULL);

/* ---- extended attributes (path ones follow symlinks, as io_uring does) ---- */

/* The value's size is a size_t (setxattr says E2BIG above XATTR_SIZE_MAX,
 * getxattr reads at most that much), io_uring's SQE length 32 bits: a
 * size that does not fit goes to the plain call. */
static bool xattr_size_narrows(long size)
{
	return (unsigned long)size > 0xffffffffUL;
}

static int prep_getxattr(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (xattr_size_narrows(a[3]))
		return -EOPNOTSUPP;
	io_uring_prep_getxattr(s, P(a[1]), P(a[2]), P(a[0]), (unsigned)a[3]);
	return 0;
}
static int prep_fgetxattr(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (xattr_size_narrows(a[3]))
		return -EOPNOTSUPP;
	io_uring_prep_fgetxattr(s, (int)a[0], P(a[1]), P(a[2]), (unsigned)a[3]);
	return 0;
}
static int prep_setxattr(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (xattr_size_narrows(a[3]))
		return -EOPNOTSUPP;
	io_uring_prep_setxattr(s, P(a[1]), P(a[2]), P(a[0]), (int)a[4], (unsigned)a[3]);
	return 0;
}
static int prep_fsetxattr(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (xattr_size_narrows(a[3]))
		return -EOPNOTSUPP;
	io_uring_prep_fsetxattr(s, (int)a[0], P(a[1]), P(a[2]), (int)a[4], (unsigned)a[3]);
	return 0;
}
OP_PUNTS(getxattr, IORING_OP_GETXATTR, prep_getxattr, NULL);
OP_PUNTS(fgetxattr, IORING_OP_FGETXATTR, prep_fgetxattr, NULL);
OP_PUNTS(setxattr, IORING_OP_SETXATTR, prep_setxattr, NULL);
OP_PUNTS(fsetxattr, IORING_OP_FSETXATTR, prep_fsetxattr, NULL);

/* ---- sockets ---- */

static int prep_socket(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_socket(s, (int)a[0], (int)a[1], (int)a[2], 0);
	return 0;
}
/* The blocking socket calls below give up after SO_RCVTIMEO/SO_SNDTIMEO
 * plainly; io_uring waits without a limit (sock_call_differs). */
static int prep_connect(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (sock_call_differs(a[0], SO_SNDTIMEO, 0))
		return -EOPNOTSUPP;
	io_uring_prep_connect(s, (int)a[0], P(a[1]), (socklen_t)a[2]);
	return 0;
}
static int prep_accept(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (sock_call_differs(a[0], SO_RCVTIMEO, 0))
		return -EOPNOTSUPP;
	io_uring_prep_accept(s, (int)a[0], P(a[1]), P(a[2]), 0);
	return 0;
}
static int prep_accept4(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (sock_call_differs(a[0], SO_RCVTIMEO, 0))
		return -EOPNOTSUPP;
	io_uring_prep_accept(s, (int)a[0], P(a[1]), P(a[2]), (int)a[3]);
	return 0;
}
static int prep_sendto(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if ((unsigned long)a[2] > 0xffffffffUL || (a[4] && ((unsigned long)a[5] > 0xffff)) ||
	    sock_call_differs(a[0], SO_SNDTIMEO, a[3]))
		return -EOPNOTSUPP;
	/* MSG_WAITALL: io_uring returns a partial send on a stream socket
	 * unless asked to retry, where the plain send(2) on a blocking socket
	 * (the only kind routed here) sends everything. Send paths ignore the
	 * flag otherwise. */
	io_uring_prep_send(s, (int)a[0], P(a[1]), (size_t)a[2], (int)a[3] | MSG_WAITALL);
	if (a[4])
		io_uring_prep_send_set_addr(s, P(a[4]), (__u16)a[5]);
	return 0;
}
static int prep_recvfrom(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	if ((unsigned long)a[2] > 0xffffffffUL || sock_call_differs(a[0], SO_RCVTIMEO, a[3]))
		return -EOPNOTSUPP;
	if (!a[4]) {
		io_uring_prep_recv(s, (int)a[0], P(a[1]), (size_t)a[2], (int)a[3]);
		return 0;
	}
	if (!a[5])
		return -EOPNOTSUPP; /* an address without its length: recvfrom(2)'s EFAULT */
	/* With a source address: recvmsg, then the length goes back as
	 * recvfrom would write it. */
	memset(&x->rmsg, 0, sizeof(x->rmsg));
	x->rmsg.iov.iov_base = P(a[1]);
	x->rmsg.iov.iov_len = (size_t)a[2];
	x->rmsg.msg.msg_iov = &x->rmsg.iov;
	x->rmsg.msg.msg_iovlen = 1;
	x->rmsg.msg.msg_name = P(a[4]);
	if (a[5]) {
		/* The length is the caller's memory: read and write access
		 * proved now, or the plain call (threads) gives its EFAULT. */
		uint32_t len;
		if (sr_ua_copy(&len, P(a[5]), sizeof(len)) || sr_ua_probe(P(a[5]), sizeof(len), true) ||
		    (int32_t)len < 0)
			return -EOPNOTSUPP;
		x->rmsg.msg.msg_namelen = len;
		/* the address itself, as far as it can be written */
		if (sr_ua_probe(P(a[4]), len < sizeof(struct sockaddr_storage) ? len : sizeof(struct sockaddr_storage),
				true))
			return -EOPNOTSUPP;
	}
	io_uring_prep_recvmsg(s, (int)a[0], &x->rmsg.msg, (unsigned)a[3]);
	x->rmsg.used = 1;
	return 0;
}
static long done_recvfrom(long res, const long a[6], union sr_aux *x)
{
	if (res >= 0 && a[4] && a[5] && x->rmsg.used) {
		uint32_t len = x->rmsg.msg.msg_namelen;
		if (sr_ua_copy(P(a[5]), &len, sizeof(len)))
			return -EFAULT; /* as recvfrom(2)'s put_user */
	}
	return res;
}
/* A msghdr io_uring would refuse differently from the plain call: more
 * iovecs than UIO_MAXIOV (sendmsg(2)/recvmsg(2) say EMSGSIZE, io_uring 6.1
 * EINVAL), or one that cannot be read (left to the plain call's EFAULT). */
static bool msghdr_differs(const long a[6])
{
	struct msghdr m;
	return sr_ua_copy(&m, P(a[1]), sizeof(m)) || m.msg_iovlen > 1024;
}

static int prep_sendmsg(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (msghdr_differs(a) || sock_call_differs(a[0], SO_SNDTIMEO, a[2]))
		return -EOPNOTSUPP;
	io_uring_prep_sendmsg(s, (int)a[0], P(a[1]), (unsigned)a[2] | MSG_WAITALL); /* see prep_sendto */
	return 0;
}
static int prep_recvmsg(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (msghdr_differs(a) || sock_call_differs(a[0], SO_RCVTIMEO, a[2]))
		return -EOPNOTSUPP;
	io_uring_prep_recvmsg(s, (int)a[0], P(a[1]), (unsigned)a[2]);
	return 0;
}
static int prep_shutdown(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_shutdown(s, (int)a[0], (int)a[1]);
	return 0;
}
static int prep_bind(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_rw(SR_IORING_OP_BIND, s, (int)a[0], P(a[1]), 0, (__u64)a[2]);
	return 0;
}
static int prep_listen(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_rw(SR_IORING_OP_LISTEN, s, (int)a[0], NULL, (unsigned)a[1], 0);
	return 0;
}
OP_FDTAB(socket, IORING_OP_SOCKET, prep_socket, 0);
OP_NB(connect, IORING_OP_CONNECT, prep_connect, NULL, 1);
OP_FDTAB(accept, IORING_OP_ACCEPT, prep_accept, 1);
OP_FDTAB(accept4, IORING_OP_ACCEPT, prep_accept4, 1);
OP_NB(sendto, IORING_OP_SEND, prep_sendto, NULL, 1);
/* recvfrom may become RECVMSG; the probe of RECV stands for both (5.6). */
OP_NB(recvfrom, IORING_OP_RECV, prep_recvfrom, done_recvfrom, 1);
OP_NB(sendmsg, IORING_OP_SENDMSG, prep_sendmsg, NULL, 1);
OP_NB(recvmsg, IORING_OP_RECVMSG, prep_recvmsg, NULL, 1);
OP(shutdown, IORING_OP_SHUTDOWN, prep_shutdown, NULL);
OP(bind, SR_IORING_OP_BIND, prep_bind, NULL);
OP(listen, SR_IORING_OP_LISTEN, prep_listen, NULL);

/* ---- epoll ---- */

static int prep_epoll_ctl(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_epoll_ctl(s, (int)a[0], (int)a[2], (int)a[1], P(a[3]));
	return 0;
}
static int prep_epoll_wait(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	/* io_uring's epoll wait has no timeout: only "wait forever" maps */
	if ((int)a[3] != -1)
		return -EOPNOTSUPP;
	io_uring_prep_rw(SR_IORING_OP_EPOLL_WAIT, s, (int)a[0], P(a[1]), (unsigned)a[2], 0);
	return 0;
}
OP(epoll_ctl, IORING_OP_EPOLL_CTL, prep_epoll_ctl, NULL);
OP_WAITS(epoll_wait, SR_IORING_OP_EPOLL_WAIT, prep_epoll_wait, NULL);

/* ---- futexes: plain wait and wake without a timeout ---- */

static void prep_futex_op(struct io_uring_sqe *s, int op, void *uaddr, __u64 val, __u64 mask,
			  unsigned int f2flags)
{
	io_uring_prep_rw(op, s, (int)f2flags, uaddr, 0, val);
	s->addr3 = mask;
}
static int prep_futex(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	int op = (int)a[1], cmd = op & FUTEX_CMD_MASK;
	unsigned int f2 = SR_FUTEX2_SIZE_U32 | ((op & FUTEX_PRIVATE_FLAG) ? SR_FUTEX2_PRIVATE : 0);
	(void)x;
	if (op & FUTEX_CLOCK_REALTIME)
		return -EOPNOTSUPP;
	switch (cmd) { /* futex operations, not call numbers */
	case FUTEX_WAIT:
		if (a[3])
			return -EOPNOTSUPP; /* a timeout: io_uring has none here */
		prep_futex_op(s, SR_IORING_OP_FUTEX_WAIT, P(a[0]), (__u32)a[2], FUTEX_BITSET_MATCH_ANY, f2);
		return 0;
	case FUTEX_WAIT_BITSET:
		if (a[3] || !(__u32)a[5])
			return -EOPNOTSUPP;
		prep_futex_op(s, SR_IORING_OP_FUTEX_WAIT, P(a[0]), (__u32)a[2], (__u32)a[5], f2);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}
/* FUTEX_WAKE and FUTEX_WAKE_BITSET are another opcode: one row, two ops. */
static int prep_futex_wake_cmd(struct io_uring_sqe *s, const long a[6])
{
	int op = (int)a[1], cmd = op & FUTEX_CMD_MASK;
	unsigned int f2 = SR_FUTEX2_SIZE_U32 | ((op & FUTEX_PRIVATE_FLAG) ? SR_FUTEX2_PRIVATE : 0);
	if (cmd == FUTEX_WAKE) {
		prep_futex_op(s, SR_IORING_OP_FUTEX_WAKE, P(a[0]), (__u32)a[2], FUTEX_BITSET_MATCH_ANY, f2);
		return 0;
	}
	if (cmd == FUTEX_WAKE_BITSET && (__u32)a[5]) {
		prep_futex_op(s, SR_IORING_OP_FUTEX_WAKE, P(a[0]), (__u32)a[2], (__u32)a[5], f2);
		return 0;
	}
	return -EOPNOTSUPP;
}
static int prep_futex_any(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	if (prep_futex_wake_cmd(s, a) == 0)
		return 0;
	return prep_futex(s, a, x);
}
/* futex_wait(uaddr, val, mask, flags, timeout, clockid) / futex_wake(uaddr, mask, nr, flags) */
static int prep_futex_wait2(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	if (a[4])
		return -EOPNOTSUPP;
	prep_futex_op(s, SR_IORING_OP_FUTEX_WAIT, P(a[0]), (__u64)a[1], (__u64)a[2], (unsigned)a[3]);
	return 0;
}
static int prep_futex_wake2(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	prep_futex_op(s, SR_IORING_OP_FUTEX_WAKE, P(a[0]), (__u64)a[2], (__u64)a[1], (unsigned)a[3]);
	return 0;
}
/* Both futex opcodes arrived together (6.7); the probe of WAIT stands for both. */
OP_WAITS(futex, SR_IORING_OP_FUTEX_WAIT, prep_futex_any, NULL);
OP_WAITS(futex_wait, SR_IORING_OP_FUTEX_WAIT, prep_futex_wait2, NULL);
OP(futex_wake, SR_IORING_OP_FUTEX_WAKE, prep_futex_wake2, NULL);

/* ---- processes and pipes ---- */

static int prep_waitid(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	const long ok = WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL;
	(void)x;
	if (a[4])
		return -EOPNOTSUPP; /* io_uring's waitid does not fill a rusage */
	/* waitid(2) writes the siginfo even when it says EINVAL, io_uring does
	 * not: the cases of EINVAL go to the threads */
	if ((a[3] & ~ok) || !(a[3] & (WEXITED | WSTOPPED | WCONTINUED)) || a[0] < P_ALL || a[0] > P_PIDFD ||
	    (a[0] == P_PID && (int)a[1] <= 0) || (a[0] == P_PGID && (int)a[1] < 0))
		return -EOPNOTSUPP;
	/* A PIDFD_NONBLOCK pidfd (O_NONBLOCK in its file flags) makes the
	 * plain call WNOHANG -- EAGAIN while the child runs -- where io_uring
	 * waits: the fd's flags, asked now (fcntl(F_SETFL) may change them). */
	if (a[0] == P_PIDFD && !(a[3] & WNOHANG)) {
		long fl = sr_rawsys6(SYS_fcntl, a[1], F_GETFL, 0, 0, 0, 0);
		if (fl >= 0 && (fl & O_NONBLOCK))
			return -EOPNOTSUPP;
	}
	io_uring_prep_rw(SR_IORING_OP_WAITID, s, (int)a[1], NULL, (unsigned)a[0], 0);
	s->file_index = (__u32)a[3]; /* options */
	s->addr2 = (__u64)a[2];      /* siginfo_t * */
	return 0;
}
static int prep_pipe2(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	(void)x;
	io_uring_prep_rw(SR_IORING_OP_PIPE, s, 0, P(a[0]), 0, 0);
	s->rw_flags = (int)a[1]; /* pipe_flags shares the word */
	return 0;
}
static int prep_pipe(struct io_uring_sqe *s, const long a[6], union sr_aux *x)
{
	const long b[6] = {a[0], 0, 0, 0, 0, 0};
	return prep_pipe2(s, b, x);
}
OP_WAITS(waitid, SR_IORING_OP_WAITID, prep_waitid, NULL);
OP_FDTAB(pipe, SR_IORING_OP_PIPE, prep_pipe, 0);
OP_FDTAB(pipe2, SR_IORING_OP_PIPE, prep_pipe2, 0);

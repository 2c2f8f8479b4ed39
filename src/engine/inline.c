/* SPDX-License-Identifier: MIT */
/*
 * The inline engine's non-blocking column: honest attempts that the kernel
 * offers, run on the submitting thread. Each either completes the call
 * (returns 1, *res is the call's result or a final error) or does nothing
 * and returns 0, and the call goes to uring or threads. Nothing is executed
 * twice: an attempt that says EAGAIN has not transferred anything.
 *
 *   read/write family   preadv2/pwritev2 with RWF_NOWAIT
 *   send/recv family    the same call with MSG_DONTWAIT
 *   open family         openat2 with RESOLVE_CACHED
 *
 * A call whose own flags ask for non-blocking (RWF_NOWAIT, MSG_DONTWAIT) is
 * attempted unchanged: that attempt is the plain call, and its answer is
 * final whatever it is. A call whose fd is itself a non-blocking pipe,
 * socket or device gets its EAGAIN as the final answer, as the plain call
 * would; on such an fd a
 * file without RWF_NOWAIT (EOPNOTSUPP: inotify, signalfd, a pty, /dev/null)
 * gets the plain call right here, since it cannot block. Contract of every
 * attempt: returning 0 ("would block") means a[0] was found NOT to be such
 * an fd, so io_uring, which waits for readiness, may run the call (exec.c).
 * Nothing about an fd is remembered between calls: fd numbers are reused.
 *
 * Caller memory (iovecs, msghdrs, open_how) is read fault-safely
 * (uaccess.h); what cannot be read is left to the kernel's plain call.
 *
 * Partial transfers on streams (SR_NW_PARTIAL, table.h): an attempt that
 * moved part of a write or send on a blocking pipe, socket or tty would
 * have to wait, without bound, for the reader to make room before the rest
 * goes (the plain call moves it all). The submitting thread must not wait
 * for that (async_submit returns after bounded work; the rest may depend
 * on a call submitted after this one). So the attempt returns SR_NW_PARTIAL
 * with *res what it moved, and an executor calls the same function again
 * later with *res holding that count on entry (the finish mode, *res > 0):
 * it moves the rest with the blocking call and answers with the total.
 * An attempt is always entered with *res == 0. A regular file's rest (a
 * read partly cached) waits only for I/O and is moved right away.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "../core/core.h"
#include "../core/rawsys.h"
#include "../core/uaccess.h"
#include "../table/table.h"

/* The kernel caps one transfer at this (MAX_RW_COUNT). */
#define SR_MAX_RW_COUNT 0x7ffff000L

/* Whether the plain call on fd would itself say EAGAIN rather than wait: the
 * fd is O_NONBLOCK and not a regular file or block device (where O_NONBLOCK
 * changes nothing). Costs one or two system calls; used off the fast path. */
static bool fd_nonblocking_stream(long fd)
{
	struct stat st;
	long fl = sr_rawsys6(SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0);
	if (fl < 0 || !(fl & O_NONBLOCK))
		return false;
	if (sr_rawsys6(SYS_fstat, fd, (long)&st, 0, 0, 0, 0) < 0)
		return false;
	return !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
}

/* No attempt possible (or EAGAIN from one): on a non-blocking stream the
 * plain call (nr, a) cannot block and is the answer, run here (for EAGAIN
 * the attempt was that call already: *res = -EAGAIN). Otherwise "would
 * block", a[0] checked. */
static int plain_if_nonblocking(long nr, const long a[6], long *res)
{
	if (!fd_nonblocking_stream(a[0]))
		return 0;
	*res = nr < 0 ? -EAGAIN : sr_rawsys(nr, a);
	return 1;
}

/*
 * A non-blocking attempt that moved part of the data: what would the plain
 * call have done? A read of a pipe, socket or tty returns what is there, as
 * the attempt did; a read of a regular file or block device reads on to the
 * requested length or end of file, and a write to anything but a
 * non-blocking stream writes everything. Then the rest is moved here, with
 * the blocking call -- the submitting thread waits for it, the price of the
 * plain call's answer. Returns the call's result.
 */
static bool short_is_final(long nr, long fd, long off, long moved)
{
	struct stat st;
	long pos;

	if (nr == SYS_pwritev2)
		return fd_nonblocking_stream(fd);
	if (sr_rawsys6(SYS_fstat, fd, (long)&st, 0, 0, 0, 0) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
		return true;
	if (!S_ISREG(st.st_mode))
		return false;
	/* A regular file: at end of file the short read is the answer. The
	 * common case (a whole small file into a larger buffer) is decided
	 * by the size alone: the read started at 0 or later. */
	if (moved >= st.st_size)
		return true;
	pos = off >= 0 ? off + moved : sr_rawsys6(SYS_lseek, fd, 0, SEEK_CUR, 0, 0, 0);
	return pos < 0 || pos >= st.st_size;
}

/* A regular file or block device: its rest waits for I/O only. */
static bool fd_plainfile(long fd)
{
	struct stat st;
	return sr_rawsys6(SYS_fstat, fd, (long)&st, 0, 0, 0, 0) == 0 &&
	       (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
}

/* Move what `iov` holds beyond its first `done` bytes, one segment at a
 * time with move(p, base, len, done), the blocking call; a short or failed
 * segment ends it with what was moved, as the plain call would. Returns the
 * total moved. */
typedef long sr_move_fn(const long p[4], void *base, size_t len, long done);

static long move_rest(const struct iovec *iov, size_t cnt, long done, sr_move_fn *move, const long p[4])
{
	long skip = done;

	for (size_t i = 0; i < cnt; i++) {
		struct iovec v;
		if (sr_ua_copy(&v, &iov[i], sizeof(v)))
			break; /* unmapped meanwhile: what was moved */
		if ((size_t)skip >= v.iov_len) {
			skip -= (long)v.iov_len;
			continue;
		}
		size_t len = v.iov_len - (size_t)skip;
		long r = move(p, (char *)v.iov_base + skip, len, done);
		skip = 0;
		if (r <= 0)
			break;
		done += r;
		if ((size_t)r < len)
			break;
	}
	return done;
}

/* p: {preadv2 or pwritev2, fd, offset (-1: the file position), flags} */
static long move_rw(const long p[4], void *base, size_t len, long done)
{
	struct iovec one = {base, len};
	return sr_rawsys6(p[0], p[1], (long)&one, 1, p[2] < 0 ? -1 : p[2] + done, 0, p[3]);
}

static long iov_total(const struct iovec *iov, long cnt, size_t *want)
{
	struct iovec v;
	*want = 0;
	for (long i = 0; i < cnt; i++) {
		if (sr_ua_copy(&v, &iov[i], sizeof(v)))
			return -EFAULT;
		*want += v.iov_len;
	}
	return 0;
}

/* The caller's own RWF_NOWAIT: the attempt was the plain call itself, so
 * its answer is final -- -EAGAIN, another error, or a short count -- and
 * the call never runs again elsewhere, where readahead the attempt started
 * could have filled the cache meanwhile (the send/recv family's own
 * MSG_DONTWAIT is the same: sock_attempt). */
static int user_nowait(long r, long *res)
{
	*res = r;
	return 1;
}

/* The rare answers of an attempt (rw_attempt): EAGAIN, EOPNOTSUPP,
 * EINVAL, and a short count that may not be final. Out of line, so that
 * the common full transfer builds none of this. */
static __attribute__((noinline)) int rw_attempt_rest(long nr, long fd, const struct iovec *iov, long cnt,
						     long off, long flags, size_t want, long r, long *res)
{
	const long plain[6] = {fd, (long)iov, cnt, off, 0, flags};
	const long p[4] = {nr, fd, off, flags};

	if (r == -EAGAIN)
		return plain_if_nonblocking(-1, plain, res);
	if (r == -EOPNOTSUPP) /* no RWF_NOWAIT for this file: the call may still be fine */
		return plain_if_nonblocking(nr, plain, res);
	if (r == -EINVAL && (flags & ~(long)(RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_APPEND)))
		return plain_if_nonblocking(nr, plain, res); /* flags this kernel rejects with NOWAIT: let the call say it */
	if (r <= 0 || cnt <= 0) {
		*res = r;
		return 1;
	}
	/* A short count? (want: (size_t)-1 when not known:
	 * the kernel read the iovecs, reading them again can only fail if
	 * the caller unmapped them meanwhile, then: what was moved) */
	if (want == (size_t)-1 && iov_total(iov, cnt, &want))
		want = 0;
	if ((size_t)r < want && !short_is_final(nr, fd, off, r)) {
		if (!fd_plainfile(fd)) {
			*res = r; /* a stream's rest: an executor's */
			return SR_NW_PARTIAL;
		}
		r = move_rest(iov, (size_t)cnt, r, move_rw, p);
	}
	*res = r;
	return 1;
}

/* want: the bytes the iovecs ask for, known to single-buffer callers;
 * (size_t)-1 for vectored ones (counted from the caller's iovecs only
 * when the attempt moved less than asked). */
static int rw_attempt(long nr, long fd, const struct iovec *iov, long cnt, long off, long flags,
		      size_t want, long *res)
{
	long r;

	if (*res > 0) { /* the finish mode: the rest of a partial transfer */
		const long p[4] = {nr, fd, off, flags};
		*res = move_rest(iov, (size_t)(cnt > 0 ? cnt : 0), *res, move_rw, p);
		return 1;
	}
	r = sr_rawsys6(nr, fd, (long)iov, cnt, off, 0, flags | RWF_NOWAIT);
	if (flags & RWF_NOWAIT)
		return user_nowait(r, res);
	/* The common answer: everything asked for (or 0 bytes asked). */
	if (sr_likely(r >= 0) && ((size_t)r == want || r == 0 || cnt <= 0)) {
		*res = r;
		return 1;
	}
	if (r < 0 && r != -EAGAIN && r != -EOPNOTSUPP && r != -EINVAL) {
		*res = r;
		return 1;
	}
	return rw_attempt_rest(nr, fd, iov, cnt, off, flags, want, r, res);
}

/* A single buffer of more than the kernel moves at once: read(2) and
 * write(2) check the whole range (EFAULT beyond the address space), where
 * an iovec of it would be cut to MAX_RW_COUNT, or refused above SSIZE_MAX
 * (EINVAL). Not attempted: the engines run the plain call. */
static int huge_count(long nr, const long a[6], long *res)
{
	return plain_if_nonblocking(nr, a, res);
}

int sr_nw_read(const long a[6], long *res)
{
	struct iovec v = {(void *)a[1], (size_t)a[2]};
	if ((unsigned long)a[2] > SR_MAX_RW_COUNT)
		return huge_count(SYS_read, a, res);
	return rw_attempt(SYS_preadv2, a[0], &v, 1, -1, 0, v.iov_len, res);
}
int sr_nw_pread64(const long a[6], long *res)
{
	struct iovec v = {(void *)a[1], (size_t)a[2]};
	if (a[3] < 0 || (unsigned long)a[2] > SR_MAX_RW_COUNT)
		return huge_count(SYS_pread64, a, res);
	return rw_attempt(SYS_preadv2, a[0], &v, 1, a[3], 0, v.iov_len, res);
}
int sr_nw_readv(const long a[6], long *res)
{
	return rw_attempt(SYS_preadv2, a[0], (const struct iovec *)a[1], a[2], -1, 0, (size_t)-1, res);
}
int sr_nw_preadv(const long a[6], long *res)
{
	if (a[3] < 0)
		return huge_count(SYS_preadv, a, res);
	return rw_attempt(SYS_preadv2, a[0], (const struct iovec *)a[1], a[2], a[3], 0, (size_t)-1, res);
}
int sr_nw_preadv2(const long a[6], long *res)
{
	return rw_attempt(SYS_preadv2, a[0], (const struct iovec *)a[1], a[2], a[3], a[5], (size_t)-1, res);
}
int sr_nw_write(const long a[6], long *res)
{
	struct iovec v = {(void *)a[1], (size_t)a[2]};
	if ((unsigned long)a[2] > SR_MAX_RW_COUNT)
		return huge_count(SYS_write, a, res);
	return rw_attempt(SYS_pwritev2, a[0], &v, 1, -1, 0, v.iov_len, res);
}
int sr_nw_pwrite64(const long a[6], long *res)
{
	struct iovec v = {(void *)a[1], (size_t)a[2]};
	if (a[3] < 0 || (unsigned long)a[2] > SR_MAX_RW_COUNT)
		return huge_count(SYS_pwrite64, a, res);
	return rw_attempt(SYS_pwritev2, a[0], &v, 1, a[3], 0, v.iov_len, res);
}
int sr_nw_writev(const long a[6], long *res)
{
	return rw_attempt(SYS_pwritev2, a[0], (const struct iovec *)a[1], a[2], -1, 0, (size_t)-1, res);
}
int sr_nw_pwritev(const long a[6], long *res)
{
	if (a[3] < 0)
		return huge_count(SYS_pwritev, a, res);
	return rw_attempt(SYS_pwritev2, a[0], (const struct iovec *)a[1], a[2], a[3], 0, (size_t)-1, res);
}
int sr_nw_pwritev2(const long a[6], long *res)
{
	return rw_attempt(SYS_pwritev2, a[0], (const struct iovec *)a[1], a[2], a[3], a[5], (size_t)-1, res);
}

/* ---- sockets: the same call with MSG_DONTWAIT ---- */

/* p: {fd, flags, destination address, its length} */
static long move_send(const long p[4], void *base, size_t len, long done)
{
	(void)done;
	return sr_rawsys6(SYS_sendto, p[0], (long)base, (long)len, p[1], p[2], p[3]);
}

/*
 * The attempt: the call with MSG_DONTWAIT in argument flags_arg. A send
 * that moved part of its data on a blocking stream socket sends the rest,
 * blocking, since the plain send would have sent it all. A receive with
 * MSG_WAITALL is not attempted: it waits for all of it, where an attempt
 * would return what is there. The data of a send is found by its calling
 * convention: flags in argument 3, (buf, len, addr, addrlen) as sendto; in
 * argument 2, a struct msghdr as sendmsg -- read only after the kernel
 * accepted it.
 */
/* The rest of a send that moved `done` bytes, with the blocking call;
 * returns the total. */
static long send_rest(const long a[6], int flags_arg, long done)
{
	struct iovec one = {(void *)a[1], (size_t)a[2]};
	struct msghdr m;
	const struct iovec *v = &one;
	size_t cnt = 1;
	/* the rest of a stream needs no address */
	const long p[4] = {a[0], a[flags_arg], flags_arg == 3 ? a[4] : 0, flags_arg == 3 ? a[5] : 0};

	/* the kernel read the msghdr: reading it again fails only if the
	 * caller unmapped it meanwhile (then: what was sent) */
	if (flags_arg == 2) {
		if (sr_ua_copy(&m, (const void *)a[1], sizeof(m)))
			return done;
		v = m.msg_iov;
		cnt = m.msg_iovlen;
	}
	return move_rest(v, cnt, done, move_send, p);
}

static int sock_attempt(long nr, const long a[6], int flags_arg, bool send, long *res)
{
	bool dontwait = a[flags_arg] & MSG_DONTWAIT;
	long b[6];
	long r;

	if (*res > 0) { /* the finish mode: the rest of a partial send */
		*res = send_rest(a, flags_arg, *res);
		return 1;
	}
	/* MSG_WAITALL waits for all of it, where an attempt would return
	 * what is there: not attempted (on a non-blocking socket the plain
	 * call returns at once, so it runs here). */
	if (!send && (a[flags_arg] & MSG_WAITALL) && !dontwait)
		return plain_if_nonblocking(nr, a, res);
	memcpy(b, a, sizeof(b));
	b[flags_arg] |= MSG_DONTWAIT;
	r = sr_rawsys(nr, b);
	if (r == -EAGAIN) {
		if (dontwait) {
			*res = r; /* the caller asked for exactly this */
			return 1;
		}
		return plain_if_nonblocking(-1, a, res);
	}
	if (r > 0 && send && !dontwait) {
		struct msghdr m;
		size_t want = (size_t)a[2];
		/* the kernel read the msghdr: reading it again fails only if
		 * the caller unmapped it meanwhile (then: what was sent) */
		if (flags_arg == 2 && (sr_ua_copy(&m, (const void *)a[1], sizeof(m)) ||
				       iov_total(m.msg_iov, (long)m.msg_iovlen, &want))) {
			*res = r;
			return 1;
		}
		if ((size_t)r < want && !fd_nonblocking_stream(a[0])) {
			*res = r; /* a stream's rest: an executor's */
			return SR_NW_PARTIAL;
		}
	}
	*res = r;
	return 1;
}

int sr_nw_recvfrom(const long a[6], long *res)
{
	return sock_attempt(SYS_recvfrom, a, 3, false, res);
}
int sr_nw_sendto(const long a[6], long *res)
{
	return sock_attempt(SYS_sendto, a, 3, true, res);
}
int sr_nw_recvmsg(const long a[6], long *res)
{
	return sock_attempt(SYS_recvmsg, a, 2, false, res);
}
int sr_nw_sendmsg(const long a[6], long *res)
{
	return sock_attempt(SYS_sendmsg, a, 2, true, res);
}

/* ---- opens: RESOLVE_CACHED (5.12) fails with EAGAIN unless the whole
 * lookup is in the dcache and nothing needs I/O ---- */

static int open_attempt(long dfd, long path, struct open_how *how, long *res)
{
	long r;

	/* RESOLVE_CACHED refuses O_CREAT, O_TRUNC and O_TMPFILE outright. */
	if (how->flags & (O_CREAT | O_TRUNC | __O_TMPFILE))
		return 0;
	how->resolve |= RESOLVE_CACHED;
	r = sr_rawsys6(SYS_openat2, dfd, path, (long)how, sizeof(*how), 0, 0);
	if (r == -EAGAIN || r == -EINVAL || r == -ENOSYS || r == -E2BIG)
		return 0; /* not cached, or a kernel without RESOLVE_CACHED */
	*res = r;
	return 1;
}

/* open(2) and openat(2) ignore unknown flags and mode bits; openat2 refuses
 * them. Only try when the flags are ones openat2 accepts unchanged. */
#define OPEN_VALID_FLAGS                                                                          \
	(O_RDONLY | O_WRONLY | O_RDWR | O_NOCTTY | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC |    \
	 O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH |     \
	 FASYNC)

static int open_flags_ok(long flags)
{
	return !(flags & ~(long)OPEN_VALID_FLAGS) && (flags & O_ACCMODE) != O_ACCMODE;
}

int sr_nw_open(const long a[6], long *res)
{
	struct open_how how = {.flags = (uint64_t)(a[1] | O_LARGEFILE)};
	if (!open_flags_ok(a[1]))
		return 0;
	return open_attempt(AT_FDCWD, a[0], &how, res);
}
int sr_nw_openat(const long a[6], long *res)
{
	struct open_how how = {.flags = (uint64_t)(a[2] | O_LARGEFILE)};
	if (!open_flags_ok(a[2]))
		return 0;
	return open_attempt(a[0], a[1], &how, res);
}
int sr_nw_openat2(const long a[6], long *res)
{
	struct open_how how;
	/* the caller's struct: one that cannot be read is left to the plain
	 * call, which says EFAULT */
	if ((size_t)a[3] != sizeof(how) || sr_ua_copy(&how, (const void *)a[2], sizeof(how)))
		return 0;
	return open_attempt(a[0], a[1], &how, res);
}

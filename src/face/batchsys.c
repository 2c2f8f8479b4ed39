/* SPDX-License-Identifier: MIT */
/*
 * The batch face (seed 004, Batchsys's API). A batch is Batchsys's buffer:
 * pushes append {kind, packed params}; a post decodes every entry into a
 * system call number and six arguments, then runs them synchronously and in
 * order on one of the executors:
 *
 *   kmod   the sysring.ko module, one crossing per batch (when present; the
 *          seam is bs_exec_kmod, filled in by the module issue)
 *   uring  one io_uring_submit_and_wait for the whole batch, the calls
 *          linked (IOSQE_IO_LINK: in order; a failure or short count ends
 *          the chain and the loop runs the rest, or stops the batch with
 *          STOP_ON_ERROR), the fds as the calls name them
 *   loop   a plain loop of raw calls on the caller, runs of reads or writes
 *          on one regular file merged into one vectored call (exec_run)
 *
 * Which one runs a batch is decided per batch from what was measured on this
 * machine (docs/batches.md): the loop unless the batch is long enough and
 * every call is one io_uring runs natively (the table's io_uring column) and
 * no call's fd is a non-blocking stream (io_uring would wait where the plain
 * call says EAGAIN).
 *
 * The fd cache remembers which fd numbers batches of a handle used
 * (batchsys_cached_fds; batchsys_close_fd and a batched close forget them)
 * and holds no reference to any file: sysring's plain close() must still
 * mean close, so that a socket's peer sees the hang-up and a pipe's reader
 * its end of file at once. (io_uring's registered files would keep the
 * file open until the handle is closed, and would reach a closed or reused
 * fd number's old file from a later call of the same batch.)
 *
 * Handles are eventfds (a real fd, as Batchsys's device fd was); the state is
 * found by fd number in slots[]. A handle is meant to be used by one thread
 * at a time; its mutex makes concurrent use safe, not fast.
 *
 * Closing racing use. Every entry point enters a handle with handle_get
 * (counted in its slot's `users`) and leaves with handle_put. batchsys_close
 * takes the state out of the slot and frees it at once if nobody is inside;
 * otherwise it leaves it as the slot's zombie, and the last user to leave
 * frees it. So close never waits for a post running on another thread (which
 * may block for as long as its calls do), nothing is freed under a user, and
 * a use after close fails with EINVAL. The eventfd is closed only when the
 * state is freed, so its number cannot name a new handle meanwhile. No lock
 * guards the slots: each change is one atomic exchange or store, and a
 * number is in one slot's hands until its eventfd is closed.
 *
 * fork(). A handle belongs to the process that opened it. In a child every
 * inherited handle fails with EINVAL (slot->fork_gen), and the child's fork
 * handler (sr_batchsys_atfork_child) closes the child's copy of each
 * handle's io_uring (whose memory is not even inherited:
 * io_uring_ring_dontfork), through which a child would post into the
 * parent's rings. The handle's own descriptor is left: the
 * application knows its number, and batchsys_close in the child closes it.
 * The handler takes no lock and frees nothing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <sysring/batchsys.h>

#include "../core/core.h"
#include "../core/rawsys.h"
#include "../core/sigfwd.h"
#include "../core/uaccess.h"
#include "../engine/kmod.h"
#include "../table/table.h"

#define BS_MAX_HANDLES 65536
#define BS_MAX_SLOTS 65536
/*
 * Batches at least this long whose calls io_uring runs natively would go to
 * it. Measured on the 2-core development machine (sysring-bench --only
 * batch), the plain loop won at every length: 1-byte writes to /dev/null
 * cost 168 ns per call in a loop of 72 against 426 ns hard-linked in
 * io_uring, and 10,000 1 KiB appends 1131 ns against 3940 ns: in-order
 * execution means hard links, which serialise io_uring's work, and a loop of
 * raw calls is already one crossing per call with no hand-off. So "auto"
 * never picks io_uring here; SYSRING_BATCHSYS_EXEC_URING forces it.
 */
#define BS_URING_MIN_CALLS (BATCHSYS_MAX_RESULTS + 1)

struct bs_call {
	long nr;
	long a[6];
	uint8_t kind;
	int8_t fd_arg; /* index of the argument that is an fd to cache, or -1 */
	uint8_t reuse; /* *_non_block_reuse: SO_REUSEADDR on the new socket */
};

struct bs_handle {
	int fd; /* the handle's eventfd; -1 once a fork child let go of it */
	unsigned int flags;
	int ring_ok;
	uint32_t fork_gen; /* sr_fork_gen when opened */
	struct io_uring ring;
	unsigned int nslots;
	uint8_t *used; /* per fd number: used in a batch (the fd cache) */
	const char *last;
	uint64_t merged; /* calls answered by a merged run, ever (under lock) */
	pthread_mutex_t lock;
	union sr_aux aux[BATCHSYS_MAX_RESULTS];
};

struct bs_slot {
	uint32_t users;    /* threads between handle_get and handle_put */
	uint32_t fork_gen; /* sr_fork_gen when `h` was opened */
	struct bs_handle *h;      /* the open handle, or NULL */
	struct bs_handle *zombie; /* closed while in use: the last user frees it */
};

/* Indexed by the handle's descriptor (24 bytes each; untouched pages of it
 * cost nothing). */
static struct bs_slot slots[BS_MAX_HANDLES];
/* Slots at or above this were never used (the fork handler's scan). */
static uint32_t slots_hwm;

static void handle_free(struct bs_handle *h)
{
	if (h->ring_ok) {
		sr_tsan_ring_unmapped(); /* before the unmap: core.h */
		io_uring_queue_exit(&h->ring);
	}
	if (h->fd >= 0)
		close(h->fd);
	free(h->used);
	/* A fork child's copy may have been locked by a thread of the parent:
	 * its mutex is just memory here. */
	if (h->fork_gen == sr_fork_gen)
		pthread_mutex_destroy(&h->lock);
	free(h);
}

static void zombie_reap(struct bs_slot *s)
{
	/* Whoever takes it frees it: close, or one of the last users. */
	struct bs_handle *z = __atomic_exchange_n(&s->zombie, NULL, __ATOMIC_SEQ_CST);
	if (z)
		handle_free(z);
}

static void handle_put(int fd)
{
	struct bs_slot *s = &slots[fd];

	/* seq_cst decrement, then seq_cst load of zombie: a Dekker pair with
	 * batchsys_close's store of zombie, then its load of users. Either it
	 * sees us gone, or we see its zombie. Whether we were the last user is
	 * read again after the zombie, not taken from our decrement: a user
	 * that entered after our decrement but before the close (it saw the
	 * handle) may still be inside. Once the zombie is there, nobody new can
	 * see the handle, so a count of zero then means nobody uses it, and
	 * whoever brings the count to zero afterwards gets here too. */
	sr_fetch_sub(&s->users, 1, SR_SEQ_CST);
	if (__atomic_load_n(&s->zombie, __ATOMIC_SEQ_CST) && !__atomic_load_n(&s->users, __ATOMIC_SEQ_CST))
		zombie_reap(s);
}

/* Enter the open handle `fd` of this process, or NULL (EINVAL for the
 * caller): not a handle, closed, or inherited across fork. */
static struct bs_handle *handle_get(int fd)
{
	struct bs_slot *s;
	struct bs_handle *h;

	if (fd < 0 || fd >= BS_MAX_HANDLES)
		return NULL;
	s = &slots[fd];
	/* seq_cst increment, then seq_cst load of h: a Dekker pair with
	 * batchsys_close's exchange of h, then its load of users. */
	sr_fetch_add(&s->users, 1, SR_SEQ_CST);
	h = __atomic_load_n(&s->h, __ATOMIC_SEQ_CST);
	/* fork_gen was stored before h was published (batchsys_open). */
	if (!h || sr_load_relaxed(&s->fork_gen) != sr_fork_gen) {
		handle_put(fd);
		return NULL;
	}
	return h;
}

static int bs_fail(int e)
{
	errno = e;
	return -1;
}

/* The child's part of the fork handler (ctx.c), single-threaded: let go of
 * the descriptors that reach the parent's kernel objects (see the top of the
 * file). Idempotent: a grandchild finds nothing left to close. */
void sr_batchsys_atfork_child(void)
{
	uint32_t hwm = sr_load_relaxed(&slots_hwm);

	for (uint32_t i = 0; i < hwm && i < BS_MAX_HANDLES; i++) {
		struct bs_slot *s = &slots[i];
		struct bs_handle *hs[2] = {s->h, s->zombie};

		s->users = 0; /* the parent's users do not exist here */
		for (int k = 0; k < 2; k++) {
			struct bs_handle *h = hs[k];
			if (!h)
				continue;
			if (h->ring_ok) {
				/* Not io_uring_queue_exit: the rings are not
				 * mapped here (dontfork), and unmapping their
				 * addresses could hit a mapping made since. */
				close(h->ring.ring_fd);
				h->ring_ok = 0;
			}
			h->nslots = 0; /* no cache from now on */
			/* A zombie was closed by the application already. */
			if (k == 1 && h->fd >= 0) {
				close(h->fd);
				h->fd = -1;
			}
		}
	}
}

SR_EXPORT int batchsys_get_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	return rl.rlim_max > INT32_MAX ? INT32_MAX : (int)rl.rlim_max;
}

SR_EXPORT int batchsys_open(void)
{
	struct bs_handle *h;
	struct bs_slot *s;
	struct rlimit rl;
	const char *eng = getenv("SYSRING_ENGINE");
	uint32_t hwm;

	sr_fork_watch();
	/* the module's descriptor now, not in the middle of calls (kmod.c);
	 * its absence is no error of this call: errno stays */
	int saved = errno;
	(void)sr_kmod_open();
	errno = saved;
	h = calloc(1, sizeof(*h));
	if (!h)
		return bs_fail(ENOMEM);
	h->fd = eventfd(0, EFD_CLOEXEC);
	if (h->fd < 0 || h->fd >= BS_MAX_HANDLES) {
		int e = h->fd < 0 ? errno : EMFILE;
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return bs_fail(e);
	}
	h->nslots = 1024;
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		h->nslots = rl.rlim_cur > BS_MAX_SLOTS ? BS_MAX_SLOTS : (unsigned int)rl.rlim_cur;
	h->used = calloc(h->nslots ? h->nslots : 1, 1);
	if (!h->used) {
		close(h->fd);
		free(h);
		return bs_fail(ENOMEM);
	}
	pthread_mutex_init(&h->lock, NULL);
	h->fork_gen = sr_fork_gen; /* read after sr_fork_watch */
	/* io_uring unless forced to threads (the tests' engine matrix). */
	if ((!eng || strcmp(eng, "threads")) &&
	    io_uring_queue_init(BATCHSYS_MAX_RESULTS * 2, &h->ring, 0) == 0) {
		sr_tsan_ring_mapped(); /* core.h */
		/* out of the way of the program's fd numbers (core.h) */
		h->ring.ring_fd = h->ring.enter_ring_fd = sr_fd_high(h->ring.ring_fd);
		sr_uring_probe_ring(&h->ring); /* not a ring of its own (uring.c) */
		h->ring_ok = 1;
	}
	/* A fork child must never post into these rings: it does not
	 * get them (best effort; see sr_batchsys_atfork_child). */
	if (h->ring_ok)
		(void)io_uring_ring_dontfork(&h->ring);
	h->last = "none";
	/* SYSRING_BATCH_EXEC=loop|uring|kmod forces an executor (tests, benchmarks). */
	const char *ex = getenv("SYSRING_BATCH_EXEC");
	if (ex && !strcmp(ex, "loop"))
		h->flags |= SYSRING_BATCHSYS_EXEC_LOOP;
	else if (ex && !strcmp(ex, "uring"))
		h->flags |= SYSRING_BATCHSYS_EXEC_URING;
	else if (ex && !strcmp(ex, "kmod"))
		h->flags |= SYSRING_BATCHSYS_EXEC_KMOD;
	s = &slots[h->fd];
	sr_store_relaxed(&s->fork_gen, h->fork_gen);
	/* A stale entry (its fd was closed with close(), not batchsys_close)
	 * is leaked rather than torn down: its ring is not ours to close, and
	 * a thread may still be using it. seq_cst: publishes the handle (and
	 * fork_gen) to handle_get's load. */
	(void)__atomic_exchange_n(&s->h, h, __ATOMIC_SEQ_CST);
	hwm = sr_load_relaxed(&slots_hwm);
	while (hwm <= (uint32_t)h->fd &&
	       !sr_cas_weak(&slots_hwm, &hwm, (uint32_t)h->fd + 1, SR_RELAXED, SR_RELAXED))
		;
	return h->fd;
}

static void cache_drop(struct bs_handle *h, int fd)
{
	if (fd >= 0 && (unsigned int)fd < h->nslots)
		h->used[fd] = 0;
}

SR_EXPORT void batchsys_close(int batchsys_fd)
{
	struct bs_slot *s;
	struct bs_handle *h;

	if (batchsys_fd < 0 || batchsys_fd >= BS_MAX_HANDLES) {
		errno = EINVAL;
		return;
	}
	s = &slots[batchsys_fd];
	/* seq_cst: the Dekker pair with handle_get (see there). */
	h = __atomic_exchange_n(&s->h, NULL, __ATOMIC_SEQ_CST);
	if (!h) {
		/* Not a handle (or closed already): nothing is closed, since
		 * the number may name any file of the application. */
		errno = EINVAL;
		return;
	}
	/* seq_cst store, then load of users: the Dekker pair with
	 * handle_put. Whoever sees the other gone frees. In a fork child the
	 * parent's users were reset: an inherited handle is freed here (its
	 * descriptor is the child's copy; nothing of the parent's is left). */
	__atomic_store_n(&s->zombie, h, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&s->users, __ATOMIC_SEQ_CST))
		zombie_reap(s);
}

SR_EXPORT batchsys_batch_t *batchsys_batch_alloc(int batchsys_fd)
{
	batchsys_batch_t *b;

	/* Batches are not tied to a handle, but one is asked for: it must be
	 * one. */
	if (!handle_get(batchsys_fd)) {
		errno = EINVAL;
		return NULL;
	}
	handle_put(batchsys_fd);
	if (posix_memalign((void **)&b, 64, sizeof(*b))) {
		errno = ENOMEM;
		return NULL;
	}
	memset(b, 0, sizeof(*b));
	batchsys_batch_reset(b);
	return b;
}

SR_EXPORT void batchsys_batch_free(batchsys_batch_t *batch)
{
	free(batch);
}

SR_EXPORT int batchsys_close_fd(int batchsys_fd, int fd)
{
	struct bs_handle *h = handle_get(batchsys_fd);

	/* Not a handle: fd is not closed (it is not ours to close on the
	 * word of a bad handle). */
	if (!h)
		return bs_fail(EINVAL);
	pthread_mutex_lock(&h->lock);
	cache_drop(h, fd);
	pthread_mutex_unlock(&h->lock);
	handle_put(batchsys_fd);
	return close(fd);
}

SR_EXPORT int batchsys_cached_fds(int batchsys_fd)
{
	struct bs_handle *h = handle_get(batchsys_fd);
	int n = 0;

	if (!h)
		return bs_fail(EINVAL);
	pthread_mutex_lock(&h->lock);
	/* an fd closed with plain close() is forgotten here */
	for (unsigned int i = 0; i < h->nslots; i++) {
		if (h->used[i] && fcntl((int)i, F_GETFD) < 0)
			h->used[i] = 0;
		n += h->used[i];
	}
	pthread_mutex_unlock(&h->lock);
	handle_put(batchsys_fd);
	return n;
}

#define BS_EXEC_FLAGS (SYSRING_BATCHSYS_EXEC_LOOP | SYSRING_BATCHSYS_EXEC_URING | SYSRING_BATCHSYS_EXEC_KMOD)
#define BS_ALL_FLAGS                                                                        \
	(SYSRING_BATCHSYS_STOP_ON_ERROR | SYSRING_BATCHSYS_UNCHECKED_CACHE | SYSRING_BATCHSYS_NO_MERGE | \
	 BS_EXEC_FLAGS)

SR_EXPORT int sysring_batch_set_flags(int batchsys_fd, unsigned int flags)
{
	struct bs_handle *h;
	unsigned int exec = flags & BS_EXEC_FLAGS;

	/* Unknown bits, or more than one executor forced at once. */
	if ((flags & ~BS_ALL_FLAGS) || (exec & (exec - 1)))
		return -EINVAL;
	h = handle_get(batchsys_fd);
	if (!h)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	h->flags = flags;
	pthread_mutex_unlock(&h->lock);
	handle_put(batchsys_fd);
	return 0;
}

SR_EXPORT long sysring_batch_merged_calls(int batchsys_fd)
{
	struct bs_handle *h = handle_get(batchsys_fd);
	long n;

	if (!h)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	n = (long)h->merged;
	pthread_mutex_unlock(&h->lock);
	handle_put(batchsys_fd);
	return n;
}

SR_EXPORT const char *sysring_batch_last_executor(int batchsys_fd)
{
	struct bs_handle *h = handle_get(batchsys_fd);
	const char *last;

	if (!h) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&h->lock);
	last = h->last; /* a string literal: valid after we leave */
	pthread_mutex_unlock(&h->lock);
	handle_put(batchsys_fd);
	return last;
}

/* ---- pushes ---- */

/*
 * The room for one push, or NULL with errno: ENOSPC when the batch is full
 * (for this push: a generic call with many arguments may not fit where a
 * smaller one would), EINVAL when no push can ever succeed on it (NULL, or
 * counts that a batch never holds: memory scribbled over, or fields set by
 * hand). Batchsys's convention stands (0 means "not pushed"); errno says
 * whether to post and push again.
 */
static void *push_slot(batchsys_batch_t *b, uint8_t kind, size_t size)
{
	syscall_params_t *p;

	if (!b || b->byte_count > sizeof(b->params.incoming.bytes) ||
	    b->params.incoming.count > BATCHSYS_MAX_RESULTS) {
		errno = EINVAL;
		return NULL;
	}
	/* byte_count is at most the buffer's size: no overflow below. */
	if (b->byte_count + sizeof(*p) + size > sizeof(b->params.incoming.bytes) ||
	    b->params.incoming.count == BATCHSYS_MAX_RESULTS) {
		errno = ENOSPC;
		return NULL;
	}
	p = (syscall_params_t *)(b->params.incoming.bytes + b->byte_count);
	p->syscall = kind;
	return p->params;
}

static int push_done(batchsys_batch_t *b, size_t size)
{
	b->byte_count += (uint32_t)(sizeof(syscall_params_t) + size);
	b->params.incoming.count++;
	return 1;
}

/* Fill a packed params struct through a local copy (no unaligned access). */
#define PUSH(kind, type, ...)                                                            \
	do {                                                                             \
		type v_ = {__VA_ARGS__};                                                 \
		void *d_ = push_slot(batch, (kind), sizeof(type));                       \
		if (!d_)                                                                 \
			return 0;                                                        \
		memcpy(d_, &v_, sizeof(type));                                           \
		return push_done(batch, sizeof(type));                                   \
	} while (0)

SR_EXPORT int batchsys_push_read(batchsys_batch_t *batch, int fd, void *buf, size_t count)
{
	PUSH(kRead, read_params_t, fd, buf, count);
}
SR_EXPORT int batchsys_push_pread(batchsys_batch_t *batch, int fd, void *buf, size_t count, off_t offset)
{
	PUSH(kPread, pread_params_t, fd, buf, count, offset);
}
SR_EXPORT int batchsys_push_readv(batchsys_batch_t *batch, int fd, const struct iovec *iov, int iovcnt)
{
	PUSH(kReadv, readv_params_t, fd, iov, iovcnt);
}
SR_EXPORT int batchsys_push_write(batchsys_batch_t *batch, int fd, const void *buf, size_t count)
{
	PUSH(kWrite, write_params_t, fd, buf, count);
}
SR_EXPORT int batchsys_push_pwrite(batchsys_batch_t *batch, int fd, const void *buf, size_t count,
				   off_t offset)
{
	PUSH(kPwrite, pwrite_params_t, fd, buf, count, offset);
}
SR_EXPORT int batchsys_push_writev(batchsys_batch_t *batch, int fd, const struct iovec *iov, int iovcnt)
{
	PUSH(kWritev, writev_params_t, fd, iov, iovcnt);
}
SR_EXPORT int batchsys_push_recv(batchsys_batch_t *batch, int sockfd, void *buf, size_t len, int flags)
{
	PUSH(kRecv, recv_params_t, sockfd, buf, len, flags);
}
SR_EXPORT int batchsys_push_recvfrom(batchsys_batch_t *batch, int sockfd, void *buf, size_t len, int flags,
				     struct sockaddr *src_addr, uint32_t *addrlen)
{
	PUSH(kRecvfrom, recvfrom_params_t, sockfd, buf, len, flags, src_addr, addrlen);
}
SR_EXPORT int batchsys_push_send(batchsys_batch_t *batch, int sockfd, const void *buf, size_t len, int flags)
{
	PUSH(kSend, send_params_t, sockfd, buf, len, flags);
}
SR_EXPORT int batchsys_push_sendto(batchsys_batch_t *batch, int sockfd, const void *buf, size_t len,
				   int flags, const struct sockaddr *dest_addr, uint32_t addrlen)
{
	PUSH(kSendto, sendto_params_t, sockfd, buf, len, flags, dest_addr, addrlen);
}
SR_EXPORT int batchsys_push_accept(batchsys_batch_t *batch, int sockfd, struct sockaddr *addr,
				   uint32_t *addrlen)
{
	PUSH(kAccept, accept_params_t, sockfd, addr, addrlen);
}
SR_EXPORT int batchsys_push_accept4(batchsys_batch_t *batch, int sockfd, struct sockaddr *addr,
				    uint32_t *addrlen, int flags)
{
	PUSH(kAccept4, accept4_params_t, sockfd, addr, addrlen, flags);
}
SR_EXPORT int batchsys_push_accept4_non_block_reuse(batchsys_batch_t *batch, int sockfd,
						    struct sockaddr *addr, uint32_t *addrlen, int flags)
{
	PUSH(kAccept4NonBlockReuse, accept4_params_t, sockfd, addr, addrlen, flags);
}
SR_EXPORT int batchsys_push_connect(batchsys_batch_t *batch, int sockfd, const struct sockaddr *addr,
				    uint32_t addrlen)
{
	PUSH(kConnect, connect_params_t, sockfd, addr, addrlen);
}
SR_EXPORT int batchsys_push_epoll_ctl(batchsys_batch_t *batch, int epfd, int op, int fd,
				      struct epoll_event *event)
{
	struct epoll_event ev = {0};
	/* the event is the caller's memory (uaccess.h): NULL, or one that
	 * cannot be read, goes in as a generic call, whose plain epoll_ctl
	 * decides (EFAULT, or nothing to read for EPOLL_CTL_DEL) */
	if (!event || sr_ua_copy(&ev, event, sizeof(ev)))
		return batchsys_push_syscall(batch, SR_NR_epoll_ctl, 4, (long)epfd, (long)op, (long)fd, (long)event);
	PUSH(kEpollCtl, epoll_ctl_params_t, epfd, op, fd, ev);
}
SR_EXPORT int batchsys_push_close(batchsys_batch_t *batch, int fd)
{
	PUSH(kClose, close_params_t, fd);
}
SR_EXPORT int batchsys_push_socket(batchsys_batch_t *batch, int domain, int type, int protocol)
{
	PUSH(kSocket, socket_params_t, domain, type, protocol);
}
SR_EXPORT int batchsys_push_socket_non_block_reuse(batchsys_batch_t *batch, int domain, int type,
						   int protocol)
{
	PUSH(kSocketNonBlockReuse, socket_params_t, domain, type, protocol);
}

SR_EXPORT int batchsys_push_syscall(batchsys_batch_t *batch, long nr, unsigned int nargs, ...)
{
	struct {
		int32_t nr;
		uint8_t nargs;
		long args[6];
	} __attribute__((packed)) g;
	size_t size;
	void *d;
	va_list ap;

	/* Never pushable: 0 with EINVAL, told apart from a full batch
	 * (ENOSPC). A number beyond 32 bits is no call either. */
	if (nargs > 6 || nr < 0 || nr > INT32_MAX) {
		errno = EINVAL;
		return 0;
	}
	g.nr = (int32_t)nr;
	g.nargs = (uint8_t)nargs;
	va_start(ap, nargs);
	for (unsigned int i = 0; i < nargs; i++)
		g.args[i] = va_arg(ap, long);
	va_end(ap);
	size = sizeof(int32_t) + 1 + nargs * sizeof(long);
	d = push_slot(batch, BATCHSYS_GENERIC_SYSCALL, size);
	if (!d)
		return 0;
	memcpy(d, &g, size);
	return push_done(batch, size);
}

/* ---- decoding: Batchsys operation kinds to call numbers and arguments ---- */

#define LOAD(type, src) ({ type v_; memcpy(&v_, (src), sizeof(type)); v_; })

/* Decode the entry at *off; returns 0, or -EINVAL for a malformed batch. */
static int decode(const batchsys_batch_t *b, uint32_t *off, struct bs_call *c)
{
	const char *p, *end = b->params.incoming.bytes + b->byte_count;
	uint8_t kind;

	if (b->byte_count > sizeof(b->params.incoming.bytes) || *off + 1 > b->byte_count)
		return -EINVAL;
	p = b->params.incoming.bytes + *off;
	kind = (uint8_t)*p++;
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->fd_arg = -1;
#define NEED(type)                                                                       \
	do {                                                                             \
		if (p + sizeof(type) > end)                                              \
			return -EINVAL;                                                  \
		*off += 1 + (uint32_t)sizeof(type);                                      \
	} while (0)
	switch (kind) { /* Batchsys operation kinds, not call numbers */
	case kRead: {
		NEED(read_params_t);
		read_params_t v = LOAD(read_params_t, p);
		c->nr = SR_NR_read, c->a[0] = v.fd, c->a[1] = (long)v.buf, c->a[2] = (long)v.count, c->fd_arg = 0;
		return 0;
	}
	case kPread: {
		NEED(pread_params_t);
		pread_params_t v = LOAD(pread_params_t, p);
		c->nr = SR_NR_pread64, c->a[0] = v.fd, c->a[1] = (long)v.buf, c->a[2] = (long)v.count;
		c->a[3] = v.offset, c->fd_arg = 0;
		return 0;
	}
	case kReadv: {
		NEED(readv_params_t);
		readv_params_t v = LOAD(readv_params_t, p);
		c->nr = SR_NR_readv, c->a[0] = v.fd, c->a[1] = (long)v.iov, c->a[2] = v.iovcnt, c->fd_arg = 0;
		return 0;
	}
	case kWrite: {
		NEED(write_params_t);
		write_params_t v = LOAD(write_params_t, p);
		c->nr = SR_NR_write, c->a[0] = v.fd, c->a[1] = (long)v.buf, c->a[2] = (long)v.count, c->fd_arg = 0;
		return 0;
	}
	case kPwrite: {
		NEED(pwrite_params_t);
		pwrite_params_t v = LOAD(pwrite_params_t, p);
		c->nr = SR_NR_pwrite64, c->a[0] = v.fd, c->a[1] = (long)v.buf, c->a[2] = (long)v.count;
		c->a[3] = v.offset, c->fd_arg = 0;
		return 0;
	}
	case kWritev: {
		NEED(writev_params_t);
		writev_params_t v = LOAD(writev_params_t, p);
		c->nr = SR_NR_writev, c->a[0] = v.fd, c->a[1] = (long)v.iov, c->a[2] = v.iovcnt, c->fd_arg = 0;
		return 0;
	}
	case kRecv: {
		NEED(recv_params_t);
		recv_params_t v = LOAD(recv_params_t, p);
		c->nr = SR_NR_recvfrom, c->a[0] = v.sockfd, c->a[1] = (long)v.buf, c->a[2] = (long)v.len;
		c->a[3] = v.flags, c->fd_arg = 0;
		return 0;
	}
	case kRecvfrom: {
		NEED(recvfrom_params_t);
		recvfrom_params_t v = LOAD(recvfrom_params_t, p);
		c->nr = SR_NR_recvfrom, c->a[0] = v.sockfd, c->a[1] = (long)v.buf, c->a[2] = (long)v.len;
		c->a[3] = v.flags, c->a[4] = (long)v.src_addr, c->a[5] = (long)v.addrlen, c->fd_arg = 0;
		return 0;
	}
	case kSend: {
		NEED(send_params_t);
		send_params_t v = LOAD(send_params_t, p);
		c->nr = SR_NR_sendto, c->a[0] = v.sockfd, c->a[1] = (long)v.buf, c->a[2] = (long)v.len;
		c->a[3] = v.flags, c->fd_arg = 0;
		return 0;
	}
	case kSendto: {
		NEED(sendto_params_t);
		sendto_params_t v = LOAD(sendto_params_t, p);
		c->nr = SR_NR_sendto, c->a[0] = v.sockfd, c->a[1] = (long)v.buf, c->a[2] = (long)v.len;
		c->a[3] = v.flags, c->a[4] = (long)v.dest_addr, c->a[5] = v.addrlen, c->fd_arg = 0;
		return 0;
	}
	case kAccept: {
		NEED(accept_params_t);
		accept_params_t v = LOAD(accept_params_t, p);
		c->nr = SR_NR_accept, c->a[0] = v.sockfd, c->a[1] = (long)v.addr, c->a[2] = (long)v.addrlen;
		return 0;
	}
	case kAccept4:
	case kAccept4NonBlockReuse: {
		NEED(accept4_params_t);
		accept4_params_t v = LOAD(accept4_params_t, p);
		c->nr = SR_NR_accept4, c->a[0] = v.sockfd, c->a[1] = (long)v.addr, c->a[2] = (long)v.addrlen;
		c->a[3] = v.flags;
		if (kind == kAccept4NonBlockReuse) {
			c->a[3] |= SOCK_NONBLOCK;
			c->reuse = 1;
		}
		return 0;
	}
	case kConnect: {
		NEED(connect_params_t);
		connect_params_t v = LOAD(connect_params_t, p);
		c->nr = SR_NR_connect, c->a[0] = v.sockfd, c->a[1] = (long)v.addr, c->a[2] = v.addrlen;
		return 0;
	}
	case kEpollCtl: {
		NEED(epoll_ctl_params_t);
		/* the event is read in place from the batch, as the call would */
		const epoll_ctl_params_t *v = (const epoll_ctl_params_t *)p;
		c->nr = SR_NR_epoll_ctl, c->a[0] = LOAD(int, &v->epfd), c->a[1] = LOAD(int, &v->op);
		c->a[2] = LOAD(int, &v->fd), c->a[3] = (long)&v->event;
		return 0;
	}
	case kClose: {
		NEED(close_params_t);
		close_params_t v = LOAD(close_params_t, p);
		c->nr = SR_NR_close, c->a[0] = v.fd;
		return 0;
	}
	case kSocket:
	case kSocketNonBlockReuse: {
		NEED(socket_params_t);
		socket_params_t v = LOAD(socket_params_t, p);
		c->nr = SR_NR_socket, c->a[0] = v.domain, c->a[1] = v.type, c->a[2] = v.protocol;
		if (kind == kSocketNonBlockReuse) {
			c->a[1] |= SOCK_NONBLOCK;
			c->reuse = 1;
		}
		return 0;
	}
	case BATCHSYS_GENERIC_SYSCALL: {
		if (p + 5 > end)
			return -EINVAL;
		int32_t nr = LOAD(int32_t, p);
		uint8_t nargs = (uint8_t)p[4];
		if (nargs > 6 || p + 5 + nargs * sizeof(long) > end)
			return -EINVAL;
		c->nr = nr;
		memcpy(c->a, p + 5, nargs * sizeof(long));
		*off += 1 + 5 + nargs * (uint32_t)sizeof(long);
		return 0;
	}
	default:
		return -EINVAL;
	}
#undef NEED
}

/* ---- the fd cache ---- */

/* Remember that a batch used fd, if it is open (asked once per fd). */
static void cache_use(struct bs_handle *h, long fd)
{
	if (fd >= 0 && (unsigned long)fd < h->nslots && !h->used[fd] && fcntl((int)fd, F_GETFD) >= 0)
		h->used[fd] = 1;
}

/* ---- executors ---- */

static long call_loop(const struct bs_call *c)
{
	const struct sr_sysent *e = sr_sysent((unsigned long)c->nr);
	if (!e)
		return -ENOSYS;
	if (e->cls == SR_RF)
		return -SR_EREFUSED;
	return sr_rawsys(c->nr, c->a);
}

static void post_hook(const struct bs_call *c, long res)
{
	if (c->reuse && res >= 0) {
		int one = 1;
		setsockopt((int)res, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
}

static void set_result(batchsys_batch_t *b, int i, long res)
{
	syscall_result_t r = {res < 0 ? -1 : res, res < 0 ? -res : 0};
	memcpy(&b->params.outgoing.results[i], &r, sizeof(r));
}

/* ---- merged runs (the loop executor; batchsys.h "Merged runs") ---- */

/* A run carries at most this many bytes: the kernel caps one transfer at
 * MAX_RW_COUNT (2 GiB - 4 KiB), and well below it a vectored call's total is
 * exactly the sum of its calls. */
#define BS_RUN_MAX_BYTES (1L << 30)

/* Which fds of this post may have their runs merged: one check per
 * distinct fd, valid until a call of the batch that can change what an fd
 * number names runs (exec_loop forgets the answers then). */
struct regfd {
	long fd[8];
	bool reg[8];
	unsigned int n;
	int fsize; /* RLIMIT_FSIZE: 0 not asked yet, 1 infinite, 2 finite */
};

/* May a run of writes be merged? Not under a finite RLIMIT_FSIZE: a write
 * that starts at or beyond it raises SIGXFSZ (on the calling thread) and
 * fails EFBIG, one that crosses it is cut short without a signal, so a
 * merged writev raises SIGXFSZ another number of times than the plain
 * calls (and its short count is not theirs). Asked once per post, again
 * after any call that is not a read or write (setrlimit, prlimit64). */
static bool writes_mergeable(struct regfd *rf)
{
	if (!rf->fsize) {
		struct rlimit rl;
		rf->fsize = !getrlimit(RLIMIT_FSIZE, &rl) && rl.rlim_cur == RLIM_INFINITY ? 1 : 2;
	}
	return rf->fsize == 1;
}

/*
 * A sequence of reads or writes equals one vectored call only where the file
 * is a byte stream the page cache serves: a regular file on a local file
 * system known to behave so (kernfs, procfs and cgroupfs parse each write
 * as one command; FUSE and network file systems decide partial transfers
 * themselves), and not O_DIRECT (a vectored call fails as a whole on one
 * misaligned buffer) nor synchronous (O_SYNC, O_DSYNC, a sync mount or
 * inode: a failed flush after the data went in would be reported for the
 * whole run).
 */
static bool mergeable_file(int fd)
{
	struct stat st;
	struct statfs sf;
	int fl, iflags = 0;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return false;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & (O_DIRECT | O_SYNC | O_DSYNC)))
		return false;
	if (fstatfs(fd, &sf) || (sf.f_flags & ST_SYNCHRONOUS))
		return false;
	switch ((unsigned long)sf.f_type) {
	case 0xEF53UL:     /* ext2/3/4 */
	case 0x58465342UL: /* xfs */
	case 0x9123683EUL: /* btrfs */
	case 0x01021994UL: /* tmpfs */
	case 0xF2F52010UL: /* f2fs */
		break;
	default:
		return false;
	}
	/* chattr +S: a synchronous inode (not every file system answers) */
	if (!ioctl(fd, FS_IOC_GETFLAGS, &iflags) && (iflags & FS_SYNC_FL))
		return false;
	return true;
}

static bool is_regular(struct regfd *rf, long fd)
{
	bool reg;

	for (unsigned int i = 0; i < rf->n; i++)
		if (rf->fd[i] == fd)
			return rf->reg[i];
	reg = fd >= 0 && fd <= INT_MAX && mergeable_file((int)fd);
	if (rf->n < 8) { /* beyond 8 distinct fds: asked each time */
		rf->fd[rf->n] = fd;
		rf->reg[rf->n++] = reg;
	}
	return reg;
}

/* The vectored call a run of calls[i]'s call becomes (table column
 * vector.def), or NULL. */
static const struct sr_sysent *vec_of(const struct bs_call *c)
{
	const struct sr_sysent *e = sr_sysent((unsigned long)c->nr);
	return e && e->vec_nr ? e : NULL;
}

/* The run that starts at calls[i]: returns its end (exclusive; i + 1 when
 * calls[i] starts none) and sets *ok when calls[i..end) may be one vectored
 * call. A run: the same call on the same fd, every length non-zero (a
 * zero-length call answers without touching its buffer, which a vectored
 * call cannot reproduce), offsets contiguous for pread/pwrite; it may be
 * merged if it is two calls or more on a file mergeable_file accepts. The
 * end is returned either way, so that callers step over a whole run. */
static int run_end(const struct bs_call *calls, int i, int n, struct regfd *rf, bool *ok)
{
	const struct bs_call *c = &calls[i];
	const struct sr_sysent *e = vec_of(c);
	long total = c->a[2], end = 0;
	int j;

	*ok = false;
	if (i + 1 >= n || !e || c->a[2] <= 0 || c->a[2] > BS_RUN_MAX_BYTES ||
	    (e->vec_pos && (c->a[3] < 0 || __builtin_add_overflow(c->a[3], c->a[2], &end))))
		return i + 1;
	for (j = i + 1; j < n; j++) {
		const struct bs_call *d = &calls[j];
		if (d->nr != c->nr || d->a[0] != c->a[0] || d->a[2] <= 0 || d->a[2] > BS_RUN_MAX_BYTES - total)
			break;
		if (e->vec_pos && (d->a[3] != end || __builtin_add_overflow(end, d->a[2], &end)))
			break;
		total += d->a[2];
	}
	*ok = j - i >= 2 && (e->vec_read || writes_mergeable(rf)) && is_regular(rf, c->a[0]);
	return j;
}

/*
 * Run calls[i..j) as one vectored call and give each call what the plain
 * call would have returned. Returns the index to go on from; sets
 * *plain_until to j when the rest of the run must run call by call.
 *
 * A vectored call that moves everything is the plain sequence's answer. One
 * that comes back short or fails need not stop where the plain calls
 * would: the kernel checks a transfer piece by piece (a page at a time for
 * the page cache, and F_SEAL_GROW on tmpfs refuses a piece that would grow
 * the file), and a vectored call's pieces run across the calls' boundaries,
 * so a piece the plain call would have moved may be refused as part of a
 * bigger one. So:
 *  - stopped inside a call: the bytes before the stop are that call's (the
 *    plain call's pieces up to there are the same page-bounded ones), and
 *    the call finishes alone with its remainder, from where the vectored
 *    call stopped -- which are the plain call's own remaining pieces;
 *  - stopped at a call's start, or failed with nothing moved: that call
 *    runs alone, and so do the rest of the run, each giving its own
 *    errno. Nothing of the run is merged again.
 * A merged write can raise SIGXFSZ another number of times than the plain
 * calls: run_end never merges writes under a finite RLIMIT_FSIZE.
 */
static int exec_run(struct bs_handle *h, batchsys_batch_t *b, const struct bs_call *calls, int i, int j,
		    int *plain_until)
{
	const struct sr_sysent *e = vec_of(&calls[i]);
	struct iovec iov[BATCHSYS_MAX_RESULTS];
	long r;
	int k;

	for (k = i; k < j; k++)
		iov[k - i] = (struct iovec){(void *)calls[k].a[1], (size_t)calls[k].a[2]};
	/* pos_h is 0: on 64-bit the whole offset travels in pos_l. */
	r = sr_rawsys6(e->vec_nr, calls[i].a[0], (long)iov, j - i, calls[i].a[3], 0, 0);
	if (r < 0) {
		*plain_until = j;
		return i;
	}
	for (k = i; k < j; k++) {
		long len = calls[k].a[2];
		if (r >= len) {
			set_result(b, k, len);
			r -= len;
			h->merged++;
			continue;
		}
		*plain_until = j;
		if (r > 0) {
			/* The rest of this call, alone: the plain call's
			 * pieces from here on. Its failure after r bytes is
			 * the plain call's short count r. */
			struct bs_call rest = calls[k];
			long more;
			rest.a[1] += r;
			rest.a[2] -= r;
			if (e->vec_pos)
				rest.a[3] += r;
			more = call_loop(&rest);
			set_result(b, k, r + (more > 0 ? more : 0));
			h->merged++;
			return k + 1;
		}
		return k;
	}
	return j;
}

static bool has_run(const struct bs_call *calls, int n, struct regfd *rf)
{
	for (int i = 0; i + 1 < n;) {
		bool ok;
		int j = run_end(calls, i, n, rf, &ok);
		if (ok)
			return true;
		i = j;
	}
	return false;
}

/* Run calls[start..n) (calls before start ran elsewhere); returns the index
 * after the last call that ran, i.e. how many of the batch ran. */
static int exec_loop(struct bs_handle *h, batchsys_batch_t *b, struct bs_call *calls, int start, int n,
		     struct regfd *rf)
{
	bool stop = h->flags & SYSRING_BATCHSYS_STOP_ON_ERROR;
	bool merge = !(h->flags & SYSRING_BATCHSYS_NO_MERGE);
	int i = start, plain_until = start; /* calls before plain_until: not to merge */

	while (i < n) {
		if (merge && i >= plain_until) {
			bool ok;
			int j = run_end(calls, i, n, rf, &ok);
			if (ok) {
				/* a merged call's answer is never a failure
				 * (exec_run): nothing for STOP_ON_ERROR */
				i = exec_run(h, b, calls, i, j, &plain_until);
				continue;
			}
			plain_until = j;
		}
		const struct sr_sysent *v = vec_of(&calls[i]);
		long res = call_loop(&calls[i]);
		post_hook(&calls[i], res);
		set_result(b, i, res);
		/* Any other call may have changed what an fd number names
		 * (dup2, close, open, socket, ...) or the file size limit
		 * (setrlimit, prlimit64): check again. */
		if (!v)
			rf->n = 0, rf->fsize = 0;
		i++;
		if (res < 0 && stop)
			break;
	}
	h->last = "loop";
	return i;
}

/*
 * Signals the calls of a post may raise (the table's signal column,
 * signal.def: SIGPIPE with EPIPE, SIGXFSZ with EFBIG). Plainly each call
 * returns to user space before the next, so the handler runs once per call
 * and the default action ends the process before the next call runs. The
 * loop gives exactly that; a crossing that runs several calls does not (a
 * second SIGPIPE while the first is pending is dropped, and the calls after
 * a deadly one still run), and io_uring loses them on its io-wq workers or
 * never raises them (its send ops add MSG_NOSIGNAL). So such a call ends the
 * module's crossing, and keeps a batch from io_uring. A call may raise:
 * SIGPIPE, when its fd is a pipe or socket, its flags lack MSG_NOSIGNAL and
 * SIGPIPE is not ignored; SIGXFSZ, under a finite RLIMIT_FSIZE. Each of
 * these is asked at most once per post (per fd for the stream check).
 */
struct sigstate {
	int fsize;    /* 0 not asked, 1 RLIMIT_FSIZE infinite, 2 finite */
	int pipe_ign; /* 0 not asked, 1 SIGPIPE ignored, 2 not */
	struct regfd streams; /* reg[]: the fd is a pipe or socket */
};

static bool may_signal(struct sigstate *ss, const struct bs_call *c)
{
	const struct sr_sysent *e = sr_sysent((unsigned long)c->nr);

	if (sr_likely(!e || !e->sigs))
		return false;
	if (e->sigs & SR_SIG_XFSZ) {
		if (!ss->fsize)
			ss->fsize = sr_fsize_limited() ? 2 : 1;
		if (ss->fsize == 2)
			return true;
	}
	if (!(e->sigs & SR_SIG_PIPE) || (e->sig_flags && (c->a[e->sig_flags] & MSG_NOSIGNAL)))
		return false;
	if (!ss->pipe_ign) {
		struct sigaction sa;
		ss->pipe_ign = !sigaction(SIGPIPE, NULL, &sa) && sa.sa_handler == SIG_IGN ? 1 : 2;
	}
	if (ss->pipe_ign == 1)
		return false;
	for (unsigned int i = 0; i < ss->streams.n; i++)
		if (ss->streams.fd[i] == c->a[0])
			return ss->streams.reg[i];
	bool st = sr_rawsys6(SYS_lseek, c->a[0], 0, SEEK_CUR, 0, 0, 0) == -ESPIPE;
	if (ss->streams.n < 8) {
		ss->streams.fd[ss->streams.n] = c->a[0];
		ss->streams.reg[ss->streams.n++] = st;
	}
	return st;
}

/*
 * The kernel module's executor (src/engine/kmod.c): the whole batch in one
 * BATCH ioctl, run in order on this thread by sysring.ko, with the same
 * verdicts as the loop (refused calls -EPERM, unknown numbers -ENOSYS). A
 * call whose post_hook must act before the next call runs (SO_REUSEADDR on
 * a new socket, before a bind later in the batch) ends a crossing, so such
 * a batch takes one crossing per hook. -ENODEV when the module is absent or
 * unusable (nothing ran): the other executors take the batch.
 */
static int exec_kmod(struct bs_handle *h, batchsys_batch_t *b, struct bs_call *calls, int n)
{
	struct sysring_call kc[BATCHSYS_MAX_RESULTS];
	unsigned int flags = (h->flags & SYSRING_BATCHSYS_STOP_ON_ERROR) ? SYSRING_BATCH_STOP_ON_ERROR : 0;
	int ran = 0, start = 0;
	bool ends[BATCHSYS_MAX_RESULTS]; /* the call ends a crossing */
	struct sigstate ss = {0};

	if (sr_kmod_open() < 0)
		return -ENODEV;
	for (int i = 0; i < n; i++) {
		/* the cache counts fds used in batches on every executor */
		if (calls[i].fd_arg >= 0)
			cache_use(h, calls[i].a[calls[i].fd_arg]);
		/* a number beyond 32 bits must not wrap onto a real call */
		kc[i].nr = (unsigned long)calls[i].nr <= UINT32_MAX ? (uint32_t)calls[i].nr : UINT32_MAX;
		kc[i].flags = 0;
		for (int k = 0; k < 6; k++)
			kc[i].args[k] = (uint64_t)calls[i].a[k];
		kc[i].result = 0;
		/* a post_hook must act before the next call runs; a signal
		 * the call raises must act before it too (may_signal) */
		ends[i] = calls[i].reuse || may_signal(&ss, &calls[i]);
	}
	while (start < n) {
		int end = start;
		while (end < n - 1 && !ends[end])
			end++;
		long r = sr_kmod_batch(&kc[start], (unsigned int)(end - start + 1), flags);
		if (r < 0) {
			if (ran == 0)
				return -ENODEV;
			/* the module went away mid-post: the rest on the loop */
			for (int i = start; i < n; i++) {
				long res = call_loop(&calls[i]);
				post_hook(&calls[i], res);
				set_result(b, i, res);
				ran++;
				if (res < 0 && flags)
					break;
			}
			break;
		}
		for (int i = start; i < start + (int)r; i++) {
			post_hook(&calls[i], kc[i].result);
			set_result(b, i, kc[i].result);
			ran++;
		}
		if (r < end - start + 1)
			break; /* stopped at a failure */
		start = end + 1;
	}
	h->last = "kmod";
	return ran;
}

/*
 * The batch in io_uring, linked so that it runs in order. Returns how many
 * calls ran there, with *rest set to the index from which the loop must run
 * the rest (-1: none), or -EAGAIN when nothing ran (the loop takes the
 * whole batch). What the links do differently from plain calls in order:
 *  - a call that io_uring refuses at submission (a bad argument: writev
 *    with 1025 iovecs) fails its whole chain, ECANCELED for every other
 *    call, before any of them ran (a chain is issued once complete): the
 *    loop runs the batch and each call gives its own answer;
 *  - a failure, or a short read or write, breaks the chain (IOSQE_IO_LINK),
 *    where the plain sequence goes on (only a failure stops a batch, and
 *    only with STOP_ON_ERROR): the calls after it never ran, and the loop
 *    runs them -- after a short transfer at the file position, from the
 *    position the plain call leaves (its done, uring_ops.c), which a hard
 *    link would not wait for (a write cut short by RLIMIT_FSIZE, then the
 *    next write at the old position).
 * Only -ECANCELED tells these apart from real results: io_uring gives it
 * for nothing else here (no link timeouts, no cancels).
 */
static int exec_uring(struct bs_handle *h, batchsys_batch_t *b, struct bs_call *calls, int n, int *rest)
{
	bool stop = h->flags & SYSRING_BATCHSYS_STOP_ON_ERROR;
	struct io_uring_cqe *cqe;
	long res[BATCHSYS_MAX_RESULTS];
	int got = 0, ran = 0, ret, c = -1;

	struct io_uring_sqe tmp[BATCHSYS_MAX_RESULTS];

	*rest = -1;
	sr_uring_kinds_begin(); /* the preps below share what they ask about fds */
	/* Prepare everything first: a prep that refuses its arguments sends
	 * the whole batch to the loop before anything reaches the ring. */
	for (int i = 0; i < n; i++) {
		const struct sr_sysent *e = sr_sysent((unsigned long)calls[i].nr);
		memset(&tmp[i], 0, sizeof(tmp[i]));
		if (e->uring->prep(&tmp[i], calls[i].a, &h->aux[i]))
			return -EAGAIN;
		/* IO_LINK, also without STOP_ON_ERROR: a failure or a short
		 * count ends the chain, and the plain sequence goes on from the
		 * next call in the loop (below). A hard link would run the next
		 * transfer at a file position io_uring left behind after a
		 * short one (uring_ops.c, xfer_prep). */
		if (i + 1 < n)
			tmp[i].flags |= IOSQE_IO_LINK;
		tmp[i].user_data = (uint64_t)i;
		res[i] = -ECANCELED;
	}
	if (io_uring_sq_space_left(&h->ring) < (unsigned int)n)
		return -EAGAIN;
	for (int i = 0; i < n; i++)
		memcpy(io_uring_get_sqe(&h->ring), &tmp[i], sizeof(tmp[i]));
	ret = io_uring_submit_and_wait(&h->ring, (unsigned int)n);
	while (ret < 0 && ret == -EINTR)
		ret = io_uring_submit_and_wait(&h->ring, 0);
	while (got < n) {
		ret = io_uring_wait_cqe(&h->ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret < 0)
			break;
		int i = (int)cqe->user_data;
		if (i >= 0 && i < n) {
			const struct sr_sysent *e = sr_sysent((unsigned long)calls[i].nr);
			res[i] = e->uring->done ? e->uring->done(cqe->res, calls[i].a, &h->aux[i]) : cqe->res;
		}
		io_uring_cqe_seen(&h->ring, cqe);
		got++;
	}
	for (int i = 0; i < n && c < 0; i++)
		if (res[i] == -ECANCELED)
			c = i;
	if (c == 0)
		return -EAGAIN; /* a chain failed at submission: nothing ran */
	for (int i = 0; i < n; i++) {
		if (i == c) {
			/* stopped after calls[c - 1]: a failure (which ends
			 * the sequence only with STOP_ON_ERROR), or a short
			 * transfer the plain sequence would go on after */
			if (res[c - 1] >= 0 || !stop)
				*rest = c;
			break;
		}
		post_hook(&calls[i], res[i]);
		set_result(b, i, res[i]);
		ran++;
		/* with STOP_ON_ERROR the calls after a failure were never run */
		if (stop && res[i] < 0)
			break;
	}
	h->last = "uring";
	return ran;
}

/* Does io_uring run every call of this batch as the plain call would? Each
 * call must be one io_uring runs natively and to the plain call's answer
 * (exec.c, sr_uring_suits: no O_NONBLOCK pipe or socket, no transfer at
 * the position that io_uring would leave in the wrong place; and here, with
 * no resubmission of a partial write, no write to a pipe or socket at all);
 * and what an fd number names must not change within the batch, since the
 * checks describe the files before it runs: a call that opens or closes an
 * fd may only come last. */
static bool uring_fits(struct bs_handle *h, struct bs_call *calls, int n)
{
	struct sr_fdcache fc = {.n = 0};
	struct sigstate ss = {0};

	if (!h->ring_ok)
		return false;
	for (int i = 0; i < n; i++) {
		const struct sr_sysent *e = sr_sysent((unsigned long)calls[i].nr);
		const struct sr_uring_op *op = e ? e->uring : NULL;
		if (!op || !sr_uring_has(op->opcode) || op->punts)
			return false;
		/* A call that may raise a signal runs in the loop, on the
		 * caller, where the kernel raises it as plainly (may_signal) */
		if (may_signal(&ss, &calls[i]))
			return false;
		if (!sr_uring_suits(op, calls[i].a, &fc, false))
			return false;
		/* static: sr_uring_suits remembers its verdict by op address */
		static const struct sr_uring_op vrest_op = {.vrest = 1};
		if (op->rest && !sr_uring_suits(&vrest_op, calls[i].a, &fc, false))
			return false;
		if (op->fdtab && i + 1 < n)
			return false;
		/* a wait a signal would interrupt on the caller (a pipe
		 * read, epoll_wait): the loop runs it there */
		if (sr_uring_may_wait(op, calls[i].a, &fc))
			return false;
	}
	return true;
}

SR_EXPORT int batchsys_post_batch(int batchsys_fd, batchsys_batch_t *batch)
{
	struct bs_handle *h = handle_get(batchsys_fd);
	struct bs_call calls[BATCHSYS_MAX_RESULTS];
	struct regfd rf = {.n = 0};
	uint32_t off = 0;
	int n, ran;

	if (!h)
		return bs_fail(EINVAL);
	/* The count is a 64-bit field: compared whole, never truncated (2^32
	 * + 1 must not run one call). */
	if (!batch || batch->params.incoming.count > BATCHSYS_MAX_RESULTS) {
		handle_put(batchsys_fd);
		return bs_fail(EINVAL);
	}
	n = (int)batch->params.incoming.count;
	for (int i = 0; i < n; i++)
		if (decode(batch, &off, &calls[i])) {
			handle_put(batchsys_fd);
			return bs_fail(EINVAL);
		}
	if (n == 0) {
		handle_put(batchsys_fd);
		batch->params.outgoing.count = 0;
		return 0;
	}
	pthread_mutex_lock(&h->lock);
	ran = -ENODEV;
	/* A batch with runs to merge goes to the loop: one vectored call saves
	 * the run's crossings and its per-call work (one inode lock, one
	 * position update), more than the module's one crossing saves. */
	if (!(h->flags & (SYSRING_BATCHSYS_EXEC_LOOP | SYSRING_BATCHSYS_EXEC_URING)) &&
	    ((h->flags & (SYSRING_BATCHSYS_NO_MERGE | SYSRING_BATCHSYS_EXEC_KMOD)) || !has_run(calls, n, &rf)))
		ran = exec_kmod(h, batch, calls, n);
	if (ran < 0) {
		bool want_uring = (h->flags & SYSRING_BATCHSYS_EXEC_URING) ||
				  (!(h->flags & SYSRING_BATCHSYS_EXEC_LOOP) && n >= BS_URING_MIN_CALLS);
		int rest = -1;
		/* the cache counts fds used in batches on every executor */
		for (int i = 0; i < n; i++)
			if (calls[i].fd_arg >= 0)
				cache_use(h, calls[i].a[calls[i].fd_arg]);
		ran = want_uring && uring_fits(h, calls, n) ? exec_uring(h, batch, calls, n, &rest) : -EAGAIN;
		if (ran < 0)
			ran = exec_loop(h, batch, calls, 0, n, &rf);
		else if (rest >= 0)
			ran = exec_loop(h, batch, calls, rest, n, &rf);
	}
	/* batched closes leave the cache coherent */
	for (int i = 0; i < ran; i++) {
		syscall_result_t r;
		memcpy(&r, &batch->params.outgoing.results[i], sizeof(r));
		if (calls[i].nr == SR_NR_close && r.result == 0)
			cache_drop(h, (int)calls[i].a[0]);
	}
	pthread_mutex_unlock(&h->lock);
	handle_put(batchsys_fd);
	batch->params.outgoing.count = (uint64_t)ran;
	return ran;
}

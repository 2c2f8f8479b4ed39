/* SPDX-License-Identifier: MIT */
/*
 * sysring — synchronous batches (seed 004, Batchsys's API).
 *
 * Push calls into a batch, post it, read one {result, error} per call:
 * result is the plain call's return value, error its errno (0 on success,
 * result == -1 on failure). Calls run synchronously and in order; a failing
 * call does not stop the batch (unless the handle has
 * SYSRING_BATCHSYS_STOP_ON_ERROR). All 18 operations of Batchsys's header are
 * live, plus batchsys_push_syscall for any call.
 *
 * The names, types, constants and layout are Batchsys's, so that programs
 * written for it (its own test and benchmark, which read
 * batch->params.incoming.count) build and run unchanged.
 *
 * File cache: the handle remembers which fds its batches used
 * (batchsys_cached_fds counts those still open; batchsys_close_fd(h, fd)
 * forgets and closes, a batched close forgets). It holds no reference to any
 * file: a plain close() closes (a socket's peer sees the hang-up, a pipe's
 * reader its end of file), and a reused fd number names its new file in
 * every later call. (Batchsys cached kernel file objects; io_uring's
 * registered files would keep a closed file open, so they are not used.)
 *
 * Handles: every function taking one answers EINVAL (-EINVAL for the
 * sysring_ ones) for a number that is not an open handle of this process
 * (never opened, closed, out of range, or inherited across fork), and never
 * closes a descriptor on a bad handle's word. A handle may be closed while
 * another thread uses it: that use completes (the handle is freed when it
 * leaves), later uses fail with EINVAL.
 * fork(): a handle belongs to the process that opened it. In a child every
 * inherited handle fails with EINVAL; the child's copy of its io_uring is
 * closed at fork; batchsys_close in the child closes the
 * child's copy of the handle; the child may open its own.
 */
#ifndef SYSRING_BATCHSYS_H
#define SYSRING_BATCHSYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SYSRING_API
#define SYSRING_API __attribute__((visibility("default")))
#endif

/* Layout checks: static_assert in C++, _Static_assert from C11 on; C99 has
 * neither, so there a negative array size makes a failed check an error. */
#if defined(__cplusplus)
#define BATCHSYS_STATIC_ASSERT(expr, msg) static_assert(expr, #msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define BATCHSYS_STATIC_ASSERT(expr, msg) _Static_assert(expr, #msg)
#else
#define BATCHSYS_STATIC_ASSERT(expr, msg) typedef char batchsys_assert_##msg[(expr) ? 1 : -1]
#endif

enum Syscall {
	kAccept,
	kAccept4,
	kAccept4NonBlockReuse,
	kRead,
	kPread,
	kReadv,
	kRecv,
	kRecvfrom,
	kWrite,
	kPwrite,
	kWritev,
	kSend,
	kSendto,
	kConnect,
	kEpollCtl,
	kClose,
	kSocket,
	kSocketNonBlockReuse,
	kMaxSyscall,
};

/* sysring's addition: any system call (batchsys_push_syscall). */
#define BATCHSYS_GENERIC_SYSCALL 0x80

#define BATCHSYS_PACKED __attribute__((__packed__))

typedef struct accept_params {
	int sockfd;
	struct sockaddr *addr;
	uint32_t *addrlen;
} BATCHSYS_PACKED accept_params_t;

typedef struct accept4_params {
	int sockfd;
	struct sockaddr *addr;
	uint32_t *addrlen;
	int flags;
} BATCHSYS_PACKED accept4_params_t;

typedef struct read_params {
	int fd;
	void *buf;
	size_t count;
} BATCHSYS_PACKED read_params_t;

typedef struct pread_params {
	int fd;
	void *buf;
	size_t count;
	off_t offset;
} BATCHSYS_PACKED pread_params_t;

typedef struct readv_params {
	int fd;
	const struct iovec *iov;
	int iovcnt;
} BATCHSYS_PACKED readv_params_t;

typedef struct recv_params {
	int sockfd;
	void *buf;
	size_t len;
	int flags;
} BATCHSYS_PACKED recv_params_t;

typedef struct recvfrom_params {
	int sockfd;
	void *buf;
	size_t len;
	int flags;
	struct sockaddr *src_addr;
	uint32_t *addrlen;
} BATCHSYS_PACKED recvfrom_params_t;

typedef struct write_params {
	int fd;
	const void *buf;
	size_t count;
} BATCHSYS_PACKED write_params_t;

typedef struct pwrite_params {
	int fd;
	const void *buf;
	size_t count;
	off_t offset;
} BATCHSYS_PACKED pwrite_params_t;

typedef struct writev_params {
	int fd;
	const struct iovec *iov;
	int iovcnt;
} BATCHSYS_PACKED writev_params_t;

typedef struct send_params {
	int sockfd;
	const void *buf;
	size_t len;
	int flags;
} BATCHSYS_PACKED send_params_t;

typedef struct sendto_params {
	int sockfd;
	const void *buf;
	size_t len;
	int flags;
	const struct sockaddr *dest_addr;
	uint32_t addrlen;
} BATCHSYS_PACKED sendto_params_t;

typedef struct connect_params {
	int sockfd;
	const struct sockaddr *addr;
	uint32_t addrlen;
} BATCHSYS_PACKED connect_params_t;

typedef struct close_params {
	int fd;
} BATCHSYS_PACKED close_params_t;

typedef struct epoll_ctl_params {
	int epfd;
	int op;
	int fd;
	struct epoll_event event;
} BATCHSYS_PACKED epoll_ctl_params_t;

typedef struct socket_params {
	int domain;
	int type;
	int protocol;
} BATCHSYS_PACKED socket_params_t;

#if defined(__cplusplus) && defined(__GNUC__)
/* ISO C++ has no flexible array members; g++ and clang++ accept them as an
 * extension with the C layout, which the seed's ABI needs. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
/* batchsys_push_syscall's parameters: only nargs arguments are stored, so
 * a batch holds fewer generic calls than BATCHSYS_MAX_RESULTS when they
 * take many arguments (a push that does not fit returns 0). */
typedef struct generic_params {
	int32_t nr;
	uint8_t nargs;
	long args[];
} BATCHSYS_PACKED generic_params_t;

typedef struct syscall_params {
	uint8_t syscall;
	char params[];
} BATCHSYS_PACKED syscall_params_t;
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

typedef struct syscall_result {
	ssize_t result;
	int64_t error;
} BATCHSYS_PACKED syscall_result_t;

#define BATCHSYS_MAX_RESULTS (72)
#define BATCHSYS_MAX_PARAM_SIZE (40)
#define BATCHSYS_PARAM_SIZE (BATCHSYS_MAX_RESULTS * BATCHSYS_MAX_PARAM_SIZE)

typedef struct batchsys_incoming {
	uint64_t count;
	char bytes[BATCHSYS_PARAM_SIZE];
} BATCHSYS_PACKED batchsys_incoming_t;

BATCHSYS_STATIC_ASSERT(sizeof(batchsys_incoming_t) == 2888, SizeCheckBatchSysIncoming);

#define BATCHSYS_CHECK_PARAM_SIZE(x)                                                      \
	BATCHSYS_STATIC_ASSERT(sizeof(x) <= BATCHSYS_MAX_PARAM_SIZE, ParamSizeCheck##x)

BATCHSYS_CHECK_PARAM_SIZE(accept_params_t);
BATCHSYS_CHECK_PARAM_SIZE(accept4_params_t);
BATCHSYS_CHECK_PARAM_SIZE(read_params_t);
BATCHSYS_CHECK_PARAM_SIZE(pread_params_t);
BATCHSYS_CHECK_PARAM_SIZE(readv_params_t);
BATCHSYS_CHECK_PARAM_SIZE(recv_params_t);
BATCHSYS_CHECK_PARAM_SIZE(recvfrom_params_t);
BATCHSYS_CHECK_PARAM_SIZE(write_params_t);
BATCHSYS_CHECK_PARAM_SIZE(pwrite_params_t);
BATCHSYS_CHECK_PARAM_SIZE(writev_params_t);
BATCHSYS_CHECK_PARAM_SIZE(send_params_t);
BATCHSYS_CHECK_PARAM_SIZE(sendto_params_t);
BATCHSYS_CHECK_PARAM_SIZE(connect_params_t);
BATCHSYS_CHECK_PARAM_SIZE(close_params_t);
BATCHSYS_CHECK_PARAM_SIZE(epoll_ctl_params_t);
BATCHSYS_CHECK_PARAM_SIZE(socket_params_t);
BATCHSYS_CHECK_PARAM_SIZE(syscall_params_t);
BATCHSYS_CHECK_PARAM_SIZE(syscall_result_t);

typedef struct batchsys_outgoing {
	uint64_t count;
	syscall_result_t results[BATCHSYS_MAX_RESULTS];
} BATCHSYS_PACKED batchsys_outgoing_t;

BATCHSYS_STATIC_ASSERT(sizeof(batchsys_outgoing_t) == 1160, SizeCheckBatchSysOutgoing);

typedef struct batchsys_process_params {
	batchsys_incoming_t incoming;
	batchsys_outgoing_t outgoing;
} BATCHSYS_PACKED batchsys_process_params_t;

BATCHSYS_STATIC_ASSERT(sizeof(batchsys_process_params_t) == 4048, SizeCheckBatchSysParams);

typedef struct batchsys_batch {
	uint32_t id;
	uint32_t byte_count;
	batchsys_process_params_t params;
} batchsys_batch_t;

BATCHSYS_STATIC_ASSERT(sizeof(batchsys_batch_t) == 4056, SizeCheckBatchSysBatch);

/* The fd limit (RLIMIT_NOFILE's hard limit), or -1. */
SYSRING_API int batchsys_get_fd_limit(void);

/* A batch handle (a file descriptor), or -1 with errno: ENOMEM, EMFILE,
 * ENFILE (its eventfd). */
SYSRING_API int batchsys_open(void);
/* Close a handle and what it holds (its cache, its io_uring). A number that
 * is not a handle closes nothing (errno EINVAL). */
SYSRING_API void batchsys_close(int batchsys_fd);

/* A batch (batches are not tied to a handle, but the handle must be one):
 * NULL with errno EINVAL (bad handle) or ENOMEM. */
SYSRING_API batchsys_batch_t *batchsys_batch_alloc(int batchsys_fd);
SYSRING_API void batchsys_batch_free(batchsys_batch_t *batch);

static inline void batchsys_batch_reset(batchsys_batch_t *batch)
{
	batch->byte_count = 0;
	batch->params.incoming.count = 0;
	batch->params.outgoing.count = 0;
}

static inline int batchsys_batch_full(const batchsys_batch_t *batch)
{
	return batch->params.incoming.count >= BATCHSYS_MAX_RESULTS;
}

static inline int batchsys_batch_empty(const batchsys_batch_t *batch)
{
	return batch->params.incoming.count == 0;
}

static inline uint64_t batch_batch_result_count(const batchsys_batch_t *batch)
{
	return batch->params.outgoing.count;
}

static inline const syscall_result_t *batch_batch_get_result(const batchsys_batch_t *batch, uint64_t index)
{
	return &batch->params.outgoing.results[index];
}

/* Forget fd in the cache and close it: 0, or -1 with errno EINVAL (not a
 * handle: fd is left open), or close(2)'s: EBADF (fd was not open), EINTR,
 * EIO (fd is closed all the same). */
SYSRING_API int batchsys_close_fd(int batchsys_fd, int fd);

/* How many fds used in this handle's batches are still open and not
 * forgotten (O(n) system calls, for debugging and tests), or -1/EINVAL (not
 * a handle). */
SYSRING_API int batchsys_cached_fds(int batchsys_fd);

/*
 * Run the batch: returns how many calls ran (all of them, or with
 * SYSRING_BATCHSYS_STOP_ON_ERROR up to and including the first failure), or -1
 * with errno EINVAL (bad handle, NULL batch, a malformed batch: among others
 * an incoming.count above BATCHSYS_MAX_RESULTS, compared whole: 2^32 + 1 is
 * refused, not run as 1); nothing runs then. Results are in
 * batch->params.outgoing. A batch posted again without a reset runs again.
 */
SYSRING_API int batchsys_post_batch(int batchsys_fd, batchsys_batch_t *batch);

/*
 * Each push returns 1, or 0 when it did not push, as in Batchsys. errno
 * tells why: ENOSPC, the batch is full (for this push: a generic call with
 * many arguments may not fit where a smaller one would) -- post it, reset,
 * push again; EINVAL, the push can never succeed (NULL batch, counts that a
 * batch never holds, and for batchsys_push_syscall nargs > 6 or a call number
 * below 0 or above INT32_MAX) -- do not retry. errno is left alone on
 * success, so a push-until-0 loop reads it after the 0.
 */
SYSRING_API int batchsys_push_read(batchsys_batch_t *batch, int fd, void *buf, size_t count);
SYSRING_API int batchsys_push_pread(batchsys_batch_t *batch, int fd, void *buf, size_t count, off_t offset);
SYSRING_API int batchsys_push_readv(batchsys_batch_t *batch, int fd, const struct iovec *iov, int iovcnt);
SYSRING_API int batchsys_push_write(batchsys_batch_t *batch, int fd, const void *buf, size_t count);
SYSRING_API int batchsys_push_pwrite(batchsys_batch_t *batch, int fd, const void *buf, size_t count,
				     off_t offset);
SYSRING_API int batchsys_push_writev(batchsys_batch_t *batch, int fd, const struct iovec *iov, int iovcnt);
SYSRING_API int batchsys_push_recv(batchsys_batch_t *batch, int sockfd, void *buf, size_t len, int flags);
SYSRING_API int batchsys_push_recvfrom(batchsys_batch_t *batch, int sockfd, void *buf, size_t len, int flags,
				       struct sockaddr *src_addr, uint32_t *addrlen);
SYSRING_API int batchsys_push_send(batchsys_batch_t *batch, int sockfd, const void *buf, size_t len, int flags);
SYSRING_API int batchsys_push_sendto(batchsys_batch_t *batch, int sockfd, const void *buf, size_t len, int flags,
				     const struct sockaddr *dest_addr, uint32_t addrlen);
SYSRING_API int batchsys_push_accept(batchsys_batch_t *batch, int sockfd, struct sockaddr *addr,
				     uint32_t *addrlen);
SYSRING_API int batchsys_push_accept4(batchsys_batch_t *batch, int sockfd, struct sockaddr *addr,
				      uint32_t *addrlen, int flags);
/* accept4, and the new socket is made non-blocking with SO_REUSEADDR. */
SYSRING_API int batchsys_push_accept4_non_block_reuse(batchsys_batch_t *batch, int sockfd,
						      struct sockaddr *addr, uint32_t *addrlen, int flags);
SYSRING_API int batchsys_push_connect(batchsys_batch_t *batch, int sockfd, const struct sockaddr *addr,
				      uint32_t addrlen);
/* The event is copied into the batch at the push (Batchsys's layout holds
 * it by value); one that cannot be read is pushed as a generic epoll_ctl,
 * whose result is then EFAULT. */
SYSRING_API int batchsys_push_epoll_ctl(batchsys_batch_t *batch, int epfd, int op, int fd,
					struct epoll_event *event);
SYSRING_API int batchsys_push_close(batchsys_batch_t *batch, int fd);
SYSRING_API int batchsys_push_socket(batchsys_batch_t *batch, int domain, int type, int protocol);
/* socket, made non-blocking with SO_REUSEADDR. */
SYSRING_API int batchsys_push_socket_non_block_reuse(batchsys_batch_t *batch, int domain, int type,
						     int protocol);

/* sysring: any call, with nargs (0..6) long arguments (0/EINVAL otherwise). */
SYSRING_API int batchsys_push_syscall(batchsys_batch_t *batch, long nr, unsigned int nargs, ...);

/* sysring: per-handle options (native: 0 or -errno). -EINVAL for a bad
 * handle, unknown bits, or more than one SYSRING_BATCHSYS_EXEC_* at once;
 * the handle's flags are then unchanged. They replace the flags the handle
 * had (SYSRING_BATCH_EXEC included). */
#define SYSRING_BATCHSYS_STOP_ON_ERROR 0x1u    /* stop at the first failing call */
#define SYSRING_BATCHSYS_UNCHECKED_CACHE 0x2u  /* accepted; changes nothing (the cache holds no file) */
#define SYSRING_BATCHSYS_NO_MERGE 0x4u         /* one system call per pushed call (see below) */
#define SYSRING_BATCHSYS_EXEC_LOOP 0x10u       /* force the plain loop on the caller */
#define SYSRING_BATCHSYS_EXEC_URING 0x20u      /* force io_uring (falls back per batch) */
#define SYSRING_BATCHSYS_EXEC_KMOD 0x40u       /* force the kernel module (falls back) */
SYSRING_API int sysring_batch_set_flags(int batchsys_fd, unsigned int flags);

/* Which executor ran the last post on this handle: "loop", "uring", "kmod"
 * ("none" before the first), or NULL with errno EINVAL (not a handle). */
SYSRING_API const char *sysring_batch_last_executor(int batchsys_fd);

/*
 * Merged runs. On the loop executor, consecutive calls of one kind on one
 * regular file -- read, write, or pread/pwrite at contiguous offsets -- run
 * as one readv/writev (preadv/pwritev). For a regular file that is what the
 * sequence of plain calls does, in one crossing and under one inode lock;
 * each call gets the result the plain call would have given: a vectored call
 * that comes back short (a bad buffer, end of file, a tmpfs file sealed
 * F_SEAL_GROW) credits the calls it covered whole; the call it stopped
 * inside finishes alone with its remainder, and the rest of the run runs
 * call by call, so every count and errno is the plain call's own. Writes
 * are not merged under a finite RLIMIT_FSIZE (a merged write would raise
 * SIGXFSZ another number of times than the plain calls). Pipes, sockets
 * and devices are never merged (their partial transfers and message
 * boundaries differ). SYSRING_BATCHSYS_NO_MERGE turns it off (one system
 * call per pushed call, for instance under a seccomp filter or strace that
 * expects them). A batch with such runs prefers the loop to the module.
 * Returns how many calls of this handle's posts ran merged, ever, or -EINVAL
 * (not a handle; native convention).
 */
SYSRING_API long sysring_batch_merged_calls(int batchsys_fd);

#ifdef __cplusplus
}
#endif

#endif

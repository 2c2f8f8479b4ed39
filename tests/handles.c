/* SPDX-License-Identifier: MIT */
/*
 * Handles and conventions (issue 11 item 7, issue 17 item 3): every entry
 * point validates its handle and flags, native sysring_* functions answer
 * -errno, and a push that can never succeed is told apart from a full
 * batch.
 *   - batch entry points on bad handles (never opened, out of range, a plain
 *     fd, closed): EINVAL, and batchsys_close_fd / batchsys_close close
 *     nothing;
 *   - sysring_batch_set_flags refuses unknown bits and more than one forced
 *     executor, and keeps the flags it had;
 *   - pushes: 0 with errno EINVAL for a push that can never succeed (NULL
 *     batch, nargs > 6, a negative or too large call number, a batch whose
 *     counts were scribbled over), 0 with ENOSPC for a full batch, for every
 *     batchsys_push_<op>; the push-until-0-then-post loop ends;
 *   - batchsys_post_batch refuses counts that do not fit (2^32 + 1 must not
 *     run one call) and runs nothing;
 *   - native functions on bad contexts and parameters: -EINVAL.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>
#include <sysring/batchsys.h>

/* Every push of Batchsys's header plus the generic one, on `b`. */
static int push_op(batchsys_batch_t *b, int op, int fd)
{
	static char buf[8];
	static struct iovec iov = {buf, 1};
	static uint32_t alen;
	static struct sockaddr sa;
	struct epoll_event ev = {0};
	switch (op) {
	case 0: return batchsys_push_read(b, fd, buf, 1);
	case 1: return batchsys_push_pread(b, fd, buf, 1, 0);
	case 2: return batchsys_push_readv(b, fd, &iov, 1);
	case 3: return batchsys_push_write(b, fd, buf, 1);
	case 4: return batchsys_push_pwrite(b, fd, buf, 1, 0);
	case 5: return batchsys_push_writev(b, fd, &iov, 1);
	case 6: return batchsys_push_recv(b, fd, buf, 1, 0);
	case 7: return batchsys_push_recvfrom(b, fd, buf, 1, 0, &sa, &alen);
	case 8: return batchsys_push_send(b, fd, buf, 1, 0);
	case 9: return batchsys_push_sendto(b, fd, buf, 1, 0, &sa, sizeof(sa));
	case 10: return batchsys_push_accept(b, fd, &sa, &alen);
	case 11: return batchsys_push_accept4(b, fd, &sa, &alen, 0);
	case 12: return batchsys_push_accept4_non_block_reuse(b, fd, &sa, &alen, 0);
	case 13: return batchsys_push_connect(b, fd, &sa, sizeof(sa));
	case 14: return batchsys_push_epoll_ctl(b, fd, EPOLL_CTL_ADD, fd, &ev);
	case 15: return batchsys_push_close(b, fd);
	case 16: return batchsys_push_socket(b, AF_UNIX, SOCK_STREAM, 0);
	case 17: return batchsys_push_socket_non_block_reuse(b, AF_UNIX, SOCK_STREAM, 0);
	case 18: return batchsys_push_syscall(b, SYS_getpid, 0);
	default: return batchsys_push_syscall(b, SYS_pread64, 6, 1L, 2L, 3L, 4L, 5L, 6L);
	}
}
#define NOPS 20

static void test_bad_batch_handles(void)
{
	int good = batchsys_open();
	T_ASSERT(good >= 0);
	batchsys_batch_t *b = batchsys_batch_alloc(good);
	T_ASSERT(b);
	int plain = open("/dev/null", O_RDONLY);
	T_ASSERT(plain >= 0);
	int closed = batchsys_open();
	T_ASSERT(closed >= 0);
	batchsys_close(closed);
	int bad[] = {-1, -100, 65536, 1 << 30, plain, closed};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int victim = dup(plain);
		T_ASSERT(victim >= 0);
		T_ERRNO(batchsys_close_fd(bad[i], victim), EINVAL);
		T_ASSERT(fcntl(victim, F_GETFD) >= 0); /* not closed on a bad handle's word */
		close(victim);
		errno = 0;
		T_ASSERT(batchsys_batch_alloc(bad[i]) == NULL);
		T_EQ(errno, EINVAL);
		T_ERRNO(batchsys_cached_fds(bad[i]), EINVAL);
		batchsys_batch_reset(b);
		T_EQ(batchsys_push_syscall(b, SYS_getpid, 0), 1);
		T_ERRNO(batchsys_post_batch(bad[i], b), EINVAL);
		T_EQ(sysring_batch_set_flags(bad[i], 0), -EINVAL);
		T_EQ(sysring_batch_merged_calls(bad[i]), -EINVAL);
		T_ASSERT(sysring_batch_last_executor(bad[i]) == NULL);
		errno = 0;
		batchsys_close(bad[i]);
		T_EQ(errno, EINVAL);
	}
	T_ASSERT(fcntl(plain, F_GETFD) >= 0); /* batchsys_close(plain) closed nothing */
	T_ERRNO(batchsys_post_batch(good, NULL), EINVAL);

	/* flags */
	unsigned int refused[] = {0x8, 0x80, 0x100, 1u << 31, SYSRING_BATCHSYS_EXEC_LOOP | SYSRING_BATCHSYS_EXEC_URING,
				  SYSRING_BATCHSYS_EXEC_LOOP | SYSRING_BATCHSYS_EXEC_KMOD,
				  SYSRING_BATCHSYS_EXEC_URING | SYSRING_BATCHSYS_EXEC_KMOD,
				  SYSRING_BATCHSYS_EXEC_LOOP | SYSRING_BATCHSYS_EXEC_URING | SYSRING_BATCHSYS_EXEC_KMOD};
	T_EQ(sysring_batch_set_flags(good, SYSRING_BATCHSYS_STOP_ON_ERROR | SYSRING_BATCHSYS_EXEC_LOOP), 0);
	for (unsigned int i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		T_EQ(sysring_batch_set_flags(good, refused[i] | SYSRING_BATCHSYS_STOP_ON_ERROR), -EINVAL);
	/* still STOP_ON_ERROR on the loop: the refused calls changed nothing */
	batchsys_batch_reset(b);
	T_EQ(batchsys_push_close(b, -1), 1);
	T_EQ(batchsys_push_syscall(b, SYS_getpid, 0), 1);
	T_EQ(batchsys_post_batch(good, b), 1);
	T_EQ(batch_batch_get_result(b, 0)->error, EBADF);
	T_ASSERT(!strcmp(sysring_batch_last_executor(good), "loop"));
	unsigned int ok[] = {0, SYSRING_BATCHSYS_STOP_ON_ERROR, SYSRING_BATCHSYS_UNCHECKED_CACHE, SYSRING_BATCHSYS_NO_MERGE,
			     SYSRING_BATCHSYS_EXEC_LOOP, SYSRING_BATCHSYS_EXEC_URING, SYSRING_BATCHSYS_EXEC_KMOD,
			     SYSRING_BATCHSYS_STOP_ON_ERROR | SYSRING_BATCHSYS_NO_MERGE | SYSRING_BATCHSYS_EXEC_URING};
	for (unsigned int i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		T_EQ(sysring_batch_set_flags(good, ok[i]), 0);
	T_ASSERT(sysring_batch_merged_calls(good) >= 0);
	batchsys_batch_free(b);
	batchsys_close(good);
	close(plain);
}

static void test_pushes(void)
{
	int h = batchsys_open();
	T_ASSERT(h >= 0);
	batchsys_batch_t *b = batchsys_batch_alloc(h);
	T_ASSERT(b);
	int fd = open("/dev/null", O_RDWR);

	/* never pushable: 0 with EINVAL, the batch untouched */
	batchsys_batch_reset(b);
	T_EQ(batchsys_push_syscall(b, SYS_getpid, 0), 1);
	uint32_t bc = b->byte_count;
	errno = 0;
	T_EQ(batchsys_push_syscall(b, SYS_getpid, 7, 1L, 2L, 3L, 4L, 5L, 6L, 7L), 0);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(batchsys_push_syscall(b, -1, 0), 0);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(batchsys_push_syscall(b, LONG_MIN, 0), 0);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(batchsys_push_syscall(b, (long)INT32_MAX + 1, 0), 0);
	T_EQ(errno, EINVAL);
	T_EQ(b->params.incoming.count, 1);
	T_EQ(b->byte_count, bc);
	for (int op = 0; op < NOPS; op++) {
		errno = 0;
		T_EQ(push_op(NULL, op, fd), 0);
		T_EQ(errno, EINVAL);
	}

	/* The usual loop, push until 0 then post, ends on an invalid push. */
	int posts = 0;
	batchsys_batch_reset(b);
	for (int round = 0; round < 1000; round++) {
		errno = 0;
		while (batchsys_push_syscall(b, -5, 0))
			;
		if (errno != ENOSPC)
			break;
		posts++;
		batchsys_batch_reset(b);
	}
	T_EQ(posts, 0);
	T_EQ(errno, EINVAL);

	/* full: 0 with ENOSPC, for every push */
	for (int op = 0; op < NOPS; op++) {
		int n = 0;
		batchsys_batch_reset(b);
		errno = 0;
		while (push_op(b, op, fd) == 1)
			n++;
		if (errno != ENOSPC)
			T_FAIL("push %d: full after %d, errno %d, want ENOSPC", op, n, errno);
		T_ASSERT(n >= 1 && n <= BATCHSYS_MAX_RESULTS);
		/* a 6-argument generic call fills the bytes before the count */
		if (op == NOPS - 1)
			T_ASSERT(!batchsys_batch_full(b) && n < BATCHSYS_MAX_RESULTS);
	}

	/* counts that were scribbled over: EINVAL, nothing written past the
	 * buffer (ASan) */
	batchsys_batch_reset(b);
	b->byte_count = 0xfffffff0u;
	errno = 0;
	T_EQ(batchsys_push_write(b, fd, "x", 1), 0);
	T_EQ(errno, EINVAL);
	batchsys_batch_reset(b);
	b->params.incoming.count = 1000;
	errno = 0;
	T_EQ(batchsys_push_syscall(b, SYS_getpid, 0), 0);
	T_EQ(errno, EINVAL);

	/* post: a count that does not fit is refused whole, never truncated */
	int p[2];
	T_EQ(pipe2(p, O_NONBLOCK), 0);
	uint64_t counts[] = {(1ull << 32) + 1, 1ull << 32, BATCHSYS_MAX_RESULTS + 1, ~0ull, 1ull << 63};
	for (unsigned int i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		batchsys_batch_reset(b);
		T_EQ(batchsys_push_write(b, p[1], "x", 1), 1);
		b->params.incoming.count = counts[i];
		T_ERRNO(batchsys_post_batch(h, b), EINVAL);
		char c;
		T_ERRNO(read(p[0], &c, 1), EAGAIN); /* nothing ran */
	}
	/* and a real one runs */
	batchsys_batch_reset(b);
	T_EQ(batchsys_push_write(b, p[1], "x", 1), 1);
	T_EQ(batchsys_post_batch(h, b), 1);
	batchsys_batch_reset(b);
	T_EQ(batchsys_post_batch(h, b), 0); /* empty */
	close(p[0]);
	close(p[1]);
	close(fd);
	batchsys_batch_free(b);
	batchsys_close(h);
}

static void test_native(void)
{
	struct sysring_params p;
	async_context_t ctx, bad[] = {(async_context_t)0, (async_context_t)1, (async_context_t)0x12345,
				      (async_context_t)~0UL, (async_context_t)(uintptr_t)0xdead00000001ull};
	struct sysring_stats st;
	struct sysring_syscall_info info;
	struct timespec zero = {0, 0};
	struct async_event ev[1];
	struct async_cb *pid = async_cb_new(SYS_getpid, 0);
	struct async_cb *cbs[1] = {pid};

	/* parameters: only what this version knows */
	for (int c = 0; c < 8; c++) {
		sysring_params_init(&p);
		switch (c) {
		case 0: p.engine = 99; break;
		case 1: p.engine = SYSRING_ENGINE_INLINE; break;
		case 2: p.engine = SYSRING_ENGINE__COUNT; break;
		case 3: p.flags = 0x100; break;
		case 4: p.inline_calls = 2; break;
		case 5: p.inline_calls = -2; break;
		case 6: p.reserved[3] = 1; break;
		default: p.size = 4; break;
		}
		if (sysring_setup(4, &p, &ctx) != -EINVAL)
			T_FAIL("sysring_setup accepted bad parameters (case %d)", c);
	}
	sysring_params_init(&p);
	T_EQ(sysring_setup(4, &p, NULL), -EINVAL);
	T_EQ(sysring_setup(0, &p, &ctx), -EINVAL);
	T_EQ(sysring_setup(4, &p, &ctx), 0);
	T_EQ(sysring_stats(ctx, NULL), -EINVAL);
	T_EQ(sysring_cancel(ctx, NULL), -EINVAL);
	T_ASSERT(sysring_ctx_engine(ctx) >= 0);

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_EQ(sysring_ctx_engine(bad[i]), -EINVAL);
		T_EQ(sysring_stats(bad[i], &st), -EINVAL);
		T_EQ(sysring_eventfd(bad[i]), -EINVAL);
		T_EQ(sysring_cancel(bad[i], pid), -EINVAL);
		T_EQ(sysring_submit_timeout(bad[i], 1, cbs, &zero), -EINVAL);
		T_ERRNO(async_submit(bad[i], 1, cbs), EINVAL);
		T_ERRNO(async_getevents(bad[i], 0, 1, ev, &zero), EINVAL);
		T_ERRNO(async_check_events(bad[i], 0, 1, ev, NULL), EINVAL);
		T_ERRNO(async_destroy(bad[i]), EINVAL);
	}
	T_EQ(sysring_syscall_info(SYS_read, NULL), -EINVAL);
	T_EQ(sysring_syscall_info(-1, &info), -ENOSYS);
	T_ASSERT(sysring_engine_name(-1) == NULL);
	T_ASSERT(sysring_engine_name(SYSRING_ENGINE__COUNT) == NULL);
	sysring_params_init(NULL); /* harmless */

	/* the by-value cb helpers */
	errno = 0;
	T_ASSERT(async_cb_new(SYS_getpid, 7) == NULL);
	T_EQ(errno, EINVAL);
	T_ERRNO(async_cb_set_arg(pid, 6, 0), EINVAL);
	T_ERRNO(async_cb_set_arg(pid, 0, 0), EINVAL); /* getpid has no argument 0 */
	T_ERRNO(async_cb_set_arg(NULL, 0, 0), EINVAL);
	async_cb_free(NULL);

	/* registrations */
	static struct syslet_uatom *ring[4];
	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	T_ERRNO(async_register(NULL, sizeof(ahu)), EINVAL);
	T_ERRNO(async_register(&ahu, sizeof(ahu) - 1), EINVAL);
	struct async_head_user bads[] = {{NULL, sizeof(ring), -1UL}, {ring, 0, -1UL}, {ring, 12, -1UL}, {ring, sizeof(ring), 0}};
	for (unsigned int i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		T_ERRNO(async_register(&bads[i], sizeof(bads[i])), EINVAL);
	T_ERRNO(async_unregister(NULL, sizeof(ahu)), EINVAL);
	T_ERRNO(async_unregister(&ahu, sizeof(ahu)), EINVAL); /* never registered */
	T_ERRNO(async_wait(1), EINVAL);
	errno = 0;
	T_ASSERT(async_exec(NULL) == NULL);
	T_EQ(errno, EINVAL);
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	T_ERRNO(async_register(&ahu, sizeof(ahu)), EBUSY);
	T_ERRNO(async_unregister(&ahu, sizeof(ahu) + 1), EINVAL);
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	T_ERRNO(async_unregister(&ahu, sizeof(ahu)), EINVAL);

	T_EQ(async_destroy(ctx), 0);
	T_EQ(sysring_ctx_engine(ctx), -EINVAL);
	async_cb_free(pid);
}

int main(void)
{
	t_watchdog(60);
	test_bad_batch_handles();
	test_pushes();
	test_native();
	printf("handles: ok\n");
	return 0;
}

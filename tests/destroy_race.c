/* SPDX-License-Identifier: MIT */
/*
 * Destroy racing use (issue 11 item 4): every entry point on every kind of
 * handle, called on one thread while another destroys or closes it, either
 * works or fails with EINVAL (-EINVAL for native functions), never touches
 * freed memory (ASan) and never hangs:
 *   - async contexts: async_submit, sysring_submit_timeout,
 *     async_check_events, async_getevents, sysring_cancel, sysring_stats,
 *     sysring_eventfd, sysring_ctx_engine vs async_destroy (and two
 *     destroys of one context; a stale handle whose slot was reused);
 *   - syslet registrations: async_exec and async_wait on the owner thread
 *     vs async_unregister from another;
 *   - batch handles: batchsys_post_batch, batchsys_batch_alloc,
 *     batchsys_close_fd, batchsys_cached_fds, sysring_batch_set_flags,
 *     sysring_batch_merged_calls, sysring_batch_last_executor vs
 *     batchsys_close.
 * After the destroy/close returned, every call fails with EINVAL.
 * Runs under the engine matrix; rounds scale with SYSRING_TEST_SCALE.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>
#include <sysring/batchsys.h>

#define NUSERS 3

static int rounds(int base)
{
	int n = (int)(base * t_scale());
	return n < 40 ? 40 : n;
}

static unsigned int rnd(unsigned int *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/* ---- async contexts ---- */

static async_context_t g_ctx;
static int g_destroyed; /* set once async_destroy returned */
static int g_pipe[2];
static long g_bad; /* calls that answered wrongly */

static void bad(const char *what, long r, int e)
{
	fprintf(stderr, "after destroy: %s returned %ld errno %d\n", what, r, e);
	__atomic_fetch_add(&g_bad, 1, __ATOMIC_RELAXED);
}

static void *ctx_user(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	char buf[8];
	struct async_cb *pid = async_cb_new(SYS_getpid, 0);
	struct async_cb *rd = async_cb_new(SYS_read, 3, (long)g_pipe[0], (long)buf, 1L);
	struct async_cb *cbs[4] = {pid, pid, rd, pid};
	struct async_event ev[8];
	struct timespec zero = {0, 0}, ms1 = {0, 1000000};
	struct sysring_stats st;

	for (;;) {
		int after = __atomic_load_n(&g_destroyed, __ATOMIC_ACQUIRE);
		long r;
		int e;
		switch (rnd(&seed) % 9) {
		case 0:
			r = async_submit(g_ctx, 1 + rnd(&seed) % 4, cbs);
			e = errno;
			if (after && !(r == -1 && e == EINVAL))
				bad("async_submit", r, e);
			break;
		case 1:
			r = sysring_submit_timeout(g_ctx, 2, cbs + 2, &ms1);
			e = 0;
			if (after && r != -EINVAL)
				bad("sysring_submit_timeout", r, e);
			break;
		case 2:
			r = async_check_events(g_ctx, 0, 8, ev, NULL);
			e = errno;
			if (after && !(r == -1 && e == EINVAL))
				bad("async_check_events", r, e);
			break;
		case 3:
			r = async_check_events(g_ctx, 1, 8, ev, &ms1);
			e = errno;
			if (after && !(r == -1 && e == EINVAL))
				bad("async_check_events (spinning)", r, e);
			break;
		case 4:
			/* may sleep: destroy must wake it */
			r = async_getevents(g_ctx, 1 + rnd(&seed) % 2, 8, ev, rnd(&seed) % 2 ? NULL : &ms1);
			e = errno;
			if (after && !(r == -1 && e == EINVAL))
				bad("async_getevents", r, e);
			break;
		case 5:
			r = sysring_cancel(g_ctx, rnd(&seed) % 2 ? rd : pid);
			if (after && r != -EINVAL)
				bad("sysring_cancel", r, 0);
			break;
		case 6:
			r = sysring_stats(g_ctx, &st);
			if (after && r != -EINVAL)
				bad("sysring_stats", r, 0);
			break;
		case 7:
			r = sysring_eventfd(g_ctx);
			if (after && r != -EINVAL)
				bad("sysring_eventfd", r, 0);
			break;
		default:
			r = sysring_ctx_engine(g_ctx);
			if (after && r != -EINVAL)
				bad("sysring_ctx_engine", r, 0);
			(void)async_getevents(g_ctx, 0, 8, ev, &zero);
			break;
		}
		if (after)
			break; /* one call after the destroy returned is enough */
	}
	async_cb_free(pid);
	async_cb_free(rd);
	return NULL;
}

static void *destroyer(void *arg)
{
	long *ret = arg;
	*ret = async_destroy(g_ctx) == 0 ? 0 : errno;
	return NULL;
}

static void test_ctx(void)
{
	unsigned int seed = 7;
	int n = rounds(300);

	T_EQ(pipe(g_pipe), 0);
	for (int round = 0; round < n; round++) {
		pthread_t th[NUSERS];
		struct sysring_params p;
		sysring_params_init(&p);
		p.threads = 2;
		T_EQ(sysring_setup(8, &p, &g_ctx), 0);
		__atomic_store_n(&g_destroyed, 0, __ATOMIC_RELEASE);
		for (int i = 0; i < NUSERS; i++)
			pthread_create(&th[i], NULL, ctx_user, (void *)(uintptr_t)(round * 31 + i + 1));
		usleep(rnd(&seed) % 1500);
		if (round % 4 == 0) {
			/* two destroys at once: exactly one wins */
			pthread_t d;
			long r2 = -1;
			pthread_create(&d, NULL, destroyer, &r2);
			int r1 = async_destroy(g_ctx);
			int e1 = errno;
			pthread_join(d, NULL);
			T_ASSERT((r1 == 0 && r2 == EINVAL) || (r1 == -1 && e1 == EINVAL && r2 == 0));
		} else {
			T_EQ(async_destroy(g_ctx), 0);
		}
		__atomic_store_n(&g_destroyed, 1, __ATOMIC_RELEASE);
		for (int i = 0; i < NUSERS; i++)
			pthread_join(th[i], NULL);
		T_EQ(g_bad, 0);
	}

	/* a stale handle whose slot was reused names nothing */
	async_context_t a, b;
	struct async_event ev[1];
	T_EQ(async_setup(4, &a), 0);
	T_EQ(async_destroy(a), 0);
	T_EQ(async_setup(4, &b), 0);
	T_ERRNO(async_destroy(a), EINVAL);
	struct async_cb *pid = async_cb_new(SYS_getpid, 0);
	struct async_cb *cbs[1] = {pid};
	T_ERRNO(async_submit(a, 1, cbs), EINVAL);
	T_EQ(async_submit(b, 1, cbs), 1);
	T_EQ(async_getevents(b, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, getpid());
	T_EQ(async_destroy(b), 0);
	async_cb_free(pid);
	close(g_pipe[0]);
	close(g_pipe[1]);
	printf("destroy_race: %d rounds of context destroy vs %d users\n", n, NUSERS);
}

/* ---- syslet registrations ---- */

static struct syslet_uatom *s_ring[16];
static struct async_head_user s_ahu;
static int s_registered; /* 1 once the owner registered */
static int s_unregistered;
static long s_bad;

static void *reg_owner(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	/* One atom, touched again only once it is done: seen in the ring, or
	 * after async_unregister returned (the main thread says so). */
	static struct syslet_uatom a;
	static long res;
	unsigned long idx = 0;
	int pending = 0;

	s_ahu = (struct async_head_user){s_ring, sizeof(s_ring), 2};
	for (unsigned int i = 0; i < 16; i++)
		__atomic_store_n(&s_ring[i], NULL, __ATOMIC_RELEASE);
	T_EQ(async_register(&s_ahu, sizeof(s_ahu)), 0);
	__atomic_store_n(&s_registered, 1, __ATOMIC_RELEASE);
	for (;;) {
		int after = __atomic_load_n(&s_unregistered, __ATOMIC_ACQUIRE);
		if (!pending || after) {
			memset(&a, 0, sizeof(a));
			a.nr = SYS_getpid;
			a.ret_ptr = &res;
			a.flags = rnd(&seed) % 2 ? SYSLET_ASYNC : 0;
			struct syslet_uatom *d = async_exec(&a);
			if (after && (d != &a || res != getpid())) {
				/* no registration: runs here and returns the atom */
				fprintf(stderr, "after unregister: async_exec %p\n", (void *)d);
				__atomic_fetch_add(&s_bad, 1, __ATOMIC_RELAXED);
			}
			pending = d == NULL;
		}
		errno = 0;
		long w = async_wait(rnd(&seed) % 2);
		if (after && !(w == -1 && errno == EINVAL)) {
			fprintf(stderr, "after unregister: async_wait %ld errno %d\n", w, errno);
			__atomic_fetch_add(&s_bad, 1, __ATOMIC_RELAXED);
		}
		if (after)
			break;
		if (w > 0) {
			/* the only syslet that can be there: ours, done */
			for (long i = 0; i < w; i++) {
				__atomic_store_n(&s_ring[idx], NULL, __ATOMIC_RELEASE);
				idx = (idx + 1) % 16;
			}
			pending = 0;
		}
	}
	return NULL;
}

static void test_reg(void)
{
	unsigned int seed = 11;
	int n = rounds(200);

	for (int round = 0; round < n; round++) {
		pthread_t th;
		__atomic_store_n(&s_registered, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s_unregistered, 0, __ATOMIC_RELAXED);
		pthread_create(&th, NULL, reg_owner, (void *)(uintptr_t)(round + 1));
		while (!__atomic_load_n(&s_registered, __ATOMIC_ACQUIRE))
			usleep(100);
		usleep(rnd(&seed) % 1500);
		T_EQ(async_unregister(&s_ahu, sizeof(s_ahu)), 0);
		__atomic_store_n(&s_unregistered, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
		T_EQ(s_bad, 0);
	}
	printf("destroy_race: %d rounds of async_unregister vs the owner's async_exec/async_wait\n", n);
}

/* ---- batch handles ---- */

static int b_h;
static int b_closed;
static long b_bad;

static void bbad(const char *what, long r, int e)
{
	fprintf(stderr, "after batchsys_close: %s returned %ld errno %d\n", what, r, e);
	__atomic_fetch_add(&b_bad, 1, __ATOMIC_RELAXED);
}

static void *batch_user(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	batchsys_batch_t *b = NULL;
	int devnull = open("/dev/null", O_WRONLY);

	/* Batches are not tied to a handle: allocate one while it is open. */
	while (!b && !__atomic_load_n(&b_closed, __ATOMIC_ACQUIRE))
		b = batchsys_batch_alloc(b_h);
	for (int it = 0; b; it++) {
		int after = __atomic_load_n(&b_closed, __ATOMIC_ACQUIRE);
		long r;
		int e;
		errno = 0;
		switch (rnd(&seed) % 7) {
		case 0:
			batchsys_batch_reset(b);
			batchsys_push_write(b, devnull, "x", 1);
			batchsys_push_syscall(b, SYS_getpid, 0);
			r = batchsys_post_batch(b_h, b);
			e = errno;
			if (after && !(r == -1 && e == EINVAL))
				bbad("batchsys_post_batch", r, e);
			break;
		case 1: {
			batchsys_batch_t *x = batchsys_batch_alloc(b_h);
			e = errno;
			if (after && !(x == NULL && e == EINVAL))
				bbad("batchsys_batch_alloc", (long)(x != NULL), e);
			batchsys_batch_free(x);
			break;
		}
		case 2: {
			int d = dup(devnull);
			r = batchsys_close_fd(b_h, d);
			e = errno;
			if (r == -1)
				close(d); /* refused: not closed */
			if (after && !(r == -1 && e == EINVAL))
				bbad("batchsys_close_fd", r, e);
			break;
		}
		case 3:
			r = batchsys_cached_fds(b_h);
			e = errno;
			if (after && !(r == -1 && e == EINVAL))
				bbad("batchsys_cached_fds", r, e);
			break;
		case 4:
			r = sysring_batch_set_flags(b_h, rnd(&seed) % 2 ? SYSRING_BATCHSYS_NO_MERGE : 0);
			if (after && r != -EINVAL)
				bbad("sysring_batch_set_flags", r, 0);
			break;
		case 5:
			r = sysring_batch_merged_calls(b_h);
			if (after && r != -EINVAL)
				bbad("sysring_batch_merged_calls", r, 0);
			break;
		default: {
			const char *x = sysring_batch_last_executor(b_h);
			if (after && x)
				bbad("sysring_batch_last_executor", 1, 0);
			break;
		}
		}
		if (after)
			break;
	}
	batchsys_batch_free(b);
	close(devnull);
	return NULL;
}

static void test_batch(void)
{
	unsigned int seed = 13;
	int n = rounds(300);

	for (int round = 0; round < n; round++) {
		pthread_t th[NUSERS];
		b_h = batchsys_open();
		T_ASSERT(b_h >= 0);
		__atomic_store_n(&b_closed, 0, __ATOMIC_RELEASE);
		for (int i = 0; i < NUSERS; i++)
			pthread_create(&th[i], NULL, batch_user, (void *)(uintptr_t)(round * 17 + i + 1));
		usleep(rnd(&seed) % 1500);
		int h = b_h;
		batchsys_close(h);
		__atomic_store_n(&b_closed, 1, __ATOMIC_RELEASE);
		for (int i = 0; i < NUSERS; i++)
			pthread_join(th[i], NULL);
		T_EQ(b_bad, 0);
		/* closed for good: a second close closes nothing */
		errno = 0;
		batchsys_close(h);
		T_EQ(errno, EINVAL);
	}
	printf("destroy_race: %d rounds of batchsys_close vs %d users\n", n, NUSERS);
}

int main(int argc, char **argv)
{
	t_watchdog(280);
	if (argc < 2 || !strcmp(argv[1], "ctx"))
		test_ctx();
	if (argc < 2 || !strcmp(argv[1], "reg"))
		test_reg();
	if (argc < 2 || !strcmp(argv[1], "batch"))
		test_batch();
	printf("destroy_race: ok\n");
	return 0;
}

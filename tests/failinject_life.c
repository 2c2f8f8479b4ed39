/* SPDX-License-Identifier: MIT */
/*
 * Allocation failures in every entry point (issue 11 item 5, the allocation
 * half): for each entry point that allocates (memory, eventfds, mmaps,
 * kernel timers), the k-th allocation fails, for every k up to the number it
 * makes (fi_calls tells). The entry point must then either succeed anyway
 * (the allocation was optional: io_uring's eventfd, for instance, leaves the
 * context on the threads) and work, or fail cleanly: -1/ENOMEM (EAGAIN,
 * EMFILE for descriptors) or -errno, or the call's event with a negative
 * errno; never crash or hang. After fi_reset the library works again (each
 * case is checked right after its attempt), and the ASan build's leak check
 * at exit proves nothing leaked on the failure paths.
 * Thread-creation failure is tested with the threads engine's own tests.
 */
#include <poll.h>
#include <stdbool.h>
#include <sys/syscall.h>

#include "t.h"
#include "failinject.h"

#include <sysring.h>
#include <sysring/batchsys.h>

static async_context_t g_ctx; /* set up before the cases that need one */
static int g_h;               /* an open batch handle */
static int g_pipe[2];

struct ep {
	const char *name;
	/* The entry point alone (injection armed): 0, or its clean failure
	 * as a negative errno. */
	long (*call)(void **state);
	/* Injection off: check it works and undo it (state from call). */
	void (*check)(void *state);
};

static bool clean_errno(long e)
{
	return e == -ENOMEM || e == -EAGAIN || e == -EMFILE || e == -ENFILE;
}

/* ---- async_setup / sysring_setup ---- */

static void check_ctx(async_context_t c)
{
	struct async_event ev[1];
	struct async_cb *cb = async_cb_new(SYS_getpid, 0);
	struct async_cb *cbs[1] = {cb};
	T_ASSERT(cb);
	T_EQ(async_submit(c, 1, cbs), 1);
	T_EQ(async_getevents(c, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, getpid());
	T_EQ(async_destroy(c), 0);
	async_cb_free(cb);
}

static long call_setup_uring(void **st)
{
	struct sysring_params p;
	sysring_params_init(&p);
	p.engine = SYSRING_ENGINE_URING;
	return sysring_setup(64, &p, (async_context_t *)*st);
}

static long call_setup_threads(void **st)
{
	struct sysring_params p;
	sysring_params_init(&p);
	p.engine = SYSRING_ENGINE_THREADS;
	return sysring_setup(64, &p, (async_context_t *)*st);
}

static void check_setup(void *st)
{
	check_ctx(*(async_context_t *)st);
}

/* ---- async_register ---- */

static struct syslet_uatom *g_ring[8];
static struct async_head_user g_ahu = {g_ring, sizeof(g_ring), -1UL};

static long call_register(void **st)
{
	(void)st;
	return async_register(&g_ahu, sizeof(g_ahu)) ? -errno : 0;
}

static void check_register(void *st)
{
	struct syslet_uatom a;
	long res = 0;
	(void)st;
	memset(&a, 0, sizeof(a));
	a.nr = SYS_getpid;
	a.ret_ptr = &res;
	a.flags = SYSLET_ASYNC;
	T_ASSERT(async_exec(&a) == NULL);
	T_EQ(async_wait(1), 1);
	T_ASSERT(g_ring[0] == &a);
	T_EQ(res, getpid());
	__atomic_store_n(&g_ring[0], NULL, __ATOMIC_RELEASE); /* the library reads slots from other threads */
	T_EQ(async_unregister(&g_ahu, sizeof(g_ahu)), 0);
}

/* ---- batches ---- */

static void check_handle(int h)
{
	batchsys_batch_t *b = batchsys_batch_alloc(h);
	T_ASSERT(b);
	T_EQ(batchsys_push_write(b, g_pipe[1], "x", 1), 1);
	T_EQ(batchsys_push_syscall(b, SYS_getpid, 0), 1);
	T_EQ(batchsys_post_batch(h, b), 2);
	T_EQ(batch_batch_get_result(b, 1)->result, getpid());
	char c;
	T_EQ(read(g_pipe[0], &c, 1), 1);
	T_EQ(batchsys_cached_fds(h), 1);
	batchsys_batch_free(b);
}

static long call_bopen(void **st)
{
	int h = batchsys_open();
	*(int *)*st = h;
	return h < 0 ? -errno : 0;
}

static void check_bopen(void *st)
{
	int h = *(int *)st;
	check_handle(h);
	batchsys_close(h);
}

static long call_balloc(void **st)
{
	batchsys_batch_t *b = batchsys_batch_alloc(g_h);
	*st = b;
	return b ? 0 : -errno;
}

static void check_balloc(void *st)
{
	batchsys_batch_free(st);
	check_handle(g_h);
}

/* ---- sysring_eventfd ---- */

static long call_eventfd(void **st)
{
	long fd = sysring_eventfd(g_ctx);
	(void)st;
	return fd < 0 ? fd : 0;
}

static void check_eventfd(void *st)
{
	struct async_event ev[1];
	struct async_cb *cb = async_cb_new(SYS_getpid, 0);
	struct async_cb *cbs[1] = {cb};
	int fd = sysring_eventfd(g_ctx);
	(void)st;
	T_ASSERT(fd >= 0);
	T_EQ(async_submit(g_ctx, 1, cbs), 1);
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	T_EQ(poll(&pf, 1, 5000), 1);
	T_EQ(async_getevents(g_ctx, 1, 1, ev, NULL), 1);
	async_cb_free(cb);
}

/* ---- async_cb_new ---- */

static long call_cb_new(void **st)
{
	struct async_cb *cb = async_cb_new(SYS_getppid, 0);
	*st = cb;
	return cb ? 0 : -errno;
}

static void check_cb_new(void *st)
{
	async_cb_free(st);
}

/* ---- submits: an event for every call, whatever failed ---- */

static long call_submit_timeout(void **st)
{
	static char buf[1];
	struct async_cb *cb = *st;
	struct async_cb *cbs[1] = {cb};
	struct timespec ms20 = {0, 20 * 1000000};
	(void)buf;
	return sysring_submit_timeout(g_ctx, 1, cbs, &ms20) == 1 ? 0 : -EIO;
}

static void check_submit_timeout(void *st)
{
	struct async_event ev[1];
	/* The read has nothing to read: it times out (-ETIME), or, if what
	 * the timeout needed could not be had, fails at once (-EAGAIN): an
	 * event either way, never a call left waiting forever. */
	T_EQ(async_getevents(g_ctx, 1, 1, ev, NULL), 1);
	T_ASSERT(ev[0].cbp == st);
	if (ev[0].res != -ETIME && ev[0].res != -EAGAIN && ev[0].res != -ENOMEM)
		T_FAIL("submit_timeout's event: %lld", (long long)ev[0].res);
}

static long call_submit(void **st)
{
	struct async_cb *cbs[1] = {*st};
	return async_submit(g_ctx, 1, cbs) == 1 ? 0 : -errno;
}

static void check_submit(void *st)
{
	struct async_event ev[1];
	T_EQ(async_getevents(g_ctx, 1, 1, ev, NULL), 1);
	T_ASSERT(ev[0].cbp == st);
	T_EQ(ev[0].res, getpid());
}

/*
 * Run one entry point with the k-th call of `fn` failing, for every k up to
 * the number of calls it makes. `prep` makes the state before arming (so
 * that the test's own allocations are not counted).
 */
static void run(const struct ep *e, enum fi_fn fn, void *(*prep)(void), void (*unprep)(void *))
{
	static const char *fn_names[] = {"malloc", "pthread_create", "timer_create", "eventfd", "mmap"};
	long most = 0, failed_cleanly = 0;

	for (long k = 1;; k++) {
		void *st = prep ? prep() : NULL;
		void *st0 = st;
		fi_fail_nth(fn, k);
		long r = e->call(&st);
		long seen = fi_calls(fn), failed = fi_failed(fn);
		fi_reset();
		if (seen > most)
			most = seen;
		if (r) {
			if (!failed)
				T_FAIL("%s failed (%ld) with nothing injected", e->name, r);
			if (!clean_errno(r))
				T_FAIL("%s with %s #%ld failing: %ld, want -ENOMEM/-EAGAIN/-EMFILE", e->name,
				       fn_names[fn], k, r);
			failed_cleanly++;
		} else {
			e->check(st);
		}
		if (unprep)
			unprep(st0);
		if (!failed)
			break; /* k went past the calls it makes */
	}
	printf("failinject_life: %-28s %-14s: %ld calls, each failed in turn (%ld clean errors)\n", e->name,
	       fn_names[fn], most, failed_cleanly);
}

static void *prep_ctxp(void)
{
	return calloc(1, sizeof(async_context_t));
}
static void *prep_int(void)
{
	return calloc(1, sizeof(int));
}
static void *prep_read_cb(void)
{
	static char buf[1];
	return async_cb_new(SYS_read, 3, (long)g_pipe[0], (long)buf, 1L);
}
static void *prep_pid_cb(void)
{
	return async_cb_new(SYS_getpid, 0);
}

/*
 * A per-call timeout whose timer cannot be created (the threads engine arms
 * it on the worker, after submit returned): the call's event is an error,
 * never a call that waits past its deadline forever.
 */
static void test_timer_create(void)
{
	struct sysring_params p;
	async_context_t c;
	char b[1];
	struct async_event ev[1];
	struct timespec ms20 = {0, 20 * 1000000}, s5 = {5, 0};

	sysring_params_init(&p);
	p.engine = SYSRING_ENGINE_THREADS;
	T_EQ(sysring_setup(8, &p, &c), 0);
	struct async_cb *cb = async_cb_new(SYS_read, 3, (long)g_pipe[0], (long)b, 1L);
	struct async_cb *cbs[1] = {cb};
	fi_fail_from(FI_TIMER_CREATE, 1);
	T_EQ(sysring_submit_timeout(c, 1, cbs, &ms20), 1);
	T_EQ(async_getevents(c, 1, 1, ev, &s5), 1);
	long calls = fi_calls(FI_TIMER_CREATE);
	fi_reset();
	if (ev[0].res != -EAGAIN && ev[0].res != -ETIME)
		T_FAIL("a timed call whose timer could not be made: %lld", (long long)ev[0].res);
	T_EQ(async_destroy(c), 0);
	async_cb_free(cb);
	printf("failinject_life: sysring_submit_timeout, timer_create failing (%ld calls): event %lld\n", calls,
	       (long long)ev[0].res);
}

int main(void)
{
	static const struct ep setup_u = {"sysring_setup(uring)", call_setup_uring, check_setup};
	static const struct ep setup_t = {"sysring_setup(threads)", call_setup_threads, check_setup};
	static const struct ep reg = {"async_register", call_register, check_register};
	static const struct ep bopen = {"batchsys_open", call_bopen, check_bopen};
	static const struct ep balloc = {"batchsys_batch_alloc", call_balloc, check_balloc};
	static const struct ep efd = {"sysring_eventfd", call_eventfd, check_eventfd};
	static const struct ep cbn = {"async_cb_new", call_cb_new, check_cb_new};
	static const struct ep subt = {"sysring_submit_timeout", call_submit_timeout, check_submit_timeout};
	static const struct ep sub = {"async_submit", call_submit, check_submit};
	const enum fi_fn fns[] = {FI_MALLOC, FI_EVENTFD, FI_MMAP, FI_TIMER_CREATE};

	t_watchdog(280);
	T_EQ(pipe(g_pipe), 0);
	for (unsigned int i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		enum fi_fn fn = fns[i];
		run(&setup_u, fn, prep_ctxp, free);
		run(&setup_t, fn, prep_ctxp, free);
		run(&reg, fn, NULL, NULL);
		run(&bopen, fn, prep_int, free);
		g_h = batchsys_open();
		T_ASSERT(g_h >= 0);
		run(&balloc, fn, NULL, NULL);
		batchsys_close(g_h);
		T_EQ(async_setup(64, &g_ctx), 0);
		run(&efd, fn, NULL, NULL);
		T_EQ(async_destroy(g_ctx), 0);
		run(&cbn, fn, NULL, NULL);
		T_EQ(async_setup(64, &g_ctx), 0);
		run(&subt, fn, prep_read_cb, (void (*)(void *))async_cb_free);
		run(&sub, fn, prep_pid_cb, (void (*)(void *))async_cb_free);
		T_EQ(async_destroy(g_ctx), 0);
	}
	test_timer_create();
	close(g_pipe[0]);
	close(g_pipe[1]);
	printf("failinject_life: ok\n");
	return 0;
}

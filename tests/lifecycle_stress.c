/* SPDX-License-Identifier: MIT */
/*
 * Lifecycle stress (issue 11, "Also build"): for a number of seconds
 * (argument 1; the soak variant runs longer), at once:
 *   - submitters submit (plain, timed), collect, check and wait on the
 *     current async context while another thread replaces and destroys it;
 *   - a canceller storms sysring_cancel over every cb on it;
 *   - a syslet thread registers, runs cached and asynchronous syslets,
 *     waits and unregisters, while another thread unregisters it too;
 *   - batch threads post on a handle another thread closes and reopens;
 *   - a forker forks from its thread; each child must be able to use every
 *     face (a fresh context, registration and handle) within its deadline;
 *   - an injector makes allocations fail now and then (failinject.h).
 * Every entry point must answer (success, EINVAL after a destroy/close,
 * ENOMEM/EAGAIN under injection), every event must belong to a submitted
 * cb with a result that call can have; nothing may crash (ASan), race
 * (TSan) or hang (watchdog).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "t.h"
#include "failinject.h"

#include <sysring.h>
#include <sysring/batchsys.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* gcc 12's ASan allocator can hang a child, its TSan cannot start a thread
 * in one (tests/fork.c): the plain build forks. */
#define T_FORK_SAFE 0
#else
#define T_FORK_SAFE 1
#endif

static int stop;
static uint64_t g_ctx; /* the current async context (async_context_t) */
static int g_pipe[2];
static int g_bh = -1; /* the current batch handle */
static long errors;

#define NCBS 4
static struct async_cb *cbs_pid, *cbs_read, *cbs_sleep, *cbs_umem;
static char rbuf[64];
static struct timespec ts_1ms = {0, 1000000};
static unsigned long umem_counter;

static void err(const char *fmt, long a, long b)
{
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n");
	__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED);
}

static int running(void)
{
	return !__atomic_load_n(&stop, __ATOMIC_RELAXED);
}

static async_context_t cur_ctx(void)
{
	return (async_context_t)(uintptr_t)__atomic_load_n(&g_ctx, __ATOMIC_ACQUIRE);
}

/* The answers each call may give. */
static void check_event(const struct async_event *ev)
{
	long r = (long)ev->res;
	if (r == -ECANCELED || r == -ETIME || r == -EAGAIN || r == -ENOMEM)
		return;
	if (ev->cbp == cbs_pid && r == getpid())
		return;
	if (ev->cbp == cbs_read && r == 1)
		return;
	if (ev->cbp == cbs_sleep && r == 0)
		return;
	if (ev->cbp == cbs_umem && r > 0)
		return;
	err("event cb %ld res %ld", (long)(ev->cbp == cbs_pid ? 0 : ev->cbp == cbs_read ? 1 : ev->cbp == cbs_sleep ? 2 : ev->cbp == cbs_umem ? 3 : -1), r);
}

static void check_ret(const char *what, long r, int e)
{
	if (r >= 0 || e == EINVAL || e == EAGAIN || e == ENOMEM || e == EMFILE || e == EINTR)
		return;
	fprintf(stderr, "%s: %ld errno %d\n", what, r, e);
	__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED);
}

static unsigned int rnd(unsigned int *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static void *submitter(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	struct async_cb *all[NCBS] = {cbs_pid, cbs_read, cbs_sleep, cbs_umem};
	struct async_event ev[16];
	while (running()) {
		async_context_t c = cur_ctx();
		struct async_cb *list[4];
		int n = 1 + (int)(rnd(&seed) % 4);
		for (int i = 0; i < n; i++)
			list[i] = all[rnd(&seed) % NCBS];
		long r;
		if (rnd(&seed) % 3 == 0) {
			r = sysring_submit_timeout(c, n, list, &ts_1ms);
			check_ret("submit_timeout", r < 0 ? -1 : r, r < 0 ? (int)-r : 0);
		} else {
			r = async_submit(c, n, list);
			check_ret("async_submit", r, errno);
		}
		struct timespec t = {0, (long)(rnd(&seed) % 2000) * 1000};
		r = rnd(&seed) % 2 ? async_getevents(c, 1, 16, ev, &t) : async_check_events(c, 0, 16, ev, &t);
		check_ret("collect", r, errno);
		for (long i = 0; i < r; i++)
			check_event(&ev[i]);
		if (rnd(&seed) % 8 == 0)
			(void)!write(g_pipe[1], "x", 1); /* EAGAIN when full: fine */
	}
	return NULL;
}

static void *canceller(void *arg)
{
	struct async_cb *all[NCBS] = {cbs_pid, cbs_read, cbs_sleep, cbs_umem};
	(void)arg;
	while (running()) {
		async_context_t c = cur_ctx();
		for (int i = 0; i < NCBS; i++) {
			int r = sysring_cancel(c, all[i]);
			if (r && r != -ENOENT && r != -EALREADY && r != -EINVAL)
				err("sysring_cancel: %ld (%ld)", r, i);
		}
		struct sysring_stats st;
		int r = sysring_stats(c, &st);
		if (r && r != -EINVAL)
			err("sysring_stats: %ld %ld", r, 0);
		sched_yield();
	}
	return NULL;
}

static void *destroyer(void *arg)
{
	unsigned int seed = 99;
	(void)arg;
	while (running()) {
		async_context_t n;
		usleep(1000 + rnd(&seed) % 5000);
		if (async_setup(32, &n)) {
			check_ret("async_setup", -1, errno);
			continue;
		}
		if (rnd(&seed) % 2)
			(void)sysring_eventfd(n);
		async_context_t old =
			(async_context_t)(uintptr_t)__atomic_exchange_n(&g_ctx, (uint64_t)(uintptr_t)n, __ATOMIC_ACQ_REL);
		if (async_destroy(old))
			err("async_destroy of the replaced context: errno %ld %ld", errno, 0);
		/* a second destroy of the same handle names nothing */
		if (async_destroy(old) != -1 || errno != EINVAL)
			err("second async_destroy: errno %ld %ld", errno, 0);
	}
	return NULL;
}

static struct syslet_uatom *s_ring[8];
static struct async_head_user s_ahu = {s_ring, sizeof(s_ring), 4};

static void *syslet_thread(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	static long one = 1, cptr, res;
	static struct timespec nap = {0, 200 * 1000};
	static long napp;
	static struct syslet_uatom a; /* one syslet in flight at a time: reused only once done */
	unsigned long idx = 0;
	cptr = (long)&umem_counter;
	napp = (long)&nap;
	while (running()) {
		if (async_register(&s_ahu, sizeof(s_ahu))) {
			check_ret("async_register", -1, errno);
			continue;
		}
		for (unsigned int i = 0; i < 8; i++)
			__atomic_store_n(&s_ring[i], NULL, __ATOMIC_RELEASE);
		idx = 0;
		for (int i = 0; i < 50 && running(); i++) {
			memset(&a, 0, sizeof(a));
			switch (rnd(&seed) % 3) {
			case 0:
				a.nr = SYS_getpid;
				break;
			case 1:
				a.nr = SYS_nanosleep;
				a.flags = SYSLET_ASYNC;
				a.arg_ptr[0] = (unsigned long *)&napp;
				break;
			default:
				a.nr = __NR_umem_add;
				a.flags = rnd(&seed) % 2 ? SYSLET_ASYNC : 0;
				a.arg_ptr[0] = (unsigned long *)&cptr;
				a.arg_ptr[1] = (unsigned long *)&one;
				break;
			}
			a.ret_ptr = &res;
			if (async_exec(&a))
				continue; /* cached (or no registration any more) */
			long w = async_wait(1);
			if (w < 0) {
				/* unregistered by the other thread: expected. The
				 * syslet may still be finishing: `a` is touched
				 * again only after our unregister below, which
				 * waits for the other one to be done. */
				if (errno != EINVAL)
					err("async_wait: %ld errno %ld", w, errno);
				break;
			}
			for (long j = 0; j < w; j++) {
				__atomic_store_n(&s_ring[idx], NULL, __ATOMIC_RELEASE);
				idx = (idx + 1) % 8;
			}
		}
		long r = async_unregister(&s_ahu, sizeof(s_ahu));
		if (r && errno != EINVAL)
			err("async_unregister: %ld errno %ld", r, errno);
	}
	return NULL;
}

static void *unregisterer(void *arg)
{
	(void)arg;
	while (running()) {
		usleep(3000);
		(void)async_unregister(&s_ahu, sizeof(s_ahu)); /* EINVAL if none */
	}
	return NULL;
}

static void *batch_thread(void *arg)
{
	batchsys_batch_t *b = arg;
	int devnull = open("/dev/null", O_WRONLY);
	while (running()) {
		int h = __atomic_load_n(&g_bh, __ATOMIC_ACQUIRE);
		batchsys_batch_reset(b);
		batchsys_push_write(b, devnull, "x", 1);
		batchsys_push_syscall(b, SYS_getpid, 0);
		int r = batchsys_post_batch(h, b);
		check_ret("batchsys_post_batch", r, errno);
		if (r == 2 && batch_batch_get_result(b, 1)->result != getpid())
			err("batch result %ld %ld", (long)batch_batch_get_result(b, 1)->result, 0);
		(void)batchsys_cached_fds(h);
	}
	close(devnull);
	return NULL;
}

static void *batch_closer(void *arg)
{
	(void)arg;
	while (running()) {
		usleep(2000);
		int n = batchsys_open();
		if (n < 0) {
			check_ret("batchsys_open", -1, errno);
			continue;
		}
		int old = __atomic_exchange_n(&g_bh, n, __ATOMIC_ACQ_REL);
		batchsys_close(old);
	}
	return NULL;
}

static int forks, forks_bad;

static void child(void)
{
	struct async_event ev[1];
	fi_reset();
	alarm(10);
	async_context_t c;
	if (async_setup(4, &c))
		_exit(2);
	struct async_cb *list[1] = {cbs_pid};
	if (async_submit(c, 1, list) != 1 || async_getevents(c, 1, 1, ev, NULL) != 1 || ev[0].res != getpid())
		_exit(3);
	async_destroy(c);
	static struct syslet_uatom *ring[2];
	struct async_head_user ahu = {ring, sizeof(ring), 2};
	struct syslet_uatom a;
	long res = 0;
	memset(&a, 0, sizeof(a));
	a.nr = SYS_getpid;
	a.ret_ptr = &res;
	if (async_register(&ahu, sizeof(ahu)))
		_exit(4);
	if (!async_exec(&a) && async_wait(1) != 1)
		_exit(5);
	if (res != getpid() || async_unregister(&ahu, sizeof(ahu)))
		_exit(6);
	int h = batchsys_open();
	batchsys_batch_t *b = h >= 0 ? batchsys_batch_alloc(h) : NULL;
	if (!b || batchsys_push_syscall(b, SYS_getpid, 0) != 1 || batchsys_post_batch(h, b) != 1)
		_exit(7);
	_exit(0);
}

static void *forker(void *arg)
{
	(void)arg;
	while (running()) {
		usleep(20000);
		pid_t p = fork();
		if (p == 0)
			child();
		if (p < 0)
			continue;
		int status;
		uint64_t end = t_now_ns() + 15000000000ull;
		pid_t r;
		while ((r = waitpid(p, &status, WNOHANG)) == 0 && t_now_ns() < end)
			usleep(2000);
		forks++;
		if (r != p) {
			kill(p, SIGKILL);
			waitpid(p, &status, 0);
			fprintf(stderr, "fork child hung\n");
			forks_bad++;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "fork child failed: status %d\n", status);
			forks_bad++;
		}
	}
	return NULL;
}

static void *injector(void *arg)
{
	unsigned int seed = 5;
	(void)arg;
	while (running()) {
		usleep(3000 + rnd(&seed) % 3000);
		fi_fail_nth(rnd(&seed) % 2 ? FI_MALLOC : FI_EVENTFD, 1 + rnd(&seed) % 4);
		usleep(500);
		fi_reset();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3;
	pthread_t th[16];
	int n = 0;

	if (secs < 0.5)
		secs = 0.5;
	t_watchdog((unsigned int)secs + 120);
	T_EQ(pipe(g_pipe), 0);
	/* writers must never block on a full pipe */
	T_EQ(fcntl(g_pipe[1], F_SETFL, O_NONBLOCK), 0);
	cbs_pid = async_cb_new(SYS_getpid, 0);
	cbs_read = async_cb_new(SYS_read, 3, (long)g_pipe[0], (long)rbuf, 1L);
	cbs_sleep = async_cb_new(SYS_nanosleep, 2, (long)&ts_1ms, 0L);
	cbs_umem = async_cb_new(__NR_umem_add, 2, (long)&umem_counter, 1L);
	T_ASSERT(cbs_pid && cbs_read && cbs_sleep && cbs_umem);
	async_context_t c0;
	T_EQ(async_setup(32, &c0), 0);
	g_ctx = (uint64_t)(uintptr_t)c0;
	g_bh = batchsys_open();
	T_ASSERT(g_bh >= 0);
	batchsys_batch_t *bb[2] = {batchsys_batch_alloc(g_bh), batchsys_batch_alloc(g_bh)};
	T_ASSERT(bb[0] && bb[1]);

	pthread_create(&th[n++], NULL, submitter, (void *)1);
	pthread_create(&th[n++], NULL, submitter, (void *)2);
	pthread_create(&th[n++], NULL, canceller, NULL);
	pthread_create(&th[n++], NULL, destroyer, NULL);
	pthread_create(&th[n++], NULL, syslet_thread, (void *)3);
	pthread_create(&th[n++], NULL, unregisterer, NULL);
	pthread_create(&th[n++], NULL, batch_thread, bb[0]);
	pthread_create(&th[n++], NULL, batch_thread, bb[1]);
	pthread_create(&th[n++], NULL, batch_closer, NULL);
	pthread_create(&th[n++], NULL, injector, NULL);
	if (T_FORK_SAFE)
		pthread_create(&th[n++], NULL, forker, NULL);
	usleep((useconds_t)(secs * 1e6));
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	/* unblock reads still waiting */
	for (int i = 0; i < 64; i++)
		if (write(g_pipe[1], "x", 1) < 0)
			break;
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	fi_reset();
	T_EQ(async_destroy(cur_ctx()), 0);
	batchsys_close(g_bh);
	batchsys_batch_free(bb[0]);
	batchsys_batch_free(bb[1]);
	async_cb_free(cbs_pid);
	async_cb_free(cbs_read);
	async_cb_free(cbs_sleep);
	async_cb_free(cbs_umem);
	if (errors || forks_bad)
		T_FAIL("%ld wrong answers, %d of %d fork children failed", errors, forks_bad, forks);
	printf("lifecycle_stress: %.1f s, %d fork children%s, no wrong answer\n", secs, forks,
	       T_FORK_SAFE ? "" : " (forks off under the sanitizers)");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Thread-creation failure (failinject.h: pthread_create and timer_create
 * fail on demand), for every entry point that can start an executor thread,
 * under the engine matrix. The calls used need an executor thread on every
 * engine (nanosleep and msgrcv have no io_uring form and never complete
 * inline).
 *
 *   - Every creation fails on a context with no worker yet: each call still
 *     gets its event, -EAGAIN, at once: async_submit, sysring_submit_timeout,
 *     async_exec (the atom reaches the ring with -EAGAIN at its ret_ptr), and
 *     a syslet whose next atom is handed to the threads by the io_uring
 *     completion path. Once creation works again, the same calls run.
 *   - The k-th creation fails, for every k a clean run makes: every call
 *     yields exactly one event, its result or -EAGAIN, and none hangs.
 *   - A worker exists but is blocked and no other can start: a queued call
 *     waits for it (documented), and cancelling it delivers its event at once.
 *   - timer_create fails: a timed call that would block gets -EAGAIN (it
 *     could not be bounded), not a wait past its deadline.
 *   - Batches run on the caller and start no thread at all.
 */
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/syscall.h>

#include "t.h"
#include "failinject.h"

#include <sysring.h>
#include <sysring/batchsys.h>

static struct timespec tiny = {0, 1000};

static async_context_t mk(unsigned long nr)
{
	async_context_t ctx;
	T_EQ(async_setup(nr, &ctx), 0);
	return ctx;
}

/* Collect exactly `want` events within ms; fails otherwise. */
static void collect(async_context_t ctx, struct async_event *ev, int want, int ms, const char *what)
{
	uint64_t end = t_now_ns() + (uint64_t)ms * 1000000ull;
	int got = 0;

	while (got < want) {
		struct timespec ts = {0, 20 * 1000000L};
		int n = async_getevents(ctx, 0, want - got, ev + got, &ts);
		T_ASSERT(n >= 0);
		got += n;
		if (got < want && t_now_ns() > end)
			T_FAIL("%s: %d of %d events after %d ms", what, got, want, ms);
	}
	struct timespec z = {0, 20 * 1000000L};
	struct async_event extra;
	T_EQ(async_getevents(ctx, 0, 1, &extra, &z), 0); /* one event per call */
}

static void all_fail_submit(int timed)
{
	async_context_t ctx = mk(8);
	struct async_cb *cb[3];
	struct async_event ev[3];
	struct timespec to = {5, 0};
	const char *what = timed ? "sysring_submit_timeout, no thread" : "async_submit, no thread";

	for (int i = 0; i < 3; i++)
		cb[i] = async_cb_new(SYS_nanosleep, 2, (long)&tiny, 0L);
	fi_fail_from(FI_PTHREAD_CREATE, 1);
	if (timed)
		T_EQ(sysring_submit_timeout(ctx, 3, cb, &to), 3);
	else
		T_EQ(async_submit(ctx, 3, cb), 3);
	collect(ctx, ev, 3, 1000, what);
	for (int i = 0; i < 3; i++)
		T_EQ(ev[i].res, -EAGAIN);
	T_ASSERT(fi_failed(FI_PTHREAD_CREATE) > 0);
	fi_reset();
	/* creation works again: the same calls run */
	if (timed)
		T_EQ(sysring_submit_timeout(ctx, 3, cb, &to), 3);
	else
		T_EQ(async_submit(ctx, 3, cb), 3);
	collect(ctx, ev, 3, 10000, what);
	for (int i = 0; i < 3; i++)
		T_EQ(ev[i].res, 0); /* nanosleep's own answer */
	T_EQ(async_destroy(ctx), 0);
	for (int i = 0; i < 3; i++)
		async_cb_free(cb[i]);
}

#define NSLOTS 8
static struct syslet_uatom *ring[NSLOTS];
static unsigned long ridx;

static struct syslet_uatom *ring_next(int ms, const char *what)
{
	uint64_t end = t_now_ns() + (uint64_t)ms * 1000000ull;
	for (;;) {
		struct syslet_uatom *a = __atomic_load_n(&ring[ridx], __ATOMIC_ACQUIRE);
		if (a) {
			__atomic_store_n(&ring[ridx], NULL, __ATOMIC_RELEASE);
			ridx = (ridx + 1) % NSLOTS;
			return a;
		}
		if (t_now_ns() > end)
			T_FAIL("%s: no completion in the ring after %d ms", what, ms);
		usleep(1000);
	}
}

static void atom(struct syslet_uatom *a, long nr, unsigned long **args, long *ret, unsigned long flags,
		 struct syslet_uatom *next)
{
	memset(a, 0, sizeof(*a));
	a->nr = (unsigned long)nr;
	for (int i = 0; i < 6 && args && args[i]; i++)
		a->arg_ptr[i] = args[i];
	a->ret_ptr = ret;
	a->flags = flags;
	a->next = next;
}

static void all_fail_exec(void)
{
	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	struct syslet_uatom a, r1, r2;
	unsigned long ts = (unsigned long)&tiny, zero = 0;
	unsigned long *nargs[] = {&ts, &zero, NULL};
	long ret = 12345, ret1 = 12345, ret2 = 12345;
	int pf[2];
	char c;

	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	atom(&a, SYS_nanosleep, nargs, &ret, SYSLET_ASYNC, NULL);
	fi_fail_from(FI_PTHREAD_CREATE, 1);
	T_EQ(async_exec(&a), NULL);
	T_EQ(ring_next(1000, "async_exec, no thread"), &a);
	T_EQ(ret, -EAGAIN);
	fi_reset();
	T_EQ(async_exec(&a), NULL);
	T_EQ(ring_next(10000, "async_exec"), &a);
	T_EQ(ret, 0);

	/* A read of an empty pipe (io_uring, or the threads), then a nanosleep
	 * (the threads): with io_uring the second atom is handed to the
	 * threads by the completion path once the pipe is written. */
	/* A fresh registration: no worker yet (its reaper thread exists). */
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	ridx = 0;
	T_EQ(pipe(pf), 0);
	unsigned long fd0 = (unsigned long)pf[0], bufp = (unsigned long)&c, one = 1;
	unsigned long *rargs[] = {&fd0, &bufp, &one, NULL};
	atom(&r2, SYS_nanosleep, nargs, &ret2, 0, NULL);
	atom(&r1, SYS_read, rargs, &ret1, SYSLET_ASYNC, &r2);
	fi_fail_from(FI_PTHREAD_CREATE, 1);
	struct syslet_uatom *d = async_exec(&r1);
	T_EQ(d, NULL);
	usleep(20000);
	T_EQ(write(pf[1], "x", 1), 1);
	d = ring_next(2000, "syslet continued by a completion, no thread");
	if (d == &r1) { /* the read itself needed a thread */
		T_EQ(ret1, -EAGAIN);
		T_EQ(ret2, 12345); /* never reached */
		T_EQ(read(pf[0], &c, 1), 1);
	} else {
		T_EQ(d, &r2);
		T_EQ(ret1, 1);
		T_EQ(ret2, -EAGAIN);
	}
	fi_reset();
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	close(pf[0]);
	close(pf[1]);
}

/* The k-th creation fails: every call still yields one event. */
static long nth_round(long k)
{
	async_context_t ctx = mk(16);
	struct async_cb *cb[12];
	struct async_event ev[12];
	static struct timespec ms1 = {0, 1000000};

	for (int i = 0; i < 12; i++)
		cb[i] = async_cb_new(SYS_nanosleep, 2, (long)&ms1, 0L);
	fi_fail_nth(FI_PTHREAD_CREATE, k ? k : 1000000);
	T_EQ(async_submit(ctx, 12, cb), 12);
	collect(ctx, ev, 12, 20000, "k-th creation fails");
	long calls = fi_calls(FI_PTHREAD_CREATE);
	for (int i = 0; i < 12; i++)
		T_ASSERT(ev[i].res == 0 || ev[i].res == -EAGAIN);
	fi_reset();
	T_EQ(async_destroy(ctx), 0);
	for (int i = 0; i < 12; i++)
		async_cb_free(cb[i]);
	return calls;
}

static void some_exist_cancel(void)
{
	async_context_t ctx = mk(8);
	struct { long mtype; char t[4]; } ma, mb, m = {1, "hi"};
	int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	struct async_event ev[2];
	struct sysring_stats st;

	if (q < 0)
		T_SKIP("msgget: %s", strerror(errno));
	struct async_cb *a = async_cb_new(SYS_msgrcv, 5, (long)q, (long)&ma, 4L, 0L, 0L);
	struct async_cb *b = async_cb_new(SYS_msgrcv, 5, (long)q, (long)&mb, 4L, 0L, 0L);
	T_EQ(async_submit(ctx, 1, &a), 1);
	for (int i = 0; i < 2000; i++) {
		T_EQ(sysring_stats(ctx, &st), 0);
		if (st.threads >= 1 && st.threads_idle == 0)
			break;
		usleep(1000);
	}
	usleep(20000);
	fi_fail_from(FI_PTHREAD_CREATE, 1);
	T_EQ(async_submit(ctx, 1, &b), 1);
	struct timespec w = {0, 300 * 1000000L};
	/* a worker exists: b waits for it */
	T_EQ(async_getevents(ctx, 0, 2, ev, &w), 0);
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_cancel(ctx, b), 0);
	collect(ctx, ev, 1, 1000, "cancel of a call waiting for a thread");
	T_EQ(ev[0].cbp, b);
	T_EQ(ev[0].res, -ECANCELED);
	printf("cancelled waiting call's event after %.1f ms\n", (t_now_ns() - t0) / 1e6);
	fi_reset();
	T_EQ(msgsnd(q, &m, 4, 0), 0);
	collect(ctx, ev, 1, 10000, "the blocked call");
	T_EQ(ev[0].cbp, a);
	T_EQ(ev[0].res, 4);
	T_EQ(async_destroy(ctx), 0);
	msgctl(q, IPC_RMID, NULL);
	async_cb_free(a);
	async_cb_free(b);
}

static void timer_fails(void)
{
	async_context_t ctx = mk(8);
	struct { long mtype; char t[4]; } mm;
	int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	struct async_event ev[1];
	struct timespec to = {0, 100 * 1000000L};

	if (q < 0)
		T_SKIP("msgget: %s", strerror(errno));
	struct async_cb *a = async_cb_new(SYS_msgrcv, 5, (long)q, (long)&mm, 4L, 0L, 0L);
	fi_fail_from(FI_TIMER_CREATE, 1);
	T_EQ(sysring_submit_timeout(ctx, 1, &a, &to), 1);
	collect(ctx, ev, 1, 2000, "timed call without a timer");
	T_EQ(ev[0].res, -EAGAIN);
	T_ASSERT(fi_failed(FI_TIMER_CREATE) > 0);
	fi_reset();
	T_EQ(sysring_submit_timeout(ctx, 1, &a, &to), 1);
	collect(ctx, ev, 1, 5000, "timed call");
	T_EQ(ev[0].res, -ETIME);
	T_EQ(async_destroy(ctx), 0);
	msgctl(q, IPC_RMID, NULL);
	async_cb_free(a);
}

static void batch_no_threads(void)
{
	int h = batchsys_open();
	T_ASSERT(h >= 0);
	batchsys_batch_t *b = batchsys_batch_alloc(h);
	T_ASSERT(b);
	fi_fail_from(FI_PTHREAD_CREATE, 1);
	T_EQ(batchsys_push_syscall(b, SYS_getppid, 0), 1);
	T_EQ(batchsys_push_syscall(b, SYS_nanosleep, 2, (long)&tiny, 0L), 1);
	T_EQ(batchsys_post_batch(h, b), 2);
	T_EQ(batch_batch_get_result(b, 0)->result, getppid());
	T_EQ(batch_batch_get_result(b, 1)->result, 0);
	T_EQ(fi_calls(FI_PTHREAD_CREATE), 0);
	fi_reset();
	batchsys_batch_free(b);
	batchsys_close(h);
}

int main(void)
{
	t_watchdog(300);
	all_fail_submit(0);
	all_fail_submit(1);
	all_fail_exec();
	long k_max = nth_round(0); /* a clean run: how many creations */
	T_ASSERT(k_max > 0);
	for (long k = 1; k <= k_max + 1; k++)
		nth_round(k);
	some_exist_cancel();
	timer_fails();
	batch_no_threads();
	printf("threads_exhaust: ok (%ld thread creations in a clean round)\n", k_max);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * A cancelled queued call completes at once, on every engine, even when the
 * only executor thread is blocked in another call (SYSRING_THREADS=1, as
 * params.threads = 1 here): its -ECANCELED event must not wait for the busy
 * call to finish.
 *
 *   1. The single worker blocks in msgrcv (a call io_uring cannot run, so it
 *      is on the threads under every engine); a second msgrcv queues behind
 *      it; cancelling the second delivers its event within 1 s while the
 *      first still blocks; the first then completes with its message.
 *   2. Submit and cancel a queued call 3 x nr_events times while the worker
 *      stays blocked: every cancel's event arrives at once, and the
 *      submission ring never fills (a stale entry per cancelled call would
 *      fill it after nr_events and hang async_submit).
 *   2b. A timed call queued behind the blocked worker completes -ETIME at
 *      its deadline (nothing else would take it off the queue).
 *   3. A cancelled call's request is reused at once: the reused call runs
 *      (from its predecessor's ring entry) with the plain call's result.
 *   4. A cancel storm: two threads submit short calls to a two-worker
 *      context while a third cancels whatever it finds; every call yields
 *      exactly one event, its own result or -ECANCELED.
 */
#include <pthread.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

#define NR_EVENTS 8

struct msg {
	long mtype;
	char text[8];
};

static int q;

static struct async_cb *rcv_cb(struct msg *m)
{
	return async_cb_new(SYS_msgrcv, 5, (long)q, (long)m, (long)sizeof(m->text), 0L, 0L);
}

static void send_msg(const char *s)
{
	struct msg m = {.mtype = 1};
	snprintf(m.text, sizeof(m.text), "%s", s);
	T_EQ(msgsnd(q, &m, sizeof(m.text), 0), 0);
}

/* Exactly one event within `ms`; returns it. */
static struct async_event one_event(async_context_t ctx, int ms, const char *what)
{
	struct async_event ev[2];
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	uint64_t t0 = t_now_ns();
	int n = async_getevents(ctx, 1, 1, ev, &ts);
	if (n != 1)
		T_FAIL("%s: no event within %d ms (%d): a cancelled queued call waits for the busy worker",
		       what, ms, n);
	(void)t0;
	return ev[0];
}

static void no_event(async_context_t ctx, int ms)
{
	struct async_event ev[2];
	struct timespec ts = {0, ms * 1000000L};
	T_EQ(async_getevents(ctx, 0, 2, ev, &ts), 0);
}

/* Wait until the single worker has taken the blocking call. */
static void wait_running(async_context_t ctx)
{
	struct sysring_stats st;
	for (int i = 0; i < 2000; i++) {
		T_EQ(sysring_stats(ctx, &st), 0);
		if (st.threads == 1 && st.threads_idle == 0)
			break;
		usleep(1000);
	}
	usleep(20000); /* and is inside msgrcv */
}

static async_context_t ctx2;
static struct async_cb *storm_cbs[2][NR_EVENTS];
static long storm_submitted[2];
static int storm_stop;

static void *storm_submitter(void *arg)
{
	long me = (long)arg;
	long rounds = (long)(1000 * t_scale()) + 50;
	struct async_event ev[NR_EVENTS];

	for (long r = 0; r < rounds; r++) {
		int n = (int)(r % 3) + 1, s;
		/* The main thread collects: a full context frees up. */
		while ((s = async_submit(ctx2, n, storm_cbs[me])) < 0 && errno == EAGAIN)
			sched_yield();
		T_ASSERT(s > 0);
		storm_submitted[me] += s;
		(void)ev;
	}
	return NULL;
}

static void *storm_canceller(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&storm_stop, __ATOMIC_ACQUIRE))
		for (int t = 0; t < 2; t++)
			for (int i = 0; i < NR_EVENTS; i++) {
				int r = sysring_cancel(ctx2, storm_cbs[t][i]);
				T_ASSERT(r == 0 || r == -ENOENT || r == -EALREADY);
			}
	return NULL;
}

int main(void)
{
	struct sysring_params p;
	async_context_t ctx;
	struct msg ma, mb;
	struct async_cb *a = NULL, *b = NULL;

	t_watchdog(120);
	q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q < 0)
		T_SKIP("msgget: %s", strerror(errno));
	sysring_params_init(&p);
	p.threads = 1; /* the single-worker case */
	T_EQ(sysring_setup(NR_EVENTS, &p, &ctx), 0);

	/* 1. */
	a = rcv_cb(&ma);
	b = rcv_cb(&mb);
	T_EQ(async_submit(ctx, 1, &a), 1);
	wait_running(ctx);
	T_EQ(async_submit(ctx, 1, &b), 1);
	usleep(20000);
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_cancel(ctx, b), 0);
	struct async_event e = one_event(ctx, 1000, "queued call cancelled");
	T_EQ(e.cbp, b);
	T_EQ(e.res, -ECANCELED);
	printf("cancelled queued call's event after %.1f ms\n", (t_now_ns() - t0) / 1e6);
	T_EQ(sysring_cancel(ctx, b), -ENOENT); /* finished: exactly one event */
	no_event(ctx, 30);                      /* the first still blocks */

	/* 2. */
	for (int i = 0; i < 3 * NR_EVENTS; i++) {
		T_EQ(async_submit(ctx, 1, &b), 1);
		T_EQ(sysring_cancel(ctx, b), 0);
		e = one_event(ctx, 1000, "repeated cancel");
		T_EQ(e.cbp, b);
		T_EQ(e.res, -ECANCELED);
	}

	/* 2b. a timed call queued behind the blocked worker ends at its
	 * deadline, not when the worker is free */
	struct timespec to = {0, 100 * 1000000L};
	uint64_t t1 = t_now_ns();
	T_EQ(sysring_submit_timeout(ctx, 1, &b, &to), 1);
	e = one_event(ctx, 2000, "timed call queued behind a blocked worker");
	T_EQ(e.cbp, b);
	T_EQ(e.res, -ETIME);
	uint64_t tms = (t_now_ns() - t1) / 1000000;
	T_ASSERT(tms >= 90 && tms < 1500);

	/* 3. the reused request runs; so does the blocked one */
	T_EQ(async_submit(ctx, 1, &b), 1);
	send_msg("one");
	send_msg("two");
	struct async_event ev[2];
	int got = 0;
	while (got < 2) {
		struct timespec ts = {10, 0};
		int n = async_getevents(ctx, 1, 2, ev + got, &ts);
		if (n <= 0)
			T_FAIL("%d of 2 events after the messages were sent", got);
		got += n;
	}
	T_EQ(ev[0].res, (long)sizeof(ma.text));
	T_EQ(ev[1].res, (long)sizeof(ma.text));
	T_ASSERT((!strcmp(ma.text, "one") && !strcmp(mb.text, "two")) ||
		 (!strcmp(ma.text, "two") && !strcmp(mb.text, "one")));
	no_event(ctx, 30);
	struct sysring_stats st;
	T_EQ(sysring_stats(ctx, &st), 0);
	T_EQ(st.in_flight, 0);
	T_EQ(st.threads, 1);
	T_EQ(async_destroy(ctx), 0);

	/* 4. */
	sysring_params_init(&p);
	p.threads = 2;
	T_EQ(sysring_setup(NR_EVENTS, &p, &ctx2), 0);
	static struct timespec shortsleep = {0, 20000};
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < NR_EVENTS; i++)
			storm_cbs[t][i] = i % 2 ? async_cb_new(SYS_getppid, 0)
						: async_cb_new(SYS_nanosleep, 2, (long)&shortsleep, 0L);
	pthread_t sub[2], can;
	/* Events are collected here, so that submitters find free requests. */
	T_EQ(pthread_create(&can, NULL, storm_canceller, NULL), 0);
	for (long t = 0; t < 2; t++)
		T_EQ(pthread_create(&sub[t], NULL, storm_submitter, (void *)t), 0);
	long events = 0, cancelled = 0;
	int done = 0, joined[2] = {0, 0};
	while (!done) {
		struct async_event sev[NR_EVENTS];
		struct timespec ts = {0, 10 * 1000000L};
		int n = async_getevents(ctx2, 0, NR_EVENTS, sev, &ts);
		T_ASSERT(n >= 0);
		for (int i = 0; i < n; i++) {
			struct async_cb *cb = sev[i].cbp;
			long want = cb->number == SYS_getppid ? (long)getppid() : 0;
			if (sev[i].res == -ECANCELED)
				cancelled++;
			else if (sev[i].res != want)
				T_FAIL("storm: result %lld for call %ld", (long long)sev[i].res, cb->number);
		}
		events += n;
		for (int t = 0; t < 2 && n == 0; t++)
			if (!joined[t] && pthread_tryjoin_np(sub[t], NULL) == 0)
				joined[t] = 1;
		done = joined[0] && joined[1];
	}
	__atomic_store_n(&storm_stop, 1, __ATOMIC_RELEASE);
	pthread_join(can, NULL);
	/* The rest: every call submitted yields its event (a loaded machine
	 * may deschedule a worker for a long while: no silence window). */
	uint64_t end = t_now_ns() + 60 * 1000000000ull;
	while (events < storm_submitted[0] + storm_submitted[1] && t_now_ns() < end) {
		struct async_event sev[NR_EVENTS];
		struct timespec ts = {0, 100 * 1000000L};
		int n = async_getevents(ctx2, 1, NR_EVENTS, sev, &ts);
		T_ASSERT(n >= 0);
		events += n;
	}
	no_event(ctx2, 50); /* and no more */
	T_EQ(sysring_stats(ctx2, &st), 0);
	if (events != storm_submitted[0] + storm_submitted[1])
		T_FAIL("storm: %ld events for %ld calls (stats: submitted %llu completed %llu reaped %llu)",
		       events, storm_submitted[0] + storm_submitted[1], (unsigned long long)st.submitted,
		       (unsigned long long)st.completed, (unsigned long long)st.reaped);
	T_EQ(st.in_flight, 0);
	T_EQ(st.pending, 0);
	printf("storm: %ld calls, %ld cancelled, one event each\n", events, cancelled);
	T_EQ(async_destroy(ctx2), 0);
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < NR_EVENTS; i++)
			async_cb_free(storm_cbs[t][i]);
	async_cb_free(a);
	async_cb_free(b);
	msgctl(q, IPC_RMID, NULL);
	printf("cancel_queued: ok\n");
	return 0;
}

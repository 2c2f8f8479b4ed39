/* SPDX-License-Identifier: MIT */
/*
 * Cancellation and per-call timeouts, under every engine: a queued call, a
 * call in io_uring and a call blocked on an executor thread each complete
 * with -ECANCELED; unknown or finished calls are -ENOENT; a second cancel is
 * -EALREADY and there is still exactly one event. A call whose timeout
 * expires completes with -ETIME; one that finishes in time is unaffected.
 */
#include <fcntl.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

static int count_events(async_context_t ctx, struct async_event *ev, int max, int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	int n = async_getevents(ctx, 0, max, ev, &ts);
	T_ASSERT(n >= 0);
	return n;
}

int main(void)
{
	async_context_t ctx;
	struct sysring_params p;
	struct async_event ev[8];
	char buf[8];
	int pf[2];
	t_watchdog(60);

	sysring_params_init(&p);
	p.threads = 1; /* so that a second blocking call stays queued */
	T_EQ(sysring_setup(16, &p, &ctx), 0);
	T_EQ(pipe(pf), 0);

	/* unknown / never submitted */
	struct async_cb *a = async_cb_new(SYS_read, 3, (long)pf[0], (long)buf, 1L);
	struct async_cb *b = async_cb_new(SYS_read, 3, (long)pf[0], (long)buf, 1L);
	T_EQ(sysring_cancel(ctx, a), -ENOENT);
	T_EQ(sysring_cancel(ctx, NULL), -EINVAL);

	/* two blocking reads: in io_uring both, or on threads one running
	 * and one queued behind it */
	struct async_cb *cbs[2] = {a, b};
	T_EQ(async_submit(ctx, 2, cbs), 2);
	usleep(20000);
	T_EQ(sysring_cancel(ctx, b), 0);
	T_EQ(sysring_cancel(ctx, a), 0);
	int r2 = sysring_cancel(ctx, a);
	T_ASSERT(r2 == -EALREADY || r2 == -ENOENT);
	int got = 0;
	while (got < 2) {
		int n = async_getevents(ctx, 1, 8, ev + got, NULL);
		T_ASSERT(n > 0);
		got += n;
	}
	for (int i = 0; i < 2; i++)
		T_EQ(ev[i].res, -ECANCELED);
	T_EQ(count_events(ctx, ev, 8, 30), 0); /* one event each, no more */
	/* finished calls cannot be cancelled */
	T_EQ(sysring_cancel(ctx, a), -ENOENT);
	/* the pipe lost nothing: cancelled reads consumed no data */
	T_EQ(write(pf[1], "k", 1), 1);
	T_EQ(read(pf[0], buf, 1), 1);
	T_EQ(buf[0], 'k');

	/* timeouts: a read nobody satisfies ends with -ETIME, promptly */
	struct timespec to = {0, 30 * 1000 * 1000};
	cbs[0] = a;
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_submit_timeout(ctx, 1, cbs, &to), 1);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	uint64_t ms = (t_now_ns() - t0) / 1000000;
	T_EQ(ev[0].res, -ETIME);
	T_ASSERT(ms >= 25 && ms < 2000);
	/* in time: the real result */
	T_EQ(write(pf[1], "z", 1), 1);
	to.tv_sec = 5;
	T_EQ(sysring_submit_timeout(ctx, 1, cbs, &to), 1);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, 1);
	T_EQ(buf[0], 'z');
	/* a timed call that completes inline or quickly is not disturbed, and
	 * a bad timeout is refused */
	struct async_cb *g = async_cb_new(SYS_getppid, 0);
	cbs[0] = g;
	to.tv_sec = 2;
	to.tv_nsec = 0;
	T_EQ(sysring_submit_timeout(ctx, 1, cbs, &to), 1);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, getppid());
	to.tv_nsec = -1;
	T_EQ(sysring_submit_timeout(ctx, 1, cbs, &to), -EINVAL);

	/* cancel after a timeout has been set: still exactly one event */
	to.tv_sec = 10;
	to.tv_nsec = 0;
	cbs[0] = a;
	T_EQ(sysring_submit_timeout(ctx, 1, cbs, &to), 1);
	usleep(10000);
	T_EQ(sysring_cancel(ctx, a), 0);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, -ECANCELED);
	T_EQ(count_events(ctx, ev, 8, 30), 0);

	/* destroy with timed and untimed calls in flight */
	cbs[0] = a;
	cbs[1] = b;
	T_EQ(sysring_submit_timeout(ctx, 2, cbs, &to), 2);
	T_EQ(async_destroy(ctx), 0);

	async_cb_free(a);
	async_cb_free(b);
	async_cb_free(g);
	close(pf[0]);
	close(pf[1]);
	printf("cancel: ok\n");
	return 0;
}

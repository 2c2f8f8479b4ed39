/* SPDX-License-Identifier: MIT */
/*
 * The threads engine must start a worker for queued work even when the
 * submitter cannot take ctx->lock to start one itself (threads.c, grow()).
 * Another thread holds the lock (as a concurrent submitter starting a
 * worker would) while we queue a read of a pipe and then the write that
 * satisfies it, on a context with no worker yet: once the lock is free,
 * the pool must grow enough to run both, without any further submission.
 */
#include <pthread.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

#include "core/core.h"

static struct sr_ctx *ictx;
static int locked;

static void *hold_lock(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&ictx->lock);
	__atomic_store_n(&locked, 1, __ATOMIC_RELEASE);
	usleep(200 * 1000);
	pthread_mutex_unlock(&ictx->lock);
	return NULL;
}

int main(void)
{
	struct sysring_params p;
	async_context_t ctx;
	struct async_event ev[2];
	pthread_t th;
	int pfd[2];
	char c = 0;

	t_watchdog(60);
	sysring_params_init(&p);
	p.engine = SYSRING_ENGINE_THREADS;
	p.threads = 8;
	p.inline_calls = 0;
	T_EQ(sysring_setup(16, &p, &ctx), 0);
	ictx = sr_ctx_lookup(ctx);
	T_ASSERT(ictx != NULL);
	T_EQ(pipe(pfd), 0);

	struct sysring_stats st;
	T_EQ(sysring_stats(ctx, &st), 0);
	T_EQ(st.threads, 0); /* workers start on demand */

	pthread_create(&th, NULL, hold_lock, NULL);
	while (!__atomic_load_n(&locked, __ATOMIC_ACQUIRE))
		sched_yield();
	struct async_cb *rd = async_cb_new(SYS_read, 3, (long)pfd[0], (long)&c, 1L);
	struct async_cb *wr = async_cb_new(SYS_write, 3, (long)pfd[1], (long)"x", 1L);
	T_EQ(async_submit(ctx, 1, &rd), 1);
	T_EQ(async_submit(ctx, 1, &wr), 1);
	pthread_join(th, NULL);

	int got = 0;
	while (got < 2) {
		struct timespec ts = {3, 0};
		int n = async_getevents(ctx, 1, 2, ev + got, &ts);
		if (n <= 0)
			T_FAIL("%d of 2 events 3 s after the lock was released: no worker was started", got);
		got += n;
	}
	for (int i = 0; i < 2; i++)
		T_EQ(ev[i].res, 1);
	T_EQ(c, 'x');
	async_cb_free(rd);
	async_cb_free(wr);
	T_EQ(async_destroy(ctx), 0);
	close(pfd[0]);
	close(pfd[1]);
	printf("threads_grow: queued work ran after the pool lock was busy at submit\n");
	return 0;
}

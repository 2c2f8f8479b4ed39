/* SPDX-License-Identifier: MIT */
/* Stress: several threads submit to one context while others collect; every
 * call yields exactly one event, with the right result. */
#include <pthread.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

#define NSUB 4
#define NCOL 2

static async_context_t ctx;
static long per_thread;
static uint64_t collected;
static uint32_t *seen; /* per cb */
static struct async_cb **cbs_all;

static void *submitter(void *arg)
{
	long id = (long)(uintptr_t)arg;
	struct async_cb **mine = &cbs_all[id * 64];
	long sent = 0;
	while (sent < per_thread) {
		/* each cb is reused only after its event came back (seen flips) */
		for (int i = 0; i < 64 && sent < per_thread; i++) {
			long k = id * 64 + i;
			if (__atomic_load_n(&seen[k], __ATOMIC_ACQUIRE) != 0)
				continue;
			__atomic_store_n(&seen[k], 1, __ATOMIC_RELAXED);
			struct async_cb *one[1] = {mine[i]};
			int r;
			while ((r = async_submit(ctx, 1, one)) != 1) {
				if (r != -1 || errno != EAGAIN)
					T_FAIL("submit: %d %d", r, errno);
				sched_yield();
			}
			sent++;
		}
		sched_yield();
	}
	return NULL;
}

static void *collector(void *arg)
{
	struct async_event ev[32];
	uint64_t total = (uint64_t)per_thread * NSUB;
	(void)arg;
	while (__atomic_load_n(&collected, __ATOMIC_ACQUIRE) < total) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		int n = async_getevents(ctx, 1, 32, ev, &ts);
		if (n < 0)
			T_FAIL("getevents: %d", errno);
		for (int i = 0; i < n; i++) {
			long k = -1;
			for (long j = 0; j < NSUB * 64; j++)
				if (cbs_all[j] == ev[i].cbp) {
					k = j;
					break;
				}
			if (k < 0)
				T_FAIL("unknown cb");
			if (ev[i].res != getpid())
				T_FAIL("result %lld", (long long)ev[i].res);
			if (__atomic_exchange_n(&seen[k], 0, __ATOMIC_RELEASE) != 1)
				T_FAIL("duplicate event for cb %ld", k);
		}
		__atomic_fetch_add(&collected, (uint64_t)n, __ATOMIC_ACQ_REL);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[NSUB + NCOL];
	t_watchdog(300);
	per_thread = (long)(50000 * t_scale());
	T_EQ(async_setup(128, &ctx), 0);
	seen = calloc(NSUB * 64, sizeof(*seen));
	cbs_all = calloc(NSUB * 64, sizeof(*cbs_all));
	for (int i = 0; i < NSUB * 64; i++) {
		cbs_all[i] = async_cb_new(SYS_getpid, 0);
	}
	for (long i = 0; i < NCOL; i++)
		pthread_create(&th[NSUB + i], NULL, collector, NULL);
	for (long i = 0; i < NSUB; i++)
		pthread_create(&th[i], NULL, submitter, (void *)(uintptr_t)i);
	for (int i = 0; i < NSUB + NCOL; i++)
		pthread_join(th[i], NULL);
	T_EQ(collected, (uint64_t)per_thread * NSUB);
	struct sysring_stats st;
	T_EQ(sysring_stats(ctx, &st), 0);
	T_EQ(st.submitted, collected);
	T_EQ(st.completed, collected);
	T_EQ(st.in_flight, 0);
	for (int i = 0; i < NSUB * 64; i++)
		async_cb_free(cbs_all[i]);
	free(cbs_all);
	free(seen);
	T_EQ(async_destroy(ctx), 0);
	printf("async_mt: %ld calls from %d threads, exactly once\n", per_thread * NSUB, NSUB);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * async_wait(1) right after async_exec handed a syslet on (returned NULL)
 * never returns 0: the syslet is in flight until its completion is in the
 * ring, and 0 means "nothing waiting and nothing in flight" -- a drain loop
 * `while (async_wait(1) > 0)` relies on it. The race it checks (a
 * completion written between async_wait's ring scan and its look at the
 * in-flight count) hit about once in 300,000 syslets; this runs for a few
 * seconds on two threads (a stress test: it may pass by luck before the
 * fix, never fail after it).
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>

#include "t.h"

#include <sysring.h>

static unsigned int seconds = 5;
static long zeros, total;

static void *worker(void *arg)
{
	struct syslet_uatom *ring[16];
	struct async_head_user h = {ring, sizeof(ring), -1UL};
	int p[2], idx = 0;
	char buf[8];
	long rfd, wfd, bp = (long)buf, len = 1, r1, r2;

	(void)arg;
	memset(ring, 0, sizeof(ring));
	T_EQ(async_register(&h, sizeof(h)), 0);
	T_EQ(pipe(p), 0);
	rfd = p[0];
	wfd = p[1];
	uint64_t end = t_now_ns() + (uint64_t)seconds * 1000000000ull;
	while (t_now_ns() < end) {
		struct syslet_uatom at[2];
		memset(at, 0, sizeof(at));
		at[0].flags = SYSLET_ASYNC;
		at[0].nr = SYS_write;
		at[0].arg_ptr[0] = (unsigned long *)&wfd;
		at[0].arg_ptr[1] = (unsigned long *)&bp;
		at[0].arg_ptr[2] = (unsigned long *)&len;
		at[0].ret_ptr = &r1;
		at[0].next = &at[1];
		at[1].nr = SYS_read;
		at[1].arg_ptr[0] = (unsigned long *)&rfd;
		at[1].arg_ptr[1] = (unsigned long *)&bp;
		at[1].arg_ptr[2] = (unsigned long *)&len;
		at[1].ret_ptr = &r2;
		if (async_exec(&at[0]))
			continue;
		__atomic_fetch_add(&total, 1, __ATOMIC_RELAXED);
		long n = async_wait(1);
		T_ASSERT(n >= 0);
		if (n == 0) {
			__atomic_fetch_add(&zeros, 1, __ATOMIC_RELAXED);
			while (!__atomic_load_n(&ring[idx], __ATOMIC_ACQUIRE))
				T_ASSERT(async_wait(1) >= 0);
		}
		while (__atomic_load_n(&ring[idx], __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&ring[idx], NULL, __ATOMIC_RELEASE);
			idx = (idx + 1) % 16;
		}
	}
	T_EQ(async_unregister(&h, sizeof(h)), 0);
	close(p[0]);
	close(p[1]);
	return NULL;
}

int main(void)
{
	pthread_t t[2];

	t_watchdog(120);
	/* where it was seen: executor threads running every atom */
	setenv("SYSRING_ENGINE", "threads", 0);
	setenv("SYSRING_INLINE", "0", 0);
	for (int i = 0; i < 2; i++)
		T_EQ(pthread_create(&t[i], NULL, worker, NULL), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("syslet_wait_race: %ld syslets went async, async_wait(1) said 0 for %ld\n", total, zeros);
	if (zeros)
		T_FAIL("async_wait(1) returned 0 with a syslet in flight (%ld times)", zeros);
	return 0;
}

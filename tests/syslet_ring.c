/* SPDX-License-Identifier: MIT */
/*
 * The completion ring: smaller than the number of syslets in flight, so it
 * wraps and completions wait for their slot — none is lost, none is
 * overwritten, each appears exactly once; and several threads, each with
 * its own ring, at the same time.
 */
#include <pthread.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

#define NTHREADS 3
#define PER_THREAD 400
#define NSLOTS 4 /* far fewer than in flight */

/* Take every completion waiting in the ring, checking each appears once. */
static unsigned long drain(struct syslet_uatom **ring, unsigned long *idx, struct syslet_uatom *atoms,
			   unsigned char *seen)
{
	unsigned long got = 0;
	while (__atomic_load_n(&ring[*idx], __ATOMIC_ACQUIRE)) {
		struct syslet_uatom *c = ring[*idx];
		__atomic_store_n(&ring[*idx], NULL, __ATOMIC_RELEASE);
		*idx = (*idx + 1) % NSLOTS;
		long k = c - atoms;
		if (k < 0 || k >= PER_THREAD || seen[k]++)
			T_FAIL("bad or duplicate completion %ld", k);
		got++;
	}
	return got;
}

static void *worker(void *arg)
{
	long id = (long)(uintptr_t)arg;
	struct syslet_uatom *ring[NSLOTS] = {0};
	struct async_head_user ahu = {ring, sizeof(ring), 2};
	struct syslet_uatom *atoms = calloc(PER_THREAD, sizeof(*atoms));
	long *res = calloc(PER_THREAD, sizeof(long));
	unsigned char *seen = calloc(PER_THREAD, 1);
	struct timespec d = {0, 200 * 1000}; /* a short blocking call */
	long dp = (long)&d;
	unsigned long idx = 0, got = 0, cached = 0;

	if (async_register(&ahu, sizeof(ahu)))
		T_FAIL("register: %s", strerror(errno));
	for (long i = 0; i < PER_THREAD; i++) {
		struct syslet_uatom *a = &atoms[i];
		memset(a, 0, sizeof(*a));
		/* half go async (nanosleep), half may be cached (getpid) */
		a->nr = (i % 2) ? SYS_nanosleep : SYS_getpid;
		a->arg_ptr[0] = (i % 2) ? (unsigned long *)&dp : NULL;
		a->ret_ptr = &res[i];
		a->private = (void *)(uintptr_t)(id * 100000 + i);
		res[i] = -12345;
		if (async_exec(a)) {
			seen[i] = 1;
			cached++;
			continue;
		}
		/* drain now and then, but let plenty pile up */
		if (i % 64 == 63)
			got += drain(ring, &idx, atoms, seen);
	}
	while (got + cached < PER_THREAD) {
		long w = async_wait(1);
		if (w < 0)
			T_FAIL("async_wait: %s", strerror(errno));
		got += drain(ring, &idx, atoms, seen);
		if (w == 0 && got + cached < PER_THREAD) {
			/* nothing in flight and nothing waiting: lost */
			long wait_again = async_wait(1);
			if (wait_again == 0 && !__atomic_load_n(&ring[idx], __ATOMIC_ACQUIRE))
				T_FAIL("completions lost: %lu + %lu of %d", got, cached, PER_THREAD);
		}
	}
	for (long i = 0; i < PER_THREAD; i++) {
		if (!seen[i])
			T_FAIL("atom %ld never completed", i);
		long want = (i % 2) ? 0 : getpid();
		if (res[i] != want)
			T_FAIL("atom %ld result %ld", i, res[i]);
	}
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	free(atoms);
	free(res);
	free(seen);
	return (void *)cached;
}

int main(void)
{
	pthread_t th[NTHREADS];
	t_watchdog(120);
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	printf("syslet_ring: %d threads x %d syslets through %d-slot rings, exactly once\n", NTHREADS,
	       PER_THREAD, NSLOTS);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The completion ring: smaller than the number of syslets in flight, so it
 * wraps and completions wait for their slot — none is lost, none is
 * overwritten, each appears exactly once; and several threads, each with
 * its own ring, at the same time; and an owner in async_wait whose
 * registration another thread takes away.
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

/*
 * async_unregister from another thread while the owner sits in async_wait
 * for a completion that cannot come any more (one of its two syslets is in
 * the ring, the other blocked in a read): the owner must return, and with
 * -1/EINVAL, since the ring is no longer its to read.
 */
static struct async_head_user uw_ahu;
static struct syslet_uatom *uw_ring[2];
static int uw_state; /* 1: the first syslet finished; 2: async_wait returned */
static long uw_ret;
static int uw_errno;

static void *uw_owner(void *arg)
{
	int fd = (int)(uintptr_t)arg;
	static char b[2];
	static long res[2];
	static long lfd, p0 = (long)&b[0], p1 = (long)&b[1], one = 1;
	static struct syslet_uatom a[2];

	lfd = fd;
	uw_ahu = (struct async_head_user){uw_ring, sizeof(uw_ring), 2};
	T_EQ(async_register(&uw_ahu, sizeof(uw_ahu)), 0);
	for (int i = 0; i < 2; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].nr = SYS_read;
		a[i].flags = SYSLET_ASYNC;
		a[i].arg_ptr[0] = (unsigned long *)&lfd;
		a[i].arg_ptr[1] = (unsigned long *)(i ? &p1 : &p0);
		a[i].arg_ptr[2] = (unsigned long *)&one;
		a[i].ret_ptr = &res[i];
		T_ASSERT(async_exec(&a[i]) == NULL);
	}
	/* One byte in the pipe: one syslet ends (the library stores the slot
	 * with release), the other stays blocked. */
	while (!__atomic_load_n(&uw_ring[0], __ATOMIC_ACQUIRE))
		usleep(1000);
	__atomic_store_n(&uw_state, 1, __ATOMIC_RELEASE);
	errno = 0;
	uw_ret = async_wait(2);
	uw_errno = errno;
	__atomic_store_n(&uw_state, 2, __ATOMIC_RELEASE);
	return NULL;
}

static void test_unregister_while_waiting(void)
{
	pthread_t th;
	int pfd[2];

	T_EQ(pipe(pfd), 0);
	pthread_create(&th, NULL, uw_owner, (void *)(uintptr_t)pfd[0]);
	usleep(20 * 1000);
	T_EQ(write(pfd[1], "x", 1), 1);
	while (__atomic_load_n(&uw_state, __ATOMIC_ACQUIRE) < 1)
		usleep(1000);
	usleep(50 * 1000); /* the owner is in async_wait by now */
	T_EQ(__atomic_load_n(&uw_state, __ATOMIC_ACQUIRE), 1);
	T_EQ(async_unregister(&uw_ahu, sizeof(uw_ahu)), 0);
	uint64_t t0 = t_now_ns();
	while (__atomic_load_n(&uw_state, __ATOMIC_ACQUIRE) < 2)
		if (t_now_ns() - t0 > 3000000000ull)
			T_FAIL("async_wait did not return after its registration was unregistered");
		else
			usleep(1000);
	pthread_join(th, NULL);
	T_EQ(uw_ret, -1);
	T_EQ(uw_errno, EINVAL);
	close(pfd[0]);
	close(pfd[1]);
}

int main(void)
{
	pthread_t th[NTHREADS];
	t_watchdog(120);
	test_unregister_while_waiting();
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	printf("syslet_ring: %d threads x %d syslets through %d-slot rings, exactly once\n", NTHREADS,
	       PER_THREAD, NSLOTS);
	return 0;
}

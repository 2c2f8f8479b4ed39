/* SPDX-License-Identifier: MIT */
/*
 * Executor threads run on small stacks (threads.c: 64 KiB): measure what
 * the deepest paths really use and fail if less than a quarter is left.
 * The workers run every kind of path: calls completing into the async face
 * (with an eventfd to signal), multi-atom syslets completing into a ring,
 * a worker starting a sibling (pthread_create on the worker's stack), a
 * call interrupted by the cancel signal (its frame lands on the stack) and
 * one ended by its timer. Then each worker's stack is scanned from its low
 * end for the first byte ever written (fresh stacks are zero), through
 * /proc/self/mem so that the guard page costs an error, not a fault. The
 * top of a thread's stack block holds its TLS (and, under sanitizers, which
 * raise small stacks by the size of their own TLS plus 128 KiB, a lot of
 * it): an idle thread started the same way gives that part, which is taken
 * off. Prints the deepest use (docs/engines.md quotes it for each build).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

#include "core/core.h"

static size_t used_bytes(pthread_t th, size_t *size)
{
	pthread_attr_t attr;
	void *addr;
	size_t sz, used = 0;
	unsigned char page[4096];
	int mem = open("/proc/self/mem", O_RDONLY);

	T_ASSERT(mem >= 0);
	T_EQ(pthread_getattr_np(th, &attr), 0);
	T_EQ(pthread_attr_getstack(&attr, &addr, &sz), 0);
	pthread_attr_destroy(&attr);
	*size = sz;
	for (size_t off = 0; off < sz; off += sizeof(page)) {
		if (pread(mem, page, sizeof(page), (off_t)((uintptr_t)addr + off)) != (ssize_t)sizeof(page))
			continue; /* a guard page */
		for (size_t i = 0; i < sizeof(page); i++)
			if (page[i]) {
				used = sz - off - i;
				goto out;
			}
	}
out:
	close(mem);
	return used;
}

static int ref_go;

static void *ref_thread(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&ref_go, __ATOMIC_ACQUIRE))
		usleep(1000);
	return NULL;
}

int main(void)
{
	struct sysring_params p;
	async_context_t ctx;
	struct async_event ev[64];
	struct async_cb *cbs[64];
	int pf[2];
	char buf[64];

	t_watchdog(120);
	sysring_params_init(&p);
	p.engine = SYSRING_ENGINE_THREADS;
	p.inline_calls = 0;
	T_EQ(sysring_setup(128, &p, &ctx), 0);
	T_ASSERT(sysring_eventfd(ctx) >= 0);
	T_EQ(pipe(pf), 0);

	/* bursts: workers start siblings while taking work */
	static struct timespec ms = {0, 1000000};
	for (int i = 0; i < 64; i++)
		cbs[i] = i % 2 ? async_cb_new(SYS_nanosleep, 2, (long)&ms, 0L)
			       : async_cb_new(SYS_write, 3, (long)pf[1], (long)"x", 1L);
	for (int r = 0; r < 4; r++) {
		T_EQ(async_submit(ctx, 64, cbs), 64);
		for (int got = 0; got < 64;)
			got += async_getevents(ctx, 1, 64, ev, NULL);
		T_EQ(read(pf[0], buf, 32), 32);
	}

	/* the cancel signal's frame on a blocked worker */
	char path[] = "/tmp/sysring-stack-XXXXXX";
	int holder = mkstemp(path), lfd = open(path, O_RDONLY);
	T_ASSERT(holder >= 0 && lfd >= 0);
	unlink(path);
	T_EQ(flock(holder, LOCK_EX), 0);
	struct async_cb *lk = async_cb_new(SYS_flock, 2, (long)lfd, (long)LOCK_EX);
	T_EQ(async_submit(ctx, 1, &lk), 1);
	usleep(50000);
	T_EQ(sysring_cancel(ctx, lk), 0);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, -ECANCELED);
	struct timespec to = {0, 20 * 1000000L};
	T_EQ(sysring_submit_timeout(ctx, 1, &lk, &to), 1);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, -ETIME);

	/* syslets: three atoms and a umem_add loop, completing into the ring */
	static struct syslet_uatom *ring[8];
	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	unsigned long cnt = 0, cntp = (unsigned long)&cnt, one = 1, sl = (unsigned long)&ms, zero = 0;
	long r0, r1, r2;
	struct syslet_uatom a[3];
	memset(a, 0, sizeof(a));
	a[0].nr = SYS_nanosleep;
	a[0].arg_ptr[0] = &sl;
	a[0].arg_ptr[1] = &zero;
	a[0].ret_ptr = &r0;
	a[0].flags = SYSLET_ASYNC;
	a[0].next = &a[1];
	a[1].nr = (unsigned long)__NR_umem_add;
	a[1].arg_ptr[0] = &cntp;
	a[1].arg_ptr[1] = &one;
	a[1].ret_ptr = &r1;
	a[1].next = &a[2];
	a[2].nr = SYS_getppid;
	a[2].ret_ptr = &r2;
	T_EQ(async_exec(&a[0]), NULL);
	while (!__atomic_load_n(&ring[0], __ATOMIC_ACQUIRE))
		T_ASSERT(async_wait(1) >= 0);
	T_EQ(r2, getppid());

	/* An idle thread with the workers' stack size: TLS and start-up. */
	pthread_attr_t attr;
	pthread_t ref;
	size_t ref_size, base;
	T_EQ(pthread_attr_init(&attr), 0);
	T_EQ(pthread_attr_setstacksize(&attr, 64 * 1024), 0);
	T_EQ(pthread_create(&ref, &attr, ref_thread, NULL), 0);
	pthread_attr_destroy(&attr);
	usleep(20000);
	base = used_bytes(ref, &ref_size);
	__atomic_store_n(&ref_go, 1, __ATOMIC_RELEASE);
	pthread_join(ref, NULL);

	struct sr_ctx *ic = sr_ctx_lookup(ctx);
	T_ASSERT(ic);
	size_t deepest = 0, size = 0;
	uint32_t n = 0;
	pthread_mutex_lock(&ic->lock);
	for (uint32_t i = 0; i < ic->thr.nslots; i++) {
		if (ic->thr.workers[i].slot != 1 /* SR_SLOT_LIVE */)
			continue;
		size_t u = used_bytes(ic->thr.workers[i].thread, &size);
		if (u > deepest)
			deepest = u;
		n++;
	}
	pthread_mutex_unlock(&ic->lock);
	T_ASSERT(n > 0);
	T_EQ(size, ref_size);
	deepest = deepest > base ? deepest - base : 0;
	printf("threads_stack: deepest worker stack use %zu bytes beyond an idle thread's %zu "
	       "(stack block %zu, %u workers)\n", deepest, base, size, n);
	if (deepest > 48 * 1024)
		T_FAIL("a worker used %zu of its 64 KiB stack: less than a quarter left", deepest);
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	T_EQ(async_destroy(ctx), 0);
	for (int i = 0; i < 64; i++)
		async_cb_free(cbs[i]);
	async_cb_free(lk);
	close(holder);
	close(lfd);
	close(pf[0]);
	close(pf[1]);
	return 0;
}

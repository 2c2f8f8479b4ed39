/* SPDX-License-Identifier: MIT */
/*
 * The ring against a mutex + condition variable queue (the classic thread
 * pool queue): single-threaded push+pop, and 4 producers with one consumer
 * on this machine's cores.
 *
 * Also the floors of the threads engine, which b_async.c measures beside
 * it: a minimal single-producer single-consumer ring whose worker spins and
 * makes the real call (what a hand-off between two running threads costs at
 * best), and a bare two-thread futex ping-pong (what waking a sleeping
 * thread costs at best).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "core/futex.h"
#include "ring/ring.h"

#define QCAP 1024

struct mq {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	uint64_t buf[QCAP];
	unsigned head, count;
};

static struct sr_ring ring;
static void *ring_mem;
static struct mq mq = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
		       PTHREAD_COND_INITIALIZER, {0}, 0, 0};

static void mq_push(uint64_t v)
{
	pthread_mutex_lock(&mq.mu);
	while (mq.count == QCAP)
		pthread_cond_wait(&mq.not_full, &mq.mu);
	mq.buf[(mq.head + mq.count++) % QCAP] = v;
	pthread_cond_signal(&mq.not_empty);
	pthread_mutex_unlock(&mq.mu);
}

static uint64_t mq_pop(void)
{
	uint64_t v;
	pthread_mutex_lock(&mq.mu);
	while (mq.count == 0)
		pthread_cond_wait(&mq.not_empty, &mq.mu);
	v = mq.buf[mq.head];
	mq.head = (mq.head + 1) % QCAP;
	mq.count--;
	pthread_cond_signal(&mq.not_full);
	pthread_mutex_unlock(&mq.mu);
	return v;
}

static void ring_setup(void *arg)
{
	size_t bytes = sr_ring_bytes(QCAP, sizeof(uint64_t));
	(void)arg;
	ring_mem = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	if (!ring_mem || sr_ring_format(ring_mem, bytes, QCAP, sizeof(uint64_t)) ||
	    sr_ring_attach(&ring, ring_mem, bytes))
		abort();
}

static double ring_single(void *arg, long iters)
{
	uint64_t v = 0, out = 0;
	(void)arg;
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i++) {
		v++;
		sr_ring_push(&ring, &v);
		sr_ring_pop(&ring, &out);
	}
	__asm__ __volatile__("" ::"r"(out));
	return (double)(bench_now() - t0);
}

static double mq_single(void *arg, long iters)
{
	(void)arg;
	uint64_t t0 = bench_now(), s = 0;
	for (long i = 0; i < iters; i++) {
		mq_push((uint64_t)i);
		s += mq_pop();
	}
	__asm__ __volatile__("" ::"r"(s));
	return (double)(bench_now() - t0);
}

static long per_producer;

static void *ring_prod(void *arg)
{
	(void)arg;
	for (long i = 0; i < per_producer; i++) {
		uint64_t v = (uint64_t)i;
		while (sr_ring_push(&ring, &v))
			sched_yield();
	}
	return NULL;
}

static void *mq_prod(void *arg)
{
	(void)arg;
	for (long i = 0; i < per_producer; i++)
		mq_push((uint64_t)i);
	return NULL;
}

static double ring_4p(void *arg, long iters)
{
	pthread_t th[4];
	uint64_t out, t0;
	(void)arg;
	per_producer = iters / 4;
	t0 = bench_now();
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, ring_prod, NULL);
	for (long got = 0; got < per_producer * 4;) {
		if (sr_ring_pop(&ring, &out) == 0)
			got++;
		else
			sched_yield();
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	return (double)(bench_now() - t0) * (double)iters / (double)(per_producer * 4);
}

static double mq_4p(void *arg, long iters)
{
	pthread_t th[4];
	uint64_t t0;
	(void)arg;
	per_producer = iters / 4;
	t0 = bench_now();
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, mq_prod, NULL);
	for (long got = 0; got < per_producer * 4; got++)
		mq_pop();
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	return (double)(bench_now() - t0) * (double)iters / (double)(per_producer * 4);
}

/* ---- floors of the threads engine ---- */

/* One producer, one consumer, 64 slots; positions are free-running. The
 * submitter publishes each call as it writes it (so the worker starts on
 * the first while the rest are written), then spins until all of the batch
 * are done: the least a hand-off through shared memory can cost. */
#define FR_SLOTS 64
static struct {
	uint64_t head sr_aligned_cacheline; /* written by the submitter */
	uint64_t done sr_aligned_cacheline; /* written by the worker */
	uint32_t stop sr_aligned_cacheline;
	long nr[FR_SLOTS] sr_aligned_cacheline;
	long res[FR_SLOTS] sr_aligned_cacheline;
	pthread_t th;
} fr;

/* Spin, but give the CPU away now and then: on a loaded 2-CPU machine a
 * pure spin waits out whole time slices of the thread it waits for. */
static inline void fr_relax(unsigned int *spins)
{
	if (++*spins % 64 == 0)
		sched_yield();
	else
		sr_cpu_relax();
}

static void *fr_worker(void *arg)
{
	uint64_t pos = 0;
	unsigned int spins = 0;
	(void)arg;
	for (;;) {
		/* Acquire pairs with the submitter's release of head: the slot's
		 * call number is written before it. */
		uint64_t h = sr_load_acquire(&fr.head);
		if (h == pos) {
			if (sr_load_relaxed(&fr.stop))
				return NULL;
			fr_relax(&spins);
			continue;
		}
		for (; pos < h; pos++)
			fr.res[pos % FR_SLOTS] = syscall(fr.nr[pos % FR_SLOTS]);
		/* Release pairs with the submitter's acquire of done. */
		sr_store_release(&fr.done, pos);
	}
}

void bench_floor_ring_setup(void *arg)
{
	(void)arg;
	memset(&fr, 0, sizeof(fr));
	if (pthread_create(&fr.th, NULL, fr_worker, NULL))
		abort();
}

void bench_floor_ring_teardown(void *arg)
{
	(void)arg;
	sr_store_relaxed(&fr.stop, 1);
	pthread_join(fr.th, NULL);
}

double bench_floor_ring_run(void *arg, long iters)
{
	uint64_t head = sr_load_relaxed(&fr.head);
	unsigned int spins = 0;
	(void)arg;
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i += FR_SLOTS) {
		for (int k = 0; k < FR_SLOTS; k++) {
			fr.nr[(head + (uint64_t)k) % FR_SLOTS] = SYS_getppid;
			/* Release pairs with the worker's acquire of head. */
			sr_store_release(&fr.head, head + (uint64_t)k + 1);
		}
		head += FR_SLOTS;
		/* Acquire pairs with the worker's release of done. */
		while (sr_load_acquire(&fr.done) != head)
			fr_relax(&spins);
	}
	uint64_t t = bench_now() - t0;
	if (fr.res[0] != getppid()) /* the worker made the real call */
		abort();
	return (double)t;
}

/* Two threads pass a ball through a futex word: 1 means the partner has
 * it, 0 the main thread. Each pass wakes a thread that went to sleep. */
static uint32_t pp_word, pp_stop;

static void *pp_partner(void *arg)
{
	(void)arg;
	for (;;) {
		/* Acquire pairs with the main thread's release of the word. */
		while (sr_load_acquire(&pp_word) != 1)
			sr_futex_wait(&pp_word, 0, NULL, false);
		if (sr_load_relaxed(&pp_stop))
			return NULL;
		sr_store_release(&pp_word, 0);
		sr_futex_wake(&pp_word, 1, false);
	}
}

double bench_futex_pingpong(void *arg, long iters)
{
	pthread_t th;
	(void)arg;
	pp_word = pp_stop = 0;
	if (pthread_create(&th, NULL, pp_partner, NULL))
		abort();
	long rounds = (iters + 1) / 2;
	uint64_t t0 = bench_now();
	for (long i = 0; i < rounds; i++) {
		sr_store_release(&pp_word, 1);
		sr_futex_wake(&pp_word, 1, false);
		/* Acquire pairs with the partner's release of the word. */
		while (sr_load_acquire(&pp_word) != 0)
			sr_futex_wait(&pp_word, 1, NULL, false);
	}
	uint64_t t = bench_now() - t0;
	sr_store_relaxed(&pp_stop, 1);
	sr_store_release(&pp_word, 1);
	sr_futex_wake(&pp_word, 1, false);
	pthread_join(th, NULL);
	/* per one-way wake-up: two per round */
	return (double)t * (double)iters / (double)(2 * rounds);
}

void bench_ring(void)
{
	struct bench_var v[2] = {
		{.name = "mutex+condvar queue", .run = mq_single, .setup = ring_setup},
		{.name = "sysring ring", .run = ring_single, .setup = ring_setup},
	};
	struct bench_fig f[2];

	bench_compare("push+pop, one thread", v, 2, bench_iters(2000000), 0, f);
	bench_row("ring", "push+pop, one thread", v[0].name, &f[0], v[1].name, &f[1], "<= 25 ns", "ring design", "");
	v[0].run = mq_4p;
	v[1].run = ring_4p;
	bench_compare("4 producers -> 1 consumer, per entry", v, 2, bench_iters(4000000), 0, f);
	bench_row("ring", "4 producers -> 1 consumer, per entry", v[0].name, &f[0], v[1].name, &f[1], "<= 0.5",
		  "ring design", "throughput >= 2x the mutex queue");
}

/* SPDX-License-Identifier: MIT */
/*
 * The ring against a mutex + condition variable queue (the classic thread
 * pool queue): single-threaded push+pop, and 4 producers with one consumer
 * on this machine's cores.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "ring/ring.h"

#define QCAP 1024

struct mq {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	uint64_t buf[QCAP];
	unsigned head, count;
};

static struct sr_ring ring;
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

static double ring_single(void *arg, long iters)
{
	uint64_t v = 0, out;
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
	return (double)(bench_now() - t0);
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
	return (double)(bench_now() - t0);
}

void bench_ring(void)
{
	size_t bytes = sr_ring_bytes(QCAP, sizeof(uint64_t));
	void *mem = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	sr_ring_format(mem, bytes, QCAP, sizeof(uint64_t));
	sr_ring_attach(&ring, mem, bytes);

	double m = bench_median(mq_single, NULL, bench_iters(2000000));
	double r = bench_median(ring_single, NULL, bench_iters(2000000));
	bench_add("ring", "push+pop, one thread", "mutex+condvar queue", m, "sysring ring", r,
		  "target <= 25 ns");
	m = bench_median(mq_4p, NULL, bench_iters(4000000));
	r = bench_median(ring_4p, NULL, bench_iters(4000000));
	char note[96];
	snprintf(note, sizeof(note), "throughput %.1fx the mutex queue (target >= 2x)", m / r);
	bench_add("ring", "4 producers -> 1 consumer, per entry", "mutex+condvar queue", m,
		  "sysring ring", r, note);
	free(mem);
}

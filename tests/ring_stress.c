/* SPDX-License-Identifier: MIT */
/*
 * N producers x M consumers move `total` entries through one small ring.
 * Each entry is (producer, sequence, check); consumers verify the check
 * word, per-producer order as seen by each consumer, and fold everything
 * into per-producer sums and xors that must equal the producers' own.
 * Exactly-once: counts and checksums match; nothing lost or duplicated.
 *
 * usage: ring_stress [producers] [consumers] [total] [capacity]
 */
#include <pthread.h>

#include "t.h"

#include "ring/ring.h"

struct ent {
	uint32_t prod;
	uint32_t pad;
	uint64_t seq;
	uint64_t check;
};

static struct sr_ring ring;
static unsigned int nprod, ncons;
static uint64_t per_prod;
static uint64_t consumed_total;
static uint64_t done_producers;

struct stat {
	uint64_t sum[64];
	uint64_t xr[64];
	uint64_t count;
	uint64_t last_seq[64];
} __attribute__((aligned(64)));
static struct stat cstats[64];

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static struct ent mk(uint32_t id, uint64_t s)
{
	return (struct ent){.prod = id, .seq = s, .check = mix(((uint64_t)id << 40) ^ s)};
}

static void *producer(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;
	for (uint64_t s = 0; s < per_prod; s++) {
		struct ent e = mk(id, s);
		int use_slot = (s & 1);

		/* Every fourth entry starts a block of up to 5 pushed with
		 * push_multiple, which may take only part of it. */
		if (s % 4 == 0 && per_prod - s > 1) {
			struct ent blk[5];
			uint64_t k = per_prod - s < 5 ? per_prod - s : 5;
			for (uint64_t i = 0; i < k; i++)
				blk[i] = mk(id, s + i);
			uint64_t sent = 0;
			while (sent < k) {
				int r = sr_ring_push_multiple(&ring, &blk[sent], (long)(k - sent));
				if (r > 0) {
					sent += (uint64_t)r;
					continue;
				}
				if (r != -EAGAIN)
					T_FAIL("push_multiple: %d", r);
				sched_yield();
			}
			s += k - 1;
			continue;
		}
		for (;;) {
			int r;
			if (use_slot) {
				struct sr_ring_ref ref;
				r = sr_ring_push_slot(&ring, &ref);
				if (r == 0) {
					memcpy(ref.data, &e, sizeof(e));
					sr_ring_commit(&ring, &ref);
				}
			} else {
				r = sr_ring_push(&ring, &e);
			}
			if (r == 0)
				break;
			if (r != -EAGAIN)
				T_FAIL("push: %d", r);
			sched_yield();
		}
	}
	__atomic_fetch_add(&done_producers, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *consumer(void *arg)
{
	struct stat *st = &cstats[(uintptr_t)arg];
	struct ent buf[32];
	uint64_t total = per_prod * nprod;

	for (unsigned int i = 0; i < 64; i++)
		st->last_seq[i] = UINT64_MAX;
	for (;;) {
		int n = sr_ring_pop_multiple(&ring, buf, ((uintptr_t)arg & 1) ? 32 : 1);
		if (n == -EAGAIN) {
			if (__atomic_load_n(&consumed_total, __ATOMIC_ACQUIRE) >= total)
				break;
			sched_yield();
			continue;
		}
		if (n < 0)
			T_FAIL("pop: %d", n);
		for (int i = 0; i < n; i++) {
			struct ent *e = &buf[i];
			if (e->prod >= nprod || e->check != mix(((uint64_t)e->prod << 40) ^ e->seq))
				T_FAIL("corrupt entry prod %u seq %" PRIu64, e->prod, e->seq);
			/* FIFO per producer as observed by one consumer */
			if (st->last_seq[e->prod] != UINT64_MAX && e->seq <= st->last_seq[e->prod])
				T_FAIL("order: prod %u seq %" PRIu64 " after %" PRIu64, e->prod, e->seq,
				       st->last_seq[e->prod]);
			st->last_seq[e->prod] = e->seq;
			st->sum[e->prod] += e->seq + 1;
			st->xr[e->prod] ^= e->check;
			st->count++;
		}
		__atomic_fetch_add(&consumed_total, (uint64_t)n, __ATOMIC_ACQ_REL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t total;
	uint32_t cap;
	pthread_t th[128];

	nprod = argc > 1 ? (unsigned)atoi(argv[1]) : 4;
	ncons = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
	total = argc > 3 ? strtoull(argv[3], NULL, 10) : 10000000ull;
	cap = argc > 4 ? (uint32_t)atoi(argv[4]) : 1024;
	total = (uint64_t)(total * t_scale());
	if (nprod < 1 || nprod > 64 || ncons < 1 || ncons > 64)
		T_FAIL("bad thread counts");
	per_prod = total / nprod;
	total = per_prod * nprod;
	t_watchdog(600);

	size_t bytes = sr_ring_bytes(cap, sizeof(struct ent));
	void *mem = aligned_alloc(64, (bytes + 63) & ~63ul);
	T_EQ(sr_ring_format(mem, bytes, cap, sizeof(struct ent)), 0);
	T_EQ(sr_ring_attach(&ring, mem, bytes), 0);

	uint64_t t0 = t_now_ns();
	for (unsigned int i = 0; i < ncons; i++)
		pthread_create(&th[nprod + i], NULL, consumer, (void *)(uintptr_t)i);
	for (unsigned int i = 0; i < nprod; i++)
		pthread_create(&th[i], NULL, producer, (void *)(uintptr_t)i);
	for (unsigned int i = 0; i < nprod + ncons; i++)
		pthread_join(th[i], NULL);
	uint64_t t1 = t_now_ns();

	uint64_t count = 0;
	for (unsigned int c = 0; c < ncons; c++)
		count += cstats[c].count;
	T_EQ(count, total);
	for (unsigned int p = 0; p < nprod; p++) {
		uint64_t sum = 0, xr = 0, want_x = 0;
		for (unsigned int c = 0; c < ncons; c++) {
			sum += cstats[c].sum[p];
			xr ^= cstats[c].xr[p];
		}
		for (uint64_t s = 0; s < per_prod; s++)
			want_x ^= mix(((uint64_t)p << 40) ^ s);
		T_EQ(sum, per_prod * (per_prod + 1) / 2);
		T_EQ(xr, want_x);
	}
	T_EQ(sr_ring_count(&ring), 0);
	printf("ring_stress: %u producers x %u consumers, %" PRIu64 " entries exactly once, "
	       "%.1f ns/entry\n",
	       nprod, ncons, total, (double)(t1 - t0) / (double)total);
	free(mem);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* The ring, single-threaded: order, full/empty, wrap-around, in-place slots,
 * pop_multiple, and attach's validation of a header it cannot trust. */
#include "t.h"

#include "ring/ring.h"

struct msg {
	uint64_t a, b;
};

int main(void)
{
	size_t bytes = sr_ring_bytes(8, sizeof(struct msg));
	void *mem = aligned_alloc(64, (bytes + 63) & ~63ul);
	struct sr_ring r;
	struct sr_ring_ref ref;
	struct msg m, out[16];

	T_ASSERT(mem);
	T_EQ(sr_ring_format(mem, bytes, 6, sizeof(m)), -EINVAL);  /* not a power of two */
	T_EQ(sr_ring_format(mem, bytes, 16, sizeof(m)), -EINVAL); /* does not fit */
	T_EQ(sr_ring_format(mem, bytes, 8, 0), -EINVAL);
	T_EQ(sr_ring_format(mem, bytes, 8, sizeof(m)), 0);
	T_EQ(sr_ring_attach(&r, mem, bytes - 1), -EINVAL);
	T_EQ(sr_ring_attach(&r, mem, bytes), 0);

	/* empty */
	T_EQ(sr_ring_pop(&r, &m), -EAGAIN);
	T_EQ(sr_ring_pop_multiple(&r, out, -1), -EAGAIN);

	/* fill to capacity, then full */
	for (uint64_t i = 0; i < 8; i++) {
		m.a = i;
		m.b = ~i;
		T_EQ(sr_ring_push(&r, &m), 0);
	}
	m.a = 99;
	T_EQ(sr_ring_push(&r, &m), -EAGAIN);
	T_EQ(sr_ring_count(&r), 8);

	/* FIFO order */
	for (uint64_t i = 0; i < 3; i++) {
		T_EQ(sr_ring_pop(&r, &m), 0);
		T_EQ(m.a, i);
		T_EQ(m.b, ~i);
	}
	/* wrap: three more fit, the fourth does not */
	for (uint64_t i = 8; i < 11; i++) {
		m.a = i;
		m.b = ~i;
		T_EQ(sr_ring_push(&r, &m), 0);
	}
	T_EQ(sr_ring_push(&r, &m), -EAGAIN);
	/* pop_multiple with a bound, then "all" */
	T_EQ(sr_ring_pop_multiple(&r, out, 2), 2);
	T_EQ(out[0].a, 3);
	T_EQ(out[1].a, 4);
	T_EQ(sr_ring_pop_multiple(&r, out, -1), 6);
	for (int i = 0; i < 6; i++)
		T_EQ(out[i].a, 5 + i);
	T_EQ(sr_ring_pop(&r, &m), -EAGAIN);
	T_EQ(sr_ring_pop_multiple(&r, out, 0), 0);

	/* in place: a reserved, unpublished slot blocks the consumer (FIFO),
	 * and publishing makes it visible */
	T_EQ(sr_ring_push_slot(&r, &ref), 0);
	m.a = 1000;
	T_EQ(sr_ring_push(&r, &m), 0); /* a later position, published first */
	T_EQ(sr_ring_pop(&r, &m), -EAGAIN);
	((struct msg *)ref.data)->a = 500;
	sr_ring_commit(&r, &ref);
	T_EQ(sr_ring_pop_slot(&r, &ref), 0);
	T_EQ(((struct msg *)ref.data)->a, 500);
	sr_ring_release(&r, &ref);
	T_EQ(sr_ring_pop(&r, &m), 0);
	T_EQ(m.a, 1000);

	/* many laps, exactly once */
	uint64_t next_in = 0, next_out = 0;
	for (int round = 0; round < 100000; round++) {
		int k = round % 9;
		for (int i = 0; i < k; i++) {
			m.a = next_in;
			if (sr_ring_push(&r, &m) == 0)
				next_in++;
		}
		int got = sr_ring_pop_multiple(&r, out, round % 5 + 1);
		for (int i = 0; i < got; i++)
			T_EQ(out[i].a, next_out++);
	}
	while (sr_ring_pop(&r, &m) == 0)
		T_EQ(m.a, next_out++);
	T_EQ(next_in, next_out);

	/* push_multiple: takes what fits, in order, then -EAGAIN when full */
	struct msg blk[12];
	for (int i = 0; i < 12; i++)
		blk[i] = (struct msg){.a = 2000 + (uint64_t)i, .b = ~(2000 + (uint64_t)i)};
	T_EQ(sr_ring_push_multiple(&r, blk, 0), 0);
	T_EQ(sr_ring_push_multiple(&r, blk, 3), 3);
	T_EQ(sr_ring_push_multiple(&r, blk + 3, 9), 5); /* 8 slots */
	T_EQ(sr_ring_push_multiple(&r, blk + 8, 4), -EAGAIN);
	T_EQ(sr_ring_pop_multiple(&r, out, 2), 2);
	T_EQ(sr_ring_push_multiple(&r, blk + 8, 4), 2); /* the two freed slots, across the wrap */
	T_EQ(sr_ring_pop_multiple(&r, out, -1), 8);
	for (int i = 0; i < 8; i++) {
		T_EQ(out[i].a, 2002 + (uint64_t)i);
		T_EQ(out[i].b, ~(2002 + (uint64_t)i));
	}
	/* a reserved, unpublished slot is not free: the run stops before it */
	T_EQ(sr_ring_push_slot(&r, &ref), 0);
	sr_ring_commit(&r, &ref);
	T_EQ(sr_ring_pop_slot(&r, &ref), 0); /* claimed, not yet released */
	T_EQ(sr_ring_push_multiple(&r, blk, 12), 7);
	T_EQ(sr_ring_push_multiple(&r, blk, 1), -EAGAIN);
	sr_ring_release(&r, &ref);
	T_EQ(sr_ring_push_multiple(&r, blk + 7, 1), 1);
	T_EQ(sr_ring_pop_multiple(&r, out, -1), 8);
	for (int i = 0; i < 8; i++)
		T_EQ(out[i].a, 2000 + (uint64_t)i);

	/* a corrupted header is refused, never followed */
	struct sr_ring_hdr *h = mem;
	struct sr_ring r2;
	h->capacity = 1u << 30;
	T_EQ(sr_ring_attach(&r2, mem, bytes), -EINVAL);
	h->capacity = 8;
	h->stride = 8;
	T_EQ(sr_ring_attach(&r2, mem, bytes), -EINVAL);
	h->magic = 0;
	T_EQ(sr_ring_attach(&r2, mem, bytes), -EINVAL);
	/* a garbage tail/head only costs -EAGAIN, never an access outside */
	T_EQ(sr_ring_format(mem, bytes, 8, sizeof(m)), 0);
	T_EQ(sr_ring_attach(&r, mem, bytes), 0);
	h->tail = 0x123456789abcull;
	T_EQ(sr_ring_push(&r, &m), -EAGAIN);
	h->head = 77;
	T_EQ(sr_ring_pop(&r, &m), -EAGAIN);

	free(mem);
	printf("ring_unit: ok\n");
	return 0;
}

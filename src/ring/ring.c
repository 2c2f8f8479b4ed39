/* SPDX-License-Identifier: MIT */
/* Cold parts of the ring: sizing, formatting, attaching, and the batch pop.
 * The contract is at the top of ring.h. */
#include "ring.h"

static uint32_t ring_stride(uint32_t slot_size)
{
	return (uint32_t)((sizeof(struct sr_ring_slot) + slot_size + 7u) & ~7u);
}

size_t sr_ring_bytes(uint32_t capacity, uint32_t slot_size)
{
	return sizeof(struct sr_ring_hdr) + (size_t)capacity * ring_stride(slot_size);
}

int sr_ring_format(void *mem, size_t mem_bytes, uint32_t capacity, uint32_t slot_size)
{
	return sr_ring_format_base(mem, mem_bytes, capacity, slot_size, 0);
}

int sr_ring_format_base(void *mem, size_t mem_bytes, uint32_t capacity, uint32_t slot_size, uint64_t base)
{
	struct sr_ring_hdr *h = mem;

	if (!mem || capacity < 2 || capacity > SR_RING_MAX_CAPACITY || (capacity & (capacity - 1)) ||
	    slot_size == 0 || slot_size > SR_RING_MAX_SLOT)
		return -EINVAL;
	if (mem_bytes < sr_ring_bytes(capacity, slot_size))
		return -EINVAL;

	memset(h, 0, sizeof(*h));
	h->capacity = capacity;
	h->slot_size = slot_size;
	h->stride = ring_stride(slot_size);
	h->slots_off = sizeof(*h);
	h->total_bytes = sr_ring_bytes(capacity, slot_size);
	h->tail = base;
	h->head = base;
	for (uint32_t i = 0; i < capacity; i++) {
		uint64_t pos = base + i;
		struct sr_ring_slot *s = (struct sr_ring_slot *)((unsigned char *)mem + h->slots_off +
								 (size_t)(pos & (capacity - 1)) * h->stride);
		s->seq = pos; /* free for the producer of position pos */
	}
	/* Release pairs with the acquire of magic in sr_ring_attach: a process
	 * that sees the magic sees the geometry and the initial seqs. */
	sr_store_release(&h->magic, SR_RING_MAGIC);
	return 0;
}

int sr_ring_attach(struct sr_ring *r, void *mem, size_t mem_bytes)
{
	struct sr_ring_hdr *h = mem;
	uint32_t cap, slot, stride, off;

	if (!mem || mem_bytes < sizeof(*h))
		return -EINVAL;
	/* Acquire pairs with the release in sr_ring_format. */
	if (sr_load_acquire(&h->magic) != SR_RING_MAGIC)
		return -EINVAL;
	/* Read each geometry field once: the header may be shared with a peer
	 * that changes it under us; we validate and keep only our copies. */
	cap = sr_load_relaxed(&h->capacity);
	slot = sr_load_relaxed(&h->slot_size);
	stride = sr_load_relaxed(&h->stride);
	off = sr_load_relaxed(&h->slots_off);
	if (cap < 2 || cap > SR_RING_MAX_CAPACITY || (cap & (cap - 1)) || slot == 0 ||
	    slot > SR_RING_MAX_SLOT || stride != ring_stride(slot) || off != sizeof(*h))
		return -EINVAL;
	if (sr_ring_bytes(cap, slot) > mem_bytes)
		return -EINVAL;

	r->hdr = h;
	r->slots = (unsigned char *)mem + off;
	r->capacity = cap;
	r->mask = cap - 1;
	r->stride = stride;
	r->slot_size = slot;
	return 0;
}

/*
 * Claim the run of up to `max` consecutive positions from *index (head for
 * consumers, tail for producers) whose slots are ready for us: seq == pos +
 * `ready`, with ready 1 for a consumer (published) and 0 for a producer
 * (free). One CAS on *index claims the run. Each acquire of seq pairs with
 * the other side's release (sr_ring_commit for consumers, sr_ring_release
 * for producers). Returns the run's length and its first position, or
 * -EAGAIN when the first slot is not ready (empty or full).
 */
static int claim_run(struct sr_ring *r, uint64_t *index, uint64_t ready, long max, uint64_t *first,
		     uint32_t max_spin)
{
	uint64_t limit = (max < 0 || (uint64_t)max > r->capacity) ? r->capacity : (uint64_t)max;
	uint64_t pos, n;

	if (limit == 0)
		return 0;
	pos = sr_load_relaxed(index);
	for (uint32_t spin = 0; spin < max_spin; spin++) {
		for (n = 0; n < limit; n++) {
			struct sr_ring_slot *s = sr_ring_slot_at(r, pos + n);
			if (sr_load_acquire(&s->seq) != pos + n + ready)
				break;
		}
		if (n == 0) {
			uint64_t seq = sr_load_acquire(&sr_ring_slot_at(r, pos)->seq);
			if ((int64_t)(seq - (pos + ready)) < 0)
				return -EAGAIN; /* not yet published, or last lap's entry still there */
			pos = sr_load_relaxed(index); /* stale pos: another thread claimed it */
			continue;
		}
		/* Nobody else can have claimed [pos, pos+n) if *index is still
		 * pos: each side claims only by moving its index. */
		if (sr_cas_weak(index, &pos, pos + n, SR_RELAXED, SR_RELAXED)) {
			*first = pos;
			return (int)n;
		}
	}
	return -EAGAIN;
}

int sr_ring_pop_multiple(struct sr_ring *r, void *out, long max)
{
	return sr_ring_pop_multiple_n(r, out, max, SR_RING_MAX_SPIN);
}

int sr_ring_pop_multiple_n(struct sr_ring *r, void *out, long max, uint32_t max_spin)
{
	uint64_t pos;
	int n = claim_run(r, &r->hdr->head, 1, max, &pos, max_spin);

	for (int i = 0; i < n; i++) {
		struct sr_ring_ref ref = {.data = sr_ring_slot_at(r, pos + (uint64_t)i)->data, .pos = pos + (uint64_t)i};
		if (r->slot_size == sizeof(uint32_t)) /* the core's index rings: no memcpy call */
			((uint32_t *)out)[i] = *(const uint32_t *)ref.data;
		else
			memcpy((unsigned char *)out + (size_t)i * r->slot_size, ref.data, r->slot_size);
		sr_ring_release(r, &ref);
	}
	return n;
}

int sr_ring_push_multiple(struct sr_ring *r, const void *in, long max)
{
	uint64_t pos;
	int n = claim_run(r, &r->hdr->tail, 0, max, &pos, SR_RING_MAX_SPIN);

	for (int i = 0; i < n; i++) {
		struct sr_ring_ref ref = {.data = sr_ring_slot_at(r, pos + (uint64_t)i)->data, .pos = pos + (uint64_t)i};
		if (r->slot_size == sizeof(uint32_t)) /* the core's index rings: no memcpy call */
			*(uint32_t *)ref.data = ((const uint32_t *)in)[i];
		else
			memcpy(ref.data, (const unsigned char *)in + (size_t)i * r->slot_size, r->slot_size);
		sr_ring_commit(r, &ref);
	}
	return n;
}

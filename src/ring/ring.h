/* SPDX-License-Identifier: MIT */
/*
 * sysring's one queue: a bounded multi-producer / multi-consumer ring of
 * fixed-size slots, with the seed-002 shape (reserve a slot, fill it in place,
 * publish it; pop one or many). The async core uses it in private memory and
 * the channels use the very same code in a segment shared between processes.
 *
 * Layout. The ring memory (possibly shared) holds a header and the slots:
 *
 *   struct sr_ring_hdr   geometry (written once by sr_ring_format), then the
 *                        producer index `tail` and the consumer index `head`,
 *                        each on its own cache line
 *   slot[capacity]       at hdr + slots_off, `stride` bytes apart; each slot
 *                        is { uint64_t seq; payload[slot_size] }
 *
 * There are no pointers in the memory, only offsets; a process reaches the
 * ring through a private `struct sr_ring` view that sr_ring_attach fills after
 * validating the header against the size of the mapping. The hot paths read
 * the geometry only from that private view, so a peer that scribbles over the
 * shared header can never make us index outside the mapping.
 *
 * Algorithm (Vyukov's bounded MPMC queue with per-slot sequence numbers).
 * `head` and `tail` are free-running 64-bit counters, compared only through
 * their difference; position p lives in slot p & mask. Slot seq values:
 *   seq == p              the slot is free for the producer of position p
 *   seq == p + 1          position p has been published, ready for its consumer
 *   seq == p + capacity   consumed; free for the producer of p + capacity
 * A producer claims position p by CAS on `tail` (p -> p+1) when it sees
 * seq == p, fills the payload, and publishes with a release store seq = p+1.
 * A consumer claims p by CAS on `head` when it sees seq == p+1, copies the
 * payload out, and frees the slot with a release store seq = p + capacity.
 *
 * Memory-ordering contract:
 *  (1) producer: payload writes -> release store of seq = p+1 (sr_ring_commit)
 *      pairs with the consumer's acquire load of seq (sr_ring_pop*), so a
 *      consumer that sees p+1 sees the whole payload.
 *  (2) consumer: payload reads -> release store of seq = p+capacity
 *      (sr_ring_release) pairs with the producer's acquire load of seq in
 *      sr_ring_push_slot, so a producer never overwrites a payload that a
 *      consumer is still reading.
 *  (3) the CAS on tail/head only arbitrates ownership of a position; it is
 *      relaxed because the slot's seq carries all the data ordering.
 * A full ring is -EAGAIN for the producer and an empty one -EAGAIN for the
 * consumer: nothing is ever lost, overwritten or handed out twice. Note that
 * "full" means "the slot of this position still holds last lap's entry":
 * a consumer that claimed that entry and has not released it yet makes the
 * ring look full at that position, however few entries it holds otherwise
 * (see sr_ring_push_wait). A position
 * that a producer has claimed but not yet published blocks the consumers at
 * that position (FIFO order); they report -EAGAIN, they do not skip it.
 *
 * Every retry loop is bounded (SR_RING_MAX_SPIN) so that a corrupted shared
 * header can cost an error, never a hang.
 */
#ifndef SYSRING_RING_H
#define SYSRING_RING_H

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../core/atomics.h"

#define SR_RING_MAGIC 0x53524e47u /* "SRNG" */
#define SR_RING_MAX_CAPACITY (1u << 24)
#define SR_RING_MAX_SLOT (1u << 16)
#define SR_RING_MAX_SPIN (1u << 20)

struct sr_ring_hdr {
	/* Geometry: written by sr_ring_format before the ring is published. */
	uint32_t magic;
	uint32_t capacity;
	uint32_t slot_size;
	uint32_t stride;
	uint32_t slots_off;
	uint32_t reserved0;
	uint64_t total_bytes;
	/* Producer index: written only by producers. */
	uint64_t tail sr_aligned_cacheline;
	/* Consumer index: written only by consumers. */
	uint64_t head sr_aligned_cacheline;
	/* Keeps the slots off the consumer's line. */
	char pad[SR_CACHELINE - sizeof(uint64_t)];
};

struct sr_ring_slot {
	uint64_t seq;
	unsigned char data[];
};

/* Private, per-process view of a ring. */
struct sr_ring {
	struct sr_ring_hdr *hdr;
	unsigned char *slots;
	uint64_t capacity;
	uint64_t mask;
	uint32_t stride;
	uint32_t slot_size;
};

/* A reservation (producer side) or a claim (consumer side) of one position. */
struct sr_ring_ref {
	void *data;
	uint64_t pos;
};

/* Bytes of ring memory needed for `capacity` slots of `slot_size` payload bytes. */
size_t sr_ring_bytes(uint32_t capacity, uint32_t slot_size);
/* Write a fresh ring into `mem`; capacity must be a power of two. */
int sr_ring_format(void *mem, size_t mem_bytes, uint32_t capacity, uint32_t slot_size);
/* The same, with head and tail starting at position `base` instead of 0. A
 * channel entry's ring, formatted again for each registration, continues
 * from beyond the positions of the previous one, so that no position (and no
 * slot sequence number a late peer may compare against) is ever reused. */
int sr_ring_format_base(void *mem, size_t mem_bytes, uint32_t capacity, uint32_t slot_size, uint64_t base);
/* Validate the header found in `mem` and fill the private view. -EINVAL if the
 * header does not describe a ring that fits in mem_bytes. */
int sr_ring_attach(struct sr_ring *r, void *mem, size_t mem_bytes);

static inline struct sr_ring_slot *sr_ring_slot_at(const struct sr_ring *r, uint64_t pos)
{
	return (struct sr_ring_slot *)(r->slots + (size_t)(pos & r->mask) * r->stride);
}

/*
 * Reserve the next position for writing. On success ref->data points at
 * slot_size payload bytes that belong to the caller until sr_ring_commit.
 * The _n variant bounds the retries at max_spin (channels use a small bound:
 * their ring is shared with peers that may be hostile, and a non-blocking
 * call must return within microseconds); the plain one uses SR_RING_MAX_SPIN.
 */
static inline int sr_ring_push_slot_n(struct sr_ring *r, struct sr_ring_ref *ref, uint32_t max_spin)
{
	uint64_t pos = sr_load_relaxed(&r->hdr->tail);
	for (uint32_t spin = 0; spin < max_spin; spin++) {
		struct sr_ring_slot *s = sr_ring_slot_at(r, pos);
		/* Acquire pairs with the consumer's release in sr_ring_release:
		 * the previous lap's payload has been read before we reuse it. */
		uint64_t seq = sr_load_acquire(&s->seq);
		int64_t dif = (int64_t)(seq - pos);
		if (dif == 0) {
			if (sr_cas_weak(&r->hdr->tail, &pos, pos + 1, SR_RELAXED, SR_RELAXED)) {
				ref->data = s->data;
				ref->pos = pos;
				return 0;
			}
			/* pos was reloaded by the failed CAS. */
		} else if (dif < 0) {
			return -EAGAIN; /* the slot still holds last lap's entry: full */
		} else {
			pos = sr_load_relaxed(&r->hdr->tail);
		}
	}
	return -EAGAIN;
}

static inline int sr_ring_push_slot(struct sr_ring *r, struct sr_ring_ref *ref)
{
	return sr_ring_push_slot_n(r, ref, SR_RING_MAX_SPIN);
}

/* Publish a reserved position. */
static inline void sr_ring_commit(struct sr_ring *r, const struct sr_ring_ref *ref)
{
	struct sr_ring_slot *s = sr_ring_slot_at(r, ref->pos);
	/* Release pairs with the consumer's acquire of seq in sr_ring_pop_slot:
	 * the payload written since sr_ring_push_slot is visible before seq. */
	sr_store_release(&s->seq, ref->pos + 1);
}

/* Claim the oldest published position for reading, in place. */
static inline int sr_ring_pop_slot(struct sr_ring *r, struct sr_ring_ref *ref)
{
	uint64_t pos = sr_load_relaxed(&r->hdr->head);
	for (uint32_t spin = 0; spin < SR_RING_MAX_SPIN; spin++) {
		struct sr_ring_slot *s = sr_ring_slot_at(r, pos);
		/* Acquire pairs with the producer's release in sr_ring_commit. */
		uint64_t seq = sr_load_acquire(&s->seq);
		int64_t dif = (int64_t)(seq - (pos + 1));
		if (dif == 0) {
			if (sr_cas_weak(&r->hdr->head, &pos, pos + 1, SR_RELAXED, SR_RELAXED)) {
				ref->data = s->data;
				ref->pos = pos;
				return 0;
			}
		} else if (dif < 0) {
			return -EAGAIN; /* empty, or the producer of pos has not published yet */
		} else {
			pos = sr_load_relaxed(&r->hdr->head);
		}
	}
	return -EAGAIN;
}

/* Give a claimed position back to the producers. */
static inline void sr_ring_release(struct sr_ring *r, const struct sr_ring_ref *ref)
{
	struct sr_ring_slot *s = sr_ring_slot_at(r, ref->pos);
	/* Release pairs with the producer's acquire in sr_ring_push_slot: our
	 * reads of the payload are done before the slot can be refilled. */
	sr_store_release(&s->seq, ref->pos + r->capacity);
}

static inline int sr_ring_push(struct sr_ring *r, const void *data)
{
	struct sr_ring_ref ref;
	int ret = sr_ring_push_slot(r, &ref);
	if (ret)
		return ret;
	memcpy(ref.data, data, r->slot_size);
	sr_ring_commit(r, &ref);
	return 0;
}

/*
 * Push into a ring whose users guarantee a free slot logically (a pool of
 * requests no larger than the ring). The push can still meet last lap's
 * consumer between claiming its slot and releasing it (a preempted
 * consumer holds it for a time slice), which plain push reports as full;
 * this waits that out. Never use it where the ring can really be full.
 */
static inline void sr_ring_push_wait(struct sr_ring *r, const void *data)
{
	for (unsigned int i = 0; sr_ring_push(r, data); i++) {
		if (i < 128)
			sr_cpu_relax();
		else
			sched_yield();
	}
}

static inline int sr_ring_pop(struct sr_ring *r, void *out)
{
	struct sr_ring_ref ref;
	int ret = sr_ring_pop_slot(r, &ref);
	if (ret)
		return ret;
	memcpy(out, ref.data, r->slot_size);
	sr_ring_release(r, &ref);
	return 0;
}

/* Rings of 32-bit values (the core's request indices): the same protocol,
 * without a memcpy call per entry. */
static inline int sr_ring_push_u32(struct sr_ring *r, uint32_t v)
{
	struct sr_ring_ref ref;
	int ret = sr_ring_push_slot(r, &ref);
	if (ret)
		return ret;
	*(uint32_t *)ref.data = v;
	sr_ring_commit(r, &ref);
	return 0;
}

static inline int sr_ring_pop_u32(struct sr_ring *r, uint32_t *v)
{
	struct sr_ring_ref ref;
	int ret = sr_ring_pop_slot(r, &ref);
	if (ret)
		return ret;
	*v = *(const uint32_t *)ref.data;
	sr_ring_release(r, &ref);
	return 0;
}

static inline void sr_ring_push_wait_u32(struct sr_ring *r, uint32_t v)
{
	for (unsigned int i = 0; sr_ring_push_u32(r, v); i++) {
		if (i < 128)
			sr_cpu_relax();
		else
			sched_yield();
	}
}

/*
 * Rings shared between processes (channels) need two more operations, so
 * that a producer that dies between reserving and publishing cannot wedge
 * its consumer forever:
 *  - the producer publishes with a CAS (seq: pos -> pos+1), which fails if
 *    the consumer has meanwhile given the position up;
 *  - the consumer can give up an unpublished head position: CAS seq
 *    pos -> pos+capacity (consumed, empty), then move head past it.
 */
static inline int sr_ring_commit_cas(struct sr_ring *r, const struct sr_ring_ref *ref)
{
	struct sr_ring_slot *s = sr_ring_slot_at(r, ref->pos);
	uint64_t expected = ref->pos;
	/* Release pairs with the consumer's acquire of seq, as in commit. */
	return sr_cas(&s->seq, &expected, ref->pos + 1, SR_RELEASE, SR_RELAXED) ? 0 : -ETIMEDOUT;
}

/* The head position if it is reserved by a producer but not published. */
static inline int sr_ring_head_unpublished(struct sr_ring *r, uint64_t *pos)
{
	uint64_t h = sr_load_relaxed(&r->hdr->head);
	/* Acquire pairs with the producers' release of seq. */
	uint64_t seq = sr_load_acquire(&sr_ring_slot_at(r, h)->seq);
	if (seq != h || (int64_t)(sr_load_relaxed(&r->hdr->tail) - h) <= 0)
		return 0;
	*pos = h;
	return 1;
}

/* Give up the unpublished position pos at the head. Other consumers may run
 * meanwhile: the CAS on seq lets one thread give it up (a second one, or a
 * late publish, fails), and until the winner moves head the others see the
 * slot neither published nor free and re-read head (pop's bounded retry). */
static inline int sr_ring_skip(struct sr_ring *r, uint64_t pos)
{
	struct sr_ring_slot *s = sr_ring_slot_at(r, pos);
	uint64_t expected = pos;
	/* Release pairs with the next lap's producer acquire in push_slot. */
	if (!sr_cas(&s->seq, &expected, pos + r->capacity, SR_RELEASE, SR_RELAXED))
		return -EAGAIN; /* published after all */
	expected = pos;
	sr_cas(&r->hdr->head, &expected, pos + 1, SR_RELAXED, SR_RELAXED);
	return 0;
}

/*
 * Pop up to `max` entries (max < 0: everything published, at most capacity)
 * into out[], which holds slot_size bytes per entry. Claims a run of
 * consecutive published positions with one CAS on head. Returns the count,
 * or -EAGAIN when nothing is ready.
 */
int sr_ring_pop_multiple(struct sr_ring *r, void *out, long max);
/* The same with the retries bounded at max_spin (see sr_ring_push_slot_n). */
int sr_ring_pop_multiple_n(struct sr_ring *r, void *out, long max, uint32_t max_spin);

/*
 * Push up to `n` entries from in[] (slot_size bytes each) at consecutive
 * positions, claimed with one CAS on tail: the run of free slots from tail,
 * as pop_multiple claims a run of published ones. Returns how many were
 * pushed (the first ones of in[]), or -EAGAIN when the next slot is not free.
 */
int sr_ring_push_multiple(struct sr_ring *r, const void *in, long n);

/* Push all n, waiting out slots still held by last lap's consumers (see
 * sr_ring_push_wait: only for rings that cannot be logically full). */
static inline void sr_ring_push_multiple_wait(struct sr_ring *r, const void *in, long n)
{
	const unsigned char *p = in;
	for (unsigned int i = 0; n > 0;) {
		int k = sr_ring_push_multiple(r, p, n);
		if (k > 0) {
			p += (size_t)k * r->slot_size;
			n -= k;
			continue;
		}
		if (i++ < 128)
			sr_cpu_relax();
		else
			sched_yield();
	}
}

/* Entries published or reserved and not yet consumed (advisory). */
static inline uint64_t sr_ring_count(const struct sr_ring *r)
{
	uint64_t t = sr_load_relaxed(&r->hdr->tail);
	uint64_t h = sr_load_relaxed(&r->hdr->head);
	return t - h <= r->capacity ? t - h : 0;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The layout of a channel segment (format version 3) and of its lock space.
 * Internal: channel.c uses it, and the tests that play a hostile peer use it
 * to aim their writes. The protocol is described at the top of channel.c.
 *
 * Segment (offsets only, no pointers; every offset below is recomputed from
 * the geometry by each process and must match the header exactly):
 *
 *   struct ch_seg                 geometry, then advisory statistics
 *   struct ch_sender[nsenders]    at senders_off, one cache line each
 *   entry[nentries]               at entries_off, entry_stride apart: a
 *                                 struct ch_entry, then at CH_RING_OFF the
 *                                 entry's ring (src/ring/ring.h) of
 *                                 `capacity` slots of struct ch_payload
 *
 * Lock space: byte-range OFD locks (fcntl F_OFD_SETLK) on the segment file,
 * at offsets that have nothing to do with the bytes stored there (locks are
 * advisory and may lie beyond the end of the file):
 *
 *   CH_LK_REG              the registry lock, held while registering
 *   CH_LK_ENTRY0 + i       held by entry i's receiver while it is registered
 *   CH_LK_SENDER0 + s      held by the handle that owns sender slot s
 */
#ifndef SYSRING_FACE_CHANNEL_LAYOUT_H
#define SYSRING_FACE_CHANNEL_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include <sysring/channel.h>

#include "../core/atomics.h"
#include "../ring/ring.h"

#define CH_MAGIC 0x48435253u /* "SRCH" */
#define CH_VERSION 3
#define CH_MAX_ENTRIES 4096u
#define CH_MAX_CAPACITY (1u << 16)
#define CH_SENDERS 1024u

#define CH_LK_REG 0ull
#define CH_LK_ENTRY0 1ull
#define CH_LK_SENDER0 (CH_LK_ENTRY0 + CH_MAX_ENTRIES)

enum { CH_EMPTY = 0, CH_PENDING = 1, CH_READY = 2 };

struct ch_seg {
	uint32_t magic; /* written last by the creator, before the name exists */
	uint32_t version;
	uint32_t nentries;
	uint32_t capacity;
	uint32_t nsenders;
	uint32_t slot_size; /* sizeof(struct ch_payload) */
	uint32_t entry_stride;
	uint32_t reserved0;
	uint64_t senders_off;
	uint64_t entries_off;
	uint64_t total_bytes;
	uint64_t reserved1[2];
	/* Statistics: advisory, any peer can write them. */
	uint64_t reclaimed sr_aligned_cacheline; /* entries of dead receivers reclaimed */
	uint64_t lost;      /* messages queued to dead receivers, counted at reclaim */
	uint64_t dropped;   /* messages left queued by receivers that unregistered */
	uint64_t abandoned; /* reservations of dead senders given up by receivers */
};

/*
 * A sender slot: the identity a handle puts in the slots it reserves. Owned
 * by whoever holds its lock (CH_LK_SENDER0 + s); each new owner bumps gen.
 * `inside` holds the owner's presence records (the seed's `using`, per
 * sender and per thread): a lane is 0, or entry index + 1 while one of the
 * owner's threads is between "the entry is READY" and "my reservation is
 * recorded" there. One lane per thread inside, so that a stalled thread
 * names only its own entry.
 */
#define CH_LANES 7
struct ch_sender {
	uint32_t gen;
	uint32_t reserved0;
	uint64_t inside[CH_LANES];
};

struct ch_entry {
	/* Read by senders on every message; written at (un)registration. */
	uint32_t state;
	uint32_t rx_owner; /* robust futex word: the receiver's watcher thread id;
			    * the kernel sets FUTEX_OWNER_DIED in it when that
			    * thread dies (a hint only, see channel.c) */
	uint64_t id;
	uint64_t gen; /* bumped by each registration */
	/* Receivers asleep (a count: several threads may receive). */
	uint32_t rx_futex sr_aligned_cacheline;
	uint32_t rx_sleeping;
	/* Senders asleep waiting for room (a flag the receiver clears). */
	uint32_t tx_futex sr_aligned_cacheline;
	uint32_t tx_waiters;
};

/* A slot's payload: the reservation record, then the message. */
struct ch_payload {
	uint32_t tag;   /* low 32 bits of the position the record belongs to */
	uint32_t sgen;  /* the sender slot's generation */
	uint16_t sslot; /* the sender slot */
	uint16_t flags; /* CH_VOID: a reservation given up, no message */
	uint32_t reserved;
	struct sysring_msg msg;
};
#define CH_VOID 1u

#define CH_RING_OFF ((sizeof(struct ch_entry) + 63) & ~(size_t)63)

static inline uint64_t ch_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static inline uint32_t ch_entry_stride(uint32_t capacity)
{
	return (uint32_t)ch_align(CH_RING_OFF + sr_ring_bytes(capacity, sizeof(struct ch_payload)), 64);
}

static inline uint64_t ch_senders_off(void)
{
	return ch_align(sizeof(struct ch_seg), 64);
}

static inline uint64_t ch_entries_off(uint32_t nsenders)
{
	return ch_align(ch_senders_off() + (uint64_t)nsenders * sizeof(struct ch_sender), 64);
}

/* The file's size: rounded up to whole pages (4096 at least), so that the
 * mapping has no partial page past the end of the file. */
static inline uint64_t ch_total_bytes(uint32_t nentries, uint32_t capacity, uint32_t nsenders)
{
	return ch_align(ch_entries_off(nsenders) + (uint64_t)nentries * ch_entry_stride(capacity), 65536);
}

#endif

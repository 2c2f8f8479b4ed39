/* SPDX-License-Identifier: MIT */
/*
 * Channels (seed 002): a registry of receive queues in one shared segment,
 * each queue the same ring as the async core's (src/ring/ring.h), used in
 * memory shared between processes.
 *
 * Segment layout (offsets only, no pointers):
 *   struct ch_seg            geometry, then `magic` written last by the creator
 *   entry[0..nentries)       at entries_off, entry_stride apart; each is a
 *                            struct ch_entry then, at CH_RING_OFF, a ring of
 *                            `capacity` slots of struct ch_payload
 *
 * Every process validates the geometry once, when it maps the segment, and
 * from then on uses only its private copy: a peer that rewrites the header
 * cannot make us index outside the mapping. Entry fields a peer can change
 * (state, id, using, the ring's counters) are read with atomics and checked;
 * a value that cannot be right (an unknown state) makes the entry count as
 * corrupted (-EIO), never followed. Every wait is bounded or has a timeout.
 *
 * The seed's protocol:
 *   register(id):   EMPTY -CAS-> PENDING, format the ring, set id, -> READY
 *   unregister():   READY -CAS-> PENDING, wait for using == 0, -> EMPTY
 *   get_sqe(id):    look up (private cache, always re-validated), using++,
 *                   re-check READY and id, reserve a slot; release publishes
 *                   (CAS commit) and does using--
 * Liveness: the receiver holds a robust, process-shared mutex in its entry
 * while registered (initialised once, by the segment's creator). If its thread dies the kernel marks the mutex
 * owner-dead; register and senders that find the queue full try the mutex
 * (a user-space CAS when it is held: no system call) and reclaim the entry of
 * a dead receiver. A sender that dies between reserving a slot and
 * publishing it leaves its pid in the slot; the receiver gives the position
 * up once it has been stuck CH_STUCK_NS and that pid is gone (a late publish
 * by a live but very slow sender then fails with -ETIMEDOUT instead of
 * corrupting the ring). PIDs can be reused; a reused pid only delays that.
 *
 * Sleeping: the receiver sleeps on rx_futex (a shared futex) after counting
 * itself in rx_sleeping; a sender wakes one sleeper only when rx_sleeping is
 * not zero (Dekker: the sender's publish then full fence then load, the
 * receiver's increment then re-check of the ring). It is a count, not a
 * flag, because several threads may receive on one handle: with a flag, the
 * first one woken cleared it while another still slept, and the next
 * message woke nobody. Senders waiting for room sleep on tx_futex the same
 * way, woken by the receiver after it pops.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sysring/channel.h>

#include "../core/core.h"
#include "../core/futex.h"

#define CH_MAGIC 0x48435253u /* "SRCH" */
#define CH_VERSION 1
#define CH_MAX_ENTRIES 4096
#define CH_MAX_CAPACITY (1u << 16)
#define CH_STUCK_NS (50ull * 1000 * 1000)
#define CH_UNREG_WAIT_NS (1000ull * 1000 * 1000)

enum { CH_EMPTY = 0, CH_PENDING = 1, CH_READY = 2 };

struct ch_seg {
	uint32_t magic;
	uint32_t version;
	uint32_t nentries;
	uint32_t capacity;
	uint32_t slot_size;
	uint32_t entry_stride;
	uint64_t entries_off;
	uint64_t total_bytes;
};

struct ch_entry {
	uint32_t state;
	uint32_t using;
	uint64_t id;
	int32_t pid;
	uint32_t gen;
	uint32_t rx_futex;
	uint32_t rx_sleeping; /* receivers asleep on rx_futex */
	uint32_t tx_futex;
	uint32_t tx_waiting;
	pthread_mutex_t owner; /* robust, process-shared; held by the receiver */
};

struct ch_payload {
	int32_t owner; /* pid of the sender that reserved the slot */
	uint32_t pad;
	struct sysring_msg msg;
};

#define CH_RING_OFF (((sizeof(struct ch_entry)) + 63) & ~(size_t)63)

struct sysring_chan {
	unsigned char *base;
	size_t bytes;
	uint32_t nentries, capacity, stride;
	uint64_t entries_off;
	pid_t pid;
	int my_entry; /* -1: not registered */
	uint64_t my_id;
	uint64_t stuck_pos, stuck_since;
	uint32_t spin_ns; /* UINT32_MAX: the default */
	struct {
		uint64_t id;
		uint32_t entry;
		uint32_t valid;
	} cache[64];
};

static uint32_t entry_stride_for(uint32_t capacity)
{
	size_t b = CH_RING_OFF + sr_ring_bytes(capacity, sizeof(struct ch_payload));
	return (uint32_t)((b + 63) & ~(size_t)63);
}

static struct ch_entry *entry_at(const sysring_chan_t *c, uint32_t i)
{
	return (struct ch_entry *)(c->base + c->entries_off + (size_t)i * c->stride);
}

/* The private view of entry i's ring: geometry from our copy only. */
static void ring_of(const sysring_chan_t *c, uint32_t i, struct sr_ring *r)
{
	unsigned char *mem = (unsigned char *)entry_at(c, i) + CH_RING_OFF;
	size_t all = sr_ring_bytes(c->capacity, sizeof(struct ch_payload));
	r->hdr = (struct sr_ring_hdr *)mem;
	r->slots = mem + sizeof(struct sr_ring_hdr);
	r->capacity = c->capacity;
	r->mask = c->capacity - 1;
	r->stride = (uint32_t)((all - sizeof(struct sr_ring_hdr)) / c->capacity);
	r->slot_size = sizeof(struct ch_payload);
}

static int seg_name(const char *name, char *out, size_t n)
{
	if (!name || !*name || strlen(name) > 200 || strchr(name + 1, '/'))
		return -EINVAL;
	snprintf(out, n, "%s%s", name[0] == '/' ? "" : "/", name);
	return 0;
}

SR_EXPORT int sysring_chan_unlink(const char *name)
{
	char nm[256];
	int r = seg_name(name, nm, sizeof(nm));
	if (r)
		return r;
	return shm_unlink(nm) ? -errno : 0;
}

SR_EXPORT int sysring_chan_set_spin(sysring_chan_t *c, uint32_t ns)
{
	if (!c)
		return -EINVAL;
	c->spin_ns = ns > 10000000u ? 10000000u : ns;
	return 0;
}

SR_EXPORT unsigned int sysring_chan_capacity(const sysring_chan_t *c)
{
	return c ? c->capacity : 0;
}

SR_EXPORT int sysring_chan_open(const char *name, unsigned int entries, unsigned int capacity,
				sysring_chan_t **out)
{
	char nm[256];
	struct stat st;
	struct ch_seg *seg;
	sysring_chan_t *c;
	int fd, created = 0, r;

	if (!out)
		return -EINVAL;
	r = seg_name(name, nm, sizeof(nm));
	if (r)
		return r;
	fd = shm_open(nm, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		created = 1;
		if (!entries || entries > CH_MAX_ENTRIES || capacity < 2 || capacity > CH_MAX_CAPACITY ||
		    (capacity & (capacity - 1))) {
			close(fd);
			shm_unlink(nm);
			return -EINVAL;
		}
		size_t total = 64 + (size_t)entries * entry_stride_for(capacity);
		if (ftruncate(fd, (off_t)total)) {
			r = -errno;
			close(fd);
			shm_unlink(nm);
			return r;
		}
	} else if (errno == EEXIST) {
		fd = shm_open(nm, O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
	} else {
		return -errno;
	}
	/* An opener may race with the creator's ftruncate: wait briefly. */
	for (int i = 0; i < 1000; i++) {
		if (fstat(fd, &st)) {
			r = -errno;
			close(fd);
			return r;
		}
		if (st.st_size >= (off_t)sizeof(struct ch_seg))
			break;
		usleep(1000);
	}
	if (st.st_size < (off_t)sizeof(struct ch_seg)) {
		close(fd);
		return -EINVAL;
	}
	void *base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return -errno;
	seg = base;
	if (created) {
		memset(base, 0, (size_t)st.st_size);
		seg->version = CH_VERSION;
		seg->nentries = entries;
		seg->capacity = capacity;
		seg->slot_size = sizeof(struct ch_payload);
		seg->entry_stride = entry_stride_for(capacity);
		seg->entries_off = 64;
		seg->total_bytes = (uint64_t)st.st_size;
		/* Each entry's owner mutex: robust and process-shared, set up once
		 * here, before the segment is published (magic), and never again. */
		pthread_mutexattr_t ma;
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
		for (uint32_t i = 0; i < entries; i++) {
			struct ch_entry *e = (struct ch_entry *)((unsigned char *)base + 64 +
								 (size_t)i * seg->entry_stride);
			pthread_mutex_init(&e->owner, &ma);
		}
		pthread_mutexattr_destroy(&ma);
		/* Release pairs with the openers' acquire of magic. */
		sr_store_release(&seg->magic, CH_MAGIC);
	} else {
		int ok = 0;
		for (int i = 0; i < 1000 && !ok; i++) {
			/* Acquire pairs with the creator's release of magic. */
			ok = sr_load_acquire(&seg->magic) == CH_MAGIC;
			if (!ok)
				usleep(1000);
		}
		if (!ok) {
			munmap(base, (size_t)st.st_size);
			return -EINVAL;
		}
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		munmap(base, (size_t)st.st_size);
		return -ENOMEM;
	}
	/* Validate once; from here on only these copies are used. */
	c->nentries = sr_load_relaxed(&seg->nentries);
	c->capacity = sr_load_relaxed(&seg->capacity);
	c->stride = sr_load_relaxed(&seg->entry_stride);
	c->entries_off = sr_load_relaxed(&seg->entries_off);
	if (sr_load_relaxed(&seg->version) != CH_VERSION || !c->nentries || c->nentries > CH_MAX_ENTRIES ||
	    c->capacity < 2 || c->capacity > CH_MAX_CAPACITY || (c->capacity & (c->capacity - 1)) ||
	    sr_load_relaxed(&seg->slot_size) != sizeof(struct ch_payload) ||
	    c->stride != entry_stride_for(c->capacity) || c->entries_off != 64 ||
	    c->entries_off + (uint64_t)c->nentries * c->stride > (uint64_t)st.st_size) {
		munmap(base, (size_t)st.st_size);
		free(c);
		return -EINVAL;
	}
	c->base = base;
	c->bytes = (size_t)st.st_size;
	c->pid = getpid();
	c->my_entry = -1;
	c->spin_ns = UINT32_MAX;
	*out = c;
	return 0;
}

SR_EXPORT void sysring_chan_close(sysring_chan_t *c)
{
	if (!c)
		return;
	if (c->my_entry >= 0)
		sysring_unregister(c);
	munmap(c->base, c->bytes);
	free(c);
}

/* ---- liveness and reclaiming ---- */

static int check_state(uint32_t st)
{
	return st == CH_EMPTY || st == CH_PENDING || st == CH_READY;
}

enum { CH_ALIVE, CH_DEAD, CH_CORRUPT };

/*
 * Is the receiver of the READY entry e alive? Takes and releases its owner
 * mutex if the owner is gone. The entry may be unregistered and registered
 * again while we look (our trylock can even succeed on the new
 * registration's mutex before it locks it), so a "dead" verdict holds only
 * if the entry is still READY with the generation we started with; *gen
 * returns that generation for reclaim.
 */
static int receiver_state(struct ch_entry *e, uint32_t *gen)
{
	/* Acquires pair with register's gen++ then release of READY. */
	uint32_t g = sr_load_acquire(&e->gen);
	if (sr_load_acquire(&e->state) != CH_READY)
		return CH_ALIVE; /* nothing to reclaim */
	int r = pthread_mutex_trylock(&e->owner);
	if (r == EBUSY)
		return CH_ALIVE;
	if (r == EOWNERDEAD)
		pthread_mutex_consistent(&e->owner);
	else if (r != 0)
		return CH_CORRUPT;
	pthread_mutex_unlock(&e->owner);
	if (sr_load_acquire(&e->state) != CH_READY || sr_load_acquire(&e->gen) != g)
		return CH_ALIVE; /* registered again meanwhile */
	*gen = g;
	return CH_DEAD;
}

/* READY (of a dead receiver of generation gen) -> PENDING -> EMPTY. Senders
 * caught inside get a bounded grace period; a dead sender's using count is
 * then forgotten. */
static void reclaim(struct ch_entry *e, uint32_t gen)
{
	uint32_t st = CH_READY;
	if (sr_load_acquire(&e->gen) != gen)
		return; /* a new registration: not ours to take */
	/* State CASes are acq_rel: each transition pairs with the previous
	 * one's release (register's READY, reclaim/unregister's EMPTY). */
	if (!sr_cas(&e->state, &st, CH_PENDING, SR_ACQ_REL, SR_RELAXED))
		return; /* someone else is reclaiming or it changed */
	if (sr_load_acquire(&e->gen) != gen) {
		/* Lost a race with a re-registration after all: give it back. */
		sr_store_release(&e->state, CH_READY);
		return;
	}
	uint64_t end = sr_now_ns() + CH_STUCK_NS;
	/* Acquire pairs with the senders' release decrement of using. */
	while (sr_load_acquire(&e->using) && sr_now_ns() < end)
		usleep(100);
	sr_store_relaxed(&e->using, 0);
	/* The receiver's process is dead, and its threads asleep with it. */
	sr_store_relaxed(&e->rx_sleeping, 0);
	/* Senders waiting for room learn it is gone. */
	sr_fetch_add(&e->tx_futex, 1, SR_SEQ_CST);
	sr_futex_wake(&e->tx_futex, INT_MAX, true);
	/* Release: the cleared entry is seen before EMPTY. */
	sr_store_release(&e->state, CH_EMPTY);
}

SR_EXPORT int sysring_register(sysring_chan_t *c, uint64_t id)
{
	struct sr_ring_hdr *rh;
	int mine = -1;

	if (!c)
		return -EINVAL;
	if (c->my_entry >= 0)
		return -EBUSY;
	/* An id held by a live receiver is taken; one held by a dead one is
	 * reclaimed first. */
	for (uint32_t i = 0; i < c->nentries; i++) {
		struct ch_entry *e = entry_at(c, i);
		uint32_t st = sr_load_acquire(&e->state);
		if (!check_state(st))
			continue; /* corrupted: never followed, never taken */
		if (st == CH_READY && sr_load_relaxed(&e->id) == id) {
			uint32_t g;
			int rs = receiver_state(e, &g);
			if (rs == CH_ALIVE)
				return -EEXIST;
			if (rs == CH_DEAD)
				reclaim(e, g);
		}
	}
	for (uint32_t i = 0; i < c->nentries && mine < 0; i++) {
		struct ch_entry *e = entry_at(c, i);
		uint32_t st = CH_EMPTY, g;
		/* acq_rel: pairs with the release of EMPTY by unregister/reclaim. */
		if (sr_cas(&e->state, &st, CH_PENDING, SR_ACQ_REL, SR_RELAXED)) {
			mine = (int)i;
		} else if (st == CH_READY && receiver_state(e, &g) == CH_DEAD) {
			reclaim(e, g); /* a dead receiver's entry: then try it again */
			st = CH_EMPTY;
			if (sr_cas(&e->state, &st, CH_PENDING, SR_ACQ_REL, SR_RELAXED))
				mine = (int)i;
		}
	}
	if (mine < 0)
		return -ENOSPC;
	struct ch_entry *e = entry_at(c, (uint32_t)mine);
	/* The mutex was initialised once with the segment and is never
	 * re-initialised (an observer may hold it for an instant right now). */
	int lr = pthread_mutex_lock(&e->owner);
	if (lr == EOWNERDEAD)
		pthread_mutex_consistent(&e->owner);
	else if (lr) {
		sr_store_release(&e->state, CH_EMPTY); /* a corrupted mutex: give up */
		return -EIO;
	}
	rh = (struct sr_ring_hdr *)((unsigned char *)e + CH_RING_OFF);
	sr_ring_format(rh, sr_ring_bytes(c->capacity, sizeof(struct ch_payload)), c->capacity,
		       sizeof(struct ch_payload));
	sr_store_relaxed(&e->id, id);
	sr_store_relaxed(&e->pid, c->pid);
	sr_store_relaxed(&e->using, 0);
	/* rx_sleeping and tx_waiting are left alone: every sleeper takes out
	 * exactly what it put in, across registrations (a reset here made a
	 * late sleeper of the previous registration take the new one's
	 * count). Only reclaim, after a receiver died, clears rx_sleeping. */
	sr_fetch_add(&e->gen, 1, SR_RELAXED);
	/* Release pairs with the senders' acquire of state: a sender that sees
	 * READY sees the formatted ring and the id. */
	sr_store_release(&e->state, CH_READY);
	/* Two registrations of one id that raced: the lower entry wins. */
	uint32_t og;
	for (uint32_t i = 0; i < (uint32_t)mine; i++) {
		struct ch_entry *o = entry_at(c, i);
		if (sr_load_acquire(&o->state) == CH_READY && sr_load_relaxed(&o->id) == id &&
		    receiver_state(o, &og) == CH_ALIVE) {
			c->my_entry = mine;
			sysring_unregister(c);
			return -EEXIST;
		}
	}
	c->my_id = id;
	sr_store_relaxed(&c->my_entry, mine);
	c->stuck_since = 0;
	return 0;
}

SR_EXPORT int sysring_unregister(sysring_chan_t *c)
{
	struct ch_entry *e;
	uint32_t st = CH_READY;

	int mine = c ? sr_load_relaxed(&c->my_entry) : -1;
	if (mine < 0)
		return -EINVAL;
	e = entry_at(c, (uint32_t)mine);
	/* Relaxed atomic: other threads of this handle may be receiving. */
	sr_store_relaxed(&c->my_entry, -1);
	/* Those asleep in sysring_recv wake, find the handle unregistered and
	 * return -EINVAL (each takes its own count out of rx_sleeping). */
	sr_fetch_add(&e->rx_futex, 1, SR_SEQ_CST);
	sr_futex_wake(&e->rx_futex, INT_MAX, true);
	/* acq_rel: pairs with register's release of READY. */
	if (!sr_cas(&e->state, &st, CH_PENDING, SR_ACQ_REL, SR_RELAXED))
		return -EIO; /* someone took our entry from us: corrupted */
	uint64_t end = sr_now_ns() + CH_UNREG_WAIT_NS;
	/* Acquire pairs with the senders' release decrement of using. */
	while (sr_load_acquire(&e->using) && sr_now_ns() < end)
		usleep(50);
	sr_store_relaxed(&e->using, 0);
	pthread_mutex_unlock(&e->owner);
	sr_fetch_add(&e->tx_futex, 1, SR_SEQ_CST);
	sr_futex_wake(&e->tx_futex, INT_MAX, true);
	sr_store_release(&e->state, CH_EMPTY);
	return 0;
}

/* ---- senders ---- */

static int lookup(sysring_chan_t *c, uint64_t id, uint32_t *idx)
{
	unsigned int h = (unsigned int)((id * 0x9e3779b97f4a7c15ull) >> 58);
	if (c->cache[h].valid && c->cache[h].id == id && c->cache[h].entry < c->nentries) {
		struct ch_entry *e = entry_at(c, c->cache[h].entry);
		/* Acquire pairs with register's release of READY. */
		if (sr_load_acquire(&e->state) == CH_READY && sr_load_relaxed(&e->id) == id) {
			*idx = c->cache[h].entry;
			return 0;
		}
	}
	for (uint32_t i = 0; i < c->nentries; i++) {
		struct ch_entry *e = entry_at(c, i);
		/* Acquire pairs with register's release of READY. */
		if (sr_load_acquire(&e->state) == CH_READY && sr_load_relaxed(&e->id) == id) {
			c->cache[h].id = id;
			c->cache[h].entry = i;
			c->cache[h].valid = 1;
			*idx = i;
			return 0;
		}
	}
	return -ENOENT;
}

SR_EXPORT int sysring_get_sqe(sysring_chan_t *c, uint64_t id, struct sysring_chan_sqe *sqe)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct sr_ring ring;
		struct sr_ring_ref ref;
		uint32_t i;
		int r;

		if (!c || !sqe)
			return -EINVAL;
		r = lookup(c, id, &i);
		if (r)
			return r;
		struct ch_entry *e = entry_at(c, i);
		/* seq_cst: unregister's state change and our using++ are a
		 * Dekker pair; whichever comes second sees the other. */
		__atomic_fetch_add(&e->using, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&e->state, __ATOMIC_SEQ_CST) != CH_READY || sr_load_relaxed(&e->id) != id) {
			/* Release pairs with unregister's acquire of using. */
			sr_fetch_sub(&e->using, 1, SR_RELEASE);
			continue; /* changed under us: look it up again */
		}
		ring_of(c, i, &ring);
		r = sr_ring_push_slot(&ring, &ref);
		if (r) {
			/* Release pairs with unregister's acquire of using. */
			sr_fetch_sub(&e->using, 1, SR_RELEASE);
			/* Full: is anybody still draining it? */
			uint32_t g;
			if (receiver_state(e, &g) == CH_DEAD) {
				reclaim(e, g);
				return -ENOENT;
			}
			return -EAGAIN;
		}
		struct ch_payload *pl = ref.data;
		sr_store_relaxed(&pl->owner, c->pid);
		sqe->msg = &pl->msg;
		sqe->pos_ = ref.pos;
		sqe->entry_ = i;
		sqe->gen_ = sr_load_relaxed(&e->gen);
		return 0;
	}
	return -ENOENT;
}

SR_EXPORT int sysring_sqe_release(sysring_chan_t *c, struct sysring_chan_sqe *sqe)
{
	struct sr_ring ring;
	struct sr_ring_ref ref;
	struct ch_entry *e;
	int r;

	if (!c || !sqe || sqe->entry_ >= c->nentries)
		return -EINVAL;
	e = entry_at(c, sqe->entry_);
	ring_of(c, sqe->entry_, &ring);
	ref.pos = sqe->pos_;
	ref.data = NULL;
	r = sr_ring_commit_cas(&ring, &ref);
	/* Release pairs with unregister's acquire of using. */
	sr_fetch_sub(&e->using, 1, SR_RELEASE);
	sr_smp_mb(); /* Dekker with the receiver's rx_sleeping increment then re-check */
	if (sr_load_relaxed(&e->rx_sleeping)) {
		sr_fetch_add(&e->rx_futex, 1, SR_RELEASE);
		sr_futex_wake(&e->rx_futex, 1, true);
	}
	return r;
}

SR_EXPORT int sysring_send(sysring_chan_t *c, uint64_t id, const struct sysring_msg *msg)
{
	struct sysring_chan_sqe sqe;
	int r;

	if (!msg)
		return -EINVAL;
	r = sysring_get_sqe(c, id, &sqe);
	if (r)
		return r;
	memcpy(sqe.msg, msg, sizeof(*msg));
	return sysring_sqe_release(c, &sqe);
}

SR_EXPORT int sysring_get_sqe_wait(sysring_chan_t *c, uint64_t id, struct sysring_chan_sqe *sqe,
				   const struct timespec *timeout)
{
	struct timespec dl, *dlp = NULL;
	uint32_t i;

	if (timeout) {
		sr_deadline_from_rel(&dl, timeout);
		dlp = &dl;
	}
	for (;;) {
		int r = sysring_get_sqe(c, id, sqe);
		if (r != -EAGAIN)
			return r;
		if (lookup(c, id, &i))
			return -ENOENT;
		struct ch_entry *e = entry_at(c, i);
		/* Acquire pairs with the receiver's increment of tx_futex. */
		uint32_t key = sr_load_acquire(&e->tx_futex);
		__atomic_fetch_add(&e->tx_waiting, 1, __ATOMIC_SEQ_CST);
		r = sysring_get_sqe(c, id, sqe);
		if (r != -EAGAIN) {
			sr_fetch_sub(&e->tx_waiting, 1, SR_RELAXED);
			return r;
		}
		/* Also look again every CH_STUCK_NS: the receiver may die. */
		struct timespec step, *w = dlp;
		struct timespec rel = {0, (long)CH_STUCK_NS};
		sr_deadline_from_rel(&step, &rel);
		if (!dlp || step.tv_sec < dl.tv_sec || (step.tv_sec == dl.tv_sec && step.tv_nsec < dl.tv_nsec))
			w = &step;
		r = sr_futex_wait(&e->tx_futex, key, w, true);
		sr_fetch_sub(&e->tx_waiting, 1, SR_RELAXED);
		if (r == -EINTR)
			return -EINTR;
		if (dlp && sr_deadline_passed(dlp))
			return -ETIMEDOUT;
	}
}

/* ---- the receiver ---- */

static void wake_senders(struct ch_entry *e)
{
	if (__atomic_load_n(&e->tx_waiting, __ATOMIC_SEQ_CST)) {
		/* Release pairs with the waiting sender's acquire of tx_futex. */
		sr_fetch_add(&e->tx_futex, 1, SR_RELEASE);
		sr_futex_wake(&e->tx_futex, INT_MAX, true);
	}
}

static bool pid_alive(int32_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* The head is reserved but unpublished: give it up if its sender is gone
 * and it has been stuck long enough. Returns true if it skipped. */
static bool unstick(sysring_chan_t *c, struct sr_ring *ring)
{
	/* Several threads may receive on one handle: stuck_pos/stuck_since
	 * are relaxed atomics, and a race between them only moves the moment
	 * a position is given up (sr_ring_skip itself is a CAS: one wins). */
	uint64_t pos;
	if (!sr_ring_head_unpublished(ring, &pos)) {
		sr_store_relaxed(&c->stuck_since, 0);
		return false;
	}
	uint64_t now = sr_now_ns();
	uint64_t since = sr_load_relaxed(&c->stuck_since);
	if (!since || sr_load_relaxed(&c->stuck_pos) != pos) {
		sr_store_relaxed(&c->stuck_pos, pos);
		sr_store_relaxed(&c->stuck_since, now);
		return false;
	}
	if (now - since < CH_STUCK_NS)
		return false;
	struct ch_payload *pl = (struct ch_payload *)sr_ring_slot_at(ring, pos)->data;
	if (pid_alive(sr_load_relaxed(&pl->owner)))
		return false; /* slow, not dead */
	sr_store_relaxed(&c->stuck_since, 0);
	return sr_ring_skip(ring, pos) == 0;
}

SR_EXPORT int sysring_pop_multiple(sysring_chan_t *c, struct sysring_msg *out, long max)
{
	struct ch_payload tmp[32];
	struct sr_ring ring;
	struct ch_entry *e;
	long got = 0;

	if (!c || !out || max == 0 || max < -1)
		return max == 0 && c && out ? 0 : -EINVAL;
	int mine = sr_load_relaxed(&c->my_entry);
	if (mine < 0)
		return -EINVAL;
	e = entry_at(c, (uint32_t)mine);
	/* Acquire pairs with register's release of READY (our own). */
	if (sr_load_acquire(&e->state) != CH_READY || sr_load_relaxed(&e->id) != c->my_id)
		return -EIO; /* our entry was changed by someone else */
	ring_of(c, (uint32_t)mine, &ring);
	long limit = max < 0 ? (long)c->capacity : max;
	for (int round = 0; got < limit && round < 4; round++) {
		long want = limit - got < 32 ? limit - got : 32;
		int n = sr_ring_pop_multiple(&ring, tmp, want);
		if (n == -EAGAIN) {
			if (got || !unstick(c, &ring))
				break;
			continue;
		}
		for (int k = 0; k < n; k++)
			memcpy(&out[got + k], &tmp[k].msg, sizeof(struct sysring_msg));
		got += n;
		if (n < want)
			break;
	}
	if (got)
		wake_senders(e);
	return got ? (int)got : -EAGAIN;
}

SR_EXPORT int sysring_pop(sysring_chan_t *c, struct sysring_msg *out)
{
	int r = sysring_pop_multiple(c, out, 1);
	return r > 0 ? 0 : r;
}

/* A receiver is no longer asleep: take out its own count. Saturating,
 * since reclaim clears the count and a peer may write anything here; a
 * wrong count only costs or saves a wake-up. */
static void rx_awake(struct ch_entry *e)
{
	uint32_t v = sr_load_relaxed(&e->rx_sleeping);
	while (v && !sr_cas_weak(&e->rx_sleeping, &v, v - 1, SR_RELAXED, SR_RELAXED))
		;
}

/* How long sysring_recv polls before it sleeps: SYSRING_CHAN_SPIN_NS, or
 * CH_SPIN_NS (measured: docs/channels.md). */
#define CH_SPIN_NS 20000u
static uint32_t chan_spin_ns(void)
{
	static uint32_t v = UINT32_MAX;
	uint32_t cur = sr_load_relaxed(&v);
	if (cur == UINT32_MAX) {
		const char *env = getenv("SYSRING_CHAN_SPIN_NS");
		cur = env ? (uint32_t)strtoul(env, NULL, 10) : CH_SPIN_NS;
		if (cur > 10000000u)
			cur = 10000000u;
		sr_store_relaxed(&v, cur);
	}
	return cur;
}

SR_EXPORT int sysring_recv(sysring_chan_t *c, struct sysring_msg *out, long max,
			   const struct timespec *timeout)
{
	struct timespec dl, *dlp = NULL;
	struct sr_ring ring;
	struct ch_entry *e;

	if (!c || sr_load_relaxed(&c->my_entry) < 0)
		return -EINVAL;
	if (timeout) {
		sr_deadline_from_rel(&dl, timeout);
		dlp = &dl;
	}
	uint64_t spin_until = 0;
	for (;;) {
		int r = sysring_pop_multiple(c, out, max);
		if (r != -EAGAIN)
			return r;
		/* Poll a little before sleeping: a wake-up costs a system call
		 * on the sender and a context switch here (docs/channels.md).
		 * The clock is read only once the queue is found empty: a
		 * receiver that keeps up calls this for a few messages at a
		 * time, and the read would cost as much as the messages. */
		if (!spin_until)
			spin_until = sr_now_ns() + (c->spin_ns == UINT32_MAX ? chan_spin_ns() : c->spin_ns);
		if (sr_now_ns() < spin_until) {
			for (int i = 0; i < 64; i++)
				sr_cpu_relax();
			continue;
		}
		int mine = sr_load_relaxed(&c->my_entry);
		if (mine < 0)
			return -EINVAL; /* unregistered by another thread */
		e = entry_at(c, (uint32_t)mine);
		ring_of(c, (uint32_t)mine, &ring);
		/* Acquire pairs with the sender's increment of rx_futex. */
		uint32_t key = sr_load_acquire(&e->rx_futex);
		__atomic_fetch_add(&e->rx_sleeping, 1, __ATOMIC_SEQ_CST);
		sr_smp_mb(); /* Dekker with sysring_sqe_release */
		/* Something to pop, unless the head is only reserved: then we
		 * sleep counted, so that its sender's release (publish, fence,
		 * load of rx_sleeping) wakes us at once, or our look at the
		 * head after the increment sees it published. The 50 ms step
		 * below is for a sender that died holding it. */
		uint64_t hpos;
		if (sr_ring_count(&ring) &&
		    (!sr_load_relaxed(&c->stuck_since) || !sr_ring_head_unpublished(&ring, &hpos))) {
			rx_awake(e);
			continue;
		}
		if (sr_load_relaxed(&c->my_entry) < 0) {
			rx_awake(e); /* unregistered meanwhile: its wake-up may be past */
			return -EINVAL;
		}
		/* While a position is stuck, look again when it may be given up. */
		struct timespec step, *w = dlp;
		if (sr_load_relaxed(&c->stuck_since)) {
			struct timespec rel = {0, (long)CH_STUCK_NS};
			sr_deadline_from_rel(&step, &rel);
			if (!dlp || step.tv_sec < dl.tv_sec || (step.tv_sec == dl.tv_sec && step.tv_nsec < dl.tv_nsec))
				w = &step;
		}
		r = sr_futex_wait(&e->rx_futex, key, w, true);
		rx_awake(e);
		if (r == -EINTR)
			return -EINTR;
		if (dlp && sr_deadline_passed(dlp)) {
			r = sysring_pop_multiple(c, out, max);
			return r == -EAGAIN ? -ETIMEDOUT : r;
		}
	}
}

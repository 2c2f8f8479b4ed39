/* SPDX-License-Identifier: MIT */
/*
 * sysring — channels (seed 002): message passing between processes over
 * shared-memory rings, with the seed's registry of receive queues.
 *
 * A channel segment (named, in /dev/shm) holds a fixed registry of entries;
 * each has an atomic state (EMPTY / PENDING / READY), an id, an atomic
 * `using` count and a multi-producer ring of fixed-size messages. A process
 * registers an id to receive; anyone with the segment mapped posts to that
 * id without a system call: sysring_get_sqe reserves a slot, the caller
 * fills it in place, sysring_sqe_release publishes it (no separate submit).
 * Receivers pop one, pop many, or wait on a futex in the segment, woken by a
 * sender only when they sleep.
 *
 * All functions return 0 / a count, or -errno. The segment is untrusted
 * memory: whatever a peer writes into it costs at most an error
 * (-EIO for a corrupted entry), never a crash or an endless loop here.
 */
#ifndef SYSRING_CHANNEL_H
#define SYSRING_CHANNEL_H

#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Under strict C99 <time.h> does not define struct timespec (it is POSIX and
 * C11); declaring it here keeps the prototypes below from declaring a new
 * struct scoped to their parameter lists. */
struct timespec;

#ifndef SYSRING_API
#define SYSRING_API __attribute__((visibility("default")))
#endif

/* A message: 80 bytes, of which 64 are payload. */
struct sysring_msg {
	uint64_t sender;     /* the sender's id (as it chooses to say) */
	uint32_t type;
	uint32_t reply_type;
	uint64_t payload[8];
};

typedef struct sysring_chan sysring_chan_t;

/* A reserved slot: fill *msg, then sysring_sqe_release. */
struct sysring_chan_sqe {
	struct sysring_msg *msg;
	uint64_t pos_;     /* private */
	uint32_t entry_;   /* private */
	uint32_t gen_;     /* private */
};

/*
 * Open (creating if needed) the segment `name` ("/..." or a plain name, in
 * /dev/shm), with `entries` receive queues of `capacity` messages each
 * (power of two) when it is created; an existing segment keeps its own
 * geometry. -EINVAL (bad arguments or a segment that is not a valid
 * channel segment), -errno from shm_open/mmap.
 */
SYSRING_API int sysring_chan_open(const char *name, unsigned int entries, unsigned int capacity,
				  sysring_chan_t **out);
/* Unmap; unregisters this handle's receive queue first if it has one. */
SYSRING_API void sysring_chan_close(sysring_chan_t *c);
SYSRING_API int sysring_chan_unlink(const char *name);

/*
 * Register this handle (its calling thread: the registration is tied to
 * it and reclaimed if it dies; unregister from the same thread) as the
 * receiver for `id`. -EEXIST if a live
 * receiver has the id, -ENOSPC if no entry is free, -EBUSY if this handle is
 * registered already. Entries of dead receivers are reclaimed here.
 */
SYSRING_API int sysring_register(sysring_chan_t *c, uint64_t id);
/* Stop receiving: PENDING, wait for senders to leave, EMPTY. */
SYSRING_API int sysring_unregister(sysring_chan_t *c);

/* Reserve a slot in receiver `id`'s queue. -ENOENT (no such receiver, or
 * it died), -EAGAIN (queue full), -EIO (corrupted entry). */
SYSRING_API int sysring_get_sqe(sysring_chan_t *c, uint64_t id, struct sysring_chan_sqe *sqe);
/* The same, waiting up to `timeout` (NULL: forever) for room: -ETIMEDOUT. */
SYSRING_API int sysring_get_sqe_wait(sysring_chan_t *c, uint64_t id, struct sysring_chan_sqe *sqe,
				     const struct timespec *timeout);
/* Publish a reserved slot (wakes the receiver if it sleeps). -ETIMEDOUT if
 * the slot was reclaimed meanwhile (the sender was presumed dead). */
SYSRING_API int sysring_sqe_release(sysring_chan_t *c, struct sysring_chan_sqe *sqe);
/* get_sqe + copy + release. */
SYSRING_API int sysring_send(sysring_chan_t *c, uint64_t id, const struct sysring_msg *msg);

/* This handle's queue: one message (-EAGAIN if none), up to `max`
 * (-1: all available; the array must hold the queue's capacity), or wait up
 * to `timeout` (NULL: forever) for at least one (-ETIMEDOUT, -EINTR).
 * Several threads may receive on one handle at once: each message goes to
 * exactly one of them, and each message sent wakes one that sleeps. */
SYSRING_API int sysring_pop(sysring_chan_t *c, struct sysring_msg *out);
SYSRING_API int sysring_pop_multiple(sysring_chan_t *c, struct sysring_msg *out, long max);
SYSRING_API int sysring_recv(sysring_chan_t *c, struct sysring_msg *out, long max,
			     const struct timespec *timeout);

/* How long sysring_recv polls before sleeping on its futex (default 20 us,
 * or SYSRING_CHAN_SPIN_NS); 0: sleep at once. */
SYSRING_API int sysring_chan_set_spin(sysring_chan_t *c, uint32_t ns);

/* Geometry of the segment (for sizing arrays). */
SYSRING_API unsigned int sysring_chan_capacity(const sysring_chan_t *c);

#ifdef __cplusplus
}
#endif

#endif

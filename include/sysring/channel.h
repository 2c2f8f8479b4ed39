/* SPDX-License-Identifier: MIT */
/*
 * sysring — channels (seed 002): message passing between processes over
 * shared-memory rings, with the seed's registry of receive queues.
 *
 * A channel segment (named, in /dev/shm) holds a fixed registry of entries;
 * each has an atomic state (EMPTY / PENDING / READY), an id and a
 * multi-producer ring of fixed-size messages. A process registers an id to
 * receive; anyone with the segment open posts to that id without a system
 * call: sysring_get_sqe reserves a slot, the caller fills it in place,
 * sysring_sqe_release publishes it (no separate submit). Receivers pop one,
 * pop many, or wait on a futex in the segment, woken by a sender only when
 * they sleep.
 *
 * All functions return 0 / a count, or -errno. The segment is untrusted
 * memory: whatever a peer writes into it (or a truncation of its file)
 * costs at most an error (-EIO for a corrupted entry or segment), never a
 * crash, a hang past a timeout, or a write outside the segment. Liveness is
 * decided by the kernel (locks on the segment file), not by pids: a dead
 * receiver or sender is recognised across pid namespaces, fork and zombies,
 * and a live one is never taken for dead. A handle belongs to the process
 * that opened it: in a fork child (fork, _Fork, clone without CLONE_VM)
 * every call on an inherited handle fails with -EINVAL (but
 * sysring_chan_set_spin and sysring_chan_capacity, which touch only the
 * handle itself), closing it there leaves the parent's registration alone,
 * and the child never holds the parent's locks. The library starts one
 * thread per process (the keeper, all signals blocked) that holds the lock
 * descriptions in a private fd table.
 * See docs/channels.md for the protocol and its bounds.
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
 * Open the segment `name` ("/name" or "name", in /dev/shm; no other '/'),
 * creating it if it does not exist with `entries` receive queues (1..4096)
 * of `capacity` messages each (a power of two, 2..65536); an existing
 * segment keeps its own geometry and the two are ignored. A segment is
 * created complete or not at all (formatted before its name appears), with
 * all its memory allocated up front; a failed open (any error) leaves no
 * segment behind. sysring_chan_open creates it with mode 0600;
 * sysring_chan_open_mode with `mode` (permission bits 0..0777, less the
 * umask, as open(2)), which must give the owner read and write (0600: peers
 * need both); any other bit, or a mode without 0600, is -EINVAL. The first open installs a
 * SIGBUS handler (chaining to the one it replaces for any other address) so
 * that a peer truncating the file costs -EIO, not a crash; a program that
 * installs its own SIGBUS handler later should chain to the previous one.
 * Not covered: a thread that has SIGBUS blocked when it touches a truncated
 * segment (the kernel then forces the fault's default action, death; no
 * handler can run), see docs/channels.md.
 * Errors: -EINVAL (out NULL; a bad name: NULL, empty, over 200 characters,
 * "." or "..", a '/' after the first character; a mode with bits outside
 * 0777 or without 0600; a bad geometry when creating; an existing file
 * that is not a valid channel segment), -ENOSPC (/dev/shm has no room for
 * it; also -EDQUOT, -EFBIG), -EACCES, -EMFILE (the descriptor limit, or
 * 4096 channel handles open), -ENOMEM, -EAGAIN (others created and removed
 * the name under us eight times), and other -errno from
 * open/ftruncate/mmap. A failed open leaves no segment behind.
 */
SYSRING_API int sysring_chan_open(const char *name, unsigned int entries, unsigned int capacity,
				  sysring_chan_t **out);
SYSRING_API int sysring_chan_open_mode(const char *name, unsigned int entries, unsigned int capacity,
				       unsigned int mode, sysring_chan_t **out);
/* Unregister this handle's receive queue if it has one, give up its sender
 * identity (its unreleased reservations are given up by their receivers),
 * unmap. In a fork child: only frees this process's copy. */
SYSRING_API void sysring_chan_close(sysring_chan_t *c);
/* Remove the name (peers that have it open keep using it). 0, -ENOENT,
 * -EINVAL (a bad name, as for sysring_chan_open), other -errno of unlink. */
SYSRING_API int sysring_chan_unlink(const char *name);

/*
 * Register this handle as the receiver for `id`. The registration belongs
 * to the process (any of its threads may receive or unregister) and ends
 * when it unregisters, closes the handle, execs or dies; a dead receiver's
 * entry is reclaimed by a later registration (its id or its entry), and the
 * messages still queued to it are counted (sysring_chan_stats: lost).
 * Starts a watcher thread per handle (all signals blocked; it only sleeps)
 * through which the kernel tells senders at once that the receiver died.
 * -EEXIST a live receiver has the id; -ENOSPC no entry is free; -EBUSY this
 * handle is registered already; -EAGAIN the registry stayed locked for
 * 500 ms (a peer holding it); -EINVAL (c NULL, fork child), -EIO (segment
 * truncated), -ENOMEM, -errno from pthread_create or set_robust_list (the
 * watcher thread).
 */
SYSRING_API int sysring_register(sysring_chan_t *c, uint64_t id);
/* Stop receiving: senders get -ENOENT from now on, threads asleep in
 * sysring_recv on this handle return -EINVAL. Waits at most 100 ms for live
 * senders holding reservations in the queue (their releases then fail with
 * -ENOENT); if one is still there the entry stays out of use until it is
 * gone. Messages not popped are dropped (sysring_chan_stats: dropped).
 * -EINVAL c NULL, not registered, or a fork child; -EIO the entry was
 * overwritten by a peer, or the segment truncated (the registration ends
 * all the same). */
SYSRING_API int sysring_unregister(sysring_chan_t *c);
/* 0 if a live receiver has registered `id`, -ENOENT if none has (or it
 * died). Asks the kernel: a system call, for occasional checks (a peer
 * that stopped answering), not for every message. -EINVAL, -EIO. */
SYSRING_API int sysring_lookup(sysring_chan_t *c, uint64_t id);

/* Reserve a slot in receiver `id`'s queue; never blocks. -ENOENT no such
 * receiver, or it died (detected at once: the kernel marks its entry when it
 * dies; within 1 ms if a peer wiped that mark: the sender asks the kernel
 * at least once a millisecond); -EAGAIN queue full (or more than 7 threads
 * of this handle inside get_sqe at the same instant, or stopped there); -ENOSPC more than 1024 handles send on this
 * segment; -EINVAL (bad arguments, fork child), -EIO (corrupted). */
SYSRING_API int sysring_get_sqe(sysring_chan_t *c, uint64_t id, struct sysring_chan_sqe *sqe);
/* The same, waiting up to `timeout` (relative; NULL or a timeout too large
 * to represent: no limit) for room. -ETIMEDOUT, -EINTR (a signal handler
 * without SA_RESTART ran; with SA_RESTART the wait goes on, as a blocking
 * read(2) on a pipe would), -EINVAL (tv_sec < 0 or tv_nsec
 * outside 0..999999999), and get_sqe's errors: a receiver that dies while
 * we wait is -ENOENT within 20 ms. */
SYSRING_API int sysring_get_sqe_wait(sysring_chan_t *c, uint64_t id, struct sysring_chan_sqe *sqe,
				     const struct timespec *timeout);
/* Publish a reserved slot (wakes the receiver if it sleeps). 0: the message
 * is in the queue of the registration the slot was reserved in (a receiver
 * that then unregisters or dies before popping it drops it, counted in
 * sysring_chan_stats). -ENOENT: the receiver unregistered or died since the
 * reservation; the message was not delivered (nothing reaches a later
 * registration of the id). -ETIMEDOUT: the slot is no longer reserved (it
 * was released already, or a receiver gave it up: only after a peer wrote
 * over the segment); nothing was published or touched. -EINVAL: not a
 * reservation of this handle. */
SYSRING_API int sysring_sqe_release(sysring_chan_t *c, struct sysring_chan_sqe *sqe);
/* get_sqe + copy + release. */
SYSRING_API int sysring_send(sysring_chan_t *c, uint64_t id, const struct sysring_msg *msg);

/* This handle's queue: sysring_pop takes one message (0, or -EAGAIN if
 * none); sysring_pop_multiple up to `max` (-1: all available; the array
 * must hold the queue's capacity; a count above INT_MAX is INT_MAX): the
 * count, 0 for max 0, or -EAGAIN if none; sysring_recv waits up to
 * `timeout` (relative; NULL or too large to represent: no limit; 0: a
 * look) for at least one: the count, or -ETIMEDOUT, -EINTR (a signal
 * handler without SA_RESTART ran while recv polled or slept; with
 * SA_RESTART it goes on waiting; signals other than faults are blocked
 * while it polls and delivered when the poll ends). All three: -EINVAL (c
 * or out NULL, max below -1, bad timespec as in get_sqe_wait, not
 * registered or unregistered meanwhile, fork child), -EIO (our entry or
 * the segment was overwritten or truncated by a peer). pop_multiple and
 * recv return as many as are published, up to `max` (never a smaller
 * internal cap: senders keep publishing while we pop, so a large `max` may
 * return more than the capacity).
 * Several threads may receive on one handle at once: each message goes to
 * exactly one of them, and each message sent wakes one that sleeps. A
 * reservation whose sender died is given up after 10 ms (the kernel says
 * whether it died; a live sender, however slow, is waited for). */
SYSRING_API int sysring_pop(sysring_chan_t *c, struct sysring_msg *out);
SYSRING_API int sysring_pop_multiple(sysring_chan_t *c, struct sysring_msg *out, long max);
SYSRING_API int sysring_recv(sysring_chan_t *c, struct sysring_msg *out, long max,
			     const struct timespec *timeout);

/* How long sysring_recv polls before sleeping on its futex, in ns (default
 * 20 us, or SYSRING_CHAN_SPIN_NS; at most 10 ms, more is cut to that); 0:
 * sleep at once. 0, or -EINVAL (c NULL). */
SYSRING_API int sysring_chan_set_spin(sysring_chan_t *c, uint32_t ns);

/* Geometry of the segment (for sizing arrays): the private copy checked at
 * open, 0 for c NULL. */
SYSRING_API unsigned int sysring_chan_capacity(const sysring_chan_t *c);

/* What dead and departing peers cost, for the whole segment since it was
 * created. Advisory: the counters live in the segment, which peers can
 * write. */
struct sysring_chan_stats {
	uint64_t reclaimed; /* entries of dead receivers reclaimed */
	uint64_t lost;      /* messages queued to dead receivers, counted when reclaimed */
	uint64_t dropped;   /* messages left queued by receivers that unregistered */
	uint64_t abandoned; /* reservations of dead senders given up by receivers */
};
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow" /* a function named like its struct, as sysring_stats */
#endif
/* 0 and *st filled, or -EINVAL (c or st NULL, fork child), -EIO (segment
 * truncated). */
SYSRING_API int sysring_chan_stats(sysring_chan_t *c, struct sysring_chan_stats *st);
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#ifdef __cplusplus
}
#endif

#endif

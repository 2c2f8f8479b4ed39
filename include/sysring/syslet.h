/* SPDX-License-Identifier: MIT */
/*
 * sysring — syslets (seeds 001 and 003): small programs of system calls.
 *
 * The atom, the flag values and struct async_head_user are those of the 2007
 * syslet patches (fio's syslet.h), so that code written for them builds by
 * including this header instead.
 */
#ifndef SYSRING_SYSLET_H
#define SYSRING_SYSLET_H

#ifndef __user
#define __user
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The syslet atom: one system call, its arguments by pointer (the list ends at
 * the first NULL arg_ptr), where to store the raw result (-errno on failure),
 * and the atom to run next. `private` is never touched by sysring.
 *
 * `private` is a keyword in C++, so C++ spells the same member `private_`
 * (same type, same offset: tests/pkg/header_cxx.cpp checks it against the C
 * layout). SYSLET_PRIVATE(atom) names it in code that builds as both.
 */
struct syslet_uatom {
	unsigned long flags;
	unsigned long nr;
	long __user *ret_ptr;
	struct syslet_uatom __user *next;
	unsigned long __user *arg_ptr[6];
#ifdef __cplusplus
	void __user *private_;
#else
	void __user *private;
#endif
};

#ifdef __cplusplus
#define SYSLET_PRIVATE(atom) ((atom)->private_)
#else
#define SYSLET_PRIVATE(atom) ((atom)->private)
#endif

#define SYSLET_ASYNC 0x00000001
#define SYSLET_SYNC 0x00000002
#define SYSLET_NO_COMPLETE 0x00000004
#define SYSLET_STOP_ON_NONZERO 0x00000008
#define SYSLET_STOP_ON_ZERO 0x00000010
#define SYSLET_STOP_ON_NEGATIVE 0x00000020
#define SYSLET_STOP_ON_NON_POSITIVE 0x00000040

#define SYSLET_STOP_MASK                                                                  \
	(SYSLET_STOP_ON_NONZERO | SYSLET_STOP_ON_ZERO | SYSLET_STOP_ON_NEGATIVE |         \
	 SYSLET_STOP_ON_NON_POSITIVE)

#define SYSLET_SKIP_TO_NEXT_ON_STOP 0x00000080

/*
 * A pseudo system call usable in an atom: *arg0 += arg1, result the new value.
 * No real x86-64 call number can reach it (they are below 1024). Missing
 * arguments are 0, as for any call: no arg_ptr[1] adds 0, no arg_ptr[0]
 * (no counter) gives -EFAULT. Like unknown (-ENOSYS) and refused (-EPERM)
 * numbers, it follows the rules of every atom: SYSLET_ASYNC or
 * SYSRING_INLINE=0 run it off the caller (its completion goes to the ring),
 * SYSLET_SYNC keeps it on the caller.
 */
#define __NR_umem_add 0x5359534cL /* "SYSL" */

struct async_head_user {
	struct syslet_uatom __user **completion_ring;
	unsigned long ring_size_bytes;
	unsigned long max_nr_threads;
};

#ifndef SYSRING_API
#define SYSRING_API __attribute__((visibility("default")))
#endif

/*
 * Register the calling thread's completion ring. The struct is copied (it
 * may go out of scope after the call); the ring itself must stay valid until
 * async_unregister. ring_size_bytes must be a non-zero multiple of a
 * pointer; max_nr_threads bounds the executor threads serving this thread's
 * syslets (-1UL: the library decides). 0, or -1 with errno: EINVAL (bad
 * struct or len != sizeof(struct async_head_user)), EBUSY (this thread has
 * a ring already; one another thread is unregistering right now is waited
 * for, not counted), ENOMEM, EAGAIN (no thread-specific key or context left),
 * EFAULT (the struct cannot be read, or the ring -- every page of it, probed
 * by an atomic no-op write -- is not mapped writable: checked here, since a
 * completion written later by a library thread could fault nowhere else).
 * fork(): in a child, the registration the forking thread inherited is no
 * registration: async_register makes a new one.
 */
SYSRING_API long async_register(struct async_head_user *ahu, unsigned int len);

/*
 * Unregister the ring whose address ahu->completion_ring names (from any
 * thread). Syslets of that registration still in flight are cancelled
 * (their current call is interrupted, the syslet stops with -ECANCELED);
 * their completions are written into the ring while there is room, and the
 * call returns once nothing touches the ring any more (it waits for the
 * owner thread to leave an async_exec or async_wait in progress: a bounded
 * amount of work, or a SYSLET_SYNC call running on the owner). An endless
 * syslet is stopped at its next atom. The owner's next async_exec runs
 * syslets on the owner as without a ring; its async_wait fails EINVAL.
 * 0, or -1 with errno EINVAL (no such registration in this process, bad
 * len; in a fork child, an inherited registration: returns at once), EFAULT
 * (the struct cannot be read).
 */
SYSRING_API long async_unregister(struct async_head_user *ahu, unsigned int len);

/*
 * Run a syslet. Atoms run on the calling thread while each completes without
 * blocking ("cached"); if the whole syslet finishes that way the submitted
 * atom is returned and nothing is queued. At the first atom that would block
 * (or one flagged SYSLET_ASYNC) the rest continues asynchronously, NULL is
 * returned, and when the syslet ends the atom that ended it is written into
 * the completion ring (unless it has SYSLET_NO_COMPLETE). SYSLET_SYNC atoms
 * run on the caller even if they block. A thread with no registered ring
 * (never registered, unregistered, or a fork child whose registration was
 * inherited) runs the whole syslet on the caller and gets the atom back.
 * If every request of the registration is in flight (2 x ring slots, at
 * least 256), the rest of the syslet runs on the caller rather than fail,
 * with the answers it would have had asynchronously: a thread-scoped atom
 * (set*id, per-thread prctl options, ...) without SYSLET_SYNC is refused
 * with -EPERM there too; the atom is returned.
 * NULL with errno EINVAL for a NULL atom (nothing runs).
 * The caller gets its thread back after a bounded amount of work on every
 * engine: a loop of atoms that complete at once (inline, or in io_uring
 * during their own submission) goes on on an executor thread after at most
 * 1024 atoms inline and 256 continuations per reap; async_unregister stops
 * it.
 *
 * Thread-scoped calls (SYSRING_CLASS_THREAD in <sysring.h>: raw set*id,
 * prctl's per-thread options, ...) run in SYSLET_SYNC atoms and in syslets
 * of a thread without a ring; in other atoms their result is -EPERM (never
 * executed), wherever they would have run.
 *
 * Caller memory that cannot be accessed is never a crash: an argument value
 * that cannot be read makes that atom's result -EFAULT (it does not run);
 * a ret_ptr that cannot be written, or a next atom that cannot be read, ends
 * the syslet at that atom; a first atom that cannot be read runs nothing and
 * is returned as if it had completed (docs/engines.md, "Caller memory").
 */
SYSRING_API struct syslet_uatom *async_exec(struct syslet_uatom *atom);

/*
 * Wait until min_wait_events completions are waiting in the calling
 * thread's ring, or the ring is full (at most ring_size_bytes / sizeof(void
 * *) can ever wait there: a larger min_wait_events returns once the ring is
 * full, since nothing more can arrive until the caller clears slots), or
 * none of its syslets is in flight. Returns the number of completions
 * waiting in the ring, or -1 with errno: EINTR (a signal, never restarted,
 * even with SA_RESTART), EINVAL (no ring registered on this thread, or it
 * was unregistered from another thread during the wait: the ring is no
 * longer the caller's to read).
 */
SYSRING_API long async_wait(unsigned long min_wait_events);

/* *uptr += inc, atomically; returns the new value, or -1 with errno EFAULT
 * when *uptr cannot be written, EINVAL when uptr is not aligned to 8 bytes
 * (nothing added either way). Also usable in an atom as call number
 * __NR_umem_add (arg0: the address, arg1: the increment; the atom's result
 * is the new value, -EFAULT or -EINVAL), with the same answers through the
 * library and sysring.ko. */
SYSRING_API long umem_add(unsigned long *uptr, unsigned long inc);

/* The seed's sample program spells these two with the sys_ prefix. */
static inline struct syslet_uatom *sys_async_exec(struct syslet_uatom *atom)
{
	return async_exec(atom);
}
static inline long sys_async_wait(unsigned long min_wait_events)
{
	return async_wait(min_wait_events);
}

#ifdef __cplusplus
}
#endif

#endif

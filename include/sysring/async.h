/* SPDX-License-Identifier: MIT */
/*
 * sysring — the async call face (seed 000): submit any system call, collect
 * one event per call.
 *
 *   struct async_cb: `number` is the system call number; vargs[i] points at
 *   argument i (a long-sized value, read when the call runs, so it may point
 *   at a variable an earlier call fills); the list ends at the first NULL and
 *   missing arguments are 0. At most as many entries as the call takes are
 *   read. The cb must stay valid until its event is collected.
 *
 *   Return conventions are the seed's: 0 or a count, or -1 with errno.
 *   An event's `res` is the raw kernel result: the return value or -errno.
 *   Every submitted call yields exactly one event: an unknown number gives
 *   -ENOSYS, a call refused off the submitting thread (exit, fork, clone,
 *   execve, rt_sigreturn, ...) gives -EPERM and is never executed, and so
 *   does a thread-scoped call (SYSRING_CLASS_THREAD in <sysring.h>: raw
 *   set*id, prctl's per-thread options, ...; run those in a batch), a call
 *   cancelled before it ran gives -ECANCELED, a call whose argument value
 *   cannot be read (vargs[i] unmapped) gives -EFAULT and is not executed.
 *   The event otherwise carries what the plain call returns, with its side
 *   effects (docs/engines.md).
 *
 *   Lifetime: every function may race async_destroy of the same context on
 *   another thread. It then either completes (destroy waits for it) or
 *   fails with EINVAL, as does every call after destroy returned.
 *   fork(): a context belongs to the process that set it up; in a child
 *   every call on an inherited context fails with EINVAL (the parent's is
 *   untouched), and the child may set up its own.
 *   Timeouts are relative. tv_sec < 0 or tv_nsec outside [0, 999999999] is
 *   EINVAL; a timeout too large to add to the clock ({LONG_MAX, ...})
 *   means "no limit", as in the kernel.
 */
#ifndef SYSRING_ASYNC_H
#define SYSRING_ASYNC_H

#include <linux/types.h>
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

typedef struct async_context *async_context_t;

#if defined(__cplusplus) && defined(__GNUC__)
/* ISO C++ has no flexible array members; g++ and clang++ accept them as an
 * extension with the C layout, which the seed's ABI needs. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
struct async_cb {
	long number;   /* the system call number */
	void *vargs[]; /* pointers to the arguments; the first NULL ends the list */
};
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

struct async_event {
	struct async_cb *cbp; /* the cb this event answers */
	__s64 res;            /* the call's return value, or -errno */
};

/* Create a context able to hold nr_events calls in flight (submitted and not
 * yet collected). 0, or -1 with errno: EINVAL (nr_events 0 or above 2^20,
 * ctx_idp NULL), ENOMEM, EAGAIN (16384 contexts exist), EFAULT (*ctx_idp
 * cannot be written: no context is left behind, as io_setup(2)). */
SYSRING_API int async_setup(unsigned long nr_events, async_context_t *ctx_idp);

/* Destroy a context. Calls still queued complete with -ECANCELED, calls
 * blocked in the kernel are interrupted; threads inside a call on this
 * context (submitting, collecting, cancelling) are waited for, and threads
 * asleep in async_getevents are woken and return what they have. Returns
 * once nothing of the context is touched any more. Uncollected events are
 * discarded. 0, or -1/EINVAL (not a context, destroyed already, or
 * inherited across fork; of two concurrent destroys one gets EINVAL). */
SYSRING_API int async_destroy(async_context_t ctx);

/* Queue nr calls. Returns how many were queued (all, or as many as fit and at
 * least one), or -1 with errno: EAGAIN when none fit, EINVAL for nr < 0, a
 * NULL array or a NULL entry, or an invalid context, EFAULT when the array
 * or a cb (its number and the vargs the call takes, up to the first NULL:
 * nothing past it is read) cannot be read (nothing is queued). A call that completes on the submitting thread (inline engine)
 * has its event ready on return. Returns after a bounded amount of work on
 * the caller's thread, whatever the engine. */
SYSRING_API int async_submit(async_context_t ctx, long nr, struct async_cb *async_cbps[]);

/* Collect between min_nr and max_nr events without ever waiting in the
 * kernel. With a timeout it spins (in user space) up to that long for min_nr
 * events (a huge one: until they come, or the context is destroyed); with
 * NULL it only looks. Returns the count or -1 with errno: EINVAL, the
 * arguments async_getevents refuses; EFAULT, as there. */
SYSRING_API int async_check_events(async_context_t ctx, long min_nr, long max_nr,
				   struct async_event events[], struct timespec *timeout);

/* Collect between min_nr and max_nr events, sleeping until min_nr are there or
 * the relative timeout passes (NULL: no limit). Nothing is taken until
 * min_nr events wait (then up to max_nr), so a sleeping caller never holds
 * events that another waiter could return with; at the timeout it takes
 * what there is. Returns the count (which may be below min_nr on timeout or
 * when another thread destroys the context), or -1 with errno:
 *   EINTR   a signal interrupted the wait (nothing is taken: the events
 *           stay for the next call);
 *           never restarted, even for a handler installed with SA_RESTART
 *           (as io_getevents(2));
 *   EINVAL  not a context; min_nr < 0, max_nr < 0, min_nr > max_nr; events
 *           NULL with max_nr > 0; min_nr > nr_events (a wait that can never
 *           be satisfied: at most nr_events calls are in flight or waiting,
 *           so it is refused, with or without a timeout); an invalid
 *           timespec;
 *   EFAULT  the timeout cannot be read, or events cannot be written (the
 *           array is checked up front for the at most min(max_nr,
 *           nr_events) events that can come; one writable only in part
 *           limits the collect to its writable start, as io_getevents(2)
 *           stops at the first event it cannot copy). Nothing is collected
 *           then: the events stay for the next call. */
SYSRING_API int async_getevents(async_context_t ctx, long min_nr, long max_nr,
				struct async_event events[], struct timespec *timeout);

/*
 * By-value convenience: a cb that owns the storage of its arguments.
 * async_cb_new(SYS_write, 3, (long)fd, (long)buf, (long)len) returns a cb
 * whose vargs point into the same allocation; async_cb_set_arg changes one
 * value; async_cb_free releases it (after its event was collected).
 * async_cb_new: NULL/errno EINVAL (nargs > 6) or ENOMEM. async_cb_set_arg:
 * 0, or -1 with errno EINVAL (cb NULL, i beyond the cb's nargs) or EFAULT
 * (cb cannot be read or written).
 */
SYSRING_API struct async_cb *async_cb_new(long number, unsigned int nargs, ...);
SYSRING_API int async_cb_set_arg(struct async_cb *cb, unsigned int i, long value);
SYSRING_API void async_cb_free(struct async_cb *cb);

#ifdef __cplusplus
}
#endif

#endif

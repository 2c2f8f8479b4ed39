/* SPDX-License-Identifier: MIT */
/*
 * Signals a call raises, given back to the thread that submitted it
 * (sigfwd.c). The kernel sends SIGPIPE (with -EPIPE) and SIGXFSZ (with
 * -EFBIG) to the thread that makes the call (the table's signal column,
 * signal.def); run on an executor thread, which blocks every signal, they
 * would stay pending there and never act. Hooks cost one compare of the
 * result on every call: everything else is on the -EPIPE/-EFBIG path.
 */
#ifndef SYSRING_CORE_SIGFWD_H
#define SYSRING_CORE_SIGFWD_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../table/table.h"

/* The calling thread's tid, cached per thread (refreshed in a fork child,
 * where the thread has another one): inline, every submit stores it. */
extern uint32_t sr_fork_gen;
extern __thread pid_t sr_tid_self __attribute__((tls_model("initial-exec"), visibility("hidden")));
/* sr_fork_gen + 1 when sr_tid_self was read (0: never) */
extern __thread uint32_t sr_tid_gen __attribute__((tls_model("initial-exec"), visibility("hidden")));
pid_t sr_self_tid_slow(void);

static inline pid_t sr_self_tid(void)
{
	if (__builtin_expect(sr_tid_gen == __atomic_load_n(&sr_fork_gen, __ATOMIC_RELAXED) + 1, 1))
		return sr_tid_self;
	return sr_self_tid_slow();
}

/* A result that may come with a signal the call raised. */
static inline bool sr_sig_result(long res)
{
	return __builtin_expect(res == -EPIPE || res == -EFBIG, 0);
}

/*
 * Call e with arguments a (NULL: not known here) ran on this thread and
 * returned res; `submitter` made it. If this is not the submitter, take
 * the signal the kernel sent this thread for the call (pending: library
 * threads block it) and raise it on the submitter (on the process when
 * that thread is gone). Nothing on the submitter itself: the kernel's
 * signal already acts there.
 */
void sr_sig_forward(const struct sr_sysent *e, long res, pid_t submitter);

/*
 * Call e with arguments a ran in io_uring and returned res. Where io_uring
 * itself suppressed the signal the plain call raises (SR_SIG_URING_QUIET:
 * its send ops add MSG_NOSIGNAL), raise it on the submitter.
 */
void sr_sig_uring(const struct sr_sysent *e, const long a[6], long res, pid_t submitter);

/*
 * Call e with arguments a ran where the signal it raised cannot be taken
 * back (the module's ring workers: it stays pending on a thread that never
 * unblocks it) and returned res: raise on the submitter what the plain call
 * would have raised, judged from the errno (SIGPIPE unless MSG_NOSIGNAL;
 * SIGXFSZ under a finite RLIMIT_FSIZE).
 */
void sr_sig_lost(const struct sr_sysent *e, const long a[6], long res, pid_t submitter);

/* Whether RLIMIT_FSIZE is finite now (a write at or beyond it raises
 * SIGXFSZ). One system call. */
bool sr_fsize_limited(void);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Signals a call raises (SIGPIPE, SIGXFSZ), given to the submitting thread
 * as the plain call gives them: sigfwd.h, docs/engines.md "Signals a call
 * raises".
 *
 * On an executor thread (the threads engine's workers; a reaper or another
 * library thread that runs a syslet's next atom inline) the kernel queues
 * the signal on that thread, which blocks every signal: it is taken from
 * there with a zero-timeout sigtimedwait and sent to the submitter with
 * tgkill, so its disposition acts there -- the handler runs once on that
 * thread, SIG_IGN ignores it, the default action ends the process. Exactly
 * once per call: only a signal the kernel actually queued is forwarded (a
 * non-real-time signal is queued at most once, and the call's thread takes
 * it right after the call, before its next call). Library threads never
 * unblock SIGPIPE or SIGXFSZ, so nothing else consumes it first.
 *
 * Limits (documented): a signal of the same number sent to the whole
 * process while every thread blocks it is in the process's pending set,
 * which sigtimedwait also looks at (after the thread's own): it would be
 * taken and raised on the submitter instead -- still once. A submitter
 * that has exited meanwhile gets it as a process-directed signal.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sigfwd.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"
#include "rawsys.h"

__thread pid_t sr_tid_self;
__thread uint32_t sr_tid_gen;

pid_t sr_self_tid_slow(void)
{
	sr_tid_self = (pid_t)sr_rawsys6(SYS_gettid, 0, 0, 0, 0, 0, 0);
	sr_tid_gen = __atomic_load_n(&sr_fork_gen, __ATOMIC_RELAXED) + 1;
	return sr_tid_self;
}

static int sig_of(const struct sr_sysent *e, long res)
{
	if (!e)
		return 0;
	if (res == -EPIPE && (e->sigs & SR_SIG_PIPE))
		return SIGPIPE;
	if (res == -EFBIG && (e->sigs & SR_SIG_XFSZ))
		return SIGXFSZ;
	return 0;
}

static void raise_on(pid_t tid, int sig)
{
	long pid = sr_rawsys6(SYS_getpid, 0, 0, 0, 0, 0, 0);

	/* ESRCH: the submitter is gone; the process still gets it. */
	if (tid <= 0 || sr_rawsys6(SYS_tgkill, pid, tid, sig, 0, 0, 0) < 0)
		sr_rawsys6(SYS_kill, pid, sig, 0, 0, 0, 0);
}

void sr_sig_forward(const struct sr_sysent *e, long res, pid_t submitter)
{
	int sig = sig_of(e, res);
	uint64_t set;
	struct timespec zero = {0, 0};

	if (!sig || submitter == sr_self_tid())
		return;
	/* The kernel's sigset_t is 64 bits here; a zero timeout polls. */
	set = 1ull << (sig - 1);
	if (sr_rawsys6(SYS_rt_sigtimedwait, (long)&set, 0, (long)&zero, sizeof(set), 0, 0) == sig)
		raise_on(submitter, sig);
}

void sr_sig_lost(const struct sr_sysent *e, const long a[6], long res, pid_t submitter)
{
	int sig = sig_of(e, res);

	if (sig == SIGPIPE && e->sig_flags && (a[e->sig_flags] & MSG_NOSIGNAL))
		return;
	/* EFBIG also comes without SIGXFSZ (beyond the file system's largest
	 * file): with it only under a finite RLIMIT_FSIZE */
	if (sig == SIGXFSZ && !sr_fsize_limited())
		return;
	if (sig)
		raise_on(submitter, sig);
}

void sr_sig_uring(const struct sr_sysent *e, const long a[6], long res, pid_t submitter)
{
	if (res == -EPIPE && e && (e->sigs & SR_SIG_URING_QUIET))
		sr_sig_lost(e, a, res, submitter);
}

bool sr_fsize_limited(void)
{
	struct rlimit rl;

	return sr_rawsys6(SYS_prlimit64, 0, RLIMIT_FSIZE, 0, (long)&rl, 0, 0) == 0 && rl.rlim_cur != RLIM_INFINITY;
}

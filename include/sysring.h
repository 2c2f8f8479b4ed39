/* SPDX-License-Identifier: MIT */
/*
 * sysring — run any system call asynchronously, in batches, or as syslets.
 *
 * This umbrella header declares the native control API (prefix sysring_,
 * results are 0/counts or -errno) and includes three of the faces:
 *   <sysring/async.h>    async calls (seed 000): async_setup/submit/getevents
 *   <sysring/syslet.h>   syslets (seeds 001/003): atoms, async_exec/async_wait
 *   <sysring/channel.h>  channels (seed 002): IPC over shared rings
 * Batches (seed 004, Batchsys's API) are NOT included: Batchsys's header
 * defines generic names (enum Syscall, kRead, kWrite, kClose, read_params_t,
 * ...) that would clash with an includer's own. Programs that post batches
 * include <sysring/batchsys.h> themselves (it declares sysring_batch_* too).
 *
 * Every public header compiles alone as C99, C11 and C++ (tests/pkg).
 *
 * Engines: a call runs on the caller when it cannot block (inline), in
 * io_uring when the running kernel offers it (uring), on executor threads
 * otherwise (threads), or in the sysring.ko module (kmod). SYSRING_ENGINE in
 * the environment (auto, threads, uring, kmod) overrides the choice, and
 * SYSRING_THREADS caps the number of executor threads.
 *
 * Progress guarantee: calls in flight whose completion depends only on each
 * other (a read and the write that feeds it) always complete, up to the
 * context's nr_events in flight, with the default configuration: the pool
 * of executor threads grows while every thread is blocked, up to one per
 * call in flight (docs/engines.md, "Executor threads").
 */
#ifndef SYSRING_H
#define SYSRING_H

#include <stdint.h>
#include <time.h>

#include <sysring/async.h>
#include <sysring/channel.h>
#include <sysring/syslet.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Under strict C99 <time.h> does not define struct timespec (it is POSIX and
 * C11); declaring it here keeps the prototypes below from declaring a new
 * struct scoped to their parameter lists. */
struct timespec;

#define SYSRING_VERSION_MAJOR 0
#define SYSRING_VERSION_MINOR 1
#define SYSRING_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the library actually loaded. */
SYSRING_API const char *sysring_version(void);

enum sysring_engine {
	SYSRING_ENGINE_AUTO = 0,    /* the library chooses per call */
	SYSRING_ENGINE_THREADS = 1, /* executor threads only */
	SYSRING_ENGINE_URING = 2,   /* io_uring where it can, threads otherwise */
	SYSRING_ENGINE_KMOD = 3,    /* the kernel module where present */
	SYSRING_ENGINE_INLINE = 4,  /* the caller's thread (only as a statistic) */
	SYSRING_ENGINE__COUNT
};

/* Name of an engine ("auto", "threads", ...), or NULL. */
SYSRING_API const char *sysring_engine_name(int engine);

/* Parameters of a context. Initialise with sysring_params_init, then change
 * what you need; `size` lets later versions grow the struct. */
struct sysring_params {
	uint32_t size;        /* sizeof(struct sysring_params) */
	uint32_t engine;      /* enum sysring_engine */
	uint32_t threads;     /* cap on the executor threads (1..1024; more counts as
			       * 1024); 0 (default): no
			       * cap but the calls in flight -- the pool grows while
			       * every thread is blocked, up to nr_events, which keeps
			       * the progress guarantee above. With a cap, calls that
			       * depend on more than `threads` blocked calls wait until
			       * one ends (forever if none will); cancel, timeouts
			       * and destroy still end them. With engine KMOD,
			       * also the size of the module's worker pool
			       * (default sysring_default_threads()).
			       * SYSRING_THREADS overrides. */
	int32_t inline_calls; /* 1: run non-blocking calls on the caller, 0: never, -1: default */
	uint32_t flags;       /* SYSRING_F_* */
	uint32_t spin_ns;     /* executor threads and async_getevents spin this long
			       * before sleeping; 0 (default): sleep at once.
			       * SYSRING_SPIN_NS overrides. See docs/engines.md (SYSRING_SPIN_NS). */
	uint32_t reserved[10];
};

/* flags */
#define SYSRING_F_SQPOLL 0x1u /* io_uring submission by a kernel thread (SYSRING_SQPOLL=1) */
#define SYSRING_F_REAPER_ONLY 0x2u /* only the reaper thread reaps io_uring completions (SYSRING_REAP=thread) */

SYSRING_API void sysring_params_init(struct sysring_params *p);

/* async_setup with parameters (NULL: the defaults). The environment
 * (SYSRING_ENGINE, SYSRING_THREADS) overrides them. 0, or -errno: -EINVAL
 * (ctx NULL, nr_events 0 or above 2^20, an engine that is not one of
 * AUTO/THREADS/URING/KMOD, unknown flags, inline_calls not -1/0/1, a
 * reserved word not 0, size below the fields this version reads), -ENOMEM,
 * -EAGAIN (16384 contexts exist), -EFAULT (p cannot be read -- the size
 * bytes it names --, or *ctx cannot be written: no context is left
 * behind). */
SYSRING_API int sysring_setup(unsigned long nr_events, const struct sysring_params *p,
			      async_context_t *ctx);

/* The engine a context was set up with, or -EINVAL (not a live context of
 * this process: destroyed, or inherited across fork). Every function below
 * that takes a context answers the same -EINVAL for such a handle, also
 * when it races async_destroy on another thread. */
SYSRING_API int sysring_ctx_engine(async_context_t ctx);

/* Executor threads of the kmod engine's fixed in-kernel pool by default on
 * this machine (4 per CPU, 4..64). The threads engine has no fixed size:
 * it starts 2 per CPU as soon as work waits and grows past that while they
 * are blocked, up to nr_events (or the cap in sysring_params.threads). */
SYSRING_API unsigned int sysring_default_threads(void);

struct sysring_stats {
	uint64_t submitted;   /* calls accepted by async_submit */
	uint64_t completed;   /* calls finished (events produced) */
	uint64_t reaped;      /* events collected */
	uint64_t in_flight;   /* submitted - completed */
	uint64_t pending;     /* completed - reaped: events waiting */
	uint64_t by_engine[SYSRING_ENGINE__COUNT]; /* completed, by the engine that ran them */
	uint32_t threads;     /* executor threads running (grows while all are
			       * blocked; idle ones above 2 per CPU retire) */
	uint32_t threads_idle; /* of which parked */
	uint32_t reserved[6];
};

#if defined(__cplusplus) && defined(__GNUC__)
/* A function named like its struct (as stat/struct stat) is legal C++, but
 * g++ -Wshadow warns at it; nothing is hidden that C++ code could use. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#endif
/* Snapshot of a context's counters (each read atomically, the set not).
 * 0, or -EINVAL (bad context, st NULL), -EFAULT (st cannot be written). */
SYSRING_API int sysring_stats(async_context_t ctx, struct sysring_stats *st);
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/*
 * An eventfd owned by the context that is readable while events are waiting
 * to be collected, so the context fits into an epoll/poll loop. Created on
 * the first call (later calls return the same fd); closed by async_destroy.
 * It may occasionally be readable with nothing waiting (collect returns 0);
 * it is never unreadable while something waits. Returns the fd or -errno:
 * -EINVAL (bad context), -EMFILE, -ENFILE, -ENOMEM (eventfd(2)'s; a later
 * call tries again). In a fork child the parent's eventfd stays open (it
 * is the application's to close there) but nothing writes it.
 */
SYSRING_API int sysring_eventfd(async_context_t ctx);

/*
 * async_submit with a timeout for each call (relative, from now): a call
 * still queued or blocked when it expires completes with -ETIME (in
 * io_uring as a linked timeout, on an executor thread by interrupting the
 * call). Calls that complete inline never wait. Returns like async_submit
 * but with -errno; -EINVAL also for an invalid timespec (tv_sec < 0,
 * tv_nsec outside [0, 999999999]), -EFAULT also for a timeout that cannot
 * be read (nothing is queued). A timeout too large to add to the clock
 * ({LONG_MAX, ...}) means no limit. On the threads engine a call whose
 * timer cannot be created (timer_create failed) completes with -EAGAIN
 * without running, rather than run unbounded.
 */
SYSRING_API int sysring_submit_timeout(async_context_t ctx, long nr, struct async_cb *cbps[],
				       const struct timespec *timeout);

/*
 * Cancel every in-flight call submitted with this cb. 0: cancellation is
 * under way and each such call still produces exactly one event — with
 * -ECANCELED if it was stopped (queued, in io_uring, or interrupted while
 * blocked on an executor thread), or with its own result if it finished
 * first. -ENOENT: no such call in flight (never submitted, or its event was
 * already produced). -EALREADY: it is already being cancelled. -EINVAL:
 * bad context, cb NULL. A queued call's -ECANCELED event is produced before
 * this returns, even when every executor thread is blocked.
 *
 * The cancel signal (SIGRTMAX-3; SYSRING_CANCEL_SIGNAL=n moves it) belongs
 * to the library: before every interruption (this call, async_destroy,
 * async_unregister, a timeout) the library checks its action and installs
 * its own again if the application changed it (SIG_DFL would kill the
 * process, SIG_IGN or SA_RESTART would leave the call and this function
 * blocked). An application handler found there keeps getting every delivery
 * that is not the library's, without SA_RESTART. docs/engines.md.
 */
SYSRING_API int sysring_cancel(async_context_t ctx, struct async_cb *cb);

/* What the library knows about one system call. */
struct sysring_syscall_info {
	const char *name;
	uint32_t nargs;
	uint32_t cls;           /* SYSRING_CLASS_* */
	uint32_t uring;         /* 1: io_uring on the running kernel can run it */
	uint32_t uring_opcode;  /* the IORING_OP_ used when it can */
	uint32_t nowait;        /* 1: has an honest non-blocking attempt (inline) */
	uint32_t reserved[3];
};
#define SYSRING_CLASS_NEVER_BLOCKS 1
#define SYSRING_CLASS_MAY_BLOCK 2
#define SYSRING_CLASS_REFUSED 3
/* Thread-scoped: changes the calling thread only (credentials, restrictions,
 * scheduling of "self"). Runs where the face runs calls on the submitting
 * thread (batches, SYSLET_SYNC atoms, syslets without a registration) and
 * is refused with EPERM elsewhere (the async face, async_exec atoms). For
 * prctl, keyctl, seccomp, ptrace, perf_event_open, sched_set*, setpriority
 * and ioprio_set only some argument values are; the others may block or
 * never block (src/table/syscalls.def, class TS). */
#define SYSRING_CLASS_THREAD 4

#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow" /* as for sysring_stats */
#endif
/* 0 and *info filled, or -ENOSYS for a number no call has, -EINVAL for info
 * NULL, -EFAULT for info that cannot be written. */
SYSRING_API int sysring_syscall_info(long nr, struct sysring_syscall_info *info);
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#ifdef __cplusplus
}
#endif

#endif

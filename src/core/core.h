/* SPDX-License-Identifier: MIT */
/*
 * The core: contexts, requests, and the glue between faces and engines.
 *
 * A context (struct sr_ctx) is one executor instance: a pool of nr_events
 * requests, the rings that move request indices between threads, the
 * executor threads, and (for the async face) the completion queue and its
 * waiters. Faces sit on top and see a context only through sr_ctx_* calls;
 * engines see requests and never know which face owns them.
 *
 * Request life cycle (req->state):
 *   FREE --submit--> QUEUED --worker claims--> RUNNING --> DONE --reaped--> FREE
 *                      \--cancel/destroy--> CANCELED (completes -ECANCELED)
 * A request index is always in exactly one place: the free ring, the
 * submission ring, a worker's hands, or the completion ring. The free ring
 * starts with all nr_events indices and every ring holds at least nr_events
 * slots, so the submission and completion rings are never full for long (a
 * push may wait out a consumer that is releasing last lap's slot,
 * sr_ring_push_wait): the only "full" condition callers see is an empty
 * free ring, which async_submit reports.
 *
 * Ownership: the context struct itself is never freed, only recycled through
 * the handle table (ctx.c), so a stale handle is detected by its generation
 * instead of touching freed memory. Everything it points to is freed by
 * sr_ctx_destroy once no thread touches it: every entry point that uses a
 * context enters it with sr_ctx_get (counted in ctx->users) and leaves with
 * sr_ctx_put, and destroy, having made new sr_ctx_get fail, waits for the
 * count to drop to zero before it stops the engines and frees.
 *
 * fork(): a context belongs to the process that created it. The child's
 * copy is dead (sr_fork_gen), its io_uring descriptors are closed in the
 * child by the atfork handler (ctx.c) and never used there.
 *
 * Lock order: sr_handle_lock (table) -> ctx->lock (eventfd creation, spawn).
 * Nothing on the submit or complete path takes a lock.
 */
#ifndef SYSRING_CORE_H
#define SYSRING_CORE_H

#include <linux/openat2.h>
#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include <sysring.h>

#include "../ring/ring.h"
#include "../table/table.h"
#include "atomics.h"
#include "futex.h"

/*
 * liburing maps and unmaps its rings with raw system calls, which TSan does
 * not see: a ring mapped where an unmapped one was keeps the old ring's
 * shadow, and TSan reports races between accesses to the two (contexts and
 * batch handles set up and torn down by different threads). The kernel
 * orders the unmap before the new map; these tell TSan so: a release just
 * before every io_uring_queue_exit (before, not after: a ring mapped at the
 * same address between the unmap and a later release would acquire too
 * early, and TSan reported the old ring's last SQE against the new ring's
 * first in lifecycle_stress:soak), an acquire after every
 * io_uring_queue_init.
 * Nothing in other builds.
 */
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
extern unsigned long sr_tsan_ring_token;
#define sr_tsan_ring_unmapped() __tsan_release(&sr_tsan_ring_token)
#define sr_tsan_ring_mapped() __tsan_acquire(&sr_tsan_ring_token)
#else
#define sr_tsan_ring_unmapped() ((void)0)
#define sr_tsan_ring_mapped() ((void)0)
#endif

#define SR_EXPORT __attribute__((visibility("default")))
#define SR_COLD __attribute__((cold))

/* Errno of a call refused off the submitting thread. */
#define SR_EREFUSED EPERM

enum sr_req_state {
	SR_REQ_FREE = 0,
	SR_REQ_QUEUED,   /* in the threads' submission ring */
	SR_REQ_RUNNING,  /* on an executor thread */
	SR_REQ_URING,    /* in io_uring */
	SR_REQ_INLINE,   /* being routed or run on a submitting/completing thread */
	SR_REQ_KMOD,     /* in the kernel module's ring */
	SR_REQ_CANCELED, /* cancelled while QUEUED: its canceller completes it */
	SR_REQ_DONE,
};

/* Per-request scratch for engines (the io_uring column's prep/done). */
union sr_aux {
	struct statx stx;
	struct {
		struct msghdr msg;
		struct iovec iov;
		int used;
	} rmsg;
	struct {
		int64_t in, out;
	} spl;
	struct { /* a transfer at the file position (uring_ops.c) */
		int64_t pos;    /* the position at prep, or -errno (-ESPIPE: none) */
		uint64_t count; /* the bytes asked for; 0: not known */
	} xf;
};

struct sr_ctx;
struct sr_uring_op;
struct sr_creds;

struct sr_req {
	/* The program this request runs: the async face's cb is a one-atom
	 * syslet held in `atom`; a syslet points `cur` into user memory. */
	struct syslet_uatom atom;
	struct syslet_uatom *cur;
	void *user; /* face cookie: the async_cb *, or the first atom */
	long res;   /* result of the last atom that ran */
	long partial; /* uring: bytes a partial write moved before its rest was resubmitted */
	uint32_t idx;
	uint32_t state;  /* enum sr_req_state, changed by CAS */
	uint32_t engine; /* enum sysring_engine that finished it */
	uint32_t cancel; /* set by cancel/destroy, read between atoms */
	uint8_t on_caller;   /* routed by async_exec on the submitting thread */
	uint8_t async;       /* syslet went async: its end goes to the ring */
	uint8_t skip_inline; /* the current atom's non-blocking attempt was made */
	uint8_t in_sq;       /* threads.c: an entry in ctx->sq stands for this request */
	pid_t tid;           /* the submitting thread (sigfwd.h: signals the calls raise go there) */
	uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0: no timeout */
	long args[6];         /* argument values as read for inline/uring */
	const struct sr_uring_op *uop; /* io_uring column used, while in io_uring */
	struct sr_req *ov_next;        /* syslet face: waiting for a ring slot */
	struct __kernel_timespec lts;  /* link timeout, read by the kernel at submit */
	union sr_aux aux;
};

/* Special io_uring user_data values (requests are pointers, never this small). */
#define SR_UD_IGNORE 1ull /* cancel and link-timeout completions */
#define SR_UD_STOP 2ull   /* wakes the reaper to leave */

struct sr_uring {
	struct io_uring ring;
	uint32_t ready;      /* the ring exists */
	uint32_t sqpoll;
	struct sr_creds *sq_creds; /* SQPOLL: the credentials its thread runs with (uring.c) */
	uint32_t reaper_only; /* set by shutdown: waiters stop reaping */
	uint32_t stop;
	uint64_t inflight;   /* requests whose CQE is pending */
	pthread_mutex_t sq_lock;
	pthread_mutex_t cq_lock;
	pthread_t reaper;
	uint32_t reaper_started;
	int efd; /* registered with the ring: the reaper sleeps on it */
	/* Quiet windows (uring.c): submitters inside their submit-and-reap
	 * window, the eventfd switched off meanwhile; `toggled` says a window
	 * was opened since the reaper last looked, `reaper_forever` that the
	 * reaper sleeps without a timeout. */
	uint32_t quiet;
	uint32_t toggled;
	uint32_t reaper_forever;
	uint32_t use_quiet;
	uint32_t reap_pending; /* a trylock of cq_lock failed: the holder reaps again (uring.c) */
	/* The probe's answer, copied at set-up (written before `ready`, never
	 * after): one bit per opcode, read on every routed call. */
	uint64_t ops[4];
};

/* This context's io_uring exists and performs `opcode`. */
static inline bool sr_uring_ctx_has(const struct sr_uring *ur, unsigned int opcode)
{
	return sr_load_relaxed(&ur->ready) && opcode < 256 && (ur->ops[opcode / 64] >> (opcode % 64) & 1);
}

/* What a face does with a finished request; runs exactly once per request,
 * on whichever thread finished it. */
struct sr_face_ops {
	void (*complete)(struct sr_ctx *ctx, struct sr_req *req);
};

struct sr_worker {
	pthread_t thread;
	pid_t tid;
	struct sr_ctx *ctx;
	/* Request this worker is executing, for cancellation; written by the
	 * worker, read by cancel/destroy. */
	struct sr_req *cur;
	uint32_t index;
	uint32_t slot;   /* SR_SLOT_* (threads.c), changed under ctx->lock */
	uint32_t exited; /* set by the worker as it leaves its loop at shutdown */
	uint32_t timer_ok;
	timer_t timer; /* per-call timeouts (threads.c) */
	/* Entries this worker took off the ring (for the monitor), written by
	 * the worker alone: a plain store, not a locked add on a line every
	 * worker writes. */
	uint64_t popped;
};

struct sr_threads {
	struct sr_worker *workers; /* array of `max` slots */
	uint32_t max;           /* cap: nr_events, or the one the application set */
	uint32_t nslots;        /* slots used so far (high-water mark) */
	uint32_t live;          /* workers running (started and not retired) */
	uint32_t stop;          /* set once by shutdown */
	/* Parking state, one word so that it changes as a whole (threads.c):
	 * low half: workers parked or about to park; high half: wake-ups
	 * issued and not yet taken, never more than the low half. */
	uint64_t park sr_aligned_cacheline;
	uint32_t wake_seq;      /* futex word the idle workers sleep on */
	uint32_t eager;         /* workers started as soon as work waits; the floor
				 * under which idle workers do not retire */
	uint64_t created;       /* workers ever started (for debuggers) */
	uint64_t qdl;           /* earliest deadline of a timed call queued (0: none) */
	uint32_t mon;           /* futex word of the monitor: MON_* bits (threads.c) */
	uint32_t mon_started;
	pthread_t monitor;
};

struct sr_config {
	uint32_t engine;    /* enum sysring_engine asked for (after env override) */
	uint32_t threads;   /* maximum executor threads */
	uint32_t threads_set; /* `threads` was set (params, SYSRING_THREADS): a cap */
	int32_t inline_calls; /* resolved: 0 or 1 */
	int32_t kmod_cached;  /* syslets' cached part through the module (SYSRING_KMOD_CACHED) */
	int32_t quiet;        /* uring quiet windows (SYSRING_NO_QUIET=1 turns them off) */
	uint32_t flags;
	uint32_t spin_ns; /* spin this long before sleeping (workers, getevents) */
	uint32_t reap;    /* SR_REAP_*: who turns CQEs into completions */
};

#define SR_REAP_THREAD 0 /* only the reaper thread */
#define SR_REAP_BOTH 1   /* the reaper, and waiters opportunistically */

struct sr_ctx {
	/* Kept across the slot's reuse (ctx.c): */
	uint32_t gen;  /* handle generation; bumped at every setup and destroy */
	uint32_t slot;
	pthread_mutex_t lock;
	/* Threads between sr_ctx_get and sr_ctx_put. Kept across reuse: a
	 * thread holding a stale handle may count itself in (and out again)
	 * at any time. On its own cache line: every entry point writes it. */
	uint32_t users sr_aligned_cacheline;
	/* Reset at every setup, from here on: */
	uint32_t live sr_aligned_cacheline; /* 1 between setup and destroy */
	uint32_t fork_gen; /* sr_fork_gen when created: a child's copy is dead */
	uint32_t nr_events;
	const struct sr_face_ops *ops;
	void *face; /* the face's own state for this context */
	struct sr_config cfg;

	struct sr_req *reqs;
	void *ring_mem;
	size_t ring_mem_bytes;
	struct sr_ring freeq; /* indices of free requests */
	struct sr_ring sq;    /* indices queued for the executor threads */
	struct sr_ring cq;    /* indices finished, waiting to be collected */

	struct sr_threads thr;
	struct sr_uring ur;
	struct sr_kmod *km; /* engine "kmod": the module's ring, or NULL */

	/* Completion side: waiters sleep on cq_seq (protocol: ctx.c). */
	uint32_t cq_seq sr_aligned_cacheline;
	uint32_t cq_waiters;
	uint64_t cq_ready; /* completed and not collected */
	/* The lowest cq_ready a sleeping waiter needs (INT64_MAX: none). */
	int64_t cq_want;
	int efd;           /* sysring_eventfd, or -1 */

	/* Statistics (relaxed counters). */
	uint64_t st_engine[SYSRING_ENGINE__COUNT] sr_aligned_cacheline;
};

/* --- handles (ctx.c) --- */
/* A handle is (generation << SR_CTX_SLOT_BITS | slot + 1). */
#define SR_CTX_SLOT_BITS 20
#define SR_CTX_MAX 16384
/* Bumped in a fork() child: what was created before belongs to the parent. */
extern uint32_t sr_fork_gen;
/* Slot -> context (ctx.c): a slot's struct, once published (release), is
 * never freed nor replaced. Hidden: read in place by sr_ctx_get. */
extern struct sr_ctx *sr_handle_table[SR_CTX_MAX] __attribute__((visibility("hidden")));
/* Install the library's fork handlers (once; every face's first set-up). */
void sr_fork_watch(void);
/*
 * Move a descriptor the library holds for itself (the module's device and
 * rings, io_uring instances, their eventfds) out of the way of the
 * program's fd numbers: a new fd takes the lowest free number, so ours would
 * change the number the program's next open gets, against the same program
 * without sysring. Moved to the highest free number below
 * min(RLIMIT_NOFILE, 1024), with close-on-exec; fd itself is closed.
 * Returns the new number, or fd where nothing is free up there (or fd < 0).
 */
int sr_fd_high(int fd);
/* The faces' parts of the child's fork handler (syslet.c, batchsys.c). */
void sr_syslet_atfork_child(void);
void sr_batchsys_atfork_child(void);
async_context_t sr_handle_of(const struct sr_ctx *ctx);
/* The live context behind a handle in this process, or NULL. Only a hint:
 * use sr_ctx_get to touch what the context points to. */
struct sr_ctx *sr_ctx_lookup(async_context_t h);

/*
 * Enter the context behind handle h: returns it counted in ctx->users, or
 * NULL if h names no live context of this process (never set up, destroyed,
 * or inherited across fork). Until the matching sr_ctx_put, destroy frees
 * nothing of it. One seq_cst increment in, one release decrement out.
 *
 * The slot's struct is counted in first and checked after (no separate
 * lookup: the checks after the increment are the ones that count). A stale
 * handle thus counts itself in and out of a slot that may serve another
 * context now, which destroy tolerates (ctx->users is kept across reuse).
 */
static inline struct sr_ctx *sr_ctx_get(async_context_t h)
{
	uint64_t v = (uint64_t)(uintptr_t)h;
	uint64_t slot = (v & ((1u << SR_CTX_SLOT_BITS) - 1)) - 1;
	uint32_t hgen = (uint32_t)(v >> SR_CTX_SLOT_BITS);
	struct sr_ctx *ctx;

	if (sr_unlikely(slot >= SR_CTX_MAX))
		return NULL;
	/* Acquire pairs with the release that publishes a new slot's struct
	 * (ctx.c, handle_alloc). */
	ctx = sr_load_acquire(&sr_handle_table[slot]);
	if (sr_unlikely(!ctx))
		return NULL;
	/* seq_cst increment, then seq_cst loads of gen and live: a Dekker
	 * pair with destroy's seq_cst CAS of gen, then its load of users.
	 * Either destroy sees us counted, or we see it has begun. gen first:
	 * as an acquire it pairs with create's release of gen, so live and
	 * fork_gen, read after it, are the new context's (create writes them
	 * plainly before that release). */
	sr_fetch_add(&ctx->users, 1, SR_SEQ_CST);
	if (sr_unlikely(__atomic_load_n(&ctx->gen, __ATOMIC_SEQ_CST) != hgen ||
			!__atomic_load_n(&ctx->live, __ATOMIC_SEQ_CST) ||
			ctx->fork_gen != sr_load_relaxed(&sr_fork_gen))) {
		/* Release pairs with destroy's acquire of users. */
		sr_fetch_sub(&ctx->users, 1, SR_RELEASE);
		return NULL;
	}
	return ctx;
}

static inline void sr_ctx_put(struct sr_ctx *ctx)
{
	/* Release pairs with destroy's acquire of users: everything this
	 * thread did with the context happens before destroy frees it. */
	sr_fetch_sub(&ctx->users, 1, SR_RELEASE);
}

/* --- context life cycle (ctx.c) --- */
int sr_ctx_create(unsigned long nr_events, const struct sysring_params *p,
		  const struct sr_face_ops *ops, struct sr_ctx **out);
/* Destroy the context behind handle h (sr_ctx_destroy waits for its users,
 * stops its engines, frees): 0, or -EINVAL if h names no live context of
 * this process or another destroy of it won. */
int sr_ctx_destroy(async_context_t h);

/* Take a free request, or NULL when all nr_events are in use. */
static inline struct sr_req *sr_req_get(struct sr_ctx *ctx)
{
	uint32_t idx;
	if (sr_ring_pop_u32(&ctx->freeq, &idx))
		return NULL;
	return &ctx->reqs[idx];
}

/* Up to max free requests at once (one CAS), their indices in idx[]. */
static inline int sr_req_get_multiple(struct sr_ctx *ctx, uint32_t *idx, long max)
{
	if (max == 1) /* the common single call: the inline pop */
		return sr_ring_pop_u32(&ctx->freeq, idx) ? 0 : 1;
	int n = sr_ring_pop_multiple(&ctx->freeq, idx, max);
	return n > 0 ? n : 0;
}

/* Give back n requests already marked SR_REQ_FREE. */
static inline void sr_req_put_multiple(struct sr_ctx *ctx, const uint32_t *idx, long n)
{
	if (n == 1)
		sr_ring_push_wait_u32(&ctx->freeq, idx[0]);
	else
		sr_ring_push_multiple_wait(&ctx->freeq, idx, n);
}

static inline void sr_req_put(struct sr_ctx *ctx, struct sr_req *req)
{
	sr_store_relaxed(&req->state, SR_REQ_FREE);
	/* The free ring has a slot for every request (see sr_ring_push_wait). */
	sr_ring_push_wait_u32(&ctx->freeq, req->idx);
}

/* Route prepared requests (req->cur set) to the engine where each runs
 * cheapest: finished inline, queued in io_uring, or queued for the
 * threads. Never fails. (exec.c) */
void sr_ctx_dispatch(struct sr_ctx *ctx, struct sr_req **reqs, unsigned int n);
/* The same for one request (the common single call). */
void sr_ctx_dispatch_one(struct sr_ctx *ctx, struct sr_req *req);

/* async_exec's path: route req (req->on_caller set; cur, tid, user,
 * deadline_ns = cancel = partial = async = skip_inline = 0) on the calling
 * thread. req may be the caller's own (on its stack, not in ctx->reqs):
 * nothing else sees it, it is never queued nor given back. Returns 0 if
 * the program finished there (the face's complete op ran with
 * req->async == 0), else where its current atom goes on (exec.c's route:
 * uring, kmod or threads), for sr_ctx_exec_async. */
int sr_ctx_exec_cached(struct sr_ctx *ctx, struct sr_req *req);
/* The syslet of `from` (sr_ctx_exec_cached's answer r != 0) goes on
 * asynchronously in the pool request req: copied into it (req->async set),
 * then queued where r says. */
void sr_ctx_exec_async(struct sr_ctx *ctx, struct sr_req *req, const struct sr_req *from, int r);

/* Run a syslet to its end on this thread, blocking as needed (no context). */
void sr_syslet_run_sync(struct syslet_uatom *atom);
/* The same where the syslet stands for an asynchronous one (async_exec
 * with every request in flight): it answers as the executor would, so a
 * thread-scoped atom without SYSLET_SYNC is refused (-EPERM) and one with
 * it runs here. */
void sr_syslet_run_caller(struct syslet_uatom *atom);

/* The same for a request sr_ctx_exec_cached left where its syslet stands
 * (its current atom not run, or partly: req->partial): the rest runs here
 * as sr_syslet_run_caller runs it. */
void sr_req_run_caller(struct sr_req *req);

/* An atom of req finished with res on `engine`: store the result, follow the
 * syslet, and either finish the request or route its next atom. */
void sr_req_atom_done(struct sr_ctx *ctx, struct sr_req *req, long res, uint32_t engine);
/* The same, for a reap that may run on a caller's thread: while *budget
 * lasts the next atom is routed here (and *budget counts it), after that
 * the rest of the syslet is handed to the executor threads, so that a loop
 * whose atoms io_uring completes at once cannot keep the reaping thread. */
void sr_req_atom_done_bounded(struct sr_ctx *ctx, struct sr_req *req, long res, uint32_t engine,
			      uint32_t *budget);
/* Continuations one reap pass makes before it hands syslets on. */
#define SR_REAP_CONTINUE_BUDGET 256

/* Run a claimed request's program to its end on this thread, then hand it
 * to the face. `engine` is recorded as the one that ran it. */
void sr_req_run(struct sr_ctx *ctx, struct sr_req *req, uint32_t engine);

/* Finish a request with `res` without running (more of) it. */
void sr_req_finish(struct sr_ctx *ctx, struct sr_req *req, long res, uint32_t engine);

/* Cancel the in-flight requests whose face cookie is `user`; 0, -ENOENT,
 * or -EALREADY when they are already being cancelled. */
int sr_ctx_cancel(struct sr_ctx *ctx, const void *user);

/* --- execution of one atom (exec.c) --- */
/* On an executor: thread-scoped calls (syscalls.def, TS) are refused. */
long sr_atom_exec(const struct syslet_uatom *atom);
/* On the thread that submitted the atom: thread-scoped calls run. */
long sr_atom_exec_here(const struct syslet_uatom *atom);

/* --- the completion queue used by the async face (ctx.c) --- */
void sr_cq_push(struct sr_ctx *ctx, struct sr_req *req);
/* A thread delivering many completions of one context at once (the uring
 * engine's reap) brackets them: pushes in between are published together
 * at sr_cq_batch_end, with one count update and one wake-up check. Nothing
 * is visible to collectors before the end; the end comes before the
 * bracketing call returns. Brackets do not nest (an inner begin is a no-op
 * and returns false; pass its answer to the matching end). */
struct sr_cq_batch {
	struct sr_ctx *ctx;
	uint32_t n;
	uint32_t idx[64];
};
bool sr_cq_batch_begin(struct sr_ctx *ctx, struct sr_cq_batch *b);
void sr_cq_batch_end(struct sr_cq_batch *b, bool began);
/* Move up to max finished requests into events; returns the count. */
long sr_cq_collect(struct sr_ctx *ctx, struct async_event *events, long max);
/* Up to max events, but none unless at least min (>= 1) are ready: a waiter
 * takes events only when it can return with its min_nr (ctx.c). */
long sr_cq_collect_min(struct sr_ctx *ctx, struct async_event *events, long min, long max);

/* --- threads engine (engine/threads.c) --- */
int sr_threads_init(struct sr_ctx *ctx, uint32_t max);
void sr_threads_submit(struct sr_ctx *ctx, struct sr_req **reqs, unsigned int n);
/* Interrupt and stop all workers; queued requests complete -ECANCELED. */
void sr_threads_shutdown(struct sr_ctx *ctx);
void sr_threads_free(struct sr_ctx *ctx);
/* Interrupt the worker running req until it lets go of it. */
void sr_threads_interrupt(struct sr_ctx *ctx, struct sr_req *req);
/* The cancel signal, with the library's action on it re-installed if the
 * application changed it (threads.c, "The cancel signal"). */
int sr_threads_cancel_signal(void);
/* Send the cancel signal to an executor thread (marked as the library's). */
int sr_threads_kick(pthread_t thread);
uint32_t sr_threads_idle(const struct sr_ctx *ctx);
/* Workers started eagerly per CPU before growth waits for a stall. */
void sr_threads_set_eager(struct sr_ctx *ctx, uint32_t per_cpu);

/* --- uring engine (engine/uring.c) --- */
/* Whether the running kernel's io_uring has this opcode (probed once,
 * through the first ring the library sets up: sr_uring_probe_ring). */
bool sr_uring_has(unsigned int opcode);
struct io_uring;
void sr_uring_probe_ring(struct io_uring *ring);
int sr_uring_init(struct sr_ctx *ctx);
/* Submit requests whose req->uop/args are set; returns how many went in
 * (the rest must go elsewhere). */
unsigned int sr_uring_submit(struct sr_ctx *ctx, struct sr_req **reqs, unsigned int n);
/* Turn waiting CQEs into completions (waiting for the CQ lock, or only if
 * it is free); returns how many. */
unsigned int sr_uring_reap(struct sr_ctx *ctx, bool wait_lock);
int sr_uring_cancel(struct sr_ctx *ctx, struct sr_req *req);
void sr_uring_shutdown(struct sr_ctx *ctx);

/* --- kmod engine (engine/kmod_ring.c): in-kernel workers --- */
struct sr_kmod;
int sr_kmod_init(struct sr_ctx *ctx);
unsigned int sr_kmod_submit(struct sr_ctx *ctx, struct sr_req **reqs, unsigned int n);
unsigned int sr_kmod_reap(struct sr_ctx *ctx, bool wait_lock);
void sr_kmod_interrupt(struct sr_ctx *ctx, struct sr_req *req);
void sr_kmod_shutdown(struct sr_ctx *ctx);
/* In a fork child (ctx.c's handler): close the child's copy of the ring's
 * descriptor; nothing else is touched. */
void sr_kmod_atfork_child(struct sr_ctx *ctx);

/* --- io_uring or not (exec.c) --- */
/* What one dispatch learned about the fds its calls name, asked once per
 * fd: valid only during it (another thread changing O_NONBLOCK meanwhile
 * races with the plain calls just the same). */
#define SR_FDCACHE 4
struct sr_fdent {
	long fd;
	int fl;            /* F_GETFL, or -errno; SR_FD_UNASKED: not asked yet */
	unsigned int mode; /* S_IFMT; 0: not asked yet, 1: unknown */
	long pos;          /* lseek(SEEK_CUR), or -errno (-ESPIPE: a stream); SR_FD_UNASKED */
};
#define SR_FD_UNASKED (-100000)
struct sr_fdcache {
	struct sr_fdent *last; /* the entry looked up last, or NULL */
	unsigned int n;
	/* sr_uring_suits' verdict on its fd part for the last (op, a[0]) it
	 * judged, v_key its other inputs; v_op NULL: none yet */
	const struct sr_uring_op *v_op;
	long v_fd;
	uint8_t v_key, v_ok;
	int fsize; /* RLIMIT_FSIZE asked once per dispatch: 0 not yet, 1 finite, -1 infinite */
	/* Last: sr_fdcache_init leaves the entries alone (each is written
	 * before it is read: fd_entry, below n). */
	struct sr_fdent e[SR_FDCACHE];
};

/* An empty cache: every member before the entries zeroed, the entries not
 * (a zeroing initializer cost a fifth of the inline path's dispatch). */
static inline void sr_fdcache_init(struct sr_fdcache *fc)
{
	memset(fc, 0, offsetof(struct sr_fdcache, e));
}
/* Whether io_uring gives this call (arguments a) the plain call's answer:
 * none of its fds in op->nbfds is an O_NONBLOCK pipe or socket (a0_checked:
 * a non-blocking attempt already found a[0] not to be one), no vectored
 * write to a pipe or socket, and a transfer at the file position is not
 * O_DIRECT and has a buffer accessible on every page (table.h, SR_XFER_*). */
/* op: a table entry or another object that outlives fc (its verdict is
 * remembered by address). */
bool sr_uring_suits(const struct sr_uring_op *op, const long a[6], struct sr_fdcache *fc, bool a0_checked);
bool sr_uring_may_wait(const struct sr_uring_op *op, const long a[6], struct sr_fdcache *fc);

/* --- configuration (native.c) --- */
uint32_t sysring_online_cpus(void);
void sr_config_resolve(struct sr_config *cfg, const struct sysring_params *p);
/* 0 if p (NULL: the defaults) holds only values this version knows, else -EINVAL. */
int sr_params_check(const struct sysring_params *p);

#endif

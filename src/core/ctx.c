/* SPDX-License-Identifier: MIT */
/*
 * Contexts: handles, creation and destruction, dispatch to engines, and the
 * completion queue of the async face.
 *
 * Handles. An async_context_t is not a pointer but (generation << 20 | slot+1)
 * into sr_handle_table. The struct sr_ctx of a slot is allocated once and
 * never freed, so looking up a stale handle reads valid memory and fails on
 * the generation (use after async_destroy is -1/EINVAL, not a crash).
 *
 * Destroy racing use. Every entry point enters a context with sr_ctx_get
 * (core.h), which counts it in ctx->users and fails once destroy has begun.
 * Destroy first makes entering fail (live = 0, then gen++), then waits for
 * the count to drop to zero, waking the threads asleep in async_getevents
 * meanwhile, and only then stops the engines and frees: so nothing is
 * queued into an engine after it stopped, and no entry point reads freed
 * memory. A destroy that loses the race gets EINVAL, as any later call.
 *
 * fork(). The child's handler (sr_atfork_child) bumps sr_fork_gen, which
 * makes every context inherited from the parent unusable there (EINVAL):
 * its executor threads do not exist in the child. It resets the table's
 * lock (another thread may have held it at fork), and closes the child's
 * copies of each live context's io_uring and reaper eventfd, and of its
 * module ring's descriptor, so that the child can never submit to or reap
 * from the parent's rings and does not keep them alive; the rings' memory
 * is not even inherited (io_uring_ring_dontfork at setup; the module's
 * mapping is VM_DONTCOPY). The rest of the child's copy (requests,
 * rings, the eventfd of sysring_eventfd, which the application owns) is left
 * alone. Nothing else is done in the handler: no lock is taken, no memory
 * allocated or freed.
 *
 * Completion queue (async face). Finished requests go into ctx->cq and are
 * counted in ctx->cq_ready. Waiters in async_getevents sleep on ctx->cq_seq,
 * and each says how many events it needs in ctx->cq_want, the lowest need
 * among the waiters, so that a waiter for 64 events is woken once, not once
 * per completion (a needless wake-up costs 4-47 us on the 2-CPU machine):
 *   waiter:    key = cq_seq; cq_waiters++; cq_want = min(cq_want, need);
 *              load cq_ready; sleep on key unless cq_ready >= need
 *   completer: push; cq_ready += n; if cq_waiters and the new count >=
 *              cq_want: cq_want = INT64_MAX; cq_seq++; futex_wake(all)
 * All of these are seq_cst. No lost wake-up: the completer's add and the
 * waiter's lowering of cq_want come in one order; if the add comes first,
 * the waiter's load sees it; if the lowering comes first, the completer's
 * load of cq_want sees it (or a smaller need), or finds it reset by another
 * completer, which bumped cq_seq after the reset: the waiter's key is then
 * stale (its key load precedes its lowering, which precedes the reset), so
 * its futex_wait returns at once. Every waiter woken looks again and lowers
 * cq_want anew. A waiter that leaves (timeout, signal, events taken by
 * another collector) may leave its need in cq_want: that costs at most one
 * early wake-up of the others, never a missed one. Waiters of very
 * different needs share one word: one for 64 is woken (and sleeps again)
 * whenever one for 1 is satisfied.
 *
 * Collectors reserve before they take (sr_cq_collect_min): a CAS takes k
 * from cq_ready, then k entries are popped. So cq_ready never counts an
 * entry already taken, and a waiter takes nothing until it can return
 * with its min_nr: no sleeping waiter holds events another one needs.
 *
 * Destruction waits for every thread inside async_getevents (ctx->users) to
 * leave before freeing: destroy wakes them and they return what they have.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "futex.h"
#include "uaccess.h"
#include "../engine/kmod.h"
#include "../table/table.h"

#define SR_MAX_EVENTS (1u << 20)

struct sr_ctx *sr_handle_table[SR_CTX_MAX]; /* core.h: read by sr_ctx_get */
static uint32_t sr_handle_next; /* slots below this have a struct */
static uint32_t sr_handle_free[SR_CTX_MAX];
static uint32_t sr_handle_nfree;
static pthread_mutex_t sr_handle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t sr_atfork_once = PTHREAD_ONCE_INIT;
uint32_t sr_fork_gen;

/* The library's descriptors sit below this number (or below RLIMIT_NOFILE
 * when that is lower): high enough that a program reaches it only with
 * about a thousand files open, low enough that the kernel's fd table stays
 * small (1024 slots: 8 KiB) and select()'s FD_SETSIZE is never passed. */
#define SR_FD_TOP 1024

int sr_fd_high(int fd)
{
	struct rlimit rl;
	long top = SR_FD_TOP;

	if (fd < 0)
		return fd;
	int saved = errno; /* the probes below fail on purpose */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < (rlim_t)top)
		top = (long)rl.rlim_cur;
	/* The highest free number below top, looked for from the top down (as
	 * bash places its own descriptors), a bounded number of tries: one,
	 * unless the program or several contexts hold the numbers there. */
	for (long n = top - 1, tries = 0; n > fd && tries < 64; n--, tries++) {
		if (fcntl((int)n, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* The lowest free number >= n: n, unless another thread took
		 * it meanwhile; EMFILE if nothing is free up there. */
		int hi = fcntl(fd, F_DUPFD_CLOEXEC, (int)n);
		if (hi < 0)
			break;
		close(fd);
		errno = saved;
		return hi;
	}
	errno = saved;
	return fd; /* nothing free up there: it stays where open put it */
}

/* Runs in a fork() child, single-threaded, before it returns from fork. */
static void sr_atfork_child(void)
{
	uint32_t parent = sr_fork_gen;

	/* Every context now belongs to the parent. */
	sr_fork_gen++;
	/* Another thread of the parent may have held it at fork(); the table
	 * itself is consistent at every instant (each change is one store). */
	pthread_mutex_init(&sr_handle_lock, NULL);
	for (uint32_t s = 0; s < sr_handle_next && s < SR_CTX_MAX; s++) {
		struct sr_ctx *ctx = sr_handle_table[s];
		/* Live and created in the parent: destroy sets live = 0 before
		 * it closes anything, and setup sets it after everything is
		 * open, so these descriptors are open and the parent's. */
		if (!ctx || !ctx->live || ctx->fork_gen != parent)
			continue;
		if (ctx->ur.ready) {
			close(ctx->ur.ring.ring_fd);
			close(ctx->ur.efd);
			ctx->ur.ready = 0;
		}
		if (ctx->km)
			sr_kmod_atfork_child(ctx); /* the module's ring, likewise */
	}
	sr_syslet_atfork_child();
	sr_batchsys_atfork_child();
	sr_uaccess_atfork_child();
}

static void sr_atfork_register(void)
{
	pthread_atfork(NULL, NULL, sr_atfork_child);
}

void sr_fork_watch(void)
{
	pthread_once(&sr_atfork_once, sr_atfork_register);
}

async_context_t sr_handle_of(const struct sr_ctx *ctx)
{
	return (async_context_t)(uintptr_t)(((uint64_t)ctx->gen << SR_CTX_SLOT_BITS) | (ctx->slot + 1));
}

struct sr_ctx *sr_ctx_lookup(async_context_t h)
{
	uint64_t v = (uint64_t)(uintptr_t)h;
	uint64_t slot = (v & ((1u << SR_CTX_SLOT_BITS) - 1)) - 1;
	struct sr_ctx *ctx;

	if (sr_unlikely(slot >= SR_CTX_MAX))
		return NULL;
	/* Acquire pairs with the release that publishes a new slot's struct. */
	ctx = sr_load_acquire(&sr_handle_table[slot]);
	if (sr_unlikely(!ctx || sr_load_acquire(&ctx->gen) != (uint32_t)(v >> SR_CTX_SLOT_BITS) ||
			!sr_load_relaxed(&ctx->live) || ctx->fork_gen != sr_fork_gen))
		return NULL;
	return ctx;
}

/* A free slot's context, or NULL with *err: -EAGAIN when all SR_CTX_MAX
 * are in use (as io_setup beyond aio-max-nr), -ENOMEM. */
static struct sr_ctx *handle_alloc(int *err)
{
	struct sr_ctx *ctx = NULL;
	uint32_t slot;

	*err = -EAGAIN;
	pthread_mutex_lock(&sr_handle_lock);
	if (sr_handle_nfree) {
		slot = sr_handle_free[--sr_handle_nfree];
		ctx = sr_handle_table[slot];
		/* Nobody holds a free slot's lock in this process; a fork child
		 * may have inherited it held by a thread of the parent. */
		pthread_mutex_init(&ctx->lock, NULL);
	} else if (sr_handle_next < SR_CTX_MAX) {
		*err = -ENOMEM;
		slot = sr_handle_next;
		/* Aligned as the struct asks (its hot counters sit on their
		 * own cache lines); never freed. */
		if (posix_memalign((void **)&ctx, _Alignof(struct sr_ctx), sizeof(*ctx)))
			ctx = NULL;
		if (ctx) {
			memset(ctx, 0, sizeof(*ctx));
			ctx->slot = slot;
			pthread_mutex_init(&ctx->lock, NULL);
			sr_handle_next++;
			/* Release pairs with the acquire in sr_ctx_lookup and sr_ctx_get (core.h). */
			sr_store_release(&sr_handle_table[slot], ctx);
		}
	}
	pthread_mutex_unlock(&sr_handle_lock);
	return ctx;
}

static void handle_release(struct sr_ctx *ctx)
{
	pthread_mutex_lock(&sr_handle_lock);
	sr_handle_free[sr_handle_nfree++] = ctx->slot;
	pthread_mutex_unlock(&sr_handle_lock);
}

static uint32_t roundup_pow2(uint32_t v)
{
	uint32_t p = 2;
	while (p < v)
		p <<= 1;
	return p;
}

static void ctx_free_memory(struct sr_ctx *ctx)
{
	sr_threads_free(ctx);
	free(ctx->reqs);
	free(ctx->ring_mem);
	ctx->reqs = NULL;
	ctx->ring_mem = NULL;
	if (ctx->efd >= 0)
		close(ctx->efd);
	ctx->efd = -1;
}

int sr_ctx_create(unsigned long nr_events, const struct sysring_params *p,
		  const struct sr_face_ops *ops, struct sr_ctx **out)
{
	struct sr_ctx *ctx;
	uint32_t cap, gen;
	size_t one;
	unsigned char *mem;
	int ret;

	if (nr_events == 0 || nr_events > SR_MAX_EVENTS || !out)
		return -EINVAL;
	ret = sr_params_check(p);
	if (ret)
		return ret;
	sr_fork_watch();
	/* the accessors' fault handler, in place (again) before calls come */
	sr_uaccess_check();
	/* the module's descriptor now, not in the middle of calls (kmod.c);
	 * its absence is no error of this call: errno stays */
	int saved = errno;
	(void)sr_kmod_open();
	errno = saved;

	ctx = handle_alloc(&ret);
	if (!ctx)
		return ret;
	gen = ctx->gen;
	memset(&ctx->live, 0, sizeof(*ctx) - offsetof(struct sr_ctx, live));
	ctx->efd = -1;
	ctx->cq_want = INT64_MAX; /* no waiter */
	ctx->fork_gen = sr_fork_gen;
	ctx->nr_events = (uint32_t)nr_events;
	ctx->ops = ops;
	sr_config_resolve(&ctx->cfg, p);

	cap = roundup_pow2((uint32_t)nr_events);
	one = (sr_ring_bytes(cap, sizeof(uint32_t)) + SR_CACHELINE - 1) & ~(size_t)(SR_CACHELINE - 1);
	ctx->ring_mem_bytes = 3 * one;
	ret = -ENOMEM;
	if (posix_memalign(&ctx->ring_mem, SR_CACHELINE, ctx->ring_mem_bytes))
		goto fail;
	mem = ctx->ring_mem;
	if (sr_ring_format(mem, one, cap, sizeof(uint32_t)) || sr_ring_attach(&ctx->freeq, mem, one) ||
	    sr_ring_format(mem + one, one, cap, sizeof(uint32_t)) ||
	    sr_ring_attach(&ctx->sq, mem + one, one) ||
	    sr_ring_format(mem + 2 * one, one, cap, sizeof(uint32_t)) ||
	    sr_ring_attach(&ctx->cq, mem + 2 * one, one)) {
		ret = -EINVAL;
		goto fail;
	}
	ctx->reqs = calloc(nr_events, sizeof(*ctx->reqs));
	if (!ctx->reqs)
		goto fail;
	for (uint32_t i = 0; i < nr_events; i++) {
		ctx->reqs[i].idx = i;
		(void)sr_ring_push_u32(&ctx->freeq, i);
	}
	ret = sr_threads_init(ctx, ctx->cfg.threads);
	if (ret)
		goto fail;
	/* io_uring unless forced to threads; without it, threads do all. */
	if (ctx->cfg.engine == SYSRING_ENGINE_KMOD)
		(void)sr_kmod_init(ctx); /* without the module: threads, as for auto */
	if (ctx->cfg.engine != SYSRING_ENGINE_THREADS && sr_uring_init(ctx) == 0)
		/* A fork child must never touch the parent's rings: it does
		 * not even get the mapping (best effort: without it the child
		 * still never uses it, see sr_atfork_child). */
		(void)io_uring_ring_dontfork(&ctx->ur.ring);

	/* Release pairs with the acquire of gen in sr_ctx_lookup and sr_ctx_get: a thread
	 * that sees the new generation sees an initialised context. */
	sr_store_relaxed(&ctx->live, 1);
	sr_store_release(&ctx->gen, gen + 1);
	*out = ctx;
	return 0;
fail:
	ctx_free_memory(ctx);
	handle_release(ctx);
	return ret;
}

int sr_ctx_destroy(async_context_t h)
{
	struct sr_ctx *ctx = sr_ctx_lookup(h);
	uint32_t hgen = (uint32_t)((uint64_t)(uintptr_t)h >> SR_CTX_SLOT_BITS);

	if (!ctx)
		return -EINVAL;
	/* Only one destroyer wins, and only on the context the handle names:
	 * the slot may have been destroyed and set up again since the lookup,
	 * with a new generation. From here on sr_ctx_get fails. seq_cst: the
	 * Dekker pair with sr_ctx_get (its increment of users, then its loads
	 * of live and gen) against our change of gen, then our load of users. */
	if (!sr_cas(&ctx->gen, &hgen, hgen + 1, SR_SEQ_CST, SR_RELAXED))
		return -EINVAL;
	/* Routing, the engines and the waiters read live to stop early. */
	__atomic_store_n(&ctx->live, 0, __ATOMIC_SEQ_CST);

	/*
	 * Wait out every thread inside an entry point. Submitters and
	 * collectors leave on their own after a bounded amount of work
	 * (routing and the engines see !live and stop early); those asleep
	 * in async_getevents are woken and return what they have. Until this
	 * loop ends the engines run, so what a submitter queued still
	 * completes, and nothing is queued once they stop. A canceller
	 * inside sr_ctx_cancel leaves too: its interrupt loop ends when the
	 * interrupted call returns.
	 */
	/* Acquire pairs with sr_ctx_put's release decrement: once it reads 0
	 * no entry point touches the context any more. */
	while (__atomic_load_n(&ctx->users, __ATOMIC_SEQ_CST)) {
		/* Release pairs with the waiters' acquire of cq_seq. */
		sr_fetch_add(&ctx->cq_seq, 1, SR_RELEASE);
		sr_futex_wake(&ctx->cq_seq, INT_MAX, false);
		struct timespec ts = {0, 50 * 1000};
		nanosleep(&ts, NULL);
	}
	(void)sr_load_acquire(&ctx->users);

	/* io_uring first: a cancelled request's syslet could still hand its
	 * next atom to the threads otherwise (routing sees !live and stops). */
	sr_uring_shutdown(ctx);
	sr_kmod_shutdown(ctx);
	sr_threads_shutdown(ctx);

	ctx_free_memory(ctx);
	handle_release(ctx);
	return 0;
}

int sr_ctx_cancel(struct sr_ctx *ctx, const void *user)
{
	int found = 0, already = 0;

	for (uint32_t i = 0; i < ctx->nr_events; i++) {
		struct sr_req *req = &ctx->reqs[i];
		uint32_t st;

		if (sr_load_relaxed(&req->user) != user)
			continue;
again:
		/* Acquire pairs with the state changes of the engines. */
		st = sr_load_acquire(&req->state);
		switch (st) {
		case SR_REQ_QUEUED:
			/* Still queued for the threads: completed here and now,
			 * not by the worker that pops it, which may be blocked
			 * behind a busy one (threads.c drops the entry). */
			/* Pairs with the worker's CAS QUEUED -> RUNNING: one wins. */
			if (!sr_cas(&req->state, &st, SR_REQ_CANCELED, SR_ACQ_REL, SR_ACQUIRE))
				goto again;
			sr_store_relaxed(&req->cancel, 1);
			sr_req_finish(ctx, req, -ECANCELED, SYSRING_ENGINE_THREADS);
			found++;
			break;
		case SR_REQ_RUNNING:
		case SR_REQ_URING:
		case SR_REQ_KMOD:
		case SR_REQ_INLINE:
			/* One canceller wins; the engines read cancel relaxed
			 * and re-check after the interrupting signal. */
			if (sr_exchange(&req->cancel, 1, SR_ACQ_REL)) {
				already++;
				break;
			}
			if (st == SR_REQ_RUNNING)
				sr_threads_interrupt(ctx, req);
			else if (st == SR_REQ_URING)
				sr_uring_cancel(ctx, req);
			else if (st == SR_REQ_KMOD)
				sr_kmod_interrupt(ctx, req);
			found++;
			break;
		case SR_REQ_CANCELED:
			already++;
			break;
		default:
			break; /* free or finished */
		}
	}
	if (found)
		return 0;
	return already ? -EALREADY : -ENOENT;
}

/* ---- completion queue of the async face ---- */

static void efd_signal(struct sr_ctx *ctx)
{
	/* Acquire pairs with the release store of efd in sysring_eventfd. */
	int fd = sr_load_acquire(&ctx->efd);
	if (fd >= 0)
		eventfd_write(fd, 1);
}

/*
 * The eventfd must be readable exactly while events wait, once everyone is
 * done with it. Completers write it (the count went up from zero) after
 * their events are already collectable, collectors drain it when they leave
 * nothing behind; either may act on a count the other has changed since.
 * So whoever touches the eventfd and then sees no event waiting drains it,
 * looks again, writes it back if one arrived meanwhile, looks again, ...
 * and stops only when its last touch agrees with a count read after it.
 * Every change of the count that could disagree is made by a thread that
 * touches the eventfd afterwards (a completer taking the count from zero
 * or below to above zero, a collector leaving nothing), so the last one to
 * touch it leaves it right. Without this a collector could take an event between its
 * completer's push and write, and the fd stayed readable with nothing to
 * collect (tests/eventfd.c). The loop turns only while other threads keep
 * changing the count under it.
 */
static void efd_settle(struct sr_ctx *ctx)
{
	eventfd_t v;
	/* Acquire pairs with the release store of efd in sysring_eventfd,
	 * which another thread may make right now. */
	int fd = sr_load_acquire(&ctx->efd);

	if (fd < 0)
		return;
	for (;;) {
		eventfd_read(fd, &v); /* non-blocking: EAGAIN if already empty */
		if ((int64_t)__atomic_load_n(&ctx->cq_ready, __ATOMIC_SEQ_CST) <= 0)
			return;
		efd_signal(ctx);
		if ((int64_t)__atomic_load_n(&ctx->cq_ready, __ATOMIC_SEQ_CST) > 0)
			return;
	}
}

/* The pushed entries are in the ring: count them, then signal. */
static void cq_published(struct sr_ctx *ctx, uint32_t n)
{
	/* seq_cst: Dekker with async_getevents (cq_waiters++, load cq_ready). */
	int64_t prev = (int64_t)sr_fetch_add(&ctx->cq_ready, n, SR_SEQ_CST);
	/* The count crossed from nothing waiting to something: it can start
	 * below zero (a collector took an entry between its push and its
	 * completer's add) and a batch adds several at once, so a test of
	 * prev == 0 alone would miss -1 -> 2. */
	/* Acquire pairs with the release store of efd in sysring_eventfd. */
	if (prev <= 0 && prev + (int64_t)n > 0 && sr_load_acquire(&ctx->efd) >= 0) {
		efd_signal(ctx);
		/* Collected before our write landed? (efd_settle) */
		if ((int64_t)__atomic_load_n(&ctx->cq_ready, __ATOMIC_SEQ_CST) <= 0)
			efd_settle(ctx);
	}
	/* seq_cst: the Dekker pair with the waiter's lowering of cq_want
	 * (protocol at the top of this file). */
	if (__atomic_load_n(&ctx->cq_waiters, __ATOMIC_SEQ_CST) &&
	    prev + (int64_t)n >= __atomic_load_n(&ctx->cq_want, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&ctx->cq_want, INT64_MAX, __ATOMIC_SEQ_CST);
		/* seq_cst: ordered after the reset, so a waiter whose need the
		 * reset dropped holds a stale key (see the top of this file). */
		sr_fetch_add(&ctx->cq_seq, 1, SR_SEQ_CST);
		sr_futex_wake(&ctx->cq_seq, INT_MAX, false);
	}
}

/* This thread's open bracket (sr_cq_batch_begin), if any. Initial-exec:
 * a plain %fs access on the hot path, not a __tls_get_addr call. */
static __thread struct sr_cq_batch *sr_cq_open __attribute__((tls_model("initial-exec")));

static void cq_batch_flush(struct sr_cq_batch *b)
{
	if (!b->n)
		return;
	sr_ring_push_multiple_wait(&b->ctx->cq, b->idx, b->n); /* never full, see core.h */
	cq_published(b->ctx, b->n);
	b->n = 0;
}

bool sr_cq_batch_begin(struct sr_ctx *ctx, struct sr_cq_batch *b)
{
	if (sr_cq_open)
		return false;
	b->ctx = ctx;
	b->n = 0;
	sr_cq_open = b;
	return true;
}

void sr_cq_batch_end(struct sr_cq_batch *b, bool began)
{
	if (!began)
		return;
	sr_cq_open = NULL;
	cq_batch_flush(b);
}

void sr_cq_push(struct sr_ctx *ctx, struct sr_req *req)
{
	struct sr_cq_batch *b = sr_cq_open;

	if (b && b->ctx == ctx) {
		if (b->n == 64)
			cq_batch_flush(b);
		b->idx[b->n++] = req->idx;
		return;
	}
	sr_ring_push_wait_u32(&ctx->cq, req->idx); /* never full, see core.h */
	cq_published(ctx, 1);
}

long sr_cq_collect_min(struct sr_ctx *ctx, struct async_event *events, long min, long max)
{
	uint32_t idx[64];
	int64_t ready, left;
	long n = 0, k;

	if (min < 1)
		min = 1;
	/* Reserve first: only what is counted (published) is taken, and only
	 * when at least `min` is, so a collector never holds events it cannot
	 * return with (another waiter's, whose min_nr they would meet).
	 * seq_cst: the count is the Dekker partner of cq_published and of the
	 * waiters' loads (protocol at the top of this file). */
	ready = (int64_t)__atomic_load_n(&ctx->cq_ready, __ATOMIC_SEQ_CST);
	do {
		if (ready < min) {
			k = 0;
			break;
		}
		k = ready < max ? (long)ready : max;
	} while (!__atomic_compare_exchange_n(&ctx->cq_ready, (uint64_t *)&ready, (uint64_t)(ready - k), false,
					      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	left = k ? ready - k : ready;
	/* Every reserved entry is in the ring (pushed before it was counted),
	 * but the head may be an entry a completer is still writing: it is
	 * ours to wait for then, a few instructions unless that completer
	 * was preempted (then give it the CPU). */
	for (unsigned int spins = 0; n < k;) {
		long want = k - n < 64 ? k - n : 64;
		/* one at a time is the common case of a loop that submits one */
		int got = want == 1 ? (sr_ring_pop_u32(&ctx->cq, idx) ? 0 : 1)
				    : sr_ring_pop_multiple(&ctx->cq, idx, want);
		if (got <= 0) {
			if (++spins % 64 == 0)
				sched_yield();
			else
				sr_cpu_relax();
			continue;
		}
		for (int i = 0; i < got; i++) {
			struct sr_req *req = &ctx->reqs[idx[i]];
			events[n].cbp = req->user;
			events[n].res = req->res;
			n++;
			sr_store_relaxed(&req->state, SR_REQ_FREE);
		}
		sr_req_put_multiple(ctx, idx, got);
	}
	/* Nothing left: drain the eventfd, then re-check, since a completion
	 * that raced with the drain must leave it readable. An empty collect
	 * drains too: a completer's write can land after the collect that took
	 * its event, and an epoll loop must not spin on that. */
	if (left <= 0)
		efd_settle(ctx);
	return n;
}

long sr_cq_collect(struct sr_ctx *ctx, struct async_event *events, long max)
{
	return sr_cq_collect_min(ctx, events, 1, max);
}

/* SPDX-License-Identifier: MIT */
/*
 * The syslet face (seeds 001 and 003): async_register / async_exec /
 * async_wait / async_unregister / umem_add.
 *
 * A registration (struct reg) belongs to the thread that registered; it
 * owns a core context whose executor serves that thread's syslets
 * (max_nr_threads bounds its threads). async_exec takes a request from the
 * context and lets the core route it on the calling thread
 * (sr_ctx_exec_cached): while atoms complete without blocking they run
 * right here; the first that would block continues on io_uring or the
 * executor threads, with the same interpreter.
 *
 * The completion ring is user memory: slots are filled from index 0 in
 * order, wrapping, and a slot is written only while it is NULL. A syslet
 * that ends while its slot is still taken waits in the registration's
 * overflow FIFO (it keeps its request) until the application clears the
 * slot; async_wait, async_exec and later completions move it into the ring.
 * Nothing is dropped and nothing is overwritten.
 *
 * Waiting: reg->seq is bumped (seq_cst) after every change a waiter might be
 * waiting for (a slot written, inflight dropping); async_wait reads seq
 * before looking, so a change after its look makes its futex_wait return at
 * once. While the overflow is not empty it also re-polls every millisecond,
 * since the application frees slots with plain stores and no wake-up.
 *
 * Lifetime. A registration's context is used only between sr_ctx_get and
 * sr_ctx_put on its handle (reg->h), or by its engines, so async_unregister
 * from another thread (which destroys the context: destroy waits for those
 * users, then stops the engines) never frees what the owner thread reads.
 * The struct reg itself is freed only by its owner thread (my_reg, the
 * thread-exit handler, or its own async_unregister), so the owner may hold
 * it across a concurrent unregister; an owner that finds its context gone
 * acts as a thread without a registration (async_exec) or fails EINVAL
 * (async_wait).
 *
 * fork(). A registration belongs to a thread of the process that made it.
 * In a child, the registration the forking thread inherited (tls_reg) is
 * no registration: reg->fork_gen tells, async_exec runs syslets on the
 * calling thread as on a thread without a ring (nothing of the parent is
 * touched: its context, io_uring and threads are not the child's),
 * async_wait and async_unregister fail with EINVAL, and async_register
 * makes a new one. The child's copies are never freed (the list keeps them
 * reachable) and their locks never taken; regs_lock is reset in the child.
 *
 * Lock order: regs_lock -> reg->lock; reg->lock is taken by completing
 * threads (workers, the reaper) and never held across a call into the core.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/core.h"
#include "../core/deadline.h"
#include "../core/futex.h"
#include "../core/sigfwd.h"
#include "../core/uaccess.h"

struct reg {
	struct syslet_uatom **ring;
	unsigned long nslots;
	unsigned long kidx; /* next slot to fill (under lock) */
	pthread_mutex_t lock;
	struct sr_req *ov_head, *ov_tail; /* finished, waiting for their slot */
	uint64_t inflight; /* went async and not yet in the ring */
	uint32_t seq;      /* futex word for async_wait */
	uint32_t waiters;
	uint64_t written;  /* completions written into the ring, ever */
	uint64_t want;     /* the waiter sleeps until written reaches this */
	uint32_t gone;     /* unregistered; the owner thread frees it */
	uint32_t fork_gen; /* sr_fork_gen when registered: a fork child's copy is dead */
	/* The context serving it, and its handle. ctx is set once; it is
	 * dereferenced only inside sr_ctx_get(h) .. sr_ctx_put, or by the
	 * context's own engines (syslet_complete). */
	struct sr_ctx *ctx;
	async_context_t h;
	struct reg *next;
};

static __thread struct reg *tls_reg;
static pthread_mutex_t regs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg *regs;
static pthread_key_t reg_key;
static int reg_key_err; /* pthread_key_create's answer */
static pthread_once_t reg_key_once = PTHREAD_ONCE_INIT;

/* The child's part of the fork handler (ctx.c): another thread of the
 * parent may have held regs_lock; the list itself is consistent at every
 * instant (each change is one pointer store) and is kept as it is. */
void sr_syslet_atfork_child(void)
{
	pthread_mutex_init(&regs_lock, NULL);
}

static inline long sr_ret_long(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static void notify(struct reg *r)
{
	/* seq_cst: a waiter that read seq before our change sees it changed,
	 * so its futex_wait returns at once; the wake-up itself is sent only
	 * when the waiter has what it asked for (or nothing is left). */
	__atomic_fetch_add(&r->seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->waiters, __ATOMIC_SEQ_CST) &&
	    (__atomic_load_n(&r->written, __ATOMIC_SEQ_CST) >= __atomic_load_n(&r->want, __ATOMIC_SEQ_CST) ||
	     !__atomic_load_n(&r->inflight, __ATOMIC_SEQ_CST)))
		sr_futex_wake(&r->seq, INT_MAX, false);
}

/* ov_head is written under r->lock with relaxed atomic stores because
 * flush() and async_wait peek at it without the lock (a hint only).
 *
 * Move finished syslets from the overflow into free ring slots, in order.
 * Called with r->lock held; returns how many moved. */
static unsigned int flush_locked(struct reg *r)
{
	unsigned int moved = 0;

	if (!r->nslots) {
		/* The ring is gone (its thread exited): nothing is written. */
		while (r->ov_head) {
			struct sr_req *req = r->ov_head;
			sr_store_relaxed(&r->ov_head, req->ov_next);
			sr_req_put(r->ctx, req);
			/* Release pairs with async_wait's acquire of inflight. */
			sr_fetch_sub(&r->inflight, 1, SR_RELEASE);
		}
		r->ov_tail = NULL;
		return 0;
	}
	while (r->ov_head) {
		struct syslet_uatom **slot = &r->ring[r->kidx];
		struct sr_req *req = r->ov_head;
		/* Acquire pairs with nothing of ours: the application clears
		 * slots with plain stores; we only need to see NULL. */
		if (__atomic_load_n(slot, __ATOMIC_ACQUIRE))
			break;
		/* Release: what the syslet wrote (ret_ptr results) is visible
		 * to whoever sees the atom in the ring. */
		__atomic_store_n(slot, req->cur, __ATOMIC_RELEASE);
		r->kidx = (r->kidx + 1) % r->nslots;
		__atomic_fetch_add(&r->written, 1, __ATOMIC_SEQ_CST);
		sr_store_relaxed(&r->ov_head, req->ov_next);
		if (!r->ov_head)
			r->ov_tail = NULL;
		sr_req_put(r->ctx, req);
		/* Release pairs with async_wait's acquire of inflight. */
		sr_fetch_sub(&r->inflight, 1, SR_RELEASE);
		moved++;
	}
	return moved;
}

static void flush(struct reg *r)
{
	unsigned int moved;

	if (!sr_load_relaxed(&r->ov_head))
		return;
	pthread_mutex_lock(&r->lock);
	moved = flush_locked(r);
	pthread_mutex_unlock(&r->lock);
	if (moved)
		notify(r);
}

/* The face's complete op: a syslet ended (req->cur is the atom that ended
 * it). Cached ones are async_exec's business. */
static void syslet_complete(struct sr_ctx *ctx, struct sr_req *req)
{
	struct reg *r = ctx->face;

	if (!req->async)
		return;
	pthread_mutex_lock(&r->lock);
	if (req->atom.flags & SYSLET_NO_COMPLETE) { /* the copy of *req->cur (exec.c) */
		sr_req_put(ctx, req);
		/* Release pairs with async_wait's acquire of inflight. */
		sr_fetch_sub(&r->inflight, 1, SR_RELEASE);
	} else {
		req->ov_next = NULL;
		if (r->ov_tail)
			r->ov_tail->ov_next = req;
		else
			sr_store_relaxed(&r->ov_head, req);
		r->ov_tail = req;
		flush_locked(r);
	}
	pthread_mutex_unlock(&r->lock);
	notify(r);
}

static const struct sr_face_ops syslet_face_ops = {
	.complete = syslet_complete,
};

static void reg_teardown(struct reg *r)
{
	/* Cancels and interrupts what is in flight; the completions still go
	 * into the ring while there is room. Waits for the owner thread to
	 * leave async_exec / async_wait's use of the context (a bounded
	 * amount of work). */
	sr_ctx_destroy(r->h);
	/* What did not fit is dropped: the ring is being given back. Its
	 * requests died with the context (the list must not be walked), and
	 * every other one has left `inflight` already, since destroy returns
	 * once all have completed: so nothing is in flight now. An
	 * async_wait in the owner thread (unregistered from another thread)
	 * must see that, or it sleeps on for completions that will not come. */
	pthread_mutex_lock(&r->lock);
	sr_store_relaxed(&r->ov_head, NULL);
	r->ov_tail = NULL;
	/* Release pairs with async_wait's acquire of inflight. */
	sr_store_release(&r->inflight, 0);
	pthread_mutex_unlock(&r->lock);
}

static void reg_free(struct reg *r)
{
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Thread exit without async_unregister: the ring may be gone with the
 * thread's stack, so nothing more is written into it. */
static void reg_thread_exit(void *arg)
{
	struct reg *r = arg, **pp;

	if (r->fork_gen != sr_fork_gen)
		return; /* a fork child's copy of the parent's: not ours */

	/* Under regs_lock: an async_unregister from another thread is either
	 * done with r (gone is set) or has not found it (we unlink it). */
	pthread_mutex_lock(&regs_lock);
	for (pp = &regs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	bool gone = sr_load_acquire(&r->gone);
	pthread_mutex_unlock(&regs_lock);
	if (!gone) {
		pthread_mutex_lock(&r->lock);
		r->nslots = 0; /* flush_locked writes nothing from now on */
		pthread_mutex_unlock(&r->lock);
		reg_teardown(r);
	}
	reg_free(r);
}

static void reg_key_init(void)
{
	reg_key_err = pthread_key_create(&reg_key, reg_thread_exit);
}

/* The calling thread's live registration, freeing one that another thread
 * unregistered and forgetting one inherited across fork. */
static struct reg *my_reg(void)
{
	struct reg *r = tls_reg;

	if (!r)
		return NULL;
	if (sr_unlikely(r->fork_gen != sr_fork_gen)) {
		/* The parent's, copied into this fork child: no registration
		 * here (see the top of the file). Left in the list, not freed. */
		tls_reg = NULL;
		pthread_setspecific(reg_key, NULL);
		return NULL;
	}
	/* Acquire pairs with async_unregister's release of gone. */
	if (sr_load_acquire(&r->gone)) {
		tls_reg = NULL;
		pthread_setspecific(reg_key, NULL);
		reg_free(r);
		r = NULL;
	}
	return r;
}

/*
 * The head is the caller's memory: copied once, fault-safe (uaccess.h). The
 * completion ring is written later by library threads, where a fault could
 * not be anyone's EFAULT: it is probed here, every page, with an atomic
 * no-op write (it changes nothing the application may be storing
 * concurrently), so a ring that is unmapped or read-only is this call's
 * EFAULT. 0, -EINVAL or -EFAULT.
 */
static int head_copy(const struct async_head_user *ahu, unsigned int len, struct async_head_user *h)
{
	if (!ahu || len != sizeof(*ahu))
		return -EINVAL;
	if (sr_ua_copy(h, ahu, sizeof(*h)))
		return -EFAULT;
	if (!h->completion_ring || !h->ring_size_bytes ||
	    h->ring_size_bytes % sizeof(struct syslet_uatom *) || h->max_nr_threads == 0)
		return -EINVAL;
	return sr_ua_probe(h->completion_ring, h->ring_size_bytes, true) ? -EFAULT : 0;
}

SR_EXPORT long async_register(struct async_head_user *ahu, unsigned int len)
{
	struct sysring_params p;
	struct async_head_user head;
	struct reg *r;
	unsigned long nslots, pool;
	int ret;

	if ((ret = head_copy(ahu, len, &head)))
		return sr_ret_long(ret);
	ahu = &head;
	pthread_once(&reg_key_once, reg_key_init);
	if (reg_key_err)
		return sr_ret_long(-reg_key_err); /* EAGAIN or ENOMEM */
	if (my_reg()) {
		/* Another thread may be unregistering it right now: it holds
		 * regs_lock until it is done (and `gone` is set). */
		pthread_mutex_lock(&regs_lock);
		pthread_mutex_unlock(&regs_lock);
		if (my_reg())
			return sr_ret_long(-EBUSY);
	}
	nslots = ahu->ring_size_bytes / sizeof(struct syslet_uatom *);
	r = calloc(1, sizeof(*r));
	if (!r)
		return sr_ret_long(-ENOMEM);
	/* Copy what we need: the caller's struct may go out of scope now. */
	r->ring = ahu->completion_ring;
	r->nslots = nslots;
	pthread_mutex_init(&r->lock, NULL);

	sysring_params_init(&p);
	if (ahu->max_nr_threads != -1UL)
		p.threads = ahu->max_nr_threads > 1024 ? 1024 : (uint32_t)ahu->max_nr_threads;
	pool = nslots * 2 < 256 ? 256 : (nslots * 2 > 65536 ? 65536 : nslots * 2);
	ret = sr_ctx_create(pool, &p, &syslet_face_ops, &r->ctx);
	if (ret) {
		reg_free(r);
		return sr_ret_long(ret);
	}
	r->h = sr_handle_of(r->ctx);
	r->fork_gen = sr_fork_gen; /* read after the create installed the fork handler */
	r->ctx->face = r;
	/* The submitting thread runs cached atoms itself: one eager worker per
	 * CPU (measured, docs/engines.md). */
	sr_threads_set_eager(r->ctx, 1);
	/* May allocate (glibc's second-level key blocks): before anything is
	 * published, so that a failure undoes everything. */
	ret = pthread_setspecific(reg_key, r);
	if (ret) {
		sr_ctx_destroy(r->h);
		reg_free(r);
		return sr_ret_long(-ret);
	}
	pthread_mutex_lock(&regs_lock);
	r->next = regs;
	regs = r;
	pthread_mutex_unlock(&regs_lock);
	tls_reg = r;
	return 0;
}

SR_EXPORT long async_unregister(struct async_head_user *ahu, unsigned int len)
{
	struct reg *r = NULL, **pp;
	struct syslet_uatom **ring;

	if (!ahu || len != sizeof(*ahu))
		return sr_ret_long(-EINVAL);
	/* The caller's memory (uaccess.h): an unreadable head is EFAULT. */
	if (sr_ua_copy(&ring, &ahu->completion_ring, sizeof(ring)))
		return sr_ret_long(-EFAULT);
	/* Identified by the ring's address, from any thread. regs_lock is
	 * held to the end: the owner thread, woken by notify, may exit at
	 * once, and its exit handler (reg_thread_exit) frees the
	 * registration only after taking regs_lock, so not while we still
	 * touch it; my_reg frees it only once it sees `gone`, our last
	 * touch. (Lock order: regs_lock -> reg->lock, as everywhere.) */
	pthread_mutex_lock(&regs_lock);
	for (pp = &regs; *pp; pp = &(*pp)->next)
		/* A fork child's copies of the parent's registrations are no
		 * registrations here: skipped, so EINVAL, and nothing waits for
		 * executor threads that do not exist in the child. */
		if ((*pp)->ring == ring && !(*pp)->gone && (*pp)->fork_gen == sr_fork_gen) {
			r = *pp;
			*pp = r->next;
			break;
		}
	if (!r) {
		pthread_mutex_unlock(&regs_lock);
		return sr_ret_long(-EINVAL);
	}
	reg_teardown(r);
	notify(r);
	if (r == tls_reg) {
		tls_reg = NULL;
		pthread_setspecific(reg_key, NULL);
		reg_free(r);
	} else {
		/* Release pairs with my_reg's acquire in the owner thread. */
		sr_store_release(&r->gone, 1);
	}
	pthread_mutex_unlock(&regs_lock);
	return 0;
}

SR_EXPORT struct syslet_uatom *async_exec(struct syslet_uatom *atom)
{
	struct reg *r;
	struct sr_ctx *ctx;
	struct sr_req stk, *req;
	int rt;

	if (!atom) {
		errno = EINVAL;
		return NULL;
	}
	r = my_reg();
	/* No ring to report to (none registered, or it is being unregistered
	 * from another thread right now): the whole syslet runs here. */
	ctx = r ? sr_ctx_get(r->h) : NULL;
	if (!ctx) {
		sr_syslet_run_sync(atom);
		return atom;
	}
	flush(r);
	/* The cached part runs on a request of this call's own, on the
	 * stack: a syslet that never leaves the caller (the common case)
	 * takes no pool request and counts nothing in flight. Nobody else
	 * sees this request: it is not in ctx->reqs, so no canceller or
	 * monitor scans it (a registration's syslets are stopped by
	 * unregistering, which routing sees as !live). Only what routing
	 * reads is set (sr_ctx_exec_cached, core.h). */
	stk.cur = atom;
	stk.deadline_ns = 0;
	stk.cancel = 0;
	stk.partial = 0;
	stk.async = 0;
	stk.skip_inline = 0;
	stk.on_caller = 1;
	stk.tid = sr_self_tid(); /* signals its calls raise come here (sigfwd.h) */
	stk.user = atom;
	stk.state = SR_REQ_INLINE;
	rt = sr_ctx_exec_cached(ctx, &stk);
	if (!rt) {
		sr_ctx_put(ctx);
		return atom; /* cached: nothing queued, nothing in the ring */
	}
	/* An atom would block: the rest goes on in a pool request. */
	req = sr_req_get(ctx);
	if (!req) {
		/* Every request of the registration is in flight: the rest
		 * runs here rather than fail (it blocks the caller;
		 * documented), with the asynchronous path's answers
		 * (thread-scoped atoms only with SYSLET_SYNC), from where the
		 * syslet stands: the current atom's non-blocking attempt
		 * moved nothing, or moved part (stk.partial), which is
		 * finished first. */
		sr_ctx_put(ctx);
		sr_req_run_caller(&stk);
		return atom;
	}
	/* Counted before it can complete, so async_wait never sees 0 early.
	 * Ordered before the request can complete (its release pairs with
	 * async_wait's acquire). */
	sr_fetch_add(&r->inflight, 1, SR_ACQ_REL);
	sr_ctx_exec_async(ctx, req, &stk, rt);
	sr_ctx_put(ctx);
	return NULL;
}

static unsigned long ring_waiting(struct reg *r)
{
	unsigned long n = 0;
	for (unsigned long i = 0; i < r->nslots; i++)
		/* Acquire pairs with flush_locked's release store of the slot. */
		if (__atomic_load_n(&r->ring[i], __ATOMIC_ACQUIRE))
			n++;
	return n;
}

/*
 * async_wait(n) with n larger than the ring. Completions wait in the ring
 * until the application clears their slots, and a completion that finds its
 * slot taken waits in the library, so at most nslots can ever be waiting in
 * the ring: a thread asking for more would sleep while the completions it
 * waits for sit in the overflow, waiting for it (the deadlock of issue 11).
 * Refusing such an n (EINVAL) would break programs that ask for "all of
 * them" or for their queue depth, which may exceed the ring; the seed's
 * rule is that the wait ends when waiting longer cannot help (it "will also
 * return if the number of pending events goes down to zero"). So the
 * target is min(n, nslots): async_wait returns once the ring is full, since
 * nothing more can arrive until the caller makes room. Documented in
 * <sysring/syslet.h> and docs/syslets.md.
 */
SR_EXPORT long async_wait(unsigned long min_wait_events)
{
	struct reg *r = my_reg();
	unsigned long target;

	if (!r)
		return sr_ret_long(-EINVAL);
	target = min_wait_events < r->nslots ? min_wait_events : r->nslots;
	for (;;) {
		/* Acquire pairs with notify's increment. */
		uint32_t key = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		unsigned long have;
		bool idle, overflow;
		struct timespec dl;
		struct sr_ctx *ctx;
		int ret;

		/* Read before the ring is scanned: a completion written after
		 * this read and seen by the scan then only lowers `want` (a
		 * spurious wake-up); read after the scan, one written between
		 * the two would be counted in `written` but not in `have`, and
		 * `want` would ask for one more than needed: no wake-up. */
		uint64_t written = __atomic_load_n(&r->written, __ATOMIC_SEQ_CST);
		/* Unregistered from another thread meanwhile: the ring is no
		 * longer ours to read (its owner may free it now). */
		ctx = sr_ctx_get(r->h);
		if (!ctx)
			return sr_ret_long(-EINVAL);
		/* Before the scan: a completer writes its slot, then leaves
		 * inflight (release; this acquire pairs with it), so "none in
		 * flight" read first means every completion is in the ring
		 * for the scan. Read after it, a completion written between
		 * the scan and this read made async_wait return 0 with that
		 * completion in the ring (about once in 300,000 syslets). */
		idle = !sr_load_acquire(&r->inflight);
		flush(r);
		have = ring_waiting(r);
		overflow = sr_load_relaxed(&r->ov_head) != NULL;
		sr_ctx_put(ctx);
		if (have >= target || idle)
			return (long)have;
		/* Wake us when enough more have been written. */
		__atomic_store_n(&r->want, written + (target - have), __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&r->waiters, 1, __ATOMIC_SEQ_CST);
		if (overflow) {
			/* Slots are freed by plain stores: poll for them. */
			struct timespec ms = {0, 1000 * 1000};
			sr_deadline_set(&dl, &ms);
		} else {
			/* Never, but a deadline all the same: a signal handler
			 * with SA_RESTART must still get EINTR (deadline.h). */
			sr_deadline_never(&dl);
		}
		ret = sr_futex_wait(&r->seq, key, &dl, false);
		__atomic_fetch_sub(&r->waiters, 1, __ATOMIC_RELAXED);
		if (ret == -EINTR)
			return sr_ret_long(-EINTR);
	}
}

SR_EXPORT long umem_add(unsigned long *uptr, unsigned long inc)
{
	uint64_t nv;
	/* fault-safe (uaccess.h): a counter that cannot be written is EFAULT */
	if (!uptr)
		return sr_ret_long(-EFAULT);
	/* as the atom (exec.c) and sysring.ko: an unaligned counter is EINVAL */
	if ((uintptr_t)uptr % sizeof(uint64_t))
		return sr_ret_long(-EINVAL);
	if (sr_ua_add8((uint64_t *)uptr, inc, &nv))
		return sr_ret_long(-EFAULT);
	return (long)nv;
}

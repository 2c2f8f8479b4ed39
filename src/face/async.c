/* SPDX-License-Identifier: MIT */
/*
 * The async face (seed 000). Each async_cb becomes a one-atom syslet in a
 * request: the cb's vargs are the atom's arg_ptr (read when the call runs),
 * the result goes to the event. The seed's conventions are kept: 0 or a
 * count, or -1 with errno; the -errno -> -1/errno conversion is done only by
 * sr_ret() below.
 *
 * Every entry point enters the context with sr_ctx_get and leaves with
 * sr_ctx_put (core.h), so that async_destroy on another thread waits for it
 * instead of freeing what it reads; after the destroy began it fails with
 * EINVAL. Timeouts go through deadline.h (the kernel's validity rules, huge
 * timeouts saturate to "never").
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/core.h"
#include "../core/deadline.h"
#include "../core/futex.h"
#include "../core/sigfwd.h"
#include "../core/uaccess.h"
#include "../table/table.h"

static inline int sr_ret(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (int)r;
}

static const struct sr_face_ops async_face_ops = {
	.complete = sr_cq_push, /* the event goes to the completion queue */
};

/* The caller's params into *pc, fault-safe (uaccess.h): the bytes its size
 * names (all of them for size 0 or a larger struct), the rest zero. 0 or
 * -EFAULT. */
static int params_copy(const struct sysring_params *p, struct sysring_params *pc)
{
	uint32_t size;

	if (sr_ua_copy(&size, &p->size, sizeof(size)))
		return -EFAULT;
	if (!size || size > sizeof(*pc))
		size = sizeof(*pc);
	memset(pc, 0, sizeof(*pc));
	return sr_ua_copy(pc, p, size) ? -EFAULT : 0;
}

SR_EXPORT int sysring_setup(unsigned long nr_events, const struct sysring_params *p,
			    async_context_t *ctx_idp)
{
	struct sysring_params pc;
	struct sr_ctx *ctx;
	int ret;

	if (!ctx_idp)
		return -EINVAL;
	if (p && (ret = params_copy(p, &pc)))
		return ret;
	ret = sr_ctx_create(nr_events, p ? &pc : NULL, &async_face_ops, &ctx);
	if (ret)
		return ret;
	/* ctx_idp is the caller's memory (uaccess.h): as io_setup(2) does when
	 * its put_user fails, the new context is destroyed and the answer is
	 * EFAULT. */
	if (sr_ua_write8(ctx_idp, (uint64_t)(uintptr_t)sr_handle_of(ctx))) {
		sr_ctx_destroy(sr_handle_of(ctx));
		return -EFAULT;
	}
	return 0;
}

SR_EXPORT int async_setup(unsigned long nr_events, async_context_t *ctx_idp)
{
	return sr_ret(sysring_setup(nr_events, NULL, ctx_idp));
}

SR_EXPORT int async_destroy(async_context_t h)
{
	return sr_ret(sr_ctx_destroy(h));
}

/* The number of vargs a call takes (umem_add: 2; unknown calls: none). */
static inline unsigned int cb_nargs(const struct sr_sysent *e, long number)
{
	return e ? e->nargs : (number == __NR_umem_add ? 2 : 0);
}

/*
 * One cb, read fault-safely (uaccess.h): the cb pointer, its number and its
 * vargs pointers up to the first NULL (missing arguments are 0, and nothing
 * past a NULL is read, so a NULL that is the last word of a mapped page is
 * no fault). What cannot be read is EFAULT, as io_submit(2) says of a bad
 * iocb; a NULL cb is EINVAL. The values the pointers point to are read when
 * the call runs. *np: how many pointers were read.
 */
static inline long cb_read(struct async_cb *const *cbpp, uint64_t *cbp, long *number, void **va,
			   unsigned int *np)
{
	uint64_t cb, nr;
	unsigned int n, j;

	if (sr_unlikely(sr_ua_read8(cbpp, &cb)))
		return -EFAULT;
	if (sr_unlikely(!cb))
		return -EINVAL;
	if (sr_unlikely(sr_ua_read8((const void *)(uintptr_t)cb, &nr)))
		return -EFAULT;
	n = cb_nargs((long)nr < 0 ? NULL : sr_sysent(nr), (long)nr);
	void *const *src = ((struct async_cb *)(uintptr_t)cb)->vargs;
	for (j = 0; j < n; j++) {
		uint64_t p;
		if (sr_unlikely(sr_ua_read8(&src[j], &p)))
			return -EFAULT;
		if (!p)
			break;
		if (va)
			va[j] = (void *)(uintptr_t)p;
	}
	*cbp = cb;
	*number = (long)nr;
	*np = j;
	return 0;
}

/* Turn a cb into the request's one atom: its number and the first n vargs
 * pointers (read by cb_read; the rest stay NULL, the end of the list). */
static inline void prep_cb(struct sr_req *req, uint64_t cb, long number, void *const *va, unsigned int n,
			   uint64_t deadline_ns)
{
	struct syslet_uatom *a = &req->atom;

	/* Field by field: a compound literal here compiles to `rep stos`,
	 * whose start-up cost showed in the inline path's profile. */
	a->flags = 0;
	a->nr = number < 0 ? ~0UL : (unsigned long)number; /* no row: -ENOSYS */
	a->ret_ptr = NULL;
	a->next = NULL;
	a->private = NULL;
	a->arg_ptr[0] = a->arg_ptr[1] = a->arg_ptr[2] = NULL;
	a->arg_ptr[3] = a->arg_ptr[4] = a->arg_ptr[5] = NULL;
	for (unsigned int i = 0; i < n; i++)
		a->arg_ptr[i] = va[i];
	req->cur = a;
	sr_store_relaxed(&req->deadline_ns, deadline_ns); /* the threads' monitor reads it */
	sr_store_relaxed(&req->cancel, 0); /* sysring_cancel exchanges it from other threads */
	req->on_caller = 0;
	req->async = 0;
	req->skip_inline = 0;
	req->tid = sr_self_tid(); /* signals its calls raise come here (sigfwd.h) */
	/* Relaxed atomics: sysring_cancel scans these from other threads. */
	sr_store_relaxed(&req->user, (void *)(uintptr_t)cb);
	sr_store_relaxed(&req->state, SR_REQ_INLINE);
}

/* The common single call (cbps readable or not: cb_read says): read once,
 * then the request. Called inside sr_ctx_get .. sr_ctx_put. */
static inline __attribute__((always_inline)) long submit_one(struct sr_ctx *ctx, struct async_cb *cbps[],
							     uint64_t deadline_ns)
{
	uint64_t cb;
	long number, r;
	void *va[6];
	unsigned int n;
	uint32_t idx;

	if (sr_unlikely(r = cb_read(&cbps[0], &cb, &number, va, &n)))
		return r;
	if (sr_ring_pop_u32(&ctx->freeq, &idx))
		return -EAGAIN;
	prep_cb(&ctx->reqs[idx], cb, number, va, n, deadline_ns);
	sr_ctx_dispatch_one(ctx, &ctx->reqs[idx]);
	return 1;
}

/* Called inside sr_ctx_get .. sr_ctx_put. */
static long submit(struct sr_ctx *ctx, long nr, struct async_cb *cbps[], uint64_t deadline_ns)
{
	struct sr_req *reqs[64];
	long done = 0, r;

	if (sr_unlikely(nr < 0 || (nr > 0 && !cbps)))
		return -EINVAL;
	if (nr == 1)
		return submit_one(ctx, cbps, deadline_ns);
	/* Validate everything first: a bad entry queues nothing. */
	for (long i = 0; i < nr; i++) {
		uint64_t cb;
		long number;
		unsigned int n;
		if (sr_unlikely(r = cb_read(&cbps[i], &cb, &number, NULL, &n)))
			return r;
	}

	while (done < nr) {
		uint32_t idx[64];
		int k = sr_req_get_multiple(ctx, idx, nr - done < 64 ? nr - done : 64);
		if (!k)
			break;
		for (int i = 0; i < k; i++) {
			/* Validated above: read in place (only the argument
			 * pointers; their values are read when the call runs). */
			struct async_cb *cb = cbps[done + i];
			long number = cb->number;
			unsigned int n = cb_nargs(number < 0 ? NULL : sr_sysent((unsigned long)number), number), j;
			void *va[6];
			for (j = 0; j < n && cb->vargs[j]; j++)
				va[j] = cb->vargs[j];
			reqs[i] = &ctx->reqs[idx[i]];
			prep_cb(reqs[i], (uintptr_t)cb, number, va, j, deadline_ns);
		}
		sr_ctx_dispatch(ctx, reqs, (unsigned int)k);
		done += k;
	}
	if (!done && nr)
		return -EAGAIN;
	return done;
}

SR_EXPORT int async_submit(async_context_t h, long nr, struct async_cb *cbps[])
{
	struct sr_ctx *ctx = sr_ctx_get(h);
	long r;

	if (sr_unlikely(!ctx))
		return sr_ret(-EINVAL);
	/* One cb, the common case; a NULL array is submit's EINVAL. */
	r = sr_likely(nr == 1 && cbps) ? submit_one(ctx, cbps, 0) : submit(ctx, nr, cbps, 0);
	sr_ctx_put(ctx);
	return sr_ret(r);
}

SR_EXPORT int sysring_submit_timeout(async_context_t h, long nr, struct async_cb *cbps[],
				     const struct timespec *timeout)
{
	struct sr_ctx *ctx;
	struct timespec ts;
	long r;

	/* The timeout is the caller's memory (uaccess.h): read once. */
	if (timeout && sr_ua_copy(&ts, timeout, sizeof(ts)))
		return -EFAULT;
	timeout = timeout ? &ts : NULL;
	if (sr_timeout_check(timeout))
		return -EINVAL;
	ctx = sr_ctx_get(h);
	if (!ctx)
		return -EINVAL;
	/* NULL, or a timeout too large ever to expire: no deadline. */
	r = submit(ctx, nr, cbps, sr_deadline_ns(timeout));
	sr_ctx_put(ctx);
	return (int)r;
}

SR_EXPORT int sysring_cancel(async_context_t h, struct async_cb *cb)
{
	struct sr_ctx *ctx;
	int r;

	if (!cb)
		return -EINVAL;
	ctx = sr_ctx_get(h);
	if (!ctx)
		return -EINVAL;
	r = sr_ctx_cancel(ctx, cb);
	sr_ctx_put(ctx);
	return r;
}

/*
 * The arguments of a collect, as io_getevents(2) checks them: counts not
 * negative, min_nr <= max_nr, an events array when max_nr > 0 (EINVAL here,
 * as documented, where the kernel would fault), a valid timeout. And a wait
 * that can never be satisfied is refused: at most nr_events calls are in
 * flight or uncollected, so min_nr > nr_events events never come; without a
 * timeout it would block forever, with one it could only time out.
 */
static int check_collect(const struct sr_ctx *ctx, long min_nr, long max_nr,
			 const struct async_event *events, const struct timespec *timeout)
{
	if (min_nr < 0 || max_nr < 0 || min_nr > max_nr || (max_nr > 0 && !events) ||
	    (unsigned long)min_nr > ctx->nr_events)
		return -EINVAL;
	return sr_timeout_check(timeout);
}

/* collect_user_mem's rare part: an array over several pages, or one that
 * faulted. */
static __attribute__((noinline, cold)) long collect_probe_slow(long *min_nr, long *max_nr,
							      struct async_event *events, unsigned long n)
{
	uintptr_t page, start = (uintptr_t)events;

	if (!sr_ua_probe(events, n * sizeof(*events), true))
		return 0;
	/* Find the writable start, page by page. */
	for (page = start & ~(uintptr_t)4095; page < start + n * sizeof(*events); page += 4096)
		if (sr_ua_probe((const void *)(page < start ? start : page), 1, true))
			break;
	if (page > start && (page - start) / sizeof(*events) < n)
		n = (page - start) / sizeof(*events);
	else if (page <= start)
		n = 0;
	if (!n)
		return -EFAULT;
	*max_nr = (long)n;
	if (*min_nr > *max_nr)
		*min_nr = *max_nr;
	return 0;
}

/*
 * The caller's memory of a collect (uaccess.h), after check_collect's
 * EINVAL checks: the timeout is read once into *ts (*timeout then points to
 * it), unreadable: -EFAULT, as io_getevents(2)'s copy of it; invalid:
 * -EINVAL. The events array is probed for writing once per call, so that
 * sr_cq_collect's stores cannot fault: at most nr_events events can come,
 * so only that much of it. An array that is writable only in part limits
 * the collect to its writable start, as the kernel stops at the first event
 * it cannot copy; one that cannot take a single event is -EFAULT. Nothing
 * is collected before the probe, so nothing is lost.
 */
static inline long collect_user_mem(const struct sr_ctx *ctx, long *min_nr, long *max_nr,
				    struct async_event *events, const struct timespec **timeout,
				    struct timespec *ts)
{
	unsigned long n = (unsigned long)*max_nr < ctx->nr_events ? (unsigned long)*max_nr : ctx->nr_events;
	uintptr_t start = (uintptr_t)events, last = start + n * sizeof(*events) - 1;

	if (*timeout) {
		if (sr_ua_copy(ts, *timeout, sizeof(*ts)))
			return -EFAULT;
		*timeout = ts;
		if (sr_timeout_check(ts))
			return -EINVAL;
	}
	if (!n)
		return 0;
	/* The common case, an array within one page: one atomic no-op. */
	if (sr_likely(!((start ^ last) & ~(uintptr_t)4095) &&
		      __atomic_load_n(&sr_ua_mode, __ATOMIC_RELAXED) == SR_UA_HANDLER &&
		      !sr_ua_asm_touch(events, 1)))
		return 0;
	return collect_probe_slow(min_nr, max_nr, events, n);
}

static long check_events_spin(struct sr_ctx *ctx, long min_nr, long max_nr, struct async_event events[],
			      const struct timespec *timeout, long got);

static long check_events(struct sr_ctx *ctx, long min_nr, long max_nr, struct async_event events[],
			 const struct timespec *timeout)
{
	struct timespec ts;
	long got;

	if (check_collect(ctx, min_nr, max_nr, events, NULL))
		return -EINVAL;
	if ((got = collect_user_mem(ctx, &min_nr, &max_nr, events, &timeout, &ts)))
		return got;
	/* Nothing in io_uring (relaxed: a hint, sr_uring_reap looks again):
	 * no call, the common case of calls completed inline. */
	if (ctx->cfg.reap == SR_REAP_BOTH && sr_load_relaxed(&ctx->ur.inflight))
		sr_uring_reap(ctx, false);
	if (!timeout)
		return sr_cq_collect(ctx, events, max_nr);
	/* With a timeout: events are taken once min_nr can be met, or at
	 * the deadline, not held while spinning (see getevents). */
	got = sr_cq_collect_min(ctx, events, min_nr, max_nr);
	if (got >= min_nr)
		return got;
	return check_events_spin(ctx, min_nr, max_nr, events, timeout, got);
}

/* check_events with a timeout and fewer than min_nr events: spin in user
 * space only, clock_gettime is answered by the vDSO. A destroy on another
 * thread ends the spin (it waits for us). */
static __attribute__((noinline)) long check_events_spin(struct sr_ctx *ctx, long min_nr, long max_nr,
						       struct async_event events[],
						       const struct timespec *timeout, long got)
{
	struct timespec deadline;

	sr_deadline_set(&deadline, timeout);
	while (got < min_nr && !sr_deadline_expired(&deadline) && sr_load_relaxed(&ctx->live)) {
		for (int i = 0; i < 64; i++)
			sr_cpu_relax();
		if (ctx->cfg.reap == SR_REAP_BOTH)
			sr_uring_reap(ctx, false);
		got += sr_cq_collect_min(ctx, events + got, min_nr - got, max_nr - got);
	}
	if (got < min_nr)
		got += sr_cq_collect(ctx, events + got, max_nr - got); /* the deadline: what there is */
	return got;
}

SR_EXPORT int async_check_events(async_context_t h, long min_nr, long max_nr,
				 struct async_event events[], struct timespec *timeout)
{
	struct sr_ctx *ctx = sr_ctx_get(h);
	long r;

	if (!ctx)
		return sr_ret(-EINVAL);
	r = check_events(ctx, min_nr, max_nr, events, timeout);
	sr_ctx_put(ctx);
	return sr_ret(r);
}

/* Called inside sr_ctx_get .. sr_ctx_put: destroy wakes us and waits. */
static long getevents(struct sr_ctx *ctx, long min_nr, long max_nr, struct async_event events[],
		      const struct timespec *timeout)
{
	struct timespec deadline, ts;
	long got;
	int err = 0;

	if (check_collect(ctx, min_nr, max_nr, events, NULL))
		return -EINVAL;
	if ((got = collect_user_mem(ctx, &min_nr, &max_nr, events, &timeout, &ts)))
		return got;
	/* Always a deadline, "never" without a timeout: a futex wait with a
	 * timeout returns EINTR to a signal handler installed with SA_RESTART,
	 * where one without is restarted (deadline.h). */
	sr_deadline_set(&deadline, timeout);
	if (ctx->cfg.reap == SR_REAP_BOTH) {
		sr_uring_reap(ctx, true);
		sr_kmod_reap(ctx, false);
	}
	/*
	 * Events are taken only once this call can return with its min_nr
	 * (or at its deadline, or on a signal): a waiter never holds events
	 * while it sleeps, so another waiter with a smaller min_nr is never
	 * left asleep with its events taken by one that cannot use them yet.
	 * got is therefore 0 until it is >= min_nr.
	 */
	got = sr_cq_collect_min(ctx, events, min_nr, max_nr);
	if (got < min_nr && ctx->cfg.spin_ns) {
		uint64_t end = sr_now_ns() + ctx->cfg.spin_ns;
		do {
			for (int i = 0; i < 32; i++)
				sr_cpu_relax();
			if ((int64_t)sr_load_relaxed(&ctx->cq_ready) >= min_nr)
				got += sr_cq_collect_min(ctx, events, min_nr, max_nr);
		} while (got < min_nr && sr_now_ns() < end);
	}
	while (got < min_nr) {
		/* seq_cst: pairs with the completer's reset of cq_want, then
		 * increment of cq_seq (protocol at the top of ctx.c). */
		uint32_t key = __atomic_load_n(&ctx->cq_seq, __ATOMIC_SEQ_CST);
		int64_t need = min_nr - got, want;
		int r = 0;

		__atomic_fetch_add(&ctx->cq_waiters, 1, __ATOMIC_SEQ_CST);
		/* Wake me when `need` events wait, not on every completion. */
		want = __atomic_load_n(&ctx->cq_want, __ATOMIC_SEQ_CST);
		while (need < want && !__atomic_compare_exchange_n(&ctx->cq_want, &want, need, false,
								   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			;
		/* seq_cst load: Dekker with cq_published (see ctx.c). */
		if ((int64_t)__atomic_load_n(&ctx->cq_ready, __ATOMIC_SEQ_CST) < need &&
		    sr_load_relaxed(&ctx->live))
			r = sr_futex_wait(&ctx->cq_seq, key, &deadline, false);
		__atomic_fetch_sub(&ctx->cq_waiters, 1, __ATOMIC_RELAXED);
		/* Acquire pairs with destroy's store of live: being destroyed,
		 * we return what we have (destroy waits for us to leave). */
		if (!sr_load_acquire(&ctx->live))
			break;
		got += sr_cq_collect_min(ctx, events, min_nr, max_nr);
		if (got >= min_nr)
			break;
		if (r == -EINTR) {
			/* Nothing taken: the events stay for the next call. */
			err = -EINTR;
			break;
		}
		if (r == -ETIMEDOUT || sr_deadline_expired(&deadline)) {
			got += sr_cq_collect(ctx, events, max_nr); /* what there is */
			break;
		}
	}
	if (err)
		return err;
	return got;
}

SR_EXPORT int async_getevents(async_context_t h, long min_nr, long max_nr,
			      struct async_event events[], struct timespec *timeout)
{
	struct sr_ctx *ctx = sr_ctx_get(h);
	long r;

	if (!ctx)
		return sr_ret(-EINVAL);
	r = getevents(ctx, min_nr, max_nr, events, timeout);
	sr_ctx_put(ctx);
	return sr_ret(r);
}

/* ---- by-value cbs ---- */

struct async_cb_owned {
	long number;
	void *vargs[7];
	long values[6];
};

SR_EXPORT struct async_cb *async_cb_new(long number, unsigned int nargs, ...)
{
	struct async_cb_owned *o;
	va_list ap;

	if (nargs > 6) {
		errno = EINVAL;
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->number = number;
	va_start(ap, nargs);
	for (unsigned int i = 0; i < nargs; i++) {
		o->values[i] = va_arg(ap, long);
		o->vargs[i] = &o->values[i];
	}
	va_end(ap);
	/* vargs[nargs] stays NULL: the end of the list. */
	return (struct async_cb *)o;
}

SR_EXPORT int async_cb_set_arg(struct async_cb *cb, unsigned int i, long value)
{
	struct async_cb_owned *o = (struct async_cb_owned *)cb;
	uint64_t used;

	if (!cb || i >= 6)
		return sr_ret(-EINVAL);
	/* The caller's pointer (uaccess.h): what cannot be accessed is EFAULT. */
	if (sr_ua_read8(&o->vargs[i], &used))
		return sr_ret(-EFAULT);
	if (!used)
		return sr_ret(-EINVAL);
	return sr_ret(sr_ua_write8(&o->values[i], (uint64_t)value));
}

SR_EXPORT void async_cb_free(struct async_cb *cb)
{
	free(cb);
}

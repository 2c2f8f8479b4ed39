/* SPDX-License-Identifier: MIT */
/*
 * The async face (seed 000). Each async_cb becomes a one-atom syslet in a
 * request: the cb's vargs are the atom's arg_ptr (read when the call runs),
 * the result goes to the event. The seed's conventions are kept: 0 or a
 * count, or -1 with errno; the -errno -> -1/errno conversion is done only by
 * sr_ret() below.
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
#include "../core/futex.h"
#include "../table/table.h"

static inline int sr_ret(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (int)r;
}

static void async_complete(struct sr_ctx *ctx, struct sr_req *req)
{
	sr_cq_push(ctx, req);
}

static const struct sr_face_ops async_face_ops = {
	.complete = async_complete,
};

SR_EXPORT int sysring_setup(unsigned long nr_events, const struct sysring_params *p,
			    async_context_t *ctx_idp)
{
	struct sr_ctx *ctx;
	int ret;

	if (!ctx_idp)
		return -EINVAL;
	ret = sr_ctx_create(nr_events, p, &async_face_ops, &ctx);
	if (ret)
		return ret;
	*ctx_idp = sr_handle_of(ctx);
	return 0;
}

SR_EXPORT int async_setup(unsigned long nr_events, async_context_t *ctx_idp)
{
	return sr_ret(sysring_setup(nr_events, NULL, ctx_idp));
}

SR_EXPORT int async_destroy(async_context_t h)
{
	struct sr_ctx *ctx = sr_ctx_lookup(h);

	if (!ctx)
		return sr_ret(-EINVAL);
	return sr_ret(sr_ctx_destroy(ctx));
}

/* Turn a cb into the request's one atom. Only the argument pointers are
 * read here; the values are read when the call runs. */
static inline void prep_cb(struct sr_req *req, struct async_cb *cb, uint64_t deadline_ns)
{
	struct syslet_uatom *a = &req->atom;
	const struct sr_sysent *e = cb->number < 0 ? NULL : sr_sysent((unsigned long)cb->number);
	/* Only as many vargs as the call takes are read (umem_add: 2). */
	unsigned int n = e ? e->nargs : (cb->number == __NR_umem_add ? 2 : 0), i;

	/* Field by field: a compound literal here compiles to `rep stos`,
	 * whose start-up cost showed in the inline path's profile. */
	a->flags = 0;
	a->nr = (unsigned long)cb->number;
	a->ret_ptr = NULL;
	a->next = NULL;
	a->private = NULL;
	a->arg_ptr[0] = a->arg_ptr[1] = a->arg_ptr[2] = NULL;
	a->arg_ptr[3] = a->arg_ptr[4] = a->arg_ptr[5] = NULL;
	for (i = 0; i < n && cb->vargs[i]; i++)
		a->arg_ptr[i] = cb->vargs[i];
	if (sr_unlikely(cb->number < 0))
		a->nr = ~0UL; /* no row: -ENOSYS */
	req->cur = a;
	sr_store_relaxed(&req->deadline_ns, deadline_ns); /* the threads' monitor reads it */
	sr_store_relaxed(&req->cancel, 0); /* sysring_cancel exchanges it from other threads */
	req->on_caller = 0;
	req->async = 0;
	req->skip_inline = 0;
	/* Relaxed atomics: sysring_cancel scans these from other threads. */
	sr_store_relaxed(&req->user, (void *)cb);
	sr_store_relaxed(&req->state, SR_REQ_INLINE);
}

static long submit(struct sr_ctx *ctx, long nr, struct async_cb *cbps[], uint64_t deadline_ns)
{
	struct sr_req *reqs[64];
	long done = 0;

	if (sr_unlikely(!ctx || nr < 0 || (nr > 0 && !cbps)))
		return -EINVAL;
	/* Validate everything first: a bad entry queues nothing. */
	for (long i = 0; i < nr; i++)
		if (sr_unlikely(!cbps[i]))
			return -EINVAL;

	while (done < nr) {
		uint32_t idx[64];
		int n = sr_req_get_multiple(ctx, idx, nr - done < 64 ? nr - done : 64);
		if (!n)
			break;
		for (int i = 0; i < n; i++) {
			reqs[i] = &ctx->reqs[idx[i]];
			prep_cb(reqs[i], cbps[done + i], deadline_ns);
		}
		sr_ctx_dispatch(ctx, reqs, (unsigned int)n);
		done += n;
	}
	if (!done && nr)
		return -EAGAIN;
	return done;
}

SR_EXPORT int async_submit(async_context_t h, long nr, struct async_cb *cbps[])
{
	return sr_ret(submit(sr_ctx_lookup(h), nr, cbps, 0));
}

SR_EXPORT int sysring_submit_timeout(async_context_t h, long nr, struct async_cb *cbps[],
				     const struct timespec *timeout)
{
	uint64_t deadline = 0;

	if (timeout) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L)
			return -EINVAL;
		deadline = sr_now_ns() + (uint64_t)timeout->tv_sec * 1000000000ull +
			   (uint64_t)timeout->tv_nsec;
	}
	return (int)submit(sr_ctx_lookup(h), nr, cbps, deadline);
}

SR_EXPORT int sysring_cancel(async_context_t h, struct async_cb *cb)
{
	struct sr_ctx *ctx = sr_ctx_lookup(h);

	if (!ctx || !cb)
		return -EINVAL;
	return sr_ctx_cancel(ctx, cb);
}

static int check_range(long min_nr, long max_nr, struct async_event *events)
{
	if (min_nr < 0 || max_nr < 0 || min_nr > max_nr || (max_nr > 0 && !events))
		return -EINVAL;
	return 0;
}

SR_EXPORT int async_check_events(async_context_t h, long min_nr, long max_nr,
				 struct async_event events[], struct timespec *timeout)
{
	struct sr_ctx *ctx = sr_ctx_lookup(h);
	struct timespec deadline;
	long got;

	if (!ctx || check_range(min_nr, max_nr, events))
		return sr_ret(-EINVAL);
	if (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L))
		return sr_ret(-EINVAL);
	if (ctx->cfg.reap == SR_REAP_BOTH)
		sr_uring_reap(ctx, false);
	got = sr_cq_collect(ctx, events, max_nr);
	if (got >= min_nr || !timeout)
		return (int)got;
	/* Spin in user space only: clock_gettime is answered by the vDSO. */
	sr_deadline_from_rel(&deadline, timeout);
	while (got < min_nr && !sr_deadline_passed(&deadline)) {
		for (int i = 0; i < 64; i++)
			sr_cpu_relax();
		if (ctx->cfg.reap == SR_REAP_BOTH)
			sr_uring_reap(ctx, false);
		got += sr_cq_collect(ctx, events + got, max_nr - got);
	}
	return (int)got;
}

SR_EXPORT int async_getevents(async_context_t h, long min_nr, long max_nr,
			      struct async_event events[], struct timespec *timeout)
{
	struct sr_ctx *ctx = sr_ctx_lookup(h);
	struct timespec deadline, *dl = NULL;
	long got;
	int err = 0;

	if (!ctx || check_range(min_nr, max_nr, events))
		return sr_ret(-EINVAL);
	if (timeout) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L)
			return sr_ret(-EINVAL);
		sr_deadline_from_rel(&deadline, timeout);
		dl = &deadline;
	}
	/* Announce ourselves so that destroy waits for us before freeing. */
	sr_fetch_add(&ctx->users, 1, SR_SEQ_CST);
	/* users++ is seq_cst and destroy's CAS of live too: either destroy
	 * sees us in users, or we see live == 0 here. */
	if (!sr_load_acquire(&ctx->live)) {
		/* Release pairs with destroy's acquire of users. */
		sr_fetch_sub(&ctx->users, 1, SR_RELEASE);
		return sr_ret(-EINVAL);
	}
	if (ctx->cfg.reap == SR_REAP_BOTH) {
		sr_uring_reap(ctx, true);
		sr_kmod_reap(ctx, false);
	}
	got = sr_cq_collect(ctx, events, max_nr);
	if (got < min_nr && ctx->cfg.spin_ns) {
		uint64_t end = sr_now_ns() + ctx->cfg.spin_ns;
		do {
			for (int i = 0; i < 32; i++)
				sr_cpu_relax();
			if ((int64_t)sr_load_relaxed(&ctx->cq_ready) > 0)
				got += sr_cq_collect(ctx, events + got, max_nr - got);
		} while (got < min_nr && sr_now_ns() < end);
	}
	while (got < min_nr) {
		/* Acquire pairs with the completer's increment of cq_seq. */
		uint32_t key = sr_load_acquire(&ctx->cq_seq);
		int r = 0;

		__atomic_fetch_add(&ctx->cq_waiters, 1, __ATOMIC_SEQ_CST);
		/* seq_cst load: Dekker with sr_cq_push (see ctx.c). */
		if ((int64_t)__atomic_load_n(&ctx->cq_ready, __ATOMIC_SEQ_CST) <= 0 &&
		    sr_load_relaxed(&ctx->live))
			r = sr_futex_wait(&ctx->cq_seq, key, dl, false);
		__atomic_fetch_sub(&ctx->cq_waiters, 1, __ATOMIC_RELAXED);
		/* Acquire pairs with destroy's CAS of live. */
		if (!sr_load_acquire(&ctx->live))
			break; /* destroyed under us: touch nothing more */
		got += sr_cq_collect(ctx, events + got, max_nr - got);
		if (r == -EINTR) {
			err = got ? 0 : -EINTR;
			break;
		}
		if (r == -ETIMEDOUT || (dl && sr_deadline_passed(dl)))
			break;
	}
	/* Release: our reads of the context happen before destroy frees it. */
	sr_fetch_sub(&ctx->users, 1, SR_RELEASE);
	if (err)
		return sr_ret(err);
	return (int)got;
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

	if (!cb || i >= 6 || !o->vargs[i]) {
		errno = EINVAL;
		return -1;
	}
	o->values[i] = value;
	return 0;
}

SR_EXPORT void async_cb_free(struct async_cb *cb)
{
	free(cb);
}

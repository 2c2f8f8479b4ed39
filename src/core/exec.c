/* SPDX-License-Identifier: MIT */
/*
 * Executing atoms: one call (sr_atom_exec) and a whole program
 * (sr_req_run). Every engine that runs calls on a user-space thread comes
 * through here, so the table's verdicts (unknown: -ENOSYS, refused: -EPERM)
 * and the syslet control flow (interp.h) are applied in exactly one place.
 */
#include <errno.h>

#include "core.h"
#include "interp.h"
#include "rawsys.h"
#include "../engine/kmod.h"
#include "../table/table.h"

/* umem_add as an atom: arg0 holds the address of the counter, arg1 the
 * increment; the result is the new value. Missing arguments are 0, as for
 * every call (the list ends at the first NULL): no counter is -EFAULT, no
 * increment adds 0. */
static long umem_add_atom(const struct syslet_uatom *a)
{
	unsigned long *uptr, inc = 0;

	if (!a->arg_ptr[0])
		return -EFAULT;
	uptr = (unsigned long *)*a->arg_ptr[0];
	if (a->arg_ptr[1])
		inc = *a->arg_ptr[1];
	if (!uptr)
		return -EFAULT;
	/* Atomic so that several syslets may share a counter, as the seed's
	 * "multiple syslets can share the same variable" suggests. */
	return (long)__atomic_add_fetch(uptr, inc, __ATOMIC_SEQ_CST);
}

/* `here`: this is the thread that submitted the atom, where thread-scoped
 * calls belong (syscalls.def, class TS); anywhere else they are refused. */
static inline long atom_exec(const struct syslet_uatom *a, bool here)
{
	const struct sr_sysent *e;
	long args[6] = {0, 0, 0, 0, 0, 0};

	if (sr_unlikely(a->nr == (unsigned long)__NR_umem_add))
		return umem_add_atom(a);
	e = sr_sysent(a->nr);
	if (sr_unlikely(!e))
		return -ENOSYS;
	if (sr_unlikely(e->cls == SR_RF))
		return -SR_EREFUSED;
	/* Arguments are read now, when the call runs, so that an argument may
	 * be a variable an earlier call filled. Never read past what the call
	 * takes, nor past the first NULL. */
	for (unsigned int i = 0; i < e->nargs && a->arg_ptr[i]; i++)
		args[i] = (long)*a->arg_ptr[i];
	if (sr_unlikely(e->cls == SR_TS) && !here && sr_class(e, args) == SR_TS)
		return -SR_EREFUSED;
	return sr_rawsys(a->nr, args);
}

long sr_atom_exec(const struct syslet_uatom *a)
{
	return atom_exec(a, false);
}

long sr_atom_exec_here(const struct syslet_uatom *a)
{
	return atom_exec(a, true);
}

void sr_req_finish(struct sr_ctx *ctx, struct sr_req *req, long res, uint32_t engine)
{
	req->res = res;
	req->engine = engine;
	sr_store_relaxed(&req->state, SR_REQ_DONE);
	sr_fetch_add(&ctx->st_engine[engine], 1, SR_RELAXED);
	ctx->ops->complete(ctx, req);
}

void sr_req_run(struct sr_ctx *ctx, struct sr_req *req, uint32_t engine)
{
	struct syslet_uatom *a = req->cur;
	long res = 0;

	for (;;) {
		struct syslet_uatom *next;
		unsigned int intr = 0;

		/* Checked between atoms so that a syslet that loops forever still
		 * ends on cancel, destroy or its deadline. */
		if (sr_unlikely(sr_load_relaxed(&req->cancel) || !sr_load_relaxed(&ctx->live))) {
			res = -ECANCELED;
			break;
		}
		if (sr_unlikely(req->deadline_ns) && sr_now_ns() >= req->deadline_ns) {
			res = -ETIME;
			break;
		}
		res = sr_atom_exec(a);
		/* On an executor thread, EINTR can only come from the cancel
		 * signal (workers block every other signal): a cancel, the
		 * request's timer, or a signal aimed at the previous request
		 * that landed on this one, which is restarted. */
		while (sr_unlikely(res == -EINTR) && engine == SYSRING_ENGINE_THREADS && intr++ < 64) {
			if (sr_load_relaxed(&req->cancel) || !sr_load_relaxed(&ctx->live)) {
				res = -ECANCELED;
				break;
			}
			if (req->deadline_ns && sr_now_ns() >= req->deadline_ns) {
				res = -ETIME;
				break;
			}
			res = sr_atom_exec(a);
		}
		if (a->ret_ptr)
			*a->ret_ptr = res;
		if ((res == -ECANCELED && sr_load_relaxed(&req->cancel)) ||
		    (res == -ETIME && req->deadline_ns))
			break;
		next = sr_syslet_next(a, a->flags, a->next, res);
		if (!next)
			break;
		a = next;
	}
	req->cur = a; /* the atom that ended the program */
	sr_req_finish(ctx, req, res, engine);
}

/* ---- routing: where each atom runs ---- */

enum sr_route { SR_ROUTE_DONE, SR_ROUTE_URING, SR_ROUTE_KMOD, SR_ROUTE_THREADS };

/* Atoms a syslet may run inline in a row before the rest is handed to the
 * executor threads, so that a loop of non-blocking atoms cannot keep a
 * submitting (or completing) thread forever. */
#define SR_INLINE_BUDGET 1024

static void read_args(struct sr_req *req, const struct syslet_uatom *a, unsigned int nargs)
{
	unsigned int i;
	for (i = 0; i < nargs && a->arg_ptr[i]; i++)
		req->args[i] = (long)*a->arg_ptr[i];
	/* Missing arguments are 0; those beyond nargs are never looked at
	 * (not by the kernel, not by the io_uring column), so stay as they are. */
	for (; i < nargs; i++)
		req->args[i] = 0;
}

/* Store an atom's result and move to the next one. Returns true if the
 * request goes on (req->cur is the next atom), false if it was finished. */
static bool advance(struct sr_ctx *ctx, struct sr_req *req, long res, uint32_t engine)
{
	struct syslet_uatom *a = req->cur, *next;

	if (a->ret_ptr)
		*a->ret_ptr = res;
	next = sr_syslet_next(a, a->flags, a->next, res);
	if (!next || sr_load_relaxed(&req->cancel) || !sr_load_relaxed(&ctx->live)) {
		if (next && res >= 0)
			res = -ECANCELED; /* stopped by cancel/destroy, not by the program */
		sr_req_finish(ctx, req, res, engine);
		return false;
	}
	req->cur = next;
	req->skip_inline = 0;
	return true;
}

/* Answers of sr_nowait_needs_plain for the fds of one dispatch: a batch of
 * calls on one fd pays for the check once. Valid only during the dispatch
 * (another thread changing O_NONBLOCK meanwhile races with the plain calls
 * just the same). */
struct fdcache {
	long fd[4];
	bool plain[4];
	unsigned int n;
};

static bool needs_plain(struct fdcache *fc, sr_nowait_fn *fn, const long a[6])
{
	for (unsigned int i = 0; i < fc->n && i < 4; i++)
		if (fc->fd[i] == a[0])
			return fc->plain[i];
	bool v = sr_nowait_needs_plain(fn, a);
	fc->fd[fc->n % 4] = a[0];
	fc->plain[fc->n % 4] = v;
	fc->n++;
	return v;
}

static enum sr_route route(struct sr_ctx *ctx, struct sr_req *req, struct fdcache *fc)
{
	for (unsigned int budget = 0;; budget++) {
		struct syslet_uatom *a = req->cur;
		const struct sr_sysent *e;
		long res;

		if (sr_unlikely(!sr_load_relaxed(&ctx->live) || sr_load_relaxed(&req->cancel))) {
			sr_req_finish(ctx, req, -ECANCELED, SYSRING_ENGINE_INLINE);
			return SR_ROUTE_DONE;
		}
		if (budget >= SR_INLINE_BUDGET)
			return SR_ROUTE_THREADS;
		e = sr_sysent(a->nr);
		if (sr_unlikely(!e) || e->cls == SR_RF) {
			/* Nothing to execute: umem_add is answered here, unknown
			 * and refused calls get their errno -- here only where an
			 * inline attempt is allowed, by the rules of every atom
			 * (docs/syslets.md): SYSLET_ASYNC and SYSRING_INLINE=0
			 * send it to the executor, SYSLET_SYNC keeps it on the
			 * caller. */
			if (!(req->on_caller && (a->flags & SYSLET_SYNC)) &&
			    (!ctx->cfg.inline_calls || (a->flags & SYSLET_ASYNC) || req->skip_inline))
				return SR_ROUTE_THREADS;
			res = sr_atom_exec(a);
			if (!advance(ctx, req, res, SYSRING_ENGINE_INLINE))
				return SR_ROUTE_DONE;
			continue;
		}
		/* SYSLET_SYNC on the submitting thread: run it here, blocking
		 * (thread-scoped calls too: this is their thread). */
		if (req->on_caller && (a->flags & SYSLET_SYNC)) {
			res = sr_atom_exec_here(a);
			if (!advance(ctx, req, res, SYSRING_ENGINE_INLINE))
				return SR_ROUTE_DONE;
			continue;
		}
		unsigned int cls = e->cls;
		if (sr_unlikely(cls == SR_TS)) {
			/* Thread-scoped with these arguments: refused wherever
			 * it would run, inline included, so that the answer does
			 * not depend on the engine (syscalls.def, class TS). */
			read_args(req, a, e->nargs);
			cls = sr_class(e, req->args);
			if (cls == SR_TS) {
				if (!advance(ctx, req, -SR_EREFUSED, SYSRING_ENGINE_INLINE))
					return SR_ROUTE_DONE;
				continue;
			}
		}
		if (ctx->cfg.inline_calls && !(a->flags & SYSLET_ASYNC) && !req->skip_inline) {
			if (cls == SR_NB) {
				read_args(req, a, e->nargs);
				res = sr_rawsys(a->nr, req->args);
				if (!advance(ctx, req, res, SYSRING_ENGINE_INLINE))
					return SR_ROUTE_DONE;
				continue;
			}
			if (e->nowait) {
				read_args(req, a, e->nargs);
				if (e->nowait(req->args, &res)) {
					if (!advance(ctx, req, res, SYSRING_ENGINE_INLINE))
						return SR_ROUTE_DONE;
					continue;
				}
				goto have_args;
			}
		}
		/* Engine "kmod" with the module present: in-kernel workers run
		 * everything that does not complete inline. */
		if (ctx->km && !req->deadline_ns) { /* timed calls: threads' timers */
			read_args(req, a, e->nargs);
			return SR_ROUTE_KMOD;
		}
		if (!e->uring || !sr_uring_ctx_has(&ctx->ur, e->uring->opcode))
			return SR_ROUTE_THREADS;
		read_args(req, a, e->nargs);
		if (e->nowait && needs_plain(fc, e->nowait, req->args))
			return SR_ROUTE_THREADS;
		goto uring;
have_args: /* from a non-blocking attempt that would have blocked */
		if (ctx->km && !req->deadline_ns)
			return SR_ROUTE_KMOD;
		if (!e->uring || !sr_uring_ctx_has(&ctx->ur, e->uring->opcode))
			return SR_ROUTE_THREADS;
uring:
		/* "auto" keeps what io_uring would only hand to io-wq on
		 * sysring's own threads, which are cheaper for it here. */
		if (e->uring->punts && ctx->cfg.engine == SYSRING_ENGINE_AUTO)
			return SR_ROUTE_THREADS;
		req->uop = e->uring;
		return SR_ROUTE_URING;
	}
}

void sr_ctx_dispatch(struct sr_ctx *ctx, struct sr_req **reqs, unsigned int n)
{
	struct sr_req *ur[64], *th[64];
	unsigned int nur = 0, nth = 0;
	struct fdcache fc = {.n = 0};

	if (n == 1) { /* the common single call, without the batching below */
		struct sr_req *req = reqs[0];
		switch (route(ctx, req, &fc)) {
		case SR_ROUTE_DONE:
			return;
		case SR_ROUTE_URING:
			if (sr_uring_submit(ctx, reqs, 1) == 1)
				return;
			/* io_uring would not take it */
			__attribute__((fallthrough));
		case SR_ROUTE_KMOD:
			if (ctx->km && sr_kmod_submit(ctx, reqs, 1) == 1)
				return;
			/* the module's ring is full */
			__attribute__((fallthrough));
		case SR_ROUTE_THREADS:
			/* Release pairs with the acquire CAS of a worker that pops
			 * an older entry of this request (threads.c, in_sq). */
			sr_store_release(&req->state, SR_REQ_QUEUED);
			sr_threads_submit(ctx, reqs, 1);
			return;
		}
	}

	for (unsigned int i = 0; i < n; i++) {
		struct sr_req *req = reqs[i];

		switch (route(ctx, req, &fc)) {
		case SR_ROUTE_DONE:
			break;
		case SR_ROUTE_URING:
			ur[nur++] = req;
			break;
		case SR_ROUTE_KMOD:
			if (sr_kmod_submit(ctx, &req, 1) == 1)
				break;
			__attribute__((fallthrough)); /* ring full: the threads */
		case SR_ROUTE_THREADS:
			sr_store_release(&req->state, SR_REQ_QUEUED);
			th[nth++] = req;
			break;
		}
		if (nur == 64 || (i + 1 == n && nur)) {
			unsigned int got = sr_uring_submit(ctx, ur, nur);
			/* What io_uring would not take (a prep that refused its
			 * arguments) goes to the threads, in order. */
			for (unsigned int k = got; k < nur; k++) {
				sr_store_release(&ur[k]->state, SR_REQ_QUEUED);
				th[nth++] = ur[k];
				if (nth == 64) {
					sr_threads_submit(ctx, th, nth);
					nth = 0;
				}
			}
			nur = 0;
		}
		if (nth == 64 || (i + 1 == n && nth)) {
			sr_threads_submit(ctx, th, nth);
			nth = 0;
		}
	}
}

/*
 * Cached execution through the module (SYSRING_SYSLET_CACHED): the
 * syslet's non-blocking prefix in one crossing, with the same rules as
 * route()'s inline part. Only for syslets of more than one atom: one atom
 * costs a crossing either way, and the ioctl's is dearer.
 */
enum sr_kcached { SR_KC_DONE, SR_KC_ASYNC, SR_KC_THREADS, SR_KC_HERE };

static enum sr_kcached kmod_cached(struct sr_ctx *ctx, struct sr_req *req)
{
	struct syslet_uatom *a = req->cur, *done = NULL, *resume = NULL;
	long res = 0, r;

	if (!ctx->cfg.inline_calls || !ctx->cfg.kmod_cached ||
	    (!a->next && !(a->flags & SYSLET_SKIP_TO_NEXT_ON_STOP)))
		return SR_KC_HERE;
	r = sr_kmod_syslet_cached(a, SR_INLINE_BUDGET, &done, &resume, &res);
	switch (r) {
	case 0: /* the whole syslet ran in the kernel */
		req->cur = done;
		sr_req_finish(ctx, req, res, SYSRING_ENGINE_KMOD);
		return SR_KC_DONE;
	case SYSRING_SYSLET_WOULDBLOCK:
		/* resume's non-blocking attempt was made in the kernel */
		req->cur = resume;
		req->skip_inline = 1;
		return SR_KC_ASYNC;
	case SYSRING_SYSLET_PAUSED: /* the inline budget, as in route() */
		req->cur = resume;
		return SR_KC_THREADS;
	case -EFAULT:
		if (!resume) { /* an atom ran and its result could not be stored */
			req->cur = done;
			sr_req_finish(ctx, req, -EFAULT, SYSRING_ENGINE_KMOD);
			return SR_KC_DONE;
		}
		__attribute__((fallthrough));
	case -EINTR: /* a signal for the caller: go on here, from resume */
		if (resume)
			req->cur = resume;
		return SR_KC_HERE;
	default: /* -ENODEV and the like: nothing ran */
		return SR_KC_HERE;
	}
}

bool sr_ctx_exec_cached(struct sr_ctx *ctx, struct sr_req *req)
{
	struct fdcache fc = {.n = 0};
	enum sr_route r;

	switch (kmod_cached(ctx, req)) {
	case SR_KC_DONE:
		return true;
	case SR_KC_THREADS:
		r = SR_ROUTE_THREADS;
		break;
	default:
		r = route(ctx, req, &fc);
		break;
	}
	if (r == SR_ROUTE_DONE)
		return true;
	/* From here on the syslet runs elsewhere and reports to the ring.
	 * Its current atom's non-blocking attempt was made (or skipped on
	 * purpose): nothing runs twice. */
	req->on_caller = 0;
	req->async = 1;
	req->skip_inline = 1;
	if (r == SR_ROUTE_URING && sr_uring_submit(ctx, &req, 1) == 1)
		return false;
	if (r == SR_ROUTE_KMOD && sr_kmod_submit(ctx, &req, 1) == 1)
		return false;
	sr_store_release(&req->state, SR_REQ_QUEUED);
	sr_threads_submit(ctx, &req, 1);
	return false;
}

void sr_syslet_run_sync(struct syslet_uatom *a)
{
	/* With the module: the whole syslet in one crossing (resuming after a
	 * pause or an interrupting signal), the same interpreter in the kernel
	 * (interp.h). Without it, or if the module cannot read an atom, the
	 * rest runs here. */
	while (a && sr_kmod_open() >= 0) {
		struct syslet_uatom *resume = NULL;
		long r = sr_kmod_syslet(a, 0, NULL, &resume);
		if (r == 0)
			return;
		if ((r == SYSRING_SYSLET_PAUSED || r == -EINTR) && resume) {
			a = resume;
			continue;
		}
		break;
	}
	while (a) {
		long res = sr_atom_exec_here(a);
		if (a->ret_ptr)
			*a->ret_ptr = res;
		a = sr_syslet_next(a, a->flags, a->next, res);
	}
}

void sr_req_atom_done(struct sr_ctx *ctx, struct sr_req *req, long res, uint32_t engine)
{
	if (advance(ctx, req, res, engine))
		sr_ctx_dispatch(ctx, &req, 1);
}

void sr_req_atom_done_bounded(struct sr_ctx *ctx, struct sr_req *req, long res, uint32_t engine,
			      uint32_t *budget)
{
	if (!advance(ctx, req, res, engine))
		return;
	if (sr_likely(*budget)) {
		(*budget)--;
		sr_ctx_dispatch(ctx, &req, 1);
		return;
	}
	/* The reaping thread has continued enough syslets in this pass: the
	 * rest of this one runs on an executor thread (sr_req_run), which
	 * still stops it on cancel, destroy or its deadline. */
	sr_store_relaxed(&req->state, SR_REQ_QUEUED);
	sr_threads_submit(ctx, &req, 1);
}

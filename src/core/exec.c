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
#include "../table/table.h"

/* umem_add as an atom: arg0 holds the address of the counter, arg1 the
 * increment; the result is the new value. */
static long umem_add_atom(const struct syslet_uatom *a)
{
	unsigned long *uptr, inc;

	if (!a->arg_ptr[0] || !a->arg_ptr[1])
		return -EINVAL;
	uptr = (unsigned long *)*a->arg_ptr[0];
	inc = *a->arg_ptr[1];
	if (!uptr)
		return -EFAULT;
	/* Atomic so that several syslets may share a counter, as the seed's
	 * "multiple syslets can share the same variable" suggests. */
	return (long)__atomic_add_fetch(uptr, inc, __ATOMIC_SEQ_CST);
}

long sr_atom_exec(const struct syslet_uatom *a)
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
	return sr_rawsys(a->nr, args);
}

void sr_req_finish(struct sr_ctx *ctx, struct sr_req *req, long res, uint32_t engine)
{
	req->res = res;
	req->engine = engine;
	sr_store_relaxed(&req->state, SR_REQ_DONE);
	sr_fetch_add(&ctx->st_completed, 1, SR_RELAXED);
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
		 * ends on cancel or destroy. */
		if (sr_unlikely(sr_load_relaxed(&req->cancel))) {
			res = -ECANCELED;
			break;
		}
		res = sr_atom_exec(a);
		/* On an executor thread, EINTR can only come from a cancel signal
		 * (workers block every other signal). One aimed at the previous
		 * request may land on this one: restart unless we are the target. */
		while (sr_unlikely(res == -EINTR) && engine == SYSRING_ENGINE_THREADS && intr++ < 64) {
			if (sr_load_relaxed(&req->cancel)) {
				res = -ECANCELED;
				break;
			}
			res = sr_atom_exec(a);
		}
		if (a->ret_ptr)
			*a->ret_ptr = res;
		if (res == -ECANCELED && sr_load_relaxed(&req->cancel))
			break;
		next = sr_syslet_next(a, a->flags, a->next, res);
		if (!next)
			break;
		a = next;
	}
	req->cur = a; /* the atom that ended the program */
	sr_req_finish(ctx, req, res, engine);
}

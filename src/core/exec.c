/* SPDX-License-Identifier: MIT */
/*
 * Executing atoms: one call (sr_atom_exec) and a whole program
 * (sr_req_run). Every engine that runs calls on a user-space thread comes
 * through here, so the table's verdicts (unknown: -ENOSYS, refused: -EPERM)
 * and the syslet control flow (interp.h) are applied in exactly one place.
 *
 * Caller memory (uaccess.h): a syslet's atoms are the caller's; each is
 * copied into req->atom, fault-safely, when the syslet moves to it (the
 * async face builds req->atom itself and points req->cur at it), so every
 * later look at flags, nr, next, arg_ptr and ret_ptr reads library memory.
 * Invariant: req->atom holds the atom req->cur points at. Argument values
 * (*arg_ptr[i]) are read when the call runs and results stored through
 * ret_ptr, both fault-safely: an unreadable argument is the atom's -EFAULT
 * (the 2007 syslets' get_user), an unwritable ret_ptr or an unreadable next
 * atom ends the syslet at this atom with -EFAULT.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "core.h"
#include "interp.h"
#include "rawsys.h"
#include "sigfwd.h"
#include "uaccess.h"
#include "../engine/kmod.h"
#include "../table/table.h"

/* umem_add as an atom: arg0 holds the address of the counter, arg1 the
 * increment; the result is the new value. Missing arguments are 0, as for
 * every call (the list ends at the first NULL): no counter is -EFAULT, no
 * increment adds 0. A counter not aligned to 8 bytes is -EINVAL, nothing
 * added, as in sysring.ko (a locked access split across cache lines can
 * trap; futex words answer EINVAL the same way). */
static long umem_add_atom(const struct syslet_uatom *a)
{
	long v[2] = {0, 0};
	uint64_t nv;

	/* v[1] stays 0 when arg_ptr[1] is NULL (the list ended) */
	if (!a->arg_ptr[0] || sr_ua_gather(v, (void *const *)a->arg_ptr, 2) < 1 || !v[0])
		return -EFAULT;
	if ((uint64_t)v[0] % sizeof(uint64_t))
		return -EINVAL;
	/* Atomic so that several syslets may share a counter, as the seed's
	 * "multiple syslets can share the same variable" suggests. */
	if (sr_ua_add8((uint64_t *)v[0], (uint64_t)v[1], &nv))
		return -EFAULT;
	return (long)nv;
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
	if (sr_unlikely(sr_ua_gather(args, (void *const *)a->arg_ptr, e->nargs) < 0))
		return -EFAULT;
	if (sr_unlikely(e->cls == SR_TS) && !here && sr_class(e, args) == SR_TS)
		return -SR_EREFUSED;
	return sr_rawsys(a->nr, args);
}

/* The rest of a transfer an inline attempt moved `done` bytes of: the
 * attempt's finish mode (table.h, SR_NW_PARTIAL); the total moved. */
static long atom_finish(const struct syslet_uatom *a, long done)
{
	const struct sr_sysent *e = sr_sysent(a->nr);
	long args[6] = {0, 0, 0, 0, 0, 0};
	long res = done;

	if (!e || !e->nowait || sr_ua_gather(args, (void *const *)a->arg_ptr, e->nargs) < 0)
		return done;
	e->nowait(args, &res);
	return res;
}

long sr_atom_exec(const struct syslet_uatom *a)
{
	return atom_exec(a, false);
}

long sr_atom_exec_here(const struct syslet_uatom *a)
{
	return atom_exec(a, true);
}

/* Move req to the atom `next` (the caller's memory): copy it into
 * req->atom. 0, or -EFAULT with req unchanged. */
static long load_atom(struct sr_req *req, struct syslet_uatom *next)
{
	struct syslet_uatom tmp;

	if (next == &req->atom) {
		req->cur = next;
		return 0;
	}
	if (sr_ua_copy(&tmp, next, sizeof(tmp)))
		return -EFAULT;
	req->atom = tmp;
	req->cur = next;
	return 0;
}

/* Store an atom's result through its ret_ptr. 0 or -EFAULT. */
static inline long store_result(const struct syslet_uatom *a, long res)
{
	if (!a->ret_ptr)
		return 0;
	return sr_ua_write8(a->ret_ptr, (uint64_t)res);
}

void sr_req_finish(struct sr_ctx *ctx, struct sr_req *req, long res, uint32_t engine)
{
	/* An inline attempt moved part of the data and the rest never ran
	 * (cancelled, timed out, destroyed while queued): what moved is the
	 * call's answer, as a plain call interrupted after moving data. */
	if (sr_unlikely(req->partial)) {
		if (res < 0)
			res = req->partial;
		req->partial = 0;
	}
	req->res = res;
	req->engine = engine;
	sr_store_relaxed(&req->state, SR_REQ_DONE);
	sr_fetch_add(&ctx->st_engine[engine], 1, SR_RELAXED);
	ctx->ops->complete(ctx, req);
}

void sr_req_run(struct sr_ctx *ctx, struct sr_req *req, uint32_t engine)
{
	const struct syslet_uatom *a = &req->atom; /* the copy of *req->cur */
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
		if (sr_unlikely(req->partial)) {
			/* the rest of a partial transfer (route(), table.h) */
			res = atom_finish(a, req->partial);
			req->partial = 0;
		} else {
			res = sr_atom_exec(a);
		}
		/* On an executor thread, EINTR can only come from the cancel
		 * signal (workers block every other signal): a cancel, the
		 * request's timer, or a signal aimed at the previous request
		 * that landed on this one, which is restarted. Only a system
		 * call can be interrupted: umem_add's result -4 is a counter's
		 * value, and running it again would add twice. */
		while (sr_unlikely(res == -EINTR) && engine == SYSRING_ENGINE_THREADS &&
		       a->nr != (unsigned long)__NR_umem_add && intr++ < 64) {
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
		/* A signal the call raised is pending on this executor
		 * thread: to the submitter, before the result is seen. */
		if (sr_sig_result(res))
			sr_sig_forward(sr_sysent(a->nr), res, req->tid);
		if (sr_unlikely(store_result(a, res))) {
			res = -EFAULT; /* the syslet ends at this atom */
			break;
		}
		if ((res == -ECANCELED && sr_load_relaxed(&req->cancel)) ||
		    (res == -ETIME && req->deadline_ns))
			break;
		next = sr_syslet_next(req->cur, a->flags, a->next, res);
		if (!next)
			break;
		if (sr_unlikely(load_atom(req, next))) {
			res = -EFAULT; /* an unreadable next atom ends it here */
			break;
		}
	}
	/* req->cur: the atom that ended the program */
	sr_req_finish(ctx, req, res, engine);
}

/* ---- routing: where each atom runs ---- */

enum sr_route { SR_ROUTE_DONE, SR_ROUTE_URING, SR_ROUTE_KMOD, SR_ROUTE_THREADS };

/* Atoms a syslet may run inline in a row before the rest is handed to the
 * executor threads, so that a loop of non-blocking atoms cannot keep a
 * submitting (or completing) thread forever. */
#define SR_INLINE_BUDGET 1024

/* The argument values of the current atom into req->args. 0, or -EFAULT
 * when an argument pointer cannot be read (the atom's result). */
static inline long read_args(struct sr_req *req, unsigned int nargs)
{
	long n = sr_ua_gather(req->args, (void *const *)req->atom.arg_ptr, nargs);

	if (sr_unlikely(n < 0))
		return -EFAULT;
	/* Missing arguments are 0; those beyond nargs are never looked at
	 * (not by the kernel, not by the io_uring column), so stay as they are. */
	for (unsigned int i = (unsigned int)n; i < nargs; i++)
		req->args[i] = 0;
	return 0;
}

/* Store an atom's result and move to the next one. Returns true if the
 * request goes on (req->cur is the next atom), false if it was finished. */
static inline __attribute__((always_inline)) bool advance_inl(struct sr_ctx *ctx, struct sr_req *req, long res,
								 uint32_t engine)
{
	struct syslet_uatom *next;

	/* A signal the call raised (sigfwd.h): inline on a thread other than
	 * the submitter (a syslet continued by a reaper) it is pending there;
	 * io_uring's send ops raise none; the module's ring workers keep it
	 * pending inside their ioctl. Before the result is seen. */
	if (sr_sig_result(res)) {
		if (engine == SYSRING_ENGINE_INLINE)
			sr_sig_forward(sr_sysent(req->atom.nr), res, req->tid);
		else if (engine == SYSRING_ENGINE_URING)
			sr_sig_uring(sr_sysent(req->atom.nr), req->args, res, req->tid);
		else if (engine == SYSRING_ENGINE_KMOD)
			sr_sig_lost(sr_sysent(req->atom.nr), req->args, res, req->tid);
	}

	if (sr_unlikely(store_result(&req->atom, res))) {
		sr_req_finish(ctx, req, -EFAULT, engine); /* ends at this atom */
		return false;
	}
	/* No stop condition (the async face's atoms): next as it is. */
	next = sr_likely(!(req->atom.flags & SYSLET_STOP_MASK))
		       ? req->atom.next
		       : sr_syslet_next(req->cur, req->atom.flags, req->atom.next, res);
	if (!next || sr_load_relaxed(&req->cancel) || !sr_load_relaxed(&ctx->live)) {
		if (next && res >= 0)
			res = -ECANCELED; /* stopped by cancel/destroy, not by the program */
		sr_req_finish(ctx, req, res, engine);
		return false;
	}
	if (sr_unlikely(load_atom(req, next))) {
		sr_req_finish(ctx, req, -EFAULT, engine); /* ends at this atom */
		return false;
	}
	req->skip_inline = 0;
	return true;
}

static bool advance(struct sr_ctx *ctx, struct sr_req *req, long res, uint32_t engine)
{
	return advance_inl(ctx, req, res, engine);
}

/* ---- does io_uring give this call the plain call's answer? ---- */

static __attribute__((noinline)) struct sr_fdent *fd_entry_find(struct sr_fdcache *fc, long fd)
{
	struct sr_fdent *f;

	for (unsigned int i = 0; i < fc->n && i < SR_FDCACHE; i++)
		if (fc->e[i].fd == fd)
			return fc->last = &fc->e[i];
	f = &fc->e[fc->n++ % SR_FDCACHE];
	f->fd = fd;
	f->fl = SR_FD_UNASKED;
	f->mode = 0;
	f->pos = SR_FD_UNASKED;
	return fc->last = f;
}

/* The entry of fd; a batch names the same fd call after call, so the one
 * looked up last is tried first. */
static inline struct sr_fdent *fd_entry(struct sr_fdcache *fc, long fd)
{
	if (sr_likely(fc->last && fc->last->fd == fd))
		return fc->last;
	return fd_entry_find(fc, fd);
}

/* Whether the fd has a file position (lseek works: not a pipe, socket or
 * tty), asked once; cheaper than fstat (measured 194 vs 501 ns here). */
static bool fd_seekable(struct sr_fdent *f)
{
	if (f->pos == SR_FD_UNASKED)
		f->pos = sr_rawsys6(SYS_lseek, f->fd, 0, SEEK_CUR, 0, 0, 0);
	return f->pos >= 0;
}

/* F_GETFL of the fd (or -errno), asked once. */
static int fd_flags(struct sr_fdent *f)
{
	if (f->fl == SR_FD_UNASKED)
		f->fl = (int)sr_rawsys6(SYS_fcntl, f->fd, F_GETFL, 0, 0, 0, 0);
	return f->fl;
}

/* S_IFMT of the fd's file (1: unknown), asked once. */
static unsigned int fd_mode(struct sr_fdent *f)
{
	if (!f->mode) {
		struct stat st;
		f->mode = sr_rawsys6(SYS_fstat, f->fd, (long)&st, 0, 0, 0, 0) ? 1 : (st.st_mode & S_IFMT);
	}
	return f->mode;
}

/* A regular file or block device: O_NONBLOCK changes nothing there. */
static bool fd_nb_plainfile(struct sr_fdent *f)
{
	unsigned int m = fd_mode(f);
	return m == S_IFREG || m == S_IFBLK;
}

/* A pipe, socket or character device with O_NONBLOCK: the plain call
 * returns at once (EAGAIN, EINPROGRESS) where io_uring waits. On a
 * regular file or block device O_NONBLOCK changes nothing. */
static bool fd_nb_stream(struct sr_fdcache *fc, long fd)
{
	struct sr_fdent *f = fd_entry(fc, fd);
	unsigned int m;

	if (fd_flags(f) < 0 || !(f->fl & O_NONBLOCK))
		return false;
	m = fd_mode(f);
	return m != S_IFREG && m != S_IFBLK;
}

/* A pipe or socket (or anything without a position: a tty). */
static bool fd_stream(struct sr_fdcache *fc, long fd)
{
	return !fd_seekable(fd_entry(fc, fd));
}

/* Whether the call may wait for an event rather than for I/O: data or room
 * on a pipe, socket or tty (any fd argument that is not a regular file,
 * directory or block device), epoll readiness, a futex, a child. Plainly a
 * signal interrupts such a wait on the calling thread (EINTR, or a restart
 * under SA_RESTART); in io_uring nothing the caller receives does, so a
 * batch that runs on the caller's behalf must not put it there. I/O waits
 * on files are not interrupted plainly either. An fd that fstat refuses
 * makes the call fail at once, in io_uring as plainly. */
bool sr_uring_may_wait(const struct sr_uring_op *op, const long a[6], struct sr_fdcache *fc)
{
	unsigned int fds = op->nbfds | (op->xfer ? 1u : 0u);

	if (op->waits)
		return true;
	for (unsigned int i = 0; fds >> i; i++) {
		if (!(fds >> i & 1))
			continue;
		unsigned int m = fd_mode(fd_entry(fc, a[i]));
		if (m != 1 && m != S_IFREG && m != S_IFDIR && m != S_IFBLK)
			return true;
	}
	return false;
}

/* Transfers longer than this at the file position are not probed (the
 * probe touches every page) and run on the threads instead. */
#define SR_PROBE_MAX (1L << 20)

/* Whether the buffer of a transfer is accessible in its direction on every
 * page the call may touch (reads write it: an atomic no-op write probes
 * that). An iovec array that cannot be read, or lengths beyond the probe
 * limit, count as not accessible: the threads give the plain answer. */
static __attribute__((noinline)) bool iov_accessible(const long a[6], bool in)
{
	unsigned long total = 0;
	struct iovec v[16];

	if (a[2] <= 0 || a[2] > 1024)
		return true; /* EINVAL either way: nothing moves */
	for (long i = 0; i < a[2]; i += 16) {
		long k = a[2] - i < 16 ? a[2] - i : 16;
		if (sr_ua_copy(v, (const struct iovec *)a[1] + i, (size_t)k * sizeof(v[0])))
			return false;
		for (long j = 0; j < k; j++) {
			if (v[j].iov_len > SR_PROBE_MAX - total)
				return false;
			total += v[j].iov_len;
			if (v[j].iov_len && sr_ua_probe(v[j].iov_base, v[j].iov_len, in))
				return false;
		}
	}
	return true;
}

static inline bool xfer_accessible(const struct sr_uring_op *op, const long a[6])
{
	bool in = op->xfer == SR_XFER_IN_BUF || op->xfer == SR_XFER_IN_IOV;

	if (op->xfer == SR_XFER_IN_BUF || op->xfer == SR_XFER_OUT_BUF) {
		if (!a[2])
			return true;
		if ((unsigned long)a[2] > SR_PROBE_MAX)
			return false;
		/* Within one page the buffer is accessible as a whole or not
		 * at all: the plain call and io_uring both move everything or
		 * fail with EFAULT having moved nothing, the position where it
		 * was. Only a buffer that spans pages can run into a bad one
		 * part way (4096: the smallest page; a larger page holds it). */
		if (!(((unsigned long)a[1] ^ ((unsigned long)a[1] + (unsigned long)a[2] - 1)) >> 12))
			return true;
		return !sr_ua_probe((const void *)a[1], (size_t)a[2], in);
	}
	return iov_accessible(a, in);
}

/* The part of sr_uring_suits that depends only on the op, a[0] and what
 * the dispatch learned about fds; at_pos: a transfer at the file position. */
static __attribute__((noinline)) bool suits_fds(const struct sr_uring_op *op, const long a[6],
						struct sr_fdcache *fc, bool a0_checked, bool at_pos)
{
	/* At an explicit offset: only a file with a position has one (pread(2)
	 * says ESPIPE for a pipe or socket, whose offset io_uring ignores and
	 * moves the data), and O_NONBLOCK changes nothing on those that block
	 * only for I/O (regular files, block devices); seekable character
	 * devices go to the threads, where O_NONBLOCK may matter. */
	if (op->xfer && !at_pos) {
		struct sr_fdent *f = fd_entry(fc, a[0]);
		if (!fd_seekable(f))
			return false;
		if (fd_flags(f) >= 0 && (f->fl & O_NONBLOCK) && !fd_nb_plainfile(f))
			return false;
		a0_checked = true;
	}
	/* O_NONBLOCK pipes and sockets: io_uring waits where the plain call
	 * says EAGAIN / EINPROGRESS (accept, connect, splice, ...). */
	for (unsigned int i = 0; op->nbfds >> i; i++)
		if ((op->nbfds >> i & 1) && !(i == 0 && a0_checked) && fd_nb_stream(fc, a[i]))
			return false;
	/* io_uring hands a partial vectored write to a pipe or socket back as
	 * the result, where writev(2) on a blocking one writes everything (a
	 * plain write's rest is resubmitted, uring.c). */
	if (op->vrest && fd_stream(fc, a[0]))
		return false;
	/* At the file position, io_uring leaves the position where it was
	 * after an O_DIRECT transfer (measured on 6.18, docs/engines.md). */
	if (at_pos) {
		struct sr_fdent *f = fd_entry(fc, a[0]);
		if (fd_flags(f) >= 0 && (f->fl & O_DIRECT))
			return false;
	}
	return true;
}

static inline bool suits(const struct sr_uring_op *op, const long a[6], struct sr_fdcache *fc, bool a0_checked)
{
	bool at_pos = op->xfer && (!op->pos_arg || a[op->pos_arg] == -1);
	unsigned int key = 1u | (a0_checked ? 2u : 0u) | (at_pos ? 4u : 0u);

	/* The fd part's verdict depends on the op, a[0] and the dispatch's fd
	 * cache only (when no other argument is an fd): a batch of calls of
	 * one kind on one fd asks once, as it asks the kernel once. */
	if (sr_likely(fc->v_op == op && fc->v_fd == a[0] && fc->v_key == key)) {
		if (!fc->v_ok)
			return false;
	} else {
		bool ok = suits_fds(op, a, fc, a0_checked, at_pos);
		if (!(op->nbfds & ~1u)) {
			fc->v_op = op;
			fc->v_fd = a[0];
			fc->v_key = (uint8_t)key;
			fc->v_ok = ok;
		}
		if (!ok)
			return false;
	}
	/* At the file position, io_uring leaves the position where it was
	 * after a transfer whose buffer runs into an inaccessible page (with
	 * a short count, or EFAULT where the plain call moved part): measured
	 * on 6.18 (docs/engines.md). The buffer is the call's own. */
	return !at_pos || xfer_accessible(op, a);
}

bool sr_uring_suits(const struct sr_uring_op *op, const long a[6], struct sr_fdcache *fc, bool a0_checked)
{
	return suits(op, a, fc, a0_checked);
}

/* Inlined into the single-call dispatch (the inline path); the other
 * callers share the out-of-line copy below. */
static inline __attribute__((always_inline)) enum sr_route route_inl(struct sr_ctx *ctx, struct sr_req *req,
								     struct sr_fdcache *fc)
{
	for (unsigned int budget = 0;; budget++) {
		const struct syslet_uatom *a = &req->atom; /* the copy of *req->cur */
		const struct sr_sysent *e;
		bool attempted = false;
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
			goto next_atom;
		}
		/* SYSLET_SYNC on the submitting thread: run it here, blocking
		 * (thread-scoped calls too: this is their thread). */
		if (req->on_caller && (a->flags & SYSLET_SYNC)) {
			res = sr_atom_exec_here(a);
			goto next_atom;
		}
		unsigned int cls = e->cls;
		if (sr_unlikely(cls == SR_TS)) {
			/* Thread-scoped with these arguments: refused wherever
			 * it would run, inline included, so that the answer does
			 * not depend on the engine (syscalls.def, class TS). */
			if (sr_unlikely(read_args(req, e->nargs)))
				goto fault;
			cls = sr_class(e, req->args);
			if (cls == SR_TS) {
				res = -SR_EREFUSED;
				goto next_atom;
			}
		}
		if (ctx->cfg.inline_calls && !(a->flags & SYSLET_ASYNC) && !req->skip_inline) {
			if (cls == SR_NB) {
				if (sr_unlikely(read_args(req, e->nargs)))
					goto fault;
				res = sr_rawsys(a->nr, req->args);
				goto next_atom;
			}
			if (e->nowait) {
				if (sr_unlikely(read_args(req, e->nargs)))
					goto fault;
				res = 0; /* an attempt, not a finish (table.h) */
				int nw = e->nowait(req->args, &res);
				if (sr_unlikely(nw == SR_NW_PARTIAL)) {
					/* moved part of a stream's data; the rest
					 * may wait for a later call: an executor
					 * finishes it (sr_req_run) */
					req->partial = res;
					return SR_ROUTE_THREADS;
				}
				if (nw)
					goto next_atom;
				/* "would block": the attempt found a[0] not to be a
				 * non-blocking pipe or socket (inline.c) */
				attempted = true;
				goto have_args;
			}
		}
		/* Engine "kmod" with the module present: in-kernel workers run
		 * everything that does not complete inline. */
		if (ctx->km && !req->deadline_ns) { /* timed calls: threads' timers */
			if (sr_unlikely(read_args(req, e->nargs)))
				goto fault;
			return SR_ROUTE_KMOD;
		}
		if (!e->uring || !sr_uring_ctx_has(&ctx->ur, e->uring->opcode))
			return SR_ROUTE_THREADS;
		if (sr_unlikely(read_args(req, e->nargs)))
			goto fault;
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
		if (!suits(e->uring, req->args, fc, attempted))
			return SR_ROUTE_THREADS;
		/* Under a finite RLIMIT_FSIZE a write may raise SIGXFSZ, which
		 * io_uring raises on the thread that issues it: the submitter
		 * (inline issue) or an io-wq worker, where it is lost. Which
		 * one cannot be told afterwards: such calls go to the threads,
		 * which forward it (sigfwd.c). One prlimit64 per dispatch (a
		 * submit of many calls asks once), kept in the fd cache. */
		if (sr_unlikely(e->sigs & SR_SIG_XFSZ)) {
			if (!fc->fsize)
				fc->fsize = sr_fsize_limited() ? 1 : -1;
			if (fc->fsize > 0)
				return SR_ROUTE_THREADS;
		}
		req->uop = e->uring;
		return SR_ROUTE_URING;
fault: /* an argument could not be read: that is the atom's result */
		res = -EFAULT;
next_atom: /* the atom was answered here with res: one place, inlined */
		if (!advance_inl(ctx, req, res, SYSRING_ENGINE_INLINE))
			return SR_ROUTE_DONE;
	}
}

static enum sr_route route(struct sr_ctx *ctx, struct sr_req *req, struct sr_fdcache *fc)
{
	return route_inl(ctx, req, fc);
}

void sr_ctx_dispatch_one(struct sr_ctx *ctx, struct sr_req *req)
{
	struct sr_fdcache fc;

	sr_fdcache_init(&fc);
	switch (route_inl(ctx, req, &fc)) {
	case SR_ROUTE_DONE:
		return;
	case SR_ROUTE_URING:
		if (sr_uring_submit(ctx, &req, 1) == 1)
			return;
		/* io_uring would not take it */
		__attribute__((fallthrough));
	case SR_ROUTE_KMOD:
		if (ctx->km && sr_kmod_submit(ctx, &req, 1) == 1)
			return;
		/* the module's ring is full */
		__attribute__((fallthrough));
	case SR_ROUTE_THREADS:
		/* Release pairs with the acquire CAS of a worker that pops
		 * an older entry of this request (threads.c, in_sq). */
		sr_store_release(&req->state, SR_REQ_QUEUED);
		sr_threads_submit(ctx, &req, 1);
		return;
	}
}

void sr_ctx_dispatch(struct sr_ctx *ctx, struct sr_req **reqs, unsigned int n)
{
	struct sr_req *ur[64], *th[64];
	unsigned int nur = 0, nth = 0;
	struct sr_fdcache fc;

	if (n == 1) { /* the common single call, without the batching below */
		sr_ctx_dispatch_one(ctx, reqs[0]);
		return;
	}
	sr_fdcache_init(&fc);

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
	    (!req->atom.next && !(req->atom.flags & SYSLET_SKIP_TO_NEXT_ON_STOP)))
		return SR_KC_HERE;
	r = sr_kmod_syslet_cached(a, SR_INLINE_BUDGET, &done, &resume, &res);
	/* The module read the atoms with copy_from_user; the library copies
	 * the one it goes on from (req->atom). One that cannot be read now
	 * (the caller unmapped it meanwhile) ends the syslet there. */
	switch (r) {
	case 0: /* the whole syslet ran in the kernel */
		if (load_atom(req, done))
			req->cur = done;
		sr_req_finish(ctx, req, res, SYSRING_ENGINE_KMOD);
		return SR_KC_DONE;
	case SYSRING_SYSLET_WOULDBLOCK:
		/* resume's non-blocking attempt was made in the kernel */
		if (load_atom(req, resume))
			break;
		req->skip_inline = 1;
		return SR_KC_ASYNC;
	case SYSRING_SYSLET_PAUSED: /* the inline budget, as in route() */
		if (load_atom(req, resume))
			break;
		return SR_KC_THREADS;
	case -EFAULT:
		if (!resume) { /* an atom ran and its result could not be stored */
			if (load_atom(req, done))
				req->cur = done;
			sr_req_finish(ctx, req, -EFAULT, SYSRING_ENGINE_KMOD);
			return SR_KC_DONE;
		}
		__attribute__((fallthrough));
	case -EINTR: /* a signal for the caller: go on here, from resume */
		if (resume && load_atom(req, resume))
			break;
		return SR_KC_HERE;
	default: /* -ENODEV and the like: nothing ran */
		return SR_KC_HERE;
	}
	req->cur = resume;
	sr_req_finish(ctx, req, -EFAULT, SYSRING_ENGINE_KMOD);
	return SR_KC_DONE;
}

_Static_assert(sizeof(struct syslet_uatom) == 88, "uaccess.c copies an atom of 88 bytes in six moves");

int sr_ctx_exec_cached(struct sr_ctx *ctx, struct sr_req *req)
{
	struct sr_fdcache fc;

	/* async_exec's atom is the caller's memory: one that cannot be read
	 * ends the syslet at once, nothing run, nothing in the ring. Copied
	 * straight into req->atom: nothing else of req depends on it yet. */
	if (sr_unlikely(sr_ua_copy(&req->atom, req->cur, sizeof(req->atom)))) {
		sr_req_finish(ctx, req, -EFAULT, SYSRING_ENGINE_INLINE);
		return SR_ROUTE_DONE;
	}
	switch (kmod_cached(ctx, req)) {
	case SR_KC_DONE:
		return SR_ROUTE_DONE;
	case SR_KC_THREADS:
		return SR_ROUTE_THREADS;
	default:
		break;
	}
	sr_fdcache_init(&fc);
	return route(ctx, req, &fc);
}

void sr_ctx_exec_async(struct sr_ctx *ctx, struct sr_req *req, const struct sr_req *from, int r)
{
	/* Where the syslet of the caller's request stands: its current atom
	 * (and the copy of it), what route() read and decided for it (the
	 * arguments, the io_uring column, the bytes a partial attempt moved),
	 * the submitting thread. Field by field: cancellers and the monitor
	 * scan the pool request meanwhile (the atomic ones), and in_sq
	 * belongs to the threads engine. */
	req->atom = from->atom;
	req->cur = from->cur;
	for (int i = 0; i < 6; i++)
		req->args[i] = from->args[i];
	req->uop = from->uop;
	req->partial = from->partial;
	req->tid = from->tid;
	req->res = 0;
	sr_store_relaxed(&req->deadline_ns, 0); /* the threads' monitor reads it */
	sr_store_relaxed(&req->cancel, 0);      /* sysring_cancel exchanges it */
	sr_store_relaxed(&req->user, from->user);
	sr_store_relaxed(&req->state, SR_REQ_INLINE);
	/* From here on the syslet runs elsewhere and reports to the ring.
	 * Its current atom's non-blocking attempt was made (or skipped on
	 * purpose): nothing runs twice. */
	req->on_caller = 0;
	req->async = 1;
	req->skip_inline = 1;
	if (r == SR_ROUTE_URING && sr_uring_submit(ctx, &req, 1) == 1)
		return;
	if (r == SR_ROUTE_KMOD && sr_kmod_submit(ctx, &req, 1) == 1)
		return;
	sr_store_release(&req->state, SR_REQ_QUEUED);
	sr_threads_submit(ctx, &req, 1);
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
	/* Each atom copied before it runs; one that cannot be read, or whose
	 * result cannot be stored, ends the syslet. */
	while (a) {
		struct syslet_uatom at;
		long res;
		if (sr_ua_copy(&at, a, sizeof(at)))
			break;
		res = sr_atom_exec_here(&at);
		if (store_result(&at, res))
			break;
		a = sr_syslet_next(a, at.flags, at.next, res);
	}
}

void sr_syslet_run_caller(struct syslet_uatom *a)
{
	/* Not the module's SYSLET crossing: it runs thread-scoped atoms on
	 * the caller, which is right for a syslet run synchronously on
	 * purpose, not for one that stands for an asynchronous one. */
	while (a) {
		struct syslet_uatom at;
		long res;
		if (sr_ua_copy(&at, a, sizeof(at)))
			break;
		res = atom_exec(&at, (at.flags & SYSLET_SYNC) != 0);
		if (store_result(&at, res))
			break;
		a = sr_syslet_next(a, at.flags, at.next, res);
	}
}

void sr_req_run_caller(struct sr_req *req)
{
	struct syslet_uatom *a = req->cur;

	/* A stream transfer whose attempt moved part: its rest first, then
	 * the syslet goes on from the atom after it. */
	if (sr_unlikely(req->partial)) {
		long res = atom_finish(&req->atom, req->partial);
		req->partial = 0;
		if (store_result(&req->atom, res))
			return; /* the syslet ends at this atom */
		a = sr_syslet_next(req->cur, req->atom.flags, req->atom.next, res);
	}
	sr_syslet_run_caller(a);
}

void sr_req_atom_done(struct sr_ctx *ctx, struct sr_req *req, long res, uint32_t engine)
{
	if (advance(ctx, req, res, engine))
		sr_ctx_dispatch_one(ctx, req);
}

void sr_req_atom_done_bounded(struct sr_ctx *ctx, struct sr_req *req, long res, uint32_t engine,
			      uint32_t *budget)
{
	if (!advance(ctx, req, res, engine))
		return;
	if (sr_likely(*budget)) {
		(*budget)--;
		sr_ctx_dispatch_one(ctx, req);
		return;
	}
	/* The reaping thread has continued enough syslets in this pass: the
	 * rest of this one runs on an executor thread (sr_req_run), which
	 * still stops it on cancel, destroy or its deadline. */
	sr_store_relaxed(&req->state, SR_REQ_QUEUED);
	sr_threads_submit(ctx, &req, 1);
}

/* SPDX-License-Identifier: MIT */
/*
 * The uring engine: calls that io_uring performs natively run there, with no
 * thread parked per blocked call. One io_uring per context, created at
 * setup unless the context is forced to threads.
 *
 * Submission. Any thread may submit (async_submit, a worker or the reaper
 * continuing a syslet), so SQE acquisition, preparation and io_uring_submit
 * happen under ur->sq_lock. user_data is the request pointer; cancel and
 * link-timeout SQEs carry SR_UD_IGNORE.
 *
 * Completion. liburing's CQ side is single-consumer, so CQEs are consumed
 * only under ur->cq_lock. A reaper thread sleeps on an eventfd registered
 * with the ring and then reaps under the lock, so completions reach the face
 * (events, result locations, the eventfd) whether or not the application is
 * waiting; with SR_REAP_BOTH a thread about to wait in async_getevents also
 * reaps, if the lock is free, and saves a hand-off. The default is chosen by
 * measurement (docs/engines.md, "Completion delivery").
 *
 * Quiet windows. The eventfd wakes the reaper for every submit whose calls
 * io_uring finishes inline, although the submitter delivers those itself;
 * on this VM the wake-up (an IPI to the reaper's idle CPU) costs the
 * submitter more than the rest of its submit. So a submitter switches the
 * eventfd off (IORING_CQ_EVENTFD_DISABLED) for its submit-and-reap window,
 * counted in ur->quiet; the last one out switches it back on, then reaps
 * what was posted meanwhile. A completion posted right at that moment can
 * still be missed by both sides: the kernel (6.1) reads the flag after its
 * CQ-tail store without a full barrier, so it may see "off" while we do
 * not yet see its CQE. The reaper is the backstop: until 10 ms after the
 * last window opened or closed (ur->toggled restarts the clock), and while
 * any window is open, it sleeps with a timeout and reaps on expiry, so such
 * a completion is late by at most that, never lost. When it goes back to
 * sleeping without a timeout it says so (reaper_forever), and the next
 * window to open or close kicks it through the eventfd: a Dekker pair of
 * seq_cst stores and loads (toggled vs reaper_forever) so that one of the
 * two always sees the other.
 *
 * Requests in io_uring are counted in ur->inflight (incremented before the
 * SQE is visible, decremented after the completion is delivered); shutdown
 * cancels everything, waits for inflight to drop to zero, then stops the
 * reaper with a NOP tagged SR_UD_STOP after switching waiters off reaping.
 *
 * Credentials. A call runs with the credentials its caller has when it
 * submits it. io_uring issues a call with the submitting task's, except
 * with SQPOLL: its kernel thread submits, with the credentials of the
 * task that created the ring (libuv's CVE-2024-22017). So an SQPOLL ring
 * records them at set-up, and each submit compares the submitter's
 * (real/effective/saved/fs uid and gid, supplementary groups,
 * capabilities: six system calls, paid only with SQPOLL); when they
 * differ the calls go to the threads instead, which glibc's set*id keeps
 * in step with the process.
 *
 * Lock order: sq_lock and cq_lock are never held together, except that a
 * completion continuing a syslet may take sq_lock while holding cq_lock
 * (never the other way round).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../core/core.h"
#include "../core/futex.h"
#include "../core/rawsys.h"
#include "../core/sigfwd.h"
#include "../core/uaccess.h"
#include "../table/table.h"

/* ---- the probe: once per process ---- */

/*
 * The probe asks a ring the library sets up anyway (a context's, a batch
 * handle's), never a ring of its own: tearing an io_uring down queues task
 * work on every thread that used it (io_uring's exit work, TWA_SIGNAL),
 * which interrupts whatever that thread waits in next -- the program's own
 * epoll_wait then says EINTR with no signal. Only when asked before any
 * ring exists does it fall back to a temporary ring (liburing's
 * io_uring_get_probe). probe_ok is written once under probe_lock; the
 * release store pairs with the acquire loads that read probe_ops after it.
 */
static uint8_t probe_ops[256];
static int probe_ok; /* 0: not yet, 1: io_uring works here, -1: it does not */
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;

static void probe(struct io_uring *ring)
{
	pthread_mutex_lock(&probe_lock);
	if (!sr_load_relaxed(&probe_ok)) {
		struct io_uring_probe *p = ring ? io_uring_get_probe_ring(ring) : io_uring_get_probe();
		int ok = p ? 1 : -1;

		for (unsigned int op = 0; p && op < 256 && op <= p->last_op; op++)
			probe_ops[op] = io_uring_opcode_supported(p, (int)op) ? 1 : 0;
		if (p)
			io_uring_free_probe(p);
		sr_store_release(&probe_ok, ok);
	}
	pthread_mutex_unlock(&probe_lock);
}

void sr_uring_probe_ring(struct io_uring *ring)
{
	if (!sr_load_acquire(&probe_ok))
		probe(ring);
}

bool sr_uring_has(unsigned int opcode)
{
	if (sr_unlikely(!sr_load_acquire(&probe_ok)))
		probe(NULL);
	return probe_ok == 1 && opcode < 256 && probe_ops[opcode];
}

/* ---- completions ---- */

static bool stream_fd(long fd)
{
	struct stat st;
	return !fstat((int)fd, &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* Deliver one CQE. Returns 1 if it finished a request's stay in io_uring
 * (the caller then takes it off ur->inflight, after the delivery is
 * published), 0 for the engine's own CQEs. *budget bounds the syslet
 * continuations of this reap pass (sr_req_atom_done_bounded). */
static unsigned int complete_cqe(struct sr_ctx *ctx, uint64_t ud, long res, uint32_t *budget)
{
	struct sr_req *req;

	if (ud == SR_UD_IGNORE)
		return 0;
	if (ud == SR_UD_STOP) {
		sr_store_release(&ctx->ur.stop, 1); /* pairs with the reaper's acquire */
		return 0;
	}
	req = (struct sr_req *)(uintptr_t)ud;
	(void)sr_load_acquire(&req->state); /* pairs with sr_uring_submit's release */
	if (req->uop->done)
		res = req->uop->done(res, req->args, &req->aux);
	/* io_uring hands a partial write to a pipe or socket back as the
	 * result (it retries only regular files), where write(2) on a
	 * blocking one writes everything (non-blocking ones never come
	 * here): send the rest, and answer with the total. */
	if (res > 0 && req->uop->rest && res < req->args[2] && !sr_load_relaxed(&req->cancel) &&
	    stream_fd(req->args[0])) {
		req->partial += res;
		req->args[1] += res;
		req->args[2] -= res;
		if (sr_uring_submit(ctx, &req, 1) == 1)
			return 1; /* the resubmission counted itself */
		res = 0; /* not resubmitted: what was written */
	}
	if (req->partial) {
		res = res < 0 ? req->partial : res + req->partial;
		req->partial = 0;
	}
	if (res == -ECANCELED && req->deadline_ns && !sr_load_relaxed(&req->cancel))
		res = -ETIME; /* the link timeout fired, not a cancel */
	if (res == -EINTR && sr_load_relaxed(&req->cancel))
		res = -ECANCELED;
	/* A syslet's last atom with no result location and no signal to
	 * forward (every async_cb): advance() would store nothing and find no
	 * next atom, whatever the result (interp.h); finish it here. */
	if (sr_likely(!req->atom.next && !req->atom.ret_ptr &&
		      !(req->atom.flags & SYSLET_SKIP_TO_NEXT_ON_STOP) && !sr_sig_result(res))) {
		sr_req_finish(ctx, req, res, SYSRING_ENGINE_URING);
		return 1;
	}
	sr_req_atom_done_bounded(ctx, req, res, SYSRING_ENGINE_URING, budget);
	return 1;
}

static unsigned int reap_locked(struct sr_ctx *ctx)
{
	struct io_uring_cqe *cqes[64];
	struct sr_cq_batch batch;
	unsigned int total = 0, n, reqs = 0;
	bool began = sr_cq_batch_begin(ctx, &batch);
	/* A reap may run on a caller's thread (async_exec, a submit, a wait)
	 * and a continued syslet's next atom may complete during its own
	 * submit: without a bound, a loop of such atoms would keep this
	 * thread here forever (the do-while below delivers what those submits
	 * completed). Past the budget, syslets go on on the executor threads. */
	uint32_t budget = SR_REAP_CONTINUE_BUDGET;

	do {
		n = io_uring_peek_batch_cqe(&ctx->ur.ring, cqes, 64);
		if (!n)
			break;
		/* Copy out and give the slots back before delivering: a
		 * delivery may submit (a syslet's next atom), and the kernel can
		 * then post into the space freed here. */
		uint64_t ud[64];
		long res[64];
		for (unsigned int i = 0; i < n; i++) {
			ud[i] = cqes[i]->user_data;
			res[i] = cqes[i]->res;
		}
		io_uring_cq_advance(&ctx->ur.ring, n);
		for (unsigned int i = 0; i < n; i++)
			reqs += complete_cqe(ctx, ud[i], res[i], &budget);
		total += n;
		/* Until empty: a delivery may submit (a syslet's next atom), and
		 * what that submit finished inline, in a quiet window, is ours
		 * to deliver (its own reap cannot take cq_lock from us). */
	} while (n);
	/* The async face's events of this reap go out together. */
	sr_cq_batch_end(&batch, began);
	/* Release: the completions above are delivered before shutdown, which
	 * waits for inflight == 0, may free what they touched. */
	if (reqs)
		sr_fetch_sub(&ctx->ur.inflight, reqs, SR_RELEASE);
	return total;
}

/*
 * Leave cq_lock. A thread that failed to take it (a submitter delivering
 * what io_uring finished inline in its quiet window) set reap_pending and
 * left that delivery to the holder, which may already have made its last
 * peek at the CQ: so look at the flag after unlocking, and reap again if
 * it is set and the lock can be had (if it cannot, the new holder will see
 * the flag at its own unlock). Dekker: the submitter stores the flag, then
 * tries the lock; the holder unlocks, fences, then loads the flag.
 */
static unsigned int cq_unlock(struct sr_ctx *ctx)
{
	struct sr_uring *ur = &ctx->ur;
	unsigned int n = 0;

	for (unsigned int rounds = 0;; rounds++) {
		pthread_mutex_unlock(&ur->cq_lock);
		sr_smp_mb(); /* pairs with the store then trylock in sr_uring_reap */
		if (!__atomic_load_n(&ur->reap_pending, __ATOMIC_SEQ_CST))
			return n;
		/* Other threads' submits keep asking: this thread may be a
		 * caller's, whose time is bounded. The flag stays set and the
		 * reaper is kicked to take over (it reaps under the lock). */
		if (rounds >= 4) {
			eventfd_write(ur->efd, 1);
			return n;
		}
		if (pthread_mutex_trylock(&ur->cq_lock))
			return n;
		__atomic_store_n(&ur->reap_pending, 0, __ATOMIC_SEQ_CST);
		/* Acquire pairs with shutdown's release of reaper_only. */
		if (!sr_load_acquire(&ur->reaper_only))
			n += reap_locked(ctx);
	}
}

unsigned int sr_uring_reap(struct sr_ctx *ctx, bool wait_lock)
{
	unsigned int n;

	/* Acquire pairs with shutdown's release of reaper_only (under cq_lock). */
	if (!sr_load_relaxed(&ctx->ur.ready) || sr_load_acquire(&ctx->ur.reaper_only) ||
	    !sr_load_relaxed(&ctx->ur.inflight))
		return 0;
	/* A waiter takes the lock even if the reaper holds it: the reaper
	 * holds it only while delivering, and what it delivers is what the
	 * waiter wants; sleeping on the futex instead costs a wake-up. */
	if (wait_lock) {
		pthread_mutex_lock(&ctx->ur.cq_lock);
	} else {
		/* seq_cst store, then the trylock's locked RMW: see cq_unlock. */
		__atomic_store_n(&ctx->ur.reap_pending, 1, __ATOMIC_SEQ_CST);
		if (pthread_mutex_trylock(&ctx->ur.cq_lock))
			return 0; /* the holder reaps for us at its unlock */
	}
	__atomic_store_n(&ctx->ur.reap_pending, 0, __ATOMIC_SEQ_CST);
	/* Re-checked under the lock: shutdown sets it holding cq_lock. */
	n = sr_load_acquire(&ctx->ur.reaper_only) ? 0 : reap_locked(ctx);
	return n + cq_unlock(ctx);
}

/* How long after the last window opened or closed the reaper keeps a timed
 * sleep (the backstop). */
#define SR_QUIET_BACKSTOP_MS 10

static void *reaper_main(void *arg)
{
	struct sr_ctx *ctx = arg;
	struct sr_uring *ur = &ctx->ur;
	uint64_t until = 0; /* keep the timed sleep until then */
	sigset_t all;

	sigfillset(&all);
	/* a fault in caller memory it touches (continuing a syslet) must
	 * reach the accessors' handler (uaccess.h) */
	sr_sigmask_keep_faults(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	/* Acquire pairs with the release in complete_cqe(SR_UD_STOP). */
	while (!sr_load_acquire(&ur->stop)) {
		struct pollfd pfd = {.fd = ur->efd, .events = POLLIN};
		uint64_t now = sr_now_ns();
		int timeout = -1;
		eventfd_t v;

		if (ur->use_quiet) {
			/* A window opened or closed since we last looked: the
			 * backstop runs for another SR_QUIET_BACKSTOP_MS from
			 * now. An early wake-up does not end it. */
			if (__atomic_exchange_n(&ur->toggled, 0, __ATOMIC_SEQ_CST))
				until = now + SR_QUIET_BACKSTOP_MS * 1000000ull;
			if (now >= until && !__atomic_load_n(&ur->quiet, __ATOMIC_SEQ_CST)) {
				/* seq_cst store, then load: Dekker with the
				 * windows' store of toggled and load of
				 * reaper_forever (quiet_enter, quiet_leave). */
				__atomic_store_n(&ur->reaper_forever, 1, __ATOMIC_SEQ_CST);
				if (__atomic_exchange_n(&ur->toggled, 0, __ATOMIC_SEQ_CST) ||
				    __atomic_load_n(&ur->quiet, __ATOMIC_SEQ_CST))
					until = now + SR_QUIET_BACKSTOP_MS * 1000000ull;
			}
			if (now < until)
				timeout = (int)((until - now + 999999) / 1000000);
			else if (__atomic_load_n(&ur->quiet, __ATOMIC_SEQ_CST))
				timeout = SR_QUIET_BACKSTOP_MS; /* a long window */
			if (timeout >= 0)
				__atomic_store_n(&ur->reaper_forever, 0, __ATOMIC_SEQ_CST);
		}
		/* The kernel signals this eventfd for every CQE it posts
		 * outside quiet windows; the reaper never touches the CQ
		 * outside cq_lock (liburing's CQ side is single-consumer). */
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
			struct timespec ts = {0, 1000 * 1000};
			nanosleep(&ts, NULL); /* should not happen; do not spin */
		}
		__atomic_store_n(&ur->reaper_forever, 0, __ATOMIC_SEQ_CST);
		(void)eventfd_read(ur->efd, &v); /* non-blocking: EAGAIN on a timeout */
		pthread_mutex_lock(&ur->cq_lock);
		__atomic_store_n(&ur->reap_pending, 0, __ATOMIC_SEQ_CST);
		reap_locked(ctx);
		cq_unlock(ctx);
	}
	return NULL;
}

/* A window opened or closed: make sure the backstop is running. The
 * relaxed first load only skips the exchange when toggled is already set
 * (the reaper has not consumed it yet, so it will time its sleep). */
static void quiet_toggled(struct sr_uring *ur)
{
	if (!__atomic_load_n(&ur->toggled, __ATOMIC_RELAXED) &&
	    !__atomic_exchange_n(&ur->toggled, 1, __ATOMIC_SEQ_CST) &&
	    __atomic_load_n(&ur->reaper_forever, __ATOMIC_SEQ_CST))
		eventfd_write(ur->efd, 1); /* into the backstop's timed sleep */
}

/* Open a submitter's quiet window (see the top of the file). */
static void quiet_enter(struct sr_uring *ur)
{
	/* seq_cst, as the decrement in quiet_leave: the order of the count's
	 * changes orders the flag's stores (see there). */
	sr_fetch_add(&ur->quiet, 1, SR_SEQ_CST);
	/* The kernel only reads the CQ flags (io_eventfd_signal), and this is
	 * the only one. Its read pairs with nothing of ours that it is
	 * guaranteed to see in time: hence the backstop (top of the file). */
	__atomic_store_n(ur->ring.cq.kflags, IORING_CQ_EVENTFD_DISABLED, __ATOMIC_SEQ_CST);
	quiet_toggled(ur);
}

/* Close it; the last one out switches the eventfd back on (the caller
 * then reaps what was posted while it was off). */
static void quiet_leave(struct sr_uring *ur)
{
	if (sr_fetch_sub(&ur->quiet, 1, SR_SEQ_CST) != 1)
		return;
	/* A window opened since may be switched on early by this (a spare
	 * wake-up, harmless); it is never left off: a window's "off" comes
	 * before its own decrement, and the "on" of whoever brings the count
	 * to zero after that comes later still (all seq_cst). */
	__atomic_store_n(ur->ring.cq.kflags, 0, __ATOMIC_SEQ_CST);
	/* The race the backstop covers happens here, as the window closes:
	 * restart its clock. */
	quiet_toggled(ur);
}

/* ---- credentials (SQPOLL) ---- */

#define SR_CREDS_GROUPS 64

struct sr_creds {
	long uid[4], gid[4]; /* real, effective, saved, fs */
	uint32_t cap[6];     /* effective, permitted, inheritable, two words each */
	long ngroups;        /* -1: more than SR_CREDS_GROUPS (never "the same") */
	uint32_t groups[SR_CREDS_GROUPS];
};

static void creds_now(struct sr_creds *c)
{
	unsigned int r[3];
	struct {
		uint32_t version;
		int pid;
	} hdr = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};

	memset(c, 0, sizeof(*c));
	sr_rawsys6(SYS_getresuid, (long)&r[0], (long)&r[1], (long)&r[2], 0, 0, 0);
	for (int i = 0; i < 3; i++)
		c->uid[i] = r[i];
	sr_rawsys6(SYS_getresgid, (long)&r[0], (long)&r[1], (long)&r[2], 0, 0, 0);
	for (int i = 0; i < 3; i++)
		c->gid[i] = r[i];
	/* an invalid id changes nothing and returns the current one */
	c->uid[3] = sr_rawsys6(SYS_setfsuid, -1, 0, 0, 0, 0, 0);
	c->gid[3] = sr_rawsys6(SYS_setfsgid, -1, 0, 0, 0, 0, 0);
	c->ngroups = sr_rawsys6(SYS_getgroups, SR_CREDS_GROUPS, (long)c->groups, 0, 0, 0, 0);
	if (c->ngroups < 0)
		c->ngroups = -1;
	sr_rawsys6(SYS_capget, (long)&hdr, (long)c->cap, 0, 0, 0, 0);
}

/* The caller's credentials are those of the SQPOLL thread. */
static bool creds_same(const struct sr_creds *ring)
{
	struct sr_creds now;

	creds_now(&now);
	return ring->ngroups >= 0 && now.ngroups == ring->ngroups && !memcmp(&now, ring, sizeof(now));
}

/* ---- set-up ---- */

int sr_uring_init(struct sr_ctx *ctx)
{
	struct sr_uring *ur = &ctx->ur;
	struct io_uring_params p;
	unsigned int entries = 64;
	sigset_t all, old;
	int ret;

	memset(ur, 0, sizeof(*ur));
	/* A kernel that said no once says no again: no ring to set up. */
	if (sr_load_acquire(&probe_ok) < 0)
		return -ENOSYS;
	while (entries < ctx->nr_events && entries < 4096)
		entries <<= 1;
	memset(&p, 0, sizeof(p));
	/* Room for an SQE plus its link timeout, or a cancel, per request. */
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = entries * 4;
	if (ctx->cfg.flags & SYSRING_F_SQPOLL) {
		p.flags |= IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 50; /* ms */
	}
	ret = io_uring_queue_init_params(entries, &ur->ring, &p);
	if (ret && (p.flags & IORING_SETUP_SQPOLL)) {
		/* SQPOLL may be refused (privileges, old kernel): go without. */
		p.flags &= ~IORING_SETUP_SQPOLL;
		ret = io_uring_queue_init_params(entries, &ur->ring, &p);
	} else if (!ret && (p.flags & IORING_SETUP_SQPOLL)) {
		ur->sqpoll = 1;
		/* the SQPOLL thread is created with the creator's credentials */
		ur->sq_creds = malloc(sizeof(*ur->sq_creds));
		if (ur->sq_creds)
			creds_now(ur->sq_creds);
	}
	if (ret)
		return ret;
	sr_tsan_ring_mapped(); /* core.h */
	/* Out of the way of the program's fd numbers (sr_fd_high): before
	 * anything is registered, so the ring's own idea of its fd follows. */
	ur->ring.ring_fd = ur->ring.enter_ring_fd = sr_fd_high(ur->ring.ring_fd);
	sr_uring_probe_ring(&ur->ring); /* the first ring answers the probe */
	ur->efd = sr_load_acquire(&probe_ok) < 0 ? -1 : sr_fd_high(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (ur->efd < 0 || io_uring_register_eventfd(&ur->ring, ur->efd)) {
		ret = sr_load_acquire(&probe_ok) < 0 ? -ENOSYS : ur->efd < 0 ? -errno : -EINVAL;
		if (ur->efd >= 0)
			close(ur->efd);
		sr_tsan_ring_unmapped(); /* before the unmap: core.h */
		io_uring_queue_exit(&ur->ring);
		free(ur->sq_creds);
		ur->sq_creds = NULL;
		return ret;
	}
	/* Quiet windows need submitters that reap (not SYSRING_REAP=thread)
	 * and completions posted by the submit itself (not SQPOLL); decided
	 * before the reaper starts, which reads it. SYSRING_NO_QUIET=1 turns
	 * them off (cfg.quiet, for comparison). */
	ur->use_quiet = !ur->sqpoll && ctx->cfg.reap == SR_REAP_BOTH && ur->ring.cq.kflags && ctx->cfg.quiet;
	pthread_mutex_init(&ur->sq_lock, NULL);
	/* Adaptive: cq_lock is held only while CQEs are delivered, by a
	 * thread that is running (the reaper on the other core, typically);
	 * a submitter or waiter that finds it taken spins briefly instead of
	 * sleeping and paying a wake-up. */
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&ur->cq_lock, &ma);
	pthread_mutexattr_destroy(&ma);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&ur->reaper, NULL, reaper_main, ctx);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		sr_tsan_ring_unmapped(); /* before the unmap: core.h */
		io_uring_queue_exit(&ur->ring);
		close(ur->efd);
		free(ur->sq_creds);
		ur->sq_creds = NULL;
		return -ret;
	}
	ur->reaper_started = 1;
	for (unsigned int op = 0; op < 256; op++)
		if (probe_ops[op])
			ur->ops[op / 64] |= 1ull << (op % 64);
	sr_store_relaxed(&ur->ready, 1);
	return 0;
}

/* ---- submission ---- */

static __attribute__((noinline)) struct io_uring_sqe *get_sqe_full(struct sr_uring *ur)
{
	struct io_uring_sqe *sqe = NULL;
	while (!sqe) {
		/* SQ full: push what we have to the kernel and retry. */
		int r = io_uring_submit(&ur->ring);
		if (r < 0 && r != -EBUSY && r != -EAGAIN && r != -EINTR)
			return NULL;
		sqe = io_uring_get_sqe(&ur->ring);
		if (!sqe && r <= 0)
			sched_yield(); /* CQ pressure: let the reaper drain */
	}
	return sqe;
}

/* An SQE (under sq_lock), or NULL when io_uring refuses more. */
static inline struct io_uring_sqe *get_sqe(struct sr_uring *ur)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ur->ring);
	return sr_likely(sqe) ? sqe : get_sqe_full(ur);
}

static void submit_all(struct sr_uring *ur)
{
	for (unsigned int tries = 0;; tries++) {
		int r = io_uring_submit(&ur->ring);
		if (r >= 0 || (r != -EBUSY && r != -EAGAIN && r != -EINTR))
			break;
		if (io_uring_sq_ready(&ur->ring) == 0)
			break;
		sched_yield(); /* completions must be reaped before more fit */
	}
}

unsigned int sr_uring_submit(struct sr_ctx *ctx, struct sr_req **reqs, unsigned int n)
{
	struct sr_uring *ur = &ctx->ur;
	unsigned int done = 0;
	bool quiet;

	/* SQPOLL submits with the ring creator's credentials: when the
	 * caller's differ (or cannot be compared), the threads run it. */
	if (sr_unlikely(ur->sqpoll) && (!ur->sq_creds || !creds_same(ur->sq_creds)))
		return 0;
	sr_uring_kinds_begin(); /* the preps below share what they ask about fds */
	pthread_mutex_lock(&ur->sq_lock);
	/* Counted before any SQE of this submit can reach the kernel: get_sqe
	 * pushes what is queued when the SQ is full, and a completion must
	 * never bring the count below its own request (reap_locked). What is
	 * not submitted after all comes off below. */
	sr_fetch_add(&ur->inflight, n, SR_RELAXED);
	for (; done < n; done++) {
		struct sr_req *req = reqs[done];
		struct io_uring_sqe *sqe;

		/* A timed call needs two SQEs, linked: make room for both first,
		 * so that get_sqe never pushes the call without its timeout. */
		if (sr_unlikely(req->deadline_ns) && io_uring_sq_space_left(&ur->ring) < 2)
			io_uring_submit(&ur->ring);
		sqe = get_sqe(ur);

		if (!sqe)
			break;
		/* Prepared in place (the kernel sees the SQE only at
		 * io_uring_submit, under this lock); zeroed first so that a
		 * prep sets only what its op uses. */
		memset(sqe, 0, sizeof(*sqe));
		if (sr_unlikely(req->uop->prep(sqe, req->args, &req->aux))) {
			/* Refused: give the SQE back (liburing's private tail,
			 * not yet published), the caller sends this request and
			 * the rest elsewhere. */
			ur->ring.sq.sqe_tail--;
			break;
		}
		io_uring_sqe_set_data(sqe, req);
		if (req->deadline_ns) {
			uint64_t now = sr_now_ns();
			uint64_t rel = req->deadline_ns > now ? req->deadline_ns - now : 1;
			struct io_uring_sqe *ts = get_sqe(ur);
			if (ts) {
				req->lts.tv_sec = (long long)(rel / 1000000000ull);
				req->lts.tv_nsec = (long long)(rel % 1000000000ull);
				sqe->flags |= IOSQE_IO_LINK;
				io_uring_prep_link_timeout(ts, &req->lts, 0);
				io_uring_sqe_set_data64(ts, SR_UD_IGNORE);
			}
		}
		/* Release pairs with the acquire in complete_cqe: the kernel
		 * orders submit before completion, this tells TSan so too. After
		 * our last look at the request: once it completes it may be
		 * collected and submitted again by another thread. */
		sr_store_release(&req->state, SR_REQ_URING);
	}
	if (sr_unlikely(done < n))
		sr_fetch_sub(&ur->inflight, n - done, SR_RELAXED);
	/* Acquire pairs with shutdown's release of reaper_only: from then on
	 * nobody but the reaper reaps, so it must hear of every CQE. */
	quiet = done && ur->use_quiet && !sr_load_acquire(&ur->reaper_only);
	if (quiet)
		quiet_enter(ur);
	if (done)
		submit_all(ur);
	pthread_mutex_unlock(&ur->sq_lock);
	if (quiet)
		quiet_leave(ur);
	/* Calls that io_uring finished inline during the submit (a cached
	 * read, a write to /dev/null) are delivered right here when nobody
	 * else is reaping: their events are ready when async_submit returns,
	 * and a waiter does not sleep for the reaper's hand-off. trylock: a
	 * completion continuing a syslet submits while holding cq_lock; a
	 * failed trylock leaves the delivery to the holder (cq_unlock). */
	if (done)
		sr_uring_reap(ctx, false);
	return done;
}

int sr_uring_cancel(struct sr_ctx *ctx, struct sr_req *req)
{
	struct sr_uring *ur = &ctx->ur;
	struct io_uring_sqe *sqe;

	pthread_mutex_lock(&ur->sq_lock);
	sqe = get_sqe(ur);
	if (sqe) {
		io_uring_prep_cancel(sqe, req, 0);
		io_uring_sqe_set_data64(sqe, SR_UD_IGNORE);
		submit_all(ur);
	}
	pthread_mutex_unlock(&ur->sq_lock);
	return sqe ? 0 : -EBUSY;
}

void sr_uring_shutdown(struct sr_ctx *ctx)
{
	struct sr_uring *ur = &ctx->ur;
	struct io_uring_sqe *sqe;

	if (!ur->ready)
		return;
	/* Cancel everything still in the kernel, until nothing is. */
	/* Acquire pairs with reap_locked's release decrement of inflight. */
	while (sr_load_acquire(&ur->inflight)) {
		for (uint32_t i = 0; i < ctx->nr_events; i++) {
			struct sr_req *req = &ctx->reqs[i];
			if (sr_load_relaxed(&req->state) == SR_REQ_URING) {
				sr_store_relaxed(&req->cancel, 1);
				sr_uring_cancel(ctx, req);
			}
		}
		struct timespec ts = {0, 500 * 1000};
		nanosleep(&ts, NULL);
	}
	/* Waiters stop reaping, then the reaper is told to leave. */
	pthread_mutex_lock(&ur->cq_lock);
	sr_store_release(&ur->reaper_only, 1);
	pthread_mutex_unlock(&ur->cq_lock);
	pthread_mutex_lock(&ur->sq_lock);
	sqe = get_sqe(ur);
	if (sqe) {
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, SR_UD_STOP);
		submit_all(ur);
	}
	pthread_mutex_unlock(&ur->sq_lock);
	if (ur->reaper_started)
		pthread_join(ur->reaper, NULL);
	sr_tsan_ring_unmapped(); /* before the unmap: core.h */
	io_uring_queue_exit(&ur->ring);
	close(ur->efd);
	pthread_mutex_destroy(&ur->sq_lock);
	pthread_mutex_destroy(&ur->cq_lock);
	free(ur->sq_creds);
	ur->sq_creds = NULL;
	sr_store_relaxed(&ur->ready, 0);
}

/* SPDX-License-Identifier: MIT */
/*
 * The threads engine: FlexSC's syscall threads in user space.
 *
 * Submitters push request indices into the context's submission ring (sq);
 * workers pop them, run the request's program with raw system calls and
 * hand the finished request to the face.
 *
 * Progress guarantee. Calls in flight whose completion depends only on each
 * other (a read and the write that feeds it, msgrcv and msgsnd) always
 * complete, up to nr_events in flight, with the default configuration. A
 * fixed pool cannot promise that: N blocked reads queued ahead of their N
 * writes take every worker of a pool of N or fewer (libuv's most reported
 * thread-pool complaint). So the pool is bounded by the calls in flight
 * (t->max = nr_events, one worker per call at most) and grows whenever work
 * is queued and every worker is blocked: then the next queued call gets a
 * thread of its own, as in FlexSC, and the dependent set completes with at
 * most one worker per call of it. Without a cap the guarantee rests only on
 * the system letting us create threads; SYSRING_THREADS (or
 * sysring_params.threads, max_nr_threads) sets a cap, and a set of
 * dependent calls that needs more threads than the cap then waits until a
 * running call ends (forever if none will): cancel, timeouts and destroy
 * still end such calls.
 *
 * Growth (how "every worker is blocked" is told from "busy computing"):
 * `eager` workers (two per CPU; one for the syslet face, whose submitter runs
 * cached atoms itself) start as soon as work waits with no idle worker.
 * Beyond that the monitor thread starts one more each time queued work has
 * waited 50 us without any worker taking an entry (popped_sum did not move)
 * and the scheduler shows fewer busy workers runnable than there are CPUs
 * (runnable_workers: the state in /proc of the latest busy workers). Calls
 * that block leave their workers sleeping; calls that compute for longer
 * than a tick leave them runnable, and a new worker would only take turns
 * with them on the CPUs, so the monitor waits until the queue has not moved
 * for 100 ms before adding one (calls that compute for ever must not starve
 * the queue either). 65 threads for 64 blocked reads then their 64 writes
 * (tests/progress.c); 256 reads of 1 MiB from the page cache keep to the
 * eager four here.
 *
 * Small threads, retired when idle. Workers run system calls, not user code:
 * 64 KiB stacks (the deepest path -- a worker starting a sibling, a syslet
 * completing into its ring, the cancel signal's frame on a blocked call --
 * uses 9.3 KiB, 11.2 KiB under ASan: tests/threads_stack.c), so an idle
 * worker costs about 13 KiB resident and 78 KiB of address space
 * (tests/threads_retire.c). A worker idle for SR_IDLE_NS while more than
 * `eager` are running leaves (retire()) and the monitor joins it, so a
 * burst's threads do not stay.
 *
 * Submission ring entries (req->in_sq). A cancelled queued call is completed
 * at once by its canceller (sr_ctx_cancel), not by the worker that would pop
 * it, which may be blocked behind the very call the application is
 * cancelling around. Its entry stays in the ring (a ring has no removal),
 * so an entry names a request, not one incarnation of it: a worker that pops
 * it runs the request if it is QUEUED at that moment (the state CAS decides,
 * exactly once) and otherwise drops the entry. in_sq says an entry stands for
 * the request: a submitter that finds it set pushes nothing (the entry will
 * run the reused request), one that finds it clear pushes; a worker clears
 * it right after its pop, before its CAS. So the ring never holds two entries
 * of one request and never fills (capacity >= nr_events), however many
 * queued calls are cancelled while every worker is blocked. A reused request
 * may thus run from its predecessor's place in the ring, earlier than calls
 * submitted before it: the engine never promised an order.
 *
 * Parking (an eventcount on thr.wake_seq):
 *   worker:    key = wake_seq; idle++ (seq_cst); re-check sq; futex_wait(key);
 *              leave: idle--, take one wake-up if any are pending
 *   submitter: push; fence (seq_cst); if idle > waking: waking += k;
 *              wake_seq++; futex_wake(k)
 * The seq_cst increment of `idle` and the submitter's full fence form a
 * Dekker pair: either the worker's re-check sees the new entry or the
 * submitter sees idle > 0 and wakes. A submitter that finds no idle worker
 * makes no system call at all, and one that finds every idle worker already
 * being woken makes none either: a worker being woken looks at the ring
 * after it leaves, and its leaving comes after that submitter's look.
 *
 * `idle` and `waking` share one 64-bit word (thr.park) and change together
 * by CAS. Kept apart they leaked: a worker that announced itself idle, saw
 * work on its re-check and left without sleeping could take its "no wake-up
 * pending" reading just before a submitter, still seeing it idle, counted a
 * wake-up for it; that wake-up was never taken, so later submitters, seeing
 * every idle worker "being woken", left the worker asleep with work queued
 * (tests/threads_park.c). In one word the submitter's CAS fails if the
 * worker left in between, and leaving clamps `waking` to the workers still
 * idle, so a wake-up is never counted for a worker that is gone. Fewer
 * counted wake-ups than real ones is harmless (an extra futex_wake later).
 *
 * Deadlines of queued calls. A timed call taken by a worker in time gets
 * the worker's timer; one that waits in the ring behind blocked workers
 * (a cap, failed thread creation) would miss its deadline, so submitters
 * whose calls must wait note the earliest deadline (t->qdl) and the
 * monitor, sleeping until then, completes the timed calls still queued at
 * their deadline with -ETIME (expire_queued), as a canceller would.
 *
 * Thread creation failure (pthread_create, RLIMIT_NPROC, memory): if no
 * worker exists and none can be started, nothing would ever run what is
 * queued, so every queued call completes -EAGAIN at once (fail_queued); if
 * some exist, queued calls wait for them and the monitor retries the start
 * (backing off to every 100 ms): the progress guarantee then holds only for
 * what the existing workers can carry. A timed call whose worker cannot get
 * its POSIX timer (timer_create) completes -EAGAIN without running (or
 * -ETIME if its deadline has passed): run untimed it could block past it.
 *
 * The cancel signal. Workers block every signal but SR_CANCEL_SIGNAL, whose
 * handler is installed without SA_RESTART. To stop a call blocked in the
 * kernel, cancel/destroy sets req->cancel and sends the signal to the worker
 * whose `cur` is that request, repeating until the worker lets go of it (a
 * signal that lands just before the call enters the kernel is otherwise
 * lost). A stray signal that hits the next request is absorbed by the
 * restart loop in sr_req_run. The signal is the library's, but the
 * application may change its action later: SIG_DFL would make the first
 * interruption kill the process, SIG_IGN or a handler with SA_RESTART would
 * leave the blocked call (and its canceller) waiting forever. So before every
 * interruption (cancel, destroy, arming a worker's timer) the action is
 * queried and, if it is not ours, ours is installed again (one rt_sigaction
 * per interruption); an application handler found there is chained: our
 * handler passes on every delivery that is not one of ours (ours carry a
 * cookie in si_value, sent with pthread_sigqueue or by a worker's timer), so
 * the application still gets its own signals, without SA_RESTART.
 *
 * Ownership and locks: workers and their slots belong to the context.
 * ctx->lock serialises starting, retiring and joining workers (slot states,
 * nslots, live) and the scans that signal workers; workers and submitters
 * never wait for it on the hot path (trylock). A retired worker's slot is
 * joined before it is reused, and shutdown joins every slot before
 * sr_threads_free releases the array. Lock order: ctx->lock -> the face's
 * locks (a request completed under ctx->lock by fail_queued).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../core/core.h"
#include "../core/futex.h"
#include "../core/uaccess.h"

#define SR_WORKER_STACK (64 * 1024)
#define SR_IDLE_NS (1000ull * 1000 * 1000) /* an idle worker above the floor retires */
#define SR_MON_TICK_NS (50 * 1000)         /* a stall this long grows the pool */
#define SR_MON_BUSY_MAX_NS (1600 * 1000)   /* work moving: look at most this seldom */
#define SR_MON_FAIL_MAX_NS (100 * 1000 * 1000) /* starts failing: retry this often */
#define SR_MON_COMPUTE_NS (100 * 1000 * 1000)  /* workers compute on every CPU: grow after this */
#define SR_MON_STREAM_NS (20 * 1000 * 1000)    /* re-armed this soon after standing down: same stream */

enum { SR_SLOT_FREE = 0, SR_SLOT_LIVE, SR_SLOT_GONE };

/* Bits of t->mon (see the monitor). */
#define MON_ARMED 1u /* work waits: watch for a stall */
#define MON_REAP 2u  /* a worker retired: join it */
#define MON_DEADLINE 4u /* a queued timed call has an earlier deadline */

/* ---- the cancel signal ---- */

static int sr_cancel_signal;
static pthread_once_t sr_signal_once = PTHREAD_ONCE_INIT;
/* si_value of our deliveries: nothing else can hold this address. */
static char sr_signal_cookie;
/* The application's action found on the signal, chained by the handler:
 * 0 none (SIG_DFL, SIG_IGN: our own deliveries only), 1 sa_handler,
 * 2 sa_sigaction. */
static uint32_t sr_app_kind;
static uintptr_t sr_app_fn;

static void cancel_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	/* Ours: its only purpose is to make the blocked call return EINTR. */
	if (si && si->si_value.sival_ptr == &sr_signal_cookie &&
	    (si->si_code == SI_TIMER || (si->si_code == SI_QUEUE && si->si_pid == getpid())))
		return;
	/* Acquire pairs with the release store of the kind in take_signal. */
	uint32_t kind = __atomic_load_n(&sr_app_kind, __ATOMIC_ACQUIRE);
	uintptr_t fn = __atomic_load_n(&sr_app_fn, __ATOMIC_RELAXED);
	if (kind == 1 && fn)
		((void (*)(int))fn)(sig);
	else if (kind == 2 && fn)
		((void (*)(int, siginfo_t *, void *))fn)(sig, si, uc);
	errno = saved;
}

static bool action_is_ours(const struct sigaction *sa)
{
	return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == cancel_handler &&
	       !(sa->sa_flags & SA_RESTART);
}

/* Install our action over `old`, keeping an application handler found
 * there for the deliveries that are not ours. Concurrent callers all
 * install the same action; none chains us to ourselves. */
static void take_signal(int sig, const struct sigaction *old)
{
	struct sigaction sa;

	if (!((old->sa_flags & SA_SIGINFO) && old->sa_sigaction == cancel_handler)) {
		uint32_t kind = 0;
		uintptr_t fn = 0;
		if (old->sa_flags & SA_SIGINFO) {
			kind = 2;
			fn = (uintptr_t)old->sa_sigaction;
		} else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
			kind = 1;
			fn = (uintptr_t)old->sa_handler;
		}
		__atomic_store_n(&sr_app_fn, fn, __ATOMIC_RELAXED);
		/* Release pairs with the handler's acquire of the kind. */
		__atomic_store_n(&sr_app_kind, kind, __ATOMIC_RELEASE);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = cancel_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: the blocked call must return EINTR */
	sigaction(sig, &sa, NULL);
}

static void install_cancel_signal(void)
{
	struct sigaction old;
	const char *env = getenv("SYSRING_CANCEL_SIGNAL");
	int sig = SIGRTMAX - 3;

	if (env) {
		int v = atoi(env);
		if (v >= SIGRTMIN && v <= SIGRTMAX)
			sig = v;
	}
	if (sigaction(sig, NULL, &old) == 0)
		take_signal(sig, &old);
	sr_cancel_signal = sig;
}

/* The signal, with our action on it: re-installed if the application has
 * changed it since (see the top comment). One rt_sigaction when nothing
 * changed; called before every interruption. */
int sr_threads_cancel_signal(void)
{
	struct sigaction cur;

	pthread_once(&sr_signal_once, install_cancel_signal);
	if (sigaction(sr_cancel_signal, NULL, &cur) == 0 && !action_is_ours(&cur))
		take_signal(sr_cancel_signal, &cur);
	return sr_cancel_signal;
}

int sr_threads_kick(pthread_t thread)
{
	union sigval v = {.sival_ptr = &sr_signal_cookie};
	return pthread_sigqueue(thread, sr_cancel_signal, v);
}

/* ---- parking ---- */

#define PARK_IDLE(w) ((uint32_t)(w))
#define PARK_WAKING(w) ((uint32_t)((w) >> 32))
#define PARK(idle, waking) ((uint64_t)(idle) | (uint64_t)(waking) << 32)

uint32_t sr_threads_idle(const struct sr_ctx *ctx)
{
	return PARK_IDLE(sr_load_relaxed(&ctx->thr.park));
}

/* A worker back from parking (slept, woken, or saw work on its re-check):
 * one fewer idle, one pending wake-up taken, and never more wake-ups
 * pending than idle workers left to take them. Seq_cst: the worker's next
 * look at the ring must see what a submitter pushed before it read the
 * word as it was before this change (the submitter's fence pairs). */
static void park_leave(struct sr_threads *t)
{
	uint64_t w = sr_load_relaxed(&t->park), nw;

	do {
		uint32_t idle = PARK_IDLE(w) - 1;
		uint32_t waking = PARK_WAKING(w) ? PARK_WAKING(w) - 1 : 0;
		nw = PARK(idle, waking < idle ? waking : idle);
	} while (!sr_cas_weak(&t->park, &w, nw, SR_SEQ_CST, SR_RELAXED));
}

static void grow(struct sr_ctx *ctx);

/* ---- per-call timeouts ---- */

/*
 * A per-worker POSIX timer aimed at the worker thread with the cancel
 * signal, armed at the request's deadline (absolute, CLOCK_MONOTONIC) only
 * for requests that have one. The blocked call gets EINTR and sr_req_run
 * turns it into -ETIME once the deadline has passed.
 */
static bool arm_timer(struct sr_worker *w, uint64_t deadline_ns)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	int sig = sr_threads_cancel_signal(); /* the timer's signal must not kill us */

	if (!w->timer_ok) {
		struct sigevent sev;
		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_THREAD_ID;
		sev.sigev_signo = sig;
		sev.sigev_value.sival_ptr = &sr_signal_cookie;
		sev._sigev_un._tid = w->tid;
		if (timer_create(CLOCK_MONOTONIC, &sev, &w->timer))
			return false;
		w->timer_ok = 1;
	}
	its.it_value.tv_sec = (time_t)(deadline_ns / 1000000000ull);
	its.it_value.tv_nsec = (long)(deadline_ns % 1000000000ull);
	return timer_settime(w->timer, TIMER_ABSTIME, &its, NULL) == 0;
}

static void disarm_timer(struct sr_worker *w)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	timer_settime(w->timer, 0, &its, NULL);
}

/* ---- taking entries off the ring ---- */

/* A popped entry no longer stands for its request: a submitter queuing it
 * from now on pushes a new one. Then claim the request if it is queued
 * (exactly one of worker, canceller, shutdown, fail_queued wins the CAS);
 * false: a stale entry (its call was cancelled and completed, the request
 * maybe reused elsewhere), which is dropped. */
static bool claim(struct sr_req *req, uint32_t to)
{
	uint32_t st = SR_REQ_QUEUED;

	/* Acq_rel pairs with the submitter's exchange in sr_threads_submit: a
	 * submitter that found in_sq set (and pushed nothing) queued the request
	 * before this exchange, so the CAS below sees it QUEUED. */
	sr_exchange(&req->in_sq, 0, SR_ACQ_REL);
	/* Acquire pairs with the release store of QUEUED (exec.c): the request
	 * was prepared before it. */
	return sr_cas(&req->state, &st, to, SR_ACQ_REL, SR_ACQUIRE);
}

/* A claimed request ends with `res` at its current atom, which could not
 * run (no thread, no timer): the atom's result is `res`, as if it had run
 * and failed, so that a syslet's owner reading ret_ptr sees why it ended. */
static void finish_unrun(struct sr_ctx *ctx, struct sr_req *req, long res)
{
	if (req->cur->ret_ptr)
		*req->cur->ret_ptr = res;
	sr_req_finish(ctx, req, res, SYSRING_ENGINE_THREADS);
}

/* Complete every queued call with `res` without running it (-ECANCELED:
 * shutdown, whose syslets' results are not written; -EAGAIN: no thread). */
static void fail_queued(struct sr_ctx *ctx, long res)
{
	uint32_t idx;

	while (sr_ring_pop_u32(&ctx->sq, &idx) == 0) {
		struct sr_req *req = &ctx->reqs[idx];
		if (!claim(req, SR_REQ_CANCELED))
			continue;
		if (res == -ECANCELED)
			sr_req_finish(ctx, req, res, SYSRING_ENGINE_THREADS);
		else
			finish_unrun(ctx, req, res);
	}
}

static void run_claimed(struct sr_ctx *ctx, struct sr_worker *w, struct sr_req *req)
{
	if (sr_unlikely(req->deadline_ns)) {
		if (!arm_timer(w, req->deadline_ns)) {
			/* Untimed, the call could block past its deadline. */
			finish_unrun(ctx, req, sr_now_ns() >= req->deadline_ns ? -ETIME : -EAGAIN);
			return;
		}
		sr_req_run(ctx, req, SYSRING_ENGINE_THREADS);
		disarm_timer(w);
		return;
	}
	sr_req_run(ctx, req, SYSRING_ENGINE_THREADS);
}

/* ---- workers ---- */

static bool spin_for_work(struct sr_ctx *ctx)
{
	uint64_t end = sr_now_ns() + ctx->cfg.spin_ns;
	do {
		for (int i = 0; i < 32; i++)
			sr_cpu_relax();
		if (sr_ring_count(&ctx->sq))
			return true;
	} while (sr_now_ns() < end && !sr_load_relaxed(&ctx->thr.stop));
	return false;
}

/* An idle worker above the floor leaves, unless work arrived. True: the
 * slot is marked GONE and the worker must return (the monitor joins it, or
 * a start that reuses the slot, or shutdown). */
static bool retire(struct sr_ctx *ctx, struct sr_worker *w)
{
	struct sr_threads *t = &ctx->thr;
	bool gone = false;

	pthread_mutex_lock(&ctx->lock);
	if (!sr_load_relaxed(&t->stop) && t->live > t->eager) {
		/* Leave the count, then look at the ring: Dekker with a
		 * submitter's push, fence, load of `live` (sr_threads_submit,
		 * grow). Either we see its entry and stay, or it sees us gone
		 * and grows the pool (the monitor then starts a worker). */
		sr_fetch_sub(&t->live, 1, SR_SEQ_CST);
		sr_smp_mb();
		if (sr_ring_count(&ctx->sq) == 0) {
			w->slot = SR_SLOT_GONE;
			gone = true;
		} else {
			sr_fetch_add(&t->live, 1, SR_RELAXED);
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	if (!gone)
		return false;
	/* Still ours to touch: the slot is reused, and the context freed,
	 * only after joining us. */
	if (w->timer_ok) {
		timer_delete(w->timer);
		w->timer_ok = 0;
	}
	/* Ask the monitor to join us. Release pairs with its acquire. */
	sr_fetch_or(&t->mon, MON_REAP, SR_RELEASE);
	sr_futex_wake(&t->mon, 1, false);
	return true;
}

/*
 * Completion batching. A worker that runs a burst of calls that never block
 * (class SR_NB, one atom, untimed) publishes their events together: one
 * count update and one wake-up check per run (sr_cq_batch_begin), instead of
 * a locked add and a look at the waiters per call. It publishes before it
 * runs anything that may block, before it looks for work it does not find
 * (so before it spins or parks), and every 64 events: a completion is never
 * held back while its worker waits, so the progress guarantee stands.
 */
static bool batchable(const struct sr_req *req)
{
	const struct sr_sysent *e = sr_sysent(req->atom.nr);

	return e && e->cls == SR_NB && !req->atom.next && !(req->atom.flags & SYSLET_SKIP_TO_NEXT_ON_STOP) &&
	       !req->deadline_ns;
}

static void *worker_main(void *arg)
{
	struct sr_worker *w = arg;
	struct sr_ctx *ctx = w->ctx;
	struct sr_threads *t = &ctx->thr;
	uint64_t idle_since = 0;
	struct sr_cq_batch cqb;
	bool open = false; /* cqb is this thread's open bracket */
	sigset_t set;

	/* Relaxed atomic: the monitor reads it (runnable_workers). */
	sr_store_relaxed(&w->tid, (pid_t)syscall(SYS_gettid));
	prctl(PR_SET_NAME, "sysring-worker"); /* for ps, top, gdb and tests */
	sigfillset(&set);
	sigdelset(&set, sr_cancel_signal);
	sr_sigmask_keep_faults(&set); /* faults in caller memory reach uaccess.h's handler */
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	for (;;) {
		uint32_t idx, key;
		int r = 0;

		if (sr_ring_pop_u32(&ctx->sq, &idx) == 0) {
			struct sr_req *req = &ctx->reqs[idx];

			/* Relaxed: the monitor only compares sums (popped_sum). */
			sr_store_relaxed(&w->popped, w->popped + 1);
			idle_since = 0;
			if (sr_ring_count(&ctx->sq) && !sr_threads_idle(ctx))
				grow(ctx);
			/* Publish cur before claiming, so a canceller that sees
			 * RUNNING also finds the worker to signal. */
			sr_store_release(&w->cur, req);
			if (claim(req, SR_REQ_RUNNING)) {
				/* Batch what cannot block; publish before what may. */
				if (batchable(req)) {
					if (!open)
						open = sr_cq_batch_begin(ctx, &cqb);
				} else if (open) {
					sr_cq_batch_end(&cqb, open);
					open = false;
				}
				run_claimed(ctx, w, req);
			}
			/* else: cancelled (its canceller completed it) or stale */
			/* Release pairs with the canceller's acquire of cur: once it
			 * reads NULL the request is no longer ours to interrupt. */
			sr_store_release(&w->cur, NULL);
			continue;
		}
		/* Out of work: publish the run's events, then look again. */
		if (open) {
			sr_cq_batch_end(&cqb, open);
			open = false;
			continue;
		}
		/* Acquire pairs with shutdown's release of stop. */
		if (sr_load_acquire(&t->stop))
			break;
		/* Spin briefly before parking, if configured (measured in bench). */
		if (ctx->cfg.spin_ns && spin_for_work(ctx))
			continue;
		/* Acquire pairs with the submitter's increment of wake_seq. */
		key = sr_load_acquire(&t->wake_seq);
		sr_fetch_add(&t->park, PARK(1, 0), SR_SEQ_CST);
		sr_smp_mb(); /* Dekker with the fence in sr_threads_submit */
		if (sr_ring_count(&ctx->sq) == 0 && !sr_load_acquire(&t->stop)) {
			struct timespec dl, *dlp = NULL;
			/* Above the floor, sleep only until SR_IDLE_NS after the
			 * last request (retire() decides under the lock). */
			if (sr_load_relaxed(&t->live) > t->eager) {
				uint64_t end;
				if (!idle_since)
					idle_since = sr_now_ns();
				end = idle_since + SR_IDLE_NS;
				dl.tv_sec = (time_t)(end / 1000000000ull);
				dl.tv_nsec = (long)(end % 1000000000ull);
				dlp = &dl;
			}
			r = sr_futex_wait(&t->wake_seq, key, dlp, false);
		}
		/* Back from idle: one pending wake-up (if any) was for us or is
		 * now pointless, since we are about to look at the ring. */
		park_leave(t);
		sr_smp_mb(); /* the look at the ring follows the leave (see park_leave) */
		if (r == -ETIMEDOUT && retire(ctx, w))
			return NULL;
	}
	if (w->timer_ok)
		timer_delete(w->timer);
	/* Release pairs with shutdown's acquire: we touch nothing after this. */
	sr_store_release(&w->exited, 1);
	return NULL;
}

static int create_thread(pthread_t *th, void *(*fn)(void *), void *arg, size_t stack)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int ret;

	pthread_attr_init(&attr);
	if (stack)
		pthread_attr_setstacksize(&attr, stack);
	/* Start with every signal blocked so none is delivered to the thread
	 * before it installs its own mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(th, &attr, fn, arg);
	/* glibc carves static TLS out of the stack: an application with a lot
	 * of it makes a small stack too small (EINVAL). Take the default. */
	if (ret == EINVAL && stack)
		ret = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return ret;
}

/* Start a worker; the caller holds ctx->lock. 0, or -EAGAIN (the cap, or
 * shutdown), or pthread_create's -errno. */
static int start_worker_locked(struct sr_ctx *ctx)
{
	struct sr_threads *t = &ctx->thr;
	struct sr_worker *w;
	uint32_t i;
	int ret;

	if (t->live >= t->max || sr_load_relaxed(&t->stop))
		return -EAGAIN;
	/* A slot never used, or one whose worker retired. With every slot
	 * below nslots live, nslots == live < max. */
	for (i = 0; i < t->nslots; i++)
		if (t->workers[i].slot != SR_SLOT_LIVE)
			break;
	w = &t->workers[i];
	if (w->slot == SR_SLOT_GONE)
		pthread_join(w->thread, NULL); /* it has returned or is returning */
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	w->index = i;
	ret = create_thread(&w->thread, worker_main, w, SR_WORKER_STACK);
	if (ret)
		return -ret; /* the slot stays FREE */
	w->slot = SR_SLOT_LIVE;
	if (i == t->nslots)
		t->nslots = i + 1;
	/* Seq_cst: retire()'s Dekker reads `live` the same way. */
	sr_fetch_add(&t->live, 1, SR_SEQ_CST);
	sr_fetch_add(&t->created, 1, SR_RELAXED);
	return 0;
}

/* After a failed start, with ctx->lock held (so `live` is exact): if no
 * worker exists, nothing will run what is queued; complete it -EAGAIN now
 * rather than leave it waiting for a thread that may never come. */
static void fail_if_no_worker_locked(struct sr_ctx *ctx)
{
	if (!ctx->thr.live && !sr_load_relaxed(&ctx->thr.stop))
		fail_queued(ctx, -EAGAIN);
}

/* Start a worker unless the pool is full or ctx->lock is taken (`wait`:
 * wait for it). True if this call started one. */
static bool start_worker(struct sr_ctx *ctx, bool wait)
{
	int ret;

	if (sr_load_relaxed(&ctx->thr.live) >= ctx->thr.max)
		return false;
	/* Never wait for the lock on a hot path. Whoever holds it may be
	 * starting a worker, but not necessarily one for this request:
	 * grow() arms the monitor when this fails. */
	if (wait)
		pthread_mutex_lock(&ctx->lock);
	else if (pthread_mutex_trylock(&ctx->lock))
		return false;
	ret = start_worker_locked(ctx);
	if (ret)
		fail_if_no_worker_locked(ctx);
	pthread_mutex_unlock(&ctx->lock);
	return ret == 0;
}

/*
 * The monitor: starts a worker when work has waited SR_MON_TICK_NS without
 * any worker taking an entry (every worker is blocked; see "Growth" above).
 * While work keeps moving it looks less and less often (up to every
 * SR_MON_BUSY_MAX_NS) and stands down once it has found the ring empty at
 * two looks in a row; while starts fail it retries less and less often (up
 * to SR_MON_FAIL_MAX_NS). It also
 * joins retired workers, so that their threads do not linger unjoined (a
 * worker above `eager` was started by the monitor, so one exists when a
 * worker retires).
 *
 * It sleeps on t->mon, a futex word of two bits: MON_ARMED (set by grow(),
 * once per arming, cleared by the monitor when it stands down) and
 * MON_REAP (set by a retiring worker). Every setter changes the word before
 * its wake-up, so a monitor about to sleep on the value it last read wakes
 * at once.
 *
 * Streams of short calls (one syslet per file, batches of stats) empty the
 * ring for an instant many times a second. Standing down at the first empty
 * look and restarting from SR_MON_TICK_NS at the next arming made the
 * monitor cycle: a futex_wake by the submitter per arming and ~7 nanosleeps
 * per cycle (strace: 4,232 per 70,000 syslets), each a wake-up and a
 * context switch costing 5-50 us on this VM. So it stands down only after
 * two empty looks, and an arming within SR_MON_STREAM_NS of standing down
 * resumes at the pace reached (the work was moving: it emptied the ring).
 * What that costs: the first stall after such an arming is seen after up
 * to SR_MON_BUSY_MAX_NS instead of SR_MON_TICK_NS; from its first start on
 * the monitor looks every SR_MON_TICK_NS again, as before.
 */
/* Set MON_ARMED; false if it was already set. Acq_rel pairs with the
 * monitor's acquire of the word. */
static bool mon_arm(struct sr_threads *t)
{
	uint32_t m = sr_load_relaxed(&t->mon);

	do {
		if (m & MON_ARMED)
			return false;
	} while (!sr_cas_weak(&t->mon, &m, m | MON_ARMED, SR_ACQ_REL, SR_RELAXED));
	return true;
}

/* Join the workers that retired; their slots become free. */
static void join_retired(struct sr_ctx *ctx)
{
	struct sr_threads *t = &ctx->thr;

	pthread_mutex_lock(&ctx->lock);
	for (uint32_t i = 0; i < t->nslots; i++)
		if (t->workers[i].slot == SR_SLOT_GONE) {
			pthread_join(t->workers[i].thread, NULL); /* returned or returning */
			t->workers[i].slot = SR_SLOT_FREE;
		}
	pthread_mutex_unlock(&ctx->lock);
}

/*
 * Whether the workers running calls compute or are blocked: the scheduler
 * knows (state R: running or runnable, even if another process has the
 * CPU; S or D: blocked in the kernel). Looks at the most recently started
 * busy workers, up to 2 per CPU + 2, and stops at `ncpu` runnable ones. One
 * read of /proc/thread's stat per worker looked at (three system calls),
 * only when work has waited a whole tick.
 */
static uint32_t runnable_workers(struct sr_ctx *ctx, uint32_t ncpu)
{
	struct sr_threads *t = &ctx->thr;
	uint32_t running = 0, looked = 0;

	/* Under the lock: a live slot's tid stays its thread's. */
	pthread_mutex_lock(&ctx->lock);
	for (uint32_t i = t->nslots; i-- > 0 && looked < 2 * ncpu + 2 && running < ncpu;) {
		struct sr_worker *w = &t->workers[i];
		pid_t tid = sr_load_relaxed(&w->tid);
		char path[64], buf[256], *p;
		ssize_t n;
		int fd;

		if (w->slot != SR_SLOT_LIVE || !tid || !sr_load_relaxed(&w->cur))
			continue;
		looked++;
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		/* "tid (comm) S ...": the state follows the last ')'. */
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'R')
			running++;
	}
	pthread_mutex_unlock(&ctx->lock);
	return running;
}

static void expire_queued(struct sr_ctx *ctx);

/* Entries taken by all workers (each counts its own, w->popped): only
 * compared between two looks, a stall being "no change". A slot reused
 * meanwhile restarts its count, which looks like movement for one tick.
 * Under the lock: start_worker_locked resets a reused slot. */
static uint64_t popped_sum(struct sr_ctx *ctx)
{
	struct sr_threads *t = &ctx->thr;
	uint64_t sum = 0;

	pthread_mutex_lock(&ctx->lock);
	for (uint32_t i = 0; i < t->nslots; i++)
		sum += sr_load_relaxed(&t->workers[i].popped);
	pthread_mutex_unlock(&ctx->lock);
	return sum;
}

static void *monitor_main(void *arg)
{
	struct sr_ctx *ctx = arg;
	struct sr_threads *t = &ctx->thr;
	long interval = SR_MON_TICK_NS;
	uint64_t stall_since = 0, down_at = 0;
	bool down = true;         /* stood down; down_at: since when (0: never armed) */
	unsigned int empty = 0;   /* looks in a row that found the ring empty */
	uint32_t ncpu = sysring_online_cpus();
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_NAME, "sysring-monitor");
	/* Acquires pair with shutdown's release of stop and the releases that
	 * change the word (mon_arm(), retire(), note_deadline()). */
	while (!sr_load_acquire(&t->stop)) {
		uint32_t m = sr_load_acquire(&t->mon);
		uint64_t dl, now;

		if (m & MON_REAP) {
			sr_fetch_and(&t->mon, ~MON_REAP, SR_ACQ_REL);
			join_retired(ctx);
			continue;
		}
		if (m & MON_DEADLINE) /* looked at below */
			m = sr_fetch_and(&t->mon, ~MON_DEADLINE, SR_ACQ_REL) & ~MON_DEADLINE;
		dl = sr_load_acquire(&t->qdl); /* pairs with note_deadline's CAS */
		now = dl ? sr_now_ns() : 0;
		if (dl && dl <= now) {
			expire_queued(ctx);
			continue;
		}
		if (!(m & MON_ARMED)) {
			struct timespec ts, *tsp = NULL;
			if (!down) {
				down = true;
				down_at = sr_now_ns();
			}
			if (dl) {
				ts.tv_sec = (time_t)(dl / 1000000000ull);
				ts.tv_nsec = (long)(dl % 1000000000ull);
				tsp = &ts;
			}
			sr_futex_wait(&t->mon, m, tsp, false);
			continue;
		}
		if (down) {
			/* Armed again: soon after standing down, the same stream
			 * of work (see above); after a quiet spell, look soon. */
			down = false;
			empty = 0;
			if (!down_at || sr_now_ns() - down_at > SR_MON_STREAM_NS)
				interval = SR_MON_TICK_NS;
			else if (interval > SR_MON_BUSY_MAX_NS)
				interval = SR_MON_BUSY_MAX_NS; /* not a failing start's backoff */
		}
		uint64_t before = popped_sum(ctx);
		if (dl && dl - now < (uint64_t)interval) {
			/* a deadline comes first: no stall can be judged */
			struct timespec ts = {0, (long)(dl - now)};
			nanosleep(&ts, NULL);
			continue;
		}
		uint64_t t0 = sr_now_ns();
		struct timespec ts = {interval / 1000000000L, interval % 1000000000L};
		nanosleep(&ts, NULL);
		if (sr_ring_count(&ctx->sq) && !sr_threads_idle(ctx) &&
		    popped_sum(ctx) == before && sr_load_relaxed(&t->live) < t->max) {
			/* Stalled. Blocked workers: start one more now. Workers
			 * computing on every CPU (calls longer than a tick): a
			 * new one would only take turns with them, so wait until
			 * the queue has not moved for SR_MON_COMPUTE_NS (calls
			 * that compute for ever must not starve it either). */
			if (!stall_since)
				stall_since = t0;
			if (sr_now_ns() - stall_since < SR_MON_COMPUTE_NS &&
			    runnable_workers(ctx, ncpu) >= ncpu) {
				interval = SR_MON_TICK_NS;
				continue;
			}
			stall_since = 0;
			if (start_worker(ctx, true))
				interval = SR_MON_TICK_NS; /* and look again soon */
			else if (interval < SR_MON_FAIL_MAX_NS)
				interval *= 2;
			continue;
		}
		stall_since = 0;
		empty = sr_ring_count(&ctx->sq) ? 0 : empty + 1;
		if (empty >= 2 || (!empty && sr_load_relaxed(&t->live) >= t->max)) {
			/* Work waits and the pool is full: timed calls queued
			 * behind it must end at their deadline. */
			if (sr_ring_count(&ctx->sq))
				expire_queued(ctx);
			/* Release pairs with grow()'s acquire in mon_arm(). */
			sr_fetch_and(&t->mon, ~MON_ARMED, SR_ACQ_REL);
			/* A submitter that pushed just after our look at the
			 * ring may have seen MON_ARMED still set in grow() and
			 * left the arming to us: look again after the change
			 * (Dekker with the fence in sr_threads_submit between
			 * its push and grow()'s load of the word), and stay
			 * armed if work waits. */
			sr_smp_mb();
			if (sr_ring_count(&ctx->sq) && sr_load_relaxed(&t->live) < t->max)
				mon_arm(t);
		} else if (interval < SR_MON_BUSY_MAX_NS) {
			interval *= 2; /* busy but moving: look less often */
		}
	}
	return NULL;
}

/* Start the monitor if it is not running; the caller holds ctx->lock.
 * False if it could not be started. */
static bool monitor_locked(struct sr_ctx *ctx)
{
	struct sr_threads *t = &ctx->thr;

	if (t->mon_started)
		return true;
	if (sr_load_relaxed(&t->stop) || create_thread(&t->monitor, monitor_main, ctx, SR_WORKER_STACK))
		return false;
	/* Release pairs with the acquire of mon_started (grow(), shutdown). */
	sr_store_release(&t->mon_started, 1);
	return true;
}

/*
 * Timed calls queued: a worker that takes one in time arms its timer, but
 * with every worker blocked (a cap, or thread creation failing) it could
 * stay queued past its deadline. So the earliest deadline queued is kept in
 * t->qdl and the monitor, sleeping until then, completes the calls still
 * queued at their deadline with -ETIME (expire_queued).
 */
static void note_deadline(struct sr_ctx *ctx, uint64_t dl)
{
	struct sr_threads *t = &ctx->thr;
	uint64_t cur = sr_load_relaxed(&t->qdl);

	do {
		if (cur && cur <= dl)
			return; /* the monitor wakes up earlier anyway */
	} while (!sr_cas_weak(&t->qdl, &cur, dl, SR_ACQ_REL, SR_RELAXED));
	/* Acquire pairs with the release of mon_started in monitor_locked. */
	if (!sr_load_acquire(&t->mon_started)) {
		pthread_mutex_lock(&ctx->lock);
		monitor_locked(ctx); /* without it, deadlines hold once a worker takes the call */
		pthread_mutex_unlock(&ctx->lock);
	}
	/* Change the word, then wake: a monitor about to sleep until a later
	 * deadline wakes at once. Release pairs with its acquire. */
	sr_fetch_or(&t->mon, MON_DEADLINE, SR_RELEASE);
	sr_futex_wake(&t->mon, 1, false);
}

/* Put a request the monitor claimed by mistake back in the queue (it had
 * been reused: its deadline was not the one read). */
static void requeue(struct sr_ctx *ctx, struct sr_req *req)
{
	/* Release pairs with a worker's acquire CAS in claim(). */
	sr_store_release(&req->state, SR_REQ_QUEUED);
	sr_threads_submit(ctx, &req, 1);
}

/* Complete with -ETIME the timed calls still queued at their deadline, and
 * note the earliest deadline left. */
static void expire_queued(struct sr_ctx *ctx)
{
	struct sr_threads *t = &ctx->thr;
	uint64_t now = sr_now_ns();

	/* Cleared first: a call noted from here on lowers it again. Seq_cst:
	 * before the scan's loads. */
	sr_store_relaxed(&t->qdl, 0);
	sr_smp_mb();
	for (uint32_t i = 0; i < ctx->nr_events; i++) {
		struct sr_req *req = &ctx->reqs[i];
		uint32_t st = SR_REQ_QUEUED;
		uint64_t dl;

		/* Acquire pairs with the release store of QUEUED (exec.c):
		 * the deadline was written before it. */
		if (sr_load_acquire(&req->state) != SR_REQ_QUEUED)
			continue;
		dl = sr_load_relaxed(&req->deadline_ns);
		if (!dl)
			continue;
		if (dl > now) {
			note_deadline(ctx, dl);
			continue;
		}
		/* Pairs with the worker's CAS in claim() and the canceller's:
		 * one wins. The entry stays in the ring (see in_sq). */
		if (!sr_cas(&req->state, &st, SR_REQ_CANCELED, SR_ACQ_REL, SR_ACQUIRE))
			continue;
		if (req->deadline_ns > now) /* reused meanwhile: not expired */
			requeue(ctx, req);
		else
			sr_req_finish(ctx, req, -ETIME, SYSRING_ENGINE_THREADS);
	}
}

static void grow(struct sr_ctx *ctx)
{
	struct sr_threads *t = &ctx->thr;

	/* Below `eager`, start one now. If that fails (the lock was busy,
	 * or pthread_create failed), the monitor is armed instead: otherwise
	 * a request queued behind workers that all block could wait for the
	 * next submission, forever if it is what they wait for. */
	if (sr_load_relaxed(&t->live) < t->eager && start_worker(ctx, false))
		return;
	if ((sr_load_relaxed(&t->mon) & MON_ARMED) || sr_load_relaxed(&t->live) >= t->max)
		return;
	if (!mon_arm(t)) /* one arming, one wake-up */
		return;
	/* Acquire pairs with the release of mon_started in monitor_locked. */
	if (!sr_load_acquire(&t->mon_started)) {
		pthread_mutex_lock(&ctx->lock);
		if (!monitor_locked(ctx) && !sr_load_relaxed(&t->stop)) {
			/* No monitor: disarm, so that a later grow() tries again
			 * instead of finding it armed forever; and if no worker
			 * exists either, nothing will run what is queued. */
			sr_fetch_and(&t->mon, ~MON_ARMED, SR_RELEASE);
			fail_if_no_worker_locked(ctx);
		}
		pthread_mutex_unlock(&ctx->lock);
	}
	sr_futex_wake(&t->mon, 1, false);
}

int sr_threads_init(struct sr_ctx *ctx, uint32_t max)
{
	struct sr_threads *t = &ctx->thr;

	memset(t, 0, sizeof(*t));
	/* The cap the application set, or one worker per call in flight (the
	 * progress guarantee above). */
	t->max = ctx->cfg.threads_set ? max : ctx->nr_events;
	if (!t->max)
		t->max = 1;
	/* Two per CPU by default (the async face: measured, docs/engines.md,
	 * one per CPU leaves CPUs idle while a worker waits on a short kernel
	 * lock); the syslet face, whose submitter itself runs the cached atoms,
	 * keeps one per CPU (sr_threads_set_eager). */
	t->eager = 2 * sysring_online_cpus();
	if (t->eager > t->max)
		t->eager = t->max;
	t->workers = calloc(t->max, sizeof(*t->workers));
	if (!t->workers)
		return -ENOMEM;
	sr_threads_cancel_signal();
	return 0;
}

void sr_threads_set_eager(struct sr_ctx *ctx, uint32_t per_cpu)
{
	uint32_t e = per_cpu * sysring_online_cpus();
	ctx->thr.eager = e < ctx->thr.max ? e : ctx->thr.max;
}

void sr_threads_submit(struct sr_ctx *ctx, struct sr_req **reqs, unsigned int n)
{
	struct sr_threads *t = &ctx->thr;
	uint64_t w, dl = 0;
	uint32_t idle, idx[64], np = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct sr_req *req = reqs[i];
		/* Not ours any more (a canceller may have completed it, and a
		 * submitter reused it): only idx is stable, and the deadline
		 * read atomically, at worst a later one's (a spurious look). */
		uint64_t d = sr_load_relaxed(&req->deadline_ns);
		if (sr_unlikely(d) && (!dl || d < dl))
			dl = d;
		/* At most one entry per request (in_sq, top comment): an entry
		 * still standing for it will run it. Acq_rel pairs with the
		 * worker's exchange in claim(). An exchange, not a load and a
		 * store: this submitter may be late (a canceller completed the
		 * call and another submitter queued the reused request
		 * meanwhile), and a store after a worker cleared the flag would
		 * leave a second entry. */
		if (!sr_exchange(&req->in_sq, 1, SR_ACQ_REL))
			idx[np++] = req->idx;
		/* pushed in runs: one CAS on the ring's tail per run */
		if (np == 64 || (i + 1 == n && np)) {
			if (np == 1)
				sr_ring_push_wait_u32(&ctx->sq, idx[0]); /* never full, see core.h */
			else
				sr_ring_push_multiple_wait(&ctx->sq, idx, np);
			np = 0;
		}
	}
	sr_smp_mb(); /* Dekker with the worker's idle++ then re-check */
	w = sr_load_relaxed(&t->park);
	for (;;) {
		idle = PARK_IDLE(w);
		/* Workers already being woken will look at the ring anyway:
		 * wake only the rest, so a burst of submissions does not pay a
		 * futex_wake each for the same sleeper. */
		if (idle <= PARK_WAKING(w))
			break;
		uint32_t k = idle - PARK_WAKING(w) < n ? idle - PARK_WAKING(w) : n;
		if (sr_cas_weak(&t->park, &w, w + PARK(0, k), SR_RELAXED, SR_RELAXED)) {
			/* Release pairs with the worker's acquire of wake_seq. */
			sr_fetch_add(&t->wake_seq, 1, SR_RELEASE);
			sr_futex_wake(&t->wake_seq, (int)k, false);
			break;
		}
	}
	if (idle < n) {
		/* Some of these wait for a worker: a timed one must not wait
		 * past its deadline (note_deadline). */
		if (sr_unlikely(dl))
			note_deadline(ctx, dl);
		/* `live` read after the fence: Dekker with retire(). */
		if (sr_load_relaxed(&t->live) < t->max)
			grow(ctx);
	}
}

/* Interrupt the worker running `req`, repeating until it lets go of it.
 * Returns once req is no longer running on any worker. */
void sr_threads_interrupt(struct sr_ctx *ctx, struct sr_req *req)
{
	struct sr_threads *t = &ctx->thr;

	for (;;) {
		bool found = false;

		/* The request finished and was submitted again (its cancel flag
		 * is cleared for each submission): the worker running it now
		 * runs a call nobody cancelled, which must not get the signal
		 * (a flood of them ended its retries with a bare -EINTR). */
		if (!sr_load_relaxed(&req->cancel))
			return;

		sr_threads_cancel_signal(); /* our action, before every round */
		/* Under the lock: a live slot's thread is not joined meanwhile. */
		pthread_mutex_lock(&ctx->lock);
		for (uint32_t i = 0; i < t->nslots; i++) {
			struct sr_worker *w = &t->workers[i];
			/* Acquire pairs with the worker's release of cur. */
			if (w->slot == SR_SLOT_LIVE && sr_load_acquire(&w->cur) == req) {
				found = true;
				sr_threads_kick(w->thread);
			}
		}
		pthread_mutex_unlock(&ctx->lock);
		if (!found)
			return;
		struct timespec ts = {0, 200 * 1000}; /* 200 us between retries */
		nanosleep(&ts, NULL);
	}
}

void sr_threads_shutdown(struct sr_ctx *ctx)
{
	struct sr_threads *t = &ctx->thr;
	uint32_t nslots;

	pthread_mutex_lock(&ctx->lock);
	sr_store_release(&t->stop, 1); /* pairs with the workers' acquire of stop */
	nslots = t->nslots;            /* no worker starts or retires after stop */
	pthread_mutex_unlock(&ctx->lock);

	/* Nothing queued will run: each request completes -ECANCELED. */
	fail_queued(ctx, -ECANCELED);
	/*
	 * Until every worker has left its loop: cancel and interrupt whatever
	 * it is running, and wake it if it sleeps. Repeating closes every race
	 * (a worker between popping a request and publishing `cur`, a signal
	 * that arrived just before the call entered the kernel). Under the
	 * lock: the monitor may still be joining retired workers.
	 */
	for (;;) {
		uint32_t alive = 0;

		sr_threads_cancel_signal(); /* our action, before every round */
		pthread_mutex_lock(&ctx->lock);
		for (uint32_t i = 0; i < nslots; i++) {
			struct sr_worker *w = &t->workers[i];
			struct sr_req *req;

			/* Acquire pairs with the worker's release of `exited`. */
			if (w->slot != SR_SLOT_LIVE || sr_load_acquire(&w->exited))
				continue;
			alive++;
			/* Acquire pairs with the worker's release of cur. */
			req = sr_load_acquire(&w->cur);
			if (req) {
				sr_store_relaxed(&req->cancel, 1);
				sr_threads_kick(w->thread);
			}
		}
		pthread_mutex_unlock(&ctx->lock);
		if (!alive)
			break;
		/* Release pairs with the workers' acquire of wake_seq. */
		sr_fetch_add(&t->wake_seq, 1, SR_RELEASE);
		sr_futex_wake(&t->wake_seq, INT32_MAX, false);
		struct timespec ts = {0, 200 * 1000};
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&ctx->lock);
	pthread_mutex_unlock(&ctx->lock); /* a grow() starting the monitor is done */
	/* The monitor first: it joins retired workers, and a slot must be
	 * joined exactly once. Acquire pairs with grow()'s release of
	 * mon_started; the change of the word wakes the monitor, whose
	 * acquire of it then sees stop. */
	if (sr_load_acquire(&t->mon_started)) {
		sr_fetch_or(&t->mon, MON_ARMED, SR_RELEASE);
		sr_futex_wake(&t->mon, 1, false);
		pthread_join(t->monitor, NULL);
	}
	/* Nobody else touches the slots now. */
	for (uint32_t i = 0; i < nslots; i++)
		if (t->workers[i].slot != SR_SLOT_FREE)
			pthread_join(t->workers[i].thread, NULL);
}

void sr_threads_free(struct sr_ctx *ctx)
{
	free(ctx->thr.workers);
	ctx->thr.workers = NULL;
}

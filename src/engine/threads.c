/* SPDX-License-Identifier: MIT */
/*
 * The threads engine: FlexSC's syscall threads in user space.
 *
 * Submitters push request indices into the context's submission ring (sq);
 * workers pop them, run the request's program with raw system calls and
 * hand the finished request to the face. Workers are started on demand up
 * to thr.max: a submitter starts one when none is idle, and a worker that
 * takes a request while more are queued and none is idle starts a sibling,
 * so a burst of blocking calls spreads over the pool quickly.
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
 * Interruption: workers block every signal but SR_CANCEL_SIGNAL, whose
 * handler is installed without SA_RESTART. To stop a call blocked in the
 * kernel, cancel/destroy sets req->cancel and sends the signal to the worker
 * whose `cur` is that request, repeating until the worker lets go of it (a
 * signal that lands just before the call enters the kernel is otherwise
 * lost). A stray signal that hits the next request is absorbed by the
 * restart loop in sr_req_run.
 *
 * Ownership: workers and their array belong to the context; shutdown joins
 * them all before sr_threads_free releases the array.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../core/core.h"
#include "../core/futex.h"

static int sr_cancel_signal;
static pthread_once_t sr_signal_once = PTHREAD_ONCE_INIT;

static void cancel_handler(int sig)
{
	(void)sig; /* its only purpose is to make the blocked call return EINTR */
}

static void install_cancel_signal(void)
{
	struct sigaction sa;
	const char *env = getenv("SYSRING_CANCEL_SIGNAL");
	int sig = SIGRTMAX - 3;

	if (env) {
		int v = atoi(env);
		if (v >= SIGRTMIN && v <= SIGRTMAX)
			sig = v;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cancel_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the blocked call must return EINTR */
	sigaction(sig, &sa, NULL);
	sr_cancel_signal = sig;
}

int sr_threads_cancel_signal(void)
{
	pthread_once(&sr_signal_once, install_cancel_signal);
	return sr_cancel_signal;
}

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

static bool maybe_start_worker(struct sr_ctx *ctx);
static void grow(struct sr_ctx *ctx);

/*
 * Per-call timeouts: a per-worker POSIX timer aimed at the worker thread
 * with the cancel signal, armed at the request's deadline (absolute,
 * CLOCK_MONOTONIC) only for requests that have one. The blocked call gets
 * EINTR and sr_req_run turns it into -ETIME once the deadline has passed.
 */
static bool arm_timer(struct sr_worker *w, uint64_t deadline_ns)
{
	struct itimerspec its = {{0, 0}, {0, 0}};

	if (!w->timer_ok) {
		struct sigevent sev;
		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_THREAD_ID;
		sev.sigev_signo = sr_cancel_signal;
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

static void *worker_main(void *arg)
{
	struct sr_worker *w = arg;
	struct sr_ctx *ctx = w->ctx;
	struct sr_threads *t = &ctx->thr;
	sigset_t set;

	w->tid = (pid_t)syscall(SYS_gettid);
	sigfillset(&set);
	sigdelset(&set, sr_cancel_signal);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	for (;;) {
		uint32_t idx, key;

		if (sr_ring_pop_u32(&ctx->sq, &idx) == 0) {
			struct sr_req *req = &ctx->reqs[idx];
			uint32_t st = SR_REQ_QUEUED;

			sr_fetch_add(&t->popped, 1, SR_RELAXED);
			if (sr_ring_count(&ctx->sq) && !sr_threads_idle(ctx))
				grow(ctx);
			/* Publish cur before claiming, so a canceller that sees
			 * RUNNING also finds the worker to signal. */
			sr_store_release(&w->cur, req);
			if (sr_cas(&req->state, &st, SR_REQ_RUNNING, SR_ACQ_REL, SR_ACQUIRE)) {
				bool timed = req->deadline_ns && arm_timer(w, req->deadline_ns);
				if (req->deadline_ns && !timed)
					/* No timer (timer_create failed: kernel memory,
					 * RLIMIT_SIGPENDING): run untimed, the call could
					 * wait forever past its deadline. It fails as
					 * timer_create did, before running. */
					sr_req_finish(ctx, req, -EAGAIN, SYSRING_ENGINE_THREADS);
				else
					sr_req_run(ctx, req, SYSRING_ENGINE_THREADS);
				if (timed)
					disarm_timer(w);
			} else
				sr_req_finish(ctx, req, -ECANCELED, SYSRING_ENGINE_THREADS);
			/* Release pairs with the canceller's acquire of cur: once it
			 * reads NULL the request is no longer ours to interrupt. */
			sr_store_release(&w->cur, NULL);
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
		if (sr_ring_count(&ctx->sq) == 0 && !sr_load_acquire(&t->stop))
			sr_futex_wait(&t->wake_seq, key, NULL, false);
		/* Back from idle: one pending wake-up (if any) was for us or is
		 * now pointless, since we are about to look at the ring. */
		park_leave(t);
		sr_smp_mb(); /* the look at the ring follows the leave (see park_leave) */
	}
	if (w->timer_ok)
		timer_delete(w->timer);
	/* Release pairs with shutdown's acquire: we touch nothing after this. */
	sr_store_release(&w->exited, 1);
	return NULL;
}

static int start_worker_locked(struct sr_ctx *ctx)
{
	struct sr_threads *t = &ctx->thr;
	struct sr_worker *w;
	pthread_attr_t attr;
	sigset_t all, old;
	int ret;

	if (t->started >= t->max || sr_load_relaxed(&t->stop))
		return -EAGAIN;
	w = &t->workers[t->started];
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	w->index = t->started;
	pthread_attr_init(&attr);
	/* Workers run system calls, not user code: a small stack is plenty. */
	pthread_attr_setstacksize(&attr, 64 * 1024);
	/* Start with every signal blocked so none is delivered to the worker
	 * before it installs its own mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&w->thread, &attr, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (ret)
		return -ret;
	/* Release pairs with the acquire in shutdown/cancel that walk workers. */
	sr_store_release(&t->started, t->started + 1);
	return 0;
}

/* Start a worker unless the pool is full or ctx->lock is taken. True if
 * this call started one. */
static bool maybe_start_worker(struct sr_ctx *ctx)
{
	int ret;

	if (sr_load_relaxed(&ctx->thr.started) >= ctx->thr.max)
		return false;
	/* Never wait for the lock on a hot path. Whoever holds it may be
	 * starting a worker, but not necessarily one for this request:
	 * grow() arms the monitor when this fails. */
	if (pthread_mutex_trylock(&ctx->lock))
		return false;
	ret = start_worker_locked(ctx);
	pthread_mutex_unlock(&ctx->lock);
	return ret == 0;
}

/*
 * Growth. Up to two workers per CPU start as soon as work waits with no idle
 * worker: those run calls that compute. Beyond that, another worker only
 * helps if the running ones are blocked in the kernel, so the monitor
 * thread starts one when work has waited 50 us without any worker taking a
 * request (t->popped did not move). A CPU-bound burst therefore keeps to
 * `eager` threads (more would only take turns on the CPUs), while blocking
 * calls grow the pool to `max`, one worker per 50 us. While work keeps
 * moving the monitor looks less and less often (up to every 1.6 ms) and
 * stands down once the ring is empty; it sleeps on t->mon_armed and is
 * woken at most once per arming.
 */
static void *monitor_main(void *arg)
{
	struct sr_ctx *ctx = arg;
	struct sr_threads *t = &ctx->thr;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	long interval = 50 * 1000;

	/* Acquires pair with shutdown's release of stop and grow()'s CAS of
	 * mon_armed. */
	while (!sr_load_acquire(&t->stop)) {
		if (!sr_load_acquire(&t->mon_armed)) {
			interval = 50 * 1000;
			sr_futex_wait(&t->mon_armed, 0, NULL, false);
			continue;
		}
		uint64_t before = sr_load_relaxed(&t->popped);
		struct timespec ts = {0, interval};
		nanosleep(&ts, NULL);
		if (sr_ring_count(&ctx->sq) && !sr_threads_idle(ctx) &&
		    sr_load_relaxed(&t->popped) == before && sr_load_relaxed(&t->started) < t->max) {
			maybe_start_worker(ctx); /* stalled: everyone is blocked */
			interval = 50 * 1000;    /* and look again soon */
			continue;
		}
		if (!sr_ring_count(&ctx->sq) || sr_load_relaxed(&t->started) >= t->max) {
			sr_store_release(&t->mon_armed, 0);
			/* A submitter that pushed just after our look at the
			 * ring may have seen mon_armed still 1 in grow() and
			 * left the arming to us: look again after the store
			 * (Dekker with the fence in sr_threads_submit between
			 * its push and grow()'s load of mon_armed), and stay
			 * armed if work waits. */
			sr_smp_mb();
			uint32_t zero = 0;
			if (sr_ring_count(&ctx->sq) && sr_load_relaxed(&t->started) < t->max)
				sr_cas(&t->mon_armed, &zero, 1, SR_ACQ_REL, SR_RELAXED);
		} else if (interval < 1600 * 1000)
			interval *= 2; /* busy but moving: look less often */
	}
	return NULL;
}

static void grow(struct sr_ctx *ctx)
{
	struct sr_threads *t = &ctx->thr;
	uint32_t zero = 0;

	/* Below `eager`, start one now. If that fails (the lock was busy,
	 * or pthread_create failed), the monitor is armed instead: otherwise
	 * a request queued behind workers that all block could wait for the
	 * next submission, forever if it is what they wait for. */
	if (sr_load_relaxed(&t->started) < t->eager && maybe_start_worker(ctx))
		return;
	if (sr_load_relaxed(&t->mon_armed) || sr_load_relaxed(&t->started) >= t->max)
		return;
	/* Pairs with the monitor's acquire of mon_armed: one arming, one wake. */
	if (!sr_cas(&t->mon_armed, &zero, 1, SR_ACQ_REL, SR_RELAXED))
		return;
	/* Acquire pairs with the release of mon_started below (under the lock). */
	if (!sr_load_acquire(&t->mon_started)) {
		pthread_mutex_lock(&ctx->lock);
		if (!t->mon_started && !sr_load_relaxed(&t->stop)) {
			sigset_t all, old;
			sigfillset(&all);
			pthread_sigmask(SIG_SETMASK, &all, &old);
			if (pthread_create(&t->monitor, NULL, monitor_main, ctx) == 0)
				sr_store_release(&t->mon_started, 1);
			else
				/* No monitor: disarm, so that a later grow() tries again
				 * instead of finding it armed forever. */
				sr_store_release(&t->mon_armed, 0);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		}
		pthread_mutex_unlock(&ctx->lock);
	}
	sr_futex_wake(&t->mon_armed, 1, false);
}

int sr_threads_init(struct sr_ctx *ctx, uint32_t max)
{
	struct sr_threads *t = &ctx->thr;

	memset(t, 0, sizeof(*t));
	t->max = max ? max : 1;
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
	uint64_t w;
	uint32_t idle;

	for (unsigned int i = 0; i < n; i++)
		sr_ring_push_wait_u32(&ctx->sq, reqs[i]->idx); /* never full, see core.h */
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
	if (idle < n && sr_load_relaxed(&t->started) < t->max)
		grow(ctx);
}

/* Interrupt the worker running `req`, repeating until it lets go of it.
 * Returns once req is no longer running on any worker. */
void sr_threads_interrupt(struct sr_ctx *ctx, struct sr_req *req)
{
	struct sr_threads *t = &ctx->thr;
	int sig = sr_threads_cancel_signal();

	for (;;) {
		/* Acquire pairs with start_worker_locked's release of started. */
		uint32_t started = sr_load_acquire(&t->started);
		bool found = false;

		/* The request finished and was submitted again (its cancel flag
		 * is cleared for each submission): the worker running it now
		 * runs a call nobody cancelled, which must not get the signal
		 * (a flood of them ended its retries with a bare -EINTR). */
		if (!sr_load_relaxed(&req->cancel))
			return;

		for (uint32_t i = 0; i < started; i++) {
			struct sr_worker *w = &t->workers[i];
			/* Acquire pairs with the worker's release of cur. */
			if (sr_load_acquire(&w->cur) == req) {
				found = true;
				pthread_kill(w->thread, sig);
			}
		}
		if (!found)
			return;
		struct timespec ts = {0, 200 * 1000}; /* 200 us between retries */
		nanosleep(&ts, NULL);
	}
}

void sr_threads_shutdown(struct sr_ctx *ctx)
{
	struct sr_threads *t = &ctx->thr;
	int sig = sr_threads_cancel_signal();
	uint32_t started, idx;

	pthread_mutex_lock(&ctx->lock);
	sr_store_release(&t->stop, 1); /* pairs with the workers' acquire of stop */
	started = t->started;          /* no worker starts after stop */
	pthread_mutex_unlock(&ctx->lock);

	/* Nothing queued will run: each request completes -ECANCELED. */
	while (sr_ring_pop_u32(&ctx->sq, &idx) == 0) {
		struct sr_req *req = &ctx->reqs[idx];
		uint32_t st = SR_REQ_QUEUED;
		/* Pairs with the worker's CAS QUEUED -> RUNNING: one wins. */
		if (sr_cas(&req->state, &st, SR_REQ_CANCELED, SR_ACQ_REL, SR_ACQUIRE))
			sr_req_finish(ctx, req, -ECANCELED, SYSRING_ENGINE_THREADS);
	}
	/*
	 * Until every worker has left its loop: cancel and interrupt whatever
	 * it is running, and wake it if it sleeps. Repeating closes every race
	 * (a worker between popping a request and publishing `cur`, a signal
	 * that arrived just before the call entered the kernel).
	 */
	for (;;) {
		uint32_t alive = 0;

		for (uint32_t i = 0; i < started; i++) {
			struct sr_worker *w = &t->workers[i];
			struct sr_req *req;

			/* Acquire pairs with the worker's release of `exited`. */
			if (sr_load_acquire(&w->exited))
				continue;
			alive++;
			/* Acquire pairs with the worker's release of cur. */
			req = sr_load_acquire(&w->cur);
			if (req) {
				sr_store_relaxed(&req->cancel, 1);
				pthread_kill(w->thread, sig);
			}
		}
		if (!alive)
			break;
		/* Release pairs with the workers' acquire of wake_seq. */
		sr_fetch_add(&t->wake_seq, 1, SR_RELEASE);
		sr_futex_wake(&t->wake_seq, INT32_MAX, false);
		struct timespec ts = {0, 200 * 1000};
		nanosleep(&ts, NULL);
	}
	for (uint32_t i = 0; i < started; i++)
		pthread_join(t->workers[i].thread, NULL);
	pthread_mutex_lock(&ctx->lock);
	pthread_mutex_unlock(&ctx->lock); /* a grow() starting the monitor is done */
	/* Acquire pairs with grow()'s release of mon_started; the release of
	 * mon_armed pairs with the monitor's acquire (it then sees stop). */
	if (sr_load_acquire(&t->mon_started)) {
		sr_store_release(&t->mon_armed, 1);
		sr_futex_wake(&t->mon_armed, 1, false);
		pthread_join(t->monitor, NULL);
	}
}

void sr_threads_free(struct sr_ctx *ctx)
{
	free(ctx->thr.workers);
	ctx->thr.workers = NULL;
}

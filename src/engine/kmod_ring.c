/* SPDX-License-Identifier: MIT */
/*
 * The kmod engine for the async face: in-kernel workers (FlexSC's syscall
 * threads with the right `current`). When a context is set up with engine
 * "kmod" and /dev/sysring speaks our interface version, the calls that would
 * go to executor threads go into a ring shared with the module instead:
 * library threads sit inside the WORKER ioctl and execute entries in the
 * kernel; submitters only write the ring and make a system call (WAKE) only
 * when a worker sleeps (SYSRING_SQ_NEED_WAKEUP). Completions are read from
 * the completion ring by a reaper thread blocked in the WAIT ioctl, and by
 * threads entering async_getevents, as for io_uring.
 *
 * Memory ordering is the one written at the ring's definition in
 * <sysring/uapi.h>; each barrier below names its pair there.
 *
 * Progress guarantee (docs/engines.md): calls in flight whose completion
 * depends only on each other always complete, up to nr_events. A fixed
 * pool cannot promise it (N blocked reads queued ahead of their writes take
 * every worker of a pool of N or fewer), so the pool grows as the threads
 * engine's does (threads.c, "Growth"): `floor` workers (SYSRING_THREADS,
 * default 4 per CPU) start with the context; a monitor thread, armed by a
 * submitter that leaves more entries queued than workers asleep in the
 * module (sq_idle), starts one more each time queued entries have waited
 * SR_KMOD_TICK_NS without the module taking any (sq_head did not move)
 * and no worker sleeps: every worker is then inside a call. Growth stops at
 * `max`: nr_events (one worker per call in flight), or SYSRING_THREADS when
 * the application set it (a cap, as for the threads engine). A worker
 * above the floor serves with WORKER_IDLE and leaves after SR_KMOD_IDLE_NS
 * asleep with nothing to take; the monitor joins it.
 *
 * Arming (Dekker pairs, each with a full barrier on both sides): a
 * submitter publishes sq_tail, fences, then reads sq_idle and the monitor's
 * word; the monitor, standing down, clears MON_ARMED, fences, then looks at
 * the queue again. A worker leaving at its idle limit stops counting itself
 * in sq_idle, fences, then looks at sq_tail (the module, uapi.h). So an
 * entry is never left queued with every worker busy and nobody watching.
 *
 * Descriptor: the ring's file is opened at set-up and moved out of the way
 * of the program's fd numbers (kmod.c). A fork child closes its copy
 * (sr_kmod_atfork_child): the mapping is not inherited (VM_DONTCOPY), the
 * module refuses the ring to other processes, and the child must not keep
 * the parent's ring alive either.
 *
 * Ownership and locks: workers and their slots belong to the context;
 * pool_lock serialises starting, retiring and joining them (slot states,
 * nslots, live) and the scans that signal them; submitters never take it.
 * Lock order: sq_lock and cq_lock are never held with pool_lock.
 *
 * Without the module (or with another interface version) nothing here is
 * used and the threads engine runs those calls.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sysring/uapi.h>

#include "../core/core.h"
#include "../core/futex.h"
#include "../core/uaccess.h"
#include "kmod.h"

#define SR_KMOD_STACK (64 * 1024)                /* workers run calls in the kernel */
#define SR_KMOD_IDLE_NS (1000ull * 1000 * 1000)   /* above the floor, idle this long: leave */
#define SR_KMOD_TICK_NS (50 * 1000)               /* queued entries not taken this long: grow */
#define SR_KMOD_BUSY_MAX_NS (1600 * 1000)         /* work moving: look at most this seldom */
#define SR_KMOD_FAIL_MAX_NS (100 * 1000 * 1000)   /* starts failing: retry this often */

/* Bits of k->mon, the monitor's futex word. */
#define MON_ARMED 1u /* entries wait beyond the sleeping workers: watch for a stall */
#define MON_REAP 2u  /* a worker retired: join it */

enum { KW_FREE = 0, KW_LIVE, KW_GONE };

struct kworker {
	pthread_t th;
	struct sr_ctx *ctx;
	uint32_t slot;   /* KW_*, under pool_lock */
	uint32_t exited; /* left its loop for good (set by the worker) */
};

struct sr_kmod {
	int fd;
	void *map;
	size_t map_size;
	struct sysring_ring_hdr *hdr;
	struct sysring_sqe *sqes;
	struct sysring_cqe *cqes;
	uint32_t sq_entries, cq_entries;
	uint32_t sq_tail; /* ours: the module keeps its own copy too */
	pthread_mutex_t sq_lock, cq_lock;
	pthread_t reaper;
	uint32_t stop;
	uint32_t broken; /* WAKE refused (seccomp since setup, a broken ring): no more submits */
	uint64_t inflight;
	/* The pool (see the top): */
	pthread_mutex_t pool_lock;
	struct kworker *workers; /* `max` slots */
	uint32_t max, floor;
	uint32_t nslots; /* slots used so far */
	uint32_t live;   /* workers started and not retired */
	uint32_t idle_ok; /* the module has WORKER_IDLE (and sq_idle) */
	uint32_t mon;     /* MON_* */
	uint32_t mon_started;
	pthread_t monitor;
};

/* The module is usable (sr_kmod_open checked its interface version once per
 * process) and has the ring; returns its features, or 0. */
static uint32_t kmod_ring_features(void)
{
	static uint32_t feats = UINT32_MAX;
	uint32_t f = sr_load_relaxed(&feats);
	if (f != UINT32_MAX)
		return f;
	int fd = sr_kmod_open();
	struct sysring_info info = {.size = sizeof(info)};
	f = 0;
	if (fd >= 0 && ioctl(fd, SYSRING_IOC_INFO, &info) == 0 && (info.features & SYSRING_FEAT_RING) &&
	    info.sqe_size == sizeof(struct sysring_sqe) && info.cqe_size == sizeof(struct sysring_cqe))
		f = info.features;
	sr_store_relaxed(&feats, f);
	return f;
}

static bool kretire(struct sr_kmod *k, struct kworker *w);

static void *kworker_main(void *arg)
{
	struct kworker *w = arg;
	struct sr_kmod *k = w->ctx->km;
	sigset_t set;

	/* Only the cancel signal gets through: it interrupts the call this
	 * thread runs inside the module (cancel, destroy). */
	sigfillset(&set);
	sigdelset(&set, sr_threads_cancel_signal());
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	/* Acquire pairs with shutdown's release of stop. */
	while (!sr_load_acquire(&k->stop)) {
		int r;
		/* Above the floor: leave after a while with nothing to do. */
		if (k->idle_ok && sr_load_relaxed(&k->live) > k->floor) {
			struct sysring_worker a = {.size = sizeof(a), .idle_ns = SR_KMOD_IDLE_NS};
			r = ioctl(k->fd, SYSRING_IOC_WORKER_IDLE, &a);
		} else {
			r = ioctl(k->fd, SYSRING_IOC_WORKER, 0);
		}
		if (r == 0)
			break; /* the ring was destroyed */
		if (errno == ETIME) {
			if (kretire(k, w))
				return NULL;
			continue;
		}
		if (errno == ENOMEM) {
			/* The module could not reserve room for a completion
			 * (memory cgroup at its limit); it took nothing. */
			struct timespec ts = {0, 1000 * 1000};
			nanosleep(&ts, NULL);
			continue;
		}
		if (errno != EINTR && errno != ERESTART)
			break;
	}
	sr_store_release(&w->exited, 1); /* pairs with shutdown's acquire */
	return NULL;
}

/* An idle worker above the floor leaves: true if it must return now (its
 * slot is GONE; the monitor joins it, or a start reusing the slot, or
 * shutdown). The module took no entry it could have taken (uapi.h): an
 * entry queued from here on finds the monitor armed if no worker sleeps. */
static bool kretire(struct sr_kmod *k, struct kworker *w)
{
	bool gone = false;

	pthread_mutex_lock(&k->pool_lock);
	if (!sr_load_relaxed(&k->stop) && k->live > k->floor) {
		sr_store_relaxed(&k->live, k->live - 1);
		w->slot = KW_GONE;
		gone = true;
	}
	pthread_mutex_unlock(&k->pool_lock);
	if (gone) {
		/* Release pairs with the monitor's acquire of the word. */
		sr_fetch_or(&k->mon, MON_REAP, SR_RELEASE);
		sr_futex_wake(&k->mon, 1, false);
	}
	return gone;
}

/* Start a worker thread on a small stack with every signal blocked (it
 * sets its own mask). 0 or pthread_create's error. */
static int kcreate(pthread_t *th, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int ret;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, SR_KMOD_STACK);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(th, &attr, fn, arg);
	/* glibc carves static TLS out of the stack: an application with a lot
	 * of it makes a small stack too small (EINVAL). Take the default. */
	if (ret == EINVAL)
		ret = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return ret;
}

/* Start one more worker unless the pool is full or stopping: true if it
 * started. Takes pool_lock. */
static bool kstart(struct sr_ctx *ctx)
{
	struct sr_kmod *k = ctx->km;
	struct kworker *w;
	uint32_t i;
	bool ok = false;

	pthread_mutex_lock(&k->pool_lock);
	if (k->live >= k->max || sr_load_relaxed(&k->stop))
		goto out;
	/* A slot never used, or one whose worker retired. With every slot
	 * below nslots live, nslots == live < max. */
	for (i = 0; i < k->nslots; i++)
		if (k->workers[i].slot != KW_LIVE)
			break;
	w = &k->workers[i];
	if (w->slot == KW_GONE)
		pthread_join(w->th, NULL); /* it has returned or is returning */
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	/* Counted before it runs: it decides by `live` whether it is above
	 * the floor (and may retire) or part of it. */
	sr_store_relaxed(&k->live, k->live + 1);
	if (kcreate(&w->th, kworker_main, w)) {
		sr_store_relaxed(&k->live, k->live - 1);
		goto out; /* the slot stays FREE */
	}
	w->slot = KW_LIVE;
	if (i == k->nslots)
		k->nslots = i + 1;
	ok = true;
out:
	pthread_mutex_unlock(&k->pool_lock);
	return ok;
}

/* Join the workers that retired; their slots become free. */
static void kjoin_retired(struct sr_kmod *k)
{
	pthread_mutex_lock(&k->pool_lock);
	for (uint32_t i = 0; i < k->nslots; i++)
		if (k->workers[i].slot == KW_GONE) {
			pthread_join(k->workers[i].th, NULL); /* returned or returning */
			k->workers[i].slot = KW_FREE;
		}
	pthread_mutex_unlock(&k->pool_lock);
}

/* Entries queued and not yet taken by the module. */
static inline uint32_t kqueued(struct sr_kmod *k)
{
	/* sq_tail is ours (published by submitters); sq_head the module's. */
	return __atomic_load_n(&k->hdr->sq_tail, __ATOMIC_RELAXED) -
	       __atomic_load_n(&k->hdr->sq_head, __ATOMIC_ACQUIRE);
}

/* Workers asleep in the module, waiting for entries. */
static inline uint32_t ksleeping(struct sr_kmod *k)
{
	if (k->idle_ok)
		return __atomic_load_n(&k->hdr->sq_idle, __ATOMIC_RELAXED);
	/* an older module: only whether some sleep */
	return (__atomic_load_n(&k->hdr->sq_flags, __ATOMIC_RELAXED) & SYSRING_SQ_NEED_WAKEUP) ? 1 : 0;
}

/* Set MON_ARMED and wake the monitor, once per arming. Acq_rel pairs with
 * the monitor's acquire of the word. */
static void karm(struct sr_kmod *k)
{
	uint32_t m = sr_load_relaxed(&k->mon);

	do {
		if (m & MON_ARMED)
			return;
	} while (!sr_cas_weak(&k->mon, &m, m | MON_ARMED, SR_ACQ_REL, SR_RELAXED));
	sr_futex_wake(&k->mon, 1, false);
}

/*
 * The monitor: starts a worker when queued entries have waited
 * SR_KMOD_TICK_NS without the module taking any while no worker sleeps
 * (every worker is inside a call). While work keeps moving it looks less
 * and less often (up to every SR_KMOD_BUSY_MAX_NS) and stands down once
 * nothing is queued; while starts fail it retries less and less often. It
 * also joins retired workers. It sleeps on k->mon (MON_ARMED: set by a
 * submitter, cleared here; MON_REAP: set by a retiring worker); every
 * setter changes the word before its wake-up.
 */
static void *kmonitor_main(void *arg)
{
	struct sr_ctx *ctx = arg;
	struct sr_kmod *k = ctx->km;
	long interval = SR_KMOD_TICK_NS;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	/* Acquires pair with shutdown's release of stop and the setters'
	 * changes of the word. */
	while (!sr_load_acquire(&k->stop)) {
		uint32_t m = sr_load_acquire(&k->mon);

		if (m & MON_REAP) {
			sr_fetch_and(&k->mon, ~MON_REAP, SR_ACQ_REL);
			kjoin_retired(k);
			continue;
		}
		if (!(m & MON_ARMED)) {
			interval = SR_KMOD_TICK_NS;
			sr_futex_wait(&k->mon, m, NULL, false);
			continue;
		}
		uint32_t before = __atomic_load_n(&k->hdr->sq_head, __ATOMIC_ACQUIRE);
		struct timespec ts = {interval / 1000000000L, interval % 1000000000L};
		nanosleep(&ts, NULL);
		uint32_t q = kqueued(k);
		if (q && q <= k->sq_entries && !ksleeping(k) &&
		    __atomic_load_n(&k->hdr->sq_head, __ATOMIC_ACQUIRE) == before &&
		    sr_load_relaxed(&k->live) < k->max) {
			/* stalled: every worker is inside a call */
			if (kstart(ctx))
				interval = SR_KMOD_TICK_NS; /* and look again soon */
			else if (interval < SR_KMOD_FAIL_MAX_NS)
				interval *= 2;
			continue;
		}
		if (!q || sr_load_relaxed(&k->live) >= k->max) {
			/* Release pairs with karm()'s acquire. */
			sr_fetch_and(&k->mon, ~MON_ARMED, SR_ACQ_REL);
			/* A submitter that queued just after our look may have
			 * found MON_ARMED still set and left the arming to us:
			 * look again after the change (Dekker with the fence in
			 * sr_kmod_submit between its sq_tail store and its load
			 * of the word). */
			sr_smp_mb();
			if (kqueued(k) > ksleeping(k) && sr_load_relaxed(&k->live) < k->max)
				karm(k);
		} else if (interval < SR_KMOD_BUSY_MAX_NS) {
			interval *= 2; /* busy but moving: look less often */
		}
	}
	return NULL;
}

/* Deliver what the completion ring holds; the caller holds cq_lock. */
static unsigned int kmod_reap_locked(struct sr_ctx *ctx)
{
	struct sr_kmod *k = ctx->km;
	uint32_t head = k->hdr->cq_head, n = 0;
	/* Acquire pairs with the module's store-release of cq_tail. */
	uint32_t tail = __atomic_load_n(&k->hdr->cq_tail, __ATOMIC_ACQUIRE);

	while (head != tail) {
		struct sysring_cqe c = k->cqes[head & (k->cq_entries - 1)];
		head++;
		n++;
		if (c.user_data == 0 || c.user_data > ctx->nr_events)
			continue; /* not ours: ignored */
		struct sr_req *req = &ctx->reqs[c.user_data - 1];
		/* Acquire pairs with the submitter's release of SR_REQ_KMOD. A
		 * request no longer in the module (shutdown completed it) is not
		 * completed twice, nor taken off inflight twice. */
		if (sr_load_acquire(&req->state) != SR_REQ_KMOD)
			continue;
		long res = c.res;
		if (res == -EINTR && sr_load_relaxed(&req->cancel))
			res = -ECANCELED;
		sr_req_atom_done(ctx, req, res, SYSRING_ENGINE_KMOD);
		/* Release pairs with shutdown's acquire of inflight. */
		sr_fetch_sub(&k->inflight, 1, SR_RELEASE);
	}
	/* Release pairs with the module's load-acquire of cq_head: the slots
	 * were read before they can be reused. */
	__atomic_store_n(&k->hdr->cq_head, head, __ATOMIC_RELEASE);
	return n;
}

unsigned int sr_kmod_reap(struct sr_ctx *ctx, bool wait_lock)
{
	struct sr_kmod *k = ctx->km;
	unsigned int n;
	if (!k || !sr_load_relaxed(&k->inflight))
		return 0;
	if (wait_lock)
		pthread_mutex_lock(&k->cq_lock);
	else if (pthread_mutex_trylock(&k->cq_lock))
		return 0;
	n = kmod_reap_locked(ctx);
	pthread_mutex_unlock(&k->cq_lock);
	return n;
}

static void *kreaper_main(void *arg)
{
	struct sr_ctx *ctx = arg;
	struct sr_kmod *k = ctx->km;
	sigset_t all;

	sigfillset(&all);
	sr_sigmask_keep_faults(&all); /* it continues syslets: caller memory (uaccess.h) */
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	for (;;) {
		struct sysring_ring_wait w = {.size = sizeof(w), .min_complete = 1, .timeout_ns = -1};
		int r = ioctl(k->fd, SYSRING_IOC_WAIT, &w);
		pthread_mutex_lock(&k->cq_lock);
		kmod_reap_locked(ctx);
		pthread_mutex_unlock(&k->cq_lock);
		/* Acquire pairs with shutdown's release of stop. */
		if (sr_load_acquire(&k->stop)) {
			if (!sr_load_acquire(&k->inflight))
				break;
			/* The ring is destroyed: WAIT returns at once from now
			 * on, and shutdown completes what is left. */
			struct timespec ts = {0, 1000 * 1000};
			nanosleep(&ts, NULL);
			continue;
		}
		if (r < 0 && errno != EINTR && errno != ETIME && errno != ETIMEDOUT) {
			struct timespec ts = {0, 1000 * 1000};
			nanosleep(&ts, NULL); /* destroyed, or broken: do not spin */
		}
	}
	return NULL;
}

int sr_kmod_init(struct sr_ctx *ctx)
{
	struct sr_kmod *k;
	struct sysring_ring_setup su = {.size = sizeof(su)};
	uint32_t feats = kmod_ring_features();
	sigset_t all, old;
	int ret = -ENODEV;

	if (!feats)
		return -ENODEV;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	/* At set-up, out of the way of the program's fd numbers (kmod.c). */
	k->fd = sr_fd_high(open(SYSRING_DEVICE_PATH, O_RDWR | O_CLOEXEC));
	if (k->fd < 0)
		goto fail;
	/* The module's ring holds at most SYSRING_RING_MAX_ENTRIES; a larger
	 * context sends what does not fit to the threads. */
	su.sq_entries = ctx->nr_events < SYSRING_RING_MAX_ENTRIES ? ctx->nr_events : SYSRING_RING_MAX_ENTRIES;
	su.cq_entries = 0;
	if (ioctl(k->fd, SYSRING_IOC_SETUP, &su))
		goto fail;
	k->map = mmap(NULL, su.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd, 0);
	if (k->map == MAP_FAILED)
		goto fail;
	k->map_size = su.mmap_size;
	k->hdr = k->map;
	k->sqes = (struct sysring_sqe *)((char *)k->map + su.sqes_off);
	k->cqes = (struct sysring_cqe *)((char *)k->map + su.cqes_off);
	k->sq_entries = su.sq_entries;
	k->cq_entries = su.cq_entries;
	k->sq_tail = k->hdr->sq_tail;
	k->idle_ok = (feats & SYSRING_FEAT_WORKER_IDLE) != 0;
	/* One worker per call in flight at most (the progress guarantee), or
	 * the cap the application set; the floor starts now. */
	k->max = ctx->cfg.threads_set ? ctx->cfg.threads : ctx->nr_events;
	if (!k->max)
		k->max = 1;
	k->floor = ctx->cfg.threads < k->max ? ctx->cfg.threads : k->max;
	k->workers = calloc(k->max, sizeof(*k->workers));
	if (!k->workers) {
		ret = -ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&k->sq_lock, NULL);
	pthread_mutex_init(&k->cq_lock, NULL);
	pthread_mutex_init(&k->pool_lock, NULL);
	ctx->km = k;
	for (uint32_t i = 0; i < k->floor; i++)
		kstart(ctx);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_create(&k->reaper, NULL, kreaper_main, ctx);
	if (kcreate(&k->monitor, kmonitor_main, ctx) == 0)
		k->mon_started = 1; /* without it the pool stays at its floor */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
fail:
	if (k->map && k->map != MAP_FAILED)
		munmap(k->map, su.mmap_size);
	if (k->fd >= 0)
		close(k->fd);
	free(k->workers);
	free(k);
	ctx->km = NULL;
	return ret;
}

/* Queue requests (req->args read) into the module's ring; returns how many
 * went in (the rest go to the threads). */
unsigned int sr_kmod_submit(struct sr_ctx *ctx, struct sr_req **reqs, unsigned int n)
{
	struct sr_kmod *k = ctx->km;
	unsigned int done = 0;

	if (sr_load_relaxed(&k->broken))
		return 0;
	/* A task of the process has (or is getting) a seccomp filter: the
	 * module would refuse the entries (-EPERM, never run), where the
	 * plain call would run (uapi.h: the flag is set before the filter
	 * exists). */
	if (__atomic_load_n(&k->hdr->sq_flags, __ATOMIC_RELAXED) & SYSRING_SQ_SECCOMP) {
		sr_store_relaxed(&k->broken, 1);
		return 0;
	}
	pthread_mutex_lock(&k->sq_lock);
	for (; done < n; done++) {
		/* Acquire pairs with the module's store-release of sq_head. */
		uint32_t head = __atomic_load_n(&k->hdr->sq_head, __ATOMIC_ACQUIRE);
		if (k->sq_tail - head >= k->sq_entries)
			break;
		struct sr_req *req = reqs[done];
		struct sysring_sqe *s = &k->sqes[k->sq_tail & (k->sq_entries - 1)];
		s->user_data = (uint64_t)req->idx + 1;
		s->nr = (uint32_t)req->atom.nr; /* the copy of *req->cur (exec.c) */
		s->flags = 0;
		memcpy(s->args, req->args, sizeof(s->args));
		sr_fetch_add(&k->inflight, 1, SR_RELAXED);
		/* Release pairs with the reaper's acquire in kmod_reap_locked. */
		sr_store_release(&req->state, SR_REQ_KMOD);
		k->sq_tail++;
	}
	if (done) {
		/* Release pairs with the module's load-acquire of sq_tail. */
		__atomic_store_n(&k->hdr->sq_tail, k->sq_tail, __ATOMIC_RELEASE);
		/* Pairs with the worker's barrier after setting NEED_WAKEUP (and
		 * sq_idle), with a retiring worker's after clearing them, and
		 * with the monitor's after it stood down (see the top). */
		sr_smp_mb();
		uint32_t fl = __atomic_load_n(&k->hdr->sq_flags, __ATOMIC_RELAXED);
		/* More entries waiting than workers asleep to take them: the
		 * rest wait for calls to end, which may be never if they wait
		 * for these (the progress guarantee): the monitor watches. */
		if (k->sq_tail - __atomic_load_n(&k->hdr->sq_head, __ATOMIC_RELAXED) > ksleeping(k) &&
		    !(sr_load_relaxed(&k->mon) & MON_ARMED) && sr_load_relaxed(&k->live) < k->max)
			karm(k);
		if (((fl & SYSRING_SQ_NEED_WAKEUP) &&
		     ioctl(k->fd, SYSRING_IOC_WAKE, done > 1 ? SYSRING_WAKE_ALL : 0) &&
		     (errno == EPERM || errno == EINVAL)) ||
		    (fl & SYSRING_SQ_SECCOMP))
			/* The module no longer takes our ioctls or our entries (a
			 * seccomp filter on a thread of the process since setup)
			 * or the ring broke: later calls go to the threads. What
			 * is queued completes -EPERM (refused), when a worker
			 * looks again, or -ECANCELED at shutdown. */
			sr_store_relaxed(&k->broken, 1);
	}
	pthread_mutex_unlock(&k->sq_lock);
	return done;
}

/* Cancel req in the module: still queued, it completes -ECANCELED without
 * running; running, its call is interrupted (no signal needed) and completes
 * -ECANCELED, or with its own result if it finished first. A module without
 * CANCEL: the workers are signalled until the request is out of the ring. */
void sr_kmod_interrupt(struct sr_ctx *ctx, struct sr_req *req)
{
	struct sr_kmod *k = ctx->km;
	sr_threads_cancel_signal(); /* our action on the signal, before signalling */

	if (kmod_ring_features() & SYSRING_FEAT_CANCEL) {
		struct sysring_ring_cancel c = {.size = sizeof(c), .user_data = (uint64_t)req->idx + 1};
		ioctl(k->fd, SYSRING_IOC_CANCEL, &c);
		return;
	}
	/* Acquire pairs with the reaper's completion of the request. */
	for (int tries = 0; tries < 5000 && sr_load_acquire(&req->state) == SR_REQ_KMOD; tries++) {
		/* Under the lock: a live slot's thread is not joined meanwhile. */
		pthread_mutex_lock(&k->pool_lock);
		for (uint32_t i = 0; i < k->nslots; i++)
			if (k->workers[i].slot == KW_LIVE && !sr_load_acquire(&k->workers[i].exited))
				sr_threads_kick(k->workers[i].th);
		pthread_mutex_unlock(&k->pool_lock);
		struct timespec ts = {0, 200 * 1000};
		nanosleep(&ts, NULL);
	}
}

void sr_kmod_shutdown(struct sr_ctx *ctx)
{
	struct sr_kmod *k = ctx->km;
	sr_threads_cancel_signal(); /* our action on the signal, before signalling */

	if (!k)
		return;
	sr_store_release(&k->stop, 1); /* pairs with the workers' and reaper's acquire */
	for (uint32_t i = 0; i < ctx->nr_events; i++)
		if (sr_load_relaxed(&ctx->reqs[i].state) == SR_REQ_KMOD)
			sr_store_relaxed(&ctx->reqs[i].cancel, 1);
	ioctl(k->fd, SYSRING_IOC_DESTROY);
	/* Interrupt calls still blocked in workers until every worker left.
	 * No worker starts or retires from now on (stop, under pool_lock in
	 * kstart and kretire); a worker that retired just before has left
	 * the module already. */
	for (;;) {
		uint32_t alive = 0;
		pthread_mutex_lock(&k->pool_lock);
		for (uint32_t i = 0; i < k->nslots; i++)
			/* Acquire pairs with the worker's release of exited. */
			if (k->workers[i].slot == KW_LIVE && !sr_load_acquire(&k->workers[i].exited)) {
				alive++;
				sr_threads_kick(k->workers[i].th);
			}
		pthread_mutex_unlock(&k->pool_lock);
		if (!alive)
			break;
		struct timespec ts = {0, 200 * 1000};
		nanosleep(&ts, NULL);
	}
	if (k->mon_started) {
		/* The change of the word wakes the monitor, whose acquire of it
		 * then sees stop (released above). */
		sr_fetch_or(&k->mon, MON_ARMED, SR_RELEASE);
		sr_futex_wake(&k->mon, 1, false);
		pthread_join(k->monitor, NULL);
	}
	for (uint32_t i = 0; i < k->nslots; i++)
		if (k->workers[i].slot != KW_FREE)
			pthread_join(k->workers[i].th, NULL);
	/* What the module finished is delivered, including what waits in
	 * its overflow list (WAIT moves it into the ring as room appears);
	 * what it never ran completes -ECANCELED. Then the reaper leaves. */
	pthread_mutex_lock(&k->cq_lock);
	for (unsigned int rounds = 0; rounds < 1024; rounds++) {
		struct sysring_ring_wait w = {.size = sizeof(w), .min_complete = 0, .timeout_ns = 0};
		ioctl(k->fd, SYSRING_IOC_WAIT, &w);
		if (!kmod_reap_locked(ctx))
			break;
	}
	for (uint32_t i = 0; i < ctx->nr_events; i++) {
		struct sr_req *req = &ctx->reqs[i];
		if (sr_load_relaxed(&req->state) == SR_REQ_KMOD) {
			sr_req_finish(ctx, req, -ECANCELED, SYSRING_ENGINE_KMOD);
			sr_fetch_sub(&k->inflight, 1, SR_RELEASE);
		}
	}
	sr_store_relaxed(&k->inflight, 0);
	pthread_mutex_unlock(&k->cq_lock);
	ioctl(k->fd, SYSRING_IOC_WAKE, SYSRING_WAKE_ALL);
	pthread_join(k->reaper, NULL);
	munmap(k->map, k->map_size);
	close(k->fd);
	free(k->workers);
	pthread_mutex_destroy(&k->sq_lock);
	pthread_mutex_destroy(&k->cq_lock);
	pthread_mutex_destroy(&k->pool_lock);
	free(k);
	ctx->km = NULL;
}

void sr_kmod_atfork_child(struct sr_ctx *ctx)
{
	struct sr_kmod *k = ctx->km;

	/* Not munmap: the mapping was not inherited (VM_DONTCOPY), and its
	 * address may hold something else by the time anybody looks. The
	 * rest of the child's copy (workers' slots, locks) is never used:
	 * the context is dead in the child (ctx.c). */
	if (k && k->fd >= 0) {
		close(k->fd);
		k->fd = -1;
	}
}

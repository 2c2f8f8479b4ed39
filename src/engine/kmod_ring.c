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
#include "../core/uaccess.h"
#include "kmod.h"

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
	pthread_t *workers;
	uint32_t nworkers;
	uint32_t *exited;
	pthread_t reaper;
	uint32_t stop;
	uint32_t broken; /* WAKE refused (seccomp since setup, a broken ring): no more submits */
	uint64_t inflight;
	struct kw_arg {
		struct sr_ctx *ctx;
		uint32_t index;
	} *wargs;
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

static void *kworker_main(void *arg)
{
	struct kw_arg *a = arg;
	struct sr_ctx *ctx = a->ctx;
	struct sr_kmod *k = ctx->km;
	uint32_t me = a->index; /* not looked up in workers[]: the creator may still be writing it */
	sigset_t set;

	/* Only the cancel signal gets through: it interrupts the call this
	 * thread runs inside the module (cancel, destroy). */
	sigfillset(&set);
	sigdelset(&set, sr_threads_cancel_signal());
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	/* Acquire pairs with shutdown's release of stop. */
	while (!sr_load_acquire(&k->stop)) {
		int r = ioctl(k->fd, SYSRING_IOC_WORKER, 0);
		if (r == 0)
			break; /* the ring was destroyed */
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
	sr_store_release(&k->exited[me], 1); /* pairs with shutdown's acquire */
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
	sigset_t all, old;
	int ret = -ENODEV;

	if (!kmod_ring_features())
		return -ENODEV;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->fd = open(SYSRING_DEVICE_PATH, O_RDWR | O_CLOEXEC);
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
	k->nworkers = ctx->cfg.threads;
	k->workers = calloc(k->nworkers, sizeof(*k->workers));
	k->exited = calloc(k->nworkers, sizeof(*k->exited));
	k->wargs = calloc(k->nworkers, sizeof(*k->wargs));
	if (!k->workers || !k->exited || !k->wargs) {
		ret = -ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&k->sq_lock, NULL);
	pthread_mutex_init(&k->cq_lock, NULL);
	ctx->km = k;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (uint32_t i = 0; i < k->nworkers; i++) {
		k->wargs[i] = (struct kw_arg){.ctx = ctx, .index = i};
		if (pthread_create(&k->workers[i], NULL, kworker_main, &k->wargs[i]))
			k->exited[i] = 2; /* never started */
	}
	pthread_create(&k->reaper, NULL, kreaper_main, ctx);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
fail:
	if (k->map && k->map != MAP_FAILED)
		munmap(k->map, su.mmap_size);
	if (k->fd >= 0)
		close(k->fd);
	free(k->workers);
	free(k->exited);
	free(k->wargs);
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
		sr_smp_mb(); /* pairs with the worker's barrier after setting NEED_WAKEUP */
		uint32_t fl = __atomic_load_n(&k->hdr->sq_flags, __ATOMIC_RELAXED);
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
		for (uint32_t i = 0; i < k->nworkers; i++)
			if (!sr_load_acquire(&k->exited[i]))
				sr_threads_kick(k->workers[i]);
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
	/* Interrupt calls still blocked in workers until every worker left. */
	for (;;) {
		uint32_t alive = 0;
		for (uint32_t i = 0; i < k->nworkers; i++)
			if (!sr_load_acquire(&k->exited[i])) {
				alive++;
				sr_threads_kick(k->workers[i]);
			}
		if (!alive)
			break;
		struct timespec ts = {0, 200 * 1000};
		nanosleep(&ts, NULL);
	}
	for (uint32_t i = 0; i < k->nworkers; i++)
		if (k->exited[i] != 2)
			pthread_join(k->workers[i], NULL);
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
	free(k->exited);
	free(k->wargs);
	pthread_mutex_destroy(&k->sq_lock);
	pthread_mutex_destroy(&k->cq_lock);
	free(k);
	ctx->km = NULL;
}

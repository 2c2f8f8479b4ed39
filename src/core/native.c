/* SPDX-License-Identifier: MIT */
/*
 * The native control API (<sysring.h>): version, parameters and their
 * environment overrides, statistics, the eventfd, the table's answers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core.h"
#include "uaccess.h"
#include "../table/table.h"

#if defined(__SANITIZE_THREAD__)
unsigned long sr_fence_word;
unsigned long sr_tsan_ring_token; /* core.h */
#endif

#define SR_STR2(x) #x
#define SR_STR(x) SR_STR2(x)

SR_EXPORT const char *sysring_version(void)
{
	return SR_STR(SYSRING_VERSION_MAJOR) "." SR_STR(SYSRING_VERSION_MINOR) "." SR_STR(
		SYSRING_VERSION_PATCH);
}

static const char *const sr_engine_names[SYSRING_ENGINE__COUNT] = {
	[SYSRING_ENGINE_AUTO] = "auto",     [SYSRING_ENGINE_THREADS] = "threads",
	[SYSRING_ENGINE_URING] = "uring",   [SYSRING_ENGINE_KMOD] = "kmod",
	[SYSRING_ENGINE_INLINE] = "inline",
};

SR_EXPORT const char *sysring_engine_name(int engine)
{
	if (engine < 0 || engine >= SYSRING_ENGINE__COUNT)
		return NULL;
	return sr_engine_names[engine];
}

uint32_t sysring_online_cpus(void)
{
	cpu_set_t set;
	int ncpu = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		ncpu = CPU_COUNT(&set);
	return ncpu > 0 ? (uint32_t)ncpu : 1;
}

SR_EXPORT unsigned int sysring_default_threads(void)
{
	int ncpu = (int)sysring_online_cpus();

	/* The threads engine exists for calls that block: they mostly wait,
	 * so several per CPU keep the CPUs busy; libuv uses 4 in all. */
	ncpu *= 4;
	if (ncpu < 4)
		ncpu = 4;
	if (ncpu > 64)
		ncpu = 64;
	return (unsigned int)ncpu;
}

SR_EXPORT void sysring_params_init(struct sysring_params *p)
{
	if (!p)
		return;
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	p->engine = SYSRING_ENGINE_AUTO;
	p->inline_calls = -1;
}

int sr_params_check(const struct sysring_params *p)
{
	if (!p)
		return 0;
	/* size 0: a zeroed struct that never went through
	 * sysring_params_init, read as this version's. */
	if (p->size && p->size < offsetof(struct sysring_params, reserved))
		return -EINVAL;
	if (p->engine >= SYSRING_ENGINE__COUNT || p->engine == SYSRING_ENGINE_INLINE)
		return -EINVAL; /* "inline" is only a statistic */
	if (p->flags & ~(SYSRING_F_SQPOLL | SYSRING_F_REAPER_ONLY))
		return -EINVAL;
	if (p->inline_calls < -1 || p->inline_calls > 1)
		return -EINVAL;
	/* Reserved words must be zero (as io_uring_setup's resv), so that a
	 * later version can give them a meaning. */
	if (!p->size || p->size >= sizeof(*p))
		for (unsigned int i = 0; i < sizeof(p->reserved) / sizeof(p->reserved[0]); i++)
			if (p->reserved[i])
				return -EINVAL;
	return 0;
}

static int engine_from_env(const char *v)
{
	for (int e = 0; e < SYSRING_ENGINE__COUNT; e++)
		if (e != SYSRING_ENGINE_INLINE && !strcasecmp(v, sr_engine_names[e]))
			return e;
	return -1;
}

void sr_config_resolve(struct sr_config *cfg, const struct sysring_params *p)
{
	const char *env;

	memset(cfg, 0, sizeof(*cfg));
	cfg->engine = SYSRING_ENGINE_AUTO;
	cfg->inline_calls = -1;
	if (p) {
		if (p->engine < SYSRING_ENGINE__COUNT && p->engine != SYSRING_ENGINE_INLINE)
			cfg->engine = p->engine;
		cfg->threads = p->threads;
		cfg->inline_calls = p->inline_calls;
		cfg->flags = p->flags;
		cfg->spin_ns = p->spin_ns;
	}
	env = getenv("SYSRING_ENGINE");
	if (env && *env) {
		int e = engine_from_env(env);
		if (e >= 0)
			cfg->engine = (uint32_t)e;
	}
	env = getenv("SYSRING_THREADS");
	if (env && *env) {
		long v = strtol(env, NULL, 10);
		if (v > 0 && v <= 1024)
			cfg->threads = (uint32_t)v;
	}
	/* Set: a cap on the threads engine's pool. Unset: the pool is bounded by
	 * the calls in flight (threads.c); `threads` then sizes the kmod
	 * engine's fixed pool only. */
	cfg->threads_set = cfg->threads != 0;
	if (!cfg->threads)
		cfg->threads = sysring_default_threads();
	env = getenv("SYSRING_INLINE");
	if (env && *env)
		cfg->inline_calls = atoi(env) ? 1 : 0;
	if (cfg->inline_calls < 0)
		cfg->inline_calls = 1;
	/* The cached part of multi-atom syslets through the module: on by
	 * default (one crossing instead of one per atom); measured only under
	 * emulation here, where it loses (docs/kmod.md), so it
	 * can be switched off. */
	env = getenv("SYSRING_KMOD_CACHED");
	cfg->kmod_cached = !(env && *env && !atoi(env));
	env = getenv("SYSRING_NO_QUIET");
	cfg->quiet = !(env && *env && atoi(env));
	env = getenv("SYSRING_SQPOLL");
	if (env && *env)
		cfg->flags = atoi(env) ? cfg->flags | SYSRING_F_SQPOLL : cfg->flags & ~SYSRING_F_SQPOLL;
	env = getenv("SYSRING_REAP");
	if (env && *env)
		cfg->flags = !strcmp(env, "thread") ? cfg->flags | SYSRING_F_REAPER_ONLY
						    : cfg->flags & ~SYSRING_F_REAPER_ONLY;
	/* Measured (docs/engines.md, "Completion delivery"): waiters reaping too beats
	 * the reaper alone at every batch size; SYSRING_REAP=thread keeps the
	 * reaper alone for comparison. */
	cfg->reap = (cfg->flags & SYSRING_F_REAPER_ONLY) ? SR_REAP_THREAD : SR_REAP_BOTH;
	env = getenv("SYSRING_SPIN_NS");
	if (env && *env)
		cfg->spin_ns = (uint32_t)strtoul(env, NULL, 10);
	if (cfg->spin_ns > 1000000)
		cfg->spin_ns = 1000000; /* a spin is brief or it is a poller */
	if (cfg->threads > 1024)
		cfg->threads = 1024;
}

SR_EXPORT int sysring_ctx_engine(async_context_t h)
{
	struct sr_ctx *ctx = sr_ctx_get(h);
	int engine;

	if (!ctx)
		return -EINVAL;
	engine = (int)ctx->cfg.engine;
	sr_ctx_put(ctx);
	return engine;
}

SR_EXPORT int sysring_stats(async_context_t h, struct sysring_stats *st)
{
	struct sysring_stats *out = st, local;
	struct sr_ctx *ctx;

	if (!st)
		return -EINVAL;
	ctx = sr_ctx_get(h);
	if (!ctx)
		return -EINVAL;
	/* Filled here, then copied out fault-safe (uaccess.h): an unwritable
	 * struct is -EFAULT. */
	st = &local;
	memset(st, 0, sizeof(*st));
	/* No counters of their own on the hot path: every submitted call took
	 * a request from the free ring and every collected event left the
	 * completion ring, whose free-running heads count exactly that. */
	st->submitted = sr_load_relaxed(&ctx->freeq.hdr->head);
	st->reaped = sr_load_relaxed(&ctx->cq.hdr->head);
	for (int e = 0; e < SYSRING_ENGINE__COUNT; e++) {
		st->by_engine[e] = sr_load_relaxed(&ctx->st_engine[e]);
		st->completed += st->by_engine[e]; /* one counter fewer on the hot path */
	}
	st->in_flight = st->submitted - st->completed;
	st->pending = st->completed - st->reaped;
	st->threads = sr_load_relaxed(&ctx->thr.live);
	st->threads_idle = sr_threads_idle(ctx);
	sr_ctx_put(ctx);
	return sr_ua_copy(out, st, sizeof(*st)) ? -EFAULT : 0;
}

SR_EXPORT int sysring_eventfd(async_context_t h)
{
	struct sr_ctx *ctx = sr_ctx_get(h);
	int fd;

	if (!ctx)
		return -EINVAL;
	pthread_mutex_lock(&ctx->lock);
	fd = ctx->efd;
	if (fd < 0) {
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0) {
			fd = -errno;
		} else {
			/* Release pairs with the completer's acquire of efd. */
			sr_store_release(&ctx->efd, fd);
			/* Dekker with cq_published (its seq_cst add to cq_ready,
			 * then its load of efd): either it sees the fd and
			 * writes it, or we see its count here. */
			sr_smp_mb();
			/* Events that finished before the fd existed. */
			if ((int64_t)__atomic_load_n(&ctx->cq_ready, __ATOMIC_SEQ_CST) > 0)
				eventfd_write(fd, 1);
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	sr_ctx_put(ctx);
	return fd;
}

SR_EXPORT int sysring_syscall_info(long nr, struct sysring_syscall_info *info)
{
	const struct sr_sysent *e = nr < 0 ? NULL : sr_sysent((unsigned long)nr);
	struct sysring_syscall_info *out = info, local;

	if (!info)
		return -EINVAL;
	if (!e)
		return -ENOSYS;
	info = &local; /* copied out fault-safe below (uaccess.h) */
	memset(info, 0, sizeof(*info));
	info->name = e->name;
	info->nargs = e->nargs;
	info->cls = e->cls;
	if (e->uring && sr_uring_has(e->uring->opcode)) {
		info->uring = 1;
		info->uring_opcode = e->uring->opcode;
	}
	info->nowait = e->nowait != NULL;
	return sr_ua_copy(out, info, sizeof(*info)) ? -EFAULT : 0;
}

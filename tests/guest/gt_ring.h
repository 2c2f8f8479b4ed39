/* SPDX-License-Identifier: MIT */
/*
 * A minimal single-producer user side of the module's shared ring, for the
 * guest programs (the protocol is in include/sysring/uapi.h).
 */
#ifndef SYSRING_GUEST_GT_RING_H
#define SYSRING_GUEST_GT_RING_H

#include "gt.h"

#include <pthread.h>
#include <sys/mman.h>

struct gt_ring {
	int fd;
	struct sysring_ring_setup s;
	void *mem;
	struct sysring_ring_hdr *hdr;
	struct sysring_sqe *sqes;
	struct sysring_cqe *cqes;
	uint32_t sq_tail; /* ours */
	uint32_t cq_head; /* ours */
	unsigned long wakes;
};

static inline long gt_ring_init(struct gt_ring *r, int fd, uint32_t sq, uint32_t cq, uint32_t spin_us)
{
	long ret;

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->s.size = sizeof(r->s);
	r->s.sq_entries = sq;
	r->s.cq_entries = cq;
	r->s.spin_us = spin_us;
	ret = gt_ioctl(fd, SYSRING_IOC_SETUP, &r->s);
	if (ret)
		return ret;
	r->mem = mmap(NULL, r->s.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->mem == MAP_FAILED)
		return -errno;
	r->hdr = r->mem;
	r->sqes = (struct sysring_sqe *)((char *)r->mem + r->s.sqes_off);
	r->cqes = (struct sysring_cqe *)((char *)r->mem + r->s.cqes_off);
	return 0;
}

/* Queue one call; a system call (WAKE) only if a worker sleeps. */
static inline int gt_ring_submit(struct gt_ring *r, uint64_t ud, long nr, long a0, long a1, long a2,
				 long a3, long a4, long a5)
{
	uint32_t tail = r->sq_tail;
	/* pairs with the module's store-release of sq_head: the slot is free */
	uint32_t head = __atomic_load_n(&r->hdr->sq_head, __ATOMIC_ACQUIRE);
	struct sysring_sqe *e;

	if (tail - head >= r->s.sq_entries)
		return -EAGAIN;
	e = &r->sqes[tail & (r->s.sq_entries - 1)];
	e->user_data = ud;
	e->nr = (uint32_t)nr;
	e->flags = 0;
	e->args[0] = (uint64_t)a0;
	e->args[1] = (uint64_t)a1;
	e->args[2] = (uint64_t)a2;
	e->args[3] = (uint64_t)a3;
	e->args[4] = (uint64_t)a4;
	e->args[5] = (uint64_t)a5;
	r->sq_tail = tail + 1;
	/* pairs with the module's load-acquire of sq_tail: the entry first */
	__atomic_store_n(&r->hdr->sq_tail, tail + 1, __ATOMIC_RELEASE);
	/* pairs with the worker's barrier between setting NEED_WAKEUP and
	 * re-reading sq_tail: we see the flag or it sees the entry */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->hdr->sq_flags, __ATOMIC_RELAXED) & SYSRING_SQ_NEED_WAKEUP) {
		r->wakes++;
		return (int)gt_ioctl(r->fd, SYSRING_IOC_WAKE, 0);
	}
	return 0;
}

/* Take up to max completions without a system call. */
static inline unsigned int gt_ring_reap(struct gt_ring *r, struct sysring_cqe *out, unsigned int max)
{
	/* pairs with the module's store-release of cq_tail */
	uint32_t tail = __atomic_load_n(&r->hdr->cq_tail, __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	while (r->cq_head != tail && n < max) {
		out[n++] = r->cqes[r->cq_head & (r->s.cq_entries - 1)];
		r->cq_head++;
	}
	/* pairs with the module's load-acquire of cq_head: read, then free */
	__atomic_store_n(&r->hdr->cq_head, r->cq_head, __ATOMIC_RELEASE);
	return n;
}

static inline long gt_ring_wait(struct gt_ring *r, uint32_t min, int64_t timeout_ns)
{
	struct sysring_ring_wait w = { .size = sizeof(w), .min_complete = min, .timeout_ns = timeout_ns };
	return gt_ioctl(r->fd, SYSRING_IOC_WAIT, &w);
}

/* Run one call and wait for its completion (at most timeout_ns): its
 * result, or -ETIME-like 0x7fff... when none came. */
#define GT_NO_CQE ((long long)0x7fffffffffffffffll)
static inline long long gt_ring_call(struct gt_ring *r, uint64_t ud, long nr, long a0, long a1, long a2,
				     long a3, long a4, long a5, int64_t timeout_ns)
{
	struct sysring_cqe c;
	uint64_t end = gt_now_ns() + (uint64_t)timeout_ns;

	if (gt_ring_submit(r, ud, nr, a0, a1, a2, a3, a4, a5) < 0)
		return GT_NO_CQE;
	for (;;) {
		if (gt_ring_reap(r, &c, 1) == 1) {
			if (c.user_data != ud)
				GT_FAIL("completion for %llu while waiting for %llu",
					(unsigned long long)c.user_data, (unsigned long long)ud);
			return c.res;
		}
		uint64_t now = gt_now_ns();
		if (now >= end)
			return GT_NO_CQE;
		gt_ring_wait(r, 1, (int64_t)(end - now));
	}
}

/* A thread serving the ring: it stays in WORKER (re-entering after a
 * signal it handled) until WORKER returns anything else. */
struct gt_worker {
	pthread_t th;
	int fd;
	long ret;
	int eintr;
	pid_t tid;
};

static inline void *gt_worker_main(void *p)
{
	struct gt_worker *w = p;
	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	for (;;) {
		long r = gt_ioctl(w->fd, SYSRING_IOC_WORKER, NULL);
		if (r == -EINTR) {
			w->eintr++;
			continue;
		}
		w->ret = r;
		return NULL;
	}
}

static inline void gt_worker_start(struct gt_worker *w, int fd)
{
	*w = (struct gt_worker){ .fd = fd, .ret = 12345 };
	GT_EQ(pthread_create(&w->th, NULL, gt_worker_main, w), 0);
	while (!__atomic_load_n(&w->tid, __ATOMIC_ACQUIRE))
		usleep(100);
}

/* Field `name` ("SigBlk:", "NoNewPrivs:", ...) of /proc/self/task/TID/status,
 * as text (without leading blanks); "" if absent. */
static inline const char *gt_task_status(pid_t tid, const char *name, char *out, size_t len)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	out[0] = 0;
	f = fopen(path, "r");
	if (!f)
		return out;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, strlen(name)))
			continue;
		char *v = line + strlen(name);
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, "\n")] = 0;
		size_t k = strlen(v) < len - 1 ? strlen(v) : len - 1;
		memcpy(out, v, k);
		out[k] = 0;
		break;
	}
	fclose(f);
	return out;
}

/* The scheduler state letter of a thread (R, S, D, ...) from its stat. */
static inline char gt_task_state(pid_t tid)
{
	char path[64], buf[512];
	FILE *f;
	char st = '?';

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	if (fgets(buf, sizeof(buf), f)) {
		char *p = strrchr(buf, ')');
		if (p && p[1] == ' ')
			st = p[2];
	}
	fclose(f);
	return st;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Channels between two processes against a pipe, a unix-domain socket
 * (SOCK_SEQPACKET) and an eventfd + shared-memory ring: 64-byte messages one
 * way (throughput), and request/reply round trips (median and p99 latency),
 * with the channel's receiver polling or sleeping on its futex.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sysring/channel.h>

#include "bench.h"

#define MSG 64
static char seg[64];
static long chan_spin = -1; /* -1: the library's default */

/* Receiver (the parent) on CPU 0, sender (the child) on CPU 1, for every
 * row: left to the scheduler, the two sometimes share a CPU, and a polling
 * receiver then eats its sender's time slice (seen: 58 ns or 270 ns per
 * message from one run to the next). */
static cpu_set_t saved_mask;
static int pinned;

static void pin_self(int cpu)
{
	cpu_set_t set;
	if (!pinned)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void apply_spin(sysring_chan_t *c)
{
	if (chan_spin >= 0)
		sysring_chan_set_spin(c, (uint32_t)chan_spin);
}

/* ---- one way: the child sends `n`, the parent receives; ns per message ---- */

static double oneway_pipe(long n, int seqpacket)
{
	int fds[2];
	if (seqpacket ? socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) : pipe(fds))
		abort();
	pid_t p = fork();
	if (p == 0) {
		pin_self(1);
		char m[MSG] = {1};
		for (long i = 0; i < n; i++)
			if (write(fds[1], m, MSG) != MSG)
				_exit(1);
		_exit(0);
	}
	close(fds[1]);
	char buf[MSG * 64];
	long got = 0;
	uint64_t t0 = bench_now();
	while (got < n * MSG) {
		ssize_t r = read(fds[0], buf, seqpacket ? MSG : sizeof(buf));
		if (r <= 0)
			abort();
		got += r;
	}
	uint64_t t = bench_now() - t0;
	waitpid(p, NULL, 0);
	close(fds[0]);
	return (double)t / (double)n;
}

/* eventfd + shared memory: an SPSC ring, the producer signals every message */
struct shm_ring {
	uint64_t head __attribute__((aligned(64)));
	uint64_t tail __attribute__((aligned(64)));
	char slots[1024][MSG];
};

static double oneway_eventfd(long n)
{
	struct shm_ring *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int efd = eventfd(0, 0), space = eventfd(0, 0);
	pid_t p = fork();
	if (p == 0) {
		pin_self(1);
		for (long i = 0; i < n; i++) {
			while (__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) >=
			       1024) {
				eventfd_t v;
				eventfd_read(space, &v);
			}
			uint64_t t = r->tail;
			memset(r->slots[t % 1024], 1, MSG);
			__atomic_store_n(&r->tail, t + 1, __ATOMIC_RELEASE);
			eventfd_write(efd, 1);
		}
		_exit(0);
	}
	long got = 0;
	uint64_t t0 = bench_now();
	while (got < n) {
		eventfd_t v;
		eventfd_read(efd, &v);
		uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE), h = r->head;
		got += (long)(tail - h);
		__atomic_store_n(&r->head, tail, __ATOMIC_RELEASE);
		eventfd_write(space, 1);
	}
	uint64_t t = bench_now() - t0;
	waitpid(p, NULL, 0);
	munmap(r, sizeof(*r));
	close(efd);
	close(space);
	return (double)t / (double)n;
}

static double oneway_chan(long n, int sleep)
{
	sysring_chan_t *c;
	struct sysring_msg m[256];
	int pf[2];
	sysring_chan_unlink(seg);
	if (sysring_chan_open(seg, 4, 1024, &c) || sysring_register(c, 1) || pipe(pf))
		abort();
	apply_spin(c);
	pid_t p = fork();
	if (p == 0) {
		pin_self(1);
		sysring_chan_t *cc;
		struct sysring_msg msg;
		memset(&msg, 1, sizeof(msg));
		if (sysring_chan_open(seg, 0, 0, &cc))
			_exit(1);
		for (long i = 0; i < n; i++) {
			struct sysring_chan_sqe sqe;
			if (sysring_get_sqe_wait(cc, 1, &sqe, NULL))
				_exit(2);
			memcpy(sqe.msg->payload, msg.payload, MSG);
			sysring_sqe_release(cc, &sqe);
		}
		_exit(0);
	}
	long got = 0;
	uint64_t t0 = bench_now();
	while (got < n) {
		int k = sleep ? sysring_recv(c, m, 256, NULL) : sysring_pop_multiple(c, m, 256);
		if (k > 0)
			got += k;
		else if (k != -EAGAIN)
			abort();
		else /* a polling receiver backs off a little, as any spin loop
		      * should: hammering the ring's lines slows the sender */
			for (int i = 0; i < 32; i++)
				__builtin_ia32_pause();
	}
	uint64_t t = bench_now() - t0;
	waitpid(p, NULL, 0);
	sysring_chan_close(c);
	sysring_chan_unlink(seg);
	close(pf[0]);
	close(pf[1]);
	return (double)t / (double)n;
}

/* ---- request/reply: the parent asks, the child answers ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void pct(uint64_t *v, long n, double *med, double *p99)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	*med = (double)v[n / 2];
	*p99 = (double)v[n * 99 / 100];
}

static void rr_fd(long n, int kind, double *med, double *p99)
{
	int a[2], b[2];
	if (kind == 1) {
		socketpair(AF_UNIX, SOCK_SEQPACKET, 0, a);
		b[0] = a[1], b[1] = a[0];
	} else if (pipe(a) || pipe(b)) {
		abort();
	}
	/* kind 0: pipes a (parent->child) and b (child->parent); kind 1: one socket pair */
	int p_w = kind == 1 ? a[0] : a[1], c_r = kind == 1 ? a[1] : a[0];
	int c_w = kind == 1 ? a[1] : b[1], p_r = kind == 1 ? a[0] : b[0];
	pid_t p = fork();
	if (p == 0) {
		pin_self(1);
		char m[MSG];
		for (long i = 0; i < n; i++) {
			if (read(c_r, m, MSG) != MSG || write(c_w, m, MSG) != MSG)
				_exit(1);
		}
		_exit(0);
	}
	uint64_t *lat = malloc((size_t)n * sizeof(*lat));
	char m[MSG] = {2};
	for (long i = 0; i < n; i++) {
		uint64_t t0 = bench_now();
		if (write(p_w, m, MSG) != MSG || read(p_r, m, MSG) != MSG)
			abort();
		lat[i] = bench_now() - t0;
	}
	waitpid(p, NULL, 0);
	pct(lat, n, med, p99);
	free(lat);
	close(a[0]);
	close(a[1]);
	if (kind != 1) {
		close(b[0]);
		close(b[1]);
	}
}

static void rr_chan(long n, int sleep, double *med, double *p99)
{
	sysring_chan_t *c;
	struct sysring_msg m;
	sysring_chan_unlink(seg);
	if (sysring_chan_open(seg, 4, 64, &c) || sysring_register(c, 1))
		abort();
	apply_spin(c);
	int ready[2];
	if (pipe(ready))
		abort();
	pid_t p = fork();
	if (p == 0) {
		pin_self(1);
		sysring_chan_t *cc;
		struct sysring_msg r;
		if (sysring_chan_open(seg, 0, 0, &cc) || sysring_register(cc, 2))
			_exit(1);
		apply_spin(cc);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (long i = 0; i < n; i++) {
			int k;
			do
				k = sleep ? sysring_recv(cc, &r, 1, NULL) : sysring_pop_multiple(cc, &r, 1);
			while (k == -EAGAIN);
			if (k != 1 || sysring_send(cc, 1, &r))
				_exit(2);
		}
		sysring_chan_close(cc);
		_exit(0);
	}
	char ch;
	if (read(ready[0], &ch, 1) != 1)
		abort();
	uint64_t *lat = malloc((size_t)n * sizeof(*lat));
	memset(&m, 2, sizeof(m));
	for (long i = 0; i < n; i++) {
		uint64_t t0 = bench_now();
		int k;
		if (sysring_send(c, 2, &m))
			abort();
		do
			k = sleep ? sysring_recv(c, &m, 1, NULL) : sysring_pop_multiple(c, &m, 1);
		while (k == -EAGAIN);
		lat[i] = bench_now() - t0;
	}
	waitpid(p, NULL, 0);
	pct(lat, n, med, p99);
	free(lat);
	sysring_chan_close(c);
	sysring_chan_unlink(seg);
	close(ready[0]);
	close(ready[1]);
}

struct ow {
	int kind; /* 0 pipe, 1 seqpacket, 2 eventfd, 3 chan poll, 4 chan sleep */
};

static double ow_run(void *arg, long iters)
{
	struct ow *o = arg;
	double per;
	switch (o->kind) { /* benchmark variants */
	case 0:
		per = oneway_pipe(iters, 0);
		break;
	case 1:
		per = oneway_pipe(iters, 1);
		break;
	case 2:
		per = oneway_eventfd(iters);
		break;
	default:
		per = oneway_chan(iters, o->kind == 4);
	}
	return per * (double)iters;
}

void bench_chan(void)
{
	static const char *names[] = {"pipe", "unix SOCK_SEQPACKET", "eventfd + shm ring", "channel, polling",
				      "channel, recv (spin+futex)"};
	double ow[5];
	long n = bench_iters(1000000);
	snprintf(seg, sizeof(seg), "/sysring-bench-%d", getpid());
	pinned = sysconf(_SC_NPROCESSORS_ONLN) >= 2 && !sched_getaffinity(0, sizeof(saved_mask), &saved_mask) &&
		 CPU_ISSET(0, &saved_mask) && CPU_ISSET(1, &saved_mask);
	pin_self(0);
	for (int k = 0; k < 5; k++) {
		struct ow o = {k};
		ow[k] = bench_median(ow_run, &o, n);
	}
	for (int k = 3; k < 5; k++) {
		char note[96];
		snprintf(note, sizeof(note), "%.1fx the pipe's throughput (target >= 5x)", ow[0] / ow[k]);
		bench_add("chan", "64 B messages one way, per message", "pipe", ow[0], names[k], ow[k], note);
		bench_add("chan", "64 B messages one way, per message", names[1], ow[1], names[k], ow[k], "");
		bench_add("chan", "64 B messages one way, per message", names[2], ow[2], names[k], ow[k], "");
	}
	/* request/reply: medians of the per-round samples of one long run */
	long rn = bench_iters(50000);
	double pm, p99, sm, s99, cm, c99, zm, z99;
	rr_fd(rn, 0, &pm, &p99);
	rr_fd(rn, 1, &sm, &s99);
	rr_chan(rn, 0, &cm, &c99);
	rr_chan(rn, 1, &zm, &z99);
	/* and with no polling at all: every message is a futex wake-up */
	chan_spin = 0;
	double fm, f99;
	rr_chan(rn, 1, &fm, &f99);
	struct ow o = {4};
	double ow_nospin = bench_median(ow_run, &o, n);
	chan_spin = -1;
	char note[96];
	snprintf(note, sizeof(note), "p99: pipe %.1f us, channel %.1f us", p99 / 1000, c99 / 1000);
	bench_add("chan", "request/reply round trip, median", "pipe", pm, "channel, polling", cm, note);
	snprintf(note, sizeof(note), "p99: pipe %.1f us, channel %.1f us", p99 / 1000, z99 / 1000);
	bench_add("chan", "request/reply round trip, median", "pipe", pm, "channel, recv (spin+futex)", zm, note);
	snprintf(note, sizeof(note), "p99: pipe %.1f us, channel %.1f us", p99 / 1000, f99 / 1000);
	bench_add("chan", "request/reply round trip, median", "pipe", pm, "channel, futex only", fm, note);
	snprintf(note, sizeof(note), "%.1fx the pipe's throughput", ow[0] / ow_nospin);
	bench_add("chan", "64 B messages one way, per message", "pipe", ow[0], "channel, futex only", ow_nospin, note);
	snprintf(note, sizeof(note), "p99: seqpacket %.1f us, channel %.1f us", s99 / 1000, z99 / 1000);
	bench_add("chan", "request/reply round trip, median", "unix SOCK_SEQPACKET", sm, "channel, recv (spin+futex)", zm,
		  note);
	if (pinned)
		sched_setaffinity(0, sizeof(saved_mask), &saved_mask);
}

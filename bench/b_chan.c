/* SPDX-License-Identifier: MIT */
/*
 * Channels between two processes against a pipe, unix-domain sockets
 * (SOCK_STREAM and SOCK_SEQPACKET) and an eventfd + shared-memory ring:
 * 64-byte messages one way (throughput, ns per message), and request/reply
 * round trips (latency), with the channel's receiver polling, sleeping after
 * its default 20 us of polling, or sleeping at once (futex only).
 *
 * Every run starts fresh processes. The variants of a comparison are run
 * interleaved, round by round (each round in a rotated order), so that no
 * row owes its figure to its place in the sequence or to a quiet moment of
 * the machine; each row reports the median over the rounds, and the note
 * gives the range (min-max) of both sides. Round trips: each round's median
 * latency is one sample.
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

/* ---- one way: the child sends `n`, the parent receives; ns per message ---- */

enum { K_PIPE, K_STREAM, K_SEQPACKET, K_EVENTFD, K_CHAN_POLL, K_CHAN_RECV, K_CHAN_FUTEX, K_N };
static const char *kname[K_N] = {"pipe",
				 "unix SOCK_STREAM",
				 "unix SOCK_SEQPACKET",
				 "eventfd + shm ring",
				 "channel, polling",
				 "channel, recv (spin+futex)",
				 "channel, futex only"};

static double oneway_fd(long n, int kind)
{
	int fds[2];
	if (kind == K_PIPE ? pipe(fds)
			   : socketpair(AF_UNIX, kind == K_STREAM ? SOCK_STREAM : SOCK_SEQPACKET, 0, fds))
		abort();
	pid_t p = fork();
	if (p == 0) {
		pin_self(1);
		close(fds[0]);
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
		ssize_t r = read(fds[0], buf, kind == K_SEQPACKET ? MSG : sizeof(buf));
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

/* spin: -1 the library's default, else sysring_chan_set_spin's value */
static double oneway_chan(long n, int sleep, long spin)
{
	sysring_chan_t *c;
	struct sysring_msg m[256];
	sysring_chan_unlink(seg);
	if (sysring_chan_open(seg, 4, 1024, &c) || sysring_register(c, 1))
		abort();
	if (spin >= 0)
		sysring_chan_set_spin(c, (uint32_t)spin);
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
			if (sysring_sqe_release(cc, &sqe))
				_exit(3);
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
	return (double)t / (double)n;
}

static double oneway(int kind, long n)
{
	switch (kind) { /* benchmark variants */
	case K_PIPE:
	case K_STREAM:
	case K_SEQPACKET:
		return oneway_fd(n, kind);
	case K_EVENTFD:
		return oneway_eventfd(n);
	case K_CHAN_POLL:
		return oneway_chan(n, 0, -1);
	case K_CHAN_RECV:
		return oneway_chan(n, 1, -1);
	default:
		return oneway_chan(n, 1, 0);
	}
}

/* ---- request/reply: the parent asks, the child answers ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median_of(double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static int full_io(int fd, char *m, int wr)
{
	for (size_t done = 0; done < MSG;) {
		ssize_t r = wr ? write(fd, m + done, MSG - done) : read(fd, m + done, MSG - done);
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* Median round trip of one run of n, in ns. */
static double rr_fd(long n, int kind)
{
	int a[2], b[2];
	int p_w, c_r, c_w, p_r;
	if (kind == K_PIPE) {
		if (pipe(a) || pipe(b))
			abort();
		p_w = a[1], c_r = a[0], c_w = b[1], p_r = b[0];
	} else {
		if (socketpair(AF_UNIX, kind == K_STREAM ? SOCK_STREAM : SOCK_SEQPACKET, 0, a))
			abort();
		b[0] = b[1] = -1;
		p_w = p_r = a[0];
		c_w = c_r = a[1];
	}
	pid_t p = fork();
	if (p == 0) {
		pin_self(1);
		char m[MSG];
		for (long i = 0; i < n; i++)
			if (full_io(c_r, m, 0) || full_io(c_w, m, 1))
				_exit(1);
		_exit(0);
	}
	double *lat = malloc((size_t)n * sizeof(*lat));
	char m[MSG] = {2};
	for (long i = 0; i < n; i++) {
		uint64_t t0 = bench_now();
		if (full_io(p_w, m, 1) || full_io(p_r, m, 0))
			abort();
		lat[i] = (double)(bench_now() - t0);
	}
	waitpid(p, NULL, 0);
	double med = median_of(lat, n);
	free(lat);
	for (int k = 0; k < 2; k++) {
		close(a[k]);
		if (b[k] >= 0)
			close(b[k]);
	}
	return med;
}

static double rr_chan(long n, int sleep, long spin)
{
	sysring_chan_t *c;
	struct sysring_msg m;
	sysring_chan_unlink(seg);
	if (sysring_chan_open(seg, 4, 64, &c) || sysring_register(c, 1))
		abort();
	if (spin >= 0)
		sysring_chan_set_spin(c, (uint32_t)spin);
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
		if (spin >= 0)
			sysring_chan_set_spin(cc, (uint32_t)spin);
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
	double *lat = malloc((size_t)n * sizeof(*lat));
	memset(&m, 2, sizeof(m));
	for (long i = 0; i < n; i++) {
		uint64_t t0 = bench_now();
		int k;
		if (sysring_send(c, 2, &m))
			abort();
		do
			k = sleep ? sysring_recv(c, &m, 1, NULL) : sysring_pop_multiple(c, &m, 1);
		while (k == -EAGAIN);
		lat[i] = (double)(bench_now() - t0);
	}
	waitpid(p, NULL, 0);
	double med = median_of(lat, n);
	free(lat);
	sysring_chan_close(c);
	sysring_chan_unlink(seg);
	close(ready[0]);
	close(ready[1]);
	return med;
}

static double roundtrip(int kind, long n)
{
	switch (kind) { /* benchmark variants */
	case K_PIPE:
	case K_STREAM:
	case K_SEQPACKET:
		return rr_fd(n, kind);
	case K_CHAN_POLL:
		return rr_chan(n, 0, -1);
	case K_CHAN_RECV:
		return rr_chan(n, 1, -1);
	default:
		return rr_chan(n, 1, 0);
	}
}

/* ---- interleaved rounds ---- */

struct fig {
	double med, min, max;
};

/* Run every kind in `kinds` once per round, rounds in rotated orders. */
static void interleave(const int *kinds, int nk, long n, double (*run)(int, long), struct fig *out)
{
	double v[K_N][32];
	int rounds = bopt.runs < 32 ? bopt.runs : 32;
	for (int k = 0; k < nk; k++)
		run(kinds[k], n / 10 + 1); /* warm up */
	for (int r = 0; r < rounds; r++)
		for (int j = 0; j < nk; j++) {
			int k = (j + r) % nk;
			v[k][r] = run(kinds[k], n);
		}
	for (int k = 0; k < nk; k++) {
		qsort(v[k], (size_t)rounds, sizeof(double), cmp_double);
		out[kinds[k]].med = v[k][rounds / 2];
		out[kinds[k]].min = v[k][0];
		out[kinds[k]].max = v[k][rounds - 1];
	}
}

static void range(char *buf, size_t n, const struct fig *f)
{
	if (f->max >= 10000)
		snprintf(buf, n, "%.1f-%.1f us", f->min / 1000, f->max / 1000);
	else
		snprintf(buf, n, "%.0f-%.0f ns", f->min, f->max);
}

static void row(const char *name, int base, int sr, const struct fig *f, const char *extra)
{
	char rb[40], rs[40], note[160];
	range(rb, sizeof(rb), &f[base]);
	range(rs, sizeof(rs), &f[sr]);
	snprintf(note, sizeof(note), "range: %s vs %s%s", rb, rs, extra);
	bench_add("chan", name, kname[base], f[base].med, kname[sr], f[sr].med, note);
}

void bench_chan(void)
{
	struct fig ow[K_N], rt[K_N];
	static const int ow_kinds[] = {K_PIPE,      K_STREAM,    K_SEQPACKET, K_EVENTFD,
				       K_CHAN_POLL, K_CHAN_RECV, K_CHAN_FUTEX};
	static const int rt_kinds[] = {K_PIPE, K_STREAM, K_SEQPACKET, K_CHAN_POLL, K_CHAN_RECV, K_CHAN_FUTEX};
	char extra[64];

	snprintf(seg, sizeof(seg), "/sysring-bench-%d", getpid());
	pinned = sysconf(_SC_NPROCESSORS_ONLN) >= 2 && !sched_getaffinity(0, sizeof(saved_mask), &saved_mask) &&
		 CPU_ISSET(0, &saved_mask) && CPU_ISSET(1, &saved_mask);
	pin_self(0);
	interleave(ow_kinds, (int)(sizeof(ow_kinds) / sizeof(ow_kinds[0])), bench_iters(200000), oneway, ow);
	interleave(rt_kinds, (int)(sizeof(rt_kinds) / sizeof(rt_kinds[0])), bench_iters(20000), roundtrip, rt);

	const char *ow_name = "64 B messages one way, per message";
	for (int k = K_CHAN_POLL; k <= K_CHAN_FUTEX; k++) {
		snprintf(extra, sizeof(extra), "; %.1fx the pipe's throughput%s", ow[K_PIPE].med / ow[k].med,
			 k == K_CHAN_POLL ? " (target >= 5x)" : "");
		row(ow_name, K_PIPE, k, ow, extra);
	}
	row(ow_name, K_STREAM, K_CHAN_RECV, ow, "");
	row(ow_name, K_SEQPACKET, K_CHAN_RECV, ow, "");
	row(ow_name, K_EVENTFD, K_CHAN_RECV, ow, "");
	const char *rt_name = "request/reply round trip, median";
	for (int k = K_CHAN_POLL; k <= K_CHAN_FUTEX; k++)
		row(rt_name, K_PIPE, k, rt, "");
	row(rt_name, K_STREAM, K_CHAN_RECV, rt, "");
	row(rt_name, K_SEQPACKET, K_CHAN_RECV, rt, "");
	if (pinned)
		sched_setaffinity(0, sizeof(saved_mask), &saved_mask);
}

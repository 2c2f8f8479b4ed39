/* SPDX-License-Identifier: MIT */
/*
 * A write or send larger than a blocking pipe or stream socket can take,
 * submitted before the read that makes room for it: the submit returns
 * after bounded work (the inline attempt moves what fits and hands the rest
 * to an executor, it does not wait for the reader), and both calls complete
 * with the plain calls' answers: the writer everything, the reader what was
 * there. Async face (async_submit) and syslets (async_exec), pipes and
 * AF_UNIX stream sockets; every engine, inline on and off (the matrix).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

#define WLEN (200 * 1024) /* more than a pipe (64 KiB) or socket buffer holds */

static char wb[WLEN], rb[2 * WLEN];
static struct syslet_uatom *ring[8];
static unsigned int ring_idx;

static void on_alarm(int sig)
{
	static const char m[] = "FAIL: the submit of the big write did not return within 5 s\n";
	(void)sig;
	if (write(2, m, sizeof(m) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* Reads until the writer's total arrived; returns the events' results. */
static void run(async_context_t ctx, int kind, bool syslet)
{
	int p[2];
	long wres = 0, total = 0;
	struct syslet_uatom atom;
	struct async_cb *w = NULL;
	struct async_event ev[4];
	int got_write = 0;

	if (kind)
		T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p), 0);
	else
		T_EQ(pipe2(p, O_CLOEXEC), 0);
	long fdw = p[1], bufw = (long)wb, lenw = WLEN;

	alarm(5);
	uint64_t t0 = t_now_ns();
	if (syslet) {
		unsigned long *args[3] = {(unsigned long *)&fdw, (unsigned long *)&bufw, (unsigned long *)&lenw};
		memset(&atom, 0, sizeof(atom));
		atom.nr = SYS_write;
		atom.ret_ptr = &wres;
		for (int i = 0; i < 3; i++)
			atom.arg_ptr[i] = args[i];
		struct syslet_uatom *done = async_exec(&atom);
		alarm(0);
		if (done) { /* completed on the spot: only if it all fit */
			T_ASSERT(done == &atom);
			T_EQ(wres, WLEN);
			got_write = 1;
		}
		/* drain; the write's completion arrives in the ring */
		while (total < WLEN) {
			long r = read(p[0], rb, sizeof(rb));
			T_ASSERT(r > 0);
			total += r;
		}
		if (!got_write) {
			uint64_t until = t_now_ns() + 10ull * 1000000000ull;
			while (!__atomic_load_n(&ring[ring_idx], __ATOMIC_ACQUIRE) && t_now_ns() < until)
				async_wait(1);
			T_ASSERT(__atomic_load_n(&ring[ring_idx], __ATOMIC_ACQUIRE) == &atom);
			__atomic_store_n(&ring[ring_idx], NULL, __ATOMIC_RELEASE);
			ring_idx = (ring_idx + 1) % 8;
			T_EQ(wres, WLEN);
		}
	} else {
		w = async_cb_new(SYS_write, 3, fdw, bufw, lenw);
		struct async_cb *ws[1] = {w};
		T_EQ(async_submit(ctx, 1, ws), 1);
		alarm(0);
		/* the reads that make room, through the face too */
		while (total < WLEN) {
			struct async_cb *r = async_cb_new(SYS_read, 3, (long)p[0], (long)rb, (long)sizeof(rb));
			struct async_cb *rs[1] = {r};
			struct timespec to = {10, 0};
			bool have_read = false;
			T_EQ(async_submit(ctx, 1, rs), 1);
			while (!have_read) {
				int n = async_getevents(ctx, 1, 1, ev, &to);
				T_ASSERT(n == 1);
				if (ev[0].cbp == w) {
					T_EQ(ev[0].res, WLEN); /* the plain write's answer: all */
					got_write = 1;
				} else {
					T_ASSERT(ev[0].cbp == r);
					T_ASSERT(ev[0].res > 0);
					total += ev[0].res;
					have_read = true;
				}
			}
			async_cb_free(r);
		}
		if (!got_write) {
			struct timespec to = {10, 0};
			T_EQ(async_getevents(ctx, 1, 1, ev, &to), 1);
			T_ASSERT(ev[0].cbp == w);
			T_EQ(ev[0].res, WLEN);
		}
		async_cb_free(w);
	}
	(void)t0;
	T_EQ(total, WLEN);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	async_context_t ctx;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	T_EQ(sigaction(SIGALRM, &sa, NULL), 0);
	memset(wb, 'w', sizeof(wb));
	T_EQ(async_setup(16, &ctx), 0);
	struct async_head_user ahu = {.completion_ring = ring, .ring_size_bytes = sizeof(ring),
				      .max_nr_threads = -1UL};
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	for (int round = 0; round < 20; round++)
		for (int kind = 0; kind < 2; kind++)
			for (int syslet = 0; syslet < 2; syslet++)
				run(ctx, kind, syslet);
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	T_EQ(async_destroy(ctx), 0);
	printf("partial_progress: ok\n");
	return 0;
}

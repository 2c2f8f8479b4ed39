/* SPDX-License-Identifier: MIT */
/*
 * A batch runs on the caller's behalf, so a signal the caller receives
 * acts on a waiting call as it acts on the plain call (issue 12, the plain
 * call's answer): a read of an empty pipe is interrupted (-EINTR) by a
 * handler installed without SA_RESTART and goes on waiting with it;
 * epoll_wait with a timeout and nothing ready waits its timeout and says 0.
 * Each case runs plainly first (the oracle), then as a batch under every
 * executor (the default, the loop, io_uring forced).
 */
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "t.h"

#include <sysring/batchsys.h>

static volatile sig_atomic_t hits;
static void on_alarm(int sig)
{
	(void)sig;
	hits++;
}

static void arm(bool restart)
{
	struct sigaction sa;
	struct itimerval it = {.it_value = {0, 200 * 1000}};

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = restart ? SA_RESTART : 0;
	T_EQ(sigaction(SIGALRM, &sa, NULL), 0);
	T_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
}

/* Writes one byte after 700 ms: the restarted read's data, and the end of
 * a read nothing interrupted (the defect this test shows). */
static int wfd;
static void *late_writer(void *p)
{
	(void)p;
	usleep(700 * 1000);
	if (write(wfd, "x", 1) != 1)
		abort();
	return NULL;
}

struct answer {
	long res;
	long err;
	uint64_t ms;
};

/* One handle per executor, open for the whole test: closing a handle
 * closes its io_uring, whose teardown interrupts the closing thread's next
 * wait once (io_uring's exit work; docs/batches.md), which would make the
 * plain oracle itself say EINTR. */
static int handles[3];

/* mode: -1 plain; otherwise the index of the executor's handle */
static struct answer run_read(int mode, bool restart)
{
	struct answer a;
	int p[2];
	char c;
	pthread_t th;

	T_EQ(pipe(p), 0);
	wfd = p[1];
	hits = 0;
	T_EQ(pthread_create(&th, NULL, late_writer, NULL), 0);
	uint64_t t0 = t_now_ns();
	arm(restart);
	if (mode < 0) {
		a.res = read(p[0], &c, 1);
		a.err = a.res < 0 ? errno : 0;
	} else {
		int h = handles[mode];
		batchsys_batch_t *b = batchsys_batch_alloc(h);
		T_ASSERT(b);
		T_EQ(batchsys_push_read(b, p[0], &c, 1), 1);
		T_EQ(batchsys_post_batch(h, b), 1);
		T_EQ(b->params.outgoing.count, 1);
		a.res = b->params.outgoing.results[0].result;
		a.err = b->params.outgoing.results[0].error;
		batchsys_batch_free(b);
	}
	a.ms = (t_now_ns() - t0) / 1000000;
	pthread_join(th, NULL);
	T_EQ(hits, 1);
	close(p[0]);
	close(p[1]);
	return a;
}

static struct answer run_epoll(int mode)
{
	struct answer a;
	struct epoll_event ev;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	T_ASSERT(ep >= 0);
	uint64_t t0 = t_now_ns();
	if (mode < 0) {
		a.res = epoll_wait(ep, &ev, 1, 150);
		a.err = a.res < 0 ? errno : 0;
	} else {
		int h = handles[mode];
		batchsys_batch_t *b = batchsys_batch_alloc(h);
		T_ASSERT(b);
		T_EQ(batchsys_push_syscall(b, SYS_epoll_wait, 4, (long)ep, (long)&ev, 1L, 150L), 1);
		T_EQ(batchsys_post_batch(h, b), 1);
		a.res = b->params.outgoing.results[0].result;
		a.err = b->params.outgoing.results[0].error;
		batchsys_batch_free(b);
	}
	a.ms = (t_now_ns() - t0) / 1000000;
	close(ep);
	return a;
}

int main(void)
{
	static const struct {
		const char *name;
		int flags;
	} ex[] = {
		{"default", 0},
		{"loop", SYSRING_BATCHSYS_EXEC_LOOP},
		{"uring", SYSRING_BATCHSYS_EXEC_URING},
	};
	t_watchdog(120);
	for (size_t i = 0; i < 3; i++) {
		handles[i] = batchsys_open();
		T_ASSERT(handles[i] >= 0);
		T_EQ(sysring_batch_set_flags(handles[i], (unsigned int)ex[i].flags), 0);
	}

	struct answer eplain = run_epoll(-1);
	T_EQ(eplain.res, 0);
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		struct answer a = run_epoll((int)i);
		if (a.res != eplain.res || a.err != eplain.err || a.ms < 140)
			T_FAIL("epoll_wait(150 ms) on nothing, executor %s: %ld/%ld after %llu ms, plain %ld/%ld",
			       ex[i].name, a.res, a.err, (unsigned long long)a.ms, eplain.res, eplain.err);
	}
	for (int restart = 0; restart < 2; restart++) {
		struct answer plain = run_read(-1, restart);
		/* the oracle: EINTR at the signal, or the byte after a restart */
		T_ASSERT(restart ? plain.res == 1 : (plain.res == -1 && plain.err == EINTR));
		for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
			struct answer a = run_read((int)i, restart);
			if (a.res != plain.res || a.err != plain.err)
				T_FAIL("read of an empty pipe, SIGALRM %s SA_RESTART, executor %s: %ld/%ld, plain %ld/%ld",
				       restart ? "with" : "without", ex[i].name, a.res, a.err, plain.res,
				       plain.err);
			/* interrupted at the signal (200 ms), not at the data (700) */
			if (!restart && a.ms >= 600)
				T_FAIL("executor %s: interrupted read took %llu ms", ex[i].name,
				       (unsigned long long)a.ms);
		}
	}
	for (size_t i = 0; i < 3; i++)
		batchsys_close(handles[i]);
	printf("batch_signal: ok\n");
	return 0;
}

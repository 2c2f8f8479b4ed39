/* SPDX-License-Identifier: MIT */
/*
 * Waits end (issue 11 item 2, issue 12 item 10):
 *   - a collect that can never be satisfied (min_nr > nr_events) is refused
 *     with EINVAL, as are the other bad ranges io_getevents(2) refuses;
 *   - async_wait(n) with n beyond the completion ring returns once the ring
 *     is full (documented choice) instead of deadlocking;
 *   - a signal whose handler has SA_RESTART interrupts async_getevents and
 *     async_wait with EINTR (never restarted), timeout or not;
 *   - a huge timeout ({LONG_MAX, 0}, {LONG_MAX, 999999999}) means "never"
 *     in async_getevents, async_check_events and sysring_submit_timeout
 *     (no expiry at once, no signed overflow: UBSan), and invalid timespecs
 *     are EINVAL like the kernel's.
 * Runs under the engine matrix. Every call still yields exactly one event.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

static int pfd[2];

struct later {
	int fd;
	unsigned int ms;
	pthread_t target; /* signal it instead of writing, if sig */
	int sig;
};

static void *later_main(void *arg)
{
	struct later *l = arg;
	usleep(l->ms * 1000);
	if (l->sig)
		pthread_kill(l->target, l->sig);
	else if (write(l->fd, "x", 1) != 1)
		abort();
	return NULL;
}

static pthread_t later_start(struct later *l)
{
	pthread_t th;
	T_EQ(pthread_create(&th, NULL, later_main, l), 0);
	return th;
}

static volatile sig_atomic_t got_sig;
static void on_usr1(int sig)
{
	(void)sig;
	got_sig = 1;
}

static void drain_pipe(void)
{
	char b[64];
	int fl = fcntl(pfd[0], F_GETFL);
	fcntl(pfd[0], F_SETFL, fl | O_NONBLOCK);
	while (read(pfd[0], b, sizeof(b)) > 0)
		;
	fcntl(pfd[0], F_SETFL, fl);
}

/* One blocking read of pfd[0] in flight on ctx. */
static struct async_cb *submit_read(async_context_t ctx, char *buf)
{
	struct async_cb *rd = async_cb_new(SYS_read, 3, (long)pfd[0], (long)buf, 1L);
	struct async_cb *cbs[1] = {rd};
	T_ASSERT(rd);
	T_EQ(async_submit(ctx, 1, cbs), 1);
	return rd;
}

static void test_ranges(void)
{
	async_context_t ctx;
	struct async_event ev[16];
	struct timespec ms1 = {0, 1000000};

	T_EQ(async_setup(4, &ctx), 0);
	/* can never be satisfied: at most 4 events ever wait */
	T_ERRNO(async_getevents(ctx, 5, 16, ev, NULL), EINVAL);
	T_ERRNO(async_getevents(ctx, 5, 16, ev, &ms1), EINVAL);
	T_ERRNO(async_check_events(ctx, 5, 16, ev, NULL), EINVAL);
	T_ERRNO(async_check_events(ctx, 5, 16, ev, &ms1), EINVAL);
	/* the rest of io_getevents(2)'s checks */
	T_ERRNO(async_getevents(ctx, -1, 1, ev, &ms1), EINVAL);
	T_ERRNO(async_getevents(ctx, 0, -1, ev, &ms1), EINVAL);
	T_ERRNO(async_getevents(ctx, 2, 1, ev, &ms1), EINVAL);
	T_ERRNO(async_getevents(ctx, 0, 1, NULL, &ms1), EINVAL);
	T_ERRNO(async_getevents(ctx, LONG_MIN, 1, ev, &ms1), EINVAL);
	T_ERRNO(async_check_events(ctx, -1, 1, ev, NULL), EINVAL);
	T_ERRNO(async_check_events(ctx, 0, -1, ev, NULL), EINVAL);
	T_ERRNO(async_check_events(ctx, 2, 1, ev, NULL), EINVAL);
	T_ERRNO(async_check_events(ctx, 1, 1, NULL, NULL), EINVAL);
	/* the limit itself is fine, and max_nr may exceed nr_events */
	T_EQ(async_getevents(ctx, 4, 16, ev, &ms1), 0);
	T_EQ(async_getevents(ctx, 0, 1000, ev, &ms1), 0);
	T_EQ(async_check_events(ctx, 0, 0, NULL, NULL), 0);
	T_EQ(async_getevents(ctx, 0, 0, NULL, &ms1), 0);
	T_EQ(async_destroy(ctx), 0);
}

static void test_bad_timespecs(void)
{
	async_context_t ctx;
	struct async_event ev[2];
	struct timespec bad[] = {{0, -1}, {0, 1000000000L}, {-1, 0}, {0, LONG_MAX}, {LONG_MIN, 0}};
	struct async_cb *pid = async_cb_new(SYS_getpid, 0);
	struct async_cb *cbs[1] = {pid};

	T_EQ(async_setup(4, &ctx), 0);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_ERRNO(async_getevents(ctx, 0, 2, ev, &bad[i]), EINVAL);
		T_ERRNO(async_check_events(ctx, 0, 2, ev, &bad[i]), EINVAL);
		T_EQ(sysring_submit_timeout(ctx, 1, cbs, &bad[i]), -EINVAL);
	}
	/* nothing was queued by the refused submits */
	struct timespec zero = {0, 0};
	T_EQ(async_getevents(ctx, 0, 2, ev, &zero), 0);
	T_EQ(async_destroy(ctx), 0);
	async_cb_free(pid);
}

/* A huge timeout: the collect still waits for the call (written 300 ms
 * later) instead of returning at once. */
static void test_huge_timeouts(void)
{
	struct timespec huge[] = {{LONG_MAX, 0}, {LONG_MAX, 999999999L}, {LONG_MAX / 2, 0}, {(long)INT_MAX * 4, 0}};
	struct async_event ev[2];
	char buf[2];

	for (unsigned int i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		for (int how = 0; how < 3; how++) {
			async_context_t ctx;
			struct async_cb *rd;
			T_EQ(async_setup(4, &ctx), 0);
			if (how == 2) {
				/* a per-call timeout that never expires */
				rd = async_cb_new(SYS_read, 3, (long)pfd[0], (long)buf, 1L);
				struct async_cb *cbs[1] = {rd};
				T_EQ(sysring_submit_timeout(ctx, 1, cbs, &huge[i]), 1);
			} else {
				rd = submit_read(ctx, buf);
			}
			struct later l = {.fd = pfd[1], .ms = 300};
			pthread_t th = later_start(&l);
			uint64_t t0 = t_now_ns();
			int r = how == 1 ? async_check_events(ctx, 1, 2, ev, &huge[i])
					 : async_getevents(ctx, 1, 2, ev, how == 2 ? NULL : &huge[i]);
			uint64_t ms = (t_now_ns() - t0) / 1000000;
			pthread_join(th, NULL);
			if (r != 1)
				T_FAIL("timeout {%ld, %ld}, %s: returned %d after %llu ms (errno %d)",
				       (long)huge[i].tv_sec, huge[i].tv_nsec,
				       how == 0 ? "getevents" : how == 1 ? "check_events" : "submit_timeout", r,
				       (unsigned long long)ms, errno);
			T_EQ(ev[0].res, 1); /* the read's byte, not -ETIME */
			T_ASSERT(ms >= 200);
			T_EQ(async_destroy(ctx), 0);
			async_cb_free(rd);
		}
	}
}

/* SA_RESTART does not restart a wait: EINTR, with and without timeout. */
static void test_eintr(void)
{
	struct sigaction sa;
	struct async_event ev[2];
	struct timespec sec10 = {10, 0};
	char buf[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	T_EQ(sigaction(SIGUSR1, &sa, NULL), 0);

	for (int timed = 0; timed < 2; timed++) {
		async_context_t ctx;
		T_EQ(async_setup(4, &ctx), 0);
		struct async_cb *rd = submit_read(ctx, buf);
		struct later sig = {.ms = 100, .target = pthread_self(), .sig = SIGUSR1};
		/* If the wait were restarted, this write ends it: a wrong answer,
		 * not a hang. */
		struct later unblock = {.fd = pfd[1], .ms = 1500};
		got_sig = 0;
		pthread_t t1 = later_start(&sig), t2 = later_start(&unblock);
		errno = 0;
		int r = async_getevents(ctx, 1, 2, ev, timed ? &sec10 : NULL);
		int e = errno;
		if (r != -1 || e != EINTR)
			T_FAIL("getevents (%s timeout) with an SA_RESTART signal: %d/%s, want -1/EINTR",
			       timed ? "with" : "without", r, strerror(e));
		T_ASSERT(got_sig);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		/* the call is not lost: its event comes */
		T_EQ(async_getevents(ctx, 1, 2, ev, NULL), 1);
		T_EQ(ev[0].res, 1);
		T_EQ(async_destroy(ctx), 0);
		async_cb_free(rd);
	}

	/* async_wait: the same */
	static struct syslet_uatom *ring[4];
	static long lfd, lbuf, one = 1, res;
	static struct syslet_uatom a;
	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	lfd = pfd[0];
	lbuf = (long)buf;
	memset(&a, 0, sizeof(a));
	a.nr = SYS_read;
	a.flags = SYSLET_ASYNC;
	a.arg_ptr[0] = (unsigned long *)&lfd;
	a.arg_ptr[1] = (unsigned long *)&lbuf;
	a.arg_ptr[2] = (unsigned long *)&one;
	a.ret_ptr = &res;
	T_ASSERT(async_exec(&a) == NULL);
	struct later sig = {.ms = 100, .target = pthread_self(), .sig = SIGUSR1};
	struct later unblock = {.fd = pfd[1], .ms = 1500};
	got_sig = 0;
	pthread_t t1 = later_start(&sig), t2 = later_start(&unblock);
	errno = 0;
	long r = async_wait(1);
	int e = errno;
	if (r != -1 || e != EINTR)
		T_FAIL("async_wait with an SA_RESTART signal: %ld/%s, want -1/EINTR", r, strerror(e));
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	T_EQ(async_wait(1), 1);
	T_ASSERT(ring[0] == &a);
	T_EQ(res, 1);
	__atomic_store_n(&ring[0], NULL, __ATOMIC_RELEASE); /* the library reads slots from other threads */
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	signal(SIGUSR1, SIG_DFL);
}

/*
 * async_wait(n) with n beyond the ring: more syslets than slots complete;
 * the ones that find no slot wait in the library, so the ring fills and
 * no more can arrive until the caller makes room: async_wait returns once
 * the ring is full, and after the caller cleared it, returns again with
 * the ones that waited.
 */
static void test_wait_beyond_ring(void)
{
	enum { NSLOTS = 4, NSYSLETS = 10 };
	static struct syslet_uatom *ring[NSLOTS];
	static struct syslet_uatom a[NSYSLETS];
	static long res[NSYSLETS], lfd, lbuf, one = 1;
	static char buf[NSYSLETS];
	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	int seen = 0;

	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	lfd = pfd[0];
	lbuf = (long)buf;
	for (int i = 0; i < NSYSLETS; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].nr = SYS_read;
		a[i].flags = SYSLET_ASYNC;
		a[i].arg_ptr[0] = (unsigned long *)&lfd;
		a[i].arg_ptr[1] = (unsigned long *)&lbuf;
		a[i].arg_ptr[2] = (unsigned long *)&one;
		a[i].ret_ptr = &res[i];
		T_ASSERT(async_exec(&a[i]) == NULL);
	}
	T_EQ(write(pfd[1], "0123456789", NSYSLETS), NSYSLETS);
	unsigned long idx = 0;
	while (seen < NSYSLETS) {
		uint64_t t0 = t_now_ns();
		long n = async_wait(NSYSLETS); /* more than the ring holds */
		if ((t_now_ns() - t0) / 1000000 > 5000)
			T_FAIL("async_wait(%d) on a ring of %d took too long", NSYSLETS, NSLOTS);
		T_ASSERT(n > 0);
		T_ASSERT(n <= NSLOTS);
		/* The ring is full, or all that is left is in it. */
		T_ASSERT(n == NSLOTS || n == NSYSLETS - seen);
		for (long k = 0; k < n; k++) {
			T_ASSERT(ring[idx] != NULL);
			__atomic_store_n(&ring[idx], NULL, __ATOMIC_RELEASE); /* the library reads slots from other threads */
			idx = (idx + 1) % NSLOTS;
			seen++;
		}
	}
	for (int i = 0; i < NSYSLETS; i++)
		T_EQ(res[i], 1);
	/* nothing in flight: returns at once with what is there */
	T_EQ(async_wait(1), 0);
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	drain_pipe();
}

/* With an argument, only that part runs (to look at one in isolation). */
int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} parts[] = {{"ranges", test_ranges},
		     {"timespecs", test_bad_timespecs},
		     {"beyond_ring", test_wait_beyond_ring},
		     {"huge", test_huge_timeouts},
		     {"eintr", test_eintr}};
	t_watchdog(120);
	T_EQ(pipe(pfd), 0);
	for (unsigned int i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (argc > 1 && strcmp(argv[1], parts[i].name))
			continue;
		parts[i].fn();
		drain_pipe();
	}
	printf("waits: ok\n");
	return 0;
}

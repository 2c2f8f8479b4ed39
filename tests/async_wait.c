/* SPDX-License-Identifier: MIT */
/* Waiting: blocking calls complete when their data arrives, getevents honours
 * min_nr, max_nr and its timeout, a signal interrupts it with EINTR, and
 * check_events never waits in the kernel. */
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "t.h"

#include <sysring.h>

static int pfd[2];

static void *writer(void *arg)
{
	usleep((useconds_t)(uintptr_t)arg);
	if (write(pfd[1], "x", 1) != 1)
		abort();
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

int main(void)
{
	async_context_t ctx;
	struct async_event ev[16];
	pthread_t th;
	t_watchdog(60);

	T_EQ(async_setup(16, &ctx), 0);
	T_EQ(pipe(pfd), 0);

	/* a read on an empty pipe completes only when another thread writes */
	char c;
	struct async_cb *rd = async_cb_new(SYS_read, 3, (long)pfd[0], (long)&c, 1L);
	struct async_cb *cbs[1] = {rd};
	T_EQ(async_submit(ctx, 1, cbs), 1);
	struct timespec ts = {0, 20 * 1000 * 1000};
	uint64_t t0 = t_now_ns();
	T_EQ(async_getevents(ctx, 1, 1, ev, &ts), 0); /* timeout, nothing lost */
	uint64_t waited = t_now_ns() - t0;
	T_ASSERT(waited >= 19 * 1000 * 1000);
	T_EQ(async_check_events(ctx, 1, 1, ev, NULL), 0);
	pthread_create(&th, NULL, writer, (void *)(uintptr_t)20000);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].cbp, rd);
	T_EQ(ev[0].res, 1);
	T_EQ(c, 'x');
	pthread_join(th, NULL);

	/* min_nr: waits for all of them; max_nr bounds what is returned */
	struct async_cb *sl[4];
	struct timespec d = {0, 5 * 1000 * 1000};
	for (int i = 0; i < 4; i++)
		sl[i] = async_cb_new(SYS_nanosleep, 2, (long)&d, 0L);
	T_EQ(async_submit(ctx, 4, sl), 4);
	T_EQ(async_getevents(ctx, 3, 3, ev, NULL), 3);
	T_EQ(async_getevents(ctx, 1, 16, ev, NULL), 1);
	for (int i = 0; i < 4; i++)
		async_cb_free(sl[i]);

	/* check_events spins (in user space) up to its timeout */
	T_EQ(async_submit(ctx, 1, cbs), 1);
	ts.tv_nsec = 5 * 1000 * 1000;
	T_EQ(async_check_events(ctx, 1, 1, ev, &ts), 0);
	pthread_create(&th, NULL, writer, (void *)(uintptr_t)1000);
	ts.tv_sec = 10;
	T_EQ(async_check_events(ctx, 1, 1, ev, &ts), 1);
	T_EQ(ev[0].res, 1);
	pthread_join(th, NULL);

	/* a signal interrupts getevents: -1/EINTR, and the call is not lost */
	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	T_EQ(async_submit(ctx, 1, cbs), 1);
	struct itimerval it = {{0, 0}, {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	T_ERRNO(async_getevents(ctx, 1, 1, ev, NULL), EINTR);
	T_EQ(write(pfd[1], "y", 1), 1);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, 1);
	T_EQ(c, 'y');

	async_cb_free(rd);
	T_EQ(async_destroy(ctx), 0);

	/* blocking calls grow the executor beyond one thread per CPU; calls
	 * that compute do not need to */
	struct sysring_params p;
	sysring_params_init(&p);
	p.threads = 16;
	p.engine = SYSRING_ENGINE_THREADS;
	T_EQ(sysring_setup(64, &p, &ctx), 0);
	struct timespec d20 = {0, 20 * 1000 * 1000};
	struct async_cb *blk[32];
	for (int i = 0; i < 32; i++)
		blk[i] = async_cb_new(SYS_nanosleep, 2, (long)&d20, 0L);
	T_EQ(async_submit(ctx, 32, blk), 32);
	for (int got = 0; got < 32;) {
		int n = async_getevents(ctx, 1, 16, ev, NULL);
		T_ASSERT(n > 0);
		got += n;
	}
	struct sysring_stats st;
	T_EQ(sysring_stats(ctx, &st), 0);
	const char *eng = getenv("SYSRING_ENGINE");
	if (!eng || strcmp(eng, "kmod")) /* with the module, its workers run them */
		T_ASSERT(st.threads > 2 && st.threads <= 16);
	for (int i = 0; i < 32; i++)
		async_cb_free(blk[i]);
	T_EQ(async_destroy(ctx), 0);
	printf("async_wait: ok\n");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The uring engine's quiet windows (src/engine/uring.c): submitters switch
 * the ring's eventfd off while they submit and deliver what completed
 * inline; the reaper is the backstop for a completion posted right as a
 * window closes. Stress: two threads keep windows opening (batches of
 * writes to /dev/null, completed inline), while reads on pipes -- which
 * io_uring completes later, when a feeder thread writes -- must still reach
 * a thread blocked in async_getevents. Nothing may be lost: every call
 * yields its event within a bound far above the backstop's 10 ms; late ones
 * are counted and reported. Skips without io_uring.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

#define NPIPES 16

static async_context_t ctx;
static int devnull;
static volatile int stop;
static int pipes[NPIPES][2];
static char rbuf[NPIPES][8];
static struct async_cb *rcb[NPIPES];
static uint64_t fed_at[NPIPES];
static long slow, reads_done, writes_done;

static struct async_cb *wcbs[2][16]; /* freed once their events are in */

static void *spammer(void *arg)
{
	struct async_cb **cbs = arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int n = async_submit(ctx, 16, cbs);
		T_ASSERT(n > 0 || errno == EAGAIN);
		if (n <= 0)
			usleep(100);
	}
	return NULL;
}

int main(void)
{
	struct sysring_params p;
	pthread_t th[2];
	long rounds = (long)(300 * t_scale());

	t_watchdog(120);
	if (rounds < 20)
		rounds = 20;
	sysring_params_init(&p);
	p.engine = SYSRING_ENGINE_URING;
	p.inline_calls = 0; /* every call goes to io_uring */
	T_EQ(sysring_setup(4096, &p, &ctx), 0);
	if (sysring_ctx_engine(ctx) != SYSRING_ENGINE_URING)
		T_SKIP("no io_uring here");
	devnull = open("/dev/null", O_WRONLY);
	T_ASSERT(devnull >= 0);
	for (int i = 0; i < NPIPES; i++) {
		T_EQ(pipe(pipes[i]), 0);
		rcb[i] = async_cb_new(SYS_read, 3, (long)pipes[i][0], (long)rbuf[i], 1L);
	}
	static char one = 'x';
	for (int t = 0; t < 2; t++) {
		for (int k = 0; k < 16; k++)
			wcbs[t][k] = async_cb_new(SYS_write, 3, (long)devnull, (long)&one, 1L);
		T_EQ(pthread_create(&th[t], NULL, spammer, wcbs[t]), 0);
	}

	static struct async_event ev[256];
	for (long r = 0; r < rounds; r++) {
		/* reads that wait in io_uring until the pipe is fed; the
		 * spammers may have taken every request: collect their events
		 * until there is room */
		for (int k = 0; k < NPIPES;) {
			int n = async_submit(ctx, NPIPES - k, rcb + k);
			if (n > 0) {
				k += n;
				continue;
			}
			T_EQ(errno, EAGAIN);
			struct timespec to = {2, 0};
			n = async_getevents(ctx, 1, 256, ev, &to);
			T_ASSERT(n > 0);
			for (int j = 0; j < n; j++) {
				T_EQ(ev[j].cbp->number, SYS_write);
				writes_done++;
			}
		}
		usleep(200);
		for (int i = 0; i < NPIPES; i++) {
			fed_at[i] = t_now_ns();
			T_EQ(write(pipes[i][1], "r", 1), 1);
		}
		int left = NPIPES;
		while (left) {
			struct timespec to = {2, 0}; /* lost, not late, if this expires */
			int n = async_getevents(ctx, 1, 256, ev, &to);
			if (n == 0)
				T_FAIL("round %ld: %d reads never completed", r, left);
			T_ASSERT(n > 0);
			uint64_t now = t_now_ns();
			for (int k = 0; k < n; k++) {
				if (ev[k].cbp->number == SYS_write) {
					T_EQ(ev[k].res, 1);
					writes_done++;
					continue;
				}
				int i = -1;
				for (int j = 0; j < NPIPES; j++)
					if (ev[k].cbp == rcb[j])
						i = j;
				T_ASSERT(i >= 0);
				T_EQ(ev[k].res, 1);
				if (now - fed_at[i] > 5 * 1000 * 1000ull)
					slow++;
				reads_done++;
				left--;
			}
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	/* drain the writes still in flight */
	struct sysring_stats st;
	for (;;) {
		T_EQ(sysring_stats(ctx, &st), 0);
		if (st.completed == st.submitted && st.reaped == st.completed)
			break;
		struct timespec to = {2, 0};
		int n = async_getevents(ctx, 1, 256, ev, &to);
		if (n == 0)
			T_FAIL("%llu calls never completed",
			       (unsigned long long)(st.submitted - st.completed));
		for (int k = 0; k < n; k++)
			writes_done += ev[k].cbp->number == SYS_write;
	}
	T_EQ(reads_done, rounds * NPIPES);
	for (int t = 0; t < 2; t++)
		for (int k = 0; k < 16; k++)
			async_cb_free(wcbs[t][k]);
	printf("uring_quiet: ok (%ld reads, %ld writes, %ld reads later than 5 ms)\n", reads_done,
	       writes_done, slow);
	async_destroy(ctx);
	return 0;
}

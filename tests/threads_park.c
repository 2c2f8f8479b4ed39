/* SPDX-License-Identifier: MIT */
/*
 * Stress for the threads engine's parking protocol (threads.c, "Parking"):
 * with a single worker, every round trip makes the worker park and the
 * submitter decide whether to wake it. Submitting as soon as the previous
 * event arrives lands the submission in the worker's window between
 * announcing itself idle and sleeping, over and over; a wake-up that is
 * counted but never taken there leaves the worker asleep with work queued,
 * which this test sees as an event that does not arrive within two seconds.
 * Bursts of several calls make several wake-ups race.
 */
#include <pthread.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

static async_context_t ctx;
static long rounds;

/* Poll for the events without sleeping, so the next submission follows the
 * last completion as closely as possible: into the worker's way to sleep. */
static void wait_events(long want, long round)
{
	struct async_event ev[8];
	struct timespec zero = {0, 0};
	uint64_t deadline = t_now_ns() + 2000000000ull;
	long got = 0;

	while (got < want) {
		int n = async_getevents(ctx, 0, 8, ev, &zero);
		if (n < 0)
			T_FAIL("getevents: %s", strerror(errno));
		if (n == 0 && t_now_ns() > deadline)
			T_FAIL("round %ld: %ld of %ld events after 2 s: the worker was left asleep",
			       round, got, want);
		for (int i = 0; i < n; i++)
			if (ev[i].res != getpid())
				T_FAIL("result %lld", (long long)ev[i].res);
		got += n;
	}
}

int main(void)
{
	struct sysring_params p;
	struct async_cb *cb[4];

	t_watchdog(120);
	rounds = (long)(200000 * t_scale());
	sysring_params_init(&p);
	p.engine = SYSRING_ENGINE_THREADS;
	p.threads = 1;
	p.inline_calls = 0;
	T_EQ(sysring_setup(64, &p, &ctx), 0);
	for (int i = 0; i < 4; i++)
		cb[i] = async_cb_new(SYS_getpid, 0);

	/* Bursts of 1..4 calls, each collected before the next. */
	for (long r = 0; r < rounds; r++) {
		long n = 1 + (r % 4 == 3 ? r % 3 + 1 : 0);
		T_EQ(async_submit(ctx, n, cb), n);
		wait_events(n, r);
	}

	struct sysring_stats st;
	T_EQ(sysring_stats(ctx, &st), 0);
	T_EQ(st.in_flight, 0);
	T_EQ(st.completed, st.submitted);
	for (int i = 0; i < 4; i++)
		async_cb_free(cb[i]);
	T_EQ(async_destroy(ctx), 0);
	printf("threads_park: %ld round trips through one parked worker\n", rounds);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The pool grows while its workers are blocked, not while they compute
 * (threads.c, "Growth"): bursts of 256 reads of 2 MiB each from the page
 * cache (a copy that keeps a worker busy on a CPU for a millisecond or so,
 * far longer than the monitor's 50 us tick) must not grow the pool past 4
 * workers per CPU, where it used to stop: more would only take turns on the
 * CPUs. They keep to the eager two per CPU, plus one per 100 ms that the
 * queue does not move on a starved machine. Without the check of the
 * workers' state the pool grew to 14 to 27 workers here.
 * The results are the plain call's: every read returns 2 MiB (all into one
 * buffer: only the count is compared).
 */
#include <sched.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

#define SZ (2 << 20)
#define NCALLS 256

int main(void)
{
	struct sysring_params p;
	async_context_t ctx;
	struct async_cb *cb[NCALLS];
	struct async_event ev[NCALLS];
	struct sysring_stats st;
	char path[] = "/tmp/sysring-compute-XXXXXX";
	int fd = mkstemp(path);
	char *buf = malloc(SZ), *bufs = malloc(SZ);
	cpu_set_t cs;
	unsigned ncpu = 1;

	t_watchdog(300);
	T_ASSERT(fd >= 0 && buf && bufs);
	unlink(path);
	memset(buf, 7, SZ);
	T_EQ(write(fd, buf, SZ), SZ);
	T_EQ(pread(fd, buf, SZ, 0), SZ); /* in the page cache */
	if (sched_getaffinity(0, sizeof(cs), &cs) == 0)
		ncpu = (unsigned)CPU_COUNT(&cs);
	sysring_params_init(&p);
	p.engine = SYSRING_ENGINE_THREADS;
	p.inline_calls = 0;
	T_EQ(sysring_setup(NCALLS, &p, &ctx), 0);
	for (int i = 0; i < NCALLS; i++)
		cb[i] = async_cb_new(SYS_pread64, 4, (long)fd, (long)bufs, (long)SZ, 0L);
	int rounds = (int)(5 * t_scale()) + 2;
	for (int r = 0; r < rounds; r++) {
		T_EQ(async_submit(ctx, NCALLS, cb), NCALLS);
		for (int got = 0; got < NCALLS;) {
			int n = async_getevents(ctx, 1, NCALLS, ev + got, NULL);
			T_ASSERT(n > 0);
			got += n;
		}
		for (int i = 0; i < NCALLS; i++)
			T_EQ(ev[i].res, SZ);
	}
	T_EQ(sysring_stats(ctx, &st), 0);
	printf("threads_compute: %d bursts of %d reads of 2 MiB on %u workers (%u CPUs)\n", rounds,
	       NCALLS, st.threads, ncpu);
	if (st.threads > 4 * ncpu)
		T_FAIL("computing calls grew the pool to %u workers on %u CPUs", st.threads, ncpu);
	T_EQ(async_destroy(ctx), 0);
	for (int i = 0; i < NCALLS; i++)
		async_cb_free(cb[i]);
	free(buf);
	free(bufs);
	close(fd);
	return 0;
}

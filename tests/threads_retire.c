/* SPDX-License-Identifier: MIT */
/*
 * Workers above the floor (`eager`, two per CPU) retire after about a
 * second idle, and are joined: a burst of 48 blocked reads then their 48
 * writes grows the pool past 48 threads; once idle the pool returns to the
 * floor (sysring_stats and the process's task list agree), the same burst
 * grows it again (reused slots), and after async_destroy none of the
 * library's threads is left, also when it comes as workers retire.
 *
 * Prints what an idle worker costs: the growth of VmRSS and VmSize per
 * worker while the grown pool is idle.
 */
#include <dirent.h>
#include <sched.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

#define N 48

/* The library's threads in this process (threads.c names them). */
static int tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	T_ASSERT(d);
	while ((e = readdir(d))) {
		char path[300], comm[32] = "";
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* gone meanwhile */
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "sysring-", 8))
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* After a destroy: a joined thread can still be listed in /proc/self/task
 * for a moment (the kernel wakes the joiner before it releases the task);
 * one that leaked is still there after 2 s. */
static int tasks_settled(int want)
{
	for (int i = 0; i < 200 && tasks() != want; i++)
		usleep(10000);
	return tasks();
}

static long status_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	T_ASSERT(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = atol(line + strlen(key));
	fclose(f);
	return v;
}

/* Address space in mappings of 32 MiB or more: glibc's malloc arenas (each
 * thread that allocates, as pthread_create does for its TLS vector, gets
 * one of up to 8 per CPU, 64 MiB reserved and almost none of it resident). */
static long arenas_kb(void)
{
	char line[512];
	long kb = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	T_ASSERT(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && b - a >= (32ul << 20))
			kb += (long)((b - a) >> 10);
	}
	fclose(f);
	return kb;
}

static void burst(async_context_t ctx)
{
	static int pf[N][2];
	static char in[N];
	struct async_cb *cb[2 * N];
	struct async_event ev[2 * N];

	for (int i = 0; i < N; i++) {
		T_EQ(pipe(pf[i]), 0);
		cb[i] = async_cb_new(SYS_read, 3, (long)pf[i][0], (long)&in[i], 1L);
		cb[N + i] = async_cb_new(SYS_write, 3, (long)pf[i][1], (long)"w", 1L);
	}
	T_EQ(async_submit(ctx, N, cb), N);
	T_EQ(async_submit(ctx, N, cb + N), N);
	for (int got = 0; got < 2 * N;) {
		struct timespec ts = {30, 0};
		int n = async_getevents(ctx, 1, 2 * N, ev + got, &ts);
		if (n <= 0)
			T_FAIL("burst: %d of %d events", got, 2 * N);
		got += n;
	}
	for (int i = 0; i < 2 * N; i++) {
		T_EQ(ev[i].res, 1);
		async_cb_free(cb[i]);
	}
	for (int i = 0; i < N; i++) {
		close(pf[i][0]);
		close(pf[i][1]);
	}
}

/* Wait until the pool is back at `want` workers, and so is the task list. */
static void wait_floor(async_context_t ctx, unsigned want, int base_tasks)
{
	struct sysring_stats st;
	uint64_t end = t_now_ns() + 20 * 1000000000ull;

	for (;;) {
		T_EQ(sysring_stats(ctx, &st), 0);
		/* the workers, the monitor */
		if (st.threads == want && tasks() == base_tasks + (int)want + 1)
			return;
		if (t_now_ns() > end)
			T_FAIL("after 20 s idle: %u workers (floor %u), %d tasks (want %d)", st.threads,
			       want, tasks(), base_tasks + (int)want + 1);
		usleep(50000);
	}
}

int main(void)
{
	struct sysring_params p;
	async_context_t ctx;
	struct sysring_stats st;
	int base_tasks;

	t_watchdog(120);
	sysring_params_init(&p);
	p.engine = SYSRING_ENGINE_THREADS; /* io_uring would run the reads */
	p.inline_calls = 0;
	T_EQ(sysring_setup(2 * N, &p, &ctx), 0);
	base_tasks = tasks();
	long rss0 = status_kb("VmRSS:"), vsz0 = status_kb("VmSize:"), ar0 = arenas_kb();
	unsigned floor = 2 * (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t cs;
	if (sched_getaffinity(0, sizeof(cs), &cs) == 0)
		floor = 2 * (unsigned)CPU_COUNT(&cs);
	if (floor > 2 * N)
		floor = 2 * N;

	/* The burst completing shows that N + 1 workers ran at once; on a
	 * slow run (sanitizers) the first may have idled a second and left
	 * by now. */
	burst(ctx);
	T_EQ(sysring_stats(ctx, &st), 0);
	T_ASSERT(st.threads > floor);
	unsigned grown = st.threads;
	long rss1 = status_kb("VmRSS:"), vsz1 = status_kb("VmSize:"), ar1 = arenas_kb();
	printf("idle pool of %u workers: %.1f KiB VmRSS and %.1f KiB VmSize per worker, "
	       "plus %ld MiB of malloc arenas reserved\n",
	       grown, (double)(rss1 - rss0) / grown, (double)(vsz1 - vsz0 - (ar1 - ar0)) / grown,
	       (ar1 - ar0) >> 10);

	wait_floor(ctx, floor, base_tasks);
	printf("after idling: %u workers, %d tasks\n", floor, tasks());
	burst(ctx); /* slots reused */
	T_EQ(sysring_stats(ctx, &st), 0);
	T_ASSERT(st.threads > floor);
	wait_floor(ctx, floor, base_tasks);
	T_EQ(async_destroy(ctx), 0);
	T_EQ(tasks_settled(base_tasks), base_tasks);

	/* destroy while workers retire and the monitor joins them */
	for (int r = 0; r < 3; r++) {
		T_EQ(sysring_setup(2 * N, &p, &ctx), 0);
		burst(ctx);
		usleep(900000 + 100000 * (useconds_t)r);
		T_EQ(async_destroy(ctx), 0);
		T_EQ(tasks_settled(base_tasks), base_tasks);
	}
	printf("threads_retire: ok\n");
	return 0;
}

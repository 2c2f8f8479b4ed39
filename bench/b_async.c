/* SPDX-License-Identifier: MIT */
/*
 * The async face through the threads engine vs plain calls: cheap calls
 * (where a hand-off between threads costs more than the call) and blocking
 * calls (where overlapping them is the point).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sysring.h>

#include "bench.h"

struct acase {
	long nr;
	int nargs;
	long a[6];
	async_context_t ctx;
	int batch;
	struct async_cb *cbs[64];
};

static double run_plain(void *arg, long iters)
{
	struct acase *c = arg;
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i++)
		syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
	return (double)(bench_now() - t0);
}

static double run_async(void *arg, long iters)
{
	struct acase *c = arg;
	return bench_async_rounds(c->ctx, c->cbs, c->batch, iters);
}

static async_context_t threads_ctx_spin(uint32_t spin_ns)
{
	struct sysring_params p;
	async_context_t ctx;
	sysring_params_init(&p);
	p.spin_ns = spin_ns;
	p.engine = SYSRING_ENGINE_THREADS;
	p.inline_calls = 0;
	if (sysring_setup(256, &p, &ctx))
		abort();
	return ctx;
}

static async_context_t threads_ctx(void)
{
	return threads_ctx_spin(0);
}

static void one_case(const char *name, struct acase *c, long iters, const char *note)
{
	char label[96];
	double plain, one, batch;

	c->ctx = threads_ctx();
	for (int i = 0; i < 64; i++) {
		c->cbs[i] = async_cb_new(c->nr, (unsigned)c->nargs, c->a[0], c->a[1], c->a[2], c->a[3],
					 c->a[4], c->a[5]);
	}
	plain = bench_median(run_plain, c, iters);
	c->batch = 1;
	one = bench_median(run_async, c, iters);
	c->batch = 64;
	batch = bench_median(run_async, c, iters);
	snprintf(label, sizeof(label), "%s, 1 in flight", name);
	bench_add("async", label, "plain syscall", plain, "threads: submit+getevents", one, note);
	snprintf(label, sizeof(label), "%s, batches of 64", name);
	bench_add("async", label, "plain syscall", plain, "threads: submit 64+collect", batch, note);
	if (c->nr == SYS_getppid) {
		/* The spin option: trades CPU for hand-off latency. */
		async_context_t quiet = c->ctx;
		c->ctx = threads_ctx_spin(5000);
		c->batch = 1;
		one = bench_median(run_async, c, iters);
		c->batch = 64;
		batch = bench_median(run_async, c, iters);
		async_destroy(c->ctx);
		c->ctx = quiet;
		bench_add("async", "getppid, 1 in flight, spin 5 us", "plain syscall", plain,
			  "threads+spin: submit+getevents", one, "spin_ns=5000");
		bench_add("async", "getppid, batches of 64, spin 5 us", "plain syscall", plain,
			  "threads+spin: submit 64+collect", batch, "spinning workers compete on 2 cores");
	}
	for (int i = 0; i < 64; i++)
		async_cb_free(c->cbs[i]);
	async_destroy(c->ctx);
}

void bench_async(void)
{
	static char buf[4096];
	struct acase c;
	int devnull = open("/dev/null", O_WRONLY);
	int file = bench_cached_file(1 << 20);

	memset(&c, 0, sizeof(c));
	c.nr = SYS_getppid;
	one_case("getppid", &c, bench_iters(200000), "hand-off costs more than the call");

	memset(&c, 0, sizeof(c));
	c.nr = SYS_write;
	c.nargs = 3;
	c.a[0] = devnull;
	c.a[1] = (long)buf;
	c.a[2] = 1;
	one_case("write 1 B to /dev/null", &c, bench_iters(200000), "");

	memset(&c, 0, sizeof(c));
	c.nr = SYS_pread64;
	c.nargs = 4;
	c.a[0] = file;
	c.a[1] = (long)buf;
	c.a[2] = 4096;
	c.a[3] = 8192;
	one_case("pread 4 KiB, cached file", &c, bench_iters(100000), "");

	/* Blocking: nanosleep(100 us), sequential vs 64 in flight. */
	static struct timespec d100 = {0, 100000};
	memset(&c, 0, sizeof(c));
	c.nr = SYS_nanosleep;
	c.nargs = 2;
	c.a[0] = (long)&d100;
	c.ctx = threads_ctx();
	for (int i = 0; i < 64; i++)
		c.cbs[i] = async_cb_new(c.nr, 2, c.a[0], 0L);
	double plain = bench_median(run_plain, &c, 128);
	c.batch = 64;
	double as = bench_median(run_async, &c, 128);
	char note[96];
	snprintf(note, sizeof(note), "%u executor threads", sysring_default_threads());
	bench_add("async", "nanosleep 100 us (blocking), 64 in flight", "plain, sequential", plain,
		  "threads: submit 64+collect", as, note);

	/* 64 calls of 1 ms each: expect about 64/threads ms. */
	static struct timespec d1ms = {0, 1000000};
	for (int i = 0; i < 64; i++)
		async_cb_set_arg(c.cbs[i], 0, (long)&d1ms);
	c.a[0] = (long)&d1ms;
	plain = bench_median(run_plain, &c, 64) * 64;
	as = bench_median(run_async, &c, 64) * 64;
	snprintf(note, sizeof(note), "whole batch; ideal %.1f ms with %u threads",
		 64.0 / sysring_default_threads(), sysring_default_threads());
	bench_add("async", "64 x nanosleep 1 ms, total", "plain, sequential", plain,
		  "threads: submit 64+collect", as, note);
	for (int i = 0; i < 64; i++)
		async_cb_free(c.cbs[i]);
	async_destroy(c.ctx);
	close(devnull);
	close(file);
}

/* SPDX-License-Identifier: MIT */
/*
 * The async face through the threads engine (inline calls off) vs plain
 * calls: cheap calls, where the hand-off between threads costs more than
 * the call, and blocking calls, where overlapping them is the point. The
 * getppid comparison also measures the engine's floors in the same rounds:
 * a minimal ring whose worker spins and makes the real call, and a bare
 * futex ping-pong between two threads (b_ring.c).
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
	int async;      /* 0: the plain call in a loop */
	int batch;      /* calls per submit */
	long min_nr;    /* getevents' min_nr (0: everything still missing) */
	uint32_t spin_ns;
	async_context_t ctx;
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
	return bench_async_rounds_min(c->ctx, c->cbs, c->batch, iters, c->min_nr);
}

static double run_case(void *arg, long iters)
{
	struct acase *c = arg;
	return c->async ? run_async(arg, iters) : run_plain(arg, iters);
}

static void setup_case(void *arg)
{
	struct acase *c = arg;
	struct sysring_params p;

	if (!c->async)
		return;
	sysring_params_init(&p);
	p.spin_ns = c->spin_ns;
	p.engine = SYSRING_ENGINE_THREADS;
	p.inline_calls = 0;
	if (sysring_setup(256, &p, &c->ctx))
		abort();
	for (int i = 0; i < 64; i++)
		c->cbs[i] = async_cb_new(c->nr, (unsigned)c->nargs, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4],
					 c->a[5]);
}

static void teardown_case(void *arg)
{
	struct acase *c = arg;
	if (!c->async)
		return;
	async_destroy(c->ctx);
	for (int i = 0; i < 64; i++)
		async_cb_free(c->cbs[i]);
}

#define MAXV 8

/* The rows of one cheap call: plain, one in flight, batches of 64 with
 * min_nr 1 and 64, and for getppid the spin option and the floors. */
static void cheap_call(const char *what, const struct acase *proto, long iters)
{
	struct acase c[MAXV];
	struct bench_var v[MAXV];
	struct bench_fig f[MAXV];
	int n = 0, getppid_case = proto->nr == SYS_getppid;
	char cas[96];

	memset(v, 0, sizeof(v));
	for (int i = 0; i < MAXV; i++) {
		c[i] = *proto;
		v[i].arg = &c[i];
		v[i].run = run_case;
		v[i].setup = setup_case;
		v[i].teardown = teardown_case;
	}
	v[n++].name = "plain syscall";
	c[n].async = 1, c[n].batch = 1;
	v[n].iters = iters / 10; /* a hand-off each: slow */
	v[n++].name = "threads: 1 in flight";
	c[n].async = 1, c[n].batch = 64, c[n].min_nr = 1;
	v[n++].name = "threads: submit 64, getevents min_nr=1";
	c[n].async = 1, c[n].batch = 64, c[n].min_nr = 64;
	v[n++].name = "threads: submit 64, getevents min_nr=64";
	int spin1 = 0, spin64 = 0, fring = 0, ffutex = 0;
	if (getppid_case) {
		c[n].async = 1, c[n].batch = 1, c[n].spin_ns = 5000;
		v[n].iters = iters / 10;
		spin1 = n;
		v[n++].name = "threads+spin 5 us: 1 in flight";
		c[n].async = 1, c[n].batch = 64, c[n].min_nr = 1, c[n].spin_ns = 5000;
		spin64 = n;
		v[n++].name = "threads+spin 5 us: submit 64, min_nr=1";
		fring = n;
		v[n].run = bench_floor_ring_run;
		v[n].setup = bench_floor_ring_setup;
		v[n].teardown = bench_floor_ring_teardown;
		v[n++].name = "SPSC ring + spinning worker, batch 64";
		ffutex = n;
		v[n].run = bench_futex_pingpong;
		v[n].setup = v[n].teardown = NULL;
		v[n].iters = iters / 20;
		v[n++].name = "futex ping-pong, per wake-up";
	}
	snprintf(cas, sizeof(cas), "%s, threads engine, inline off", what);
	bench_compare(cas, v, n, iters, 0, f);
	bench_row("async", cas, v[0].name, &f[0], v[1].name, &f[1], NULL, NULL, "a hand-off per call");
	for (int k = 2; k <= 3; k++)
		bench_row("async", cas, v[0].name, &f[0], v[k].name, &f[k], "<= 2", "bench/PROFILE.md",
			  getppid_case ? "floor below" : "floor: the getppid rows' (the same hand-off)");
	if (getppid_case) {
		bench_row("async", cas, v[0].name, &f[0], v[spin1].name, &f[spin1], NULL, NULL, "spin_ns=5000");
		bench_row("async", cas, v[0].name, &f[0], v[spin64].name, &f[spin64], NULL, NULL,
			  "spinning workers compete on 2 cores");
		/* A spinning pair needs two free CPUs: on a loaded machine it
		 * waits out time slices, and the "floor" lies above the engine. */
		char fnote[128];
		double load[1] = {0};
		double best = f[2].med < f[3].med ? f[2].med : f[3].med;
		if (getloadavg(load, 1) < 1)
			load[0] = 0;
		if (f[fring].med > best && best > 0)
			snprintf(fnote, sizeof(fnote),
				 "not a floor in this run: above the engine, CPUs busy (load average %.1f)", load[0]);
		else
			snprintf(fnote, sizeof(fnote), "the hand-off at ring cost (issue: 87-155 ns)");
		bench_row("async", cas, v[0].name, &f[0], v[fring].name, &f[fring], "floor", NULL, fnote);
		/* Per wake-up, not per call: no ratio to a per-call baseline. */
		bench_row("async", cas, NULL, NULL, v[ffutex].name, &f[ffutex], "floor", NULL,
			  "per wake-up, not per call: one needless wake-up costs this (issue: 4-47 us)");
	}
}

/* Blocking calls: nanosleep, sequential vs 64 in flight. */
static void blocking(void)
{
	static struct timespec d100 = {0, 100000}, d1ms = {0, 1000000};
	struct acase c[2];
	struct bench_var v[2];
	struct bench_fig f[2];
	char note[96];

	memset(c, 0, sizeof(c));
	memset(v, 0, sizeof(v));
	for (int i = 0; i < 2; i++) {
		c[i].nr = SYS_nanosleep;
		c[i].nargs = 2;
		c[i].a[0] = (long)&d100;
		c[i].batch = 64;
		v[i].arg = &c[i];
		v[i].run = run_case;
		v[i].setup = setup_case;
		v[i].teardown = teardown_case;
	}
	v[0].name = "plain, sequential";
	c[1].async = 1;
	v[1].name = "threads: submit 64, collect";
	bench_compare("nanosleep 100 us (blocking), 64 in flight", v, 2, 128, BENCH_NOWARM, f);
	snprintf(note, sizeof(note), "%u executor threads", sysring_default_threads());
	bench_row("async", "nanosleep 100 us (blocking), 64 in flight", v[0].name, &f[0], v[1].name, &f[1], NULL,
		  NULL, note);
	c[0].a[0] = c[1].a[0] = (long)&d1ms;
	bench_compare("64 x nanosleep 1 ms, total", v, 2, 64, BENCH_NOWARM, f);
	for (int i = 0; i < 2; i++)
		f[i].med *= 64, f[i].min *= 64, f[i].max *= 64, f[i].med_fwd *= 64, f[i].med_rev *= 64;
	snprintf(note, sizeof(note), "whole batch; ideal %.1f ms with %u threads", 64.0 / sysring_default_threads(),
		 sysring_default_threads());
	bench_row("async", "64 x nanosleep 1 ms, total", v[0].name, &f[0], v[1].name, &f[1], NULL, NULL, note);
}

void bench_async(void)
{
	static char buf[4096];
	struct acase c;
	int devnull = open("/dev/null", O_WRONLY);
	int file = bench_cached_file(1 << 20);

	memset(&c, 0, sizeof(c));
	c.nr = SYS_getppid;
	cheap_call("getppid", &c, bench_iters(200000));

	memset(&c, 0, sizeof(c));
	c.nr = SYS_write;
	c.nargs = 3;
	c.a[0] = devnull;
	c.a[1] = (long)buf;
	c.a[2] = 1;
	cheap_call("write 1 B to /dev/null", &c, bench_iters(200000));

	memset(&c, 0, sizeof(c));
	c.nr = SYS_pread64;
	c.nargs = 4;
	c.a[0] = file;
	c.a[1] = (long)buf;
	c.a[2] = 4096;
	c.a[3] = 8192;
	cheap_call("pread 4 KiB, cached file", &c, bench_iters(100000));

	blocking();
	close(devnull);
	close(file);
}

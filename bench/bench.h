/* SPDX-License-Identifier: MIT */
/*
 * The benchmark harness.
 *
 * A comparison is a set of contenders (struct bench_var) measured the same
 * way: `runs` rounds, each round one sample of every contender in turn
 * (A B C A B C ..., or C B A C B A ... with --reverse). By default every
 * sample runs in a process of its own, forked for it: set-up, warm-up, the
 * timed run and tear-down happen there, so that no contender inherits the
 * threads, heap, page-cache growth or file state of the one before it (the
 * artifact of Batchsys's benchmark, where the row that ran second paid for
 * the pages the first one appended). Files a contender writes are created
 * by its set-up or its run, per sample. Each figure is the median of its
 * samples with the min-max spread; a ratio is sysring's median over its
 * baseline's, from the same comparison.
 *
 * Rows are collected and printed at the end, grouped by comparison (the
 * baseline once, then every figure against it with its ratio, its target
 * and whether the target is met), then a summary of every target; or as
 * JSON (--json). Rows are printed in the code's order whatever the run
 * order, so a forward and a --reverse run can be compared line by line;
 * --both-orders measures both orders in one run and prints the ratio of
 * each beside the other.
 */
#ifndef SYSRING_BENCH_H
#define SYSRING_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct bench_opts {
	int runs;     /* samples per figure (per order with --both-orders); the median is reported */
	int cold_runs; /* the same for comparisons whose samples take seconds (3 unless --runs) */
	double scale; /* iteration scale (--quick: 0.1) */
	double sec_scale; /* the running section's own factor (main: chan 0.25), times scale */
	int json;
	const char *only;
	int quick;
	int reverse;     /* --reverse: contenders and sections in reverse order */
	int both_orders; /* --both-orders: alternate forward and reverse rounds */
	int no_cold;     /* --no-cold: skip the rows that drop the page cache */
	long tree_files; /* files in the generated tree (--tree-files) */
	const char *dir; /* where files and trees are generated (--dir) */
	const char *profile; /* --profile PATTERN: run only the matching contenders, in-process */
};

extern struct bench_opts bopt;

static inline uint64_t bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline long bench_iters(long n)
{
	long v = (long)(n * bopt.scale * bopt.sec_scale);
	return v < 1 ? 1 : v;
}

/* ---- figures ---- */

enum bench_unit { BENCH_NS = 0, BENCH_INSTR = 1 };

/* One figure: the median of its samples and their spread, per operation. */
struct bench_fig {
	double med, min, max;
	int n;           /* samples taken; 0: not measured */
	int unit;        /* enum bench_unit */
	double med_fwd;  /* --both-orders: median of the forward rounds' samples */
	double med_rev;  /* ... and of the reverse rounds' */
	char err[48];    /* non-empty: the contender failed (a crash, a wrong answer) */
};

/* A figure from a single number (no spread), e.g. from bench_median. */
struct bench_fig bench_fig_of(double ns);

/* ---- comparisons ---- */

/* One contender. run() performs `iters` operations and returns the elapsed
 * ns; set-up and tear-down are not timed and run in the sample's process. */
struct bench_var {
	const char *name;
	double (*run)(void *arg, long iters);
	void *arg;
	void (*setup)(void *arg);
	void (*teardown)(void *arg);
	long iters; /* operations per sample; 0: the comparison's */
};

#define BENCH_INPROC 1u /* samples in this process (the contender keeps no state) */
#define BENCH_COLD 2u   /* page cache dropped before each sample (after set-up), no warm-up */
#define BENCH_NOWARM 4u /* no warm-up run before the timed one */
#define BENCH_LONG 8u   /* samples take seconds: as many as cold comparisons take */

/* Measure the contenders of the comparison `cas`; out[i] is v[i]'s figure,
 * ns per operation. A sample whose process dies or exits non-zero leaves
 * err set. With --profile PATTERN only the contenders whose "cas: name"
 * contains PATTERN run, in this process, for perf or strace to watch. */
void bench_compare(const char *cas, const struct bench_var *v, int nv, long iters, unsigned int flags,
		   struct bench_fig *out);

/* Whether the page cache can be dropped here (root, /proc/sys/vm/drop_caches
 * writable, and bopt.dir not on tmpfs); if not, *why says why. */
int bench_can_drop_caches(const char **why);
/* sync, then drop page cache, dentries and inodes. 0 or -errno. */
int bench_drop_caches(void);

/* User-space instructions per operation of run() (after set-up), counted
 * by perf_event_open where the CPU counter is available, else by
 * single-stepping a child with ptrace (deterministic). Returns the count,
 * or -1 with *how saying why none could be taken; *how names the method. */
double bench_icount(double (*run)(void *arg, long iters), void *arg, void (*setup)(void *arg), long iters,
		    char *how, size_t howlen);

/* ---- rows ---- */

/*
 * Add one figure against its baseline. target: NULL (none), a ratio bound
 * such as "<= 1.3", "< 1", ">= 3" (sysring / baseline), an absolute one
 * such as "<= 25 ns", or one of the kinds "floor" (a lower bound for this
 * figure, measured in the same run) and "ref" (another reference point).
 * The source names the document a reader can open for the target and how
 * it was met: bench/PROFILE.md (row by row), docs/batches.md, ...
 */
void bench_row(const char *section, const char *cas, const char *base_name, const struct bench_fig *base,
	       const char *name, const struct bench_fig *fig, const char *target, const char *source,
	       const char *note);
/* Rows added from now on print at place k of their section (default 0),
 * whatever order they were measured in: a section that runs its parts in
 * reverse (--reverse) still prints them in the code's order. */
void bench_set_order(int k);
/* A row that could not be measured here, with the reason. */
void bench_skip(const char *section, const char *cas, const char *name, const char *reason);

/* The older interface (a median without its spread); kept for b_chan.c. */
double bench_median(double (*fn)(void *arg, long iters), void *arg, long iters);
void bench_add(const char *section, const char *name, const char *base_name, double base_ns,
	       const char *sr_name, double sr_ns, const char *note);

int bench_section_enabled(const char *section);
void bench_print(void);

/* ---- plots ---- */

/* A line plot (ns per call against x), as batch.svg. series[s][i] <= 0 is
 * a gap. */
void bench_svg_lines(const char *path, const char *title, const char *xlabel, const int *xs, int nx,
		     double (*series)[16], const char **names, int ns);

/* ---- the sections, one per file ---- */
void bench_async(void);
void bench_ring(void);
void bench_inline(void);
void bench_uring(void);
void bench_files(void);
void bench_tree(void);
void bench_batch(void);
void bench_chan(void);

/* ---- helpers several sections share ---- */

/* Submit `batch` cbs and collect their events, `iters` calls in all;
 * returns ns (the async round-trip loop several sections share). Each
 * getevents asks for everything still missing (min_nr = the rest). */
struct async_cb;
double bench_async_rounds(void *ctx, struct async_cb **cbs, int batch, long iters);
/* The same, with each getevents asking for min_nr (1: whatever is there). */
double bench_async_rounds_min(void *ctx, struct async_cb **cbs, int batch, long iters, long min_nr);

/* A 4 KiB-per-block cached file for pread benchmarks; returns its fd. */
int bench_cached_file(size_t bytes);

/* The floors of the threads engine (b_ring.c): a minimal ring with a
 * spinning worker that makes the real call, and a futex ping-pong. */
struct bench_floor_ring;
void bench_floor_ring_setup(void *arg);    /* arg: struct bench_floor_ring ** */
void bench_floor_ring_teardown(void *arg);
double bench_floor_ring_run(void *arg, long iters); /* getppid, batches of 64 */
double bench_futex_pingpong(void *arg, long iters); /* iters one-way wake-ups */

/* Run argv with stdout captured into out (NUL-terminated); returns the
 * exit status as waitpid gives it, or -1. */
int bench_run_cmd(const char *const *argv, char *out, size_t outlen);

#endif

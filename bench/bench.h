/* SPDX-License-Identifier: MIT */
/*
 * The benchmark harness: every figure is the median of several runs, and
 * every sysring row carries the baseline it is compared with, measured in the
 * same run. Rows are collected and printed as one table (or JSON).
 */
#ifndef SYSRING_BENCH_H
#define SYSRING_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct bench_row {
	const char *section;
	char name[96];
	char base_name[48];
	double base_ns; /* per operation; 0: no baseline */
	char sr_name[48];
	double sr_ns;
	char note[96];
};

struct bench_opts {
	int runs;     /* runs per figure; the median is reported */
	double scale; /* iteration scale (--quick: 0.1) */
	int json;
	const char *only;
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
	long v = (long)(n * bopt.scale);
	return v < 1 ? 1 : v;
}

/* Median of `runs` calls of fn(arg, iters), each returning total ns for
 * `iters` operations; result in ns per operation. */
double bench_median(double (*fn)(void *arg, long iters), void *arg, long iters);

void bench_add(const char *section, const char *name, const char *base_name, double base_ns,
	       const char *sr_name, double sr_ns, const char *note);
void bench_print(void);
int bench_section_enabled(const char *section);

/* The sections, one per file. */
void bench_async(void);
void bench_ring(void);
void bench_engines(void);
void bench_files(void);
void bench_tree(void);
void bench_batch(void);
void bench_chan(void);

/* Submit `batch` cbs and collect their events, `iters` calls in all;
 * returns ns (the async round-trip loop several sections share). */
struct async_cb;
double bench_async_rounds(void *ctx, struct async_cb **cbs, int batch, long iters);

/* A 4 KiB-per-block cached file for pread benchmarks; returns its fd. */
int bench_cached_file(size_t bytes);

#endif

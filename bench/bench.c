/* SPDX-License-Identifier: MIT */
/* sysring-bench: the harness (options, medians, the table) and main(). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sysring.h>

#include "bench.h"

struct bench_opts bopt = {.runs = 5, .scale = 1.0};

static struct bench_row rows[256];
static int nrows;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double bench_median(double (*fn)(void *arg, long iters), void *arg, long iters)
{
	double v[32];
	int runs = bopt.runs < 32 ? bopt.runs : 32;

	fn(arg, iters / 10 + 1); /* warm up */
	for (int i = 0; i < runs; i++)
		v[i] = fn(arg, iters) / (double)iters;
	qsort(v, (size_t)runs, sizeof(double), cmp_double);
	return v[runs / 2];
}

void bench_add(const char *section, const char *name, const char *base_name, double base_ns,
	       const char *sr_name, double sr_ns, const char *note)
{
	struct bench_row *r;
	if (nrows == (int)(sizeof(rows) / sizeof(rows[0])))
		return;
	r = &rows[nrows++];
	memset(r, 0, sizeof(*r));
	r->section = section;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->base_name, sizeof(r->base_name), "%s", base_name ? base_name : "");
	r->base_ns = base_ns;
	snprintf(r->sr_name, sizeof(r->sr_name), "%s", sr_name ? sr_name : "");
	r->sr_ns = sr_ns;
	snprintf(r->note, sizeof(r->note), "%s", note ? note : "");
	if (!bopt.json) {
		/* progress on stderr so a long run shows life */
		fprintf(stderr, "  [%s] %s: done\n", section, name);
	}
}

static void fmt_ns(char *buf, size_t n, double ns)
{
	if (ns <= 0)
		snprintf(buf, n, "-");
	else if (ns < 10000)
		snprintf(buf, n, "%.1f ns", ns);
	else if (ns < 10000000)
		snprintf(buf, n, "%.1f us", ns / 1000);
	else
		snprintf(buf, n, "%.2f ms", ns / 1e6);
}

void bench_print(void)
{
	if (bopt.json) {
		printf("[\n");
		for (int i = 0; i < nrows; i++) {
			struct bench_row *r = &rows[i];
			printf("  {\"section\": \"%s\", \"case\": \"%s\", \"baseline\": \"%s\", "
			       "\"baseline_ns\": %.2f, \"sysring\": \"%s\", \"sysring_ns\": %.2f, "
			       "\"ratio\": %.3f, \"note\": \"%s\"}%s\n",
			       r->section, r->name, r->base_name, r->base_ns, r->sr_name, r->sr_ns,
			       r->base_ns > 0 ? r->sr_ns / r->base_ns : 0.0, r->note,
			       i + 1 < nrows ? "," : "");
		}
		printf("]\n");
		return;
	}
	printf("\n%-9s %-44s %-22s %11s %-26s %11s %12s %7s  %s\n", "section", "case", "baseline",
	       "base/op", "sysring", "sysring/op", "sysring op/s", "ratio", "note");
	for (int i = 0; i < 160; i++)
		putchar('-');
	putchar('\n');
	for (int i = 0; i < nrows; i++) {
		struct bench_row *r = &rows[i];
		char b[32], s[32], ops[32], ratio[16];
		fmt_ns(b, sizeof(b), r->base_ns);
		fmt_ns(s, sizeof(s), r->sr_ns);
		if (r->sr_ns > 0)
			snprintf(ops, sizeof(ops), "%.3g", 1e9 / r->sr_ns);
		else
			snprintf(ops, sizeof(ops), "-");
		if (r->base_ns > 0 && r->sr_ns > 0)
			snprintf(ratio, sizeof(ratio), "%.2fx", r->sr_ns / r->base_ns);
		else
			snprintf(ratio, sizeof(ratio), "-");
		printf("%-9s %-44s %-22s %11s %-26s %11s %12s %7s  %s\n", r->section, r->name,
		       r->base_name, b, r->sr_name, s, ops, ratio, r->note);
	}
	printf("\nratio = sysring time / baseline time per operation (below 1: sysring is "
	       "faster); medians of %d runs.\n",
	       bopt.runs);
}

int bench_section_enabled(const char *section)
{
	size_t n = strlen(section);
	const char *p;
	if (!bopt.only)
		return 1;
	/* exact names in a comma-separated list */
	for (p = bopt.only; (p = strstr(p, section)); p += n)
		if ((p == bopt.only || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
			return 1;
	return 0;
}

double bench_async_rounds(void *ctxp, struct async_cb **cbs, int batch, long iters)
{
	async_context_t ctx = ctxp;
	struct async_event ev[64];
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i += batch) {
		if (async_submit(ctx, batch, cbs) != batch)
			abort();
		for (int got = 0; got < batch;) {
			int n = async_getevents(ctx, batch - got, 64, ev, NULL);
			if (n <= 0)
				abort();
			got += n;
		}
	}
	return (double)(bench_now() - t0);
}

int bench_cached_file(size_t bytes)
{
	char path[] = "/tmp/sysring-bench-XXXXXX";
	int fd = mkstemp(path);
	char buf[4096];

	if (fd < 0)
		return -1;
	unlink(path);
	memset(buf, 'a', sizeof(buf));
	for (size_t off = 0; off < bytes; off += sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return -1;
	/* read it once so that it is in the page cache */
	for (size_t off = 0; off < bytes; off += sizeof(buf))
		if (pread(fd, buf, sizeof(buf), (off_t)off) < 0)
			return -1;
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: sysring-bench [--quick] [--runs N] [--json] [--only sec1,sec2]\n"
			"sections: async ring inline uring batch chan files tree\n");
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			bopt.scale = 0.1, bopt.runs = 3;
		else if (!strcmp(argv[i], "--json"))
			bopt.json = 1;
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			bopt.runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			bopt.only = argv[++i];
		else {
			usage();
			return 2;
		}
	}
	if (bopt.runs < 1)
		bopt.runs = 1;
	if (bench_section_enabled("async"))
		bench_async();
	if (bench_section_enabled("ring"))
		bench_ring();
	if (bench_section_enabled("inline") || bench_section_enabled("uring"))
		bench_engines();
	if (bench_section_enabled("batch"))
		bench_batch();
	if (bench_section_enabled("chan"))
		bench_chan();
	if (bench_section_enabled("files"))
		bench_files();
	if (bench_section_enabled("tree"))
		bench_tree();
	bench_print();
	return 0;
}

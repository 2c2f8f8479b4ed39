/* SPDX-License-Identifier: MIT */
/*
 * sysring-bench: the harness (options, comparisons, medians and spreads,
 * targets, the table, JSON, plots, instruction counts) and main(). The
 * rules the harness follows are stated at the top of bench.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sysring.h>

#include "bench.h"

extern char **environ;

struct bench_opts bopt = {.runs = 5, .scale = 1.0, .sec_scale = 1.0, .tree_files = 170000};

/* ---- samples and figures ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median_of(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct bench_fig bench_fig_of(double ns)
{
	struct bench_fig f;
	memset(&f, 0, sizeof(f));
	f.med = f.min = f.max = ns;
	f.n = ns > 0;
	return f;
}

/* One sample of v: set-up, warm-up, (drop caches,) the timed run,
 * tear-down. Returns ns per operation. */
static double sample_here(const struct bench_var *v, long iters, unsigned int flags)
{
	double t;

	if (v->setup)
		v->setup(v->arg);
	if (!(flags & (BENCH_NOWARM | BENCH_COLD)))
		v->run(v->arg, iters / 10 + 1);
	if ((flags & BENCH_COLD) && bench_drop_caches())
		_exit(3);
	t = v->run(v->arg, iters);
	if (v->teardown)
		v->teardown(v->arg);
	return t / (double)iters;
}

/* The same in a child process; 0 and err set on failure. */
static double sample_forked(const struct bench_var *v, long iters, unsigned int flags, char *err, size_t errlen)
{
	int pfd[2], st;
	double t = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe(pfd)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return 0;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return 0;
	}
	if (pid == 0) {
		close(pfd[0]);
		alarm(900); /* a contender that hangs ends as a failed sample */
		t = sample_here(v, iters, flags);
		if (write(pfd[1], &t, sizeof(t)) != (ssize_t)sizeof(t))
			_exit(4);
		_exit(0);
	}
	close(pfd[1]);
	ssize_t n = read(pfd[0], &t, sizeof(t));
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st))
		snprintf(err, errlen, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else if (WIFEXITED(st) && WEXITSTATUS(st))
		snprintf(err, errlen, WEXITSTATUS(st) == 3 ? "could not drop caches" : "exit status %d",
			 WEXITSTATUS(st));
	else if (n != (ssize_t)sizeof(t))
		snprintf(err, errlen, "no result");
	else
		return t;
	return 0;
}

/* --profile: the matching contenders, each in this process, `runs` timed
 * runs after its warm-up; the others are left out. */
static void profile_compare(const char *cas, const struct bench_var *v, int nv, long iters, unsigned int flags,
			    struct bench_fig *out)
{
	for (int i = 0; i < nv; i++) {
		char label[256];
		long it = v[i].iters ? v[i].iters : iters;
		double s[64];
		int n = bopt.runs < 64 ? bopt.runs : 64;

		memset(&out[i], 0, sizeof(out[i]));
		snprintf(label, sizeof(label), "%s: %s", cas, v[i].name);
		if (!strstr(label, bopt.profile)) {
			snprintf(out[i].err, sizeof(out[i].err), "not profiled");
			continue;
		}
		fprintf(stderr, "  profiling \"%s\": %d runs of %ld operations in pid %d\n", label, n, it, getpid());
		if (v[i].setup)
			v[i].setup(v[i].arg);
		if (!(flags & (BENCH_NOWARM | BENCH_COLD)))
			v[i].run(v[i].arg, it / 10 + 1);
		for (int k = 0; k < n; k++) {
			if ((flags & BENCH_COLD) && bench_drop_caches())
				abort();
			s[k] = v[i].run(v[i].arg, it) / (double)it;
		}
		if (v[i].teardown)
			v[i].teardown(v[i].arg);
		out[i].n = n;
		out[i].med = median_of(s, n);
		out[i].min = s[0];
		out[i].max = s[n - 1];
		fprintf(stderr, "  profiled \"%s\": %ld operations in all, median %.1f ns each\n", label, (long)n * it,
			out[i].med);
	}
}

void bench_compare(const char *cas, const struct bench_var *v, int nv, long iters, unsigned int flags,
		   struct bench_fig *out)
{
	int runs = flags & (BENCH_COLD | BENCH_LONG) ? bopt.cold_runs : bopt.runs;
	int rounds = bopt.both_orders ? 2 * runs : runs;
	double (*s)[64];
	int(*rev)[64];

	if (bopt.profile) {
		profile_compare(cas, v, nv, iters, flags, out);
		return;
	}
	s = calloc((size_t)nv, sizeof(*s));
	rev = calloc((size_t)nv, sizeof(*rev));
	if (rounds > 64)
		rounds = 64;
	for (int i = 0; i < nv; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].unit = BENCH_NS;
	}
	if (!bopt.json)
		fprintf(stderr, "  %s: %d rounds of %d\n", cas, rounds, nv);
	for (int r = 0; r < rounds; r++) {
		int reverse = bopt.reverse ^ (bopt.both_orders && (r & 1));
		for (int k = 0; k < nv; k++) {
			int i = reverse ? nv - 1 - k : k;
			long it = v[i].iters ? v[i].iters : iters;
			char err[48] = "";
			double t;

			if (out[i].err[0])
				continue; /* failed once: not again */
			if (flags & BENCH_INPROC)
				t = sample_here(&v[i], it, flags);
			else
				t = sample_forked(&v[i], it, flags, err, sizeof(err));
			if (err[0]) {
				snprintf(out[i].err, sizeof(out[i].err), "%s", err);
				fprintf(stderr, "    %s: FAILED (%s)\n", v[i].name, err);
				continue;
			}
			s[i][out[i].n] = t;
			rev[i][out[i].n] = reverse;
			out[i].n++;
		}
	}
	for (int i = 0; i < nv; i++) {
		double fw[64], rv[64];
		int nf = 0, nr = 0;
		struct bench_fig *f = &out[i];
		if (!f->n)
			continue;
		for (int k = 0; k < f->n; k++) {
			if (rev[i][k])
				rv[nr++] = s[i][k];
			else
				fw[nf++] = s[i][k];
		}
		if (bopt.both_orders) {
			f->med_fwd = median_of(fw, nf);
			f->med_rev = median_of(rv, nr);
		}
		f->med = median_of(s[i], f->n); /* sorts s[i] */
		f->min = s[i][0];
		f->max = s[i][f->n - 1];
	}
	free(s);
	free(rev);
}

/* ---- the page cache ---- */

int bench_can_drop_caches(const char **why)
{
	struct statfs sf;

	if (geteuid() != 0) {
		*why = "not root: cannot drop the page cache";
		return 0;
	}
	if (access("/proc/sys/vm/drop_caches", W_OK)) {
		*why = "/proc/sys/vm/drop_caches is not writable here";
		return 0;
	}
	if (!statfs(bopt.dir, &sf) && (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC)) {
		*why = "the bench directory is on tmpfs (nothing to drop); use --dir";
		return 0;
	}
	return 1;
}

int bench_drop_caches(void)
{
	int fd, ret = 0;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, "3\n", 2) != 2)
		ret = -errno;
	close(fd);
	return ret;
}

/* ---- instruction counts ---- */

static long perf_open_instructions(void)
{
	struct perf_event_attr pe;

	memset(&pe, 0, sizeof(pe));
	pe.type = PERF_TYPE_HARDWARE;
	pe.size = sizeof(pe);
	pe.config = PERF_COUNT_HW_INSTRUCTIONS;
	pe.disabled = 1;
	pe.exclude_kernel = 1; /* user space: what the library executes */
	pe.exclude_hv = 1;
	return syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0);
}

static uint64_t perf_count(int fd, double (*run)(void *, long), void *arg, long iters)
{
	uint64_t c = 0;
	ioctl(fd, PERF_EVENT_IOC_RESET, 0);
	ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	run(arg, iters);
	ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
	if (read(fd, &c, sizeof(c)) != (ssize_t)sizeof(c))
		return 0;
	return c;
}

/* Single-step the traced child from one SIGSTOP to the next; returns the
 * number of instructions it executed in between, or -1. */
static long step_until_stop(pid_t pid)
{
	long steps = 0;
	int st, sig = 0;

	for (;;) {
		if (ptrace(PTRACE_SINGLESTEP, pid, 0, (void *)(long)sig))
			return -1;
		if (waitpid(pid, &st, __WALL) < 0 || !WIFSTOPPED(st))
			return -1;
		sig = WSTOPSIG(st);
		if (sig == SIGTRAP) {
			steps++;
			sig = 0;
		} else if (sig == SIGSTOP) {
			return steps;
		}
		/* any other signal is passed on with the next step */
	}
}

static int wait_stop(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, __WALL) < 0 || !WIFSTOPPED(st))
		return -1;
	return WSTOPSIG(st);
}

double bench_icount(double (*run)(void *arg, long iters), void *arg, void (*setup)(void *arg), long iters,
		    char *how, size_t howlen)
{
	int pfd[2], st, perf_errno = 0;
	long probe = perf_open_instructions();
	double per = -1;
	pid_t pid;

	if (probe >= 0)
		close((int)probe);
	else
		perf_errno = errno;
	if (pipe(pfd)) {
		snprintf(how, howlen, "n/a (pipe: %s)", strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		snprintf(how, howlen, "n/a (fork: %s)", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		alarm(600);
		if (probe >= 0) {
			int fd;
			if (setup)
				setup(arg);
			run(arg, iters / 4 + 1); /* warm-up */
			fd = (int)perf_open_instructions();
			if (fd < 0)
				_exit(2);
			uint64_t c1 = perf_count(fd, run, arg, iters);
			uint64_t c2 = perf_count(fd, run, arg, 2 * iters);
			per = c2 > c1 ? (double)(c2 - c1) / (double)iters : -1;
		} else {
			if (ptrace(PTRACE_TRACEME, 0, 0, 0))
				_exit(5);
			raise(SIGSTOP); /* A: the parent knows we are traced */
			if (setup)
				setup(arg);
			run(arg, 4); /* warm-up, untraced */
			raise(SIGSTOP); /* B: counting starts */
			run(arg, iters);
			raise(SIGSTOP); /* C: counting ends */
			raise(SIGSTOP); /* D: counting starts */
			run(arg, 2 * iters);
			raise(SIGSTOP); /* E: counting ends */
		}
		if (write(pfd[1], &per, sizeof(per)) != (ssize_t)sizeof(per))
			_exit(4);
		_exit(0);
	}
	close(pfd[1]);
	if (probe < 0) {
		long c1 = -1, c2 = -1;
		/* A, then B: from here each SIGSTOP marks the end of a span. */
		if (wait_stop(pid) == SIGSTOP && !ptrace(PTRACE_CONT, pid, 0, 0) && wait_stop(pid) == SIGSTOP) {
			c1 = step_until_stop(pid); /* B..C */
			if (c1 >= 0 && !ptrace(PTRACE_CONT, pid, 0, 0) && wait_stop(pid) == SIGSTOP)
				c2 = step_until_stop(pid); /* D..E */
		}
		if (c1 >= 0 && c2 > c1)
			per = (double)(c2 - c1) / (double)iters;
		ptrace(PTRACE_DETACH, pid, 0, 0);
		if (per < 0) {
			kill(pid, SIGKILL);
			snprintf(how, howlen, "n/a (perf counters: %s; ptrace stepping failed: %s)",
				 strerror(perf_errno), strerror(errno));
		} else {
			snprintf(how, howlen, "user-space instructions, single-stepped with ptrace "
					      "(perf counters: %s)",
				 strerror(perf_errno));
		}
		close(pfd[0]);
		waitpid(pid, &st, 0);
		return per;
	}
	double got = -1;
	if (read(pfd[0], &got, sizeof(got)) != (ssize_t)sizeof(got))
		got = -1;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	if (got < 0)
		snprintf(how, howlen, "n/a (perf counter could not be read in the child)");
	else
		snprintf(how, howlen, "user-space instructions, perf_event_open");
	return got;
}

/* ---- rows ---- */

enum row_kind { ROW_PLAIN, ROW_TARGET, ROW_FLOOR, ROW_REF, ROW_SKIP };

struct bench_row {
	const char *section;
	int sec_idx, order, seq;
	char cas[96];
	char base_name[64];
	struct bench_fig base;
	char name[64];
	struct bench_fig fig;
	int kind;
	char target[24]; /* as given: "<= 1.3", "< 1", "<= 25 ns" */
	char source[24];
	char note[128];
	int met; /* -1: no target, 0/1 */
};

static struct bench_row *rows;
static int nrows, cap_rows, row_seq;
static int cur_sec_idx, cur_order;

void bench_set_order(int k)
{
	cur_order = k;
}

static const char *const sections[] = {"async", "ring", "inline", "uring", "batch", "chan", "files", "tree"};
#define NSECTIONS (int)(sizeof(sections) / sizeof(sections[0]))

static int section_index(const char *s)
{
	for (int i = 0; i < NSECTIONS; i++)
		if (!strcmp(s, sections[i]))
			return i;
	return cur_sec_idx;
}

static struct bench_row *new_row(const char *section, const char *cas)
{
	struct bench_row *r;
	if (nrows == cap_rows) {
		cap_rows = cap_rows ? 2 * cap_rows : 256;
		rows = realloc(rows, (size_t)cap_rows * sizeof(*rows));
		if (!rows)
			abort();
	}
	r = &rows[nrows++];
	memset(r, 0, sizeof(*r));
	r->section = section;
	r->sec_idx = section_index(section);
	r->order = cur_order;
	r->seq = row_seq++;
	r->met = -1;
	snprintf(r->cas, sizeof(r->cas), "%s", cas);
	return r;
}

static double ratio_of(const struct bench_row *r)
{
	if (r->base.med > 0 && r->fig.med > 0 && !r->base.err[0] && !r->fig.err[0])
		return r->fig.med / r->base.med;
	return 0;
}

/* Evaluate a bound "<= 1.3", "< 1", ">= 3", "<= 25 ns" on the row. */
static int target_met(const struct bench_row *r)
{
	char op[3] = "";
	double bound, v;
	int k = 0;

	while (k < 2 && (r->target[k] == '<' || r->target[k] == '>' || r->target[k] == '='))
		op[k] = r->target[k], k++;
	op[k] = 0;
	bound = strtod(r->target + k, NULL);
	v = strstr(r->target, "ns") ? r->fig.med : ratio_of(r);
	if (v <= 0 || r->fig.err[0] || !r->fig.n)
		return -1;
	if (!strcmp(op, "<="))
		return v <= bound;
	if (!strcmp(op, "<"))
		return v < bound;
	if (!strcmp(op, ">="))
		return v >= bound;
	if (!strcmp(op, ">"))
		return v > bound;
	return -1;
}

void bench_row(const char *section, const char *cas, const char *base_name, const struct bench_fig *base,
	       const char *name, const struct bench_fig *fig, const char *target, const char *source,
	       const char *note)
{
	struct bench_row *r = new_row(section, cas);

	snprintf(r->base_name, sizeof(r->base_name), "%s", base_name ? base_name : "");
	if (base)
		r->base = *base;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->fig = *fig;
	snprintf(r->source, sizeof(r->source), "%s", source ? source : "");
	snprintf(r->note, sizeof(r->note), "%s", note ? note : "");
	if (!target || !*target) {
		r->kind = ROW_PLAIN;
	} else if (!strcmp(target, "floor")) {
		r->kind = ROW_FLOOR;
	} else if (!strcmp(target, "ref")) {
		r->kind = ROW_REF;
	} else {
		r->kind = ROW_TARGET;
		snprintf(r->target, sizeof(r->target), "%s", target);
		r->met = target_met(r);
	}
	if (!bopt.json && !bopt.profile)
		fprintf(stderr, "  [%s] %s: %s\n", section, cas, name);
}

void bench_skip(const char *section, const char *cas, const char *name, const char *reason)
{
	struct bench_row *r = new_row(section, cas);
	r->kind = ROW_SKIP;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->note, sizeof(r->note), "%s", reason);
	if (!bopt.json)
		fprintf(stderr, "  [%s] %s: %s SKIPPED (%s)\n", section, cas, name, reason);
}

/* ---- the older interface ---- */

/* Spreads of the last medians taken through bench_median, so that
 * bench_add can print them beside figures it is given as plain numbers. */
static struct {
	double med, min, max;
	int n;
} recent[64];
static unsigned int nrecent;

double bench_median(double (*fn)(void *arg, long iters), void *arg, long iters)
{
	double v[64];
	int runs = bopt.runs < 64 ? bopt.runs : 64;

	fn(arg, iters / 10 + 1); /* warm up */
	for (int i = 0; i < runs; i++)
		v[i] = fn(arg, iters) / (double)iters;
	double m = median_of(v, runs);
	unsigned int k = nrecent++ % 64;
	recent[k].med = m;
	recent[k].min = v[0];
	recent[k].max = v[runs - 1];
	recent[k].n = runs;
	return m;
}

static struct bench_fig fig_lookup(double ns)
{
	struct bench_fig f = bench_fig_of(ns);
	for (unsigned int i = 0; i < 64 && i < nrecent; i++)
		if (recent[i].med == ns && ns > 0) {
			f.min = recent[i].min;
			f.max = recent[i].max;
			f.n = recent[i].n;
		}
	return f;
}

void bench_add(const char *section, const char *name, const char *base_name, double base_ns,
	       const char *sr_name, double sr_ns, const char *note)
{
	struct bench_fig b = fig_lookup(base_ns), s = fig_lookup(sr_ns);
	bench_row(section, name, base_name, base_ns > 0 ? &b : NULL, sr_name, &s, NULL, NULL, note);
}

/* ---- printing ---- */

static void fmt_val(char *buf, size_t n, double v, int unit)
{
	if (v <= 0)
		snprintf(buf, n, "-");
	else if (unit == BENCH_INSTR)
		snprintf(buf, n, "%.0f ins", v);
	else if (v < 10000)
		snprintf(buf, n, "%.1f ns", v);
	else if (v < 10000000)
		snprintf(buf, n, "%.1f us", v / 1000);
	else if (v < 10e9)
		snprintf(buf, n, "%.1f ms", v / 1e6);
	else
		snprintf(buf, n, "%.2f s", v / 1e9);
}

static void fmt_spread(char *buf, size_t n, const struct bench_fig *f)
{
	char a[24], b[24];
	if (f->n <= 1) {
		snprintf(buf, n, "%s", "");
		return;
	}
	fmt_val(a, sizeof(a), f->min, f->unit);
	fmt_val(b, sizeof(b), f->max, f->unit);
	snprintf(buf, n, "[%.20s - %.20s]", a, b);
}

static int cmp_rows(const void *x, const void *y)
{
	const struct bench_row *a = x, *b = y;
	if (a->sec_idx != b->sec_idx)
		return a->sec_idx - b->sec_idx;
	if (a->order != b->order)
		return a->order - b->order;
	return a->seq - b->seq;
}

static int same_block(const struct bench_row *a, const struct bench_row *b)
{
	return a && b && a->section == b->section && !strcmp(a->cas, b->cas) &&
	       !strcmp(a->base_name, b->base_name) && a->base.med == b->base.med;
}

static void print_fig_line(const char *label, const char *name, const struct bench_fig *f)
{
	char v[24], sp[48];
	fmt_val(v, sizeof(v), f->med, f->unit);
	fmt_spread(sp, sizeof(sp), f);
	if (f->err[0])
		printf("  %-9s %-46s %s (%s)", label, name, strcmp(f->err, "not profiled") ? "FAILED" : "-", f->err);
	else
		printf("  %-9s %-46s %11s %-27s", label, name, v, sp);
}

static void print_row_line(const struct bench_row *r)
{
	char ratio[48] = "", tgt[64] = "";
	double q = ratio_of(r);

	if (r->kind == ROW_SKIP) {
		printf("  %-9s %-46s SKIPPED (%s)\n", "", r->name, r->note);
		return;
	}
	print_fig_line(r->kind == ROW_FLOOR ? "floor" : r->kind == ROW_REF ? "ref" : "", r->name, &r->fig);
	if (r->fig.err[0]) {
		putchar('\n');
		return;
	}
	if (q > 0)
		snprintf(ratio, sizeof(ratio), "%.2fx", q);
	if (r->kind == ROW_TARGET)
		snprintf(tgt, sizeof(tgt), "target %s%s %s", r->target, strstr(r->target, "ns") ? "" : "x",
			 r->met == 1 ? "met" : r->met == 0 ? "NOT MET" : "(no figure)");
	printf(" %7s  %-24s", ratio, tgt);
	if (bopt.both_orders && r->base.med_fwd > 0 && r->base.med_rev > 0 && r->fig.med_fwd > 0 &&
	    r->fig.med_rev > 0)
		printf("  fwd %.2fx rev %.2fx", r->fig.med_fwd / r->base.med_fwd, r->fig.med_rev / r->base.med_rev);
	if (r->note[0])
		printf("  %s", r->note);
	if (r->source[0] && r->kind == ROW_TARGET)
		printf("  (%s)", r->source);
	putchar('\n');
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_fig(const char *prefix, const struct bench_fig *f)
{
	printf("\"%s_ns\": %.2f, \"%s_min\": %.2f, \"%s_max\": %.2f, \"%s_samples\": %d, ", prefix, f->med, prefix,
	       f->min, prefix, f->max, prefix, f->n);
	if (bopt.both_orders)
		printf("\"%s_fwd\": %.2f, \"%s_rev\": %.2f, ", prefix, f->med_fwd, prefix, f->med_rev);
}

static void print_json(void)
{
	static const char *kinds[] = {"figure", "target", "floor", "ref", "skipped"};
	printf("[\n");
	for (int i = 0; i < nrows; i++) {
		const struct bench_row *r = &rows[i];
		printf("  {\"section\": ");
		json_str(r->section);
		printf(", \"case\": ");
		json_str(r->cas);
		printf(", \"kind\": \"%s\", \"unit\": \"%s\", \"baseline\": ", kinds[r->kind],
		       r->fig.unit == BENCH_INSTR ? "instructions" : "ns");
		json_str(r->base_name);
		printf(", ");
		json_fig("baseline", &r->base);
		printf("\"sysring\": ");
		json_str(r->name);
		printf(", ");
		json_fig("sysring", &r->fig);
		printf("\"ratio\": %.3f, \"target\": ", ratio_of(r));
		json_str(r->target);
		printf(", \"met\": %s, \"source\": ", r->met < 0 ? "null" : r->met ? "true" : "false");
		json_str(r->source);
		printf(", \"error\": ");
		json_str(r->fig.err[0] ? r->fig.err : r->base.err);
		printf(", \"note\": ");
		json_str(r->note);
		printf("}%s\n", i + 1 < nrows ? "," : "");
	}
	printf("]\n");
}

/* The targets at a glance: one bar per row with a ratio target, on a log
 * scale, the target marked; green when met. */
static void svg_targets(const char *path)
{
	int n = 0;
	for (int i = 0; i < nrows; i++)
		n += rows[i].kind == ROW_TARGET && !strstr(rows[i].target, "ns") && ratio_of(&rows[i]) > 0;
	if (!n)
		return;
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	int h = 60 + 22 * n;
	const double lo = log10(0.05), hi = log10(50), x0 = 620, w = 440;
#define XPOS(v) (x0 + w * (log10(v) - lo) / (hi - lo))
	fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='1120' height='%d' font-family='sans-serif' "
		   "font-size='11'>\n<rect width='1120' height='%d' fill='white'/>\n",
		h, h);
	fprintf(f, "<text x='560' y='18' text-anchor='middle' font-size='14'>sysring / baseline (log scale; "
		   "black tick: target; green: met)</text>\n");
	static const double ticks[] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 25};
	for (unsigned int t = 0; t < sizeof(ticks) / sizeof(ticks[0]); t++) {
		double x = XPOS(ticks[t]);
		fprintf(f, "<line x1='%.1f' y1='30' x2='%.1f' y2='%d' stroke='%s'/>\n", x, x, h - 20,
			ticks[t] == 1 ? "#888" : "#e4e4e4");
		fprintf(f, "<text x='%.1f' y='%d' text-anchor='middle'>%gx</text>\n", x, h - 6, ticks[t]);
	}
	int k = 0;
	for (int i = 0; i < nrows; i++) {
		const struct bench_row *r = &rows[i];
		double q = ratio_of(r);
		if (r->kind != ROW_TARGET || strstr(r->target, "ns") || q <= 0)
			continue;
		double y = 36 + 22 * k++;
		double qb = q < 0.05 ? 0.05 : q > 50 ? 50 : q;
		double tb = strtod(r->target + strspn(r->target, "<>= "), NULL);
		char label[260];
		snprintf(label, sizeof(label), "%s: %.90s: %.60s vs %.60s", r->section, r->cas, r->name, r->base_name);
		fprintf(f, "<text x='%.0f' y='%.0f' text-anchor='end'>", x0 - 6, y + 12);
		for (const char *c = label; *c && c - label < 110; c++)
			fputs(*c == '<' ? "&lt;" : *c == '&' ? "&amp;" : *c == '>' ? "&gt;" : (char[2]){*c, 0}, f);
		fprintf(f, "</text>\n<rect x='%.1f' y='%.0f' width='%.1f' height='14' fill='%s'/>\n", XPOS(0.05), y + 2,
			XPOS(qb) - XPOS(0.05), r->met == 1 ? "#4caf50" : "#e05050");
		fprintf(f, "<text x='%.1f' y='%.0f'>%.2fx</text>\n", XPOS(qb) + 4, y + 13, q);
		if (tb > 0.05 && tb < 50)
			fprintf(f, "<line x1='%.1f' y1='%.0f' x2='%.1f' y2='%.0f' stroke='black' stroke-width='2'/>\n",
				XPOS(tb), y, XPOS(tb), y + 18);
	}
#undef XPOS
	fprintf(f, "</svg>\n");
	fclose(f);
	if (!bopt.json)
		fprintf(stderr, "  targets plot written to %s\n", path);
}

static double load_start;
static char sec_times[256]; /* "async 61 s, ring 3 s, ..." */

static double loadavg1(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

void bench_print(void)
{
	int met = 0, unmet = 0, nofig = 0;
	struct utsname u;

	if (bopt.profile) /* only the profiled figures were taken: they are on stderr */
		return;
	qsort(rows, (size_t)nrows, sizeof(*rows), cmp_rows);
	svg_targets("targets.svg");
	if (bopt.json) {
		print_json();
		return;
	}
	uname(&u);
	printf("\nsysring-bench: %d samples per figure%s, median [min - max] per operation; every sample in a "
	       "process of its own,\ncontenders interleaved round by round in %s order. %ld CPUs, Linux %s, "
	       "load average %.2f at the start, %.2f at the end.\n",
	       bopt.both_orders ? 2 * bopt.runs : bopt.runs, bopt.both_orders ? " (half of them in each order)" : "",
	       bopt.both_orders ? "alternating forward and reverse" : bopt.reverse ? "reverse" : "forward",
	       sysconf(_SC_NPROCESSORS_ONLN), u.release, load_start, loadavg1());
	const struct bench_row *prev = NULL;
	for (int i = 0; i < nrows; i++) {
		const struct bench_row *r = &rows[i];
		if (!prev || prev->sec_idx != r->sec_idx)
			printf("\n======== %s ========\n", r->section);
		if (!same_block(prev, r) || r->kind == ROW_SKIP) {
			int n = r->base.n ? r->base.n : r->fig.n;
			int want = bopt.both_orders ? 2 * bopt.runs : bopt.runs;
			if (r->kind != ROW_SKIP && n > 1 && n != want)
				printf("\n%s (%d samples each)\n", r->cas, n);
			else
				printf("\n%s\n", r->cas);
			if (r->base_name[0] && r->kind != ROW_SKIP) {
				print_fig_line("baseline", r->base_name, &r->base);
				putchar('\n');
			}
		}
		print_row_line(r);
		prev = r;
	}
	printf("\n======== targets (ratio = sysring / baseline, medians of the same run) ========\n\n");
	for (int i = 0; i < nrows; i++) {
		const struct bench_row *r = &rows[i];
		char v[24];
		if (r->kind != ROW_TARGET)
			continue;
		double q = ratio_of(r);
		met += r->met == 1;
		unmet += r->met == 0;
		nofig += r->met < 0;
		if (strstr(r->target, "ns"))
			fmt_val(v, sizeof(v), r->fig.med, r->fig.unit);
		else
			snprintf(v, sizeof(v), "%.2fx", q);
		char label[240];
		snprintf(label, sizeof(label), "%.95s: %.63s vs %.63s", r->cas, r->name, r->base_name);
		printf("  %-8s %-7s %-100.100s %9s  target %s%s", r->met == 1 ? "met" : r->met == 0 ? "NOT MET" : "-",
		       r->section, label, v, r->target, strstr(r->target, "ns") ? "" : "x");
		if (bopt.both_orders && r->base.med_fwd > 0 && r->base.med_rev > 0 && r->fig.med_fwd > 0 &&
		    r->fig.med_rev > 0)
			printf("  (fwd %.2fx, rev %.2fx)", r->fig.med_fwd / r->base.med_fwd,
			       r->fig.med_rev / r->base.med_rev);
		if (r->source[0])
			printf("  [%s]", r->source);
		putchar('\n');
	}
	printf("\n%d of %d targets met%s. Floors are lower bounds measured in the same run; instruction counts are "
	       "per call.\nPlots: targets.svg, batch.svg%s in the current directory. Time per section: %s.\n",
	       met, met + unmet + nofig, nofig ? " (the rest have no figure)" : "",
	       bench_section_enabled("tree") ? ", tree.svg" : "", sec_times);
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

/* ---- plots ---- */

void bench_svg_lines(const char *path, const char *title, const char *xlabel, const int *xs, int nx,
		     double (*series)[16], const char **names, int ns)
{
	FILE *f = fopen(path, "w");
	double ymax = 0;
	static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
	int xmin = xs[0], xmax = xs[nx - 1];
	if (!f)
		return;
	for (int s = 0; s < ns; s++)
		for (int i = 0; i < nx; i++)
			if (series[s][i] > ymax)
				ymax = series[s][i];
	ymax = ymax > 0 ? ymax * 1.1 : 1;
#define PX(x) (70 + 660.0 * ((x) - xmin) / (xmax > xmin ? xmax - xmin : 1))
	fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='760' height='460' font-family='sans-serif' "
		   "font-size='12'>\n<rect width='760' height='460' fill='white'/>\n");
	fprintf(f, "<text x='380' y='22' text-anchor='middle' font-size='15'>%s</text>\n", title);
	fprintf(f, "<line x1='70' y1='400' x2='730' y2='400' stroke='black'/>\n"
		   "<line x1='70' y1='40' x2='70' y2='400' stroke='black'/>\n");
	for (int t = 0; t <= 5; t++) {
		double y = 400 - t * 72.0, v = ymax * t / 5;
		fprintf(f, "<line x1='66' y1='%.0f' x2='730' y2='%.0f' stroke='#ddd'/>\n", y, y);
		fprintf(f, "<text x='62' y='%.0f' text-anchor='end'>%.0f</text>\n", y + 4, v);
	}
	for (int i = 0; i < nx; i++)
		fprintf(f, "<text x='%.0f' y='418' text-anchor='middle'>%d</text>\n", PX(xs[i]), xs[i]);
	fprintf(f, "<text x='400' y='445' text-anchor='middle'>%s</text>\n"
		   "<text x='18' y='220' transform='rotate(-90 18 220)' text-anchor='middle'>ns per call "
		   "(median)</text>\n",
		xlabel);
	for (int s = 0; s < ns; s++) {
		fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='", colors[s % 6]);
		for (int i = 0; i < nx; i++)
			if (series[s][i] > 0)
				fprintf(f, "%.1f,%.1f ", PX(xs[i]), 400 - 360.0 * series[s][i] / ymax);
		fprintf(f, "'/>\n<text x='560' y='%d' fill='%s'>%s</text>\n", 60 + 18 * s, colors[s % 6], names[s]);
	}
#undef PX
	fprintf(f, "</svg>\n");
	fclose(f);
}

/* ---- helpers ---- */

int bench_run_cmd(const char *const *argv, char *out, size_t outlen)
{
	int pfd[2], st;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	size_t got = 0;

	if (pipe(pfd))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	for (;;) {
		char sink[4096];
		char *dst = got + 1 < outlen ? out + got : sink;
		size_t room = got + 1 < outlen ? outlen - 1 - got : sizeof(sink);
		ssize_t n = read(pfd[0], dst, room);
		if (n <= 0)
			break;
		if (dst != sink)
			got += (size_t)n;
	}
	if (outlen)
		out[got] = 0;
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

double bench_async_rounds_min(void *ctxp, struct async_cb **cbs, int batch, long iters, long min_nr)
{
	async_context_t ctx = ctxp;
	struct async_event ev[64];
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i += batch) {
		if (async_submit(ctx, batch, cbs) != batch)
			abort();
		for (int got = 0; got < batch;) {
			long want = min_nr > 0 && min_nr < batch - got ? min_nr : batch - got;
			int n = async_getevents(ctx, want, 64, ev, NULL);
			if (n <= 0)
				abort();
			got += n;
		}
	}
	return (double)(bench_now() - t0);
}

double bench_async_rounds(void *ctxp, struct async_cb **cbs, int batch, long iters)
{
	return bench_async_rounds_min(ctxp, cbs, batch, iters, 0);
}

int bench_cached_file(size_t bytes)
{
	char path[512];
	int fd;
	char buf[4096];

	snprintf(path, sizeof(path), "%s/sysring-bench-XXXXXX", bopt.dir);
	fd = mkstemp(path);
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

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: sysring-bench [--quick] [--runs N] [--json] [--only SEC1,SEC2] [--reverse] [--both-orders]\n"
		"                     [--no-cold] [--tree-files N] [--dir DIR] [--full] [--profile PATTERN]\n"
		"  --quick         a tenth of the iterations, 3 samples per figure, a 30,000-file tree\n"
		"  --runs N        samples per figure (default 5; the median and min-max are printed)\n"
		"  --json          the rows as JSON on stdout\n"
		"  --only LIST     sections: async ring inline uring batch chan files tree\n"
		"  --reverse       run the contenders of every comparison, and the sections, in reverse order\n"
		"  --both-orders   N rounds in each order, alternating; prints the ratio of each order\n"
		"  --no-cold       skip the rows that drop the page cache\n"
		"  --tree-files N  files in the generated tree (default 170000)\n"
		"  --dir DIR       where files and trees are generated (default $SYSRING_BENCH_DIR or /var/tmp)\n"
		"  --full          chan's full message counts (by default a quarter: the section is long)\n"
		"  --profile PAT   run only the contenders whose \"case: name\" contains PAT, in this process\n"
		"                  (for perf record / strace -c; prints how many operations ran)\n");
}

struct section {
	const char *name;
	void (*fn)(void);
	double scale; /* its iterations, times --quick's; 0: 1 */
};

int main(int argc, char **argv)
{
	/* chan's one-way rows send a million messages per sample through
	 * five transports: a quarter of that keeps the whole run within
	 * minutes and still gives stable medians (--full: all of them). */
	static const struct section secs[] = {
		{"async", bench_async, 0}, {"ring", bench_ring, 0},   {"inline", bench_inline, 0},
		{"uring", bench_uring, 0}, {"batch", bench_batch, 0}, {"chan", bench_chan, 0.25},
		{"files", bench_files, 0}, {"tree", bench_tree, 0}};
	int full = 0;
	const int nsec = (int)(sizeof(secs) / sizeof(secs[0]));
	int tree_set = 0, runs = 0;

	bopt.dir = getenv("SYSRING_BENCH_DIR") ? getenv("SYSRING_BENCH_DIR") : "/var/tmp";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			bopt.scale = 0.1, bopt.runs = 3, bopt.quick = 1;
		else if (!strcmp(argv[i], "--json"))
			bopt.json = 1;
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			bopt.only = argv[++i];
		else if (!strcmp(argv[i], "--reverse"))
			bopt.reverse = 1;
		else if (!strcmp(argv[i], "--both-orders"))
			bopt.both_orders = 1;
		else if (!strcmp(argv[i], "--no-cold"))
			bopt.no_cold = 1;
		else if (!strcmp(argv[i], "--tree-files") && i + 1 < argc)
			bopt.tree_files = atol(argv[++i]), tree_set = 1;
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			bopt.dir = argv[++i];
		else if (!strcmp(argv[i], "--full"))
			full = 1;
		else if (!strcmp(argv[i], "--profile") && i + 1 < argc)
			bopt.profile = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage();
			return 0;
		} else {
			usage();
			return 2;
		}
	}
	if (runs) /* --runs wins over --quick's 3, whatever their order */
		bopt.runs = runs;
	if (bopt.runs < 1)
		bopt.runs = 1;
	if (bopt.runs > 32)
		bopt.runs = 32;
	bopt.cold_runs = runs || bopt.runs < 3 ? bopt.runs : 3;
	if (bopt.quick && !tree_set)
		bopt.tree_files = 30000;
	if (bopt.tree_files < 1000)
		bopt.tree_files = 1000;
	if (bopt.only) {
		/* an unknown section name is a mistake worth saying */
		char *copy = strdup(bopt.only), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			int ok = 0;
			for (int k = 0; k < nsec; k++)
				ok |= !strcmp(t, secs[k].name);
			if (!ok) {
				fprintf(stderr, "unknown section '%s'\n", t);
				usage();
				return 2;
			}
		}
		free(copy);
	}
	struct stat st;
	if (stat(bopt.dir, &st) || !S_ISDIR(st.st_mode) || access(bopt.dir, W_OK)) {
		fprintf(stderr, "sysring-bench: %s is not a writable directory (--dir)\n", bopt.dir);
		return 2;
	}
	load_start = loadavg1();
	for (int k = 0; k < nsec; k++) {
		const struct section *s = &secs[bopt.reverse ? nsec - 1 - k : k];
		if (!bench_section_enabled(s->name))
			continue;
		cur_sec_idx = section_index(s->name);
		cur_order = 0;
		if (!bopt.json)
			fprintf(stderr, "[%s]\n", s->name);
		bopt.sec_scale = s->scale > 0 && !full ? s->scale : 1.0;
		uint64_t t0 = bench_now();
		s->fn();
		bopt.sec_scale = 1.0;
		size_t l = strlen(sec_times);
		snprintf(sec_times + l, sizeof(sec_times) - l, "%s%s %.0f s", l ? ", " : "", s->name,
			 (double)(bench_now() - t0) / 1e9);
	}
	bench_print();
	return 0;
}

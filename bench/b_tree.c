/* SPDX-License-Identifier: MIT */
/*
 * A tree walk: the syslet walker (examples/sdu) against GNU du -s, gdu,
 * bfs and the same walk with plain sequential calls (sdu --plain), on a
 * tree the benchmark generates (by default 170,000 empty files in 170 x 10
 * directories: the size of the issue's tree; empty so that creating and
 * removing it stays cheap -- freeing 170,000 data blocks on a file system
 * mounted with discard took minutes here -- while every file still costs
 * its directory entry and its stat). Each tool runs as a command; the
 * figure is the wall time of one whole walk, warm and cold cache. The
 * tools must print the same total.
 *
 * Cold samples drop the page cache, dentries and inodes (root only;
 * SKIPPED otherwise), then start the tool once on an empty directory (or
 * with --version) before the timed run, so that loading the tool's binary
 * and libraries is not counted: the walk is.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define SUB 10
#define FILES 100

static char root[160], empty[160];
static long nfiles;

static void make_tree(void)
{
	char p[256];
	long top = bopt.tree_files / (SUB * FILES);
	if (top < 1)
		top = 1;
	nfiles = top * SUB * FILES;
	snprintf(root, sizeof(root), "%s/sysring-bench-tree-%d", bopt.dir, getpid());
	snprintf(empty, sizeof(empty), "%s/sysring-bench-empty-%d", bopt.dir, getpid());
	if (mkdir(root, 0755) || mkdir(empty, 0755))
		abort();
	for (long a = 0; a < top; a++) {
		snprintf(p, sizeof(p), "%s/a%03ld", root, a);
		mkdir(p, 0755);
		for (int b = 0; b < SUB; b++) {
			snprintf(p, sizeof(p), "%s/a%03ld/b%02d", root, a, b);
			mkdir(p, 0755);
			int dfd = open(p, O_RDONLY | O_DIRECTORY);
			for (int f = 0; f < FILES; f++) {
				char n[16];
				snprintf(n, sizeof(n), "f%03d", f);
				int fd = openat(dfd, n, O_WRONLY | O_CREAT | O_TRUNC, 0644);
				if (fd < 0)
					abort();
				close(fd);
			}
			close(dfd);
		}
	}
	sync(); /* no writeback during the measurements */
}

enum tool { T_DU, T_GDU, T_BFS, T_BFS_NAMES, T_SDU_PLAIN, T_SDU, NTOOLS };

struct tcase {
	const char *name;
	const char *argv[10];
	const char *prime[4]; /* run once before the timed run (not timed) */
	char out[256];
	long kib; /* the total it printed, KiB; -1: prints none */
};

static struct tcase tools[NTOOLS];

static void prime(struct tcase *t)
{
	char sink[64];
	if (t->prime[0])
		bench_run_cmd(t->prime, sink, sizeof(sink));
}

static double tool_run(void *arg, long iters)
{
	struct tcase *t = arg;
	uint64_t t0 = 0, sum = 0;

	for (long i = 0; i < iters; i++) {
		prime(t);
		t0 = bench_now();
		int st = bench_run_cmd(t->argv, t->out, sizeof(t->out));
		sum += bench_now() - t0;
		if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st))
			_exit(1); /* the sample fails with the tool */
	}
	return (double)sum;
}

/* du prints KiB, gdu bytes, sdu KiB; bfs nothing. */
static long total_kib(enum tool k, const char *out)
{
	if (k == T_BFS || k == T_BFS_NAMES)
		return -1;
	long v = atol(out);
	return k == T_GDU ? v / 1024 : v;
}

static void setup_tools(void)
{
	static const struct {
		const char *name;
		const char *argv[8];
		const char *prime[3];
	} defs[NTOOLS] = {
		[T_DU] = {"GNU du -s", {"/usr/bin/du", "-s", "@"}, {"/usr/bin/du", "--version"}},
		[T_GDU] = {"gdu -n -s (2 cores)",
			   {"/usr/bin/gdu", "-n", "-s", "-p", "-c", "--no-prefix", "@"},
			   {"/usr/bin/gdu", "--version"}},
		[T_BFS] = {"bfs -size +1G (stats all)", {"/usr/bin/bfs", "@", "-size", "+1G"}, {"/usr/bin/bfs", "--version"}},
		[T_BFS_NAMES] = {"bfs -printf '' (names only)", {"/usr/bin/bfs", "@", "-printf", ""}, {"/usr/bin/bfs", "--version"}},
		[T_SDU_PLAIN] = {"sdu --plain (sequential)", {SYSRING_SDU_PATH, "--plain", "@"}, {SYSRING_SDU_PATH, "--plain", "#"}},
		[T_SDU] = {"sdu (syslets)", {SYSRING_SDU_PATH, "@"}, {SYSRING_SDU_PATH, "#"}},
	};
	for (int k = 0; k < NTOOLS; k++) {
		struct tcase *t = &tools[k];
		memset(t, 0, sizeof(*t));
		t->name = defs[k].name;
		for (int i = 0; i < 8 && defs[k].argv[i]; i++)
			t->argv[i] = !strcmp(defs[k].argv[i], "@") ? root : defs[k].argv[i];
		for (int i = 0; i < 3 && defs[k].prime[i]; i++)
			t->prime[i] = !strcmp(defs[k].prime[i], "#") ? empty : defs[k].prime[i];
	}
}

static void svg_tree(const char *path, struct bench_fig f[2][NTOOLS], const int *have)
{
	FILE *fp = fopen(path, "w");
	double vmax = 0;
	if (!fp)
		return;
	for (int c = 0; c < 2; c++)
		for (int k = 0; k < NTOOLS; k++)
			if (have[k] && f[c][k].n && f[c][k].max > vmax)
				vmax = f[c][k].max;
	if (vmax <= 0) {
		fclose(fp);
		return;
	}
	fprintf(fp, "<svg xmlns='http://www.w3.org/2000/svg' width='760' height='%d' font-family='sans-serif' "
		    "font-size='12'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
		80 + 2 * NTOOLS * 20 + 40);
	fprintf(fp, "<text x='380' y='22' text-anchor='middle' font-size='14'>du of %ld files: seconds per walk "
		    "(median, min-max)</text>\n",
		nfiles);
	int y = 40;
	for (int c = 0; c < 2; c++) {
		fprintf(fp, "<text x='10' y='%d' font-weight='bold'>%s cache</text>\n", y + 12, c ? "cold" : "warm");
		y += 20;
		for (int k = 0; k < NTOOLS; k++) {
			double x0 = 240, w = 440, s = w / vmax;
			if (!have[k] || !f[c][k].n)
				continue;
			fprintf(fp, "<text x='232' y='%d' text-anchor='end'>%s</text>\n", y + 11, tools[k].name);
			fprintf(fp, "<rect x='%.0f' y='%d' width='%.1f' height='13' fill='%s'/>\n", x0, y,
				f[c][k].med * s, k == T_SDU ? "#2ca02c" : "#1f77b4");
			fprintf(fp, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='black'/>\n", x0 + f[c][k].min * s,
				y + 6, x0 + f[c][k].max * s, y + 6);
			fprintf(fp, "<text x='%.1f' y='%d'>%.2f s</text>\n", x0 + f[c][k].max * s + 6, y + 11,
				f[c][k].med / 1e9);
			y += 20;
		}
	}
	fprintf(fp, "</svg>\n");
	fclose(fp);
}

void bench_tree(void)
{
	struct bench_var v[NTOOLS];
	struct bench_fig f[2][NTOOLS];
	int have[NTOOLS], idx[NTOOLS], n = 0;
	char cas[2][96], note[160];
	const char *why = "";

	if (!bopt.json)
		fprintf(stderr, "  [tree] generating %ld files in %s...\n", bopt.tree_files, bopt.dir);
	uint64_t t0 = bench_now();
	make_tree();
	if (!bopt.json)
		fprintf(stderr, "  [tree] generated in %.1f s\n", (double)(bench_now() - t0) / 1e9);
	setup_tools();
	memset(v, 0, sizeof(v));
	memset(f, 0, sizeof(f));
	for (int k = 0; k < NTOOLS; k++) {
		have[k] = access(tools[k].argv[0], X_OK) == 0;
		if (!have[k])
			continue;
		/* One walk first: the totals must agree, and the warm rows
		 * start warm. */
		int st = bench_run_cmd(tools[k].argv, tools[k].out, sizeof(tools[k].out));
		if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			have[k] = 0;
			continue;
		}
		tools[k].kib = total_kib(k, tools[k].out);
		idx[k] = n;
		v[n].name = tools[k].name;
		v[n].arg = &tools[k];
		v[n].run = tool_run;
		n++;
	}
	long ref = have[T_DU] ? tools[T_DU].kib : -1;
	int agree = 1;
	snprintf(note, sizeof(note), "totals (KiB):");
	for (int k = 0; k < NTOOLS; k++)
		if (have[k] && tools[k].kib >= 0) {
			size_t l = strlen(note);
			snprintf(note + l, sizeof(note) - l, " %s %ld", k == T_DU ? "du" : k == T_GDU ? "gdu" : k == T_SDU ? "sdu" : "plain",
				 tools[k].kib);
			agree &= ref < 0 || tools[k].kib == ref;
		}
	{
		size_t l = strlen(note);
		snprintf(note + l, sizeof(note) - l, " %s", agree ? "agree" : "DISAGREE");
	}
	for (int c = 0; c < 2; c++)
		snprintf(cas[c], sizeof(cas[c]), "du of a %ld-file tree, %s cache, one whole walk", nfiles,
			 c ? "cold" : "warm");
	for (int k = 0; k < 2; k++) {
		int cold = bopt.reverse ? 1 - k : k;
		struct bench_fig out[NTOOLS];
		bench_set_order(cold);
		if (cold && (bopt.no_cold || !bench_can_drop_caches(&why))) {
			bench_skip("tree", cas[1], "every tool", bopt.no_cold ? "--no-cold" : why);
			continue;
		}
		/* Cold walks take seconds: bfs without stat (a reference, no
		 * target) is measured warm only. */
		struct bench_var vc[NTOOLS];
		int nc = 0, cidx[NTOOLS] = {0};
		for (int t = 0; t < NTOOLS; t++)
			if (have[t] && !(cold && t == T_BFS_NAMES)) {
				cidx[t] = nc;
				vc[nc++] = v[idx[t]];
			}
		bench_compare(cas[cold], vc, nc, 1, cold ? BENCH_COLD : BENCH_NOWARM | BENCH_LONG, out);
		for (int t = 0; t < NTOOLS; t++)
			if (have[t] && !(cold && t == T_BFS_NAMES))
				f[cold][t] = out[cidx[t]];
		if (!have[T_SDU])
			continue;
		static const int vs[] = {T_DU, T_GDU, T_BFS};
		for (int i = 0; i < 3; i++) {
			int t = vs[i];
			if (!have[t]) {
				bench_skip("tree", cas[cold], tools[t].name, "not installed (scripts/bench.sh installs it)");
				continue;
			}
			bench_row("tree", cas[cold], tools[t].name, &f[cold][t], tools[T_SDU].name, &f[cold][T_SDU], "< 1",
				  "bench/PROFILE.md", i == 0 ? note : "");
		}
		if (have[T_BFS_NAMES] && !cold)
			bench_row("tree", cas[cold], tools[T_BFS_NAMES].name, &f[cold][T_BFS_NAMES], tools[T_SDU].name,
				  &f[cold][T_SDU], "ref", NULL, "bfs without a stat per entry: less work than du");
		if (have[T_SDU_PLAIN])
			bench_row("tree", cas[cold], tools[T_SDU_PLAIN].name, &f[cold][T_SDU_PLAIN], tools[T_SDU].name,
				  &f[cold][T_SDU], NULL, NULL, "the same walk with plain calls");
	}
	bench_set_order(0);
	svg_tree("tree.svg", f, have);
	if (!bopt.json)
		fprintf(stderr, "  [tree] plot written to tree.svg; removing the tree...\n");
	char cmdline[400];
	snprintf(cmdline, sizeof(cmdline), "rm -rf '%s' '%s'", root, empty);
	if (system(cmdline))
		fprintf(stderr, "could not remove %s\n", root);
	sync();
}

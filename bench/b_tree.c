/* SPDX-License-Identifier: MIT */
/*
 * The syslet tree walker (examples/sdu) against GNU du -s and against the
 * same walk with plain sequential calls (sdu --plain), on a tree of 100,000
 * files the benchmark generates (100 x 10 directories of 100 files). Each is
 * run as a command; the figure is wall time per file, median of the runs,
 * with a warm page cache. The three must print the same total.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

#define TOP 100
#define SUB 10
#define FILES 100
#define NFILES (TOP * SUB * FILES)

static char root[64];

static void make_tree(void)
{
	char p[160];
	snprintf(root, sizeof(root), "/tmp/sysring-bench-tree-%d", getpid());
	mkdir(root, 0755);
	for (int a = 0; a < TOP; a++) {
		snprintf(p, sizeof(p), "%s/a%03d", root, a);
		mkdir(p, 0755);
		for (int b = 0; b < SUB; b++) {
			snprintf(p, sizeof(p), "%s/a%03d/b%02d", root, a, b);
			mkdir(p, 0755);
			int dfd = open(p, O_RDONLY | O_DIRECTORY);
			for (int f = 0; f < FILES; f++) {
				char n[16];
				snprintf(n, sizeof(n), "f%03d", f);
				int fd = openat(dfd, n, O_WRONLY | O_CREAT | O_TRUNC, 0644);
				if (fd < 0 || write(fd, "x", 1) != 1)
					abort();
				close(fd);
			}
			close(dfd);
		}
	}
	sync(); /* no writeback during the measurements */
}

struct cmd {
	const char *argv[4];
	char out[64];
};

/* Run a command with stdout captured; returns ns. */
static double run_cmd(void *arg, long iters)
{
	struct cmd *c = arg;
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i++) {
		int pfd[2];
		posix_spawn_file_actions_t fa;
		pid_t pid;
		if (pipe(pfd))
			abort();
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
		posix_spawn_file_actions_addclose(&fa, pfd[0]);
		if (posix_spawn(&pid, c->argv[0], &fa, NULL, (char **)c->argv, environ))
			abort();
		close(pfd[1]);
		ssize_t n = read(pfd[0], c->out, sizeof(c->out) - 1);
		c->out[n > 0 ? n : 0] = 0;
		close(pfd[0]);
		int st;
		waitpid(pid, &st, 0);
		posix_spawn_file_actions_destroy(&fa);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			abort();
	}
	return (double)(bench_now() - t0);
}

void bench_tree(void)
{
	struct cmd du = {{"/usr/bin/du", "-s", root, NULL}, ""};
	struct cmd plain = {{SYSRING_SDU_PATH, "--plain", root, NULL}, ""};
	struct cmd sl = {{SYSRING_SDU_PATH, root, NULL, NULL}, ""};
	char note[96];

	fprintf(stderr, "  [tree] generating %d files...\n", NFILES);
	make_tree();
	long iters = 1;
	double t_du = bench_median(run_cmd, &du, iters) / NFILES;
	double t_plain = bench_median(run_cmd, &plain, iters) / NFILES;
	double t_sl = bench_median(run_cmd, &sl, iters) / NFILES;
	long k_du = atol(du.out), k_plain = atol(plain.out), k_sl = atol(sl.out);
	snprintf(note, sizeof(note), "totals %ld/%ld/%ld KiB %s", k_du, k_plain, k_sl,
		 k_du == k_sl && k_plain == k_sl ? "agree" : "DISAGREE");
	bench_add("tree", "du -s of 100,000 files, per file", "GNU du -s", t_du, "sdu (syslets)", t_sl, note);
	bench_add("tree", "du -s of 100,000 files, per file", "sequential walker", t_plain, "sdu (syslets)", t_sl,
		  "same walk, plain calls");
	char cmdline[128];
	snprintf(cmdline, sizeof(cmdline), "rm -rf %s", root);
	if (system(cmdline))
		fprintf(stderr, "could not remove %s\n", root);
	sync();
}

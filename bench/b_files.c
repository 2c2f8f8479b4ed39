/* SPDX-License-Identifier: MIT */
/*
 * Many small files: stat of 10,000 files, and open+fstat+read+close of each
 * (as four async calls per file, and as one syslet per file), through
 * sysring against libuv's thread pool (uv_fs_*) and against plain
 * sequential calls, on a tree the benchmark generates (100 directories of
 * 100 files of 1 KiB), with the page cache warm and cold.
 *
 * Cold rows drop the page cache, dentries and inodes before each sample
 * (root only; SKIPPED otherwise). Every contender first runs its code once
 * on a separate set of 256 files (its set-up), so that a cold sample pays
 * for the tree's metadata and data, not for the contender's first use of
 * its own code and threads. Warm rows are preceded by a pass over the tree.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include <sysring.h>

#include "bench.h"

#define NFILES 10000
#define NWARM 256
#define WINDOW 256

static char (*tree_paths)[160], (*warm_paths)[160];
static char (*paths)[160]; /* the set the run functions work on */
static long npaths;
static char root[128];

static void make_files(char (*list)[160], int n, const char *sub)
{
	char buf[1024], dir[150];
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < n; i++) {
		if (i % 100 == 0) {
			snprintf(dir, sizeof(dir), "%.128s/%s%02d", root, sub, i / 100);
			mkdir(dir, 0755);
		}
		snprintf(list[i], sizeof(list[i]), "%s/f%03d", dir, i % 100);
		int fd = open(list[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			abort();
		close(fd);
	}
}

static void make_tree(void)
{
	snprintf(root, sizeof(root), "%s/sysring-bench-files-%d", bopt.dir, getpid());
	if (mkdir(root, 0755))
		abort();
	tree_paths = calloc(NFILES, sizeof(*tree_paths));
	warm_paths = calloc(NWARM, sizeof(*warm_paths));
	make_files(tree_paths, NFILES, "d");
	make_files(warm_paths, NWARM, "w");
	paths = tree_paths;
	npaths = NFILES;
	/* Write it all back now, so that writeback does not run during the
	 * measurements (on 2 cores it would take one of them). */
	sync();
}

static void remove_tree(void)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", root);
	free(tree_paths);
	free(warm_paths);
}

/* Read every file of the tree once: the warm rows start warm. */
static void warm_tree(void)
{
	static char rb[4096];
	for (int i = 0; i < NFILES; i++) {
		int fd = open(tree_paths[i], O_RDONLY);
		if (fd < 0 || read(fd, rb, sizeof(rb)) != 1024)
			abort();
		close(fd);
	}
}

/* ---- plain ---- */

static double plain_stat(void *arg, long iters)
{
	struct stat st;
	uint64_t t0 = bench_now(), sum = 0;
	(void)arg;
	for (long i = 0; i < iters; i++) {
		if (stat(paths[i % npaths], &st))
			abort();
		sum += (uint64_t)st.st_size;
	}
	if (sum != (uint64_t)iters * 1024)
		abort();
	return (double)(bench_now() - t0);
}

static double plain_ofrc(void *arg, long iters)
{
	static char rb[4096];
	struct stat st;
	uint64_t t0 = bench_now();
	(void)arg;
	for (long i = 0; i < iters; i++) {
		int fd = open(paths[i % npaths], O_RDONLY);
		if (fd < 0 || fstat(fd, &st) || read(fd, rb, sizeof(rb)) != 1024 || close(fd))
			abort();
	}
	return (double)(bench_now() - t0);
}

/* ---- libuv ---- */

struct uvjob {
	uv_fs_t req;
	long i;
	uv_file fd;
	char rb[4096];
	uv_buf_t ub;
};

static uv_loop_t loop;
static long uv_next, uv_done, uv_total;
static struct uvjob *uvjobs;

static void uv_stat_cb(uv_fs_t *req);

static void uv_stat_start(struct uvjob *j)
{
	j->i = uv_next++;
	uv_fs_stat(&loop, &j->req, paths[j->i % npaths], uv_stat_cb);
}

static void uv_stat_cb(uv_fs_t *req)
{
	struct uvjob *j = (struct uvjob *)req;
	if (req->result < 0 || req->statbuf.st_size != 1024)
		abort();
	uv_fs_req_cleanup(req);
	uv_done++;
	if (uv_next < uv_total)
		uv_stat_start(j);
}

/* Keep WINDOW libuv chains going until `iters` are done; returns ns. */
static double uv_window(void (*start)(struct uvjob *), long iters)
{
	uv_next = uv_done = 0;
	uv_total = iters;
	uint64_t t0 = bench_now();
	for (int k = 0; k < WINDOW && uv_next < uv_total; k++)
		start(&uvjobs[k]);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_done != iters)
		abort();
	return (double)(bench_now() - t0);
}

static double uv_stat_run(void *arg, long iters)
{
	(void)arg;
	return uv_window(uv_stat_start, iters);
}

static void uv_ofrc_open(struct uvjob *j);
static void uv_ofrc_cb(uv_fs_t *req);

static void uv_ofrc_open(struct uvjob *j)
{
	j->i = uv_next++;
	uv_fs_open(&loop, &j->req, paths[j->i % npaths], O_RDONLY, 0, uv_ofrc_cb);
}

static void uv_ofrc_cb(uv_fs_t *req)
{
	struct uvjob *j = (struct uvjob *)req;
	uv_fs_type t = req->fs_type;
	ssize_t r = req->result;
	uv_fs_req_cleanup(req);
	if (r < 0)
		abort();
	switch (t) { /* libuv request types, not call numbers */
	case UV_FS_OPEN:
		j->fd = (uv_file)r;
		uv_fs_fstat(&loop, &j->req, j->fd, uv_ofrc_cb);
		break;
	case UV_FS_FSTAT:
		j->ub = uv_buf_init(j->rb, sizeof(j->rb));
		uv_fs_read(&loop, &j->req, j->fd, &j->ub, 1, -1, uv_ofrc_cb);
		break;
	case UV_FS_READ:
		if (r != 1024)
			abort();
		uv_fs_close(&loop, &j->req, j->fd, uv_ofrc_cb);
		break;
	default:
		uv_done++;
		if (uv_next < uv_total)
			uv_ofrc_open(j);
	}
}

static double uv_ofrc_run(void *arg, long iters)
{
	(void)arg;
	return uv_window(uv_ofrc_open, iters);
}

/* ---- sysring ---- */

/* One job per file in flight. Its four cbs come first, so an event's cbp
 * leads back to its job by address arithmetic. */
struct srcb {
	long number;
	void *vargs[5];
};
struct srjob {
	struct srcb cb[4]; /* openat/stat, fstat, read, close: args by pointer */
	long stage;
	long fd, path, flags, zero, buf, len, stp, at;
	struct stat st;
	char rb[4096];
};

static struct srjob *srjobs;
static async_context_t sctx;

static struct srjob *job_of(struct async_cb *cbp)
{
	size_t off = (size_t)((char *)cbp - (char *)srjobs);
	return &srjobs[off / sizeof(struct srjob)];
}

static struct async_cb *cbof(struct srjob *j, int s)
{
	return (struct async_cb *)&j->cb[s];
}

static void set_cb(struct srcb *c, long nr, void *a0, void *a1, void *a2, void *a3)
{
	c->number = nr;
	c->vargs[0] = a0;
	c->vargs[1] = a1;
	c->vargs[2] = a2;
	c->vargs[3] = a3;
	c->vargs[4] = NULL;
}

static void jobs_init(int stat_mode)
{
	for (int k = 0; k < WINDOW; k++) {
		struct srjob *j = &srjobs[k];
		memset(j, 0, sizeof(*j));
		j->at = AT_FDCWD;
		j->flags = O_RDONLY;
		j->buf = (long)j->rb;
		j->len = sizeof(j->rb);
		j->stp = (long)&j->st;
		if (stat_mode)
			set_cb(&j->cb[0], SYS_stat, &j->path, &j->stp, NULL, NULL);
		else
			set_cb(&j->cb[0], SYS_openat, &j->at, &j->path, &j->flags, &j->zero);
		set_cb(&j->cb[1], SYS_fstat, &j->fd, &j->stp, NULL, NULL);
		set_cb(&j->cb[2], SYS_read, &j->fd, &j->buf, &j->len, NULL);
		set_cb(&j->cb[3], SYS_close, &j->fd, NULL, NULL, NULL);
	}
}

static double sr_stat_run(void *arg, long iters)
{
	struct async_event ev[WINDOW];
	struct async_cb *batch[WINDOW];
	long next = 0, done = 0;
	(void)arg;
	uint64_t t0 = bench_now();
	for (int k = 0; k < WINDOW && next < iters; k++) {
		srjobs[k].path = (long)paths[next++ % npaths];
		batch[k] = cbof(&srjobs[k], 0);
	}
	if (async_submit(sctx, (long)next, batch) != next)
		abort();
	while (done < iters) {
		/* a good handful at a time, not one: fewer wake-ups (as below) */
		long inflight = next - done < 32 ? next - done : 32;
		int got = async_getevents(sctx, inflight, WINDOW, ev, NULL), n = 0;
		for (int k = 0; k < got; k++) {
			struct srjob *j = job_of(ev[k].cbp);
			if (ev[k].res != 0 || j->st.st_size != 1024)
				abort();
			done++;
			if (next < iters) {
				j->path = (long)paths[next++ % npaths];
				batch[n++] = cbof(j, 0);
			}
		}
		if (n && async_submit(sctx, n, batch) != n)
			abort();
	}
	return (double)(bench_now() - t0);
}

/* open -> fstat -> read -> close, four separate async calls per file */
static double sr_ofrc_run(void *arg, long iters)
{
	struct async_event ev[WINDOW];
	struct async_cb *batch[WINDOW];
	long next = 0, done = 0;
	(void)arg;
	uint64_t t0 = bench_now();
	for (int k = 0; k < WINDOW && next < iters; k++) {
		srjobs[k].path = (long)paths[next++ % npaths];
		srjobs[k].stage = 0;
		batch[k] = cbof(&srjobs[k], 0);
	}
	if (async_submit(sctx, (long)next, batch) != next)
		abort();
	while (done < iters) {
		long inflight = next - done < 32 ? next - done : 32;
		int got = async_getevents(sctx, inflight, WINDOW, ev, NULL), n = 0;
		for (int k = 0; k < got; k++) {
			struct srjob *j = job_of(ev[k].cbp);
			if (ev[k].res < 0)
				abort();
			if (j->stage == 0)
				j->fd = ev[k].res;
			if (j->stage == 2 && ev[k].res != 1024)
				abort();
			if (++j->stage < 4) {
				batch[n++] = cbof(j, (int)j->stage);
				continue;
			}
			done++;
			if (next < iters) {
				j->path = (long)paths[next++ % npaths];
				j->stage = 0;
				batch[n++] = cbof(j, 0);
			}
		}
		if (n && async_submit(sctx, n, batch) != n)
			abort();
	}
	return (double)(bench_now() - t0);
}

/* ---- syslets: open -> fstat -> read -> close as one program per file ---- */

struct sljob {
	struct syslet_uatom a[4];
	long at, path, flags, zero, fd, stp, buf, len, r_open, r_fstat, r_read, r_close;
	struct stat st;
	char rb[4096];
};

static struct sljob *sljobs;

static void sljob_init(struct sljob *j)
{
	memset(j, 0, sizeof(*j));
	j->at = AT_FDCWD;
	j->flags = O_RDONLY;
	j->stp = (long)&j->st;
	j->buf = (long)j->rb;
	j->len = sizeof(j->rb);
	struct syslet_uatom *a = j->a;
	a[0].nr = SYS_openat;
	a[0].arg_ptr[0] = (unsigned long *)&j->at;
	a[0].arg_ptr[1] = (unsigned long *)&j->path;
	a[0].arg_ptr[2] = (unsigned long *)&j->flags;
	a[0].arg_ptr[3] = (unsigned long *)&j->zero;
	a[0].ret_ptr = &j->fd; /* the fd flows into the next three atoms */
	a[0].flags = SYSLET_STOP_ON_NEGATIVE;
	a[0].next = &a[1];
	a[1].nr = SYS_fstat;
	a[1].arg_ptr[0] = (unsigned long *)&j->fd;
	a[1].arg_ptr[1] = (unsigned long *)&j->stp;
	a[1].ret_ptr = &j->r_fstat;
	a[1].next = &a[2];
	a[2].nr = SYS_read;
	a[2].arg_ptr[0] = (unsigned long *)&j->fd;
	a[2].arg_ptr[1] = (unsigned long *)&j->buf;
	a[2].arg_ptr[2] = (unsigned long *)&j->len;
	a[2].ret_ptr = &j->r_read;
	a[2].next = &a[3];
	a[3].nr = SYS_close;
	a[3].arg_ptr[0] = (unsigned long *)&j->fd;
	a[3].ret_ptr = &j->r_close;
}

static void sljob_check(struct sljob *j)
{
	if (j->fd < 0 || j->r_fstat || j->r_read != 1024 || j->r_close || j->st.st_size != 1024)
		abort();
}

static double syslet_ofrc_run(void *arg, long iters)
{
	static struct syslet_uatom *ring[WINDOW];
	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	long next = 0, done = 0, inflight = 0;
	unsigned long ridx = 0;
	(void)arg;
	if (async_register(&ahu, sizeof(ahu)))
		abort();
	for (int k = 0; k < WINDOW; k++)
		sljob_init(&sljobs[k]);
	uint64_t t0 = bench_now();
	int k = 0;
	while (done < iters) {
		/* fill the window; cached ones complete right here */
		while (next < iters && inflight < WINDOW) {
			struct sljob *j = &sljobs[k];
			k = (k + 1) % WINDOW;
			if (j->path)
				continue; /* still in flight */
			j->path = (long)paths[next++ % npaths];
			if (async_exec(&j->a[0])) {
				sljob_check(j);
				j->path = 0;
				done++;
			} else {
				inflight++;
			}
		}
		if (!inflight)
			continue;
		/* wait for a good handful, not one: fewer wake-ups */
		if (async_wait(inflight < 32 ? (unsigned long)inflight : 32) < 0)
			abort();
		while (ring[ridx]) {
			struct syslet_uatom *end = ring[ridx];
			ring[ridx] = NULL;
			ridx = (ridx + 1) % WINDOW;
			/* the ending atom is one of j->a[0..3]: find its job */
			struct sljob *j = &sljobs[((char *)end - (char *)sljobs) / (long)sizeof(struct sljob)];
			sljob_check(j);
			j->path = 0;
			inflight--;
			done++;
		}
	}
	uint64_t t = bench_now() - t0;
	async_unregister(&ahu, sizeof(ahu));
	return (double)t;
}

/* ---- the contenders ---- */

enum fkind { F_PLAIN, F_UV, F_SR_AUTO, F_SR_THREADS, F_SR_URING, F_SYSLET, NKINDS };

static const char *const fnames[NKINDS] = {"plain sequential", "libuv uv_fs_* (4 pool threads)",
					   "sysring auto",     "sysring threads",
					   "sysring uring",    "one syslet per file"};

struct fcase {
	int kind;
	int stat; /* 1: stat each file; 0: open+fstat+read+close */
};

static double file_run(void *arg, long iters)
{
	struct fcase *c = arg;
	switch (c->kind) {
	case F_PLAIN:
		return c->stat ? plain_stat(NULL, iters) : plain_ofrc(NULL, iters);
	case F_UV:
		return c->stat ? uv_stat_run(NULL, iters) : uv_ofrc_run(NULL, iters);
	case F_SYSLET:
		return syslet_ofrc_run(NULL, iters);
	default:
		return c->stat ? sr_stat_run(NULL, iters) : sr_ofrc_run(NULL, iters);
	}
}

static void file_setup(void *arg)
{
	struct fcase *c = arg;
	struct sysring_params prm;

	switch (c->kind) {
	case F_UV:
		uv_loop_init(&loop);
		uvjobs = calloc(WINDOW, sizeof(*uvjobs));
		break;
	case F_SR_AUTO:
	case F_SR_THREADS:
	case F_SR_URING:
		sysring_params_init(&prm);
		prm.engine = c->kind == F_SR_AUTO	? SYSRING_ENGINE_AUTO
			     : c->kind == F_SR_THREADS ? SYSRING_ENGINE_THREADS
						       : SYSRING_ENGINE_URING;
		if (sysring_setup(WINDOW * 4, &prm, &sctx))
			abort();
		srjobs = calloc(WINDOW, sizeof(*srjobs));
		jobs_init(c->stat);
		break;
	case F_SYSLET:
		sljobs = calloc(WINDOW, sizeof(*sljobs));
		break;
	default:
		break;
	}
	/* The contender's code, threads and rings in use once, on other files. */
	paths = warm_paths;
	npaths = NWARM;
	file_run(arg, NWARM);
	paths = tree_paths;
	npaths = NFILES;
}

static void file_teardown(void *arg)
{
	struct fcase *c = arg;
	switch (c->kind) {
	case F_UV:
		uv_loop_close(&loop);
		free(uvjobs);
		break;
	case F_SR_AUTO:
	case F_SR_THREADS:
	case F_SR_URING:
		async_destroy(sctx);
		free(srjobs);
		break;
	case F_SYSLET:
		free(sljobs);
		break;
	default:
		break;
	}
}

static void workload(int stat, int cold)
{
	struct fcase c[NKINDS];
	struct bench_var v[NKINDS];
	struct bench_fig f[NKINDS];
	int n = stat ? F_SYSLET : NKINDS; /* no syslet contender for stat */
	char cas[96];
	const char *why;

	snprintf(cas, sizeof(cas), "%s x 10,000 files, %s cache", stat ? "stat" : "open+fstat+read+close",
		 cold ? "cold" : "warm");
	if (cold && (bopt.no_cold || !bench_can_drop_caches(&why))) {
		bench_skip("files", cas, "every contender", bopt.no_cold ? "--no-cold" : why);
		return;
	}
	memset(v, 0, sizeof(v));
	memset(f, 0, sizeof(f));
	/* Cold samples take seconds: the engines forced to threads or uring
	 * (no target, for information) are measured warm only. */
	int idx[NKINDS], nv = 0;
	for (int i = 0; i < n; i++) {
		if (cold && (i == F_SR_THREADS || i == F_SR_URING))
			continue;
		c[nv].kind = i;
		c[nv].stat = stat;
		v[nv].name = fnames[i];
		v[nv].arg = &c[nv];
		v[nv].run = file_run;
		v[nv].setup = file_setup;
		v[nv].teardown = file_teardown;
		idx[nv++] = i;
	}
	if (!cold)
		warm_tree();
	struct bench_fig got[NKINDS];
	bench_compare(cas, v, nv, NFILES, cold ? BENCH_COLD : 0, got);
	for (int k = 0; k < nv; k++)
		f[idx[k]] = got[k];
	const char *src = "bench/PROFILE.md";
	bench_row("files", cas, fnames[F_PLAIN], &f[F_PLAIN], fnames[F_SR_AUTO], &f[F_SR_AUTO], "< 1", src,
		  stat ? "" : "4 async calls per file");
	if (!stat)
		bench_row("files", cas, fnames[F_PLAIN], &f[F_PLAIN], fnames[F_SYSLET], &f[F_SYSLET], "< 1", src,
			  "the fd flows open -> fstat/read/close");
	if (!cold) {
		bench_row("files", cas, fnames[F_PLAIN], &f[F_PLAIN], fnames[F_SR_THREADS], &f[F_SR_THREADS], NULL,
			  NULL, "");
		bench_row("files", cas, fnames[F_PLAIN], &f[F_PLAIN], fnames[F_SR_URING], &f[F_SR_URING], NULL, NULL,
			  "");
		/* the figure behind auto's choice (docs/engines.md, the README) */
		if (stat)
			bench_row("files", cas, fnames[F_SR_URING], &f[F_SR_URING], fnames[F_SR_THREADS],
				  &f[F_SR_THREADS], NULL, NULL, "why auto runs statx on its threads");
	}
	bench_row("files", cas, fnames[F_PLAIN], &f[F_PLAIN], fnames[F_UV], &f[F_UV], "ref", NULL, "");
	bench_row("files", cas, fnames[F_UV], &f[F_UV], fnames[F_SR_AUTO], &f[F_SR_AUTO], "< 1", src, "");
	if (!stat) {
		bench_row("files", cas, fnames[F_UV], &f[F_UV], fnames[F_SYSLET], &f[F_SYSLET], "< 1", src, "");
		bench_row("files", cas, fnames[F_SR_AUTO], &f[F_SR_AUTO], fnames[F_SYSLET], &f[F_SYSLET], NULL, NULL,
			  "one syslet against 4 separate async calls");
	}
}

void bench_files(void)
{
	if (!bopt.json)
		fprintf(stderr, "  [files] generating %d files in %s...\n", NFILES + NWARM, bopt.dir);
	make_tree();
	/* warm and cold, in the run order */
	for (int k = 0; k < 4; k++) {
		int i = bopt.reverse ? 3 - k : k;
		bench_set_order(i);
		workload(i == 0 || i == 2, i >= 2);
	}
	remove_tree();
	sync();
}

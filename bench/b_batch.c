/* SPDX-License-Identifier: MIT */
/*
 * Batches: Batchsys's benchmark shape (10,000 writes of 1 KiB) with the same
 * work for every row (appends to a fresh O_TMPFILE each), and the per-call
 * cost of batches of 1..72 cheap calls on each executor against plain calls,
 * printed and drawn as an SVG plot (batch.svg in the current directory).
 */
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sysring/batchsys.h>

#include "bench.h"

static char data[1024];

static int tmpfile_fd(void)
{
	int fd = open("/tmp", O_TMPFILE | O_WRONLY, 0600);
	if (fd < 0)
		abort();
	return fd;
}

/* ---- 10,000 writes of 1 KiB ---- */

static double w_plain(void *arg, long iters)
{
	(void)arg;
	int fd = tmpfile_fd();
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i++)
		if (write(fd, data, sizeof(data)) != sizeof(data))
			abort();
	double t = (double)(bench_now() - t0);
	close(fd);
	return t;
}

struct bcase {
	int h;
	unsigned int flags;
	int nr;       /* SYS_write to devnull, SYS_getppid, or 0 for the 1 KiB appends */
	int fd;
	int batch_len;
};

static double w_batch(void *arg, long iters)
{
	struct bcase *c = arg;
	batchsys_batch_t *b = batchsys_batch_alloc(c->h);
	int fd = tmpfile_fd();
	sysring_batch_set_flags(c->h, c->flags);
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters;) {
		while (i < iters && batchsys_push_write(b, fd, data, sizeof(data)))
			i++;
		if (batchsys_post_batch(c->h, b) != (int)b->params.incoming.count)
			abort();
		batchsys_batch_reset(b);
	}
	double t = (double)(bench_now() - t0);
	batchsys_close_fd(c->h, fd);
	batchsys_batch_free(b);
	return t;
}

static double w_uring(void *arg, long iters)
{
	struct io_uring ring;
	int fd = tmpfile_fd();
	(void)arg;
	io_uring_queue_init(BATCHSYS_MAX_RESULTS, &ring, 0);
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters;) {
		unsigned int n = 0;
		for (; n < BATCHSYS_MAX_RESULTS && i < iters; n++, i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			/* offset -1: append at the file position, like the others;
			 * linked so that they append in order */
			io_uring_prep_write(sqe, fd, data, sizeof(data), (__u64)-1);
			sqe->flags |= IOSQE_IO_HARDLINK;
		}
		io_uring_submit_and_wait(&ring, n);
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			if (cqe->res != sizeof(data))
				abort();
			seen++;
		}
		io_uring_cq_advance(&ring, seen);
	}
	double t = (double)(bench_now() - t0);
	io_uring_queue_exit(&ring);
	close(fd);
	return t;
}

/* Batchsys's own io_uring row (src/benchmarks.cpp): every write at offset
 * 0 of its file, unlinked, submitted when the SQ is full. It overwrites one
 * cached page instead of appending, so it does less work than the rows
 * above; shown because the target is stated against it. */
static double w_uring_off0(void *arg, long iters)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	int fd = tmpfile_fd();
	long outstanding = 0;
	(void)arg;
	io_uring_queue_init(BATCHSYS_MAX_RESULTS, &ring, 0);
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		if (!sqe) {
			io_uring_submit(&ring);
			while (!io_uring_peek_cqe(&ring, &cqe)) {
				if (cqe->res != sizeof(data))
					abort();
				io_uring_cqe_seen(&ring, cqe);
				outstanding--;
			}
			sqe = io_uring_get_sqe(&ring);
		}
		io_uring_prep_write(sqe, fd, data, sizeof(data), 0);
		outstanding++;
	}
	if (outstanding)
		io_uring_submit(&ring);
	while (outstanding) {
		if (io_uring_wait_cqe(&ring, &cqe) || cqe->res != sizeof(data))
			abort();
		io_uring_cqe_seen(&ring, cqe);
		outstanding--;
	}
	double t = (double)(bench_now() - t0);
	io_uring_queue_exit(&ring);
	close(fd);
	return t;
}

/* ---- batches of cheap calls ---- */

static double cheap_plain(void *arg, long iters)
{
	struct bcase *c = arg;
	static char one = 'x';
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i++) {
		if (c->nr == SYS_write) {
			if (write(c->fd, &one, 1) != 1)
				abort();
		} else {
			getppid();
		}
	}
	return (double)(bench_now() - t0);
}

static double cheap_batch(void *arg, long iters)
{
	struct bcase *c = arg;
	static char one = 'x';
	batchsys_batch_t *b = batchsys_batch_alloc(c->h);
	sysring_batch_set_flags(c->h, c->flags);
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i += c->batch_len) {
		for (int k = 0; k < c->batch_len; k++) {
			if (c->nr == SYS_write)
				batchsys_push_write(b, c->fd, &one, 1);
			else
				batchsys_push_syscall(b, SYS_getppid, 0);
		}
		if (batchsys_post_batch(c->h, b) != c->batch_len)
			abort();
		batchsys_batch_reset(b);
	}
	double t = (double)(bench_now() - t0);
	batchsys_batch_free(b);
	return t;
}

static void svg_plot(const char *path, const char *title, const int *xs, int nx, double series[][72],
		     const char **names, int ns)
{
	FILE *f = fopen(path, "w");
	double ymax = 0;
	static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
	if (!f)
		return;
	for (int s = 0; s < ns; s++)
		for (int i = 0; i < nx; i++)
			if (series[s][i] > ymax)
				ymax = series[s][i];
	ymax *= 1.1;
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
	for (int i = 0; i < nx; i++) {
		double x = 70 + 660.0 * (xs[i] - 1) / 71.0;
		fprintf(f, "<text x='%.0f' y='418' text-anchor='middle'>%d</text>\n", x, xs[i]);
	}
	fprintf(f, "<text x='400' y='445' text-anchor='middle'>calls per batch</text>\n"
		   "<text x='18' y='220' transform='rotate(-90 18 220)' text-anchor='middle'>ns per call</text>\n");
	for (int s = 0; s < ns; s++) {
		fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='", colors[s % 6]);
		for (int i = 0; i < nx; i++)
			if (series[s][i] > 0)
				fprintf(f, "%.1f,%.1f ", 70 + 660.0 * (xs[i] - 1) / 71.0,
					400 - 360.0 * series[s][i] / ymax);
		fprintf(f, "'/>\n<text x='600' y='%d' fill='%s'>%s</text>\n", 60 + 18 * s, colors[s % 6], names[s]);
	}
	fprintf(f, "</svg>\n");
	fclose(f);
}

void bench_batch(void)
{
	struct bcase c = {0};
	char note[96];
	memset(data, 'a', sizeof(data));
	c.h = batchsys_open();
	if (c.h < 0)
		abort();

	/* Batchsys's shape, same work on every row */
	long n = bench_iters(10000);
	double p = bench_median(w_plain, NULL, n);
	double u = bench_median(w_uring, NULL, n);
	c.flags = 0;
	double ba = bench_median(w_batch, &c, n);
	c.flags = SYSRING_BATCHSYS_EXEC_LOOP;
	double bl = bench_median(w_batch, &c, n);
	c.flags = SYSRING_BATCHSYS_EXEC_LOOP | SYSRING_BATCHSYS_NO_MERGE;
	double bn = bench_median(w_batch, &c, n);
	c.flags = SYSRING_BATCHSYS_EXEC_URING;
	double bu = bench_median(w_batch, &c, n);
	double u0 = bench_median(w_uring_off0, NULL, n);
	snprintf(note, sizeof(note), "target: <= raw io_uring (%.2fx of it)", ba / u);
	bench_add("batch", "10,000 x write 1 KiB (append), auto", "raw io_uring, 72/submit", u,
		  "batchsys post (auto)", ba, note);
	snprintf(note, sizeof(note), "target: <= Batchsys's io_uring row (%.2fx of it)", ba / u0);
	bench_add("batch", "10,000 x write 1 KiB, Batchsys's io_uring row", "io_uring, offset 0, unlinked", u0,
		  "batchsys post (auto)", ba, note);
	bench_add("batch", "10,000 x write 1 KiB (append), loop", "one call per push", bn,
		  "merged runs (writev)", bl, "what merging gains");
	bench_add("batch", "10,000 x write 1 KiB (append), auto", "plain write", p, "batchsys post (auto)", ba, "");
	bench_add("batch", "10,000 x write 1 KiB (append), loop", "plain write", p, "batchsys post (loop)", bl, "");
	bench_add("batch", "10,000 x write 1 KiB (append), uring", "plain write", p, "batchsys post (uring)", bu, "");
	c.flags = SYSRING_BATCHSYS_EXEC_URING | SYSRING_BATCHSYS_UNCHECKED_CACHE;
	double bun = bench_median(w_batch, &c, n);
	bench_add("batch", "10,000 x write 1 KiB, uring, fd cache unchecked", "uring, checked cache", bu,
		  "uring, unchecked cache", bun, "what the per-post fd check costs");

	/* batches of 1..72 cheap calls */
	static const int lens[] = {1, 2, 4, 8, 16, 24, 32, 48, 64, 72};
	const int nl = (int)(sizeof(lens) / sizeof(lens[0]));
	static double series[6][72];
	const char *names[6] = {"write 1B /dev/null: plain", "write: batch loop", "write: batch io_uring",
				"getppid: plain", "getppid: batch loop", "write: batch auto"};
	int devnull = open("/dev/null", O_WRONLY);
	c.fd = devnull;
	for (int k = 0; k < 2; k++) {
		c.nr = k == 0 ? SYS_write : SYS_getppid;
		double pl = bench_median(cheap_plain, &c, bench_iters(72 * 2000));
		for (int i = 0; i < nl; i++) {
			c.batch_len = lens[i];
			long it = bench_iters(72 * 2000) / lens[i] * lens[i];
			c.flags = SYSRING_BATCHSYS_EXEC_LOOP;
			double lo = bench_median(cheap_batch, &c, it);
			double ur = 0, au = 0;
			if (k == 0) {
				c.flags = SYSRING_BATCHSYS_EXEC_URING;
				ur = bench_median(cheap_batch, &c, it);
				c.flags = 0;
				au = bench_median(cheap_batch, &c, it);
				series[0][i] = pl, series[1][i] = lo, series[2][i] = ur, series[5][i] = au;
			} else {
				series[3][i] = pl, series[4][i] = lo;
			}
			char name[96];
			snprintf(name, sizeof(name), "%s, batch of %d", k == 0 ? "write 1 B /dev/null" : "getppid",
				 lens[i]);
			if (lens[i] == 1 || lens[i] == 8 || lens[i] == 32 || lens[i] == 72) {
				bench_add("batch", name, "plain calls", pl, "batch, loop", lo, "");
				if (k == 0) {
					bench_add("batch", name, "plain calls", pl, "batch, io_uring", ur, "");
					bench_add("batch", name, "plain calls", pl, "batch, auto", au, "");
				}
			}
		}
	}
	close(devnull);
	svg_plot("batch.svg", "sysring batches: ns per call vs batch length (median)", lens, nl, series, names, 6);
	fprintf(stderr, "  [batch] plot written to batch.svg\n");
	batchsys_close(c.h);
	sync(); /* leave no writeback behind for the next section */
}

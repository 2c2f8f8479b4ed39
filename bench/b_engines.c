/* SPDX-License-Identifier: MIT */
/*
 * Engines: inline completion against the plain call, and the uring engine
 * against raw liburing doing the same batches, plus the io_uring options
 * (completion delivery by the reaper alone or by waiters too, SQPOLL).
 */
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sysring.h>

#include "bench.h"

static char buf[4096];

struct icase {
	async_context_t ctx;
	struct async_cb *cb;
	long nr, a[4];
};

static double inline_plain(void *arg, long iters)
{
	struct icase *c = arg;
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i++)
		syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3]);
	return (double)(bench_now() - t0);
}

static double inline_async(void *arg, long iters)
{
	struct icase *c = arg;
	struct async_event ev;
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i++) {
		if (async_submit(c->ctx, 1, &c->cb) != 1 || async_check_events(c->ctx, 1, 1, &ev, NULL) != 1)
			abort();
	}
	return (double)(bench_now() - t0);
}

static async_context_t mk_ctx(int engine, int inline_calls, unsigned flags)
{
	struct sysring_params p;
	async_context_t ctx;
	sysring_params_init(&p);
	p.engine = (uint32_t)engine;
	p.inline_calls = inline_calls;
	p.flags = flags;
	if (sysring_setup(256, &p, &ctx))
		abort();
	return ctx;
}

static double cached_syslet(void *arg, long iters)
{
	struct syslet_uatom *a = arg;
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i++)
		if (async_exec(a) != a)
			abort();
	return (double)(bench_now() - t0);
}

static void bench_inline(int file)
{
	struct icase c = {0};
	c.ctx = mk_ctx(SYSRING_ENGINE_AUTO, 1, 0);

	c.nr = SYS_getppid;
	c.cb = async_cb_new(c.nr, 0);
	double p = bench_median(inline_plain, &c, bench_iters(500000));
	double s = bench_median(inline_async, &c, bench_iters(500000));
	bench_add("inline", "getppid, completed on the caller", "plain syscall", p,
		  "auto: submit+check_events", s, "target <= 1.3x");
	async_cb_free(c.cb);

	/* a cached syslet of one cheap atom */
	static struct syslet_uatom *ring[64];
	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	struct syslet_uatom atom;
	long r;
	memset(&atom, 0, sizeof(atom));
	atom.nr = SYS_getppid;
	atom.ret_ptr = &r;
	if (async_register(&ahu, sizeof(ahu)))
		abort();
	s = bench_median(cached_syslet, &atom, bench_iters(500000));
	async_unregister(&ahu, sizeof(ahu));
	bench_add("inline", "getppid as a cached syslet (one atom)", "plain syscall", p, "async_exec", s,
		  "target <= 1.3x");

	c.nr = SYS_pread64;
	c.a[0] = file;
	c.a[1] = (long)buf;
	c.a[2] = 4096;
	c.a[3] = 0;
	c.cb = async_cb_new(c.nr, 4, c.a[0], c.a[1], c.a[2], c.a[3]);
	p = bench_median(inline_plain, &c, bench_iters(200000));
	s = bench_median(inline_async, &c, bench_iters(200000));
	bench_add("inline", "pread 4 KiB cached (RWF_NOWAIT attempt)", "plain pread", p,
		  "auto: submit+check_events", s, "preadv2 NOWAIT costs a little more");
	async_cb_free(c.cb);
	async_destroy(c.ctx);
}

/* ---- uring engine vs raw liburing ---- */

struct ucase {
	int batch;
	int fd;
	long nr; /* SYS_write (1 byte) or SYS_pread64 (4 KiB) */
	struct io_uring ring;
	async_context_t ctx;
	struct async_cb *cbs[64];
};

static double raw_uring(void *arg, long iters)
{
	struct ucase *c = arg;
	uint64_t t0 = bench_now();
	for (long i = 0; i < iters; i += c->batch) {
		for (int k = 0; k < c->batch; k++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);
			if (c->nr == SYS_write)
				io_uring_prep_write(sqe, c->fd, buf, 1, (__u64)-1);
			else
				io_uring_prep_read(sqe, c->fd, buf, 4096, 0);
			io_uring_sqe_set_data64(sqe, (uint64_t)k);
		}
		io_uring_submit_and_wait(&c->ring, (unsigned)c->batch);
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&c->ring, head, cqe)
		{
			if (cqe->res < 0)
				abort();
			seen++;
		}
		io_uring_cq_advance(&c->ring, seen);
		if (seen != (unsigned)c->batch)
			abort();
	}
	return (double)(bench_now() - t0);
}

static double sr_batch(void *arg, long iters)
{
	struct ucase *c = arg;
	return bench_async_rounds(c->ctx, c->cbs, c->batch, iters);
}

static void uring_rows(const char *what, long nr, int fd, long iters)
{
	static const int batches[] = {1, 8, 64};
	struct ucase c;

	for (unsigned b = 0; b < 3; b++) {
		char name[96], note[96];
		memset(&c, 0, sizeof(c));
		c.batch = batches[b];
		c.fd = fd;
		c.nr = nr;
		io_uring_queue_init(128, &c.ring, 0);
		for (int k = 0; k < 64; k++)
			c.cbs[k] = nr == SYS_write ? async_cb_new(nr, 3, (long)fd, (long)buf, 1L)
						   : async_cb_new(nr, 4, (long)fd, (long)buf, 4096L, 0L);
		double raw = bench_median(raw_uring, &c, iters);
		c.ctx = mk_ctx(SYSRING_ENGINE_URING, 0, SYSRING_F_REAPER_ONLY);
		double thr = bench_median(sr_batch, &c, iters);
		async_destroy(c.ctx);
		c.ctx = mk_ctx(SYSRING_ENGINE_URING, 0, 0);
		double both = bench_median(sr_batch, &c, iters);
		async_destroy(c.ctx);
		snprintf(name, sizeof(name), "%s, batch %d", what, c.batch);
		snprintf(note, sizeof(note), "target <= 1.1x");
		bench_add("uring", name, "raw liburing", raw, "uring (default)", both, note);
		bench_add("uring", name, "raw liburing", raw, "uring, reaper alone", thr,
			  "SYSRING_REAP=thread");
		if (c.batch == 64) {
			c.ctx = mk_ctx(SYSRING_ENGINE_URING, 0, SYSRING_F_SQPOLL);
			double sq = bench_median(sr_batch, &c, iters);
			async_destroy(c.ctx);
			bench_add("uring", name, "raw liburing", raw, "uring + SQPOLL", sq,
				  "SQPOLL kernel thread on 2 cores");
		}
		for (int k = 0; k < 64; k++)
			async_cb_free(c.cbs[k]);
		io_uring_queue_exit(&c.ring);
	}
}

void bench_engines(void)
{
	int file = bench_cached_file(1 << 20);
	int devnull = open("/dev/null", O_WRONLY);

	bench_inline(file);
	uring_rows("write 1 B to /dev/null", SYS_write, devnull, bench_iters(64 * 4000));
	uring_rows("pread 4 KiB, cached", SYS_pread64, file, bench_iters(64 * 2000));
	close(devnull);
	close(file);
}

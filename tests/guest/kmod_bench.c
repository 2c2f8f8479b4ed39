/* SPDX-License-Identifier: MIT */
/*
 * Guest benchmark for sysring.ko (run by scripts/guest/bench.sh, not by the
 * tests). Everything runs inside one qemu TCG guest, so the figures are
 * EMULATED: they measure qemu's translator, not a CPU. Only ratios within
 * this one run mean anything, and even those favour whatever executes fewer
 * guest instructions, which is not how real hardware ranks (mode switches
 * and mitigations cost far more there, relative to work).
 *
 *   1. a batch of N cheap calls: plain calls in a loop vs one BATCH ioctl
 *      vs io_uring (liburing, one submit_and_wait per batch, no links);
 *   2. open+read+close of a small file: plain calls vs one SYSLET ioctl
 *      (the fd flowing through arg_ptr) vs a user-space executor thread;
 *   3. executors: in-kernel workers on the shared ring (sleeping workers:
 *      WAKE+WAIT; spinning workers: no system call at all) vs user-space
 *      threads handed the calls over a futex-signalled queue.
 *
 * Each cell is the median of 5 runs, in ns per call (per syslet in 2).
 */
#include "gt_ring.h"

#include <liburing.h>
#include <linux/futex.h>
#include <pthread.h>

static int quick;
static int fd;

static inline long raw0(long nr)
{
	long ret;
	__asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
	return ret;
}
static inline long raw3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ __volatile__("syscall"
			     : "=a"(ret)
			     : "a"(nr), "D"(a), "S"(b), "d"(c)
			     : "rcx", "r11", "memory");
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef void (*bench_fn)(unsigned int n, unsigned long reps);

/* ns per call: median of 5 runs of reps batches of n calls */
static int trace;

static double measure(bench_fn f, unsigned int n, unsigned long reps)
{
	double v[5];
	if (trace)
		fprintf(stderr, "measure %p n=%u reps=%lu\n", (void *)f, n, reps);
	f(n, reps / 10 + 1); /* warm up */
	for (int i = 0; i < 5; i++) {
		uint64_t t0 = gt_now_ns();
		f(n, reps);
		v[i] = (double)(gt_now_ns() - t0) / ((double)reps * n);
	}
	qsort(v, 5, sizeof(v[0]), cmp_double);
	return v[2];
}

/* ---- 1. batches ---- */

static int devnull;
static char onebyte = 'x';
static struct sysring_call bcalls[128];
static struct io_uring ring;

static void plain_getppid(unsigned int n, unsigned long reps)
{
	for (unsigned long r = 0; r < reps; r++)
		for (unsigned int i = 0; i < n; i++)
			raw0(SYS_getppid);
}

static void plain_write(unsigned int n, unsigned long reps)
{
	for (unsigned long r = 0; r < reps; r++)
		for (unsigned int i = 0; i < n; i++)
			raw3(SYS_write, devnull, (long)&onebyte, 1);
}

static void kmod_batch(unsigned int n, unsigned long reps)
{
	struct sysring_batch b = { .size = sizeof(b), .calls = (uintptr_t)bcalls, .count = n };
	for (unsigned long r = 0; r < reps; r++) {
		b.ran = 0;
		if (raw3(SYS_ioctl, fd, SYSRING_IOC_BATCH, (long)&b) != (long)n)
			GT_FAIL("batch");
	}
}

static void kmod_getppid(unsigned int n, unsigned long reps)
{
	for (unsigned int i = 0; i < n; i++)
		bcalls[i] = gt_call(SYS_getppid, 0, 0, 0, 0, 0, 0);
	kmod_batch(n, reps);
}

static void kmod_write(unsigned int n, unsigned long reps)
{
	for (unsigned int i = 0; i < n; i++)
		bcalls[i] = gt_call(SYS_write, devnull, (long)&onebyte, 1, 0, 0, 0);
	kmod_batch(n, reps);
}

static void uring_run(unsigned int n, unsigned long reps, int nop)
{
	struct io_uring_cqe *cqe;
	for (unsigned long r = 0; r < reps; r++) {
		for (unsigned int i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			if (nop)
				io_uring_prep_nop(sqe);
			else
				io_uring_prep_write(sqe, devnull, &onebyte, 1, 0);
		}
		if (io_uring_submit_and_wait(&ring, n) < 0)
			GT_FAIL("io_uring_submit_and_wait");
		unsigned int head, got = 0;
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			if (!nop && cqe->res != 1)
				GT_FAIL("uring write %d", cqe->res);
			got++;
		}
		io_uring_cq_advance(&ring, got);
		if (got != n)
			GT_FAIL("uring got %u of %u", got, n);
	}
}
static void uring_write(unsigned int n, unsigned long reps)
{
	uring_run(n, reps, 0);
}
static void uring_nop(unsigned int n, unsigned long reps)
{
	uring_run(n, reps, 1);
}

static void section_batch(int have_uring)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8, 16, 32, 64, 72 };
	unsigned long calls = quick ? 20000 : 100000;

	printf("\n== 1. batch of N cheap calls, ns per call (emulated: qemu TCG) ==\n");
	printf("%4s | %9s %9s %7s | %9s %9s %9s %7s %7s | %9s\n", "N", "getppid", "getppid", "plain/",
	       "write", "write", "write", "plain/", "uring/", "uring");
	printf("%4s | %9s %9s %7s | %9s %9s %9s %7s %7s | %9s\n", "", "plain", "kmod", "kmod", "plain",
	       "kmod", "io_uring", "kmod", "kmod", "nop");
	for (unsigned int k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		unsigned int n = sizes[k];
		unsigned long reps = calls / n;
		double pg = measure(plain_getppid, n, reps), kg = measure(kmod_getppid, n, reps);
		double pw = measure(plain_write, n, reps), kw = measure(kmod_write, n, reps);
		double uw = have_uring ? measure(uring_write, n, reps) : 0;
		double un = have_uring ? measure(uring_nop, n, reps) : 0;
		printf("%4u | %9.0f %9.0f %6.2fx | %9.0f %9.0f %9.0f %6.2fx %6.2fx | %9.0f\n", n, pg, kg,
		       pg / kg, pw, kw, uw, pw / kw, have_uring ? uw / kw : 0.0, un);
	}
}

/* ---- 2. open + read + close ---- */

static const char *bfile = "/tmp/sysring-bench-file";
static char rbuf[4096];

static void plain_orc(unsigned int n, unsigned long reps)
{
	(void)n;
	for (unsigned long r = 0; r < reps; r++) {
		long f = raw3(SYS_open, (long)bfile, O_RDONLY, 0);
		if (raw3(SYS_read, f, (long)rbuf, sizeof(rbuf)) != 4096)
			GT_FAIL("read");
		raw3(SYS_close, f, 0, 0);
	}
}

static struct syslet_uatom orc[3];
static long o_path, o_flags = O_RDONLY, o_fd, o_buf, o_len = 4096, o_n, o_c;

static void syslet_orc(unsigned int n, unsigned long reps)
{
	struct sysring_syslet s = { .size = sizeof(s), .atom = (uintptr_t)orc };
	(void)n;
	for (unsigned long r = 0; r < reps; r++) {
		if (raw3(SYS_ioctl, fd, SYSRING_IOC_SYSLET, (long)&s) != 0 || o_n != 4096)
			GT_FAIL("syslet");
	}
}

/* A user-space executor thread: the requester posts a job and sleeps on a
 * futex; the executor runs it and wakes the requester. This is the
 * library's model for calls it cannot run inline (the threads engine). */
struct job {
	int seq, done;
	int kind; /* 0: open+read+close; 1: n getppid */
	unsigned int n;
	int stop;
};
static struct job job;

static long futex(int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static void *executor(void *p)
{
	int seen = 0;
	(void)p;
	for (;;) {
		int s;
		while ((s = __atomic_load_n(&job.seq, __ATOMIC_ACQUIRE)) == seen)
			futex(&job.seq, FUTEX_WAIT_PRIVATE, seen);
		seen = s;
		if (job.stop)
			return NULL;
		if (job.kind == 0) {
			plain_orc(1, 1);
		} else {
			for (unsigned int i = 0; i < job.n; i++)
				raw0(SYS_getppid);
		}
		__atomic_store_n(&job.done, s, __ATOMIC_RELEASE);
		futex(&job.done, FUTEX_WAKE_PRIVATE, 1);
	}
}

static void thread_job(int kind, unsigned int n)
{
	int s = job.seq + 1;
	job.kind = kind;
	job.n = n;
	__atomic_store_n(&job.seq, s, __ATOMIC_RELEASE);
	futex(&job.seq, FUTEX_WAKE_PRIVATE, 1);
	int d;
	/* wait on the value just seen: a store after the check wakes us */
	while ((d = __atomic_load_n(&job.done, __ATOMIC_ACQUIRE)) != s)
		futex(&job.done, FUTEX_WAIT_PRIVATE, d);
}

static void thread_orc(unsigned int n, unsigned long reps)
{
	(void)n;
	for (unsigned long r = 0; r < reps; r++)
		thread_job(0, 1);
}

static void section_syslet(void)
{
	int f = open(bfile, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	GT_ASSERT(f >= 0);
	memset(rbuf, 'a', sizeof(rbuf));
	GT_EQ(write(f, rbuf, sizeof(rbuf)), (long)sizeof(rbuf));
	close(f);
	o_path = (long)bfile;
	o_buf = (long)rbuf;
	gt_atom(&orc[0], SYSLET_STOP_ON_NEGATIVE, SYS_open, &o_fd, &orc[1], &o_path, &o_flags, NULL,
		NULL);
	gt_atom(&orc[1], 0, SYS_read, &o_n, &orc[2], &o_fd, &o_buf, &o_len, NULL);
	gt_atom(&orc[2], 0, SYS_close, &o_c, NULL, &o_fd, NULL, NULL, NULL);

	unsigned long reps = quick ? 3000 : 15000;
	double p = measure(plain_orc, 1, reps), s = measure(syslet_orc, 1, reps),
	       t = measure(thread_orc, 1, reps / 3);
	printf("\n== 2. open+read(4 KiB)+close, ns per file (emulated) ==\n");
	printf("%-40s %9.0f\n", "plain calls (3 crossings)", p);
	printf("%-40s %9.0f   plain/syslet %.2fx\n", "kmod SYSLET ioctl (1 crossing)", s, p / s);
	printf("%-40s %9.0f   thread/syslet %.2fx\n", "user executor thread (futex hand-off)", t, t / s);
	unlink(bfile);
}

/* ---- 2b. cached execution: a syslet of 8 never-blocking atoms ---- */

static struct syslet_uatom cached8[8];
static long c8_res[8];

/* What the library's cached path does without the module: each atom on
 * the caller, one crossing each. */
static void cached_user(unsigned int n, unsigned long reps)
{
	(void)n;
	for (unsigned long r = 0; r < reps; r++)
		for (int i = 0; i < 8; i++)
			c8_res[i] = raw0(SYS_getppid);
}

static void cached_kmod(unsigned int n, unsigned long reps)
{
	struct sysring_syslet s = { .size = sizeof(s), .flags = SYSRING_SYSLET_CACHED,
				    .atom = (uintptr_t)cached8 };
	(void)n;
	for (unsigned long r = 0; r < reps; r++)
		if (raw3(SYS_ioctl, fd, SYSRING_IOC_SYSLET, (long)&s) != 0)
			GT_FAIL("cached syslet");
}

static void section_cached(void)
{
	for (int i = 0; i < 8; i++)
		gt_atom(&cached8[i], 0, SYS_getppid, &c8_res[i], i < 7 ? &cached8[i + 1] : NULL, NULL,
			NULL, NULL, NULL);
	unsigned long reps = quick ? 3000 : 15000;
	double u = measure(cached_user, 1, reps), k = measure(cached_kmod, 1, reps);
	printf("\n== 2b. cached syslet of 8 getppid atoms, ns per syslet (emulated) ==\n");
	printf("%-40s %9.0f\n", "on the caller, atom by atom (8 crossings)", u);
	printf("%-40s %9.0f   caller/kmod %.2fx\n", "kmod SYSLET ioctl, CACHED (1 crossing)", k, u / k);
}

/* ---- 3. executors ---- */

static struct gt_ring kr;
static int kr_fd;

static void ring_roundtrip(unsigned int n, unsigned long reps)
{
	struct sysring_cqe cq[128];
	for (unsigned long r = 0; r < reps; r++) {
		for (unsigned int i = 0; i < n; i++)
			gt_ring_submit(&kr, i, SYS_getppid, 0, 0, 0, 0, 0, 0);
		unsigned int got = 0;
		while (got < n) {
			unsigned int k = gt_ring_reap(&kr, cq, 128);
			if (!k && kr.s.spin_us == 0) {
				if (gt_ring_wait(&kr, 1, -1) < 0)
					GT_FAIL("wait");
				continue;
			}
			got += k;
		}
	}
}

static void thread_getppid(unsigned int n, unsigned long reps)
{
	for (unsigned long r = 0; r < reps; r++)
		thread_job(1, n);
}

static void *kworker(void *p)
{
	long r;
	(void)p;
	do
		r = gt_ioctl(kr_fd, SYSRING_IOC_WORKER, 0);
	while (r == -EINTR);
	return NULL;
}

static void section_workers(void)
{
	static const unsigned int sizes[] = { 1, 8, 64 };
	unsigned long calls = quick ? 5000 : 30000;
	double v[3][3];
	pthread_t th;

	for (int mode = 0; mode < 2; mode++) {
		kr_fd = gt_open();
		GT_EQ(gt_ring_init(&kr, kr_fd, 128, 0, mode ? 50000 : 0), 0);
		GT_EQ(pthread_create(&th, NULL, kworker, NULL), 0);
		for (unsigned int k = 0; k < 3; k++)
			v[k][mode] = measure(ring_roundtrip, sizes[k], calls / sizes[k]);
		GT_EQ(gt_ioctl(kr_fd, SYSRING_IOC_DESTROY, 0), 0);
		pthread_join(th, NULL);
		munmap(kr.mem, kr.s.mmap_size);
		close(kr_fd);
	}
	for (unsigned int k = 0; k < 3; k++)
		v[k][2] = measure(thread_getppid, sizes[k], calls / sizes[k]);

	printf("\n== 3. executors: N getppid handed to one executor thread and waited for,\n"
	       "      ns per call (emulated) ==\n");
	printf("%4s | %14s %14s %14s | %9s %9s\n", "N", "kmod ring", "kmod ring", "user thread",
	       "thread/", "thread/");
	printf("%4s | %14s %14s %14s | %9s %9s\n", "", "sleeping wkr", "spinning wkr", "(futex)",
	       "sleeping", "spinning");
	for (unsigned int k = 0; k < 3; k++)
		printf("%4u | %14.0f %14.0f %14.0f | %8.2fx %8.2fx\n", sizes[k], v[k][0], v[k][1], v[k][2],
		       v[k][2] / v[k][0], v[k][2] / v[k][1]);
	printf("      (sleeping: WAKE + WAIT ioctls per round trip; spinning: the worker polls the\n"
	       "       ring for 50 ms after each call, the submitter polls the completions: no\n"
	       "       system call at all; user thread: futex wake + futex wait per round trip)\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	quick = (argc > 1 && !strcmp(argv[1], "--quick")) || getenv("SYSRING_BENCH_QUICK");
	trace = getenv("SYSRING_BENCH_TRACE") != NULL;
	fd = gt_open();
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	GT_ASSERT(devnull >= 0);
	int have_uring = io_uring_queue_init(256, &ring, 0) == 0;

	pthread_t ex;
	GT_EQ(pthread_create(&ex, NULL, executor, NULL), 0);

	struct sysring_info info = { .size = sizeof(info) };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_INFO, &info), 0);
	printf("sysring.ko guest benchmark -- EMULATED (qemu TCG): compare ratios within this\n"
	       "run only; absolute times are the translator's, not a CPU's. uapi %u, %s%s\n",
	       info.version, have_uring ? "io_uring available" : "io_uring NOT available",
	       quick ? ", quick" : "");
	section_batch(have_uring);
	section_syslet();
	section_cached();
	section_workers();

	job.stop = 1;
	__atomic_store_n(&job.seq, job.seq + 1, __ATOMIC_RELEASE);
	futex(&job.seq, FUTEX_WAKE_PRIVATE, 1);
	pthread_join(ex, NULL);
	if (have_uring)
		io_uring_queue_exit(&ring);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * sysring.ko: a call interrupted by task work, with no signal, is restarted
 * as the plain call is; it never answers EINTR without a signal.
 *
 * io_uring completes a request (here a timeout) by queueing task work on
 * the thread that submitted it with TWA_SIGNAL, which sets
 * TIF_NOTIFY_SIGNAL: an interruptible sleep of that thread ends as for a
 * signal (-ERESTARTSYS, or -ERESTART_RESTARTBLOCK for nanosleep). The plain
 * call then runs the task work on its way back to user space, finds no
 * signal, and restarts itself (restart_syscall for nanosleep): the caller
 * sees the call's own result. Before the fix the module turned those
 * results into -EINTR.
 *
 * The thread arms an io_uring timeout (200 ms), then makes a blocking call
 * that outlasts it: a read of a pipe written 700 ms later (the plain answer
 * is 1, the byte), a nanosleep of 600 ms (0). Each as a plain call first
 * (the reference), then:
 *   - BATCH: the call, then getpid, in one batch;
 *   - SYSLET: the same two atoms (the syslet must not stop on the task
 *     work either: no -EINTR from the ioctl);
 *   - a ring worker: the worker thread arms the timeout before it enters
 *     WORKER, and the entry is the blocking call.
 */
#include "gt_ring.h"

#include <linux/io_uring.h>
#include <time.h>

#define TIMEOUT_MS 200
#define WRITE_MS 700
#define SLEEP_MS 600

/* An io_uring with one timeout pending, armed by the calling thread (its
 * completion is task work queued on this thread). Returns the ring's fd. */
static struct __kernel_timespec uring_ts;

static int arm_uring_timeout(void)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (fd < 0)
		GT_SKIP("io_uring_setup: %s", strerror(errno));
	size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			IORING_OFF_SQ_RING);
	struct io_uring_sqe *sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
					 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
	GT_ASSERT(sq != MAP_FAILED && sqes != MAP_FAILED);
	unsigned *tail = (unsigned *)(sq + p.sq_off.tail);
	unsigned *mask = (unsigned *)(sq + p.sq_off.ring_mask);
	unsigned *array = (unsigned *)(sq + p.sq_off.array);
	unsigned t = *tail, i = t & *mask;

	uring_ts.tv_sec = 0;
	uring_ts.tv_nsec = TIMEOUT_MS * 1000000L;
	memset(&sqes[i], 0, sizeof(sqes[i]));
	sqes[i].opcode = IORING_OP_TIMEOUT;
	sqes[i].fd = -1;
	sqes[i].addr = (uintptr_t)&uring_ts;
	sqes[i].len = 1;
	sqes[i].user_data = 7;
	array[i] = i;
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
	GT_EQ(syscall(__NR_io_uring_enter, fd, 1, 0, 0, NULL, 0), 1);
	munmap(sqes, p.sq_entries * sizeof(struct io_uring_sqe));
	munmap(sq, sq_len);
	return fd;
}

static int pfd[2];
static char byte;

static void *writer(void *arg)
{
	(void)arg;
	usleep(WRITE_MS * 1000);
	GT_EQ(write(pfd[1], "x", 1), 1);
	return NULL;
}

enum what { W_READ, W_SLEEP, W__COUNT };
static const char *what_name[W__COUNT] = { "read of a pipe", "nanosleep" };
static struct timespec sleep_ts = { 0, SLEEP_MS * 1000000L };

/* Start what the call waits for; its number and arguments. */
static pthread_t start(enum what w, long *nr, long a[3])
{
	pthread_t th = 0;

	if (w == W_READ) {
		GT_EQ(pipe2(pfd, O_CLOEXEC), 0);
		GT_EQ(pthread_create(&th, NULL, writer, NULL), 0);
		*nr = SYS_read, a[0] = pfd[0], a[1] = (long)&byte, a[2] = 1;
	} else {
		*nr = SYS_nanosleep, a[0] = (long)&sleep_ts, a[1] = 0, a[2] = 0;
	}
	return th;
}

static long want(enum what w)
{
	return w == W_READ ? 1 : 0;
}

static void finish(enum what w, pthread_t th)
{
	if (w == W_READ) {
		pthread_join(th, NULL);
		close(pfd[0]);
		close(pfd[1]);
	}
}

static void check(const char *how, enum what w, long got, uint64_t t0)
{
	uint64_t ms = (gt_now_ns() - t0) / 1000000;

	if (got != want(w))
		GT_FAIL("%s: %s gave %ld after %llu ms with no signal (the io_uring timeout fired at %d ms); "
			"the plain call gives %ld", how, what_name[w], got, (unsigned long long)ms, TIMEOUT_MS,
			want(w));
}

static void test_plain(enum what w)
{
	long nr, a[3];
	pthread_t th = start(w, &nr, a);
	int ufd = arm_uring_timeout();
	uint64_t t0 = gt_now_ns();
	long r = syscall(nr, a[0], a[1], a[2]);

	check("plain call", w, r < 0 ? -errno : r, t0);
	close(ufd);
	finish(w, th);
}

static void test_batch(int fd, enum what w)
{
	long nr, a[3];
	pthread_t th = start(w, &nr, a);
	int ufd = arm_uring_timeout();
	struct sysring_call c[2] = { gt_call(nr, a[0], a[1], a[2], 0, 0, 0), gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0) };
	uint64_t t0 = gt_now_ns();

	GT_EQ(gt_batch(fd, c, 2, 0), 2);
	check("BATCH", w, (long)c[0].result, t0);
	GT_EQ(c[1].result, getpid());
	close(ufd);
	finish(w, th);
}

static void test_syslet(int fd, enum what w)
{
	long nr, a[3], ret[2] = { 99, 99 };
	pthread_t th = start(w, &nr, a);
	int ufd = arm_uring_timeout();
	struct syslet_uatom at[2];
	struct sysring_syslet out;
	uint64_t t0 = gt_now_ns();

	gt_atom(&at[0], 0, nr, &ret[0], &at[1], &a[0], &a[1], &a[2], NULL);
	gt_atom(&at[1], 0, SYS_getpid, &ret[1], NULL, NULL, NULL, NULL, NULL);
	long r = gt_syslet(fd, &at[0], 0, &out);
	if (r != 0)
		GT_FAIL("SYSLET: %s: the ioctl gave %ld with no signal (plain calls: both run)", what_name[w], r);
	check("SYSLET", w, ret[0], t0);
	GT_EQ(ret[1], getpid());
	close(ufd);
	finish(w, th);
}

/* A ring worker that arms the timeout on itself first. */
struct rworker {
	struct gt_worker w;
	int ufd;
	int armed;
};

static void *rworker_main(void *p)
{
	struct rworker *rw = p;

	rw->ufd = arm_uring_timeout();
	__atomic_store_n(&rw->armed, 1, __ATOMIC_RELEASE);
	return gt_worker_main(&rw->w);
}

static void test_ring(enum what w)
{
	int fd = gt_open();
	struct gt_ring r;
	struct rworker rw = { .w = { .fd = fd, .ret = 12345 } };
	long nr, a[3];

	GT_ASSERT(fd >= 0);
	GT_EQ(gt_ring_init(&r, fd, 8, 0, 0), 0);
	GT_EQ(pthread_create(&rw.w.th, NULL, rworker_main, &rw), 0);
	while (!__atomic_load_n(&rw.armed, __ATOMIC_ACQUIRE))
		usleep(100);
	pthread_t th = start(w, &nr, a);
	uint64_t t0 = gt_now_ns();
	long long res = gt_ring_call(&r, 1, nr, a[0], a[1], a[2], 0, 0, 0, 10000000000ll);
	GT_ASSERT(res != GT_NO_CQE);
	check("ring worker", w, (long)res, t0);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
	pthread_join(rw.w.th, NULL);
	GT_EQ(rw.w.ret, 0);
	close(rw.ufd);
	munmap(r.mem, r.s.mmap_size);
	close(fd);
	finish(w, th);
}

int main(void)
{
	int fd = gt_open();

	for (int w = 0; w < W__COUNT; w++) {
		test_plain((enum what)w);
		test_batch(fd, (enum what)w);
		test_syslet(fd, (enum what)w);
		test_ring((enum what)w);
	}
	GT_OK("a call interrupted by task work without a signal restarts, as the plain call");
	close(fd);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Every running call on a ring worker is interruptible as a signal would
 * interrupt it (issue 14, item 5). The module interrupts a call with task
 * work (TIF_NOTIFY_SIGNAL); calls that run task work themselves while they
 * wait consumed that and waited on: io_uring_enter waiting for
 * completions (CANCEL found the entry but it never completed; DESTROY
 * returned with the worker still inside) and io_uring_register quiescing
 * its resources. They must end like on a real signal: CANCEL completes the
 * entry with -ECANCELED promptly, DESTROY brings the worker out, and the
 * worker goes on serving afterwards (its state clean: no signal left
 * pending, the next call does not return at once).
 */
#include "gt_ring.h"

#include <linux/io_uring.h>
#include <sys/mman.h>

static int uring_setup(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	int fd = (int)syscall(SYS_io_uring_setup, 4, &p);
	GT_ASSERT(fd >= 0);
	return fd;
}

/* Submit io_uring_enter(ufd, 0, 1, GETEVENTS): it waits for a completion
 * that never comes. */
static void submit_enter(struct gt_ring *r, uint64_t ud, int ufd)
{
	GT_EQ(gt_ring_submit(r, ud, SYS_io_uring_enter, ufd, 0, 1, IORING_ENTER_GETEVENTS, 0, 0), 0);
}

static void wait_sleeping_in_call(struct gt_ring *r, pid_t tid)
{
	/* taken (sq_head moved) and asleep */
	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n(&r->hdr->sq_head, __ATOMIC_ACQUIRE) == r->sq_tail && gt_task_state(tid) == 'S') {
			usleep(20000);
			return;
		}
		usleep(1000);
	}
	GT_FAIL("the worker never waited in the call");
}

static long long reap_within(struct gt_ring *r, uint64_t ud, int ms)
{
	struct sysring_cqe c;
	for (int i = 0; i < ms; i++) {
		if (gt_ring_reap(r, &c, 1)) {
			GT_EQ(c.user_data, ud);
			return c.res;
		}
		usleep(1000);
	}
	return GT_NO_CQE;
}

static void cancel_case(void)
{
	int fd = gt_open(), ufd = uring_setup();
	struct gt_ring r;
	struct gt_worker w;
	struct sysring_ring_cancel cc = { .size = sizeof(cc), .user_data = 1 };

	GT_EQ(gt_ring_init(&r, fd, 8, 0, 0), 0);
	gt_worker_start(&w, fd);
	submit_enter(&r, 1, ufd);
	wait_sleeping_in_call(&r, w.tid);
	uint64_t t0 = gt_now_ns();
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_CANCEL, &cc), 1);
	long long res = reap_within(&r, 1, 3000);
	if (res == GT_NO_CQE)
		GT_FAIL("CANCEL of io_uring_enter: no completion in 3 s (the call was not interrupted)");
	GT_EQ(res, -ECANCELED);
	printf("     CANCEL ended io_uring_enter in %.1f ms (emulated)\n", (gt_now_ns() - t0) / 1e6);
	/* the worker serves on, and a call that waits still waits (no
	 * signal left pending on it) */
	GT_EQ(gt_ring_call(&r, 2, SYS_getppid, 0, 0, 0, 0, 0, 0, 10ll * 1000000000), getppid());
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	t0 = gt_now_ns();
	GT_EQ(gt_ring_call(&r, 3, SYS_nanosleep, (long)&ts, 0, 0, 0, 0, 0, 10ll * 1000000000), 0);
	GT_ASSERT(gt_now_ns() - t0 >= 190ull * 1000 * 1000);
	char pnd[32];
	GT_EQ(strcmp(gt_task_status(w.tid, "SigPnd:", pnd, sizeof(pnd)), "0000000000000000"), 0);
	GT_EQ(w.eintr, 0);
	/* and io_uring_enter once more, cancelled once more */
	submit_enter(&r, 4, ufd);
	wait_sleeping_in_call(&r, w.tid);
	cc.user_data = 4;
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_CANCEL, &cc), 1);
	GT_EQ(reap_within(&r, 4, 3000), -ECANCELED);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
	pthread_join(w.th, NULL);
	GT_EQ(w.ret, 0);
	_exit(0);
}

static void destroy_case(void)
{
	int fd = gt_open(), ufd = uring_setup();
	struct gt_ring r;
	struct gt_worker w;

	GT_EQ(gt_ring_init(&r, fd, 8, 0, 0), 0);
	gt_worker_start(&w, fd);
	submit_enter(&r, 1, ufd);
	wait_sleeping_in_call(&r, w.tid);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
	/* the worker comes out, and the entry has its completion */
	long long res = reap_within(&r, 1, 3000);
	if (res == GT_NO_CQE)
		GT_FAIL("DESTROY: the worker is still inside io_uring_enter after 3 s");
	GT_EQ(res, -ECANCELED);
	for (int i = 0; i < 3000 && __atomic_load_n(&w.ret, __ATOMIC_RELAXED) == 12345; i++)
		usleep(1000);
	GT_EQ(w.ret, 0);
	pthread_join(w.th, NULL);
	_exit(0);
}

static void run(void (*fn)(void), const char *what)
{
	pid_t pid = fork();
	int st;
	GT_ASSERT(pid >= 0);
	if (pid == 0)
		fn();
	if (gt_wait_child(pid, 30000, &st)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		GT_FAIL("%s: hung", what);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		GT_FAIL("%s: child status 0x%x", what, st);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0); /* children fork with nothing buffered */
	close(gt_open());
	for (unsigned int i = 0; i < gt_rounds(1); i++)
		run(cancel_case, "CANCEL");
	GT_OK("CANCEL interrupts a worker waiting in io_uring_enter; the worker stays clean");
	for (unsigned int i = 0; i < gt_rounds(1); i++)
		run(destroy_case, "DESTROY");
	GT_OK("DESTROY brings a worker out of io_uring_enter");
	printf("kmod_interrupt: all passed\n");
	return 0;
}

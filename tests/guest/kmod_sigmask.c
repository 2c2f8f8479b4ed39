/* SPDX-License-Identifier: MIT */
/*
 * sysring.ko leaves a thread's signal mask as it found it (issue 14, item
 * 4). ppoll, pselect6, epoll_pwait, epoll_pwait2, io_pgetevents and
 * io_uring_enter with IORING_ENTER_EXT_ARG install
 * a temporary mask for their wait; interrupted, they leave it for the
 * return to user space to restore after the signal handler. Inside the
 * module that return does not come (a ring worker goes on with the next
 * entry) or comes after other calls (a batch):
 *
 *   - ring: each of the six with a temporary mask that blocks everything,
 *     interrupted by CANCEL and by DESTROY. The worker's blocked set
 *     (/proc/.../status SigBlk) is the one it had before, inside the module
 *     and back in user space; a glibc setresuid() afterwards, which needs
 *     every thread to take SIGSETXID, returns (it hung before);
 *   - BATCH: a ppoll whose temporary mask lets SIGUSR1 in, interrupted by
 *     SIGUSR1, then a second ppoll with another temporary mask: after the
 *     batch the thread's mask is its own again.
 */
#include "gt_ring.h"

#include <linux/aio_abi.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

enum kind { K_PPOLL, K_PSELECT6, K_EPOLL_PWAIT, K_EPOLL_PWAIT2, K_IO_PGETEVENTS, K_IO_URING_ENTER, K_N };
static const char *kind_name[] = { "ppoll", "pselect6", "epoll_pwait", "epoll_pwait2", "io_pgetevents",
				   "io_uring_enter(EXT_ARG sigmask)" };
static int ufd;
static struct io_uring_getevents_arg uarg;

static uint64_t all_mask = ~0ull; /* a temporary mask blocking every signal */
static int pfd[2], epfd;
static aio_context_t aio;
static struct pollfd pollfds[1];
static fd_set rfds;
static struct { const uint64_t *p; uint64_t size; } sel_mask = { &all_mask, 8 };
static struct epoll_event evs[1];
static struct io_event ioev[1];
static struct { const uint64_t *p; uint64_t size; } aio_mask = { &all_mask, 8 };

/* Submit the waiting call of this kind: it waits until interrupted. */
static void submit_wait(struct gt_ring *r, uint64_t ud, enum kind k)
{
	switch (k) {
	case K_PPOLL:
		pollfds[0] = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
		GT_EQ(gt_ring_submit(r, ud, SYS_ppoll, (long)pollfds, 1, 0, (long)&all_mask, 8, 0), 0);
		break;
	case K_PSELECT6:
		FD_ZERO(&rfds);
		FD_SET(pfd[0], &rfds);
		GT_EQ(gt_ring_submit(r, ud, SYS_pselect6, pfd[0] + 1, (long)&rfds, 0, 0, 0, (long)&sel_mask), 0);
		break;
	case K_EPOLL_PWAIT:
		GT_EQ(gt_ring_submit(r, ud, SYS_epoll_pwait, epfd, (long)evs, 1, -1, (long)&all_mask, 8), 0);
		break;
	case K_EPOLL_PWAIT2:
		GT_EQ(gt_ring_submit(r, ud, SYS_epoll_pwait2, epfd, (long)evs, 1, 0, (long)&all_mask, 8), 0);
		break;
	case K_IO_PGETEVENTS:
		GT_EQ(gt_ring_submit(r, ud, SYS_io_pgetevents, (long)aio, 1, 1, (long)ioev, 0, (long)&aio_mask), 0);
		break;
	case K_IO_URING_ENTER:
		uarg = (struct io_uring_getevents_arg){ .sigmask = (uintptr_t)&all_mask, .sigmask_sz = 8 };
		GT_EQ(gt_ring_submit(r, ud, SYS_io_uring_enter, ufd, 0, 1,
				     IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, (long)&uarg, sizeof(uarg)),
		      0);
		break;
	default:
		GT_FAIL("kind");
	}
}

/* Wait until the worker sits in the call with the temporary mask. */
static void wait_in_call(pid_t tid, const char *kind)
{
	char blk[32];
	for (int i = 0; i < 5000; i++) {
		gt_task_status(tid, "SigBlk:", blk, sizeof(blk));
		if (!strcmp(blk, "fffffffffffbfeff") && gt_task_state(tid) == 'S')
			return;
		usleep(1000);
	}
	GT_FAIL("%s: the worker never waited with the temporary mask (SigBlk %s)", kind, blk);
}

/* The worker of the DESTROY cases: once out of the module, it reports its
 * mask and stays alive, so that the setresuid below must reach it too. */
static struct gt_worker dw;
static volatile int dw_out, dw_leave;
static char dw_mask[32];
static void *destroy_worker(void *p)
{
	sigset_t m;
	gt_worker_main(&dw);
	sigprocmask(SIG_SETMASK, NULL, &m);
	snprintf(dw_mask, sizeof(dw_mask), "%016llx", (unsigned long long)((uint64_t *)&m)[0]);
	__atomic_store_n(&dw_out, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&dw_leave, __ATOMIC_ACQUIRE))
		usleep(1000);
	return p;
}

static void *setresuid_thread(void *p)
{
	/* glibc's set*id signals every thread (SIGSETXID) and waits for each */
	*(long *)p = setresuid(0, 0, 0);
	return NULL;
}

static void ring_case(enum kind k, int destroy)
{
	int fd = gt_open();
	struct gt_ring r;
	struct gt_worker w;
	char before[32], in_module[32];
	sigset_t own;

	GT_EQ(pipe(pfd), 0);
	epfd = epoll_create1(0);
	GT_ASSERT(epfd >= 0);
	struct epoll_event ev = { .events = EPOLLIN };
	GT_EQ(epoll_ctl(epfd, EPOLL_CTL_ADD, pfd[0], &ev), 0);
	aio = 0;
	GT_EQ(syscall(SYS_io_setup, 4, &aio), 0);
	struct io_uring_params up;
	memset(&up, 0, sizeof(up));
	ufd = (int)syscall(SYS_io_uring_setup, 4, &up);
	GT_ASSERT(ufd >= 0);

	/* the worker's own mask: SIGUSR2 blocked, nothing else */
	sigemptyset(&own);
	sigaddset(&own, SIGUSR2);
	GT_EQ(pthread_sigmask(SIG_SETMASK, &own, NULL), 0);
	GT_EQ(gt_ring_init(&r, fd, 8, 0, 0), 0);
	if (destroy) {
		dw = (struct gt_worker){ .fd = fd, .ret = 12345 };
		GT_EQ(pthread_create(&dw.th, NULL, destroy_worker, NULL), 0);
		while (!__atomic_load_n(&dw.tid, __ATOMIC_ACQUIRE))
			usleep(100);
		w = dw;
	} else {
		gt_worker_start(&w, fd);
	}
	usleep(20000);
	gt_task_status(w.tid, "SigBlk:", before, sizeof(before));
	GT_EQ(strcmp(before, "0000000000000800"), 0);

	submit_wait(&r, 1, k);
	wait_in_call(w.tid, kind_name[k]);
	struct sysring_cqe c;
	if (!destroy) {
		struct sysring_ring_cancel cc = { .size = sizeof(cc), .user_data = 1 };
		GT_EQ(gt_ioctl(fd, SYSRING_IOC_CANCEL, &cc), 1);
		GT_EQ(gt_ring_wait(&r, 1, 10ll * 1000000000), 1);
		GT_EQ(gt_ring_reap(&r, &c, 1), 1);
		GT_EQ(c.res, -ECANCELED);
		/* back in the module, asleep: its own mask */
		for (int i = 0; i < 2000 && gt_task_state(w.tid) != 'S'; i++)
			usleep(1000);
		gt_task_status(w.tid, "SigBlk:", in_module, sizeof(in_module));
		if (strcmp(in_module, before))
			GT_FAIL("%s, CANCEL: the worker's mask is %s, was %s", kind_name[k], in_module, before);
		/* still serving */
		GT_EQ(gt_ring_call(&r, 2, SYS_getppid, 0, 0, 0, 0, 0, 0, 10ll * 1000000000), getppid());
	} else {
		GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
		for (int i = 0; i < 5000 && !__atomic_load_n(&dw_out, __ATOMIC_ACQUIRE); i++)
			usleep(1000);
		GT_ASSERT(dw_out);
		GT_EQ(dw.ret, 0);
		GT_EQ(gt_ring_wait(&r, 1, 10ll * 1000000000), 1);
		GT_EQ(gt_ring_reap(&r, &c, 1), 1);
		GT_EQ(c.res, -ECANCELED);
		/* back in user space with its own mask */
		if (strcmp(dw_mask, before))
			GT_FAIL("%s, DESTROY: the worker left the module with mask %s, had %s", kind_name[k],
				dw_mask, before);
	}
	/* a glibc set*id reaches every thread, the worker included */
	pthread_t th;
	long sr = 12345;
	GT_EQ(pthread_create(&th, NULL, setresuid_thread, &sr), 0);
	for (int i = 0; i < 5000 && __atomic_load_n(&sr, __ATOMIC_RELAXED) == 12345; i++)
		usleep(1000);
	if (__atomic_load_n(&sr, __ATOMIC_RELAXED) == 12345)
		GT_FAIL("%s, %s: glibc setresuid() hangs (a thread blocks SIGSETXID)", kind_name[k],
			destroy ? "DESTROY" : "CANCEL");
	pthread_join(th, NULL);
	GT_EQ(sr, 0);
	if (destroy) {
		__atomic_store_n(&dw_leave, 1, __ATOMIC_RELEASE);
		pthread_join(dw.th, NULL);
	} else {
		GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
		pthread_join(w.th, NULL);
		GT_EQ(w.ret, 0);
	}
	_exit(0);
}

/* ---- BATCH: a real signal ---- */

static volatile int got_usr1;
static void on_usr1(int s)
{
	got_usr1++;
}
static pid_t main_tid;
static void *send_usr1(void *p)
{
	char blk[32];
	/* once the caller waits in the first ppoll (SIGUSR1 let in) */
	for (int i = 0; i < 5000; i++) {
		gt_task_status(main_tid, "SigBlk:", blk, sizeof(blk));
		if (!strcmp(blk, "0000000000000000") && gt_task_state(main_tid) == 'S')
			break;
		usleep(1000);
	}
	syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
	return p;
}

static void batch_case(void)
{
	int fd = gt_open();
	sigset_t own, now;
	static uint64_t none = 0, usr12 = 1ull << (SIGUSR1 - 1) | 1ull << (SIGUSR2 - 1);
	struct timespec zero = { 0, 0 };
	pthread_t th;

	GT_EQ(pipe(pfd), 0);
	signal(SIGUSR1, on_usr1);
	sigemptyset(&own);
	sigaddset(&own, SIGUSR1);
	GT_EQ(sigprocmask(SIG_SETMASK, &own, NULL), 0);
	main_tid = gettid();
	pollfds[0] = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
	struct sysring_call c[2] = {
		gt_call(SYS_ppoll, (long)pollfds, 1, 0, (long)&none, 8, 0),
		gt_call(SYS_ppoll, (long)pollfds, 1, (long)&zero, (long)&usr12, 8, 0),
	};
	GT_EQ(pthread_create(&th, NULL, send_usr1, NULL), 0);
	GT_EQ(gt_batch(fd, c, 2, 0), 2);
	pthread_join(th, NULL);
	GT_EQ(c[0].result, -EINTR);
	GT_EQ(c[1].result, 0);
	GT_EQ(sigprocmask(SIG_SETMASK, NULL, &now), 0);
	if (!sigismember(&now, SIGUSR1) || sigismember(&now, SIGUSR2))
		GT_FAIL("after the batch the mask is not the thread's own (SIGUSR1 %d, SIGUSR2 %d)",
			sigismember(&now, SIGUSR1), sigismember(&now, SIGUSR2));
	_exit(0);
}

static int failed;

/* Every case runs, so that a failure shows all the ways in. */
static int in_child(void (*fn)(enum kind, int), enum kind k, int d, const char *what)
{
	pid_t pid = fork();
	int st;
	GT_ASSERT(pid >= 0);
	if (pid == 0) {
		if (fn)
			fn(k, d);
		else
			batch_case();
		_exit(0);
	}
	if (gt_wait_child(pid, 40000, &st)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		printf("FAIL %s: hung\n", what);
		failed++;
		return 0;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		printf("FAIL %s: child status 0x%x\n", what, st);
		failed++;
		return 0;
	}
	return 1;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0); /* children fork with nothing buffered */
	close(gt_open());
	for (unsigned int round = 0; round < gt_rounds(1); round++)
	for (enum kind k = 0; k < K_N; k++)
		for (int d = 0; d < 2; d++) {
			char what[64];
			snprintf(what, sizeof(what), "%s, %s", kind_name[k], d ? "DESTROY" : "CANCEL");
			if (in_child(ring_case, k, d, what))
				printf("     %s: the worker's mask as before\n", what);
		}
	in_child(NULL, 0, 0, "batch");
	if (failed)
		GT_FAIL("%d cases", failed);
	GT_OK("ring: temporary masks of interrupted calls are undone on the worker");
	GT_OK("BATCH: an interrupted ppoll's mask is undone before the next call");
	printf("kmod_sigmask: all passed\n");
	return 0;
}

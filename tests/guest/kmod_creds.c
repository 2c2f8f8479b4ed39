/* SPDX-License-Identifier: MIT */
/*
 * The credential model of the ring, as documented (issue 14, item 9): an
 * entry runs with the credentials of the worker thread that takes it.
 *   - glibc's setresuid() changes every thread, the worker in the module
 *     included (SIGSETXID interrupts WORKER, the worker changes its own
 *     credentials, WORKER is restarted): entries after it run as the new
 *     user (getuid, a root-only file refused);
 *   - a raw setresuid system call changes only the thread that makes it:
 *     a worker keeps serving as before;
 *   - only the threads of the process that set the ring up serve it: a
 *     CLONE_VM child (another process sharing the memory) that dropped to
 *     another user is refused WORKER (-EPERM) at once; it would otherwise
 *     run the entries' process-wide calls (getpid, its files, its
 *     credentials) on itself. The entries it writes run on the owner's
 *     workers, as the owner.
 */
#include "gt_ring.h"

#include <sched.h>
#include <sys/stat.h>

static const char *secret = "/tmp/sr-creds-secret";

static void glibc_case(void)
{
	int fd = gt_open();
	struct gt_ring r;
	struct gt_worker w;

	GT_EQ(gt_ring_init(&r, fd, 8, 0, 0), 0);
	gt_worker_start(&w, fd);
	GT_EQ(gt_ring_call(&r, 1, SYS_getuid, 0, 0, 0, 0, 0, 0, 10ll * 1000000000), 0);
	GT_ASSERT(gt_ring_call(&r, 2, SYS_openat, AT_FDCWD, (long)secret, O_RDONLY, 0, 0, 0, 10ll * 1000000000) >= 0);
	GT_EQ(setresgid(65534, 65534, 65534), 0);
	GT_EQ(setresuid(65534, 65534, 65534), 0);
	GT_EQ(gt_ring_call(&r, 3, SYS_getuid, 0, 0, 0, 0, 0, 0, 10ll * 1000000000), 65534);
	GT_EQ(gt_ring_call(&r, 4, SYS_openat, AT_FDCWD, (long)secret, O_RDONLY, 0, 0, 0, 10ll * 1000000000),
	      -EACCES);
	_exit(0);
}

static pid_t raw_tid;
static volatile int raw_done;
static void *raw_thread(void *p)
{
	raw_tid = gettid();
	GT_EQ(syscall(SYS_setresuid, 65534, 65534, 65534), 0);
	GT_EQ(getuid(), 65534);
	raw_done = 1;
	pause();
	return p;
}

static void raw_case(void)
{
	int fd = gt_open();
	struct gt_ring r;
	struct gt_worker w;
	pthread_t th;

	GT_EQ(gt_ring_init(&r, fd, 8, 0, 0), 0);
	gt_worker_start(&w, fd);
	GT_EQ(pthread_create(&th, NULL, raw_thread, NULL), 0);
	while (!raw_done)
		usleep(1000);
	/* the worker did not change: it serves as root */
	GT_EQ(gt_ring_call(&r, 1, SYS_getuid, 0, 0, 0, 0, 0, 0, 10ll * 1000000000), 0);
	GT_ASSERT(gt_ring_call(&r, 2, SYS_openat, AT_FDCWD, (long)secret, O_RDONLY, 0, 0, 0, 10ll * 1000000000) >= 0);
	_exit(0);
}

static int ring_fd;
static volatile long served = 12345;
static int clone_worker(void *p)
{
	/* a process of its own (own credentials), the same memory */
	if (syscall(SYS_setresgid, 4242, 4242, 4242) || syscall(SYS_setresuid, 4242, 4242, 4242))
		return 2;
	served = gt_ioctl(ring_fd, SYSRING_IOC_WORKER, NULL);
	return 0;
}

static void clone_case(void)
{
	struct gt_ring r;
	struct gt_worker w;
	static char stack[256 * 1024];
	int st;

	ring_fd = gt_open();
	GT_EQ(gt_ring_init(&r, ring_fd, 8, 0, 0), 0);
	pid_t c = clone(clone_worker, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL);
	GT_ASSERT(c > 0);
	if (gt_wait_child(c, 5000, &st)) {
		/* still inside WORKER: serving the ring as another process */
		long long got = gt_ring_call(&r, 1, SYS_getpid, 0, 0, 0, 0, 0, 0, 10ll * 1000000000);
		kill(c, SIGKILL);
		waitpid(c, &st, 0);
		GT_FAIL("a CLONE_VM child (pid %d, not a thread of %d) serves the ring: getpid gave %lld", c,
			getpid(), got);
	}
	GT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	GT_EQ(served, -EPERM);
	/* the owner's own worker runs the entries, as the owner */
	gt_worker_start(&w, ring_fd);
	GT_EQ(gt_ring_call(&r, 1, SYS_getuid, 0, 0, 0, 0, 0, 0, 10ll * 1000000000), 0);
	GT_EQ(gt_ring_call(&r, 2, SYS_getpid, 0, 0, 0, 0, 0, 0, 10ll * 1000000000), getpid());
	GT_EQ(gt_ioctl(ring_fd, SYSRING_IOC_DESTROY, 0), 0);
	pthread_join(w.th, NULL);
	GT_EQ(w.ret, 0);
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
	int f = open(secret, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	GT_ASSERT(f >= 0);
	close(f);
	run(glibc_case, "glibc setresuid");
	GT_OK("glibc's setresuid reaches a worker inside the module");
	run(raw_case, "raw setresuid");
	GT_OK("a raw per-thread setresuid does not reach the worker");
	run(clone_case, "CLONE_VM worker");
	GT_OK("another process sharing the memory is refused as a ring server");
	unlink(secret);
	printf("kmod_creds: all passed\n");
	return 0;
}

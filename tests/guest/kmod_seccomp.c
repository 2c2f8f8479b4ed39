/* SPDX-License-Identifier: MIT */
/*
 * sysring.ko and seccomp, which is per thread while a ring is per process
 * (issue 14, item 3). Calls through the module bypass seccomp, so a ring
 * must not run an entry once any task sharing the process's memory has a
 * filter: such a task can write entries into the shared ring without any
 * ioctl, and an unfiltered worker would run them.
 *
 * Thread A installs a filter that forbids openat (EACCES), then writes an
 * openat(O_CREAT) of a marker file into the ring; an unfiltered thread
 * wakes the worker. The entry must complete with -EPERM and the file must
 * not exist. Cases: the filter installed after the ring was set up, before
 * it, with TSYNC after and before (then nothing can use the module), and
 * by a CLONE_VM child that is not a thread. A control case without a
 * filter must create the file.
 */
#include "gt_ring.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>

static struct sock_filter no_openat[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static struct sock_fprog prog = { 4, no_openat };

static long install(unsigned int flags)
{
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	return r < 0 ? -errno : r;
}

/* The same through the 32-bit entry (int 0x80 works from a 64-bit thread):
 * i386 seccomp is 354, its struct sock_fprog has a 32-bit pointer. The
 * program is statically linked at a low address, so pointers fit. */
static struct {
	uint16_t len;
	uint32_t filter;
} prog32;
static long install_int80(void)
{
	long ret;
	prog32.len = 4;
	prog32.filter = (uint32_t)(uintptr_t)no_openat;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(354L), "b"((long)SECCOMP_SET_MODE_FILTER), "c"(0L), "d"((long)(uintptr_t)&prog32)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

enum when { AFTER, AFTER_GONE, AFTER_GONE_INT80, BEFORE, AFTER_TSYNC, BEFORE_TSYNC, CLONE_VM_CHILD, NONE };
static const char *when_name[] = { "after setup", "after setup, the thread gone before the entry runs",
				   "after setup through int 0x80, the thread gone", "before setup",
				   "after setup, TSYNC", "before setup, TSYNC", "in a CLONE_VM child",
				   "no filter (control)" };

static int fd;
static struct gt_ring r;
static char marker[64];
static volatile int a_stage; /* 0 start, 1 filter in, 2 go submit, 3 submitted */
static enum when when;

static void submit_marker(void)
{
	/* from a filtered task: WAKE is refused (the module refuses it too) */
	gt_ring_submit(&r, 77, SYS_openat, AT_FDCWD, (long)marker, O_CREAT | O_WRONLY, 0600, 0, 0);
}

static void *thread_a(void *p)
{
	if (when == AFTER_GONE_INT80) {
		long r = install_int80();
		if (r)
			GT_FAIL("seccomp through int 0x80: %ld", r);
	} else if (when != NONE &&
		   install(when == AFTER_TSYNC || when == BEFORE_TSYNC ? SECCOMP_FILTER_FLAG_TSYNC : 0)) {
		GT_FAIL("seccomp: %s", strerror(errno));
	}
	__atomic_store_n(&a_stage, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&a_stage, __ATOMIC_ACQUIRE) != 2)
		usleep(1000);
	submit_marker();
	__atomic_store_n(&a_stage, 3, __ATOMIC_RELEASE);
	return p;
}

static int clone_child(void *p)
{
	if (install(0))
		return 2;
	submit_marker();
	return 0;
}

static void one_case(void)
{
	pthread_t a;
	struct gt_worker w;
	int tsync = when == AFTER_TSYNC || when == BEFORE_TSYNC;

	snprintf(marker, sizeof(marker), "/tmp/sr-seccomp-%d", (int)when);
	unlink(marker);
	fd = gt_open();
	if (when == BEFORE || when == BEFORE_TSYNC) {
		GT_EQ(pthread_create(&a, NULL, thread_a, NULL), 0);
		while (__atomic_load_n(&a_stage, __ATOMIC_ACQUIRE) != 1)
			usleep(1000);
	}
	long s = gt_ring_init(&r, fd, 8, 0, 0);
	if (when == BEFORE_TSYNC) {
		/* every thread has the filter: the module refuses everything */
		GT_EQ(s, -EPERM);
		_exit(0);
	}
	GT_EQ(s, 0);
	gt_worker_start(&w, fd);
	/* the worker is in and asleep before anything else happens */
	for (int i = 0; i < 5000 && !(r.hdr->sq_flags & SYSRING_SQ_NEED_WAKEUP); i++)
		usleep(1000);
	GT_ASSERT(r.hdr->sq_flags & SYSRING_SQ_NEED_WAKEUP);
	if (when == AFTER || when == AFTER_GONE || when == AFTER_GONE_INT80 || when == AFTER_TSYNC || when == NONE) {
		GT_EQ(pthread_create(&a, NULL, thread_a, NULL), 0);
		while (__atomic_load_n(&a_stage, __ATOMIC_ACQUIRE) != 1)
			usleep(1000);
	}
	if (when == CLONE_VM_CHILD) {
		static char stack[64 * 1024];
		pid_t c = clone(clone_child, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL);
		GT_ASSERT(c > 0);
		int st;
		GT_EQ(waitpid(c, &st, 0), c);
		GT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	} else {
		__atomic_store_n(&a_stage, 2, __ATOMIC_RELEASE);
		while (__atomic_load_n(&a_stage, __ATOMIC_ACQUIRE) != 3)
			usleep(1000);
		/* the filtered thread exits before any worker looks: no task
		 * has a filter when the entry is taken */
		if (when == AFTER_GONE || when == AFTER_GONE_INT80)
			pthread_join(a, NULL);
	}
	/* Another thread wakes the worker (under TSYNC it is filtered too:
	 * WAKE runs no call and is allowed, the entry is refused). */
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_WAKE, 0), 0);
	struct sysring_cqe c;
	unsigned int got = 0;
	for (int i = 0; i < 3000 && !got; i++) {
		got = gt_ring_reap(&r, &c, 1);
		if (!got)
			usleep(1000);
	}
	int exists = access(marker, F_OK) == 0;
	if (when == NONE) {
		GT_EQ(got, 1);
		GT_ASSERT(c.res >= 0);
		GT_ASSERT(exists);
	} else {
		if (exists)
			GT_FAIL("filter %s: the worker opened the file the filter forbids", when_name[when]);
		GT_EQ(got, 1);
		GT_EQ(c.res, -EPERM);
		GT_ASSERT(r.hdr->sq_flags & SYSRING_SQ_SECCOMP);
		/* and from now on every entry, whoever writes it */
		GT_EQ(gt_ring_call(&r, 78, SYS_getppid, 0, 0, 0, 0, 0, 0, 5ll * 1000000000), -EPERM);
		/* a filtered thread can still wind the ring down */
		if (tsync) {
			GT_EQ(gt_ioctl(fd, SYSRING_IOC_WORKER, 0), -EPERM);
			GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
			pthread_join(w.th, NULL);
			GT_EQ(w.ret, 0);
		}
	}
	unlink(marker);
	_exit(0);
}

int main(void)
{
	int failed = 0;

	setvbuf(stdout, NULL, _IONBF, 0); /* children fork with nothing buffered */
	close(gt_open());
	/* every case runs, so that a failure shows all the ways in */
	for (unsigned int round = 0; round < gt_rounds(1); round++)
	for (when = AFTER; when <= NONE; when++) {
		pid_t pid = fork();
		GT_ASSERT(pid >= 0);
		if (pid == 0)
			one_case();
		int st;
		if (gt_wait_child(pid, 30000, &st)) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			printf("FAIL filter %s: hung\n", when_name[when]);
			failed++;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("FAIL filter %s: child status 0x%x\n", when_name[when], st);
			failed++;
		} else {
			printf("     filter %s: ok\n", when_name[when]);
		}
	}
	if (failed)
		GT_FAIL("%d of %d cases", failed, NONE + 1);
	GT_OK("a seccomp filter on any task sharing the memory stops every ring entry");
	printf("kmod_seccomp: all passed\n");
	return 0;
}

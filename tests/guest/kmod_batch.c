/* SPDX-License-Identifier: MIT */
/*
 * sysring.ko: INFO and BATCH. Calls run in the caller's context with its
 * credentials; per-call results; bad pointers and sizes give errnos, never
 * an oops; the deny-list; -ERESTART* becomes -EINTR; no nesting; seccomp'd
 * processes are refused; a fatal signal ends a long batch promptly.
 */
#include "gt.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>

static int fd;

static void test_info(void)
{
	struct sysring_info i = { .size = sizeof(i) };

	GT_EQ(gt_ioctl(fd, SYSRING_IOC_INFO, &i), 0);
	GT_EQ(i.version, SYSRING_UAPI_VERSION);
	GT_EQ(i.size, sizeof(i));
	GT_EQ(i.call_size, sizeof(struct sysring_call));
	GT_EQ(i.atom_size, sizeof(struct syslet_uatom));
	GT_EQ(i.sqe_size, sizeof(struct sysring_sqe));
	GT_EQ(i.cqe_size, sizeof(struct sysring_cqe));
	GT_EQ(i.max_batch, SYSRING_MAX_BATCH);
	GT_ASSERT(i.features & SYSRING_FEAT_BATCH);
	GT_ASSERT(i.features & SYSRING_FEAT_SYSLET);
	GT_ASSERT(i.features & SYSRING_FEAT_RING);
	GT_ASSERT(i.features & SYSRING_FEAT_SECCOMP_REFUSED);
	GT_ASSERT(i.nr_syscalls > 400 && i.nr_syscalls <= 512);

	/* too small to hold the version: EINVAL */
	struct sysring_info small = { .size = 4 };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_INFO, &small), -EINVAL);
	/* a newer, larger caller: filled up to the module's size */
	struct {
		struct sysring_info i;
		uint64_t more[4];
	} big;
	memset(&big, 0xff, sizeof(big));
	big.i.size = sizeof(big);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_INFO, &big), 0);
	GT_EQ(big.i.size, sizeof(struct sysring_info));
	GT_EQ(big.i.version, SYSRING_UAPI_VERSION);
	GT_EQ(big.more[0], ~0ull);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_INFO, NULL), -EFAULT);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_INFO, (void *)0xffffffff81000000ul), -EFAULT);
	/* unknown command */
	GT_EQ(gt_ioctl(fd, _IO(SYSRING_IOC_MAGIC, 0x7f), NULL), -ENOTTY);
	GT_EQ(gt_ioctl(fd, _IO('T', 0x01), NULL), -ENOTTY);
	GT_OK("info");
}

static void test_basic(void)
{
	struct utsname u, ku;
	int p[2];
	char buf[16] = { 0 };
	struct sysring_call c[5];

	GT_EQ(pipe(p), 0);
	uname(&u);
	memset(&ku, 0, sizeof(ku));
	c[0] = gt_call(SYS_getppid, 0, 0, 0, 0, 0, 0);
	c[1] = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	c[2] = gt_call(SYS_write, p[1], (long)"hello", 5, 0, 0, 0);
	c[3] = gt_call(SYS_uname, (long)&ku, 0, 0, 0, 0, 0);
	c[4] = gt_call(SYS_gettid, 0, 0, 0, 0, 0, 0);
	GT_EQ(gt_batch(fd, c, 5, 0), 5);
	GT_EQ(c[0].result, getppid());
	GT_EQ(c[1].result, getpid());
	GT_EQ(c[2].result, 5);
	GT_EQ(c[3].result, 0);
	GT_EQ(c[4].result, gettid()); /* the caller's own thread */
	GT_EQ(read(p[0], buf, sizeof(buf)), 5);
	GT_ASSERT(!memcmp(buf, "hello", 5));
	GT_ASSERT(!strcmp(u.release, ku.release) && !strcmp(u.sysname, ku.sysname));
	close(p[0]);
	close(p[1]);

	/* count 0: nothing runs */
	GT_EQ(gt_batch(fd, c, 0, 0), 0);
	GT_EQ(gt_batch(fd, NULL, 0, 0), 0);
	GT_OK("batch getppid/getpid/write/uname");
}

static void test_errors(void)
{
	struct sysring_call c[8];
	struct sysring_info i = { .size = sizeof(i) };

	GT_EQ(gt_ioctl(fd, SYSRING_IOC_INFO, &i), 0);
	c[0] = gt_call(SYS_uname, 0, 0, 0, 0, 0, 0);                     /* NULL buffer */
	c[1] = gt_call(SYS_uname, (long)0xffffffff81000000ul, 0, 0, 0, 0, 0); /* kernel address */
	c[2] = gt_call(SYS_read, -1, 0, 0, 0, 0, 0);
	c[3] = gt_call(1000, 0, 0, 0, 0, 0, 0);
	c[4] = gt_call(i.nr_syscalls, 0, 0, 0, 0, 0, 0);
	c[5] = gt_call(0xffffffffu, 0, 0, 0, 0, 0, 0);
	c[6] = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	c[6].flags = 1; /* reserved: the call is not made */
	c[7] = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	GT_EQ(gt_batch(fd, c, 8, 0), 8);
	GT_EQ(c[0].result, -EFAULT);
	GT_EQ(c[1].result, -EFAULT);
	GT_EQ(c[2].result, -EBADF);
	GT_EQ(c[3].result, -ENOSYS);
	GT_EQ(c[4].result, -ENOSYS);
	GT_EQ(c[5].result, -ENOSYS);
	GT_EQ(c[6].result, -EINVAL);
	GT_EQ(c[7].result, getpid());

	/* stop on error: the failing call counts, the rest is untouched */
	c[0] = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	c[1] = gt_call(SYS_close, -1, 0, 0, 0, 0, 0);
	c[2] = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	struct sysring_batch b = { .size = sizeof(b), .flags = SYSRING_BATCH_STOP_ON_ERROR,
				   .calls = (uintptr_t)c, .count = 3 };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, &b), 2);
	GT_EQ(b.ran, 2);
	GT_EQ(c[1].result, -EBADF);
	GT_EQ(c[2].result, 0x5a5a5a5a);
	GT_OK("per-call results, unknown numbers, reserved flags, stop on error");
}

static void test_bad_args(void)
{
	struct sysring_call c[2] = { gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0),
				     gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0) };
	struct sysring_batch b;
	long pg = sysconf(_SC_PAGESIZE);

	/* the argument struct itself */
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, NULL), -EFAULT);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, (void *)1), -EFAULT);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, (void *)0xffff888000000000ul), -EFAULT);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, (void *)-4096l), -EFAULT);

	/* sizes, flags, reserved fields */
	b = (struct sysring_batch){ .size = 8, .calls = (uintptr_t)c, .count = 1 };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, &b), -EINVAL);
	b = (struct sysring_batch){ .size = sizeof(b), .flags = 0x80, .calls = (uintptr_t)c, .count = 1 };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, &b), -EINVAL);
	b = (struct sysring_batch){ .size = sizeof(b), .calls = (uintptr_t)c, .count = 1, .resv = { 1 } };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, &b), -EINVAL);
	struct {
		struct sysring_batch b;
		uint64_t tail[2];
	} nb = { { .size = sizeof(nb), .calls = (uintptr_t)c, .count = 1 }, { 0, 0 } };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, &nb), 1); /* larger, zero tail: fine */
	nb.b.ran = 0;
	nb.tail[1] = 7;
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, &nb), -E2BIG);
	b = (struct sysring_batch){ .size = 1u << 20, .calls = (uintptr_t)c, .count = 1 };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, &b), -E2BIG);

	/* counts */
	GT_EQ(gt_batch(fd, c, SYSRING_MAX_BATCH + 1, 0), -EINVAL);
	GT_EQ(gt_batch(fd, c, 0xffffffffu, 0), -EINVAL);

	/* the call array: NULL, unmapped, kernel, not writable */
	GT_EQ(gt_batch(fd, NULL, 1, 0), -EFAULT);
	GT_EQ(gt_batch(fd, (void *)0xffffffff81000000ul, 1, 0), -EFAULT);
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	GT_ASSERT(m != MAP_FAILED);
	GT_EQ(munmap(m + pg, pg), 0);
	/* the second call straddles into the unmapped page: the first runs */
	struct sysring_call *edge = (struct sysring_call *)(m + pg) - 1;
	*edge = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	b = (struct sysring_batch){ .size = sizeof(b), .calls = (uintptr_t)edge, .count = 2 };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, &b), -EFAULT);
	GT_EQ(b.ran, 1);
	GT_EQ(edge->result, getpid());
	/* results cannot be written back: the call ran, -EFAULT */
	memcpy(m, c, sizeof(c[0]));
	GT_EQ(mprotect(m, pg, PROT_READ), 0);
	b = (struct sysring_batch){ .size = sizeof(b), .calls = (uintptr_t)m, .count = 1 };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_BATCH, &b), -EFAULT);
	GT_EQ(b.ran, 1);
	munmap(m, pg);

	/* overlapping: the call array is the argument struct itself; the
	 * module copied the struct first, so this is only odd calls */
	uint64_t over[16] = { 0 };
	struct sysring_batch *ob = (struct sysring_batch *)over;
	ob->size = sizeof(*ob);
	ob->calls = (uintptr_t)over;
	ob->count = 1; /* call 0: nr = 40 (sendfile) with silly fds */
	long r = gt_ioctl(fd, SYSRING_IOC_BATCH, ob);
	GT_ASSERT(r == 1 || r == -EINVAL);
	GT_OK("bad pointers, sizes, counts, overlapping buffers");
}

static void test_refused(void)
{
	struct sysring_call c[GT_NR_TABLE];
	unsigned int n = 0;

	for (unsigned int nr = 0; nr < GT_NR_TABLE; nr++)
		if (gt_refused[nr])
			c[n++] = gt_call(nr, 0, 0, 0, 0, 0, 0);
	GT_ASSERT(n >= 20);
	GT_EQ(gt_batch(fd, c, n, 0), n);
	for (unsigned int k = 0; k < n; k++)
		if (c[k].result != -EPERM)
			GT_FAIL("refused call %u gave %lld", c[k].nr, (long long)c[k].result);
	/* still here: exit, exit_group, fork, vfork, clone, execve... never ran */
	printf("     %u refused calls (%s) gave EPERM\n", n, "exit, fork, clone, execve, rt_sigreturn...");
	GT_OK("deny-list");
}

static volatile sig_atomic_t got_alarm;
static void on_alarm(int sig)
{
	(void)sig;
	got_alarm++;
}

static void test_restart(void)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct itimerval it = { .it_value = { 0, 100000 } };
	struct timespec ts = { 10, 0 };
	struct sysring_call c[3];
	int p[2];
	char ch;

	sigaction(SIGALRM, &sa, NULL);
	GT_EQ(pipe(p), 0);

	/* pause: -ERESTARTNOHAND */
	got_alarm = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	c[0] = gt_call(SYS_pause, 0, 0, 0, 0, 0, 0);
	GT_EQ(gt_batch(fd, c, 1, 0), 1);
	GT_EQ(c[0].result, -EINTR);
	GT_EQ(got_alarm, 1);

	/* nanosleep: -ERESTART_RESTARTBLOCK */
	uint64_t t0 = gt_now_ns();
	setitimer(ITIMER_REAL, &it, NULL);
	c[0] = gt_call(SYS_nanosleep, (long)&ts, 0, 0, 0, 0, 0);
	GT_EQ(gt_batch(fd, c, 1, 0), 1);
	GT_EQ(c[0].result, -EINTR);
	GT_ASSERT(gt_now_ns() - t0 < 5000000000ull);

	/* read on an empty pipe with SA_RESTART: -ERESTARTSYS, which the
	 * batch cannot restart: -EINTR; the next call still runs */
	setitimer(ITIMER_REAL, &it, NULL);
	c[0] = gt_call(SYS_read, p[0], (long)&ch, 1, 0, 0, 0);
	c[1] = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	GT_EQ(gt_batch(fd, c, 2, 0), 2);
	GT_EQ(c[0].result, -EINTR);
	GT_EQ(c[1].result, getpid());
	GT_EQ(got_alarm, 3);
	close(p[0]);
	close(p[1]);
	signal(SIGALRM, SIG_DFL);
	GT_OK("-ERESTART* -> EINTR");
}

static void test_nesting(void)
{
	struct sysring_call inner = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	struct sysring_batch ib = { .size = sizeof(ib), .calls = (uintptr_t)&inner, .count = 1 };
	struct sysring_info info = { .size = sizeof(info) };
	struct sysring_call c[3];
	int fd2 = gt_open();

	c[0] = gt_call(SYS_ioctl, fd, SYSRING_IOC_BATCH, (long)&ib, 0, 0, 0);
	c[1] = gt_call(SYS_ioctl, fd2, SYSRING_IOC_BATCH, (long)&ib, 0, 0, 0);
	c[2] = gt_call(SYS_ioctl, fd, SYSRING_IOC_INFO, (long)&info, 0, 0, 0);
	GT_EQ(gt_batch(fd, c, 3, 0), 3);
	GT_EQ(c[0].result, -EDEADLK);
	GT_EQ(c[1].result, -EDEADLK);
	GT_EQ(c[2].result, 0);
	GT_EQ(info.version, SYSRING_UAPI_VERSION);
	GT_EQ(inner.result, 0x5a5a5a5a);

	/* a batch that closes the device fd it runs on */
	c[0] = gt_call(SYS_close, fd2, 0, 0, 0, 0, 0);
	c[1] = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	GT_EQ(gt_batch(fd2, c, 2, 0), 2);
	GT_EQ(c[0].result, 0);
	GT_EQ(c[1].result, getpid());
	GT_EQ(fcntl(fd2, F_GETFD), -1);
	GT_OK("no nesting; closing the device fd inside a batch");
}

static int install_allow_all_filter(void)
{
	struct sock_filter f[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { .len = 1, .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void test_seccomp(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		struct sysring_call c = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
		struct sysring_info i = { .size = sizeof(i) };
		if (install_allow_all_filter())
			_exit(10);
		if (gt_batch(fd, &c, 1, 0) != -EPERM)
			_exit(11);
		if (gt_syslet(fd, (void *)8, 0, NULL) != -EPERM)
			_exit(12);
		if (gt_ioctl(fd, SYSRING_IOC_INFO, &i) != 0) /* INFO still answers */
			_exit(13);
		_exit(0);
	}
	GT_EQ(gt_wait_child(pid, 10000, &st), 0);
	GT_ASSERT(WIFEXITED(st));
	GT_EQ(WEXITSTATUS(st), 0);

	/* a filter installed by a call inside a batch stops the rest */
	pid = fork();
	if (pid == 0) {
		struct sock_filter f[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
		struct sock_fprog prog = { .len = 1, .filter = f };
		struct sysring_call c[3];
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			_exit(20);
		c[0] = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
		c[1] = gt_call(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&prog, 0, 0, 0);
		c[2] = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
		if (gt_batch(fd, c, 3, 0) != 3)
			_exit(21);
		if (c[0].result != getpid() || c[1].result != 0 || c[2].result != -EPERM)
			_exit(22);
		_exit(0);
	}
	GT_EQ(gt_wait_child(pid, 10000, &st), 0);
	GT_ASSERT(WIFEXITED(st));
	GT_EQ(WEXITSTATUS(st), 0);
	GT_OK("seccomp'd processes refused (seccomp is bypassed by the module)");
}

static void test_creds(void)
{
	const char *secret = "/tmp/sysring-root-only";
	int st, sfd = open(secret, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	GT_ASSERT(sfd >= 0);
	close(sfd);
	if (getuid() != 0)
		GT_SKIP("needs root in the guest");

	pid_t pid = fork();
	if (pid == 0) {
		/* The root-opened fd is inherited; the child drops to nobody.
		 * Calls through the fd run with the child's credentials. */
		struct sysring_call c[4];
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(30);
		if (open(SYSRING_DEVICE_PATH, O_RDWR) >= 0 || errno != EACCES)
			_exit(31); /* mode 0600: root only */
		c[0] = gt_call(SYS_getuid, 0, 0, 0, 0, 0, 0);
		c[1] = gt_call(SYS_geteuid, 0, 0, 0, 0, 0, 0);
		c[2] = gt_call(SYS_openat, AT_FDCWD, (long)secret, O_RDONLY, 0, 0, 0);
		c[3] = gt_call(SYS_kill, 1, 0, 0, 0, 0, 0); /* signal init: not as nobody */
		if (gt_batch(fd, c, 4, 0) != 4)
			_exit(32);
		if (c[0].result != 65534 || c[1].result != 65534)
			_exit(33);
		if (c[2].result != -EACCES)
			_exit(34);
		if (c[3].result != -EPERM)
			_exit(35);
		_exit(0);
	}
	GT_EQ(gt_wait_child(pid, 10000, &st), 0);
	GT_ASSERT(WIFEXITED(st));
	GT_EQ(WEXITSTATUS(st), 0);
	unlink(secret);

	struct stat sb;
	GT_EQ(stat(SYSRING_DEVICE_PATH, &sb), 0);
	GT_EQ(sb.st_mode & 0777, 0600);
	GT_OK("caller's credentials only; device 0600");
}

static void test_big_and_kill(void)
{
	static struct sysring_call c[SYSRING_MAX_BATCH];
	pid_t me = getppid();

	for (unsigned int i = 0; i < SYSRING_MAX_BATCH; i++)
		c[i] = gt_call(SYS_getppid, 0, 0, 0, 0, 0, 0);
	GT_EQ(gt_batch(fd, c, SYSRING_MAX_BATCH, 0), SYSRING_MAX_BATCH);
	for (unsigned int i = 0; i < SYSRING_MAX_BATCH; i++)
		GT_EQ(c[i].result, me);

	/* A batch of 4096 x 20 ms sleeps (82 s) ends promptly on SIGKILL. */
	int st;
	pid_t pid = fork();
	if (pid == 0) {
		static struct timespec ts = { 0, 20000000 };
		for (unsigned int i = 0; i < SYSRING_MAX_BATCH; i++)
			c[i] = gt_call(SYS_nanosleep, (long)&ts, 0, 0, 0, 0, 0);
		gt_batch(fd, c, SYSRING_MAX_BATCH, 0);
		_exit(1);
	}
	usleep(300000);
	uint64_t t0 = gt_now_ns();
	kill(pid, SIGKILL);
	GT_EQ(gt_wait_child(pid, 5000, &st), 0);
	GT_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	printf("     killed in %.1f ms\n", (double)(gt_now_ns() - t0) / 1e6);
	GT_OK("4096-call batch; fatal signal ends a long batch");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = gt_open();
	test_info();
	test_basic();
	test_errors();
	test_bad_args();
	test_refused();
	test_restart();
	test_nesting();
	test_seccomp();
	test_creds();
	test_big_and_kill();
	close(fd);
	printf("kmod_batch: all passed\n");
	return 0;
}

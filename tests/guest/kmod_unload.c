/* SPDX-License-Identifier: MIT */
/*
 * sysring.ko: unloading with contexts open is refused (the open file, a
 * worker inside the module, a mapping without an fd, a looping syslet each
 * pin it), and works once they are gone; the permission model: the default
 * node is 0600, mode=0666 lets an ordinary user in, with its own
 * credentials only. Reloads the module as it found it.
 */
#include "gt_ring.h"

#include <pthread.h>
#include <sys/klog.h>
#include <sys/stat.h>

static const char *ko;

static long rmmod(void)
{
	long r = syscall(SYS_delete_module, "sysring", O_NONBLOCK);
	return r < 0 ? -errno : r;
}

static long insmod(const char *params)
{
	int kfd = open(ko, O_RDONLY | O_CLOEXEC);
	GT_ASSERT(kfd >= 0);
	long r = syscall(SYS_finit_module, kfd, params, 0);
	long e = r < 0 ? -errno : r;
	close(kfd);
	return e;
}

static void expect_busy(const char *what)
{
	long r = rmmod();
	if (r != -EWOULDBLOCK && r != -EBUSY)
		GT_FAIL("rmmod with %s open: %ld", what, r);
	GT_EQ(access(SYSRING_DEVICE_PATH, F_OK), 0);
}

static void *worker(void *p)
{
	long fd = (long)p;
	return (void *)gt_ioctl((int)fd, SYSRING_IOC_WORKER, 0);
}

static void test_refused_while_open(void)
{
	/* an open file */
	int fd = gt_open();
	expect_busy("an fd");

	/* a worker inside the module, its fd closed by the program */
	struct gt_ring r;
	pthread_t th;
	void *ret;
	GT_EQ(gt_ring_init(&r, fd, 8, 0, 0), 0);
	GT_EQ(pthread_create(&th, NULL, worker, (void *)(long)fd), 0);
	usleep(100000);
	int fd2 = dup(fd);
	close(fd);
	expect_busy("a worker");
	GT_EQ(gt_ioctl(fd2, SYSRING_IOC_DESTROY, 0), 0);
	pthread_join(th, &ret);
	GT_EQ((long)ret, 0);
	close(fd2);
	/* only the mapping is left */
	expect_busy("a mapping");
	GT_EQ(munmap(r.mem, r.s.mmap_size), 0);

	/* a syslet looping in another process */
	int st;
	int p[2];
	GT_EQ(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0) {
		long c = 0, one = 1, cp = (long)&c;
		struct syslet_uatom a;
		int sfd = gt_open();
		gt_atom(&a, 0, __NR_umem_add, NULL, &a, &cp, &one, NULL, NULL);
		GT_EQ(write(p[1], "g", 1), 1);
		gt_syslet(sfd, &a, SYSRING_SYSLET_MAX_ATOMS, NULL);
		_exit(1);
	}
	char ch;
	GT_EQ(read(p[0], &ch, 1), 1);
	usleep(100000);
	expect_busy("a looping syslet");
	kill(pid, SIGKILL);
	GT_EQ(gt_wait_child(pid, 5000, &st), 0);
	close(p[0]);
	close(p[1]);
	GT_OK("rmmod refused while a file, worker, mapping or syslet holds the module");
}

static void test_unload_reload(void)
{
	struct stat sb;
	int st;

	GT_EQ(rmmod(), 0);
	GT_EQ(access(SYSRING_DEVICE_PATH, F_OK), -1);
	GT_EQ(insmod("mode=01777"), -EINVAL); /* only permission bits */
	GT_EQ(insmod("mode=0666"), 0);
	GT_EQ(stat(SYSRING_DEVICE_PATH, &sb), 0);
	GT_EQ(sb.st_mode & 07777, 0666);

	const char *secret = "/tmp/sysring-root-only2";
	int sfd = open(secret, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	GT_ASSERT(sfd >= 0);
	close(sfd);
	pid_t pid = fork();
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(60);
		int fd = open(SYSRING_DEVICE_PATH, O_RDWR);
		if (fd < 0)
			_exit(61);
		struct sysring_call c[3] = { gt_call(SYS_getuid, 0, 0, 0, 0, 0, 0),
					     gt_call(SYS_openat, AT_FDCWD, (long)secret, O_RDONLY, 0, 0, 0),
					     gt_call(SYS_setuid, 0, 0, 0, 0, 0, 0) };
		if (gt_batch(fd, c, 3, 0) != 3)
			_exit(62);
		if (c[0].result != 65534 || c[1].result != -EACCES || c[2].result != -EPERM)
			_exit(63);
		/* a ring and a worker as nobody */
		struct gt_ring r;
		if (gt_ring_init(&r, fd, 4, 0, 0))
			_exit(64);
		_exit(0);
	}
	GT_EQ(gt_wait_child(pid, 10000, &st), 0);
	GT_ASSERT(WIFEXITED(st));
	GT_EQ(WEXITSTATUS(st), 0);
	unlink(secret);

	/* back to the default; the load says which dispatcher it uses: the
	 * kernel's own x64_sys_call where it has one (Debian's 6.1 does) */
	GT_EQ(rmmod(), 0);
	GT_EQ(insmod(""), 0);
	static char log[1 << 17];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, sizeof(log) - 1);
	GT_ASSERT(n > 0);
	log[n] = 0;
	char *last = NULL, *p = log;
	while ((p = strstr(p, "sysring: calls dispatched through "))) {
		last = p;
		p++;
	}
	GT_ASSERT(last);
	printf("     %.*s\n", (int)strcspn(last, "\n"), last);
	GT_ASSERT(!strncmp(last + strlen("sysring: calls dispatched through "), "x64_sys_call", 12));
	GT_EQ(stat(SYSRING_DEVICE_PATH, &sb), 0);
	GT_EQ(sb.st_mode & 07777, 0600);
	int fd = gt_open();
	struct sysring_call c = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	GT_EQ(gt_batch(fd, &c, 1, 0), 1);
	GT_EQ(c.result, getpid());
	close(fd);
	GT_OK("unload and reload; mode=0666 lets nobody in with nobody's rights");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	ko = getenv("SYSRING_KO");
	if (!ko || access(ko, R_OK))
		GT_SKIP("SYSRING_KO (the module file) not set");
	if (getuid() != 0)
		GT_SKIP("needs root");
	close(gt_open());
	test_refused_while_open();
	test_unload_reload();
	printf("kmod_unload: all passed\n");
	return 0;
}

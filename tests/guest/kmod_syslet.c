/* SPDX-License-Identifier: MIT */
/*
 * sysring.ko: the SYSLET ioctl, with the library's semantics: data flow
 * through arg_ptr (open -> read -> close with the fd flowing), stop
 * conditions, SKIP_TO_NEXT_ON_STOP to atom + 1, loops with umem_add, the
 * max-atoms bound and resuming, chains into unmapped or kernel memory
 * (-EFAULT), and a loop that only a signal ends: a handled signal returns
 * -EINTR with the atom to resume at, SIGKILL kills the process promptly;
 * and cached execution (SYSRING_SYSLET_CACHED).
 */
#include "gt.h"

#include <stddef.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

static int fd;

static void test_dataflow(void)
{
	struct syslet_uatom a[3];
	long dirfd = AT_FDCWD, path = (long)"/proc/version", flags = O_RDONLY, len = 200;
	long fdv = -1, nread = -1, closed = -1;
	char buf[256] = { 0 }, want[256] = { 0 };
	long bufp = (long)buf;
	struct sysring_syslet out;

	int vfd = open("/proc/version", O_RDONLY);
	GT_ASSERT(vfd >= 0);
	long wn = read(vfd, want, 200);
	close(vfd);

	/* openat(AT_FDCWD, path, O_RDONLY) -> fdv; read(fdv, buf, 200); close(fdv) */
	gt_atom(&a[0], SYSLET_STOP_ON_NEGATIVE, SYS_openat, &fdv, &a[1], &dirfd, &path, &flags, NULL);
	gt_atom(&a[1], SYSLET_STOP_ON_NEGATIVE, SYS_read, &nread, &a[2], &fdv, &bufp, &len, NULL);
	gt_atom(&a[2], 0, SYS_close, &closed, NULL, &fdv, NULL, NULL, NULL);
	GT_EQ(gt_syslet(fd, a, 0, &out), 0);
	GT_ASSERT(fdv >= 0);
	GT_EQ(nread, wn);
	GT_ASSERT(!memcmp(buf, want, (size_t)wn));
	GT_EQ(closed, 0);
	GT_EQ(out.count, 3);
	GT_EQ(out.done, (uintptr_t)&a[2]);
	GT_EQ(out.next, 0);
	GT_EQ(out.res, 0);
	GT_EQ(fcntl((int)fdv, F_GETFD), -1); /* really closed */

	/* stop: a missing file ends the syslet at atom 0 */
	path = (long)"/nonexistent";
	fdv = 0;
	nread = 12345;
	GT_EQ(gt_syslet(fd, a, 0, &out), 0);
	GT_EQ(fdv, -ENOENT);
	GT_EQ(nread, 12345);
	GT_EQ(out.count, 1);
	GT_EQ(out.done, (uintptr_t)&a[0]);
	GT_EQ(out.res, -ENOENT);
	GT_OK("open -> read -> close with the fd flowing; stop on negative");
}

static void test_skip(void)
{
	/* a[0]: close(-1) fails; STOP_ON_NEGATIVE + SKIP -> a[1] (the
	 * "else" branch), not a[0].next = a[2]. */
	struct syslet_uatom a[3];
	long bad = -1, r0 = 0, r1 = 0, r2 = 0;
	struct sysring_syslet out;

	gt_atom(&a[0], SYSLET_STOP_ON_NEGATIVE | SYSLET_SKIP_TO_NEXT_ON_STOP, SYS_close, &r0, &a[2],
		&bad, NULL, NULL, NULL);
	gt_atom(&a[1], 0, SYS_getpid, &r1, NULL, NULL, NULL, NULL, NULL);
	gt_atom(&a[2], 0, SYS_getppid, &r2, NULL, NULL, NULL, NULL, NULL);
	GT_EQ(gt_syslet(fd, a, 0, &out), 0);
	GT_EQ(r0, -EBADF);
	GT_EQ(r1, getpid());
	GT_EQ(r2, 0);
	GT_EQ(out.done, (uintptr_t)&a[1]);

	/* without a stop the chain follows next */
	r0 = r1 = r2 = 0;
	a[0].flags = SYSLET_STOP_ON_ZERO | SYSLET_SKIP_TO_NEXT_ON_STOP;
	GT_EQ(gt_syslet(fd, a, 0, &out), 0);
	GT_EQ(r1, 0);
	GT_EQ(r2, getppid());

	/* each stop condition */
	struct {
		unsigned long flag;
		long nr;
		int stops;
	} cases[] = {
		{ SYSLET_STOP_ON_NONZERO, SYS_getpid, 1 },	 { SYSLET_STOP_ON_NONZERO, SYS_sched_yield, 0 },
		{ SYSLET_STOP_ON_ZERO, SYS_sched_yield, 1 },	 { SYSLET_STOP_ON_ZERO, SYS_getpid, 0 },
		{ SYSLET_STOP_ON_NEGATIVE, SYS_getpid, 0 },	 { SYSLET_STOP_ON_NON_POSITIVE, SYS_sched_yield, 1 },
		{ SYSLET_STOP_ON_NON_POSITIVE, SYS_getpid, 0 },
	};
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gt_atom(&a[0], cases[i].flag, cases[i].nr, NULL, &a[1], NULL, NULL, NULL, NULL);
		gt_atom(&a[1], 0, SYS_getpid, NULL, NULL, NULL, NULL, NULL, NULL);
		GT_EQ(gt_syslet(fd, a, 0, &out), 0);
		GT_EQ(out.count, cases[i].stops ? 1 : 2);
	}
	GT_OK("stop conditions; SKIP_TO_NEXT_ON_STOP continues at atom + 1");
}

static void test_umem_loop(void)
{
	/* counter = -1000; loop { umem_add(&counter, 1) } until it is 0:
	 * exactly 1000 atoms. */
	long counter = -1000, one = 1, res = 0;
	long cptr = (long)&counter;
	struct syslet_uatom a;
	struct sysring_syslet out;

	gt_atom(&a, SYSLET_STOP_ON_ZERO, __NR_umem_add, &res, &a, &cptr, &one, NULL, NULL);
	GT_EQ(gt_syslet(fd, &a, 0, &out), 0);
	GT_EQ(counter, 0);
	GT_EQ(res, 0);
	GT_EQ(out.count, 1000);

	/* umem_add: a missing increment adds 0 (missing arguments are 0, as
	 * for every call, and as the library answers); errors: NULL address,
	 * unaligned, unmapped address */
	long nul = 0, unal = (long)((char *)&counter + 1), unmapped = 0x10;
	counter = 5;
	gt_atom(&a, 0, __NR_umem_add, &res, NULL, &cptr, NULL, NULL, NULL);
	GT_EQ(gt_syslet(fd, &a, 0, &out), 0);
	GT_EQ(res, 5);
	GT_EQ(counter, 5);
	gt_atom(&a, 0, __NR_umem_add, &res, NULL, &nul, &one, NULL, NULL);
	GT_EQ(gt_syslet(fd, &a, 0, &out), 0);
	GT_EQ(res, -EFAULT);
	gt_atom(&a, 0, __NR_umem_add, &res, NULL, &unal, &one, NULL, NULL);
	GT_EQ(gt_syslet(fd, &a, 0, &out), 0);
	GT_EQ(res, -EINVAL);
	gt_atom(&a, 0, __NR_umem_add, &res, NULL, &unmapped, &one, NULL, NULL);
	GT_EQ(gt_syslet(fd, &a, 0, &out), 0);
	GT_EQ(res, -EFAULT);

	/* read-only counter: the cmpxchg faults, -EFAULT */
	long pg = sysconf(_SC_PAGESIZE);
	long *ro = mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	GT_ASSERT(ro != MAP_FAILED);
	long rop = (long)ro;
	gt_atom(&a, 0, __NR_umem_add, &res, NULL, &rop, &one, NULL, NULL);
	GT_EQ(gt_syslet(fd, &a, 0, &out), 0);
	GT_EQ(res, -EFAULT);
	munmap(ro, (size_t)pg);
	GT_OK("umem_add loop (1000 atoms) and its errors");
}

static void test_bound_and_resume(void)
{
	long counter = 0, one = 1, cptr = (long)&counter;
	struct syslet_uatom a;
	struct sysring_syslet out;

	/* an endless loop, bounded by max_atoms, resumed where it paused */
	gt_atom(&a, 0, __NR_umem_add, NULL, &a, &cptr, &one, NULL, NULL);
	GT_EQ(gt_syslet(fd, &a, 5000, &out), SYSRING_SYSLET_PAUSED);
	GT_EQ(out.count, 5000);
	GT_EQ(counter, 5000);
	GT_EQ(out.next, (uintptr_t)&a);
	GT_EQ(gt_syslet(fd, (void *)(uintptr_t)out.next, 10, &out), SYSRING_SYSLET_PAUSED);
	GT_EQ(counter, 5010);

	/* bad arguments of the ioctl */
	struct sysring_syslet s = { .size = sizeof(s), .atom = (uintptr_t)&a };
	s.max_atoms = SYSRING_SYSLET_MAX_ATOMS + 1;
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_SYSLET, &s), -EINVAL);
	s.max_atoms = 1;
	s.flags = 0x80; /* unknown */
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_SYSLET, &s), -EINVAL);
	s.flags = 0;
	s.resv[1] = 1;
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_SYSLET, &s), -EINVAL);
	s.resv[1] = 0;
	s.atom = 0;
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_SYSLET, &s), -EINVAL);
	s.size = 12;
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_SYSLET, &s), -EINVAL);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_SYSLET, NULL), -EFAULT);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_SYSLET, (void *)0xffffffff81000000ul), -EFAULT);
	GT_OK("max_atoms bound and resume; bad ioctl arguments");
}

static void test_faults(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct sysring_syslet out;
	long r = 0, one = 1;
	char *m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	GT_ASSERT(m != MAP_FAILED);
	GT_EQ(munmap(m + pg, (size_t)pg), 0);
	struct syslet_uatom *a = (struct syslet_uatom *)m;
	struct syslet_uatom *hole = (struct syslet_uatom *)(m + pg);

	/* next points into unmapped memory */
	gt_atom(&a[0], 0, SYS_getpid, &r, hole, NULL, NULL, NULL, NULL);
	GT_EQ(gt_syslet(fd, a, 0, &out), -EFAULT);
	GT_EQ(r, getpid());
	GT_EQ(out.count, 1);
	GT_EQ(out.done, (uintptr_t)&a[0]);
	GT_EQ(out.next, (uintptr_t)hole);

	/* an atom straddling into the hole */
	struct syslet_uatom *edge = (struct syslet_uatom *)(m + pg - 16);
	GT_EQ(gt_syslet(fd, edge, 0, &out), -EFAULT);
	GT_EQ(out.count, 0);

	/* kernel addresses, NULL-ish, non-canonical */
	unsigned long evil[] = { 0xffffffff81000000ul, 0xffff888000000000ul, 8, 0x0000800000000000ul,
				 0xdead000000000000ul, (unsigned long)-80 };
	for (unsigned int i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		gt_atom(&a[0], 0, SYS_getpid, NULL, (struct syslet_uatom *)evil[i], NULL, NULL, NULL,
			NULL);
		GT_EQ(gt_syslet(fd, a, 0, &out), -EFAULT);
		GT_EQ(gt_syslet(fd, (struct syslet_uatom *)evil[i], 0, &out), -EFAULT);
	}

	/* ret_ptr unwritable: the call ran, -EFAULT */
	gt_atom(&a[0], 0, SYS_getpid, (long *)(m + pg), NULL, NULL, NULL, NULL, NULL);
	GT_EQ(gt_syslet(fd, a, 0, &out), -EFAULT);
	GT_EQ(out.done, (uintptr_t)&a[0]);
	GT_EQ(out.next, 0);
	gt_atom(&a[0], 0, SYS_getpid, (long *)0xffffffff81000000ul, NULL, NULL, NULL, NULL, NULL);
	GT_EQ(gt_syslet(fd, a, 0, &out), -EFAULT);

	/* an argument pointer that cannot be read: the atom's result is
	 * -EFAULT (call not made), stop conditions apply */
	gt_atom(&a[0], SYSLET_STOP_ON_NEGATIVE, SYS_close, &r, &a[1], (void *)(m + pg), NULL, NULL,
		NULL);
	gt_atom(&a[1], 0, SYS_getpid, NULL, NULL, NULL, NULL, NULL, NULL);
	GT_EQ(gt_syslet(fd, a, 0, &out), 0);
	GT_EQ(r, -EFAULT);
	GT_EQ(out.count, 1);

	/* refused and unknown calls inside a syslet */
	gt_atom(&a[0], 0, SYS_exit_group, &r, &a[1], &one, NULL, NULL, NULL);
	gt_atom(&a[1], 0, 4000, &one, NULL, NULL, NULL, NULL, NULL);
	GT_EQ(gt_syslet(fd, a, 0, &out), 0);
	GT_EQ(r, -EPERM);
	GT_EQ(one, -ENOSYS);
	one = 1;
	gt_atom(&a[0], 0, 0x100000000ul + SYS_getpid, &r, NULL, NULL, NULL, NULL, NULL);
	GT_EQ(gt_syslet(fd, a, 0, &out), 0);
	GT_EQ(r, -ENOSYS); /* not truncated to getpid */
	munmap(m, (size_t)pg);
	GT_OK("chains into unmapped/kernel memory, bad ret_ptr/arg_ptr, refused atoms");
}

static volatile sig_atomic_t got_sig;
static void on_sig(int s)
{
	(void)s;
	got_sig++;
}

static void test_signals(void)
{
	/* An endless loop (max 2^40 atoms: hours) that a handled signal
	 * interrupts with -EINTR and a resume point. */
	static long counter;
	long one = 1, cptr = (long)&counter;
	struct syslet_uatom a;
	struct sysring_syslet out;
	struct sigaction sa = { .sa_handler = on_sig };

	sigaction(SIGALRM, &sa, NULL);
	gt_atom(&a, 0, __NR_umem_add, NULL, &a, &cptr, &one, NULL, NULL);
	alarm(1);
	GT_EQ(gt_syslet(fd, &a, SYSRING_SYSLET_MAX_ATOMS, &out), -EINTR);
	GT_EQ(got_sig, 1);
	GT_EQ(out.next, (uintptr_t)&a);
	GT_EQ((long)out.count, counter);
	printf("     %lld atoms in 1 s before SIGALRM (emulated)\n", (long long)out.count);

	/* SIGKILL: fork a child that loops, kill it, it dies promptly. The
	 * counter is shared, so we see that the loop was running. */
	long *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	GT_ASSERT(shared != MAP_FAILED);
	pid_t pid = fork();
	if (pid == 0) {
		long sp = (long)shared;
		gt_atom(&a, 0, __NR_umem_add, NULL, &a, &sp, &one, NULL, NULL);
		gt_syslet(fd, &a, SYSRING_SYSLET_MAX_ATOMS, NULL);
		_exit(3);
	}
	for (int i = 0; i < 5000 && __atomic_load_n(shared, __ATOMIC_RELAXED) < 1000; i++)
		usleep(1000);
	long before = __atomic_load_n(shared, __ATOMIC_RELAXED);
	GT_ASSERT(before >= 1000);
	uint64_t t0 = gt_now_ns();
	GT_EQ(kill(pid, SIGKILL), 0);
	int st;
	GT_EQ(gt_wait_child(pid, 5000, &st), 0);
	GT_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	printf("     looping child (%ld atoms so far) killed in %.1f ms\n", before,
	       (double)(gt_now_ns() - t0) / 1e6);
	munmap(shared, 4096);
	GT_OK("endless loop: -EINTR on a handled signal, SIGKILL kills promptly");
}

static long gt_syslet_cached(struct syslet_uatom *atom, uint64_t max, struct sysring_syslet *out)
{
	struct sysring_syslet s = { .size = sizeof(s), .flags = SYSRING_SYSLET_CACHED,
				    .atom = (uintptr_t)atom, .max_atoms = max };
	long r = gt_ioctl(fd, SYSRING_IOC_SYSLET, &s);
	if (out)
		*out = s;
	return r;
}

/*
 * SYSRING_SYSLET_CACHED: atoms run while each completes without blocking;
 * the first that would block is handed back, not run, nothing of it done.
 */
static void test_cached(void)
{
	struct syslet_uatom a[3];
	struct sysring_syslet out;
	long r0, r1, r2, one = 1, cnt = 0, cp = (long)&cnt;
	char buf[64] = { 0 };
	long bufp = (long)buf, len = sizeof(buf), pfd;
	int p[2];

	/* a stream socket pair: recvfrom has its honest attempt (MSG_DONTWAIT)
	 * on every kernel, where RWF_NOWAIT on a pipe is newer than 6.1 */
	GT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	pfd = p[0];

	/* never-blocks calls and umem_add: everything runs */
	gt_atom(&a[0], 0, SYS_getppid, &r0, &a[1], NULL, NULL, NULL, NULL);
	gt_atom(&a[1], 0, __NR_umem_add, &r1, &a[2], &cp, &one, NULL, NULL);
	gt_atom(&a[2], 0, SYS_getpid, &r2, NULL, NULL, NULL, NULL, NULL);
	GT_EQ(gt_syslet_cached(a, 0, &out), 0);
	GT_EQ(out.count, 3);
	GT_EQ(r0, getppid());
	GT_EQ(r1, 1);
	GT_EQ(r2, getpid());
	GT_EQ(out.done, (uintptr_t)&a[2]);

	/* a receive on an empty socket would block: handed back, not run */
	long zero = 0;
	gt_atom(&a[0], 0, SYS_getpid, &r0, &a[1], NULL, NULL, NULL, NULL);
	gt_atom(&a[1], 0, SYS_recvfrom, &r1, &a[2], &pfd, &bufp, &len, &zero);
	r0 = r1 = r2 = 777;
	GT_EQ(gt_syslet_cached(a, 0, &out), SYSRING_SYSLET_WOULDBLOCK);
	GT_EQ(out.next, (uintptr_t)&a[1]);
	GT_EQ(out.count, 1);
	GT_EQ(r0, getpid());
	GT_EQ(r1, 777);
	GT_EQ(r2, 777);
	/* with data waiting it completes without blocking: all of it runs */
	GT_EQ(write(p[1], "hello", 5), 5);
	GT_EQ(gt_syslet_cached(a, 0, &out), 0);
	GT_EQ(out.count, 3);
	GT_EQ(r1, 5);
	GT_ASSERT(!memcmp(buf, "hello", 5));
	/* an O_NONBLOCK socket: EAGAIN is the plain call's own answer */
	GT_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	GT_EQ(gt_syslet_cached(a, 0, &out), 0);
	GT_EQ(r1, -EAGAIN);
	GT_EQ(fcntl(p[0], F_SETFL, 0), 0);
	/* SYSLET_ASYNC never runs cached */
	a[0].flags = SYSLET_ASYNC;
	GT_EQ(gt_syslet_cached(a, 0, &out), SYSRING_SYSLET_WOULDBLOCK);
	GT_EQ(out.next, (uintptr_t)&a[0]);
	GT_EQ(out.count, 0);
	a[0].flags = 0;

	/* SYSLET_SYNC is handed back too: the caller runs it (a signal with
	 * SA_RESTART must restart it, which the module cannot) */
	a[1].flags = SYSLET_SYNC;
	r1 = 777;
	GT_EQ(write(p[1], "late", 4), 4); /* even when it would not block */
	GT_EQ(gt_syslet_cached(a, 0, &out), SYSRING_SYSLET_WOULDBLOCK);
	GT_EQ(out.next, (uintptr_t)&a[1]);
	GT_EQ(r1, 777);
	GT_EQ(recv(p[0], buf, sizeof(buf), 0), 4);
	a[1].flags = 0;

	/* a partial send is not the plain call's answer on a blocking
	 * stream socket: the rest is sent, blocking (a child drains) */
	{
		static char big[65536];
		int q[2], sz = 8192;
		long qfd, qbuf = (long)big, qlen = sizeof(big), qfl = 0, sent = 0, pre = 0;

		memset(big, 'q', sizeof(big));
		GT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, q), 0);
		GT_EQ(setsockopt(q[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
		for (;;) {
			long n = send(q[0], big, 1024, MSG_DONTWAIT);
			if (n < 0)
				break;
			pre += n;
		}
		/* some room, less than the send: the attempt moves part */
		static char t[65536];
		GT_EQ(read(q[1], t, 4096), 4096);
		pre -= 4096;
		qfd = q[0];
		gt_atom(&a[0], 0, SYS_sendto, &sent, NULL, &qfd, &qbuf, &qlen, &qfl);
		pid_t pid = fork();
		if (pid == 0) {
			long got = 0;
			close(q[0]); /* EOF, not a hang, if the parent fails */
			usleep(50 * 1000);
			while (got < pre + (long)sizeof(big)) {
				long n = read(q[1], t, sizeof(t));
				if (n <= 0)
					_exit(1);
				got += n;
			}
			_exit(0);
		}
		GT_EQ(gt_syslet_cached(a, 0, &out), 0);
		GT_EQ(sent, (long)sizeof(big));
		int st;
		GT_EQ(gt_wait_child(pid, 5000, &st), 0);
		GT_EQ(WEXITSTATUS(st), 0);
		close(q[0]);
		close(q[1]);
	}

	/* unknown and refused calls answer at once, with their errno */
	gt_atom(&a[0], 0, SYS_fork, &r0, &a[1], NULL, NULL, NULL, NULL);
	gt_atom(&a[1], 0, 0x7ffffff0L, &r1, NULL, NULL, NULL, NULL, NULL);
	GT_EQ(gt_syslet_cached(a, 0, &out), 0);
	GT_EQ(r0, -EPERM);
	GT_EQ(r1, -ENOSYS);

	/* opens: a path in the dcache opens (RESOLVE_CACHED); O_CREAT would
	 * need I/O and is handed back, the file not created */
	long dirfd = AT_FDCWD, path = (long)"/init", oflags = O_RDONLY, fdv = -1, nread = -1;
	struct stat sb;
	GT_EQ(stat("/init", &sb), 0); /* now in the dcache */
	gt_atom(&a[0], SYSLET_STOP_ON_NEGATIVE, SYS_openat, &fdv, &a[1], &dirfd, &path, &oflags, NULL);
	gt_atom(&a[1], 0, SYS_read, &nread, NULL, &fdv, &bufp, &len, NULL);
	long r = gt_syslet_cached(a, 0, &out);
	GT_ASSERT(fdv >= 0);
	/* the read runs if this file system offers RWF_NOWAIT, else it is
	 * handed back; either way nothing ran twice */
	if (r == 0) {
		GT_EQ(nread, sb.st_size < 64 ? sb.st_size : 64);
	} else {
		GT_EQ(r, SYSRING_SYSLET_WOULDBLOCK);
		GT_EQ(out.next, (uintptr_t)&a[1]);
		GT_EQ(nread, -1);
	}
	close((int)fdv);
	path = (long)"/cached-create-test";
	oflags = O_RDWR | O_CREAT;
	fdv = 777;
	GT_EQ(gt_syslet_cached(a, 0, &out), SYSRING_SYSLET_WOULDBLOCK);
	GT_EQ(out.next, (uintptr_t)&a[0]);
	GT_EQ(fdv, 777);
	GT_EQ(access("/cached-create-test", F_OK), -1);

	/* bad input: the short struct has no scratch; unknown flags */
	struct sysring_syslet s = { .size = offsetof(struct sysring_syslet, scratch),
				    .flags = SYSRING_SYSLET_CACHED,
				    .atom = (uintptr_t)a };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_SYSLET, &s), -EINVAL);
	s.size = sizeof(s);
	s.flags = 0x80;
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_SYSLET, &s), -EINVAL);
	/* the struct of before (no scratch) still works without CACHED */
	gt_atom(&a[0], 0, SYS_getpid, &r0, NULL, NULL, NULL, NULL, NULL);
	s.size = offsetof(struct sysring_syslet, scratch);
	s.flags = 0;
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_SYSLET, &s), 0);
	GT_EQ(r0, getpid());
	close(p[0]);
	close(p[1]);
	GT_OK("cached: never-blocks and non-blocking attempts run, the first that would block is handed back");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = gt_open();
	test_dataflow();
	test_skip();
	test_umem_loop();
	test_bound_and_resume();
	test_faults();
	test_signals();
	test_cached();
	close(fd);
	printf("kmod_syslet: all passed\n");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Syslets: each flag alone and combined, data flow from one atom's result
 * into the next one's argument, stop conditions, skip to atom + 1, a loop
 * counting down with umem_add and STOP_ON_ZERO, cached vs async, NO_COMPLETE,
 * bad input, unregister with a syslet looping forever. Runs under the
 * engine matrix; with inline off nothing is cached.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

#define NSLOTS 16
static struct syslet_uatom *ring[NSLOTS];
static unsigned long ridx;
static int inl;

static void init_atom(struct syslet_uatom *atom, long nr, void *a0, void *a1, void *a2, void *a3,
		      void *a4, void *a5, void *ret_ptr, unsigned long flags, struct syslet_uatom *next)
{
	atom->nr = (unsigned long)nr;
	atom->arg_ptr[0] = a0;
	atom->arg_ptr[1] = a1;
	atom->arg_ptr[2] = a2;
	atom->arg_ptr[3] = a3;
	atom->arg_ptr[4] = a4;
	atom->arg_ptr[5] = a5;
	atom->ret_ptr = ret_ptr;
	atom->flags = flags;
	atom->next = next;
	atom->private = NULL;
}

/* Take the next completion from the ring (waiting for it). */
static struct syslet_uatom *next_completion(void)
{
	for (;;) {
		struct syslet_uatom *a = __atomic_load_n(&ring[ridx], __ATOMIC_ACQUIRE);
		if (a) {
			__atomic_store_n(&ring[ridx], NULL, __ATOMIC_RELEASE);
			ridx = (ridx + 1) % NSLOTS;
			return a;
		}
		T_ASSERT(async_wait(1) >= 0);
	}
}

/* Run a syslet; returns the atom that ended it if it went async (from the
 * ring), or the submitted atom if it completed cached. *cached tells which. */
static struct syslet_uatom *run(struct syslet_uatom *a, int *cached)
{
	struct syslet_uatom *done = async_exec(a);
	*cached = done != NULL;
	if (done) {
		T_EQ(done, a);
		return done;
	}
	return next_completion();
}

static int ring_empty(void)
{
	for (int i = 0; i < NSLOTS; i++)
		if (__atomic_load_n(&ring[i], __ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

static void *unregister_other(void *arg)
{
	/* another thread may unregister a ring by its address */
	return (void *)(long)async_unregister(arg, sizeof(struct async_head_user));
}

int main(void)
{
	struct async_head_user ahu = {0};
	struct syslet_uatom a[8], *done;
	int cached;
	const char *e = getenv("SYSRING_INLINE");
	inl = !e || strcmp(e, "0");
	t_watchdog(60);

	/* ---- bad input ---- */
	errno = 0;
	T_ASSERT(async_exec(NULL) == NULL && errno == EINVAL);
	T_ERRNO(async_register(NULL, sizeof(ahu)), EINVAL);
	ahu.completion_ring = ring;
	ahu.ring_size_bytes = sizeof(ring);
	ahu.max_nr_threads = -1UL;
	T_ERRNO(async_register(&ahu, sizeof(ahu) - 1), EINVAL);
	ahu.ring_size_bytes = 12; /* not a multiple of a pointer */
	T_ERRNO(async_register(&ahu, sizeof(ahu)), EINVAL);
	ahu.ring_size_bytes = sizeof(ring);
	ahu.completion_ring = NULL;
	T_ERRNO(async_register(&ahu, sizeof(ahu)), EINVAL);
	ahu.completion_ring = ring;
	T_ERRNO(async_wait(1), EINVAL); /* nothing registered on this thread */

	/* No ring registered: the syslet runs to its end on the caller, even
	 * one that would block, and the atom comes back (documented). */
	long pid_r = 0;
	init_atom(&a[0], SYS_getpid, NULL, NULL, NULL, NULL, NULL, NULL, &pid_r, SYSLET_ASYNC, NULL);
	T_EQ(async_exec(&a[0]), &a[0]);
	T_EQ(pid_r, getpid());

	/* register from a struct that then goes out of scope */
	{
		struct async_head_user tmp = ahu;
		T_EQ(async_register(&tmp, sizeof(tmp)), 0);
		memset(&tmp, 0xff, sizeof(tmp));
	}
	T_ERRNO(async_register(&ahu, sizeof(ahu)), EBUSY);
	T_EQ(async_wait(0), 0);
	T_EQ(async_wait(5), 0); /* nothing in flight: returns at once */

	/* ---- cached vs async ---- */
	pid_r = 0;
	init_atom(&a[0], SYS_getpid, NULL, NULL, NULL, NULL, NULL, NULL, &pid_r, 0, NULL);
	done = run(&a[0], &cached);
	T_EQ(cached, inl);
	T_EQ(pid_r, getpid());
	T_ASSERT(ring_empty()); /* nothing queued in the ring */

	int pf[2];
	T_EQ(pipe(pf), 0);
	long rfd = pf[0], one = 1, rres = 0;
	char c = 0;
	long cbuf = (long)&c;
	init_atom(&a[0], SYS_read, &rfd, &cbuf, &one, NULL, NULL, NULL, &rres, 0, NULL);
	T_EQ(async_exec(&a[0]), NULL); /* a read on an empty pipe goes async */
	usleep(10000);
	T_ASSERT(ring_empty());
	T_EQ(write(pf[1], "Q", 1), 1);
	T_EQ(next_completion(), &a[0]);
	T_EQ(rres, 1);
	T_EQ(c, 'Q');

	/* SYSLET_ASYNC: never cached, even for getpid */
	init_atom(&a[0], SYS_getpid, NULL, NULL, NULL, NULL, NULL, NULL, &pid_r, SYSLET_ASYNC, NULL);
	pid_r = 0;
	T_EQ(async_exec(&a[0]), NULL);
	T_EQ(next_completion(), &a[0]);
	T_EQ(pid_r, getpid());

	/* SYSLET_SYNC: runs on the caller even though it blocks */
	T_EQ(write(pf[1], "S", 1), 1);
	init_atom(&a[0], SYS_read, &rfd, &cbuf, &one, NULL, NULL, NULL, &rres, SYSLET_SYNC, NULL);
	rres = 0;
	T_EQ(async_exec(&a[0]), &a[0]);
	T_EQ(rres, 1);
	T_EQ(c, 'S');

	/* NO_COMPLETE: went async, ran, nothing in the ring */
	init_atom(&a[0], SYS_getppid, NULL, NULL, NULL, NULL, NULL, NULL, &pid_r, SYSLET_ASYNC | SYSLET_NO_COMPLETE,
		  NULL);
	pid_r = 0;
	T_EQ(async_exec(&a[0]), NULL);
	T_EQ(async_wait(1), 0); /* returns once nothing is in flight */
	T_EQ(pid_r, getppid());
	T_ASSERT(ring_empty());

	/* ---- data flow: open -> read (fd from open's result) -> close ---- */
	char path[] = "/tmp/sysring-syslet-XXXXXX";
	int tfd = mkstemp(path);
	T_EQ(write(tfd, "syslets!", 8), 8);
	close(tfd);
	long at = AT_FDCWD, pathp = (long)path, fl = O_RDONLY, zero = 0, fd = -1, len = 8, rr = 0, cr = -1;
	char buf[16] = {0};
	long bufp = (long)buf;
	init_atom(&a[0], SYS_openat, &at, &pathp, &fl, &zero, NULL, NULL, &fd, SYSLET_STOP_ON_NEGATIVE, &a[1]);
	init_atom(&a[1], SYS_read, (unsigned long *)&fd, &bufp, &len, NULL, NULL, NULL, &rr, SYSLET_STOP_ON_NEGATIVE,
		  &a[2]);
	init_atom(&a[2], SYS_close, (unsigned long *)&fd, NULL, NULL, NULL, NULL, NULL, &cr, 0, NULL);
	done = run(&a[0], &cached);
	if (!cached)
		T_EQ(done, &a[2]); /* the last atom ended it */
	T_ASSERT(fd >= 0);
	T_EQ(rr, 8);
	T_EQ(memcmp(buf, "syslets!", 8), 0);
	T_EQ(cr, 0);
	T_EQ(fcntl((int)fd, F_GETFD), -1); /* closed */

	/* a stop condition ends it at the failing atom: open fails */
	pathp = (long)"/nonexistent/x";
	fd = 0;
	rr = 12345;
	done = run(&a[0], &cached);
	T_EQ(fd, -ENOENT);
	T_EQ(rr, 12345); /* never ran */
	if (!cached)
		T_EQ(done, &a[0]);
	pathp = (long)path;

	/* ---- stop conditions, one by one ---- */
	struct {
		unsigned long flag;
		long nr;
		int stops;
	} conds[] = {
		{SYSLET_STOP_ON_NONZERO, SYS_getpid, 1},     {SYSLET_STOP_ON_NONZERO, SYS_sched_yield, 0},
		{SYSLET_STOP_ON_ZERO, SYS_sched_yield, 1},   {SYSLET_STOP_ON_ZERO, SYS_getpid, 0},
		{SYSLET_STOP_ON_NEGATIVE, SYS_close, 1},     {SYSLET_STOP_ON_NEGATIVE, SYS_getpid, 0},
		{SYSLET_STOP_ON_NON_POSITIVE, SYS_sched_yield, 1}, {SYSLET_STOP_ON_NON_POSITIVE, SYS_close, 1},
		{SYSLET_STOP_ON_NON_POSITIVE, SYS_getpid, 0},
	};
	long badfd = 99999, r0, r1;
	for (unsigned i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
		r0 = r1 = 777;
		init_atom(&a[0], conds[i].nr, &badfd, NULL, NULL, NULL, NULL, NULL, &r0, conds[i].flag, &a[1]);
		init_atom(&a[1], SYS_getppid, NULL, NULL, NULL, NULL, NULL, NULL, &r1, 0, NULL);
		run(&a[0], &cached);
		T_NE(r0, 777);
		if (conds[i].stops)
			T_EQ(r1, 777);
		else
			T_EQ(r1, getppid());
	}

	/* ---- skip to atom + 1: a branch ---- */
	/* a[0] fails and stops -> continues at a[1] (laid out after it), not
	 * at a[0].next (a[2]) */
	r0 = r1 = 777;
	long r2 = 777;
	init_atom(&a[0], SYS_close, &badfd, NULL, NULL, NULL, NULL, NULL, &r0,
		  SYSLET_STOP_ON_NEGATIVE | SYSLET_SKIP_TO_NEXT_ON_STOP, &a[2]);
	init_atom(&a[1], SYS_getpid, NULL, NULL, NULL, NULL, NULL, NULL, &r1, 0, NULL);
	init_atom(&a[2], SYS_getppid, NULL, NULL, NULL, NULL, NULL, NULL, &r2, 0, NULL);
	done = run(&a[0], &cached);
	T_EQ(r0, -EBADF);
	T_EQ(r1, getpid());
	T_EQ(r2, 777);
	if (!cached)
		T_EQ(done, &a[1]);
	/* no stop: follows next */
	long goodfd = dup(0);
	r0 = r1 = r2 = 777;
	init_atom(&a[0], SYS_close, &goodfd, NULL, NULL, NULL, NULL, NULL, &r0,
		  SYSLET_STOP_ON_NEGATIVE | SYSLET_SKIP_TO_NEXT_ON_STOP, &a[2]);
	run(&a[0], &cached);
	T_EQ(r0, 0);
	T_EQ(r1, 777);
	T_EQ(r2, getppid());

	/* ---- a loop: count down with umem_add until zero ---- */
	unsigned long counter = 50, iters = 0;
	long ctr_addr = (long)&counter, minus1 = -1, it_addr = (long)&iters, plus1 = 1, lr = 0, ir = 0;
	init_atom(&a[0], __NR_umem_add, (unsigned long *)&it_addr, (unsigned long *)&plus1, NULL, NULL, NULL, NULL,
		  &ir, 0, &a[1]);
	init_atom(&a[1], __NR_umem_add, (unsigned long *)&ctr_addr, (unsigned long *)&minus1, NULL, NULL, NULL,
		  NULL, &lr, SYSLET_STOP_ON_ZERO, &a[0]);
	done = run(&a[0], &cached);
	T_EQ(counter, 0);
	T_EQ(iters, 50);
	T_EQ(lr, 0);
	if (!cached)
		T_EQ(done, &a[1]);
	/* a loop with a blocking read in it: goes async part-way */
	counter = 3;
	long rlen = 1;
	init_atom(&a[0], SYS_read, &rfd, &cbuf, &rlen, NULL, NULL, NULL, &rres, SYSLET_STOP_ON_NON_POSITIVE, &a[1]);
	init_atom(&a[1], __NR_umem_add, (unsigned long *)&ctr_addr, (unsigned long *)&minus1, NULL, NULL, NULL,
		  NULL, &lr, SYSLET_STOP_ON_ZERO, &a[0]);
	T_EQ(write(pf[1], "ab", 2), 2); /* two reads succeed, the third waits */
	T_EQ(async_exec(&a[0]), NULL);
	usleep(10000);
	T_ASSERT(ring_empty());
	T_EQ(write(pf[1], "c", 1), 1);
	T_EQ(next_completion(), &a[1]);
	T_EQ(counter, 0);
	T_EQ(c, 'c');

	/* umem_add as a function */
	unsigned long v = 10;
	T_EQ(umem_add(&v, 5), 15);
	T_EQ(v, 15);
	T_ERRNO(umem_add(NULL, 1), EFAULT);
	/* an unaligned counter: EINVAL, nothing added, as through sysring.ko
	 * (guest kmod_syslet) -- as a function and as an atom */
	unsigned long pair[2] = {0, 0};
	unsigned long *unal = (unsigned long *)((char *)pair + 4);
	T_ERRNO(umem_add(unal, 1), EINVAL);
	T_EQ(pair[0], 0);
	T_EQ(pair[1], 0);
	{
		long ures = 777;
		unsigned long unal_addr = (unsigned long)unal, uone = 1;
		struct syslet_uatom u;
		init_atom(&u, __NR_umem_add, &unal_addr, &uone, NULL, NULL, NULL, NULL, &ures, 0, NULL);
		run(&u, &cached);
		T_EQ(ures, -EINVAL);
		T_EQ(pair[0], 0);
		T_EQ(pair[1], 0);
	}

	/* unknown and refused calls: their errno, stop conditions apply */
	r0 = r1 = 777;
	init_atom(&a[1], SYS_getppid, NULL, NULL, NULL, NULL, NULL, NULL, &r1, 0, NULL);
	init_atom(&a[0], 100000, NULL, NULL, NULL, NULL, NULL, NULL, &r0, SYSLET_STOP_ON_NEGATIVE, &a[1]);
	run(&a[0], &cached);
	T_EQ(r0, -ENOSYS);
	T_EQ(r1, 777);
	init_atom(&a[0], SYS_fork, NULL, NULL, NULL, NULL, NULL, NULL, &r0, 0, &a[1]);
	run(&a[0], &cached);
	T_EQ(r0, -EPERM);
	T_EQ(r1, getppid());

	/* ---- unregister with a syslet looping forever (blocking read +
	 * loop back): it is cancelled, unregister returns ---- */
	init_atom(&a[0], SYS_read, &rfd, &cbuf, &rlen, NULL, NULL, NULL, &rres, 0, &a[0]);
	T_EQ(async_exec(&a[0]), NULL);
	usleep(10000);
	/* and a non-blocking infinite loop too */
	init_atom(&a[4], SYS_getppid, NULL, NULL, NULL, NULL, NULL, NULL, &r2, 0, &a[4]);
	done = async_exec(&a[4]);
	T_EQ(done, NULL); /* the inline budget hands it to the executor */
	usleep(10000);
	pthread_t th;
	void *tret;
	pthread_create(&th, NULL, unregister_other, &ahu);
	pthread_join(th, &tret);
	T_EQ((long)tret, 0);
	T_ERRNO(async_wait(1), EINVAL); /* gone */
	T_ERRNO(async_unregister(&ahu, sizeof(ahu)), EINVAL);
	/* and a new registration works */
	memset(ring, 0, sizeof(ring));
	ridx = 0;
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	init_atom(&a[0], SYS_getpid, NULL, NULL, NULL, NULL, NULL, NULL, &pid_r, SYSLET_ASYNC, NULL);
	T_EQ(async_exec(&a[0]), NULL);
	T_EQ(next_completion(), &a[0]);
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);

	unlink(path);
	close(pf[0]);
	close(pf[1]);
	printf("syslet: ok (inline %s)\n", inl ? "on" : "off");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The caller always gets its thread back (issue 17 items 1 and 2):
 *   - an endless syslet loop whose atoms io_uring completes at once (pread
 *     of a cached file + a umem_add counter, next pointing back) leaves
 *     async_exec after a bounded amount of work on every engine, keeps
 *     running elsewhere, does not keep the owner's async_wait from seeing
 *     another syslet's completion, and is stopped by async_unregister from
 *     another thread;
 *   - pseudo atoms (umem_add, unknown and refused numbers) follow the
 *     documented rules: SYSLET_ASYNC and SYSRING_INLINE=0 send them to the
 *     completion ring, SYSLET_SYNC keeps them on the caller;
 *   - umem_add with arg_ptr[1] == NULL adds 0 (missing arguments are 0),
 *     in a syslet and through the async face.
 * Runs under the engine matrix.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

static int inline_off(void)
{
	const char *v = getenv("SYSRING_INLINE");
	return v && *v && !atoi(v);
}

/* Fails the test if the caller does not get its thread back in time. */
static uint64_t guard_until;
static const char *guard_what;
static void *guard_main(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t u = __atomic_load_n(&guard_until, __ATOMIC_ACQUIRE);
		if (u == 1)
			return NULL;
		if (u && t_now_ns() > u)
			T_FAIL("%s did not return within its bound", guard_what);
		usleep(10000);
	}
}

static void guard(const char *what, unsigned int ms)
{
	guard_what = what;
	__atomic_store_n(&guard_until, t_now_ns() + (uint64_t)ms * 1000000, __ATOMIC_RELEASE);
}

static void unguard(void)
{
	__atomic_store_n(&guard_until, 0, __ATOMIC_RELEASE);
}

static struct async_head_user g_ahu;

static void *unregister_main(void *arg)
{
	(void)arg;
	return (void *)(long)async_unregister(&g_ahu, sizeof(g_ahu));
}

static void *write_later(void *arg)
{
	usleep(100 * 1000);
	if (write((int)(long)arg, "w", 1) != 1)
		abort();
	return NULL;
}

/* counted: pread + umem_add; otherwise pread alone, its next itself (every
 * atom a call io_uring runs, whatever the inline setting). */
static void test_endless_loop(unsigned long pread_flags, int counted)
{
	static struct syslet_uatom *ring[8];
	static struct syslet_uatom loop[2], rd;
	static unsigned long counter;
	static long fd, buf, len = 4096, off = 0, one = 1, cptr, res0, res1;
	static long pfd0, pbuf, rres;
	static char data[4096], pb[2];
	char path[] = "/tmp/sysring-bounded-XXXXXX";
	int f = mkstemp(path), p[2];

	T_ASSERT(f >= 0);
	unlink(path);
	memset(data, 'q', sizeof(data));
	T_EQ(write(f, data, sizeof(data)), (long)sizeof(data));
	T_EQ(pread(f, data, sizeof(data), 0), (long)sizeof(data)); /* cached */
	T_EQ(pipe(p), 0);

	g_ahu = (struct async_head_user){ring, sizeof(ring), -1UL};
	T_EQ(async_register(&g_ahu, sizeof(g_ahu)), 0);
	fd = f;
	buf = (long)data;
	cptr = (long)&counter;
	memset(loop, 0, sizeof(loop));
	memset(ring, 0, sizeof(ring));
	counter = 0;
	loop[0].nr = SYS_pread64;
	loop[0].flags = pread_flags; /* SYSLET_ASYNC: no inline attempt, io_uring runs it */
	loop[0].arg_ptr[0] = (unsigned long *)&fd;
	loop[0].arg_ptr[1] = (unsigned long *)&buf;
	loop[0].arg_ptr[2] = (unsigned long *)&len;
	loop[0].arg_ptr[3] = (unsigned long *)&off;
	loop[0].ret_ptr = &res0;
	loop[0].next = &loop[1];
	loop[1].nr = __NR_umem_add;
	loop[1].arg_ptr[0] = (unsigned long *)&cptr;
	loop[1].arg_ptr[1] = (unsigned long *)&one;
	loop[1].ret_ptr = &res1;
	loop[1].next = &loop[0]; /* forever */
	if (!counted)
		loop[0].next = &loop[0];

	guard("async_exec of an endless loop", 3000);
	uint64_t t0 = t_now_ns();
	struct syslet_uatom *d = async_exec(&loop[0]);
	uint64_t ms = (t_now_ns() - t0) / 1000000;
	unguard();
	T_ASSERT(d == NULL); /* it never ends, so it went on elsewhere */
	printf("syslet_bounded: async_exec of an endless loop (pread flags %lu%s) returned after %llu ms\n",
	       pread_flags, counted ? ", umem_add" : "", (unsigned long long)ms);

	/* It runs on elsewhere (a loaded machine may not run it for a while:
	 * up to 3 s is allowed)... */
	unsigned long c1 = __atomic_load_n(&counter, __ATOMIC_RELAXED), c2 = c1;
	for (int i = 0; counted && i < 300 && c2 == c1; i++) {
		usleep(10 * 1000);
		c2 = __atomic_load_n(&counter, __ATOMIC_RELAXED);
	}
	T_ASSERT(c2 > c1 || !counted);

	/* ... and the caller's thread is its own: a cached syslet, and a wait
	 * for another syslet's completion, return in time. */
	static struct syslet_uatom g;
	static long gres;
	memset(&g, 0, sizeof(g));
	g.nr = SYS_getpid;
	g.ret_ptr = &gres;
	guard("async_exec of one getpid beside the loop", 3000);
	d = async_exec(&g);
	if (!d) {
		T_ASSERT(inline_off());
		T_EQ(async_wait(1), 1);
		T_ASSERT(ring[0] == &g);
		__atomic_store_n(&ring[0], NULL, __ATOMIC_RELEASE); /* the library reads slots from other threads */
		/* the next completion goes to slot 1 */
		__atomic_store_n(&ring[1], NULL, __ATOMIC_RELEASE); /* the library reads slots from other threads */
	}
	unguard();
	T_EQ(gres, getpid());
	unsigned int slot = d ? 0 : 1;

	pfd0 = p[0];
	pbuf = (long)pb;
	memset(&rd, 0, sizeof(rd));
	rd.nr = SYS_read;
	rd.flags = SYSLET_ASYNC;
	rd.arg_ptr[0] = (unsigned long *)&pfd0;
	rd.arg_ptr[1] = (unsigned long *)&pbuf;
	rd.arg_ptr[2] = (unsigned long *)&one;
	rd.ret_ptr = &rres;
	T_ASSERT(async_exec(&rd) == NULL);
	pthread_t w;
	pthread_create(&w, NULL, write_later, (void *)(long)p[1]);
	guard("async_wait for a completion beside the loop", 5000);
	long n = async_wait(1);
	unguard();
	pthread_join(w, NULL);
	T_EQ(n, 1);
	T_ASSERT(ring[slot] == &rd);
	T_EQ(rres, 1);
	__atomic_store_n(&ring[slot], NULL, __ATOMIC_RELEASE); /* the library reads slots from other threads */

	/* async_unregister from another thread stops the loop. */
	pthread_t u;
	void *ur;
	guard("async_unregister of an endless loop", 3000);
	pthread_create(&u, NULL, unregister_main, NULL);
	pthread_join(u, &ur);
	unguard();
	T_EQ((long)ur, 0);
	c1 = __atomic_load_n(&counter, __ATOMIC_RELAXED);
	usleep(50 * 1000);
	c2 = __atomic_load_n(&counter, __ATOMIC_RELAXED);
	T_EQ(c2, c1);
	/* read once nothing writes it any more (unregister joined them) */
	T_ASSERT(res0 == 4096 || res0 == -ECANCELED);
	printf("syslet_bounded: the loop ran %lu rounds, stopped by async_unregister\n", c2);
	close(f);
	close(p[0]);
	close(p[1]);
}

/* A syslet of pseudo atoms: with SYSLET_ASYNC (or inline off) it completes
 * through the ring, otherwise cached; SYSLET_SYNC stays on the caller. */
static void test_pseudo_atoms(void)
{
	static struct syslet_uatom *ring[8];
	static struct syslet_uatom a[3];
	static unsigned long counter;
	static long cptr, two = 2, res[3];
	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	unsigned long idx = 0;
	int off = inline_off();

	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	cptr = (long)&counter;
	const long nrs[] = {__NR_umem_add, 100000 /* unknown */, SYS_exit_group /* refused */};
	const long want[] = {0, -ENOSYS, -EPERM};
	for (int which = 0; which < 3; which++) {
		for (int flags = 0; flags < 3; flags++) {
			unsigned long fl = flags == 0 ? 0 : flags == 1 ? SYSLET_ASYNC : SYSLET_SYNC;
			unsigned long before = counter;
			memset(a, 0, sizeof(a));
			for (int i = 0; i < 3; i++) {
				a[i].nr = (unsigned long)nrs[which];
				a[i].flags = fl;
				a[i].arg_ptr[0] = (unsigned long *)&cptr;
				a[i].arg_ptr[1] = (unsigned long *)&two;
				a[i].ret_ptr = &res[i];
				a[i].next = i < 2 ? &a[i + 1] : NULL;
			}
			struct syslet_uatom *d = async_exec(&a[0]);
			int want_async = fl == SYSLET_ASYNC || (off && fl != SYSLET_SYNC);
			if (want_async) {
				if (d != NULL)
					T_FAIL("nr %ld flags %lu (inline %s): completed cached, want async", nrs[which],
					       fl, off ? "off" : "on");
				T_EQ(async_wait(1), 1);
				T_ASSERT(ring[idx] == &a[2]);
				__atomic_store_n(&ring[idx], NULL, __ATOMIC_RELEASE); /* the library reads slots from other threads */
				idx = (idx + 1) % 8;
			} else {
				if (d != &a[0])
					T_FAIL("nr %ld flags %lu (inline %s): went async, want cached", nrs[which], fl,
					       off ? "off" : "on");
			}
			for (int i = 0; i < 3; i++)
				T_EQ(res[i], which == 0 ? (long)(before + 2 * (i + 1)) : want[which]);
		}
	}
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
}

/* umem_add's missing arguments are 0. */
static void test_umem_add_args(void)
{
	static unsigned long counter = 40;
	static long cptr, res;
	static struct syslet_uatom a;

	cptr = (long)&counter;
	memset(&a, 0, sizeof(a));
	a.nr = __NR_umem_add;
	a.arg_ptr[0] = (unsigned long *)&cptr; /* no increment: 0 */
	a.ret_ptr = &res;
	T_ASSERT(async_exec(&a) == &a); /* no ring on this thread: runs here */
	T_EQ(res, 40);
	a.arg_ptr[0] = NULL; /* no counter: -EFAULT */
	T_ASSERT(async_exec(&a) == &a);
	T_EQ(res, -EFAULT);
	T_EQ(counter, 40);

	/* a chain (the module, where present, runs a syslet's cached part in
	 * one crossing: the same answers there) */
	static struct syslet_uatom ch[2];
	static long cres[2];
	memset(ch, 0, sizeof(ch));
	for (int i = 0; i < 2; i++) {
		ch[i].nr = __NR_umem_add;
		ch[i].arg_ptr[0] = i ? NULL : (unsigned long *)&cptr;
		ch[i].ret_ptr = &cres[i];
	}
	ch[0].next = &ch[1];
	T_ASSERT(async_exec(&ch[0]) == &ch[0]);
	T_EQ(cres[0], 40);
	T_EQ(cres[1], -EFAULT);

	/* the same through a registration and through the async face */
	static struct syslet_uatom *ring[4];
	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	a.arg_ptr[0] = (unsigned long *)&cptr;
	a.flags = SYSLET_ASYNC;
	res = 0;
	T_ASSERT(async_exec(&a) == NULL);
	T_EQ(async_wait(1), 1);
	T_EQ(res, 40);
	__atomic_store_n(&ring[0], NULL, __ATOMIC_RELEASE); /* the library reads slots from other threads */
	cres[0] = cres[1] = 0;
	struct syslet_uatom *d = async_exec(&ch[0]); /* cached, unless inline is off */
	if (!d) {
		T_EQ(async_wait(1), 1);
		T_ASSERT(ring[1] == &ch[1]);
	}
	T_EQ(cres[0], 40);
	T_EQ(cres[1], -EFAULT);
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);

	async_context_t ctx;
	struct async_event ev[1];
	struct {
		long number;
		void *vargs[2];
	} cb = {__NR_umem_add, {&cptr, NULL}};
	struct async_cb *cbs[1] = {(struct async_cb *)&cb};
	T_EQ(async_setup(4, &ctx), 0);
	T_EQ(async_submit(ctx, 1, cbs), 1);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, 40);
	T_EQ(async_destroy(ctx), 0);
}

int main(int argc, char **argv)
{
	pthread_t gt;
	t_watchdog(120);
	pthread_create(&gt, NULL, guard_main, NULL);
	if (argc < 2 || !strcmp(argv[1], "loop")) {
		test_endless_loop(0, 1);
		test_endless_loop(SYSLET_ASYNC, 1);
		test_endless_loop(0, 0);
		test_endless_loop(SYSLET_ASYNC, 0);
	}
	if (argc < 2 || !strcmp(argv[1], "pseudo"))
		test_pseudo_atoms();
	if (argc < 2 || !strcmp(argv[1], "umem"))
		test_umem_add_args();
	__atomic_store_n(&guard_until, 1, __ATOMIC_RELEASE);
	pthread_join(gt, NULL);
	printf("syslet_bounded: ok\n");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Faults in memory only the faces name (issue 12 item 2): a cb or the cb
 * array unmapped, a syslet atom, its ret_ptr or its next in unmapped or
 * read-only memory, umem_add's counter, an epoll_event pushed into a batch.
 * The plain calls have no such pointers, so the expected answers are the
 * faces' documented ones (the 2007 syslets' get_user/put_user: -EFAULT, the
 * syslet ends at the atom whose result or successor could not be handled),
 * and above all: no SIGSEGV, nothing else run, every event delivered. Run
 * under the engine matrix; the rest of the fault kind (arguments, buffers,
 * stat buffers, offsets, address lengths, open_how) is in the conformance
 * table, against the plain call.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>
#include <sysring/batchsys.h>

static char *hole, *ro;
static struct syslet_uatom *ring[16];
static unsigned ring_next;
static int pfd[2];

static long pending(void)
{
	char buf[256];
	long n = 0, r;
	while ((r = read(pfd[0], buf, sizeof(buf))) > 0)
		n += r;
	return n;
}

static int cached;

/* async_exec, then the atom that ended the syslet (from the ring if it went
 * async; a cached syslet gives back its first atom, as documented). */
static struct syslet_uatom *run(struct syslet_uatom *a)
{
	struct syslet_uatom *done = async_exec(a), *end;
	cached = done != NULL;
	if (done)
		return done;
	T_ASSERT(async_wait(1) >= 1);
	end = ring[ring_next];
	ring[ring_next] = NULL;
	ring_next = (ring_next + 1) % 16;
	return end;
}

static long one = 1;
static long vfd, vbuf, vlen = 3;

/* atom i: write(pfd[1], "abc", 3) */
static void mk_write(struct syslet_uatom *a, unsigned long flags, long *ret, struct syslet_uatom *next)
{
	memset(a, 0, sizeof(*a));
	a->flags = flags;
	a->nr = SYS_write;
	a->ret_ptr = ret;
	a->next = next;
	a->arg_ptr[0] = (unsigned long *)&vfd;
	a->arg_ptr[1] = (unsigned long *)&vbuf;
	a->arg_ptr[2] = (unsigned long *)&vlen;
}

static void syslet_cases(unsigned long flags, const char *label)
{
	struct syslet_uatom at[3], *end;
	long r0 = 77, r1 = 77;

	/* ret_ptr unmapped: the call ran, the syslet ends at it */
	mk_write(&at[0], flags, (long *)hole, &at[1]);
	mk_write(&at[1], flags, &r1, NULL);
	end = run(&at[0]);
	T_EQ(end, &at[0]);
	T_EQ(pending(), 3);
	T_EQ(r1, 77);
	/* ret_ptr read-only */
	mk_write(&at[0], flags, (long *)ro, &at[1]);
	end = run(&at[0]);
	T_EQ(end, &at[0]);
	T_EQ(pending(), 3);
	T_EQ(ro[0], 'R');
	/* next unmapped: the first atom ran and ends it */
	mk_write(&at[0], flags, &r0, (struct syslet_uatom *)hole);
	end = run(&at[0]);
	T_EQ(end, &at[0]);
	T_EQ(r0, 3);
	T_EQ(pending(), 3);
	/* next straddles into the hole: it cannot be read whole */
	mk_write(&at[0], flags, &r0, (struct syslet_uatom *)(hole - 40));
	r0 = 77;
	end = run(&at[0]);
	T_EQ(end, &at[0]);
	T_EQ(r0, 3);
	T_EQ(pending(), 3);
	/* an argument pointer unmapped: that atom's result is -EFAULT, the
	 * chain goes on (no stop flag) */
	mk_write(&at[0], flags, &r0, &at[1]);
	mk_write(&at[1], flags, &r1, NULL);
	at[0].arg_ptr[1] = (unsigned long *)(hole + 8);
	end = run(&at[0]);
	T_EQ(end, cached ? &at[0] : &at[1]);
	T_EQ(r0, -EFAULT);
	T_EQ(r1, 3);
	T_EQ(pending(), 3);
	/* umem_add with its counter unmapped */
	{
		static long ctr_addr;
		ctr_addr = (long)hole;
		struct syslet_uatom u;
		memset(&u, 0, sizeof(u));
		u.flags = flags;
		u.nr = __NR_umem_add;
		u.ret_ptr = &r0;
		u.arg_ptr[0] = (unsigned long *)&ctr_addr;
		u.arg_ptr[1] = (unsigned long *)&one;
		end = run(&u);
		T_EQ(end, &u);
		T_EQ(r0, -EFAULT);
	}
	printf("faults: syslet cases ok (%s)\n", label);
}

static void *unregistered_thread(void *arg)
{
	struct syslet_uatom at[2];
	long r1 = 77;
	(void)arg;
	/* no ring on this thread: the syslet runs on it, in full */
	mk_write(&at[0], 0, (long *)hole, &at[1]);
	mk_write(&at[1], 0, &r1, NULL);
	T_EQ(async_exec(&at[0]), &at[0]);
	T_EQ(r1, 77);
	mk_write(&at[0], 0, &r1, (struct syslet_uatom *)hole);
	T_EQ(async_exec(&at[0]), &at[0]);
	T_EQ(r1, 3);
	T_EQ(async_exec((struct syslet_uatom *)hole), (struct syslet_uatom *)hole);
	return NULL;
}

int main(void)
{
	struct async_head_user ahu = {.completion_ring = ring, .ring_size_bytes = sizeof(ring), .max_nr_threads = -1UL};
	async_context_t ctx;
	struct async_event ev[4];
	char *m;

	t_watchdog(120);
	m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(m != MAP_FAILED);
	ro = m;
	hole = m + 4096;
	memset(ro, 'R', 4096);
	*(long *)(ro + 4096 - 16) = SYS_write; /* a cb whose vargs run into the hole */
	T_EQ(mprotect(ro, 4096, PROT_READ), 0);
	T_EQ(mprotect(hole, 4096, PROT_NONE), 0);
	T_EQ(pipe2(pfd, O_NONBLOCK), 0);
	vfd = pfd[1];
	vbuf = (long)"abc";

	/* ---- the async face ---- */
	T_EQ(async_setup(16, &ctx), 0);
	{
		struct async_cb *bad = (struct async_cb *)hole;
		T_ERRNO(async_submit(ctx, 1, &bad), EFAULT);
		T_ERRNO(async_submit(ctx, 1, (struct async_cb **)hole), EFAULT);
		/* vargs running into the hole: the cb's number is readable */
		struct async_cb *edge = (struct async_cb *)(hole - 16);
		T_ERRNO(async_submit(ctx, 1, &edge), EFAULT);
		/* a good cb and a bad one: nothing is queued */
		struct async_cb *good = async_cb_new(SYS_write, 3, (long)pfd[1], (long)"abc", 3L);
		struct async_cb *two[2] = {good, bad};
		T_ERRNO(async_submit(ctx, 2, two), EFAULT);
		T_EQ(async_check_events(ctx, 0, 4, ev, NULL), 0);
		T_EQ(pending(), 0);
		/* vargs[1] points into the hole: the call's event is -EFAULT */
		struct {
			long number;
			void *vargs[4];
		} cb = {SYS_write, {&vfd, hole + 8, &vlen, NULL}};
		struct async_cb *cbp = (struct async_cb *)&cb;
		T_EQ(async_submit(ctx, 1, &cbp), 1);
		T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
		T_EQ(ev[0].res, -EFAULT);
		T_EQ(pending(), 0);
		/* umem_add's counter unmapped */
		struct async_cb *u = async_cb_new(__NR_umem_add, 2, (long)hole, 1L);
		T_EQ(async_submit(ctx, 1, &u), 1);
		T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
		T_EQ(ev[0].res, -EFAULT);
		async_cb_free(u);
		async_cb_free(good);
	}
	T_EQ(async_destroy(ctx), 0);
	printf("faults: async cases ok\n");

	/* ---- the public umem_add ---- */
	T_ERRNO(umem_add((unsigned long *)hole, 1), EFAULT);
	T_ERRNO(umem_add((unsigned long *)ro, 1), EFAULT);

	/* ---- syslets, on a registered thread ---- */
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	syslet_cases(0, "cached where possible");
	syslet_cases(SYSLET_ASYNC, "SYSLET_ASYNC");
	/* the first atom itself unreadable: nothing runs, nothing in the ring */
	T_EQ(async_exec((struct syslet_uatom *)hole), (struct syslet_uatom *)hole);
	T_EQ(async_wait(0), 0);
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);

	/* ---- syslets on a thread without a ring ---- */
	pthread_t t;
	T_EQ(pthread_create(&t, NULL, unregistered_thread, NULL), 0);
	T_EQ(pthread_join(t, NULL), 0);
	T_EQ(pending(), 6);

	/* ---- a batch: an epoll_event that cannot be read ---- */
	int h = batchsys_open(), ep = epoll_create1(0);
	batchsys_batch_t *b = batchsys_batch_alloc(h);
	T_ASSERT(h >= 0 && ep >= 0 && b);
	T_EQ(batchsys_push_epoll_ctl(b, ep, EPOLL_CTL_ADD, pfd[0], (struct epoll_event *)hole), 1);
	T_EQ(batchsys_post_batch(h, b), 1);
	T_EQ(batch_batch_get_result(b, 0)->result, -1);
	T_EQ(batch_batch_get_result(b, 0)->error, EFAULT);
	batchsys_batch_free(b);
	batchsys_close(h);
	close(ep);
	printf("faults: ok\n");
	return 0;
}

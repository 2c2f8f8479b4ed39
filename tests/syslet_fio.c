/* SPDX-License-Identifier: MIT */
/*
 * The syslet face as fio's syslet-rw engine of 2007 used it, written anew
 * in its shape: an io engine with a queue depth, whose pending I/Os are
 * chained into one syslet per commit (atom->next), each atom pointing at
 * its I/O through `private`; async_exec returns the submitted atom when the
 * chain ran cached (the seed's rule), and otherwise the atom that ended it appears in the
 * per-thread completion ring, whose slots the engine clears itself while it
 * walks its own ring index (wrapping at the queue depth), calling
 * async_wait(1) when it needs more. The async_head_user is a local that
 * goes out of scope after registration, as in fio's first engine.
 *
 * Checks: every I/O completes exactly once with the right bytes, chains that
 * block (reads from pipes filled later by another thread) and chains that
 * run cached (regular files) both finish, and the ring never loses or
 * duplicates an entry.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring/syslet.h>

#define DEPTH 8
#define ROUNDS 200
#define BS 64

struct io_u {
	struct syslet_uatom atom;
	struct syslet_uatom *head; /* first atom of the chain it was committed in */
	long fd, buf, len, off, ret;
	char data[BS];
	int done;
	int expect; /* byte value the data must hold */
};

static struct io_u ios[DEPTH];
static struct syslet_uatom *ring[DEPTH];
static unsigned long user_ring_idx;
static struct syslet_uatom *qhead, *qtail;
static int nevents, completed_total;

static void complete_atom(struct syslet_uatom *last)
{
	/* from the beginning of the chain up to and including this atom */
	struct io_u *io = last->private;
	struct syslet_uatom *a = io->head;

	for (;;) {
		io = a->private;
		T_EQ(io->done, 0); /* exactly once */
		io->done = 1;
		T_EQ(io->ret, BS);
		for (int k = 0; k < BS; k++)
			if (io->data[k] != (char)io->expect)
				T_FAIL("io %ld: byte %d is %d, want %d", (long)(io - ios), k, io->data[k],
				       io->expect);
		nevents++;
		completed_total++;
		if (a == last)
			break;
		a = a->next;
	}
	T_ASSERT(!last->next);
}

static void reap_ring(void)
{
	for (;;) {
		/* fio read and cleared the slot with plain accesses (the
		 * kernel wrote it); with a library thread writing it, C needs
		 * the acquire load (pairs with the library's release store of
		 * the slot) and an atomic clear. */
		struct syslet_uatom *a = __atomic_load_n(&ring[user_ring_idx], __ATOMIC_ACQUIRE);
		if (!a)
			break;
		__atomic_store_n(&ring[user_ring_idx], NULL, __ATOMIC_RELAXED);
		if (++user_ring_idx == DEPTH)
			user_ring_idx = 0;
		complete_atom(a);
	}
}

static void getevents(int min)
{
	for (;;) {
		reap_ring();
		if (nevents >= min)
			break;
		T_ASSERT(async_wait(1) >= 0);
	}
	nevents = 0;
}

static void queue(struct io_u *io, int fd, long off, int expect)
{
	memset(&io->atom, 0, sizeof(io->atom));
	io->fd = fd;
	io->buf = (long)io->data;
	io->len = BS;
	io->off = off;
	io->ret = 0;
	io->done = 0;
	io->expect = expect;
	memset(io->data, 0, BS);
	io->atom.nr = off < 0 ? __NR_read : __NR_pread64;
	io->atom.ret_ptr = &io->ret;
	io->atom.arg_ptr[0] = (unsigned long *)&io->fd;
	io->atom.arg_ptr[1] = (unsigned long *)&io->buf;
	io->atom.arg_ptr[2] = (unsigned long *)&io->len;
	io->atom.arg_ptr[3] = off < 0 ? NULL : (unsigned long *)&io->off;
	io->atom.private = io;
	if (qtail) {
		qtail->next = &io->atom;
		qtail = &io->atom;
	} else {
		qhead = qtail = &io->atom;
	}
	io->head = qhead;
}

static void commit(void)
{
	struct syslet_uatom *done;

	if (!qhead)
		return;
	struct syslet_uatom *head = qhead, *tail = qtail;
	qhead = qtail = NULL;
	done = async_exec(head);
	if (done) {
		/* cached: the seed returns the submitted atom, and the whole
		 * chain ran */
		T_ASSERT(done == head);
		complete_atom(tail);
	}
}

struct feeder {
	int wfd;
	int expect;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	char b[BS];
	memset(b, f->expect, sizeof(b));
	usleep(2000);
	T_EQ(write(f->wfd, b, sizeof(b)), BS);
	return NULL;
}

static void register_ring(void)
{
	/* a local, as fio's first engine had: the library copies it */
	struct async_head_user ahu;
	memset(&ahu, 0, sizeof(ahu));
	ahu.completion_ring = ring;
	ahu.ring_size_bytes = sizeof(ring);
	ahu.max_nr_threads = -1UL;
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
}

int main(void)
{
	char path[] = "/tmp/sysring-fio-XXXXXX";
	int ffd = mkstemp(path);
	char blk[BS * DEPTH];

	t_watchdog(60);
	T_ASSERT(ffd >= 0);
	unlink(path);
	for (int i = 0; i < DEPTH; i++)
		memset(blk + i * BS, 'a' + i, BS);
	T_EQ(write(ffd, blk, sizeof(blk)), (long)sizeof(blk));
	register_ring();

	int rounds = (int)(ROUNDS * t_scale());
	if (rounds < 4)
		rounds = 4;
	for (int r = 0; r < rounds; r++) {
		/* half the rounds: a chain of DEPTH preads of a regular file,
		 * which runs cached; the other half: reads from pipes that a
		 * thread fills later, so the chain goes async and ends in the
		 * ring (the first atom to block takes the rest with it) */
		if (r % 2 == 0) {
			for (int i = 0; i < DEPTH; i++)
				queue(&ios[i], ffd, (long)i * BS, 'a' + i);
			commit();
			getevents(DEPTH);
		} else {
			int p[DEPTH / 2][2];
			pthread_t th[DEPTH / 2];
			struct feeder fd_[DEPTH / 2];
			/* two commits of DEPTH/2 each: two chains in flight */
			for (int c = 0; c < 2; c++) {
				for (int i = 0; i < DEPTH / 2; i++) {
					int k = c * DEPTH / 2 + i;
					if (c == 0) {
						T_EQ(pipe(p[i]), 0);
						queue(&ios[k], p[i][0], -1, 'A' + i);
					} else {
						queue(&ios[k], ffd, (long)k * BS, 'a' + k);
					}
				}
				commit();
			}
			for (int i = 0; i < DEPTH / 2; i++) {
				fd_[i] = (struct feeder){p[i][1], 'A' + i};
				T_EQ(pthread_create(&th[i], NULL, feed, &fd_[i]), 0);
			}
			getevents(DEPTH);
			for (int i = 0; i < DEPTH / 2; i++) {
				pthread_join(th[i], NULL);
				close(p[i][0]);
				close(p[i][1]);
			}
		}
		for (int i = 0; i < DEPTH; i++)
			T_EQ(ios[i].done, 1);
	}
	T_EQ(completed_total, rounds * DEPTH);
	/* nothing left: the ring is empty, async_wait returns at once */
	T_EQ(async_wait(1), 0);
	struct async_head_user ahu = {.completion_ring = ring, .ring_size_bytes = sizeof(ring)};
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	close(ffd);
	printf("syslet_fio: ok (%d I/Os in %d rounds)\n", completed_total, rounds);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * sysring.ko: a call that drops the last reference to a file has its whole
 * effect by the time its result can be seen, as for the plain call.
 *
 * The kernel defers the final fput of a file (the pipe's writer count, the
 * socket's shutdown, a flock's release, ...) to task work, which a plain
 * call runs on its way back to user space, before the caller sees the
 * result. A ring worker does not go back to user space between entries, so
 * the module must run that work before it posts the completion; BATCH and
 * SYSLET must run it before the next call of the same batch or syslet.
 *
 * Each way of dropping the last reference -- close, dup2 and dup3 over the
 * fd, close_range -- on a pipe's write end (the reader must see end of
 * file, not EAGAIN), one end of a stream socketpair (the peer sees end of
 * file), the fd holding a flock (another open file description's LOCK_NB
 * must succeed), a listening TCP socket (its port is free: another socket
 * binds it), a FIFO's only writer (the reader sees end of file), through:
 *   - a ring worker: the submitter spins on the completion ring and looks
 *     at once, on the other CPU (many rounds: before the fix the look won
 *     the race against the worker's deferred fput often);
 *   - BATCH: [drop, look] in one batch, the look is a call of the batch;
 *   - SYSLET, plain and CACHED: the same two atoms.
 */
#include "gt_ring.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

enum how { H_CLOSE, H_DUP2, H_DUP3, H_CLOSE_RANGE, H__COUNT };
static const char *how_name[H__COUNT] = { "close", "dup2", "dup3", "close_range" };

enum what { W_PIPE, W_SOCK, W_FLOCK, W_LISTEN, W_FIFO, W__COUNT };
static const char *what_name[W__COUNT] = { "pipe write end", "socketpair end", "flock holder",
					   "listening TCP socket", "FIFO writer" };

static char lockpath[] = "/tmp/kmod_close.lock";
static char fifopath[] = "/tmp/kmod_close.fifo";
static struct sockaddr_in listen_addr; /* the listener's address, bound again by the look */
static int devnull;

/* A victim fd whose last reference the call drops, and the fd to look at. */
struct victim {
	int fd;   /* dropped */
	int look; /* the reader, the peer, or another open file description */
};

static void victim_make(enum what w, struct victim *v)
{
	int p[2];

	switch (w) {
	case W_PIPE:
		GT_EQ(pipe2(p, O_CLOEXEC), 0);
		GT_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
		v->look = p[0];
		v->fd = p[1];
		break;
	case W_SOCK:
		GT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p), 0);
		GT_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
		v->look = p[0];
		v->fd = p[1];
		break;
	case W_FLOCK:
		v->fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		GT_ASSERT(v->fd >= 0);
		GT_EQ(flock(v->fd, LOCK_EX), 0);
		v->look = open(lockpath, O_RDWR | O_CLOEXEC);
		GT_ASSERT(v->look >= 0);
		GT_EQ(flock(v->look, LOCK_EX | LOCK_NB), -1); /* held by v->fd */
		break;
	case W_LISTEN: {
		socklen_t l = sizeof(listen_addr);

		v->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		GT_ASSERT(v->fd >= 0);
		listen_addr = (struct sockaddr_in){ .sin_family = AF_INET,
						    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		GT_EQ(bind(v->fd, (struct sockaddr *)&listen_addr, sizeof(listen_addr)), 0);
		GT_EQ(getsockname(v->fd, (struct sockaddr *)&listen_addr, &l), 0);
		GT_EQ(listen(v->fd, 4), 0);
		v->look = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		GT_ASSERT(v->look >= 0);
		/* the port is taken while the listener lives */
		GT_EQ(bind(v->look, (struct sockaddr *)&listen_addr, sizeof(listen_addr)), -1);
		GT_EQ(errno, EADDRINUSE);
		break;
	}
	case W_FIFO:
		v->look = open(fifopath, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		GT_ASSERT(v->look >= 0);
		v->fd = open(fifopath, O_WRONLY | O_CLOEXEC);
		GT_ASSERT(v->fd >= 0);
		break;
	default:
		abort();
	}
}

/* The call that drops v->fd's file, as a number and arguments. */
static void drop_call(enum how h, const struct victim *v, long *nr, long a[3])
{
	switch (h) {
	case H_CLOSE:
		*nr = SYS_close, a[0] = v->fd, a[1] = 0, a[2] = 0;
		break;
	case H_DUP2:
		*nr = SYS_dup2, a[0] = devnull, a[1] = v->fd, a[2] = 0;
		break;
	case H_DUP3:
		*nr = SYS_dup3, a[0] = devnull, a[1] = v->fd, a[2] = O_CLOEXEC;
		break;
	case H_CLOSE_RANGE:
		*nr = SYS_close_range, a[0] = v->fd, a[1] = v->fd, a[2] = 0;
		break;
	default:
		abort();
	}
}

static long drop_want(enum how h, const struct victim *v)
{
	return h == H_DUP2 || h == H_DUP3 ? v->fd : 0;
}

static char lookbuf[8];

/* The look, as a call: the plain answer once the file is gone is 0 (end
 * of file) for a read of the pipe, socket or FIFO, 0 for the LOCK_NB flock
 * and for a bind to the listener's port. */
static void look_call(enum what w, const struct victim *v, long *nr, long a[3])
{
	if (w == W_FLOCK)
		*nr = SYS_flock, a[0] = v->look, a[1] = LOCK_EX | LOCK_NB, a[2] = 0;
	else if (w == W_LISTEN)
		*nr = SYS_bind, a[0] = v->look, a[1] = (long)&listen_addr, a[2] = sizeof(listen_addr);
	else
		*nr = SYS_read, a[0] = v->look, a[1] = (long)lookbuf, a[2] = sizeof(lookbuf);
}

/* The look made directly, right now. */
static long look_now(enum what w, const struct victim *v)
{
	long nr, a[3];

	look_call(w, v, &nr, a);
	long r = syscall(nr, a[0], a[1], a[2]);
	return r < 0 ? -errno : r;
}

static void victim_done(const struct victim *v)
{
	close(v->look);
	close(v->fd); /* dup2/dup3 left /dev/null there; close left nothing (EBADF) */
}

static void test_ring(unsigned int rounds)
{
	int fd = gt_open();
	struct gt_ring r;
	struct gt_worker w;
	unsigned long seen[W__COUNT][H__COUNT] = { { 0 } };

	GT_EQ(gt_ring_init(&r, fd, 8, 0, 0), 0);
	gt_worker_start(&w, fd);
	for (unsigned int i = 0; i < rounds; i++) {
		enum what wh = (enum what)(i % W__COUNT);
		enum how h = (enum how)(i / W__COUNT % H__COUNT);
		struct victim v;
		struct sysring_cqe c;
		long nr, a[3];
		uint64_t end;

		victim_make(wh, &v);
		drop_call(h, &v, &nr, a);
		GT_ASSERT(gt_ring_submit(&r, i + 1, nr, a[0], a[1], a[2], 0, 0, 0) >= 0);
		/* Spin: look the moment the completion is there. */
		end = gt_now_ns() + 5000000000ull;
		while (gt_ring_reap(&r, &c, 1) == 0)
			if (gt_now_ns() > end)
				GT_FAIL("ring: no completion for %s of a %s", how_name[h], what_name[wh]);
		long got = look_now(wh, &v);
		GT_EQ(c.user_data, i + 1);
		if (c.res != drop_want(h, &v))
			GT_FAIL("ring: %s of a %s: %lld", how_name[h], what_name[wh], (long long)c.res);
		if (got != 0)
			GT_FAIL("ring, round %u: %s of a %s completed, but the file was not released yet: "
				"the look gave %ld (plain call: 0)", i, how_name[h], what_name[wh], got);
		seen[wh][h]++;
		victim_done(&v);
	}
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
	pthread_join(w.th, NULL);
	GT_EQ(w.ret, 0);
	munmap(r.mem, r.s.mmap_size);
	close(fd);
	for (int wh = 0; wh < W__COUNT; wh++)
		for (int h = 0; h < H__COUNT; h++)
			GT_ASSERT(seen[wh][h] > 0);
	GT_OK("ring worker: the file is released when the completion is posted");
}

static void test_batch_syslet(void)
{
	int fd = gt_open();

	for (int wh = 0; wh < W__COUNT; wh++)
		for (int h = 0; h < H__COUNT; h++) {
			struct victim v;
			long dnr, da[3], lnr, la[3];

			/* BATCH: the look is the next call of the batch */
			victim_make((enum what)wh, &v);
			drop_call((enum how)h, &v, &dnr, da);
			look_call((enum what)wh, &v, &lnr, la);
			struct sysring_call c[2] = { gt_call(dnr, da[0], da[1], da[2], 0, 0, 0),
						     gt_call(lnr, la[0], la[1], la[2], 0, 0, 0) };
			GT_EQ(gt_batch(fd, c, 2, 0), 2);
			GT_EQ(c[0].result, drop_want((enum how)h, &v));
			if (c[1].result != 0)
				GT_FAIL("BATCH: %s of a %s, then the look: %lld (plain calls: 0)", how_name[h],
					what_name[wh], (long long)c[1].result);
			victim_done(&v);

			/* SYSLET, plain and cached: two atoms */
			for (int cached = 0; cached < 2; cached++) {
				long ret[2] = { 99, 99 };
				struct syslet_uatom at[2];
				struct sysring_syslet s = { .size = sizeof(s), .flags = cached ? SYSRING_SYSLET_CACHED : 0 };
				long r;

				victim_make((enum what)wh, &v);
				drop_call((enum how)h, &v, &dnr, da);
				look_call((enum what)wh, &v, &lnr, la);
				gt_atom(&at[0], 0, dnr, &ret[0], &at[1], &da[0], &da[1], &da[2], NULL);
				gt_atom(&at[1], 0, lnr, &ret[1], NULL, &la[0], &la[1], &la[2], NULL);
				s.atom = (uintptr_t)&at[0];
				r = gt_ioctl(fd, SYSRING_IOC_SYSLET, &s);
				if (cached && r == SYSRING_SYSLET_WOULDBLOCK) {
					/* an atom the cached path hands back (flock may
					 * block): not this test's subject */
					victim_done(&v);
					continue;
				}
				GT_EQ(r, 0);
				GT_EQ(ret[0], drop_want((enum how)h, &v));
				if (ret[1] != 0)
					GT_FAIL("SYSLET%s: %s of a %s, then the look: %ld (plain calls: 0)",
						cached ? " (cached)" : "", how_name[h], what_name[wh], ret[1]);
				victim_done(&v);
			}
		}
	close(fd);
	GT_OK("BATCH and SYSLET: the file is released before the next call");
}

int main(void)
{
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	GT_ASSERT(devnull >= 0);
	unlink(fifopath);
	GT_EQ(mkfifo(fifopath, 0600), 0);
	test_batch_syslet();
	test_ring(gt_rounds(W__COUNT * H__COUNT * 40));
	unlink(lockpath);
	unlink(fifopath);
	return 0;
}

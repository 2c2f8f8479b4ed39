/* SPDX-License-Identifier: MIT */
/*
 * A call whose own flags already ask for non-blocking -- preadv2/pwritev2
 * with RWF_NOWAIT, send/recv with MSG_DONTWAIT -- answers what the plain
 * call answers: its EAGAIN is the result. The library's inline attempt is
 * then that very call, so it must never be repeated on an executor (threads,
 * io_uring) where, after the readahead the first attempt started, it would
 * read the data instead (issue 12, review item 12).
 *
 * The plain preadv2(RWF_NOWAIT) says EAGAIN only for data that is not in
 * the page cache: each call here gets its own region of a file on a real
 * disk, dropped with POSIX_FADV_DONTNEED and checked with mincore() before
 * the call (skip if the directory is on tmpfs/ramfs, whose pages are never
 * uncached). Each call runs plainly, then through every face (async, syslet,
 * syslet with SYSLET_ASYNC, batch loop, batch io_uring executor) under the
 * engine and inline setting of the matrix; result, data moved and promptness
 * are compared.
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "t.h"

#include <sysring.h>
#include <sysring/batchsys.h>

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x8
#endif

#define REGION (256L << 10) /* each call reads its own never-read region */
#define NREGIONS 200
#define READ_AT 4096L * 4
#define READ_LEN 65536
#define PROMPT_MS 1500 /* "returns at once" on a loaded machine */

static int fd;
static char *map;
static int next_region;
static char buf[READ_LEN];
static async_context_t ctx;
static struct syslet_uatom *ring[64];
static int bh_loop = -1, bh_uring = -1;
/* async and syslet faces: whether the call was complete when the submit
 * returned (its inline attempt was the answer) */
static bool done_at_return;

static long ms(void)
{
	return (long)(t_now_ns() / 1000000);
}

/* A region whose pages are all out of the page cache, or -1. */
static long uncached_region(void)
{
	unsigned char vec[REGION / 4096];

	/* Never reused: a region read before may be in the host's cache, and
	 * its I/O then completes before the kernel looks again. */
	if (next_region >= NREGIONS)
		T_SKIP("out of fresh regions");
	long off = (long)next_region++ * REGION;
	for (int tries = 0; tries < 300; tries++) {
		int resident = 0;
		/* the whole file: a large folio reaching into the region
		 * from a neighbour is dropped only as a whole */
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		T_EQ(mincore(map + off, REGION, vec), 0);
		for (size_t i = 0; i < sizeof vec; i++)
			resident += vec[i] & 1;
		if (!resident)
			return off;
		usleep(10000); /* readahead still in flight: its pages are locked */
	}
	return -1;
}

struct call {
	long nr, a[6];
};

static long run_plain(const struct call *c)
{
	long r = syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
	return r < 0 ? -errno : r;
}

static long run_async(const struct call *c)
{
	static long v[6];
	struct {
		long number;
		void *vargs[7];
	} cb = {c->nr, {&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], NULL}};
	struct async_cb *cbs[1] = {(struct async_cb *)&cb};
	struct async_event ev;
	struct timespec to = {PROMPT_MS / 1000, (PROMPT_MS % 1000) * 1000000L};

	memcpy(v, c->a, sizeof v);
	T_EQ(async_submit(ctx, 1, cbs), 1);
	int n = async_check_events(ctx, 0, 1, &ev, NULL);
	done_at_return = n == 1;
	if (!n)
		n = async_getevents(ctx, 1, 1, &ev, &to);
	if (n != 1) {
		/* still running: collect it for good, then report it late */
		struct timespec ten = {10, 0};
		T_EQ(async_getevents(ctx, 1, 1, &ev, &ten), 1);
		fprintf(stderr, "  (async: no event within %d ms)\n", PROMPT_MS);
	}
	return ev.res;
}

static long run_syslet(const struct call *c, unsigned long flags)
{
	static long v[6], ret;
	static struct syslet_uatom at;

	memcpy(v, c->a, sizeof v);
	memset(&at, 0, sizeof at);
	ret = -99999;
	at.nr = (unsigned long)c->nr;
	at.flags = flags;
	at.ret_ptr = &ret;
	for (int i = 0; i < 6; i++)
		at.arg_ptr[i] = (unsigned long *)&v[i];
	done_at_return = async_exec(&at) != NULL;
	if (!done_at_return) {
		long t0 = ms();
		int got = 0;
		while (!got && ms() - t0 < 10000) {
			/* acquire pairs with the library's release store of the slot */
			for (int i = 0; i < 64; i++)
				if (__atomic_load_n(&ring[i], __ATOMIC_ACQUIRE)) {
					T_ASSERT(ring[i] == &at);
					__atomic_store_n(&ring[i], NULL, __ATOMIC_RELAXED);
					got = 1;
				}
			if (!got)
				usleep(1000);
		}
		T_ASSERT(got);
	}
	return ret;
}

static long run_batch(const struct call *c, int h)
{
	batchsys_batch_t *b = batchsys_batch_alloc(h);
	long r;

	T_ASSERT(b);
	T_EQ(batchsys_push_syscall(b, c->nr, 6, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]), 1);
	T_EQ(batchsys_post_batch(h, b), 1);
	const syscall_result_t *x = batch_batch_get_result(b, 0);
	r = x->result == -1 ? -(long)x->error : (long)x->result;
	batchsys_batch_free(b);
	return r;
}

static const char *const faces[] = {"async", "syslet", "syslet-async", "batch-loop", "batch-uring"};

static long run_face(int face, const struct call *c)
{
	switch (face) {
	case 0: return run_async(c);
	case 1: return run_syslet(c, 0);
	case 2: return run_syslet(c, SYSLET_ASYNC);
	case 3: return run_batch(c, bh_loop);
	default: return run_batch(c, bh_uring);
	}
}

static int fails;

static void cmp(const char *what, const char *face, long plain, long got, long el)
{
	bool ok = plain == got && el < PROMPT_MS;
	printf("%-40s %-13s plain %ld sysring %ld (%ld ms)%s\n", what, face, plain, got, el, ok ? "" : "  DIFF");
	if (!ok)
		fails++;
}

/*
 * preadv2(RWF_NOWAIT) of uncached data; at_pos: at the file position (offset
 * -1). The plain call starts readahead and says -EAGAIN at once -- unless
 * that I/O completes before the kernel looks again, when it returns the
 * data: a race inside the plain call (about 1 in 3 here), so either answer
 * is the plain call's. What a library retry changes is the distribution: a
 * repeat after the readahead always finds the data. So each face must give
 * the plain call's -EAGAIN (buffer and position untouched) within TRIES
 * tries, a fresh uncached region each, and never anything but -EAGAIN or
 * the whole READ_LEN (with the position moved by it).
 */
#define TRIES 12
static bool inline_on(void)
{
	const char *v = getenv("SYSRING_INLINE");
	return !(v && *v && !atoi(v));
}

static long one_try(int face, struct call *c, bool at_pos, long *el)
{
	long off = uncached_region(), got, t, pos;

	if (off < 0)
		T_SKIP("could not get the file's pages out of the page cache");
	c->a[3] = at_pos ? -1 : off + READ_AT;
	T_EQ(lseek(fd, off + READ_AT, SEEK_SET), off + READ_AT);
	memset(buf, 0x5a, sizeof buf);
	t = ms();
	got = face < 0 ? run_plain(c) : run_face(face, c);
	*el = ms() - t;
	pos = lseek(fd, 0, SEEK_CUR);
	if (got != -EAGAIN && got != READ_LEN) {
		printf("  %s: %ld, neither -EAGAIN nor %d\n", face < 0 ? "plain" : faces[face], got, READ_LEN);
		fails++;
	}
	if (pos != off + READ_AT + (got > 0 && at_pos ? got : 0)) {
		printf("  %s: file position %ld after %ld\n", face < 0 ? "plain" : faces[face], pos - off, got);
		fails++;
	}
	/* With inline calls on, the attempt on the submitting thread is the
	 * plain call itself: whatever it answered, -EAGAIN or the data, is the
	 * result, so the call is complete when the submit returns. Anything
	 * else means it was run again elsewhere. */
	if ((face == 0 || face == 1) && inline_on() && !done_at_return) {
		printf("  %s: %ld, not complete at the submit's return: run again off the submitting thread\n",
		       faces[face], got);
		fails++;
	}
	if (got == -EAGAIN && buf[0] != 0x5a) {
		printf("  %s: -EAGAIN, but the buffer was written\n", face < 0 ? "plain" : faces[face]);
		fails++;
	}
	return got;
}

static void nowait_read(const char *what, long flags, bool at_pos)
{
	static struct iovec iov = {buf, READ_LEN};
	struct call c = {SYS_preadv2, {0, (long)&iov, 1, 0, 0, flags}};
	long got = 0, el = 0;
	int i;

	c.a[0] = fd;
	for (i = 0; i < TRIES && (got = one_try(-1, &c, at_pos, &el)) != -EAGAIN; i++)
		;
	if (got != -EAGAIN)
		T_SKIP("the plain preadv2(RWF_NOWAIT) of uncached data never gave -EAGAIN here (%ld)", got);
	for (int f = 0; f < 5; f++) {
		/* A try counts only when a plain call just before, on a region
		 * as fresh, said -EAGAIN: the race is then as the plain call
		 * meets it (a loaded disk or host cache can make it win). */
		int conclusive = 0;
		for (i = 0; i < 3 * TRIES && conclusive < TRIES && next_region + 2 <= NREGIONS; i++) {
			if (one_try(-1, &c, at_pos, &el) != -EAGAIN)
				continue;
			conclusive++;
			if ((got = one_try(f, &c, at_pos, &el)) == -EAGAIN)
				break;
		}
		if (got != -EAGAIN && conclusive < TRIES) {
			printf("  (%s: inconclusive, the plain call gave the data in %d of %d tries)\n", faces[f],
			       i - conclusive, i);
			continue;
		}
		cmp(what, faces[f], -EAGAIN, got, el);
		if (conclusive > 1)
			printf("  (%s: %d tries gave the data first)\n", faces[f], conclusive - 1);
	}
}

/* sendto(MSG_DONTWAIT) into a full blocking stream socket: plain -EAGAIN at
 * once, and nothing is sent later. */
static void dontwait_send(void)
{
	int sv[2];
	char b[4096] = {0};
	int q0, q1;

	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	while (send(sv[0], b, sizeof b, MSG_DONTWAIT) > 0)
		;
	struct call c = {SYS_sendto, {sv[0], (long)b, sizeof b, MSG_DONTWAIT, 0, 0}};
	long plain = run_plain(&c);
	T_EQ(plain, -EAGAIN);
	T_EQ(ioctl(sv[1], FIONREAD, &q0), 0);
	for (int f = 0; f < 5; f++) {
		long t = ms();
		long got = run_face(f, &c);
		cmp("sendto MSG_DONTWAIT, full socket", faces[f], plain, got, ms() - t);
	}
	usleep(50000);
	T_EQ(ioctl(sv[1], FIONREAD, &q1), 0);
	if (q0 != q1) {
		printf("  sendto MSG_DONTWAIT: %d bytes sent later\n", q1 - q0);
		fails++;
	}
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const char *dir = getenv("SYSRING_TEST_DIR");
	char path[4096];
	struct statfs sfs;
	static char chunk[1 << 20];

	t_watchdog(300);
	if (!dir)
		dir = "."; /* ctest: the build directory */
	T_EQ(statfs(dir, &sfs), 0);
	if (sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC)
		T_SKIP("%s is on tmpfs/ramfs: its data is never uncached (set SYSRING_TEST_DIR to a disk)", dir);
	snprintf(path, sizeof path, "%s/nowait_user.XXXXXX", dir);
	fd = mkstemp(path);
	T_ASSERT(fd >= 0);
	unlink(path);
	memset(chunk, 'x', sizeof chunk);
	for (int i = 0; i < NREGIONS * REGION / (long)sizeof chunk; i++)
		T_EQ(write(fd, chunk, sizeof chunk), (long)sizeof chunk);
	T_EQ(fsync(fd), 0);
	map = mmap(NULL, (size_t)NREGIONS * REGION, PROT_READ, MAP_SHARED, fd, 0);
	T_ASSERT(map != MAP_FAILED);

	T_EQ(async_setup(8, &ctx), 0);
	struct async_head_user head = {ring, sizeof ring, -1UL};
	T_EQ(async_register(&head, sizeof head), 0);
	bh_loop = batchsys_open();
	bh_uring = batchsys_open();
	T_ASSERT(bh_loop >= 0 && bh_uring >= 0);
	T_EQ(sysring_batch_set_flags(bh_loop, SYSRING_BATCHSYS_EXEC_LOOP), 0);
	T_EQ(sysring_batch_set_flags(bh_uring, SYSRING_BATCHSYS_EXEC_URING), 0);

	nowait_read("preadv2 RWF_NOWAIT, uncached", RWF_NOWAIT, false);
	nowait_read("preadv2 RWF_NOWAIT at the position, uncached", RWF_NOWAIT, true);
	dontwait_send();

	if (fails)
		T_FAIL("%d differences from the plain call", fails);
	printf("nowait_user: every face answers as the plain call\n");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * A non-blocking attempt that moves only part of a call's data must not
 * become the call's answer when the plain call would have moved it all:
 *   - a write to a blocking pipe with less room than the write (the plain
 *     call waits for room and writes everything);
 *   - a send on a blocking stream socket whose buffer is nearly full;
 *   - a recv with MSG_WAITALL and only part of the data there yet;
 *   - a pread of a regular file whose first half is cached and second half
 *     is not (the plain call reads it all).
 * A reader or writer thread supplies the rest after a delay. Runs under
 * every engine, inline on and off: the results are the plain calls'.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "t.h"

#include <sysring.h>

static async_context_t ctx;

static long run1(struct async_cb *cb)
{
	struct async_event ev;
	struct timespec to = {10, 0};
	T_EQ(async_submit(ctx, 1, &cb), 1);
	T_EQ(async_getevents(ctx, 1, 1, &ev, &to), 1);
	T_ASSERT(ev.cbp == cb);
	return ev.res;
}

struct drain {
	int fd;
	long want;
	long got;
	int delay_ms;
	const char *feed; /* non-NULL: write this instead of reading */
	long feedlen;
};

static void *drainer(void *arg)
{
	struct drain *d = arg;
	char buf[65536];
	usleep((useconds_t)d->delay_ms * 1000);
	if (d->feed) {
		T_EQ(write(d->fd, d->feed, (size_t)d->feedlen), d->feedlen);
		return NULL;
	}
	while (d->got < d->want) {
		ssize_t n = read(d->fd, buf, sizeof(buf));
		T_ASSERT(n > 0);
		d->got += n;
	}
	return NULL;
}

int main(void)
{
	static char big[1 << 21];
	pthread_t th;

	t_watchdog(60);
	T_EQ(async_setup(64, &ctx), 0);
	memset(big, 'p', sizeof(big));

	/* 1. a blocking 64 KiB pipe with 4 KiB of room, a 16 KiB write */
	int p[2];
	T_EQ(pipe(p), 0);
	if (fcntl(p[1], F_SETPIPE_SZ, 65536) != 65536)
		T_SKIP("F_SETPIPE_SZ");
	T_EQ(write(p[1], big, 61440), 61440);
	struct drain d = {p[0], 61440 + 16384, 0, 50, NULL, 0};
	T_EQ(pthread_create(&th, NULL, drainer, &d), 0);
	struct async_cb *cb = async_cb_new(SYS_write, 3, (long)p[1], (long)big, 16384L);
	T_EQ(run1(cb), 16384);
	pthread_join(th, NULL);
	T_EQ(d.got, 61440 + 16384);
	async_cb_free(cb);
	/* the same with writev */
	T_EQ(write(p[1], big, 61440), 61440);
	struct iovec wv[2] = {{big, 8192}, {big + 8192, 8192}};
	struct drain dv = {p[0], 61440 + 16384, 0, 50, NULL, 0};
	T_EQ(pthread_create(&th, NULL, drainer, &dv), 0);
	cb = async_cb_new(SYS_writev, 3, (long)p[1], (long)wv, 2L);
	T_EQ(run1(cb), 16384);
	pthread_join(th, NULL);
	T_EQ(dv.got, 61440 + 16384);
	async_cb_free(cb);
	close(p[0]);
	close(p[1]);

	/* 2. a blocking stream socket whose send buffer is nearly full */
	int s[2];
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
	int sz = 8192;
	T_EQ(setsockopt(s[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
	long pre = 0;
	for (;;) { /* fill it */
		ssize_t n = send(s[0], big, 1024, MSG_DONTWAIT);
		if (n < 0)
			break;
		pre += n;
	}
	struct drain d2 = {s[1], pre + 65536, 0, 50, NULL, 0};
	T_EQ(pthread_create(&th, NULL, drainer, &d2), 0);
	cb = async_cb_new(SYS_sendto, 6, (long)s[0], (long)big, 65536L, 0L, 0L, 0L);
	T_EQ(run1(cb), 65536);
	pthread_join(th, NULL);
	T_EQ(d2.got, pre + 65536);
	async_cb_free(cb);

	/* 3. recv with MSG_WAITALL: 2 bytes there, 4 wanted */
	char rb[4];
	T_EQ(send(s[1], "ab", 2, 0), 2);
	struct drain d3 = {s[1], 0, 0, 50, "cd", 2};
	T_EQ(pthread_create(&th, NULL, drainer, &d3), 0);
	cb = async_cb_new(SYS_recvfrom, 6, (long)s[0], (long)rb, 4L, (long)MSG_WAITALL, 0L, 0L);
	T_EQ(run1(cb), 4);
	T_EQ(memcmp(rb, "abcd", 4), 0);
	pthread_join(th, NULL);
	async_cb_free(cb);
	close(s[0]);
	close(s[1]);

	/* 4. a file whose first half is cached and second half is not */
	char path[] = "/tmp/sysring-partial-XXXXXX";
	int f = mkstemp(path);
	T_ASSERT(f >= 0);
	unlink(path);
	T_EQ(write(f, big, sizeof(big)), (long)sizeof(big));
	T_EQ(fsync(f), 0);
	T_EQ(posix_fadvise(f, 0, 0, POSIX_FADV_DONTNEED), 0);
	static char rbig[1 << 21];
	T_EQ(pread(f, rbig, sizeof(big) / 2, 0), (long)sizeof(big) / 2); /* cache half */
	/* and drop what readahead brought of the other half */
	T_EQ(posix_fadvise(f, sizeof(big) / 2, sizeof(big) / 2, POSIX_FADV_DONTNEED), 0);
	memset(rbig, 0, sizeof(rbig));
	cb = async_cb_new(SYS_pread64, 4, (long)f, (long)rbig, (long)sizeof(big), 0L);
	T_EQ(run1(cb), (long)sizeof(big));
	T_EQ(memcmp(rbig, big, sizeof(big)), 0);
	async_cb_free(cb);
	close(f);

	printf("inline_partial: ok\n");
	async_destroy(ctx);
	return 0;
}

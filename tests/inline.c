/* SPDX-License-Identifier: MIT */
/*
 * The inline engine: a call that cannot block, or whose honest
 * non-blocking attempt succeeds, completes on the submitting thread (its
 * event is there when async_submit returns); an attempt that would block
 * goes to uring/threads and nothing is executed twice. With inline off
 * (SYSRING_INLINE=0) nothing completes inline.
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

static async_context_t ctx;
static int inl;

static uint64_t inline_count(void)
{
	struct sysring_stats st;
	T_EQ(sysring_stats(ctx, &st), 0);
	return st.by_engine[SYSRING_ENGINE_INLINE];
}

/* Submit one call; return its event, noting whether it was there at once. */
static long run(struct async_cb *cb, int *immediate)
{
	struct async_event ev;
	uint64_t before = inline_count();
	T_EQ(async_submit(ctx, 1, &cb), 1);
	int n = async_check_events(ctx, 0, 1, &ev, NULL);
	*immediate = inline_count() > before;
	if (*immediate)
		T_EQ(n, 1); /* inline: the event was ready when submit returned */
	if (n == 0)
		T_EQ(async_getevents(ctx, 1, 1, &ev, NULL), 1);
	T_EQ(ev.cbp, cb);
	return (long)ev.res;
}

int main(void)
{
	int imm;
	char buf[4096];
	const char *e = getenv("SYSRING_INLINE");
	t_watchdog(60);
	inl = !e || strcmp(e, "0");
	T_EQ(async_setup(16, &ctx), 0);

	/* never blocks */
	struct async_cb *c = async_cb_new(SYS_getppid, 0);
	T_EQ(run(c, &imm), getppid());
	T_EQ(imm, inl);
	async_cb_free(c);

	/* RWF_NOWAIT read of a cached file */
	char path[] = "/tmp/sysring-inline-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	memset(buf, 'q', sizeof(buf));
	T_EQ(write(fd, buf, sizeof(buf)), (long)sizeof(buf));
	T_EQ(pread(fd, buf, sizeof(buf), 0), (long)sizeof(buf));
	c = async_cb_new(SYS_pread64, 4, (long)fd, (long)buf, 4096L, 0L);
	long r = run(c, &imm);
	T_EQ(r, 4096);
	T_EQ(imm, inl);
	async_cb_free(c);

	/* a read on an empty pipe would block: not inline, and it completes
	 * when data comes, with the data read exactly once */
	int pf[2];
	T_EQ(pipe(pf), 0);
	c = async_cb_new(SYS_read, 3, (long)pf[0], (long)buf, 10L);
	struct async_cb *cbs[1] = {c};
	uint64_t before = inline_count();
	T_EQ(async_submit(ctx, 1, cbs), 1);
	T_EQ(inline_count(), before);
	struct async_event ev;
	T_EQ(async_check_events(ctx, 0, 1, &ev, NULL), 0);
	T_EQ(write(pf[1], "abcdef", 6), 6);
	T_EQ(async_getevents(ctx, 1, 1, &ev, NULL), 1);
	T_EQ(ev.res, 6);
	T_EQ(memcmp(buf, "abcdef", 6), 0);
	/* ... and now data is there: inline */
	T_EQ(write(pf[1], "xyz", 3), 3);
	T_EQ(run(c, &imm), 3);
	T_EQ(imm, inl);
	T_EQ(memcmp(buf, "xyz", 3), 0);
	async_cb_free(c);

	/* an O_NONBLOCK fd: EAGAIN is the final answer, on the caller */
	T_EQ(fcntl(pf[0], F_SETFL, O_NONBLOCK), 0);
	c = async_cb_new(SYS_read, 3, (long)pf[0], (long)buf, 10L);
	T_EQ(run(c, &imm), -EAGAIN);
	T_EQ(imm, inl);
	async_cb_free(c);

	/* writes: exactly once */
	c = async_cb_new(SYS_write, 3, (long)pf[1], (long)"12345", 5L);
	T_EQ(run(c, &imm), 5);
	T_EQ(imm, inl);
	T_EQ(read(pf[0], buf, sizeof(buf)), 5);
	T_EQ(read(pf[0], buf, sizeof(buf)), -1); /* nothing written twice */
	async_cb_free(c);

	/* MSG_DONTWAIT on a socket pair */
	int sv[2];
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = async_cb_new(SYS_sendto, 6, (long)sv[0], (long)"hi", 2L, 0L, 0L, 0L);
	T_EQ(run(c, &imm), 2);
	T_EQ(imm, inl);
	async_cb_free(c);
	c = async_cb_new(SYS_recvfrom, 6, (long)sv[1], (long)buf, 10L, 0L, 0L, 0L);
	T_EQ(run(c, &imm), 2);
	T_EQ(imm, inl);
	/* empty now: would block, goes async, completes on data */
	before = inline_count();
	cbs[0] = c;
	T_EQ(async_submit(ctx, 1, cbs), 1);
	T_EQ(inline_count(), before);
	T_EQ(send(sv[0], "later", 5, 0), 5);
	T_EQ(async_getevents(ctx, 1, 1, &ev, NULL), 1);
	T_EQ(ev.res, 5);
	async_cb_free(c);

	/* openat with RESOLVE_CACHED: a path just used is cached */
	long at = AT_FDCWD;
	c = async_cb_new(SYS_openat, 4, at, (long)"/etc/passwd", (long)O_RDONLY, 0L);
	struct stat st;
	stat("/etc/passwd", &st);
	r = run(c, &imm);
	T_ASSERT(r >= 0);
	T_EQ(imm, inl);
	close((int)r);
	async_cb_free(c);
	/* O_CREAT is never tried inline (RESOLVE_CACHED refuses it) */
	char p2[64];
	snprintf(p2, sizeof(p2), "/tmp/sysring-inline-%d", getpid());
	c = async_cb_new(SYS_openat, 4, at, (long)p2, (long)(O_RDWR | O_CREAT), 0600L);
	r = run(c, &imm);
	T_ASSERT(r >= 0);
	T_EQ(imm, 0);
	close((int)r);
	unlink(p2);
	async_cb_free(c);

	close(fd);
	close(pf[0]);
	close(pf[1]);
	close(sv[0]);
	close(sv[1]);
	T_EQ(async_destroy(ctx), 0);
	printf("inline: ok (inline %s)\n", inl ? "on" : "off");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The async face end to end: calls with arguments by pointer, results in
 * kernel convention, one event per call, the by-value helper, data flowing
 * from one call's result into a later call's argument, several contexts.
 */
#include <fcntl.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

static struct async_event *find(struct async_event *ev, int n, struct async_cb *cb)
{
	for (int i = 0; i < n; i++)
		if (ev[i].cbp == cb)
			return &ev[i];
	T_FAIL("no event for cb %p", (void *)cb);
}

int main(void)
{
	async_context_t ctx, ctx2;
	struct async_event ev[64];
	t_watchdog(60);

	T_EQ(async_setup(32, &ctx), 0);
	T_EQ(async_setup(8, &ctx2), 0);
	T_NE((long)ctx, (long)ctx2);

	/* getppid: no arguments, vargs[0] == NULL */
	struct {
		long number;
		void *vargs[1];
	} ppid_cb = {SYS_getppid, {NULL}};
	struct async_cb *cbs[4] = {(struct async_cb *)&ppid_cb};
	T_EQ(async_submit(ctx, 1, cbs), 1);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].cbp, &ppid_cb);
	T_EQ(ev[0].res, getppid());

	/* write through pointers; an error comes back as -errno */
	int fds[2];
	T_EQ(pipe(fds), 0);
	long wfd = fds[1], badfd = 12345, len = 5;
	const char *msg = "hello";
	long bufp = (long)msg;
	struct {
		long number;
		void *vargs[4];
	} wr = {SYS_write, {&wfd, &bufp, &len, NULL}}, bad = {SYS_write, {&badfd, &bufp, &len, NULL}};
	cbs[0] = (struct async_cb *)&wr;
	cbs[1] = (struct async_cb *)&bad;
	T_EQ(async_submit(ctx, 2, cbs), 2);
	T_EQ(async_getevents(ctx, 2, 64, ev, NULL), 2);
	T_EQ(find(ev, 2, cbs[0])->res, 5);
	T_EQ(find(ev, 2, cbs[1])->res, -EBADF);
	char got[8] = {0};
	T_EQ(read(fds[0], got, sizeof(got)), 5);
	T_EQ(memcmp(got, "hello", 5), 0);

	/* by value */
	struct async_cb *bv = async_cb_new(SYS_write, 3, (long)fds[1], (long)"abc", 3L);
	T_ASSERT(bv);
	T_EQ(async_cb_set_arg(bv, 2, 2L), 0);
	T_ERRNO(async_cb_set_arg(bv, 3, 1L), EINVAL);
	cbs[0] = bv;
	T_EQ(async_submit(ctx, 1, cbs), 1);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, 2);
	T_EQ(read(fds[0], got, sizeof(got)), 2);
	async_cb_free(bv);
	T_ASSERT(async_cb_new(SYS_write, 7) == NULL && errno == EINVAL);

	/* arguments are read when the call runs: open, then read with the fd
	 * that open returned, stored by the application between the calls */
	char path[] = "/tmp/sysring-basic-XXXXXX";
	int tfd = mkstemp(path);
	T_ASSERT(tfd >= 0);
	T_EQ(write(tfd, "0123456789", 10), 10);
	close(tfd);
	long at = AT_FDCWD, pathp = (long)path, flags = O_RDONLY, mode = 0;
	struct {
		long number;
		void *vargs[5];
	} op = {SYS_openat, {&at, &pathp, &flags, &mode, NULL}};
	cbs[0] = (struct async_cb *)&op;
	T_EQ(async_submit(ctx, 1, cbs), 1);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	long rfd = ev[0].res;
	T_ASSERT(rfd >= 0);
	char rbuf[16];
	long rbufp = (long)rbuf, rlen = 4, off = 6;
	struct {
		long number;
		void *vargs[5];
	} pr = {SYS_pread64, {&rfd, &rbufp, &rlen, &off, NULL}};
	struct {
		long number;
		void *vargs[2];
	} cl = {SYS_close, {&rfd, NULL}};
	cbs[0] = (struct async_cb *)&pr;
	T_EQ(async_submit(ctx, 1, cbs), 1);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, 4);
	T_EQ(memcmp(rbuf, "6789", 4), 0);
	cbs[0] = (struct async_cb *)&cl;
	T_EQ(async_submit(ctx, 1, cbs), 1);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].res, 0);
	unlink(path);

	/* many calls, two contexts, exactly one event each */
	struct async_cb *many[32];
	for (int i = 0; i < 32; i++)
		many[i] = async_cb_new(SYS_getpid, 0);
	T_EQ(async_submit(ctx, 32, many), 32);
	T_EQ(async_submit(ctx2, 8, many), 8);
	int seen[32] = {0};
	int n = 0;
	while (n < 32) {
		int r = async_getevents(ctx, 1, 64, ev, NULL);
		T_ASSERT(r > 0);
		for (int i = 0; i < r; i++) {
			int k = -1;
			for (int j = 0; j < 32; j++)
				if (ev[i].cbp == many[j])
					k = j;
			T_ASSERT(k >= 0);
			T_EQ(seen[k]++, 0);
			T_EQ(ev[i].res, getpid());
		}
		n += r;
	}
	T_EQ(async_getevents(ctx2, 8, 8, ev, NULL), 8);
	struct timespec zero = {0, 0};
	T_EQ(async_getevents(ctx, 0, 64, ev, &zero), 0);
	T_EQ(async_check_events(ctx, 0, 64, ev, NULL), 0);

	/* statistics */
	struct sysring_stats st;
	T_EQ(sysring_stats(ctx, &st), 0);
	T_EQ(st.submitted, 39);
	T_EQ(st.completed, 39);
	T_EQ(st.reaped, 39);
	T_EQ(st.in_flight, 0);
	T_EQ(st.pending, 0);
	uint64_t by = 0;
	for (int e = 0; e < SYSRING_ENGINE__COUNT; e++)
		by += st.by_engine[e];
	T_EQ(by, 39);
	const char *eng = getenv("SYSRING_ENGINE");
	const char *inl = getenv("SYSRING_INLINE");
	if (eng && !strcmp(eng, "threads") && inl && !strcmp(inl, "0"))
		T_EQ(st.by_engine[SYSRING_ENGINE_THREADS], 39);
	if (!inl || strcmp(inl, "0")) /* getppid/getpid never block: inline */
		T_ASSERT(st.by_engine[SYSRING_ENGINE_INLINE] >= 33);
	else
		T_EQ(st.by_engine[SYSRING_ENGINE_INLINE], 0);

	for (int i = 0; i < 32; i++)
		async_cb_free(many[i]);
	T_EQ(async_destroy(ctx2), 0);
	T_EQ(async_destroy(ctx), 0);
	close(fds[0]);
	close(fds[1]);
	printf("async_basic: ok (engine %s)\n", getenv("SYSRING_ENGINE") ? getenv("SYSRING_ENGINE") : "auto");
	return 0;
}

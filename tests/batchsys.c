/* SPDX-License-Identifier: MIT */
/*
 * The batch face: all 18 operations against real files, pipes and loopback
 * TCP/UDP sockets, the generic push, results as {result, errno}, in order,
 * full batches, failures inside a batch (the rest still runs, or stops with
 * SYSRING_BATCHSYS_STOP_ON_ERROR), the fd cache and its coherence (checked and
 * unchecked), and bad input. Runs under every executor
 * (SYSRING_BATCH_EXEC=loop|uring, and auto).
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "t.h"

#include <sysring/batchsys.h>

static int h;
static batchsys_batch_t *b;

static void post_expect(int n)
{
	T_EQ(batchsys_post_batch(h, b), n);
	T_EQ(batch_batch_result_count(b), n);
}

static const syscall_result_t *R(int i)
{
	return batch_batch_get_result(b, (uint64_t)i);
}

int main(void)
{
	char buf[256], buf2[256];
	t_watchdog(60);

	/* ---- bad input ---- */
	T_ERRNO(batchsys_post_batch(-1, NULL), EINVAL);
	T_EQ(batchsys_push_write(NULL, 1, "x", 1), 0);
	T_EQ(batchsys_push_syscall(NULL, SYS_getpid, 0), 0);
	h = batchsys_open();
	T_ASSERT(h >= 0);
	T_ERRNO(batchsys_post_batch(h, NULL), EINVAL);
	T_ERRNO(batchsys_post_batch(12345, NULL), EINVAL);
	b = batchsys_batch_alloc(h);
	T_ASSERT(b && batchsys_batch_empty(b) && !batchsys_batch_full(b));
	T_EQ(batchsys_post_batch(h, b), 0); /* empty */
	T_ASSERT(batchsys_get_fd_limit() > 0);

	/* ---- files: write, pwrite, writev, read, pread, readv, close ---- */
	char path[] = "/tmp/sysring-batch-XXXXXX";
	int fd = mkstemp(path);
	T_ASSERT(fd >= 0);
	struct iovec wv[2] = {{"cd", 2}, {"ef", 2}};
	T_EQ(batchsys_push_write(b, fd, "ab", 2), 1);
	T_EQ(batchsys_push_writev(b, fd, wv, 2), 1);
	T_EQ(batchsys_push_pwrite(b, fd, "XY", 2, 10), 1);
	T_EQ(batchsys_push_write(b, 9999, "zz", 2), 1); /* fails: EBADF, the rest runs */
	T_EQ(batchsys_push_pread(b, fd, buf, 6, 0), 1);
	post_expect(5);
	T_EQ(R(0)->result, 2);
	T_EQ(R(1)->result, 4);
	T_EQ(R(2)->result, 2);
	T_EQ(R(3)->result, -1);
	T_EQ(R(3)->error, EBADF);
	T_EQ(R(4)->result, 6); /* in order: sees the earlier writes */
	T_EQ(R(4)->error, 0);
	T_EQ(memcmp(buf, "abcdef", 6), 0);
	T_EQ(batchsys_cached_fds(h), 1);
	/* posted twice without reset: it runs again (documented) */
	post_expect(5);
	T_EQ(R(0)->result, 2);
	batchsys_batch_reset(b);
	T_EQ(lseek(fd, 0, SEEK_SET), 0);
	struct iovec rv[2] = {{buf, 3}, {buf2, 3}};
	T_EQ(batchsys_push_read(b, fd, buf, 2), 1);
	T_EQ(batchsys_push_readv(b, fd, rv, 2), 1);
	post_expect(2);
	T_EQ(R(0)->result, 2);
	T_EQ(R(1)->result, 6);
	/* the second read continues where the first stopped */
	char want[8];
	T_EQ(pread(fd, want, 8, 0), 8);
	T_EQ(memcmp(buf, want + 2, 3), 0);
	T_EQ(memcmp(buf2, want + 5, 3), 0);
	batchsys_batch_reset(b);

	/* ---- full batch ---- */
	int n = 0;
	while (batchsys_push_pwrite(b, fd, "q", 1, 100 + n))
		n++;
	T_EQ(n, BATCHSYS_MAX_RESULTS);
	T_ASSERT(batchsys_batch_full(b));
	T_EQ(batchsys_push_write(b, fd, "q", 1), 0);
	post_expect(BATCHSYS_MAX_RESULTS);
	for (int i = 0; i < n; i++)
		T_EQ(R(i)->result, 1);
	batchsys_batch_reset(b);
	/* generic pushes: fewer fit (8 bytes per argument), a push that does
	 * not fit returns 0 */
	n = 0;
	while (batchsys_push_syscall(b, SYS_pwrite64, 4, (long)fd, (long)"g", 1L, (long)(200 + n)))
		n++;
	T_ASSERT(n > 40 && n <= BATCHSYS_MAX_RESULTS);
	post_expect(n);
	T_EQ(R(n - 1)->result, 1);
	batchsys_batch_reset(b);

	/* ---- the generic push: any call, unknown and refused ones too ---- */
	T_EQ(batchsys_push_syscall(b, SYS_getppid, 0), 1);
	T_EQ(batchsys_push_syscall(b, 100000, 0), 1); /* no such call */
	T_EQ(batchsys_push_syscall(b, 400, 0), 1);    /* an unassigned number */
	T_EQ(batchsys_push_syscall(b, SYS_fork, 0), 1);
	T_EQ(batchsys_push_syscall(b, SYS_getdents64, 3, (long)fd, (long)buf, 0L), 1);
	T_EQ(batchsys_push_syscall(b, SYS_write, 7), 0); /* more than 6 arguments */
	T_EQ(batchsys_push_syscall(b, -1, 0), 0);
	post_expect(5);
	T_EQ(R(0)->result, getppid());
	T_EQ(R(1)->error, ENOSYS);
	T_EQ(R(2)->error, ENOSYS);
	T_EQ(R(3)->error, EPERM);
	T_EQ(R(4)->error, ENOTDIR);
	batchsys_batch_reset(b);

	/* ---- stop at the first failure (native option) ---- */
	T_EQ(sysring_batch_set_flags(h, SYSRING_BATCHSYS_STOP_ON_ERROR), 0);
	const char *ex = getenv("SYSRING_BATCH_EXEC");
	unsigned int keep = 0;
	if (ex && !strcmp(ex, "loop"))
		keep = SYSRING_BATCHSYS_EXEC_LOOP;
	else if (ex && !strcmp(ex, "uring"))
		keep = SYSRING_BATCHSYS_EXEC_URING;
	T_EQ(sysring_batch_set_flags(h, SYSRING_BATCHSYS_STOP_ON_ERROR | keep), 0);
	T_EQ(batchsys_push_pwrite(b, fd, "1", 1, 0), 1);
	T_EQ(batchsys_push_pwrite(b, 9999, "2", 1, 0), 1);
	T_EQ(batchsys_push_pwrite(b, fd, "3", 1, 1), 1);
	T_EQ(batchsys_post_batch(h, b), 2);
	T_EQ(R(1)->error, EBADF);
	T_EQ(pread(fd, buf, 2, 0), 2);
	T_EQ(buf[0], '1');
	T_NE(buf[1], '3'); /* never ran */
	T_EQ(sysring_batch_set_flags(h, keep), 0);
	batchsys_batch_reset(b);

	/* ---- pipes ---- */
	int pf[2];
	T_EQ(pipe(pf), 0);
	T_EQ(batchsys_push_write(b, pf[1], "pipe!", 5), 1);
	T_EQ(batchsys_push_read(b, pf[0], buf, sizeof(buf)), 1);
	post_expect(2);
	T_EQ(R(1)->result, 5);
	T_EQ(memcmp(buf, "pipe!", 5), 0);
	batchsys_batch_reset(b);
	/* a non-blocking pipe says EAGAIN, as the plain call would */
	fcntl(pf[0], F_SETFL, O_NONBLOCK);
	T_EQ(batchsys_push_read(b, pf[0], buf, sizeof(buf)), 1);
	post_expect(1);
	T_EQ(R(0)->error, EAGAIN);
	batchsys_batch_reset(b);

	/* ---- TCP on loopback: socket, connect, accept, accept4, send, recv,
	 * epoll_ctl, close, and the *_non_block_reuse pair ---- */
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	T_EQ(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	T_EQ(listen(ls, 8), 0);
	T_EQ(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	T_EQ(batchsys_push_socket(b, AF_INET, SOCK_STREAM, 0), 1);
	T_EQ(batchsys_push_socket_non_block_reuse(b, AF_INET, SOCK_STREAM, 0), 1);
	post_expect(2);
	int c1 = (int)R(0)->result, c2 = (int)R(1)->result;
	T_ASSERT(c1 >= 0 && c2 >= 0);
	T_ASSERT(fcntl(c2, F_GETFL) & O_NONBLOCK);
	int one = 0;
	socklen_t ol = sizeof(one);
	T_EQ(getsockopt(c2, SOL_SOCKET, SO_REUSEADDR, &one, &ol), 0);
	T_EQ(one, 1);
	close(c2);
	batchsys_batch_reset(b);
	T_EQ(batchsys_push_connect(b, c1, (struct sockaddr *)&sa, sizeof(sa)), 1);
	struct sockaddr_in peer;
	uint32_t plen = sizeof(peer);
	T_EQ(batchsys_push_accept(b, ls, (struct sockaddr *)&peer, &plen), 1);
	post_expect(2);
	T_EQ(R(0)->result, 0);
	int a1 = (int)R(1)->result;
	T_ASSERT(a1 >= 0);
	T_EQ(plen, sizeof(peer));
	batchsys_batch_reset(b);
	int c3 = socket(AF_INET, SOCK_STREAM, 0), c4 = socket(AF_INET, SOCK_STREAM, 0);
	T_EQ(connect(c3, (struct sockaddr *)&sa, sizeof(sa)), 0);
	T_EQ(connect(c4, (struct sockaddr *)&sa, sizeof(sa)), 0);
	T_EQ(batchsys_push_accept4(b, ls, NULL, NULL, SOCK_CLOEXEC), 1);
	T_EQ(batchsys_push_accept4_non_block_reuse(b, ls, NULL, NULL, 0), 1);
	post_expect(2);
	int a3 = (int)R(0)->result, a4 = (int)R(1)->result;
	T_ASSERT(a3 >= 0 && a4 >= 0);
	T_ASSERT(fcntl(a3, F_GETFD) & FD_CLOEXEC);
	T_ASSERT(fcntl(a4, F_GETFL) & O_NONBLOCK);
	batchsys_batch_reset(b);
	T_EQ(batchsys_push_send(b, c1, "hello", 5, 0), 1);
	T_EQ(batchsys_push_recv(b, a1, buf, sizeof(buf), 0), 1);
	T_EQ(batchsys_push_send(b, a1, "back", 4, 0), 1);
	T_EQ(batchsys_push_recv(b, c1, buf2, sizeof(buf2), 0), 1);
	post_expect(4);
	T_EQ(R(1)->result, 5);
	T_EQ(memcmp(buf, "hello", 5), 0);
	T_EQ(R(3)->result, 4);
	T_EQ(memcmp(buf2, "back", 4), 0);
	batchsys_batch_reset(b);
	/* a non-blocking socket with nothing to read: EAGAIN */
	T_EQ(batchsys_push_recv(b, a4, buf, sizeof(buf), 0), 1);
	post_expect(1);
	T_EQ(R(0)->error, EAGAIN);
	batchsys_batch_reset(b);
	int ep = epoll_create1(0);
	struct epoll_event ee = {.events = EPOLLIN, .data.u64 = 7};
	T_EQ(batchsys_push_epoll_ctl(b, ep, EPOLL_CTL_ADD, a1, &ee), 1);
	T_EQ(batchsys_push_epoll_ctl(b, ep, EPOLL_CTL_ADD, a1, &ee), 1);
	post_expect(2);
	T_EQ(R(0)->result, 0);
	T_EQ(R(1)->error, EEXIST);
	batchsys_batch_reset(b);
	/* a NULL event is the plain call's: EFAULT for MOD, fine for DEL */
	errno = 0;
	T_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, a1, NULL), -1);
	T_EQ(errno, EFAULT);
	T_EQ(batchsys_push_epoll_ctl(b, ep, EPOLL_CTL_MOD, a1, NULL), 1);
	T_EQ(batchsys_push_epoll_ctl(b, ep, EPOLL_CTL_DEL, a1, NULL), 1);
	post_expect(2);
	T_EQ(R(0)->error, EFAULT);
	T_EQ(R(1)->result, 0);
	batchsys_batch_reset(b);
	T_EQ(batchsys_push_close(b, c3), 1);
	T_EQ(batchsys_push_close(b, c3), 1);
	post_expect(2);
	T_EQ(R(0)->result, 0);
	T_EQ(R(1)->error, EBADF);
	batchsys_batch_reset(b);

	/* ---- UDP: sendto, recvfrom with addresses ---- */
	int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	sl = sizeof(ua);
	T_EQ(bind(u1, (struct sockaddr *)&ua, sizeof(ua)), 0);
	T_EQ(getsockname(u1, (struct sockaddr *)&ua, &sl), 0);
	struct sockaddr_in from;
	uint32_t flen = sizeof(from);
	T_EQ(batchsys_push_sendto(b, u2, "dgram", 5, 0, (struct sockaddr *)&ua, sizeof(ua)), 1);
	T_EQ(batchsys_push_recvfrom(b, u1, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen), 1);
	post_expect(2);
	T_EQ(R(0)->result, 5);
	T_EQ(R(1)->result, 5);
	T_EQ(flen, sizeof(from));
	T_EQ(from.sin_family, AF_INET);
	batchsys_batch_reset(b);

	/* ---- the fd cache ---- */
	int before = batchsys_cached_fds(h);
	T_ASSERT(before >= 3);
	T_EQ(batchsys_close_fd(h, pf[1]), 0);
	T_EQ(batchsys_cached_fds(h), before - 1);
	T_EQ(batchsys_close_fd(h, pf[1]), -1); /* not open any more */
	T_EQ(errno, EBADF);
	int never = dup(0);
	T_EQ(batchsys_close_fd(h, never), 0); /* never used: closed, 0 */
	/* closed behind the library's back and the number reused: the checked
	 * cache must reach the NEW file */
	char p2[] = "/tmp/sysring-batch2-XXXXXX";
	int f2 = mkstemp(p2);
	T_EQ(batchsys_push_write(b, f2, "old", 3), 1);
	post_expect(1);
	batchsys_batch_reset(b);
	close(f2); /* behind its back */
	char p3[] = "/tmp/sysring-batch3-XXXXXX";
	int f3 = mkstemp(p3);
	T_EQ(f3, f2); /* the same number */
	T_EQ(batchsys_push_write(b, f3, "new", 3), 1);
	post_expect(1);
	T_EQ(R(0)->result, 3);
	batchsys_batch_reset(b);
	T_EQ(pread(f3, buf, 3, 0), 3);
	T_EQ(memcmp(buf, "new", 3), 0);
	struct stat st;
	T_EQ(stat(p2, &st), 0);
	T_EQ(st.st_size, 3); /* the old file got nothing more */

	/* the fd cache holds no file: even "unchecked", an fd closed behind
	 * the library's back and reused reaches the NEW file, on every
	 * executor (the old file was really closed) */
	T_EQ(sysring_batch_set_flags(h, keep | SYSRING_BATCHSYS_UNCHECKED_CACHE), 0);
	char p4[] = "/tmp/sysring-batch4-XXXXXX";
	int f4 = mkstemp(p4);
	T_EQ(batchsys_push_pwrite(b, f4, "A", 1, 0), 1);
	post_expect(1);
	batchsys_batch_reset(b);
	close(f4);
	char p5[] = "/tmp/sysring-batch5-XXXXXX";
	int f5 = mkstemp(p5);
	T_EQ(f5, f4);
	T_EQ(batchsys_push_pwrite(b, f5, "B", 1, 1), 1);
	post_expect(1);
	batchsys_batch_reset(b);
	T_EQ(stat(p4, &st), 0);
	T_EQ(st.st_size, 1); /* the old file got nothing more */
	T_EQ(stat(p5, &st), 0);
	T_EQ(st.st_size, 2);
	T_EQ(sysring_batch_set_flags(h, keep), 0);
	batchsys_close_fd(h, f5);
	unlink(p4);
	unlink(p5);

	/* every cached fd closed through the library leaves the cache empty */
	int fds[] = {fd, pf[0], c1, a1, a3, a4, c4, ep, u1, u2, f3, ls};
	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		batchsys_close_fd(h, fds[i]);
	T_EQ(batchsys_cached_fds(h), 0);
	printf("batchsys: ok (last executor: %s)\n", sysring_batch_last_executor(h));
	batchsys_batch_free(b);
	batchsys_close(h);
	unlink(path);
	unlink(p2);
	unlink(p3);
	return 0;
}

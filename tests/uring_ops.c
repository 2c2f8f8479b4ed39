/* SPDX-License-Identifier: MIT */
/*
 * Every call of the io_uring column gives what the plain call gives: the
 * same result, the same errno for bad arguments, the same side effects
 * (struct stat filled from a statx, splice offsets advanced, recvfrom's
 * address length written back). Under SYSRING_ENGINE=uring (or auto) the
 * test also checks that the calls the running kernel offers really ran in
 * io_uring, so it cannot pass by quietly running everything on threads;
 * calls without a mapping (getdents64) still work: they fall back.
 */
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "t.h"

#include <sysring.h>

static async_context_t ctx;

static long sr(long nr, unsigned nargs, long a0, long a1, long a2, long a3, long a4, long a5)
{
	struct async_cb *cb = async_cb_new(nr, nargs, a0, a1, a2, a3, a4, a5);
	struct async_event ev;
	T_ASSERT(cb);
	T_EQ(async_submit(ctx, 1, &cb), 1);
	T_EQ(async_getevents(ctx, 1, 1, &ev, NULL), 1);
	T_EQ(ev.cbp, cb);
	async_cb_free(cb);
	return (long)ev.res;
}
#define SR0(nr) sr(nr, 0, 0, 0, 0, 0, 0, 0)
#define SR1(nr, a) sr(nr, 1, (long)(a), 0, 0, 0, 0, 0)
#define SR2(nr, a, b) sr(nr, 2, (long)(a), (long)(b), 0, 0, 0, 0)
#define SR3(nr, a, b, c) sr(nr, 3, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SR4(nr, a, b, c, d) sr(nr, 4, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SR5(nr, a, b, c, d, e) sr(nr, 5, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define SR6(nr, a, b, c, d, e, f) sr(nr, 6, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

static long plain(long r)
{
	return r == -1 ? -errno : r;
}

static char dir[64];
static int uring_calls_expected;

static void expect_uring(long nr)
{
	struct sysring_syscall_info info;
	if (sysring_syscall_info(nr, &info) == 0 && info.uring)
		uring_calls_expected++;
}

static void *futex_waker(void *arg)
{
	usleep(20000);
	__atomic_store_n((uint32_t *)arg, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, arg, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return NULL;
}

int main(void)
{
	char path[128], path2[128], buf[256], buf2[256];
	struct stat st1, st2;
	const char *eng = getenv("SYSRING_ENGINE");
	int want_uring = eng && !strcmp(eng, "uring");
	int want_some = eng && !strcmp(eng, "auto"); /* auto keeps io-wq-only ops on threads */
	struct sysring_params p;
	t_watchdog(120);

	/* inline off here: this test is about the io_uring column */
	sysring_params_init(&p);
	p.inline_calls = 0;
	T_EQ(sysring_setup(16, &p, &ctx), 0);
	snprintf(dir, sizeof(dir), "/tmp/sysring-uops-%d", getpid());
	T_EQ(mkdir(dir, 0755), 0);

	/* ---- open / write / read family ---- */
	snprintf(path, sizeof(path), "%s/f", dir);
	long fd = SR4(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL, 0644);
	expect_uring(SYS_openat);
	T_ASSERT(fd >= 0);
	T_EQ(SR4(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL, 0644), -EEXIST);
	expect_uring(SYS_openat);
	T_EQ(SR3(SYS_write, fd, "hello world", 11), 11);
	expect_uring(SYS_write);
	T_EQ(lseek((int)fd, 0, SEEK_CUR), 11); /* the file position moved, as write(2) does */
	T_EQ(SR4(SYS_pwrite64, fd, "HELLO", 5, 0), 5);
	expect_uring(SYS_pwrite64);
	struct iovec wv[2] = {{"ab", 2}, {"cd", 2}};
	T_EQ(SR3(SYS_writev, fd, wv, 2), 4);
	expect_uring(SYS_writev);
	T_EQ(SR4(SYS_pwritev, fd, wv, 2, 100), 4);
	expect_uring(SYS_pwritev);
	T_EQ(SR6(SYS_pwritev2, fd, wv, 1, 200, 0, 0), 2);
	expect_uring(SYS_pwritev2);
	T_EQ(lseek((int)fd, 0, SEEK_SET), 0);
	memset(buf, 0, sizeof(buf));
	T_EQ(SR3(SYS_read, fd, buf, 5), 5);
	expect_uring(SYS_read);
	T_EQ(memcmp(buf, "HELLO", 5), 0);
	T_EQ(SR4(SYS_pread64, fd, buf, 6, 5), 6);
	expect_uring(SYS_pread64);
	T_EQ(memcmp(buf, " world", 6), 0);
	struct iovec rv[2] = {{buf, 3}, {buf2, 3}};
	T_EQ(SR3(SYS_readv, fd, rv, 2), 6);
	expect_uring(SYS_readv);
	T_EQ(memcmp(buf, " wo", 3), 0);
	T_EQ(SR4(SYS_preadv, fd, rv, 2, 0), 6);
	expect_uring(SYS_preadv);
	T_EQ(memcmp(buf, "HEL", 3), 0);
	T_EQ(SR6(SYS_preadv2, fd, rv, 1, 100, 0, 0), 3);
	expect_uring(SYS_preadv2);
	T_EQ(memcmp(buf, "abc", 3), 0);
	/* bad arguments: the same errno as the plain call */
	T_EQ(SR3(SYS_read, 9999, buf, 1), plain(read(9999, buf, 1)));
	T_EQ(SR3(SYS_write, fd, 8, 10), plain(syscall(SYS_write, fd, 8L, 10L)));
	T_EQ(SR4(SYS_pread64, fd, buf, 1, -5), plain(pread((int)fd, buf, 1, -5)));

	/* ---- sync, space, advice ---- */
	T_EQ(SR1(SYS_fsync, fd), 0);
	expect_uring(SYS_fsync);
	T_EQ(SR1(SYS_fdatasync, fd), 0);
	expect_uring(SYS_fdatasync);
	T_EQ(SR4(SYS_sync_file_range, fd, 0, 4096, SYNC_FILE_RANGE_WRITE), 0);
	expect_uring(SYS_sync_file_range);
	long r = SR4(SYS_fallocate, fd, 0, 0, 8192);
	T_ASSERT(r == 0 || r == -EOPNOTSUPP);
	expect_uring(SYS_fallocate);
	T_EQ(SR4(SYS_fadvise64, fd, 0, 4096, POSIX_FADV_WILLNEED), 0);
	expect_uring(SYS_fadvise64);
	T_EQ(SR2(SYS_ftruncate, fd, 300), 0);
	expect_uring(SYS_ftruncate);
	T_EQ(fstat((int)fd, &st1), 0);
	T_EQ(st1.st_size, 300);
	T_EQ(SR2(SYS_ftruncate, fd, -1), plain(ftruncate((int)fd, -1)));
	void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_EQ(SR3(SYS_madvise, m, 8192, MADV_DONTNEED), 0);
	expect_uring(SYS_madvise);
	munmap(m, 8192);

	/* ---- the stat family: the struct stat the plain call fills ---- */
	memset(&st1, 0x55, sizeof(st1));
	memset(&st2, 0x55, sizeof(st2));
	T_EQ(SR2(SYS_stat, path, &st1), 0);
	expect_uring(SYS_stat);
	T_EQ(stat(path, &st2), 0);
	T_EQ(memcmp(&st1, &st2, sizeof(st1)), 0);
	T_EQ(SR2(SYS_fstat, fd, &st1), 0);
	expect_uring(SYS_fstat);
	T_EQ(memcmp(&st1, &st2, sizeof(st1)), 0);
	snprintf(path2, sizeof(path2), "%s/sym", dir);
	T_EQ(SR2(SYS_symlink, "f", path2), 0);
	expect_uring(SYS_symlink);
	T_EQ(SR2(SYS_lstat, path2, &st1), 0);
	expect_uring(SYS_lstat);
	T_EQ(lstat(path2, &st2), 0);
	T_EQ(memcmp(&st1, &st2, sizeof(st1)), 0);
	T_ASSERT(S_ISLNK(st1.st_mode));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	T_EQ(SR4(SYS_newfstatat, dfd, "f", &st1, 0), 0);
	expect_uring(SYS_newfstatat);
	T_EQ(fstatat(dfd, "f", &st2, 0), 0);
	T_EQ(memcmp(&st1, &st2, sizeof(st1)), 0);
	T_EQ(SR4(SYS_newfstatat, dfd, "missing", &st1, 0), -ENOENT);
	T_EQ(SR2(SYS_stat, "/nonexistent/x", &st1), -ENOENT);
	struct statx sx1, sx2;
	T_EQ(SR5(SYS_statx, dfd, "f", 0, STATX_BASIC_STATS, &sx1), 0);
	expect_uring(SYS_statx);
	T_EQ(statx(dfd, "f", 0, STATX_BASIC_STATS, &sx2), 0);
	T_EQ(sx1.stx_size, sx2.stx_size);
	T_EQ(sx1.stx_ino, sx2.stx_ino);

	/* ---- names ---- */
	snprintf(path2, sizeof(path2), "%s/g", dir);
	T_EQ(SR2(SYS_rename, path, path2), 0);
	expect_uring(SYS_rename);
	T_EQ(SR4(SYS_renameat, dfd, "g", dfd, "f"), 0);
	expect_uring(SYS_renameat);
	T_EQ(SR5(SYS_renameat2, dfd, "f", dfd, "g", RENAME_NOREPLACE), 0);
	expect_uring(SYS_renameat2);
	T_EQ(SR2(SYS_link, path2, path), 0);
	expect_uring(SYS_link);
	T_EQ(SR5(SYS_linkat, dfd, "g", dfd, "h", 0), 0);
	expect_uring(SYS_linkat);
	T_EQ(SR3(SYS_symlinkat, "g", dfd, "sym2"), 0);
	expect_uring(SYS_symlinkat);
	T_EQ(SR1(SYS_unlink, path), 0);
	expect_uring(SYS_unlink);
	T_EQ(SR3(SYS_unlinkat, dfd, "h", 0), 0);
	expect_uring(SYS_unlinkat);
	T_EQ(SR3(SYS_unlinkat, dfd, "sym2", 0), 0);
	T_EQ(SR3(SYS_unlinkat, dfd, "sym", 0), 0);
	snprintf(path, sizeof(path), "%s/d", dir);
	T_EQ(SR2(SYS_mkdir, path, 0755), 0);
	expect_uring(SYS_mkdir);
	T_EQ(SR2(SYS_mkdir, path, 0755), -EEXIST);
	T_EQ(SR3(SYS_mkdirat, dfd, "d2", 0700), 0);
	expect_uring(SYS_mkdirat);
	T_EQ(SR1(SYS_rmdir, path), 0);
	expect_uring(SYS_rmdir);
	T_EQ(SR3(SYS_unlinkat, dfd, "d2", AT_REMOVEDIR), 0);
	T_EQ(SR1(SYS_rmdir, path), -ENOENT);

	/* ---- extended attributes: whatever the plain call says ---- */
	long xs = SR5(SYS_setxattr, path2, "user.sr", "v1", 2, 0);
	expect_uring(SYS_setxattr);
	long xp = plain(setxattr(path2, "user.sr2", "v2", 2, 0));
	T_EQ(xs == 0, xp == 0);
	if (xs == 0) {
		T_EQ(SR4(SYS_getxattr, path2, "user.sr", buf, sizeof(buf)), 2);
		T_EQ(memcmp(buf, "v1", 2), 0);
		long gfd = open(path2, O_RDWR);
		T_EQ(SR5(SYS_fsetxattr, gfd, "user.sr3", "v33", 3, 0), 0);
		T_EQ(SR4(SYS_fgetxattr, gfd, "user.sr3", buf, sizeof(buf)), 3);
		close((int)gfd);
	}
	expect_uring(SYS_getxattr);
	T_EQ(SR4(SYS_getxattr, path2, "user.none", buf, sizeof(buf)),
	     plain(getxattr(path2, "user.none", buf, sizeof(buf))));

	/* ---- open variants and close ---- */
	long f2 = SR3(SYS_open, path2, O_RDONLY, 0);
	expect_uring(SYS_open);
	T_ASSERT(f2 >= 0);
	T_EQ(SR1(SYS_close, f2), 0);
	expect_uring(SYS_close);
	T_EQ(SR1(SYS_close, f2), -EBADF);
	snprintf(path, sizeof(path), "%s/c", dir);
	long f3 = SR2(SYS_creat, path, 0600);
	expect_uring(SYS_creat);
	T_ASSERT(f3 >= 0);
	T_EQ(fcntl((int)f3, F_GETFL) & O_ACCMODE, O_WRONLY);
	close((int)f3);
	struct open_how how = {.flags = O_RDONLY};
	long f4 = SR4(SYS_openat2, dfd, "c", &how, sizeof(how));
	expect_uring(SYS_openat2);
	T_ASSERT(f4 >= 0);
	close((int)f4);
	how.resolve = RESOLVE_BENEATH;
	T_EQ(SR4(SYS_openat2, dfd, "/etc/passwd", &how, sizeof(how)), -EXDEV);

	/* ---- pipes, splice, tee ---- */
	int pf[2], pg[2];
	T_EQ(SR1(SYS_pipe, pf), 0);
	expect_uring(SYS_pipe);
	T_EQ(SR2(SYS_pipe2, pg, O_CLOEXEC), 0);
	expect_uring(SYS_pipe2);
	T_ASSERT(fcntl(pg[0], F_GETFD) & FD_CLOEXEC);
	T_EQ(write(pf[1], "splice!", 7), 7);
	T_EQ(SR4(SYS_tee, pf[0], pg[1], 7, 0), 7);
	expect_uring(SYS_tee);
	T_EQ(read(pg[0], buf, sizeof(buf)), 7);
	loff_t off_out = 10;
	T_EQ(SR6(SYS_splice, pf[0], NULL, fd, &off_out, 7, 0), 7);
	expect_uring(SYS_splice);
	T_EQ(off_out, 17); /* advanced, as splice(2) does */
	T_EQ(pread((int)fd, buf, 7, 10), 7);
	T_EQ(memcmp(buf, "splice!", 7), 0);
	close(pf[0]);
	close(pf[1]);
	close(pg[0]);
	close(pg[1]);

	/* ---- sockets ---- */
	long ls = SR3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	expect_uring(SYS_socket);
	T_ASSERT(ls >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	T_EQ(SR3(SYS_bind, ls, &sa, sizeof(sa)), 0);
	expect_uring(SYS_bind);
	T_EQ(SR2(SYS_listen, ls, 8), 0);
	expect_uring(SYS_listen);
	socklen_t sl = sizeof(sa);
	T_EQ(getsockname((int)ls, (struct sockaddr *)&sa, &sl), 0);
	long cs = socket(AF_INET, SOCK_STREAM, 0);
	T_EQ(SR3(SYS_connect, cs, &sa, sizeof(sa)), 0);
	expect_uring(SYS_connect);
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	long as = SR3(SYS_accept, ls, &peer, &plen);
	expect_uring(SYS_accept);
	T_ASSERT(as >= 0);
	T_EQ(plen, sizeof(peer));
	long cs2 = socket(AF_INET, SOCK_STREAM, 0);
	T_EQ(connect((int)cs2, (struct sockaddr *)&sa, sizeof(sa)), 0);
	long as2 = SR4(SYS_accept4, ls, NULL, NULL, SOCK_CLOEXEC);
	expect_uring(SYS_accept4);
	T_ASSERT(as2 >= 0 && (fcntl((int)as2, F_GETFD) & FD_CLOEXEC));
	T_EQ(SR6(SYS_sendto, cs, "ping", 4, 0, NULL, 0), 4);
	expect_uring(SYS_sendto);
	T_EQ(SR6(SYS_recvfrom, as, buf, sizeof(buf), 0, NULL, NULL), 4);
	expect_uring(SYS_recvfrom);
	T_EQ(memcmp(buf, "ping", 4), 0);
	struct iovec mv = {"msg!", 4};
	struct msghdr mh = {.msg_iov = &mv, .msg_iovlen = 1};
	T_EQ(SR3(SYS_sendmsg, as, &mh, 0), 4);
	expect_uring(SYS_sendmsg);
	struct iovec rmv = {buf, sizeof(buf)};
	struct msghdr rmh = {.msg_iov = &rmv, .msg_iovlen = 1};
	T_EQ(SR3(SYS_recvmsg, cs, &rmh, 0), 4);
	expect_uring(SYS_recvmsg);
	T_EQ(memcmp(buf, "msg!", 4), 0);
	T_EQ(SR2(SYS_shutdown, cs, SHUT_WR), 0);
	expect_uring(SYS_shutdown);
	T_EQ(SR6(SYS_recvfrom, as, buf, sizeof(buf), 0, NULL, NULL), 0); /* EOF */
	/* UDP with addresses both ways */
	long u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	T_EQ(bind((int)u1, (struct sockaddr *)&ua, sizeof(ua)), 0);
	sl = sizeof(ua);
	getsockname((int)u1, (struct sockaddr *)&ua, &sl);
	T_EQ(SR6(SYS_sendto, u2, "dgram", 5, 0, &ua, sizeof(ua)), 5);
	struct sockaddr_in from;
	socklen_t flen = sizeof(from) + 10;
	T_EQ(SR6(SYS_recvfrom, u1, buf, sizeof(buf), 0, &from, &flen), 5);
	T_EQ(flen, sizeof(from)); /* written back as recvfrom(2) does */
	T_EQ(from.sin_family, AF_INET);
	T_EQ(SR6(SYS_sendto, u2, "x", 1, 0, &ua, 3), plain(sendto((int)u2, "x", 1, 0, (void *)&ua, 3)));
	close((int)u1);
	close((int)u2);

	/* ---- epoll ---- */
	long ep = epoll_create1(0);
	struct epoll_event ee = {.events = EPOLLIN, .data.u64 = 42};
	T_EQ(SR4(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, as, &ee), 0);
	expect_uring(SYS_epoll_ctl);
	T_EQ(SR4(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, as, &ee), -EEXIST);
	struct epoll_event out[4];
	T_EQ(SR4(SYS_epoll_wait, ep, out, 4, -1), 1); /* as is readable (EOF) */
	expect_uring(SYS_epoll_wait);
	T_EQ(out[0].data.u64, 42);
	close((int)ep);
	close((int)cs);
	close((int)cs2);
	close((int)as);
	close((int)as2);
	close((int)ls);

	/* ---- futex wait/wake, waitid ---- */
	static uint32_t fword;
	pthread_t th;
	pthread_create(&th, NULL, futex_waker, &fword);
	r = SR6(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	expect_uring(SYS_futex);
	T_ASSERT(r == 0 || r == -EAGAIN);
	pthread_join(th, NULL);
	T_EQ(SR6(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
	T_EQ(SR6(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 5, NULL, NULL, 0), -EAGAIN);
	pid_t child = fork();
	if (child == 0)
		_exit(7);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	T_EQ(SR5(SYS_waitid, P_PID, child, &si, WEXITED, NULL), 0);
	expect_uring(SYS_waitid);
	T_EQ(si.si_pid, child);
	T_EQ(si.si_status, 7);
	T_EQ(SR5(SYS_waitid, P_PID, child, &si, WEXITED, NULL), -ECHILD);

	/* ---- a call io_uring lacks falls back, never fails ---- */
	char dents[1024];
	T_ASSERT(SR3(SYS_getdents64, dfd, dents, sizeof(dents)) > 0);

	close((int)fd);
	close(dfd);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	T_EQ(system(cmd), 0);

	struct sysring_stats st;
	T_EQ(sysring_stats(ctx, &st), 0);
	printf("uring_ops: %d calls the kernel's io_uring offers; %llu ran in io_uring, %llu on "
	       "threads, %llu answered inline\n",
	       uring_calls_expected, (unsigned long long)st.by_engine[SYSRING_ENGINE_URING],
	       (unsigned long long)st.by_engine[SYSRING_ENGINE_THREADS],
	       (unsigned long long)st.by_engine[SYSRING_ENGINE_INLINE]);
	if (want_uring)
		T_ASSERT(st.by_engine[SYSRING_ENGINE_URING] >= (uint64_t)uring_calls_expected);
	else if (want_some)
		T_ASSERT(st.by_engine[SYSRING_ENGINE_URING] >= (uint64_t)uring_calls_expected / 3);
	else
		T_EQ(st.by_engine[SYSRING_ENGINE_URING], 0);
	T_EQ(async_destroy(ctx), 0);
	return 0;
}

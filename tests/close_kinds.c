/* SPDX-License-Identifier: MIT */
/*
 * close(2) of an fd of every kind through the async face: the plain call's
 * answer (0) and the fd gone afterwards, whichever engine runs it --
 * io_uring's own close refuses an io_uring instance (EBADF, the fd stays
 * open), so such a close must not go there. Every engine, inline on and
 * off (the matrix).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <linux/io_uring.h>

#include "t.h"

#include <sysring.h>

static int make(int kind, const char **name)
{
	struct io_uring_params p;
	sigset_t ss;
	int sv[2];

	switch (kind) {
	case 0:
		*name = "io_uring instance";
		memset(&p, 0, sizeof(p));
		return (int)syscall(SYS_io_uring_setup, 4, &p);
	case 1:
		*name = "eventfd";
		return eventfd(0, EFD_CLOEXEC);
	case 2:
		*name = "epoll";
		return epoll_create1(EPOLL_CLOEXEC);
	case 3:
		*name = "signalfd";
		sigemptyset(&ss);
		sigaddset(&ss, SIGUSR2);
		return signalfd(-1, &ss, SFD_CLOEXEC);
	case 4:
		*name = "timerfd";
		return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	case 5:
		*name = "socket";
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			return -1;
		close(sv[1]);
		return sv[0];
	case 6:
		*name = "O_PATH";
		return open("/", O_PATH | O_CLOEXEC);
	default:
		*name = "regular file";
		return open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	}
}

int main(void)
{
	async_context_t ctx;
	struct async_event ev;
	struct timespec to = {10, 0};

	t_watchdog(60);
	T_EQ(async_setup(8, &ctx), 0);
	for (int round = 0; round < 3; round++) {
		for (int kind = 0; kind < 8; kind++) {
			const char *name;
			int fd = make(kind, &name);
			if (fd < 0)
				T_SKIP("cannot make a %s: %s", name, strerror(errno));
			struct async_cb *cb = async_cb_new(SYS_close, 1, (long)fd);
			struct async_cb *cbs[1] = {cb};
			T_EQ(async_submit(ctx, 1, cbs), 1);
			T_EQ(async_getevents(ctx, 1, 1, &ev, &to), 1);
			if (ev.res != 0)
				T_FAIL("close of a %s: %lld, plain 0", name, (long long)ev.res);
			if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
				T_FAIL("close of a %s: the fd is still open", name);
			async_cb_free(cb);
		}
	}
	T_EQ(async_destroy(ctx), 0);
	printf("close_kinds: ok\n");
	return 0;
}

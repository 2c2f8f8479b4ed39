/* SPDX-License-Identifier: MIT */
/* sysring_eventfd: readable while events wait, not readable once they are
 * all collected, same fd on every call, closed by destroy. */
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

int main(void)
{
	async_context_t ctx;
	struct async_event ev[8];
	t_watchdog(60);

	T_EQ(async_setup(8, &ctx), 0);
	struct async_cb *c = async_cb_new(SYS_getppid, 0);
	struct async_cb *cbs[2] = {c, c};

	/* events finished before the fd existed still make it readable */
	T_EQ(async_submit(ctx, 1, cbs), 1);
	usleep(20000);
	int fd = sysring_eventfd(ctx);
	T_ASSERT(fd >= 0);
	T_EQ(sysring_eventfd(ctx), fd);
	T_ASSERT(readable(fd, 1000));
	T_EQ(async_getevents(ctx, 1, 8, ev, NULL), 1);
	T_ASSERT(!readable(fd, 0));

	for (int round = 0; round < 200; round++) {
		T_EQ(async_submit(ctx, 2, cbs), 2);
		T_ASSERT(readable(fd, 2000));
		/* collect one: the other may still be waiting, so it must stay
		 * readable while anything is pending */
		int n = async_getevents(ctx, 1, 1, ev, NULL);
		T_EQ(n, 1);
		struct sysring_stats st;
		T_EQ(sysring_stats(ctx, &st), 0);
		/* (pending counts a completion a moment before it is queued, so
		 * allow the completer that moment) */
		if (st.pending)
			T_ASSERT(readable(fd, 1000));
		T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
		/* Nothing waits now. A completer's write can land after its
		 * event was taken, so the fd may be readable for a moment, but
		 * it becomes unreadable by itself, with no further collect:
		 * that completer drains it again (ctx.c, efd_settle). An epoll
		 * loop therefore never spins on it. */
		uint64_t until = t_now_ns() + 2000000000ull;
		while (readable(fd, 0)) {
			if (t_now_ns() > until)
				T_FAIL("round %d: the fd stayed readable with no event waiting", round);
			usleep(100);
		}
		T_EQ(async_check_events(ctx, 0, 8, ev, NULL), 0);
	}
	T_EQ(async_destroy(ctx), 0);
	/* the fd is closed with the context */
	T_EQ(fcntl(fd, F_GETFD), -1);
	T_EQ(sysring_eventfd(ctx), -EINVAL);
	async_cb_free(c);
	printf("eventfd: ok\n");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* async_destroy with calls in flight returns promptly: a read nobody will
 * ever satisfy is interrupted, queued calls are cancelled, a thread asleep in
 * getevents is woken, and everything is freed (ASan/LSan check the last). */
#include <pthread.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

static async_context_t shared;
static int waiter_ret = 99, waiter_errno;

static void *waiter(void *arg)
{
	struct async_event ev[4];
	(void)arg;
	waiter_ret = async_getevents(shared, 4, 4, ev, NULL);
	waiter_errno = errno; /* errno is per thread */
	return NULL;
}

int main(void)
{
	int pfd[2];
	char buf[4];
	struct sysring_params p;
	t_watchdog(60);

	T_EQ(pipe(pfd), 0);
	for (int round = 0; round < 20; round++) {
		async_context_t ctx;
		sysring_params_init(&p);
		p.threads = 2;
		T_EQ(sysring_setup(64, &p, &ctx), 0);
		struct async_cb *rd = async_cb_new(SYS_read, 3, (long)pfd[0], (long)buf, 1L);
		struct async_cb *cbs[16];
		for (int i = 0; i < 16; i++)
			cbs[i] = rd;
		/* 2 workers block forever, 14 calls stay queued */
		T_EQ(async_submit(ctx, 16, cbs), 16);
		usleep(round % 3 == 0 ? 0 : 2000);
		uint64_t t0 = t_now_ns();
		T_EQ(async_destroy(ctx), 0);
		uint64_t ms = (t_now_ns() - t0) / 1000000;
		if (ms > 1000)
			T_FAIL("destroy took %llu ms", (unsigned long long)ms);
		async_cb_free(rd);
	}

	/* a thread asleep in getevents while another destroys the context */
	T_EQ(async_setup(8, &shared), 0);
	pthread_t th;
	pthread_create(&th, NULL, waiter, NULL);
	usleep(20000);
	T_EQ(async_destroy(shared), 0);
	pthread_join(th, NULL);
	T_ASSERT(waiter_ret == 0 || (waiter_ret == -1 && waiter_errno == EINVAL));

	/* nothing was written to the pipe by the interrupted reads */
	T_EQ(write(pfd[1], "z", 1), 1);
	T_EQ(read(pfd[0], buf, 1), 1);
	T_EQ(buf[0], 'z');
	printf("async_destroy: ok\n");
	return 0;
}

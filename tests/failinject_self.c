/* SPDX-License-Identifier: MIT */
/*
 * The failure-injection shim itself (failinject.h): the k-th call fails, the
 * library's own calls are seen, and reset restores normal behaviour. Other
 * tests rely on it to prove clean errors under exhaustion.
 */
#include "t.h"
#include "failinject.h"

#include <pthread.h>
#include <sysring.h>

static void *thread_fn(void *a)
{
	return a;
}

int main(void)
{
	fi_fail_nth(FI_MALLOC, 2);
	void *a = malloc(8), *b = malloc(8), *c = malloc(8);
	T_ASSERT(a && !b && c);
	T_EQ(fi_failed(FI_MALLOC), 1);
	free(a);
	free(c);

	pthread_t t;
	fi_fail_from(FI_PTHREAD_CREATE, 1);
	T_EQ(pthread_create(&t, NULL, thread_fn, NULL), EAGAIN);
	T_EQ(pthread_create(&t, NULL, thread_fn, NULL), EAGAIN);
	fi_reset();
	T_EQ(pthread_create(&t, NULL, thread_fn, NULL), 0);
	pthread_join(t, NULL);

	/* The library's allocations go through the wrapper too. */
	fi_fail_nth(FI_MALLOC, 1000000);
	async_context_t ctx;
	T_EQ(async_setup(8, &ctx), 0);
	long seen = fi_calls(FI_MALLOC);
	fi_reset();
	T_ASSERT(seen > 0);
	T_EQ(async_destroy(ctx), 0);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Failure injection for tests only: the test program is linked with
 * -Wl,--wrap=<fn> for each function below (sysring_test(... FAILINJECT)), so
 * every call the library (and the test) makes to it goes through a wrapper
 * that can be told to fail.
 *
 *   fi_fail_nth(FI_MALLOC, k): the k-th call from now (1 = the next one) fails.
 *   fi_fail_from(FI_PTHREAD_CREATE, k): the k-th call and every later one fail.
 *   fi_reset(): nothing fails any more.
 *   fi_calls(FI_MALLOC): calls seen since the last arm/reset (to find k's range).
 *
 * A failing allocator returns NULL with errno ENOMEM; pthread_create returns
 * EAGAIN; timer_create, eventfd and mmap return -1 with errno EAGAIN/EMFILE/
 * ENOMEM as the real call would. Counters are atomic, so calls from any
 * thread count. Arm only around the entry point under test: the test's own
 * allocations count too.
 */
#ifndef SYSRING_TEST_FAILINJECT_H
#define SYSRING_TEST_FAILINJECT_H

enum fi_fn {
	FI_MALLOC,         /* malloc, calloc, realloc, aligned_alloc, posix_memalign */
	FI_PTHREAD_CREATE,
	FI_TIMER_CREATE,
	FI_EVENTFD,
	FI_MMAP,
	FI__COUNT
};

void fi_fail_nth(enum fi_fn fn, long k);
void fi_fail_from(enum fi_fn fn, long k);
void fi_reset(void);
long fi_calls(enum fi_fn fn);
/* Failures injected since the last arm/reset. */
long fi_failed(enum fi_fn fn);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The wrappers behind failinject.h. Linked only into test programs that ask
 * for it; each wrapped symbol's real definition is reached as __real_<fn>.
 */
#include "failinject.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>

struct fi_state {
	long calls;  /* since arm/reset */
	long failed;
	long nth;    /* 0: disarmed; else the call number that fails */
	int from;    /* every call from nth on fails */
};

static struct fi_state st[FI__COUNT];

void fi_fail_nth(enum fi_fn fn, long k)
{
	__atomic_store_n(&st[fn].nth, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st[fn].calls, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st[fn].failed, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st[fn].from, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st[fn].nth, k, __ATOMIC_SEQ_CST);
}

void fi_fail_from(enum fi_fn fn, long k)
{
	fi_fail_nth(fn, 0);
	__atomic_store_n(&st[fn].from, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st[fn].nth, k, __ATOMIC_SEQ_CST);
}

void fi_reset(void)
{
	for (int i = 0; i < FI__COUNT; i++)
		fi_fail_nth((enum fi_fn)i, 0);
}

long fi_calls(enum fi_fn fn)
{
	return __atomic_load_n(&st[fn].calls, __ATOMIC_SEQ_CST);
}

long fi_failed(enum fi_fn fn)
{
	return __atomic_load_n(&st[fn].failed, __ATOMIC_SEQ_CST);
}

/* Count this call; true if it must fail. */
static int fi_hit(enum fi_fn fn)
{
	long n = __atomic_add_fetch(&st[fn].calls, 1, __ATOMIC_SEQ_CST);
	long k = __atomic_load_n(&st[fn].nth, __ATOMIC_SEQ_CST);
	if (k <= 0)
		return 0;
	int hit = __atomic_load_n(&st[fn].from, __ATOMIC_SEQ_CST) ? n >= k : n == k;
	if (hit)
		__atomic_add_fetch(&st[fn].failed, 1, __ATOMIC_SEQ_CST);
	return hit;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t al, size_t n);
int __real_posix_memalign(void **p, size_t al, size_t n);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __real_timer_create(clockid_t c, struct sigevent *sev, timer_t *t);
int __real_eventfd(unsigned int v, int flags);
void *__real_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off);

void *__wrap_malloc(size_t n)
{
	if (fi_hit(FI_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(n);
}

void *__wrap_calloc(size_t a, size_t b)
{
	if (fi_hit(FI_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(a, b);
}

void *__wrap_realloc(void *p, size_t n)
{
	if (fi_hit(FI_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t al, size_t n)
{
	if (fi_hit(FI_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_aligned_alloc(al, n);
}

int __wrap_posix_memalign(void **p, size_t al, size_t n)
{
	if (fi_hit(FI_MALLOC))
		return ENOMEM;
	return __real_posix_memalign(p, al, n);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	if (fi_hit(FI_PTHREAD_CREATE))
		return EAGAIN;
	return __real_pthread_create(t, a, fn, arg);
}

int __wrap_timer_create(clockid_t c, struct sigevent *sev, timer_t *t)
{
	if (fi_hit(FI_TIMER_CREATE)) {
		errno = EAGAIN;
		return -1;
	}
	return __real_timer_create(c, sev, t);
}

int __wrap_eventfd(unsigned int v, int flags)
{
	if (fi_hit(FI_EVENTFD)) {
		errno = EMFILE;
		return -1;
	}
	return __real_eventfd(v, flags);
}

void *__wrap_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off)
{
	if (fi_hit(FI_MMAP)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return __real_mmap(a, n, prot, flags, fd, off);
}

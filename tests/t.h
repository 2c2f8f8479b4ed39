/* SPDX-License-Identifier: MIT */
/*
 * Shared test helpers: exit 0 pass, 1 fail, 77 skip (with the reason).
 * Assertions print both sides and the location.
 */
#ifndef SYSRING_TEST_T_H
#define SYSRING_TEST_T_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define T_EXIT_PASS 0
#define T_EXIT_FAIL 1
#define T_EXIT_SKIP 77

#define T_FAIL(...)                                                                     \
	do {                                                                            \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                    \
		fprintf(stderr, __VA_ARGS__);                                           \
		fprintf(stderr, "\n");                                                  \
		exit(T_EXIT_FAIL);                                                      \
	} while (0)

#define T_SKIP(...)                                                                     \
	do {                                                                            \
		fprintf(stderr, "SKIP: ");                                              \
		fprintf(stderr, __VA_ARGS__);                                           \
		fprintf(stderr, "\n");                                                  \
		exit(T_EXIT_SKIP);                                                      \
	} while (0)

#define T_ASSERT(cond)                                                                  \
	do {                                                                            \
		if (!(cond))                                                            \
			T_FAIL("assertion failed: %s (errno %d %s)", #cond, errno,       \
			       strerror(errno));                                        \
	} while (0)

#define T_EQ(a, b)                                                                      \
	do {                                                                            \
		long long _a = (long long)(a), _b = (long long)(b);                     \
		if (_a != _b)                                                           \
			T_FAIL("%s == %s: %lld != %lld (errno %d %s)", #a, #b, _a, _b,    \
			       errno, strerror(errno));                                 \
	} while (0)

#define T_NE(a, b)                                                                      \
	do {                                                                            \
		long long _a = (long long)(a), _b = (long long)(b);                     \
		if (_a == _b)                                                           \
			T_FAIL("%s != %s: both %lld", #a, #b, _a);                       \
	} while (0)

/* -1 with errno e */
#define T_ERRNO(expr, e)                                                                \
	do {                                                                            \
		errno = 0;                                                              \
		long _r = (long)(expr);                                                 \
		if (_r != -1 || errno != (e))                                           \
			T_FAIL("%s: want -1/%s, got %ld/%s", #expr, strerror(e), _r,     \
			       strerror(errno));                                        \
	} while (0)

static inline uint64_t t_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Scale for stress sizes: smaller under sanitizers (SYSRING_TEST_SCALE). */
static inline double t_scale(void)
{
	const char *s = getenv("SYSRING_TEST_SCALE");
	double v = s ? atof(s) : 1.0;
	return v > 0 ? v : 1.0;
}

/* A watchdog: the test fails instead of hanging. */
static inline void t_watchdog(unsigned int seconds)
{
	signal(SIGALRM, SIG_DFL);
	alarm(seconds);
}

#endif

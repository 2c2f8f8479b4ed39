/* SPDX-License-Identifier: MIT */
/*
 * Futex helpers. Private futexes for in-process words, shared ones for words
 * in a segment mapped by several processes (channels). Results are -errno.
 *
 * Timeouts: sr_futex_wait takes an absolute CLOCK_MONOTONIC deadline (NULL:
 * forever) so that a loop that re-waits after a spurious wake-up never
 * stretches the caller's timeout.
 */
#ifndef SYSRING_CORE_FUTEX_H
#define SYSRING_CORE_FUTEX_H

#include <errno.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline int sr_futex_wait(uint32_t *uaddr, uint32_t val, const struct timespec *abs_deadline,
				bool shared)
{
	/* FUTEX_WAIT_BITSET takes an absolute time; FUTEX_BITSET_MATCH_ANY makes it a plain wait. */
	int op = FUTEX_WAIT_BITSET | (shared ? 0 : FUTEX_PRIVATE_FLAG);
	long r = syscall(SYS_futex, uaddr, op, val, abs_deadline, NULL, FUTEX_BITSET_MATCH_ANY);
	return r < 0 ? -errno : 0;
}

static inline int sr_futex_wake(uint32_t *uaddr, int nr, bool shared)
{
	int op = FUTEX_WAKE | (shared ? 0 : FUTEX_PRIVATE_FLAG);
	long r = syscall(SYS_futex, uaddr, op, nr, NULL, NULL, 0);
	return r < 0 ? -errno : (int)r;
}

/* Relative timespec -> absolute CLOCK_MONOTONIC deadline. */
static inline void sr_deadline_from_rel(struct timespec *abs, const struct timespec *rel)
{
	clock_gettime(CLOCK_MONOTONIC, abs);
	abs->tv_sec += rel->tv_sec;
	abs->tv_nsec += rel->tv_nsec;
	if (abs->tv_nsec >= 1000000000L) {
		abs->tv_sec += abs->tv_nsec / 1000000000L;
		abs->tv_nsec %= 1000000000L;
	}
}

static inline uint64_t sr_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline bool sr_deadline_passed(const struct timespec *abs)
{
	struct timespec now;
	if (!abs)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > abs->tv_sec || (now.tv_sec == abs->tv_sec && now.tv_nsec >= abs->tv_nsec);
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Timeouts and deadlines: the one place where a caller's relative timeout
 * (struct timespec) is checked and turned into a deadline. Every entry point
 * that takes a timeout goes through here, so they all follow the kernel's
 * rules:
 *
 *   - A timespec with tv_sec < 0 or tv_nsec outside [0, 999999999] is
 *     invalid: -EINVAL, as timespec64_valid() makes io_getevents(2),
 *     futex(2) and ppoll(2) answer.
 *   - A timeout too large to add to the clock means "never": the kernel
 *     saturates (timespec64_to_ktime, ktime_add_safe) at KTIME_MAX, about
 *     292 years, so {LONG_MAX, 999999999} waits forever. Nothing here adds
 *     two values that can overflow (UBSan checks the signed sums).
 *
 * Deadlines are absolute CLOCK_MONOTONIC times. "Never" is a real, finite
 * deadline (SR_NEVER_SEC, the kernel's KTIME_MAX in seconds), not NULL:
 * a futex wait with a timeout that a signal interrupts returns EINTR even
 * when the handler was installed with SA_RESTART (the kernel restarts it
 * through the restart block only when no handler ran), while a wait with
 * no timeout is silently restarted. The waits that must report a signal
 * (async_getevents, async_wait: io_getevents(2) and epoll_wait(2) are never
 * restarted either) therefore always pass a deadline.
 *
 * The per-call deadlines of sysring_submit_timeout are nanoseconds of the
 * same clock (sr_deadline_ns), where 0 means "no deadline"; a timeout that
 * saturates is "no deadline" too.
 */
#ifndef SYSRING_CORE_DEADLINE_H
#define SYSRING_CORE_DEADLINE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define SR_NSEC_PER_SEC 1000000000L
/* KTIME_MAX in whole seconds: deadlines at or beyond it never expire. */
#define SR_NEVER_SEC ((time_t)(INT64_MAX / SR_NSEC_PER_SEC))

/* 0 if the relative timeout is valid (NULL is: no timeout), -EINVAL if not. */
static inline int sr_timeout_check(const struct timespec *rel)
{
	if (rel && (rel->tv_sec < 0 || rel->tv_nsec < 0 || rel->tv_nsec >= SR_NSEC_PER_SEC))
		return -EINVAL;
	return 0;
}

/* The deadline that never comes. */
static inline void sr_deadline_never(struct timespec *abs)
{
	abs->tv_sec = SR_NEVER_SEC;
	abs->tv_nsec = 0;
}

static inline bool sr_deadline_is_never(const struct timespec *abs)
{
	return abs->tv_sec >= SR_NEVER_SEC;
}

/*
 * *abs = now + *rel (CLOCK_MONOTONIC), or "never" if rel is NULL or the sum
 * reaches SR_NEVER_SEC. rel must have passed sr_timeout_check.
 */
static inline void sr_deadline_set(struct timespec *abs, const struct timespec *rel)
{
	struct timespec now;

	if (!rel) {
		sr_deadline_never(abs);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* now.tv_sec is far below SR_NEVER_SEC (uptime), so the subtraction
	 * cannot overflow; the "- 1" leaves room for the nanoseconds' carry. */
	if (rel->tv_sec >= SR_NEVER_SEC - now.tv_sec - 1) {
		sr_deadline_never(abs);
		return;
	}
	abs->tv_sec = now.tv_sec + rel->tv_sec;
	abs->tv_nsec = now.tv_nsec + rel->tv_nsec;
	if (abs->tv_nsec >= SR_NSEC_PER_SEC) {
		abs->tv_sec++;
		abs->tv_nsec -= SR_NSEC_PER_SEC;
	}
}

/* The deadline has passed (a "never" deadline never does). */
static inline bool sr_deadline_expired(const struct timespec *abs)
{
	struct timespec now;

	if (sr_deadline_is_never(abs))
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > abs->tv_sec || (now.tv_sec == abs->tv_sec && now.tv_nsec >= abs->tv_nsec);
}

/*
 * A per-call deadline in CLOCK_MONOTONIC nanoseconds for a valid relative
 * timeout: now + rel, or 0 ("no deadline") if rel is NULL or the deadline
 * would reach SR_NEVER_SEC. Never 0 otherwise: the clock is past 0.
 */
static inline uint64_t sr_deadline_ns(const struct timespec *rel)
{
	struct timespec abs;

	if (!rel)
		return 0;
	sr_deadline_set(&abs, rel);
	if (sr_deadline_is_never(&abs))
		return 0;
	return (uint64_t)abs.tv_sec * (uint64_t)SR_NSEC_PER_SEC + (uint64_t)abs.tv_nsec;
}

#endif

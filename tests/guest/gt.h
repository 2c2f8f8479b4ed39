/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the guest programs in tests/guest: statically linked, only
 * libc, run inside the qemu guest by scripts/guest/run.sh with sysring.ko
 * loaded. Exit 0 pass, 1 fail, 77 skip (with the reason).
 */
#ifndef SYSRING_GUEST_GT_H
#define SYSRING_GUEST_GT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sysring/syslet.h>
#include <sysring/uapi.h>

#define GT_FAIL(...)                                                                    \
	do {                                                                            \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                    \
		fprintf(stderr, __VA_ARGS__);                                           \
		fprintf(stderr, "\n");                                                  \
		exit(1);                                                                \
	} while (0)

#define GT_SKIP(...)                                                                    \
	do {                                                                            \
		fprintf(stderr, "SKIP: ");                                              \
		fprintf(stderr, __VA_ARGS__);                                           \
		fprintf(stderr, "\n");                                                  \
		exit(77);                                                               \
	} while (0)

#define GT_ASSERT(cond)                                                                 \
	do {                                                                            \
		if (!(cond))                                                            \
			GT_FAIL("assertion failed: %s (errno %d %s)", #cond, errno,      \
				strerror(errno));                                       \
	} while (0)

#define GT_EQ(a, b)                                                                     \
	do {                                                                            \
		long long _a = (long long)(a), _b = (long long)(b);                     \
		if (_a != _b)                                                           \
			GT_FAIL("%s == %s: %lld != %lld", #a, #b, _a, _b);              \
	} while (0)

#define GT_OK(name) printf("ok   %s\n", name)

static inline uint64_t gt_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Open the device; skip the program when the module is not there. */
static inline int gt_open(void)
{
	int fd = open(SYSRING_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO))
		GT_SKIP("%s: %s (module not loaded)", SYSRING_DEVICE_PATH, strerror(errno));
	if (fd < 0)
		GT_FAIL("open %s: %s", SYSRING_DEVICE_PATH, strerror(errno));
	return fd;
}

/* ioctl in kernel convention: the result or -errno. The argument may be a
 * pointer or a value. */
static inline long gt_ioctl_(int fd, unsigned long cmd, unsigned long arg)
{
	long r = syscall(SYS_ioctl, fd, cmd, arg);
	return r < 0 ? -errno : r;
}
#define gt_ioctl(fd, cmd, arg) gt_ioctl_((fd), (cmd), (unsigned long)(arg))

static inline struct sysring_call gt_call(long nr, long a0, long a1, long a2, long a3, long a4,
					   long a5)
{
	struct sysring_call c = { .nr = (uint32_t)nr,
				  .args = { (uint64_t)a0, (uint64_t)a1, (uint64_t)a2, (uint64_t)a3,
					    (uint64_t)a4, (uint64_t)a5 },
				  .result = 0x5a5a5a5a };
	return c;
}

static inline long gt_batch(int fd, struct sysring_call *calls, unsigned int n, unsigned int flags)
{
	struct sysring_batch b = { .size = sizeof(b), .flags = flags, .calls = (uintptr_t)calls,
				   .count = n };
	return gt_ioctl(fd, SYSRING_IOC_BATCH, &b);
}

static inline long gt_syslet(int fd, struct syslet_uatom *atom, uint64_t max,
			     struct sysring_syslet *out)
{
	struct sysring_syslet s = { .size = sizeof(s), .atom = (uintptr_t)atom, .max_atoms = max };
	long r = gt_ioctl(fd, SYSRING_IOC_SYSLET, &s);
	if (out)
		*out = s;
	return r;
}

static inline void gt_atom(struct syslet_uatom *a, unsigned long flags, long nr, long *ret,
			   struct syslet_uatom *next, void *a0, void *a1, void *a2, void *a3)
{
	memset(a, 0, sizeof(*a));
	a->flags = flags;
	a->nr = (unsigned long)nr;
	a->ret_ptr = ret;
	a->next = next;
	a->arg_ptr[0] = a0;
	a->arg_ptr[1] = a0 ? a1 : NULL;
	a->arg_ptr[2] = a0 && a1 ? a2 : NULL;
	a->arg_ptr[3] = a0 && a1 && a2 ? a3 : NULL;
}

/* Rounds of a hostile program: base times SYSRING_HOSTILE_SCALE (default
 * 1; the soak run of kmod/guest.cmake sets 10). */
static inline unsigned int gt_rounds(unsigned int base)
{
	const char *e = getenv("SYSRING_HOSTILE_SCALE");
	double v = e ? atof(e) : 1.0;
	return (unsigned int)(base * (v > 0 ? v : 1.0));
}

/* Wait for a child, at most ms milliseconds; -1 if it is still running. */
static inline int gt_wait_child(pid_t pid, int ms, int *status)
{
	for (int i = 0; i < ms; i++) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		usleep(1000);
	}
	return -1;
}

/* Numbers the library (and so the module) refuses: the RF class. */
static const unsigned short gt_refused[] = {
#define NB 0
#define MB 0
#define RF 1
#define TS 0
#define SR_SYSCALL(nr, name, nargs, cls) [nr] = (cls),
#include "../../src/table/syscalls.def"
#undef SR_SYSCALL
#undef NB
#undef MB
#undef RF
#undef TS
};
#define GT_NR_TABLE (sizeof(gt_refused) / sizeof(gt_refused[0]))

/* The TS (thread-scoped) class: refused on ring workers, run on the caller;
 * some only for the argument values of src/table/thread.def. */
static const unsigned short gt_thread[] = {
#define NB 0
#define MB 0
#define RF 0
#define TS 1
#define SR_SYSCALL(nr, name, nargs, cls) [nr] = (cls),
#include "../../src/table/syscalls.def"
#undef SR_SYSCALL
#undef NB
#undef MB
#undef RF
#undef TS
};

#endif

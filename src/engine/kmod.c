/* SPDX-License-Identifier: MIT */
/*
 * The kmod engine (see kmod.h): opening /dev/sysring once per process and
 * the BATCH and SYSLET ioctls.
 *
 * The cached state is one int: SR_KMOD_UNKNOWN before the first use, then
 * the descriptor (>= 0) or -errno for good. Two threads racing on the first
 * use may both open the device; one wins the compare-and-swap and the other
 * closes its descriptor. The descriptor is never closed by the library: a
 * program that closes it behind our back (closefrom, a loop over all fds)
 * makes the next ioctl fail with EBADF or ENOTTY, which resets the cache
 * and opens the device again once.
 *
 * fd numbers. A new fd takes the lowest free number, so a descriptor the
 * library opens in the middle of the program's calls would shift the number
 * of the program's next open (and of everything after it) against the same
 * program without sysring. So the device is opened at set-up (every face's
 * set-up calls sr_kmod_open: async_setup, async_register, batchsys_open),
 * and every descriptor of the device the library holds is moved out of the
 * way of the program's numbers (sr_fd_high, core.h): where a call must open it
 * without a set-up (a ring-less syslet; a reopen after the program closed
 * ours), the program's numbering does not change either.
 *
 * fork(). The child keeps this descriptor: its file holds no ring (rings
 * are on the per-context files of kmod_ring.c, which the child closes), and
 * BATCH and SYSLET run in the context of the thread that calls them, the
 * child's own.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kmod.h"
#include "../core/core.h"

#define SR_KMOD_UNKNOWN (-1000000)

static int kmod_state = SR_KMOD_UNKNOWN;
/* SYSRING_FEAT_* of the module, written before kmod_state publishes the
 * descriptor (release/acquire on kmod_state orders it). */
static uint32_t kmod_features;

static long kmod_ioctl(int fd, unsigned long cmd, void *arg)
{
	long r = syscall(SYS_ioctl, fd, cmd, arg);
	return r < 0 ? -errno : r;
}

/* Open and check the device: the descriptor or -errno. */
static int kmod_probe(void)
{
	struct sysring_info info;
	const char *env = getenv("SYSRING_KMOD");
	int fd;

	if (env && !strcmp(env, "0"))
		return -ENODEV;
	/* The module refuses processes under seccomp (calls through it would
	 * bypass the filter): do not even try. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) > 0)
		return -EPERM;
	fd = open(SYSRING_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENXIO ? -ENODEV : -errno;
	fd = sr_fd_high(fd);
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (kmod_ioctl(fd, SYSRING_IOC_INFO, &info) || info.version != SYSRING_UAPI_VERSION ||
	    info.call_size != sizeof(struct sysring_call) ||
	    info.atom_size != sizeof(struct syslet_uatom) || !(info.features & SYSRING_FEAT_BATCH)) {
		close(fd);
		return -ENODEV;
	}
	__atomic_store_n(&kmod_features, info.features, __ATOMIC_RELAXED);
	return fd;
}

bool sr_kmod_has(uint32_t feature)
{
	return sr_kmod_open() >= 0 && (__atomic_load_n(&kmod_features, __ATOMIC_RELAXED) & feature) == feature;
}

int sr_kmod_open(void)
{
	int cur = __atomic_load_n(&kmod_state, __ATOMIC_ACQUIRE);
	int fd;

	if (cur != SR_KMOD_UNKNOWN)
		return cur;
	fd = kmod_probe();
	if (!__atomic_compare_exchange_n(&kmod_state, &cur, fd, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		if (fd >= 0)
			close(fd);
		return cur;
	}
	return fd;
}

/* The descriptor stopped working: forget it (it is not ours any more, so
 * it is not closed) and look again, once. */
static int kmod_reopen(int stale)
{
	int cur = stale;

	__atomic_compare_exchange_n(&kmod_state, &cur, SR_KMOD_UNKNOWN, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
	return sr_kmod_open();
}

static long kmod_call(unsigned long cmd, void *arg)
{
	int fd = sr_kmod_open();
	long r;

	if (fd < 0)
		return -ENODEV;
	r = kmod_ioctl(fd, cmd, arg);
	if (r == -EBADF || r == -ENOTTY) {
		fd = kmod_reopen(fd);
		if (fd < 0)
			return -ENODEV;
		r = kmod_ioctl(fd, cmd, arg);
	}
	/* Refused as a whole (a seccomp filter installed since): nothing ran;
	 * remember, so that later batches go elsewhere at once. */
	if (r == -EPERM) {
		__atomic_store_n(&kmod_state, -EPERM, __ATOMIC_RELEASE);
		return -ENODEV;
	}
	return r;
}

long sr_kmod_batch(struct sysring_call *calls, unsigned int n, unsigned int flags)
{
	struct sysring_batch b;

	if (n > SYSRING_MAX_BATCH)
		return -EINVAL;
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.flags = flags;
	b.calls = (uint64_t)(uintptr_t)calls;
	b.count = n;
	return kmod_call(SYSRING_IOC_BATCH, &b);
}

static long kmod_syslet(struct syslet_uatom *atom, uint64_t max_atoms, uint32_t flags,
			struct syslet_uatom **done, struct syslet_uatom **resume, long *res)
{
	struct sysring_syslet s;
	long r;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.flags = flags;
	s.atom = (uint64_t)(uintptr_t)atom;
	s.max_atoms = max_atoms;
	r = kmod_call(SYSRING_IOC_SYSLET, &s);
	if (done)
		*done = (struct syslet_uatom *)(uintptr_t)s.done;
	if (resume)
		*resume = (struct syslet_uatom *)(uintptr_t)s.next;
	if (res)
		*res = (long)s.res;
	return r;
}

long sr_kmod_syslet(struct syslet_uatom *atom, uint64_t max_atoms, struct syslet_uatom **done,
		    struct syslet_uatom **resume)
{
	return kmod_syslet(atom, max_atoms, 0, done, resume, NULL);
}

long sr_kmod_syslet_cached(struct syslet_uatom *atom, uint64_t max_atoms, struct syslet_uatom **done,
			   struct syslet_uatom **resume, long *res)
{
	if (!sr_kmod_has(SYSRING_FEAT_SYSLET_CACHED))
		return -ENODEV;
	return kmod_syslet(atom, max_atoms, SYSRING_SYSLET_CACHED, done, resume, res);
}

/* SPDX-License-Identifier: MIT */
/*
 * The kmod engine: the library's side of sysring.ko (/dev/sysring). The
 * interface is include/sysring/uapi.h; the module is kmod/.
 *
 * The device is opened once per process, on first use, and its interface
 * version checked (SYSRING_IOC_INFO); the answer, good or bad, is cached.
 * Everything here returns -errno; -ENODEV means "no usable module" (absent,
 * another interface version, refused to this process, or switched off with
 * SYSRING_KMOD=0), and callers then use another engine.
 */
#ifndef SYSRING_ENGINE_KMOD_H
#define SYSRING_ENGINE_KMOD_H

#include <stdbool.h>
#include <stdint.h>

#include <sysring/syslet.h>
#include <sysring/uapi.h>

/*
 * The process-wide descriptor of /dev/sysring (O_CLOEXEC), or -errno:
 * -ENODEV (no device, version mismatch, SYSRING_KMOD=0), -EACCES (the node's
 * permissions), -EPERM (this process runs under seccomp, which the module
 * refuses). Cheap after the first call. Every face's set-up calls it, so
 * that the device is not opened in the middle of the program's calls.
 */
int sr_kmod_open(void);

/*
 * Run calls[0..n) in one crossing (SYSRING_IOC_BATCH); each calls[i].result
 * gets the raw result. flags: SYSRING_BATCH_STOP_ON_ERROR. Returns how many
 * ran, or -errno with nothing run (-ENODEV: use another engine).
 */
long sr_kmod_batch(struct sysring_call *calls, unsigned int n, unsigned int flags);

/*
 * Run a syslet in one crossing (SYSRING_IOC_SYSLET), at most max_atoms atoms
 * (0: the module's default). Returns 0 when the syslet ended (*done: the
 * atom that ended it), SYSRING_SYSLET_PAUSED or -EINTR with *resume set to
 * the atom to continue at, or -errno (-EFAULT: an atom could not be read or
 * its result stored; -ENODEV). done and resume may be NULL.
 */
long sr_kmod_syslet(struct syslet_uatom *atom, uint64_t max_atoms, struct syslet_uatom **done,
		    struct syslet_uatom **resume);

/*
 * The same, "cached" (SYSRING_SYSLET_CACHED): atoms run only while each
 * completes without blocking. Also SYSRING_SYSLET_WOULDBLOCK with *resume
 * the atom that would block (it did not run; its non-blocking attempt, if
 * any, transferred nothing). *res: the result of the atom that ran last.
 * -ENODEV without a module that offers it.
 */
long sr_kmod_syslet_cached(struct syslet_uatom *atom, uint64_t max_atoms, struct syslet_uatom **done,
			   struct syslet_uatom **resume, long *res);

/* Whether the usable module offers every bit of `feature` (SYSRING_FEAT_*). */
bool sr_kmod_has(uint32_t feature);

#endif

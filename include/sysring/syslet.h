/* SPDX-License-Identifier: MIT */
/*
 * sysring — syslets (seeds 001 and 003): small programs of system calls.
 *
 * The atom, the flag values and struct async_head_user are those of the 2007
 * syslet patches (fio's syslet.h), so that code written for them builds by
 * including this header instead.
 */
#ifndef SYSRING_SYSLET_H
#define SYSRING_SYSLET_H

#ifndef __user
#define __user
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The syslet atom: one system call, its arguments by pointer (the list ends at
 * the first NULL arg_ptr), where to store the raw result (-errno on failure),
 * and the atom to run next. `private` is never touched by sysring.
 */
struct syslet_uatom {
	unsigned long flags;
	unsigned long nr;
	long __user *ret_ptr;
	struct syslet_uatom __user *next;
	unsigned long __user *arg_ptr[6];
	void __user *private;
};

#define SYSLET_ASYNC 0x00000001
#define SYSLET_SYNC 0x00000002
#define SYSLET_NO_COMPLETE 0x00000004
#define SYSLET_STOP_ON_NONZERO 0x00000008
#define SYSLET_STOP_ON_ZERO 0x00000010
#define SYSLET_STOP_ON_NEGATIVE 0x00000020
#define SYSLET_STOP_ON_NON_POSITIVE 0x00000040

#define SYSLET_STOP_MASK                                                                  \
	(SYSLET_STOP_ON_NONZERO | SYSLET_STOP_ON_ZERO | SYSLET_STOP_ON_NEGATIVE |         \
	 SYSLET_STOP_ON_NON_POSITIVE)

#define SYSLET_SKIP_TO_NEXT_ON_STOP 0x00000080

/*
 * A pseudo system call usable in an atom: *arg0 += arg1, result the new value.
 * No real x86-64 call number can reach it (they are below 1024).
 */
#define __NR_umem_add 0x5359534cL /* "SYSL" */

struct async_head_user {
	struct syslet_uatom __user **completion_ring;
	unsigned long ring_size_bytes;
	unsigned long max_nr_threads;
};

#ifdef __cplusplus
}
#endif

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Raw system calls in kernel convention: the result is the return value or
 * -errno, never -1 plus errno. This is the only place that enters the kernel
 * by number on behalf of a caller; glibc's syscall() is the fallback off
 * x86-64, converted to -errno right here.
 */
#ifndef SYSRING_CORE_RAWSYS_H
#define SYSRING_CORE_RAWSYS_H

#include <errno.h>
#include <unistd.h>

static inline long sr_rawsys6(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
#if defined(__x86_64__)
	long ret;
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	__asm__ __volatile__("syscall"
			     : "=a"(ret)
			     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
			     : "rcx", "r11", "memory");
	return ret;
#else
	long ret = syscall(nr, a0, a1, a2, a3, a4, a5);
	return ret == -1 ? -errno : ret;
#endif
}

static inline long sr_rawsys(long nr, const long a[6])
{
	return sr_rawsys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

#endif

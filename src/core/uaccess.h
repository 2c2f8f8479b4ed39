/* SPDX-License-Identifier: MIT */
/*
 * Fault-safe access to memory the caller named.
 *
 * Rule of the code: no library code dereferences memory that a caller
 * named -- an argument pointer (vargs[i], arg_ptr[i]), a syslet atom, a
 * ret_ptr, a struct stat or statx buffer, a splice offset, an address
 * length, an open_how, an iovec or msghdr, a umem_add counter -- except
 * through these functions. Each returns 0 (or a count) on success and
 * -EFAULT when the memory cannot be accessed, so a bad pointer becomes that
 * call's -EFAULT, as the kernel's get_user/put_user make it for the plain
 * call, never a SIGSEGV.
 *
 * How (uaccess.c): on x86-64 the accessors are a few instructions of
 * assembly with one fixup address, and the library's SIGSEGV/SIGBUS handler
 * moves a fault inside them to the fixup, which returns -EFAULT -- the
 * kernel's exception-table technique, so the common case costs what a plain
 * load costs (no system call: a process_vm_readv costs 2.4 us here, more
 * than the inline call it would guard). Every other fault goes on to the
 * handler the application had installed (or the default action). The
 * handler is installed at the first use and checked again at every context
 * set-up, so an application that installed its own handler meanwhile is
 * chained to, not lost. SYSRING_UACCESS=syscall, other architectures, or a
 * refused sigaction use system calls instead (process_vm_readv/writev, and a
 * FUTEX_WAKE_OP probe for the atomic add), slower but equally safe.
 *
 * A thread that runs these must not block SIGSEGV or SIGBUS: the kernel
 * kills the process for a fault whose signal is blocked
 * (sr_sigmask_keep_faults).
 */
#ifndef SYSRING_CORE_UACCESS_H
#define SYSRING_CORE_UACCESS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SR_UA_HANDLER 1 /* sr_ua_mode: the fixup handler is in place */
#define SR_UA_SYSCALL 2 /* system calls do every access */
extern int sr_ua_mode;  /* 0 until the first use (uaccess.c) */

/* The assembly accessors (valid only with SR_UA_HANDLER). */
long sr_ua_asm_read8(const void *src, uint64_t *dst);
long sr_ua_asm_write8(void *dst, uint64_t v);
long sr_ua_asm_copy(void *dst, const void *src, size_t n);
long sr_ua_asm_add8(uint64_t *p, uint64_t inc, uint64_t *newval);
long sr_ua_asm_gather(long *dst, void *const *ptrs, unsigned long n);
long sr_ua_asm_touch(const void *p, long write);

/* The same through system calls; they also do the first-use set-up. */
long sr_ua_slow_read8(const void *src, uint64_t *dst);
long sr_ua_slow_write8(void *dst, uint64_t v);
long sr_ua_slow_copy(void *dst, const void *src, size_t n);
long sr_ua_slow_add8(uint64_t *p, uint64_t inc, uint64_t *newval);
long sr_ua_slow_gather(long *dst, void *const *ptrs, unsigned long n);
long sr_ua_slow_touch(const void *p, long write);

/* *dst = the 8 bytes at src. 0 or -EFAULT. */
static inline long sr_ua_read8(const void *src, uint64_t *dst)
{
	if (__builtin_expect(__atomic_load_n(&sr_ua_mode, __ATOMIC_RELAXED) == SR_UA_HANDLER, 1))
		return sr_ua_asm_read8(src, dst);
	return sr_ua_slow_read8(src, dst);
}

/* Store v at dst. 0 or -EFAULT. */
static inline long sr_ua_write8(void *dst, uint64_t v)
{
	if (__builtin_expect(__atomic_load_n(&sr_ua_mode, __ATOMIC_RELAXED) == SR_UA_HANDLER, 1))
		return sr_ua_asm_write8(dst, v);
	return sr_ua_slow_write8(dst, v);
}

/* memcpy where either side may be the caller's memory. 0 or -EFAULT (some
 * bytes may have been copied). */
static inline long sr_ua_copy(void *dst, const void *src, size_t n)
{
	if (__builtin_expect(__atomic_load_n(&sr_ua_mode, __ATOMIC_RELAXED) == SR_UA_HANDLER, 1))
		return sr_ua_asm_copy(dst, src, n);
	return sr_ua_slow_copy(dst, src, n);
}

/* *p += inc atomically, *newval = the new value. 0 or -EFAULT (nothing
 * added). */
static inline long sr_ua_add8(uint64_t *p, uint64_t inc, uint64_t *newval)
{
	if (__builtin_expect(__atomic_load_n(&sr_ua_mode, __ATOMIC_RELAXED) == SR_UA_HANDLER, 1))
		return sr_ua_asm_add8(p, inc, newval);
	return sr_ua_slow_add8(p, inc, newval);
}

/* Argument values by pointer: dst[i] = *ptrs[i] for i < n up to the first
 * NULL pointer. Returns how many were read, or -EFAULT (ptrs itself or one
 * of the pointed-to values cannot be read). */
static inline long sr_ua_gather(long *dst, void *const *ptrs, unsigned long n)
{
	if (__builtin_expect(__atomic_load_n(&sr_ua_mode, __ATOMIC_RELAXED) == SR_UA_HANDLER, 1))
		return sr_ua_asm_gather(dst, ptrs, n);
	return sr_ua_slow_gather(dst, ptrs, n);
}

/* Whether every page of [p, p + len) can be read (write: written, probed
 * by an atomic no-op that changes nothing). 0 or -EFAULT. */
long sr_ua_probe(const void *p, size_t len, bool write);

/* Install the fault handler if it is not (or no longer) in place; called
 * at context set-up. Cheap when nothing changed (one sigaction query). */
void sr_uaccess_check(void);

/* The fork child's part (called from ctx.c's fork handler). */
void sr_uaccess_atfork_child(void);

/* Take SIGSEGV and SIGBUS out of a signal mask a library thread is about to
 * install: a fault in an accessor must reach the handler. */
static inline void sr_sigmask_keep_faults(sigset_t *set)
{
	sigdelset(set, SIGSEGV);
	sigdelset(set, SIGBUS);
}

#endif

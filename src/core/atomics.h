/* SPDX-License-Identifier: MIT */
/*
 * The one atomics and barrier vocabulary of sysring.
 *
 * Everything is spelled with the GCC/Clang __atomic builtins on plain integer
 * objects rather than C11 _Atomic types, for two reasons: the same structures
 * live in memory shared between processes (channels) and later between the
 * library and the kernel module, where _Atomic has no ABI guarantee; and TSan
 * understands the builtins, so the sanitizer build checks the real orderings.
 *
 * Every use of an acquire or release in the library carries a comment naming
 * the operation it pairs with. Relaxed operations are used only for counters
 * whose value is advisory (statistics) or that are re-validated afterwards.
 */
#ifndef SYSRING_CORE_ATOMICS_H
#define SYSRING_CORE_ATOMICS_H

#include <stdbool.h>
#include <stdint.h>

#define SR_CACHELINE 64
#define sr_aligned_cacheline __attribute__((aligned(SR_CACHELINE)))

#define sr_likely(x) __builtin_expect(!!(x), 1)
#define sr_unlikely(x) __builtin_expect(!!(x), 0)

#define sr_load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define sr_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define sr_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define sr_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

#define sr_fetch_add(p, v, mo) __atomic_fetch_add((p), (v), (mo))
#define sr_fetch_sub(p, v, mo) __atomic_fetch_sub((p), (v), (mo))
#define sr_exchange(p, v, mo) __atomic_exchange_n((p), (v), (mo))
#define sr_fetch_or(p, v, mo) __atomic_fetch_or((p), (v), (mo))
#define sr_fetch_and(p, v, mo) __atomic_fetch_and((p), (v), (mo))

/* Strong compare-and-swap; *expected is updated with the value seen on failure. */
#define sr_cas(p, expected, desired, succ, fail) \
	__atomic_compare_exchange_n((p), (expected), (desired), false, (succ), (fail))
#define sr_cas_weak(p, expected, desired, succ, fail) \
	__atomic_compare_exchange_n((p), (expected), (desired), true, (succ), (fail))

#define SR_RELAXED __ATOMIC_RELAXED
#define SR_ACQUIRE __ATOMIC_ACQUIRE
#define SR_RELEASE __ATOMIC_RELEASE
#define SR_ACQ_REL __ATOMIC_ACQ_REL
#define SR_SEQ_CST __ATOMIC_SEQ_CST

/*
 * A full fence: used only for the store-then-load (Dekker) patterns of the
 * sleep/wake protocols, where acquire/release is not enough. On x86 a locked
 * no-op on the stack is the cheap full barrier (as the kernel's smp_mb);
 * TSan does not model fences, so under it a seq_cst read-modify-write on a
 * global stands in (TSan checks data races, which all involve non-atomics).
 */
#if defined(__SANITIZE_THREAD__)
extern unsigned long sr_fence_word;
#define sr_smp_mb() ((void)__atomic_fetch_add(&sr_fence_word, 0, __ATOMIC_SEQ_CST))
#elif defined(__x86_64__)
#define sr_smp_mb() __asm__ __volatile__("lock; orq $0, (%%rsp)" ::: "memory", "cc")
#else
#define sr_smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

static inline void sr_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#endif

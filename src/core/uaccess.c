/* SPDX-License-Identifier: MIT */
/*
 * Fault-safe access to memory the caller named (uaccess.h states the rule).
 *
 * The x86-64 accessors below are assembly between sr_ua_text_begin and
 * sr_ua_text_end. None of them touches the stack, so at any faulting
 * instruction the return address is on top of it: the fault handler sets
 * the instruction pointer to sr_ua_fixup, which returns -EFAULT to the
 * accessor's caller as if the accessor had returned it. A fault anywhere
 * else is not ours: it goes to the handler that was installed before ours
 * (called directly, as libsigsegv does), or gets the default action.
 *
 * Ownership: the handler is process-wide and installed once (pthread_once)
 * at the first access; sr_uaccess_check, run at every context set-up,
 * reinstalls it over a handler the application installed later and chains
 * to that one. A handler that chains back to ours (it saved ours as its
 * "previous") is detected by the per-thread depth count and ends in the
 * default action instead of looping.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "uaccess.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "atomics.h"
#include "rawsys.h"

int sr_ua_mode;

#if defined(__x86_64__)
/* Each accessor: SysV arguments in rdi, rsi, rdx; result in rax. endbr64
 * because the object says it is IBT-ready (it is a NOP elsewhere). */
__asm__(".text\n"
	".p2align 4\n"
	".globl sr_ua_text_begin\n.hidden sr_ua_text_begin\n"
	"sr_ua_text_begin:\n"
	/* long sr_ua_asm_read8(const void *src, uint64_t *dst) */
	".globl sr_ua_asm_read8\n.hidden sr_ua_asm_read8\n.type sr_ua_asm_read8,@function\n"
	"sr_ua_asm_read8:\n"
	"	endbr64\n"
	"	movq (%rdi), %rax\n"
	"	movq %rax, (%rsi)\n"
	"	xorl %eax, %eax\n"
	"	ret\n"
	".size sr_ua_asm_read8, .-sr_ua_asm_read8\n"
	/* long sr_ua_asm_write8(void *dst, uint64_t v) */
	".globl sr_ua_asm_write8\n.hidden sr_ua_asm_write8\n.type sr_ua_asm_write8,@function\n"
	"sr_ua_asm_write8:\n"
	"	endbr64\n"
	"	movq %rsi, (%rdi)\n"
	"	xorl %eax, %eax\n"
	"	ret\n"
	".size sr_ua_asm_write8, .-sr_ua_asm_write8\n"
	/* long sr_ua_asm_copy(void *dst, const void *src, size_t n): small
	 * copies of whole words (an atom, an iovec) by a loop of 8-byte moves,
	 * which costs less than rep movsb's start-up; the rest by rep movsb
	 * (DF is clear at every call: ABI) */
	".globl sr_ua_asm_copy\n.hidden sr_ua_asm_copy\n.type sr_ua_asm_copy,@function\n"
	"sr_ua_asm_copy:\n"
	"	endbr64\n"
	/* exactly one syslet atom (88 bytes: exec.c asserts it), copied
	 * at every step of a syslet: five 16-byte moves and one of 8 */
	"	cmpq $88, %rdx\n"
	"	je 7f\n"
	"	testb $7, %dl\n"
	"	jnz 5f\n"
	"	cmpq $256, %rdx\n"
	"	ja 5f\n"
	"	shrq $3, %rdx\n"
	"	jz 6f\n"
	"4:	movq (%rsi), %rax\n"
	"	movq %rax, (%rdi)\n"
	"	addq $8, %rsi\n"
	"	addq $8, %rdi\n"
	"	decq %rdx\n"
	"	jnz 4b\n"
	"6:	xorl %eax, %eax\n"
	"	ret\n"
	"5:	movq %rdx, %rcx\n"
	"	rep movsb\n"
	"	xorl %eax, %eax\n"
	"	ret\n"
	"7:	movups (%rsi), %xmm0\n"
	"	movups 16(%rsi), %xmm1\n"
	"	movups 32(%rsi), %xmm2\n"
	"	movups 48(%rsi), %xmm3\n"
	"	movups 64(%rsi), %xmm4\n"
	"	movq 80(%rsi), %rax\n"
	"	movups %xmm0, (%rdi)\n"
	"	movups %xmm1, 16(%rdi)\n"
	"	movups %xmm2, 32(%rdi)\n"
	"	movups %xmm3, 48(%rdi)\n"
	"	movups %xmm4, 64(%rdi)\n"
	"	movq %rax, 80(%rdi)\n"
	"	xorl %eax, %eax\n"
	"	ret\n"
	".size sr_ua_asm_copy, .-sr_ua_asm_copy\n"
	/* long sr_ua_asm_add8(uint64_t *p, uint64_t inc, uint64_t *newval) */
	".globl sr_ua_asm_add8\n.hidden sr_ua_asm_add8\n.type sr_ua_asm_add8,@function\n"
	"sr_ua_asm_add8:\n"
	"	endbr64\n"
	"	movq %rsi, %rax\n"
	"	lock xaddq %rax, (%rdi)\n"
	"	addq %rsi, %rax\n"
	"	movq %rax, (%rdx)\n"
	"	xorl %eax, %eax\n"
	"	ret\n"
	".size sr_ua_asm_add8, .-sr_ua_asm_add8\n"
	/* long sr_ua_asm_gather(long *dst, void *const *ptrs, unsigned long n) */
	".globl sr_ua_asm_gather\n.hidden sr_ua_asm_gather\n.type sr_ua_asm_gather,@function\n"
	"sr_ua_asm_gather:\n"
	"	endbr64\n"
	"	xorl %eax, %eax\n"
	"1:	cmpq %rdx, %rax\n"
	"	jae 2f\n"
	"	movq (%rsi,%rax,8), %rcx\n"
	"	testq %rcx, %rcx\n"
	"	jz 2f\n"
	"	movq (%rcx), %rcx\n"
	"	movq %rcx, (%rdi,%rax,8)\n"
	"	incq %rax\n"
	"	jmp 1b\n"
	"2:	ret\n"
	".size sr_ua_asm_gather, .-sr_ua_asm_gather\n"
	/* long sr_ua_asm_touch(const void *p, long write): an atomic no-op
	 * OR for write access, so a concurrent writer loses nothing */
	".globl sr_ua_asm_touch\n.hidden sr_ua_asm_touch\n.type sr_ua_asm_touch,@function\n"
	"sr_ua_asm_touch:\n"
	"	endbr64\n"
	"	testq %rsi, %rsi\n"
	"	jnz 3f\n"
	"	movzbl (%rdi), %eax\n"
	"	xorl %eax, %eax\n"
	"	ret\n"
	"3:	lock orb $0, (%rdi)\n"
	"	xorl %eax, %eax\n"
	"	ret\n"
	".size sr_ua_asm_touch, .-sr_ua_asm_touch\n"
	".globl sr_ua_text_end\n.hidden sr_ua_text_end\n"
	"sr_ua_text_end:\n"
	/* Where a fault inside the accessors continues: return -EFAULT. */
	".globl sr_ua_fixup\n.hidden sr_ua_fixup\n.type sr_ua_fixup,@function\n"
	"sr_ua_fixup:\n"
	"	movq $-14, %rax\n"
	"	ret\n"
	".size sr_ua_fixup, .-sr_ua_fixup\n");

extern const char sr_ua_text_begin[], sr_ua_text_end[], sr_ua_fixup[];
#define SR_UA_HAVE_ASM 1
#else
#define SR_UA_HAVE_ASM 0
long sr_ua_asm_read8(const void *src, uint64_t *dst) { return sr_ua_slow_read8(src, dst); }
long sr_ua_asm_write8(void *dst, uint64_t v) { return sr_ua_slow_write8(dst, v); }
long sr_ua_asm_copy(void *dst, const void *src, size_t n) { return sr_ua_slow_copy(dst, src, n); }
long sr_ua_asm_add8(uint64_t *p, uint64_t inc, uint64_t *nv) { return sr_ua_slow_add8(p, inc, nv); }
long sr_ua_asm_gather(long *dst, void *const *ptrs, unsigned long n) { return sr_ua_slow_gather(dst, ptrs, n); }
long sr_ua_asm_touch(const void *p, long write) { return sr_ua_slow_touch(p, write); }
#endif

/* ---- the fault handler ---- */

static struct sigaction prev_act[2]; /* [0] SIGSEGV, [1] SIGBUS, as before ours */
static pthread_mutex_t ua_lock = PTHREAD_MUTEX_INITIALIZER;
/* The system-call path's pipe (pipe_copy), created at its first use. */
static pthread_mutex_t pipe_lock = PTHREAD_MUTEX_INITIALIZER;
static int copy_pipe[2] = {-1, -1};
static pthread_once_t ua_once = PTHREAD_ONCE_INIT;
static __thread int ua_depth __attribute__((tls_model("initial-exec")));

static void ua_handler(int sig, siginfo_t *si, void *uctx);

#if SR_UA_HAVE_ASM
static bool fault_is_ours(siginfo_t *si, void *uctx)
{
	ucontext_t *uc = uctx;
	uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];

	/* si_code > 0: raised by the kernel for this instruction, not sent
	 * by kill() while we happened to run there. */
	if (si->si_code <= 0 || ip < (uintptr_t)sr_ua_text_begin || ip >= (uintptr_t)sr_ua_text_end)
		return false;
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)sr_ua_fixup;
	return true;
}
#endif

static void ua_handler(int sig, siginfo_t *si, void *uctx)
{
	struct sigaction *p = &prev_act[sig == SIGBUS];
	struct sigaction dfl;

#if SR_UA_HAVE_ASM
	if (fault_is_ours(si, uctx))
		return;
#endif
	/* Not ours: what would have happened without us. */
	if (!ua_depth) {
		if ((p->sa_flags & SA_SIGINFO) && p->sa_sigaction) {
			ua_depth++;
			p->sa_sigaction(sig, si, uctx);
			ua_depth--;
			return;
		}
		if (!(p->sa_flags & SA_SIGINFO) && p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN) {
			ua_depth++;
			p->sa_handler(sig);
			ua_depth--;
			return;
		}
		if (!(p->sa_flags & SA_SIGINFO) && p->sa_handler == SIG_IGN && si->si_code <= 0)
			return; /* a sent signal the application ignores */
	}
	/* The default action: for a fault, returning executes the faulting
	 * instruction again, which now gets it; a sent signal is sent again
	 * (it is blocked until we return, then delivered). */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	if (si->si_code <= 0)
		raise(sig);
}

static bool install_locked(void)
{
	struct sigaction ours, cur;
	static const int sigs[2] = {SIGSEGV, SIGBUS};

	memset(&ours, 0, sizeof(ours));
	ours.sa_sigaction = ua_handler;
	ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&ours.sa_mask);
	for (int i = 0; i < 2; i++) {
		if (sigaction(sigs[i], NULL, &cur))
			return false;
		if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == ua_handler)
			continue;
		/* Saved before ours goes in: a fault in between finds the
		 * right "previous" either way. */
		prev_act[i] = cur;
		if (sigaction(sigs[i], &ours, NULL))
			return false;
	}
	return true;
}

void sr_fork_watch(void); /* ctx.c: registers the fork handler */

static void ua_init(void)
{
	const char *env = getenv("SYSRING_UACCESS");
	int mode = SR_UA_SYSCALL;

	/* Our locks and pipe are reset in a fork child (sr_uaccess_atfork_child),
	 * also when no context was ever made (a synchronous syslet). */
	sr_fork_watch();

	pthread_mutex_lock(&ua_lock);
	if (SR_UA_HAVE_ASM && !(env && !strcmp(env, "syscall")) && install_locked())
		mode = SR_UA_HANDLER;
	pthread_mutex_unlock(&ua_lock);
	/* Release: the handler is in place before any thread uses the asm. */
	__atomic_store_n(&sr_ua_mode, mode, __ATOMIC_RELEASE);
}

static int ua_ready(void)
{
	pthread_once(&ua_once, ua_init);
	return __atomic_load_n(&sr_ua_mode, __ATOMIC_ACQUIRE);
}

/* fork() child, single-threaded (ctx.c's handler): another thread of the
 * parent may have held either lock, and the copy pipe is shared with the
 * parent, whose copies would mix with ours. The child makes its own. */
void sr_uaccess_atfork_child(void)
{
	pthread_mutex_init(&ua_lock, NULL);
	pthread_mutex_init(&pipe_lock, NULL);
	if (copy_pipe[0] >= 0) {
		close(copy_pipe[0]);
		close(copy_pipe[1]);
		copy_pipe[0] = copy_pipe[1] = -1;
	}
}

void sr_uaccess_check(void)
{
	if (ua_ready() != SR_UA_HANDLER)
		return;
	pthread_mutex_lock(&ua_lock);
	if (!install_locked())
		__atomic_store_n(&sr_ua_mode, SR_UA_SYSCALL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ua_lock);
}

/* ---- the same through system calls ---- */

/* Without process_vm_readv (a seccomp filter may refuse it): the kernel
 * copies through a pipe, one page at a time, under a lock. */
static long pipe_copy(void *dst, const void *src, size_t n)
{
	long ret = 0;

	pthread_mutex_lock(&pipe_lock);
	if (copy_pipe[0] < 0 && sr_rawsys6(SYS_pipe2, (long)copy_pipe, O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0) < 0) {
		pthread_mutex_unlock(&pipe_lock);
		return -EFAULT;
	}
	for (size_t done = 0; done < n && !ret;) {
		size_t k = n - done < 4096 ? n - done : 4096;
		long w = sr_rawsys6(SYS_write, copy_pipe[1], (long)((const char *)src + done), (long)k, 0, 0, 0);
		if (w <= 0) {
			ret = -EFAULT;
			break;
		}
		long r = sr_rawsys6(SYS_read, copy_pipe[0], (long)((char *)dst + done), w, 0, 0, 0);
		if (r != w) {
			char sink[4096];
			while (sr_rawsys6(SYS_read, copy_pipe[0], (long)sink, sizeof(sink), 0, 0, 0) > 0)
				;
			ret = -EFAULT;
		}
		done += (size_t)w;
	}
	pthread_mutex_unlock(&pipe_lock);
	return ret;
}

static long sys_copy(void *dst, const void *src, size_t n)
{
	/* local = dst, remote = src, both in this process: the kernel
	 * reports a fault on either side as a short count or EFAULT. */
	struct iovec l = {dst, n}, r = {(void *)src, n};
	long got;

	if (!n)
		return 0;
	got = sr_rawsys6(SYS_process_vm_readv, getpid(), (long)&l, 1, (long)&r, 1, 0);
	if (got == -ENOSYS || got == -EPERM)
		return pipe_copy(dst, src, n);
	return got == (long)n ? 0 : -EFAULT;
}

/* Write access to the 4-byte word holding p, proved by an atomic add of 0
 * done by the kernel (FUTEX_WAKE_OP), which fails with EFAULT instead of a
 * signal and changes nothing. */
static long sys_probe_w(const void *p)
{
	uintptr_t w = (uintptr_t)p & ~(uintptr_t)3;
	long r = sr_rawsys6(SYS_futex, (long)w, FUTEX_WAKE_OP_PRIVATE, 0, 0, (long)w,
			    FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_EQ, 0));
	return r < 0 ? -EFAULT : 0;
}

static long slow_touch(const void *p, long write)
{
	char c;
	return write ? sys_probe_w(p) : sys_copy(&c, p, 1);
}

long sr_ua_slow_read8(const void *src, uint64_t *dst)
{
	if (ua_ready() == SR_UA_HANDLER)
		return sr_ua_asm_read8(src, dst);
	return sys_copy(dst, src, 8);
}

long sr_ua_slow_write8(void *dst, uint64_t v)
{
	if (ua_ready() == SR_UA_HANDLER)
		return sr_ua_asm_write8(dst, v);
	return sys_copy(dst, &v, 8);
}

long sr_ua_slow_copy(void *dst, const void *src, size_t n)
{
	if (ua_ready() == SR_UA_HANDLER)
		return sr_ua_asm_copy(dst, src, n);
	return sys_copy(dst, src, n);
}

long sr_ua_slow_add8(uint64_t *p, uint64_t inc, uint64_t *newval)
{
	if (ua_ready() == SR_UA_HANDLER)
		return sr_ua_asm_add8(p, inc, newval);
	/* Both words the counter spans must be writable; then the add
	 * cannot fault (a concurrent munmap is the caller's own race). */
	if (sys_probe_w(p) || sys_probe_w((const char *)p + 7))
		return -EFAULT;
	*newval = __atomic_add_fetch(p, inc, __ATOMIC_SEQ_CST);
	return 0;
}

long sr_ua_slow_gather(long *dst, void *const *ptrs, unsigned long n)
{
	unsigned long i;

	if (ua_ready() == SR_UA_HANDLER)
		return sr_ua_asm_gather(dst, ptrs, n);
	for (i = 0; i < n; i++) {
		uint64_t p, v;
		if (sys_copy(&p, &ptrs[i], 8))
			return -EFAULT;
		if (!p)
			break;
		if (sys_copy(&v, (const void *)(uintptr_t)p, 8))
			return -EFAULT;
		dst[i] = (long)v;
	}
	return (long)i;
}

long sr_ua_slow_touch(const void *p, long write)
{
	if (ua_ready() == SR_UA_HANDLER)
		return sr_ua_asm_touch(p, write);
	return slow_touch(p, write);
}

long sr_ua_probe(const void *p, size_t len, bool write)
{
	uintptr_t a = (uintptr_t)p, end, page = 4096;
	bool fast;

	if (!len)
		return 0;
	if (__builtin_add_overflow(a, len - 1, &end))
		return -EFAULT;
	fast = __atomic_load_n(&sr_ua_mode, __ATOMIC_RELAXED) == SR_UA_HANDLER;
	/* The first byte, the first byte of every later page, the last byte. */
	for (;;) {
		long r = fast ? sr_ua_asm_touch((const void *)a, write) : sr_ua_slow_touch((const void *)a, write);
		if (r)
			return -EFAULT;
		if (a == end)
			return 0;
		uintptr_t next = (a | (page - 1)) + 1;
		a = next > end || next < a ? end : next;
	}
}

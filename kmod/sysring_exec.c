// SPDX-License-Identifier: GPL-2.0
/*
 * Running system calls by number on behalf of the calling thread, and the two
 * ioctls built on it: BATCH (N calls in one crossing) and SYSLET (the syslet
 * interpreter).
 *
 * How a call is made. The kernel's own dispatcher is used where it has one:
 * x64_sys_call(regs, nr), a switch of direct calls that kernels with the
 * branch-history-injection hardening (6.9, and stable backports such as
 * Debian's 6.1.0-22 and later) use instead of the indirect call through
 * sys_call_table. Older kernels still dispatch through sys_call_table, and
 * so does the module there. Neither symbol is exported, and neither is
 * kallsyms_lookup_name; a kprobe registered on the latter's name yields its
 * address (register_kprobe resolves symbol names). Each entry takes a
 * struct pt_regs holding the arguments in the registers of the system-call
 * ABI (di, si, dx, r10, r8, r9); we keep a zeroed one on the stack (per
 * ioctl), with the number clamped by array_index_nospec so that a
 * mispredicted bounds check cannot steer the dispatch.
 *
 * Kernels the module refuses to load on (sr_exec_init says why): those that
 * enforce indirect-branch tracking (CONFIG_X86_KERNEL_IBT on a CPU with
 * IBT: functions the kernel only calls directly, kallsyms_lookup_name,
 * x64_sys_call and task_work_run among them, lose their ENDBR and an
 * indirect call to them faults), those that check indirect calls by type
 * (CONFIG_CFI_CLANG), and those without kprobes (no safe symbol lookup).
 *
 * The call runs in the ioctl's context: current, its files, memory and
 * credentials are the caller's, so nothing runs with anyone else's rights.
 * What the call does not get is the system-call entry path: seccomp
 * filters, syscall audit records, ptrace syscall stops and syscall user
 * dispatch are all bypassed (sr_policy_ok refuses processes under seccomp
 * for that reason). A call whose implementation reads current_pt_regs()
 * (the real user registers, i.e. those of the ioctl) instead of its
 * arguments would act on the ioctl's frame; those are in the deny-list
 * below.
 *
 * The deny-list is the RF ("refused") class of the library's table,
 * src/table/syscalls.def, included here as an X-macro so that the library
 * and the module refuse exactly the same calls (-EPERM, as the library
 * does): exit and exit_group (would end the caller inside an ioctl that then
 * writes results), fork, vfork, clone and clone3 (copy_thread takes the
 * child's registers from current_pt_regs(): the child would return from the
 * ioctl, not from fork), execve and execveat (replace the image under a
 * running ioctl), rt_sigreturn (restores a signal frame from the user
 * stack pointer of the ioctl), restart_syscall (only meaningful right after
 * a signal), rt_sigsuspend (leaves a saved mask for the signal return path),
 * and the calls that change per-thread identity or signal state the
 * library's threads rely on (set_tid_address, rseq, rt_sigprocmask, ...).
 * The TS ("thread-scoped") class comes from the same table, with its
 * argument classifiers (src/table/thread.def and thread.h): calls that
 * change the calling thread only (raw set*id, capset, personality,
 * landlock_restrict_self, prctl(PR_SET_NO_NEW_PRIVS), seccomp without
 * TSYNC, keyctl(KEYCTL_JOIN_SESSION_KEYRING), ...). They run where the
 * caller asked on its own thread (BATCH, SYSLET) and are refused (-EPERM)
 * where they would change another thread: a ring worker (sr_call with
 * SR_AWAY), and a cached syslet, which stands for an asynchronous one.
 * The same table gives each call's argument count, which bounds how many
 * arguments a syslet atom reads (as in the library).
 *
 * Signal masks. ppoll, pselect6, epoll_pwait, epoll_pwait2 and io_pgetevents
 * install a temporary mask and, when a signal interrupts them, leave it in
 * place with TIF_RESTORE_SIGMASK set, for the return to user space to put
 * back after the handler. Inside the module another call may come first,
 * and a ring worker may never return to user space with a signal: the saved
 * mask is put back before the next call (sr_do_call), after every call on
 * a worker, and when an ioctl returns with no signal to deliver
 * (sr_restore_sigmask), so a thread leaves the module with the mask it had.

 * -ERESTART* results are for the system-call return path, which restarts
 * the call after a signal; inside a batch the call cannot be restarted, so
 * they become -EINTR (the signal is delivered when the ioctl returns). With
 * no signal -- TIF_NOTIFY_SIGNAL alone, set by task work queued with
 * TWA_SIGNAL (io_uring's completions, a ring's cancel) -- the return path
 * runs the task work and restarts the call, and so does sr_do_call: the
 * plain call never answers EINTR without a signal.
 *
 * Loops (batches, syslets) call sr_resched() after every call: it runs
 * queued task work (deferred fput of files closed by the calls, which would
 * otherwise pile up until the ioctl returns) and cond_resched(). They stop
 * on a fatal signal; a syslet also stops on any pending signal, returning
 * -EINTR with the atom to resume at, so that a signal handler runs even
 * while a syslet loops.
 */
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/kprobes.h>
#include <linux/list.h>
#include <linux/nospec.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <asm/cpufeature.h>
#include <linux/uaccess.h>
#include <asm/unistd.h>
#include <linux/openat2.h>

#include "sysring.h"

#include <sysring/syslet.h>
#include "core/interp.h"
#include "table/thread.h"

typedef long (*sr_syscall_fn)(const struct pt_regs *);
typedef long (*sr_dispatch_fn)(const struct pt_regs *, unsigned int nr);

static sr_dispatch_fn sr_dispatch;   /* x64_sys_call, where the kernel has it */
static const sr_syscall_fn *sr_table; /* else sys_call_table */
static void (*sr_task_work_run)(void);
unsigned int sr_nr_syscalls;

/* One row per number of the library's table. */
struct sr_sysinfo {
	u8 known : 1;   /* the table has a row: otherwise -ENOSYS */
	u8 refused : 1; /* RF class: -EPERM, never executed */
	u8 nb : 1;      /* NB class (a TS row: its other values'): never blocks */
	u8 ts : 1;      /* TS class: thread-scoped (see sr_thread below) */
	u8 nargs : 3;
};

#define SR_TABLE_SIZE 512
#define NB 1
#define MB 2
#define RF 3
#define TS 4
#define SR_SYSCALL(nr, name, na, cls) \
	[nr] = { .known = 1, .refused = (cls) == RF, .nb = (cls) == NB, .ts = (cls) == TS, .nargs = (na) },
static const struct sr_sysinfo sr_sys[SR_TABLE_SIZE] = {
#include "table/syscalls.def"
};
#undef SR_SYSCALL

/* Numbers by the table's names: the headers of the kernel we are built
 * against need not know every call the table names. */
enum sr_knr {
#define SR_SYSCALL(nr, name, na, cls) SR_KNR_##name = (nr),
#include "table/syscalls.def"
#undef SR_SYSCALL
};

/* The thread-scoped column: a TS row with a classifier is thread-scoped
 * only for the argument values it names, and has class `other` for the
 * rest; a TS row without one is thread-scoped for every value. */
typedef int sr_thread_kfn(const u64 a[6]);
#define SR_THREAD(name, fn, other) [SR_KNR_##name] = fn,
static sr_thread_kfn *const sr_thread[SR_TABLE_SIZE] = {
#include "table/thread.def"
};
#undef SR_THREAD
#define SR_THREAD(name, fn, other) [SR_KNR_##name] = (other) == NB,
static const u8 sr_thread_nb[SR_TABLE_SIZE] = {
#include "table/thread.def"
};
#undef SR_THREAD
#undef NB
#undef MB
#undef RF
#undef TS

/* Call nr (a TS row, nr already clamped) with these arguments acts on the
 * calling thread only. */
static bool sr_thread_scoped(unsigned long nr, const u64 a[6])
{
	return !sr_thread[nr] || sr_thread[nr](a);
}

/* Never blocks with these arguments (nr clamped): the NB class, or a TS
 * row whose values are not thread-scoped and whose other class is NB. */
static bool sr_never_blocks(unsigned long nr)
{
	return sr_sys[nr].ts ? sr_thread_nb[nr] : sr_sys[nr].nb;
}

/* The calls the module must refuse whatever the table says, and those a
 * ring worker must (thread-scoped for every argument value, or by a
 * classifier); checked at load time so that an edit of syscalls.def cannot
 * silently open them. */
static const unsigned short sr_must_refuse[] = {
	__NR_fork,	  __NR_vfork,	 __NR_clone,   __NR_clone3,	     __NR_execve,
	__NR_execveat,	  __NR_exit,	 __NR_exit_group, __NR_rt_sigreturn, __NR_restart_syscall,
	__NR_rt_sigsuspend,
};
static const unsigned short sr_must_be_thread[] = {
	__NR_setuid,	 __NR_setgid,	    __NR_setreuid, __NR_setregid,	 __NR_setresuid,
	__NR_setresgid,	 __NR_setfsuid,	    __NR_setfsgid, __NR_setgroups,	 __NR_capset,
	__NR_personality, __NR_landlock_restrict_self,
};
static const unsigned short sr_must_classify[] = { __NR_prctl, __NR_seccomp, __NR_keyctl };

static unsigned long sr_kallsyms_lookup(const char *name)
{
	static unsigned long (*lookup)(const char *name);
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };

	if (!lookup) {
		if (register_kprobe(&kp) < 0)
			return 0;
		lookup = (void *)kp.addr;
		unregister_kprobe(&kp);
	}
	return lookup ? lookup(name) : 0;
}

/*
 * Whether an indirect call to a kernel function found by name is safe here.
 * Where the kernel enforces indirect-branch tracking, a function it only
 * calls directly has no ENDBR (objtool seals it) and the call faults; where
 * it checks indirect calls by type (kCFI), a call through our pointer type
 * is not one it expects. Neither holds for Debian's kernels; both are
 * refused with a message rather than risked.
 */
static int sr_lookup_safe(void)
{
#ifdef CONFIG_CFI_CLANG
	pr_err("sysring: this kernel checks indirect calls (CONFIG_CFI_CLANG): the module cannot call the kernel's dispatcher safely; not loading\n");
	return -EOPNOTSUPP;
#endif
#ifdef CONFIG_X86_KERNEL_IBT
	if (cpu_feature_enabled(X86_FEATURE_IBT)) {
		pr_err("sysring: this kernel enforces indirect branch tracking (IBT): the module cannot call unexported kernel functions safely; not loading (boot with ibt=off to use it)\n");
		return -EOPNOTSUPP;
	}
#endif
	return 0;
}

int sr_exec_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(sr_must_refuse); i++) {
		if (!sr_sys[sr_must_refuse[i]].refused) {
			pr_err("sysring: syscalls.def does not refuse call %u\n", sr_must_refuse[i]);
			return -EINVAL;
		}
	}
	for (i = 0; i < ARRAY_SIZE(sr_must_be_thread); i++) {
		if (!sr_sys[sr_must_be_thread[i]].ts || sr_thread[sr_must_be_thread[i]]) {
			pr_err("sysring: syscalls.def does not make call %u thread-scoped\n",
			       sr_must_be_thread[i]);
			return -EINVAL;
		}
	}
	for (i = 0; i < ARRAY_SIZE(sr_must_classify); i++) {
		if (!sr_sys[sr_must_classify[i]].ts || !sr_thread[sr_must_classify[i]]) {
			pr_err("sysring: syscalls.def does not classify call %u\n", sr_must_classify[i]);
			return -EINVAL;
		}
	}
	ret = sr_lookup_safe();
	if (ret)
		return ret;
	if (!sr_kallsyms_lookup("kallsyms_lookup_name")) {
		pr_err("sysring: cannot look kernel symbols up (kallsyms_lookup_name through a kprobe: CONFIG_KPROBES?); not loading\n");
		return -ENOENT;
	}
	/* The kernel's own dispatcher where it has one (see the top). */
	sr_dispatch = (sr_dispatch_fn)sr_kallsyms_lookup("x64_sys_call");
	if (!sr_dispatch) {
		sr_table = (const sr_syscall_fn *)sr_kallsyms_lookup("sys_call_table");
		if (!sr_table) {
			pr_err("sysring: neither x64_sys_call nor sys_call_table found; not loading\n");
			return -ENOENT;
		}
	}
	/* Not exported either. Loops run deferred work (fput of files their
	 * calls closed) and ring workers consume cancel notifications with it. */
	sr_task_work_run = (void *)sr_kallsyms_lookup("task_work_run");
	if (!sr_task_work_run) {
		pr_err("sysring: task_work_run not found; not loading\n");
		return -ENOENT;
	}
	sr_nr_syscalls = min_t(unsigned int, NR_syscalls, SR_TABLE_SIZE);
	pr_info("sysring: calls dispatched through %s\n", sr_dispatch ? "x64_sys_call" : "sys_call_table");
	return 0;
}

void sr_run_task_work(void)
{
	/* task_works is only ever added to by others; a racy read just means
	 * the work runs at the next check or when the ioctl returns. */
	if (unlikely(READ_ONCE(current->task_works))) {
		__set_current_state(TASK_RUNNING);
		sr_task_work_run();
	}
}

void sr_resched(void)
{
	sr_run_task_work();
	cond_resched();
}

/*
 * No nesting. The only way back into our ioctl handler from a call we make
 * is the ioctl system call (the device has no other file operation that
 * runs calls), so while the module runs an ioctl call for a task, the task
 * is in a small hash table, and sr_ioctl refuses an ioctl from a task that
 * is there. The global count keeps the common case (no ioctl call in
 * flight anywhere) to one atomic read: a nested entry always sees its own
 * task's increment, made before the call in program order.
 */
#define SR_NEST_BITS 6

struct sr_nest {
	struct hlist_node node;
	struct task_struct *task;
};

static atomic_t sr_nest_count = ATOMIC_INIT(0);
static struct hlist_head sr_nest_tab[1 << SR_NEST_BITS];
static DEFINE_SPINLOCK(sr_nest_lock);

bool sr_nested(void)
{
	unsigned int b = hash_ptr(current, SR_NEST_BITS);
	struct sr_nest *n;
	bool found = false;

	if (likely(!atomic_read(&sr_nest_count)))
		return false;
	spin_lock(&sr_nest_lock);
	hlist_for_each_entry(n, &sr_nest_tab[b], node) {
		if (n->task == current) {
			found = true;
			break;
		}
	}
	spin_unlock(&sr_nest_lock);
	return found;
}

/* The kernel's dispatch of call nr (< sr_nr_syscalls) with regs. */
static __always_inline long sr_invoke(const struct pt_regs *regs, unsigned long nr)
{
	nr = array_index_nospec(nr, sr_nr_syscalls);
	if (likely(sr_dispatch))
		return sr_dispatch(regs, (unsigned int)nr);
	return sr_table[nr](regs);
}

static long sr_call_ioctl(struct pt_regs *regs)
{
	unsigned int b = hash_ptr(current, SR_NEST_BITS);
	struct sr_nest me = { .task = current };
	long ret;

	spin_lock(&sr_nest_lock);
	hlist_add_head(&me.node, &sr_nest_tab[b]);
	atomic_inc(&sr_nest_count);
	spin_unlock(&sr_nest_lock);

	ret = sr_invoke(regs, __NR_ioctl);

	spin_lock(&sr_nest_lock);
	hlist_del(&me.node);
	atomic_dec(&sr_nest_count);
	spin_unlock(&sr_nest_lock);
	return ret;
}

static inline bool sr_is_restart(long ret)
{
	switch (ret) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return true;
	}
	return false;
}

bool sr_signal_real(void)
{
	if (test_thread_flag(TIF_NOTIFY_SIGNAL)) {
		clear_notify_signal();
		sr_run_task_work();
	}
	return task_sigpending(current);
}

/* Refusal checks shared by every way a call is made, before its arguments
 * are known. */
static inline long sr_check(unsigned long nr)
{
	if (unlikely(nr >= sr_nr_syscalls))
		return -ENOSYS;
	nr = array_index_nospec(nr, SR_TABLE_SIZE);
	if (unlikely(!sr_sys[nr].known))
		return -ENOSYS;
	if (unlikely(sr_sys[nr].refused))
		return -EPERM;
	if (unlikely(!sr_policy_ok()))
		return -EPERM;
	return 0;
}

/* And with them: a thread-scoped call away from its thread is refused. */
static inline long sr_check_args(unsigned long nr, const u64 a[6], enum sr_where where)
{
	nr = array_index_nospec(nr, SR_TABLE_SIZE);
	if (unlikely(sr_sys[nr].ts) && where == SR_AWAY && sr_thread_scoped(nr, a))
		return -EPERM;
	return 0;
}

void sr_restore_sigmask(void)
{
	if (unlikely(test_and_clear_restore_sigmask())) {
		sigset_t saved = current->saved_sigmask;

		sigprocmask(SIG_SETMASK, &saved, NULL);
	}
}

/*
 * Make the call. `regs` is the caller's scratch pt_regs, zeroed once per
 * ioctl: the entry points only read the six argument registers (their
 * parameter is const), so only those and orig_ax change between calls.
 */
static inline long sr_do_call(struct pt_regs *regs, unsigned long nr, const u64 a[6])
{
	/* A mask an interrupted call left for the return to user space: this
	 * call must run with the thread's own (see the top). */
	sr_restore_sigmask();
	regs->di = a[0];
	regs->si = a[1];
	regs->dx = a[2];
	regs->r10 = a[3];
	regs->r8 = a[4];
	regs->r9 = a[5];
	regs->orig_ax = nr;
	for (;;) {
		long ret;

		regs->ax = -ENOSYS;
		if (unlikely(nr == __NR_ioctl))
			ret = sr_call_ioctl(regs);
		else
			ret = sr_invoke(regs, nr);
		if (likely(!sr_is_restart(ret)))
			return ret;
		/* Interrupted. With a signal to deliver: -EINTR (see the top).
		 * Without one -- TIF_NOTIFY_SIGNAL alone: io_uring's completion
		 * task work, a ring's cancel -- the plain call runs the task
		 * work on its way out and restarts, never answering EINTR: so
		 * does this. A cancel's task work makes a signal pending here
		 * (sr_cancel_cb), which ends the call as it should. */
		if (sr_signal_real())
			return -EINTR;
		/* restart_syscall continues what the restart block holds
		 * (nanosleep, clock_nanosleep, poll, futex waits), as the
		 * return path makes the task call it. */
		if (ret == -ERESTART_RESTARTBLOCK)
			nr = __NR_restart_syscall;
	}
}

long sr_call(struct pt_regs *regs, unsigned long nr, const u64 args[6], enum sr_where where)
{
	long ret = sr_check(nr);

	if (!ret)
		ret = sr_check_args(nr, args, where);
	return ret ? ret : sr_do_call(regs, nr, args);
}

/* Leaving an ioctl: a mask left by the last call stays only if a signal is
 * there to be delivered, which then restores it after its handler, as for
 * the plain call; otherwise nothing would. */
static void sr_ioctl_end_sigmask(void)
{
	if (unlikely(test_restore_sigmask()) && !signal_pending(current))
		sr_restore_sigmask();
}

/*
 * Copy an ioctl argument that starts with its own size: older (smaller)
 * structs are accepted down to minsize, newer ones only if the bytes we do
 * not know are zero (copy_struct_from_user gives -E2BIG otherwise).
 */
long sr_copy_arg(void *dst, size_t ksize, const void __user *src, size_t minsize)
{
	u64 *d = dst;
	u32 usize;
	size_t i;

	if (get_user(usize, (const u32 __user *)src))
		return -EFAULT;
	if (usize < minsize)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	if (usize != ksize || !IS_ALIGNED(ksize, 8)) {
		long ret = copy_struct_from_user(dst, ksize, src, usize);

		/* The size field was read again by the copy: keep the one
		 * that was checked (another thread may have changed it). */
		if (!ret)
			*(u32 *)dst = usize;
		return ret;
	}
	/* The common case, the caller's struct is ours: word loads in one
	 * user-access window are cheaper than the string copy. */
	if (!user_access_begin(src, ksize))
		return -EFAULT;
	for (i = 0; i < ksize / 8; i++)
		unsafe_get_user(d[i], (const u64 __user *)src + i, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/* ---- BATCH -------------------------------------------------------------- */

/* The in-part of struct sysring_call. */
struct sr_call_in {
	u32 nr;
	u32 flags;
	u64 args[6];
};

/*
 * Read one entry with word-sized loads inside one user-access window rather
 * than copy_from_user: for 56 bytes the string-copy routine costs more than
 * the loads (and much more under emulation, where a rep movsb is a byte at a
 * time). Any fault lands on the label: -EFAULT.
 */
static __always_inline int sr_get_call(struct sr_call_in *c, const struct sysring_call __user *u)
{
	if (!user_access_begin(u, offsetof(struct sysring_call, result)))
		return -EFAULT;
	unsafe_get_user(c->nr, &u->nr, efault);
	unsafe_get_user(c->flags, &u->flags, efault);
	unsafe_get_user(c->args[0], &u->args[0], efault);
	unsafe_get_user(c->args[1], &u->args[1], efault);
	unsafe_get_user(c->args[2], &u->args[2], efault);
	unsafe_get_user(c->args[3], &u->args[3], efault);
	unsafe_get_user(c->args[4], &u->args[4], efault);
	unsafe_get_user(c->args[5], &u->args[5], efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

long sr_ioctl_batch(struct sysring_batch __user *ub)
{
	struct sysring_batch b;
	struct sysring_call __user *uc;
	struct pt_regs regs = {};
	u32 i, ran = 0;
	long err = 0, ret;

	ret = sr_copy_arg(&b, sizeof(b), ub, sizeof(b));
	if (ret)
		return ret;
	if ((b.flags & ~SYSRING_BATCH_FLAGS_ALL) || b.resv[0] || b.resv[1] || b.ran)
		return -EINVAL;
	if (b.count > SYSRING_MAX_BATCH)
		return -EINVAL;
	uc = u64_to_user_ptr(b.calls);

	/* Each entry is read when its turn comes, so a call may fill in the
	 * arguments of a later one (as in a syslet). */
	for (i = 0; i < b.count; i++) {
		struct sr_call_in c;
		long res;

		if (sr_get_call(&c, &uc[i])) {
			err = -EFAULT;
			break;
		}
		res = c.flags ? -EINVAL : sr_call(&regs, c.nr, c.args, SR_HERE);
		/* The call ran: it counts even if its result cannot be stored. */
		ran++;
		if (put_user(res, &uc[i].result)) {
			err = -EFAULT;
			break;
		}
		if (res < 0 && (b.flags & SYSRING_BATCH_STOP_ON_ERROR))
			break;
		if (unlikely(fatal_signal_pending(current)))
			break;
		sr_resched();
	}
	sr_ioctl_end_sigmask();
	if (put_user(ran, &ub->ran) && !err)
		err = -EFAULT;
	return err ? err : ran;
}

/* ---- SYSLET ------------------------------------------------------------- */

/*
 * The umem_add pseudo-call: *uptr += inc, atomically (several syslets, or a
 * syslet and the program, may share a counter, as in the library), result
 * the new value. A user-space cmpxchg loop: the page is faulted in by
 * get_user, and the cmpxchg itself has an exception-table fixup, so a page
 * unmapped in between gives -EFAULT, not an oops. The address must be
 * naturally aligned: a locked access split across cache lines can trap.
 */
static long sr_umem_add(unsigned long __user *uptr, unsigned long inc)
{
	unsigned long old;
	unsigned int tries = 0;
	int ret;

	if (!uptr)
		return -EFAULT;
	if (!IS_ALIGNED((unsigned long)uptr, sizeof(*uptr)))
		return -EINVAL;
	if (get_user(old, uptr))
		return -EFAULT;
	if (!access_ok(uptr, sizeof(*uptr)))
		return -EFAULT;
	for (;;) {
		/* 0: stored; 1: *uptr changed, old is updated; -EFAULT */
		ret = __try_cmpxchg_user(uptr, &old, old + inc, sr_umem_fault);
		if (ret == 0)
			return (long)(old + inc);
		if (ret < 0)
			return -EFAULT;
		if (++tries % 64 == 0) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
}

/* Run one atom (already copied in): its result, raw. `where`: SR_HERE for
 * the plain SYSLET, SR_AWAY for a cached one (see sr_atom_cached). */
static long sr_atom_exec(struct pt_regs *regs, const struct syslet_uatom *a, enum sr_where where)
{
	u64 args[6] = { 0 };
	unsigned long nr = a->nr;
	unsigned int i, nargs;
	long ret;

	if (unlikely(nr == (unsigned long)__NR_umem_add)) {
		unsigned long __user *uptr = NULL;
		unsigned long inc = 0;

		/* Missing arguments are 0, as for every call (the list ends at
		 * the first NULL), and as the library answers: no counter is
		 * -EFAULT (sr_umem_add), no increment adds 0. */
		if (a->arg_ptr[0] && get_user(uptr, (unsigned long __user *__user *)a->arg_ptr[0]))
			return -EFAULT;
		if (a->arg_ptr[0] && a->arg_ptr[1] && get_user(inc, a->arg_ptr[1]))
			return -EFAULT;
		return sr_umem_add(uptr, inc);
	}
	ret = sr_check(nr);
	if (ret)
		return ret;
	/* Read when the call runs, so an argument may be a variable an
	 * earlier atom filled; never past the call's count nor the first
	 * NULL. An unreadable argument fails the atom like a bad buffer. */
	nargs = sr_sys[array_index_nospec(nr, SR_TABLE_SIZE)].nargs;
	for (i = 0; i < nargs && a->arg_ptr[i]; i++)
		if (get_user(args[i], a->arg_ptr[i]))
			return -EFAULT;
	ret = sr_check_args(nr, args, where);
	return ret ? ret : sr_do_call(regs, nr, args);
}

/* ---- cached execution: the non-blocking column ------------------------- */

/*
 * The kernel's side of src/table/nowait.def: the same calls, the same
 * attempts as src/engine/inline.c, made with the module's call path. Each
 * returns 1 when the call is answered (*res: its result, or a final error)
 * or 0 when it would block, having transferred nothing. `scratch` is user
 * memory (the ioctl argument's scratch words) for the iovec or open_how an
 * attempt needs: the calls read their arguments from user memory, and the
 * caller's own must not be changed.
 */
struct sr_nw {
	struct pt_regs *regs;
	u64 __user *scratch;
};

typedef int sr_knowait_fn(struct sr_nw *w, const u64 a[6], long *res);

/* The plain call on fd would itself say EAGAIN rather than wait: an
 * O_NONBLOCK file that is not a regular file or block device. */
static bool sr_nonblocking_stream(u64 fd)
{
	struct file *f;
	bool r = false;

	if (fd > INT_MAX)
		return false;
	f = fget((unsigned int)fd);
	if (f) {
		umode_t m = file_inode(f)->i_mode;
		r = (f->f_flags & O_NONBLOCK) && !S_ISREG(m) && !S_ISBLK(m);
		fput(f);
	}
	return r;
}

/* Whether a short transfer is the plain call's own answer: a read of
 * anything but a regular file or block device (pipes, sockets, ttys return
 * what is there), a write to a non-blocking stream. */
static bool sr_short_is_final(unsigned long nr, u64 fd)
{
	struct file *f;
	bool r = true;

	if (nr == __NR_pwritev2)
		return sr_nonblocking_stream(fd);
	if (fd > INT_MAX)
		return true;
	f = fget((unsigned int)fd);
	if (f) {
		umode_t m = file_inode(f)->i_mode;
		r = !S_ISREG(m) && !S_ISBLK(m);
		fput(f);
	}
	return r;
}

/*
 * The attempt moved `done` bytes of a longer request and the plain call
 * would have moved on (src/engine/inline.c, rw_finish): move the rest with
 * the blocking call, segment by segment through the scratch iovec.
 */
static long sr_nw_rw_finish(struct sr_nw *w, unsigned long nr, u64 fd, u64 iov, u64 cnt, s64 off,
			    u64 flags, long done)
{
	struct iovec __user *uv = u64_to_user_ptr(iov);
	long skip = done;
	u64 i;

	for (i = 0; i < cnt && i < UIO_MAXIOV; i++) {
		struct iovec v;
		u64 b[6];
		long r;

		if (copy_from_user(&v, &uv[i], sizeof(v)))
			break;
		if ((size_t)skip >= v.iov_len) {
			skip -= (long)v.iov_len;
			continue;
		}
		v.iov_base = (char __user *)v.iov_base + skip;
		v.iov_len -= (size_t)skip;
		skip = 0;
		if (put_user((u64)(unsigned long)v.iov_base, &w->scratch[0]) ||
		    put_user((u64)v.iov_len, &w->scratch[1]))
			break;
		b[0] = fd;
		b[1] = (u64)(unsigned long)w->scratch;
		b[2] = 1;
		b[3] = (u64)(off < 0 ? -1 : off + done);
		b[4] = 0;
		b[5] = flags;
		r = sr_do_call(w->regs, nr, b);
		if (r <= 0)
			break;
		done += r;
		if ((size_t)r < v.iov_len || fatal_signal_pending(current))
			break;
		cond_resched();
	}
	return done;
}

static int sr_nw_rw(struct sr_nw *w, unsigned long nr, u64 fd, u64 iov, u64 cnt, s64 off, u64 flags,
		    long *res)
{
	u64 b[6] = { fd, iov, cnt, (u64)off, 0, flags | RWF_NOWAIT };
	long r = sr_do_call(w->regs, nr, b);

	/* The caller's own RWF_NOWAIT: this was the plain call, its answer
	 * is final (-EAGAIN, or a short count), never run again (issue 12). */
	if (flags & RWF_NOWAIT) {
		*res = r;
		return 1;
	}
	if (r == -EAGAIN) {
		if (!sr_nonblocking_stream(fd))
			return 0;
	} else if (r == -EOPNOTSUPP) {
		return 0; /* this file has no RWF_NOWAIT: the call may be fine */
	} else if (r == -EINVAL && (flags & ~(u64)(RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_APPEND))) {
		return 0; /* flags refused with NOWAIT: let the call say it */
	}
	if (r > 0) {
		struct iovec __user *uv = u64_to_user_ptr(iov);
		size_t want = 0;
		u64 i;

		for (i = 0; i < cnt && i < UIO_MAXIOV; i++) {
			size_t len;
			if (get_user(len, &uv[i].iov_len))
				break;
			want += len;
		}
		/* The scratch iovec of a single-buffer call is overwritten
		 * by the finish: the original buffer is (iov_base, want). */
		if ((size_t)r < want && !sr_short_is_final(nr, fd))
			r = sr_nw_rw_finish(w, nr, fd, iov, cnt, off, flags, r);
	}
	*res = r;
	return 1;
}

/* read/write/pread64/pwrite64: one iovec in the scratch words. */
static int sr_nw_rw1(struct sr_nw *w, unsigned long nr, const u64 a[6], s64 off, long *res)
{
	if (put_user(a[1], &w->scratch[0]) || put_user(a[2], &w->scratch[1]))
		return 0;
	return sr_nw_rw(w, nr, a[0], (u64)(unsigned long)w->scratch, 1, off, 0, res);
}

static int ksr_nw_read(struct sr_nw *w, const u64 a[6], long *res)
{
	return sr_nw_rw1(w, __NR_preadv2, a, -1, res);
}
static int ksr_nw_pread64(struct sr_nw *w, const u64 a[6], long *res)
{
	return (s64)a[3] < 0 ? 0 : sr_nw_rw1(w, __NR_preadv2, a, (s64)a[3], res);
}
static int ksr_nw_readv(struct sr_nw *w, const u64 a[6], long *res)
{
	return sr_nw_rw(w, __NR_preadv2, a[0], a[1], a[2], -1, 0, res);
}
static int ksr_nw_preadv(struct sr_nw *w, const u64 a[6], long *res)
{
	return (s64)a[3] < 0 ? 0 : sr_nw_rw(w, __NR_preadv2, a[0], a[1], a[2], (s64)a[3], 0, res);
}
static int ksr_nw_preadv2(struct sr_nw *w, const u64 a[6], long *res)
{
	return sr_nw_rw(w, __NR_preadv2, a[0], a[1], a[2], (s64)a[3], a[5], res);
}
static int ksr_nw_write(struct sr_nw *w, const u64 a[6], long *res)
{
	return sr_nw_rw1(w, __NR_pwritev2, a, -1, res);
}
static int ksr_nw_pwrite64(struct sr_nw *w, const u64 a[6], long *res)
{
	return (s64)a[3] < 0 ? 0 : sr_nw_rw1(w, __NR_pwritev2, a, (s64)a[3], res);
}
static int ksr_nw_writev(struct sr_nw *w, const u64 a[6], long *res)
{
	return sr_nw_rw(w, __NR_pwritev2, a[0], a[1], a[2], -1, 0, res);
}
static int ksr_nw_pwritev(struct sr_nw *w, const u64 a[6], long *res)
{
	return (s64)a[3] < 0 ? 0 : sr_nw_rw(w, __NR_pwritev2, a[0], a[1], a[2], (s64)a[3], 0, res);
}
static int ksr_nw_pwritev2(struct sr_nw *w, const u64 a[6], long *res)
{
	return sr_nw_rw(w, __NR_pwritev2, a[0], a[1], a[2], (s64)a[3], a[5], res);
}

/*
 * Sockets: the same call with MSG_DONTWAIT in its flags argument, as the
 * library's sock_attempt does. A receive (send false) with MSG_WAITALL is
 * not attempted: it waits for all of it. A send (sendto's convention: buf,
 * len in arguments 1 and 2) that moved part of its data on a blocking stream
 * sends the rest, blocking: the plain send would have sent it all.
 */
static int sr_nw_sock(struct sr_nw *w, unsigned long nr, const u64 a[6], int flags_arg, bool send, long *res)
{
	bool dontwait = a[flags_arg] & MSG_DONTWAIT;
	u64 b[6];
	long r;

	if (!send && (a[flags_arg] & MSG_WAITALL) && !dontwait)
		return 0;
	memcpy(b, a, sizeof(b));
	b[flags_arg] |= MSG_DONTWAIT;
	r = sr_do_call(w->regs, nr, b);
	if (r == -EAGAIN && !dontwait && !sr_nonblocking_stream(a[0]))
		return 0;
	if (send && r > 0 && r < (long)a[2] && !dontwait && !sr_nonblocking_stream(a[0])) {
		long rest;

		memcpy(b, a, sizeof(b));
		b[1] += r;
		b[2] -= r;
		rest = sr_do_call(w->regs, nr, b);
		if (rest > 0)
			r += rest;
	}
	*res = r;
	return 1;
}

static int ksr_nw_recvfrom(struct sr_nw *w, const u64 a[6], long *res)
{
	return sr_nw_sock(w, __NR_recvfrom, a, 3, false, res);
}
static int ksr_nw_sendto(struct sr_nw *w, const u64 a[6], long *res)
{
	return sr_nw_sock(w, __NR_sendto, a, 3, true, res);
}
static int ksr_nw_recvmsg(struct sr_nw *w, const u64 a[6], long *res)
{
	return sr_nw_sock(w, __NR_recvmsg, a, 2, false, res);
}
static int ksr_nw_sendmsg(struct sr_nw *w, const u64 a[6], long *res)
{
	/* Not attempted here: finishing a partial one means walking its
	 * msghdr; the library, which can, makes the attempt. */
	(void)w, (void)a, (void)res;
	return 0;
}

/* Opens: openat2 with RESOLVE_CACHED, which fails with EAGAIN unless the
 * whole lookup is in the dcache; it refuses O_CREAT, O_TRUNC and O_TMPFILE
 * outright. open/openat ignore unknown flags where openat2 refuses them, so
 * only flags openat2 takes unchanged are tried (openat2 itself adds
 * O_LARGEFILE on 64-bit, as open does). */
#define SR_OPEN_VALID_FLAGS                                                                    \
	(O_RDONLY | O_WRONLY | O_RDWR | O_NOCTTY | O_APPEND | O_NONBLOCK | O_DSYNC | __O_SYNC |  \
	 O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH |   \
	 FASYNC)

static int sr_nw_open(struct sr_nw *w, u64 dfd, u64 path, struct open_how *how, long *res)
{
	u64 b[6] = { dfd, path, (u64)(unsigned long)w->scratch, sizeof(*how), 0, 0 };
	long r;

	if (how->flags & (O_CREAT | O_TRUNC | __O_TMPFILE))
		return 0;
	how->resolve |= RESOLVE_CACHED;
	if (copy_to_user(w->scratch, how, sizeof(*how)))
		return 0;
	r = sr_do_call(w->regs, __NR_openat2, b);
	if (r == -EAGAIN || r == -EINVAL || r == -ENOSYS || r == -E2BIG)
		return 0;
	*res = r;
	return 1;
}

static bool sr_open_flags_ok(u64 flags)
{
	return !(flags & ~(u64)SR_OPEN_VALID_FLAGS) && (flags & O_ACCMODE) != O_ACCMODE;
}

static int ksr_nw_open(struct sr_nw *w, const u64 a[6], long *res)
{
	struct open_how how = { .flags = a[1] };

	return sr_open_flags_ok(a[1]) ? sr_nw_open(w, AT_FDCWD, a[0], &how, res) : 0;
}
static int ksr_nw_openat(struct sr_nw *w, const u64 a[6], long *res)
{
	struct open_how how = { .flags = a[2] };

	return sr_open_flags_ok(a[2]) ? sr_nw_open(w, a[0], a[1], &how, res) : 0;
}
static int ksr_nw_openat2(struct sr_nw *w, const u64 a[6], long *res)
{
	struct open_how how;

	if (a[3] != sizeof(how) || !a[2] || copy_from_user(&how, u64_to_user_ptr(a[2]), sizeof(how)))
		return 0; /* the plain call gives its own error */
	return sr_nw_open(w, a[0], a[1], &how, res);
}

#define SR_NOWAIT(call, fn) [__NR_##call] = k##fn,
static sr_knowait_fn *const sr_nowait[SR_TABLE_SIZE] = {
#include "table/nowait.def"
};
#undef SR_NOWAIT

/*
 * Cached execution of one atom (already copied in): 1 when it ran (*res its
 * result), 0 when it would block and nothing ran. The order is the
 * library's route(), except that SYSLET_SYNC and SYSLET_ASYNC atoms are
 * handed back (the caller runs a SYNC atom itself); then umem_add, unknown
 * and refused calls answer at once, thread-scoped ones too (refused: a
 * cached atom stands for one of async_exec, which may go on elsewhere, and
 * the library refuses it at the same place); then the never-blocks class,
 * then the non-blocking attempt.
 */
static int sr_atom_cached(struct sr_nw *w, const struct syslet_uatom *a, long *res)
{
	unsigned long nr = a->nr;
	u64 args[6] = { 0 };
	unsigned int i, nargs;
	sr_knowait_fn *fn;

	/* SYSLET_SYNC may block, and blocked here a signal's SA_RESTART could
	 * not restart it (-ERESTART* becomes -EINTR): the caller runs it. */
	if (a->flags & (SYSLET_ASYNC | SYSLET_SYNC))
		return 0;
	if (nr == (unsigned long)__NR_umem_add || sr_check(nr)) {
		*res = sr_atom_exec(w->regs, a, SR_AWAY);
		return 1;
	}
	nr = array_index_nospec(nr, SR_TABLE_SIZE);
	/* Thread-scoped with these values: answered. Otherwise the row's
	 * other class decides (sr_atom_exec checks the values it calls with
	 * again, so memory changed meanwhile cannot slip one past). */
	if (unlikely(sr_sys[nr].ts) || (!sr_sys[nr].nb && sr_nowait[nr])) {
		nargs = sr_sys[nr].nargs;
		for (i = 0; i < nargs && a->arg_ptr[i]; i++)
			if (get_user(args[i], a->arg_ptr[i])) {
				*res = -EFAULT; /* as sr_atom_exec answers it */
				return 1;
			}
		if (sr_check_args(nr, args, SR_AWAY)) {
			*res = -EPERM;
			return 1;
		}
	}
	if (sr_never_blocks(nr)) {
		*res = sr_atom_exec(w->regs, a, SR_AWAY);
		return 1;
	}
	fn = sr_nowait[nr];
	if (!fn)
		return 0;
	return fn(w, args, res);
}

/* Read an atom field by field (see sr_get_call). */
static __always_inline int sr_get_atom(struct syslet_uatom *a, const struct syslet_uatom __user *u)
{
	if (!user_access_begin(u, sizeof(*u)))
		return -EFAULT;
	unsafe_get_user(a->flags, &u->flags, efault);
	unsafe_get_user(a->nr, &u->nr, efault);
	unsafe_get_user(a->ret_ptr, &u->ret_ptr, efault);
	unsafe_get_user(a->next, &u->next, efault);
	unsafe_get_user(a->arg_ptr[0], &u->arg_ptr[0], efault);
	unsafe_get_user(a->arg_ptr[1], &u->arg_ptr[1], efault);
	unsafe_get_user(a->arg_ptr[2], &u->arg_ptr[2], efault);
	unsafe_get_user(a->arg_ptr[3], &u->arg_ptr[3], efault);
	unsafe_get_user(a->arg_ptr[4], &u->arg_ptr[4], efault);
	unsafe_get_user(a->arg_ptr[5], &u->arg_ptr[5], efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

long sr_ioctl_syslet(struct sysring_syslet __user *us)
{
	struct sysring_syslet s;
	struct syslet_uatom atom;
	struct syslet_uatom __user *a, *done = NULL;
	struct pt_regs regs = {};
	u64 count = 0, max;
	long res = 0, ret = 0;
	struct sr_nw nw;
	bool cached;

	/* down to the struct before it had scratch words */
	ret = sr_copy_arg(&s, sizeof(s), us, offsetof(struct sysring_syslet, scratch));
	if (ret)
		return ret;
	if ((s.flags & ~SYSRING_SYSLET_FLAGS_ALL) || s.resv[0] || s.resv[1] || !s.atom)
		return -EINVAL;
	cached = s.flags & SYSRING_SYSLET_CACHED;
	if (cached && s.size < sizeof(s))
		return -EINVAL; /* no scratch words to use */
	nw.regs = &regs;
	nw.scratch = us->scratch;
	max = s.max_atoms ? s.max_atoms : SYSRING_SYSLET_DEFAULT_ATOMS;
	if (max > SYSRING_SYSLET_MAX_ATOMS)
		return -EINVAL;
	a = u64_to_user_ptr(s.atom);

	for (;;) {
		struct syslet_uatom *next;

		if (count == max) {
			ret = SYSRING_SYSLET_PAUSED;
			break;
		}
		/* Any signal: let the caller handle it and resume at `a`.
		 * Task work alone (TIF_NOTIFY_SIGNAL) is no signal: it runs
		 * here, as on the way back to user space (sr_signal_real). */
		if (unlikely(signal_pending(current)) && sr_signal_real()) {
			ret = -EINTR;
			break;
		}
		if (sr_get_atom(&atom, a)) {
			ret = -EFAULT;
			break;
		}
		if (cached) {
			if (!sr_atom_cached(&nw, &atom, &res)) {
				ret = SYSRING_SYSLET_WOULDBLOCK; /* `a` did not run */
				break;
			}
		} else {
			res = sr_atom_exec(&regs, &atom, SR_HERE);
		}
		count++;
		done = a;
		if (atom.ret_ptr && put_user(res, atom.ret_ptr)) {
			ret = -EFAULT;
			a = NULL; /* cannot resume: the atom ran */
			break;
		}
		/* The library's control flow (src/core/interp.h), on the
		 * values copied in; nothing there dereferences a pointer. */
		next = sr_syslet_next((struct syslet_uatom __force *)a, atom.flags,
				      (struct syslet_uatom __force *)atom.next, res);
		a = (struct syslet_uatom __user __force *)next;
		if (!a)
			break;
		sr_resched();
	}

	sr_ioctl_end_sigmask();
	if (put_user((u64)(unsigned long)done, &us->done) ||
	    put_user((u64)(unsigned long)a, &us->next) || put_user(count, &us->count) ||
	    put_user((s64)res, &us->res))
		return -EFAULT;
	return ret;
}

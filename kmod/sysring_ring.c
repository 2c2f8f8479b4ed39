// SPDX-License-Identifier: GPL-2.0
/*
 * The shared ring: FlexSC's exception-less calls. SETUP allocates, in the
 * module, a header page, a submission ring and a completion ring (layout and
 * memory-ordering contract in include/sysring/uapi.h); the process maps them
 * with mmap. Threads of the process enter WORKER and execute submission
 * entries inside the kernel, in their own context, posting results to the
 * completion ring; submitters only write memory, and make a system call
 * (WAKE) only when a worker sleeps (SYSRING_SQ_NEED_WAKEUP, as io_uring's
 * SQPOLL). WAIT sleeps in the kernel until enough completions are there.
 *
 * Trust: everything in the mapping can be rewritten by the process at any
 * time. The module keeps its own sq_head, cq_tail and sizes, copies an
 * entry out before looking at it, indexes with its own masks, and only ever
 * reads two user-owned fields (sq_tail, cq_head; CANCEL and DESTROY's drain
 * also read the user_data of queued entries), whose values can at worst make
 * the ring "broken" (sq_tail too far ahead: every ioctl -EINVAL) or look full.
 *
 * Kernel memory is bounded per ring, whatever the process does: the ring's
 * pages (SETUP, charged to its memory cgroup), and completions that find the
 * completion ring full (the process does not advance cq_head). Those wait in
 * the overflow list, in order: at most one per worker thread, because a
 * worker takes no entry while the list is not empty, and each is allocated
 * (charged, allowed to fail: WORKER then returns -ENOMEM having taken
 * nothing) before the worker takes the entry it is for, never when it must
 * be posted. DESTROY allocates nothing: it is done once (a destroyed ring
 * takes no more entries, later DESTROYs do nothing), and the entries it
 * finds queued complete with -ECANCELED straight from the submission ring,
 * as room appears in the completion ring (WAIT and every flush move them).
 *
 * Seccomp is per thread, a ring is per process: any thread (or any task that
 * shares the memory) can write an entry that a worker runs. So once any task
 * sharing the ring's memory has had a seccomp filter, the ring refuses every
 * entry (-EPERM, never run) and says so in sq_flags (SYSRING_SQ_SECCOMP);
 * filters are never removed, so neither is that. "Has had": a filtered
 * thread may write entries and exit before a worker takes them, so looking
 * at the tasks when an entry is taken is not enough. The ring is marked
 * (r->seccomp, and SYSRING_SQ_SECCOMP in the header at once, so that the
 * library stops queueing before anything is refused) when it is set up and
 * any task sharing the memory has a filter (sr_mm_seccomp), and by kprobes
 * on the two ways to install one, seccomp() and prctl(PR_SET_SECCOMP),
 * which mark every ring of the calling task's memory before the filter
 * exists (sr_mark_seccomp; an attempt that then fails marks too). Workers also look at their own thread group before
 * each entry, which holds even with kprobes switched off by the
 * administrator.
 *
 * Ownership and lifetime: a ring belongs to the open file (one per file, for
 * the file's whole life) and to the mm that set it up (mmgrab'd): only that
 * memory may map it (-EPERM elsewhere), only the threads of the process
 * that set it up may serve it (WORKER: -EPERM for another process sharing
 * the memory, CLONE_VM without CLONE_THREAD), and the mapping is not
 * inherited by fork (VM_DONTCOPY), so calls submitted to a ring always run
 * as threads of the process that owns it. Rings per process are bounded
 * (max_rings, see sr_ring_register). Workers hold a file
 * reference (the ioctl path takes one), the mapping holds one too, so the
 * ring is freed in release(), when no ioctl or mapping can touch it; its
 * struct and pages go after an RCU grace period, since the seccomp hooks
 * may still be marking it. DESTROY stops it:
 * running calls are interrupted, queued entries complete with -ECANCELED,
 * workers return 0, waiters wake.
 *
 * Cancel: an entry still queued is marked in a per-slot bitmap and completes
 * with -ECANCELED when a worker takes it. A running call is interrupted the
 * way a signal would interrupt it, without a signal: task work queued on the
 * worker with TWA_SIGNAL sets TIF_NOTIFY_SIGNAL, so signal_pending() is true
 * and an interruptible sleep ends (-ERESTARTSYS, reported -EINTR, then
 * -ECANCELED). The worker then clears the flag and runs its task work itself
 * (as io_uring does), so it stays in the module; the callback_head lives in
 * the worker's frame and is always run before the worker leaves. A call
 * that runs task work itself while it waits (io_uring_enter and
 * io_uring_register do: they clear TIF_NOTIFY_SIGNAL and wait on) runs the
 * callback inside the call: it then sets TIF_SIGPENDING, which such a call
 * takes for a signal, as it would take a real one; the worker recomputes
 * the flag when the call returns (sr_cancel_cb). A call that a signal
 * would not interrupt either (an uninterruptible or killable wait: disk
 * I/O, a FUSE request once interrupted, a fault on a userfaultfd range in
 * some paths) finishes first; DESTROY does not wait for it.
 *
 * Every entry submitted before DESTROY yields exactly one completion.
 *
 * Locks: sq_lock (sq_head, nr_idle, sq_flags, the cancel bitmap), cq_lock
 * (cq_tail, overflow, the destroy drain) and run_lock (the running workers)
 * are never held across a call, a sleep or a user copy. Nesting: sq_lock ->
 * run_lock in sr_sq_pop (a worker takes an entry and shows it as running in
 * one step, so that CANCEL, which scans the queue then the running workers,
 * and DESTROY, which sets `dead` then interrupts the running workers, cannot
 * fall between the two and leave the call running uninterrupted); cq_lock ->
 * sq_lock in the destroy drain. No path takes them the other way.
 */
#include <linux/gfp.h>
#include <linux/hash.h>
#include <linux/io.h>
#include <linux/kprobes.h>
#include <linux/prctl.h>
#include <linux/rculist.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/wait.h>

#include "sysring.h"

struct sr_ovf {
	struct list_head node;
	u64 user_data;
	s64 res;
};

/* A thread inside WORKER, on its own stack. */
struct sr_worker {
	struct list_head node; /* in ring->running, under run_lock */
	struct task_struct *task;
	struct callback_head cb; /* the cancel notification */
	u64 user_data;		 /* of the call it runs, when busy */
	bool busy;
	bool cancelled;
	bool cb_queued;
	/* Touched only by the worker's own thread (the callback runs there): */
	bool in_call;	     /* inside the call itself */
	bool fake_sigpending; /* the callback set TIF_SIGPENDING (sr_cancel_cb) */
	struct sr_ovf *spare; /* overflow room for the entry it takes next */
};

struct sr_ring {
	struct hlist_node by_mm; /* in sr_rings_by_mm (RCU), from SETUP to free */
	struct rcu_head rcu;
	void *mem; /* header page, sqes, cqes: compound pages, memcg-charged */
	unsigned int order;
	size_t size;
	struct sysring_ring_hdr *hdr;
	struct sysring_sqe *sqes;
	struct sysring_cqe *cqes;
	u32 sq_entries, sq_mask;
	u32 cq_entries, cq_mask;
	u64 spin_ns;
	struct mm_struct *mm; /* the owner (mmgrab: the pointer stays unique) */
	struct pid *owner;     /* the thread group that set it up: its servers */

	spinlock_t sq_lock;
	u32 sq_head; /* ours; published to hdr->sq_head */
	u32 sq_flags;
	unsigned long *sq_cancelled; /* per slot, for entries still queued */
	unsigned int nr_idle;
	u64 st_sleeps;
	u64 st_wakeups;

	spinlock_t cq_lock;
	u32 cq_tail; /* ours; published to hdr->cq_tail */
	u64 st_calls;
	struct list_head ovf; /* completions that found the ring full */
	unsigned int nr_ovf;
	u32 drain_end; /* DESTROY: [sq_head, drain_end) complete -ECANCELED */
	bool draining; /* ... and some are still to be posted */

	spinlock_t run_lock;
	struct list_head running; /* struct sr_worker */

	bool dead;    /* DESTROY: no more work */
	bool broken;  /* the process corrupted sq_tail */
	bool seccomp; /* a task sharing the memory has a filter: refuse all */
	wait_queue_head_t sq_wq;    /* idle workers, exclusive waits */
	wait_queue_head_t cq_wq;    /* WAIT callers */
	wait_queue_head_t space_wq; /* workers waiting to flush overflow */
};

/*
 * Every published ring by its mm, for the seccomp hooks: they run in the
 * context of any task making the call and look its memory up under RCU.
 * Rings leave at free; the struct itself is freed after a grace period (the
 * hooks only compare r->mm and set r->seccomp).
 */
#define SR_MM_BITS 6
static struct hlist_head sr_rings_by_mm[1 << SR_MM_BITS];
static DEFINE_SPINLOCK(sr_rings_lock);

/*
 * Rings per process. A ring lives while a descriptor of its file or a
 * mapping of it does, and a mapping outlives close(): without a bound a
 * process would keep any number of rings (up to half a megabyte of kernel
 * pages each) with few descriptors. Every ring of one memory is counted,
 * from SETUP to free, the ones held only by a mapping or destroyed
 * included; SETUP beyond max_rings answers -EMFILE. The memory itself is
 * charged to the memory cgroup (GFP_KERNEL_ACCOUNT) and allowed to fail.
 */
static unsigned int sr_max_rings = 128;
module_param_named(max_rings, sr_max_rings, uint, 0644);
MODULE_PARM_DESC(max_rings, "rings per process, mapped-only ones included (SETUP: -EMFILE beyond; default 128)");

/* Rings of mm; under sr_rings_lock or rcu_read_lock. */
static unsigned int sr_mm_rings(struct mm_struct *mm)
{
	struct sr_ring *r;
	unsigned int n = 0;

	hlist_for_each_entry_rcu(r, &sr_rings_by_mm[hash_ptr(mm, SR_MM_BITS)], by_mm,
				 lockdep_is_held(&sr_rings_lock))
		n += r->mm == mm;
	return n;
}

/* Count the ring in, unless its process has max_rings already (-EMFILE). */
static int sr_ring_register(struct sr_ring *r)
{
	int ret = 0;

	spin_lock(&sr_rings_lock);
	if (sr_mm_rings(r->mm) >= READ_ONCE(sr_max_rings))
		ret = -EMFILE;
	else
		hlist_add_head_rcu(&r->by_mm, &sr_rings_by_mm[hash_ptr(r->mm, SR_MM_BITS)]);
	spin_unlock(&sr_rings_lock);
	return ret;
}

/* Say so in the header, for the process: its library then stops queueing
 * entries before any is refused. Under sq_lock, as every change of
 * sq_flags. */
static void sr_flag_seccomp(struct sr_ring *r)
{
	spin_lock(&r->sq_lock);
	r->sq_flags |= SYSRING_SQ_SECCOMP;
	WRITE_ONCE(r->hdr->sq_flags, r->sq_flags);
	spin_unlock(&r->sq_lock);
}

/* Mark every ring of mm: a task sharing it is getting a seccomp filter.
 * A ring found here may be on its way out (sr_ring_free): its struct and
 * pages are freed only after a grace period, so writing them is safe. */
static void sr_mark_seccomp(struct mm_struct *mm)
{
	struct sr_ring *r;

	if (!mm)
		return;
	rcu_read_lock();
	hlist_for_each_entry_rcu(r, &sr_rings_by_mm[hash_ptr(mm, SR_MM_BITS)], by_mm)
		if (r->mm == mm) {
			WRITE_ONCE(r->seccomp, true);
			sr_flag_seccomp(r);
		}
	rcu_read_unlock();
}

/*
 * The hooks: pre-handlers of the system calls' entry points, so in the
 * calling task's context before the call does anything. Their argument
 * (rdi) is the call's own pt_regs, where the call's arguments are. The
 * store to r->seccomp comes before anything the task writes into the ring
 * after the call (program order, then the task's release of sq_tail, which
 * sr_sq_pop acquires).
 */
static void sr_hook_op(unsigned int op)
{
	if (op == SECCOMP_SET_MODE_STRICT || op == SECCOMP_SET_MODE_FILTER)
		sr_mark_seccomp(current->mm);
}

static void sr_hook_option(int option)
{
	if (option == PR_SET_SECCOMP)
		sr_mark_seccomp(current->mm);
}

/* The 64-bit (and x32) entries take their arguments in di, si, ...; the
 * 32-bit ones (int 0x80 works from a 64-bit thread too) in bx, cx, .... */
static int sr_hook_seccomp64(struct kprobe *kp, struct pt_regs *regs)
{
	sr_hook_op((unsigned int)((const struct pt_regs *)regs->di)->di);
	return 0;
}
static int sr_hook_prctl64(struct kprobe *kp, struct pt_regs *regs)
{
	sr_hook_option((int)((const struct pt_regs *)regs->di)->di);
	return 0;
}
static int sr_hook_seccomp32(struct kprobe *kp, struct pt_regs *regs)
{
	sr_hook_op((unsigned int)((const struct pt_regs *)regs->di)->bx);
	return 0;
}
static int sr_hook_prctl32(struct kprobe *kp, struct pt_regs *regs)
{
	sr_hook_option((int)((const struct pt_regs *)regs->di)->bx);
	return 0;
}

static struct kprobe sr_hooks[] = {
	{ .symbol_name = "__x64_sys_seccomp", .pre_handler = sr_hook_seccomp64 },
	{ .symbol_name = "__x64_sys_prctl", .pre_handler = sr_hook_prctl64 },
	{ .symbol_name = "__ia32_sys_seccomp", .pre_handler = sr_hook_seccomp32 },
	{ .symbol_name = "__ia32_sys_prctl", .pre_handler = sr_hook_prctl32 },
};
/* The 32-bit entries exist only with CONFIG_IA32_EMULATION. */
static unsigned int sr_nr_hooks(void)
{
	return IS_ENABLED(CONFIG_IA32_EMULATION) ? ARRAY_SIZE(sr_hooks) : 2;
}

/*
 * Why the hooks, the scan at SETUP and the per-entry look are enough: a
 * thread can only write an entry into a ring once the ring is published
 * (after SETUP's scan) and once its own install has returned. A filter
 * installed while the ring exists marks it (the hook runs before the
 * filter does); one installed before is seen by the scan as long as its
 * thread lives, and a thread gone before the scan never saw the ring.
 * What is left is an install that starts before SETUP registers the ring
 * and ends after its scan, by a thread that then exits before any worker
 * looks: that needs the program's own setup code to race its sandboxing.
 */
int sr_ring_init(void)
{
	unsigned int i;
	int ret;

	if (!IS_ENABLED(CONFIG_SECCOMP))
		return 0; /* no filter can ever be installed */
	for (i = 0; i < sr_nr_hooks(); i++) {
		ret = register_kprobe(&sr_hooks[i]);
		if (ret) {
			pr_err("sysring: cannot hook %s (%d): rings could not refuse entries of a process with a seccomp filter; not loading\n",
			       sr_hooks[i].symbol_name, ret);
			while (i--)
				unregister_kprobe(&sr_hooks[i]);
			return ret;
		}
	}
	return 0;
}

void sr_ring_exit(void)
{
	unsigned int i;

	if (!IS_ENABLED(CONFIG_SECCOMP))
		return;
	for (i = 0; i < sr_nr_hooks(); i++)
		unregister_kprobe(&sr_hooks[i]);
}

static void sr_ring_free_rcu(struct rcu_head *head)
{
	struct sr_ring *r = container_of(head, struct sr_ring, rcu);

	bitmap_free(r->sq_cancelled);
	free_pages((unsigned long)r->mem, r->order);
	kfree(r);
}

void sr_ring_free(struct sr_ring *r)
{
	struct sr_ovf *o, *tmp;
	unsigned int n = 0;

	if (!r)
		return;
	if (!hlist_unhashed(&r->by_mm)) {
		spin_lock(&sr_rings_lock);
		hlist_del_rcu(&r->by_mm);
		spin_unlock(&sr_rings_lock);
	}
	/* At most one per worker thread the process had, but that can be
	 * many: release may run at the last fput of a long list. */
	list_for_each_entry_safe(o, tmp, &r->ovf, node) {
		kfree(o);
		if (++n % 64 == 0)
			cond_resched();
	}
	mmdrop(r->mm); /* the hooks only compare the pointer */
	put_pid(r->owner);
	/* A hook may still be looking at the ring, and writing its header
	 * (sr_mark_seccomp): the rest goes after a grace period. */
	call_rcu(&r->rcu, sr_ring_free_rcu);
}

/* The ring of this file, if SETUP ran, checked against the caller. */
static struct sr_ring *sr_ring_get(struct sr_file *f, long *err)
{
	/* Pairs with the store-release in sr_ring_setup: a ring seen here is
	 * fully initialised. */
	struct sr_ring *r = smp_load_acquire(&f->ring);

	if (!r) {
		*err = -ENXIO;
		return NULL;
	}
	if (r->mm != current->mm) {
		*err = -EPERM;
		return NULL;
	}
	if (READ_ONCE(r->broken)) {
		*err = -EINVAL;
		return NULL;
	}
	return r;
}

/*
 * Does a task sharing the ring's memory run under seccomp? The threads of
 * the current process are looked at; with `all`, so are other tasks that
 * share the memory (CLONE_VM without CLONE_THREAD, a vfork child), which
 * exist only when the mm has more users than those threads, and then every
 * task in the system is looked at (SETUP and WORKER entry only). Under RCU:
 * task structs stay; a task's filter mode is written before anything that
 * task writes into the ring afterwards (the acquire of sq_tail in
 * sr_sq_pop orders our look after its entry).
 */
static bool sr_mm_seccomp(struct mm_struct *mm, bool all)
{
#ifdef CONFIG_SECCOMP
	struct task_struct *p, *t;
	bool found = false, others;
	int n = 0;

	rcu_read_lock();
	for_each_thread(current, t) {
		if (READ_ONCE(t->mm) != mm)
			continue;
		n++;
		if (READ_ONCE(t->seccomp.mode) != SECCOMP_MODE_DISABLED) {
			found = true;
			goto out;
		}
	}
	if (!all)
		goto out;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
	others = mm_flags_test(MMF_MULTIPROCESS, mm);
#else
	others = test_bit(MMF_MULTIPROCESS, &mm->flags);
#endif
	if (others || atomic_read(&mm->mm_users) > n) {
		for_each_process_thread(p, t) {
			if (READ_ONCE(t->mm) == mm &&
			    READ_ONCE(t->seccomp.mode) != SECCOMP_MODE_DISABLED) {
				found = true;
				goto out;
			}
		}
	}
out:
	rcu_read_unlock();
	return found;
#else
	return false;
#endif
}

long sr_ring_setup(struct sr_file *f, struct sysring_ring_setup __user *u)
{
	struct sysring_ring_setup s;
	struct sr_ring *r;
	size_t sqes_off, cqes_off, size;
	long ret;

	ret = sr_copy_arg(&s, sizeof(s), u, sizeof(s));
	if (ret)
		return ret;
	if (s.flags || s.pad || s.mmap_size || s.sqes_off || s.cqes_off || s.resv[0] || s.resv[1] ||
	    s.resv[2] || s.resv[3])
		return -EINVAL;
	if (!s.sq_entries || s.sq_entries > SYSRING_RING_MAX_ENTRIES ||
	    s.cq_entries > 2 * SYSRING_RING_MAX_ENTRIES || s.spin_us > SYSRING_RING_MAX_SPIN_US)
		return -EINVAL;
	if (!current->mm)
		return -EINVAL;
	if (READ_ONCE(f->ring))
		return -EBUSY; /* the common refusal, before allocating */
	/* So is this one (sr_ring_register decides, under its lock). */
	rcu_read_lock();
	ret = sr_mm_rings(current->mm) >= READ_ONCE(sr_max_rings) ? -EMFILE : 0;
	rcu_read_unlock();
	if (ret)
		return ret;
	s.sq_entries = roundup_pow_of_two(s.sq_entries);
	s.cq_entries = s.cq_entries ? roundup_pow_of_two(s.cq_entries) : 2 * s.sq_entries;
	if (s.cq_entries < s.sq_entries)
		return -EINVAL;

	BUILD_BUG_ON(sizeof(struct sysring_ring_hdr) > PAGE_SIZE);
	sqes_off = PAGE_SIZE;
	cqes_off = sqes_off + (size_t)s.sq_entries * sizeof(struct sysring_sqe);
	size = PAGE_ALIGN(cqes_off + (size_t)s.cq_entries * sizeof(struct sysring_cqe));

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	INIT_HLIST_NODE(&r->by_mm);
	r->order = get_order(size);
	r->mem = (void *)__get_free_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN | __GFP_COMP,
					  r->order);
	r->sq_cancelled = bitmap_zalloc(s.sq_entries, GFP_KERNEL_ACCOUNT);
	if (!r->mem || !r->sq_cancelled) {
		if (r->mem)
			free_pages((unsigned long)r->mem, r->order);
		bitmap_free(r->sq_cancelled);
		kfree(r);
		return -ENOMEM;
	}
	r->size = size;
	r->hdr = r->mem;
	r->sqes = r->mem + sqes_off;
	r->cqes = r->mem + cqes_off;
	r->sq_entries = s.sq_entries;
	r->sq_mask = s.sq_entries - 1;
	r->cq_entries = s.cq_entries;
	r->cq_mask = s.cq_entries - 1;
	r->spin_ns = (u64)s.spin_us * NSEC_PER_USEC;
	spin_lock_init(&r->sq_lock);
	spin_lock_init(&r->cq_lock);
	INIT_LIST_HEAD(&r->ovf);
	spin_lock_init(&r->run_lock);
	INIT_LIST_HEAD(&r->running);
	init_waitqueue_head(&r->sq_wq);
	init_waitqueue_head(&r->cq_wq);
	init_waitqueue_head(&r->space_wq);
	mmgrab(current->mm);
	r->mm = current->mm;
	r->owner = get_pid(task_tgid(current));

	s.mmap_size = size;
	s.sqes_off = sqes_off;
	s.cqes_off = cqes_off;

	/* The answer goes out before the ring is published, and with no lock
	 * held: the copy may block as long as the process wants (a page under
	 * userfaultfd, a FUSE mapping), and another SETUP on this file must
	 * not wait for it. A SETUP that loses the race below answered for a
	 * ring that then does not exist; it returns -EBUSY. */
	if (copy_to_user(u, &s, sizeof(s))) {
		sr_ring_free(r);
		return -EFAULT;
	}
	/* Registered before the scan: a filter installed from now on marks
	 * the ring through the hooks, one installed before is seen here. */
	ret = sr_ring_register(r);
	if (ret) {
		sr_ring_free(r);
		return ret;
	}
	if (sr_mm_seccomp(r->mm, true)) {
		WRITE_ONCE(r->seccomp, true);
		sr_flag_seccomp(r);
	}
	/* Release pairs with the load-acquire in sr_ring_get: a ring seen
	 * there is fully initialised. */
	if (cmpxchg_release(&f->ring, NULL, r)) {
		sr_ring_free(r);
		return -EBUSY;
	}
	return 0;
}

int sr_ring_mmap(struct sr_file *f, struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	struct sr_ring *r;
	long err;

	r = sr_ring_get(f, &err);
	if (!r)
		return err;
	if (vma->vm_pgoff || len > r->size)
		return -EINVAL;
	/* Shared, so both sides see one copy; never executable. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_mod(vma, VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP, VM_MAYEXEC);
#else
	vma->vm_flags |= VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP;
	vma->vm_flags &= ~VM_MAYEXEC;
#endif
	return remap_pfn_range(vma, vma->vm_start, virt_to_phys(r->mem) >> PAGE_SHIFT, len,
			       vma->vm_page_prot);
}

/* Is there an entry to take? A lockless hint; sr_sq_pop decides. */
static inline bool sr_sq_pending(struct sr_ring *r)
{
	return READ_ONCE(r->hdr->sq_tail) != READ_ONCE(r->sq_head);
}

/* Take one submission entry for worker w: 1 (copied to *sqe; *cancelled if
 * CANCEL marked it while queued), 0 (none, or the ring is dead), -EINVAL
 * (broken). */
static int sr_sq_pop(struct sr_ring *r, struct sysring_sqe *sqe, bool *cancelled,
		     struct sr_worker *w)
{
	u32 head, tail, slot;
	bool more;

	spin_lock(&r->sq_lock);
	/* DESTROY sets `dead` under sq_lock, then takes run_lock to interrupt
	 * the running workers: either it finds this worker busy (marked
	 * below, under both locks) or we see `dead` here and take nothing
	 * (DESTROY completes the queue itself). */
	if (READ_ONCE(r->dead)) {
		spin_unlock(&r->sq_lock);
		return 0;
	}
	head = r->sq_head;
	/* Pairs with the user's store-release of sq_tail after it wrote the
	 * entry: the entry's contents are visible below. */
	tail = smp_load_acquire(&r->hdr->sq_tail);
	if (tail == head || tail - head > r->sq_entries) {
		if (tail != head)
			WRITE_ONCE(r->broken, true);
		spin_unlock(&r->sq_lock);
		return tail == head ? 0 : -EINVAL;
	}
	slot = head & r->sq_mask;
	/* The process may be rewriting the slot: we only use this copy. */
	memcpy(sqe, &r->sqes[slot], sizeof(*sqe));
	*cancelled = __test_and_clear_bit(slot, r->sq_cancelled);
	if (!*cancelled) {
		/* Running from now on, for CANCEL and DESTROY (see above). */
		spin_lock(&r->run_lock);
		w->user_data = sqe->user_data;
		w->busy = true;
		spin_unlock(&r->run_lock);
	}
	WRITE_ONCE(r->sq_head, head + 1);
	/* Pairs with the user's load-acquire of sq_head before it reuses the
	 * slot: our copy is complete before the slot is handed back. */
	smp_store_release(&r->hdr->sq_head, head + 1);
	more = tail != head + 1 && r->nr_idle;
	spin_unlock(&r->sq_lock);
	/* More work and a sleeping worker: pass the wake-up on, so that one
	 * WAKE gets as many workers going as there are entries. */
	if (more)
		wake_up(&r->sq_wq);
	return 1;
}

static inline u32 sr_cq_ready(struct sr_ring *r)
{
	u32 n = READ_ONCE(r->cq_tail) - READ_ONCE(r->hdr->cq_head);

	return min(n, r->cq_entries);
}

static inline bool sr_cq_room(struct sr_ring *r)
{
	return READ_ONCE(r->cq_tail) - READ_ONCE(r->hdr->cq_head) < r->cq_entries;
}

/* Put one completion in the ring if there is room; under cq_lock. */
static bool sr_cq_put_locked(struct sr_ring *r, u64 user_data, s64 res)
{
	struct sysring_cqe *cqe;
	u32 tail = r->cq_tail;
	/* Pairs with the user's store-release of cq_head after it read the
	 * entries: the slot is free before we overwrite it. */
	u32 head = smp_load_acquire(&r->hdr->cq_head);

	if (tail - head >= r->cq_entries)
		return false;
	cqe = &r->cqes[tail & r->cq_mask];
	WRITE_ONCE(cqe->user_data, user_data);
	WRITE_ONCE(cqe->res, res);
	WRITE_ONCE(r->cq_tail, tail + 1);
	/* Pairs with the user's load-acquire of cq_tail: the entry is visible
	 * before the new tail. */
	smp_store_release(&r->hdr->cq_tail, tail + 1);
	WRITE_ONCE(r->hdr->st_calls, ++r->st_calls);
	return true;
}

/*
 * DESTROY's drain: the entries it found queued complete with -ECANCELED,
 * taken from the submission ring as room appears in the completion ring
 * (no memory is needed for them). Under cq_lock; takes sq_lock. True when
 * none is left. At most sq_entries iterations, each a few stores.
 */
static bool sr_drain_locked(struct sr_ring *r)
{
	bool done;

	spin_lock(&r->sq_lock);
	while (r->sq_head != r->drain_end) {
		u32 slot = r->sq_head & r->sq_mask;

		/* The process may rewrite the slot: it only changes the
		 * user_data it gets back. */
		if (!sr_cq_put_locked(r, READ_ONCE(r->sqes[slot].user_data), -ECANCELED))
			break;
		__clear_bit(slot, r->sq_cancelled);
		WRITE_ONCE(r->sq_head, r->sq_head + 1);
		/* As in sr_sq_pop: the slot is handed back. */
		smp_store_release(&r->hdr->sq_head, r->sq_head);
	}
	done = r->sq_head == r->drain_end;
	if (done)
		WRITE_ONCE(r->draining, false);
	spin_unlock(&r->sq_lock);
	return done;
}

/* Move overflowed completions into the ring, oldest first, then DESTROY's
 * cancelled entries; under cq_lock. True when none is left. */
static bool sr_cq_flush_locked(struct sr_ring *r)
{
	struct sr_ovf *o, *tmp;

	list_for_each_entry_safe(o, tmp, &r->ovf, node) {
		if (!sr_cq_put_locked(r, o->user_data, o->res))
			return false;
		list_del(&o->node);
		WRITE_ONCE(r->nr_ovf, r->nr_ovf - 1);
		kfree(o);
	}
	return !r->draining || sr_drain_locked(r);
}

/* Anything waiting to go into the completion ring (a hint: the flush
 * decides under cq_lock). */
static inline bool sr_cq_backlog(struct sr_ring *r)
{
	return READ_ONCE(r->nr_ovf) || READ_ONCE(r->draining);
}

static void sr_cq_wake(struct sr_ring *r)
{
	/* wq_has_sleeper's barrier pairs with the one in the waiter's
	 * prepare_to_wait before it tests the tail. */
	if (wq_has_sleeper(&r->cq_wq))
		wake_up(&r->cq_wq);
}

/* Try to empty the overflow list: true if it is empty. */
static bool sr_cq_flush(struct sr_ring *r)
{
	bool empty;

	if (!sr_cq_backlog(r))
		return true;
	spin_lock(&r->cq_lock);
	empty = sr_cq_flush_locked(r);
	spin_unlock(&r->cq_lock);
	sr_cq_wake(r);
	return empty;
}

/*
 * Post a worker's completion. When the process let the completion ring fill
 * up, it goes to the overflow list instead (in order, behind earlier ones),
 * in the node the worker allocated before it took the entry (*spare, which
 * is then used up), so that no result is ever lost, nothing is allocated
 * here and a worker never has to sleep holding one: a worker then takes no
 * new entry until the list is flushed (sr_worker_loop), which bounds the
 * list by the number of workers.
 */
static void sr_cq_post(struct sr_ring *r, u64 user_data, s64 res, struct sr_ovf **spare)
{
	spin_lock(&r->cq_lock);
	if (!sr_cq_flush_locked(r) || !sr_cq_put_locked(r, user_data, res)) {
		struct sr_ovf *o = *spare;

		*spare = NULL;
		o->user_data = user_data;
		o->res = res;
		list_add_tail(&o->node, &r->ovf);
		WRITE_ONCE(r->nr_ovf, r->nr_ovf + 1);
	}
	spin_unlock(&r->cq_lock);
	sr_cq_wake(r);
}

/* Poll an empty ring for up to spin_ns before sleeping: true if work came. */
static bool sr_worker_spin(struct sr_ring *r)
{
	u64 end = ktime_get_ns() + r->spin_ns;

	while (!sr_sq_pending(r)) {
		if (READ_ONCE(r->dead) || signal_pending(current) || ktime_get_ns() >= end)
			return false;
		cond_resched();
		cpu_relax();
	}
	return true;
}

static void sr_set_idle(struct sr_ring *r, bool idle)
{
	spin_lock(&r->sq_lock);
	if (idle) {
		if (r->nr_idle++ == 0)
			r->sq_flags |= SYSRING_SQ_NEED_WAKEUP;
		WRITE_ONCE(r->hdr->st_sleeps, ++r->st_sleeps);
	} else if (--r->nr_idle == 0) {
		r->sq_flags &= ~SYSRING_SQ_NEED_WAKEUP;
	}
	/* Always our values: the process may have scribbled on the fields. */
	WRITE_ONCE(r->hdr->sq_flags, r->sq_flags);
	WRITE_ONCE(r->hdr->sq_idle, r->nr_idle);
	spin_unlock(&r->sq_lock);
}

/*
 * The cancel notification's callback: its job was to interrupt, and it has
 * run by the time the worker gets here. Normally that is after the call
 * (sr_consume_notify). If it runs inside the call, the call ran our task
 * work itself and cleared TIF_NOTIFY_SIGNAL in order to wait on
 * (io_uring_enter, io_uring_register): such a call still ends on a real
 * signal, so make it see one -- TIF_SIGPENDING with nothing queued, as the
 * freezer does. The worker recomputes the flag from the real signals once
 * the call is over (sr_worker_run). Runs on the worker's own thread.
 */
static void sr_cancel_cb(struct callback_head *cb)
{
	struct sr_worker *w = container_of(cb, struct sr_worker, cb);

	if (w->in_call) {
		set_thread_flag(TIF_SIGPENDING);
		w->fake_sigpending = true;
	}
}

/*
 * Consume a cancel notification (TIF_NOTIFY_SIGNAL and the task work that
 * set it) so that the worker stays in the module, and so that the
 * callback_head in its frame is off the task's list before the frame goes.
 */
static void sr_consume_notify(void)
{
	if (test_thread_flag(TIF_NOTIFY_SIGNAL))
		clear_notify_signal();
	sr_run_task_work();
}

/* May ring entries run at all? No once any task sharing the memory had a
 * seccomp filter (and never again: filters are not removed). */
static bool sr_ring_policy_ok(struct sr_ring *r)
{
	if (likely(!READ_ONCE(r->seccomp)) && likely(!sr_mm_seccomp(r->mm, false)))
		return true;
	/* Marked here, at SETUP or by a hook: say so, for the process (the
	 * refusal path, so the lock is no cost). */
	spin_lock(&r->sq_lock);
	WRITE_ONCE(r->seccomp, true);
	r->sq_flags |= SYSRING_SQ_SECCOMP;
	WRITE_ONCE(r->hdr->sq_flags, r->sq_flags);
	spin_unlock(&r->sq_lock);
	return false;
}

/* Run one entry on this worker, interruptible by CANCEL. */
static s64 sr_worker_run(struct sr_ring *r, struct sr_worker *w, struct pt_regs *regs,
			 const struct sysring_sqe *sqe)
{
	bool cancelled, queued;
	long res;

	/* sr_sq_pop marked us busy with this entry. */
	if (sqe->flags) {
		res = -EINVAL;
	} else if (!sr_ring_policy_ok(r)) {
		res = -EPERM;
	} else {
		w->in_call = true;
		res = sr_call(regs, sqe->nr, sqe->args, SR_AWAY);
		w->in_call = false;
	}
	/* The work the call left for the return to user space, which a
	 * worker does not make between entries: above all the final fput of
	 * a file it closed (close, dup2 over an fd, close_range, ...), which
	 * releases the file -- a pipe's reader then sees end of file, a
	 * socket's peer the shutdown, a flock is gone. The plain call has
	 * done all that when its caller sees the result, so this comes before
	 * the completion is posted. (A cancel notification queued meanwhile
	 * runs here too, and does nothing: in_call is clear.) */
	sr_run_task_work();
	/* A temporary mask the call left (ppoll and the like, interrupted)
	 * is for a return to user space that will not come now. */
	sr_restore_sigmask();
	if (w->fake_sigpending) {
		/* Only the real signals count from here on. */
		w->fake_sigpending = false;
		spin_lock_irq(&current->sighand->siglock);
		recalc_sigpending();
		spin_unlock_irq(&current->sighand->siglock);
	}

	spin_lock(&r->run_lock);
	w->busy = false;
	cancelled = w->cancelled;
	queued = w->cb_queued;
	w->cancelled = false;
	w->cb_queued = false;
	spin_unlock(&r->run_lock);
	/* Nobody can queue w->cb again until the next call marks us busy. */
	if (queued)
		sr_consume_notify();
	/* A call that finished first keeps its own result. */
	return cancelled && res == -EINTR ? -ECANCELED : res;
}

/* wait_event_interruptible_exclusive with a timeout in jiffies: > 0 the
 * condition holds, 0 the time ran out without it, -ERESTARTSYS a signal. */
#define sr_wait_exclusive_timeout(wq, condition, timeout)                                      \
	({                                                                                     \
		long __ret = (timeout);                                                        \
		might_sleep();                                                                 \
		if (!___wait_cond_timeout(condition))                                          \
			__ret = ___wait_event(wq, ___wait_cond_timeout(condition),             \
					      TASK_INTERRUPTIBLE, 1, timeout,                  \
					      __ret = schedule_timeout(__ret));                \
		__ret;                                                                         \
	})

/* idle: jiffies a worker may sleep with nothing to take before it leaves
 * with -ETIME (WORKER_IDLE), or MAX_SCHEDULE_TIMEOUT (never). */
static long sr_worker_loop(struct sr_ring *r, struct sr_worker *w, long idle)
{
	struct pt_regs regs = {};
	struct sysring_sqe sqe;
	bool cancelled;
	int got;

	for (;;) {
		if (READ_ONCE(r->dead))
			return 0;
		if (READ_ONCE(r->broken))
			return -EINVAL;
		if (signal_pending(current)) {
			/* A wake-up meant for us must not be lost with us. */
			if (sr_sq_pending(r))
				wake_up(&r->sq_wq);
			return fatal_signal_pending(current) ? -EINTR : -ERESTARTSYS;
		}
		/* Room for this worker's completion should the ring be full
		 * when it is posted, before it takes an entry. */
		if (!w->spare) {
			w->spare = kmalloc(sizeof(*w->spare), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
			if (!w->spare)
				return -ENOMEM;
		}
		/* Overflowed completions first: no new entry until they are
		 * in the ring. Interruptible, since nothing is held. */
		if (!sr_cq_flush(r)) {
			wait_event_interruptible_timeout(r->space_wq,
							 sr_cq_room(r) || READ_ONCE(r->dead), HZ / 50);
			/* The process can make room appear and vanish (cq_head
			 * is its to write): never loop without yielding. */
			sr_resched();
			continue;
		}
		got = sr_sq_pop(r, &sqe, &cancelled, w);
		if (got < 0)
			return got;
		if (got) {
			s64 res = cancelled ? -ECANCELED : sr_worker_run(r, w, &regs, &sqe);

			sr_cq_post(r, sqe.user_data, res, &w->spare);
			sr_resched();
			continue;
		}
		if (r->spin_ns && sr_worker_spin(r)) {
			sr_resched(); /* the hint and the pop can disagree */
			continue;
		}

		sr_set_idle(r, true);
		/* The flag is set (under sq_lock) before prepare_to_wait's
		 * barrier and the re-test of sq_tail inside wait_event: it
		 * pairs with the user's full fence between its sq_tail store
		 * and its sq_flags load, so either we see the entry or the
		 * user sees NEED_WAKEUP and calls WAKE. */
		smp_mb();
		if (idle == MAX_SCHEDULE_TIMEOUT) {
			wait_event_interruptible_exclusive(r->sq_wq, sr_sq_pending(r) || READ_ONCE(r->dead));
			sr_set_idle(r, false);
			continue;
		}
		if (sr_wait_exclusive_timeout(r->sq_wq, sr_sq_pending(r) || READ_ONCE(r->dead), idle)) {
			sr_set_idle(r, false);
			continue;
		}
		sr_set_idle(r, false);
		/* Idle that long: leave, unless an entry came meanwhile. The
		 * barrier orders our uncounting (sr_set_idle) before the look at
		 * sq_tail; it pairs with the user's fence between its sq_tail
		 * store and its sq_idle load: either the user saw us gone (and
		 * does not count on us), or we see its entry and take it. */
		smp_mb();
		if (!sr_sq_pending(r) && !READ_ONCE(r->dead))
			return -ETIME;
	}
}

long sr_ring_worker(struct sr_file *f, struct sysring_worker __user *u)
{
	struct sr_worker w = { .task = current };
	long idle = MAX_SCHEDULE_TIMEOUT;
	struct sr_ring *r;
	bool queued;
	long ret;

	r = sr_ring_get(f, &ret);
	if (!r)
		return ret;
	/* Served by the threads of the process that set it up only: a task
	 * that shares the memory but is another process (CLONE_VM without
	 * CLONE_THREAD, a vfork child) would run the entries' process-wide
	 * calls -- getpid, kill(0), fork, its own files and credentials -- on
	 * itself, not on the process whose ring it is. */
	if (task_tgid(current) != r->owner)
		return -EPERM;
	if (u) {
		struct sysring_worker a;

		ret = sr_copy_arg(&a, sizeof(a), u, sizeof(a));
		if (ret)
			return ret;
		if (a.flags || a.resv[0] || a.resv[1])
			return -EINVAL;
		/* At least a jiffy; a limit beyond what a jiffy count holds
		 * is no limit. */
		if (a.idle_ns) {
			u64 j = nsecs_to_jiffies64(a.idle_ns);

			if (j < MAX_SCHEDULE_TIMEOUT)
				idle = max_t(long, 1, (long)j);
		}
	}
	/* Other processes sharing the memory, looked at once per WORKER
	 * (the hooks catch what comes later). */
	if (!READ_ONCE(r->dead) && !READ_ONCE(r->seccomp) && sr_mm_seccomp(r->mm, true)) {
		WRITE_ONCE(r->seccomp, true);
		sr_flag_seccomp(r);
	}
	init_task_work(&w.cb, sr_cancel_cb);
	spin_lock(&r->run_lock);
	list_add(&w.node, &r->running);
	spin_unlock(&r->run_lock);

	ret = sr_worker_loop(r, &w, idle);

	spin_lock(&r->run_lock);
	list_del(&w.node);
	queued = w.cb_queued;
	spin_unlock(&r->run_lock);
	if (queued)
		sr_consume_notify();
	kfree(w.spare);
	return ret;
}

/* Interrupt the workers running user_data (all of them if `all`); under
 * run_lock. Returns how many. */
static unsigned int sr_cancel_running(struct sr_ring *r, u64 user_data, bool match_all, bool all)
{
	struct sr_worker *w;
	unsigned int n = 0;

	list_for_each_entry(w, &r->running, node) {
		if (!w->busy || w->cancelled || (!match_all && w->user_data != user_data))
			continue;
		w->cancelled = true;
		/* -ESRCH: the worker is exiting, its call ends anyway. */
		if (!w->cb_queued && !task_work_add(w->task, &w->cb, TWA_SIGNAL))
			w->cb_queued = true;
		n++;
		if (!all)
			break;
	}
	return n;
}

long sr_ring_cancel(struct sr_file *f, struct sysring_ring_cancel __user *u)
{
	struct sysring_ring_cancel c;
	struct sr_ring *r;
	unsigned int n = 0;
	bool all;
	u32 p, tail;
	long ret;

	r = sr_ring_get(f, &ret);
	if (!r)
		return ret;
	ret = sr_copy_arg(&c, sizeof(c), u, sizeof(c));
	if (ret)
		return ret;
	if ((c.flags & ~SYSRING_CANCEL_ALL) || c.resv[0] || c.resv[1])
		return -EINVAL;
	all = c.flags & SYSRING_CANCEL_ALL;

	/* Queued entries: the ones between our head and the user's tail. */
	spin_lock(&r->sq_lock);
	tail = smp_load_acquire(&r->hdr->sq_tail); /* as in sr_sq_pop */
	if (tail - r->sq_head <= r->sq_entries) {
		for (p = r->sq_head; p != tail; p++) {
			u32 slot = p & r->sq_mask;

			if (READ_ONCE(r->sqes[slot].user_data) != c.user_data ||
			    test_bit(slot, r->sq_cancelled))
				continue;
			__set_bit(slot, r->sq_cancelled);
			n++;
			if (!all)
				break;
		}
	}
	spin_unlock(&r->sq_lock);

	if (!n || all) {
		spin_lock(&r->run_lock);
		n += sr_cancel_running(r, c.user_data, false, all);
		spin_unlock(&r->run_lock);
	}
	return n ? n : -ENOENT;
}

long sr_ring_wait(struct sr_file *f, struct sysring_ring_wait __user *u)
{
	struct sysring_ring_wait w;
	struct sr_ring *r;
	long ret;

	r = sr_ring_get(f, &ret);
	if (!r)
		return ret;
	ret = sr_copy_arg(&w, sizeof(w), u, sizeof(w));
	if (ret)
		return ret;
	if (w.flags || w.pad || w.resv[0] || w.resv[1] || w.min_complete > r->cq_entries)
		return -EINVAL;
	/* The caller may have made room: move overflow in, let workers go. */
	sr_cq_flush(r);
	if (wq_has_sleeper(&r->space_wq))
		wake_up(&r->space_wq);
	if (sr_cq_ready(r) >= w.min_complete || READ_ONCE(r->dead))
		return sr_cq_ready(r);
	if (w.timeout_ns == 0)
		return -ETIME;
#define SR_WAIT_COND (sr_cq_ready(r) >= w.min_complete || READ_ONCE(r->dead) || READ_ONCE(r->broken))
	if (w.timeout_ns < 0)
		ret = wait_event_interruptible(r->cq_wq, SR_WAIT_COND);
	else
		ret = wait_event_interruptible_hrtimeout(r->cq_wq, SR_WAIT_COND, ns_to_ktime(w.timeout_ns));
#undef SR_WAIT_COND
	if (ret == -ERESTARTSYS)
		return -EINTR; /* not restarted: the timeout is relative */
	if (ret)
		return ret;
	if (READ_ONCE(r->broken))
		return -EINVAL;
	return sr_cq_ready(r);
}

long sr_ring_wake(struct sr_file *f, unsigned long flags)
{
	struct sr_ring *r;
	long err;

	r = sr_ring_get(f, &err);
	if (!r)
		return err;
	if (flags & ~(unsigned long)SYSRING_WAKE_ALL)
		return -EINVAL;
	if (READ_ONCE(r->nr_idle)) {
		if (flags & SYSRING_WAKE_ALL)
			wake_up_all(&r->sq_wq);
		else
			wake_up(&r->sq_wq);
		spin_lock(&r->sq_lock);
		WRITE_ONCE(r->hdr->st_wakeups, ++r->st_wakeups);
		spin_unlock(&r->sq_lock);
	}
	if (wq_has_sleeper(&r->space_wq))
		wake_up(&r->space_wq);
	return 0;
}

long sr_ring_destroy(struct sr_file *f)
{
	/* Pairs with the store-release in sr_ring_setup, as in sr_ring_get. */
	struct sr_ring *r = smp_load_acquire(&f->ring);
	u32 n;

	if (!r)
		return -ENXIO;
	if (r->mm != current->mm)
		return -EPERM;
	/* Once: a destroyed ring takes no more entries, whatever the process
	 * does to sq_tail, so repeated DESTROYs cost nothing. */
	spin_lock(&r->sq_lock);
	if (r->dead) {
		spin_unlock(&r->sq_lock);
		return 0;
	}
	/* Workers test `dead` under run_lock in sr_sq_pop (which they take
	 * inside sq_lock, held here): from now on they take nothing. */
	WRITE_ONCE(r->dead, true);
	/* The queue is measured once (as in sr_sq_pop): what is there
	 * completes with -ECANCELED, so that every entry submitted before
	 * DESTROY has exactly one completion; entries submitted after are
	 * ignored. A scribbled tail: nothing we can trust to drain. */
	n = smp_load_acquire(&r->hdr->sq_tail) - r->sq_head;
	if (n && n <= r->sq_entries) {
		r->drain_end = r->sq_head + n;
		WRITE_ONCE(r->draining, true);
	}
	spin_unlock(&r->sq_lock);
	/* Running calls are interrupted (a worker that took an entry before
	 * `dead` runs it, interrupted here, and posts its completion)... */
	spin_lock(&r->run_lock);
	sr_cancel_running(r, 0, true, true);
	spin_unlock(&r->run_lock);
	/* ...and the queue's completions go in as far as there is room. */
	sr_cq_flush(r);
	/* wake_up_all takes each queue's lock: sleepers re-test `dead` after. */
	wake_up_all(&r->sq_wq);
	wake_up_all(&r->cq_wq);
	wake_up_all(&r->space_wq);
	return 0;
}

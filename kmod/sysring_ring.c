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
 * reads two user-owned fields (sq_tail, cq_head; CANCEL also compares the
 * user_data of queued entries), whose values can at worst make the ring
 * "broken" (sq_tail too far ahead: every ioctl -EINVAL) or look full
 * (completions then wait in the overflow list: at most one per worker, plus
 * what DESTROY cancels, at most sq_entries).
 *
 * Ownership and lifetime: a ring belongs to the open file (one per file, for
 * the file's whole life) and to the mm that set it up (mmgrab'd): only that
 * process may map it or serve it (-EPERM elsewhere), and the mapping is not
 * inherited by fork (VM_DONTCOPY), so calls submitted to a ring always run
 * as threads of the process that owns its memory. Workers hold a file
 * reference (the ioctl path takes one), the mapping holds one too, so the
 * ring is freed in release(), when nobody can touch it. DESTROY stops it:
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
 * the worker's frame and is always run before the worker leaves.
 *
 * Every entry submitted before DESTROY yields exactly one completion.
 *
 * Locks: sq_lock (sq_head, nr_idle, sq_flags, the cancel bitmap), cq_lock
 * (cq_tail, overflow) and run_lock (the running workers) are never held
 * across a call or a sleep. The only nesting is sq_lock -> run_lock, in
 * sr_sq_pop: a worker takes an entry and shows it as running in one step,
 * so that CANCEL (which scans the queue, then the running workers) and
 * DESTROY (which sets `dead`, then interrupts the running workers) cannot
 * fall between the two and leave the call running uninterrupted.
 */
#include <linux/gfp.h>
#include <linux/io.h>
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
};

struct sr_ring {
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

	spinlock_t run_lock;
	struct list_head running; /* struct sr_worker */

	bool dead;   /* DESTROY: no more work */
	bool broken; /* the process corrupted sq_tail */
	wait_queue_head_t sq_wq;    /* idle workers, exclusive waits */
	wait_queue_head_t cq_wq;    /* WAIT callers */
	wait_queue_head_t space_wq; /* workers waiting to flush overflow */
};

void sr_ring_free(struct sr_ring *r)
{
	struct sr_ovf *o, *tmp;

	if (!r)
		return;
	list_for_each_entry_safe(o, tmp, &r->ovf, node)
		kfree(o);
	bitmap_free(r->sq_cancelled);
	free_pages((unsigned long)r->mem, r->order);
	mmdrop(r->mm);
	kfree(r);
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

	s.mmap_size = size;
	s.sqes_off = sqes_off;
	s.cqes_off = cqes_off;

	mutex_lock(&f->lock);
	if (f->ring) {
		ret = -EBUSY;
	} else if (copy_to_user(u, &s, sizeof(s))) {
		ret = -EFAULT;
	} else {
		/* Pairs with the load-acquire in sr_ring_get. */
		smp_store_release(&f->ring, r);
		r = NULL;
		ret = 0;
	}
	mutex_unlock(&f->lock);
	sr_ring_free(r);
	return ret;
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

/* Take one submission entry: 1 (copied to *sqe; *cancelled if CANCEL
 * marked it while queued), 0 (none), -EINVAL (broken). */
static int sr_sq_pop(struct sr_ring *r, struct sysring_sqe *sqe, bool *cancelled,
		     struct sr_worker *w)
{
	u32 head, tail, slot;
	bool more;

	spin_lock(&r->sq_lock);
	if (w) {
		spin_lock(&r->run_lock);
		/* Under run_lock: DESTROY sets `dead` before it takes run_lock
		 * to interrupt the running workers, so either it finds this
		 * worker busy below or we see `dead` here and take nothing
		 * (DESTROY drains the queue itself). */
		if (READ_ONCE(r->dead)) {
			spin_unlock(&r->run_lock);
			spin_unlock(&r->sq_lock);
			return 0;
		}
	}
	head = r->sq_head;
	/* Pairs with the user's store-release of sq_tail after it wrote the
	 * entry: the entry's contents are visible below. */
	tail = smp_load_acquire(&r->hdr->sq_tail);
	if (tail == head || tail - head > r->sq_entries) {
		if (w)
			spin_unlock(&r->run_lock);
		if (tail != head)
			WRITE_ONCE(r->broken, true);
		spin_unlock(&r->sq_lock);
		return tail == head ? 0 : -EINVAL;
	}
	slot = head & r->sq_mask;
	/* The process may be rewriting the slot: we only use this copy. */
	memcpy(sqe, &r->sqes[slot], sizeof(*sqe));
	*cancelled = __test_and_clear_bit(slot, r->sq_cancelled);
	if (w) {
		/* Running from now on, for CANCEL and DESTROY (see above). */
		if (!*cancelled) {
			w->user_data = sqe->user_data;
			w->busy = true;
		}
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

/* Move overflowed completions into the ring, oldest first; under cq_lock.
 * True when none is left. */
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
	return true;
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

	if (!READ_ONCE(r->nr_ovf))
		return true;
	spin_lock(&r->cq_lock);
	empty = sr_cq_flush_locked(r);
	spin_unlock(&r->cq_lock);
	sr_cq_wake(r);
	return empty;
}

/*
 * Post one completion. When the process let the completion ring fill up,
 * it goes to the overflow list instead (in order, behind earlier ones), so
 * that no result is ever lost and a worker never has to sleep holding one:
 * a worker then takes no new entry until the list is flushed (sr_ring_worker),
 * which bounds the list by the number of workers.
 */
static void sr_cq_post(struct sr_ring *r, u64 user_data, s64 res)
{
	struct sr_ovf *o;
	bool posted;

	spin_lock(&r->cq_lock);
	posted = sr_cq_flush_locked(r) && sr_cq_put_locked(r, user_data, res);
	spin_unlock(&r->cq_lock);
	if (!posted) {
		/* A few bytes, charged to the process; never fails. */
		o = kmalloc(sizeof(*o), GFP_KERNEL_ACCOUNT | __GFP_NOFAIL);
		o->user_data = user_data;
		o->res = res;
		spin_lock(&r->cq_lock);
		list_add_tail(&o->node, &r->ovf);
		WRITE_ONCE(r->nr_ovf, r->nr_ovf + 1);
		sr_cq_flush_locked(r); /* room may have appeared meanwhile */
		spin_unlock(&r->cq_lock);
	}
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
	/* Always our value: the process may have scribbled on the field. */
	WRITE_ONCE(r->hdr->sq_flags, r->sq_flags);
	spin_unlock(&r->sq_lock);
}

/* The cancel notification's callback: its only job was to interrupt. */
static void sr_cancel_cb(struct callback_head *cb)
{
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

/* Run one entry on this worker, interruptible by CANCEL. */
static s64 sr_worker_run(struct sr_ring *r, struct sr_worker *w, struct pt_regs *regs,
			 const struct sysring_sqe *sqe)
{
	bool cancelled, queued;
	long res;

	/* sr_sq_pop marked us busy with this entry. */
	res = sqe->flags ? -EINVAL : sr_call(regs, sqe->nr, sqe->args);

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

static long sr_worker_loop(struct sr_ring *r, struct sr_worker *w)
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

			sr_cq_post(r, sqe.user_data, res);
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
		wait_event_interruptible_exclusive(r->sq_wq, sr_sq_pending(r) || READ_ONCE(r->dead));
		sr_set_idle(r, false);
	}
}

long sr_ring_worker(struct sr_file *f)
{
	struct sr_worker w = { .task = current };
	struct sr_ring *r;
	bool queued;
	long ret;

	r = sr_ring_get(f, &ret);
	if (!r)
		return ret;
	init_task_work(&w.cb, sr_cancel_cb);
	spin_lock(&r->run_lock);
	list_add(&w.node, &r->running);
	spin_unlock(&r->run_lock);

	ret = sr_worker_loop(r, &w);

	spin_lock(&r->run_lock);
	list_del(&w.node);
	queued = w.cb_queued;
	spin_unlock(&r->run_lock);
	if (queued)
		sr_consume_notify();
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
	struct sysring_sqe sqe;
	bool cancelled;
	u32 n;

	if (!r)
		return -ENXIO;
	if (r->mm != current->mm)
		return -EPERM;
	WRITE_ONCE(r->dead, true);
	/* Running calls are interrupted... */
	spin_lock(&r->run_lock);
	sr_cancel_running(r, 0, true, true);
	spin_unlock(&r->run_lock);
	/* ...and whatever is still queued completes with -ECANCELED, so that
	 * every entry submitted before DESTROY has exactly one completion (a
	 * worker that took one before `dead` runs it, interrupted above).
	 * Workers take nothing once `dead` is set. The queue is measured
	 * once: the process can keep moving sq_tail, and entries it submits
	 * after DESTROY are ignored; at most sq_entries are drained, so the
	 * overflow they may need is bounded too. */
	spin_lock(&r->sq_lock);
	n = smp_load_acquire(&r->hdr->sq_tail) - r->sq_head; /* as in sr_sq_pop */
	spin_unlock(&r->sq_lock);
	if (n > r->sq_entries)
		n = 0; /* a scribbled tail: nothing we can trust to drain */
	while (n-- && sr_sq_pop(r, &sqe, &cancelled, NULL) > 0) {
		sr_cq_post(r, sqe.user_data, -ECANCELED);
		cond_resched();
	}
	/* wake_up_all takes each queue's lock: sleepers re-test `dead` after. */
	wake_up_all(&r->sq_wq);
	wake_up_all(&r->cq_wq);
	wake_up_all(&r->space_wq);
	return 0;
}

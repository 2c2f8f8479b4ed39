/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sysring.ko internals, shared by the three files of the module:
 *
 *   sysring_main.c  the misc device, the ioctl dispatcher, the policy (who
 *                   may use the module) and the no-nesting guard
 *   sysring_exec.c  running a system call by number for the caller, the
 *                   deny-list, the BATCH and SYSLET ioctls
 *   sysring_ring.c  the shared ring: SETUP, mmap, WORKER, WAIT, WAKE, DESTROY
 *
 * Execution model: every call runs in the context of the thread that
 * entered the ioctl (its current, files, mm, credentials, signal state),
 * exactly as if that thread had made the call itself, except that seccomp,
 * syscall audit and ptrace syscall tracing never see it: they hook the
 * system-call entry, which the module does not go through. That is why the
 * module refuses threads that run under seccomp (sr_policy_ok), rings of a
 * process where any task has had a filter (sysring_ring.c), and why the
 * device is root-only unless the administrator says otherwise.
 */
#ifndef SYSRING_KMOD_H
#define SYSRING_KMOD_H

#include <linux/fs.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/types.h>

#include <sysring/uapi.h>

struct sr_ring;

/* Per open file of /dev/sysring. */
struct sr_file {
	/* Published once by SETUP with a compare-and-swap (no lock: SETUP
	 * copies to user memory, which may block for as long as the process
	 * likes, and nothing may wait for it); freed at release. */
	struct sr_ring *ring;
};

/*
 * Calls through the module bypass seccomp, so a process under seccomp (a
 * sandbox that may have allowed ioctl and open of the device by mistake) is
 * refused. Checked at every ioctl and before every call, so that a filter
 * installed by a call inside a batch, or on a worker thread by TSYNC, stops
 * everything after it.
 */
static inline bool sr_policy_ok(void)
{
#ifdef CONFIG_SECCOMP
	return READ_ONCE(current->seccomp.mode) == SECCOMP_MODE_DISABLED;
#else
	return true;
#endif
}

/* sysring_exec.c */
int sr_exec_init(void);
/*
 * Where a call runs, for the thread-scoped class of syscalls.def (calls that
 * change the calling thread only): SR_HERE on the thread that asked for it
 * (BATCH, SYSLET), where they run; SR_AWAY anywhere else (a ring worker runs
 * entries another thread may have written; a cached syslet stands for an
 * asynchronous one), where they are refused with -EPERM.
 */
enum sr_where { SR_HERE, SR_AWAY };
long sr_call(struct pt_regs *regs, unsigned long nr, const u64 args[6], enum sr_where where);
void sr_restore_sigmask(void);
void sr_resched(void);
void sr_run_task_work(void);
/* Run the task work that TIF_NOTIFY_SIGNAL announces, clearing the flag
 * (as the return to user space does); true if a real signal is pending. */
bool sr_signal_real(void);
bool sr_nested(void);
long sr_copy_arg(void *dst, size_t ksize, const void __user *src, size_t minsize);
long sr_ioctl_batch(struct sysring_batch __user *ub);
long sr_ioctl_syslet(struct sysring_syslet __user *us);
extern unsigned int sr_nr_syscalls;

/* sysring_ring.c */
int sr_ring_init(void);
void sr_ring_exit(void);
long sr_ring_setup(struct sr_file *f, struct sysring_ring_setup __user *u);
/* WORKER (u NULL) and WORKER_IDLE (u its argument). */
long sr_ring_worker(struct sr_file *f, struct sysring_worker __user *u);
long sr_ring_wait(struct sr_file *f, struct sysring_ring_wait __user *u);
long sr_ring_wake(struct sr_file *f, unsigned long flags);
long sr_ring_destroy(struct sr_file *f);
long sr_ring_cancel(struct sr_file *f, struct sysring_ring_cancel __user *u);
int sr_ring_mmap(struct sr_file *f, struct vm_area_struct *vma);
void sr_ring_free(struct sr_ring *r);

#endif

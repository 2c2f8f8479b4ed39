/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * The classifiers of the thread-scoped column (thread.def), shared by the
 * library and sysring.ko (both compile this header, as they share
 * syscalls.def): for a call that acts on the calling thread alone for some
 * argument values only, say whether these values are such.
 *
 * Each takes the call's six argument values as the kernel receives them and
 * returns 1 (thread-scoped) or 0. They look at values only, never at memory,
 * and they narrow each value to the type the kernel's entry point gives it
 * (an int option is compared as an int), so that a value with stray upper
 * bits cannot slip past: the kernel would read it as the same option.
 *
 * Why each option is here (the full reasoning is at the TS class in
 * syscalls.def): it changes state that belongs to the calling thread — its
 * credentials (bounding set, securebits, keep-caps, ambient set, session
 * keyring, and the thread, process and session keyrings a lookup may
 * create there), its restrictions (no_new_privs, seccomp mode and filters,
 * speculation control, rdtsc, syscall user dispatch, shadow stack), its
 * identity for others (name, parent-death signal, perf ownership, memory-
 * failure policy, timer slack, I/O-flusher flag, core-scheduling cookie), its
 * scheduling (pid 0 is the calling thread, not the process), its tracer,
 * its fd table (close_range's UNSHARE) or its io_uring task context.
 * Options that read state, or change state of the whole process or memory
 * (dumpable, child subreaper, THP, MDWE, mm fields), are not.
 */
#ifndef SYSRING_TABLE_THREAD_H
#define SYSRING_TABLE_THREAD_H

#include <linux/keyctl.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>

#ifdef __KERNEL__
typedef u64 sr_targ_t;
#else
typedef long sr_targ_t;
#endif

/* Newer than some headers this is built against; the values are ABI. */
#ifndef PR_SET_SPECULATION_CTRL
#define PR_SET_SPECULATION_CTRL 53
#endif
#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif
#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif
#ifndef PR_SCHED_CORE
#define PR_SCHED_CORE 62
#define PR_SCHED_CORE_CREATE 1
#define PR_SCHED_CORE_SHARE_TO 2
#define PR_SCHED_CORE_SHARE_FROM 3
#define PR_SCHED_CORE_SCOPE_THREAD 0
#endif
#ifndef PR_SET_SHADOW_STACK_STATUS
#define PR_SET_SHADOW_STACK_STATUS 75
#endif
#ifndef PR_LOCK_SHADOW_STACK_STATUS
#define PR_LOCK_SHADOW_STACK_STATUS 76
#endif
/* From headers that clash with libc's (ptrace, perf, resource, ioprio) or
 * that older ones lack (close_range, io_uring's newer opcodes). */
#define SR_PTRACE_TRACEME 0L
#define SR_CLOSE_RANGE_UNSHARE (1U << 1)
#define SR_IORING_REGISTER_IOWQ_AFF 17
#define SR_IORING_UNREGISTER_IOWQ_AFF 18
#define SR_IORING_REGISTER_IOWQ_MAX_WORKERS 19
#define SR_IORING_REGISTER_RING_FDS 20
#define SR_IORING_UNREGISTER_RING_FDS 21
#define SR_IORING_REGISTER_USE_REGISTERED_RING (1U << 31)
#define SR_PRIO_PROCESS 0
#define SR_IOPRIO_WHO_PROCESS 1
#define SR_WNOTHREAD 0x20000000 /* __WNOTHREAD */
#define SR_PERF_FLAG_PID_CGROUP (1UL << 2)

/* prctl(int option, unsigned long arg2, ...) */
static inline int sr_thread_prctl(const sr_targ_t a[6])
{
	switch ((int)a[0]) {
	case PR_SET_PDEATHSIG:
	case PR_SET_KEEPCAPS:
	case PR_SET_NAME:
	case PR_SET_SECCOMP:
	case PR_CAPBSET_DROP:
	case PR_SET_TSC:
	case PR_SET_SECUREBITS:
	case PR_SET_TIMERSLACK:
	case PR_TASK_PERF_EVENTS_DISABLE:
	case PR_TASK_PERF_EVENTS_ENABLE:
	case PR_MCE_KILL:
	case PR_SET_NO_NEW_PRIVS:
	case PR_SET_SPECULATION_CTRL:
	case PR_SET_IO_FLUSHER:
	case PR_SET_SYSCALL_USER_DISPATCH:
	case PR_SET_SHADOW_STACK_STATUS:
	case PR_LOCK_SHADOW_STACK_STATUS:
		return 1;
	case PR_CAP_AMBIENT:
		/* arg2 is an unsigned long: compared whole, as the kernel does.
		 * IS_SET reads; unknown sub-operations are the kernel's EINVAL. */
		return (unsigned long)a[1] == PR_CAP_AMBIENT_RAISE ||
		       (unsigned long)a[1] == PR_CAP_AMBIENT_LOWER ||
		       (unsigned long)a[1] == PR_CAP_AMBIENT_CLEAR_ALL;
	case PR_SCHED_CORE:
		/* sched_core_share_pid(unsigned int cmd, pid_t pid, enum pid_type):
		 * SHARE_FROM always sets the caller's cookie; CREATE and SHARE_TO
		 * set it on the thread `pid` names, the caller when pid is 0. */
		if ((unsigned int)a[1] == PR_SCHED_CORE_SHARE_FROM)
			return 1;
		return ((unsigned int)a[1] == PR_SCHED_CORE_CREATE ||
			(unsigned int)a[1] == PR_SCHED_CORE_SHARE_TO) &&
		       (int)a[2] == 0 && (unsigned int)a[3] == PR_SCHED_CORE_SCOPE_THREAD;
	}
	return 0;
}

/* A key id naming a keyring held in the calling thread's credentials: its
 * thread keyring, and the process and session keyrings, which the kernel
 * also keeps in each thread's credentials (inherited at clone; installing
 * one commits new credentials for the calling thread only). */
static inline int sr_key_spec_cred(sr_targ_t id)
{
	switch ((int)id) {
	case KEY_SPEC_THREAD_KEYRING:
	case KEY_SPEC_PROCESS_KEYRING:
	case KEY_SPEC_SESSION_KEYRING:
		return 1;
	}
	return 0;
}

/* keyctl(int option, ...): the calls that replace a keyring or an authority
 * held in the calling thread's credentials, and the calls that look a
 * keyring id up with KEY_LOOKUP_CREATE, which installs a missing thread,
 * process or session keyring in the calling thread's credentials when the
 * id names one: GET_KEYRING_ID with create set, and the keyring (or key)
 * arguments of CHOWN, SETPERM, CLEAR, LINK, SEARCH's destination,
 * INSTANTIATE(_IOV)/NEGATE/REJECT's keyring, SET_TIMEOUT, GET_PERSISTENT's
 * destination and MOVE's target. Run elsewhere, the keyring would be made
 * in (and the key linked into) the executor's credentials, not the
 * caller's. Reads of an existing one (GET_KEYRING_ID without create,
 * DESCRIBE, READ, ...) still answer for whichever thread runs them. */
static inline int sr_thread_keyctl(const sr_targ_t a[6])
{
	switch ((int)a[0]) {
	case KEYCTL_JOIN_SESSION_KEYRING:
	case KEYCTL_SET_REQKEY_KEYRING:
	case KEYCTL_ASSUME_AUTHORITY:
		return 1;
	case KEYCTL_GET_KEYRING_ID:
		return sr_key_spec_cred(a[1]) && (int)a[2] != 0;
	case KEYCTL_CHOWN:
	case KEYCTL_SETPERM:
	case KEYCTL_CLEAR:
	case KEYCTL_SET_TIMEOUT:
		return sr_key_spec_cred(a[1]);
	case KEYCTL_LINK:
		return sr_key_spec_cred(a[1]) || sr_key_spec_cred(a[2]);
	case KEYCTL_SEARCH:
	case KEYCTL_INSTANTIATE:
	case KEYCTL_REJECT:
	case KEYCTL_INSTANTIATE_IOV:
		return sr_key_spec_cred(a[4]);
	case KEYCTL_NEGATE:
	case KEYCTL_MOVE:
		return sr_key_spec_cred(a[3]);
	case KEYCTL_GET_PERSISTENT:
		return sr_key_spec_cred(a[2]);
	}
	return 0;
}

/* add_key(type, description, payload, plen, keyring): the keyring is
 * looked up with KEY_LOOKUP_CREATE (see sr_thread_keyctl). */
static inline int sr_thread_add_key(const sr_targ_t a[6])
{
	return sr_key_spec_cred(a[4]);
}

/* request_key(type, description, callout_info, dest_keyring): likewise for
 * the destination keyring. */
static inline int sr_thread_request_key(const sr_targ_t a[6])
{
	return sr_key_spec_cred(a[3]);
}

/* seccomp(unsigned int op, unsigned int flags, void *args): strict mode and
 * a filter without TSYNC apply to the calling thread only; with TSYNC the
 * filter reaches every thread of the process, the caller included. */
static inline int sr_thread_seccomp(const sr_targ_t a[6])
{
	switch ((unsigned int)a[0]) {
	case SECCOMP_SET_MODE_STRICT:
		return 1;
	case SECCOMP_SET_MODE_FILTER:
		return !((unsigned int)a[1] & SECCOMP_FILTER_FLAG_TSYNC);
	}
	return 0;
}

/* ptrace(long request, ...): TRACEME makes the calling thread the tracee. */
static inline int sr_thread_ptrace(const sr_targ_t a[6])
{
	return (long)a[0] == SR_PTRACE_TRACEME;
}

/* sched_set*(pid_t pid, ...): pid 0 is the calling thread. */
static inline int sr_thread_pid0(const sr_targ_t a[6])
{
	return (int)a[0] == 0;
}

/* wait4(pid, status, options, rusage) and waitid(idtype, id, infop,
 * options, rusage): __WNOTHREAD waits only for children of the calling
 * thread -- an executor has none, and would say ECHILD. */
static inline int sr_thread_wait4(const sr_targ_t a[6])
{
	return ((unsigned long)a[2] & SR_WNOTHREAD) != 0;
}
static inline int sr_thread_waitid(const sr_targ_t a[6])
{
	return ((unsigned long)a[3] & SR_WNOTHREAD) != 0;
}

/* setpriority(int which, int who, int prio): PRIO_PROCESS with who 0 sets
 * the calling thread's nice value (Linux's "process" is the thread here). */
static inline int sr_thread_setpriority(const sr_targ_t a[6])
{
	return (int)a[0] == SR_PRIO_PROCESS && (int)a[1] == 0;
}

/* ioprio_set(int which, int who, int ioprio): as setpriority. */
static inline int sr_thread_ioprio_set(const sr_targ_t a[6])
{
	return (int)a[0] == SR_IOPRIO_WHO_PROCESS && (int)a[1] == 0;
}

/* perf_event_open(attr, pid_t pid, int cpu, int group_fd, unsigned long
 * flags): pid 0 attaches the event to the calling thread (with
 * PERF_FLAG_PID_CGROUP pid is a cgroup fd instead). */
static inline int sr_thread_perf_event_open(const sr_targ_t a[6])
{
	return (int)a[1] == 0 && !((unsigned long)a[4] & SR_PERF_FLAG_PID_CGROUP);
}

/* close_range(unsigned int fd, unsigned int max_fd, unsigned int flags):
 * CLOSE_RANGE_UNSHARE first gives the calling thread a private fd table
 * (unshare(CLONE_FILES), which the table refuses outright): run elsewhere,
 * the executor would go on with a table of its own. */
static inline int sr_thread_close_range(const sr_targ_t a[6])
{
	return ((unsigned int)a[2] & SR_CLOSE_RANGE_UNSHARE) != 0;
}

/* io_uring_register(unsigned int fd, unsigned int opcode, ...): the io-wq
 * affinity and worker limits, and the registered ring fds, belong to the
 * calling thread's io_uring task context, not to the ring. */
static inline int sr_thread_io_uring_register(const sr_targ_t a[6])
{
	switch ((unsigned int)a[1] & ~SR_IORING_REGISTER_USE_REGISTERED_RING) {
	case SR_IORING_REGISTER_IOWQ_AFF:
	case SR_IORING_UNREGISTER_IOWQ_AFF:
	case SR_IORING_REGISTER_IOWQ_MAX_WORKERS:
	case SR_IORING_REGISTER_RING_FDS:
	case SR_IORING_UNREGISTER_RING_FDS:
		return 1;
	}
	return 0;
}

#endif

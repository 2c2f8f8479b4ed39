/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * sysring — the interface between the library (user space) and the sysring.ko
 * module (/dev/sysring). Both sides compile this header: the module against
 * the kernel's <linux/types.h>, the library against the UAPI copy of it.
 *
 * Compatibility rules, so that either side detects a mismatch instead of
 * misreading memory:
 *   - Every structure has fixed-width fields, explicit padding, and a size
 *     that is a multiple of 8 (the same layout on every ABI).
 *   - Every ioctl argument starts with `__u32 size`, which the caller sets to
 *     sizeof() of the structure it was built with. The module accepts a
 *     smaller (older) structure as long as it holds the first version's
 *     fields, and a larger (newer) one only if the bytes it does not know
 *     are zero (copy_struct_from_user; otherwise -E2BIG).
 *   - Reserved fields and unknown flag bits must be zero (-EINVAL), so that a
 *     later version can give them a meaning.
 *   - SYSRING_IOC_INFO reports SYSRING_UAPI_VERSION; the library uses the
 *     module only when the version is the one it was built with.
 *   - The module dispatches on the ioctl's type and number; the size bits of
 *     the command word are not used (the `size` field carries that
 *     information), so a newer structure keeps the same command.
 *
 * Results are raw kernel convention everywhere: a call's return value, or
 * -errno. Calls refused by the module (see "Refused calls" below) give
 * -EPERM; numbers with no call give -ENOSYS.
 *
 * Memory ordering of the shared ring (SETUP/WORKER/WAIT) is at the ring's
 * definition below.
 */
#ifndef SYSRING_UAPI_H
#define SYSRING_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define SYSRING_UAPI_VERSION 1
#define SYSRING_DEVICE_PATH "/dev/sysring"

/* Features reported by SYSRING_IOC_INFO. */
#define SYSRING_FEAT_BATCH (1u << 0)
#define SYSRING_FEAT_SYSLET (1u << 1)
#define SYSRING_FEAT_RING (1u << 2)
/* Policy: processes under a seccomp filter (or strict mode) are refused. */
#define SYSRING_FEAT_SECCOMP_REFUSED (1u << 3)
#define SYSRING_FEAT_CANCEL (1u << 4)
#define SYSRING_FEAT_SYSLET_CACHED (1u << 5)
/* SYSRING_IOC_WORKER_IDLE, and sq_idle in the ring header. */
#define SYSRING_FEAT_WORKER_IDLE (1u << 6)

/* Bounds the module enforces (-EINVAL beyond them). */
#define SYSRING_MAX_BATCH 4096u
#define SYSRING_SYSLET_DEFAULT_ATOMS (1ull << 20)
#define SYSRING_SYSLET_MAX_ATOMS (1ull << 40)
#define SYSRING_RING_MAX_ENTRIES 4096u
#define SYSRING_RING_MAX_SPIN_US 100000u

/* ---- SYSRING_IOC_INFO: version and sizes -------------------------------- */

struct sysring_info {
	__u32 size;             /* in: sizeof(struct sysring_info) */
	__u32 version;          /* out: SYSRING_UAPI_VERSION */
	__u32 features;         /* out: SYSRING_FEAT_* */
	__u32 nr_syscalls;      /* out: numbers at or above give -ENOSYS */
	__u32 max_batch;        /* out: SYSRING_MAX_BATCH */
	__u32 max_ring_entries; /* out: SYSRING_RING_MAX_ENTRIES */
	__u32 call_size;        /* out: sizeof(struct sysring_call) */
	__u32 atom_size;        /* out: sizeof(struct syslet_uatom) */
	__u32 sqe_size;         /* out: sizeof(struct sysring_sqe) */
	__u32 cqe_size;         /* out: sizeof(struct sysring_cqe) */
	__u64 syslet_max_atoms; /* out: SYSRING_SYSLET_MAX_ATOMS */
	__u64 resv[4];          /* out: zero */
};

/* ---- SYSRING_IOC_BATCH: N calls in one crossing ------------------------- */

/* One call of a batch. The module reads nr, flags and args, runs the call,
 * and writes result (raw: value or -errno). */
struct sysring_call {
	__u32 nr;
	__u32 flags; /* must be 0: a call with other flags gets -EINVAL */
	__u64 args[6];
	__s64 result; /* out */
};

/* Stop after the first call whose result is negative (it is counted). */
#define SYSRING_BATCH_STOP_ON_ERROR (1u << 0)
#define SYSRING_BATCH_FLAGS_ALL (SYSRING_BATCH_STOP_ON_ERROR)

/*
 * Runs calls[0..count) in order on the calling thread. Returns how many ran
 * (count unless stopped: STOP_ON_ERROR, or a fatal signal), and writes the
 * same number to `ran`. -EINVAL: bad size/flags/resv or count above
 * SYSRING_MAX_BATCH; -EFAULT: the array could not be read, or a result not
 * written back (calls before it ran; `ran` says how many, if writable).
 */
struct sysring_batch {
	__u32 size;  /* in: sizeof(struct sysring_batch) */
	__u32 flags; /* in: SYSRING_BATCH_* */
	__u64 calls; /* in: user address of struct sysring_call[count] */
	__u32 count; /* in */
	__u32 ran;   /* out */
	__u64 resv[2];
};

/* ---- SYSRING_IOC_SYSLET: a syslet in one crossing ------------------------ */

/*
 * Runs the syslet whose first atom (struct syslet_uatom, <sysring/syslet.h>)
 * is at user address `atom`, on the calling thread, with the semantics of
 * the library's interpreter (src/core/interp.h): arguments read through
 * arg_ptr up to the first NULL, the result stored through ret_ptr, stop
 * conditions, SKIP_TO_NEXT_ON_STOP continuing at atom + 1, `next` chains and
 * loops, the __NR_umem_add pseudo-call. SYSLET_ASYNC/SYNC/NO_COMPLETE have
 * no effect here: every atom runs synchronously on the caller.
 *
 * Returns:
 *   0                      the syslet ended; `done` is the atom that ended it
 *                          and `res` its result; `next` is 0.
 *   SYSRING_SYSLET_PAUSED  max_atoms atoms ran; `next` is the atom to resume at.
 *   -EINTR                 a signal is pending (a fatal one, or one for the
 *                          caller to handle); `next` is the atom to resume at.
 *                          Task work alone (TIF_NOTIFY_SIGNAL, as io_uring's
 *                          completions queue) is no signal: it runs, and a
 *                          call it interrupted is restarted, as the plain
 *                          call is (BATCH and ring workers alike).
 *   -EFAULT                an atom could not be read (`next` is its address)
 *                          or its result not stored (`done` is that atom).
 *   -EINVAL                bad size/flags/resv, atom 0, max_atoms too large.
 * `count` is the number of atoms that ran in this call.
 * An argument pointer that cannot be read makes that atom's result -EFAULT
 * (the call is not made) and the stop conditions apply, as for a call given
 * a bad buffer.
 *
 * With SYSRING_SYSLET_CACHED in `flags` (SYSRING_FEAT_SYSLET_CACHED; the
 * struct must then be the full size, with `scratch`), this is the syslet
 * design's "cached" execution: an atom runs only if it completes without
 * blocking -- a call of the table's never-blocks class, an unknown or
 * refused call (its errno), umem_add, or an honest non-blocking attempt
 * that succeeds,
 * the same column the library's inline engine uses (src/table/nowait.def:
 * the read/write family as preadv2/pwritev2 with RWF_NOWAIT, the send/recv
 * family with MSG_DONTWAIT, the open family as openat2 with RESOLVE_CACHED).
 * At the first atom that would block, or one flagged SYSLET_ASYNC or
 * SYSLET_SYNC (the caller runs a SYNC atom itself, where a signal with
 * SA_RESTART restarts the call instead of ending it with EINTR), the ioctl
 * returns SYSRING_SYSLET_WOULDBLOCK with `next` that atom: its attempt
 * (if any) transferred nothing, so the caller runs it elsewhere, once.
 * `scratch` is user memory the module writes an iovec or a struct open_how
 * into for those attempts; its contents on return mean nothing.
 */
#define SYSRING_SYSLET_PAUSED 1
#define SYSRING_SYSLET_WOULDBLOCK 2

#define SYSRING_SYSLET_CACHED (1u << 0)
#define SYSRING_SYSLET_FLAGS_ALL SYSRING_SYSLET_CACHED

struct sysring_syslet {
	__u32 size;      /* in: sizeof(struct sysring_syslet) (72: without scratch) */
	__u32 flags;     /* in: SYSRING_SYSLET_CACHED or 0 */
	__u64 atom;      /* in: first atom */
	__u64 max_atoms; /* in: 0 = SYSRING_SYSLET_DEFAULT_ATOMS */
	__u64 done;      /* out: the atom that ran last */
	__u64 next;      /* out: where to resume, 0 when the syslet ended */
	__u64 count;     /* out: atoms that ran */
	__s64 res;       /* out: result of the atom that ran last */
	__u64 resv[2];   /* in: zero */
	__u64 scratch[4]; /* the module's scratch (CACHED), see above */
};

/* ---- the shared ring: SETUP / mmap / WORKER / WAIT / WAKE / DESTROY ------ */

/*
 * One ring per open file of /dev/sysring. SETUP allocates it in the module;
 * the process maps it with mmap(NULL, mmap_size, PROT_READ|PROT_WRITE,
 * MAP_SHARED, fd, 0). Threads of that process enter SYSRING_IOC_WORKER and
 * execute submission entries in their own context (their files, memory and
 * credentials) until DESTROY, a signal, or a fatal signal.
 *
 * Credentials: an entry runs with the credentials of the worker thread that
 * takes it, whoever wrote it. Credentials are per thread: glibc's set*id
 * functions change every thread of the process (they signal each one with
 * SIGSETXID, which interrupts WORKER; the worker changes its own and WORKER
 * restarts), so entries taken after them run with the new ones; a raw
 * set*id system call changes only the thread that makes it, and a worker
 * keeps serving with what it had. Only the threads of the process that set
 * the ring up serve it, each with its own credentials: WORKER from another
 * process gets -EPERM, also one that shares the memory (CLONE_VM without
 * CLONE_THREAD, a vfork child), which would run the entries' process-wide
 * calls (getpid, kill, its files) on itself. Such a task can still map the
 * ring and write entries (it shares the memory); the process's own workers
 * run them.
 *
 * Rings per process are bounded (the module parameter max_rings, default
 * 128): every ring of the process counts from SETUP until it is freed,
 * including rings kept alive only by a mapping after their file was closed,
 * and destroyed ones still mapped. SETUP beyond answers -EMFILE.
 *
 * Thread-scoped calls (the TS class, see "Refused calls" below) change the
 * thread that runs them, so a worker refuses them (-EPERM): run there they
 * would change the worker, not the thread that wrote the entry.
 *
 * Seccomp: filters are per thread, a ring is per process. Once any task
 * sharing the memory has a seccomp filter (or tries to install one), the
 * ring refuses every entry (-EPERM, never run), whoever wrote it, and sets
 * SYSRING_SQ_SECCOMP in sq_flags; that never goes away. A thread with a
 * filter is refused SETUP, WORKER, mmap, BATCH and SYSLET itself (-EPERM);
 * WAIT, WAKE, CANCEL and DESTROY run no call and stay available to it.
 *
 * Kernel memory per ring is bounded whatever the process does: the ring's
 * own pages, and completions kept while the completion ring is full (at
 * most one per worker thread, allocated, charged to the process's memory
 * cgroup and allowed to fail before the worker takes the entry: WORKER
 * then returns -ENOMEM having taken nothing).
 *
 * Submission (user produces, module consumes):
 *   user:   write sqes[tail & sq_mask]; store-release sq_tail = tail + 1;
 *           full fence; if (sq_flags & SYSRING_SQ_NEED_WAKEUP) ioctl(WAKE).
 *   module: load-acquire sq_tail (pairs with the user's store-release),
 *           copy the entry, store-release sq_head (the user may reuse the
 *           slot after its load-acquire of sq_head).
 *   A worker about to sleep sets NEED_WAKEUP, issues a full barrier and looks
 *   at sq_tail once more (pairs with the user's fence between its sq_tail
 *   store and its sq_flags load): either the worker sees the entry or the
 *   user sees the flag. NEED_WAKEUP stays set while any worker sleeps, and
 *   sq_idle counts the sleepers (SYSRING_FEAT_WORKER_IDLE), both changed
 *   under one lock: a user that finds more entries queued than sleepers
 *   knows that the rest wait for a worker to finish its call.
 *   A worker leaving WORKER_IDLE at its idle limit does the opposite: it
 *   stops counting itself, issues a full barrier and looks at sq_tail: an
 *   entry the user queued while it still counted is taken, not left.
 * Completion (module produces, user consumes):
 *   module: write cqes[tail & cq_mask]; store-release cq_tail.
 *   user:   load-acquire cq_tail, read the entries, store-release cq_head
 *           (the module load-acquires cq_head before reusing a slot).
 * A completion that finds the completion ring full is kept in the module, in
 * order, and a worker holding one takes no new entry until it is in the ring
 * (WAIT and every worker pass move it in): nothing is lost, but the process
 * should keep at most cq_entries calls in flight for the ring to flow.
 * A call that a signal interrupts on a worker completes with -EINTR: it is
 * not restarted, even where SA_RESTART would restart it on a plain thread.
 * One interrupted by task work alone (no signal) is restarted.
 * Counters are free-running __u32, compared by difference.
 * The module keeps its own copies of head/tail/sizes: what the user writes
 * into fields it does not own is ignored, except that an sq_tail more than
 * sq_entries ahead of sq_head marks the ring broken (-EINVAL everywhere).
 */

struct sysring_sqe {
	__u64 user_data;
	__u32 nr;
	__u32 flags; /* must be 0 (else the call completes with -EINVAL) */
	__u64 args[6];
};

struct sysring_cqe {
	__u64 user_data;
	__s64 res;
};

#define SYSRING_SQ_NEED_WAKEUP (1u << 0)
/* A task sharing the process's memory runs under seccomp: the ring refuses
 * every entry (-EPERM, never run) from then on. */
#define SYSRING_SQ_SECCOMP (1u << 1)

/* At offset 0 of the mapping; each producer/consumer field on its own
 * 64-byte line. */
struct sysring_ring_hdr {
	__u32 sq_tail; /* user writes */
	__u32 pad0[15];
	__u32 sq_head;  /* module writes */
	__u32 sq_flags; /* module writes: SYSRING_SQ_* */
	__u32 sq_idle;  /* module writes: workers asleep waiting for entries */
	__u32 pad1[13];
	__u32 cq_tail; /* module writes */
	__u32 pad2[15];
	__u32 cq_head; /* user writes */
	__u32 pad3[15];
	/* module writes, informational */
	__u64 st_calls;   /* entries executed */
	__u64 st_sleeps;  /* times a worker went to sleep */
	__u64 st_wakeups; /* WAKE ioctls that found a sleeping worker */
	__u64 st_resv[5];
};

struct sysring_ring_setup {
	__u32 size;       /* in: sizeof(struct sysring_ring_setup) */
	__u32 flags;      /* in: must be 0 */
	__u32 sq_entries; /* in: 1..SYSRING_RING_MAX_ENTRIES, rounded up to a power of 2; out */
	__u32 cq_entries; /* in: 0 = 2 * sq_entries, else >= sq_entries; rounded up; out */
	__u32 spin_us;    /* in: an idle worker polls this long before sleeping */
	__u32 pad;
	__u64 mmap_size; /* out: length to map at offset 0 */
	__u64 sqes_off;  /* out: offset of struct sysring_sqe[sq_entries] */
	__u64 cqes_off;  /* out: offset of struct sysring_cqe[cq_entries] */
	__u64 resv[4];
};

/*
 * WAIT: sleep until at least min_complete completions are ready, the
 * timeout expires or a signal arrives. Returns the number ready (>=
 * min_complete; after DESTROY, whatever is there), -ETIME, -EINTR.
 */
struct sysring_ring_wait {
	__u32 size;         /* in: sizeof(struct sysring_ring_wait) */
	__u32 min_complete; /* in: at most cq_entries */
	__s64 timeout_ns;   /* in: relative; < 0 forever, 0 do not sleep */
	__u32 flags;        /* in: must be 0 */
	__u32 pad;
	__u64 resv[2];
};

/* WAKE's argument (by value): wake every sleeping worker, not just one. */
#define SYSRING_WAKE_ALL (1u << 0)

/*
 * CANCEL: the entries with this user_data. One still in the submission ring
 * completes with -ECANCELED without running; one running on a worker is
 * interrupted as a signal would interrupt it (no signal is sent: the worker
 * stays in the module), and completes with -ECANCELED if the call was
 * interrupted, or with its own result if it finished first. That holds for
 * calls that run task work themselves while they wait (io_uring_enter,
 * io_uring_register): they see a pending signal, as on a real one. A call
 * that a signal would not interrupt either (an uninterruptible or killable
 * wait: disk I/O, fsync, a FUSE request the daemon does not answer) ends
 * when it ends, with its own result. Returns how many entries were found
 * (>= 1), or -ENOENT.
 *
 * A call interrupted on a worker (by CANCEL, DESTROY or a signal) leaves
 * the worker as it was: ppoll, pselect6, epoll_pwait, epoll_pwait2 and
 * io_pgetevents with a signal mask get the worker's own mask back.
 */
#define SYSRING_CANCEL_ALL (1u << 0) /* every match, not just the first */

struct sysring_ring_cancel {
	__u32 size;  /* in: sizeof(struct sysring_ring_cancel) */
	__u32 flags; /* in: SYSRING_CANCEL_* */
	__u64 user_data;
	__u64 resv[2];
};

/* ---- ioctl numbers --------------------------------------------------------- */

#define SYSRING_IOC_MAGIC 0xB5
#define SYSRING_IOC_INFO _IOWR(SYSRING_IOC_MAGIC, 0x00, struct sysring_info)
#define SYSRING_IOC_BATCH _IOWR(SYSRING_IOC_MAGIC, 0x01, struct sysring_batch)
#define SYSRING_IOC_SYSLET _IOWR(SYSRING_IOC_MAGIC, 0x02, struct sysring_syslet)
#define SYSRING_IOC_SETUP _IOWR(SYSRING_IOC_MAGIC, 0x03, struct sysring_ring_setup)
/* WORKER: no argument (ignored). 0 after DESTROY; on a signal -EINTR (or
 * restarted, for an SA_RESTART handler); -EINVAL once the ring is broken;
 * -ENOMEM when it could not reserve room for a completion (nothing taken:
 * enter again). A call that drops the last reference to a file (close,
 * dup2, close_range, ...) has its whole effect -- the kernel's deferred
 * final fput, which a plain call runs on its way back to user space -- by
 * the time its completion is posted. */
#define SYSRING_IOC_WORKER _IO(SYSRING_IOC_MAGIC, 0x04)
/*
 * WORKER_IDLE (SYSRING_FEAT_WORKER_IDLE): WORKER that also returns -ETIME
 * once the thread has slept idle_ns with no entry to take (an entry queued
 * meanwhile is taken instead), so that a pool grown for a burst of blocking
 * calls can shrink again. idle_ns 0: never (WORKER itself). -EINVAL: flags
 * or resv not zero. Otherwise as WORKER.
 */
struct sysring_worker {
	__u32 size;    /* in: sizeof(struct sysring_worker) */
	__u32 flags;   /* in: must be 0 */
	__u64 idle_ns; /* in: leave after sleeping this long; 0: never */
	__u64 resv[2]; /* in: zero */
};
#define SYSRING_IOC_WORKER_IDLE _IOW(SYSRING_IOC_MAGIC, 0x09, struct sysring_worker)
#define SYSRING_IOC_WAIT _IOWR(SYSRING_IOC_MAGIC, 0x05, struct sysring_ring_wait)
/* WAKE: argument SYSRING_WAKE_* by value (pass 0, not nothing); returns 0. */
#define SYSRING_IOC_WAKE _IO(SYSRING_IOC_MAGIC, 0x06)
/* DESTROY: no argument (ignored). Calls running on workers are interrupted
 * (as CANCEL does), entries still queued complete with -ECANCELED (so every
 * entry submitted before DESTROY has exactly one completion; later ones are
 * ignored), workers return 0, waiters wake. It acts once: later DESTROYs
 * return 0 and do nothing, whatever sq_tail says. Cancelled entries reach
 * the completion ring as room appears there (WAIT moves them in). The
 * memory stays mapped until munmap and close; a file holds at most one ring
 * in its life. */
#define SYSRING_IOC_DESTROY _IO(SYSRING_IOC_MAGIC, 0x07)
#define SYSRING_IOC_CANCEL _IOWR(SYSRING_IOC_MAGIC, 0x08, struct sysring_ring_cancel)

/*
 * Refused calls (-EPERM, never executed): the RF class of the library's
 * table (src/table/syscalls.def): exit, exit_group, fork, vfork, clone,
 * clone3, execve, execveat, rt_sigreturn, restart_syscall, set_tid_address,
 * set_robust_list, rseq, arch_prctl, rt_sigprocmask, sigaltstack,
 * rt_sigsuspend, unshare, setns and uretprobe.
 *
 * Thread-scoped calls, the TS class of the same table (with the argument
 * classifiers of src/table/thread.def): calls that change the calling
 * thread only -- the raw set*id calls and capset, personality, iopl, ioperm,
 * set_mempolicy, landlock_restrict_self, lsm_set_self_attr, and for some
 * argument values prctl (PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP,
 * PR_SET_SECUREBITS, PR_SET_SECCOMP, PR_SET_NAME, ...), seccomp (strict
 * mode, a filter without TSYNC), keyctl (JOIN_SESSION_KEYRING, ...),
 * ptrace(PTRACE_TRACEME), sched_set*(0, ...), setpriority and ioprio_set on
 * "process" 0, perf_event_open(pid 0), close_range(CLOSE_RANGE_UNSHARE),
 * io_uring_register's io-wq and registered-ring-fd opcodes. BATCH and SYSLET run them on the
 * calling thread, as the plain call would; a ring worker and a CACHED
 * SYSLET (which stands for an asynchronous one) refuse them with -EPERM.
 *
 * Calls through the module bypass seccomp, syscall audit, ptrace syscall
 * tracing and syscall user dispatch, so the module refuses every thread
 * under seccomp the ioctls that run calls (each call is checked, so a filter
 * installed by a call in a batch stops the rest) and every ring entry of a
 * process where a task has a filter (above). An ioctl on /dev/sysring made by a call that the module
 * itself is running gets -EDEADLK (no nesting).
 *
 * Signal masks: a call interrupted inside BATCH or SYSLET that installed a
 * temporary mask (ppoll, pselect6, epoll_pwait, epoll_pwait2, io_pgetevents)
 * gets the thread's own mask back before the next call runs; the signal
 * that interrupted it is then delivered when the thread's own mask allows
 * (as the plain call would, only if the ioctl returns right after it).
 */

#endif

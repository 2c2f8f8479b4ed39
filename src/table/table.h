/* SPDX-License-Identifier: MIT */
/*
 * The per-system-call table: one row per x86-64 call number, built from the
 * X-macro list in syscalls.def. It is the only place that knows anything
 * about individual calls; engines and faces ask it, they never switch on a
 * call number themselves.
 */
#ifndef SYSRING_TABLE_H
#define SYSRING_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* Numbers below this bound can have a row; x86-64 ends near 470. */
#define SR_NR_MAX 512

enum sr_class {
	SR_NB = 1, /* never blocks: fine to run on the caller */
	SR_MB = 2, /* may block: belongs on an executor */
	SR_RF = 3, /* refused everywhere: never executed */
	SR_TS = 4, /* thread-scoped: runs on the submitting thread only, refused
		    * (-EPERM) anywhere else; for rows with a classifier only
		    * for some argument values (sr_class) */
};

union sr_aux;
struct io_uring_sqe;

/* Transfers (struct sr_uring_op.xfer): io_uring's handling of the file
 * position differs from the plain call's when the buffer runs into an
 * inaccessible page (short count, position not advanced) and for O_DIRECT
 * (position not advanced at all), so transfers at the file position are
 * checked before they go to io_uring (exec.c, sr_uring_suits). */
#define SR_XFER_IN_BUF 1  /* a read into (a[1], a[2]) */
#define SR_XFER_OUT_BUF 2 /* a write from (a[1], a[2]) */
#define SR_XFER_IN_IOV 3  /* a read into the iovecs (a[1], a[2]) */
#define SR_XFER_OUT_IOV 4 /* a write from them */

/*
 * The io_uring column: how to express the call as an SQE. `prep` fills the
 * SQE from the call's arguments (0), or says it cannot be expressed with
 * these arguments (-EOPNOTSUPP: the call goes to another engine); `done`, if
 * set, turns the CQE result into what the plain call returns and writes back
 * what the plain call would have written (a struct stat from a statx, an
 * updated offset). `aux` is per-request scratch that lives until `done`.
 */
struct sr_uring_op {
	uint8_t opcode; /* used only where the running kernel's probe has it */
	uint8_t punts;  /* io_uring always hands it to its io-wq threads (no
			 * non-blocking issue); "auto" prefers sysring's own
			 * threads for these, measured faster (docs/engines.md) */
	uint8_t rest;   /* a partial result on a pipe or socket is not the
			 * plain call's (write(2) on a blocking one writes it
			 * all): the engine resubmits the rest; args 1 and 2
			 * are the buffer and its length */
	uint8_t vrest;  /* the same for a vectored write, which cannot be
			 * resubmitted: on a pipe or socket it runs on the
			 * threads */
	uint8_t nbfds;  /* bit i: a[i] is an fd whose O_NONBLOCK the plain
			 * call honours on a pipe or socket (EAGAIN,
			 * EINPROGRESS) and io_uring does not (it waits for
			 * readiness): such calls run on the threads */
	uint8_t xfer;   /* SR_XFER_*: a transfer through a[1], a[2] */
	uint8_t fdtab;  /* opens or closes an fd: what fd numbers name changes */
	uint8_t waits;  /* waits for an event whatever its fds are (epoll
			 * readiness, a futex, a child): plainly a signal
			 * interrupts the wait on the caller, in io_uring
			 * nothing the caller receives does */
	uint8_t pos_arg; /* its offset argument (-1: the file position); 0:
			  * none, it always uses the file position */
	int (*prep)(struct io_uring_sqe *sqe, const long a[6], union sr_aux *aux);
	long (*done)(long res, const long a[6], union sr_aux *aux);
};

/*
 * Called by every submitter of io_uring preps (uring.c, batchsys.c) before
 * the preps of one submission: what they learn about fds (a position, a
 * socket's timeout) is reused by the preps of that submission only
 * (uring_ops.c), never kept for a later one.
 */
void sr_uring_kinds_begin(void);

/*
 * The non-blocking column: an honest attempt (RWF_NOWAIT, MSG_DONTWAIT,
 * RESOLVE_CACHED) that either completes the call, returning 1 with *res set
 * (a result or a final error), or does nothing and returns 0 (it would
 * block), so the call can go to an engine that may block.
 */
typedef int sr_nowait_fn(const long a[6], long *res);
/* An attempt's third answer: it moved *res bytes of a write or send on a
 * blocking stream and the rest may wait without bound; an executor calls
 * the same function with *res holding that count (the finish mode) to
 * move the rest and get the total (engine/inline.c). Attempts are entered
 * with *res == 0. */
#define SR_NW_PARTIAL 2

/*
 * The thread-scoped column (thread.def, classifiers in thread.h, shared with
 * the module): for a TS row whose effect is on the calling thread for some
 * argument values only, 1 when these values are such, else 0.
 */
typedef int sr_thread_fn(const long a[6]);

struct sr_sysent {
	const char *name; /* NULL: no such call */
	uint8_t nargs;
	uint8_t cls;
	uint8_t vec_pos;  /* vectored column (vector.def): positioned */
	uint8_t vec_read; /* ... and a read */
	uint16_t vec_nr;  /* ... the vectored call, 0: none */
	uint8_t other;    /* TS with a classifier: the class of the other values */
	uint8_t sigs;      /* signal column (signal.def): SR_SIG_* */
	uint8_t sig_flags; /* ... the argument holding MSG_NOSIGNAL (0: none) */
	const struct sr_uring_op *uring; /* NULL: io_uring cannot run it */
	sr_nowait_fn *nowait;            /* NULL: no honest non-blocking attempt */
	sr_thread_fn *thread;            /* TS rows: NULL, every argument value */
};

/* The signal column (signal.def): signals the call sends the thread that
 * makes it, besides its errno. */
#define SR_SIG_PIPE 1        /* SIGPIPE with -EPIPE */
#define SR_SIG_XFSZ 2        /* SIGXFSZ with -EFBIG */
#define SR_SIG_URING_QUIET 4 /* io_uring's op adds MSG_NOSIGNAL: raises nothing */

extern const struct sr_sysent sr_systab[SR_NR_MAX];

/* The row of call `nr`, or NULL for a number no call has (-ENOSYS). */
static inline const struct sr_sysent *sr_sysent(unsigned long nr)
{
	if (nr >= SR_NR_MAX || !sr_systab[nr].name)
		return NULL;
	return &sr_systab[nr];
}

/*
 * The class of call e with these argument values: its row's class, except
 * that a TS row with a classifier is TS only for the values it names and
 * has its `other` class for the rest. Cold: only TS rows need it.
 */
static inline unsigned int sr_class(const struct sr_sysent *e, const long a[6])
{
	if (e->cls != SR_TS || !e->thread || e->thread(a))
		return e->cls;
	return e->other;
}

/* Call numbers by name, for the columns and for code that must name a call
 * the build machine's headers may not know (SR_NR_futex_wait). */
enum sr_nr {
#define SR_SYSCALL(nr, nm, na, cl) SR_NR_##nm = (nr),
#include "syscalls.def"
#undef SR_SYSCALL
};

/* Self-check of the table's rows at start-up; 0 or -EINVAL. */
int sr_table_check(void);

#endif

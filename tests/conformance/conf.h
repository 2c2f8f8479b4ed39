/* SPDX-License-Identifier: MIT */
/*
 * The differential conformance suite: declarations shared by the harness
 * (conformance.c), the situations (kinds.c) and the table of rows (rows.c).
 *
 * A row is a situation -- a setup (one kind of fd or file-system state) and
 * up to four calls with symbolic arguments -- run once as plain system calls
 * (the reference) and then through every face; after each run the harness
 * observes everything the calls could have changed and compares it with
 * the reference. See conformance.c for the faces and what is compared.
 */
#ifndef SYSRING_CONF_H
#define SYSRING_CONF_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* ---- setups (kinds.c) ---- */

enum kind {
	K_NONE,     /* no fd: calls on the run directory or none at all */
	K_TREE,     /* run dir with f (8 KiB), d/, l -> f; fd: O_RDONLY dir of the run dir */
	K_REG,      /* regular file f, 8 KiB of pattern, O_RDWR, position 0 */
	K_REG_MID,  /* the same at position 100 */
	K_REG_END,  /* the same at its end */
	K_REG_RO,   /* O_RDONLY */
	K_REG_WO,   /* O_WRONLY */
	K_APPEND,   /* O_RDWR | O_APPEND */
	K_DIRECT,   /* O_RDWR | O_DIRECT (skipped where the file system refuses) */
	K_EMPTYF,   /* empty file, O_RDWR */
	K_PFILE,    /* a file made once for the whole run (stat rows compare every field) */
	K_PDIR,     /* a directory made once, with entries a, b, c */
	K_PIPE_R,   /* pipe, fd: read end (10 bytes waiting), fd2: write end */
	K_PIPE_R_NB,
	K_PIPE_E,   /* empty pipe, blocking read end: a read waits (release: 5 bytes) */
	K_PIPE_E_NB,
	K_PIPE_W,   /* fd: write end, fd2: read end */
	K_PIPE_W_NB_FULL,
	K_PIPE_W_FULL, /* blocking write end of a full pipe: a write waits (release: drain) */
	K_PIPE_W_NOREADER,
	K_FIFO,     /* FIFO opened O_RDWR with 10 bytes waiting; path: the FIFO */
	K_SP_STREAM,   /* unix stream socketpair, 10 bytes waiting on fd */
	K_SP_STREAM_E, /* empty, blocking: a receive waits (release: 5 bytes) */
	K_SP_STREAM_E_NB,
	K_SP_DGRAM,    /* unix datagram socketpair, 2 datagrams waiting */
	K_SP_SEQ,      /* unix seqpacket socketpair, 1 record waiting */
	K_UNIX_DG_NAMED, /* unix datagram, fd bound to "sr", fd2 to "ss", one datagram waiting */
	K_TCP,         /* TCP loopback pair: fd client, fd2 server side, 10 bytes waiting on fd */
	K_TCP_E,       /* empty, blocking: a receive waits */
	K_TCP_E_NB,
	K_UDP,         /* fd bound UDP socket with a datagram waiting, fd2 connected to it */
	K_LISTEN,      /* TCP listener (blocking) with one connection waiting */
	K_LISTEN_E,    /* blocking listener, none waiting: accept waits (release: connect) */
	K_LISTEN_NB,   /* O_NONBLOCK listener, none waiting */
	K_ULISTEN,     /* unix stream listener with one unbound client waiting */
	K_TCP_SOCK,    /* unconnected TCP socket, fd2 a listener (addr) */
	K_TCP_SOCK_NB, /* the same, O_NONBLOCK */
	K_TCP_SOCK_NB_FULL, /* O_NONBLOCK socket, the listener's backlog full */
	K_EVENTFD,     /* eventfd counter 3 */
	K_EVENTFD_0,   /* counter 0, blocking: a read waits (release: write 1) */
	K_EVENTFD_NB0, /* counter 0, O_NONBLOCK */
	K_TIMERFD_NB,  /* O_NONBLOCK timerfd armed for an hour */
	K_TIMERFD_EXP, /* expired once */
	K_SIGNALFD_NB, /* O_NONBLOCK signalfd of SIGUSR1, nothing pending */
	K_SIGNALFD_PROC, /* ... SIGUSR1 pending for the process */
	K_SIGNALFD_THR,  /* ... SIGUSR1 pending for the calling thread only */
	K_INOTIFY_NB,  /* O_NONBLOCK inotify on the run dir, no event */
	K_INOTIFY_EV,  /* one event waiting */
	K_INOTIFY_E,   /* blocking, no event: a read waits (release: create a file) */
	K_PTY_NB,      /* O_NONBLOCK pty master, nothing to read */
	K_PTY_DATA,    /* pty master with "hi\n" written on the slave */
	K_DEVNULL,
	K_DEVZERO,
	K_PROC,        /* /proc/sys/kernel/ostype */
	K_PROC_COMM,   /* /proc/self/comm, O_RDWR */
	K_SYSFS,       /* a sysfs attribute */
	K_DIR,         /* the run dir, O_RDONLY | O_DIRECTORY */
	K_CLOSED,      /* fd: a number just closed */
	K_NEG,         /* fd: -1 */
	K_BIGFD,       /* fd: 1000000 */
	K_EPOLL,       /* epoll fd watching a pipe (fd2) with data */
	K_EPOLL_E,     /* ... an empty pipe: epoll_wait(-1) waits (release: write) */
	K_CHILD,       /* a child that has exited (pid in the run's state) */
	K_CHILD_RUN,   /* a running child: waitid waits (release: let it exit) */
	K_FUTEX,       /* a futex word (aux) holding 0: FUTEX_WAIT 0 waits (release: wake) */
	K_XATTR,       /* file f with user.sr = "value" */
	K_FILEPIPE,    /* fd: file f (8 KiB), fd2: pipe read end (10 bytes waiting), fdx: its write end */
	K_TWOPIPES,    /* fd: pipe 1 read end (10 bytes), fd2: pipe 2 read end, fdx: pipe 2 write end */
	K_USOCK,       /* unbound unix datagram socket; addr: run/"bnd" (free) */
	K_CREDS,       /* a root-only file "secret" (0600) in a world-writable run dir, and the
			* calls made with effective uid 65534 (seteuid; needs root) */
	K_REG_FSIZE,   /* K_REG at position 4000 under RLIMIT_FSIZE 4096 (SIGXFSZ ignored): a
			* write there is cut short, the next one says EFBIG */
	K_SP_TIMEO,    /* unix stream socketpair, blocking, nothing to read on fd and fd's send
			* buffer full; SO_RCVTIMEO and SO_SNDTIMEO of 100 ms on fd */
	K_LISTEN_TIMEO, /* blocking listener, none waiting, SO_RCVTIMEO 100 ms */
	K_TCP_SOCK_TIMEO_FULL, /* blocking TCP socket, SO_SNDTIMEO 100 ms, the listener's backlog full */
	K_PTY_RAW0,    /* blocking pty slave in raw mode, VMIN 0 VTIME 0, nothing to read; fd2 master */
	K_PIDFD_NB,    /* PIDFD_NONBLOCK pidfd of a running child */
	K__COUNT
};

/* What a setup made: fds, paths, an address. */
struct env {
	int fd, fd2, fdx;
	int extra[4];
	char path[256], path2[256];
	struct sockaddr_storage addr;
	socklen_t addrlen;
	pid_t child;
	int child_pipe;
	bool drain_fd, drain_fd2; /* observe what is left to read on fd / fd2 */
};

/* 0, or -1 with a reason: this environment cannot make the kind (skipped). */
int kind_setup(enum kind k, struct env *e, const char **why);
void kind_teardown(enum kind k, struct env *e);
/* After the calls, before the observation: undo what must not last (the
 * effective uid of K_CREDS). */
void kind_after_calls(enum kind k, struct env *e);
/* Make a waiting call return: the row's release action for the kind. */
void kind_release(enum kind k, struct env *e);
bool kind_waits(enum kind k);
/* The release changes nothing but the waiter (a futex wake): it is repeated
 * until the call returns, since a call submitted asynchronously may enter
 * the kernel after the first one. */
bool kind_release_repeats(enum kind k);
const char *kind_name(enum kind k);

/* The run directory (fresh for every run) and the files made once. */
extern char conf_root[128], conf_run[160], conf_pfile[160], conf_pdir[160];
/* The futex word and the other caller memory the rows name (conformance.c). */
extern uint32_t *conf_futex;

/* ---- the table (rows.c) ---- */

enum argt {
	A_V,      /* the value v */
	A_FD,     /* the setup's fd, fd2, fdx */
	A_FD2,
	A_FDX,
	A_BUF,    /* writable memory: 32 KiB at BUF + v, filled with a pattern */
	A_RO,     /* a read-only page + v */
	A_UNM,    /* an unmapped page + v */
	A_EDGE,   /* v writable bytes, then the unmapped page */
	A_RWRO,   /* v writable bytes, then the read-only page */
	A_PATH,   /* the setup's path, path2, a missing name, a literal (v: index in conf_strs) */
	A_PATH2,
	A_PATHN,
	A_STR,
	A_IOV,    /* an iovec array (v: IOV_*) */
	A_MSG,    /* a struct msghdr (v: MSG_*) */
	A_LENP,   /* a socklen_t holding v */
	A_OFFP,   /* a loff_t holding v (one per argument position) */
	A_ADDR,   /* the setup's socket address and its length */
	A_ADDRLEN,
	A_HOW,    /* a struct open_how with flags v */
	A_EPEV,   /* a struct epoll_event {v, fd2} */
	A_FUTEX,  /* the futex word */
	A_CTR,    /* a 64-bit counter holding v (umem_add) */
	A_TS,     /* a struct timespec of v ns */
	A_VUNM,   /* by-pointer faces: the argument pointer itself is unmapped */
	A_PID,    /* the setup's child */
};

enum { IOV_ONE = 1, IOV_TWO, IOV_EDGE, IOV_BADBASE, IOV_RO, IOV_MANY, IOV_HUGE, IOV_ONE_RWRO };
enum { MSG_ONE = 1, MSG_NAME, MSG_BADIOV, MSG_BADNAME, MSG_IOVUNM };

struct arg {
	uint8_t t;
	long v;
};

struct call {
	long nr;
	struct arg a[6];
};

/* Row flags */
#define R_STOP 0x1       /* the sequence stops after its first failure */
#define R_MASKSTAT 0x2   /* BUF holds a struct stat of a new object: ino and times differ */
#define R_MASKSTATX 0x4  /* ... a struct statx */
#define R_NOBATCH 0x8    /* by-pointer only (a faulting argument pointer, umem_add) */
#define R_NOMEM 0x10     /* BUF holds what differs per run (a child's pid): not compared */
#define R_CLOSE_FD2 0x20 /* after the calls, close fd2 plainly (does the peer see it?) */
#define R_CLOSE_FD 0x40  /* ... fd */
#define R_ROOT 0x80      /* needs root (skipped otherwise) */

/* Faces (bits of struct row.xfaces) */
enum face { F_ASYNC, F_SYSLET, F_SYSLET_ASYNC, F_BATCH_LOOP, F_BATCH_URING, F__COUNT };
#define XF(f) (1u << (f))
#define XF_ALL ((1u << F__COUNT) - 1)
/* Configurations (bits of struct row.xcfg): engine x inline */
#define XC_THREADS 0x1
#define XC_URING 0x2
#define XC_AUTO 0x4
#define XC_KMOD 0x8
#define XC_INLINE 0x10
#define XC_NOINLINE 0x20
#define XC_ANY_ENGINE (XC_THREADS | XC_URING | XC_AUTO | XC_KMOD)
#define XC_ANY_INLINE (XC_INLINE | XC_NOINLINE)

struct row {
	const char *name;
	uint16_t kind;
	uint32_t flags;
	struct call c[4];
	/* An expected difference: in faces xfaces, under an engine and an
	 * inline setting of xcfg, the row may differ from the plain call, for
	 * the reason `why` (documented in docs/engines.md). */
	uint32_t xfaces, xcfg;
	const char *why;
};

extern const struct row conf_rows[];
/* How many calls a row has: the slots up to the last one used (no row
 * uses read(0, NULL, 0), the all-zero call). */
static inline unsigned conf_ncalls(const struct row *r)
{
	unsigned n = 0;
	for (unsigned i = 0; i < 4; i++) {
		bool used = r->c[i].nr != 0;
		for (unsigned j = 0; j < 6; j++)
			used |= r->c[i].a[j].t != 0 || r->c[i].a[j].v != 0;
		if (used)
			n = i + 1;
	}
	return n;
}
extern const unsigned int conf_nrows;
extern const char *const conf_strs[];

#endif

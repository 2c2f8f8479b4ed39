/* SPDX-License-Identifier: MIT */
/*
 * Channels (seed 002): a registry of receive queues in one shared segment,
 * each queue the same ring as the async core's (src/ring/ring.h), used in
 * memory shared between processes. The layout is in channel_layout.h.
 *
 * THE TRUST MODEL. Any process that can open the segment can write any byte
 * of it, at any time, and can die at any instruction. So nothing in the
 * segment is trusted for our own memory safety or liveness:
 *  - the geometry is read once (pread, before mapping), validated, and only
 *    the private copy is used; every offset we compute comes from it, and
 *    positions read from the segment are masked into the ring;
 *  - no process-private structure lives in the segment (no glibc mutex, no
 *    pointer, no robust-list link): the locks are the kernel's (OFD locks on
 *    the file), the wait words are plain futex words;
 *  - every value read from the segment is checked before it steers us
 *    (states, ids, generations, slot records, sender indices), every loop is
 *    bounded (CH_SPIN retries on the rings, geometry-sized scans), and every
 *    wait is timed: non-blocking calls return within microseconds, blocking
 *    ones at their timeout, and "forever" waits wake every CH_RECHECK_NS;
 *  - the segment's pages are allocated when it is created (posix_fallocate:
 *    a short /dev/shm is -ENOSPC at open, not SIGBUS later), and the mapping
 *    sits between two PROT_NONE guard pages;
 *  - a peer that truncates the file would make our next access SIGBUS. A
 *    process-wide SIGBUS handler (installed at the first open, chaining to
 *    the previous one for every other address) maps private zero pages over
 *    the lost part of the faulting segment and marks its handles broken:
 *    the access that faulted completes on private memory, and every later
 *    call on those handles returns -EIO. We chose this over a sealed memfd
 *    handed over a unix socket because the seed's model is a segment found
 *    by name: a memfd needs a live process to hand it over (none exists
 *    once the creator is gone), a rendezvous socket of its own, and still
 *    cannot protect peers that map it another way. The handler keeps
 *    open-by-name, and costs nothing on the hot path (one flag per call).
 *
 * LIVENESS is decided by the kernel, never by pids (which are per pid
 * namespace, reused, kept by zombies, and inherited across fork):
 *  - A registered receiver holds an OFD lock on byte CH_LK_ENTRY0 + i of
 *    the file, through an open file description private to its handle. The
 *    kernel drops it when the process dies (before it is a zombie) or execs
 *    (O_CLOEXEC); nobody else can drop it; any peer can test it (F_OFD_GETLK
 *    through another description) whatever pid namespace it lives in. We
 *    chose OFD locks over pidfds because a lock needs no exchange between
 *    the peers (a pidfd must be passed over a socket or opened by a pid that
 *    means nothing in another namespace), is tied to the file every peer
 *    already has, and doubles as the crash-safe mutex of registration.
 *  - fork: no lock description is ever in the process's shared fd table
 *    (THE KEEPER below: one thread with a private fd table holds them all),
 *    so no child (fork at any moment, _Fork without handlers, clone) ever
 *    holds one, and a lock is held exactly as long as the process that took
 *    it lives. Inherited handles are unusable in the child (-EINVAL: a
 *    MADV_WIPEONFORK page tells a child from its parent), and closing one
 *    there touches nothing shared.
 *  - Testing a lock is a system call; senders need to know at every send
 *    whether their receiver died. The kernel writes that into the segment
 *    for free: each registration has a watcher thread whose robust-futex
 *    list (set_robust_list; its one node is in our private memory) names the
 *    entry's rx_owner word, which holds that thread's id. When the process
 *    dies, the kernel walks the list and sets FUTEX_OWNER_DIED in the word.
 *    A sender reads the word (a load); if the bit is set it confirms with
 *    the lock (a peer can forge the bit, never the lock) and gets -ENOENT.
 *    The word is a hint: a peer can wipe it (or rewrite it, so that the
 *    kernel leaves it alone), so a sender also asks the lock at least once
 *    per CH_ALIVE_NS per entry, and at once when the word is 0: a wiped
 *    notice delays -ENOENT by CH_ALIVE_NS at most (receiver_gone).
 *  - Each handle that sends owns a sender slot (a lock on CH_LK_SENDER0 +
 *    s, plus a generation bumped by each owner). Every reservation records
 *    {position, slot, generation} in its payload header, so a receiver
 *    stuck behind an unpublished position can ask the kernel whether its
 *    sender lives. A live sender, however slow, is never given up.
 *
 * REGISTRATION. The registry lock (an OFD lock on CH_LK_REG, taken with
 * bounded retries) serialises registrations; the kernel releases it if its
 * holder dies, so a crash at any step leaves at worst an entry in PENDING or
 * READY whose entry lock is free, which the next registration reclaims.
 *   register(id), holding the registry lock:
 *     1. an entry READY with this id whose lock is held: -EEXIST (the lock
 *        is the proof: a READY state a peer wrote over a free lock is not);
 *        one whose lock is free belonged to a dead receiver: reclaim it;
 *     2. take an entry: its lock (F_OFD_SETLK; a held lock means a live
 *        owner or an unregister in progress), state -> PENDING, and no live
 *        holder may remain (below); EMPTY entries first, then dead ones;
 *     3. format its ring with positions continuing past the old ones, set
 *        id, gen + 1, rx_owner; READY (release).
 *   Uniqueness: every registration runs steps 1-3 under the registry lock,
 *   and an entry is READY with a held lock only between step 3 and its
 *   receiver's unregister or death; so two live receivers of one id would
 *   need one of them to skip step 1 while the other held its entry: never.
 *   unregister(): READY -> PENDING; wait (at most CH_UNREG_WAIT_NS) for the
 *   live holders to leave; if none is left, count what was not popped and
 *   store EMPTY; else leave the entry PENDING ("draining"), for a later
 *   registration to reclaim once its holders are gone. Then drop the lock.
 *
 * RESERVATIONS AND GENERATIONS. The seed's `using` count is replaced by
 * per-sender presence records: a shared count cannot tell which increments
 * belong to dead processes (it leaked, wrapped, and made unregister wait a
 * second after any sender died). Who may still write into entry i's ring:
 *  (a) a live sender slot with a lane of `inside` naming i: one thread
 *      between checking READY and recording its reservation (one lane per
 *      thread: a stalled or stopped thread holds back only its own entry);
 *  (b) a live sender whose record sits in a reserved, unpublished slot in
 *      [head, tail).
 * get_sqe: enter (inside, seq_cst CAS) -> check READY/id (seq_cst load):
 * a Dekker pair with unregister's state change then scan, so either the
 * sender sees PENDING and backs off, or unregister sees it inside. Then
 * claim a position, record {tag = position, slot, gen} (tag stored last,
 * release), leave (release): a scan that sees the record no longer inside
 * sees the record. An entry becomes EMPTY, and its ring reusable, only when
 * neither (a) nor (b) holds: no live process can write into a ring after it
 * has been handed to another registration, so a late sender can never
 * corrupt or steal the next registration's messages. A position is never
 * reused across registrations (format continues past the old tail), so a
 * release that finds its slot no longer reserved at its position (another
 * generation, given up, released twice) fails and touches nothing.
 * sqe_release returns 0 only if it published the message in the queue of
 * the registration it reserved in while that was READY; if the receiver
 * left or died meanwhile it publishes a void record (so that the position
 * is consumed) and returns -ENOENT. Receivers skip void records.
 *
 * DEAD PEERS. A dead receiver's entry is reclaimed by the next registration
 * that needs it or its id; the messages still queued to it are counted
 * (sysring_chan_stats: lost), as are messages left by receivers that
 * unregistered (dropped). A receiver stuck CH_STUCK_NS behind an unpublished
 * head asks the kernel about its sender every CH_STUCK_NS and gives the
 * position up (abandoned) only if the sender is dead: a sender with no
 * record yet is alive while its slot's lock is held and it is inside.
 *
 * SLEEPING. Receivers sleep on rx_futex after counting themselves in
 * rx_sleeping; a sender wakes one when the count is not zero (Dekker: the
 * sender's publish, full fence, load of the count; the receiver's increment,
 * fence, look at the head). A count and not a flag because several threads
 * may receive on one handle; only a dead receiver's threads can leave it
 * high, and reclaim clears it. Senders waiting for room sleep on tx_futex
 * after setting tx_waiters; the receiver, after popping (fence), clears the
 * flag and wakes them all. A flag and not a count: a sender killed while
 * waiting leaves at most one spurious wake-up behind, not one per pop
 * forever. Waits always carry a deadline (a huge timeout saturates to
 * "never"); a signal handler interrupts them as it would a read(2) on a
 * pipe: -EINTR without SA_RESTART, on with it (ch_futex_wait, recv_spin).
 *
 * Lock order (private mutexes, then kernel locks): handle reg_mtx -> the
 * registry lock -> entry locks; ch_keep_mtx is taken around each request to
 * the keeper, with any of those held, and nothing is taken under it.
 * ch_list_mtx is taken alone (also by the atfork prepare handler).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sysring/channel.h>

#include "../core/core.h"
#include "../core/futex.h"
#include "channel_layout.h"

#define CH_SPIN 256u                         /* retries on a shared ring */
#define CH_STUCK_NS (10ull * 1000 * 1000)    /* before asking about a stuck head */
#define CH_TX_STEP_NS (20ull * 1000 * 1000)  /* a blocked sender re-checks its receiver */
#define CH_RECHECK_NS (1000ull * 1000 * 1000) /* "forever" waits look again this often */
#define CH_UNREG_WAIT_NS (100ull * 1000 * 1000)
#define CH_ALIVE_NS (1000ull * 1000)           /* a sender asks the kernel about its receiver */
#define CH_REG_WAIT_NS (500ull * 1000 * 1000)
#define CH_NEVER UINT64_MAX
#define CH_MAX_HANDLES 4096
#define CH_SPIN_NS 20000u /* sysring_recv's default polling (docs/channels.md) */
#define CH_SPIN_BARE_NS 2000u /* of which the first part without the signal mask */

/* A registration's watcher: the thread whose death the kernel reports in
 * the entry's rx_owner word (see the top of the file). */
struct ch_watch {
	struct robust_list_head head; /* read by the kernel when the thread dies */
	struct robust_list node;
	pthread_t th;
	uint32_t state; /* 0 starting, 1 running, 2 asked to stop */
	int tid;        /* the thread's id, or -errno if it could not set up */
};

struct sysring_chan {
	unsigned char *base; /* the segment, inside `area` between guard pages */
	unsigned char *area;
	size_t bytes, area_bytes;
	int fd;     /* for mapping and for testing other peers' locks */
	int lockfd; /* our own lock description: a descriptor in the keeper's table */
	uint32_t incarn; /* ch_pp->live when opened */
	uint32_t broken; /* set by the SIGBUS handler */
	uint32_t nentries, capacity, nsenders, stride;
	uint32_t slot_stride; /* of the entries' rings */
	uint64_t entries_off, senders_off;
	/* receiver */
	pthread_mutex_t reg_mtx;
	int my_entry; /* -1: not registered (atomic: other threads receive) */
	uint64_t my_id, my_gen;
	struct ch_watch *watch;
	uint64_t stuck_pos, stuck_since, stuck_checked;
	uint32_t spin_ns; /* UINT32_MAX: the default */
	/* sender */
	pthread_mutex_t tx_mtx;
	int sslot; /* -1: none yet */
	uint32_t sgen;
	struct {
		uint64_t id;
		uint32_t entry;
		uint32_t valid;
	} cache[64];
	struct ch_alive {
		uint64_t gen, until; /* entry's receiver of gen alive until (ns) */
	} *alive;                    /* [nentries] */
};

/* ---- process-wide state: the handles (for fork and SIGBUS) ---- */

static sysring_chan_t *ch_handles[CH_MAX_HANDLES];
static pthread_mutex_t ch_list_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t ch_once = PTHREAD_ONCE_INIT;
static struct sigaction ch_old_sigbus;
static size_t ch_page;

static void ch_sigbus(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	/* Only a fault (si_code > 0) names an address; kill(SIGBUS) does not. */
	for (int i = 0; si->si_code > 0 && i < CH_MAX_HANDLES; i++) {
		/* Acquire pairs with the release that publishes the handle. */
		sysring_chan_t *c = sr_load_acquire(&ch_handles[i]);
		if (!c || a < (uintptr_t)c->base || a >= (uintptr_t)c->base + c->bytes)
			continue;
		/* A peer shrank the file under our mapping: private zero pages
		 * over what is gone, so the faulting access completes; the
		 * handle reports -EIO from now on. mmap is a plain system call
		 * here, safe in a signal handler. Other handles of this process
		 * on the same file fault on their own mappings. */
		uintptr_t pg = a & ~(uintptr_t)(ch_page - 1);
		mmap((void *)pg, (uintptr_t)c->base + c->bytes - pg, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		sr_store_relaxed(&c->broken, 1);
		return;
	}
	/* Not ours: what would have happened without us. */
	if (ch_old_sigbus.sa_flags & SA_SIGINFO) {
		ch_old_sigbus.sa_sigaction(sig, si, uctx);
	} else if (ch_old_sigbus.sa_handler == SIG_IGN) {
		if (si->si_code > 0)
			signal(SIGBUS, SIG_DFL); /* a fault is never ignored: it re-executes and kills */
	} else if (ch_old_sigbus.sa_handler != SIG_DFL) {
		ch_old_sigbus.sa_handler(sig);
	} else {
		/* The default action: a fault re-executes and kills, a signal
		 * sent to us is raised again (SA_NODEFER: at once). */
		signal(SIGBUS, SIG_DFL);
		if (si->si_code <= 0)
			raise(SIGBUS);
	}
}

/*
 * Which process are we? A fork child (fork, vfork+exec aside, _Fork, a raw
 * clone) inherits every handle; they belong to the parent. ch_pp is a page
 * the kernel wipes in every child (MADV_WIPEONFORK), whoever forked and
 * whether or not atfork handlers ran: each handle records the value of
 * ch_pp->live when it was opened, a child reads 0 there (or, once it has
 * opened its own handles, a newer incarnation), and its inherited handles
 * fail with -EINVAL without touching anything shared. The atfork child
 * handler clears it as well (a kernel without MADV_WIPEONFORK).
 */
struct ch_proc_page {
	uint32_t live; /* this process's incarnation; 0 in a fresh child */
};
static struct ch_proc_page *ch_pp;
static uint32_t ch_incarnation; /* not wiped: a child's next value is new */

/*
 * THE KEEPER. The locks we hold (our receive entries, our sender slots, the
 * registry lock while registering) are OFD locks, held by an open file
 * description; a description lives as long as any fd table refers to it.
 * fork copies the fd table of the forking thread, at whatever moment another
 * thread forks, and the child may run long before any atfork handler (or
 * never run one: _Fork): a child holding our lock descriptions would keep our
 * locks alive after we die, so our death would be hidden. So no lock
 * description is ever in the process's shared fd table: one thread per
 * process, the keeper, unshares its fd table (close_range UNSHARE: a private,
 * empty table) and opens, uses and closes every lock description in it. Other
 * threads ask it (keeper_call: a request, a futex handshake); it does nothing
 * else. A fork child has no keeper and no lock description at all; when the
 * process dies or execs, its threads' tables go and the kernel drops the
 * locks. Lock tests (F_OFD_GETLK) go through the handle's plain descriptor
 * c->fd, another description, so that our own locks test as held too.
 */
enum { KEEP_OPEN = 1, KEEP_LOCK, KEEP_UNLOCK, KEEP_CLOSE, KEEP_LOCK_ANY };
struct ch_keep_req {
	int op, fd, tid;
	uint64_t off;
	uint32_t n, start; /* KEEP_LOCK_ANY: the first free of off + (start + k) % n */
	const char *path;
	dev_t dev;
	ino_t ino;
	int result;
};
static pthread_mutex_t ch_keep_mtx = PTHREAD_MUTEX_INITIALIZER; /* one request at a time */
static struct ch_keep_req *ch_keep_cur;
static uint32_t ch_keep_seq, ch_keep_done, ch_keep_state; /* state: 0 none, 1 running */
static int ch_keep_err;
static uint32_t ch_keep_incarn; /* the incarnation the keeper belongs to */

/* Opens of segment files in progress (a descriptor not yet in a handle):
 * a fork child closes its copies (pthread_atfork). Under ch_list_mtx. */
#define CH_PENDING_FDS 64
static int ch_pending[CH_PENDING_FDS];
static int ch_npending;

static void ch_atfork_prepare(void)
{
	pthread_mutex_lock(&ch_list_mtx);
}

static void ch_atfork_parent(void)
{
	pthread_mutex_unlock(&ch_list_mtx);
}

static void ch_child_reset(void)
{
	/* The threads (keeper, watchers) did not come along, and whatever
	 * lock another thread held at the fork is nobody's. */
	pthread_mutex_init(&ch_keep_mtx, NULL);
	ch_keep_state = 0;
	ch_keep_cur = NULL;
	ch_keep_seq = ch_keep_done = 0;
}

/* In a fork child: close the plain descriptors of the parent's handles and
 * of opens in progress, and forget the parent's state (with ch_list_mtx
 * held, or single-threaded). */
static void ch_child_drop(void)
{
	for (int i = 0; i < CH_MAX_HANDLES; i++) {
		sysring_chan_t *c = ch_handles[i];
		if (c && c->fd >= 0) {
			close(c->fd);
			c->fd = -1;
		}
	}
	for (int k = 0; k < ch_npending; k++)
		close(ch_pending[k]);
	ch_npending = 0;
	ch_child_reset();
}

static void ch_atfork_child(void)
{
	/* Every handle now belongs to the parent. Its lock descriptions were
	 * never in our fd table (the keeper's); the plain descriptors are
	 * closed here so that a child holds nothing of the parent's segment
	 * (a _Fork child, which runs no handler, drops them at its first
	 * channel call). */
	if (ch_pp)
		ch_pp->live = 0;
	ch_child_drop();
	pthread_mutex_unlock(&ch_list_mtx);
}

/* A fork child's first call (fork or _Fork): a new incarnation. The child
 * is single-threaded until it starts threads, so nothing races with this
 * but the rare child that starts threads calling us at once. */
static void ch_new_incarnation(void)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&m);
	if (sr_load_relaxed(&ch_pp->live) == 0) {
		if (ch_keep_incarn != 0) {
			/* _Fork: no handler ran (with fork it ran and did this). */
			pthread_mutex_init(&ch_list_mtx, NULL);
			ch_child_drop();
		}
		ch_incarnation++;
		ch_keep_incarn = ch_incarnation;
		sr_store_release(&ch_pp->live, ch_incarnation);
	}
	pthread_mutex_unlock(&m);
}

static void ch_init(void)
{
	struct sigaction sa;
	long pg = sysconf(_SC_PAGESIZE);
	ch_page = pg > 0 ? (size_t)pg : 4096;
	ch_pp = mmap(NULL, ch_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ch_pp == MAP_FAILED)
		abort(); /* a page at the first open: nothing to fall back to */
	(void)madvise(ch_pp, ch_page, MADV_WIPEONFORK); /* else: the atfork handler */
	pthread_atfork(ch_atfork_prepare, ch_atfork_parent, ch_atfork_child);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = ch_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &ch_old_sigbus);
}

/* Every entry point that may open or use a handle of its own. */
static void ch_enter(void)
{
	pthread_once(&ch_once, ch_init);
	if (sr_unlikely(sr_load_acquire(&ch_pp->live) == 0))
		ch_new_incarnation();
}

/* 0, or why the handle cannot be used: -EINVAL inherited across fork (it
 * belongs to the parent), -EIO the segment was truncated under it. */
static inline int ch_usable(const sysring_chan_t *c)
{
	if (sr_unlikely(c->incarn != sr_load_relaxed(&ch_pp->live)))
		return -EINVAL;
	if (sr_unlikely(sr_load_relaxed(&c->broken)))
		return -EIO;
	return 0;
}

/* Open `path` and record the descriptor as pending (see ch_pending). */
static int ch_open_fd(const char *path, int flags, mode_t mode)
{
	pthread_mutex_lock(&ch_list_mtx);
	int fd = open(path, flags | O_CLOEXEC, mode);
	int e = errno;
	if (fd >= 0 && ch_npending < CH_PENDING_FDS)
		ch_pending[ch_npending++] = fd;
	pthread_mutex_unlock(&ch_list_mtx);
	errno = e;
	return fd;
}

static void ch_unpend_locked(int fd)
{
	for (int k = 0; k < ch_npending; k++)
		if (ch_pending[k] == fd) {
			ch_pending[k] = ch_pending[--ch_npending];
			return;
		}
}

static void ch_close_fd(int fd)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&ch_list_mtx);
	ch_unpend_locked(fd);
	close(fd);
	pthread_mutex_unlock(&ch_list_mtx);
}

static void *keeper_main(void *arg)
{
	(void)arg;
	/* A private, empty fd table: what we open here is in no other
	 * thread's table, so no fork can copy it. */
	int r = (int)syscall(SYS_close_range, 0u, ~0u, 2u /* CLOSE_RANGE_UNSHARE */);
	if (r) {
		if (unshare(CLONE_FILES)) {
			r = -errno;
		} else {
			/* an older kernel: close what the copy holds */
			long mx = sysconf(_SC_OPEN_MAX);
			for (long fd = 0; fd < (mx > 0 && mx < 1048576 ? mx : 65536); fd++)
				close((int)fd);
			r = 0;
		}
	}
	sr_store_relaxed(&ch_keep_err, r);
	/* Release pairs with keeper_start's acquire. */
	sr_store_release(&ch_keep_state, r ? 2 : 1);
	sr_futex_wake(&ch_keep_state, INT_MAX, false);
	if (r)
		return NULL;
	uint32_t seen = 0;
	for (;;) {
		/* Acquire pairs with keeper_call's release of the request. */
		uint32_t seq = sr_load_acquire(&ch_keep_seq);
		if (seq == seen) {
			sr_futex_wait(&ch_keep_seq, seen, NULL, false);
			continue;
		}
		seen = seq;
		struct ch_keep_req *q = ch_keep_cur;
		struct stat st;
		char proc[96];
		switch (q->op) {
		case KEEP_OPEN:
			/* A description of our own on the caller's file: through
			 * the caller's table in /proc, else by name (checked). */
			snprintf(proc, sizeof(proc), "/proc/self/task/%d/fd/%d", q->tid, q->fd);
			r = open(proc, O_RDWR | O_CLOEXEC);
			if (r < 0 && errno == ENOENT && q->path)
				r = open(q->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
			if (r < 0) {
				r = -errno;
			} else if (fstat(r, &st) || st.st_dev != q->dev || st.st_ino != q->ino) {
				close(r);
				r = -ESTALE;
			}
			break;
		case KEEP_LOCK:
		case KEEP_UNLOCK: {
			struct flock fl = {.l_type = q->op == KEEP_LOCK ? F_WRLCK : F_UNLCK,
					   .l_whence = SEEK_SET,
					   .l_start = (off_t)q->off,
					   .l_len = 1};
			r = fcntl(q->fd, F_OFD_SETLK, &fl) ? -errno : 0;
			if (r == -EACCES)
				r = -EAGAIN;
			break;
		}
		case KEEP_CLOSE:
			r = close(q->fd) ? -errno : 0;
			break;
		case KEEP_LOCK_ANY: /* one request, not one per lock tried */
			r = -EAGAIN;
			for (uint32_t k = 0; k < q->n; k++) {
				uint32_t i = (q->start + k) % q->n;
				struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
						   .l_start = (off_t)(q->off + i), .l_len = 1};
				if (fcntl(q->fd, F_OFD_SETLK, &fl) == 0) {
					r = (int)i;
					break;
				}
				if (errno != EACCES && errno != EAGAIN) {
					r = -errno;
					break;
				}
			}
			break;
		default:
			r = -EINVAL;
		}
		q->result = r;
		/* Release pairs with keeper_call's acquire of done. */
		sr_store_release(&ch_keep_done, seen);
		sr_futex_wake(&ch_keep_done, INT_MAX, false);
	}
	return NULL;
}

/* With ch_keep_mtx held. */
static int keeper_start(void)
{
	pthread_t th;
	pthread_attr_t attr;
	sigset_t all, old;

	if (ch_keep_state == 1)
		return 0;
	ch_keep_state = 0;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* no signal is ever delivered to it */
	int r = pthread_create(&th, &attr, keeper_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r)
		return -r;
	/* Acquire pairs with the keeper's release of its state. */
	while (sr_load_acquire(&ch_keep_state) == 0)
		sr_futex_wait(&ch_keep_state, 0, NULL, false);
	if (ch_keep_state != 1) {
		ch_keep_state = 0;
		return ch_keep_err ? ch_keep_err : -ENOSYS;
	}
	return 0;
}

static int keeper_call(struct ch_keep_req *q)
{
	pthread_mutex_lock(&ch_keep_mtx);
	int r = keeper_start();
	if (r) {
		pthread_mutex_unlock(&ch_keep_mtx);
		return r;
	}
	ch_keep_cur = q;
	/* Release pairs with the keeper's acquire of seq: it sees *q. */
	uint32_t seq = ch_keep_seq + 1;
	sr_store_release(&ch_keep_seq, seq);
	sr_futex_wake(&ch_keep_seq, 1, false);
	/* Acquire pairs with the keeper's release of done: we see q->result.
	 * Untimed: the keeper only makes non-blocking system calls. */
	uint32_t d;
	while ((d = sr_load_acquire(&ch_keep_done)) != seq)
		sr_futex_wait(&ch_keep_done, d, NULL, false); /* the value we compared */
	r = q->result;
	pthread_mutex_unlock(&ch_keep_mtx);
	return r;
}

/* A lock description of our own on the file open on fd, in the keeper's
 * table: its number there, or -errno. */
static int keep_open(int fd, const char *path)
{
	struct stat st;
	if (fstat(fd, &st))
		return -errno;
	struct ch_keep_req q = {.op = KEEP_OPEN, .fd = fd, .tid = (int)syscall(SYS_gettid), .path = path,
				.dev = st.st_dev, .ino = st.st_ino};
	return keeper_call(&q);
}

/* ---- time ---- */

/* A relative timeout -> CLOCK_MONOTONIC deadline in ns (NULL: CH_NEVER).
 * -EINVAL for what no system call accepts (negative, tv_nsec out of range);
 * a deadline beyond 64 bits of ns is CH_NEVER, as the kernel saturates. */
static int ch_deadline(const struct timespec *rel, uint64_t *dl)
{
	if (!rel) {
		*dl = CH_NEVER;
		return 0;
	}
	if (rel->tv_sec < 0 || rel->tv_nsec < 0 || rel->tv_nsec >= 1000000000L)
		return -EINVAL;
	uint64_t now = sr_now_ns(), sec = (uint64_t)rel->tv_sec;
	if (sec >= (CH_NEVER - now) / 1000000000ull - 1) {
		*dl = CH_NEVER;
		return 0;
	}
	*dl = now + sec * 1000000000ull + (uint64_t)rel->tv_nsec;
	return 0;
}

/* Sleep on a shared futex word until woken, `key` changed, or `dl`: 0
 * (woken, changed, or a spurious return), -ETIMEDOUT, or -EINTR. A signal
 * handler interrupts the wait as it would a read(2) on a pipe: with
 * SA_RESTART the kernel restarts the wait (with the same absolute deadline),
 * without it we return -EINTR. futex_waitv gives exactly that (it returns
 * -ERESTARTSYS); FUTEX_WAIT with a timeout would return -EINTR after any
 * handler, and without one would lose the deadline, so it is the fallback
 * only for kernels before 5.16 (there: -EINTR after any handler). */
static int ch_futex_wait(uint32_t *w, uint32_t key, uint64_t dl)
{
	static int no_waitv;
	struct timespec ts;
	if (dl == CH_NEVER) {
		ts.tv_sec = (time_t)1 << 40; /* ~35,000 years of uptime */
		ts.tv_nsec = 0;
	} else {
		ts.tv_sec = (time_t)(dl / 1000000000ull);
		ts.tv_nsec = (long)(dl % 1000000000ull);
	}
	if (!sr_load_relaxed(&no_waitv)) {
		struct futex_waitv fw = {.val = key, .uaddr = (uint64_t)(uintptr_t)w, .flags = FUTEX_32};
		long r = syscall(SYS_futex_waitv, &fw, 1u, 0u, &ts, CLOCK_MONOTONIC);
		if (r >= 0 || errno == EAGAIN)
			return 0;
		if (errno != ENOSYS)
			return -errno;
		sr_store_relaxed(&no_waitv, 1);
	}
	int r = sr_futex_wait(w, key, &ts, true);
	return r == -EAGAIN ? 0 : r;
}

/* Signals that arrived while we had them blocked (and that `old`, the
 * caller's mask, lets through): 1 if one of them has a handler without
 * SA_RESTART (it interrupts a blocking call), 0 if none or all restart. */
static int ch_signals_interrupt(const sigset_t *old, bool *any)
{
	sigset_t p;
	int intr = 0;
	*any = false;
	if (sigpending(&p))
		return 0;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sigismember(&p, sig) != 1 || sigismember(old, sig))
			continue;
		struct sigaction sa;
		*any = true;
		if (sigaction(sig, NULL, &sa) == 0 && !(sa.sa_flags & SA_RESTART) &&
		    ((sa.sa_flags & SA_SIGINFO) || (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)))
			intr = 1;
	}
	return intr;
}

static uint64_t ch_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t ch_after(uint64_t now, uint64_t ns)
{
	return now > CH_NEVER - ns ? CH_NEVER : now + ns;
}

/* ---- kernel locks (OFD) ---- */

/* Take (without waiting) or drop the lock at `off` through our lock
 * description, in the keeper's table. -EAGAIN: another description holds it. */
static int lk_try(const sysring_chan_t *c, uint64_t off)
{
	struct ch_keep_req q = {.op = KEEP_LOCK, .fd = c->lockfd, .off = off};
	return keeper_call(&q);
}

static void lk_unlock(const sysring_chan_t *c, uint64_t off)
{
	struct ch_keep_req q = {.op = KEEP_UNLOCK, .fd = c->lockfd, .off = off};
	(void)keeper_call(&q);
}

/* Is the lock at `off` held by another open file description? A test that
 * fails says "held": a verdict of death needs the kernel's word. */
static bool lk_held(const sysring_chan_t *c, uint64_t off)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = (off_t)off, .l_len = 1};
	if (fcntl(c->fd, F_OFD_GETLK, &fl))
		return true;
	return fl.l_type != F_UNLCK;
}

/* ---- layout ---- */

static struct ch_seg *seg_of(const sysring_chan_t *c)
{
	return (struct ch_seg *)c->base;
}

static struct ch_entry *entry_at(const sysring_chan_t *c, uint32_t i)
{
	return (struct ch_entry *)(c->base + c->entries_off + (size_t)i * c->stride);
}

static struct ch_sender *sender_at(const sysring_chan_t *c, uint32_t s)
{
	return (struct ch_sender *)(c->base + c->senders_off + (size_t)s * sizeof(struct ch_sender));
}

/* The private view of entry i's ring: geometry from our copy only. */
static void ring_of(const sysring_chan_t *c, uint32_t i, struct sr_ring *r)
{
	unsigned char *mem = (unsigned char *)entry_at(c, i) + CH_RING_OFF;
	r->hdr = (struct sr_ring_hdr *)mem;
	r->slots = mem + sizeof(struct sr_ring_hdr);
	r->capacity = c->capacity;
	r->mask = c->capacity - 1;
	r->stride = c->slot_stride;
	r->slot_size = sizeof(struct ch_payload);
}

static struct ch_payload *payload_at(const struct sr_ring *r, uint64_t pos)
{
	return (struct ch_payload *)sr_ring_slot_at(r, pos)->data;
}

/* The span [head, head + n) worth looking at, n at most the capacity
 * whatever a peer wrote into head and tail. */
static uint64_t ring_span(const struct sr_ring *r, uint64_t *head)
{
	uint64_t h = sr_load_acquire(&r->hdr->head);
	uint64_t t = sr_load_acquire(&r->hdr->tail);
	*head = h;
	return t - h <= r->capacity ? t - h : r->capacity;
}

static void stat_add(sysring_chan_t *c, uint64_t *field, uint64_t n)
{
	if (n)
		sr_fetch_add(field, n, SR_RELAXED); /* statistics: advisory */
	(void)c;
}

/* ---- names, opening, closing ---- */

static int seg_path(const char *name, char *out, size_t n)
{
	if (!name)
		return -EINVAL;
	if (name[0] == '/')
		name++;
	size_t len = strlen(name);
	if (!len || len > 200 || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	snprintf(out, n, "/dev/shm/%s", name);
	return 0;
}

SR_EXPORT int sysring_chan_unlink(const char *name)
{
	char path[256];
	int r = seg_path(name, path, sizeof(path));
	if (r)
		return r;
	return unlink(path) ? -errno : 0;
}

SR_EXPORT int sysring_chan_set_spin(sysring_chan_t *c, uint32_t ns)
{
	if (!c)
		return -EINVAL;
	sr_store_relaxed(&c->spin_ns, ns > 10000000u ? 10000000u : ns);
	return 0;
}

SR_EXPORT unsigned int sysring_chan_capacity(const sysring_chan_t *c)
{
	return c ? c->capacity : 0;
}

SR_EXPORT int sysring_chan_stats(sysring_chan_t *c, struct sysring_chan_stats *st)
{
	if (!c || !st)
		return -EINVAL;
	int r = ch_usable(c);
	if (r)
		return r;
	struct ch_seg *s = seg_of(c);
	memset(st, 0, sizeof(*st));
	st->reclaimed = sr_load_relaxed(&s->reclaimed);
	st->lost = sr_load_relaxed(&s->lost);
	st->dropped = sr_load_relaxed(&s->dropped);
	st->abandoned = sr_load_relaxed(&s->abandoned);
	return 0;
}

static bool geometry_ok(uint32_t entries, uint32_t capacity)
{
	return entries && entries <= CH_MAX_ENTRIES && capacity >= 2 && capacity <= CH_MAX_CAPACITY &&
	       !(capacity & (capacity - 1));
}

/* Write a fresh segment into fd (not yet visible under any name). */
static int seg_format(int fd, uint32_t entries, uint32_t capacity)
{
	uint64_t total = ch_total_bytes(entries, capacity, CH_SENDERS);
	if (ftruncate(fd, (off_t)total))
		return -errno;
	/* Every page now, so that no access can fault for want of memory
	 * later: a short /dev/shm is -ENOSPC here, not SIGBUS. */
	int r = posix_fallocate(fd, 0, (off_t)total);
	if (r)
		return -r;
	struct ch_seg seg;
	memset(&seg, 0, sizeof(seg));
	seg.version = CH_VERSION;
	seg.nentries = entries;
	seg.capacity = capacity;
	seg.nsenders = CH_SENDERS;
	seg.slot_size = sizeof(struct ch_payload);
	seg.entry_stride = ch_entry_stride(capacity);
	seg.senders_off = ch_senders_off();
	seg.entries_off = ch_entries_off(CH_SENDERS);
	seg.total_bytes = total;
	/* Entries start EMPTY (0) and their rings are formatted at
	 * registration: the zero pages are all the rest needs. The magic goes
	 * in last; nobody can see the file before it is linked anyway. */
	if (pwrite(fd, &seg, sizeof(seg), 0) != (ssize_t)sizeof(seg))
		return -EIO;
	seg.magic = CH_MAGIC;
	if (pwrite(fd, &seg.magic, sizeof(seg.magic), 0) != (ssize_t)sizeof(seg.magic))
		return -EIO;
	return 0;
}

/* Validate the segment open on fd (found at path) and map it. Takes fd. */
static int seg_attach(int fd, const char *path, sysring_chan_t **out)
{
	struct stat st;
	struct ch_seg seg;
	sysring_chan_t *c;
	int r = -EINVAL;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(seg) ||
	    pread(fd, &seg, sizeof(seg), 0) != (ssize_t)sizeof(seg))
		goto fail;
	/* Read before mapping, checked against a layout we compute ourselves:
	 * from here on only these copies are used. */
	if (seg.magic != CH_MAGIC || seg.version != CH_VERSION || !geometry_ok(seg.nentries, seg.capacity) ||
	    seg.nsenders == 0 || seg.nsenders > CH_SENDERS || seg.slot_size != sizeof(struct ch_payload) ||
	    seg.entry_stride != ch_entry_stride(seg.capacity) || seg.senders_off != ch_senders_off() ||
	    seg.entries_off != ch_entries_off(seg.nsenders) ||
	    seg.total_bytes != ch_total_bytes(seg.nentries, seg.capacity, seg.nsenders) ||
	    seg.total_bytes > (uint64_t)st.st_size || seg.total_bytes > SIZE_MAX / 2)
		goto fail;
	c = calloc(1, sizeof(*c));
	if (!c) {
		r = -ENOMEM;
		goto fail;
	}
	c->nentries = seg.nentries;
	c->capacity = seg.capacity;
	c->nsenders = seg.nsenders;
	c->stride = seg.entry_stride;
	c->slot_stride = (uint32_t)((sr_ring_bytes(seg.capacity, sizeof(struct ch_payload)) - sizeof(struct sr_ring_hdr)) /
				    seg.capacity);
	c->senders_off = seg.senders_off;
	c->entries_off = seg.entries_off;
	c->alive = calloc(seg.nentries, sizeof(*c->alive));
	if (!c->alive) {
		free(c);
		r = -ENOMEM;
		goto fail;
	}
	c->bytes = (size_t)seg.total_bytes;
	/* Between two guard pages: a stray access is a SIGSEGV here, never a
	 * write into a neighbouring mapping. */
	c->area_bytes = c->bytes + 2 * ch_page;
	c->area = mmap(NULL, c->area_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->area == MAP_FAILED) {
		r = -errno;
		free(c->alive);
		free(c);
		goto fail;
	}
	c->base = mmap(c->area + ch_page, c->bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (c->base == MAP_FAILED) {
		r = -errno;
		munmap(c->area, c->area_bytes);
		free(c->alive);
		free(c);
		goto fail;
	}
	/* Our own open file description for the locks we take, in the
	 * keeper's table (see THE KEEPER): a lock test through c->fd must see
	 * them as another owner's (a description's own locks never conflict
	 * with it), and no fork may copy it. */
	c->lockfd = keep_open(fd, path);
	if (c->lockfd < 0) {
		r = c->lockfd;
		munmap(c->area, c->area_bytes);
		free(c->alive);
		free(c);
		goto fail;
	}
	c->fd = fd;
	c->my_entry = -1;
	c->sslot = -1;
	c->spin_ns = UINT32_MAX;
	pthread_mutex_init(&c->reg_mtx, NULL);
	pthread_mutex_init(&c->tx_mtx, NULL);
	c->incarn = sr_load_relaxed(&ch_pp->live);
	pthread_mutex_lock(&ch_list_mtx);
	r = -EMFILE;
	for (int i = 0; i < CH_MAX_HANDLES; i++) {
		if (!ch_handles[i]) {
			/* Release pairs with the SIGBUS handler's acquire. */
			sr_store_release(&ch_handles[i], c);
			/* from now on the fork handler finds it in the handle */
			ch_unpend_locked(fd);
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&ch_list_mtx);
	if (r) {
		struct ch_keep_req q = {.op = KEEP_CLOSE, .fd = c->lockfd};
		(void)keeper_call(&q);
		munmap(c->area, c->area_bytes);
		free(c->alive);
		free(c);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	ch_close_fd(fd);
	return r;
}

/* Create the segment `path` complete or not at all: formatted and attached
 * (mapped, our lock description open) while it has no name (O_TMPFILE, or a
 * temporary name), then linked under its name without replacing anything.
 * So a failed open (no room, a mode or umask that keeps us out, any error of
 * attaching) and a creator killed half-way leave no name behind, and later
 * opens never wait for a segment that will never be finished. 0 and *out,
 * -EEXIST if someone else's segment won the name, or -errno. */
static int seg_create(const char *path, uint32_t entries, uint32_t capacity, unsigned int mode,
		      sysring_chan_t **out)
{
	/* method 0: O_TMPFILE, linked through /proc (or AT_EMPTY_PATH);
	 * method 1: a temporary name, linked then removed (a creator killed
	 * in between leaves that temporary file, never the real name). */
	int r = -EOPNOTSUPP;
	for (int method = 0; method < 2; method++) {
		char tmp[320] = "";
		sysring_chan_t *c = NULL;
		int fd;
		if (method == 0) {
			fd = ch_open_fd("/dev/shm", O_TMPFILE | O_RDWR, (mode_t)mode);
		} else {
			static uint32_t seq;
			snprintf(tmp, sizeof(tmp), "%s.tmp-%d-%u", path, (int)getpid(),
				 sr_fetch_add(&seq, 1, SR_RELAXED));
			fd = ch_open_fd(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, (mode_t)mode);
		}
		if (fd < 0) {
			r = -errno;
			continue;
		}
		r = seg_format(fd, entries, capacity);
		if (r) {
			ch_close_fd(fd);
		} else {
			/* takes fd whatever happens */
			r = seg_attach(fd, method == 0 ? NULL : tmp, &c);
		}
		if (!r && method == 0) {
			char proc[64];
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", c->fd);
			r = linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) ? -errno : 0;
			if (r && r != -EEXIST) /* no /proc: needs CAP_DAC_READ_SEARCH */
				r = linkat(c->fd, "", AT_FDCWD, path, AT_EMPTY_PATH) ? -errno : 0;
		} else if (!r) {
			r = link(tmp, path) ? -errno : 0;
		}
		if (tmp[0])
			unlink(tmp);
		if (!r) {
			*out = c;
			return 0;
		}
		if (c)
			sysring_chan_close(c);
		if (r == -EEXIST || r == -ENOSPC || r == -EDQUOT || r == -EFBIG || r == -EACCES ||
		    r == -EPERM || r == -ENOMEM || r == -EMFILE || r == -ENFILE)
			return r; /* another segment won the name, or a final error */
	}
	return r;
}

SR_EXPORT int sysring_chan_open_mode(const char *name, unsigned int entries, unsigned int capacity,
				     unsigned int mode, sysring_chan_t **out)
{
	char path[256];
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	r = seg_path(name, path, sizeof(path));
	if (r)
		return r;
	/* Permission bits only, and the creator must be able to read and
	 * write its own segment (peers need both). */
	if ((mode & ~0777u) || (mode & 0600u) != 0600u)
		return -EINVAL;
	ch_enter();
	/* A few rounds: the name may be created or removed by others
	 * between our open and our create. */
	for (int attempt = 0; attempt < 8; attempt++) {
		int fd = ch_open_fd(path, O_RDWR | O_NOFOLLOW, 0);
		if (fd >= 0)
			return seg_attach(fd, path, out);
		if (errno != ENOENT)
			return -errno;
		if (!geometry_ok(entries, capacity))
			return -EINVAL; /* creating needs a valid geometry */
		r = seg_create(path, entries, capacity, mode, out);
		if (r != -EEXIST)
			return r;
	}
	return -EAGAIN;
}

SR_EXPORT int sysring_chan_open(const char *name, unsigned int entries, unsigned int capacity,
				sysring_chan_t **out)
{
	return sysring_chan_open_mode(name, entries, capacity, 0600, out);
}

static void watch_stop(sysring_chan_t *c);

SR_EXPORT void sysring_chan_close(sysring_chan_t *c)
{
	if (!c)
		return;
	bool child = c->incarn != sr_load_relaxed(&ch_pp->live);
	if (!child) {
		/* In a fork child the registration is the parent's: leave it
		 * (and the watcher thread, which does not exist here) alone. */
		if (sr_load_relaxed(&c->my_entry) >= 0)
			sysring_unregister(c);
		watch_stop(c);
		/* Closing our lock description drops the locks we hold (our
		 * sender slot). A child has none of its own (the keeper's
		 * table did not come along). */
		struct ch_keep_req q = {.op = KEEP_CLOSE, .fd = c->lockfd};
		(void)keeper_call(&q);
	}
	pthread_mutex_lock(&ch_list_mtx);
	for (int i = 0; i < CH_MAX_HANDLES; i++)
		if (ch_handles[i] == c)
			sr_store_release(&ch_handles[i], NULL);
	/* in a child the fork handler closed it already (or ch_enter did) */
	if (c->fd >= 0)
		close(c->fd);
	pthread_mutex_unlock(&ch_list_mtx);
	munmap(c->area, c->area_bytes);
	/* The watcher belongs to a thread of the parent's: a child leaves its
	 * few bytes alone (a thread sanitizer that missed a _Fork still
	 * believes that thread runs). */
	if (!child)
		free(c->watch);
	free(c->alive);
	free(c);
}

/* ---- the watcher thread (the kernel's death notice) ---- */

static void *watch_main(void *arg)
{
	struct ch_watch *w = arg;
	int tid = (int)syscall(SYS_gettid);
	/* Our own robust list: glibc's list of this thread is unused (it
	 * never takes a robust mutex), and ours lives in private memory. */
	if (syscall(SYS_set_robust_list, &w->head, sizeof(w->head)))
		tid = -errno;
	sr_store_relaxed(&w->tid, tid);
	/* Release pairs with watch_start's acquire of state. */
	sr_store_release(&w->state, 1);
	sr_futex_wake(&w->state, INT_MAX, false);
	/* Acquire pairs with watch_stop's release of 2. */
	while (sr_load_acquire(&w->state) != 2)
		sr_futex_wait(&w->state, 1, NULL, false);
	return NULL;
}

/* The handle's watcher, started at its first registration and kept until
 * it is closed. Its list is empty while the handle is not registered. */
static int watch_start(sysring_chan_t *c)
{
	struct ch_watch *w = c->watch;
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	if (w)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->head.list.next = &w->head.list; /* empty */
	w->head.futex_offset = 0;
	w->head.list_op_pending = NULL;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	/* No signal is ever delivered to it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->th, &attr, watch_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r) {
		free(w);
		return -r;
	}
	/* Acquire pairs with the thread's release of state 1. */
	while (sr_load_acquire(&w->state) == 0)
		sr_futex_wait(&w->state, 0, NULL, false);
	if (w->tid < 0) {
		r = w->tid;
		sr_store_release(&w->state, 2);
		sr_futex_wake(&w->state, INT_MAX, false);
		pthread_join(w->th, NULL);
		free(w);
		return r;
	}
	c->watch = w;
	return 0;
}

/* Point the watcher's list at entry i's rx_owner word (i < 0: empty it).
 * The kernel reads the list only when the thread dies; the compiler
 * barriers keep a death in between from seeing a half-written list. */
static void watch_point(sysring_chan_t *c, int i)
{
	struct ch_watch *w = c->watch;
	if (i < 0) {
		w->head.list.next = &w->head.list;
		__asm__ __volatile__("" ::: "memory");
		return;
	}
	w->head.futex_offset = (long)((char *)&entry_at(c, (uint32_t)i)->rx_owner - (char *)&w->node);
	w->node.next = &w->head.list;
	__asm__ __volatile__("" ::: "memory");
	w->head.list.next = &w->node;
	__asm__ __volatile__("" ::: "memory");
}

static void watch_stop(sysring_chan_t *c)
{
	struct ch_watch *w = c->watch;
	if (!w)
		return;
	watch_point(c, -1);
	/* Release pairs with the thread's acquire: it sees the empty list. */
	sr_store_release(&w->state, 2);
	sr_futex_wake(&w->state, INT_MAX, false);
	pthread_join(w->th, NULL);
	free(w);
	c->watch = NULL;
}

/* ---- senders: identity, presence, liveness ---- */

static int claim_sender(sysring_chan_t *c)
{
	int r = 0;
	pthread_mutex_lock(&c->tx_mtx);
	if (sr_load_relaxed(&c->sslot) >= 0)
		goto out;
	uint32_t start = ((uint32_t)getpid() * 2654435761u ^ (uint32_t)(uintptr_t)c) % c->nsenders;
	struct ch_keep_req q = {.op = KEEP_LOCK_ANY, .fd = c->lockfd, .off = CH_LK_SENDER0, .n = c->nsenders,
				.start = start};
	int lr = keeper_call(&q);
	r = lr == -EAGAIN ? -ENOSPC : lr;
	if (lr >= 0) {
		uint32_t s = (uint32_t)lr;
		struct ch_sender *snd = sender_at(c, s);
		/* A new identity: records of the slot's previous owners no
		 * longer match it. */
		c->sgen = sr_fetch_add(&snd->gen, 1, SR_RELAXED) + 1;
		for (uint32_t l = 0; l < CH_LANES; l++)
			sr_store_relaxed(&snd->inside[l], 0);
		/* Release pairs with the acquire in sysring_get_sqe. */
		sr_store_release(&c->sslot, (int)s);
		r = 0;
	}
out:
	pthread_mutex_unlock(&c->tx_mtx);
	return r;
}

/* Record this thread as inside entry i: a lane of the sender slot of its
 * own (CAS 0 -> i + 1), so that a thread stalled or stopped here names only
 * the entry it is in (one shared count could only say "somewhere" once two
 * threads were inside different entries, and a stalled thread then kept
 * every entry from being emptied). seq_cst: with the following load of the
 * entry's state, a Dekker pair with unregister/reclaim's state change then
 * scan of the lanes. Returns the lane, or -EAGAIN when all CH_LANES lanes
 * stayed taken (that many threads of the handle inside get_sqe at once,
 * each for a few instructions, or stopped there). */
static int enter(struct ch_sender *snd, uint32_t i)
{
	static __thread uint8_t me;
	uint32_t start = (uint32_t)(((uintptr_t)&me >> 6) % CH_LANES);
	for (int round = 0; round < 64; round++) {
		for (uint32_t k = 0; k < CH_LANES; k++) {
			uint32_t l = (start + k) % CH_LANES;
			uint64_t v = 0;
			if (sr_load_relaxed(&snd->inside[l]) == 0 &&
			    sr_cas(&snd->inside[l], &v, (uint64_t)i + 1, SR_SEQ_CST, SR_RELAXED))
				return (int)l;
		}
		sr_cpu_relax();
	}
	return -EAGAIN;
}

/* Release: the reservation record written inside is visible to whoever
 * sees us gone (pairs with the acquire in live_inside). */
static void leave(struct ch_sender *snd, int lane)
{
	sr_store_release(&snd->inside[lane], 0);
}

static bool sender_alive(const sysring_chan_t *c, uint32_t s, uint32_t gen)
{
	return s < c->nsenders && sr_load_relaxed(&sender_at(c, s)->gen) == gen &&
	       lk_held(c, CH_LK_SENDER0 + s);
}

/* A live sender is inside entry i (between READY and its record). */
static bool live_inside(const sysring_chan_t *c, uint32_t i)
{
	for (uint32_t s = 0; s < c->nsenders; s++) {
		struct ch_sender *snd = sender_at(c, s);
		for (uint32_t l = 0; l < CH_LANES; l++) {
			/* Acquire pairs with leave's release. */
			if (sr_load_acquire(&snd->inside[l]) == (uint64_t)i + 1 && lk_held(c, CH_LK_SENDER0 + s))
				return true;
		}
	}
	return false;
}

/* Does the reserved position pos of ring r belong to a live sender? */
static bool record_alive(const sysring_chan_t *c, const struct sr_ring *r, uint64_t pos)
{
	struct ch_payload *pl = payload_at(r, pos);
	/* Acquire pairs with get_sqe's release of the tag. */
	if (sr_load_acquire(&pl->tag) != (uint32_t)pos)
		return false;
	return sender_alive(c, sr_load_relaxed(&pl->sslot), sr_load_relaxed(&pl->sgen));
}

/* Can any live process still write into entry i's ring? (the top comment:
 * (a) presence records, then (b) reservation records, in this order) */
static bool live_holders(const sysring_chan_t *c, uint32_t i)
{
	struct sr_ring r;
	uint64_t h, n;

	if (live_inside(c, i))
		return true;
	ring_of(c, i, &r);
	n = ring_span(&r, &h);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t p = h + k;
		/* Acquire pairs with the release publishing or freeing seq. */
		if (sr_load_acquire(&sr_ring_slot_at(&r, p)->seq) == p && record_alive(c, &r, p))
			return true;
	}
	return false;
}

/* Messages published and not popped in entry i's ring. */
static uint64_t count_queued(const sysring_chan_t *c, uint32_t i)
{
	struct sr_ring r;
	uint64_t h, n, q = 0;

	ring_of(c, i, &r);
	n = ring_span(&r, &h);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t p = h + k;
		if (sr_load_acquire(&sr_ring_slot_at(&r, p)->seq) == p + 1 &&
		    !(sr_load_relaxed(&payload_at(&r, p)->flags) & CH_VOID))
			q++;
	}
	return q;
}

/* Has entry i's receiver died? Asks the kernel (its lock). */
static bool receiver_dead(const sysring_chan_t *c, uint32_t i)
{
	return !lk_held(c, CH_LK_ENTRY0 + i);
}

static void wake_all(uint32_t *w)
{
	sr_fetch_add(w, 1, SR_SEQ_CST);
	sr_futex_wake(w, INT_MAX, true);
}

/*
 * Take entry i for ourselves: its lock, state PENDING, and no live holder
 * left. With the registry lock held. The entry's previous life is counted:
 * a dead receiver's queue as lost, anything else's as dropped. On success
 * the entry is PENDING and its lock ours; -EBUSY if it has a live owner or
 * live holders (then it is left PENDING, draining, for a later look).
 */
static int take_entry(sysring_chan_t *c, uint32_t i)
{
	struct ch_entry *e = entry_at(c, i);
	int r = lk_try(c, CH_LK_ENTRY0 + i);
	if (r)
		return r == -EAGAIN ? -EBUSY : r;
	/* seq_cst: a Dekker pair with the senders' enter then state load. */
	uint32_t st = sr_exchange(&e->state, CH_PENDING, SR_SEQ_CST);
	if (live_holders(c, i)) {
		lk_unlock(c, CH_LK_ENTRY0 + i);
		return -EBUSY;
	}
	if (st != CH_EMPTY) {
		uint64_t q = count_queued(c, i);
		struct ch_seg *s = seg_of(c);
		if (st == CH_READY) {
			stat_add(c, &s->lost, q);
			stat_add(c, &s->reclaimed, 1);
			/* Its sleeping threads died with it. */
			sr_store_relaxed(&e->rx_sleeping, 0);
		} else {
			stat_add(c, &s->dropped, q);
		}
		/* Senders waiting for room look again and find it gone. */
		wake_all(&e->tx_futex);
	}
	return 0;
}

/* Entry i taken by take_entry and not used: EMPTY, lock dropped. */
static void give_back(sysring_chan_t *c, uint32_t i)
{
	/* Release: pairs with the acquire of state in register. */
	sr_store_release(&entry_at(c, i)->state, CH_EMPTY);
	lk_unlock(c, CH_LK_ENTRY0 + i);
}

static int reg_lock(sysring_chan_t *c)
{
	uint64_t end = sr_now_ns() + CH_REG_WAIT_NS;
	unsigned int us = 20;
	for (;;) {
		int r = lk_try(c, CH_LK_REG);
		if (r != -EAGAIN)
			return r;
		if (sr_now_ns() >= end)
			return -EAGAIN; /* held that long: a peer is not letting go */
		usleep(us);
		if (us < 2000)
			us *= 2;
	}
}

/* ---- registration ---- */

SR_EXPORT int sysring_register(sysring_chan_t *c, uint64_t id)
{
	int r, mine = -1;

	if (!c)
		return -EINVAL;
	r = ch_usable(c);
	if (r)
		return r;
	pthread_mutex_lock(&c->reg_mtx);
	if (sr_load_relaxed(&c->my_entry) >= 0) {
		r = -EBUSY;
		goto out;
	}
	r = watch_start(c);
	if (r)
		goto out;
	r = reg_lock(c);
	if (r)
		goto out;
	/* 1. The id must not be held by a live receiver (its lock says so);
	 * a dead one's entry is reclaimed. */
	for (uint32_t i = 0; i < c->nentries; i++) {
		struct ch_entry *e = entry_at(c, i);
		/* Acquire pairs with register's release of READY. */
		if (sr_load_acquire(&e->state) != CH_READY || sr_load_relaxed(&e->id) != id)
			continue;
		if (lk_held(c, CH_LK_ENTRY0 + i)) {
			r = -EEXIST;
			goto unlock;
		}
		if (take_entry(c, i) == 0)
			give_back(c, i);
	}
	/* 2. An entry: EMPTY ones first, then any whose owner is gone. */
	for (int pass = 0; pass < 2 && mine < 0; pass++) {
		for (uint32_t i = 0; i < c->nentries && mine < 0; i++) {
			uint32_t st = sr_load_acquire(&entry_at(c, i)->state);
			if ((pass == 0) != (st == CH_EMPTY))
				continue;
			if (take_entry(c, i) == 0)
				mine = (int)i;
		}
	}
	if (mine < 0) {
		r = -ENOSPC;
		goto unlock;
	}
	/* 3. A fresh ring whose positions continue past every old one, so that
	 * no stale position can match a slot of this registration. */
	struct ch_entry *e = entry_at(c, (uint32_t)mine);
	struct sr_ring ring;
	uint64_t h, n;
	ring_of(c, (uint32_t)mine, &ring);
	n = ring_span(&ring, &h);
	uint64_t base = h + n + 2 * (uint64_t)c->capacity;
	sr_ring_format_base(ring.hdr, sr_ring_bytes(c->capacity, sizeof(struct ch_payload)), c->capacity,
			    sizeof(struct ch_payload), base);
	sr_store_relaxed(&e->id, id);
	uint64_t gen = sr_fetch_add(&e->gen, 1, SR_RELAXED) + 1;
	watch_point(c, mine);
	sr_store_relaxed(&e->rx_owner, (uint32_t)c->watch->tid);
	/* rx_sleeping and tx_waiters are left alone: sleepers of the previous
	 * registration (alive, woken by its unregister) take out what they
	 * put in; a dead receiver's count was cleared by take_entry. */
	/* Release pairs with the senders' acquire of state: a sender that
	 * sees READY sees the formatted ring, the id and the generation. */
	sr_store_release(&e->state, CH_READY);
	c->my_id = id;
	c->my_gen = gen;
	sr_store_relaxed(&c->stuck_since, 0);
	sr_store_release(&c->my_entry, mine);
	r = 0;
unlock:
	lk_unlock(c, CH_LK_REG);
out:
	pthread_mutex_unlock(&c->reg_mtx);
	return r;
}

SR_EXPORT int sysring_unregister(sysring_chan_t *c)
{
	int r = 0;

	if (!c || c->incarn != sr_load_relaxed(&ch_pp->live))
		return -EINVAL;
	pthread_mutex_lock(&c->reg_mtx);
	int mine = sr_load_relaxed(&c->my_entry);
	if (mine < 0) {
		pthread_mutex_unlock(&c->reg_mtx);
		return -EINVAL;
	}
	struct ch_entry *e = entry_at(c, (uint32_t)mine);
	/* Relaxed atomic: other threads of this handle may be receiving.
	 * Those asleep in sysring_recv wake, find the handle unregistered and
	 * return -EINVAL (each takes its own count out of rx_sleeping). */
	sr_store_relaxed(&c->my_entry, -1);
	wake_all(&e->rx_futex);
	/* seq_cst: a Dekker pair with the senders' enter then state load. The
	 * entry is ours by its lock whatever a peer wrote into it. */
	uint32_t st = sr_exchange(&e->state, CH_PENDING, SR_SEQ_CST);
	if (st != CH_READY || sr_load_relaxed(&e->id) != c->my_id || sr_load_relaxed(&e->gen) != c->my_gen ||
	    ch_usable(c))
		r = -EIO; /* someone wrote over our entry */
	uint64_t end = sr_now_ns() + CH_UNREG_WAIT_NS;
	unsigned int us = 50;
	bool held;
	while ((held = live_holders(c, (uint32_t)mine)) && sr_now_ns() < end) {
		usleep(us);
		if (us < 1000)
			us *= 2;
	}
	if (!held) {
		stat_add(c, &seg_of(c)->dropped, count_queued(c, (uint32_t)mine));
		/* Release: the counts and waits above before EMPTY. */
		sr_store_release(&e->state, CH_EMPTY);
	}
	/* else draining: a late sender's reservation still points into the
	 * ring; the entry stays PENDING until a registration finds it free. */
	wake_all(&e->tx_futex);
	watch_point(c, -1);
	uint32_t tid = (uint32_t)c->watch->tid;
	sr_cas(&e->rx_owner, &tid, 0, SR_RELAXED, SR_RELAXED);
	lk_unlock(c, CH_LK_ENTRY0 + (uint32_t)mine);
	pthread_mutex_unlock(&c->reg_mtx);
	return r;
}

/* ---- senders ---- */

static int lookup(sysring_chan_t *c, uint64_t id, uint32_t *idx)
{
	/* The cache is private but shared by the handle's sending threads:
	 * relaxed atomics, and whatever it says is checked against the entry
	 * (a torn pair of fields costs a scan, never a wrong receiver). */
	unsigned int h = (unsigned int)((id * 0x9e3779b97f4a7c15ull) >> 58);
	uint32_t ci = sr_load_relaxed(&c->cache[h].entry);
	if (sr_load_relaxed(&c->cache[h].valid) && sr_load_relaxed(&c->cache[h].id) == id && ci < c->nentries) {
		struct ch_entry *e = entry_at(c, ci);
		/* Acquire pairs with register's release of READY. */
		if (sr_load_acquire(&e->state) == CH_READY && sr_load_relaxed(&e->id) == id) {
			*idx = ci;
			return 0;
		}
	}
	for (uint32_t i = 0; i < c->nentries; i++) {
		struct ch_entry *e = entry_at(c, i);
		/* Acquire pairs with register's release of READY. */
		if (sr_load_acquire(&e->state) == CH_READY && sr_load_relaxed(&e->id) == id) {
			sr_store_relaxed(&c->cache[h].id, id);
			sr_store_relaxed(&c->cache[h].entry, i);
			sr_store_relaxed(&c->cache[h].valid, 1);
			*idx = i;
			return 0;
		}
	}
	return -ENOENT;
}

/* Has entry i's receiver (registration `gen`) died? The kernel decides:
 * the entry's lock, which no peer can forge or keep. Asking it is a system
 * call, so a sender asks at most once per CH_ALIVE_NS per entry and handle
 * while the kernel's death notice is intact, and at once when it is not:
 * rx_owner with FUTEX_OWNER_DIED (the kernel set it when the receiver
 * died, or a peer forged it) or 0 (a peer wiped it, or no receiver). A peer
 * that wipes or rewrites rx_owner so that the kernel's notice never comes
 * delays -ENOENT by CH_ALIVE_NS at most; it never hides a death. */
static bool receiver_gone(sysring_chan_t *c, uint32_t i, uint64_t gen)
{
	uint32_t own = sr_load_relaxed(&entry_at(c, i)->rx_owner);
	struct ch_alive *a = &c->alive[i];
	uint64_t now = sr_now_ns();
	if (sr_likely(own && !(own & FUTEX_OWNER_DIED)) && sr_load_relaxed(&a->gen) == gen &&
	    now < sr_load_relaxed(&a->until))
		return false;
	if (receiver_dead(c, i))
		return true;
	/* Relaxed: a private cache; a torn pair costs one more question. */
	sr_store_relaxed(&a->gen, gen);
	sr_store_relaxed(&a->until, now + CH_ALIVE_NS);
	return false;
}

/* At release: the notice only (the question was asked at reservation, at
 * most CH_ALIVE_NS ago while the notice is intact). */
static bool receiver_gone_hint(const sysring_chan_t *c, uint32_t i)
{
	uint32_t own = sr_load_relaxed(&entry_at(c, i)->rx_owner);
	if (sr_likely(own && !(own & FUTEX_OWNER_DIED)))
		return false;
	return receiver_dead(c, i);
}

SR_EXPORT int sysring_lookup(sysring_chan_t *c, uint64_t id)
{
	uint32_t i;
	if (!c)
		return -EINVAL;
	int r = ch_usable(c);
	if (r)
		return r;
	r = lookup(c, id, &i);
	if (r)
		return r;
	return receiver_dead(c, i) ? -ENOENT : 0;
}

SR_EXPORT int sysring_get_sqe(sysring_chan_t *c, uint64_t id, struct sysring_chan_sqe *sqe)
{
	if (!c || !sqe)
		return -EINVAL;
	int r = ch_usable(c);
	if (r)
		return r;
	/* Acquire pairs with claim_sender's release. */
	if (sr_unlikely(sr_load_acquire(&c->sslot) < 0)) {
		r = claim_sender(c);
		if (r)
			return r;
	}
	uint32_t s = (uint32_t)sr_load_relaxed(&c->sslot);
	struct ch_sender *snd = sender_at(c, s);
	for (int attempt = 0; attempt < 2; attempt++) {
		struct sr_ring ring;
		struct sr_ring_ref ref;
		uint32_t i;

		r = lookup(c, id, &i);
		if (r)
			return r;
		struct ch_entry *e = entry_at(c, i);
		if (receiver_gone(c, i, sr_load_relaxed(&e->gen)))
			return -ENOENT;
		int lane = enter(snd, i);
		if (lane < 0)
			return lane;
		/* seq_cst: see enter. */
		if (__atomic_load_n(&e->state, __ATOMIC_SEQ_CST) != CH_READY || sr_load_relaxed(&e->id) != id) {
			leave(snd, lane);
			continue; /* changed under us: look it up again */
		}
		uint64_t gen = sr_load_relaxed(&e->gen);
		ring_of(c, i, &ring);
		r = sr_ring_push_slot_n(&ring, &ref, CH_SPIN);
		if (r) {
			leave(snd, lane);
			return -EAGAIN;
		}
		struct ch_payload *pl = ref.data;
		sr_store_relaxed(&pl->sslot, (uint16_t)s);
		sr_store_relaxed(&pl->sgen, c->sgen);
		sr_store_relaxed(&pl->flags, 0);
		/* Release pairs with the acquire in record_alive: a tag that
		 * names this position comes with our identity. */
		sr_store_release(&pl->tag, (uint32_t)ref.pos);
		leave(snd, lane);
		sqe->msg = &pl->msg;
		sqe->pos_ = ref.pos;
		sqe->entry_ = i;
		sqe->gen_ = (uint32_t)gen;
		return 0;
	}
	return -ENOENT;
}

SR_EXPORT int sysring_sqe_release(sysring_chan_t *c, struct sysring_chan_sqe *sqe)
{
	struct sr_ring ring;
	struct sr_ring_ref ref;

	if (!c || !sqe || sqe->entry_ >= c->nentries)
		return -EINVAL;
	int r = ch_usable(c);
	if (r)
		return r;
	uint32_t i = sqe->entry_;
	struct ch_entry *e = entry_at(c, i);
	ring_of(c, i, &ring);
	struct ch_payload *pl = payload_at(&ring, sqe->pos_);
	/* Still reserved at our position? Positions are never reused across
	 * registrations, so a slot of another generation, a position given
	 * up or one released already fails here and nothing is touched. */
	if (sr_load_acquire(&sr_ring_slot_at(&ring, sqe->pos_)->seq) != sqe->pos_)
		return -ETIMEDOUT;
	if (sr_load_relaxed(&pl->tag) != (uint32_t)sqe->pos_ || sr_load_relaxed(&pl->sslot) != (uint16_t)c->sslot ||
	    sr_load_relaxed(&pl->sgen) != c->sgen)
		return -EINVAL; /* not a reservation of this handle */
	ref.pos = sqe->pos_;
	ref.data = pl;
	/* Acquire pairs with register's release of READY. */
	if (sr_load_acquire(&e->state) != CH_READY || (uint32_t)sr_load_relaxed(&e->gen) != sqe->gen_ ||
	    receiver_gone_hint(c, i)) {
		/* The receiver left or died since we reserved: consume our
		 * position (it is still ours: reserved at our position, with our
		 * record) with a void record, and say it was not delivered. */
		sr_store_relaxed(&pl->flags, CH_VOID);
		sr_ring_commit_cas(&ring, &ref);
		return -ENOENT;
	}
	r = sr_ring_commit_cas(&ring, &ref);
	if (r)
		return r; /* given up meanwhile: nothing published */
	sr_smp_mb(); /* Dekker with the receiver's rx_sleeping increment then look */
	if (sr_load_relaxed(&e->rx_sleeping)) {
		/* Release pairs with the receiver's acquire of rx_futex. */
		sr_fetch_add(&e->rx_futex, 1, SR_RELEASE);
		sr_futex_wake(&e->rx_futex, 1, true);
	}
	return 0;
}

SR_EXPORT int sysring_send(sysring_chan_t *c, uint64_t id, const struct sysring_msg *msg)
{
	struct sysring_chan_sqe sqe;
	int r;

	if (!msg)
		return -EINVAL;
	r = sysring_get_sqe(c, id, &sqe);
	if (r)
		return r;
	memcpy(sqe.msg, msg, sizeof(*msg));
	return sysring_sqe_release(c, &sqe);
}

SR_EXPORT int sysring_get_sqe_wait(sysring_chan_t *c, uint64_t id, struct sysring_chan_sqe *sqe,
				   const struct timespec *timeout)
{
	uint64_t dl;
	uint32_t i;
	int r = ch_deadline(timeout, &dl);
	if (r)
		return r;
	for (;;) {
		r = sysring_get_sqe(c, id, sqe);
		if (r != -EAGAIN)
			return r;
		uint64_t now = sr_now_ns();
		if (now >= dl)
			return -ETIMEDOUT;
		if (lookup(c, id, &i))
			return -ENOENT;
		struct ch_entry *e = entry_at(c, i);
		/* Acquire pairs with the receiver's increment of tx_futex. */
		uint32_t key = sr_load_acquire(&e->tx_futex);
		/* seq_cst: a Dekker pair with the receiver's pop, fence, load
		 * of the flag (wake_senders). */
		sr_exchange(&e->tx_waiters, 1, SR_SEQ_CST);
		r = sysring_get_sqe(c, id, sqe);
		if (r != -EAGAIN)
			return r;
		/* Also look again every CH_TX_STEP_NS: the receiver may die. */
		r = ch_futex_wait(&e->tx_futex, key, ch_min(dl, ch_after(now, CH_TX_STEP_NS)));
		if (r == -EINTR)
			return -EINTR;
	}
}

/* ---- the receiver ---- */

static void wake_senders(struct ch_entry *e)
{
	sr_smp_mb(); /* Dekker: our frees of slots, then the flag */
	if (sr_load_relaxed(&e->tx_waiters)) {
		/* Everyone who set the flag before we clear it loaded its key
		 * before our increment: it does not sleep through it. */
		sr_store_relaxed(&e->tx_waiters, 0);
		sr_fetch_add(&e->tx_futex, 1, SR_SEQ_CST);
		sr_futex_wake(&e->tx_futex, INT_MAX, true);
	}
}

/* Is the reserved position pos (entry i) held by a live sender? A record
 * names it; with none yet, a live sender inside i may be writing it (it
 * records before it leaves), so look at the presence records, then at the
 * slot once more. */
static bool holder_alive(const sysring_chan_t *c, uint32_t i, const struct sr_ring *r, uint64_t pos)
{
	if (sr_load_acquire(&payload_at(r, pos)->tag) == (uint32_t)pos)
		return record_alive(c, r, pos);
	if (live_inside(c, i))
		return true;
	return record_alive(c, r, pos);
}

/* The head is reserved but unpublished: after CH_STUCK_NS, and then every
 * CH_STUCK_NS, ask the kernel whether its sender lives; give it up only if
 * not. Returns true if it skipped. Several threads may receive on one
 * handle: stuck_* are relaxed atomics, and a race between them only moves
 * the moment of a check (sr_ring_skip itself is a CAS: one wins). */
static bool unstick(sysring_chan_t *c, uint32_t i, struct sr_ring *ring)
{
	uint64_t pos;
	if (!sr_ring_head_unpublished(ring, &pos)) {
		sr_store_relaxed(&c->stuck_since, 0);
		return false;
	}
	uint64_t now = sr_now_ns();
	uint64_t since = sr_load_relaxed(&c->stuck_since);
	if (!since || sr_load_relaxed(&c->stuck_pos) != pos) {
		sr_store_relaxed(&c->stuck_pos, pos);
		sr_store_relaxed(&c->stuck_since, now);
		sr_store_relaxed(&c->stuck_checked, now);
		return false;
	}
	if (now - sr_load_relaxed(&c->stuck_checked) < CH_STUCK_NS)
		return false;
	sr_store_relaxed(&c->stuck_checked, now);
	if (holder_alive(c, i, ring, pos))
		return false; /* slow, not dead */
	if (sr_ring_skip(ring, pos))
		return false;
	sr_store_relaxed(&c->stuck_since, 0);
	stat_add(c, &seg_of(c)->abandoned, 1);
	return true;
}

SR_EXPORT int sysring_pop_multiple(sysring_chan_t *c, struct sysring_msg *out, long max)
{
	struct ch_payload tmp[32];
	struct sr_ring ring;
	long got = 0;
	bool popped = false;

	if (!c || !out || max < -1)
		return -EINVAL;
	int r = ch_usable(c);
	if (r)
		return r;
	int mine = sr_load_relaxed(&c->my_entry);
	if (mine < 0)
		return -EINVAL;
	if (max == 0)
		return 0;
	struct ch_entry *e = entry_at(c, (uint32_t)mine);
	/* Acquire pairs with register's release of READY (our own). */
	if (sr_load_acquire(&e->state) != CH_READY || sr_load_relaxed(&e->id) != c->my_id ||
	    sr_load_relaxed(&e->gen) != c->my_gen)
		return -EIO; /* our entry was changed by someone else */
	ring_of(c, (uint32_t)mine, &ring);
	/* max == -1: what the caller's array holds (the capacity). Otherwise
	 * the caller's count, whatever it is: we pop until it is reached or
	 * the queue has nothing published at its head. Each round pops at
	 * least one message or ends the loop, so it ends after at most `limit`
	 * rounds of pops, and at most one unstick round per pop. */
	long limit = max < 0 ? (long)c->capacity : max > INT_MAX ? INT_MAX : max;
	/* A peer rewriting head could keep us popping void records: bound the
	 * positions consumed (honest voids are rare: a release after the
	 * receiver left). */
	uint64_t consumed = 0, budget = (uint64_t)limit + 2 * (uint64_t)c->capacity;
	while (got < limit && consumed < budget) {
		long want = limit - got < 32 ? limit - got : 32;
		int n = sr_ring_pop_multiple_n(&ring, tmp, want, CH_SPIN);
		if (n <= 0) {
			if (got || !unstick(c, (uint32_t)mine, &ring))
				break;
			continue;
		}
		popped = true;
		consumed += (uint64_t)n;
		for (int k = 0; k < n; k++)
			if (!(tmp[k].flags & CH_VOID))
				memcpy(&out[got++], &tmp[k].msg, sizeof(struct sysring_msg));
		if (n < want)
			break;
	}
	if (popped)
		wake_senders(e);
	return got ? (int)got : -EAGAIN;
}

SR_EXPORT int sysring_pop(sysring_chan_t *c, struct sysring_msg *out)
{
	int r = sysring_pop_multiple(c, out, 1);
	return r > 0 ? 0 : r;
}

/* A receiver is no longer asleep: take out its own count. Saturating and
 * bounded, since a peer may write anything here; a wrong count only costs
 * or saves a wake-up. */
static void rx_awake(struct ch_entry *e)
{
	uint32_t v = sr_load_relaxed(&e->rx_sleeping);
	for (int k = 0; v && k < 64; k++)
		if (sr_cas_weak(&e->rx_sleeping, &v, v - 1, SR_RELAXED, SR_RELAXED))
			return;
}

static uint32_t chan_spin_ns(void)
{
	static uint32_t v = UINT32_MAX;
	uint32_t cur = sr_load_relaxed(&v);
	if (cur == UINT32_MAX) {
		const char *env = getenv("SYSRING_CHAN_SPIN_NS");
		cur = env ? (uint32_t)strtoul(env, NULL, 10) : CH_SPIN_NS;
		if (cur > 10000000u)
			cur = 10000000u;
		sr_store_relaxed(&v, cur);
	}
	return cur;
}

/* recv's polling phase, until `until`. A signal handler that ran while we
 * poll in user space would go unnoticed (no system call to interrupt), so
 * signals are blocked meanwhile (not the synchronous ones: faults must reach
 * their handlers, our SIGBUS one among them) and looked for every few
 * rounds: one that arrived ends the poll, runs when the mask is restored,
 * and makes recv return -EINTR unless its handler has SA_RESTART, as if it
 * had interrupted the futex wait. Costs two or three system calls per poll
 * phase that outlasts CH_SPIN_BARE_NS, none per message while messages flow
 * (the first pop succeeds) or come within it. Returns
 * pop_multiple's result, -EAGAIN (nothing came), or -EINTR. */
static int recv_spin(sysring_chan_t *c, struct sysring_msg *out, long max, uint64_t until)
{
	sigset_t all, old;
	bool any = false;
	int r, intr = 0;
	sigfillset(&all);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGTRAP);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned int k = 1;; k++) {
		r = sysring_pop_multiple(c, out, max);
		if (r != -EAGAIN || sr_now_ns() >= until)
			break;
		if (!(k & 15)) {
			intr = ch_signals_interrupt(&old, &any);
			if (any)
				break;
		}
		for (int i = 0; i < 64; i++)
			sr_cpu_relax();
	}
	if (!any && r == -EAGAIN) /* with messages we return them, as read(2) would */
		intr = ch_signals_interrupt(&old, &any);
	pthread_sigmask(SIG_SETMASK, &old, NULL); /* the handlers run here */
	return r == -EAGAIN && intr ? -EINTR : r;
}

SR_EXPORT int sysring_recv(sysring_chan_t *c, struct sysring_msg *out, long max,
			   const struct timespec *timeout)
{
	uint64_t dl;
	bool spun = false;
	struct sr_ring ring;

	if (!c)
		return -EINVAL;
	int r = ch_usable(c);
	if (r)
		return r;
	if (sr_load_relaxed(&c->my_entry) < 0)
		return -EINVAL;
	r = ch_deadline(timeout, &dl);
	if (r)
		return r;
	for (;;) {
		r = sysring_pop_multiple(c, out, max);
		if (r != -EAGAIN)
			return r;
		/* Every round looks at the deadline: whatever the ring holds,
		 * this loop ends at the timeout. */
		uint64_t now = sr_now_ns();
		if (now >= dl)
			return -ETIMEDOUT;
		/* Poll a little before sleeping: a wake-up costs a system call
		 * on the sender and a context switch here (docs/channels.md). */
		if (!spun) {
			uint32_t sp = sr_load_relaxed(&c->spin_ns);
			spun = true;
			sp = sp == UINT32_MAX ? chan_spin_ns() : sp;
			if (sp) {
				/* The first CH_SPIN_BARE_NS without the signal mask:
				 * a busy peer's message comes within it, and two
				 * system calls there would cost a round trip a
				 * fifth. A handler that runs in this window (a
				 * couple of microseconds) is like one that ran just
				 * before the call. */
				uint64_t until = ch_min(dl, ch_after(now, sp));
				uint64_t bare = ch_min(until, ch_after(now, CH_SPIN_BARE_NS));
				do {
					for (int i = 0; i < 64; i++)
						sr_cpu_relax();
					r = sysring_pop_multiple(c, out, max);
					if (r != -EAGAIN)
						return r;
				} while (sr_now_ns() < bare);
				r = recv_spin(c, out, max, until);
				if (r != -EAGAIN)
					return r;
				continue;
			}
		}
		int mine = sr_load_relaxed(&c->my_entry);
		if (mine < 0)
			return -EINVAL; /* unregistered by another thread */
		struct ch_entry *e = entry_at(c, (uint32_t)mine);
		ring_of(c, (uint32_t)mine, &ring);
		/* Acquire pairs with the sender's increment of rx_futex. */
		uint32_t key = sr_load_acquire(&e->rx_futex);
		sr_fetch_add(&e->rx_sleeping, 1, SR_SEQ_CST);
		sr_smp_mb(); /* Dekker with sysring_sqe_release */
		/* A published head: go and pop it. A reserved one: sleep
		 * counted, so that its sender's release (publish, fence, load of
		 * rx_sleeping) wakes us, or our look here sees it published. */
		uint64_t h = sr_load_relaxed(&ring.hdr->head);
		/* Acquire pairs with the producer's release of seq. */
		if (sr_load_acquire(&sr_ring_slot_at(&ring, h)->seq) == h + 1 || sr_load_relaxed(&c->my_entry) < 0) {
			rx_awake(e);
			continue;
		}
		/* While the head is stuck, look again when it may be given up;
		 * and however quiet the queue, every CH_RECHECK_NS (a wake-up a
		 * peer swallowed costs that, not forever). */
		uint64_t wake = ch_min(dl, ch_after(now, CH_RECHECK_NS));
		if (sr_load_relaxed(&c->stuck_since))
			wake = ch_min(wake, ch_after(now, CH_STUCK_NS));
		r = ch_futex_wait(&e->rx_futex, key, wake);
		rx_awake(e);
		if (r == -EINTR)
			return -EINTR;
	}
}

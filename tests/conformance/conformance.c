/* SPDX-License-Identifier: MIT */
/*
 * The differential conformance suite (issue 12): every row of rows.c is a
 * situation -- a setup of one kind (kinds.c) and up to four calls with
 * symbolic arguments -- run first as plain system calls, the reference, then
 * through each face:
 *
 *   async         async_submit, one cb per call, vargs pointing at the values
 *   syslet        one atom per call chained by `next`, async_exec (cached
 *                 where the engine can)
 *   syslet-async  the same with SYSLET_ASYNC on every atom
 *   batch-loop    Batchsys's own pushes (batchsys_push_read, ..._close, ...)
 *                 where the call has one, batchsys_push_syscall otherwise;
 *                 the loop executor (SYSRING_BATCHSYS_EXEC_LOOP)
 *   batch-uring   the same, the io_uring executor (SYSRING_BATCHSYS_EXEC_URING)
 *
 * under the engine and inline setting the test runs in (ctest's matrix label
 * sets SYSRING_ENGINE and SYSRING_INLINE; kmod in the guest). Each run gets
 * a fresh setup and the same memory; afterwards the harness observes and
 * compares with the reference: every call's result and errno and how many
 * ran, the caller's memory the calls could write (32 KiB of buffers plus the
 * lengths, offsets, iovecs, msghdrs, counters), the file position of both
 * fds, what is left to read on them (bytes, a hash, end of file or EAGAIN),
 * the fd table (numbers, types, flags, close-on-exec), the run directory
 * (names, types, modes, owners, sizes, contents, link targets), and the
 * timing class: a call that returns at once plainly must give its event
 * within 500 ms with nothing else happening; one that waits plainly must
 * not block the submitting thread (async, syslet) and must complete once
 * the row's release action (data written, a connection made, ...) is done.
 *
 * A difference is a divergence (the test fails) unless the row declares it
 * expected for that face and configuration, with the reason (documented in
 * docs/engines.md). The summary prints situations x configurations compared.
 *
 * Usage: t_conformance [-v] [-r substring] [-x substring] [-f face]
 *   -r runs only the rows whose name contains it, -x leaves them out
 */
#include "conf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <sysring.h>
#include <sysring/batchsys.h>

#define PG 4096L
#define PROMPT_MS 3000 /* a call that returns at once must give its event by then (a waiting one never does; loaded CI) */
#define EARLY_MS 20   /* a waiting call must not have completed by then */
#define RELEASE_MS 20 /* plain and batch: the release comes this late */
#define GUARD_MS 2000 /* async/syslet: a blocked submit is released by then (it would wait forever) */
#define LATE_MS 5000  /* after the release, the event comes by then */

/* ---- the caller's memory the rows name ---- */

static char *arena;
#define BUF (arena)
#define BUF_BYTES (8 * PG)
#define HOLE1 (arena + 8 * PG)
#define PGX (arena + 9 * PG)
#define ROPG (arena + 10 * PG)
#define HOLE2 (arena + 11 * PG)
#define AUXO (arena + 12 * PG) /* outputs the calls may write: compared */
#define AUXO_BYTES (2 * PG)
#define AUXI (arena + 14 * PG) /* inputs that differ per run (addresses): not compared */
#define AUXI_BYTES PG

uint32_t *conf_futex;
char conf_root[128], conf_run[160], conf_pfile[160], conf_pdir[160];
static size_t auxo_used, auxi_used;

static void *auxo(size_t n)
{
	void *p = AUXO + auxo_used;
	auxo_used += (n + 15) & ~(size_t)15;
	if (auxo_used > AUXO_BYTES)
		abort();
	return p;
}

static void *auxi(size_t n)
{
	void *p = AUXI + auxi_used;
	auxi_used += (n + 15) & ~(size_t)15;
	if (auxi_used > AUXI_BYTES)
		abort();
	return p;
}

static void mem_reset(void)
{
	for (long i = 0; i < BUF_BYTES; i++)
		BUF[i] = (char)('A' + (i * 13) % 23);
	memset(PGX, 'x', PG);
	memset(AUXO, 0, AUXO_BYTES);
	memset(AUXI, 0, AUXI_BYTES);
	auxo_used = 64; /* the futex word lives at AUXO */
	auxi_used = 0;
	conf_futex = (uint32_t *)AUXO;
}

static void arena_init(void)
{
	arena = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (arena == MAP_FAILED)
		abort();
	memset(ROPG, 'R', PG);
	if (mprotect(HOLE1, PG, PROT_NONE) || mprotect(ROPG, PG, PROT_READ) || mprotect(HOLE2, PG, PROT_NONE) ||
	    mprotect(arena + 15 * PG, PG, PROT_NONE))
		abort();
}

/* ---- run directory ---- */

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char p[512];

	if (!d) {
		unlink(path);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (de->d_type == DT_DIR)
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(path);
}

static void run_dir_reset(void)
{
	rm_tree(conf_run);
	if (mkdir(conf_run, 0755)) {
		perror("mkdir run");
		exit(1);
	}
}

/* ---- configuration ---- */

static const char *face_names[F__COUNT] = {"async", "syslet", "syslet-async", "batch-loop", "batch-uring"};
static uint32_t cfg_bits;
static char cfg_label[64];
static int verbose;
static const char *only_row, *skip_row;
static const char *cur_row, *cur_face;
static int only_face = -1;

static void config_init(void)
{
	const char *eng = getenv("SYSRING_ENGINE"), *inl = getenv("SYSRING_INLINE");
	bool inline_on = !(inl && !strcmp(inl, "0"));

	if (!eng || !strcmp(eng, "auto"))
		cfg_bits = XC_AUTO;
	else if (!strcmp(eng, "threads"))
		cfg_bits = XC_THREADS;
	else if (!strcmp(eng, "uring"))
		cfg_bits = XC_URING;
	else
		cfg_bits = XC_KMOD;
	cfg_bits |= inline_on ? XC_INLINE : XC_NOINLINE;
	snprintf(cfg_label, sizeof(cfg_label), "%s, inline %s", eng ? eng : "auto", inline_on ? "on" : "off");
}

/* ---- arguments ---- */

struct resolved {
	long a[4][6];
	bool vunm[4][6]; /* the argument's pointer itself is unmapped (by-pointer faces) */
	unsigned nargs[4];
};

static unsigned call_nargs(long nr)
{
	struct sysring_syscall_info info;
	if (nr == __NR_umem_add)
		return 2;
	if (sysring_syscall_info(nr, &info) == 0)
		return info.nargs;
	return 6;
}

static const char *run_path(char *out, size_t n, const char *s)
{
	if (!*s || *s == '/')
		snprintf(out, n, "%s", s);
	else
		snprintf(out, n, "%s/%s", conf_run, s);
	return out;
}

static long mk_iov(long pattern)
{
	struct iovec *v;
	switch (pattern) { /* iovec patterns of rows.c */
	case IOV_ONE:
		v = auxo(sizeof(*v));
		v[0] = (struct iovec){BUF, 100};
		break;
	case IOV_TWO:
		v = auxo(2 * sizeof(*v));
		v[0] = (struct iovec){BUF, 10};
		v[1] = (struct iovec){BUF + 1000, 20};
		break;
	case IOV_EDGE:
		v = auxo(2 * sizeof(*v));
		v[0] = (struct iovec){BUF, 10};
		v[1] = (struct iovec){HOLE1 - 50, 100};
		break;
	case IOV_ONE_RWRO:
		v = auxo(sizeof(*v));
		v[0] = (struct iovec){ROPG - 50, 100};
		break;
	case IOV_BADBASE:
		v = auxo(2 * sizeof(*v));
		v[0] = (struct iovec){HOLE2, 10};
		v[1] = (struct iovec){BUF, 10};
		break;
	case IOV_RO:
		v = auxo(sizeof(*v));
		v[0] = (struct iovec){ROPG, 10};
		break;
	case IOV_MANY: /* 1025 iovecs (16400 bytes), in BUF from 8 KiB on */
		v = (struct iovec *)(BUF + 8192);
		for (int i = 0; i < 1025; i++)
			v[i] = (struct iovec){BUF, 1};
		break;
	case IOV_HUGE:
		v = auxo(2 * sizeof(*v));
		v[0] = (struct iovec){BUF, 10};
		v[1] = (struct iovec){BUF, (size_t)-1 / 2 + 10};
		break;
	default:
		abort();
	}
	return (long)v;
}

static long mk_msg(long pattern, const struct env *e)
{
	struct msghdr *m = auxo(sizeof(*m));
	struct iovec *v = auxo(sizeof(*v));

	*v = (struct iovec){BUF, 64};
	m->msg_iov = v;
	m->msg_iovlen = 1;
	switch (pattern) { /* msghdr patterns of rows.c */
	case MSG_ONE:
		break;
	case MSG_NAME:
		m->msg_name = auxo(128);
		m->msg_namelen = 128;
		break;
	case MSG_BADIOV:
		m->msg_iov = (struct iovec *)HOLE2;
		break;
	case MSG_BADNAME:
		m->msg_name = HOLE2;
		m->msg_namelen = 16;
		break;
	case MSG_IOVUNM:
		*v = (struct iovec){HOLE2, 64};
		break;
	default:
		abort();
	}
	(void)e;
	return (long)m;
}

static long resolve_arg(const struct arg *g, const struct env *e)
{
	char *s;
	switch (g->t) { /* argument kinds of rows.c */
	case A_V:
		return g->v;
	case A_FD:
		return e->fd;
	case A_FD2:
		return e->fd2;
	case A_FDX:
		return e->fdx;
	case A_BUF:
		return (long)(BUF + g->v);
	case A_RO:
		return (long)(ROPG + g->v);
	case A_UNM:
		return (long)(HOLE2 + g->v);
	case A_EDGE:
		return (long)(HOLE1 - g->v);
	case A_RWRO:
		return (long)(ROPG - g->v);
	case A_PATH:
	case A_PATH2:
	case A_PATHN:
		s = auxi(256);
		snprintf(s, 256, "%s", g->t == A_PATH ? e->path : g->t == A_PATH2 ? e->path2 : "");
		if (g->t == A_PATHN)
			snprintf(s, 256, "%s/missing", conf_run);
		return (long)s;
	case A_STR:
		s = auxi(strlen(conf_strs[g->v]) + 200);
		run_path(s, strlen(conf_strs[g->v]) + 200, conf_strs[g->v]);
		return (long)s;
	case A_IOV:
		return mk_iov(g->v);
	case A_MSG:
		return mk_msg(g->v, e);
	case A_LENP: {
		socklen_t *l = auxo(sizeof(*l));
		*l = (socklen_t)g->v;
		return (long)l;
	}
	case A_OFFP: {
		loff_t *o = auxo(sizeof(*o));
		*o = g->v;
		return (long)o;
	}
	case A_CTR: {
		uint64_t *c = auxo(sizeof(*c));
		*c = (uint64_t)g->v;
		return (long)c;
	}
	case A_ADDR: {
		void *a = auxi(sizeof(e->addr));
		memcpy(a, &e->addr, sizeof(e->addr));
		return (long)a;
	}
	case A_ADDRLEN:
		return e->addrlen;
	case A_HOW: {
		struct open_how *h = auxi(sizeof(*h));
		h->flags = (uint64_t)g->v;
		h->mode = (g->v & (O_CREAT | __O_TMPFILE)) ? 0640 : 0;
		return (long)h;
	}
	case A_EPEV: {
		struct epoll_event *ev = auxi(sizeof(*ev));
		ev->events = (uint32_t)g->v;
		ev->data.u64 = 99;
		return (long)ev;
	}
	case A_FUTEX:
		return (long)conf_futex;
	case A_TS: {
		struct timespec *ts = auxi(sizeof(*ts));
		ts->tv_sec = g->v / 1000000000L;
		ts->tv_nsec = g->v % 1000000000L;
		return (long)ts;
	}
	case A_VUNM:
		return 0;
	case A_PID:
		return e->child;
	default:
		abort();
	}
}

static void resolve(const struct row *r, const struct env *e, struct resolved *rs)
{
	memset(rs, 0, sizeof(*rs));
	for (unsigned i = 0; i < conf_ncalls(r); i++) {
		rs->nargs[i] = call_nargs(r->c[i].nr);
		for (unsigned j = 0; j < 6; j++) {
			const struct arg *g = &r->c[i].a[j];
			rs->a[i][j] = resolve_arg(g, e);
			rs->vunm[i][j] = g->t == A_VUNM;
		}
	}
}

/* ---- the releaser: makes a waiting plain call (or batch) return ---- */

static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rl_cv = PTHREAD_COND_INITIALIZER;
static struct {
	bool armed, busy, fired, quit;
	uint64_t at;
	enum kind k;
	struct env *e;
} rl;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *releaser(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&rl_mu);
	while (!rl.quit) {
		if (!rl.armed) {
			pthread_cond_wait(&rl_cv, &rl_mu);
			continue;
		}
		uint64_t t = now_ns();
		if (t < rl.at) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			uint64_t d = rl.at - t;
			ts.tv_sec += (time_t)(d / 1000000000ull);
			ts.tv_nsec += (long)(d % 1000000000ull);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&rl_cv, &rl_mu, &ts);
			continue;
		}
		rl.armed = kind_release_repeats(rl.k); /* again in 50 ms, until disarmed */
		rl.at = now_ns() + 50 * 1000000ull;
		rl.busy = true;
		rl.fired = true;
		pthread_mutex_unlock(&rl_mu);
		kind_release(rl.k, rl.e);
		pthread_mutex_lock(&rl_mu);
		rl.busy = false;
		pthread_cond_broadcast(&rl_cv);
	}
	pthread_mutex_unlock(&rl_mu);
	return NULL;
}

static void rl_arm(enum kind k, struct env *e, int ms)
{
	pthread_mutex_lock(&rl_mu);
	rl.k = k;
	rl.e = e;
	rl.fired = false;
	rl.at = now_ns() + (uint64_t)ms * 1000000ull;
	rl.armed = true;
	pthread_cond_broadcast(&rl_cv);
	pthread_mutex_unlock(&rl_mu);
}

/* Disarm; true if the release was done (the call needed it). */
static bool rl_disarm(void)
{
	bool fired;
	pthread_mutex_lock(&rl_mu);
	rl.armed = false;
	while (rl.busy)
		pthread_cond_wait(&rl_cv, &rl_mu);
	fired = rl.fired;
	pthread_mutex_unlock(&rl_mu);
	return fired;
}

/* ---- observation ---- */

enum cls { CLS_PROMPT, CLS_WAITED, CLS_BLOCKED, CLS_LOST };
static const char *cls_names[] = {"returns at once", "waits for the release", "blocked the submitter",
				  "no event"};

struct obs {
	int ran;
	long res[4];
	int cls;
	uint64_t mem;
	long pos[2];
	char drain[2][96];
	char fdt[512];
	char fs[1536];
	char extra[96];
	const char *na; /* not applicable: why */
};

static unsigned char baseline[65536 / 8];

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;
	return h;
}

static void list_fds(void (*fn)(int fd, void *arg), void *arg)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int own, fds[1024], n = 0;

	if (!d) { /* no procfs: scan */
		for (int fd = 0; fd < 1024; fd++)
			if (fcntl(fd, F_GETFD) >= 0)
				fn(fd, arg);
		return;
	}
	own = dirfd(d);
	while ((de = readdir(d)) && n < 1024) {
		int fd = atoi(de->d_name);
		if (de->d_name[0] != '.' && fd != own)
			fds[n++] = fd;
	}
	closedir(d);
	/* readdir order is the numeric order on procfs, but do not rely on it */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	for (int i = 0; i < n; i++)
		fn(fds[i], arg);
}

static void mark_baseline(int fd, void *arg)
{
	(void)arg;
	if (fd >= 0 && fd < 65536)
		baseline[fd / 8] |= (unsigned char)(1u << (fd % 8));
}

static bool in_baseline(int fd)
{
	return fd >= 0 && fd < 65536 && (baseline[fd / 8] & (1u << (fd % 8)));
}

static void describe_fd(int fd, void *arg)
{
	char *out = arg;
	struct stat st;
	size_t l = strlen(out);

	if (in_baseline(fd) || l > 480)
		return;
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
	if (fstat(fd, &st))
		st.st_mode = 0;
	snprintf(out + l, 512 - l, "%d:%o:%x:%d ", fd, (unsigned)(st.st_mode & S_IFMT) >> 12,
		 fl < 0 ? 0 : fl & (O_ACCMODE | O_NONBLOCK | O_APPEND | O_DIRECT | O_NOATIME | O_PATH), fdfl > 0);
}

static void close_new(int fd, void *arg)
{
	(void)arg;
	if (!in_baseline(fd))
		close(fd);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void describe_fs(char *out, size_t n)
{
	DIR *d = opendir(conf_run);
	struct dirent *de;
	char *names[64];
	int k = 0;

	out[0] = 0;
	if (!d)
		return;
	while ((de = readdir(d)) && k < 64)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names[k++] = strdup(de->d_name);
	closedir(d);
	qsort(names, (size_t)k, sizeof(names[0]), cmp_str);
	for (int i = 0; i < k; i++) {
		char p[512], tgt[128] = "", xv[32] = "";
		struct stat st;
		uint64_t h = 0;
		size_t l = strlen(out);
		snprintf(p, sizeof(p), "%s/%s", conf_run, names[i]);
		if (lstat(p, &st) == 0) {
			if (S_ISLNK(st.st_mode)) {
				ssize_t r = readlink(p, tgt, sizeof(tgt) - 1);
				tgt[r > 0 ? r : 0] = 0;
			} else if (S_ISREG(st.st_mode)) {
				char buf[16384];
				int fd = open(p, O_RDONLY);
				ssize_t r;
				h = 0xcbf29ce484222325ull;
				while (fd >= 0 && (r = read(fd, buf, sizeof(buf))) > 0)
					h = fnv(h, buf, (size_t)r);
				if (fd >= 0)
					close(fd);
				ssize_t xl = getxattr(p, "user.sr", xv, sizeof(xv) - 1);
				xv[xl > 0 ? xl : 0] = 0;
			}
			snprintf(out + l, n - l, "%s:%o:%u:%u:%ld:%lu:%s:%016llx:%s ", names[i], (unsigned)st.st_mode,
				 st.st_uid, st.st_gid, S_ISDIR(st.st_mode) ? 0L : (long)st.st_size,
				 (unsigned long)st.st_nlink, tgt, (unsigned long long)h, xv);
		}
		free(names[i]);
	}
}

/* Data sent on an IPv4/IPv6 socket over loopback reaches the peer in a
 * softirq, which a busy machine (the qemu guest under emulation: about 8%
 * of sends there) may run after the send has returned, in ksoftirqd. What
 * the call sent counts as sent, so the observation waits for it, at most
 * 200 ms each:
 *   - until no CPU's backlog holds a packet (/proc/net/softnet_stat, 12th
 *     column: the loopback packets waiting for that softirq); one read of
 *     the file when nothing waits;
 *   - TCP: until the socket has nothing unacknowledged (SIOCOUTQ is 0; the
 *     peer acknowledges once the data is in its queue), or the peer holds
 *     at least that much (its acknowledgement is merely delayed). */
static int inet_type(int fd)
{
	int type = 0, dom = 0;
	socklen_t l = sizeof(type), m = sizeof(dom);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &m) || (dom != AF_INET && dom != AF_INET6) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l))
		return 0;
	return type;
}

static bool net_backlog(void)
{
	FILE *f = fopen("/proc/net/softnet_stat", "re");
	char line[256];
	bool busy = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned int v[12];
		if (sscanf(line, "%x %x %x %x %x %x %x %x %x %x %x %x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			   &v[6], &v[7], &v[8], &v[9], &v[10], &v[11]) == 12 && v[11])
			busy = true;
	}
	fclose(f);
	return busy;
}

static void settle(int fd, int peer)
{
	int q = 0, in = 0;

	if (!inet_type(fd))
		return;
	for (int i = 0; i < 200 && net_backlog(); i++)
		usleep(1000);
	if (inet_type(fd) != SOCK_STREAM)
		return;
	for (int i = 0; i < 200 && !ioctl(fd, SIOCOUTQ, &q) && q > 0; i++) {
		if (inet_type(peer) == SOCK_STREAM && !ioctl(peer, SIOCINQ, &in) && in >= q)
			return;
		usleep(1000);
	}
}

static void drain(int fd, char *out)
{
	static char buf[65536];
	uint64_t h = 0xcbf29ce484222325ull;
	long n = 0;
	const char *end = "more";
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0) {
		snprintf(out, 96, "closed");
		return;
	}
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	for (int i = 0; i < 512; i++) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r > 0) {
			h = fnv(h, buf, (size_t)r);
			h = fnv(h, &r, sizeof(r)); /* record boundaries */
			n += r;
			continue;
		}
		end = r == 0 ? "eof" : errno == EAGAIN ? "EAGAIN" : strerrorname_np(errno);
		break;
	}
	snprintf(out, 96, "n=%ld h=%016llx %s", n, (unsigned long long)h, end ? end : "?");
}

static uint64_t mem_hash(uint32_t flags)
{
	static char copy[sizeof(struct stat) > sizeof(struct statx) ? sizeof(struct stat) : sizeof(struct statx)];
	uint64_t h = 0xcbf29ce484222325ull;

	if (flags & R_NOMEM)
		return 0;
	if (flags & (R_MASKSTAT | R_MASKSTATX)) {
		/* a new object's inode number and times are its own */
		memcpy(copy, BUF, sizeof(copy));
		if (flags & R_MASKSTAT) {
			struct stat *st = (struct stat *)copy;
			st->st_ino = 0;
			memset(&st->st_atim, 0, sizeof(st->st_atim));
			memset(&st->st_mtim, 0, sizeof(st->st_mtim));
			memset(&st->st_ctim, 0, sizeof(st->st_ctim));
		} else {
			struct statx *sx = (struct statx *)copy;
			sx->stx_ino = 0;
			memset(&sx->stx_atime, 0, sizeof(sx->stx_atime));
			memset(&sx->stx_btime, 0, sizeof(sx->stx_btime));
			memset(&sx->stx_ctime, 0, sizeof(sx->stx_ctime));
			memset(&sx->stx_mtime, 0, sizeof(sx->stx_mtime));
		}
		h = fnv(h, copy, sizeof(copy));
		h = fnv(h, BUF + sizeof(copy), (size_t)BUF_BYTES - sizeof(copy));
	} else {
		h = fnv(h, BUF, (size_t)BUF_BYTES);
	}
	h = fnv(h, PGX, (size_t)PG);
	return fnv(h, AUXO, (size_t)AUXO_BYTES);
}

static void observe(enum kind k, struct env *e, uint32_t flags, struct obs *o)
{
	if (flags & R_CLOSE_FD2) {
		close(e->fd2);
		e->fd2 = -1;
	}
	if (flags & R_CLOSE_FD) {
		close(e->fd);
		e->fd = -1;
	}
	o->mem = mem_hash(flags);
	o->fdt[0] = 0;
	list_fds(describe_fd, o->fdt);
	o->pos[0] = e->fd >= 0 && lseek(e->fd, 0, SEEK_CUR) >= 0 ? lseek(e->fd, 0, SEEK_CUR) : -errno;
	o->pos[1] = e->fd2 >= 0 && lseek(e->fd2, 0, SEEK_CUR) >= 0 ? lseek(e->fd2, 0, SEEK_CUR) : -errno;
	if (e->fd < 0)
		o->pos[0] = -EBADF;
	if (e->fd2 < 0)
		o->pos[1] = -EBADF;
	describe_fs(o->fs, sizeof(o->fs));
	o->drain[0][0] = o->drain[1][0] = 0;
	settle(e->fd, e->fd2);
	settle(e->fd2, e->fd);
	if (e->drain_fd && e->fd >= 0)
		drain(e->fd, o->drain[0]);
	if ((e->drain_fd2 || (flags & R_CLOSE_FD)) && e->fd2 >= 0)
		drain(e->fd2, o->drain[1]);
	o->extra[0] = 0;
	if (k == K_PROC_COMM) {
		int fd = open("/proc/self/comm", O_RDONLY);
		ssize_t r = fd >= 0 ? read(fd, o->extra, sizeof(o->extra) - 1) : -1;
		o->extra[r > 0 ? r : 0] = 0;
		if (fd >= 0)
			close(fd);
	}
}

/* ---- the reference: plain calls ---- */

static bool writable_here(long p)
{
	return (p >= (long)BUF && p + 8 <= (long)(BUF + BUF_BYTES)) || (p >= (long)AUXO && p + 8 <= (long)(AUXO + AUXO_BYTES));
}

static long plain_call(long nr, const long a[6], const bool vunm[6], unsigned nargs)
{
	for (unsigned j = 0; j < nargs; j++)
		if (vunm[j])
			return -EFAULT; /* as the 2007 syslets' get_user of arg_ptr */
	if (nr == __NR_umem_add) {
		/* umem_add has no kernel call: its definition */
		if (!writable_here(a[0]))
			return -EFAULT;
		return (long)__atomic_add_fetch((uint64_t *)a[0], (uint64_t)a[1], __ATOMIC_SEQ_CST);
	}
	long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	return r == -1 ? -errno : r;
}

static void run_plain(const struct row *r, enum kind k, struct env *e, const struct resolved *rs, struct obs *o)
{
	bool waits = kind_waits(k), released = false;

	o->cls = CLS_PROMPT;
	for (unsigned i = 0; i < conf_ncalls(r); i++) {
		if (waits && !released)
			rl_arm(k, e, RELEASE_MS);
		long res = plain_call(r->c[i].nr, rs->a[i], rs->vunm[i], rs->nargs[i]);
		if (waits && !released && rl_disarm()) {
			released = true;
			o->cls = CLS_WAITED;
		}
		o->res[o->ran++] = res;
		if ((r->flags & R_STOP) && res < 0)
			break;
	}
}

/* ---- faces ---- */

static async_context_t actx;
static struct syslet_uatom *ring[64];
static unsigned ring_next;
static int bsh = -1;
static batchsys_batch_t *bsb;

static int wait_event(struct async_event *ev, int ms);

/* After a release: wait up to LATE_MS, repeating a release that repeats. */
static int wait_released(enum kind k, struct env *e, struct async_event *ev)
{
	int n = 0;
	for (int t = 0; t < LATE_MS && n != 1; t += 50) {
		n = wait_event(ev, kind_release_repeats(k) ? 50 : LATE_MS);
		if (n != 1 && kind_release_repeats(k))
			kind_release(k, e);
		if (!kind_release_repeats(k))
			break;
	}
	return n;
}

static int wait_event(struct async_event *ev, int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	int n;
	do
		n = async_getevents(actx, 1, 1, ev, &ts);
	while (n < 0 && errno == EINTR);
	return n;
}

static void run_async(const struct row *r, enum kind k, struct env *e, const struct resolved *rs, bool plain_waited,
		      struct obs *o)
{
	bool released = false;

	o->cls = CLS_PROMPT;
	for (unsigned i = 0; i < conf_ncalls(r); i++) {
		struct {
			long number;
			void *vargs[7];
		} cb;
		long vals[6];
		struct async_cb *cbp = (struct async_cb *)&cb;
		struct async_event ev;
		bool guard = plain_waited && !released;
		int n;

		cb.number = r->c[i].nr;
		for (unsigned j = 0; j < 7; j++)
			cb.vargs[j] = NULL;
		for (unsigned j = 0; j < rs->nargs[i]; j++) {
			vals[j] = rs->a[i][j];
			cb.vargs[j] = rs->vunm[i][j] ? (void *)(HOLE2 + 64) : &vals[j];
		}
		if (guard)
			rl_arm(k, e, GUARD_MS);
		n = async_submit(actx, 1, &cbp);
		if (guard && rl_disarm()) {
			released = true;
			o->cls = CLS_BLOCKED;
		}
		if (n != 1) {
			o->res[o->ran++] = -10000 - errno; /* refused by submit */
			break;
		}
		if (guard && !released) {
			n = wait_event(&ev, EARLY_MS);
			if (n == 1) {
				o->cls = CLS_PROMPT; /* done before the release: not the plain call's */
			} else {
				kind_release(k, e);
				released = true;
				n = wait_released(k, e, &ev);
				o->cls = n == 1 ? CLS_WAITED : CLS_LOST;
			}
		} else {
			n = wait_event(&ev, released ? LATE_MS : PROMPT_MS);
			if (n != 1)
				o->cls = CLS_LOST;
		}
		if (n != 1) {
			/* get the event anyway: cancel, then collect */
			sysring_cancel(actx, cbp);
			n = wait_event(&ev, LATE_MS);
			if (n != 1) {
				fprintf(stderr, "FATAL: %s: async: no event even after cancel\n", r->name);
				exit(1);
			}
		}
		o->res[o->ran++] = (long)ev.res;
		if ((r->flags & R_STOP) && ev.res < 0)
			break;
	}
}

static struct syslet_uatom *ring_poll(int ms);

static struct syslet_uatom *ring_released(enum kind k, struct env *e)
{
	struct syslet_uatom *a = NULL;
	for (int t = 0; t < LATE_MS && !a; t += 50) {
		a = ring_poll(kind_release_repeats(k) ? 50 : LATE_MS);
		if (!a && kind_release_repeats(k))
			kind_release(k, e);
		if (!kind_release_repeats(k))
			break;
	}
	return a;
}

static struct syslet_uatom *ring_poll(int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;
	for (;;) {
		struct syslet_uatom *a = __atomic_load_n(&ring[ring_next], __ATOMIC_ACQUIRE);
		if (a) {
			__atomic_store_n(&ring[ring_next], NULL, __ATOMIC_RELEASE);
			ring_next = (ring_next + 1) % 64;
			return a;
		}
		if (now_ns() >= end)
			return NULL;
		struct timespec ts = {0, 200 * 1000};
		nanosleep(&ts, NULL);
	}
}

#define SENTINEL ((long)0x5eadbeef5eadbeefL)

static void run_syslet(const struct row *r, enum kind k, struct env *e, const struct resolved *rs, bool plain_waited,
		       bool async_flag, struct obs *o)
{
	static struct syslet_uatom at[4];
	static long rets[4], vals[4][6];
	struct syslet_uatom *done;
	bool released = false;

	for (unsigned i = 0; i < conf_ncalls(r); i++) {
		memset(&at[i], 0, sizeof(at[i]));
		at[i].flags = (async_flag ? SYSLET_ASYNC : 0) | ((r->flags & R_STOP) ? SYSLET_STOP_ON_NEGATIVE : 0);
		at[i].nr = (unsigned long)r->c[i].nr;
		at[i].ret_ptr = &rets[i];
		at[i].next = i + 1 < conf_ncalls(r) ? &at[i + 1] : NULL;
		for (unsigned j = 0; j < rs->nargs[i]; j++) {
			vals[i][j] = rs->a[i][j];
			at[i].arg_ptr[j] = rs->vunm[i][j] ? (unsigned long *)(HOLE2 + 64) : (unsigned long *)&vals[i][j];
		}
		rets[i] = SENTINEL;
	}
	o->cls = CLS_PROMPT;
	if (plain_waited)
		rl_arm(k, e, GUARD_MS);
	done = async_exec(&at[0]);
	if (plain_waited && rl_disarm()) {
		released = true;
		o->cls = CLS_BLOCKED;
	}
	if (!done) {
		struct syslet_uatom *a;
		if (plain_waited && !released) {
			a = ring_poll(EARLY_MS);
			if (!a) {
				kind_release(k, e);
				released = true;
				a = ring_released(k, e);
				o->cls = a ? CLS_WAITED : CLS_LOST;
			}
		} else {
			a = ring_poll(released ? LATE_MS : PROMPT_MS);
			if (!a)
				o->cls = CLS_LOST;
		}
		if (!a) {
			if (kind_waits(k) && !released)
				kind_release(k, e);
			a = ring_poll(LATE_MS);
			if (!a) {
				fprintf(stderr, "FATAL: %s: syslet: no completion\n", r->name);
				exit(1);
			}
		}
	} else if (done != &at[0]) {
		fprintf(stderr, "FATAL: %s: async_exec returned %p, not the atom\n", r->name, (void *)done);
		exit(1);
	}
	for (unsigned i = 0; i < conf_ncalls(r) && rets[i] != SENTINEL; i++)
		o->res[o->ran++] = rets[i];
}

static bool fits_int(long v)
{
	return v == (long)(int)v;
}

/* Batchsys's own push for the call, where it has one and the arguments fit
 * its parameter types: 1 pushed, 0 none (then the generic push), -1 full. */
static int push_typed(long nr, const long *a)
{
	void *p1 = (void *)a[1];

	if (!fits_int(a[0]))
		return 0;
	switch (nr) { /* Batchsys's 18 operations, not a routing decision */
	case SYS_read:
		return batchsys_push_read(bsb, (int)a[0], p1, (size_t)a[2]);
	case SYS_pread64:
		return batchsys_push_pread(bsb, (int)a[0], p1, (size_t)a[2], a[3]);
	case SYS_write:
		return batchsys_push_write(bsb, (int)a[0], p1, (size_t)a[2]);
	case SYS_pwrite64:
		return batchsys_push_pwrite(bsb, (int)a[0], p1, (size_t)a[2], a[3]);
	case SYS_readv:
		return fits_int(a[2]) ? batchsys_push_readv(bsb, (int)a[0], p1, (int)a[2]) : 0;
	case SYS_writev:
		return fits_int(a[2]) ? batchsys_push_writev(bsb, (int)a[0], p1, (int)a[2]) : 0;
	case SYS_recvfrom:
		if (!fits_int(a[3]))
			return 0;
		if (!a[4] && !a[5])
			return batchsys_push_recv(bsb, (int)a[0], p1, (size_t)a[2], (int)a[3]);
		return batchsys_push_recvfrom(bsb, (int)a[0], p1, (size_t)a[2], (int)a[3], (struct sockaddr *)a[4],
					      (uint32_t *)a[5]);
	case SYS_sendto:
		if (!fits_int(a[3]) || a[5] != (long)(uint32_t)a[5])
			return 0;
		if (!a[4] && !a[5])
			return batchsys_push_send(bsb, (int)a[0], p1, (size_t)a[2], (int)a[3]);
		return batchsys_push_sendto(bsb, (int)a[0], p1, (size_t)a[2], (int)a[3], (struct sockaddr *)a[4],
					    (uint32_t)a[5]);
	case SYS_accept:
		return batchsys_push_accept(bsb, (int)a[0], p1, (uint32_t *)a[2]);
	case SYS_accept4:
		return fits_int(a[3]) ? batchsys_push_accept4(bsb, (int)a[0], p1, (uint32_t *)a[2], (int)a[3]) : 0;
	case SYS_connect:
		return a[2] == (long)(uint32_t)a[2] ? batchsys_push_connect(bsb, (int)a[0], p1, (uint32_t)a[2]) : 0;
	case SYS_epoll_ctl:
		return fits_int(a[1]) && fits_int(a[2])
			       ? batchsys_push_epoll_ctl(bsb, (int)a[0], (int)a[1], (int)a[2], (struct epoll_event *)a[3])
			       : 0;
	case SYS_close:
		return batchsys_push_close(bsb, (int)a[0]);
	case SYS_socket:
		return fits_int(a[1]) && fits_int(a[2]) ? batchsys_push_socket(bsb, (int)a[0], (int)a[1], (int)a[2]) : 0;
	default:
		return 0;
	}
}

/* Batchsys's own pushes where a call has one (they feed the fd cache), the
 * generic push for the rest. */
static void run_batch(const struct row *r, enum kind k, struct env *e, const struct resolved *rs, bool plain_waited,
		      bool uring, struct obs *o)
{
	unsigned int flags = (uring ? SYSRING_BATCHSYS_EXEC_URING : SYSRING_BATCHSYS_EXEC_LOOP) |
			     ((r->flags & R_STOP) ? SYSRING_BATCHSYS_STOP_ON_ERROR : 0);
	int ran;

	batchsys_batch_reset(bsb);
	sysring_batch_set_flags(bsh, flags);
	for (unsigned i = 0; i < conf_ncalls(r); i++) {
		const long *a = rs->a[i];
		int typed = push_typed(r->c[i].nr, a);
		if (typed < 0 || (!typed && batchsys_push_syscall(bsb, r->c[i].nr, rs->nargs[i], a[0], a[1], a[2], a[3],
								    a[4], a[5]) != 1)) {
			fprintf(stderr, "FATAL: %s: push refused\n", r->name);
			exit(1);
		}
	}
	o->cls = CLS_PROMPT;
	if (plain_waited)
		rl_arm(k, e, RELEASE_MS);
	ran = batchsys_post_batch(bsh, bsb);
	if (plain_waited && rl_disarm())
		o->cls = CLS_WAITED;
	if (ran < 0) {
		o->res[o->ran++] = -10000 - errno;
		return;
	}
	for (int i = 0; i < ran && i < 4; i++) {
		const syscall_result_t *res = batch_batch_get_result(bsb, (uint32_t)i);
		o->res[o->ran++] = res->result < 0 ? -res->error : res->result;
	}
}

/* ---- one run, and the comparison ---- */

static int skipped_rows, na_runs, expected_diffs, divergences, compared;

/* Returns false if the kind cannot be made here (why set). */
static bool one_run(const struct row *r, int face, bool plain_waited, struct obs *o, const char **why)
{
	struct env e;
	struct resolved rs;
	enum kind k = (enum kind)r->kind;

	memset(o, 0, sizeof(*o));
	cur_row = r->name;
	cur_face = face < 0 ? "plain" : face_names[face];
	mem_reset();
	run_dir_reset();
	if (kind_setup(k, &e, why)) {
		kind_teardown(k, &e);
		list_fds(close_new, NULL);
		return false;
	}
	resolve(r, &e, &rs);
	switch (face) {
	case -1:
		run_plain(r, k, &e, &rs, o);
		break;
	case F_ASYNC:
		run_async(r, k, &e, &rs, plain_waited, o);
		break;
	case F_SYSLET:
	case F_SYSLET_ASYNC:
		run_syslet(r, k, &e, &rs, plain_waited, face == F_SYSLET_ASYNC, o);
		break;
	case F_BATCH_LOOP:
	case F_BATCH_URING:
		run_batch(r, k, &e, &rs, plain_waited, face == F_BATCH_URING, o);
		break;
	}
	kind_after_calls(k, &e);
	observe(k, &e, r->flags, o);
	kind_teardown(k, &e);
	list_fds(close_new, NULL);
	return true;
}

/* A crash is the worst divergence: say where, then die of it. */
static void crashed(int sig)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "CRASH (signal %d) in row \"%s\", face %s [%s]\n", sig,
			 cur_row ? cur_row : "?", cur_face ? cur_face : "?", cfg_label);
	if (write(2, msg, (size_t)n) < 0)
		_exit(1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool expected(const struct row *r, int face)
{
	return r->why && (r->xfaces & XF(face)) && (r->xcfg & cfg_bits & XC_ANY_ENGINE) &&
	       (r->xcfg & cfg_bits & XC_ANY_INLINE);
}

static void report(const struct row *r, int face, const char *field, const char *pv, const char *fv, int *ndiff)
{
	bool x = expected(r, face);
	if (!*ndiff)
		fprintf(x ? stdout : stderr, "%s %s [%s] %s (%s):\n", x ? "EXPECTED" : "DIVERGE", r->name,
			kind_name((enum kind)r->kind), face_names[face], cfg_label);
	fprintf(x ? stdout : stderr, "    %-9s plain: %s\n    %-9s %s: %s\n", field, pv, "", face_names[face], fv);
	(*ndiff)++;
}

static void fmt_res(const struct obs *o, char *out, size_t n)
{
	size_t l = (size_t)snprintf(out, n, "ran %d:", o->ran);
	for (int i = 0; i < o->ran && l < n; i++) {
		long v = o->res[i];
		if (v < 0 && v > -4096)
			l += (size_t)snprintf(out + l, n - l, " -%s", strerrorname_np((int)-v));
		else
			l += (size_t)snprintf(out + l, n - l, " %ld", v);
	}
}

static void compare(const struct row *r, int face, const struct obs *p, const struct obs *f)
{
	char a[256], b[256];
	int nd = 0;

	fmt_res(p, a, sizeof(a));
	fmt_res(f, b, sizeof(b));
	if (strcmp(a, b))
		report(r, face, "result", a, b, &nd);
	if (p->cls != f->cls)
		report(r, face, "timing", cls_names[p->cls], cls_names[f->cls], &nd);
	if (p->mem != f->mem) {
		snprintf(a, sizeof(a), "%016llx", (unsigned long long)p->mem);
		snprintf(b, sizeof(b), "%016llx", (unsigned long long)f->mem);
		report(r, face, "memory", a, b, &nd);
	}
	for (int i = 0; i < 2; i++)
		if (p->pos[i] != f->pos[i]) {
			snprintf(a, sizeof(a), "%ld", p->pos[i]);
			snprintf(b, sizeof(b), "%ld", f->pos[i]);
			report(r, face, i ? "position2" : "position", a, b, &nd);
		}
	for (int i = 0; i < 2; i++)
		if (strcmp(p->drain[i], f->drain[i]))
			report(r, face, i ? "left fd2" : "left fd", p->drain[i], f->drain[i], &nd);
	if (strcmp(p->fdt, f->fdt))
		report(r, face, "fd table", p->fdt, f->fdt, &nd);
	if (strcmp(p->fs, f->fs))
		report(r, face, "files", p->fs, f->fs, &nd);
	if (strcmp(p->extra, f->extra))
		report(r, face, "state", p->extra, f->extra, &nd);
	compared++;
	if (nd && expected(r, face))
		expected_diffs++;
	else if (nd)
		divergences++;
	else if (verbose)
		printf("ok %s [%s] %s\n", r->name, kind_name((enum kind)r->kind), face_names[face]);
}

static bool face_applies(const struct row *r, int face, const char **why)
{
	if ((r->flags & R_NOBATCH) && face >= F_BATCH_LOOP) {
		*why = "by value: no argument pointer to fault on";
		return false;
	}
	if (face == F_BATCH_URING && (cfg_bits & XC_THREADS)) {
		*why = "engine threads: batches have no io_uring";
		return false;
	}
	return true;
}

static void run_row(const struct row *r)
{
	struct obs ref, got;
	const char *why = NULL;

	if ((r->flags & R_ROOT) && geteuid() != 0) {
		printf("skip %s: needs root\n", r->name);
		skipped_rows++;
		return;
	}
	if (!one_run(r, -1, false, &ref, &why)) {
		printf("skip %s [%s]: %s\n", r->name, kind_name((enum kind)r->kind), why);
		skipped_rows++;
		return;
	}
	if (kind_waits((enum kind)r->kind) && ref.cls != CLS_WAITED && verbose)
		printf("note %s: the plain call did not wait\n", r->name);
	for (int f = 0; f < F__COUNT; f++) {
		if (only_face >= 0 && f != only_face)
			continue;
		if (!face_applies(r, f, &why)) {
			na_runs++;
			continue;
		}
		if (!one_run(r, f, ref.cls == CLS_WAITED, &got, &why)) {
			printf("skip %s [%s] %s: %s\n", r->name, kind_name((enum kind)r->kind), face_names[f], why);
			continue;
		}
		compare(r, f, &ref, &got);
	}
}

/* ---- set-up ---- */

static void make_fixed_objects(void)
{
	char p[300];
	snprintf(conf_pfile, sizeof(conf_pfile), "%s/pfile", conf_root);
	snprintf(conf_pdir, sizeof(conf_pdir), "%s/pdir", conf_root);
	snprintf(conf_run, sizeof(conf_run), "%s/run", conf_root);
	int fd = open(conf_pfile, O_CREAT | O_WRONLY | O_TRUNC, 0640);
	if (fd < 0 || write(fd, "fixed file content\n", 19) != 19)
		exit(1);
	close(fd);
	mkdir(conf_pdir, 0750);
	for (const char *n = "abc"; *n; n++) {
		snprintf(p, sizeof(p), "%s/%c", conf_pdir, *n);
		fd = open(p, O_CREAT | O_WRONLY, 0600);
		if (fd >= 0)
			close(fd);
	}
	mkdir(conf_run, 0755);
}

static void cleanup(void)
{
	if (conf_root[0])
		rm_tree(conf_root);
}

int main(int argc, char **argv)
{
	struct async_head_user ahu = {.completion_ring = ring, .ring_size_bytes = sizeof(ring), .max_nr_threads = -1UL};
	pthread_t rt;
	sigset_t s;
	uint64_t t0 = now_ns();

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			only_row = argv[++i];
		else if (!strcmp(argv[i], "-x") && i + 1 < argc)
			skip_row = argv[++i];
		else if (!strcmp(argv[i], "-f") && i + 1 < argc) {
			for (int f = 0; f < F__COUNT; f++)
				if (!strcmp(argv[i + 1], face_names[f]))
					only_face = f;
			i++;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGSEGV, crashed);
	signal(SIGBUS, crashed);
	alarm(600); /* a hang is a failure */
	umask(022);
	signal(SIGPIPE, SIG_IGN);
	/* SIGUSR1 is the signalfd rows' signal: blocked everywhere, as
	 * signalfd(2) wants (the library's threads block everything) */
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	prctl(PR_SET_NAME, "t_conformance");
	config_init();
	arena_init();
	snprintf(conf_root, sizeof(conf_root), "/tmp/sysring-conf.XXXXXX");
	if (!mkdtemp(conf_root)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	make_fixed_objects();

	if (async_setup(256, &actx) || async_register(&ahu, sizeof(ahu))) {
		perror("setup");
		return 1;
	}
	bsh = batchsys_open();
	bsb = batchsys_batch_alloc(bsh);
	if (bsh < 0 || !bsb) {
		perror("batchsys_open");
		return 1;
	}
	pthread_create(&rt, NULL, releaser, NULL);
	list_fds(mark_baseline, NULL);

	unsigned rows = 0;
	for (unsigned i = 0; i < conf_nrows; i++) {
		if ((only_row && !strstr(conf_rows[i].name, only_row)) ||
		    (skip_row && strstr(conf_rows[i].name, skip_row)))
			continue;
		rows++;
		run_row(&conf_rows[i]);
	}

	pthread_mutex_lock(&rl_mu);
	rl.quit = true;
	pthread_cond_broadcast(&rl_cv);
	pthread_mutex_unlock(&rl_mu);
	pthread_join(rt, NULL);
	batchsys_batch_free(bsb);
	batchsys_close(bsh);
	async_unregister(&ahu, sizeof(ahu));
	async_destroy(actx);

	printf("conformance [%s]: %u situations (%d skipped here), %d faces: %d comparisons with the plain call, "
	       "%d divergences, %d expected differences, %d not applicable; %.1f s\n",
	       cfg_label, rows, skipped_rows, F__COUNT, compared, divergences, expected_diffs, na_runs,
	       (double)(now_ns() - t0) / 1e9);
	return divergences ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Merged runs in the batch loop: consecutive read/write (and pread/pwrite at
 * contiguous offsets) on one regular file run as one readv/writev
 * (preadv/pwritev). The oracle is the plain sequence: every scenario runs
 * once as plain calls on one file and once as a batch on an identical file,
 * and the per-call results, the errnos, the number of calls run and the
 * files' contents must be the same — including the edges where a vectored
 * call comes back short (a bad buffer in the middle, a buffer that ends in
 * an unmapped page, RLIMIT_FSIZE, end of file). Runs under every executor;
 * only the loop merges, so the merge counter is checked there.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring/batchsys.h>

enum { OP_WRITE, OP_READ, OP_PWRITE, OP_PREAD };

struct op {
	int kind;
	int file;     /* 0 or 1: which of the scenario's two files */
	char *buf;    /* NULL: the scenario's own buffer for this op */
	size_t len;
	long off;
};

static int h;
static batchsys_batch_t *b;
static char *badpage; /* an unmapped page (PROT_NONE) */

struct side {
	int fd[2];
	char path[2][40];
	char rbuf[80][256]; /* per op: read destinations */
	long res[80];
	int err[80];
	int ran;
};

static int extra_fl; /* status flags both sides' files get (O_DIRECT) */
static bool seal_grow; /* both sides' file 0: a memfd sealed F_SEAL_GROW */
static long start_pos; /* both sides' file 0's position before the calls */

static void side_open(struct side *s, const char *init, size_t initlen)
{
	for (int k = 0; k < 2; k++) {
		strcpy(s->path[k], "/tmp/sysring-merge-XXXXXX");
		if (seal_grow && k == 0) {
			/* tmpfs checks F_SEAL_GROW per page-sized piece of a
			 * transfer: where a vectored call's pieces differ
			 * from the plain calls' it stops elsewhere */
			s->path[k][0] = 0;
			s->fd[k] = memfd_create("sysring-merge", MFD_ALLOW_SEALING);
		} else {
			s->fd[k] = mkstemp(s->path[k]);
		}
		T_ASSERT(s->fd[k] >= 0);
		if (initlen)
			T_EQ(write(s->fd[k], init, initlen), (long)initlen);
		if (seal_grow && k == 0)
			T_EQ(fcntl(s->fd[k], F_ADD_SEALS, F_SEAL_GROW), 0);
		T_EQ(lseek(s->fd[k], k == 0 ? start_pos : 0, SEEK_SET), k == 0 ? start_pos : 0);
		if (extra_fl)
			T_EQ(fcntl(s->fd[k], F_SETFL, extra_fl), 0);
	}
	memset(s->rbuf, 0x55, sizeof(s->rbuf));
}

static char wdata[80][256];
static char bigbuf[16384]; /* the source of writes longer than 256 bytes */
static volatile sig_atomic_t nxfsz; /* SIGXFSZ deliveries */

static void on_xfsz(int sig)
{
	(void)sig;
	nxfsz++;
}

static char *op_buf(struct side *s, const struct op *o, int i)
{
	if (o->buf)
		return o->buf;
	return (o->kind == OP_WRITE || o->kind == OP_PWRITE) ? wdata[i] : s->rbuf[i];
}

static void run_plain(struct side *s, const struct op *ops, int n, bool stop)
{
	s->ran = 0;
	for (int i = 0; i < n; i++) {
		const struct op *o = &ops[i];
		long r;
		errno = 0;
		switch (o->kind) {
		case OP_WRITE: r = write(s->fd[o->file], op_buf(s, o, i), o->len); break;
		case OP_READ: r = read(s->fd[o->file], op_buf(s, o, i), o->len); break;
		case OP_PWRITE: r = pwrite(s->fd[o->file], op_buf(s, o, i), o->len, o->off); break;
		default: r = pread(s->fd[o->file], op_buf(s, o, i), o->len, o->off); break;
		}
		s->res[i] = r;
		s->err[i] = r < 0 ? errno : 0;
		s->ran++;
		if (r < 0 && stop)
			break;
	}
}

static void run_batch(struct side *s, const struct op *ops, int n)
{
	batchsys_batch_reset(b);
	for (int i = 0; i < n; i++) {
		const struct op *o = &ops[i];
		int fd = s->fd[o->file];
		switch (o->kind) {
		case OP_WRITE: T_EQ(batchsys_push_write(b, fd, op_buf(s, o, i), o->len), 1); break;
		case OP_READ: T_EQ(batchsys_push_read(b, fd, op_buf(s, o, i), o->len), 1); break;
		case OP_PWRITE: T_EQ(batchsys_push_pwrite(b, fd, op_buf(s, o, i), o->len, o->off), 1); break;
		default: T_EQ(batchsys_push_pread(b, fd, op_buf(s, o, i), o->len, o->off), 1); break;
		}
	}
	s->ran = batchsys_post_batch(h, b);
	T_ASSERT(s->ran >= 0);
	for (int i = 0; i < s->ran; i++) {
		const syscall_result_t *r = batch_batch_get_result(b, (uint64_t)i);
		s->res[i] = r->result;
		s->err[i] = (int)r->error;
	}
}

static void file_contents(int fd, char *out, size_t max, long *len)
{
	struct stat st;
	T_EQ(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT), 0); /* any buffer */
	T_EQ(fstat(fd, &st), 0);
	*len = st.st_size;
	T_ASSERT((size_t)st.st_size <= max);
	T_EQ(pread(fd, out, (size_t)st.st_size, 0), st.st_size);
}

/* Run a scenario both ways and compare everything; returns how many calls
 * the batch ran merged. */
static long scenario(const char *name, const struct op *ops, int n, const char *init, size_t initlen,
		     bool stop)
{
	static struct side p, q;
	static char ca[65536], cb[65536];
	long la, lb, merged0 = sysring_batch_merged_calls(h);

	T_ASSERT(merged0 >= 0);
	side_open(&p, init, initlen);
	side_open(&q, init, initlen);
	int x0 = nxfsz;
	run_plain(&p, ops, n, stop);
	int xp = nxfsz - x0;
	run_batch(&q, ops, n);
	int xq = nxfsz - x0 - xp;
	/* A signal the calls raise (SIGXFSZ) comes as often as plainly.
	 * TSan defers handlers to its next interceptor and keeps one pending
	 * signal per number: several raised by the raw calls of one post
	 * reach the handler once. There, only whether it came is compared. */
#if defined(__SANITIZE_THREAD__)
	if ((xp > 0) != (xq > 0))
#else
	if (xp != xq)
#endif
		T_FAIL("%s: plain raised SIGXFSZ %d times, the batch %d (executor %s)", name, xp, xq,
		       sysring_batch_last_executor(h));
	if (p.ran != q.ran)
		T_FAIL("%s: plain ran %d calls, the batch %d", name, p.ran, q.ran);
	for (int i = 0; i < p.ran; i++) {
		if (p.res[i] != q.res[i] || p.err[i] != q.err[i])
			T_FAIL("%s: call %d: plain %ld/%d, batch %ld/%d (executor %s)", name, i, p.res[i],
			       p.err[i], q.res[i], q.err[i], sysring_batch_last_executor(h));
		if ((ops[i].kind == OP_READ || ops[i].kind == OP_PREAD) && !ops[i].buf && p.res[i] > 0 &&
		    memcmp(p.rbuf[i], q.rbuf[i], (size_t)p.res[i]))
			T_FAIL("%s: call %d read different bytes", name, i);
	}
	for (int k = 0; k < 2; k++) {
		file_contents(p.fd[k], ca, sizeof(ca), &la);
		file_contents(q.fd[k], cb, sizeof(cb), &lb);
		if (la != lb)
			T_FAIL("%s: file %d: %ld bytes plain, %ld batched (executor %s)", name, k, la, lb,
			       sysring_batch_last_executor(h));
		if (memcmp(ca, cb, (size_t)la))
			T_FAIL("%s: file %d differs", name, k);
		/* the file position too (read/write continue from it) */
		T_EQ(lseek(p.fd[k], 0, SEEK_CUR), lseek(q.fd[k], 0, SEEK_CUR));
		batchsys_close_fd(h, q.fd[k]);
		close(p.fd[k]);
		if (p.path[k][0])
			unlink(p.path[k]);
		if (q.path[k][0])
			unlink(q.path[k]);
	}
	return sysring_batch_merged_calls(h) - merged0;
}

int main(void)
{
	static struct op ops[80];
	static char init[8192];
	const char *exec = getenv("SYSRING_BATCH_EXEC");
	unsigned int keep = 0; /* the executor SYSRING_BATCH_EXEC chose */
	long m;
	int n;

	t_watchdog(60);
	signal(SIGXFSZ, on_xfsz); /* counted: a batch raises it as often as the plain calls */
	for (size_t k = 0; k < sizeof(bigbuf); k++)
		bigbuf[k] = (char)('0' + k % 10);
	for (int i = 0; i < 80; i++)
		for (int k = 0; k < 256; k++)
			wdata[i][k] = (char)('A' + (i + k) % 26);
	for (size_t k = 0; k < sizeof(init); k++)
		init[k] = (char)('a' + k % 23);
	badpage = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(badpage != MAP_FAILED);
	T_EQ(mprotect(badpage + 4096, 4096, PROT_NONE), 0);

	T_EQ(sysring_batch_merged_calls(-1), -EINVAL); /* native: -errno */
	h = batchsys_open();
	T_ASSERT(h >= 0);
	b = batchsys_batch_alloc(h);
	T_ASSERT(b);
	if (exec && !strcmp(exec, "loop"))
		keep = SYSRING_BATCHSYS_EXEC_LOOP;
	else if (exec && !strcmp(exec, "uring"))
		keep = SYSRING_BATCHSYS_EXEC_URING;
	else if (exec && !strcmp(exec, "kmod"))
		keep = SYSRING_BATCHSYS_EXEC_KMOD;
/* Forced io_uring: after a short count or a failure the chain ends (IO_LINK)
 * and the loop runs only the rest, so it merges only that. */
#define CHECK_MERGED(expr)                                                               \
	do {                                                                             \
		if (keep != SYSRING_BATCHSYS_EXEC_URING &&                               \
		    !strcmp(sysring_batch_last_executor(h), "loop"))                     \
			T_ASSERT(expr);                                                  \
	} while (0)

	/* 1. a full batch of appends of 1..72 bytes: one writev */
	for (n = 0; n < BATCHSYS_MAX_RESULTS; n++)
		ops[n] = (struct op){OP_WRITE, 0, NULL, (size_t)n + 1, 0};
	m = scenario("appends", ops, n, NULL, 0, false);
	CHECK_MERGED(m == n);

	/* 2. a bad buffer in the middle and at the end: EFAULT for those
	 * calls, nothing written twice, the rest still runs (one by one:
	 * the calls before the stop are the merged ones) */
	for (n = 0; n < 20; n++)
		ops[n] = (struct op){OP_WRITE, 0, NULL, 100, 0};
	ops[5].buf = (char *)8;
	ops[19].buf = badpage + 4096;
	m = scenario("bad buffer", ops, n, NULL, 0, false);
	CHECK_MERGED(m >= 5);

	/* 3. a buffer that runs into an unmapped page: a short write (the
	 * plain call's own answer), then the rest */
	for (n = 0; n < 10; n++)
		ops[n] = (struct op){OP_WRITE, 0, NULL, 200, 0};
	ops[4].buf = badpage + 4096 - 50;
	if (keep == SYSRING_BATCHSYS_EXEC_URING) {
		/* io_uring (seen on 6.18) reports the 50 bytes but leaves the
		 * file position where it was, so the next append overwrites
		 * them: a known divergence of the forced uring executor
		 * (README "Batches"); the default executors are exact. */
		printf("batch_merge: short write into an unmapped page not compared under io_uring\n");
	} else {
		m = scenario("short write", ops, n, NULL, 0, false);
		CHECK_MERGED(m >= 5);
	}

	/* 4. the same with STOP_ON_ERROR: stops after the failing call */
	T_EQ(sysring_batch_set_flags(h, keep | SYSRING_BATCHSYS_STOP_ON_ERROR), 0);
	for (n = 0; n < 10; n++)
		ops[n] = (struct op){OP_WRITE, 0, NULL, 100, 0};
	ops[6].buf = (char *)8;
	scenario("stop on error", ops, n, NULL, 0, true);
	T_EQ(sysring_batch_set_flags(h, keep), 0);

	/* 5. RLIMIT_FSIZE reached inside a run: full, partial, then EFBIG */
	struct rlimit old, lim;
	T_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096 + 100;
	T_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (n = 0; n < 12; n++)
		ops[n] = (struct op){OP_WRITE, 0, NULL, 250, 0};
	/* 250-byte writes from 1000 bytes in: 12 of them cross 4196 */
	m = scenario("file size limit", ops, n, init, 1000, false);
	/* 5b. the position already at the limit: each write raises SIGXFSZ
	 * once and fails EFBIG, as the plain calls do (a merged writev would
	 * raise it once more for the run) */
	lim.rlim_cur = 4096;
	T_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (n = 0; n < 3; n++)
		ops[n] = (struct op){OP_WRITE, 0, NULL, 50, 0};
	start_pos = 4096;
	scenario("file size limit reached", ops, n, NULL, 0, false);
	/* 5c. crossing it: 50, 46, then SIGXFSZ and EFBIG */
	start_pos = 4000;
	scenario("file size limit crossed", ops, n, NULL, 0, false);
	for (n = 0; n < 3; n++)
		ops[n] = (struct op){OP_PWRITE, 0, NULL, 50, 4000 + 50 * n};
	scenario("file size limit pwrites", ops, n, NULL, 0, false);
	start_pos = 0;
	T_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);

	/* 5d. a vectored call that stops elsewhere than the plain calls:
	 * tmpfs refuses (EPERM) a page-sized piece that would grow a file
	 * sealed F_SEAL_GROW, and the vectored call's pieces span calls. The
	 * plain calls: 1000, -EPERM, 10 from 4000 in a 6000-byte file; the
	 * merged writev stops at 4096 */
	static char sinit[6000];
	memset(sinit, 's', sizeof(sinit));
	seal_grow = true;
	start_pos = 4000;
	ops[0] = (struct op){OP_WRITE, 0, bigbuf, 1000, 0};
	ops[1] = (struct op){OP_WRITE, 0, bigbuf + 1000, 2000, 0};
	ops[2] = (struct op){OP_WRITE, 0, bigbuf + 3000, 10, 0};
	scenario("sealed memfd", ops, 3, sinit, sizeof(sinit), false);
	start_pos = 100;
	ops[0] = (struct op){OP_WRITE, 0, bigbuf, 5000, 0};
	ops[1] = (struct op){OP_WRITE, 0, bigbuf, 5000, 0};
	ops[2] = (struct op){OP_WRITE, 0, bigbuf, 10, 0};
	scenario("sealed memfd 2", ops, 3, sinit, sizeof(sinit), false);
	start_pos = 0;
	for (n = 0; n < 4; n++)
		ops[n] = (struct op){OP_PWRITE, 0, bigbuf, 1500, 1000L + 1500 * n};
	scenario("sealed memfd pwrites", ops, n, sinit, sizeof(sinit), false);
	/* reads from it: the merged readv stops at end of file */
	start_pos = 5500;
	for (n = 0; n < 4; n++)
		ops[n] = (struct op){OP_READ, 0, NULL, 200, 0};
	scenario("sealed memfd reads", ops, n, sinit, sizeof(sinit), false);
	start_pos = 0;
	seal_grow = false;

	/* 6. reads: up to and past the end of file, and a bad buffer */
	for (n = 0; n < 12; n++)
		ops[n] = (struct op){OP_READ, 0, NULL, 256, 0};
	m = scenario("reads to eof", ops, n, init, 2000, false);
	CHECK_MERGED(m >= 7);
	ops[3].buf = (char *)8;
	scenario("read bad buffer", ops, n, init, 3000, false);

	/* 7. pread/pwrite: contiguous runs merge, a gap or a jump splits */
	for (n = 0; n < 16; n++)
		ops[n] = (struct op){OP_PREAD, 0, NULL, 100, 100L * n};
	ops[8].off = 5000; /* past the end: 0 */
	ops[9].off = 20;
	m = scenario("preads", ops, n, init, 1234, false);
	CHECK_MERGED(m >= 8);
	for (n = 0; n < 16; n++)
		ops[n] = (struct op){OP_PWRITE, 0, NULL, 64, 64L * n + 10};
	ops[10].off = 7;
	m = scenario("pwrites", ops, n, init, 100, false);
	CHECK_MERGED(m >= 10);

	/* 8. alternating files, mixed kinds: correct, nothing to merge
	 * between different fds */
	for (n = 0; n < 20; n++)
		ops[n] = (struct op){n % 3 == 2 ? OP_READ : OP_WRITE, n % 2, NULL, 30, 0};
	m = scenario("alternating", ops, n, init, 500, false);
	CHECK_MERGED(m == 0);

	/* 9. a pipe is not a regular file: never merged */
	int pf[2];
	T_EQ(pipe(pf), 0);
	batchsys_batch_reset(b);
	for (int i = 0; i < 8; i++)
		T_EQ(batchsys_push_write(b, pf[1], "pipe", 4), 1);
	long m0 = sysring_batch_merged_calls(h);
	T_EQ(batchsys_post_batch(h, b), 8);
	for (int i = 0; i < 8; i++)
		T_EQ(batch_batch_get_result(b, (uint64_t)i)->result, 4);
	T_EQ(sysring_batch_merged_calls(h), m0);
	char pbuf[64];
	T_EQ(read(pf[0], pbuf, sizeof(pbuf)), 32);
	batchsys_close_fd(h, pf[0]);
	batchsys_close_fd(h, pf[1]);

	/* 10. O_DIRECT: one misaligned buffer fails a vectored call as a
	 * whole, where the plain calls before it succeed: never merged */
	char probe[] = "/tmp/sysring-merge-dio-XXXXXX";
	int pfd = mkstemp(probe);
	T_ASSERT(pfd >= 0);
	bool dio = fcntl(pfd, F_SETFL, O_DIRECT) == 0;
	close(pfd);
	unlink(probe);
	if (dio) {
		char *al = NULL;
		T_EQ(posix_memalign((void **)&al, 4096, 6 * 4096), 0);
		memset(al, 'd', 6 * 4096);
		extra_fl = O_DIRECT;
		for (n = 0; n < 5; n++)
			ops[n] = (struct op){OP_PWRITE, 0, al + n * 4096, 4096, 4096L * n};
		ops[3].buf = al + 3 * 4096 + 1; /* misaligned */
		m = scenario("O_DIRECT pwrites", ops, n, NULL, 0, false);
		CHECK_MERGED(m == 0);
		extra_fl = 0;
		free(al);
	} else {
		printf("batch_merge: no O_DIRECT on /tmp here, that case not run\n");
	}

	/* 11. /proc/self/comm is a regular file whose every write is a
	 * command: two writes stay two */
	int cfd = open("/proc/self/comm", O_WRONLY);
	T_ASSERT(cfd >= 0);
	long m1 = sysring_batch_merged_calls(h);
	batchsys_batch_reset(b);
	T_EQ(batchsys_push_write(b, cfd, "abc", 3), 1);
	T_EQ(batchsys_push_write(b, cfd, "xyz", 3), 1);
	T_EQ(batchsys_post_batch(h, b), 2);
	T_EQ(batch_batch_get_result(b, 0)->result, 3);
	T_EQ(batch_batch_get_result(b, 1)->result, 3);
	T_EQ(sysring_batch_merged_calls(h), m1);
	char comm[32] = {0};
	int rfd = open("/proc/self/comm", O_RDONLY);
	T_ASSERT(read(rfd, comm, sizeof(comm) - 1) > 0);
	close(rfd);
	T_EQ(strcmp(comm, "xyz\n"), 0);
	batchsys_close_fd(h, cfd);

	/* 12. a call of the batch changes what the fd names: dup2 of a
	 * datagram socket over a regular file, then two writes: two
	 * datagrams, not one merged */
	int dg[2];
	char dpath[] = "/tmp/sysring-merge-dup-XXXXXX";
	int dfd = mkstemp(dpath);
	T_ASSERT(dfd >= 0);
	unlink(dpath);
	T_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg), 0);
	batchsys_batch_reset(b);
	T_EQ(batchsys_push_syscall(b, SYS_dup2, 2, (long)dg[0], (long)dfd), 1);
	T_EQ(batchsys_push_write(b, dfd, "a", 1), 1);
	T_EQ(batchsys_push_write(b, dfd, "b", 1), 1);
	T_EQ(batchsys_post_batch(h, b), 3);
	T_EQ(batch_batch_get_result(b, 0)->result, dfd);
	T_EQ(batch_batch_get_result(b, 1)->result, 1);
	T_EQ(batch_batch_get_result(b, 2)->result, 1);
	char dgb[8];
	T_EQ(recv(dg[1], dgb, sizeof(dgb), MSG_DONTWAIT), 1);
	T_EQ(recv(dg[1], dgb, sizeof(dgb), MSG_DONTWAIT), 1);
	batchsys_close_fd(h, dfd);
	close(dg[0]);
	close(dg[1]);

	/* 13. SYSRING_BATCHSYS_NO_MERGE: the same results, nothing merged */
	T_EQ(sysring_batch_set_flags(h, keep | SYSRING_BATCHSYS_NO_MERGE), 0);
	for (n = 0; n < 30; n++)
		ops[n] = (struct op){OP_WRITE, 0, NULL, 10, 0};
	T_EQ(scenario("no merge", ops, n, NULL, 0, false), 0);

	printf("batch_merge: ok (merged calls %ld, last executor %s)\n", sysring_batch_merged_calls(h),
	       sysring_batch_last_executor(h));
	batchsys_batch_free(b);
	batchsys_close(h);
	return 0;
}

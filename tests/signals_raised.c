/* SPDX-License-Identifier: MIT */
/*
 * Signals a call raises: SIGPIPE with -EPIPE (a write to a pipe without a
 * reader, a send on a socket whose peer is gone, without MSG_NOSIGNAL) and
 * SIGXFSZ with -EFBIG (a write or size change beyond RLIMIT_FSIZE). The
 * kernel sends them to the thread that makes the call; through sysring they
 * must act as plainly, on the submitting thread, exactly once per call,
 * whichever thread or engine ran the call (src/core/sigfwd.c).
 *
 * Every case runs in a child process per face and disposition (a handler
 * that counts and notes its thread, SIG_IGN, the default action) and is
 * compared with the plain call made in another child: the result, how many
 * times the handler ran and on which thread, and how the child ended (the
 * default action ends it by the signal). Faces: async, async_exec (cached,
 * and SYSLET_ASYNC), the batch loop and the batch io_uring executor; the
 * engine matrix runs it under threads, uring and auto, inline on and off.
 */
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "t.h"

#include <sysring.h>
#include <sysring/batchsys.h>

enum face { F_PLAIN, F_ASYNC, F_SYSLET, F_SYSLET_ASYNC, F_BATCH_LOOP, F_BATCH_URING, F_BATCH_AUTO, F__N };
static const char *face_name[] = {"plain",      "async",       "syslet",    "syslet+ASYNC",
				  "batch loop", "batch uring", "batch auto"};
enum disp { D_HANDLER, D_IGNORE, D_DEFAULT, D__N };
static const char *disp_name[] = {"handler", "SIG_IGN", "SIG_DFL"};

static struct syslet_uatom *sring[8];

/* Make call nr(a) `reps` times through face f on this thread (a batch:
 * one batch of them): the last one's raw result. */
static long through(enum face f, long nr, const long a[6], int reps)
{
	if (f != F_BATCH_LOOP && f != F_BATCH_URING && f != F_BATCH_AUTO && reps > 1) {
		long r = 0;
		for (int i = 0; i < reps; i++) {
			/* each call's signal delivered before the next (TSan
			 * defers handlers to a blocking interceptor) */
			struct timespec ms = {0, 1000 * 1000};
			r = through(f, nr, a, 1);
			nanosleep(&ms, NULL);
		}
		return r;
	}
	switch (f) {
	case F_PLAIN: {
		long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		return r < 0 ? -errno : r;
	}
	case F_ASYNC: {
		async_context_t ctx;
		struct async_event ev[1];
		T_EQ(async_setup(8, &ctx), 0);
		struct async_cb *cb = async_cb_new(nr, 6, a[0], a[1], a[2], a[3], a[4], a[5]);
		T_ASSERT(cb);
		T_EQ(async_submit(ctx, 1, &cb), 1);
		int n;
		while ((n = async_getevents(ctx, 1, 1, ev, NULL)) < 0 && errno == EINTR)
			;
		T_EQ(n, 1);
		return (long)ev[0].res; /* the child exits: nothing to free */
	}
	case F_SYSLET:
	case F_SYSLET_ASYNC: {
		static struct async_head_user ahu;
		static long v[6];
		static long res = 12345;
		static struct syslet_uatom at;
		memcpy(v, a, sizeof(v));
		memset(&at, 0, sizeof(at));
		at.nr = (unsigned long)nr;
		for (int i = 0; i < 6; i++)
			at.arg_ptr[i] = (unsigned long *)&v[i];
		at.ret_ptr = &res;
		at.flags = f == F_SYSLET_ASYNC ? SYSLET_ASYNC : 0;
		static int registered;
		if (!registered++) {
			ahu = (struct async_head_user){sring, sizeof(sring), -1UL};
			T_EQ(async_register(&ahu, sizeof(ahu)), 0);
		}
		struct syslet_uatom *done = async_exec(&at);
		while (!done) { /* went async: its completion is in the ring */
			for (int i = 0; i < 8 && !done; i++)
				if (__atomic_load_n(&sring[i], __ATOMIC_ACQUIRE)) {
					done = sring[i];
					sring[i] = NULL;
				}
			if (!done)
				async_wait(1); /* EINTR: the signal itself; look again */
		}
		T_EQ(done, &at);
		return res;
	}
	case F_BATCH_LOOP:
	case F_BATCH_URING:
	case F_BATCH_AUTO: {
		int h = batchsys_open();
		T_ASSERT(h >= 0);
		/* auto: the module's BATCH where it is loaded (the guest) */
		T_EQ(sysring_batch_set_flags(h, f == F_BATCH_LOOP    ? SYSRING_BATCHSYS_EXEC_LOOP
						: f == F_BATCH_URING ? SYSRING_BATCHSYS_EXEC_URING
								     : 0),
		     0);
		batchsys_batch_t *b = batchsys_batch_alloc(h);
		T_ASSERT(b);
		for (int i = 0; i < reps; i++)
			T_EQ(batchsys_push_syscall(b, nr, 6, a[0], a[1], a[2], a[3], a[4], a[5]), 1);
		T_EQ(batchsys_post_batch(h, b), reps);
		const syscall_result_t *r = batch_batch_get_result(b, (uint64_t)reps - 1);
		return r->error ? -(long)r->error : (long)r->result;
	}
	default:
		break;
	}
	return -1;
}

static volatile sig_atomic_t hits, hit_tid;

static void on_sig(int sig)
{
	(void)sig;
	hits++;
	hit_tid = (sig_atomic_t)syscall(SYS_gettid);
}

enum kase { C_PIPE_WRITE, C_PIPE_WRITE3, C_PIPE_WRITEV, C_VMSPLICE, C_SOCK_WRITE, C_SENDTO, C_SENDMSG,
	    C_SENDMMSG, C_SENDTO_NOSIG, C_XFSZ_WRITE, C_XFSZ_PWRITE, C_XFSZ_WRITEV, C_XFSZ_FTRUNCATE, C_XFSZ_WRITE3,
	    C__N };
static const char *case_name[] = {"write to a pipe without reader", "3 writes to it (one batch)",
				  "writev to it", "vmsplice to it", "write to a socket without peer", "sendto it", "sendmsg to it",
				  "sendmmsg to it", "sendto it, MSG_NOSIGNAL", "write beyond RLIMIT_FSIZE",
				  "pwrite beyond it", "writev beyond it", "ftruncate beyond it",
				  "3 writes beyond it (one batch)"};
static int case_sig(enum kase c)
{
	return c >= C_XFSZ_WRITE ? SIGXFSZ : SIGPIPE;
}

struct report {
	long res;
	int hits;
	int on_submitter; /* the handler ran on the submitting thread */
};

/* The child: set the disposition and the situation, make the call. */
static void child(enum kase c, enum face f, enum disp d, int out)
{
	static char buf[64] = "sigside";
	static struct iovec iov = {buf, 10};
	static struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	static struct mmsghdr mm = {.msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1}};
	struct rlimit nocore = {0, 0};
	int sig = case_sig(c), p[2], fd = -1;
	long a[6] = {0, 0, 0, 0, 0, 0}, nr = 0;

	setrlimit(RLIMIT_CORE, &nocore); /* SIGXFSZ's default action dumps core */
	if (d == D_HANDLER) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sig;
		sigaction(sig, &sa, NULL);
	} else {
		signal(sig, d == D_IGNORE ? SIG_IGN : SIG_DFL);
	}
	if (c <= C_VMSPLICE) {
		T_EQ(pipe(p), 0);
		close(p[0]);
		fd = p[1];
	} else if (c < C_XFSZ_WRITE) {
		T_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
		close(p[1]);
		fd = p[0];
	} else {
		char path[] = "/tmp/sysring-sigside-XXXXXX";
		struct rlimit rl = {4096, RLIM_INFINITY};
		fd = mkstemp(path);
		T_ASSERT(fd >= 0);
		unlink(path);
		T_EQ(setrlimit(RLIMIT_FSIZE, &rl), 0);
		T_EQ(lseek(fd, 5000, SEEK_SET), 5000);
	}
	a[0] = fd;
	switch (c) {
	case C_PIPE_WRITE:
	case C_PIPE_WRITE3:
	case C_SOCK_WRITE:
	case C_XFSZ_WRITE:
	case C_XFSZ_WRITE3:
		nr = SYS_write, a[1] = (long)buf, a[2] = 10;
		break;
	case C_PIPE_WRITEV:
	case C_XFSZ_WRITEV:
		nr = SYS_writev, a[1] = (long)&iov, a[2] = 1;
		break;
	case C_VMSPLICE:
		nr = SYS_vmsplice, a[1] = (long)&iov, a[2] = 1;
		break;
	case C_SENDTO:
	case C_SENDTO_NOSIG:
		nr = SYS_sendto, a[1] = (long)buf, a[2] = 10, a[3] = c == C_SENDTO_NOSIG ? MSG_NOSIGNAL : 0;
		break;
	case C_SENDMSG:
		nr = SYS_sendmsg, a[1] = (long)&mh;
		break;
	case C_SENDMMSG:
		nr = SYS_sendmmsg, a[1] = (long)&mm, a[2] = 1;
		break;
	case C_XFSZ_PWRITE:
		nr = SYS_pwrite64, a[1] = (long)buf, a[2] = 10, a[3] = 5000;
		break;
	case C_XFSZ_FTRUNCATE:
		nr = SYS_ftruncate, a[1] = 8192;
		break;
	default:
		break;
	}
	struct report r;
	r.res = through(f, nr, a, c == C_PIPE_WRITE3 || c == C_XFSZ_WRITE3 ? 3 : 1);
	/* A signal forwarded to this thread is delivered at the latest when
	 * it next leaves the kernel (and under TSan, which defers handlers,
	 * in its next intercepted blocking call: nanosleep). */
	struct timespec ms = {0, 1000 * 1000};
	nanosleep(&ms, NULL);
	r.hits = hits;
	r.on_submitter = hits ? hit_tid == (sig_atomic_t)syscall(SYS_gettid) : 0;
	T_EQ(write(out, &r, sizeof(r)), (long)sizeof(r));
	_exit(0);
}

/* Run the case in a child: its report, and how it ended. */
static void run(enum kase c, enum face f, enum disp d, struct report *r, int *status)
{
	int p[2];
	T_EQ(pipe(p), 0);
	pid_t pid = fork();
	T_ASSERT(pid >= 0);
	if (!pid) {
		close(p[0]);
		child(c, f, d, p[1]);
	}
	close(p[1]);
	memset(r, 0, sizeof(*r));
	r->res = -99999; /* no report: it died */
	long n = read(p[0], r, sizeof(*r));
	T_ASSERT(n == 0 || n == (long)sizeof(*r));
	close(p[0]);
	T_EQ(waitpid(pid, status, 0), pid);
}

static void describe(char *s, size_t n, const struct report *r, int st)
{
	if (WIFSIGNALED(st))
		snprintf(s, n, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(s, n, "exit %d, result %ld, handler ran %d times%s", WEXITSTATUS(st), r->res, r->hits,
			 r->hits ? (r->on_submitter ? " on the submitter" : " on another thread") : "");
}

int main(void)
{
	int fails = 0, compared = 0;

	t_watchdog(240);
	for (int c = 0; c < C__N; c++)
		for (int d = 0; d < D__N; d++) {
			struct report pr, fr;
			int ps, fs;
			char want[160], got[160];
			run((enum kase)c, F_PLAIN, (enum disp)d, &pr, &ps);
			describe(want, sizeof(want), &pr, ps);
			/* the plain call's own answer, as the kernel gives it */
			if (d == D_DEFAULT && c != C_SENDTO_NOSIG &&
			    !(WIFSIGNALED(ps) && WTERMSIG(ps) == case_sig((enum kase)c)))
				T_FAIL("plain %s, %s: %s", case_name[c], disp_name[d], want);
			for (int f = F_ASYNC; f < F__N; f++) {
				run((enum kase)c, (enum face)f, (enum disp)d, &fr, &fs);
				describe(got, sizeof(got), &fr, fs);
				compared++;
				int hp = pr.hits, hf = fr.hits;
#if defined(__SANITIZE_THREAD__)
				/* TSan keeps one deferred signal per number: those
				 * several raw calls of one post raise reach the
				 * handler once. There, only whether it came counts. */
				if (c == C_PIPE_WRITE3 || c == C_XFSZ_WRITE3)
					hp = hp > 0, hf = hf > 0;
#endif
				if (ps != fs || pr.res != fr.res || hp != hf ||
				    pr.on_submitter != fr.on_submitter) {
					fprintf(stderr, "DIFF %s, %s, %s: plain %s; sysring %s\n", case_name[c],
						disp_name[d], face_name[f], want, got);
					fails++;
				}
			}
		}
	if (fails)
		T_FAIL("%d of %d differ from the plain call", fails, compared);
	printf("signals_raised: %d situations compared with the plain call\n", compared);
	return 0;
}

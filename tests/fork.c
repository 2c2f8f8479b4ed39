/* SPDX-License-Identifier: MIT */
/*
 * fork() (issue 11 item 3). In a child:
 *   - every inherited async context fails with EINVAL (every entry point,
 *     native ones with -EINVAL);
 *   - the inherited syslet registration is none: async_exec runs the syslet
 *     on the calling thread and returns the atom (as on a thread without a
 *     ring), async_wait and async_unregister fail with EINVAL at once, and
 *     async_register makes a new one;
 *   - every inherited batch handle fails with EINVAL (batchsys_close_fd
 *     does not close the fd it is given), batchsys_close closes the
 *     child's copy of the handle;
 *   - no io_uring descriptor of the parent is left in the child, and the
 *     fd cache's duplicates are gone: a pipe the parent closes reaches
 *     end-of-file although the child lives on;
 *   - the child can create its own of each.
 * The parent is unaffected: its calls, syslets and batches complete after
 * the child used the inherited ones.
 *
 * And fork from a thread while other threads take every lock of the library
 * in a loop (set-up/destroy, register/unregister, open/close, eventfd):
 * every child must be able to use the library (before: 80 of 100 hung).
 * Runs under the engine matrix.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "t.h"

#include <sysring.h>
#include <sysring/batchsys.h>

#if defined(__SANITIZE_ADDRESS__)
#define T_ASAN 1
#else
#define T_ASAN 0
#endif
/* gcc 12's TSan cannot start a thread in a fork child of a threaded
 * process ("dup thread with used id"): there the child checks only what
 * starts no thread (everything inherited); the other builds check the rest. */
#if defined(__SANITIZE_THREAD__)
#define T_TSAN 1
#else
#define T_TSAN 0
#endif

#define CHILD_CHECK(cond, code)                                                                   \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "child check %d failed: %s (errno %d)\n", code, #cond, errno); \
			_exit(code);                                                               \
		}                                                                                  \
	} while (0)

/* Wait for a child with a deadline: its exit status, or -1 if it hung
 * (then it is killed). */
static int wait_child(pid_t pid, unsigned int ms)
{
	int status;
	uint64_t end = t_now_ns() + (uint64_t)ms * 1000000;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (t_now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(2000);
	}
}

/* Descriptors of this process that are io_uring instances. */
static int count_uring_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;
	char path[300], link[128];

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		ssize_t k = readlink(path, link, sizeof(link) - 1);
		if (k > 0) {
			link[k] = 0;
			if (strstr(link, "io_uring"))
				n++;
		}
	}
	closedir(d);
	return n;
}

/* ---- the inherited state of each face ---- */

static int pfd[2];          /* the parent's reads wait on it */
static int eofp[2];         /* the pipe whose end-of-file is checked */
static int sync_p[2], sync_c[2]; /* parent <-> child hand-shakes */

static void test_inherited(void)
{
	async_context_t ctx;
	struct async_event ev[4];
	struct timespec zero = {0, 0};
	char buf[4], b1;
	struct async_cb *rd, *pid_cb, *cbs[1];
	static struct syslet_uatom *ring[8];
	static struct syslet_uatom sa;
	static long s_fd, s_buf, s_one = 1, s_res;
	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	int h, efd;
	batchsys_batch_t *b;

	T_EQ(pipe(pfd), 0);
	T_EQ(pipe(eofp), 0);
	T_EQ(pipe(sync_p), 0);
	T_EQ(pipe(sync_c), 0);

	/* async: one call blocked in flight, one event waiting */
	T_EQ(async_setup(8, &ctx), 0);
	efd = sysring_eventfd(ctx);
	T_ASSERT(efd >= 0);
	rd = async_cb_new(SYS_read, 3, (long)pfd[0], (long)buf, 1L);
	pid_cb = async_cb_new(SYS_getpid, 0);
	cbs[0] = rd;
	T_EQ(async_submit(ctx, 1, cbs), 1);
	cbs[0] = pid_cb;
	T_EQ(async_submit(ctx, 1, cbs), 1);

	/* syslets: one in flight (a blocked read), on this thread */
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	s_fd = pfd[0];
	s_buf = (long)&b1;
	memset(&sa, 0, sizeof(sa));
	sa.nr = SYS_read;
	sa.flags = SYSLET_ASYNC;
	sa.arg_ptr[0] = (unsigned long *)&s_fd;
	sa.arg_ptr[1] = (unsigned long *)&s_buf;
	sa.arg_ptr[2] = (unsigned long *)&s_one;
	sa.ret_ptr = &s_res;
	T_ASSERT(async_exec(&sa) == NULL);

	/* batches: a handle whose cache holds the write end of eofp */
	h = batchsys_open();
	T_ASSERT(h >= 0);
	b = batchsys_batch_alloc(h);
	T_ASSERT(b);
	T_EQ(batchsys_push_write(b, eofp[1], "ab", 2), 1);
	T_EQ(batchsys_post_batch(h, b), 1);
	T_EQ(batch_batch_get_result(b, 0)->result, 2);
	T_ASSERT(batchsys_cached_fds(h) >= 1);
	/* a second handle forced to io_uring, posted on by the child */
	int hu = batchsys_open();
	T_ASSERT(hu >= 0);
	T_EQ(sysring_batch_set_flags(hu, SYSRING_BATCHSYS_EXEC_URING), 0);
	batchsys_batch_reset(b);
	T_EQ(batchsys_push_syscall(b, SYS_getpid, 0), 1);
	T_EQ(batchsys_post_batch(hu, b), 1);

	/* Quiesce before fork (gcc 12's ASan is not fork-safe while another
	 * thread allocates): the executor threads park. */
	usleep(50 * 1000);

	int parent_urings = count_uring_fds();
	pid_t child = fork();
	if (child == 0) {
		alarm(20);
		int keep = batchsys_open(); /* must not hang on a lock */
		CHILD_CHECK(keep >= 0, 2);
		batchsys_close(keep);
		close(sync_p[1]);
		close(sync_c[0]);
		/* Nothing of the parent's io_uring instances survives here. */
		CHILD_CHECK(count_uring_fds() == 0, 3);

		/* async: every entry point on the inherited context */
		cbs[0] = pid_cb;
		errno = 0;
		CHILD_CHECK(async_submit(ctx, 1, cbs) == -1 && errno == EINVAL, 10);
		CHILD_CHECK(async_getevents(ctx, 0, 4, ev, &zero) == -1 && errno == EINVAL, 11);
		CHILD_CHECK(async_getevents(ctx, 1, 4, ev, NULL) == -1 && errno == EINVAL, 12);
		CHILD_CHECK(async_check_events(ctx, 0, 4, ev, NULL) == -1 && errno == EINVAL, 13);
		CHILD_CHECK(sysring_submit_timeout(ctx, 1, cbs, &zero) == -EINVAL, 14);
		CHILD_CHECK(sysring_cancel(ctx, rd) == -EINVAL, 15);
		struct sysring_stats st;
		CHILD_CHECK(sysring_stats(ctx, &st) == -EINVAL, 16);
		CHILD_CHECK(sysring_eventfd(ctx) == -EINVAL, 17);
		CHILD_CHECK(sysring_ctx_engine(ctx) == -EINVAL, 18);
		CHILD_CHECK(async_destroy(ctx) == -1 && errno == EINVAL, 19);

		/* syslets: the inherited registration is none */
		static long c_res, c_one = 1, c_fd, c_buf;
		static struct syslet_uatom ca;
		memset(&ca, 0, sizeof(ca));
		ca.nr = SYS_getpid;
		ca.flags = SYSLET_ASYNC;
		ca.ret_ptr = &c_res;
		CHILD_CHECK(async_exec(&ca) == &ca, 20); /* ran here, synchronously */
		CHILD_CHECK(c_res == getpid(), 21);
		CHILD_CHECK(ring[0] == NULL, 22);
		CHILD_CHECK(async_wait(1) == -1 && errno == EINVAL, 23);
		uint64_t t0 = t_now_ns();
		CHILD_CHECK(async_unregister(&ahu, sizeof(ahu)) == -1 && errno == EINVAL, 24);
		CHILD_CHECK(t_now_ns() - t0 < 1000000000ull, 25);
		/* and a new one in the child works, asynchronously too */
		if (T_TSAN)
			goto batches;
		static struct syslet_uatom *cring[4];
		struct async_head_user cahu = {cring, sizeof(cring), -1UL};
		int cp[2];
		CHILD_CHECK(pipe(cp) == 0, 26);
		CHILD_CHECK(async_register(&cahu, sizeof(cahu)) == 0, 27);
		c_fd = cp[0];
		c_buf = (long)buf;
		memset(&ca, 0, sizeof(ca));
		ca.nr = SYS_read;
		ca.flags = SYSLET_ASYNC;
		ca.arg_ptr[0] = (unsigned long *)&c_fd;
		ca.arg_ptr[1] = (unsigned long *)&c_buf;
		ca.arg_ptr[2] = (unsigned long *)&c_one;
		ca.ret_ptr = &c_res;
		CHILD_CHECK(async_exec(&ca) == NULL, 28);
		CHILD_CHECK(write(cp[1], "z", 1) == 1, 29);
		CHILD_CHECK(async_wait(1) == 1 && cring[0] == &ca && c_res == 1, 30);
		CHILD_CHECK(async_unregister(&cahu, sizeof(cahu)) == 0, 31);

	batches:;
		/* batches: every entry point on the inherited handles */
		int probe = dup(0);
		CHILD_CHECK(probe >= 0, 40);
		for (int k = 0; k < 2; k++) {
			int hh = k ? hu : h;
			batchsys_batch_reset(b);
			CHILD_CHECK(batchsys_push_syscall(b, SYS_getpid, 0) == 1, 41);
			errno = 0;
			CHILD_CHECK(batchsys_post_batch(hh, b) == -1 && errno == EINVAL, 42);
			CHILD_CHECK(batchsys_batch_alloc(hh) == NULL && errno == EINVAL, 43);
			CHILD_CHECK(batchsys_close_fd(hh, probe) == -1 && errno == EINVAL, 44);
			CHILD_CHECK(fcntl(probe, F_GETFD) >= 0, 45); /* not closed */
			CHILD_CHECK(batchsys_cached_fds(hh) == -1 && errno == EINVAL, 46);
			CHILD_CHECK(sysring_batch_set_flags(hh, 0) == -EINVAL, 47);
			CHILD_CHECK(sysring_batch_merged_calls(hh) == -EINVAL, 48);
			CHILD_CHECK(sysring_batch_last_executor(hh) == NULL, 49);
			/* closing it in the child closes the child's copy */
			batchsys_close(hh);
			CHILD_CHECK(fcntl(hh, F_GETFD) == -1 && errno == EBADF, 50);
		}
		/* a new handle in the child works, on io_uring too */
		int nh = batchsys_open();
		CHILD_CHECK(nh >= 0, 51);
		for (int k = 0; k < 2; k++) {
			CHILD_CHECK(sysring_batch_set_flags(nh, k ? SYSRING_BATCHSYS_EXEC_URING : 0) == 0, 52);
			batchsys_batch_reset(b);
			CHILD_CHECK(batchsys_push_syscall(b, SYS_getpid, 0) == 1, 53);
			CHILD_CHECK(batchsys_post_batch(nh, b) == 1, 54);
			CHILD_CHECK(batch_batch_get_result(b, 0)->result == getpid(), 55);
		}
		batchsys_close(nh);

		/* a new async context in the child works */
		if (T_TSAN)
			goto hold;
		async_context_t mine;
		CHILD_CHECK(async_setup(4, &mine) == 0, 60);
		cbs[0] = pid_cb;
		CHILD_CHECK(async_submit(mine, 1, cbs) == 1, 61);
		CHILD_CHECK(async_getevents(mine, 1, 1, ev, NULL) == 1 && ev[0].res == getpid(), 62);
		CHILD_CHECK(async_destroy(mine) == 0, 63);

	hold:
		/* Hold on (alive, with our copy of eofp's write end closed)
		 * while the parent checks that eofp reaches end-of-file. */
		close(eofp[1]);
		CHILD_CHECK(write(sync_c[1], "r", 1) == 1, 70);
		CHILD_CHECK(read(sync_p[0], &b1, 1) == 1, 71);
		_exit(0);
	}
	T_ASSERT(child > 0);
	close(sync_p[0]);
	close(sync_c[1]);
	T_EQ(read(sync_c[0], &b1, 1), 1); /* the child did all of the above */
	T_EQ(count_uring_fds(), parent_urings);

	/* eofp: the parent closes its write end through the cache; the child
	 * lives on, without a copy of it: the reader must see end-of-file. */
	T_EQ(batchsys_close_fd(h, eofp[1]), 0);
	T_EQ(read(eofp[0], buf, 2), 2);
	struct pollfd pf = {.fd = eofp[0], .events = POLLIN};
	int pr = poll(&pf, 1, 3000);
	if (pr != 1)
		T_FAIL("the pipe does not reach end-of-file while the fork child lives: the child keeps a copy");
	T_EQ(read(eofp[0], buf, 1), 0);
	T_EQ(write(sync_p[1], "g", 1), 1);
	int rc = wait_child(child, 20000);
	if (rc != 0)
		T_FAIL("child failed: %d", rc);

	/* the parent is unaffected: the blocked read and the syslet complete */
	T_EQ(write(pfd[1], "xy", 2), 2);
	int got = 0;
	while (got < 2) {
		int n = async_getevents(ctx, 1, 4, ev + got, NULL);
		T_ASSERT(n >= 1);
		got += n;
	}
	for (int i = 0; i < 2; i++)
		T_EQ(ev[i].res, ev[i].cbp == rd ? 1 : getpid());
	T_EQ(async_wait(1), 1);
	T_ASSERT(ring[0] == &sa);
	T_EQ(s_res, 1);
	__atomic_store_n(&ring[0], NULL, __ATOMIC_RELEASE); /* the library reads slots from other threads */
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	batchsys_batch_reset(b);
	T_EQ(batchsys_push_syscall(b, SYS_getppid, 0), 1);
	T_EQ(batchsys_post_batch(hu, b), 1);
	T_EQ(batch_batch_get_result(b, 0)->result, getppid());
	T_EQ(batchsys_post_batch(h, b), 1);
	T_EQ(batch_batch_get_result(b, 0)->result, getppid());
	batchsys_batch_free(b);
	batchsys_close(h);
	batchsys_close(hu);
	T_EQ(async_destroy(ctx), 0);
	async_cb_free(rd);
	async_cb_free(pid_cb);
	close(pfd[0]);
	close(pfd[1]);
	close(eofp[0]);
	close(sync_p[1]);
	close(sync_c[0]);
}

/* ---- fork from a thread while others take every lock ---- */

static int stop_churn;

static void *churn_ctx(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop_churn, __ATOMIC_RELAXED)) {
		async_context_t c;
		if (async_setup(4, &c) == 0) {
			sysring_eventfd(c); /* ctx->lock */
			async_destroy(c);
		}
	}
	return NULL;
}

static void *churn_reg(void *arg)
{
	static __thread struct syslet_uatom *ring[4];
	struct async_head_user ahu = {ring, sizeof(ring), 2};
	struct syslet_uatom a;
	long res;
	(void)arg;
	while (!__atomic_load_n(&stop_churn, __ATOMIC_RELAXED)) {
		if (async_register(&ahu, sizeof(ahu)))
			continue;
		memset(&a, 0, sizeof(a));
		a.nr = SYS_getpid;
		a.ret_ptr = &res;
		async_exec(&a);
		async_unregister(&ahu, sizeof(ahu)); /* regs_lock, held while destroying */
	}
	return NULL;
}

static void *churn_batch(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop_churn, __ATOMIC_RELAXED)) {
		int h = batchsys_open();
		if (h < 0)
			continue;
		batchsys_batch_t *b = batchsys_batch_alloc(h);
		if (b) {
			batchsys_push_syscall(b, SYS_getpid, 0);
			batchsys_post_batch(h, b);
			batchsys_batch_free(b);
		}
		batchsys_close(h);
	}
	return NULL;
}

/* A child: each face must work (no lock inherited held). */
static void child_uses_everything(void)
{
	struct async_event ev[1];
	alarm(10);
	async_context_t c;
	if (async_setup(4, &c))
		_exit(2);
	struct async_cb *cb = async_cb_new(SYS_getpid, 0);
	struct async_cb *cbs[1] = {cb};
	if (!cb || async_submit(c, 1, cbs) != 1 || async_getevents(c, 1, 1, ev, NULL) != 1 ||
	    ev[0].res != getpid() || async_destroy(c))
		_exit(3);
	static struct syslet_uatom *ring[4];
	struct async_head_user ahu = {ring, sizeof(ring), 2};
	struct syslet_uatom a;
	long res = 0;
	memset(&a, 0, sizeof(a));
	a.nr = SYS_getpid;
	a.ret_ptr = &res;
	if (async_register(&ahu, sizeof(ahu)))
		_exit(4);
	struct syslet_uatom *done = async_exec(&a);
	/* cached, or (inline off) through the ring */
	if (!done && (async_wait(1) != 1 || ring[0] != &a))
		_exit(6);
	if ((done && done != &a) || res != getpid() || async_unregister(&ahu, sizeof(ahu)))
		_exit(7);
	int h = batchsys_open();
	batchsys_batch_t *b = h >= 0 ? batchsys_batch_alloc(h) : NULL;
	if (!b || batchsys_push_syscall(b, SYS_getpid, 0) != 1 || batchsys_post_batch(h, b) != 1 ||
	    batch_batch_get_result(b, 0)->result != getpid())
		_exit(5);
	batchsys_close(h);
	_exit(0);
}

static int forks_hung, forks_failed;

static void *forker(void *arg)
{
	long n = (long)arg;
	for (long i = 0; i < n; i++) {
		usleep(2000);
		pid_t p = fork();
		if (p == 0)
			child_uses_everything();
		if (p < 0)
			continue;
		int rc = wait_child(p, 15000);
		if (rc < 0)
			forks_hung++;
		else if (rc) {
			fprintf(stderr, "child exit %d\n", rc);
			forks_failed++;
		}
	}
	return NULL;
}

static void test_fork_while_locked(void)
{
	pthread_t th[4], f;
	long n = (long)(100 * t_scale());
	if (n < 10)
		n = 10;
	__atomic_store_n(&stop_churn, 0, __ATOMIC_RELAXED);
	pthread_create(&th[0], NULL, churn_ctx, NULL);
	pthread_create(&th[1], NULL, churn_reg, NULL);
	pthread_create(&th[2], NULL, churn_batch, NULL);
	pthread_create(&f, NULL, forker, (void *)n);
	pthread_join(f, NULL);
	__atomic_store_n(&stop_churn, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	if (forks_hung || forks_failed)
		T_FAIL("%d of %ld children hung and %d failed using the library after a fork from a thread",
		       forks_hung, n, forks_failed);
	printf("fork: %ld children forked from a thread while others held the library's locks: all fine\n", n);
}

int main(int argc, char **argv)
{
	t_watchdog(300);
	if (argc < 2 || !strcmp(argv[1], "inherited"))
		test_inherited();
	if (argc < 2 || !strcmp(argv[1], "locks")) {
		if (T_ASAN || T_TSAN)
			/* gcc 12's ASan has no fork handler for its allocator: a
			 * child forked while another thread allocates can hang
			 * in malloc, whatever sysring does; its TSan cannot start
			 * a thread in such a child. The plain build runs this
			 * part. */
			printf("fork: the fork-while-locked part runs in the plain build only (gcc 12's sanitizers are not fork-safe)\n");
		else
			test_fork_while_locked();
	}
	printf("fork: ok\n");
	return 0;
}

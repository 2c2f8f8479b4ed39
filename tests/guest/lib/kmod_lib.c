/* SPDX-License-Identifier: MIT */
/*
 * The library with the module present (kmod/guest.cmake runs it in the
 * guest under engines kmod, uring and auto; the host runs the fds part under
 * every engine of the matrix). Each part runs in a fresh process.
 *
 *   fds     The library's own descriptors never take a number the
 *           program's next open would get: the module's device and rings,
 *           io_uring instances and their eventfds are opened at set-up and
 *           moved out of the way of the program's numbers (close-on-exec),
 *           and where there is no set-up (a ring-less syslet) the same
 *           holds; so the lowest free fd number -- the one the program's
 *           next open gets -- is the same after set-up as before it, and it
 *           and the set of open fds are the same after every call through
 *           every face as before it.
 *   close   A call that drops the last reference to a file (close, dup2,
 *           close_range) through the module -- the async face on engine
 *           kmod (in-kernel workers), a SYSLET_ASYNC syslet, a batch on the
 *           module's executor -- has its effect when its completion is
 *           seen: a pipe's reader sees end of file, not EAGAIN.
 *   pool    Engine kmod keeps the progress guarantee (tests/progress.c runs
 *           too): 48 blocking reads, then their writes, on a context of 96
 *           events complete, the in-kernel workers having grown past their
 *           floor (8 here); idle, the pool shrinks back to the floor.
 *   fork    A fork child has no descriptor of its parent's module rings:
 *           every /dev/sysring fd it holds answers WAKE with ENXIO (no ring
 *           on that file), never EPERM (a ring of another process); it can
 *           set up and use its own; the parent's context still works.
 */
#include "t.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <sysring.h>
#include <sysring/batchsys.h>
#include <sysring/syslet.h>
#include <sysring/uapi.h>

static int have_module(void)
{
	const char *k = getenv("SYSRING_KMOD");
	return access(SYSRING_DEVICE_PATH, F_OK) == 0 && !(k && !strcmp(k, "0"));
}

/* The number the program's next open gets. */
static int lowest_free(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	T_ASSERT(fd >= 0);
	close(fd);
	return fd;
}

/* The fd table as text: "number:target" for every open fd. */
static void fd_table(char *out, size_t len)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	size_t l = 0;
	int own;

	T_ASSERT(d);
	own = dirfd(d);
	out[0] = 0;
	while ((de = readdir(d))) {
		char p[64], t[128];
		int fd = atoi(de->d_name);
		ssize_t n;

		if (de->d_name[0] == '.' || fd == own)
			continue;
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		n = readlink(p, t, sizeof(t) - 1);
		t[n > 0 ? n : 0] = 0;
		l += (size_t)snprintf(out + l, len - l, "%d:%s ", fd, t);
		T_ASSERT(l < len);
	}
	closedir(d);
}

/* The fd numbers holding /dev/sysring, in fds[]; returns how many. */
static int sysring_fds(int *fds, int max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	T_ASSERT(d);
	while ((de = readdir(d)) && n < max) {
		char p[300], t[64];
		ssize_t k;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/self/fd/%s", de->d_name);
		k = readlink(p, t, sizeof(t) - 1);
		t[k > 0 ? k : 0] = 0;
		if (!strcmp(t, SYSRING_DEVICE_PATH))
			fds[n++] = atoi(de->d_name);
	}
	closedir(d);
	return n;
}

#define CHECK_FDS(what)                                                                         \
	do {                                                                                    \
		char now_[4096];                                                                \
		fd_table(now_, sizeof(now_));                                                   \
		if (lowest_free() != low)                                                       \
			T_FAIL("%s: the next open gets fd %d, %d before it", what, lowest_free(), low); \
		if (strcmp(now_, table))                                                        \
			T_FAIL("%s: the fd table changed:\n  before: %s\n  after:  %s", what, table, now_); \
	} while (0)

static long ret_a, ret_b;

/* getppid then getpid: the cached part of a syslet goes through the module */
static struct syslet_uatom *two_atoms(unsigned long flags)
{
	static struct syslet_uatom a[2];

	memset(a, 0, sizeof(a));
	a[0].flags = flags;
	a[0].nr = SYS_getppid;
	a[0].ret_ptr = &ret_a;
	a[0].next = &a[1];
	a[1].flags = flags;
	a[1].nr = SYS_getpid;
	a[1].ret_ptr = &ret_b;
	ret_a = ret_b = 0;
	return a;
}

static struct syslet_uatom *ring[16];

/* Wait for the async syslet's completion in the registered ring. */
static void ring_take(struct syslet_uatom *want)
{
	T_ASSERT(async_wait(1) >= 0);
	for (int i = 0; i < 16; i++) {
		struct syslet_uatom *a = __atomic_load_n(&ring[i], __ATOMIC_ACQUIRE);
		if (a) {
			T_ASSERT(a == want);
			__atomic_store_n(&ring[i], NULL, __ATOMIC_RELEASE);
			return;
		}
	}
	T_FAIL("no completion in the ring");
}

static void *ringless_thread(void *arg)
{
	struct syslet_uatom *a = two_atoms(0);
	(void)arg;
	T_ASSERT(async_exec(a) == a); /* no registration on this thread: runs here */
	return NULL;
}

static void part_fds(void)
{
	struct async_head_user ahu = { .completion_ring = ring, .ring_size_bytes = sizeof(ring),
				       .max_nr_threads = -1UL };
	char table[4096];
	int low = lowest_free();
	struct syslet_uatom *a;
	async_context_t ctx;
	pthread_t th;

	/* No set-up at all: a ring-less syslet runs through the module. */
	fd_table(table, sizeof(table));
	a = two_atoms(0);
	T_ASSERT(async_exec(a) == a);
	T_EQ(ret_a, getppid());
	T_EQ(ret_b, getpid());
	if (lowest_free() != low)
		T_FAIL("ring-less syslet: the next open gets fd %d, %d before it", lowest_free(), low);

	/* Set-up: the library's own descriptors (the module's device and
	 * ring, io_uring instances and their eventfds) take none of the
	 * numbers the program's next opens would get; the batch handle is the
	 * program's, and gets the number a plain open would have. */
	T_EQ(async_setup(64, &ctx), 0);
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	if (lowest_free() != low)
		T_FAIL("async_setup, async_register: the next open gets fd %d, %d before", lowest_free(), low);
	int dummy = open("/dev/null", O_RDONLY | O_CLOEXEC), next = lowest_free();
	T_EQ(dummy, low);
	close(dummy);
	int h = batchsys_open();
	batchsys_batch_t *b = batchsys_batch_alloc(h);
	T_ASSERT(h >= 0 && b);
	if (h != low || lowest_free() != next)
		T_FAIL("batchsys_open: handle %d and next open %d; plain opens: %d and %d", h, lowest_free(), low,
		       next);
	low = lowest_free();
	fd_table(table, sizeof(table));
	if (have_module()) {
		int fds[8], n = sysring_fds(fds, 8);
		T_ASSERT(n >= 1); /* opened at set-up */
		for (int i = 0; i < n; i++)
			if (!(fcntl(fds[i], F_GETFD) & FD_CLOEXEC))
				T_FAIL("fd %d of %s without close-on-exec", fds[i], SYSRING_DEVICE_PATH);
	}

	a = two_atoms(0);
	if (async_exec(a) != a) /* went asynchronous (inline calls off) */
		ring_take(&a[1]);
	T_EQ(ret_b, getpid());
	CHECK_FDS("cached syslet");

	a = two_atoms(SYSLET_ASYNC);
	T_ASSERT(async_exec(a) == NULL);
	ring_take(&a[1]);
	T_EQ(ret_b, getpid());
	CHECK_FDS("SYSLET_ASYNC syslet");

	T_EQ(pthread_create(&th, NULL, ringless_thread, NULL), 0);
	pthread_join(th, NULL);
	T_EQ(ret_b, getpid());
	CHECK_FDS("ring-less syslet after set-up");

	for (int ex = 0; ex < 2; ex++) {
		batchsys_batch_reset(b);
		T_EQ(sysring_batch_set_flags(h, ex ? SYSRING_BATCHSYS_EXEC_KMOD : 0), 0);
		T_EQ(batchsys_push_syscall(b, SYS_getppid, 0), 1);
		T_EQ(batchsys_push_syscall(b, SYS_getpid, 0), 1);
		T_EQ(batchsys_post_batch(h, b), 2);
		T_EQ(batch_batch_get_result(b, 1)->result, getpid());
		CHECK_FDS(ex ? "batch (module's executor)" : "batch");
	}

	struct async_cb *cb = async_cb_new(SYS_getppid, 0);
	struct async_event ev;
	T_ASSERT(cb);
	T_EQ(async_submit(ctx, 1, &cb), 1);
	T_EQ(async_getevents(ctx, 1, 1, &ev, NULL), 1);
	T_EQ(ev.res, getppid());
	CHECK_FDS("async call");
	free(cb);

	batchsys_batch_free(b);
	batchsys_close(h);
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	T_EQ(async_destroy(ctx), 0);
	printf("kmod_lib fds: ok (next fd %d throughout)\n", low);
}

static async_context_t kmod_ctx(unsigned long n)
{
	struct sysring_params p;
	async_context_t ctx;

	/* the environment would override the engine asked for here */
	unsetenv("SYSRING_ENGINE");
	sysring_params_init(&p);
	p.engine = SYSRING_ENGINE_KMOD;
	p.inline_calls = 0; /* every call to the in-kernel workers */
	T_EQ(sysring_setup(n, &p, &ctx), 0);
	return ctx;
}

static long run1(async_context_t ctx, long nr, long a0, long a1, long a2)
{
	struct async_cb *cb = async_cb_new(nr, 3, a0, a1, a2);
	struct async_event ev;

	T_ASSERT(cb);
	T_EQ(async_submit(ctx, 1, &cb), 1);
	T_EQ(async_getevents(ctx, 1, 1, &ev, NULL), 1);
	free(cb);
	return (long)ev.res;
}

static void part_close(void)
{
	async_context_t ctx = kmod_ctx(16);
	int rounds = (int)(300 * t_scale()) + 10, devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int h = batchsys_open();
	batchsys_batch_t *b = batchsys_batch_alloc(h);
	char c;

	T_ASSERT(h >= 0 && b && devnull >= 0);
	for (int i = 0; i < rounds; i++) {
		int p[2];
		long r;
		T_EQ(pipe2(p, O_CLOEXEC), 0);
		T_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
		switch (i % 3) {
		case 0:
			r = run1(ctx, SYS_close, p[1], 0, 0);
			T_EQ(r, 0);
			break;
		case 1:
			r = run1(ctx, SYS_dup2, devnull, p[1], 0);
			T_EQ(r, p[1]);
			break;
		default:
			r = run1(ctx, 436 /* close_range */, p[1], p[1], 0);
			T_EQ(r, 0);
			break;
		}
		r = read(p[0], &c, 1);
		if (r != 0)
			T_FAIL("async on engine kmod, round %d: the write end was dropped, then read gave %ld "
			       "(%s); the plain call's answer is end of file",
			       i, r, r < 0 ? strerror(errno) : "data");
		close(p[0]);
		if (i % 3 == 1)
			close(p[1]);
	}

	/* the batch face on the module's executor: [close(w), read(r)] */
	T_EQ(sysring_batch_set_flags(h, SYSRING_BATCHSYS_EXEC_KMOD), 0);
	for (int i = 0; i < 20; i++) {
		int p[2];
		T_EQ(pipe2(p, O_CLOEXEC), 0);
		T_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
		batchsys_batch_reset(b);
		T_EQ(batchsys_push_close(b, p[1]), 1);
		T_EQ(batchsys_push_read(b, p[0], &c, 1), 1);
		T_EQ(batchsys_post_batch(h, b), 2);
		T_EQ(batch_batch_get_result(b, 0)->result, 0);
		if (batch_batch_get_result(b, 1)->result != 0)
			T_FAIL("batch [close(w), read(r)]: read gave %ld, error %ld; plain calls: end of file",
			       (long)batch_batch_get_result(b, 1)->result, (long)batch_batch_get_result(b, 1)->error);
		if (have_module() && strcmp(sysring_batch_last_executor(h), "kmod"))
			T_FAIL("batch ran on %s, not the module", sysring_batch_last_executor(h));
		close(p[0]);
	}
	batchsys_batch_free(b);
	batchsys_close(h);
	T_EQ(async_destroy(ctx), 0);
	close(devnull);
	printf("kmod_lib close: ok (%d rounds through the in-kernel workers)\n", rounds);
}

static void part_fork(void)
{
	async_context_t ctx = kmod_ctx(16);
	int p[2], status;
	char c = 'x';
	pid_t pid;

	T_EQ(pipe2(p, O_CLOEXEC), 0);
	T_EQ(run1(ctx, SYS_write, p[1], (long)&c, 1), 1);
	T_EQ(run1(ctx, SYS_read, p[0], (long)&c, 1), 1);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		int fds[16], n = sysring_fds(fds, 16);
		for (int i = 0; i < n; i++) {
			long r = syscall(SYS_ioctl, fds[i], SYSRING_IOC_WAKE, 0);
			if (r != -1 || errno != ENXIO)
				T_FAIL("fork child: fd %d reaches a module ring of its parent (WAKE: %ld, %s)",
				       fds[i], r, r < 0 ? strerror(errno) : "");
		}
		struct async_cb *cb = async_cb_new(SYS_getpid, 0);
		T_ASSERT(cb);
		T_ASSERT(async_submit(ctx, 1, &cb) == -1 && errno == EINVAL);
		free(cb);
		async_context_t mine = kmod_ctx(8);
		T_EQ(run1(mine, SYS_write, p[1], (long)&c, 1), 1);
		T_EQ(run1(mine, SYS_read, p[0], (long)&c, 1), 1);
		T_EQ(run1(mine, SYS_getpid, 0, 0, 0), getpid());
		T_EQ(async_destroy(mine), 0);
		_exit(0);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status));
	T_EQ(WEXITSTATUS(status), 0);
	T_EQ(run1(ctx, SYS_write, p[1], (long)&c, 1), 1);
	T_EQ(run1(ctx, SYS_read, p[0], (long)&c, 1), 1);
	T_EQ(async_destroy(ctx), 0);
	printf("kmod_lib fork: ok (the child holds no descriptor of its parent's rings)\n");
}

static int nthreads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	T_ASSERT(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Each thread's current system call (for a failure message). */
static void dump_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char p[300], buf[256] = "";
		FILE *f;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/self/task/%s/syscall", de->d_name);
		if ((f = fopen(p, "r"))) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = 0;
			fclose(f);
		}
		fprintf(stderr, "  thread %s: %s", de->d_name, buf);
	}
	if (d)
		closedir(d);
}

static void part_pool(void)
{
	enum { N = 48 };
	static struct async_cb *rd[N], *wr[N];
	static struct async_event ev[2 * N];
	static int p[N][2];
	static char in[N], out[N];
	async_context_t ctx;
	struct sysring_params prm;
	int t0, t1 = 0, got = 0;
	uint64_t end;

	unsetenv("SYSRING_ENGINE");
	unsetenv("SYSRING_THREADS");
	sysring_params_init(&prm);
	prm.engine = SYSRING_ENGINE_KMOD;
	prm.inline_calls = 0;
	T_EQ(sysring_setup(2 * N, &prm, &ctx), 0);
	T_EQ(run1(ctx, SYS_getpid, 0, 0, 0), getpid());
	t0 = nthreads();
	if (getenv("KMOD_LIB_VERBOSE"))
		dump_threads();
	for (int i = 0; i < N; i++) {
		T_EQ(pipe2(p[i], O_CLOEXEC), 0);
		out[i] = (char)('a' + i % 26);
		rd[i] = async_cb_new(SYS_read, 3, (long)p[i][0], (long)&in[i], 1L);
		wr[i] = async_cb_new(SYS_write, 3, (long)p[i][1], (long)&out[i], 1L);
		T_ASSERT(rd[i] && wr[i]);
	}
	T_EQ(async_submit(ctx, N, rd), N);
	T_EQ(async_submit(ctx, N, wr), N);
	end = t_now_ns() + 60ull * 1000000000ull;
	while (got < 2 * N) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		int n = async_getevents(ctx, 0, 2 * N - got, ev + got, &ts);
		T_ASSERT(n >= 0);
		got += n;
		if (nthreads() > t1)
			t1 = nthreads();
		if (got < 2 * N && t_now_ns() > end)
			T_FAIL("pool: %d of %d events after 60 s: the in-kernel workers did not grow "
			       "(%d threads, %d before)", got, 2 * N, nthreads(), t0);
	}
	for (int i = 0; i < 2 * N; i++)
		T_EQ(ev[i].res, 1);
	for (int i = 0; i < N; i++)
		T_EQ(in[i], out[i]);
	T_ASSERT(t1 > t0);
	/* Idle: the workers above the floor leave (1 s), the monitor joins them. */
	end = t_now_ns() + 30ull * 1000000000ull;
	while (nthreads() > t0) {
		if (t_now_ns() > end) {
			dump_threads();
			T_FAIL("pool: still %d threads 30 s after the burst, %d before it", nthreads(), t0);
		}
		usleep(50 * 1000);
	}
	T_EQ(run1(ctx, SYS_getpid, 0, 0, 0), getpid());
	T_EQ(async_destroy(ctx), 0);
	for (int i = 0; i < N; i++) {
		close(p[i][0]);
		close(p[i][1]);
		free(rd[i]);
		free(wr[i]);
	}
	printf("kmod_lib pool: ok (%d threads before, up to %d in the burst, back to %d idle)\n", t0, t1, nthreads());
}

static int in_child(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	T_ASSERT(pid >= 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(void)
{
	int bad = 0;

	t_watchdog(600);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* fd numbers: every engine (the host runs it too, tests/CMakeLists.txt) */
	bad |= in_child(part_fds);
	if (!have_module()) {
		printf("kmod_lib: close, pool and fork need %s (the guest run loads the module)\n",
		       SYSRING_DEVICE_PATH);
		return bad ? 1 : 0;
	}
	bad |= in_child(part_close);
	bad |= in_child(part_pool);
	bad |= in_child(part_fork);
	return bad ? 1 : 0;
}

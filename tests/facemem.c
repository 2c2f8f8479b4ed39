/* SPDX-License-Identifier: MIT */
/*
 * Memory the faces themselves read or write for the caller -- events arrays,
 * timeouts, stats and info structs, ctx_idp, params, the syslet head and
 * completion ring -- that cannot be accessed is that call's EFAULT (seed
 * faces: -1/EFAULT as io_getevents(2) and io_setup(2) give; native
 * sysring_*: -EFAULT), never a SIGSEGV, and nothing is lost: an event that
 * could not be delivered is still there afterwards. Each case runs in a
 * child, so a crash is reported as that case's failure. Where the kernel has
 * the same interface (io_getevents), the plain call's errno is compared.
 */
#include <linux/aio_abi.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "t.h"

#include <sysring.h>

static char *hole, *ro; /* PROT_NONE page, read-only page */

/* Plain io_getevents on a kernel aio context holding one completion. */
static int plain_getevents_errno(struct io_event *evs, struct timespec *to)
{
	aio_context_t kctx = 0;
	char path[] = "/tmp/facemem.XXXXXX", b;
	int fd = mkstemp(path), e;
	struct iocb cb = {0}, *cbp = &cb;
	struct io_event ev;

	if (fd < 0 || write(fd, "x", 1) != 1)
		T_FAIL("temp file");
	unlink(path);
	if (syscall(SYS_io_setup, 4, &kctx))
		return -1; /* no kernel aio: nothing to compare with */
	cb.aio_fildes = (uint32_t)fd;
	cb.aio_lio_opcode = IOCB_CMD_PREAD;
	cb.aio_buf = (uint64_t)(uintptr_t)&b;
	cb.aio_nbytes = 1;
	T_EQ(syscall(SYS_io_submit, kctx, 1, &cbp), 1);
	usleep(20000);
	errno = 0;
	long r = syscall(SYS_io_getevents, kctx, 1, 1, evs, to);
	e = r < 0 ? errno : 0;
	/* and the completion is still there */
	struct timespec s = {1, 0};
	T_EQ(syscall(SYS_io_getevents, kctx, 1, 1, &ev, &s), 1);
	syscall(SYS_io_destroy, kctx);
	close(fd);
	return e;
}

static void events_case(int check, void *evp, struct timespec *to)
{
	async_context_t ctx;
	struct async_cb *cb = async_cb_new(SYS_getppid, 0);
	struct async_event ev;
	struct timespec s = {2, 0};

	T_EQ(async_setup(4, &ctx), 0);
	T_EQ(async_submit(ctx, 1, &cb), 1);
	/* wait until it completed, without collecting it */
	for (int i = 0; i < 2000; i++) {
		struct sysring_stats st;
		T_EQ(sysring_stats(ctx, &st), 0);
		if (st.pending)
			break;
		usleep(1000);
	}
	if (check)
		T_ERRNO(async_check_events(ctx, 1, 1, evp, to), EFAULT);
	else
		T_ERRNO(async_getevents(ctx, 1, 1, evp, to), EFAULT);
	/* nothing lost */
	T_EQ(async_getevents(ctx, 1, 1, &ev, &s), 1);
	T_EQ(ev.res, getppid());
	T_EQ(ev.cbp, cb);
	T_EQ(async_destroy(ctx), 0);
	async_cb_free(cb);
}

static int failed;

/* Every case runs; the test fails if any did. */
static void run(const char *name, void (*fn)(int), int arg)
{
	pid_t p = fork();
	int st;

	T_ASSERT(p >= 0);
	if (!p) {
		t_watchdog(30);
		fn(arg);
		_exit(0);
	}
	T_EQ(waitpid(p, &st, 0), p);
	if (WIFSIGNALED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "FAIL %s: %s %d\n", name, WIFSIGNALED(st) ? "killed by signal" : "exit",
			WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		failed++;
	}
}

static void c_events(int i)
{
	/* i: bit 0 check_events, bit 1 read-only array, bit 2 bad timeout */
	struct timespec *to = (i & 4) ? (struct timespec *)hole : NULL;
	void *evp = (i & 4) ? malloc(64) : (i & 2) ? (void *)ro : (void *)hole;
	events_case(i & 1, evp, to);
}

/* An array writable for its first event only: the collect stops there,
 * as io_getevents(2) stops at the first event it cannot copy, and the
 * other event stays. */
static void c_partial(int i)
{
	async_context_t ctx;
	struct async_cb *cb = async_cb_new(SYS_getppid, 0), *cbs[2] = {cb, cb};
	struct async_event *evp = (struct async_event *)(hole - sizeof(struct async_event)), ev;
	struct timespec s = {2, 0};
	(void)i;
	T_EQ(async_setup(4, &ctx), 0);
	T_EQ(async_submit(ctx, 2, cbs), 2);
	T_EQ(async_getevents(ctx, 2, 4, evp, &s), 1);
	T_EQ(evp[0].res, getppid());
	T_EQ(async_getevents(ctx, 1, 1, &ev, &s), 1);
	T_EQ(ev.res, getppid());
	T_EQ(async_destroy(ctx), 0);
}

static void c_plain(int i)
{
	int e;
	(void)i;
	e = plain_getevents_errno((struct io_event *)hole, NULL);
	if (e >= 0)
		T_EQ(e, EFAULT);
	e = plain_getevents_errno((struct io_event *)ro, NULL);
	if (e >= 0)
		T_EQ(e, EFAULT);
	struct io_event ev;
	e = plain_getevents_errno(&ev, (struct timespec *)hole);
	if (e >= 0)
		T_EQ(e, EFAULT);
}

static void c_submit_timeout(int i)
{
	async_context_t ctx;
	struct async_cb *cb = async_cb_new(SYS_getppid, 0);
	struct async_event ev;
	(void)i;
	T_EQ(async_setup(4, &ctx), 0);
	T_EQ(sysring_submit_timeout(ctx, 1, &cb, (struct timespec *)hole), -EFAULT);
	/* nothing queued */
	T_EQ(async_check_events(ctx, 0, 1, &ev, NULL), 0);
	struct sysring_stats st;
	T_EQ(sysring_stats(ctx, &st), 0);
	T_EQ(st.submitted, 0);
	T_EQ(async_destroy(ctx), 0);
}

static void c_stats(int i)
{
	async_context_t ctx;
	T_EQ(async_setup(4, &ctx), 0);
	T_EQ(sysring_stats(ctx, (struct sysring_stats *)(i ? ro : hole)), -EFAULT);
	/* a struct that starts mapped and runs into the hole */
	T_EQ(sysring_stats(ctx, (struct sysring_stats *)(hole - 8)), -EFAULT);
	T_EQ(async_destroy(ctx), 0);
}

static void c_info(int i)
{
	T_EQ(sysring_syscall_info(SYS_read, (struct sysring_syscall_info *)(i ? ro : hole)), -EFAULT);
}

static void c_cb_set_arg(int i)
{
	(void)i;
	T_ERRNO(async_cb_set_arg((struct async_cb *)hole, 0, 1), EFAULT);
	T_ERRNO(async_cb_set_arg((struct async_cb *)ro, 0, 1), EINVAL); /* vargs[0] NULL: no argument 0 */
	struct async_cb *cb = async_cb_new(SYS_getppid, 1, 0L);
	T_EQ(async_cb_set_arg(cb, 0, 5), 0);
	T_ERRNO(async_cb_set_arg(cb, 1, 5), EINVAL);
	async_cb_free(cb);
}

static void c_setup(int i)
{
	async_context_t ctx;
	struct sysring_params p;
	if (i == 0)
		T_ERRNO(async_setup(4, (async_context_t *)hole), EFAULT);
	else if (i == 1)
		T_ERRNO(async_setup(4, (async_context_t *)ro), EFAULT);
	else if (i == 2)
		T_EQ(sysring_setup(4, NULL, (async_context_t *)ro), -EFAULT);
	else if (i == 3)
		T_EQ(sysring_setup(4, (struct sysring_params *)hole, &ctx), -EFAULT);
	/* still usable afterwards */
	sysring_params_init(&p);
	T_EQ(sysring_setup(4, &p, &ctx), 0);
	T_EQ(async_destroy(ctx), 0);
}

static void c_register(int i)
{
	static struct syslet_uatom *ring[16];
	struct async_head_user head = {ring, sizeof ring, -1UL};
	if (i == 0) {
		T_ERRNO(async_register((struct async_head_user *)hole, sizeof head), EFAULT);
	} else if (i == 1 || i == 2 || i == 3) {
		/* ring read-only, unmapped, or running into the hole */
		struct async_head_user h = {(struct syslet_uatom **)(i == 1 ? ro : i == 2 ? hole : hole - 64),
					    4096, -1UL};
		T_ERRNO(async_register(&h, sizeof h), EFAULT);
	} else if (i == 4) {
		T_EQ(async_register(&head, sizeof head), 0);
		T_ERRNO(async_unregister((struct async_head_user *)hole, sizeof head), EFAULT);
		T_EQ(async_unregister(&head, sizeof head), 0);
	}
	/* nothing was registered by the failed call: a good one works, and a
	 * syslet completes into its ring */
	T_EQ(async_register(&head, sizeof head), 0);
	static long ret = -1, a0, a1, a2 = 1;
	static char b[4];
	static struct syslet_uatom at;
	int p[2];
	T_EQ(pipe(p), 0);
	a0 = p[0];
	a1 = (long)b;
	at.nr = SYS_read;
	at.arg_ptr[0] = (unsigned long *)&a0;
	at.arg_ptr[1] = (unsigned long *)&a1;
	at.arg_ptr[2] = (unsigned long *)&a2;
	at.ret_ptr = &ret;
	at.flags = SYSLET_ASYNC;
	T_ASSERT(async_exec(&at) == NULL);
	T_EQ(write(p[1], "x", 1), 1);
	T_EQ(async_wait(1), 1);
	T_EQ(ret, 1);
	T_ASSERT(ring[0] == &at);
	T_EQ(async_unregister(&head, sizeof head), 0);
}

int main(void)
{
	t_watchdog(120);
	/* a writable page, then the hole, then a read-only page: structs that
	 * start mapped run into the hole */
	char *base = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(base != MAP_FAILED);
	hole = base + 4096;
	ro = hole + 4096;
	T_EQ(mprotect(hole, 4096, PROT_NONE), 0);
	T_EQ(mprotect(ro, 4096, PROT_READ), 0);

	/* twice: with the fault handler, and with the system-call fallback
	 * (the parent never enters the library, so each child chooses) */
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			setenv("SYSRING_UACCESS", "syscall", 1);
		run("plain io_getevents", c_plain, 0);
		run("getevents events writable in part", c_partial, 0);
		run("getevents events unmapped", c_events, 0);
		run("check_events events unmapped", c_events, 1);
		run("getevents events read-only", c_events, 2);
		run("check_events events read-only", c_events, 3);
		run("getevents timeout unmapped", c_events, 4);
		run("check_events timeout unmapped", c_events, 5);
		run("submit_timeout timeout unmapped", c_submit_timeout, 0);
		run("stats unmapped", c_stats, 0);
		run("stats read-only", c_stats, 1);
		run("syscall_info unmapped", c_info, 0);
		run("async_cb_set_arg cb unmapped", c_cb_set_arg, 0);
		run("syscall_info read-only", c_info, 1);
		run("async_setup ctx_idp unmapped", c_setup, 0);
		run("async_setup ctx_idp read-only", c_setup, 1);
		run("sysring_setup ctx_idp read-only", c_setup, 2);
		run("sysring_setup params unmapped", c_setup, 3);
		run("async_register head unmapped", c_register, 0);
		run("async_register ring read-only", c_register, 1);
		run("async_register ring unmapped", c_register, 2);
		run("async_register ring runs into the hole", c_register, 3);
		run("async_unregister head unmapped", c_register, 4);
	}
	if (failed)
		T_FAIL("%d cases failed", failed);
	printf("facemem: all cases pass\n");
	return 0;
}

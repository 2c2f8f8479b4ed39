/* SPDX-License-Identifier: MIT */
/*
 * The cancel signal belongs to the library (threads.c, "The cancel signal"):
 * an application that later changes its action must not make sysring kill
 * the process or hang. For each action the application may set on
 * SIGRTMAX-3 after the library's first use -- SIG_DFL, SIG_IGN, its own
 * handler with SA_RESTART, its own handler without -- and for a handler
 * installed before the library's first use, a child process:
 *   - cancels a call blocked on an executor thread (flock of a file locked
 *     through another open: the threads run it on every engine, and the
 *     kernel restarts it after a handler with SA_RESTART, unlike msgrcv):
 *     sysring_cancel returns, the event is -ECANCELED, at once;
 *   - gives a blocked call a timeout (the worker's timer sends the signal):
 *     the event is -ETIME;
 *   - destroys a context with a blocked call, and unregisters a syslet
 *     registration with a blocked syslet: both return;
 *   - with its own handler: the handler still gets the signals the
 *     application sends itself (to the process and to a thread), and none
 *     of the library's.
 * The parent fails the case if the child is killed or does not finish.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "t.h"

#include <sysring.h>

enum disp { D_DFL, D_IGN, D_RESTART, D_NORESTART, D_BEFORE, D__COUNT };
static const char *const names[D__COUNT] = {"SIG_DFL", "SIG_IGN", "handler with SA_RESTART",
					     "handler without SA_RESTART",
					     "handler with SA_RESTART set before the library"};

static int sig;
static int lockfd; /* the blocked calls lock this one */
static volatile sig_atomic_t app_calls;

static void app_handler(int s, siginfo_t *si, void *uc)
{
	(void)s;
	(void)si;
	(void)uc;
	app_calls++;
}

static void set_disp(enum disp d)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	switch (d) {
	case D_DFL:
		sa.sa_handler = SIG_DFL;
		break;
	case D_IGN:
		sa.sa_handler = SIG_IGN;
		break;
	case D_RESTART:
	case D_BEFORE:
		sa.sa_sigaction = app_handler;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		break;
	default:
		sa.sa_sigaction = app_handler;
		sa.sa_flags = SA_SIGINFO;
		break;
	}
	T_EQ(sigaction(sig, &sa, NULL), 0);
}

static void wait_running(async_context_t ctx)
{
	struct sysring_stats st;
	for (int i = 0; i < 2000; i++) {
		T_EQ(sysring_stats(ctx, &st), 0);
		if (st.threads >= 1 && st.threads_idle == 0 && st.in_flight >= 1)
			break;
		usleep(1000);
	}
	usleep(30000); /* inside flock */
}

static void one_event(async_context_t ctx, long want, const char *what)
{
	struct async_event ev;
	struct timespec ts = {2, 0};
	uint64_t t0 = t_now_ns();
	int n = async_getevents(ctx, 1, 1, &ev, &ts);
	if (n != 1)
		T_FAIL("%s: no event within 2 s", what);
	if (ev.res != want)
		T_FAIL("%s: result %lld, want %ld", what, (long long)ev.res, want);
	(void)t0;
}

static void *do_unregister(void *arg)
{
	return (void *)(long)async_unregister(arg, sizeof(struct async_head_user));
}

static void child(enum disp d)
{
	async_context_t ctx;
	struct async_cb *cb;
	int calls_before;

	t_watchdog(60);
	if (d == D_BEFORE)
		set_disp(d);
	T_EQ(async_setup(8, &ctx), 0); /* the library takes the signal */
	if (d != D_BEFORE)
		set_disp(d);
	calls_before = app_calls;
	char path[] = "/tmp/sysring-cancel-signal-XXXXXX";
	int holder = mkstemp(path);
	T_ASSERT(holder >= 0);
	lockfd = open(path, O_RDONLY);
	T_ASSERT(lockfd >= 0);
	unlink(path);
	T_EQ(flock(holder, LOCK_EX), 0); /* so that flock(lockfd) blocks */
	cb = async_cb_new(SYS_flock, 2, (long)lockfd, (long)LOCK_EX);

	/* cancel of a blocked call */
	T_EQ(async_submit(ctx, 1, &cb), 1);
	wait_running(ctx);
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_cancel(ctx, cb), 0);
	one_event(ctx, -ECANCELED, "cancel of a blocked call");
	uint64_t ms = (t_now_ns() - t0) / 1000000;
	if (ms > 1000)
		T_FAIL("cancel of a blocked call took %llu ms", (unsigned long long)ms);

	/* the disposition changed again: a timeout (the worker's timer) */
	set_disp(d);
	struct timespec to = {0, 100 * 1000000L};
	T_EQ(sysring_submit_timeout(ctx, 1, &cb, &to), 1);
	one_event(ctx, -ETIME, "timeout of a blocked call");

	/* and again: destroy with a blocked call */
	set_disp(d);
	T_EQ(async_submit(ctx, 1, &cb), 1);
	wait_running(ctx);
	set_disp(d);
	T_EQ(async_destroy(ctx), 0);

	/* syslets: unregister with a blocked syslet, from another thread */
	static struct syslet_uatom *ring[4];
	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	struct syslet_uatom a;
	unsigned long lfd = (unsigned long)lockfd, op = LOCK_EX;
	long ret = 12345;
	memset(&a, 0, sizeof(a));
	a.nr = SYS_flock;
	a.arg_ptr[0] = &lfd;
	a.arg_ptr[1] = &op;
	a.ret_ptr = &ret;
	a.flags = SYSLET_ASYNC;
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	set_disp(d);
	T_EQ(async_exec(&a), NULL);
	usleep(50000);
	set_disp(d);
	pthread_t th;
	void *r;
	T_EQ(pthread_create(&th, NULL, do_unregister, &ahu), 0);
	T_EQ(pthread_join(th, &r), 0);
	T_EQ((long)r, 0);

	/* the application's own handler still gets the application's signals,
	 * and none of the library's */
	if (d == D_RESTART || d == D_NORESTART || d == D_BEFORE) {
		T_EQ(app_calls, calls_before);
		T_EQ(kill(getpid(), sig), 0);
		T_EQ(pthread_kill(pthread_self(), sig), 0);
		for (int i = 0; i < 1000 && app_calls < calls_before + 2; i++)
			usleep(1000);
		T_EQ(app_calls, calls_before + 2);
	}
	async_cb_free(cb);
	exit(0);
}

int main(void)
{
	const char *env = getenv("SYSRING_CANCEL_SIGNAL");

	t_watchdog(300);
	sig = env ? atoi(env) : SIGRTMAX - 3;
	for (int d = 0; d < D__COUNT; d++) {
		pid_t pid = fork();
		T_ASSERT(pid >= 0);
		if (pid == 0)
			child((enum disp)d);
		int status;
		T_EQ(waitpid(pid, &status, 0), pid);
		if (WIFSIGNALED(status))
			T_FAIL("%s: the child was killed by signal %d", names[d], WTERMSIG(status));
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			T_FAIL("%s: the child failed (status %d)", names[d], WEXITSTATUS(status));
		printf("%s: cancel, timeout, destroy and unregister survive\n", names[d]);
	}
	printf("cancel_signal: ok\n");
	return 0;
}

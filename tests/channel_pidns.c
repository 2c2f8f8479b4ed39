/* SPDX-License-Identifier: MIT */
/*
 * Channel liveness across pid namespaces (needs CAP_SYS_ADMIN for
 * unshare(CLONE_NEWPID); skipped otherwise): a sender that is pid 1 of its
 * own namespace dies holding a reservation; a receiver that is pid 1 of its
 * own namespace dies; a live sender whose pid means nothing (or another
 * process) in the receiver's namespace is slow. Pids are never consulted:
 * the kernel's locks decide, the same in every namespace.
 */
#include <sched.h>

#include "chan_util.h"

static char seg[96];

/* Run fn as pid 1 of a new pid namespace; returns its exit status (77:
 * no namespace). */
static int in_pidns(int (*fn)(void *), void *arg)
{
	pid_t p = fork();
	if (p == 0) {
		if (unshare(CLONE_NEWPID))
			_exit(77);
		pid_t q = fork();
		if (q == 0)
			_exit(fn(arg));
		int st;
		if (waitpid(q, &st, 0) != q)
			_exit(3);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	int st;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int reserve_die(void *arg)
{
	sysring_chan_t *c;
	struct sysring_chan_sqe sqe;
	(void)arg;
	if (getpid() != 1)
		return 4;
	if (sysring_chan_open(seg, 0, 0, &c) || sysring_get_sqe(c, 1, &sqe))
		return 2;
	sqe.msg->sender = 666;
	return 0; /* dies with it */
}

static int receive_then_die(void *arg)
{
	struct cu_pipe *ready = arg;
	sysring_chan_t *c;
	if (getpid() != 1)
		return 4;
	if (sysring_chan_open(seg, 0, 0, &c) || sysring_register(c, 2))
		return 2;
	cu_signal(ready);
	for (;;)
		pause();
}

/* pid 1 moves its namespace's next pid far up, then a child of it (a pid
 * that does not exist outside) reserves, sleeps, and releases. */
static int slow_far_pid(void *arg)
{
	struct cu_pipe *reserved = arg;
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
	if (!f || fprintf(f, "%d", 4000000) < 0 || fclose(f))
		return 77;
	pid_t q = fork();
	if (q == 0) {
		sysring_chan_t *c;
		struct sysring_chan_sqe sqe;
		if (getpid() < 4000000)
			_exit(5);
		if (sysring_chan_open(seg, 0, 0, &c) || sysring_get_sqe(c, 1, &sqe))
			_exit(2);
		cu_signal(reserved);
		usleep(600 * 1000);
		sqe.msg->sender = 42;
		_exit(sysring_sqe_release(c, &sqe) == 0 ? 0 : 6);
	}
	int st;
	waitpid(q, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
	sysring_chan_t *a, *s;
	struct sysring_msg m, out[8];
	struct timespec to = {3, 0};

	t_watchdog(120);
	cu_name(seg, sizeof(seg), "pidns");
	sysring_chan_unlink(seg);
	T_EQ(sysring_chan_open(seg, 4, 8, &a), 0);
	T_EQ(sysring_chan_open(seg, 0, 0, &s), 0);
	T_EQ(sysring_register(a, 1), 0);
	memset(&m, 0, sizeof(m));
	m.sender = 9;

	/* A sender that is pid 1 of its namespace dies holding the head. */
	int st = in_pidns(reserve_die, NULL);
	if (st == 77) {
		sysring_chan_close(a);
		sysring_chan_close(s);
		sysring_chan_unlink(seg);
		T_SKIP("unshare(CLONE_NEWPID) refused: needs CAP_SYS_ADMIN");
	}
	T_EQ(st, 0);
	T_EQ(sysring_send(s, 1, &m), 0);
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_recv(a, out, 8, &to), 1);
	T_EQ(out[0].sender, 9);
	printf("pidns: a dead pid-1 sender's reservation given up after %.1f ms\n", cu_ms_since(t0));

	/* A receiver that is pid 1 of its namespace dies: -ENOENT, and its id
	 * can be registered again. */
	struct cu_pipe ready, who;
	cu_pipe_init(&ready);
	cu_pipe_init(&who);
	pid_t p = fork();
	if (p == 0) {
		if (unshare(CLONE_NEWPID))
			_exit(77);
		pid_t q = fork();
		if (q == 0)
			_exit(receive_then_die(&ready));
		if (write(who.fd[1], &q, sizeof(q)) != sizeof(q))
			_exit(3);
		waitpid(q, NULL, 0);
		_exit(0);
	}
	pid_t rcv;
	T_EQ(read(who.fd[0], &rcv, sizeof(rcv)), sizeof(rcv));
	T_ASSERT(cu_await(&ready, 5000));
	T_EQ(sysring_send(s, 2, &m), 0);
	T_EQ(sysring_lookup(s, 2), 0);
	kill(rcv, SIGKILL); /* pid 1 over there, a plain pid here */
	waitpid(p, NULL, 0);
	T_EQ(sysring_send(s, 2, &m), -ENOENT);
	sysring_chan_t *b;
	T_EQ(sysring_chan_open(seg, 0, 0, &b), 0);
	T_EQ(sysring_register(b, 2), 0);
	sysring_chan_close(b);

	/* A live sender whose pid means nothing here, slow: waited for. */
	struct cu_pipe reserved;
	cu_pipe_init(&reserved);
	p = fork();
	if (p == 0)
		_exit(in_pidns(slow_far_pid, &reserved));
	if (!cu_await(&reserved, 5000)) {
		int pst;
		waitpid(p, &pst, 0);
		if (WIFEXITED(pst) && WEXITSTATUS(pst) == 77)
			printf("pidns: ns_last_pid not writable: the far-pid case is skipped\n");
		else
			T_FAIL("far-pid sender: status %#x", pst);
	} else {
		T_EQ(sysring_send(s, 1, &m), 0);
		T_EQ(sysring_recv(a, out, 1, &to), 1);
		T_EQ(out[0].sender, 42);
		T_EQ(sysring_recv(a, out, 1, &to), 1);
		T_EQ(out[0].sender, 9);
		T_ASSERT(cu_wait_ok(p));
	}
	sysring_chan_close(a);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
	printf("channel_pidns: ok\n");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Channels with hostile and dying peers: one case per behaviour of issue 13
 * (b1..b11) and the channel part of issue 12's item 10 (i12_*). Each case
 * runs in its own process with a watchdog, so a hang or a crash fails that
 * case and the others still run. `t_channel_peers CASE` runs one.
 */
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "chan_util.h"

static char seg[96];

static void fresh(const char *tag)
{
	cu_name(seg, sizeof(seg), tag);
	sysring_chan_unlink(seg);
}

static sysring_chan_t *xopen(unsigned entries, unsigned cap)
{
	sysring_chan_t *c;
	int r = sysring_chan_open(seg, entries, cap, &c);
	if (r)
		T_FAIL("open %s: %d", seg, r);
	return c;
}

static struct sysring_msg msg_of(uint64_t v)
{
	struct sysring_msg m;
	memset(&m, 0, sizeof(m));
	m.sender = v;
	m.type = 7;
	for (int k = 0; k < 8; k++)
		m.payload[k] = v * 1000 + (uint64_t)k;
	return m;
}

/* A child that registers `id`, says so, and waits to be killed. */
static pid_t spawn_receiver(uint64_t id)
{
	struct cu_pipe p;
	cu_pipe_init(&p);
	pid_t pid = fork();
	if (pid == 0) {
		sysring_chan_t *c;
		if (sysring_chan_open(seg, 0, 0, &c) || sysring_register(c, id))
			_exit(2);
		cu_signal(&p);
		for (;;)
			pause();
	}
	if (!cu_await(&p, 5000))
		T_FAIL("receiver child did not register");
	close(p.fd[0]);
	close(p.fd[1]);
	return pid;
}

/* A child that reserves a slot for `id` and exits without releasing it. */
static void reserve_and_die(uint64_t id, int reap)
{
	pid_t pid = fork();
	if (pid == 0) {
		sysring_chan_t *c;
		struct sysring_chan_sqe sqe;
		if (sysring_chan_open(seg, 0, 0, &c) || sysring_get_sqe(c, id, &sqe))
			_exit(2);
		sqe.msg->sender = 666;
		_exit(0);
	}
	if (reap)
		T_ASSERT(cu_wait_ok(pid));
	else
		cu_wait_zombie(pid);
}

/* ---- b1: a slow sender's reservation survives a re-registration ---- */
static void b1(void)
{
	fresh("b1");
	sysring_chan_t *a = xopen(2, 8), *s = xopen(0, 0), *b = xopen(0, 0), *x = xopen(0, 0);
	struct sysring_chan_sqe sqe;
	struct sysring_msg m = msg_of(1), out[8];

	T_EQ(sysring_register(a, 1), 0);
	T_EQ(sysring_get_sqe(s, 1, &sqe), 0); /* the slow sender reserves... */
	*sqe.msg = msg_of(0xdead);
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_unregister(a), 0); /* ...and its receiver leaves */
	if (cu_ms_since(t0) > 500)
		T_FAIL("unregister took %.0f ms", cu_ms_since(t0));
	T_EQ(sysring_register(b, 2), 0);
	/* The late release must not publish into the new registration. */
	T_EQ(sysring_sqe_release(s, &sqe), -ENOENT);
	T_EQ(sysring_pop(b, out), -EAGAIN);
	T_EQ(sysring_send(s, 2, &m), 0);
	T_EQ(sysring_pop(b, out), 0);
	T_EQ(out[0].sender, 1);
	t0 = t_now_ns();
	T_EQ(sysring_unregister(b), 0);
	if (cu_ms_since(t0) > 500)
		T_FAIL("unregister took %.0f ms", cu_ms_since(t0));
	/* Both entries usable again. */
	T_EQ(sysring_register(a, 3), 0);
	T_EQ(sysring_register(x, 4), 0);
	/* A reservation made in one registration and released after a second
	 * registration has taken the same entry: in a one-entry segment the
	 * second waits for the first's sender (-ENOSPC until it releases). */
	sysring_chan_close(a);
	sysring_chan_close(b);
	sysring_chan_close(x);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);

	fresh("b1b");
	a = xopen(1, 4);
	s = xopen(0, 0);
	b = xopen(0, 0);
	T_EQ(sysring_register(a, 1), 0);
	T_EQ(sysring_send(s, 1, &m), 0);
	T_EQ(sysring_get_sqe(s, 1, &sqe), 0);
	*sqe.msg = msg_of(0xdead);
	T_EQ(sysring_unregister(a), 0);
	T_EQ(sysring_register(b, 2), -ENOSPC); /* draining: the sender writes into it */
	T_EQ(sysring_sqe_release(s, &sqe), -ENOENT);
	T_EQ(sysring_register(b, 2), 0);
	T_EQ(sysring_pop(b, out), -EAGAIN); /* nothing stale */
	T_EQ(sysring_send(s, 2, &m), 0);
	T_EQ(sysring_pop_multiple(b, out, -1), 1);
	struct sysring_chan_stats st;
	T_EQ(sysring_chan_stats(b, &st), 0);
	T_EQ(st.dropped, 1); /* the message left in the first registration */
	sysring_chan_close(a);
	sysring_chan_close(b);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}

/* ---- b2: entries lost for good when register/unregister is killed ---- */
static void b2(void)
{
	uint64_t rnd = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	fresh("b2");
	sysring_chan_t *c = xopen(2, 4), *c2 = xopen(0, 0);
	int kills = (int)(80 * t_scale()) + 10;
	for (int k = 0; k < kills; k++) {
		pid_t p = fork();
		if (p == 0) {
			sysring_chan_t *cc;
			if (sysring_chan_open(seg, 0, 0, &cc))
				_exit(2);
			for (uint64_t i = 0;; i++) {
				if (sysring_register(cc, 10 + (i & 1)) == 0)
					sysring_unregister(cc);
			}
		}
		usleep((useconds_t)(200 + cu_rand(&rnd) % 3000));
		cu_kill(p);
	}
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_register(c, 100), 0);
	T_EQ(sysring_register(c2, 101), 0);
	printf("b2: %d kills of a register/unregister loop; both entries usable again after %.1f ms\n", kills,
	       cu_ms_since(t0));
	sysring_chan_close(c);
	sysring_chan_close(c2);
	sysring_chan_unlink(seg);
}

/* ---- b3: two owners of one id ---- */
static void b3(void)
{
	fresh("b3");
	sysring_chan_t *c = xopen(64, 1024);
	int both = 0, rounds = (int)(150 * t_scale()) + 10;
	for (int round = 0; round < rounds; round++) {
		struct cu_pipe go, done;
		cu_pipe_init(&go);
		cu_pipe_init(&done);
		pid_t p[2];
		for (int k = 0; k < 2; k++) {
			p[k] = fork();
			if (p[k] == 0) {
				sysring_chan_t *cc;
				char ch;
				close(go.fd[1]);
				if (sysring_chan_open(seg, 0, 0, &cc))
					_exit(2);
				if (read(go.fd[0], &ch, 1) < 0)
					_exit(2);
				int r = sysring_register(cc, 1000 + (uint64_t)round);
				ch = r == 0 ? '0' : '1';
				if (write(done.fd[1], &ch, 1) != 1)
					_exit(2);
				pause(); /* keep it while the other one tries */
				_exit(0);
			}
		}
		close(go.fd[1]); /* both go at once */
		int won = 0;
		for (int k = 0; k < 2; k++) {
			char ch = 0;
			struct pollfd pf = {.fd = done.fd[0], .events = POLLIN};
			if (poll(&pf, 1, 5000) != 1 || read(done.fd[0], &ch, 1) != 1)
				T_FAIL("a registering child is stuck");
			won += ch == '0';
		}
		if (won > 1)
			both++;
		for (int k = 0; k < 2; k++)
			cu_kill(p[k]);
		close(go.fd[0]);
		close(done.fd[0]);
		close(done.fd[1]);
	}
	printf("b3: %d pairs registered one id at once; both won in %d\n", rounds, both);
	T_EQ(both, 0);
	sysring_chan_close(c);
	sysring_chan_unlink(seg);
}

/* ---- b4: no process-private structure in the segment ---- */
static void b4(void)
{
	fresh("b4");
	sysring_chan_t *a = xopen(4, 8), *b = xopen(0, 0), *s = xopen(0, 0);
	struct sysring_msg m = msg_of(3), out[8];
	struct cu_raw r;
	uint64_t rnd = 12345;

	/* Whatever a peer writes over a live receiver's entry header (where a
	 * lock or a list link could live), register, send, pop and unregister
	 * return in bounded time and nobody crashes. */
	T_EQ(sysring_register(a, 1), 0);
	T_EQ(cu_raw_open(&r, seg), 0);
	int ent = cu_find(&r, 1);
	T_ASSERT(ent >= 0);
	unsigned char *hdr = (unsigned char *)cu_entry(&r, (uint32_t)ent);
	unsigned char save[CH_RING_OFF];
	memcpy(save, hdr, sizeof(save));
	for (int round = 0; round < 40; round++) {
		for (size_t k = 0; k < CH_RING_OFF; k++)
			hdr[k] = round % 4 == 0 ? 0xff : round % 4 == 1 ? 0 : (unsigned char)cu_rand(&rnd);
		if (round % 4 == 3)
			__atomic_store_n(&cu_entry(&r, (uint32_t)ent)->state, CH_EMPTY, __ATOMIC_RELEASE);
		uint64_t t0 = t_now_ns();
		int rb = sysring_register(b, 2);
		(void)sysring_send(s, 1, &m);
		(void)sysring_pop(a, out);
		if (rb == 0)
			T_EQ(sysring_unregister(b), 0);
		if (cu_ms_since(t0) > 1000)
			T_FAIL("calls over a scribbled entry took %.0f ms", cu_ms_since(t0));
		memcpy(hdr, save, sizeof(save));
	}
	/* The registration is still the lock holder's: nobody else can take it. */
	T_EQ(sysring_register(b, 1), -EEXIST);
	(void)sysring_unregister(a);
	cu_raw_close(&r);

	/* A fork child closing the handle it inherited leaves the parent's
	 * registration alone, and using it there is a clear error. */
	T_EQ(sysring_register(a, 5), 0);
	pid_t p = fork();
	if (p == 0) {
		if (sysring_pop(a, out) != -EINVAL || sysring_send(a, 5, &m) != -EINVAL ||
		    sysring_register(a, 6) != -EINVAL || sysring_unregister(a) != -EINVAL)
			_exit(3);
		sysring_chan_close(a);
		sysring_chan_close(s);
		_exit(0);
	}
	T_ASSERT(cu_wait_ok(p));
	T_EQ(sysring_pop(a, out), -EAGAIN);
	T_EQ(sysring_send(s, 5, &m), 0);
	T_EQ(sysring_pop(a, out), 0);
	T_EQ(sysring_register(b, 5), -EEXIST);
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_register(b, 7), 0);
	if (cu_ms_since(t0) > 1000)
		T_FAIL("register took %.0f ms", cu_ms_since(t0));
	sysring_chan_close(a);
	sysring_chan_close(b);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}

/* ---- b5: recv honours its timeout whatever the ring holds ---- */
static void b5(void)
{
	fresh("b5");
	sysring_chan_t *a = xopen(2, 8);
	struct sysring_msg out[8];
	struct cu_raw r;
	T_EQ(sysring_register(a, 1), 0);
	T_EQ(cu_raw_open(&r, seg), 0);
	int ent = cu_find(&r, 1);
	T_ASSERT(ent >= 0);
	struct sr_ring_hdr *h = cu_ring(&r, (uint32_t)ent);
	for (int variant = 0; variant < 4; variant++) {
		uint64_t head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
		/* The two 8-byte writes of the issue, and relatives. */
		__atomic_store_n(&h->tail, head + 1 + (uint64_t)variant, __ATOMIC_RELAXED);
		uint64_t seqv = variant == 0 ? head - 1 : variant == 1 ? head : variant == 2 ? head + 5 : ~0ull;
		__atomic_store_n(&cu_slot(&r, (uint32_t)ent, head)->seq, seqv, __ATOMIC_RELEASE);
		struct timespec to = {0, 100 * 1000 * 1000};
		uint64_t t0 = t_now_ns();
		int got = sysring_recv(a, out, 8, &to);
		double ms = cu_ms_since(t0);
		if (ms > 600)
			T_FAIL("recv(100 ms) over a forged ring took %.0f ms (variant %d, returned %d)", ms, variant, got);
		T_ASSERT(got < 0);
	}
	cu_raw_close(&r);
	sysring_chan_close(a);
	sysring_chan_unlink(seg);
}

/* ---- b6: liveness by the kernel: fork, zombies, slow senders ---- */
static void b6(void)
{
	fresh("b6");
	sysring_chan_t *a = xopen(4, 8), *s = xopen(0, 0);
	struct sysring_msg m = msg_of(9), out[8];
	struct timespec to = {3, 0};
	T_EQ(sysring_register(a, 1), 0);

	/* A zombie sender (dead, not reaped) holding the head: given up. */
	reserve_and_die(1, 0);
	T_EQ(sysring_send(s, 1, &m), 0);
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_recv(a, out, 8, &to), 1);
	T_EQ(out[0].sender, 9);
	if (cu_ms_since(t0) > 1000)
		T_FAIL("a zombie's reservation took %.0f ms to give up", cu_ms_since(t0));
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;

	/* A handle inherited across fork is the parent's: the child cannot
	 * send with it (no reservation in the parent's name). */
	pid_t p = fork();
	if (p == 0) {
		struct sysring_chan_sqe sqe;
		_exit(sysring_get_sqe(s, 1, &sqe) == -EINVAL ? 0 : 3);
	}
	T_ASSERT(cu_wait_ok(p));

	/* A live sender that is slow (800 ms between reserve and release) is
	 * waited for, never given up: its message arrives, in order. */
	struct cu_pipe reserved;
	cu_pipe_init(&reserved);
	p = fork();
	if (p == 0) {
		sysring_chan_t *cc;
		struct sysring_chan_sqe sqe;
		if (sysring_chan_open(seg, 0, 0, &cc) || sysring_get_sqe(cc, 1, &sqe))
			_exit(2);
		cu_signal(&reserved);
		usleep(800 * 1000);
		*sqe.msg = msg_of(41);
		_exit(sysring_sqe_release(cc, &sqe) == 0 ? 0 : 4);
	}
	T_ASSERT(cu_await(&reserved, 5000));
	T_EQ(sysring_send(s, 1, &m), 0); /* behind the slow one */
	T_EQ(sysring_recv(a, out, 1, &to), 1);
	T_EQ(out[0].sender, 41);
	T_EQ(sysring_recv(a, out, 1, &to), 1);
	T_EQ(out[0].sender, 9);
	T_ASSERT(cu_wait_ok(p));

	/* A receiver that forked: its child keeps the inherited descriptors,
	 * yet when the receiver dies it is dead to senders. */
	struct cu_pipe ready;
	cu_pipe_init(&ready);
	pid_t rcv = fork();
	if (rcv == 0) {
		sysring_chan_t *cc;
		if (sysring_chan_open(seg, 0, 0, &cc) || sysring_register(cc, 2))
			_exit(2);
		if (fork() == 0) {
			usleep(3 * 1000 * 1000); /* outlives its parent */
			_exit(0);
		}
		cu_signal(&ready);
		pause();
	}
	T_ASSERT(cu_await(&ready, 5000));
	T_EQ(sysring_send(s, 2, &m), 0);
	cu_kill(rcv);
	T_EQ(sysring_send(s, 2, &m), -ENOENT);
	T_EQ(sysring_lookup(s, 2), -ENOENT);

	/* A zombie receiver: dead to senders before it is reaped. */
	rcv = spawn_receiver(3);
	T_EQ(sysring_lookup(s, 3), 0);
	kill(rcv, SIGKILL);
	cu_wait_zombie(rcv);
	T_ASSERT(cu_zombie(rcv));
	T_EQ(sysring_send(s, 3, &m), -ENOENT);
	waitpid(rcv, NULL, 0);
	sysring_chan_close(a);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}

/* ---- b7: a creator killed inside sysring_chan_open ---- */
static void b7(void)
{
	uint64_t rnd = 777 ^ (uint64_t)getpid();
	int kills = 12, created_by_killed = 0;
	fresh("b7");
	for (int k = 0; k < kills; k++) {
		pid_t p = fork();
		if (p == 0) {
			sysring_chan_t *cc;
			/* big enough to take a while to allocate */
			_exit(sysring_chan_open(seg, 64, 4096, &cc) ? 2 : 0);
		}
		usleep((useconds_t)(cu_rand(&rnd) % 20000));
		int st;
		kill(p, SIGKILL);
		waitpid(p, &st, 0);
		sysring_chan_t *c;
		uint64_t t0 = t_now_ns();
		int r = sysring_chan_open(seg, 2, 4, &c);
		if (r)
			T_FAIL("open after a creator was killed: %d", r);
		if (cu_ms_since(t0) > 500)
			T_FAIL("open after a creator was killed took %.0f ms", cu_ms_since(t0));
		created_by_killed += sysring_chan_capacity(c) == 4096;
		T_EQ(sysring_register(c, 1), 0);
		sysring_chan_close(c);
		T_EQ(sysring_chan_unlink(seg), 0);
	}
	printf("b7: %d creators killed; %d had finished, the others left no name\n", kills, created_by_killed);
}

/* ---- b8: no SIGBUS: a short /dev/shm, a peer truncating the file ---- */
static void b8(void)
{
	fresh("b8");
	/* A short /dev/shm: -ENOSPC at open (a small tmpfs of our own). */
	pid_t p = fork();
	if (p == 0) {
		sysring_chan_t *cc;
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=1m"))
			_exit(77);
		int r = sysring_chan_open(seg, 64, 4096, &cc);
		_exit(r == -ENOSPC ? 0 : 3);
	}
	int st;
	waitpid(p, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		printf("b8: no private mount namespace (not root?): the short /dev/shm part is skipped\n");
	else if (!WIFEXITED(st) || WEXITSTATUS(st))
		T_FAIL("open on a short /dev/shm: status %#x (want -ENOSPC)", st);

	/* A peer truncates the file: honest peers get errors, not SIGBUS. */
	sysring_chan_t *a = xopen(4, 64), *s = xopen(0, 0);
	struct sysring_msg m = msg_of(5), out[64];
	struct sysring_chan_sqe sqe;
	struct timespec to = {0, 10 * 1000 * 1000};
	T_EQ(sysring_register(a, 1), 0);
	for (int i = 0; i < 10; i++)
		T_EQ(sysring_send(s, 1, &m), 0);
	T_EQ(sysring_get_sqe(s, 1, &sqe), 0);
	char path[160];
	snprintf(path, sizeof(path), "/dev/shm%s", seg);
	T_EQ(truncate(path, 4096), 0);
	sqe.msg->payload[0] = 1; /* the in-place fill: must not kill us */
	for (int i = 0; i < 3; i++) {
		(void)sysring_pop_multiple(a, out, 64);
		(void)sysring_recv(a, out, 64, &to);
		(void)sysring_send(s, 1, &m);
		(void)sysring_sqe_release(s, &sqe);
	}
	T_EQ(sysring_pop(a, out), -EIO);
	T_EQ(sysring_send(s, 1, &m), -EIO);
	sysring_chan_t *c;
	T_EQ(sysring_chan_open(seg, 0, 0, &c), -EINVAL); /* the file is no segment now */
	sysring_chan_close(a);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}

/* ---- b9: a sender killed while waiting leaves no futex call per pop ---- */
static volatile int futex_wakes;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *u = uc;
	(void)sig;
	(void)si;
	futex_wakes++;
	u->uc_mcontext.gregs[REG_RAX] = 0; /* as if it woke nobody */
}

/* Trap shared (non-private) futex wake-ups: the channel's. */
static int trap_shared_wakes(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_futex, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAKE, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAKE_BITSET, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void b9(void)
{
	fresh("b9");
	sysring_chan_t *a = xopen(2, 4), *s = xopen(0, 0);
	struct sysring_msg m = msg_of(1), out[4];
	struct cu_pipe waiting;
	T_EQ(sysring_register(a, 1), 0);
	cu_pipe_init(&waiting);
	pid_t p = fork();
	if (p == 0) {
		sysring_chan_t *cc;
		struct sysring_chan_sqe sqe;
		if (sysring_chan_open(seg, 0, 0, &cc))
			_exit(2);
		for (int i = 0; i < 4; i++)
			if (sysring_send(cc, 1, &m))
				_exit(3);
		cu_signal(&waiting);
		sysring_get_sqe_wait(cc, 1, &sqe, NULL); /* full: sleeps */
		_exit(4);
	}
	T_ASSERT(cu_await(&waiting, 5000));
	usleep(50 * 1000);
	cu_kill(p); /* killed while it waits for room */
	T_EQ(sysring_pop_multiple(a, out, -1), 4);
	if (trap_shared_wakes()) {
		printf("b9: seccomp unavailable: the futex count is skipped\n");
	} else {
		int n = 1000;
		for (int i = 0; i < n; i++) {
			T_EQ(sysring_send(s, 1, &m), 0);
			T_EQ(sysring_pop(a, out), 0);
		}
		printf("b9: %d send+pop after a waiting sender was killed: %d futex wake-ups\n", n, futex_wakes);
		if (futex_wakes > 1)
			T_FAIL("%d futex wake-ups for %d pops with nobody waiting", futex_wakes, n);
	}
	sysring_chan_close(a);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}

/* ---- b10: a dead receiver is -ENOENT at once; its queue is counted ---- */
static void b10(void)
{
	fresh("b10");
	sysring_chan_t *c = xopen(2, 8);
	struct sysring_msg m = msg_of(1);
	struct sysring_chan_stats st0, st1;
	pid_t r = spawn_receiver(1);
	for (int i = 0; i < 3; i++)
		T_EQ(sysring_send(c, 1, &m), 0);
	cu_kill(r);
	T_EQ(sysring_send(c, 1, &m), -ENOENT);
	struct sysring_chan_sqe sqe;
	T_EQ(sysring_get_sqe(c, 1, &sqe), -ENOENT);
	T_EQ(sysring_chan_stats(c, &st0), 0);
	T_EQ(sysring_register(c, 1), 0); /* reclaims the dead one's entry */
	T_EQ(sysring_chan_stats(c, &st1), 0);
	T_EQ(st1.lost - st0.lost, 3);
	T_EQ(st1.reclaimed - st0.reclaimed, 1);
	T_EQ(sysring_send(c, 1, &m), 0);
	sysring_chan_close(c);
	sysring_chan_unlink(seg);
}

/* ---- b11: bounded unregister, non-blocking calls under a hostile peer,
 * the segment's mode ---- */
static void b11(void)
{
	fresh("b11");
	sysring_chan_t *a = xopen(4, 8), *s = xopen(0, 0);
	struct sysring_msg m = msg_of(1), out[8];
	T_EQ(sysring_register(a, 1), 0);
	reserve_and_die(1, 1);
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_unregister(a), 0);
	if (cu_ms_since(t0) > 300)
		T_FAIL("unregister after a sender died took %.0f ms", cu_ms_since(t0));
	T_EQ(sysring_register(a, 1), 0);
	reserve_and_die(1, 1);
	t0 = t_now_ns();
	sysring_chan_close(a);
	if (cu_ms_since(t0) > 300)
		T_FAIL("close after a sender died took %.0f ms", cu_ms_since(t0));

	/* Non-blocking calls return at once over forged values. */
	a = xopen(0, 0);
	T_EQ(sysring_register(a, 2), 0);
	struct cu_raw r;
	T_EQ(cu_raw_open(&r, seg), 0);
	int ent = cu_find(&r, 2);
	uint64_t rnd = 99;
	for (int round = 0; round < 50; round++) {
		struct sr_ring_hdr *h = cu_ring(&r, (uint32_t)ent);
		for (uint64_t k = 0; k < r.g.capacity; k++)
			cu_slot(&r, (uint32_t)ent, k)->seq = cu_rand(&rnd) % 4 ? cu_rand(&rnd) : h->tail + 1000;
		if (round & 1)
			h->tail = cu_rand(&rnd);
		for (uint32_t k = 0; k < r.g.nsenders; k++)
			cu_sender(&r, k)->inside[cu_rand(&rnd) % CH_LANES] = cu_rand(&rnd);
		struct sysring_chan_sqe sqe;
		struct timespec to = {0, 50 * 1000 * 1000};
		t0 = t_now_ns();
		if (sysring_get_sqe(s, 2, &sqe) == 0)
			(void)sysring_sqe_release(s, &sqe);
		(void)sysring_pop(a, out);
		(void)sysring_send(s, 2, &m);
		double ms = cu_ms_since(t0);
		if (ms > 200)
			T_FAIL("non-blocking calls over forged values took %.0f ms", ms);
		t0 = t_now_ns();
		(void)sysring_recv(a, out, 8, &to);
		ms = cu_ms_since(t0);
		if (ms > 450)
			T_FAIL("recv(50 ms) over forged values took %.0f ms", ms);
	}
	cu_raw_close(&r);
	sysring_chan_close(a);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);

	/* The segment's mode: the caller's (less the umask), 0600 by default. */
	struct stat sb;
	char path[160];
	mode_t old = umask(022);
	snprintf(path, sizeof(path), "/dev/shm%s", seg);
	T_EQ(sysring_chan_open_mode(seg, 2, 4, 0664, &a), 0);
	T_EQ(stat(path, &sb), 0);
	T_EQ(sb.st_mode & 0777, 0644);
	sysring_chan_close(a);
	sysring_chan_unlink(seg);
	T_EQ(sysring_chan_open(seg, 2, 4, &a), 0);
	T_EQ(stat(path, &sb), 0);
	T_EQ(sb.st_mode & 0777, 0600);
	sysring_chan_close(a);
	sysring_chan_unlink(seg);
	T_EQ(sysring_chan_open_mode(seg, 2, 4, 010000, &a), -EINVAL);
	umask(old);
}

/* ---- issue 12, item 10: waits and timeouts ---- */
static void on_usr1(int sig)
{
	(void)sig;
}

/* SIGUSR1 every ms milliseconds until killed: one of them lands while
 * the caller sleeps, however slowly it got there (sanitizers, load). */
static pid_t signal_me_after(int ms)
{
	pid_t me = getpid(), p = fork();
	if (p == 0) {
		for (;;) {
			usleep((useconds_t)ms * 1000);
			kill(me, SIGUSR1);
		}
	}
	return p;
}

static int usr1_count;
static void on_usr1_count(int sig)
{
	(void)sig;
	__atomic_fetch_add(&usr1_count, 1, __ATOMIC_RELAXED);
}

/* Waits are interrupted as a read(2) on a pipe would be (issue 13 D10,
 * which replaced issue 12's "-EINTR even with SA_RESTART"): a handler
 * without SA_RESTART makes them return -EINTR; with SA_RESTART they go on
 * waiting (until their timeout or what they wait for). */
static void i12_eintr(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = 0; /* not restartable: -EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	fresh("i12e");
	sysring_chan_t *a = xopen(2, 4), *s = xopen(0, 0);
	struct sysring_msg m = msg_of(1), out[4];
	struct sysring_chan_sqe sqe;
	T_EQ(sysring_register(a, 1), 0);
	T_EQ(sysring_chan_set_spin(a, 0), 0);
	pid_t p = signal_me_after(150);
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_recv(a, out, 4, NULL), -EINTR);
	if (cu_ms_since(t0) > 5000)
		T_FAIL("recv returned %.0f ms after the first signal", cu_ms_since(t0) - 150);
	cu_kill(p);
	for (int i = 0; i < 4; i++)
		T_EQ(sysring_send(s, 1, &m), 0);
	p = signal_me_after(150);
	t0 = t_now_ns();
	T_EQ(sysring_get_sqe_wait(s, 1, &sqe, NULL), -EINTR);
	if (cu_ms_since(t0) > 5000)
		T_FAIL("get_sqe_wait returned %.0f ms after the first signal", cu_ms_since(t0) - 150);
	cu_kill(p);
	/* A huge timeout is interrupted the same way. */
	struct timespec huge = {LONG_MAX, 999999999};
	p = signal_me_after(150);
	T_EQ(sysring_get_sqe_wait(s, 1, &sqe, &huge), -EINTR);
	cu_kill(p);

	/* SA_RESTART: the waits go on to their timeout, through the signals. */
	sa.sa_handler = on_usr1_count;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	struct timespec to = {0, 700 * 1000 * 1000};
	p = signal_me_after(50);
	T_EQ(sysring_get_sqe_wait(s, 1, &sqe, &to), -ETIMEDOUT);
	T_EQ(sysring_pop_multiple(a, out, 4), 4);
	usr1_count = 0;
	T_EQ(sysring_recv(a, out, 4, &to), -ETIMEDOUT);
	cu_kill(p);
	if (usr1_count < 1)
		T_FAIL("no signal landed during the waits (%d)", usr1_count);
	sysring_chan_close(a);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}

struct later {
	sysring_chan_t *c;
	int ms, pop;
};

static void *do_later(void *arg)
{
	struct later *l = arg;
	struct sysring_msg m = msg_of(2), out[4];
	usleep((useconds_t)l->ms * 1000);
	if (l->pop)
		(void)sysring_pop(l->c, out);
	else
		(void)sysring_send(l->c, 1, &m);
	return NULL;
}

static void i12_huge(void)
{
	fresh("i12h");
	sysring_chan_t *a = xopen(2, 4), *s = xopen(0, 0);
	struct sysring_msg m = msg_of(1), out[4];
	struct sysring_chan_sqe sqe;
	struct timespec huge[2] = {{LONG_MAX, 0}, {LONG_MAX, 999999999}};
	T_EQ(sysring_register(a, 1), 0);
	for (int k = 0; k < 2; k++) {
		/* "never": still waiting after 300 ms, and a message ends it */
		pthread_t th;
		struct later l = {s, 300, 0};
		pthread_create(&th, NULL, do_later, &l);
		uint64_t t0 = t_now_ns();
		T_EQ(sysring_recv(a, out, 4, &huge[k]), 1);
		if (cu_ms_since(t0) < 250)
			T_FAIL("recv({LONG_MAX, %ld}) returned after %.0f ms", huge[k].tv_nsec, cu_ms_since(t0));
		pthread_join(th, NULL);
		/* and get_sqe_wait on a full queue: room ends it */
		for (int i = 0; i < 4; i++)
			T_EQ(sysring_send(s, 1, &m), 0);
		struct later l2 = {a, 300, 1};
		pthread_create(&th, NULL, do_later, &l2);
		t0 = t_now_ns();
		T_EQ(sysring_get_sqe_wait(s, 1, &sqe, &huge[k]), 0);
		if (cu_ms_since(t0) < 250)
			T_FAIL("get_sqe_wait({LONG_MAX, %ld}) returned after %.0f ms", huge[k].tv_nsec, cu_ms_since(t0));
		T_EQ(sysring_sqe_release(s, &sqe), 0);
		pthread_join(th, NULL);
		while (sysring_pop(a, out) == 0)
			;
	}
	sysring_chan_close(a);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}

static void i12_inval(void)
{
	fresh("i12i");
	sysring_chan_t *a = xopen(2, 4), *s = xopen(0, 0);
	struct sysring_msg m = msg_of(1), out[4];
	struct sysring_chan_sqe sqe;
	struct timespec bad[] = {{-1, 0}, {0, -1}, {0, 1000000000}, {LONG_MIN, 0}, {1, LONG_MAX}};
	T_EQ(sysring_register(a, 1), 0);
	for (int i = 0; i < 4; i++)
		T_EQ(sysring_send(s, 1, &m), 0);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		T_EQ(sysring_recv(a, out, 0, &bad[k]), -EINVAL);
		T_EQ(sysring_get_sqe_wait(s, 1, &sqe, &bad[k]), -EINVAL);
	}
	/* A zero timeout is a poll. */
	struct timespec zero = {0, 0};
	T_EQ(sysring_recv(a, out, 4, &zero), 4);
	T_EQ(sysring_recv(a, out, 4, &zero), -ETIMEDOUT);
	sysring_chan_close(a);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}

static const struct cu_case cases[] = {
	{"b1", b1},   {"b2", b2},   {"b3", b3},   {"b4", b4},   {"b5", b5},         {"b6", b6},
	{"b7", b7},   {"b8", b8},   {"b9", b9},   {"b10", b10}, {"b11", b11},       {"i12_eintr", i12_eintr},
	{"i12_huge", i12_huge},     {"i12_inval", i12_inval},
};

int main(int argc, char **argv)
{
	return cu_run_cases(cases, sizeof(cases) / sizeof(cases[0]), argc, argv, 60);
}

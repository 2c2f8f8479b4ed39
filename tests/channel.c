/* SPDX-License-Identifier: MIT */
/*
 * Channels across real processes (fork + exec of this program in a helper
 * role): the basics and their errors; many senders -> one receiver, exactly
 * once with checksums (10^6 messages); several receivers; a receiver killed
 * with SIGKILL and its id registered again; a sender that dies holding a
 * reserved slot; register/unregister races; a segment scribbled over by a
 * hostile peer; blocking receive with timeouts, and two threads receiving
 * on one handle.
 */
#include <sys/wait.h>

#include <pthread.h>

#include "chan_util.h"

static char seg[64];

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	return x;
}

static pid_t spawn(char *const argv[])
{
	pid_t p = fork();
	if (p == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return p;
}

static int wait_ok(pid_t p)
{
	int st;
	if (waitpid(p, &st, 0) != p)
		return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- helper roles ---- */

static int role_sender(char **argv)
{
	sysring_chan_t *c;
	uint64_t rid = strtoull(argv[3], NULL, 10), sid = strtoull(argv[4], NULL, 10);
	long count = atol(argv[5]);
	if (sysring_chan_open(argv[2], 0, 0, &c))
		return 2;
	for (long i = 0; i < count; i++) {
		struct sysring_chan_sqe sqe;
		struct timespec to = {10, 0};
		int r = sysring_get_sqe_wait(c, rid, &sqe, &to);
		if (r)
			return 3;
		sqe.msg->sender = sid;
		sqe.msg->type = 1;
		sqe.msg->reply_type = 0;
		sqe.msg->payload[0] = (uint64_t)i;
		for (int k = 1; k < 8; k++)
			sqe.msg->payload[k] = mix(sid * 1000003 + (uint64_t)i * 31 + (uint64_t)k);
		if (sysring_sqe_release(c, &sqe))
			return 4;
	}
	sysring_chan_close(c);
	return 0;
}

static int role_receiver(char **argv)
{
	/* receive `total` messages from `nsenders` senders, check them */
	sysring_chan_t *c;
	uint64_t rid = strtoull(argv[3], NULL, 10);
	long nsenders = atol(argv[4]), total = atol(argv[5]);
	static uint64_t next[64];
	struct sysring_msg m[256];
	if (sysring_chan_open(argv[2], 0, 0, &c) || sysring_register(c, rid))
		return 2;
	/* tell the parent we are registered */
	if (write(1, "R", 1) != 1)
		return 5;
	long got = 0;
	while (got < total) {
		struct timespec to = {20, 0};
		int n = sysring_recv(c, m, 256, &to);
		if (n <= 0)
			return 3;
		for (int i = 0; i < n; i++) {
			uint64_t s = m[i].sender, q = m[i].payload[0];
			if (s >= (uint64_t)nsenders || q != next[s])
				return 4; /* lost, duplicated or out of order */
			for (int k = 1; k < 8; k++)
				if (m[i].payload[k] != mix(s * 1000003 + q * 31 + (uint64_t)k))
					return 6;
			next[s]++;
		}
		got += n;
	}
	sysring_chan_close(c);
	return 0;
}

static int role_hold(char **argv)
{
	/* register and wait to be killed */
	sysring_chan_t *c;
	if (sysring_chan_open(argv[2], 0, 0, &c) || sysring_register(c, strtoull(argv[3], NULL, 10)))
		return 2;
	if (write(1, "R", 1) != 1)
		return 5;
	for (;;)
		pause();
}

static int role_reserve_and_die(char **argv)
{
	sysring_chan_t *c;
	struct sysring_chan_sqe sqe;
	if (sysring_chan_open(argv[2], 0, 0, &c) || sysring_get_sqe(c, strtoull(argv[3], NULL, 10), &sqe))
		return 2;
	_exit(0); /* never released */
}

static int role_churn(char **argv)
{
	sysring_chan_t *c;
	uint64_t id = strtoull(argv[3], NULL, 10);
	long rounds = atol(argv[4]);
	if (sysring_chan_open(argv[2], 0, 0, &c))
		return 2;
	for (long i = 0; i < rounds; i++) {
		int r = sysring_register(c, id);
		if (r == 0) {
			r = sysring_unregister(c);
			if (r) {
				fprintf(stderr, "churn: unregister: %d\n", r);
				return 3;
			}
		} else if (r != -EEXIST && r != -ENOSPC) {
			fprintf(stderr, "churn: register: %d\n", r);
			return 4;
		}
	}
	sysring_chan_close(c);
	return 0;
}

static int role_scribble(char **argv)
{
	/* a hostile peer: random bytes over the whole segment (header too) */
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm%s", argv[2]);
	FILE *f = fopen(path, "r+b");
	if (!f)
		return 2;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	uint64_t x = 88172645463325252ull;
	for (long off = 0; off < len; off += 8) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if ((x & 3) == 0)
			continue; /* leave some words intact */
		fseek(f, off, SEEK_SET);
		fwrite(&x, 8, 1, f);
	}
	fclose(f);
	return 0;
}

/* ---- the tests ---- */

static void test_basic(void)
{
	sysring_chan_t *c, *c2;
	struct sysring_msg m = {.sender = 9, .type = 3}, out[64];
	struct sysring_chan_sqe sqe;

	T_EQ(sysring_chan_open(seg, 0, 8, &c), -EINVAL); /* creating needs a size */
	T_EQ(sysring_chan_open(seg, 4, 6, &c), -EINVAL); /* not a power of two */
	T_EQ(sysring_chan_open(NULL, 4, 8, &c), -EINVAL);
	T_EQ(sysring_chan_open(seg, 4, 8, &c), 0);
	T_EQ(sysring_chan_open(seg, 99, 99, &c2), 0); /* opens the existing one */
	T_EQ(sysring_chan_capacity(c2), 8);
	T_EQ(sysring_send(c, 1, &m), -ENOENT);
	T_EQ(sysring_pop(c, out), -EINVAL); /* not registered */
	T_EQ(sysring_register(c, 1), 0);
	T_EQ(sysring_register(c, 2), -EBUSY);
	T_EQ(sysring_register(c2, 1), -EEXIST);
	T_EQ(sysring_pop(c, out), -EAGAIN);
	/* reserve, fill in place, release = publish */
	T_EQ(sysring_get_sqe(c2, 1, &sqe), 0);
	sqe.msg->sender = 77;
	sqe.msg->payload[7] = 0xabc;
	T_EQ(sysring_pop(c, out), -EAGAIN); /* not published yet */
	T_EQ(sysring_sqe_release(c2, &sqe), 0);
	T_EQ(sysring_pop(c, out), 0);
	T_EQ(out[0].sender, 77);
	T_EQ(out[0].payload[7], 0xabc);
	/* full queue: -EAGAIN, and get_sqe_wait times out */
	for (int i = 0; i < 8; i++) {
		m.payload[0] = (uint64_t)i;
		T_EQ(sysring_send(c2, 1, &m), 0);
	}
	T_EQ(sysring_send(c2, 1, &m), -EAGAIN);
	struct timespec to = {0, 20 * 1000 * 1000};
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_get_sqe_wait(c2, 1, &sqe, &to), -ETIMEDOUT);
	T_ASSERT(t_now_ns() - t0 >= 19 * 1000 * 1000);
	/* pop_multiple: bounded, then "all" */
	T_EQ(sysring_pop_multiple(c, out, 3), 3);
	T_EQ(out[2].payload[0], 2);
	T_EQ(sysring_pop_multiple(c, out, -1), 5);
	T_EQ(out[4].payload[0], 7);
	T_EQ(sysring_pop_multiple(c, out, -1), -EAGAIN);
	T_EQ(sysring_pop_multiple(c, out, 0), 0);
	/* blocking receive: times out, and wakes for a message */
	t0 = t_now_ns();
	T_EQ(sysring_recv(c, out, 4, &to), -ETIMEDOUT);
	T_ASSERT(t_now_ns() - t0 >= 19 * 1000 * 1000);
	pid_t p = fork();
	if (p == 0) {
		sysring_chan_t *cc;
		usleep(30000);
		if (sysring_chan_open(seg, 0, 0, &cc) || sysring_send(cc, 1, &m))
			_exit(1);
		_exit(0);
	}
	to.tv_sec = 10;
	T_EQ(sysring_recv(c, out, 4, &to), 1);
	T_ASSERT(wait_ok(p));
	T_EQ(sysring_unregister(c), 0);
	T_EQ(sysring_unregister(c), -EINVAL);
	T_EQ(sysring_send(c2, 1, &m), -ENOENT);
	/* the id is free again */
	T_EQ(sysring_register(c2, 1), 0);
	sysring_chan_close(c2);
	sysring_chan_close(c);
	T_EQ(sysring_chan_unlink(seg), 0);
}

static void test_mpsc(long total, int nsenders, int nreceivers)
{
	sysring_chan_t *c;
	char a_total[32], a_per[32], a_ns[16];
	pid_t recv[8], send[64];
	int pipes[8][2];

	T_EQ(sysring_chan_open(seg, (unsigned)nreceivers + 2, 1024, &c), 0);
	long per_recv = total / nreceivers, per_sender = per_recv / nsenders;
	per_recv = per_sender * nsenders;
	snprintf(a_total, sizeof(a_total), "%ld", per_recv);
	snprintf(a_per, sizeof(a_per), "%ld", per_sender);
	snprintf(a_ns, sizeof(a_ns), "%d", nsenders);
	for (int r = 0; r < nreceivers; r++) {
		char rid[16];
		snprintf(rid, sizeof(rid), "%d", 100 + r);
		T_EQ(pipe(pipes[r]), 0);
		pid_t p = fork();
		if (p == 0) {
			dup2(pipes[r][1], 1);
			char *av[] = {"t", "receiver", seg, rid, a_ns, a_total, NULL};
			execv("/proc/self/exe", av);
			_exit(127);
		}
		recv[r] = p;
		char ch;
		T_EQ(read(pipes[r][0], &ch, 1), 1); /* registered */
	}
	uint64_t t0 = t_now_ns();
	for (int r = 0; r < nreceivers; r++)
		for (int s = 0; s < nsenders; s++) {
			char rid[16], sid[16];
			snprintf(rid, sizeof(rid), "%d", 100 + r);
			snprintf(sid, sizeof(sid), "%d", s);
			char *av[] = {"t", "sender", seg, rid, sid, a_per, NULL};
			send[r * nsenders + s] = spawn(av);
		}
	for (int i = 0; i < nreceivers * nsenders; i++)
		T_ASSERT(wait_ok(send[i]));
	for (int r = 0; r < nreceivers; r++)
		T_ASSERT(wait_ok(recv[r]));
	double secs = (double)(t_now_ns() - t0) / 1e9;
	printf("channel: %d senders -> %d receiver(s): %ld messages exactly once in %.2f s (%.0f msg/s)\n",
	       nsenders, nreceivers, per_recv * nreceivers, secs, (double)per_recv * nreceivers / secs);
	sysring_chan_close(c);
	T_EQ(sysring_chan_unlink(seg), 0);
}

static void test_killed_receiver(void)
{
	sysring_chan_t *c;
	int pf[2];
	char ch;
	struct sysring_msg m = {0};

	T_EQ(sysring_chan_open(seg, 2, 8, &c), 0);
	T_EQ(pipe(pf), 0);
	pid_t p = fork();
	if (p == 0) {
		dup2(pf[1], 1);
		char *av[] = {"t", "hold", seg, "42", NULL};
		execv("/proc/self/exe", av);
		_exit(127);
	}
	T_EQ(read(pf[0], &ch, 1), 1);
	T_EQ(sysring_register(c, 42), -EEXIST); /* alive: taken */
	for (int i = 0; i < 8; i++)
		T_EQ(sysring_send(c, 42, &m), 0);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	/* a sender finds the queue full and its receiver dead: -ENOENT */
	T_EQ(sysring_send(c, 42, &m), -ENOENT);
	/* and the id can be registered again (entries reclaimed) */
	T_EQ(sysring_register(c, 42), 0);
	T_EQ(sysring_send(c, 42, &m), 0);
	T_EQ(sysring_pop(c, &m), 0);
	/* a second kill, re-registered directly by register's reclaim */
	T_EQ(sysring_unregister(c), 0);
	p = fork();
	if (p == 0) {
		dup2(pf[1], 1);
		char *av[] = {"t", "hold", seg, "43", NULL};
		execv("/proc/self/exe", av);
		_exit(127);
	}
	T_EQ(read(pf[0], &ch, 1), 1);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	T_EQ(sysring_register(c, 43), 0);
	sysring_chan_close(c);
	T_EQ(sysring_chan_unlink(seg), 0);
}

static void test_crashed_sender(void)
{
	sysring_chan_t *c;
	struct sysring_msg m = {.payload = {5}}, out[8];
	T_EQ(sysring_chan_open(seg, 2, 8, &c), 0);
	T_EQ(sysring_register(c, 7), 0);
	char *av[] = {"t", "reserve", seg, "7", NULL};
	T_ASSERT(wait_ok(spawn(av))); /* reserved a slot and died */
	T_EQ(sysring_send(c, 7, &m), 0); /* published behind the dead slot */
	T_EQ(sysring_pop(c, out), -EAGAIN);
	/* the receiver gives the dead sender's position up and goes on */
	struct timespec to = {5, 0};
	uint64_t t0 = t_now_ns();
	T_EQ(sysring_recv(c, out, 8, &to), 1);
	T_EQ(out[0].payload[0], 5);
	T_ASSERT(t_now_ns() - t0 < 2000ull * 1000 * 1000);
	sysring_chan_close(c);
	T_EQ(sysring_chan_unlink(seg), 0);
}

/* Entries READY for id, read straight from the segment file. */
static int ready_entries(uint64_t id, uint32_t *which)
{
	struct cu_raw r;
	int n = 0;
	if (cu_raw_open(&r, seg))
		return 0;
	for (uint32_t e = 0; e < r.g.nentries && e < 8; e++) {
		struct ch_entry *en = cu_entry(&r, e);
		if (__atomic_load_n(&en->state, __ATOMIC_ACQUIRE) == CH_READY &&
		    __atomic_load_n(&en->id, __ATOMIC_RELAXED) == id)
			which[n++] = e;
	}
	cu_raw_close(&r);
	return n;
}

static void test_races(void)
{
	sysring_chan_t *c;
	pid_t p[4];
	T_EQ(sysring_chan_open(seg, 3, 8, &c), 0);
	for (int i = 0; i < 4; i++) {
		char *av[] = {"t", "churn", seg, "5", "2000", NULL};
		p[i] = spawn(av);
	}
	/* watch the invariant while they race: two READY entries for the same
	 * id may exist only for the instant a losing registration backs off */
	int violations = 0, done = 0;
	while (!done) {
		uint32_t a[8], b[8];
		int na = ready_entries(5, a), nb;
		if (na > 1) {
			usleep(5000);
			nb = ready_entries(5, b);
			if (nb > 1 && nb == na && !memcmp(a, b, (size_t)na * sizeof(a[0])))
				violations++;
		}
		done = 1;
		for (int i = 0; i < 4; i++) {
			int st;
			if (p[i] < 0)
				continue;
			if (waitpid(p[i], &st, WNOHANG) == 0) {
				done = 0;
			} else {
				if (!WIFEXITED(st) || WEXITSTATUS(st))
					T_FAIL("churn process: status %#x", st);
				p[i] = -1;
			}
		}
	}
	T_EQ(violations, 0);
	/* afterwards: every entry EMPTY again, the id free */
	T_EQ(sysring_register(c, 5), 0);
	T_EQ(sysring_unregister(c), 0);
	sysring_chan_close(c);
	T_EQ(sysring_chan_unlink(seg), 0);
}

static void test_corrupted(void)
{
	sysring_chan_t *c;
	struct sysring_msg m = {0}, out[16];
	T_EQ(sysring_chan_open(seg, 4, 8, &c), 0);
	T_EQ(sysring_register(c, 1), 0);
	for (int i = 0; i < 4; i++)
		T_EQ(sysring_send(c, 1, &m), 0);
	char *av[] = {"t", "scribble", seg, NULL};
	T_ASSERT(wait_ok(spawn(av)));
	/* everything below may fail, but must return, in a child with a
	 * watchdog so that a hang or a crash fails the test */
	pid_t p = fork();
	if (p == 0) {
		alarm(20);
		struct timespec to = {0, 10 * 1000 * 1000};
		for (int round = 0; round < 200; round++) {
			struct sysring_chan_sqe sqe;
			(void)sysring_pop_multiple(c, out, 16);
			(void)sysring_recv(c, out, 16, &to);
			if (sysring_get_sqe(c, (uint64_t)round % 4, &sqe) == 0)
				(void)sysring_sqe_release(c, &sqe);
			(void)sysring_send(c, 1, &m);
			if (sysring_get_sqe_wait(c, 2, &sqe, &to) == 0)
				(void)sysring_sqe_release(c, &sqe);
		}
		sysring_chan_t *c3;
		int r = sysring_chan_open(seg, 0, 0, &c3); /* header is garbage now */
		if (r == 0) {
			(void)sysring_register(c3, 99);
			sysring_chan_close(c3);
		}
		_exit(0);
	}
	int st;
	T_EQ(waitpid(p, &st, 0), p);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		T_FAIL("operations on a corrupted segment crashed or hung (status %#x)", st);
	sysring_chan_unlink(seg);
	sysring_chan_close(c); /* must cope with its entry being garbage */
}

/* Two threads of the receiver in sysring_recv on one queue, both asleep:
 * each message must wake one of them, whichever woke for the one before. */
static sysring_chan_t *mt_c;
static int mt_got;
static uint64_t mt_last_ns;

static void *mt_receiver(void *arg)
{
	struct sysring_msg out[8];
	struct timespec to = {5, 0};
	(void)arg;
	int r = sysring_recv(mt_c, out, 1, &to);
	if (r != 1)
		T_FAIL("receiver thread: %d", r);
	/* The last one in records when it had its message. */
	if (__atomic_add_fetch(&mt_got, 1, __ATOMIC_ACQ_REL) == 2)
		__atomic_store_n(&mt_last_ns, t_now_ns(), __ATOMIC_RELEASE);
	return NULL;
}

static int mt_forever_done;
static int mt_forever_ret;

static void *mt_forever(void *arg)
{
	struct sysring_msg out[1];
	(void)arg;
	mt_forever_ret = sysring_recv(mt_c, out, 1, NULL);
	__atomic_store_n(&mt_forever_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_threads_receiving(void)
{
	sysring_chan_t *tx;
	struct sysring_msg m = {.sender = 5, .type = 1};
	pthread_t th[2];

	T_EQ(sysring_chan_open(seg, 4, 8, &mt_c), 0);
	T_EQ(sysring_chan_open(seg, 0, 0, &tx), 0);
	T_EQ(sysring_register(mt_c, 42), 0);
	T_EQ(sysring_chan_set_spin(mt_c, 0), 0); /* straight to the futex */
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, mt_receiver, NULL);
	usleep(100 * 1000); /* both asleep */
	T_EQ(sysring_send(tx, 42, &m), 0);
	uint64_t t0 = t_now_ns();
	while (__atomic_load_n(&mt_got, __ATOMIC_ACQUIRE) < 1) {
		if (t_now_ns() - t0 > 3000000000ull)
			T_FAIL("first message not received");
		usleep(1000);
	}
	uint64_t sent = t_now_ns();
	T_EQ(sysring_send(tx, 42, &m), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	T_EQ(mt_got, 2);
	/* Not found only when the sleeper's 5 s timeout expired. */
	if (mt_last_ns - sent > 2000000000ull)
		T_FAIL("the second message waited %.1f s for a sleeping receiver",
		       (double)(mt_last_ns - sent) / 1e9);
	/* A thread asleep with no timeout when the handle is unregistered
	 * wakes and returns -EINVAL. */
	mt_got = 0;
	pthread_create(&th[0], NULL, mt_forever, NULL);
	usleep(50 * 1000);
	T_EQ(sysring_unregister(mt_c), 0);
	t0 = t_now_ns();
	while (!__atomic_load_n(&mt_forever_done, __ATOMIC_ACQUIRE)) {
		if (t_now_ns() - t0 > 2000000000ull)
			T_FAIL("a receiving thread slept on after unregister");
		usleep(1000);
	}
	pthread_join(th[0], NULL);
	T_EQ(mt_forever_ret, -EINVAL);
	sysring_chan_close(tx);
	sysring_chan_close(mt_c);
}

/* A receiver asleep behind a reserved, unpublished head is woken by that
 * slot's release (not left to the periodic look meant for dead senders).
 * The bound tolerates a loaded machine. */
static sysring_chan_t *rh_rx;
static uint64_t rh_got_ns;

static void *rh_receiver(void *arg)
{
	struct sysring_msg out[1];
	struct timespec to = {5, 0};
	(void)arg;
	T_EQ(sysring_recv(rh_rx, out, 1, &to), 1);
	T_EQ(out[0].sender, 1234);
	__atomic_store_n(&rh_got_ns, t_now_ns(), __ATOMIC_RELEASE);
	return NULL;
}

static void test_reserved_head(void)
{
	sysring_chan_t *tx;
	struct sysring_chan_sqe sqe;
	pthread_t th;

	T_EQ(sysring_chan_open(seg, 4, 8, &rh_rx), 0);
	T_EQ(sysring_chan_open(seg, 0, 0, &tx), 0);
	T_EQ(sysring_register(rh_rx, 44), 0);
	T_EQ(sysring_chan_set_spin(rh_rx, 0), 0);
	T_EQ(sysring_get_sqe(tx, 44, &sqe), 0); /* the head, reserved */
	pthread_create(&th, NULL, rh_receiver, NULL);
	usleep(10 * 1000); /* the receiver sleeps behind it */
	sqe.msg->sender = 1234;
	uint64_t rel = t_now_ns();
	T_EQ(sysring_sqe_release(tx, &sqe), 0);
	pthread_join(th, NULL);
	if (rh_got_ns - rel > 200 * 1000 * 1000ull)
		T_FAIL("released head reached the sleeping receiver after %.1f ms",
		       (double)(rh_got_ns - rel) / 1e6);
	T_EQ(sysring_unregister(rh_rx), 0);
	sysring_chan_close(tx);
	sysring_chan_close(rh_rx);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		if (!strcmp(argv[1], "sender"))
			return role_sender(argv);
		if (!strcmp(argv[1], "receiver"))
			return role_receiver(argv);
		if (!strcmp(argv[1], "hold"))
			return role_hold(argv);
		if (!strcmp(argv[1], "reserve"))
			return role_reserve_and_die(argv);
		if (!strcmp(argv[1], "churn"))
			return role_churn(argv);
		if (!strcmp(argv[1], "scribble"))
			return role_scribble(argv);
		return 2;
	}
	t_watchdog(300);
	snprintf(seg, sizeof(seg), "/sysring-test-%d", getpid());
	sysring_chan_unlink(seg);
	test_basic();
	test_threads_receiving();
	test_reserved_head();
	test_killed_receiver();
	test_crashed_sender();
	test_races();
	test_corrupted();
	long total = (long)(1000000 * t_scale());
	test_mpsc(total, 4, 1);
	test_mpsc(total / 4, 2, 3);
	printf("channel: ok\n");
	return 0;
}

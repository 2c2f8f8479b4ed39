/* SPDX-License-Identifier: MIT */
/*
 * The kill campaign: receivers, senders (some of them slow, holding their
 * reservations), and register/unregister loops run as processes on one
 * segment while the parent SIGKILLs one of them every few milliseconds and
 * starts a new one. Every message carries its key, its receiver's id and a
 * checksum; receivers mark each key in a shared bitmap as they get it.
 * Afterwards: no duplicate, no corruption, no message at the wrong receiver;
 * every entry can be registered again at once (the recovery bound: one
 * registration, measured); and every message whose release returned 0 was
 * received or is counted (lost with a dead receiver, dropped at an
 * unregister, or in the hands of a receiver killed after popping it).
 *
 *   t_channel_kill [seconds]   (CI: 4; the soak variant: 60)
 */
#include "chan_util.h"

#define NR 3 /* receivers: ids 1..NR */
#define NS 3 /* senders */
#define NC 2 /* register/unregister loops */
#define NCHILD (NR + NS + NC)
#define ENTRIES 8
#define CAP 32
#define MAXINC 8192
#define MAXSEQ 4096
#define NKEYS ((uint64_t)MAXINC * MAXSEQ)
#define BATCH 8

struct shared {
	uint64_t received[NKEYS / 64];
	uint64_t sent[NKEYS / 64];
	uint64_t dup, corrupt, wrong, unexpected;
	uint64_t n_sent, n_received, n_enoent, n_timeout, n_slow, n_regs, n_unregs;
	uint32_t next_inc;
};

static struct shared *sh;
static char seg[96];

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	x ^= x >> 33;
	return x;
}

static void fill(struct sysring_msg *m, uint64_t key, uint64_t rid)
{
	m->sender = key;
	m->type = (uint32_t)rid;
	m->reply_type = 0;
	for (int k = 0; k < 8; k++)
		m->payload[k] = mix(key * 8 + (uint64_t)k + rid * 0x1000000000ull);
}

static int check(const struct sysring_msg *m, uint64_t rid)
{
	if (m->sender >= NKEYS)
		return 0;
	for (int k = 0; k < 8; k++)
		if (m->payload[k] != mix(m->sender * 8 + (uint64_t)k + m->type * 0x1000000000ull))
			return 0;
	return m->type == rid ? 1 : 2;
}

static void bump(uint64_t *v)
{
	__atomic_fetch_add(v, 1, __ATOMIC_RELAXED);
}

static int role_receiver(uint64_t rid, uint64_t seed)
{
	sysring_chan_t *c;
	struct sysring_msg out[BATCH];
	struct timespec to = {0, 50 * 1000 * 1000};
	if (sysring_chan_open(seg, 0, 0, &c))
		return 2;
	for (;;) {
		int r;
		/* A predecessor we killed may still hold the id for an instant. */
		for (int i = 0; (r = sysring_register(c, rid)) == -EEXIST && i < 2000; i++)
			usleep(1000);
		if (r) {
			fprintf(stderr, "receiver %llu: register %d\n", (unsigned long long)rid, r);
			bump(&sh->unexpected);
			return 3;
		}
		bump(&sh->n_regs);
		for (;;) {
			int n = sysring_recv(c, out, BATCH, &to);
			if (n == -ETIMEDOUT)
				continue;
			if (n < 0) {
				fprintf(stderr, "receiver: recv %d\n", n);
				bump(&sh->unexpected);
				return 4;
			}
			for (int i = 0; i < n; i++) {
				int k = check(&out[i], rid);
				if (!k) {
					bump(&sh->corrupt);
					continue;
				}
				if (k == 2)
					bump(&sh->wrong);
				uint64_t key = out[i].sender, bit = 1ull << (key % 64);
				if (__atomic_fetch_or(&sh->received[key / 64], bit, __ATOMIC_RELAXED) & bit)
					bump(&sh->dup);
				bump(&sh->n_received);
			}
			if (cu_rand(&seed) % 400 == 0)
				break; /* re-register now and then */
		}
		if (sysring_unregister(c)) {
			bump(&sh->unexpected);
			return 5;
		}
		bump(&sh->n_unregs);
	}
}

static int role_sender(uint64_t seed)
{
	sysring_chan_t *c;
	uint32_t inc = __atomic_fetch_add(&sh->next_inc, 1, __ATOMIC_RELAXED);
	struct timespec to = {0, 20 * 1000 * 1000};
	if (inc >= MAXINC)
		return 0; /* out of keys: idle */
	if (sysring_chan_open(seg, 0, 0, &c))
		return 2;
	for (uint64_t seq = 0; seq < MAXSEQ; seq++) {
		struct sysring_chan_sqe sqe;
		uint64_t rid = 1 + cu_rand(&seed) % NR, key = (uint64_t)inc * MAXSEQ + seq;
		int r = sysring_get_sqe_wait(c, rid, &sqe, &to);
		if (r == -ENOENT || r == -ETIMEDOUT) {
			bump(r == -ENOENT ? &sh->n_enoent : &sh->n_timeout);
			continue;
		}
		if (r) {
			fprintf(stderr, "sender: get_sqe_wait %d\n", r);
			bump(&sh->unexpected);
			return 3;
		}
		fill(sqe.msg, key, rid);
		if (cu_rand(&seed) % 300 == 0) {
			bump(&sh->n_slow);
			usleep(20 * 1000); /* a slow sender, holding its slot */
		}
		r = sysring_sqe_release(c, &sqe);
		if (r == 0) {
			__atomic_fetch_or(&sh->sent[key / 64], 1ull << (key % 64), __ATOMIC_RELAXED);
			bump(&sh->n_sent);
		} else if (r == -ENOENT) {
			bump(&sh->n_enoent);
		} else {
			fprintf(stderr, "sender: release %d\n", r);
			bump(&sh->unexpected);
			return 4;
		}
	}
	for (;;)
		pause(); /* out of sequence numbers: wait to be killed */
}

static int role_churn(uint64_t id, uint64_t seed)
{
	sysring_chan_t *c;
	if (sysring_chan_open(seg, 0, 0, &c))
		return 2;
	for (;;) {
		int r = sysring_register(c, id);
		if (r == 0) {
			bump(&sh->n_regs);
			if (cu_rand(&seed) % 4 == 0)
				usleep((useconds_t)(cu_rand(&seed) % 2000));
			r = sysring_unregister(c);
			if (r) {
				fprintf(stderr, "churn: unregister %d\n", r);
				bump(&sh->unexpected);
				return 3;
			}
			bump(&sh->n_unregs);
		} else if (r != -EEXIST && r != -ENOSPC) {
			fprintf(stderr, "churn: register %d\n", r);
			bump(&sh->unexpected);
			return 4;
		}
	}
}

static pid_t spawn(int role, uint64_t seed)
{
	pid_t p = fork();
	if (p == 0) {
		int r;
		if (role < NR)
			r = role_receiver(1 + (uint64_t)role, seed);
		else if (role < NR + NS)
			r = role_sender(seed);
		else
			r = role_churn(10 + (uint64_t)(role - NR - NS), seed);
		_exit(r);
	}
	return p;
}

static int reap(pid_t p)
{
	int st;
	waitpid(p, &st, 0);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		return 0;
	fprintf(stderr, "child %d ended by itself: %s %d\n", (int)p, WIFEXITED(st) ? "exit" : "signal",
		WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 1;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 4;
	uint64_t rnd = 0x243f6a8885a308d3ull ^ (uint64_t)getpid();
	pid_t kids[NCHILD];
	long kills[3] = {0, 0, 0};
	int bad = 0;

	t_watchdog((unsigned)(secs * 3 + 120));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(sh != MAP_FAILED);
	cu_name(seg, sizeof(seg), "kill");
	sysring_chan_unlink(seg);
	{
		sysring_chan_t *c;
		T_EQ(sysring_chan_open(seg, ENTRIES, CAP, &c), 0);
		sysring_chan_close(c);
	}
	for (int k = 0; k < NCHILD; k++)
		kids[k] = spawn(k, cu_rand(&rnd));
	uint64_t end = t_now_ns() + (uint64_t)(secs * 1e9);
	while (t_now_ns() < end) {
		usleep((useconds_t)(1000 + cu_rand(&rnd) % 7000));
		int k = (int)(cu_rand(&rnd) % NCHILD);
		kill(kids[k], SIGKILL);
		bad += reap(kids[k]);
		kills[k < NR ? 0 : k < NR + NS ? 1 : 2]++;
		kids[k] = spawn(k, cu_rand(&rnd));
	}
	for (int k = 0; k < NCHILD; k++) {
		kill(kids[k], SIGKILL);
		bad += reap(kids[k]);
	}

	/* Recovery: every entry registrable again, at once. */
	sysring_chan_t *c[ENTRIES];
	uint64_t t0 = t_now_ns();
	for (int i = 0; i < ENTRIES; i++) {
		T_EQ(sysring_chan_open(seg, 0, 0, &c[i]), 0);
		int r = sysring_register(c[i], 1000 + (uint64_t)i);
		if (r)
			T_FAIL("entry %d of %d not registrable after the campaign: %d", i, ENTRIES, r);
	}
	double rec_ms = cu_ms_since(t0);
	struct sysring_chan_stats st;
	T_EQ(sysring_chan_stats(c[0], &st), 0);
	for (int i = 0; i < ENTRIES; i++)
		sysring_chan_close(c[i]);
	sysring_chan_unlink(seg);

	/* Every message released with 0 was received, or is accounted for. */
	uint64_t missing = 0, extra = 0;
	for (uint64_t w = 0; w < NKEYS / 64; w++) {
		missing += (uint64_t)__builtin_popcountll(sh->sent[w] & ~sh->received[w]);
		extra += (uint64_t)__builtin_popcountll(sh->received[w] & ~sh->sent[w]);
	}
	uint64_t bound = st.lost + st.dropped + (uint64_t)kills[0] * BATCH;
	printf("kill campaign: %.0f s, %ld kills (receivers %ld, senders %ld, register loops %ld), "
	       "%llu registrations, %llu unregistrations\n",
	       secs, kills[0] + kills[1] + kills[2], kills[0], kills[1], kills[2], (unsigned long long)sh->n_regs,
	       (unsigned long long)sh->n_unregs);
	printf("kill campaign: %llu messages released, %llu received (%llu by senders killed before they "
	       "could note the release), %llu slow reservations; %llu -ENOENT, %llu timeouts\n",
	       (unsigned long long)sh->n_sent, (unsigned long long)sh->n_received, (unsigned long long)extra,
	       (unsigned long long)sh->n_slow, (unsigned long long)sh->n_enoent, (unsigned long long)sh->n_timeout);
	printf("kill campaign: recoveries: %llu dead receivers' entries reclaimed, %llu messages lost with "
	       "them, %llu dropped at unregister, %llu dead senders' reservations given up; not received %llu "
	       "(bound %llu); all %d entries registrable in %.1f ms\n",
	       (unsigned long long)st.reclaimed, (unsigned long long)st.lost, (unsigned long long)st.dropped,
	       (unsigned long long)st.abandoned, (unsigned long long)missing, (unsigned long long)bound, ENTRIES,
	       rec_ms);
	printf("kill campaign: duplicates %llu, corrupted %llu, wrong receiver %llu, unexpected errors %llu\n",
	       (unsigned long long)sh->dup, (unsigned long long)sh->corrupt, (unsigned long long)sh->wrong,
	       (unsigned long long)sh->unexpected);
	T_EQ(sh->dup, 0);
	T_EQ(sh->corrupt, 0);
	T_EQ(sh->wrong, 0);
	T_EQ(sh->unexpected, 0);
	T_EQ(bad, 0);
	T_ASSERT(missing <= bound);
	T_ASSERT(sh->n_received > 0);
	T_ASSERT(rec_ms < 2000);
	return 0;
}

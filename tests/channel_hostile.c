/* SPDX-License-Identifier: MIT */
/*
 * The hostile-writer campaign: honest peers (a receiver, two senders, a
 * register/unregister loop) run while a hostile process writes random bytes
 * and aimed values into the registry, the ring headers, the slots, the
 * sender table, the wait words and the segment header, wakes random futex
 * words, holds the segment's locks, and at the end truncates the file.
 * Honest peers must never crash (no SIGSEGV, no SIGBUS), never take longer
 * than a bound per call (non-blocking calls 200 ms on a loaded machine,
 * timed ones their timeout plus 500 ms, register 1.5 s: its registry lock
 * wait is 500 ms), and never write outside the segment (guard pages around
 * the library's mapping, canaries in their own memory, checked at exit).
 *
 *   t_channel_hostile [seconds]   (CI: 4; the soak variant: 60)
 */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "chan_util.h"

#define ENTRIES 4
#define CAP 16

struct shared {
	uint64_t ops, errors, slow, hostile_writes, hostile_locks, truncations, received, opened;
	uint64_t max_ns[4]; /* non-blocking, timed, register, unregister */
	char what[256];
	char longest[4][64];
};

static struct shared *sh;
static char seg[96];
static uint64_t canary_static[512];

static void bump(uint64_t *v, uint64_t n)
{
	__atomic_fetch_add(v, n, __ATOMIC_RELAXED);
}

/* Time one call against its bound. */
static void timed(int kind, uint64_t t0, double bound_ms, const char *name)
{
	uint64_t ns = t_now_ns() - t0;
	uint64_t old = __atomic_load_n(&sh->max_ns[kind], __ATOMIC_RELAXED);
	while (ns > old) {
		if (__atomic_compare_exchange_n(&sh->max_ns[kind], &old, ns, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			snprintf(sh->longest[kind], sizeof(sh->longest[kind]), "%s", name);
			break;
		}
	}
	bump(&sh->ops, 1);
	if ((double)ns / 1e6 > bound_ms) {
		bump(&sh->slow, 1);
		snprintf(sh->what, sizeof(sh->what), "%s took %.0f ms (bound %.0f)", name, (double)ns / 1e6,
			 bound_ms);
	}
}

#define NB_MS 200.0
#define TO_MS 500.0
#define REG_MS 1500.0
#define UNREG_MS 1000.0

static int canaries_ok(uint64_t *heap, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (heap[i] != 0xc0ffee0000000000ull + i)
			return 0;
	for (size_t i = 0; i < 512; i++)
		if (canary_static[i] != 0xfeedface00000000ull + i)
			return 0;
	return 1;
}

static uint64_t *canaries(size_t n)
{
	uint64_t *heap = malloc(n * sizeof(*heap));
	for (size_t i = 0; i < n; i++)
		heap[i] = 0xc0ffee0000000000ull + i;
	for (size_t i = 0; i < 512; i++)
		canary_static[i] = 0xfeedface00000000ull + i;
	return heap;
}

static int honest(int role, double secs, uint64_t seed)
{
	sysring_chan_t *c;
	struct sysring_msg m, out[CAP];
	uint64_t *heap = canaries(4096);
	uint64_t end = t_now_ns() + (uint64_t)(secs * 1e9), t0;
	struct timespec to = {0, 20 * 1000 * 1000};
	int registered = 0;

	memset(&m, 0, sizeof(m));
	if (sysring_chan_open(seg, 0, 0, &c))
		return 2;
	bump(&sh->opened, 1); /* the hostile one starts when all are in */
	while (t_now_ns() < end) {
		int r;
		if (role == 0 || role == 3) { /* receiver of id 1, or a loop on ids 2/3 */
			uint64_t id = role == 0 ? 1 : 2 + cu_rand(&seed) % 2;
			if (!registered) {
				t0 = t_now_ns();
				r = sysring_register(c, id);
				timed(2, t0, REG_MS, "register");
				registered = r == 0;
				if (r)
					bump(&sh->errors, 1);
				if (r && role == 0)
					usleep(1000);
				continue;
			}
			if (role == 0) {
				t0 = t_now_ns();
				r = sysring_recv(c, out, CAP, &to);
				timed(1, t0, 20 + TO_MS, "recv(20 ms)");
				t0 = t_now_ns();
				int r2 = sysring_pop_multiple(c, out, -1);
				timed(0, t0, NB_MS, "pop_multiple");
				bump(&sh->received, (uint64_t)(r > 0 ? r : 0) + (uint64_t)(r2 > 0 ? r2 : 0));
				if (r2 < 0 && r2 != -EAGAIN)
					r = r2;
				if (r >= 0 || r == -ETIMEDOUT)
					continue;
				bump(&sh->errors, 1);
			}
			t0 = t_now_ns();
			(void)sysring_unregister(c);
			timed(3, t0, UNREG_MS, "unregister");
			registered = 0;
			continue;
		}
		/* senders */
		struct sysring_chan_sqe sqe;
		uint64_t id = 1 + cu_rand(&seed) % 3;
		t0 = t_now_ns();
		if (cu_rand(&seed) & 1) {
			r = sysring_get_sqe(c, id, &sqe);
			timed(0, t0, NB_MS, "get_sqe");
		} else {
			r = sysring_get_sqe_wait(c, id, &sqe, &to);
			timed(1, t0, 20 + TO_MS, "get_sqe_wait(20 ms)");
		}
		if (r == 0) {
			sqe.msg->sender = (uint64_t)role;
			sqe.msg->payload[7] = 7; /* the in-place fill */
			t0 = t_now_ns();
			r = sysring_sqe_release(c, &sqe);
			timed(0, t0, NB_MS, "sqe_release");
		}
		if (r)
			bump(&sh->errors, 1);
		t0 = t_now_ns();
		(void)sysring_lookup(c, id);
		(void)sysring_send(c, id, &m);
		timed(0, t0, NB_MS, "lookup+send");
		if (r == -EAGAIN || r == -ENOENT || r == -EIO)
			usleep(200);
	}
	sysring_chan_close(c);
	return canaries_ok(heap, 4096) ? 0 : 9;
}

/* A few aimed values for a 64-bit field that was `v`. */
static uint64_t aimed(uint64_t v, uint64_t *rnd)
{
	switch (cu_rand(rnd) % 10) {
	case 0:
		return 0;
	case 1:
		return ~0ull;
	case 2:
		return v + 1;
	case 3:
		return v - 1;
	case 4:
		return v + 1 + cu_rand(rnd) % 64;
	case 5:
		return 1ull << 63;
	case 6:
		return FUTEX_OWNER_DIED;
	case 7:
		return cu_rand(rnd) % 4;
	default:
		return cu_rand(rnd);
	}
}

static void store32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}

static void store64(void *p, uint64_t v)
{
	__atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED);
}

static int hostile(double secs, uint64_t rnd)
{
	struct cu_raw r;
	uint64_t end = t_now_ns() + (uint64_t)(secs * 1e9), writes = 0;
	char path[160];
	int lfd;

	snprintf(path, sizeof(path), "/dev/shm%s", seg);
	if (cu_raw_open(&r, seg))
		return 2;
	lfd = open(path, O_RDWR);
	struct ch_seg g = r.g;
	while (t_now_ns() < end) {
		uint32_t i = (uint32_t)(cu_rand(&rnd) % g.nentries);
		struct ch_entry *e = cu_entry(&r, i);
		struct sr_ring_hdr *h = cu_ring(&r, i);
		uint64_t pos = __atomic_load_n(&h->head, __ATOMIC_RELAXED) + cu_rand(&rnd) % 4;
		struct sr_ring_slot *s = cu_slot(&r, i, pos);
		struct ch_payload *pl = (struct ch_payload *)s->data;
		uint64_t pick = cu_rand(&rnd) % 128, kind = pick % 14;
		if (kind == 12)
			kind = 13;
		switch (pick == 0 ? 12 : pick < 8 ? 14 : kind) {
		case 0: /* random words anywhere */
			for (int k = 0; k < 16; k++) {
				size_t off = (size_t)(cu_rand(&rnd) % (r.len / 8)) * 8;
				store64(r.p + off, cu_rand(&rnd));
			}
			writes += 15;
			break;
		case 1:
			store32(&e->state, (uint32_t)aimed(e->state, &rnd));
			break;
		case 2:
			store64(&e->id, cu_rand(&rnd) % 2 ? 1 + cu_rand(&rnd) % 3 : aimed(e->id, &rnd));
			break;
		case 3:
			store64(&e->gen, aimed(e->gen, &rnd));
			break;
		case 4:
			store32(&e->rx_owner, (uint32_t)aimed(e->rx_owner, &rnd));
			break;
		case 5: /* wait words, and wake-ups nobody asked for */
			store32(cu_rand(&rnd) % 2 ? &e->rx_sleeping : &e->tx_waiters, (uint32_t)aimed(0, &rnd));
			store32(cu_rand(&rnd) % 2 ? &e->rx_futex : &e->tx_futex, (uint32_t)cu_rand(&rnd));
			syscall(SYS_futex, &e->rx_futex, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
			syscall(SYS_futex, &e->tx_futex, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
			writes++;
			break;
		case 6:
			store64(&h->head, aimed(h->head, &rnd));
			break;
		case 7:
			store64(&h->tail, aimed(h->tail, &rnd));
			break;
		case 8: /* the slot's sequence: reserved, published, stale, garbage */
			store64(&s->seq, cu_rand(&rnd) % 2 ? pos + cu_rand(&rnd) % 2 : aimed(s->seq, &rnd));
			break;
		case 9: /* the reservation record */
			store32(&pl->tag, cu_rand(&rnd) % 2 ? (uint32_t)pos : (uint32_t)cu_rand(&rnd));
			__atomic_store_n(&pl->sslot, (uint16_t)cu_rand(&rnd), __ATOMIC_RELAXED);
			store32(&pl->sgen, (uint32_t)aimed(pl->sgen, &rnd));
			__atomic_store_n(&pl->flags, (uint16_t)cu_rand(&rnd), __ATOMIC_RELAXED);
			writes += 3;
			break;
		case 10: { /* the sender table */
			struct ch_sender *sd = cu_sender(&r, (uint32_t)(cu_rand(&rnd) % g.nsenders));
			store32(&sd->gen, (uint32_t)aimed(sd->gen, &rnd));
			uint32_t l = (uint32_t)(cu_rand(&rnd) % CH_LANES);
			store64(&sd->inside[l], cu_rand(&rnd) % 2 ? 1 + cu_rand(&rnd) % g.nentries : aimed(sd->inside[l], &rnd));
			writes++;
			break;
		}
		case 11: { /* the segment header: geometry and statistics */
			uint32_t *w = (uint32_t *)r.p + cu_rand(&rnd) % (sizeof(struct ch_seg) / 4);
			store32(w, (uint32_t)aimed(*w, &rnd));
			break;
		}
		case 12: { /* hold a lock for a while: the registry's, an entry's, a sender's */
			uint64_t off = cu_rand(&rnd) % 3 == 0 ? CH_LK_REG
				       : cu_rand(&rnd) % 2  ? CH_LK_ENTRY0 + cu_rand(&rnd) % g.nentries
							    : CH_LK_SENDER0 + cu_rand(&rnd) % g.nsenders;
			struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = (off_t)off, .l_len = 1};
			if (fcntl(lfd, F_OFD_SETLK, &fl) == 0) {
				bump(&sh->hostile_locks, 1);
				/* now and then longer than register's 500 ms wait */
				usleep((useconds_t)(cu_rand(&rnd) % 20 == 0 ? 700000 : cu_rand(&rnd) % 20000));
				fl.l_type = F_UNLCK;
				fcntl(lfd, F_OFD_SETLK, &fl);
			}
			writes--;
			break;
		}
		case 13: /* a whole ring header */
			for (int k = 0; k < 8; k++)
				store64((uint64_t *)h + k, aimed(0, &rnd));
			writes += 7;
			break;
		default:
			usleep((useconds_t)(cu_rand(&rnd) % 500)); /* let the honest ones work */
			writes--;
		}
		writes++;
	}
	/* Finally the file itself: shrunk under everybody. */
	if (ftruncate(r.fd, (off_t)(cu_rand(&rnd) % 3 == 0 ? 0 : 4096 * (1 + cu_rand(&rnd) % 8))) == 0)
		bump(&sh->truncations, 1);
	bump(&sh->hostile_writes, writes);
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 4;
	uint64_t rnd = 0x13198a2e03707344ull ^ (uint64_t)getpid();
	pid_t honest_p[4], hostile_p;
	int bad = 0;

	t_watchdog((unsigned)(secs * 2 + 60));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(sh != MAP_FAILED);
	cu_name(seg, sizeof(seg), "hostile");
	sysring_chan_unlink(seg);
	{
		sysring_chan_t *c;
		T_EQ(sysring_chan_open(seg, ENTRIES, CAP, &c), 0);
		sysring_chan_close(c);
	}
	for (int k = 0; k < 4; k++) {
		uint64_t sd = cu_rand(&rnd);
		honest_p[k] = fork();
		if (honest_p[k] == 0)
			_exit(honest(k, secs + 1, sd)); /* they outlive the truncation */
	}
	while (__atomic_load_n(&sh->opened, __ATOMIC_RELAXED) < 4)
		usleep(1000);
	uint64_t hs = cu_rand(&rnd);
	hostile_p = fork();
	if (hostile_p == 0)
		_exit(hostile(secs, hs));
	for (int k = 0; k < 4; k++) {
		int st;
		waitpid(honest_p[k], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "honest peer %d: %s %d\n", k, WIFEXITED(st) ? "exit" : "signal",
				WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			bad++;
		}
	}
	T_ASSERT(cu_wait_ok(hostile_p));
	sysring_chan_unlink(seg);
	printf("hostile campaign: %.0f s, %llu hostile writes, %llu locks held, %llu truncation; honest peers: %llu "
	       "calls, %llu errors, %llu messages received, over bound %llu\n",
	       secs, (unsigned long long)sh->hostile_writes, (unsigned long long)sh->hostile_locks,
	       (unsigned long long)sh->truncations, (unsigned long long)sh->ops, (unsigned long long)sh->errors,
	       (unsigned long long)sh->received, (unsigned long long)sh->slow);
	printf("hostile campaign: longest non-blocking call %.2f ms (%s), timed wait (20 ms) %.1f ms, register %.1f "
	       "ms, unregister %.1f ms\n",
	       (double)sh->max_ns[0] / 1e6, sh->longest[0], (double)sh->max_ns[1] / 1e6, (double)sh->max_ns[2] / 1e6,
	       (double)sh->max_ns[3] / 1e6);
	if (sh->slow)
		T_FAIL("%llu calls over their bound, e.g. %s", (unsigned long long)sh->slow, sh->what);
	T_EQ(bad, 0);
	return 0;
}

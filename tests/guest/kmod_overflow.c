/* SPDX-License-Identifier: MIT */
/*
 * sysring.ko under a process that never reads its completions (issue 14,
 * items 1 and 2): kernel memory stays bounded per ring.
 *
 *   1. DESTROY spam: a full submission ring, DESTROY called again and again
 *      while the tail is pushed a whole ring ahead each time and cq_head
 *      never moves. Only the first DESTROY takes entries (exactly those
 *      queued before it complete, with -ECANCELED, nothing after); kernel
 *      slab does not grow; closing the ring returns at once (no long list
 *      to free, no soft lockup).
 *   2. The same under a 32 MiB memory cgroup: no OOM in the cgroup and no
 *      kernel OOM report (the harness fails on any Call Trace).
 *   3. A full completion ring when DESTROY comes: its cancellations wait
 *      in the submission ring and reach the completion ring as the process
 *      makes room, in order, each exactly once.
 *   4. Many workers finishing into a full completion ring: every result is
 *      kept (overflow, one per worker) and delivered once room appears.
 *
 * SYSRING_HOSTILE_SCALE (default 1) multiplies the rounds (the soak run).
 */
#include "gt_ring.h"

#include <sys/mount.h>
#include <sys/stat.h>

/* Kernel slab in use, kB (/proc/meminfo). */
static long slab_kb(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");
	GT_ASSERT(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Slab:", 5))
			v = strtol(line + 5, NULL, 10);
	fclose(f);
	return v;
}

/* Fill the submission ring to the brim (no worker: nothing runs). */
static void fill(struct gt_ring *r, uint64_t ud0)
{
	uint32_t head = __atomic_load_n(&r->hdr->sq_head, __ATOMIC_ACQUIRE);
	uint32_t n = r->s.sq_entries - (r->sq_tail - head);
	for (uint32_t i = 0; i < n; i++)
		GT_EQ(gt_ring_submit(r, ud0 + i, SYS_getppid, 0, 0, 0, 0, 0, 0), 0);
}

/* The DESTROY spam; returns the number of DESTROYs made. */
static unsigned int destroy_spam(int fd, struct gt_ring *r, unsigned int rounds)
{
	for (unsigned int i = 0; i < rounds; i++) {
		GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
		/* a whole ring ahead of whatever the module took, again */
		uint32_t head = __atomic_load_n(&r->hdr->sq_head, __ATOMIC_ACQUIRE);
		for (uint32_t k = 0; k < r->s.sq_entries; k++) {
			struct sysring_sqe *e = &r->sqes[(head + k) & (r->s.sq_entries - 1)];
			e->user_data = 1000000 + k;
			e->nr = SYS_getppid;
		}
		__atomic_store_n(&r->hdr->sq_tail, head + r->s.sq_entries, __ATOMIC_RELEASE);
	}
	return rounds;
}

/* Take every completion there is, moving what the module kept in; checks
 * that ud0..ud0+n-1 each came once with res. */
static void drain_check(struct gt_ring *r, uint64_t ud0, uint32_t n, long long res)
{
	static unsigned char seen[1 << 16];
	struct sysring_cqe c[256];
	uint32_t got = 0;

	GT_ASSERT(n <= sizeof(seen));
	memset(seen, 0, n);
	for (int idle = 0; idle < 3;) {
		unsigned int k = gt_ring_reap(r, c, 256);
		if (!k) {
			/* WAIT moves kept completions into the room we made */
			gt_ring_wait(r, 0, 0);
			idle++;
			continue;
		}
		idle = 0;
		for (unsigned int i = 0; i < k; i++) {
			uint64_t u = c[i].user_data - ud0;
			if (u >= n)
				GT_FAIL("completion for %llu: not submitted before DESTROY",
					(unsigned long long)c[i].user_data);
			if (seen[u]++)
				GT_FAIL("two completions for %llu", (unsigned long long)c[i].user_data);
			if (c[i].res != res)
				GT_FAIL("completion %llu: %lld, expected %lld", (unsigned long long)c[i].user_data,
					(long long)c[i].res, res);
			got++;
		}
	}
	if (got != n)
		GT_FAIL("%u completions, expected %u", got, n);
}

static void test_destroy_spam(unsigned int rounds, int check_close)
{
	int fd = gt_open();
	struct gt_ring r;

	GT_EQ(gt_ring_init(&r, fd, SYSRING_RING_MAX_ENTRIES, 0, 0), 0);
	fill(&r, 1);
	long slab0 = slab_kb();
	uint64_t t0 = gt_now_ns();
	destroy_spam(fd, &r, rounds);
	uint64_t t1 = gt_now_ns();
	long grown = slab_kb() - slab0;
	printf("     %u DESTROYs with the tail pushed a ring ahead each time: %.1f s, slab %+ld kB\n", rounds,
	       (t1 - t0) / 1e9, grown);
	/* ~32 bytes per entry kept would be rounds * 4096 * 32 */
	if (grown > 4096)
		GT_FAIL("kernel slab grew by %ld kB over %u DESTROYs", grown, rounds);
	/* exactly the entries queued before the first DESTROY, cancelled */
	drain_check(&r, 1, SYSRING_RING_MAX_ENTRIES, -ECANCELED);
	t0 = gt_now_ns();
	munmap(r.mem, r.s.mmap_size);
	close(fd);
	double secs = (gt_now_ns() - t0) / 1e9;
	if (check_close && secs > 2.0)
		GT_FAIL("closing the ring took %.1f s", secs);
}

/* Under a 32 MiB memory cgroup (cgroup2), in a child. */
static void test_memcg(unsigned int rounds)
{
	const char *cg = "/sys/fs/cgroup/sr-hostile";
	char path[128], buf[512];
	int ok = 1;

	mkdir("/sys/fs/cgroup", 0755);
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) &&
	    mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL)) {
		printf("     (no cgroup2: memory cgroup case skipped: %s)\n", strerror(errno));
		return;
	}
	int f = open("/sys/fs/cgroup/cgroup.subtree_control", O_WRONLY);
	if (f < 0 || write(f, "+memory", 7) != 7)
		ok = 0;
	if (f >= 0)
		close(f);
	if (!ok || (mkdir(cg, 0755) && errno != EEXIST)) {
		printf("     (no memory controller: memory cgroup case skipped)\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	f = open(path, O_WRONLY);
	GT_ASSERT(f >= 0);
	GT_EQ(write(f, "33554432", 8), 8);
	close(f);
	pid_t pid = fork();
	GT_ASSERT(pid >= 0);
	if (pid == 0) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		f = open(path, O_WRONLY);
		if (f < 0 || write(f, "0", 1) != 1)
			_exit(3);
		close(f);
		test_destroy_spam(rounds, 0);
		_exit(0);
	}
	int st;
	GT_EQ(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		GT_FAIL("the attacker in the memory cgroup ended with 0x%x", st);
	snprintf(path, sizeof(path), "%s/memory.events", cg);
	f = open(path, O_RDONLY);
	GT_ASSERT(f >= 0);
	ssize_t n = read(f, buf, sizeof(buf) - 1);
	close(f);
	GT_ASSERT(n > 0);
	buf[n] = 0;
	char *oom = strstr(buf, "oom_kill ");
	GT_ASSERT(oom);
	if (atol(oom + 9) != 0 || strstr(buf, "\noom 0") == NULL)
		GT_FAIL("memory cgroup events: %s", buf);
	rmdir(cg);
	printf("     in a 32 MiB memory cgroup: no OOM\n");
}

static void test_destroy_full_cq(void)
{
	/* cq as small as sq: fill it with results nobody reads, queue a
	 * second ring of entries, DESTROY; they come out as room is made */
	int fd = gt_open();
	struct gt_ring r;
	struct gt_worker w;
	enum { N = 256 };

	GT_EQ(gt_ring_init(&r, fd, N, N, 0), 0);
	gt_worker_start(&w, fd);
	fill(&r, 1);
	/* the worker runs them all; then the completion ring is full */
	for (int i = 0; i < 10000 && __atomic_load_n(&r.hdr->cq_tail, __ATOMIC_ACQUIRE) != N; i++)
		usleep(1000);
	GT_EQ(__atomic_load_n(&r.hdr->cq_tail, __ATOMIC_ACQUIRE), N);
	for (int i = 0; i < 10000 && __atomic_load_n(&r.hdr->sq_head, __ATOMIC_ACQUIRE) != N; i++)
		usleep(1000);
	/* the worker's ring is drained; now a second ring's worth, which the
	 * worker may start to take (its results overflow) */
	fill(&r, N + 1);
	usleep(20000);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
	pthread_join(w.th, NULL);
	GT_EQ(w.ret, 0);
	/* the first N are getppid results, then the others: each once,
	 * either run before DESTROY (getppid's result) or cancelled */
	static unsigned char seen[2 * N + 1];
	struct sysring_cqe c[64];
	unsigned int got = 0;
	for (int idle = 0; idle < 3;) {
		unsigned int k = gt_ring_reap(&r, c, 64);
		if (!k) {
			gt_ring_wait(&r, 0, 0);
			idle++;
			continue;
		}
		idle = 0;
		for (unsigned int i = 0; i < k; i++) {
			uint64_t u = c[i].user_data;
			GT_ASSERT(u >= 1 && u <= 2 * N);
			GT_EQ(seen[u]++, 0);
			if (u <= N)
				GT_EQ(c[i].res, getppid());
			else
				GT_ASSERT(c[i].res == getppid() || c[i].res == -ECANCELED);
			got++;
		}
	}
	GT_EQ(got, 2 * N);
	munmap(r.mem, r.s.mmap_size);
	close(fd);
}

static void test_workers_overflow(void)
{
	/* Many workers each finish a call into a full completion ring: one
	 * result each is kept; all are delivered once the process reads. */
	int fd = gt_open();
	struct gt_ring r;
	enum { W = 24, N = 16 };
	struct gt_worker w[W];
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	GT_EQ(gt_ring_init(&r, fd, N, N, 0), 0);
	for (int i = 0; i < W; i++)
		gt_worker_start(&w[i], fd);
	/* N quick calls fill the completion ring; then W sleeping ones are
	 * taken by the workers at once and all finish into a full ring */
	for (int i = 0; i < N; i++)
		GT_EQ(gt_ring_submit(&r, 1 + i, SYS_getppid, 0, 0, 0, 0, 0, 0), 0);
	for (int i = 0; i < 10000 && __atomic_load_n(&r.hdr->cq_tail, __ATOMIC_ACQUIRE) != N; i++)
		usleep(1000);
	unsigned int sent = N;
	for (int i = 0; i < 3 * N; i++)
		if (gt_ring_submit(&r, 1 + sent, SYS_nanosleep, (long)&ts, 0, 0, 0, 0, 0) == 0)
			sent++;
		else
			usleep(5000);
	usleep(400000);
	/* read everything: every call once */
	static unsigned char seen[1024];
	struct sysring_cqe c[64];
	unsigned int got = 0;
	uint64_t end = gt_now_ns() + 20ull * 1000000000;
	while (got < sent && gt_now_ns() < end) {
		unsigned int k = gt_ring_reap(&r, c, 64);
		for (unsigned int i = 0; i < k; i++) {
			GT_ASSERT(c[i].user_data >= 1 && c[i].user_data <= sent);
			GT_EQ(seen[c[i].user_data]++, 0);
			got++;
		}
		if (!k)
			gt_ring_wait(&r, 1, 100 * 1000 * 1000);
	}
	GT_EQ(got, sent);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
	for (int i = 0; i < W; i++) {
		pthread_join(w[i].th, NULL);
		GT_EQ(w[i].ret, 0);
	}
	munmap(r.mem, r.s.mmap_size);
	close(fd);
}

int main(void)
{
	unsigned int rounds = gt_rounds(300);
	const char *only = getenv("SYSRING_OVERFLOW_ONLY"); /* one case, to show it alone */

	setvbuf(stdout, NULL, _IONBF, 0); /* children fork with nothing buffered */
	close(gt_open());
	if (only && !strcmp(only, "memcg")) {
		test_memcg(rounds * 2);
		return 0;
	}
	test_destroy_spam(rounds, 1);
	GT_OK("DESTROY spam: one drain per ring, slab flat, close at once");
	test_memcg((unsigned int)(rounds * 2));
	GT_OK("DESTROY spam in a 32 MiB memory cgroup");
	test_destroy_full_cq();
	GT_OK("DESTROY with a full completion ring: every entry once, as room appears");
	test_workers_overflow();
	GT_OK("workers finishing into a full completion ring: nothing lost");
	printf("kmod_overflow: all passed\n");
	return 0;
}

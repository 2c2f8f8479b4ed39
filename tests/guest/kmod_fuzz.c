/* SPDX-License-Identifier: MIT */
/*
 * An ioctl fuzzer for sysring.ko: at least 100,000 random and hostile
 * ioctls (SYSRING_FUZZ_IOCTLS, default 120000; SYSRING_FUZZ_SEED to replay),
 * then checks that the kernel is alive and untainted by a warning or oops
 * (the harness also scans the kernel log).
 *
 * What is random: the command word (valid commands, valid magic with other
 * numbers, size/direction bits, random words), the argument (valid structs
 * with random fields, NULL, small integers, unmapped, read-only, kernel and
 * non-canonical addresses, pointers that straddle into an unmapped page,
 * the argument overlapping the buffers it describes), counts (small, at the
 * limit, huge), syslet atom graphs (random flags, next pointing to other
 * atoms, itself, atom + 1 or hostile memory, ret_ptr into the atoms
 * themselves), and a shared ring abused from both sides (random SETUP
 * sizes, mmap lengths, garbage in the header, WAKE/WAIT/DESTROY while two
 * worker threads sit in WORKER, closing and reopening the device).
 *
 * What is not random: which system calls the module is asked to run. As
 * root, a random call with random arguments could kill init or reboot the
 * guest; that is a syscall fuzzer's job (trinity), not this one's. Calls are
 * drawn from a safe list (plus refused and nonexistent numbers), and every
 * argument that the kernel writes through is either a hostile address or a
 * scratch buffer with room for the length given, so the calls cannot
 * corrupt the fuzzer itself. A 2 ms interval timer (a handler without
 * SA_RESTART) interrupts anything that blocks: pause, nanosleep, WAIT
 * forever, WORKER, endless syslets.
 */
#include "gt_ring.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>

static uint64_t rng_state;
static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}
static unsigned int rn(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

#define SCRATCH (256 * 1024)
static char *scratch;    /* writable; "valid" pointers land in its first half */
static char *ro_page;    /* read-only */
static char *hole;       /* unmapped page, right after `edge` */
static char *edge;       /* the last writable page before the hole */
static int devnull, devzero, sfd;

static unsigned long n_ioctl, n_cmd[9], n_ret_ok, n_ret_err;

static unsigned long hostile_ptr(void)
{
	static const unsigned long fixed[] = {
		0,
		1,
		8,
		4095,
		0xffffffff81000000ul, /* kernel text */
		0xffff888000000000ul, /* direct map */
		0xffffc90000000000ul, /* vmalloc */
		(unsigned long)-1,
		(unsigned long)-4096,
		0x0000800000000000ul, /* first non-canonical */
		0x00007ffffffff000ul, /* top of user space */
		0xdead000000000000ul,
	};
	switch (rn(6)) {
	case 0:
		return fixed[rn(sizeof(fixed) / sizeof(fixed[0]))];
	case 1:
		return (unsigned long)hole + rn(4096);
	case 2:
		return (unsigned long)edge + 4096 - rn(64); /* straddles into the hole */
	case 3:
		return (unsigned long)ro_page + rn(4096);
	case 4:
		return rnd();
	default:
		return (unsigned long)rnd() & 0x00007ffffffffff8ul;
	}
}

/* A pointer the kernel may write up to 4096 bytes through. */
static unsigned long valid_ptr(void)
{
	return (unsigned long)scratch + rn(SCRATCH / 2);
}

static unsigned long any_ptr(void)
{
	return rn(2) ? valid_ptr() : hostile_ptr();
}

static unsigned long any_int(void)
{
	static const unsigned long v[] = { 0, 1, 2, 3, 16, 4096, 65536, 0x7fffffff, 0x80000000,
					   0xffffffff, (unsigned long)-1, (unsigned long)-4096 };
	return rn(3) ? v[rn(sizeof(v) / sizeof(v[0]))] : rnd();
}

/* A pointer and a length the kernel may write through together. */
static void ptr_len(__u64 *p, __u64 *len)
{
	if (rn(2)) {
		*p = valid_ptr();
		*len = rn(4097);
	} else {
		*p = hostile_ptr();
		*len = any_int();
	}
}

/* One call from the safe list (or refused / nonexistent), for batches and
 * ring entries: arguments by value. */
static void safe_call(uint32_t *nr, __u64 a[6])
{
	for (int i = 0; i < 6; i++)
		a[i] = any_int();
	switch (rn(18)) {
	case 0: *nr = SYS_getpid; break;
	case 1: *nr = SYS_getppid; break;
	case 2: *nr = SYS_gettid; break;
	case 3: *nr = SYS_sched_yield; break;
	case 4: *nr = SYS_uname; a[0] = any_ptr(); break;
	case 5: *nr = SYS_sysinfo; a[0] = any_ptr(); break;
	case 6: *nr = SYS_clock_gettime; a[0] = rn(12); a[1] = any_ptr(); break;
	case 7: *nr = SYS_getrusage; a[0] = rn(3) - 1; a[1] = any_ptr(); break;
	case 8:
		*nr = SYS_read;
		a[0] = rn(2) ? (uint64_t)devzero : any_int() | 0x100000;
		ptr_len(&a[1], &a[2]);
		break;
	case 9:
		*nr = SYS_write;
		a[0] = rn(2) ? (uint64_t)devnull : any_int() | 0x100000;
		a[1] = any_ptr();
		a[2] = any_int();
		break;
	case 10: *nr = SYS_getrandom; ptr_len(&a[0], &a[1]); a[2] = rn(8); break;
	case 11: *nr = SYS_getcwd; a[0] = any_ptr(); a[1] = rn(2) ? rn(4097) : any_int(); if (a[0] >= (uint64_t)scratch && a[0] < (uint64_t)scratch + SCRATCH && a[1] > 4096) a[1] = 4096; break;
	case 12: *nr = SYS_close; a[0] = rn(2) ? (uint64_t)-1 : 100000 + rn(1000); break;
	case 13: {
		/* a nanosleep of at most 1 ms, or a hostile timespec */
		struct timespec *ts = (struct timespec *)(scratch + SCRATCH - 64);
		ts->tv_sec = 0;
		ts->tv_nsec = rn(1000000);
		*nr = SYS_nanosleep;
		a[0] = rn(2) ? (uint64_t)ts : hostile_ptr();
		a[1] = rn(2) ? 0 : hostile_ptr();
		break;
	}
	case 14: *nr = SYS_pause; break;
	case 15: *nr = SYS_ioctl; a[0] = (uint64_t)sfd; a[1] = SYSRING_IOC_BATCH; a[2] = any_ptr(); break; /* nested */
	case 16: {
		/* refused everywhere (RF); thread-scoped calls (TS) would run
		 * on the caller in batches, with random arguments: not here
		 * (kmod_thread tests them) */
		static const uint32_t rf[] = { SYS_exit, SYS_exit_group, SYS_fork, SYS_vfork, SYS_clone,
					       SYS_execve, SYS_rt_sigreturn, SYS_rseq, SYS_unshare };
		*nr = rf[rn(sizeof(rf) / sizeof(rf[0]))];
		break;
	}
	default:
		*nr = rn(2) ? 451 + rn(100) : (uint32_t)rnd() | 0x1000;
		break;
	}
}

static volatile sig_atomic_t ticks;
static void on_tick(int s)
{
	(void)s;
	ticks++;
}

static long do_ioctl(int fd, unsigned long cmd, unsigned long arg)
{
	long r = gt_ioctl(fd, cmd, arg);
	n_ioctl++;
	if (r >= 0)
		n_ret_ok++;
	else
		n_ret_err++;
	return r;
}

/* ---- the argument generators ---- */

static unsigned long random_cmd(void)
{
	static const unsigned long cmds[] = { SYSRING_IOC_INFO, SYSRING_IOC_BATCH, SYSRING_IOC_SYSLET,
					      SYSRING_IOC_SETUP, SYSRING_IOC_WORKER, SYSRING_IOC_WAIT,
					      SYSRING_IOC_WAKE,	 SYSRING_IOC_DESTROY };
	switch (rn(4)) {
	case 0:
		return _IOC(rn(4), SYSRING_IOC_MAGIC, rn(256), rn(1 << 14)); /* our magic, anything */
	case 1:
		return (unsigned long)rnd();
	default: {
		unsigned long c = cmds[rn(8)];
		if (rn(8) == 0) /* other size bits: the module ignores them */
			c = (c & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
			    ((unsigned long)rn(1 << 14) << _IOC_SIZESHIFT);
		return c;
	}
	}
}

static uint32_t random_size(uint32_t good)
{
	switch (rn(8)) {
	case 0: return rn(good + 1);
	case 1: return good + 8 * rn(8);
	case 2: return (uint32_t)rnd();
	default: return good;
	}
}

static struct sysring_call *calls; /* 2 * SYSRING_MAX_BATCH entries */

static unsigned long fuzz_batch_arg(void)
{
	unsigned int count;
	switch (rn(6)) {
	case 0: count = SYSRING_MAX_BATCH - rn(2) + rn(2); break;
	case 1: count = (uint32_t)rnd(); break;
	default: count = rn(9); break;
	}
	unsigned int fill = count < 2 * SYSRING_MAX_BATCH ? count : 8;
	for (unsigned int i = 0; i < fill && i < 64; i++) {
		safe_call(&calls[i].nr, calls[i].args);
		calls[i].flags = rn(32) ? 0 : (uint32_t)rnd();
	}
	for (unsigned int i = 64; i < fill; i++) {
		calls[i].nr = SYS_getppid;
		calls[i].flags = 0;
	}
	struct sysring_batch *b;
	uint64_t where;
	switch (rn(8)) {
	case 0: where = hostile_ptr(); break;
	case 1: where = (uint64_t)edge + 4096 - rn(3) * sizeof(struct sysring_call); break; /* straddles */
	case 2: where = (uint64_t)ro_page; break;
	default: where = (uint64_t)calls; break;
	}
	if (where == (uint64_t)edge + 4096 - 2 * sizeof(struct sysring_call) ||
	    where == (uint64_t)edge + 4096 - sizeof(struct sysring_call)) {
		struct sysring_call *e = (struct sysring_call *)where;
		size_t room = (uint64_t)edge + 4096 - where;
		for (size_t k = 0; k < room / sizeof(*e); k++)
			e[k] = gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0);
	}
	if (rn(10) == 0) {
		/* the argument struct overlaps the calls it describes */
		b = (struct sysring_batch *)&calls[rn(4)];
	} else {
		b = (struct sysring_batch *)(scratch + SCRATCH - 256);
	}
	memset(b, 0, sizeof(*b));
	b->size = random_size(sizeof(*b));
	b->flags = rn(4) ? rn(2) : (uint32_t)rnd();
	b->calls = where;
	b->count = count;
	if (rn(16) == 0)
		b->resv[rn(2)] = rnd();
	if (b == (struct sysring_batch *)&calls[0] && (b->size > 256 || b->size < sizeof(*b)))
		b->size = sizeof(*b);
	if (rn(16) == 0)
		return hostile_ptr();
	return (unsigned long)b;
}

/*
 * Atoms live in their own page. Argument cells: pcells always hold scratch
 * pointers (buffers the calls may write 4096 bytes into; umem_add counters)
 * and nothing ever writes a cell of that kind; icells hold integers and are
 * where results go (ret_ptr), so no result can turn into a pointer that a
 * later atom writes through.
 */
static struct syslet_uatom *atoms; /* 16 atoms */
static unsigned long *cells;       /* 32 pcells, 32 icells, 4 getcwd sizes */
#define PCELL() (&cells[rn(32)])
#define ICELL() (&cells[32 + rn(32)])

static unsigned long fuzz_syslet_arg(void)
{
	unsigned int n = 1 + rn(8);
	for (unsigned int i = 0; i < 32; i++) {
		cells[i] = valid_ptr();
		cells[32 + i] = any_int();
	}
	for (unsigned int i = 0; i < n; i++) {
		struct syslet_uatom *a = &atoms[i];
		static const unsigned long nrs[] = { SYS_getpid, SYS_getppid, SYS_gettid, SYS_sched_yield,
						     SYS_uname,	 SYS_sysinfo, SYS_clock_gettime,
						     SYS_getcwd, SYS_nanosleep, SYS_pause, SYS_exit_group,
						     SYS_fork,	 SYS_clone, 5000, 0xffffffffffful };
		memset(a, 0, sizeof(*a));
		a->flags = rn(4) ? rnd() & 0xff : rnd();
		a->nr = rn(3) ? (unsigned long)__NR_umem_add : nrs[rn(sizeof(nrs) / sizeof(nrs[0]))];
		switch (rn(6)) {
		case 0: a->ret_ptr = NULL; break;
		case 1: a->ret_ptr = (long *)hostile_ptr(); break;
		case 2: a->ret_ptr = (long *)&atoms[rn(n)].next; break; /* rewrites the graph */
		case 3: a->ret_ptr = (long *)&atoms[rn(n)].flags; break;
		default: a->ret_ptr = (long *)ICELL(); break;
		}
		switch (rn(6)) {
		case 0: a->next = NULL; break;
		case 1: a->next = (struct syslet_uatom *)hostile_ptr(); break;
		case 2: a->next = a; break;
		default: a->next = &atoms[rn(n)]; break;
		}
		/* argument 0 is a buffer or counter address, the others
		 * integers (getcwd's size is capped below) */
		unsigned int na = rn(7);
		for (unsigned int k = 0; k < na; k++) {
			if (rn(8) == 0)
				a->arg_ptr[k] = (unsigned long *)hostile_ptr();
			else
				a->arg_ptr[k] = k == 0 ? PCELL() : ICELL();
		}
		if (a->nr == SYS_clock_gettime && na >= 2 && rn(8))
			a->arg_ptr[1] = PCELL();
		if (a->nr == SYS_getcwd && na >= 2)
			a->arg_ptr[1] = &cells[64 + rn(4)]; /* sizes <= 4096 */
	}
	for (unsigned int i = 0; i < 4; i++)
		cells[64 + i] = rn(4097);
	struct sysring_syslet *s = (struct sysring_syslet *)(scratch + SCRATCH - 512);
	memset(s, 0, sizeof(*s));
	s->size = random_size(sizeof(*s));
	s->flags = rn(16) ? 0 : (uint32_t)rnd();
	switch (rn(8)) {
	case 0: s->atom = hostile_ptr(); break;
	case 1: s->atom = (uint64_t)edge + 4096 - rn(2) * sizeof(struct syslet_uatom) - 16; break;
	default: s->atom = (uint64_t)&atoms[rn(n)]; break;
	}
	switch (rn(4)) {
	case 0: s->max_atoms = 0; break; /* default: 2^20, the timer ends it */
	case 1: s->max_atoms = rnd(); break;
	default: s->max_atoms = rn(1000); break;
	}
	if (rn(16) == 0)
		s->resv[rn(2)] = rnd();
	if (rn(16) == 0)
		return hostile_ptr();
	return (unsigned long)s;
}

/* ---- the ring, abused from both sides ---- */

static int ring_fd = -1;
static struct gt_ring ring;
static int ring_mapped;
static volatile int stop_workers;

static void *ring_worker(void *p)
{
	(void)p;
	while (!stop_workers) {
		int fd = __atomic_load_n(&ring_fd, __ATOMIC_RELAXED);
		if (fd < 0 || gt_ioctl(fd, SYSRING_IOC_WORKER, 0) != -EINTR)
			usleep(200);
	}
	return NULL;
}

static unsigned long ring_calls; /* entries the module's workers ran */

static void ring_reset(void)
{
	if (ring_mapped) {
		ring_calls += ring.hdr->st_calls;
		munmap(ring.mem, ring.s.mmap_size);
	}
	ring_mapped = 0;
	if (ring_fd >= 0) {
		int old = ring_fd;
		__atomic_store_n(&ring_fd, -1, __ATOMIC_RELAXED);
		gt_ioctl(old, SYSRING_IOC_DESTROY, 0);
		close(old);
	}
	int fd = open(SYSRING_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	GT_ASSERT(fd >= 0);
	__atomic_store_n(&ring_fd, fd, __ATOMIC_RELAXED);
}

static void fuzz_ring(void)
{
	switch (rn(10)) {
	case 0: {
		if (rn(4) == 0)
			ring_reset();
		struct sysring_ring_setup *s = (struct sysring_ring_setup *)(scratch + SCRATCH - 1024);
		memset(s, 0, sizeof(*s));
		s->size = random_size(sizeof(*s));
		s->sq_entries = rn(3) ? 1u << rn(14) : (uint32_t)rnd();
		s->cq_entries = rn(2) ? 0 : (rn(2) ? 1u << rn(15) : (uint32_t)rnd());
		s->spin_us = rn(2) ? rn(200) : (uint32_t)rnd();
		if (rn(16) == 0)
			s->resv[rn(4)] = rnd();
		long r = do_ioctl(ring_fd, SYSRING_IOC_SETUP, rn(16) ? (unsigned long)s : hostile_ptr());
		n_cmd[3]++;
		if (r == 0 && !ring_mapped) {
			size_t len = rn(4) ? s->mmap_size : 4096 * (1 + rn(300));
			void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0);
			if (m != MAP_FAILED && len == s->mmap_size) {
				ring.fd = ring_fd;
				ring.s = *s;
				ring.mem = m;
				ring.hdr = m;
				ring.sqes = (struct sysring_sqe *)((char *)m + s->sqes_off);
				ring.cqes = (struct sysring_cqe *)((char *)m + s->cqes_off);
				ring.sq_tail = ring.cq_head = 0;
				ring_mapped = 1;
			} else if (m != MAP_FAILED) {
				munmap(m, len);
			}
		}
		break;
	}
	case 1:
	case 2:
	case 3:
		if (!ring_mapped && rn(2)) {
			/* a fresh, well-formed ring, so that workers have
			 * something to run most of the time */
			ring_reset();
			if (gt_ring_init(&ring, ring_fd, 1u << rn(7), 0, rn(2) ? 0 : rn(100)) == 0) {
				ring_mapped = 1;
				n_ret_ok++;
			} else {
				n_ret_err++;
			}
			n_ioctl++;
			n_cmd[3]++;
		}
		if (ring_mapped) {
			/* a few entries, sometimes with garbage around them */
			for (int k = rn(8); k > 0; k--) {
				uint32_t nr;
				__u64 a[6];
				safe_call(&nr, a);
				if (gt_ring_submit(&ring, rnd(), nr, (long)a[0], (long)a[1], (long)a[2],
						   (long)a[3], (long)a[4], (long)a[5]) == 0)
					n_ioctl += 0;
			}
			struct sysring_cqe cq[64];
			gt_ring_reap(&ring, cq, 64);
			switch (rn(24)) {
			case 0: ring.hdr->sq_tail = (uint32_t)rnd(); break; /* breaks the ring */
			case 1: ring.hdr->cq_head = (uint32_t)rnd(); break;
			case 2: ring.hdr->sq_head = (uint32_t)rnd(); ring.hdr->sq_flags = (uint32_t)rnd(); break;
			case 3: ring.hdr->cq_tail = (uint32_t)rnd(); break;
			default: break;
			}
		}
		break;
	case 4:
		n_cmd[6]++;
		do_ioctl(ring_fd, SYSRING_IOC_WAKE, rn(4) ? rn(2) : rnd());
		break;
	case 5: {
		struct sysring_ring_wait *w = (struct sysring_ring_wait *)(scratch + SCRATCH - 1536);
		memset(w, 0, sizeof(*w));
		w->size = random_size(sizeof(*w));
		w->min_complete = rn(2) ? rn(4) : (uint32_t)rnd();
		w->timeout_ns = rn(3) ? (int64_t)rn(3000000) : (rn(2) ? -1 : (int64_t)rnd());
		w->flags = rn(16) ? 0 : (uint32_t)rnd();
		n_cmd[5]++;
		do_ioctl(ring_fd, SYSRING_IOC_WAIT, rn(16) ? (unsigned long)w : hostile_ptr());
		break;
	}
	case 6:
		n_cmd[7]++;
		do_ioctl(ring_fd, SYSRING_IOC_DESTROY, rn(8) ? 0 : rnd());
		break;
	case 7:
		/* WORKER on this thread: the timer gets us out */
		n_cmd[4]++;
		do_ioctl(ring_fd, SYSRING_IOC_WORKER, rn(8) ? 0 : rnd());
		break;
	case 8:
		if (rn(8) == 0)
			ring_reset();
		break;
	default: {
		/* mmap with random lengths and offsets */
		size_t len = 4096 * (1 + rn(200));
		int prot = rn(4) ? PROT_READ | PROT_WRITE : PROT_READ | PROT_EXEC;
		void *m = mmap(NULL, len, prot, rn(4) ? MAP_SHARED : MAP_PRIVATE, ring_fd,
			       rn(4) ? 0 : 4096 * (off_t)rn(64));
		if (m != MAP_FAILED) {
			if (len >= 4096)
				(void)*(volatile char *)m;
			munmap(m, len);
		}
		break;
	}
	}
}

int main(void)
{
	const char *e = getenv("SYSRING_FUZZ_IOCTLS");
	unsigned long target = e ? strtoul(e, NULL, 0) : 120000;
	e = getenv("SYSRING_FUZZ_SEED");
	rng_state = e ? strtoull(e, NULL, 0) : (gt_now_ns() ^ (uint64_t)getpid() << 32);
	if (!rng_state)
		rng_state = 1;
	uint64_t seed = rng_state;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sfd = gt_open();
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	devzero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	GT_ASSERT(devnull >= 0 && devzero >= 0);

	scratch = mmap(NULL, SCRATCH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	edge = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	calls = mmap(NULL, 2 * SYSRING_MAX_BATCH * sizeof(*calls), PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	atoms = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cells = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	GT_ASSERT(scratch != MAP_FAILED && ro_page != MAP_FAILED && edge != MAP_FAILED &&
		  calls != MAP_FAILED && atoms != MAP_FAILED && cells != MAP_FAILED);
	hole = edge + 4096;
	GT_EQ(munmap(hole, 4096), 0);
	for (unsigned int i = 0; i < 2 * SYSRING_MAX_BATCH; i++)
		calls[i] = gt_call(SYS_getppid, 0, 0, 0, 0, 0, 0);

	/* SIGPIPE and friends must not end us; the timer interrupts */
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_tick };
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } };
	setitimer(ITIMER_REAL, &it, NULL);

	ring_reset();
	pthread_t w[2];
	for (int i = 0; i < 2; i++)
		GT_EQ(pthread_create(&w[i], NULL, ring_worker, NULL), 0);

	printf("fuzz: seed 0x%llx, %lu ioctls\n", (unsigned long long)seed, target);
	uint64_t t0 = gt_now_ns();
	for (unsigned long i = 0; n_ioctl < target; i++) {
		unsigned long cmd, arg;
		switch (rn(10)) {
		case 0:
		case 1:
		case 2:
			n_cmd[1]++;
			do_ioctl(sfd, SYSRING_IOC_BATCH, fuzz_batch_arg());
			break;
		case 3:
		case 4:
			n_cmd[2]++;
			do_ioctl(sfd, SYSRING_IOC_SYSLET, fuzz_syslet_arg());
			break;
		case 5:
		case 6:
			fuzz_ring();
			break;
		case 7: {
			struct sysring_info *inf = (struct sysring_info *)(scratch + SCRATCH - 2048);
			inf->size = random_size(sizeof(*inf));
			n_cmd[0]++;
			do_ioctl(sfd, SYSRING_IOC_INFO, rn(4) ? (unsigned long)inf : hostile_ptr());
			break;
		}
		default:
			/* anything at all, on the plain fd or the ring's */
			cmd = random_cmd();
			arg = rn(2) ? any_ptr() : any_int();
			if (_IOC_NR(cmd) == _IOC_NR(SYSRING_IOC_BATCH) && _IOC_TYPE(cmd) == SYSRING_IOC_MAGIC)
				arg = fuzz_batch_arg();
			else if (_IOC_NR(cmd) == _IOC_NR(SYSRING_IOC_SYSLET) &&
				 _IOC_TYPE(cmd) == SYSRING_IOC_MAGIC)
				arg = fuzz_syslet_arg();
			n_cmd[8]++;
			do_ioctl(rn(2) ? sfd : ring_fd, cmd, arg);
			break;
		}
		/* the interval timer's signal goes to the main thread; a worker
		 * running a pause from the ring needs its own */
		if (i % 64 == 0)
			for (int k = 0; k < 2; k++)
				pthread_kill(w[k], SIGALRM);
		if (i % 25000 == 24999)
			printf("fuzz: %lu iterations, %lu ioctls, %.1f s\n", i + 1, n_ioctl,
			       (double)(gt_now_ns() - t0) / 1e9);
	}
	uint64_t dt = gt_now_ns() - t0;

	stop_workers = 1;
	int last = ring_fd;
	__atomic_store_n(&ring_fd, -1, __ATOMIC_RELAXED);
	gt_ioctl(last, SYSRING_IOC_DESTROY, 0);
	for (int i = 0; i < 2; i++) {
		while (pthread_tryjoin_np(w[i], NULL) == EBUSY) {
			pthread_kill(w[i], SIGALRM);
			usleep(1000);
		}
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	if (ring_mapped) {
		ring_calls += ring.hdr->st_calls;
		munmap(ring.mem, ring.s.mmap_size);
	}
	close(last);

	printf("fuzz: %lu ioctls in %.1f s (emulated): info %lu batch %lu syslet %lu setup %lu worker %lu "
	       "wait %lu wake %lu destroy %lu random %lu; %lu ok, %lu errno; %d timer ticks\n",
	       n_ioctl, (double)dt / 1e9, n_cmd[0], n_cmd[1], n_cmd[2], n_cmd[3], n_cmd[4], n_cmd[5],
	       n_cmd[6], n_cmd[7], n_cmd[8], n_ret_ok, n_ret_err, (int)ticks);
	printf("fuzz: %lu ring entries executed by workers\n", ring_calls);

	/* the kernel is alive and the module works */
	struct sysring_call c[2] = { gt_call(SYS_getpid, 0, 0, 0, 0, 0, 0),
				     gt_call(SYS_uname, (long)scratch, 0, 0, 0, 0, 0) };
	GT_EQ(gt_batch(sfd, c, 2, 0), 2);
	GT_EQ(c[0].result, getpid());
	GT_EQ(c[1].result, 0);
	long cnt = -3, one = 1, cp = (long)&cnt;
	struct syslet_uatom a;
	gt_atom(&a, SYSLET_STOP_ON_ZERO, __NR_umem_add, NULL, &a, &cp, &one, NULL, NULL);
	GT_EQ(gt_syslet(sfd, &a, 0, NULL), 0);
	GT_EQ(cnt, 0);
	/* no warning, oops or die taint (only out-of-tree and unsigned) */
	FILE *tf = fopen("/proc/sys/kernel/tainted", "r");
	unsigned long taint = 0;
	GT_ASSERT(tf && fscanf(tf, "%lu", &taint) == 1);
	fclose(tf);
	if (taint & ~((1ul << 12) | (1ul << 13)))
		GT_FAIL("kernel tainted: %lu", taint);
	close(sfd);
	printf("kmod_fuzz: kernel alive, not tainted (%lu)\n", taint);
	return 0;
}

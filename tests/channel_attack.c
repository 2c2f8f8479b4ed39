/* SPDX-License-Identifier: MIT */
/*
 * Channels under the attacks of issue 13's review, one case per defect it
 * found (d1..d12). Each case runs in its own process with a watchdog.
 * `t_channel_attack CASE` runs one.
 *
 * Bounds: timing checks use the thread's CPU time where the library's own
 * cost is the question (the machine may be loaded: wall time would measure
 * the scheduler), and generous wall-time bounds where a wait is.
 */
#include <dirent.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "chan_util.h"

pid_t _Fork(void);

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

static __attribute__((unused)) double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static __attribute__((unused)) void *shared_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(p != MAP_FAILED);
	return p;
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

/* Descriptors of this process open on files in /dev/shm. */
static int shm_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;
	char path[300], tgt[300];
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		ssize_t k = readlink(path, tgt, sizeof(tgt) - 1);
		if (k > 0) {
			tgt[k] = 0;
			n += !strncmp(tgt, "/dev/shm/", 9);
		}
	}
	closedir(d);
	return n;
}

/* ---- d1: a fork while the library opens a descriptor ---- */
static volatile int d1_stop;

/* Every way the library opens a descriptor: creating a segment, opening
 * one, claiming a sender slot, registering. */
static void *d1_churn(void *arg)
{
	char other[128];
	struct sysring_msg m = msg_of(1);
	snprintf(other, sizeof(other), "%s-x", seg);
	for (uint64_t k = 0; !__atomic_load_n(&d1_stop, __ATOMIC_RELAXED); k++) {
		sysring_chan_t *c;
		if (k % 4 == 0) {
			sysring_chan_unlink(other);
			if (sysring_chan_open(other, 2, 4, &c) == 0)
				sysring_chan_close(c);
			continue;
		}
		if (sysring_chan_open(seg, 0, 0, &c))
			continue;
		(void)sysring_send(c, 1, &m);
		if (sysring_register(c, 1000 + k % 3) == 0)
			(void)sysring_unregister(c);
		sysring_chan_close(c);
	}
	sysring_chan_unlink(other);
	(void)arg;
	return NULL;
}

static sysring_chan_t *d1_h;
static int d1_opened;

static void *d1_opener(void *arg)
{
	(void)arg;
	if (sysring_chan_open(seg, 0, 0, &d1_h))
		d1_h = NULL;
	__atomic_store_n(&d1_opened, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void d1(void)
{
	struct sysring_msg m1 = msg_of(1);
	fresh("d1");
	sysring_chan_t *keep = xopen(8, 4), *rx = xopen(0, 0);
	T_EQ(sysring_register(rx, 1), 0);
	pthread_t th;
	pthread_create(&th, NULL, d1_churn, NULL);
	int rounds = (int)(300 * t_scale()) + 20, leaked = 0;
	for (int k = 0; k < rounds; k++) {
		pid_t p = fork();
		if (p == 0)
			_exit(shm_fds() ? 1 : 0);
		int st;
		waitpid(p, &st, 0);
		leaked += !WIFEXITED(st) || WEXITSTATUS(st);
	}
	__atomic_store_n(&d1_stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	printf("d1: %d forks while another thread opened, created, sent, registered: %d children had a "
	       "descriptor in /dev/shm\n",
	       rounds, leaked);
	T_EQ(leaked, 0);

	/* The consequence: a receiver that forks while its other thread opens
	 * the handle it registers with is dead to senders once it is killed,
	 * however long those children live. */
	int alive = 0, tries = (int)(30 * t_scale()) + 5;
	for (int k = 0; k < tries; k++) {
		struct cu_pipe ready;
		cu_pipe_init(&ready);
		uint64_t id = 5000 + (uint64_t)k;
		pid_t p = fork();
		if (p == 0) {
			pthread_t t;
			pthread_create(&t, NULL, d1_opener, NULL);
			/* fork children (each lives 1 s) while the handle opens */
			for (int n = 0; n < 50 && !__atomic_load_n(&d1_opened, __ATOMIC_ACQUIRE); n++)
				if (fork() == 0) {
					usleep(1000 * 1000);
					_exit(0);
				}
			pthread_join(t, NULL);
			if (!d1_h || sysring_register(d1_h, id))
				_exit(2);
			cu_signal(&ready);
			for (;;)
				pause();
		}
		T_ASSERT(cu_await(&ready, 5000));
		usleep(20 * 1000);
		cu_kill(p);
		int l = sysring_lookup(keep, id), s = sysring_send(keep, id, &m1);
		alive += l == 0 || s == 0;
		close(ready.fd[0]);
		close(ready.fd[1]);
	}
	printf("d1: %d receivers killed while children forked during their open lived on: %d still looked alive\n",
	       tries, alive);
	T_EQ(alive, 0);
	sysring_chan_close(keep);
	sysring_chan_close(rx);
	sysring_chan_unlink(seg);
}



/* ---- d2: a stopped sender thread costs only its own entries ---- */
#define D2_ENTRIES 8
static sysring_chan_t *d2_tx;

static void *d2_sender(void *arg)
{
	uint64_t k = (uint64_t)(uintptr_t)arg;
	struct sysring_msg m = msg_of(k);
	for (uint64_t n = 0;; n++)
		(void)sysring_send(d2_tx, 1 + (k + n) % D2_ENTRIES, &m);
	return NULL;
}

static void d2(void)
{
	fresh("d2");
	sysring_chan_t *rx[D2_ENTRIES];
	struct cu_raw raw;
	for (int k = 0; k < D2_ENTRIES; k++)
		rx[k] = xopen(D2_ENTRIES, 64);
	int rounds = (int)(12 * t_scale()) + 4, worst = 0;
	for (int round = 0; round < rounds; round++) {
		for (int k = 0; k < D2_ENTRIES; k++)
			T_EQ(sysring_register(rx[k], 1 + (uint64_t)k), 0);
		struct cu_pipe ready;
		cu_pipe_init(&ready);
		pid_t p = fork();
		if (p == 0) {
			pthread_t th[2];
			if (sysring_chan_open(seg, 0, 0, &d2_tx))
				_exit(2);
			for (uintptr_t k = 0; k < 2; k++)
				pthread_create(&th[k], NULL, d2_sender, (void *)k);
			cu_signal(&ready);
			for (;;)
				pause();
		}
		T_ASSERT(cu_await(&ready, 5000));
		/* let them run, with the receivers popping, then stop them */
		struct sysring_msg out[64];
		for (int j = 0; j < 20; j++) {
			for (int k = 0; k < D2_ENTRIES; k++)
				(void)sysring_pop_multiple(rx[k], out, 64);
			usleep(500);
		}
		kill(p, SIGSTOP);
		waitpid(p, NULL, WUNTRACED);
		/* two stopped threads: at most two entries may wait for them */
		for (int k = 0; k < D2_ENTRIES; k++)
			(void)sysring_unregister(rx[k]);
		T_ASSERT(cu_raw_open(&raw, seg) == 0);
		int held = 0;
		for (uint32_t i = 0; i < D2_ENTRIES; i++)
			held += __atomic_load_n(&cu_entry(&raw, i)->state, __ATOMIC_RELAXED) != CH_EMPTY;
		cu_raw_close(&raw);
		if (held > worst)
			worst = held;
		kill(p, SIGKILL);
		kill(p, SIGCONT);
		waitpid(p, NULL, 0);
		close(ready.fd[0]);
		close(ready.fd[1]);
	}
	printf("d2: %d rounds of two sender threads stopped: at most %d of %d entries held\n", rounds, worst,
	       D2_ENTRIES);
	T_ASSERT(worst <= 2);
	for (int k = 0; k < D2_ENTRIES; k++)
		sysring_chan_close(rx[k]);
	sysring_chan_unlink(seg);
}


/* ---- d3: every lock held by a peer: bounded calls, clear errors ---- */
static void d3(void)
{
	fresh("d3");
	sysring_chan_t *a = xopen(64, 8);
	T_EQ(sysring_register(a, 1), 0);
	char path[160];
	snprintf(path, sizeof(path), "/dev/shm%s", seg);
	struct cu_pipe ready;
	cu_pipe_init(&ready);
	pid_t p = fork();
	if (p == 0) { /* the peer: every sender slot and every entry */
		int fd = open(path, O_RDWR);
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = (off_t)CH_LK_ENTRY0,
				   .l_len = (off_t)(CH_LK_SENDER0 + CH_SENDERS - CH_LK_ENTRY0)};
		if (fd < 0)
			_exit(2);
		/* byte by byte: the entry of id 1 is ours already */
		for (uint64_t off = CH_LK_ENTRY0; off < CH_LK_SENDER0 + CH_SENDERS; off++) {
			fl.l_start = (off_t)off;
			fl.l_len = 1;
			(void)fcntl(fd, F_OFD_SETLK, &fl);
		}
		cu_signal(&ready);
		for (;;)
			pause();
	}
	T_ASSERT(cu_await(&ready, 10000));
	sysring_chan_t *s = xopen(0, 0), *b = xopen(0, 0);
	struct sysring_msg m = msg_of(1);
	uint64_t t0 = t_now_ns();
	int r = sysring_send(s, 1, &m);
	double ms = cu_ms_since(t0);
	printf("d3: send with every sender slot locked by a peer: %d in %.1f ms\n", r, ms);
	T_EQ(r, -ENOSPC);
	if (ms > 20) /* 1024 lock tries: a few ms on a loaded machine */
		T_FAIL("send took %.0f ms", ms);
	t0 = t_now_ns();
	r = sysring_register(b, 2);
	ms = cu_ms_since(t0);
	printf("d3: register with every entry locked by a peer: %d in %.1f ms\n", r, ms);
	T_EQ(r, -ENOSPC);
	if (ms > 700)
		T_FAIL("register took %.0f ms", ms);
	cu_kill(p);
	T_EQ(sysring_send(s, 1, &m), 0);
	T_EQ(sysring_register(b, 2), 0);
	sysring_chan_close(a);
	sysring_chan_close(b);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}

/* ---- d4: a peer zeroing rx_owner does not hide a receiver's death ---- */
static void d4(void)
{
	fresh("d4");
	sysring_chan_t *s = xopen(8, 8);
	struct sysring_msg m = msg_of(1);
	struct cu_raw raw;
	int rounds = (int)(20 * t_scale()) + 5, hidden = 0;
	for (int k = 0; k < rounds; k++) {
		uint64_t id = 10 + (uint64_t)k;
		pid_t p = spawn_receiver(id);
		/* the sender has seen it alive (and may cache that) */
		T_EQ(sysring_send(s, id, &m), 0);
		T_ASSERT(cu_raw_open(&raw, seg) == 0);
		int i = cu_find(&raw, id);
		T_ASSERT(i >= 0);
		/* a peer wipes the kernel's death notice, before or after */
		if (k % 2)
			__atomic_store_n(&cu_entry(&raw, (uint32_t)i)->rx_owner, 0, __ATOMIC_RELAXED);
		cu_kill(p);
		__atomic_store_n(&cu_entry(&raw, (uint32_t)i)->rx_owner, 0, __ATOMIC_RELAXED);
		cu_raw_close(&raw);
		usleep(5 * 1000); /* the documented bound is 1 ms */
		int r = sysring_send(s, id, &m);
		hidden += r != -ENOENT;
		struct sysring_chan_sqe sqe;
		r = sysring_get_sqe(s, id, &sqe);
		hidden += r != -ENOENT;
		if (r == 0)
			(void)sysring_sqe_release(s, &sqe);
	}
	printf("d4: %d receivers killed with rx_owner wiped: %d sends accepted\n", rounds, hidden);
	T_EQ(hidden, 0);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}


/* ---- d5: an id flip between a sender's lookup and its publish ---- */
static volatile int d5_stop;
static sysring_chan_t *d5_tx;
static uint64_t d5_sent[2], d5_notdelivered, d5_other;

static void *d5_sender(void *arg)
{
	(void)arg;
	for (uint64_t n = 0; !__atomic_load_n(&d5_stop, __ATOMIC_RELAXED); n++) {
		uint64_t id = 1 + n % 2;
		struct sysring_chan_sqe sqe;
		if (sysring_get_sqe(d5_tx, id, &sqe))
			continue;
		*sqe.msg = msg_of(id); /* the message says whom it is for */
		if (n % 7 == 0)
			sched_yield(); /* widen the window */
		int r = sysring_sqe_release(d5_tx, &sqe);
		if (r == 0)
			__atomic_fetch_add(&d5_sent[id - 1], 1, __ATOMIC_RELAXED);
		else if (r == -ENOENT || r == -ETIMEDOUT)
			__atomic_fetch_add(&d5_notdelivered, 1, __ATOMIC_RELAXED);
		else
			__atomic_fetch_add(&d5_other, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void d5(void)
{
	fresh("d5");
	/* one entry: every registration re-registers it, to id 1 or id 2 */
	sysring_chan_t *rx = xopen(1, 8);
	d5_tx = xopen(0, 0);
	pthread_t th[2];
	for (int k = 0; k < 2; k++)
		pthread_create(&th[k], NULL, d5_sender, NULL);
	uint64_t end = t_now_ns() + (uint64_t)(1.5e9 * t_scale()), misrouted = 0, got = 0, flips = 0;
	struct sysring_msg out[8];
	for (uint64_t n = 0; t_now_ns() < end; n++) {
		uint64_t id = 1 + n % 2;
		if (sysring_register(rx, id))
			continue;
		flips++;
		for (int j = 0; j < 20; j++) {
			int k = sysring_pop_multiple(rx, out, 8);
			for (int q = 0; q < k; q++) {
				got++;
				misrouted += out[q].sender != id;
			}
		}
		(void)sysring_unregister(rx);
	}
	__atomic_store_n(&d5_stop, 1, __ATOMIC_RELAXED);
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	printf("d5: %llu re-registrations, %llu messages popped, %llu told not delivered, %llu misrouted, %llu other "
	       "errors\n",
	       (unsigned long long)flips, (unsigned long long)got, (unsigned long long)d5_notdelivered,
	       (unsigned long long)misrouted, (unsigned long long)d5_other);
	T_EQ(misrouted, 0);
	T_EQ(d5_other, 0);
	T_ASSERT(flips >= 2); /* each unregister may wait 100 ms for a live reservation */
	sysring_chan_close(rx);
	sysring_chan_close(d5_tx);
	sysring_chan_unlink(seg);
}

/* ---- d6: a failed open leaves nothing behind ---- */
static int d6_exists(void)
{
	char path[160];
	snprintf(path, sizeof(path), "/dev/shm%s", seg);
	return access(path, F_OK) == 0;
}

static void d6_modes(void)
{
	/* Modes that are not permission bits, or that do not let the creator
	 * read and write its own segment: -EINVAL, nothing created. */
	static const unsigned bad[] = {0, 0400, 0200, 0444, 04600, 02600, 01600, 07777, 010000, 0xffffffffu};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		sysring_chan_t *c = (sysring_chan_t *)1;
		int r = sysring_chan_open_mode(seg, 2, 4, bad[k], &c);
		if (r != -EINVAL || d6_exists() || c != NULL)
			T_FAIL("mode %o: %d, segment %s", bad[k], r, d6_exists() ? "left behind" : "absent");
	}
	/* A bad geometry with a valid mode: nothing either. */
	sysring_chan_t *c;
	T_EQ(sysring_chan_open_mode(seg, 2, 3, 0600, &c), -EINVAL);
	T_ASSERT(!d6_exists());
	/* A umask that takes the owner's own access away: the open fails
	 * (the creator cannot map it) and leaves nothing. */
	mode_t old = umask(0277);
	int r = sysring_chan_open_mode(seg, 2, 4, 0600, &c);
	umask(old);
	if (r == 0) {
		/* root may reopen a 0400 file: then it must be a working segment */
		T_EQ(sysring_register(c, 1), 0);
		sysring_chan_close(c);
		sysring_chan_unlink(seg);
	} else {
		T_ASSERT(!d6_exists());
	}
	/* And the good modes work, with those bits. */
	T_EQ(sysring_chan_open_mode(seg, 2, 4, 0660, &c), 0);
	struct stat st;
	char path[160];
	snprintf(path, sizeof(path), "/dev/shm%s", seg);
	T_EQ(stat(path, &st), 0);
	T_EQ(st.st_mode & 0777, 0660 & ~(unsigned)old);
	sysring_chan_close(c);
	sysring_chan_unlink(seg);
}

static void d6(void)
{
	fresh("d6");
	d6_modes();
	/* The same as an unprivileged user (root bypasses the permission
	 * checks that make a bad mode fail late). */
	pid_t p = fork();
	if (p == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(0); /* not root: this process ran the case above unprivileged */
		fresh("d6u");
		d6_modes();
		_exit(0);
	}
	T_ASSERT(cu_wait_ok(p));
}

/* ---- d11: pop_multiple honours the caller's count ---- */
static void d11(void)
{
	fresh("d11");
	const unsigned cap = 4096;
	sysring_chan_t *a = xopen(2, cap), *s = xopen(0, 0);
	T_EQ(sysring_register(a, 1), 0);
	struct sysring_msg *out = calloc(cap, sizeof(*out));
	T_ASSERT(out);
	long counts[] = {1000, 257, 4096, -1};
	uint64_t next = 0, seen = 0;
	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		long want = counts[k] < 0 ? (long)cap : counts[k];
		for (long j = 0; j < want; j++) {
			struct sysring_msg m = msg_of(next++);
			T_EQ(sysring_send(s, 1, &m), 0);
		}
		int n = sysring_pop_multiple(a, out, counts[k]);
		if (n != want)
			T_FAIL("pop_multiple(%ld) with %ld queued: %d", counts[k], want, n);
		for (int j = 0; j < n; j++, seen++)
			T_EQ(out[j].sender, seen);
		struct timespec zero = {0, 0};
		/* recv too */
		for (long j = 0; j < want; j++) {
			struct sysring_msg m = msg_of(next++);
			T_EQ(sysring_send(s, 1, &m), 0);
		}
		n = sysring_recv(a, out, counts[k], &zero);
		if (n != want)
			T_FAIL("recv(%ld) with %ld queued: %d", counts[k], want, n);
		for (int j = 0; j < n; j++, seen++)
			T_EQ(out[j].sender, seen);
		T_EQ(sysring_pop(a, out), -EAGAIN);
	}
	free(out);
	sysring_chan_close(a);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}


/* ---- d7: a receiver that forks and is killed at once is dead at once ---- */
static void d7(void)
{
	fresh("d7");
	sysring_chan_t *keep = xopen(8, 4);
	struct sysring_msg m = msg_of(1);
	int rounds = (int)(60 * t_scale()) + 10, alive = 0;
	for (int k = 0; k < rounds; k++) {
		struct cu_pipe ready;
		cu_pipe_init(&ready);
		uint64_t id = 100 + (uint64_t)k;
		pid_t p = fork();
		if (p == 0) {
			sysring_chan_t *c;
			if (sysring_chan_open(seg, 0, 0, &c) || sysring_register(c, id))
				_exit(2);
			/* a child that outlives us, forked just before we are killed */
			if (fork() == 0) {
				usleep(500 * 1000);
				_exit(0);
			}
			cu_signal(&ready);
			for (;;)
				pause();
		}
		T_ASSERT(cu_await(&ready, 5000));
		cu_kill(p);
		int l = sysring_lookup(keep, id), s = sysring_send(keep, id, &m);
		alive += l == 0 || s == 0;
		close(ready.fd[0]);
		close(ready.fd[1]);
	}
	printf("d7: %d receivers killed right after forking: %d looked alive\n", rounds, alive);
	T_EQ(alive, 0);
	sysring_chan_close(keep);
	sysring_chan_unlink(seg);
}

/* ---- d8: _Fork children (no atfork handler) ---- */
static void d8(void)
{
#if defined(__SANITIZE_THREAD__)
	/* ThreadSanitizer intercepts fork, not _Fork: in a _Fork child it
	 * still believes the parent's threads (our keeper) run, and reports
	 * the child's own writes as races with them. d1 and d7 cover fork. */
	printf("d8: not run under ThreadSanitizer (it does not know _Fork)\n");
	return;
#endif
	fresh("d8");
	sysring_chan_t *a = xopen(8, 8), *s = xopen(0, 0);
	struct sysring_msg m = msg_of(5), out[8];
	struct sysring_chan_sqe sqe;
	T_EQ(sysring_register(a, 1), 0);
	T_EQ(sysring_send(s, 1, &m), 0); /* s has a sender slot */
	pid_t p = _Fork();
	if (p == 0) {
		int bad = 0;
		/* the parent's handles: unusable, and closing them leaves the
		 * parent's registration and sender slot alone */
		bad |= (sysring_get_sqe(s, 1, &sqe) != -EINVAL) << 0;
		bad |= (sysring_send(s, 1, &m) != -EINVAL) << 1;
		bad |= (sysring_pop(a, out) != -EINVAL) << 2;
		bad |= (sysring_unregister(a) != -EINVAL) << 3;
		bad |= (sysring_register(a, 7) != -EINVAL) << 4;
		sysring_chan_close(a);
		sysring_chan_close(s);
		/* a handle of its own works */
		sysring_chan_t *c;
		struct sysring_msg mc = msg_of(6);
		if (sysring_chan_open(seg, 0, 0, &c) || sysring_register(c, 2) || sysring_send(c, 1, &mc))
			bad |= 1 << 5;
		sysring_chan_close(c);
		_exit(bad);
	}
	int st;
	waitpid(p, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		T_FAIL("_Fork child: %s %d", WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	T_EQ(sysring_pop_multiple(a, out, 8), 2);
	T_EQ(out[0].sender, 5);
	T_EQ(out[1].sender, 6);
	T_EQ(sysring_send(s, 1, &m), 0);
	T_EQ(sysring_pop(a, out), 0);

	/* A receiver whose _Fork child outlives it is dead when killed. */
	int rounds = (int)(30 * t_scale()) + 5, alive = 0;
	for (int k = 0; k < rounds; k++) {
		struct cu_pipe ready;
		cu_pipe_init(&ready);
		uint64_t id = 100 + (uint64_t)k;
		pid_t r = fork();
		if (r == 0) {
			sysring_chan_t *c;
			if (sysring_chan_open(seg, 0, 0, &c) || sysring_register(c, id))
				_exit(2);
			if (_Fork() == 0) {
				usleep(500 * 1000);
				_exit(0);
			}
			cu_signal(&ready);
			for (;;)
				pause();
		}
		T_ASSERT(cu_await(&ready, 5000));
		usleep(20 * 1000);
		cu_kill(r);
		alive += sysring_lookup(s, id) == 0 || sysring_send(s, id, &m) == 0;
		close(ready.fd[0]);
		close(ready.fd[1]);
	}
	printf("d8: %d receivers killed with a _Fork child alive: %d looked alive\n", rounds, alive);
	T_EQ(alive, 0);
	sysring_chan_close(a);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}


/* ---- d10: a signal during recv's poll or wait: -EINTR, or restart ---- */
static int d10_hits;
static void d10_handler(int sig)
{
	(void)sig;
	__atomic_fetch_add(&d10_hits, 1, __ATOMIC_RELAXED);
}

struct d10_arg {
	pthread_t target;
	int delay_us, stop;
};

static void *d10_signaller(void *p)
{
	struct d10_arg *a = p;
	usleep((useconds_t)(a->delay_us < 0 ? -a->delay_us : a->delay_us));
	if (a->delay_us < 0) { /* one signal only: it must not go unnoticed */
		pthread_kill(a->target, SIGUSR2);
		return NULL;
	}
	while (!__atomic_load_n(&a->stop, __ATOMIC_RELAXED)) {
		pthread_kill(a->target, SIGUSR2);
		usleep(20 * 1000);
	}
	return NULL;
}

/* recv with `spin_ns` of polling, SIGUSR2 every 20 ms from `delay_us` on
 * (delay_us < 0: one signal, after -delay_us): recv's result, and how long
 * it took. */
static int d10_recv(sysring_chan_t *a, uint32_t spin_ns, int delay_us, int timeout_ms, double *ms)
{
	struct sysring_msg out[4];
	struct d10_arg arg = {pthread_self(), delay_us, 0};
	struct timespec to = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
	pthread_t th;
	T_EQ(sysring_chan_set_spin(a, spin_ns), 0);
	__atomic_store_n(&d10_hits, 0, __ATOMIC_RELAXED);
	pthread_create(&th, NULL, d10_signaller, &arg);
	uint64_t t0 = t_now_ns();
	int r = sysring_recv(a, out, 4, &to);
	*ms = cu_ms_since(t0);
	__atomic_store_n(&arg.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	return r;
}

static void d10(void)
{
	fresh("d10");
	sysring_chan_t *a = xopen(2, 4);
	T_EQ(sysring_register(a, 1), 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = d10_handler;
	double ms;
	int rounds = (int)(10 * t_scale()) + 3;
	for (int k = 0; k < rounds; k++) {
		/* no SA_RESTART: -EINTR, whether the signal lands while recv
		 * polls (10 ms of polling, signal after 1 ms) or sleeps */
		sa.sa_flags = 0;
		sigaction(SIGUSR2, &sa, NULL);
		int r = d10_recv(a, 10 * 1000 * 1000, -1000, 500, &ms);
		if (r != -EINTR)
			T_FAIL("signal while polling, no SA_RESTART: %d after %.0f ms (%d handled)", r, ms, d10_hits);
		r = d10_recv(a, 0, 30 * 1000, 2000, &ms);
		if (r != -EINTR)
			T_FAIL("signal while sleeping, no SA_RESTART: %d after %.0f ms", r, ms);
		/* SA_RESTART: the wait goes on to its timeout */
		sa.sa_flags = SA_RESTART;
		sigaction(SIGUSR2, &sa, NULL);
		r = d10_recv(a, 10 * 1000 * 1000, -1000, 150, &ms);
		if (r != -ETIMEDOUT || d10_hits < 1)
			T_FAIL("SA_RESTART while polling: %d after %.0f ms (%d handled)", r, ms, d10_hits);
		r = d10_recv(a, 0, 30 * 1000, 150, &ms);
		if (r != -ETIMEDOUT || d10_hits < 1)
			T_FAIL("SA_RESTART while sleeping: %d after %.0f ms (%d handled)", r, ms, d10_hits);
	}
	/* get_sqe_wait the same */
	sysring_chan_t *s = xopen(0, 0);
	struct sysring_msg m = msg_of(1);
	struct sysring_chan_sqe sqe;
	for (int i = 0; i < 4; i++)
		T_EQ(sysring_send(s, 1, &m), 0);
	struct d10_arg arg = {pthread_self(), 30 * 1000, 0};
	pthread_t th;
	struct timespec to = {0, 150 * 1000 * 1000};
	pthread_create(&th, NULL, d10_signaller, &arg);
	T_EQ(sysring_get_sqe_wait(s, 1, &sqe, &to), -ETIMEDOUT); /* SA_RESTART still set */
	sa.sa_flags = 0;
	sigaction(SIGUSR2, &sa, NULL);
	T_EQ(sysring_get_sqe_wait(s, 1, &sqe, &to), -EINTR);
	__atomic_store_n(&arg.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	sysring_chan_close(a);
	sysring_chan_close(s);
	sysring_chan_unlink(seg);
}

static const struct cu_case cases[] = {
	{"d1", d1},
	{"d2", d2},
	{"d3", d3},
	{"d4", d4},
	{"d5", d5},
	{"d6", d6},
	{"d7", d7},
	{"d8", d8},
	{"d10", d10},
	{"d11", d11},
};

int main(int argc, char **argv)
{
	return cu_run_cases(cases, sizeof(cases) / sizeof(cases[0]), argc, argv, 90);
}

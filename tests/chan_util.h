/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the channel tests: segment names, a peer's raw view of a
 * segment (to play the hostile writer, aimed with the layout of
 * src/face/channel_layout.h), child processes, and timing of calls.
 */
#ifndef SYSRING_TEST_CHAN_UTIL_H
#define SYSRING_TEST_CHAN_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "t.h"

#include <sysring/channel.h>

#include "face/channel_layout.h"

/* A segment name unique to this process and tag. */
static inline void cu_name(char *out, size_t n, const char *tag)
{
	snprintf(out, n, "/sysring-t-%s-%d", tag, (int)getpid());
}

/* A raw shared mapping of the segment's file, as a peer that does not use
 * the library has it. */
struct cu_raw {
	unsigned char *p;
	size_t len;
	int fd;
	struct ch_seg g; /* the geometry as created */
};

static inline int cu_raw_open(struct cu_raw *r, const char *name)
{
	char path[256];
	struct stat st;
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	r->fd = open(path, O_RDWR | O_CLOEXEC);
	if (r->fd < 0 || fstat(r->fd, &st))
		return -1;
	r->len = (size_t)st.st_size;
	r->p = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->p == MAP_FAILED)
		return -1;
	memcpy(&r->g, r->p, sizeof(r->g));
	return 0;
}

static inline void cu_raw_close(struct cu_raw *r)
{
	munmap(r->p, r->len);
	close(r->fd);
}

static inline struct ch_entry *cu_entry(struct cu_raw *r, uint32_t i)
{
	return (struct ch_entry *)(r->p + r->g.entries_off + (size_t)i * r->g.entry_stride);
}

static inline struct sr_ring_hdr *cu_ring(struct cu_raw *r, uint32_t i)
{
	return (struct sr_ring_hdr *)((unsigned char *)cu_entry(r, i) + CH_RING_OFF);
}

static inline struct sr_ring_slot *cu_slot(struct cu_raw *r, uint32_t i, uint64_t pos)
{
	uint32_t stride = (uint32_t)((sizeof(struct sr_ring_slot) + sizeof(struct ch_payload) + 7) & ~7u);
	return (struct sr_ring_slot *)((unsigned char *)cu_ring(r, i) + sizeof(struct sr_ring_hdr) +
				       (size_t)(pos & (r->g.capacity - 1)) * stride);
}

static inline struct ch_sender *cu_sender(struct cu_raw *r, uint32_t s)
{
	return (struct ch_sender *)(r->p + r->g.senders_off + (size_t)s * sizeof(struct ch_sender));
}

/* The entry a live receiver of `id` holds, or -1. */
static inline int cu_find(struct cu_raw *r, uint64_t id)
{
	for (uint32_t i = 0; i < r->g.nentries; i++) {
		struct ch_entry *e = cu_entry(r, i);
		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == CH_READY &&
		    __atomic_load_n(&e->id, __ATOMIC_RELAXED) == id)
			return (int)i;
	}
	return -1;
}

/* Wait for a child; 1 if it exited 0. */
static inline int cu_wait_ok(pid_t p)
{
	int st;
	if (waitpid(p, &st, 0) != p)
		return 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "child %d: %s %d\n", (int)p, WIFEXITED(st) ? "exit" : "signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return 0;
	}
	return 1;
}

static inline void cu_kill(pid_t p)
{
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

/* A one-byte handshake between processes. */
struct cu_pipe {
	int fd[2];
};

static inline void cu_pipe_init(struct cu_pipe *p)
{
	if (pipe(p->fd))
		abort();
}

static inline void cu_signal(struct cu_pipe *p)
{
	if (write(p->fd[1], "x", 1) != 1)
		abort();
}

/* 1 if signalled within ms milliseconds. */
static inline int cu_await(struct cu_pipe *p, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	fd_set s;
	char ch;
	FD_ZERO(&s);
	FD_SET(p->fd[0], &s);
	if (select(p->fd[0] + 1, &s, NULL, NULL, &tv) != 1)
		return 0;
	return read(p->fd[0], &ch, 1) == 1;
}

static inline double cu_ms_since(uint64_t t0)
{
	return (double)(t_now_ns() - t0) / 1e6;
}

/* Is process p a zombie (dead, not reaped)? Its leader shows Z as soon as
 * it has exited itself, while its other threads may still be exiting: a
 * zombie is a Z with no thread left but the leader. */
static inline int cu_zombie(pid_t p)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *rp = strrchr(buf, ')');
	if (!rp || rp[1] != ' ' || rp[2] != 'Z')
		return 0;
	/* "... num_threads" is field 20: count the fields after the ')' */
	int field = 2;
	long threads = -1;
	for (char *q = rp + 1; *q; q++)
		if (*q == ' ' && ++field == 20)
			threads = strtol(q + 1, NULL, 10);
	return threads == 1;
}

static inline void cu_wait_zombie(pid_t p)
{
	for (int i = 0; i < 5000 && !cu_zombie(p); i++)
		usleep(1000);
}

/* A small xorshift generator. */
static inline uint64_t cu_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* One case of a channel test program, run in a child of its own. */
struct cu_case {
	const char *name;
	void (*fn)(void);
};

/*
 * Run every case (or the one named by argv[1]) in a forked child with a
 * watchdog of `watchdog_s` seconds, print "name: ok" or why it failed, and
 * unlink what a failed case left in /dev/shm (names end in -<child pid>,
 * cu_name). Returns main's status: 0, 1 if any case failed, 2 for an
 * unknown name.
 */
static inline int cu_run_cases(const struct cu_case *cases, size_t ncases, int argc, char **argv,
			       unsigned int watchdog_s)
{
	int failed = 0, ran = 0;

	for (size_t k = 0; k < ncases; k++) {
		if (argc > 1 && strcmp(argv[1], cases[k].name))
			continue;
		ran++;
		fflush(stdout);
		pid_t p = fork();
		if (p == 0) {
			t_watchdog(watchdog_s);
			cases[k].fn();
			fflush(stdout);
			_exit(0);
		}
		int st;
		waitpid(p, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("%s: ok\n", cases[k].name);
		} else {
			failed++;
			printf("%s: FAILED (%s %d)\n", cases[k].name, WIFEXITED(st) ? "exit" : "signal",
			       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		}
		char tail[32];
		snprintf(tail, sizeof(tail), "-%d", (int)p);
		DIR *d = opendir("/dev/shm");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			size_t n = strlen(de->d_name), m = strlen(tail);
			if (!strncmp(de->d_name, "sysring-t-", 10) && n > m && !strcmp(de->d_name + n - m, tail))
				sysring_chan_unlink(de->d_name);
		}
		if (d)
			closedir(d);
	}
	if (!ran) {
		fprintf(stderr, "no case named %s\n", argv[1]);
		return 2;
	}
	return failed ? 1 : 0;
}

#endif

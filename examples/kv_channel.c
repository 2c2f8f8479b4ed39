/* SPDX-License-Identifier: MIT */
/*
 * A key-value service between two processes over sysring channels, both
 * directions: the server registers id 1 and answers PUT/GET requests; the
 * client registers id 2 for its replies. The client starts the server as a
 * child process (fork + exec of itself), runs `requests` requests (PUT a
 * key, GET it back), checks every answer and prints the request rate.
 *
 *   kv_channel [-v] [requests]      (default 100000)
 *
 * Each side notices when the other dies (sysring_lookup asks the kernel
 * whether a receiver is still registered) and stops with an error instead
 * of waiting forever; the segment's name is removed as soon as both sides
 * have it open, so nothing is left in /dev/shm whoever is killed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sysring/channel.h>

enum { KV_PUT = 1, KV_GET = 2, KV_REPLY = 3, KV_QUIT = 4 };
enum { SERVER = 1, CLIENT = 2 };
#define NKEYS 4096
#define MAX_REQUESTS 1000000000L

/* How often a side waiting for the other checks that it is alive. */
static const struct timespec slice = {0, 100 * 1000 * 1000};

static void usage(FILE *f)
{
	fprintf(f, "usage: kv_channel [-v] [requests]\n"
		   "  Runs a key-value server in a child process and `requests` PUT/GET round trips\n"
		   "  (1..%ld, default 100000) against it over sysring channels.\n"
		   "  -v  print the server's pid and the segment's name on stderr\n",
		MAX_REQUESTS);
}

/* Wait for a message on c; every slice, check that `peer` is still there.
 * 1, or -errno (-EPIPE: the peer is gone). */
static int recv_from(sysring_chan_t *c, uint64_t peer, struct sysring_msg *m)
{
	for (;;) {
		int r = sysring_recv(c, m, 1, &slice);
		if (r != -ETIMEDOUT && r != -EINTR)
			return r;
		if (sysring_lookup(c, peer) == -ENOENT)
			return -EPIPE;
	}
}

/* Reserve a slot in `peer`'s queue, waiting while it is full. */
static int reserve_for(sysring_chan_t *c, uint64_t peer, struct sysring_chan_sqe *sqe)
{
	for (;;) {
		int r = sysring_get_sqe_wait(c, peer, sqe, &slice);
		if (r != -ETIMEDOUT && r != -EINTR)
			return r == -ENOENT ? -EPIPE : r;
	}
}

static int server(const char *seg)
{
	sysring_chan_t *c;
	static uint64_t keys[NKEYS], vals[NKEYS];
	static unsigned char used[NKEYS];
	struct sysring_msg m;
	int r;

	if ((r = sysring_chan_open(seg, 0, 0, &c)) || (r = sysring_register(c, SERVER))) {
		fprintf(stderr, "kv_channel server: %s: %s\n", seg, strerror(-r));
		return 2;
	}
	if (write(1, "R", 1) != 1) /* registered: tell the client */
		return 2;
	for (;;) {
		struct sysring_chan_sqe sqe;
		r = recv_from(c, CLIENT, &m);
		if (r == -EPIPE) {
			fprintf(stderr, "kv_channel server: the client is gone; stopping\n");
			sysring_chan_close(c);
			return 1;
		}
		if (r < 0) {
			fprintf(stderr, "kv_channel server: receive: %s\n", strerror(-r));
			return 3;
		}
		uint64_t k = m.payload[0];
		unsigned int h = (unsigned int)(k * 0x9e3779b97f4a7c15ull >> 52) % NKEYS;
		if (m.type == KV_QUIT) {
			sysring_chan_close(c);
			return 0;
		}
		while (used[h] && keys[h] != k)
			h = (h + 1) % NKEYS; /* open addressing; the client stays below NKEYS */
		if (m.type == KV_PUT) {
			used[h] = 1;
			keys[h] = k;
			vals[h] = m.payload[1];
		}
		/* reply into the sender's own queue */
		r = reserve_for(c, CLIENT, &sqe);
		if (r) {
			fprintf(stderr, "kv_channel server: %s\n",
				r == -EPIPE ? "the client is gone; stopping" : strerror(-r));
			sysring_chan_close(c);
			return 1;
		}
		sqe.msg->sender = SERVER;
		sqe.msg->type = KV_REPLY;
		sqe.msg->reply_type = m.type;
		sqe.msg->payload[0] = k;
		sqe.msg->payload[1] = used[h] ? vals[h] : 0;
		sqe.msg->payload[2] = used[h];
		sqe.msg->payload[3] = m.payload[3]; /* request tag */
		if (sysring_sqe_release(c, &sqe) == -ENOENT) {
			fprintf(stderr, "kv_channel server: the client is gone; stopping\n");
			sysring_chan_close(c);
			return 1;
		}
	}
}

/* One request and its reply: 0, 1 for a wrong reply, -errno. */
static int call(sysring_chan_t *c, uint32_t type, uint64_t k, uint64_t v, uint64_t tag, struct sysring_msg *rep)
{
	struct sysring_chan_sqe sqe;
	int r = reserve_for(c, SERVER, &sqe);
	if (r)
		return r;
	memset(sqe.msg, 0, sizeof(*sqe.msg));
	sqe.msg->sender = CLIENT;
	sqe.msg->type = type;
	sqe.msg->payload[0] = k;
	sqe.msg->payload[1] = v;
	sqe.msg->payload[3] = tag;
	r = sysring_sqe_release(c, &sqe);
	if (r)
		return r == -ENOENT ? -EPIPE : r;
	r = recv_from(c, SERVER, rep);
	if (r < 0)
		return r;
	return rep->payload[3] != tag;
}

int main(int argc, char **argv)
{
	char seg[64];
	int pf[2], verbose = 0, r;
	long n = 100000;
	struct sysring_msg rep;
	sysring_chan_t *c;

	if (argc == 3 && !strcmp(argv[1], "--server"))
		return server(argv[2]);
	int i = 1;
	if (i < argc && !strcmp(argv[i], "-v"))
		verbose = 1, i++;
	if (i < argc && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (i < argc) {
		char *end;
		errno = 0;
		n = strtol(argv[i], &end, 10);
		if (errno || end == argv[i] || *end || n < 1 || n > MAX_REQUESTS) {
			fprintf(stderr, "kv_channel: invalid request count '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (i < argc) {
		fprintf(stderr, "kv_channel: unexpected argument '%s'\n", argv[i]);
		usage(stderr);
		return 2;
	}
	snprintf(seg, sizeof(seg), "/sysring-kv-%d", (int)getpid());
	if ((r = sysring_chan_open(seg, 4, 256, &c)) || (r = sysring_register(c, CLIENT))) {
		fprintf(stderr, "kv_channel: channel %s: %s\n", seg, strerror(-r));
		sysring_chan_unlink(seg);
		return 1;
	}
	if (pipe(pf)) {
		perror("kv_channel: pipe");
		sysring_chan_unlink(seg);
		return 1;
	}
	pid_t p = fork();
	if (p == 0) {
		dup2(pf[1], 1);
		close(pf[0]);
		execl("/proc/self/exe", "kv_channel", "--server", seg, (char *)NULL);
		_exit(127);
	}
	close(pf[1]);
	char ch;
	ssize_t got = p > 0 ? read(pf[0], &ch, 1) : -1;
	/* Both sides have the segment open (or the server failed): the name
	 * can go, and nothing is left behind whoever dies. */
	sysring_chan_unlink(seg);
	if (got != 1) {
		fprintf(stderr, "kv_channel: the server did not start\n");
		if (p > 0)
			waitpid(p, NULL, 0);
		return 1;
	}
	if (verbose)
		fprintf(stderr, "kv_channel: server pid %d, segment %s\n", (int)p, seg);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long bad = 0;
	for (long k = 0; k < n; k++) {
		/* PUT a key, then GET it back: the value must be the one put */
		uint64_t key = (uint64_t)((k / 2) % 1000) + 1, v = key * 7 + (uint64_t)(k - k % 2);
		if (k % 2 == 0) {
			r = call(c, KV_PUT, key, v, (uint64_t)k, &rep);
		} else {
			r = call(c, KV_GET, key, 0, (uint64_t)k, &rep);
			if (r == 0 && (!rep.payload[2] || rep.payload[1] != v))
				r = 1;
		}
		if (r < 0) {
			fprintf(stderr, "kv_channel: %s after %ld requests\n",
				r == -EPIPE ? "the server died" : strerror(-r), k);
			sysring_chan_close(c);
			waitpid(p, NULL, 0);
			return 1;
		}
		bad += r;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct sysring_msg q = {.sender = CLIENT, .type = KV_QUIT};
	sysring_send(c, SERVER, &q);
	int st;
	waitpid(p, &st, 0);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%ld requests (PUT/GET) over channels, %ld wrong, %.0f requests/s, %.2f us per round trip; "
	       "server exit %d\n",
	       n, bad, (double)n / s, s * 1e6 / (double)n, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	sysring_chan_close(c);
	return bad || !WIFEXITED(st) || WEXITSTATUS(st);
}

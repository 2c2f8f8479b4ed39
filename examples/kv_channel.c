/* SPDX-License-Identifier: MIT */
/*
 * A key-value service between two processes over sysring channels, both
 * directions: the server registers id 1 and answers PUT/GET requests; the
 * client registers id 2 for its replies. Run without arguments it starts the
 * server as a child process (fork + exec of itself), runs the client,
 * checks every answer and prints the request rate.
 *
 *   kv_channel [requests]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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

static int server(const char *seg)
{
	sysring_chan_t *c;
	static uint64_t keys[NKEYS], vals[NKEYS];
	static unsigned char used[NKEYS];
	struct sysring_msg req[64];

	if (sysring_chan_open(seg, 0, 0, &c) || sysring_register(c, SERVER))
		return 2;
	if (write(1, "R", 1) != 1) /* registered: tell the parent */
		return 2;
	for (;;) {
		int n = sysring_recv(c, req, 64, NULL);
		if (n < 0)
			return 3;
		for (int i = 0; i < n; i++) {
			struct sysring_msg *m = &req[i];
			struct sysring_chan_sqe sqe;
			uint64_t k = m->payload[0];
			unsigned int h = (unsigned int)(k * 0x9e3779b97f4a7c15ull >> 52) % NKEYS;
			if (m->type == KV_QUIT) {
				sysring_chan_close(c);
				return 0;
			}
			while (used[h] && keys[h] != k)
				h = (h + 1) % NKEYS; /* open addressing; the client stays below NKEYS */
			if (m->type == KV_PUT) {
				used[h] = 1;
				keys[h] = k;
				vals[h] = m->payload[1];
			}
			/* reply into the sender's own queue */
			if (sysring_get_sqe_wait(c, m->sender, &sqe, NULL))
				return 4;
			sqe.msg->sender = SERVER;
			sqe.msg->type = KV_REPLY;
			sqe.msg->reply_type = m->type;
			sqe.msg->payload[0] = k;
			sqe.msg->payload[1] = used[h] ? vals[h] : 0;
			sqe.msg->payload[2] = used[h];
			sqe.msg->payload[3] = m->payload[3]; /* request tag */
			sysring_sqe_release(c, &sqe);
		}
	}
}

static int call(sysring_chan_t *c, uint32_t type, uint64_t k, uint64_t v, uint64_t tag, struct sysring_msg *rep)
{
	struct sysring_msg m = {.sender = CLIENT, .type = type, .payload = {k, v, 0, tag}};
	if (sysring_send(c, SERVER, &m))
		return -1;
	if (sysring_recv(c, rep, 1, NULL) != 1 || rep->payload[3] != tag)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char seg[64];
	int pf[2];
	long n = argc > 1 && strcmp(argv[1], "server") ? atol(argv[1]) : 100000;
	struct sysring_msg rep;
	sysring_chan_t *c;

	if (argc > 2 && !strcmp(argv[1], "server"))
		return server(argv[2]);
	snprintf(seg, sizeof(seg), "/sysring-kv-%d", getpid());
	if (sysring_chan_open(seg, 4, 256, &c) || sysring_register(c, CLIENT) || pipe(pf)) {
		fprintf(stderr, "channel setup failed\n");
		return 1;
	}
	pid_t p = fork();
	if (p == 0) {
		dup2(pf[1], 1);
		execl("/proc/self/exe", "kv_channel", "server", seg, (char *)NULL);
		_exit(127);
	}
	char ch;
	if (read(pf[0], &ch, 1) != 1) {
		fprintf(stderr, "server did not start\n");
		return 1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int bad = 0;
	for (long i = 0; i < n; i++) {
		/* PUT a key, then GET it back: the value must be the one put */
		uint64_t k = (uint64_t)((i / 2) % 1000) + 1, v = k * 7 + (uint64_t)(i - i % 2);
		if (i % 2 == 0) {
			if (call(c, KV_PUT, k, v, (uint64_t)i, &rep))
				bad++;
		} else if (call(c, KV_GET, k, 0, (uint64_t)i, &rep) || !rep.payload[2] || rep.payload[1] != v) {
			bad++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct sysring_msg q = {.sender = CLIENT, .type = KV_QUIT};
	sysring_send(c, SERVER, &q);
	int st;
	waitpid(p, &st, 0);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%ld requests (PUT/GET) over channels, %d wrong, %.0f requests/s, %.2f us per round trip; "
	       "server exit %d\n",
	       n, bad, (double)n / s, s * 1e6 / (double)n, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	sysring_chan_close(c);
	sysring_chan_unlink(seg);
	return bad || !WIFEXITED(st) || WEXITSTATUS(st);
}

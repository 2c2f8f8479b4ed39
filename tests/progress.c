/* SPDX-License-Identifier: MIT */
/*
 * The progress guarantee (docs/engines.md, "Executor threads"): calls in
 * flight whose completion depends only on each other always complete, up to
 * nr_events in flight, with the default configuration.
 *
 * N dependent pairs, the N waiting calls submitted first and the N calls
 * that satisfy them after (so a pool that stops growing before N + 1
 * threads runs only waiters and never reaches a satisfier):
 *   - pipes: N blocking reads of N pipes, then the N one-byte writes;
 *   - SysV message queue: N blocking msgrcv on one queue, then N msgsnd
 *     (calls io_uring cannot run: the threads run them under every engine);
 *   - the syslet face: the same message-queue pairs as one-atom syslets
 *     through async_exec on one registration.
 * N = 16 and N = 64, on a context of exactly 2N events (the guarantee's
 * bound). Each case compares with the plain calls' answers: every read
 * returns 1 with its pipe's byte, every message is received exactly once
 * with its text, every msgsnd returns 0. A case that does not finish within
 * its deadline fails (it would hang forever otherwise).
 *
 * Prints the executor threads each case started (sysring_stats).
 */
#include <pthread.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

#define DEADLINE_S 30

struct msg {
	long mtype;
	char text[8];
};

/* Collect `want` events within the deadline; fails with the count. */
static void collect(async_context_t ctx, struct async_event *ev, long want, const char *what)
{
	uint64_t end = t_now_ns() + DEADLINE_S * 1000000000ull;
	long got = 0;

	while (got < want) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		int n = async_getevents(ctx, 0, want - got, ev + got, &ts);
		if (n < 0)
			T_FAIL("%s: async_getevents: %s", what, strerror(errno));
		got += n;
		if (got < want && t_now_ns() > end)
			T_FAIL("%s: %ld of %ld events after %d s: calls that depend on each other "
			       "did not all complete",
			       what, got, want, DEADLINE_S);
	}
}

static void pipes(int n)
{
	async_context_t ctx;
	struct async_event *ev = calloc(2 * (size_t)n, sizeof(*ev));
	struct async_cb **rd = calloc((size_t)n, sizeof(*rd)), **wr = calloc((size_t)n, sizeof(*wr));
	int (*pf)[2] = calloc((size_t)n, sizeof(*pf));
	char *in = calloc((size_t)n, 1), out[64];
	char what[64];
	struct sysring_stats st;

	T_ASSERT(ev && rd && wr && pf && in);
	snprintf(what, sizeof(what), "%d pipe pairs", n);
	T_EQ(async_setup(2 * (unsigned long)n, &ctx), 0);
	for (int i = 0; i < n; i++) {
		T_EQ(pipe(pf[i]), 0);
		out[i] = (char)('A' + i % 26);
		rd[i] = async_cb_new(SYS_read, 3, (long)pf[i][0], (long)&in[i], 1L);
		wr[i] = async_cb_new(SYS_write, 3, (long)pf[i][1], (long)&out[i], 1L);
		T_ASSERT(rd[i] && wr[i]);
	}
	T_EQ(async_submit(ctx, n, rd), n);
	T_EQ(async_submit(ctx, n, wr), n);
	collect(ctx, ev, 2L * n, what);
	for (int i = 0; i < 2 * n; i++)
		T_EQ(ev[i].res, 1); /* the plain read and write of one byte */
	for (int i = 0; i < n; i++)
		T_EQ(in[i], out[i]);
	T_EQ(sysring_stats(ctx, &st), 0);
	printf("%s (%s, inline %s): %u executor threads\n", what, getenv("SYSRING_ENGINE") ?: "auto",
	       getenv("SYSRING_INLINE") ?: "1", st.threads);
	T_ASSERT(st.threads <= 2u * (unsigned)n); /* bounded by the calls in flight */
	T_EQ(async_destroy(ctx), 0);
	for (int i = 0; i < n; i++) {
		async_cb_free(rd[i]);
		async_cb_free(wr[i]);
		close(pf[i][0]);
		close(pf[i][1]);
	}
	free(ev);
	free(rd);
	free(wr);
	free(pf);
	free(in);
}

/* Every message 0..n-1 received exactly once, with its text. */
static void check_messages(struct msg *got, long *res, int n)
{
	char *seen = calloc((size_t)n, 1);
	T_ASSERT(seen);
	for (int i = 0; i < n; i++) {
		T_EQ(res[i], (long)sizeof(got[i].text));
		int k = atoi(got[i].text);
		T_ASSERT(k >= 0 && k < n && !seen[k]);
		seen[k] = 1;
		T_EQ(got[i].mtype, k + 1);
	}
	free(seen);
}

static void msgq(int n)
{
	async_context_t ctx;
	struct async_event *ev = calloc(2 * (size_t)n, sizeof(*ev));
	struct async_cb **rcv = calloc((size_t)n, sizeof(*rcv)), **snd = calloc((size_t)n, sizeof(*snd));
	struct msg *in = calloc((size_t)n, sizeof(*in)), *out = calloc((size_t)n, sizeof(*out));
	long *res = calloc((size_t)n, sizeof(*res));
	char what[64];
	struct sysring_stats st;
	int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);

	if (q < 0)
		T_SKIP("msgget: %s", strerror(errno));
	T_ASSERT(ev && rcv && snd && in && out && res);
	snprintf(what, sizeof(what), "%d message-queue pairs", n);
	T_EQ(async_setup(2 * (unsigned long)n, &ctx), 0);
	for (int i = 0; i < n; i++) {
		out[i].mtype = i + 1;
		snprintf(out[i].text, sizeof(out[i].text), "%u", (unsigned)i % 1000000u);
		rcv[i] = async_cb_new(SYS_msgrcv, 5, (long)q, (long)&in[i], (long)sizeof(in[i].text), 0L, 0L);
		snd[i] = async_cb_new(SYS_msgsnd, 4, (long)q, (long)&out[i], (long)sizeof(out[i].text), 0L);
		T_ASSERT(rcv[i] && snd[i]);
	}
	T_EQ(async_submit(ctx, n, rcv), n);
	T_EQ(async_submit(ctx, n, snd), n);
	collect(ctx, ev, 2L * n, what);
	int r = 0;
	for (int i = 0; i < 2 * n; i++) {
		struct async_cb *cb = ev[i].cbp;
		int is_rcv = 0;
		for (int k = 0; k < n; k++)
			if (cb == rcv[k])
				is_rcv = 1;
		if (is_rcv)
			res[r++] = (long)ev[i].res;
		else
			T_EQ(ev[i].res, 0); /* the plain msgsnd's answer */
	}
	T_EQ(r, n);
	check_messages(in, res, n);
	T_EQ(sysring_stats(ctx, &st), 0);
	printf("%s (%s, inline %s): %u executor threads\n", what, getenv("SYSRING_ENGINE") ?: "auto",
	       getenv("SYSRING_INLINE") ?: "1", st.threads);
	T_ASSERT(st.threads <= 2u * (unsigned)n);
	T_EQ(async_destroy(ctx), 0);
	msgctl(q, IPC_RMID, NULL);
	for (int i = 0; i < n; i++) {
		async_cb_free(rcv[i]);
		async_cb_free(snd[i]);
	}
	free(ev);
	free(rcv);
	free(snd);
	free(in);
	free(out);
	free(res);
}

/* The syslet face: n msgrcv syslets then n msgsnd syslets on one
 * registration, completions polled from the ring within the deadline. */
static void syslets(int n)
{
	size_t nslots = 4 * (size_t)n;
	struct syslet_uatom **ring = calloc(nslots, sizeof(*ring));
	struct syslet_uatom *at = calloc(2 * (size_t)n, sizeof(*at));
	struct msg *in = calloc((size_t)n, sizeof(*in)), *out = calloc((size_t)n, sizeof(*out));
	long *res = calloc(2 * (size_t)n, sizeof(*res));
	unsigned long q, typ = 0, flg = 0, len = sizeof(in[0].text);
	unsigned long *bufs = calloc(2 * (size_t)n, sizeof(*bufs));
	struct async_head_user ahu;
	int done = 0;

	T_ASSERT(ring && at && in && out && res && bufs);
	int qid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (qid < 0)
		T_SKIP("msgget: %s", strerror(errno));
	q = (unsigned long)qid;
	ahu.completion_ring = ring;
	ahu.ring_size_bytes = nslots * sizeof(*ring);
	ahu.max_nr_threads = -1UL;
	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	for (int i = 0; i < 2 * n; i++) {
		struct syslet_uatom *a = &at[i];
		int k = i % n;
		memset(a, 0, sizeof(*a));
		a->arg_ptr[0] = &q;
		if (i < n) {
			bufs[i] = (unsigned long)&in[k];
			a->nr = SYS_msgrcv;
			a->arg_ptr[1] = &bufs[i];
			a->arg_ptr[2] = &len;
			a->arg_ptr[3] = &typ;
			a->arg_ptr[4] = &flg;
		} else {
			out[k].mtype = k + 1;
			snprintf(out[k].text, sizeof(out[k].text), "%u", (unsigned)k % 1000000u);
			bufs[i] = (unsigned long)&out[k];
			a->nr = SYS_msgsnd;
			a->arg_ptr[1] = &bufs[i];
			a->arg_ptr[2] = &len;
			a->arg_ptr[3] = &flg;
		}
		a->ret_ptr = &res[i];
		res[i] = -9999;
	}
	for (int i = 0; i < 2 * n; i++) {
		struct syslet_uatom *d = async_exec(&at[i]);
		if (d) { /* cached: finished on this thread */
			T_EQ(d, &at[i]);
			done++;
		}
	}
	uint64_t end = t_now_ns() + DEADLINE_S * 1000000000ull;
	size_t idx = 0;
	while (done < 2 * n) {
		struct syslet_uatom *a = __atomic_load_n(&ring[idx], __ATOMIC_ACQUIRE);
		if (a) {
			__atomic_store_n(&ring[idx], NULL, __ATOMIC_RELEASE);
			idx = (idx + 1) % nslots;
			done++;
			continue;
		}
		if (t_now_ns() > end)
			T_FAIL("%d syslet pairs: %d of %d syslets ended after %d s", n, done, 2 * n,
			       DEADLINE_S);
		usleep(1000);
	}
	for (int i = n; i < 2 * n; i++)
		T_EQ(res[i], 0);
	check_messages(in, res, n);
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	printf("%d syslet message-queue pairs: ok\n", n);
	msgctl((int)q, IPC_RMID, NULL);
	free(ring);
	free(at);
	free(in);
	free(out);
	free(res);
	free(bufs);
}

int main(int argc, char **argv)
{
	int sizes[2] = {16, 64}, nsizes = 2;

	t_watchdog(600);
	if (argc > 1) {
		sizes[0] = atoi(argv[1]);
		nsizes = 1;
	}
	for (int s = 0; s < nsizes; s++) {
		pipes(sizes[s]);
		msgq(sizes[s]);
		syslets(sizes[s]);
	}
	printf("progress: ok\n");
	return 0;
}

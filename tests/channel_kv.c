/* SPDX-License-Identifier: MIT */
/*
 * examples/kv_channel as a user runs it: its arguments are checked (usage,
 * no run of zero requests, no "inf us" or negative rates), a normal run is
 * right, and killing either side makes the other stop with an error within
 * a bound, with nothing left in /dev/shm.
 *
 *   t_channel_kv PATH-TO-kv_channel
 */
#include <poll.h>
#include <sys/prctl.h>

#include "chan_util.h"

static const char *kv;

/* Run kv with args; its exit status and what it printed (stdout+stderr). */
static int run(char *const args[], char *out, size_t n)
{
	int pf[2];
	T_EQ(pipe(pf), 0);
	pid_t p = fork();
	if (p == 0) {
		dup2(pf[1], 1);
		dup2(pf[1], 2);
		close(pf[0]);
		execv(kv, args);
		_exit(127);
	}
	close(pf[1]);
	size_t len = 0;
	ssize_t r;
	while ((r = read(pf[0], out + len, n - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = 0;
	close(pf[0]);
	int st;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int shm_has(const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	return access(path, F_OK) == 0;
}

/* Start a long run with -v; learn the server's pid and segment name. */
static pid_t start_long(pid_t *server, char *seg, size_t n, int *errfd)
{
	int pf[2];
	T_EQ(pipe(pf), 0);
	pid_t p = fork();
	if (p == 0) {
		dup2(pf[1], 2);
		close(pf[0]);
		execl(kv, "kv_channel", "-v", "1000000000", (char *)NULL);
		_exit(127);
	}
	close(pf[1]);
	char line[256];
	size_t len = 0;
	while (len < sizeof(line) - 1 && read(pf[0], line + len, 1) == 1 && line[len] != '\n')
		len++;
	line[len] = 0;
	int sp;
	char name[96];
	if (sscanf(line, "kv_channel: server pid %d, segment %95s", &sp, name) != 2)
		T_FAIL("unexpected first line: '%s'", line);
	*server = sp;
	snprintf(seg, n, "%s", name);
	*errfd = pf[0];
	return p;
}

/* Wait up to ms for p (our child, or an orphan we adopted) to end. */
static int wait_end(pid_t p, int ms, int *status)
{
	for (int i = 0; i < ms; i++) {
		if (waitpid(p, status, WNOHANG) == p)
			return 1;
		usleep(1000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	char out[4096];
	if (argc < 2)
		T_FAIL("usage: t_channel_kv PATH-TO-kv_channel");
	kv = argv[1];
	t_watchdog(120);
	/* The server of a killed client is reparented to us. */
	T_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);

	char *help[] = {"kv_channel", "--help", NULL};
	T_EQ(run(help, out, sizeof(out)), 0);
	T_ASSERT(strstr(out, "usage"));
	const char *bad[] = {"abc", "0", "-5", "1x", "", "99999999999999999999", "-h2"};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char *args[] = {"kv_channel", (char *)bad[k], NULL};
		int st = run(args, out, sizeof(out));
		if (st != 2 || !strstr(out, "usage") || strstr(out, "requests/s"))
			T_FAIL("kv_channel '%s': status %d, output '%s'", bad[k], st, out);
	}
	char *extra[] = {"kv_channel", "5", "6", NULL};
	T_EQ(run(extra, out, sizeof(out)), 2);

	char *normal[] = {"kv_channel", "2000", NULL};
	T_EQ(run(normal, out, sizeof(out)), 0);
	T_ASSERT(strstr(out, "2000 requests") && strstr(out, " 0 wrong") && !strstr(out, "inf") &&
		 strstr(out, "server exit 0"));

	/* The client is killed: its server stops with an error, soon. */
	pid_t server, client;
	char seg[96];
	int errfd, st;
	client = start_long(&server, seg, sizeof(seg), &errfd);
	usleep(200 * 1000);
	T_ASSERT(!shm_has(seg)); /* the name went as soon as both had it */
	kill(client, SIGKILL);
	waitpid(client, NULL, 0);
	uint64_t t0 = t_now_ns();
	if (!wait_end(server, 3000, &st))
		T_FAIL("the server of a killed client still runs after 3 s");
	printf("kv: client killed; its server stopped after %.0f ms with status %d\n", cu_ms_since(t0),
	       WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	close(errfd);

	/* The server is killed: the client stops with an error, soon. */
	client = start_long(&server, seg, sizeof(seg), &errfd);
	usleep(200 * 1000);
	kill(server, SIGKILL);
	t0 = t_now_ns();
	if (!wait_end(client, 3000, &st))
		T_FAIL("the client of a killed server still runs after 3 s");
	char msg[512];
	ssize_t n = read(errfd, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = 0;
	printf("kv: server killed; the client stopped after %.0f ms with status %d: %s", cu_ms_since(t0),
	       WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), msg);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	T_ASSERT(strstr(msg, "server died"));
	T_ASSERT(!shm_has(seg));
	close(errfd);
	printf("channel_kv: ok\n");
	return 0;
}

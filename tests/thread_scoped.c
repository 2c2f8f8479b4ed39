/* SPDX-License-Identifier: MIT */
/*
 * Thread-scoped calls (syscalls.def, class TS): prctl(PR_SET_NO_NEW_PRIVS),
 * PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NAME, landlock_restrict_self,
 * seccomp without TSYNC, keyctl(KEYCTL_JOIN_SESSION_KEYRING), keyctl,
 * add_key and request_key that create the thread, process or session
 * keyring in the caller's credentials, personality,
 * the raw set*id calls, sched_setaffinity(0), setpriority(PRIO_PROCESS, 0)
 * change the calling thread only. Through every face:
 *   - the async face (any engine, inline on or off) refuses them with EPERM
 *     and runs nothing: neither the submitting thread nor any other thread
 *     of the process is changed;
 *   - async_exec refuses them in atoms without SYSLET_SYNC (cached or not,
 *     and when every request is in flight and the syslet runs on the
 *     caller), and runs them on the caller in SYSLET_SYNC atoms and in
 *     syslets run without a registration, with the plain call's answer and
 *     effect;
 *   - the batch face runs them on the caller, with the plain call's answer
 *     and effect;
 * and argument values that are not thread-scoped (prctl(PR_SET_DUMPABLE),
 * seccomp with TSYNC, sched_setaffinity of a named thread) run everywhere.
 * Each case runs in a child process (the changes cannot be undone) and is
 * compared with the plain call made in another child. Runs under the
 * engine matrix and, statically linked, in the guest on engine kmod.
 */
#include <dirent.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "t.h"

#include <sysring.h>
#include <sysring/batchsys.h>

#include "table/table.h"

enum face { F_PLAIN, F_ASYNC, F_SYSLET, F_SYSLET_SYNC, F_SYSLET_NOREG, F_SYSLET_FULL, F_SYSLET_FULL_SYNC, F_BATCH };
static const char *face_name[] = {"plain", "async", "syslet", "syslet+SYNC", "syslet/no-reg",
				  "syslet/all-in-flight", "syslet/all-in-flight+SYNC", "batch"};

/* The face runs calls on the submitting thread. */
static int on_caller(enum face f)
{
	return f == F_PLAIN || f == F_SYSLET_SYNC || f == F_SYSLET_NOREG || f == F_SYSLET_FULL_SYNC || f == F_BATCH;
}

/*
 * "All in flight": every request of the registration is taken (the ring's
 * one slot is never cleared, so finished syslets wait in the library with
 * theirs), and async_exec runs the syslet on the caller rather than fail
 * (docs/syslets.md). That synchronous fallback must answer as the
 * asynchronous path does: an atom without SYSLET_SYNC is refused, one with
 * it runs on the caller. The syslet is `getppid (SYSLET_ASYNC) -> the call`,
 * so that the fallback is what runs the call, not the cached attempt.
 */
static long through_full(long nr, const long a[6], int sync)
{
	static struct syslet_uatom *fring[1];
	struct async_head_user ahu = {fring, sizeof(fring), -1UL};
	static struct syslet_uatom fill, at[2];
	static long v[6];
	long res = 12345;
	int k;

	T_EQ(async_register(&ahu, sizeof(ahu)), 0);
	memset(&fill, 0, sizeof(fill));
	fill.nr = SYS_getppid;
	fill.flags = SYSLET_ASYNC;
	memcpy(v, a, sizeof(v));
	for (int tries = 0;; tries++) {
		/* until one runs on the caller: every request is in flight */
		for (k = 0; k < 100000 && !async_exec(&fill); k++)
			;
		T_ASSERT(k < 100000);
		memset(at, 0, sizeof(at));
		at[0].nr = SYS_getppid;
		at[0].flags = SYSLET_ASYNC;
		at[0].next = &at[1];
		at[1].nr = (unsigned long)nr;
		for (int i = 0; i < 6; i++)
			at[1].arg_ptr[i] = (unsigned long *)&v[i];
		at[1].ret_ptr = &res;
		at[1].flags = sync ? SYSLET_SYNC : 0;
		if (async_exec(&at[0]) == &at[0])
			break; /* ran on the caller, the case under test */
		/* A fill completed between the two (a loaded machine): the
		 * syslet went asynchronous. Let it end, then try again. */
		T_ASSERT(tries < 50);
		uint64_t until = t_now_ns() + 10ull * 1000000000ull;
		/* the ring names the atom that ended the syslet */
		for (struct syslet_uatom *d; (d = __atomic_load_n(&fring[0], __ATOMIC_ACQUIRE)) != &at[0] &&
					     d != &at[1] && t_now_ns() < until;) {
			__atomic_store_n(&fring[0], NULL, __ATOMIC_RELEASE);
			async_wait(1);
		}
		T_ASSERT(t_now_ns() < until);
		__atomic_store_n(&fring[0], NULL, __ATOMIC_RELEASE);
		res = 12345;
	}
	T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
	return res;
}

static struct syslet_uatom *sring[8];

/* Make call nr(a) through face f on this thread: its raw result. */
static long through(enum face f, long nr, const long a[6])
{
	switch (f) {
	case F_PLAIN: {
		long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		return r < 0 ? -errno : r;
	}
	case F_ASYNC: {
		async_context_t ctx;
		struct async_event ev[1];
		T_EQ(async_setup(8, &ctx), 0);
		struct async_cb *cb = async_cb_new(nr, 6, a[0], a[1], a[2], a[3], a[4], a[5]);
		T_ASSERT(cb);
		T_EQ(async_submit(ctx, 1, &cb), 1);
		T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
		T_EQ(ev[0].cbp, cb);
		T_EQ(async_destroy(ctx), 0);
		async_cb_free(cb);
		return (long)ev[0].res;
	}
	case F_SYSLET:
	case F_SYSLET_SYNC:
	case F_SYSLET_NOREG: {
		struct async_head_user ahu = {sring, sizeof(sring), -1UL};
		static long v[6];
		long res = 12345;
		struct syslet_uatom at;
		memcpy(v, a, sizeof(v));
		memset(&at, 0, sizeof(at));
		at.nr = (unsigned long)nr;
		for (int i = 0; i < 6; i++)
			at.arg_ptr[i] = (unsigned long *)&v[i];
		at.ret_ptr = &res;
		at.flags = f == F_SYSLET_SYNC ? SYSLET_SYNC : 0;
		if (f != F_SYSLET_NOREG)
			T_EQ(async_register(&ahu, sizeof(ahu)), 0);
		struct syslet_uatom *done = async_exec(&at);
		if (!done) {
			/* went async: its completion comes through the ring */
			while (!__atomic_load_n(&sring[0], __ATOMIC_ACQUIRE))
				T_ASSERT(async_wait(1) >= 0);
			done = sring[0];
			sring[0] = NULL;
		}
		T_EQ(done, &at);
		if (f != F_SYSLET_NOREG)
			T_EQ(async_unregister(&ahu, sizeof(ahu)), 0);
		return res;
	}
	case F_SYSLET_FULL:
	case F_SYSLET_FULL_SYNC:
		return through_full(nr, a, f == F_SYSLET_FULL_SYNC);
	case F_BATCH: {
		int h = batchsys_open();
		T_ASSERT(h >= 0);
		batchsys_batch_t *b = batchsys_batch_alloc(h);
		T_ASSERT(b);
		T_EQ(batchsys_push_syscall(b, nr, 6, a[0], a[1], a[2], a[3], a[4], a[5]), 1);
		T_EQ(batchsys_post_batch(h, b), 1);
		const syscall_result_t *r = batch_batch_get_result(b, 0);
		long res = r->error ? -(long)r->error : (long)r->result;
		batchsys_batch_free(b);
		batchsys_close(h);
		return res;
	}
	}
	return -1;
}

/* The state a case looks at, on this thread and on every other thread. */
struct state {
	long here;   /* on the calling thread */
	long others; /* -1: all other threads as before, else the changed value */
};

typedef long probe_fn(pid_t tid); /* the value on thread tid */

/* "NoNewPrivs:" (or another field) of /proc/self/task/TID/status. */
static long status_field(pid_t tid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	FILE *f = fopen(path, "r");
	long v = -1;
	if (!f)
		return -2; /* the thread left */
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return v;
}

static long probe_nnp(pid_t tid)
{
	return status_field(tid, "NoNewPrivs:");
}
static long probe_seccomp(pid_t tid)
{
	return status_field(tid, "Seccomp:");
}
static long probe_uid(pid_t tid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	FILE *f = fopen(path, "r");
	long v = -1;
	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Uid:", 4))
			v = strtol(line + 4, NULL, 10); /* real uid */
	fclose(f);
	return v;
}
static long probe_comm(pid_t tid)
{
	char path[64], buf[32] = {0};
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -2;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return !strncmp(buf, "sr-ts-probe", 11);
}
#define CAP_SYS_BOOT_BIT 22
static long probe_capbset(pid_t tid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	FILE *f = fopen(path, "r");
	long v = -1;
	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapBnd:", 7))
			v = (long)((strtoull(line + 7, NULL, 16) >> CAP_SYS_BOOT_BIT) & 1);
	fclose(f);
	return v;
}

/* Every thread of the process but `me`: the value if any differs from
 * `before`, else -1. */
static long others(probe_fn *p, pid_t me, long before)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	long changed = -1;
	T_ASSERT(d);
	while ((e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);
		if (tid <= 0 || tid == me)
			continue;
		long v = p(tid);
		if (v != -2 && v != before)
			changed = v;
	}
	closedir(d);
	return changed;
}

struct tcase {
	const char *name;
	long nr;
	long a[6];
	probe_fn *probe;   /* NULL: only the result is compared */
	int thread_scoped; /* with these arguments */
	int need_root;
	int sign_only; /* results compared by sign (a new keyring's id) */
};

/* Run case c through face f in a child; the child reports the result and
 * the state it saw through a pipe. */
struct outcome {
	long res;
	long before, here, others;
};

static struct outcome run_case(const struct tcase *c, enum face f)
{
	int p[2];
	struct outcome o;
	T_EQ(pipe(p), 0);
	pid_t pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		pid_t me = (pid_t)syscall(SYS_gettid);
		struct outcome r = {0, 0, 0, -1};
		/* a thread pool must exist for "other threads" to mean anything:
		 * the faces start theirs; the plain call has only this thread */
		r.before = c->probe ? c->probe(me) : 0;
		r.res = through(f, c->nr, c->a);
		if (c->probe) {
			r.here = c->probe(me);
			r.others = others(c->probe, me, r.before);
		}
		if (write(p[1], &r, sizeof(r)) != sizeof(r))
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	int st;
	/* a child that hangs fails the case, with where its threads are */
	for (int ms = 0;; ms += 10) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		T_EQ(w, 0);
		if (ms < 60000) {
			usleep(10000);
			continue;
		}
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "for t in /proc/%d/task/*; do echo $t; cat $t/stack $t/status 2>/dev/null | grep -v '^Cap\\|^Mems\\|^Cpus'; done >&2", (int)pid);
		if (system(cmd))
			fprintf(stderr, "(no stacks)\n");
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		T_FAIL("%s via %s: the child hung", c->name, face_name[f]);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		T_FAIL("%s via %s: child ended with status 0x%x", c->name, face_name[f], st);
	T_EQ(read(p[0], &o, sizeof(o)), (long)sizeof(o));
	close(p[0]);
	return o;
}

static void check_case(const struct tcase *c)
{
	struct outcome plain = run_case(c, F_PLAIN);
	for (enum face f = F_ASYNC; f <= F_BATCH; f++) {
		if (getenv("T_VERBOSE"))
			fprintf(stderr, "     %s via %s\n", c->name, face_name[f]);
		struct outcome o = run_case(c, f);
		int refused = c->thread_scoped && !on_caller(f);
		if (refused) {
			/* refused: EPERM, and nothing changed on any thread */
			if (o.res != -EPERM)
				T_FAIL("%s via %s: %ld, expected -EPERM (thread-scoped)", c->name,
				       face_name[f], o.res);
			if (c->probe && (o.here != o.before || o.others != -1))
				T_FAIL("%s via %s: refused but ran (here %ld -> %ld, another thread %ld)",
				       c->name, face_name[f], o.before, o.here, o.others);
			continue;
		}
		/* runs: the plain call's answer and effect on this thread */
		if (c->sign_only ? (o.res > 0) != (plain.res > 0) : o.res != plain.res)
			T_FAIL("%s via %s: %ld, the plain call %ld", c->name, face_name[f], o.res, plain.res);
		if (c->probe && o.here != plain.here)
			T_FAIL("%s via %s: the calling thread has %ld, after the plain call %ld", c->name,
			       face_name[f], o.here, plain.here);
		/* a thread-scoped call that runs changes no other thread */
		if (c->probe && c->thread_scoped && o.others != -1)
			T_FAIL("%s via %s: another thread changed to %ld", c->name, face_name[f], o.others);
	}
	printf("ok   %-44s plain %ld%s\n", c->name, plain.res,
	       c->thread_scoped ? ", refused off the caller" : ", runs everywhere");
}

static void table_checks(void)
{
	long a[6] = {0};
	const struct sr_sysent *e = sr_sysent(SYS_prctl);
	T_ASSERT(e && e->cls == SR_TS && e->thread);
	a[0] = PR_SET_NO_NEW_PRIVS;
	T_EQ(sr_class(e, a), SR_TS);
	a[0] = PR_GET_NO_NEW_PRIVS;
	T_EQ(sr_class(e, a), SR_NB); /* the other options never block */
	/* the kernel reads option as an int: upper bits do not hide it */
	a[0] = (long)(0x100000000ul | PR_SET_NO_NEW_PRIVS);
	T_EQ(sr_class(e, a), SR_TS);
	a[0] = PR_CAP_AMBIENT;
	a[1] = PR_CAP_AMBIENT_IS_SET;
	T_EQ(sr_class(e, a), SR_NB);
	a[1] = PR_CAP_AMBIENT_CLEAR_ALL;
	T_EQ(sr_class(e, a), SR_TS);
	e = sr_sysent(SYS_seccomp);
	a[0] = SECCOMP_SET_MODE_FILTER;
	a[1] = 0;
	T_EQ(sr_class(e, a), SR_TS);
	a[1] = SECCOMP_FILTER_FLAG_TSYNC;
	T_EQ(sr_class(e, a), SR_MB);
	e = sr_sysent(SYS_sched_setaffinity);
	a[0] = 0;
	T_EQ(sr_class(e, a), SR_TS);
	a[0] = 1;
	T_EQ(sr_class(e, a), SR_NB);
	e = sr_sysent(SYS_setresuid);
	T_EQ(sr_class(e, a), SR_TS);
	struct sysring_syscall_info info;
	T_EQ(sysring_syscall_info(SYS_landlock_restrict_self, &info), 0);
	T_EQ(info.cls, SYSRING_CLASS_THREAD);
	T_EQ(sysring_syscall_info(SYS_personality, &info), 0);
	T_EQ(info.cls, SYSRING_CLASS_THREAD);
	/* keyrings created in the calling thread's credentials (thread.h) */
	e = sr_sysent(SYS_keyctl);
	a[0] = KEYCTL_GET_KEYRING_ID;
	a[1] = KEY_SPEC_SESSION_KEYRING;
	a[2] = 1;
	T_EQ(sr_class(e, a), SR_TS);
	a[2] = 0;
	T_EQ(sr_class(e, a), SR_MB);
	a[0] = KEYCTL_LINK;
	a[1] = 1234;
	a[2] = KEY_SPEC_THREAD_KEYRING;
	T_EQ(sr_class(e, a), SR_TS);
	a[2] = KEY_SPEC_USER_KEYRING;
	T_EQ(sr_class(e, a), SR_MB);
	e = sr_sysent(SYS_add_key);
	a[4] = KEY_SPEC_PROCESS_KEYRING;
	T_EQ(sr_class(e, a), SR_TS);
	a[4] = (long)(0x100000000ul | 1234);
	T_EQ(sr_class(e, a), SR_MB);
	a[4] = (long)(0xffffffff00000000ul | (unsigned int)KEY_SPEC_THREAD_KEYRING); /* an int: -1 */
	T_EQ(sr_class(e, a), SR_TS);
	e = sr_sysent(SYS_request_key);
	a[3] = KEY_SPEC_THREAD_KEYRING;
	T_EQ(sr_class(e, a), SR_TS);
	a[3] = 0;
	T_EQ(sr_class(e, a), SR_MB);
	printf("ok   table: classes and argument classifiers\n");
}

static siginfo_t wsi;

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0); /* children fork with nothing buffered */
	t_watchdog(240);
	table_checks();
	int root = geteuid() == 0;

	/* An allow-everything filter, for seccomp with and without TSYNC. */
	static struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	static struct sock_fprog prog = {1, allow};

	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(0, &one);

	struct tcase cases[] = {
		{"prctl(PR_SET_NO_NEW_PRIVS)", SYS_prctl, {PR_SET_NO_NEW_PRIVS, 1}, probe_nnp, 1, 0, 0},
		{"prctl(PR_SET_NO_NEW_PRIVS), option with upper bits", SYS_prctl,
		 {(long)(0x700000000ul | PR_SET_NO_NEW_PRIVS), 1}, probe_nnp, 1, 0, 0},
		{"prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT)", SYS_prctl, {PR_CAPBSET_DROP, CAP_SYS_BOOT_BIT},
		 probe_capbset, 1, 1, 0},
		{"prctl(PR_SET_SECUREBITS, KEEP_CAPS)", SYS_prctl, {PR_SET_SECUREBITS, 1 << 4}, NULL, 1, 1, 0},
		{"prctl(PR_SET_NAME)", SYS_prctl, {PR_SET_NAME, (long)"sr-ts-probe"}, probe_comm, 1, 0, 0},
		{"prctl(PR_SET_SECCOMP, FILTER)", SYS_prctl, {PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (long)&prog},
		 probe_seccomp, 1, 1, 0},
		{"seccomp(SET_MODE_FILTER)", SYS_seccomp, {SECCOMP_SET_MODE_FILTER, 0, (long)&prog},
		 probe_seccomp, 1, 1, 0},
		{"seccomp(SET_MODE_FILTER, TSYNC)", SYS_seccomp,
		 {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, (long)&prog}, NULL, 0, 1, 0},
		{"keyctl(JOIN_SESSION_KEYRING)", SYS_keyctl, {KEYCTL_JOIN_SESSION_KEYRING, 0}, NULL, 1, 0, 1},
		/* a lookup with create installs the keyring in the calling
		 * thread's credentials */
		{"keyctl(GET_KEYRING_ID, THREAD, create)", SYS_keyctl,
		 {KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 1}, NULL, 1, 0, 1},
		{"keyctl(GET_KEYRING_ID, PROCESS, create)", SYS_keyctl,
		 {KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 1}, NULL, 1, 0, 1},
		{"keyctl(GET_KEYRING_ID, SESSION, create)", SYS_keyctl,
		 {KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1}, NULL, 1, 0, 1},
		{"add_key(user, THREAD keyring)", SYS_add_key,
		 {(long)"user", (long)"sr-ts-key", (long)"x", 1, KEY_SPEC_THREAD_KEYRING}, NULL, 1, 0, 1},
		{"request_key(user, dest PROCESS keyring)", SYS_request_key,
		 {(long)"user", (long)"sr-ts-none", 0, KEY_SPEC_PROCESS_KEYRING}, NULL, 1, 0, 1},
		{"keyctl(GET_KEYRING_ID, THREAD): a read", SYS_keyctl,
		 {KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 0}, NULL, 0, 0, 0},
		{"add_key(user, USER keyring): per user", SYS_add_key,
		 {(long)"user", (long)"sr-ts-ukey", (long)"x", 1, KEY_SPEC_USER_KEYRING}, NULL, 0, 0, 1},
		{"personality(query)", SYS_personality, {0xffffffffL}, NULL, 1, 0, 0},
		{"personality(ADDR_NO_RANDOMIZE)", SYS_personality, {PER_LINUX | ADDR_NO_RANDOMIZE}, NULL, 1, 0, 0},
		{"landlock_restrict_self(-1, 0)", SYS_landlock_restrict_self, {-1, 0}, NULL, 1, 0, 0},
		{"setresuid(65534) raw", SYS_setresuid, {65534, 65534, 65534}, probe_uid, 1, 1, 0},
		{"sched_setaffinity(0)", SYS_sched_setaffinity, {0, sizeof(one), (long)&one}, NULL, 1, 0, 0},
		{"setpriority(PRIO_PROCESS, 0, 5)", SYS_setpriority, {PRIO_PROCESS, 0, 5}, NULL, 1, 0, 0},
		{"close_range(UNSHARE)", SYS_close_range, {1000000, 1000000, 1 << 1}, NULL, 1, 0, 0},
		{"io_uring_register(-1, RING_FDS)", SYS_io_uring_register, {-1, 20, 0, 0}, NULL, 1, 0, 0},
		{"close_range(none): not UNSHARE", SYS_close_range, {1000000, 1000000, 0}, NULL, 0, 0, 0},
		{"prctl(PR_SET_DUMPABLE, 0): whole process", SYS_prctl, {PR_SET_DUMPABLE, 0}, NULL, 0, 0, 0},
		{"prctl(PR_GET_NO_NEW_PRIVS): a read", SYS_prctl, {PR_GET_NO_NEW_PRIVS}, NULL, 0, 0, 0},
		{"setpriority(PRIO_PGRP, none): not self", SYS_setpriority, {PRIO_PGRP, 999999, 0}, NULL, 0, 0, 0},
		{"waitid(__WNOTHREAD): this thread's children", SYS_waitid,
		 {P_ALL, 0, (long)&wsi, WEXITED | WNOHANG | __WNOTHREAD}, NULL, 1, 0, 0},
		{"wait4(__WNOTHREAD): this thread's children", SYS_wait4, {-1, 0, WNOHANG | __WNOTHREAD}, NULL, 1, 0, 0},
		{"waitid(WNOHANG): the process's children", SYS_waitid, {P_ALL, 0, (long)&wsi, WEXITED | WNOHANG},
		 NULL, 0, 0, 0},
	};
	/* seccomp filters need NO_NEW_PRIVS or CAP_SYS_ADMIN */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].need_root && !root) {
			printf("skip %s (needs root)\n", cases[i].name);
			continue;
		}
		check_case(&cases[i]);
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * sysring.ko and thread-scoped calls (the TS class of src/table/syscalls.def,
 * with the argument classifiers of src/table/thread.def): calls that change
 * the calling thread only -- raw set*id, capset, personality,
 * landlock_restrict_self, prctl(PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP,
 * PR_SET_SECUREBITS, ...), seccomp without TSYNC, keyctl(JOIN_SESSION_KEYRING).
 *
 *   - a ring worker refuses them (-EPERM) and its thread is left as it was
 *     (no_new_privs, seccomp, bounding set, uid, name, persona);
 *   - every row the table makes thread-scoped for all values is refused there;
 *   - values that are not thread-scoped (prctl(PR_GET_NO_NEW_PRIVS),
 *     seccomp(GET_ACTION_AVAIL), an option with stray upper bits is still
 *     the option) are treated as the kernel reads them;
 *   - BATCH and SYSLET run them on the calling thread (the plain call's
 *     answer and effect there, and nowhere else);
 *   - a cached SYSLET refuses them (it stands for async_exec, which does).
 * Each case runs in a child: the changes cannot be undone.
 */
#include "gt_ring.h"

#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <sys/personality.h>
#include <sys/prctl.h>

/* Rows with an argument classifier (thread.def). */
static const unsigned char gt_classified[GT_NR_TABLE] = {
#define SR_THREAD(name, fn, other) [__NR_##name] = 1,
#include "../../src/table/thread.def"
#undef SR_THREAD
};

static struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
static struct sock_fprog allow_prog = { 1, allow };

/* The per-thread state a TS call could change, as text. */
struct tstate {
	char nnp[16], sec[16], bnd[32], uid[64], comm[32], pers[32];
};

static void tstate(pid_t tid, struct tstate *s)
{
	char path[64];
	FILE *f;

	memset(s, 0, sizeof(*s)); /* compared whole */
	gt_task_status(tid, "NoNewPrivs:", s->nnp, sizeof(s->nnp));
	gt_task_status(tid, "Seccomp:", s->sec, sizeof(s->sec));
	gt_task_status(tid, "CapBnd:", s->bnd, sizeof(s->bnd));
	gt_task_status(tid, "Uid:", s->uid, sizeof(s->uid));
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	s->comm[0] = 0;
	if ((f = fopen(path, "r"))) {
		if (!fgets(s->comm, sizeof(s->comm), f))
			s->comm[0] = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/personality", (int)tid);
	s->pers[0] = 0;
	if ((f = fopen(path, "r"))) {
		if (!fgets(s->pers, sizeof(s->pers), f))
			s->pers[0] = 0;
		fclose(f);
	}
}

static int tstate_eq(const struct tstate *a, const struct tstate *b)
{
	return !memcmp(a, b, sizeof(*a));
}

struct tcall {
	const char *name;
	long nr;
	long a[6];
};

#define KEEP_CAPS_BIT (1 << 4) /* SECBIT_KEEP_CAPS */

static const struct tcall ts_calls[] = {
	{ "prctl(PR_SET_NO_NEW_PRIVS)", SYS_prctl, { PR_SET_NO_NEW_PRIVS, 1 } },
	{ "prctl(PR_SET_NO_NEW_PRIVS | 1 << 32)", SYS_prctl, { (long)(1ul << 32 | PR_SET_NO_NEW_PRIVS), 1 } },
	{ "prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT)", SYS_prctl, { PR_CAPBSET_DROP, 22 } },
	{ "prctl(PR_SET_SECUREBITS, KEEP_CAPS)", SYS_prctl, { PR_SET_SECUREBITS, KEEP_CAPS_BIT } },
	{ "prctl(PR_SET_NAME)", SYS_prctl, { PR_SET_NAME, 0 /* set below */ } },
	{ "prctl(PR_SET_SECCOMP, FILTER)", SYS_prctl, { PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (long)&allow_prog } },
	{ "seccomp(SET_MODE_FILTER)", SYS_seccomp, { SECCOMP_SET_MODE_FILTER, 0, (long)&allow_prog } },
	{ "seccomp(SET_MODE_STRICT)", SYS_seccomp, { SECCOMP_SET_MODE_STRICT, 0, 0 } },
	{ "keyctl(JOIN_SESSION_KEYRING)", SYS_keyctl, { KEYCTL_JOIN_SESSION_KEYRING, 0 } },
	{ "keyctl(GET_KEYRING_ID, THREAD, create)", SYS_keyctl, { KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 1 } },
	{ "keyctl(GET_KEYRING_ID, SESSION, create)", SYS_keyctl, { KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1 } },
	{ "add_key(user, PROCESS keyring)", SYS_add_key,
	  { (long)"user", (long)"sr-kt-key", (long)"x", 1, KEY_SPEC_PROCESS_KEYRING } },
	{ "request_key(user, dest THREAD keyring)", SYS_request_key,
	  { (long)"user", (long)"sr-kt-none", 0, KEY_SPEC_THREAD_KEYRING } },
	{ "personality(ADDR_NO_RANDOMIZE)", SYS_personality, { PER_LINUX | ADDR_NO_RANDOMIZE } },
	{ "landlock_restrict_self(-1, 0)", SYS_landlock_restrict_self, { -1, 0 } },
	{ "setresuid(65534) raw", SYS_setresuid, { 65534, 65534, 65534 } },
	{ "capset", SYS_capset, { 0, 0 } },
	{ "ptrace(PTRACE_TRACEME)", SYS_ptrace, { 0 } },
	{ "sched_setaffinity(0)", SYS_sched_setaffinity, { 0, 8, 0 /* set below */ } },
	{ "close_range(CLOSE_RANGE_UNSHARE)", SYS_close_range, { 1000000, 1000000, 1 << 1 } },
	{ "io_uring_register(IORING_REGISTER_RING_FDS)", SYS_io_uring_register, { -1, 20, 0, 0 } },
};

static char name_buf[] = "sr-ts-worker";
static unsigned long one_cpu = 1;

static struct tcall fix(struct tcall c)
{
	if (c.nr == SYS_prctl && c.a[0] == PR_SET_NAME)
		c.a[1] = (long)name_buf;
	if (c.nr == SYS_sched_setaffinity)
		c.a[2] = (long)&one_cpu;
	return c;
}

static int run_child(void (*fn)(void))
{
	pid_t pid = fork();
	int st;

	GT_ASSERT(pid >= 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	GT_EQ(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		GT_FAIL("child status 0x%x", st);
	return 0;
}

/* ---- the ring: refused, the worker untouched ---- */

static void ring_case(void)
{
	int fd = gt_open();
	struct gt_ring r;
	struct gt_worker w;
	struct tstate before, after;
	unsigned int n = 0;

	GT_EQ(gt_ring_init(&r, fd, 16, 0, 0), 0);
	gt_worker_start(&w, fd);
	tstate(w.tid, &before);
	for (size_t i = 0; i < sizeof(ts_calls) / sizeof(ts_calls[0]); i++) {
		struct tcall c = fix(ts_calls[i]);
		long long res = gt_ring_call(&r, i + 1, c.nr, c.a[0], c.a[1], c.a[2], c.a[3], c.a[4], c.a[5],
					     10ll * 1000000000);
		if (res != -EPERM)
			GT_FAIL("ring: %s gave %lld, expected -EPERM (thread-scoped)", c.name, res);
		tstate(w.tid, &after);
		if (!tstate_eq(&before, &after))
			GT_FAIL("ring: %s changed the worker (NoNewPrivs %s->%s, Seccomp %s->%s, uid %s->%s, "
				"CapBnd %s->%s, comm %s->%s, personality %s->%s)",
				c.name, before.nnp, after.nnp, before.sec, after.sec, before.uid, after.uid,
				before.bnd, after.bnd, before.comm, after.comm, before.pers, after.pers);
		n++;
	}
	/* Every row thread-scoped for all values, with zero arguments. */
	for (unsigned int nr = 0; nr < GT_NR_TABLE; nr++) {
		if (!gt_thread[nr] || gt_classified[nr])
			continue;
		long long res = gt_ring_call(&r, 1000 + nr, nr, 0, 0, 0, 0, 0, 0, 10ll * 1000000000);
		/* numbers beyond this kernel's table are -ENOSYS first */
		if (res != -EPERM && !(res == -ENOSYS && nr >= 451))
			GT_FAIL("ring: thread-scoped call %u gave %lld", nr, res);
		n++;
	}
	tstate(w.tid, &after);
	GT_ASSERT(tstate_eq(&before, &after));
	/* The same calls with values that are not thread-scoped run. */
	GT_EQ(gt_ring_call(&r, 2000, SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0, 0, 10ll * 1000000000), 0);
	unsigned int act = SECCOMP_RET_KILL_PROCESS;
	GT_EQ(gt_ring_call(&r, 2001, SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, (long)&act, 0, 0, 0,
			   10ll * 1000000000), 0);
	GT_EQ(gt_ring_call(&r, 2002, SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0, 0, 10ll * 1000000000), 0);
	GT_EQ(gt_ring_call(&r, 2003, SYS_sched_setaffinity, w.tid, 8, (long)&one_cpu, 0, 0, 0,
			   10ll * 1000000000), 0);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
	pthread_join(w.th, NULL);
	GT_EQ(w.ret, 0);
	printf("     ring: %u thread-scoped calls refused, the worker unchanged\n", n);
}

/* ---- BATCH and SYSLET: on the calling thread, as the plain call ---- */

static pid_t other_tid;
static void *idle_thread(void *p)
{
	__atomic_store_n(&other_tid, gettid(), __ATOMIC_RELEASE);
	pause();
	return p;
}

static void caller_case(void)
{
	int fd = gt_open();
	pthread_t th;
	struct tstate other0, other1;
	char nnp[16], uid[64];

	GT_EQ(pthread_create(&th, NULL, idle_thread, NULL), 0);
	while (!__atomic_load_n(&other_tid, __ATOMIC_ACQUIRE))
		usleep(100);
	tstate(other_tid, &other0);
	/* BATCH: no_new_privs and a raw setresuid on this thread only */
	struct sysring_call c[2] = { gt_call(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0),
				     gt_call(SYS_setresuid, 65534, 65534, 65534, 0, 0, 0) };
	GT_EQ(gt_batch(fd, c, 2, 0), 2);
	GT_EQ(c[0].result, 0);
	GT_EQ(c[1].result, 0);
	GT_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
	GT_EQ(strcmp(gt_task_status(gettid(), "NoNewPrivs:", nnp, sizeof(nnp)), "1"), 0);
	gt_task_status(gettid(), "Uid:", uid, sizeof(uid));
	GT_EQ(atoi(uid), 65534);
	tstate(other_tid, &other1);
	/* status only: as 65534 this thread may not read the other's
	 * personality file any more */
	if (strcmp(other0.nnp, other1.nnp) || strcmp(other0.uid, other1.uid) ||
	    strcmp(other0.sec, other1.sec) || strcmp(other0.bnd, other1.bnd))
		GT_FAIL("BATCH changed another thread (NoNewPrivs %s, uid %s)", other1.nnp, other1.uid);
	_exit(0);
}

static void syslet_case(void)
{
	int fd = gt_open();
	struct syslet_uatom a;
	long op = PR_SET_NO_NEW_PRIVS, one = 1, res = 777;

	/* cached: refused, nothing changed; a SYNC atom is handed back */
	gt_atom(&a, 0, SYS_prctl, &res, NULL, &op, &one, NULL, NULL);
	struct sysring_syslet s = { .size = sizeof(s), .flags = SYSRING_SYSLET_CACHED, .atom = (uintptr_t)&a };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_SYSLET, &s), 0);
	GT_EQ(res, -EPERM);
	GT_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
	a.flags = SYSLET_SYNC;
	res = 777;
	s = (struct sysring_syslet){ .size = sizeof(s), .flags = SYSRING_SYSLET_CACHED, .atom = (uintptr_t)&a };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_SYSLET, &s), SYSRING_SYSLET_WOULDBLOCK);
	GT_EQ(res, 777);
	GT_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
	/* plain SYSLET: on this thread */
	a.flags = 0;
	GT_EQ(gt_syslet(fd, &a, 0, NULL), 0);
	GT_EQ(res, 0);
	GT_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
	_exit(0);
}

/* ---- racing rewrites: the classification is of the values the call gets ---- */

static volatile long flip_op = PR_GET_NO_NEW_PRIVS;
static volatile int flip_stop;
static struct gt_ring *flip_ring;
static void *flipper(void *p)
{
	/* the option word flips between a read and the thread-scoped set, in
	 * the syslet's argument and in every submission slot of the ring */
	while (!flip_stop) {
		flip_op = flip_op == PR_GET_NO_NEW_PRIVS ? PR_SET_NO_NEW_PRIVS : PR_GET_NO_NEW_PRIVS;
		struct gt_ring *r = __atomic_load_n(&flip_ring, __ATOMIC_ACQUIRE);
		if (r)
			for (uint32_t k = 0; k < r->s.sq_entries; k++)
				((volatile __u64 *)r->sqes[k].args)[0] = (__u64)flip_op;
	}
	return p;
}

static void race_case(void)
{
	int fd = gt_open();
	pthread_t th;
	struct gt_ring r;
	struct gt_worker w;
	long one = 1, res;
	unsigned int n = gt_rounds(1000), ring_n = gt_rounds(200);
	struct syslet_uatom a;
	char nnp[16];

	GT_EQ(pthread_create(&th, NULL, flipper, NULL), 0);
	GT_EQ(gt_ring_init(&r, fd, 16, 0, 0), 0);
	gt_worker_start(&w, fd);
	__atomic_store_n(&flip_ring, &r, __ATOMIC_RELEASE);
	__atomic_store_n(&flip_ring, &r, __ATOMIC_RELEASE);
	/* cached SYSLET: reads the option through arg_ptr while it flips */
	gt_atom(&a, 0, SYS_prctl, &res, NULL, (void *)&flip_op, &one, NULL, NULL);
	for (unsigned int i = 0; i < n; i++) {
		struct sysring_syslet s = { .size = sizeof(s), .flags = SYSRING_SYSLET_CACHED,
					    .atom = (uintptr_t)&a };
		long rr = gt_ioctl(fd, SYSRING_IOC_SYSLET, &s);
		/* refused (ended, -EPERM), or the read ran (prctl's other
		 * options never block): PR_GET_NO_NEW_PRIVS with arg2 set is
		 * -EINVAL, as the plain call answers */
		if (!(rr == 0 && (res == -EPERM || res == -EINVAL)))
			GT_FAIL("cached SYSLET round %u: returned %ld, atom result %ld", i, rr, res);
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0))
			GT_FAIL("cached SYSLET round %u: no_new_privs was set on the caller", i);
	}
	/* ring entries written while the option word flips under the copy */
	for (unsigned int i = 0; i < ring_n; i++) {
		long long rr = gt_ring_call(&r, 10 + i, SYS_prctl, flip_op, 1, 0, 0, 0, 0, 10ll * 1000000000);
		GT_ASSERT(rr == -EPERM || rr == -EINVAL); /* a read with arg2 set is EINVAL */
		if (strcmp(gt_task_status(w.tid, "NoNewPrivs:", nnp, sizeof(nnp)), "0"))
			GT_FAIL("ring round %u: the worker got no_new_privs", i);
	}
	flip_stop = 1;
	pthread_join(th, NULL);
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
	pthread_join(w.th, NULL);
	printf("     %u cached syslets and %u ring entries with the option flipping: never ran\n", n, ring_n);
	_exit(0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0); /* children fork with nothing buffered */
	close(gt_open()); /* skip without the module */
	run_child(ring_case);
	GT_OK("ring workers refuse thread-scoped calls and stay as they were");
	run_child(caller_case);
	GT_OK("BATCH runs them on the calling thread only");
	run_child(syslet_case);
	GT_OK("SYSLET runs them on the caller; a cached SYSLET refuses them");
	run_child(race_case);
	GT_OK("racing rewrites of the option: a thread-scoped value never runs away from its thread");
	printf("kmod_thread: all passed\n");
	return 0;
}

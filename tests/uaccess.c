/* SPDX-License-Identifier: MIT */
/*
 * The fault-safe accessors (src/core/uaccess.h): every accessor gives 0 on
 * good memory and -EFAULT on unmapped, PROT_NONE, read-only (for writes),
 * NULL and non-canonical addresses, without a signal reaching the program;
 * and the library's fault handler leaves every other fault as it was: the
 * default action still kills with SIGSEGV, a handler the program installed
 * before (or after, then checked again) still runs. Run twice by ctest:
 * with the fault handler and with SYSRING_UACCESS=syscall.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "t.h"

#include "core/uaccess.h"

static char *page_rw, *page_ro, *page_none;
static const long pg = 4096;

static void check_reads(void)
{
	uint64_t v = 0, good = 0x1122334455667788ull;
	void *bad[] = {NULL, page_none, page_none + 100, (void *)0x8000000000000000ull, (void *)-4096L,
		       (void *)(uintptr_t)1};

	T_EQ(sr_ua_read8(&good, &v), 0);
	T_EQ(v, good);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		T_EQ(sr_ua_read8(bad[i], &v), -EFAULT);
		T_EQ(v, 7); /* nothing stored */
	}
	/* the last 8 bytes before the hole read; 4 bytes before it fault */
	T_EQ(sr_ua_read8(page_ro + pg - 8, &v), 0);
	T_EQ(sr_ua_read8(page_ro + pg - 4, &v), -EFAULT);
}

static void check_writes(void)
{
	T_EQ(sr_ua_write8(page_rw, 42), 0);
	T_EQ(*(uint64_t *)page_rw, 42);
	T_EQ(sr_ua_write8(page_ro, 42), -EFAULT);
	T_EQ(page_ro[0], 'r');
	T_EQ(sr_ua_write8(page_none, 1), -EFAULT);
	T_EQ(sr_ua_write8(NULL, 1), -EFAULT);
}

static void check_copy(void)
{
	char buf[64];

	T_EQ(sr_ua_copy(buf, page_ro, 64), 0);
	T_EQ(buf[0], 'r');
	T_EQ(sr_ua_copy(buf, page_ro + pg - 32, 64), -EFAULT); /* runs into the hole */
	T_EQ(sr_ua_copy(page_ro, buf, 8), -EFAULT);           /* destination read-only */
	T_EQ(sr_ua_copy(page_rw, buf, 0), 0);
	T_EQ(sr_ua_copy(buf, NULL, 1), -EFAULT);
}

static void check_add(void)
{
	uint64_t nv = 0;
	uint64_t *ctr = (uint64_t *)(page_rw + 64);

	*ctr = 10;
	T_EQ(sr_ua_add8(ctr, 5, &nv), 0);
	T_EQ(nv, 15);
	T_EQ(*ctr, 15);
	T_EQ(sr_ua_add8(ctr, (uint64_t)-19, &nv), 0); /* -4: the value that looks like -EINTR */
	T_EQ((long)nv, -4);
	T_EQ(sr_ua_add8((uint64_t *)page_ro, 1, &nv), -EFAULT);
	T_EQ(page_ro[0], 'r');
	T_EQ(sr_ua_add8((uint64_t *)page_none, 1, &nv), -EFAULT);
	T_EQ(sr_ua_add8(NULL, 1, &nv), -EFAULT);
	/* a counter that straddles into the hole: nothing added */
	T_EQ(sr_ua_add8((uint64_t *)(page_ro + pg - 4), 1, &nv), -EFAULT);
}

static void check_gather(void)
{
	long a = 1, b = 2, out[6] = {0};
	void *ptrs[6] = {&a, &b, NULL, &a, &a, &a};
	void *badp[3] = {&a, page_none, &b};

	T_EQ(sr_ua_gather(out, ptrs, 6), 2);
	T_EQ(out[0], 1);
	T_EQ(out[1], 2);
	T_EQ(sr_ua_gather(out, ptrs, 1), 1);
	T_EQ(sr_ua_gather(out, badp, 3), -EFAULT);
	T_EQ(sr_ua_gather(out, (void *const *)page_none, 3), -EFAULT); /* the pointer array itself */
	T_EQ(sr_ua_gather(out, (void *const *)page_none, 0), 0);       /* nothing to read */
}

static void check_probe(void)
{
	T_EQ(sr_ua_probe(page_rw, (size_t)pg, true), 0);
	T_EQ(sr_ua_probe(page_ro, (size_t)pg, false), 0);
	T_EQ(sr_ua_probe(page_ro, (size_t)pg, true), -EFAULT);
	T_EQ(sr_ua_probe(page_ro, (size_t)pg + 1, false), -EFAULT); /* one byte into the hole */
	T_EQ(sr_ua_probe(page_none, 0, false), 0);
	T_EQ(sr_ua_probe((void *)-16L, 64, false), -EFAULT); /* wraps around */
	T_EQ(page_ro[0], 'r');
}

/* In a child: what a real fault (not in an accessor) does. */
static int child_status(void (*fn)(void))
{
	int st;
	pid_t p = fork();
	T_ASSERT(p >= 0);
	if (p == 0) {
		fn();
		_exit(0);
	}
	T_EQ(waitpid(p, &st, 0), p);
	return st;
}

static volatile char *volatile wild;

static void crash_default(void)
{
	uint64_t v;
	sr_ua_read8(page_none, &v); /* the handler is in place */
	sr_uaccess_check();
	(void)*wild; /* a real crash */
}

static void crash_sent(void)
{
	uint64_t v;
	sr_ua_read8(page_none, &v);
	kill(getpid(), SIGSEGV); /* sent, not a fault: still the default */
	for (;;)
		pause();
}

static void app_handler(int sig)
{
	(void)sig;
	_exit(42);
}

static void crash_app_before(void)
{
	uint64_t v;
	signal(SIGSEGV, app_handler);
	/* first use: the library's handler goes in front of the program's */
	if (sr_ua_read8(page_none, &v) != -EFAULT)
		_exit(3);
	(void)*wild;
}

static void crash_app_after(void)
{
	uint64_t v;
	sr_ua_read8(page_none, &v);
	signal(SIGSEGV, app_handler); /* replaces the library's */
	sr_uaccess_check();           /* a context set-up puts it back, chained */
	if (sr_ua_read8(page_none, &v) != -EFAULT)
		_exit(3);
	(void)*wild;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static int died_of_segv(int st)
{
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGSEGV;
	return SANITIZED && WIFEXITED(st) && WEXITSTATUS(st) != 0;
}

int main(void)
{
	char *m = mmap(NULL, 3 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(m != MAP_FAILED);
	page_rw = m;
	page_ro = m + pg;
	page_none = m + 2 * pg;
	memset(page_ro, 'r', (size_t)pg);
	T_EQ(mprotect(page_ro, (size_t)pg, PROT_READ), 0);
	T_EQ(mprotect(page_none, (size_t)pg, PROT_NONE), 0);
	wild = (volatile char *)page_none;

	check_reads();
	check_writes();
	check_copy();
	check_add();
	check_gather();
	check_probe();
	int expect_handler = !(getenv("SYSRING_UACCESS") && !strcmp(getenv("SYSRING_UACCESS"), "syscall"));
	T_EQ(__atomic_load_n(&sr_ua_mode, __ATOMIC_RELAXED), expect_handler ? SR_UA_HANDLER : SR_UA_SYSCALL);

	/* A real crash still kills: by SIGSEGV, or under a sanitizer (whose
	 * handler was there first and is chained to) by its report's exit. */
	int st = child_status(crash_default);
	T_ASSERT(died_of_segv(st));
	st = child_status(crash_sent);
	T_ASSERT(died_of_segv(st));
	st = child_status(crash_app_before);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 42);
	st = child_status(crash_app_after);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 42);
	printf("uaccess: ok (mode %s)\n", expect_handler ? "handler" : "syscall");
	return 0;
}

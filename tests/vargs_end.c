/* SPDX-License-Identifier: MIT */
/*
 * A vargs list ends at its first NULL: the missing arguments are 0 and
 * nothing past the NULL is read, so a list whose NULL is the last word of a
 * mapped page (the next page unmapped) is no EFAULT, through async_submit
 * and sysring_submit_timeout, for calls that complete inline, go to an
 * engine, or are umem_add. Each call is compared with the plain call made
 * with the same arguments (missing ones 0): result, and the file position
 * where the call moves it. A list that runs into the unmapped page before
 * any NULL, for a call that takes that many arguments, still is EFAULT.
 * Runs under the engine matrix.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

static async_context_t ctx;

/* Submit one cb, through async_submit (tmo == 0) or sysring_submit_timeout,
 * and collect its event: the call's raw result, or the submit's error. */
static long one(struct async_cb *cb, int tmo)
{
	struct async_event ev[1];
	struct async_cb *cbs[1] = {cb};
	struct timespec ts = {5, 0};
	long r = tmo ? sysring_submit_timeout(ctx, 1, cbs, &ts) : async_submit(ctx, 1, cbs);

	if (r < 0)
		return tmo ? r : -errno;
	T_EQ(r, 1);
	T_EQ(async_getevents(ctx, 1, 1, ev, NULL), 1);
	T_EQ(ev[0].cbp, cb);
	return (long)ev[0].res;
}

/* A cb {number, vargs[0..n-1], NULL} whose NULL is the last word before
 * end (the first byte of an unmapped page). */
static struct async_cb *place(void **end, long number, int n, void *const *args)
{
	struct async_cb *cb = (struct async_cb *)(end - n - 2);

	cb->number = number;
	for (int i = 0; i < n; i++)
		cb->vargs[i] = args[i];
	cb->vargs[n] = NULL;
	return cb;
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char path[] = "/tmp/sr-vargs-XXXXXX";
	t_watchdog(60);

	/* two pages, the second inaccessible (PROT_NONE rather than unmapped,
	 * so that no later mapping lands there): vargs end on the first one's
	 * last words */
	unsigned char *m = mmap(NULL, (size_t)(2 * pg), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(m != MAP_FAILED);
	T_EQ(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
	void **end = (void **)(m + pg); /* end[-1] is the page's last word */

	int fd = mkstemp(path);
	T_ASSERT(fd >= 0);
	unlink(path);
	T_EQ(write(fd, "0123456789", 10), 10);
	T_EQ(async_setup(8, &ctx), 0);

	for (int tmo = 0; tmo < 2; tmo++) {
		const char *how = tmo ? "sysring_submit_timeout" : "async_submit";
		struct async_cb *cb;
		long v0 = fd, r, plain;

		/* lseek(fd, <missing 0>, <missing SEEK_SET>): one argument then
		 * the NULL as the page's last word; the call takes three */
		cb = place(end, SYS_lseek, 1, (void *[]){&v0});
		T_EQ(lseek(fd, 7, SEEK_SET), 7);
		plain = lseek(fd, 0, SEEK_SET);
		T_EQ(lseek(fd, 7, SEEK_SET), 7);
		r = one(cb, tmo);
		if (r != plain)
			T_FAIL("%s: lseek with vargs {fd, NULL} ending a page: %ld, the plain call %ld", how, r, plain);
		T_EQ(lseek(fd, 0, SEEK_CUR), 0); /* it moved the position as the plain call does */

		/* pread64(fd, buf, <missing 0>, <missing 0>): not a "never
		 * blocks" call (its non-blocking attempt, or an engine) */
		static char buf[16];
		long vb = (long)buf;
		cb = place(end, SYS_pread64, 2, (void *[]){&v0, &vb});
		plain = pread(fd, buf, 0, 0);
		r = one(cb, tmo);
		if (r != plain)
			T_FAIL("%s: pread64 with vargs {fd, buf, NULL} ending a page: %ld, the plain call %ld", how, r, plain);

		/* a list that is only the NULL: getpriority(0, 0) */
		cb = place(end, SYS_getpriority, 0, NULL);
		errno = 0;
		plain = syscall(SYS_getpriority, 0, 0);
		if (plain < 0)
			plain = -errno;
		r = one(cb, tmo);
		if (r != plain)
			T_FAIL("%s: getpriority with vargs {NULL} ending a page: %ld, the plain call %ld", how, r, plain);

		/* umem_add(counter, <missing 0>): adds 0 */
		static uint64_t counter = 41;
		long vc = (long)&counter;
		cb = place(end, __NR_umem_add, 1, (void *[]){&vc});
		r = one(cb, tmo);
		if (r != 41 || counter != 41)
			T_FAIL("%s: umem_add with vargs {counter, NULL} ending a page: %ld (counter %llu), expected 41",
			       how, r, (unsigned long long)counter);

		/* No NULL before the unmapped page, and the call takes more
		 * arguments than the page holds: EFAULT, nothing queued. */
		cb = (struct async_cb *)(end - 3);
		cb->number = SYS_lseek;
		cb->vargs[0] = &v0;
		cb->vargs[1] = &v0;
		T_EQ(lseek(fd, 3, SEEK_SET), 3);
		r = one(cb, tmo);
		T_EQ(r, -EFAULT);
		T_EQ(lseek(fd, 0, SEEK_CUR), 3); /* nothing ran */
		struct async_event ev[1];
		T_EQ(async_check_events(ctx, 0, 1, ev, NULL), 0);
		printf("ok   %s: vargs ending with NULL on the last word of a page\n", how);
	}
	T_EQ(async_destroy(ctx), 0);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The library's kmod engine (src/engine/kmod.c) and the batch face's use of
 * it. Runs on the host (no module: everything must report -ENODEV and the
 * batch face must fall back to its other executors) and in the guest, built
 * statically by kmod/guest.cmake (module present: one crossing per batch,
 * syslets through SYSLET, SYSRING_KMOD=0 turns it off).
 */
#include "t.h"

#include <fcntl.h>
#include <sys/syscall.h>

#include <sysring/batchsys.h>

#include "engine/kmod.h"

static void check_batch_face(const char *want)
{
	int h = batchsys_open();
	batchsys_batch_t *b = batchsys_batch_alloc(h);
	T_ASSERT(h >= 0 && b);
	T_EQ(batchsys_push_syscall(b, SYS_getppid, 0), 1);
	T_EQ(batchsys_push_syscall(b, SYS_exit_group, 1, 0L), 1);
	T_EQ(batchsys_push_syscall(b, 0x7fffffffL, 0), 1);
	T_EQ(batchsys_push_close(b, -1), 1);
	T_EQ(batchsys_post_batch(h, b), 4);
	T_EQ(batch_batch_get_result(b, 0)->result, getppid());
	T_EQ(batch_batch_get_result(b, 1)->error, EPERM);  /* refused, never run */
	T_EQ(batch_batch_get_result(b, 2)->error, ENOSYS);
	T_EQ(batch_batch_get_result(b, 3)->error, EBADF);
	if (strcmp(sysring_batch_last_executor(h), want))
		T_FAIL("batch ran on %s, want %s", sysring_batch_last_executor(h), want);

	/* stop on error, through whichever executor */
	batchsys_batch_reset(b);
	T_EQ(sysring_batch_set_flags(h, SYSRING_BATCHSYS_STOP_ON_ERROR), 0);
	T_EQ(batchsys_push_syscall(b, SYS_getpid, 0), 1);
	T_EQ(batchsys_push_close(b, -1), 1);
	T_EQ(batchsys_push_syscall(b, SYS_getpid, 0), 1);
	T_EQ(batchsys_post_batch(h, b), 2);
	batchsys_batch_free(b);
	batchsys_close(h);
}

int main(void)
{
	int have = access(SYSRING_DEVICE_PATH, F_OK) == 0 && getenv("SYSRING_KMOD") == NULL;
	struct syslet_uatom a[2];
	long one = 1, cnt = -5, cp = (long)&cnt, r0 = 0;
	struct syslet_uatom *done = NULL, *resume = NULL;

	memset(a, 0, sizeof(a));
	/* umem_add loop until the counter reaches 0, then getpid */
	a[0].flags = SYSLET_STOP_ON_ZERO | SYSLET_SKIP_TO_NEXT_ON_STOP;
	a[0].nr = (unsigned long)__NR_umem_add;
	a[0].arg_ptr[0] = (unsigned long *)&cp;
	a[0].arg_ptr[1] = (unsigned long *)&one;
	a[0].next = &a[0];
	a[1].nr = SYS_getpid;
	a[1].ret_ptr = &r0;

	if (!have) {
		T_EQ(sr_kmod_open() < 0, 1);
		struct sysring_call c = { .nr = SYS_getpid };
		T_EQ(sr_kmod_batch(&c, 1, 0), -ENODEV);
		T_EQ(sr_kmod_syslet(a, 0, &done, &resume), -ENODEV);
		check_batch_face("loop");
		printf("kmod_engine: ok (no module: -ENODEV, batches on the loop)\n");
		return 0;
	}

	int fd = sr_kmod_open();
	T_ASSERT(fd >= 0);
	T_EQ(sr_kmod_open(), fd); /* cached */

	struct sysring_call c[3] = { { .nr = SYS_getppid },
				     { .nr = SYS_fork },
				     { .nr = SYS_close, .args = { (uint64_t)-1 } } };
	T_EQ(sr_kmod_batch(c, 3, 0), 3);
	T_EQ(c[0].result, getppid());
	T_EQ(c[1].result, -EPERM);
	T_EQ(c[2].result, -EBADF);
	T_EQ(sr_kmod_batch(c, 3, SYSRING_BATCH_STOP_ON_ERROR), 2);
	T_EQ(sr_kmod_batch(c, SYSRING_MAX_BATCH + 1, 0), -EINVAL);

	T_EQ(sr_kmod_syslet(a, 0, &done, &resume), 0);
	T_EQ(cnt, 0);
	T_EQ(r0, getpid());
	T_ASSERT(done == &a[1] && resume == NULL);
	cnt = -1000;
	T_EQ(sr_kmod_syslet(a, 10, &done, &resume), SYSRING_SYSLET_PAUSED);
	T_ASSERT(resume == &a[0]);
	T_EQ(cnt, -990);

	/* the descriptor closed behind the library's back: reopened */
	close(fd);
	T_EQ(sr_kmod_batch(c, 1, 0), 1);
	T_EQ(c[0].result, getppid());
	T_ASSERT(sr_kmod_open() >= 0);

	check_batch_face("kmod");
	printf("kmod_engine: ok (module: batches and syslets in one crossing)\n");
	return 0;
}

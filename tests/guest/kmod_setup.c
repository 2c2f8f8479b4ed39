/* SPDX-License-Identifier: MIT */
/*
 * No user copy under a lock another ioctl waits for (issue 14, item 6).
 * SETUP writes its answer into the caller's struct; if that write blocks (a
 * page write-protected with userfaultfd, a FUSE-backed page), the writer
 * may sleep as long as the process wants. Another SETUP on the same file,
 * and every other ioctl of the file, must not wait for it: before, the
 * second SETUP slept uninterruptibly on the file's mutex ("task blocked for
 * more than N seconds"; a panic with hung_task_panic).
 *
 * Thread 1's SETUP answer goes to a page write-protected through
 * userfaultfd, which nobody resolves; thread 2 then runs SETUP on the same
 * file and must return at once (it sets the ring up; thread 1 gets EBUSY
 * once released), and must never be seen in uninterruptible sleep.
 */
#include "gt_ring.h"

#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/mman.h>

static int fd;
static struct sysring_ring_setup *blocked_arg;
static volatile long r1 = 12345, r2 = 12345;
static pid_t tid2;

static void *setup1(void *p)
{
	r1 = gt_ioctl(fd, SYSRING_IOC_SETUP, blocked_arg);
	return p;
}

static void *setup2(void *p)
{
	struct sysring_ring_setup s = { .size = sizeof(s), .sq_entries = 8 };
	__atomic_store_n(&tid2, gettid(), __ATOMIC_RELEASE);
	r2 = gt_ioctl(fd, SYSRING_IOC_SETUP, &s);
	return p;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	pthread_t t1, t2;

	setvbuf(stdout, NULL, _IONBF, 0); /* children fork with nothing buffered */
	fd = gt_open();
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		GT_SKIP("userfaultfd: %s", strerror(errno));
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	GT_EQ(ioctl(uffd, UFFDIO_API, &api), 0);
	char *mem = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	GT_ASSERT(mem != MAP_FAILED);
	blocked_arg = (struct sysring_ring_setup *)mem;
	memset(blocked_arg, 0, sizeof(*blocked_arg));
	blocked_arg->size = sizeof(*blocked_arg);
	blocked_arg->sq_entries = 8;
	struct uffdio_register reg = { .range = { (unsigned long)mem, (unsigned long)page },
				       .mode = UFFDIO_REGISTER_MODE_WP };
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		GT_SKIP("userfaultfd write-protect: %s", strerror(errno));
	struct uffdio_writeprotect wp = { .range = reg.range, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	GT_EQ(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp), 0);

	GT_EQ(pthread_create(&t1, NULL, setup1, NULL), 0);
	/* thread 1 blocks in the write of its answer: the fault shows up */
	struct pollfd pf = { .fd = uffd, .events = POLLIN };
	GT_EQ(poll(&pf, 1, 10000), 1);
	struct uffd_msg msg;
	GT_EQ(read(uffd, &msg, sizeof(msg)), (long)sizeof(msg));
	GT_EQ(msg.event, UFFD_EVENT_PAGEFAULT);
	GT_EQ(r1, 12345);

	GT_EQ(pthread_create(&t2, NULL, setup2, NULL), 0);
	while (!__atomic_load_n(&tid2, __ATOMIC_ACQUIRE))
		usleep(100);
	int done = 0;
	char state = '?';
	for (int i = 0; i < 3000 && !done; i++) {
		state = gt_task_state(tid2);
		if (state == 'D')
			break;
		done = __atomic_load_n(&r2, __ATOMIC_RELAXED) != 12345;
		if (!done)
			usleep(1000);
	}
	/* release thread 1 before judging, so that nothing stays stuck */
	wp.mode = 0;
	GT_EQ(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	if (!done)
		GT_FAIL("a second SETUP waited for the first one's blocked user copy (state %c)", state);
	GT_EQ(r2, 0);
	GT_EQ(r1, -EBUSY);
	/* the ring is the second one's: usable */
	struct sysring_ring_wait w = { .size = sizeof(w), .min_complete = 0, .timeout_ns = 0 };
	GT_EQ(gt_ioctl(fd, SYSRING_IOC_WAIT, &w), 0);
	GT_OK("SETUP copies its answer out with no lock held: another SETUP does not wait");
	printf("kmod_setup: all passed\n");
	return 0;
}

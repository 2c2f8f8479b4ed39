/* SPDX-License-Identifier: MIT */
/*
 * sysring.ko: rings per process are bounded, also rings kept alive only by
 * a mapping after their file was closed (a hostile process would otherwise
 * hold any number of rings with few descriptors: unbounded kernel memory).
 *
 *   - open, SETUP, mmap, close, again and again (up to 4096 times): SETUP
 *     answers -EMFILE once the process has max_rings rings (the module
 *     parameter, 128 by default), the mapped-only ones counted;
 *   - the refusal costs nothing: the kernel's slab and page counts do not
 *     grow with more refused attempts;
 *   - another process is not affected (a fork child sets up its own ring
 *     while the parent is at the limit);
 *   - munmap of one mapped-only ring frees it: SETUP works again, once;
 *   - a destroyed ring still mapped counts too;
 *   - once every mapping is gone, the whole allowance is back.
 */
#include "gt_ring.h"

#include <stdbool.h>
#include <sys/wait.h>

#define TRIES 4096

static void *maps[TRIES];
static size_t map_len[TRIES];

/* One ring of 8 entries, mapped, its file closed: the mapping holds it.
 * 0, or SETUP's/mmap's -errno. */
static long ring_mapped_only(int i, bool destroy)
{
	int fd = gt_open();
	struct gt_ring r;
	long ret = gt_ring_init(&r, fd, 8, 0, 0);

	if (ret == 0 && destroy)
		GT_EQ(gt_ioctl(fd, SYSRING_IOC_DESTROY, 0), 0);
	close(fd);
	if (ret)
		return ret;
	maps[i] = r.mem;
	map_len[i] = r.s.mmap_size;
	return 0;
}

static long max_rings_param(void)
{
	FILE *f = fopen("/sys/module/sysring/parameters/max_rings", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Kernel memory in use, in kB: slab (unreclaimable) plus what is not free. */
static long kmem_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long total = 0, avail = 0, v;

	GT_ASSERT(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %ld", &v) == 1)
			total = v;
		else if (sscanf(line, "MemAvailable: %ld", &v) == 1)
			avail = v;
	}
	fclose(f);
	return total - avail;
}

int main(void)
{
	long cap = max_rings_param(), r = 0;
	int n = 0, st;

	close(gt_open());
	for (n = 0; n < TRIES; n++) {
		r = ring_mapped_only(n, n % 2);
		if (r)
			break;
	}
	if (n == TRIES)
		GT_FAIL("%d rings held by mappings alone, files closed: no limit per process", TRIES);
	if (r != -EMFILE)
		GT_FAIL("SETUP after %d rings: %ld (want -EMFILE)", n, r);
	if (cap >= 0 && n != cap)
		GT_FAIL("SETUP refused after %d rings, max_rings is %ld", n, cap);

	/* more refusals cost nothing */
	long before = kmem_kb();
	for (int i = 0; i < 2000; i++)
		GT_EQ(ring_mapped_only(n, false), -EMFILE);
	long after = kmem_kb();
	if (after - before > 4096)
		GT_FAIL("2000 refused SETUPs grew kernel memory by %ld kB", after - before);

	/* another process has its own allowance */
	pid_t pid = fork();
	GT_ASSERT(pid >= 0);
	if (pid == 0) {
		/* the parent's mappings are not inherited (VM_DONTCOPY) */
		int fd = gt_open();
		struct gt_ring cr;
		GT_EQ(gt_ring_init(&cr, fd, 8, 0, 0), 0);
		_exit(0);
	}
	GT_EQ(waitpid(pid, &st, 0), pid);
	GT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* one mapping gone (a destroyed ring's): one ring more, not two */
	GT_EQ(munmap(maps[1], map_len[1]), 0);
	GT_EQ(ring_mapped_only(1, false), 0);
	GT_EQ(ring_mapped_only(n, false), -EMFILE);

	for (int i = 0; i < n; i++)
		GT_EQ(munmap(maps[i], map_len[i]), 0);
	/* everything back: the whole allowance again */
	int m;
	for (m = 0; m < n; m++)
		GT_EQ(ring_mapped_only(m, false), 0);
	GT_EQ(ring_mapped_only(m, false), -EMFILE);
	for (int i = 0; i < n; i++)
		GT_EQ(munmap(maps[i], map_len[i]), 0);
	printf("kmod_ringcap: refused with EMFILE after %d rings (max_rings %ld)\n", n, cap);
	GT_OK("rings per process are bounded, mapped-only ones counted");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* The per-syscall table covers every call number of the build machine's
 * headers with the same name, rows are sane, the refused list is the
 * documented one, and unknown numbers are -ENOSYS. */
#include <sys/syscall.h>

#include "t.h"

#include <sysring.h>

#include "table/table.h"

struct nr_name {
	const char *name;
	long nr;
};

static const struct nr_name header_calls[] = {
#define SR_NR(name, nr) {#name, nr},
#include "nr_list.h"
#undef SR_NR
};

int main(void)
{
	struct sysring_syscall_info info;
	unsigned int rows = 0, nb = 0, mb = 0, rf = 0;

	T_EQ(sr_table_check(), 0);
	for (size_t i = 0; i < sizeof(header_calls) / sizeof(header_calls[0]); i++) {
		const struct sr_sysent *e = sr_sysent((unsigned long)header_calls[i].nr);
		if (!e)
			T_FAIL("no row for %s (%ld)", header_calls[i].name, header_calls[i].nr);
		if (strcmp(e->name, header_calls[i].name))
			T_FAIL("row %ld is %s, headers say %s", header_calls[i].nr, e->name,
			       header_calls[i].name);
	}
	for (unsigned int nr = 0; nr < SR_NR_MAX; nr++) {
		const struct sr_sysent *e = sr_sysent(nr);
		if (!e)
			continue;
		rows++;
		nb += e->cls == SR_NB;
		mb += e->cls == SR_MB;
		rf += e->cls == SR_RF;
	}
	static const long refused[] = {SYS_exit,   SYS_exit_group, SYS_fork,    SYS_vfork,
				       SYS_clone,  SYS_clone3,     SYS_execve,  SYS_execveat,
				       SYS_rt_sigreturn};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		T_EQ(sysring_syscall_info(refused[i], &info), 0);
		T_EQ(info.cls, SYSRING_CLASS_REFUSED);
	}
	T_EQ(sysring_syscall_info(SYS_getppid, &info), 0);
	T_EQ(info.cls, SYSRING_CLASS_NEVER_BLOCKS);
	T_EQ(info.nargs, 0);
	T_EQ(strcmp(info.name, "getppid"), 0);
	T_EQ(sysring_syscall_info(SYS_read, &info), 0);
	T_EQ(info.cls, SYSRING_CLASS_MAY_BLOCK);
	T_EQ(info.nargs, 3);
	T_EQ(sysring_syscall_info(SYS_mmap, &info), 0);
	T_EQ(info.nargs, 6);
	T_EQ(sysring_syscall_info(-1, &info), -ENOSYS);
	T_EQ(sysring_syscall_info(400, &info), -ENOSYS);
	T_EQ(sysring_syscall_info(100000, &info), -ENOSYS);
	printf("table: %u rows (%zu in the headers), %u never block, %u may block, %u refused\n",
	       rows, sizeof(header_calls) / sizeof(header_calls[0]), nb, mb, rf);
	return 0;
}

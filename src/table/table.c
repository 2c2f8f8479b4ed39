/* SPDX-License-Identifier: MIT */
/*
 * The table's rows come from syscalls.def; duplicate numbers are caught by
 * the compiler (-Woverride-init, an error under -Werror) and the coverage of
 * the build machine's <asm/unistd_64.h> by tests/table.c.
 */
#include "table.h"

#include <errno.h>

#define NB SR_NB
#define MB SR_MB
#define RF SR_RF

const struct sr_sysent sr_systab[SR_NR_MAX] = {
#define SR_SYSCALL(nr, nm, na, cl) [nr] = {.name = #nm, .nargs = (na), .cls = (cl)},
#include "syscalls.def"
#undef SR_SYSCALL
};

int sr_table_check(void)
{
	for (unsigned int nr = 0; nr < SR_NR_MAX; nr++) {
		const struct sr_sysent *e = &sr_systab[nr];
		if (!e->name)
			continue;
		if (e->nargs > 6 || (e->cls != SR_NB && e->cls != SR_MB && e->cls != SR_RF))
			return -EINVAL;
	}
	return 0;
}

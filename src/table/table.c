/* SPDX-License-Identifier: MIT */
/*
 * The table's rows come from syscalls.def; duplicate numbers are caught by
 * the compiler (-Woverride-init, an error under -Werror) and the coverage of
 * the build machine's <asm/unistd_64.h> by tests/table.c.
 */
#include "table.h"

#include <errno.h>

#include "thread.h"

#define NB SR_NB
#define MB SR_MB
#define RF SR_RF
#define TS SR_TS

/* The column lists name rows that syscalls.def already initialised; a
 * designator like [SR_NR_read].uring fills that member and keeps the rest of
 * the row (GCC and Clang agree), which -Woverride-init would flag. Duplicate
 * rows in syscalls.def are caught by tests/table.c instead. */
#pragma GCC diagnostic ignored "-Woverride-init"

#define SR_URING(nm, op) extern const struct sr_uring_op op;
#include "uring.def"
#undef SR_URING
#define SR_NOWAIT(nm, fn) extern sr_nowait_fn fn;
#include "nowait.def"
#undef SR_NOWAIT

const struct sr_sysent sr_systab[SR_NR_MAX] = {
#define SR_SYSCALL(nr, nm, na, cl) [nr] = {.name = #nm, .nargs = (na), .cls = (cl)},
#include "syscalls.def"
#undef SR_SYSCALL
#define SR_URING(nm, op) [SR_NR_##nm].uring = &op,
#include "uring.def"
#undef SR_URING
#define SR_NOWAIT(nm, fn) [SR_NR_##nm].nowait = fn,
#include "nowait.def"
#undef SR_NOWAIT
#define SR_VECTOR(nm, vec, pos, rd) \
	[SR_NR_##nm].vec_nr = SR_NR_##vec, [SR_NR_##nm].vec_pos = (pos), [SR_NR_##nm].vec_read = (rd),
#include "vector.def"
#undef SR_VECTOR
#define SR_SIGNAL(nm, sg, fa) [SR_NR_##nm].sigs = (sg), [SR_NR_##nm].sig_flags = (fa),
#include "signal.def"
#undef SR_SIGNAL
#define SR_THREAD(nm, fn, oth) [SR_NR_##nm].thread = fn, [SR_NR_##nm].other = (oth),
#include "thread.def"
#undef SR_THREAD
};

int sr_table_check(void)
{
	for (unsigned int nr = 0; nr < SR_NR_MAX; nr++) {
		const struct sr_sysent *e = &sr_systab[nr];
		if (!e->name)
			continue;
		if (e->nargs > 6 ||
		    (e->cls != SR_NB && e->cls != SR_MB && e->cls != SR_RF && e->cls != SR_TS))
			return -EINVAL;
		/* A classifier only on TS rows, naming a class a call can run in. */
		if (e->thread && (e->cls != SR_TS || (e->other != SR_NB && e->other != SR_MB)))
			return -EINVAL;
	}
	return 0;
}

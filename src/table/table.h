/* SPDX-License-Identifier: MIT */
/*
 * The per-system-call table: one row per x86-64 call number, built from the
 * X-macro list in syscalls.def. It is the only place that knows anything
 * about individual calls; engines and faces ask it, they never switch on a
 * call number themselves.
 */
#ifndef SYSRING_TABLE_H
#define SYSRING_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* Numbers below this bound can have a row; x86-64 ends near 470. */
#define SR_NR_MAX 512

enum sr_class {
	SR_NB = 1, /* never blocks: fine to run on the caller */
	SR_MB = 2, /* may block: belongs on an executor */
	SR_RF = 3, /* refused off the submitting thread: never executed */
};

struct sr_sysent {
	const char *name; /* NULL: no such call */
	uint8_t nargs;
	uint8_t cls;
};

extern const struct sr_sysent sr_systab[SR_NR_MAX];

/* The row of call `nr`, or NULL for a number no call has (-ENOSYS). */
static inline const struct sr_sysent *sr_sysent(unsigned long nr)
{
	if (nr >= SR_NR_MAX || !sr_systab[nr].name)
		return NULL;
	return &sr_systab[nr];
}

/* Self-check of the table's rows at start-up; 0 or -EINVAL. */
int sr_table_check(void);

#endif

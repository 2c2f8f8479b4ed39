/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * The syslet control flow, shared by the library and the kernel module (both
 * compile this header): after an atom ran with result `res`, where does the
 * syslet go next?
 *
 *   - a stop condition of the atom holds on res:
 *       with SYSLET_SKIP_TO_NEXT_ON_STOP: continue at atom + 1 (the atom laid
 *       out right after it in memory), else the syslet ends at this atom;
 *   - otherwise continue at atom->next; NULL ends the syslet at this atom.
 *
 * Only values are passed in (flags and next already fetched), so the kernel
 * can use it on atoms it copied with copy_from_user and the library on atoms
 * it reads in place. Nothing here dereferences an atom pointer.
 */
#ifndef SYSRING_CORE_INTERP_H
#define SYSRING_CORE_INTERP_H

#ifndef SYSLET_STOP_MASK
#error "include the syslet ABI (sysring/syslet.h) first"
#endif

static inline int sr_syslet_stops(unsigned long flags, long res)
{
	return ((flags & SYSLET_STOP_ON_NONZERO) && res != 0) ||
	       ((flags & SYSLET_STOP_ON_ZERO) && res == 0) ||
	       ((flags & SYSLET_STOP_ON_NEGATIVE) && res < 0) ||
	       ((flags & SYSLET_STOP_ON_NON_POSITIVE) && res <= 0);
}

/* The atom to run after `atom`, or NULL when the syslet ends at `atom`. */
static inline struct syslet_uatom *sr_syslet_next(struct syslet_uatom *atom, unsigned long flags,
						  struct syslet_uatom *next, long res)
{
	if (sr_syslet_stops(flags, res))
		return (flags & SYSLET_SKIP_TO_NEXT_ON_STOP) ? atom + 1 : (struct syslet_uatom *)0;
	return next;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The C side of header_cxx.cpp: the layout of struct syslet_uatom as C sees
 * it (member `private`), and accessors the C++ side calls to check that its
 * `private_` is the same storage.
 */
#include <stddef.h>

#include <sysring.h>

size_t c_uatom_size(void);
size_t c_uatom_private_offset(void);
void *c_uatom_get_private(const struct syslet_uatom *a);
void c_uatom_set_private(struct syslet_uatom *a, void *p);

size_t c_uatom_size(void)
{
	return sizeof(struct syslet_uatom);
}

size_t c_uatom_private_offset(void)
{
	return offsetof(struct syslet_uatom, private);
}

void *c_uatom_get_private(const struct syslet_uatom *a)
{
	return a->private;
}

void c_uatom_set_private(struct syslet_uatom *a, void *p)
{
	SYSLET_PRIVATE(a) = p;
}

// SPDX-License-Identifier: MIT
//
// sysring's headers from C++ (-std=c++17 -pedantic): they compile, the
// functions link (extern "C"), and struct syslet_uatom's `private_` (the C
// member `private`, a C++ keyword) has the C member's offset, size and
// storage; the rest of the atom is laid out as in C. A syslet of one atom
// built in C++ runs.
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <sys/syscall.h>

#include <sysring.h>
#include <sysring/batchsys.h>

extern "C" {
size_t c_uatom_size(void);
size_t c_uatom_private_offset(void);
void *c_uatom_get_private(const struct syslet_uatom *a);
void c_uatom_set_private(struct syslet_uatom *a, void *p);
}

static int fails;
#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			fails++;                                                          \
		}                                                                         \
	} while (0)

// The seed's layout: 4 words, 6 argument pointers, then private.
static_assert(offsetof(syslet_uatom, private_) == 4 * sizeof(long) + 6 * sizeof(void *),
	      "private_ after arg_ptr[6]");
static_assert(sizeof(syslet_uatom) == offsetof(syslet_uatom, private_) + sizeof(void *),
	      "private_ is the last member");
static_assert(sizeof(((syslet_uatom *)0)->private_) == sizeof(void *), "private_ is a pointer");

int main()
{
	CHECK(sizeof(syslet_uatom) == c_uatom_size());
	CHECK(offsetof(syslet_uatom, private_) == c_uatom_private_offset());
	CHECK(offsetof(syslet_uatom, arg_ptr) == 4 * sizeof(long));

	syslet_uatom a = {};
	int marker = 0;
	a.private_ = &marker;
	CHECK(c_uatom_get_private(&a) == &marker);
	c_uatom_set_private(&a, &fails);
	CHECK(a.private_ == &fails);
	CHECK(SYSLET_PRIVATE(&a) == &fails);

	// One atom, run on this thread (no ring registered): getpid.
	long ret = 0;
	a.nr = SYS_getpid;
	a.ret_ptr = &ret;
	a.next = nullptr;
	CHECK(async_exec(&a) == &a);
	CHECK(ret == (long)getpid());

	// The umbrella and the batch header together, as a C++ Batchsys program.
	CHECK(sizeof(batchsys_batch_t) == 4056);
	CHECK(kRead != kWrite);
	CHECK(sysring_version() != nullptr);

	if (fails)
		return 1;
	std::printf("header_cxx: C and C++ agree on struct syslet_uatom (%zu bytes, private at %zu)\n",
		    sizeof(syslet_uatom), offsetof(syslet_uatom, private_));
	return 0;
}

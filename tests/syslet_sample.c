/* SPDX-License-Identifier: MIT */
/*
 * The seed's sample program (Documentation/syslet-design.txt, 2007): its
 * main() and init_atom() as written there, built against <sysring.h>. The
 * few names the sample takes from its own surroundings (async_head_init,
 * async_head_exit, completion_ring, curr_ring_idx, __NR_sys_write) are
 * defined here as a program of 2007 would have. Exit status checks that it
 * printed "completed an ..." once.
 */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sysring/syslet.h>

#define __NR_sys_write __NR_write

static struct syslet_uatom *completion_ring[4];
static unsigned long curr_ring_idx;
static struct async_head_user ahu;

static void async_head_init(void)
{
	ahu.completion_ring = completion_ring;
	ahu.ring_size_bytes = sizeof(completion_ring);
	ahu.max_nr_threads = -1UL;
	if (async_register(&ahu, sizeof(ahu)))
		perror("async_register");
}

static void async_head_exit(void)
{
	if (async_unregister(&ahu, sizeof(ahu)))
		perror("async_unregister");
}

static int printed;
#define printf(...) (printed++, fprintf(stdout, __VA_ARGS__))

/* ---- from the seed, unchanged ---- */

/*
 * Set up a syslet atom:
 */
static void
init_atom(struct syslet_uatom *atom, int nr,
	  void *arg_ptr0, void *arg_ptr1, void *arg_ptr2,
	  void *arg_ptr3, void *arg_ptr4, void *arg_ptr5,
	  void *ret_ptr, unsigned long flags, struct syslet_uatom *next)
{
	atom->nr = nr;
	atom->arg_ptr[0] = arg_ptr0;
	atom->arg_ptr[1] = arg_ptr1;
	atom->arg_ptr[2] = arg_ptr2;
	atom->arg_ptr[3] = arg_ptr3;
	atom->arg_ptr[4] = arg_ptr4;
	atom->arg_ptr[5] = arg_ptr5;
	atom->ret_ptr = ret_ptr;
	atom->flags = flags;
	atom->next = next;
}

int main(int argc, char *argv[])
{
	unsigned long int fd_out = 1; /* standard output */
	char *buf = "Hello Syslet World!\n";
	unsigned long size = strlen(buf);
	struct syslet_uatom atom, *done;

	async_head_init();

	/*
	 * Simple syslet consisting of a single atom:
	 */
	init_atom(&atom, __NR_sys_write, &fd_out, &buf, &size,
		  NULL, NULL, NULL, NULL, SYSLET_ASYNC, NULL);
	done = sys_async_exec(&atom);
	if (!done) {
		sys_async_wait(1);
		if (completion_ring[curr_ring_idx] == &atom) {
			completion_ring[curr_ring_idx] = NULL;
			printf("completed an async syslet atom!\n");
		}
	} else {
		printf("completed an cached syslet atom!\n");
	}

	async_head_exit();

	return printed == 1 ? 0 : 1;
}

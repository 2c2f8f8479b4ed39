/* SPDX-License-Identifier: MIT */
/*
 * sdu — a `du -s` built on syslets. For every directory, one syslet
 * openat -> getdents64 runs asynchronously (the fd flows from the first atom
 * into the second); for every batch of entries it returns, one syslet of
 * chained statx atoms (one per entry, all on the directory's fd) stats them
 * without a round trip to the program between calls. Many directories are in
 * flight at once; completions arrive in the thread's completion ring.
 *
 *   sdu [--plain] DIR     prints "<KiB>\tDIR" like du -s (--plain: the same
 *                         walk with ordinary sequential calls, to compare)
 *
 * Hard links are counted once (by device and inode), as du does.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sysring.h>

#define BUFSZ (32 * 1024)
#define RING 256

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* ---- hard links: an open-addressing set of (dev, ino) ---- */
static struct {
	uint64_t dev, ino;
} *seen;
static size_t seen_cap, seen_n;

static int seen_add(uint64_t dev, uint64_t ino)
{
	if (seen_n * 2 >= seen_cap) {
		size_t oc = seen_cap;
		__typeof__(seen) old = seen;
		seen_cap = seen_cap ? seen_cap * 2 : 1024;
		seen = calloc(seen_cap, sizeof(*seen));
		seen_n = 0;
		for (size_t i = 0; i < oc; i++)
			if (old[i].ino)
				seen_add(old[i].dev, old[i].ino);
		free(old);
	}
	size_t h = (size_t)((ino * 0x9e3779b97f4a7c15ull) ^ dev) & (seen_cap - 1);
	while (seen[h].ino) {
		if (seen[h].ino == ino && seen[h].dev == dev)
			return 0;
		h = (h + 1) & (seen_cap - 1);
	}
	seen[h].dev = dev;
	seen[h].ino = ino;
	seen_n++;
	return 1;
}

static uint64_t total_blocks;

static void account(uint64_t dev, uint64_t ino, uint32_t nlink, uint64_t blocks)
{
	if (nlink > 1 && !seen_add(dev, ino))
		return;
	total_blocks += blocks;
}

/* ---- the plain walker ---- */

static void plain_walk(int dfd)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		account(st.st_dev, st.st_ino, (uint32_t)st.st_nlink, (uint64_t)st.st_blocks);
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				plain_walk(sub);
		}
	}
	closedir(d);
}

/* ---- the syslet walker ---- */

struct dir {
	struct dir *parent;
	long parent_fd; /* arg of openat: the parent's fd (or AT_FDCWD) */
	long name;      /* arg of openat: char * */
	long fd;        /* result of openat, then an arg of the rest */
	long bufp, bufsz, gd_ret, open_ret;
	int refs;       /* batches in flight + children not yet opened */
	char *buf;
	char namebuf[256];
	struct syslet_uatom open_atom, gd_atom;
};

/* A batch of entries being stat'ed: one syslet of chained statx atoms. */
struct batch {
	struct dir *dir;
	int n;
	char *buf; /* the getdents buffer the names live in */
	long *namep, *stxp, *ret;
	struct statx *stx;
	struct syslet_uatom *atoms;
};

static const long c_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, c_zero = 0,
		  c_stat_flags = AT_SYMLINK_NOFOLLOW,
		  c_mask = STATX_TYPE | STATX_INO | STATX_NLINK | STATX_BLOCKS;
static long inflight;
static struct dir **ready; /* dirs whose open+getdents must be issued */
static size_t nready, capready;

static void push_ready(struct dir *d)
{
	if (nready == capready) {
		capready = capready ? capready * 2 : 256;
		ready = realloc(ready, capready * sizeof(*ready));
	}
	ready[nready++] = d;
}

static void atom_init(struct syslet_uatom *a, long nr, const long *a0, const long *a1, const long *a2,
		      const long *a3, const long *a4, long *ret, unsigned long flags, struct syslet_uatom *next,
		      void *priv)
{
	memset(a, 0, sizeof(*a));
	a->nr = (unsigned long)nr;
	a->arg_ptr[0] = (unsigned long *)a0;
	a->arg_ptr[1] = (unsigned long *)a1;
	a->arg_ptr[2] = (unsigned long *)a2;
	a->arg_ptr[3] = (unsigned long *)a3;
	a->arg_ptr[4] = (unsigned long *)a4;
	a->ret_ptr = ret;
	a->flags = flags;
	a->next = next;
	a->private = priv;
}

static void dir_put(struct dir *d)
{
	while (d && --d->refs == 0) {
		struct dir *p = d->parent;
		if (d->fd >= 0)
			close((int)d->fd);
		free(d->buf);
		free(d);
		d = p;
	}
}

static void on_done(struct syslet_uatom *end);

static void run(struct syslet_uatom *first, struct syslet_uatom *last)
{
	struct syslet_uatom *r = async_exec(first);
	if (r) {
		on_done(last); /* cached: ran to its end here */
	} else {
		inflight++;
	}
}

/* Issue openat -> getdents64 for a directory (or only getdents64 when it
 * is open already and has more entries). */
static void issue_dir(struct dir *d)
{
	d->bufp = (long)d->buf;
	d->bufsz = BUFSZ;
	d->refs++;
	atom_init(&d->gd_atom, SYS_getdents64, &d->fd, &d->bufp, &d->bufsz, NULL, NULL, &d->gd_ret, 0, NULL,
		  d);
	if (d->fd < 0) {
		atom_init(&d->open_atom, SYS_openat, &d->parent_fd, &d->name, &c_flags, &c_zero, NULL, &d->fd,
			  SYSLET_STOP_ON_NEGATIVE, &d->gd_atom, d);
		run(&d->open_atom, &d->gd_atom);
	} else {
		run(&d->gd_atom, &d->gd_atom);
	}
}

static void batch_done(struct batch *b)
{
	for (int i = 0; i < b->n; i++) {
		struct statx *sx = &b->stx[i];
		if (b->ret[i] < 0)
			continue;
		account(((uint64_t)sx->stx_dev_major << 32) | sx->stx_dev_minor, sx->stx_ino, sx->stx_nlink,
			sx->stx_blocks);
		if (S_ISDIR(sx->stx_mode)) {
			struct dir *c = calloc(1, sizeof(*c));
			const char *nm = (const char *)b->namep[i];
			c->parent = b->dir;
			c->parent_fd = b->dir->fd;
			snprintf(c->namebuf, sizeof(c->namebuf), "%s", nm);
			c->name = (long)c->namebuf;
			c->fd = -1;
			c->buf = malloc(BUFSZ);
			b->dir->refs++; /* the child needs our fd until it is open */
			push_ready(c);
		}
	}
	dir_put(b->dir);
	free(b->buf);
	free(b->namep);
	free(b->stxp);
	free(b->ret);
	free(b->stx);
	free(b->atoms);
	free(b);
}

static void gd_done(struct dir *d)
{
	long n = d->gd_ret;
	int count = 0;

	if (d->parent && d->open_atom.nr == SYS_openat && d->parent->refs) {
		/* our open has run: the parent's fd is no longer needed by us */
		d->open_atom.nr = 0;
		dir_put(d->parent);
		d->parent = NULL;
	}
	if (d->fd < 0 || n <= 0) {
		dir_put(d); /* end of the directory, or it could not be read */
		return;
	}
	for (long off = 0; off < n;) {
		struct linux_dirent64 *de = (struct linux_dirent64 *)(d->buf + off);
		off += de->d_reclen;
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			count++;
	}
	/* hand this buffer to a stat batch; read on with a fresh one */
	struct batch *b = calloc(1, sizeof(*b));
	b->dir = d;
	b->buf = d->buf;
	b->n = count;
	d->buf = malloc(BUFSZ);
	d->refs++; /* the batch */
	if (count) {
		b->namep = calloc((size_t)count, sizeof(long));
		b->stxp = calloc((size_t)count, sizeof(long));
		b->ret = calloc((size_t)count, sizeof(long));
		b->stx = calloc((size_t)count, sizeof(struct statx));
		b->atoms = calloc((size_t)count, sizeof(struct syslet_uatom));
		int i = 0;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *de = (struct linux_dirent64 *)(b->buf + off);
			off += de->d_reclen;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			b->namep[i] = (long)de->d_name;
			b->stxp[i] = (long)&b->stx[i];
			i++;
		}
		/* one syslet: statx(fd, name_i, ...) for every entry, chained */
		for (i = 0; i < count; i++)
			atom_init(&b->atoms[i], SYS_statx, &d->fd, &b->namep[i], &c_stat_flags, &c_mask, &b->stxp[i],
				  &b->ret[i], 0, i + 1 < count ? &b->atoms[i + 1] : NULL, b);
		b->atoms[count - 1].private = b;
		run(&b->atoms[0], &b->atoms[count - 1]);
	} else {
		batch_done(b);
	}
	/* more entries may follow */
	issue_dir(d);
	dir_put(d); /* the getdents that just finished */
}

static void on_done(struct syslet_uatom *end)
{
	struct dir *d = end->private;
	if (end->nr == SYS_statx) {
		batch_done((struct batch *)end->private);
		return;
	}
	gd_done(d); /* open stopped on error, or getdents ended it */
}

static int syslet_walk(const char *path)
{
	static struct syslet_uatom *ring[RING];
	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	unsigned long ridx = 0;

	if (async_register(&ahu, sizeof(ahu))) {
		perror("async_register");
		return 1;
	}
	struct dir *root = calloc(1, sizeof(*root));
	root->parent_fd = AT_FDCWD;
	snprintf(root->namebuf, sizeof(root->namebuf), "%s", path);
	root->name = (long)root->namebuf;
	root->fd = -1;
	root->buf = malloc(BUFSZ);
	root->refs = 1; /* the walk's own reference, dropped at the end */
	push_ready(root);
	for (;;) {
		/* issue what is ready, but keep the ring from overflowing too far */
		while (nready && inflight < RING)
			issue_dir(ready[--nready]);
		if (!inflight && !nready)
			break;
		if (async_wait(1) < 0 && errno != EINTR) {
			perror("async_wait");
			return 1;
		}
		while (ring[ridx]) {
			struct syslet_uatom *end = ring[ridx];
			ring[ridx] = NULL;
			ridx = (ridx + 1) % RING;
			inflight--;
			on_done(end);
		}
	}
	dir_put(root);
	async_unregister(&ahu, sizeof(ahu));
	return 0;
}

int main(int argc, char **argv)
{
	int plain = argc > 1 && !strcmp(argv[1], "--plain");
	const char *path = argc > 1 + plain ? argv[1 + plain] : ".";
	struct stat st;

	if (lstat(path, &st)) {
		perror(path);
		return 1;
	}
	account(st.st_dev, st.st_ino, (uint32_t)st.st_nlink, (uint64_t)st.st_blocks);
	if (S_ISDIR(st.st_mode)) {
		if (plain) {
			int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0) {
				perror(path);
				return 1;
			}
			plain_walk(fd);
		} else if (syslet_walk(path)) {
			return 1;
		}
	}
	printf("%llu\t%s\n", (unsigned long long)(total_blocks / 2), path);
	return 0;
}

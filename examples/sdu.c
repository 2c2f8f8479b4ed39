/* SPDX-License-Identifier: MIT */
/*
 * sdu — `du -s` built on syslets. For every directory, one syslet
 * openat -> getdents64 runs asynchronously (the fd flows from the first atom
 * into the second); for every buffer of entries it returns, one syslet of
 * chained statx atoms (one per entry, all on the directory's fd) stats them
 * without a round trip to the program between calls. Many directories are in
 * flight at once; completions arrive in the thread's completion ring.
 *
 *   sdu [OPTION]... [FILE]...
 *
 * prints one line "<size>\t<FILE>" per FILE, in order, as GNU `du -s` does,
 * for the options it accepts: -h, -c, -x, --apparent-size (and -s, -k, -b).
 * What it counts is what du counts:
 *   - the sum of st_blocks * 512 (with --apparent-size, of st_size), shown in
 *     KiB rounded up (-h: du's human-readable form, powers of 1024, rounded
 *     up);
 *   - files with several hard links once; with more than one FILE, every
 *     file and directory once over the whole command line (a FILE already
 *     counted under an earlier one prints no line), as du does;
 *   - symbolic links themselves, never their targets (a FILE ending in '/'
 *     names the directory a link points to, as with du);
 *   - with -x, nothing on another file system than its FILE (a mount point
 *     is left out entirely, as du leaves it out).
 * An entry that cannot be read is reported on stderr the way du reports it
 * ("cannot read directory", "cannot access"); the totals that could be
 * computed are still printed and the exit status is 1.
 *
 * --plain does the same walk with ordinary sequential system calls (the
 * benchmark compares the two, and the tests compare both with du).
 *
 * Ownership: a struct dir is freed when its reference count reaches zero.
 * References are held by: the walk itself (root), each syslet in flight on
 * it (open+getdents, or a stat batch of its entries), and each child not yet
 * opened (which needs the parent's fd as its openat's dirfd).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
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

/* ---- options and results ---- */

static int opt_human, opt_total, opt_xdev, opt_apparent, opt_plain;
static int hash_all;         /* more than one FILE: every file counted once overall */
static int exit_status;
static uint64_t cur_bytes;   /* the current FILE's total */
static dev_t root_dev;       /* the current FILE's device (for -x) */

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p) {
		fprintf(stderr, "sdu: memory exhausted\n");
		exit(1);
	}
	return p;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p) {
		fprintf(stderr, "sdu: memory exhausted\n");
		exit(1);
	}
	return p;
}

/* du quotes file names in messages for the shell: 'name', or "name" when
 * the name holds a single quote (and nothing "..." would expand). */
static void print_quoted(const char *s)
{
	int sq = strchr(s, '\'') != NULL;
	if (!sq) {
		fprintf(stderr, "'%s'", s);
	} else if (!strpbrk(s, "\"$`\\")) {
		fprintf(stderr, "\"%s\"", s);
	} else {
		fputc('\'', stderr);
		for (; *s; s++) {
			if (*s == '\'')
				fputs("'\\''", stderr);
			else
				fputc(*s, stderr);
		}
		fputc('\'', stderr);
	}
}

static void report(const char *what, const char *path, int err)
{
	fprintf(stderr, "sdu: %s ", what);
	print_quoted(path);
	fprintf(stderr, ": %s\n", strerror(err));
	exit_status = 1;
}

/* parent + "/" + name, without doubling a slash the parent ends with. */
static char *join(const char *parent, const char *name)
{
	size_t lp = strlen(parent), ln = strlen(name);
	int slash = lp && parent[lp - 1] == '/';
	char *p = xmalloc(lp + ln + 2);
	memcpy(p, parent, lp);
	if (!slash)
		p[lp++] = '/';
	memcpy(p + lp, name, ln + 1);
	return p;
}

/* ---- files counted once: an open-addressing set of (dev, ino) ---- */

static struct seen_slot {
	uint64_t dev, ino;
	int used;
} *seen;
static size_t seen_cap, seen_n;

static int seen_add(uint64_t dev, uint64_t ino)
{
	if (seen_n * 2 >= seen_cap) {
		size_t oc = seen_cap;
		struct seen_slot *old = seen;
		seen_cap = seen_cap ? seen_cap * 2 : 1024;
		seen = xcalloc(seen_cap, sizeof(*seen));
		seen_n = 0;
		for (size_t i = 0; i < oc; i++)
			if (old[i].used)
				seen_add(old[i].dev, old[i].ino);
		free(old);
	}
	size_t h = (size_t)((ino * 0x9e3779b97f4a7c15ull) ^ (dev * 0xff51afd7ed558ccdull)) & (seen_cap - 1);
	while (seen[h].used) {
		if (seen[h].ino == ino && seen[h].dev == dev)
			return 0;
		h = (h + 1) & (seen_cap - 1);
	}
	seen[h].dev = dev;
	seen[h].ino = ino;
	seen[h].used = 1;
	seen_n++;
	return 1;
}

/*
 * du's rule for one file: on another file system with -x, it is left out;
 * a file seen before (a hard link; with several FILEs, anything) adds
 * nothing. Returns 1 if the file was counted (a directory is then
 * descended), 0 if not.
 */
static int visit(dev_t dev, uint64_t ino, int is_dir, uint64_t nlink, uint64_t blocks, int64_t size,
		 int top)
{
	if (opt_xdev && !top && dev != root_dev)
		return 0;
	if ((hash_all || (!is_dir && nlink > 1)) && !seen_add((uint64_t)dev, ino))
		return 0;
	cur_bytes += opt_apparent ? (uint64_t)(size > 0 ? size : 0) : blocks * 512;
	return 1;
}

/* ---- output: du's -k (KiB, rounded up) and -h forms ---- */

static void format_size(uint64_t bytes, char *out, size_t n)
{
	static const char units[] = "KMGTPEZY";
	if (!opt_human) {
		snprintf(out, n, "%" PRIu64, bytes / 1024 + (bytes % 1024 != 0));
		return;
	}
	if (bytes < 1024) {
		snprintf(out, n, "%" PRIu64, bytes);
		return;
	}
	/* The smallest unit in which the value, rounded up, stays below 1024;
	 * below 10 it keeps one decimal (rounded up), as du -h prints. */
	unsigned __int128 unit = 1024;
	for (int e = 0; e < 8; e++, unit *= 1024) {
		unsigned __int128 tenths = ((unsigned __int128)bytes * 10 + unit - 1) / unit;
		if (tenths < 100) {
			snprintf(out, n, "%u.%u%c", (unsigned)(tenths / 10), (unsigned)(tenths % 10), units[e]);
			return;
		}
		unsigned __int128 whole = (bytes + unit - 1) / unit;
		if (whole < 1024) {
			snprintf(out, n, "%u%c", (unsigned)whole, units[e]);
			return;
		}
	}
	snprintf(out, n, "%" PRIu64, bytes);
}

static void print_line(uint64_t bytes, const char *label)
{
	char buf[64];
	format_size(bytes, buf, sizeof(buf));
	printf("%s\t%s\n", buf, label);
}

/* ---- the plain walker ---- */

/*
 * Reads the whole directory, then stats its entries and descends into its
 * subdirectories relative to its descriptor. Every directory on the way
 * down holds one; when an open fails for want of descriptors (a low
 * RLIMIT_NOFILE, a deep tree), this directory gives its own back and goes
 * on by path (AT_FDCWD + the path from the command line), as du does not
 * fail for that reason either.
 */
static void plain_walk(int dfd, const char *path)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		report("cannot read directory", path, errno);
		close(dfd);
		return;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				report("cannot read directory", path, errno);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				fprintf(stderr, "sdu: memory exhausted\n");
				exit(1);
			}
			names = nn;
		}
		names[n] = xmalloc(strlen(de->d_name) + 1);
		strcpy(names[n++], de->d_name);
	}
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char *sub = join(path, names[i]);
		/* by name under our descriptor, or by path once it is given back */
		int at = d ? dirfd(d) : AT_FDCWD;
		const char *nm = d ? names[i] : sub;
		if (fstatat(at, nm, &st, AT_SYMLINK_NOFOLLOW)) {
			report("cannot access", sub, errno);
		} else if (visit(st.st_dev, st.st_ino, S_ISDIR(st.st_mode), st.st_nlink, (uint64_t)st.st_blocks,
				 st.st_size, 0) &&
			   S_ISDIR(st.st_mode)) {
			const int oflags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
			int fd = openat(at, nm, oflags);
			if (fd < 0 && (errno == EMFILE || errno == ENFILE) && d) {
				closedir(d);
				d = NULL;
				fd = open(sub, oflags);
			}
			if (fd < 0)
				report("cannot read directory", sub, errno);
			else
				plain_walk(fd, sub);
		}
		free(sub);
		free(names[i]);
	}
	free(names);
	if (d)
		closedir(d);
}

/* ---- the syslet walker ---- */

struct dir {
	struct dir *parent; /* referenced until our openat has run */
	char *path;         /* for messages, and opened by when the parent's fd is given back */
	long parent_fd;     /* arg of openat: the parent's fd (or AT_FDCWD) */
	long name;          /* arg of openat: char * (namebuf, or path with AT_FDCWD) */
	long open_flags;    /* arg of openat */
	long fd;            /* result of openat, then an arg of getdents and statx; -1 once given back */
	long bufp, bufsz, gd_ret;
	int refs;
	int opened;         /* openat has run (fd is its result) */
	char *buf;
	char namebuf[256];
	struct syslet_uatom open_atom, gd_atom;
};

/* A buffer of entries being stat'ed: one syslet of chained statx atoms. */
struct batch {
	struct dir *dir;
	int n;
	char *buf; /* the getdents buffer the names live in */
	long *namep, *stxp, *ret;
	struct statx *stx;
	struct syslet_uatom *atoms;
};

static const long c_zero = 0, c_stat_flags = AT_SYMLINK_NOFOLLOW,
		  c_mask = STATX_TYPE | STATX_INO | STATX_NLINK | STATX_BLOCKS | STATX_SIZE;
static long inflight;
/*
 * Descriptors. Each open directory holds one until its entries are read
 * and stat'ed and its subdirectories are open (they are opened relative to
 * it). open_dirs counts them (an open in flight counts), kept within
 * open_budget: the descriptors that were free once the library had started
 * (main), at most 1024. The ready list is a stack, so the walk goes deep
 * first and a chain of open directories finishes before others start.
 *
 * Running out is never an error while something can give a descriptor
 * back (du does not fail for it either): an open that fails with EMFILE or
 * ENFILE waits (deferred) while syslets are in flight, whose ends may close
 * some; with nothing in flight every open directory is idle (read to its
 * end, its entries stat'ed) and holds its descriptor only for children not
 * yet opened, so give_back_one() closes one and those children are opened
 * by path instead. Only when nothing is held is the error reported.
 */
static long open_dirs, open_budget = 1024;
static struct dir **ready; /* dirs whose open+getdents must be issued */
static size_t nready, capready;

static void push_ready(struct dir *d)
{
	if (nready == capready) {
		capready = capready ? capready * 2 : 256;
		struct dir **n = realloc(ready, capready * sizeof(*ready));
		if (!n) {
			fprintf(stderr, "sdu: memory exhausted\n");
			exit(1);
		}
		ready = n;
	}
	ready[nready++] = d;
}

static struct dir **deferred; /* dirs to issue again after a completion */
static size_t ndeferred, capdeferred;

static void push_deferred(struct dir *d)
{
	if (ndeferred == capdeferred) {
		capdeferred = capdeferred ? capdeferred * 2 : 64;
		struct dir **n = realloc(deferred, capdeferred * sizeof(*deferred));
		if (!n) {
			fprintf(stderr, "sdu: memory exhausted\n");
			exit(1);
		}
		deferred = n;
	}
	deferred[ndeferred++] = d;
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

static struct dir *dir_new(struct dir *parent, const char *path, const char *name, long parent_fd, long oflags)
{
	struct dir *d = xcalloc(1, sizeof(*d));
	d->parent = parent;
	d->path = xmalloc(strlen(path) + 1);
	strcpy(d->path, path);
	d->parent_fd = parent_fd;
	snprintf(d->namebuf, sizeof(d->namebuf), "%s", name);
	d->name = (long)d->namebuf;
	d->open_flags = oflags;
	d->fd = -1;
	d->buf = xmalloc(BUFSZ);
	if (parent)
		parent->refs++; /* the child needs our fd until it is open */
	return d;
}

static void dir_put(struct dir *d)
{
	while (d && --d->refs == 0) {
		struct dir *p = d->parent;
		if (d->opened && d->fd >= 0) {
			close((int)d->fd);
			open_dirs--;
		}
		free(d->buf);
		free(d->path);
		free(d);
		d = p;
	}
}

static void on_done(struct syslet_uatom *end);
static int can_give_back(void);

static void run(struct syslet_uatom *first, struct syslet_uatom *last)
{
	if (async_exec(first))
		on_done(last); /* cached: ran to its end on this thread */
	else
		inflight++;
}

/* Issue openat -> getdents64 for a directory, or only getdents64 when it is
 * open already and may have more entries. */
static void issue_dir(struct dir *d)
{
	d->bufp = (long)d->buf;
	d->bufsz = BUFSZ;
	d->refs++; /* the syslet */
	atom_init(&d->gd_atom, SYS_getdents64, &d->fd, &d->bufp, &d->bufsz, NULL, NULL, &d->gd_ret, 0, NULL,
		  d);
	if (!d->opened) {
		open_dirs++; /* given back when its open fails, or its fd is closed */
		atom_init(&d->open_atom, SYS_openat, &d->parent_fd, &d->name, &d->open_flags, &c_zero, NULL,
			  &d->fd, SYSLET_STOP_ON_NEGATIVE, &d->gd_atom, d);
		run(&d->open_atom, &d->gd_atom);
	} else {
		run(&d->gd_atom, &d->gd_atom);
	}
}

static void batch_done(struct batch *b)
{
	struct dir *d = b->dir;

	for (int i = 0; i < b->n; i++) {
		struct statx *sx = &b->stx[i];
		const char *nm = (const char *)b->namep[i];
		if (b->ret[i] < 0) {
			char *p = join(d->path, nm);
			report("cannot access", p, (int)-b->ret[i]);
			free(p);
			continue;
		}
		int is_dir = S_ISDIR(sx->stx_mode);
		if (!visit(makedev(sx->stx_dev_major, sx->stx_dev_minor), sx->stx_ino, is_dir, sx->stx_nlink,
			   sx->stx_blocks, (int64_t)sx->stx_size, 0) ||
		    !is_dir)
			continue;
		char *p = join(d->path, nm);
		push_ready(dir_new(d, p, nm, d->fd, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
		free(p);
	}
	dir_put(d);
	free(b->buf);
	free(b->namep);
	free(b->stxp);
	free(b->ret);
	free(b->stx);
	free(b->atoms);
	free(b);
}

/* An open+getdents or getdents syslet of d ended. */
static void dir_done(struct dir *d)
{
	long n = d->gd_ret;
	int count = 0;

	if (!d->opened) {
		d->opened = 1;
		struct dir *p = d->parent;
		d->parent = NULL;
		if (d->fd < 0) {
			long err = -d->fd;
			open_dirs--;
			if ((err == EMFILE || err == ENFILE) && (inflight > 0 || (p && d->parent_fd >= 0) || can_give_back())) {
				/* Out of descriptors: fewer are free than the
				 * budget said (the library, or another thread,
				 * holds some). Hold no more than now, and try
				 * again after the next completion or once one
				 * is given back (the loop in syslet_walk). */
				open_budget = open_dirs > 1 ? open_dirs : 1;
				d->opened = 0;
				d->fd = -1;
				d->parent = p;
				d->refs--; /* the syslet that ended */
				push_deferred(d);
				return;
			}
			report("cannot read directory", d->path, (int)err);
		}
		dir_put(p); /* our openat has run: the parent's fd is no longer needed */
	}
	if (d->fd < 0) {
		dir_put(d);
		return;
	}
	if (n < 0)
		report("cannot read directory", d->path, (int)-n);
	if (n <= 0) {
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
	struct batch *b = xcalloc(1, sizeof(*b));
	b->dir = d;
	b->buf = d->buf;
	b->n = count;
	d->buf = xmalloc(BUFSZ);
	d->refs++; /* the batch */
	if (count) {
		b->namep = xcalloc((size_t)count, sizeof(long));
		b->stxp = xcalloc((size_t)count, sizeof(long));
		b->ret = xcalloc((size_t)count, sizeof(long));
		b->stx = xcalloc((size_t)count, sizeof(struct statx));
		b->atoms = xcalloc((size_t)count, sizeof(struct syslet_uatom));
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
	if (end->nr == SYS_statx)
		batch_done((struct batch *)end->private);
	else
		dir_done((struct dir *)end->private); /* open stopped on error, or getdents ended */
}

static struct syslet_uatom *ring[RING];
static unsigned long ridx;

/* d waits for its open relative to a parent's descriptor, which can be
 * given back (d is then opened by path). */
static int opens_under_parent(const struct dir *d)
{
	return !d->opened && d->parent && d->parent_fd >= 0;
}

static int can_give_back(void)
{
	for (size_t i = 0; i < nready; i++)
		if (opens_under_parent(ready[i]))
			return 1;
	for (size_t i = 0; i < ndeferred; i++)
		if (opens_under_parent(deferred[i]))
			return 1;
	return 0;
}

/*
 * Only with nothing in flight: every open directory is then idle and holds
 * its descriptor only for its children waiting in ready or deferred. Closes
 * the descriptor of the one whose waiting child is deepest in the stack
 * (the shallowest directory: the last to be needed again) and turns its
 * waiting children into opens by path. Returns 0 if none holds one.
 */
static int give_back_one(void)
{
	struct dir *victim = NULL;
	for (size_t i = 0; i < nready && !victim; i++)
		if (opens_under_parent(ready[i]))
			victim = ready[i]->parent;
	for (size_t i = 0; i < ndeferred && !victim; i++)
		if (opens_under_parent(deferred[i]))
			victim = deferred[i]->parent;
	if (!victim)
		return 0;
	struct dir **lists[] = {ready, deferred};
	size_t lens[] = {nready, ndeferred};
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; i < lens[l]; i++) {
			struct dir *c = lists[l][i];
			if (!c->opened && c->parent == victim) {
				c->parent_fd = AT_FDCWD;
				c->name = (long)c->path;
			}
		}
	close((int)victim->fd);
	victim->fd = -1;
	open_dirs--;
	return 1;
}

static int syslet_walk(const char *path)
{
	/* The root is opened without O_NOFOLLOW: "link/" names the directory
	 * the link points to (lstat said so already). */
	struct dir *root = dir_new(NULL, path, path, AT_FDCWD, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* No reference of the walk's own: like every directory, the root
	 * lives while its syslets, batches and unopened children need it (so
	 * its descriptor is not held to the end of the walk). */
	push_ready(root);
	for (;;) {
		/* Issue what is ready, but keep the ring from overflowing and
		 * the open directories within budget: past it, wait for
		 * completions, or with none in flight give a descriptor back
		 * (if none can be, the open is tried and its error reported). */
		while (nready && inflight < RING) {
			if (open_dirs >= open_budget) {
				if (inflight)
					break;
				give_back_one();
			}
			issue_dir(ready[--nready]);
		}
		/* opens deferred by issues that ran here (cached) */
		while (ndeferred)
			push_ready(deferred[--ndeferred]);
		if (!inflight && !nready)
			break;
		if (!inflight)
			continue; /* everything issued ran on this thread */
		if (async_wait(1) < 0 && errno != EINTR) {
			perror("sdu: async_wait");
			return -1;
		}
		/* The library stores a completion with a release store: the
		 * acquire load pairs with it (the atom's results are then
		 * visible); the slot is given back with a release store. */
		for (;;) {
			struct syslet_uatom *end = __atomic_load_n(&ring[ridx], __ATOMIC_ACQUIRE);
			if (!end)
				break;
			__atomic_store_n(&ring[ridx], NULL, __ATOMIC_RELEASE);
			ridx = (ridx + 1) % RING;
			inflight--;
			on_done(end);
		}
		while (ndeferred)
			push_ready(deferred[--ndeferred]);
	}
	return 0;
}

/* ---- main ---- */

/* Descriptors open in this process: those listed in /proc/self/fd (less the
 * one reading it), or, without /proc, those fcntl finds below the limit. */
static long open_descriptors(rlim_t limit)
{
	DIR *d = opendir("/proc/self/fd");
	long n = 0;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				n++;
		closedir(d);
		return n - 1;
	}
	for (long fd = 0; fd < (long)limit && fd < 65536; fd++)
		if (fcntl((int)fd, F_GETFD) != -1)
			n++;
	return n;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sdu [OPTION]... [FILE]...\n"
		"Summarize the disk usage of each FILE, recursively for directories, as\n"
		"`du -s` does, walking the tree with sysring's syslets.\n"
		"\n"
		"  -h, --human-readable  print sizes in human readable format (e.g., 1.1K 234M 2.0G)\n"
		"  -c, --total           produce a grand total\n"
		"  -x, --one-file-system skip directories on different file systems\n"
		"      --apparent-size   print apparent sizes rather than device usage\n"
		"  -s, --summarize       accepted; sdu always summarizes\n"
		"  -k                    sizes in 1024-byte blocks (the default)\n"
		"  -b, --bytes           equivalent to --apparent-size and sizes in bytes\n"
		"      --plain           walk with plain sequential system calls instead\n"
		"      --help            display this help and exit\n"
		"      --version         output version information and exit\n"
		"\n"
		"With no FILE, the current directory. Exit status 1 if some entry could not\n"
		"be read (its totals are still printed). See sdu(1) and du(1).\n");
}

int main(int argc, char **argv)
{
	enum { OPT_APPARENT = 256, OPT_PLAIN, OPT_HELP, OPT_VERSION };
	static const struct option longopts[] = {
		{"human-readable", no_argument, NULL, 'h'}, {"total", no_argument, NULL, 'c'},
		{"one-file-system", no_argument, NULL, 'x'}, {"summarize", no_argument, NULL, 's'},
		{"bytes", no_argument, NULL, 'b'},          {"apparent-size", no_argument, NULL, OPT_APPARENT},
		{"plain", no_argument, NULL, OPT_PLAIN},    {"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION}, {NULL, 0, NULL, 0},
	};
	int bytes_out = 0, c, bad_option = 0;

	/* Bad options are reported as du reports them: getopt's own messages
	 * (every bad letter of a group, unknown, ambiguous, or given an
	 * argument it does not take), all of them, then one "Try" line. getopt
	 * names the program by argv[0]: "sdu", as in sdu's other messages. */
	if (argc > 0)
		argv[0] = (char *)"sdu";
	opterr = 1;
	while ((c = getopt_long(argc, argv, "hcxskb", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': opt_human = 1; bytes_out = 0; break;
		case 'c': opt_total = 1; break;
		case 'x': opt_xdev = 1; break;
		case 's': break;
		case 'k': opt_human = 0; bytes_out = 0; break;
		case 'b': opt_apparent = 1; bytes_out = 1; opt_human = 0; break;
		case OPT_APPARENT: opt_apparent = 1; break;
		case OPT_PLAIN: opt_plain = 1; break;
		case OPT_HELP: usage(stdout); return 0;
		case OPT_VERSION:
			printf("sdu (sysring) %d.%d.%d\n", SYSRING_VERSION_MAJOR, SYSRING_VERSION_MINOR,
			       SYSRING_VERSION_PATCH);
			return 0;
		default:
			bad_option = 1; /* getopt said why */
			break;
		}
	}
	if (bad_option) {
		fprintf(stderr, "Try 'sdu --help' for more information.\n");
		return 1;
	}
	/* A line at a time, as du writes them: sizes and messages interleave
	 * in order when stdout and stderr share a pipe or file. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Deep and wide trees keep many directories open at once. */
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}

	char *dot[] = {(char *)".", NULL};
	char **files = optind < argc ? argv + optind : dot;
	int nfiles = optind < argc ? argc - optind : 1;
	hash_all = nfiles > 1;

	struct async_head_user ahu = {ring, sizeof(ring), -1UL};
	int registered = 0;
	if (!opt_plain) {
		if (async_register(&ahu, sizeof(ahu))) {
			perror("sdu: async_register");
			return 1;
		}
		registered = 1;
	}
	/* The directories' budget: the descriptors free now that the library
	 * has started (its ring and eventfd) and whatever the process
	 * inherited are open, less two for what the library may open later.
	 * Running out anyway is not an error (see open_budget). */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY) {
		long free_fds = (long)rl.rlim_cur - open_descriptors(rl.rlim_cur) - 2;
		if (free_fds < open_budget)
			open_budget = free_fds > 1 ? free_fds : 1;
	}

	uint64_t grand = 0;
	for (int i = 0; i < nfiles; i++) {
		const char *path = files[i];
		struct stat st;

		cur_bytes = 0;
		if (!*path) {
			fprintf(stderr, "sdu: invalid zero-length file name\n");
			exit_status = 1;
			continue;
		}
		if (lstat(path, &st)) {
			report("cannot access", path, errno);
			continue;
		}
		root_dev = st.st_dev;
		if (!visit(st.st_dev, st.st_ino, S_ISDIR(st.st_mode), st.st_nlink, (uint64_t)st.st_blocks, st.st_size,
			   1))
			continue; /* counted under an earlier FILE: du prints nothing */
		if (S_ISDIR(st.st_mode)) {
			if (opt_plain) {
				int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				if (fd < 0)
					report("cannot read directory", path, errno);
				else
					plain_walk(fd, path);
			} else if (syslet_walk(path)) {
				return 1;
			}
		}
		grand += cur_bytes;
		if (bytes_out)
			printf("%" PRIu64 "\t%s\n", cur_bytes, path);
		else
			print_line(cur_bytes, path);
	}
	if (opt_total) {
		if (bytes_out)
			printf("%" PRIu64 "\ttotal\n", grand);
		else
			print_line(grand, "total");
	}
	if (registered)
		async_unregister(&ahu, sizeof(ahu));
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "sdu: write error: %s\n", strerror(errno));
		return 1;
	}
	return exit_status;
}

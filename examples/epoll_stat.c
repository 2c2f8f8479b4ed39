/* SPDX-License-Identifier: MIT */
/*
 * sysring inside an epoll loop: stat every entry of a directory tree through
 * the async face, learning about completions from the context's eventfd, the
 * way an event-loop program (libuv, nginx) would. Directories are listed with
 * readdir (d_type, no stat); every entry is then stat'ed through sysring.
 * Prints the number of entries and their total size; with --check it also
 * does the same with plain fstatat calls and fails if the answers differ.
 *
 *   epoll_stat [--check] [directory]
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
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sysring.h>

struct job {
	struct async_cb *cb;
	struct stat st;
	int is_dir;
	char name[512];
};

struct cbref {
	struct async_cb *cb;
	size_t job;
};

static int by_cb(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct cbref *)a)->cb, y = (uintptr_t)((const struct cbref *)b)->cb;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int check = argc > 1 && !strcmp(argv[1], "--check");
	const char *dir = argc > 1 + check ? argv[1 + check] : "/usr/include/linux";
	async_context_t ctx;
	struct async_event ev[64];
	struct epoll_event ee = {.events = EPOLLIN};
	struct job *jobs = NULL;
	size_t njobs = 0, cap = 0, next = 0, done = 0;
	uint64_t total = 0;
	int dfd, efd, ep, inflight = 0;
	DIR *d;
	struct dirent *de;

	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0) {
		perror(dir);
		return 1;
	}
	/* breadth-first listing: jobs[] doubles as the queue of directories */
	size_t scan = (size_t)-1;
	for (;;) {
		char sub[512]; /* a copy: jobs[] may move as it grows */
		snprintf(sub, sizeof(sub), "%s", scan == (size_t)-1 ? "." : jobs[scan].name);
		int sfd = openat(dfd, sub, O_RDONLY | O_DIRECTORY);
		if (sfd >= 0 && (d = fdopendir(sfd))) {
			while ((de = readdir(d))) {
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				if (njobs == cap) {
					cap = cap ? cap * 2 : 256;
					jobs = realloc(jobs, cap * sizeof(*jobs));
				}
				jobs[njobs].is_dir = de->d_type == DT_DIR;
				if (snprintf(jobs[njobs].name, sizeof(jobs[njobs].name), "%s/%s", sub,
					     de->d_name) >= (int)sizeof(jobs[njobs].name))
					continue; /* too deep for this example */
				njobs++;
			}
			closedir(d);
		}
		do
			scan++;
		while (scan < njobs && !jobs[scan].is_dir);
		if (scan >= njobs)
			break;
	}
	for (size_t i = 0; i < njobs; i++)
		jobs[i].cb = async_cb_new(SYS_newfstatat, 4, (long)dfd, (long)jobs[i].name,
					  (long)&jobs[i].st, (long)AT_SYMLINK_NOFOLLOW);

	/* events name their cb: an index sorted by cb finds the job */
	struct cbref *refs = malloc(njobs * sizeof(*refs));
	for (size_t i = 0; i < njobs; i++) {
		refs[i].cb = jobs[i].cb;
		refs[i].job = i;
	}
	qsort(refs, njobs, sizeof(*refs), by_cb);

	if (async_setup(64, &ctx)) {
		perror("async_setup");
		return 1;
	}
	efd = sysring_eventfd(ctx);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (efd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ee)) {
		fprintf(stderr, "eventfd/epoll: %s\n", strerror(efd < 0 ? -efd : errno));
		return 1;
	}

	while (done < njobs) {
		/* keep the context full */
		while (next < njobs && inflight < 64) {
			struct async_cb *one[1] = {jobs[next].cb};
			if (async_submit(ctx, 1, one) != 1)
				break;
			next++;
			inflight++;
		}
		/* the loop sleeps in epoll, not in sysring */
		struct epoll_event out;
		int n = epoll_wait(ep, &out, 1, 10000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "epoll_wait: %s\n", n ? strerror(errno) : "timeout");
			return 1;
		}
		int got = async_check_events(ctx, 0, 64, ev, NULL);
		for (int i = 0; i < got; i++) {
			struct cbref key = {.cb = ev[i].cbp}, *ref;
			ref = bsearch(&key, refs, njobs, sizeof(*refs), by_cb);
			struct job *j = ref ? &jobs[ref->job] : NULL;
			if (!j || ev[i].res != 0) {
				fprintf(stderr, "stat %s: %s\n", j ? j->name : "?",
					strerror((int)-ev[i].res));
				return 1;
			}
			total += (uint64_t)j->st.st_size;
		}
		done += (size_t)got;
		inflight -= got;
	}
	printf("%zu entries, %llu bytes (stat through sysring, driven by an epoll loop)\n", njobs,
	       (unsigned long long)total);

	int ret = 0;
	if (check) {
		uint64_t plain = 0;
		for (size_t i = 0; i < njobs; i++) {
			struct stat st;
			if (fstatat(dfd, jobs[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				plain += (uint64_t)st.st_size;
		}
		printf("plain fstatat: %llu bytes -> %s\n", (unsigned long long)plain,
		       plain == total ? "match" : "MISMATCH");
		ret = plain != total;
	}
	for (size_t i = 0; i < njobs; i++)
		async_cb_free(jobs[i].cb);
	free(jobs);
	free(refs);
	close(ep);
	async_destroy(ctx);
	close(dfd);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/*
 * The situations' setups: every kind of fd the conformance rows run their
 * calls on, made fresh for each run (the reference and each face get an
 * identical one), a release action for the kinds on which a call waits, and
 * teardown. A kind this environment cannot make (no O_DIRECT, no pty, no
 * user xattrs on the file system) is reported with its reason and skipped,
 * never counted as a pass.
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <stddef.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#define FILE_BYTES 8192

static const char *const names[K__COUNT] = {
	[K_NONE] = "none", [K_TREE] = "tree", [K_REG] = "regular", [K_REG_MID] = "regular@100",
	[K_REG_END] = "regular@end", [K_REG_RO] = "regular O_RDONLY", [K_REG_WO] = "regular O_WRONLY",
	[K_APPEND] = "O_APPEND", [K_DIRECT] = "O_DIRECT", [K_EMPTYF] = "empty file",
	[K_PFILE] = "fixed file", [K_PDIR] = "fixed dir", [K_PIPE_R] = "pipe read end",
	[K_PIPE_R_NB] = "pipe read end O_NONBLOCK", [K_PIPE_E] = "empty pipe",
	[K_PIPE_E_NB] = "empty pipe O_NONBLOCK", [K_PIPE_W] = "pipe write end",
	[K_PIPE_W_NB_FULL] = "full pipe O_NONBLOCK", [K_PIPE_W_FULL] = "full pipe",
	[K_PIPE_W_NOREADER] = "pipe without reader", [K_FIFO] = "FIFO", [K_SP_STREAM] = "socketpair stream",
	[K_SP_STREAM_E] = "empty socketpair", [K_SP_STREAM_E_NB] = "empty socketpair O_NONBLOCK",
	[K_SP_DGRAM] = "socketpair dgram", [K_SP_SEQ] = "socketpair seqpacket",
	[K_UNIX_DG_NAMED] = "unix dgram named", [K_TCP] = "TCP", [K_TCP_E] = "empty TCP",
	[K_TCP_E_NB] = "empty TCP O_NONBLOCK", [K_UDP] = "UDP", [K_LISTEN] = "listener",
	[K_LISTEN_E] = "empty listener", [K_LISTEN_NB] = "listener O_NONBLOCK", [K_ULISTEN] = "unix listener",
	[K_TCP_SOCK] = "TCP socket", [K_TCP_SOCK_NB] = "TCP socket O_NONBLOCK",
	[K_TCP_SOCK_NB_FULL] = "TCP socket O_NONBLOCK, backlog full", [K_EVENTFD] = "eventfd",
	[K_EVENTFD_0] = "eventfd 0", [K_EVENTFD_NB0] = "eventfd 0 O_NONBLOCK",
	[K_TIMERFD_NB] = "timerfd O_NONBLOCK", [K_TIMERFD_EXP] = "timerfd expired",
	[K_SIGNALFD_NB] = "signalfd O_NONBLOCK", [K_SIGNALFD_PROC] = "signalfd, process signal",
	[K_SIGNALFD_THR] = "signalfd, thread signal", [K_INOTIFY_NB] = "inotify O_NONBLOCK",
	[K_INOTIFY_EV] = "inotify with event", [K_INOTIFY_E] = "inotify", [K_PTY_NB] = "pty master O_NONBLOCK",
	[K_PTY_DATA] = "pty master", [K_DEVNULL] = "/dev/null", [K_DEVZERO] = "/dev/zero",
	[K_PROC] = "procfs", [K_PROC_COMM] = "/proc/self/comm", [K_SYSFS] = "sysfs", [K_DIR] = "directory",
	[K_CLOSED] = "closed fd", [K_NEG] = "fd -1", [K_BIGFD] = "fd 1000000", [K_EPOLL] = "epoll",
	[K_EPOLL_E] = "epoll, nothing ready", [K_CHILD] = "exited child", [K_CHILD_RUN] = "running child",
	[K_FUTEX] = "futex", [K_XATTR] = "file with xattr", [K_FILEPIPE] = "file and pipe",
	[K_TWOPIPES] = "two pipes", [K_USOCK] = "unbound unix socket", [K_CREDS] = "effective uid 65534",
	[K_REG_FSIZE] = "regular@4000 RLIMIT_FSIZE 4096", [K_SP_TIMEO] = "socketpair SO_RCVTIMEO/SO_SNDTIMEO",
	[K_LISTEN_TIMEO] = "listener SO_RCVTIMEO", [K_TCP_SOCK_TIMEO_FULL] = "TCP socket SO_SNDTIMEO, backlog full",
	[K_PTY_RAW0] = "pty slave VMIN 0 VTIME 0", [K_PIDFD_NB] = "pidfd PIDFD_NONBLOCK, running child",
};

/* SO_RCVTIMEO/SO_SNDTIMEO of 100 ms: the plain blocking call gives up then */
static int sock_timeo(int fd, int opt)
{
	struct timeval tv = {0, 100 * 1000};
	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

static struct rlimit saved_fsize;
static bool fsize_set; /* saved_fsize holds the limit to restore */

const char *kind_name(enum kind k)
{
	return k < K__COUNT && names[k] ? names[k] : "?";
}

bool kind_waits(enum kind k)
{
	switch (k) { /* kinds, not call numbers */
	case K_PIPE_E: case K_PIPE_W_FULL: case K_SP_STREAM_E: case K_TCP_E: case K_LISTEN_E:
	case K_EVENTFD_0: case K_INOTIFY_E: case K_EPOLL_E: case K_CHILD_RUN: case K_FUTEX:
		return true;
	default:
		return false;
	}
}

bool kind_release_repeats(enum kind k)
{
	return k == K_FUTEX;
}

static void pattern(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)('a' + (i * 7 + seed) % 26);
}

static int make_file(const char *path, size_t n)
{
	char buf[FILE_BYTES];
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0)
		return -1;
	pattern(buf, n, 3);
	if (n && write(fd, buf, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void wait_readable(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	poll(&p, 1, 2000);
}

static int inet_listener(struct env *e, int backlog)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, backlog) ||
	    getsockname(s, (struct sockaddr *)&a, &l)) {
		if (s >= 0)
			close(s);
		return -1;
	}
	memcpy(&e->addr, &a, sizeof(a));
	e->addrlen = sizeof(a);
	return s;
}

static int inet_client(const struct env *e)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c >= 0 && connect(c, (const struct sockaddr *)&e->addr, e->addrlen)) {
		close(c);
		return -1;
	}
	return c;
}

static int tcp_pair(struct env *e)
{
	int l = inet_listener(e, 4);
	if (l < 0)
		return -1;
	e->fd = inet_client(e);
	e->fd2 = e->fd >= 0 ? accept(l, NULL, NULL) : -1;
	close(l);
	return e->fd >= 0 && e->fd2 >= 0 ? 0 : -1;
}

static void unix_addr(struct env *e, const char *name)
{
	struct sockaddr_un u = {.sun_family = AF_UNIX};
	char p[sizeof(conf_run) + 8];
	snprintf(p, sizeof(p), "%s/%s", conf_run, name);
	/* conf_run is short (/tmp/sysring-conf.XXXXXX/run) */
	memcpy(u.sun_path, p, strlen(p) < sizeof(u.sun_path) ? strlen(p) + 1 : sizeof(u.sun_path) - 1);
	memcpy(&e->addr, &u, sizeof(u));
	e->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(u.sun_path) + 1);
}

static int pipe_pair(struct env *e, bool write_end)
{
	int p[2];
	if (pipe(p))
		return -1;
	e->fd = write_end ? p[1] : p[0];
	e->fd2 = write_end ? p[0] : p[1];
	return 0;
}

static int fill_pipe(int w)
{
	char buf[4096];
	int fl = fcntl(w, F_GETFL);
	memset(buf, 'F', sizeof(buf));
	fcntl(w, F_SETFL, fl | O_NONBLOCK);
	while (write(w, buf, sizeof(buf)) > 0)
		;
	while (write(w, buf, 1) > 0)
		;
	fcntl(w, F_SETFL, fl);
	return 0;
}

static int sigusr1_fd(bool nb)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	return signalfd(-1, &s, nb ? SFD_NONBLOCK : 0);
}

static void drain_sigusr1(void)
{
	sigset_t s;
	struct timespec zero = {0, 0};
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	while (sigtimedwait(&s, NULL, &zero) > 0)
		;
}

static int pty_open(struct env *e, bool nb)
{
	struct termios t;
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m)) {
		if (m >= 0)
			close(m);
		return -1;
	}
	e->fd = m;
	e->fd2 = open(ptsname(m), O_RDWR | O_NOCTTY);
	if (e->fd2 < 0)
		return -1;
	/* raw: no echo, no line discipline, so what is read is what was written */
	tcgetattr(e->fd2, &t);
	cfmakeraw(&t);
	tcsetattr(e->fd2, TCSANOW, &t);
	if (nb)
		nonblock(m);
	return 0;
}

static pid_t child(int *pipe_w)
{
	int p[2] = {-1, -1};
	if (pipe_w && pipe(p))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		if (pipe_w) {
			close(p[1]);
			if (read(p[0], &c, 1) < 0)
				_exit(1);
		}
		_exit(7);
	}
	if (pipe_w) {
		close(p[0]);
		*pipe_w = p[1];
	}
	return pid;
}

int kind_setup(enum kind k, struct env *e, const char **why)
{
	char p[300];

	memset(e, 0, sizeof(*e));
	e->fd = e->fd2 = e->fdx = -1;
	for (int i = 0; i < 4; i++)
		e->extra[i] = -1;
	e->child = -1;
	e->child_pipe = -1;
	snprintf(e->path, sizeof(e->path), "%s/f", conf_run);
	snprintf(e->path2, sizeof(e->path2), "%s/g", conf_run);
	*why = "setup failed";

	switch (k) { /* kinds, not call numbers */
	case K_NONE:
		return 0;
	case K_TREE:
		snprintf(p, sizeof(p), "%s/d", conf_run);
		if (make_file(e->path, FILE_BYTES) || mkdir(p, 0755) || symlink("f", (snprintf(p, sizeof(p), "%s/l", conf_run), p)))
			return -1;
		e->fd = open(conf_run, O_RDONLY | O_DIRECTORY);
		return e->fd >= 0 ? 0 : -1;
	case K_REG: case K_REG_MID: case K_REG_END: case K_REG_RO: case K_REG_WO: case K_APPEND: case K_DIRECT: {
		int fl = k == K_REG_RO ? O_RDONLY : k == K_REG_WO ? O_WRONLY : O_RDWR;
		if (k == K_APPEND)
			fl |= O_APPEND;
		if (k == K_DIRECT)
			fl |= O_DIRECT;
		if (make_file(e->path, FILE_BYTES))
			return -1;
		e->fd = open(e->path, fl);
		if (e->fd < 0 && k == K_DIRECT) {
			*why = "O_DIRECT is not supported by this file system";
			return -1;
		}
		e->drain_fd = false;
		if (k == K_REG_MID)
			lseek(e->fd, 100, SEEK_SET);
		if (k == K_REG_END)
			lseek(e->fd, 0, SEEK_END);
		return e->fd >= 0 ? 0 : -1;
	}
	case K_EMPTYF:
		if (make_file(e->path, 0))
			return -1;
		e->fd = open(e->path, O_RDWR);
		return e->fd >= 0 ? 0 : -1;
	case K_PFILE:
		snprintf(e->path, sizeof(e->path), "%s", conf_pfile);
		snprintf(e->path2, sizeof(e->path2), "%s", conf_pdir);
		e->fd = open(conf_pfile, O_RDONLY);
		return e->fd >= 0 ? 0 : -1;
	case K_PDIR:
		snprintf(e->path, sizeof(e->path), "%s", conf_pdir);
		e->fd = open(conf_pdir, O_RDONLY | O_DIRECTORY);
		return e->fd >= 0 ? 0 : -1;
	case K_PIPE_R: case K_PIPE_R_NB:
		if (pipe_pair(e, false) || write(e->fd2, "pipe data!", 10) != 10)
			return -1;
		if (k == K_PIPE_R_NB)
			nonblock(e->fd);
		e->drain_fd = true;
		return 0;
	case K_PIPE_E: case K_PIPE_E_NB:
		if (pipe_pair(e, false))
			return -1;
		if (k == K_PIPE_E_NB)
			nonblock(e->fd);
		e->drain_fd = true;
		return 0;
	case K_PIPE_W:
		if (pipe_pair(e, true))
			return -1;
		e->drain_fd2 = true;
		return 0;
	case K_PIPE_W_NB_FULL: case K_PIPE_W_FULL:
		if (pipe_pair(e, true) || fill_pipe(e->fd))
			return -1;
		if (k == K_PIPE_W_NB_FULL)
			nonblock(e->fd);
		e->drain_fd2 = true;
		return 0;
	case K_PIPE_W_NOREADER:
		if (pipe_pair(e, true))
			return -1;
		close(e->fd2);
		e->fd2 = -1;
		return 0;
	case K_FIFO:
		snprintf(e->path, sizeof(e->path), "%s/fifo", conf_run);
		if (mkfifo(e->path, 0644))
			return -1;
		e->fd = open(e->path, O_RDWR);
		if (e->fd < 0 || write(e->fd, "fifo data!", 10) != 10)
			return -1;
		e->drain_fd = true;
		return 0;
	case K_SP_STREAM: case K_SP_STREAM_E: case K_SP_STREAM_E_NB: case K_SP_DGRAM: case K_SP_SEQ: {
		int s[2];
		int type = k == K_SP_DGRAM ? SOCK_DGRAM : k == K_SP_SEQ ? SOCK_SEQPACKET : SOCK_STREAM;
		if (socketpair(AF_UNIX, type, 0, s))
			return -1;
		e->fd = s[0];
		e->fd2 = s[1];
		e->drain_fd = e->drain_fd2 = true;
		if (k == K_SP_STREAM && write(s[1], "sock data!", 10) != 10)
			return -1;
		if (k == K_SP_DGRAM && (write(s[1], "first", 5) != 5 || write(s[1], "second!", 7) != 7))
			return -1;
		if (k == K_SP_SEQ && write(s[1], "record", 6) != 6)
			return -1;
		if (k == K_SP_STREAM_E_NB)
			nonblock(e->fd);
		return 0;
	}
	case K_UNIX_DG_NAMED: {
		struct env tmp;
		e->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		e->fd2 = socket(AF_UNIX, SOCK_DGRAM, 0);
		unix_addr(&tmp, "ss");
		unix_addr(e, "sr");
		if (e->fd < 0 || e->fd2 < 0 || bind(e->fd, (struct sockaddr *)&e->addr, e->addrlen) ||
		    bind(e->fd2, (struct sockaddr *)&tmp.addr, tmp.addrlen) ||
		    sendto(e->fd2, "named", 5, 0, (struct sockaddr *)&e->addr, e->addrlen) != 5)
			return -1;
		e->drain_fd = true;
		return 0;
	}
	case K_TCP: case K_TCP_E: case K_TCP_E_NB:
		if (tcp_pair(e)) {
			*why = "no TCP on the loopback interface";
			return -1;
		}
		if (k == K_TCP) {
			if (send(e->fd2, "tcp data!!", 10, 0) != 10)
				return -1;
			wait_readable(e->fd);
		}
		if (k == K_TCP_E_NB)
			nonblock(e->fd);
		e->drain_fd = e->drain_fd2 = true;
		return 0;
	case K_UDP: {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t l = sizeof(a);
		e->fd = socket(AF_INET, SOCK_DGRAM, 0);
		e->fd2 = socket(AF_INET, SOCK_DGRAM, 0);
		if (e->fd < 0 || e->fd2 < 0 || bind(e->fd, (struct sockaddr *)&a, sizeof(a)) ||
		    getsockname(e->fd, (struct sockaddr *)&a, &l) || connect(e->fd2, (struct sockaddr *)&a, l) ||
		    send(e->fd2, "udp!", 4, 0) != 4) {
			*why = "no UDP on the loopback interface";
			return -1;
		}
		memcpy(&e->addr, &a, sizeof(a));
		e->addrlen = l;
		wait_readable(e->fd);
		e->drain_fd = true;
		return 0;
	}
	case K_LISTEN: case K_LISTEN_E: case K_LISTEN_NB:
		e->fd = inet_listener(e, 8);
		if (e->fd < 0) {
			*why = "no TCP on the loopback interface";
			return -1;
		}
		if (k == K_LISTEN) {
			e->fdx = inet_client(e);
			if (e->fdx < 0)
				return -1;
			wait_readable(e->fd);
		}
		if (k == K_LISTEN_NB)
			nonblock(e->fd);
		return 0;
	case K_ULISTEN:
		unix_addr(e, "ls");
		e->fd = socket(AF_UNIX, SOCK_STREAM, 0);
		e->fdx = socket(AF_UNIX, SOCK_STREAM, 0);
		if (e->fd < 0 || e->fdx < 0 || bind(e->fd, (struct sockaddr *)&e->addr, e->addrlen) ||
		    listen(e->fd, 4) || connect(e->fdx, (struct sockaddr *)&e->addr, e->addrlen))
			return -1;
		return 0;
	case K_TCP_SOCK: case K_TCP_SOCK_NB: case K_TCP_SOCK_NB_FULL:
		e->fd2 = inet_listener(e, k == K_TCP_SOCK_NB_FULL ? 0 : 8);
		e->fd = socket(AF_INET, SOCK_STREAM, 0);
		if (e->fd2 < 0 || e->fd < 0) {
			*why = "no TCP on the loopback interface";
			return -1;
		}
		if (k != K_TCP_SOCK)
			nonblock(e->fd);
		if (k == K_TCP_SOCK_NB_FULL) {
			/* one connection fills a backlog of 0; the next ones are
			 * left unanswered (their SYN is dropped) */
			for (int i = 0; i < 3; i++) {
				e->extra[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
				connect(e->extra[i], (struct sockaddr *)&e->addr, e->addrlen);
				struct timespec ts = {0, 20 * 1000 * 1000};
				nanosleep(&ts, NULL);
			}
		}
		return 0;
	case K_EVENTFD: case K_EVENTFD_0: case K_EVENTFD_NB0:
		e->fd = eventfd(k == K_EVENTFD ? 3 : 0, k == K_EVENTFD_NB0 ? EFD_NONBLOCK : 0);
		e->drain_fd = true;
		return e->fd >= 0 ? 0 : -1;
	case K_TIMERFD_NB: case K_TIMERFD_EXP: {
		struct itimerspec its = {{0, 0}, {k == K_TIMERFD_NB ? 3600 : 0, k == K_TIMERFD_NB ? 0 : 1}};
		e->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
		if (e->fd < 0 || timerfd_settime(e->fd, 0, &its, NULL))
			return -1;
		if (k == K_TIMERFD_EXP)
			wait_readable(e->fd);
		e->drain_fd = true;
		return 0;
	}
	case K_SIGNALFD_NB: case K_SIGNALFD_PROC: case K_SIGNALFD_THR:
		drain_sigusr1();
		e->fd = sigusr1_fd(true);
		if (e->fd < 0)
			return -1;
		if (k == K_SIGNALFD_PROC)
			kill(getpid(), SIGUSR1);
		if (k == K_SIGNALFD_THR)
			syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
		e->drain_fd = true;
		return 0;
	case K_INOTIFY_NB: case K_INOTIFY_EV: case K_INOTIFY_E:
		e->fd = inotify_init1(k == K_INOTIFY_E ? 0 : IN_NONBLOCK);
		if (e->fd < 0 || inotify_add_watch(e->fd, conf_run, IN_CREATE) < 0)
			return -1;
		if (k == K_INOTIFY_EV && make_file((snprintf(p, sizeof(p), "%s/new", conf_run), p), 0))
			return -1;
		e->drain_fd = true;
		return 0;
	case K_PTY_NB: case K_PTY_DATA:
		if (pty_open(e, k == K_PTY_NB)) {
			*why = "no pseudo-terminals (devpts)";
			return -1;
		}
		if (k == K_PTY_DATA) {
			if (write(e->fd2, "hi\n", 3) != 3)
				return -1;
			wait_readable(e->fd);
		}
		e->drain_fd = true;
		return 0;
	case K_DEVNULL: case K_DEVZERO:
		e->fd = open(k == K_DEVNULL ? "/dev/null" : "/dev/zero", O_RDWR);
		snprintf(e->path, sizeof(e->path), "%s", k == K_DEVNULL ? "/dev/null" : "/dev/zero");
		return e->fd >= 0 ? 0 : -1;
	case K_PROC:
		snprintf(e->path, sizeof(e->path), "/proc/sys/kernel/ostype");
		e->fd = open(e->path, O_RDONLY);
		*why = "no procfs";
		return e->fd >= 0 ? 0 : -1;
	case K_PROC_COMM:
		prctl(PR_SET_NAME, "t_conformance");
		snprintf(e->path, sizeof(e->path), "/proc/self/comm");
		e->fd = open(e->path, O_RDWR);
		*why = "no procfs";
		return e->fd >= 0 ? 0 : -1;
	case K_SYSFS: {
		static const char *const cands[] = {"/sys/kernel/mm/transparent_hugepage/enabled",
						    "/sys/devices/system/cpu/online", "/sys/kernel/uevent_seqnum"};
		for (unsigned i = 0; i < 3 && e->fd < 0; i++) {
			e->fd = open(cands[i], O_RDONLY);
			snprintf(e->path, sizeof(e->path), "%s", cands[i]);
		}
		*why = "no sysfs";
		return e->fd >= 0 ? 0 : -1;
	}
	case K_DIR:
		snprintf(e->path, sizeof(e->path), "%s", conf_run);
		e->fd = open(conf_run, O_RDONLY | O_DIRECTORY);
		return e->fd >= 0 ? 0 : -1;
	case K_CLOSED:
		e->fd = dup(0);
		if (e->fd < 0)
			return -1;
		close(e->fd);
		return 0;
	case K_NEG:
		e->fd = -1;
		return 0;
	case K_BIGFD:
		e->fd = 1000000;
		return 0;
	case K_EPOLL: case K_EPOLL_E: {
		int pp[2];
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77};
		e->fd = epoll_create1(0);
		if (e->fd < 0 || pipe(pp))
			return -1;
		e->fd2 = pp[0];
		e->fdx = pp[1];
		if (k == K_EPOLL && write(e->fdx, "e", 1) != 1)
			return -1;
		return epoll_ctl(e->fd, EPOLL_CTL_ADD, e->fd2, &ev);
	}
	case K_CHILD: {
		siginfo_t si;
		e->child = child(NULL);
		if (e->child < 0)
			return -1;
		/* exited, not yet reaped */
		return waitid(P_PID, (id_t)e->child, &si, WEXITED | WNOWAIT);
	}
	case K_CHILD_RUN:
		e->child = child(&e->child_pipe);
		return e->child < 0 ? -1 : 0;
	case K_FUTEX:
		__atomic_store_n(conf_futex, 0, __ATOMIC_SEQ_CST);
		return 0;
	case K_XATTR:
		if (make_file(e->path, 100))
			return -1;
		if (setxattr(e->path, "user.sr", "value", 5, 0)) {
			*why = "no user extended attributes on this file system";
			return -1;
		}
		e->fd = open(e->path, O_RDWR);
		return e->fd >= 0 ? 0 : -1;
	case K_FILEPIPE: {
		int pp[2];
		if (make_file(e->path, FILE_BYTES) || pipe(pp))
			return -1;
		e->fd = open(e->path, O_RDWR);
		e->fd2 = pp[0];
		e->fdx = pp[1];
		if (e->fd < 0 || write(e->fdx, "pipe data!", 10) != 10)
			return -1;
		e->drain_fd2 = true;
		return 0;
	}
	case K_TWOPIPES: {
		int p1[2], p2[2];
		if (pipe(p1) || pipe(p2))
			return -1;
		e->fd = p1[0];
		e->extra[0] = p1[1];
		e->fd2 = p2[0];
		e->fdx = p2[1];
		if (write(p1[1], "pipe data!", 10) != 10)
			return -1;
		e->drain_fd = e->drain_fd2 = true;
		return 0;
	}
	case K_USOCK:
		unix_addr(e, "bnd");
		e->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		return e->fd >= 0 ? 0 : -1;
	case K_CREDS: {
		int fd;
		if (geteuid() != 0) {
			*why = "needs root";
			return -1;
		}
		snprintf(e->path, sizeof(e->path), "%s/secret", conf_run);
		fd = open(e->path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
		if (fd < 0 || write(fd, "root only\n", 10) != 10 || chmod(conf_run, 0777))
			return -1;
		close(fd);
		/* glibc changes every thread's credentials (the library's
		 * executors too); the saved uid stays 0 to come back */
		return seteuid(65534);
	}
	case K_REG_FSIZE: {
		struct rlimit rl;
		if (make_file(e->path, FILE_BYTES))
			return -1;
		e->fd = open(e->path, O_RDWR);
		if (e->fd < 0 || lseek(e->fd, 4000, SEEK_SET) != 4000 || getrlimit(RLIMIT_FSIZE, &saved_fsize))
			return -1;
		/* the plain call's SIGXFSZ would end the test; what the signal
		 * does is not this kind's concern */
		signal(SIGXFSZ, SIG_IGN);
		rl = saved_fsize;
		rl.rlim_cur = 4096;
		fsize_set = true;
		return setrlimit(RLIMIT_FSIZE, &rl);
	}
	case K_SP_TIMEO: {
		int s[2];
		char fill[4096];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, s))
			return -1;
		e->fd = s[0];
		e->fd2 = s[1];
		e->drain_fd = e->drain_fd2 = true;
		memset(fill, 'x', sizeof(fill));
		nonblock(e->fd);
		while (write(e->fd, fill, sizeof(fill)) > 0)
			;
		while (write(e->fd, fill, 1) > 0)
			;
		if (fcntl(e->fd, F_SETFL, fcntl(e->fd, F_GETFL) & ~O_NONBLOCK))
			return -1;
		return sock_timeo(e->fd, SO_RCVTIMEO) || sock_timeo(e->fd, SO_SNDTIMEO) ? -1 : 0;
	}
	case K_LISTEN_TIMEO:
		e->fd = inet_listener(e, 8);
		if (e->fd < 0) {
			*why = "no TCP on the loopback interface";
			return -1;
		}
		return sock_timeo(e->fd, SO_RCVTIMEO);
	case K_TCP_SOCK_TIMEO_FULL:
		e->fd2 = inet_listener(e, 0);
		e->fd = socket(AF_INET, SOCK_STREAM, 0);
		if (e->fd2 < 0 || e->fd < 0) {
			*why = "no TCP on the loopback interface";
			return -1;
		}
		/* as K_TCP_SOCK_NB_FULL: connections the backlog leaves unanswered */
		for (int i = 0; i < 3; i++) {
			e->extra[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			connect(e->extra[i], (struct sockaddr *)&e->addr, e->addrlen);
			struct timespec ts = {0, 20 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		return sock_timeo(e->fd, SO_SNDTIMEO);
	case K_PTY_RAW0: {
		struct termios t;
		int m;
		if (pty_open(e, false)) {
			*why = "no pseudo-terminals (devpts)";
			return -1;
		}
		/* the slave is the fd the calls use, the master fd2 */
		m = e->fd;
		e->fd = e->fd2;
		e->fd2 = m;
		if (tcgetattr(e->fd, &t))
			return -1;
		t.c_cc[VMIN] = 0;
		t.c_cc[VTIME] = 0;
		return tcsetattr(e->fd, TCSANOW, &t);
	}
	case K_PIDFD_NB:
		e->child = child(&e->child_pipe);
		if (e->child < 0)
			return -1;
		e->fd = (int)syscall(SYS_pidfd_open, e->child, 04000 /* PIDFD_NONBLOCK */);
		if (e->fd < 0)
			*why = "no pidfd_open";
		return e->fd >= 0 ? 0 : -1;
	case K__COUNT:
		break;
	}
	return -1;
}

void kind_release(enum kind k, struct env *e)
{
	char buf[4096];

	switch (k) { /* kinds, not call numbers */
	case K_PIPE_E: case K_SP_STREAM_E: case K_TCP_E:
		if (write(e->fd2, "later", 5) != 5)
			perror("release");
		break;
	case K_PIPE_W_FULL:
		if (read(e->fd2, buf, sizeof(buf)) <= 0)
			perror("release");
		break;
	case K_LISTEN_E:
		e->extra[0] = inet_client(e);
		break;
	case K_EVENTFD_0: {
		uint64_t one = 1;
		if (write(e->fd, &one, 8) != 8)
			perror("release");
		break;
	}
	case K_INOTIFY_E:
		snprintf(buf, sizeof(buf), "%s/rel", conf_run);
		make_file(buf, 0);
		break;
	case K_EPOLL_E:
		if (write(e->fdx, "e", 1) != 1)
			perror("release");
		break;
	case K_CHILD_RUN:
		if (write(e->child_pipe, "x", 1) != 1)
			perror("release");
		break;
	case K_FUTEX: /* the value stays: a wake before the wait would be lost (repeated) */
		syscall(SYS_futex, conf_futex, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		break;
	default:
		break;
	}
}

void kind_after_calls(enum kind k, struct env *e)
{
	(void)e;
	if (k == K_REG_FSIZE && fsize_set) {
		setrlimit(RLIMIT_FSIZE, &saved_fsize);
		fsize_set = false;
	}
	if (k == K_CREDS && geteuid() != 0) {
		if (seteuid(0))
			abort();
		prctl(PR_SET_DUMPABLE, 1); /* a changed euid made /proc/self root's */
	}
}

void kind_teardown(enum kind k, struct env *e)
{
	kind_after_calls(k, e);
	int *fds[] = {&e->fd, &e->fd2, &e->fdx, &e->extra[0], &e->extra[1], &e->extra[2], &e->extra[3],
		      &e->child_pipe};
	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0 && !(i == 0 && (k == K_CLOSED || k == K_BIGFD))) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	if (e->child > 0) {
		kill(e->child, SIGKILL);
		waitpid(e->child, NULL, 0);
		e->child = -1;
	}
	if (k == K_SIGNALFD_PROC || k == K_SIGNALFD_THR)
		drain_sigusr1();
	if (k == K_PROC_COMM)
		prctl(PR_SET_NAME, "t_conformance");
}

/* posix_spawn wrapper; see include/signgate/proc.h. */
#include "proc.h"
#include "signgate/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CAPTURE_MAX (4u << 20)
#define STDIN_MAX   65536

static const char *const default_env[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };

typedef struct capture {
	int fd;
	char *buf;
	size_t len, cap;
} capture;

static int capture_read(capture *c)
{
	char chunk[16384];
	ssize_t n = read(c->fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0) {
		close(c->fd);
		c->fd = -1;
		return 0;
	}
	if (c->len + (size_t)n + 1 > c->cap && c->cap < CAPTURE_MAX + 1) {
		size_t want = c->cap ? c->cap * 2 : 65536;
		char *nb;
		while (want < c->len + (size_t)n + 1)
			want *= 2;
		if (want > CAPTURE_MAX + 1)
			want = CAPTURE_MAX + 1;
		nb = realloc(c->buf, want);
		if (!nb)
			return -1;
		c->buf = nb;
		c->cap = want;
	}
	if (c->len + (size_t)n + 1 > c->cap)
		n = (ssize_t)(c->cap - 1 - c->len); /* keep exactly the first 4 MiB, in order */
	memcpy(c->buf + c->len, chunk, (size_t)n);
	c->len += (size_t)n;
	return 0;
}

static int check_program(const char *path)
{
	struct stat st;

	if (!path || path[0] != '/')
		return sg_error_set(SG_ERR_TOOL, "%s: programs are run by absolute path only",
				    path ? path : "(null)");
	if (stat(path, &st) != 0)
		return sg_error_set(SG_ERR_TOOL, "%s: cannot run: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0)
		return sg_error_set(SG_ERR_TOOL, "%s: not an executable file", path);
	return SG_OK;
}

static int make_stdin(const sg_proc_spec *spec, int *out_fd)
{
	int p[2];

	*out_fd = -1;
	if (!spec->stdin_data)
		return SG_OK;
	if (spec->stdin_len > STDIN_MAX)
		return sg_error_set(SG_ERR_USAGE, "child input larger than %d bytes", STDIN_MAX);
	if (pipe2(p, O_CLOEXEC) != 0)
		return sg_error_set(SG_ERR_IO, "pipe: %s", strerror(errno));
	/* Written before the child starts, so one read() by the child sees all of it. */
	if (write(p[1], spec->stdin_data, spec->stdin_len) != (ssize_t)spec->stdin_len) {
		close(p[0]);
		close(p[1]);
		return sg_error_set(SG_ERR_IO, "writing to the child's input failed");
	}
	close(p[1]);
	*out_fd = p[0];
	return SG_OK;
}

static int spawn_child(pid_t *pid, const sg_proc_spec *spec, int in_fd, int out_fd, int err_fd)
{
	posix_spawn_file_actions_t fa;
	int rc;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
	/* Descriptors our caller inherited without O_CLOEXEC stay out of the child. */
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	rc = posix_spawn(pid, spec->argv[0], &fa, NULL, (char *const *)spec->argv,
			 (char *const *)(spec->envp ? spec->envp : default_env));
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return sg_error_set(SG_ERR_TOOL, "%s: cannot start: %s", spec->argv[0],
				    strerror(rc));
	return SG_OK;
}

/*
 * sg_proc_run_offline(): fork, then in the child, before execve, a network
 * namespace of its own. posix_spawn cannot unshare. The caller may have
 * other threads, so between fork and execve the child makes only
 * async-signal-safe calls on what was prepared before the fork, and reports
 * a failure through a close-on-exec pipe: the parent reads nothing when the
 * program started, else which step failed and its errno.
 */
enum child_step {
	STEP_FDS = 1,
	STEP_USERNS,
	STEP_SETGROUPS,
	STEP_UID_MAP,
	STEP_GID_MAP,
	STEP_SECCOMP,
	STEP_HIDE_NS,
	STEP_HIDE,
	STEP_CONFINE,
	STEP_EXEC
};

struct child_report {
	int step;
	int err;
	const char *what; /* STEP_CONFINE: a static string, the same in the parent after fork */
};

struct offline_plan {
	const sg_proc_spec *spec;
	int in_fd, out_fd, err_fd; /* in_fd -1: /dev/null */
	int report_fd;
	char uid_map[32], gid_map[32];      /* "<id> <id> 1": the caller's own ids */
	int root;                           /* the caller's effective uid is 0 */
	sigset_t mask;                      /* the caller's signal mask, restored before execve */
	const char *const *hide;            /* files bound over with /dev/null; NULL: none */
	int offline;                        /* a network namespace of its own */
	int userns;                         /* user namespaces may be tried (not forced off) */
	const sg_confine_prepared *confine; /* NULL: not confined */
	int notify_fd;                      /* the child's end for the seccomp listener; -1 */
};

static void child_fail_what(int report_fd, int step, int err, const char *what)
{
	struct child_report rep = { step, err, what };
	ssize_t n = write(report_fd, &rep, sizeof(rep));

	(void)n;
	_exit(127);
}

static void child_fail(int report_fd, int step, int err)
{
	struct child_report rep = { step, err, NULL };
	ssize_t n = write(report_fd, &rep, sizeof(rep));

	(void)n;
	_exit(127);
}

/* A copy of `fd` at 4 or above (close-on-exec), so that 0..3 can be filled in any order. */
static int lift_fd(int fd, int report_fd)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 4);

	if (copy < 0)
		child_fail(report_fd, STEP_FDS, errno);
	return copy;
}

/*
 * stdin, stdout, stderr as planned, the report pipe at 3 (close-on-exec),
 * nothing else after execve: the rest is marked close-on-exec, since the
 * confinement still needs its ruleset and the listener's socket until then.
 * Returns the listener's socket, moved above 3 (or -1).
 */
static int child_fds(const struct offline_plan *p)
{
	int in = p->in_fd >= 0 ? p->in_fd : open("/dev/null", O_RDONLY | O_CLOEXEC);
	int src[3], rep, notify = -1;

	if (in < 0)
		child_fail(p->report_fd, STEP_FDS, errno);
	src[0] = lift_fd(in, p->report_fd);
	src[1] = lift_fd(p->out_fd, p->report_fd);
	src[2] = lift_fd(p->err_fd, p->report_fd);
	rep = lift_fd(p->report_fd, p->report_fd);
	if (p->notify_fd >= 0)
		notify = lift_fd(p->notify_fd, p->report_fd);
	for (int i = 0; i < 3; i++)
		if (dup2(src[i], i) < 0)
			child_fail(rep, STEP_FDS, errno);
	if (dup3(rep, 3, O_CLOEXEC) < 0 || close_range(4, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
		child_fail(rep, STEP_FDS, errno);
	return notify;
}

/* Write `data` to a /proc file with open and write only; 0 or an errno. */
static int child_write_proc(const char *path, const char *data)
{
	size_t len = strlen(data);
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, data, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	close(fd);
	return err;
}

/*
 * A user namespace with the network namespace, for root too: root in a bare
 * network namespace keeps CAP_SYS_ADMIN and can setns() back into the
 * host's through any /proc/PID/ns/net; in a user namespace of its own it
 * has capabilities there only. Where no user namespace can be made (the
 * kernel forbids them, a chroot), root still receives a bare network namespace.
 */
/* Set in the child when it has a user namespace of its own (not root's bare fallback). */
static int child_in_userns;

static void child_unshare_net(const struct offline_plan *p)
{
	int err = EPERM;

	if (!p->offline)
		return;
	if (!p->userns || unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
		if (p->userns)
			err = errno;
		if (unshare(CLONE_NEWNET) == 0)
			return;
		child_fail(3, STEP_USERNS, err);
	}
	child_in_userns = 1;
	/*
	 * A non-dumpable caller (signgate: sg_secret_protect_process) may not
	 * write its own /proc maps unless it is root, and becoming dumpable
	 * would open this copy of its memory to ptrace by the same account
	 * until execve. Unmapped, the child sees itself as the overflow id
	 * 65534, while the kernel still checks file access against the real ids.
	 */
	if (!p->root && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1)
		return;
	/* signgate's own file rules: no /proc write, and no hiding that would need the map. */
	if (sg_confine_self_files())
		return;
	if ((err = child_write_proc("/proc/self/setgroups", "deny")) != 0)
		child_fail(3, STEP_SETGROUPS, err);
	if ((err = child_write_proc("/proc/self/uid_map", p->uid_map)) != 0)
		child_fail(3, STEP_UID_MAP, err);
	if ((err = child_write_proc("/proc/self/gid_map", p->gid_map)) != 0)
		child_fail(3, STEP_GID_MAP, err);
}

/*
 * The files of spec->hide read as empty: /dev/null bound over each, in a
 * mount namespace of the child's own whose mounts do not propagate back.
 */
static void child_hide(const struct offline_plan *p)
{
	const char *const *hide = p->hide;
	struct stat st;

	/* signgate's own Landlock file rules keep the files out already (and forbid mount). */
	if (!hide || !hide[0] || sg_confine_self_files())
		return;
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		child_fail(3, STEP_HIDE_NS, errno);
	for (; *hide; hide++) {
		if (stat(*hide, &st) != 0 && errno == ENOENT)
			continue;
		if (mount("/dev/null", *hide, NULL, MS_BIND, NULL) != 0)
			child_fail(3, STEP_HIDE, errno);
	}
	/*
	 * Root keeps its capabilities in its user namespace after execve and
	 * could unmount the binds: in a further user namespace (root mapped to
	 * itself again) they are locked to the namespace that made them.
	 */
	if (!p->root || !child_in_userns)
		return;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0 ||
	    child_write_proc("/proc/self/setgroups", "deny") != 0 ||
	    child_write_proc("/proc/self/uid_map", "0 0 1\n") != 0 ||
	    child_write_proc("/proc/self/gid_map", "0 0 1\n") != 0)
		child_fail(3, STEP_HIDE_NS, errno);
}

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

/*
 * No new socket at all: a socket file (/run/..., a local proxy) is reached
 * by path, not through the network namespace. socket(2) and io_uring (which
 * can make sockets without it) fail with EACCES; so does every system call
 * of another ABI (x32, i386), which could name socket by another number.
 */
static void child_no_sockets(void)
{
#ifdef SECCOMP_ARCH
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u /* __X32_SYSCALL_BIT */, 2, 0),
#else
		BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0),
#endif
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
		child_fail(3, STEP_SECCOMP, errno);
#endif
}

/*
 * Confined: sg_confine_apply_child (its seccomp filter refuses sockets;
 * without seccomp, or with it forced off, the network namespace is all
 * there is). Not confined (sg_proc_run_offline*): the filter against
 * sockets alone, as before.
 */
static void child_confine(const struct offline_plan *p, int notify)
{
	const char *what = "";
	int err;

	if (!p->confine) {
		if (p->offline)
			child_no_sockets();
		return;
	}
	if ((err = sg_confine_apply_child(p->confine, notify, &what)) != 0)
		child_fail_what(3, STEP_CONFINE, err, what);
}

static void run_child(const struct offline_plan *p)
{
	const sg_proc_spec *spec = p->spec;
	int notify = child_fds(p);

	child_unshare_net(p);
	child_hide(p);
	child_confine(p, notify);
	pthread_sigmask(SIG_SETMASK, &p->mask, NULL);
	execve(spec->argv[0], (char *const *)spec->argv,
	       (char *const *)(spec->envp ? spec->envp : default_env));
	child_fail(3, STEP_EXEC, errno);
}

static const char *step_name(int step)
{
	switch (step) {
	case STEP_USERNS: return "unshare(CLONE_NEWUSER|CLONE_NEWNET)";
	case STEP_SETGROUPS: return "/proc/self/setgroups";
	case STEP_UID_MAP: return "/proc/self/uid_map";
	case STEP_GID_MAP: return "/proc/self/gid_map";
	case STEP_SECCOMP: return "a seccomp filter against sockets";
	case STEP_HIDE_NS: return "unshare(CLONE_NEWNS)";
	case STEP_HIDE: return "mount(/dev/null, MS_BIND)";
	default: return "setting up its descriptors";
	}
}

/* After the fork: SG_OK when the child reached execve, else reap it and say why not. */
static int read_report(pid_t pid, int report_fd, const sg_proc_spec *spec)
{
	struct child_report rep;
	ssize_t n;
	int status;

	while ((n = read(report_fd, &rep, sizeof(rep))) < 0 && errno == EINTR)
		;
	close(report_fd);
	if (n == 0)
		return SG_OK;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(rep))
		return sg_error_set(SG_ERR_TOOL, "%s: cannot start: the child failed early",
				    spec->argv[0]);
	if (rep.step == STEP_EXEC)
		return sg_error_set(SG_ERR_TOOL, "%s: cannot start: %s", spec->argv[0],
				    strerror(rep.err));
	if (rep.step == STEP_CONFINE)
		return sg_error_set(SG_ERR_TOOL, "cannot confine %s: %s: %s",
				    strrchr(spec->argv[0], '/') + 1, rep.what ? rep.what : "?",
				    strerror(rep.err));
	if (rep.step == STEP_HIDE || rep.step == STEP_HIDE_NS)
		return sg_error_set(SG_ERR_TOOL, "cannot hide the key material from %s: %s: %s",
				    strrchr(spec->argv[0], '/') + 1, step_name(rep.step),
				    strerror(rep.err));
	return sg_error_set(SG_ERR_TOOL, "cannot keep %s off the network: %s: %s",
			    strrchr(spec->argv[0], '/') + 1, step_name(rep.step),
			    strerror(rep.err));
}

/* A forked child: its namespaces, hidden files and confinement, and its listener. */
typedef struct launch {
	int offline;
	const char *const *hide;
	const sg_confine_prepared *confine;
	int notify[2]; /* socket pair for the seccomp listener; -1 when not confined */
	int listener;  /* received from the child; -1: none */
	sg_confine_report *report;
} launch;

static int fork_child(pid_t *pid, const sg_proc_spec *spec, launch *l, int in_fd, int out_fd,
		      int err_fd)
{
	struct offline_plan p = { spec,       in_fd,       out_fd,     err_fd,
				  -1,         "",          "",         0,
				  { { 0 } },  l->hide,     l->offline, sg_confine_probe()->userns,
				  l->confine, l->notify[1] };
	int rp[2], fork_errno, error;
	sigset_t all;

	if (pipe2(rp, O_CLOEXEC) != 0)
		return sg_error_set(SG_ERR_IO, "pipe: %s", strerror(errno));
	p.report_fd = rp[1];
	p.root = geteuid() == 0;
	snprintf(p.uid_map, sizeof(p.uid_map), "%lu %lu 1\n", (unsigned long)geteuid(),
		 (unsigned long)geteuid());
	snprintf(p.gid_map, sizeof(p.gid_map), "%lu %lu 1\n", (unsigned long)getegid(),
		 (unsigned long)getegid());
	/* No handler of ours may run in the child before execve. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &p.mask);
	*pid = fork();
	if (*pid == 0)
		run_child(&p);
	fork_errno = errno;
	pthread_sigmask(SIG_SETMASK, &p.mask, NULL);
	close(rp[1]);
	if (l->notify[1] >= 0) {
		close(l->notify[1]);
		l->notify[1] = -1;
	}
	if (*pid < 0) {
		close(rp[0]);
		return sg_error_set(SG_ERR_TOOL, "%s: cannot start: %s", spec->argv[0],
				    strerror(fork_errno));
	}
	error = read_report(*pid, rp[0], spec);
	/* Sent before execve, or the child's end closed at execve: this does not wait long. */
	if (error == SG_OK && l->notify[0] >= 0)
		error = sg_confine_recv_listener(l->notify[0], &l->listener);
	if (error == SG_OK && l->report) {
		l->report->named = l->listener >= 0;
		l->report->netns = l->offline;
	}
	return error;
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000L + (now.tv_nsec - start->tv_nsec) / 1000000L;
}

/*
 * Drain both pipes until the child closes them or the time limit passes;
 * a call the seccomp filter stopped, reported on the listener, ends the
 * child (its pipes then close).
 */
static int pump(capture cap[2], int timeout_sec, int *timed_out, launch *l, pid_t pid)
{
	struct timespec start;
	int listener = l->listener;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (cap[0].fd >= 0 || cap[1].fd >= 0) {
		struct pollfd pfd[3] = { { cap[0].fd, POLLIN, 0 },
					 { cap[1].fd, POLLIN, 0 },
					 { listener, POLLIN, 0 } };
		int wait_ms = -1;

		if (timeout_sec > 0) {
			long left = timeout_sec * 1000L - elapsed_ms(&start);
			if (left <= 0) {
				*timed_out = 1;
				return SG_OK;
			}
			wait_ms = left > INT_MAX ? INT_MAX : (int)left;
		}
		if (poll(pfd, 3, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			return sg_error_set(SG_ERR_IO, "poll: %s", strerror(errno));
		}
		for (int i = 0; i < 2; i++)
			if (cap[i].fd >= 0 && pfd[i].revents && capture_read(&cap[i]) != 0)
				return sg_error_set(SG_ERR_NOMEM, "capturing child output failed");
		if (listener >= 0 && (pfd[2].revents & POLLIN))
			sg_confine_handle_notify(listener, pid, l->report);
		else if (listener >= 0 && pfd[2].revents)
			listener = -1; /* no task uses the filter any more */
	}
	return SG_OK;
}

static void finish_capture(capture *c, char **buf, size_t *len)
{
	if (c->fd >= 0)
		close(c->fd);
	if (!c->buf)
		c->buf = calloc(1, 1);
	if (c->buf)
		c->buf[c->len] = '\0';
	*buf = c->buf;
	*len = c->len;
}

static int wait_child(sg_proc_result *out, pid_t pid)
{
	int status;

	if (out->timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return sg_error_set(SG_ERR_IO, "waitpid: %s", strerror(errno));
	}
	out->exited = WIFEXITED(status);
	out->exit_status = out->exited ? WEXITSTATUS(status) : -1;
	out->signo = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	return SG_OK;
}

/*
 * The confinement of spec->confine, built before the fork: the program
 * itself may be executed, the name is its own, and a socket pair carries
 * the seccomp listener back.
 */
static int launch_prepare(launch *l, sg_confine_prepared **prep, const sg_proc_spec *spec,
			  const sg_confine_spec *confine)
{
	sg_confine_spec c;
	const char *prog[] = { spec->argv[0], NULL };
	int error;

	if (!confine)
		return SG_OK;
	c = *confine;
	if (!c.exec_paths)
		c.exec_paths = prog;
	if (!c.name)
		c.name = strrchr(spec->argv[0], '/') + 1;
	if ((error = sg_confine_prepare(prep, &c)) != SG_OK)
		return error;
	l->confine = *prep;
	if (sg_confine_probe()->seccomp_notify &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, l->notify) != 0)
		return sg_error_set(SG_ERR_IO, "socketpair: %s", strerror(errno));
	return SG_OK;
}

/* After the child ended: its report, and a violation as this run's error. */
static int launch_finish(launch *l, const sg_proc_result *out, const sg_proc_spec *spec,
			 const sg_confine_spec *confine)
{
	const char *name = strrchr(spec->argv[0], '/') + 1;

	if (!l->confine)
		return SG_OK;
	sg_confine_report_finish(l->report, l->confine, out->exited, out->signo);
	if (!l->report->violation || out->timed_out)
		return SG_OK;
	if (confine->name)
		name = confine->name;
	return sg_error_set(SG_ERR_TOOL, "confinement violation in %s: %s", name,
			    l->report->reason);
}

static void launch_close(launch *l, sg_confine_prepared *prep)
{
	for (int i = 0; i < 2; i++)
		if (l->notify[i] >= 0)
			close(l->notify[i]);
	if (l->listener >= 0)
		close(l->listener);
	sg_confine_prepared_free(prep);
}

static int run(sg_proc_result *out, const sg_proc_spec *spec, const sg_proc_confine *c)
{
	capture cap[2] = { { -1, NULL, 0, 0 }, { -1, NULL, 0, 0 } };
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, in_fd = -1, error;
	sg_confine_report local;
	launch l = { c->offline, c->hide, NULL, { -1, -1 }, -1, c->report ? c->report : &local };
	sg_confine_prepared *prep = NULL;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	memset(l.report, 0, sizeof(*l.report));
	error = check_program(spec->argv[0]);
	if (error == SG_OK)
		error = launch_prepare(&l, &prep, spec, c->confine);
	if (error == SG_OK && (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0))
		error = sg_error_set(SG_ERR_IO, "pipe: %s", strerror(errno));
	if (error == SG_OK)
		error = make_stdin(spec, &in_fd);
	if (error == SG_OK)
		error = c->offline || prep ? fork_child(&pid, spec, &l, in_fd, po[1], pe[1])
					   : spawn_child(&pid, spec, in_fd, po[1], pe[1]);
	if (in_fd >= 0)
		close(in_fd);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[1] >= 0)
		close(pe[1]);
	cap[0].fd = po[0];
	cap[1].fd = pe[0];
	if (error == SG_OK) {
		error = pump(cap, spec->timeout_sec, &out->timed_out, &l, pid);
		if (error != SG_OK)
			out->timed_out = 1; /* make sure the child does not outlive us */
		int werr = wait_child(out, pid);
		if (error == SG_OK)
			error = werr;
		if (error == SG_OK)
			error = launch_finish(&l, out, spec, c->confine);
	}
	launch_close(&l, prep);
	finish_capture(&cap[0], &out->out, &out->out_len);
	finish_capture(&cap[1], &out->err, &out->err_len);
	if (error == SG_OK && (!out->out || !out->err))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (error != SG_OK)
		sg_proc_result_free(out);
	return error;
}

int sg_proc_run(sg_proc_result *out, const sg_proc_spec *spec)
{
	sg_proc_confine c = { NULL, NULL, 0, NULL };

	return run(out, spec, &c);
}

int sg_proc_run_offline(sg_proc_result *out, const sg_proc_spec *spec)
{
	sg_proc_confine c = { NULL, NULL, 1, NULL };

	return run(out, spec, &c);
}

int sg_proc_run_offline_hiding(sg_proc_result *out, const sg_proc_spec *spec,
			       const char *const *hide)
{
	sg_proc_confine c = { NULL, NULL, 1, hide };

	return run(out, spec, &c);
}

int sg_proc_run_confined(sg_proc_result *out, const sg_proc_spec *spec, const sg_proc_confine *c)
{
	return run(out, spec, c);
}

void sg_proc_result_free(sg_proc_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = r->err_len = 0;
}

const char *sg_proc_describe(const sg_proc_result *r, int timeout_sec, char *buf, size_t len)
{
	if (r->timed_out)
		snprintf(buf, len, "timed out after %d s", timeout_sec);
	else if (r->signo)
		snprintf(buf, len, "killed by signal %d", r->signo);
	else
		snprintf(buf, len, "exited with status %d", r->exit_status);
	return buf;
}

/*
 * LD_PRELOAD shim for test_self_confine.sh: plays a parser bug in signgate
 * that a hostile installer exploits. At the first open of the input named
 * $SG_PROBE_INPUT (a base name) by signgate's own process for reading (an
 * O_PATH open, which its confinement makes for its rules, does not count), after its
 * confinement (confine.h, "signgate's own process"), it tries what such a
 * bug would try, and writes one line per attempt on stderr,
 * "self_probe: WHAT RESULT" (RESULT: "ok", or the errno's name):
 *   key        read $SG_PROBE_KEY (the key material, or a token's store file)
 *   secret     read $SG_PROBE_SECRET (the password or PIN file)
 *   socket / connect   a TCP connection to 127.0.0.1:$SG_PROBE_PORT
 *                      (the first step that fails is named; "connect ok" when it got through)
 *   ptrace_helper      PTRACE_ATTACH to the key helper (signgate's child)
 *   helper_mem         open /proc/HELPER/mem
 *   ptrace_parent      PTRACE_ATTACH to signgate's parent (the test's shell)
 *   chmod / chown / setxattr / utimes   change $SG_PROBE_VICTIM's mode (a
 *                      set-user-ID bit), owner, extended attributes, times
 *                      by path (Landlock does not govern these)
 * then lets the open go on. Nothing else changes: the signing carries on.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

static int fired;

static int (*real_openat)(int, const char *, int, ...);

static void say(const char *what, int err)
{
	fprintf(stderr, "self_probe: %s %s\n", what, err ? strerrorname_np(err) : "ok");
}

static void try_read(const char *what, const char *path)
{
	char byte;
	int fd;

	if (!path)
		return;
	fd = real_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		say(what, errno);
		return;
	}
	say(what, read(fd, &byte, 1) < 0 ? errno : 0);
	close(fd);
}

static void try_connect(const char *port)
{
	struct sockaddr_in sa = { 0 };
	int fd;

	if (!port)
		return;
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(port));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		say("socket", errno);
		return;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		say("connect", errno);
	} else {
		(void)!write(fd, "stolen\n", 7);
		say("connect", 0);
	}
	close(fd);
}

static void try_ptrace(const char *what, pid_t pid)
{
	if (pid <= 0) {
		fprintf(stderr, "self_probe: %s no-process\n", what);
		return;
	}
	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) != 0) {
		say(what, errno);
		return;
	}
	say(what, 0);
	waitpid(pid, NULL, __WALL);
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
}

/* The key helper: signgate's first child (the only one before the first input). */
static pid_t helper_pid(void)
{
	char path[64], buf[256];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	fd = real_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

static void try_metadata(const char *path)
{
	const struct timespec zero[2] = { { 0, 0 }, { 0, 0 } };

	if (!path)
		return;
	say("chmod", chmod(path, 04777) != 0 ? errno : 0);
	say("chown", chown(path, getuid(), getgid()) != 0 ? errno : 0);
	say("setxattr", setxattr(path, "user.signgate", "x", 1, 0) != 0 ? errno : 0);
	say("utimes", utimensat(AT_FDCWD, path, zero, 0) != 0 ? errno : 0);
}

static void probe(const char *path, int flags)
{
	const char *name = getenv("SG_PROBE_INPUT"), *base = path ? strrchr(path, '/') : NULL;
	char mem[64];
	pid_t helper;

	base = base ? base + 1 : path;
	if (!name || !base || strcmp(base, name) != 0 || (flags & (O_CREAT | O_PATH)) ||
	    __atomic_exchange_n(&fired, 1, __ATOMIC_SEQ_CST))
		return;
	try_read("key", getenv("SG_PROBE_KEY"));
	try_read("secret", getenv("SG_PROBE_SECRET"));
	try_connect(getenv("SG_PROBE_PORT"));
	helper = helper_pid();
	try_ptrace("ptrace_helper", helper);
	snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)helper);
	if (helper > 0)
		try_read("helper_mem", mem);
	try_ptrace("ptrace_parent", getppid());
	try_metadata(getenv("SG_PROBE_VICTIM"));
}

static void resolve(void)
{
	if (!real_openat)
		real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
}

#define SHIM(name)                                                                                 \
	int name(const char *path, int flags, ...)                                                 \
	{                                                                                          \
		mode_t mode = 0;                                                                   \
		va_list ap;                                                                        \
		resolve();                                                                         \
		va_start(ap, flags);                                                               \
		if (flags & (O_CREAT | __O_TMPFILE))                                               \
			mode = va_arg(ap, mode_t);                                                 \
		va_end(ap);                                                                        \
		probe(path, flags);                                                                \
		return real_openat(AT_FDCWD, path, flags, mode);                                   \
	}

SHIM(open)
SHIM(open64)

#define SHIM_AT(name)                                                                              \
	int name(int dirfd, const char *path, int flags, ...)                                      \
	{                                                                                          \
		mode_t mode = 0;                                                                   \
		va_list ap;                                                                        \
		resolve();                                                                         \
		va_start(ap, flags);                                                               \
		if (flags & (O_CREAT | __O_TMPFILE))                                               \
			mode = va_arg(ap, mode_t);                                                 \
		va_end(ap);                                                                        \
		probe(path, flags);                                                                \
		return real_openat(dirfd, path, flags, mode);                                      \
	}

SHIM_AT(openat)
SHIM_AT(openat64)

int __open_2(const char *path, int flags)
{
	resolve();
	probe(path, flags);
	return real_openat(AT_FDCWD, path, flags);
}

int __open64_2(const char *path, int flags)
{
	resolve();
	probe(path, flags);
	return real_openat(AT_FDCWD, path, flags);
}

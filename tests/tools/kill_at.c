/*
 * LD_PRELOAD shim for test_leftovers.sh: signgate kills itself with SIGKILL
 * at the stage of a run named by $SG_KILL_AT, leaving what a run killed
 * there leaves:
 *   workdir  the work folder has just taken its final name ("signgate-work.*")
 *   stage    the stage folder has just taken its final name (".signgate-*")
 *   copy     the private copy ("input") has had its first bytes written
 *   helper   the request has just been sent to the key helper (it is busy)
 *   publish  the output is about to be moved out of its stage
 * With $SG_KILL_NTH=N it is the Nth time the run reaches that stage (a run
 * makes its own work folder when it confines itself, then one per input).
 * A SIGKILL leaves no chance to clean up, as for a run killed from outside.
 * With $SG_KILL_SIG=STOP the run stops there instead (SIGSTOP), holding
 * its folders, and goes on when sent SIGCONT. Only signgate itself: not
 * the key helper it forks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

static int copy_fd = -1;
static pid_t main_pid;

__attribute__((constructor)) static void remember_pid(void)
{
	main_pid = getpid();
}

static int at(const char *stage)
{
	static int seen;
	const char *want = getenv("SG_KILL_AT"), *nth = getenv("SG_KILL_NTH");

	if (!want || strcmp(want, stage) != 0 || getpid() != main_pid)
		return 0;
	return ++seen >= (nth ? atoi(nth) : 1);
}

static volatile sig_atomic_t continued;

static void on_cont(int sig)
{
	(void)sig;
	continued = 1;
}

static void die(void)
{
	const char *sig = getenv("SG_KILL_SIG");

	if (sig && strcmp(sig, "STOP") == 0) {
		struct sigaction sa = { .sa_handler = on_cont };
		setenv("SG_KILL_AT", "done", 1); /* once */
		sigaction(SIGCONT, &sa, NULL);
		kill(getpid(), SIGSTOP);
		/* A stop may take effect a little later: this thread goes no further until then. */
		while (!continued)
			usleep(1000);
		return;
	}
	kill(getpid(), SIGKILL);
	pause();
}

static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
	      unsigned int flags)
{
	static int (*real)(int, const char *, int, const char *, unsigned int);
	int rc;

	if (!real)
		real = (int (*)(int, const char *, int, const char *, unsigned int))dlsym(
			RTLD_NEXT, "renameat2");
	/* The output leaves its stage for the output folder: killed just before. */
	if (strstr(oldpath, "/.signgate-") && !strstr(newpath, "/.signgate-") && at("publish"))
		die();
	rc = real(olddirfd, oldpath, newdirfd, newpath, flags);
	if (rc == 0 && strncmp(base(newpath), "signgate-work.", 14) == 0 && at("workdir"))
		die();
	if (rc == 0 && strncmp(base(newpath), ".signgate-", 10) == 0 && at("stage"))
		die();
	return rc;
}

int rename(const char *oldpath, const char *newpath)
{
	static int (*real)(const char *, const char *);

	if (!real)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	if (strstr(oldpath, "/.signgate-") && !strstr(newpath, "/.signgate-") && at("publish"))
		die();
	return real(oldpath, newpath);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	mode_t mode = 0;
	va_list ap;
	int fd;

	if (!real)
		real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	va_start(ap, flags);
	if (flags & (O_CREAT | __O_TMPFILE))
		mode = va_arg(ap, mode_t);
	va_end(ap);
	fd = real(dirfd, path, flags, mode);
	if (fd >= 0 && (flags & O_CREAT) && strcmp(path, "input") == 0)
		copy_fd = fd;
	return fd;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);
	ssize_t n;

	if (!real)
		real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	n = real(fd, buf, len);
	if (fd == copy_fd && n > 0 && at("copy"))
		die();
	return n;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	static ssize_t (*real)(int, const void *, size_t, int);
	ssize_t n;

	if (!real)
		real = (ssize_t(*)(int, const void *, size_t, int))dlsym(RTLD_NEXT, "send");
	n = real(fd, buf, len, flags);
	if (n > 0 && (flags & MSG_NOSIGNAL) && at("helper"))
		die();
	return n;
}

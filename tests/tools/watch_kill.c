/*
 * LD_PRELOAD shim for test_watch_crash.sh: `signgate watch` (the watcher or
 * the signing run it forks) kills its whole process group with SIGKILL at
 * the stage named by $SG_WATCH_KILL_AT, as a power cut would:
 *   claimed   a dropped file has just been renamed into its claim folder
 *   started   the signing run has just marked a claim started (".started.N"),
 *             before it reads the file
 *   publish   a signed output is about to leave its stage folder (its
 *             "signed" record is written)
 *   recorded  a claim's .outcome is about to be moved into place (its audit
 *             record is written: only the log knows the outcome)
 *   outcome   a claim's .outcome has just been written (not yet published)
 *   reason    a NAME.reason is about to be moved into place (the denial is
 *             recorded)
 * Run the watcher under setsid(1): the group is then the watcher's alone.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int at(const char *stage)
{
	const char *want = getenv("SG_WATCH_KILL_AT");

	return want && strcmp(want, stage) == 0;
}

static void die(void)
{
	kill(0, SIGKILL);
	pause();
}

static int ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

/* The folder `dfd` names ("" when unknown). */
static void dir_of(int dfd, char *out, size_t cap)
{
	char link[64];
	ssize_t n;

	out[0] = '\0';
	if (dfd == AT_FDCWD)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dfd);
	n = readlink(link, out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
}

static void before(int olddirfd, const char *oldpath, const char *newpath)
{
	(void)olddirfd;
	if (strstr(oldpath, "/.signgate-") && !strstr(newpath, "/.signgate-") && at("publish"))
		die();
	if (ends_with(newpath, ".reason") && at("reason"))
		die();
	if (ends_with(newpath, "/.outcome") && at("recorded"))
		die();
}

static void after(int olddirfd, const char *newpath)
{
	char dir[PATH_MAX];

	if (ends_with(newpath, "/.outcome") && at("outcome"))
		die();
	dir_of(olddirfd, dir, sizeof(dir));
	if (ends_with(dir, "/inbox") && at("claimed"))
		die();
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
	if (fd >= 0 && (flags & O_CREAT) && strncmp(path, ".started.", 9) == 0 && at("started"))
		die();
	return fd;
}

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
	      unsigned int flags)
{
	static int (*real)(int, const char *, int, const char *, unsigned int);
	int rc;

	if (!real)
		real = (int (*)(int, const char *, int, const char *, unsigned int))dlsym(
			RTLD_NEXT, "renameat2");
	before(olddirfd, oldpath, newpath);
	rc = real(olddirfd, oldpath, newdirfd, newpath, flags);
	if (rc == 0)
		after(olddirfd, newpath);
	return rc;
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	static int (*real)(int, const char *, int, const char *);
	int rc;

	if (!real)
		real = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
	before(olddirfd, oldpath, newpath);
	rc = real(olddirfd, oldpath, newdirfd, newpath);
	if (rc == 0)
		after(olddirfd, newpath);
	return rc;
}

int rename(const char *oldpath, const char *newpath)
{
	static int (*real)(const char *, const char *);
	int rc;

	if (!real)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	before(AT_FDCWD, oldpath, newpath);
	rc = real(oldpath, newpath);
	if (rc == 0)
		after(AT_FDCWD, newpath);
	return rc;
}

/*
 * LD_PRELOAD shim for test_stage_race.sh: plays the local user who can
 * write the output folder and wins the race for the stage folder
 * (".signgate-XXXXXX", beside the output) that holds the private copy.
 * At the first open of ".signgate-*" + "/input" by path that does not create
 * it (the private copy is written by then), it moves the stage folder away,
 * makes a new one of the same name and puts the file $SG_RACE_EVIL there
 * as "input", then lets the open go on; it writes "swapped" to
 * $SG_RACE_LOG.
 *
 * With $SG_RACE_LINK set instead, it waits for the removal of the stage at
 * the end of the job (the first unlinkat() of an entry in it, through its
 * descriptor), moves the stage away and puts a symbolic link to
 * $SG_RACE_LINK in its place.
 *
 * With $SG_RACE_OUT set (a file name, with $SG_RACE_OUTLINK, $SG_RACE_MSI,
 * $SG_RACE_SIG and $SG_RACE_DIR), at the first fork() while a stage in
 * $SG_RACE_DIR holds "sig.der" (osslsigncode attach-signature is about to
 * run), it moves that stage away and makes one of its own with the MSI
 * $SG_RACE_MSI as "input", the signature $SG_RACE_SIG as "sig.der" and, as
 * $SG_RACE_OUT, a symbolic link to $SG_RACE_OUTLINK.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int done;

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int (*real_open)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
	int in = real_open(from, O_RDONLY), out = real_open(to, O_WRONLY | O_CREAT | O_EXCL, 0666);

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

static void swap_locked(const char *path, int flags)
{
	const char *evil = getenv("SG_RACE_EVIL"), *log = getenv("SG_RACE_LOG");
	const char *stage = path ? strstr(path, "/.signgate-") : NULL;
	size_t len = path ? strlen(path) : 0;
	char dir[4096], moved[4200];
	FILE *f;

	if (done || !evil || !stage || (flags & O_CREAT) || len < 6 ||
	    strcmp(path + len - 6, "/input") != 0 || len - 6 >= sizeof(dir))
		return;
	done = 1;
	memcpy(dir, path, len - 6);
	dir[len - 6] = '\0';
	snprintf(moved, sizeof(moved), "%s.taken", dir);
	if (rename(dir, moved) != 0 || mkdir(dir, 0777) != 0)
		return;
	copy_file(evil, path);
	if (log && (f = fopen(log, "w")) != NULL) {
		fputs("swapped\n", f);
		fclose(f);
	}
}

/*
 * Every open of the copy's path waits here while the first one swaps: the
 * threads that read the copy at once (its digest, its hashes) all see the
 * swapped file.
 */
static void maybe_swap(const char *path, int flags)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

	pthread_mutex_lock(&mu);
	swap_locked(path, flags);
	pthread_mutex_unlock(&mu);
}

/*
 * $SG_RACE_LINK: the stage folder, when signgate starts emptying it (the
 * job's end: its removal), becomes a link to that folder.
 */
static void maybe_link(int dirfd)
{
	const char *target = getenv("SG_RACE_LINK"), *log = getenv("SG_RACE_LOG");
	char fdpath[64], path[4096], moved[4200];
	const char *base;
	ssize_t n;
	FILE *f;

	if (done || !target || dirfd < 0)
		return;
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", dirfd);
	n = readlink(fdpath, path, sizeof(path) - 1);
	if (n <= 0)
		return;
	path[n] = '\0';
	base = strrchr(path, '/');
	if (!base || strncmp(base, "/.signgate-", 11) != 0 || strlen(base) != 17)
		return;
	done = 1;
	snprintf(moved, sizeof(moved), "%s.taken", path);
	if (rename(path, moved) != 0 || symlink(target, path) != 0)
		return;
	if (log && (f = fopen(log, "w")) != NULL) {
		fputs("linked\n", f);
		fclose(f);
	}
}

int unlinkat(int dirfd, const char *name, int flags)
{
	static int (*real)(int, const char *, int);

	if (!real)
		real = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");
	if (!(flags & AT_REMOVEDIR))
		maybe_link(dirfd);
	return real(dirfd, name, flags);
}

/* $SG_RACE_OUT: a stage about to be given to osslsigncode receives a link where it writes. */
static void maybe_plant(void)
{
	const char *dir = getenv("SG_RACE_DIR"), *out = getenv("SG_RACE_OUT");
	const char *target = getenv("SG_RACE_OUTLINK"), *log = getenv("SG_RACE_LOG");
	char stage[4096], path[4300], moved[4300];
	struct dirent *ent;
	struct stat st;
	DIR *d;
	FILE *f;

	if (done || !dir || !out || !target || !(d = opendir(dir)))
		return;
	stage[0] = '\0';
	while ((ent = readdir(d)) != NULL && !stage[0]) {
		snprintf(path, sizeof(path), "%s/%s/sig.der", dir, ent->d_name);
		if (strncmp(ent->d_name, ".signgate-", 10) == 0 && stat(path, &st) == 0)
			snprintf(stage, sizeof(stage), "%s/%s", dir, ent->d_name);
	}
	closedir(d);
	if (!stage[0])
		return;
	done = 1;
	snprintf(moved, sizeof(moved), "%s.taken", stage);
	if (rename(stage, moved) != 0 || mkdir(stage, 0777) != 0)
		return;
	snprintf(path, sizeof(path), "%s/input", stage);
	copy_file(getenv("SG_RACE_MSI"), path);
	snprintf(path, sizeof(path), "%s/sig.der", stage);
	copy_file(getenv("SG_RACE_SIG"), path);
	snprintf(path, sizeof(path), "%s/%s", stage, out);
	if (symlink(target, path) == 0 && log && (f = fopen(log, "w")) != NULL) {
		fputs("planted\n", f);
		fclose(f);
	}
}

pid_t fork(void)
{
	static pid_t (*real)(void);

	if (!real)
		real = (pid_t(*)(void))dlsym(RTLD_NEXT, "fork");
	maybe_plant();
	return real();
}

#define SHIM(name, ...)                                                                            \
	int name(const char *path, int flags, ...)                                                 \
	{                                                                                          \
		static int (*real)(const char *, int, ...);                                        \
		mode_t mode = 0;                                                                   \
		va_list ap;                                                                        \
		if (!real)                                                                         \
			real = dlsym(RTLD_NEXT, #name);                                            \
		va_start(ap, flags);                                                               \
		if (flags & (O_CREAT | __O_TMPFILE))                                               \
			mode = va_arg(ap, mode_t);                                                 \
		va_end(ap);                                                                        \
		maybe_swap(path, flags);                                                           \
		return real(path, flags, mode);                                                    \
	}

SHIM(open)
SHIM(open64)

int __open_2(const char *path, int flags)
{
	maybe_swap(path, flags);
	return ((int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open"))(path, flags);
}

int __open64_2(const char *path, int flags)
{
	maybe_swap(path, flags);
	return ((int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open"))(path, flags);
}

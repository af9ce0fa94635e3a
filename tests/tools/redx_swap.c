/*
 * LD_PRELOAD shim for test_redx_report_broken_digest.sh: plays a writer who
 * replaces a file after signgate judged it and before it lists its digest.
 * At the first access() of $SG_REDX_SWAP_PATH (where a report that hashed
 * the file again looked at it first), or else when the report is written to
 * stdout (a report that hashes what it judged while reading it never looks
 * again), it renames $SG_REDX_SWAP_WITH over it, then lets the call go on,
 * and writes "swapped" to $SG_REDX_SWAP_LOG. Nothing else is changed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int done;

static void swap(void)
{
	const char *target = getenv("SG_REDX_SWAP_PATH");
	const char *with = getenv("SG_REDX_SWAP_WITH");
	const char *log = getenv("SG_REDX_SWAP_LOG");

	if (done || !target || !with)
		return;
	done = 1;
	if (rename(with, target) == 0 && log) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			(void)!write(fd, "swapped\n", 8);
			close(fd);
		}
	}
}

int access(const char *path, int mode)
{
	static int (*real)(const char *, int);
	const char *target = getenv("SG_REDX_SWAP_PATH");

	if (!real)
		real = (int (*)(const char *, int))dlsym(RTLD_NEXT, "access");
	if (target && strcmp(path, target) == 0)
		swap();
	return real(path, mode);
}

size_t fwrite(const void *buf, size_t size, size_t n, FILE *f)
{
	static size_t (*real)(const void *, size_t, size_t, FILE *);

	if (!real)
		real = (size_t(*)(const void *, size_t, size_t, FILE *))dlsym(RTLD_NEXT, "fwrite");
	if (f == stdout)
		swap();
	return real(buf, size, n, f);
}

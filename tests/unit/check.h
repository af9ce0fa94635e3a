/*
 * A tiny assertion kit for the unit tests: each CHECK prints the failing
 * expression with file and line and counts the failure; check_done() prints
 * "N passed, N failed" and returns the process exit status.
 */
#ifndef SIGNGATE_TEST_CHECK_H
#define SIGNGATE_TEST_CHECK_H

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "signgate/util.h"

static int check_passed, check_failed;

#define CHECK(expr)                                                                                \
	do {                                                                                       \
		if (expr) {                                                                        \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);   \
		}                                                                                  \
	} while (0)

#define CHECK_INT(got, want)                                                                       \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (g_ == w_) {                                                                    \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: %s == %lld, want %lld\n", __FILE__, __LINE__,      \
				#got, g_, w_);                                                     \
		}                                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (g_ && w_ && strcmp(g_, w_) == 0) {                                             \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: %s == \"%s\", want \"%s\"\n", __FILE__, __LINE__,  \
				#got, g_ ? g_ : "(null)", w_ ? w_ : "(null)");                     \
		}                                                                                  \
	} while (0)

/* Substring check: `hay` contains `needle`. */
#define CHECK_CONTAINS(hay, needle)                                                                \
	do {                                                                                       \
		const char *h_ = (hay), *n_ = (needle);                                            \
		if (h_ && n_ && strstr(h_, n_)) {                                                  \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr,                                                            \
				"%s:%d: \"%s\" does not contain "                                  \
				"\"%s\"\n",                                                        \
				__FILE__, __LINE__, h_ ? h_ : "(null)", n_ ? n_ : "(null)");       \
		}                                                                                  \
	} while (0)

/* "dir/name" in one of 8 rotating buffers: valid until the 8th next call. */
static inline const char *check_path(const char *dir, const char *name)
{
	static char paths[8][PATH_MAX];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}

/*
 * The lines of a text file without their newlines (at most `max`, each
 * strdup'ed); returns their count. Free with check_free_lines().
 */
static inline size_t check_read_lines(const char *path, char *lines[], size_t max)
{
	FILE *f = fopen(path, "r");
	size_t n = 0, cap = 0;
	char *buf = NULL;
	ssize_t len;

	while (f && n < max && (len = getline(&buf, &cap, f)) > 0) {
		if (buf[len - 1] == '\n')
			buf[len - 1] = '\0';
		lines[n++] = strdup(buf);
	}
	free(buf);
	if (f)
		fclose(f);
	return n;
}

static inline void check_free_lines(char *lines[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
}

/* Write `n` lines, each with a newline except the last when `torn`. */
static inline void check_write_lines(const char *path, char *const lines[], size_t n, int torn)
{
	FILE *f = fopen(path, "w");

	for (size_t i = 0; f && i < n; i++)
		fprintf(f, "%s%s", lines[i], torn && i == n - 1 ? "" : "\n");
	if (f)
		fclose(f);
}

/* Write a file with `mode` (also when it exists); a failure ends the test run (exit 2). */
static inline void check_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) != 0 ||
	    chmod(path, mode) != 0) {
		fprintf(stderr, "test setup failed: cannot write %s\n", path);
		exit(2);
	}
}

/*
 * One locked work folder per test program (signgate/util.h sg_workdir):
 * `*path` receives a copy of its path; check_workdir_remove() removes it, frees
 * `*path` and sets it to NULL (a later free() of it is harmless).
 */
static inline sg_workdir *check_wd(void)
{
	static sg_workdir wd = SG_WORKDIR_INIT;

	return &wd;
}

static inline int check_workdir_create(char **path)
{
	int error = sg_workdir_create(check_wd());

	*path = check_wd()->path ? strdup(check_wd()->path) : NULL;
	return error;
}

static inline void check_workdir_remove(char **path)
{
	sg_workdir_remove(check_wd());
	free(*path);
	*path = NULL;
}

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif

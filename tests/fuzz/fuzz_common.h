/*
 * What the libFuzzer harnesses share (tests/fuzz/README.md says how to run
 * them). Each harness process works in one private folder of its own
 * (sg_workdir_create(), removed at exit); a parser that takes a path reads
 * a file rewritten there for each input, one that takes a descriptor reads
 * a memfd. Nothing is written anywhere else.
 *
 * A harness aborts (so libFuzzer reports a crash with the input) when a
 * property the library promises does not hold: fuzz_require().
 */
#ifndef SIGNGATE_FUZZ_COMMON_H
#define SIGNGATE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "signgate/error.h"
#include "signgate/util.h"

/* The files the harnesses read beside their corpus (tests/fuzz/data). */
#ifndef SG_FUZZ_DATA_DIR
#error "SG_FUZZ_DATA_DIR must name tests/fuzz/data"
#endif

static sg_workdir fuzz_dir = SG_WORKDIR_INIT;

static inline void fuzz_dir_remove(void)
{
	sg_workdir_remove(&fuzz_dir);
}

/* Stop the harness: a broken promise of the library, or a setup failure. */
#define fuzz_require(cond, ...)                                                                    \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz: %s:%d: ", __FILE__, __LINE__);                      \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, " (last error: %s)\n", sg_error_last());                   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/*
 * With SG_FUZZ_TRACE set, say how far an input got (how a new seed is
 * checked to reach the deep paths: replay it with -runs=1).
 */
static inline int fuzz_tracing(void)
{
	static int tracing = -1;

	if (tracing < 0)
		tracing = getenv("SG_FUZZ_TRACE") != NULL;
	return tracing;
}

#define fuzz_trace(...)                                                                            \
	do {                                                                                       \
		if (fuzz_tracing()) {                                                              \
			fprintf(stderr, "fuzz trace: " __VA_ARGS__);                               \
			fprintf(stderr, " (last error: %s)\n", sg_error_last());                   \
		}                                                                                  \
	} while (0)

/* The private folder of this process, made on first use. */
static inline const char *fuzz_workdir(void)
{
	if (!fuzz_dir.path) {
		fuzz_require(sg_workdir_create(&fuzz_dir) == SG_OK, "cannot make a work folder");
		atexit(fuzz_dir_remove);
	}
	return fuzz_dir.path;
}

/* The path of `name` in the private folder (malloc'd once per name by the caller). */
static inline char *fuzz_path(const char *name)
{
	char *p = sg_path_join(fuzz_workdir(), name);

	fuzz_require(p != NULL, "out of memory");
	return p;
}

/* Replace the file at `path` (in the private folder) with `len` bytes of `data`. */
static inline void fuzz_write(const char *path, const void *data, size_t len)
{
	unlink(path);
	fuzz_require(sg_write_private(path, data, len) == SG_OK, "cannot write %s", path);
}

/* A memfd holding the `len` bytes of `data`; the caller closes it. */
static inline int fuzz_memfd(const void *data, size_t len)
{
	int fd = memfd_create("sg-fuzz", MFD_CLOEXEC);
	const unsigned char *p = data;
	size_t done = 0;

	fuzz_require(fd >= 0, "memfd_create failed");
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		fuzz_require(n > 0, "cannot write the memfd");
		done += (size_t)n;
	}
	return fd;
}

/* A file of tests/fuzz/data, whole, NUL-terminated (free with free()). */
static inline unsigned char *fuzz_data_file(const char *name, size_t *len)
{
	char *path = sg_path_join(SG_FUZZ_DATA_DIR, name);
	unsigned char *buf = NULL, *text;
	size_t n = 0;

	fuzz_require(path && sg_read_file(&buf, &n, path, 16u << 20, NULL, 0) == SG_OK,
		     "cannot read %s", name);
	free(path);
	fuzz_require((text = realloc(buf, n + 1)) != NULL, "out of memory");
	text[n] = '\0';
	if (len)
		*len = n;
	return text;
}

/* The input as a NUL-terminated string (free with free()). */
static inline char *fuzz_strndup(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	fuzz_require(s != NULL, "out of memory");
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

#endif

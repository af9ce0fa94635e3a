/*
 * Internal: the bounded reads every format's check shares (format_src.c).
 * The format files (format_pe.c, format_msi.c, ...) and the table
 * (format.c) use these; none of them calls the other (format_ops.h).
 */
#ifndef SIGNGATE_LIB_FORMAT_INTERNAL_H
#define SIGNGATE_LIB_FORMAT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "signgate/format.h"

/* The file being inspected: read with pread() only, never modified. */
struct src {
	int fd;
	const char *name;
	uint64_t size;
};

static inline uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Record SG_ERR_FORMAT with a message "<name>: <reason>"; returns SG_ERR_FORMAT. */
int sg_format_bad(const struct src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Read exactly `len` bytes at `off`. Returns SG_OK, SG_ERR_FORMAT when they
 * lie beyond the end of the file, or SG_ERR_IO.
 */
int sg_format_read_at(const struct src *s, void *buf, size_t len, uint64_t off);

/* Record SG_ERR_FORMAT: `what` ends at `end`, beyond the end of the file. */
int sg_format_beyond_eof(const struct src *s, const char *what, uint64_t end);

#endif

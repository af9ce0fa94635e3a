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

#include <openssl/types.h>

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

static inline void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Record SG_ERR_FORMAT with a message "<name>: <reason>"; returns SG_ERR_FORMAT. */
int sg_format_bad(const struct src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same, for a file known by its name only (NULL: "(unnamed)"). */
int sg_format_refuse(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * `s` for the file open on `fd` (`name` for messages, NULL: "(unnamed)"):
 * a regular file (else SG_ERR_USAGE), its size from fstat (SG_ERR_IO).
 */
int sg_format_src_of(struct src *s, int fd, const char *name);

/* The OpenSSL digest of `nid` (SHA-1, SHA-256, SHA-384, SHA-512), or NULL. */
const EVP_MD *sg_format_md(int nid);

/*
 * The extension of `name` among `extensions` (lower-case, with the dot,
 * NULL-terminated), matched without regard to case after at least one
 * character: a pointer into `name`, or NULL. Sets `*which` (may be NULL)
 * to the matching entry.
 */
const char *sg_format_name_ext(const char *name, const char *const *extensions, const char **which);

/* A container that is the DER itself, byte for byte (container_holds of the MSI family, scripts).
 */
int sg_format_holds_exactly(const unsigned char *box, size_t len, const unsigned char *der,
			    size_t der_len);

/*
 * Read exactly `len` bytes at `off`. Returns SG_OK, SG_ERR_FORMAT when they
 * lie beyond the end of the file, or SG_ERR_IO.
 */
int sg_format_read_at(const struct src *s, void *buf, size_t len, uint64_t off);

/*
 * A read-ahead window for many small reads going forward (a cabinet's
 * CFDATA headers): one pread fills up to SG_FORMAT_WINDOW bytes, never
 * past `limit`. Zero it before the first use; it holds no resource.
 */
#define SG_FORMAT_WINDOW 65536
struct sg_format_window {
	unsigned char *buf; /* SG_FORMAT_WINDOW bytes, allocated on first use */
	uint64_t off;       /* the file offset of buf[0] */
	size_t len;         /* bytes held */
};

/*
 * As sg_format_read_at(), `len` (at most SG_FORMAT_WINDOW) bytes at `off`,
 * through `w`, reading ahead up to `limit` (the end of what the caller will
 * walk; at least off + len). Free the window with sg_format_window_free().
 */
int sg_format_read_window(const struct src *s, struct sg_format_window *w, void *buf, size_t len,
			  uint64_t off, uint64_t limit);
void sg_format_window_free(struct sg_format_window *w);

/* Record SG_ERR_FORMAT: `what` ends at `end`, beyond the end of the file. */
int sg_format_beyond_eof(const struct src *s, const char *what, uint64_t end);

/*
 * The one DER-length parser of lib/format. The header at `p` (`n` bytes
 * there) of a SEQUENCE (tag 0x30) with a DER definite length: the short
 * form below 128; else 0x81..0x84 and the length's 1..4 bytes, the first
 * not zero, for a length of at least 128 (the shortest form). Returns
 * NULL with the header's length (2..6) in `*hdr` and the content's in
 * `*body`; or why not ("an indefinite length", ...), `*hdr` and `*body` 0.
 * The content's length is not compared with `n`.
 */
const char *sg_format_der_header(const unsigned char *p, size_t n, size_t *hdr, uint64_t *body);

/*
 * The length of the DER SEQUENCE at the start of `p` (header and content,
 * as sg_format_der_header() reads it) when all of it lies within the `n`
 * bytes; 0 otherwise. `sg_format_der_len(p, n) == n`: `p` is exactly one.
 */
uint64_t sg_format_der_len(const unsigned char *p, size_t n);

/*
 * The one check of a signature region of the file (a PE's certificate
 * entry, a cabinet's signature blob): the `fit` bytes at `at` start with one
 * DER SEQUENCE (the PKCS#7; sg_format_der_header()) no longer than `fit`,
 * and from its end to `end` (at least at + fit) there are fewer than 8
 * bytes, all zero: bytes after the DER would be outside every digest and
 * every signature check (CVE-2013-3900). `what` names the region in the
 * reasons ("certificate entry at offset 1024"). Returns SG_OK with the DER's
 * length in `*der_len` (may be NULL); SG_ERR_FORMAT or SG_ERR_IO.
 */
int sg_format_der_region(const struct src *s, const char *what, uint64_t at, uint64_t fit,
			 uint64_t end, uint64_t *der_len);

#endif

/* The bounded reads and messages every format check shares; see format_internal.h. */
#include "signgate/error.h"
#include "format_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>

__attribute__((format(printf, 2, 0)))
static int refusev(const char *name, const char *fmt, va_list ap)
{
	char reason[SG_ERROR_MAX];

	vsnprintf(reason, sizeof(reason), fmt, ap);
	return sg_error_set(SG_ERR_FORMAT, "%s: %s", name ? name : "(unnamed)", reason);
}

int sg_format_bad(const struct src *s, const char *fmt, ...)
{
	va_list ap;
	int code;

	va_start(ap, fmt);
	code = refusev(s->name, fmt, ap);
	va_end(ap);
	return code;
}

int sg_format_refuse(const char *name, const char *fmt, ...)
{
	va_list ap;
	int code;

	va_start(ap, fmt);
	code = refusev(name, fmt, ap);
	va_end(ap);
	return code;
}

int sg_format_src_of(struct src *s, int fd, const char *name)
{
	struct stat st;

	s->fd = fd;
	s->name = name ? name : "(unnamed)";
	s->size = 0;
	if (fstat(fd, &st) != 0)
		return sg_error_set(SG_ERR_IO, "%s: fstat failed: %s", s->name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sg_error_set(SG_ERR_USAGE, "%s: not a regular file", s->name);
	s->size = (uint64_t)st.st_size;
	return SG_OK;
}

const EVP_MD *sg_format_md(int nid)
{
	switch (nid) {
	case NID_sha1: return EVP_sha1();
	case NID_sha256: return EVP_sha256();
	case NID_sha384: return EVP_sha384();
	case NID_sha512: return EVP_sha512();
	default: return NULL;
	}
}

const char *sg_format_name_ext(const char *name, const char *const *extensions, const char **which)
{
	size_t len = name ? strlen(name) : 0, n;

	for (const char *const *e = extensions; name && e && *e; e++) {
		n = strlen(*e);
		if (len > n && strcasecmp(name + len - n, *e) == 0) {
			if (which)
				*which = *e;
			return name + len - n;
		}
	}
	return NULL;
}

int sg_format_holds_exactly(const unsigned char *box, size_t len, const unsigned char *der,
			    size_t der_len)
{
	return len == der_len && memcmp(box, der, len) == 0;
}

/*
 * Read exactly `len` bytes at `off`. Callers check bounds first so that the
 * message can say what is missing; the check here only backs them up.
 */
int sg_format_read_at(const struct src *s, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;

	if (off > s->size || len > s->size - off)
		return sg_format_bad(s,
				     "truncated: %zu bytes at offset %" PRIu64
				     " are beyond the end of the file (%" PRIu64 " bytes)",
				     len, off, s->size);
	while (len > 0) {
		ssize_t n = pread(s->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sg_error_set(SG_ERR_IO, "%s: read at offset %" PRIu64 " failed: %s",
					    s->name, off, strerror(errno));
		if (n == 0)
			return sg_error_set(SG_ERR_IO,
					    "%s: unexpected end of file at offset %" PRIu64
					    " (did the file change while being read?)",
					    s->name, off);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return SG_OK;
}

int sg_format_read_window(const struct src *s, struct sg_format_window *w, void *buf, size_t len,
			  uint64_t off, uint64_t limit)
{
	uint64_t want;
	int error;

	if (len > SG_FORMAT_WINDOW)
		return sg_error_set(SG_ERR_USAGE, "%s: a windowed read of %zu bytes", s->name, len);
	if (w->buf && off >= w->off && off - w->off <= w->len && len <= w->len - (off - w->off)) {
		memcpy(buf, w->buf + (off - w->off), len);
		return SG_OK;
	}
	if (!w->buf && !(w->buf = malloc(SG_FORMAT_WINDOW)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	/* at least the bytes asked for (read_at reports them beyond the end) */
	if (limit > s->size)
		limit = s->size;
	want = limit > off && limit - off > SG_FORMAT_WINDOW ? SG_FORMAT_WINDOW
	       : limit > off                                 ? limit - off
							     : 0;
	if (want < len)
		want = len;
	w->len = 0;
	if ((error = sg_format_read_at(s, w->buf, (size_t)want, off)) < 0)
		return error;
	w->off = off;
	w->len = (size_t)want;
	memcpy(buf, w->buf, len);
	return SG_OK;
}

void sg_format_window_free(struct sg_format_window *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = 0;
}

int sg_format_beyond_eof(const struct src *s, const char *what, uint64_t end)
{
	return sg_format_bad(s,
			     "truncated: %s ends at %" PRIu64
			     ", beyond the end of the file (%" PRIu64 " bytes)",
			     what, end, s->size);
}

const char *sg_format_der_header(const unsigned char *p, size_t n, size_t *hdr, uint64_t *body)
{
	size_t k;

	*hdr = 0;
	*body = 0;
	if (!p || n < 2)
		return "shorter than a DER header";
	if (p[0] != 0x30)
		return "not a SEQUENCE";
	if (p[1] < 0x80) {
		*hdr = 2;
		*body = p[1];
		return NULL;
	}
	k = p[1] & 0x7fu;
	if (k == 0)
		return "an indefinite length (BER, not DER)";
	if (k > 4)
		return "a length of more than 4 bytes";
	if (n < 2 + k)
		return "its length bytes cut off";
	if (p[2] == 0)
		return "a length with a leading zero byte (not DER)";
	for (size_t i = 0; i < k; i++)
		*body = *body << 8 | p[2 + i];
	if (*body < 0x80) {
		*body = 0;
		return "the long form for a length under 128 (not DER)";
	}
	*hdr = 2 + k;
	return NULL;
}

uint64_t sg_format_der_len(const unsigned char *p, size_t n)
{
	size_t hdr;
	uint64_t body;

	if (sg_format_der_header(p, n, &hdr, &body) || body > n - hdr)
		return 0;
	return hdr + body;
}

/* `n` bytes at `off` are all zero: SG_OK, else SG_ERR_FORMAT (`what`) or SG_ERR_IO. */
static int zero_after(const struct src *s, const char *what, uint64_t off, size_t n)
{
	unsigned char pad[8];
	int error;

	if (n > sizeof(pad))
		return sg_error_set(SG_ERR_USAGE, "%s: zero_after: %zu bytes", s->name, n);
	if ((error = sg_format_read_at(s, pad, n, off)) < 0)
		return error;
	for (size_t i = 0; i < n; i++)
		if (pad[i] != 0)
			return sg_format_bad(s, "%s has non-zero bytes after its signature", what);
	return SG_OK;
}

int sg_format_der_region(const struct src *s, const char *what, uint64_t at, uint64_t fit,
			 uint64_t end, uint64_t *der_len)
{
	unsigned char h[6];
	size_t avail = fit < sizeof(h) ? (size_t)fit : sizeof(h), hdr;
	uint64_t body, der_end;
	const char *why;
	int error;

	if (der_len)
		*der_len = 0;
	if (avail < 2)
		return sg_format_bad(s, "%s holds no signature", what);
	if ((error = sg_format_read_at(s, h, avail, at)) < 0)
		return error;
	if (h[0] != 0x30)
		return sg_format_bad(s, "%s does not hold a DER signature", what);
	if ((why = sg_format_der_header(h, avail, &hdr, &body)) != NULL)
		return sg_format_bad(s, "%s has a bad DER length: %s", what, why);
	if (body > fit - hdr)
		return sg_format_bad(
			s, "%s is shorter than its signature (%" PRIu64 " bytes in %" PRIu64 ")",
			what, hdr + body, fit);
	der_end = at + hdr + body;
	if (end < at + fit || end - der_end >= 8)
		return sg_format_bad(s,
				     "%s has %" PRIu64 " bytes after its signature (data hidden "
				     "outside the signed digest)",
				     what, end < der_end ? 0 : end - der_end);
	if ((error = zero_after(s, what, der_end, (size_t)(end - der_end))) < 0)
		return error;
	if (der_len)
		*der_len = hdr + body;
	return SG_OK;
}

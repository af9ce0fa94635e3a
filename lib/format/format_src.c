/* The bounded reads and messages every format check shares; see format_internal.h. */
#include "signgate/error.h"
#include "format_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int sg_format_bad(const struct src *s, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return sg_error_set(SG_ERR_FORMAT, "%s: %s", s->name, reason);
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

int sg_format_beyond_eof(const struct src *s, const char *what, uint64_t end)
{
	return sg_format_bad(s,
			     "truncated: %s ends at %" PRIu64
			     ", beyond the end of the file (%" PRIu64 " bytes)",
			     what, end, s->size);
}

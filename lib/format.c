/* Installer format detection and structural validation; see include/signgate/format.h. */
#include "signgate/format.h"
#include "signgate/error.h"
#include "format_internal.h"
#include "signgate/script.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* osslsigncode (and the 32-bit PE certificate table offset) stop at 4 GiB - 1. */
#define MAX_INPUT_SIZE UINT32_MAX

static const unsigned char cfb_magic[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };

/* ---- bounded reads, shared with format_pe.c and format_msi.c ----------- */

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

/* ---- detection ---------------------------------------------------------- */

static int not_an_installer(const struct src *s, const unsigned char *head, size_t n)
{
	char hex[3 * sizeof(cfb_magic) + 1], text[sizeof(cfb_magic) + 1];

	for (size_t i = 0; i < n; i++) {
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", head[i]);
		text[i] = head[i] >= 0x20 && head[i] < 0x7f ? (char)head[i] : '.';
	}
	hex[3 * n - 1] = '\0';
	text[n] = '\0';
	return sg_format_bad(s, "not a PE or MSI installer (starts with %s \"%s\")", hex, text);
}

int sg_format_inspect(sg_format_info *out, int fd, const char *name)
{
	struct src s = { fd, name ? name : "(unnamed)", 0 };
	unsigned char head[sizeof(cfb_magic)];
	sg_format_kind kind;
	struct stat st;
	size_t n;
	int error;

	if (!out)
		return sg_error_set(SG_ERR_USAGE, "sg_format_inspect: no output structure");
	memset(out, 0, sizeof(*out));
	if (fstat(fd, &st) != 0)
		return sg_error_set(SG_ERR_IO, "%s: fstat failed: %s", s.name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sg_error_set(SG_ERR_USAGE, "%s: not a regular file", s.name);
	s.size = (uint64_t)st.st_size;
	out->size = s.size;
	if (s.size == 0)
		return sg_format_bad(&s, "empty file");
	/* A script has no magic number: its name decides, as for osslsigncode and Windows. */
	if (sg_script_extension(s.name)) {
		error = sg_format_inspect_script(&s, out);
		if (error < 0)
			memset(out, 0, sizeof(*out));
		out->size = s.size;
		return error;
	}
	n = s.size < sizeof(head) ? (size_t)s.size : sizeof(head);
	if ((error = sg_format_read_at(&s, head, n, 0)) < 0)
		return error;
	if (n >= 2 && head[0] == 'M' && head[1] == 'Z')
		kind = SG_FORMAT_PE;
	else if (n == sizeof(cfb_magic) && memcmp(head, cfb_magic, n) == 0)
		kind = SG_FORMAT_MSI;
	else
		return not_an_installer(&s, head, n);
	if (s.size > MAX_INPUT_SIZE)
		return sg_format_bad(
			&s, "too large: %" PRIu64 " bytes (osslsigncode takes at most %" PRIu32 ")",
			s.size, MAX_INPUT_SIZE);
	error = kind == SG_FORMAT_PE ? sg_format_inspect_pe(&s, out)
				     : sg_format_inspect_msi(&s, out);
	if (error < 0)
		memset(out, 0, sizeof(*out));
	out->size = s.size;
	return error;
}

const char *sg_format_name(sg_format_kind kind)
{
	switch (kind) {
	case SG_FORMAT_PE: return "pe";
	case SG_FORMAT_MSI: return "msi";
	case SG_FORMAT_SCRIPT: return "powershell";
	case SG_FORMAT_UNKNOWN: break;
	}
	return "unknown";
}

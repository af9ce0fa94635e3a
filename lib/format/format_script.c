/*
 * PowerShell scripts: encoding, signature block and the table row, read by
 * signgate itself; see format_script.h. The digest is script_digest.c.
 *
 * The file is read whole (at most SG_SCRIPT_MAX bytes) and seen as code
 * units: bytes for UTF-8, little-endian 16-bit words for UTF-16LE. The
 * block's markers and lines are ASCII, and an ASCII unit is never part of
 * a multi-unit character in either encoding (a UTF-8 continuation byte is
 * >= 0x80, a surrogate >= 0xD800), so they are found by comparing units.
 */
#include "format_script.h"
#include "format_ops.h"
#include "script_internal.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/hash.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* osslsigncode refuses a file shorter than this (its file size check): refused here first. */
#define SCRIPT_MIN 4

#define BEGIN_MARK "SIG # Begin signature block"
#define END_MARK   "SIG # End signature block"
#define B64_LINE   64 /* characters on every line of the block but the last */
#define B64_MAX    ((SG_SCRIPT_SIG_MAX + 2) / 3 * 4)

static unsigned unit_at(const struct text *t, size_t i)
{
	return t->unit == 1 ? t->p[i] : (unsigned)t->p[2 * i] | (unsigned)t->p[2 * i + 1] << 8;
}

/* The byte offset of unit `i`, for messages. */
static size_t at(const struct text *t, size_t i)
{
	return i * t->unit;
}

static const char *const script_ext[] = { ".ps1", ".psm1", ".psd1", NULL };

const char *sg_script_encoding_name(sg_script_encoding e)
{
	switch (e) {
	case SG_SCRIPT_ASCII: return "ASCII";
	case SG_SCRIPT_UTF8BOM: return "UTF-8 with BOM";
	case SG_SCRIPT_UTF16LE: return "UTF-16LE";
	case SG_SCRIPT_UNKNOWN: break;
	}
	return "unknown";
}

/* ---- encoding ------------------------------------------------------------ */

static int detect(struct text *t, sg_script_encoding *enc, const unsigned char *b, size_t len)
{
	t->p = b;
	t->unit = 1;
	t->bom = 0;
	*enc = SG_SCRIPT_ASCII;
	if (len >= 4 && b[0] == 0xff && b[1] == 0xfe && b[2] == 0 && b[3] == 0)
		return sg_format_refuse(t->name,
					"UTF-32LE (byte order mark FF FE 00 00) is not supported: "
					"save the script as UTF-8 with BOM or UTF-16LE");
	if (len >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0xfe && b[3] == 0xff)
		return sg_format_refuse(t->name,
					"UTF-32BE (byte order mark 00 00 FE FF) is not supported: "
					"save the script as UTF-8 with BOM or UTF-16LE");
	if (len >= 2 && b[0] == 0xfe && b[1] == 0xff)
		return sg_format_refuse(t->name,
					"UTF-16BE (byte order mark FE FF) is not supported: save "
					"the script as UTF-8 with BOM or UTF-16LE");
	if (len >= 2 && b[0] == 0xff && b[1] == 0xfe) {
		if (len % 2)
			return sg_format_refuse(t->name,
						"UTF-16LE with an odd number of bytes (%zu)", len);
		t->unit = 2;
		t->bom = 1;
		*enc = SG_SCRIPT_UTF16LE;
	} else if (len >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf) {
		t->bom = 3;
		*enc = SG_SCRIPT_UTF8BOM;
	}
	t->n = len / t->unit;
	if (t->n == t->bom)
		return sg_format_refuse(t->name, "no script text, only a byte order mark");
	return SG_OK;
}

static int nul_at(const struct text *t, size_t i)
{
	return sg_format_refuse(
		t->name, "a NUL character at offset %zu%s", at(t, i),
		t->unit == 1 ? " (UTF-16 without a byte order mark? signgate takes UTF-16LE "
			       "with its BOM FF FE only)"
			     : "");
}

/* Why the UTF-8 sequence led by `c` is invalid, its second byte being `b`. */
static const char *utf8_flaw(unsigned c, unsigned b)
{
	if (b < 0x80 || b > 0xbf)
		return "a sequence cut short";
	if (c == 0xed)
		return "a UTF-16 surrogate encoded in UTF-8";
	if (c == 0xf4)
		return "a code point beyond U+10FFFF";
	return "an overlong encoding";
}

/* One UTF-8 sequence at `i` (a lead byte >= 0x80): its length, or 0 with the error set. */
static size_t utf8_sequence(const struct text *t, size_t i)
{
	unsigned c = t->p[i], lo = 0x80, hi = 0xbf;
	size_t need;

	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3;
	else {
		sg_format_refuse(t->name, "invalid UTF-8 at offset %zu: %s", i,
				 c < 0xc0   ? "a continuation byte without a lead byte"
				 : c < 0xc2 ? "an overlong encoding"
					    : "a byte UTF-8 never uses");
		return 0;
	}
	if (c == 0xe0)
		lo = 0xa0; /* below: overlong */
	else if (c == 0xed)
		hi = 0x9f; /* above: surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* below: overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above: beyond U+10FFFF */
	if (need >= t->n - i) {
		sg_format_refuse(t->name,
				 "invalid UTF-8 at offset %zu: a sequence cut short by the end of "
				 "the file",
				 i);
		return 0;
	}
	for (size_t k = 1; k <= need; k++) {
		unsigned b = t->p[i + k];
		if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) {
			sg_format_refuse(t->name, "invalid UTF-8 at offset %zu: %s", i,
					 k == 1 ? utf8_flaw(c, b) : "a sequence cut short");
			return 0;
		}
	}
	return need + 1;
}

/* Units [bom, n) of `t`: valid UTF-8 (ASCII only for `enc` ASCII), no NUL; into `w` if given. */
int sg_script_check_utf8(const struct text *t, sg_script_encoding enc, struct u16_sink *w)
{
	for (size_t i = t->bom; i < t->n;) {
		unsigned long c = t->p[i];
		size_t len;

		if (c == 0)
			return nul_at(t, i);
		if (c < 0x80) {
			sg_script_sink_char(w, c);
			i++;
			continue;
		}
		if (enc == SG_SCRIPT_ASCII)
			return sg_format_refuse(
				t->name,
				"byte 0x%02lx at offset %zu is not ASCII, and the file has no "
				"byte order mark: Windows reads such a script in the machine's "
				"ANSI code page, so its signature would hold or fail by locale "
				"(save it as UTF-8 with BOM or UTF-16LE)",
				c, i);
		if ((len = utf8_sequence(t, i)) == 0)
			return SG_ERR_FORMAT;
		/* utf8_sequence() checked every byte: lead bits, then 6 bits a byte */
		c &= 0x7fu >> len;
		for (size_t k = 1; k < len; k++)
			c = c << 6 | (t->p[i + k] & 0x3fu);
		sg_script_sink_char(w, c);
		i += len;
	}
	return SG_OK;
}

int sg_script_check_utf16(const struct text *t)
{
	for (size_t i = t->bom; i < t->n; i++) {
		unsigned u = unit_at(t, i);

		if (u == 0)
			return nul_at(t, i);
		if (u >= 0xdc00 && u <= 0xdfff)
			return sg_format_refuse(t->name,
						"invalid UTF-16LE at offset %zu: a low surrogate "
						"without its high surrogate",
						at(t, i));
		if (u >= 0xd800 && u <= 0xdbff) {
			unsigned next = i + 1 < t->n ? unit_at(t, i + 1) : 0;
			if (next < 0xdc00 || next > 0xdfff)
				return sg_format_refuse(t->name,
							"invalid UTF-16LE at offset %zu: a high "
							"surrogate without its low surrogate",
							at(t, i));
			i++;
		}
	}
	return SG_OK;
}

/* ---- the signature block --------------------------------------------------- */

/* 1 when the units from `i` spell the ASCII `s` (without regard to ASCII case with `fold`). */
static int spells(const struct text *t, size_t i, const char *s, int fold)
{
	size_t k = strlen(s);

	if (i > t->n || k > t->n - i)
		return 0;
	for (size_t j = 0; j < k; j++) {
		unsigned u = unit_at(t, i + j), c = (unsigned char)s[j];
		if (fold && u >= 'A' && u <= 'Z')
			u += 'a' - 'A';
		if (fold && c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (u != c)
			return 0;
	}
	return 1;
}

void sg_script_find_marks(struct marks *m, const struct text *t)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < t->n; i++) {
		unsigned u = unit_at(t, i);
		if (u != 'S' && u != 's')
			continue;
		if (spells(t, i, BEGIN_MARK, 1)) {
			if (m->n_begin < 2)
				m->begin[m->n_begin] = i;
			m->n_begin++;
		} else if (spells(t, i, END_MARK, 1)) {
			if (m->n_end < 2)
				m->end[m->n_end] = i;
			m->n_end++;
		}
	}
}

/* Markers that are not one block at the end of the file: the reason. */
static int misplaced(const struct text *t, const struct marks *m)
{
	if (m->n_begin > 1)
		return sg_format_refuse(t->name,
					"more than one signature block: a second \"" BEGIN_MARK
					"\" at offset %zu",
					at(t, m->begin[1]));
	if (m->n_end > 1)
		return sg_format_refuse(t->name,
					"more than one signature block: a second \"" END_MARK
					"\" at offset %zu",
					at(t, m->end[1]));
	if (m->n_end == 0)
		return sg_format_refuse(t->name,
					"a signature block without its end: \"" BEGIN_MARK
					"\" at offset %zu, no \"" END_MARK "\"",
					at(t, m->begin[0]));
	if (m->n_begin == 0)
		return sg_format_refuse(t->name,
					"\"" END_MARK "\" at offset %zu without a signature block "
					"before it",
					at(t, m->end[0]));
	return sg_format_refuse(t->name,
				"the signature block's end (offset %zu) comes before its begin "
				"(offset %zu)",
				at(t, m->end[0]), at(t, m->begin[0]));
}

static int is_b64(unsigned u)
{
	return (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
	       u == '+' || u == '/' || u == '=';
}

/*
 * The lines between the begin line and the end line (units [from, to)):
 * "# " and 1 to 64 base64 characters and CRLF, 64 on every line but the
 * last. `*b64` receives the count of base64 characters.
 */
static int check_lines(const struct text *t, size_t from, size_t to, size_t *b64)
{
	size_t i = from, line = 0, last = B64_LINE;

	*b64 = 0;
	while (i < to) {
		size_t k = 0;
		line++;
		if (last != B64_LINE)
			return sg_format_refuse(
				t->name,
				"malformed signature block: line %zu has %zu base64 "
				"characters, only the last may have fewer than %d",
				line - 1, last, B64_LINE);
		if (!spells(t, i, "# ", 0))
			return sg_format_refuse(t->name,
						"malformed signature block: line %zu (offset %zu) "
						"does not start with \"# \"",
						line, at(t, i));
		for (i += 2; i < to && is_b64(unit_at(t, i)); i++)
			k++;
		if (k == 0 || k > B64_LINE || !spells(t, i, "\r\n", 0) || i + 2 > to)
			return sg_format_refuse(
				t->name,
				"malformed signature block: line %zu (offset %zu) is "
				"not 1 to %d base64 characters ending with CRLF",
				line, at(t, i), B64_LINE);
		i += 2;
		*b64 += k;
		last = k;
	}
	if (*b64 == 0)
		return sg_format_refuse(t->name, "an empty signature block");
	if (*b64 > B64_MAX)
		return sg_format_refuse(t->name,
					"the signature block is too large (%zu base64 characters, "
					"at most %u)",
					*b64, (unsigned)B64_MAX);
	return SG_OK;
}

/* One block, spelt exactly, that ends the file: its text_end and base64 count. */
static int check_block(const struct text *t, const struct marks *m, size_t *text_end, size_t *b64)
{
	size_t b = m->begin[0], e = m->end[0], tail = e + strlen(END_MARK);

	if (m->n_begin != 1 || m->n_end != 1 || e < b)
		return misplaced(t, m);
	if (tail + 2 != t->n || !spells(t, tail, "\r\n", 0))
		return sg_format_refuse(t->name,
					"text after the signature block: \"" END_MARK "\" (offset "
					"%zu) must end the file with CRLF, and %zu bytes follow it",
					at(t, e), at(t, t->n - tail));
	if (b < t->bom + 4 || !spells(t, b - 4, "\r\n# ", 0) || !spells(t, b, BEGIN_MARK, 0) ||
	    !spells(t, b + strlen(BEGIN_MARK), "\r\n", 0))
		return sg_format_refuse(t->name,
					"malformed signature block: its first line (offset %zu) "
					"must be \"# " BEGIN_MARK "\" exactly, after CRLF, ending "
					"with CRLF",
					at(t, b));
	if (e < 4 || !spells(t, e - 4, "\r\n# ", 0) || !spells(t, e, END_MARK, 0))
		return sg_format_refuse(t->name,
					"malformed signature block: its last line (offset %zu) "
					"must be \"# " END_MARK "\" exactly, after CRLF",
					at(t, e));
	if (b - 4 == t->bom)
		return sg_format_refuse(t->name, "no script text before the signature block");
	*text_end = b - 4;
	return check_lines(t, b + strlen(BEGIN_MARK) + 2, e - 2, b64);
}

/*
 * The base64 characters of the block's lines [from, to) of `t` (checked by
 * check_lines(): "# ", base64, CRLF), at most `want`, NUL-terminated; `*got`
 * receives their count.
 */
static char *collect_b64(const struct text *t, size_t from, size_t to, size_t want, size_t *got)
{
	char *b64 = malloc(want + 1);
	size_t n = 0;

	*got = 0;
	if (!b64)
		return NULL;
	for (size_t i = from; i < to && n < want; i++) {
		unsigned u = unit_at(t, i);
		if (is_b64(u))
			b64[n++] = (char)u;
	}
	b64[n] = '\0';
	*got = n;
	return b64;
}

/*
 * The block's lines in `t`, the block alone (from the CRLF that ends the
 * text to the end of the file): its first and last lines spelt exactly,
 * then check_lines() on what is between, into [*from, *to).
 */
static int block_lines(const struct text *t, size_t *from, size_t *to, size_t *b64)
{
	size_t lb = strlen(BEGIN_MARK), le = strlen(END_MARK), e;

	if (t->n < 4 + lb + 2 + 4 + le + 2 || !spells(t, 0, "\r\n# ", 0) ||
	    !spells(t, 4, BEGIN_MARK, 0) || !spells(t, 4 + lb, "\r\n", 0))
		return sg_format_refuse(t->name, "malformed signature block: its first line must "
						 "be \"# " BEGIN_MARK "\" exactly");
	e = t->n - 2 - le;
	if (e < 4 + lb + 2 + 2 || !spells(t, e - 4, "\r\n# ", 0) || !spells(t, e, END_MARK, 0) ||
	    !spells(t, e + le, "\r\n", 0))
		return sg_format_refuse(t->name, "malformed signature block: its last line must "
						 "be \"# " END_MARK "\" exactly, ending the file");
	*from = 4 + lb + 2;
	*to = e - 2;
	return check_lines(t, *from, *to, b64);
}

/*
 * The DER the signature block holds: `len` bytes at `p`, from the CRLF that
 * ends the text to the end of the file, in encoding `enc`, with `b64_len`
 * base64 characters (what the parse counted). Its lines are checked again
 * (only the block is read: cheap), so nothing here rests on the counts
 * matching the bytes; a count that does not is a refusal. Canonical
 * base64 (what an encoder writes, no stray bits) of exactly one DER
 * SEQUENCE. `*der` (free with free()) may be NULL when only the check is
 * wanted.
 */
static int block_der(unsigned char **der, size_t *der_len, const unsigned char *p, size_t len,
		     sg_script_encoding enc, size_t b64_len, const char *name)
{
	struct text t = { .p = p, .unit = enc == SG_SCRIPT_UTF16LE ? 2 : 1, .name = name };
	size_t from = 0, to = 0, count = 0, got = 0;
	char *b64 = NULL;
	unsigned char *out = NULL;
	long n = -1;
	int error;

	t.n = len / t.unit;
	if (len % t.unit)
		return sg_format_refuse(name, "the signature block has an odd number of bytes");
	if ((error = block_lines(&t, &from, &to, &count)) != SG_OK)
		return error;
	if (count != b64_len)
		return sg_format_refuse(name,
					"the signature block has %zu base64 characters, not %zu",
					count, b64_len);
	if (!(b64 = collect_b64(&t, from, to, count, &got)) || !(out = malloc(got / 4 * 3 + 1))) {
		free(b64);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	if (got == count)
		n = sg_base64_decode(out, b64, got, 1);
	free(b64);
	if (n <= 0)
		error = sg_format_refuse(name, "the signature block is not canonical base64");
	else if (sg_format_der_len(out, (size_t)n) != (uint64_t)n)
		error = sg_format_refuse(
			name,
			"the signature block does not hold exactly one DER SEQUENCE "
			"(%ld bytes decoded)",
			n);
	if (error || !der) {
		free(out);
		return error;
	}
	*der = out;
	*der_len = (size_t)n;
	return SG_OK;
}

int sg_script_parse(sg_script_layout *out, const unsigned char *buf, size_t len, const char *name)
{
	struct text t = { .name = name ? name : "(unnamed)" };
	struct marks m;
	size_t end_units = 0, b64 = 0;
	int error;

	memset(out, 0, sizeof(*out));
	out->size = len;
	if (len == 0)
		return sg_format_refuse(t.name, "empty file");
	if (len > SG_SCRIPT_MAX)
		return sg_format_refuse(t.name, "too large for a script: %zu bytes (at most %u)",
					len, SG_SCRIPT_MAX);
	if ((error = detect(&t, &out->encoding, buf, len)) != SG_OK)
		return error;
	error = t.unit == 2 ? sg_script_check_utf16(&t)
			    : sg_script_check_utf8(&t, out->encoding, NULL);
	if (error)
		return error;
	if (len < SCRIPT_MIN)
		return sg_format_refuse(
			t.name, "%zu bytes: too short for a script signgate signs (at least %d)",
			len, SCRIPT_MIN);
	sg_script_find_marks(&m, &t);
	if (m.n_begin == 0 && m.n_end == 0) {
		out->text_end = len;
		return SG_OK;
	}
	if ((error = check_block(&t, &m, &end_units, &b64)) != SG_OK)
		return error;
	out->text_end = at(&t, end_units);
	out->has_signature = 1;
	out->b64_len = b64;
	return block_der(NULL, NULL, buf + out->text_end, len - out->text_end, out->encoding, b64,
			 t.name);
}

/* ---- from a file, and the table row ------------------------------------------ */

/* sg_script_load(): script_internal.h. */
int sg_script_load(unsigned char **buf, sg_script_layout *l, int fd, const char *name)
{
	struct src s;
	int error;

	*buf = NULL;
	if ((error = sg_format_src_of(&s, fd, name)) < 0)
		return error;
	if (s.size == 0)
		return sg_format_refuse(s.name, "empty file");
	if (s.size > SG_SCRIPT_MAX)
		return sg_format_refuse(s.name, "too large for a script: %llu bytes (at most %u)",
					(unsigned long long)s.size, SG_SCRIPT_MAX);
	if (!(*buf = malloc((size_t)s.size)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = sg_format_read_at(&s, *buf, (size_t)s.size, 0);
	if (!error)
		error = sg_script_parse(l, *buf, (size_t)s.size, s.name);
	if (error) {
		free(*buf);
		*buf = NULL;
	}
	return error;
}

int sg_script_signature_read(unsigned char **der, size_t *len, int fd, const char *name)
{
	sg_script_layout l;
	unsigned char *buf = NULL;
	int error = sg_script_load(&buf, &l, fd, name);

	*der = NULL;
	*len = 0;
	if (!error && !l.has_signature)
		error = sg_format_refuse(name, "the script has no signature block");
	if (!error)
		error = block_der(der, len, buf + l.text_end, l.size - l.text_end, l.encoding,
				  l.b64_len, name ? name : "(unnamed)");
	free(buf);
	return error;
}

static int script_detect(const unsigned char *head, size_t n, const char *name)
{
	(void)head;
	(void)n;
	return sg_format_name_ext(name, script_ext, NULL) != NULL;
}

static int script_inspect(const struct src *s, sg_format_info *out)
{
	sg_script_layout l;
	unsigned char *buf = NULL;
	int error = sg_script_load(&buf, &l, s->fd, s->name);

	free(buf);
	if (error)
		return error;
	out->script.encoding = (int)l.encoding;
	out->script.b64_len = l.b64_len;
	out->has_signature = l.has_signature;
	if (l.has_signature) {
		out->sig_offset = l.text_end;
		out->sig_size = l.size - l.text_end;
	}
	return SG_OK;
}

/*
 * Bytes [from, to) of the script open on `fd` that script_inspect()
 * described in `info` (checked and laid out there: not parsed again) into
 * `*buf` (free with free()). The file must still have the inspected size.
 */
static int load_inspected(unsigned char **buf, int fd, const sg_format_info *info, uint64_t from,
			  uint64_t to, const char *name)
{
	struct src s;
	int error;

	*buf = NULL;
	if ((error = sg_format_src_of(&s, fd, name)) < 0)
		return error;
	/* the block, when there is one, runs from the text's end to the file's */
	if (s.size != info->size || from > to || to > s.size || s.size > SG_SCRIPT_MAX ||
	    (info->has_signature &&
	     (info->sig_offset > s.size || info->sig_size != s.size - info->sig_offset)))
		return sg_error_set(SG_ERR_USAGE, "%s: not the script that was inspected", s.name);
	if (!(*buf = malloc(to > from ? (size_t)(to - from) : 1)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if ((error = sg_format_read_at(&s, *buf, (size_t)(to - from), from)) < 0) {
		free(*buf);
		*buf = NULL;
	}
	return error;
}

/*
 * A refusal of bytes that script_inspect() accepted (same size, the bounds
 * from `info`): the file changed since it was checked.
 */
static int changed(int error, const char *name)
{
	if (error != SG_ERR_FORMAT)
		return error;
	return sg_error_prefix("%s: not the script that was inspected: it changed since it was "
			       "checked",
			       name);
}

/* `info` comes from script_inspect(): an encoding it accepted. */
static int inspected(const sg_format_info *info)
{
	return info && (info->script.encoding == SG_SCRIPT_ASCII ||
			info->script.encoding == SG_SCRIPT_UTF8BOM ||
			info->script.encoding == SG_SCRIPT_UTF16LE);
}

/*
 * The same digest whatever the use: the block is all a signature leaves
 * out. The text is read once and checked again while it is hashed
 * (sg_script_digest_text()): bytes that changed since inspect are refused, never
 * digested as the inspected ones.
 */
static int script_digest(unsigned char md[SG_FORMAT_DIGEST_MAX], size_t *md_len, int fd,
			 const sg_format_info *info, sg_format_digest_use use, const char *name)
{
	sg_script_layout l = { 0 };
	unsigned char *buf = NULL;
	int error;

	(void)use;
	*md_len = 0;
	if (!inspected(info))
		return sg_error_set(SG_ERR_USAGE, "%s: not an inspected script", name);
	l.encoding = (sg_script_encoding)info->script.encoding;
	l.size = (size_t)info->size;
	l.text_end = info->has_signature ? (size_t)info->sig_offset : (size_t)info->size;
	if ((error = load_inspected(&buf, fd, info, 0, l.text_end, name)) < 0)
		return error;
	error = changed(sg_script_digest_text(md, buf, &l, name), name);
	free(buf);
	*md_len = error ? 0 : SG_SCRIPT_DIGEST_LEN;
	return error;
}

/*
 * The container is the decoded DER: the block's text is a function of it.
 * Only the block is read, and its lines are checked again (block_der()).
 */
static int script_signature_read(unsigned char **out, size_t *len, size_t *der_at, size_t *der_len,
				 int fd, const sg_format_info *info, size_t max, const char *name)
{
	unsigned char *block = NULL;
	int error;

	*out = NULL;
	*len = *der_at = *der_len = 0;
	if (!inspected(info))
		return sg_error_set(SG_ERR_USAGE, "%s: not an inspected script", name);
	if (!info->has_signature)
		return sg_format_refuse(name, "the script has no signature block");
	/* base64 of at most `max` bytes: 4 characters per 3 bytes */
	if (info->script.b64_len / 4 * 3 > max + 2)
		return sg_format_refuse(name, "the signature block is too large");
	if ((error = load_inspected(&block, fd, info, info->sig_offset,
				    info->sig_offset + info->sig_size, name)) < 0)
		return error;
	error = block_der(out, len, block, (size_t)info->sig_size,
			  (sg_script_encoding)info->script.encoding, info->script.b64_len, name);
	free(block);
	if (error)
		return changed(error, name);
	if (*len > max) {
		free(*out);
		*out = NULL;
		*len = 0;
		return sg_format_refuse(name, "the signature block is too large");
	}
	*der_len = *len;
	return SG_OK;
}

/*
 * SpcSipInfo with the PowerShell SIP's GUID {603BCC1F-4B59-4E08-B724-D2C6297EF351}
 * (the first three fields little-endian, as Windows lays out a GUID),
 * version 65536, as signtool, osslsigncode and jsign write it.
 */
static const sg_spc_content script_content = {
	.name = "PowerShell",
	.what = "a PowerShell script",
	.shape = SG_SPC_SIP_INFO,
	.sip_guid = { 0x1f, 0xcc, 0x3b, 0x60, 0x59, 0x4b, 0x08, 0x4e, 0xb7, 0x24, 0xd2, 0xc6, 0x29,
		      0x7e, 0xf3, 0x51 },
	.sip_version = 65536,
};

const struct sg_format_ops sg_format_script_ops = {
	.name = "powershell",
	.what = "a PowerShell script",
	.extensions = script_ext,
	.detect = script_detect,
	.by_name = 1,
	.clsid = NULL,
	.inspect = script_inspect,
	.digest = script_digest,
	.content = &script_content,
	.signature_read = script_signature_read,
	.container_holds = sg_format_holds_exactly,
	.container = "signature block",
	.extracts_own = 1,
	.attach_own = NULL, /* osslsigncode attach-signature, keyless; it goes by the name */
	.dse_when_nested = 0,
	.nest_unseen = "PowerShell checks only a script's one signature block",
};

/*
 * Internal: what format_script.c (encoding, signature block, table row)
 * and script_digest.c (the UTF-16LE Authenticode digest) share. The
 * digest checks the text again while it hashes it, with the same checks
 * the parse uses, so those live once, in format_script.c.
 */
#ifndef SIGNGATE_LIB_SCRIPT_INTERNAL_H
#define SIGNGATE_LIB_SCRIPT_INTERNAL_H

#include <stddef.h>

#include "format_script.h"

/* The file as code units. */
struct text {
	const unsigned char *p;
	size_t n;    /* units */
	size_t unit; /* bytes per unit: 1 (UTF-8) or 2 (UTF-16LE) */
	size_t bom;  /* units of the byte order mark: 0, 1 (UTF-16LE) or 3 (UTF-8) */
	const char *name;
};

/* Where the markers are, in any case: the first two of each. */
struct marks {
	size_t begin[2], end[2];
	int n_begin, n_end;
};

/* UTF-16LE code units on their way into a digest (script_digest.c). */
struct u16_sink;

/*
 * Units [bom, n) of `t`: valid UTF-8 (ASCII only for `enc` ASCII), no NUL;
 * each character into `w` as UTF-16LE if `w` is not NULL.
 */
int sg_script_check_utf8(const struct text *t, sg_script_encoding enc, struct u16_sink *w);

/* Units [bom, n) of `t`: UTF-16LE, surrogates paired, no NUL. */
int sg_script_check_utf16(const struct text *t);

/* The signature markers in `t`, in any case. */
void sg_script_find_marks(struct marks *m, const struct text *t);

/* The code point `c` (checked: at most U+10FFFF, no surrogate) into `w` (NULL: nothing). */
void sg_script_sink_char(struct u16_sink *w, unsigned long c);

/* The whole regular file open on `fd`, checked: `*buf` (free with free()), laid out in `*l`. */
int sg_script_load(unsigned char **buf, sg_script_layout *l, int fd, const char *name);

/*
 * The digest of the text [0, l->text_end) of `buf`, checked again while it
 * is hashed; `name` for messages. SG_OK; SG_ERR_USAGE for a layout no
 * parse made; SG_ERR_FORMAT; SG_ERR_NOMEM; SG_ERR_CRYPTO.
 */
int sg_script_digest_text(unsigned char md[SG_SCRIPT_DIGEST_LEN], const unsigned char *buf,
			  const sg_script_layout *l, const char *name);

#endif

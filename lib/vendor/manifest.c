/* Vendor checksum files; see include/signgate/manifest.h. */
#include "signgate/manifest.h"
#include "signgate/error.h"
#include "signgate/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MANIFEST_MAX (1024 * 1024)
#define HEX_MAX      128
#define GROUP_MAX    8  /* gpg prints at most 8 digits per group */
#define QUOTE        80 /* characters of a line quoted in a message */
#define SHOWN_NAMES  5

static const struct alg_info {
	sg_hash_alg alg;
	const char *name; /* for people: "SHA-256" */
	const char *word; /* in coreutils tags and file names: "SHA256" */
	size_t hexlen;
} algs[] = {
	{ SG_ALG_MD5, "MD5", "MD5", 32 },           { SG_ALG_SHA1, "SHA-1", "SHA1", 40 },
	{ SG_ALG_SHA224, "SHA-224", "SHA224", 56 }, { SG_ALG_SHA256, "SHA-256", "SHA256", 64 },
	{ SG_ALG_SHA384, "SHA-384", "SHA384", 96 }, { SG_ALG_SHA512, "SHA-512", "SHA512", 128 },
};
#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

/* A digest that may go on over the following lines (gpg wraps its groups). */
struct pending {
	int open;
	int need_first; /* "<long name>:" alone: gpg starts the digest on the next line */
	size_t line;
	const char *text; /* its first line, for a bad-line record */
	size_t text_len;
	const char *name; /* NULL for a bare grouped digest */
	size_t name_len;
	const char *tag; /* gpg --print-mds "SHA256 = "; NULL when none */
	size_t tag_len;
	char hex[HEX_MAX + 2];
	size_t hex_len; /* HEX_MAX + 1 means "longer than any digest" */
};

struct parser {
	sg_manifest *m;
	sg_hash_alg path_alg; /* announced by the manifest's name, or unknown */
	size_t cap, cap_bad;
	struct pending g;
};

/* What one line (or one wrapped gpg digest) says, before it is checked. */
struct cand {
	size_t line;
	const char *text;
	size_t text_len;
	const char *name; /* NULL for a bare digest */
	size_t name_len;
	int escaped; /* coreutils' leading '\': the name has \\, \n, \r escapes */
	const char *tag;
	size_t tag_len;
	const char *hex;
	size_t hex_len;
	const char *format;
};

const char *sg_hash_alg_name(sg_hash_alg alg)
{
	for (size_t i = 0; i < N_ALGS; i++)
		if (algs[i].alg == alg)
			return algs[i].name;
	return "unknown";
}

size_t sg_hash_alg_hexlen(sg_hash_alg alg)
{
	for (size_t i = 0; i < N_ALGS; i++)
		if (algs[i].alg == alg)
			return algs[i].hexlen;
	return 0;
}

int sg_hash_alg_strong(sg_hash_alg alg)
{
	return alg == SG_ALG_SHA256 || alg == SG_ALG_SHA512;
}

static int same_word(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* "SHA256", "SHA-256" or OpenSSL 3's "SHA2-256", in any case. */
static sg_hash_alg alg_from_tag(const char *s, size_t n)
{
	char sha2[16];

	for (size_t i = 0; i < N_ALGS; i++) {
		if (same_word(s, n, algs[i].word) || same_word(s, n, algs[i].name))
			return algs[i].alg;
		if (algs[i].hexlen < 56)
			continue;
		snprintf(sha2, sizeof(sha2), "SHA2-%s", algs[i].word + 3);
		if (same_word(s, n, sha2))
			return algs[i].alg;
	}
	return SG_ALG_UNKNOWN;
}

/* "sha256", "sha256sum", "SHA256SUMS". */
static sg_hash_alg alg_from_word(const char *s, size_t n)
{
	if (n > 4 && strncasecmp(s + n - 4, "sums", 4) == 0)
		n -= 4;
	else if (n > 3 && strncasecmp(s + n - 3, "sum", 3) == 0)
		n -= 3;
	for (size_t i = 0; i < N_ALGS; i++)
		if (same_word(s, n, algs[i].word))
			return algs[i].alg;
	return SG_ALG_UNKNOWN;
}

/* The algorithm a manifest's name announces: "x.sha256", "x.sha512sum", "SHA256SUMS(.txt)". */
static sg_hash_alg alg_from_path(const char *path)
{
	const char *base = sg_path_base(path), *dot = strrchr(base, '.');
	sg_hash_alg alg = SG_ALG_UNKNOWN;

	if (dot)
		alg = alg_from_word(dot + 1, strlen(dot + 1));
	if (!alg)
		alg = alg_from_word(base, strcspn(base, "."));
	return alg;
}

static sg_hash_alg alg_from_len(size_t hex_len)
{
	for (size_t i = 0; i < N_ALGS; i++)
		if (algs[i].hexlen == hex_len)
			return algs[i].alg;
	return SG_ALG_UNKNOWN;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

/* BSD, OpenSSL and gpg --print-mds tags: "SHA256", "SHA2-512/256", "BLAKE2b". */
static int is_tag_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '/' || c == '_';
}

/*
 * 1 when s[0..n) is one or more runs of hex digits separated by spaces or tabs; their
 * number goes to *runs and the length of the longest to *longest.
 */
static int hex_runs(const char *s, size_t n, size_t *runs, size_t *longest)
{
	size_t i = 0, start;

	*runs = *longest = 0;
	while (i < n) {
		while (i < n && is_space(s[i]))
			i++;
		for (start = i; i < n && !is_space(s[i]); i++)
			if (!isxdigit((unsigned char)s[i]))
				return 0;
		if (i > start) {
			(*runs)++;
			if (i - start > *longest)
				*longest = i - start;
		}
	}
	return *runs > 0;
}

/* The last occurrence of `sep` in s[0..n), or NULL. */
static const char *last_of(const char *s, size_t n, const char *sep)
{
	size_t k = strlen(sep);

	for (size_t i = n; i >= k; i--)
		if (memcmp(s + i - k, sep, k) == 0)
			return s + i - k;
	return NULL;
}

/*
 * Keep a line that does not parse. Its text is stored followed, after its NUL, by
 * the name the line is about ("" when it cannot be tied to a file name): the public
 * structure has no field for it, and sg_manifest_find() reads it back with about().
 */
__attribute__((format(printf, 7, 8))) static int add_bad(struct parser *p, size_t line,
							 const char *text, size_t text_len,
							 const char *about, size_t about_len,
							 const char *fmt, ...)
{
	sg_manifest *m = p->m;
	struct sg_manifest_bad *b;
	char why[SG_ERROR_MAX];
	va_list ap;

	if (m->n_bad == p->cap_bad) {
		size_t cap = p->cap_bad ? 2 * p->cap_bad : 8;
		struct sg_manifest_bad *grown = realloc(m->bad, cap * sizeof(*grown));

		if (!grown)
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		m->bad = grown;
		p->cap_bad = cap;
	}
	b = &m->bad[m->n_bad];
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	b->line = line;
	b->why = strdup(why);
	b->text = malloc(text_len + about_len + 2);
	if (!b->why || !b->text) {
		free(b->why);
		free(b->text);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	memcpy(b->text, text, text_len);
	b->text[text_len] = '\0';
	if (about_len)
		memcpy(b->text + text_len + 1, about, about_len);
	b->text[text_len + 1 + about_len] = '\0';
	m->n_bad++;
	return SG_OK;
}

static const char *about(const struct sg_manifest_bad *b)
{
	return b->text + strlen(b->text) + 1;
}

static int add_entry(struct parser *p, const struct cand *c, sg_hash_alg alg, char *name)
{
	sg_manifest *m = p->m;
	sg_manifest_entry *e;

	if (m->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		sg_manifest_entry *grown = realloc(m->entries, cap * sizeof(*grown));

		if (!grown) {
			free(name);
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		}
		m->entries = grown;
		p->cap = cap;
	}
	e = &m->entries[m->n++];
	memset(e, 0, sizeof(*e));
	e->alg = alg;
	for (size_t i = 0; i < c->hex_len; i++)
		e->hex[i] = (char)tolower((unsigned char)c->hex[i]);
	e->name = name;
	e->line = c->line;
	e->format = c->format;
	return SG_OK;
}

static const char no_file_name[] = "no file name";

/*
 * The name of `c` as stored: escapes decoded, leading "./" dropped. SG_ERR_FORMAT
 * with *why for a name that cannot be used.
 */
static int make_name(char **out, const struct cand *c, const char **why)
{
	const char *s = c->name;
	size_t n = c->name_len;
	char *o;

	*out = NULL;
	while (n >= 2 && s[0] == '.' && s[1] == '/')
		s += 2, n -= 2;
	if (n == 0) {
		*why = no_file_name;
		return SG_ERR_FORMAT;
	}
	if (!(*out = o = malloc(n + 1)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!c->escaped || s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		if (++i < n && (s[i] == '\\' || s[i] == 'n' || s[i] == 'r')) {
			*o++ = s[i] == 'n' ? '\n' : s[i] == 'r' ? '\r' : '\\';
			continue;
		}
		free(*out);
		*out = NULL;
		*why = "a '\\' in an escaped name is not followed by \\, n or r";
		return SG_ERR_FORMAT;
	}
	*o = '\0';
	return SG_OK;
}

/* Record `c` as a bad line about `name` (or about nothing when NULL); frees `name`. */
__attribute__((format(printf, 4, 5))) static int bad(struct parser *p, const struct cand *c,
						     char *name, const char *fmt, ...)
{
	char why[SG_ERROR_MAX];
	va_list ap;
	int error;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	error = add_bad(p, c->line, c->text, c->text_len, name ? name : "", name ? strlen(name) : 0,
			"%s", why);
	free(name);
	return error;
}

/* The algorithm of `c`'s digest, or SG_ALG_UNKNOWN with the reason in why[size]. */
static sg_hash_alg settle_alg(const struct parser *p, const struct cand *c, char *why, size_t size)
{
	sg_hash_alg alg = SG_ALG_UNKNOWN;
	size_t want;

	if (c->tag && !(alg = alg_from_tag(c->tag, c->tag_len))) {
		snprintf(why, size, "unsupported algorithm %.*s",
			 (int)(c->tag_len > 32 ? 32 : c->tag_len), c->tag);
		return SG_ALG_UNKNOWN;
	}
	if (c->hex_len == 0) {
		snprintf(why, size, "no digest");
		return SG_ALG_UNKNOWN;
	}
	for (size_t i = 0; i < c->hex_len; i++) {
		unsigned char ch = (unsigned char)c->hex[i];

		if (isxdigit(ch))
			continue;
		if (ch >= ' ' && ch < 0x7f)
			snprintf(why, size, "'%c' is not a hex digit", ch);
		else
			snprintf(why, size, "byte 0x%02x in the digest is not a hex digit", ch);
		return SG_ALG_UNKNOWN;
	}
	if (c->hex_len > HEX_MAX) {
		snprintf(why, size, "longer than any supported digest (more than %d hex digits)",
			 HEX_MAX);
		return SG_ALG_UNKNOWN;
	}
	if (alg && (want = sg_hash_alg_hexlen(alg)) != c->hex_len) {
		snprintf(why, size, "%s tag but %zu hex digits (%s has %zu)", sg_hash_alg_name(alg),
			 c->hex_len, sg_hash_alg_name(alg), want);
		return SG_ALG_UNKNOWN;
	}
	if (!alg && p->path_alg && (want = sg_hash_alg_hexlen(p->path_alg)) != c->hex_len) {
		snprintf(why, size,
			 "the manifest's name says %s but the digest has %zu hex digits, not %zu",
			 sg_hash_alg_name(p->path_alg), c->hex_len, want);
		return SG_ALG_UNKNOWN;
	}
	if (!alg)
		alg = p->path_alg;
	if (!alg && !(alg = alg_from_len(c->hex_len)))
		snprintf(why, size, "%zu hex digits: no supported digest has this length",
			 c->hex_len);
	return alg;
}

/* Check what a line says and keep it as an entry or as a bad line. */
static int take(struct parser *p, const struct cand *c)
{
	const char *reason = NULL;
	char why[SG_ERROR_MAX];
	sg_hash_alg alg;
	char *name = NULL;
	int error;

	if (c->name && (error = make_name(&name, c, &reason)) < 0) {
		if (error != SG_ERR_FORMAT)
			return error;
		/* an empty name is about nothing; an undecodable one still names its file */
		return add_bad(p, c->line, c->text, c->text_len, c->name,
			       reason == no_file_name ? 0 : c->name_len, "%s", reason);
	}
	/* A human "SHA256: <hex>" reads like gpg's "<file>: <hex>" but names no file. */
	if (name && strcmp(c->format, "gpg") == 0 &&
	    (alg_from_tag(name, strlen(name)) || alg_from_word(name, strlen(name)))) {
		snprintf(why, sizeof(why), "\"%.32s:\" is an algorithm label, not a file name",
			 name);
		free(name);
		return bad(p, c, NULL, "%s", why);
	}
	if (!(alg = settle_alg(p, c, why, sizeof(why))))
		return bad(p, c, name, "%s", why);
	return add_entry(p, c, alg, name);
}

/* Append the hex runs of s[0..n) to the open wrapped digest. */
static void go_on(struct pending *g, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (is_space(s[i]))
			continue;
		if (g->hex_len <= HEX_MAX)
			g->hex[g->hex_len++] = s[i];
	}
	g->need_first = 0;
}

/* Open a digest that following lines may continue; `groups` may be empty. */
static void start(struct parser *p, size_t line, const char *text, size_t text_len,
		  const char *name, size_t name_len, const char *tag, size_t tag_len,
		  const char *groups, size_t groups_len)
{
	struct pending *g = &p->g;

	memset(g, 0, sizeof(*g));
	g->open = 1;
	g->need_first = groups_len == 0;
	g->line = line;
	g->text = text;
	g->text_len = text_len;
	g->name = name;
	g->name_len = name_len;
	g->tag = tag;
	g->tag_len = tag_len;
	go_on(g, groups, groups_len);
	g->need_first = groups_len == 0;
}

/* Close the wrapped digest, if one is open, and keep it. */
static int finish(struct parser *p)
{
	struct pending *g = &p->g;
	struct cand c = { 0 };

	if (!g->open)
		return SG_OK;
	g->open = 0;
	if (g->need_first)
		return add_bad(p, g->line, g->text, g->text_len, g->name, g->name_len,
			       "no digest after the file name");
	c.line = g->line;
	c.text = g->text;
	c.text_len = g->text_len;
	c.name = g->name;
	c.name_len = g->name_len;
	c.tag = g->tag;
	c.tag_len = g->tag_len;
	c.hex = g->hex;
	c.hex_len = g->hex_len;
	c.format = g->name ? "gpg" : "bare";
	return take(p, &c);
}

/* BSD "SHA256 (name) = hex" and OpenSSL "SHA2-256(name)= hex". */
static int try_tagged(struct parser *p, size_t line, const char *s, size_t n, int *matched)
{
	struct cand c = { .line = line, .text = s, .text_len = n };
	const char *sep, *close;
	size_t i = 0, t, open;

	*matched = 0;
	if (n && s[0] == '\\')
		c.escaped = i = 1;
	for (t = i; t < n && is_tag_char(s[t]); t++)
		;
	/* every tag has a letter past 'f': a hex first word is a coreutils line */
	if (t == i || all_hex(s + i, t - i))
		return SG_OK;
	if (t + 1 < n && s[t] == ' ' && s[t + 1] == '(') {
		open = t + 2;
		sep = ") =";
		c.format = "bsd";
	} else if (t < n && s[t] == '(') {
		open = t + 1;
		sep = ")=";
		c.format = "openssl";
	} else {
		return SG_OK;
	}
	/* the last separator: the name may itself contain one */
	if (!(close = last_of(s + open, n - open, sep)))
		return SG_OK;
	*matched = 1;
	c.tag = s + i;
	c.tag_len = t - i;
	c.name = s + open;
	c.name_len = (size_t)(close - c.name);
	c.hex = close + strlen(sep);
	while (c.hex < s + n && is_space(*c.hex))
		c.hex++;
	c.hex_len = (size_t)(s + n - c.hex);
	return take(p, &c);
}

/*
 * "<hex>  name", "<hex> *name" and "<hex> name". `loose` also takes a long first
 * word that is not all hex, so that a damaged digest is reported with its file.
 */
static int try_coreutils(struct parser *p, size_t line, const char *s, size_t n, int loose,
			 int *matched)
{
	struct cand c = { .line = line, .text = s, .text_len = n, .format = "coreutils" };
	size_t i = 0, t;

	*matched = 0;
	if (n && s[0] == '\\')
		c.escaped = i = 1;
	for (t = i; t < n && !is_space(s[t]); t++)
		;
	/* trailing blanks are gone: a space after the word means a name follows */
	if (t == i || t >= n || s[t] != ' ')
		return SG_OK;
	if (loose ? t - i < 32 : !all_hex(s + i, t - i))
		return SG_OK;
	*matched = 1;
	c.hex = s + i;
	c.hex_len = t - i;
	/* as in coreutils, the character after the first space is the mode, if it is one */
	if (s[++t] == ' ') {
		t++;
	} else if (s[t] == '*') {
		t++;
		c.format = "coreutils-binary";
	}
	c.name = s + t;
	c.name_len = n - t;
	return take(p, &c);
}

/*
 * gpg: "<name>: <groups>", "<name>: SHA256 = <groups>", or "<name>:" with the groups
 * on the next line. The name ends at the first ": " after which only groups follow.
 */
static int try_gpg(struct parser *p, size_t line, const char *s, size_t n, int *matched)
{
	size_t runs, longest;

	*matched = 0;
	for (size_t c = 1; c < n; c++) {
		size_t r = c + 1, t, tag = 0, tag_len = 0;

		if (s[c] != ':' || (r < n && s[r] != ' '))
			continue;
		while (r < n && s[r] == ' ')
			r++;
		for (t = r; t < n && is_tag_char(s[t]); t++)
			;
		if (t > r && t + 2 < n && s[t] == ' ' && s[t + 1] == '=' && s[t + 2] == ' ' &&
		    !all_hex(s + r, t - r)) {
			tag = r;
			tag_len = t - r;
			for (r = t + 3; r < n && s[r] == ' '; r++)
				;
		}
		/* gpg's groups, or one unbroken digest as people write it */
		if (r < n &&
		    (!hex_runs(s + r, n - r, &runs, &longest) || (runs > 1 && longest > GROUP_MAX)))
			continue;
		*matched = 1;
		start(p, line, s, n, s, c, tag_len ? s + tag : NULL, tag_len, s + r, n - r);
		return SG_OK;
	}
	return SG_OK;
}

static int armored(struct parser *p, size_t line, const char *s, size_t n)
{
	if (n == 34 && memcmp(s, "-----BEGIN PGP SIGNED MESSAGE-----", 34) == 0)
		return sg_error_set(SG_ERR_FORMAT,
				    "%s: line %zu: clearsigned manifests are not read; give the "
				    "detached signature instead",
				    p->m->path, line);
	return sg_error_set(
		SG_ERR_FORMAT,
		"%s: line %zu: an OpenPGP armored block (\"%.*s\"), not a checksum file",
		p->m->path, line, (int)(n > QUOTE ? QUOTE : n), s);
}

static int parse_line(struct parser *p, size_t line, const char *s, size_t n)
{
	size_t runs, longest;
	int indented, matched, error;

	while (n && is_space(s[n - 1]))
		n--;
	indented = n && is_space(s[0]);
	while (n && is_space(*s))
		s++, n--;
	if (n >= 15 && memcmp(s, "-----BEGIN PGP ", 15) == 0)
		return armored(p, line, s, n);
	if (hex_runs(s, n, &runs, &longest) && (runs == 1 || longest <= GROUP_MAX)) {
		/* gpg indents what follows the first line, except after a long name */
		if (p->g.open && longest <= GROUP_MAX && (indented || p->g.need_first)) {
			go_on(&p->g, s, n);
			return SG_OK;
		}
		if ((error = finish(p)) < 0)
			return error;
		if (runs > 1) {
			start(p, line, s, n, NULL, 0, NULL, 0, s, n);
			return SG_OK;
		}
		return take(p, &(struct cand){ .line = line,
					       .text = s,
					       .text_len = n,
					       .hex = s,
					       .hex_len = n,
					       .format = "bare" });
	}
	if ((error = finish(p)) < 0)
		return error;
	if (n == 0 || s[0] == '#')
		return SG_OK;
	if ((error = try_tagged(p, line, s, n, &matched)) < 0 || matched)
		return error;
	if ((error = try_coreutils(p, line, s, n, 0, &matched)) < 0 || matched)
		return error;
	if ((error = try_gpg(p, line, s, n, &matched)) < 0 || matched)
		return error;
	if ((error = try_coreutils(p, line, s, n, 1, &matched)) < 0 || matched)
		return error;
	return add_bad(p, line, s, n, NULL, 0, "not a checksum line in any supported format");
}

static int too_big(const char *path)
{
	return sg_error_set(SG_ERR_FORMAT, "%s: too big for a checksum file (more than %d bytes)",
			    path, MANIFEST_MAX);
}

/* Refuse what is not a small text file before reading lines. */
static int check_text(const char *path, const char *text, size_t off, size_t len)
{
	size_t line = 1;

	if (len > MANIFEST_MAX)
		return too_big(path);
	if (off == len)
		return sg_error_set(SG_ERR_FORMAT, "%s: empty file", path);
	for (size_t i = off; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\n')
			line++;
		else if (c == '\r' && (i + 1 == len || text[i + 1] == '\n'))
			continue;
		else if ((c < ' ' && c != '\t') || c == 0x7f)
			return sg_error_set(SG_ERR_FORMAT,
					    "%s: line %zu: binary data (byte 0x%02x); not a "
					    "checksum file",
					    path, line, c);
	}
	return SG_OK;
}

/*
 * A bare digest says nothing of its file: it is an entry only in a file of bare
 * digests, and a bad line among named entries. Then there must be an entry.
 */
static int settle_manifest(struct parser *p)
{
	sg_manifest *m = p->m;
	size_t bare = 0, kept = 0;
	int error;

	for (size_t i = 0; i < m->n; i++)
		bare += m->entries[i].name == NULL;
	for (size_t i = 0; bare && bare < m->n && i < m->n; i++) {
		sg_manifest_entry *e = &m->entries[i];

		if (e->name) {
			m->entries[kept++] = *e;
			continue;
		}
		error = add_bad(p, e->line, e->hex, strlen(e->hex), NULL, 0,
				"a bare digest in a file that names its files: it names no file");
		if (error < 0)
			return error;
	}
	if (bare && bare < m->n)
		m->n = kept;
	if (m->n)
		return SG_OK;
	if (!m->n_bad)
		return sg_error_set(SG_ERR_FORMAT,
				    "%s: no checksum entry, only blank lines and comments",
				    m->path);
	return sg_error_set(SG_ERR_FORMAT, "%s: no checksum entry; line %zu: %s: \"%.*s\"", m->path,
			    m->bad[0].line, m->bad[0].why, QUOTE, m->bad[0].text);
}

int sg_manifest_parse(sg_manifest *out, const char *path, const char *text, size_t len)
{
	struct parser p = { .m = out };
	size_t off = 0, line = 0;
	int error;

	if (!out)
		return sg_error_set(SG_ERR_USAGE, "sg_manifest_parse: no output structure");
	memset(out, 0, sizeof(*out));
	if (!text && len)
		return sg_error_set(SG_ERR_USAGE, "sg_manifest_parse: no text");
	if (!(out->path = strdup(path ? path : "(manifest)")))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	if ((error = check_text(out->path, text, off, len)) < 0)
		goto done;
	p.path_alg = alg_from_path(out->path);
	while (off < len && error == SG_OK) {
		const char *s = text + off, *nl = memchr(s, '\n', len - off);
		size_t n = nl ? (size_t)(nl - s) : len - off;

		off += n + (nl != NULL);
		if (n && s[n - 1] == '\r')
			n--;
		error = parse_line(&p, ++line, s, n);
	}
	if (error == SG_OK)
		error = finish(&p);
	if (error == SG_OK)
		error = settle_manifest(&p);
done:
	if (error < 0)
		sg_manifest_free(out);
	return error;
}

int sg_manifest_load(sg_manifest *out, const char *path)
{
	unsigned char *buf;
	size_t len;
	int error;

	if (!out || !path)
		return sg_error_set(SG_ERR_USAGE, "sg_manifest_load: no output structure or path");
	memset(out, 0, sizeof(*out));
	error = sg_read_file(&buf, &len, path, MANIFEST_MAX, NULL, 0);
	if (error == SG_ERR_FORMAT)
		return too_big(path);
	if (error)
		return error;
	error = sg_manifest_parse(out, path, (const char *)buf, len);
	free(buf);
	return error;
}

/* The last '/'- or '\'-separated component of an entry's name is `name`. */
static int names_file(const char *entry_name, const char *name)
{
	const char *base = entry_name;

	for (const char *s = entry_name; *s; s++)
		if (*s == '/' || *s == '\\')
			base = s + 1;
	return strcmp(base, name) == 0;
}

static int is_name_char(unsigned char c)
{
	return isalnum(c) || c >= 0x80 || (c && strchr("._-+~", c));
}

/* `text` holds `name` as a whole word, not inside a longer name ("other-setup.exe"). */
static int mentions(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *q = text; (q = strstr(q, name)); q++) {
		int before = q == text || !is_name_char((unsigned char)q[-1]);

		if (before && !is_name_char((unsigned char)q[n]))
			return 1;
	}
	return 0;
}

static int refuse_bad_lines(const sg_manifest *m, const char *path, const char *name)
{
	for (size_t i = 0; i < m->n_bad; i++) {
		const struct sg_manifest_bad *b = &m->bad[i];
		const char *a = about(b);

		if (!*a)
			return sg_error_set(SG_ERR_FORMAT,
					    "%s: line %zu: %s, and it names no file, so it may "
					    "concern %s: \"%.*s\"",
					    path, b->line, b->why, name, QUOTE, b->text);
		if (names_file(a, name) || mentions(b->text, name))
			return sg_error_set(SG_ERR_FORMAT, "%s: line %zu about %s: %s: \"%.*s\"",
					    path, b->line, name, b->why, QUOTE, b->text);
	}
	return SG_OK;
}

static int denied(const sg_manifest *m, const char *path, const char *name)
{
	const char *shown[SHOWN_NAMES];
	size_t k = 0, more = 0, used = 0;
	char list[512] = "";

	for (size_t i = 0; i < m->n; i++) {
		const char *s = m->entries[i].name;
		size_t j = 0;

		while (j < k && strcmp(shown[j], s) != 0)
			j++;
		if (j < k)
			continue;
		if (k == SHOWN_NAMES) {
			more++;
			continue;
		}
		shown[k++] = s;
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%.60s",
					 k > 1 ? ", " : "", s);
		if (used >= sizeof(list))
			used = sizeof(list) - 1;
	}
	if (!k)
		return sg_error_set(SG_ERR_DENIED, "%s: no entry for %s (it holds none)", path,
				    name);
	if (more)
		return sg_error_set(SG_ERR_DENIED,
				    "%s: no entry for %s; it has entries for %s and %zu more", path,
				    name, list, more);
	return sg_error_set(SG_ERR_DENIED, "%s: no entry for %s; it has entries for %s", path, name,
			    list);
}

int sg_manifest_find(const sg_manifest *m, const char *name, const sg_manifest_entry **found,
		     size_t max, size_t *n_found)
{
	const sg_manifest_entry *first[SG_ALG_SHA512 + 1] = { 0 };
	const char *path;
	size_t count = 0;
	int bare, error;

	if (n_found)
		*n_found = 0;
	if (!m || !name || !*name || strchr(name, '/') || !n_found || (max && !found))
		return sg_error_set(SG_ERR_USAGE, "sg_manifest_find: bad arguments");
	path = m->path ? m->path : "(manifest)";
	if ((error = refuse_bad_lines(m, path, name)) < 0)
		return error;
	bare = m->n > 0 && m->entries[0].name == NULL;
	for (size_t i = 0; i < m->n; i++) {
		const sg_manifest_entry *e = &m->entries[i], *f;

		if (!bare && !names_file(e->name, name))
			continue;
		count++;
		/* comparing with the first of each algorithm is enough to find any disagreement */
		if (!(f = first[e->alg]))
			first[e->alg] = e;
		else if (strcmp(f->hex, e->hex) != 0)
			return sg_error_set(SG_ERR_VERIFY,
					    "%s: lines %zu and %zu give different %s values for %s",
					    path, f->line, e->line, sg_hash_alg_name(e->alg), name);
	}
	if (!count)
		return denied(m, path, name);
	if (count > max)
		return sg_error_set(SG_ERR_USAGE,
				    "%s: %zu entries for %s, more than the %zu asked for", path,
				    count, name, max);
	for (size_t i = 0; i < m->n; i++)
		if (bare || names_file(m->entries[i].name, name))
			found[(*n_found)++] = &m->entries[i];
	return SG_OK;
}

void sg_manifest_free(sg_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->entries[i].name);
	for (size_t i = 0; i < m->n_bad; i++) {
		free(m->bad[i].text);
		free(m->bad[i].why);
	}
	free(m->entries);
	free(m->bad);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

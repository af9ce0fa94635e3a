/*
 * One pass over the verified chain: every record that `audit verify` checked,
 * in order, each tied to the verified head (see report_internal.h). A log
 * edited, replaced or rotated after the check fails the pass: by the end at
 * the latest, since the last line's SHA-256 must be the verified head and
 * each line's "prev" the SHA-256 of the line read before it.
 *
 * Most lines are not needed by a pass (a signing, for the problems): the
 * chain is checked on the line's bytes (its top-level "seq" and "prev",
 * found by a scan that follows strings and nesting) and only the lines the
 * pass keeps are parsed. A line whose keys or values of interest hold an
 * escape is parsed whatever the pass wants: the scan never decides what
 * jansson would read otherwise.
 */
#include "signgate/error.h"
#include "signgate/hash.h"
#include "report_internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define RP_STOP 1 /* the last verified record is read: stop this file */

struct pass {
	const struct rp_chain *c;
	rp_want want;
	rp_fn fn;
	void *arg;
	const char *path;
	size_t count;
	long long seq;        /* of the record read last */
	char prev[65];        /* SHA-256 of the line read last */
	char line[65];        /* SHA-256 of the line being read */
	int plain;            /* the line being read was linked from its bytes */
	int call;             /* and the pass wants it */
	int error;            /* what keep() found, returned by each() */
	EVP_MD_CTX *file_ctx; /* the file's verified bytes, when asked for */
	unsigned long long bytes;
	int done;
};

int rp_is(const char *v, size_t len, const char *word)
{
	return v && strlen(word) == len && memcmp(v, word, len) == 0;
}

int rp_line_kind(const struct rp_line *l)
{
	if (rp_is(l->decision, l->decision_len, "signed"))
		return RP_SIGNED;
	if (rp_is(l->decision, l->decision_len, "denied"))
		return RP_DENIED;
	if (rp_is(l->decision, l->decision_len, "failed") ||
	    rp_is(l->decision, l->decision_len, "invalid"))
		return RP_FAILED;
	return RP_OTHER;
}

/* A top-level string value: one of ours, or not. */
static void take_string(struct rp_line *l, const char *key, size_t key_len, const char *v,
			size_t len, int escaped)
{
	const char **at = NULL;
	size_t *at_len = NULL;

	if (rp_is(key, key_len, "prev"))
		at = &l->prev, at_len = &l->prev_len;
	else if (rp_is(key, key_len, "time"))
		at = &l->time, at_len = &l->time_len;
	else if (rp_is(key, key_len, "decision"))
		at = &l->decision, at_len = &l->decision_len;
	if (!at)
		return;
	if (escaped)
		l->plain = 0;
	*at = v;
	*at_len = len;
}

int rp_scan_line(const char *s, size_t len, struct rp_line *l)
{
	const char *key = NULL;
	size_t i = 0, key_len = 0;
	int depth = 0, want_key = 0;

	memset(l, 0, sizeof(*l));
	l->plain = 1;
	l->seq = -1;
	if (len == 0 || s[0] != '{')
		return -1;
	while (i < len) {
		char c = s[i];

		if (c == '"') {
			size_t start = ++i;
			int escaped = 0;

			while (i < len && s[i] != '"') {
				if (s[i] == '\\') {
					escaped = 1;
					i++;
				}
				i++;
			}
			if (i >= len)
				return -1;
			i++;
			if (depth == 1 && want_key) {
				key = s + start;
				key_len = i - 1 - start;
				want_key = 0;
				if (escaped) /* "\u0073eq" is "seq" once parsed */
					l->plain = 0;
			} else if (depth == 1 && key) {
				take_string(l, key, key_len, s + start, i - 1 - start, escaped);
			}
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
			want_key = c == '{' && depth == 1;
			key = depth <= 2 ? NULL : key; /* a value of ours is no object or array */
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == ',' && depth == 1) {
			want_key = 1;
			key = NULL;
		} else if (depth == 1 && key && !(c >= '0' && c <= '9') && !strchr(": \t\r\n", c)) {
			key = NULL; /* -2, true, null: not a seq */
		} else if (depth == 1 && key && rp_is(key, key_len, "seq") && c >= '0' && c <= '9') {
			size_t start = i;
			long long v = 0;

			while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 17)
				v = v * 10 + (s[i++] - '0');
			/* Only a whole number that ends there: 12.5, 1e3, 01 or a long one is no seq. */
			l->seq = (i == len || (s[i] && strchr(",} \t\r\n", s[i]))) &&
					 !(s[start] == '0' && i - start > 1)
				 ? v
				 : -1;
			key = NULL;
			continue;
		}
		i++;
	}
	return depth == 0 ? 0 : -1;
}

static int changed(const struct pass *p, const char *why, long long seq)
{
	return sg_error_set(SG_ERR_TAMPER,
			    "%s: changed while the report was made (%s at seq %lld): it is no "
			    "longer the chain that was verified; make the report again",
			    p->path, why, seq);
}

/* The line read now must follow the one before; the last must be the head. */
static int link(struct pass *p, long long seq, const char *prev, size_t prev_len)
{
	const struct rp_chain *c = p->c;
	long long want = p->count ? p->seq + 1 : c->first_seq;

	if (!p->line[0])
		return sg_error_set(SG_ERR_CRYPTO, "%s: cannot hash a line", p->path);
	if (seq != want)
		return changed(p, "another seq", want);
	if (p->count && (!prev || prev_len != 64 || memcmp(prev, p->prev, 64) != 0))
		return changed(p, "a line does not chain to the one before it", seq);
	memcpy(p->prev, p->line, sizeof(p->prev));
	p->seq = seq;
	p->count++;
	if (seq == c->last_seq) {
		if (p->count != c->records || strcmp(p->line, c->head) != 0)
			return changed(p, "not the verified head", seq);
		p->done = 1;
	}
	return SG_OK;
}

/* Each line's bytes: hashed, linked when plain, kept when the pass wants it. */
static int keep(const char *line, size_t len, void *arg)
{
	struct pass *p = arg;
	struct rp_line l;

	if (p->done)
		return 0;
	if (sg_sha256_hex(p->line, line, len) != SG_OK)
		p->line[0] = '\0'; /* link() fails on it */
	if (p->file_ctx) {
		EVP_DigestUpdate(p->file_ctx, line, len);
		EVP_DigestUpdate(p->file_ctx, "\n", 1);
	}
	p->bytes += len + 1;
	p->error = SG_OK;
	p->plain = rp_scan_line(line, len, &l) == 0 && l.plain;
	if (!p->plain)
		return 1; /* linked and judged once parsed */
	p->error = link(p, l.seq, l.prev, l.prev_len);
	p->call = !p->error && (!p->want || p->want(&l, p->arg));
	return p->call || p->error || p->done;
}

static int each(const json_t *rec, size_t lineno, void *arg)
{
	struct pass *p = arg;
	json_t *seqv = json_object_get(rec, "seq");
	const char *prev = json_string_value(json_object_get(rec, "prev"));
	int error = p->error;

	(void)lineno;
	if (!error && !p->plain) {
		error = link(p, json_is_integer(seqv) ? (long long)json_integer_value(seqv) : -1,
			     prev, prev ? strlen(prev) : 0);
		p->call = 1;
	}
	if (!error && p->call && p->fn)
		error = p->fn(rec, p->arg);
	if (error)
		return error;
	return p->done ? RP_STOP : SG_OK;
}

static int file_pass(struct pass *p, struct rp_file *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	int error;

	p->bytes = 0;
	if (out) {
		p->file_ctx = EVP_MD_CTX_new();
		if (!p->file_ctx || !EVP_DigestInit_ex(p->file_ctx, EVP_sha256(), NULL)) {
			EVP_MD_CTX_free(p->file_ctx);
			p->file_ctx = NULL;
			return sg_error_set(SG_ERR_CRYPTO, "cannot set up SHA-256");
		}
	}
	error = p->done ? SG_OK : sg_audit_foreach_where(p->path, keep, each, p);
	if (error == RP_STOP)
		error = SG_OK;
	if (out && !error) {
		if (!EVP_DigestFinal_ex(p->file_ctx, md, &md_len) || md_len != SG_SHA256_LEN)
			error = sg_error_set(SG_ERR_CRYPTO, "cannot compute a SHA-256");
		else
			sg_hex_encode(out->sha256, md, md_len);
		out->bytes = p->bytes;
	}
	EVP_MD_CTX_free(p->file_ctx);
	p->file_ctx = NULL;
	return error;
}

int rp_pass(const struct rp_chain *c, rp_want want, rp_fn fn, void *arg, struct rp_file *files)
{
	struct pass p = { .c = c, .want = want, .fn = fn, .arg = arg };
	int error = SG_OK;

	p.done = c->records == 0;
	for (size_t i = 0; i < c->n && !error; i++) {
		p.path = c->paths[i];
		error = file_pass(&p, files ? &files[i] : NULL);
	}
	if (!error && !p.done) {
		p.path = c->paths[c->n - 1];
		error = changed(&p, "the verified records end early", p.seq);
	}
	return error;
}

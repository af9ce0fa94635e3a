/*
 * One pass over the verified chain: every record that `audit verify` checked,
 * in order, each tied to the verified head (see report_internal.h). A log
 * edited, replaced or rotated after the check fails the pass: by the end at
 * the latest, since the last line's SHA-256 must be the verified head and
 * each line's "prev" the SHA-256 of the line read before it.
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
	rp_fn fn;
	void *arg;
	const char *path;
	size_t count;
	long long seq;        /* of the record read last */
	char prev[65];        /* SHA-256 of the line read last */
	char line[65];        /* SHA-256 of the line being read */
	EVP_MD_CTX *file_ctx; /* the file's verified bytes, when asked for */
	unsigned long long bytes;
	int done;
};

static int changed(const struct pass *p, const char *why, long long seq)
{
	return sg_error_set(SG_ERR_TAMPER,
			    "%s: changed while the report was made (%s at seq %lld): it is no "
			    "longer the chain that was verified; make the report again",
			    p->path, why, seq);
}

/* Each line's raw bytes: its SHA-256 (for the next "prev") and the file's hash. */
static int keep(const char *line, size_t len, void *arg)
{
	struct pass *p = arg;

	if (p->done)
		return 0;
	if (sg_sha256_hex(p->line, line, len) != SG_OK) {
		p->line[0] = '\0'; /* never equal to a "prev": the record fails below */
		return 1;
	}
	if (p->file_ctx) {
		EVP_DigestUpdate(p->file_ctx, line, len);
		EVP_DigestUpdate(p->file_ctx, "\n", 1);
	}
	p->bytes += len + 1;
	return 1;
}

static int each(const json_t *rec, size_t lineno, void *arg)
{
	struct pass *p = arg;
	const struct rp_chain *c = p->c;
	json_t *seqv = json_object_get(rec, "seq");
	const char *prev = json_string_value(json_object_get(rec, "prev"));
	long long seq = json_is_integer(seqv) ? (long long)json_integer_value(seqv) : -1;
	long long want = p->count ? p->seq + 1 : c->first_seq;
	int error;

	(void)lineno;
	if (!p->line[0])
		return sg_error_set(SG_ERR_CRYPTO, "%s: cannot hash a line", p->path);
	if (seq != want)
		return changed(p, "another seq", want);
	if (p->count && (!prev || strcmp(prev, p->prev) != 0))
		return changed(p, "a line does not chain to the one before it", seq);
	memcpy(p->prev, p->line, sizeof(p->prev));
	p->seq = seq;
	p->count++;
	if (seq == c->last_seq) {
		if (p->count != c->records || strcmp(p->line, c->head) != 0)
			return changed(p, "not the verified head", seq);
		p->done = 1;
	}
	error = p->fn ? p->fn(rec, p->arg) : SG_OK;
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

int rp_pass(const struct rp_chain *c, rp_fn fn, void *arg, struct rp_file *files)
{
	struct pass p = { .c = c, .fn = fn, .arg = arg };
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

/*
 * Seals forwarded off the host, read back and merged with the seals file;
 * see include/signgate/audit_seal.h. A local attacker who cuts the log and
 * the seals file back together leaves a consistent pair: only a copy of the
 * seals kept elsewhere shows what is gone.
 */
#include "signgate/audit_seal.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "audit_internal.h"
#include "audit_seal_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

/* A seal line is about 1 KiB; a longer line holds none of ours. */
#define OFFHOST_LINE_MAX (64 * 1024)
/* What sg_audit_syslog_seal() puts before the seal: the seal starts at its '{'. */
#define SEAL_MARK "audit-seal {"

static int by_seq(const void *a, const void *b)
{
	const sg_audit_seal *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int push(sg_audit_seals *out, const sg_audit_seal *s)
{
	sg_audit_seal *grown = realloc(out->seals, (out->n + 1) * sizeof(*grown));

	if (!grown)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	out->seals = grown;
	out->seals[out->n++] = *s;
	return SG_OK;
}

/* 1 when the JSON object is a seal of `log_name` by the pinned certificate. */
static int is_ours(const json_t *obj, const char *log_name, const sg_seal_pin *p)
{
	const char *type = json_string_value(json_object_get(obj, "type"));
	const char *log = json_string_value(json_object_get(obj, "log"));
	const char *signer = json_string_value(json_object_get(obj, "signer"));

	return type && log && signer && strcmp(type, SG_AUDIT_SEAL_TYPE) == 0 &&
	       strcmp(log, log_name) == 0 && strcmp(signer, p->thumb) == 0;
}

/* One line of the copy: a verified seal of ours is kept, anything else skipped. */
static int take_line(sg_audit_seals *out, const char *text, size_t len, size_t lineno,
		     const char *log_name, const sg_seal_pin *p, size_t *ignored)
{
	const char *mark = memmem(text, len, SEAL_MARK, strlen(SEAL_MARK));
	const char *open = mark ? mark + strlen(SEAL_MARK) - 1 : memchr(text, '{', len);
	const char *close = open ? memrchr(open, '}', len - (size_t)(open - text)) : NULL;
	char why[WHY_MAX];
	sg_audit_seal s = { 0 };
	json_t *obj;
	int error;

	if (!close)
		return SG_OK;
	obj = json_loadb(open, (size_t)(close - open) + 1, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(obj) || !is_ours(obj, log_name, p)) {
		/* A line that names our seal type but does not parse is a mangled seal. */
		if (!obj &&
		    memmem(text, len, "\"" SG_AUDIT_SEAL_TYPE "\"", strlen(SG_AUDIT_SEAL_TYPE) + 2))
			(*ignored)++;
		json_decref(obj);
		return SG_OK;
	}
	json_decref(obj);
	error = sg_seal_check_line(&s, open, (size_t)(close - open) + 1, p, why);
	if (error == SG_ERR_TAMPER) {
		(*ignored)++;
		return SG_OK;
	}
	s.line = lineno;
	s.offhost = 1;
	return error ? error : push(out, &s);
}

/* Sorted by seq: one head per seq, and each seal once. */
static int dedupe(sg_audit_seals *out, const char *path)
{
	size_t kept = 0;

	if (out->n > 1)
		qsort(out->seals, out->n, sizeof(*out->seals), by_seq);
	for (size_t i = 0; i < out->n; i++) {
		const sg_audit_seal *prev = kept ? &out->seals[kept - 1] : NULL;

		if (prev && prev->seq == out->seals[i].seq) {
			if (strcmp(prev->head, out->seals[i].head) != 0)
				return sg_error_set(SG_ERR_TAMPER,
						    "%s: lines %zu and %zu seal seq %lld with "
						    "different heads",
						    path, prev->line, out->seals[i].line,
						    prev->seq);
			continue;
		}
		out->seals[kept++] = out->seals[i];
	}
	out->n = kept;
	return SG_OK;
}

/*
 * The copy, opened without blocking (a FIFO or a terminal there must fail,
 * not hang) and read only when it is a regular file.
 */
static int open_copy(FILE **out, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	*out = NULL;
	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open the off-host copy of the seals: %s",
				    path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		return sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return sg_error_set(SG_ERR_IO,
				    "%s: the off-host copy of the seals is not a regular file (a "
				    "FIFO, a device or a folder): not read",
				    path);
	}
	*out = fdopen(fd, "r");
	if (!*out) {
		close(fd);
		return sg_error_set(SG_ERR_NOMEM, "%s: cannot read: out of memory", path);
	}
	return SG_OK;
}

int sg_audit_seals_load_offhost(sg_audit_seals *out, const char *path, const char *log_name,
				const char *cert_path, size_t *ignored)
{
	sg_seal_pin p = { 0 };
	EVP_MD_CTX *md = NULL;
	unsigned char digest[SG_SHA256_LEN];
	size_t cap = 0, lineno = 0, unused = 0;
	char *text = NULL;
	ssize_t len;
	FILE *f;
	int error;

	memset(out, 0, sizeof(*out));
	if (!ignored)
		ignored = &unused;
	*ignored = 0;
	error = sg_seal_pin_load(&p, cert_path);
	if (error)
		return error;
	error = open_copy(&f, path);
	/* The SHA-256 of exactly the bytes read: what a report names as checked. */
	if (!error && (!(md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1))
		error = sg_error_set(SG_ERR_CRYPTO, "cannot start a SHA-256");
	while (!error && (len = getline(&text, &cap, f)) >= 0) {
		lineno++;
		out->bytes += (unsigned long long)len;
		if (EVP_DigestUpdate(md, text, (size_t)len) != 1)
			error = sg_error_set(SG_ERR_CRYPTO, "SHA-256 of %s failed", path);
		if (!error && (size_t)len <= OFFHOST_LINE_MAX)
			error = take_line(out, text, (size_t)len, lineno, log_name, &p, ignored);
	}
	if (!error && f && ferror(f))
		error = sg_error_set(SG_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
	if (!error && EVP_DigestFinal_ex(md, digest, NULL) != 1)
		error = sg_error_set(SG_ERR_CRYPTO, "SHA-256 of %s failed", path);
	if (!error)
		sg_hex_encode(out->sha256, digest, SG_SHA256_LEN);
	EVP_MD_CTX_free(md);
	if (!error)
		error = dedupe(out, path);
	if (f)
		fclose(f);
	free(text);
	X509_free(p.cert);
	if (error == SG_ERR_TAMPER) { /* the digest of what was read stays: the verdict's */
		free(out->seals);
		out->seals = NULL;
		out->n = 0;
	} else if (error) {
		sg_audit_seals_free(out);
	}
	return error;
}

int sg_audit_seals_merge(sg_audit_seals *local, const sg_audit_seals *offhost)
{
	size_t i = 0, j = 0, n = 0;
	sg_audit_seal *all = malloc((local->n + offhost->n + 1) * sizeof(*all));

	if (!all)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	while (i < local->n || j < offhost->n) {
		const sg_audit_seal *l = i < local->n ? &local->seals[i] : NULL;
		const sg_audit_seal *o = j < offhost->n ? &offhost->seals[j] : NULL;

		if (l && o && l->seq == o->seq && strcmp(l->head, o->head) != 0) {
			free(all);
			return sg_error_set(SG_ERR_TAMPER,
					    "line %zu of the off-host copy seals seq %lld with "
					    "another head than line %zu of the seals file: one of "
					    "them seals a rewritten log",
					    o->line, o->seq, l->line);
		}
		if (l && o && l->seq == o->seq)
			j++; /* the seals file holds it: keep that one */
		else if (!l || (o && o->seq < l->seq)) {
			all[n] = *o;
			all[n++].offhost = 1;
			j++;
			continue;
		}
		all[n++] = *l;
		i++;
	}
	free(local->seals);
	local->seals = all;
	local->n = n;
	return SG_OK;
}

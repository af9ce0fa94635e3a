/* Verification as the site server does it; see include/signgate/verify.h. */
#include "signgate/verify.h"
#include "signgate/cert.h"
#include "signgate/error.h"
#include "signgate/proc.h"
#include "signgate/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>

#define VERIFY_TIMEOUT 300
#define NESTED_SIG_OID "1.3.6.1.4.1.311.2.4.1"

static int fail(sg_verify_result *out, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return sg_error_set(SG_ERR_VERIFY, "%s: %s", name, out->reason);
}

/* The value after "key:" on the line starting with `key` in [start, end), trimmed. */
static int field(char *val, size_t len, const char *start, const char *end, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = start; p && p < end; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *q = p;
		while (*q == '\t' || *q == ' ')
			q++;
		if (strncmp(q, key, klen) == 0) {
			const char *v = strchr(q + klen, ':'), *e;
			if (!v)
				continue;
			for (v++; *v == ' '; v++)
				;
			e = strchr(v, '\n');
			if (!e || e > end)
				e = end;
			while (e > v && (e[-1] == ' ' || e[-1] == '\r'))
				e--;
			snprintf(val, len, "%.*s", (int)(e - v), v);
			return 1;
		}
	}
	return 0;
}

/* A line in [start, end) that contains `needle`, copied into line; 1 when found. */
static int find_line(char *line, size_t len, const char *start, const char *end,
		     const char *needle)
{
	const char *hit = start;

	while ((hit = strstr(hit, needle)) != NULL && hit < end) {
		const char *b = hit, *e = strchr(hit, '\n');
		while (b > start && b[-1] != '\n')
			b--;
		if (!e || e > end)
			e = end;
		snprintf(line, len, "%.*s", (int)(e - b), b);
		return 1;
	}
	return 0;
}

/* "Nov 26 11:08:44 2026 GMT" to "2026-11-26T11:08:44Z" and a time_t. */
static time_t parse_ossl_time(char out[32], const char *text)
{
	struct tm tm = { 0 };
	const char *end = strptime(text, "%b %d %H:%M:%S %Y", &tm);

	if (!end) {
		snprintf(out, 32, "%.31s", text);
		return 0;
	}
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return timegm(&tm);
}

/* Locate signature block `index` of osslsigncode's report; -1 picks the last. */
static int find_block(const char *report, int index, int *count, const char **start,
		      const char **end)
{
	const char *marks[64];
	int n = 0;

	for (const char *p = strstr(report, "Signature Index: "); p && n < 64;
	     p = strstr(p + 1, "\nSignature Index: "), p = p ? p + 1 : NULL)
		marks[n++] = p;
	*count = n;
	if (n == 0)
		return -1;
	if (index < 0)
		index = n - 1;
	if (index >= n)
		return -1;
	*start = marks[index];
	*end = index + 1 < n ? marks[index + 1] : report + strlen(report);
	return index;
}

/*
 * Every "Current X: value" line of the block needs a "Calculated X: value"
 * line with the same value (PE: message digest; MSI: DigitalSignature and
 * MsiDigitalSignatureEx). Returns the number of pairs, or -1 on a mismatch
 * with the pair described in `why`.
 */
static int compare_digests(char *why, size_t len, const char *b, const char *e)
{
	int pairs = 0;

	for (const char *p = b; p && p < e; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char key[96], calc_key[112], cur[160], calc[160];
		size_t klen;
		if (strncmp(p, "Current ", 8) != 0)
			continue;
		klen = strcspn(p + 8, ":\n");
		while (klen > 0 && p[8 + klen - 1] == ' ')
			klen--;
		snprintf(key, sizeof(key), "Current %.*s", (int)klen, p + 8);
		snprintf(calc_key, sizeof(calc_key), "Calculated %.*s", (int)klen, p + 8);
		if (!field(cur, sizeof(cur), p, e, key) ||
		    !field(calc, sizeof(calc), b, e, calc_key)) {
			snprintf(why, len, "osslsigncode reported no \"%s\"", calc_key);
			return -1;
		}
		if (strcmp(cur, calc) != 0) {
			snprintf(why, len,
				 "%s %s does not match the signed value %s "
				 "(the file was changed after signing)",
				 calc_key, calc, cur);
			return -1;
		}
		pairs++;
	}
	if (pairs == 0)
		snprintf(why, len, "osslsigncode reported no digests to compare");
	return pairs;
}

static int check_block(sg_verify_result *out, const char *name, const char *b, const char *e,
		       time_t *ts_time)
{
	char line[256], ts[64], why[512];

	if (compare_digests(why, sizeof(why), b, e) <= 0)
		return fail(out, name, "signature %d: %s", out->index, why);
	if (find_line(line, sizeof(line), b, e, "verification: failed")) {
		char detail[256] = "";
		find_line(detail, sizeof(detail), b, e, "Error:");
		return fail(out, name, "signature %d: osslsigncode: %s%s%s", out->index, line,
			    detail[0] ? "; " : "", detail + strspn(detail, "\t "));
	}
	if (field(ts, sizeof(ts), b, e, "Timestamp time")) {
		if (!find_line(line, sizeof(line), b, e,
			       "Timestamp Server Signature verification: ok"))
			return fail(out, name, "signature %d: the timestamp did not verify",
				    out->index);
		out->timestamped = 1;
		*ts_time = parse_ossl_time(out->timestamp, ts);
	}
	if (!find_line(line, sizeof(line), b, e, "\nSignature verification: ok"))
		return fail(out, name, "signature %d: osslsigncode did not report it verified",
			    out->index);
	return SG_OK;
}

static void verify_argv(const char *v[], const sg_verify_opts *o, const char *path)
{
	size_t n = 0;

	v[n++] = o->osslsigncode;
	v[n++] = "verify";
	v[n++] = "-in";
	v[n++] = path;
	v[n++] = "-CAfile";
	v[n++] = o->ca_file;
	v[n++] = "-TSA-CAfile";
	v[n++] = o->tsa_ca_file ? o->tsa_ca_file : o->ca_file;
	/* Revocation data comes from a file or nowhere: never a silent network fetch. */
	v[n++] = "-ignore-cdp";
	if (o->crl_file) {
		v[n++] = "-CRLfile";
		v[n++] = o->crl_file;
	}
	if (o->ignore_crl)
		v[n++] = "-ignore-crl";
	v[n] = NULL;
}

static int run_verify(sg_verify_result *out, const sg_verify_opts *o, const char *path,
		      const char *name, time_t *ts_time)
{
	const char *argv[16];
	sg_proc_spec spec = { argv, NULL, NULL, 0, VERIFY_TIMEOUT };
	sg_proc_result r;
	const char *b, *e;
	int error;

	verify_argv(argv, o, path);
	error = sg_proc_run(&r, &spec);
	if (error)
		return error;
	if (r.signo || r.timed_out) {
		char how[64];
		error = sg_error_set(SG_ERR_TOOL, "%s: osslsigncode verify %s", name,
				     sg_proc_describe(&r, VERIFY_TIMEOUT, how, sizeof(how)));
	} else if ((out->index = find_block(r.out, o->index, &out->n_signatures, &b, &e)) < 0) {
		error = out->n_signatures == 0
				? fail(out, name, "no Authenticode signature found")
				: fail(out, name, "no signature with index %d (%d present)",
				       o->index, out->n_signatures);
	} else {
		error = check_block(out, name, b, e, ts_time);
	}
	sg_proc_result_free(&r);
	return error;
}

static int extract_signature(const char *osslsigncode, const char *path, const char *sig_path,
			     const char *name)
{
	const char *argv[] = { osslsigncode, "extract-signature", "-in", path, "-out", sig_path,
			       NULL };
	sg_proc_spec spec = { argv, NULL, NULL, 0, VERIFY_TIMEOUT };
	sg_proc_result r;
	int error = sg_proc_run(&r, &spec);

	if (error)
		return error;
	if (!r.exited || r.exit_status != 0)
		error = sg_error_set(SG_ERR_VERIFY, "%s: osslsigncode extract-signature failed: %.200s",
				     name, r.err_len ? r.err : r.out);
	sg_proc_result_free(&r);
	return error;
}

static PKCS7 *read_pkcs7(const char *path)
{
	BIO *bio = BIO_new_file(path, "rb");
	PKCS7 *p7 = bio ? d2i_PKCS7_bio(bio, NULL) : NULL;

	BIO_free(bio);
	return p7;
}

/*
 * Signature `index` of the file: 0 is the primary; nested signatures live in
 * the primary signer's unauthenticated attribute 1.3.6.1.4.1.311.2.4.1, in
 * the order osslsigncode numbers them.
 */
static PKCS7 *select_signature(PKCS7 *primary, int index)
{
	STACK_OF(PKCS7_SIGNER_INFO) *sis;
	STACK_OF(X509_ATTRIBUTE) *attrs;
	ASN1_OBJECT *oid;
	int seen = 0;

	if (index == 0)
		return primary;
	sis = PKCS7_get_signer_info(primary);
	if (!sis || sk_PKCS7_SIGNER_INFO_num(sis) != 1)
		return NULL;
	attrs = sk_PKCS7_SIGNER_INFO_value(sis, 0)->unauth_attr;
	oid = OBJ_txt2obj(NESTED_SIG_OID, 1);
	for (int i = 0; oid && i < sk_X509_ATTRIBUTE_num(attrs); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(attrs, i);
		if (OBJ_cmp(X509_ATTRIBUTE_get0_object(a), oid) != 0)
			continue;
		for (int j = 0; j < X509_ATTRIBUTE_count(a); j++) {
			ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(a, j);
			const unsigned char *der;
			if (++seen != index || !t || t->type != V_ASN1_SEQUENCE)
				continue;
			der = t->value.sequence->data;
			ASN1_OBJECT_free(oid);
			return d2i_PKCS7(NULL, &der, t->value.sequence->length);
		}
	}
	ASN1_OBJECT_free(oid);
	return NULL;
}

static int check_pkcs7(sg_verify_result *out, const sg_verify_opts *o, PKCS7 *p7,
		       const char *name, time_t at)
{
	STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(p7);
	STACK_OF(X509) *signers = NULL;
	X509_ALGOR *md_alg = NULL;
	X509 *leaf;
	int error;

	if (!PKCS7_type_is_signed(p7) || !sis || sk_PKCS7_SIGNER_INFO_num(sis) != 1)
		return fail(out, name, "signature %d is not a single-signer PKCS#7 SignedData",
			    out->index);
	PKCS7_SIGNER_INFO_get0_algs(sk_PKCS7_SIGNER_INFO_value(sis, 0), NULL, &md_alg, NULL);
	if (!md_alg || OBJ_obj2nid(md_alg->algorithm) != NID_sha256)
		return fail(out, name, "signature %d does not use SHA-256", out->index);
	signers = PKCS7_get0_signers(p7, NULL, 0);
	if (!signers || sk_X509_num(signers) != 1) {
		sk_X509_free(signers);
		ERR_clear_error();
		return fail(out, name, "signature %d does not carry its signer certificate",
			    out->index);
	}
	leaf = sk_X509_value(signers, 0);
	error = sg_cert_info_from_x509(&out->signer, leaf);
	if (error == SG_OK && sg_cert_check_codesign(leaf, "signer") != SG_OK)
		error = fail(out, name, "signature %d: %s", out->index, sg_error_last());
	if (error == SG_OK &&
	    (error = sg_cert_verify_chain(leaf, p7->d.sign->cert, o->ca_file, o->crl_file, at)))
		error = fail(out, name, "%s", sg_error_last());
	if (error == SG_OK && o->pin_sha256 && strcmp(o->pin_sha256, out->signer.sha256) != 0)
		error = fail(out, name,
			     "signature %d is by certificate %s (SHA-1 %s), not the configured "
			     "signing certificate",
			     out->index, out->signer.subject, out->signer.sha1_thumbprint);
	sk_X509_free(signers);
	ERR_clear_error();
	return error;
}

static int check_with_openssl(sg_verify_result *out, const sg_verify_opts *o, const char *path,
			      const char *name, time_t at)
{
	char *dir = NULL, *sig = NULL;
	PKCS7 *p7 = NULL, *chosen = NULL;
	int error = sg_workdir_create(&dir);

	if (error == SG_OK && !(sig = sg_path_join(dir, "signature.p7")))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (error == SG_OK)
		error = extract_signature(o->osslsigncode, path, sig, name);
	if (error == SG_OK && !(p7 = read_pkcs7(sig)))
		error = fail(out, name, "the embedded signature is not DER PKCS#7");
	if (error == SG_OK && !(chosen = select_signature(p7, out->index)))
		error = fail(out, name, "nested signature %d not found in the PKCS#7", out->index);
	if (error == SG_OK)
		error = check_pkcs7(out, o, chosen, name, at);
	if (chosen != p7)
		PKCS7_free(chosen);
	PKCS7_free(p7);
	ERR_clear_error();
	free(sig);
	sg_workdir_remove(dir);
	free(dir);
	return error;
}

int sg_verify_file(sg_verify_result *out, const sg_verify_opts *opts, const char *path,
		   const char *name)
{
	time_t ts_time = 0;
	int error;

	memset(out, 0, sizeof(*out));
	error = run_verify(out, opts, path, name, &ts_time);
	if (error == SG_OK)
		error = check_with_openssl(out, opts, path, name, ts_time);
	return error;
}

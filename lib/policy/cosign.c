/* Signatures of approval files; see include/signgate/cosign.h. */
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/strict.h"
#include "signgate/util.h"
#include "cosign_internal.h"
#include "trust.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define WHY_MAX SG_COSIGN_WHY_MAX

void sg_approvers_trust_from_config(sg_approvers_trust *out, const sg_config *cfg)
{
	memset(out, 0, sizeof(*out));
	if (!cfg)
		return;
	out->ca_file = cfg->approvers_ca_file;
	out->crl_file = cfg->approvers_crl_file;
	out->shared_crl_file = cfg->crl_file;
}

char *sg_cosign_sig_path(const char *approval_file, sg_cosign_role role)
{
	const char *suffix = role == SG_COSIGN_FIRST ? SG_APPROVE_SUFFIX : SG_COSIGN_SUFFIX;
	size_t n = strlen(approval_file) + strlen(suffix) + 1;
	char *path = malloc(n);

	if (path)
		snprintf(path, n, "%s%s", approval_file, suffix);
	return path;
}

const char *sg_cosign_role_name(sg_cosign_role role)
{
	return role == SG_COSIGN_FIRST ? "first approver's" : "second approver's";
}

static int why_set(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int why_set(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, WHY_MAX, fmt, ap);
	va_end(ap);
	return SG_ERR_VERIFY;
}

/* The certificate's subject, one line, RFC 2253 (control and non-ASCII bytes escaped). */
static void subject_line(char *out, size_t cap, X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *text = NULL;
	long n = 0;

	if (bio && X509_NAME_print_ex(bio, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0)
		n = BIO_get_mem_data(bio, &text);
	snprintf(out, cap, "%.*s", (int)(n > 0 ? n : 0), text ? text : "");
	BIO_free(bio);
}

/*
 * Every certificate of the approvers' CA file is a trust anchor
 * (PARTIAL_CHAIN), so each must be a CA: a leaf there would vouch for
 * itself. The anchors also go to `anchors`, to pick their CRLs. Read once,
 * through the one trust-file reader, on the descriptor the strict rule was
 * checked on.
 */
static int load_approvers_ca(X509_STORE *store, STACK_OF(X509) * anchors, const char *path,
			     const sg_strict_rule *rule)
{
	int error = sg_trust_read_pem(anchors, NULL, path, "the approvers' CA", rule);
	char subject[512];

	for (int i = 0; !error && i < sk_X509_num(anchors); i++) {
		X509 *x = sk_X509_value(anchors, i);

		subject_line(subject, sizeof(subject), x);
		if (X509_check_ca(x) < 1)
			error = sg_error_set(SG_ERR_CONFIG,
					     "%s: certificate %d (%s) is not a CA certificate: the "
					     "approvers' CA file holds CA certificates only",
					     path, i + 1, subject);
		else if (!X509_STORE_add_cert(store, x))
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	ERR_clear_error();
	if (!error && sk_X509_num(anchors) == 0)
		error = sg_error_set(
			SG_ERR_CONFIG,
			"%s: no PEM certificate in the approvers' CA (or a damaged one: "
			"one damaged block voids the file)",
			path);
	return error;
}

/* 1 when one of `anchors` issued `crl` (by name; OpenSSL checks its signature). */
static int issued_by_anchor(X509_CRL *crl, STACK_OF(X509) * anchors)
{
	for (int i = 0; i < sk_X509_num(anchors); i++)
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
				  X509_get_subject_name(sk_X509_value(anchors, i))) == 0)
			return 1;
	return 0;
}

/*
 * The PEM CRLs of `path` into `store`: all of them, or with `anchors` only
 * those an approvers' CA issued. `*added` counts what was added.
 */
static int load_crls(X509_STORE *store, int *added, const char *path, STACK_OF(X509) * anchors,
		     const sg_strict_rule *rule)
{
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	int error = crls ? sg_trust_read_pem(NULL, crls, path, "the CRL file", rule)
			 : sg_error_set(SG_ERR_NOMEM, "out of memory");

	for (int i = 0; !error && i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);

		if (anchors && !issued_by_anchor(crl, anchors))
			continue;
		if (!X509_STORE_add_crl(store, crl))
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
		else
			(*added)++;
	}
	/*
	 * A file with no CRL at all is broken, the shared trust.crl_file too:
	 * one damaged block voids the file, and reading that as "no CRL of an
	 * approvers' CA" would let a revoked approver count again.
	 */
	if (!error && sk_X509_CRL_num(crls) == 0)
		error = sg_error_set(
			SG_ERR_CONFIG,
			"%s: no PEM CRL in the file (or a damaged one: one damaged block "
			"voids the file)",
			path);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	ERR_clear_error();
	return error;
}

int sg_cosign_store(X509_STORE **out, unsigned long *flags, const sg_approvers_trust *t)
{
	X509_STORE *store = NULL;
	STACK_OF(X509) *anchors = NULL;
	sg_strict_rule rule;
	int error = SG_OK, crls = 0;

	*out = NULL;
	*flags = X509_V_FLAG_PARTIAL_CHAIN;
	if (!t || !t->ca_file)
		return sg_error_set(SG_ERR_CONFIG,
				    "no approvers' CA is configured "
				    "(trust.approvers_ca_file): no approver's signature can count");
	/* Files that decide who approved: root's or ours, in folders only we may write. */
	if (t->rule)
		rule = *t->rule;
	else
		sg_strict_rule_init(&rule, geteuid());
	store = X509_STORE_new();
	anchors = sk_X509_new_null();
	if (!store || !anchors)
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error)
		error = load_approvers_ca(store, anchors, t->ca_file, &rule);
	/* The approvers' own CRL file: revocation is checked, a missing CRL fails. */
	if (!error && t->crl_file)
		error = load_crls(store, &crls, t->crl_file, NULL, &rule);
	if (!error && t->crl_file && crls == 0)
		error = sg_error_set(SG_ERR_CONFIG, "%s: no CRL in the approvers' CRL file",
				     t->crl_file);
	/* The code-signing CRL file counts where it holds a CRL of an approvers' CA. */
	if (!error && t->shared_crl_file)
		error = load_crls(store, &crls, t->shared_crl_file, anchors, &rule);
	if (!error && crls > 0)
		*flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	sk_X509_pop_free(anchors, X509_free);
	if (error)
		X509_STORE_free(store);
	else
		*out = store;
	return error;
}

/* Decode `der` as a detached CMS SignedData with exactly one signer. */
static int parse_cms(CMS_ContentInfo **out, const unsigned char *der, size_t len, char *why)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = len <= LONG_MAX ? d2i_CMS_ContentInfo(NULL, &p, (long)len) : NULL;
	STACK_OF(CMS_SignerInfo) * sis;
	X509_ALGOR *digest = NULL;
	int n, nid;

	ERR_clear_error();
	*out = NULL;
	if (!cms || p != der + len || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
	    CMS_is_detached(cms) != 1) {
		CMS_ContentInfo_free(cms);
		return why_set(why, "not a detached CMS signature (DER)");
	}
	sis = CMS_get0_SignerInfos(cms);
	n = sis ? sk_CMS_SignerInfo_num(sis) : 0;
	if (n != 1) {
		CMS_ContentInfo_free(cms);
		return why_set(why, "has %d signers; an approver's signature has exactly one", n);
	}
	CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, 0), NULL, NULL, &digest, NULL);
	nid = digest ? OBJ_obj2nid(digest->algorithm) : NID_undef;
	if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512) {
		CMS_ContentInfo_free(cms);
		return why_set(why,
			       "uses the digest %s; an approver's signature uses SHA-256 or longer",
			       nid == NID_undef ? "(unknown)" : OBJ_nid2sn(nid));
	}
	*out = cms;
	return SG_OK;
}

/* The signature checks over `data` with the certificate the CMS carries. */
static int check_signature(X509 **signer, CMS_ContentInfo *cms, const unsigned char *data,
			   size_t len, const char *approval_file, char *why)
{
	BIO *bio = len <= INT_MAX ? BIO_new_mem_buf(data, (int)len) : NULL;
	STACK_OF(X509) *signers = NULL;
	unsigned long e;
	int ok;

	*signer = NULL;
	if (!bio)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	ok = CMS_verify(cms, NULL, NULL, bio, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1;
	e = ERR_peek_last_error();
	BIO_free(bio);
	ERR_clear_error();
	if (!ok && ERR_GET_REASON(e) == CMS_R_SIGNER_CERTIFICATE_NOT_FOUND)
		return why_set(why, "carries no signer certificate");
	if (!ok)
		return why_set(why,
			       "does not match %s: the file changed after it was signed, or the "
			       "signature is damaged",
			       approval_file);
	signers = CMS_get0_signers(cms);
	if (signers && sk_X509_num(signers) == 1)
		*signer = X509_dup(sk_X509_value(signers, 0));
	sk_X509_free(signers);
	return *signer ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/*
 * The approver profile: not a CA (a certificate that may issue others would
 * let its holder make a second approver), keyUsage digitalSignature and EKU
 * emailProtection, both present.
 */
static int check_profile(X509 *x, const char *subject, char *why)
{
	uint32_t ku = X509_get_key_usage(x), xku = X509_get_extended_key_usage(x);
	uint32_t flags = X509_get_extension_flags(x);

	if (X509_check_ca(x) != 0)
		return why_set(
			why,
			"the certificate of %s is a CA certificate (basicConstraints CA:TRUE "
			"or keyUsage keyCertSign): an approver's certificate must not be able "
			"to issue certificates",
			subject);
	if (!(flags & EXFLAG_KUSAGE) || !(ku & KU_DIGITAL_SIGNATURE))
		return why_set(why, "the certificate of %s lacks the key usage digitalSignature",
			       subject);
	if (!(flags & EXFLAG_XKUSAGE) || !(xku & XKU_SMIME))
		return why_set(why,
			       "the certificate of %s lacks the extended key usage emailProtection "
			       "(1.3.6.1.5.5.7.3.4) of an approver",
			       subject);
	return SG_OK;
}

/* When the certificate `x` stops or starts being valid, as text. */
static void validity_end(char *out, size_t cap, X509 *x, int after)
{
	BIO *bio = BIO_new(BIO_s_mem());
	const ASN1_TIME *t = after ? X509_get0_notAfter(x) : X509_get0_notBefore(x);
	int n = bio && ASN1_TIME_print(bio, t) ? BIO_read(bio, out, (int)cap - 1) : 0;

	out[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
}

/*
 * Why the chain of the approver `subject` failed, in words that point at
 * the cause; a CA of the chain at fault is named as well.
 */
static int chain_why(X509_STORE_CTX *ctx, X509 *signer, const char *subject, const char *ca_path,
		     char *why)
{
	int err = X509_STORE_CTX_get_error(ctx);
	X509 *at = X509_STORE_CTX_get_current_cert(ctx);
	char where[600] = "", when[64] = "", ca[512];

	if (at && X509_cmp(at, signer) != 0) {
		subject_line(ca, sizeof(ca), at);
		snprintf(where, sizeof(where), " (at its CA %s)", ca);
	}
	if (at && (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID))
		validity_end(when, sizeof(when), at, err == X509_V_ERR_CERT_HAS_EXPIRED);
	switch (err) {
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		return why_set(
			why,
			"the certificate of %s is not issued by the approvers' CA %s%s (only "
			"the CAs in that file count, not those a signature carries)",
			subject, ca_path, where);
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return why_set(why, "the certificate of %s expired on %s%s", subject, when, where);
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return why_set(why, "the certificate of %s is not valid before %s%s", subject, when,
			       where);
	case X509_V_ERR_CERT_REVOKED:
		return why_set(why, "the certificate of %s is revoked%s", subject, where);
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return why_set(why,
			       "the certificate of %s cannot be checked for revocation: no CRL "
			       "of its CA is configured (trust.approvers_crl_file)%s",
			       subject, where);
	case X509_V_ERR_CRL_HAS_EXPIRED:
		return why_set(why,
			       "the certificate of %s cannot be checked for revocation: the CRL "
			       "of its CA is out of date (past its nextUpdate)%s",
			       subject, where);
	default:
		return why_set(why, "the certificate of %s does not verify with %s: %s%s", subject,
			       ca_path, X509_verify_cert_error_string(err), where);
	}
}

/*
 * The signer chains to the approvers' CA now, with the S/MIME signing
 * purpose (which also honours an EKU that a CA of the chain is limited to).
 * Every CA of the chain comes from the approvers' CA file: a CA that the
 * signature carries does not count, since whoever holds a certificate able
 * to issue others (a CA's mistake) could otherwise make a second approver.
 */
static int check_chain(X509 *signer, X509_STORE *store, unsigned long flags, const char *ca_path,
		       char *why)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	char subject[512];
	int error = SG_OK;

	subject_line(subject, sizeof(subject), signer);
	if (!ctx || !X509_STORE_CTX_init(ctx, store, signer, NULL) ||
	    !X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SMIME_SIGN)) {
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	} else {
		X509_STORE_CTX_set_flags(ctx, flags);
		if (X509_verify_cert(ctx) != 1) {
			/* A leaf of the wrong purpose: say which of its usages is missing. */
			if (X509_STORE_CTX_get_error(ctx) == X509_V_ERR_INVALID_PURPOSE &&
			    X509_STORE_CTX_get_error_depth(ctx) == 0)
				error = check_profile(signer, subject, why);
			if (!error)
				error = chain_why(ctx, signer, subject, ca_path, why);
		}
	}
	/* OpenSSL's purpose check passes a leaf without EKU; an approver's must have one. */
	if (!error)
		error = check_profile(signer, subject, why);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return error;
}

/*
 * 1 when the UTF-8 at `p` (`left` bytes) starts with a character that has
 * no place in a name read by people: a C0 or C1 control, DEL, or an
 * invisible formatting character (zero-width, bidirectional overrides and
 * isolates, word joiners, BOM) that makes one name look like another or
 * reorders a terminal line.
 */
static int hidden_char(const unsigned char *p, int left)
{
	unsigned int c;

	if (p[0] < 0x20 || p[0] == 0x7f)
		return 1;
	if (left >= 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 1;
	if (left < 3 || (p[0] != 0xe2 && p[0] != 0xef))
		return 0;
	c = ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
	return (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2060 && c <= 0x206f) || c == 0xfeff;
}

/*
 * A copy of an ASN.1 string as UTF-8; -1 when it does not fit or holds a
 * control or invisible formatting character (hidden_char()).
 */
static int copy_text(char *out, size_t cap, const ASN1_STRING *s)
{
	unsigned char *utf8 = NULL;
	int n = s ? ASN1_STRING_to_UTF8(&utf8, s) : -1, ok = n > 0 && (size_t)n < cap;

	for (int i = 0; ok && i < n; i++)
		ok = !hidden_char(utf8 + i, n - i);
	if (ok) {
		memcpy(out, utf8, (size_t)n);
		out[n] = '\0';
	}
	OPENSSL_free(utf8);
	return ok ? 0 : -1;
}

/* The first rfc822Name of the subjectAltName, else the subject's emailAddress; NULL: none. */
static const ASN1_STRING *email_of(X509 *x, GENERAL_NAMES *sans)
{
	X509_NAME *name = X509_get_subject_name(x);
	int i;

	for (i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gen = sk_GENERAL_NAME_value(sans, i);
		if (gen->type == GEN_EMAIL)
			return gen->d.rfc822Name;
	}
	i = X509_NAME_get_index_by_NID(name, NID_pkcs9_emailAddress, -1);
	return i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)) : NULL;
}

/* SHA-256 hex of the DER of `x` (whole certificate) or of its SubjectPublicKeyInfo. */
static int digest_hex(char out[65], X509 *x, int key_only)
{
	unsigned char *der = NULL;
	int n = key_only ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : i2d_X509(x, &der);
	int error = n > 0 ? sg_sha256_hex(out, der, (size_t)n) : SG_ERR_CRYPTO;

	OPENSSL_free(der);
	ERR_clear_error();
	return error ? sg_error_set(SG_ERR_CRYPTO, "cannot compute a certificate's digest") : SG_OK;
}

/*
 * Who signed, from the certificate. It must be unambiguous (one CN) and
 * printable, since it goes into audit records and onto terminals.
 */
int sg_cosign_identity(sg_cosigner *out, X509 *x, char *why)
{
	X509_NAME *name = X509_get_subject_name(x);
	int cn = X509_NAME_get_index_by_NID(name, NID_commonName, -1), error = SG_OK;
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const ASN1_STRING *email = email_of(x, sans);

	memset(out, 0, sizeof(*out));
	subject_line(out->subject, sizeof(out->subject), x);
	if (cn >= 0 && X509_NAME_get_index_by_NID(name, NID_commonName, cn) >= 0)
		error = why_set(why, "the certificate of %s has more than one CN", out->subject);
	else if (email && copy_text(out->email, sizeof(out->email), email) != 0)
		error = why_set(why,
				"the certificate of %s has an unprintable email (control or "
				"invisible characters)",
				out->subject);
	else if (cn >= 0 && copy_text(out->name, sizeof(out->name),
				      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, cn))) != 0)
		error = why_set(why,
				"the certificate of %s has an unprintable CN (control or invisible "
				"characters)",
				out->subject);
	else if (cn < 0)
		memcpy(out->name, out->email, sizeof(out->name));
	if (!error && !out->name[0])
		error = why_set(why, "the certificate of %s names nobody (no CN, no email)",
				out->subject);
	if (!error)
		error = digest_hex(out->cert_sha256, x, 0);
	if (!error)
		error = digest_hex(out->key_sha256, x, 1);
	GENERAL_NAMES_free(sans);
	ERR_clear_error();
	return error;
}

/* The signer's signingTime in Unix seconds; 0 when absent or unreadable. */
static long long signing_time(CMS_ContentInfo *cms)
{
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	int i = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	X509_ATTRIBUTE *attr = i >= 0 ? CMS_signed_get_attr(si, i) : NULL;
	ASN1_TYPE *t = attr ? X509_ATTRIBUTE_get0_type(attr, 0) : NULL;
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!t || (t->type != V_ASN1_UTCTIME && t->type != V_ASN1_GENERALIZEDTIME) ||
	    !ASN1_TIME_to_tm((const ASN1_TIME *)t->value.asn1_string, &tm)) {
		ERR_clear_error();
		return 0;
	}
	return (long long)timegm(&tm);
}

int sg_cosign_check_der(sg_cosigner *out, X509 **signer, const unsigned char *der, size_t der_len,
			const unsigned char *data, size_t len, const char *approval_file,
			X509_STORE *store, unsigned long flags, const char *ca_path, char *why)
{
	CMS_ContentInfo *cms = NULL;
	X509 *x = NULL;
	int error = parse_cms(&cms, der, der_len, why);

	memset(out, 0, sizeof(*out));
	if (signer)
		*signer = NULL;
	if (!error)
		error = check_signature(&x, cms, data, len, approval_file, why);
	if (!error)
		error = check_chain(x, store, flags, ca_path, why);
	if (!error)
		error = sg_cosign_identity(out, x, why);
	if (!error)
		out->signing_time = signing_time(cms);
	if (error)
		memset(out, 0, sizeof(*out));
	if (!error && signer)
		*signer = x;
	else
		X509_free(x);
	CMS_ContentInfo_free(cms);
	return error;
}

/* See cosign_internal.h. */
int sg_cosign_verify_file(sg_cosigner *out, X509 **signer, int *missing, sg_cosign_role role,
			  const char *approval_file, const unsigned char *data, size_t len,
			  X509_STORE *store, unsigned long flags, const char *ca_path)
{
	char why[WHY_MAX] = "", *path = sg_cosign_sig_path(approval_file, role);
	unsigned char *der = NULL;
	size_t der_len = 0;
	int error =
		path ? sg_read_file(&der, &der_len, path, SG_COSIGN_MAX, NULL, SG_READ_MISSING_OK)
		     : sg_error_set(SG_ERR_NOMEM, "out of memory");

	memset(out, 0, sizeof(*out));
	*missing = !error && !der;
	if (*missing)
		error = sg_error_set(SG_ERR_VERIFY, "no %s signature %s", sg_cosign_role_name(role),
				     path);
	/* Too large to be a signature: it is judged as a damaged one is, not as an I/O failure. */
	if (error == SG_ERR_FORMAT)
		error = sg_error_set(SG_ERR_VERIFY,
				     "the %s signature %s: larger than %d bytes, not a signature",
				     sg_cosign_role_name(role), path, SG_COSIGN_MAX);
	if (!error) {
		error = sg_cosign_check_der(out, signer, der, der_len, data, len, approval_file,
					    store, flags, ca_path, why);
		if (error == SG_ERR_VERIFY)
			sg_error_set(error, "the %s signature %s: %s", sg_cosign_role_name(role),
				     path, why);
	}
	free(der);
	free(path);
	return error;
}

int sg_cosign_verify_one(sg_cosigner *out, sg_cosign_role role, const char *approval_file,
			 const unsigned char *data, size_t len, const sg_approvers_trust *t)
{
	X509_STORE *store = NULL;
	unsigned long flags;
	int missing, error;

	memset(out, 0, sizeof(*out));
	/* The CA first: a broken config is the bigger problem than a missing signature. */
	error = sg_cosign_store(&store, &flags, t);
	if (!error)
		error = sg_cosign_verify_file(out, NULL, &missing, role, approval_file, data, len,
					      store, flags, t->ca_file);
	X509_STORE_free(store);
	return error;
}

/* Text compared as X509_NAME_cmp() does: trimmed, runs of spaces as one, ASCII lower case. */
static void canon(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	while (isspace((unsigned char)*in))
		in++;
	for (; *in && n + 1 < cap; in++) {
		if (isspace((unsigned char)*in)) {
			while (isspace((unsigned char)in[1]))
				in++;
			if (in[1])
				out[n++] = ' ';
		} else {
			out[n++] = (char)tolower((unsigned char)*in);
		}
	}
	out[n] = '\0';
}

/*
 * A name as one person may be written twice: a CN without ASCII spaces and
 * punctuation ("Alice Smith.", "alice-smith"), an email without the
 * trailing dots of its domain. Already lower case (canon()).
 */
static void loosen(char *name, int email)
{
	size_t n = 0;

	for (const char *p = name; *p; p++)
		if (email || !(isspace((unsigned char)*p) || ispunct((unsigned char)*p)))
			name[n++] = *p;
	while (email && n > 0 && name[n - 1] == '.')
		n--;
	name[n] = '\0';
}

/*
 * Every CN of `x`, or every email (subject and SAN), canonical and
 * loosened (loosen()), into `out`.
 */
static int names_of(char out[][256], int max, X509 *x, int emails)
{
	X509_NAME *name = X509_get_subject_name(x);
	int nid = emails ? NID_pkcs9_emailAddress : NID_commonName, n = 0;
	GENERAL_NAMES *sans = emails ? X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL) : NULL;
	char text[256];

	for (int i = -1; n < max && (i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0;)
		if (copy_text(text, sizeof(text),
			      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))) == 0) {
			canon(out[n], 256, text);
			loosen(out[n++], emails);
		}
	for (int i = 0; sans && n < max && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gen = sk_GENERAL_NAME_value(sans, i);
		if (gen->type == GEN_EMAIL &&
		    copy_text(text, sizeof(text), gen->d.rfc822Name) == 0) {
			canon(out[n], 256, text);
			loosen(out[n++], emails);
		}
	}
	GENERAL_NAMES_free(sans);
	ERR_clear_error();
	return n;
}

/* A name (CN or email) that `a` and `b` share, or NULL. */
static const char *shared_name(X509 *a, X509 *b, int emails, char buf[][256])
{
	char(*other)[256] = buf + 8;
	int na = names_of(buf, 8, a, emails), nb = names_of(other, 8, b, emails);

	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
			if (strcmp(buf[i], other[j]) == 0)
				return buf[i];
	return NULL;
}

int sg_cosign_same_approver(X509 *a, X509 *b, char *why)
{
	char sa[512], sb[512], names[16][256];
	const char *shared;
	EVP_PKEY *ka = X509_get0_pubkey(a), *kb = X509_get0_pubkey(b);

	subject_line(sa, sizeof(sa), a);
	subject_line(sb, sizeof(sb), b);
	ERR_clear_error();
	if (X509_cmp(a, b) == 0)
		return why_set(why, "the same certificate (%s)", sa) != 0;
	if (ka && kb && EVP_PKEY_eq(ka, kb) == 1)
		return why_set(why, "the same key under two certificates (%s and %s)", sa, sb) != 0;
	if (X509_NAME_cmp(X509_get_subject_name(a), X509_get_subject_name(b)) == 0)
		return why_set(why,
			       "two certificates with the same subject (%s and %s; names are "
			       "compared ignoring case and spaces)",
			       sa, sb) != 0;
	if ((shared = shared_name(a, b, 0, names)) != NULL)
		return why_set(why,
			       "two certificates with the same CN \"%s\" (%s and %s; CNs are "
			       "compared ignoring case, spaces and punctuation)",
			       shared, sa, sb) != 0;
	if ((shared = shared_name(a, b, 1, names)) != NULL)
		return why_set(why, "two certificates with the same email %s (%s and %s)", shared,
			       sa, sb) != 0;
	ERR_clear_error();
	return 0;
}

/* What is missing, when one or both signatures are. */
static int say_missing(const char *approval_file, int missing_first, int missing_second)
{
	char *first = sg_cosign_sig_path(approval_file, SG_COSIGN_FIRST);
	char *second = sg_cosign_sig_path(approval_file, SG_COSIGN_SECOND);
	int error =
		!first || !second ? sg_error_set(SG_ERR_NOMEM, "out of memory")
		: missing_first && missing_second
			? sg_error_set(SG_ERR_VERIFY,
				       "no first approver's signature %s and no second "
				       "approver's signature %s",
				       first, second)
		: missing_first
			? sg_error_set(SG_ERR_VERIFY, "no first approver's signature %s", first)
			: sg_error_set(SG_ERR_VERIFY, "no second approver's signature %s", second);

	free(first);
	free(second);
	return error;
}

int sg_cosign_verify_pair(sg_cosigner *first, sg_cosigner *second, const char *approval_file,
			  const unsigned char *data, size_t len, const sg_approvers_trust *t)
{
	X509_STORE *store = NULL;
	X509 *a = NULL, *b = NULL;
	unsigned long flags;
	int miss_a = 0, miss_b = 0, error, error_b = SG_OK;
	char why[WHY_MAX], saved[1024] = "", missing[1024];

	memset(first, 0, sizeof(*first));
	memset(second, 0, sizeof(*second));
	error = sg_cosign_store(&store, &flags, t);
	if (error)
		return error;
	error = sg_cosign_verify_file(first, &a, &miss_a, SG_COSIGN_FIRST, approval_file, data, len,
				      store, flags, t->ca_file);
	if (error == SG_ERR_VERIFY && !miss_a)
		snprintf(saved, sizeof(saved), "%s", sg_error_last());
	if (!error || error == SG_ERR_VERIFY)
		error_b = sg_cosign_verify_file(second, &b, &miss_b, SG_COSIGN_SECOND,
						approval_file, data, len, store, flags, t->ca_file);
	if (error_b == SG_ERR_VERIFY && !miss_b && !saved[0])
		snprintf(saved, sizeof(saved), "%s", sg_error_last());
	if (error && error != SG_ERR_VERIFY) {
		/* operational (I/O, memory): its message stands */
	} else if (error_b && error_b != SG_ERR_VERIFY) {
		error = error_b;
	} else if (miss_a || miss_b) {
		error = say_missing(approval_file, miss_a, miss_b);
		snprintf(missing, sizeof(missing), "%s", sg_error_last());
		if (error == SG_ERR_VERIFY && saved[0])
			sg_error_set(error, "%s; %s", missing, saved);
	} else if (error || error_b) {
		error = sg_error_set(SG_ERR_VERIFY, "%s", saved);
	} else if (sg_cosign_same_approver(a, b, why)) {
		error = sg_error_set(SG_ERR_VERIFY,
				     "both signatures are by one approver: %s; the two-person "
				     "rule needs two different approvers' certificates",
				     why);
	}
	if (error) {
		memset(first, 0, sizeof(*first));
		memset(second, 0, sizeof(*second));
	}
	X509_free(a);
	X509_free(b);
	X509_STORE_free(store);
	return error;
}

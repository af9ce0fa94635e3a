/* Co-signatures of approval files; see include/signgate/cosign.h. */
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/util.h"
#include "cms_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* A co-signature is a few KiB (one or two certificates); far more is not one. */
#define COSIGN_MAX (1024 * 1024)
/* Policy files are small; this bounds the memory of a read. */
#define APPROVAL_MAX (16 * 1024 * 1024)
#define WHY_MAX      600

char *sg_cosign_path(const char *approval_file)
{
	size_t n = strlen(approval_file) + sizeof(SG_COSIGN_SUFFIX);
	char *path = malloc(n);

	if (path)
		snprintf(path, n, "%s%s", approval_file, SG_COSIGN_SUFFIX);
	return path;
}

int sg_cosigner_is(const sg_cosigner *c, const char *who)
{
	if (!who || !*who)
		return 0;
	return strcmp(who, c->name) == 0 || (c->email[0] && strcasecmp(who, c->email) == 0);
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

/*
 * The whole of a regular file, at most `max` bytes; `*out` NULL (and no
 * error) when it does not exist, so that the caller names that case. Every
 * failure, too big included, is SG_ERR_IO.
 */
static int read_whole(unsigned char **out, size_t *len, const char *path, size_t max)
{
	int error = sg_read_file(out, len, path, max, NULL, SG_READ_MISSING_OK);

	return error == SG_ERR_FORMAT ? sg_error_recode(SG_ERR_IO) : error;
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
 * itself.
 */
static int load_approvers_ca(X509_STORE **out, const char *path)
{
	X509_STORE *store = NULL;
	BIO *bio = NULL;
	int n = 0, error = SG_OK;
	char subject[512];
	X509 *x;

	*out = NULL;
	if (!path)
		return sg_error_set(SG_ERR_CONFIG,
				    "no approvers' CA is configured "
				    "(trust.approvers_ca_file): no co-signature can count");
	store = X509_STORE_new();
	bio = BIO_new_file(path, "r");
	if (!store || !bio) {
		X509_STORE_free(store);
		BIO_free(bio);
		ERR_clear_error();
		return store ? sg_error_set(SG_ERR_CONFIG, "%s: cannot read the approvers' CA: %s",
					    path, strerror(errno))
			     : sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	while (!error && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		n++;
		subject_line(subject, sizeof(subject), x);
		if (X509_check_ca(x) < 1)
			error = sg_error_set(SG_ERR_CONFIG,
					     "%s: certificate %d (%s) is not a CA certificate: the "
					     "approvers' CA file holds CA certificates only",
					     path, n, subject);
		else if (!X509_STORE_add_cert(store, x))
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
		X509_free(x);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (!error && n == 0)
		error = sg_error_set(SG_ERR_CONFIG, "%s: no PEM certificate in the approvers' CA",
				     path);
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
		return why_set(why, "has %d signers; a co-signature has exactly one", n);
	}
	CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, 0), NULL, NULL, &digest, NULL);
	nid = digest ? OBJ_obj2nid(digest->algorithm) : NID_undef;
	if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512) {
		CMS_ContentInfo_free(cms);
		return why_set(why, "uses the digest %s; a co-signature uses SHA-256 or longer",
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
			       "does not match %s: the file changed after it was co-signed, or the "
			       "signature is damaged",
			       approval_file);
	signers = CMS_get0_signers(cms);
	if (signers && sk_X509_num(signers) == 1)
		*signer = X509_dup(sk_X509_value(signers, 0));
	sk_X509_free(signers);
	return *signer ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/* The approver profile: keyUsage digitalSignature and EKU emailProtection, both present. */
static int check_profile(X509 *x, const char *subject, char *why)
{
	uint32_t ku = X509_get_key_usage(x), xku = X509_get_extended_key_usage(x);
	uint32_t flags = X509_get_extension_flags(x);

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
 * Why the chain of the co-signer `subject` failed, in words that point at
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
		return why_set(why, "the certificate of %s is not issued by the approvers' CA %s%s",
			       subject, ca_path, where);
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return why_set(why, "the certificate of %s expired on %s%s", subject, when, where);
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return why_set(why, "the certificate of %s is not valid before %s%s", subject, when,
			       where);
	default:
		return why_set(why, "the certificate of %s does not verify with %s: %s%s", subject,
			       ca_path, X509_verify_cert_error_string(err), where);
	}
}

/*
 * The signer chains to the approvers' CA now, with the S/MIME signing
 * purpose (which also honours an EKU that a CA of the chain is limited to).
 * The CMS's other certificates may serve as intermediates.
 */
static int check_chain(X509 *signer, CMS_ContentInfo *cms, X509_STORE *store, const char *ca_path,
		       char *why)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = CMS_get1_certs(cms);
	char subject[512];
	int error = SG_OK;

	subject_line(subject, sizeof(subject), signer);
	if (!ctx || !X509_STORE_CTX_init(ctx, store, signer, untrusted) ||
	    !X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SMIME_SIGN)) {
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	} else {
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
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
	sk_X509_pop_free(untrusted, X509_free);
	ERR_clear_error();
	return error;
}

/* A copy of an ASN.1 string as UTF-8; -1 when it does not fit or holds control characters. */
static int copy_text(char *out, size_t cap, const ASN1_STRING *s)
{
	unsigned char *utf8 = NULL;
	int n = s ? ASN1_STRING_to_UTF8(&utf8, s) : -1, ok = n > 0 && (size_t)n < cap;

	for (int i = 0; ok && i < n; i++)
		ok = utf8[i] >= 0x20 && utf8[i] != 0x7f;
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

/*
 * Who co-signed: the identity that is compared with "approved_by". It must
 * be unambiguous (one CN) and printable, since it goes into audit records
 * and onto terminals.
 */
static int fill_identity(sg_cosigner *out, X509 *x, char *why)
{
	X509_NAME *name = X509_get_subject_name(x);
	int cn = X509_NAME_get_index_by_NID(name, NID_commonName, -1), error = SG_OK;
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const ASN1_STRING *email = email_of(x, sans);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	subject_line(out->subject, sizeof(out->subject), x);
	if (cn >= 0 && X509_NAME_get_index_by_NID(name, NID_commonName, cn) >= 0)
		error = why_set(why, "the certificate of %s has more than one CN", out->subject);
	else if (email && copy_text(out->email, sizeof(out->email), email) != 0)
		error = why_set(why, "the certificate of %s has an unprintable email",
				out->subject);
	else if (cn >= 0 && copy_text(out->name, sizeof(out->name),
				      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, cn))) != 0)
		error = why_set(why, "the certificate of %s has an unprintable CN", out->subject);
	else if (cn < 0)
		memcpy(out->name, out->email, sizeof(out->name));
	if (!error && !out->name[0])
		error = why_set(why, "the certificate of %s names nobody (no CN, no email)",
				out->subject);
	if (!error && (!X509_digest(x, EVP_sha256(), md, &md_len) || md_len != SG_SHA256_LEN))
		error = sg_error_set(SG_ERR_CRYPTO, "cannot compute a certificate's digest");
	if (!error)
		sg_hex_encode(out->cert_sha256, md, SG_SHA256_LEN);
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

/* All checks of one co-signature's DER bytes over `data`; the reason goes to `why`. */
static int verify_der(sg_cosigner *out, const unsigned char *der, size_t der_len,
		      const unsigned char *data, size_t len, const char *approval_file,
		      X509_STORE *store, const char *ca_path, char *why)
{
	CMS_ContentInfo *cms = NULL;
	X509 *signer = NULL;
	int error = parse_cms(&cms, der, der_len, why);

	memset(out, 0, sizeof(*out));
	if (!error)
		error = check_signature(&signer, cms, data, len, approval_file, why);
	if (!error)
		error = check_chain(signer, cms, store, ca_path, why);
	if (!error)
		error = fill_identity(out, signer, why);
	if (!error)
		out->signing_time = signing_time(cms);
	if (error)
		memset(out, 0, sizeof(*out));
	X509_free(signer);
	CMS_ContentInfo_free(cms);
	return error;
}

int sg_cosign_verify(const char *approval_file, const unsigned char *data, size_t len,
		     const char *approvers_ca, sg_cosigner *out)
{
	char why[WHY_MAX] = "", *path = sg_cosign_path(approval_file);
	X509_STORE *store = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	int error;

	memset(out, 0, sizeof(*out));
	if (!path)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	/* The CA first: a broken config is the bigger problem than a missing signature. */
	error = load_approvers_ca(&store, approvers_ca);
	if (!error)
		error = read_whole(&der, &der_len, path, COSIGN_MAX);
	if (!error && !der)
		error = sg_error_set(SG_ERR_VERIFY, "no co-signature %s", path);
	if (!error) {
		error = verify_der(out, der, der_len, data, len, approval_file, store, approvers_ca,
				   why);
		if (error == SG_ERR_VERIFY)
			sg_error_set(error, "%s: %s", path, why);
	}
	free(der);
	X509_STORE_free(store);
	free(path);
	return error;
}

/* The certificates of `path`: the first is the co-signer's, the others its intermediates. */
static int load_certs(X509 **leaf, STACK_OF(X509) * *rest, const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;

	*leaf = NULL;
	*rest = NULL;
	if (!bio) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	}
	*rest = sk_X509_new_null();
	while (*rest && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!*leaf)
			*leaf = x;
		else if (!sk_X509_push(*rest, x))
			X509_free(x);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (*rest && *leaf)
		return SG_OK;
	X509_free(*leaf);
	sk_X509_free(*rest);
	*leaf = NULL;
	*rest = NULL;
	return sg_error_set(SG_ERR_CONFIG, "%s: no PEM certificate found", path);
}

/* The co-signer's key: a private PEM file that belongs to `leaf`. */
static int open_key(EVP_PKEY **key, X509 *leaf, const char *key_path, const char *cert_path,
		    const sg_secret *secret)
{
	int error = sg_secret_check_file(key_path);

	*key = NULL;
	if (!error)
		error = sg_pem_key_read(key, key_path, secret, "the co-signing key",
					"no password was given for it");
	if (!error && X509_check_private_key(leaf, *key) != 1)
		error = sg_error_set(SG_ERR_CRYPTO, "%s: the key does not match the certificate %s",
				     key_path, cert_path);
	ERR_clear_error();
	if (error) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	return error;
}

/*
 * `der` into a new, fsynced temporary file beside `dest`, with `mode`;
 * its path in `out_tmp`. Nothing is visible at `dest` yet.
 */
static int write_temp(char **out_tmp, const char *dest, const unsigned char *der, size_t len,
		      mode_t mode)
{
	size_t cap = strlen(dest) + sizeof(".XXXXXX"), off = 0;
	char *tmp = malloc(cap);
	int fd = -1, error = SG_OK;

	*out_tmp = NULL;
	if (!tmp)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	snprintf(tmp, cap, "%s.XXXXXX", dest);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		error = sg_error_set(SG_ERR_IO, "%s: cannot create a temporary file beside it: %s",
				     dest, strerror(errno));
		free(tmp);
		return error;
	}
	while (!error && off < len) {
		ssize_t n = write(fd, der + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			error = sg_error_set(SG_ERR_IO, "%s: cannot write: %s", tmp,
					     n < 0 ? strerror(errno) : "short write");
		else
			off += (size_t)n;
	}
	if (!error && (fchmod(fd, mode) != 0 || fsync(fd) != 0))
		error = sg_error_set(SG_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
	if (close(fd) != 0 && !error)
		error = sg_error_set(SG_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
	if (error) {
		unlink(tmp);
		free(tmp);
	} else {
		*out_tmp = tmp;
	}
	return error;
}

/*
 * Publish the co-signature at `dest`. It gets the approval file's read
 * permissions (never more than 0644): whoever may read an approval must
 * read its co-signature.
 */
static int publish(const char *dest, const unsigned char *der, size_t len,
		   const char *approval_file, int replace)
{
	struct stat st;
	char *tmp = NULL;
	int error = SG_OK;

	if (stat(approval_file, &st) != 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", approval_file,
				    strerror(errno));
	error = write_temp(&tmp, dest, der, len, st.st_mode & 0644);
	if (!error)
		error = sg_publish_commit(tmp, dest, replace);
	if (error == SG_ERR_EXISTS)
		sg_error_set(error, "%s: a co-signature exists already", dest);
	free(tmp);
	return error;
}

/* Sign the approval's bytes and check the result as signing will, before anything is written. */
static int sign_and_check(unsigned char **der, size_t *der_len, sg_cosigner *out,
			  const unsigned char *data, size_t len, const char *approval_file,
			  const char *dest, X509 *leaf, STACK_OF(X509) * rest, EVP_PKEY *key,
			  const char *approvers_ca)
{
	char why[WHY_MAX] = "";
	X509_STORE *store = NULL;
	int error = load_approvers_ca(&store, approvers_ca);

	if (!error)
		error = sg_cms_sign_detached(der, der_len, data, len, leaf, rest, key,
					     approval_file);
	if (!error)
		error = verify_der(out, *der, *der_len, data, len, approval_file, store,
				   approvers_ca, why);
	if (error == SG_ERR_VERIFY)
		sg_error_set(error,
			     "%s: the new co-signature would not count, nothing was "
			     "written: %s",
			     dest, why);
	X509_STORE_free(store);
	return error;
}

int sg_cosign_create(const char *approval_file, const char *cert_path, const char *key_path,
		     const sg_secret *secret, const char *approvers_ca, int replace,
		     sg_cosigner *out)
{
	unsigned char *data = NULL, *der = NULL;
	char *dest = sg_cosign_path(approval_file);
	STACK_OF(X509) *rest = NULL;
	size_t len = 0, der_len = 0;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	int error = SG_OK;

	memset(out, 0, sizeof(*out));
	if (!dest)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	/* Early, before a password is asked for; the rename checks again. */
	if (!replace && sg_path_exists(dest))
		error = sg_error_set(SG_ERR_EXISTS, "%s: a co-signature exists already", dest);
	if (!error)
		error = read_whole(&data, &len, approval_file, APPROVAL_MAX);
	if (!error && !data)
		error = sg_error_set(SG_ERR_IO, "%s: no such approval file", approval_file);
	if (!error)
		error = load_certs(&leaf, &rest, cert_path);
	if (!error)
		error = open_key(&key, leaf, key_path, cert_path, secret);
	if (!error)
		error = sign_and_check(&der, &der_len, out, data, len, approval_file, dest, leaf,
				       rest, key, approvers_ca);
	if (!error)
		error = publish(dest, der, der_len, approval_file, replace);
	if (error)
		memset(out, 0, sizeof(*out));
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	X509_free(leaf);
	sk_X509_pop_free(rest, X509_free);
	free(data);
	free(dest);
	return error;
}

/*
 * Cryptographic Authenticode checks with OpenSSL; see lib/authenticode.h.
 * Nothing here trusts text printed by osslsigncode.
 */
#include "authenticode.h"
#include "signgate/error.h"
#include "signgate/authenticode_sign.h"
#include "signgate/format.h"
#include "signgate/hash.h"
#include "signgate/util.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#define OID_SPC_INDIRECT_DATA  "1.3.6.1.4.1.311.2.1.4"
#define OID_NESTED_SIGNATURE   "1.3.6.1.4.1.311.2.4.1"
#define OID_RFC3161_TIMESTAMP  "1.3.6.1.4.1.311.3.3.1"
#define OID_SPC_STATEMENT_TYPE "1.3.6.1.4.1.311.2.1.11"
#define OID_SPC_SP_OPUS_INFO   "1.3.6.1.4.1.311.2.1.12"
#define OID_CONTENT_TYPE       "1.2.840.113549.1.9.3"
#define OID_MESSAGE_DIGEST     "1.2.840.113549.1.9.4"
#define MAX_SIGNATURES         32
#define MAX_SIGNATURE_FILE     (64u * 1024 * 1024)

__attribute__((format(printf, 2, 3)))
static int reject(sg_authenticode_result *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return SG_ERR_VERIFY;
}

static int is_oid(const ASN1_OBJECT *obj, const char *text)
{
	ASN1_OBJECT *want = OBJ_txt2obj(text, 1);
	int same = want && OBJ_cmp(obj, want) == 0;

	ASN1_OBJECT_free(want);
	return same;
}

static PKCS7_SIGNER_INFO *only_signer(PKCS7 *p7)
{
	STACK_OF(PKCS7_SIGNER_INFO) * sis;

	if (!p7 || !PKCS7_type_is_signed(p7))
		return NULL;
	sis = PKCS7_get_signer_info(p7);
	return sis && sk_PKCS7_SIGNER_INFO_num(sis) == 1 ? sk_PKCS7_SIGNER_INFO_value(sis, 0)
							 : NULL;
}

/* The values of every unauthenticated attribute `oid` of `si`, in order. */
static int unauth_values(const PKCS7_SIGNER_INFO *si, const char *oid, ASN1_TYPE **vals, int max)
{
	int n = 0;

	for (int i = 0; i < sk_X509_ATTRIBUTE_num(si->unauth_attr); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(si->unauth_attr, i);
		if (!is_oid(X509_ATTRIBUTE_get0_object(a), oid))
			continue;
		for (int j = 0; j < X509_ATTRIBUTE_count(a) && n < max; j++)
			vals[n++] = X509_ATTRIBUTE_get0_type(a, j);
	}
	return n;
}

/* The digest algorithms signgate knows, by NID; NULL for any other. */
static const EVP_MD *md_of_nid(int nid)
{
	switch (nid) {
	case NID_sha1: return EVP_sha1();
	case NID_sha256: return EVP_sha256();
	case NID_sha384: return EVP_sha384();
	case NID_sha512: return EVP_sha512();
	default: return NULL;
	}
}

static PKCS7 *pkcs7_from_type(const ASN1_TYPE *t)
{
	const unsigned char *der;

	if (!t || t->type != V_ASN1_SEQUENCE)
		return NULL;
	der = t->value.sequence->data;
	return d2i_PKCS7(NULL, &der, t->value.sequence->length);
}

/* The PKCS#7 SpcIndirectDataContent DER (with its SEQUENCE header). */
static const ASN1_STRING *indirect_data(PKCS7 *p7)
{
	PKCS7 *content = p7->d.sign->contents;

	if (!content || !content->type || !is_oid(content->type, OID_SPC_INDIRECT_DATA))
		return NULL;
	if (!content->d.other || content->d.other->type != V_ASN1_SEQUENCE)
		return NULL;
	return content->d.other->value.sequence;
}

/* The file digest of a DigestInfo at q (up to end), as upper-case hex. */
static int read_file_digest(sg_authenticode_result *out, const unsigned char *q,
			    const unsigned char *end)
{
	X509_SIG *dinfo = d2i_X509_SIG(NULL, &q, (long)(end - q));
	const X509_ALGOR *alg = NULL;
	const ASN1_OCTET_STRING *digest = NULL;
	int ok, nid;

	if (dinfo)
		X509_SIG_get0(dinfo, &alg, &digest);
	nid = dinfo ? OBJ_obj2nid(alg->algorithm) : NID_undef;
	ok = nid == NID_sha256 && digest->length == SG_SHA256_LEN;
	if (ok)
		sg_hex_encode_upper(out->file_digest, digest->data, SG_SHA256_LEN);
	X509_SIG_free(dinfo);
	if (ok)
		return SG_OK;
	if (!dinfo)
		return reject(out, "signature %d: its file digest is no DigestInfo", out->index);
	return reject(out,
		      "signature %d: the file digest is not SHA-256 (it is %s): signgate computes "
		      "the Authenticode digest with SHA-256 only",
		      out->index, nid == NID_sha256 ? "SHA-256 of the wrong length" :
		      nid != NID_undef ? OBJ_nid2sn(nid) : "an unknown algorithm");
}

/*
 * The SpcIndirectDataContent's first element (SpcAttributeTypeAndOptionalValue,
 * its content at q, elen bytes) must name the signed file's content kind
 * (the file's sg_format_kind: its row's sg_spc_content), as Windows' SIP for
 * the file requires: SpcPeImageData for a PE, SpcSipInfo with the MSI SIP's
 * GUID for the MSI family. Without this, only osslsigncode's reading would
 * stop a signature made for another format.
 */
static int check_data_type(sg_authenticode_result *out, int kind, const unsigned char *q, long elen)
{
	const unsigned char *end = q + elen, *v, *guid = NULL;
	ASN1_OBJECT *type = d2i_ASN1_OBJECT(NULL, &q, elen);
	const char *want = NULL, *what = NULL;
	int known = sg_authenticode_kind_content(kind, &want, &guid, &what) == 0, tag, cls;
	int ok = known && type && is_oid(type, want);
	long len;

	ASN1_OBJECT_free(type);
	if (!known)
		return reject(out,
			      "signature %d: the file's format has no Authenticode content "
			      "signgate checks: its signed content cannot be checked",
			      out->index);
	if (ok && guid) {
		/* SpcSipInfo ::= SEQUENCE { INTEGER 1, OCTET STRING guid, ... } */
		v = q;
		ok = !(ASN1_get_object(&v, &len, &tag, &cls, end - q) & 0x80) &&
		     tag == V_ASN1_SEQUENCE && v + len <= end &&
		     !(ASN1_get_object(&v, &len, &tag, &cls, end - v) & 0x80) &&
		     tag == V_ASN1_INTEGER && v + len <= end && (v += len, 1) &&
		     !(ASN1_get_object(&v, &len, &tag, &cls, end - v) & 0x80) &&
		     tag == V_ASN1_OCTET_STRING && len == 16 && v + len <= end &&
		     memcmp(v, guid, 16) == 0;
	}
	return ok ? SG_OK
		  : reject(out,
			   "signature %d: the signed content is not %s's (a signature made "
			   "for another file format)",
			   out->index, what);
}

/*
 * The messageDigest attribute covers the SpcIndirectDataContent's value
 * without its SEQUENCE tag and length; its second element is the DigestInfo
 * of the file.
 */
static int check_content(sg_authenticode_result *out, PKCS7 *p7, PKCS7_SIGNER_INFO *si, int kind)
{
	const ASN1_STRING *der = indirect_data(p7);
	ASN1_OCTET_STRING *md_attr = PKCS7_digest_from_attributes(si->auth_attr);
	X509_ALGOR *md_alg = NULL;
	const EVP_MD *md_type;
	unsigned char md[EVP_MAX_MD_SIZE];
	const unsigned char *p, *q;
	long len, elen;
	int tag, cls;

	ASN1_TYPE *ctype = PKCS7_get_signed_attribute(si, NID_pkcs9_contentType);

	/* The signer's own algorithm (verification requires SHA-256 before this). */
	PKCS7_SIGNER_INFO_get0_algs(si, NULL, &md_alg, NULL);
	md_type = md_alg ? md_of_nid(OBJ_obj2nid(md_alg->algorithm)) : NULL;
	if (!der)
		return reject(out, "signature %d has no SpcIndirectDataContent", out->index);
	/* The signed content type must name what is signed, as RFC 5652 requires. */
	if (!ctype || ctype->type != V_ASN1_OBJECT ||
	    !is_oid(ctype->value.object, OID_SPC_INDIRECT_DATA))
		return reject(out, "signature %d: the signed content type is not SpcIndirectData",
			      out->index);
	p = der->data;
	if ((ASN1_get_object(&p, &len, &tag, &cls, der->length) & 0x80) || tag != V_ASN1_SEQUENCE ||
	    p + len != der->data + der->length)
		return reject(out, "signature %d: malformed SpcIndirectDataContent", out->index);
	if (!md_type)
		return reject(out, "signature %d: its signer's digest algorithm is unknown",
			      out->index);
	if (!md_attr || md_attr->length != EVP_MD_get_size(md_type) ||
	    !EVP_Digest(p, (size_t)len, md, NULL, md_type, NULL) ||
	    memcmp(md, md_attr->data, (size_t)md_attr->length) != 0)
		return reject(out,
			      "signature %d: the signed messageDigest does not match its content",
			      out->index);
	q = p;
	if ((ASN1_get_object(&q, &elen, &tag, &cls, len) & 0x80) || tag != V_ASN1_SEQUENCE ||
	    q + elen > p + len)
		return reject(out, "signature %d: malformed SpcIndirectDataContent", out->index);
	if (check_data_type(out, kind, q, elen) != SG_OK)
		return SG_ERR_VERIFY;
	return read_file_digest(out, q + elen, p + len);
}

/* The signer's signature over its DER-encoded signed attributes. */
static int check_signed_attrs(sg_authenticode_result *out, PKCS7_SIGNER_INFO *si, X509 *leaf)
{
	unsigned char *abuf = NULL;
	EVP_MD_CTX *ctx = NULL;
	int alen, ok = 0;

	if (!si->auth_attr || sk_X509_ATTRIBUTE_num(si->auth_attr) == 0)
		return reject(out, "signature %d has no signed attributes", out->index);
	alen = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &abuf, ASN1_ITEM_rptr(PKCS7_ATTR_VERIFY));
	ctx = EVP_MD_CTX_new();
	if (alen > 0 && ctx &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, X509_get0_pubkey(leaf)) == 1)
		ok = EVP_DigestVerify(ctx, si->enc_digest->data, (size_t)si->enc_digest->length,
				      abuf, (size_t)alen) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(abuf);
	return ok ? SG_OK
		  : reject(out, "signature %d: the signer's signature does not verify", out->index);
}

static const EVP_MD *imprint_md(const TS_TST_INFO *tst)
{
	const X509_ALGOR *alg =
		TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint((TS_TST_INFO *)tst));
	int nid = alg ? OBJ_obj2nid(alg->algorithm) : NID_undef;

	/* A timestamp's imprint: SHA-1 is no longer taken. */
	return nid == NID_sha1 ? NULL : md_of_nid(nid);
}

/* Verify `token` (a TimeStampToken) over the signature value of `si`. */
static int verify_token(sg_authenticode_result *out, const sg_authenticode_opts *o, PKCS7 *token,
			PKCS7_SIGNER_INFO *si)
{
	TS_TST_INFO *tst = PKCS7_to_TS_TST_INFO(token);
	TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new();
	const EVP_MD *md = tst ? imprint_md(tst) : NULL;
	unsigned char *imprint = md ? OPENSSL_malloc((size_t)EVP_MD_get_size(md)) : NULL;
	X509_STORE *store = NULL;
	struct tm tm;
	int error = SG_OK;

	if (!tst || !ctx || !md || !imprint ||
	    !EVP_Digest(si->enc_digest->data, (size_t)si->enc_digest->length, imprint, NULL, md,
			NULL)) {
		OPENSSL_free(imprint);
		error = reject(out, "signature %d: unusable timestamp token", out->index);
		goto done;
	}
	TS_VERIFY_CTX_set_imprint(ctx, imprint, EVP_MD_get_size(md));
	/* The context frees the store it is given: it takes a reference of its own. */
	store = sg_trust_tsa_store(o->trust);
	if (!store || !X509_STORE_up_ref(store)) {
		error = reject(out, "no timestamp trust anchors given");
		goto done;
	}
	TS_VERIFY_CTX_set_store(ctx, store);
	TS_VERIFY_CTX_add_flags(ctx,
				TS_VFY_SIGNATURE | TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_SIGNER);
	if (TS_RESP_verify_token(ctx, token) != 1) {
		unsigned long e = ERR_peek_last_error();
		error = reject(out, "signature %d: the timestamp does not verify against %s: %s",
			       out->index,
			       sg_trust_tsa_ca_file(o->trust) ? sg_trust_tsa_ca_file(o->trust)
							      : sg_trust_ca_file(o->trust),
			       e ? ERR_reason_error_string(e) : "unknown reason");
		goto done;
	}
	if (ASN1_TIME_to_tm(TS_TST_INFO_get_time(tst), &tm) != 1) {
		error = reject(out, "signature %d: the timestamp has no valid time", out->index);
		goto done;
	}
	out->timestamped = 1;
	out->timestamp = timegm(&tm);
done:
	TS_VERIFY_CTX_free(ctx);
	TS_TST_INFO_free(tst);
	return error;
}

static int check_timestamp(sg_authenticode_result *out, const sg_authenticode_opts *o,
			   PKCS7_SIGNER_INFO *si)
{
	ASN1_TYPE *vals[2];
	PKCS7 *token;
	int n = unauth_values(si, OID_RFC3161_TIMESTAMP, vals, 2), error;

	if (n == 0)
		return SG_OK;
	if (n > 1)
		return reject(out, "signature %d carries more than one timestamp", out->index);
	token = pkcs7_from_type(vals[0]);
	if (!token)
		return reject(out, "signature %d: malformed timestamp token", out->index);
	error = verify_token(out, o, token, si);
	PKCS7_free(token);
	return error;
}

/* An attribute's OID as dotted text, for messages. */
static const char *oid_text(char buf[80], const ASN1_OBJECT *obj)
{
	if (OBJ_obj2txt(buf, 80, obj, 1) <= 0)
		snprintf(buf, 80, "(an unreadable OID)");
	return buf;
}

/*
 * A signature signgate made signs exactly contentType, SpcSpOpusInfo,
 * SpcStatementType and messageDigest, each once with one value: no other
 * signed attribute can carry anything out inside it.
 */
static int check_signed_set(sg_authenticode_result *out, const PKCS7_SIGNER_INFO *si)
{
	static const char *const oids[] = { OID_CONTENT_TYPE, OID_SPC_SP_OPUS_INFO,
					    OID_SPC_STATEMENT_TYPE, OID_MESSAGE_DIGEST };
	static const char *const names[] = { "contentType", "SpcSpOpusInfo", "SpcStatementType",
					     "messageDigest" };
	int seen[4] = { 0 }, k;
	char buf[80];

	for (int i = 0; i < sk_X509_ATTRIBUTE_num(si->auth_attr); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(si->auth_attr, i);
		const ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object(a);
		for (k = 0; k < 4 && !is_oid(obj, oids[k]); k++)
			;
		if (k == 4)
			return reject(
				out,
				"signature %d carries the signed attribute %s, which signgate "
				"does not make",
				out->index, oid_text(buf, obj));
		if (seen[k]++)
			return reject(out, "signature %d carries the signed attribute %s twice",
				      out->index, names[k]);
		if (X509_ATTRIBUTE_count(a) != 1)
			return reject(
				out, "signature %d: its signed attribute %s has %d values, not one",
				out->index, names[k], X509_ATTRIBUTE_count(a));
	}
	for (k = 0; k < 4; k++)
		if (!seen[k])
			return reject(out, "signature %d lacks the signed attribute %s", out->index,
				      names[k]);
	return SG_OK;
}

/* Nothing unsigned but at most one RFC 3161 timestamp (verified by check_timestamp). */
static int check_unsigned_set(sg_authenticode_result *out, const PKCS7_SIGNER_INFO *si)
{
	char buf[80];
	int n = 0;

	for (int i = 0; i < sk_X509_ATTRIBUTE_num(si->unauth_attr); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(si->unauth_attr, i);
		const ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object(a);
		if (!is_oid(obj, OID_RFC3161_TIMESTAMP))
			return reject(out,
				      "signature %d carries the unsigned attribute %s: a signature "
				      "signgate made carries none but one RFC 3161 timestamp",
				      out->index, oid_text(buf, obj));
		if (++n > 1 || X509_ATTRIBUTE_count(a) != 1)
			return reject(out, "signature %d carries more than one timestamp",
				      out->index);
	}
	return SG_OK;
}

static int check_signer(sg_authenticode_result *out, const sg_authenticode_opts *o, PKCS7 *p7,
			PKCS7_SIGNER_INFO *si)
{
	STACK_OF(X509) *signers = PKCS7_get0_signers(p7, NULL, 0);
	X509_ALGOR *md_alg = NULL;
	X509 *leaf;
	int error;

	PKCS7_SIGNER_INFO_get0_algs(si, NULL, &md_alg, NULL);
	if (!md_alg || OBJ_obj2nid(md_alg->algorithm) != NID_sha256) {
		sk_X509_free(signers);
		return reject(out, "signature %d does not use SHA-256", out->index);
	}
	if (!signers || sk_X509_num(signers) != 1) {
		sk_X509_free(signers);
		return reject(out, "signature %d does not carry its signer certificate",
			      out->index);
	}
	leaf = sk_X509_value(signers, 0);
	error = sg_cert_info_from_x509(&out->signer, leaf);
	if (!error)
		error = check_signed_attrs(out, si, leaf);
	if (!error)
		error = check_content(out, p7, si, o->kind);
	if (!error && o->exact_attributes)
		error = check_signed_set(out, si);
	if (!error && o->exact_attributes)
		error = check_unsigned_set(out, si);
	if (!error)
		error = check_timestamp(out, o, si);
	if (!error && sg_cert_check_codesign(leaf, "signer") != SG_OK)
		error = reject(out, "signature %d: %s", out->index, sg_error_last());
	/* Only a chain that does not verify is a verdict; anything else stays what it is. */
	if (!error && (error = sg_cert_verify_chain_trust(leaf, p7->d.sign->cert, o->trust,
							  out->timestamped ? out->timestamp : 0)) ==
			      SG_ERR_VERIFY)
		error = reject(out, "signature %d: %s", out->index, sg_error_last());
	if (!error && o->pin_sha256 && strcmp(o->pin_sha256, out->signer.sha256) != 0)
		error = reject(out,
			       "signature %d is by certificate %s (SHA-1 %s), not the configured "
			       "signing certificate",
			       out->index, out->signer.subject, out->signer.sha1_thumbprint);
	sk_X509_free(signers);
	return error;
}

/*
 * Every nested-signature value of `si` must be a SignedData with one
 * signer, as osslsigncode requires to count it: signgate and osslsigncode
 * then number the signatures alike (an "-index N" names one signature in
 * both). The number of values, or -1 with the message set.
 */
static int count_nested(const PKCS7_SIGNER_INFO *si)
{
	int n = 0;

	for (int i = 0; i < sk_X509_ATTRIBUTE_num(si->unauth_attr); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(si->unauth_attr, i);
		if (!is_oid(X509_ATTRIBUTE_get0_object(a), OID_NESTED_SIGNATURE))
			continue;
		for (int j = 0; j < X509_ATTRIBUTE_count(a); j++) {
			PKCS7 *p7 = pkcs7_from_type(X509_ATTRIBUTE_get0_type(a, j));
			int ok = only_signer(p7) != NULL;

			PKCS7_free(p7);
			n++;
			if (!ok) {
				sg_error_set(SG_ERR_VERIFY,
					     "nested signature %d is no SignedData with one signer",
					     n);
				return -1;
			}
		}
	}
	return n;
}

int sg_authenticode_count(int *count, unsigned char *primary, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	PKCS7 *p7 = len <= LONG_MAX ? d2i_PKCS7(NULL, &p, (long)len) : NULL;
	PKCS7_SIGNER_INFO *si = only_signer(p7);
	int n = si ? count_nested(si) : 0, error = SG_OK;

	*count = 0;
	if (!si)
		error = sg_error_set(SG_ERR_VERIFY, "the signature is no SignedData with one signer");
	else if (n < 0)
		error = SG_ERR_VERIFY;
	else if (primary && EVP_Digest(si->enc_digest->data, (size_t)si->enc_digest->length,
				       primary, NULL, EVP_sha256(), NULL) != 1)
		error = sg_error_set(SG_ERR_CRYPTO, "SHA-256 of the signature value failed");
	else
		*count = n + 1;
	PKCS7_free(p7);
	ERR_clear_error();
	return error;
}

int sg_authenticode_count_file(int *count, unsigned char *primary, int fd,
			       const sg_format_info *info, const char *name)
{
	unsigned char *got = NULL;
	size_t len = 0, skip = 0, der_len = 0;
	int error;

	*count = 0;
	if (primary)
		memset(primary, 0, 32);
	if (!info->has_signature)
		return SG_OK;
	error = sg_format_signature_read(&got, &len, &skip, &der_len, fd, info,
					 SG_SIG_CONTAINER_MAX, name);
	if (!error && der_len == 0)
		error = sg_error_set(SG_ERR_VERIFY, "%s: its signature is empty", name);
	/* Prefixed in place: a message must never be formatted from its own buffer. */
	if (!error && sg_authenticode_count(count, primary, got + skip, len - skip) != SG_OK)
		error = sg_error_prefix("%s", name);
	free(got);
	return error;
}

/*
 * A container that claims a signature which is none of this file's: the
 * reason `why` (without the file's name), the file denied as malformed.
 */
static int not_signed_here(const sg_format_info *info, const char *name, const char *why)
{
	/* The reason may be quoted from the last message, which this one replaces. */
	char *copy = strdup(sg_message_without_name(why, name));
	int error;

	if (!copy)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = sg_error_set(SG_ERR_FORMAT,
			     "%s: its %s claims a signature signgate cannot read (%s): it is "
			     "neither signed nor unsigned, so it is denied whatever the "
			     "approval's existing_signature says",
			     name, sg_format_container_name(info->kind), copy);
	free(copy);
	return error;
}

/*
 * The primary signature `der` must sign this file: its content is
 * SpcIndirectData of the file's format (type, SIP GUID), bound to the
 * signed attributes (contentType, messageDigest), and the SHA-256 file
 * digest in it is signgate's own Authenticode digest of the file. No trust
 * is asked: a signature over another file, another format or nothing is
 * told apart from a real one by the file alone.
 */
static int primary_signs_file(const sg_format_info *info, int fd, const char *name,
			      const unsigned char *der, size_t len)
{
	sg_authenticode_result r = { 0 };
	unsigned char md[SG_FORMAT_DIGEST_MAX];
	char own[2 * SG_FORMAT_DIGEST_MAX + 1];
	const unsigned char *p = der;
	size_t md_len = 0;
	PKCS7 *p7;
	int count = 0, error;

	error = sg_authenticode_count(&count, NULL, der, len);
	if (error)
		return error == SG_ERR_VERIFY ? not_signed_here(info, name, sg_error_last()) : error;
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	error = p7 ? check_content(&r, p7, only_signer(p7), sg_format_spc_kind(info->kind))
		   : reject(&r, "the signature is no SignedData with one signer");
	PKCS7_free(p7);
	ERR_clear_error();
	if (error)
		return not_signed_here(info, name, r.reason);
	error = sg_format_digest(md, &md_len, fd, info, SG_FORMAT_DIGEST_FILE, name);
	/* The file's own defect (an MSI's wrong pre-hash): what its signature cannot cover. */
	if (error == SG_ERR_VERIFY || error == SG_ERR_FORMAT)
		return not_signed_here(info, name, sg_error_last());
	if (error)
		return error;
	sg_hex_encode_upper(own, md, md_len);
	if (md_len == SG_SHA256_LEN && strcmp(own, r.file_digest) == 0)
		return SG_OK;
	snprintf(r.reason, sizeof(r.reason),
		 "it signs the file digest %s, and the file's own Authenticode digest is %s: the "
		 "file is not what its signature covers",
		 r.file_digest, own);
	return not_signed_here(info, name, r.reason);
}

/*
 * The one check of "signed by the vendor" (README, "Signed by the vendor:
 * what counts"), for sign, check and policy approve alike.
 */
int sg_authenticode_readable(const sg_format_info *info, int fd, const char *name)
{
	unsigned char *got = NULL;
	size_t len = 0, skip = 0, der_len = 0;
	char *why;
	int error;

	if (!info->has_signature)
		return SG_OK;
	error = sg_format_signature_read(&got, &len, &skip, &der_len, fd, info,
					 SG_SIG_CONTAINER_MAX, name);
	if (error == SG_ERR_FORMAT) {
		/* The container itself is broken: its own reason, not one about a signature. */
		why = strdup(sg_message_without_name(sg_error_last(), name));
		error = why ? sg_error_set(SG_ERR_FORMAT,
					   "%s: its %s cannot be read as its format requires (%s), "
					   "so it is denied whatever the approval's "
					   "existing_signature says",
					   name, sg_format_container_name(info->kind), why)
			    : sg_error_set(SG_ERR_NOMEM, "out of memory");
		free(why);
	} else if (!error && der_len == 0) {
		error = not_signed_here(info, name, "its signature is empty");
	} else if (!error) {
		error = primary_signs_file(info, fd, name, got + skip, len - skip);
	}
	free(got);
	return error;
}

/*
 * Signature `index` (-1: the last) of `primary`, counting nested ones;
 * `*raw` is a nested one's DER as stored in the primary (NULL for the primary).
 */
static PKCS7 *select_signature(sg_authenticode_result *out, PKCS7 *primary, int index,
			       const ASN1_STRING **raw)
{
	PKCS7_SIGNER_INFO *si = only_signer(primary);
	ASN1_TYPE *nested[MAX_SIGNATURES];
	int n = si ? unauth_values(si, OID_NESTED_SIGNATURE, nested, MAX_SIGNATURES) : 0;

	out->n_signatures = si ? n + 1 : 0;
	out->index = index < 0 ? n : index;
	/* More than we can count would make "the last one" ambiguous: refuse. */
	*raw = NULL;
	if (!si || n >= MAX_SIGNATURES || out->index > n)
		return NULL;
	if (out->index == 0)
		return primary;
	if (nested[out->index - 1]->type == V_ASN1_SEQUENCE)
		*raw = nested[out->index - 1]->value.sequence;
	return pkcs7_from_type(nested[out->index - 1]);
}

/* The bytes of the checked signature against the DER signgate attached. */
static int same_der(sg_authenticode_result *out, const unsigned char *got, size_t got_len,
		    const sg_authenticode_opts *o)
{
	size_t n = got_len < o->expect_der_len ? got_len : o->expect_der_len, at = 0;

	while (at < n && got[at] == o->expect_der[at])
		at++;
	if (at == n && got_len == o->expect_der_len)
		return SG_OK;
	return reject(out,
		      "signature %d is not the signature signgate attached: its %zu bytes differ "
		      "from the attached %zu bytes from byte %zu on",
		      out->index, got_len, o->expect_der_len, at);
}

/* With opts->expect_der: signature out->index must be those bytes (see authenticode.h). */
static int check_exact_der(sg_authenticode_result *out, const sg_authenticode_opts *o,
			   const char *sig_path, const ASN1_STRING *raw)
{
	unsigned char *file = NULL;
	size_t len = 0;
	int error;

	if (!o->expect_der)
		return SG_OK;
	if (out->index != 0)
		return raw ? same_der(out, raw->data, (size_t)raw->length, o)
			   : reject(out, "signature %d is not stored as DER", out->index);
	error = sg_read_file(&file, &len, sig_path, MAX_SIGNATURE_FILE, "the extracted signature",
			     0);
	if (error == SG_ERR_FORMAT)
		error = reject(out, "signature 0 is larger than %u bytes", MAX_SIGNATURE_FILE);
	else if (!error)
		error = same_der(out, file, len, o);
	free(file);
	return error;
}

/* sg_authenticode_check() with `opts->trust` set. */
static int check_with_trust(sg_authenticode_result *out, const sg_authenticode_opts *opts,
			    const char *sig_path);

int sg_authenticode_check(sg_authenticode_result *out, const sg_authenticode_opts *opts,
			  const char *sig_path)
{
	sg_trust_files files = { opts->ca_file, opts->tsa_ca_file, opts->crl_file, 1 };
	sg_authenticode_opts o = *opts;
	sg_trust *own = NULL;
	int error;

	if (opts->trust)
		return check_with_trust(out, opts, sig_path);
	memset(out, 0, sizeof(*out));
	if ((error = sg_trust_load(&own, &files)) != SG_OK)
		return error;
	o.trust = own;
	error = check_with_trust(out, &o, sig_path);
	sg_trust_free(own);
	return error;
}

static int check_with_trust(sg_authenticode_result *out, const sg_authenticode_opts *opts,
			    const char *sig_path)
{
	const ASN1_STRING *raw = NULL;
	BIO *bio = BIO_new_file(sig_path, "rb");
	PKCS7 *primary = bio ? d2i_PKCS7_bio(bio, NULL) : NULL, *p7 = NULL;
	PKCS7_SIGNER_INFO *si;
	int error;

	memset(out, 0, sizeof(*out));
	if (!bio) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_IO, "%s: cannot open the extracted signature", sig_path);
	}
	BIO_free(bio);
	if (!primary)
		error = reject(out, "the embedded signature is not DER PKCS#7");
	else if (!(p7 = select_signature(out, primary, opts->index, &raw)))
		error = out->n_signatures > MAX_SIGNATURES
				? reject(out, "more than %d nested signatures", MAX_SIGNATURES - 1)
				: reject(out, "no signature with index %d (%d present)",
					 opts->index, out->n_signatures);
	else if (!(si = only_signer(p7)))
		error = reject(out, "signature %d is not a single-signer PKCS#7 SignedData",
			       out->index);
	else if ((error = check_exact_der(out, opts, sig_path, raw)) == SG_OK)
		error = check_signer(out, opts, p7, si);
	if (p7 != primary)
		PKCS7_free(p7);
	PKCS7_free(primary);
	ERR_clear_error();
	return error;
}

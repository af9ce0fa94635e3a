/*
 * Authenticode PKCS#7 from a digest; see include/signgate/authenticode_sign.h.
 *
 * The small DER structures (SpcIndirectDataContent, SpcSpOpusInfo,
 * SpcStatementType) are written here by hand, from their definitions in
 * Microsoft's Authenticode specification; OpenSSL builds the SignedData.
 */
#include "signgate/authenticode_sign.h"
#include "signgate/error.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>

#define OID_SPC_INDIRECT_DATA  "1.3.6.1.4.1.311.2.1.4"
#define OID_SPC_STATEMENT_TYPE "1.3.6.1.4.1.311.2.1.11"
#define OID_SPC_SP_OPUS_INFO   "1.3.6.1.4.1.311.2.1.12"
#define OID_SPC_PE_IMAGE_DATA  "1.3.6.1.4.1.311.2.1.15"
#define OID_SPC_INDIVIDUAL     "1.3.6.1.4.1.311.2.1.21"
#define OID_SPC_SIPINFO        "1.3.6.1.4.1.311.2.1.30"
#define OID_SPC_CAB_DATA       "1.3.6.1.4.1.311.2.1.25"

/* A DER buffer, written front to back; `bad` once anything did not fit. */
struct der {
	unsigned char data[2 * SG_AUTHENTICODE_TEXT_MAX + 256];
	size_t len;
	int bad;
};

static void der_put(struct der *b, const void *data, size_t len)
{
	if (b->bad || len > sizeof(b->data) - b->len) {
		b->bad = 1;
		return;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

/* Tag, DER length (contents are under 64 KiB here) and contents. */
static void der_tlv(struct der *b, unsigned char tag, const void *content, size_t len)
{
	unsigned char hdr[4] = { tag };
	size_t n = 2;

	if (len < 0x80) {
		hdr[1] = (unsigned char)len;
	} else if (len < 0x100) {
		hdr[1] = 0x81;
		hdr[2] = (unsigned char)len;
		n = 3;
	} else if (len < 0x10000) {
		hdr[1] = 0x82;
		hdr[2] = (unsigned char)(len >> 8);
		hdr[3] = (unsigned char)len;
		n = 4;
	} else {
		b->bad = 1;
		return;
	}
	der_put(b, hdr, n);
	der_put(b, content, len);
}

/* Wrap what `inner` holds in `tag` and append it to `b`. */
static void der_wrap(struct der *b, unsigned char tag, const struct der *inner)
{
	if (inner->bad)
		b->bad = 1;
	der_tlv(b, tag, inner->data, inner->len);
}

static void der_oid(struct der *b, const char *oid_text, int nid)
{
	ASN1_OBJECT *obj = oid_text ? OBJ_txt2obj(oid_text, 1) : OBJ_nid2obj(nid);
	unsigned char buf[64], *p = buf;
	int n = obj ? i2d_ASN1_OBJECT(obj, NULL) : -1;

	if (n <= 0 || n > (int)sizeof(buf) || i2d_ASN1_OBJECT(obj, &p) != n)
		b->bad = 1;
	else
		der_put(b, buf, (size_t)n);
	if (oid_text)
		ASN1_OBJECT_free(obj);
}

/* A DER INTEGER of `v` (unsigned, shortest form). */
static void der_uint(struct der *b, unsigned long v)
{
	unsigned char buf[sizeof(v) + 1];
	size_t n = sizeof(buf);

	do {
		buf[--n] = (unsigned char)(v & 0xff);
		v >>= 8;
	} while (v && n > 1);
	if (buf[n] & 0x80)
		buf[--n] = 0;
	der_tlv(b, 0x02, buf + n, sizeof(buf) - n);
}

/*
 * SpcLink file [2] EXPLICIT SpcString unicode [0] IMPLICIT "<<<Obsolete>>>":
 * inside a PE's SpcPeImageData, and the whole value of a cabinet's
 * SpcCabData (as osslsigncode's cab.c builds it).
 */
static void obsolete_link(struct der *out, const sg_spc_content *c)
{
	static const char obsolete[] = "<<<Obsolete>>>";
	unsigned char bmp[2 * (sizeof(obsolete) - 1)];
	struct der s = { .len = 0 };

	(void)c;
	for (size_t i = 0; i + 1 < sizeof(obsolete); i++) {
		bmp[2 * i] = 0;
		bmp[2 * i + 1] = (unsigned char)obsolete[i];
	}
	der_tlv(&s, 0x80, bmp, sizeof(bmp));
	der_wrap(out, 0xa2, &s);
}

/* SpcPeImageData: flags {includeResources} and file [0] SpcLink file [2] "<<<Obsolete>>>". */
static void pe_image_data(struct der *out, const sg_spc_content *c)
{
	static const unsigned char flags[] = { 0x03, 0x02, 0x07, 0x80 };
	struct der link = { .len = 0 }, file = { .len = 0 }, pid = { .len = 0 };

	obsolete_link(&link, c);
	der_wrap(&file, 0xa0, &link); /* SpcPeImageData file [0] EXPLICIT */
	der_put(&pid, flags, sizeof(flags));
	der_put(&pid, file.data, file.len);
	if (file.bad)
		pid.bad = 1;
	der_wrap(out, 0x30, &pid);
}

/* SpcSipInfo: the row's version, its SIP's GUID, its five integers. */
static void sip_info(struct der *out, const sg_spc_content *c)
{
	struct der sip = { .len = 0 };

	der_uint(&sip, c->sip_version);
	der_tlv(&sip, 0x04, c->sip_guid, sizeof(c->sip_guid));
	for (size_t i = 0; i < sizeof(c->sip_ints) / sizeof(c->sip_ints[0]); i++)
		der_uint(&sip, c->sip_ints[i]);
	der_wrap(out, 0x30, &sip);
}

/*
 * One builder per ASN.1 shape of signed content; what a format signs is
 * data in its row (sg_format_content()), so a new format with SpcSipInfo
 * needs nothing here. `value` builds the content after the type OID.
 */
static const struct shape_ops {
	sg_spc_shape shape;
	const char *data_oid;
	void (*value)(struct der *out, const sg_spc_content *c);
} shapes[] = {
	{ SG_SPC_PE_IMAGE_DATA, OID_SPC_PE_IMAGE_DATA, pe_image_data },
	{ SG_SPC_SIP_INFO, OID_SPC_SIPINFO, sip_info },
	{ SG_SPC_CAB_DATA, OID_SPC_CAB_DATA, obsolete_link },
};

static const struct md_row {
	int nid;
	size_t len;
} mds[] = {
	{ NID_sha256, 32 },
};

/* The shape builder of `kind`'s content, with the content in `*c`; NULL when unknown. */
static const struct shape_ops *find_kind(int kind, const sg_spc_content **c)
{
	*c = sg_format_content(kind);
	for (size_t i = 0; *c && i < sizeof(shapes) / sizeof(shapes[0]); i++)
		if (shapes[i].shape == (*c)->shape)
			return &shapes[i];
	return NULL;
}

size_t sg_authenticode_md_len(int md_nid)
{
	for (size_t i = 0; i < sizeof(mds) / sizeof(mds[0]); i++)
		if (mds[i].nid == md_nid)
			return mds[i].len;
	return 0;
}

const char *sg_authenticode_kind_name(int kind)
{
	const sg_spc_content *c;

	return find_kind(kind, &c) ? c->name : NULL;
}

int sg_authenticode_kind_content(int kind, const char **data_oid, const unsigned char **sip_guid,
				 const char **what)
{
	const sg_spc_content *c;
	const struct shape_ops *k = find_kind(kind, &c);

	if (!k)
		return -1;
	*data_oid = k->data_oid;
	*sip_guid = c->shape == SG_SPC_SIP_INFO ? c->sip_guid : NULL;
	*what = c->what;
	return 0;
}

/* SpcIndirectDataContent: SEQUENCE { SEQUENCE { type, value }, DigestInfo }. */
static void indirect_data(struct der *out, const struct shape_ops *k, const sg_spc_content *c,
			  const sg_authenticode_sign_req *req)
{
	static const unsigned char null[] = { 0x05, 0x00 };
	struct der value = { .len = 0 }, data = { .len = 0 }, alg = { .len = 0 },
		   dinfo = { .len = 0 }, idc = { .len = 0 };

	k->value(&value, c);
	der_oid(&data, k->data_oid, 0);
	der_put(&data, value.data, value.len);
	data.bad |= value.bad;
	der_oid(&alg, NULL, req->md_nid);
	der_put(&alg, null, sizeof(null));
	der_wrap(&dinfo, 0x30, &alg);
	der_tlv(&dinfo, 0x04, req->digest, req->digest_len);
	der_wrap(&idc, 0x30, &data);
	der_wrap(&idc, 0x30, &dinfo);
	der_wrap(out, 0x30, &idc);
}

/* SpcSpOpusInfo: programName [0] SpcString ascii [1]; moreInfo [1] SpcLink url [0]. */
static void opus_info(struct der *out, const char *description, const char *url)
{
	struct der s = { .len = 0 }, opus = { .len = 0 };

	if (description) {
		der_tlv(&s, 0x81, description, strlen(description));
		der_wrap(&opus, 0xa0, &s);
	}
	if (url) {
		s.len = 0;
		der_tlv(&s, 0x80, url, strlen(url));
		der_wrap(&opus, 0xa1, &s);
	}
	der_wrap(out, 0x30, &opus);
}

static int text_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (s[n] < 0x20 || s[n] > 0x7e || n >= SG_AUTHENTICODE_TEXT_MAX - 1)
			return 0;
	return n > 0;
}

static int check_request(const sg_authenticode_sign_req *req)
{
	size_t want = req ? sg_authenticode_md_len(req->md_nid) : 0;
	const sg_spc_content *c;

	if (!req)
		return sg_error_set(SG_ERR_USAGE, "authenticode signing: no request");
	if (!find_kind(req->kind, &c))
		return sg_error_set(SG_ERR_USAGE, "authenticode signing: unknown content kind %d",
				    (int)req->kind);
	if (!want)
		return sg_error_set(SG_ERR_USAGE,
				    "authenticode signing: unsupported digest algorithm %s "
				    "(SHA-256 only)",
				    OBJ_nid2sn(req->md_nid) ? OBJ_nid2sn(req->md_nid)
							    : "(unknown)");
	if (!req->digest || req->digest_len != want)
		return sg_error_set(
			SG_ERR_USAGE,
			"authenticode signing: the %s digest must be %zu bytes, not %zu",
			OBJ_nid2sn(req->md_nid), want, req->digest ? req->digest_len : 0);
	if (!req->key || !req->cert)
		return sg_error_set(SG_ERR_USAGE, "authenticode signing: no %s",
				    req->key ? "certificate" : "key");
	if (req->description && !text_ok(req->description))
		return sg_error_set(SG_ERR_USAGE, "authenticode signing: the description must be "
						  "1 to 1023 printable ASCII characters");
	if (req->url && (!text_ok(req->url) || (strncmp(req->url, "https://", 8) != 0 &&
						strncmp(req->url, "http://", 7) != 0)))
		return sg_error_set(SG_ERR_USAGE, "authenticode signing: the URL must be an "
						  "http:// or https:// URL of printable ASCII");
	return SG_OK;
}

static int crypto_error(const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;

	sg_error_set(SG_ERR_CRYPTO, "authenticode signing: %s: %s", what,
		     why ? why : "OpenSSL failed");
	ERR_clear_error();
	return SG_ERR_CRYPTO;
}

/* The content: type SpcIndirectData, value the DER SEQUENCE `idc`. */
static int set_content(PKCS7 *p7, const struct der *idc)
{
	PKCS7 *inner = PKCS7_new();
	ASN1_STRING *seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE);

	if (!inner || !seq || !(inner->type = OBJ_txt2obj(OID_SPC_INDIRECT_DATA, 1)) ||
	    !(inner->d.other = ASN1_TYPE_new()) ||
	    !ASN1_STRING_set(seq, idc->data, (int)idc->len)) {
		ASN1_STRING_free(seq);
		PKCS7_free(inner);
		return 0;
	}
	ASN1_TYPE_set(inner->d.other, V_ASN1_SEQUENCE, seq);
	if (!PKCS7_content_new(p7, NID_pkcs7_data) || !PKCS7_set_content(p7, inner)) {
		PKCS7_free(inner);
		return 0;
	}
	return 1;
}

/* The four signed attributes; messageDigest covers the content without its header. */
static int add_attributes(PKCS7_SIGNER_INFO *si, const sg_authenticode_sign_req *req,
			  const struct der *idc)
{
	struct der opus = { .len = 0 }, stmt = { .len = 0 }, ind = { .len = 0 };
	const unsigned char *p = idc->data;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	long len;
	int tag, cls, ok;
	ASN1_OBJECT *ctype = OBJ_txt2obj(OID_SPC_INDIRECT_DATA, 1);
	ASN1_OBJECT *o_opus = OBJ_txt2obj(OID_SPC_SP_OPUS_INFO, 1);
	ASN1_OBJECT *o_stmt = OBJ_txt2obj(OID_SPC_STATEMENT_TYPE, 1);

	opus_info(&opus, req->description, req->url);
	der_oid(&ind, OID_SPC_INDIVIDUAL, 0);
	der_wrap(&stmt, 0x30, &ind);
	ok = ctype && o_opus && o_stmt && !opus.bad && !stmt.bad &&
	     !(ASN1_get_object(&p, &len, &tag, &cls, (long)idc->len) & 0x80) &&
	     EVP_Digest(p, (size_t)len, md, &md_len, EVP_get_digestbynid(req->md_nid), NULL);
	ok = ok &&
	     X509at_add1_attr_by_NID(&si->auth_attr, NID_pkcs9_contentType, V_ASN1_OBJECT,
				     (const unsigned char *)ctype, -1) &&
	     X509at_add1_attr_by_OBJ(&si->auth_attr, o_opus, V_ASN1_SEQUENCE, opus.data,
				     (int)opus.len) &&
	     X509at_add1_attr_by_OBJ(&si->auth_attr, o_stmt, V_ASN1_SEQUENCE, stmt.data,
				     (int)stmt.len) &&
	     X509at_add1_attr_by_NID(&si->auth_attr, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING,
				     md, (int)md_len);
	ASN1_OBJECT_free(ctype);
	ASN1_OBJECT_free(o_opus);
	ASN1_OBJECT_free(o_stmt);
	return ok;
}

/* The signer first, then the chain without another copy of the signer. */
static int add_certificates(PKCS7 *p7, const sg_authenticode_sign_req *req)
{
	if (!PKCS7_add_certificate(p7, req->cert))
		return 0;
	for (int i = 0; i < sk_X509_num(req->chain); i++) {
		X509 *x = sk_X509_value(req->chain, i);
		if (X509_cmp(x, req->cert) != 0 && !PKCS7_add_certificate(p7, x))
			return 0;
	}
	return 1;
}

/*
 * The signature over the signed attributes must verify with the
 * certificate: a token or key that signs wrongly is caught here, before
 * anything leaves.
 */
static int verify_own(PKCS7_SIGNER_INFO *si, X509 *cert, int md_nid)
{
	unsigned char *abuf = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int alen = ASN1_item_i2d((ASN1_VALUE *)si->auth_attr, &abuf,
				 ASN1_ITEM_rptr(PKCS7_ATTR_VERIFY));
	int ok = alen > 0 && ctx &&
		 EVP_DigestVerifyInit(ctx, NULL, EVP_get_digestbynid(md_nid), NULL,
				      X509_get0_pubkey(cert)) == 1 &&
		 EVP_DigestVerify(ctx, si->enc_digest->data, (size_t)si->enc_digest->length, abuf,
				  (size_t)alen) == 1;

	EVP_MD_CTX_free(ctx);
	OPENSSL_free(abuf);
	return ok;
}

/* Build and sign the SignedData into `p7`; returns SG_OK or sets the error. */
static int build(PKCS7 *p7, const sg_authenticode_sign_req *req)
{
	const sg_spc_content *c;
	const struct shape_ops *k = find_kind(req->kind, &c);
	struct der idc = { .len = 0 };
	PKCS7_SIGNER_INFO *si;

	indirect_data(&idc, k, c, req);
	if (idc.bad)
		return sg_error_set(SG_ERR_USAGE,
				    "authenticode signing: the %s content is too long", c->name);
	if (!PKCS7_set_type(p7, NID_pkcs7_signed) || !set_content(p7, &idc))
		return crypto_error("cannot build the SignedData");
	si = PKCS7_add_signature(p7, req->cert, req->key, EVP_get_digestbynid(req->md_nid));
	if (!si)
		return crypto_error("cannot add the signer");
	if (!add_attributes(si, req, &idc))
		return crypto_error("cannot add the signed attributes");
	if (!add_certificates(p7, req))
		return crypto_error("cannot add the certificates");
	if (PKCS7_SIGNER_INFO_sign(si) != 1)
		return crypto_error("the key did not sign");
	if (!verify_own(si, req->cert, req->md_nid))
		return crypto_error("the signature made does not verify with the certificate");
	return SG_OK;
}

int sg_authenticode_sign(unsigned char **out_der, size_t *out_len,
			 const sg_authenticode_sign_req *req)
{
	PKCS7 *p7 = NULL;
	unsigned char *der = NULL;
	int n = 0, error;

	*out_der = NULL;
	*out_len = 0;
	error = check_request(req);
	if (error)
		return error;
	if (X509_check_private_key(req->cert, req->key) != 1) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_CRYPTO,
				    "authenticode signing: the key does not match the signer "
				    "certificate");
	}
	p7 = PKCS7_new();
	if (!p7)
		return sg_error_set(SG_ERR_NOMEM, "authenticode signing: out of memory");
	error = build(p7, req);
	if (!error && (n = i2d_PKCS7(p7, &der)) <= 0)
		error = crypto_error("cannot encode the SignedData");
	if (!error) {
		*out_der = der;
		*out_len = (size_t)n;
	}
	PKCS7_free(p7);
	ERR_clear_error();
	return error;
}

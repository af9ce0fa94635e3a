/*
 * RFC 3161 timestamps asked by signgate itself; see
 * include/signgate/timestamp.h.
 *
 * The request is made and its answer judged here with OpenSSL's TS API;
 * it is carried to the TSA by lib/tsa_http.c, in this process
 * (sg_timestamp_add) or in the confined timestamp fetcher
 * (sg_timestamp_add_fetched, lib/tsa_proc.c). The answer must be for this request (imprint and
 * nonce), or a TSA (or anything between) could hand back a token made for
 * some other signature, which would only fail much later, in verification,
 * where no other TSA can be tried any more.
 */
#include "timestamp.h"
#include "signgate/error.h"
#include "signgate/tsa_proc.h"
#include "timestamp_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#define OID_RFC3161_TIMESTAMP "1.3.6.1.4.1.311.3.3.1"
#define TS_NONCE_LEN          8
#define TS_IMPRINT_LEN        32 /* SHA-256 */

/* What one request asked for, to hold the answer against. */
struct ts_ask {
	unsigned char imprint[TS_IMPRINT_LEN];
	ASN1_INTEGER *nonce;
	TS_REQ *req;
};

/*
 * The signature to timestamp: DER (it must encode back to the same bytes,
 * so that the output differs from it by the token alone), SignedData with
 * one SignerInfo that has a signature value and no unsigned attribute.
 */
static int load_signature(PKCS7 **out, const unsigned char *der, size_t len, const char *url)
{
	const unsigned char *p = der;
	PKCS7 *p7 = len <= (size_t)LONG_MAX ? d2i_PKCS7(NULL, &p, (long)len) : NULL;
	STACK_OF(PKCS7_SIGNER_INFO) *sis =
		p7 && PKCS7_type_is_signed(p7) ? PKCS7_get_signer_info(p7) : NULL;
	PKCS7_SIGNER_INFO *si =
		sk_PKCS7_SIGNER_INFO_num(sis) == 1 ? sk_PKCS7_SIGNER_INFO_value(sis, 0) : NULL;
	unsigned char *again = NULL;
	const char *why = NULL;
	int again_len;

	if (!p7 || p != der + len)
		why = "it is not one DER PKCS#7";
	else if (!sis)
		why = "it is not a PKCS#7 SignedData";
	else if (!si)
		why = "it does not have exactly one SignerInfo";
	else if (!si->enc_digest || si->enc_digest->length <= 0)
		why = "its SignerInfo has no signature value";
	else if (sk_X509_ATTRIBUTE_num(si->unauth_attr) > 0)
		why = "its SignerInfo already has an unsigned attribute";
	else if ((again_len = i2d_PKCS7(p7, &again)) < 0 || (size_t)again_len != len ||
		 memcmp(again, der, len) != 0)
		why = "it is not in DER (it does not encode back to the same bytes)";
	OPENSSL_free(again);
	ERR_clear_error();
	if (why) {
		PKCS7_free(p7);
		return sg_error_set(SG_ERR_USAGE, "%s: the signature cannot be timestamped: %s",
				    url, why);
	}
	*out = p7;
	return SG_OK;
}

static PKCS7_SIGNER_INFO *the_signer(PKCS7 *p7)
{
	return sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
}

/* A random positive 64-bit nonce. */
static ASN1_INTEGER *random_nonce(void)
{
	unsigned char buf[TS_NONCE_LEN];
	BIGNUM *bn = RAND_bytes(buf, sizeof(buf)) == 1 ? BN_bin2bn(buf, sizeof(buf), NULL) : NULL;
	ASN1_INTEGER *nonce = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;

	BN_free(bn);
	return nonce;
}

/* The TimeStampReq over `si`'s signature value: SHA-256, a nonce, certReq. */
static int make_request(struct ts_ask *ask, PKCS7_SIGNER_INFO *si)
{
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	int ok;

	ok = mi && alg &&
	     EVP_Digest(si->enc_digest->data, (size_t)si->enc_digest->length, ask->imprint, NULL,
			EVP_sha256(), NULL) &&
	     X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) &&
	     TS_MSG_IMPRINT_set_algo(mi, alg) &&
	     TS_MSG_IMPRINT_set_msg(mi, ask->imprint, sizeof(ask->imprint)) &&
	     (ask->nonce = random_nonce()) != NULL && (ask->req = TS_REQ_new()) != NULL &&
	     TS_REQ_set_version(ask->req, 1) && TS_REQ_set_msg_imprint(ask->req, mi) &&
	     TS_REQ_set_nonce(ask->req, ask->nonce) && TS_REQ_set_cert_req(ask->req, 1);
	TS_MSG_IMPRINT_free(mi);
	X509_ALGOR_free(alg);
	if (ok)
		return SG_OK;
	ERR_clear_error();
	return sg_error_set(SG_ERR_CRYPTO, "cannot build the timestamp request");
}

static const char *status_name(long status)
{
	static const char *const names[] = { "granted",           "grantedWithMods",
					     "rejection",         "waiting",
					     "revocationWarning", "revocationNotification" };

	return status >= 0 && status < 6 ? names[status] : "an unknown status";
}

/* The TSA's refusal as text: status, failure bits and its own words. */
static int refused(const char *url, const TS_STATUS_INFO *si, long status)
{
	static const struct {
		int bit;
		const char *name;
	} fails[] = { { 0, "badAlg" },
		      { 2, "badRequest" },
		      { 5, "badDataFormat" },
		      { 14, "timeNotAvailable" },
		      { 15, "unacceptedPolicy" },
		      { 16, "unacceptedExtension" },
		      { 17, "addInfoNotAvailable" },
		      { 25, "systemFailure" } };
	const ASN1_BIT_STRING *bits = TS_STATUS_INFO_get0_failure_info(si);
	const STACK_OF(ASN1_UTF8STRING) *text = TS_STATUS_INFO_get0_text(si);
	/* The failure names (under 200 bytes) and the TSA's texts, each at most SG_TS_TEXT_MAX. */
	char what[SG_ERROR_MAX] = "", safe[SG_TS_TEXT_MAX + 1];
	size_t n = 0;

	for (size_t i = 0; bits && i < sizeof(fails) / sizeof(fails[0]); i++)
		if (ASN1_BIT_STRING_get_bit(bits, fails[i].bit))
			n += (size_t)snprintf(what + n, sizeof(what) - n, " %s", fails[i].name);
	for (int i = 0; i < sk_ASN1_UTF8STRING_num(text) && n < sizeof(what); i++) {
		const ASN1_UTF8STRING *s = sk_ASN1_UTF8STRING_value(text, i);
		sg_ts_printable(safe, sizeof(safe), ASN1_STRING_get0_data(s),
				(size_t)ASN1_STRING_length(s));
		n += (size_t)snprintf(what + n, sizeof(what) - n, " \"%s\"", safe);
	}
	return sg_error_set(SG_ERR_TOOL, "%s: the TSA refused the request: status %ld (%s)%s", url,
			    status, status_name(status), what);
}

/* Whether `c` is the certificate that signed `d` (names and key, and the signature checked). */
static int signed_by(X509 *d, X509 *c)
{
	EVP_PKEY *key = X509_get0_pubkey(c);
	int ok = X509_check_issued(c, d) == X509_V_OK && key && X509_verify(d, key) == 1;

	ERR_clear_error();
	return ok;
}

/*
 * A token carries nothing the TSA's signature does not cover beyond what checking it
 * needs: one SignerInfo without unsigned attributes, no CRL, a short chain in which every
 * certificate but the TSA's own signed another one of them and at most one (its top)
 * is signed by none of them, and at most SG_TS_TOKEN_MAX bytes. Anything else could
 * carry a third party's bytes into the file we sign (a man in the middle of plain HTTP).
 */
static int token_is_minimal(const char *url, PKCS7 *token)
{
	STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(token);
	PKCS7_SIGNER_INFO *si =
		sk_PKCS7_SIGNER_INFO_num(sis) == 1 ? sk_PKCS7_SIGNER_INFO_value(sis, 0) : NULL;
	STACK_OF(X509) *certs = token->d.sign->cert;
	int n = sk_X509_num(certs), len = i2d_PKCS7(token, NULL), tops = 0;
	const char *why = NULL;

	ERR_clear_error();
	if (!si || sk_X509_ATTRIBUTE_num(si->unauth_attr) > 0)
		why = "has unsigned attributes or more than one signer";
	else if (sk_X509_CRL_num(token->d.sign->crl) > 0)
		why = "carries CRLs";
	else if (n > SG_TS_CERTS_MAX)
		why = "carries more certificates than a TSA's chain";
	else if (len <= 0 || len > SG_TS_TOKEN_MAX)
		why = "is larger than a token can sensibly be";
	for (int i = 0; !why && i < n; i++) {
		X509 *c = sk_X509_value(certs, i);
		int issued = 0, issuer = 0;

		for (int j = 0; j < n; j++) {
			X509 *d = sk_X509_value(certs, j);

			issued |= j != i && signed_by(d, c);
			issuer |= signed_by(c, d);
		}
		tops += !issuer;
		if (!issued && X509_find_by_issuer_and_serial(certs, si->issuer_and_serial->issuer,
							      si->issuer_and_serial->serial) != c)
			why = "carries a certificate that is neither the TSA's nor in its chain";
	}
	if (!why && tops > 1)
		why = "carries certificates that no other one of them signed";
	if (why)
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the TSA's token %s: not accepted (only what the TSA "
				    "signed and its chain may go into the signed file)",
				    url, why);
	return SG_OK;
}

/* The reply must grant a token for exactly what `ask` asked. */
static int check_reply(const char *url, TS_RESP *resp, const struct ts_ask *ask)
{
	TS_STATUS_INFO *st = TS_RESP_get_status_info(resp);
	long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(st));
	TS_TST_INFO *tst = TS_RESP_get_tst_info(resp);
	PKCS7 *token = TS_RESP_get_token(resp);
	TS_MSG_IMPRINT *mi = tst ? TS_TST_INFO_get_msg_imprint(tst) : NULL;
	X509_ALGOR *alg = mi ? TS_MSG_IMPRINT_get_algo(mi) : NULL;
	ASN1_OCTET_STRING *md = mi ? TS_MSG_IMPRINT_get_msg(mi) : NULL;
	const ASN1_INTEGER *nonce = tst ? TS_TST_INFO_get_nonce(tst) : NULL;

	if (status != 0 && status != 1)
		return refused(url, st, status);
	if (!token || !tst || !PKCS7_type_is_signed(token))
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the TSA granted the request but sent no token", url);
	if (!alg || OBJ_obj2nid(alg->algorithm) != NID_sha256 || !md ||
	    ASN1_STRING_length(md) != TS_IMPRINT_LEN ||
	    memcmp(ASN1_STRING_get0_data(md), ask->imprint, TS_IMPRINT_LEN) != 0)
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the TSA's token is for another imprint than the "
				    "SHA-256 of this signature value",
				    url);
	if (!nonce || ASN1_INTEGER_cmp(nonce, ask->nonce) != 0)
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the TSA's token does not carry this request's nonce "
				    "(a replayed or misdirected answer)",
				    url);
	if (sk_X509_num(token->d.sign->cert) <= 0)
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the TSA's token carries no certificate although one "
				    "was asked for",
				    url);
	return token_is_minimal(url, token);
}

/* Add `token` as the unsigned attribute 1.3.6.1.4.1.311.3.3.1 of `si`. */
static int add_token(PKCS7_SIGNER_INFO *si, PKCS7 *token)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(OID_RFC3161_TIMESTAMP, 1);
	unsigned char *der = NULL;
	int len = i2d_PKCS7(token, &der), ok;

	ok = obj && len > 0 &&
	     X509at_add1_attr_by_OBJ(&si->unauth_attr, obj, V_ASN1_SEQUENCE, der, len) != NULL;
	ASN1_OBJECT_free(obj);
	OPENSSL_free(der);
	ERR_clear_error();
	return ok ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/* `p7` as DER in a buffer of malloc(). */
static int encode(unsigned char **out, size_t *out_len, PKCS7 *p7)
{
	unsigned char *der = NULL;
	int len = i2d_PKCS7(p7, &der);

	if (len <= 0 || !(*out = malloc((size_t)len))) {
		OPENSSL_free(der);
		ERR_clear_error();
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	memcpy(*out, der, (size_t)len);
	*out_len = (size_t)len;
	OPENSSL_free(der);
	return SG_OK;
}

/* Who carries the request to the TSA: this process, or the timestamp fetcher. */
struct ts_route {
	const char *url;
	sg_tsa *fetcher; /* NULL: this process asks `url` itself */
	size_t url_index;
	int timeout_sec;
};

static int carry(unsigned char **reply, size_t *reply_len, const struct ts_route *r,
		 const unsigned char *req, size_t req_len)
{
	if (r->fetcher)
		return sg_tsa_fetch(r->fetcher, r->url_index, req, req_len, r->timeout_sec, reply,
				    reply_len);
	return sg_ts_http_post(reply, reply_len, r->url, req, req_len, r->timeout_sec);
}

/* The request as DER, sent by `r`; the reply parsed. */
static int ask_tsa(TS_RESP **resp, const struct ts_route *r, TS_REQ *req)
{
	unsigned char *der = NULL, *reply = NULL;
	const unsigned char *p;
	int len = i2d_TS_REQ(req, &der), error;
	size_t reply_len = 0;

	*resp = NULL;
	if (len <= 0) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	error = carry(&reply, &reply_len, r, der, (size_t)len);
	OPENSSL_free(der);
	p = reply;
	if (!error && (reply_len > LONG_MAX || !(*resp = d2i_TS_RESP(NULL, &p, (long)reply_len)))) {
		ERR_clear_error();
		error = sg_error_set(SG_ERR_TOOL,
				     "%s: the TSA's reply is not an RFC 3161 TimeStampResp (or "
				     "one that grants without a token)",
				     r->url);
	}
	free(reply);
	return error;
}

/* Ask for a token over `p7`'s signature by `r` and add it. */
static int stamp(PKCS7 *p7, const struct ts_route *r)
{
	struct ts_ask ask = { { 0 }, NULL, NULL };
	TS_RESP *resp = NULL;
	int error = make_request(&ask, the_signer(p7));

	if (!error)
		error = ask_tsa(&resp, r, ask.req);
	if (!error)
		error = check_reply(r->url, resp, &ask);
	if (!error)
		error = add_token(the_signer(p7), TS_RESP_get_token(resp));
	TS_RESP_free(resp);
	TS_REQ_free(ask.req);
	ASN1_INTEGER_free(ask.nonce);
	return error;
}

static int add(unsigned char **out_der, size_t *out_len, const unsigned char *p7_der, size_t p7_len,
	       const struct ts_route *r)
{
	PKCS7 *p7 = NULL;
	int error;

	*out_der = NULL;
	*out_len = 0;
	if (!r->url || !p7_der || r->timeout_sec <= 0)
		return sg_error_set(SG_ERR_USAGE,
				    "%s: timestamping needs a signature, a URL and a timeout",
				    r->url ? r->url : "(no TSA URL)");
	error = load_signature(&p7, p7_der, p7_len, r->url);
	if (!error)
		error = stamp(p7, r);
	if (!error)
		error = encode(out_der, out_len, p7);
	PKCS7_free(p7);
	return error;
}

int sg_timestamp_add(unsigned char **out_der, size_t *out_len, const unsigned char *p7_der,
		     size_t p7_len, const char *url, int timeout_sec)
{
	const struct ts_route r = { url, NULL, 0, timeout_sec };

	return add(out_der, out_len, p7_der, p7_len, &r);
}

int sg_timestamp_add_fetched(unsigned char **out_der, size_t *out_len, const unsigned char *p7_der,
			     size_t p7_len, sg_tsa *fetcher, size_t url_index, int timeout_sec)
{
	const struct ts_route r = { sg_tsa_url(fetcher, url_index), fetcher, url_index,
				    timeout_sec };

	return add(out_der, out_len, p7_der, p7_len, &r);
}

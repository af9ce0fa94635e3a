/* Certificate facts and code-signing checks; see include/signgate/cert.h. */
#include "signgate/cert.h"
#include "signgate/error.h"
#include "trust.h"
#include "signgate/hash.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

void sg_asn1_time_iso(char out[32], const ASN1_TIME *t)
{
	struct tm tm;

	out[0] = '\0';
	if (t && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int subject_line(char *out, size_t len, X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n;

	if (!bio)
		return SG_ERR_NOMEM;
	X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
	n = BIO_get_mem_data(bio, &data);
	snprintf(out, len, "%.*s", (int)n, data ? data : "");
	BIO_free(bio);
	return SG_OK;
}

int sg_cert_info_from_x509(sg_cert_info *out, X509 *cert)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	memset(out, 0, sizeof(*out));
	if (!X509_digest(cert, EVP_sha1(), md, &len) || len != SG_SHA1_LEN)
		return sg_error_set(SG_ERR_CRYPTO, "cannot compute a certificate thumbprint");
	sg_hex_encode_upper(out->sha1_thumbprint, md, SG_SHA1_LEN);
	if (!X509_digest(cert, EVP_sha256(), md, &len) || len != SG_SHA256_LEN)
		return sg_error_set(SG_ERR_CRYPTO, "cannot compute a certificate digest");
	sg_hex_encode(out->sha256, md, SG_SHA256_LEN);
	if (subject_line(out->subject, sizeof(out->subject), cert) != SG_OK)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	sg_asn1_time_iso(out->not_after, X509_get0_notAfter(cert));
	return SG_OK;
}

int sg_cert_check_codesign(X509 *cert, const char *what)
{
	uint32_t xku, ku;

	/* X509_get_extension_flags() also caches the extensions it parsed. */
	if (X509_get_extension_flags(cert) & EXFLAG_INVALID)
		return sg_error_set(SG_ERR_CRYPTO, "%s: certificate has invalid extensions", what);
	/* X509_check_ca() says 0 for CA:TRUE when keyUsage lacks keyCertSign. */
	if (X509_check_ca(cert) != 0 || (X509_get_extension_flags(cert) & EXFLAG_CA))
		return sg_error_set(SG_ERR_CRYPTO,
				    "%s: the signing certificate is a CA certificate", what);
	if (!(X509_get_extension_flags(cert) & EXFLAG_XKUSAGE))
		return sg_error_set(
			SG_ERR_CRYPTO,
			"%s: certificate has no extendedKeyUsage (codeSigning required)", what);
	xku = X509_get_extended_key_usage(cert);
	if (!(xku & XKU_CODE_SIGN))
		return sg_error_set(SG_ERR_CRYPTO,
				    "%s: certificate's extendedKeyUsage lacks codeSigning", what);
	if (xku & XKU_ANYEKU)
		return sg_error_set(SG_ERR_CRYPTO, "%s: certificate allows anyExtendedKeyUsage",
				    what);
	ku = X509_get_key_usage(cert);
	if (ku != UINT32_MAX && !(ku & KU_DIGITAL_SIGNATURE))
		return sg_error_set(SG_ERR_CRYPTO,
				    "%s: certificate's keyUsage lacks digitalSignature", what);
	return SG_OK;
}

/* For the revocation pass of a timestamped signature: expiry was judged at the timestamp. */
static int ignore_expiry(int ok, X509_STORE_CTX *ctx)
{
	int e = X509_STORE_CTX_get_error(ctx);

	return ok || e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID;
}

/*
 * Windows lets a CA certificate restrict what it vouches for: an
 * extendedKeyUsage on an intermediate (or the root) must allow code signing
 * or any usage; without the extension a CA is unrestricted. OpenSSL 3.0's
 * chain check has no code-signing purpose, so the chain is walked here.
 */
static int check_chain_eku(X509_STORE_CTX *ctx)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	char subject[512];

	for (int i = 1; i < sk_X509_num(chain); i++) {
		X509 *ca = sk_X509_value(chain, i);
		if (!(X509_get_extension_flags(ca) & EXFLAG_XKUSAGE) ||
		    (X509_get_extended_key_usage(ca) & (XKU_CODE_SIGN | XKU_ANYEKU)))
			continue;
		if (subject_line(subject, sizeof(subject), ca) != SG_OK)
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		return sg_error_set(SG_ERR_VERIFY,
				    "signer chain does not allow code signing: CA certificate %s "
				    "has an extendedKeyUsage without codeSigning or "
				    "anyExtendedKeyUsage",
				    subject);
	}
	return SG_OK;
}

/* One verification pass: at `at` (0: now), with the trust's CRLs when `crl_check`. */
static int verify_pass(X509 *leaf, STACK_OF(X509) * untrusted, const sg_trust *t, time_t at,
		       int crl_check, int skip_expiry)
{
	X509_STORE *store = sg_trust_chain_store(t);
	X509_STORE_CTX *ctx = NULL;
	int error = SG_OK;

	if (!store)
		return sg_error_set(SG_ERR_CONFIG, "no trust anchors given");
	ctx = X509_STORE_CTX_new();
	if (!ctx || X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
		goto done;
	}
	if (crl_check)
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	if (skip_expiry)
		X509_STORE_CTX_set_verify_cb(ctx, ignore_expiry);
	if (at)
		X509_STORE_CTX_set_time(ctx, 0, at);
	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);
		error = sg_error_set(SG_ERR_VERIFY, "signer chain does not verify to %s: %s",
				     sg_trust_ca_file(t), X509_verify_cert_error_string(e));
	} else {
		error = check_chain_eku(ctx);
	}
done:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return error;
}

int sg_cert_verify_chain_trust(X509 *leaf, STACK_OF(X509) * untrusted, const sg_trust *t, time_t at)
{
	int crls = sg_trust_crl_file(t) != NULL, error;

	if (!at)
		return verify_pass(leaf, untrusted, t, 0, crls, 0);
	/*
	 * A timestamped signature: the certificates must have been valid at the
	 * timestamp, as Windows judges them; revocation is judged now, against
	 * today's CRLs (a CRL issued after the timestamp is not "not yet valid"),
	 * and any revocation counts.
	 */
	error = verify_pass(leaf, untrusted, t, at, 0, 0);
	if (!error && crls)
		error = verify_pass(leaf, untrusted, t, 0, 1, 1);
	return error;
}

int sg_cert_verify_chain(X509 *leaf, STACK_OF(X509) * untrusted, const char *ca_file,
			 const char *crl_file, time_t at)
{
	sg_trust_files files = { ca_file, NULL, crl_file, 0 };
	sg_trust *t = NULL;
	int error = sg_trust_load(&t, &files);

	if (!error)
		error = sg_cert_verify_chain_trust(leaf, untrusted, t, at);
	sg_trust_free(t);
	return error;
}

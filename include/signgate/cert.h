/*
 * Certificate facts and the code-signing checks shared by signing and
 * verification.
 */
#ifndef SIGNGATE_CERT_H
#define SIGNGATE_CERT_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

/* Facts about a certificate, as Windows and the audit log name them. */
typedef struct sg_cert_info {
	char sha1_thumbprint[41]; /* upper-case hex, no separators (certutil style) */
	char sha256[65];          /* lower-case hex of the DER certificate */
	char subject[256];        /* one-line RFC 2253 subject */
	char not_after[32];       /* "YYYY-MM-DDTHH:MM:SSZ" */
} sg_cert_info;

/* Fill `out` from `cert`. Returns SG_OK or SG_ERR_CRYPTO. */
int sg_cert_info_from_x509(sg_cert_info *out, X509 *cert);

/*
 * Check that `cert` may sign code: extendedKeyUsage present with codeSigning,
 * without anyExtendedKeyUsage; not a CA; keyUsage, when present, includes
 * digitalSignature. Returns SG_OK or SG_ERR_CRYPTO with a message naming
 * `what` (e.g. the file) and the reason.
 */
int sg_cert_check_codesign(X509 *cert, const char *what);

/*
 * Build and verify the chain of `leaf` to the roots in `ca_file`, using
 * `untrusted` (may be NULL) as intermediates, at time `at` (0: now). As
 * Windows does, a CA certificate of the chain (intermediate or root) that
 * carries extendedKeyUsage must allow codeSigning or anyExtendedKeyUsage;
 * one without the extension is unrestricted. Revocation is checked against
 * the CRLs of `crl_file` when given (now, for any `at`). The files are read
 * through sg_trust_load() (signgate/trust.h): for several checks in one run,
 * load the trust once and use sg_cert_verify_chain_trust(). Returns SG_OK or
 * SG_ERR_VERIFY naming the reason; SG_ERR_CONFIG (sg_trust_load()'s
 * messages) when a file cannot be used.
 */
int sg_cert_verify_chain(X509 *leaf, STACK_OF(X509) * untrusted, const char *ca_file,
			 const char *crl_file, time_t at);

/* sg_cert_verify_chain() against a trust loaded once (its anchors and CRLs). */
struct sg_trust;
int sg_cert_verify_chain_trust(X509 *leaf, STACK_OF(X509) * untrusted, const struct sg_trust *t,
			       time_t at);

/* UTC "YYYY-MM-DDTHH:MM:SSZ" of an ASN1_TIME into out[32]; "" on failure. */
void sg_asn1_time_iso(char out[32], const ASN1_TIME *t);

#endif

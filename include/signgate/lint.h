/*
 * The code-signing certificate profile (DOMAIN.md, after the CA/B Forum
 * Code Signing Baseline Requirements) checked finding by finding, so that a
 * person can see every problem of a certificate at once and a signer can
 * refuse one that fails.
 *
 * Each finding has a stable check id; its message names the values found.
 *
 *   key          RSA >= 3072 pass; RSA < 3072 fail; ECDSA P-256/P-384/P-521
 *                pass; any other key fail
 *   key-compat   ECDSA only: warn, App Control signer rules and several
 *                verifiers accept RSA only
 *   key-match    the private key belongs to the certificate (fail on a
 *                mismatch); warn for a PKCS#11 token key (not checked here,
 *                signing verifies it); absent when no key is given
 *   extensions   fail when OpenSSL finds invalid or duplicate extensions
 *   keyusage     fail: missing, no digitalSignature, or keyCertSign/cRLSign
 *                set (the Baseline Requirements demand a keyUsage with
 *                digitalSignature and without CA bits); warn: not critical
 *                (required by the profile, but Windows accepts it)
 *   eku          extendedKeyUsage present with codeSigning (fail otherwise)
 *   eku-any      no anyExtendedKeyUsage (fail)
 *   eku-server   no serverAuth (fail)
 *   eku-lifetime no Lifetime Signing 1.3.6.1.4.1.311.10.3.13 (fail: it voids
 *                timestamped signatures when the certificate expires)
 *   constraints  basicConstraints CA:FALSE pass; CA:TRUE fail; absent warn
 *   validity     not yet valid or expired at `now`: fail
 *   max-validity total validity over 460 days: warn
 *   days-left    fewer than 30 days left: warn (only when valid now)
 *   sig-alg      the certificate's signature uses SHA-1, MD5, MD4 or MD2: fail
 *   chain        chains to `ca_file` at `now`, with `crl_file` when given
 *                (a revoked leaf fails: "certificate revoked"); warn when no
 *                ca_file is given
 *   cdp          CRL distribution points present and all http:// (warn
 *                otherwise: the site server fetches CRLs through WinHTTP)
 *   aia          AIA caIssuers present and all http:// (warn otherwise)
 */
#ifndef SIGNGATE_LINT_H
#define SIGNGATE_LINT_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef enum sg_lint_level {
	SG_LINT_PASS,
	SG_LINT_WARN,
	SG_LINT_FAIL,
} sg_lint_level;

typedef struct sg_lint_finding {
	sg_lint_level level;
	char check[32]; /* the stable check id, e.g. "key" */
	char *message;  /* what was found, with its values, whole (heap; the report owns it) */
} sg_lint_finding;

typedef struct sg_lint_report {
	sg_lint_finding *findings; /* in the order of the table above */
	size_t n;
	int fails, warns;
} sg_lint_report;

/*
 * Check `leaf` against the profile at time `now` and store the findings in
 * `out` (free with sg_lint_report_free(), also after a failure).
 * `untrusted` (may be NULL) holds intermediates for the chain; `ca_file`
 * (may be NULL: the chain is not checked) the trust anchors; `crl_file`
 * (may be NULL) PEM CRLs. `key` (may be NULL) is the private key to match;
 * `key_in_token` says the key lives in a PKCS#11 token.
 *
 * Returns SG_OK when the checks ran, whatever they found (read out->fails);
 * SG_ERR_NOMEM; or SG_ERR_CONFIG when ca_file or crl_file cannot be read.
 */
int sg_lint_cert(sg_lint_report *out, X509 *leaf, STACK_OF(X509) * untrusted, const char *ca_file,
		 const char *crl_file, EVP_PKEY *key, int key_in_token, time_t now);

/* Free the findings; safe on a zeroed report. Leaves it zeroed. */
void sg_lint_report_free(sg_lint_report *report);

/* "pass", "warn" or "fail". */
const char *sg_lint_level_name(sg_lint_level level);

/* The first finding of check `check`, or NULL. */
const sg_lint_finding *sg_lint_find(const sg_lint_report *report, const char *check);

#endif

/*
 * Co-signatures of approval files: the two-person rule.
 *
 * A second person vouches for an approval file (a policy file) by signing
 * its exact bytes with their own certificate, issued by the approvers' CA
 * (config "trust.approvers_ca_file"). The co-signature sits beside the file
 * as "<approval file>.cosign.p7s": a DER CMS SignedData, detached, with
 * signed attributes (signingTime among them) and the signer's certificate.
 * Any edit of the approval file, even of one byte, voids it.
 *
 * What a valid co-signature is (sg_cosign_verify()):
 *  - exactly one signer, digest SHA-256, SHA-384 or SHA-512, and the
 *    signature checks over the approval file's bytes;
 *  - the signer's certificate chains to a certificate of the approvers' CA
 *    file. Every certificate of that file is a trust anchor
 *    (X509_V_FLAG_PARTIAL_CHAIN), so it may name a dedicated approvers'
 *    issuing CA without trusting everything its root issues; hence every
 *    certificate in it must be a CA certificate. Intermediates may also
 *    come from the co-signature's certificates;
 *  - the chain is valid now, when signgate relies on it, not at the
 *    signingTime the signature states: signingTime is signed by the same
 *    key, so whoever holds an expired approver key could backdate it. An
 *    approver whose certificate expired co-signs again (--replace) with a
 *    new one. signingTime is reported, not trusted;
 *  - the signer's certificate has keyUsage with digitalSignature and an
 *    extendedKeyUsage with emailProtection (1.3.6.1.5.5.7.3.4): a person's
 *    signature over a document is what S/MIME certificates are for, so an
 *    existing people PKI (smart cards) serves, and
 *    `openssl cms -verify -purpose smimesign` checks the same by hand. A
 *    certificate without an EKU does not count. Who may co-sign is decided
 *    by the approvers' CA file: name a CA that issues to approvers only;
 *  - revocation is not checked (no CRL): an approver who leaves needs a
 *    short-lived certificate or a new approvers' CA.
 *
 * Checking one by hand (the approvers' CA in approvers-ca.pem):
 *   openssl cms -verify -binary -inform DER -in F.cosign.p7s -content F \
 *       -CAfile approvers-ca.pem -partial_chain -purpose smimesign -out /dev/null
 */
#ifndef SIGNGATE_COSIGN_H
#define SIGNGATE_COSIGN_H

#include <stddef.h>

#include "signgate/secret.h"

/* The co-signature file's suffix, appended to the approval file's path. */
#define SG_COSIGN_SUFFIX ".cosign.p7s"

typedef struct sg_cosigner {
	char subject[512];      /* the co-signer certificate's subject, one line (RFC 2253) */
	char name[256];         /* its CN, else its email: the identity compared with approved_by */
	char email[256];        /* rfc822Name SAN or emailAddress, "" when none */
	char cert_sha256[65];   /* SHA-256 hex (lower case) of the certificate's DER */
	long long signing_time; /* CMS signingTime, Unix seconds (0 when absent) */
} sg_cosigner;

/*
 * The co-signature file of an approval file: "<approval file>.cosign.p7s".
 * Returns a new string (caller frees), NULL when out of memory.
 */
char *sg_cosign_path(const char *approval_file);

/*
 * Co-sign: a detached CMS SignedData (SHA-256, signed attributes incl.
 * signingTime, the signer's certificate and any further certificates of
 * `cert_path` included) over the approval file's exact bytes, written
 * atomically (temp file in the same folder, fsync, rename) to
 * sg_cosign_path(); an existing co-signature is replaced only with
 * `replace`. The key at `key_path` is a PEM file (plain or encrypted; its
 * password from `secret`, which may hold no data) that must be private
 * (sg_secret_check_file) and match the first certificate of `cert_path`.
 * Before it is written, the new signature is checked as sg_cosign_verify()
 * checks it against `approvers_ca`, so that nobody stores a co-signature
 * that signing would refuse. Fills `out` on SG_OK. Returns SG_OK, SG_ERR_IO,
 * SG_ERR_CONFIG (unsafe key file, unreadable certificate or CA file,
 * encrypted key without a password), SG_ERR_CRYPTO (wrong password, key
 * does not match), SG_ERR_VERIFY (the new co-signature would not count:
 * certificate not from the approvers' CA, expired, wrong EKU), SG_ERR_EXISTS
 * or SG_ERR_NOMEM.
 */
int sg_cosign_create(const char *approval_file, const char *cert_path, const char *key_path,
		     const sg_secret *secret, const char *approvers_ca, int replace,
		     sg_cosigner *out);

/*
 * Verify the co-signature (sg_cosign_path(approval_file)) of the approval
 * file whose bytes are `data` (as the caller read them; the approval file
 * is not read again) against the approvers' CA file (PEM, one or more CA
 * certificates), by the rules at the top of this header. Returns SG_OK with
 * `out` filled, or SG_ERR_VERIFY with a message that names the co-signature
 * file and the reason ("no co-signature PATH", not a CMS signature, more
 * than one signer, does not match the approval file, not issued by the
 * approvers' CA, expired, wrong key usage or EKU), SG_ERR_CONFIG (the CA
 * file is unreadable, holds no certificate or a non-CA certificate),
 * SG_ERR_IO or SG_ERR_NOMEM. `out` is zeroed on failure.
 */
int sg_cosign_verify(const char *approval_file, const unsigned char *data, size_t len,
		     const char *approvers_ca, sg_cosigner *out);

/*
 * 1 when `who` (an approval's "approved_by") names the co-signer: it equals
 * the certificate's CN exactly, or its email ignoring ASCII case; else 0
 * (also for a NULL or empty `who`).
 */
int sg_cosigner_is(const sg_cosigner *c, const char *who);

#endif

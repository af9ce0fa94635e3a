/*
 * Signatures of approval files: the two-person rule.
 *
 * Two approvers vouch for an approval file (a policy file) by each signing
 * its exact bytes with their own certificate, issued by the approvers' CA
 * (config "trust.approvers_ca_file"). The signatures sit beside the file:
 *   "<approval file>.approve.p7s"  the first approver's (`policy approve
 *                                  --cert --key`, or `policy cosign --first`)
 *   "<approval file>.cosign.p7s"   the second approver's (`policy cosign`)
 * each a DER CMS SignedData, detached, with signed attributes (signingTime
 * among them) and the signer's certificate. Any edit of the approval file,
 * even of one byte, voids both.
 *
 * What a valid signature is (sg_cosign_verify_one()):
 *  - exactly one signer, digest SHA-256, SHA-384 or SHA-512, and the
 *    signature checks over the approval file's bytes (the bytes the policy
 *    was loaded from);
 *  - the signer's certificate chains to a certificate of the approvers' CA
 *    file. Every certificate of that file is a trust anchor
 *    (X509_V_FLAG_PARTIAL_CHAIN), so it may name a dedicated approvers'
 *    issuing CA without trusting everything its root issues; hence every
 *    certificate in it must be a CA certificate. Every CA of an
 *    approver's chain must be in that file: CAs that the signature carries
 *    are not used (a certificate the approvers' CA issued by mistake with
 *    the power to issue others would otherwise make its holder as many
 *    approvers as they like);
 *  - the chain is valid now, when signgate relies on it, not at the
 *    signingTime the signature states: signingTime is signed by the same
 *    key, so whoever holds an expired approver key could backdate it.
 *    signingTime is reported, not trusted;
 *  - the signer's certificate is not a CA (no basicConstraints CA:TRUE,
 *    no keyUsage keyCertSign) and has keyUsage with digitalSignature and an
 *    extendedKeyUsage with emailProtection (1.3.6.1.5.5.7.3.4): a person's
 *    signature over a document is what S/MIME certificates are for, so an
 *    existing people PKI (smart cards) serves. A certificate without an EKU
 *    does not count;
 *  - revocation: when "trust.approvers_crl_file" is configured, the
 *    signer's certificate (and any intermediate) must be covered by a
 *    current CRL of its issuer from that file and not be revoked; CRLs of
 *    an approvers' CA found in "trust.crl_file" make that check mandatory
 *    too. Without either, revocation is not checked.
 *
 * What two approvers are (sg_cosign_verify_pair()): both signatures valid,
 * and their certificates differ in all of: the certificate itself, the
 * public key (SubjectPublicKeyInfo), the subject (compared canonically, as
 * X509_NAME_cmp() does: case, leading, trailing and repeated spaces do not
 * count), the CN (canonically, and ignoring ASCII spaces and punctuation:
 * "Alice." and "a-lice" are "alice") and every email address (subject
 * emailAddress and subjectAltName rfc822Name, ignoring case and trailing
 * dots). Non-ASCII look-alikes are not folded; a CN or email with a
 * control or invisible formatting character (zero-width, bidirectional
 * override) makes the certificate no approver's. The CN and
 * email checks catch one person holding two certificates whose subjects
 * differ only in an attribute nobody reads (another OU, a serialNumber).
 * Whom the approvers' CA names as different people, signgate takes as
 * different people: it issues one identity per person.
 *
 * Checking one by hand (the approvers' CA in approvers-ca.pem):
 *   openssl cms -verify -binary -inform DER -in F.cosign.p7s -content F \
 *       -CAfile approvers-ca.pem -partial_chain -purpose smimesign -out /dev/null
 */
#ifndef SIGNGATE_COSIGN_H
#define SIGNGATE_COSIGN_H

#include <stddef.h>

#include "signgate/config.h"
#include "signgate/secret.h"

/* The signatures' suffixes, appended to the approval file's path. */
#define SG_APPROVE_SUFFIX ".approve.p7s"
#define SG_COSIGN_SUFFIX  ".cosign.p7s"

typedef enum sg_cosign_role {
	SG_COSIGN_FIRST = 0, /* the approver: <file>.approve.p7s */
	SG_COSIGN_SECOND,    /* the co-signer: <file>.cosign.p7s */
} sg_cosign_role;

/* Who signed, read from the certificate (never from the approval's text). */
typedef struct sg_cosigner {
	char subject[512];      /* the certificate's subject, one line (RFC 2253) */
	char name[256];         /* its CN, else its email: for people */
	char email[256];        /* rfc822Name SAN or emailAddress, "" when none */
	char cert_sha256[65];   /* SHA-256 hex (lower case) of the certificate's DER */
	char key_sha256[65];    /* SHA-256 hex of its SubjectPublicKeyInfo DER */
	long long signing_time; /* CMS signingTime, Unix seconds (0 when absent) */
} sg_cosigner;

struct sg_strict_rule;

/* What an approver's certificate is checked against; the strings are borrowed. */
typedef struct sg_approvers_trust {
	const char *ca_file;         /* trust.approvers_ca_file; NULL: none configured */
	const char *crl_file;        /* trust.approvers_crl_file; NULL: none */
	const char *shared_crl_file; /* trust.crl_file: its CRLs of an approvers' CA count */
	/*
	 * Whose these files may be (the strict rule they are read under):
	 * NULL is root or the effective user; a review by another account
	 * (`policy lint`/`show` of someone's policy) judges them as their
	 * owner would be judged. Borrowed.
	 */
	const struct sg_strict_rule *rule;
} sg_approvers_trust;

/* The trust settings of `cfg` (which must outlive `out`). */
void sg_approvers_trust_from_config(sg_approvers_trust *out, const sg_config *cfg);

/*
 * The signature file of `role` for an approval file: "<file>.approve.p7s"
 * or "<file>.cosign.p7s". Returns a new string (caller frees), NULL when
 * out of memory.
 */
char *sg_cosign_sig_path(const char *approval_file, sg_cosign_role role);

/* "first approver's" or "second approver's", for messages. */
const char *sg_cosign_role_name(sg_cosign_role role);

/*
 * Verify the signature of `role` beside `approval_file`, over `data` (the
 * file's bytes as the caller read them; the file is not read again), by the
 * rules at the top of this header. Returns SG_OK with `out` filled, or
 * SG_ERR_VERIFY with a message that names the signature file and the reason
 * ("no signature PATH", not a CMS signature, more than one signer, does not
 * match the approval file, not issued by the approvers' CA, revoked,
 * expired, wrong key usage or EKU; a signature file larger than 1 MiB),
 * SG_ERR_CONFIG (no CA configured; the CA or a CRL file missing,
 * unreadable, not a regular file, over 64 MiB, or failing the strict rule
 * (it, or a folder or link on its way, owned by another account or
 * writable by group or others: these files decide who approved, and each is
 * read on the descriptor the rule was checked on, through the one trust-file
 * reader sg_trust_read_pem()); a non-CA certificate or none in the CA
 * file), SG_ERR_IO or SG_ERR_NOMEM. `out` is zeroed on failure.
 */
int sg_cosign_verify_one(sg_cosigner *out, sg_cosign_role role, const char *approval_file,
			 const unsigned char *data, size_t len, const sg_approvers_trust *t);

/*
 * Both signatures of `approval_file` over `data` verify, by two different
 * approvers (see the top of this header). Returns SG_OK with `first` and
 * `second` filled; SG_ERR_VERIFY with a message that names what is missing
 * (each missing signature file), which signature is invalid and why, or
 * that one approver signed both (the same certificate, the same key, the
 * same subject, CN or email); or the errors of sg_cosign_verify_one().
 */
int sg_cosign_verify_pair(sg_cosigner *first, sg_cosigner *second, const char *approval_file,
			  const unsigned char *data, size_t len, const sg_approvers_trust *t);

/* An approver's certificate and private key, opened; opaque. */
typedef struct sg_approver_key sg_approver_key;

/*
 * Open the approver's certificate (PEM at `cert_path`: the first
 * certificate is the approver's, further ones its CAs, embedded in each
 * signature) and key: a PEM file that must be private
 * (sg_secret_check_file), plain or encrypted with `secret`'s password; or,
 * with `pkcs11_module` (absolute path of a PKCS#11 module), a "pkcs11:" URI
 * opened through libp11's engine with `secret` as the PIN, or through
 * pkcs11-provider when `key_source` is "pkcs11-provider" (NULL: implied by
 * the key, as a config's "key_source"; an unknown name is SG_ERR_CONFIG
 * naming the known ones). The key must
 * match the certificate. `secret` may hold no data; it is not kept.
 * Before anything is read, what runs with the key is held to the strict
 * rule (strict.h): the module (sg_keys_check_module_strict, "--pkcs11-module"
 * in the message) and, for every key, what OpenSSL and the dynamic linker
 * load code by (sg_config_check_openssl): SG_ERR_CONFIG naming the path.
 * Returns SG_OK with a new key in `out` (free with sg_approver_key_free()),
 * SG_ERR_IO, SG_ERR_CONFIG (unsafe key file, unreadable certificate,
 * encrypted key without a password), SG_ERR_TOOL (no engine or module),
 * SG_ERR_CRYPTO (wrong password or PIN, key does not match) or SG_ERR_NOMEM.
 */
int sg_approver_key_open(sg_approver_key **out, const char *cert_path, const char *key,
			 const char *pkcs11_module, const char *key_source, const sg_secret *secret);

/* The identity of the key's certificate; SG_ERR_VERIFY when it names nobody. */
int sg_approver_key_identity(sg_cosigner *out, const sg_approver_key *k);

/* Free; NULL is accepted. */
void sg_approver_key_free(sg_approver_key *k);

/*
 * Sign `data` (the bytes `approval_file` has or will have) as `role`, and
 * check the new signature as signing will (sg_cosign_verify_one()'s rules)
 * before anything is written. Returns SG_OK with a new DER buffer in `der`
 * (free with free()) and `out` filled; SG_ERR_VERIFY ("would not count")
 * or the errors of sg_cosign_verify_one(); SG_ERR_CRYPTO.
 */
int sg_cosign_sign(unsigned char **der, size_t *der_len, sg_cosigner *out, const sg_approver_key *k,
		   sg_cosign_role role, const char *approval_file, const unsigned char *data,
		   size_t len, const sg_approvers_trust *t);

/*
 * Write `der` as the signature of `role` beside `approval_file`,
 * atomically (temp file in the same folder, fsync, rename), with the
 * approval file's read permissions (never more than 0644); an existing
 * one is replaced only with `replace`. SG_OK, SG_ERR_EXISTS or SG_ERR_IO.
 */
int sg_cosign_publish(const char *approval_file, sg_cosign_role role, const unsigned char *der,
		      size_t len, int replace);

/*
 * Read `approval_file` once, sign those bytes as `role` with `k`
 * (sg_cosign_sign()), and refuse (SG_ERR_VERIFY, nothing written) when
 * `expect_sha256` (hex, any case; NULL: no check) is not their SHA-256 (the
 * file is not the one its signer reviewed: whoever may write the policy
 * folder could swap it between review and signature), or when the other
 * role's signature exists, is valid and is by the same approver (the rules
 * of sg_cosign_verify_pair()); then publish it (sg_cosign_publish()). Fills
 * `out` and `signed_sha256` (the SHA-256 of the bytes signed, hex) on
 * SG_OK. Errors as those functions', SG_ERR_USAGE for an `expect_sha256`
 * that is not 64 hex digits, SG_ERR_CONFIG for an approval file that
 * cannot be opened, is no regular file or is larger than 16 MiB (a policy
 * file that cannot be one), and SG_ERR_IO for one that does not exist or
 * whose read fails.
 */
int sg_cosign_create(sg_cosigner *out, char signed_sha256[65], const char *approval_file,
		     sg_cosign_role role, const sg_approver_key *k, const sg_approvers_trust *t,
		     int replace, const char *expect_sha256);

/*
 * For `policy lint` under the two-person rule: one finding (a warning) for
 * each approval of `p` whose file lacks a signature, or, when `t` names
 * the approvers' CA, whose signatures do not make it usable
 * (sg_cosign_verify_pair()'s reason). Fills up to `max` findings into
 * `out` and returns how many there are in all.
 */
struct sg_policy;
struct sg_policy_finding;
size_t sg_cosign_lint(const struct sg_policy *p, const sg_approvers_trust *t,
		      struct sg_policy_finding *out, size_t max);

#endif

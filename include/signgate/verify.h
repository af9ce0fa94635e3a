/*
 * Verifying an Authenticode signature as the ConfigMgr site server will once
 * the enterprise root is trusted.
 *
 * Two independent checks must both pass. Neither osslsigncode's exit status
 * alone nor its text is trusted: it exits 0 when any signature verifies and
 * when a timestamp fails, and it prints strings from the signature raw.
 *  1. the signature's PKCS#7 (osslsigncode extract-signature) is checked with
 *     OpenSSL (lib/authenticode.c): SHA-256 signer and file digests, the
 *     signer's signature over its signed attributes, messageDigest against
 *     the SpcIndirectDataContent, an RFC 3161 token when present (imprint,
 *     signature, TSA chain), the leaf's chain at the timestamp time (or now),
 *     its code-signing usage, and the pin when one is given;
 *  2. osslsigncode verify -index N must exit 0, and the first file digest
 *     it calculated from the file (for an MSI: its DigitalSignature line, not
 *     the MsiDigitalSignatureEx pre-hash) must be the one the signature signs;
 *  3. signgate computes the file's Authenticode digest itself (a PE:
 *     lib/pe_digest.c; an MSI: lib/msi_digest.c, with the pre-hash first
 *     when the file carries MsiDigitalSignatureEx, which must hold the
 *     pre-hash of the file's metadata), and it must be the one the signature
 *     signs.
 * When signing a PE, the caller has already computed that digest from the
 * bytes it signed and compared the output with them (opts.file_digest):
 * then 3 stands in for 2, whose digest comes from the same program that
 * signed, and the output is read once, not twice more.
 */
#ifndef SIGNGATE_VERIFY_H
#define SIGNGATE_VERIFY_H

#include "signgate/confine.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/signer.h"

typedef struct sg_verify_opts {
	/*
	 * The run's trust (signgate/trust.h, loaded once from the three files
	 * below), borrowed; NULL: each call loads its own from them.
	 */
	const struct sg_trust *trust;
	const char *osslsigncode; /* absolute path */
	const char *ca_file;      /* trust anchor(s) for the signer chain */
	const char *tsa_ca_file;  /* timestamp trust anchors; NULL: ca_file + system bundle */
	const char *crl_file;     /* optional CRLs */
	int ignore_crl;           /* do not fetch or require CRLs */
	const char *pin_sha256;   /* leaf certificate SHA-256 hex; NULL: no pin */
	int index;                /* signature to check: 0 primary; -1 the last one */
	/*
	 * The file's Authenticode digest (upper-case hex SHA-256) as the caller
	 * computed and established it; osslsigncode verify is then not run.
	 * NULL: signgate and osslsigncode each compute it from the file.
	 */
	const char *file_digest;
	/*
	 * The signature signgate attached (issue 12), or NULL: the checked
	 * signature (opts.index) must be these DER bytes exactly, and, as one
	 * signgate made, carry exactly the signed attributes contentType,
	 * SpcSpOpusInfo, SpcStatementType and messageDigest and no unsigned
	 * attribute but one RFC 3161 timestamp token that verifies.
	 */
	const unsigned char *expect_der;
	size_t expect_der_len;
	/*
	 * Files osslsigncode must not read (sg_config_secret_files(): the key
	 * material and secrets of signgate's account), NULL-terminated; empty:
	 * none. osslsigncode always runs offline (sg_proc_run_offline_hiding).
	 */
	const char *hide[SG_CONFIG_SECRET_FILES_MAX + 1];
} sg_verify_opts;

typedef struct sg_verify_result {
	int n_signatures;    /* signatures osslsigncode reported */
	int index;           /* the one checked */
	sg_cert_info signer; /* its leaf certificate */
	int timestamped;
	char timestamp[32];        /* "YYYY-MM-DDTHH:MM:SSZ" when timestamped */
	char reason[SG_ERROR_MAX]; /* why it failed; empty when valid */
	/* What the osslsigncode runs had (signgate/confine.h); *_ran 0: not run. */
	int extract_ran, verify_ran;
	sg_confine_report extract_confinement, verify_confinement;
} sg_verify_result;

/*
 * Check that the trust files of `opts` are usable: ca_file and tsa_ca_file
 * hold PEM certificates, crl_file (when given) holds at least one PEM CRL.
 * Callers check this once before any input, so that a broken trust setting
 * is a configuration error, never a verdict on a file. Returns SG_OK or
 * SG_ERR_CONFIG naming the file and the reason (e.g. "No such file or
 * directory", "Is a directory", "holds no PEM CRL").
 */
int sg_verify_check_trust(const sg_verify_opts *opts);

/*
 * Verify the signed file at `path` (`name` is used in messages). Returns
 * SG_OK when valid, SG_ERR_VERIFY with out->reason and the last error set
 * when not, SG_ERR_CONFIG when a trust file is unusable
 * (sg_verify_check_trust()), SG_ERR_TOOL when osslsigncode cannot run,
 * SG_ERR_IO.
 */
int sg_verify_file(sg_verify_result *out, const sg_verify_opts *opts, const char *path,
		   const char *name);

/*
 * How many Authenticode signatures (the primary and its nested ones) the PE
 * or MSI open as `fd` carries, read by signgate itself: 0 when it has none;
 * `primary` (32 bytes, may be NULL) receives the SHA-256 of the primary
 * signature's signature value (zeros when none). Returns SG_OK, SG_ERR_VERIFY (a signature that
 * cannot be parsed), SG_ERR_FORMAT, SG_ERR_IO or SG_ERR_NOMEM, `name` in the message.
 */
int sg_verify_count_signatures(int *count, unsigned char *primary, int fd, const char *name);

/*
 * sg_verify_count_signatures() of the file open as `fd` that
 * sg_format_inspect() described in `info` (not inspected again).
 */
int sg_verify_count_signatures_info(int *count, unsigned char *primary, int fd,
				    const sg_format_info *info, const char *name);

#endif

/*
 * Internal: the cryptographic checks of an Authenticode PKCS#7 signature,
 * made with OpenSSL independently of osslsigncode's report.
 */
#ifndef SIGNGATE_LIB_AUTHENTICODE_H
#define SIGNGATE_LIB_AUTHENTICODE_H

#include <stddef.h>
#include <time.h>

#include "signgate/cert.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "trust.h"

/* The largest signature container read whole (a PE table, an MSI stream). */
#define SG_SIG_CONTAINER_MAX (64u * 1024 * 1024)

typedef struct sg_authenticode_opts {
	/*
	 * The run's trust (signgate/trust.h), borrowed. NULL: it is loaded for
	 * this one check from the three files below.
	 */
	const sg_trust *trust;
	const char *ca_file;     /* trust anchors for the signer */
	const char *tsa_ca_file; /* trust anchors for timestamp tokens */
	const char *crl_file;    /* optional */
	const char *pin_sha256;  /* optional leaf pin */
	int index;               /* 0 primary, n nested, -1 the last */
	int kind;                /* the signed file's sg_format_kind (sg_format_spc_kind() of its
				  * format): the signed content must be its row's (else rejected) */
	/*
	 * 1 for a signature signgate made (issue 12): its SignerInfo must carry
	 * exactly the signed attributes contentType, SpcSpOpusInfo,
	 * SpcStatementType and messageDigest, each once with one value, and no
	 * unsigned attribute but at most one RFC 3161 timestamp (one value,
	 * which must verify). 0: other signers' attributes are not judged.
	 */
	int exact_attributes;
	/*
	 * The DER signgate attached, or NULL: signature `index` must be these
	 * bytes exactly (the primary: the whole file at sig_path; a nested
	 * one: its DER inside the primary's unsigned attribute
	 * 1.3.6.1.4.1.311.2.4.1, as stored there).
	 */
	const unsigned char *expect_der;
	size_t expect_der_len;
} sg_authenticode_opts;

typedef struct sg_authenticode_result {
	int n_signatures;      /* primary plus nested */
	int index;             /* the one checked */
	sg_cert_info signer;   /* its leaf */
	char file_digest[129]; /* upper-case hex of the signed file digest */
	int timestamped;       /* 1 when an RFC 3161 token verified */
	time_t timestamp;
	char reason[SG_ERROR_MAX]; /* why it failed */
} sg_authenticode_result;

/*
 * Check the DER PKCS#7 at `sig_path` (from osslsigncode extract-signature):
 * pick signature opts->index; require SHA-256 for the signer and the file
 * digest; verify the signer's signature over its signed attributes and the
 * messageDigest attribute against the SpcIndirectDataContent; verify an RFC
 * 3161 timestamp token, when present, against tsa_ca_file (its imprint must
 * be the signature value); verify the leaf's chain at the timestamp time (or
 * now), its code-signing usage, and the pin; with opts->exact_attributes
 * and opts->expect_der, the attribute rule and the exact bytes above. Returns SG_OK, or
 * SG_ERR_VERIFY with out->reason set, or SG_ERR_IO / SG_ERR_NOMEM.
 */
int sg_authenticode_check(sg_authenticode_result *out, const sg_authenticode_opts *opts,
			  const char *sig_path);

/*
 * How many signatures the DER PKCS#7 at `der` holds: its one signer and the
 * values of that signer's nested-signature attributes, each of which must
 * itself be a SignedData with one signer, as osslsigncode numbers them
 * (bytes after the DER, a PE table's padding, are ignored); `primary`
 * (SG_SHA256_LEN bytes, may be NULL) receives the SHA-256 of the one signer's
 * signature value. Returns SG_OK, or SG_ERR_VERIFY when it is no SignedData
 * with one signer or a nested value is none.
 */
int sg_authenticode_count(int *count, unsigned char *primary, const unsigned char *der, size_t len);

/*
 * sg_authenticode_count() of the signature container of the file open as
 * `fd` (`info` from sg_format_inspect() of it): 0 and SG_OK when it has
 * none; SG_ERR_VERIFY when the container holds no SignedData with one
 * signer (or nothing), SG_ERR_FORMAT when it cannot be read as its format
 * says, the message naming `name`.
 */
int sg_authenticode_count_file(int *count, unsigned char *primary, int fd,
			       const sg_format_info *info, const char *name);

/*
 * Whether the file open as `fd` is signed as Authenticode requires, when
 * its container claims a signature at all (README, "Signed by the vendor:
 * what counts"): SG_OK when it has none, or when it holds one PKCS#7
 * SignedData with exactly one signer (each nested value one too) whose
 * content is SpcIndirectData of the file's format and whose SHA-256 file
 * digest is sg_format_digest(SG_FORMAT_DIGEST_FILE) of the file. No trust
 * is asked. SG_ERR_FORMAT, naming `name`, the container and why, when the
 * container cannot be read, or claims a signature that is none of this
 * file's: neither signed nor unsigned, such a file is denied as malformed.
 * SG_ERR_IO / SG_ERR_NOMEM / SG_ERR_CRYPTO as they come.
 */
int sg_authenticode_readable(const sg_format_info *info, int fd, const char *name);

#endif

/*
 * The key side of Authenticode signing, in the key helper: from a
 * digest computed elsewhere, build the SpcIndirectDataContent and the
 * PKCS#7 SignedData an Authenticode signer makes, without reading the
 * installer.
 *
 * The signature made here:
 *   - content: SpcIndirectDataContent (1.3.6.1.4.1.311.2.1.4) holding, for a
 *     PE, SpcPeImageData (flags includeResources, the file link
 *     "<<<Obsolete>>>") and, for an MSI, SpcSipInfo with the MSI SIP GUID
 *     {000C10F1-0000-0000-C000-000000000046}, for a PowerShell script,
 *     SpcSipInfo version 65536 with the PowerShell SIP GUID
 *     {603BCC1F-4B59-4E08-B724-D2C6297EF351}, as osslsigncode builds them;
 *     then the DigestInfo of the file digest;
 *   - one SignerInfo with exactly four signed attributes: contentType
 *     (SpcIndirectData), SpcSpOpusInfo (the description and URL when given,
 *     else empty, as signtool writes it), SpcStatementType (individual code
 *     signing) and messageDigest; no signingTime (the signer's own clock is
 *     no evidence; an RFC 3161 timestamp is, and without it the output is
 *     the same for the same request) and no unsigned attribute;
 *   - the signer certificate followed by the chain (duplicates of the
 *     signer left out).
 */
#ifndef SIGNGATE_AUTHENTICODE_SIGN_H
#define SIGNGATE_AUTHENTICODE_SIGN_H

#include <stddef.h>

/* sg_format_kind: whose content to build (format.h: each format's row describes it). */
#include "signgate/format.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#define SG_AUTHENTICODE_TEXT_MAX 1024 /* a description or URL is shorter */

typedef struct sg_authenticode_sign_req {
	sg_format_kind kind;         /* the signed file's format: its row's content is built */
	int md_nid;                  /* the digest algorithm (OpenSSL NID): NID_sha256 only */
	const unsigned char *digest; /* the file's Authenticode digest */
	size_t digest_len;           /* exactly the algorithm's length */
	EVP_PKEY *key;               /* borrowed: file key or PKCS#11 engine key */
	X509 *cert;                  /* borrowed: the signer certificate, matching key */
	STACK_OF(X509) * chain;      /* borrowed, may be NULL: the other certificates */
	const char *description;     /* may be NULL: printable ASCII */
	const char *url;             /* may be NULL: printable ASCII, http:// or https:// */
} sg_authenticode_sign_req;

/*
 * Sign `req` and return the DER PKCS#7 in `*out_der` (free with
 * OPENSSL_free), its length in `*out_len`. The signature is checked against
 * the certificate's public key before it is returned. Returns SG_OK;
 * SG_ERR_USAGE for an unknown kind or algorithm, a digest of the wrong
 * length, a missing key or certificate, a bad description or URL;
 * SG_ERR_CRYPTO when the key does not match the certificate or OpenSSL
 * fails; SG_ERR_NOMEM.
 */
int sg_authenticode_sign(unsigned char **out_der, size_t *out_len,
			 const sg_authenticode_sign_req *req);

/* The digest length of a supported algorithm `md_nid`; 0 when unsupported. */
size_t sg_authenticode_md_len(int md_nid);

/* The content's name of format `kind` ("PE", "MSI", "PowerShell"), or NULL
 * for an unknown format or one without signed content. */
const char *sg_authenticode_kind_name(int kind);

/*
 * What a signature on a file of format `kind` must carry as its SpcIndirectDataContent's
 * type: the OID (text), and for SpcSipInfo the SIP's GUID (16 bytes as
 * stored; NULL for other types); `what` names the content in messages
 * ("a PE"). Returns 0, or -1 for an unknown kind.
 */
int sg_authenticode_kind_content(int kind, const char **data_oid, const unsigned char **sip_guid,
				 const char **what);

#endif

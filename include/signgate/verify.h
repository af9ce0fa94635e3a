/*
 * Verifying an Authenticode signature as the ConfigMgr site server will once
 * the enterprise root is trusted.
 *
 * Two independent checks must both pass; osslsigncode's exit status alone is
 * never trusted (it exits 0 when any signature verifies, even a nested one,
 * and with a failed timestamp check):
 *  1. osslsigncode verify, whose per-signature report is parsed: the
 *     signature at the index checked must show equal current and calculated
 *     digests, "Signature verification: ok", and, when it carries a
 *     timestamp, "Timestamp Server Signature verification: ok";
 *  2. the signature's PKCS#7 (osslsigncode extract-signature) is checked with
 *     OpenSSL: SHA-256 digest, the signer's chain to the trust anchor, the
 *     leaf's code-signing EKU and CA:FALSE, and, when a pin is given, the
 *     leaf's SHA-256.
 */
#ifndef SIGNGATE_VERIFY_H
#define SIGNGATE_VERIFY_H

#include "signgate/signer.h"

typedef struct sg_verify_opts {
	const char *osslsigncode; /* absolute path */
	const char *ca_file;	  /* trust anchor(s) for the signer chain */
	const char *tsa_ca_file;  /* trust anchor(s) for timestamps; NULL: ca_file */
	const char *crl_file;	  /* optional CRLs */
	int ignore_crl;		  /* do not fetch or require CRLs */
	const char *pin_sha256;	  /* leaf certificate SHA-256 hex; NULL: no pin */
	int index;		  /* signature to check: 0 primary; -1 the last one */
} sg_verify_opts;

typedef struct sg_verify_result {
	int n_signatures;      /* signatures osslsigncode reported */
	int index;	       /* the one checked */
	sg_cert_info signer;   /* its leaf certificate */
	int timestamped;
	char timestamp[32];    /* "YYYY-MM-DDTHH:MM:SSZ" when timestamped */
	char reason[1024];     /* why it failed; empty when valid */
} sg_verify_result;

/*
 * Verify the signed file at `path` (`name` is used in messages). Returns
 * SG_OK when valid, SG_ERR_VERIFY with out->reason and the last error set
 * when not, SG_ERR_TOOL when osslsigncode cannot run, SG_ERR_IO.
 */
int sg_verify_file(sg_verify_result *out, const sg_verify_opts *opts, const char *path,
		   const char *name);

#endif

/*
 * The signing certificate and the checks made on the signing key before
 * anything is signed. The key comes from the config: a PKCS#12 file, a PEM
 * chain plus a PEM key, or a PKCS#11 token. During `signgate sign` only
 * the key helper (keyhelper.h) opens it; the signature itself is made by
 * lib/authenticode_sign.c in that process.
 */
#ifndef SIGNGATE_SIGNER_H
#define SIGNGATE_SIGNER_H

#include "signgate/cert.h"
#include "signgate/confine.h"
#include "signgate/config.h"
#include "signgate/error.h"
#include "signgate/keys.h"
#include "signgate/secret.h"

/*
 * Load the signing certificate named by the config (opening the PKCS#12 or
 * the PEM key with `secret`; for a PKCS#11 token only its certificate chain), check that the key
 * belongs to it, that it is valid now and allows code signing (EKU 1.3.6.1.5.5.7.3.3, CA:FALSE),
 * and fill `out`. When the config names "signing.certificate", the key's certificate must be that
 * one. Returns SG_OK, SG_ERR_IO, SG_ERR_CONFIG or SG_ERR_CRYPTO (wrong password, key mismatch,
 * unusable certificate).
 */
int sg_signer_load(sg_cert_info *out, const sg_config *cfg, const sg_secret *secret);

/*
 * The checks of sg_signer_load() on key material already open (`km`, from
 * sg_keys_open()): key against certificate (file keys), validity, code
 * signing profile and lint, revocation settings, "signing.certificate".
 * Fills `out` from the certificate. Returns SG_OK, SG_ERR_IO, SG_ERR_CONFIG
 * or SG_ERR_CRYPTO with sg_signer_load()'s messages.
 */
int sg_signer_check_material(sg_cert_info *out, const sg_key_material *km, const sg_config *cfg);

/*
 * Read the first PEM certificate of `path` into `out`, without any secret.
 * Returns SG_OK, SG_ERR_IO or SG_ERR_CONFIG (no certificate in the file).
 */
int sg_signer_load_certificate(sg_cert_info *out, const char *path);

typedef struct sg_sign_result {
	int timestamped;     /* 1 when a TSA answered */
	char tsa_url[512];   /* the TSA that answered */
	char attempts[SG_ERROR_MAX]; /* TSAs that failed before, with their reasons (each a message) */
	/* The key helper (keyhelper.h) that signed, and its count of signatures after this one. */
	long helper_pid;
	unsigned long helper_signatures;
	const char *key_source; /* the helper's key source (a static string), NULL before it signed */
	char signed_digest[129]; /* the Authenticode digest it signed, upper-case hex */
	char attached_by[40];    /* "signgate" (a PE, in place) or "osslsigncode attach-signature" */
	/* Confinement (issue 13) of the key helper and of the timestamp fetcher, once asked. */
	int key_helper_confined; /* 1: key_helper_confinement holds its report */
	int key_helper_no_files; /* it gave up all file access once its key was open */
	sg_confine_report key_helper_confinement;
	int tsa_confined; /* 1: tsa_confinement holds the fetcher's report */
	sg_confine_report tsa_confinement;
} sg_sign_result;

#endif

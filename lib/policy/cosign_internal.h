/*
 * Internal: what the checking (cosign.c) and the making (cosign_sign.c) of
 * approval signatures share.
 */
#ifndef SIGNGATE_LIB_COSIGN_INTERNAL_H
#define SIGNGATE_LIB_COSIGN_INTERNAL_H

#include <stddef.h>

#include <openssl/x509.h>

#include "signgate/cosign.h"

/* The room for a reason ("why") in the functions below. */
#define SG_COSIGN_WHY_MAX 600

/* A signature is a few KiB (one or two certificates); far more is not one. */
#define SG_COSIGN_MAX (1024 * 1024)

/*
 * The approvers' trust store of `t`: the CA file's certificates (CA
 * certificates only) as anchors, and the CRLs that count (see cosign.h);
 * `*flags` receives the X509_V_FLAG_* the chain check uses. Each file is read
 * once per call with sg_trust_read_pem() under the strict rule (root or the
 * effective user). SG_OK, SG_ERR_CONFIG (none configured, unreadable, the
 * strict rule's finding, a non-CA certificate, no certificate), SG_ERR_IO
 * (a read failed), SG_ERR_NOMEM. Free with X509_STORE_free().
 */
int sg_cosign_store(X509_STORE **out, unsigned long *flags, const sg_approvers_trust *t);

/*
 * All checks of one signature's DER bytes over `data`; `signer` receives a new
 * reference to the signer's certificate on SG_OK (may be NULL). On
 * SG_ERR_VERIFY the reason is in `why` (SG_COSIGN_WHY_MAX bytes).
 */
int sg_cosign_check_der(sg_cosigner *out, X509 **signer, const unsigned char *der, size_t der_len,
			const unsigned char *data, size_t len, const char *approval_file,
			X509_STORE *store, unsigned long flags, const char *ca_path, char *why);

/*
 * 1 when `a` and `b` belong to one approver (the rules in cosign.h), with
 * what they share in `why` (SG_COSIGN_WHY_MAX bytes); 0 when they are two.
 */
int sg_cosign_same_approver(X509 *a, X509 *b, char *why);

/*
 * The signature file of `role` beside `approval_file`, checked over `data`
 * with a loaded store. SG_ERR_VERIFY names the file (a missing one too, with
 * `*missing` set to 1; one too large to be a signature too); SG_ERR_IO when
 * it cannot be read.
 */
int sg_cosign_verify_file(sg_cosigner *out, X509 **signer, int *missing, sg_cosign_role role,
			  const char *approval_file, const unsigned char *data, size_t len,
			  X509_STORE *store, unsigned long flags, const char *ca_path);

/* The identity fields of `x`; SG_ERR_VERIFY (reason in `why`) when it names nobody. */
int sg_cosign_identity(sg_cosigner *out, X509 *x, char *why);

#endif

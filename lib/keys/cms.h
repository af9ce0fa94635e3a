/*
 * Internal: detached CMS signatures made with a PEM private key, shared by
 * the audit log's seals (audit_seal*.c) and the approvals' co-signatures
 * (cosign.c).
 */
#ifndef SIGNGATE_LIB_CMS_INTERNAL_H
#define SIGNGATE_LIB_CMS_INTERNAL_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "signgate/secret.h"

/*
 * Read the PEM private key at `path`, plain or encrypted, opening it with
 * `secret` (which may hold no data) and never prompting. `what` names the
 * key in messages ("the sealing key"); `no_password` completes "PATH: WHAT
 * is encrypted but ..." and says where a password would come from. The
 * caller checks the file's mode first (sg_secret_check_file). Returns SG_OK
 * with a new key in `out` (free with EVP_PKEY_free), SG_ERR_IO (cannot
 * open), SG_ERR_CONFIG (encrypted, no password given) or SG_ERR_CRYPTO
 * (wrong password, not a PEM private key).
 */
int sg_pem_key_read(EVP_PKEY **out, const char *path, const sg_secret *secret, const char *what,
		    const char *no_password);

/*
 * A DER CMS SignedData over `data`: detached, SHA-256, with signed
 * attributes (content type, message digest, signingTime), signed by `key`
 * for `cert`. With `certs` NULL no certificate is embedded (the verifier
 * pins the signer's); otherwise `cert` and the certificates of `certs`
 * (its intermediates; may be empty) are. `what` names the signature in
 * messages ("the seal"). Returns SG_OK with a new buffer in `out` (free
 * with OPENSSL_free) of `*out_len` bytes, or SG_ERR_CRYPTO.
 */
int sg_cms_sign_detached(unsigned char **out, size_t *out_len, const void *data, size_t len,
			 X509 *cert, STACK_OF(X509) * certs, EVP_PKEY *key, const char *what);

#endif

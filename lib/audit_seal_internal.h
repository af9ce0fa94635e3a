/*
 * Internal: the sealing key of "audit_seal", opened for audit_seal.c by
 * audit_seal_key.c (which alone uses OpenSSL's deprecated ENGINE API).
 */
#ifndef SIGNGATE_LIB_AUDIT_SEAL_INTERNAL_H
#define SIGNGATE_LIB_AUDIT_SEAL_INTERNAL_H

#include <openssl/evp.h>

#include "signgate/config.h"

typedef struct sg_seal_key {
	EVP_PKEY *key;
	void *engine; /* the ENGINE a token key needs until it is freed; NULL for a PEM key */
} sg_seal_key;

/*
 * Open "audit_seal.key" of `cfg`: a PEM file (private, sg_secret_check_file;
 * its password from the configured source) or a key in a PKCS#11 token
 * through the libp11 engine (its PIN from the configured source). The
 * secret is wiped before this returns. Returns SG_OK, SG_ERR_IO,
 * SG_ERR_CONFIG, SG_ERR_TOOL (no engine, no module) or SG_ERR_CRYPTO (wrong
 * password or PIN, no such key). Free with sg_seal_key_free().
 */
int sg_seal_key_open(sg_seal_key *out, const sg_config *cfg);

/* Free what sg_seal_key_open() filled; safe on a zeroed struct. */
void sg_seal_key_free(sg_seal_key *k);

#endif

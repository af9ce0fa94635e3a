/*
 * Opening the signing key material named by the config through its key
 * source (lib/key_source.h): a PKCS#12 file, a PEM chain plus a PEM key, or
 * a PKCS#11 token through libp11's engine or pkcs11-provider (whose key
 * stays in the token: only the certificate chain is read here).
 */
#ifndef SIGNGATE_KEYS_H
#define SIGNGATE_KEYS_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "signgate/config.h"
#include "signgate/secret.h"

typedef struct sg_key_material {
	EVP_PKEY *key;          /* NULL for a PKCS#11 token */
	X509 *cert;             /* the signing certificate */
	STACK_OF(X509) * chain; /* the other certificates of the file(s) */
	int in_token;           /* 1: the key is in a PKCS#11 token */
} sg_key_material;

/*
 * Open the key material of `cfg` with `secret` (may hold no data). Key files
 * must be private (sg_secret_check_file); a PEM key must match a certificate
 * of the chain; a token's leaf is the chain's certificate that equals
 * "signing.certificate", else the chain's first. Returns SG_OK, SG_ERR_IO,
 * SG_ERR_CONFIG, SG_ERR_TOOL (the PKCS#11 module is missing) or
 * SG_ERR_CRYPTO (wrong password, damaged file, key mismatch). Free with
 * sg_key_material_free().
 */
int sg_keys_open(sg_key_material *out, const sg_config *cfg, const sg_secret *secret);

/*
 * The key sources of `cfg` ("signing", "audit_seal"; a section with no key
 * is skipped) through the table: the row "key_source" names or the settings
 * imply, and that row's checks. SG_OK, or SG_ERR_CONFIG naming the config,
 * the section, the value and the known rows. An sg_config_checker
 * (config.h): signgate sets it so that a config is refused as it loads.
 */
int sg_keys_check_config(const sg_config *cfg);

/*
 * 1 when opening the key material of `cfg` (sg_keys_open) needs its secret
 * (a key file); 0 when it reads only certificates (a token), or the key
 * source is unknown (sg_keys_open says so).
 */
int sg_keys_material_needs_secret(const sg_config *cfg);

/*
 * A PKCS#11 module named outside a config (an approver's --pkcs11-module,
 * `option` in the messages) held to the rule a config's module is held to
 * (strict.h, trusting root and the effective user; the path absolute, and
 * a file), and with it what OpenSSL loads code by (sg_config_check_openssl,
 * the environment's OPENSSL_ENGINES and OPENSSL_MODULES included). Returns
 * SG_OK, SG_ERR_CONFIG (a finding, naming `option` and the path) or
 * SG_ERR_TOOL (no such file).
 */
int sg_keys_check_module_strict(const char *module, const char *option);

/* Free what sg_keys_open() filled; safe on a zeroed struct. */
void sg_key_material_free(sg_key_material *km);

/* Read the first PEM certificate of `path`. Returns NULL and sets the error otherwise. */
X509 *sg_keys_read_cert(const char *path);

#endif

/*
 * Internal: a private key in a PKCS#11 token, through libp11's OpenSSL
 * engine (engine id "pkcs11", Debian package libengine-pkcs11-openssl), the
 * engine osslsigncode uses too. Used for the signing key in the key helper
 * (keyhelper_child.c), the audit log's sealing key (audit_seal_key.c) and
 * an approver's key (cosign_sign.c);
 * pkcs11_key.c alone uses OpenSSL's deprecated ENGINE API.
 */
#ifndef SIGNGATE_LIB_PKCS11_INTERNAL_H
#define SIGNGATE_LIB_PKCS11_INTERNAL_H

#include <openssl/evp.h>

#include "signgate/secret.h"

/*
 * Load the private key at the "pkcs11:" URI `uri` from the module at
 * `module` (an absolute path), logging in with `pin` (may hold no data:
 * then the engine fails rather than prompt). `what` names the key in
 * messages ("the sealing key"). On SG_OK, `*key` is the key and `*engine`
 * the engine it needs until it is freed: free both with
 * sg_pkcs11_key_free(). Returns SG_OK, SG_ERR_TOOL (no engine, no module)
 * or SG_ERR_CRYPTO (wrong PIN, no such key, no token).
 */
int sg_pkcs11_key_load(EVP_PKEY **key, void **engine, const char *module, const char *uri,
		       const sg_secret *pin, const char *what);

/*
 * The same with the engine loaded from its shared object `engine_path`
 * (signing.pkcs11_engine; NULL: OpenSSL's "pkcs11" engine).
 */
int sg_pkcs11_key_load_engine(EVP_PKEY **key, void **engine, const char *engine_path,
			      const char *module, const char *uri, const sg_secret *pin,
			      const char *what);

/* Free the key, then the engine (libp11 cleanses its copy of the PIN then); NULLs are fine. */
void sg_pkcs11_key_free(EVP_PKEY *key, void *engine);

#endif

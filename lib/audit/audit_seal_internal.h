/*
 * Internal: the sealing key of "audit_seal", opened for audit_seal.c by
 * audit_seal_key.c through the key sources' table (lib/keys/key_source.h).
 */
#ifndef SIGNGATE_LIB_AUDIT_SEAL_INTERNAL_H
#define SIGNGATE_LIB_AUDIT_SEAL_INTERNAL_H

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "signgate/audit_seal.h"
#include "signgate/config.h"

#include "key_source.h"

typedef struct sg_seal_key {
	EVP_PKEY *key; /* k.pkey */
	sg_key k;      /* the key and what its key source keeps beside it */
} sg_seal_key;

/*
 * Open "audit_seal.key" of `cfg` through its key source's row: a PEM file
 * (private, sg_secret_check_file; its password from the configured source)
 * or a key in a PKCS#11 token through the libp11 engine or, with
 * "key_source": "pkcs11-provider", through pkcs11-provider (its PIN from the
 * configured source). The secret is wiped before this returns. Returns
 * SG_OK, SG_ERR_IO, SG_ERR_CONFIG, SG_ERR_TOOL (no engine or provider, no
 * module) or SG_ERR_CRYPTO (wrong password or PIN, no such key). Free with
 * sg_seal_key_free().
 */
int sg_seal_key_open(sg_seal_key *out, const sg_config *cfg);

/* Free what sg_seal_key_open() filled; safe on a zeroed struct. */
void sg_seal_key_free(sg_seal_key *k);

/*
 * The sealing certificate `seal` must not hold the public key of a
 * code-signing certificate the config names without a secret
 * ("signing.certificate", each of "signing.cert_chain", those of
 * "signing.pkcs12" when it opens without a password). SG_OK or
 * SG_ERR_CONFIG naming the file.
 */
int sg_seal_key_check_separation(const sg_config *cfg, X509 *seal);

/* The pinned sealing certificate and what a seal says of it. */
typedef struct sg_seal_pin {
	X509 *cert;
	char thumb[65]; /* SHA-256 hex of its DER */
} sg_seal_pin;

/*
 * Read the sealing certificate (PEM) at `cert_path` into `p`. Returns SG_OK,
 * SG_ERR_CONFIG (unreadable) or SG_ERR_CRYPTO. The caller frees p->cert.
 */
int sg_seal_pin_load(sg_seal_pin *p, const char *cert_path);

/*
 * Check one seal line (without its newline) on its own: members, canonical
 * form, signature by the pinned certificate. SG_OK fills `out` (not its
 * "line"); SG_ERR_TAMPER puts the reason in `why` (WHY_MAX bytes);
 * SG_ERR_NOMEM.
 */
int sg_seal_check_line(sg_audit_seal *out, const char *line, size_t len, const sg_seal_pin *p,
		       char *why);

/*
 * Send a seal's line to syslog(3) as "audit-seal <line>", so that a copy of
 * the seal leaves the host as it is made (what `audit verify --against`
 * reads back). Never fails the caller.
 */
void sg_audit_syslog_seal(const char *line, int facility, const char *tag);

/*
 * The seals file (`st` from its lstat or fstat) must belong to the running
 * account or to root: any other owner could rewrite or remove the seals
 * (with the log). SG_OK, or SG_ERR_CONFIG naming the owner. The _path form
 * lstats `path` first; a missing file is SG_OK (the sealing run creates it).
 */
struct stat;
int sg_seal_check_owner(const struct stat *st, const char *path);
int sg_seal_check_owner_path(const char *path);

/*
 * 0 when the running account may not write the log (EACCES, EPERM, EROFS:
 * the units' layout, the log 0640 of the signing account): the sealing run
 * then seals the head as it is, without a "seal" record of its own. 1
 * otherwise (also when the log is missing: appending reports that).
 */
int sg_seal_log_writable(const char *log);

#endif

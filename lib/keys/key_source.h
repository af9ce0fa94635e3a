/*
 * Internal: the key sources, one table row each (issue 14). A key source is
 * where a private key and its certificates come from: a PKCS#12 file, a PEM
 * key with its PEM chain, a PKCS#11 token through libp11's OpenSSL engine,
 * or a PKCS#11 token through pkcs11-provider. The signing key (the key
 * helper, keyhelper_child.c), the audit log's sealing key (audit_seal_key.c)
 * and an approver's key (cosign_sign.c) all open their key through the same
 * row. Each row is one file, lib/keys/key_source_<name>.c; the table is in
 * lib/keys/key_source.c. Adding a key source is that file and one row.
 *
 * osslsigncode never sees a key (issue 12: the key helper signs, osslsigncode
 * only attaches a finished signature), so no row says how to invoke it.
 */
#ifndef SIGNGATE_LIB_KEY_SOURCE_H
#define SIGNGATE_LIB_KEY_SOURCE_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "signgate/config.h"
#include "signgate/keys.h"
#include "signgate/secret.h"

/*
 * One key's settings as a row reads them: the "signing" or "audit_seal"
 * section of a config, or an approver's options. Borrowed, never freed.
 */
typedef struct sg_key_view {
	const char *config;      /* the config file (or the command), for messages */
	const char *section;     /* "signing", "audit_seal", or "--key" */
	const char *source;      /* "key_source" as configured; NULL: implied by the others */
	const char *pkcs12;      /* a PKCS#12 file */
	const char *cert_chain;  /* PEM: the leaf and its CAs */
	const char *key;         /* a PEM key file, or a "pkcs11:" URI */
	const char *certificate; /* "signing.certificate": picks a token's leaf from the chain */
	const char *pkcs11_module;
	const char *pkcs11_engine;
	char *const *pkcs11_env;   /* "NAME=value", NULL-terminated; NULL: none */
	char *const *pkcs11_paths; /* what the token reads and writes; NULL: none */
	int pkcs11_network;
	const sg_secret_source *secret; /* may be NULL: no secret */
} sg_key_view;

/* The signing key of `cfg` ("signing"), and its sealing key ("audit_seal"). */
void sg_key_view_signing(sg_key_view *out, const sg_config *cfg);
void sg_key_view_seal(sg_key_view *out, const sg_config *cfg);

/* A private key that a row opened, and what it needs until it is freed. */
typedef struct sg_key {
	EVP_PKEY *pkey;
	const struct sg_key_source_ops *ops;
	void *keep; /* the row's: an ENGINE, an OSSL_LIB_CTX; NULL for a file key */
} sg_key;

/* What a confined process that opens a key may touch (lib/key_allow.c fills a spec from it). */
#define SG_KEY_ALLOW_MAX 48
typedef struct sg_key_allow {
	const char *read[SG_KEY_ALLOW_MAX + 1];
	size_t n_read;
	const char *rw[SG_KEY_ALLOW_MAX + 1];
	size_t n_rw;
	int network;
	int ipc;
} sg_key_allow;

/* Add an absolute path (others are ignored) to what may be read, or read and written. */
void sg_key_allow_read(sg_key_allow *a, const char *path);
void sg_key_allow_rw(sg_key_allow *a, const char *path);
/*
 * What every PKCS#11 row allows: the module, its configuration file
 * (SOFTHSM2_CONF of "pkcs11_env"), the chain, "pkcs11_paths" read and
 * write, the network with "pkcs11_network", System V IPC.
 */
void sg_key_allow_token(sg_key_allow *a, const sg_key_view *v);

typedef struct sg_key_source_ops {
	/* "key_source" in the config, and the name in messages and the README's table. */
	const char *name;
	const char *title;
	/* The section's settings it reads (for the README and the config checks). */
	const char *const *config_keys;
	/* Its secret: "PIN" (pin_file, pin_env, pin_prompt) or "password". */
	const char *secret;
	/*
	 * 1: the key is in a file (PKCS#12, PEM): `material` needs the secret,
	 * and once the key is read no file is needed (the key helper gives up
	 * file access). 0: the key stays in a token: the certificates need no
	 * secret, and the token reads its files while it signs.
	 */
	int key_in_file;
	/* 1 when a config without "key_source" means this row (older configs); NULL: never. */
	int (*implied_by)(const sg_key_view *v);
	/* Settings that only this row can judge. SG_OK or SG_ERR_CONFIG naming the key. */
	int (*check)(const sg_key_view *v);
	/*
	 * The certificate and chain (sg_keys_open()); a file row puts the key in
	 * `km` too, a token row sets km->in_token and leaves the key in the
	 * token. Failures are classified by code: SG_ERR_IO an unreadable file,
	 * SG_ERR_CONFIG an unsafe one, SG_ERR_CRYPTO a wrong password or a
	 * damaged file, SG_ERR_TOOL a missing module.
	 */
	int (*material)(sg_key_material *km, const sg_key_view *v, const sg_secret *secret);
	/*
	 * The private key alone (a token's for the key helper; a sealing or
	 * approver's key), `what` naming it ("the sealing key"). Codes as for
	 * `material`; for a token, SG_ERR_CRYPTO with the cause named: wrong PIN,
	 * no such key, no token matching the URI.
	 */
	int (*private_key)(sg_key *out, const sg_key_view *v, const sg_secret *secret,
			   const char *what);
	/* Free what `private_key` kept beside the key (after the key); NULL: nothing. */
	void (*release)(void *keep);
	/*
	 * The environment of the process that opens the key, set right before
	 * (the key helper's own: "pkcs11_env"; variables that would redirect the
	 * row's code are removed). NULL: none.
	 */
	void (*set_env)(const sg_key_view *v);
	/* What its confinement must allow beyond the checks' files and the secret file. */
	void (*allow)(sg_key_allow *a, const sg_key_view *v);
} sg_key_source_ops;

/* The table, NULL-terminated (lib/keys/key_source.c). */
extern const sg_key_source_ops *const sg_key_sources[];

/*
 * The row of `v`: the one "key_source" names, else the one its other
 * settings imply; then that row's checks. SG_OK with `*out` set, or
 * SG_ERR_CONFIG naming the section and the known names.
 */
int sg_key_source_find(const sg_key_source_ops **out, const sg_key_view *v);

/*
 * The private key of `v` through its row (sg_key_source_find, the row's
 * `set_env`, then `private_key`); SG_OK or that row's error. Free with
 * sg_key_close(). Every caller: the key helper, a sealing key, an approver's.
 */
int sg_key_open(sg_key *out, const sg_key_view *v, const sg_secret *secret, const char *what);

/* Free a key a row opened (the key, then what its row kept); safe on a zeroed one. */
void sg_key_close(sg_key *k);

/* ---- Helpers the rows share (lib/keys.c) ---- */

/* Every PEM certificate of `path` into a new km->chain. SG_OK, SG_ERR_IO or SG_ERR_CRYPTO. */
int sg_keys_read_chain(sg_key_material *km, const char *path);

/* The PKCS#11 module is a file (SG_ERR_TOOL otherwise, naming it): the rows' one check. */
int sg_keys_module_file(const char *module);

/*
 * A token's material: the module must be a file, the chain is read and its
 * leaf is the certificate equal to v->certificate, else the first.
 */
int sg_keys_token_material(sg_key_material *km, const sg_key_view *v);

/* "pkcs11_env" into this process's environment (the key helper's own). */
void sg_keys_put_env(const sg_key_view *v);

/* The checks both PKCS#11 rows make: a module, an absolute one, a "pkcs11:" key, a chain. */
int sg_keys_check_token(const sg_key_view *v);

/* The rows (lib/keys/key_source_*.c). */
extern const sg_key_source_ops sg_key_source_pkcs12;
extern const sg_key_source_ops sg_key_source_pem;
extern const sg_key_source_ops sg_key_source_pkcs11_engine;
extern const sg_key_source_ops sg_key_source_pkcs11_provider;

#endif

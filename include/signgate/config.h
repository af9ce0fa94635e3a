/*
 * The signgate configuration file (JSON). Relative paths in it are resolved
 * against the folder of the config file. Unknown keys are errors, so that a
 * misspelt setting is never silently ignored.
 *
 *   {
 *     "policy": "policy/",                      a policy file or a folder of *.json
 *     "audit_log": "audit/signgate-audit.jsonl",
 *     "trust": { "ca_file": "pki/root.pem",     root(s) the output must chain to
 *                "tsa_ca_file": "pki/tsa-roots.pem",  root(s) for timestamp tokens
 *                "crl_file": "pki/ca.crl",      optional CRLs for offline checks
 *                "ignore_crl": false },          CRL checks off, explicitly
 *     "signing": { "pkcs12": "pki/signer.p12", "password_file": "pki/signer.pass",
 *                  or "cert_chain": "chain.pem", "key": "signer.key" [, "password_file"],
 *                  "timestamp_urls": ["http://tsa.example/"],   tried in order
 *                  "timestamp_timeout": 30,     seconds per signing attempt
 *                  "certificate": "pki/signer.pem" },  optional: pins the signer
 *                                                        without opening the key
 *     "osslsigncode": "/usr/bin/osslsigncode"
 *   }
 */
#ifndef SIGNGATE_CONFIG_H
#define SIGNGATE_CONFIG_H

#include <stddef.h>

typedef struct sg_config {
	char *path;   /* the config file as given */
	char *dir;    /* its folder, the base of relative paths */
	char *policy; /* absolute or resolved paths below */
	char *audit_log;
	char *ca_file;
	char *tsa_ca_file; /* NULL: ca_file plus the system CA bundle */
	char *crl_file;    /* NULL when none */
	int ignore_crl;
	char *pkcs12;     /* either pkcs12 ... */
	char *cert_chain; /* ... or cert_chain + key */
	char *key;
	char *password_file; /* NULL when the key is not protected */
	char *certificate;   /* the signing certificate (PEM), for pinning without the key */
	char **timestamp_urls;
	size_t n_timestamp_urls;
	int timestamp_timeout; /* seconds */
	char *osslsigncode;
} sg_config;

/*
 * Load and check the config at `path`. Returns SG_OK and a new config in
 * `out` (free with sg_config_free()), SG_ERR_IO when the file cannot be read,
 * or SG_ERR_CONFIG naming the file, the key and the problem.
 */
int sg_config_load(sg_config **out, const char *path);

/*
 * Check that the signing settings are complete (a key source is configured).
 * Returns SG_OK or SG_ERR_CONFIG.
 */
int sg_config_require_signing(const sg_config *cfg);

/* The osslsigncode path used when the config names none (a build setting). */
const char *sg_config_default_osslsigncode(void);

/* Free a config; NULL is accepted. */
void sg_config_free(sg_config *cfg);

#endif

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
 *                "ignore_crl": false,           CRL checks off, explicitly
 *                "approvers_ca_file": "pki/approvers-ca.pem",  optional: CA(s) of the
 *                                               approvers who sign approvals (cosign.h)
 *                "approvers_crl_file": "pki/approvers.crl",  optional: their CRLs (PEM);
 *                                               revocation of approvers is checked then
 *                "require_cosign": false },     true: every approval needs two
 *                                               approvers' signatures (cosign.h),
 *                                               whatever the policy says
 *     "signing": {   one key source (lib/key_source.h; "key_source" names it,
 *                    else the settings below imply pkcs12, pem or pkcs11-engine):
 *       "key_source": "pkcs12" | "pem" | "pkcs11-engine" | "pkcs11-provider",
 *       "pkcs12": "pki/signer.p12",
 *       or "cert_chain": "chain.pem", "key": "signer.key",
 *       or "pkcs11_module": "/usr/lib/softhsm/libsofthsm2.so",
 *          "key": "pkcs11:token=T;object=O;type=private", "cert_chain": "chain.pem",
 *          "pkcs11_engine": "...pkcs11.so" (optional), "pkcs11_env": {"NAME": "value"},
 *          "pkcs11_paths": ["softhsm/tokens"] (optional: what the token reads and writes),
 *          "pkcs11_network": false (optional: a network HSM),
 *          (the same with "key_source": "pkcs11-provider", without "pkcs11_engine"),
 *       and at most one secret source:
 *       "password_file" | "password_env" | "password_prompt": true
 *       ("pin_file" | "pin_env" | "pin_prompt" with a token),
 *       "certificate": "pki/signer.pem",   optional: pins the signer without the key
 *       "timestamp_urls": ["http://tsa.example/"],   tried in order
 *       "timestamp": "required" | "optional",        default required
 *       "timestamp_timeout": 30,                     seconds per TSA attempt
 *       "timestamp_retries": 2,                      attempts per TSA after the first
 *       "timestamp_retry_wait": 5 },                 seconds between them
 *     "audit_syslog": { "facility": "local0", "tag": "signgate" },  optional
 *     "osslsigncode": "/usr/bin/osslsigncode",
 *     "policy_group": "sg-approvers",  optional: may write the policy (strict.h)
 *     "audit_group": "sg-audit",       optional: may write the audit log and seals
 *     "confinement": "auto"            or "required": no osslsigncode or gpgv run
 *                                      without Landlock file rules and seccomp
 *                                      (signgate/confine.h); default "auto"
 *   }
 */
#ifndef SIGNGATE_CONFIG_H
#define SIGNGATE_CONFIG_H

#include <stddef.h>
#include <sys/types.h>

struct sg_strict_report;

/*
 * Where the secret that opens a key (a password or PIN) comes from: at most
 * one of a private file, an environment variable, or the terminal. All zero:
 * the key needs none.
 */
typedef struct sg_secret_source {
	char *file;
	char *env;           /* the name of an environment variable */
	int prompt;          /* ask on the terminal, echo off */
	const char *name;    /* "password" or "PIN", for messages */
	const char *section; /* "signing" or "audit_seal": its config keys' prefix */
} sg_secret_source;

/*
 * Retries per TSA (signing.timestamp_retries, signing.timestamp_retry_wait):
 * each TSA is asked (1 + retries) times, `wait` seconds apart, before the
 * next one. jsign's defaults are 3 and 10 s; ours are smaller because a
 * signing waits for them per input, and a second TSA usually answers.
 */
#define SG_TS_RETRIES_DEFAULT    2
#define SG_TS_RETRIES_MAX        10
#define SG_TS_RETRY_WAIT_DEFAULT 5
#define SG_TS_RETRY_WAIT_MAX     300

typedef struct sg_config {
	char *path;   /* the config file as given */
	char *dir;    /* its folder, the base of relative paths */
	char *policy; /* absolute or resolved paths below */
	char *audit_log;
	char *ca_file;
	char *tsa_ca_file; /* NULL: ca_file plus the system CA bundle */
	char *crl_file;    /* NULL when none */
	int ignore_crl;
	char *approvers_ca_file;  /* the approvers' CA (cosign.h); NULL when none */
	char *approvers_crl_file; /* their CRLs (PEM); NULL when none */
	int require_cosign;       /* trust.require_cosign: the two-person rule, from the config */
	/* The signing key: exactly one of a PKCS#12 file, a PEM chain + key, or a token. */
	char *key_source; /* "signing.key_source" as given; NULL: implied (lib/key_source.h) */
	char *pkcs12;
	char *cert_chain;        /* PEM: leaf and its CAs (PEM key and PKCS#11) */
	char *key;               /* PEM key path, or a "pkcs11:" URI with pkcs11_module */
	char *pkcs11_module;     /* absolute path of the PKCS#11 module; NULL: no token */
	char *pkcs11_engine;     /* optional OpenSSL engine for osslsigncode */
	char **pkcs11_env;       /* "NAME=value" entries for the child, NULL-terminated */
	char **pkcs11_paths;     /* what the token needs read/write (key helper), NULL-terminated */
	int pkcs11_network;      /* the module may use the network (key helper) */
	sg_secret_source secret; /* what opens the signing key */
	char *certificate;       /* the signing certificate (PEM), for pinning without the key */
	char **timestamp_urls;
	size_t n_timestamp_urls;
	int timestamp_timeout;  /* seconds */
	int timestamp_required; /* fail the signing when no TSA answers */
	int timestamp_retries;  /* attempts per TSA after its first (0..10) */
	int timestamp_retry_wait; /* seconds between two attempts at one TSA (0..300) */
	char *osslsigncode;
	int confinement_required; /* "confinement": "required" (SG_CONFINE_REQUIRED) */
	int syslog_facility;      /* "audit_syslog.facility" as LOG_*; -1: no forwarding */
	char *syslog_tag;
	/*
	 * "audit_seal": all NULL when the config has no such section; else
	 * seal_key, seal_cert and seal_file are set.
	 */
	char *seal_key;           /* PEM key path, or a "pkcs11:" URI with seal_pkcs11_module */
	char *seal_cert;          /* the sealing certificate (PEM) */
	char *seal_pkcs11_module; /* absolute path of the PKCS#11 module; NULL: PEM key */
	char *seal_key_source;    /* "audit_seal.key_source"; NULL: implied by the key */
	sg_secret_source seal_secret;
	char *seal_file; /* the seals file: "audit_seal.file", else "<audit_log>.seals" */
	/* "policy_group" / "audit_group": the group that may also write those files (strict.h) */
	gid_t policy_gid;
	int has_policy_gid;
	gid_t audit_gid;
	int has_audit_gid;
} sg_config;

/*
 * Load and check the config at `path`, then hold every file it names that
 * signgate decides by to the strict-mode rule (sg_config_check_files() for
 * the running account): the config itself is read from the descriptor that
 * rule checked. Returns SG_OK and a new config in `out` (free with
 * sg_config_free()), or SG_ERR_CONFIG naming the file, the key and the
 * problem (a missing or unreadable config, a file that breaks the rule).
 */
int sg_config_load(sg_config **out, const char *path);

/* sg_config_load_flags(): the file checks are left to the caller (a review, policy lint). */
#define SG_CONFIG_LENIENT 0x1
/*
 * sg_config_load_flags(), sg_config_check_files(): the policy folder's
 * "*.json" files are left to the policy's opening (sg_policy_open_strict()
 * with sg_config_policy_rule()), which checks each on the
 * descriptor it reads or through the index's stat of it: signing, so that a
 * large indexed policy is not stat'ed twice.
 */
#define SG_CONFIG_POLICY_FILES_LATER 0x2

/* sg_config_load() with SG_CONFIG_* `flags`. */
int sg_config_load_flags(sg_config **out, const char *path, unsigned flags);

/*
 * Hold the files `cfg` names to the strict-mode rule (strict.h), trusting
 * root and `uid`: the config; the policy folder (or file), every entry in
 * it and its index ("policy_group" may write them); trust.ca_file,
 * tsa_ca_file, crl_file, approvers_ca_file, signing.certificate and
 * audit_seal.cert; osslsigncode and the PKCS#11 modules and engine (they
 * run with the key) and what OpenSSL loads code by (sg_config_check_openssl);
 * the audit log, the seals file and the folders holding
 * them ("audit_group" may write them). Files that do not exist yet are
 * skipped. `flags`: 0 or SG_CONFIG_POLICY_FILES_LATER. With `rep` NULL, returns SG_ERR_CONFIG at
 * the first finding; with it, collects every finding and returns SG_ERR_CONFIG with the first.
 */
int sg_config_check_files(const sg_config *cfg, uid_t uid, struct sg_strict_report *rep,
			  unsigned flags);

/*
 * Hold what OpenSSL loads code by to the strict-mode rule, trusting root and
 * `uid`: its configuration file (OPENSSL_CONF, else its own), its built-in
 * folders of providers and engines with every entry, and the folders the
 * environment names in OPENSSL_ENGINES and OPENSSL_MODULES (an empty or
 * relative value is refused; the message names the variable). Part of
 * sg_config_check_files(); alone for a key opened without a config (an
 * approver's). `rep` as there.
 */
int sg_config_check_openssl(uid_t uid, struct sg_strict_report *rep);

/* The strict-mode rule for the policy's files: root, `uid`, and "policy_group". */
struct sg_strict_rule;
void sg_config_policy_rule(const sg_config *cfg, uid_t uid, struct sg_strict_rule *out);

/*
 * A check of every config sg_config_load_flags() loads (lenient or not),
 * made after parsing and before the strict-mode check, that only a folder
 * above this one can make: the key sources' table (lib/keys,
 * sg_keys_check_config) refuses an unknown "key_source" and settings its
 * row cannot use, when the config loads rather than when a key is opened.
 * Which key settings go together is said there only: this layer reads them
 * as they are. Set once by the program before it loads a config
 * (tools/signgate.c); NULL (the default: lib callers, fuzz_config) checks
 * nothing more at load, and the table makes the same check, with the same
 * message, whenever a key is opened or its confinement computed (every use
 * goes through sg_key_source_find), so no key is used from settings nobody
 * judged; only the refusal comes later.
 */
typedef int (*sg_config_checker)(const sg_config *cfg);
void sg_config_set_checker(sg_config_checker check);

/*
 * Check that the signing settings are complete (a key source is configured).
 * Returns SG_OK or SG_ERR_CONFIG.
 */
int sg_config_require_signing(const sg_config *cfg);

/*
 * Before a signing key is opened: the files of the signing section (the
 * PKCS#12 file, the PEM chain and key, the certificate, the password or PIN
 * file) exist and are regular files. Returns SG_OK, or SG_ERR_CONFIG naming
 * the config, the key and the file, so that a run whose key cannot be found
 * stops as a configuration problem before any input is read. What is in
 * them is the key helper's to judge.
 */
int sg_config_check_signing_files(const sg_config *cfg);

/* The osslsigncode path used when the config names none (a build setting). */
const char *sg_config_default_osslsigncode(void);

/* Default gpgv path (lib/vendor runs it; lib/confine lets signgate run it). */
#define SG_GPGV_DEFAULT "/usr/bin/gpgv"

/* Free a config; NULL is accepted. */
void sg_config_free(sg_config *cfg);

#define SG_CONFIG_SECRET_FILES_MAX 5

/*
 * The files of `cfg` that hold key material or a secret (the signing key's
 * PKCS#12 or PEM key, its password or PIN file, the sealing key and its
 * secret file; a "pkcs11:" URI is no file), into `out`, NULL-terminated and
 * borrowed from `cfg`: what a child that reads installers must not read.
 */
void sg_config_secret_files(const char *out[SG_CONFIG_SECRET_FILES_MAX + 1], const sg_config *cfg);

#endif

/*
 * The code-signing trust of one run, loaded once: the trust anchors
 * (trust.ca_file), the timestamp anchors (trust.tsa_ca_file) and the offline
 * CRLs (trust.crl_file). Each file is read once, checked (a regular file,
 * PEM that holds certificates or CRLs, each CRL within its validity period)
 * and kept in memory as X509_STOREs for signgate's own checks; each
 * file's bytes are kept too, for the private copies osslsigncode reads
 * (sg_trust_write_copy()), so that signgate and osslsigncode judge the same
 * bytes and a file replaced during the run reaches neither. Replaces the X509_STORE loaders of
 * authenticode.c, cert.c and verify.c, which re-read the files 3-5 times per
 * verification.
 *
 * A run keeps the trust it loaded: sg_trust_check() (before each job) finds
 * a file that was removed or replaced by something unusable since (the same
 * messages as at load), but a file renewed during the run counts from the
 * next run on (it is judged once per change, not before every job). The
 * folder permissions of these files are the strict-mode
 * check's business (sg_config_check_files()), made when the config loads.
 *
 * Immutable once loaded (sg_trust_check() keeps, under a lock, only what it
 * has seen of the files): threads may share it. Free with sg_trust_free().
 */
#ifndef SIGNGATE_TRUST_H
#define SIGNGATE_TRUST_H

#include <openssl/x509.h>

typedef struct sg_trust sg_trust;
struct sg_strict_rule;

/*
 * The one reader of a PEM trust file, for the stores built elsewhere (the
 * approvers' anchors and CRLs, lib/policy/cosign.c): `path` read once
 * (a regular file, at most 64 MiB) and parsed as sg_trust_load() parses its
 * files; its certificates pushed onto `certs` and its CRLs onto `crls`
 * (new references; NULL: not wanted). With `rule`, the file is opened
 * through sg_strict_open(): it and every folder above it owned by root or
 * rule->uid and not writable by group or others, each link on the way held
 * to the same, and the bytes read are those of the file that was checked
 * (no window between check and read). `what` names the file in messages
 * ("the approvers' CA"). An empty file, or one with no PEM object, gives
 * nothing and no error: the caller counts. Returns SG_OK; SG_ERR_CONFIG
 * ("PATH: cannot read WHAT: REASON", the strict rule's finding, "PATH: the
 * WHAT is larger than 67108864 bytes"); SG_ERR_IO when a read fails or the
 * file changes while read; SG_ERR_NOMEM.
 */
int sg_trust_read_pem(STACK_OF(X509) * certs, STACK_OF(X509_CRL) * crls, const char *path,
		      const char *what, const struct sg_strict_rule *rule);

/* The files, as configured (NULL: not given; ca_file is required for a chain check). */
typedef struct sg_trust_files {
	const char *ca_file;
	const char *tsa_ca_file; /* NULL: ca_file plus the system bundle serve for timestamps */
	const char *crl_file;
	/*
	 * 1: build the timestamp store too (sg_trust_tsa_store()), which without
	 * tsa_ca_file reads the system bundle; 0 for a chain check alone (the
	 * key helper's certificate lint must not read that bundle).
	 */
	int timestamps;
} sg_trust_files;

/*
 * Read and check the files of `files` into a new trust `*out`. Returns
 * SG_OK; SG_ERR_CONFIG naming the file and the reason ("PATH: cannot read
 * the trust anchors: not a regular file", "PATH: cannot load the CRLs: the
 * file holds no PEM CRL (or a damaged one)", "PATH: the CRL of ISSUER
 * expired on DATE: renew it ..."); SG_ERR_IO or SG_ERR_FORMAT from
 * sg_read_fd() when a file changes while read or is larger than 64 MiB;
 * SG_ERR_NOMEM. On failure `*out` is NULL.
 */
int sg_trust_load(sg_trust **out, const sg_trust_files *files);

/*
 * Before a job: each file is still a readable regular file and, when it
 * changed since it was loaded, still a usable one. Reads nothing of a file
 * that did not change (device, inode, size, modification time). Returns
 * SG_OK or the error sg_trust_load() would give now.
 */
int sg_trust_check(const sg_trust *t);

/*
 * The store for chain checks: the anchors and the CRLs (borrowed; no flags
 * set: the caller sets X509_V_FLAG_CRL_CHECK on its X509_STORE_CTX). NULL
 * when no ca_file was given.
 */
X509_STORE *sg_trust_chain_store(const sg_trust *t);

/*
 * The store for timestamp tokens: the timestamp anchors (or the anchors and
 * the system bundle), the CRLs with X509_V_FLAG_CRL_CHECK where a CRL of the
 * issuer is held. Borrowed: up-ref it before handing it to an owner
 * (TS_VERIFY_CTX_set_store). NULL when neither anchor file was given or
 * the trust was loaded without `timestamps`.
 */
X509_STORE *sg_trust_tsa_store(const sg_trust *t);

/* The configured paths (NULL when not given), for messages and for osslsigncode. */
const char *sg_trust_ca_file(const sg_trust *t);
const char *sg_trust_tsa_ca_file(const sg_trust *t);
const char *sg_trust_crl_file(const sg_trust *t);

typedef enum sg_trust_file { SG_TRUST_CA, SG_TRUST_TSA, SG_TRUST_CRL } sg_trust_file;

/*
 * Write file `which`'s bytes, as they were read and checked, to the new
 * private file `path` (sg_write_private()): what osslsigncode reads.
 * Returns SG_OK, SG_ERR_IO, or SG_ERR_CONFIG when `t` has no such file.
 */
int sg_trust_write_copy(const sg_trust *t, sg_trust_file which, const char *path);

/* Free `t`; NULL is accepted. */
void sg_trust_free(sg_trust *t);

#endif

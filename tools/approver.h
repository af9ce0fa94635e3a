/*
 * Who approves in `signgate policy approve` (approver.c): the account that
 * runs signgate, or with --cert/--key the first approver's certificate, and
 * that approver's signature over the approval file's bytes. Identity is
 * never typed in; SIGNGATE_APPROVER only adds a display name, recorded as
 * self-declared.
 */
#ifndef SIGNGATE_TOOLS_APPROVER_H
#define SIGNGATE_TOOLS_APPROVER_H

#include <jansson.h>
#include <stddef.h>

#include "signgate/config.h"
#include "signgate/cosign.h"
#include "signgate/secret.h"

/* The signing options of `policy approve`, as parsed. */
typedef struct approver_opts {
	const char *cert, *key, *pkcs11_module, *approvers_ca;
	sg_secret_source secret;
} approver_opts;

typedef struct approver {
	char name[600]; /* "approved_by": the account or the certificate's name, and
			   "(self-declared: DISPLAY)" when SIGNGATE_APPROVER is set */
	char account[256], display[256], host[256];
	unsigned long uid;        /* effective uid */
	sg_approver_key *key;     /* --cert/--key: the first approver's; NULL without */
	sg_cosigner signer;       /* its certificate's identity */
	sg_approvers_trust trust; /* what its signature is checked against */
} approver;

/*
 * An approver's key on the command line (policy approve, policy cosign):
 * a "pkcs11:" URI goes with a PKCS#11 module (an absolute path), a file
 * without one. Returns 0 or the usage error's exit code.
 */
int approver_key_usage(const char *cmd, const char *key, const char *pkcs11_module);

/*
 * The approver key's password or PIN from `src` (a private file or the
 * terminal; none when neither is set), prompting with `what` and `key`.
 * Returns 0 or an exit code (the error printed).
 */
int approver_secret(sg_secret *out, sg_secret_source *src, const char *what, const char *key);

/* Check the signing options (`have_config`: --config given); 0 or the usage exit code. */
int approver_opts_check(const approver_opts *o, int have_config);

/*
 * With --cert/--key: open the key (its password or PIN asked for first and
 * wiped once the key is open) and read who it is; `cfg` may be NULL. 0 or
 * an exit code, the error printed.
 */
int approver_open(approver *ap, approver_opts *o, const sg_config *cfg);

/* Fill the account, host and names. SG_OK or SG_ERR_CONFIG (a bad SIGNGATE_APPROVER). */
int approver_identify(approver *ap);

/* provenance.approver; a new object or NULL. */
json_t *approver_json(const approver *ap);

/*
 * With a key: the first approver's signature over `text` (the bytes
 * `approval_path` will have), checked as signing will check it, in `*der`
 * (free()); without a key *der stays NULL. SG_OK or sg_cosign_sign()'s errors.
 */
int approver_sign(const approver *ap, unsigned char **der, size_t *der_len,
		  const char *approval_path, const char *text, size_t len);

/* Free the key; safe on a zeroed struct. */
void approver_free(approver *ap);

#endif

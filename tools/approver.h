/*
 * The command-line side of who approves (approver.c): the --cert/--key
 * options, the key's password or PIN, opening the key. Who approves
 * (sg_approver: the account, or the first approver's certificate) and the
 * approver's signature are in signgate/approve.h. Identity is never typed
 * in; SIGNGATE_APPROVER only adds a display name, recorded as self-declared.
 */
#ifndef SIGNGATE_TOOLS_APPROVER_H
#define SIGNGATE_TOOLS_APPROVER_H

#include <jansson.h>
#include <stddef.h>

#include "signgate/config.h"
#include "signgate/cosign.h"
#include "signgate/secret.h"
#include "signgate/approve.h"

/* The signing options of `policy approve`, as parsed. */
typedef struct approver_opts {
	const char *cert, *key, *pkcs11_module, *key_source, *approvers_ca;
	sg_secret_source secret;
} approver_opts;

/*
 * An approver's key on the command line (policy approve, policy cosign):
 * a "pkcs11:" URI goes with a PKCS#11 module (an absolute path), a file
 * without one; `key_source` (--key-source, may be NULL) goes with a key.
 * The module is held to the strict rule of a config's module,
 * with what OpenSSL loads code by (sg_keys_check_module_strict), early, so
 * that a refusal is told before a PIN is asked for; sg_approver_key_open()
 * checks again, for every caller. Returns 0,
 * or the usage error's or the refusal's exit code (the error printed).
 */
int approver_key_usage(const char *cmd, const char *key, const char *pkcs11_module,
		       const char *key_source);

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
int approver_open(sg_approver *ap, approver_opts *o, const sg_config *cfg);

#endif

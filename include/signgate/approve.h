/*
 * The approve workflow of `signgate policy approve` (vendor side): the
 * installer copied privately and hashed once, its vendor values (a manifest's
 * entries, --sha256/--sha512) compared, the vendor's OpenPGP signatures
 * checked with gpgv, the policy asked (an existing id, the catalog), then one
 * approval file POLICY/ID.json written atomically (with its first approver's
 * signature when a key is given), the policy reloaded and reindexed, and the
 * decision recorded in the audit log. Also who approves (sg_approver): the
 * account that runs signgate, or the first approver's certificate and key.
 * tools/ parses the options, opens the approver's key (asking for its
 * secret) and prints the result.
 */
#ifndef SIGNGATE_APPROVE_H
#define SIGNGATE_APPROVE_H

#include <jansson.h>
#include <stddef.h>

#include "signgate/config.h"
#include "signgate/cosign.h"
#include "signgate/format.h"
#include "signgate/hash.h"
#include "signgate/manifest.h"
#include "signgate/policy.h"
#include "signgate/util.h"

/* Who approves. */
typedef struct sg_approver {
	char name[600]; /* "approved_by": the account or the certificate's name, and
			   "(self-declared: DISPLAY)" when SIGNGATE_APPROVER is set */
	char account[256], display[256], host[256];
	unsigned long uid;        /* effective uid */
	sg_approver_key *key;     /* --cert/--key: the first approver's; NULL without */
	sg_cosigner signer;       /* its certificate's identity */
	sg_approvers_trust trust; /* what its signature is checked against */
} sg_approver;

/*
 * Fill the account, host and names of `ap` (its key, when any, is open
 * already). SG_OK or SG_ERR_CONFIG (SIGNGATE_APPROVER with control
 * characters, not UTF-8 or too long).
 */
int sg_approver_identify(sg_approver *ap);

/* provenance.approver: a new object, or NULL when out of memory. */
json_t *sg_approver_json(const sg_approver *ap);

/*
 * With a key: the first approver's signature over `text` (the bytes
 * `approval_path` will have), checked as signing will check it, in `*der`
 * (free()); without a key *der stays NULL. SG_OK or sg_cosign_sign()'s errors.
 */
int sg_approver_sign(const sg_approver *ap, unsigned char **der, size_t *der_len,
		     const char *approval_path, const char *text, size_t len);

/* Free the key; safe on a zeroed struct. */
void sg_approver_free(sg_approver *ap);

/* What `policy approve` was asked (the options; NULL: not given). */
typedef struct sg_approve_request {
	const char *policy, *config, *product, *vendor, *version, *ticket;
	const char *manifest, *manifest_sig, *installer_sig, *keyring;
	const char *sha256, *sha512, *source, *expires, *id, *file, *existing, *accept_unsigned;
	const char *not_in_catalog;
	const char *description, *installer, *openpgp_key;
	/*
	 * Without a config (a policy working copy) the keyring is not held to
	 * the strict-mode rule; this is told its path, to warn (may be NULL).
	 */
	void (*strict_warn)(const char *path);
} sg_approve_request;

#define SG_APPROVE_MAX_VALUES 16

/* One vendor value and where it came from. */
typedef struct sg_approve_value {
	sg_hash_alg alg;
	char hex[129];
	const char *from; /* "manifest" or "command line" */
	size_t line;      /* manifest line */
	const char *format;
} sg_approve_value;

/* Everything one approval run learns; initialise with SG_APPROVE_INIT, free with sg_approve_free(). */
typedef struct sg_approve {
	const sg_approve_request *o;
	const sg_config *cfg; /* NULL: a policy working copy (--policy) */
	sg_workdir wd;        /* the private folder (wd.path) */
	sg_existing_rule existing; /* o->existing, read once (sg_existing_rule_parse()) */
	char *copy, *manifest_copy;
	char *policy_dir, *keyring_path, *approval_path;
	const char *keyring_rel; /* keyring_path relative to the policy folder */
	char *manifest_text;
	size_t manifest_len;
	char manifest_sha256[65];
	sg_digests digests;
	sg_format_info format;
	sg_approve_value values[SG_APPROVE_MAX_VALUES];
	size_t n_values;
	json_t *openpgp;    /* array of what gpgv said */
	sg_approver who;    /* who approves: the account, or the --cert certificate */
	int require_cosign; /* the two-person rule applies to the approval */
	char id[129];
	const char *name;  /* the installer's name in the approval */
	json_t *approval;  /* the approval written; NULL when none */
	char *index_warning; /* why the policy index could not be written; NULL: it was */
} sg_approve;

#define SG_APPROVE_INIT { .wd = SG_WORKDIR_INIT }

/*
 * Run the workflow for `st->o` (set `o`, `cfg`, `who` and `name` first;
 * `require_cosign` when the config says so) on the policy folder
 * `policy_path`, and record the decision in `st->cfg`'s audit log: an
 * approval is written only with its record (else it is taken back). Returns
 * SG_OK (approved and written); SG_ERR_VERIFY or SG_ERR_DENIED (refused,
 * recorded); SG_ERR_EXISTS (the id is taken); SG_ERR_USAGE, SG_ERR_CONFIG,
 * SG_ERR_IO, SG_ERR_FORMAT, SG_ERR_NOMEM; the message names the file and
 * the reason.
 */
int sg_approve_run(sg_approve *st, const char *policy_path);

/* Free what `st` holds (the approver's key too); `st` may be SG_APPROVE_INIT. */
void sg_approve_free(sg_approve *st);

#endif

/*
 * The approval policy: which vendor installers may be signed.
 *
 * A policy is one JSON file or a folder of *.json files (read in name
 * order and merged), each {"approvals": [...], "revoked": [...]}; the fields
 * are documented in policy/README.md and policy/approval.schema.json.
 * Decisions are default deny: a file is approved only when its digest equals
 * an approval's vendor value, that approval has not expired, the digest is
 * not revoked, the approval's "file" (when given) equals the input's base
 * name, and the approval's existing-signature rule allows the input.
 */
#ifndef SIGNGATE_POLICY_H
#define SIGNGATE_POLICY_H

#include <stddef.h>
#include <time.h>

typedef enum sg_existing_rule {
	SG_EXISTING_REFUSE = 0, /* an already signed input is denied (default) */
	SG_EXISTING_REPLACE,    /* the vendor signature is replaced by ours */
	SG_EXISTING_NEST,       /* ours is appended as a nested signature */
} sg_existing_rule;

typedef struct sg_approval {
	char *id, *product, *vendor, *version, *file;
	char *sha256, *sha512; /* lower-case hex; NULL when not given */
	char *source, *approved_by, *ticket, *approved_at, *expires;
	char *description, *url; /* what the Authenticode signature shows */
	sg_existing_rule existing;
	char *origin; /* the policy file it came from */
} sg_approval;

typedef struct sg_revocation {
	char *sha256, *sha512; /* lower-case hex; one at least */
	char *reason;
	char *origin;
} sg_revocation;

typedef struct sg_policy {
	sg_approval *approvals;
	size_t n_approvals;
	sg_revocation *revoked;
	size_t n_revoked;
} sg_policy;

/* What the decision needs to know about one input. */
typedef struct sg_policy_input {
	const char *name;       /* base name */
	const char *sha256_hex; /* lower-case */
	const char *sha512_hex; /* lower-case */
	int has_signature;      /* an Authenticode signature is already present */
} sg_policy_input;

#define SG_POLICY_MAX_REASONS 8

typedef struct sg_decision {
	int approved;
	const sg_approval
		*approval; /* the approval that allowed (or best explains a denial); may be NULL */
	size_t n_reasons;
	char reasons[SG_POLICY_MAX_REASONS][320];
} sg_decision;

/*
 * Load the policy at `path` (a file or a folder of *.json files). Returns
 * SG_OK with a new policy in `out` (free with sg_policy_free()), SG_ERR_IO, or
 * SG_ERR_CONFIG naming the file, the approval and the field at fault.
 * Duplicate approval ids are errors.
 */
int sg_policy_load(sg_policy **out, const char *path);

/*
 * Decide on `in` at time `now`. Always fills `out`; never fails. The
 * reasons say why (for an approval: which approval and how the existing
 * signature is handled).
 */
void sg_policy_decide(sg_decision *out, const sg_policy *policy, const sg_policy_input *in,
		      time_t now);

/* "refuse", "replace" or "nest". */
const char *sg_existing_rule_name(sg_existing_rule rule);

/* Free a policy; NULL is accepted. */
void sg_policy_free(sg_policy *policy);

#endif

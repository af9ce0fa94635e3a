/*
 * What lib/policy.c shares with lib/policy_index.c (the validated index of a
 * policy): parsing one approval or revocation from its own JSON text, the
 * decision over a chosen set of approvals, and the index's hooks.
 */
#ifndef SIGNGATE_POLICY_INTERNAL_H
#define SIGNGATE_POLICY_INTERNAL_H

#include "signgate/policy.h"

/*
 * The version of the rules a policy is validated and parsed with. An index
 * records it and is not used by a signgate with another: bump it whenever a
 * change to lib/policy.c makes a policy load differently (a new check, a new
 * field, another digest or date rule, another decision).
 */
#define SG_POLICY_RULES_VERSION 2 /* 2: product names, not_in_catalog */

/* 1 when a folder entry `name` is a policy file (*.json, not *.schema.json, no dot-file). */
int sg_policy_is_json_name(const char *name);

/*
 * Parse the approval (or revocation) whose JSON object is the `len` bytes at
 * `text`, as the full load parses it from policy file `origin` (#`ordinal`
 * in its list, for messages), into `out`, which is cleared first. Returns
 * SG_OK, SG_ERR_CONFIG or SG_ERR_NOMEM; on failure `out` holds nothing to free.
 */
int sg_policy_parse_approval(sg_approval *out, const char *text, size_t len, const char *origin,
			     size_t file_index, size_t ordinal);
int sg_policy_parse_revocation(sg_revocation *out, const char *text, size_t len, const char *origin,
			       size_t ordinal);

/* Free what an approval or a revocation holds (not the struct itself). */
void sg_policy_approval_clear(sg_approval *a);
void sg_policy_revocation_clear(sg_revocation *r);

/*
 * Load one policy file on its own, with every check of one file but none
 * across files. Returns as sg_policy_load() does.
 */
int sg_policy_load_one(sg_policy **out, const char *file);

/*
 * The approvals and revocations a decision looks at, in the policy's order:
 * either arrays of structs or arrays of pointers (for the index). A subset
 * of the policy decides as the whole policy does when it holds, in order,
 * every approval and revocation naming the input's digests and the first
 * approval naming the input's file name.
 */
typedef struct sg_policy_view {
	const sg_approval *approvals;
	const sg_approval *const *approval_ptrs;
	size_t n_approvals;
	const sg_revocation *revoked;
	const sg_revocation *const *revoked_ptrs;
	size_t n_revoked;
} sg_policy_view;

void sg_policy_decide_view(sg_decision *out, const sg_policy *p, const sg_policy_view *v,
			   const sg_policy_input *in, time_t now);

/*
 * lib/policy.c and policy_decide.c reach a policy's index (p->index) only
 * through these hooks, the first member of struct sg_policy_index (set by
 * policy_index.c), never by calling into policy_index.c: the calls go one
 * way, policy.c <- policy_decide.c <- policy_index.c <- policy_index_write.c.
 *   decide: sg_policy_decide() of a policy opened through its index
 *   free:   free the index part of a policy
 */
typedef struct sg_policy_index_hooks {
	void (*decide)(sg_decision *out, const sg_policy *p, const sg_policy_input *in, time_t now);
	void (*free)(struct sg_policy_index *ix);
} sg_policy_index_hooks;

static inline const sg_policy_index_hooks *
sg_policy_index_hooks_of(const struct sg_policy_index *ix)
{
	return *(const sg_policy_index_hooks *const *)ix;
}

#endif

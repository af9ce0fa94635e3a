/*
 * The policy's part of the audit report (`signgate audit report --policy`):
 * loading the policy for a report, and the approvals in force with who
 * approved them. The report's own calls, sg_report_policy_approvals() and
 * sg_report_policy_check(), are declared in report.h; both need a policy
 * loaded in full (sg_report_policy_load()): a policy opened through its
 * index holds no list of its approvals and revocations.
 */
#ifndef SIGNGATE_REPORT_POLICY_H
#define SIGNGATE_REPORT_POLICY_H

#include <time.h>

#include <jansson.h>

struct sg_policy;
struct sg_strict_rule;
struct sg_approvers_trust;

/*
 * Load the policy at `path` (a file or a folder of *.json files) for a
 * report: in full, never through its index (the report lists every
 * approval and revocation), held to the strict-mode rule `strict`
 * (strict.h; NULL: root and the effective user, no exception group) as
 * signing holds it: the path and every folder above it, every entry of a
 * policy folder (approval files, signatures, the index), and each policy
 * file again on the stat of the descriptor its bytes were read from (a file
 * swapped after the walk). Returns SG_OK with a new policy in `out` (free
 * with sg_policy_free()), SG_ERR_CONFIG naming the file and the reason (a
 * file others may write: "PATH: writable by others (mode ...)"; a policy
 * that does not load), SG_ERR_IO or SG_ERR_NOMEM; `*out` NULL on failure.
 */
int sg_report_policy_load(struct sg_policy **out, const char *path,
			  const struct sg_strict_rule *strict);

/*
 * "approved_by_from" of an approval in force: its "approved_by" is the text
 * typed into the approval file, or the name in the first approver's
 * certificate, both signatures of the approval file having verified as
 * signing verifies them (cosign.h).
 */
#define SG_REPORT_FROM_FILE "approval file (not verified)"
#define SG_REPORT_FROM_CERT "certificate"

/*
 * sg_report_policy_approvals() with the approvers' trust `t`
 * (sg_approvers_trust_from_config(); NULL, or one without a CA file: none,
 * and every approval's "approved_by" is the file's text, "approved_by_from"
 * SG_REPORT_FROM_FILE). With a CA, an approval whose file carries two valid
 * signatures by two approvers (sg_cosign_verify_pair(), over the bytes the
 * policy was loaded from) shows the first approver's certificate name,
 * SG_REPORT_FROM_CERT; any other stays SG_REPORT_FROM_FILE. Returns a new
 * array, or NULL (with the last error set) when out of memory or when
 * `policy` was opened through its index.
 */
json_t *sg_report_policy_approvals_trust(const struct sg_policy *policy, time_t now,
					 const struct sg_approvers_trust *t);

#endif

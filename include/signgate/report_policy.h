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
 * How the report judges with a policy, as signing would: sg_policy_decide(),
 * then the two-person rule (lib/sign/pipeline.c check_cosign()) when the
 * config's "trust.require_cosign" (`require_cosign`) or the policy's own
 * "require_cosign" asks for it. Each policy file's pair of signatures is
 * checked once (sg_cosign_verify_pair() with `t`, over the bytes the policy
 * was loaded from) and kept. `t`: the approvers' trust from the config
 * (sg_approvers_trust_from_config()); NULL when there is no config, and
 * then no pair can be checked. `policy` and `t` must outlive the judge.
 * Returns SG_OK or SG_ERR_NOMEM.
 */
typedef struct sg_report_judge sg_report_judge;
int sg_report_judge_new(sg_report_judge **out, const struct sg_policy *policy,
			const struct sg_approvers_trust *t, int require_cosign);
void sg_report_judge_free(sg_report_judge *j); /* NULL is accepted */

/* 1 when the two-person rule applies (the config's or the policy's). */
int sg_report_judge_required(const sg_report_judge *j);

/*
 * The summary's "approvals_in_force": not expired, not revoked, checked,
 * and under the two-person rule only an approval whose file carries a
 * valid pair (one whose pair is invalid or cannot be checked, e.g. without
 * a config, is not in force). Revoked and checked are judged by one rule
 * with the signings (lib/report/report_pairing.h): an approval's known
 * digests are those it names plus those the policy's approvals naming both
 * digests pair with them; it is revoked when a revocation names one of
 * them (a revocation by SHA-512 takes out an approval by SHA-256 alone
 * whose SHA-256 an approval pairs with that SHA-512, and the mirror); it
 * is not checked when it has no known SHA-512 and some revocation names a
 * SHA-512 that no approval pairs with a SHA-256 (the mirror for SHA-256),
 * and is then listed by sg_report_judge_approvals_unchecked() instead.
 * "approved_by" is the first approver's
 * certificate name ("approved_by_from" SG_REPORT_FROM_CERT) when the pair
 * verifies, else the file's text (SG_REPORT_FROM_FILE); with `t` NULL or
 * without a CA file, always the file's text. Returns a new array, or NULL
 * (last error set) when out of memory or when the policy was opened
 * through its index.
 */
json_t *sg_report_judge_approvals(sg_report_judge *j, time_t now);

/*
 * The summary's "approvals_unchecked": the approvals that would be in force
 * but for a revocation that may name their file by a digest nobody knows
 * (above), or, under the two-person rule, that signing reaches for an
 * unsigned file and not for a signed one or the mirror (an earlier approval
 * not co-signed allows only one of the two), each with the same members as
 * in "approvals_in_force" plus a "reason" ("... whether it is revoked
 * cannot be checked", "... depends on the file"). Returns a new
 * array, or NULL (last error set) as sg_report_judge_approvals().
 */
json_t *sg_report_judge_approvals_unchecked(sg_report_judge *j, time_t now);

/*
 * The summary's "approvals_shadowed": under the two-person rule, the
 * approvals that would be in force but that signing never reaches for
 * their file, because it takes an earlier approval of the same file (policy
 * order) whose file is not signed by two approvers and then refuses the
 * file; each with the same members plus a "reason" naming that approval.
 * Such an approval is in no other list. Returns a new array, or NULL (last
 * error set) as sg_report_judge_approvals().
 */
json_t *sg_report_judge_approvals_shadowed(sg_report_judge *j, time_t now);

/*
 * sg_report_policy_check() with the judge: under the two-person rule, a
 * signing whose approval's file does not carry a valid pair is
 * "not_approved" with signing's reason ("approval ID is not signed by two
 * approvers (two-person rule): ..."), and one whose pair cannot be checked
 * is "not_approved", "... cannot be checked ...", never approved. A
 * revoked input is "revoked" whatever other reason it has.
 */
int sg_report_judge_check(sg_report_judge *j, const json_t *signing, time_t now, json_t **row);

/*
 * "approved_by_from" of an approval in force: its "approved_by" is the text
 * typed into the approval file, or the name in the first approver's
 * certificate, both signatures of the approval file having verified as
 * signing verifies them (cosign.h).
 */
#define SG_REPORT_FROM_FILE "approval file (not verified)"
#define SG_REPORT_FROM_CERT "certificate"

/*
 * sg_report_judge_approvals() of a judge made with `t` and the policy's own
 * "require_cosign" only (no config's rule). Returns a new array, or NULL
 * (with the last error set) when out of memory or when `policy` was opened
 * through its index.
 */
json_t *sg_report_policy_approvals_trust(const struct sg_policy *policy, time_t now,
					 const struct sg_approvers_trust *t);

#endif

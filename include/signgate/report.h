/*
 * The audit report (`signgate audit report`): what an auditor reviews, made
 * from the audit log (the current file and its rotated archives), its seals
 * and, optionally, the policy in force now.
 *
 * A report is made in passes over the log files, never by holding the log
 * in memory: sg_report_make() first verifies the chain (and the seals), then
 * builds the summary (verdict, files, per-day counts, certificates, policy
 * approvals) and hands it to a sink, then streams the rows of each section
 * to the sink one record at a time. Memory grows with the number of days of
 * the period and of distinct signer certificates, never with the records.
 *
 * Every pass reads exactly the bytes the verification covered and checks
 * that they still chain to the verified head (seq one more, "prev" the
 * SHA-256 of the line before, the last line's SHA-256 the head): a log
 * edited or replaced while the report is made fails the report instead of
 * feeding it other records. Records appended meanwhile are not in it.
 *
 * The content (the same for HTML and JSON; JSON keys in this order):
 *
 * summary (sink->begin):
 *   "report":   {"format": "signgate-audit-report/1", "generated" (UTC),
 *                "signgate_version", "generated_by": {"user", "uid", "host"}
 *                (from the OS), "since", "until" (as given, or null),
 *                "config" (path or null), "policy" (path or null)}
 *   "verdict":  {"status": "intact" | "partial" | "broken",
 *                "exit_code" (what `audit verify` exits with), "message",
 *                "records", "first_seq", "last_seq", "head",
 *                "seals": {"configured" (true/false), "checked" (how many
 *                          seals were checked: an integer, 0 when none is made
 *                          yet), "sealed_seq", "sealed_time" (null when none
 *                          covers these records), "unsealed_records",
 *                          "against" (the off-host copy checked, or null:
 *                          then a log cut back with its seals file reads
 *                          as intact), "certificate_sha256" (of the
 *                          sealing certificate the seals are pinned to, or
 *                          null), "seal_records" (the log's "seal" records,
 *                          seals given or not), "last_seal_record_seq"},
 *                "verify_command" (a line to paste into a shell)}
 *   "files":    [{"role": "archive" | "log" | "seals" | "offhost_seals" |
 *                 "policy", "path", "bytes", "sha256", "note" (only in a
 *                 broken verdict: which bytes they are, or why none)}]
 *   "period":   {"from", "to" ("YYYY-MM-DD"), "days"}
 *   "days":     [{"date", "signed", "denied", "failed"}], every day of the
 *                period, oldest first, zeros included
 *   "totals":   {"records", "signed", "denied", "failed"} (in the period)
 *   "certificates": [{"subject", "sha1_thumbprint", "sha256", "not_after",
 *                "days_left" (null when not_after is null or unreadable),
 *                "expiry_warning": null | "expired" | "expires within 60
 *                days" | "expiry unknown", "same_subject_as" (other
 *                thumbprints seen with this subject, case-insensitively),
 *                "subject_warning": null | "same subject as N other
 *                certificate(s): a renewal or an impostor",
 *                "records_disagree" (a later record with these thumbprints
 *                gave another subject or not_after; the row keeps the
 *                first), "records_warning": null | "records disagree about
 *                this certificate", "signings", "first_used",
 *                "last_used"}], at most 1000, in order of first use
 *   "certificates_not_listed": {"listed_at_most": 1000, "certificates"
 *                (distinct certificates beyond those listed), "at_least"
 *                (true: more than 100 000 distinct thumbprints were seen,
 *                "certificates" is a lower bound), "signings" (theirs, also
 *                in "totals"), "note": "N more certificates not listed"}
 *   "policy":   null, or {"path", "sha256" (of the bytes judged, when it is
 *                one file; null for a folder, whose files are each in
 *                "files", as read), "approvals_in_force": [{"id",
 *                "product", "vendor", "version", "file", "sha256",
 *                "approved_by", "approved_by_from", "ticket", "expires"}]
 *                (not expired, not revoked, checked: report_policy.h),
 *                "approvals_unchecked": [the same members, and "reason"]
 *                (approvals that would be in force but for what the
 *                report cannot see: a revocation that may name their
 *                file by a digest neither they nor any approval give, or
 *                under the two-person rule whether the file carries a
 *                signature; not counted in force),
 *                "approvals_shadowed": [the same members, and "reason"]
 *                (two-person rule: co-signed approvals that signing never
 *                reaches, an earlier approval of the same file not being
 *                co-signed: report_policy.h),
 *                "no_longer_approved": count, "two_person_rule": null (not
 *                required) | {"required_by": "config" | "policy" |
 *                "config and policy", "checked": true when an approvers' CA
 *                is configured (each file's pair is then checked; false:
 *                none can be, no approval is in force), "note"}}
 *
 * sections (sink->section, then sink->row per row, then sink->end_section),
 * in this order; "no_longer_approved" only with a policy:
 *   "problems": records of the period whose decision is "denied" (a denial)
 *               or "failed" / "invalid" (a failure), oldest first:
 *               {"seq", "time", "action", "decision", "input": {"name",
 *                "sha256"} | null, "approval_id", "reasons": [...],
 *                "error", "actor": {"user", "uid", "host"}}
 *   "signings": records of the period with decision "signed":
 *               {"seq", "id", "time", "input": {"name", "sha256", "size"},
 *                "output": {"sha256", "size"}, "approval": {"id",
 *                "product", "vendor", "version", "ticket", "approved_by",
 *                "approved_by_from", "cosigned_by": {"name",
 *                "subject", "email", "cert_sha256"} | null, "policy_file_sha256"},
 *                "signer": {"subject", "sha1_thumbprint", "not_after"},
 *                "timestamp", "tsa_url", "actor": {"user", "uid", "host"}}
 *               (a field the record lacks is null)
 *   "no_longer_approved": signings of the period whose input the policy
 *               would not approve now: {"seq", "time", "input": {"name",
 *               "sha256"}, "output_sha256", "approval_id", "status":
 *               "revoked" | "not_approved", "reasons": [...]}; revoked
 *               also through an approval pairing the record's digest with
 *               a revoked one, "not_approved" when that cannot be checked
 *               (the rule of report_policy.h)
 *
 * Days, the period and "time" are UTC. Strings are the log's, unchanged: a
 * sink that renders them (HTML) escapes them.
 *
 * A broken chain (verdict "broken"): the summary has "report", "verdict"
 * and "files" (of each file the bytes the check read, digested as they
 * were read: "bytes" and "sha256" of the first N bytes of a log, up to and
 * including where the check stopped, with a "note" saying so; null, with a
 * "note", for a log not read; of a seals file or off-host copy that is not
 * valid seals, the bytes read of it),
 * "period" null, "days" [], "totals" null, "certificates" [],
 * "certificates_not_listed" null, "policy"
 * null, and NO section follows (sink->end comes right after sink->begin):
 * a report that repeated the records of an altered log would launder them.
 * Otherwise "files" gives, for each log file, the bytes the verified
 * records take and their SHA-256 (`head -c BYTES FILE | sha256sum`),
 * whatever was appended since; seals and policy files whole ("bytes" and
 * "sha256" null for a seals file that does not exist).
 * "verdict"."status" is "partial" when the chain starts after seq 1 (the
 * first file continues archives that were not given or not found).
 * "unsealed_records": the records after the newest seal checked (all of
 * them when no seal was checked or none is configured).
 */
#ifndef SIGNGATE_REPORT_H
#define SIGNGATE_REPORT_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

struct sg_audit_seals;
struct sg_audit_file_read;
struct sg_policy;
struct sg_config;

/*
 * Where a report goes. Each callback returns SG_OK or an SG_* error (with
 * sg_error_set()), which stops the report. `count` is the number of rows
 * the section will get.
 */
typedef struct sg_report_sink {
	void *arg;
	int (*begin)(void *arg, const json_t *summary);
	int (*section)(void *arg, const char *name, size_t count);
	int (*row)(void *arg, const char *section, const json_t *row);
	int (*end_section)(void *arg, const char *name);
	int (*end)(void *arg);
	void (*free)(void *arg);
} sg_report_sink;

/* A sink that writes the report as one JSON object to `out` (report_json.c). */
int sg_report_sink_json(sg_report_sink *sink, FILE *out);

/*
 * A sink that writes one self-contained HTML page to `out`: inline CSS and
 * SVG, no script, no external reference, every string escaped
 * (report_html.c).
 */
int sg_report_sink_html(sg_report_sink *sink, FILE *out);

/* Release a sink's state (calls sink->free); a zeroed sink is accepted. */
void sg_report_sink_free(sg_report_sink *sink);

typedef struct sg_report_options {
	const char *const *logs; /* the log files, oldest first (archives, then the log) */
	size_t n_logs;
	const struct sg_audit_seals *seals; /* loaded and checked; NULL: none configured */
	const char *seals_path;             /* for "files"; NULL when none */
	/*
	 * The off-host copy of the seals (`--against`), as loaded: its seals are
	 * merged into `seals` already; this is for "files" and the verdict.
	 * NULL (and offhost_path NULL) when none was given; `offhost` NULL with
	 * offhost_path set when the copy did not load (see offhost_read).
	 */
	const char *offhost_path;
	const struct sg_audit_seals *offhost;
	/*
	 * Why the seals (or the off-host copy) did not load as valid seals
	 * (sg_audit_seals_load()'s SG_ERR_TAMPER message: a line edited, a seal
	 * that does not verify, the copy sealing a seq with another head): the
	 * verdict is then broken with this reason, as `audit verify` says it.
	 * NULL when they loaded (or none were given).
	 */
	const char *seals_broken;
	/*
	 * What was read of the seals file (with seals_broken and no `seals`),
	 * or of the off-host copy (with no `offhost`) that did not load as
	 * valid seals: "files" names those bytes. NULL: nothing was read.
	 */
	const struct sg_audit_file_read *seals_read, *offhost_read;
	/*
	 * The archives could not be found (sg_audit_chain_files_read()'s
	 * SG_ERR_TAMPER message: rotate records that loop, too many archives,
	 * a first line that cannot be read): the verdict is broken with this
	 * reason, and `logs` are the files read to find them, with what was
	 * read of each in `logs_read` (n_logs entries). NULL otherwise.
	 */
	const char *chain_broken;
	const struct sg_audit_file_read *logs_read;
	unsigned verify_flags;              /* SG_AUDIT_VERIFY_* */
	const char *since, *until;          /* "YYYY-MM-DD" or a full UTC time; NULL: open */
	const struct sg_policy *policy;     /* NULL: no policy section */
	const char *policy_path;
	/*
	 * What a co-signed approval's two signatures are checked against for
	 * "approved_by_from" (report_policy.h); NULL: none, every approver is
	 * the approval file's text.
	 */
	const struct sg_approvers_trust *approvers;
	/*
	 * The config's "trust.require_cosign": the two-person rule, judged as
	 * signing judges it (report_policy.h sg_report_judge_new(); the
	 * policy's own "require_cosign" counts as well).
	 */
	int require_cosign;
	const char *config_path;   /* for "report"; NULL when none */
	/*
	 * The `audit verify` line that reproduces the verdict; the report adds
	 * " --partial" when seals of records before the files given were only
	 * counted (verify_flags has SG_AUDIT_VERIFY_PARTIAL).
	 */
	const char *verify_command;
	time_t now;
} sg_report_options;

/*
 * Make the report into `sink`. Returns SG_OK when the report was made
 * (whatever its verdict: *verdict_exit is set to what `audit verify` would exit
 * with, 0 intact, 3 broken), or an error when it could not be made
 * (SG_ERR_IO, SG_ERR_TAMPER for a log that changed while it was read,
 * SG_ERR_USAGE for a bad period, SG_ERR_NOMEM, or the sink's error).
 * On an error the sink may have had part of the report: discard its
 * output (`audit report` writes into a temporary file, published whole or
 * not at all).
 */
int sg_report_make(const sg_report_options *o, const sg_report_sink *sink, int *verdict_exit);

/*
 * The policy's part (report_policy.c). The approvals in force at `now`, as
 * the summary's "approvals_in_force" array (a new reference), or NULL when
 * out of memory. Those that cannot be checked are left out
 * (sg_report_judge_approvals_unchecked() in report_policy.h lists them).
 */
json_t *sg_report_policy_approvals(const struct sg_policy *policy, time_t now);

/*
 * Would `policy` approve now the input of `signing` (a "signed" record)?
 * *row is set to NULL when it would, else a new "no_longer_approved" row.
 * Returns SG_OK or SG_ERR_NOMEM.
 */
int sg_report_policy_check(const struct sg_policy *policy, const json_t *signing, time_t now,
			   json_t **row);

#endif

/*
 * The audit report: see include/signgate/report.h. The chain is verified
 * first; the summary pass (counts, certificates, the files' hashes) and one
 * pass per section then read exactly the verified records (report_pass.c).
 * A broken chain gives the verdict and the files, and no rows.
 */
#include "signgate/audit.h"
#include "signgate/audit_query.h"
#include "signgate/audit_seal.h"
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/policy.h"
#include "signgate/report.h"
#include "signgate/report_policy.h"
#include "report_internal.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct make {
	const sg_report_options *o;
	const sg_report_sink *sink;
	sg_audit_report rep;
	int broken;
	char why[SG_ERROR_MAX]; /* verify's message when broken */
	struct rp_chain chain;
	struct rp_file *files;
	sg_audit_file_read *read; /* what verify read of each log (a broken verdict's) */
	struct rp_period period;
	struct rp_days days;
	struct rp_certs certs;
	size_t records, n_signed, n_denied, n_failed, n_nla;
	size_t undated; /* records whose "time" is no calendar day: in no day's counts */
	int count_error; /* of count_plain(), which cannot return one */
	const char *section; /* the section a row pass feeds */
	sg_report_judge *judge; /* with a policy: how it judges (report_policy.h) */
	json_t *restamped;      /* with a policy: rp_restamp_*() of the current pass */
};

void sg_report_sink_free(sg_report_sink *sink)
{
	if (sink && sink->free)
		sink->free(sink->arg);
	if (sink)
		sink->free = NULL;
}

/* "report": who made it, when, from what. */
static json_t *report_json(const sg_report_options *o)
{
	char now[21], host[256] = "";
	struct tm tm;
	uid_t uid = geteuid();
	struct passwd *pw = getpwuid(uid);
	char uid_text[32];

	gmtime_r(&o->now, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	snprintf(uid_text, sizeof(uid_text), "%lu", (unsigned long)uid);
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:I, s:s}, s:s?, s:s?, s:s?, s:s?}", "format",
			 "signgate-audit-report/1", "generated", now, "signgate_version",
			 SG_VERSION, "generated_by", "user", pw ? pw->pw_name : uid_text, "uid",
			 (json_int_t)uid, "host", host, "since", o->since, "until", o->until,
			 "config", o->config_path, "policy", o->policy_path);
}

/* The verdict's words: what was checked, and what was not. */
static void verdict_message(char *out, size_t size, const struct make *m, const char *status)
{
	const sg_report_options *o = m->o;
	const sg_audit_report *r = &m->rep;
	char seals[1024];

	if (!o->seals && r->seal_records_seen)
		snprintf(seals, sizeof(seals),
			 "NO SEALS were checked: none were given, yet the log holds %zu seal "
			 "record%s (the last at seq %lld), so a seals file exists and was left "
			 "out; records cut off its end would not show.",
			 r->seal_records_seen, r->seal_records_seen == 1 ? "" : "s",
			 r->last_seal_record_seq);
	else if (!o->seals)
		snprintf(seals, sizeof(seals),
			 "NO SEALS were checked (none configured): a log rewritten from scratch, "
			 "or records cut off its end, would not show.");
	else if (r->seals_checked == 0)
		snprintf(seals, sizeof(seals),
			 "NO SEAL covers any record (the seals file %s): a log rewritten from "
			 "scratch, or records cut off its end, would not show.",
			 o->seals->missing ? "does not exist" : "holds no seal of these files");
	else if (r->last_seq > r->sealed_seq)
		snprintf(seals, sizeof(seals),
			 "Sealed up to seq %lld (%s); %lld record%s after it %s NOT sealed yet.",
			 r->sealed_seq, r->sealed_time, r->last_seq - r->sealed_seq,
			 r->last_seq - r->sealed_seq == 1 ? "" : "s",
			 r->last_seq - r->sealed_seq == 1 ? "is" : "are");
	else
		snprintf(seals, sizeof(seals), "Sealed up to the last record, seq %lld (%s).",
			 r->sealed_seq, r->sealed_time);
	if (m->broken)
		snprintf(out, size,
			 "BROKEN: %s. The records are not listed: a report of an altered log would "
			 "repeat what was changed.",
			 m->why);
	else if (strcmp(status, "partial") == 0)
		snprintf(out, size,
			 "PARTIAL: the chain of %zu records is intact from seq %lld to %lld, but "
			 "the %lld records before seq %lld are in archives that were not given or "
			 "are missing: they are not checked and not in this report. %s",
			 r->records, r->first_seq, r->last_seq, r->first_seq - 1, r->first_seq,
			 seals);
	else
		snprintf(out, size, "INTACT: all %zu records (seq %lld-%lld) chain from the first. %s",
			 r->records, r->first_seq, r->last_seq, seals);
	if (m->undated) {
		size_t used = strlen(out);

		snprintf(out + used, size - used,
			 " %zu record%s of the period %s a \"time\" that is no calendar day: in "
			 "the totals and the lists, in no day's counts.",
			 m->undated, m->undated == 1 ? "" : "s", m->undated == 1 ? "has" : "have");
	}
}

static json_t *verdict_json(const struct make *m)
{
	const sg_report_options *o = m->o;
	const sg_audit_report *r = &m->rep;
	const char *status = m->broken ? "broken" : r->first_seq > 1 ? "partial" : "intact";
	char message[SG_ERROR_MAX + 1024], command[8192];
	long long unsealed = r->records == 0 ? 0
			     : r->sealed_seq >= r->first_seq ? r->last_seq - r->sealed_seq
							     : (long long)r->records;

	verdict_message(message, sizeof(message), m, status);
	snprintf(command, sizeof(command), "%s%s", o->verify_command ? o->verify_command : "",
		 o->verify_command && r->seals_before ? " --partial" : "");
	return json_pack("{s:s, s:i, s:s, s:I, s:I, s:I, s:s, s:{s:b, s:I, s:o, s:o, s:I, s:s?, "
			 "s:s?, s:I, s:o}, s:s?}",
			 "status", status, "exit_code", m->broken ? 3 : 0, "message", message,
			 "records", (json_int_t)r->records, "first_seq", (json_int_t)r->first_seq,
			 "last_seq", (json_int_t)r->last_seq, "head", r->head, "seals",
			 "configured", o->seals != NULL || o->seals_broken, "checked", (json_int_t)r->seals_checked,
			 "sealed_seq",
			 r->seals_checked ? json_integer(r->sealed_seq) : json_null(),
			 "sealed_time",
			 r->seals_checked ? json_string(r->sealed_time) : json_null(),
			 "unsealed_records", (json_int_t)unsealed, "against",
			 o->offhost_path, "certificate_sha256",
			 o->seals ? o->seals->pinned : NULL, "seal_records",
			 (json_int_t)r->seal_records_seen, "last_seal_record_seq",
			 r->seal_records_seen ? json_integer(r->last_seal_record_seq) : json_null(),
			 "verify_command",
			 o->verify_command ? command : NULL);
}

/*
 * One entry of "files": `sha256` NULL when nothing of the file was read
 * ("bytes" and "sha256" null); `note` (may be NULL) says what the bytes are.
 */
static int add_file(json_t *files, const char *role, const char *path, unsigned long long bytes,
		    const char *sha256, const char *note)
{
	json_t *f = json_pack("{s:s, s:s, s:o, s:o}", "role", role, "path", path, "bytes",
			      sha256 ? json_integer((json_int_t)bytes) : json_null(), "sha256",
			      sha256 ? json_string(sha256) : json_null());

	if (f && note && json_object_set_new(f, "note", json_string(note)) != 0) {
		json_decref(f);
		f = NULL;
	}
	if (!f || json_array_append_new(files, f) != 0)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	return SG_OK;
}

/*
 * A file of a broken verdict: the bytes the check read of it, digested as
 * they were read (never read again: a file put back meanwhile is not the
 * one judged), or nothing when the check stopped before it.
 */
static int add_read(json_t *files, const char *role, const char *path,
		    const sg_audit_file_read *r, const char *not_read)
{
	char note[256];

	if (!r || !r->read)
		return add_file(files, role, path, 0, NULL, not_read);
	snprintf(note, sizeof(note),
		 "the first %llu bytes, as the check read them%s (head -c %llu FILE | sha256sum)",
		 r->bytes, r->whole ? ", the whole file then" : "", r->bytes);
	return add_file(files, role, path, r->bytes, r->sha256, note);
}

/* The seals, or the off-host copy: the bytes checked, hashed as they were read. */
static int add_seals(json_t *files, const char *role, const char *path,
		     const sg_audit_seals *s, const sg_audit_file_read *failed)
{
	if (s && s->missing)
		return add_file(files, role, path, 0, NULL, NULL);
	if (s)
		return add_file(files, role, path, s->bytes, s->sha256, NULL);
	return add_read(files, role, path, failed, "not read");
}

/* The log files: the verified bytes of each, or, when broken, what was read. */
static int logs_json(json_t *files, const struct make *m)
{
	const sg_report_options *o = m->o;
	const sg_audit_file_read *read = o->chain_broken ? o->logs_read : m->read;
	int error = SG_OK;

	for (size_t i = 0; i < o->n_logs && !error; i++) {
		const char *role = i + 1 < o->n_logs ? "archive" : "log";

		if (!m->broken)
			error = add_file(files, role, o->logs[i], m->files[i].bytes,
					 m->files[i].sha256, NULL);
		else
			error = add_read(files, role, o->logs[i], read ? &read[i] : NULL,
					 o->seals_broken ? "not read: the seals decided the verdict"
							 : "not read: the check stopped before it");
	}
	return error;
}

/* "files": the logs, seals, off-host copy and policy, each as it was read. */
static int files_json(json_t **out, const struct make *m)
{
	const sg_report_options *o = m->o;
	json_t *files = json_array();
	int error = files ? logs_json(files, m) : sg_error_set(SG_ERR_NOMEM, "out of memory");

	if (!error && o->seals_path)
		error = add_seals(files, "seals", o->seals_path, o->seals, o->seals_read);
	if (!error && o->offhost_path)
		error = add_seals(files, "offhost_seals", o->offhost_path, o->offhost,
				  o->offhost_read);
	/* The policy's files as they were read for the report (a folder: each file). */
	for (size_t i = 0; o->policy && i < o->policy->n_files && !error; i++) {
		const sg_policy_file *pf = &o->policy->files[i];

		error = add_file(files, "policy", pf->path, pf->len, pf->sha256, NULL);
	}
	if (error)
		json_decref(files);
	*out = error ? NULL : files;
	return error;
}

/*
 * Is the record in the period? The one test of the summary and the rows, so
 * that a section receives exactly the rows its count announced.
 */
static int in_period(const struct make *m, const json_t *rec)
{
	return rp_period_has(&m->period, json_string_value(json_object_get(rec, "time")));
}

/* A plain line's time (NUL-terminated in `out`); NULL when it has none, as parsed. */
static const char *line_time(const struct rp_line *l, char out[32])
{
	if (!l->time)
		return NULL;
	snprintf(out, 32, "%.*s", l->time_len < 32 ? (int)l->time_len : 31, l->time);
	return out;
}

/* Count a record of the period: its day, its kind. */
static int count(struct make *m, const char *time, int kind)
{
	long day;
	int error = SG_OK;

	m->records++;
	/* Verify checked the time's shape, not its calendar: a month 13 has no day. */
	if (rp_day_of(time, &day) == 0)
		error = rp_days_add(&m->days, day, kind);
	else
		m->undated++;
	m->n_denied += kind == RP_DENIED;
	m->n_failed += kind == RP_FAILED;
	m->n_signed += kind == RP_SIGNED;
	return error;
}

/*
 * The summary pass on a plain line: a record that is not a signing is
 * counted here, unparsed; a signing (certificate, policy) is parsed and
 * counted by count_one().
 */
static int count_plain(const struct rp_line *l, void *arg)
{
	struct make *m = arg;
	char time[32];
	int kind = rp_line_kind(l);

	/* With a policy, a restamped copy may be of a signing no longer approved. */
	if (kind == RP_SIGNED || (m->o->policy && rp_is(l->decision, l->decision_len, "timestamped")))
		return 1;
	if (rp_period_has(&m->period, line_time(l, time)) && count(m, time, kind) != SG_OK)
		m->count_error = sg_error_code();
	return 0;
}

/*
 * --policy: the row of a signing the policy would no longer approve, or of a
 * restamped copy of one ("timestamped"), followed the whole log long (a copy
 * made in the period may be of a file signed before it); *row NULL for any
 * other record, or one outside the period (`in` 0).
 */
static int nla_row(struct make *m, const json_t *rec, int kind, int in, json_t **row)
{
	const char *decision = sg_audit_field(rec, "decision");
	int error = SG_OK;

	*row = NULL;
	if (kind == RP_SIGNED) {
		error = sg_report_judge_check(m->judge, rec, m->o->now, row);
		if (!error)
			error = rp_restamp_remember(m->restamped, rec, *row);
	} else if (decision && strcmp(decision, "timestamped") == 0) {
		error = rp_restamp_row(m->restamped, rec, row);
	}
	if (error || !in) {
		json_decref(*row);
		*row = NULL;
	}
	return error;
}

/* The summary pass on a parsed record (a signing, or a line that is not plain). */
static int count_one(const json_t *rec, void *arg)
{
	struct make *m = arg;
	int kind = rp_kind(rec), error = m->count_error, in;
	json_t *row = NULL;

	if (error)
		return error;
	in = in_period(m, rec);
	if (in)
		error = count(m, json_string_value(json_object_get(rec, "time")), kind);
	if (!error && in && kind == RP_SIGNED)
		error = rp_certs_add(&m->certs, rec);
	if (!error && m->o->policy)
		error = nla_row(m, rec, kind, in, &row);
	m->n_nla += row != NULL;
	json_decref(row);
	return error;
}

/* "two_person_rule": whether the rule applies, and whether it could be checked. */
static json_t *two_person_json(const struct make *m)
{
	const sg_report_options *o = m->o;
	int cfg = o->require_cosign, pol = o->policy->require_cosign;
	int checked = o->approvers && o->approvers->ca_file;

	if (!sg_report_judge_required(m->judge))
		return json_null();
	return json_pack(
		"{s:s, s:b, s:s}", "required_by",
		cfg && pol ? "config and policy" : cfg ? "config" : "policy", "checked", checked,
		"note",
		checked ? "an approval counts only when its file carries two valid approvers' "
			  "signatures, checked against the config's trust.approvers_ca_file as "
			  "signing checks them"
		: o->approvers
			? "the config names no trust.approvers_ca_file: no approval's signatures can "
			  "be checked, so none is in force and no signing is approved now (signing "
			  "denies them too)"
			: "without --config there is no approvers' CA: no approval's signatures can "
			  "be checked, so none is counted in force and no signing approved now");
}

/* "policy": its SHA-256 when it is one file (a folder's files are in "files"). */
static json_t *policy_json(const struct make *m)
{
	const sg_report_options *o = m->o;
	const sg_policy *p = o->policy;
	int one = p && p->n_files == 1 && o->policy_path && strcmp(p->files[0].path, o->policy_path) == 0;

	if (!p)
		return json_null();
	return json_pack("{s:s?, s:s?, s:o, s:o, s:o, s:I, s:o}", "path", o->policy_path, "sha256",
			 one ? p->files[0].sha256 : NULL, "approvals_in_force",
			 sg_report_judge_approvals(m->judge, o->now), "approvals_unchecked",
			 sg_report_judge_approvals_unchecked(m->judge, o->now), "approvals_shadowed",
			 sg_report_judge_approvals_shadowed(m->judge, o->now), "no_longer_approved",
			 (json_int_t)m->n_nla, "two_person_rule", two_person_json(m));
}

static json_t *period_json(const struct rp_period *p)
{
	char from[11], to[11];

	rp_day_text(p->from, from);
	rp_day_text(p->to, to);
	return json_pack("{s:s, s:s, s:I}", "from", from, "to", to, "days",
			 (json_int_t)(p->to - p->from + 1));
}

static int summary_json(json_t **out, const struct make *m)
{
	const sg_report_options *o = m->o;
	json_t *files = NULL, *s;
	int error = files_json(&files, m);

	if (error)
		return error;
	if (m->broken)
		s = json_pack("{s:o, s:o, s:o, s:n, s:[], s:n, s:[], s:n, s:n}", "report",
			      report_json(o), "verdict", verdict_json(m), "files", files,
			      "period", "days", "totals", "certificates",
			      "certificates_not_listed", "policy");
	else
		s = json_pack("{s:o, s:o, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:o, s:o, s:o}",
			      "report", report_json(o), "verdict", verdict_json(m), "files",
			      files, "period", period_json(&m->period), "days",
			      rp_days_json(&m->period, &m->days), "totals", "records",
			      (json_int_t)m->records, "signed", (json_int_t)m->n_signed, "denied",
			      (json_int_t)m->n_denied, "failed", (json_int_t)m->n_failed,
			      "certificates", rp_certs_json(&m->certs, o->now),
			      "certificates_not_listed", rp_certs_more_json(&m->certs), "policy",
			      policy_json(m));
	*out = s;
	return s ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory while making the report");
}

/* A row pass: the records of the period that belong to m->section. */
static int row_one(const json_t *rec, void *arg)
{
	struct make *m = arg;
	int kind = rp_kind(rec), error;
	json_t *row = NULL;

	if (strcmp(m->section, "no_longer_approved") == 0) {
		error = nla_row(m, rec, kind, in_period(m, rec), &row);
		if (error || !row)
			return error;
	} else if (!in_period(m, rec)) {
		return SG_OK;
	} else if (strcmp(m->section, "problems") == 0 && (kind == RP_DENIED || kind == RP_FAILED))
		row = rp_problem_row(rec);
	else if (strcmp(m->section, "signings") == 0 && kind == RP_SIGNED)
		row = rp_signing_row(rec);
	else
		return SG_OK;
	if (!row)
		return sg_error_set(SG_ERR_NOMEM, "out of memory while making the report");
	error = m->sink->row(m->sink->arg, m->section, row);
	json_decref(row);
	return error;
}

/* A row pass on a plain line: only the records of its section are parsed. */
static int row_plain(const struct rp_line *l, void *arg)
{
	const struct make *m = arg;
	char time[32];
	int kind = rp_line_kind(l);

	/* Every signing and restamp: the copies of the period may be of earlier ones. */
	if (strcmp(m->section, "no_longer_approved") == 0)
		return kind == RP_SIGNED || rp_is(l->decision, l->decision_len, "timestamped");
	if (!rp_period_has(&m->period, line_time(l, time)))
		return 0;
	if (strcmp(m->section, "problems") == 0)
		return kind == RP_DENIED || kind == RP_FAILED;
	return kind == RP_SIGNED;
}

static int section(struct make *m, const char *name, size_t count)
{
	const sg_report_sink *sink = m->sink;
	int error = sink->section(sink->arg, name, count);

	m->section = name;
	if (!error)
		error = rp_pass(&m->chain, row_plain, row_one, m, NULL);
	if (!error)
		error = sink->end_section(sink->arg, name);
	return error;
}

/* Verify the chain; a broken one is a verdict, not an error. */
static int verify(struct make *m)
{
	const sg_report_options *o = m->o;
	int error;

	if (o->chain_broken || o->seals_broken) {
		m->broken = 1;
		snprintf(m->why, sizeof(m->why), "%s",
			 o->chain_broken ? o->chain_broken : o->seals_broken);
		return SG_OK;
	}
	m->read = calloc(o->n_logs, sizeof(*m->read));
	if (!m->read)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = sg_audit_verify_files_read(o->logs, o->n_logs, o->seals, o->verify_flags, &m->rep,
					   m->read);

	if (error == SG_ERR_TAMPER) {
		m->broken = 1;
		snprintf(m->why, sizeof(m->why), "%s", sg_error_last());
		return SG_OK;
	}
	m->chain.paths = o->logs;
	m->chain.n = o->n_logs;
	m->chain.records = m->rep.records;
	m->chain.first_seq = m->rep.first_seq;
	m->chain.last_seq = m->rep.last_seq;
	memcpy(m->chain.head, m->rep.head, sizeof(m->chain.head));
	return error;
}

static int make(struct make *m)
{
	const sg_report_sink *sink = m->sink;
	json_t *summary = NULL;
	int error = verify(m);

	if (!error && !m->broken) {
		m->files = calloc(m->o->n_logs, sizeof(*m->files));
		error = m->files ? rp_pass(&m->chain, count_plain, count_one, m, m->files)
				 : sg_error_set(SG_ERR_NOMEM, "out of memory");
		if (!error)
			error = m->count_error;
	}
	if (!error && !m->broken)
		error = rp_period_close(&m->period, &m->days, m->o->now);
	if (!error)
		error = summary_json(&summary, m);
	if (!error)
		error = sink->begin(sink->arg, summary);
	json_decref(summary);
	if (!error && !m->broken)
		error = section(m, "problems", m->n_denied + m->n_failed);
	if (!error && !m->broken)
		error = section(m, "signings", m->n_signed);
	/* The restamped copies found again from the start, as the summary pass found them. */
	if (!error && !m->broken && m->o->policy && json_object_clear(m->restamped) != 0)
		error = sg_error_set(SG_ERR_NOMEM, "out of memory while making the report");
	if (!error && !m->broken && m->o->policy)
		error = section(m, "no_longer_approved", m->n_nla);
	if (!error)
		error = sink->end(sink->arg);
	return error;
}

int sg_report_make(const sg_report_options *o, const sg_report_sink *sink, int *verdict_exit)
{
	struct make m = { .o = o, .sink = sink };
	int error;

	*verdict_exit = 0;
	if (!o || !sink || !sink->begin || o->n_logs == 0)
		return sg_error_set(SG_ERR_USAGE, "audit report: no log or no sink");
	error = rp_period_open(&m.period, o->since, o->until);
	if (!error && o->policy)
		error = sg_report_judge_new(&m.judge, o->policy, o->approvers, o->require_cosign);
	if (!error && o->policy && !(m.restamped = json_object()))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error)
		error = make(&m);
	if (!error)
		*verdict_exit = m.broken ? 3 : 0;
	free(m.files);
	free(m.read);
	free(m.days.v);
	rp_certs_free(&m.certs);
	sg_report_judge_free(m.judge);
	json_decref(m.restamped);
	return error;
}

/*
 * The policy's part of the audit report: the approvals in force now, and the
 * signings whose input the policy would not approve now (report.h,
 * report_policy.h).
 *
 * A signing is judged by sg_policy_decide() on what its record says of the
 * input (name, SHA-256, SHA-512 when recorded, format, whether it was signed
 * before), at the report's `now`. A record holds the input's SHA-512 only
 * when the policy named a SHA-512 at signing time; a revocation added later
 * by SHA-512 alone would then pass unseen, so such a revocation is matched
 * through the approvals that pair its SHA-512 with the record's SHA-256, and
 * one that cannot be matched either way makes the signing "not_approved"
 * with a reason saying it cannot be checked: the report never claims more
 * than it checked.
 */
#include "signgate/report_policy.h"

#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/policy.h"
#include "signgate/policy_json.h"
#include "signgate/report.h"
#include "signgate/strict.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sg_report_policy_load(sg_policy **out, const char *path, const sg_strict_rule *strict)
{
	sg_strict_rule own;
	sg_policy *p = NULL;
	int error;

	*out = NULL;
	if (!strict) {
		sg_strict_rule_init(&own, geteuid());
		strict = &own;
	}
	/* The walk: the path, the folders above it, every entry of a policy folder. */
	error = sg_strict_check(NULL, path, strict, SG_STRICT_GROUP | SG_STRICT_ENTRIES);
	if (error)
		return error;
	error = sg_policy_load(&p, path);
	if (error)
		return error;
	/* Each file again, on the descriptor its bytes came from. */
	for (size_t i = 0; i < p->n_files; i++) {
		error = sg_strict_stat_check(&p->files[i].st, p->files[i].path, strict,
					     SG_STRICT_GROUP);
		if (error) {
			sg_policy_free(p);
			return error;
		}
	}
	*out = p;
	return SG_OK;
}

static void utc_day(char day[16], time_t now)
{
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(day, 16, "%Y-%m-%d", &tm);
}

static int same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* 1 when a revocation names one of the approval's digests. */
static int approval_revoked(const sg_policy *p, const sg_approval *a)
{
	for (size_t i = 0; i < p->n_revoked; i++) {
		const sg_revocation *r = &p->revoked[i];
		if (same(r->sha256, a->sha256) || same(r->sha512, a->sha512))
			return 1;
	}
	return 0;
}

static int indexed(const sg_policy *p)
{
	if (!p->index)
		return 0;
	sg_error_set(SG_ERR_USAGE,
		     "the report needs the policy loaded in full (sg_report_policy_load()), not "
		     "opened through its index");
	return 1;
}

/*
 * Who approved `a`: the first approver's certificate when both signatures of
 * its file verify (once per file: `verified` caches 1 yes, -1 no), else the
 * file's text. 0, or -1 when out of memory.
 */
static int put_approver(json_t *obj, const sg_policy *p, const sg_approval *a,
			const sg_approvers_trust *t, signed char *verified, char (*names)[256])
{
	size_t fi = a->file_index;
	const sg_policy_file *f = fi < p->n_files ? &p->files[fi] : NULL;
	int cert;

	if (t && t->ca_file && f && verified[fi] == 0) {
		sg_cosigner first, second;
		verified[fi] = f->bytes && sg_cosign_verify_pair(&first, &second, f->path, f->bytes,
								 f->len, t) == SG_OK
				       ? 1
				       : -1;
		if (verified[fi] == 1)
			snprintf(names[fi], sizeof(names[0]), "%s", first.name);
		sg_error_clear();
	}
	cert = f && verified[fi] == 1;
	return json_object_set_new(obj, "approved_by",
				   sg_json_text(cert ? names[fi] : a->approved_by)) ||
	       json_object_set_new(obj, "approved_by_from",
				   json_string(cert ? SG_REPORT_FROM_CERT : SG_REPORT_FROM_FILE));
}

static json_t *approval_in_force(const sg_policy *p, const sg_approval *a,
				 const sg_approvers_trust *t, signed char *verified,
				 char (*names)[256])
{
	json_t *obj = json_object();
	int bad = !obj;

	bad = bad || json_object_set_new(obj, "id", sg_json_text(a->id)) ||
	      json_object_set_new(obj, "product", sg_json_text(a->product)) ||
	      json_object_set_new(obj, "vendor", sg_json_text(a->vendor)) ||
	      json_object_set_new(obj, "version", sg_json_text(a->version)) ||
	      json_object_set_new(obj, "file", sg_json_text(a->file)) ||
	      json_object_set_new(obj, "sha256", sg_json_text(a->sha256));
	bad = bad || put_approver(obj, p, a, t, verified, names) ||
	      json_object_set_new(obj, "ticket", sg_json_text(a->ticket)) ||
	      json_object_set_new(obj, "expires", sg_json_text(a->expires));
	if (bad) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *sg_report_policy_approvals_trust(const sg_policy *p, time_t now,
					 const sg_approvers_trust *t)
{
	json_t *list;
	signed char *verified;
	char(*names)[256];
	char today[16];

	if (indexed(p))
		return NULL;
	list = json_array();
	verified = calloc(p->n_files + 1, 1);
	names = calloc(p->n_files + 1, sizeof(*names));
	utc_day(today, now);
	for (size_t i = 0; list && verified && names && i < p->n_approvals; i++) {
		const sg_approval *a = &p->approvals[i];
		json_t *obj;

		/* In force: not expired (the decision's rule: the expiry day included), not
		 * revoked. */
		if ((a->expires && strcmp(today, a->expires) > 0) || approval_revoked(p, a))
			continue;
		obj = approval_in_force(p, a, t, verified, names);
		if (!obj || json_array_append_new(list, obj) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	if (!verified || !names) {
		json_decref(list);
		list = NULL;
	}
	free(verified);
	free(names);
	if (!list)
		sg_error_set(SG_ERR_NOMEM, "out of memory");
	return list;
}

json_t *sg_report_policy_approvals(const sg_policy *policy, time_t now)
{
	return sg_report_policy_approvals_trust(policy, now, NULL);
}

static const char *get_text(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* What the signing record says of its input. */
typedef struct record_input {
	const char *name, *sha256, *sha512, *format;
	int signed_before;
} record_input;

static void read_input(record_input *in, const json_t *signing)
{
	const json_t *input = json_object_get(signing, "input");

	in->name = get_text(input, "name");
	in->sha256 = get_text(input, "sha256");
	in->sha512 = get_text(input, "sha512");
	in->signed_before = json_is_true(json_object_get(input, "signed_before"));
	in->format = get_text(input, "format");
}

/* What the check found: a status and up to SG_POLICY_MAX_REASONS + 1 reasons. */
typedef struct verdict {
	const char *status; /* NULL: approved now */
	size_t n;
	char reasons[SG_POLICY_MAX_REASONS + 1][SG_ERROR_MAX];
} verdict;

__attribute__((format(printf, 2, 3))) static void add(verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->n >= sizeof(v->reasons) / sizeof(v->reasons[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(v->reasons[v->n++], sizeof(v->reasons[0]), fmt, ap);
	va_end(ap);
}

/*
 * A revocation by SHA-512 alone, checked against a record without the
 * input's SHA-512: the approvals that pair that SHA-512 with the record's
 * SHA-256 say it is this input's. Returns 1 revoked (reason added), 0 not,
 * and counts in `*unknown` the ones that cannot be matched at all.
 */
static int revoked_by_pairing(verdict *v, const sg_policy *p, const record_input *in,
			      size_t *unknown)
{
	*unknown = 0;
	for (size_t i = 0; i < p->n_revoked; i++) {
		const sg_revocation *r = &p->revoked[i];
		const sg_approval *pair = NULL;

		if (r->sha256 || !r->sha512)
			continue;
		for (size_t j = 0; !pair && j < p->n_approvals; j++)
			if (same(p->approvals[j].sha512, r->sha512))
				pair = &p->approvals[j];
		if (!pair || !pair->sha256) {
			(*unknown)++;
		} else if (same(pair->sha256, in->sha256)) {
			add(v,
			    "%s: digest is revoked: %s (revoked by SHA-512, which approval %s "
			    "gives for this SHA-256)",
			    in->name, r->reason, pair->id);
			return 1;
		}
	}
	return 0;
}

/*
 * A revocation is the decision's only reason, "NAME: digest is revoked:
 * REASON", with no approval: matched from its start, so that a file named
 * "x: digest is revoked: y" is not taken for one.
 */
static int revoked_decision(const sg_decision *d, const char *name)
{
	static const char mark[] = ": digest is revoked: ";
	size_t len = strlen(name);

	return !d->approved && !d->approval && d->n_reasons == 1 &&
	       strncmp(d->reasons[0], name, len) == 0 &&
	       strncmp(d->reasons[0] + len, mark, sizeof(mark) - 1) == 0;
}

static void judge(verdict *v, const sg_policy *p, const record_input *rin, time_t now)
{
	/* The format's number is not looked up from its recorded name (lib/format's rule). */
	sg_policy_input in = { rin->name, rin->sha256, rin->sha512 ? rin->sha512 : "",
			       rin->signed_before, SG_FORMAT_UNKNOWN };
	sg_decision d;
	size_t unknown = 0;

	if (!rin->sha512 && !p->index && revoked_by_pairing(v, p, rin, &unknown)) {
		v->status = "revoked";
		return;
	}
	sg_policy_decide(&d, p, &in, now);
	/*
	 * Nesting is refused for a format whose nested signature Windows would
	 * never check; that depends on the format, which the decision above did
	 * not know: not claimed approved.
	 */
	if (d.approved && rin->signed_before && d.approval &&
	    d.approval->existing == SG_EXISTING_NEST) {
		v->status = "not_approved";
		add(v,
		    "%s carried a signature and approval %s says existing_signature=nest: whether "
		    "its format (%s) lets a nested signature be seen is not checked by the report "
		    "(`signgate check` of the input decides it)",
		    rin->name, d.approval->id, rin->format ? rin->format : "unknown");
		return;
	}
	if (d.approved && !unknown)
		return;
	v->status = revoked_decision(&d, rin->name) ? "revoked" : "not_approved";
	for (size_t i = 0; !d.approved && i < d.n_reasons; i++)
		add(v, "%s", d.reasons[i]);
	if (unknown)
		add(v,
		    "the signing record holds no SHA-512 of %s (the policy named none when it was "
		    "signed), and %zu revocation(s) of the policy name a SHA-512 alone that no "
		    "approval pairs with a SHA-256: whether it is revoked cannot be checked",
		    rin->name, unknown);
	else if (!rin->sha512 && p->uses_sha512 && strcmp(v->status, "not_approved") == 0)
		add(v,
		    "the signing record holds no SHA-512 of %s (the policy named none when it was "
		    "signed): approvals and revocations by SHA-512 cannot be matched against it",
		    rin->name);
}

static json_t *copy_or_null(const json_t *v)
{
	return v ? json_deep_copy(v) : json_null();
}

static json_t *make_row(const json_t *signing, const record_input *in, const verdict *v)
{
	const json_t *approval = json_object_get(signing, "approval");
	json_t *reasons = json_array();
	json_t *row = json_object();
	int bad = !row || !reasons;

	for (size_t i = 0; !bad && i < v->n; i++)
		bad = json_array_append_new(reasons, sg_json_text(v->reasons[i])) != 0;
	bad = bad ||
	      json_object_set_new(row, "seq", copy_or_null(json_object_get(signing, "seq"))) ||
	      json_object_set_new(row, "time", sg_json_text(get_text(signing, "time"))) ||
	      json_object_set_new(
		      row, "input",
		      json_pack("{s:o, s:o}", "name",
				sg_json_text(get_text(json_object_get(signing, "input"), "name")),
				"sha256", sg_json_text(in->sha256))) ||
	      json_object_set_new(
		      row, "output_sha256",
		      sg_json_text(get_text(json_object_get(signing, "output"), "sha256"))) ||
	      json_object_set_new(row, "approval_id", sg_json_text(get_text(approval, "id"))) ||
	      json_object_set_new(row, "status", json_string(v->status));
	if (bad || json_object_set_new(row, "reasons", reasons) != 0) {
		json_decref(row);
		return NULL;
	}
	return row;
}

int sg_report_policy_check(const sg_policy *policy, const json_t *signing, time_t now, json_t **row)
{
	record_input in;
	verdict *v = calloc(1, sizeof(*v));

	*row = NULL;
	if (!v)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	read_input(&in, signing);
	if (!in.name)
		in.name = "(no name)";
	if (!in.sha256) {
		v->status = "not_approved";
		add(v, "%s: the signing record names no SHA-256 of its input: it cannot be checked",
		    in.name);
	} else {
		judge(v, policy, &in, now);
	}
	if (v->status) {
		*row = make_row(signing, &in, v);
		if (!*row) {
			free(v);
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		}
	}
	free(v);
	return SG_OK;
}

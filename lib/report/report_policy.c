/*
 * The policy's part of the audit report: the approvals in force now, and the
 * signings whose input the policy would not approve now (report.h,
 * report_policy.h).
 *
 * A signing is judged by sg_policy_decide() on what its record says of the
 * input (name, SHA-256, SHA-512 when recorded, format, whether it was signed
 * before), at the report's `now`. A record holds the input's SHA-512 only
 * when the policy named a SHA-512 at signing time; a revocation added later
 * by SHA-512 would then pass unseen. So signings and approvals alike are
 * matched against the revocations by the digests they hold and those the
 * policy's approvals pair with them (report_pairing.h): revoked through a
 * pair, or, when a revocation may name the file by a digest nobody knows,
 * "cannot be checked" (a signing "not_approved", an approval listed apart
 * from those in force): the report never claims more than it checked.
 * Under the two-person rule (the config's or the policy's
 * require_cosign) an approval also needs its file's pair of approvers'
 * signatures, as signing checks it after the decision (sg_report_judge).
 */
#include "signgate/report_policy.h"

#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/policy.h"
#include "signgate/policy_json.h"
#include "signgate/report.h"
#include "signgate/strict.h"

#include "report_pairing.h"

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
 * The two-person rule as signing applies it (lib/sign/pipeline.c
 * check_cosign()): under it, an approval counts only when its file carries
 * two valid signatures by two approvers (sg_cosign_verify_pair(), over the
 * bytes the policy was loaded from). Each file's pair is checked once per
 * report and kept here.
 */
enum { PAIR_UNKNOWN = 0, PAIR_VALID, PAIR_INVALID, PAIR_UNCHECKED };

/* The lists of approvals the summary gives (approvals_sort()). */
enum which_list { IN_FORCE, UNCHECKED, SHADOWED, N_LISTS };

struct sg_report_judge {
	const sg_policy *p;
	const sg_approvers_trust *t; /* NULL: no --config, no approvers' CA */
	int required;                /* the config's or the policy's require_cosign */
	unsigned char *pair;         /* per policy file: PAIR_* */
	char (*first)[256];          /* the first approver's name, when PAIR_VALID */
	char **why;                  /* why not, when PAIR_INVALID or PAIR_UNCHECKED */
	struct rp_pairing g;         /* the revocations, matched through the pairs */
	json_t *lists[N_LISTS];      /* approvals_sort(): by enum which_list, for lists_now */
	time_t lists_now;
};

int sg_report_judge_new(sg_report_judge **out, const sg_policy *p, const sg_approvers_trust *t,
			int require_cosign)
{
	sg_report_judge *j = calloc(1, sizeof(*j));

	*out = NULL;
	if (j) {
		j->p = p;
		j->t = t;
		j->required = require_cosign || p->require_cosign;
		j->pair = calloc(p->n_files + 1, 1);
		j->first = calloc(p->n_files + 1, sizeof(*j->first));
		j->why = calloc(p->n_files + 1, sizeof(*j->why));
	}
	if (!j || !j->pair || !j->first || !j->why) {
		sg_report_judge_free(j);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	if (rp_pairing_build(&j->g, p) != SG_OK) {
		sg_report_judge_free(j);
		return SG_ERR_NOMEM;
	}
	*out = j;
	return SG_OK;
}

void sg_report_judge_free(sg_report_judge *j)
{
	if (!j)
		return;
	for (size_t i = 0; j->why && i <= j->p->n_files; i++)
		free(j->why[i]);
	free(j->why);
	for (int k = 0; k < N_LISTS; k++)
		json_decref(j->lists[k]);
	rp_pairing_free(&j->g);
	free(j->first);
	free(j->pair);
	free(j);
}

int sg_report_judge_required(const sg_report_judge *j)
{
	return j->required;
}

/* Keep `why` for file `fi` (NULL when out of memory: the caller says less). */
static void keep_why(sg_report_judge *j, size_t fi, const char *why)
{
	free(j->why[fi]);
	j->why[fi] = strdup(why);
}

/*
 * The state of the pair of file `fi` (PAIR_*), checked on first use. Without
 * the rule and without a CA nothing is checked (PAIR_UNCHECKED, no reason).
 */
static int pair_of(sg_report_judge *j, size_t fi)
{
	const sg_policy_file *f = fi < j->p->n_files ? &j->p->files[fi] : NULL;
	sg_cosigner first, second;
	int error;

	if (!f)
		return PAIR_UNCHECKED;
	if (j->pair[fi] != PAIR_UNKNOWN)
		return j->pair[fi];
	j->pair[fi] = PAIR_UNCHECKED;
	if (!j->t)
		keep_why(j, fi,
			 "co-signatures cannot be checked without --config (no approvers' CA, "
			 "trust.approvers_ca_file)");
	else if (!j->t->ca_file)
		keep_why(j, fi,
			 "co-signatures cannot be checked: the config names no "
			 "trust.approvers_ca_file (signing denies it too)");
	else if (!f->bytes)
		keep_why(j, fi, "co-signatures cannot be checked: the bytes of the file were not kept");
	if (!j->t || !j->t->ca_file || !f->bytes)
		return PAIR_UNCHECKED;
	error = sg_cosign_verify_pair(&first, &second, f->path, f->bytes, f->len, j->t);
	if (error == SG_OK) {
		j->pair[fi] = PAIR_VALID;
		snprintf(j->first[fi], sizeof(j->first[0]), "%s", first.name);
	} else {
		j->pair[fi] = error == SG_ERR_VERIFY ? PAIR_INVALID : PAIR_UNCHECKED;
		keep_why(j, fi, sg_error_last());
	}
	sg_error_clear();
	return j->pair[fi];
}

/*
 * Under the rule, 0 when approval `a` counts, else 1 with the reason (as
 * signing's denial says it) in `why` (`size` bytes).
 */
static int pair_refuses(sg_report_judge *j, const sg_approval *a, char *why, size_t size)
{
	int state;
	const char *text;

	if (!j->required)
		return 0;
	state = pair_of(j, a->file_index);
	if (state == PAIR_VALID)
		return 0;
	text = a->file_index < j->p->n_files && j->why[a->file_index] ? j->why[a->file_index]
								       : "not checked";
	if (state == PAIR_INVALID)
		snprintf(why, size, "approval %s is not signed by two approvers (two-person rule): %s",
			 a->id, text);
	else
		snprintf(why, size,
			 "approval %s: the two-person rule applies and whether its file is signed by "
			 "two approvers cannot be checked, so it is not taken as approved: %s",
			 a->id, text);
	return 1;
}

/*
 * Who approved `a`: the first approver's certificate when both signatures of
 * its file verify, else the file's text. 0, or -1 when out of memory.
 */
static int put_approver(json_t *obj, sg_report_judge *j, const sg_approval *a)
{
	int cert = 0;

	if (j->t && j->t->ca_file)
		cert = pair_of(j, a->file_index) == PAIR_VALID;
	return json_object_set_new(obj, "approved_by",
				   sg_json_text(cert ? j->first[a->file_index] : a->approved_by)) ||
	       json_object_set_new(obj, "approved_by_from",
				   json_string(cert ? SG_REPORT_FROM_CERT : SG_REPORT_FROM_FILE));
}

/* An approval's row; with `reason` (not NULL) why it cannot be checked. */
static json_t *approval_json(sg_report_judge *j, const sg_approval *a, const char *reason)
{
	json_t *obj = json_object();
	int bad = !obj;

	bad = bad || json_object_set_new(obj, "id", sg_json_text(a->id)) ||
	      json_object_set_new(obj, "product", sg_json_text(a->product)) ||
	      json_object_set_new(obj, "vendor", sg_json_text(a->vendor)) ||
	      json_object_set_new(obj, "version", sg_json_text(a->version)) ||
	      json_object_set_new(obj, "file", sg_json_text(a->file)) ||
	      json_object_set_new(obj, "sha256", sg_json_text(a->sha256));
	bad = bad || put_approver(obj, j, a) ||
	      json_object_set_new(obj, "ticket", sg_json_text(a->ticket)) ||
	      json_object_set_new(obj, "expires", sg_json_text(a->expires));
	bad = bad || (reason && json_object_set_new(obj, "reason", sg_json_text(reason)));
	if (bad) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/*
 * 1 when a revocation may name the file of `a` by a digest of it nobody
 * knows (report_pairing.h), with the reason in `why` (`size` bytes).
 */
static int approval_unchecked(const sg_report_judge *j, const sg_approval *a, char *why,
			      size_t size)
{
	const struct rp_subject s = { a->sha256, a->sha512 };
	int bits;
	size_t n = rp_pairing_unknown(&j->g, &s, &bits);

	if (!n)
		return 0;
	snprintf(why, size,
		 "approval %s names no SHA-%d of its file and no approval pairs its SHA-%d with "
		 "one, and %zu revocation(s) of the policy name a SHA-%d that no approval pairs "
		 "with a SHA-%d: it is in force unless one of them names its file, and whether "
		 "it is revoked cannot be checked",
		 a->id, bits, 768 - bits, n, bits, 768 - bits);
	return 1;
}

/*
 * Under the two-person rule, whether signing the file of `a` reaches `a`
 * (or another approval that counts) or takes first an approval of policy
 * order that the rule refuses (signing checks the co-signatures of the first
 * approval that allows the input, and refuses the input when they do not
 * verify: it never goes on). The input is the file as the policy knows it
 * (its name and digests as `a` gives them, with the pairs'), once unsigned
 * and once carrying a signature, since the report cannot know which the
 * vendor ships and approvals may treat the two apart (vendor_signs,
 * existing_signature). SHADOWED when every state `a` allows is refused so,
 * UNCHECKED when some are and others not, else IN_FORCE; the reason in `why`.
 */
static enum which_list approval_reach(sg_report_judge *j, const sg_approval *a, time_t now,
				      char *why, size_t size)
{
	const char *s256 = a->sha256 ? a->sha256 : rp_pairing_other(&j->g, a->sha512, 512),
		   *s512 = a->sha512 ? a->sha512 : rp_pairing_other(&j->g, a->sha256, 256);
	int allowed = 0, refused = 0, n;
	const char *state = NULL;
	char one[SG_ERROR_MAX];

	if (!j->required)
		return IN_FORCE;
	for (int signed_input = 0; signed_input < 2; signed_input++) {
		sg_policy_input in = { a->file ? a->file : "", s256 ? s256 : "", s512 ? s512 : "",
				       signed_input, 0 };
		sg_decision d;

		if (!sg_policy_approval_allows(j->p, a, &in, now))
			continue;
		allowed++;
		sg_policy_decide(&d, j->p, &in, now);
		if (!d.approved || !d.approval || d.approval == a)
			continue;
		n = snprintf(one, sizeof(one),
			     "signing this file%s takes approval %s first (%s) and refuses the file "
			     "while it is there: ",
			     signed_input ? " when it carries a signature" : " when it is unsigned",
			     d.approval->id, d.approval->origin ? d.approval->origin : "its file");
		if (n < 0 || (size_t)n >= sizeof(one))
			n = 0;
		if (!pair_refuses(j, d.approval, one + n, sizeof(one) - (size_t)n))
			continue;
		if (!refused++)
			snprintf(why, size, "%s", one);
		state = signed_input ? "an unsigned" : "a signed";
	}
	if (!refused)
		return IN_FORCE;
	if (refused == allowed)
		return SHADOWED;
	/* Reached in one state, not in the other: said, not counted in force. */
	n = (int)strlen(why);
	if ((size_t)n + 1 < size)
		snprintf(why + n, size - (size_t)n,
			 "; %s file reaches approval %s: whether signing reaches it depends on the "
			 "file, which the report cannot see",
			 state, a->id);
	return UNCHECKED;
}

/*
 * The approvals not expired (the decision's rule: the expiry day included),
 * not revoked, and under the two-person rule signed by two approvers, sorted
 * into the lists of enum which_list: each approval is in exactly one, or in
 * none when it is out of force; the lists but the first give a reason.
 */
static enum which_list approval_list_of(sg_report_judge *j, const sg_approval *a, time_t now,
					char *why, size_t size)
{
	enum which_list reach = approval_reach(j, a, now, why, size);

	if (reach != IN_FORCE)
		return reach;
	if (approval_unchecked(j, a, why, size))
		return UNCHECKED;
	return IN_FORCE;
}

/*
 * Every approval sorted into j->lists once per `now` (the three lists the
 * summary gives; an approval out of force is in none): each approval's
 * decisions are made once, whichever list is asked for first.
 */
static int approvals_sort(sg_report_judge *j, time_t now)
{
	const sg_policy *p = j->p;
	char today[16], why[SG_ERROR_MAX];
	int bad = 0;

	if (j->lists[IN_FORCE] && j->lists_now == now)
		return SG_OK;
	for (int k = 0; k < N_LISTS; k++) {
		json_decref(j->lists[k]);
		j->lists[k] = json_array();
	}
	j->lists_now = now;
	utc_day(today, now);
	for (size_t i = 0; !bad && i < p->n_approvals; i++) {
		const sg_approval *a = &p->approvals[i];
		const struct rp_subject s = { a->sha256, a->sha512 };
		enum which_list which;

		if ((a->expires && strcmp(today, a->expires) > 0) ||
		    rp_pairing_revoked(&j->g, &s) || pair_refuses(j, a, why, sizeof(why)))
			continue;
		which = approval_list_of(j, a, now, why, sizeof(why));
		bad = !j->lists[which] ||
		      json_array_append_new(j->lists[which],
					    approval_json(j, a, which != IN_FORCE ? why : NULL)) != 0;
	}
	bad = bad || !j->lists[IN_FORCE] || !j->lists[UNCHECKED] || !j->lists[SHADOWED];
	if (!bad)
		return SG_OK;
	for (int k = 0; k < N_LISTS; k++) {
		json_decref(j->lists[k]);
		j->lists[k] = NULL;
	}
	return sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/* List `which` of approvals_sort() (a new reference), or NULL (error set). */
static json_t *approvals_list(sg_report_judge *j, time_t now, enum which_list which)
{
	if (indexed(j->p) || approvals_sort(j, now) != SG_OK)
		return NULL;
	return json_incref(j->lists[which]);
}

json_t *sg_report_judge_approvals(sg_report_judge *j, time_t now)
{
	return approvals_list(j, now, IN_FORCE);
}

json_t *sg_report_judge_approvals_unchecked(sg_report_judge *j, time_t now)
{
	return approvals_list(j, now, UNCHECKED);
}

json_t *sg_report_judge_approvals_shadowed(sg_report_judge *j, time_t now)
{
	return approvals_list(j, now, SHADOWED);
}

json_t *sg_report_policy_approvals_trust(const sg_policy *p, time_t now,
					 const sg_approvers_trust *t)
{
	sg_report_judge *j;
	json_t *list;

	if (indexed(p) || sg_report_judge_new(&j, p, t, 0) != SG_OK)
		return NULL;
	list = sg_report_judge_approvals(j, now);
	sg_report_judge_free(j);
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
 * The revocations as matched through the policy's pairs (report_pairing.h):
 * 1 when one names the input by the digest an approval pairs with the
 * record's (reason added). Else `*unknown` counts the revocations that may
 * name it by a SHA-512 that the record does not hold and no approval gives
 * (one that names a digest the record holds, the decision finds itself).
 */
static int revoked_by_pairing(verdict *v, const sg_report_judge *j, const record_input *in,
			      size_t *unknown)
{
	const struct rp_subject s = { in->sha256, in->sha512 };
	const struct rp_digest_ref *hit = rp_pairing_revoked(&j->g, &s);
	int bits, by512;

	*unknown = 0;
	if (!hit) {
		*unknown = rp_pairing_unknown(&j->g, &s, &bits);
		return 0;
	}
	if (!hit->a)
		return 0;
	/* `hex` is the record's digest; the approval gives the other one, revoked. */
	by512 = hit->hex == hit->a->sha256;
	add(v,
	    "%s: digest is revoked: %s (revoked by SHA-%s, which approval %s gives for this "
	    "SHA-%s)",
	    in->name, hit->r->reason, by512 ? "512" : "256", hit->a->id, by512 ? "256" : "512");
	return 1;
}

/*
 * Is the input revoked? A revocation names its SHA-256 or its recorded
 * SHA-512 (the decision's own test), or a reason of the decision is a
 * revocation, "NAME: digest is revoked: REASON", matched from its start so
 * that a file named "x: digest is revoked: y" is not taken for one. Revoked
 * wins over any other reason the decision gives.
 */
static int revoked_input(const sg_policy *p, const sg_decision *d, const record_input *in)
{
	static const char mark[] = ": digest is revoked: ";
	size_t len = strlen(in->name);

	for (size_t i = 0; i < p->n_revoked; i++)
		if (same(p->revoked[i].sha256, in->sha256) ||
		    (in->sha512 && same(p->revoked[i].sha512, in->sha512)))
			return 1;
	for (size_t i = 0; !d->approved && i < d->n_reasons; i++)
		if (strncmp(d->reasons[i], in->name, len) == 0 &&
		    strncmp(d->reasons[i] + len, mark, sizeof(mark) - 1) == 0)
			return 1;
	return 0;
}

static void judge(verdict *v, sg_report_judge *j, const record_input *rin, time_t now)
{
	const sg_policy *p = j->p;
	/* The format's number is not looked up from its recorded name (lib/format's rule). */
	sg_policy_input in = { rin->name, rin->sha256, rin->sha512 ? rin->sha512 : "",
			       rin->signed_before, SG_FORMAT_UNKNOWN };
	sg_decision d;
	size_t unknown = 0;
	int refused = 0;

	if (!p->index && revoked_by_pairing(v, j, rin, &unknown)) {
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
	/* The two-person rule, as signing applies it after the decision. */
	if (d.approved && d.approval && v->n < sizeof(v->reasons) / sizeof(v->reasons[0]))
		refused = pair_refuses(j, d.approval, v->reasons[v->n], sizeof(v->reasons[0]));
	v->n += (size_t)refused;
	if (d.approved && !unknown && !refused)
		return;
	v->status = revoked_input(p, &d, rin) ? "revoked" : "not_approved";
	for (size_t i = 0; !d.approved && i < d.n_reasons; i++)
		add(v, "%s", d.reasons[i]);
	if (unknown)
		add(v,
		    "the signing record holds no SHA-512 of %s (the policy named none when it was "
		    "signed) and no approval pairs its SHA-256 with one, and %zu revocation(s) "
		    "of the policy name a SHA-512 that no approval pairs with a SHA-256: whether "
		    "it is revoked cannot be checked",
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

int sg_report_judge_check(sg_report_judge *j, const json_t *signing, time_t now, json_t **row)
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
		judge(v, j, &in, now);
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

int sg_report_policy_check(const sg_policy *policy, const json_t *signing, time_t now, json_t **row)
{
	sg_report_judge *j;
	int error = sg_report_judge_new(&j, policy, NULL, 0);

	*row = NULL;
	if (!error)
		error = sg_report_judge_check(j, signing, now, row);
	sg_report_judge_free(j);
	return error;
}

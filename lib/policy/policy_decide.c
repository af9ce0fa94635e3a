/*
 * Decisions (see sg_policy_decide() in include/signgate/policy.h): over the
 * whole of a loaded policy, or over the part of it that the index found to
 * bear on the input (lib/policy_index.c), with the same code.
 */
#include "signgate/policy.h"
#include "signgate/format.h"
#include "policy_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

__attribute__((format(printf, 2, 3)))
static void add_reason(sg_decision *d, const char *fmt, ...)
{
	va_list ap;

	if (d->n_reasons >= SG_POLICY_MAX_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(d->reasons[d->n_reasons++], sizeof(d->reasons[0]), fmt, ap);
	va_end(ap);
}

static const sg_approval *view_approval(const sg_policy_view *v, size_t i)
{
	return v->approval_ptrs ? v->approval_ptrs[i] : &v->approvals[i];
}

static const sg_revocation *find_revocation(const sg_policy_view *v, const sg_policy_input *in)
{
	for (size_t i = 0; i < v->n_revoked; i++) {
		const sg_revocation *r = v->revoked_ptrs ? v->revoked_ptrs[i] : &v->revoked[i];
		if ((r->sha256 && strcmp(r->sha256, in->sha256_hex) == 0) ||
		    (r->sha512 && strcmp(r->sha512, in->sha512_hex) == 0))
			return r;
	}
	return NULL;
}

/* Every digest the approval names must equal the input's. */
static int digest_matches(const sg_approval *a, const sg_policy_input *in)
{
	if (a->sha256 && strcmp(a->sha256, in->sha256_hex) != 0)
		return 0;
	if (a->sha512 && strcmp(a->sha512, in->sha512_hex) != 0)
		return 0;
	return 1;
}

static int any_digest_matches(const sg_approval *a, const sg_policy_input *in)
{
	return (a->sha256 && strcmp(a->sha256, in->sha256_hex) == 0) ||
	       (a->sha512 && strcmp(a->sha512, in->sha512_hex) == 0);
}

/* Check one approval whose digests match; 1 when it allows the input. */
static int approval_allows(sg_decision *d, const sg_policy *p, const sg_approval *a,
			   const sg_policy_input *in, const char *today)
{
	const sg_product *product = sg_policy_product(p, a->product);
	int ok = 1;

	if (a->expires && strcmp(today, a->expires) > 0) {
		add_reason(d, "approval %s expired on %s", a->id, a->expires);
		ok = 0;
	}
	if (a->file && strcmp(a->file, in->name) != 0) {
		add_reason(d, "approval %s is for file \"%s\", not \"%s\"", a->id, a->file,
			   in->name);
		ok = 0;
	}
	if (in->has_signature && a->existing == SG_EXISTING_REFUSE) {
		add_reason(d,
			   "input already carries an Authenticode signature and approval %s "
			   "says existing_signature=refuse",
			   a->id);
		ok = 0;
	}
	if (in->has_signature && a->existing == SG_EXISTING_NEST &&
	    sg_format_nest_unseen((sg_format_kind)in->format)) {
		add_reason(d,
			   "approval %s says existing_signature=nest, but %s: a nested signature "
			   "would never be checked (use replace or refuse)",
			   a->id, sg_format_nest_unseen((sg_format_kind)in->format));
		ok = 0;
	}
	/* An unsigned file of a product that ships signed may be a tampered download. */
	if (!in->has_signature && product && product->vendor_signs && !a->accept_unsigned) {
		add_reason(d,
			   "%s is listed as vendor-signed, but %s carries no signature (a "
			   "tampered or look-alike download?); approval %s does not say "
			   "accept_unsigned",
			   product->product, in->name, a->id);
		ok = 0;
	}
	/* A name the catalog does not know may be a look-alike that escapes vendor_signs. */
	if (!product && p->n_products > 0 && !a->not_in_catalog) {
		add_reason(d,
			   "product \"%s\" of approval %s is not in the catalog (a look-alike "
			   "name?); the approval does not say not_in_catalog",
			   a->product, a->id);
		ok = 0;
	}
	return ok;
}

static void explain_no_match(sg_decision *d, const sg_policy_view *v, const sg_policy_input *in)
{
	for (size_t i = 0; i < v->n_approvals; i++) {
		const sg_approval *a = view_approval(v, i);
		if (any_digest_matches(a, in)) {
			d->approval = a;
			add_reason(d, "%s: %s does not match the vendor value in approval %s",
				   in->name,
				   a->sha256 && strcmp(a->sha256, in->sha256_hex) ? "SHA-256"
										  : "SHA-512",
				   a->id);
			return;
		}
		if (a->file && strcmp(a->file, in->name) == 0) {
			d->approval = a;
			add_reason(d, "%s: %s does not match the vendor value in approval %s",
				   in->name, a->sha256 ? "SHA-256" : "SHA-512", a->id);
			return;
		}
	}
	add_reason(d, "%s: no approval matches SHA-256 %s (default deny)", in->name,
		   in->sha256_hex);
}

void sg_policy_decide_view(sg_decision *out, const sg_policy *p, const sg_policy_view *v,
			   const sg_policy_input *in, time_t now)
{
	const sg_revocation *rev = find_revocation(v, in);
	char today[16];
	struct tm tm;
	int matched = 0;

	memset(out, 0, sizeof(*out));
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	if (rev) {
		add_reason(out, "%s: digest is revoked: %s", in->name, rev->reason);
		return;
	}
	for (size_t i = 0; i < v->n_approvals; i++) {
		const sg_approval *a = view_approval(v, i);
		if (!digest_matches(a, in))
			continue;
		matched = 1;
		out->approval = a;
		if (approval_allows(out, p, a, in, today)) {
			out->approved = 1;
			out->n_reasons = 0;
			/* approved_by is the file's text: say so, it proves nobody's identity. */
			add_reason(out,
				   "approved by %s (the approval file names %s, not verified; "
				   "ticket %s)%s%s",
				   a->id, a->approved_by, a->ticket,
				   in->has_signature ? "; existing signature: " : "",
				   in->has_signature ? sg_existing_rule_name(a->existing) : "");
			return;
		}
	}
	if (!matched)
		explain_no_match(out, v, in);
}

int sg_policy_approval_allows(const sg_policy *p, const sg_approval *a, const sg_policy_input *in,
			      time_t now)
{
	sg_decision scratch;
	char today[16];
	struct tm tm;

	memset(&scratch, 0, sizeof(scratch));
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	return digest_matches(a, in) && approval_allows(&scratch, p, a, in, today);
}

void sg_policy_decide(sg_decision *out, const sg_policy *p, const sg_policy_input *in, time_t now)
{
	sg_policy_view all = { p->approvals, NULL, p->n_approvals, p->revoked, NULL, p->n_revoked };

	if (p->index)
		sg_policy_index_hooks_of(p->index)->decide(out, p, in, now);
	else
		sg_policy_decide_view(out, p, &all, in, now);
}

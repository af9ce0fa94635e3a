/*
 * "Already signed": an input that carries our valid signature is not signed
 * again, and it passes (skipped) only while the vendor bytes it was signed
 * from would still be approved. Those bytes are known from the input's
 * signing record in the audit log (lib/audit_signings.c); without one, or
 * with a log that does not verify, nobody can show where the file came from,
 * so it is denied. See sg_pipeline_run() in include/signgate/pipeline.h.
 */
#include "pipeline_internal.h"
#include "signgate/error.h"
#include "signgate/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Copy `src` into `dst` (`size` bytes), cut to fit, at offset `at`; returns the new length. */
static size_t put_text(char *dst, size_t size, size_t at, const char *src)
{
	size_t n = strlen(src), room = at < size ? size - 1 - at : 0;

	if (n > room)
		n = room;

	memcpy(dst + at, src, n);
	dst[at + n] = '\0';
	return at + n;
}

/* "signer SHA-1 ..., subject ..., timestamp ..." of the signature that made the input ours. */
static void describe_signer(char *out, size_t size, const sg_outcome *o)
{
	snprintf(out, size, "signer SHA-1 %s, %s%s%s", o->verify.signer.sha1_thumbprint,
		 o->verify.signer.subject,
		 o->verify.timestamped ? ", timestamp " : ", no timestamp",
		 o->verify.timestamped ? o->verify.timestamp : "");
}

static void deny_ours(sg_outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Deny with one reason (the message, as much as fits the reason's slot). */
static void deny_ours(sg_outcome *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
	memset(&o->decision_detail, 0, sizeof(o->decision_detail));
	o->decided = 1;
	o->decision_detail.n_reasons = 1;
	put_text(o->decision_detail.reasons[0], sizeof(o->decision_detail.reasons[0]), 0,
		 o->message);
	o->status = SG_ERR_DENIED;
	o->decision = "denied";
}

/* Put `fmt` before the decision's reasons (the last one gives way when all slots are used). */
static void first_reason(sg_decision *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void first_reason(sg_decision *d, const char *fmt, ...)
{
	va_list ap;
	size_t n = d->n_reasons < SG_POLICY_MAX_REASONS ? d->n_reasons : SG_POLICY_MAX_REASONS - 1;

	memmove(d->reasons[1], d->reasons[0], n * sizeof(d->reasons[0]));
	va_start(ap, fmt);
	vsnprintf(d->reasons[0], sizeof(d->reasons[0]), fmt, ap);
	va_end(ap);
	d->n_reasons = n + 1;
}

static void take_origin(sg_outcome *o, const sg_audit_signing *rec)
{
	o->traced = 1;
	snprintf(o->origin.id, sizeof(o->origin.id), "%s", rec->id);
	o->origin.seq = rec->seq;
	snprintf(o->origin.time, sizeof(o->origin.time), "%s", rec->time);
	snprintf(o->origin.input_sha256, sizeof(o->origin.input_sha256), "%s", rec->input_sha256);
	snprintf(o->origin.input_name, sizeof(o->origin.input_name), "%s",
		 rec->input_name ? rec->input_name : "");
	snprintf(o->origin.approval_id, sizeof(o->origin.approval_id), "%s",
		 rec->approval_id ? rec->approval_id : "");
}

/* The signing record was found: decide again, now, on the input it names. */
static void judge_origin(sg_outcome *o, const sg_context *ctx, const sg_job *job,
			 const sg_audit_signing *rec, const char *signer)
{
	const char *name = rec->input_name ? rec->input_name : sg_path_base(job->input);
	sg_policy_input in = { name, rec->input_sha256, rec->input_sha512 ? rec->input_sha512 : "",
			       rec->signed_before, o->format.kind };
	char from[SG_ERROR_MAX], policy_says[sizeof(o->message)];

	take_origin(o, rec);
	/*
	 * A revocation (or approval) may name the input by SHA-512 alone: without
	 * the input's SHA-512 the decision below could pass a revoked input.
	 */
	if (!rec->input_sha512 && ctx->policy->uses_sha512)
		return deny_ours(o,
				 "already signed by us (%s), but its signing record (audit record "
				 "seq %lld) holds no SHA-512 of the input, and the policy names "
				 "digests by SHA-512: whether that input is revoked cannot be "
				 "shown; sign the vendor's original file instead",
				 signer, rec->seq);
	snprintf(from, sizeof(from), "%s (SHA-256 %s; audit record seq %lld of %s)", name,
		 rec->input_sha256, rec->seq, rec->time);
	if (sg_pipeline_decide(o, ctx, &in) == SG_OK) {
		first_reason(&o->decision_detail, "signed from %s, which is still approved", from);
		first_reason(
			&o->decision_detail,
			"already signed: it carries our valid signature (%s); not signed again",
			signer);
		o->status = SG_OK;
		o->decision = "skipped";
		/* Cut only past SG_ERROR_MAX; the record's reasons are whole. */
		if (snprintf(o->message, sizeof(o->message),
			     "already signed: it carries our valid signature (%s); signed from "
			     "%s, still %s; not signed again",
			     signer, from, o->decision_detail.reasons[2]) >= (int)sizeof(o->message))
			o->message[sizeof(o->message) - 2] = '.';
		return;
	}
	snprintf(policy_says, sizeof(policy_says), "%s", o->message);
	/* The reason is short enough for its slot; the message says it all. */
	first_reason(&o->decision_detail,
		     "already signed by us (signer SHA-1 %s), but the input it was signed from "
		     "(SHA-256 %s, audit record seq %lld) is no longer approved",
		     o->verify.signer.sha1_thumbprint, rec->input_sha256, rec->seq);
	{
		const char *parts[] = { "already signed by us (", signer,
					"), but the input it was signed from, ", from,
					", is no longer approved: ", policy_says };
		size_t at = 0;

		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
			at = put_text(o->message, sizeof(o->message), at, parts[i]);
	}
}

void sg_pipeline_judge_ours(sg_outcome *o, const sg_context *ctx, const sg_job *job)
{
	const sg_audit_signing *rec = NULL;
	char signer[SG_ERROR_MAX], gap[SG_ERROR_MAX] = "no audit log is configured to trace it";
	int error = SG_OK;

	describe_signer(signer, sizeof(signer), o);
	if (ctx->signings)
		error = sg_audit_signings_find(ctx->signings, o->input.sha256_hex, &rec, gap,
					       sizeof(gap));
	if (error == SG_ERR_TAMPER)
		return deny_ours(o,
				 "already signed by us (%s), but the audit log that would show "
				 "which vendor bytes it was signed from does not verify: %s",
				 signer, sg_error_last());
	if (error) {
		o->status = error;
		o->decision = "failed";
		snprintf(o->message, sizeof(o->message),
			 "already signed by us, but its signing record cannot be looked up: %s",
			 sg_error_last());
		return;
	}
	if (!rec)
		return deny_ours(o,
				 "already signed by us (%s), but the audit log holds no signing "
				 "record of this file (SHA-256 %s)%s%s: nobody can show which "
				 "vendor bytes it was signed from; sign the vendor's original "
				 "file instead",
				 signer, o->input.sha256_hex, gap[0] ? "; " : "", gap);
	if (rec->conflict)
		return deny_ours(o,
				 "already signed by us (%s), but the audit log's signing records "
				 "of this file (SHA-256 %s) name different inputs",
				 signer, o->input.sha256_hex);
	judge_origin(o, ctx, job, rec, signer);
}

json_t *sg_pipeline_origin_json(const sg_outcome *o)
{
	json_t *obj = json_object();

	if (!obj)
		return NULL;
	json_object_set_new(obj, "record", json_string(o->origin.id));
	json_object_set_new(obj, "seq", json_integer(o->origin.seq));
	json_object_set_new(obj, "time", json_string(o->origin.time));
	json_object_set_new(obj, "input_sha256", json_string(o->origin.input_sha256));
	if (o->origin.input_name[0])
		json_object_set_new(obj, "input_name", json_string(o->origin.input_name));
	if (o->origin.approval_id[0])
		json_object_set_new(obj, "approval", json_string(o->origin.approval_id));
	return obj;
}

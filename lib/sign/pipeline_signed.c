/*
 * "Already signed": an input that carries our valid signature is not signed
 * again, and it passes (skipped) only while the vendor bytes it was signed
 * from would still be approved. Those bytes are known from the input's
 * signing record in the audit log (lib/audit_signings.c); without one, or
 * with a log that does not verify, nobody can show where the file came from,
 * so it is denied. See sg_pipeline_run() in include/signgate/pipeline.h.
 */
#include "pipeline_internal.h"
#include "pe_digest.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/strict.h"
#include "signgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/*
 * The output of a re-run exists already (issue 15): it passes as "already
 * signed" only when it is proven to be our valid signature over exactly
 * this input, which the policy has just approved again. Everything below
 * works on a private copy of the output made through one descriptor opened
 * without following a link, so the bytes judged are the bytes reported.
 */
struct existing {
	sg_outcome *o;
	const sg_context *ctx;
	const sg_job *job;
	const char *name;  /* the input's base name, for messages */
	const char *stage; /* the signing's private folder beside the output */
	int copy_fd;       /* the input's private copy */
	int nested;        /* our signature would be nested after the input's */
	unsigned char md[SG_FORMAT_DIGEST_MAX]; /* what signing this input signs */
	size_t md_len;
	char *path; /* the private copy of the output */
	int fd;     /* open on it */
	sg_format_info info;
	sg_digests digests; /* the output's SHA-1 and SHA-256 */
	char why[SG_ERROR_MAX];
};

/* Why the output is not ours over this input (always 1: "not accepted"). */
static int not_ours(struct existing *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int not_ours(struct existing *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	return 1;
}

/* The digest signing this input would sign: the PE pass's, or taken through the copy's fd. */
static int input_digest(struct existing *e, const unsigned char *copy_pe_digest)
{
	if (copy_pe_digest) {
		memcpy(e->md, copy_pe_digest, SG_PE_DIGEST_LEN);
		e->md_len = SG_PE_DIGEST_LEN;
		return SG_OK;
	}
	return sg_format_digest(e->md, &e->md_len, e->copy_fd, &e->o->format,
				e->nested ? SG_FORMAT_DIGEST_NEST : SG_FORMAT_DIGEST_SIGN, e->name);
}

/*
 * Open the output without following a link at its name, hold it to the
 * strict rule (ours or root's, writable by nobody else), and copy it into
 * the stage through that descriptor. Returns 1 (not accepted, e->why),
 * 0, or -1 on an error that fails the job.
 */
static int copy_output(struct existing *e)
{
	const char *out = e->job->output, *ext = sg_format_by_name_extension(sg_path_base(out));
	char *dir = sg_path_dir(out), base[24];
	int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1, in = -1, rc = 0;
	int err = dir ? errno : ENOMEM;
	sg_strict_rule rule;
	struct stat st;

	free(dir);
	snprintf(base, sizeof(base), "existing%s", ext ? ext : "");
	if (dfd >= 0) {
		in = openat(dfd, sg_path_base(out),
			    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
		err = errno;
		close(dfd);
	}
	if (in < 0)
		return not_ours(e, "it cannot be opened: %s",
				err == ELOOP ? "it is a symbolic link" : strerror(err));
	sg_strict_rule_init(&rule, geteuid());
	if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode))
		rc = not_ours(e, "it is not a regular file");
	else if (sg_strict_stat_check(&st, out, &rule, 0) != SG_OK)
		rc = not_ours(e, "%s", sg_message_without_name(sg_error_last(), out));
	if (!rc && !(e->path = sg_path_join(e->stage, base))) {
		sg_error_set(SG_ERR_NOMEM, "out of memory");
		rc = -1;
	}
	if (!rc && (e->fd = open(e->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
				 0600)) < 0) {
		sg_error_set(SG_ERR_IO, "%s: cannot copy %s into the private folder: %s", e->name,
			     out, strerror(errno));
		rc = -1;
	}
	if (!rc && sg_hash_stream_with(&e->digests, in, e->fd, out,
				       SG_DIGEST_SHA1 | SG_DIGEST_SHA256, NULL) != SG_OK)
		rc = -1;
	close(in);
	return rc;
}

/* The signature count: ours alone, or exactly one more than the input's, its primary kept. */
static int check_count(struct existing *e)
{
	unsigned char primary[32], input_primary[32];
	int count = 0, input_count = 0, error;

	error = sg_verify_count_signatures_info(&count, primary, e->fd, &e->info, e->name);
	if (!error && e->nested)
		error = sg_verify_count_signatures_info(&input_count, input_primary, e->copy_fd,
							&e->o->format, e->name);
	if (error)
		return not_ours(e, "%s", sg_message_without_name(sg_error_last(), e->name));
	if (count != input_count + 1)
		return not_ours(e, "it carries %d signatures, where signing this input gives %d",
				count, input_count + 1);
	if (e->nested && memcmp(primary, input_primary, sizeof(primary)) != 0)
		return not_ours(e, "its primary signature is not the input's");
	return 0;
}

/*
 * These very bytes are an output signgate recorded signing from this input:
 * a "signed" record of the audit log names the output's SHA-256 and the
 * input's. It covers what the signature does not (an MSI's free sectors, a
 * PE's CheckSum): the output is byte for byte one signgate published.
 * Returns 1 (not accepted), 0, or -1 (the log cannot be read).
 */
static int check_recorded(struct existing *e)
{
	const sg_audit_signing *rec = NULL;
	char gap[SG_ERROR_MAX] = "";
	int error = SG_ERR_USAGE;

	if (e->ctx->signings)
		error = sg_audit_signings_find(e->ctx->signings, e->digests.sha256_hex, &rec, gap,
					       sizeof(gap));
	if (error == SG_ERR_USAGE)
		return not_ours(e, "no audit log is configured to show that signgate made it");
	if (error == SG_ERR_TAMPER)
		return not_ours(e, "the audit log that would show its signing does not verify: %s",
				sg_error_last());
	if (error)
		return -1;
	if (!rec)
		return not_ours(e, "the audit log holds no signing record of these bytes (SHA-256 "
				   "%s)%s%s",
				e->digests.sha256_hex, gap[0] ? "; " : "", gap);
	if (rec->conflict || strcmp(rec->input_sha256, e->o->input.sha256_hex) != 0)
		return not_ours(e, "the audit log's signing record of these bytes (seq %lld) names "
				   "another input (SHA-256 %s)",
				rec->seq, rec->input_sha256);
	return 0;
}

/*
 * Judge the private copy: the same format, its own Authenticode digest that
 * of this input, a signing record of these bytes from this input, our signature over that digest verifying as `verify`
 * does (the configured trust, the configured signer pinned, nested: the
 * last one), the signature count signing gives, and a timestamp when the
 * config requires one. Returns 1 (not accepted), 0, or -1 (the job fails).
 */
static int judge_output(struct existing *e)
{
	sg_verify_opts opts = e->ctx->verify;
	unsigned char md[SG_FORMAT_DIGEST_MAX];
	char hex[2 * SG_FORMAT_DIGEST_MAX + 1], want[2 * SG_FORMAT_DIGEST_MAX + 1];
	size_t md_len = 0;
	int error;

	if (sg_format_inspect(&e->info, e->fd, e->name) != SG_OK)
		return not_ours(e, "%s", sg_message_without_name(sg_error_last(), e->name));
	if (e->info.kind != e->o->format.kind || !e->info.has_signature)
		return not_ours(e, "it is no signed %s file", sg_format_name(e->o->format.kind));
	if (sg_format_digest(md, &md_len, e->fd, &e->info, SG_FORMAT_DIGEST_FILE, e->name) != SG_OK)
		return not_ours(e, "%s", sg_message_without_name(sg_error_last(), e->name));
	sg_hex_encode_upper(hex, md, md_len);
	sg_hex_encode_upper(want, e->md, e->md_len);
	if (md_len != e->md_len || memcmp(md, e->md, md_len) != 0)
		return not_ours(e, "its Authenticode digest (%s) is not this input's (%s)", hex,
				want);
	if ((error = check_recorded(e)) != 0)
		return error;
	if (!e->ctx->signer)
		return not_ours(e, "no signing certificate is configured to recognise ours");
	opts.pin_sha256 = e->ctx->signer->sha256;
	opts.index = e->nested ? -1 : 0;
	opts.file_digest = hex;
	error = sg_verify_file(&e->o->verify, &opts, e->path, e->name);
	/* Any other failure (osslsigncode broke its confinement: SG_ERR_TOOL) fails the job. */
	if (error == SG_ERR_VERIFY)
		return not_ours(e, "%s",
				sg_message_without_name(e->o->verify.reason[0] ? e->o->verify.reason
									 : sg_error_last(),
							e->name));
	if (error)
		return -1;
	if (check_count(e))
		return 1;
	if (e->ctx->cfg->timestamp_required && !e->o->verify.timestamped)
		return not_ours(e, "it is our signature over this input, but without the timestamp "
				   "the config requires");
	return 0;
}

/* Passed: "skipped" as already signed, with the output's digests and our signature. */
static void take_as_signed(struct existing *e)
{
	sg_outcome *o = e->o;
	char signer[SG_ERROR_MAX];

	describe_signer(signer, sizeof(signer), o);
	o->verified = 1;
	o->have_output = 1;
	o->output = e->digests;
	first_reason(&o->decision_detail,
		     "already signed: %s exists and carries our valid signature (%s) over this "
		     "input; not signed again",
		     e->job->output, signer);
	o->status = SG_OK;
	o->decision = "skipped";
	/* Cut only past SG_ERROR_MAX; the record's reasons are whole. */
	if (snprintf(o->message, sizeof(o->message), "%s (%s)", o->decision_detail.reasons[0],
		     o->decision_detail.n_reasons > 1 ? o->decision_detail.reasons[1] : "") >=
	    (int)sizeof(o->message))
		o->message[sizeof(o->message) - 2] = '.';
}

int sg_pipeline_existing_output(sg_outcome *o, const sg_context *ctx, const sg_job *job,
				int copy_fd, const char *stage, const unsigned char *copy_pe_digest)
{
	struct existing *e = calloc(1, sizeof(*e));
	int rc;

	if (!e)
		return sg_pipeline_end(o, sg_error_set(SG_ERR_NOMEM, "out of memory"), "failed");
	*e = (struct existing){ .o = o, .ctx = ctx, .job = job, .name = sg_path_base(job->input),
				.stage = stage, .copy_fd = copy_fd, .fd = -1 };
	e->nested = o->format.has_signature && o->decision_detail.approval &&
		    o->decision_detail.approval->existing == SG_EXISTING_NEST;
	rc = input_digest(e, copy_pe_digest) != SG_OK ? -1 : copy_output(e);
	if (rc == 0)
		rc = judge_output(e);
	if (rc == 0)
		take_as_signed(e);
	else if (rc > 0) {
		memset(&o->verify, 0, sizeof(o->verify));
		o->verified = 0;
		sg_pipeline_end(o,
				sg_error_set(SG_ERR_EXISTS,
					     "%s: exists already (use --force to replace it); it is "
					     "not taken as already signed: %s",
					     job->output, e->why),
				"failed");
	} else
		sg_pipeline_end(o, sg_error_code() ? sg_error_code() : SG_ERR_IO, "failed");
	if (e->fd >= 0)
		close(e->fd);
	if (e->path)
		unlink(e->path);
	free(e->path);
	free(e);
	return o->status;
}

/* One input through check / sign / verify; see include/signgate/pipeline.h. */
#include "signgate/pipeline.h"
#include "pipeline_internal.h"
#include "authenticode.h"
#include "signgate/error.h"
#include "pe_digest.h"
#include "signgate/policy_json.h"
#include "trust.h"
#include "signgate/util.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const action_names[] = { "check", "sign", "verify", "timestamp" };

int sg_pipeline_end(sg_outcome *o, int status, const char *decision)
{
	o->status = status;
	o->decision = decision;
	snprintf(o->message, sizeof(o->message), "%s", sg_error_last());
	return status;
}

/* What the pass that makes the private copy learns besides its digests. */
struct copy_pass {
	sg_pe_stream stream;
	int have_pe_digest;
	unsigned char pe_digest[SG_PE_DIGEST_LEN];
};

/*
 * Copy the input privately and check what it is. `*copy_fd` stays open on
 * the copy: a signing's stage is beside the output, where whoever can write
 * the output folder can swap the copy's path, so the copy is read through
 * the descriptor it was written with.
 */
static int take_input(sg_outcome *o, const sg_context *ctx, const sg_job *job, const char *workdir,
		      char **copy, int *copy_fd, struct copy_pass *pass)
{
	const char *name = sg_path_base(job->input), *ext = sg_format_by_name_extension(name);
	sg_stream_sink sink = { sg_pe_stream_update, &pass->stream };
	int signing = job->action == SG_ACTION_SIGN && sg_pe_stream_init(&pass->stream) == SG_OK;
	char copy_name[16];
	unsigned want;
	int error;

	/* A script keeps its extension: osslsigncode knows one by its name only. */
	snprintf(copy_name, sizeof(copy_name), "input%s", ext ? ext : "");
	*copy = sg_path_join(workdir, copy_name);
	if (!*copy)
		return sg_pipeline_end(o, sg_error_set(SG_ERR_NOMEM, "out of memory"), "failed");
	/* SHA-512 costs more than the rest of the pass: only when the policy names one. */
	want = SG_DIGEST_SHA256;
	if (job->action != SG_ACTION_VERIFY && ctx->policy && ctx->policy->uses_sha512)
		want |= SG_DIGEST_SHA512;
	/*
	 * Signing: a PE's Authenticode digest is taken from the same pass, on its
	 * own thread, and the copy, which becomes the output, is written to disk
	 * as it is made, not all at the fsync.
	 */
	error = sg_private_copy_fd(&o->input, job->input, *copy, name, want, signing ? &sink : NULL,
				   signing, copy_fd);
	if (error)
		return sg_pipeline_end(o, error, "failed");
	o->have_input = 1;
	error = sg_format_inspect(&o->format, *copy_fd, name);
	if (!error)
		o->have_format = 1;
	/* A container that claims a signature nobody can read is denied (the one check). */
	if (!error && job->action != SG_ACTION_VERIFY)
		error = sg_authenticode_readable(&o->format, *copy_fd, name);
	/* A structure refused: an input denied, or for `verify` a signed file that is invalid. */
	if (error)
		return sg_pipeline_end(o, error,
				       error != SG_ERR_FORMAT		  ? "failed"
				       : job->action == SG_ACTION_VERIFY ? "invalid"
									  : "denied");
	/*
	 * Only for a PE whose layout the pass found is the inspected one (the
	 * stream's finish checks both; anything else is read again).
	 */
	pass->have_pe_digest =
		signing && sg_pe_stream_finish(&pass->stream, pass->pe_digest, &o->format) == SG_OK;
	sg_error_clear();
	return SG_OK;
}

/* Deny the approved input: the decision stands, but with this reason. */
static int deny(sg_outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int deny(sg_outcome *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
	o->decision_detail.approved = 0;
	o->decision_detail.n_reasons = 1;
	/* A reason holds a whole message (both SG_ERROR_MAX). */
	snprintf(o->decision_detail.reasons[0], sizeof(o->decision_detail.reasons[0]), "%s",
		 o->message);
	o->status = SG_ERR_DENIED;
	o->decision = "denied";
	return SG_ERR_DENIED;
}

/*
 * The two-person rule: the approval's file must carry two valid signatures
 * by two different approvers' certificates (cosign.h). They are checked
 * over the bytes the policy was loaded from, not over the file as it is
 * now; who approved comes from the certificates, never from the approval's
 * "approved_by" text. A configuration that cannot check them fails the job
 * rather than judging the input.
 */
static int check_cosign(sg_outcome *o, const sg_context *ctx)
{
	const sg_approval *a = o->decision_detail.approval;
	const sg_policy_file *f = &ctx->policy->files[a->file_index];
	sg_approvers_trust t;
	int error;

	o->two_person = 1;
	sg_approvers_trust_from_config(&t, ctx->cfg);
	if (!t.ca_file)
		return deny(o,
			    "approval %s: the policy requires co-signatures, but the config "
			    "names no trust.approvers_ca_file to check them with",
			    a->id);
	if (!f->bytes)
		return deny(o, "approval %s: the bytes of %s were not kept to check its signatures",
			    a->id, f->path);
	error = sg_cosign_verify_pair(&o->approver, &o->cosigner, f->path, f->bytes, f->len, &t);
	if (error == SG_ERR_VERIFY)
		return deny(o, "approval %s is not signed by two approvers (two-person rule): %s",
			    a->id, sg_error_last());
	if (error)
		return sg_pipeline_end(o, error, "failed");
	o->cosigned = 1;
	snprintf(o->message, sizeof(o->message),
		 "approved by %s (approvers %s and %s by their certificates, ticket %s)", a->id,
		 o->approver.name, o->cosigner.name, a->ticket);
	/* A reason holds a whole message (both SG_ERROR_MAX). */
	snprintf(o->decision_detail.reasons[0], sizeof(o->decision_detail.reasons[0]), "%s",
		 o->message);
	return SG_OK;
}

int sg_pipeline_decide(sg_outcome *o, const sg_context *ctx, const sg_policy_input *in)
{
	sg_policy_decide(&o->decision_detail, ctx->policy, in, time(NULL));
	o->decided = 1;
	/* The exact approval file: what a reviewer compares with version control. */
	if (o->decision_detail.approval)
		memcpy(o->policy_file_sha256,
		       ctx->policy->files[o->decision_detail.approval->file_index].sha256,
		       sizeof(o->policy_file_sha256));
	if (!o->decision_detail.approved) {
		size_t used = 0;
		/* Every reason, not only the first: each failing approval says why. */
		for (size_t i = 0; i < o->decision_detail.n_reasons && used < sizeof(o->message);
		     i++)
			used += (size_t)snprintf(o->message + used, sizeof(o->message) - used,
						 "%s%s", i ? "; " : "",
						 o->decision_detail.reasons[i]);
		o->status = SG_ERR_DENIED;
		o->decision = "denied";
		return SG_ERR_DENIED;
	}
	snprintf(o->message, sizeof(o->message), "%s", o->decision_detail.reasons[0]);
	return ctx->policy->require_cosign || (ctx->cfg && ctx->cfg->require_cosign)
		       ? check_cosign(o, ctx)
		       : SG_OK;
}

static int decide(sg_outcome *o, const sg_context *ctx, const sg_job *job)
{
	sg_policy_input in = { sg_path_base(job->input), o->input.sha256_hex, o->input.sha512_hex,
			       o->format.has_signature, o->format.kind };

	return sg_pipeline_decide(o, ctx, &in);
}

int sg_pipeline_verify_signed(sg_outcome *o, const sg_context *ctx, const char *name,
			      const char *path, int nested, const char *file_digest,
			      const unsigned char *expect_der, size_t expect_der_len)
{
	sg_verify_opts opts = ctx->verify;
	int error;

	opts.pin_sha256 = ctx->signer ? ctx->signer->sha256 : opts.pin_sha256;
	/* A nested signature is ours only when it is the last one. */
	opts.index = nested ? -1 : 0;
	opts.file_digest = file_digest;
	opts.expect_der = expect_der;
	opts.expect_der_len = expect_der_len;
	error = sg_verify_file(&o->verify, &opts, path, name);
	o->verified = error == SG_OK;
	if (error)
		return sg_pipeline_end(o, error, error == SG_ERR_VERIFY ? "invalid" : "failed");
	return SG_OK;
}

static int record(sg_outcome *o, const sg_context *ctx, const sg_job *job)
{
	sg_audit_receipt receipt;
	json_t *rec;
	int error;

	if (!ctx->audit_log)
		return SG_OK;
	rec = sg_outcome_to_json(o, job);
	if (!rec)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = sg_audit_append_receipt(ctx->audit_log, rec, &receipt);
	if (error == SG_OK) {
		memcpy(o->audit_id, receipt.id, sizeof(o->audit_id));
		if (ctx->cfg && ctx->cfg->syslog_facility >= 0)
			sg_audit_syslog(&receipt, rec, ctx->cfg->syslog_facility,
					ctx->cfg->syslog_tag);
	}
	json_decref(rec);
	if (error == SG_OK)
		return SG_OK;
	/*
	 * The code stays the log's: a log that does not verify is SG_ERR_TAMPER
	 * (exit 3, as `audit verify` says), never an I/O error a retry could fix.
	 */
	return sg_error_prefix("%s: the decision could not be recorded, so it does not count",
			       sg_path_base(job->input));
}

/* Record the outcome; when that fails, the job fails with the audit error. */
static int record_or_fail(sg_outcome *o, const sg_context *ctx, const sg_job *job)
{
	int error = record(o, ctx, job);

	if (error)
		return sg_pipeline_end(o, error, "failed");
	return o->status;
}

/*
 * The signed file was made in a private folder beside the output, so
 * publishing it is a rename: it was hashed and made durable first, then the
 * record, then the rename.
 */
int sg_pipeline_publish(sg_outcome *o, const sg_context *ctx, const sg_job *job,
			const char *signed_path)
{
	const char *tmp = signed_path;
	int error;

	o->have_output = 1;
	o->status = SG_OK;
	o->decision = "signed";
	/* Cut only past SG_ERROR_MAX, the bound of every message; the record has both whole. */
	if (snprintf(o->message, sizeof(o->message), "signed as %s (%s)", job->output,
		     o->decision_detail.reasons[0]) >= (int)sizeof(o->message))
		o->message[sizeof(o->message) - 2] = '.';
	/* The record is durable before the output appears: no signature without it. */
	error = record(o, ctx, job);
	if (error) {
		unlink(tmp);
		o->have_output = 0;
		return sg_pipeline_end(o, error, "failed");
	}
	error = sg_publish_commit(tmp, job->output, job->force);
	if (error) {
		/* The "signed" record is already durable: say that it did not take effect. */
		memcpy(o->cancels, o->audit_id, sizeof(o->cancels));
		o->have_output = 0;
		sg_pipeline_end(o, error, "failed");
		if (record(o, ctx, job) != SG_OK)
			sg_error_set(error, "%s", o->message);
	}
	return error;
}

static int run_verify(sg_outcome *o, const sg_context *ctx, const sg_job *job, const char *copy)
{
	int error =
		sg_pipeline_verify_signed(o, ctx, sg_path_base(job->input), copy, 0, NULL, NULL, 0);

	if (error)
		return error;
	o->status = SG_OK;
	o->decision = "valid";
	snprintf(o->message, sizeof(o->message), "valid: signed by %s (SHA-1 %s)%s%s%s",
		 o->verify.signer.subject, o->verify.signer.sha1_thumbprint,
		 o->verify.timestamped ? ", timestamped " : ", no timestamp",
		 o->verify.timestamped ? o->verify.timestamp : "",
		 ctx->verify.crl_file ? ", revocation checked" : ", revocation not checked");
	return SG_OK;
}

/*
 * A re-run must not sign twice: an input that already carries our valid
 * signature (the pinned leaf, as the primary or the last nested one) is
 * not signed again; whether it is skipped or denied is judged from the
 * input its signing record names (lib/pipeline_signed.c). Returns 1 when
 * the input is ours; any failure to verify just means "not ours".
 */
static int already_ours(sg_outcome *o, const sg_context *ctx, const sg_job *job, const char *copy)
{
	sg_verify_opts opts = ctx->verify;
	static const int indexes[] = { 0, -1 };

	if (!o->format.has_signature || !ctx->signer)
		return 0;
	opts.pin_sha256 = ctx->signer->sha256;
	for (size_t i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++) {
		opts.index = indexes[i];
		if (sg_verify_file(&o->verify, &opts, copy, sg_path_base(job->input)) != SG_OK) {
			/* An input that broke osslsigncode's confinement is not "not ours": it
			 * ends. */
			if (o->verify.extract_confinement.violation ||
			    o->verify.verify_confinement.violation) {
				sg_pipeline_end(o, SG_ERR_TOOL, "failed");
				return 1;
			}
			continue;
		}
		o->verified = 1;
		sg_pipeline_judge_ours(o, ctx, job);
		return 1;
	}
	memset(&o->verify, 0, sizeof(o->verify));
	sg_error_clear();
	return 0;
}

void sg_context_use_config(sg_context *ctx, const sg_config *cfg)
{
	ctx->cfg = cfg;
	ctx->audit_log = cfg->audit_log;
	ctx->verify.osslsigncode = cfg->osslsigncode;
	ctx->verify.ca_file = cfg->ca_file;
	ctx->verify.tsa_ca_file = cfg->tsa_ca_file;
	ctx->verify.crl_file = cfg->crl_file;
	ctx->verify.ignore_crl = cfg->ignore_crl;
	sg_config_secret_files(ctx->verify.hide, cfg);
}

int sg_context_load_trust(sg_context *ctx)
{
	sg_trust_files files = { ctx->verify.ca_file, ctx->verify.tsa_ca_file, ctx->verify.crl_file,
				 1 };
	int error;

	sg_context_free_trust(ctx);
	error = sg_trust_load(&ctx->trust, &files);
	ctx->verify.trust = ctx->trust;
	return error;
}

void sg_context_free_trust(sg_context *ctx)
{
	sg_trust_free(ctx->trust);
	ctx->trust = NULL;
	ctx->verify.trust = NULL;
}

int sg_pipeline_record_failure(sg_outcome *o, const sg_context *ctx, const sg_job *job, int status)
{
	memset(o, 0, sizeof(*o));
	sg_pipeline_end(o, status, "failed");
	return record_or_fail(o, ctx, job);
}

int sg_pipeline_run(sg_outcome *o, const sg_context *ctx, const sg_job *job)
{
	sg_workdir wd = SG_WORKDIR_INIT;
	char *workdir, *copy = NULL;
	int error, skip = 0, copy_fd = -1;
	struct copy_pass *pass = calloc(1, sizeof(*pass));

	memset(o, 0, sizeof(*o));
	if (!pass)
		return sg_pipeline_end(o, sg_error_set(SG_ERR_NOMEM, "out of memory"), "failed");
	/*
	 * A trust file that became unusable since the run began (a CRL removed
	 * or replaced by a folder) is the configuration's fault: the job ends
	 * before the input is touched and nothing is recorded against it.
	 */
	if (job->action != SG_ACTION_CHECK && sg_verify_check_trust(&ctx->verify) != SG_OK) {
		free(pass);
		return sg_pipeline_end(o, sg_error_code(), "failed");
	}
	/* Signing: the private copy is made beside the output, where it is signed and published. */
	error = job->action == SG_ACTION_SIGN ? sg_stage_create(&wd, job->output)
					      : sg_workdir_create(&wd);
	workdir = wd.path;
	if (error)
		sg_pipeline_end(o, error, "failed");
	if (!error)
		error = take_input(o, ctx, job, workdir, &copy, &copy_fd, pass);
	if (!error && job->action == SG_ACTION_SIGN)
		skip = already_ours(o, ctx, job, copy);
	if (!error && !skip && job->action != SG_ACTION_VERIFY)
		error = decide(o, ctx, job);
	if (!error && !skip && job->action == SG_ACTION_CHECK) {
		o->status = SG_OK;
		o->decision = "approved";
	}
	if (!error && !skip && job->action == SG_ACTION_SIGN)
		sg_pipeline_sign(o, ctx, job, copy, copy_fd, workdir,
				 pass->have_pe_digest ? pass->pe_digest : NULL);
	if (!error && job->action == SG_ACTION_VERIFY)
		run_verify(o, ctx, job, copy);
	if (copy_fd >= 0)
		close(copy_fd);
	sg_pe_stream_free(&pass->stream);
	free(pass);
	free(copy);
	sg_workdir_remove(&wd);
	if (!o->audit_id[0])
		return record_or_fail(o, ctx, job);
	return o->status;
}

static int set(json_t *obj, const char *key, json_t *val)
{
	return json_object_set_new(obj, key, val ? val : json_null());
}

static json_t *input_json(const sg_outcome *o, const sg_job *job)
{
	json_t *in = json_object();

	if (!in)
		return NULL;
	set(in, "path", sg_json_text(job->input));
	set(in, "name", sg_json_text(sg_path_base(job->input)));
	if (o->have_input) {
		set(in, "size", json_integer((json_int_t)o->input.size));
		set(in, "sha256", sg_json_text(o->input.sha256_hex));
		if (o->input.sha512_hex[0])
			set(in, "sha512", sg_json_text(o->input.sha512_hex));
	}
	if (o->have_format) {
		set(in, "format", sg_json_text(sg_format_name(o->format.kind)));
		set(in, "signed_before", json_boolean(o->format.has_signature));
	}
	return in;
}

static json_t *approval_json(const sg_outcome *o)
{
	const sg_approval *a = o->decision_detail.approval;
	json_t *ap = sg_approval_json(a, SG_APPROVAL_AS_RECORD);

	if (!ap)
		return NULL;
	if (o->policy_file_sha256[0])
		set(ap, "policy_file_sha256", sg_json_text(o->policy_file_sha256));
	/*
	 * Under the two-person rule, who approved is read from the certificates
	 * only: a job the rule denied (or failed while checking it) has
	 * two_person without cosigned, and its record names nobody, marked as
	 * not verified ("certificate" only when the pair verified).
	 */
	set(ap, "approved_by",
	    o->cosigned     ? sg_json_text(o->approver.name)
	    : o->two_person ? json_null()
			    : sg_json_text(a->approved_by));
	set(ap, "approved_by_from",
	    sg_json_text(o->cosigned ? "certificate" : "approval file (not verified)"));
	if (o->cosigned) {
		set(ap, "approved_by_cert", sg_cosigner_json(&o->approver, 1));
		set(ap, "cosigned_by", sg_cosigner_json(&o->cosigner, 1));
	}
	return ap;
}

static json_t *output_json(const sg_outcome *o, const sg_job *job)
{
	char b64[128];
	json_t *out = json_object();

	if (!out)
		return NULL;
	set(out, "path", sg_json_text(job->output));
	set(out, "size", json_integer((json_int_t)o->output.size));
	set(out, "sha256", sg_json_text(o->output.sha256_hex));
	set(out, "sha1", sg_json_text(o->output.sha1_hex));
	/* WSUS update metadata carries base64 digests of the file. */
	sg_base64_encode(b64, sizeof(b64), o->output.sha256, SG_SHA256_LEN);
	set(out, "sha256_base64", sg_json_text(b64));
	sg_base64_encode(b64, sizeof(b64), o->output.sha1, SG_SHA1_LEN);
	set(out, "sha1_base64", sg_json_text(b64));
	return out;
}

/* The key helper's part of a signature record. */
static void helper_json(json_t *sig, const sg_outcome *o)
{
	if (!o->sign.helper_signatures)
		return;
	/* The key helper's own count: how many digests the run's key signed so far. */
	set(sig, "signed_digest", sg_json_text(o->sign.signed_digest));
	set(sig, "attached_by", sg_json_text(o->sign.attached_by));
	set(sig, "key_helper",
	    json_pack("{s:I, s:I, s:s}", "pid", (json_int_t)o->sign.helper_pid, "signatures",
		      (json_int_t)o->sign.helper_signatures, "key_source",
		      o->sign.key_source ? o->sign.key_source : ""));
}

static json_t *signature_json(const sg_outcome *o)
{
	json_t *sig = json_object(), *signer = json_object();

	if (!sig || !signer) {
		json_decref(sig);
		json_decref(signer);
		return NULL;
	}
	set(signer, "sha1_thumbprint", sg_json_text(o->verify.signer.sha1_thumbprint));
	set(signer, "sha256", sg_json_text(o->verify.signer.sha256));
	set(signer, "subject", sg_json_text(o->verify.signer.subject));
	set(signer, "not_after", sg_json_text(o->verify.signer.not_after));
	set(sig, "signer", signer);
	set(sig, "index", json_integer(o->verify.index));
	set(sig, "signatures", json_integer(o->verify.n_signatures));
	set(sig, "timestamp", o->verify.timestamped ? sg_json_text(o->verify.timestamp) : NULL);
	if (o->sign.timestamped)
		set(sig, "tsa_url", sg_json_text(o->sign.tsa_url));
	if (o->sign.attempts[0])
		set(sig, "tsa_failures", sg_json_text(o->sign.attempts));
	helper_json(sig, o);
	return sig;
}

/*
 * A signature the key helper made for an output that then failed (a
 * timestamp, the attach, the checks): the record still says which digest
 * the key signed and the helper's count, so that every signature is in the
 * log.
 */
static json_t *unverified_signature_json(const sg_outcome *o)
{
	json_t *sig = json_object();

	if (sig)
		helper_json(sig, o);
	return sig;
}

/* What confinement the job's child runs had, when any ran, and signgate's own process. */
static void confinement_json(json_t *rec, const sg_outcome *o)
{
	json_t *c = sg_pipeline_confinement_json(o);

	if (!c)
		c = json_object();
	/* What confined signgate's own process while it read this input (confine.h). */
	if (c && json_object_set_new(c, "signgate", sg_confine_self_json()) == 0)
		set(rec, "confinement", c);
	else
		json_decref(c);
}

/* A failure to do the work, as opposed to a verdict on the input. */
static int is_operational(int status)
{
	return status != SG_OK && status != SG_ERR_DENIED && status != SG_ERR_FORMAT &&
	       status != SG_ERR_VERIFY;
}

json_t *sg_outcome_to_json(const sg_outcome *o, const sg_job *job)
{
	json_t *rec = json_object(), *reasons = json_array();

	if (!rec || !reasons) {
		json_decref(rec);
		json_decref(reasons);
		return NULL;
	}
	set(rec, "action", sg_json_text(action_names[job->action]));
	set(rec, "decision", sg_json_text(o->decision ? o->decision : "failed"));
	set(rec, "status", sg_json_text(sg_status_name(o->status)));
	set(rec, "input", input_json(o, job));
	for (size_t i = 0; o->decided && i < o->decision_detail.n_reasons; i++)
		json_array_append_new(reasons, sg_json_text(o->decision_detail.reasons[i]));
	if (o->status == SG_ERR_FORMAT || o->status == SG_ERR_VERIFY ||
	    (job->action == SG_ACTION_VERIFY && o->status == SG_OK))
		json_array_append_new(reasons, sg_json_text(o->message));
	/* A skipped input says why, as a denial does. */
	if (json_array_size(reasons) == 0 && o->decision && strcmp(o->decision, "skipped") == 0)
		json_array_append_new(reasons, sg_json_text(o->message));
	set(rec, "reasons", reasons);
	if (is_operational(o->status))
		set(rec, "error", sg_json_text(o->message));
	if (o->decided && o->decision_detail.approval)
		set(rec, "approval", approval_json(o));
	if (o->have_output)
		set(rec, "output", output_json(o, job));
	if (o->verified)
		set(rec, "signature", signature_json(o));
	else if (o->sign.helper_signatures)
		set(rec, "signature", unverified_signature_json(o));
	if (o->cancels[0])
		set(rec, "cancels", sg_json_text(o->cancels));
	if (o->traced)
		set(rec, "signed_from", sg_pipeline_origin_json(o));
	confinement_json(rec, o);
	sg_pipeline_sign_confinement(rec, o);
	return rec;
}

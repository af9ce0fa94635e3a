/*
 * Signing one approved input (issue 12): the key never meets the vendor's
 * bytes. This process holds no key and no secret; it computes the private
 * copy's Authenticode digest itself, the key helper (lib/keyhelper_proc.c)
 * signs that digest, an RFC 3161 token is asked for here
 * (lib/timestamp.c), and the signature is attached without any key: a PE
 * by signgate itself, in place on the private copy, anything else by a
 * keyless `osslsigncode attach-signature` (lib/attach.c). The output is then
 * judged by signgate's own checks only: its own Authenticode digest must be
 * the one signed, and the signature it carries must be, byte for byte, the
 * one made here (verify.h, expect_der).
 */
#include "pipeline_internal.h"
#include "attach.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/keyhelper.h"
#include "pe_digest.h"
#include "timestamp.h"
#include "trust.h"
#include "signgate/util.h"
#include "signgate/verify.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/obj_mac.h>

/* A file's Authenticode digest, taken by signgate (on a thread of its own). */
struct own_digest {
	const char *path;
	const char *name;
	sg_format_digest_use use; /* a new signature, a nested one, or the file's own */
	unsigned char md[SG_FORMAT_DIGEST_MAX];
	size_t md_len;
	char hex[2 * SG_FORMAT_DIGEST_MAX + 1]; /* upper case, as signatures are compared */
	int error;
	char message[SG_ERROR_MAX];
};

/*
 * `info`: the file's structure check when it was taken already (the private
 * copy's, by the pass that wrote it); NULL: taken here (the signed file).
 */
static int take_digest(struct own_digest *d, int fd, const sg_format_info *info)
{
	sg_format_info own;
	int error = info ? SG_OK : sg_format_inspect(&own, fd, d->name);

	if (error)
		return error;
	return sg_format_digest(d->md, &d->md_len, fd, info ? info : &own, d->use, d->name);
}

/* The digest of the file open as `fd`. */
static void own_digest_fd(struct own_digest *d, int fd, const sg_format_info *info)
{
	d->error = take_digest(d, fd, info);
	if (d->error)
		snprintf(d->message, sizeof(d->message), "%s", sg_error_last());
	else
		sg_hex_encode_upper(d->hex, d->md, d->md_len);
}

static void *own_digest_run(void *arg)
{
	struct own_digest *d = arg;
	int fd = open(d->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		d->error = sg_error_set(SG_ERR_IO, "%s: cannot reopen %s", d->name, d->path);
		snprintf(d->message, sizeof(d->message), "%s", sg_error_last());
		return NULL;
	}
	own_digest_fd(d, fd, NULL);
	close(fd);
	return NULL;
}

/* SpcSpOpusInfo takes printable ASCII here: anything else is shown as '?'. */
static void printable(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	for (; in && *in && n + 1 < cap; in++)
		out[n++] = (*in >= 0x20 && *in <= 0x7e) ? *in : '?';
	out[n] = '\0';
}

static int is_http_url(const char *s)
{
	return s && (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0);
}

/* The key helper signs the copy's digest; `*der` is its PKCS#7. */
static int request_signature(sg_outcome *o, const sg_context *ctx, const struct own_digest *copy,
			     unsigned char **der, size_t *der_len)
{
	const sg_approval *a = o->decision_detail.approval;
	sg_keyhelper_request req = { 0 };
	char desc[SG_AUTHENTICODE_TEXT_MAX + 1];
	const char *url = a->url ? a->url : a->source;
	unsigned long count = 0;
	int error;

	if (!ctx->keyhelper)
		return sg_error_set(SG_ERR_USAGE, "no key helper was started for this run");
	req.kind = sg_format_spc_kind(o->format.kind);
	req.md_nid = NID_sha256;
	memcpy(req.digest, copy->md, copy->md_len);
	req.digest_len = copy->md_len;
	snprintf(desc, sizeof(desc), "%s %s", a->product, a->version);
	printable(req.description, sizeof(req.description), a->description ? a->description : desc);
	if (is_http_url(url))
		printable(req.url, sizeof(req.url), url);
	error = sg_keyhelper_sign(ctx->keyhelper, &req, der, der_len, &count);
	/* The helper's confinement, and its violation when it broke it (issue 13). */
	sg_keyhelper_confinement(ctx->keyhelper, &o->sign.key_helper_confinement,
				 &o->sign.key_helper_no_files);
	o->sign.key_helper_confined = 1;
	/* Only a signature made is recorded (a refusal also reports the count so far). */
	if (error)
		return error;
	o->sign.helper_signatures = count;
	o->sign.helper_pid = (long)sg_keyhelper_pid(ctx->keyhelper);
	o->sign.key_source = sg_keyhelper_key_source(ctx->keyhelper);
	snprintf(o->sign.signed_digest, sizeof(o->sign.signed_digest), "%s", copy->hex);
	return SG_OK;
}

/*
 * Add an RFC 3161 token: each TSA in order, with its retries, through the
 * timestamp fetcher (timestamp.h), whose confinement is recorded. A fetcher
 * that has ended (killed for a confinement violation) stops the signing
 * whatever the config says: no other TSA can be asked. When no TSA
 * answered, "optional" signs without a token (the record's tsa_failures
 * says why, and the run warns), "required" fails.
 */
static int timestamp(sg_sign_result *out, const sg_context *ctx, unsigned char **der,
		     size_t *der_len)
{
	const sg_config *cfg = ctx->cfg;
	int error;

	if (cfg->n_timestamp_urls == 0)
		return SG_OK;
	error = sg_timestamp_add_any(out, der, der_len, ctx->tsa, cfg);
	if (error != SG_ERR_TOOL || sg_tsa_gone(ctx->tsa))
		return error;
	if (!cfg->timestamp_required)
		return SG_OK;
	return sg_error_set(SG_ERR_TOOL,
			    "timestamping is required and no TSA answered (%zu tried): %s",
			    cfg->n_timestamp_urls, out->attempts);
}

int sg_outcome_timestamp_warning(char *buf, size_t size, const sg_outcome *o, const sg_job *job)
{
	int now = o->decision && strcmp(o->decision, "signed") == 0;

	if (job->action != SG_ACTION_SIGN || o->status != SG_OK || !o->have_output ||
	    !o->verified || o->verify.timestamped)
		return 0;
	/* README "Timestamps": without one it dies with the certificate. */
	snprintf(buf, size,
		 "%s: %s without a timestamp: the signature dies with the certificate (not after "
		 "%s); %s",
		 job->output, now ? "signed" : "already signed", o->verify.signer.not_after,
		 !now ? "add one with `signgate timestamp` or sign it again with --force"
		 : o->sign.attempts[0]
			 ? "no TSA answered (the audit record's signature.tsa_failures says why); "
			   "add one later with `signgate timestamp`"
			 : "name TSAs in signing.timestamp_urls");
	return 1;
}

void sg_pipeline_sign_confinement(json_t *rec, const sg_outcome *o)
{
	json_t *conf = json_object_get(rec, "confinement"), *k;

	if (!o->sign.key_helper_confined && !o->sign.tsa_confined)
		return;
	if (!conf && (!(conf = json_object()) || json_object_set_new(rec, "confinement", conf)))
		return;
	if (o->sign.key_helper_confined) {
		k = sg_confine_report_json(&o->sign.key_helper_confinement);
		/* PKCS#12 and PEM: no file at all once the key was open. */
		if (k)
			json_object_set_new(k, "files_after_key_open",
					    json_boolean(!o->sign.key_helper_no_files));
		json_object_set_new(conf, "key_helper", k);
	}
	if (o->sign.tsa_confined)
		json_object_set_new(conf, "timestamp",
				    sg_confine_report_json(&o->sign.tsa_confinement));
}

/* Everything one signing needs, from the copy's digest to the published output. */
struct signing {
	sg_outcome *o;
	const sg_context *ctx;
	const sg_job *job;
	const char *name;
	const char *copy;                    /* the private copy, in `stage` */
	int copy_fd;                         /* open on the copy as signgate wrote it */
	const unsigned char *copy_pe_digest; /* a PE's, from the pass that wrote the copy */
	const char *stage;                   /* private folder beside the output */
	int nested;
	int input_signatures;            /* nested: the signatures the copy carries */
	unsigned char input_primary[32]; /* nested: SHA-256 of its primary's signature value */
	int in_place;                    /* a PE signed by appending its table to the copy */
	int input_verdict;               /* make_signed_file() failed on what the input is */
	char *signed_path;               /* the copy itself when in place */
	struct own_digest copy_digest;
	unsigned char *der;
	size_t der_len;
};

/*
 * The run's trust files for osslsigncode, as private copies in the stage of
 * the bytes signgate checked (trust.h): `paths` holds what to free.
 */
static int trust_copies(sg_attach_request *req, char *paths[3], const struct signing *s)
{
	static const char *const base[3] = { "anchors.pem", "tsa-anchors.pem", "crls.pem" };
	const sg_trust *t = s->ctx->trust;
	const char *given[3] = { t ? sg_trust_ca_file(t) : NULL, t ? sg_trust_tsa_ca_file(t) : NULL,
				 t ? sg_trust_crl_file(t) : NULL };
	const char **dest[3] = { &req->ca_file, &req->tsa_ca_file, &req->crl_file };
	static const sg_trust_file which[3] = { SG_TRUST_CA, SG_TRUST_TSA, SG_TRUST_CRL };
	int error = SG_OK;

	if (!t)
		return sg_error_set(SG_ERR_USAGE, "no trust was loaded for this run");
	for (int i = 0; !error && i < 3; i++) {
		if (!given[i])
			continue;
		if (!(paths[i] = sg_path_join(s->stage, base[i])))
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
		else
			error = sg_trust_write_copy(t, which[i], paths[i]);
		*dest[i] = paths[i];
	}
	return error;
}

static int attach(struct signing *s)
{
	sg_format_attach_fn own = sg_format_attach_in_place(&s->o->format, s->nested);
	sg_attach_request req = { 0 };
	char *paths[3] = { NULL, NULL, NULL };
	int error;

	if (s->in_place)
		/* Through signgate's own descriptor: the path may name another file now. */
		return own(s->copy_fd, s->copy, &s->o->format, s->der, s->der_len, s->name);
	if ((error = trust_copies(&req, paths, s)) != SG_OK)
		goto out;
	req.input = s->copy;
	req.output = s->signed_path;
	req.workdir = s->stage;
	req.der = s->der;
	req.der_len = s->der_len;
	req.nest = s->nested;
	req.add_msi_dse = sg_format_attach_add_msi_dse(&s->o->format, s->nested);
	req.name = s->name;
	req.confinement = &s->o->confinement.attach;
	s->o->confinement.attach_ran = 1;
	error = sg_attach_osslsigncode(s->ctx->cfg, &req);
out:
	for (int i = 0; i < 3; i++) {
		if (paths[i])
			unlink(paths[i]);
		free(paths[i]);
	}
	return error;
}

/* A verdict on a file (it does not verify, or is malformed), not a failure to work. */
static int is_verdict(int error)
{
	return error == SG_ERR_VERIFY || error == SG_ERR_FORMAT;
}

/* Digest, signature, timestamp, attachment: the signed file at s->signed_path. */
static int make_signed_file(struct signing *s)
{
	sg_outcome *o = s->o;
	int error;

	/* The format says what a nested signature signs (an MSI's pre-hash, when it has one). */
	s->copy_digest = (struct own_digest){ .path = s->copy,
					      .name = s->name,
					      .use = s->nested ? SG_FORMAT_DIGEST_NEST
							       : SG_FORMAT_DIGEST_SIGN };
	/*
	 * The bytes approved: a PE's digest taken as the copy was written, else
	 * read through signgate's own descriptor (the path may be swapped).
	 */
	if (s->copy_pe_digest) {
		memcpy(s->copy_digest.md, s->copy_pe_digest, SG_PE_DIGEST_LEN);
		s->copy_digest.md_len = SG_PE_DIGEST_LEN;
		sg_hex_encode_upper(s->copy_digest.hex, s->copy_digest.md, SG_PE_DIGEST_LEN);
	} else {
		own_digest_fd(&s->copy_digest, s->copy_fd, &o->format);
	}
	/*
	 * The input's own defect (its structure, an MSI's wrong pre-hash, a
	 * nested value no signature) is a verdict about the input: malformed.
	 */
	s->input_verdict = is_verdict(s->copy_digest.error);
	if (s->copy_digest.error)
		return sg_error_set(s->input_verdict ? SG_ERR_FORMAT : s->copy_digest.error, "%s",
				    s->copy_digest.message);
	/* Nesting adds one signature and keeps the primary: what the input has (check_nest). */
	error = s->nested ? sg_verify_count_signatures_info(&s->input_signatures, s->input_primary,
							    s->copy_fd, &o->format, s->name)
			  : SG_OK;
	s->input_verdict = is_verdict(error);
	if (s->input_verdict) {
		/* A message is never formatted from its own buffer: a copy first. */
		snprintf(s->copy_digest.message, sizeof(s->copy_digest.message), "%s",
			 sg_error_last());
		return sg_error_set(SG_ERR_FORMAT, "%s", s->copy_digest.message);
	}
	if (error)
		return error;
	error = request_signature(o, s->ctx, &s->copy_digest, &s->der, &s->der_len);
	/* From the key helper, SG_ERR_CRYPTO means the key or token failed: stop the run. */
	o->key_refused = error == SG_ERR_CRYPTO;
	if (!error)
		error = timestamp(&o->sign, s->ctx, &s->der, &s->der_len);
	if (!error)
		error = attach(s);
	if (!error)
		o->signed_ok = 1;
	snprintf(o->sign.attached_by, sizeof(o->sign.attached_by), "%s",
		 s->in_place ? "signgate" : "osslsigncode attach-signature");
	return error;
}

/* The output's digests and fsync, on a thread of their own while it is verified. */
struct prepare_job {
	sg_digests *out;
	const char *path;
	int error;
	char message[SG_ERROR_MAX];
};

static void *prepare_output(void *arg)
{
	struct prepare_job *p = arg;

	p->error = sg_publish_in_place(p->out, p->path, SG_DIGEST_SHA1 | SG_DIGEST_SHA256, NULL);
	if (p->error)
		snprintf(p->message, sizeof(p->message), "%s", sg_error_last());
	return NULL;
}

/*
 * Nesting adds our signature and changes nothing else: the output carries
 * exactly one signature more than the input, and its primary signature is
 * still the input's (the same signature value).
 */
static int check_nest(struct signing *s)
{
	unsigned char primary[32];
	int count = 0, fd = open(s->signed_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), error;

	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot reopen %s", s->name, s->signed_path);
	error = sg_verify_count_signatures(&count, primary, fd, s->name);
	close(fd);
	if (error)
		return error;
	if (count != s->input_signatures + 1)
		return sg_error_set(SG_ERR_VERIFY,
				    "%s: the signed file carries %d signatures, not the input's %d "
				    "and ours",
				    s->name, count, s->input_signatures);
	if (memcmp(primary, s->input_primary, sizeof(primary)) != 0)
		return sg_error_set(SG_ERR_VERIFY,
				    "%s: the signed file's primary signature is not the input's",
				    s->name);
	return SG_OK;
}

/*
 * Judge the signed file: its own Authenticode digest (taken while its
 * SHA-1/SHA-256 are taken and it is made durable) must be the digest the
 * key helper signed, and the signature it carries must be ours exactly.
 */
static int verify_output(struct signing *s)
{
	struct prepare_job p = { &s->o->output, s->signed_path, SG_OK, "" };
	struct own_digest out = { .path = s->signed_path,
				  .name = s->name,
				  .use = SG_FORMAT_DIGEST_FILE };
	pthread_t tid;
	int threaded = pthread_create(&tid, NULL, prepare_output, &p) == 0, error;

	if (!threaded)
		prepare_output(&p);
	own_digest_run(&out);
	if (threaded)
		pthread_join(tid, NULL);
	/* A signed file the structure check refuses is no valid output (a FORMAT verdict). */
	if (out.error == SG_ERR_FORMAT)
		return sg_error_set(SG_ERR_FORMAT,
				    "%s: the signed file is refused by the structure check: %s",
				    s->name, sg_message_without_name(out.message, s->name));
	if (out.error)
		return sg_error_set(out.error, "%s", out.message);
	if (out.md_len != s->copy_digest.md_len ||
	    memcmp(out.md, s->copy_digest.md, out.md_len) != 0)
		return sg_error_set(SG_ERR_VERIFY,
				    "%s: the signed file's own Authenticode digest (%s) is not the "
				    "one signed (%s)",
				    s->name, out.hex, s->copy_digest.hex);
	error = sg_pipeline_verify_signed(s->o, s->ctx, s->name, s->signed_path, s->nested, out.hex,
					  s->der, s->der_len);
	if (!error && s->nested)
		error = check_nest(s);
	if (!error && p.error)
		return sg_error_set(p.error, "%s", p.message);
	return error;
}

static int sign_in_stage(struct signing *s)
{
	sg_outcome *o = s->o;
	int error;

	s->in_place = sg_format_attach_in_place(&o->format, s->nested) != NULL;
	s->signed_path = s->in_place ? strdup(s->copy)
				     : sg_path_join(s->stage, sg_path_base(s->job->output));
	if (!s->signed_path)
		return sg_pipeline_end(o, sg_error_set(SG_ERR_NOMEM, "out of memory"), "failed");
	error = make_signed_file(s);
	/* A verdict about the input denies it; its message names the file already. */
	if (error && s->input_verdict)
		return sg_pipeline_end(o, error, "denied");
	if (error) {
		if (sg_message_without_name(sg_error_last(), s->name) == sg_error_last())
			sg_error_prefix("%s", s->name);
		return sg_pipeline_end(o, error, "failed");
	}
	error = verify_output(s);
	if (error) {
		o->verified = 0;
		return sg_pipeline_end(o, error, is_verdict(error) ? "invalid" : "failed");
	}
	return sg_pipeline_publish(o, s->ctx, s->job, s->signed_path);
}

int sg_pipeline_sign(sg_outcome *o, const sg_context *ctx, const sg_job *job, const char *copy,
		     int copy_fd, const char *stage, const unsigned char *copy_pe_digest)
{
	struct signing s = { .o = o,
			     .ctx = ctx,
			     .job = job,
			     .copy = copy,
			     .copy_fd = copy_fd,
			     .stage = stage,
			     .copy_pe_digest = copy_pe_digest };
	const char *in_ext, *out_ext;
	int error;

	s.name = sg_path_base(job->input);
	s.nested = o->format.has_signature &&
		   o->decision_detail.approval->existing == SG_EXISTING_NEST;
	/*
	 * A format known by its name (a script) is that format only under such a
	 * name, and under its own: a signature does not bind the extension, so an
	 * approved data file (.psd1) must not come out as code (.ps1).
	 */
	in_ext = sg_format_by_name_extension(s.name);
	out_ext = sg_format_by_name_extension(sg_path_base(job->output));
	if (in_ext && (!out_ext || strcasecmp(in_ext, out_ext) != 0))
		return sg_pipeline_end(
			o,
			sg_error_set(SG_ERR_USAGE,
				     "%s: a %s file is known by its extension (%s) only: the "
				     "output must keep that extension, not name it %s",
				     s.name, sg_format_name(o->format.kind), in_ext,
				     sg_path_base(job->output)),
			"failed");
	/* A re-run: our valid signature over this very input passes as already signed. */
	if (!job->force && sg_path_exists(job->output))
		return sg_pipeline_existing_output(o, ctx, job, copy_fd, stage, copy_pe_digest);
	error = sign_in_stage(&s);
	free(s.der);
	free(s.signed_path);
	return error;
}

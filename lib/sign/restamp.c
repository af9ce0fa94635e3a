/*
 * Timestamping a file signgate signed without one; see
 * include/signgate/restamp.h. No key, no secret, no key helper: the token
 * comes from the timestamp fetcher (lib/sign/tsa_proc.c) through the
 * timestamp API (lib/sign/timestamp.c), and the signature is attached as
 * signing attaches one (lib/format/attach.h).
 */
#include "signgate/restamp.h"
#include "signgate/strict.h"
#include "attach.h"
#include "authenticode.h"
#include "pipeline_internal.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/policy_json.h"
#include "signgate/util.h"
#include "signgate/verify.h"
#include "timestamp.h"
#include "trust.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#define OID_RFC3161_TIMESTAMP "1.3.6.1.4.1.311.3.3.1"

/* One job's state, from the private copy to the published output. */
struct restamp {
	sg_outcome *o;
	const sg_context *ctx;
	const sg_job *job;
	const char *name;       /* the input's base name, for messages */
	const char *stage;      /* private folder beside the output */
	char *copy;             /* the private copy of the input, in `stage` */
	int copy_fd;            /* the descriptor the copy was written through */
	char *signed_path;      /* the timestamped file: the copy itself when in place */
	unsigned char *old_box; /* the signature's container as the input holds it */
	size_t old_at, old_len; /* the DER inside it */
	unsigned char *new_der; /* the same signature with the token */
	size_t new_len;
	unsigned char file_md[SG_FORMAT_DIGEST_MAX]; /* the input's own Authenticode digest */
	size_t file_md_len;
	char value_sha256[65]; /* SHA-256 of the SignerInfo's signature value */
	char before_signer[65];
	size_t tsa_tried;
};

static const unsigned char *old_der(const struct restamp *r)
{
	return r->old_box + r->old_at;
}

/* End the job: status, decision and the last error as its message. */
static int end(struct restamp *r, int status, const char *decision)
{
	return sg_pipeline_end(r->o, status, decision);
}

/* The copy of the input, read once; every later step reads the copy. */
static int take_copy(struct restamp *r)
{
	const char *ext = sg_format_by_name_extension(r->name);
	char copy_name[24];
	int error;

	/* A script keeps its extension: osslsigncode knows one by its name only. */
	snprintf(copy_name, sizeof(copy_name), "in%s", ext ? ext : "");
	if (!(r->copy = sg_path_join(r->stage, copy_name)))
		return end(r, sg_error_set(SG_ERR_NOMEM, "out of memory"), "failed");
	error = sg_private_copy_fd(&r->o->input, r->job->input, r->copy, r->name, SG_DIGEST_SHA256,
				   NULL, 1, &r->copy_fd);
	if (error)
		return end(r, error, "failed");
	r->o->have_input = 1;
	error = sg_format_inspect(&r->o->format, r->copy_fd, r->name);
	if (error)
		return end(r, error, error == SG_ERR_FORMAT ? "denied" : "failed");
	r->o->have_format = 1;
	return SG_OK;
}

/* The verification options of the run, pinned to the configured signer. */
static sg_verify_opts verify_opts(const struct restamp *r, const unsigned char *der, size_t len)
{
	sg_verify_opts opts = r->ctx->verify;

	opts.pin_sha256 = r->ctx->signer->sha256;
	opts.index = 0;
	opts.file_digest = NULL;
	opts.expect_der = der;
	opts.expect_der_len = len;
	return opts;
}

/* The PKCS#7's own length at `der` (`*len`: the container's bytes from there, which may pad it). */
static int der_prefix(const unsigned char *der, size_t *len)
{
	const unsigned char *p = der;
	PKCS7 *p7 = *len <= LONG_MAX ? d2i_PKCS7(NULL, &p, (long)*len) : NULL;

	ERR_clear_error();
	if (!p7)
		return SG_ERR_VERIFY;
	PKCS7_free(p7);
	*len = (size_t)(p - der);
	return SG_OK;
}

/*
 * The input must be our valid signature, alone, without a timestamp. Returns
 * SG_OK to go on, 1 when it is timestamped already (skipped), else the status
 * that ended the job.
 */
static int check_before(struct restamp *r)
{
	sg_outcome *o = r->o;
	size_t box_len = 0;
	sg_verify_opts opts;
	int error;

	if (!o->format.has_signature)
		return end(r,
			   sg_error_set(SG_ERR_DENIED,
					"%s: carries no Authenticode signature: nothing to "
					"timestamp (`signgate sign` signs it)",
					r->name),
			   "denied");
	error = sg_format_signature_read(&r->old_box, &box_len, &r->old_at, &r->old_len, r->copy_fd,
					 &o->format, SG_SIG_CONTAINER_MAX, r->name);
	if (error)
		return end(r, error, error == SG_ERR_FORMAT ? "denied" : "failed");
	/* The container may pad it (a PE's table): the DER is its first element. */
	if (der_prefix(old_der(r), &r->old_len) != SG_OK)
		return end(r,
			   sg_error_set(SG_ERR_VERIFY, "%s: its %s holds no PKCS#7 signature",
					r->name, sg_format_container_name(o->format.kind)),
			   "denied");
	/* Ours exactly: the configured signer, signgate's attributes, the container's DER. */
	opts = verify_opts(r, old_der(r), r->old_len);
	error = sg_verify_file(&o->verify, &opts, r->copy, r->name);
	if (error == SG_ERR_VERIFY || error == SG_ERR_FORMAT) {
		/* A message is never formatted from its own buffer: a copy first. */
		snprintf(o->message, sizeof(o->message), "%s",
			 o->verify.reason[0] ? o->verify.reason : sg_error_last());
		return end(
			r,
			sg_error_set(error,
				     "%s: not a valid signature of the configured signing "
				     "certificate made by signgate, so it is not timestamped: %s",
				     r->name, o->message),
			"denied");
	}
	if (error)
		return end(r, error, "failed");
	if (o->verify.n_signatures != 1)
		return end(r,
			   sg_error_set(SG_ERR_DENIED,
					"%s: carries %d signatures; only a file whose one "
					"signature is ours is timestamped",
					r->name, o->verify.n_signatures),
			   "denied");
	snprintf(r->before_signer, sizeof(r->before_signer), "%s", o->verify.signer.sha256);
	if (o->verify.timestamped) {
		o->status = SG_OK;
		o->decision = "skipped";
		snprintf(o->message, sizeof(o->message),
			 "timestamped already (%s): nothing to do, no output written",
			 o->verify.timestamp);
		return 1;
	}
	error = sg_format_digest(r->file_md, &r->file_md_len, r->copy_fd, &o->format,
				 SG_FORMAT_DIGEST_FILE, r->name);
	return error ? end(r, error, error == SG_ERR_FORMAT ? "denied" : "failed") : SG_OK;
}

/*
 * A timestamp lets the signature outlive its certificate: it is decided like
 * a signing. The input is traced to its signing record by its SHA-256 in the
 * audit log and the vendor bytes that record names are decided again by the
 * policy, as `sign` decides an input already ours (sg_pipeline_judge_ours()):
 * no log, no record, records that disagree or an approval withdrawn deny it.
 * On SG_OK o->origin names the signing record (the record's "signed_from").
 */
static int judge(struct restamp *r)
{
	sg_outcome *o = r->o;
	sg_decision *d = &o->decision_detail;

	if (!r->ctx->policy)
		return end(r, sg_error_set(SG_ERR_USAGE, "timestamping needs the policy"),
			   "failed");
	sg_pipeline_judge_ours(o, r->ctx, r->job);
	if (o->status == SG_OK) {
		/* Its first reason speaks of signing again ("already signed"): not here. */
		if (d->n_reasons > 1) {
			memmove(d->reasons[0], d->reasons[1], (d->n_reasons - 1) * sizeof(d->reasons[0]));
			d->n_reasons--;
		}
		o->decision = NULL;
		o->message[0] = '\0';
		return SG_OK;
	}
	/* A message is never formatted from its own buffer: a copy first. */
	{
		char why[sizeof(o->message)];

		snprintf(why, sizeof(why), "%s", o->message);
		sg_error_set(o->status, "%s: not timestamped: %s", r->name, why);
	}
	return end(r, o->status, o->status == SG_ERR_DENIED ? "denied" : "failed");
}

/*
 * A token from the configured TSAs, asked as signing asks them
 * (sg_timestamp_add_any(): in order, each with its retries); r->new_der is
 * the input's signature with it.
 */
static int stamp(struct restamp *r)
{
	const sg_config *cfg = r->ctx->cfg;
	sg_sign_result *s = &r->o->sign;
	unsigned char *der = malloc(r->old_len ? r->old_len : 1);
	size_t len = r->old_len;
	int error;

	if (!der)
		return end(r, sg_error_set(SG_ERR_NOMEM, "out of memory"), "failed");
	memcpy(der, old_der(r), r->old_len);
	error = sg_timestamp_add_any(s, &der, &len, r->ctx->tsa, cfg);
	if (error == SG_OK) {
		r->new_der = der;
		r->new_len = len;
		r->tsa_tried = 1;
		for (size_t i = 0; i < cfg->n_timestamp_urls; i++)
			if (strcmp(cfg->timestamp_urls[i], s->tsa_url) == 0) {
				r->tsa_tried = i + 1;
				break;
			}
		return SG_OK;
	}
	free(der);
	r->tsa_tried = cfg->n_timestamp_urls;
	if (error == SG_ERR_TOOL)
		sg_error_prefix("%s", r->name);
	return end(r, error, "failed");
}

/* The run's trust files as private copies in the stage, for osslsigncode. */
static int trust_copies(sg_attach_request *req, char *paths[3], const struct restamp *r)
{
	static const char *const base[3] = { "anchors.pem", "tsa-anchors.pem", "crls.pem" };
	static const sg_trust_file which[3] = { SG_TRUST_CA, SG_TRUST_TSA, SG_TRUST_CRL };
	const sg_trust *t = r->ctx->trust;
	const char **dest[3] = { &req->ca_file, &req->tsa_ca_file, &req->crl_file };
	int error = t ? SG_OK : sg_error_set(SG_ERR_USAGE, "no trust was loaded for this run");

	for (int i = 0; !error && i < 3; i++) {
		const char *given = i == 0   ? sg_trust_ca_file(t)
				    : i == 1 ? sg_trust_tsa_ca_file(t)
					     : sg_trust_crl_file(t);
		if (!given)
			continue;
		if (!(paths[i] = sg_path_join(r->stage, base[i])))
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
		else
			error = sg_trust_write_copy(t, which[i], paths[i]);
		*dest[i] = paths[i];
	}
	return error;
}

/* The stamped signature replaces the old one, as signing attaches a first signature. */
static int attach(struct restamp *r)
{
	sg_format_attach_fn own = sg_format_attach_in_place(&r->o->format, 0);
	const char *ext = sg_format_by_name_extension(r->name);
	sg_attach_request req = { 0 };
	char *paths[3] = { NULL, NULL, NULL }, out_name[24];
	int error;

	if (own) {
		snprintf(r->o->sign.attached_by, sizeof(r->o->sign.attached_by), "signgate");
		if (!(r->signed_path = strdup(r->copy)))
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		return own(r->copy_fd, r->copy, &r->o->format, r->new_der, r->new_len, r->name);
	}
	snprintf(r->o->sign.attached_by, sizeof(r->o->sign.attached_by),
		 "osslsigncode attach-signature");
	snprintf(out_name, sizeof(out_name), "out%s", ext ? ext : "");
	if (!(r->signed_path = sg_path_join(r->stage, out_name)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = trust_copies(&req, paths, r);
	req.input = r->copy;
	req.output = r->signed_path;
	req.workdir = r->stage;
	req.der = r->new_der;
	req.der_len = r->new_len;
	req.name = r->name;
	req.confinement = &r->o->confinement.attach;
	if (!error) {
		r->o->confinement.attach_ran = 1;
		error = sg_attach_osslsigncode(r->ctx->cfg, &req);
	}
	for (int i = 0; i < 3; i++) {
		if (paths[i])
			unlink(paths[i]);
		free(paths[i]);
	}
	return error;
}

/*
 * The stamped signature is the old one plus the token and nothing else:
 * without its one unsigned attribute (the RFC 3161 token) it encodes to the
 * old DER byte for byte, so the signed attributes, the signed content and
 * the signature value are unchanged. Sets r->value_sha256.
 */
static int same_signature(struct restamp *r, const unsigned char *der, size_t der_len)
{
	const unsigned char *p = der;
	PKCS7 *p7 = der_len <= LONG_MAX ? d2i_PKCS7(NULL, &p, (long)der_len) : NULL;
	STACK_OF(PKCS7_SIGNER_INFO) *sis =
		p7 && PKCS7_type_is_signed(p7) ? PKCS7_get_signer_info(p7) : NULL;
	PKCS7_SIGNER_INFO *si =
		sk_PKCS7_SIGNER_INFO_num(sis) == 1 ? sk_PKCS7_SIGNER_INFO_value(sis, 0) : NULL;
	ASN1_OBJECT *ts = OBJ_txt2obj(OID_RFC3161_TIMESTAMP, 1);
	unsigned char *again = NULL, md[32];
	int len = -1, ok = 0;

	if (si && ts && p == der + der_len && X509at_get_attr_count(si->unauth_attr) == 1 &&
	    OBJ_cmp(X509_ATTRIBUTE_get0_object(X509at_get_attr(si->unauth_attr, 0)), ts) == 0) {
		sk_X509_ATTRIBUTE_pop_free(si->unauth_attr, X509_ATTRIBUTE_free);
		si->unauth_attr = NULL;
		len = i2d_PKCS7(p7, &again);
		ok = len > 0 && (size_t)len == r->old_len &&
		     memcmp(again, old_der(r), r->old_len) == 0 &&
		     EVP_Digest(si->enc_digest->data, (size_t)si->enc_digest->length, md, NULL,
				EVP_sha256(), NULL);
	}
	if (ok)
		sg_hex_encode(r->value_sha256, md, sizeof(md));
	OPENSSL_free(again);
	ASN1_OBJECT_free(ts);
	PKCS7_free(p7);
	ERR_clear_error();
	return ok ? SG_OK
		  : sg_error_set(SG_ERR_VERIFY,
				 "%s: the timestamped signature is not the input's signature plus "
				 "one RFC 3161 token",
				 r->name);
}

/*
 * The file open as `fd` (a regular file) is of the input's format and its
 * own Authenticode digest is the input's.
 */
static int same_content(struct restamp *r, int fd)
{
	unsigned char md[SG_FORMAT_DIGEST_MAX];
	char want[2 * SG_FORMAT_DIGEST_MAX + 1], got[2 * SG_FORMAT_DIGEST_MAX + 1];
	sg_format_info info;
	size_t md_len = 0;
	int error = sg_format_inspect(&info, fd, r->name);

	if (!error && info.kind != r->o->format.kind)
		error = sg_error_set(SG_ERR_FORMAT, "%s: the timestamped file is a %s, not a %s",
				     r->name, sg_format_name(info.kind),
				     sg_format_name(r->o->format.kind));
	if (!error)
		error = sg_format_digest(md, &md_len, fd, &info, SG_FORMAT_DIGEST_FILE, r->name);
	if (error)
		return error;
	if (md_len == r->file_md_len && memcmp(md, r->file_md, md_len) == 0)
		return SG_OK;
	sg_hex_encode_upper(want, r->file_md, r->file_md_len);
	sg_hex_encode_upper(got, md, md_len);
	return sg_error_set(SG_ERR_VERIFY,
			    "%s: the timestamped file's own Authenticode digest (%s) is not the "
			    "input's (%s)",
			    r->name, got, want);
}

/*
 * `path` opened for reading as a regular file: never blocks on a FIFO put
 * there, never follows a link. -1 (the last error set) otherwise.
 */
static int open_regular(const char *path, const char *name)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return fd;
	if (fd >= 0)
		close(fd);
	sg_error_set(SG_ERR_IO, "%s: cannot open %s as a regular file", name, path);
	return -1;
}

/* same_content() of the file at `path`. */
static int same_content_at(struct restamp *r, const char *path)
{
	int fd = open_regular(path, r->name), error;

	if (fd < 0)
		return sg_error_code();
	error = same_content(r, fd);
	close(fd);
	return error;
}

/* Judge the timestamped file before anyone sees it: same signature, same content, a timestamp. */
static int check_after(struct restamp *r)
{
	sg_outcome *o = r->o;
	sg_verify_opts opts = verify_opts(r, r->new_der, r->new_len);
	int error = same_signature(r, r->new_der, r->new_len);

	/* Its SHA-1 and SHA-256, 0644, durable (it is renamed into place later). */
	if (!error)
		error = sg_publish_in_place(&o->output, r->signed_path,
					    SG_DIGEST_SHA1 | SG_DIGEST_SHA256, NULL);
	if (!error)
		error = same_content_at(r, r->signed_path);
	if (!error)
		error = sg_verify_file(&o->verify, &opts, r->signed_path, r->name);
	o->verified = error == SG_OK;
	if (!error && (!o->verify.timestamped || o->verify.n_signatures != 1 ||
		       strcmp(o->verify.signer.sha256, r->before_signer) != 0))
		error = sg_error_set(
			SG_ERR_VERIFY, "%s: the timestamped file verifies but %s", r->name,
			!o->verify.timestamped        ? "shows no timestamp"
			: o->verify.n_signatures != 1 ? "does not carry exactly one signature"
						      : "has another signer");
	if (error) {
		o->verified = 0;
		return end(r, error,
			   error == SG_ERR_VERIFY || error == SG_ERR_FORMAT ? "invalid" : "failed");
	}
	return SG_OK;
}

/* Fields of a "timestamp" record beside the pipeline's. */
static void restamp_json(json_t *rec, const struct restamp *r)
{
	const sg_outcome *o = r->o;
	json_t *t = json_object(), *reasons = json_object_get(rec, "reasons");

	/* A refusal says why, as a denial does. */
	if (json_is_array(reasons) && json_array_size(reasons) == 0 && o->decision &&
	    (strcmp(o->decision, "denied") == 0 || strcmp(o->decision, "skipped") == 0))
		json_array_append_new(reasons, sg_json_text(o->message));
	if (!t)
		return;
	json_object_set_new(t, "tsa_tried", json_integer((json_int_t)r->tsa_tried));
	/* The TSAs that failed, also when none answered (no "signature" then). */
	if (o->sign.attempts[0])
		json_object_set_new(t, "tsa_failures", sg_json_text(o->sign.attempts));
	if (o->sign.attached_by[0])
		json_object_set_new(t, "attached_by", sg_json_text(o->sign.attached_by));
	if (r->value_sha256[0])
		json_object_set_new(t, "signature_value_sha256", sg_json_text(r->value_sha256));
	if (o->have_output && o->have_input && strcmp(o->decision, "timestamped") == 0) {
		/* The file's digests changed: whatever listed the old ones is stale. */
		json_object_set_new(t, "replaces_sha256", sg_json_text(o->input.sha256_hex));
		json_object_set_new(t, "remake",
				    sg_json_text("catalogs and hash lists that name the input's "
						 "SHA-256 must be made again from the output"));
	}
	json_object_set_new(rec, "timestamping", t);
}

/* Record the outcome (no log: nothing to do). */
static int record(struct restamp *r)
{
	const sg_context *ctx = r->ctx;
	sg_audit_receipt receipt;
	json_t *rec;
	int error;

	if (!ctx->audit_log)
		return SG_OK;
	if (!(rec = sg_outcome_to_json(r->o, r->job)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	restamp_json(rec, r);
	error = sg_audit_append_receipt(ctx->audit_log, rec, &receipt);
	if (error == SG_OK) {
		memcpy(r->o->audit_id, receipt.id, sizeof(r->o->audit_id));
		if (ctx->cfg && ctx->cfg->syslog_facility >= 0)
			sg_audit_syslog(&receipt, rec, ctx->cfg->syslog_facility,
					ctx->cfg->syslog_tag);
	}
	json_decref(rec);
	if (error)
		return sg_error_prefix("%s: the timestamping could not be recorded, so it does "
				       "not count",
				       r->name);
	return SG_OK;
}

/* Recorded first, then renamed into place; a failed rename cancels the record. */
static int publish(struct restamp *r)
{
	sg_outcome *o = r->o;
	int error;

	o->have_output = 1;
	o->status = SG_OK;
	o->decision = "timestamped";
	snprintf(o->message, sizeof(o->message),
		 "timestamped as %s (timestamp %s from %s); its SHA-256 is now %s (was %s): "
		 "remake any catalog or hash list made before",
		 r->job->output, o->verify.timestamp, o->sign.tsa_url, o->output.sha256_hex,
		 o->input.sha256_hex);
	if ((error = record(r)) != SG_OK) {
		unlink(r->signed_path);
		o->have_output = 0;
		return end(r, error, "failed");
	}
	error = sg_publish_commit(r->signed_path, r->job->output, r->job->force);
	if (error) {
		memcpy(o->cancels, o->audit_id, sizeof(o->cancels));
		o->have_output = 0;
		end(r, error, "failed");
		if (record(r) != SG_OK)
			sg_error_set(error, "%s", o->message);
	}
	return error;
}

/*
 * 1 when the file open as `fd` at `path` (the private copy of the existing
 * output) is this input timestamped: the input's signature plus one token,
 * the input's content, valid with a timestamp under the run's trust, one
 * signature, the same signer (o->verify then describes it).
 */
static int is_this_stamped(struct restamp *r, int fd, const char *path)
{
	sg_outcome *o = r->o;
	sg_verify_opts opts;
	sg_format_info info;
	unsigned char *box = NULL;
	size_t box_len = 0, at = 0, len = 0;
	int ours = 0;

	if (sg_format_inspect(&info, fd, r->name) == SG_OK && info.kind == o->format.kind &&
	    info.has_signature &&
	    sg_format_signature_read(&box, &box_len, &at, &len, fd, &info, SG_SIG_CONTAINER_MAX,
				     r->name) == SG_OK &&
	    der_prefix(box + at, &len) == SG_OK && same_signature(r, box + at, len) == SG_OK &&
	    same_content(r, fd) == SG_OK) {
		opts = verify_opts(r, box + at, len);
		ours = sg_verify_file(&o->verify, &opts, path, r->name) == SG_OK &&
		       o->verify.timestamped && o->verify.n_signatures == 1 &&
		       strcmp(o->verify.signer.sha256, r->before_signer) == 0;
	}
	free(box);
	return ours;
}

/*
 * 1 when the audit log holds a "timestamped" record of exactly the bytes
 * hashed into o->output (whole-file SHA-256) made from this input: bytes
 * outside the signed range are then signgate's too (as `sign` requires a
 * signing record of an existing output's exact bytes).
 */
static int recorded(const struct restamp *r)
{
	const sg_audit_signing *rec = NULL;

	if (!r->ctx->signings ||
	    sg_audit_signings_find(r->ctx->signings, r->o->output.sha256_hex, &rec, NULL, 0) !=
		    SG_OK)
		return 0;
	return rec && !rec->conflict && strcmp(rec->stamped_from, r->o->input.sha256_hex) == 0;
}

/*
 * The existing output read once, through one descriptor, into a private
 * copy in the stage: held to the strict rule first (a file another account
 * owns or others may write is not ours to vouch for), hashed as it is
 * copied, then only the copy is judged. Returns 1 when it is this input
 * timestamped and recorded so.
 */
static int existing_is_ours(struct restamp *r, const char *out)
{
	const char *ext = sg_format_by_name_extension(r->name);
	sg_strict_rule rule;
	struct stat st;
	char name[24], *copy;
	int fd, cfd = -1, ours = 0;

	snprintf(name, sizeof(name), "old%s", ext ? ext : "");
	if (!(copy = sg_path_join(r->stage, name)))
		return 0;
	sg_strict_rule_init(&rule, geteuid());
	fd = open_regular(out, r->name);
	if (fd >= 0 && fstat(fd, &st) == 0 && sg_strict_stat_check(&st, out, &rule, 0) == SG_OK &&
	    (cfd = open(copy, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) >= 0 &&
	    sg_hash_stream_some(&r->o->output, fd, cfd, r->name,
				SG_DIGEST_SHA1 | SG_DIGEST_SHA256) == SG_OK)
		ours = recorded(r) && is_this_stamped(r, cfd, copy);
	if (fd >= 0)
		close(fd);
	if (cfd >= 0)
		close(cfd);
	unlink(copy);
	free(copy);
	return ours;
}

/*
 * The output exists and --force was not given. A re-run finds there what it
 * would write (this input timestamped, recorded so): nothing to do,
 * "skipped" with the output's digests. Anything else there is left alone:
 * exists already.
 */
static int existing_output(struct restamp *r)
{
	const char *out = r->job->output;
	sg_outcome *o = r->o;

	if (!existing_is_ours(r, out)) {
		memset(&o->output, 0, sizeof(o->output));
		return end(r,
			   sg_error_set(SG_ERR_EXISTS,
					"%s: exists already and is not this input timestamped (use "
					"--force to replace it)",
					out),
			   "failed");
	}
	o->have_output = 1;
	o->verified = 1;
	o->status = SG_OK;
	o->decision = "skipped";
	snprintf(o->message, sizeof(o->message),
		 "%s is this input timestamped already (timestamp %s): nothing to do", out,
		 o->verify.timestamp);
	return SG_OK;
}

/* Before, stamp, attach, after, publish; the status that ended the job. */
static int restamp(struct restamp *r)
{
	int error = take_copy(r);

	if (!error)
		error = check_before(r);
	if (error)
		return error > 0 ? SG_OK : error;
	if ((error = judge(r)) != SG_OK)
		return error;
	if (!r->job->force && sg_path_exists(r->job->output))
		return existing_output(r);
	if ((error = stamp(r)) != SG_OK)
		return error;
	if ((error = attach(r)) != SG_OK) {
		if (sg_message_without_name(sg_error_last(), r->name) == sg_error_last())
			sg_error_prefix("%s", r->name);
		return end(r, error, "failed");
	}
	if ((error = check_after(r)) != SG_OK)
		return error;
	return publish(r);
}

/* The output must keep a script's extension, and may replace a file only with --force. */
static int check_output(struct restamp *r)
{
	const char *in_ext = sg_format_by_name_extension(r->name);
	const char *out_ext = sg_format_by_name_extension(sg_path_base(r->job->output));

	if (in_ext && (!out_ext || strcasecmp(in_ext, out_ext) != 0))
		return end(r,
			   sg_error_set(SG_ERR_USAGE,
					"%s: a file known by its extension (%s) only must keep it: "
					"the output must not be named %s",
					r->name, in_ext, sg_path_base(r->job->output)),
			   "failed");
	if (!r->ctx->signer || !r->ctx->tsa || !r->ctx->cfg)
		return end(r,
			   sg_error_set(SG_ERR_USAGE,
					"timestamping needs the signing certificate and a TSA"),
			   "failed");
	return SG_OK;
}

int sg_restamp_run(sg_outcome *o, const sg_context *ctx, const sg_job *job)
{
	struct restamp r = { .o = o, .ctx = ctx, .job = job, .copy_fd = -1 };
	sg_workdir wd = SG_WORKDIR_INIT;
	int error;

	memset(o, 0, sizeof(*o));
	r.name = sg_path_base(job->input);
	/* Trust that became unusable is the configuration's fault: nothing recorded. */
	if (sg_verify_check_trust(&ctx->verify) != SG_OK)
		return end(&r, sg_error_code(), "failed");
	error = check_output(&r);
	if (!error && (error = sg_stage_create(&wd, job->output)) != SG_OK)
		end(&r, error, "failed");
	r.stage = wd.path;
	if (!error)
		restamp(&r);
	if (r.copy_fd >= 0)
		close(r.copy_fd);
	free(r.copy);
	free(r.signed_path);
	free(r.old_box);
	free(r.new_der);
	sg_workdir_remove(&wd);
	if (!o->audit_id[0] && record(&r) != SG_OK)
		return end(&r, sg_error_code(), "failed");
	return o->status;
}

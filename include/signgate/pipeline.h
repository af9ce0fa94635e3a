/*
 * One input through signgate's main path:
 *
 *   private copy + digests (one read of the input) -> structure check ->
 *   policy decision -> [osslsigncode sign -> verification -> atomic output]
 *   -> one audit record
 *
 * Every step after the copy works on the private copy in a 0700 working
 * folder, so the bytes that were hashed and approved are the bytes signed.
 * The input is only ever opened read-only. The output appears at its final
 * path only after it verified and its audit record is durable.
 */
#ifndef SIGNGATE_PIPELINE_H
#define SIGNGATE_PIPELINE_H

#include <jansson.h>

#include "signgate/audit.h"
#include "signgate/audit_signings.h"
#include "signgate/cosign.h"
#include "signgate/cert.h"
#include "signgate/config.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/keyhelper.h"
#include "signgate/hash.h"
#include "signgate/policy.h"
#include "signgate/secret.h"
#include "signgate/signer.h"
#include "signgate/tsa_proc.h"
#include "signgate/verify.h"

typedef enum sg_action {
	SG_ACTION_CHECK,  /* decide, do not sign */
	SG_ACTION_SIGN,   /* decide, sign, verify, publish */
	SG_ACTION_VERIFY, /* verify an already signed file */
	SG_ACTION_TIMESTAMP, /* add a timestamp to our signature (signgate/restamp.h) */
} sg_action;

/* What stays the same for every input of one run; the caller owns all of it. */
typedef struct sg_context {
	const sg_config *cfg;       /* NULL only for verify without a config */
	const sg_policy *policy;    /* check and sign */
	const sg_cert_info *signer; /* sign: the configured signing certificate */
	sg_keyhelper *keyhelper;    /* sign: the process that holds the key (keyhelper.h) */
	sg_tsa *tsa;                /* sign: the timestamp fetcher (tsa_proc.h); NULL: no TSA */
	sg_verify_opts verify;      /* verify: trust settings */
	struct sg_trust *trust;     /* the run's trust, owned: sg_context_load_trust() */
	const char *audit_log;      /* NULL: nothing is recorded (verify --ca) */
	/*
	 * sign: the signing records of the audit log, read once per run when an
	 * input already carries our signature (see "already signed" in
	 * sg_pipeline_run()). NULL: such an input cannot be traced and is denied.
	 */
	sg_audit_signings *signings;
} sg_context;

typedef struct sg_job {
	sg_action action;
	const char *input;  /* path as given */
	const char *output; /* sign: the final output path */
	int force;          /* sign: replace an existing output */
} sg_job;

typedef struct sg_outcome {
	int status;                 /* SG_OK or the error that ended the job */
	const char *decision;       /* approved, denied, signed, skipped, failed, valid, invalid */
	char message[SG_ERROR_MAX]; /* one line: why */
	int have_input;
	sg_digests input;
	int have_format;
	sg_format_info format;
	int decided;
	sg_decision decision_detail;
	char policy_file_sha256[65]; /* SHA-256 of the approval's policy file as it was read */
	int two_person; /* the two-person rule applied to the approval (policy or config) */
	int cosigned; /* the two-person rule held: approver and cosigner say who, by certificate */
	sg_cosigner approver; /* the first approver's signature (<file>.approve.p7s) */
	sg_cosigner cosigner; /* the second approver's (<file>.cosign.p7s) */
	int signed_ok;
	int key_refused; /* the signer refused the key, password or PIN (not any crypto error) */
	sg_sign_result sign;
	int verified;
	sg_verify_result verify;
	int have_output;
	sg_digests output;
	char audit_id[SG_AUDIT_ID_LEN];
	/* The "signed" record that a later failure to publish the output cancels. */
	char cancels[SG_AUDIT_ID_LEN];
	/* sign, an input already ours: the signing record it was traced to */
	int traced;
	struct {
		char id[SG_AUDIT_ID_LEN];
		long long seq;
		char time[21];
		char input_sha256[65];
		char input_name[256];
		char approval_id[160];
	} origin;
	/*
	 * What the child runs had (signgate/confine.h), for the record's
	 * "confinement"; the verification's osslsigncode runs are in `verify`.
	 */
	struct {
		int attach_ran; /* osslsigncode attach-signature ran */
		sg_confine_report attach;
	} confinement;
} sg_outcome;

/*
 * Fill the audit log and the trust settings of `ctx` from `cfg` (which must
 * outlive ctx); the policy and the signer are left to the caller.
 */
void sg_context_use_config(sg_context *ctx, const sg_config *cfg);

/*
 * Load the trust files of ctx->verify once for the run (signgate/trust.h)
 * into ctx->trust, which ctx->verify.trust then names: every job checks
 * them cheaply (sg_trust_check()) instead of reading them again. Returns
 * SG_OK or sg_trust_load()'s errors (SG_ERR_CONFIG naming the file).
 */
int sg_context_load_trust(sg_context *ctx);

/* Free ctx->trust and forget it; a context without one is accepted. */
void sg_context_free_trust(sg_context *ctx);

/*
 * Run `job` and fill `out`.
 *
 * Already signed (sign only): an input that carries our valid signature
 * (the configured signer's leaf, primary or last nested) is not signed
 * again. The input its signing record names (ctx->signings: output SHA-256
 * -> input SHA-256, SHA-512, name) is decided again, now, as an input of
 * that name and digests would be (revocations, expiry, the approval's
 * rules, co-signatures): still approved, the input is "skipped" (SG_OK);
 * otherwise "denied" (SG_ERR_DENIED) with the policy's reasons. No signing
 * record found (signed on another host, the log's archives gone), or a log
 * whose records or chain do not verify: "denied", since nobody can show
 * which vendor bytes it was made from.
 *
 * Returns out->status: SG_OK when the input was
 * approved / signed / valid, otherwise the sg_status that ended it (for a
 * policy denial SG_ERR_DENIED, a broken installer SG_ERR_FORMAT, a failed
 * verification SG_ERR_VERIFY). The outcome is recorded in the audit log when
 * the context has one; failing to record it fails the job.
 */
int sg_pipeline_run(sg_outcome *out, const sg_context *ctx, const sg_job *job);

/*
 * Record that `job` could not be attempted at all (for instance the signing
 * key cannot be opened), with `status` and the current error message, as one
 * "failed" record; `out` is filled as for a run. Returns `status`, or the
 * audit error when the record cannot be written.
 */
int sg_pipeline_record_failure(sg_outcome *out, const sg_context *ctx, const sg_job *job,
			       int status);

/*
 * The warning a signature without an RFC 3161 timestamp deserves (issue
 * 15): when `o` is a signing that produced `job`'s output (signed now, or
 * already signed by an earlier run) and its signature carries no
 * timestamp, `buf` receives one line without a newline ("OUT: signed
 * without a timestamp: the signature dies with the certificate (not after
 * T); ...") and 1 is returned; otherwise 0. Every caller that signs prints
 * it (lib/ never prints).
 */
int sg_outcome_timestamp_warning(char *buf, size_t size, const sg_outcome *o, const sg_job *job);

/*
 * The outcome as a new JSON object (the audit record's fields and the
 * --json line). Returns NULL when out of memory.
 */
json_t *sg_outcome_to_json(const sg_outcome *o, const sg_job *job);

#endif

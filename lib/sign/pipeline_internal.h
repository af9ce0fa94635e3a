/*
 * Internal: what lib/pipeline.c shares with lib/pipeline_signed.c (the
 * judgement of an input that already carries our signature) and
 * lib/pipeline_sign.c (signing an approved input).
 */
#ifndef SIGNGATE_LIB_PIPELINE_INTERNAL_H
#define SIGNGATE_LIB_PIPELINE_INTERNAL_H

#include <jansson.h>

#include "signgate/pipeline.h"

/*
 * Decide on `in` now with the context's policy (and the two-person rule
 * when the policy requires it), filling o->decided, o->decision_detail and,
 * when denied, o->status, o->decision and o->message. Returns SG_OK when
 * approved, else the status that ended the decision (SG_ERR_DENIED).
 */
int sg_pipeline_decide(sg_outcome *o, const sg_context *ctx, const sg_policy_input *in);

/*
 * The input of `job` carries our valid signature (o->verify says whose):
 * trace it to its signing record and judge it "skipped" or "denied" (see
 * sg_pipeline_run()), or "failed" when the log cannot be read. Fills `o`.
 */
void sg_pipeline_judge_ours(sg_outcome *o, const sg_context *ctx, const sg_job *job);

/*
 * The record's "confinement": one object per child run of the job
 * (sg_confine_report_json), keyed "attach", "extract", "verify"; NULL when
 * no child ran (or out of memory). lib/pipeline_confine.c.
 */
json_t *sg_pipeline_confinement_json(const sg_outcome *o);

/* The signing record an input was traced to (o->traced), as a new JSON object. */
json_t *sg_pipeline_origin_json(const sg_outcome *o);

/*
 * record.confinement.key_helper and .timestamp (issue 13): the
 * confinement of the key helper and of the timestamp fetcher when this
 * signing asked them, with the violation when one broke it. Added to the
 * "confinement" object of `rec` (made when missing).
 */
void sg_pipeline_sign_confinement(json_t *rec, const sg_outcome *o);

/* End the job with `status`, a decision word and the current error message. */
int sg_pipeline_end(sg_outcome *o, int status, const char *decision);

/*
 * Verify the signed file at `path` with the run's trust settings and the
 * signer's pin; a nested signature is ours only as the last one.
 * `file_digest`: the file's Authenticode digest as the caller established
 * it (NULL: computed from the file, twice). `expect_der`: the signature
 * must be these bytes exactly (sg_verify_opts). Fills o->verify,
 * o->verified; ends the job on failure.
 */
int sg_pipeline_verify_signed(sg_outcome *o, const sg_context *ctx, const char *name,
			      const char *path, int nested, const char *file_digest,
			      const unsigned char *expect_der, size_t expect_der_len);

/* Record "signed", then rename `signed_path` to the job's output (or record why not). */
int sg_pipeline_publish(sg_outcome *o, const sg_context *ctx, const sg_job *job,
			const char *signed_path);

/*
 * Sign the approved private copy `copy` (in `stage`, a private folder beside
 * the output), verify the result and publish it (lib/pipeline_sign.c).
 * `copy_fd` is open on the copy as written: the digest the key helper signs
 * is taken through it, not through the path, which whoever can write the
 * output folder can swap. `copy_pe_digest` (may be NULL): a PE copy's
 * Authenticode digest, taken by the pass that wrote the copy. Returns
 * o->status; ends the job on failure.
 */
int sg_pipeline_sign(sg_outcome *o, const sg_context *ctx, const sg_job *job, const char *copy,
		     int copy_fd, const char *stage, const unsigned char *copy_pe_digest);

/*
 * The job's output exists already and --force was not given (a re-run,
 * issue 15; lib/pipeline_signed.c). The input was approved again just now.
 * The output passes as "already signed" ("skipped", SG_OK, with its SHA-1
 * and SHA-256 as the output, our signature as o->verify) only when, read
 * through one descriptor opened without following a link at its name and
 * held to the strict rule, it is a signed file of the input's format whose
 * own Authenticode digest is this input's (`copy_fd`: the input's private
 * copy; `copy_pe_digest`: a PE's digest from the copy pass, or NULL), whose
 * signature (the primary, or the last when ours is nested) verifies as
 * `verify` does with the configured trust and the configured signer pinned,
 * with the signature count signing gives, and a timestamp when the config
 * requires one. Otherwise the job fails SG_ERR_EXISTS: "OUT: exists already
 * (use --force to replace it); it is not taken as already signed: WHY".
 * Returns o->status.
 */
int sg_pipeline_existing_output(sg_outcome *o, const sg_context *ctx, const sg_job *job,
				int copy_fd, const char *stage, const unsigned char *copy_pe_digest);

#endif

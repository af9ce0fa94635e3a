/*
 * Internal: what lib/pipeline.c shares with lib/pipeline_signed.c (the
 * judgement of an input that already carries our signature).
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

/* The signing record an input was traced to (o->traced), as a new JSON object. */
json_t *sg_pipeline_origin_json(const sg_outcome *o);

#endif

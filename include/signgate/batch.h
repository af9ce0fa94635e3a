/*
 * The batch scheduler of `signgate sign` and `signgate check`: the inputs of
 * one run through sg_pipeline_run() on worker threads, their outcomes handed
 * back in input order; and the catalog of what a run signed (--catalog-out).
 */
#ifndef SIGNGATE_BATCH_H
#define SIGNGATE_BATCH_H

#include <jansson.h>
#include <stddef.h>

#include "signgate/pipeline.h"

/*
 * Called on the thread of sg_batch_run(), once per input and in input
 * order, as soon as that input and all before it are done. `r` is its
 * outcome (NULL: it could not be allocated), valid during the call only.
 */
typedef void (*sg_batch_fn)(const sg_outcome *r, const sg_job *job, size_t index, void *arg);

typedef struct sg_batch_spec {
	const sg_context *ctx;
	sg_action action;          /* SG_ACTION_SIGN or SG_ACTION_CHECK */
	char *const *inputs;       /* `n` paths */
	char *const *outputs;      /* sign: `n` output paths; check: NULL */
	size_t n;
	int force;                 /* sign: replace existing outputs */
	int fail_fast;             /* start no input after one that did not succeed */
	int jobs;                  /* worker threads, 1 to SG_BATCH_MAX_JOBS */
	sg_batch_fn fn;
	void *arg;
} sg_batch_spec;

#define SG_BATCH_MAX_JOBS 64

/*
 * Run every input of `spec` (at most `jobs` at a time). An input not
 * attempted has an outcome too: after the key was refused (a token that
 * refused the key or PIN refuses every input) a "failed" one, recorded in
 * the audit log like any failure; after --fail-fast stopped the run a
 * "skipped" one ("not attempted: ..."), not recorded. Returns SG_OK once
 * `fn` has seen every input; SG_ERR_NOMEM when the run's bookkeeping cannot
 * be allocated (then nothing was run).
 */
int sg_batch_run(const sg_batch_spec *spec);

/*
 * One entry of --catalog-out for an outcome that has an output: what the
 * WSUS/ConfigMgr catalog needs of a signed file (its name, path, size,
 * SHA-1 and SHA-256 in hex and base64, the input and its SHA-256, the
 * approval). A new object, or NULL when out of memory.
 */
json_t *sg_catalog_entry(const sg_outcome *r, const char *input, const char *output);

/*
 * Write the catalog of `files` (entries from sg_catalog_entry()) for the
 * signer `signer_sha1` to `path`, atomically, replacing it. Returns SG_OK,
 * SG_ERR_NOMEM or SG_ERR_IO ("PATH: cannot write: REASON").
 */
int sg_catalog_write(const char *path, json_t *files, const char *signer_sha1);

#endif

/*
 * The batch scheduler: worker threads take the inputs in order, the caller's
 * thread hands their outcomes back in order; see include/signgate/batch.h.
 */
#include "signgate/batch.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The run's inputs and what became of them; shared by the workers under `mu`. */
typedef struct batch {
	const sg_batch_spec *spec;
	sg_outcome **results; /* the outcome, once the input is done (NULL: out of memory) */
	unsigned char *done;  /* 1 when the input is done */
	size_t next;          /* the next input to start */
	int stop;             /* --fail-fast, or the key failed: start nothing more */
	int key_failed;
	char key_msg[sizeof(((sg_outcome *)0)->message)];
	int workers_left;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} batch;

static sg_job job_of(const sg_batch_spec *s, size_t i)
{
	return (sg_job){ s->action, s->inputs[i], s->outputs ? s->outputs[i] : NULL, s->force };
}

static void *worker(void *arg)
{
	batch *b = arg;
	const sg_batch_spec *s = b->spec;

	for (;;) {
		sg_job job;
		sg_outcome *r;
		size_t i;

		pthread_mutex_lock(&b->mu);
		if (b->stop || b->next >= s->n) {
			b->workers_left--;
			pthread_cond_broadcast(&b->cv);
			pthread_mutex_unlock(&b->mu);
			return NULL;
		}
		i = b->next++;
		pthread_mutex_unlock(&b->mu);
		job = job_of(s, i);
		r = calloc(1, sizeof(*r));
		if (r)
			sg_pipeline_run(r, s->ctx, &job);
		pthread_mutex_lock(&b->mu);
		b->results[i] = r;
		b->done[i] = 1;
		if (!r || (r->status != SG_OK && s->fail_fast))
			b->stop = 1;
		/* A token that refused the key or PIN would refuse every input: stop asking it. */
		if (r && s->action == SG_ACTION_SIGN && r->key_refused && !b->key_failed) {
			b->stop = b->key_failed = 1;
			snprintf(b->key_msg, sizeof(b->key_msg), "%s", r->message);
		}
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
	}
}

/* Inputs the run did not attempt: the key failed (recorded), or --fail-fast (not). */
static sg_outcome *not_attempted(batch *b, size_t i)
{
	sg_outcome *r = calloc(1, sizeof(*r));
	sg_job job = job_of(b->spec, i);

	if (!r)
		return NULL;
	if (b->key_failed) {
		sg_error_set(SG_ERR_CRYPTO, "%s: not signed: %s", sg_path_base(job.input),
			     b->key_msg);
		sg_pipeline_record_failure(r, b->spec->ctx, &job, SG_ERR_CRYPTO);
		return r;
	}
	r->status = SG_OK;
	r->decision = "skipped";
	snprintf(r->message, sizeof(r->message),
		 "not attempted: --fail-fast stopped the run after an earlier input");
	return r;
}

/* Start the workers; returns how many threads run (0: the one worker ran here). */
static int start_workers(batch *b, pthread_t tid[SG_BATCH_MAX_JOBS])
{
	const sg_batch_spec *s = b->spec;
	int started;

	/*
	 * The key helper logged in to a token before any input (a wrong PIN
	 * reaches the token once per run), so every worker starts at once.
	 */
	b->workers_left = 1;
	started = pthread_create(&tid[0], NULL, worker, b) == 0;
	if (!started)
		worker(b);
	pthread_mutex_lock(&b->mu);
	for (int w = 1; w < s->jobs && w < SG_BATCH_MAX_JOBS && (size_t)w < s->n && !b->stop;
	     w++)
		if (pthread_create(&tid[started], NULL, worker, b) == 0) {
			started++;
			b->workers_left++;
		}
	pthread_mutex_unlock(&b->mu);
	return started;
}

/* Hand each outcome to the caller's function, in input order, as it is done. */
static void hand_back(batch *b)
{
	const sg_batch_spec *s = b->spec;

	for (size_t i = 0; i < s->n; i++) {
		sg_job job = job_of(s, i);
		sg_outcome *r;

		pthread_mutex_lock(&b->mu);
		while (!b->done[i] && !(b->workers_left == 0 && b->next <= i))
			pthread_cond_wait(&b->cv, &b->mu);
		r = b->results[i];
		pthread_mutex_unlock(&b->mu);
		if (!r && !b->done[i])
			r = not_attempted(b, i);
		s->fn(r, &job, i, s->arg);
		/* Handed back: an outcome holds whole messages (tens of KiB), so a
		 * run of many inputs keeps only those not yet handed back. */
		pthread_mutex_lock(&b->mu);
		b->results[i] = NULL;
		pthread_mutex_unlock(&b->mu);
		free(r);
	}
}

int sg_batch_run(const sg_batch_spec *spec)
{
	batch b = { .spec = spec };
	pthread_t tid[SG_BATCH_MAX_JOBS];
	int started;

	b.results = calloc(spec->n ? spec->n : 1, sizeof(*b.results));
	b.done = calloc(spec->n ? spec->n : 1, sizeof(*b.done));
	if (!b.results || !b.done) {
		free(b.results);
		free(b.done);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	json_object_seed(0); /* once, before the workers build JSON */
	pthread_mutex_init(&b.mu, NULL);
	pthread_cond_init(&b.cv, NULL);
	started = start_workers(&b, tid);
	hand_back(&b);
	for (int w = 0; w < started; w++)
		pthread_join(tid[w], NULL);
	pthread_cond_destroy(&b.cv);
	pthread_mutex_destroy(&b.mu);
	for (size_t i = 0; i < spec->n; i++)
		free(b.results[i]);
	free(b.results);
	free(b.done);
	return SG_OK;
}

json_t *sg_catalog_entry(const sg_outcome *r, const char *input, const char *output)
{
	char b64_1[64], b64_256[64];

	sg_base64_encode(b64_1, sizeof(b64_1), r->output.sha1, SG_SHA1_LEN);
	sg_base64_encode(b64_256, sizeof(b64_256), r->output.sha256, SG_SHA256_LEN);
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "file",
			 sg_path_base(output), "path", output, "size", (json_int_t)r->output.size,
			 "sha1", r->output.sha1_hex, "sha256", r->output.sha256_hex, "sha1_base64",
			 b64_1, "sha256_base64", b64_256, "input", input, "input_sha256",
			 r->input.sha256_hex, "approval", r->decision_detail.approval->id,
			 "product", r->decision_detail.approval->product, "version",
			 r->decision_detail.approval->version);
}

int sg_catalog_write(const char *path, json_t *files, const char *signer_sha1)
{
	json_t *doc = json_pack("{s:s, s:s, s:O}", "generator", "signgate " SG_VERSION,
				"signer_sha1_thumbprint", signer_sha1, "files", files);
	char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	int error = text ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
	size_t len;

	if (!error) {
		len = strlen(text);
		text[len] = '\n'; /* json_dumps leaves room: we replace the NUL and write len + 1 */
		error = sg_publish_bytes(path, text, len + 1, 0644, 1);
	}
	free(text);
	json_decref(doc);
	return error;
}

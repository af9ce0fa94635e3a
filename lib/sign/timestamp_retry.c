/*
 * Asking the TSAs in turn, with retries per TSA (issue 15), as jsign does:
 * a TSA that fails is asked again after a wait, up to the configured
 * count, before the next one; see sg_timestamp_add_retrying() in
 * timestamp.h. The attempts themselves are sg_timestamp_add_fetched()'s.
 */
#include "timestamp.h"
#include "signgate/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Failed attempts at one TSA in a row with the same message: "URL: reason",
 * then which attempts they were when the TSA is asked more than once.
 */
struct failures {
	char why[SG_ERROR_MAX];
	int first, last, per_tsa; /* attempts first..last of per_tsa; first 0: none yet */
};

/* Append the group to the list (cut to fit, never past its end) and empty it. */
static void flush(sg_sign_result *out, struct failures *f)
{
	size_t used = strlen(out->attempts), room = sizeof(out->attempts) - used;
	char which[64] = "";

	if (!f->first)
		return;
	if (f->per_tsa > 1 && f->first == f->last)
		snprintf(which, sizeof(which), " (attempt %d of %d)", f->first, f->per_tsa);
	else if (f->per_tsa > 1)
		snprintf(which, sizeof(which), " (attempts %d-%d of %d)", f->first, f->last,
			 f->per_tsa);
	if (room > 1)
		snprintf(out->attempts + used, room, "%s%s%s", used ? "; " : "", f->why, which);
	f->first = f->last = 0;
}

/* One failed attempt (the last error): the same reason again extends the group. */
static void note(sg_sign_result *out, struct failures *f, int attempt)
{
	const char *why = sg_error_last();

	if (f->first && strcmp(f->why, why) == 0) {
		f->last = attempt;
		return;
	}
	flush(out, f);
	snprintf(f->why, sizeof(f->why), "%s", why);
	f->first = f->last = attempt;
}

static void wait_seconds(int seconds)
{
	struct timespec left = { seconds, 0 };

	while (seconds > 0 && nanosleep(&left, &left) != 0 && errno == EINTR)
		;
}

/* Every attempt at TSA number `i`; SG_OK with `*stamped` set, or the last attempt's error. */
static int try_tsa(sg_sign_result *out, unsigned char **stamped, size_t *stamped_len,
		   const unsigned char *der, size_t der_len, const sg_timestamp_plan *plan,
		   size_t i)
{
	struct failures *f = calloc(1, sizeof(*f));
	int error = SG_ERR_TOOL;

	if (!f)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	f->per_tsa = 1 + plan->retries;
	for (int attempt = 1; attempt <= f->per_tsa; attempt++) {
		if (attempt > 1)
			wait_seconds(plan->retry_wait);
		error = plan->attempt(stamped, stamped_len, der, der_len, i, plan->arg);
		if (error != SG_ERR_TOOL)
			break;
		note(out, f, attempt);
		if (plan->gone && plan->gone(plan->arg))
			break;
	}
	flush(out, f);
	/* The last error stays the attempt's own (the list is only written here). */
	if (error == SG_ERR_TOOL)
		sg_error_set(SG_ERR_TOOL, "%s", f->why);
	free(f);
	return error;
}

int sg_timestamp_add_retrying(sg_sign_result *out, unsigned char **der, size_t *der_len,
			      const sg_timestamp_plan *plan)
{
	if (!plan->attempt || plan->n_urls == 0 || plan->retries < 0 ||
	    plan->retries > SG_TS_RETRIES_MAX || plan->retry_wait < 0 ||
	    plan->retry_wait > SG_TS_RETRY_WAIT_MAX)
		return sg_error_set(SG_ERR_USAGE,
				    "timestamping needs a TSA, and retries 0..%d and a wait of "
				    "0..%d seconds",
				    SG_TS_RETRIES_MAX, SG_TS_RETRY_WAIT_MAX);
	for (size_t i = 0; i < plan->n_urls; i++) {
		unsigned char *stamped = NULL;
		size_t stamped_len = 0;
		int error = try_tsa(out, &stamped, &stamped_len, *der, *der_len, plan, i);

		if (error == SG_OK) {
			free(*der);
			*der = stamped;
			*der_len = stamped_len;
			out->timestamped = 1;
			snprintf(out->tsa_url, sizeof(out->tsa_url), "%s", plan->urls[i]);
			return SG_OK;
		}
		/* Another TSA helps only when this one was the problem and can still be asked. */
		if (error != SG_ERR_TOOL || (plan->gone && plan->gone(plan->arg)))
			return error;
	}
	return sg_error_set(SG_ERR_TOOL, "no TSA answered (%zu tried): %s", plan->n_urls,
			    out->attempts);
}

/* The fetcher's attempt, with the run's timeout. */
struct fetched {
	sg_tsa *fetcher;
	int timeout_sec;
};

static int fetched_attempt(unsigned char **out_der, size_t *out_len, const unsigned char *p7_der,
			   size_t p7_len, size_t url_index, void *arg)
{
	const struct fetched *f = arg;

	return sg_timestamp_add_fetched(out_der, out_len, p7_der, p7_len, f->fetcher, url_index,
					f->timeout_sec);
}

static int fetcher_gone(void *arg)
{
	return sg_tsa_gone(((const struct fetched *)arg)->fetcher);
}

int sg_timestamp_add_any(sg_sign_result *out, unsigned char **der, size_t *der_len, sg_tsa *fetcher,
			 const sg_config *cfg)
{
	struct fetched f = { fetcher, cfg->timestamp_timeout };
	const sg_timestamp_plan plan = { (const char *const *)cfg->timestamp_urls,
					 cfg->n_timestamp_urls,
					 cfg->timestamp_retries,
					 cfg->timestamp_retry_wait,
					 fetched_attempt,
					 &f,
					 fetcher_gone };
	int error;

	if (!fetcher)
		return sg_error_set(SG_ERR_USAGE, "no timestamp fetcher was started for this run");
	error = sg_timestamp_add_retrying(out, der, der_len, &plan);
	/* Its confinement, and its violation when it broke it (issue 13). */
	sg_tsa_confinement(fetcher, &out->tsa_confinement);
	out->tsa_confined = 1;
	return error;
}

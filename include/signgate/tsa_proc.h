/*
 * The timestamp fetcher (issue 13): the one process of a `signgate sign`
 * run that may use the network. It is forked at start, like the key
 * helper (before any input is read and before any worker thread), holds
 * no key and no secret, and knows the configured TSA URLs from the fork.
 * It is asked over a SOCK_SEQPACKET socket: "POST this TimeStampReq to
 * URL number i", and answers with the reply body (at most 1 MiB) or why
 * there is none. signgate judges every reply itself (lib/timestamp.c:
 * status, imprint, nonce, token): the fetcher is not trusted.
 *
 * It is confined (include/signgate/confine.h): network allowed, it reads
 * only the system files (libraries, /etc/ssl, resolver files), writes
 * nothing (RLIMIT_FSIZE 0), a seccomp deny list, rlimits; it is not
 * dumpable and dies with its parent.
 *
 * Requests from several threads run at once: each request carries its own
 * reply socket (SCM_RIGHTS), answered by a thread of the fetcher.
 */
#ifndef SIGNGATE_TSA_PROC_H
#define SIGNGATE_TSA_PROC_H

#include <stddef.h>

#include <sys/types.h>

#include "signgate/confine.h"
#include "signgate/config.h"

typedef struct sg_tsa sg_tsa;

/*
 * Start the fetcher for the TSA URLs of `cfg`; with no URL configured
 * there is none: `*out` is NULL and SG_OK is returned. The caller is still
 * single-threaded. Returns SG_OK once the fetcher says it is ready (its
 * confinement applied), or SG_ERR_TOOL (it could not be confined in
 * "required" mode, or it did not start), SG_ERR_IO, SG_ERR_NOMEM; the
 * message says why.
 */
int sg_tsa_start(sg_tsa **out, const sg_config *cfg);

/*
 * Have the fetcher POST the `req_len` bytes of TimeStampReq DER at `req`
 * to the configured URL number `url_index`, within `timeout_sec`. On
 * SG_OK `*reply` (free with free()) holds the reply body, not judged.
 * Returns SG_ERR_TOOL when the TSA failed (the message names the URL and
 * the reason, as sg_timestamp_add() words it) or when the fetcher is gone
 * (sg_tsa_gone() is then 1; a confinement violation is named:
 * "confinement violation in the timestamp fetcher: killed by SIGSYS");
 * SG_ERR_USAGE for an index out of range; SG_ERR_NOMEM. Thread-safe.
 */
int sg_tsa_fetch(sg_tsa *t, size_t url_index, const unsigned char *req, size_t req_len,
		 int timeout_sec, unsigned char **reply, size_t *reply_len);

/* The configured URL number `i` (borrowed), or NULL. */
const char *sg_tsa_url(const sg_tsa *t, size_t i);

/*
 * The run's memory of TSAs that failed all their attempts (one int per URL, read and
 * written with __atomic builtins by sg_timestamp_add_retrying(), shared by the batch's
 * threads), or NULL.
 */
int *sg_tsa_failed(sg_tsa *t);

/* 1 when the fetcher has ended (killed, crashed) or there is none (NULL): no request can succeed. */
int sg_tsa_gone(sg_tsa *t);

/* The fetcher's process id. */
pid_t sg_tsa_pid(const sg_tsa *t);

/* What confinement the fetcher has, and its violation if it broke it (thread-safe copy). */
void sg_tsa_confinement(sg_tsa *t, sg_confine_report *out);

/* Close the socket, wait for the fetcher (bounded) and free `t`. NULL-safe. */
void sg_tsa_stop(sg_tsa *t);

#endif

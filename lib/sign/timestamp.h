/*
 * RFC 3161 timestamps for an Authenticode signature, asked by signgate
 * itself (issue 12): the key helper never touches the network, and no
 * second program has to read the installer to add a timestamp. In a
 * signing run the HTTP exchange happens in the timestamp fetcher, a
 * confined process of its own (issue 13, tsa_proc.h); the request is made
 * and the reply judged here, in the caller.
 *
 * The token is asked for over the SignerInfo's signature value (SHA-256
 * imprint, a random 64-bit nonce, the TSA's certificate requested), POSTed
 * as application/timestamp-query with OpenSSL's HTTP client, and the reply
 * must be a granted TimeStampResp whose token carries that imprint and
 * nonce. The token (a PKCS#7 ContentInfo) is added as the one unsigned
 * attribute 1.3.6.1.4.1.311.3.3.1 (Microsoft's RFC 3161 countersignature)
 * of the signature's single SignerInfo, as signtool and osslsigncode do.
 * The token's chain and time are judged later, with the whole signature
 * (lib/authenticode.c), against the configured TSA roots.
 */
#ifndef SIGNGATE_TIMESTAMP_H
#define SIGNGATE_TIMESTAMP_H

#include <stddef.h>

#include "signgate/config.h"
#include "signgate/signer.h"
#include "signgate/tsa_proc.h"

/*
 * Timestamp the DER PKCS#7 at `p7_der` with the TSA at `url` (http://, or
 * https:// with the server's certificate not checked: the token is what is
 * trusted; bounded by `timeout_sec`); `*out_der` (free with free()) is the same
 * signature with the token added. The input must have exactly one
 * SignerInfo and no unsigned attribute, and be DER (it must encode back to
 * the same bytes). The whole exchange (connect included) ends within
 * `timeout_sec`; signgate connects itself (no proxy), follows no redirect,
 * reads at most 1 MiB, and blocks SIGPIPE for the calling thread meanwhile.
 * Returns SG_OK; SG_ERR_TOOL when the
 * TSA failed (no connection, timeout, HTTP error, a refusal, a reply that
 * is not a granted response for this request: another TSA may answer);
 * SG_ERR_USAGE for a bad URL or signature; SG_ERR_NOMEM. The message names
 * the URL and the reason.
 */
int sg_timestamp_add(unsigned char **out_der, size_t *out_len, const unsigned char *p7_der,
		     size_t p7_len, const char *url, int timeout_sec);

/*
 * sg_timestamp_add() with the HTTP exchange done by the timestamp fetcher
 * `fetcher` (tsa_proc.h), asking its configured URL number `url_index`.
 * Same checks on the reply, same errors and messages; a fetcher that has
 * ended gives SG_ERR_TOOL with why ("confinement violation in the
 * timestamp fetcher: killed by SIGSYS").
 */
int sg_timestamp_add_fetched(unsigned char **out_der, size_t *out_len,
			     const unsigned char *p7_der, size_t p7_len, sg_tsa *fetcher,
			     size_t url_index, int timeout_sec);

/*
 * One attempt at the TSA number `url_index`: `*out_der` is the signature
 * at `p7_der` with a token added, as sg_timestamp_add() returns it (and
 * with its errors: SG_ERR_TOOL is the TSA's failure, which another attempt
 * may cure).
 */
typedef int (*sg_timestamp_try_fn)(unsigned char **out_der, size_t *out_len,
				   const unsigned char *p7_der, size_t p7_len, size_t url_index,
				   void *arg);

/* How the TSAs are asked: in order, each (1 + retries) times, retry_wait seconds apart. */
typedef struct sg_timestamp_plan {
	const char *const *urls; /* n_urls URLs, for the result and the messages */
	size_t n_urls;
	int retries;    /* attempts per TSA after its first, 0..SG_TS_RETRIES_MAX */
	int retry_wait; /* seconds between two attempts at one TSA, 0..SG_TS_RETRY_WAIT_MAX */
	sg_timestamp_try_fn attempt;
	void *arg; /* for `attempt` and `gone` */
	/* May be NULL; 1 when no attempt can succeed any more (the fetcher has ended). */
	int (*gone)(void *arg);
} sg_timestamp_plan;

/*
 * Timestamp the DER signature `*der` following `plan`: each TSA in order is
 * tried (1 + plan->retries) times, with plan->retry_wait seconds between two
 * attempts at it, before the next TSA. On SG_OK `*der` (malloc'ed, owned by
 * the caller) is replaced by the timestamped signature, out->timestamped is
 * 1 and out->tsa_url names the TSA that answered. Every failed attempt is
 * added to out->attempts ("URL: reason", "; "-separated, with " (attempt
 * K of N)" when a TSA is tried more than once), also when a later one
 * answers. Only SG_ERR_TOOL (the TSA failed) leads to another attempt, and
 * not once plan->gone says so; any other error is returned at once. When
 * every attempt failed: SG_ERR_TOOL, "no TSA answered (N tried): <attempts>".
 * `der` is left as it was on failure.
 */
int sg_timestamp_add_retrying(sg_sign_result *out, unsigned char **der, size_t *der_len,
			      const sg_timestamp_plan *plan);

/*
 * sg_timestamp_add_retrying() through the timestamp fetcher `fetcher` with
 * the TSAs, timeout and retries of `cfg` (signing.timestamp_urls,
 * timestamp_timeout, timestamp_retries, timestamp_retry_wait); what the
 * fetcher's confinement was is put into out->tsa_confinement (and
 * out->tsa_confined set). A fetcher that has ended gives SG_ERR_TOOL at
 * once (sg_tsa_gone() is then 1): no other TSA can be asked. Whether a
 * signing without a token may go on ("timestamp": "optional") is the
 * caller's to decide.
 */
int sg_timestamp_add_any(sg_sign_result *out, unsigned char **der, size_t *der_len,
			 sg_tsa *fetcher, const sg_config *cfg);

#endif

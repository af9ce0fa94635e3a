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

#endif

/*
 * Internal: the HTTP exchange of an RFC 3161 request (lib/tsa_http.c),
 * shared by sg_timestamp_add() (in-process) and the timestamp fetcher
 * (lib/tsa_proc.c), which runs it in a confined process of its own.
 */
#ifndef SIGNGATE_LIB_TIMESTAMP_INTERNAL_H
#define SIGNGATE_LIB_TIMESTAMP_INTERNAL_H

#include <stddef.h>

#define SG_TS_REPLY_MAX (1024 * 1024) /* a token with a chain is a few KiB */
#define SG_TS_TEXT_MAX  200
#define SG_TS_TOKEN_MAX (16 * 1024) /* a token with its chain: 2 to 8 KiB */
#define SG_TS_CERTS_MAX 4

/* Text that came from the network, made safe to print: printable ASCII, at most SG_TS_TEXT_MAX. */
void sg_ts_printable(char *out, size_t size, const unsigned char *s, size_t len);

/*
 * POST the `req_len` bytes of TimeStampReq DER at `req` to `url` (http://
 * or https://, no proxy, no redirect) and return the reply body (free with
 * free(); at most SG_TS_REPLY_MAX bytes, not judged here), all within
 * `timeout_sec`; SIGPIPE is blocked for the calling thread meanwhile.
 * Returns SG_OK; SG_ERR_TOOL when the TSA failed (the message names the
 * URL and the reason); SG_ERR_USAGE for a URL that cannot be used;
 * SG_ERR_CRYPTO, SG_ERR_NOMEM.
 */
int sg_ts_http_post(unsigned char **reply, size_t *reply_len, const char *url,
		    const unsigned char *req, size_t req_len, int timeout_sec);

#endif

/*
 * The key helper (issue 12): the one process of a `signgate sign` run that
 * holds the signing key. It is started before any input is read; only it
 * obtains the password or PIN and opens the key. It accepts one kind of
 * request, over a SOCK_SEQPACKET socketpair (one message a request):
 * sign this Authenticode digest as this kind of content. A fixed binary
 * layout, parsed strictly; anything else is refused.
 *
 *   offset  size  field
 *   0       4     magic "SGKH"
 *   4       1     version, 2
 *   5       1     kind: the file's sg_format_kind (its row's number in this
 *                 build's format table, which names the content to build;
 *                 signgate and its key helper are one build)
 *   6       1     digest algorithm: 1 SHA-256
 *   7       1     digest length: exactly the algorithm's (32)
 *   8       n     the digest
 *   8+n     2     description length d (big-endian), 0..SG_AUTHENTICODE_TEXT_MAX-1
 *   10+n    d     the description (SpcSpOpusInfo programName): printable ASCII
 *   10+n+d  2     URL length u (big-endian), 0..SG_AUTHENTICODE_TEXT_MAX-1
 *   12+n+d  u     the URL (SpcSpOpusInfo moreInfo): printable ASCII, http(s)://
 *
 * A request is exactly 12 + n + d + u bytes: a shorter one or one with
 * bytes after the URL is refused. A text of 0 bytes means none; the limit
 * of 1023 bytes is the one sg_authenticode_sign() applies.
 *
 * Its reply, also one message:
 *   0       4     magic "SGKR"
 *   4       1     version, 1
 *   5       1     status: 0 signed, 1 refused (bad request, limit reached),
 *                 2 failed (the key or OpenSSL failed)
 *   6       2     zero
 *   8       4     signatures made by this helper so far, this one included
 *                 (big-endian)
 *   12      4     payload length p (big-endian)
 *   16      p     status 0: the DER PKCS#7 SignedData; else a message (text)
 */
#ifndef SIGNGATE_KEYHELPER_H
#define SIGNGATE_KEYHELPER_H

#include <stddef.h>

#include <sys/types.h>

#include "signgate/authenticode_sign.h"
#include "signgate/cert.h"
#include "signgate/confine.h"
#include "signgate/config.h"

#define SG_KEYHELPER_MAGIC       "SGKH"
#define SG_KEYHELPER_VERSION     2
#define SG_KEYHELPER_HEADER_LEN  8
#define SG_KEYHELPER_DIGEST_MAX  64
#define SG_KEYHELPER_REQUEST_MAX                                                                    \
	(SG_KEYHELPER_HEADER_LEN + SG_KEYHELPER_DIGEST_MAX + 4 + 2 * SG_AUTHENTICODE_TEXT_MAX)
#define SG_KEYHELPER_ALG_SHA256  1

typedef struct sg_keyhelper_request {
	sg_format_kind kind; /* a format with signed content (sg_format_content()) */
	int md_nid;          /* NID_sha256 */
	unsigned char digest[SG_KEYHELPER_DIGEST_MAX];
	size_t digest_len;
	char description[SG_AUTHENTICODE_TEXT_MAX + 1]; /* "" when none */
	char url[SG_AUTHENTICODE_TEXT_MAX + 1];         /* "" when none */
} sg_keyhelper_request;

/*
 * Parse the `len` bytes at `buf` into `out`. Returns SG_OK, or
 * SG_ERR_FORMAT naming what is wrong (too short, wrong magic or version,
 * unknown kind or algorithm, a digest length that is not the algorithm's,
 * a truncated digest, description or URL, a text too long or not printable
 * ASCII, a URL not http(s), bytes after the URL); `out` is zeroed then.
 */
int sg_keyhelper_request_parse(sg_keyhelper_request *out, const void *buf, size_t len);

/*
 * Encode `req` into `out` (room for `cap` bytes); `*out_len` is its length.
 * Returns SG_OK, or SG_ERR_USAGE for an unknown kind or algorithm, a wrong
 * digest length, a description or URL the parser would refuse, or too
 * little room.
 */
int sg_keyhelper_request_encode(unsigned char *out, size_t cap, size_t *out_len,
				const sg_keyhelper_request *req);

/*
 * Fill the parts of a signing request that come from the wire request (the
 * description and URL: NULL when empty; borrowed from `req`).
 */
void sg_keyhelper_request_apply(sg_authenticode_sign_req *sign, const sg_keyhelper_request *req);

/* ---- The helper process (lib/keyhelper_proc.c) ---- */

typedef struct sg_keyhelper sg_keyhelper;

/*
 * Start the key helper for `cfg`: fork (the caller is still single-threaded
 * and has read no input), and in the child close every descriptor but the
 * socket, stdin (a terminal prompt) and stderr, confine it (its key
 * source's allowances, lib/key_allow.c; "required" mode refuses to start
 * it unconfined: SG_ERR_TOOL "cannot confine key helper: ..."), protect the process
 * (sg_secret_protect_process), obtain the secret, open the key
 * (sg_keys_open) and make every check sg_signer_load() makes (key against
 * certificate, validity, profile lint, revocation settings, the configured
 * "signing.certificate"). The child then says hello: the signing
 * certificate and chain, or why it cannot sign. The helper signs at most
 * `max_signatures` digests (0: no limit) and ends when the socket closes or
 * the parent dies. An environment secret is scrubbed from the parent too.
 * Returns SG_OK, or the error of those checks with their message
 * (SG_ERR_CRYPTO: wrong password or PIN, key mismatch, unusable
 * certificate; SG_ERR_CONFIG, SG_ERR_IO, SG_ERR_TOOL), the helper stopped.
 */
int sg_keyhelper_start(sg_keyhelper **out, const sg_config *cfg, unsigned long max_signatures);

/*
 * Which certificate the key material of `cfg` holds, for pinning a
 * verification (no profile checks, a token's key not logged into), learnt through a
 * key helper that opens the material, reports its certificate and exits:
 * the caller never holds the key or its secret. Returns SG_OK or the error
 * of opening it.
 */
int sg_keyhelper_identify(sg_cert_info *out, const sg_config *cfg);

/* The signing certificate the helper reported (valid until sg_keyhelper_stop). */
const sg_cert_info *sg_keyhelper_signer(const sg_keyhelper *kh);

/* The helper's leaf certificate (borrowed). */
X509 *sg_keyhelper_cert(const sg_keyhelper *kh);

/* The other certificates the helper reported (borrowed; may be empty, never NULL). */
STACK_OF(X509) * sg_keyhelper_chain(const sg_keyhelper *kh);

/*
 * The name of the key source the helper opened its key through
 * ("pkcs12", "pem", "pkcs11-engine", "pkcs11-provider"; lib/key_source.h),
 * a static string.
 */
const char *sg_keyhelper_key_source(const sg_keyhelper *kh);

/* The helper's process id. */
pid_t sg_keyhelper_pid(const sg_keyhelper *kh);

/*
 * The helper's confinement (issue 13; lib/key_allow.c) and, once it broke
 * it, the violation (thread-safe copy). `*no_files` (may be NULL) is 1
 * when it gave up all file access once its key was open (PKCS#12, PEM).
 */
void sg_keyhelper_confinement(sg_keyhelper *kh, sg_confine_report *out, int *no_files);

/*
 * Ask the helper to sign `req`; safe from several threads at once (one
 * request at a time goes over the socket). On SG_OK `*der` (free with
 * free()) holds the PKCS#7 and `*count` the helper's signature count after
 * it. Returns SG_ERR_USAGE when the helper refused the request,
 * SG_ERR_CRYPTO when it could not sign, SG_ERR_TOOL when it is gone or
 * answered out of protocol (a helper killed for breaking its confinement:
 * "confinement violation in the key helper: killed by SIGSYS"), SG_ERR_NOMEM.
 */
int sg_keyhelper_sign(sg_keyhelper *kh, const sg_keyhelper_request *req, unsigned char **der,
		      size_t *der_len, unsigned long *count);

/*
 * For tests: send the `len` raw bytes at `msg` as one request and return
 * the reply's status (0, 1, 2), count and payload (free with free()).
 * Returns SG_OK when a well-formed reply came back, SG_ERR_TOOL otherwise.
 */
int sg_keyhelper_exchange_raw(sg_keyhelper *kh, const void *msg, size_t len, int *status,
			      unsigned long *count, unsigned char **payload, size_t *payload_len);

/*
 * Close the socket, wait for the helper (bounded) and free `kh`; `*count`
 * (may be NULL) receives the signatures it made. Returns SG_OK, or SG_ERR_TOOL
 * when the helper did not exit cleanly. Safe on NULL.
 */
int sg_keyhelper_stop(sg_keyhelper *kh, unsigned long *count);

#endif

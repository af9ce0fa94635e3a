/*
 * The one request the key helper (issue 12, not running yet) will accept:
 * sign this Authenticode digest as this kind of content. A fixed binary
 * layout, parsed strictly; anything else is refused.
 *
 *   offset  size  field
 *   0       4     magic "SGKH"
 *   4       1     version, 1
 *   5       1     kind: 1 PE, 2 MSI (sg_authenticode_kind)
 *   6       1     digest algorithm: 1 SHA-256
 *   7       1     digest length: exactly the algorithm's (32)
 *   8       n     the digest
 *
 * A request is exactly 8 + n bytes: a shorter one or one with bytes after
 * the digest is refused.
 */
#ifndef SIGNGATE_KEYHELPER_H
#define SIGNGATE_KEYHELPER_H

#include <stddef.h>

#include "signgate/authenticode_sign.h"

#define SG_KEYHELPER_MAGIC       "SGKH"
#define SG_KEYHELPER_VERSION     1
#define SG_KEYHELPER_HEADER_LEN  8
#define SG_KEYHELPER_DIGEST_MAX  64
#define SG_KEYHELPER_REQUEST_MAX (SG_KEYHELPER_HEADER_LEN + SG_KEYHELPER_DIGEST_MAX)
#define SG_KEYHELPER_ALG_SHA256  1

typedef struct sg_keyhelper_request {
	sg_authenticode_kind kind;
	int md_nid; /* NID_sha256 */
	unsigned char digest[SG_KEYHELPER_DIGEST_MAX];
	size_t digest_len;
} sg_keyhelper_request;

/*
 * Parse the `len` bytes at `buf` into `out`. Returns SG_OK, or
 * SG_ERR_FORMAT naming what is wrong (too short, wrong magic or version,
 * unknown kind or algorithm, a digest length that is not the algorithm's,
 * a truncated digest or bytes after it); `out` is zeroed then.
 */
int sg_keyhelper_request_parse(sg_keyhelper_request *out, const void *buf, size_t len);

/*
 * Encode `req` into `out` (room for `cap` bytes); `*out_len` is its length.
 * Returns SG_OK, or SG_ERR_USAGE for an unknown kind or algorithm, a wrong
 * digest length or too little room.
 */
int sg_keyhelper_request_encode(unsigned char *out, size_t cap, size_t *out_len,
				const sg_keyhelper_request *req);

/* Fill the parts of a signing request that come from the wire request. */
void sg_keyhelper_request_apply(sg_authenticode_sign_req *sign, const sg_keyhelper_request *req);

#endif

/* The key helper's request format; see include/signgate/keyhelper.h. */
#include "signgate/keyhelper.h"
#include "signgate/error.h"

#include <stdarg.h>
#include <string.h>

#include <openssl/obj_mac.h>

/* Wire code of an algorithm -> OpenSSL NID; one row per algorithm. */
static const struct {
	unsigned char code;
	int nid;
} algs[] = {
	{ SG_KEYHELPER_ALG_SHA256, NID_sha256 },
};

static int alg_nid(unsigned char code)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (algs[i].code == code)
			return algs[i].nid;
	return NID_undef;
}

static int alg_code(int nid)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (algs[i].nid == nid)
			return algs[i].code;
	return 0;
}

static int refuse(sg_keyhelper_request *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int refuse(sg_keyhelper_request *out, const char *fmt, ...)
{
	va_list ap;
	int code;

	memset(out, 0, sizeof(*out));
	va_start(ap, fmt);
	code = sg_error_setv(SG_ERR_FORMAT, fmt, ap);
	va_end(ap);
	return code;
}

int sg_keyhelper_request_parse(sg_keyhelper_request *out, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t want;
	int nid;

	memset(out, 0, sizeof(*out));
	if (!p || len < SG_KEYHELPER_HEADER_LEN)
		return refuse(out, "key helper request: %zu bytes, shorter than its %d-byte header",
			      p ? len : 0, SG_KEYHELPER_HEADER_LEN);
	if (memcmp(p, SG_KEYHELPER_MAGIC, 4) != 0)
		return refuse(out, "key helper request: wrong magic (not \"%s\")",
			      SG_KEYHELPER_MAGIC);
	if (p[4] != SG_KEYHELPER_VERSION)
		return refuse(out, "key helper request: unknown version %d (want %d)", p[4],
			      SG_KEYHELPER_VERSION);
	if (!sg_authenticode_kind_name(p[5]))
		return refuse(out, "key helper request: unknown content kind %d", p[5]);
	nid = alg_nid(p[6]);
	want = nid == NID_undef ? 0 : sg_authenticode_md_len(nid);
	if (!want)
		return refuse(out, "key helper request: unknown digest algorithm %d", p[6]);
	if (p[7] != want)
		return refuse(out, "key helper request: a digest length of %d, not %zu", p[7],
			      want);
	if (len != SG_KEYHELPER_HEADER_LEN + want)
		return refuse(out, "key helper request: %zu bytes, not exactly %zu (%s)", len,
			      SG_KEYHELPER_HEADER_LEN + want,
			      len < SG_KEYHELPER_HEADER_LEN + want ? "truncated digest"
								   : "bytes after the digest");
	out->kind = (sg_authenticode_kind)p[5];
	out->md_nid = nid;
	out->digest_len = want;
	memcpy(out->digest, p + SG_KEYHELPER_HEADER_LEN, want);
	return SG_OK;
}

int sg_keyhelper_request_encode(unsigned char *out, size_t cap, size_t *out_len,
				const sg_keyhelper_request *req)
{
	int code = alg_code(req->md_nid);
	size_t want = code ? sg_authenticode_md_len(req->md_nid) : 0;

	*out_len = 0;
	if (!sg_authenticode_kind_name(req->kind) || !want || req->digest_len != want)
		return sg_error_set(SG_ERR_USAGE, "key helper request: unknown kind or algorithm, "
						  "or a digest of the wrong length");
	if (cap < SG_KEYHELPER_HEADER_LEN + want)
		return sg_error_set(SG_ERR_USAGE, "key helper request: %zu bytes of room, not %zu",
				    cap, SG_KEYHELPER_HEADER_LEN + want);
	memcpy(out, SG_KEYHELPER_MAGIC, 4);
	out[4] = SG_KEYHELPER_VERSION;
	out[5] = (unsigned char)req->kind;
	out[6] = (unsigned char)code;
	out[7] = (unsigned char)want;
	memcpy(out + SG_KEYHELPER_HEADER_LEN, req->digest, want);
	*out_len = SG_KEYHELPER_HEADER_LEN + want;
	return SG_OK;
}

void sg_keyhelper_request_apply(sg_authenticode_sign_req *sign, const sg_keyhelper_request *req)
{
	sign->kind = req->kind;
	sign->md_nid = req->md_nid;
	sign->digest = req->digest;
	sign->digest_len = req->digest_len;
}

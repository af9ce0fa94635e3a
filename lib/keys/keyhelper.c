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

/* The fixed header: magic, version, kind, algorithm and digest length (`*want`). */
static int parse_header(sg_keyhelper_request *out, const unsigned char *p, size_t len, size_t *want)
{
	int nid;

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
	*want = nid == NID_undef ? 0 : sg_authenticode_md_len(nid);
	if (!*want)
		return refuse(out, "key helper request: unknown digest algorithm %d", p[6]);
	if (p[7] != *want)
		return refuse(out, "key helper request: a digest length of %d, not %zu", p[7],
			      *want);
	out->kind = (sg_format_kind)p[5];
	out->md_nid = nid;
	return SG_OK;
}

/*
 * One length-prefixed text at `*off` into `dst` (room for
 * SG_AUTHENTICODE_TEXT_MAX + 1): at most SG_AUTHENTICODE_TEXT_MAX - 1
 * printable ASCII characters, as sg_authenticode_sign() accepts them.
 */
static int parse_text(sg_keyhelper_request *out, char *dst, const unsigned char *p, size_t len,
		      size_t *off, const char *what)
{
	size_t n;

	if (len - *off < 2)
		return refuse(out, "key helper request: %zu bytes, truncated before the %s length",
			      len, what);
	n = (size_t)p[*off] << 8 | p[*off + 1];
	*off += 2;
	if (n >= SG_AUTHENTICODE_TEXT_MAX)
		return refuse(out, "key helper request: a %s of %zu bytes (at most %d)", what, n,
			      SG_AUTHENTICODE_TEXT_MAX - 1);
	if (len - *off < n)
		return refuse(out, "key helper request: %zu bytes, truncated in the %s", len, what);
	for (size_t i = 0; i < n; i++)
		if (p[*off + i] < 0x20 || p[*off + i] > 0x7e)
			return refuse(out,
				      "key helper request: the %s holds a byte 0x%02x at %zu, not "
				      "printable ASCII",
				      what, p[*off + i], i);
	memcpy(dst, p + *off, n);
	dst[n] = '\0';
	*off += n;
	return SG_OK;
}

static int is_http_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

int sg_keyhelper_request_parse(sg_keyhelper_request *out, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t want = 0, off;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = parse_header(out, p, len, &want)) != SG_OK)
		return error;
	if (len < SG_KEYHELPER_HEADER_LEN + want)
		return refuse(out, "key helper request: %zu bytes, a truncated digest (%zu needed)",
			      len, SG_KEYHELPER_HEADER_LEN + want);
	off = SG_KEYHELPER_HEADER_LEN + want;
	if ((error = parse_text(out, out->description, p, len, &off, "description")) != SG_OK ||
	    (error = parse_text(out, out->url, p, len, &off, "URL")) != SG_OK)
		return error;
	if (out->url[0] && !is_http_url(out->url))
		return refuse(out, "key helper request: the URL is not http:// or https://");
	if (off != len)
		return refuse(out,
			      "key helper request: %zu bytes, not exactly %zu (bytes after the "
			      "URL)",
			      len, off);
	out->digest_len = want;
	memcpy(out->digest, p + SG_KEYHELPER_HEADER_LEN, want);
	return SG_OK;
}

static int text_encodable(const char *s)
{
	size_t n = strnlen(s, SG_AUTHENTICODE_TEXT_MAX + 1);

	if (n >= SG_AUTHENTICODE_TEXT_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

static void put_text(unsigned char *out, size_t *off, const char *s)
{
	size_t n = strlen(s);

	out[(*off)++] = (unsigned char)(n >> 8);
	out[(*off)++] = (unsigned char)n;
	memcpy(out + *off, s, n);
	*off += n;
}

int sg_keyhelper_request_encode(unsigned char *out, size_t cap, size_t *out_len,
				const sg_keyhelper_request *req)
{
	int code = alg_code(req->md_nid);
	size_t want = code ? sg_authenticode_md_len(req->md_nid) : 0, total, off;

	*out_len = 0;
	if (!sg_authenticode_kind_name(req->kind) || !want || req->digest_len != want)
		return sg_error_set(SG_ERR_USAGE, "key helper request: unknown kind or algorithm, "
						  "or a digest of the wrong length");
	if (!text_encodable(req->description) || !text_encodable(req->url) ||
	    (req->url[0] && !is_http_url(req->url)))
		return sg_error_set(SG_ERR_USAGE,
				    "key helper request: the description and URL must be at most "
				    "%d printable ASCII characters, the URL http:// or https://",
				    SG_AUTHENTICODE_TEXT_MAX - 1);
	total = SG_KEYHELPER_HEADER_LEN + want + 4 + strlen(req->description) + strlen(req->url);
	if (cap < total)
		return sg_error_set(SG_ERR_USAGE, "key helper request: %zu bytes of room, not %zu",
				    cap, total);
	memcpy(out, SG_KEYHELPER_MAGIC, 4);
	out[4] = SG_KEYHELPER_VERSION;
	out[5] = (unsigned char)req->kind;
	out[6] = (unsigned char)code;
	out[7] = (unsigned char)want;
	memcpy(out + SG_KEYHELPER_HEADER_LEN, req->digest, want);
	off = SG_KEYHELPER_HEADER_LEN + want;
	put_text(out, &off, req->description);
	put_text(out, &off, req->url);
	*out_len = off;
	return SG_OK;
}

void sg_keyhelper_request_apply(sg_authenticode_sign_req *sign, const sg_keyhelper_request *req)
{
	sign->kind = req->kind;
	sign->md_nid = req->md_nid;
	sign->digest = req->digest;
	sign->digest_len = req->digest_len;
	sign->description = req->description[0] ? req->description : NULL;
	sign->url = req->url[0] ? req->url : NULL;
}

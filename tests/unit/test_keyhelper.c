/*
 * Unit tests for lib/keyhelper.c: the key helper's request format. Every
 * malformed request is refused with SG_ERR_FORMAT and a reason, and leaves
 * the parsed request zeroed.
 */
#include "signgate/error.h"
#include "signgate/keyhelper.h"

#include "check.h"

#include <openssl/obj_mac.h>

/* Append a big-endian u16 length and `n` bytes of `text`. */
static size_t put(unsigned char *buf, size_t off, const char *text, size_t n)
{
	buf[off] = (unsigned char)(n >> 8);
	buf[off + 1] = (unsigned char)n;
	memcpy(buf + off + 2, text, n);
	return off + 2 + n;
}

/*
 * A well-formed request for `kind` with digest bytes 0, 1, 2, ..., the
 * description `desc` and the URL `url` (either may be "").
 */
static size_t good_with(unsigned char *buf, int kind, const char *desc, const char *url)
{
	memcpy(buf, "SGKH", 4);
	buf[4] = 2;
	buf[5] = (unsigned char)kind;
	buf[6] = 1;
	buf[7] = 32;
	for (int i = 0; i < 32; i++)
		buf[8 + i] = (unsigned char)i;
	return put(buf, put(buf, 40, desc, strlen(desc)), url, strlen(url));
}

/* Without description and URL: 44 bytes. */
static size_t good(unsigned char *buf, int kind)
{
	return good_with(buf, kind, "", "");
}

static int is_zero(const sg_keyhelper_request *r)
{
	static const sg_keyhelper_request zero;

	return memcmp(r, &zero, sizeof(zero)) == 0;
}

#define EXPECT_REFUSED(buf, len, want)                                                             \
	do {                                                                                       \
		sg_keyhelper_request r_;                                                           \
		memset(&r_, 0xa5, sizeof(r_));                                                     \
		CHECK_INT(sg_keyhelper_request_parse(&r_, (buf), (len)), SG_ERR_FORMAT);           \
		CHECK_CONTAINS(sg_error_last(), (want));                                           \
		CHECK(is_zero(&r_));                                                               \
	} while (0)

static void test_good(void)
{
	unsigned char buf[SG_KEYHELPER_REQUEST_MAX + 8], enc[SG_KEYHELPER_REQUEST_MAX];
	sg_keyhelper_request r;
	sg_authenticode_sign_req sign = { 0 };
	size_t len = good(buf, 2), enc_len = 0;

	CHECK_INT(sg_keyhelper_request_parse(&r, buf, len), SG_OK);
	CHECK_INT(r.kind, sg_format_by_name("msi"));
	CHECK_INT(r.md_nid, NID_sha256);
	CHECK_INT(r.digest_len, 32);
	CHECK(memcmp(r.digest, buf + 8, 32) == 0);
	/* Encoding gives the same bytes back. */
	CHECK_STR(r.description, "");
	CHECK_STR(r.url, "");
	CHECK_INT(sg_keyhelper_request_encode(enc, sizeof(enc), &enc_len, &r), SG_OK);
	CHECK_INT(enc_len, 44);
	CHECK(memcmp(enc, buf, 44) == 0);
	sign.description = sign.url = "stale";
	sg_keyhelper_request_apply(&sign, &r);
	CHECK_INT(sign.kind, sg_format_by_name("msi"));
	CHECK_INT(sign.md_nid, NID_sha256);
	CHECK(sign.digest == r.digest);
	CHECK_INT(sign.digest_len, 32);
	CHECK(sign.description == NULL);
	CHECK(sign.url == NULL);
	good(buf, 1);
	CHECK_INT(sg_keyhelper_request_parse(&r, buf, 44), SG_OK);
	CHECK_INT(r.kind, sg_format_by_name("pe"));
}

/* A description and a URL travel, and come back out of the encoder byte for byte. */
static void test_texts(void)
{
	unsigned char buf[SG_KEYHELPER_REQUEST_MAX + 8], enc[SG_KEYHELPER_REQUEST_MAX];
	char longest[SG_AUTHENTICODE_TEXT_MAX];
	sg_keyhelper_request r;
	sg_authenticode_sign_req sign = { 0 };
	size_t len = good_with(buf, 1, "Hello Setup 1.0", "https://example.com/x?y=1"), enc_len;

	CHECK_INT(len, 44 + 15 + 25);
	CHECK_INT(sg_keyhelper_request_parse(&r, buf, len), SG_OK);
	CHECK_STR(r.description, "Hello Setup 1.0");
	CHECK_STR(r.url, "https://example.com/x?y=1");
	CHECK_INT(sg_keyhelper_request_encode(enc, sizeof(enc), &enc_len, &r), SG_OK);
	CHECK_INT(enc_len, len);
	CHECK(memcmp(enc, buf, len) == 0);
	sg_keyhelper_request_apply(&sign, &r);
	CHECK(sign.description == r.description);
	CHECK(sign.url == r.url);
	/* A URL alone; the longest texts (1023 bytes each) fit SG_KEYHELPER_REQUEST_MAX. */
	len = good_with(buf, 2, "", "http://a");
	CHECK_INT(sg_keyhelper_request_parse(&r, buf, len), SG_OK);
	CHECK_STR(r.description, "");
	CHECK_STR(r.url, "http://a");
	memset(longest, 'a', sizeof(longest));
	memcpy(longest, "http://", 7);
	longest[sizeof(longest) - 1] = '\0';
	len = good_with(buf, 2, longest, longest);
	CHECK(len <= SG_KEYHELPER_REQUEST_MAX);
	CHECK_INT(sg_keyhelper_request_parse(&r, buf, len), SG_OK);
	CHECK_INT(strlen(r.description), SG_AUTHENTICODE_TEXT_MAX - 1);
	CHECK_INT(sg_keyhelper_request_encode(enc, sizeof(enc), &enc_len, &r), SG_OK);
	CHECK_INT(enc_len, len);
}

static void test_malformed(void)
{
	unsigned char buf[SG_KEYHELPER_REQUEST_MAX + 8];
	size_t len;

	EXPECT_REFUSED(NULL, 44, "0 bytes, shorter than its 8-byte header");
	good(buf, 1);
	EXPECT_REFUSED(buf, 0, "0 bytes, shorter than its 8-byte header");
	EXPECT_REFUSED(buf, 7, "7 bytes, shorter than its 8-byte header");
	/* Truncated digest, texts cut short, and one byte too many. */
	EXPECT_REFUSED(buf, 8, "8 bytes, a truncated digest (40 needed)");
	EXPECT_REFUSED(buf, 39, "39 bytes, a truncated digest (40 needed)");
	EXPECT_REFUSED(buf, 40, "40 bytes, truncated before the description length");
	EXPECT_REFUSED(buf, 41, "41 bytes, truncated before the description length");
	EXPECT_REFUSED(buf, 42, "42 bytes, truncated before the URL length");
	EXPECT_REFUSED(buf, 43, "43 bytes, truncated before the URL length");
	EXPECT_REFUSED(buf, 45, "45 bytes, not exactly 44 (bytes after the URL)");
	EXPECT_REFUSED(buf, sizeof(buf), "bytes, not exactly 44 (bytes after the URL)");
	len = good_with(buf, 1, "Hello", "http://x");
	EXPECT_REFUSED(buf, 44, "44 bytes, truncated in the description");
	EXPECT_REFUSED(buf, 47, "47 bytes, truncated before the URL length");
	EXPECT_REFUSED(buf, len - 1, "56 bytes, truncated in the URL");
	EXPECT_REFUSED(buf, len + 1, "58 bytes, not exactly 57 (bytes after the URL)");
	/* A length field that claims more than the message holds. */
	buf[40] = 0x04;
	EXPECT_REFUSED(buf, len, "a description of 1029 bytes (at most 1023)");
	buf[40] = 0;
	buf[41] = 200;
	EXPECT_REFUSED(buf, len, "57 bytes, truncated in the description");

	good(buf, 1);
	buf[3] = 'X';
	EXPECT_REFUSED(buf, 40, "wrong magic");
	good(buf, 1);
	buf[4] = 1;
	EXPECT_REFUSED(buf, 40, "unknown version 1 (want 2)");
	good(buf, 1);
	buf[5] = 0;
	EXPECT_REFUSED(buf, 40, "unknown content kind 0");
	buf[5] = 99; /* no such row */
	EXPECT_REFUSED(buf, 40, "unknown content kind 99");
	good(buf, 1);
	buf[6] = 0;
	EXPECT_REFUSED(buf, 40, "unknown digest algorithm 0");
	buf[6] = 2;
	EXPECT_REFUSED(buf, 40, "unknown digest algorithm 2");
	/* A length byte that disagrees with the algorithm, whatever the total. */
	good(buf, 1);
	buf[7] = 31;
	EXPECT_REFUSED(buf, 39, "a digest length of 31, not 32");
	buf[7] = 33;
	EXPECT_REFUSED(buf, 41, "a digest length of 33, not 32");
	buf[7] = 255;
	EXPECT_REFUSED(buf, 40, "a digest length of 255, not 32");
}

/* Texts: too long, not printable ASCII, a URL that is not http(s). */
static void test_bad_texts(void)
{
	unsigned char buf[SG_KEYHELPER_REQUEST_MAX + 8];
	char text[SG_AUTHENTICODE_TEXT_MAX + 2];
	size_t len;

	memset(text, 'a', sizeof(text));
	text[SG_AUTHENTICODE_TEXT_MAX] = '\0';
	len = good_with(buf, 1, text, "");
	EXPECT_REFUSED(buf, len, "a description of 1024 bytes (at most 1023)");
	memcpy(text, "https://", 8);
	len = good_with(buf, 1, "", text);
	EXPECT_REFUSED(buf, len, "a URL of 1024 bytes (at most 1023)");
	len = good_with(buf, 1, "tab\there", "");
	EXPECT_REFUSED(buf, len, "the description holds a byte 0x09 at 3, not printable ASCII");
	len = good_with(buf, 1, "", "http://x/\x7f");
	EXPECT_REFUSED(buf, len, "the URL holds a byte 0x7f at 9, not printable ASCII");
	len = good_with(buf, 1, "caf\xc3\xa9", "");
	EXPECT_REFUSED(buf, len, "the description holds a byte 0xc3 at 3");
	/* A NUL inside a text would cut it short where it is used. */
	len = good_with(buf, 1, "ab", "");
	buf[43] = '\0';
	EXPECT_REFUSED(buf, len, "the description holds a byte 0x00 at 1");
	len = good_with(buf, 1, "", "ftp://example.com/");
	EXPECT_REFUSED(buf, len, "the URL is not http:// or https://");
	len = good_with(buf, 1, "", "HTTP://example.com/");
	EXPECT_REFUSED(buf, len, "the URL is not http:// or https://");
	len = good_with(buf, 1, "", "javascript:alert(1)");
	EXPECT_REFUSED(buf, len, "the URL is not http:// or https://");
}

static void test_encode_refuses(void)
{
	unsigned char out[SG_KEYHELPER_REQUEST_MAX];
	sg_keyhelper_request r = { .kind = sg_format_by_name("pe"),
				   .md_nid = NID_sha256,
				   .digest_len = 32 };
	size_t len = 99;

	CHECK_INT(sg_keyhelper_request_encode(out, 43, &len, &r), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "43 bytes of room, not 44");
	CHECK_INT(len, 0);
	strcpy(r.description, "Setup");
	CHECK_INT(sg_keyhelper_request_encode(out, 48, &len, &r), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "48 bytes of room, not 49");
	strcpy(r.url, "ftp://x");
	CHECK_INT(sg_keyhelper_request_encode(out, sizeof(out), &len, &r), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "the URL http:// or https://");
	r.url[0] = '\0';
	r.description[2] = '\n';
	CHECK_INT(sg_keyhelper_request_encode(out, sizeof(out), &len, &r), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "printable ASCII");
	memset(r.description, 'a', SG_AUTHENTICODE_TEXT_MAX);
	r.description[SG_AUTHENTICODE_TEXT_MAX] = '\0';
	CHECK_INT(sg_keyhelper_request_encode(out, sizeof(out), &len, &r), SG_ERR_USAGE);
	r.description[0] = '\0';
	r.digest_len = 31;
	CHECK_INT(sg_keyhelper_request_encode(out, sizeof(out), &len, &r), SG_ERR_USAGE);
	r.digest_len = 32;
	r.md_nid = NID_sha1;
	CHECK_INT(sg_keyhelper_request_encode(out, sizeof(out), &len, &r), SG_ERR_USAGE);
	r.md_nid = NID_sha256;
	r.kind = (sg_format_kind)99; /* no such row */
	CHECK_INT(sg_keyhelper_request_encode(out, sizeof(out), &len, &r), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "unknown kind or algorithm");
}

int main(void)
{
	test_good();
	test_texts();
	test_malformed();
	test_bad_texts();
	test_encode_refuses();
	return check_done();
}

/*
 * Unit tests for lib/keyhelper.c: the key helper's request format. Every
 * malformed request is refused with SG_ERR_FORMAT and a reason, and leaves
 * the parsed request zeroed.
 */
#include "signgate/error.h"
#include "signgate/keyhelper.h"

#include "check.h"

#include <openssl/obj_mac.h>

/* A well-formed request for `kind` with digest bytes 0, 1, 2, ... */
static size_t good(unsigned char *buf, int kind)
{
	memcpy(buf, "SGKH", 4);
	buf[4] = 1;
	buf[5] = (unsigned char)kind;
	buf[6] = 1;
	buf[7] = 32;
	for (int i = 0; i < 32; i++)
		buf[8 + i] = (unsigned char)i;
	return 40;
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
	CHECK_INT(r.kind, SG_AUTHENTICODE_MSI);
	CHECK_INT(r.md_nid, NID_sha256);
	CHECK_INT(r.digest_len, 32);
	CHECK(memcmp(r.digest, buf + 8, 32) == 0);
	/* Encoding gives the same bytes back. */
	CHECK_INT(sg_keyhelper_request_encode(enc, sizeof(enc), &enc_len, &r), SG_OK);
	CHECK_INT(enc_len, 40);
	CHECK(memcmp(enc, buf, 40) == 0);
	sg_keyhelper_request_apply(&sign, &r);
	CHECK_INT(sign.kind, SG_AUTHENTICODE_MSI);
	CHECK_INT(sign.md_nid, NID_sha256);
	CHECK(sign.digest == r.digest);
	CHECK_INT(sign.digest_len, 32);
	good(buf, 1);
	CHECK_INT(sg_keyhelper_request_parse(&r, buf, 40), SG_OK);
	CHECK_INT(r.kind, SG_AUTHENTICODE_PE);
}

static void test_malformed(void)
{
	unsigned char buf[SG_KEYHELPER_REQUEST_MAX + 8];

	EXPECT_REFUSED(NULL, 40, "0 bytes, shorter than its 8-byte header");
	good(buf, 1);
	EXPECT_REFUSED(buf, 0, "0 bytes, shorter than its 8-byte header");
	EXPECT_REFUSED(buf, 7, "7 bytes, shorter than its 8-byte header");
	/* Truncated digest, and one byte too many. */
	EXPECT_REFUSED(buf, 8, "8 bytes, not exactly 40 (truncated digest)");
	EXPECT_REFUSED(buf, 39, "39 bytes, not exactly 40 (truncated digest)");
	EXPECT_REFUSED(buf, 41, "41 bytes, not exactly 40 (bytes after the digest)");
	EXPECT_REFUSED(buf, sizeof(buf), "bytes, not exactly 40 (bytes after the digest)");

	good(buf, 1);
	buf[3] = 'X';
	EXPECT_REFUSED(buf, 40, "wrong magic");
	good(buf, 1);
	buf[4] = 2;
	EXPECT_REFUSED(buf, 40, "unknown version 2 (want 1)");
	good(buf, 1);
	buf[5] = 0;
	EXPECT_REFUSED(buf, 40, "unknown content kind 0");
	buf[5] = 3;
	EXPECT_REFUSED(buf, 40, "unknown content kind 3");
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

static void test_encode_refuses(void)
{
	unsigned char out[SG_KEYHELPER_REQUEST_MAX];
	sg_keyhelper_request r = { SG_AUTHENTICODE_PE, NID_sha256, { 0 }, 32 };
	size_t len = 99;

	CHECK_INT(sg_keyhelper_request_encode(out, 39, &len, &r), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "39 bytes of room, not 40");
	CHECK_INT(len, 0);
	r.digest_len = 31;
	CHECK_INT(sg_keyhelper_request_encode(out, sizeof(out), &len, &r), SG_ERR_USAGE);
	r.digest_len = 32;
	r.md_nid = NID_sha1;
	CHECK_INT(sg_keyhelper_request_encode(out, sizeof(out), &len, &r), SG_ERR_USAGE);
	r.md_nid = NID_sha256;
	r.kind = (sg_authenticode_kind)7;
	CHECK_INT(sg_keyhelper_request_encode(out, sizeof(out), &len, &r), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "unknown kind or algorithm");
}

int main(void)
{
	test_good();
	test_malformed();
	test_encode_refuses();
	return check_done();
}

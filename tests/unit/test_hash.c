/*
 * Unit tests for lib/hash.c: known digest vectors, the copy descriptor, a
 * stream longer than one read chunk checked against OpenSSL's one-shot
 * EVP_Digest, I/O errors, base64 (RFC 4648 vectors) and the hex helpers.
 */
#include "signgate/error.h"
#include "signgate/hash.h"

#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

static char tmpdir[] = "/tmp/test_hash.XXXXXX";

/* A new file under tmpdir holding `len` bytes of `buf`, opened read-only at offset 0. */
static int file_with(const char *name, const void *buf, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, buf, len) != (ssize_t)len) || lseek(fd, 0, SEEK_SET) != 0) {
		perror(path);
		exit(2);
	}
	return fd;
}

static void remove_file(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
}

static void test_known_vectors(void)
{
	sg_digests d;
	int fd = file_with("empty", "", 0);

	CHECK_INT(sg_hash_stream(&d, fd, -1, "empty"), SG_OK);
	close(fd);
	CHECK_INT(d.size, 0);
	CHECK_STR(d.sha1_hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	CHECK_STR(d.sha256_hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_STR(d.sha512_hex, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
				"47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");

	fd = file_with("abc", "abc", 3);
	CHECK_INT(sg_hash_stream(&d, fd, -1, "abc"), SG_OK);
	close(fd);
	CHECK_INT(d.size, 3);
	CHECK_STR(d.sha1_hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	CHECK_STR(d.sha256_hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_STR(d.sha512_hex, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
				"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	/* The binary digests and their hex agree. */
	CHECK(d.sha1[0] == 0xa9 && d.sha1[19] == 0x9d);
	CHECK(d.sha256[0] == 0xba && d.sha256[31] == 0xad);
	CHECK(d.sha512[0] == 0xdd && d.sha512[63] == 0x9f);

	char hex[2 * SG_SHA256_LEN + 1];
	CHECK_INT(sg_sha256_hex(hex, "abc", 3), SG_OK);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	const unsigned char raw[] = { 0x00, 0x0f, 0xa5, 0xff };
	char enc[9];
	sg_hex_encode(enc, raw, sizeof(raw));
	CHECK_STR(enc, "000fa5ff");
	sg_hex_encode(enc, raw, 0);
	CHECK_STR(enc, "");
}

/* Hashing starts at the descriptor's current offset, as documented. */
static void test_current_offset(void)
{
	sg_digests d;
	int fd = file_with("offset", "xyzabc", 6);

	CHECK(lseek(fd, 3, SEEK_SET) == 3);
	CHECK_INT(sg_hash_stream(&d, fd, -1, "offset"), SG_OK);
	close(fd);
	CHECK_INT(d.size, 3);
	CHECK_STR(d.sha256_hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void one_shot(unsigned char *md, const EVP_MD *type, const unsigned char *buf, size_t len)
{
	unsigned int mdlen = 0;

	if (!EVP_Digest(buf, len, md, &mdlen, type, NULL)) {
		fprintf(stderr, "EVP_Digest failed\n");
		exit(2);
	}
}

/* 6 MiB + 12345 bytes: more 1 MiB chunks than the ring holds, a partial last one; copied. */
static void test_large_stream_and_copy(void)
{
	const size_t len = (6u << 20) + 12345;
	unsigned char *buf = malloc(len), *back = malloc(len);
	unsigned char md[EVP_MAX_MD_SIZE];
	char copy_path[256];
	uint32_t x = 2463534242u;
	sg_digests d;
	int in_fd, copy_fd;

	if (!buf || !back)
		exit(2);
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	in_fd = file_with("large", buf, len);
	snprintf(copy_path, sizeof(copy_path), "%s/large.copy", tmpdir);
	copy_fd = open(copy_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(copy_fd >= 0);

	CHECK_INT(sg_hash_stream(&d, in_fd, copy_fd, "large"), SG_OK);
	CHECK_INT(d.size, len);
	one_shot(md, EVP_sha1(), buf, len);
	CHECK(memcmp(d.sha1, md, SG_SHA1_LEN) == 0);
	one_shot(md, EVP_sha256(), buf, len);
	CHECK(memcmp(d.sha256, md, SG_SHA256_LEN) == 0);
	one_shot(md, EVP_sha512(), buf, len);
	CHECK(memcmp(d.sha512, md, SG_SHA512_LEN) == 0);

	/* The copy holds exactly the bytes hashed. */
	CHECK(lseek(copy_fd, 0, SEEK_END) == (off_t)len);
	CHECK(pread(copy_fd, back, len, 0) == (ssize_t)len);
	CHECK(memcmp(buf, back, len) == 0);

	/* Only the digests asked for, each right. */
	for (unsigned want = 0; want <= SG_DIGEST_ALL; want++) {
		CHECK(lseek(in_fd, 0, SEEK_SET) == 0);
		CHECK_INT(sg_hash_stream_some(&d, in_fd, -1, "large", want), SG_OK);
		CHECK_INT(d.size, len);
		one_shot(md, EVP_sha256(), buf, len);
		CHECK((want & SG_DIGEST_SHA256) ? memcmp(d.sha256, md, SG_SHA256_LEN) == 0
						: d.sha256_hex[0] == '\0');
		one_shot(md, EVP_sha512(), buf, len);
		CHECK((want & SG_DIGEST_SHA512) ? memcmp(d.sha512, md, SG_SHA512_LEN) == 0
						: d.sha512_hex[0] == '\0');
		one_shot(md, EVP_sha1(), buf, len);
		CHECK((want & SG_DIGEST_SHA1) ? memcmp(d.sha1, md, SG_SHA1_LEN) == 0
					      : d.sha1_hex[0] == '\0');
	}

	close(in_fd);
	close(copy_fd);
	remove_file("large");
	remove_file("large.copy");
	free(buf);
	free(back);
}

static void test_io_errors(void)
{
	char path[256];
	sg_digests d;
	int in_fd = file_with("ioerr", "abc", 3), wr_fd, ro_fd;

	/* The copy descriptor is read-only: writing the copy fails. */
	ro_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sg_error_clear();
	CHECK_INT(sg_hash_stream(&d, in_fd, ro_fd, "ioerr.bin"), SG_ERR_IO);
	CHECK_INT(sg_error_code(), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "ioerr.bin: its private copy: cannot write: ");
	close(ro_fd);
	close(in_fd);

	/* The input descriptor is write-only: reading fails. */
	snprintf(path, sizeof(path), "%s/ioerr", tmpdir);
	wr_fd = open(path, O_WRONLY | O_CLOEXEC);
	sg_error_clear();
	CHECK_INT(sg_hash_stream(&d, wr_fd, -1, "ioerr.bin"), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "ioerr.bin: read failed");
	close(wr_fd);
	remove_file("ioerr");
}

static void check_b64(const char *in, const char *want)
{
	char out[64];

	memset(out, 'X', sizeof(out));
	CHECK_INT(sg_base64_encode(out, sizeof(out), (const unsigned char *)in, strlen(in)), SG_OK);
	CHECK_STR(out, want);
}

static void test_base64(void)
{
	/* RFC 4648 section 10. */
	check_b64("", "");
	check_b64("f", "Zg==");
	check_b64("fo", "Zm8=");
	check_b64("foo", "Zm9v");
	check_b64("foob", "Zm9vYg==");
	check_b64("fooba", "Zm9vYmE=");
	check_b64("foobar", "Zm9vYmFy");

	const unsigned char bin[] = { 0xfb, 0xff, 0x00 };
	char out[5];
	CHECK_INT(sg_base64_encode(out, sizeof(out), bin, 3), SG_OK); /* exactly 4 + NUL */
	CHECK_STR(out, "+/8A");

	/* One byte short of "Zm9vYg==" plus NUL. */
	char small[8];
	sg_error_clear();
	CHECK_INT(sg_base64_encode(small, sizeof(small), (const unsigned char *)"foob", 4),
		  SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "base64 buffer too small");
	CHECK_INT(sg_base64_encode(small, 0, (const unsigned char *)"", 0), SG_ERR_USAGE);
}

/* Decoding: the padding is not counted; canonical refuses stray bits; bad input is -1. */
static void test_base64_decode(void)
{
	unsigned char out[16];

	CHECK_INT(sg_base64_decode(out, "", 0, 1), 0);
	CHECK_INT(sg_base64_decode(out, "Zg==", 4, 1), 1);
	CHECK(out[0] == 'f');
	CHECK_INT(sg_base64_decode(out, "Zm9vYmE=", 8, 1), 5);
	CHECK(memcmp(out, "fooba", 5) == 0);
	CHECK_INT(sg_base64_decode(out, "+/8A", 4, 0), 3);
	CHECK(out[0] == 0xfb && out[1] == 0xff && out[2] == 0x00);
	/* "Zh==" decodes to "f" too, but it is not what an encoder writes. */
	CHECK_INT(sg_base64_decode(out, "Zh==", 4, 0), 1);
	CHECK_INT(sg_base64_decode(out, "Zh==", 4, 1), -1);
	CHECK_INT(sg_base64_decode(out, "Zm9", 3, 0), -1);    /* not a multiple of 4 */
	CHECK_INT(sg_base64_decode(out, "Zm9*", 4, 0), -1);   /* not base64 */
	CHECK_INT(sg_base64_decode(out, "Zm 9v", 4, 0), -1);  /* whitespace */
}

static void test_hex_helpers(void)
{
	const char *h64 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	const char *H64 = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
	char buf[80];

	CHECK_INT(sg_hex_is_valid(h64, 32), 1);
	CHECK_INT(sg_hex_is_valid(H64, 32), 1);
	CHECK_INT(sg_hex_is_valid("aBcD", 2), 1);
	CHECK_INT(sg_hex_is_valid("", 0), 1);
	CHECK_INT(sg_hex_is_valid(NULL, 0), 0);
	CHECK_INT(sg_hex_is_valid(NULL, 32), 0);
	CHECK_INT(sg_hex_is_valid(h64, 31), 0);  /* too long */
	CHECK_INT(sg_hex_is_valid(h64, 33), 0);  /* too short */
	CHECK_INT(sg_hex_is_valid("abc", 2), 0); /* odd length */
	CHECK_INT(sg_hex_is_valid("0x12", 2), 0);
	CHECK_INT(sg_hex_is_valid("12g4", 2), 0);
	CHECK_INT(sg_hex_is_valid("12 4", 2), 0);
	CHECK_INT(sg_hex_is_valid("-1234", 2), 0);
	snprintf(buf, sizeof(buf), "%.63s ", h64); /* trailing space in place of the last digit */
	CHECK_INT(sg_hex_is_valid(buf, 32), 0);
	snprintf(buf, sizeof(buf), "%s\n", h64);
	CHECK_INT(sg_hex_is_valid(buf, 32), 0);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_known_vectors();
	test_current_offset();
	test_large_stream_and_copy();
	test_io_errors();
	test_base64();
	test_base64_decode();
	test_hex_helpers();
	remove_file("empty");
	remove_file("abc");
	remove_file("offset");
	if (rmdir(tmpdir) != 0) {
		perror(tmpdir);
		check_failed++;
	}
	return check_done();
}

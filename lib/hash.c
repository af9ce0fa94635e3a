/* File and buffer digests; see include/signgate/hash.h. */
#include "signgate/hash.h"
#include "signgate/error.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#define CHUNK (1u << 20)

void sg_hex_encode(char *out, const unsigned char *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int sg_sha256_hex(char out[2 * SG_SHA256_LEN + 1], const void *buf, size_t len)
{
	unsigned char md[SG_SHA256_LEN];
	unsigned int mdlen = 0;

	if (!EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL))
		return sg_error_set(SG_ERR_CRYPTO, "SHA-256 computation failed");
	sg_hex_encode(out, md, SG_SHA256_LEN);
	return SG_OK;
}

static int write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int hash_loop(sg_digests *out, EVP_MD_CTX *ctx[3], unsigned char *buf, int in_fd,
		     int copy_fd, const char *name)
{
	for (;;) {
		ssize_t n = read(in_fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sg_error_set(SG_ERR_IO, "%s: read failed: %s", name,
					    strerror(errno));
		if (n == 0)
			return SG_OK;
		for (int i = 0; i < 3; i++)
			if (!EVP_DigestUpdate(ctx[i], buf, (size_t)n))
				return sg_error_set(SG_ERR_CRYPTO, "%s: digest update failed",
						    name);
		if (copy_fd >= 0 && write_all(copy_fd, buf, (size_t)n) != 0)
			return sg_error_set(SG_ERR_IO, "%s: writing the private copy failed: %s",
					    name, strerror(errno));
		out->size += (uint64_t)n;
	}
}

int sg_hash_stream(sg_digests *out, int in_fd, int copy_fd, const char *name)
{
	const EVP_MD *md[3] = { EVP_sha1(), EVP_sha256(), EVP_sha512() };
	unsigned char *dst[3] = { out->sha1, out->sha256, out->sha512 };
	EVP_MD_CTX *ctx[3] = { NULL, NULL, NULL };
	unsigned char *buf = NULL;
	int error = SG_ERR_NOMEM;

	memset(out, 0, sizeof(*out));
	buf = OPENSSL_malloc(CHUNK);
	if (!buf)
		goto done;
	for (int i = 0; i < 3; i++) {
		ctx[i] = EVP_MD_CTX_new();
		if (!ctx[i])
			goto done;
		if (!EVP_DigestInit_ex(ctx[i], md[i], NULL)) {
			error = sg_error_set(SG_ERR_CRYPTO, "%s: digest init failed", name);
			goto done;
		}
	}
	error = hash_loop(out, ctx, buf, in_fd, copy_fd, name);
	for (int i = 0; error == SG_OK && i < 3; i++)
		if (!EVP_DigestFinal_ex(ctx[i], dst[i], NULL))
			error = sg_error_set(SG_ERR_CRYPTO, "%s: digest final failed", name);
	if (error == SG_OK) {
		sg_hex_encode(out->sha1_hex, out->sha1, SG_SHA1_LEN);
		sg_hex_encode(out->sha256_hex, out->sha256, SG_SHA256_LEN);
		sg_hex_encode(out->sha512_hex, out->sha512, SG_SHA512_LEN);
	}
done:
	if (error == SG_ERR_NOMEM)
		sg_error_set(error, "%s: out of memory while hashing", name);
	for (int i = 0; i < 3; i++)
		EVP_MD_CTX_free(ctx[i]);
	OPENSSL_free(buf);
	return error;
}

int sg_base64_encode(char *out, size_t out_len, const unsigned char *in, size_t len)
{
	if (out_len < 4 * ((len + 2) / 3) + 1)
		return sg_error_set(SG_ERR_USAGE, "base64 buffer too small");
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return SG_OK;
}

int sg_hex_is_valid(const char *hex, size_t nbytes)
{
	if (!hex || strlen(hex) != 2 * nbytes)
		return 0;
	for (size_t i = 0; i < 2 * nbytes; i++)
		if (!isxdigit((unsigned char)hex[i]))
			return 0;
	return 1;
}

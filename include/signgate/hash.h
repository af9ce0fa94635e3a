/*
 * Digests of files and buffers (OpenSSL EVP). One pass over the data computes
 * SHA-1, SHA-256 and SHA-512 together; the copy variant writes the same bytes
 * to a second descriptor, so the bytes hashed are exactly the bytes kept.
 */
#ifndef SIGNGATE_HASH_H
#define SIGNGATE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SG_SHA1_LEN   20
#define SG_SHA256_LEN 32
#define SG_SHA512_LEN 64

typedef struct sg_digests {
	uint64_t size;
	unsigned char sha1[SG_SHA1_LEN];
	unsigned char sha256[SG_SHA256_LEN];
	unsigned char sha512[SG_SHA512_LEN];
	char sha1_hex[2 * SG_SHA1_LEN + 1];     /* lower-case */
	char sha256_hex[2 * SG_SHA256_LEN + 1]; /* lower-case */
	char sha512_hex[2 * SG_SHA512_LEN + 1]; /* lower-case */
} sg_digests;

/* Write `len` bytes of `in` as lower-case hex plus NUL into `out` (2*len+1). */
void sg_hex_encode(char *out, const unsigned char *in, size_t len);

/* SHA-256 of a buffer as lower-case hex into out[65]. Returns 0 or SG_ERR_CRYPTO. */
/* sg_hex_encode() in upper case, as Windows prints thumbprints and digests. */
void sg_hex_encode_upper(char *out, const unsigned char *in, size_t len);

int sg_sha256_hex(char out[2 * SG_SHA256_LEN + 1], const void *buf, size_t len);

/* Which digests a pass computes. */
#define SG_DIGEST_SHA1   1u
#define SG_DIGEST_SHA256 2u
#define SG_DIGEST_SHA512 4u
#define SG_DIGEST_ALL    (SG_DIGEST_SHA1 | SG_DIGEST_SHA256 | SG_DIGEST_SHA512)

/*
 * Read `in_fd` from its current offset to EOF once, computing the digests
 * in `want` into `out` (the others stay zero, their hex empty), each on a
 * thread of its own while this one reads and copies. When `copy_fd` is
 * >= 0, every byte read is also written to it. Memory is bounded (a few
 * MiB) whatever the input's size. `name` is used in error messages.
 * Returns 0, SG_ERR_IO, SG_ERR_CRYPTO or SG_ERR_NOMEM.
 */
int sg_hash_stream_some(sg_digests *out, int in_fd, int copy_fd, const char *name, unsigned want);

/*
 * Something else a pass feeds the input to, on a thread of its own beside
 * the digests: `update` receives every chunk in order with its offset in the
 * input (from where the pass started). It must not keep `data`.
 */
typedef struct sg_stream_sink {
	void (*update)(void *arg, const unsigned char *data, size_t len, uint64_t offset);
	void *arg;
} sg_stream_sink;

/* sg_hash_stream_some() that also feeds `sink` (NULL: none). */
int sg_hash_stream_with(sg_digests *out, int in_fd, int copy_fd, const char *name, unsigned want,
			const sg_stream_sink *sink);

/* sg_hash_stream_some() of all three digests. */
int sg_hash_stream(sg_digests *out, int in_fd, int copy_fd, const char *name);

/* base64 (RFC 4648, padded) of `len` bytes into `out` of size out_len. Returns 0 or SG_ERR_USAGE.
 */
int sg_base64_encode(char *out, size_t out_len, const unsigned char *in, size_t len);

/*
 * Decode the padded base64 `b64` of `len` characters (no whitespace) into
 * `out`, which holds at least len / 4 * 3 bytes. With `canonical`, only
 * what sg_base64_encode() writes is accepted (no stray bits in the last
 * group). Returns the byte count, or -1 when `b64` is not such base64 (or
 * memory ran out for the canonical check).
 */
long sg_base64_decode(unsigned char *out, const char *b64, size_t len, int canonical);

/*
 * Check that `hex` is exactly `nbytes` bytes of hex digits (any case).
 * Returns 1 when it is, 0 otherwise.
 */
int sg_hex_is_valid(const char *hex, size_t nbytes);

#endif

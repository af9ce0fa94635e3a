/* File and buffer digests; see include/signgate/hash.h. */
#include "signgate/hash.h"
#include "signgate/util.h"
#include "signgate/error.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
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

void sg_hex_encode_upper(char *out, const unsigned char *in, size_t len)
{
	sg_hex_encode(out, in, len);
	for (; *out; out++)
		*out = (char)toupper((unsigned char)*out);
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

/*
 * The pass over an input: this thread reads each chunk and writes the copy;
 * one thread per digest hashes the chunk meanwhile. A ring of RING chunks
 * lets reading run ahead of hashing, and memory stays at RING * CHUNK
 * whatever the input's size. One pass over the bytes, not one per digest,
 * and on two cores the copy costs no hashing time.
 */
#define RING      4
#define N_DIGESTS 3

struct chunk {
	unsigned char *data;
	size_t len;
	int pending; /* digests still to take this chunk; 0: free */
};

struct pass {
	struct chunk ring[RING];
	size_t filled;   /* chunks published so far */
	int eof, failed; /* the reader is done / something failed: stop */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* A consumer of the chunks: a digest, or the caller's sink. */
struct hasher {
	struct pass *pass;
	EVP_MD_CTX *ctx;
	const sg_stream_sink *sink;
	uint64_t offset; /* of the next chunk in the input */
	int error;
};

static int consume(struct hasher *h, const struct chunk *c)
{
	if (!h->sink)
		return EVP_DigestUpdate(h->ctx, c->data, c->len);
	h->sink->update(h->sink->arg, c->data, c->len, h->offset);
	h->offset += c->len;
	return 1;
}

static void *hash_worker(void *arg)
{
	struct hasher *h = arg;
	struct pass *p = h->pass;

	for (size_t k = 0;; k++) {
		struct chunk *c = &p->ring[k % RING];
		int ok;

		pthread_mutex_lock(&p->mu);
		while (p->filled <= k && !p->eof && !p->failed)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->failed || p->filled <= k) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		pthread_mutex_unlock(&p->mu);
		ok = consume(h, c);
		pthread_mutex_lock(&p->mu);
		if (!ok) {
			h->error = 1;
			p->failed = 1;
		}
		c->pending--;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (!ok)
			return NULL;
	}
}

/* One chunk into the private copy; the message names the input. */
static int write_copy(int fd, const unsigned char *buf, size_t len, const char *name)
{
	char what[512];

	snprintf(what, sizeof(what), "%s: its private copy", name);
	return sg_write_all(fd, buf, len, what);
}

/* Read the input chunk by chunk into the ring, and write each to the copy. */
static int read_loop(struct pass *p, int n_hashers, sg_digests *out, int in_fd, int copy_fd,
		     const char *name)
{
	for (size_t k = 0;; k++) {
		struct chunk *c = &p->ring[k % RING];
		ssize_t n;

		int failed;

		pthread_mutex_lock(&p->mu);
		while (c->pending > 0 && !p->failed)
			pthread_cond_wait(&p->cv, &p->mu);
		failed = p->failed;
		pthread_mutex_unlock(&p->mu);
		if (failed)
			return sg_error_set(SG_ERR_CRYPTO, "%s: digest update failed", name);
		do
			n = read(in_fd, c->data, CHUNK);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return sg_error_set(SG_ERR_IO, "%s: read failed: %s", name,
					    strerror(errno));
		if (n == 0)
			return SG_OK;
		c->len = (size_t)n;
		pthread_mutex_lock(&p->mu);
		c->pending = n_hashers;
		p->filled = k + 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		/* The hashers only read the chunk: writing it meanwhile is safe. */
		if (copy_fd >= 0 && write_copy(copy_fd, c->data, (size_t)n, name) != SG_OK)
			return sg_error_code();
		out->size += (uint64_t)n;
	}
}

/* Stop the hashers: at the end of the input, or because something failed. */
static void end_pass(struct pass *p, int failed)
{
	pthread_mutex_lock(&p->mu);
	p->eof = 1;
	p->failed |= failed;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int sg_hash_stream_with(sg_digests *out, int in_fd, int copy_fd, const char *name, unsigned want,
			const sg_stream_sink *sink)
{
	static const unsigned bits[N_DIGESTS] = { SG_DIGEST_SHA1, SG_DIGEST_SHA256,
						  SG_DIGEST_SHA512 };
	static const char *const md_names[N_DIGESTS] = { "SHA1", "SHA256", "SHA512" };
	unsigned char *dst[N_DIGESTS] = { out->sha1, out->sha256, out->sha512 };
	char *hex[N_DIGESTS] = { out->sha1_hex, out->sha256_hex, out->sha512_hex };
	const size_t lens[N_DIGESTS] = { SG_SHA1_LEN, SG_SHA256_LEN, SG_SHA512_LEN };
	struct hasher h[N_DIGESTS + 1] = { { 0 } }; /* the digests, then the sink */
	pthread_t tid[N_DIGESTS + 1];
	int started[N_DIGESTS + 1] = { 0 }, n_hashers = 0, error = SG_OK;
	struct pass p;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	for (int i = 0; i < RING && !error; i++)
		if (!(p.ring[i].data = OPENSSL_malloc(CHUNK)))
			error = sg_error_set(SG_ERR_NOMEM, "%s: out of memory while hashing", name);
	for (int i = 0; i < N_DIGESTS && !error; i++) {
		EVP_MD *md;

		if (!(want & bits[i]))
			continue;
		md = EVP_MD_fetch(NULL, md_names[i], NULL);
		h[i].pass = &p;
		h[i].ctx = EVP_MD_CTX_new();
		if (!md || !h[i].ctx || !EVP_DigestInit_ex(h[i].ctx, md, NULL))
			error = sg_error_set(SG_ERR_CRYPTO, "%s: digest init failed", name);
		EVP_MD_free(md);
		if (!error && pthread_create(&tid[i], NULL, hash_worker, &h[i]) != 0)
			error = sg_error_set(SG_ERR_NOMEM, "%s: cannot start a hashing thread",
					     name);
		started[i] = !error;
		n_hashers += !error;
	}
	if (!error && sink) {
		h[N_DIGESTS].pass = &p;
		h[N_DIGESTS].sink = sink;
		if (pthread_create(&tid[N_DIGESTS], NULL, hash_worker, &h[N_DIGESTS]) != 0)
			error = sg_error_set(SG_ERR_NOMEM, "%s: cannot start a checking thread",
					     name);
		started[N_DIGESTS] = !error;
		n_hashers += !error;
	}
	if (!error)
		error = read_loop(&p, n_hashers, out, in_fd, copy_fd, name);
	end_pass(&p, error != SG_OK);
	for (int i = 0; i <= N_DIGESTS; i++)
		if (started[i])
			pthread_join(tid[i], NULL);
	for (int i = 0; i < N_DIGESTS && !error; i++)
		if (started[i] && (h[i].error || !EVP_DigestFinal_ex(h[i].ctx, dst[i], NULL)))
			error = sg_error_set(SG_ERR_CRYPTO, "%s: digest final failed", name);
	for (int i = 0; i < N_DIGESTS; i++) {
		if (!error && started[i])
			sg_hex_encode(hex[i], dst[i], lens[i]);
		EVP_MD_CTX_free(h[i].ctx);
	}
	for (int i = 0; i < RING; i++)
		OPENSSL_free(p.ring[i].data);
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	return error;
}

int sg_hash_stream_some(sg_digests *out, int in_fd, int copy_fd, const char *name, unsigned want)
{
	return sg_hash_stream_with(out, in_fd, copy_fd, name, want, NULL);
}

int sg_hash_stream(sg_digests *out, int in_fd, int copy_fd, const char *name)
{
	return sg_hash_stream_some(out, in_fd, copy_fd, name, SG_DIGEST_ALL);
}

int sg_base64_encode(char *out, size_t out_len, const unsigned char *in, size_t len)
{
	if (out_len < 4 * ((len + 2) / 3) + 1)
		return sg_error_set(SG_ERR_USAGE, "base64 buffer too small");
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return SG_OK;
}

long sg_base64_decode(unsigned char *out, const char *b64, size_t len, int canonical)
{
	size_t pad;
	char *again;
	int n;

	if (len % 4 != 0 || len > INT32_MAX)
		return -1;
	if (len == 0)
		return 0;
	n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	pad = (size_t)(b64[len - 1] == '=') + (size_t)(b64[len - 2] == '=');
	if (n < 0 || (size_t)n < pad)
		return -1;
	n -= (int)pad;
	if (!canonical)
		return n;
	again = malloc(len + 1);
	if (again)
		EVP_EncodeBlock((unsigned char *)again, out, n);
	if (!again || strcmp(again, b64) != 0)
		n = -1;
	free(again);
	return n;
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

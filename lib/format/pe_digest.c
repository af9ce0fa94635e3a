/* A PE's Authenticode digest, from the file or from a pass; see include/signgate/pe_digest.h. */
#include "pe_digest.h"
#include "format_ops.h"
#include "signgate/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#define BLOCK  (1u << 20)
#define NONE  UINT64_MAX

/* The byte ranges [from, to) of a PE that its Authenticode digest covers, in order. */
struct span {
	uint64_t from, to;
};

enum { N_SPANS = 3 };

/* The spans of a PE whose hashed part ends at `end` (the certificate table, or the file's end). */
static void hashed_spans(struct span out[N_SPANS], const sg_format_info *info, uint64_t end)
{
	out[0] = (struct span){ 0, info->pe.checksum_offset };
	out[1] = (struct span){ info->pe.checksum_offset + 4, info->pe.certdir_offset };
	out[2] = (struct span){ info->pe.certdir_offset + 8, end };
}

static uint64_t round8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/* A PE the inspection described fully: the skipped fields lie in order before `end`. */
static int usable(const sg_format_info *info, uint64_t end)
{
	return info && sg_format_info_is(info, &sg_format_pe_ops) && info->pe.checksum_offset > 0 &&
	       info->pe.checksum_offset + 4 <= info->pe.certdir_offset &&
	       info->pe.certdir_offset + 8 <= end && end <= info->size;
}

/* Read exactly `len` bytes at `off`; 0, or an errno (EIO for a file that ended early). */
static int read_exact(int fd, unsigned char *buf, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int sg_pe_digest(unsigned char out[SG_PE_DIGEST_LEN], int fd, const sg_format_info *info,
		 const char *name)
{
	static const unsigned char zeros[8];
	uint64_t end = info && info->has_signature ? info->sig_offset : info ? info->size : 0;
	struct span spans[N_SPANS];
	EVP_MD_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	int error = SG_OK, e = 0;

	if (!usable(info, end))
		return sg_error_set(SG_ERR_USAGE, "%s: not an inspected PE image", name);
	hashed_spans(spans, info, end);
	if (!(buf = malloc(BLOCK)) || !(ctx = EVP_MD_CTX_new())) {
		error = sg_error_set(SG_ERR_NOMEM, "%s: out of memory", name);
		goto done;
	}
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto crypto;
	for (int i = 0; i < N_SPANS; i++) {
		for (uint64_t off = spans[i].from; off < spans[i].to;) {
			size_t n = spans[i].to - off < BLOCK ? (size_t)(spans[i].to - off) : BLOCK;
			if ((e = read_exact(fd, buf, n, off)) != 0) {
				error = sg_error_set(SG_ERR_IO, "%s: read at offset %" PRIu64 " failed: %s",
						     name, off, strerror(e));
				goto done;
			}
			if (!EVP_DigestUpdate(ctx, buf, n))
				goto crypto;
			off += n;
		}
	}
	/* An unsigned file is hashed as the signer will pad it. */
	if (!info->has_signature && !EVP_DigestUpdate(ctx, zeros, (size_t)(round8(end) - end)))
		goto crypto;
	if (!EVP_DigestFinal_ex(ctx, out, NULL))
		goto crypto;
	goto done;
crypto:
	error = sg_error_set(SG_ERR_CRYPTO, "%s: SHA-256 computation failed", name);
done:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return error;
}

/* ---- The digest taken from a pass that streams the file ---- */

static uint32_t le32_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int sg_pe_stream_init(sg_pe_stream *d)
{
	memset(d, 0, sizeof(*d));
	d->table_off = NONE;
	d->ctx = EVP_MD_CTX_new();
	if (!d->ctx || !EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(d->ctx);
		d->ctx = NULL;
		return sg_error_set(SG_ERR_NOMEM, "cannot set up a SHA-256 digest");
	}
	return SG_OK;
}

/*
 * The layout, as the headers in d->head say it: 1 when known, 0 when more
 * bytes are needed, -1 when the stream cannot be used (the caller falls
 * back to reading the file).
 */
static int stream_layout(sg_pe_stream *d, int at_end)
{
	uint64_t start, fixed;
	uint32_t off, size;

	if (d->head_len < 0x40)
		return at_end ? -1 : 0;
	start = (uint64_t)le32_at(d->head + 0x3c) + 4 + 20;
	if (start + 2 > SG_PE_STREAM_HEAD)
		return -1;
	if (d->head_len < start + 2)
		return at_end ? -1 : 0;
	fixed = d->head[start] == 0x0b && d->head[start + 1] == 0x01 ? 96
		: d->head[start] == 0x0b && d->head[start + 1] == 0x02 ? 112
									: 0;
	if (!fixed || start + fixed + 8 * 5 > SG_PE_STREAM_HEAD)
		return -1;
	if (d->head_len < start + fixed + 8 * 5)
		return at_end ? -1 : 0;
	d->checksum_off = start + 64;
	d->certdir_off = start + fixed + 8 * 4;
	off = le32_at(d->head + d->certdir_off);
	size = le32_at(d->head + d->certdir_off + 4);
	d->table_off = off || size ? off : NONE;
	return 1;
}

/* Hash the part of the chunk at `offset` that the digest covers. */
static void stream_hash(sg_pe_stream *d, const unsigned char *data, size_t len, uint64_t offset)
{
	struct span spans[N_SPANS] = { { 0, d->checksum_off },
				       { d->checksum_off + 4, d->certdir_off },
				       { d->certdir_off + 8, d->table_off } };
	uint64_t end = offset + len;

	for (int i = 0; i < N_SPANS && !d->failed; i++) {
		uint64_t from = spans[i].from > offset ? spans[i].from : offset;
		uint64_t to = spans[i].to < end ? spans[i].to : end;
		if (from < to && !EVP_DigestUpdate(d->ctx, data + (from - offset), (size_t)(to - from)))
			d->failed = 1;
	}
}

/* Keep the headers until the layout is known, then hash them and go on. */
static void stream_take(sg_pe_stream *d, const unsigned char *data, size_t len, uint64_t offset,
			int at_end)
{
	int known;

	if (d->hashing) {
		stream_hash(d, data, len, offset);
		return;
	}
	/* len 0: the end of a file shorter than the head (data may be NULL then) */
	if (offset < SG_PE_STREAM_HEAD && len > 0) {
		size_t n = len < SG_PE_STREAM_HEAD - offset ? len
							    : (size_t)(SG_PE_STREAM_HEAD - offset);
		memcpy(d->head + offset, data, n);
		d->head_len = (size_t)offset + n;
	}
	known = stream_layout(d, at_end || d->head_len == SG_PE_STREAM_HEAD);
	if (known < 0)
		d->failed = 1;
	if (known <= 0)
		return;
	d->hashing = 1;
	stream_hash(d, d->head, d->head_len, 0);
	if (offset + len > d->head_len)
		stream_hash(d, data + (d->head_len - offset), (size_t)(offset + len - d->head_len),
			    d->head_len);
}

void sg_pe_stream_update(void *arg, const unsigned char *data, size_t len, uint64_t offset)
{
	sg_pe_stream *d = arg;

	if (d->failed || !d->ctx)
		return;
	if (offset != d->seen) {
		d->failed = 1; /* chunks come in order, without gaps */
		return;
	}
	d->seen += len;
	stream_take(d, data, len, offset, 0);
}

int sg_pe_stream_finish(sg_pe_stream *d, unsigned char out[SG_PE_DIGEST_LEN],
			const sg_format_info *info)
{
	static const unsigned char zeros[8];
	uint64_t end = info->has_signature ? info->sig_offset : info->size;

	if (!d->failed && d->ctx && !d->hashing)
		stream_take(d, NULL, 0, d->seen, 1);
	/* What the stream assumed must be what the inspection found. */
	if (d->failed || !d->ctx || !d->hashing || !usable(info, end) || d->seen != info->size ||
	    d->checksum_off != info->pe.checksum_offset ||
	    d->certdir_off != info->pe.certdir_offset ||
	    (info->has_signature ? d->table_off != info->sig_offset : d->table_off != NONE))
		return sg_error_set(SG_ERR_USAGE, "the streamed digest does not apply");
	if ((!info->has_signature &&
	     !EVP_DigestUpdate(d->ctx, zeros, (size_t)(round8(info->size) - info->size))) ||
	    !EVP_DigestFinal_ex(d->ctx, out, NULL))
		return sg_error_set(SG_ERR_CRYPTO, "SHA-256 computation failed");
	return SG_OK;
}

void sg_pe_stream_free(sg_pe_stream *d)
{
	EVP_MD_CTX_free(d->ctx);
	d->ctx = NULL;
}

/* A PE's Authenticode digest and the signed-versus-original check; see include/signgate/pe_digest.h. */
#include "signgate/pe_digest.h"
#include "signgate/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#define BLOCK  (1u << 20)
#define WINDOW (8u << 20) /* a multiple of the page size */
#define NONE  UINT64_MAX

/* The byte ranges [from, to) of a PE that its Authenticode digest covers, in order. */
struct span {
	uint64_t from, to;
};

enum { N_SPANS = 3 };

/* The spans of a PE whose hashed part ends at `end` (the certificate table, or the file's end). */
static void hashed_spans(struct span out[N_SPANS], const sg_format_info *info, uint64_t end)
{
	out[0] = (struct span){ 0, info->pe_checksum_offset };
	out[1] = (struct span){ info->pe_checksum_offset + 4, info->pe_certdir_offset };
	out[2] = (struct span){ info->pe_certdir_offset + 8, end };
}

static uint64_t round8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/* A PE the inspection described fully: the skipped fields lie in order before `end`. */
static int usable(const sg_format_info *info, uint64_t end)
{
	return info && info->kind == SG_FORMAT_PE && info->pe_checksum_offset > 0 &&
	       info->pe_checksum_offset + 4 <= info->pe_certdir_offset &&
	       info->pe_certdir_offset + 8 <= end && end <= info->size;
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

int sg_pe_compare_init(sg_pe_compare *c, int orig_fd, const sg_format_info *orig)
{
	memset(c, 0, sizeof(*c));
	c->orig_fd = orig_fd;
	c->mismatch = NONE;
	if (!usable(orig, orig ? orig->size : 0) || orig->has_signature)
		return sg_error_set(SG_ERR_USAGE, "the original is not an inspected unsigned PE");
	c->orig = *orig;
	return SG_OK;
}

/*
 * Map the window of the original that holds offset `at`. The original is
 * the private copy in signgate's 0700 working folder, which nothing changes.
 */
static int map_window(sg_pe_compare *c, uint64_t at)
{
	void *p;

	if (c->map && at >= c->map_off && at < c->map_off + c->map_len)
		return 1;
	if (c->map)
		munmap((void *)c->map, c->map_len);
	c->map = NULL;
	c->map_off = at & ~(uint64_t)(WINDOW - 1);
	c->map_len = c->orig.size - c->map_off < WINDOW ? (size_t)(c->orig.size - c->map_off)
						       : WINDOW;
	p = mmap(NULL, c->map_len, PROT_READ, MAP_SHARED | MAP_POPULATE, c->orig_fd,
		 (off_t)c->map_off);
	if (p == MAP_FAILED) {
		c->read_error = errno;
		return 0;
	}
	c->map = p;
	return 1;
}

/* Note the first offset in [from, to) where the chunk at `base` differs from the original. */
static void compare_span(sg_pe_compare *c, const unsigned char *data, uint64_t base, uint64_t from,
			 uint64_t to)
{
	while (from < to && map_window(c, from)) {
		uint64_t end = c->map_off + c->map_len < to ? c->map_off + c->map_len : to;
		const unsigned char *orig = c->map + (from - c->map_off);
		const unsigned char *signed_bytes = data + (from - base);
		size_t n = (size_t)(end - from);

		if (memcmp(orig, signed_bytes, n) != 0) {
			for (size_t i = 0; i < n; i++)
				if (orig[i] != signed_bytes[i]) {
					c->mismatch = from + i;
					return;
				}
		}
		from = end;
	}
}

void sg_pe_compare_update(void *arg, const unsigned char *data, size_t len, uint64_t offset)
{
	sg_pe_compare *c = arg;
	uint64_t end = offset + len, orig_end = c->orig.size, pad_end = round8(orig_end);
	struct span spans[N_SPANS];

	c->seen += len;
	/* The first difference is all that is reported; after it, only count. */
	if (c->mismatch != NONE || c->read_error)
		return;
	hashed_spans(spans, &c->orig, orig_end);
	for (int i = 0; i < N_SPANS && c->mismatch == NONE && !c->read_error; i++) {
		uint64_t from = spans[i].from > offset ? spans[i].from : offset;
		uint64_t to = spans[i].to < end ? spans[i].to : end;
		if (from < to)
			compare_span(c, data, offset, from, to);
	}
	/* The signer's padding, hashed as zeros: it must be zeros. */
	for (uint64_t at = orig_end > offset ? orig_end : offset;
	     at < pad_end && at < end && c->mismatch == NONE; at++)
		if (data[at - offset] != 0)
			c->mismatch = at;
}

int sg_pe_compare_finish(sg_pe_compare *c, const sg_format_info *signed_info, const char *name)
{
	uint64_t table = round8(c->orig.size);

	if (c->read_error)
		return sg_error_set(SG_ERR_IO, "%s: cannot map the private copy to compare: %s",
				    name, strerror(c->read_error));
	if (c->mismatch != NONE)
		return sg_error_set(SG_ERR_VERIFY,
				    "%s: the signed file differs from the approved bytes at offset "
				    "%" PRIu64 " (outside what signing changes)",
				    name, c->mismatch);
	if (signed_info->kind != SG_FORMAT_PE || !signed_info->has_signature)
		return sg_error_set(SG_ERR_VERIFY, "%s: the signed file carries no signature", name);
	if (signed_info->pe_checksum_offset != c->orig.pe_checksum_offset ||
	    signed_info->pe_certdir_offset != c->orig.pe_certdir_offset)
		return sg_error_set(SG_ERR_VERIFY, "%s: signing moved the PE headers", name);
	if (signed_info->sig_offset != table)
		return sg_error_set(SG_ERR_VERIFY,
				    "%s: the certificate table is at offset %" PRIu64
				    ", not right after the approved bytes (%" PRIu64 ")",
				    name, signed_info->sig_offset, table);
	if (c->seen != signed_info->size)
		return sg_error_set(SG_ERR_IO,
				    "%s: %" PRIu64 " bytes were compared of a file of %" PRIu64
				    " (did it change while being read?)",
				    name, c->seen, signed_info->size);
	return SG_OK;
}

void sg_pe_compare_free(sg_pe_compare *c)
{
	if (c->map)
		munmap((void *)c->map, c->map_len);
	c->map = NULL;
	c->map_len = 0;
}

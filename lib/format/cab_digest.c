/* A cabinet's Authenticode digest and signature blob; see lib/format/cab_digest.h. */
#include "cab_digest.h"
#include "cab_internal.h"
#include "signgate/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/objects.h>

#define CHUNK (1u << 20)

/* Where the reserve ends: the hashed bytes resume there (56-59 are its last four). */
#define RESERVE_TAIL 56u

/* Hash the file's bytes [from, to), a chunk at a time. */
static int hash_range(EVP_MD_CTX *h, const struct src *s, uint64_t from, uint64_t to)
{
	size_t cap = from < to && to - from < CHUNK ? (size_t)(to - from) : CHUNK;
	unsigned char *buf = malloc(cap);
	int error = buf ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	while (!error && from < to) {
		size_t n = to - from < CHUNK ? (size_t)(to - from) : CHUNK;

		if ((error = sg_format_read_at(s, buf, n, from)) < 0)
			break;
		if (!EVP_DigestUpdate(h, buf, n))
			error = sg_error_set(SG_ERR_CRYPTO, "%s: hashing failed", s->name);
		from += n;
	}
	free(buf);
	return error;
}

/* A signed cabinet: "MSCF", bytes 8-33, then 56 up to the signature. */
static int hash_signed(EVP_MD_CTX *h, const struct src *s, const struct cab_layout *l,
		       const unsigned char *head)
{
	if (!EVP_DigestUpdate(h, head, 4) || !EVP_DigestUpdate(h, head + 8, 26))
		return sg_error_set(SG_ERR_CRYPTO, "%s: hashing failed", s->name);
	return hash_range(h, s, RESERVE_TAIL, l->sig_offset);
}

/*
 * An unsigned cabinet, as it will be signed: the header with the reserve's
 * 24 bytes counted in cbCabinet, coffFiles and each coffCabStart, and the
 * RESERVE_PRESENT flag; the reserve's last four bytes (zeros); then the
 * file from the CFFOLDER array on, the folders' offsets moved by 24.
 */
static int hash_unsigned(EVP_MD_CTX *h, const struct src *s, const struct cab_layout *l,
			 const unsigned char *head)
{
	const uint32_t shift = 4 + CAB_RESERVE_LEN;
	unsigned char hdr[30], folder[CAB_FOLDER_LEN];
	int ok, error;

	if (l->end + shift > UINT32_MAX)
		return sg_format_bad(s, "too large to sign: the signed cabinet would pass 4 GiB");
	memcpy(hdr, head, 4);
	put_le32(hdr + 4, (uint32_t)l->end + shift);
	memcpy(hdr + 8, head + 12, 4);
	put_le32(hdr + 12, l->coff_files + shift);
	memcpy(hdr + 16, head + 20, 14);
	hdr[26] |= CAB_FLAG_RESERVE;
	ok = EVP_DigestUpdate(h, hdr, sizeof(hdr)) && EVP_DigestUpdate(h, "\0\0\0\0", 4);
	for (unsigned i = 0; ok && i < l->n_folders; i++) {
		uint64_t at = l->folders_at + (uint64_t)i * CAB_FOLDER_LEN;

		if ((error = sg_format_read_at(s, folder, sizeof(folder), at)) < 0)
			return error;
		if ((uint64_t)le32(folder) + shift > UINT32_MAX)
			return sg_format_bad(s, "folder %u's coffCabStart is out of range", i + 1);
		put_le32(folder, le32(folder) + shift);
		ok = EVP_DigestUpdate(h, folder, sizeof(folder));
	}
	if (!ok)
		return sg_error_set(SG_ERR_CRYPTO, "%s: hashing failed", s->name);
	return hash_range(h, s, l->coff_files, l->end);
}

int sg_cab_digest(unsigned char md[SG_CAB_DIGEST_MAX], size_t *md_len, int fd, int md_nid,
		  const char *name)
{
	const EVP_MD *type = sg_format_md(md_nid);
	unsigned char head[CAB_HEADER_LEN];
	struct cab_layout l;
	EVP_MD_CTX *h = NULL;
	unsigned len = 0;
	struct src s;
	int error;

	*md_len = 0;
	if (!type)
		return sg_error_set(SG_ERR_USAGE, "%s: unsupported digest algorithm for a cabinet",
				    name ? name : "(unnamed)");
	if ((error = sg_format_src_of(&s, fd, name)) < 0 ||
	    (error = sg_cab_header_read(&l, &s)) < 0 ||
	    (error = sg_format_read_at(&s, head, sizeof(head), 0)) < 0)
		return error;
	if (!(h = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(h, type, NULL)) {
		EVP_MD_CTX_free(h);
		return sg_error_set(SG_ERR_CRYPTO, "%s: cannot start the digest", s.name);
	}
	error = l.reserve ? hash_signed(h, &s, &l, head) : hash_unsigned(h, &s, &l, head);
	if (!error && !EVP_DigestFinal_ex(h, md, &len))
		error = sg_error_set(SG_ERR_CRYPTO, "%s: hashing failed", s.name);
	EVP_MD_CTX_free(h);
	if (!error)
		*md_len = len;
	return error;
}

int sg_cab_signature_read(unsigned char **out, size_t *len, int fd, size_t max, const char *name)
{
	struct cab_layout l;
	struct src s;
	int error;

	*out = NULL;
	*len = 0;
	if ((error = sg_format_src_of(&s, fd, name)) < 0 ||
	    (error = sg_cab_header_read(&l, &s)) < 0)
		return error;
	if (!l.reserve)
		return sg_format_bad(&s, "the cabinet carries no signature");
	if (l.sig_size > max)
		return sg_format_bad(&s, "the cabinet's signature (%u bytes) is larger than %zu",
				     (unsigned)l.sig_size, max);
	if (!(*out = malloc(l.sig_size)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if ((error = sg_format_read_at(&s, *out, l.sig_size, l.sig_offset)) < 0) {
		free(*out);
		*out = NULL;
		return error;
	}
	*len = l.sig_size;
	return SG_OK;
}

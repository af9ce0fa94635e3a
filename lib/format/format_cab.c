/*
 * The structure check of a cabinet (.cab), before anything else reads it.
 *
 * Everything is read with bounded preads: the 36-byte CFHEADER and its
 * 20-byte reserve, each CFFOLDER (8 bytes), each CFFILE (16 bytes and a
 * name of at most 256), and the 8-byte header of each CFDATA block. The
 * folders' data must lie inside the cabinet, after the CFFILE entries, in
 * order and without overlapping, so the blocks walked are at most the
 * file's size / 8; memory is one small record per folder (at most 65535).
 *
 * Refused: a cabinet that is part of a multi-cabinet set (osslsigncode
 * cannot sign one, and its digest of the set's names differs between
 * signing and verifying), a reserve area other than the one an Authenticode
 * signature uses (osslsigncode cannot sign it), per-folder or per-block
 * reserves, non-zero bytes where the Authenticode digest skips the header
 * (they could change after signing unnoticed), a cbCabinet that is not the
 * file's size (or the signature's offset), and anything out of bounds.
 */
#include "cab_internal.h"
#include "format_ops.h"
#include "cab_digest.h"
#include "signgate/error.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <openssl/obj_mac.h>

#define CAB_FILE_LEN  16u  /* CFFILE without its name */
#define CAB_NAME_MAX  256u /* a CFFILE name with its NUL */
#define CAB_DATA_LEN  8u   /* CFDATA without a reserve */
#define CAB_BLOCK_MAX 0x8000u
#define CAB_SIG_MAX   (64u << 20) /* no Authenticode signature is that large */

/* The reserve's first field, and fields the digest skips that must be zero. */
static const unsigned char reserve_magic[4] = { 0x00, 0x00, 0x10, 0x00 };

static int all_zero(const unsigned char *p, size_t n)
{
	while (n > 0 && *p == 0)
		p++, n--;
	return n == 0;
}

/* The 20 bytes after cbCFHeader/cbCFFolder/cbCFData in a signed cabinet. */
static int check_reserve(struct cab_layout *out, const struct src *s)
{
	unsigned char r[4 + CAB_RESERVE_LEN];
	char what[80];
	int error;

	if (s->size < CAB_HEADER_LEN + sizeof(r))
		return sg_format_beyond_eof(s, "the cabinet header's reserve area",
					    CAB_HEADER_LEN + sizeof(r));
	if ((error = sg_format_read_at(s, r, sizeof(r), CAB_HEADER_LEN)) < 0)
		return error;
	if (le16(r) != CAB_RESERVE_LEN || r[2] != 0 || r[3] != 0)
		return sg_format_bad(s,
				     "a reserve area other than an Authenticode signature's "
				     "(cbCFHeader %u, cbCFFolder %u, cbCFData %u; a signature's is "
				     "20, 0, 0): osslsigncode cannot sign it",
				     le16(r), r[2], r[3]);
	if (memcmp(r + 4, reserve_magic, sizeof(reserve_magic)) != 0 || !all_zero(r + 16, 8))
		return sg_format_bad(s, "the reserve area is not an Authenticode signature's "
					"(its fixed fields are not 00 00 10 00 and zeros)");
	out->reserve = 1;
	out->sig_offset = le32(r + 8);
	out->sig_size = le32(r + 12);
	if (out->sig_offset == 0 || out->sig_size == 0)
		return sg_format_bad(s,
				     "the reserve area announces a signature at offset %" PRIu32
				     " of %" PRIu32 " bytes: no signature",
				     out->sig_offset, out->sig_size);
	if ((uint64_t)out->sig_offset + out->sig_size != s->size || out->sig_size > CAB_SIG_MAX)
		return sg_format_bad(s,
				     "the signature (offset %" PRIu32 ", %" PRIu32
				     " bytes) does not end at the end of the file (%" PRIu64 " bytes)",
				     out->sig_offset, out->sig_size, s->size);
	/*
	 * One DER element (the PKCS#7) and nothing after it but zeros to the next
	 * 8 bytes, as osslsigncode writes it: bytes after the DER are outside the
	 * digest (CVE-2013-3900 for a PE), and a blob that is no DER at all is no
	 * signature ("signed" must mean more than a reserve with zeros behind it).
	 */
	snprintf(what, sizeof(what), "the signature blob at offset %" PRIu32 " (%" PRIu32 " bytes)",
		 out->sig_offset, out->sig_size);
	return sg_format_der_region(s, what, out->sig_offset, out->sig_size,
				    (uint64_t)out->sig_offset + out->sig_size, NULL);
}

/* Fixed fields: magic, reserved words, version, flags, counts. */
static int check_fixed(const struct src *s, const unsigned char *h)
{
	uint16_t flags = le16(h + 30);

	if (memcmp(h, "MSCF", 4) != 0)
		return sg_format_bad(s, "not a cabinet: it does not start with \"MSCF\"");
	if (!all_zero(h + 4, 4) || !all_zero(h + 12, 4) || !all_zero(h + 20, 4))
		return sg_format_bad(s, "the cabinet header's reserved fields are not zero");
	if (h[25] != 1 || h[24] != 3)
		return sg_format_bad(s, "cabinet format version %u.%u (only 1.3 exists)", h[25],
				     h[24]);
	if (flags & (CAB_FLAG_PREV | CAB_FLAG_NEXT))
		return sg_format_bad(s, "part of a multi-cabinet set (flags 0x%04x): signgate "
					"signs single cabinets only",
				     flags);
	if (flags & ~CAB_FLAG_RESERVE)
		return sg_format_bad(s, "unknown cabinet header flags 0x%04x", flags);
	if (le16(h + 34) != 0)
		return sg_format_bad(s, "iCabinet is %u: a single cabinet is number 0", le16(h + 34));
	if (le16(h + 26) == 0 || le16(h + 28) == 0)
		return sg_format_bad(s, "an empty cabinet (%u folders, %u files)", le16(h + 26),
				     le16(h + 28));
	return SG_OK;
}

int sg_cab_header_read(struct cab_layout *out, const struct src *s)
{
	unsigned char h[CAB_HEADER_LEN];
	uint64_t want;
	int error;

	memset(out, 0, sizeof(*out));
	if (s->size < CAB_HEADER_LEN)
		return sg_format_beyond_eof(s, "the cabinet header", CAB_HEADER_LEN);
	if ((error = sg_format_read_at(s, h, sizeof(h), 0)) < 0 || (error = check_fixed(s, h)) < 0)
		return error;
	out->flags = le16(h + 30);
	out->n_folders = le16(h + 26);
	out->n_files = le16(h + 28);
	out->end = le32(h + 8);
	out->coff_files = le32(h + 16);
	out->folders_at = CAB_HEADER_LEN;
	if ((out->flags & CAB_FLAG_RESERVE) && (error = check_reserve(out, s)) < 0)
		return error;
	if (out->reserve)
		out->folders_at += 4 + CAB_RESERVE_LEN;
	want = out->reserve ? out->sig_offset : s->size;
	if (out->end != want)
		return sg_format_bad(s,
				     "cbCabinet says %" PRIu64 " bytes, but the cabinet has %" PRIu64
				     "%s",
				     out->end, want,
				     out->reserve ? " (up to its signature)" : " (the file's size)");
	want = out->folders_at + (uint64_t)CAB_FOLDER_LEN * out->n_folders;
	if (out->coff_files != want)
		return sg_format_bad(s,
				     "coffFiles is %" PRIu32 ", not %" PRIu64
				     ", the end of the %u CFFOLDER entries",
				     out->coff_files, want, out->n_folders);
	if (want > out->end)
		return sg_format_beyond_eof(s, "the CFFOLDER entries", want);
	return SG_OK;
}

/* One folder's data as its CFFOLDER and CFDATA blocks describe it. */
struct folder {
	uint64_t start, end; /* its CFDATA blocks in the file */
	uint64_t size;       /* the uncompressed bytes */
	uint16_t blocks;
	uint16_t compress;
};

/* The CFFILE entries: names inside 256 bytes, folder numbers in range. */
static int check_files(uint64_t *files_end, const struct src *s, const struct cab_layout *l,
		       const struct folder *folders, int sizes_known)
{
	unsigned char e[CAB_FILE_LEN + CAB_NAME_MAX];
	uint64_t at = l->coff_files;
	int error;

	for (unsigned i = 0; i < l->n_files; i++) {
		size_t n = l->end - at < sizeof(e) ? (size_t)(l->end - at) : sizeof(e);
		const unsigned char *nul;
		uint16_t folder;

		if (n < CAB_FILE_LEN + 1)
			return sg_format_beyond_eof(s, "the CFFILE entries", at + CAB_FILE_LEN + 1);
		if ((error = sg_format_read_at(s, e, n, at)) < 0)
			return error;
		nul = memchr(e + CAB_FILE_LEN, 0, n - CAB_FILE_LEN);
		if (!nul)
			return sg_format_bad(s, "file %u of the cabinet has no name of at most %u "
						"bytes",
					     i + 1, CAB_NAME_MAX - 1);
		folder = le16(e + 8);
		if (folder >= l->n_folders)
			return sg_format_bad(s,
					     "file %u of the cabinet is in folder %u, and there are "
					     "%u (0xfffd-0xffff continue another cabinet)",
					     i + 1, folder, l->n_folders);
		if (sizes_known &&
		    (uint64_t)le32(e + 4) + le32(e) > folders[folder].size)
			return sg_format_bad(s,
					     "file %u of the cabinet (%" PRIu32 " bytes at %" PRIu32
					     ") lies beyond its folder's %" PRIu64 " bytes",
					     i + 1, le32(e), le32(e + 4), folders[folder].size);
		at += (uint64_t)(nul - e) + 1;
	}
	*files_end = at;
	return SG_OK;
}

/*
 * Walk folder `f`'s CFDATA blocks from f->start: each inside [f->start,
 * limit). The headers are read through `w` (a cabinet of 1-byte blocks
 * has millions: one pread per 64 KiB, not one per header).
 */
static int walk_blocks(struct folder *f, unsigned index, const struct src *s, uint64_t limit,
		       struct sg_format_window *w)
{
	unsigned char d[CAB_DATA_LEN];
	uint64_t at = f->start;
	int error;

	for (unsigned b = 0; b < f->blocks; b++) {
		uint16_t cb, un;

		if (at + CAB_DATA_LEN > limit)
			return sg_format_bad(s,
					     "folder %u's data block %u starts at %" PRIu64
					     ", outside its part of the cabinet (up to %" PRIu64 ")",
					     index, b + 1, at, limit);
		if ((error = sg_format_read_window(s, w, d, sizeof(d), at, limit)) < 0)
			return error;
		cb = le16(d + 4);
		un = le16(d + 6);
		if (cb == 0 || un > CAB_BLOCK_MAX || (f->compress == 0 && cb != un))
			return sg_format_bad(s,
					     "folder %u's data block %u is malformed (%u bytes "
					     "holding %u)",
					     index, b + 1, cb, un);
		at += CAB_DATA_LEN + cb;
		if (at > limit)
			return sg_format_bad(s,
					     "folder %u's data block %u ends at %" PRIu64
					     ", outside its part of the cabinet (up to %" PRIu64 ")",
					     index, b + 1, at, limit);
		f->size += un;
	}
	f->end = at;
	return SG_OK;
}

/* The CFFOLDER entries: a known compression, data in order after `files_end`. */
static int check_folders(struct folder *folders, const struct src *s, const struct cab_layout *l,
			 uint64_t files_end)
{
	unsigned char e[CAB_FOLDER_LEN];
	uint64_t floor = files_end;
	struct sg_format_window w = { 0 };
	int error = SG_OK;

	for (unsigned i = 0; i < l->n_folders && !error; i++) {
		struct folder *f = &folders[i];

		if ((error = sg_format_read_at(s, e, sizeof(e),
					       l->folders_at + (uint64_t)i * CAB_FOLDER_LEN)) < 0)
			break;
		f->start = le32(e);
		f->blocks = le16(e + 4);
		f->compress = le16(e + 6) & 0x000f;
		if (f->compress > 3)
			error = sg_format_bad(s, "folder %u: unknown compression type %u", i + 1,
					      f->compress);
		else if (f->start < floor || f->start > l->end)
			error = sg_format_bad(s,
					      "folder %u's data (coffCabStart %" PRIu64
					      ") is not between %" PRIu64
					      " and the cabinet's end %" PRIu64 "%s",
					      i + 1, f->start, floor, l->end,
					      i ? " (folders in order, not overlapping)"
						: " (after the CFFILE entries)");
		else
			error = walk_blocks(f, i + 1, s, l->end, &w);
		floor = f->end;
	}
	sg_format_window_free(&w);
	return error;
}

int sg_format_inspect_cab(const struct src *s, sg_format_info *out)
{
	struct cab_layout l;
	struct folder *folders = NULL;
	uint64_t files_end = 0;
	int error = sg_cab_header_read(&l, s);

	if (error < 0)
		return error;
	if (!(folders = calloc(l.n_folders, sizeof(*folders))))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	/* Where the files end bounds where the data may start; then their sizes. */
	error = check_files(&files_end, s, &l, folders, 0);
	if (!error)
		error = check_folders(folders, s, &l, files_end);
	if (!error)
		error = check_files(&files_end, s, &l, folders, 1);
	free(folders);
	if (error < 0)
		return error;
	out->has_signature = l.reserve;
	out->sig_offset = l.sig_offset;
	out->sig_size = l.sig_size;
	return SG_OK;
}

/* ---- the table row ----------------------------------------------------- */

static int cab_detect(const unsigned char *head, size_t n, const char *name)
{
	(void)name;
	return n >= 4 && memcmp(head, "MSCF", 4) == 0;
}

/* A cabinet has one digest, whatever the signing: the one its signed form carries. */
static int cab_digest(unsigned char md[SG_FORMAT_DIGEST_MAX], size_t *md_len, int fd,
		      const sg_format_info *info, sg_format_digest_use use, const char *name)
{
	(void)info;
	(void)use;
	return sg_cab_digest(md, md_len, fd, NID_sha256, name);
}

/* The signature blob as stored: the DER, then zeros up to 8 bytes. */
static int cab_signature_read(unsigned char **out, size_t *len, size_t *der_at, size_t *der_len,
			      int fd, const sg_format_info *info, size_t max, const char *name)
{
	int error;

	(void)info;
	*der_at = 0;
	*der_len = 0;
	if ((error = sg_cab_signature_read(out, len, fd, max, name)) < 0)
		return error;
	*der_len = (size_t)sg_format_der_len(*out, *len);
	return SG_OK;
}

static int cab_container_holds(const unsigned char *box, size_t len, const unsigned char *der,
			       size_t der_len)
{
	size_t pad = (8 - der_len % 8) % 8;

	if (len != der_len + pad || memcmp(box, der, der_len) != 0)
		return 0;
	for (size_t i = der_len; i < len; i++)
		if (box[i] != 0)
			return 0;
	return 1;
}

static const char *const cab_ext[] = { ".cab", NULL };

/* SpcCabData: the SpcLink file "<<<Obsolete>>>", as osslsigncode's cab.c builds it */
static const sg_spc_content cab_content = {
	.name = "CAB", .what = "a cabinet", .shape = SG_SPC_CAB_DATA
};

const struct sg_format_ops sg_format_cab_ops = {
	.name = "cab",
	.what = "a cabinet",
	.extensions = cab_ext,
	.detect = cab_detect,
	.clsid = NULL,
	.inspect = sg_format_inspect_cab,
	.digest = cab_digest,
	.content = &cab_content,
	.signature_read = cab_signature_read,
	.container_holds = cab_container_holds,
	.container = "signature blob",
	/* the blob is read by signgate itself: the structure check found it */
	.extracts_own = 1,
	/* osslsigncode attach-signature, keyless: it inserts the reserve */
	.attach_own = NULL,
	.dse_when_nested = 0,
};

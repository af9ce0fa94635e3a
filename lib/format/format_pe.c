/*
 * The PE row (.exe, .dll; NSIS, Inno Setup and 7-Zip SFX installers are PE
 * images): structure check, signgate's own digest (pe_digest.c), the
 * certificate table as the signature's container, and signgate's own
 * in-place attachment (attach_pe.c). See format_ops.h.
 */
#include "signgate/error.h"
#include "attach.h"
#include "pe_digest.h"
#include "format_ops.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PE_DOS_SIZE      64
#define PE_COFF_SIZE     20
#define PE_SECTION_SIZE  40
#define PE_MAX_OPT_SIZE  240 /* PE32+ with 16 data directories */
#define PE_MAX_DIRS      16
#define PE_CERT_DIR      4
#define PE_CHECKSUM_AT   64 /* in the optional header, PE32 and PE32+ alike */
#define PE_MAX_CERTS     64
#define WIN_CERT_REV_2_0 0x0200
#define WIN_CERT_PKCS7   2

struct pe {
	uint32_t nt; /* e_lfanew: file offset of "PE\0\0" */
	uint16_t nsections;
	uint16_t opt_size;
	uint32_t cert_off; /* security directory: a file offset, not an RVA */
	uint32_t cert_size;
};

static int pe_headers(const struct src *s, struct pe *pe)
{
	unsigned char dos[PE_DOS_SIZE], nt[4 + PE_COFF_SIZE];
	int error;

	if (s->size < PE_DOS_SIZE)
		return sg_format_beyond_eof(s, "DOS header", PE_DOS_SIZE);
	if ((error = sg_format_read_at(s, dos, sizeof(dos), 0)) < 0)
		return error;
	pe->nt = le32(dos + 0x3c);
	if (pe->nt < PE_DOS_SIZE)
		return sg_format_bad(s, "bad e_lfanew 0x%x: inside the DOS header", pe->nt);
	if ((uint64_t)pe->nt + sizeof(nt) > s->size)
		return sg_format_bad(s,
				     "truncated: PE header at e_lfanew 0x%x ends beyond the end "
				     "of the file (%" PRIu64 " bytes)",
				     pe->nt, s->size);
	if ((error = sg_format_read_at(s, nt, sizeof(nt), pe->nt)) < 0)
		return error;
	if (memcmp(nt, "PE\0\0", 4) != 0)
		return sg_format_bad(
			s, "MZ file without a PE header (no \"PE\\0\\0\" at e_lfanew 0x%x)",
			pe->nt);
	pe->nsections = le16(nt + 4 + 2);
	pe->opt_size = le16(nt + 4 + 16);
	if (pe->nsections == 0)
		return sg_format_bad(s, "PE image has no sections");
	return SG_OK;
}

static int pe_optional(const struct src *s, struct pe *pe, sg_format_info *out)
{
	unsigned char opt[PE_MAX_OPT_SIZE];
	uint64_t start = (uint64_t)pe->nt + 4 + PE_COFF_SIZE;
	uint32_t fixed, ndirs;
	uint16_t magic;
	int error;

	if (start + pe->opt_size > s->size)
		return sg_format_beyond_eof(s, "optional header", start + pe->opt_size);
	if (pe->opt_size < 2)
		return sg_format_bad(s, "SizeOfOptionalHeader %u is too small", pe->opt_size);
	error = sg_format_read_at(s, opt, pe->opt_size < sizeof(opt) ? pe->opt_size : sizeof(opt),
				  start);
	if (error < 0)
		return error;
	magic = le16(opt);
	if (magic != 0x10b && magic != 0x20b)
		return sg_format_bad(
			s, "unknown optional header magic 0x%04x (not PE32 0x10b or PE32+ 0x20b)",
			magic);
	out->pe.bits = magic == 0x10b ? 32 : 64;
	fixed = magic == 0x10b ? 96 : 112;
	if (pe->opt_size < fixed)
		return sg_format_bad(
			s,
			"SizeOfOptionalHeader %u is smaller than a PE%s optional header (%u bytes)",
			pe->opt_size, magic == 0x10b ? "32" : "32+", fixed);
	ndirs = le32(opt + fixed - 4);
	/* osslsigncode reads entry 4 unconditionally; Windows knows only 16 */
	if (ndirs <= PE_CERT_DIR || ndirs > PE_MAX_DIRS)
		return sg_format_bad(
			s,
			"NumberOfRvaAndSizes %u is not sane (must be 5..16 to hold the "
			"certificate table entry)",
			ndirs);
	if (pe->opt_size < fixed + 8 * ndirs)
		return sg_format_bad(
			s,
			"SizeOfOptionalHeader %u is too small for %u data directories (needs %u)",
			pe->opt_size, ndirs, fixed + 8 * ndirs);
	out->pe.checksum_offset = start + PE_CHECKSUM_AT;
	out->pe.certdir_offset = start + fixed + 8 * PE_CERT_DIR;
	pe->cert_off = le32(opt + fixed + 8 * PE_CERT_DIR);
	pe->cert_size = le32(opt + fixed + 8 * PE_CERT_DIR + 4);
	return SG_OK;
}

/* The 8-byte section name with anything unprintable as '?', or "#index" when empty. */
static void section_name(char out[12], const unsigned char *raw, unsigned index)
{
	int i;

	for (i = 0; i < 8 && raw[i]; i++)
		out[i] = raw[i] >= 0x20 && raw[i] < 0x7f ? (char)raw[i] : '?';
	out[i] = '\0';
	if (i == 0)
		snprintf(out, 12, "#%u", index);
}

static int pe_section(const struct src *s, const struct pe *pe, const unsigned char *sec,
		      unsigned index)
{
	uint32_t raw_size = le32(sec + 16), raw_ptr = le32(sec + 20);
	uint64_t end = (uint64_t)raw_ptr + raw_size;
	char name[12], what[32];

	if (raw_size == 0)
		return SG_OK;
	section_name(name, sec, index);
	if (end > s->size) {
		snprintf(what, sizeof(what), "section %s", name);
		return sg_format_beyond_eof(s, what, end);
	}
	if (pe->cert_off != 0 && end > pe->cert_off)
		return sg_format_bad(
			s,
			"certificate table at offset %u overlaps section %s (ends at %" PRIu64 ")",
			pe->cert_off, name, end);
	return SG_OK;
}

static int pe_sections(const struct src *s, const struct pe *pe)
{
	unsigned char sec[PE_SECTION_SIZE];
	uint64_t table = (uint64_t)pe->nt + 4 + PE_COFF_SIZE + pe->opt_size;
	uint64_t end = table + (uint64_t)pe->nsections * PE_SECTION_SIZE;
	int error;

	if (end > s->size)
		return sg_format_beyond_eof(s, "section table", end);
	if (pe->cert_off != 0 && pe->cert_off < end)
		return sg_format_bad(
			s,
			"certificate table at offset %u overlaps the PE headers (end at %" PRIu64
			")",
			pe->cert_off, end);
	for (unsigned i = 0; i < pe->nsections; i++) {
		error = sg_format_read_at(s, sec, sizeof(sec),
					  table + (uint64_t)i * PE_SECTION_SIZE);
		if (error < 0)
			return error;
		if ((error = pe_section(s, pe, sec, i)) < 0)
			return error;
	}
	return SG_OK;
}

static int pe_cert_entry(const struct src *s, uint64_t pos, uint64_t end, uint32_t *len)
{
	unsigned char h[8];
	uint16_t rev, type;
	int error;

	if (end - pos < sizeof(h))
		return sg_format_bad(
			s, "certificate table has %" PRIu64 " stray bytes at offset %" PRIu64,
			end - pos, pos);
	if ((error = sg_format_read_at(s, h, sizeof(h), pos)) < 0)
		return error;
	*len = le32(h);
	rev = le16(h + 4);
	type = le16(h + 6);
	if (*len < sizeof(h) || *len > end - pos)
		return sg_format_bad(s,
				     "certificate entry at offset %" PRIu64
				     " has length %u (must be 8..%" PRIu64 ")",
				     pos, *len, end - pos);
	if (rev != WIN_CERT_REV_2_0)
		return sg_format_bad(s,
				     "certificate entry at offset %" PRIu64
				     " has revision 0x%04x, not 0x0200",
				     pos, rev);
	if (type != WIN_CERT_PKCS7)
		return sg_format_bad(s,
				     "certificate entry at offset %" PRIu64
				     " has type %u, not 2 (PKCS_SIGNED_DATA)",
				     pos, type);
	return SG_OK;
}

/*
 * The entry must hold one DER PKCS#7 and nothing after it but zero padding
 * to the next 8-byte boundary: data hidden there is outside the Authenticode
 * digest and invisible to the signature check (CVE-2013-3900).
 */
static int pe_cert_content(const struct src *s, uint64_t cert_off, uint64_t pos, uint32_t len,
			   uint64_t end)
{
	uint64_t entry_end = (pos + len + 7) & ~(uint64_t)7;
	char what[64];

	/*
	 * dwLength may exclude the padding to the next 8-byte boundary, but the
	 * table holds it: its size is the sum of the entries' dwLength each
	 * rounded up to 8 (PE format; osslsigncode calls any other table
	 * "corrupted" and reads no signature from it).
	 */
	if (entry_end > end)
		return sg_format_bad(
			s,
			"certificate table (offset %u, size %u) ends inside the padding "
			"of its entry at offset %" PRIu64 " (dwLength %u): its size must "
			"be the sum of its entries' lengths each rounded up to 8 (%" PRIu64
			" here)",
			(unsigned)cert_off, (unsigned)(end - cert_off), pos, len,
			entry_end - cert_off);
	snprintf(what, sizeof(what), "certificate entry at offset %" PRIu64, pos);
	return sg_format_der_region(s, what, pos + 8, len - 8, entry_end, NULL);
}

static int pe_certs(const struct src *s, const struct pe *pe, sg_format_info *out)
{
	uint64_t pos = pe->cert_off, end = (uint64_t)pe->cert_off + pe->cert_size, second = 0;
	unsigned count = 0;
	uint32_t len = 0;
	int error;

	if (pe->cert_off == 0 && pe->cert_size == 0)
		return SG_OK;
	if (pe->cert_off == 0 || pe->cert_size == 0)
		return sg_format_bad(s,
				     "certificate table entry is inconsistent (offset %u, size %u)",
				     pe->cert_off, pe->cert_size);
	if (end > s->size)
		return sg_format_beyond_eof(s, "certificate table", end);
	if (pe->cert_off % 8 != 0)
		return sg_format_bad(s, "certificate table offset %u is not 8-byte aligned",
				     pe->cert_off);
	/* since MS12-024 the table must be last; osslsigncode ignores it otherwise */
	if (end != s->size)
		return sg_format_bad(s,
				     "certificate table (offset %u, size %u) is not at the end of "
				     "the file (%" PRIu64 " bytes): signers and Windows ignore it",
				     pe->cert_off, pe->cert_size, s->size);
	while (pos < end) {
		if (++count > PE_MAX_CERTS)
			return sg_format_bad(s, "certificate table has more than %d entries",
					     PE_MAX_CERTS);
		if (count == 2)
			second = pos;
		if ((error = pe_cert_entry(s, pos, end, &len)) < 0 ||
		    (error = pe_cert_content(s, pe->cert_off, pos, len, end)) < 0)
			return error;
		/* dwLength may exclude the padding to the next 8-byte boundary */
		pos = (pos + len + 7) & ~(uint64_t)7;
	}
	/*
	 * One entry: Windows checks only the first, osslsigncode fails on more
	 * when it signs, and a second one is a place to hide a signature that
	 * some tools would show and Windows would not judge.
	 */
	if (count > 1)
		return sg_format_bad(s,
				     "certificate table holds %u entries (the second at offset "
				     "%" PRIu64 "); only one is allowed: Windows checks only the "
				     "first, and osslsigncode cannot sign such a file",
				     count, second);
	out->has_signature = 1;
	out->sig_offset = pe->cert_off;
	out->sig_size = pe->cert_size;
	return SG_OK;
}

static int pe_inspect(const struct src *s, sg_format_info *out)
{
	struct pe pe = { 0 };
	int error;

	if ((error = pe_headers(s, &pe)) < 0)
		return error;
	if ((error = pe_optional(s, &pe, out)) < 0)
		return error;
	if ((error = pe_sections(s, &pe)) < 0)
		return error;
	return pe_certs(s, &pe, out);
}

static int pe_detect(const unsigned char *head, size_t n, const char *name)
{
	(void)name;
	return n >= 2 && head[0] == 'M' && head[1] == 'Z';
}

/* A PE's digest is the same whatever the signing: the table is never hashed. */
static int pe_digest(unsigned char md[SG_FORMAT_DIGEST_MAX], size_t *md_len, int fd,
		     const sg_format_info *info, sg_format_digest_use use, const char *name)
{
	(void)use;
	*md_len = SG_PE_DIGEST_LEN;
	return sg_pe_digest(md, fd, info, name);
}

/* The certificate table as stored; the DER follows the WIN_CERTIFICATE header. */
static int pe_signature_read(unsigned char **out, size_t *len, size_t *der_at, size_t *der_len,
			     int fd, const sg_format_info *info, size_t max, const char *name)
{
	size_t at = 0;
	uint32_t dw;

	*out = NULL;
	*len = *der_len = 0;
	*der_at = 8;
	if (!info->has_signature)
		return sg_error_set(SG_ERR_FORMAT, "%s: has no certificate table", name);
	if (info->sig_size > max)
		return sg_error_set(SG_ERR_FORMAT, "%s: the certificate table is too large", name);
	if (!(*out = malloc(info->sig_size ? (size_t)info->sig_size : 1)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	while (at < info->sig_size) {
		ssize_t n = pread(fd, *out + at, (size_t)info->sig_size - at,
				  (off_t)(info->sig_offset + at));

		if (n <= 0) {
			free(*out);
			*out = NULL;
			return sg_error_set(SG_ERR_IO, "%s: cannot read the certificate table",
					    name);
		}
		at += (size_t)n;
	}
	*len = at;
	/* the structure check took the table apart: one entry of dwLength bytes */
	dw = at >= 8 ? le32(*out) : 0;
	*der_len = dw > 8 && dw <= at ? dw - 8 : 0;
	return SG_OK;
}

/* One WIN_CERTIFICATE of `der` (dwLength with or without the padding), zero padding. */
static int pe_container_holds(const unsigned char *box, size_t len, const unsigned char *der,
			      size_t der_len)
{
	size_t pad = (8 - der_len % 8) % 8, at = 0;
	uint32_t dw;

	if (len != 8 + der_len + pad)
		return 0;
	dw = le32(box);
	while (at < pad && box[8 + der_len + at] == 0)
		at++;
	return (dw == 8 + der_len || dw == 8 + der_len + pad) &&
	       le16(box + 4) == WIN_CERT_REV_2_0 && le16(box + 6) == WIN_CERT_PKCS7 &&
	       memcmp(box + 8, der, der_len) == 0 && at == pad;
}

/* .exe only: --recursive picks up installers, not the DLLs beside them */
static const char *const pe_ext[] = { ".exe", NULL };

/* SpcPeImageData */
static const sg_spc_content pe_content = { .name = "PE",
					   .what = "a PE",
					   .shape = SG_SPC_PE_IMAGE_DATA };

const struct sg_format_ops sg_format_pe_ops = {
	.name = "pe",
	.what = "a PE image",
	.extensions = pe_ext,
	.detect = pe_detect,
	.clsid = NULL,
	.inspect = pe_inspect,
	.digest = pe_digest,
	.content = &pe_content,
	.signature_read = pe_signature_read,
	.container_holds = pe_container_holds,
	.container = "certificate table",
	.extracts_own = 1,
	.attach_own = sg_attach_pe_fd,
	.dse_when_nested = 0,
};

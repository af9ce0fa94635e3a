/* Installer format detection and structural validation; see include/signgate/format.h. */
#include "signgate/format.h"
#include "signgate/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* osslsigncode (and the 32-bit PE certificate table offset) stop at 4 GiB - 1. */
#define MAX_INPUT_SIZE UINT32_MAX

#define PE_DOS_SIZE      64
#define PE_COFF_SIZE     20
#define PE_SECTION_SIZE  40
#define PE_MAX_OPT_SIZE  240 /* PE32+ with 16 data directories */
#define PE_MAX_DIRS      16
#define PE_CERT_DIR      4
#define PE_MAX_CERTS     64
#define WIN_CERT_REV_2_0 0x0200
#define WIN_CERT_PKCS7   2

#define CFB_HEADER_SIZE  512
#define CFB_HEADER_DIFAT 109
#define CFB_MAX_SECTOR   4096
#define CFB_MAXREGSECT   0xfffffffaU
#define CFB_ENDOFCHAIN   0xfffffffeU
#define CFB_FREESECT     0xffffffffU
#define CFB_NOSTREAM     0xffffffffU
#define CFB_DIRENT_SIZE  128
#define CFB_MAX_ENTRIES  (1U << 17)
#define CFB_TYPE_STORAGE 1
#define CFB_TYPE_STREAM  2
#define CFB_TYPE_ROOT    5

struct src {
	int fd;
	const char *name;
	uint64_t size;
};

static const unsigned char cfb_magic[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };

/* {000C1084-0000-0000-C000-000000000046} as stored (first three fields little-endian) */
static const unsigned char msi_clsid[16] = { 0x84, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
					     0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 };

/* "\x05DigitalSignature" in UTF-16LE with its terminator, as the name field holds it */
static const unsigned char sig_stream_name[36] = {
	0x05, 0, 'D', 0, 'i', 0, 'g', 0, 'i', 0, 't', 0, 'a', 0, 'l', 0, 'S', 0,
	'i',  0, 'g', 0, 'n', 0, 'a', 0, 't', 0, 'u', 0, 'r', 0, 'e', 0, 0,   0
};

static const unsigned char root_entry_name[22] = { 'R', 0, 'o', 0, 'o', 0, 't', 0, ' ', 0, 'E', 0,
						   'n', 0, 't', 0, 'r', 0, 'y', 0, 0,   0 };

/* Record SG_ERR_FORMAT with a message "<name>: <reason>". */
static int bad(const struct src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(const struct src *s, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return sg_error_set(SG_ERR_FORMAT, "%s: %s", s->name, reason);
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Read exactly `len` bytes at `off`. Callers check bounds first so that the
 * message can say what is missing; the check here only backs them up.
 */
static int read_at(const struct src *s, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;

	if (off > s->size || len > s->size - off)
		return bad(s,
			   "truncated: %zu bytes at offset %" PRIu64
			   " are beyond the end of the file (%" PRIu64 " bytes)",
			   len, off, s->size);
	while (len > 0) {
		ssize_t n = pread(s->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sg_error_set(SG_ERR_IO, "%s: read at offset %" PRIu64 " failed: %s",
					    s->name, off, strerror(errno));
		if (n == 0)
			return sg_error_set(SG_ERR_IO,
					    "%s: unexpected end of file at offset %" PRIu64
					    " (did the file change while being read?)",
					    s->name, off);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return SG_OK;
}

static int beyond_eof(const struct src *s, const char *what, uint64_t end)
{
	return bad(s,
		   "truncated: %s ends at %" PRIu64 ", beyond the end of the file (%" PRIu64
		   " bytes)",
		   what, end, s->size);
}

/* ---- PE ---------------------------------------------------------------- */

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
		return beyond_eof(s, "DOS header", PE_DOS_SIZE);
	if ((error = read_at(s, dos, sizeof(dos), 0)) < 0)
		return error;
	pe->nt = le32(dos + 0x3c);
	if (pe->nt < PE_DOS_SIZE)
		return bad(s, "bad e_lfanew 0x%x: inside the DOS header", pe->nt);
	if ((uint64_t)pe->nt + sizeof(nt) > s->size)
		return bad(s,
			   "truncated: PE header at e_lfanew 0x%x ends beyond the end "
			   "of the file (%" PRIu64 " bytes)",
			   pe->nt, s->size);
	if ((error = read_at(s, nt, sizeof(nt), pe->nt)) < 0)
		return error;
	if (memcmp(nt, "PE\0\0", 4) != 0)
		return bad(s, "MZ file without a PE header (no \"PE\\0\\0\" at e_lfanew 0x%x)",
			   pe->nt);
	pe->nsections = le16(nt + 4 + 2);
	pe->opt_size = le16(nt + 4 + 16);
	if (pe->nsections == 0)
		return bad(s, "PE image has no sections");
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
		return beyond_eof(s, "optional header", start + pe->opt_size);
	if (pe->opt_size < 2)
		return bad(s, "SizeOfOptionalHeader %u is too small", pe->opt_size);
	error = read_at(s, opt, pe->opt_size < sizeof(opt) ? pe->opt_size : sizeof(opt), start);
	if (error < 0)
		return error;
	magic = le16(opt);
	if (magic != 0x10b && magic != 0x20b)
		return bad(s,
			   "unknown optional header magic 0x%04x (not PE32 0x10b or PE32+ 0x20b)",
			   magic);
	out->pe_bits = magic == 0x10b ? 32 : 64;
	fixed = magic == 0x10b ? 96 : 112;
	if (pe->opt_size < fixed)
		return bad(
			s,
			"SizeOfOptionalHeader %u is smaller than a PE%s optional header (%u bytes)",
			pe->opt_size, magic == 0x10b ? "32" : "32+", fixed);
	ndirs = le32(opt + fixed - 4);
	/* osslsigncode reads entry 4 unconditionally; Windows knows only 16 */
	if (ndirs <= PE_CERT_DIR || ndirs > PE_MAX_DIRS)
		return bad(s,
			   "NumberOfRvaAndSizes %u is not sane (must be 5..16 to hold the "
			   "certificate table entry)",
			   ndirs);
	if (pe->opt_size < fixed + 8 * ndirs)
		return bad(
			s,
			"SizeOfOptionalHeader %u is too small for %u data directories (needs %u)",
			pe->opt_size, ndirs, fixed + 8 * ndirs);
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
		return beyond_eof(s, what, end);
	}
	if (pe->cert_off != 0 && end > pe->cert_off)
		return bad(s,
			   "certificate table at offset %u overlaps section %s (ends at %" PRIu64
			   ")",
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
		return beyond_eof(s, "section table", end);
	if (pe->cert_off != 0 && pe->cert_off < end)
		return bad(s,
			   "certificate table at offset %u overlaps the PE headers (end at %" PRIu64
			   ")",
			   pe->cert_off, end);
	for (unsigned i = 0; i < pe->nsections; i++) {
		error = read_at(s, sec, sizeof(sec), table + (uint64_t)i * PE_SECTION_SIZE);
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
		return bad(s, "certificate table has %" PRIu64 " stray bytes at offset %" PRIu64,
			   end - pos, pos);
	if ((error = read_at(s, h, sizeof(h), pos)) < 0)
		return error;
	*len = le32(h);
	rev = le16(h + 4);
	type = le16(h + 6);
	if (*len < sizeof(h) || *len > end - pos)
		return bad(s,
			   "certificate entry at offset %" PRIu64
			   " has length %u (must be 8..%" PRIu64 ")",
			   pos, *len, end - pos);
	if (rev != WIN_CERT_REV_2_0)
		return bad(s,
			   "certificate entry at offset %" PRIu64
			   " has revision 0x%04x, not 0x0200",
			   pos, rev);
	if (type != WIN_CERT_PKCS7)
		return bad(s,
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
static int pe_cert_content(const struct src *s, uint64_t pos, uint32_t len, uint64_t end)
{
	unsigned char h[6], pad[8];
	uint64_t der_len = 0, hdr, content_end, entry_end;
	size_t avail = len - 8 < sizeof(h) ? len - 8 : sizeof(h);
	int error;

	if (avail < 2)
		return bad(s, "certificate entry at offset %" PRIu64 " holds no signature", pos);
	if ((error = read_at(s, h, avail, pos + 8)) < 0)
		return error;
	if (h[0] != 0x30)
		return bad(s,
			   "certificate entry at offset %" PRIu64 " does not hold a DER signature",
			   pos);
	if (h[1] < 0x80) {
		der_len = h[1];
		hdr = 2;
	} else {
		unsigned n = h[1] & 0x7fu;
		if (n == 0 || n > 4 || 2 + n > avail)
			return bad(s,
				   "certificate entry at offset %" PRIu64 " has a bad DER length",
				   pos);
		for (unsigned i = 0; i < n; i++)
			der_len = der_len << 8 | h[2 + i];
		hdr = 2 + n;
	}
	content_end = pos + 8 + hdr + der_len;
	if (content_end > pos + len)
		return bad(s,
			   "certificate entry at offset %" PRIu64 " is shorter than its signature",
			   pos);
	entry_end = (pos + len + 7) & ~(uint64_t)7;
	if (entry_end > end)
		entry_end = end;
	if (entry_end - content_end >= sizeof(pad))
		return bad(s,
			   "certificate entry at offset %" PRIu64 " has %" PRIu64
			   " bytes after its signature (data hidden outside the signed digest)",
			   pos, entry_end - content_end);
	if ((error = read_at(s, pad, (size_t)(entry_end - content_end), content_end)) < 0)
		return error;
	for (uint64_t i = 0; i < entry_end - content_end; i++)
		if (pad[i] != 0)
			return bad(s,
				   "certificate entry at offset %" PRIu64
				   " has non-zero bytes after its signature",
				   pos);
	return SG_OK;
}

static int pe_certs(const struct src *s, const struct pe *pe, sg_format_info *out)
{
	uint64_t pos = pe->cert_off, end = (uint64_t)pe->cert_off + pe->cert_size;
	unsigned count = 0;
	uint32_t len = 0;
	int error;

	if (pe->cert_off == 0 && pe->cert_size == 0)
		return SG_OK;
	if (pe->cert_off == 0 || pe->cert_size == 0)
		return bad(s, "certificate table entry is inconsistent (offset %u, size %u)",
			   pe->cert_off, pe->cert_size);
	if (end > s->size)
		return beyond_eof(s, "certificate table", end);
	if (pe->cert_off % 8 != 0)
		return bad(s, "certificate table offset %u is not 8-byte aligned", pe->cert_off);
	/* since MS12-024 the table must be last; osslsigncode ignores it otherwise */
	if (end != s->size)
		return bad(s,
			   "certificate table (offset %u, size %u) is not at the end of "
			   "the file (%" PRIu64 " bytes): signers and Windows ignore it",
			   pe->cert_off, pe->cert_size, s->size);
	while (pos < end) {
		if (++count > PE_MAX_CERTS)
			return bad(s, "certificate table has more than %d entries", PE_MAX_CERTS);
		if ((error = pe_cert_entry(s, pos, end, &len)) < 0 ||
		    (error = pe_cert_content(s, pos, len, end)) < 0)
			return error;
		/* dwLength may exclude the padding to the next 8-byte boundary */
		pos = (pos + len + 7) & ~(uint64_t)7;
	}
	out->has_signature = 1;
	out->sig_offset = pe->cert_off;
	out->sig_size = pe->cert_size;
	return SG_OK;
}

static int inspect_pe(const struct src *s, sg_format_info *out)
{
	struct pe pe = { 0 };
	int error;

	if ((error = pe_headers(s, &pe)) < 0)
		return error;
	if ((error = pe_optional(s, &pe, out)) < 0)
		return error;
	if ((error = pe_sections(s, &pe)) < 0)
		return error;
	if ((error = pe_certs(s, &pe, out)) < 0)
		return error;
	out->kind = SG_FORMAT_PE;
	return SG_OK;
}

/* ---- MSI (OLE compound file) ------------------------------------------- */

struct cfb {
	const struct src *s;
	unsigned shift; /* sector size is 1 << shift: 512 or 4096 */
	uint32_t ssz;
	uint32_t nsectors; /* whole sectors after the header sector */
	int v3;            /* major version 3: stream sizes are 32-bit */
	uint32_t nfat;     /* number of FAT sectors */
	uint32_t hdr_difat[CFB_HEADER_DIFAT];
	uint32_t *difat; /* DIFAT sector locations, in chain order */
	uint32_t ndifat;
	uint32_t first_difat;
	uint32_t first_dir;
	uint32_t *dir; /* directory sector locations, in chain order */
	uint32_t ndir;
	uint32_t cached; /* FAT sector held in cache, CFB_FREESECT if none */
	unsigned char cache[CFB_MAX_SECTOR];
};

static uint64_t sector_off(const struct cfb *c, uint32_t n)
{
	return ((uint64_t)n + 1) << c->shift;
}

/* Sector `n` as `what` needs it: a regular sector number, wholly inside the file. */
static int sector_check(const struct cfb *c, uint32_t n, const char *what)
{
	if (n > CFB_MAXREGSECT)
		return bad(c->s, "bad %s sector number 0x%08x", what, n);
	if (n >= c->nsectors)
		return bad(c->s,
			   "truncated: %s sector %u (offset %" PRIu64
			   ") is beyond the end of the file (%" PRIu64 " bytes)",
			   what, n, sector_off(c, n), c->s->size);
	return SG_OK;
}

static int cfb_version(struct cfb *c, const unsigned char *h)
{
	uint16_t major = le16(h + 0x1a), shift = le16(h + 0x1e);

	if (le16(h + 0x1c) != 0xfffe)
		return bad(c->s, "bad compound file byte order 0x%04x", le16(h + 0x1c));
	if (!(major == 3 && shift == 9) && !(major == 4 && shift == 12))
		return bad(c->s, "unsupported compound file version %u with sector shift %u", major,
			   shift);
	if (le16(h + 0x20) != 6)
		return bad(c->s, "bad mini sector shift %u (must be 6)", le16(h + 0x20));
	if (le32(h + 0x38) != 4096)
		return bad(c->s, "bad mini stream cutoff %u (must be 4096)", le32(h + 0x38));
	if (major == 3 && le32(h + 0x28) != 0)
		return bad(c->s, "version 3 compound file with a directory sector count");
	c->v3 = major == 3;
	c->shift = shift;
	c->ssz = 1U << shift;
	return SG_OK;
}

static int cfb_header(struct cfb *c)
{
	unsigned char h[CFB_HEADER_SIZE];
	uint64_t n;
	int error;

	if (c->s->size < CFB_HEADER_SIZE)
		return beyond_eof(c->s, "compound file header", CFB_HEADER_SIZE);
	if ((error = read_at(c->s, h, sizeof(h), 0)) < 0)
		return error;
	if ((error = cfb_version(c, h)) < 0)
		return error;
	n = c->s->size >> c->shift;
	c->nsectors = n > 0 ? (uint32_t)(n - 1) : 0;
	/* a FAT sector and a directory sector at least, as osslsigncode needs */
	if (c->nsectors < 2)
		return bad(c->s,
			   "truncated: compound file of %" PRIu64
			   " bytes has fewer than 3 sectors of %u bytes",
			   c->s->size, c->ssz);
	c->nfat = le32(h + 0x2c);
	c->first_dir = le32(h + 0x30);
	c->first_difat = le32(h + 0x44);
	c->ndifat = le32(h + 0x48);
	for (int i = 0; i < CFB_HEADER_DIFAT; i++)
		c->hdr_difat[i] = le32(h + 0x4c + 4 * i);
	if (c->nfat == 0)
		return bad(c->s, "compound file without a FAT");
	if (c->nfat > c->nsectors)
		return bad(c->s, "truncated: %u FAT sectors listed, the file has %u sectors",
			   c->nfat, c->nsectors);
	return SG_OK;
}

/* Walk the DIFAT chain far enough to locate every FAT sector past the first 109. */
static int cfb_difat(struct cfb *c)
{
	uint32_t per = c->ssz / 4 - 1, need, cur = c->first_difat;
	unsigned char next[4];
	int error;

	need = c->nfat > CFB_HEADER_DIFAT ? (c->nfat - CFB_HEADER_DIFAT + per - 1) / per : 0;
	if (c->ndifat < need)
		return bad(c->s, "%u FAT sectors need %u DIFAT sectors, the header lists %u",
			   c->nfat, need, c->ndifat);
	if (need == 0)
		return SG_OK;
	c->difat = calloc(need, sizeof(*c->difat));
	if (!c->difat)
		return sg_error_set(SG_ERR_NOMEM, "%s: out of memory for the DIFAT", c->s->name);
	for (uint32_t i = 0; i < need; i++) {
		if ((error = sector_check(c, cur, "DIFAT")) < 0)
			return error;
		c->difat[i] = cur;
		if ((error = read_at(c->s, next, 4, sector_off(c, cur) + c->ssz - 4)) < 0)
			return error;
		cur = le32(next);
	}
	return SG_OK;
}

/* Location of FAT sector number `idx`, checked to lie inside the file. */
static int fat_loc(const struct cfb *c, uint32_t idx, uint32_t *loc)
{
	uint32_t per = c->ssz / 4 - 1;
	unsigned char b[4];
	int error;

	if (idx < CFB_HEADER_DIFAT) {
		*loc = c->hdr_difat[idx];
	} else {
		idx -= CFB_HEADER_DIFAT;
		error = read_at(c->s, b, 4, sector_off(c, c->difat[idx / per]) + 4 * (idx % per));
		if (error < 0)
			return error;
		*loc = le32(b);
	}
	return sector_check(c, *loc, "FAT");
}

static int fat_load(struct cfb *c, uint32_t loc)
{
	int error;

	if (c->cached == loc)
		return SG_OK;
	c->cached = CFB_FREESECT;
	if ((error = read_at(c->s, c->cache, c->ssz, sector_off(c, loc))) < 0)
		return error;
	c->cached = loc;
	return SG_OK;
}

/*
 * Every FAT sector must lie inside the file, and no FAT entry may allocate a
 * sector past its end: that is how a cut-off stream shows without walking it.
 */
static int cfb_fat(struct cfb *c)
{
	uint32_t per = c->ssz / 4, loc, first;
	int error;

	for (uint32_t idx = 0; idx < c->nfat; idx++) {
		if ((error = fat_loc(c, idx, &loc)) < 0)
			return error;
		if ((uint64_t)(idx + 1) * per <= c->nsectors)
			continue;
		if ((error = fat_load(c, loc)) < 0)
			return error;
		first = (uint64_t)idx * per >= c->nsectors ? 0 : c->nsectors - idx * per;
		for (uint32_t i = first; i < per; i++) {
			uint32_t n = idx * per + i;

			if (le32(c->cache + 4 * i) != CFB_FREESECT)
				return bad(c->s,
					   "truncated: the FAT allocates sector %u "
					   "(offset %" PRIu64 "), beyond the end of the "
					   "file (%" PRIu64 " bytes)",
					   n, sector_off(c, n), c->s->size);
		}
	}
	return SG_OK;
}

static int fat_next(struct cfb *c, uint32_t n, uint32_t *next)
{
	uint32_t per = c->ssz / 4, loc;
	int error;

	if (n / per >= c->nfat)
		return bad(c->s, "sector %u is not covered by the FAT", n);
	if ((error = fat_loc(c, n / per, &loc)) < 0)
		return error;
	if ((error = fat_load(c, loc)) < 0)
		return error;
	*next = le32(c->cache + 4 * (n % per));
	return SG_OK;
}

static int dir_push(struct cfb *c, uint32_t sector, uint32_t *cap)
{
	uint32_t max = CFB_MAX_ENTRIES / (c->ssz / CFB_DIRENT_SIZE);
	uint32_t *grown;

	if (c->ndir == max)
		return bad(c->s, "directory has more than %u entries", CFB_MAX_ENTRIES);
	if (c->ndir == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		grown = realloc(c->dir, *cap * sizeof(*c->dir));
		if (!grown)
			return sg_error_set(SG_ERR_NOMEM, "%s: out of memory for the directory",
					    c->s->name);
		c->dir = grown;
	}
	c->dir[c->ndir++] = sector;
	return SG_OK;
}

/* Follow the directory chain through the FAT; Brent's method catches loops. */
static int cfb_dir_chain(struct cfb *c)
{
	uint32_t cur = c->first_dir, next = 0, tortoise = cur, power = 1, lam = 0, cap = 0;
	int error;

	/* osslsigncode treats sector 0 as "no sector" in directory and FAT chains */
	if (cur == 0)
		return bad(c->s, "directory starts at sector 0, which osslsigncode refuses");
	while (cur != CFB_ENDOFCHAIN) {
		if ((error = sector_check(c, cur, "directory")) < 0)
			return error;
		if ((error = dir_push(c, cur, &cap)) < 0)
			return error;
		if ((error = fat_next(c, cur, &next)) < 0)
			return error;
		if (next == 0 || (next > CFB_MAXREGSECT && next != CFB_ENDOFCHAIN))
			return bad(c->s, "directory chain: sector %u links to 0x%08x", cur, next);
		if (next == tortoise)
			return bad(c->s, "directory chain loops back to sector %u", next);
		if (++lam == power) {
			tortoise = next;
			power *= 2;
			lam = 0;
		}
		cur = next;
	}
	if (c->ndir == 0)
		return bad(c->s, "compound file has no directory");
	return SG_OK;
}

static int dir_entry(const struct cfb *c, uint32_t id, unsigned char e[CFB_DIRENT_SIZE])
{
	uint32_t per = c->ssz / CFB_DIRENT_SIZE;

	return read_at(c->s, e, CFB_DIRENT_SIZE,
		       sector_off(c, c->dir[id / per]) + (uint64_t)(id % per) * CFB_DIRENT_SIZE);
}

/* For messages: the UTF-16 name with anything outside printable ASCII as '?'. */
static void entry_name(char out[33], const unsigned char *e)
{
	uint16_t len = le16(e + 0x40) / 2;
	int i;

	for (i = 0; i < 32 && i + 1 < len; i++) {
		uint16_t ch = le16(e + 2 * i);

		out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[i] = '\0';
}

static uint64_t entry_size(const struct cfb *c, const unsigned char *e)
{
	/* version 3 writers may leave junk in the high half */
	return c->v3 ? le32(e + 0x78) : le32(e + 0x78) | (uint64_t)le32(e + 0x7c) << 32;
}

static int entry_check(const struct cfb *c, uint32_t id, const unsigned char *e, int root)
{
	uint16_t len = le16(e + 0x40);
	uint8_t type = e[0x42];
	char name[33];

	if (len < 2 || len > 64 || len % 2 != 0 || le16(e + len - 2) != 0)
		return bad(c->s, "directory entry %u has a bad name length %u", id, len);
	if (root ? type != CFB_TYPE_ROOT : type != CFB_TYPE_STORAGE && type != CFB_TYPE_STREAM)
		return bad(c->s, "directory entry %u has type %u, not %s", id, type,
			   root ? "5 (root storage)" : "1 or 2 (storage or stream)");
	entry_name(name, e);
	/* osslsigncode refuses a stream it could not hold in memory with the file */
	if (entry_size(c, e) >= c->s->size)
		return bad(c->s,
			   "stream \"%s\" (entry %u) claims %" PRIu64
			   " bytes, more than the file holds",
			   name, id, entry_size(c, e));
	return SG_OK;
}

static int cfb_root(struct cfb *c, uint32_t *child)
{
	unsigned char e[CFB_DIRENT_SIZE];
	const unsigned char *id;
	int error;

	if ((error = dir_entry(c, 0, e)) < 0)
		return error;
	if ((error = entry_check(c, 0, e, 1)) < 0)
		return error;
	id = e + 0x50;
	if (memcmp(id, msi_clsid, sizeof(msi_clsid)) != 0)
		return bad(c->s,
			   "not an MSI package (compound file with CLSID "
			   "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X})",
			   le32(id), le16(id + 4), le16(id + 6), id[8], id[9], id[10], id[11],
			   id[12], id[13], id[14], id[15]);
	if (le16(e + 0x40) != sizeof(root_entry_name) ||
	    memcmp(e, root_entry_name, sizeof(root_entry_name)) != 0)
		return bad(c->s, "root directory entry is not named \"Root Entry\"");
	if (memcmp(e + 0x64, "\0\0\0\0\0\0\0\0", 8) != 0)
		return bad(c->s, "root directory entry has a creation time (must be zero)");
	*child = le32(e + 0x4c);
	return SG_OK;
}

struct walk {
	uint32_t *stack; /* entry id << 1 | 1 when the entry sits in the root storage */
	uint32_t depth;
	unsigned char *seen;
	uint32_t nent;
};

/* Queue a child or sibling link; each entry may be reached once only. */
static int walk_push(const struct cfb *c, struct walk *w, uint32_t from, uint32_t id, int in_root)
{
	if (id == CFB_NOSTREAM)
		return SG_OK;
	if (id == 0 || id >= w->nent)
		return bad(c->s,
			   "directory entry %u links to entry %u (the directory has %u entries)",
			   from, id, w->nent);
	if (w->seen[id / 8] & (1U << (id % 8)))
		return bad(c->s, "directory tree has a cycle (entry %u is reached twice)", id);
	w->seen[id / 8] |= (unsigned char)(1U << (id % 8));
	w->stack[w->depth++] = id << 1 | (in_root ? 1 : 0);
	return SG_OK;
}

static int walk_entry(struct cfb *c, struct walk *w, uint32_t item, sg_format_info *out)
{
	uint32_t id = item >> 1, in_root = item & 1;
	unsigned char e[CFB_DIRENT_SIZE];
	int error;

	if ((error = dir_entry(c, id, e)) < 0)
		return error;
	if ((error = entry_check(c, id, e, 0)) < 0)
		return error;
	if (in_root && e[0x42] == CFB_TYPE_STREAM && le16(e + 0x40) == sizeof(sig_stream_name) &&
	    memcmp(e, sig_stream_name, sizeof(sig_stream_name)) == 0) {
		out->has_signature = 1;
		out->sig_size = entry_size(c, e);
	}
	if ((error = walk_push(c, w, id, le32(e + 0x44), in_root)) < 0)
		return error;
	if ((error = walk_push(c, w, id, le32(e + 0x48), in_root)) < 0)
		return error;
	/* osslsigncode follows every child link, so a stream may not have one */
	if (e[0x42] == CFB_TYPE_STREAM && le32(e + 0x4c) != CFB_NOSTREAM)
		return bad(c->s, "directory entry %u is a stream with a child link", id);
	return walk_push(c, w, id, le32(e + 0x4c), 0);
}

/* Visit every entry reachable from the root, as osslsigncode does, iteratively. */
static int cfb_tree(struct cfb *c, uint32_t root_child, sg_format_info *out)
{
	struct walk w = { 0 };
	int error;

	w.nent = c->ndir * (c->ssz / CFB_DIRENT_SIZE);
	w.stack = calloc(w.nent, sizeof(*w.stack));
	w.seen = calloc(w.nent / 8 + 1, 1);
	if (!w.stack || !w.seen) {
		error = sg_error_set(SG_ERR_NOMEM, "%s: out of memory for the directory tree",
				     c->s->name);
		goto done;
	}
	w.seen[0] = 1;
	if ((error = walk_push(c, &w, 0, root_child, 1)) < 0)
		goto done;
	while (w.depth > 0)
		if ((error = walk_entry(c, &w, w.stack[--w.depth], out)) < 0)
			goto done;
	error = SG_OK;
done:
	free(w.stack);
	free(w.seen);
	return error;
}

static int cfb_parse(struct cfb *c, sg_format_info *out)
{
	uint32_t root_child = CFB_NOSTREAM;
	int error;

	if ((error = cfb_header(c)) < 0)
		return error;
	if ((error = cfb_difat(c)) < 0)
		return error;
	if ((error = cfb_fat(c)) < 0)
		return error;
	if ((error = cfb_dir_chain(c)) < 0)
		return error;
	if ((error = cfb_root(c, &root_child)) < 0)
		return error;
	return cfb_tree(c, root_child, out);
}

static int inspect_msi(const struct src *s, sg_format_info *out)
{
	struct cfb *c;
	int error;

	/* heap, not stack: the FAT cache is a whole 4 KiB sector */
	c = calloc(1, sizeof(*c));
	if (!c)
		return sg_error_set(SG_ERR_NOMEM, "%s: out of memory", s->name);
	c->s = s;
	c->cached = CFB_FREESECT;
	error = cfb_parse(c, out);
	if (error == SG_OK)
		out->kind = SG_FORMAT_MSI;
	free(c->difat);
	free(c->dir);
	free(c);
	return error;
}

/* ---- detection ---------------------------------------------------------- */

static int not_an_installer(const struct src *s, const unsigned char *head, size_t n)
{
	char hex[3 * sizeof(cfb_magic) + 1], text[sizeof(cfb_magic) + 1];

	for (size_t i = 0; i < n; i++) {
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", head[i]);
		text[i] = head[i] >= 0x20 && head[i] < 0x7f ? (char)head[i] : '.';
	}
	hex[3 * n - 1] = '\0';
	text[n] = '\0';
	return bad(s, "not a PE or MSI installer (starts with %s \"%s\")", hex, text);
}

int sg_format_inspect(sg_format_info *out, int fd, const char *name)
{
	struct src s = { fd, name ? name : "(unnamed)", 0 };
	unsigned char head[sizeof(cfb_magic)];
	sg_format_kind kind;
	struct stat st;
	size_t n;
	int error;

	if (!out)
		return sg_error_set(SG_ERR_USAGE, "sg_format_inspect: no output structure");
	memset(out, 0, sizeof(*out));
	if (fstat(fd, &st) != 0)
		return sg_error_set(SG_ERR_IO, "%s: fstat failed: %s", s.name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sg_error_set(SG_ERR_USAGE, "%s: not a regular file", s.name);
	s.size = (uint64_t)st.st_size;
	out->size = s.size;
	if (s.size == 0)
		return bad(&s, "empty file");
	n = s.size < sizeof(head) ? (size_t)s.size : sizeof(head);
	if ((error = read_at(&s, head, n, 0)) < 0)
		return error;
	if (n >= 2 && head[0] == 'M' && head[1] == 'Z')
		kind = SG_FORMAT_PE;
	else if (n == sizeof(cfb_magic) && memcmp(head, cfb_magic, n) == 0)
		kind = SG_FORMAT_MSI;
	else
		return not_an_installer(&s, head, n);
	if (s.size > MAX_INPUT_SIZE)
		return bad(&s,
			   "too large: %" PRIu64 " bytes (osslsigncode takes at most %" PRIu32 ")",
			   s.size, MAX_INPUT_SIZE);
	error = kind == SG_FORMAT_PE ? inspect_pe(&s, out) : inspect_msi(&s, out);
	if (error < 0)
		memset(out, 0, sizeof(*out));
	out->size = s.size;
	return error;
}

const char *sg_format_name(sg_format_kind kind)
{
	switch (kind) {
	case SG_FORMAT_PE: return "pe";
	case SG_FORMAT_MSI: return "msi";
	case SG_FORMAT_UNKNOWN: break;
	}
	return "unknown";
}

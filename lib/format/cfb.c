/* The OLE compound file (MS-CFB) reader the Windows Installer formats share; see cfb_internal.h. */
#include "signgate/error.h"
#include "cfb_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const unsigned char root_entry_name[22] = { 'R', 0, 'o', 0, 'o', 0, 't', 0, ' ', 0, 'E', 0,
						   'n', 0, 't', 0, 'r', 0, 'y', 0, 0,   0 };

uint64_t sg_cfb_sector_off(const struct cfb *c, uint32_t n)
{
	return ((uint64_t)n + 1) << c->shift;
}

int sg_cfb_sector_check(const struct cfb *c, uint32_t n, const char *what)
{
	if (n > CFB_MAXREGSECT)
		return sg_format_bad(c->s, "bad %s sector number 0x%08x", what, n);
	if (n >= c->nsectors)
		return sg_format_bad(c->s,
				     "truncated: %s sector %u (offset %" PRIu64
				     ") is beyond the end of the file (%" PRIu64 " bytes)",
				     what, n, sg_cfb_sector_off(c, n), c->s->size);
	return SG_OK;
}

static int cfb_version(struct cfb *c, const unsigned char *h)
{
	uint16_t major = le16(h + 0x1a), shift = le16(h + 0x1e);

	if (le16(h + 0x1c) != 0xfffe)
		return sg_format_bad(c->s, "bad compound file byte order 0x%04x", le16(h + 0x1c));
	if (!(major == 3 && shift == 9) && !(major == 4 && shift == 12))
		return sg_format_bad(c->s,
				     "unsupported compound file version %u with sector shift %u",
				     major, shift);
	if (le16(h + 0x20) != 6)
		return sg_format_bad(c->s, "bad mini sector shift %u (must be 6)", le16(h + 0x20));
	if (le32(h + 0x38) != 4096)
		return sg_format_bad(c->s, "bad mini stream cutoff %u (must be 4096)",
				     le32(h + 0x38));
	if (major == 3 && le32(h + 0x28) != 0)
		return sg_format_bad(c->s, "version 3 compound file with a directory sector count");
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
		return sg_format_beyond_eof(c->s, "compound file header", CFB_HEADER_SIZE);
	if ((error = sg_format_read_at(c->s, h, sizeof(h), 0)) < 0)
		return error;
	if ((error = cfb_version(c, h)) < 0)
		return error;
	n = c->s->size >> c->shift;
	c->nsectors = n > 0 ? (uint32_t)(n - 1) : 0;
	/* a FAT sector and a directory sector at least, as osslsigncode needs */
	if (c->nsectors < 2)
		return sg_format_bad(c->s,
				     "truncated: compound file of %" PRIu64
				     " bytes has fewer than 3 sectors of %u bytes",
				     c->s->size, c->ssz);
	c->nfat = le32(h + 0x2c);
	c->first_dir = le32(h + 0x30);
	c->first_minifat = le32(h + 0x3c);
	c->nminifat = le32(h + 0x40);
	c->first_difat = le32(h + 0x44);
	c->ndifat = le32(h + 0x48);
	for (int i = 0; i < CFB_HEADER_DIFAT; i++)
		c->hdr_difat[i] = le32(h + 0x4c + 4 * i);
	if (c->nfat == 0)
		return sg_format_bad(c->s, "compound file without a FAT");
	if (c->nfat > c->nsectors)
		return sg_format_bad(c->s,
				     "truncated: %u FAT sectors listed, the file has %u sectors",
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
		return sg_format_bad(c->s,
				     "%u FAT sectors need %u DIFAT sectors, the header lists %u",
				     c->nfat, need, c->ndifat);
	if (need == 0)
		return SG_OK;
	c->difat = calloc(need, sizeof(*c->difat));
	if (!c->difat)
		return sg_error_set(SG_ERR_NOMEM, "%s: out of memory for the DIFAT", c->s->name);
	for (uint32_t i = 0; i < need; i++) {
		if ((error = sg_cfb_sector_check(c, cur, "DIFAT")) < 0)
			return error;
		c->difat[i] = cur;
		if ((error = sg_format_read_at(c->s, next, 4,
					       sg_cfb_sector_off(c, cur) + c->ssz - 4)) < 0)
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
		error = sg_format_read_at(
			c->s, b, 4, sg_cfb_sector_off(c, c->difat[idx / per]) + 4 * (idx % per));
		if (error < 0)
			return error;
		*loc = le32(b);
	}
	return sg_cfb_sector_check(c, *loc, "FAT");
}

static int fat_load(struct cfb *c, uint32_t loc)
{
	int error;

	if (c->cached == loc)
		return SG_OK;
	c->cached = CFB_FREESECT;
	if ((error = sg_format_read_at(c->s, c->cache, c->ssz, sg_cfb_sector_off(c, loc))) < 0)
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
				return sg_format_bad(c->s,
						     "truncated: the FAT allocates sector %u "
						     "(offset %" PRIu64 "), beyond the end of the "
						     "file (%" PRIu64 " bytes)",
						     n, sg_cfb_sector_off(c, n), c->s->size);
		}
	}
	return SG_OK;
}

int sg_cfb_fat_next(struct cfb *c, uint32_t n, uint32_t *next)
{
	uint32_t per = c->ssz / 4, loc;
	int error;

	if (n / per >= c->nfat)
		return sg_format_bad(c->s, "sector %u is not covered by the FAT", n);
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
		return sg_format_bad(c->s, "directory has more than %u entries", CFB_MAX_ENTRIES);
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
		return sg_format_bad(c->s,
				     "directory starts at sector 0, which osslsigncode refuses");
	while (cur != CFB_ENDOFCHAIN) {
		if ((error = sg_cfb_sector_check(c, cur, "directory")) < 0)
			return error;
		if ((error = dir_push(c, cur, &cap)) < 0)
			return error;
		if ((error = sg_cfb_fat_next(c, cur, &next)) < 0)
			return error;
		if (next == 0 || (next > CFB_MAXREGSECT && next != CFB_ENDOFCHAIN))
			return sg_format_bad(c->s, "directory chain: sector %u links to 0x%08x",
					     cur, next);
		if (next == tortoise)
			return sg_format_bad(c->s, "directory chain loops back to sector %u", next);
		if (++lam == power) {
			tortoise = next;
			power *= 2;
			lam = 0;
		}
		cur = next;
	}
	if (c->ndir == 0)
		return sg_format_bad(c->s, "compound file has no directory");
	return SG_OK;
}

int sg_cfb_entry(const struct cfb *c, uint32_t id, unsigned char e[CFB_DIRENT_SIZE])
{
	uint32_t per = c->ssz / CFB_DIRENT_SIZE;

	return sg_format_read_at(c->s, e, CFB_DIRENT_SIZE,
				 sg_cfb_sector_off(c, c->dir[id / per]) +
					 (uint64_t)(id % per) * CFB_DIRENT_SIZE);
}

void sg_cfb_entry_name(char out[SG_CFB_NAME_TEXT], const unsigned char *e)
{
	uint16_t len = le16(e + 0x40) / 2;
	size_t n = 0;

	for (int i = 0; i < 31 && i + 1 < len; i++) {
		uint16_t ch = le16(e + 2 * i);
		int w;

		if (ch == '\\')
			w = snprintf(out + n, SG_CFB_NAME_TEXT - n, "\\\\");
		else if (ch >= 0x20 && ch < 0x7f)
			w = snprintf(out + n, SG_CFB_NAME_TEXT - n, "%c", (char)ch);
		else
			w = snprintf(out + n, SG_CFB_NAME_TEXT - n, ch > 0xff ? "\\x%04X" : "\\x%02X",
				     (unsigned)ch);
		if (w < 0 || (size_t)w >= SG_CFB_NAME_TEXT - n)
			break;
		n += (size_t)w;
	}
	out[n] = '\0';
}

uint64_t sg_cfb_entry_size(const struct cfb *c, const unsigned char *e)
{
	/* version 3 writers may leave junk in the high half */
	return c->v3 ? le32(e + 0x78) : le32(e + 0x78) | (uint64_t)le32(e + 0x7c) << 32;
}

static int entry_check(const struct cfb *c, uint32_t id, const unsigned char *e, int root)
{
	uint16_t len = le16(e + CFB_E_NAME_LEN);
	uint8_t type = e[CFB_E_TYPE];
	char name[SG_CFB_NAME_TEXT];

	if (len < 2 || len > 64 || len % 2 != 0 || le16(e + len - 2) != 0)
		return sg_format_bad(c->s, "directory entry %u has a bad name length %u", id, len);
	/* osslsigncode takes "\x05DigitalSignature\0x" for its signature stream */
	for (uint16_t i = 0; i + 2 < len; i += 2)
		if (le16(e + i) == 0)
			return sg_format_bad(c->s, "directory entry %u has a NUL inside its name",
					     id);
	if (root ? type != CFB_TYPE_ROOT : type != CFB_TYPE_STORAGE && type != CFB_TYPE_STREAM)
		return sg_format_bad(c->s, "directory entry %u has type %u, not %s", id, type,
				     root ? "5 (root storage)" : "1 or 2 (storage or stream)");
	sg_cfb_entry_name(name, e);
	/* osslsigncode refuses a stream it could not hold in memory with the file */
	if (sg_cfb_entry_size(c, e) >= c->s->size)
		return sg_format_bad(c->s,
				     "stream \"%s\" (entry %u) claims %" PRIu64
				     " bytes, more than the file holds",
				     name, id, sg_cfb_entry_size(c, e));
	return SG_OK;
}

int sg_cfb_entry_check(const struct cfb *c, uint32_t id, const unsigned char *e)
{
	return entry_check(c, id, e, 0);
}

static int cfb_root(struct cfb *c, uint32_t *child)
{
	unsigned char e[CFB_DIRENT_SIZE];
	int error;

	if ((error = sg_cfb_entry(c, 0, e)) < 0)
		return error;
	if ((error = entry_check(c, 0, e, 1)) < 0)
		return error;
	/* the class says which Windows Installer file this is: the format rows judge it */
	memcpy(c->root_clsid, e + CFB_E_CLSID, sizeof(c->root_clsid));
	if (le16(e + 0x40) != sizeof(root_entry_name) ||
	    memcmp(e, root_entry_name, sizeof(root_entry_name)) != 0)
		return sg_format_bad(c->s, "root directory entry is not named \"Root Entry\"");
	if (memcmp(e + 0x64, "\0\0\0\0\0\0\0\0", 8) != 0)
		return sg_format_bad(c->s,
				     "root directory entry has a creation time (must be zero)");
	/* siblings of the root would be entries no digest covers */
	if (le32(e + CFB_E_LEFT) != CFB_NOSTREAM || le32(e + CFB_E_RIGHT) != CFB_NOSTREAM)
		return sg_format_bad(c->s, "root directory entry has siblings");
	*child = le32(e + CFB_E_CHILD);
	return SG_OK;
}

int sg_cfb_open(struct cfb *c, const struct src *s, uint32_t *root_child)
{
	int error;

	memset(c, 0, sizeof(*c));
	c->s = s;
	c->cached = CFB_FREESECT;
	*root_child = CFB_NOSTREAM;
	if ((error = cfb_header(c)) < 0)
		return error;
	if ((error = cfb_difat(c)) < 0)
		return error;
	if ((error = cfb_fat(c)) < 0)
		return error;
	if ((error = cfb_dir_chain(c)) < 0)
		return error;
	return cfb_root(c, root_child);
}

void sg_cfb_close(struct cfb *c)
{
	free(c->difat);
	free(c->dir);
	c->difat = NULL;
	c->dir = NULL;
}

uint32_t sg_cfb_nentries(const struct cfb *c)
{
	return c->ndir * (c->ssz / CFB_DIRENT_SIZE);
}

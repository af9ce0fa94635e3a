/*
 * Unit tests for lib/format.c: synthetic PE32, PE32+ and compound-file (MSI)
 * images built in memory, written under a mkdtemp() directory and mutated one
 * field at a time; then any real installers named on the command line:
 *
 *   test_format [--[signed-]pe FILE]... [--[signed-]msi FILE]...
 *               [--[signed-]msp FILE]... [--msm FILE]... [--mst FILE]...
 *
 * The table's other questions, and names against real files: test_format_table.c.
 */
#include "signgate/error.h"
#include "signgate/format.h"

#include "check.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMG_MAX (128 * 1024)

static char tmpdir[] = "/tmp/test_format.XXXXXX";

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* Write `len` bytes to a fresh file named `name` and inspect it. */
static int inspect_buf(const char *name, const void *buf, size_t len, sg_format_info *info)
{
	char path[256];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, buf, len) != (ssize_t)len)) {
		perror(path);
		exit(2);
	}
	sg_error_clear();
	rc = sg_format_inspect(info, fd, name);
	close(fd);
	unlink(path);
	return rc;
}

/* Expect `code` and a message naming the file and containing `want`. */
static void expect_fail(const char *name, const void *buf, size_t len, int code, const char *want)
{
	sg_format_info info;
	int rc = inspect_buf(name, buf, len, &info);

	CHECK_INT(rc, code);
	CHECK_INT(sg_error_code(), code);
	CHECK_CONTAINS(sg_error_last(), name);
	CHECK_CONTAINS(sg_error_last(), want);
	CHECK_STR(sg_format_name(info.kind), "unknown");
	CHECK_INT(info.has_signature, 0);
}

/* ---- PE images ---------------------------------------------------------- */

#define PE_NT       0x80
#define PE_SECTION  0x200 /* raw data of the only section */
#define PE_UNSIGNED 0x400 /* size of an unsigned image */
#define PE_CERT_LEN 24    /* one WIN_CERTIFICATE with a 16-byte blob */

struct pe_img {
	unsigned char b[4096];
	size_t size;
	size_t opt;      /* file offset of the optional header */
	size_t dirs;     /* file offset of the data directories */
	size_t sections; /* file offset of the section table */
};

/*
 * A minimal image: DOS header, PE headers with 16 data directories, one
 * section ".text" of 0x200 bytes at 0x200; when `sign`, a certificate table
 * of one PKCS_SIGNED_DATA entry appended at 0x400.
 */
static void build_pe(struct pe_img *pe, int bits, int sign)
{
	unsigned char *b = pe->b;
	uint16_t opt_size = bits == 32 ? 224 : 240;

	memset(pe, 0, sizeof(*pe));
	b[0] = 'M';
	b[1] = 'Z';
	put32(b + 0x3c, PE_NT);
	memcpy(b + PE_NT, "PE\0\0", 4);
	put16(b + PE_NT + 4, bits == 32 ? 0x14c : 0x8664);
	put16(b + PE_NT + 6, 1);
	put16(b + PE_NT + 20, opt_size);
	put16(b + PE_NT + 22, 0x0102);
	pe->opt = PE_NT + 24;
	put16(b + pe->opt, bits == 32 ? 0x10b : 0x20b);
	pe->dirs = pe->opt + (bits == 32 ? 96 : 112);
	put32(b + pe->dirs - 4, 16);
	pe->sections = pe->opt + opt_size;
	memcpy(b + pe->sections, ".text", 5);
	put32(b + pe->sections + 8, 0x200);
	put32(b + pe->sections + 12, 0x1000);
	put32(b + pe->sections + 16, 0x200);
	put32(b + pe->sections + 20, PE_SECTION);
	memset(b + PE_SECTION, 0xc3, 0x200);
	pe->size = PE_UNSIGNED;
	if (sign) {
		put32(b + pe->dirs + 8 * 4, PE_UNSIGNED);
		put32(b + pe->dirs + 8 * 4 + 4, PE_CERT_LEN);
		put32(b + PE_UNSIGNED, PE_CERT_LEN);
		put16(b + PE_UNSIGNED + 4, 0x0200);
		put16(b + PE_UNSIGNED + 6, 2);
		b[PE_UNSIGNED + 8] = 0x30; /* a DER SEQUENCE filling the entry */
		b[PE_UNSIGNED + 9] = PE_CERT_LEN - 10;
		pe->size += PE_CERT_LEN;
	}
}

static void set_cert_dir(struct pe_img *pe, uint32_t off, uint32_t size)
{
	put32(pe->b + pe->dirs + 8 * 4, off);
	put32(pe->b + pe->dirs + 8 * 4 + 4, size);
}

static void test_pe_valid(void)
{
	struct pe_img pe;
	sg_format_info info;

	for (int bits = 32; bits <= 64; bits += 32) {
		build_pe(&pe, bits, 0);
		CHECK_INT(inspect_buf("a.exe", pe.b, pe.size, &info), SG_OK);
		CHECK_STR(sg_format_name(info.kind), "pe");
		CHECK_INT(info.pe.bits, bits);
		CHECK_INT(info.has_signature, 0);
		CHECK_INT(info.size, PE_UNSIGNED);
		CHECK_INT(info.sig_offset, 0);

		build_pe(&pe, bits, 1);
		CHECK_INT(inspect_buf("s.exe", pe.b, pe.size, &info), SG_OK);
		CHECK_STR(sg_format_name(info.kind), "pe");
		CHECK_INT(info.pe.bits, bits);
		CHECK_INT(info.has_signature, 1);
		CHECK_INT(info.sig_offset, PE_UNSIGNED);
		CHECK_INT(info.sig_size, PE_CERT_LEN);
	}

	/* dwLength without the padding that the directory size includes */
	build_pe(&pe, 32, 1);
	put32(pe.b + PE_UNSIGNED, 20);
	pe.b[PE_UNSIGNED + 9] = 10;
	CHECK_INT(inspect_buf("pad.exe", pe.b, pe.size, &info), SG_OK);
	CHECK_INT(info.has_signature, 1);

	/* two well-formed entries, the first padded to 8 bytes: one is allowed */
	build_pe(&pe, 32, 1);
	put32(pe.b + PE_UNSIGNED, 12);
	pe.b[PE_UNSIGNED + 9] = 2;
	put32(pe.b + PE_UNSIGNED + 16, 10);
	put16(pe.b + PE_UNSIGNED + 20, 0x0200);
	put16(pe.b + PE_UNSIGNED + 22, 2);
	pe.b[PE_UNSIGNED + 24] = 0x30;
	pe.size = PE_UNSIGNED + 32;
	set_cert_dir(&pe, PE_UNSIGNED, 32);
	expect_fail("two.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "two.exe: certificate table holds 2 entries (the second at offset 1040); "
		    "only one is allowed");

	/* an empty section (SizeOfRawData 0) may point anywhere */
	build_pe(&pe, 32, 0);
	put32(pe.b + pe.sections + 16, 0);
	put32(pe.b + pe.sections + 20, 0x7fffffff);
	CHECK_INT(inspect_buf("bss.exe", pe.b, pe.size, &info), SG_OK);
}

static void test_pe_headers(void)
{
	struct pe_img pe;

	build_pe(&pe, 32, 0);
	pe.b[1] = 'X';
	expect_fail("mx.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "mx.exe: not an installer signgate signs (pe, msi, msp, msm, mst, cab, powershell): it starts "
		    "with 4d 58 00 00");

	expect_fail("mz.exe", "MZ", 2, SG_ERR_FORMAT,
		    "truncated: DOS header ends at 64, beyond the end of the file (2 bytes)");

	build_pe(&pe, 32, 0);
	put32(pe.b + 0x3c, 0x10000);
	expect_fail("lfanew.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "truncated: PE header at e_lfanew 0x10000 ends beyond the end of the file "
		    "(1024 bytes)");

	build_pe(&pe, 32, 0);
	put32(pe.b + 0x3c, 0xfffffffe);
	expect_fail("lfanew2.exe", pe.b, pe.size, SG_ERR_FORMAT, "e_lfanew 0xfffffffe");

	build_pe(&pe, 32, 0);
	put32(pe.b + 0x3c, 0x20);
	expect_fail("lfanew3.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "bad e_lfanew 0x20: inside the DOS header");

	build_pe(&pe, 32, 0);
	pe.b[PE_NT + 1] = 'X';
	expect_fail("dos.exe", pe.b, pe.size, SG_ERR_FORMAT, "MZ file without a PE header");

	build_pe(&pe, 32, 0);
	put16(pe.b + PE_NT + 6, 0);
	expect_fail("nosec.exe", pe.b, pe.size, SG_ERR_FORMAT, "PE image has no sections");

	build_pe(&pe, 32, 0);
	put16(pe.b + pe.opt, 0x107);
	expect_fail("rom.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "unknown optional header magic 0x0107");

	build_pe(&pe, 64, 0);
	put16(pe.b + PE_NT + 20, 100);
	expect_fail("opt.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "SizeOfOptionalHeader 100 is smaller than a PE32+ optional header (112 bytes)");

	build_pe(&pe, 32, 0);
	put16(pe.b + PE_NT + 20, 96 + 8 * 8);
	expect_fail("opt2.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "SizeOfOptionalHeader 160 is too small for 16 data directories (needs 224)");

	build_pe(&pe, 32, 0);
	put16(pe.b + PE_NT + 20, 0xffff);
	expect_fail("opt3.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "truncated: optional header ends at 65687");

	build_pe(&pe, 32, 0);
	put32(pe.b + pe.dirs - 4, 4);
	expect_fail("ndirs.exe", pe.b, pe.size, SG_ERR_FORMAT, "NumberOfRvaAndSizes 4 is not sane");

	build_pe(&pe, 32, 0);
	put32(pe.b + pe.dirs - 4, 0x40000000);
	expect_fail("ndirs2.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "NumberOfRvaAndSizes 1073741824 is not sane");
}

static void test_pe_sections(void)
{
	struct pe_img pe;

	build_pe(&pe, 32, 0);
	put32(pe.b + pe.sections + 16, 0x10000);
	expect_fail(
		"sect.exe", pe.b, pe.size, SG_ERR_FORMAT,
		"truncated: section .text ends at 66048, beyond the end of the file (1024 bytes)");

	/* 32-bit offset + size must not wrap */
	build_pe(&pe, 32, 0);
	put32(pe.b + pe.sections + 16, 0xffffffff);
	put32(pe.b + pe.sections + 20, 0xffffffff);
	expect_fail("wrap.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "truncated: section .text ends at 8589934590");

	build_pe(&pe, 32, 0);
	memcpy(pe.b + pe.sections, "\x01\xff.rsrc\n", 8);
	put32(pe.b + pe.sections + 16, 0x201);
	expect_fail("name.exe", pe.b, pe.size, SG_ERR_FORMAT, "section ??.rsrc? ends at 1025");

	build_pe(&pe, 32, 0);
	memset(pe.b + pe.sections, 0, 8);
	put32(pe.b + pe.sections + 16, 0x201);
	expect_fail("noname.exe", pe.b, pe.size, SG_ERR_FORMAT, "section #0 ends at 1025");

	build_pe(&pe, 32, 0);
	put16(pe.b + PE_NT + 6, 0xffff);
	expect_fail("table.exe", pe.b, pe.size, SG_ERR_FORMAT, "truncated: section table ends at");

	/* every cut of a valid image is refused */
	for (int sign = 0; sign <= 1; sign++) {
		sg_format_info info;
		int refused = 0;

		build_pe(&pe, 64, sign);
		for (size_t len = 1; len < pe.size; len++)
			refused += inspect_buf("cut.exe", pe.b, len, &info) == SG_ERR_FORMAT;
		CHECK_INT(refused, pe.size - 1);
	}
}

static void test_pe_cert_table(void)
{
	struct pe_img pe;
	unsigned char big[PE_UNSIGNED + 40];

	build_pe(&pe, 32, 1);
	set_cert_dir(&pe, PE_UNSIGNED, 0x1000);
	expect_fail("oob.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "truncated: certificate table ends at 5120, beyond the end of the file "
		    "(1048 bytes)");

	build_pe(&pe, 32, 1);
	set_cert_dir(&pe, 0xfffffff8, 0x10);
	expect_fail("oob2.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "truncated: certificate table ends at 4294967304");

	build_pe(&pe, 32, 1);
	set_cert_dir(&pe, PE_UNSIGNED + 4, PE_CERT_LEN - 4);
	expect_fail("align.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate table offset 1028 is not 8-byte aligned");

	build_pe(&pe, 32, 1);
	memcpy(big, pe.b, pe.size);
	memset(big + pe.size, 0, sizeof(big) - pe.size);
	expect_fail("notend.exe", big, sizeof(big), SG_ERR_FORMAT,
		    "certificate table (offset 1024, size 24) is not at the end of the file "
		    "(1064 bytes)");

	build_pe(&pe, 32, 1);
	set_cert_dir(&pe, PE_UNSIGNED, 0);
	expect_fail("half.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate table entry is inconsistent (offset 1024, size 0)");

	build_pe(&pe, 32, 1);
	set_cert_dir(&pe, 0x100, (uint32_t)pe.size - 0x100);
	expect_fail("hdr.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate table at offset 256 overlaps the PE headers");

	build_pe(&pe, 32, 1);
	set_cert_dir(&pe, PE_SECTION + 0x100, (uint32_t)pe.size - PE_SECTION - 0x100);
	expect_fail("sec.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate table at offset 768 overlaps section .text");
}

static void test_pe_cert_entries(void)
{
	struct pe_img pe;

	build_pe(&pe, 32, 1);
	put16(pe.b + PE_UNSIGNED + 4, 0x0100);
	expect_fail("rev.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate entry at offset 1024 has revision 0x0100, not 0x0200");

	build_pe(&pe, 32, 1);
	put16(pe.b + PE_UNSIGNED + 6, 1);
	expect_fail("x509.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate entry at offset 1024 has type 1, not 2 (PKCS_SIGNED_DATA)");

	build_pe(&pe, 32, 1);
	put32(pe.b + PE_UNSIGNED, 0);
	expect_fail("len0.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate entry at offset 1024 has length 0 (must be 8..24)");

	build_pe(&pe, 32, 1);
	put32(pe.b + PE_UNSIGNED, 25);
	expect_fail("len25.exe", pe.b, pe.size, SG_ERR_FORMAT, "has length 25 (must be 8..24)");

	/* a second entry of zeros: osslsigncode < 2.8 would loop on it forever */
	build_pe(&pe, 32, 1);
	put32(pe.b + PE_UNSIGNED, 16);
	pe.b[PE_UNSIGNED + 9] = 6;
	expect_fail("zero.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate entry at offset 1040 has length 0");

	build_pe(&pe, 32, 1);
	put32(pe.b + PE_UNSIGNED, 10);
	pe.b[PE_UNSIGNED + 9] = 0;
	set_cert_dir(&pe, PE_UNSIGNED, 20);
	expect_fail("stray.exe", pe.b, PE_UNSIGNED + 20, SG_ERR_FORMAT,
		    "certificate table has 4 stray bytes at offset 1040");

	/* data hidden after the signature, outside the signed digest (CVE-2013-3900) */
	build_pe(&pe, 32, 1);
	pe.b[PE_UNSIGNED + 9] = 2;
	expect_fail("hidden.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate entry at offset 1024 has 12 bytes after its signature");
	build_pe(&pe, 32, 1);
	pe.b[PE_UNSIGNED + 9] = 10;
	pe.b[PE_UNSIGNED + 22] = 0x41;
	expect_fail("nonzero.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate entry at offset 1024 has non-zero bytes after its signature");
	build_pe(&pe, 32, 1);
	pe.b[PE_UNSIGNED + 8] = 0x31;
	expect_fail("noder.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate entry at offset 1024 does not hold a DER signature");
	build_pe(&pe, 32, 1);
	pe.b[PE_UNSIGNED + 9] = 0x7f;
	expect_fail("long.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate entry at offset 1024 is shorter than its signature");
	/* the one DER-length parser: BER lengths are refused, with the reason */
	build_pe(&pe, 32, 1);
	pe.b[PE_UNSIGNED + 9] = 0x80;
	expect_fail("indefinite.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate entry at offset 1024 has a bad DER length: an indefinite length "
		    "(BER, not DER)");
	build_pe(&pe, 32, 1);
	pe.b[PE_UNSIGNED + 9] = 0x81;
	pe.b[PE_UNSIGNED + 10] = 13;
	expect_fail("longform.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate entry at offset 1024 has a bad DER length: the long form for a "
		    "length under 128 (not DER)");
	build_pe(&pe, 32, 1);
	pe.b[PE_UNSIGNED + 9] = 0x84;
	memset(pe.b + PE_UNSIGNED + 10, 0xff, 4);
	expect_fail("overflow.exe", pe.b, pe.size, SG_ERR_FORMAT,
		    "certificate entry at offset 1024 is shorter than its signature (4294967301 "
		    "bytes in 16)");
}

/* ---- compound files (MSI) ---------------------------------------------- */

#define FREESECT   0xffffffffU
#define ENDOFCHAIN 0xfffffffeU
#define FATSECT    0xfffffffdU
#define DIFSECT    0xfffffffcU
#define NOSTREAM   0xffffffffU
#define SIG_BYTES  4096 /* size of the synthetic \x05DigitalSignature stream */

struct cfb_img {
	unsigned char *b;
	size_t size;
	unsigned shift;
	uint32_t ssz;
	uint32_t dir;  /* directory sector */
	uint32_t sig;  /* first sector of the signature stream */
	uint32_t nsig; /* its sector count */
};

static unsigned char *sector(struct cfb_img *c, uint32_t n)
{
	return c->b + (((size_t)n + 1) << c->shift);
}

/* FAT sector k is sector k in these images. */
static void set_fat(struct cfb_img *c, uint32_t n, uint32_t v)
{
	uint32_t per = c->ssz / 4;

	put32(sector(c, n / per) + 4 * (n % per), v);
}

static unsigned char *entry(struct cfb_img *c, uint32_t id)
{
	return sector(c, c->dir) + 128 * id;
}

static void set_entry(struct cfb_img *c, uint32_t id, const char *name, int type, uint32_t left,
		      uint32_t right, uint32_t child, uint32_t start, uint32_t size)
{
	unsigned char *e = entry(c, id);
	size_t n = strlen(name);

	memset(e, 0, 128);
	for (size_t i = 0; i < n; i++)
		put16(e + 2 * i, (unsigned char)name[i]);
	put16(e + 0x40, (uint16_t)(2 * n + 2));
	e[0x42] = (unsigned char)type;
	e[0x43] = 1;
	put32(e + 0x44, left);
	put32(e + 0x48, right);
	put32(e + 0x4c, child);
	put32(e + 0x74, start);
	put32(e + 0x78, size);
}

static void header(struct cfb_img *c, uint32_t nfat, uint32_t ndifat)
{
	unsigned char *h = c->b;
	static const unsigned char magic[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };

	memcpy(h, magic, 8);
	put16(h + 0x18, 0x3e);
	put16(h + 0x1a, c->shift == 9 ? 3 : 4);
	put16(h + 0x1c, 0xfffe);
	put16(h + 0x1e, (uint16_t)c->shift);
	put16(h + 0x20, 6);
	put32(h + 0x28, c->shift == 9 ? 0 : 1);
	put32(h + 0x2c, nfat);
	put32(h + 0x30, c->dir);
	put32(h + 0x38, 4096);
	put32(h + 0x3c, ENDOFCHAIN);
	put32(h + 0x44, ndifat ? nfat : ENDOFCHAIN);
	put32(h + 0x48, ndifat);
	for (uint32_t i = 0; i < 109; i++)
		put32(h + 0x4c + 4 * i, i < nfat ? i : FREESECT);
}

/*
 * Layout: FAT sectors 0..nfat-1, one DIFAT sector when nfat > 109, one
 * directory sector, then a 4096-byte stream. Entries: 0 "Root Entry" (MSI
 * CLSID), 1 "\x05DigitalSignature" (in the root storage when `sign`), 2 a
 * storage "Sub", 3 a stream "\x05DigitalSignature" inside "Sub" that must
 * not count.
 */
static void build_cfb(struct cfb_img *c, unsigned shift, uint32_t nfat, int sign)
{
	static const unsigned char clsid[16] = { 0x84, 0x10, 0x0c, 0, 0, 0, 0, 0,
						 0xc0, 0,    0,    0, 0, 0, 0, 0x46 };
	uint32_t ndifat = nfat > 109, nsectors, i;

	c->shift = shift;
	c->ssz = 1U << shift;
	c->dir = nfat + ndifat;
	c->sig = c->dir + 1;
	c->nsig = SIG_BYTES / c->ssz;
	nsectors = c->sig + c->nsig;
	c->size = ((size_t)nsectors + 1) << shift;
	if (c->size > IMG_MAX)
		abort();
	memset(c->b, 0, c->size);
	header(c, nfat, ndifat);
	memset(sector(c, 0), 0xff, (size_t)nfat * c->ssz);
	for (i = 0; i < nfat; i++)
		set_fat(c, i, FATSECT);
	if (ndifat) {
		set_fat(c, nfat, DIFSECT);
		memset(sector(c, nfat), 0xff, c->ssz);
		for (i = 109; i < nfat; i++)
			put32(sector(c, nfat) + 4 * (i - 109), i);
		put32(sector(c, nfat) + c->ssz - 4, ENDOFCHAIN);
	}
	set_fat(c, c->dir, ENDOFCHAIN);
	for (i = 0; i < c->nsig; i++)
		set_fat(c, c->sig + i, i + 1 < c->nsig ? c->sig + i + 1 : ENDOFCHAIN);
	memset(sector(c, c->sig), 0x30, SIG_BYTES);
	set_entry(c, 0, "Root Entry", 5, NOSTREAM, NOSTREAM, sign ? 1 : 2, ENDOFCHAIN, 0);
	memcpy(entry(c, 0) + 0x50, clsid, 16);
	set_entry(c, 1,
		  "\x05"
		  "DigitalSignature",
		  2, NOSTREAM, 2, NOSTREAM, c->sig, SIG_BYTES);
	set_entry(c, 2, "Sub", 1, NOSTREAM, NOSTREAM, 3, 0, 0);
	set_entry(c, 3,
		  "\x05"
		  "DigitalSignature",
		  2, NOSTREAM, NOSTREAM, NOSTREAM, c->sig, SIG_BYTES);
}

static void test_msi_valid(unsigned char *buf)
{
	struct cfb_img c = { .b = buf };
	sg_format_info info;

	for (unsigned shift = 9; shift <= 12; shift += 3) {
		build_cfb(&c, shift, 1, 0);
		CHECK_INT(inspect_buf("a.msi", c.b, c.size, &info), SG_OK);
		CHECK_STR(sg_format_name(info.kind), "msi");
		CHECK_INT(info.cfb.dse, 0);
		CHECK_INT(info.has_signature, 0);
		CHECK_INT(info.size, c.size);

		build_cfb(&c, shift, 1, 1);
		CHECK_INT(inspect_buf("s.msi", c.b, c.size, &info), SG_OK);
		CHECK_STR(sg_format_name(info.kind), "msi");
		CHECK_INT(info.has_signature, 1);
		CHECK_INT(info.sig_size, SIG_BYTES);
	}

	/* 110 FAT sectors: the 110th is found through a DIFAT sector */
	build_cfb(&c, 9, 110, 1);
	CHECK_INT(inspect_buf("difat.msi", c.b, c.size, &info), SG_OK);
	CHECK_INT(info.has_signature, 1);

	/* the high half of a version 3 stream size is junk to be ignored */
	build_cfb(&c, 9, 1, 1);
	put32(entry(&c, 1) + 0x7c, 0xdeadbeef);
	CHECK_INT(inspect_buf("junk.msi", c.b, c.size, &info), SG_OK);
	CHECK_INT(info.sig_size, SIG_BYTES);
}

/* The Windows Installer rows: one container, told apart by the root class and the name. */
static void test_msi_family(unsigned char *buf)
{
	struct cfb_img c = { .b = buf };
	sg_format_info info;

	build_cfb(&c, 9, 1, 1);
	put32(entry(&c, 0) + 0x50, 0x000c1086); /* a patch */
	CHECK_INT(inspect_buf("p.msp", c.b, c.size, &info), SG_OK);
	CHECK_STR(sg_format_name(info.kind), "msp");
	CHECK_INT(info.has_signature, 1);
	CHECK_INT(info.sig_size, SIG_BYTES);
	CHECK_INT(inspect_buf("p", c.b, c.size, &info), SG_OK);
	CHECK_STR(sg_format_name(info.kind), "msp");
	expect_fail("p.msi", c.b, c.size, SG_ERR_FORMAT,
		    "p.msi: named as an MSI package (.msi) but it is an MSI patch (root CLSID "
		    "{000C1086-0000-0000-C000-000000000046})");
	expect_fail("p.exe", c.b, c.size, SG_ERR_FORMAT,
		    "p.exe: named as a PE image (.exe) but it is an MSI patch");

	put32(entry(&c, 0) + 0x50, 0x000c1082); /* a transform */
	CHECK_INT(inspect_buf("t.MST", c.b, c.size, &info), SG_OK);
	CHECK_STR(sg_format_name(info.kind), "mst");
	expect_fail("t.msp", c.b, c.size, SG_ERR_FORMAT,
		    "t.msp: named as an MSI patch (.msp) but it is an MSI transform (root CLSID "
		    "{000C1082-0000-0000-C000-000000000046})");

	put32(entry(&c, 0) + 0x50, 0x000c1084); /* a package: an MSI, or a merge module */
	CHECK_INT(inspect_buf("m.msm", c.b, c.size, &info), SG_OK);
	CHECK_STR(sg_format_name(info.kind), "msm");
	CHECK_INT(inspect_buf("m.msi", c.b, c.size, &info), SG_OK);
	CHECK_STR(sg_format_name(info.kind), "msi");
	CHECK_INT(inspect_buf("m.dat", c.b, c.size, &info), SG_OK);
	CHECK_STR(sg_format_name(info.kind), "msi");
	expect_fail("m.msp", c.b, c.size, SG_ERR_FORMAT,
		    "m.msp: named as an MSI patch (.msp) but it is an MSI package (root CLSID "
		    "{000C1084-0000-0000-C000-000000000046})");

	put32(entry(&c, 0) + 0x50, 0x000c1085); /* no Windows Installer class */
	expect_fail("x.msp", c.b, c.size, SG_ERR_FORMAT,
		    "x.msp: not an MSI patch (compound file with CLSID "
		    "{000C1085-0000-0000-C000-000000000046})");
}

static void test_msi_header(unsigned char *buf)
{
	struct cfb_img c = { .b = buf };

	build_cfb(&c, 9, 1, 1);
	expect_fail("short.msi", c.b, 100, SG_ERR_FORMAT,
		    "truncated: compound file header ends at 512, beyond the end of the file (100 "
		    "bytes)");

	build_cfb(&c, 9, 1, 1);
	put16(c.b + 0x1c, 0xfeff);
	expect_fail("order.msi", c.b, c.size, SG_ERR_FORMAT, "bad compound file byte order 0xfeff");

	build_cfb(&c, 9, 1, 1);
	put16(c.b + 0x1e, 12);
	expect_fail("ver.msi", c.b, c.size, SG_ERR_FORMAT,
		    "unsupported compound file version 3 with sector shift 12");

	build_cfb(&c, 9, 1, 1);
	put16(c.b + 0x20, 7);
	expect_fail("mini.msi", c.b, c.size, SG_ERR_FORMAT, "bad mini sector shift 7 (must be 6)");

	build_cfb(&c, 9, 1, 1);
	put32(c.b + 0x38, 8192);
	expect_fail("cutoff.msi", c.b, c.size, SG_ERR_FORMAT, "bad mini stream cutoff 8192");

	build_cfb(&c, 9, 1, 1);
	expect_fail("tiny.msi", c.b, 1024, SG_ERR_FORMAT, "fewer than 3 sectors");

	build_cfb(&c, 9, 1, 1);
	put32(c.b + 0x2c, 1000);
	expect_fail("nfat.msi", c.b, c.size, SG_ERR_FORMAT,
		    "truncated: 1000 FAT sectors listed, the file has 10 sectors");

	build_cfb(&c, 9, 1, 1);
	put32(c.b + 0x2c, 0);
	expect_fail("nofat.msi", c.b, c.size, SG_ERR_FORMAT, "compound file without a FAT");

	build_cfb(&c, 9, 1, 1);
	put32(c.b + 0x4c, 500);
	expect_fail("fatsect.msi", c.b, c.size, SG_ERR_FORMAT,
		    "truncated: FAT sector 500 (offset 256512) is beyond the end of the file "
		    "(5632 bytes)");

	build_cfb(&c, 9, 1, 1);
	put32(c.b + 0x4c, FREESECT);
	expect_fail("fatfree.msi", c.b, c.size, SG_ERR_FORMAT, "bad FAT sector number 0xffffffff");

	build_cfb(&c, 9, 110, 1);
	put32(c.b + 0x48, 0);
	expect_fail("ndifat.msi", c.b, c.size, SG_ERR_FORMAT,
		    "110 FAT sectors need 1 DIFAT sectors, the header lists 0");

	build_cfb(&c, 9, 110, 1);
	put32(c.b + 0x44, 7777);
	expect_fail("difat.msi", c.b, c.size, SG_ERR_FORMAT, "truncated: DIFAT sector 7777");

	build_cfb(&c, 9, 110, 1);
	put32(sector(&c, 110), 9999);
	expect_fail("difat2.msi", c.b, c.size, SG_ERR_FORMAT, "truncated: FAT sector 9999");
}

static void test_msi_chains(unsigned char *buf)
{
	struct cfb_img c = { .b = buf };

	build_cfb(&c, 9, 1, 1);
	set_fat(&c, c.dir, c.dir);
	expect_fail("loop1.msi", c.b, c.size, SG_ERR_FORMAT,
		    "directory chain loops back to sector 1");

	/* a longer loop: dir -> sig stream sectors -> back into the stream */
	build_cfb(&c, 9, 1, 1);
	set_fat(&c, c.dir, c.sig);
	set_fat(&c, c.sig + c.nsig - 1, c.sig + 2);
	expect_fail("loop2.msi", c.b, c.size, SG_ERR_FORMAT,
		    "directory chain loops back to sector");

	build_cfb(&c, 9, 1, 1);
	set_fat(&c, c.dir, FREESECT);
	expect_fail("free.msi", c.b, c.size, SG_ERR_FORMAT,
		    "directory chain: sector 1 links to 0xffffffff");

	build_cfb(&c, 9, 1, 1);
	set_fat(&c, c.dir, 0);
	expect_fail("zero.msi", c.b, c.size, SG_ERR_FORMAT,
		    "directory chain: sector 1 links to 0x0");

	build_cfb(&c, 9, 1, 1);
	put32(c.b + 0x30, 40);
	expect_fail("dir.msi", c.b, c.size, SG_ERR_FORMAT, "truncated: directory sector 40");

	build_cfb(&c, 9, 1, 1);
	put32(c.b + 0x30, 0);
	expect_fail("dir0.msi", c.b, c.size, SG_ERR_FORMAT, "directory starts at sector 0");

	/* a stream cut off: the FAT still allocates the missing sectors */
	build_cfb(&c, 9, 1, 1);
	expect_fail("cut.msi", c.b, c.size - 1024, SG_ERR_FORMAT,
		    "truncated: the FAT allocates sector 8 (offset 4608), beyond the end of the "
		    "file (4608 bytes)");

	/* every cut of a valid file is refused */
	for (unsigned shift = 9; shift <= 12; shift += 3) {
		sg_format_info info;
		int refused = 0;

		build_cfb(&c, shift, 1, 1);
		for (size_t len = 1; len < c.size; len += 61)
			refused += inspect_buf("cut.msi", c.b, len, &info) == SG_ERR_FORMAT;
		CHECK_INT(refused, (c.size - 2) / 61 + 1);
	}
}

static void test_msi_root(unsigned char *buf)
{
	struct cfb_img c = { .b = buf };

	build_cfb(&c, 9, 1, 1);
	put32(entry(&c, 0) + 0x50, 0x00020906);
	put16(entry(&c, 0) + 0x54, 0);
	expect_fail("word.doc", c.b, c.size, SG_ERR_FORMAT,
		    "word.doc: not an installer signgate signs (compound file with CLSID "
		    "{00020906-0000-0000-C000-000000000046})");
	/* named as an installer: the name says what it is not */
	expect_fail("word.msi", c.b, c.size, SG_ERR_FORMAT,
		    "word.msi: not an MSI package (compound file with CLSID "
		    "{00020906-0000-0000-C000-000000000046})");

	build_cfb(&c, 9, 1, 1);
	entry(&c, 0)[0x42] = 1;
	expect_fail("root.msi", c.b, c.size, SG_ERR_FORMAT,
		    "directory entry 0 has type 1, not 5 (root storage)");

	build_cfb(&c, 9, 1, 1);
	entry(&c, 0)[0] = 'r';
	expect_fail("rootname.msi", c.b, c.size, SG_ERR_FORMAT,
		    "root directory entry is not named \"Root Entry\"");

	build_cfb(&c, 9, 1, 1);
	entry(&c, 0)[0x64] = 1;
	expect_fail("ctime.msi", c.b, c.size, SG_ERR_FORMAT,
		    "root directory entry has a creation time");
}

static void test_msi_tree(unsigned char *buf)
{
	struct cfb_img c = { .b = buf };
	sg_format_info info;

	build_cfb(&c, 9, 1, 1);
	put16(entry(&c, 2) + 0x40, 66);
	expect_fail("namelen.msi", c.b, c.size, SG_ERR_FORMAT,
		    "directory entry 2 has a bad name length 66");

	build_cfb(&c, 9, 1, 1);
	put16(entry(&c, 2) + 0x40, 4);
	expect_fail("nonul.msi", c.b, c.size, SG_ERR_FORMAT,
		    "directory entry 2 has a bad name length 4");

	build_cfb(&c, 9, 1, 1);
	entry(&c, 3)[0x42] = 0;
	expect_fail("type.msi", c.b, c.size, SG_ERR_FORMAT,
		    "directory entry 3 has type 0, not 1 or 2 (storage or stream)");

	build_cfb(&c, 9, 1, 1);
	put32(entry(&c, 1) + 0x4c, 3);
	expect_fail("child.msi", c.b, c.size, SG_ERR_FORMAT,
		    "directory entry 1 is a stream with a child link");

	build_cfb(&c, 9, 1, 1);
	put32(entry(&c, 2) + 0x48, 1);
	expect_fail("cycle.msi", c.b, c.size, SG_ERR_FORMAT,
		    "directory tree has a cycle (entry 1 is reached twice)");

	build_cfb(&c, 9, 1, 1);
	put32(entry(&c, 3) + 0x44, 0);
	expect_fail("toroot.msi", c.b, c.size, SG_ERR_FORMAT, "directory entry 3 links to entry 0");

	build_cfb(&c, 9, 1, 1);
	put32(entry(&c, 1) + 0x48, 50);
	expect_fail("range.msi", c.b, c.size, SG_ERR_FORMAT,
		    "directory entry 1 links to entry 50 (the directory has 4 entries)");

	build_cfb(&c, 9, 1, 1);
	put32(entry(&c, 1) + 0x78, 1U << 30);
	expect_fail("big.msi", c.b, c.size, SG_ERR_FORMAT,
		    "stream \"\\x05DigitalSignature\" (entry 1) claims 1073741824 bytes");

	/* the signature inside a sub-storage is not the package's signature */
	build_cfb(&c, 9, 1, 0);
	CHECK_INT(inspect_buf("sub.msi", c.b, c.size, &info), SG_OK);
	CHECK_INT(info.has_signature, 0);

	/*
	 * a storage named \x05DigitalSignature in the root: osslsigncode reads it
	 * as the signature, Windows finds none; refused
	 */
	build_cfb(&c, 9, 1, 1);
	entry(&c, 1)[0x42] = 1;
	put32(entry(&c, 1) + 0x78, 0);
	expect_fail("stor.msi", c.b, c.size, SG_ERR_FORMAT,
		    "directory entry 1 is a storage named like a signature stream");
}

/* ---- other input --------------------------------------------------------- */

static void test_other(void)
{
	static const char text[] = "Hello, world\n";
	sg_format_info info;
	char path[256];
	int fd;

	expect_fail("notes.txt", text, sizeof(text) - 1, SG_ERR_FORMAT,
		    "notes.txt: not an installer signgate signs (pe, msi, msp, msm, mst, cab, powershell): it "
		    "starts with 48 65 6c 6c 6f 2c 20 77 \"Hello, w\"");
	expect_fail("x", "\x7f", 1, SG_ERR_FORMAT,
		    "x: not an installer signgate signs (pe, msi, msp, msm, mst, cab, powershell): it starts with "
		    "7f \".\"");
	expect_fail("empty.exe", "", 0, SG_ERR_FORMAT, "empty.exe: empty file");
	CHECK_INT(inspect_buf("t.txt", text, sizeof(text) - 1, &info), SG_ERR_FORMAT);
	CHECK_INT(info.size, sizeof(text) - 1);

	/* past osslsigncode's 4 GiB limit (a sparse file) */
	snprintf(path, sizeof(path), "%s/huge.exe", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, "MZ", 2) == 2 && ftruncate(fd, (off_t)1 << 32) == 0);
	CHECK_INT(sg_format_inspect(&info, fd, "huge.exe"), SG_ERR_FORMAT);
	CHECK_CONTAINS(
		sg_error_last(),
		"huge.exe: too large: 4294967296 bytes (osslsigncode takes at most 4294967295)");
	close(fd);
	unlink(path);

	fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK_INT(sg_format_inspect(&info, fd, "dir"), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "dir: not a regular file");
	close(fd);

	CHECK_INT(sg_format_inspect(&info, -1, "bad-fd"), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "bad-fd: fstat failed: Bad file descriptor");

	CHECK_STR(sg_format_name(sg_format_by_name("pe")), "pe");
	CHECK_STR(sg_format_name(sg_format_by_name("msi")), "msi");
	CHECK_STR(sg_format_name(sg_format_by_name("msp")), "msp");
	CHECK_STR(sg_format_name(sg_format_by_name("msm")), "msm");
	CHECK_STR(sg_format_name(sg_format_by_name("mst")), "mst");
	CHECK_STR(sg_format_name(SG_FORMAT_UNKNOWN), "unknown");
	CHECK_STR(sg_format_name((sg_format_kind)42), "unknown");
}

/* ---- real installers from the command line ------------------------------ */

static void check_real(const char *path, const char *kind, int sign)
{
	sg_format_info info;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	CHECK(fd >= 0);
	if (fd < 0) {
		perror(path);
		return;
	}
	rc = sg_format_inspect(&info, fd, path);
	close(fd);
	if (rc != SG_OK)
		fprintf(stderr, "%s\n", sg_error_last());
	CHECK_INT(rc, SG_OK);
	CHECK_STR(sg_format_name(info.kind), kind);
	CHECK_INT(info.has_signature, sign);
	CHECK(!sign || info.sig_size > 0);
	printf("%s: %s, %d-bit, signature %s (offset %llu, %llu bytes)\n", path,
	       sg_format_name(info.kind), info.kind == sg_format_by_name("pe") ? info.pe.bits : 0,
	       info.has_signature ? "yes" : "no", (unsigned long long)info.sig_offset,
	       (unsigned long long)info.sig_size);
}

static int real_files(int argc, char **argv)
{
	static const struct {
		const char *opt;
		const char *kind;
		int sign;
	} opts[] = {
		{ "--pe", "pe", 0 },   { "--signed-pe", "pe", 1 },
		{ "--msi", "msi", 0 }, { "--signed-msi", "msi", 1 },
		{ "--msp", "msp", 0 }, { "--signed-msp", "msp", 1 },
		{ "--msm", "msm", 0 }, { "--mst", "mst", 0 },
	};

	for (int i = 1; i < argc; i += 2) {
		size_t k;

		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (strcmp(argv[i], opts[k].opt) == 0)
				break;
		if (k == sizeof(opts) / sizeof(opts[0]) || i + 1 >= argc) {
			fprintf(stderr, "usage: test_format [--[signed-]pe FILE]... "
					"[--[signed-]msi FILE]... [--[signed-]msp FILE]... "
					"[--msm FILE]... [--mst FILE]...\n");
			return -1;
		}
		check_real(argv[i + 1], opts[k].kind, opts[k].sign);
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char *buf;
	int rc;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	buf = malloc(IMG_MAX);
	if (!buf)
		return 2;
	test_pe_valid();
	test_pe_headers();
	test_pe_sections();
	test_pe_cert_table();
	test_pe_cert_entries();
	test_msi_valid(buf);
	test_msi_header(buf);
	test_msi_chains(buf);
	test_msi_root(buf);
	test_msi_tree(buf);
	test_msi_family(buf);
	test_other();
	rc = real_files(argc, argv);
	free(buf);
	rmdir(tmpdir);
	if (rc < 0)
		return 2;
	return check_done();
}

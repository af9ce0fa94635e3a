/*
 * Red team R3 (issue 14, second session): regression tests for what the
 * format engineer changed. Needs no fixture.
 *
 * 1. sg_format_signature_read() of a script trusts the layout inspect
 *    recorded (b64_len, the block's offset): when the file's bytes change
 *    after inspect but its size does not, collect_b64() copies every
 *    base64 character it meets into a buffer of b64_len + 1 bytes (heap
 *    overflow; ASan names it in the sanitizer and fuzz builds), and the
 *    decoder then writes past its own buffer too. Wanted: the read is
 *    refused as "not the script that was inspected". FAILS NOW. The
 *    digest has the same cause: it hashes bytes inspect never checked,
 *    and non-UTF-8 bytes can give the inspected text's digest. FAILS NOW.
 * 2. A PE certificate table whose size is not the sum of its entries'
 *    rounded dwLength (a table that ends without the last entry's padding):
 *    osslsigncode calls it "Corrupted attribute certificate table" and
 *    reads no signature from it; signgate's structure check accepts it and
 *    reports the file as signed. Wanted: refused. FAILS NOW.
 */
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/util.h"

#include "check.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *workdir;

__attribute__((noreturn)) static void setup_fail(const char *what)
{
	fprintf(stderr, "test_red_r3: setup failed: %s\n", what);
	exit(2);
}

static int write_file(const char *name, const void *data, size_t len)
{
	const char *path = check_path(workdir, name);
	int fd;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		setup_fail("cannot write a test file");
	return fd;
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 of `n` bytes into `out` (room for 4 * (n + 2) / 3 + 1). */
static size_t b64(char *out, const unsigned char *p, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64chars[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64chars[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* A signed-looking script: one DER SEQUENCE of 4100 bytes in a well-formed block. */
static char *script_with_block(size_t *len, size_t *block_at)
{
	static const char head[] = "Write-Host 1\r\n";
	enum { DER = 4100 };
	unsigned char der[DER] = { 0x30, 0x82, 0x10, 0x00 };
	char enc[4 * DER / 3 + 8];
	size_t n = b64(enc, der, DER), cap = n * 2 + 256, o = 0;
	char *s = malloc(cap);

	if (!s)
		setup_fail("out of memory");
	o += (size_t)snprintf(s + o, cap - o, "%s# SIG # Begin signature block\r\n", head);
	*block_at = strlen(head);
	for (size_t i = 0; i < n; i += 64)
		o += (size_t)snprintf(s + o, cap - o, "# %.*s\r\n", (int)(n - i < 64 ? n - i : 64),
				      enc + i);
	o += (size_t)snprintf(s + o, cap - o, "# SIG # End signature block\r\n");
	*len = o;
	return s;
}

static void test_script_changed_after_inspect(void)
{
	size_t len = 0, block_at = 0, box_len = 0, at = 0, der_len = 0;
	char *s = script_with_block(&len, &block_at);
	int fd = write_file("changed.ps1", s, len);
	unsigned char *box = NULL;
	sg_format_info info;
	int rc;

	CHECK_INT(sg_format_inspect(&info, fd, "changed.ps1"), SG_OK);
	CHECK_INT(info.has_signature, 1);
	/* Control: unchanged, the block reads back as the one DER SEQUENCE. */
	CHECK_INT(sg_format_signature_read(&box, &box_len, &at, &der_len, fd, &info, 1u << 20,
					   "changed.ps1"),
		  SG_OK);
	CHECK(box_len == 4100 && box && box[0] == 0x30);
	free(box);
	box = NULL;
	/*
	 * Same size, other bytes: every CR, LF, '#' and space of the block is
	 * now a base64 character. collect_b64() reads on to the end of the file.
	 */
	for (size_t i = block_at + 4; i < len; i++)
		if (!strchr(b64chars, s[i]))
			s[i] = 'A';
	CHECK(pwrite(fd, s, len, 0) == (ssize_t)len);
	rc = sg_format_signature_read(&box, &box_len, &at, &der_len, fd, &info, 1u << 20,
				      "changed.ps1");
	CHECK(rc != SG_OK);
	CHECK_CONTAINS(sg_error_last(), "not the script that was inspected");
	free(box);
	close(fd);
	free(s);
}

/*
 * The digest read after inspect does not check the text again, and
 * hash_utf8() takes any bytes: "caf\xc3\xa9" (valid) and "caf\xc3)" (not
 * UTF-8; Windows decodes U+FFFD ')') give one digest. A file changed after
 * inspect (same size) is digested as the inspected text was: wanted
 * refused. FAILS NOW (before 601f399 the digest parsed the file again).
 */
static void test_script_digest_after_change(void)
{
	char text[] = "\xef\xbb\xbfWrite-Host 'caf\xc3\xa9'\r\n";
	unsigned char md1[SG_FORMAT_DIGEST_MAX], md2[SG_FORMAT_DIGEST_MAX];
	size_t n1 = 0, n2 = 0, len = strlen(text);
	int fd = write_file("cafe.ps1", text, len);
	sg_format_info info;
	char *e = strchr(text, '\xc3');
	int rc;

	CHECK_INT(sg_format_inspect(&info, fd, "cafe.ps1"), SG_OK);
	CHECK_INT(sg_format_digest(md1, &n1, fd, &info, SG_FORMAT_DIGEST_FILE, "cafe.ps1"), SG_OK);
	e[1] = ')'; /* 0xa9 & 0x3f == ')' & 0x3f */
	CHECK(pwrite(fd, text, len, 0) == (ssize_t)len);
	/* the changed text is no UTF-8: inspect refuses it */
	{
		sg_format_info again;

		CHECK_INT(sg_format_inspect(&again, fd, "cafe.ps1"), SG_ERR_FORMAT);
	}
	rc = sg_format_digest(md2, &n2, fd, &info, SG_FORMAT_DIGEST_FILE, "cafe.ps1");
	/* wanted: refused; now: the old text's digest for other bytes */
	CHECK(rc != SG_OK || n1 != n2 || memcmp(md1, md2, n1) != 0);
	close(fd);
}

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

/*
 * A minimal PE32 (as test_format.c builds it) with a certificate table at
 * 0x400 of one entry: dwLength 20 (a 12-byte DER SEQUENCE), and a table
 * (and file) that ends there, without the entry's padding to 24.
 */
static void test_pe_table_unpadded(void)
{
	unsigned char b[0x400 + 24] = { 'M', 'Z' };
	size_t opt = 0x80 + 24, dirs = opt + 96, sec = opt + 224;
	sg_format_info info;
	int fd, rc;

	put32(b + 0x3c, 0x80);
	memcpy(b + 0x80, "PE\0\0", 4);
	put16(b + 0x84, 0x14c);
	put16(b + 0x86, 1);
	put16(b + 0x94, 224);
	put16(b + 0x96, 0x0102);
	put16(b + opt, 0x10b);
	put32(b + dirs - 4, 16);
	memcpy(b + sec, ".text", 5);
	put32(b + sec + 8, 0x200);
	put32(b + sec + 12, 0x1000);
	put32(b + sec + 16, 0x200);
	put32(b + sec + 20, 0x200);
	memset(b + 0x200, 0xc3, 0x200);
	put32(b + dirs + 8 * 4, 0x400);
	put32(b + dirs + 8 * 4 + 4, 20);
	put32(b + 0x400, 20);
	put16(b + 0x404, 0x0200);
	put16(b + 0x406, 2);
	b[0x408] = 0x30;
	b[0x409] = 10;

	/* Control: the same entry with its padding in the table is accepted. */
	put32(b + dirs + 8 * 4 + 4, 24);
	fd = write_file("padded.exe", b, sizeof(b));
	CHECK_INT(sg_format_inspect(&info, fd, "padded.exe"), SG_OK);
	close(fd);

	put32(b + dirs + 8 * 4 + 4, 20);
	fd = write_file("unpadded.exe", b, 0x400 + 20);
	rc = sg_format_inspect(&info, fd, "unpadded.exe");
	close(fd);
	CHECK_INT(rc, SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "unpadded.exe: certificate table");
}

int main(void)
{
	if (check_workdir_create(&workdir) != SG_OK)
		setup_fail(sg_error_last());
	/* the PE test first: under ASan the script test stops the program */
	test_pe_table_unpadded();
	test_script_digest_after_change();
	test_script_changed_after_inspect();
	check_workdir_remove(&workdir);
	free(workdir);
	return check_done();
}

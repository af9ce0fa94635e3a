/*
 * Unit tests for lib/format_script.c: PowerShell scripts written here in
 * each encoding, signgate's own digest against the one osslsigncode
 * computes ("Calculated message digest") and signs, the signature block read
 * against osslsigncode extract-signature, and every refusal with its reason.
 *
 *   test_script FIXDIR [OSSLSIGNCODE]
 *
 * FIXDIR is the CTest fixture (tests/integration/fixture-setup.sh): pki/.
 */
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/hash.h"
#include "proc.h"
#include "format_script.h"
#include "signgate/util.h"

#include "check.h"
#include "check_ossl.h"

#include <limits.h>

/* Write `len` bytes of `data` to `name` in the work folder; its path. */
static const char *put(const char *name, const void *data, size_t len)
{
	const char *path = check_path(workdir, name);

	unlink(path);
	if (sg_write_private(path, data, len) != SG_OK)
		setup_fail(sg_error_last());
	return path;
}

/* Sign `in` into `out` with the fixture's signer (`nest`: add a nested signature). */
static void sign(const char *in, const char *out, int nest)
{
	char p12[PATH_MAX], pass[PATH_MAX];
	const char *argv[16] = { NULL, "sign",   "-pkcs12", p12, "-readpass", pass,
				 "-h", "sha256", "-in",     in,  "-out",      out };
	int n = 12;

	snprintf(p12, sizeof(p12), "%s", check_path(fixdir, "pki/signer.p12"));
	snprintf(pass, sizeof(pass), "%s", check_path(fixdir, "pki/signer.pass"));
	if (nest)
		argv[n++] = "-nest";
	argv[n] = NULL;
	unlink(out);
	ossl(NULL, 0, argv);
}

/* sg_script_digest() of `path`, upper-case hex ("" when it fails: the code is returned). */
static int own(char *hex, const char *path, const char *name)
{
	unsigned char md[SG_SCRIPT_DIGEST_LEN];
	int fd = open(path, O_RDONLY), rc;

	hex[0] = '\0';
	if (fd < 0)
		setup_fail(path);
	rc = sg_script_digest(md, fd, name);
	if (rc == SG_OK)
		sg_hex_encode_upper(hex, md, sizeof(md));
	close(fd);
	return rc;
}

/*
 * Through the row, from the info inspect filled (the text and the block are
 * read once each, not parsed again): the same digest as `hex` and the same
 * DER as `want` (NULL: unsigned); an info of another size is refused.
 */
static void through_row(const char *path, const char *name, const char *hex,
			const unsigned char *want, size_t want_len)
{
	unsigned char md[SG_FORMAT_DIGEST_MAX], *box = NULL;
	size_t md_len = 0, len = 0, at = 9, der_len = 0;
	char got[2 * SG_FORMAT_DIGEST_MAX + 1] = "";
	sg_format_info info, stale;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		setup_fail(path);
	CHECK_INT(sg_format_inspect(&info, fd, name), SG_OK);
	CHECK_INT(sg_format_digest(md, &md_len, fd, &info, SG_FORMAT_DIGEST_SIGN, name), SG_OK);
	CHECK_INT(md_len, SG_SCRIPT_DIGEST_LEN);
	if (md_len == SG_SCRIPT_DIGEST_LEN)
		sg_hex_encode_upper(got, md, md_len);
	CHECK_STR(got, hex);
	if (want) {
		CHECK_INT(sg_format_signature_read(&box, &len, &at, &der_len, fd, &info, 1u << 20, name),
			  SG_OK);
		CHECK(box && len == want_len && at == 0 && der_len == len &&
		      memcmp(box, want, len) == 0);
		free(box);
		/* a container larger than the caller's limit is refused */
		CHECK_INT(sg_format_signature_read(&box, &len, &at, &der_len, fd, &info, 16, name),
			  SG_ERR_FORMAT);
		CHECK_CONTAINS(sg_error_last(), "the signature block is too large");
	} else {
		CHECK_INT(sg_format_signature_read(&box, &len, &at, &der_len, fd, &info, 1u << 20, name),
			  SG_ERR_FORMAT);
		CHECK_CONTAINS(sg_error_last(), "the script has no signature block");
	}
	stale = info;
	stale.size++;
	CHECK_INT(sg_format_digest(md, &md_len, fd, &stale, SG_FORMAT_DIGEST_SIGN, name),
		  SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "not the script that was inspected");
	stale = info;
	stale.script.encoding = 0;
	CHECK_INT(sg_format_digest(md, &md_len, fd, &stale, SG_FORMAT_DIGEST_SIGN, name),
		  SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "not an inspected script");
	close(fd);
}

static int inspect(sg_format_info *info, const char *path, const char *name)
{
	int fd = open(path, O_RDONLY), rc;

	if (fd < 0)
		setup_fail(path);
	rc = sg_format_inspect(info, fd, name);
	close(fd);
	return rc;
}

/*
 * One script, `len` bytes, saved as `name`: its digest unsigned, signed by
 * osslsigncode (which must compute and sign the same), the signed file's
 * layout, its signature block against extract-signature, and nested.
 */
static void against_osslsigncode(const char *name, const void *text, size_t len, int encoding)
{
	char plain[64], signed_name[80], nested_name[96], der_name[96];
	char mine[65], theirs[65], after[65];
	const char *in, *out, *nest, *der_path;
	unsigned char *der = NULL, *want;
	size_t der_len = 0, want_len = 0;
	sg_format_info info;
	int fd;

	snprintf(plain, sizeof(plain), "%s", name);
	snprintf(signed_name, sizeof(signed_name), "signed-%s", name);
	snprintf(nested_name, sizeof(nested_name), "nested-%s", name);
	snprintf(der_name, sizeof(der_name), "%s.der", name);
	in = put(plain, text, len);
	CHECK_INT(inspect(&info, in, plain), SG_OK);
	CHECK_STR(sg_format_name(info.kind), "powershell");
	CHECK_INT(info.script.encoding, encoding);
	CHECK_INT(info.has_signature, 0);
	CHECK_INT(own(mine, in, plain), SG_OK);
	through_row(in, plain, mine, NULL, 0);
	out = check_path(workdir, signed_name);
	sign(in, out, 0);
	ossl_report_value(theirs, sizeof(theirs), out, "0", "Calculated message digest");
	CHECK_STR(mine, theirs);
	CHECK_INT(own(after, out, signed_name), SG_OK);
	CHECK_STR(after, mine);
	CHECK_INT(inspect(&info, out, signed_name), SG_OK);
	CHECK_INT(info.has_signature, 1);
	CHECK_INT(info.sig_offset, len); /* the block starts where the script ended */
	/* The block's DER is what osslsigncode extracts. */
	der_path = check_path(workdir, der_name);
	{
		const char *argv[] = {
			NULL, "extract-signature", "-in", out, "-out", der_path, NULL
		};
		unlink(der_path);
		ossl(NULL, 0, argv);
	}
	want = slurp(der_path, &want_len);
	fd = open(out, O_RDONLY);
	CHECK_INT(sg_script_signature_read(&der, &der_len, fd, signed_name), SG_OK);
	close(fd);
	CHECK(der && der_len == want_len && memcmp(der, want, der_len) == 0);
	through_row(out, signed_name, mine, want, want_len);
	free(der);
	free(want);
	/* Nested: still one block, the same digest. */
	nest = check_path(workdir, nested_name);
	sign(out, nest, 1);
	CHECK_INT(own(after, nest, nested_name), SG_OK);
	CHECK_STR(after, mine);
	ossl_report_value(theirs, sizeof(theirs), nest, "0", "Calculated message digest");
	CHECK_STR(theirs, mine);
}

/* `text` (UTF-8) as UTF-16LE with its BOM into `out`; the byte count. */
static size_t to_utf16(unsigned char *out, size_t cap, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t o = 0;

	out[o++] = 0xff;
	out[o++] = 0xfe;
	while (*p && o + 4 <= cap) {
		unsigned long c = *p;
		size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		if (n > 1)
			c &= 0x3fu >> (n - 1);
		for (size_t k = 1; k < n; k++)
			c = c << 6 | (p[k] & 0x3fu);
		p += n;
		if (c >= 0x10000) {
			unsigned long hi = 0xd800 + ((c - 0x10000) >> 10);
			out[o++] = (unsigned char)hi;
			out[o++] = (unsigned char)(hi >> 8);
			c = 0xdc00 + (c & 0x3ff);
		}
		out[o++] = (unsigned char)c;
		out[o++] = (unsigned char)(c >> 8);
	}
	return o;
}

static const char ascii_crlf[] =
	"param([string]$Name = 'world')\r\nWrite-Host \"Hello, $Name\"\r\n";
static const char ascii_lf[] = "Write-Output 1\nWrite-Output 2\n";
static const char ascii_bare[] = "Write-Output 'no newline at the end'";
/* é, €, 😀 (beyond the BMP), and a BOM character inside the text */
static const char unicode[] = "\xef\xbb\xbf# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\r\n"
			      "Write-Host '\xc3\xa9\xef\xbb\xbf'\r\n";

static void test_against_osslsigncode(void)
{
	unsigned char u16[512];
	size_t n;

	against_osslsigncode("crlf.ps1", ascii_crlf, strlen(ascii_crlf), SG_SCRIPT_ASCII);
	against_osslsigncode("lf.psm1", ascii_lf, strlen(ascii_lf), SG_SCRIPT_ASCII);
	against_osslsigncode("bare.psd1", ascii_bare, strlen(ascii_bare), SG_SCRIPT_ASCII);
	against_osslsigncode("bom.ps1", unicode, strlen(unicode), SG_SCRIPT_UTF8BOM);
	against_osslsigncode("upper.PS1", unicode, strlen(unicode), SG_SCRIPT_UTF8BOM);
	n = to_utf16(u16, sizeof(u16), unicode + 3);
	against_osslsigncode("utf16.ps1", u16, n, SG_SCRIPT_UTF16LE);
	n = to_utf16(u16, sizeof(u16), ascii_lf);
	against_osslsigncode("utf16.psd1", u16, n, SG_SCRIPT_UTF16LE);
}

/*
 * The same text in UTF-8 with BOM and in UTF-16LE is the same script for
 * PowerShell, and has the same digest; without the BOM it is another.
 */
static void test_same_text(void)
{
	unsigned char u16[256];
	char a[65], b[65], c[65];
	const char *text = "\xef\xbb\xbfWrite-Host 'x'\r\n";
	size_t n = to_utf16(u16, sizeof(u16), text + 3);

	CHECK_INT(own(a, put("same8.ps1", text, strlen(text)), "same8.ps1"), SG_OK);
	CHECK_INT(own(b, put("same16.ps1", u16, n), "same16.ps1"), SG_OK);
	CHECK_INT(own(c, put("sameascii.ps1", text + 3, strlen(text) - 3), "sameascii.ps1"), SG_OK);
	CHECK_STR(a, b);
	CHECK(strcmp(a, c) != 0);
}

/* `len` bytes named `name` are refused, the message holding `why`. */
static void refused(const char *name, const void *data, size_t len, const char *why)
{
	char hex[65];
	sg_format_info info;
	const char *path = put(name, data, len);

	CHECK_INT(inspect(&info, path, name), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), why);
	CHECK_STR(sg_format_name(info.kind), "unknown");
	CHECK_INT(own(hex, path, name), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), why);
}

#define REFUSED(name, lit, why) refused(name, lit, sizeof(lit) - 1, why)

static void test_encodings_refused(void)
{
	unsigned char big[8];

	REFUSED("e.ps1", "", "e.ps1: empty file");
	REFUSED("be.ps1", "\xfe\xff\0W",
		"be.ps1: UTF-16BE (byte order mark FE FF) is not supported");
	REFUSED("u32le.ps1", "\xff\xfe\0\0W\0\0\0", "UTF-32LE (byte order mark FF FE 00 00)");
	REFUSED("u32be.ps1", "\0\0\xfe\xff\0\0\0W", "UTF-32BE (byte order mark 00 00 FE FF)");
	REFUSED("odd.ps1", "\xff\xfeW\0r", "UTF-16LE with an odd number of bytes (5)");
	REFUSED("bom16.ps1", "\xff\xfe", "no script text, only a byte order mark");
	REFUSED("bom8.ps1", "\xef\xbb\xbf", "no script text, only a byte order mark");
	/* osslsigncode takes no file under 4 bytes: refused here first, with the reason */
	REFUSED("ls.ps1", "ls\n", "ls.ps1: 3 bytes: too short for a script signgate signs (at least 4)");
	REFUSED("nul.ps1", "ab\0c",
		"a NUL character at offset 2 (UTF-16 without a byte order mark?");
	REFUSED("nobom16.ps1", "W\0r\0", "a NUL character at offset 1");
	REFUSED("nul16.ps1", "\xff\xfeW\0\0\0", "a NUL character at offset 4");
	REFUSED("ansi.ps1", "# caf\xc3\xa9",
		"byte 0xc3 at offset 5 is not ASCII, and the file has "
		"no byte order mark");
	REFUSED("latin1.ps1", "# caf\xe9", "byte 0xe9 at offset 5 is not ASCII");
	REFUSED("c0.ps1", "\xef\xbb\xbf\xc0\xaf",
		"invalid UTF-8 at offset 3: an overlong encoding");
	REFUSED("e0.ps1",
		"\xef\xbb\xbf"
		"a\xe0\x80\xaf",
		"invalid UTF-8 at offset 4: an overlong");
	REFUSED("f0.ps1", "\xef\xbb\xbf\xf0\x80\x80\xaf", "at offset 3: an overlong encoding");
	REFUSED("sur.ps1", "\xef\xbb\xbf\xed\xa0\x80", "a UTF-16 surrogate encoded in UTF-8");
	REFUSED("big.ps1", "\xef\xbb\xbf\xf4\x90\x80\x80", "a code point beyond U+10FFFF");
	REFUSED("f5.ps1", "\xef\xbb\xbf\xf5\x80\x80\x80", "a byte UTF-8 never uses");
	REFUSED("ff.ps1", "\xef\xbb\xbfx\xff", "offset 4: a byte UTF-8 never uses");
	REFUSED("cont.ps1", "\xef\xbb\xbf\x80", "a continuation byte without a lead byte");
	REFUSED("cut.ps1", "\xef\xbb\xbf\xe2\x82", "a sequence cut short by the end of the file");
	REFUSED("cut2.ps1", "\xef\xbb\xbf\xe2\x28\xa1", "offset 3: a sequence cut short");
	REFUSED("cut3.ps1", "\xef\xbb\xbf\xf0\x9f\x98x", "offset 3: a sequence cut short");
	REFUSED("hi16.ps1", "\xff\xfeW\0\x3d\xd8W\0", "offset 4: a high surrogate without its low");
	REFUSED("hiend.ps1", "\xff\xfeW\0\x3d\xd8", "offset 4: a high surrogate without its low");
	REFUSED("lo16.ps1", "\xff\xfeW\0\x00\xdeW\0", "offset 4: a low surrogate without its high");
	/* Larger than SG_SCRIPT_MAX: a sparse file. */
	{
		const char *path = check_path(workdir, "huge.ps1");
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		sg_format_info info;
		memset(big, 'a', sizeof(big));
		if (fd < 0 || write(fd, big, sizeof(big)) != (ssize_t)sizeof(big) ||
		    ftruncate(fd, (off_t)SG_SCRIPT_MAX + 1) != 0)
			setup_fail(path);
		CHECK_INT(sg_format_inspect(&info, fd, "huge.ps1"), SG_ERR_FORMAT);
		CHECK_CONTAINS(sg_error_last(), "huge.ps1: too large for a script: 16777217 bytes");
		close(fd);
	}
}

/* The file at `path`, whole, NUL-terminated: the caller frees it. */
static char *text_of(const char *path, size_t *len)
{
	unsigned char *data = slurp(path, len), *t = realloc(data, *len + 1);

	if (!t)
		setup_fail("out of memory");
	t[*len] = '\0';
	return (char *)t;
}

/* `a` then `b` then `c` into `name`, refused with `why`. */
static void refused3(const char *name, const char *a, size_t alen, const char *b, const char *c,
		     const char *why)
{
	size_t blen = strlen(b), clen = strlen(c);
	char *all = malloc(alen + blen + clen + 1);

	if (!all)
		setup_fail("out of memory");
	memcpy(all, a, alen);
	memcpy(all + alen, b, blen);
	memcpy(all + alen + blen, c, clen);
	refused(name, all, alen + blen + clen, why);
	free(all);
}

/* Replace the first `from` in `s` (modified copy) by `to` of the same length. */
static char *swap(const char *s, size_t len, const char *from, const char *to)
{
	char *copy = malloc(len + 1), *hit;

	if (!copy)
		setup_fail("out of memory");
	memcpy(copy, s, len + 1);
	hit = strstr(copy, from);
	if (!hit)
		setup_fail(from);
	memcpy(hit, to, strlen(to));
	return copy;
}

/* Signature blocks that are not the one block ending the file, on a real signed script. */
static void test_blocks_refused(void)
{
	const char *in = put("base.ps1", ascii_crlf, strlen(ascii_crlf));
	const char *out = check_path(workdir, "base-signed.ps1");
	size_t len, script = strlen(ascii_crlf), cut;
	char *s, *m;
	const char *block;

	sign(in, out, 0);
	s = text_of(out, &len);
	block = s + script;
	refused3("after.ps1", s, len, "Write-Host 'extra'\r\n", "",
		 "text after the signature block: \"SIG # End signature block\" (offset");
	refused3("crlf-after.ps1", s, len, "\r\n", "", "must end the file with CRLF, and 4 bytes");
	refused3("two.ps1", s, len, block, "",
		 "more than one signature block: a second \"SIG # "
		 "Begin signature block\" at offset");
	refused3("nested-text.ps1", s, script, block, ascii_crlf, "text after the signature block");
	refused3("noend.ps1", s, len - 29, "", "", "a signature block without its end");
	refused3("ci.ps1", ascii_crlf, script, "# sig # BEGIN signature BLOCK\r\n", "",
		 "a signature block without its end: \"SIG # Begin signature block\" at offset");
	refused3("endonly.ps1", ascii_crlf, script, "# SIG # End signature block\r\n", "",
		 "\"SIG # End signature block\" at offset 61 without a signature block");
	refused3("noeol.ps1", s, len - 2, "", "", "text after the signature block");
	refused3("only.ps1", block + 2, len - script - 2, "", "",
		 "malformed signature block: its first line (offset 2)");
	refused3("blockonly.ps1", block, len - script, "", "",
		 "no script text before the signature block");
	m = swap(s, len, "Write-Host \"Hello, $Name\"\r\n\r\n",
		 "Write-Host \"Hello, $Name\"\r\n\n\n");
	refused("lf-begin.ps1", m, len, "malformed signature block: its first line (offset 63)");
	free(m);
	m = swap(s, len, "# SIG # End", "# SIG # end");
	refused("case.ps1", m, len, "its last line (offset");
	free(m);
	m = swap(s, len, "\r\n# MII", "\r\n#  MI");
	refused("space.ps1", m, len, "line 1 (offset 94) is not 1 to 64 base64 characters");
	free(m);
	m = swap(s, len, "\r\n# MII", "\r\n#*MII");
	refused("hash.ps1", m, len, "line 1 (offset 92) does not start with \"# \"");
	free(m);
	m = swap(s, len, "\r\n# MII", "\r\n# M*I");
	refused("star.ps1", m, len, "line 1 (offset 95) is not 1 to 64 base64 characters");
	free(m);
	/* A line of 63 characters and one of 65: only the last line is short. */
	cut = script + 33 + 2 + 63; /* after the begin line, "# " and 63 characters */
	m = malloc(len + 4);
	if (!m)
		setup_fail("out of memory");
	memcpy(m, s, cut);
	memcpy(m + cut, "\r\n# ", 4);
	memcpy(m + cut + 4, s + cut, len - cut);
	refused("short.ps1", m, len + 4, "line 1 has 63 base64 characters, only the last may have");
	free(m);
	free(s);
}

/* Blocks that are laid out right but do not hold one canonical DER SEQUENCE. */
static void test_block_content(void)
{
	static const char head[] = "Write-Host 1\r\n# SIG # Begin signature block\r\n# ";
	static const char tail[] = "\r\n# SIG # End signature block\r\n";
	struct {
		const char *b64, *why;
	} cases[] = {
		{ "aGVsbG8=", "does not hold exactly one DER SEQUENCE" }, /* "hello" */
		{ "MAA=", NULL },                                         /* 30 00: one SEQUENCE */
		{ "MAB=", "is not canonical base64" },                    /* stray bits */
		{ "MAA", "is not canonical base64" },                     /* not padded */
		{ "MAIA", "does not hold exactly one DER SEQUENCE" },     /* 30 02 00: too short */
		{ "MAAA", "does not hold exactly one DER SEQUENCE" },     /* a byte after it */
		{ "MIEA", "does not hold exactly one DER SEQUENCE" },     /* 30 81 00: long form */
	};

	/* The structure check decodes the block: a blob that is not one is refused there. */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[256];
		unsigned char *der = NULL;
		size_t der_len = 0;
		int n = snprintf(buf, sizeof(buf), "%s%s%s", head, cases[i].b64, tail), fd, rc;
		sg_format_info info;
		const char *path = put("content.ps1", buf, (size_t)n);

		CHECK_INT(inspect(&info, path, "content.ps1"),
			  cases[i].why ? SG_ERR_FORMAT : SG_OK);
		if (cases[i].why)
			CHECK_CONTAINS(sg_error_last(), cases[i].why);
		CHECK_INT(info.has_signature, cases[i].why ? 0 : 1);
		CHECK_INT(info.sig_offset, cases[i].why ? 0 : 12);
		fd = open(path, O_RDONLY);
		rc = sg_script_signature_read(&der, &der_len, fd, "content.ps1");
		close(fd);
		CHECK_INT(rc, cases[i].why ? SG_ERR_FORMAT : SG_OK);
		if (cases[i].why)
			CHECK_CONTAINS(sg_error_last(), cases[i].why);
		else
			CHECK(der_len == 2 && der[0] == 0x30 && der[1] == 0);
		free(der);
	}
	/* An unsigned script has no block to read. */
	{
		const char *path = put("unsigned.ps1", ascii_crlf, strlen(ascii_crlf));
		unsigned char *der = NULL;
		size_t der_len = 0;
		int fd = open(path, O_RDONLY);

		CHECK_INT(sg_script_signature_read(&der, &der_len, fd, "unsigned.ps1"),
			  SG_ERR_FORMAT);
		CHECK_CONTAINS(sg_error_last(), "unsigned.ps1: the script has no signature block");
		CHECK(der == NULL && der_len == 0);
		close(fd);
	}
}

static void test_names(void)
{
	sg_format_info info;
	const char *path = put("named", ascii_crlf, strlen(ascii_crlf));
	unsigned char *pe;
	size_t pe_len = 0;

	CHECK_STR(sg_format_by_name_extension("a.ps1"), ".ps1");
	CHECK_STR(sg_format_by_name_extension("setup.PsM1"), ".PsM1");
	CHECK_STR(sg_format_by_name_extension("x.psd1"), ".psd1");
	CHECK(sg_format_by_name_extension("a.ps1xml") == NULL);
	CHECK(sg_format_by_name_extension("a.ps2") == NULL);
	CHECK(sg_format_by_name_extension(".ps1") == NULL);
	CHECK(sg_format_by_name_extension(NULL) == NULL);
	CHECK_STR(sg_format_name(sg_format_by_name("powershell")), "powershell");
	CHECK_STR(sg_script_encoding_name(SG_SCRIPT_UTF16LE), "UTF-16LE");
	/* The name decides: the same bytes as notes.txt are no installer. */
	CHECK_INT(inspect(&info, path, "notes.txt"), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "notes.txt: not an installer signgate signs (pe, msi, msp, "
					"msm, mst, cab, powershell)");
	CHECK_INT(inspect(&info, path, "Deploy.Ps1"), SG_OK);
	CHECK_STR(sg_format_name(info.kind), "powershell");
	CHECK_STR(sg_format_by_name_extension("Deploy.Ps1"), ".Ps1");
	CHECK(sg_format_by_name_extension("setup.exe") == NULL);
	CHECK(sg_format_name_is_installer("x.psm1") && sg_format_name_is_installer("x.PSD1"));
	/* A PE named .ps1: the magic says PE, the name says script; refused naming both. */
	pe = slurp(check_path(fixdir, "inst/hello-setup.exe"), &pe_len);
	path = put("setup.ps1", pe, pe_len);
	free(pe);
	CHECK_INT(inspect(&info, path, "setup.ps1"), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "setup.ps1: named as a PowerShell script (.ps1) but it is "
					"a PE image");
	/* A script whose text starts "MZ" is taken for a PE (the magic goes first). */
	path = put("mz.ps1", "MZ-Tool --run\r\n", 15);
	CHECK_INT(inspect(&info, path, "mz.ps1"), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "mz.ps1: truncated: DOS header ends at 64");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_script FIXDIR [OSSLSIGNCODE]\n");
		return 2;
	}
	fixdir = argv[1];
	if (argc > 2)
		osslsigncode = argv[2];
	if (check_workdir_create(&workdir) != SG_OK)
		setup_fail(sg_error_last());
	test_against_osslsigncode();
	test_same_text();
	test_encodings_refused();
	test_blocks_refused();
	test_block_content();
	test_names();
	check_workdir_remove(&workdir);
	free(workdir);
	return check_done();
}

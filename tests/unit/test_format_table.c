/*
 * Unit tests for the format table (lib/format.c, lib/format_ops.h): what
 * signing and verifying ask it (--recursive names, content kinds, who
 * attaches), then each real installer named on the command line inspected
 * under every row's extension: its own is taken, any other refused naming
 * both, a name no row owns takes the content's first row.
 *
 *   test_format_table [--pe FILE]... [--msi FILE]... [--msp FILE]... [--msm FILE]... [--mst
 * FILE]... [--cab FILE]...
 */
#include "signgate/error.h"
#include "signgate/format.h"
#include "format_internal.h"

#include "check.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What signing and verifying ask the table. */
/* Each row's signed content is data in the row; the MSI family shares one. */
static void test_content(void)
{
	const sg_spc_content *pe = sg_format_content(sg_format_by_name("pe")),
			     *msi = sg_format_content(sg_format_by_name("msi")),
			     *cab = sg_format_content(sg_format_by_name("cab")),
			     *ps = sg_format_content(sg_format_by_name("powershell"));
	static const unsigned char msi_sip[16] = { 0xf1, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
						   0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 };
	static const unsigned char ps_sip[16] = { 0x1f, 0xcc, 0x3b, 0x60, 0x59, 0x4b, 0x08, 0x4e,
						  0xb7, 0x24, 0xd2, 0xc6, 0x29, 0x7e, 0xf3, 0x51 };

	CHECK(pe && msi && cab && ps);
	if (!pe || !msi || !cab || !ps)
		return;
	CHECK_INT(pe->shape, SG_SPC_PE_IMAGE_DATA);
	CHECK_STR(pe->name, "PE");
	CHECK_INT(msi->shape, SG_SPC_SIP_INFO);
	CHECK(memcmp(msi->sip_guid, msi_sip, 16) == 0);
	CHECK_INT(msi->sip_version, 1);
	CHECK(sg_format_content(sg_format_by_name("msp")) == msi);
	CHECK(sg_format_content(sg_format_by_name("msm")) == msi);
	CHECK(sg_format_content(sg_format_by_name("mst")) == msi);
	CHECK_INT(cab->shape, SG_SPC_CAB_DATA);
	CHECK_INT(ps->shape, SG_SPC_SIP_INFO);
	CHECK(memcmp(ps->sip_guid, ps_sip, 16) == 0);
	CHECK_INT(ps->sip_version, 65536);
	for (size_t i = 0; i < 5; i++)
		CHECK(msi->sip_ints[i] == 0 && ps->sip_ints[i] == 0);
	CHECK(sg_format_content(SG_FORMAT_UNKNOWN) == NULL);
	CHECK(sg_format_content(99) == NULL);
	/* the key helper's request carries the format, which names its content */
	CHECK_INT(sg_format_spc_kind(sg_format_by_name("msp")), sg_format_by_name("msp"));
	CHECK_INT(sg_format_spc_kind(SG_FORMAT_UNKNOWN), 0);
	/* names and numbers agree both ways; numbers follow the table */
	CHECK_STR(sg_format_name(sg_format_by_name("cab")), "cab");
	CHECK_INT(sg_format_by_name("nope"), SG_FORMAT_UNKNOWN);
	CHECK_INT(sg_format_by_name(NULL), SG_FORMAT_UNKNOWN);
	CHECK_STR(sg_format_name(99), "unknown");
}

/*
 * The one DER-length parser (format_src.c): a SEQUENCE with a definite
 * length in the shortest form, at most 4 length bytes, within the bytes
 * given; every BER or hostile variant is refused with its reason.
 */
static void test_der(void)
{
	static const struct {
		const char *bytes;
		size_t n;
		uint64_t len; /* sg_format_der_len(); 0: refused */
		const char *why;  /* sg_format_der_header()'s reason, or NULL */
	} cases[] = {
		{ "\x30\x00", 2, 2, NULL },
		{ "\x30\x03" "abc", 5, 5, NULL },
		{ "\x30\x03" "abcd", 6, 5, NULL },           /* a byte after it: len != n */
		{ "\x30\x04" "abc", 5, 0, NULL },            /* content beyond the bytes */
		{ "\x30", 1, 0, "shorter than a DER header" },
		{ "\x31\x00", 2, 0, "not a SEQUENCE" },
		{ "\x30\x80\x00\x00", 4, 0, "an indefinite length (BER, not DER)" },
		{ "\x30\x81\x05" "abcde", 8, 0, "the long form for a length under 128 (not DER)" },
		{ "\x30\x82\x00\x80", 4, 0, "a length with a leading zero byte (not DER)" },
		{ "\x30\x85\x01\x00\x00\x00\x00", 7, 0, "a length of more than 4 bytes" },
		{ "\x30\xff", 2, 0, "a length of more than 4 bytes" },
		{ "\x30\x84\x01\x00", 4, 0, "its length bytes cut off" },
		/* 4 GiB - 1 of content: parsed, but far beyond the bytes, never wrapped */
		{ "\x30\x84\xff\xff\xff\xff", 6, 0, NULL },
	};
	unsigned char big[3 + 0x80 + 1] = { 0x30, 0x81, 0x80 };
	size_t hdr;
	uint64_t body;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const unsigned char *p = (const unsigned char *)cases[i].bytes;
		const char *why = sg_format_der_header(p, cases[i].n, &hdr, &body);

		CHECK_INT(sg_format_der_len(p, cases[i].n), cases[i].len);
		if (cases[i].why) {
			CHECK(why && strcmp(why, cases[i].why) == 0);
			CHECK(hdr == 0 && body == 0);
		} else {
			CHECK(why == NULL);
		}
	}
	CHECK(sg_format_der_header((const unsigned char *)"\x30\x84\xff\xff\xff\xff", 6, &hdr,
				   &body) == NULL);
	CHECK(hdr == 6 && body == 0xffffffffu);
	/* the shortest long form: 0x81 0x80, exactly 128 bytes of content */
	CHECK_INT(sg_format_der_len(big, sizeof(big) - 1), sizeof(big) - 1);
	CHECK_INT(sg_format_der_len(big, sizeof(big) - 2), 0);
	CHECK_INT(sg_format_der_len(NULL, 4), 0);
}

/* The read-ahead window: the same bytes as pread, across refills, never past the file. */
static void test_window(void)
{
	char path[] = "/tmp/sg-window.XXXXXX";
	size_t n = 3 * SG_FORMAT_WINDOW + 5;
	unsigned char *data = malloc(n), got[16];
	struct sg_format_window w = { 0 };
	int fd = mkstemp(path);
	struct src s = { fd, "win.bin", n };
	size_t same = 0, reads = 0;

	CHECK(fd >= 0 && data);
	if (fd < 0 || !data)
		return;
	unlink(path);
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	CHECK(write(fd, data, n) == (ssize_t)n);
	/* 9-byte steps of 8-byte reads: headers that straddle each refill */
	for (uint64_t at = 0; at + 8 <= n; at += 9, reads++)
		if (sg_format_read_window(&s, &w, got, 8, at, n) == SG_OK &&
		    memcmp(got, data + at, 8) == 0)
			same++;
	CHECK_INT(same, reads);
	/* backwards, and a limit short of the bytes asked: still exact */
	CHECK_INT(sg_format_read_window(&s, &w, got, 8, 10, 12), SG_OK);
	CHECK(memcmp(got, data + 10, 8) == 0);
	CHECK_INT(sg_format_read_window(&s, &w, got, 8, 3, 0), SG_OK);
	CHECK(memcmp(got, data + 3, 8) == 0);
	/* beyond the end: the read_at refusal, naming the bytes */
	CHECK_INT(sg_format_read_window(&s, &w, got, 8, n - 4, n + 100), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "are beyond the end of the file");
	CHECK_INT(sg_format_read_window(&s, &w, got, 8, 0, n), SG_OK);
	CHECK(memcmp(got, data, 8) == 0);
	CHECK_INT(sg_format_read_window(&s, &w, data, SG_FORMAT_WINDOW + 1, 0, n), SG_ERR_USAGE);
	sg_format_window_free(&w);
	CHECK(w.buf == NULL);
	close(fd);
	free(data);
}

static void test_table(void)
{
	static const char *const yes[] = { "a.exe", "B.EXE",   "c.msi", "d.msp",  "e.msm", "f.MST",
					   "x.y.msi", "g.cab", "g.ps1", "h.PSM1", "i.psd1" };
	static const char *const no[] = { ".hidden.exe", "exe",       ".exe", "a.dll", "a.txt",
					  "a.msix",      "a.exe.txt", "msi",  "",      "a.ps1xml",
					  ".ps1" };
	sg_format_info pe = { .kind = sg_format_by_name("pe") },
		       msi = { .kind = sg_format_by_name("msp") },
		       cab = { .kind = sg_format_by_name("cab") },
		       script = { .kind = sg_format_by_name("powershell") };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		CHECK(sg_format_name_is_installer(yes[i]) == 1);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		CHECK(sg_format_name_is_installer(no[i]) == 0);
	CHECK(sg_format_name_is_installer(NULL) == 0);

	test_content();

	/* A PE's first signature is signgate's to write; nesting and MSIs are osslsigncode's. */
	CHECK(sg_format_attach_in_place(&pe, 0) != NULL);
	CHECK(sg_format_attach_in_place(&pe, 1) == NULL);
	CHECK(sg_format_attach_in_place(&msi, 0) == NULL);
	CHECK(sg_format_extracts_own(&pe) == 1);
	CHECK(sg_format_extracts_own(&msi) == 0);
	/* A cabinet: osslsigncode inserts the reserve; signgate reads the blob itself. */
	CHECK(sg_format_attach_in_place(&cab, 0) == NULL);
	CHECK(sg_format_extracts_own(&cab) == 1);
	CHECK(sg_format_attach_add_msi_dse(&cab, 1) == 0);
	/* A script's block: read by signgate, attached by osslsigncode (it goes by the name). */
	CHECK(sg_format_extracts_own(&script) == 1);
	CHECK(sg_format_attach_in_place(&script, 0) == NULL);
	CHECK_STR(sg_format_container_name(sg_format_by_name("powershell")), "signature block");
	/* Known by its name alone: the copy and the output keep the extension. */
	CHECK_STR(sg_format_by_name_extension("Deploy.Ps1"), ".Ps1");
	CHECK(sg_format_by_name_extension("setup.exe") == NULL);
	CHECK(sg_format_by_name_extension(".ps1") == NULL);
	msi.cfb.dse = 1;
	CHECK(sg_format_attach_add_msi_dse(&msi, 1) == 1);
	CHECK(sg_format_attach_add_msi_dse(&msi, 0) == 0);
	msi.cfb.dse = 0;
	CHECK(sg_format_attach_add_msi_dse(&msi, 1) == 0);
	CHECK_STR(sg_format_container_name(sg_format_by_name("pe")), "certificate table");
	CHECK_STR(sg_format_container_name(sg_format_by_name("mst")), "DigitalSignature stream");
	CHECK_STR(sg_format_container_name(sg_format_by_name("cab")), "signature blob");
	CHECK_STR(sg_format_name(sg_format_by_name("cab")), "cab");
}

/* What each row is called in refusals, and the root class it owns. */
static const struct {
	const char *name;
	const char *ext;
	const char *what;
	const char *clsid;
} rows[] = {
	{ "pe", ".exe", "a PE image", NULL },
	{ "msi", ".msi", "an MSI package", "{000C1084-0000-0000-C000-000000000046}" },
	{ "msp", ".msp", "an MSI patch", "{000C1086-0000-0000-C000-000000000046}" },
	{ "msm", ".msm", "an MSI merge module", "{000C1084-0000-0000-C000-000000000046}" },
	{ "mst", ".mst", "an MSI transform", "{000C1082-0000-0000-C000-000000000046}" },
	{ "cab", ".cab", "a cabinet", NULL },
	{ "powershell", ".ps1", "a PowerShell script", NULL },
};

static size_t row_of(const char *name)
{
	size_t i = 0;

	while (i + 1 < sizeof(rows) / sizeof(rows[0]) && strcmp(rows[i].name, name) != 0)
		i++;
	return i;
}

/*
 * The file at `path`, of `kind`, inspected under every row's extension: its
 * own (and a merge module's or package's twin, the same class) is taken, any
 * other is refused naming both; a name no row owns takes the content's
 * first row (a merge module's content is a package's).
 */
static void check_names(const char *path, const char *kind)
{
	size_t me = row_of(kind), content = strcmp(kind, "msm") == 0 ? row_of("msi") : me;
	char name[64], want[256];
	sg_format_info info;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int same = i == me || (rows[i].clsid && rows[content].clsid &&
				       strcmp(rows[i].clsid, rows[content].clsid) == 0);

		snprintf(name, sizeof(name), "file%s", rows[i].ext);
		if (same) {
			CHECK_INT(sg_format_inspect(&info, fd, name), SG_OK);
			CHECK_STR(sg_format_name(info.kind), rows[i].name);
			continue;
		}
		CHECK_INT(sg_format_inspect(&info, fd, name), SG_ERR_FORMAT);
		CHECK_STR(sg_format_name(info.kind), "unknown");
		snprintf(want, sizeof(want), "%s: named as %s (%s) but it is %s%s%s%s", name,
			 rows[i].what, rows[i].ext, rows[content].what,
			 rows[content].clsid ? " (root CLSID " : "",
			 rows[content].clsid ? rows[content].clsid : "",
			 rows[content].clsid ? ")" : "");
		CHECK_STR(sg_error_last(), want);
	}
	/* Upper case is the same extension; no extension is the content's first row. */
	snprintf(name, sizeof(name), "FILE%s", rows[me].ext);
	for (char *p = name; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	CHECK_INT(sg_format_inspect(&info, fd, name), SG_OK);
	CHECK_STR(sg_format_name(info.kind), kind);
	CHECK_INT(sg_format_inspect(&info, fd, "download.bin"), SG_OK);
	CHECK_STR(sg_format_name(info.kind), rows[content].name);
	close(fd);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *opt;
		const char *kind;
	} opts[] = {
		{ "--pe", "pe" },   { "--msi", "msi" }, { "--msp", "msp" },
		{ "--msm", "msm" }, { "--mst", "mst" }, { "--cab", "cab" },
	};

	test_table();
	test_der();
	test_window();
	for (int i = 1; i < argc; i += 2) {
		size_t k;

		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (strcmp(argv[i], opts[k].opt) == 0)
				break;
		if (k == sizeof(opts) / sizeof(opts[0]) || i + 1 >= argc) {
			fprintf(stderr, "usage: test_format_table [--pe|--msi|--msp|--msm|--mst|"
					"--cab FILE]...\n");
			return 2;
		}
		check_names(argv[i + 1], opts[k].kind);
	}
	return check_done();
}

/*
 * Unit tests for lib/pe_digest.c: signgate's own Authenticode digest of a
 * PE, checked against the digest osslsigncode computes and signs, and the
 * comparison of a signed PE with the unsigned file it was made from.
 *
 *   test_pe_digest FIXDIR [OSSLSIGNCODE]
 *
 * FIXDIR is the CTest fixture (tests/integration/fixture-setup.sh): pki/ and
 * inst/ (real NSIS installers of 98,702 and 93,681 bytes: 2 and 7 bytes of
 * padding before a certificate table).
 */
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/hash.h"
#include "pe_digest.h"
#include "proc.h"
#include "signgate/util.h"

#include "check.h"
#include "check_ossl.h"

#include <limits.h>
#include <stdint.h>

/* Sign the file `in` into `out` (both full paths) with the fixture's PKCS#12. */
static void sign(const char *in, const char *out)
{
	char p12[PATH_MAX], pass[PATH_MAX];
	const char *argv[] = { NULL,     "sign", "-pkcs12", p12,    "-readpass", pass, "-h",
			       "sha256", "-in",  in,        "-out", out,         NULL };

	snprintf(p12, sizeof(p12), "%s", check_path(fixdir, "pki/signer.p12"));
	snprintf(pass, sizeof(pass), "%s", check_path(fixdir, "pki/signer.pass"));
	ossl(NULL, 0, argv);
}

/* The digest osslsigncode calculates from the signed file `path` (upper-case hex). */
static void ossl_digest(char out[65], const char *path)
{
	static char report[1 << 16];
	char ca[PATH_MAX];
	const char *argv[] = { NULL, "verify",      "-in",         path, "-CAfile",
			       ca,   "-ignore-cdp", "-ignore-crl", NULL };
	const char *line;

	snprintf(ca, sizeof(ca), "%s", check_path(fixdir, "pki/root.pem"));
	ossl(report, sizeof(report), argv);
	line = strstr(report, "Calculated message digest");
	if (!line || !(line = strchr(line, ':')) || sscanf(line + 1, " %64s", out) != 1)
		setup_fail("no calculated digest in osslsigncode's report");
}

static void inspect(sg_format_info *info, int fd, const char *name)
{
	if (sg_format_inspect(info, fd, name) != SG_OK)
		setup_fail(sg_error_last());
}

/* sg_pe_digest() of the file at `path`, in upper-case hex; "" when it fails. */
static void own_digest(char out[65], const char *path)
{
	unsigned char md[SG_PE_DIGEST_LEN];
	sg_format_info info;
	int fd = open(path, O_RDONLY);

	out[0] = '\0';
	if (fd < 0)
		setup_fail(path);
	inspect(&info, fd, path);
	if (sg_pe_digest(md, fd, &info, path) == SG_OK) {
		sg_hex_encode_upper(out, md, sizeof(md));
	}
	close(fd);
}

/* The digest equals osslsigncode's, for the unsigned file and for its signed form. */
static void test_digest_matches_osslsigncode(const char *label, const char *unsigned_path)
{
	char signed_path[PATH_MAX], theirs[65], ours_unsigned[65], ours_signed[65];

	snprintf(signed_path, sizeof(signed_path), "%s", check_path(workdir, label));
	sign(unsigned_path, signed_path);
	ossl_digest(theirs, signed_path);
	own_digest(ours_unsigned, unsigned_path);
	own_digest(ours_signed, signed_path);
	CHECK_STR(ours_unsigned, theirs);
	CHECK_STR(ours_signed, theirs);
}

/* Stream `len` bytes in chunks of `chunk` past an sg_pe_stream; finish with `info`. */
static int stream(unsigned char out[SG_PE_DIGEST_LEN], const unsigned char *bytes, size_t len,
		  size_t chunk, const sg_format_info *info)
{
	sg_pe_stream *d = malloc(sizeof(*d));
	int error;

	if (!d || sg_pe_stream_init(d) != SG_OK)
		setup_fail("sg_pe_stream_init");
	for (size_t off = 0; off < len; off += chunk)
		sg_pe_stream_update(d, bytes + off, len - off < chunk ? len - off : chunk, off);
	error = sg_pe_stream_finish(d, out, info);
	sg_pe_stream_free(d);
	free(d);
	return error;
}

/* The streamed digest of `path` is sg_pe_digest()'s, whatever the chunks. */
static void check_stream(const char *path)
{
	static const size_t chunks[] = { 1, 7, 4096, 65535, 65536, 65537, 1u << 20 };
	unsigned char want[SG_PE_DIGEST_LEN], got[SG_PE_DIGEST_LEN];
	sg_format_info info;
	size_t len;
	unsigned char *bytes = slurp(path, &len);
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		setup_fail(path);
	inspect(&info, fd, path);
	CHECK_INT(sg_pe_digest(want, fd, &info, path), SG_OK);
	close(fd);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		memset(got, 0, sizeof(got));
		CHECK_INT(stream(got, bytes, len, chunks[i], &info), SG_OK);
		CHECK(memcmp(got, want, sizeof(want)) == 0);
	}
	free(bytes);
}

static void test_stream(void)
{
	const char *orig_path = check_path(fixdir, "inst/hello-setup.exe");
	unsigned char got[SG_PE_DIGEST_LEN];
	sg_format_info orig, other;
	size_t len;
	unsigned char *bytes = slurp(orig_path, &len);
	int fd = open(orig_path, O_RDONLY);

	/* Unsigned (padded as the signer will), signed, PE32 and PE32+ stubs. */
	check_stream(orig_path);
	check_stream(check_path(workdir, "hello.signed"));
	check_stream(check_path(workdir, "other.signed"));
	check_stream(check_path(workdir, "aligned.exe"));
	check_stream("/usr/share/nsis/Stubs/lzma-x86-unicode");
	check_stream("/usr/share/nsis/Stubs/lzma-amd64-unicode");

	if (fd < 0)
		setup_fail(orig_path);
	inspect(&orig, fd, orig_path);
	close(fd);
	/* Not every byte streamed, or a chunk out of order: the caller reads the file. */
	CHECK_INT(stream(got, bytes, len / 2, 4096, &orig), SG_ERR_USAGE);
	{
		sg_pe_stream d;
		CHECK_INT(sg_pe_stream_init(&d), SG_OK);
		sg_pe_stream_update(&d, bytes, 4096, 0);
		sg_pe_stream_update(&d, bytes + 8192, len - 8192, 8192);
		CHECK_INT(sg_pe_stream_finish(&d, got, &orig), SG_ERR_USAGE);
		sg_pe_stream_free(&d);
	}
	/*
	 * A file shorter than the kept head (a 59-byte script goes through the
	 * same pass), and an empty chunk without a buffer: no PE digest, and no
	 * memcpy from NULL at the end (the sanitizer pass caught one).
	 */
	{
		sg_pe_stream d;
		CHECK_INT(sg_pe_stream_init(&d), SG_OK);
		sg_pe_stream_update(&d, (const unsigned char *)"Write-Host 1\r\n", 14, 0);
		sg_pe_stream_update(&d, NULL, 0, 14);
		CHECK_INT(sg_pe_stream_finish(&d, got, &orig), SG_ERR_USAGE);
		sg_pe_stream_free(&d);
	}
	/* An inspection that says another layout than the bytes streamed. */
	other = orig;
	other.pe.certdir_offset += 8;
	CHECK_INT(stream(got, bytes, len, 4096, &other), SG_ERR_USAGE);
	other = orig;
	other.has_signature = 1;
	other.sig_offset = len - 8;
	CHECK_INT(stream(got, bytes, len, 4096, &other), SG_ERR_USAGE);
	/* Headers beyond the first 64 KiB (e_lfanew far out): not taken from the stream. */
	{
		size_t big_len = len + 65536;
		unsigned char *big = calloc(1, big_len);
		if (!big)
			setup_fail("out of memory");
		memcpy(big, bytes, len);
		big[0x3c] = 0x00;
		big[0x3d] = 0x00;
		big[0x3e] = 0x01; /* e_lfanew 0x10000 */
		big[0x3f] = 0x00;
		CHECK_INT(stream(got, big, big_len, 4096, &orig), SG_ERR_USAGE);
		free(big);
	}
	free(bytes);
}

/* Put a little-endian 32-bit value at `p`. */
static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/*
 * A crafted PE image of `len` bytes: e_lfanew `nt`, optional header magic
 * `magic`, certificate directory (`cert_off`, `cert_size`) where a PE32
 * (`dir32`) or PE32+ puts it; the rest is a pattern.
 */
static unsigned char *crafted(size_t len, uint32_t nt, unsigned magic, int dir32, uint32_t cert_off,
			      uint32_t cert_size)
{
	unsigned char *b = malloc(len);
	size_t dir = (size_t)nt + 24 + (dir32 ? 96 : 112) + 32;

	if (!b)
		setup_fail("out of memory");
	for (size_t i = 0; i < len; i++)
		b[i] = (unsigned char)(i * 131 + (i >> 9));
	memcpy(b, "MZ", 2);
	put32(b + 0x3c, nt);
	memcpy(b + nt, "PE\0\0", 4);
	b[nt + 24] = 0x0b;
	b[nt + 25] = (unsigned char)magic;
	put32(b + dir, cert_off);
	put32(b + dir + 4, cert_size);
	return b;
}

/*
 * Whatever the inspection says (right, or off by a field, a size, a
 * signature), sg_pe_stream_finish() accepts only when its digest is the one
 * sg_pe_digest() computes from the file with that inspection.
 */
static void check_never_differs(const char *label, const unsigned char *b, size_t len,
				sg_format_info truth)
{
	static const int64_t nudges[] = { 0, -16, -8, -4, -1, 1, 4, 8, 16 };
	static const size_t chunks[] = { 1, 4093, 65536, 1u << 20 };
	const char *path = check_path(workdir, label);
	unsigned char want[SG_PE_DIGEST_LEN], got[SG_PE_DIGEST_LEN];
	int fd, accepted = 0;

	check_write_file(path, b, len, 0600);
	if ((fd = open(path, O_RDONLY)) < 0)
		setup_fail(path);
	for (size_t f = 0; f < 5; f++)
		for (size_t n = 0; n < sizeof(nudges) / sizeof(nudges[0]); n++) {
			sg_format_info info = truth;
			uint64_t *field[] = { &info.pe.checksum_offset, &info.pe.certdir_offset,
					      &info.sig_offset, &info.size, &info.sig_offset };
			*field[f] += (uint64_t)nudges[n];
			if (f == 4)
				info.has_signature = !info.has_signature;
			for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
				if (stream(got, b, len, chunks[c], &info) != SG_OK)
					continue;
				accepted++;
				CHECK_INT(sg_pe_digest(want, fd, &info, label), SG_OK);
				CHECK(memcmp(got, want, sizeof(want)) == 0);
			}
		}
	/* The true layout itself is accepted, whatever the chunks. */
	CHECK(accepted >= 4);
	CHECK_INT(sg_pe_digest(want, fd, &truth, label), SG_OK);
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		CHECK_INT(stream(got, b, len, chunks[c], &truth), SG_OK);
		CHECK(memcmp(got, want, sizeof(want)) == 0);
	}
	close(fd);
}

/* Crafted layouts: headers at the 64 KiB edge, PE32/PE32+, signed, odd sizes. */
static void test_stream_crafted(void)
{
	const uint32_t edge =
		SG_PE_STREAM_HEAD - 24 - 96 - 40; /* a PE32's directory ends at 64 KiB */
	sg_format_info info = { .kind = sg_format_by_name("pe"), .pe.bits = 32 };
	unsigned char *b, got[SG_PE_DIGEST_LEN];

	/* Unsigned PE32, its certificate entry the last bytes of the head; odd size. */
	b = crafted(70001, edge, 0x01, 1, 0, 0);
	info.size = 70001;
	info.pe.checksum_offset = edge + 24 + 64;
	info.pe.certdir_offset = edge + 24 + 96 + 32;
	check_never_differs("edge.exe", b, 70001, info);
	free(b);
	/* One byte further: beyond what the stream keeps, never accepted. */
	b = crafted(70001, edge + 1, 0x01, 1, 0, 0);
	info.pe.checksum_offset++;
	info.pe.certdir_offset++;
	CHECK_INT(stream(got, b, 70001, 4096, &info), SG_ERR_USAGE);
	free(b);
	/* A PE32+ magic where the inspection read a PE32 layout, and the reverse. */
	b = crafted(5000, 0x80, 0x02, 1, 0, 0);
	info = (sg_format_info){ .kind = sg_format_by_name("pe"), .size = 5000, .pe.bits = 32 };
	info.pe.checksum_offset = 0x80 + 24 + 64;
	info.pe.certdir_offset = 0x80 + 24 + 96 + 32;
	CHECK_INT(stream(got, b, 5000, 4096, &info), SG_ERR_USAGE);
	free(b);
	b = crafted(5000, 0x80, 0x01, 0, 0, 0);
	info.pe.certdir_offset += 16;
	CHECK_INT(stream(got, b, 5000, 4096, &info), SG_ERR_USAGE);
	free(b);
	/* Signed PE32+, the table at the end (4096 + 904). */
	b = crafted(5000, 0x80, 0x02, 0, 4096, 904);
	info.has_signature = 1;
	info.sig_offset = 4096;
	info.sig_size = 904;
	check_never_differs("signed64.exe", b, 5000, info);
	free(b);
	/* A table that is not at the end: hashed up to it, as sg_pe_digest does. */
	b = crafted(9000, 0x80, 0x02, 0, 4096, 904);
	info.size = 9000;
	check_never_differs("middle.exe", b, 9000, info);
	free(b);
	/* An entry of size 0 (offset set) or offset 0 (size set): a signature for neither. */
	b = crafted(5000, 0x80, 0x02, 0, 0, 904);
	info = (sg_format_info){ .kind = sg_format_by_name("pe"), .size = 5000, .pe.bits = 64 };
	info.pe.checksum_offset = 0x80 + 24 + 64;
	info.pe.certdir_offset = 0x80 + 24 + 112 + 32;
	CHECK_INT(stream(got, b, 5000, 4096, &info), SG_ERR_USAGE);
	free(b);
	b = crafted(5000, 0x80, 0x02, 0, 4096, 0);
	CHECK_INT(stream(got, b, 5000, 4096, &info), SG_ERR_USAGE);
	free(b);
}

/* A file shorter than its inspection said, and an info that is not a PE's. */
static void test_digest_errors(void)
{
	const char *orig_path = check_path(fixdir, "inst/hello-setup.exe");
	const char *short_path = check_path(workdir, "short.exe");
	unsigned char md[SG_PE_DIGEST_LEN], *bytes;
	sg_format_info info, none = { 0 };
	size_t len;
	int fd = open(orig_path, O_RDONLY);

	inspect(&info, fd, orig_path);
	close(fd);
	bytes = slurp(orig_path, &len);
	check_write_file(short_path, bytes, len - 100, 0600);
	fd = open(short_path, O_RDONLY);
	CHECK_INT(sg_pe_digest(md, fd, &info, "short.exe"), SG_ERR_IO);
	CHECK_INT(sg_pe_digest(md, fd, &none, "short.exe"), SG_ERR_USAGE);
	close(fd);
	free(bytes);
}

int main(int argc, char **argv)
{
	char aligned[PATH_MAX];
	unsigned char *bytes;
	size_t len;

	if (argc < 2) {
		fprintf(stderr, "usage: test_pe_digest FIXDIR [OSSLSIGNCODE]\n");
		return 2;
	}
	fixdir = argv[1];
	if (argc > 2)
		osslsigncode = argv[2];
	if (check_workdir_create(&workdir) != SG_OK)
		setup_fail(sg_error_last());

	/* 2 and 7 bytes of padding, and none: the same installer grown to 8-byte length. */
	test_digest_matches_osslsigncode("hello.signed",
					 check_path(fixdir, "inst/hello-setup.exe"));
	test_digest_matches_osslsigncode("other.signed",
					 check_path(fixdir, "inst/other-setup.exe"));
	bytes = slurp(check_path(fixdir, "inst/hello-setup.exe"), &len);
	bytes = realloc(bytes, len + 2);
	bytes[len] = 'x';
	bytes[len + 1] = 'y';
	snprintf(aligned, sizeof(aligned), "%s", check_path(workdir, "aligned.exe"));
	check_write_file(aligned, bytes, len + 2, 0600);
	free(bytes);
	test_digest_matches_osslsigncode("aligned.signed", aligned);

	test_stream();
	test_stream_crafted();
	test_digest_errors();
	check_workdir_remove(&workdir);
	free(workdir);
	return check_done();
}

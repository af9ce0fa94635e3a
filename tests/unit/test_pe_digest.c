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
#include "signgate/pe_digest.h"
#include "signgate/proc.h"
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

struct compare_case {
	const unsigned char *signed_bytes;
	size_t signed_len;
	size_t chunk;      /* bytes per update */
	size_t stream_len; /* bytes streamed (the file's length: all) */
	uint64_t table_at; /* the certificate table offset claimed; 0: the file's own */
};

/*
 * Stream a signed file past sg_pe_compare against the original on
 * `orig_fd`; `signed_info` is the genuine signed file's inspection.
 */
static int compare(int orig_fd, const sg_format_info *orig, const struct compare_case *k,
		   const sg_format_info *signed_info)
{
	sg_format_info claimed = *signed_info;
	sg_pe_compare c;
	int error;

	if (k->table_at)
		claimed.sig_offset = k->table_at;
	if (sg_pe_compare_init(&c, orig_fd, orig) != SG_OK)
		setup_fail(sg_error_last());
	for (size_t off = 0; off < k->stream_len; off += k->chunk) {
		size_t n = k->stream_len - off < k->chunk ? k->stream_len - off : k->chunk;
		sg_pe_compare_update(&c, k->signed_bytes + off, n, off);
	}
	error = sg_pe_compare_finish(&c, &claimed, "signed.exe");
	sg_pe_compare_free(&c);
	return error;
}

/* Compare `bytes`, a changed copy of the signed file, in chunks of `chunk`. */
static int compare_changed(int orig_fd, const sg_format_info *orig, const unsigned char *bytes,
			   size_t len, size_t chunk, const sg_format_info *signed_info)
{
	struct compare_case k = { bytes, len, chunk, len, 0 };

	return compare(orig_fd, orig, &k, signed_info);
}

static void test_compare(void)
{
	const char *orig_path = check_path(fixdir, "inst/hello-setup.exe");
	char signed_path[PATH_MAX], other_signed[PATH_MAX];
	static const size_t chunks[] = { 1, 5, 4096, 1u << 20 };
	sg_format_info orig, signed_info;
	size_t len, other_len;
	unsigned char *bytes, *other;
	int orig_fd = open(orig_path, O_RDONLY), fd;
	uint64_t pad_at;

	snprintf(signed_path, sizeof(signed_path), "%s", check_path(workdir, "hello.signed"));
	snprintf(other_signed, sizeof(other_signed), "%s", check_path(workdir, "other.signed"));
	if (orig_fd < 0)
		setup_fail(orig_path);
	inspect(&orig, orig_fd, orig_path);
	bytes = slurp(signed_path, &len);
	other = slurp(other_signed, &other_len);
	fd = open(signed_path, O_RDONLY);
	inspect(&signed_info, fd, signed_path);
	close(fd);
	pad_at = orig.size; /* 98,702: two bytes of padding, then the table */
	CHECK_INT(signed_info.sig_offset, (orig.size + 7) / 8 * 8);

	/* The genuine signed file, streamed in chunks of any size. */
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct compare_case k = { bytes, len, chunks[i], len, 0 };
		CHECK_INT(compare(orig_fd, &orig, &k, &signed_info), SG_OK);
	}

	/* What signing may change: the CheckSum field. */
	bytes[orig.pe_checksum_offset + 1] ^= 0x5a;
	CHECK_INT(compare_changed(orig_fd, &orig, bytes, len, 4096, &signed_info), SG_OK);
	bytes[orig.pe_checksum_offset + 1] ^= 0x5a;

	/* One byte changed inside the approved bytes, first, in the middle, last. */
	static const uint64_t at[] = { 0, 5000, 98701 };
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		char want[64];
		bytes[at[i]] ^= 1;
		for (size_t j = 0; j < sizeof(chunks) / sizeof(chunks[0]); j++) {
			CHECK_INT(compare_changed(orig_fd, &orig, bytes, len, chunks[j],
						  &signed_info),
				  SG_ERR_VERIFY);
			snprintf(want, sizeof(want), "at offset %llu (", (unsigned long long)at[i]);
			CHECK_CONTAINS(sg_error_last(), want);
		}
		bytes[at[i]] ^= 1;
	}
	/* A byte just past the CheckSum field is covered again. */
	bytes[orig.pe_checksum_offset + 4] ^= 1;
	CHECK_INT(compare_changed(orig_fd, &orig, bytes, len, 5, &signed_info), SG_ERR_VERIFY);
	bytes[orig.pe_checksum_offset + 4] ^= 1;

	/* The padding before the table is hashed as zeros: it must be zeros. */
	bytes[pad_at + 1] = 0x01;
	CHECK_INT(compare_changed(orig_fd, &orig, bytes, len, 4096, &signed_info), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "at offset 98703 (");
	bytes[pad_at + 1] = 0;

	/* Another program's signed file. */
	{
		struct compare_case k = { other, other_len, 4096, other_len, 0 };
		CHECK_INT(compare(orig_fd, &orig, &k, &signed_info), SG_ERR_VERIFY);
		CHECK_CONTAINS(sg_error_last(), "differs from the approved bytes");
	}
	/* Not all of it streamed. */
	{
		struct compare_case k = { bytes, len, 4096, len / 2, 0 };
		CHECK_INT(compare(orig_fd, &orig, &k, &signed_info), SG_ERR_IO);
		CHECK_CONTAINS(sg_error_last(), "bytes were compared of a file of");
	}
	/* The table somewhere else than right after the approved bytes. */
	{
		struct compare_case k = { bytes, len, 4096, len, signed_info.sig_offset + 8 };
		CHECK_INT(compare(orig_fd, &orig, &k, &signed_info), SG_ERR_VERIFY);
		CHECK_CONTAINS(sg_error_last(), "not right after the approved bytes (98704)");
	}
	/* The original must be an unsigned PE. */
	{
		sg_pe_compare c;
		CHECK_INT(sg_pe_compare_init(&c, orig_fd, &signed_info), SG_ERR_USAGE);
		sg_format_info none = { 0 };
		CHECK_INT(sg_pe_compare_init(&c, orig_fd, &none), SG_ERR_USAGE);
	}
	free(bytes);
	free(other);
	close(orig_fd);
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
	if (sg_workdir_create(&workdir) != SG_OK)
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

	test_compare();
	test_digest_errors();
	sg_workdir_remove(workdir);
	free(workdir);
	return check_done();
}

/*
 * Unit tests for lib/format_cab.c and lib/cab_digest.c: the structure check
 * of a cabinet, with its refusals and their reasons, and signgate's own
 * Authenticode digest of a cabinet, checked against the digest
 * osslsigncode computes and signs.
 *
 *   test_cab FIXDIR [OSSLSIGNCODE]
 *
 * FIXDIR is the CTest fixture (tests/integration/fixture-setup.sh): pki/,
 * inst/hello-1.0.cab and inst/payload-2.0.cab (gcab), and
 * inst/vendor-signed-hello-1.0.cab. gcab writes one folder per cabinet:
 * cabinets with several folders, and broken ones, are written here.
 */
#include "cab_digest.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/hash.h"
#include "proc.h"
#include "signgate/util.h"

#include "check.h"
#include "check_ossl.h"

#include <stdint.h>

#include <openssl/objects.h>
#include <openssl/pkcs7.h>

#define CAB_MAX 4096

static void put16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static uint32_t le_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * A cabinet of `folders` folders, each with one stored file "fN.txt" of
 * 10 * (N + 1) bytes in one CFDATA block, no reserve; returns its size.
 */
static size_t make_cab(unsigned char *b, unsigned folders)
{
	size_t at = 36 + 8 * folders, files_at = at;
	uint32_t data_at;

	memset(b, 0, CAB_MAX);
	memcpy(b, "MSCF", 4);
	b[24] = 3;
	b[25] = 1;
	put16(b + 26, folders);
	put16(b + 28, folders);
	put32(b + 16, (uint32_t)files_at);
	for (unsigned i = 0; i < folders; i++) {
		put32(b + at + 0, 10 * (i + 1)); /* cbFile */
		put16(b + at + 8, i);             /* iFolder */
		put16(b + at + 14, 0x20);
		at += 16 + (size_t)snprintf((char *)b + at + 16, 16, "f%u.txt", i) + 1;
	}
	for (unsigned i = 0; i < folders; i++) {
		uint16_t len = (uint16_t)(10 * (i + 1));

		data_at = (uint32_t)at;
		put32(b + 36 + 8 * i, data_at); /* coffCabStart */
		put16(b + 36 + 8 * i + 4, 1);   /* cCFData */
		put16(b + at + 4, len);
		put16(b + at + 6, len);
		memset(b + at + 8, 'a' + (int)i, len);
		at += 8 + len;
	}
	put32(b + 8, (uint32_t)at);
	return at;
}

static const char *write_file(const char *name, const unsigned char *b, size_t len)
{
	const char *path = check_path(workdir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, b, len) != (ssize_t)len)
		setup_fail(path);
	close(fd);
	return path;
}

static int inspect(sg_format_info *info, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		setup_fail(path);
	sg_error_clear();
	rc = sg_format_inspect(info, fd, sg_path_base(path));
	close(fd);
	return rc;
}

/* sg_cab_digest() of `path` as upper-case hex ("" on failure, the code returned). */
static int own(char *out, const char *path, int nid)
{
	unsigned char md[SG_CAB_DIGEST_MAX];
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		setup_fail(path);
	out[0] = '\0';
	rc = sg_cab_digest(md, &len, fd, nid, sg_path_base(path));
	if (rc == SG_OK)
		sg_hex_encode_upper(out, md, len);
	close(fd);
	return rc;
}

static void sign(const char *in, const char *out, const char *hash, int nest)
{
	char p12[PATH_MAX], pass[PATH_MAX];
	const char *argv[16] = { NULL, "sign", "-pkcs12", p12, "-readpass", pass,
				 "-h", hash,   "-in",     in,  "-out",      out };
	int n = 12;

	snprintf(p12, sizeof(p12), "%s", check_path(fixdir, "pki/signer.p12"));
	snprintf(pass, sizeof(pass), "%s", check_path(fixdir, "pki/signer.pass"));
	if (nest)
		argv[n++] = "-nest";
	argv[n] = NULL;
	unlink(out);
	ossl(NULL, 0, argv);
}

/*
 * Sign `unsigned_path` with `hash`: signgate's digest of the unsigned file
 * (as it will be signed), of the signed file, osslsigncode's calculated and
 * the signed digest are one value; the signed file is a CAB with a signature.
 */
static void check_signed(const char *label, const char *unsigned_path, const char *hash, int nid)
{
	char before[160], after[160], calc[160], cur[160], nested[160];
	const char *out = check_path(workdir, label), *out2;
	sg_format_info info;

	CHECK_INT(own(before, unsigned_path, nid), SG_OK);
	sign(unsigned_path, out, hash, 0);
	CHECK_INT(own(after, out, nid), SG_OK);
	ossl_report_value(calc, sizeof(calc), out, "0", "Calculated message digest");
	ossl_report_value(cur, sizeof(cur), out, "0", "Current message digest");
	CHECK(calc[0] != '\0');
	CHECK_STR(after, calc);
	CHECK_STR(cur, calc);
	CHECK_STR(before, calc);
	CHECK_INT(inspect(&info, out), SG_OK);
	CHECK_STR(sg_format_name(info.kind), "cab");
	CHECK_INT(info.has_signature, 1);
	CHECK_INT(info.sig_offset + info.sig_size, info.size);
	/* A nested signature leaves the digest as it is. */
	out2 = check_path(workdir, "nested.cab");
	sign(out, out2, hash, 1);
	CHECK_INT(own(nested, out2, nid), SG_OK);
	CHECK_STR(nested, calc);
	ossl_report_value(calc, sizeof(calc), out2, "1", "Calculated message digest");
	CHECK_STR(nested, calc);
	if (strcmp(before, calc) != 0)
		fprintf(stderr, "  (%s: osslsigncode %s, signgate %s before signing)\n", label, calc,
			before);
}

static void test_against_osslsigncode(void)
{
	unsigned char b[CAB_MAX];
	const char *path;
	sg_format_info info;

	check_signed("hello-sha256.cab", check_path(fixdir, "inst/hello-1.0.cab"), "sha256",
		     NID_sha256);
	check_signed("payload-sha256.cab", check_path(fixdir, "inst/payload-2.0.cab"), "sha256",
		     NID_sha256);
	check_signed("payload-sha1.cab", check_path(fixdir, "inst/payload-2.0.cab"), "sha1",
		     NID_sha1);
	path = write_file("folders.cab", b, make_cab(b, 3));
	CHECK_INT(inspect(&info, path), SG_OK);
	CHECK_STR(sg_format_name(info.kind), "cab");
	CHECK_INT(info.has_signature, 0);
	check_signed("folders-signed.cab", path, "sha256", NID_sha256);
	/* The vendor-signed cabinet of the fixture: its own digest is osslsigncode's. */
	{
		char ours[160];

		path = check_path(fixdir, "inst/vendor-signed-hello-1.0.cab");
		CHECK_INT(inspect(&info, path), SG_OK);
		CHECK_INT(info.has_signature, 1);
		CHECK_INT(own(ours, path, NID_sha256), SG_OK);
		CHECK_INT(own(ours + 80, check_path(fixdir, "inst/hello-1.0.cab"), NID_sha256), SG_OK);
		CHECK_STR(ours, ours + 80);
	}
}

/* The signature blob: the DER and zeros up to 8 bytes. */
static void test_signature_read(void)
{
	const char *path = check_path(workdir, "hello-sha256.cab");
	unsigned char *blob = NULL;
	const unsigned char *p;
	size_t len = 0;
	PKCS7 *p7;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	CHECK_INT(sg_cab_signature_read(&blob, &len, fd, 1u << 20, "hello.cab"), SG_OK);
	CHECK(len > 0 && len % 8 == 0);
	p = blob;
	p7 = blob ? d2i_PKCS7(NULL, &p, (long)len) : NULL;
	CHECK(p7 != NULL);
	CHECK((size_t)(p - blob) + 8 > len);
	PKCS7_free(p7);
	free(blob);
	CHECK_INT(sg_cab_signature_read(&blob, &len, fd, 16, "hello.cab"), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "is larger than 16");
	close(fd);
	fd = open(check_path(fixdir, "inst/hello-1.0.cab"), O_RDONLY | O_CLOEXEC);
	CHECK_INT(sg_cab_signature_read(&blob, &len, fd, 1u << 20, "hello.cab"), SG_ERR_FORMAT);
	CHECK_STR(sg_error_last(), "hello.cab: the cabinet carries no signature");
	close(fd);
}

/* A byte of the data changed after signing: the digest is no longer the signed one. */
static void test_tampered(void)
{
	size_t len = 0;
	unsigned char *b = slurp(check_path(workdir, "payload-sha256.cab"), &len);
	char signed_md[160], ours[160];
	sg_format_info info;
	const char *path;

	CHECK_INT(own(signed_md, check_path(workdir, "payload-sha256.cab"), NID_sha256), SG_OK);
	b[len / 2] ^= 0x01;
	path = write_file("tampered.cab", b, len);
	CHECK_INT(own(ours, path, NID_sha256), SG_OK);
	CHECK(strcmp(ours, signed_md) != 0);
	/* iCabinet is not hashed: it must be 0, or the file is refused. */
	b[len / 2] ^= 0x01;
	b[34] = 1;
	path = write_file("icabinet.cab", b, len);
	CHECK_INT(inspect(&info, path), SG_ERR_FORMAT);
	CHECK_STR(sg_error_last(), "icabinet.cab: iCabinet is 1: a single cabinet is number 0");
	free(b);
}

/* Mutate `b` (a copy of a good cabinet) and expect refusal with `why`. */
static void expect_refused(const char *name, const unsigned char *b, size_t len, const char *why)
{
	char want[512];
	sg_format_info info;
	const char *path = write_file(name, b, len);

	CHECK_INT(inspect(&info, path), SG_ERR_FORMAT);
	snprintf(want, sizeof(want), "%s: %s", name, why);
	CHECK_CONTAINS(sg_error_last(), want);
	CHECK_STR(sg_format_name(info.kind), "unknown");
}

/*
 * The signed cabinet `s` (`slen` bytes, room for 64 more) with its blob
 * replaced by its first `keep` bytes and then `add` (`n` bytes); the
 * reserve's blob size follows. Returns the new length.
 */
static size_t reblob(unsigned char *s, size_t slen, size_t keep, const char *add, size_t n)
{
	uint32_t at = le_at(s + 44);

	(void)slen;
	memcpy(s + at + keep, add, n);
	put32(s + 48, (uint32_t)(keep + n));
	return at + keep + n;
}

/*
 * The signature blob holds one DER signature and zero padding below 8
 * bytes, nothing else (red team, issue 14): bytes after the DER are outside
 * the digest and no check sees them (a CAB's CVE-2013-3900), and eight zero
 * bytes behind a reserve would make an unsigned cabinet look vendor-signed.
 */
static void test_blob_refusals(void)
{
	size_t slen = 0, len, der;
	unsigned char *orig = slurp(check_path(workdir, "hello-sha256.cab"), &slen);
	unsigned char *s = malloc(slen + 64);
	uint32_t at = le_at(orig + 44);
	char why[256];

	CHECK(orig[at] == 0x30 && orig[at + 1] == 0x82);
	der = 4 + ((size_t)orig[at + 2] << 8 | orig[at + 3]);
	memcpy(s, orig, slen);
	len = reblob(s, slen, le_at(orig + 48), "JUNK-after-the-DER-in-the-blob..", 32);
	snprintf(why, sizeof(why),
		 "the signature blob at offset %u (%zu bytes) has %zu bytes after its signature "
		 "(data hidden outside the signed digest)",
		 at, len - at, len - at - der);
	expect_refused("junk.cab", s, len, why);
	memcpy(s, orig, slen);
	len = reblob(s, slen, der, "A", 1);
	snprintf(why, sizeof(why),
		 "the signature blob at offset %u (%zu bytes) has non-zero bytes after its "
		 "signature",
		 at, len - at);
	expect_refused("padjunk.cab", s, len, why);
	memcpy(s, orig, slen);
	len = reblob(s, slen, 0, "\0\0\0\0\0\0\0\0", 8);
	snprintf(why, sizeof(why),
		 "the signature blob at offset %u (8 bytes) does not hold a DER signature", at);
	expect_refused("zeros.cab", s, len, why);
	memcpy(s, orig, slen);
	len = reblob(s, slen, 0, "\x30\x84\xff\xff\xff\xff\0\0", 8);
	snprintf(why, sizeof(why),
		 "the signature blob at offset %u (8 bytes) is shorter than its signature "
		 "(4294967301 bytes in 8)",
		 at);
	expect_refused("derlong.cab", s, len, why);
	/* DER lengths only in the shortest form: BER's are refused (sg_format_der_header) */
	memcpy(s, orig, slen);
	len = reblob(s, slen, 0, "\x30\x80\0\0\0\0\0\0", 8);
	snprintf(why, sizeof(why),
		 "the signature blob at offset %u (8 bytes) has a bad DER length: an indefinite "
		 "length (BER, not DER)",
		 at);
	expect_refused("indefinite.cab", s, len, why);
	memcpy(s, orig, slen);
	len = reblob(s, slen, 0, "\x30\x82\x00\x04\0\0\0\0", 8);
	snprintf(why, sizeof(why),
		 "the signature blob at offset %u (8 bytes) has a bad DER length: a length with "
		 "a leading zero byte (not DER)",
		 at);
	expect_refused("leadzero.cab", s, len, why);
	memcpy(s, orig, slen);
	len = reblob(s, slen, 0, "\x30\x81\x04\0\0\0\0\0", 8);
	snprintf(why, sizeof(why),
		 "the signature blob at offset %u (8 bytes) has a bad DER length: the long form "
		 "for a length under 128 (not DER)",
		 at);
	expect_refused("longshort.cab", s, len, why);
	memcpy(s, orig, slen);
	len = reblob(s, slen, 0, "\x30\x85\x01\0\0\0\0\0", 8);
	snprintf(why, sizeof(why),
		 "the signature blob at offset %u (8 bytes) has a bad DER length: a length of more "
		 "than 4 bytes",
		 at);
	expect_refused("fivebytes.cab", s, len, why);
	memcpy(s, orig, slen);
	len = reblob(s, slen, 0, "\x30\x84\x01", 3);
	snprintf(why, sizeof(why),
		 "the signature blob at offset %u (3 bytes) has a bad DER length: its length "
		 "bytes cut off",
		 at);
	expect_refused("cutlen.cab", s, len, why);
	memcpy(s, orig, slen);
	len = reblob(s, slen, 0, "\x30", 1);
	snprintf(why, sizeof(why), "the signature blob at offset %u (1 bytes) holds no signature",
		 at);
	expect_refused("onebyte.cab", s, len, why);
	free(s);
	free(orig);
}

static void test_refusals(void)
{
	unsigned char good[CAB_MAX], b[CAB_MAX];
	size_t len = make_cab(good, 2);
	char ours[160], why[256];

#define MUTATE(stmt) (memcpy(b, good, sizeof(b)), stmt)
	expect_refused("short.cab", good, 20, "truncated: the cabinet header ends at 36");
	CHECK_INT(len, 144);
	MUTATE(put32(b + 8, (uint32_t)len + 1));
	expect_refused("size.cab", b, len,
		       "cbCabinet says 145 bytes, but the cabinet has 144 (the file's size)");
	expect_refused("cut.cab", good, len - 1, "cbCabinet says 144 bytes, but the cabinet has 143");
	MUTATE(put32(b + 16, 60));
	expect_refused("cofffiles.cab", b, len, "coffFiles is 60, not 52, the end of the 2 CFFOLDER");
	MUTATE(b[24] = 2);
	expect_refused("version.cab", b, len, "cabinet format version 1.2 (only 1.3 exists)");
	MUTATE(b[4] = 1);
	expect_refused("reserved.cab", b, len, "the cabinet header's reserved fields are not zero");
	MUTATE(put16(b + 30, 0x0002));
	expect_refused("set.cab", b, len, "part of a multi-cabinet set (flags 0x0002)");
	MUTATE(put16(b + 30, 0x0010));
	expect_refused("flags.cab", b, len, "unknown cabinet header flags 0x0010");
	MUTATE((put16(b + 26, 0), put16(b + 28, 0)));
	expect_refused("empty.cab", b, len, "an empty cabinet (0 folders, 0 files)");
	MUTATE(put32(b + 36 + 8, 5000));
	expect_refused("outside.cab", b, len, "folder 2's data (coffCabStart 5000) is not between");
	MUTATE(put32(b + 36 + 8, le_at(good + 36)));
	expect_refused("overlap.cab", b, len,
		       "folder 2's data (coffCabStart 98) is not between 116 and the cabinet's end "
		       "144 (folders in order, not overlapping)");
	MUTATE(put16(b + 36 + 4, 3));
	snprintf(why, sizeof(why),
		 "folder 1's data block 3 starts at %zu, outside its part of the cabinet (up to %zu)",
		 len, len);
	expect_refused("blocks.cab", b, len, why);
	MUTATE(put16(b + 36 + 6, 7));
	expect_refused("compress.cab", b, len, "folder 1: unknown compression type 7");
	MUTATE(put16(b + 52 + 8, 9));
	expect_refused("ifolder.cab", b, len, "file 1 of the cabinet is in folder 9, and there are 2");
	MUTATE(put32(b + 52, 11));
	expect_refused("filesize.cab", b, len,
		       "file 1 of the cabinet (11 bytes at 0) lies beyond its folder's 10 bytes");
	/* A reserve that is not a signature's, and a signature outside the file. */
	MUTATE((put16(b + 30, 0x0004), put16(b + 36, 6144)));
	expect_refused("reserve.cab", b, len, "a reserve area other than an Authenticode signature's "
					     "(cbCFHeader 6144, cbCFFolder 0, cbCFData 0");
	{
		size_t slen = 0;
		unsigned char *s = slurp(check_path(workdir, "hello-sha256.cab"), &slen);

		put32(s + 44, (uint32_t)slen);
		snprintf(why, sizeof(why), "the signature (offset %zu, %u bytes) does not end at the "
			 "end of the file (%zu bytes)", slen, le_at(s + 48), slen);
		expect_refused("sigoutside.cab", s, slen, why);
		free(s);
		s = slurp(check_path(workdir, "hello-sha256.cab"), &slen);
		snprintf(why, sizeof(why), "the signature (offset %u, %u bytes) does not end at the "
			 "end of the file (%zu bytes)", le_at(s + 44), le_at(s + 48), slen - 8);
		expect_refused("sigcut.cab", s, slen - 8, why);
		free(s);
	}
	test_blob_refusals();
	/* The digest reads the header only, with the same refusals. */
	MUTATE(memcpy(b, "MSCE", 4));
	CHECK_INT(own(ours, write_file("magic.cab", b, len), NID_sha256), SG_ERR_FORMAT);
	CHECK_STR(sg_error_last(), "magic.cab: not a cabinet: it does not start with \"MSCF\"");
	CHECK_INT(own(ours, write_file("cut.cab", good, 30), NID_sha256), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "cut.cab: truncated: the cabinet header ends at 36");
	CHECK_INT(own(ours, write_file("ok.cab", good, len), NID_md5), SG_ERR_USAGE);
	/* The name says cabinet, the content does not; and the other way round. */
	{
		size_t plen = 0;
		unsigned char *pe = slurp(check_path(fixdir, "inst/hello-setup.exe"), &plen);
		sg_format_info info;

		CHECK_INT(inspect(&info, write_file("setup.cab", pe, plen)), SG_ERR_FORMAT);
		CHECK_STR(sg_error_last(), "setup.cab: named as a cabinet (.cab) but it is a PE image");
		free(pe);
		CHECK_INT(inspect(&info, write_file("cab.exe", good, len)), SG_ERR_FORMAT);
		CHECK_STR(sg_error_last(), "cab.exe: named as a PE image (.exe) but it is a cabinet");
	}
#undef MUTATE
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_cab FIXDIR [OSSLSIGNCODE]\n");
		return 2;
	}
	fixdir = argv[1];
	if (argc > 2)
		osslsigncode = argv[2];
	if (check_workdir_create(&workdir) != SG_OK)
		setup_fail(sg_error_last());
	test_against_osslsigncode();
	test_signature_read();
	test_tampered();
	test_refusals();
	check_workdir_remove(&workdir);
	free(workdir);
	return check_done();
}

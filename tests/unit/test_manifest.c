/*
 * Unit tests for lib/manifest.c: the real tool output in tests/fixtures/manifests
 * (coreutils, BSD tags, OpenSSL 3, gpg --print-md wrapped groups, bare digests,
 * escaped names), then each rule on small texts: CRLF, BOM, case, names with spaces,
 * the algorithm from tag, name or length and their disagreements, bad lines and
 * which lookups they block, ambiguity, missing names, size and binary refusals.
 */
#include "signgate/error.h"
#include "signgate/manifest.h"

#include "check.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The digests of the fixture inputs: "hello\n" and "abc". */
#define HELLO_MD5    "b1946ac92492d2347c6235b4d2611184"
#define HELLO_SHA1   "f572d396fae9206628714fb2ce00f72e94f2258f"
#define HELLO_SHA224 "2d6d67d91d0badcdd06cbbba1fe11538a68a37ec9c2e26457ceff12b"
#define HELLO_SHA256 "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define HELLO_SHA384                                                                               \
	"1d0f284efe3edea4b9ca3bd514fa134b17eae361ccc7a1eefeff801b9bd6604e01f21f6bf249ef030599f0c2" \
	"1"                                                                                        \
	"8f2ba8c"
#define HELLO_SHA512                                                                               \
	"e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e1" \
	"0"                                                                                        \
	"f8bcb8d45223e54878f5b316e7ce3b6bc019629"
#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC_SHA512                                                                                 \
	"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23" \
	"a"                                                                                        \
	"3feebbd454d4423643ce80e2a9ac94fa54ca49f"
#define LONG_NAME "a-very-long-installer-file-name-1.2.3-x64.exe"

static char fixtures[1024];
static char tmpdir[] = "/tmp/test_manifest.XXXXXX";

#define CHECK_ENTRY(e, alg_, hex_, name_, line_, format_)                                          \
	do {                                                                                       \
		const sg_manifest_entry *e_ = (e);                                                 \
		const char *n_ = (name_);                                                          \
		CHECK(e_ != NULL);                                                                 \
		if (!e_)                                                                           \
			break;                                                                     \
		CHECK_INT(e_->alg, alg_);                                                          \
		CHECK_STR(e_->hex, hex_);                                                          \
		if (n_)                                                                            \
			CHECK_STR(e_->name, n_);                                                   \
		else                                                                               \
			CHECK(e_->name == NULL);                                                   \
		CHECK_INT(e_->line, line_);                                                        \
		CHECK_STR(e_->format, format_);                                                    \
	} while (0)

static int parse(sg_manifest *m, const char *path, const char *text)
{
	sg_error_clear();
	return sg_manifest_parse(m, path, text, strlen(text));
}

/* Look `name` up; the number of entries found (-1 and a message on an error). */
static long find(const sg_manifest *m, const char *name, const sg_manifest_entry **f, size_t max)
{
	size_t n = 99;
	int rc;

	sg_error_clear();
	rc = sg_manifest_find(m, name, f, max, &n);
	if (rc != SG_OK) {
		CHECK_INT(n, 0);
		return rc;
	}
	return (long)n;
}

/* The one entry for `name` of algorithm `alg`, or NULL. */
static const sg_manifest_entry *of(const sg_manifest *m, const char *name, sg_hash_alg alg)
{
	const sg_manifest_entry *f[16];
	long n = find(m, name, f, 16);

	for (long i = 0; i < n; i++)
		if (f[i]->alg == alg)
			return f[i];
	return NULL;
}

/* Bad line i, or an empty record (so that a missing one fails a check, not the test). */
static const struct sg_manifest_bad *bad_at(const sg_manifest *m, size_t i)
{
	static char empty[] = "(none)";
	static const struct sg_manifest_bad none = { 0, empty, empty };

	return i < m->n_bad ? &m->bad[i] : &none;
}

static int load_fixture(sg_manifest *m, const char *name)
{
	sg_error_clear();
	return sg_manifest_load(m, check_path(fixtures, name));
}

static void test_alg_helpers(void)
{
	CHECK_STR(sg_hash_alg_name(SG_ALG_MD5), "MD5");
	CHECK_STR(sg_hash_alg_name(SG_ALG_SHA1), "SHA-1");
	CHECK_STR(sg_hash_alg_name(SG_ALG_SHA224), "SHA-224");
	CHECK_STR(sg_hash_alg_name(SG_ALG_SHA256), "SHA-256");
	CHECK_STR(sg_hash_alg_name(SG_ALG_SHA384), "SHA-384");
	CHECK_STR(sg_hash_alg_name(SG_ALG_SHA512), "SHA-512");
	CHECK_STR(sg_hash_alg_name(SG_ALG_UNKNOWN), "unknown");
	CHECK_INT(sg_hash_alg_hexlen(SG_ALG_MD5), 32);
	CHECK_INT(sg_hash_alg_hexlen(SG_ALG_SHA1), 40);
	CHECK_INT(sg_hash_alg_hexlen(SG_ALG_SHA224), 56);
	CHECK_INT(sg_hash_alg_hexlen(SG_ALG_SHA256), 64);
	CHECK_INT(sg_hash_alg_hexlen(SG_ALG_SHA384), 96);
	CHECK_INT(sg_hash_alg_hexlen(SG_ALG_SHA512), 128);
	CHECK_INT(sg_hash_alg_hexlen(SG_ALG_UNKNOWN), 0);
	CHECK_INT(sg_hash_alg_hexlen((sg_hash_alg)42), 0);
	CHECK_INT(sg_hash_alg_strong(SG_ALG_SHA256), 1);
	CHECK_INT(sg_hash_alg_strong(SG_ALG_SHA512), 1);
	CHECK_INT(sg_hash_alg_strong(SG_ALG_MD5), 0);
	CHECK_INT(sg_hash_alg_strong(SG_ALG_SHA1), 0);
	CHECK_INT(sg_hash_alg_strong(SG_ALG_SHA224), 0);
	CHECK_INT(sg_hash_alg_strong(SG_ALG_SHA384), 0);
	CHECK_INT(sg_hash_alg_strong(SG_ALG_UNKNOWN), 0);
}

static void test_fixtures_coreutils(void)
{
	const sg_manifest_entry *f[4];
	sg_manifest m;

	CHECK_INT(load_fixture(&m, "SHA256SUMS"), SG_OK);
	CHECK_INT(m.n, 3);
	CHECK_INT(m.n_bad, 0);
	CHECK_STR(m.path, check_path(fixtures, "SHA256SUMS"));
	CHECK_ENTRY(of(&m, "hello.txt", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, "hello.txt", 1,
		    "coreutils");
	CHECK_ENTRY(of(&m, "my file.bin", SG_ALG_SHA256), SG_ALG_SHA256, ABC_SHA256, "my file.bin",
		    2, "coreutils");
	/* "./" dropped from the name as written */
	CHECK_ENTRY(of(&m, LONG_NAME, SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, LONG_NAME, 3,
		    "coreutils");
	CHECK_INT(find(&m, "my", f, 4), SG_ERR_DENIED);
	CHECK_CONTAINS(sg_error_last(),
		       "SHA256SUMS: no entry for my; it has entries for hello.txt, "
		       "my file.bin, " LONG_NAME);
	sg_manifest_free(&m);

	CHECK_INT(load_fixture(&m, "hello.txt.sha512"), SG_OK);
	CHECK_INT(m.n, 1);
	CHECK_ENTRY(of(&m, "hello.txt", SG_ALG_SHA512), SG_ALG_SHA512, HELLO_SHA512, "hello.txt", 1,
		    "coreutils-binary");
	sg_manifest_free(&m);

	CHECK_INT(load_fixture(&m, "openssl-r.sha256"), SG_OK);
	CHECK_ENTRY(of(&m, "hello.txt", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, "hello.txt", 1,
		    "coreutils-binary");
	sg_manifest_free(&m);

	/* MD5 alone: found, but not something an approval may rest on */
	CHECK_INT(load_fixture(&m, "hello.txt.md5"), SG_OK);
	CHECK_INT(find(&m, "hello.txt", f, 4), 1);
	CHECK_ENTRY(f[0], SG_ALG_MD5, HELLO_MD5, "hello.txt", 1, "coreutils");
	CHECK_INT(sg_hash_alg_strong(f[0]->alg), 0);
	sg_manifest_free(&m);

	/* coreutils' escapes: "\<hex>  back\\slash", "new\nline" and a tagged one */
	CHECK_INT(load_fixture(&m, "escaped.sha256sum"), SG_OK);
	CHECK_INT(m.n, 4);
	CHECK_INT(m.n_bad, 0);
	CHECK_INT(find(&m, "new\nline", f, 4), 1);
	CHECK_ENTRY(f[0], SG_ALG_SHA256,
		    "1843653496800edfd0d30326c82f53b0338ed408468cca4a2f1b52f2f6395fc9", "new\nline",
		    2, "coreutils");
	CHECK_INT(m.entries[0].line, 1);
	CHECK_STR(m.entries[0].name, "back\\slash");
	CHECK_STR(m.entries[3].name, "back\\slash");
	CHECK_STR(m.entries[3].format, "bsd");
	CHECK_STR(m.entries[3].hex, m.entries[0].hex);
	sg_manifest_free(&m);
}

static void test_fixtures_tags(void)
{
	const sg_manifest_entry *f[4];
	sg_manifest m;

	CHECK_INT(load_fixture(&m, "tags.txt"), SG_OK);
	CHECK_INT(m.n, 4);
	CHECK_INT(find(&m, "hello.txt", f, 4), 3);
	CHECK_ENTRY(f[0], SG_ALG_SHA256, HELLO_SHA256, "hello.txt", 1, "bsd");
	CHECK_ENTRY(f[1], SG_ALG_SHA512, HELLO_SHA512, "hello.txt", 3, "bsd");
	CHECK_ENTRY(f[2], SG_ALG_MD5, HELLO_MD5, "hello.txt", 4, "bsd");
	CHECK_ENTRY(of(&m, "my file.bin", SG_ALG_SHA256), SG_ALG_SHA256, ABC_SHA256, "my file.bin",
		    2, "bsd");
	/* max smaller than the matches: an error, not a silent cut */
	CHECK_INT(find(&m, "hello.txt", f, 2), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "3 entries for hello.txt, more than the 2 asked for");
	sg_manifest_free(&m);

	CHECK_INT(load_fixture(&m, "openssl.txt"), SG_OK);
	CHECK_INT(m.n, 4);
	CHECK_INT(find(&m, "hello.txt", f, 4), 3);
	CHECK_ENTRY(f[0], SG_ALG_SHA256, HELLO_SHA256, "hello.txt", 1, "openssl");
	CHECK_ENTRY(f[1], SG_ALG_SHA512, HELLO_SHA512, "hello.txt", 3, "openssl");
	CHECK_ENTRY(f[2], SG_ALG_SHA1, HELLO_SHA1, "hello.txt", 4, "openssl");
	CHECK_ENTRY(of(&m, "my file.bin", SG_ALG_SHA256), SG_ALG_SHA256, ABC_SHA256, "my file.bin",
		    2, "openssl");
	sg_manifest_free(&m);
}

static void test_fixtures_gpg(void)
{
	const sg_manifest_entry *f[4];
	sg_manifest m;

	/* SHA-512: 3 lines for short names; after a long name, 2 more lines */
	CHECK_INT(load_fixture(&m, "gpg-sha512.txt"), SG_OK);
	CHECK_INT(m.n, 3);
	CHECK_INT(m.n_bad, 0);
	CHECK_ENTRY(of(&m, "hello.txt", SG_ALG_SHA512), SG_ALG_SHA512, HELLO_SHA512, "hello.txt", 1,
		    "gpg");
	CHECK_ENTRY(of(&m, "my file.bin", SG_ALG_SHA512), SG_ALG_SHA512, ABC_SHA512, "my file.bin",
		    4, "gpg");
	CHECK_ENTRY(of(&m, LONG_NAME, SG_ALG_SHA512), SG_ALG_SHA512, HELLO_SHA512, LONG_NAME, 7,
		    "gpg");
	sg_manifest_free(&m);

	/* SHA-256: 7 groups and 1 on the next line (alone, 7 would read as SHA-224) */
	CHECK_INT(load_fixture(&m, "gpg-sha256.txt"), SG_OK);
	CHECK_INT(m.n, 3);
	CHECK_INT(m.n_bad, 0);
	CHECK_ENTRY(of(&m, "hello.txt", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, "hello.txt", 1,
		    "gpg");
	CHECK_ENTRY(of(&m, "my file.bin", SG_ALG_SHA256), SG_ALG_SHA256, ABC_SHA256, "my file.bin",
		    3, "gpg");
	CHECK_ENTRY(of(&m, LONG_NAME, SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, LONG_NAME, 5,
		    "gpg");
	sg_manifest_free(&m);

	/* groups of 2 (MD5) and 4 (SHA-1), each with gpg's double space in the middle */
	CHECK_INT(load_fixture(&m, "gpg-md5.txt"), SG_OK);
	CHECK_INT(find(&m, "hello.txt", f, 4), 2);
	CHECK_ENTRY(f[0], SG_ALG_MD5, HELLO_MD5, "hello.txt", 1, "gpg");
	CHECK_ENTRY(f[1], SG_ALG_SHA1, HELLO_SHA1, "hello.txt", 2, "gpg");
	CHECK_INT(sg_hash_alg_strong(f[0]->alg) || sg_hash_alg_strong(f[1]->alg), 0);
	sg_manifest_free(&m);

	/* --print-mds: tagged lines; its RMD160 line is unsupported and is about hello.txt */
	CHECK_INT(load_fixture(&m, "gpg-mds.txt"), SG_OK);
	CHECK_INT(m.n, 6);
	CHECK_INT(m.n_bad, 1);
	CHECK_INT(bad_at(&m, 0)->line, 3);
	CHECK_STR(bad_at(&m, 0)->why, "unsupported algorithm RMD160");
	CHECK_ENTRY(&m.entries[2], SG_ALG_SHA224, HELLO_SHA224, "hello.txt", 4, "gpg");
	CHECK_ENTRY(&m.entries[3], SG_ALG_SHA256, HELLO_SHA256, "hello.txt", 6, "gpg");
	CHECK_ENTRY(&m.entries[4], SG_ALG_SHA384, HELLO_SHA384, "hello.txt", 8, "gpg");
	CHECK_ENTRY(&m.entries[5], SG_ALG_SHA512, HELLO_SHA512, "hello.txt", 10, "gpg");
	CHECK_INT(find(&m, "hello.txt", f, 4), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "gpg-mds.txt: line 3 about hello.txt: unsupported "
					"algorithm RMD160: \"hello.txt: RMD160 = 0057");
	sg_manifest_free(&m);
}

static void test_fixture_bare(void)
{
	const sg_manifest_entry *f[4];
	sg_manifest m;

	CHECK_INT(load_fixture(&m, "bare.sha256"), SG_OK);
	CHECK_INT(find(&m, "whatever-setup.exe", f, 4), 1);
	CHECK_ENTRY(f[0], SG_ALG_SHA256, HELLO_SHA256, NULL, 1, "bare");
	sg_manifest_free(&m);
}

/* Several formats in one file, CRLF line ends, a BOM, upper-case hex, blanks, comments. */
static void test_crlf_bom_case(void)
{
	const char *text =
		"\xef\xbb\xbf# vendor checksums\r\n"
		"\r\n" HELLO_SHA256 "  hello.txt\r\n"
		"SHA512 (hello.txt) = "
		"E7C22B994C59D9CF2B48E549B1E24666636045930D3DA7C1ACB299D1C3B7F931F94AAE41"
		"EDDA2C2B207A36E10F8BCB8D45223E54878F5B316E7CE3B6BC019629 \t\r\n"
		"  BA7816bf8f01cfea414140de5dae2223B00361A396177A9CB410FF61F20015AD *my "
		"file.bin\r\n"
		"   \t\r\n"
		"setup.exe: 5891B5B5 22D5DF08 6D0FF0B1 10FBD9D2 1BB4FC71 63AF34D0 "
		"8286A2E8\r\n"
		"           46F6BE03\r\n";
	sg_manifest m;

	CHECK_INT(parse(&m, "checksums.txt", text), SG_OK);
	CHECK_INT(m.n, 4);
	CHECK_INT(m.n_bad, 0);
	CHECK_ENTRY(of(&m, "hello.txt", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, "hello.txt", 3,
		    "coreutils");
	CHECK_ENTRY(of(&m, "hello.txt", SG_ALG_SHA512), SG_ALG_SHA512, HELLO_SHA512, "hello.txt", 4,
		    "bsd");
	CHECK_ENTRY(of(&m, "my file.bin", SG_ALG_SHA256), SG_ALG_SHA256, ABC_SHA256, "my file.bin",
		    5, "coreutils-binary");
	CHECK_ENTRY(of(&m, "setup.exe", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, "setup.exe", 7,
		    "gpg");
	sg_manifest_free(&m);

	/* a last line without a line end, and a CR before the end of the text */
	CHECK_INT(parse(&m, "x", HELLO_SHA256 "  a.exe\r\n" ABC_SHA256 "  b.exe\r"), SG_OK);
	CHECK_ENTRY(of(&m, "b.exe", SG_ALG_SHA256), SG_ALG_SHA256, ABC_SHA256, "b.exe", 2,
		    "coreutils");
	sg_manifest_free(&m);
}

/* One space, the binary marker, "./", folders, names with spaces and leading blanks. */
static void test_names(void)
{
	const char *text =
		HELLO_SHA256 " one-space.exe\n" HELLO_SHA256 " *bin.exe\n" HELLO_SHA256
			     "  ././dot.exe\n" HELLO_SHA256 "  dist/x64/deep.exe\n" HELLO_SHA256
			     "  win\\x64\\win.exe\n" HELLO_SHA256 "   lead.exe\n" HELLO_SHA256
			     "  name with  spaces.msi\n";
	const sg_manifest_entry *f[4];
	sg_manifest m;

	CHECK_INT(parse(&m, "list", text), SG_OK);
	CHECK_INT(m.n, 7);
	CHECK_ENTRY(of(&m, "one-space.exe", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256,
		    "one-space.exe", 1, "coreutils");
	CHECK_ENTRY(of(&m, "bin.exe", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, "bin.exe", 2,
		    "coreutils-binary");
	CHECK_ENTRY(of(&m, "dot.exe", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, "dot.exe", 3,
		    "coreutils");
	CHECK_ENTRY(of(&m, "deep.exe", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256,
		    "dist/x64/deep.exe", 4, "coreutils");
	CHECK_ENTRY(of(&m, "win.exe", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256,
		    "win\\x64\\win.exe", 5, "coreutils");
	/* as in coreutils: after "<hex> ", a space is the text marker and the rest is the name */
	CHECK_ENTRY(of(&m, " lead.exe", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, " lead.exe", 6,
		    "coreutils");
	CHECK_INT(find(&m, "lead.exe", f, 4), SG_ERR_DENIED);
	CHECK_ENTRY(of(&m, "name with  spaces.msi", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256,
		    "name with  spaces.msi", 7, "coreutils");
	/* exact and case-sensitive; a folder name is not a file */
	CHECK_INT(find(&m, "Dot.exe", f, 4), SG_ERR_DENIED);
	CHECK_INT(find(&m, "x64", f, 4), SG_ERR_DENIED);
	CHECK_INT(find(&m, "dist/x64/deep.exe", f, 4), SG_ERR_USAGE);
	CHECK_INT(find(&m, "", f, 4), SG_ERR_USAGE);
	sg_manifest_free(&m);

	/* gpg names may hold spaces and ": "; the digest follows the last one */
	CHECK_INT(parse(&m, "g",
			"My App: Setup 1.0.exe: BA7816BF 8F01CFEA 414140DE 5DAE2223 "
			"B00361A3 96177A9C B410FF61\n\t F20015AD\n"),
		  SG_OK);
	CHECK_ENTRY(of(&m, "My App: Setup 1.0.exe", SG_ALG_SHA256), SG_ALG_SHA256, ABC_SHA256,
		    "My App: Setup 1.0.exe", 1, "gpg");
	sg_manifest_free(&m);
}

/* The algorithm from the manifest's name, from the length, and their disagreements. */
static void test_algorithm_rules(void)
{
	const char *by_length =
		HELLO_MD5 "  a\n" HELLO_SHA1 "  b\n" HELLO_SHA224 "  c\n" HELLO_SHA256
			  "  d\n" HELLO_SHA384 "  e\n" HELLO_SHA512 "  f\n";
	const sg_hash_alg want[] = { SG_ALG_MD5,    SG_ALG_SHA1,   SG_ALG_SHA224,
				     SG_ALG_SHA256, SG_ALG_SHA384, SG_ALG_SHA512 };
	sg_manifest m;

	CHECK_INT(parse(&m, "/v/checksums.txt", by_length), SG_OK);
	CHECK_INT(m.n, 6);
	for (size_t i = 0; i < 6 && i < m.n; i++)
		CHECK_INT(m.entries[i].alg, want[i]);
	sg_manifest_free(&m);

	/* a .sha256 manifest takes only 64-digit values */
	CHECK_INT(parse(&m, "/v/setup.exe.sha256", by_length), SG_OK);
	CHECK_INT(m.n, 1);
	CHECK_INT(m.n_bad, 5);
	CHECK_INT(bad_at(&m, 0)->line, 1);
	CHECK_STR(bad_at(&m, 0)->why, "the manifest's name says SHA-256 but the digest has 32 hex "
				      "digits, not 64");
	CHECK_ENTRY(of(&m, "d", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, "d", 4, "coreutils");
	sg_manifest_free(&m);

	/* other spellings of the name: upper case, "sum", "sums", SHA512SUMS(.txt) */
	const char *names[] = { "x.SHA512", "x.sha512sum", "x.exe.sha512sums", "SHA512SUMS",
				"sha512sums.txt" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CHECK_INT(parse(&m, names[i], by_length), SG_OK);
		CHECK_INT(m.n, 1);
		CHECK_INT(m.n > 0 ? m.entries[0].alg : 0, SG_ALG_SHA512);
		sg_manifest_free(&m);
	}

	/* a value alone whose length disagrees with the name: nothing to read */
	CHECK_INT(parse(&m, "/v/setup.exe.sha512", HELLO_SHA256 "\n"), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "/v/setup.exe.sha512: no checksum entry; line 1: the "
					"manifest's name says SHA-512 but the digest has 64 hex "
					"digits, not 128");
	CHECK_INT(m.n, 0);
	CHECK(m.path == NULL);

	/* a gpg SHA-256 that lost its last line reads as SHA-224: a .sha256 name refuses it */
	CHECK_INT(parse(&m, "a.sha256",
			"a.exe: 5891B5B5 22D5DF08 6D0FF0B1 10FBD9D2 1BB4FC71 63AF34D0 8286A2E8\n"
			"b.exe: 5891B5B5 22D5DF08 6D0FF0B1 10FBD9D2 1BB4FC71 63AF34D0 8286A2E8\n"
			"  46F6BE03\n"),
		  SG_OK);
	CHECK_INT(find(&m, "a.exe", NULL, 0), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "a.sha256: line 1 about a.exe: the manifest's name says "
					"SHA-256 but the digest has 56 hex digits, not 64");
	CHECK_ENTRY(of(&m, "b.exe", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, "b.exe", 2, "gpg");
	sg_manifest_free(&m);

	/* a tag wins over the name; a tag that disagrees with the length is a bad line */
	CHECK_INT(parse(&m, "x.sha256",
			"SHA512 (a.exe) = " HELLO_SHA512 "\n"
			"SHA256 (b.exe) = " HELLO_SHA512 "\n"
			"SHA2-256(c.exe)= " HELLO_SHA384 "\n"
			"SHA-384 (d.exe) = " HELLO_SHA384 "\n"
			"sha224(e.exe)= " HELLO_SHA224 "\n"),
		  SG_OK);
	CHECK_ENTRY(of(&m, "a.exe", SG_ALG_SHA512), SG_ALG_SHA512, HELLO_SHA512, "a.exe", 1, "bsd");
	CHECK_INT(find(&m, "b.exe", NULL, 0), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "line 2 about b.exe: SHA-256 tag but 128 hex digits "
					"(SHA-256 has 64)");
	CHECK_INT(find(&m, "c.exe", NULL, 0), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "line 3 about c.exe: SHA-256 tag but 96 hex digits");
	CHECK_ENTRY(of(&m, "d.exe", SG_ALG_SHA384), SG_ALG_SHA384, HELLO_SHA384, "d.exe", 4, "bsd");
	CHECK_ENTRY(of(&m, "e.exe", SG_ALG_SHA224), SG_ALG_SHA224, HELLO_SHA224, "e.exe", 5,
		    "openssl");
	sg_manifest_free(&m);
}

/* Bad digits, unsupported algorithms, odd lengths, unreadable lines: kept with reasons. */
static void test_bad_lines(void)
{
	const char *text =
		HELLO_SHA256 "  good.exe\n"
			     "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be0g"
			     "  badhex.exe\n"
			     "SHA3-256 (sha3.exe) = " HELLO_SHA256 "\n"
			     "SHA2-512/256(trunc.exe)= " HELLO_SHA256 "\n"
			     "BLAKE2b (b2.exe) = " HELLO_SHA512 "\n"
			     "SHA256 (spaced.exe) = 5891b5b5 22d5df08\n"
			     "deadbeef  short.exe\n"
			     "SHA256 (empty.exe) =\n"
			     "lost.exe:\n"
			     "\\" HELLO_SHA256 "  bad\\escape.exe\n";
	const char *whys[] = {
		"'g' is not a hex digit",
		"unsupported algorithm SHA3-256",
		"unsupported algorithm SHA2-512/256",
		"unsupported algorithm BLAKE2b",
		"' ' is not a hex digit", /* groups are for gpg lines only */
		"8 hex digits: no supported digest has this length",
		"no digest",
		"no digest after the file name",
		"a '\\' in an escaped name is not followed by \\, n or r",
	};
	const char *abouts[] = { "badhex.exe", "sha3.exe",   "trunc.exe",
				 "b2.exe",     "spaced.exe", "short.exe",
				 "empty.exe",  "lost.exe",   "bad\\escape.exe" };
	const sg_manifest_entry *f[4];
	sg_manifest m;

	CHECK_INT(parse(&m, "sums", text), SG_OK);
	CHECK_INT(m.n, 1);
	CHECK_INT(m.n_bad, 9);
	for (size_t i = 0; i < 9 && i < m.n_bad; i++) {
		CHECK_INT(bad_at(&m, i)->line, i + 2);
		CHECK_STR(bad_at(&m, i)->why, whys[i]);
		/* each one blocks its own file and only that */
		CHECK_INT(find(&m, abouts[i], f, 4), SG_ERR_FORMAT);
		CHECK_CONTAINS(sg_error_last(), whys[i]);
	}
	CHECK_STR(bad_at(&m, 1)->text, "SHA3-256 (sha3.exe) = " HELLO_SHA256);
	CHECK_INT(find(&m, "good.exe", f, 4), 1);
	CHECK_ENTRY(f[0], SG_ALG_SHA256, HELLO_SHA256, "good.exe", 1, "coreutils");
	sg_manifest_free(&m);

	/* too long, a gpg digest wrapped past 128 digits */
	CHECK_INT(parse(&m, "sums",
			HELLO_SHA512 "00  long.exe\n"
				     "ok.exe: " HELLO_SHA256 "\n"
				     "wrap.exe: E7C22B99 4C59D9CF 2B48E549 B1E24666 "
				     "63604593 0D3DA7C1 ACB299D1\n"
				     "          C3B7F931 F94AAE41 EDDA2C2B 207A36E1 0F8BCB8D "
				     "45223E54 878F5B31\n"
				     "          6E7CE3B6 BC019629 6E7CE3B6\n"),
		  SG_OK);
	CHECK_INT(m.n_bad, 2);
	CHECK_INT(find(&m, "long.exe", f, 4), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "sums: line 1 about long.exe: longer than any supported "
					"digest (more than 128 hex digits)");
	CHECK_INT(find(&m, "wrap.exe", f, 4), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "sums: line 3 about wrap.exe: longer than any supported");
	CHECK_INT(find(&m, "ok.exe", f, 4), 1);
	sg_manifest_free(&m);
}

/* Which lookups a bad line blocks: its own file, a file it mentions, or any when untied. */
static void test_bad_line_scope(void)
{
	const sg_manifest_entry *f[4];
	sg_manifest m;

	CHECK_INT(parse(&m, "sums",
			HELLO_SHA256 "  setup.exe\n" ABC_SHA256 "  tool.exe\n"
				     "SHA3-256 (other-setup.exe) = " HELLO_SHA256 "\n"),
		  SG_OK);
	/* about another file, even one whose name ends in "setup.exe" */
	CHECK_INT(find(&m, "setup.exe", f, 4), 1);
	CHECK_INT(find(&m, "other-setup.exe", f, 4), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "sums: line 3 about other-setup.exe: unsupported algorithm "
					"SHA3-256: \"SHA3-256 (other-setup.exe) = 5891b5");
	sg_manifest_free(&m);

	/* a broken line whose name only mentions the file still blocks it */
	CHECK_INT(parse(&m, "sums",
			HELLO_SHA256
			"  setup.exe\n" ABC_SHA256 "  tool.exe\n"
			"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be0x"
			"  setup.exe (old build)\n"),
		  SG_OK);
	CHECK_INT(find(&m, "setup.exe", f, 4), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "sums: line 3 about setup.exe: 'x' is not a hex digit");
	CHECK_INT(find(&m, "tool.exe", f, 4), 1);
	sg_manifest_free(&m);

	/* a line tied to no file blocks every lookup */
	CHECK_INT(parse(&m, "sums",
			HELLO_SHA256 "  setup.exe\n"
				     "Checksums for release 1.2 (see the web site)\n" ABC_SHA256
				     "  tool.exe\n"),
		  SG_OK);
	CHECK_INT(m.n_bad, 1);
	CHECK_STR(bad_at(&m, 0)->why, "not a checksum line in any supported format");
	CHECK_STR(bad_at(&m, 0)->text, "Checksums for release 1.2 (see the web site)");
	CHECK_INT(find(&m, "tool.exe", f, 4), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "sums: line 2: not a checksum line in any supported "
					"format, and it names no file, so it may concern tool.exe");
	sg_manifest_free(&m);

	/* "SHA256: <hex>" looks like gpg but names no file; "<hex> *" has no name */
	const char *untied[] = { "SHA256: " HELLO_SHA256, "SHA-512: E7C22B99 4C59D9CF",
				 HELLO_SHA256 " *" };
	const char *why[] = { "\"SHA256:\" is an algorithm label, not a file name",
			      "\"SHA-512:\" is an algorithm label, not a file name",
			      "no file name" };
	for (size_t i = 0; i < 3; i++) {
		char text[512];

		snprintf(text, sizeof(text), "%s  a.exe\n%s\n", ABC_SHA256, untied[i]);
		CHECK_INT(parse(&m, "sums", text), SG_OK);
		CHECK_INT(m.n_bad, 1);
		CHECK_INT(find(&m, "a.exe", f, 4), SG_ERR_FORMAT);
		CHECK_CONTAINS(sg_error_last(), why[i]);
		CHECK_CONTAINS(sg_error_last(), "names no file");
		sg_manifest_free(&m);
	}
}

static void test_ambiguous(void)
{
	const sg_manifest_entry *f[4];
	sg_manifest m;

	CHECK_INT(parse(&m, "sums",
			HELLO_SHA256 "  a.exe\n" HELLO_MD5 "  a.exe\n" ABC_SHA256 "  a.exe\n"),
		  SG_OK);
	CHECK_INT(find(&m, "a.exe", f, 4), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "sums: lines 1 and 3 give different SHA-256 values for "
					"a.exe");
	sg_manifest_free(&m);

	/* two folders, one base name */
	CHECK_INT(parse(&m, "sums", HELLO_SHA256 "  x64/a.exe\n" ABC_SHA256 "  arm64/a.exe\n"),
		  SG_OK);
	CHECK_INT(find(&m, "a.exe", f, 4), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "lines 1 and 2 give different SHA-256 values");
	sg_manifest_free(&m);

	/* the same value twice, and other algorithms beside it: not ambiguous */
	CHECK_INT(parse(&m, "sums",
			HELLO_SHA256 "  a.exe\n"
				     "SHA256 (a.exe) = " HELLO_SHA256 "\n" HELLO_SHA512
				     "  a.exe\n" HELLO_SHA1 "  a.exe\n"),
		  SG_OK);
	CHECK_INT(find(&m, "a.exe", f, 4), 4);
	sg_manifest_free(&m);
}

static void test_missing_name(void)
{
	const sg_manifest_entry *f[4];
	sg_manifest m;

	CHECK_INT(parse(&m, "/d/SHA256SUMS",
			HELLO_SHA256 "  a.exe\n" HELLO_SHA256 "  ./b.exe\n" HELLO_SHA256
				     "  b.exe\n" HELLO_SHA256 "  c.exe\n" HELLO_SHA256
				     "  d.exe\n" HELLO_SHA256 "  e.exe\n" HELLO_SHA256
				     "  f.exe\n" HELLO_SHA256 "  g.exe\n"),
		  SG_OK);
	CHECK_INT(find(&m, "z.exe", f, 4), SG_ERR_DENIED);
	CHECK_STR(sg_error_last(), "/d/SHA256SUMS: no entry for z.exe; it has entries for a.exe, "
				   "b.exe, c.exe, d.exe, e.exe and 2 more");
	sg_manifest_free(&m);

	CHECK_INT(parse(&m, "s", HELLO_SHA256 "  a.exe\n"), SG_OK);
	CHECK_INT(find(&m, "z.exe", f, 4), SG_ERR_DENIED);
	CHECK_STR(sg_error_last(), "s: no entry for z.exe; it has entries for a.exe");
	sg_manifest_free(&m);
}

static void test_bare(void)
{
	const sg_manifest_entry *f[4];
	sg_manifest m;

	/* gpg --print-md of stdin: groups without a name, wrapped with one space */
	CHECK_INT(parse(&m, "setup.exe.txt",
			"E7C22B99 4C59D9CF 2B48E549 B1E24666 63604593 0D3DA7C1 ACB299D1 C3B7F931 "
			"F94AAE41\n"
			" EDDA2C2B 207A36E1 0F8BCB8D 45223E54 878F5B31 6E7CE3B6 BC019629\n"),
		  SG_OK);
	CHECK_INT(find(&m, "setup.exe", f, 4), 1);
	CHECK_ENTRY(f[0], SG_ALG_SHA512, HELLO_SHA512, NULL, 1, "bare");
	sg_manifest_free(&m);

	/* the same bare value twice is fine; two different values are ambiguous */
	CHECK_INT(parse(&m, "x.sha256", HELLO_SHA256 "\n\n" HELLO_SHA256 "\n"), SG_OK);
	CHECK_INT(find(&m, "setup.exe", f, 4), 2);
	sg_manifest_free(&m);
	CHECK_INT(parse(&m, "x.sha256", HELLO_SHA256 "\n" ABC_SHA256 "\n"), SG_OK);
	CHECK_INT(find(&m, "setup.exe", f, 4), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "x.sha256: lines 1 and 2 give different SHA-256 values for "
					"setup.exe");
	sg_manifest_free(&m);

	/* a bare value among named ones names no file: it blocks every lookup */
	CHECK_INT(parse(&m, "sums", HELLO_SHA256 "  a.exe\n" ABC_SHA256 "\n"), SG_OK);
	CHECK_INT(m.n, 1);
	CHECK_INT(m.n_bad, 1);
	CHECK_INT(find(&m, "a.exe", f, 4), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "sums: line 2: a bare digest in a file that names its "
					"files: it names no file");
	sg_manifest_free(&m);
}

static void test_refused_files(void)
{
	sg_manifest m;

	CHECK_INT(parse(&m, "s.asc",
			"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" HELLO_SHA256
			"  a.exe\n"),
		  SG_ERR_FORMAT);
	CHECK_STR(sg_error_last(), "s.asc: line 1: clearsigned manifests are not read; give the "
				   "detached signature instead");
	CHECK_INT(m.n, 0);
	CHECK_INT(parse(&m, "s", HELLO_SHA256 "  a.exe\n-----BEGIN PGP SIGNATURE-----\n"),
		  SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "s: line 2: an OpenPGP armored block");

	CHECK_INT(parse(&m, "s", ""), SG_ERR_FORMAT);
	CHECK_STR(sg_error_last(), "s: empty file");
	CHECK_INT(parse(&m, "s", "\xef\xbb\xbf"), SG_ERR_FORMAT);
	CHECK_STR(sg_error_last(), "s: empty file");
	CHECK_INT(parse(&m, "s", "# nothing\n\n   \n"), SG_ERR_FORMAT);
	CHECK_STR(sg_error_last(), "s: no checksum entry, only blank lines and comments");
	CHECK_INT(parse(&m, "s", "hello\nworld\n"), SG_ERR_FORMAT);
	CHECK_STR(sg_error_last(), "s: no checksum entry; line 1: not a checksum line in any "
				   "supported format: \"hello\"");

	/* control characters: a NUL, an escape, a CR alone */
	CHECK_INT(sg_manifest_parse(&m, "s", HELLO_SHA256 "  a.exe\n\0x", 75), SG_ERR_FORMAT);
	CHECK_STR(sg_error_last(), "s: line 2: binary data (byte 0x00); not a checksum file");
	CHECK_INT(parse(&m, "s", HELLO_SHA256 "  a.exe\n\n" HELLO_SHA256 "  b\x1b.exe\n"),
		  SG_ERR_FORMAT);
	CHECK_STR(sg_error_last(), "s: line 3: binary data (byte 0x1b); not a checksum file");
	CHECK_INT(parse(&m, "s", HELLO_SHA256 "  a.exe\r" HELLO_SHA256 "  b.exe\n"), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "s: line 1: binary data (byte 0x0d)");
	CHECK_INT(m.n, 0);

	CHECK_INT(sg_manifest_parse(NULL, "s", "x", 1), SG_ERR_USAGE);
	CHECK_INT(sg_manifest_parse(&m, "s", NULL, 1), SG_ERR_USAGE);
	sg_manifest_free(&m);
	sg_manifest_free(NULL);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd) != 0) {
		perror(path);
		exit(2);
	}
}

static void test_load(void)
{
	const size_t mib = 1024 * 1024;
	const char *entry = HELLO_SHA256 "  big.exe\n";
	const char *p = check_path(tmpdir, "big.sha256");
	char *buf = malloc(mib + 1);
	uint32_t x = 2463534242u;
	size_t entry_line = 1;
	sg_manifest m;

	if (!buf)
		exit(2);
	/* exactly 1 MiB: comment lines, then one entry */
	memset(buf, '#', mib);
	for (size_t i = 99; i < mib; i += 100)
		buf[i] = '\n';
	memcpy(buf + mib - strlen(entry), entry, strlen(entry));
	buf[mib - strlen(entry) - 1] = '\n';
	for (size_t i = 0; i < mib - strlen(entry); i++)
		entry_line += buf[i] == '\n';
	write_file(p, buf, mib);
	sg_error_clear();
	CHECK_INT(sg_manifest_load(&m, p), SG_OK);
	CHECK_INT(m.n, 1);
	CHECK_ENTRY(of(&m, "big.exe", SG_ALG_SHA256), SG_ALG_SHA256, HELLO_SHA256, "big.exe",
		    entry_line, "coreutils");
	sg_manifest_free(&m);

	/* one byte more */
	buf[mib] = '\n';
	write_file(p, buf, mib + 1);
	CHECK_INT(sg_manifest_load(&m, p), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "big.sha256: too big for a checksum file (more than "
					"1048576 bytes)");
	CHECK_INT(sg_manifest_parse(&m, "mem", buf, mib + 1), SG_ERR_FORMAT);
	CHECK_STR(sg_error_last(), "mem: too big for a checksum file (more than 1048576 bytes)");

	/* binary junk */
	for (size_t i = 0; i < 4096; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (char)x;
	}
	p = check_path(tmpdir, "junk.sha256");
	write_file(p, buf, 4096);
	CHECK_INT(sg_manifest_load(&m, p), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "junk.sha256: line ");
	CHECK_CONTAINS(sg_error_last(), ": binary data (byte 0x");
	free(buf);

	/* not there, a folder, a FIFO, an empty file */
	CHECK_INT(sg_manifest_load(&m, check_path(tmpdir, "none")), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "none: cannot open: No such file or directory");
	CHECK_INT(sg_manifest_load(&m, tmpdir), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), ": not a regular file");
	p = check_path(tmpdir, "fifo");
	CHECK(mkfifo(p, 0600) == 0);
	CHECK_INT(sg_manifest_load(&m, p), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "fifo: not a regular file");
	p = check_path(tmpdir, "empty.sha256");
	write_file(p, "", 0);
	CHECK_INT(sg_manifest_load(&m, p), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "empty.sha256: empty file");
	CHECK_INT(sg_manifest_load(NULL, p), SG_ERR_USAGE);
}

static void test_find_arguments(void)
{
	const sg_manifest_entry *f[1];
	sg_manifest m, zero = { 0 };
	size_t n = 7;

	CHECK_INT(parse(&m, "s", HELLO_SHA256 "  a.exe\n"), SG_OK);
	CHECK_INT(sg_manifest_find(&m, "a.exe", f, 1, NULL), SG_ERR_USAGE);
	CHECK_INT(sg_manifest_find(&m, NULL, f, 1, &n), SG_ERR_USAGE);
	CHECK_INT(n, 0);
	CHECK_INT(sg_manifest_find(NULL, "a.exe", f, 1, &n), SG_ERR_USAGE);
	CHECK_INT(sg_manifest_find(&m, "a.exe", NULL, 1, &n), SG_ERR_USAGE);
	CHECK_INT(sg_manifest_find(&m, "a.exe", NULL, 0, &n), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "1 entries for a.exe, more than the 0 asked for");
	CHECK_INT(sg_manifest_find(&m, "a.exe", f, 1, &n), SG_OK);
	CHECK_INT(n, 1);
	CHECK(f[0] == &m.entries[0]);
	sg_manifest_free(&m);
	CHECK(m.entries == NULL && m.n == 0 && m.path == NULL);
	CHECK_INT(sg_manifest_find(&zero, "a.exe", f, 1, &n), SG_ERR_DENIED);
	CHECK_STR(sg_error_last(), "(manifest): no entry for a.exe (it holds none)");
}

int main(int argc, char **argv)
{
	const char *src = __FILE__, *cut = strstr(src, "/unit/test_manifest.c");

	/* the fixtures sit beside the unit tests in the source tree, unless named */
	if (argc > 1)
		snprintf(fixtures, sizeof(fixtures), "%s", argv[1]);
	else if (cut)
		snprintf(fixtures, sizeof(fixtures), "%.*s/fixtures/manifests", (int)(cut - src),
			 src);
	else
		snprintf(fixtures, sizeof(fixtures), "tests/fixtures/manifests");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_alg_helpers();
	test_fixtures_coreutils();
	test_fixtures_tags();
	test_fixtures_gpg();
	test_fixture_bare();
	test_crlf_bom_case();
	test_names();
	test_algorithm_rules();
	test_bad_lines();
	test_bad_line_scope();
	test_ambiguous();
	test_missing_name();
	test_bare();
	test_refused_files();
	test_load();
	test_find_arguments();
	unlink(check_path(tmpdir, "big.sha256"));
	unlink(check_path(tmpdir, "junk.sha256"));
	unlink(check_path(tmpdir, "fifo"));
	unlink(check_path(tmpdir, "empty.sha256"));
	if (rmdir(tmpdir) != 0) {
		perror(tmpdir);
		check_failed++;
	}
	return check_done();
}

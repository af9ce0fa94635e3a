/*
 * Unit tests for sg_authenticode_readable() (lib/crypto/authenticode.c), the
 * one check of "signed by the vendor": a PE from the fixture receives a
 * certificate table holding a signature made here with the vendor's key
 * (no trust asked), right or wrong in one way each:
 *
 *   test_authenticode_readable FIXDIR
 *
 * FIXDIR is the CTest fixture (tests/integration/fixture-setup.sh).
 */
#include "authenticode.h"
#include "signgate/authenticode_sign.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/util.h"

#include "check.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>

static const char *fixdir;
static char *workdir;
static EVP_PKEY *vendor_key;
static X509 *vendor_cert;

static void le32_at(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

static void setup_fail(const char *what)
{
	fprintf(stderr, "setup failed: %s\n", what);
	check_workdir_remove(&workdir);
	exit(2);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *buf = NULL;

	if (sg_read_file(&buf, len, path, 64u * 1024 * 1024, "fixture", 0) != SG_OK)
		setup_fail(sg_error_last());
	return buf;
}

static void load_vendor(void)
{
	BIO *k = BIO_new_file(check_path(fixdir, "vendor/vendor.key"), "r");
	BIO *c = BIO_new_file(check_path(fixdir, "vendor/vendor.pem"), "r");

	vendor_key = k ? PEM_read_bio_PrivateKey(k, NULL, NULL, NULL) : NULL;
	vendor_cert = c ? PEM_read_bio_X509(c, NULL, NULL, NULL) : NULL;
	BIO_free(k);
	BIO_free(c);
	if (!vendor_key || !vendor_cert)
		setup_fail("the vendor's key and certificate");
}

/* The unsigned fixture PE's inspection and its own Authenticode digest. */
static void pe_digest(sg_format_info *info, unsigned char md[SG_FORMAT_DIGEST_MAX])
{
	int fd = open(check_path(fixdir, "inst/hello-setup.exe"), O_RDONLY | O_CLOEXEC);
	size_t md_len = 0;

	if (fd < 0 || sg_format_inspect(info, fd, "hello-setup.exe") != SG_OK ||
	    sg_format_digest(md, &md_len, fd, info, SG_FORMAT_DIGEST_SIGN, "hello-setup.exe") !=
		    SG_OK ||
	    md_len != 32)
		setup_fail(sg_error_last());
	close(fd);
}

/* The fixture PE with one WIN_CERTIFICATE holding `der` as its table, into `out`. */
static void put_table(const char *out, const sg_format_info *info, const unsigned char *der,
		      size_t der_len)
{
	size_t len, at, cert_len = (8 + der_len + 7) / 8 * 8;
	unsigned char *pe = slurp(check_path(fixdir, "inst/hello-setup.exe"), &len);
	unsigned char *file;

	at = (len + 7) / 8 * 8;
	file = calloc(1, at + cert_len);
	if (!file)
		setup_fail("out of memory");
	memcpy(file, pe, len);
	le32_at(file + info->pe.certdir_offset, (uint32_t)at);
	le32_at(file + info->pe.certdir_offset + 4, (uint32_t)cert_len);
	le32_at(file + at, (uint32_t)(8 + der_len));
	file[at + 4] = 0x00, file[at + 5] = 0x02; /* revision 2.0 */
	file[at + 6] = 0x02, file[at + 7] = 0x00; /* PKCS#7 SignedData */
	memcpy(file + at + 8, der, der_len);
	check_write_file(out, file, at + cert_len, 0600);
	free(file);
	free(pe);
}

/* sg_authenticode_readable() of the work file `name`, as sign takes it. */
static int readable(const char *name)
{
	int fd = open(check_path(workdir, name), O_RDONLY | O_CLOEXEC), error;
	sg_format_info info;

	if (fd < 0)
		setup_fail(name);
	error = sg_format_inspect(&info, fd, name);
	if (!error) {
		CHECK_INT(info.has_signature, 1);
		error = sg_authenticode_readable(&info, fd, name);
	}
	close(fd);
	return error;
}

/* A signature by the vendor's key over `md` as content of format `kind`, in a PE. */
static void signed_pe(const char *name, const sg_format_info *info, sg_format_kind kind,
		      const unsigned char *md)
{
	sg_authenticode_sign_req req = { .kind = kind,
					 .md_nid = NID_sha256,
					 .digest = md,
					 .digest_len = 32,
					 .key = vendor_key,
					 .cert = vendor_cert };
	unsigned char *der = NULL;
	size_t der_len = 0;

	if (sg_authenticode_sign(&der, &der_len, &req) != SG_OK)
		setup_fail(sg_error_last());
	put_table(check_path(workdir, name), info, der, der_len);
	OPENSSL_free(der);
}

#define EXPECT_DENIED(name, reason)                                                                \
	do {                                                                                       \
		CHECK_INT(readable(name), SG_ERR_FORMAT);                                          \
		CHECK_CONTAINS(sg_error_last(), name ": its certificate table claims a signature " \
						 "signgate cannot read (");                       \
		CHECK_CONTAINS(sg_error_last(), reason);                                           \
	} while (0)

static void test_kinds(void)
{
	sg_format_info info;
	unsigned char md[SG_FORMAT_DIGEST_MAX], other[32];
	sg_format_kind pe = sg_format_by_name("pe"), msi = sg_format_by_name("msi");

	pe_digest(&info, md);
	CHECK(pe != SG_FORMAT_UNKNOWN && msi != SG_FORMAT_UNKNOWN);
	/* The one right signature: the PE's content over its own digest. */
	signed_pe("good.exe", &info, pe, md);
	CHECK_INT(readable("good.exe"), SG_OK);
	/* The right digest as another format's content (an MSI's SpcSipInfo). */
	signed_pe("kind.exe", &info, msi, md);
	EXPECT_DENIED("kind.exe", "signature 0: the signed content is not a PE's");
	/* The right content over another file's digest: a lifted signature. */
	memcpy(other, md, 32);
	other[31] ^= 1;
	signed_pe("lifted.exe", &info, pe, other);
	EXPECT_DENIED("lifted.exe", ": the file is not what its signature covers)");
	CHECK_CONTAINS(sg_error_last(), "and the file's own Authenticode digest is ");
}

/* A one-signer SignedData over plain data: no SpcIndirectData at all. */
static void test_not_indirect(void)
{
	sg_format_info info;
	unsigned char md[SG_FORMAT_DIGEST_MAX], *der = NULL;
	BIO *in = BIO_new_mem_buf("hello", 5);
	PKCS7 *p7 = in ? PKCS7_sign(vendor_cert, vendor_key, NULL, in, PKCS7_BINARY) : NULL;
	int der_len = p7 ? i2d_PKCS7(p7, &der) : -1;

	pe_digest(&info, md);
	if (der_len <= 0)
		setup_fail("PKCS7_sign");
	put_table(check_path(workdir, "data.exe"), &info, der, (size_t)der_len);
	EXPECT_DENIED("data.exe", "signature 0 has no SpcIndirectDataContent");
	OPENSSL_free(der);
	PKCS7_free(p7);
	BIO_free(in);
}

/* A nested value that is no SignedData: the file's count would differ from osslsigncode's. */
static void test_nested_garbage(void)
{
	sg_format_info info;
	unsigned char md[SG_FORMAT_DIGEST_MAX], *der = NULL, *out = NULL;
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	sg_authenticode_sign_req req = { 0 };
	const unsigned char *p;
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.311.2.4.1", 1);
	ASN1_STRING *seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
	PKCS7 *p7;
	size_t len = 0;
	int out_len;

	pe_digest(&info, md);
	req = (sg_authenticode_sign_req){ .kind = sg_format_by_name("pe"), .md_nid = NID_sha256,
					  .digest = md, .digest_len = 32, .key = vendor_key,
					  .cert = vendor_cert };
	if (sg_authenticode_sign(&der, &len, &req) != SG_OK || !oid || !seq ||
	    !ASN1_STRING_set(seq, junk, sizeof(junk)))
		setup_fail("the nested case");
	p = der;
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	if (!p7 || !X509at_add1_attr_by_OBJ(
			   &sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0)->unauth_attr,
			   oid, V_ASN1_SEQUENCE, seq->data, seq->length))
		setup_fail("adding the nested value");
	out_len = i2d_PKCS7(p7, &out);
	if (out_len <= 0)
		setup_fail("i2d_PKCS7");
	put_table(check_path(workdir, "nested.exe"), &info, out, (size_t)out_len);
	EXPECT_DENIED("nested.exe", "(nested signature 1 is no SignedData with one signer)");
	CHECK_INT(sg_authenticode_count(&(int){ 0 }, NULL, out, (size_t)out_len), SG_ERR_VERIFY);
	OPENSSL_free(out);
	OPENSSL_free(der);
	PKCS7_free(p7);
	ASN1_STRING_free(seq);
	ASN1_OBJECT_free(oid);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_authenticode_readable FIXDIR\n");
		return 2;
	}
	fixdir = argv[1];
	if (check_workdir_create(&workdir) != SG_OK)
		setup_fail(sg_error_last());
	load_vendor();
	test_kinds();
	test_not_indirect();
	test_nested_garbage();
	EVP_PKEY_free(vendor_key);
	X509_free(vendor_cert);
	check_workdir_remove(&workdir);
	free(workdir);
	return check_done();
}

/*
 * Adding a format is one file plus one row (ARCHITECTURE.md): proved with a
 * hypothetical format. This program defines its own sg_format_table (so the
 * linker takes it instead of lib/format/format_table.c's): the real rows
 * plus "sgfake", a format with magic "SGFAKE01", extension .sgfake, a
 * digest of its own and SpcSipInfo content with a SIP GUID and a version no
 * real row has. Nothing else in signgate is edited, yet detection, names,
 * the help texts' extension list, the digest, the key helper's request and
 * the SpcIndirectDataContent signgate builds (and the check verification
 * applies) all follow the row.
 */
#include "signgate/authenticode_sign.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/keyhelper.h"
#include "format_ops.h"

#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define FAKE_MAGIC "SGFAKE01"

static int fake_detect(const unsigned char *head, size_t n, const char *name)
{
	(void)name;
	return n >= 8 && memcmp(head, FAKE_MAGIC, 8) == 0;
}

static int fake_inspect(const struct src *s, sg_format_info *out)
{
	if (s->size < 16)
		return sg_format_bad(s, "shorter than a fake header (16 bytes)");
	out->has_signature = 0;
	return SG_OK;
}

/* SHA-256 of the whole file: the row's own digest. */
static int fake_digest(unsigned char md[SG_FORMAT_DIGEST_MAX], size_t *md_len, int fd,
		       const sg_format_info *info, sg_format_digest_use use, const char *name)
{
	unsigned char buf[4096];
	unsigned int len = 0;
	struct src s;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int error = sg_format_src_of(&s, fd, name);

	(void)use;
	*md_len = 0;
	if (!error && !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		error = SG_ERR_CRYPTO;
	for (uint64_t at = 0; !error && at < info->size; at += sizeof(buf)) {
		size_t n = info->size - at < sizeof(buf) ? (size_t)(info->size - at) : sizeof(buf);

		if (!(error = sg_format_read_at(&s, buf, n, at)) && !EVP_DigestUpdate(ctx, buf, n))
			error = SG_ERR_CRYPTO;
	}
	if (!error && !EVP_DigestFinal_ex(ctx, md, &len))
		error = SG_ERR_CRYPTO;
	EVP_MD_CTX_free(ctx);
	*md_len = error ? 0 : len;
	return error;
}

static const sg_spc_content fake_content = {
	.name = "Fake",
	.what = "a fake file",
	.shape = SG_SPC_SIP_INFO,
	.sip_guid = { 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45, 0x67, 0x89,
		      0xab, 0xcd, 0xef },
	.sip_version = 2,
	.sip_ints = { 0, 0, 0, 0, 300 },
};

static const char *const fake_ext[] = { ".sgfake", NULL };

static const struct sg_format_ops fake_ops = {
	.name = "sgfake",
	.what = "a fake file",
	.extensions = fake_ext,
	.detect = fake_detect,
	.inspect = fake_inspect,
	.digest = fake_digest,
	.content = &fake_content,
	.container = "fake signature",
};

/* The real rows, then the new one: the only "edit". */
extern const struct sg_format_ops sg_format_pe_ops, sg_format_msi_ops, sg_format_msp_ops,
	sg_format_msm_ops, sg_format_mst_ops, sg_format_cab_ops, sg_format_script_ops;

const struct sg_format_ops *const sg_format_table[] = {
	&sg_format_pe_ops,  &sg_format_msi_ops,    &sg_format_msp_ops,
	&sg_format_msm_ops, &sg_format_mst_ops,    &sg_format_cab_ops,
	&fake_ops,          &sg_format_script_ops, NULL,
};

/* A throwaway RSA key and a self-signed certificate for it. */
static int make_signer(EVP_PKEY **key, X509 **cert)
{
	X509_NAME *n;

	*key = EVP_RSA_gen(2048);
	*cert = X509_new();
	if (!*key || !*cert)
		return -1;
	n = X509_get_subject_name(*cert);
	X509_set_version(*cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(*cert), 7);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fake row", -1, -1,
				   0);
	X509_set_issuer_name(*cert, n);
	X509_gmtime_adj(X509_getm_notBefore(*cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(*cert), 3600);
	X509_set_pubkey(*cert, *key);
	return X509_sign(*cert, *key, EVP_sha256()) > 0 ? 0 : -1;
}

/* `needle` occurs in `hay`. */
static int holds(const unsigned char *hay, size_t n, const unsigned char *needle, size_t k)
{
	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

static void test_signed_content(sg_format_kind kind, const unsigned char *digest)
{
	/* SpcSipInfo: INTEGER 2, OCTET STRING the GUID, INTEGER 0 x4, INTEGER 300 */
	static const unsigned char want[] = { 0x30, 0x25, 0x02, 0x01, 0x02, 0x04, 0x10, 0x10,
					      0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01,
					      0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x02,
					      0x01, 0x00, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00,
					      0x02, 0x01, 0x00, 0x02, 0x02, 0x01, 0x2c };
	const char *oid = NULL, *what = NULL;
	const unsigned char *guid = NULL;
	sg_authenticode_sign_req req = {
		.kind = kind, .md_nid = NID_sha256, .digest = digest, .digest_len = 32
	};
	unsigned char *der = NULL, wire[SG_KEYHELPER_REQUEST_MAX];
	size_t len = 0, wire_len = 0;
	sg_keyhelper_request kr = { .kind = kind, .md_nid = NID_sha256, .digest_len = 32 }, back;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;

	CHECK_STR(sg_authenticode_kind_name(kind), "Fake");
	CHECK_INT(sg_authenticode_kind_content(kind, &oid, &guid, &what), 0);
	CHECK_STR(oid, "1.3.6.1.4.1.311.2.1.30"); /* SpcSipInfo */
	CHECK(guid && memcmp(guid, fake_content.sip_guid, 16) == 0);
	CHECK_STR(what, "a fake file");
	/* the key helper's request carries the new format and comes back the same */
	memcpy(kr.digest, digest, 32);
	CHECK_INT(sg_keyhelper_request_encode(wire, sizeof(wire), &wire_len, &kr), SG_OK);
	CHECK_INT(sg_keyhelper_request_parse(&back, wire, wire_len), SG_OK);
	CHECK_INT(back.kind, kind);
	/* the SpcIndirectDataContent holds the row's SpcSipInfo, built from data */
	CHECK_INT(make_signer(&key, &cert), 0);
	req.key = key;
	req.cert = cert;
	CHECK_INT(sg_authenticode_sign(&der, &len, &req), SG_OK);
	CHECK(der && holds(der, len, want, sizeof(want)));
	CHECK(der && holds(der, len, digest, 32));
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	X509_free(cert);
}

int main(void)
{
	char path[] = "/tmp/sg-newrow.XXXXXX";
	unsigned char body[64] = FAKE_MAGIC, md[SG_FORMAT_DIGEST_MAX];
	size_t md_len = 0, i;
	sg_format_info info;
	sg_format_kind kind = sg_format_by_name("sgfake");
	int fd = mkstemp(path), listed = 0;
	const char *e;

	CHECK(fd >= 0);
	if (fd < 0)
		return check_done();
	unlink(path);
	CHECK(write(fd, body, sizeof(body)) == (ssize_t)sizeof(body));
	CHECK(kind != SG_FORMAT_UNKNOWN);
	/* names: --recursive, the help texts' list, the name/content agreement */
	CHECK_INT(sg_format_name_is_installer("vendor.SGFAKE"), 1);
	for (i = 0; (e = sg_format_extension_at(i)) != NULL; i++)
		listed += strcmp(e, ".sgfake") == 0;
	CHECK_INT(listed, 1);
	CHECK_INT(sg_format_inspect(&info, fd, "vendor.sgfake"), SG_OK);
	CHECK_STR(sg_format_name(info.kind), "sgfake");
	CHECK_INT(sg_format_inspect(&info, fd, "vendor.msi"), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "vendor.msi: named as an MSI package (.msi) but it is a "
					"fake file");
	CHECK_INT(sg_format_inspect(&info, fd, "download.bin"), SG_OK);
	CHECK_INT(info.kind, kind);
	/* the rows after it keep working: a script is still a script */
	CHECK_STR(sg_format_name(sg_format_by_name("powershell")), "powershell");
	/* its digest, through the table */
	CHECK_INT(sg_format_digest(md, &md_len, fd, &info, SG_FORMAT_DIGEST_SIGN, "vendor.sgfake"),
		  SG_OK);
	CHECK_INT(md_len, 32);
	CHECK_INT(sg_format_spc_kind(info.kind), kind);
	CHECK_STR(sg_format_container_name(info.kind), "fake signature");
	CHECK(sg_format_nest_unseen(info.kind) == NULL);
	test_signed_content(kind, md);
	close(fd);
	return check_done();
}

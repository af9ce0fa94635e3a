/*
 * Unit tests for the exact-signature check (issue 12): sg_authenticode_check
 * with exact_attributes and expect_der, and sg_verify_file with
 * sg_verify_opts.expect_der on PE files signed by sg_authenticode_sign and
 * attached by the real osslsigncode:
 *
 *   test_exact_signature FIXDIR
 *
 * FIXDIR is the CTest fixture (tests/integration/fixture-setup.sh): pki/
 * (signer.p12, signer.pass, root.pem, crl.pem), tsa.port (the answering
 * TSA) and inst/ (hello-setup.exe, vendor-signed-hello-setup.exe).
 */
#include "authenticode.h"
#include "signgate/authenticode_sign.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/hash.h"
#include "msi_digest.h"
#include "pe_digest.h"
#include "proc.h"
#include "signgate/secret.h"
#include "timestamp.h"
#include "signgate/util.h"
#include "signgate/verify.h"

#include "check.h"

#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#define OID_NESTED_SIGNATURE   "1.3.6.1.4.1.311.2.4.1"
#define OID_RFC3161_TIMESTAMP  "1.3.6.1.4.1.311.3.3.1"
#define OID_SPC_STATEMENT_TYPE "1.3.6.1.4.1.311.2.1.11"
#define OID_SPC_SP_OPUS_INFO   "1.3.6.1.4.1.311.2.1.12"

static const char *fixdir;
static char *workdir;
static EVP_PKEY *key;
static X509 *cert;
static STACK_OF(X509) * chain;

/* A DER signature in a buffer of OPENSSL_malloc(). */
struct sig {
	unsigned char *der;
	size_t len;
};

__attribute__((noreturn)) static void setup_fail(const char *what)
{
	fprintf(stderr, "setup failed: %s\n", what);
	check_workdir_remove(&workdir);
	exit(2);
}

#include "check_pki.h"

static void load_signer(void)
{
	load_fixture_signer(&key, &cert, &chain);
}

/* sg_authenticode_sign of a digest (`fill` repeated, or `digest`) as `kind`. */
static struct sig sign_kind(sg_format_kind kind, const unsigned char *digest, unsigned char fill)
{
	unsigned char made[32];
	struct sig s = { NULL, 0 };
	sg_authenticode_sign_req req = { kind, NID_sha256, digest,       32,  key,
					 cert, chain,      "exact test", NULL };

	if (!digest) {
		memset(made, fill, sizeof(made));
		req.digest = made;
	}
	if (sg_authenticode_sign(&s.der, &s.len, &req) != SG_OK)
		setup_fail(sg_error_last());
	return s;
}

static struct sig sign_digest(const unsigned char *digest, unsigned char fill)
{
	return sign_kind(sg_format_by_name("pe"), digest, fill);
}

static void sig_free(struct sig *s)
{
	OPENSSL_free(s->der);
	s->der = NULL;
}

static PKCS7 *parse(const struct sig *s)
{
	const unsigned char *p = s->der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)s->len);

	if (!p7)
		setup_fail("parse");
	return p7;
}

static PKCS7_SIGNER_INFO *signer0(PKCS7 *p7)
{
	return sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
}

/* `p7` encoded, after signing its (changed) signed attributes again when `resign`. */
static struct sig encode(PKCS7 *p7, int resign)
{
	PKCS7_SIGNER_INFO *si = signer0(p7);
	struct sig s = { NULL, 0 };
	int len;

	if (resign) {
		EVP_PKEY_up_ref(key);
		EVP_PKEY_free(si->pkey);
		si->pkey = key;
		if (PKCS7_SIGNER_INFO_sign(si) != 1)
			setup_fail("re-sign");
	}
	len = i2d_PKCS7(p7, &s.der);
	if (len <= 0)
		setup_fail("encode");
	s.len = (size_t)len;
	return s;
}

/*
 * sg_authenticode_check of `s` as a PE's signature `index`; with `expect`,
 * held to the exact rule and those bytes.
 */
static int check(sg_authenticode_result *r, const struct sig *s, const struct sig *expect,
		 int index)
{
	sg_authenticode_opts o = { .ca_file = fx("pki/root.pem"),
				   .index = index,
				   .kind = sg_format_by_name("pe"),
				   .exact_attributes = expect != NULL,
				   .expect_der = expect ? expect->der : NULL,
				   .expect_der_len = expect ? expect->len : 0 };

	check_write_file(wk("checked.der"), s->der, s->len, 0600);
	return sg_authenticode_check(r, &o, wk("checked.der"));
}

/* `s` fails the exact rule with `why`, and passes today's rules without it. */
static void expect_rejected(const struct sig *s, const char *why)
{
	sg_authenticode_result r;

	CHECK_INT(check(&r, s, s, 0), SG_ERR_VERIFY);
	CHECK_CONTAINS(r.reason, why);
	CHECK_INT(check(&r, s, NULL, 0), SG_OK);
	CHECK_STR(r.reason, "");
}

static int attr_index(STACK_OF(X509_ATTRIBUTE) * attrs, const char *oid)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int i = obj ? X509at_get_attr_by_OBJ(attrs, obj, -1) : -1;

	ASN1_OBJECT_free(obj);
	if (i < 0)
		setup_fail(oid);
	return i;
}

static void add_unsigned(PKCS7_SIGNER_INFO *si, const char *oid, const struct sig *value)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);

	if (!obj || !X509at_add1_attr_by_OBJ(&si->unauth_attr, obj, V_ASN1_SEQUENCE, value->der,
					     (int)value->len))
		setup_fail("add unsigned attribute");
	ASN1_OBJECT_free(obj);
}

/* What sg_authenticode_sign makes (and sg_timestamp_add adds to) passes. */
static void test_exact(struct sig *stamped)
{
	char url[64], port[16] = "";
	struct sig s = sign_digest(NULL, 0x11);
	sg_authenticode_result r;
	FILE *f = fopen(fx("tsa.port"), "r");

	CHECK_INT(check(&r, &s, &s, 0), SG_OK);
	CHECK_INT(r.timestamped, 0);
	if (!f || !fgets(port, sizeof(port), f))
		setup_fail("tsa.port");
	fclose(f);
	port[strcspn(port, "\n")] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/", port);
	if (sg_timestamp_add(&stamped->der, &stamped->len, s.der, s.len, url, 30) != SG_OK)
		setup_fail(sg_error_last());
	CHECK_INT(check(&r, stamped, stamped, 0), SG_OK);
	CHECK_INT(r.timestamped, 1);
	sig_free(&s);
}

/* Signed attributes other than the four, each once with one value, are refused. */
static void test_signed_attributes(void)
{
	struct sig base = sign_digest(NULL, 0x22), s;
	PKCS7 *p7;
	PKCS7_SIGNER_INFO *si;
	X509_ATTRIBUTE *a;
	ASN1_TYPE *v;

	p7 = parse(&base);
	if (!PKCS7_add_signed_attribute(signer0(p7), NID_pkcs9_signingTime, V_ASN1_UTCTIME,
					ASN1_UTCTIME_set(NULL, time(NULL))))
		setup_fail("signingTime");
	s = encode(p7, 1);
	expect_rejected(&s, "signature 0 carries the signed attribute 1.2.840.113549.1.9.5, "
			    "which signgate does not make");
	sig_free(&s);
	PKCS7_free(p7);

	p7 = parse(&base);
	si = signer0(p7);
	X509_ATTRIBUTE_free(X509at_delete_attr(si->auth_attr,
					       attr_index(si->auth_attr, OID_SPC_STATEMENT_TYPE)));
	s = encode(p7, 1);
	expect_rejected(&s, "signature 0 lacks the signed attribute SpcStatementType");
	sig_free(&s);
	PKCS7_free(p7);

	p7 = parse(&base);
	si = signer0(p7);
	a = X509_ATTRIBUTE_dup(
		X509at_get_attr(si->auth_attr, attr_index(si->auth_attr, OID_SPC_SP_OPUS_INFO)));
	if (!a || !sk_X509_ATTRIBUTE_push(si->auth_attr, a))
		setup_fail("duplicate");
	s = encode(p7, 1);
	expect_rejected(&s, "signature 0 carries the signed attribute SpcSpOpusInfo twice");
	sig_free(&s);
	PKCS7_free(p7);

	p7 = parse(&base);
	si = signer0(p7);
	a = X509at_get_attr(si->auth_attr, attr_index(si->auth_attr, OID_SPC_STATEMENT_TYPE));
	v = X509_ATTRIBUTE_get0_type(a, 0);
	if (!v || v->type != V_ASN1_SEQUENCE ||
	    !X509_ATTRIBUTE_set1_data(a, V_ASN1_SEQUENCE, v->value.sequence->data,
				      v->value.sequence->length))
		setup_fail("second value");
	s = encode(p7, 1);
	expect_rejected(&s, "signature 0: its signed attribute SpcStatementType has 2 values, "
			    "not one");
	sig_free(&s);
	PKCS7_free(p7);
	sig_free(&base);
}

/* No unsigned attribute but one timestamp. */
static void test_unsigned_attributes(const struct sig *stamped)
{
	struct sig base = sign_digest(NULL, 0x33),
		   blob = { (unsigned char *)"\x30\x03\x02\x01\x07", 5 }, s;
	sg_authenticode_result r;
	PKCS7 *p7 = parse(&base);
	PKCS7_SIGNER_INFO *si;
	X509_ATTRIBUTE *a;

	add_unsigned(signer0(p7), "1.3.6.1.4.1.99999.1", &blob);
	s = encode(p7, 0);
	expect_rejected(&s, "signature 0 carries the unsigned attribute 1.3.6.1.4.1.99999.1: a "
			    "signature signgate made carries none but one RFC 3161 timestamp");
	sig_free(&s);
	PKCS7_free(p7);

	/* A second token attribute: refused under both rules (two timestamps). */
	p7 = parse(stamped);
	si = signer0(p7);
	a = X509_ATTRIBUTE_dup(sk_X509_ATTRIBUTE_value(si->unauth_attr, 0));
	if (!a || !sk_X509_ATTRIBUTE_push(si->unauth_attr, a))
		setup_fail("second token");
	s = encode(p7, 0);
	CHECK_INT(check(&r, &s, &s, 0), SG_ERR_VERIFY);
	CHECK_CONTAINS(r.reason, "signature 0 carries more than one timestamp");
	CHECK_INT(check(&r, &s, NULL, 0), SG_ERR_VERIFY);
	CHECK_CONTAINS(r.reason, "signature 0 carries more than one timestamp");
	sig_free(&s);
	PKCS7_free(p7);

	/* A token and something else beside it. */
	p7 = parse(stamped);
	add_unsigned(signer0(p7), "1.3.6.1.4.1.99999.2", &blob);
	s = encode(p7, 0);
	expect_rejected(&s, "signature 0 carries the unsigned attribute 1.3.6.1.4.1.99999.2");
	sig_free(&s);
	PKCS7_free(p7);
	sig_free(&base);
}

/* The bytes themselves: one byte off, shorter, longer, all fail. */
static void test_bytes(const struct sig *stamped)
{
	sg_authenticode_result r;
	struct sig other = { malloc(stamped->len + 1), stamped->len };

	if (!other.der)
		setup_fail("malloc");
	memcpy(other.der, stamped->der, stamped->len);
	other.der[stamped->len / 2] ^= 0x01;
	CHECK_INT(check(&r, stamped, &other, 0), SG_ERR_VERIFY);
	CHECK_CONTAINS(r.reason, "signature 0 is not the signature signgate attached");
	CHECK_CONTAINS(r.reason, "differ from the attached");
	other.der[stamped->len / 2] ^= 0x01;
	other.len = stamped->len - 1;
	CHECK_INT(check(&r, stamped, &other, 0), SG_ERR_VERIFY);
	CHECK_CONTAINS(r.reason, "signature 0 is not the signature signgate attached");
	/* The file holds a byte more than the DER (osslsigncode reads past none of it). */
	other.der[stamped->len] = 0;
	other.len = stamped->len + 1;
	check_write_file(wk("longer.der"), other.der, other.len, 0600);
	{
		sg_authenticode_opts o = { .ca_file = fx("pki/root.pem"),
					   .kind = sg_format_by_name("pe"),
					   .exact_attributes = 1,
					   .expect_der = stamped->der,
					   .expect_der_len = stamped->len };
		CHECK_INT(sg_authenticode_check(&r, &o, wk("longer.der")), SG_ERR_VERIFY);
		CHECK_CONTAINS(r.reason, "signature 0 is not the signature signgate attached");
	}
	free(other.der);
}

/* A nested signature is compared as stored inside the primary. */
static void test_nested(const struct sig *stamped)
{
	struct sig outer = sign_digest(NULL, 0x44), primary, other;
	sg_authenticode_result r;
	PKCS7 *p7 = parse(&outer);

	add_unsigned(signer0(p7), OID_NESTED_SIGNATURE, stamped);
	primary = encode(p7, 0);
	CHECK_INT(check(&r, &primary, stamped, 1), SG_OK);
	CHECK_INT(r.timestamped, 1);
	CHECK_INT(check(&r, &primary, stamped, -1), SG_OK);
	CHECK_INT(r.index, 1);
	/* Index 0 is the outer signature: not the one expected. */
	CHECK_INT(check(&r, &primary, stamped, 0), SG_ERR_VERIFY);
	CHECK_CONTAINS(r.reason, "signature 0 is not the signature signgate attached");
	/* The outer signature carries the nested one: never an exact primary. */
	CHECK_INT(check(&r, &primary, &primary, 0), SG_ERR_VERIFY);
	CHECK_CONTAINS(r.reason, "carries the unsigned attribute 1.3.6.1.4.1.311.2.4.1");
	other = sign_digest(NULL, 0x55);
	CHECK_INT(check(&r, &primary, &other, 1), SG_ERR_VERIFY);
	CHECK_CONTAINS(r.reason, "signature 1 is not the signature signgate attached");
	sig_free(&other);
	sig_free(&primary);
	sig_free(&outer);
	PKCS7_free(p7);
}

/* The Authenticode digest of the PE at `path`, raw and as upper-case hex. */
static void pe_digest(unsigned char md[32], char hex[65], const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	sg_format_info info;

	if (fd < 0 || sg_format_inspect(&info, fd, path) != SG_OK ||
	    sg_pe_digest(md, fd, &info, path) != SG_OK)
		setup_fail(path);
	close(fd);
	sg_hex_encode_upper(hex, md, 32);
}

/* osslsigncode attach-signature (-nest), offline. */
static void attach(const char *der, const char *in, const char *out, int nest)
{
	char ca[PATH_MAX], crl[PATH_MAX];
	const char *argv[] = { "/usr/bin/osslsigncode",
			       "attach-signature",
			       "-sigin",
			       der,
			       "-in",
			       in,
			       "-out",
			       out,
			       "-CAfile",
			       ca,
			       "-CRLfile",
			       crl,
			       nest ? "-nest" : NULL,
			       NULL };
	sg_proc_spec spec = { argv, NULL, NULL, 0, 120 };
	sg_proc_result r;

	snprintf(ca, sizeof(ca), "%s", fx("pki/root.pem"));
	snprintf(crl, sizeof(crl), "%s", fx("pki/crl.pem"));
	if (sg_proc_run(&r, &spec) != SG_OK || !r.exited || r.exit_status != 0)
		setup_fail("osslsigncode attach-signature");
	sg_proc_result_free(&r);
}

static int verify(sg_verify_result *r, const char *path, const char *digest,
		  const struct sig *expect, int index)
{
	char ca[PATH_MAX], crl[PATH_MAX];
	sg_verify_opts o = { .osslsigncode = "/usr/bin/osslsigncode",
			     .ca_file = ca,
			     .crl_file = crl,
			     .index = index,
			     .file_digest = digest,
			     .expect_der = expect ? expect->der : NULL,
			     .expect_der_len = expect ? expect->len : 0 };

	snprintf(ca, sizeof(ca), "%s", fx("pki/root.pem"));
	snprintf(crl, sizeof(crl), "%s", fx("pki/crl.pem"));
	return sg_verify_file(r, &o, path, sg_path_base(path));
}

/* End to end: the attached file, byte for byte, under sg_verify_file. */
static void test_verify_file(const struct sig *stamped)
{
	unsigned char md[32];
	char hex[65], vhex[65];
	struct sig s, other = sign_digest(NULL, 0x66);
	sg_verify_result r;

	pe_digest(md, hex, fx("inst/hello-setup.exe"));
	s = sign_digest(md, 0);
	check_write_file(wk("s.der"), s.der, s.len, 0600);
	attach(wk("s.der"), fx("inst/hello-setup.exe"), wk("signed.exe"), 0);
	CHECK_INT(verify(&r, wk("signed.exe"), hex, &s, 0), SG_OK);
	CHECK_STR(r.reason, "");
	CHECK_INT(verify(&r, wk("signed.exe"), hex, &other, 0), SG_ERR_VERIFY);
	CHECK_CONTAINS(r.reason, "signature 0 is not the signature signgate attached");
	/* Nested onto a vendor signature: the last one is ours, byte for byte. */
	pe_digest(md, vhex, fx("inst/vendor-signed-hello-setup.exe"));
	sig_free(&s);
	s = sign_digest(md, 0);
	check_write_file(wk("n.der"), s.der, s.len, 0600);
	attach(wk("n.der"), fx("inst/vendor-signed-hello-setup.exe"), wk("nested.exe"), 1);
	CHECK_INT(verify(&r, wk("nested.exe"), vhex, &s, -1), SG_OK);
	CHECK_STR(r.reason, "");
	CHECK_INT(r.index, 1);
	CHECK_INT(verify(&r, wk("nested.exe"), vhex, &other, -1), SG_ERR_VERIFY);
	CHECK_CONTAINS(r.reason, "signature 1 is not the signature signgate attached");
	/* Timestamped, then attached: still exact. */
	pe_digest(md, hex, fx("inst/hello-setup.exe"));
	sig_free(&s);
	s = sign_digest(md, 0);
	{
		struct sig t = { NULL, 0 };
		char url[64], port[16] = "";
		FILE *f = fopen(fx("tsa.port"), "r");
		if (!f || !fgets(port, sizeof(port), f))
			setup_fail("tsa.port");
		fclose(f);
		port[strcspn(port, "\n")] = '\0';
		snprintf(url, sizeof(url), "http://127.0.0.1:%s/", port);
		if (sg_timestamp_add(&t.der, &t.len, s.der, s.len, url, 30) != SG_OK)
			setup_fail(sg_error_last());
		check_write_file(wk("t.der"), t.der, t.len, 0600);
		attach(wk("t.der"), fx("inst/hello-setup.exe"), wk("stamped.exe"), 0);
		CHECK_INT(verify(&r, wk("stamped.exe"), hex, &t, 0), SG_OK);
		CHECK_STR(r.reason, "");
		CHECK_INT(r.timestamped, 1);
		CHECK_INT(verify(&r, wk("stamped.exe"), hex, &s, 0), SG_ERR_VERIFY);
		CHECK_CONTAINS(r.reason, "signature 0 is not the signature signgate attached");
		free(t.der);
	}
	(void)stamped;
	sig_free(&s);
	sig_free(&other);
}

/* An MSI: the DigitalSignature stream, read by signgate, is the DER. */
static void test_verify_msi(void)
{
	unsigned char md[32];
	char hex[65];
	sg_msi_digest_result d;
	struct sig s, other;
	sg_verify_result r;
	int fd = open(fx("inst/hello-1.0.msi"), O_RDONLY | O_CLOEXEC);

	if (fd < 0 ||
	    sg_msi_digest(&d, fd, NID_sha256, SG_MSI_DSE_WITHOUT, "hello-1.0.msi") != SG_OK)
		setup_fail("msi digest");
	close(fd);
	memcpy(md, d.md, 32);
	sg_hex_encode_upper(hex, md, 32);
	s = sign_kind(sg_format_by_name("msi"), md, 0);
	other = sign_kind(sg_format_by_name("msi"), md, 0);
	check_write_file(wk("m.der"), s.der, s.len, 0600);
	attach(wk("m.der"), fx("inst/hello-1.0.msi"), wk("signed.msi"), 0);
	CHECK_INT(verify(&r, wk("signed.msi"), hex, &s, 0), SG_OK);
	CHECK_STR(r.reason, "");
	/* RSA PKCS#1 v1.5 is deterministic: sign something else to differ. */
	sig_free(&other);
	other = sign_kind(sg_format_by_name("msi"), NULL, 0x77);
	CHECK_INT(verify(&r, wk("signed.msi"), hex, &other, 0), SG_ERR_VERIFY);
	CHECK_CONTAINS(r.reason, "signature 0 is not the signature signgate attached");
	/* The stream as stored is the DER. */
	fd = open(wk("signed.msi"), O_RDONLY | O_CLOEXEC);
	{
		unsigned char *raw = NULL;
		size_t raw_len = 0;
		CHECK_INT(sg_msi_signature_read(&raw, &raw_len, fd, 1u << 20, "signed.msi"), SG_OK);
		CHECK(raw_len == s.len && raw && memcmp(raw, s.der, s.len) == 0);
		free(raw);
		CHECK_INT(sg_msi_signature_read(&raw, &raw_len, fd, 100, "signed.msi"),
			  SG_ERR_FORMAT);
		CHECK_CONTAINS(sg_error_last(), "stream is larger than 100 bytes");
		CHECK(raw == NULL);
	}
	close(fd);
	fd = open(fx("inst/hello-1.0.msi"), O_RDONLY | O_CLOEXEC);
	{
		unsigned char *raw = NULL;
		size_t raw_len = 0;
		CHECK_INT(sg_msi_signature_read(&raw, &raw_len, fd, 1u << 20, "hello-1.0.msi"),
			  SG_ERR_FORMAT);
		CHECK_CONTAINS(sg_error_last(), "no \\x05DigitalSignature stream");
	}
	close(fd);
	sig_free(&s);
	sig_free(&other);
}

int main(int argc, char **argv)
{
	struct sig stamped = { NULL, 0 };

	if (argc != 2) {
		fprintf(stderr, "usage: test_exact_signature FIXDIR\n");
		return 2;
	}
	fixdir = argv[1];
	if (check_workdir_create(&workdir) != SG_OK)
		setup_fail(sg_error_last());
	load_signer();
	test_exact(&stamped);
	test_signed_attributes();
	test_unsigned_attributes(&stamped);
	test_bytes(&stamped);
	test_nested(&stamped);
	test_verify_file(&stamped);
	test_verify_msi();
	free(stamped.der);
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	check_workdir_remove(&workdir);
	free(workdir);
	return check_done();
}

/*
 * Unit tests for lib/authenticode_sign.c (sg_authenticode_sign): signatures
 * made from a digest alone, with the fixture's signer, attached by the real
 * osslsigncode and judged by osslsigncode verify, signgate's own check
 * (sg_authenticode_check) and `signgate verify`:
 *
 *   test_authenticode_sign FIXDIR SIGNGATE [OSSLSIGNCODE]
 *
 * FIXDIR is the CTest fixture (tests/integration/fixture-setup.sh): pki/
 * (signer.p12, signer.pass, root.pem, crl.pem) and inst/ (unsigned NSIS
 * installers, a wixl MSI and gcab cabinets).
 */
#include "authenticode.h"
#include "key_source.h"
#include "signgate/authenticode_sign.h"
#include "cab_digest.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/hash.h"
#include "signgate/keyhelper.h"
#include "signgate/keys.h"
#include "msi_digest.h"
#include "format_script.h"
#include "pe_digest.h"
#include "proc.h"
#include "signgate/util.h"

#include "check.h"

#include <sys/wait.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

/* Built with AddressSanitizer (gcc says so with a macro, clang with __has_feature). */
#if defined(__SANITIZE_ADDRESS__)
#define SG_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SG_UNDER_ASAN 1
#endif
#endif
#ifndef SG_UNDER_ASAN
#define SG_UNDER_ASAN 0
#endif

static const char *fixdir, *signgate;
static const char *osslsigncode = "/usr/bin/osslsigncode";
static char *workdir;
static EVP_PKEY *key;
static X509 *cert;
static STACK_OF(X509) * chain;
static int in_a_child;
static int msi_dse; /* MSI: hash and attach with MsiDigitalSignatureEx */

__attribute__((noreturn)) static void setup_fail(const char *what)
{
	fprintf(stderr, "setup failed: %s\n", what);
	if (!in_a_child) /* the parent removes the work folder */
		check_workdir_remove(&workdir);
	exit(2);
}

/* Run argv (argv[0] absolute); returns the exit status, output into `r`. */
static int run(sg_proc_result *r, const char *const *argv)
{
	sg_proc_spec spec = { argv, NULL, NULL, 0, 120 };

	if (sg_proc_run(r, &spec) != SG_OK)
		setup_fail(sg_error_last());
	return r->exited ? r->exit_status : -1;
}

#include "check_pki.h"

static void load_signer(void)
{
	load_fixture_signer(&key, &cert, &chain);
}

/* The Authenticode SHA-256 of the fixture file `path`, as `kind` computes it. */
static void file_digest(unsigned char out[32], const char *path, sg_format_kind kind)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	sg_format_info info;
	sg_msi_digest_result msi;
	int error;

	if (fd < 0)
		setup_fail(path);
	if (kind == sg_format_by_name("pe")) {
		error = sg_format_inspect(&info, fd, path);
		if (!error)
			error = sg_pe_digest(out, fd, &info, path);
	} else if (kind == sg_format_by_name("cab")) {
		unsigned char md[SG_CAB_DIGEST_MAX];
		size_t len = 0;

		error = sg_cab_digest(md, &len, fd, NID_sha256, path);
		if (!error)
			memcpy(out, md, 32);
	} else if (kind == sg_format_by_name("powershell")) {
		error = sg_script_digest(out, fd, path);
	} else {
		error = sg_msi_digest(&msi, fd, NID_sha256,
				      msi_dse ? SG_MSI_DSE_WITH : SG_MSI_DSE_WITHOUT, path);
		if (!error)
			memcpy(out, msi.md, 32);
	}
	close(fd);
	if (error)
		setup_fail(sg_error_last());
}

static sg_authenticode_sign_req request(sg_format_kind kind, const unsigned char *digest)
{
	sg_authenticode_sign_req r = { kind, NID_sha256, digest, 32, key, cert, chain, NULL, NULL };
	return r;
}

/* Sign `req` into the work file `der_name`; returns sg_authenticode_sign's code. */
static int sign_to(const sg_authenticode_sign_req *req, const char *der_name)
{
	unsigned char *der = NULL;
	size_t len = 0;
	int error = sg_authenticode_sign(&der, &len, req);

	if (!error)
		check_write_file(wk(der_name), der, len, 0600);
	OPENSSL_free(der);
	return error;
}

static PKCS7 *load_p7(const char *path)
{
	BIO *bio = BIO_new_file(path, "rb");
	PKCS7 *p7 = bio ? d2i_PKCS7_bio(bio, NULL) : NULL;

	BIO_free(bio);
	if (!p7)
		setup_fail(path);
	return p7;
}

static int is_oid(const ASN1_OBJECT *obj, const char *text)
{
	ASN1_OBJECT *want = OBJ_txt2obj(text, 1);
	int same = want && OBJ_cmp(obj, want) == 0;

	ASN1_OBJECT_free(want);
	return same;
}

/* The value of signed attribute `oid` when it appears exactly once with one value. */
static ASN1_TYPE *only_value(PKCS7_SIGNER_INFO *si, const char *oid)
{
	ASN1_TYPE *found = NULL;
	int n = 0;

	for (int i = 0; i < sk_X509_ATTRIBUTE_num(si->auth_attr); i++) {
		X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(si->auth_attr, i);
		if (is_oid(X509_ATTRIBUTE_get0_object(a), oid) && X509_ATTRIBUTE_count(a) == 1) {
			found = X509_ATTRIBUTE_get0_type(a, 0);
			n++;
		}
	}
	return n == 1 ? found : NULL;
}

/*
 * The PKCS#7 at `path` is what an Authenticode signer makes: content
 * SpcIndirectData, one signer, signed attributes exactly contentType
 * (SpcIndirectData), SpcSpOpusInfo, SpcStatementType (individual) and
 * messageDigest, no unsigned attribute; the opus info holds `want_opus`.
 */
static void check_attrs(const char *path, const char *want_opus)
{
	static const unsigned char individual[] = { 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01,
						    0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x15 };
	PKCS7 *p7 = load_p7(path);
	PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
	ASN1_TYPE *ctype = only_value(si, "1.2.840.113549.1.9.3");
	ASN1_TYPE *stmt = only_value(si, "1.3.6.1.4.1.311.2.1.11");
	ASN1_TYPE *opus = only_value(si, "1.3.6.1.4.1.311.2.1.12");

	CHECK(PKCS7_type_is_signed(p7));
	CHECK(is_oid(p7->d.sign->contents->type, "1.3.6.1.4.1.311.2.1.4"));
	CHECK_INT(sk_PKCS7_SIGNER_INFO_num(PKCS7_get_signer_info(p7)), 1);
	CHECK_INT(sk_X509_ATTRIBUTE_num(si->auth_attr), 4);
	CHECK(ctype && ctype->type == V_ASN1_OBJECT &&
	      is_oid(ctype->value.object, "1.3.6.1.4.1.311.2.1.4"));
	CHECK(only_value(si, "1.2.840.113549.1.9.4") != NULL);
	CHECK(stmt && stmt->type == V_ASN1_SEQUENCE &&
	      stmt->value.sequence->length == (int)sizeof(individual) &&
	      memcmp(stmt->value.sequence->data, individual, sizeof(individual)) == 0);
	CHECK(opus && opus->type == V_ASN1_SEQUENCE);
	if (opus && opus->type == V_ASN1_SEQUENCE && !want_opus)
		CHECK_INT(opus->value.sequence->length, 2); /* an empty SEQUENCE */
	if (opus && opus->type == V_ASN1_SEQUENCE && want_opus)
		CHECK(memmem(opus->value.sequence->data, (size_t)opus->value.sequence->length,
			     want_opus, strlen(want_opus)) != NULL);
	CHECK(PKCS7_get_signed_attribute(si, NID_pkcs9_signingTime) == NULL);
	CHECK(sk_X509_ATTRIBUTE_num(si->unauth_attr) <= 0);
	/* The signer, then the chain (the PKCS#12 holds the issuing CA). */
	CHECK_INT(sk_X509_num(p7->d.sign->cert), 1 + sk_X509_num(chain));
	CHECK(X509_cmp(sk_X509_value(p7->d.sign->cert, 0), cert) == 0);
	PKCS7_free(p7);
}

static int same_file(const char *a, const char *b)
{
	unsigned char *da = NULL, *db = NULL;
	size_t la = 0, lb = 0;
	int same = sg_read_file(&da, &la, a, 1 << 20, "signature", 0) == SG_OK &&
		   sg_read_file(&db, &lb, b, 1 << 20, "signature", 0) == SG_OK && la == lb &&
		   memcmp(da, db, la) == 0;

	free(da);
	free(db);
	return same;
}

/* osslsigncode attach-signature, offline: the CAs and CRLs of the fixture. */
static int attach(sg_proc_result *r, const char *der, const char *in, const char *out)
{
	char ca[PATH_MAX], crl[PATH_MAX];
	const char *argv[] = {
		osslsigncode, "attach-signature", "-sigin", der,        "-in", in,   "-out",
		out,          "-CAfile",          ca,       "-CRLfile", crl,   NULL, NULL
	};

	if (msi_dse)
		argv[12] = "-add-msi-dse";

	snprintf(ca, sizeof(ca), "%s", fx("pki/root.pem"));
	snprintf(crl, sizeof(crl), "%s", fx("pki/crl.pem"));
	return run(r, argv);
}

static int ossl_verify(sg_proc_result *r, const char *in)
{
	char ca[PATH_MAX], crl[PATH_MAX];
	const char *argv[] = { osslsigncode, "verify", "-index",   "0", "-in", in,
			       "-CAfile",    ca,       "-CRLfile", crl, NULL };

	snprintf(ca, sizeof(ca), "%s", fx("pki/root.pem"));
	snprintf(crl, sizeof(crl), "%s", fx("pki/crl.pem"));
	return run(r, argv);
}

static int signgate_verify(sg_proc_result *r, const char *in)
{
	char ca[PATH_MAX], crl[PATH_MAX];
	const char *argv[] = { signgate, "verify", "--ca", ca, "--crl", crl, in, NULL };

	snprintf(ca, sizeof(ca), "%s", fx("pki/root.pem"));
	snprintf(crl, sizeof(crl), "%s", fx("pki/crl.pem"));
	return run(r, argv);
}

/*
 * Sign the digest of the fixture file `in` as `kind`, attach it with
 * osslsigncode and judge the result three ways.
 */
static void test_roundtrip(sg_format_kind kind, const char *in_path, const char *name,
			   const char *desc, const char *url)
{
	char in[PATH_MAX];
	unsigned char digest[32];
	char der[64], out[64], ext[64], hex[65];
	sg_authenticode_sign_req req;
	sg_authenticode_result ar;
	char ca[PATH_MAX], crl[PATH_MAX];
	sg_authenticode_opts o = { .ca_file = ca, .crl_file = crl, .kind = (int)kind };
	sg_proc_result r;

	snprintf(in, sizeof(in), "%s", in_path); /* fx() buffers rotate */
	snprintf(ca, sizeof(ca), "%s", fx("pki/root.pem"));
	snprintf(crl, sizeof(crl), "%s", fx("pki/crl.pem"));
	snprintf(der, sizeof(der), "%s.der", name);
	snprintf(out, sizeof(out), "signed-%s", name);
	snprintf(ext, sizeof(ext), "%s-extracted.der", name);
	file_digest(digest, in, kind);
	req = request(kind, digest);
	req.description = desc;
	req.url = url;
	CHECK_INT(sign_to(&req, der), SG_OK);
	check_attrs(wk(der), desc);

	if (attach(&r, wk(der), in, wk(out)) != 0)
		fprintf(stderr, "attach %s:\n%s\n%s\n", name, r.out, r.err);
	CHECK(r.exited && r.exit_status == 0);
	sg_proc_result_free(&r);
	CHECK_INT(ossl_verify(&r, wk(out)), 0);
	CHECK_CONTAINS(r.out, "Signature verification: ok");
	CHECK(!strstr(r.out, "MISMATCH") && !strstr(r.err, "MISMATCH"));
	sg_proc_result_free(&r);

	/* The file carries exactly the bytes the key side made. */
	const char *xargv[] = { osslsigncode, "extract-signature", "-in", wk(out), "-out", wk(ext),
				NULL };
	CHECK_INT(run(&r, xargv), 0);
	sg_proc_result_free(&r);
	CHECK(same_file(wk(der), wk(ext)));
	check_attrs(wk(ext), desc);
	CHECK_INT(sg_authenticode_check(&ar, &o, wk(ext)), SG_OK);
	CHECK_STR(ar.reason, "");
	sg_hex_encode_upper(hex, digest, sizeof(digest));
	CHECK_STR(ar.file_digest, hex);

	CHECK_INT(signgate_verify(&r, wk(out)), 0);
	CHECK_CONTAINS(r.out, "valid: signed by CN=Example Corp Code Signing");
	sg_proc_result_free(&r);
}

/* The SpcIndirectDataContent of the PKCS#7 at `path`, as DER, into `out` (at most `cap`). */
static size_t indirect_content(unsigned char *out, size_t cap, const char *path)
{
	PKCS7 *p7 = load_p7(path);
	const ASN1_STRING *c = PKCS7_type_is_other(p7->d.sign->contents)
				       ? p7->d.sign->contents->d.other->value.sequence
				       : NULL;
	size_t len = c && (size_t)c->length <= cap ? (size_t)c->length : 0;

	if (len)
		memcpy(out, c->data, len);
	PKCS7_free(p7);
	return len;
}

/*
 * A cabinet's signed content is, byte for byte, the one osslsigncode sign
 * builds for the same file: SpcCabData with the obsolete file link, and the
 * same digest (signgate's of the unsigned cabinet).
 */
static void test_cab_content(void)
{
	unsigned char digest[32], ours[512], theirs[512];
	char p12[PATH_MAX], pass[PATH_MAX], in[PATH_MAX];
	sg_authenticode_sign_req req;
	sg_proc_result r;
	size_t n_ours, n_theirs;
	const char *sargv[] = { osslsigncode, "sign", "-pkcs12", p12, "-readpass", pass, "-h",
				"sha256", "-in", in, "-out", NULL, NULL };
	const char *xargv[] = { osslsigncode, "extract-signature", "-in", NULL, "-out", NULL, NULL };

	snprintf(in, sizeof(in), "%s", fx("inst/payload-2.0.cab"));
	snprintf(p12, sizeof(p12), "%s", fx("pki/signer.p12"));
	snprintf(pass, sizeof(pass), "%s", fx("pki/signer.pass"));
	sargv[11] = wk("ossl-signed.cab");
	CHECK_INT(run(&r, sargv), 0);
	sg_proc_result_free(&r);
	xargv[3] = wk("ossl-signed.cab");
	xargv[5] = wk("ossl-cab.der");
	CHECK_INT(run(&r, xargv), 0);
	sg_proc_result_free(&r);
	file_digest(digest, in, sg_format_by_name("cab"));
	req = request(sg_format_by_name("cab"), digest);
	CHECK_INT(sign_to(&req, "ours-cab.der"), SG_OK);
	n_ours = indirect_content(ours, sizeof(ours), wk("ours-cab.der"));
	n_theirs = indirect_content(theirs, sizeof(theirs), wk("ossl-cab.der"));
	CHECK(n_ours > 0);
	CHECK_INT(n_ours, n_theirs);
	CHECK(n_ours == n_theirs && memcmp(ours, theirs, n_ours) == 0);
}

/*
 * signed-hello.exe with its PKCS#7 replaced by `other_der` (a signature of
 * the same length over another file's digest) into the work file `out`.
 */
static void splice_signature(const char *other_der, const char *out)
{
	unsigned char *file = NULL, *mine = NULL, *other = NULL, *at;
	size_t flen = 0, mlen = 0, olen = 0;

	if (sg_read_file(&file, &flen, wk("signed-hello.exe"), 1 << 24, NULL, 0) ||
	    sg_read_file(&mine, &mlen, wk("hello.exe.der"), 1 << 20, NULL, 0) ||
	    sg_read_file(&other, &olen, other_der, 1 << 20, NULL, 0) || mlen != olen ||
	    !(at = memmem(file, flen, mine, mlen)))
		setup_fail("cannot splice the other signature into signed-hello.exe");
	memcpy(at, other, olen);
	check_write_file(out, file, flen, 0644);
	free(file);
	free(mine);
	free(other);
}

/* A signature over another file's digest does not make a valid file. */
static void test_other_digest(void)
{
	unsigned char digest[32];
	char spliced[PATH_MAX];
	sg_authenticode_sign_req req;
	sg_proc_result r;

	file_digest(digest, fx("inst/other-setup.exe"), sg_format_by_name("pe"));
	req = request(sg_format_by_name("pe"), digest);
	CHECK_INT(sign_to(&req, "other.der"), SG_OK);
	/* osslsigncode 2.9 checks the file it attached to and refuses it. */
	CHECK(attach(&r, wk("other.der"), fx("inst/hello-setup.exe"), wk("mismatch.exe")) != 0);
	CHECK_CONTAINS(r.out, "MISMATCH");
	sg_proc_result_free(&r);
	/*
	 * 2.9 leaves the refused output behind: whoever attaches must judge
	 * the file, not the exit status, and delete it.
	 */
	if (sg_path_exists(wk("mismatch.exe"))) {
		CHECK_INT(signgate_verify(&r, wk("mismatch.exe")), 3);
		CHECK_CONTAINS(r.out, "the file's digest does not match the signed value");
		sg_proc_result_free(&r);
	}

	/* Put in place by hand, neither verifier accepts it. */
	snprintf(spliced, sizeof(spliced), "%s", wk("spliced.exe"));
	splice_signature(wk("other.der"), spliced);
	CHECK_INT(ossl_verify(&r, spliced), 1);
	CHECK(strstr(r.out, "MISMATCH") || strstr(r.err, "MISMATCH"));
	sg_proc_result_free(&r);
	CHECK_INT(signgate_verify(&r, spliced), 3);
	CHECK_CONTAINS(r.out, "signature 0: the file's digest does not match the signed value");
	sg_proc_result_free(&r);
}

#define EXPECT_USAGE(req, want)                                                                    \
	do {                                                                                       \
		unsigned char *d_ = NULL;                                                          \
		size_t l_ = 1;                                                                     \
		CHECK_INT(sg_authenticode_sign(&d_, &l_, (req)), SG_ERR_USAGE);                    \
		CHECK_CONTAINS(sg_error_last(), (want));                                           \
		CHECK(d_ == NULL && l_ == 0);                                                      \
	} while (0)

static void test_validation(void)
{
	unsigned char digest[64] = { 0 };
	sg_authenticode_sign_req req = request(sg_format_by_name("pe"), digest);
	unsigned char *der = NULL;
	size_t len = 0;

	EXPECT_USAGE(NULL, "no request");
	req.kind = (sg_format_kind)9;
	EXPECT_USAGE(&req, "unknown content kind 9");
	req = request(sg_format_by_name("msi"), digest);
	req.md_nid = NID_sha1;
	req.digest_len = 20;
	EXPECT_USAGE(&req, "unsupported digest algorithm SHA1");
	req.md_nid = NID_sha512;
	req.digest_len = 64;
	EXPECT_USAGE(&req, "unsupported digest algorithm SHA512");
	req = request(sg_format_by_name("pe"), digest);
	req.digest_len = 31;
	EXPECT_USAGE(&req, "the SHA256 digest must be 32 bytes, not 31");
	req.digest_len = 33;
	EXPECT_USAGE(&req, "must be 32 bytes, not 33");
	req = request(sg_format_by_name("pe"), NULL);
	EXPECT_USAGE(&req, "must be 32 bytes, not 0");
	req = request(sg_format_by_name("pe"), digest);
	req.key = NULL;
	EXPECT_USAGE(&req, "no key");
	req = request(sg_format_by_name("pe"), digest);
	req.cert = NULL;
	EXPECT_USAGE(&req, "no certificate");
	req = request(sg_format_by_name("pe"), digest);
	req.description = "line\nbreak";
	EXPECT_USAGE(&req, "the description must be");
	req.description = "";
	EXPECT_USAGE(&req, "the description must be");
	req = request(sg_format_by_name("pe"), digest);
	req.url = "file:///etc/passwd";
	EXPECT_USAGE(&req, "the URL must be");

	/* The longest description and URL fit; one character more does not. */
	{
		char desc[SG_AUTHENTICODE_TEXT_MAX + 1], url[SG_AUTHENTICODE_TEXT_MAX + 1];
		memset(desc, 'd', sizeof(desc) - 1);
		desc[sizeof(desc) - 1] = '\0';
		memcpy(url, "https://", 8);
		memset(url + 8, 'u', sizeof(url) - 9);
		url[sizeof(url) - 1] = '\0';
		req = request(sg_format_by_name("pe"), digest);
		req.description = desc;
		req.url = url;
		EXPECT_USAGE(&req, "the description must be 1 to 1023");
		desc[SG_AUTHENTICODE_TEXT_MAX - 1] = '\0';
		EXPECT_USAGE(&req, "the URL must be");
		url[SG_AUTHENTICODE_TEXT_MAX - 1] = '\0';
		CHECK_INT(sign_to(&req, "long.der"), SG_OK);
		check_attrs(wk("long.der"), desc);
	}

	/* A certificate that is not the key's: the chain's issuing CA. */
	req = request(sg_format_by_name("pe"), digest);
	req.cert = sk_X509_value(chain, 0);
	CHECK_INT(sg_authenticode_sign(&der, &len, &req), SG_ERR_CRYPTO);
	CHECK_CONTAINS(sg_error_last(), "the key does not match the signer certificate");
	CHECK(der == NULL);

	/* No signingTime, RSA PKCS#1 v1.5: the same request gives the same bytes. */
	req = request(sg_format_by_name("pe"), digest);
	CHECK_INT(sign_to(&req, "same1.der"), SG_OK);
	CHECK_INT(sign_to(&req, "same2.der"), SG_OK);
	CHECK(same_file(wk("same1.der"), wk("same2.der")));
	req.kind = sg_format_by_name("msi");
	CHECK_INT(sign_to(&req, "same-msi.der"), SG_OK);
	CHECK(!same_file(wk("same1.der"), wk("same-msi.der")));
	CHECK_STR(sg_authenticode_kind_name(sg_format_by_name("msi")), "MSI");
	CHECK_STR(sg_authenticode_kind_name(sg_format_by_name("cab")), "CAB");
	CHECK(sg_authenticode_kind_name(0) == NULL);
	CHECK_INT(sg_authenticode_md_len(NID_sha256), 32);
	CHECK_INT(sg_authenticode_md_len(NID_md5), 0);
}

/*
 * The same with a signer key in the fixture's SoftHSM2 token, through the
 * libp11 engine as lib/pkcs11_key.c opens it: the key never leaves the
 * token. `object` is the key's label, `cert_pem` its certificate (issued by
 * the same CA as the PKCS#12's).
 */
/* A token's key through the key source `source` (lib/key_source.h) signs a PE that verifies. */
static void test_token(const char *source, const char *object, const char *cert_pem,
		       const char *name)
{
	EVP_PKEY *file_key = key;
	X509 *file_cert = cert, *token_cert = sg_keys_read_cert(fx(cert_pem));
	sg_key token = { 0 };
	char *pin = NULL, uri[128];
	size_t pin_len = 0;
	sg_secret secret;
	sg_key_view v = { .config = "test",
			  .section = "signing",
			  .source = source,
			  .cert_chain = fx(cert_pem),
			  .pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so" };

	setenv("SOFTHSM2_CONF", fx("pki/softhsm/softhsm2.conf"), 1);
	if (!token_cert || sg_secret_read_file(&pin, &pin_len, fx("pki/token.pin")) != SG_OK)
		setup_fail(sg_error_last());
	secret.data = pin;
	secret.len = pin_len;
	snprintf(uri, sizeof(uri), "pkcs11:token=signgate;object=%s;type=private", object);
	v.key = uri;
	if (sg_key_open(&token, &v, &secret, "the signing key") != SG_OK)
		setup_fail(sg_error_last());
	CHECK_STR(token.ops->name, source);
	sg_secret_free(pin);
	key = token.pkey;
	cert = token_cert;
	test_roundtrip(sg_format_by_name("pe"), fx("inst/hello-setup.exe"), name, NULL, NULL);
	key = file_key;
	cert = file_cert;
	X509_free(token_cert);
	sg_key_close(&token);
}

static void token_rsa(void)
{
	test_token("pkcs11-engine", "signer", "pki/signer.pem", "token.exe");
}

static void token_ec(void)
{
	test_token("pkcs11-engine", "signer-ec", "pki/signer-ec.pem", "token-ec.exe");
}

static void provider_rsa(void)
{
	test_token("pkcs11-provider", "signer", "pki/signer.pem", "provider.exe");
}

static void provider_ec(void)
{
	test_token("pkcs11-provider", "signer-ec", "pki/signer-ec.pem", "provider-ec.exe");
}

/*
 * Run `fn` in a child: lib/key_source_pkcs11_engine.c loads the pkcs11
 * engine once per process (after sg_key_close(), OpenSSL does not load it
 * again), and each token case loads its own.
 */
static void in_child(void (*fn)(void))
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		in_a_child = 1;
		fn();
		fflush(NULL);
		_exit(check_failed ? 1 : 0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
}

/* A request that went over the wire signs exactly as the request it encodes. */
static void test_wire(void)
{
	unsigned char digest[32], wire[SG_KEYHELPER_REQUEST_MAX];
	sg_keyhelper_request kr = { .kind = sg_format_by_name("pe"),
				    .md_nid = NID_sha256,
				    .digest_len = 32 },
			     parsed;
	sg_authenticode_sign_req req;
	size_t len = 0;

	file_digest(digest, fx("inst/hello-setup.exe"), sg_format_by_name("pe"));
	memcpy(kr.digest, digest, sizeof(digest));
	CHECK_INT(sg_keyhelper_request_encode(wire, sizeof(wire), &len, &kr), SG_OK);
	CHECK_INT(sg_keyhelper_request_parse(&parsed, wire, len), SG_OK);
	req = request(sg_format_by_name("msi"), NULL);
	sg_keyhelper_request_apply(&req, &parsed);
	CHECK_INT(sign_to(&req, "wire.der"), SG_OK);
	CHECK(same_file(wk("wire.der"), wk("hello.exe.der")));
}

int main(int argc, char **argv)
{
	static const char script[] = "\xef\xbb\xbfWrite-Host 'caf\xc3\xa9'\r\n";

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: test_authenticode_sign FIXDIR SIGNGATE [OSSLSIGNCODE]\n");
		return 2;
	}
	fixdir = argv[1];
	signgate = argv[2];
	if (argc == 4)
		osslsigncode = argv[3];
	if (check_workdir_create(&workdir) != SG_OK)
		setup_fail(sg_error_last());
	load_signer();

	test_validation();
	test_roundtrip(sg_format_by_name("pe"), fx("inst/hello-setup.exe"), "hello.exe", NULL, NULL);
	test_roundtrip(sg_format_by_name("pe"), fx("inst/other-setup.exe"), "other.exe",
		       "Example Corp repackaged", "https://packages.example.invalid/");
	test_roundtrip(sg_format_by_name("msi"), fx("inst/hello-1.0.msi"), "hello.msi", NULL, NULL);
	msi_dse = 1;
	test_roundtrip(sg_format_by_name("msi"), fx("inst/hello-1.0.msi"), "dse.msi", NULL, NULL);
	msi_dse = 0;
	test_roundtrip(sg_format_by_name("cab"), fx("inst/hello-1.0.cab"), "hello.cab", NULL, NULL);
	test_roundtrip(sg_format_by_name("cab"), fx("inst/payload-2.0.cab"), "payload.cab",
		       "Example Corp repackaged", "https://packages.example.invalid/");
	test_cab_content();
	/* A script written here, UTF-8 with BOM (signgate verifies it with its own digest). */
	check_write_file(wk("hello.ps1"), script, sizeof(script) - 1, 0600);
	test_roundtrip(sg_format_by_name("powershell"), wk("hello.ps1"), "hello.ps1", "Deploy wrapper",
		       NULL);
	test_other_digest();
	test_wire();
	in_child(token_rsa);
	in_child(token_ec);
	/*
	 * pkcs11-provider opens the module with dlopen(RTLD_DEEPBIND), which
	 * AddressSanitizer refuses: the provider route is shown by the plain
	 * build (and integration.pkcs11_provider).
	 */
	if (!SG_UNDER_ASAN) {
		in_child(provider_rsa);
		in_child(provider_ec);
	}

	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	check_workdir_remove(&workdir);
	free(workdir);
	return check_done();
}

/*
 * Unit tests for lib/authenticode.c (sg_authenticode_check), on real
 * signatures: the test signs the fixture's installers with the fixture's PKI
 * (and its TSA) through osslsigncode, extracts each PKCS#7, and alters copies
 * of them with OpenSSL the way an attacker would:
 *
 *   test_authenticode FIXDIR [OSSLSIGNCODE]
 *
 * FIXDIR is the CTest fixture (tests/integration/fixture-setup.sh): pki/,
 * vendor/, inst/ and tsa.port.
 */
#include "authenticode.h"
#include "signgate/error.h"
#include "signgate/authenticode_sign.h"
#include "signgate/format.h"
#include "signgate/hash.h"
#include "proc.h"
#include "signgate/util.h"

#include "check.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

static const char *fixdir;
static const char *osslsigncode = "/usr/bin/osslsigncode";
static char *workdir;
static const char *current_case = "";

/* A path under the fixture or the work folder (check_path()). */
static const char *fx(const char *rel)
{
	return check_path(fixdir, rel);
}

static const char *wk(const char *rel)
{
	return check_path(workdir, rel);
}

static void setup_fail(const char *what, const sg_proc_result *r)
{
	fprintf(stderr, "setup failed: %s\n", what);
	if (r)
		fprintf(stderr, "--- stdout:\n%s\n--- stderr:\n%s\n", r->out, r->err);
	check_workdir_remove(&workdir);
	exit(2);
}

/* Run osslsigncode with `args` (NULL-terminated); its stdout into `out` when given. */
static int ossl(char *out, size_t out_len, const char *const *args)
{
	const char *argv[32] = { osslsigncode };
	size_t n = 1;
	sg_proc_result r;
	int status;

	while (args[n - 1] && n < 31) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	sg_proc_spec spec = { argv, NULL, NULL, 0, 120 };
	if (sg_proc_run(&r, &spec) != SG_OK)
		setup_fail(sg_error_last(), NULL);
	status = r.exited ? r.exit_status : -1;
	if (out)
		snprintf(out, out_len, "%s", r.out);
	if (status != 0 && !out) {
		fprintf(stderr, "osslsigncode %s exited %d\n", args[0], status);
		setup_fail("osslsigncode", &r);
	}
	sg_proc_result_free(&r);
	return status;
}

static const char *const SIGN_SHA256[] = { "-h", "sha256", NULL };

/* Sign `in` with our PKCS#12 into the work file `out`, with `extra` options. */
static void sign(const char *in, const char *out, const char *const *extra)
{
	const char *args[24] = { "sign", "-pkcs12", fx("pki/signer.p12"), "-readpass",
				 fx("pki/signer.pass") };
	size_t n = 5;
	char in_copy[PATH_MAX];

	snprintf(in_copy, sizeof(in_copy), "%s", in);
	for (; *extra && n < 16; extra++)
		args[n++] = *extra;
	args[n++] = "-in";
	args[n++] = in_copy;
	args[n++] = "-out";
	args[n++] = wk(out);
	args[n] = NULL;
	ossl(NULL, 0, args);
}

/* The DER PKCS#7 of the work or fixture file `signed_path` into the work file `sig`. */
static void extract(const char *signed_path, const char *sig)
{
	char in[PATH_MAX];

	snprintf(in, sizeof(in), "%s", signed_path);
	const char *args[] = { "extract-signature", "-in", in, "-out", wk(sig), NULL };
	ossl(NULL, 0, args);
}

static PKCS7 *load_p7(const char *path)
{
	BIO *bio = BIO_new_file(path, "rb");
	PKCS7 *p7 = bio ? d2i_PKCS7_bio(bio, NULL) : NULL;

	BIO_free(bio);
	if (!p7)
		setup_fail(path, NULL);
	return p7;
}

static void save_p7(PKCS7 *p7, const char *path)
{
	BIO *bio = BIO_new_file(path, "wb");

	if (!bio || i2d_PKCS7_bio(bio, p7) != 1)
		setup_fail(path, NULL);
	BIO_free(bio);
	PKCS7_free(p7);
}

static X509 *load_cert(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	if (!x)
		setup_fail(path, NULL);
	return x;
}

/* SHA-256 (lower hex) or SHA-1 (upper hex) of a certificate's DER. */
static void cert_hash(char *out, const char *pem, const EVP_MD *md, int upper)
{
	X509 *x = load_cert(pem);
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	X509_digest(x, md, d, &len);
	sg_hex_encode(out, d, len);
	for (char *c = out; upper && *c; c++)
		*c = (char)toupper((unsigned char)*c);
	X509_free(x);
}

static PKCS7_SIGNER_INFO *signer_info(PKCS7 *p7)
{
	return sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
}

/*
 * The reviewer's forgery: the certificates of a PKCS#7 signed by someone
 * else become our leaf and chain, and the SignerInfo names our leaf.
 */
static void forge_swap(const char *in, const char *out)
{
	PKCS7 *p7 = load_p7(in);
	PKCS7_SIGNER_INFO *si = signer_info(p7);
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509 *leaf = load_cert(fx("pki/signer.pem"));
	BIO *bio = BIO_new_file(fx("pki/chain.pem"), "r");
	X509 *x;

	sk_X509_push(certs, leaf);
	while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		sk_X509_push(certs, x);
	BIO_free(bio);
	sk_X509_pop_free(p7->d.sign->cert, X509_free);
	p7->d.sign->cert = certs;
	X509_NAME_set(&si->issuer_and_serial->issuer, X509_get_issuer_name(leaf));
	ASN1_INTEGER_free(si->issuer_and_serial->serial);
	si->issuer_and_serial->serial = ASN1_INTEGER_dup(X509_get_serialNumber(leaf));
	save_p7(p7, out);
}

/*
 * Flip the last byte of the SpcIndirectDataContent, which is the last byte of
 * the file digest in its DigestInfo. With `fix_attr`, also recompute the
 * signed messageDigest attribute to match (which breaks the signature).
 */
static void tamper_content(const char *in, const char *out, int fix_attr)
{
	PKCS7 *p7 = load_p7(in);
	ASN1_STRING *content = p7->d.sign->contents->d.other->value.sequence;
	const unsigned char *p = content->data;
	long len;
	int tag, cls;

	content->data[content->length - 1] ^= 0x01;
	if (fix_attr) {
		unsigned char md[SG_SHA256_LEN];
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		ASN1_get_object(&p, &len, &tag, &cls, content->length);
		EVP_Digest(p, (size_t)len, md, NULL, EVP_sha256(), NULL);
		ASN1_OCTET_STRING_set(os, md, sizeof(md));
		/* Replaces the existing attribute in place. */
		PKCS7_add_signed_attribute(signer_info(p7), NID_pkcs9_messageDigest,
					   V_ASN1_OCTET_STRING, os);
	}
	save_p7(p7, out);
}

/* `dst` with the unsigned attributes (the timestamp token) of `src`. */
static void transplant_unauth(const char *dst, const char *src, const char *out)
{
	PKCS7 *to = load_p7(dst), *from = load_p7(src);
	PKCS7_SIGNER_INFO *si = signer_info(to);

	sk_X509_ATTRIBUTE_pop_free(si->unauth_attr, X509_ATTRIBUTE_free);
	si->unauth_attr = sk_X509_ATTRIBUTE_deep_copy(signer_info(from)->unauth_attr,
						      X509_ATTRIBUTE_dup, X509_ATTRIBUTE_free);
	PKCS7_free(from);
	save_p7(to, out);
}

static sg_authenticode_opts opts(const char *ca, const char *tsa_ca, const char *pin, int index)
{
	sg_authenticode_opts o = { .ca_file = ca,
				   .tsa_ca_file = tsa_ca,
				   .pin_sha256 = pin,
				   .index = index,
				   .kind = sg_format_by_name("pe") };
	return o;
}

static int run_case(sg_authenticode_result *r, const char *name, const sg_authenticode_opts *o,
		    const char *sig)
{
	current_case = name;
	return sg_authenticode_check(r, o, sig);
}

/* A case: `rc` and, for a rejection, a reason containing `want`. */
#define EXPECT_REJECT(name, sig, o, want)                                                          \
	do {                                                                                       \
		sg_authenticode_result r_;                                                         \
		sg_authenticode_opts o_ = (o);                                                     \
		int failed_ = check_failed;                                                        \
		CHECK_INT(run_case(&r_, (name), &o_, (sig)), SG_ERR_VERIFY);                       \
		CHECK_CONTAINS(r_.reason, (want));                                                 \
		if (check_failed != failed_)                                                       \
			fprintf(stderr, "  in case \"%s\" (reason: %s)\n", current_case,           \
				r_.reason);                                                        \
	} while (0)

#define EXPECT_OK(name, r, sig, o)                                                                 \
	do {                                                                                       \
		sg_authenticode_opts o_ = (o);                                                     \
		int failed_ = check_failed;                                                        \
		CHECK_INT(run_case((r), (name), &o_, (sig)), SG_OK);                               \
		CHECK_STR((r)->reason, "");                                                        \
		if (check_failed != failed_)                                                       \
			fprintf(stderr, "  in case \"%s\" (reason: %s)\n", current_case,           \
				(r)->reason);                                                      \
	} while (0)

static int is_upper_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && !(*s >= 'A' && *s <= 'F'))
			return 0;
	return 1;
}

/* osslsigncode's "Calculated message digest" of a signed PE, for comparison. */
static void calculated_digest(char out[65], const char *signed_path)
{
	static char report[1 << 16];
	char in[PATH_MAX];
	const char *hit;

	snprintf(in, sizeof(in), "%s", signed_path);
	const char *args[] = { "verify",      "-in",    in,  "-CAfile", fx("pki/root.pem"),
			       "-ignore-cdp", "-index", "0", NULL };
	ossl(report, sizeof(report), args);
	hit = strstr(report, "Calculated message digest : ");
	snprintf(out, 65, "%s", hit ? hit + strlen("Calculated message digest : ") : "");
}

static void test_genuine(const char *our_sha256)
{
	sg_authenticode_result r;
	sg_authenticode_opts o;
	char sha1[41], calc[65];

	sign(fx("inst/hello-setup.exe"), "genuine.exe", SIGN_SHA256);
	extract(wk("genuine.exe"), "genuine.p7");
	EXPECT_OK("genuine", &r, wk("genuine.p7"), opts(fx("pki/root.pem"), NULL, NULL, 0));
	CHECK(is_upper_hex(r.file_digest, 64));
	calculated_digest(calc, wk("genuine.exe"));
	CHECK_STR(r.file_digest, calc);
	cert_hash(sha1, fx("pki/signer.pem"), EVP_sha1(), 1);
	CHECK_STR(r.signer.sha1_thumbprint, sha1);
	CHECK_STR(r.signer.sha256, our_sha256);
	CHECK_CONTAINS(r.signer.subject, "CN=Example Corp Code Signing");
	CHECK_INT(r.n_signatures, 1);
	CHECK_INT(r.index, 0);
	CHECK_INT(r.timestamped, 0);
	CHECK_INT(r.timestamp, 0);

	/* -1 on a single signature is the primary. */
	EXPECT_OK("genuine, index -1", &r, wk("genuine.p7"),
		  opts(fx("pki/root.pem"), NULL, NULL, -1));
	CHECK_INT(r.index, 0);

	/* An MSI signature carries the same structure. */
	sign(fx("inst/hello-1.0.msi"), "genuine.msi", SIGN_SHA256);
	extract(wk("genuine.msi"), "genuine-msi.p7");
	o = opts(fx("pki/root.pem"), NULL, NULL, 0);
	o.kind = sg_format_by_name("msi");
	EXPECT_OK("genuine MSI", &r, wk("genuine-msi.p7"), o);
	CHECK(is_upper_hex(r.file_digest, 64));

	/* A signature made for another format is not this file's (Windows' SIP checks it). */
	EXPECT_REJECT("PE signature on an MSI", wk("genuine.p7"), o,
		      "the signed content is not an MSI's (a signature made for another file "
		      "format)");
	EXPECT_REJECT("MSI signature on a PE", wk("genuine-msi.p7"),
		      opts(fx("pki/root.pem"), NULL, NULL, 0), "the signed content is not a PE's");
	/* A PowerShell script's: SpcSipInfo with the PowerShell SIP GUID. */
	check_write_file(wk("genuine.ps1"), "Write-Host 'signed'\r\n", 21, 0600);
	sign(wk("genuine.ps1"), "genuine-signed.ps1", SIGN_SHA256);
	extract(wk("genuine-signed.ps1"), "genuine-ps1.p7");
	o = opts(fx("pki/root.pem"), NULL, NULL, 0); /* fx() buffers rotate */
	o.kind = sg_format_by_name("powershell");
	EXPECT_OK("genuine script", &r, wk("genuine-ps1.p7"), o);
	EXPECT_REJECT("MSI signature on a script", wk("genuine-msi.p7"), o,
		      "the signed content is not a PowerShell script's (a signature made for "
		      "another file format)");
	o.kind = sg_format_by_name("msi");
	EXPECT_REJECT("script signature on an MSI", wk("genuine-ps1.p7"), o,
		      "the signed content is not an MSI's");
	EXPECT_REJECT("script signature on a PE", wk("genuine-ps1.p7"),
		      opts(fx("pki/root.pem"), NULL, NULL, 0), "the signed content is not a PE's");
	o.kind = 0;
	EXPECT_REJECT("no format", wk("genuine.p7"), o,
		      "the file's format has no Authenticode content signgate checks");
}

static void test_pin_and_chain(const char *our_sha256, const char *vendor_sha256)
{
	sg_authenticode_result r;
	const char *sig = wk("genuine.p7");

	EXPECT_OK("pinned to our leaf", &r, sig, opts(fx("pki/root.pem"), NULL, our_sha256, 0));
	EXPECT_REJECT("pinned to the vendor", sig, opts(fx("pki/root.pem"), NULL, vendor_sha256, 0),
		      "not the configured signing certificate");
	EXPECT_REJECT("pinned to the vendor (names the signer)", sig,
		      opts(fx("pki/root.pem"), NULL, vendor_sha256, 0),
		      "signature 0 is by certificate CN=Example Corp Code Signing");
	EXPECT_REJECT("wrong trust anchor", sig, opts(fx("vendor/vendor.pem"), NULL, NULL, 0),
		      "signer chain does not verify to");
	/* The issuing CA alone is no trust anchor: the chain must reach a root. */
	EXPECT_REJECT("intermediate as anchor", sig, opts(fx("pki/issuing.pem"), NULL, NULL, 0),
		      "signer chain does not verify to");

	/* The vendor's own signature is fine against the vendor's certificate... */
	extract(fx("inst/vendor-signed-hello-setup.exe"), "vendor.p7");
	EXPECT_OK("vendor against vendor.pem", &r, wk("vendor.p7"),
		  opts(fx("vendor/vendor.pem"), NULL, NULL, 0));
	CHECK_STR(r.signer.sha256, vendor_sha256);
	/* ...and not against our root. */
	EXPECT_REJECT("vendor against root.pem", wk("vendor.p7"),
		      opts(fx("pki/root.pem"), NULL, NULL, 0), "signer chain does not verify to");
}

static void test_forgery(const char *our_sha256)
{
	const char *forged = wk("forged.p7");
	sg_authenticode_result r;

	forge_swap(wk("vendor.p7"), forged);
	EXPECT_REJECT("forged", forged, opts(fx("pki/root.pem"), NULL, NULL, 0),
		      "signature 0: the signer's signature does not verify");
	EXPECT_REJECT("forged, pinned", forged, opts(fx("pki/root.pem"), NULL, our_sha256, 0),
		      "the signer's signature does not verify");
	/* The forgery does name our leaf: the checker saw our certificate. */
	sg_authenticode_opts o = opts(fx("pki/root.pem"), NULL, NULL, 0);
	run_case(&r, "forged, signer", &o, forged);
	CHECK_STR(r.signer.sha256, our_sha256);

	/* The genuine signature with our certificates re-inserted stays valid. */
	forge_swap(wk("genuine.p7"), wk("reswapped.p7"));
	EXPECT_OK("genuine, certificates rewritten", &r, wk("reswapped.p7"),
		  opts(fx("pki/root.pem"), NULL, our_sha256, 0));

	/* The file digest changed: the messageDigest no longer matches. */
	tamper_content(wk("genuine.p7"), wk("content.p7"), 0);
	EXPECT_REJECT("content tampered", wk("content.p7"), opts(fx("pki/root.pem"), NULL, NULL, 0),
		      "signature 0: the signed messageDigest does not match its content");
	/* ...and a matching messageDigest breaks the signature over the attributes. */
	tamper_content(wk("genuine.p7"), wk("content-md.p7"), 1);
	EXPECT_REJECT("content and messageDigest tampered", wk("content-md.p7"),
		      opts(fx("pki/root.pem"), NULL, NULL, 0),
		      "the signer's signature does not verify");
}

static void test_timestamp(void)
{
	char url[128], port[16] = "";
	FILE *f = fopen(fx("tsa.port"), "r");
	sg_authenticode_result r;
	time_t before = time(NULL);

	if (!f || !fgets(port, sizeof(port), f))
		setup_fail("tsa.port", NULL);
	fclose(f);
	port[strcspn(port, "\r\n")] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/tsr", port);
	const char *ts[] = { "-h", "sha256", "-ts", url, NULL };
	sign(fx("inst/hello-setup.exe"), "ts.exe", ts);
	sign(fx("inst/other-setup.exe"), "ts2.exe", ts);
	extract(wk("ts.exe"), "ts.p7");
	extract(wk("ts2.exe"), "ts2.p7");

	/* The TSA certificate is issued by root.pem. */
	EXPECT_OK("timestamped", &r, wk("ts.p7"),
		  opts(fx("pki/root.pem"), fx("pki/root.pem"), NULL, 0));
	CHECK_INT(r.timestamped, 1);
	CHECK(r.timestamp >= before - 5 && r.timestamp <= time(NULL) + 5);
	/* Without tsa_ca_file the signer's anchors serve for timestamps. */
	EXPECT_OK("timestamped, tsa_ca_file unset", &r, wk("ts.p7"),
		  opts(fx("pki/root.pem"), NULL, NULL, 0));
	CHECK_INT(r.timestamped, 1);

	EXPECT_REJECT("timestamp, wrong TSA anchor", wk("ts.p7"),
		      opts(fx("pki/root.pem"), fx("vendor/vendor.pem"), NULL, 0),
		      "signature 0: the timestamp does not verify against");
	/* A genuine token of another signature: its imprint is not this signature. */
	transplant_unauth(wk("ts.p7"), wk("ts2.p7"), wk("ts-moved.p7"));
	EXPECT_REJECT("timestamp of another signature", wk("ts-moved.p7"),
		      opts(fx("pki/root.pem"), fx("pki/root.pem"), NULL, 0),
		      "the timestamp does not verify");
	/*
	 * An untimestamped signature with a token moved in from a signature of
	 * another file, likewise. (Not from ts.p7: RSA signatures are
	 * deterministic, so signing the same file in the same second gives the
	 * same signature value, which the token then rightly covers.)
	 */
	transplant_unauth(wk("genuine.p7"), wk("ts2.p7"), wk("ts-added.p7"));
	EXPECT_REJECT("timestamp added to an untimestamped signature", wk("ts-added.p7"),
		      opts(fx("pki/root.pem"), fx("pki/root.pem"), NULL, 0),
		      "the timestamp does not verify");
}

static void test_nested(const char *our_sha256)
{
	sg_authenticode_result r;
	char primary_digest[129];

	/* The vendor's signature stays primary, ours is nested as index 1. */
	const char *nest[] = { "-h", "sha256", "-nest", NULL };
	sign(fx("inst/vendor-signed-hello-setup.exe"), "nested.exe", nest);
	extract(wk("nested.exe"), "nested.p7");
	EXPECT_REJECT("nested, index 0 (the vendor's)", wk("nested.p7"),
		      opts(fx("pki/root.pem"), NULL, NULL, 0),
		      "signature 0: signer chain does not verify to");
	EXPECT_OK("nested, index 0 against the vendor", &r, wk("nested.p7"),
		  opts(fx("vendor/vendor.pem"), NULL, NULL, 0));
	CHECK_INT(r.n_signatures, 2);
	snprintf(primary_digest, sizeof(primary_digest), "%s", r.file_digest);

	EXPECT_OK("nested, index 1", &r, wk("nested.p7"),
		  opts(fx("pki/root.pem"), NULL, our_sha256, 1));
	CHECK_INT(r.index, 1);
	CHECK_INT(r.n_signatures, 2);
	CHECK_STR(r.signer.sha256, our_sha256);
	/* Both signatures sign the same file. */
	CHECK_STR(r.file_digest, primary_digest);

	EXPECT_OK("nested, index -1", &r, wk("nested.p7"),
		  opts(fx("pki/root.pem"), NULL, our_sha256, -1));
	CHECK_INT(r.index, 1);
	CHECK_INT(r.n_signatures, 2);

	EXPECT_REJECT("nested, index 2", wk("nested.p7"), opts(fx("pki/root.pem"), NULL, NULL, 2),
		      "no signature with index 2 (2 present)");
	EXPECT_REJECT("single, index 1", wk("genuine.p7"), opts(fx("pki/root.pem"), NULL, NULL, 1),
		      "no signature with index 1 (1 present)");
}

static void test_malformed(void)
{
	const char *sha1[] = { "-h", "sha1", NULL };

	sign(fx("inst/hello-setup.exe"), "sha1.exe", sha1);
	extract(wk("sha1.exe"), "sha1.p7");
	EXPECT_REJECT("SHA-1", wk("sha1.p7"), opts(fx("pki/root.pem"), NULL, NULL, 0),
		      "signature 0 does not use SHA-256");
	EXPECT_REJECT("PEM, not DER", fx("pki/root.pem"), opts(fx("pki/root.pem"), NULL, NULL, 0),
		      "not DER PKCS#7");
	{
		sg_authenticode_opts o = opts(fx("pki/root.pem"), NULL, NULL, 0);
		sg_authenticode_result r;
		CHECK_INT(sg_authenticode_check(&r, &o, wk("does-not-exist.p7")), SG_ERR_IO);
		CHECK_CONTAINS(sg_error_last(), "does-not-exist.p7: cannot open");
	}
}

int main(int argc, char **argv)
{
	char our_sha256[65], vendor_sha256[65];

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: test_authenticode FIXDIR [OSSLSIGNCODE]\n");
		return 2;
	}
	fixdir = argv[1];
	if (argc == 3)
		osslsigncode = argv[2];
	if (check_workdir_create(&workdir) != SG_OK)
		setup_fail(sg_error_last(), NULL);
	cert_hash(our_sha256, fx("pki/signer.pem"), EVP_sha256(), 0);
	cert_hash(vendor_sha256, fx("vendor/vendor.pem"), EVP_sha256(), 0);

	test_genuine(our_sha256);
	test_pin_and_chain(our_sha256, vendor_sha256);
	test_forgery(our_sha256);
	test_timestamp();
	test_nested(our_sha256);
	test_malformed();

	check_workdir_remove(&workdir);
	free(workdir);
	return check_done();
}

/*
 * Unit tests for lib/lint.c: a root CA and leaves made at test time with the
 * OpenSSL API, each wrong for code signing in one way, and a CRL that revokes
 * one of them. Each case checks the level, the check id and the message.
 */
#include "signgate/error.h"
#include "signgate/lint.h"

#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define DAY (24 * 60 * 60)

static char tmpdir[] = "/tmp/test_lint.XXXXXX";
static EVP_PKEY *root_key, *other_root_key, *rsa3072, *rsa2048, *p256;
static X509 *root, *other_root;
static time_t now;
static long next_serial = 1;

/* What a leaf looks like; good_leaf() is the profile's certificate. */
typedef struct leaf_spec {
	EVP_PKEY *key;
	const char *ku, *eku, *bc, *cdp, *aia; /* NULL: extension absent */
	long from_days, until_days;            /* relative to now */
	const EVP_MD *md;
} leaf_spec;

static void die(const char *what)
{
	fprintf(stderr, "test setup failed: %s\n", what);
	exit(2);
}

static const char *at(const char *name)
{
	return check_path(tmpdir, name);
}

static leaf_spec good_leaf(void)
{
	leaf_spec s = { rsa3072,
			"critical,digitalSignature",
			"codeSigning",
			"critical,CA:FALSE",
			"URI:http://pki.example.invalid/ca.crl",
			"caIssuers;URI:http://pki.example.invalid/ca.cer",
			-1,
			365,
			NULL };
	return s;
}

static EVP_PKEY *keygen(const char *alg, const char *param)
{
	EVP_PKEY *key = strcmp(alg, "RSA") == 0
				? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(param))
				: EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);

	if (!key)
		die(alg);
	return key;
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	if (!value)
		return;
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext || !X509_add_ext(cert, ext, -1))
		die(value);
	X509_EXTENSION_free(ext);
}

static X509 *new_cert(EVP_PKEY *key, const char *cn, X509 *issuer, long from_days, long until_days)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();

	if (!cert || !name ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0) ||
	    !X509_set_version(cert, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(cert), next_serial++) ||
	    !X509_set_subject_name(cert, name) ||
	    !X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) ||
	    !ASN1_TIME_set(X509_getm_notBefore(cert), now + from_days * DAY) ||
	    !ASN1_TIME_set(X509_getm_notAfter(cert), now + until_days * DAY) ||
	    !X509_set_pubkey(cert, key))
		die("X509 fields");
	X509_NAME_free(name);
	return cert;
}

static X509 *make_root(EVP_PKEY *key, const char *cn)
{
	X509 *cert = new_cert(key, cn, NULL, -10, 3650);

	add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(cert, cert, NID_subject_key_identifier, "hash");
	if (!X509_sign(cert, key, EVP_sha256()))
		die("sign root");
	return cert;
}

static X509 *make_leaf(const leaf_spec *s)
{
	X509 *cert = new_cert(s->key, "Test Code Signing", root, s->from_days, s->until_days);

	add_ext(cert, root, NID_basic_constraints, s->bc);
	add_ext(cert, root, NID_key_usage, s->ku);
	add_ext(cert, root, NID_ext_key_usage, s->eku);
	add_ext(cert, root, NID_authority_key_identifier, "keyid:always");
	add_ext(cert, root, NID_crl_distribution_points, s->cdp);
	add_ext(cert, root, NID_info_access, s->aia);
	if (!X509_sign(cert, root_key, s->md ? s->md : EVP_sha256()))
		die("sign leaf");
	return cert;
}

static void write_cert(const char *path, X509 *cert)
{
	FILE *f = fopen(path, "w");

	if (!f || !PEM_write_X509(f, cert) || fclose(f) != 0)
		die(path);
}

/* A CRL of the root, valid now, that revokes `revoked`. */
static void write_crl(const char *path, X509 *revoked)
{
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_TIME *last = ASN1_TIME_set(NULL, now - DAY),
		  *next = ASN1_TIME_set(NULL, now + 30 * DAY);
	FILE *f;

	if (!crl || !rev || !last || !next || !X509_CRL_set_version(crl, 1) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(root)) ||
	    !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next) ||
	    !X509_REVOKED_set_serialNumber(rev, X509_get_serialNumber(revoked)) ||
	    !X509_REVOKED_set_revocationDate(rev, last) || !X509_CRL_add0_revoked(crl, rev))
		die("CRL");
	X509_CRL_sort(crl);
	if (!X509_CRL_sign(crl, root_key, EVP_sha256()))
		die("sign CRL");
	f = fopen(path, "w");
	if (!f || !PEM_write_X509_CRL(f, crl) || fclose(f) != 0)
		die(path);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
}

/* The finding `check` exists with `level` and a message containing `text`. */
#define EXPECT(r, check, level, text) expect(__LINE__, r, check, level, text)

static void expect(int line, const sg_lint_report *r, const char *check, sg_lint_level level,
		   const char *text)
{
	const sg_lint_finding *f = sg_lint_find(r, check);

	if (f && f->level == level && strstr(f->message, text)) {
		check_passed++;
		return;
	}
	check_failed++;
	if (!f)
		fprintf(stderr, "%s:%d: no finding '%s'\n", __FILE__, line, check);
	else
		fprintf(stderr, "%s:%d: %s: got %s \"%s\", want %s \"%s\"\n", __FILE__, line, check,
			sg_lint_level_name(f->level), f->message, sg_lint_level_name(level), text);
}

/* Lint `s` against the root (and the CRL when `crl`), with `key` to match. */
static sg_lint_report lint(const leaf_spec *s, const char *ca, const char *crl, EVP_PKEY *key,
			   int in_token)
{
	sg_lint_report r;
	X509 *leaf = make_leaf(s);

	CHECK_INT(sg_lint_cert(&r, leaf, NULL, ca, crl, key, in_token, now), SG_OK);
	X509_free(leaf);
	return r;
}

static void test_good(void)
{
	leaf_spec s = good_leaf();
	sg_lint_report r = lint(&s, at("root.pem"), NULL, rsa3072, 0);

	CHECK_INT(r.fails, 0);
	CHECK_INT(r.warns, 0);
	EXPECT(&r, "key", SG_LINT_PASS, "RSA 3072 bits");
	EXPECT(&r, "key-match", SG_LINT_PASS, "matches");
	EXPECT(&r, "keyusage", SG_LINT_PASS, "critical, digitalSignature");
	EXPECT(&r, "eku", SG_LINT_PASS, "codeSigning");
	EXPECT(&r, "eku-any", SG_LINT_PASS, "no anyExtendedKeyUsage");
	EXPECT(&r, "eku-server", SG_LINT_PASS, "no serverAuth");
	EXPECT(&r, "eku-lifetime", SG_LINT_PASS, "1.3.6.1.4.1.311.10.3.13");
	EXPECT(&r, "constraints", SG_LINT_PASS, "CA:FALSE (critical)");
	EXPECT(&r, "validity", SG_LINT_PASS, "valid from");
	EXPECT(&r, "max-validity", SG_LINT_PASS, "366 days");
	EXPECT(&r, "days-left", SG_LINT_PASS, "365 days left");
	EXPECT(&r, "sig-alg", SG_LINT_PASS, "ecdsa-with-SHA256");
	EXPECT(&r, "chain", SG_LINT_PASS, "no CRL given");
	EXPECT(&r, "cdp", SG_LINT_PASS, "http://pki.example.invalid/ca.crl");
	EXPECT(&r, "aia", SG_LINT_PASS, "http://pki.example.invalid/ca.cer");
	CHECK(sg_lint_find(&r, "key-compat") == NULL);
	sg_lint_report_free(&r);
	CHECK(r.findings == NULL && r.n == 0);
}

static void test_keys(void)
{
	leaf_spec s = good_leaf();
	sg_lint_report r;

	s.key = rsa2048;
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "key", SG_LINT_FAIL, "RSA 2048 bits: below the 3072 bits");
	CHECK(sg_lint_find(&r, "key-match") == NULL);
	sg_lint_report_free(&r);

	s.key = p256;
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "key", SG_LINT_PASS, "ECDSA P-256");
	EXPECT(&r, "key-compat", SG_LINT_WARN, "App Control signer rules");
	CHECK_INT(r.fails, 0);
	sg_lint_report_free(&r);

	s = good_leaf();
	r = lint(&s, at("root.pem"), NULL, rsa2048, 0);
	EXPECT(&r, "key-match", SG_LINT_FAIL,
	       "private key (RSA 2048 bits) does not match the certificate's public key (RSA 3072");
	sg_lint_report_free(&r);

	r = lint(&s, at("root.pem"), NULL, NULL, 1);
	EXPECT(&r, "key-match", SG_LINT_WARN, "key in PKCS#11 token: not checked here");
	CHECK_INT(r.fails, 0);
	sg_lint_report_free(&r);
}

static void test_eku(void)
{
	leaf_spec s = good_leaf();
	sg_lint_report r;

	s.eku = "codeSigning,1.3.6.1.4.1.311.10.3.13";
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "eku-lifetime", SG_LINT_FAIL, "Lifetime Signing EKU 1.3.6.1.4.1.311.10.3.13");
	EXPECT(&r, "eku", SG_LINT_PASS, "codeSigning, 1.3.6.1.4.1.311.10.3.13");
	CHECK_INT(r.fails, 1);
	sg_lint_report_free(&r);

	s.eku = "codeSigning,anyExtendedKeyUsage";
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "eku-any", SG_LINT_FAIL, "anyExtendedKeyUsage present");
	sg_lint_report_free(&r);

	s.eku = "codeSigning,serverAuth";
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "eku-server", SG_LINT_FAIL, "serverAuth present");
	sg_lint_report_free(&r);

	s.eku = "serverAuth";
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "eku", SG_LINT_FAIL, "lacks codeSigning (has serverAuth)");
	sg_lint_report_free(&r);

	s.eku = NULL;
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "eku", SG_LINT_FAIL, "no extendedKeyUsage extension");
	sg_lint_report_free(&r);
}

static void test_usage_and_constraints(void)
{
	leaf_spec s = good_leaf();
	sg_lint_report r;

	s.bc = "critical,CA:TRUE";
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "constraints", SG_LINT_FAIL, "CA:TRUE");
	sg_lint_report_free(&r);

	s.bc = NULL;
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "constraints", SG_LINT_WARN, "no basicConstraints");
	sg_lint_report_free(&r);

	s = good_leaf();
	s.ku = NULL;
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "keyusage", SG_LINT_FAIL, "no keyUsage extension");
	sg_lint_report_free(&r);

	s.ku = "digitalSignature";
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "keyusage", SG_LINT_FAIL, "keyUsage digitalSignature is not critical");
	CHECK_INT(r.fails, 1);
	sg_lint_report_free(&r);

	s.ku = "critical,keyEncipherment";
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "keyusage", SG_LINT_FAIL, "lacks digitalSignature (has keyEncipherment)");
	sg_lint_report_free(&r);

	s.ku = "critical,digitalSignature,keyCertSign";
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "keyusage", SG_LINT_FAIL, "CA bits");
	sg_lint_report_free(&r);
}

static void test_validity(void)
{
	leaf_spec s = good_leaf();
	sg_lint_report r;

	s.from_days = -400;
	s.until_days = -10;
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "validity", SG_LINT_FAIL, "(10 days ago)");
	CHECK(sg_lint_find(&r, "days-left") == NULL);
	sg_lint_report_free(&r);

	s.from_days = 5;
	s.until_days = 300;
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "validity", SG_LINT_FAIL, "not valid before");
	sg_lint_report_free(&r);

	s.from_days = -1;
	s.until_days = 499;
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "max-validity", SG_LINT_WARN, "500 days of validity");
	EXPECT(&r, "max-validity", SG_LINT_WARN, "460 days");
	CHECK_INT(r.fails, 0);
	sg_lint_report_free(&r);

	s.until_days = 10;
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "days-left", SG_LINT_WARN, "10 days left");
	sg_lint_report_free(&r);
}

static void test_signature_and_urls(void)
{
	leaf_spec s = good_leaf();
	sg_lint_report r;

	s.md = EVP_sha1();
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "sig-alg", SG_LINT_FAIL, "signed with ecdsa-with-SHA1: SHA1");
	sg_lint_report_free(&r);

	s = good_leaf();
	s.cdp = NULL;
	s.aia = NULL;
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "cdp", SG_LINT_WARN, "no CRL distribution point");
	EXPECT(&r, "aia", SG_LINT_WARN, "no AIA caIssuers");
	sg_lint_report_free(&r);

	s.cdp = "URI:http://pki.example.invalid/ca.crl,URI:ldap://dc.example.invalid/ca";
	s.aia = "caIssuers;URI:https://pki.example.invalid/ca.cer";
	r = lint(&s, at("root.pem"), NULL, NULL, 0);
	EXPECT(&r, "cdp", SG_LINT_WARN, "non-HTTP CRL distribution point ldap://dc.example");
	EXPECT(&r, "aia", SG_LINT_WARN, "non-HTTP AIA caIssuers https://pki.example");
	sg_lint_report_free(&r);
}

static void test_chain(void)
{
	leaf_spec s = good_leaf();
	X509 *revoked = make_leaf(&s), *kept = make_leaf(&s);
	sg_lint_report r;

	write_crl(at("crl.pem"), revoked);
	CHECK_INT(sg_lint_cert(&r, revoked, NULL, at("root.pem"), at("crl.pem"), NULL, 0, now),
		  SG_OK);
	EXPECT(&r, "chain", SG_LINT_FAIL, "revoked");
	sg_lint_report_free(&r);
	CHECK_INT(sg_lint_cert(&r, kept, NULL, at("root.pem"), at("crl.pem"), NULL, 0, now), SG_OK);
	EXPECT(&r, "chain", SG_LINT_PASS, "not revoked");
	sg_lint_report_free(&r);

	r = lint(&s, at("other-root.pem"), NULL, NULL, 0);
	EXPECT(&r, "chain", SG_LINT_FAIL, "unable to get local issuer certificate");
	sg_lint_report_free(&r);

	r = lint(&s, NULL, NULL, NULL, 0);
	EXPECT(&r, "chain", SG_LINT_WARN, "not checked");
	sg_lint_report_free(&r);

	CHECK_INT(sg_lint_cert(&r, kept, NULL, at("missing.pem"), NULL, NULL, 0, now),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "missing.pem");
	sg_lint_report_free(&r);
	CHECK_STR(sg_lint_level_name(SG_LINT_WARN), "warn");
	X509_free(revoked);
	X509_free(kept);
}

int main(void)
{
	now = time(NULL);
	if (!mkdtemp(tmpdir))
		die("mkdtemp");
	root_key = keygen("EC", "P-256");
	other_root_key = keygen("EC", "P-256");
	rsa3072 = keygen("RSA", "3072");
	rsa2048 = keygen("RSA", "2048");
	p256 = keygen("EC", "P-256");
	root = make_root(root_key, "Test Root");
	other_root = make_root(other_root_key, "Other Root");
	write_cert(at("root.pem"), root);
	write_cert(at("other-root.pem"), other_root);

	test_good();
	test_keys();
	test_eku();
	test_usage_and_constraints();
	test_validity();
	test_signature_and_urls();
	test_chain();

	unlink(at("root.pem"));
	unlink(at("other-root.pem"));
	unlink(at("crl.pem"));
	rmdir(tmpdir);
	X509_free(root);
	X509_free(other_root);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(other_root_key);
	EVP_PKEY_free(rsa3072);
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(p256);
	return check_done();
}

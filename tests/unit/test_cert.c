/*
 * Unit tests for lib/cert.c: certificates made at test time with the OpenSSL
 * API (a root CA, an intermediate, and leaves that are right or wrong for
 * code signing in one way each), written as PEM into a mkdtemp() folder.
 */
#include "signgate/cert.h"
#include "signgate/error.h"
#include "trust.h"

#include "check.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define DAY (24 * 60 * 60)

static char tmpdir[] = "/tmp/test_cert.XXXXXX";
static EVP_PKEY *root_key, *other_key, *leaf_key;
static long next_serial = 1;

static void die(const char *what)
{
	fprintf(stderr, "test setup failed: %s\n", what);
	exit(2);
}

static const char *at(const char *name)
{
	return check_path(tmpdir, name);
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext || !X509_add_ext(cert, ext, -1))
		die(value);
	X509_EXTENSION_free(ext);
}

/*
 * A certificate for `key` named by `subject` ("C=DE/O=Org/CN=Name"), issued
 * by `issuer` with `issuer_key` (NULL: self-signed), valid from `from` to
 * `until`, with the extensions in `exts` (pairs of nid and value, ending 0).
 */
static X509 *make_cert(EVP_PKEY *key, const char *subject, X509 *issuer, EVP_PKEY *issuer_key,
		       time_t from, time_t until, const int *nids, const char *const *values)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();
	char buf[256], *field, *save = NULL;

	if (!cert || !name)
		die("X509_new");
	snprintf(buf, sizeof(buf), "%s", subject);
	for (field = strtok_r(buf, "/", &save); field; field = strtok_r(NULL, "/", &save)) {
		char *eq = strchr(field, '=');
		if (!eq)
			die(subject);
		*eq = '\0';
		if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
						(const unsigned char *)eq + 1, -1, -1, 0))
			die(field);
	}
	if (!X509_set_version(cert, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(cert), next_serial++) ||
	    !X509_set_subject_name(cert, name) ||
	    !X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) ||
	    !ASN1_TIME_set(X509_getm_notBefore(cert), from) ||
	    !ASN1_TIME_set(X509_getm_notAfter(cert), until) || !X509_set_pubkey(cert, key))
		die("X509 fields");
	X509_NAME_free(name);
	for (size_t i = 0; nids && nids[i]; i++)
		add_ext(cert, issuer ? issuer : cert, nids[i], values[i]);
	if (!X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()))
		die("X509_sign");
	return cert;
}

static X509 *make_leaf(const char *cn, X509 *issuer, EVP_PKEY *issuer_key, const int *nids,
		       const char *const *values)
{
	time_t now = time(NULL);

	return make_cert(leaf_key, cn, issuer, issuer_key, now - DAY, now + 365 * DAY, nids,
			 values);
}

static void write_pem(const char *name, X509 *cert)
{
	FILE *f = fopen(at(name), "w");

	if (!f || !PEM_write_X509(f, cert) || fclose(f) != 0)
		die(name);
}

static X509 *make_root(EVP_PKEY *key, const char *subject)
{
	static const int nids[] = { NID_basic_constraints, NID_key_usage,
				    NID_subject_key_identifier, 0 };
	static const char *const values[] = { "critical,CA:TRUE", "critical,keyCertSign,cRLSign",
					      "hash" };
	time_t now = time(NULL);

	return make_cert(key, subject, NULL, NULL, now - 10 * DAY, now + 3650 * DAY, nids, values);
}

/* Expect sg_cert_check_codesign() to refuse `cert` with a message holding `want`. */
static void expect_refused(X509 *cert, const char *what, const char *want)
{
	sg_error_clear();
	CHECK_INT(sg_cert_check_codesign(cert, what), SG_ERR_CRYPTO);
	CHECK_INT(sg_error_code(), SG_ERR_CRYPTO);
	CHECK_CONTAINS(sg_error_last(), what);
	CHECK_CONTAINS(sg_error_last(), want);
}

static void test_codesign_checks(X509 *root)
{
	const int n_ku_eku[] = { NID_basic_constraints, NID_key_usage, NID_ext_key_usage, 0 };
	const int n_eku[] = { NID_basic_constraints, NID_ext_key_usage, 0 };
	const int n_ku[] = { NID_basic_constraints, NID_key_usage, 0 };
	const int n_dup[] = { NID_basic_constraints, NID_basic_constraints, NID_ext_key_usage, 0 };
	const char *good[] = { "CA:FALSE", "critical,digitalSignature", "codeSigning" };
	const char *server[] = { "CA:FALSE", "critical,digitalSignature", "serverAuth,clientAuth" };
	const char *any_only[] = { "CA:FALSE", "anyExtendedKeyUsage" };
	const char *any_too[] = { "CA:FALSE", "codeSigning,anyExtendedKeyUsage" };
	const char *ca[] = { "critical,CA:TRUE", "critical,digitalSignature", "codeSigning" };
	const char *ca_no_ku[] = { "critical,CA:TRUE", "codeSigning" };
	const char *kenc[] = { "CA:FALSE", "critical,keyEncipherment", "codeSigning" };
	const char *no_eku[] = { "CA:FALSE", "critical,digitalSignature" };
	const char *no_ku[] = { "CA:FALSE", "codeSigning" };
	const char *dup[] = { "CA:FALSE", "CA:FALSE", "codeSigning" };
	X509 *cert;

	cert = make_leaf("CN=good", root, root_key, n_ku_eku, good);
	sg_error_clear();
	CHECK_INT(sg_cert_check_codesign(cert, "good.pem"), SG_OK);
	CHECK_STR(sg_error_last(), "");
	X509_free(cert);

	cert = make_leaf("CN=no keyUsage", root, root_key, n_eku, no_ku); /* keyUsage is optional */
	CHECK_INT(sg_cert_check_codesign(cert, "no-ku.pem"), SG_OK);
	X509_free(cert);

	cert = make_leaf("CN=server", root, root_key, n_ku_eku, server);
	expect_refused(cert, "server.pem",
		       "server.pem: certificate's extendedKeyUsage lacks "
		       "codeSigning");
	X509_free(cert);

	cert = make_leaf("CN=any", root, root_key, n_eku, any_only);
	expect_refused(cert, "any.pem", "extendedKeyUsage lacks codeSigning");
	X509_free(cert);
	cert = make_leaf("CN=any too", root, root_key, n_eku, any_too);
	expect_refused(cert, "any-too.pem", "any-too.pem: certificate allows anyExtendedKeyUsage");
	X509_free(cert);

	/* CA:TRUE, with a keyUsage that cannot sign certificates and without one. */
	cert = make_leaf("CN=ca", root, root_key, n_ku_eku, ca);
	expect_refused(cert, "ca.pem", "ca.pem: the signing certificate is a CA certificate");
	X509_free(cert);
	cert = make_leaf("CN=ca no ku", root, root_key, n_eku, ca_no_ku);
	expect_refused(cert, "ca-no-ku.pem", "the signing certificate is a CA certificate");
	X509_free(cert);
	expect_refused(root, "root.pem", "the signing certificate is a CA certificate");

	cert = make_leaf("CN=kenc", root, root_key, n_ku_eku, kenc);
	expect_refused(cert, "kenc.pem", "kenc.pem: certificate's keyUsage lacks digitalSignature");
	X509_free(cert);

	cert = make_leaf("CN=no eku", root, root_key, n_ku, no_eku);
	expect_refused(cert, "no-eku.pem",
		       "no-eku.pem: certificate has no extendedKeyUsage (codeSigning required)");
	X509_free(cert);

	cert = make_leaf("CN=dup", root, root_key, n_dup, dup);
	expect_refused(cert, "dup.pem", "dup.pem: certificate has invalid extensions");
	X509_free(cert);
}

static void test_info(X509 *root)
{
	const int nids[] = { NID_basic_constraints, NID_key_usage, NID_ext_key_usage, 0 };
	const char *values[] = { "CA:FALSE", "critical,digitalSignature", "codeSigning" };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1], iso[32];
	sg_cert_info info;
	X509 *cert;

	cert = make_cert(leaf_key, "C=DE/O=Example, Inc./CN=Example Code Signing", root, root_key,
			 time(NULL) - DAY, 1893553445 /* 2030-01-02T03:04:05Z */, nids, values);
	memset(&info, 0x5a, sizeof(info));
	CHECK_INT(sg_cert_info_from_x509(&info, cert), SG_OK);

	CHECK(X509_digest(cert, EVP_sha1(), md, &len) == 1 && len == 20);
	for (unsigned int i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02X", md[i]);
	CHECK_STR(info.sha1_thumbprint, hex);
	CHECK_INT(strlen(info.sha1_thumbprint), 40);
	for (const char *p = info.sha1_thumbprint; *p; p++)
		CHECK(isdigit((unsigned char)*p) || (*p >= 'A' && *p <= 'F'));

	CHECK(X509_digest(cert, EVP_sha256(), md, &len) == 1 && len == 32);
	for (unsigned int i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	CHECK_STR(info.sha256, hex);

	/* RFC 2253: most specific first, "," escaped. */
	CHECK_STR(info.subject, "CN=Example Code Signing,O=Example\\, Inc.,C=DE");
	CHECK_STR(info.not_after, "2030-01-02T03:04:05Z");
	X509_free(cert);

	sg_asn1_time_iso(iso, X509_get0_notAfter(root));
	CHECK_INT(strlen(iso), 20);
	CHECK(iso[10] == 'T' && iso[19] == 'Z');
	sg_asn1_time_iso(iso, NULL);
	CHECK_STR(iso, "");
}

/* A CRL from `issuer` listing `revoked` (may be NULL), valid around now. */
static void write_crl(const char *name, X509 *issuer, EVP_PKEY *key, X509 *revoked)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_set(NULL, time(NULL) - DAY);
	ASN1_TIME *next = ASN1_TIME_set(NULL, time(NULL) + 30 * DAY);
	FILE *f;

	if (!crl || !last || !next || !X509_CRL_set_version(crl, 1) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) ||
	    !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next))
		die("CRL");
	if (revoked) {
		X509_REVOKED *r = X509_REVOKED_new();
		if (!r || !X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked)) ||
		    !X509_REVOKED_set_revocationDate(r, last) || !X509_CRL_add0_revoked(crl, r))
			die("CRL entry");
	}
	if (!X509_CRL_sort(crl) || !X509_CRL_sign(crl, key, EVP_sha256()))
		die("CRL sign");
	f = fopen(at(name), "w");
	if (!f || !PEM_write_X509_CRL(f, crl) || fclose(f) != 0)
		die(name);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
}

static void expect_verify_fails(X509 *leaf, STACK_OF(X509) * untrusted, const char *ca,
				const char *crl, time_t when, const char *want)
{
	sg_error_clear();
	CHECK_INT(sg_cert_verify_chain(leaf, untrusted, at(ca), crl ? at(crl) : NULL, when),
		  SG_ERR_VERIFY);
	CHECK_INT(sg_error_code(), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "signer chain does not verify to");
	CHECK_CONTAINS(sg_error_last(), at(ca));
	CHECK_CONTAINS(sg_error_last(), want);
}

static void test_verify_chain(X509 *root)
{
	const int ca_nids[] = { NID_basic_constraints, NID_key_usage, 0 };
	const char *ca_values[] = { "critical,CA:TRUE,pathlen:0", "critical,keyCertSign,cRLSign" };
	const int nids[] = { NID_basic_constraints, NID_key_usage, NID_ext_key_usage, 0 };
	const char *values[] = { "CA:FALSE", "critical,digitalSignature", "codeSigning" };
	time_t now = time(NULL);
	X509 *other = make_root(other_key, "CN=Other Root"), *leaf, *inter, *leaf2;
	STACK_OF(X509) *untrusted = sk_X509_new_null();

	write_pem("root.pem", root);
	write_pem("other.pem", other);
	leaf = make_leaf("CN=signer", root, root_key, nids, values);

	CHECK_INT(sg_cert_verify_chain(leaf, NULL, at("root.pem"), NULL, 0), SG_OK);
	CHECK_INT(sg_cert_verify_chain(leaf, NULL, at("root.pem"), NULL, now + 30 * DAY), SG_OK);
	expect_verify_fails(leaf, NULL, "other.pem", NULL, 0,
			    "unable to get local issuer "
			    "certificate");
	/* Before notBefore (now - 1 day) and after notAfter (now + 365 days). */
	expect_verify_fails(leaf, NULL, "root.pem", NULL, now - 2 * DAY,
			    "certificate is not yet valid");
	expect_verify_fails(leaf, NULL, "root.pem", NULL, now + 400 * DAY,
			    "certificate has expired");

	sg_error_clear();
	CHECK_INT(sg_cert_verify_chain(leaf, NULL, at("absent.pem"), NULL, 0), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(),
		       "absent.pem: cannot read the trust anchors: No such file or directory");

	/* Through an intermediate that is only given as untrusted. */
	inter = make_cert(other_key, "CN=Issuing CA", root, root_key, now - DAY, now + 900 * DAY,
			  ca_nids, ca_values);
	leaf2 = make_leaf("CN=signer 2", inter, other_key, nids, values);
	expect_verify_fails(leaf2, NULL, "root.pem", NULL, 0, "unable to get local issuer");
	if (!untrusted || !sk_X509_push(untrusted, inter))
		die("stack");
	CHECK_INT(sg_cert_verify_chain(leaf2, untrusted, at("root.pem"), NULL, 0), SG_OK);

	/* CRLs: an empty one passes, one listing the leaf does not. */
	write_crl("empty.crl", root, root_key, NULL);
	CHECK_INT(sg_cert_verify_chain(leaf, NULL, at("root.pem"), at("empty.crl"), 0), SG_OK);
	write_crl("revoked.crl", root, root_key, leaf);
	expect_verify_fails(leaf, NULL, "root.pem", "revoked.crl", 0, "certificate revoked");
	sg_error_clear();
	CHECK_INT(sg_cert_verify_chain(leaf, NULL, at("root.pem"), at("absent.crl"), 0),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(),
		       "absent.crl: cannot read the CRLs: No such file or directory");

	/* One trust for many checks: revocation seen, the files not needed again. */
	{
		sg_trust_files files = { at("root.pem"), NULL, at("revoked.crl"), 1 };
		sg_trust *t = NULL;

		CHECK_INT(sg_trust_load(&t, &files), SG_OK);
		CHECK(t && sg_trust_chain_store(t) && sg_trust_tsa_store(t));
		CHECK_INT(sg_trust_check(t), SG_OK);
		CHECK_INT(sg_cert_verify_chain_trust(leaf, NULL, t, 0), SG_ERR_VERIFY);
		CHECK_CONTAINS(sg_error_last(), "certificate revoked");
		/* Removed during the run: the check says so, as a load would. */
		rename(at("revoked.crl"), at("revoked.crl.away"));
		CHECK_INT(sg_trust_check(t), SG_ERR_CONFIG);
		CHECK_CONTAINS(sg_error_last(),
			       "revoked.crl: cannot read the CRLs: No such file or directory");
		/* Replaced by something unusable: named, as at load. */
		write_pem("revoked.crl", leaf);
		CHECK_INT(sg_trust_check(t), SG_ERR_CONFIG);
		CHECK_CONTAINS(sg_error_last(), "revoked.crl: cannot load the CRLs: the file holds "
						"no PEM CRL");
		/* The run keeps what it loaded. */
		CHECK_INT(sg_cert_verify_chain_trust(leaf, NULL, t, 0), SG_ERR_VERIFY);
		/*
		 * Replaced by a usable file (a CRL that revokes nothing): the check
		 * passes, and what osslsigncode reads is still the run's copy of the
		 * bytes it loaded, the CRL that revokes the leaf.
		 */
		unlink(at("revoked.crl"));
		write_crl("revoked.crl", root, root_key, NULL);
		CHECK_INT(sg_trust_check(t), SG_OK);
		CHECK_INT(sg_trust_check(t), SG_OK);
		CHECK_INT(sg_trust_write_copy(t, SG_TRUST_CRL, at("copy.crl")), SG_OK);
		CHECK_INT(sg_trust_write_copy(t, SG_TRUST_CA, at("copy.pem")), SG_OK);
		CHECK_INT(sg_trust_write_copy(t, SG_TRUST_TSA, at("copy-tsa.pem")), SG_ERR_CONFIG);
		sg_trust_free(t);
		CHECK_INT(sg_trust_load(
				  &t, &(sg_trust_files){ at("copy.pem"), NULL, at("copy.crl"), 0 }),
			  SG_OK);
		CHECK_INT(sg_cert_verify_chain_trust(leaf, NULL, t, 0), SG_ERR_VERIFY);
		CHECK_CONTAINS(sg_error_last(), "certificate revoked");
		unlink(at("copy.crl"));
		unlink(at("copy.pem"));
		unlink(at("revoked.crl.away"));
		sg_trust_free(t);
		CHECK_INT(sg_trust_load(&t, &(sg_trust_files){ at("other.pem"), NULL, NULL, 0 }),
			  SG_OK);
		CHECK_INT(sg_cert_verify_chain_trust(leaf, NULL, t, 0), SG_ERR_VERIFY);
		CHECK_CONTAINS(sg_error_last(), "signer chain does not verify to ");
		sg_trust_free(t);
	}

	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf2);
	X509_free(leaf);
	X509_free(other);
	unlink(at("root.pem"));
	unlink(at("other.pem"));
	unlink(at("empty.crl"));
	unlink(at("revoked.crl"));
}

int main(void)
{
	X509 *root;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	root_key = EVP_EC_gen("P-256");
	other_key = EVP_EC_gen("P-256");
	leaf_key = EVP_RSA_gen(2048);
	if (!root_key || !other_key || !leaf_key)
		die("key generation");
	root = make_root(root_key, "C=DE/O=Example/CN=Example Root CA");

	test_codesign_checks(root);
	test_info(root);
	test_verify_chain(root);

	X509_free(root);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(leaf_key);
	if (rmdir(tmpdir) != 0) {
		perror(tmpdir);
		check_failed++;
	}
	return check_done();
}

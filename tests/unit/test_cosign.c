/*
 * Unit tests of the co-signatures: an approvers' CA, a second CA and the
 * approvers' certificates are made here with OpenSSL; co-signatures made
 * with sg_cosign_create() verify with their fields, and the bad ones that
 * the tests make by hand (missing, changed data, self-made, another CA,
 * expired, wrong EKU, two signers, garbage) are refused with the reason.
 */
#include "signgate/cosign.h"
#include "signgate/strict.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/secret.h"

#include "check.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY     86400L
#define EKU_PER "emailProtection"

static char dir[] = "/tmp/test_cosign.XXXXXX";
static const char approval_text[] = "{ \"approvals\": [ { \"id\": \"hello-1.0\", "
				    "\"approved_by\": \"alice\" } ] }\n";

typedef struct ident {
	EVP_PKEY *key;
	X509 *cert;
} ident;

static ident root, other_root, inter, alice, bob, carol, self_alice, forged, mallory, old, erin,
	frank, sibling;

static const char *tmp_path(const char *name)
{
	return check_path(dir, name);
}

static void die(const char *what)
{
	fprintf(stderr, "test setup failed: %s (%s)\n", what, sg_error_last());
	exit(2);
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext || !X509_add_ext(x, ext, -1))
		die(value);
	X509_EXTENSION_free(ext);
}

/*
 * A certificate for `cn` (EC P-256 key), issued by `issuer` (NULL: self-signed),
 * valid from `from` to `to` seconds from now. A CA when `eku` is NULL;
 * else a leaf with digitalSignature, that EKU ("" for none) and `email` as SAN.
 */
static void make(ident *out, const char *cn, const char *email, const ident *issuer,
		 const char *eku, long from, long to)
{
	X509_NAME *subj = X509_NAME_new();
	X509 *x = X509_new();
	static long serial = 1;
	char san[300];

	out->key = EVP_EC_gen("P-256");
	if (!out->key || !x || !subj ||
	    !X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_ASC,
					(const unsigned char *)"Example Corp", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
					0) ||
	    !X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) ||
	    !X509_set_subject_name(x, subj) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert) : subj) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), from) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), to) || !X509_set_pubkey(x, out->key))
		die(cn);
	add_ext(x, issuer ? issuer->cert : x, NID_subject_key_identifier, "hash");
	if (issuer)
		add_ext(x, issuer->cert, NID_authority_key_identifier, "keyid:always");
	if (!eku) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, x, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, x, NID_key_usage, "critical,digitalSignature");
		if (*eku)
			add_ext(x, x, NID_ext_key_usage, eku);
		snprintf(san, sizeof(san), "email:%s", email);
		if (email)
			add_ext(x, x, NID_subject_alt_name, san);
	}
	if (!X509_sign(x, issuer ? issuer->key : out->key, EVP_sha256()))
		die(cn);
	out->cert = x;
	X509_NAME_free(subj);
}

/* NAME.pem with the certificate (and `extra` after it), NAME.key (encrypted with `pass`). */
static void save(const ident *id, const char *name, const char *pass, const ident *extra)
{
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	char path[128], *data;
	long n;

	if (!kb || !cb || !PEM_write_bio_X509(cb, id->cert) ||
	    (extra && !PEM_write_bio_X509(cb, extra->cert)) ||
	    !PEM_write_bio_PrivateKey(kb, id->key, pass ? EVP_aes_256_cbc() : NULL, NULL, 0, NULL,
				      (void *)pass))
		die(name);
	snprintf(path, sizeof(path), "%s.pem", name);
	n = BIO_get_mem_data(cb, &data);
	check_write_file(tmp_path(path), data, (size_t)n, 0644);
	snprintf(path, sizeof(path), "%s.key", name);
	n = BIO_get_mem_data(kb, &data);
	check_write_file(tmp_path(path), data, (size_t)n, 0600);
	BIO_free(kb);
	BIO_free(cb);
}

static void free_ident(ident *id)
{
	EVP_PKEY_free(id->key);
	X509_free(id->cert);
}

/*
 * A co-signature made without signgate's checks: detached CMS over
 * `data` by each of `signers` (NULL-terminated), into `path`.
 */
static void raw_sign(const char *path, const char *data, const ident *const signers[])
{
	const int flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL;
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	BIO *in = BIO_new_mem_buf(data, (int)strlen(data));
	unsigned char *der = NULL;
	int n = -1;

	for (int i = 0; cms && signers[i]; i++)
		if (!CMS_add1_signer(cms, signers[i]->cert, signers[i]->key, EVP_sha256(), flags))
			die("CMS_add1_signer");
	if (!cms || !in || !CMS_final(cms, in, NULL, flags) ||
	    (n = i2d_CMS_ContentInfo(cms, &der)) <= 0)
		die("raw_sign");
	check_write_file(path, der, (size_t)n, 0644);
	OPENSSL_free(der);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
}

static void sign_by(const ident *signer)
{
	const ident *const signers[] = { signer, NULL };

	raw_sign(tmp_path("a.json.cosign.p7s"), approval_text, signers);
}

static sg_approvers_trust trust_of(const char *ca)
{
	sg_approvers_trust t = { ca ? tmp_path(ca) : NULL, NULL, NULL, NULL };

	return t;
}

static int verify_with(const char *data, const char *ca, sg_cosigner *out)
{
	sg_approvers_trust t = trust_of(ca);

	sg_error_clear();
	return sg_cosign_verify_one(out, SG_COSIGN_SECOND, tmp_path("a.json"),
				    (const unsigned char *)data, strlen(data), &t);
}

/* The approval file's co-signature is refused with SG_ERR_VERIFY and `why`. */
static void expect_refused(const char *data, const char *why)
{
	sg_cosigner c;

	memset(&c, 'x', sizeof(c));
	CHECK_INT(verify_with(data, "approvers-ca.pem", &c), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), tmp_path("a.json.cosign.p7s"));
	CHECK_CONTAINS(sg_error_last(), why);
	CHECK_STR(c.name, "");
	CHECK_INT(c.signing_time, 0);
}

/* Sign `file` as `role` with cert and key (password `pass`), checked against the CA file `ca`. */
static int create_as(const char *file, sg_cosign_role role, const char *cert, const char *key,
		     const char *pass, const char *ca, int replace, sg_cosigner *out)
{
	sg_secret secret = { NULL, 0 };
	sg_approvers_trust t = trust_of(ca);
	sg_approver_key *k = NULL;
	char sha[65];
	int rc;

	if (pass) {
		secret.data = strdup(pass);
		secret.len = strlen(pass);
	}
	sg_error_clear();
	memset(out, 0, sizeof(*out));
	rc = sg_approver_key_open(&k, tmp_path(cert), tmp_path(key), NULL, NULL, &secret);
	if (!rc)
		rc = sg_cosign_create(out, sha, tmp_path(file), role, k, &t, replace, NULL);
	sg_approver_key_free(k);
	free(secret.data);
	return rc;
}

static int create(const char *cert, const char *key, const char *pass, int replace,
		  sg_cosigner *out)
{
	return create_as("a.json", SG_COSIGN_SECOND, cert, key, pass, "approvers-ca.pem", replace,
			 out);
}

/* Temporary files left beside the co-signature. */
static int leftovers(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "a.json.cosign.p7s.", 18) == 0;
	if (d)
		closedir(d);
	return n;
}

static void test_paths(void)
{
	char *p = sg_cosign_sig_path("policy/7zip.json", SG_COSIGN_FIRST);
	CHECK_STR(p, "policy/7zip.json.approve.p7s");
	free(p);
	p = sg_cosign_sig_path("policy/7zip.json", SG_COSIGN_SECOND);
	CHECK_STR(p, "policy/7zip.json.cosign.p7s");
	free(p);
}

static void test_valid(void)
{
	unsigned char md[32];
	unsigned int md_len = 0;
	char hex[65];
	struct stat st;
	sg_cosigner made, c;
	time_t now = time(NULL);

	CHECK_INT(create("bob.pem", "bob.key", NULL, 0, &made), SG_OK);
	CHECK_STR(made.name, "bob");
	CHECK(stat(tmp_path("a.json.cosign.p7s"), &st) == 0 && (st.st_mode & 0777) == 0640);

	memset(&c, 0, sizeof(c));
	CHECK_INT(verify_with(approval_text, "approvers-ca.pem", &c), SG_OK);
	CHECK_STR(c.name, "bob");
	CHECK_STR(c.email, "bob@example.com");
	CHECK_STR(c.subject, "CN=bob,O=Example Corp");
	X509_digest(bob.cert, EVP_sha256(), md, &md_len);
	for (unsigned int i = 0; i < md_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	CHECK_STR(c.cert_sha256, hex);
	CHECK(c.signing_time >= now - 5 && c.signing_time <= now + 5);
	CHECK(memcmp(&c, &made, sizeof(c)) == 0);
	CHECK_INT(leftovers(), 0);
}

static void test_replace(void)
{
	sg_cosigner c;

	CHECK_INT(create("alice.pem", "alice.key", NULL, 0, &c), SG_ERR_EXISTS);
	CHECK_CONTAINS(sg_error_last(), tmp_path("a.json.cosign.p7s"));
	CHECK_CONTAINS(sg_error_last(), "a second approver's signature exists already");
	CHECK_STR(c.name, "");
	CHECK_INT(verify_with(approval_text, "approvers-ca.pem", &c), SG_OK);
	CHECK_STR(c.name, "bob");

	CHECK_INT(create("alice.pem", "alice.key", NULL, 1, &c), SG_OK);
	CHECK_STR(c.name, "alice");
	CHECK_INT(verify_with(approval_text, "approvers-ca.pem", &c), SG_OK);
	CHECK_STR(c.name, "alice");
}

static void test_refusals(void)
{
	const ident *const two[] = { &alice, &bob, NULL };
	char changed[sizeof(approval_text)], want[256];
	sg_cosigner c;

	memcpy(changed, approval_text, sizeof(changed));
	changed[40] ^= 1;
	expect_refused(changed, "does not match " /* one byte */);
	CHECK_CONTAINS(sg_error_last(), "changed after it was signed");

	sign_by(&self_alice);
	expect_refused(approval_text, "the certificate of CN=alice,O=Example Corp is not issued by "
				      "the approvers' CA");
	/* Named as issued by the approvers' CA, but signed with another key. */
	sign_by(&forged);
	expect_refused(approval_text, "the certificate of CN=alice,O=Example Corp does not verify "
				      "with ");
	CHECK_CONTAINS(sg_error_last(), "certificate signature failure");
	sign_by(&mallory);
	expect_refused(approval_text,
		       "CN=mallory,O=Example Corp is not issued by the approvers' CA");
	CHECK_CONTAINS(sg_error_last(), tmp_path("approvers-ca.pem"));
	sign_by(&old);
	expect_refused(approval_text, "the certificate of CN=old,O=Example Corp expired on ");
	sign_by(&erin);
	expect_refused(approval_text, "CN=erin,O=Example Corp lacks the extended key usage "
				      "emailProtection");
	sign_by(&frank);
	expect_refused(approval_text, "CN=frank,O=Example Corp lacks the extended key usage "
				      "emailProtection");

	raw_sign(tmp_path("a.json.cosign.p7s"), approval_text, two);
	expect_refused(approval_text, "has 2 signers; an approver's signature has exactly one");

	/* Without its certificate the signer cannot be known. */
	{
		const int flags = CMS_DETACHED | CMS_BINARY | CMS_NOCERTS;
		BIO *in = BIO_new_mem_buf(approval_text, (int)strlen(approval_text));
		CMS_ContentInfo *cms = CMS_sign(bob.cert, bob.key, NULL, in, flags);
		unsigned char *der = NULL;
		int n = cms ? i2d_CMS_ContentInfo(cms, &der) : -1;

		if (n <= 0)
			die("CMS_sign");
		check_write_file(tmp_path("a.json.cosign.p7s"), der, (size_t)n, 0644);
		OPENSSL_free(der);
		CMS_ContentInfo_free(cms);
		BIO_free(in);
	}
	expect_refused(approval_text, "carries no signer certificate");

	check_write_file(tmp_path("a.json.cosign.p7s"), "not a signature\n", 16, 0644);
	expect_refused(approval_text, "not a detached CMS signature");
	check_write_file(tmp_path("a.json.cosign.p7s"), "", 0, 0644);
	expect_refused(approval_text, "not a detached CMS signature");

	unlink(tmp_path("a.json.cosign.p7s"));
	CHECK_INT(verify_with(approval_text, "approvers-ca.pem", &c), SG_ERR_VERIFY);
	snprintf(want, sizeof(want), "no second approver's signature %s",
		 tmp_path("a.json.cosign.p7s"));
	CHECK_STR(sg_error_last(), want);
}

/* What sg_cosign_create() refuses: nothing is written then. */
static void test_create_refusals(void)
{
	sg_cosigner c;

	unlink(tmp_path("a.json.cosign.p7s"));
	CHECK_INT(create("alice.pem", "bob.key", NULL, 0, &c), SG_ERR_CRYPTO);
	CHECK_CONTAINS(sg_error_last(), "bob.key: the key does not match the certificate ");
	CHECK_CONTAINS(sg_error_last(), "alice.pem");

	chmod(tmp_path("bob.key"), 0644);
	CHECK_INT(create("bob.pem", "bob.key", NULL, 0, &c), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "bob.key: key file is accessible by group or others "
					"(mode 0644)");
	chmod(tmp_path("bob.key"), 0600);

	CHECK_INT(create("carol.pem", "carol.key", NULL, 0, &c), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "carol.key: the approver's key is encrypted but no "
					"password was given");
	CHECK_INT(create("carol.pem", "carol.key", "wrong", 0, &c), SG_ERR_CRYPTO);
	CHECK_CONTAINS(sg_error_last(),
		       "carol.key: cannot read the approver's key: wrong password");

	/* Certificates that signing would refuse: the co-signature is not written. */
	CHECK_INT(create("mallory.pem", "mallory.key", NULL, 0, &c), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(),
		       "a.json: the new second approver's signature would not "
		       "count, nothing was written: the certificate of CN=mallory");
	CHECK_INT(create("old.pem", "old.key", NULL, 0, &c), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "expired on");
	CHECK_INT(create("erin.pem", "erin.key", NULL, 0, &c), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "emailProtection");
	CHECK_INT(create("self-alice.pem", "self-alice.key", NULL, 0, &c), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "is not issued by the approvers' CA");
	CHECK(access(tmp_path("a.json.cosign.p7s"), F_OK) != 0);
	CHECK_INT(leftovers(), 0);

	CHECK_INT(create("missing.pem", "bob.key", NULL, 0, &c), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "missing.pem: cannot open");
	CHECK_INT(create_as("none.json", SG_COSIGN_SECOND, "bob.pem", "bob.key", NULL,
			    "approvers-ca.pem", 0, &c),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "none.json: no such approval file");

	CHECK_INT(create("carol.pem", "carol.key", "carol-pw", 0, &c), SG_OK);
	CHECK_STR(c.name, "carol");
	CHECK_INT(verify_with(approval_text, "approvers-ca.pem", &c), SG_OK);
	CHECK_STR(c.name, "carol");
}

static int verify_b(const char *ca, sg_cosigner *out)
{
	sg_approvers_trust t = trust_of(ca);

	sg_error_clear();
	return sg_cosign_verify_one(out, SG_COSIGN_SECOND, tmp_path("b.json"),
				    (const unsigned char *)approval_text, strlen(approval_text),
				    &t);
}

/* The approvers' CA file: CA certificates only, each a trust anchor. */
static void test_ca_file(void)
{
	sg_cosigner c;

	sg_error_clear();
	CHECK_INT(verify_with("x", NULL, &c), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "no approvers' CA is configured (trust.approvers_ca_file)");
	CHECK_INT(verify_with(approval_text, "none.pem", &c), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "none.pem: cannot read the approvers' CA");
	CHECK_INT(verify_with(approval_text, "a.json", &c), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "a.json: no PEM certificate in the approvers' CA");
	/* A leaf there would vouch for itself. */
	CHECK_INT(verify_with(approval_text, "self-alice.pem", &c), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "self-alice.pem: certificate 1 (CN=alice,O=Example Corp) "
					"is not a CA certificate");

	/*
	 * Only the approvers' issuing CA trusted, not the root above it: its
	 * approvers count, a sibling issued by the root does not.
	 */
	sign_by(&sibling);
	CHECK_INT(verify_with(approval_text, "other-root.pem", &c), SG_OK);
	CHECK_INT(verify_with(approval_text, "inter-ca.pem", &c), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(),
		       "CN=sibling,O=Example Corp is not issued by the approvers'");

	/*
	 * mallory.pem holds its issuing CA, which the co-signature then
	 * carries; that CA does not count: only the CAs of the approvers' CA
	 * file do (the root alone does not make mallory an approver).
	 */
	check_write_file(tmp_path("b.json"), approval_text, strlen(approval_text), 0644);
	sg_error_clear();
	CHECK_INT(create_as("b.json", SG_COSIGN_SECOND, "mallory.pem", "mallory.key", NULL,
			    "other-root.pem", 0, &c),
		  SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(),
		       "the certificate of CN=mallory,O=Example Corp is not issued "
		       "by the approvers' CA ");
	CHECK_CONTAINS(sg_error_last(), "(only the CAs in that file count, not those a signature "
					"carries)");
	CHECK_INT(create_as("b.json", SG_COSIGN_SECOND, "mallory.pem", "mallory.key", NULL,
			    "root-inter.pem", 0, &c),
		  SG_OK);
	CHECK_STR(c.name, "mallory");
	CHECK_INT(verify_b("other-root.pem", &c), SG_ERR_VERIFY);
	CHECK_INT(verify_b("root-inter.pem", &c), SG_OK);
	CHECK_INT(verify_b("inter-ca.pem", &c), SG_OK);
	CHECK_STR(c.name, "mallory");
	CHECK_INT(verify_b("approvers-ca.pem", &c), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "b.json.cosign.p7s: the certificate of CN=mallory");
}

/* Copy the file `from` to `to` (both in the test folder) with `mode`. */
static void copy_as(const char *from, const char *to, mode_t mode)
{
	FILE *f = fopen(tmp_path(from), "rb");
	static char buf[65536];
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;

	if (!f || n == 0 || n == sizeof(buf))
		die("copy_as");
	fclose(f);
	unlink(tmp_path(to));
	check_write_file(tmp_path(to), buf, n, mode);
	chmod(tmp_path(to), mode);
}

/* The approvers' CA file `ca` is refused (SG_ERR_CONFIG) with `why` in the message. */
static void expect_ca_refused(const char *ca, const char *why)
{
	sg_cosigner c;

	sign_by(&bob);
	CHECK_INT(verify_with(approval_text, ca, &c), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), tmp_path(ca));
	CHECK_CONTAINS(sg_error_last(), why);
	CHECK_STR(c.name, "");
}

/*
 * Owners (root only: chown): another account's CA file or link is refused,
 * unless a review judges the files as that account's.
 */
static void ca_file_owners(void)
{
	sg_cosigner c;

	/* Owned by another account. */
	CHECK_INT(chown(tmp_path("ca.pem"), 4242, 4242), 0);
	expect_ca_refused("ca.pem", "owned by another account");
	/* A review judges them as their owner's (policy lint/show of someone's policy). */
	{
		sg_approvers_trust t = trust_of("ca.pem");
		sg_strict_rule owner;

		sg_strict_rule_init(&owner, 4242);
		t.rule = &owner;
		sg_error_clear();
		CHECK_INT(sg_cosign_verify_one(&c, SG_COSIGN_SECOND, tmp_path("a.json"),
					       (const unsigned char *)approval_text,
					       strlen(approval_text), &t),
			  SG_OK);
		CHECK_STR(c.name, "bob");
		sg_strict_rule_init(&owner, 4243);
		CHECK_INT(sg_cosign_verify_one(&c, SG_COSIGN_SECOND, tmp_path("a.json"),
					       (const unsigned char *)approval_text,
					       strlen(approval_text), &t),
			  SG_ERR_CONFIG);
		CHECK_CONTAINS(sg_error_last(), "owned by another account");
	}
	CHECK_INT(chown(tmp_path("ca.pem"), 0, 0), 0);

	/* A link another account owns, to a good file: the link is the finding. */
	unlink(tmp_path("ca-link.pem"));
	CHECK_INT(symlink(tmp_path("approvers-ca.pem"), tmp_path("ca-link.pem")), 0);
	CHECK_INT(lchown(tmp_path("ca-link.pem"), 4242, 4242), 0);
	expect_ca_refused("ca-link.pem", "owned by another account");
	unlink(tmp_path("ca-link.pem"));
}

/*
 * Replaced during a run (each store is built from the file as it is then, on
 * the checked descriptor): by a leaf, by a group-writable file, by an empty
 * one; each refused, and the good file counts again.
 */
static void ca_file_replaced(void)
{
	sg_cosigner c;

	copy_as("self-alice.pem", "ca.pem.new", 0644);
	CHECK_INT(rename(tmp_path("ca.pem.new"), tmp_path("ca.pem")), 0);
	expect_ca_refused("ca.pem", "is not a CA certificate");
	copy_as("approvers-ca.pem", "ca.pem.new", 0664);
	CHECK_INT(rename(tmp_path("ca.pem.new"), tmp_path("ca.pem")), 0);
	expect_ca_refused("ca.pem", "writable by group");
	check_write_file(tmp_path("ca.pem.new"), "", 0, 0644);
	CHECK_INT(rename(tmp_path("ca.pem.new"), tmp_path("ca.pem")), 0);
	expect_ca_refused("ca.pem", "no PEM certificate");
	/* A good CA followed by a leaf: the leaf is refused, not skipped. */
	{
		FILE *f = fopen(tmp_path("ca.pem"), "w");
		if (!f || !PEM_write_X509(f, root.cert) || !PEM_write_X509(f, alice.cert))
			die("ca.pem");
		fclose(f);
	}
	expect_ca_refused("ca.pem", "certificate 2 (CN=alice,O=Example Corp) is not a CA");
	copy_as("approvers-ca.pem", "ca.pem", 0644);
	CHECK_INT(verify_with(approval_text, "ca.pem", &c), SG_OK);
	CHECK_STR(c.name, "bob");
	unlink(tmp_path("ca.pem"));
}

/*
 * The approvers' CA file decides who approved: it is read through the one
 * trust-file reader on the descriptor the strict rule was checked on (owner
 * root or us, no group or other write, links held to the same, the folders
 * too), each time a store is built. Attacks on it, each refused.
 */
static void test_ca_file_strict(void)
{
	char sub[sizeof(dir) + 16], want[256];
	sg_cosigner c;

	sign_by(&bob);
	copy_as("approvers-ca.pem", "ca.pem", 0644);
	CHECK_INT(verify_with(approval_text, "ca.pem", &c), SG_OK);
	CHECK_STR(c.name, "bob");

	/* Group- or other-writable: anyone in the group would name their own approvers. */
	chmod(tmp_path("ca.pem"), 0664);
	expect_ca_refused("ca.pem", "writable by group");
	chmod(tmp_path("ca.pem"), 0646);
	expect_ca_refused("ca.pem", "writable by others (mode 0646");
	chmod(tmp_path("ca.pem"), 0644);
	if (geteuid() == 0)
		ca_file_owners();
	unlink(tmp_path("ca-link.pem"));
	CHECK_INT(symlink(tmp_path("approvers-ca.pem"), tmp_path("ca-link.pem")), 0);
	/* Our own link to a good file is followed, as the kernel would. */
	CHECK_INT(verify_with(approval_text, "ca-link.pem", &c), SG_OK);
	/* Our own link to a file in a folder others may write: that folder is the finding. */
	snprintf(sub, sizeof(sub), "%s/open", dir);
	CHECK_INT(mkdir(sub, 0777), 0);
	CHECK_INT(chmod(sub, 0777), 0);
	copy_as("approvers-ca.pem", "open/ca.pem", 0644);
	unlink(tmp_path("ca-link.pem"));
	CHECK_INT(symlink(tmp_path("open/ca.pem"), tmp_path("ca-link.pem")), 0);
	snprintf(want, sizeof(want), "%s: writable by others (mode 0777", sub);
	sign_by(&bob);
	CHECK_INT(verify_with(approval_text, "ca-link.pem", &c), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), want);
	CHECK_INT(verify_with(approval_text, "open/ca.pem", &c), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), want);
	unlink(tmp_path("ca-link.pem"));
	unlink(tmp_path("open/ca.pem"));
	rmdir(sub);

	/* Empty, a FIFO (no hang), a folder, too large: each the config's fault. */
	expect_ca_refused("", "the approvers' CA is not a regular file");
	check_write_file(tmp_path("empty-ca.pem"), "", 0, 0644);
	expect_ca_refused("empty-ca.pem", "no PEM certificate in the approvers' CA");
	unlink(tmp_path("fifo-ca.pem"));
	CHECK_INT(mkfifo(tmp_path("fifo-ca.pem"), 0644), 0);
	expect_ca_refused("fifo-ca.pem", "the approvers' CA is not a regular file");
	unlink(tmp_path("fifo-ca.pem"));
	check_write_file(tmp_path("big-ca.pem"), "", 0, 0644);
	CHECK_INT(truncate(tmp_path("big-ca.pem"), 64 * 1024 * 1024 + 1), 0);
	expect_ca_refused("big-ca.pem", "the approvers' CA is larger than 67108864 bytes");
	unlink(tmp_path("big-ca.pem"));
	unlink(tmp_path("empty-ca.pem"));

	ca_file_replaced();
}

/*
 * Size limits are verdicts of the file, not I/O failures: a co-signature too
 * large to be one is an invalid signature (SG_ERR_VERIFY, the two-person rule
 * is not met); an approval file too large to be one is a broken policy file
 * (SG_ERR_CONFIG), and nothing is signed.
 */
static void test_too_large(void)
{
	sg_cosigner c;
	char want[256];

	check_write_file(tmp_path("a.json.cosign.p7s"), "", 0, 0644);
	CHECK_INT(truncate(tmp_path("a.json.cosign.p7s"), 1024 * 1024 + 1), 0);
	expect_refused(approval_text, "larger than 1048576 bytes, not a signature");
	snprintf(want, sizeof(want), "the second approver's signature %s: larger than",
		 tmp_path("a.json.cosign.p7s"));
	CHECK_CONTAINS(sg_error_last(), want);
	unlink(tmp_path("a.json.cosign.p7s"));

	check_write_file(tmp_path("huge.json"), "", 0, 0644);
	CHECK_INT(truncate(tmp_path("huge.json"), 64 * 1024 * 1024), 0);
	CHECK_INT(create_as("huge.json", SG_COSIGN_SECOND, "bob.pem", "bob.key", NULL,
			    "approvers-ca.pem", 0, &c),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "huge.json: larger than");
	CHECK(access(tmp_path("huge.json.cosign.p7s"), F_OK) != 0);
	unlink(tmp_path("huge.json"));
	CHECK_INT(leftovers(), 0);
}

/*
 * The bytes signed are those reviewed: with an expected SHA-256 that is not
 * the file's, nothing is signed; the SHA-256 of the bytes signed is returned.
 */
static void test_reviewed(void)
{
	sg_approvers_trust t = trust_of("approvers-ca.pem");
	sg_approver_key *k = NULL;
	sg_cosigner c;
	char sha[65], want[65], upper[65];

	check_write_file(tmp_path("r.json"), approval_text, strlen(approval_text), 0644);
	CHECK_INT(sg_sha256_hex(want, approval_text, strlen(approval_text)), SG_OK);
	for (size_t i = 0; i < sizeof(upper); i++)
		upper[i] = (char)toupper((unsigned char)want[i]);
	CHECK_INT(sg_approver_key_open(&k, tmp_path("bob.pem"), tmp_path("bob.key"), NULL, NULL,
				       &(sg_secret){ NULL, 0 }),
		  SG_OK);
	CHECK_INT(sg_cosign_create(&c, sha, tmp_path("r.json"), SG_COSIGN_SECOND, k, &t, 0,
				   "00000000000000000000000000000000000000000000000000000000000000"
				   "00"),
		  SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "r.json: its SHA-256 is ");
	CHECK_CONTAINS(sg_error_last(), "the file is not the one you reviewed (it changed since); "
					"nothing was signed");
	CHECK_STR(sha, "");
	CHECK_INT(access(tmp_path("r.json.cosign.p7s"), F_OK), -1);
	CHECK_INT(sg_cosign_create(&c, sha, tmp_path("r.json"), SG_COSIGN_SECOND, k, &t, 0, "12"),
		  SG_ERR_USAGE);
	CHECK_INT(sg_cosign_create(&c, sha, tmp_path("r.json"), SG_COSIGN_SECOND, k, &t, 0, upper),
		  SG_OK);
	CHECK_STR(sha, want);
	CHECK_STR(c.name, "bob");
	sg_approver_key_free(k);
}

/* Both signatures of a.json: `first` and `second` sign approval_text (NULL: no file). */
static int pair(const ident *first, const ident *second, sg_cosigner *a, sg_cosigner *b)
{
	const ident *const one[] = { first, NULL }, *const two[] = { second, NULL };
	sg_approvers_trust t = trust_of("approvers-ca.pem");

	unlink(tmp_path("a.json.approve.p7s"));
	unlink(tmp_path("a.json.cosign.p7s"));
	if (first)
		raw_sign(tmp_path("a.json.approve.p7s"), approval_text, one);
	if (second)
		raw_sign(tmp_path("a.json.cosign.p7s"), approval_text, two);
	sg_error_clear();
	return sg_cosign_verify_pair(a, b, tmp_path("a.json"), (const unsigned char *)approval_text,
				     strlen(approval_text), &t);
}

/* `x` re-issued by the approvers' CA with the key of `with`. */
static void rekey(ident *x, const ident *with)
{
	EVP_PKEY_free(x->key);
	x->key = EVP_PKEY_dup(with->key);
	if (!x->key || !X509_set_pubkey(x->cert, x->key) ||
	    !X509_sign(x->cert, root.key, EVP_sha256()))
		die("rekey");
}

/* Two approvers, and every way one person could pose as two. */
static void test_pair(void)
{
	ident same_key, twin, shouting, other_mail;
	sg_cosigner a, b;

	CHECK_INT(pair(&alice, &bob, &a, &b), SG_OK);
	CHECK_STR(a.name, "alice");
	CHECK_STR(b.name, "bob");
	CHECK_INT((int)strlen(a.key_sha256), 64);
	CHECK(strcmp(a.key_sha256, b.key_sha256) != 0);

	CHECK_INT(pair(&alice, &alice, &a, &b), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "both signatures are by one approver: the same "
					"certificate (CN=alice,O=Example Corp)");
	CHECK_STR(a.name, "");
	make(&same_key, "alice two", "alice2@example.com", &root, EKU_PER, -DAY, 365 * DAY);
	rekey(&same_key, &alice);
	CHECK_INT(pair(&alice, &same_key, &a, &b), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "the same key under two certificates (CN=alice,O=Example "
					"Corp and CN=alice two,O=Example Corp)");
	make(&twin, "alice", "twin@example.com", &root, EKU_PER, -DAY, 365 * DAY);
	CHECK_INT(pair(&twin, &alice, &a, &b), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "two certificates with the same subject");
	make(&shouting, "  ALICE ", "shout@example.com", &root, EKU_PER, -DAY, 365 * DAY);
	CHECK_INT(pair(&alice, &shouting, &a, &b), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "two certificates with the same subject");
	make(&other_mail, "a. smith", "ALICE@example.com", &root, EKU_PER, -DAY, 365 * DAY);
	CHECK_INT(pair(&alice, &other_mail, &a, &b), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "two certificates with the same email alice@example.com");

	CHECK_INT(pair(NULL, NULL, &a, &b), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "no first approver's signature ");
	CHECK_CONTAINS(sg_error_last(), "a.json.approve.p7s and no second approver's signature ");
	CHECK_INT(pair(&alice, NULL, &a, &b), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "no second approver's signature ");
	CHECK_INT(pair(&mallory, NULL, &a, &b), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "no second approver's signature ");
	CHECK_CONTAINS(sg_error_last(), "; the first approver's signature ");
	CHECK_CONTAINS(sg_error_last(),
		       "CN=mallory,O=Example Corp is not issued by the approvers'");
	CHECK_INT(pair(&bob, &self_alice, &a, &b), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "the second approver's signature ");
	CHECK_CONTAINS(sg_error_last(), "is not issued by the approvers' CA");

	/* Signing as one role refuses when the other role's signature is by the same approver. */
	pair(&alice, NULL, &a, &b);
	CHECK_INT(create("alice.pem", "alice.key", NULL, 0, &a), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "the first approver's signature ");
	CHECK_CONTAINS(sg_error_last(), "is by the same approver (the same certificate");
	CHECK(access(tmp_path("a.json.cosign.p7s"), F_OK) != 0);
	CHECK_INT(create("bob.pem", "bob.key", NULL, 0, &b), SG_OK);
	CHECK_INT(pair(&alice, &bob, &a, &b), SG_OK);
	unlink(tmp_path("a.json.approve.p7s"));
	free_ident(&same_key);
	free_ident(&twin);
	free_ident(&shouting);
	free_ident(&other_mail);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	ident *all[] = { &root,   &other_root, &inter, &alice, &bob,   &carol,  &self_alice,
			 &forged, &mallory,    &old,   &erin,  &frank, &sibling };

	if (!mkdtemp(dir))
		die("mkdtemp");
	make(&root, "Approvers CA", NULL, NULL, NULL, -DAY, 3650 * DAY);
	make(&other_root, "Other Root", NULL, NULL, NULL, -DAY, 3650 * DAY);
	make(&inter, "Approvers Issuing CA", NULL, &other_root, NULL, -DAY, 3650 * DAY);
	make(&alice, "alice", "alice@example.com", &root, EKU_PER, -DAY, 365 * DAY);
	make(&bob, "bob", "bob@example.com", &root, EKU_PER, -DAY, 365 * DAY);
	make(&carol, "carol", NULL, &root, EKU_PER, -DAY, 365 * DAY);
	make(&self_alice, "alice", "alice@example.com", NULL, EKU_PER, -DAY, 365 * DAY);
	{
		ident fake = { .key = carol.key, .cert = root.cert };
		make(&forged, "alice", "alice@example.com", &fake, EKU_PER, -DAY, 365 * DAY);
	}
	make(&mallory, "mallory", NULL, &inter, EKU_PER, -DAY, 365 * DAY);
	make(&old, "old", NULL, &root, EKU_PER, -30 * DAY, -DAY);
	make(&erin, "erin", NULL, &root, "codeSigning", -DAY, 365 * DAY);
	make(&frank, "frank", NULL, &root, "", -DAY, 365 * DAY);
	make(&sibling, "sibling", NULL, &other_root, EKU_PER, -DAY, 365 * DAY);
	save(&root, "approvers-ca", NULL, NULL);
	save(&other_root, "other-root", NULL, NULL);
	save(&inter, "inter-ca", NULL, NULL);
	save(&other_root, "root-inter", NULL, &inter);
	save(&alice, "alice", NULL, NULL);
	save(&bob, "bob", NULL, NULL);
	save(&carol, "carol", "carol-pw", NULL);
	save(&self_alice, "self-alice", NULL, NULL);
	/* mallory.pem carries its issuing CA: the co-signature then does too. */
	save(&mallory, "mallory", NULL, &inter);
	save(&old, "old", NULL, NULL);
	save(&erin, "erin", NULL, NULL);
	save(&frank, "frank", NULL, NULL);
	save(&sibling, "sibling", NULL, NULL);
	check_write_file(tmp_path("a.json"), approval_text, strlen(approval_text), 0640);

	test_paths();
	test_valid();
	test_replace();
	test_refusals();
	test_create_refusals();
	test_ca_file();
	test_ca_file_strict();
	test_too_large();
	test_pair();
	test_reviewed();

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free_ident(all[i]);
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return check_done();
}

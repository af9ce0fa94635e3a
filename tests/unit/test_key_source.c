/*
 * Unit tests for the key sources' table (lib/key_source.c and its rows):
 * every row fills the columns every caller uses; a config without
 * "key_source" resolves to the row older configs meant; a named row is
 * found and its own checks run; an unknown name is refused with the known
 * ones; each row's confinement column allows what it reads; and the
 * provider route's failures are told apart without a token (a module that
 * is not there).
 */
#include "key_source.h"
#include "signgate/config.h"
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/keys.h"

#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static const char *found(const sg_key_view *v)
{
	const sg_key_source_ops *ks = NULL;
	int error = sg_key_source_find(&ks, v);

	return error == SG_OK ? ks->name : NULL;
}

static void test_rows(void)
{
	size_t n = 0;

	for (; sg_key_sources[n]; n++) {
		const sg_key_source_ops *ks = sg_key_sources[n];
		CHECK(ks->name && ks->title && ks->config_keys && ks->config_keys[0]);
		CHECK(ks->secret &&
		      (strcmp(ks->secret, "PIN") == 0 || strcmp(ks->secret, "password") == 0));
		CHECK(ks->check && ks->material && ks->private_key && ks->allow);
		/* A token keeps something beside its key; file keys do not. */
		CHECK(ks->key_in_file == (ks->release == NULL));
		for (size_t i = 0; i < n; i++)
			CHECK(strcmp(ks->name, sg_key_sources[i]->name) != 0);
	}
	CHECK(n >= 4);
}

static void test_implied(void)
{
	sg_key_view v = { .config = "c.json", .section = "signing" };

	v.pkcs12 = "/k/signer.p12";
	CHECK_STR(found(&v), "pkcs12");
	memset(&v, 0, sizeof(v));
	v.config = "c.json";
	v.section = "signing";
	v.key = "/k/signer.key";
	v.cert_chain = "/k/chain.pem";
	CHECK_STR(found(&v), "pem");
	v.key = "pkcs11:token=t;object=o;type=private";
	v.pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so";
	CHECK_STR(found(&v), "pkcs11-engine");
	/* The provider is never implied: only named. */
	v.source = "pkcs11-provider";
	CHECK_STR(found(&v), "pkcs11-provider");
	v.source = "pkcs11-engine";
	CHECK_STR(found(&v), "pkcs11-engine");
	v.source = NULL;
	v.key = NULL;
	v.pkcs11_module = NULL;
	CHECK(found(&v) == NULL);
	CHECK_CONTAINS(sg_error_last(), "c.json: \"signing\" names no key (\"pkcs12\", or \"key\" "
					"with its certificates, or \"key_source\")");
}

static void test_named_checks(void)
{
	sg_key_view v = { .config = "c.json",
			  .section = "audit_seal",
			  .source = "pkcs11-providr",
			  .key = "pkcs11:token=t;object=o;type=private",
			  .cert_chain = "/k/seal.pem",
			  .pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so" };

	CHECK(found(&v) == NULL);
	CHECK_INT(sg_error_code(), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "c.json: \"audit_seal.key_source\" \"pkcs11-providr\" is "
					"none of \"pkcs12\", \"pem\", \"pkcs11-engine\"");
	CHECK_CONTAINS(sg_error_last(), "\"pkcs11-provider\"");
	v.source = "pkcs11-provider";
	v.pkcs11_engine = "/usr/lib/engines-3/pkcs11.so";
	CHECK(found(&v) == NULL);
	CHECK_CONTAINS(sg_error_last(), "\"audit_seal.pkcs11_engine\" does not go with "
					"\"key_source\" \"pkcs11-provider\"");
	v.pkcs11_engine = NULL;
	v.pkcs11_module = "/opt/hsm/$lib.so";
	CHECK(found(&v) == NULL);
	CHECK_CONTAINS(sg_error_last(), "\"audit_seal.pkcs11_module\" /opt/hsm/$lib.so: only "
					"letters, digits and /._+-");
	/* A PIN in the URI (pin-value, pin-source) is refused for both token rows. */
	v.pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so";
	v.key = "pkcs11:token=t;object=o;type=private?PIN-Value=1234";
	CHECK(found(&v) == NULL);
	CHECK_CONTAINS(sg_error_last(), "c.json: \"audit_seal.key\" names a PIN in the pkcs11: URI "
					"(pin-value or pin-source): give it with \"pin_file\"");
	v.source = "pkcs11-engine";
	v.key = "pkcs11:token=t;object=o;type=private?module-name=x&pin-source=file:/tmp/pin";
	CHECK(found(&v) == NULL);
	CHECK_CONTAINS(sg_error_last(), "names a PIN in the pkcs11: URI");
	/* an attribute that merely starts with those letters is no PIN */
	v.key = "pkcs11:token=t;object=o;type=private?pin-values-x=1";
	CHECK(found(&v) != NULL);
	v.source = "pkcs11-provider";
	v.key = "pkcs11:token=t;object=o;type=private";
	v.pkcs11_module = "lib/softhsm.so";
	CHECK(found(&v) == NULL);
	CHECK_CONTAINS(sg_error_last(), "\"pkcs11_module\" (an absolute path), \"key\" (a "
					"pkcs11: URI) and the certificates");
	v.source = "pem";
	v.pkcs11_module = NULL;
	CHECK(found(&v) == NULL);
	CHECK_CONTAINS(sg_error_last(), "\"audit_seal.key_source\" \"pem\" needs \"key\" (a PEM "
					"key file)");
	v.source = "pkcs12";
	CHECK(found(&v) == NULL);
	CHECK_CONTAINS(sg_error_last(), "\"audit_seal.key_source\" \"pkcs12\" needs "
					"\"audit_seal.pkcs12\"");
}

static int allows(const sg_key_allow *a, const char *path, int rw)
{
	for (size_t i = 0; i < (rw ? a->n_rw : a->n_read); i++)
		if (strcmp(rw ? a->rw[i] : a->read[i], path) == 0)
			return 1;
	return 0;
}

static void test_allow_columns(void)
{
	char *env[] = { "SOFTHSM2_CONF=/etc/softhsm/softhsm2.conf", NULL };
	char *paths[] = { "/var/lib/softhsm/tokens", NULL };
	sg_key_view v = { .config = "c.json",
			  .section = "signing",
			  .key = "pkcs11:token=t;object=o;type=private",
			  .cert_chain = "/k/chain.pem",
			  .pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so",
			  .pkcs11_env = env,
			  .pkcs11_paths = paths,
			  .pkcs11_network = 1 };
	sg_key_allow a;

	memset(&a, 0, sizeof(a));
	sg_key_source_pkcs11_provider.allow(&a, &v);
	CHECK(allows(&a, "/usr/lib/softhsm/libsofthsm2.so", 0));
	CHECK(allows(&a, "/etc/softhsm/softhsm2.conf", 0));
	CHECK(allows(&a, "/k/chain.pem", 0));
	CHECK(allows(&a, "/etc/pkcs11", 0));
	CHECK(allows(&a, "/var/lib/softhsm/tokens", 1));
	CHECK(a.network == 1 && a.ipc == 1);
	memset(&a, 0, sizeof(a));
	v.pkcs11_engine = "/usr/lib/engines-3/pkcs11.so";
	sg_key_source_pkcs11_engine.allow(&a, &v);
	CHECK(allows(&a, "/usr/lib/engines-3/pkcs11.so", 0));
	CHECK(!allows(&a, "/etc/pkcs11", 0));
	memset(&a, 0, sizeof(a));
	v.pkcs12 = "/k/signer.p12";
	sg_key_source_pkcs12.allow(&a, &v);
	CHECK(a.n_read == 1 && allows(&a, "/k/signer.p12", 0) && a.n_rw == 0 && !a.network);
	memset(&a, 0, sizeof(a));
	v.key = "/k/signer.key";
	sg_key_source_pem.allow(&a, &v);
	CHECK(a.n_read == 2 && allows(&a, "/k/signer.key", 0) && allows(&a, "/k/chain.pem", 0));
}

/* Without the module, the provider route stops before it loads anything. */
static void test_provider_no_module(void)
{
	sg_key_view v = { .config = "c.json",
			  .section = "signing",
			  .source = "pkcs11-provider",
			  .key = "pkcs11:token=t;object=o;type=private",
			  .cert_chain = "/k/chain.pem",
			  .pkcs11_module = "/usr/lib/no-such-pkcs11-module.so" };
	sg_key k;

	setenv("PKCS11_PROVIDER_MODULE", "/usr/lib/softhsm/libsofthsm2.so", 1);
	CHECK_INT(sg_key_open(&k, &v, NULL, "the signing key"), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "/usr/lib/no-such-pkcs11-module.so: cannot use the "
					"PKCS#11 module: No such file or directory");
	CHECK(k.pkey == NULL && k.keep == NULL);
	/* Removed before the provider could read it. */
	CHECK(getenv("PKCS11_PROVIDER_MODULE") == NULL);
	sg_key_close(&k);
}

/* A config at `path` with `signing` and `seal` as its sections (JSON text; "" for none). */
static void write_config(const char *path, const char *signing, const char *seal)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f,
		"{ \"policy\": \"policy/\", \"audit_log\": \"audit/log.jsonl\",\n\"trust\": { "
		"\"ca_file\": \"r.pem\" }%s%s%s%s }\n",
		signing[0] ? ", \"signing\": " : "", signing, seal[0] ? ", \"audit_seal\": " : "",
		seal);
	fclose(f);
}

/*
 * An unknown "key_source" (signing or audit_seal) is refused as the config
 * loads, once the table is the config's checker (tools/signgate.c sets it):
 * the message names the file, the section, the value and the known rows.
 * Settings a named row cannot use are refused then too. Without the checker
 * the config layer alone cannot know the rows.
 */
static void test_config_load(void)
{
	char dir[] = "/tmp/test_key_source.XXXXXX", path[256];
	const char *uri = "\"key\": \"pkcs11:token=t;object=o\", \"cert_chain\": \"c.pem\", "
			  "\"pkcs11_module\": \"/usr/lib/m.so\"";
	char signing[512];
	sg_config *cfg = NULL;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/c.json", dir);
	snprintf(signing, sizeof(signing), "{ \"key_source\": \"pkcs11-providr\", %s }", uri);
	write_config(path, signing, "");
	sg_config_set_checker(NULL);
	CHECK_INT(sg_config_load_flags(&cfg, path, SG_CONFIG_LENIENT), SG_OK);
	sg_config_free(cfg);
	cfg = NULL;

	sg_config_set_checker(sg_keys_check_config);
	CHECK_INT(sg_config_load_flags(&cfg, path, SG_CONFIG_LENIENT), SG_ERR_CONFIG);
	CHECK(cfg == NULL);
	CHECK_CONTAINS(sg_error_last(), path);
	CHECK_CONTAINS(sg_error_last(), "\"signing.key_source\" \"pkcs11-providr\" is none of "
					"\"pkcs12\", \"pem\", \"pkcs11-engine\", "
					"\"pkcs11-provider\"");
	/* Strict loading too (the check comes before the files' modes). */
	CHECK_INT(sg_config_load(&cfg, path), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "is none of");

	write_config(path, "",
		     "{ \"key_source\": \"pem2\", \"key\": \"k.pem\", \"cert\": \"c.pem\" }");
	CHECK_INT(sg_config_load_flags(&cfg, path, SG_CONFIG_LENIENT), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "\"audit_seal.key_source\" \"pem2\" is none of \"pkcs12\"");

	/* A row's own check at load: an engine does not go with the provider. */
	snprintf(signing, sizeof(signing),
		 "{ \"key_source\": \"pkcs11-provider\", \"pkcs11_engine\": \"/e.so\", %s }", uri);
	write_config(path, signing, "");
	CHECK_INT(sg_config_load_flags(&cfg, path, SG_CONFIG_LENIENT), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "\"signing.pkcs11_engine\" does not go with");

	/* Known rows load; a config without a key is no finding. */
	snprintf(signing, sizeof(signing), "{ \"key_source\": \"pkcs11-provider\", %s }", uri);
	write_config(path, signing, "");
	CHECK_INT(sg_config_load_flags(&cfg, path, SG_CONFIG_LENIENT), SG_OK);
	sg_config_free(cfg);
	cfg = NULL;
	write_config(path, "", "");
	CHECK_INT(sg_config_load_flags(&cfg, path, SG_CONFIG_LENIENT), SG_OK);
	sg_config_free(cfg);
	cfg = NULL;

	/* A token's setting beside a PEM key, and the network beside a PKCS#12 file. */
	write_config(path,
		     "{ \"key\": \"k.pem\", \"cert_chain\": \"c.pem\", \"pkcs11_env\": "
		     "{ \"SOFTHSM2_CONF\": \"/t.conf\" } }",
		     "");
	CHECK_INT(sg_config_load_flags(&cfg, path, SG_CONFIG_LENIENT), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(),
		       "\"signing.pkcs11_env\" does not go with \"key_source\" "
		       "\"pem\", which the other settings imply (PEM key and chain)");
	write_config(path, "{ \"pkcs12\": \"s.p12\", \"pkcs11_network\": true }", "");
	CHECK_INT(sg_config_load_flags(&cfg, path, SG_CONFIG_LENIENT), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "\"signing.pkcs11_network\" does not go with "
					"\"key_source\" \"pkcs12\"");
	/* The seal: a module beside a PEM key named as such. */
	write_config(path, "",
		     "{ \"key_source\": \"pem\", \"key\": \"k.pem\", \"cert\": \"c.pem\", "
		     "\"pkcs11_module\": \"/m.so\" }");
	CHECK_INT(sg_config_load_flags(&cfg, path, SG_CONFIG_LENIENT), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "\"audit_seal.key_source\" \"pem\" needs");
	sg_config_set_checker(NULL);
	unlink(path);
	rmdir(dir);
}

/*
 * Without the checker (a lib caller, fuzz_config) the config layer reads the
 * key settings as they are; the table judges them when a key is opened, with
 * the same message, so no key is ever opened from settings nobody judged.
 */
static void test_config_no_checker(void)
{
	char dir[] = "/tmp/test_key_source_nc.XXXXXX", path[256];
	sg_key_material km;
	sg_config *cfg = NULL;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/c.json", dir);
	write_config(path,
		     "{ \"pkcs12\": \"s.p12\", \"pkcs11_env\": { \"SOFTHSM2_CONF\": \"/t\" } }",
		     "");
	sg_config_set_checker(NULL);
	CHECK_INT(sg_config_load_flags(&cfg, path, SG_CONFIG_LENIENT), SG_OK);
	if (cfg) {
		CHECK_INT(sg_keys_open(&km, cfg, NULL), SG_ERR_CONFIG);
		CHECK_CONTAINS(sg_error_last(), "\"signing.pkcs11_env\" does not go with "
						"\"key_source\" \"pkcs12\"");
		CHECK_INT(sg_keys_material_needs_secret(cfg), 0);
		CHECK_INT(sg_keys_check_config(cfg), SG_ERR_CONFIG);
		CHECK_CONTAINS(sg_error_last(), "\"signing.pkcs11_env\" does not go with");
	}
	sg_config_free(cfg);
	unlink(path);
	rmdir(dir);
}

/* A self-signed EC certificate and its plain PEM key in `dir` (approver.pem, approver.key). */
static void write_approver(const char *dir)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	char path[512];
	FILE *f;

	CHECK(key && x);
	if (!key || !x)
		exit(2);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"approver", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	CHECK(X509_sign(x, key, EVP_sha256()) > 0);
	snprintf(path, sizeof(path), "%s/approver.key", dir);
	f = fopen(path, "w");
	CHECK(f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
	if (f)
		fclose(f);
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/approver.pem", dir);
	f = fopen(path, "w");
	CHECK(f && PEM_write_X509(f, x) == 1);
	if (f)
		fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* sg_approver_key_open(dir's approver) with `module`; its return, `k` freed. */
static int approver_open(const char *dir, const char *key, const char *module)
{
	char cert[512], keyp[512];
	sg_secret none = { NULL, 0 };
	sg_approver_key *k = NULL;
	int rc;

	snprintf(cert, sizeof(cert), "%s/approver.pem", dir);
	snprintf(keyp, sizeof(keyp), "%s/%s", dir, key);
	sg_error_clear();
	rc = sg_approver_key_open(&k, cert, strncmp(key, "pkcs11:", 7) == 0 ? key : keyp, module,
				  NULL, &none);
	CHECK(rc == SG_OK ? k != NULL : k == NULL);
	sg_approver_key_free(k);
	return rc;
}

/*
 * What runs with an approver's key is checked inside the library, whoever
 * calls it (tools/approver.c checks the module early only for its usage
 * message): the caller's OPENSSL_ENGINES, OPENSSL_MODULES, LD_* and
 * PKCS11SPY for a PEM key too, and a token's module by the strict rule,
 * before any file is read or the module loaded. `dir` holds the approver's
 * files and `open_dir`, a folder anyone may write.
 */
static void test_approver_env(const char *dir, const char *open_dir)
{
	char mod[700];

	unsetenv("OPENSSL_ENGINES");
	unsetenv("OPENSSL_MODULES");
	unsetenv("LD_LIBRARY_PATH");
	/* The good case: a PEM key in a clean environment opens. */
	CHECK_INT(approver_open(dir, "approver.key", NULL), SG_OK);

	setenv("OPENSSL_ENGINES", open_dir, 1);
	CHECK_INT(approver_open(dir, "approver.key", NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "OPENSSL_ENGINES=");
	CHECK_CONTAINS(sg_error_last(), open_dir);
	/* Before anything is read: a missing key is not what is reported. */
	CHECK_INT(approver_open(dir, "no-such.key", NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "OPENSSL_ENGINES=");
	unsetenv("OPENSSL_ENGINES");
	setenv("OPENSSL_MODULES", "providers", 1);
	CHECK_INT(approver_open(dir, "approver.key", NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "OPENSSL_MODULES=\"providers\"");
	unsetenv("OPENSSL_MODULES");
	setenv("LD_LIBRARY_PATH", open_dir, 1);
	CHECK_INT(approver_open(dir, "approver.key", NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "LD_LIBRARY_PATH=");
	unsetenv("LD_LIBRARY_PATH");
	/* The module pkcs11-spy would load: a path held to the rule, a PEM key or not. */
	snprintf(mod, sizeof(mod), "%s/spy.so", open_dir);
	check_write_file(mod, "x", 1, 0644);
	setenv("PKCS11SPY", mod, 1);
	CHECK_INT(approver_open(dir, "approver.key", NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "PKCS11SPY=");
	CHECK_CONTAINS(sg_error_last(), "code a PKCS#11 module loads");
	setenv("PKCS11SPY", "spy.so", 1);
	CHECK_INT(approver_open(dir, "approver.key", NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "is not an absolute path");
	unsetenv("PKCS11SPY");
	unlink(mod);
}

static void test_approver_module(const char *dir, const char *open_dir)
{
	const char *uri = "pkcs11:token=t;object=o;type=private";
	char mod[700], link[600];

	/* A module others may write, in an open folder, or reached through a link there. */
	snprintf(mod, sizeof(mod), "%s/m.so", dir);
	check_write_file(mod, "x", 1, 0666);
	CHECK_INT(approver_open(dir, uri, mod), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "--pkcs11-module ");
	CHECK_CONTAINS(sg_error_last(), mod);
	CHECK_CONTAINS(sg_error_last(), "the module runs with the key");
	chmod(mod, 0644);
	snprintf(mod, sizeof(mod), "%s/m.so", open_dir);
	check_write_file(mod, "x", 1, 0644);
	CHECK_INT(approver_open(dir, uri, mod), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), open_dir);
	CHECK_CONTAINS(sg_error_last(), "the module runs with the key");
	snprintf(link, sizeof(link), "%s/link.so", dir);
	CHECK(symlink(mod, link) == 0);
	CHECK_INT(approver_open(dir, uri, link), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), open_dir);
	CHECK_INT(approver_open(dir, uri, "m.so"), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "must be an absolute path");
	/*
	 * A safe path passes the rule and only then fails as no module file
	 * (nothing is loaded: libp11's engine leaks when a module fails to load).
	 */
	CHECK_INT(approver_open(dir, uri, dir), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "the PKCS#11 module is not a file");
	snprintf(mod, sizeof(mod), "%s/m.so", dir);
	/* And the environment is checked with a module too. */
	setenv("OPENSSL_ENGINES", open_dir, 1);
	CHECK_INT(approver_open(dir, uri, mod), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "OPENSSL_ENGINES=");
	unsetenv("OPENSSL_ENGINES");
	unlink(link);
	unlink(mod);
	snprintf(mod, sizeof(mod), "%s/m.so", open_dir);
	unlink(mod);
}

static void test_approver_code(void)
{
	char dir[] = "/tmp/test_key_source_ap.XXXXXX", open_dir[600];

	CHECK(mkdtemp(dir) != NULL);
	write_approver(dir);
	snprintf(open_dir, sizeof(open_dir), "%s/open", dir);
	CHECK(mkdir(open_dir, 0777) == 0 && chmod(open_dir, 0777) == 0);
	test_approver_env(dir, open_dir);
	test_approver_module(dir, open_dir);
	rmdir(open_dir);
	unlink(check_path(dir, "approver.key"));
	unlink(check_path(dir, "approver.pem"));
	rmdir(dir);
}

int main(void)
{
	test_rows();
	test_implied();
	test_named_checks();
	test_allow_columns();
	test_provider_no_module();
	test_config_load();
	test_config_no_checker();
	test_approver_code();
	return check_done();
}

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
#include "signgate/error.h"
#include "signgate/keys.h"

#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	CHECK_CONTAINS(sg_error_last(), "c.json: \"signing\" names no key");
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
	sg_config_set_checker(NULL);
	unlink(path);
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
	return check_done();
}

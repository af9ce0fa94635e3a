/*
 * Unit tests for lib/config.c: config files written into a mkdtemp() folder,
 * loaded, and checked for resolved paths, defaults and the exact error for
 * each kind of mistake.
 */
#include "signgate/config.h"
#include "signgate/error.h"
#include "signgate/keys.h"

#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_config.XXXXXX";
static char cfg_path[512];

/* The mandatory part of every config below. */
#define BASE                                                                                       \
	"\"policy\": \"policy/\", \"audit_log\": \"audit/log.jsonl\", "                            \
	"\"trust\": { \"ca_file\": \"pki/root.pem\" }"

static void write_config(const char *json)
{
	int fd = open(cfg_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(json);

	if (fd < 0 || write(fd, json, len) != (ssize_t)len || close(fd) != 0) {
		perror(cfg_path);
		exit(2);
	}
}

static const char *in_tmp(const char *rel)
{
	return check_path(tmpdir, rel);
}

/* Load `json`; expect SG_ERR_CONFIG, a message naming the file and holding `want`. */
static void expect_error(const char *json, const char *want)
{
	sg_config *cfg = (sg_config *)&cfg; /* must be reset to NULL */

	write_config(json);
	sg_error_clear();
	CHECK_INT(sg_config_load(&cfg, cfg_path), SG_ERR_CONFIG);
	CHECK(cfg == NULL);
	if (cfg != (sg_config *)&cfg)
		sg_config_free(cfg);
	CHECK_INT(sg_error_code(), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), cfg_path);
	CHECK_CONTAINS(sg_error_last(), want);
}

static sg_config *expect_ok(const char *json)
{
	sg_config *cfg = NULL;

	write_config(json);
	sg_error_clear();
	CHECK_INT(sg_config_load(&cfg, cfg_path), SG_OK);
	if (!cfg) {
		fprintf(stderr, "unexpected error: %s\n", sg_error_last());
		exit(1);
	}
	return cfg;
}

static void test_minimal_and_defaults(void)
{
	sg_config *cfg = expect_ok("{ " BASE " }");

	CHECK_STR(cfg->path, cfg_path);
	CHECK_STR(cfg->dir, tmpdir);
	CHECK_STR(cfg->policy, in_tmp("policy/"));
	CHECK_STR(cfg->audit_log, in_tmp("audit/log.jsonl"));
	CHECK_STR(cfg->ca_file, in_tmp("pki/root.pem"));
	CHECK(cfg->tsa_ca_file == NULL);
	CHECK(cfg->crl_file == NULL);
	CHECK_INT(cfg->ignore_crl, 0);
	CHECK(cfg->pkcs12 == NULL && cfg->cert_chain == NULL && cfg->key == NULL);
	CHECK(cfg->secret.file == NULL);
	CHECK_INT(cfg->n_timestamp_urls, 0);
	CHECK_INT(cfg->timestamp_timeout, 60);
	CHECK_STR(cfg->osslsigncode, sg_config_default_osslsigncode());
	CHECK(sg_config_default_osslsigncode()[0] == '/');

	sg_error_clear();
	CHECK_INT(sg_config_require_signing(cfg), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), cfg_path);
	CHECK_CONTAINS(sg_error_last(), "no signing key");
	sg_config_free(cfg);
	sg_config_free(NULL);
}

static void test_full(void)
{
	sg_config *cfg = expect_ok(
		"{ \"$comment\": \"every key\",\n"
		"  \"policy\": \"/srv/policy.json\",\n"
		"  \"audit_log\": \"sub/../audit.jsonl\",\n"
		"  \"trust\": { \"ca_file\": \"pki/root.pem\", \"tsa_ca_file\": \"pki/tsa.pem\",\n"
		"             \"crl_file\": \"/pki/ca.crl\", \"ignore_crl\": true },\n"
		"  \"signing\": { \"pkcs12\": \"pki/signer.p12\",\n"
		"               \"password_file\": \"pki/pass\",\n"
		"               \"timestamp_urls\": [\"http://tsa.one/\", \"https://tsa.two/x\"],\n"
		"               \"timestamp_timeout\": 30 },\n"
		"  \"osslsigncode\": \"/opt/osslsigncode/bin/osslsigncode\" }\n");

	CHECK_STR(cfg->policy, "/srv/policy.json"); /* absolute paths are kept */
	CHECK_STR(cfg->audit_log, in_tmp("sub/../audit.jsonl"));
	CHECK_STR(cfg->ca_file, in_tmp("pki/root.pem"));
	CHECK_STR(cfg->tsa_ca_file, in_tmp("pki/tsa.pem"));
	CHECK_STR(cfg->crl_file, "/pki/ca.crl");
	CHECK_INT(cfg->ignore_crl, 1);
	CHECK_STR(cfg->pkcs12, in_tmp("pki/signer.p12"));
	CHECK_STR(cfg->secret.file, in_tmp("pki/pass"));
	CHECK(cfg->cert_chain == NULL && cfg->key == NULL);
	CHECK_INT(cfg->n_timestamp_urls, 2);
	CHECK_STR(cfg->timestamp_urls[0], "http://tsa.one/");
	CHECK_STR(cfg->timestamp_urls[1], "https://tsa.two/x");
	CHECK(cfg->timestamp_urls[2] == NULL);
	CHECK_INT(cfg->timestamp_timeout, 30);
	CHECK_STR(cfg->osslsigncode, "/opt/osslsigncode/bin/osslsigncode");
	CHECK_INT(sg_config_require_signing(cfg), SG_OK);
	sg_config_free(cfg);

	cfg = expect_ok("{ " BASE ", \"signing\": { \"cert_chain\": \"chain.pem\", "
			"\"key\": \"signer.key\", \"timestamp_timeout\": 3600 } }");
	CHECK_STR(cfg->cert_chain, in_tmp("chain.pem"));
	CHECK_STR(cfg->key, in_tmp("signer.key"));
	CHECK(cfg->pkcs12 == NULL && cfg->secret.file == NULL);
	CHECK_INT(cfg->timestamp_timeout, 3600);
	CHECK_INT(sg_config_require_signing(cfg), SG_OK);
	sg_config_free(cfg);

	cfg = expect_ok("{ \"policy\": \"p\", \"audit_log\": \"a\", "
			"\"trust\": { \"ca_file\": \"r.pem\", \"ignore_crl\": false }, "
			"\"signing\": { \"timestamp_timeout\": 1, \"timestamp_urls\": [] } }");
	CHECK_INT(cfg->timestamp_timeout, 1);
	CHECK_INT(cfg->n_timestamp_urls, 0);
	CHECK_INT(cfg->ignore_crl, 0);
	sg_config_free(cfg);
}

static void test_syntax_errors(void)
{
	expect_error("{\n  \"policy\": \"p\",\n  oops\n}\n", ":3:");
	expect_error("{\n  \"policy\": \"p\",\n  oops\n}\n", "invalid JSON");
	expect_error("{ " BASE ",\n \"policy\": \"again\" }", ":2:");
	expect_error("{ " BASE ",\n \"policy\": \"again\" }", "duplicate");
	expect_error("", "invalid JSON");
	expect_error("[]", "the config must be a JSON object");
}

static void test_unknown_keys(void)
{
	expect_error("{ " BASE ", \"polcy\": \"x\" }", "unknown key \"polcy\"");
	expect_error("{ " BASE ", \"signing\": { \"pkcs11\": \"x\" } }",
		     "unknown key \"signing.pkcs11\"");
	expect_error("{ \"policy\": \"p\", \"audit_log\": \"a\", "
		     "\"trust\": { \"ca_file\": \"r.pem\", \"crl\": \"x.crl\" } }",
		     "unknown key \"trust.crl\"");
}

static void test_missing_and_wrong_types(void)
{
	expect_error("{ \"audit_log\": \"a\", \"trust\": { \"ca_file\": \"r.pem\" } }",
		     "\"policy\" is required");
	expect_error("{ \"policy\": \"p\", \"trust\": { \"ca_file\": \"r.pem\" } }",
		     "\"audit_log\" is required");
	expect_error("{ \"policy\": \"p\", \"audit_log\": \"a\" }",
		     "\"trust\" with \"ca_file\" is required");
	expect_error("{ \"policy\": \"p\", \"audit_log\": \"a\", \"trust\": {} }",
		     "\"trust.ca_file\" is required");
	expect_error("{ \"policy\": \"p\", \"audit_log\": \"a\", "
		     "\"trust\": { \"tsa_ca_file\": \"t.pem\" } }",
		     "\"trust.ca_file\" is required");
	expect_error("{ \"policy\": \"\", \"audit_log\": \"a\", "
		     "\"trust\": { \"ca_file\": \"r\" } }",
		     "\"policy\" must be a non-empty string");
	expect_error("{ \"policy\": 7, \"audit_log\": \"a\", \"trust\": { \"ca_file\": \"r\" } }",
		     "\"policy\" must be a non-empty string");
	expect_error("{ \"policy\": \"p\", \"audit_log\": \"a\", \"trust\": { \"ca_file\": [] } }",
		     "\"trust.ca_file\" must be a non-empty string");
	expect_error("{ \"policy\": \"p\", \"audit_log\": \"a\", \"trust\": \"r.pem\" }",
		     "\"trust\" must be an object");
	expect_error("{ " BASE ", \"signing\": [] }", "\"signing\" must be an object");
	expect_error("{ \"policy\": \"p\", \"audit_log\": \"a\", "
		     "\"trust\": { \"ca_file\": \"r\", \"ignore_crl\": \"yes\" } }",
		     "\"trust.ignore_crl\" must be true or false");
}

static void test_signing_errors(void)
{
	sg_config *cfg = NULL;

	expect_error("{ " BASE ", \"signing\": { \"pkcs12\": \"s.p12\", \"cert_chain\": \"c.pem\", "
		     "\"key\": \"k.pem\" } }",
		     "\"signing.key\" does not go with \"key_source\" \"pkcs12\", which the other "
		     "settings imply (PKCS#12 file)");
	expect_error("{ " BASE ", \"signing\": { \"pkcs12\": \"s.p12\", \"key\": \"k.pem\" } }",
		     "\"signing.key\" does not go with \"key_source\" \"pkcs12\"");
	expect_error("{ " BASE ", \"signing\": { \"pkcs12\": \"s.p12\", \"pkcs11_env\": "
		     "{ \"SOFTHSM2_CONF\": \"/x\" } } }",
		     "\"signing.pkcs11_env\" does not go with \"key_source\" \"pkcs12\"");
	expect_error("{ " BASE ", \"signing\": { \"key\": \"k.pem\", \"cert_chain\": \"c.pem\", "
		     "\"pkcs11_paths\": [\"/t\"] } }",
		     "\"signing.pkcs11_paths\" does not go with \"key_source\" \"pem\"");
	expect_error("{ " BASE ", \"signing\": { \"key\": \"k.pem\", \"cert_chain\": \"c.pem\", "
		     "\"pkcs11_engine\": \"/e.so\" } }",
		     "\"signing.pkcs11_engine\" does not go with \"key_source\" \"pem\"");
	expect_error("{ " BASE ", \"signing\": { \"key\": \"pkcs11:object=k\", "
		     "\"cert_chain\": \"c.pem\" } }",
		     "\"signing.key_source\" \"pkcs11-engine\" needs \"pkcs11_module\"");
	expect_error("{ " BASE ", \"signing\": { \"pkcs11_module\": \"/m.so\" } }",
		     "\"signing.key_source\" \"pkcs11-engine\" needs \"pkcs11_module\" (an "
		     "absolute path), \"key\" (a pkcs11: URI) and the certificates");
	/* A module the token's module loads (pkcs11-spy's PKCS11SPY): a path held to the rule. */
	expect_error("{ " BASE ", \"signing\": { \"pkcs11_module\": \"/m.so\", "
		     "\"key\": \"pkcs11:object=k\", \"cert_chain\": \"c.pem\", "
		     "\"pkcs11_env\": { \"PKCS11SPY\": \"spy.so\" } } }",
		     "\"signing.pkcs11_env.PKCS11SPY\" must be an absolute path");
	{
		char json[1024];

		CHECK(mkdir(in_tmp("open"), 0777) == 0 && chmod(in_tmp("open"), 0777) == 0);
		check_write_file(in_tmp("open/spy.so"), "x", 1, 0644);
		snprintf(json, sizeof(json),
			 "{ " BASE ", \"signing\": { \"pkcs11_module\": \"/m.so\", "
			 "\"key\": \"pkcs11:object=k\", \"cert_chain\": \"c.pem\", "
			 "\"pkcs11_env\": { \"PKCS11SPY\": \"%s\" } } }",
			 in_tmp("open/spy.so"));
		/* Found by the strict check, as "pkcs11_module" would be: the path is named. */
		write_config(json);
		cfg = NULL;
		CHECK_INT(sg_config_load(&cfg, cfg_path), SG_ERR_CONFIG);
		CHECK(cfg == NULL);
		CHECK_CONTAINS(sg_error_last(), "open: writable by others (mode 0777");
		CHECK_INT(sg_config_load_flags(&cfg, cfg_path, SG_CONFIG_LENIENT), SG_OK);
		sg_config_free(cfg);
		unlink(in_tmp("open/spy.so"));
		rmdir(in_tmp("open"));
	}
	expect_error("{ " BASE ", \"signing\": { \"cert_chain\": \"c.pem\" } }",
		     "\"signing\" names no key (\"pkcs12\", or \"key\" with its certificates");
	expect_error("{ " BASE ", \"signing\": { \"key\": \"k.pem\" } }",
		     "\"signing.key_source\" \"pem\" needs \"key\" (a PEM key file) and its "
		     "certificates");

	expect_error("{ " BASE ", \"signing\": { \"timestamp_urls\": "
		     "[\"http://ok/\", \"ftp://tsa.example/\"] } }",
		     "signing.timestamp_urls[1] must be an http:// or https:// URL");
	expect_error("{ " BASE ", \"signing\": { \"timestamp_urls\": [\"tsa.example\"] } }",
		     "signing.timestamp_urls[0] must be an http:// or https:// URL");
	expect_error("{ " BASE ", \"signing\": { \"timestamp_urls\": [42] } }",
		     "signing.timestamp_urls[0] must be an http:// or https:// URL");
	expect_error("{ " BASE ", \"signing\": { \"timestamp_urls\": \"http://tsa/\" } }",
		     "\"signing.timestamp_urls\" must be an array of URLs");

	const char *bad_timeouts[] = { "0", "-5", "3601", "\"30\"", "1.5", "true", "null" };
	for (size_t i = 0; i < sizeof(bad_timeouts) / sizeof(bad_timeouts[0]); i++) {
		char json[512];
		snprintf(json, sizeof(json),
			 "{ " BASE ", \"signing\": { \"timestamp_timeout\": %s } }",
			 bad_timeouts[i]);
		expect_error(json, "\"signing.timestamp_timeout\" must be 1..3600 seconds");
	}

	/*
	 * pkcs11_env is set in the key helper before it asks OpenSSL for the
	 * "pkcs11" engine: OPENSSL_ENGINES there would load any pkcs11.so, past
	 * the strict modes' check of "pkcs11_engine"; LD_* is the loader's.
	 */
	const char *bad_env[] = { "OPENSSL_ENGINES", "OPENSSL_MODULES", "OPENSSL_CONF",
				  "LD_PRELOAD" };
	for (size_t i = 0; i < sizeof(bad_env) / sizeof(bad_env[0]); i++) {
		char json[512];
		snprintf(json, sizeof(json),
			 "{ " BASE ", \"signing\": { \"pkcs11_module\": \"/m.so\", "
			 "\"key\": \"pkcs11:token=t;object=k\", \"cert_chain\": \"c.pem\", "
			 "\"pin_file\": \"pin\", \"pkcs11_env\": { \"%s\": \"/tmp/x\" } } }",
			 bad_env[i]);
		expect_error(json, "is for OpenSSL or the loader, not the token's module");
	}
}

static void test_osslsigncode(void)
{
	/* A relative tool path is refused, not resolved against the config folder. */
	expect_error("{ " BASE ", \"osslsigncode\": \"bin/osslsigncode\" }",
		     "\"osslsigncode\" must be an absolute path");
	expect_error("{ " BASE ", \"osslsigncode\": \"osslsigncode\" }",
		     "\"osslsigncode\" must be an absolute path");
	expect_error("{ " BASE ", \"osslsigncode\": \"\" }",
		     "\"osslsigncode\" must be a non-empty string");
}

/* "confinement": "auto" (the default) or "required"; anything else is refused. */
static void test_confinement(void)
{
	sg_config *cfg = expect_ok("{ " BASE " }");

	CHECK_INT(cfg->confinement_required, 0);
	sg_config_free(cfg);
	cfg = expect_ok("{ " BASE ", \"confinement\": \"auto\" }");
	CHECK_INT(cfg->confinement_required, 0);
	sg_config_free(cfg);
	cfg = expect_ok("{ " BASE ", \"confinement\": \"required\" }");
	CHECK_INT(cfg->confinement_required, 1);
	sg_config_free(cfg);
	expect_error("{ " BASE ", \"confinement\": \"strict\" }",
		     "\"confinement\" must be \"auto\" or \"required\"");
	expect_error("{ " BASE ", \"confinement\": true }",
		     "\"confinement\" must be \"auto\" or \"required\"");
	expect_error("{ " BASE ", \"confinment\": \"auto\" }", "unknown key \"confinment\"");
}

static void test_missing_file(void)
{
	sg_config *cfg = (sg_config *)&cfg;

	sg_error_clear();
	CHECK_INT(sg_config_load(&cfg, in_tmp("absent.json")), SG_ERR_CONFIG);
	CHECK(cfg == NULL);
	CHECK_CONTAINS(sg_error_last(), in_tmp("absent.json"));
	CHECK_CONTAINS(sg_error_last(), "cannot read");
}

/* The signing section's secret source, in its struct. */
static void test_signing_secret(void)
{
	sg_config *cfg =
		expect_ok("{ " BASE ", \"signing\": { \"pkcs11_module\": \"/usr/lib/m.so\", "
			  "\"key\": \"pkcs11:token=t;object=o\", \"cert_chain\": \"c.pem\", "
			  "\"pin_env\": \"SG_PIN\" } }");

	CHECK_STR(cfg->secret.env, "SG_PIN");
	CHECK(cfg->secret.file == NULL && cfg->secret.prompt == 0);
	CHECK_STR(cfg->secret.name, "PIN");
	CHECK_STR(cfg->secret.section, "signing");
	CHECK_STR(cfg->key, "pkcs11:token=t;object=o");
	sg_config_free(cfg);
	cfg = expect_ok("{ " BASE
			", \"signing\": { \"pkcs12\": \"s.p12\", \"password_prompt\": true } }");
	CHECK_INT(cfg->secret.prompt, 1);
	CHECK_STR(cfg->secret.name, "password");
	sg_config_free(cfg);
	expect_error("{ " BASE ", \"signing\": { \"pkcs12\": \"s.p12\", \"pin_file\": \"p\" } }",
		     "\"signing.pin_file\" does not fit this key source; use \"password_file\"");
	expect_error("{ " BASE ", \"signing\": { \"pkcs12\": \"s.p12\", \"password_prompt\": 1 } }",
		     "\"signing.password_prompt\" must be true or false");
}

static void test_audit_seal(void)
{
	sg_config *cfg = expect_ok("{ " BASE " }");

	CHECK(cfg->seal_key == NULL && cfg->seal_cert == NULL && cfg->seal_file == NULL);
	CHECK(cfg->seal_pkcs11_module == NULL && cfg->seal_secret.file == NULL);
	sg_config_free(cfg);

	cfg = expect_ok("{ " BASE ", \"audit_seal\": { \"key\": \"pki/seal.key\", "
			"\"cert\": \"pki/seal.pem\", \"password_file\": \"pki/seal.pass\" } }");
	CHECK_STR(cfg->seal_key, in_tmp("pki/seal.key"));
	CHECK_STR(cfg->seal_cert, in_tmp("pki/seal.pem"));
	CHECK_STR(cfg->seal_file, in_tmp("audit/log.jsonl.seals"));
	CHECK(cfg->seal_pkcs11_module == NULL);
	CHECK_STR(cfg->seal_secret.file, in_tmp("pki/seal.pass"));
	CHECK_STR(cfg->seal_secret.name, "password");
	CHECK_STR(cfg->seal_secret.section, "audit_seal");
	CHECK(cfg->secret.file == NULL); /* the signing secret is another */
	sg_config_free(cfg);

	cfg = expect_ok("{ " BASE ", \"audit_seal\": { \"key\": \"pkcs11:token=t;object=seal\", "
			"\"pkcs11_module\": \"/usr/lib/softhsm/libsofthsm2.so\", "
			"\"cert\": \"/pki/seal.pem\", \"pin_env\": \"SEAL_PIN\", "
			"\"file\": \"/var/seals.jsonl\" } }");
	CHECK_STR(cfg->seal_key, "pkcs11:token=t;object=seal"); /* a URI, not a path */
	CHECK_STR(cfg->seal_pkcs11_module, "/usr/lib/softhsm/libsofthsm2.so");
	CHECK_STR(cfg->seal_cert, "/pki/seal.pem");
	CHECK_STR(cfg->seal_file, "/var/seals.jsonl");
	CHECK_STR(cfg->seal_secret.env, "SEAL_PIN");
	CHECK_STR(cfg->seal_secret.name, "PIN");
	sg_config_free(cfg);

	cfg = expect_ok("{ " BASE ", \"audit_seal\": { \"key\": \"k\", \"cert\": \"c\", "
			"\"password_prompt\": true, \"file\": \"s/seals\" } }");
	CHECK_INT(cfg->seal_secret.prompt, 1);
	CHECK_STR(cfg->seal_file, in_tmp("s/seals"));
	sg_config_free(cfg);

	expect_error("{ " BASE ", \"audit_seal\": [] }", "\"audit_seal\" must be an object");
	expect_error("{ " BASE ", \"audit_seal\": { \"key\": \"k\" } }",
		     "\"audit_seal\" needs \"key\" (a PEM key file or a pkcs11: URI) and \"cert\"");
	expect_error("{ " BASE ", \"audit_seal\": { \"cert\": \"c\" } }",
		     "\"audit_seal\" needs \"key\"");
	expect_error("{ " BASE ", \"audit_seal\": {} }", "\"audit_seal\" needs \"key\"");
	expect_error("{ " BASE ", \"audit_seal\": { \"key\": \"k\", \"cert\": \"c\", "
		     "\"certificate\": \"c\" } }",
		     "unknown key \"audit_seal.certificate\"");
	expect_error("{ " BASE ", \"audit_seal\": { \"key\": \"\", \"cert\": \"c\" } }",
		     "\"audit_seal.key\" must be a non-empty string");
	expect_error("{ " BASE
		     ", \"audit_seal\": { \"key\": \"pkcs11:object=s\", \"cert\": \"c\" } }",
		     "\"audit_seal.key_source\" \"pkcs11-engine\" needs \"pkcs11_module\"");
	expect_error("{ " BASE ", \"audit_seal\": { \"key\": \"k.pem\", \"cert\": \"c\", "
		     "\"pkcs11_module\": \"/m.so\" } }",
		     "\"audit_seal.key_source\" \"pkcs11-engine\" needs \"pkcs11_module\" (an "
		     "absolute path), \"key\" (a pkcs11: URI)");
	expect_error("{ " BASE ", \"audit_seal\": { \"key\": \"pkcs11:object=s\", \"cert\": \"c\", "
		     "\"pkcs11_module\": \"lib/m.so\" } }",
		     "\"audit_seal.pkcs11_module\" must be an absolute path");
	expect_error("{ " BASE ", \"audit_seal\": { \"key\": \"k\", \"cert\": \"c\", "
		     "\"pin_file\": \"p\" } }",
		     "\"audit_seal.pin_file\" does not fit this key source; use \"password_file\"");
	expect_error("{ " BASE ", \"audit_seal\": { \"key\": \"pkcs11:object=s\", \"cert\": \"c\", "
		     "\"pkcs11_module\": \"/m.so\", \"password_env\": \"P\" } }",
		     "\"audit_seal.password_env\" does not fit this key source; use \"pin_env\"");
	expect_error("{ " BASE ", \"audit_seal\": { \"key\": \"k\", \"cert\": \"c\", "
		     "\"password_file\": \"p\", \"password_prompt\": true } }",
		     "\"audit_seal\" names more than one source for the password");
	expect_error("{ " BASE ", \"audit_seal\": { \"key\": \"k\", \"cert\": \"c\", "
		     "\"password_env\": \"1BAD\" } }",
		     "\"audit_seal.password_env\" must name a variable");
	expect_error("{ " BASE ", \"audit_seal\": { \"key\": \"k\", \"cert\": \"c\", "
		     "\"password_prompt\": \"yes\" } }",
		     "\"audit_seal.password_prompt\" must be true or false");
	expect_error("{ " BASE ", \"audit_seal\": { \"key\": \"k\", \"cert\": \"c\", "
		     "\"file\": \"audit/log.jsonl\" } }",
		     "\"audit_seal.file\" must not be the audit log itself");
}

/* "trust.approvers_ca_file": optional, resolved like every path. */
static void test_approvers_ca(void)
{
	sg_config *cfg = expect_ok("{ " BASE " }");

	CHECK(cfg->approvers_ca_file == NULL);
	sg_config_free(cfg);
	cfg = expect_ok(
		"{ \"policy\": \"p\", \"audit_log\": \"a\", \"trust\": { "
		"\"ca_file\": \"r.pem\", \"approvers_ca_file\": \"pki/approvers-ca.pem\" } }");
	CHECK_STR(cfg->approvers_ca_file, in_tmp("pki/approvers-ca.pem"));
	CHECK_STR(cfg->ca_file, in_tmp("r.pem"));
	sg_config_free(cfg);
	cfg = expect_ok(
		"{ \"policy\": \"p\", \"audit_log\": \"a\", \"trust\": { "
		"\"ca_file\": \"r.pem\", \"approvers_ca_file\": \"/etc/approvers.pem\" } }");
	CHECK_STR(cfg->approvers_ca_file, "/etc/approvers.pem");
	sg_config_free(cfg);
	expect_error("{ \"policy\": \"p\", \"audit_log\": \"a\", \"trust\": { "
		     "\"ca_file\": \"r.pem\", \"approvers_ca_file\": \"\" } }",
		     "\"trust.approvers_ca_file\" must be a non-empty string");
	expect_error("{ \"policy\": \"p\", \"audit_log\": \"a\", \"trust\": { "
		     "\"ca_file\": \"r.pem\", \"approvers_ca_file\": [\"a.pem\"] } }",
		     "\"trust.approvers_ca_file\" must be a non-empty string");
	expect_error("{ \"policy\": \"p\", \"audit_log\": \"a\", \"trust\": { "
		     "\"ca_file\": \"r.pem\", \"approver_ca_file\": \"a.pem\" } }",
		     "unknown key \"trust.approver_ca_file\"");
}

/* "policy_group" / "audit_group": a group that exists, else a configuration error. */
static void test_groups(void)
{
	sg_config *cfg =
		expect_ok("{" BASE ", \"policy_group\": \"root\", \"audit_group\": \"root\"}");

	CHECK_INT(cfg->has_policy_gid, 1);
	CHECK_INT(cfg->policy_gid, 0);
	CHECK_INT(cfg->has_audit_gid, 1);
	sg_config_free(cfg);
	cfg = expect_ok("{" BASE "}");
	CHECK_INT(cfg->has_policy_gid, 0);
	CHECK_INT(cfg->has_audit_gid, 0);
	sg_config_free(cfg);
	expect_error("{" BASE ", \"policy_group\": \"sg-no-such-group\"}",
		     "\"policy_group\" names the group \"sg-no-such-group\", which does not exist");
	expect_error("{" BASE ", \"audit_group\": \"sg-no-such-group\"}",
		     "\"audit_group\" names the group \"sg-no-such-group\", which does not exist");
	expect_error("{" BASE ", \"audit_group\": 7}",
		     "\"audit_group\" must be a non-empty string");
	expect_error("{" BASE ", \"policy_groups\": \"root\"}", "unknown key \"policy_groups\"");
}

/* The config itself is held to the strict-mode rule, on the descriptor it is read from. */
static void test_strict_config(void)
{
	write_config("{" BASE "}");
	chmod(cfg_path, 0666);
	sg_config *cfg = NULL;
	CHECK_INT(sg_config_load(&cfg, cfg_path), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "signgate.json: writable by others (mode 0666, owner ");
	CHECK_INT(sg_config_load_flags(&cfg, cfg_path, SG_CONFIG_LENIENT), SG_OK);
	sg_config_free(cfg);
	chmod(cfg_path, 0600);
}

/*
 * What makes a file no config is the config's own error, said once where it
 * is found (no relabelling): a folder or a FIFO, a file over 1 MiB (exit 2);
 * strict or lenient. The file is never read past its size.
 */
static void test_not_a_config(void)
{
	char other[600];
	size_t big = 1024 * 1024 + 1;
	char *text = malloc(big + 1);
	sg_config *cfg = NULL;

	snprintf(other, sizeof(other), "%s/folder.json", tmpdir);
	CHECK(mkdir(other, 0700) == 0);
	for (unsigned flags = 0; flags <= SG_CONFIG_LENIENT; flags += SG_CONFIG_LENIENT) {
		CHECK_INT(sg_config_load_flags(&cfg, other, flags), SG_ERR_CONFIG);
		CHECK(cfg == NULL);
		CHECK_CONTAINS(sg_error_last(), "folder.json: the config is not a regular file");
	}
	rmdir(other);
	snprintf(other, sizeof(other), "%s/fifo.json", tmpdir);
	CHECK(mkfifo(other, 0600) == 0);
	for (unsigned flags = 0; flags <= SG_CONFIG_LENIENT; flags += SG_CONFIG_LENIENT) {
		CHECK_INT(sg_config_load_flags(&cfg, other, flags), SG_ERR_CONFIG);
		CHECK_CONTAINS(sg_error_last(), "fifo.json: the config is not a regular file");
	}
	unlink(other);
	if (!text)
		exit(2);
	memset(text, ' ', big);
	text[0] = '{';
	text[big - 1] = '}';
	text[big] = '\0';
	write_config(text);
	free(text);
	CHECK_INT(sg_config_load(&cfg, cfg_path), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "signgate.json: the config is larger than 1048576 bytes");
	CHECK_INT(sg_error_code(), SG_ERR_CONFIG);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(cfg_path, sizeof(cfg_path), "%s/signgate.json", tmpdir);
	/* As signgate loads a config: the key sources' table judges the key settings. */
	sg_config_set_checker(sg_keys_check_config);
	test_minimal_and_defaults();
	test_full();
	test_syntax_errors();
	test_unknown_keys();
	test_missing_and_wrong_types();
	test_signing_errors();
	test_osslsigncode();
	test_confinement();
	test_missing_file();
	test_signing_secret();
	test_audit_seal();
	test_approvers_ca();
	test_groups();
	test_strict_config();
	test_not_a_config();
	unlink(cfg_path);
	if (rmdir(tmpdir) != 0) {
		perror(tmpdir);
		check_failed++;
	}
	return check_done();
}

/*
 * Unit tests for lib/config.c: config files written into a mkdtemp() folder,
 * loaded, and checked for resolved paths, defaults and the exact error for
 * each kind of mistake.
 */
#include "signgate/config.h"
#include "signgate/error.h"

#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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
	CHECK(cfg->secret_file == NULL);
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
		"  \"audit_log\": \"../audit.jsonl\",\n"
		"  \"trust\": { \"ca_file\": \"pki/root.pem\", \"tsa_ca_file\": \"pki/tsa.pem\",\n"
		"             \"crl_file\": \"/pki/ca.crl\", \"ignore_crl\": true },\n"
		"  \"signing\": { \"pkcs12\": \"pki/signer.p12\",\n"
		"               \"password_file\": \"pki/pass\",\n"
		"               \"timestamp_urls\": [\"http://tsa.one/\", \"https://tsa.two/x\"],\n"
		"               \"timestamp_timeout\": 30 },\n"
		"  \"osslsigncode\": \"/opt/osslsigncode/bin/osslsigncode\" }\n");

	CHECK_STR(cfg->policy, "/srv/policy.json"); /* absolute paths are kept */
	CHECK_STR(cfg->audit_log, in_tmp("../audit.jsonl"));
	CHECK_STR(cfg->ca_file, in_tmp("pki/root.pem"));
	CHECK_STR(cfg->tsa_ca_file, in_tmp("pki/tsa.pem"));
	CHECK_STR(cfg->crl_file, "/pki/ca.crl");
	CHECK_INT(cfg->ignore_crl, 1);
	CHECK_STR(cfg->pkcs12, in_tmp("pki/signer.p12"));
	CHECK_STR(cfg->secret_file, in_tmp("pki/pass"));
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
	CHECK(cfg->pkcs12 == NULL && cfg->secret_file == NULL);
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
	expect_error("{ " BASE ", \"signing\": { \"pkcs12\": \"s.p12\", \"cert_chain\": \"c.pem\", "
		     "\"key\": \"k.pem\" } }",
		     "names both \"pkcs12\" and \"cert_chain\"/\"key\"; choose one key source");
	expect_error("{ " BASE ", \"signing\": { \"pkcs12\": \"s.p12\", \"key\": \"k.pem\" } }",
		     "names both \"pkcs12\"");
	expect_error("{ " BASE ", \"signing\": { \"cert_chain\": \"c.pem\" } }",
		     "\"signing.cert_chain\" and \"signing.key\" go together");
	expect_error("{ " BASE ", \"signing\": { \"key\": \"k.pem\" } }",
		     "\"signing.cert_chain\" and \"signing.key\" go together");

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

static void test_missing_file(void)
{
	sg_config *cfg = (sg_config *)&cfg;

	sg_error_clear();
	CHECK_INT(sg_config_load(&cfg, in_tmp("absent.json")), SG_ERR_CONFIG);
	CHECK(cfg == NULL);
	CHECK_CONTAINS(sg_error_last(), in_tmp("absent.json"));
	CHECK_CONTAINS(sg_error_last(), "cannot read");
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(cfg_path, sizeof(cfg_path), "%s/signgate.json", tmpdir);
	test_minimal_and_defaults();
	test_full();
	test_syntax_errors();
	test_unknown_keys();
	test_missing_and_wrong_types();
	test_signing_errors();
	test_osslsigncode();
	test_missing_file();
	unlink(cfg_path);
	if (rmdir(tmpdir) != 0) {
		perror(tmpdir);
		check_failed++;
	}
	return check_done();
}

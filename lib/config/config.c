/* The JSON config file; see include/signgate/config.h. */
#include "signgate/config.h"
#include "signgate/error.h"
#include "signgate/strict.h"
#include "signgate/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#ifndef SG_OSSLSIGNCODE_DEFAULT
#define SG_OSSLSIGNCODE_DEFAULT "/usr/bin/osslsigncode"
#endif

#define DEFAULT_TS_TIMEOUT 60
#define CONFIG_MAX         (1024 * 1024)

static int check_keys(const json_t *obj, const char *const allowed[], const char *where,
		      const char *file)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)obj, key, val) {
		int known = 0;
		for (size_t i = 0; allowed[i] && !known; i++)
			known = strcmp(key, allowed[i]) == 0;
		if (!known)
			return sg_error_set(SG_ERR_CONFIG, "%s: unknown key \"%s%s\"", file, where,
					    key);
	}
	return SG_OK;
}

static int get_string(char **out, const sg_config *cfg, const json_t *obj, const char *key,
		      const char *where)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return SG_OK;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return sg_error_set(SG_ERR_CONFIG, "%s: \"%s%s\" must be a non-empty string",
				    cfg->path, where, key);
	*out = strdup(json_string_value(v));
	return *out ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/* Resolve an optional string path at obj[key] into *out (left NULL when absent). */
static int get_path(char **out, const sg_config *cfg, const json_t *obj, const char *key,
		    const char *where)
{
	char *given = NULL;
	int error = get_string(&given, cfg, obj, key, where);

	if (error || !given)
		return error;
	*out = sg_path_resolve(cfg->dir, given);
	free(given);
	return *out ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

static int get_object(json_t **out, const sg_config *cfg, const json_t *root, const char *key)
{
	*out = json_object_get(root, key);
	if (*out && !json_is_object(*out))
		return sg_error_set(SG_ERR_CONFIG, "%s: \"%s\" must be an object", cfg->path, key);
	return SG_OK;
}

static int load_trust(sg_config *cfg, const json_t *root)
{
	static const char *const keys[] = { "ca_file",           "tsa_ca_file",
					    "crl_file",          "ignore_crl",
					    "approvers_ca_file", "approvers_crl_file",
					    "require_cosign",    NULL };
	json_t *trust, *v;
	int error = get_object(&trust, cfg, root, "trust");

	if (error || !trust)
		return error ? error
			     : sg_error_set(SG_ERR_CONFIG,
					    "%s: \"trust\" with \"ca_file\" is required",
					    cfg->path);
	if ((error = check_keys(trust, keys, "trust.", cfg->path)) ||
	    (error = get_path(&cfg->ca_file, cfg, trust, "ca_file", "trust.")) ||
	    (error = get_path(&cfg->tsa_ca_file, cfg, trust, "tsa_ca_file", "trust.")) ||
	    (error = get_path(&cfg->crl_file, cfg, trust, "crl_file", "trust.")) ||
	    (error = get_path(&cfg->approvers_ca_file, cfg, trust, "approvers_ca_file",
			      "trust.")) ||
	    (error = get_path(&cfg->approvers_crl_file, cfg, trust, "approvers_crl_file",
			      "trust.")))
		return error;
	v = json_object_get(trust, "require_cosign");
	if (v && !json_is_boolean(v))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"trust.require_cosign\" must be true or false",
				    cfg->path);
	cfg->require_cosign = v && json_is_true(v);
	if (cfg->require_cosign && !cfg->approvers_ca_file)
		return sg_error_set(
			SG_ERR_CONFIG,
			"%s: \"trust.require_cosign\" needs \"trust.approvers_ca_file\" "
			"to check the approvers' signatures with",
			cfg->path);
	if (!cfg->ca_file)
		return sg_error_set(SG_ERR_CONFIG, "%s: \"trust.ca_file\" is required", cfg->path);
	v = json_object_get(trust, "ignore_crl");
	if (v && !json_is_boolean(v))
		return sg_error_set(SG_ERR_CONFIG, "%s: \"trust.ignore_crl\" must be true or false",
				    cfg->path);
	cfg->ignore_crl = v && json_is_true(v);
	return SG_OK;
}

static int load_ts_urls(sg_config *cfg, const json_t *signing)
{
	json_t *urls = json_object_get(signing, "timestamp_urls"), *v;
	size_t i;

	if (!urls)
		return SG_OK;
	if (!json_is_array(urls))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"signing.timestamp_urls\" must be an array of URLs",
				    cfg->path);
	cfg->timestamp_urls = calloc(json_array_size(urls) + 1, sizeof(char *));
	if (!cfg->timestamp_urls)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	json_array_foreach(urls, i, v) {
		const char *s = json_string_value(v);
		if (!s || (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)))
			return sg_error_set(SG_ERR_CONFIG,
					    "%s: signing.timestamp_urls[%zu] must be an http:// "
					    "or https:// URL",
					    cfg->path, i);
		if (!(cfg->timestamp_urls[i] = strdup(s)))
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		cfg->n_timestamp_urls = i + 1;
	}
	return SG_OK;
}

/* A "*_prompt" value: true or false. */
static int get_bool(int *out, const sg_config *cfg, const json_t *obj, const char *key,
		    const char *where)
{
	json_t *v = json_object_get(obj, key);

	if (v && !json_is_boolean(v))
		return sg_error_set(SG_ERR_CONFIG, "%s: \"%s%s\" must be true or false", cfg->path,
				    where, key);
	*out = v && json_is_true(v);
	return SG_OK;
}

static int valid_env_name(const char *name)
{
	if (!*name || isdigit((unsigned char)*name))
		return 0;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && *name != '_')
			return 0;
	return 1;
}

/* "pkcs11_env": {"NAME": "value"}: what the token's module needs, passed to the child only. */
static int load_pkcs11_env(sg_config *cfg, const json_t *signing)
{
	json_t *env = json_object_get(signing, "pkcs11_env"), *v;
	const char *name;
	size_t n = 0;

	if (!env)
		return SG_OK;
	if (!json_is_object(env))
		return sg_error_set(SG_ERR_CONFIG, "%s: \"signing.pkcs11_env\" must be an object",
				    cfg->path);
	cfg->pkcs11_env = calloc(json_object_size(env) + 1, sizeof(char *));
	if (!cfg->pkcs11_env)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	json_object_foreach(env, name, v) {
		size_t len;
		if (!valid_env_name(name) || !json_is_string(v) ||
		    strchr(json_string_value(v), '\n'))
			return sg_error_set(SG_ERR_CONFIG,
					    "%s: \"signing.pkcs11_env.%s\" must be NAME: \"value\" "
					    "(letters, digits, _)",
					    cfg->path, name);
		/*
		 * Set in the key helper before OpenSSL loads the "pkcs11" engine:
		 * OPENSSL_ENGINES would load any pkcs11.so, past the strict check
		 * of "pkcs11_engine".
		 */
		if (!strncmp(name, "OPENSSL_", 8) || !strncmp(name, "LD_", 3))
			return sg_error_set(SG_ERR_CONFIG,
					    "%s: \"signing.pkcs11_env.%s\" is for OpenSSL or the "
					    "loader, not the token's module (an engine: "
					    "\"pkcs11_engine\")",
					    cfg->path, name);
		/* A module loaded by the module: held to the rule as a path (config_strict.c). */
		if (strcmp(name, "PKCS11SPY") == 0 && json_string_value(v)[0] != '/')
			return sg_error_set(
				SG_ERR_CONFIG,
				"%s: \"signing.pkcs11_env.PKCS11SPY\" must be an absolute "
				"path (the module pkcs11-spy loads)",
				cfg->path);
		len = strlen(name) + json_string_length(v) + 2;
		if (!(cfg->pkcs11_env[n] = malloc(len)))
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		snprintf(cfg->pkcs11_env[n++], len, "%s=%s", name, json_string_value(v));
	}
	return SG_OK;
}

/*
 * At most one secret source in obj (the "signing" or "audit_seal" section);
 * PIN names go with a token, password names without.
 */
static int load_secret_source(sg_secret_source *src, const sg_config *cfg, const json_t *obj,
			      const char *section, int token)
{
	const char *kind = token ? "pin" : "password";
	const char *other = token ? "password" : "pin";
	char key[32], where[32];
	int error, sources;

	snprintf(where, sizeof(where), "%s.", section);
	src->section = section;
	src->name = token ? "PIN" : "password";
	for (const char *const *s = (const char *const[]){ "_file", "_env", "_prompt", NULL }; *s;
	     s++) {
		snprintf(key, sizeof(key), "%s%s", other, *s);
		if (json_object_get(obj, key))
			return sg_error_set(SG_ERR_CONFIG,
					    "%s: \"%s%s\" does not fit this key source; "
					    "use \"%s%s\"",
					    cfg->path, where, key, kind, *s);
	}
	snprintf(key, sizeof(key), "%s_file", kind);
	if ((error = get_path(&src->file, cfg, obj, key, where)))
		return error;
	snprintf(key, sizeof(key), "%s_env", kind);
	if ((error = get_string(&src->env, cfg, obj, key, where)))
		return error;
	if (src->env && !valid_env_name(src->env))
		return sg_error_set(SG_ERR_CONFIG, "%s: \"%s%s\" must name a variable", cfg->path,
				    where, key);
	snprintf(key, sizeof(key), "%s_prompt", kind);
	if ((error = get_bool(&src->prompt, cfg, obj, key, where)))
		return error;
	sources = !!src->file + !!src->env + !!src->prompt;
	if (sources > 1)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"%s\" names more than one source for the %s "
				    "(choose one of %s_file, %s_env, %s_prompt)",
				    cfg->path, section, kind, kind, kind, kind);
	return SG_OK;
}

/*
 * The key's settings, read as they are. Which of them go together is the
 * key sources' table's to say (lib/keys, the row's config_keys and check):
 * it judges them as the config loads (the checker hook) and again whenever
 * a key is opened, so without the hook nothing unjudged reaches a key.
 */
static int load_key_source(sg_config *cfg, const json_t *signing)
{
	json_t *key = json_object_get(signing, "key");
	int is_uri = json_is_string(key) && strncmp(json_string_value(key), "pkcs11:", 7) == 0;
	int error;

	if ((error = get_string(&cfg->key_source, cfg, signing, "key_source", "signing.")) ||
	    (error = get_path(&cfg->pkcs12, cfg, signing, "pkcs12", "signing.")) ||
	    (error = get_path(&cfg->cert_chain, cfg, signing, "cert_chain", "signing.")) ||
	    (error = get_path(&cfg->pkcs11_module, cfg, signing, "pkcs11_module", "signing.")) ||
	    (error = get_path(&cfg->pkcs11_engine, cfg, signing, "pkcs11_engine", "signing.")) ||
	    (error = is_uri ? get_string(&cfg->key, cfg, signing, "key", "signing.")
			    : get_path(&cfg->key, cfg, signing, "key", "signing.")) ||
	    (error = load_pkcs11_env(cfg, signing)))
		return error;
	return SG_OK;
}

/*
 * "pkcs11_paths": files or folders the token needs to read and write (a
 * SoftHSM token folder), resolved like other paths; "pkcs11_network": the
 * module may use the network (a network HSM). What the key helper's
 * confinement allows beyond the key material (lib/key_allow.c).
 */
static int load_pkcs11_allowances(sg_config *cfg, const json_t *signing)
{
	json_t *paths = json_object_get(signing, "pkcs11_paths"), *v;
	size_t i;
	int error = get_bool(&cfg->pkcs11_network, cfg, signing, "pkcs11_network", "signing.");

	if (error || !paths)
		return error;
	if (!json_is_array(paths))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"signing.pkcs11_paths\" must be an array of paths",
				    cfg->path);
	cfg->pkcs11_paths = calloc(json_array_size(paths) + 1, sizeof(char *));
	if (!cfg->pkcs11_paths)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	json_array_foreach (paths, i, v) {
		if (!json_is_string(v) || !json_string_value(v)[0])
			return sg_error_set(SG_ERR_CONFIG,
					    "%s: signing.pkcs11_paths[%zu] must be a path", cfg->path,
					    i);
		if (!(cfg->pkcs11_paths[i] = sg_path_resolve(cfg->dir, json_string_value(v))))
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	return SG_OK;
}

/* An optional integer KEY of "signing" within lo..hi, or a config error naming the key. */
static int get_ts_int(int *out, const sg_config *cfg, const json_t *signing, const char *key,
		      int lo, int hi, const char *unit)
{
	json_t *v = json_object_get(signing, key);

	if (!v)
		return SG_OK;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return sg_error_set(SG_ERR_CONFIG, "%s: \"signing.%s\" must be %d..%d%s", cfg->path,
				    key, lo, hi, unit);
	*out = (int)json_integer_value(v);
	return SG_OK;
}

static int load_timestamp(sg_config *cfg, const json_t *signing)
{
	json_t *v = json_object_get(signing, "timestamp_timeout");
	const char *mode = json_string_value(json_object_get(signing, "timestamp"));
	int error = load_ts_urls(cfg, signing);

	if (error)
		return error;
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 3600))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"signing.timestamp_timeout\" must be 1..3600 seconds",
				    cfg->path);
	if (v)
		cfg->timestamp_timeout = (int)json_integer_value(v);
	/* Retries per TSA, as jsign has them (lib/sign/timestamp_retry.c). */
	if ((error = get_ts_int(&cfg->timestamp_retries, cfg, signing, "timestamp_retries", 0,
				SG_TS_RETRIES_MAX, "")) ||
	    (error = get_ts_int(&cfg->timestamp_retry_wait, cfg, signing, "timestamp_retry_wait",
				0, SG_TS_RETRY_WAIT_MAX, " seconds")))
		return error;
	if (json_object_get(signing, "timestamp") &&
	    (!mode || (strcmp(mode, "required") && strcmp(mode, "optional"))))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"signing.timestamp\" must be \"required\" or "
				    "\"optional\"",
				    cfg->path);
	/* Required by default whenever TSAs are configured; asked for without any, an error. */
	cfg->timestamp_required = mode ? strcmp(mode, "required") == 0 : cfg->n_timestamp_urls > 0;
	if (cfg->timestamp_required && cfg->n_timestamp_urls == 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"signing.timestamp\" is \"required\" but "
				    "\"signing.timestamp_urls\" names no TSA",
				    cfg->path);
	return SG_OK;
}

static int load_signing(sg_config *cfg, const json_t *root)
{
	static const char *const keys[] = { "key_source",
					    "pkcs12",
					    "cert_chain",
					    "key",
					    "pkcs11_module",
					    "pkcs11_engine",
					    "pkcs11_env",
					    "pkcs11_paths",
					    "pkcs11_network",
					    "password_file",
					    "password_env",
					    "password_prompt",
					    "pin_file",
					    "pin_env",
					    "pin_prompt",
					    "certificate",
					    "timestamp_urls",
					    "timestamp",
					    "timestamp_timeout",
					    "timestamp_retries",
					    "timestamp_retry_wait",
					    NULL };
	json_t *signing;
	int error = get_object(&signing, cfg, root, "signing");

	cfg->secret.name = "password";
	cfg->secret.section = "signing";
	if (error || !signing)
		return error;
	if ((error = check_keys(signing, keys, "signing.", cfg->path)) ||
	    (error = load_key_source(cfg, signing)) ||
	    (error = load_pkcs11_allowances(cfg, signing)) ||
	    (error = load_secret_source(&cfg->secret, cfg, signing, "signing",
					cfg->pkcs11_module != NULL)) ||
	    (error = get_path(&cfg->certificate, cfg, signing, "certificate", "signing.")) ||
	    (error = load_timestamp(cfg, signing)))
		return error;
	if (cfg->pkcs11_module &&
	    json_string_value(json_object_get(signing, "pkcs11_module"))[0] != '/')
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"signing.pkcs11_module\" must be an absolute path",
				    cfg->path);
	return SG_OK;
}

static int facility_of(const char *name)
{
	static const struct {
		const char *name;
		int value;
	} names[] = { { "user", LOG_USER },         { "auth", LOG_AUTH },
		      { "authpriv", LOG_AUTHPRIV }, { "daemon", LOG_DAEMON },
		      { "local0", LOG_LOCAL0 },     { "local1", LOG_LOCAL1 },
		      { "local2", LOG_LOCAL2 },     { "local3", LOG_LOCAL3 },
		      { "local4", LOG_LOCAL4 },     { "local5", LOG_LOCAL5 },
		      { "local6", LOG_LOCAL6 },     { "local7", LOG_LOCAL7 } };

	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0)
			return names[i].value;
	return -1;
}

/* "audit_syslog": {"facility": "local0", "tag": "signgate"}: a copy of each record leaves. */
static int load_syslog(sg_config *cfg, const json_t *root)
{
	static const char *const keys[] = { "facility", "tag", NULL };
	json_t *obj;
	const char *tag;
	int error = get_object(&obj, cfg, root, "audit_syslog");

	cfg->syslog_facility = -1;
	if (error || !obj)
		return error;
	if ((error = check_keys(obj, keys, "audit_syslog.", cfg->path)))
		return error;
	cfg->syslog_facility = facility_of(json_string_value(json_object_get(obj, "facility")));
	if (cfg->syslog_facility < 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"audit_syslog.facility\" must be user, auth, authpriv, "
				    "daemon or local0..local7",
				    cfg->path);
	tag = json_string_value(json_object_get(obj, "tag"));
	if (json_object_get(obj, "tag") && (!tag || !*tag || strlen(tag) > 48))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"audit_syslog.tag\" must be a short non-empty string",
				    cfg->path);
	cfg->syslog_tag = strdup(tag ? tag : "signgate");
	return cfg->syslog_tag ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/*
 * "audit_seal": the key that seals the log's head, with its certificate. The
 * key source is checked here; that it is not the code-signing key is checked
 * where both certificates are read (sg_audit_seal_create()).
 */
static int load_seal(sg_config *cfg, const json_t *root)
{
	static const char *const keys[] = { "key_source",
					    "key",
					    "cert",
					    "pkcs11_module",
					    "password_file",
					    "password_env",
					    "password_prompt",
					    "pin_file",
					    "pin_env",
					    "pin_prompt",
					    "file",
					    NULL };
	const char *where = "audit_seal.";
	json_t *seal, *key;
	int error = get_object(&seal, cfg, root, "audit_seal"), is_uri;

	if (error || !seal)
		return error;
	key = json_object_get(seal, "key");
	is_uri = json_is_string(key) && strncmp(json_string_value(key), "pkcs11:", 7) == 0;
	if ((error = check_keys(seal, keys, where, cfg->path)) ||
	    (error = is_uri ? get_string(&cfg->seal_key, cfg, seal, "key", where)
			    : get_path(&cfg->seal_key, cfg, seal, "key", where)) ||
	    (error = get_path(&cfg->seal_cert, cfg, seal, "cert", where)) ||
	    (error = get_string(&cfg->seal_key_source, cfg, seal, "key_source", where)) ||
	    (error = get_path(&cfg->seal_pkcs11_module, cfg, seal, "pkcs11_module", where)) ||
	    (error = get_path(&cfg->seal_file, cfg, seal, "file", where)))
		return error;
	if (!cfg->seal_key || !cfg->seal_cert)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"audit_seal\" needs \"key\" (a PEM key file or a "
				    "pkcs11: URI) and \"cert\" (its certificate, PEM)",
				    cfg->path);
	if (cfg->seal_pkcs11_module &&
	    json_string_value(json_object_get(seal, "pkcs11_module"))[0] != '/')
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"audit_seal.pkcs11_module\" must be an absolute path",
				    cfg->path);
	error = load_secret_source(&cfg->seal_secret, cfg, seal, "audit_seal", is_uri);
	if (error)
		return error;
	if (!cfg->seal_file) {
		size_t len = strlen(cfg->audit_log) + sizeof(".seals");

		if (!(cfg->seal_file = malloc(len)))
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		snprintf(cfg->seal_file, len, "%s.seals", cfg->audit_log);
	}
	if (strcmp(cfg->seal_file, cfg->audit_log) == 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"audit_seal.file\" must not be the audit log itself",
				    cfg->path);
	return SG_OK;
}

/* "policy_group" / "audit_group": the one group that may also write those files. */
static int load_group(gid_t *gid, int *has, const sg_config *cfg, const json_t *root,
		      const char *key)
{
	char *name = NULL;
	int error = get_string(&name, cfg, root, key, "");

	if (error || !name)
		return error;
	error = sg_strict_group(gid, name, cfg->path, key);
	*has = error == SG_OK;
	free(name);
	return error;
}

/*
 * "confinement": "auto" (the default) or "required" (signgate/confine.h).
 * Read here, not with sg_confine_mode_parse(): lib/config sits below
 * lib/confine (ARCHITECTURE.md).
 */
static int load_confinement(sg_config *cfg, const json_t *root)
{
	const json_t *v = json_object_get(root, "confinement");
	const char *mode = json_is_string(v) ? json_string_value(v) : NULL;

	if (v && (!mode || (strcmp(mode, "auto") != 0 && strcmp(mode, "required") != 0)))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"confinement\" must be \"auto\" or \"required\"",
				    cfg->path);
	cfg->confinement_required = mode && strcmp(mode, "required") == 0;
	return SG_OK;
}

static int load_top(sg_config *cfg, const json_t *root)
{
	static const char *const keys[] = {
		"policy",     "audit_log",    "trust",        "signing",     "audit_syslog",
		"audit_seal", "osslsigncode", "policy_group", "audit_group", "$comment",
		"confinement", NULL
	};
	const char *tool = json_string_value(json_object_get(root, "osslsigncode"));
	int error;

	if ((error = check_keys(root, keys, "", cfg->path)) ||
	    (error = get_path(&cfg->policy, cfg, root, "policy", "")) ||
	    (error = get_path(&cfg->audit_log, cfg, root, "audit_log", "")) ||
	    (error = get_path(&cfg->osslsigncode, cfg, root, "osslsigncode", "")) ||
	    (error = load_trust(cfg, root)) || (error = load_signing(cfg, root)) ||
	    (error = load_syslog(cfg, root)) ||
	    (error = load_group(&cfg->policy_gid, &cfg->has_policy_gid, cfg, root,
				"policy_group")) ||
	    (error = load_group(&cfg->audit_gid, &cfg->has_audit_gid, cfg, root, "audit_group")) ||
	    (error = load_confinement(cfg, root)))
		return error;
	if (!cfg->policy)
		return sg_error_set(SG_ERR_CONFIG, "%s: \"policy\" is required", cfg->path);
	if (!cfg->audit_log)
		return sg_error_set(SG_ERR_CONFIG, "%s: \"audit_log\" is required", cfg->path);
	if ((error = load_seal(cfg, root)))
		return error;
	if (!cfg->osslsigncode && !(cfg->osslsigncode = strdup(SG_OSSLSIGNCODE_DEFAULT)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (tool && tool[0] != '/') /* checked as written: get_path() made it absolute */
		return sg_error_set(SG_ERR_CONFIG, "%s: \"osslsigncode\" must be an absolute path",
				    cfg->path);
	return SG_OK;
}

/*
 * The bytes of the config open on `fd`. What makes a file no config (not a
 * regular file, too large) is a config error (exit 2); a failing read stays
 * an I/O error (exit 1), out of memory stays that.
 */
static int config_bytes(unsigned char **text, size_t *len, int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot stat the config: %s", path,
				    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sg_error_set(SG_ERR_CONFIG, "%s: the config is not a regular file", path);
	if ((uintmax_t)st.st_size > CONFIG_MAX)
		return sg_error_set(SG_ERR_CONFIG, "%s: the config is larger than %d bytes", path,
				    CONFIG_MAX);
	return sg_read_fd(text, len, fd, path, CONFIG_MAX, "config");
}

/* The config's bytes, read from the descriptor the strict-mode check opened. */
static json_t *read_config(const char *path, unsigned flags, int *error)
{
	sg_strict_rule rule;
	unsigned char *text = NULL;
	size_t len = 0;
	json_error_t jerr;
	json_t *root = NULL;
	int fd = -1;

	sg_strict_rule_init(&rule, geteuid());
	if (flags & SG_CONFIG_LENIENT)
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	else if ((*error = sg_strict_open(&fd, path, &rule, 0)) == SG_ERR_CONFIG)
		return NULL;
	*error = fd < 0 ? sg_error_set(SG_ERR_CONFIG, "%s: cannot read the config: %s", path,
				       strerror(errno))
			: config_bytes(&text, &len, fd, path);
	if (fd >= 0)
		close(fd);
	if (*error)
		return NULL;
	root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!root)
		*error = sg_error_set(SG_ERR_CONFIG, "%s:%d:%d: invalid JSON: %s", path, jerr.line,
				      jerr.column, jerr.text);
	else if (!json_is_object(root))
		*error = sg_error_set(SG_ERR_CONFIG, "%s: the config must be a JSON object", path);
	return root;
}

static sg_config_checker checker;

void sg_config_set_checker(sg_config_checker check)
{
	checker = check;
}

int sg_config_load_flags(sg_config **out, const char *path, unsigned flags)
{
	json_t *root = NULL;
	sg_config *cfg = calloc(1, sizeof(*cfg));
	int error = SG_OK;

	*out = NULL;
	if (!cfg || !(cfg->path = strdup(path)) || !(cfg->dir = sg_path_dir(path))) {
		sg_config_free(cfg);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	cfg->timestamp_timeout = DEFAULT_TS_TIMEOUT;
	cfg->timestamp_retries = SG_TS_RETRIES_DEFAULT;
	cfg->timestamp_retry_wait = SG_TS_RETRY_WAIT_DEFAULT;
	cfg->syslog_facility = -1;
	root = read_config(path, flags, &error);
	if (error == SG_OK)
		error = load_top(cfg, root);
	if (error == SG_OK && checker)
		error = checker(cfg);
	if (error == SG_OK && !(flags & SG_CONFIG_LENIENT))
		error = sg_config_check_files(cfg, geteuid(), NULL, flags);
	json_decref(root);
	if (error != SG_OK) {
		sg_config_free(cfg);
		return error;
	}
	*out = cfg;
	return SG_OK;
}

int sg_config_load(sg_config **out, const char *path)
{
	return sg_config_load_flags(out, path, 0);
}

int sg_config_require_signing(const sg_config *cfg)
{
	if (!cfg->pkcs12 && !cfg->key)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: no signing key: set \"signing.pkcs12\", "
				    "\"signing.cert_chain\" and \"signing.key\", or a PKCS#11 "
				    "\"signing.pkcs11_module\" with a \"pkcs11:\" key",
				    cfg->path);
	return SG_OK;
}

const char *sg_config_default_osslsigncode(void)
{
	return SG_OSSLSIGNCODE_DEFAULT;
}

void sg_config_free(sg_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->dir);
	free(cfg->policy);
	free(cfg->audit_log);
	free(cfg->ca_file);
	free(cfg->tsa_ca_file);
	free(cfg->crl_file);
	free(cfg->approvers_ca_file);
	free(cfg->approvers_crl_file);
	free(cfg->pkcs12);
	free(cfg->cert_chain);
	free(cfg->key);
	free(cfg->key_source);
	free(cfg->seal_key_source);
	free(cfg->secret.file);
	free(cfg->secret.env);
	free(cfg->seal_key);
	free(cfg->seal_cert);
	free(cfg->seal_pkcs11_module);
	free(cfg->seal_secret.file);
	free(cfg->seal_secret.env);
	free(cfg->seal_file);
	free(cfg->pkcs11_module);
	free(cfg->pkcs11_engine);
	for (size_t i = 0; cfg->pkcs11_env && cfg->pkcs11_env[i]; i++)
		free(cfg->pkcs11_env[i]);
	free(cfg->pkcs11_env);
	free(cfg->certificate);
	free(cfg->syslog_tag);
	for (size_t i = 0; cfg->pkcs11_paths && cfg->pkcs11_paths[i]; i++)
		free(cfg->pkcs11_paths[i]);
	free(cfg->pkcs11_paths);
	for (size_t i = 0; cfg->timestamp_urls && cfg->timestamp_urls[i]; i++)
		free(cfg->timestamp_urls[i]);
	free(cfg->timestamp_urls);
	free(cfg->osslsigncode);
	free(cfg);
}

void sg_config_secret_files(const char *out[SG_CONFIG_SECRET_FILES_MAX + 1], const sg_config *cfg)
{
	const char *files[SG_CONFIG_SECRET_FILES_MAX] = { cfg->pkcs12, cfg->key, cfg->secret.file,
							  cfg->seal_key, cfg->seal_secret.file };
	size_t n = 0;

	for (size_t i = 0; i < SG_CONFIG_SECRET_FILES_MAX; i++)
		if (files[i] && strncmp(files[i], "pkcs11:", 7) != 0)
			out[n++] = files[i];
	out[n] = NULL;
}

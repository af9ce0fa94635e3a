/* The JSON config file; see include/signgate/config.h. */
#include "signgate/config.h"
#include "signgate/error.h"
#include "signgate/util.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#ifndef SG_OSSLSIGNCODE_DEFAULT
#define SG_OSSLSIGNCODE_DEFAULT "/usr/bin/osslsigncode"
#endif

#define DEFAULT_TS_TIMEOUT 60

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

/* Resolve an optional string path at obj[key] into *out (left NULL when absent). */
static int get_path(char **out, const sg_config *cfg, const json_t *obj, const char *key,
		    const char *where)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return SG_OK;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return sg_error_set(SG_ERR_CONFIG, "%s: \"%s%s\" must be a non-empty string",
				    cfg->path, where, key);
	*out = sg_path_resolve(cfg->dir, json_string_value(v));
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
	static const char *const keys[] = { "ca_file", "tsa_ca_file", "crl_file", "ignore_crl",
					    NULL };
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
	    (error = get_path(&cfg->crl_file, cfg, trust, "crl_file", "trust.")))
		return error;
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

static int load_signing(sg_config *cfg, const json_t *root)
{
	static const char *const keys[] = { "pkcs12",         "password_file",
					    "cert_chain",     "key",
					    "timestamp_urls", "timestamp_timeout",
					    "certificate",    NULL };
	json_t *signing, *v;
	int error = get_object(&signing, cfg, root, "signing");

	if (error || !signing)
		return error;
	if ((error = check_keys(signing, keys, "signing.", cfg->path)) ||
	    (error = get_path(&cfg->pkcs12, cfg, signing, "pkcs12", "signing.")) ||
	    (error = get_path(&cfg->cert_chain, cfg, signing, "cert_chain", "signing.")) ||
	    (error = get_path(&cfg->key, cfg, signing, "key", "signing.")) ||
	    (error = get_path(&cfg->password_file, cfg, signing, "password_file", "signing.")) ||
	    (error = get_path(&cfg->certificate, cfg, signing, "certificate", "signing.")) ||
	    (error = load_ts_urls(cfg, signing)))
		return error;
	if (cfg->pkcs12 && (cfg->cert_chain || cfg->key))
		return sg_error_set(
			SG_ERR_CONFIG,
			"%s: \"signing\" names both \"pkcs12\" and \"cert_chain\"/\"key\"; "
			"choose one key source",
			cfg->path);
	if (!cfg->pkcs12 && (!cfg->cert_chain != !cfg->key))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"signing.cert_chain\" and \"signing.key\" go together",
				    cfg->path);
	v = json_object_get(signing, "timestamp_timeout");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 3600))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"signing.timestamp_timeout\" must be 1..3600 seconds",
				    cfg->path);
	if (v)
		cfg->timestamp_timeout = (int)json_integer_value(v);
	return SG_OK;
}

static int load_top(sg_config *cfg, const json_t *root)
{
	static const char *const keys[] = { "policy",       "audit_log", "trust", "signing",
					    "osslsigncode", "$comment",  NULL };
	const char *tool = json_string_value(json_object_get(root, "osslsigncode"));
	int error;

	if ((error = check_keys(root, keys, "", cfg->path)) ||
	    (error = get_path(&cfg->policy, cfg, root, "policy", "")) ||
	    (error = get_path(&cfg->audit_log, cfg, root, "audit_log", "")) ||
	    (error = get_path(&cfg->osslsigncode, cfg, root, "osslsigncode", "")) ||
	    (error = load_trust(cfg, root)) || (error = load_signing(cfg, root)))
		return error;
	if (!cfg->policy)
		return sg_error_set(SG_ERR_CONFIG, "%s: \"policy\" is required", cfg->path);
	if (!cfg->audit_log)
		return sg_error_set(SG_ERR_CONFIG, "%s: \"audit_log\" is required", cfg->path);
	if (!cfg->osslsigncode && !(cfg->osslsigncode = strdup(SG_OSSLSIGNCODE_DEFAULT)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (tool && tool[0] != '/') /* checked as written: get_path() made it absolute */
		return sg_error_set(SG_ERR_CONFIG, "%s: \"osslsigncode\" must be an absolute path",
				    cfg->path);
	return SG_OK;
}

int sg_config_load(sg_config **out, const char *path)
{
	json_error_t jerr;
	json_t *root = NULL;
	sg_config *cfg = calloc(1, sizeof(*cfg));
	int error;

	*out = NULL;
	if (!cfg || !(cfg->path = strdup(path)) || !(cfg->dir = sg_path_dir(path))) {
		sg_config_free(cfg);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	cfg->timestamp_timeout = DEFAULT_TS_TIMEOUT;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		error = jerr.line < 0
				? sg_error_set(SG_ERR_CONFIG, "%s: cannot read the config: %s",
					       path, jerr.text)
				: sg_error_set(SG_ERR_CONFIG, "%s:%d:%d: invalid JSON: %s", path,
					       jerr.line, jerr.column, jerr.text);
	} else if (!json_is_object(root)) {
		error = sg_error_set(SG_ERR_CONFIG, "%s: the config must be a JSON object", path);
	} else {
		error = load_top(cfg, root);
	}
	json_decref(root);
	if (error != SG_OK) {
		sg_config_free(cfg);
		return error;
	}
	*out = cfg;
	return SG_OK;
}

int sg_config_require_signing(const sg_config *cfg)
{
	if (!cfg->pkcs12 && !cfg->key)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: no signing key: set \"signing.pkcs12\" or "
				    "\"signing.cert_chain\" and \"signing.key\"",
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
	free(cfg->pkcs12);
	free(cfg->cert_chain);
	free(cfg->key);
	free(cfg->password_file);
	free(cfg->certificate);
	for (size_t i = 0; cfg->timestamp_urls && cfg->timestamp_urls[i]; i++)
		free(cfg->timestamp_urls[i]);
	free(cfg->timestamp_urls);
	free(cfg->osslsigncode);
	free(cfg);
}

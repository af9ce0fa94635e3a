/*
 * The key sources' table and what every caller does with it; see
 * lib/key_source.h. A new key source is one file (lib/key_source_<name>.c)
 * and one row below.
 */
#include "key_source.h"
#include "signgate/error.h"

#include <stdio.h>
#include <string.h>

const sg_key_source_ops *const sg_key_sources[] = {
	&sg_key_source_pkcs12,
	&sg_key_source_pem,
	&sg_key_source_pkcs11_engine,
	&sg_key_source_pkcs11_provider,
	NULL,
};

void sg_key_view_signing(sg_key_view *out, const sg_config *cfg)
{
	memset(out, 0, sizeof(*out));
	out->config = cfg->path;
	out->section = "signing";
	out->source = cfg->key_source;
	out->pkcs12 = cfg->pkcs12;
	out->cert_chain = cfg->cert_chain;
	out->key = cfg->key;
	out->certificate = cfg->certificate;
	out->pkcs11_module = cfg->pkcs11_module;
	out->pkcs11_engine = cfg->pkcs11_engine;
	out->pkcs11_env = cfg->pkcs11_env;
	out->pkcs11_paths = cfg->pkcs11_paths;
	out->pkcs11_network = cfg->pkcs11_network;
	out->secret = &cfg->secret;
}

void sg_key_view_seal(sg_key_view *out, const sg_config *cfg)
{
	memset(out, 0, sizeof(*out));
	out->config = cfg->path;
	out->section = "audit_seal";
	out->source = cfg->seal_key_source;
	out->cert_chain = cfg->seal_cert;
	out->key = cfg->seal_key;
	out->certificate = cfg->seal_cert;
	out->pkcs11_module = cfg->seal_pkcs11_module;
	out->secret = &cfg->seal_secret;
}

static int unknown_source(const sg_key_view *v)
{
	char names[256] = "";
	size_t n = 0;

	for (size_t i = 0; sg_key_sources[i] && n < sizeof(names); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s\"%s\"", i ? ", " : "",
				      sg_key_sources[i]->name);
	return sg_error_set(SG_ERR_CONFIG, "%s: \"%s.key_source\" \"%s\" is none of %s", v->config,
			    v->section, v->source, names);
}

/* Whether the row reads the setting `name` (its config_keys column). */
static int row_reads(const sg_key_source_ops *ks, const char *name)
{
	for (size_t i = 0; ks->config_keys[i]; i++)
		if (strcmp(ks->config_keys[i], name) == 0)
			return 1;
	return 0;
}

/*
 * Which settings go together, in one place: every key setting the section
 * holds must be one its row reads (the config_keys column), so a token's
 * "pkcs11_env" beside a PEM key, a "key" beside "pkcs12" or an engine beside
 * the provider is refused, whichever row was named or implied.
 */
static int check_settings(const sg_key_source_ops *ks, const sg_key_view *v)
{
	const int seal = strcmp(v->section, "audit_seal") == 0;
	const struct {
		const char *name, *shown;
		int set;
	} s[] = { { "pkcs12", "pkcs12", v->pkcs12 != NULL },
		  { "key", "key", v->key != NULL },
		  { "cert_chain", seal ? "cert" : "cert_chain", v->cert_chain != NULL },
		  { "pkcs11_module", "pkcs11_module", v->pkcs11_module != NULL },
		  { "pkcs11_engine", "pkcs11_engine", v->pkcs11_engine != NULL },
		  { "pkcs11_env", "pkcs11_env", v->pkcs11_env != NULL },
		  { "pkcs11_paths", "pkcs11_paths", v->pkcs11_paths != NULL },
		  { "pkcs11_network", "pkcs11_network", v->pkcs11_network != 0 } };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		/* The seal's certificate is its own setting; every row may use it. */
		if (!s[i].set || row_reads(ks, s[i].name) || (seal && i == 2))
			continue;
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"%s.%s\" does not go with \"key_source\" \"%s\"%s (%s)",
				    v->config, v->section, s[i].shown, ks->name,
				    v->source ? "" : ", which the other settings imply", ks->title);
	}
	return SG_OK;
}

int sg_key_source_find(const sg_key_source_ops **out, const sg_key_view *v)
{
	const sg_key_source_ops *found = NULL;

	*out = NULL;
	for (size_t i = 0; !found && sg_key_sources[i]; i++) {
		const sg_key_source_ops *ks = sg_key_sources[i];
		if (v->source ? strcmp(v->source, ks->name) == 0
			      : ks->implied_by && ks->implied_by(v))
			found = ks;
	}
	if (!found && v->source)
		return unknown_source(v);
	if (!found)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"%s\" names no key (\"pkcs12\", or \"key\" with its "
				    "certificates, or \"key_source\")",
				    v->config, v->section);
	if (found->check) {
		int error = found->check(v);
		if (error)
			return error;
	}
	if (check_settings(found, v) != SG_OK)
		return SG_ERR_CONFIG;
	*out = found;
	return SG_OK;
}

int sg_key_open(sg_key *out, const sg_key_view *v, const sg_secret *secret, const char *what)
{
	const sg_key_source_ops *ks;
	int error = sg_key_source_find(&ks, v);

	memset(out, 0, sizeof(*out));
	if (error)
		return error;
	/* The module's environment (SOFTHSM2_CONF...), in this process only. */
	if (ks->set_env)
		ks->set_env(v);
	error = ks->private_key(out, v, secret, what);
	out->ops = ks;
	if (error)
		sg_key_close(out);
	return error;
}

void sg_key_close(sg_key *k)
{
	EVP_PKEY_free(k->pkey);
	if (k->keep && k->ops && k->ops->release)
		k->ops->release(k->keep);
	memset(k, 0, sizeof(*k));
}

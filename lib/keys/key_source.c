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
		return sg_error_set(SG_ERR_CONFIG, "%s: \"%s\" names no key", v->config,
				    v->section);
	if (found->check) {
		int error = found->check(v);
		if (error)
			return error;
	}
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

/*
 * Key source "pem": a PEM private key ("key", plain or encrypted with a
 * password) and its certificates in a PEM file ("cert_chain"; the sealing
 * key's "cert"). The key file must be private (sg_secret_check_file); once
 * the key is read no file is needed.
 */
#include "key_source.h"
#include "cms.h"
#include "signgate/error.h"
#include "signgate/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

static int read_key(EVP_PKEY **out, const sg_key_view *v, const sg_secret *secret, const char *what)
{
	static const sg_secret none = { 0 };
	char no_password[160];

	if (sg_secret_check_file(v->key) != SG_OK)
		return sg_error_code();
	if (v->section[0] == '-')
		snprintf(no_password, sizeof(no_password), "no password was given for it");
	else
		snprintf(no_password, sizeof(no_password),
			 "\"%s\" names no password (password_file, password_env or "
			 "password_prompt)",
			 v->section);
	return sg_pem_key_read(out, v->key, secret ? secret : &none, what, no_password);
}

/* The chain's certificate that matches the key becomes the leaf. */
static int material(sg_key_material *km, const sg_key_view *v, const sg_secret *secret)
{
	int error = read_key(&km->key, v, secret, "the key");

	if (error == SG_OK)
		error = sg_keys_read_chain(km, v->cert_chain);
	if (error)
		return error;
	for (int i = 0; i < sk_X509_num(km->chain); i++) {
		X509 *c = sk_X509_value(km->chain, i);
		if (X509_check_private_key(c, km->key) == 1) {
			km->cert = c;
			sk_X509_delete(km->chain, i);
			ERR_clear_error();
			return SG_OK;
		}
	}
	ERR_clear_error();
	return sg_error_set(SG_ERR_CRYPTO, "%s: no certificate in %s matches the key", v->key,
			    v->cert_chain);
}

static int private_key(sg_key *out, const sg_key_view *v, const sg_secret *secret, const char *what)
{
	return read_key(&out->pkey, v, secret, what);
}

static int implied_by(const sg_key_view *v)
{
	return !v->pkcs12 && !v->pkcs11_module && v->key && strncmp(v->key, "pkcs11:", 7) != 0;
}

static int check(const sg_key_view *v)
{
	if (!v->key || !v->cert_chain || v->pkcs11_module || strncmp(v->key, "pkcs11:", 7) == 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"%s.key_source\" \"pem\" needs \"key\" (a PEM key file) "
				    "and its certificates, and no \"pkcs11_module\"",
				    v->config, v->section);
	return SG_OK;
}

static void allow(sg_key_allow *a, const sg_key_view *v)
{
	sg_key_allow_read(a, v->key);
	sg_key_allow_read(a, v->cert_chain);
}

static const char *const keys[] = { "key",          "cert_chain",      "password_file",
				    "password_env", "password_prompt", NULL };

const sg_key_source_ops sg_key_source_pem = {
	.name = "pem",
	.title = "PEM key and chain",
	.config_keys = keys,
	.secret = "password",
	.key_in_file = 1,
	.implied_by = implied_by,
	.check = check,
	.material = material,
	.private_key = private_key,
	.allow = allow,
};

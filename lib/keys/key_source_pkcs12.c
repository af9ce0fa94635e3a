/*
 * Key source "pkcs12": the key and its certificates in one PKCS#12 file
 * ("signing.pkcs12"), opened with a password. The file must be private
 * (sg_secret_check_file); once the key is read no file is needed.
 */
#include "key_source.h"
#include "signgate/error.h"
#include "signgate/util.h"

#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>

static int parse(const char *path, const sg_secret *secret, EVP_PKEY **key, X509 **cert,
		 STACK_OF(X509) * *chain)
{
	const char *pass = secret && secret->data ? secret->data : "";
	PKCS12 *p12 = NULL;
	BIO *bio;
	int error = SG_OK;

	if (sg_secret_check_file(path) != SG_OK)
		return sg_error_code();
	bio = BIO_new_file(path, "rb");
	p12 = bio ? d2i_PKCS12_bio(bio, NULL) : NULL;
	if (!bio)
		error = sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	else if (!p12)
		error = sg_error_set(SG_ERR_CRYPTO, "%s: not a PKCS#12 file", path);
	else if (!PKCS12_parse(p12, pass, key, cert, chain))
		error = sg_error_set(
			SG_ERR_CRYPTO,
			"%s: cannot open the PKCS#12 file: wrong password or damaged file", path);
	else if (!*key || !*cert)
		error = sg_error_set(SG_ERR_CRYPTO,
				     "%s: the PKCS#12 file holds no key and certificate", path);
	PKCS12_free(p12);
	BIO_free(bio);
	ERR_clear_error();
	sg_secret_scrub_stack();
	return error;
}

static int material(sg_key_material *km, const sg_key_view *v, const sg_secret *secret)
{
	return parse(v->pkcs12, secret, &km->key, &km->cert, &km->chain);
}

static int private_key(sg_key *out, const sg_key_view *v, const sg_secret *secret, const char *what)
{
	X509 *cert = NULL;
	STACK_OF(X509) *chain = NULL;
	int error = parse(v->pkcs12, secret, &out->pkey, &cert, &chain);

	(void)what;
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	return error;
}

static int implied_by(const sg_key_view *v)
{
	return v->pkcs12 != NULL;
}

static int check(const sg_key_view *v)
{
	if (!v->pkcs12)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"%s.key_source\" \"pkcs12\" needs \"%s.pkcs12\"",
				    v->config, v->section, v->section);
	return SG_OK;
}

static void allow(sg_key_allow *a, const sg_key_view *v)
{
	sg_key_allow_read(a, v->pkcs12);
}

static const char *const keys[] = { "pkcs12", "password_file", "password_env", "password_prompt",
				    NULL };

const sg_key_source_ops sg_key_source_pkcs12 = {
	.name = "pkcs12",
	.title = "PKCS#12 file",
	.config_keys = keys,
	.secret = "password",
	.key_in_file = 1,
	.implied_by = implied_by,
	.check = check,
	.material = material,
	.private_key = private_key,
	.allow = allow,
};

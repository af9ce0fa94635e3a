/*
 * Opening key material through the key sources' table (lib/keys/key_source.h),
 * and the helpers its rows share; see include/signgate/keys.h.
 */
#include "signgate/keys.h"
#include "key_source.h"
#include "signgate/error.h"
#include "signgate/secret.h"
#include "signgate/strict.h"
#include "signgate/util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

void sg_key_material_free(sg_key_material *km)
{
	EVP_PKEY_free(km->key);
	X509_free(km->cert);
	sk_X509_pop_free(km->chain, X509_free);
	memset(km, 0, sizeof(*km));
}

/* Larger than any certificate file (a PEM bundle of the whole trust store). */
#define CERT_FILE_MAX (16u * 1024 * 1024)

/*
 * The PEM file at `path` as a memory BIO over *buf (free() it after the
 * BIO), read without blocking: a FIFO or a device is refused, never waited
 * on. NULL with the error set.
 */
static BIO *pem_bio(const char *path, unsigned char **buf)
{
	size_t len = 0;
	BIO *bio;

	*buf = NULL;
	if (sg_read_file(buf, &len, path, CERT_FILE_MAX, NULL, 0) != SG_OK)
		return NULL;
	bio = len <= INT_MAX ? BIO_new_mem_buf(*buf, (int)len) : NULL;
	if (!bio) {
		free(*buf);
		*buf = NULL;
		sg_error_set(SG_ERR_NOMEM, "%s: out of memory", path);
	}
	return bio;
}

int sg_keys_read_chain(sg_key_material *km, const char *path)
{
	unsigned char *pem;
	BIO *bio = pem_bio(path, &pem);
	X509 *x;

	if (!bio)
		return sg_error_code();
	km->chain = sk_X509_new_null();
	while (km->chain && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(km->chain, x))
			X509_free(x);
	BIO_free(bio);
	free(pem);
	ERR_clear_error();
	if (!km->chain || sk_X509_num(km->chain) == 0)
		return sg_error_set(SG_ERR_CRYPTO, "%s: no PEM certificate found", path);
	return SG_OK;
}

X509 *sg_keys_read_cert(const char *path)
{
	unsigned char *pem;
	BIO *bio = pem_bio(path, &pem);
	X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	if (bio && !cert)
		sg_error_set(SG_ERR_CONFIG, "%s: no PEM certificate found", path);
	BIO_free(bio);
	free(pem);
	ERR_clear_error();
	return cert;
}

/* The token's leaf: the chain's certificate equal to "signing.certificate", else the first. */
static int pick_token_leaf(sg_key_material *km, const sg_key_view *v)
{
	X509 *want = v->certificate ? sg_keys_read_cert(v->certificate) : NULL;
	int pick = 0;

	if (v->certificate && !want)
		return sg_error_code();
	for (int i = 0; want && i < sk_X509_num(km->chain); i++)
		if (X509_cmp(sk_X509_value(km->chain, i), want) == 0)
			pick = i;
	X509_free(want);
	km->cert = sk_X509_delete(km->chain, pick);
	return SG_OK;
}

int sg_keys_module_file(const char *module)
{
	struct stat st;

	if (stat(module, &st) != 0)
		return sg_error_set(SG_ERR_TOOL, "%s: cannot use the PKCS#11 module: %s", module,
				    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sg_error_set(SG_ERR_TOOL, "%s: the PKCS#11 module is not a file", module);
	return SG_OK;
}

int sg_keys_check_module_strict(const char *module, const char *option)
{
	sg_strict_rule rule;
	char *found;
	int error;

	if (module[0] != '/')
		return sg_error_set(SG_ERR_CONFIG, "%s %s: must be an absolute path", option,
				    module);
	sg_strict_rule_init(&rule, geteuid());
	error = sg_strict_check(NULL, module, &rule, 0);
	if (error == SG_ERR_CONFIG && (found = strdup(sg_error_last())) != NULL) {
		error = sg_error_set(error,
				     "%s %s: %s (the module runs with the key: whoever may "
				     "replace it signs anything)",
				     option, module, found);
		free(found);
	}
	if (error == SG_OK)
		error = sg_keys_module_file(module);
	if (error == SG_OK)
		error = sg_config_check_openssl(geteuid(), NULL);
	return error;
}

int sg_keys_token_material(sg_key_material *km, const sg_key_view *v)
{
	int error = sg_keys_module_file(v->pkcs11_module);

	if (error)
		return error;
	error = sg_keys_read_chain(km, v->cert_chain);
	if (error == SG_OK)
		error = pick_token_leaf(km, v);
	km->in_token = 1;
	return error;
}

void sg_keys_put_env(const sg_key_view *v)
{
	for (size_t i = 0; v->pkcs11_env && v->pkcs11_env[i]; i++)
		putenv(v->pkcs11_env[i]);
}

/* `query` (a pkcs11: URI's part after '?') names `attr` ("pin-value") as an attribute. */
static int query_names(const char *query, const char *attr)
{
	size_t n = strlen(attr);

	for (const char *p = query; p && *p; p += strcspn(p, "&"), p += *p == '&') {
		if (strncasecmp(p, attr, n) == 0 && (p[n] == '=' || p[n] == '&' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

int sg_keys_check_token(const sg_key_view *v)
{
	const char *query;

	if (!v->pkcs11_module || v->pkcs11_module[0] != '/' || !v->key ||
	    strncmp(v->key, "pkcs11:", 7) != 0 || !v->cert_chain || v->pkcs12)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"%s.key_source\" \"%s\" needs \"pkcs11_module\" (an "
				    "absolute path), \"key\" (a pkcs11: URI) and the certificates",
				    v->config, v->section, v->source ? v->source : "pkcs11-engine");
	/*
	 * The PIN comes from pin_file, pin_env or pin_prompt only: one in the URI
	 * would sit in the config, and a pin-source file would skip the checks
	 * of a secret file (owner, mode, no link).
	 */
	query = strchr(v->key, '?');
	if (query_names(query ? query + 1 : NULL, "pin-value") ||
	    query_names(query ? query + 1 : NULL, "pin-source"))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"%s.key\" names a PIN in the pkcs11: URI (pin-value or "
				    "pin-source): give it with \"pin_file\", \"pin_env\" or "
				    "\"pin_prompt\" instead",
				    v->config, v->section);
	return SG_OK;
}

int sg_keys_open(sg_key_material *out, const sg_config *cfg, const sg_secret *secret)
{
	const sg_key_source_ops *ks = NULL;
	sg_key_view v;
	int error;

	memset(out, 0, sizeof(*out));
	sg_key_view_signing(&v, cfg);
	error = sg_config_require_signing(cfg);
	if (error == SG_OK)
		error = sg_key_source_find(&ks, &v);
	if (error == SG_OK)
		error = ks->material(out, &v, secret);
	sg_secret_scrub_stack();
	if (error)
		sg_key_material_free(out);
	return error;
}

int sg_keys_check_config(const sg_config *cfg)
{
	const sg_key_source_ops *ks;
	sg_key_view v;
	int error = SG_OK;

	sg_key_view_signing(&v, cfg);
	if (v.source || v.pkcs12 || v.key || v.cert_chain || v.pkcs11_module || v.pkcs11_engine ||
	    v.pkcs11_env || v.pkcs11_paths || v.pkcs11_network)
		error = sg_key_source_find(&ks, &v);
	sg_key_view_seal(&v, cfg);
	if (error == SG_OK && (v.source || v.key || v.pkcs11_module))
		error = sg_key_source_find(&ks, &v);
	return error;
}

int sg_keys_material_needs_secret(const sg_config *cfg)
{
	const sg_key_source_ops *ks = NULL;
	sg_key_view v;

	sg_key_view_signing(&v, cfg);
	return sg_key_source_find(&ks, &v) == SG_OK && ks->key_in_file;
}

/* Opening key material; see include/signgate/keys.h. */
#include "signgate/keys.h"
#include "signgate/error.h"
#include "signgate/secret.h"
#include "signgate/util.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

void sg_key_material_free(sg_key_material *km)
{
	EVP_PKEY_free(km->key);
	X509_free(km->cert);
	sk_X509_pop_free(km->chain, X509_free);
	memset(km, 0, sizeof(*km));
}

static int load_pkcs12(sg_key_material *km, const char *path, const char *pass)
{
	BIO *bio = BIO_new_file(path, "rb");
	PKCS12 *p12 = bio ? d2i_PKCS12_bio(bio, NULL) : NULL;
	int error = SG_OK;

	if (!bio)
		error = sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	else if (!p12)
		error = sg_error_set(SG_ERR_CRYPTO, "%s: not a PKCS#12 file", path);
	else if (!PKCS12_parse(p12, pass ? pass : "", &km->key, &km->cert, &km->chain))
		error = sg_error_set(
			SG_ERR_CRYPTO,
			"%s: cannot open the PKCS#12 file: wrong password or damaged file", path);
	else if (!km->key || !km->cert)
		error = sg_error_set(SG_ERR_CRYPTO,
				     "%s: the PKCS#12 file holds no key and certificate", path);
	PKCS12_free(p12);
	BIO_free(bio);
	ERR_clear_error();
	return error;
}

static int load_pem_chain(sg_key_material *km, const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;

	if (!bio)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	km->chain = sk_X509_new_null();
	while (km->chain && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(km->chain, x))
			X509_free(x);
	BIO_free(bio);
	ERR_clear_error();
	if (!km->chain || sk_X509_num(km->chain) == 0)
		return sg_error_set(SG_ERR_CRYPTO, "%s: no PEM certificate found", path);
	return SG_OK;
}

static int load_pem(sg_key_material *km, const sg_config *cfg, const char *pass)
{
	BIO *bio;
	int error = load_pem_chain(km, cfg->cert_chain);

	if (error)
		return error;
	bio = BIO_new_file(cfg->key, "r");
	if (!bio)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", cfg->key, strerror(errno));
	km->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)(pass ? pass : ""));
	BIO_free(bio);
	ERR_clear_error();
	if (!km->key)
		return sg_error_set(
			SG_ERR_CRYPTO,
			"%s: cannot read the private key: wrong password or not a PEM key",
			cfg->key);
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
	return sg_error_set(SG_ERR_CRYPTO, "%s: no certificate in %s matches the key", cfg->key,
			    cfg->cert_chain);
}

X509 *sg_keys_read_cert(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	if (!bio)
		sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	else if (!cert)
		sg_error_set(SG_ERR_CONFIG, "%s: no PEM certificate found", path);
	BIO_free(bio);
	ERR_clear_error();
	return cert;
}

/* The token's leaf: the chain's certificate equal to "signing.certificate", else the first. */
static int pick_token_leaf(sg_key_material *km, const sg_config *cfg)
{
	X509 *want = cfg->certificate ? sg_keys_read_cert(cfg->certificate) : NULL;
	int pick = 0;

	if (cfg->certificate && !want)
		return sg_error_code();
	for (int i = 0; want && i < sk_X509_num(km->chain); i++)
		if (X509_cmp(sk_X509_value(km->chain, i), want) == 0)
			pick = i;
	X509_free(want);
	km->cert = sk_X509_delete(km->chain, pick);
	return SG_OK;
}

static int load_token(sg_key_material *km, const sg_config *cfg)
{
	struct stat st;
	int error;

	if (stat(cfg->pkcs11_module, &st) != 0)
		return sg_error_set(SG_ERR_TOOL, "%s: cannot use the PKCS#11 module: %s",
				    cfg->pkcs11_module, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sg_error_set(SG_ERR_TOOL, "%s: the PKCS#11 module is not a file",
				    cfg->pkcs11_module);
	error = load_pem_chain(km, cfg->cert_chain);
	if (error == SG_OK)
		error = pick_token_leaf(km, cfg);
	km->in_token = 1;
	return error;
}

int sg_keys_open(sg_key_material *out, const sg_config *cfg, const sg_secret *secret)
{
	const char *pass = secret ? secret->data : NULL;
	int error;

	memset(out, 0, sizeof(*out));
	error = sg_config_require_signing(cfg);
	if (error == SG_OK && cfg->pkcs11_module)
		error = load_token(out, cfg);
	else if (error == SG_OK && cfg->pkcs12)
		error = sg_secret_check_file(cfg->pkcs12) ? sg_error_code()
							  : load_pkcs12(out, cfg->pkcs12, pass);
	else if (error == SG_OK)
		error = sg_secret_check_file(cfg->key) ? sg_error_code() : load_pem(out, cfg, pass);
	sg_secret_scrub_stack();
	if (error)
		sg_key_material_free(out);
	return error;
}

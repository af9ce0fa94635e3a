/*
 * Opening the audit log's sealing key through its key source's row
 * (lib/keys/key_source.h: a PEM key file, or a key in a PKCS#11
 * token through libp11's engine or pkcs11-provider), and checking that it
 * is not the code-signing key; see audit_seal_internal.h.
 */
#include "audit_seal_internal.h"
#include "key_source.h"
#include "signgate/error.h"
#include "signgate/secret.h"
#include "signgate/util.h"

#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

int sg_seal_key_open(sg_seal_key *out, const sg_config *cfg)
{
	const sg_key_source_ops *ks = NULL;
	sg_secret secret = { 0 };
	sg_key_view v;
	int error;

	memset(out, 0, sizeof(*out));
	sg_key_view_seal(&v, cfg);
	error = sg_key_source_find(&ks, &v);
	/* A key file is checked before its secret is asked for. */
	if (!error && ks->key_in_file && sg_secret_check_file(v.key))
		error = sg_error_code();
	if (!error)
		error = sg_secret_obtain_from(&secret, &cfg->seal_secret, cfg->path, cfg->seal_key);
	if (!error)
		error = sg_key_open(&out->k, &v, &secret, "the sealing key");
	sg_secret_clear(&secret);
	out->key = out->k.pkey;
	if (error)
		sg_seal_key_free(out);
	return error;
}

void sg_seal_key_free(sg_seal_key *k)
{
	sg_key_close(&k->k);
	memset(k, 0, sizeof(*k));
}

/* 1 when the certificates hold the same public key. */
static int same_key(X509 *a, X509 *b)
{
	int eq = EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)) == 1;

	ERR_clear_error();
	return eq;
}

static int refuse_shared_key(const sg_config *cfg, const char *what)
{
	return sg_error_set(SG_ERR_CONFIG,
			    "%s: the sealing certificate %s has the public key of the code-signing "
			    "certificate in %s: seal the audit log with a key of its own",
			    cfg->path, cfg->seal_cert, what);
}

/* Every PEM certificate of `path` against the sealing certificate. */
static int check_pem_certs(const sg_config *cfg, X509 *seal, const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	int n = 0, shared = 0;
	X509 *x;

	if (!bio) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: cannot read %s to check that the sealing key is not the "
				    "code-signing key: %s",
				    cfg->path, path, strerror(errno));
	}
	while (!shared && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		shared = same_key(x, seal);
		X509_free(x);
		n++;
	}
	BIO_free(bio);
	ERR_clear_error();
	if (shared)
		return refuse_shared_key(cfg, path);
	if (n == 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: no PEM certificate in %s to check that the sealing key is "
				    "not the code-signing key",
				    cfg->path, path);
	return SG_OK;
}

/*
 * The certificates of a PKCS#12 file, when it opens without a password.
 * A PKCS#12 with encrypted certificates (make-pki.sh writes those) is not
 * opened: sealing never asks for the signing key's secret. Set
 * "signing.certificate" so that the check covers it.
 */
static int check_pkcs12(const sg_config *cfg, X509 *seal)
{
	BIO *bio = BIO_new_file(cfg->pkcs12, "rb");
	PKCS12 *p12 = bio ? d2i_PKCS12_bio(bio, NULL) : NULL;
	STACK_OF(X509) *ca = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int shared = 0;

	if (p12 &&
	    (PKCS12_parse(p12, "", &key, &cert, &ca) || PKCS12_parse(p12, NULL, &key, &cert, &ca)))
		shared = cert && same_key(cert, seal);
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
	BIO_free(bio);
	ERR_clear_error();
	return shared ? refuse_shared_key(cfg, cfg->pkcs12) : SG_OK;
}

/* See audit_seal_internal.h. */
int sg_seal_key_check_separation(const sg_config *cfg, X509 *seal)
{
	int error = SG_OK;

	if (cfg->certificate)
		error = check_pem_certs(cfg, seal, cfg->certificate);
	if (!error && cfg->cert_chain)
		error = check_pem_certs(cfg, seal, cfg->cert_chain);
	if (!error && cfg->pkcs12)
		error = check_pkcs12(cfg, seal);
	return error;
}

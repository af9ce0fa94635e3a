/* Signing through osslsigncode; see include/signgate/signer.h. */
#include "signgate/signer.h"
#include "signgate/error.h"
#include "signgate/proc.h"
#include "signgate/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#define SIGN_TIMEOUT_NO_TSA 600
#define MAX_ARGS            32

typedef struct key_material {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) * chain;
} key_material;

static void key_material_free(key_material *km)
{
	EVP_PKEY_free(km->key);
	X509_free(km->cert);
	sk_X509_pop_free(km->chain, X509_free);
	memset(km, 0, sizeof(*km));
}

static int load_pkcs12(key_material *km, const char *path, const char *pass)
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

static int load_pem_chain(key_material *km, const char *path)
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

static int load_pem(key_material *km, const sg_config *cfg, const char *pass)
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

static int check_cert(const key_material *km, const char *what)
{
	if (X509_check_private_key(km->cert, km->key) != 1) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_CRYPTO, "%s: the key does not match the certificate",
				    what);
	}
	if (X509_cmp_current_time(X509_get0_notBefore(km->cert)) >= 0)
		return sg_error_set(SG_ERR_CRYPTO, "%s: the signing certificate is not valid yet",
				    what);
	if (X509_cmp_current_time(X509_get0_notAfter(km->cert)) <= 0)
		return sg_error_set(SG_ERR_CRYPTO, "%s: the signing certificate has expired", what);
	return sg_cert_check_codesign(km->cert, what);
}

int sg_signer_load_certificate(sg_cert_info *out, const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	int error;

	if (!bio)
		error = sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	else if (!cert)
		error = sg_error_set(SG_ERR_CONFIG, "%s: no PEM certificate found", path);
	else
		error = sg_cert_info_from_x509(out, cert);
	X509_free(cert);
	BIO_free(bio);
	ERR_clear_error();
	return error;
}

/* "signing.certificate", when configured, must be the key's certificate. */
static int check_configured_cert(const sg_cert_info *info, const sg_config *cfg)
{
	sg_cert_info want;
	int error;

	if (!cfg->certificate)
		return SG_OK;
	error = sg_signer_load_certificate(&want, cfg->certificate);
	if (error == SG_OK && strcmp(want.sha256, info->sha256) != 0)
		error = sg_error_set(SG_ERR_CONFIG,
				     "%s: \"signing.certificate\" is not the certificate of the "
				     "signing key (%s, SHA-1 %s)",
				     cfg->certificate, info->subject, info->sha1_thumbprint);
	return error;
}

int sg_signer_load(sg_cert_info *out, const sg_config *cfg)
{
	key_material km = { 0 };
	char *pass = NULL;
	size_t pass_len = 0;
	const char *what = cfg->pkcs12 ? cfg->pkcs12 : cfg->cert_chain;
	int error = sg_config_require_signing(cfg);

	if (error == SG_OK)
		error = sg_secret_check_file(cfg->pkcs12 ? cfg->pkcs12 : cfg->key);
	if (error == SG_OK && cfg->password_file)
		error = sg_secret_read_file(&pass, &pass_len, cfg->password_file);
	if (error == SG_OK)
		error = cfg->pkcs12 ? load_pkcs12(&km, cfg->pkcs12, pass)
				    : load_pem(&km, cfg, pass);
	sg_secret_free(pass);
	if (error == SG_OK)
		error = check_cert(&km, what);
	if (error == SG_OK)
		error = sg_cert_info_from_x509(out, km.cert);
	if (error == SG_OK)
		error = check_configured_cert(out, cfg);
	key_material_free(&km);
	return error;
}

typedef struct argv_builder {
	const char *v[MAX_ARGS + 1];
	size_t n;
} argv_builder;

static void arg(argv_builder *b, const char *a)
{
	if (b->n < MAX_ARGS)
		b->v[b->n++] = a;
	b->v[b->n] = NULL;
}

static void build_argv(argv_builder *b, const sg_config *cfg, const sg_sign_request *req,
		       const char *tsa_url)
{
	b->n = 0;
	arg(b, cfg->osslsigncode);
	arg(b, "sign");
	arg(b, "-h");
	arg(b, "sha256");
	if (cfg->pkcs12) {
		arg(b, "-pkcs12");
		arg(b, cfg->pkcs12);
	} else {
		arg(b, "-certs");
		arg(b, cfg->cert_chain);
		arg(b, "-key");
		arg(b, cfg->key);
	}
	if (cfg->password_file) {
		arg(b, "-readpass"); /* "-" reads the password from our pipe */
		arg(b, "-");
	}
	arg(b, "-n");
	arg(b, req->description);
	if (req->url) {
		arg(b, "-i");
		arg(b, req->url);
	}
	if (tsa_url) {
		arg(b, "-ts");
		arg(b, tsa_url);
	}
	if (req->nest)
		arg(b, "-nest");
	arg(b, "-in");
	arg(b, req->input);
	arg(b, "-out");
	arg(b, req->output);
}

/* The first non-empty line of the child's stderr (else stdout), for messages. */
static void first_line(char *out, size_t len, const sg_proc_result *r)
{
	const char *src = r->err;

	src += strspn(src, "\r\n");
	if (!*src)
		src = r->out + strspn(r->out, "\r\n");
	snprintf(out, len, "%.*s", (int)strcspn(src, "\r\n"), src);
}

/* Did this run fail because of the TSA (so that the next TSA may answer)? */
static int tsa_failure(const sg_proc_result *r)
{
	return r->timed_out || strstr(r->err, "timestamping failed") ||
	       strstr(r->err, "HTTP failure");
}

/* One osslsigncode run; on failure the last error says why. */
static int run_once(const sg_config *cfg, const sg_sign_request *req, const char *tsa_url,
		    const char *pass, size_t pass_len, int *tsa_failed)
{
	argv_builder b;
	sg_proc_result r;
	sg_proc_spec spec = { 0 };
	struct stat st;
	char how[64], line[512];
	int error;

	*tsa_failed = 0;
	build_argv(&b, cfg, req, tsa_url);
	spec.argv = b.v;
	spec.stdin_data = pass;
	spec.stdin_len = pass_len;
	spec.timeout_sec = tsa_url ? cfg->timestamp_timeout : SIGN_TIMEOUT_NO_TSA;
	unlink(req->output);
	error = sg_proc_run(&r, &spec);
	if (error)
		return error;
	if (r.exited && r.exit_status == 0 && stat(req->output, &st) == 0 && st.st_size > 0) {
		sg_proc_result_free(&r);
		return SG_OK;
	}
	first_line(line, sizeof(line), &r);
	sg_error_set(SG_ERR_TOOL, "osslsigncode sign %s: %s",
		     sg_proc_describe(&r, spec.timeout_sec, how, sizeof(how)),
		     line[0] ? line : "(no message)");
	*tsa_failed = tsa_url && tsa_failure(&r);
	sg_proc_result_free(&r);
	unlink(req->output);
	return SG_ERR_TOOL;
}

static int sign_with_secret(sg_sign_result *out, const sg_config *cfg, const sg_sign_request *req,
			    const char *pass, size_t pass_len)
{
	size_t used = 0;
	int error, tsa_failed;

	if (cfg->n_timestamp_urls == 0)
		return run_once(cfg, req, NULL, pass, pass_len, &tsa_failed);
	for (size_t i = 0; i < cfg->n_timestamp_urls; i++) {
		const char *url = cfg->timestamp_urls[i];
		error = run_once(cfg, req, url, pass, pass_len, &tsa_failed);
		if (error == SG_OK) {
			out->timestamped = 1;
			snprintf(out->tsa_url, sizeof(out->tsa_url), "%s", url);
			return SG_OK;
		}
		/* Another TSA can only help when this one was the problem. */
		if (!tsa_failed)
			return error;
		if (used < sizeof(out->attempts))
			used += (size_t)snprintf(out->attempts + used, sizeof(out->attempts) - used,
						 "%s%s: %s", used ? "; " : "", url,
						 sg_error_last());
	}
	return sg_error_set(SG_ERR_TOOL,
			    "timestamping is required and no TSA answered (%zu tried): %s",
			    cfg->n_timestamp_urls, out->attempts);
}

int sg_signer_sign(sg_sign_result *out, const sg_config *cfg, const sg_sign_request *req)
{
	char *pass = NULL;
	size_t pass_len = 0;
	int error = sg_config_require_signing(cfg);

	memset(out, 0, sizeof(*out));
	if (error == SG_OK && cfg->password_file)
		error = sg_secret_read_file(&pass, &pass_len, cfg->password_file);
	if (error == SG_OK)
		error = sign_with_secret(out, cfg, req, pass, pass_len);
	sg_secret_free(pass);
	return error;
}

/* Detached CMS signatures with a PEM key; see cms_internal.h. */
#include "cms.h"
#include "signgate/error.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>

struct pass_ctx {
	const sg_secret *secret;
	int asked; /* the key is encrypted: OpenSSL asked for its password */
};

/* OpenSSL's password callback: the given secret, never a prompt. */
static int pass_cb(char *buf, int size, int rwflag, void *arg)
{
	struct pass_ctx *ctx = arg;
	size_t len = ctx->secret->data ? ctx->secret->len : 0;

	(void)rwflag;
	ctx->asked = 1;
	if (!ctx->secret->data || len > (size_t)size)
		return -1;
	memcpy(buf, ctx->secret->data, len);
	return (int)len;
}

int sg_pem_key_read(EVP_PKEY **out, const char *path, const sg_secret *secret, const char *what,
		    const char *no_password)
{
	struct pass_ctx ctx = { secret, 0 };
	BIO *bio = BIO_new_file(path, "r");

	*out = NULL;
	if (!bio) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	}
	*out = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &ctx);
	sg_secret_scrub_stack();
	BIO_free(bio);
	ERR_clear_error();
	if (*out)
		return SG_OK;
	if (ctx.asked && !secret->data)
		return sg_error_set(SG_ERR_CONFIG, "%s: %s is encrypted but %s", path, what,
				    no_password);
	return sg_error_set(SG_ERR_CRYPTO, "%s: cannot read %s: %s", path, what,
			    ctx.asked ? "wrong password" : "not a PEM private key");
}

int sg_cms_sign_detached(unsigned char **out, size_t *out_len, const void *data, size_t len,
			 X509 *cert, STACK_OF(X509) * certs, EVP_PKEY *key, const char *what)
{
	const int flags = CMS_DETACHED | CMS_BINARY | CMS_NOSMIMECAP | (certs ? 0 : CMS_NOCERTS);
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags | CMS_PARTIAL);
	BIO *bio = len <= INT_MAX ? BIO_new_mem_buf(data, (int)len) : NULL;
	unsigned char *der = NULL;
	int n = -1, ok = cms && bio && CMS_add1_signer(cms, cert, key, EVP_sha256(), flags);

	for (int i = 0; ok && certs && i < sk_X509_num(certs); i++)
		ok = CMS_add1_cert(cms, sk_X509_value(certs, i));
	/* CMS_final() signs, and adds signingTime to the signed attributes then. */
	if (ok)
		ok = CMS_final(cms, bio, NULL, flags) && (n = i2d_CMS_ContentInfo(cms, &der)) > 0;
	*out = ok ? der : NULL;
	*out_len = ok ? (size_t)n : 0;
	if (!ok) {
		const char *why = ERR_reason_error_string(ERR_peek_last_error());
		sg_error_set(SG_ERR_CRYPTO, "cannot sign %s: %s", what,
			     why ? why : "out of memory");
		OPENSSL_free(der);
	}
	BIO_free(bio);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return ok ? SG_OK : SG_ERR_CRYPTO;
}

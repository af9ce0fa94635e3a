/*
 * Making approval signatures: an approver's key (a PEM file or a key in a
 * PKCS#11 token), the signature checked before it is written, and its
 * publication beside the approval file; see include/signgate/cosign.h.
 */
#include "cms.h"
#include "cosign_internal.h"
#include "key_source.h"
#include "signgate/config.h"
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/keys.h"
#include "signgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Policy files are small; this bounds the memory of a read. */
#define APPROVAL_MAX (16 * 1024 * 1024)

struct sg_approver_key {
	X509 *leaf;
	STACK_OF(X509) * rest;
	EVP_PKEY *key; /* k.pkey */
	sg_key k;      /* opened through its key source's row (lib/keys/key_source.h) */
};

/* The certificates of `path`: the first is the approver's, the others its intermediates. */
static int load_certs(X509 **leaf, STACK_OF(X509) * *rest, const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;

	*leaf = NULL;
	*rest = NULL;
	if (!bio) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	}
	*rest = sk_X509_new_null();
	while (*rest && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!*leaf)
			*leaf = x;
		else if (!sk_X509_push(*rest, x))
			X509_free(x);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (*rest && *leaf)
		return SG_OK;
	X509_free(*leaf);
	sk_X509_free(*rest);
	*leaf = NULL;
	*rest = NULL;
	return sg_error_set(SG_ERR_CONFIG, "%s: no PEM certificate found", path);
}

/* The key: a private PEM file, or a "pkcs11:" URI with a module (the engine's or provider's row). */
static int open_key(sg_approver_key *k, const char *key, const char *pkcs11_module,
		    const char *key_source, const char *cert_path, const sg_secret *secret)
{
	const sg_key_view v = { .config = "policy approve/cosign",
				.section = "--key",
				.source = key_source,
				.key = key,
				.cert_chain = cert_path,
				.pkcs11_module = pkcs11_module };
	int error = sg_key_open(&k->k, &v, secret, "the approver's key");

	k->key = k->k.pkey;
	if (!error && X509_check_private_key(k->leaf, k->key) != 1)
		error = sg_error_set(SG_ERR_CRYPTO, "%s: the key does not match the certificate %s",
				     key, cert_path);
	ERR_clear_error();
	return error;
}

/*
 * What runs with an approver's key, before anything is read: a token's
 * module is held to the rule a config's module is (with what OpenSSL loads
 * code by); a key in a file still lives in a process whose OpenSSL and
 * dynamic linker load code by the caller's environment (OPENSSL_ENGINES,
 * OPENSSL_MODULES, LD_*), so that is held to the rule for every key.
 */
static int check_code(const char *pkcs11_module)
{
	if (pkcs11_module)
		return sg_keys_check_module_strict(pkcs11_module, "--pkcs11-module");
	return sg_config_check_openssl(geteuid(), NULL);
}

int sg_approver_key_open(sg_approver_key **out, const char *cert_path, const char *key,
			 const char *pkcs11_module, const char *key_source, const sg_secret *secret)
{
	sg_approver_key *k = calloc(1, sizeof(*k));
	int error = k ? check_code(pkcs11_module) : sg_error_set(SG_ERR_NOMEM, "out of memory");

	*out = NULL;
	if (!error)
		error = load_certs(&k->leaf, &k->rest, cert_path);
	if (!error)
		error = open_key(k, key, pkcs11_module, key_source, cert_path, secret);
	if (error)
		sg_approver_key_free(k);
	else
		*out = k;
	return error;
}

int sg_approver_key_identity(sg_cosigner *out, const sg_approver_key *k)
{
	char why[SG_COSIGN_WHY_MAX] = "";
	int error = sg_cosign_identity(out, k->leaf, why);

	return error == SG_ERR_VERIFY ? sg_error_set(error, "%s", why) : error;
}

void sg_approver_key_free(sg_approver_key *k)
{
	if (!k)
		return;
	X509_free(k->leaf);
	sk_X509_pop_free(k->rest, X509_free);
	sg_key_close(&k->k);
	free(k);
}

int sg_cosign_sign(unsigned char **der, size_t *der_len, sg_cosigner *out, const sg_approver_key *k,
		   sg_cosign_role role, const char *approval_file, const unsigned char *data,
		   size_t len, const sg_approvers_trust *t)
{
	char why[SG_COSIGN_WHY_MAX] = "";
	X509_STORE *store = NULL;
	unsigned char *made = NULL;
	unsigned long flags;
	size_t made_len = 0;
	int error = sg_cosign_store(&store, &flags, t);

	*der = NULL;
	*der_len = 0;
	memset(out, 0, sizeof(*out));
	if (!error)
		error = sg_cms_sign_detached(&made, &made_len, data, len, k->leaf, k->rest, k->key,
					     approval_file);
	if (!error)
		error = sg_cosign_check_der(out, NULL, made, made_len, data, len, approval_file,
					    store, flags, t->ca_file, why);
	if (error == SG_ERR_VERIFY)
		sg_error_set(error,
			     "%s: the new %s signature would not count, nothing was written: %s",
			     approval_file, sg_cosign_role_name(role), why);
	if (!error && !(*der = malloc(made_len)))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error) {
		memcpy(*der, made, made_len);
		*der_len = made_len;
	}
	OPENSSL_free(made);
	X509_STORE_free(store);
	return error;
}

int sg_cosign_publish(const char *approval_file, sg_cosign_role role, const unsigned char *der,
		      size_t len, int replace)
{
	char *dest = sg_cosign_sig_path(approval_file, role);
	struct stat st;
	int error = dest ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	/* Whoever may read an approval must read its signatures. */
	if (!error && stat(approval_file, &st) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", approval_file,
				     strerror(errno));
	if (!error)
		error = sg_publish_bytes(dest, der, len, st.st_mode & 0644, replace);
	if (error == SG_ERR_EXISTS)
		sg_error_set(error, "%s: a %s signature exists already", dest,
			     sg_cosign_role_name(role));
	free(dest);
	return error;
}

/*
 * The other role's signature, when it exists and is valid, must be by
 * another approver than `k`: else nothing is written.
 */
static int check_other(const sg_approver_key *k, sg_cosign_role role, const char *approval_file,
		       const unsigned char *data, size_t len, const sg_approvers_trust *t)
{
	sg_cosign_role other = role == SG_COSIGN_FIRST ? SG_COSIGN_SECOND : SG_COSIGN_FIRST;
	char why[SG_COSIGN_WHY_MAX] = "", *path = sg_cosign_sig_path(approval_file, other);
	X509_STORE *store = NULL;
	X509 *signer = NULL;
	unsigned long flags;
	sg_cosigner c;
	int missing, error = path ? sg_cosign_store(&store, &flags, t)
				  : sg_error_set(SG_ERR_NOMEM, "out of memory");

	/* A missing, unreadable or invalid other signature is not this one's business. */
	if (!error &&
	    sg_cosign_verify_file(&c, &signer, &missing, other, approval_file, data, len, store,
				  flags, t->ca_file) == SG_OK &&
	    sg_cosign_same_approver(k->leaf, signer, why))
		error = sg_error_set(SG_ERR_VERIFY,
				     "%s: the %s signature %s is by the same approver (%s): the "
				     "two-person rule needs another approver; nothing was written",
				     approval_file, sg_cosign_role_name(other), path, why);
	else if (!error)
		sg_error_clear();
	X509_free(signer);
	X509_STORE_free(store);
	free(path);
	return error;
}

/*
 * The approval file's bytes, once. It is a policy file: one that cannot be
 * opened, is no regular file or is too large for an approval is
 * SG_ERR_CONFIG; SG_ERR_IO when it does not exist or a read fails.
 */
static int read_approval(unsigned char **data, size_t *len, const char *approval_file)
{
	int error = sg_read_file(data, len, approval_file, APPROVAL_MAX, NULL,
				 SG_READ_MISSING_OK | SG_READ_CONFIG);

	if (!error && !*data)
		error = sg_error_set(SG_ERR_IO, "%s: no such approval file", approval_file);
	return error;
}

/* The bytes are those their signer reviewed: `expect` (hex, any case) is their SHA-256. */
static int check_reviewed(char sha[65], const char *approval_file, const unsigned char *data,
			  size_t len, const char *expect)
{
	int error = sg_sha256_hex(sha, data, len);

	if (error || !expect)
		return error;
	if (!sg_hex_is_valid(expect, 32))
		return sg_error_set(SG_ERR_USAGE,
				    "the expected SHA-256 \"%s\" is not 64 hex digits", expect);
	if (strcasecmp(expect, sha) != 0)
		return sg_error_set(SG_ERR_VERIFY,
				    "%s: its SHA-256 is %s, not %s: the file is not the one you "
				    "reviewed (it changed since); nothing was signed",
				    approval_file, sha, expect);
	return SG_OK;
}

int sg_cosign_create(sg_cosigner *out, char signed_sha256[65], const char *approval_file,
		     sg_cosign_role role, const sg_approver_key *k, const sg_approvers_trust *t,
		     int replace, const char *expect_sha256)
{
	unsigned char *data = NULL, *der = NULL;
	char *dest = sg_cosign_sig_path(approval_file, role);
	size_t len = 0, der_len = 0;
	int error = dest ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	memset(out, 0, sizeof(*out));
	signed_sha256[0] = '\0';
	if (!error && !replace && sg_path_exists(dest))
		error = sg_error_set(SG_ERR_EXISTS, "%s: a %s signature exists already", dest,
				     sg_cosign_role_name(role));
	if (!error)
		error = read_approval(&data, &len, approval_file);
	/* What is checked, signed and reported are the bytes read once, here. */
	if (!error)
		error = check_reviewed(signed_sha256, approval_file, data, len, expect_sha256);
	if (!error)
		error = sg_cosign_sign(&der, &der_len, out, k, role, approval_file, data, len, t);
	if (!error)
		error = check_other(k, role, approval_file, data, len, t);
	if (!error)
		error = sg_cosign_publish(approval_file, role, der, der_len, replace);
	if (error) {
		memset(out, 0, sizeof(*out));
		signed_sha256[0] = '\0';
	}
	free(der);
	free(data);
	free(dest);
	return error;
}

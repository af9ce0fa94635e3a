/*
 * cert export, part 1: the certificates (signgate/cert_export.h). Nothing
 * here asks for a secret or decrypts a key: of a PKCS#12 file only the
 * certificate bags readable without its password are taken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "signgate/cert_export.h"
#include "signgate/error.h"
#include "signgate/util.h"
#include "trust.h"

#define CERT_FILE_MAX (4u << 20)

/* Push `x` (a new reference is taken) onto `st` unless an equal one is there. */
static int push_unique(STACK_OF(X509) * st, X509 *x)
{
	for (int i = 0; i < sk_X509_num(st); i++)
		if (X509_cmp(sk_X509_value(st, i), x) == 0)
			return SG_OK;
	if (!X509_up_ref(x))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!sk_X509_push(st, x)) {
		X509_free(x);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	return SG_OK;
}

/* Every PEM certificate of `path`, else its one DER certificate, onto `out` (in order). */
static int read_certs(STACK_OF(X509) * out, const char *path, const char *what)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int before = sk_X509_num(out), error;
	BIO *bio;
	X509 *x;

	error = sg_read_file(&buf, &len, path, CERT_FILE_MAX, what, SG_READ_CONFIG);
	if (error)
		return error;
	bio = BIO_new_mem_buf(buf, (int)len);
	while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			break;
		}
	if (bio && sk_X509_num(out) == before) {
		const unsigned char *p = buf;
		x = d2i_X509(NULL, &p, (long)len);
		if (x && !sk_X509_push(out, x))
			X509_free(x);
	}
	BIO_free(bio);
	free(buf);
	ERR_clear_error();
	if (sk_X509_num(out) == before)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: no certificate found in the %s (PEM or DER)", path, what);
	return SG_OK;
}

/* The certificates of the bags, and the localKeyID of the first key bag (never decrypted). */
typedef struct p12_found {
	STACK_OF(X509) * certs;
	ASN1_OCTET_STRING **cert_ids; /* parallel to certs (n_ids of them); NULL entries allowed */
	size_t n_ids;
	ASN1_OCTET_STRING *key_id;
	int encrypted; /* a part could not be read without the password */
} p12_found;

static void take_bags(p12_found *f, const STACK_OF(PKCS12_SAFEBAG) * bags)
{
	for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
		const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
		const ASN1_TYPE *id = PKCS12_SAFEBAG_get0_attr(bag, NID_localKeyID);
		const ASN1_OCTET_STRING *oid =
			id && id->type == V_ASN1_OCTET_STRING ? id->value.octet_string : NULL;
		int nid = PKCS12_SAFEBAG_get_nid(bag);
		X509 *x;

		if ((nid == NID_keyBag || nid == NID_pkcs8ShroudedKeyBag) && !f->key_id && oid)
			f->key_id = ASN1_OCTET_STRING_dup(oid);
		if (nid != NID_certBag || PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate)
			continue;
		ASN1_OCTET_STRING **ids = realloc(f->cert_ids, (f->n_ids + 1) * sizeof(*ids));
		if (!ids)
			continue;
		f->cert_ids = ids;
		x = PKCS12_SAFEBAG_get1_cert(bag);
		if (!x)
			continue;
		if (!sk_X509_push(f->certs, x)) {
			X509_free(x);
			continue;
		}
		ids[f->n_ids++] = oid ? ASN1_OCTET_STRING_dup(oid) : NULL;
	}
}

/* Walk the authenticated safes; encrypted ones are tried with the empty password only. */
static void p12_walk(p12_found *f, PKCS12 *p12)
{
	STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);

	for (int i = 0; safes && i < sk_PKCS7_num(safes); i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);
		STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
		int nid = OBJ_obj2nid(p7->type);

		if (nid == NID_pkcs7_data)
			bags = PKCS12_unpack_p7data(p7);
		else if (nid == NID_pkcs7_encrypted) {
			bags = PKCS12_unpack_p7encdata(p7, "", 0);
			if (!bags)
				bags = PKCS12_unpack_p7encdata(p7, NULL, 0);
		}
		if (!bags)
			f->encrypted = 1;
		else
			take_bags(f, bags);
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	}
	sk_PKCS7_pop_free(safes, PKCS7_free);
	ERR_clear_error();
}

/* The MAC, checkable only when the password is empty. */
static int p12_mac_ok(PKCS12 *p12)
{
	int ok = PKCS12_mac_present(p12) &&
		 (PKCS12_verify_mac(p12, "", 0) == 1 || PKCS12_verify_mac(p12, NULL, 0) == 1);

	ERR_clear_error();
	return ok;
}

/* The leaf among the PKCS#12's certificates: the key's (localKeyID), else the only non-CA. */
static X509 *p12_leaf(const p12_found *f)
{
	X509 *only = NULL;
	int n = 0;

	for (int i = 0; f->key_id && i < sk_X509_num(f->certs); i++) {
		const ASN1_OCTET_STRING *id = (size_t)i < f->n_ids ? f->cert_ids[i] : NULL;
		if (id && ASN1_OCTET_STRING_cmp(id, f->key_id) == 0)
			return sk_X509_value(f->certs, i);
	}
	for (int i = 0; i < sk_X509_num(f->certs); i++)
		if (X509_check_ca(sk_X509_value(f->certs, i)) == 0) {
			only = sk_X509_value(f->certs, i);
			n++;
		}
	return n == 1 ? only : NULL;
}

/* What the leaf search has so far. */
typedef struct found_leaf {
	X509 *leaf; /* borrowed from pool */
	STACK_OF(X509) * pool;
} found_leaf;

static int agree(sg_export *ex, X509 *leaf, const char *from)
{
	if (!ex->leaf) {
		if (!X509_up_ref(leaf))
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		ex->leaf = leaf;
		snprintf(ex->leaf_from, sizeof(ex->leaf_from), "%s", from);
		return SG_OK;
	}
	if (X509_cmp(ex->leaf, leaf) == 0)
		return SG_OK;
	sg_cert_info a, b;
	if (sg_cert_info_from_x509(&a, ex->leaf) || sg_cert_info_from_x509(&b, leaf))
		return SG_ERR_CRYPTO;
	return sg_error_set(SG_ERR_CONFIG,
			    "%s names the signer %s (thumbprint %s), %s names %s (thumbprint %s): "
			    "they must be the same certificate; nothing exported",
			    ex->leaf_from, a.subject, a.sha1_thumbprint, from, b.subject,
			    b.sha1_thumbprint);
}

static int from_pkcs12(sg_export *ex, STACK_OF(X509) * pool, const char *path)
{
	unsigned char *buf = NULL;
	const unsigned char *p;
	size_t len = 0;
	p12_found f = { sk_X509_new_null(), NULL, 0, NULL, 0 };
	char from[600];
	PKCS12 *p12 = NULL;
	X509 *leaf;
	int error = f.certs ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	if (!error)
		error = sg_read_file(&buf, &len, path, CERT_FILE_MAX, "PKCS#12 file",
				     SG_READ_CONFIG);
	/* The leaf is known: a key file export cannot read is no reason to stop. */
	if (error && error != SG_ERR_NOMEM && ex->leaf) {
		ex->pkcs12_unread = 1;
		error = SG_OK;
		goto done;
	}
	p = buf;
	if (!error && !(p12 = d2i_PKCS12(NULL, &p, (long)len)))
		error = sg_error_set(SG_ERR_CONFIG, "%s: not a PKCS#12 file", path);
	if (!error)
		p12_walk(&f, p12);
	leaf = error ? NULL : p12_leaf(&f);
	ex->pkcs12_unread = !error && !leaf && f.encrypted;
	if (!error && !leaf && !ex->leaf)
		error = sg_error_set(
			SG_ERR_CONFIG,
			"%s: %s: export never uses its password: set \"signing.certificate\" to "
			"the "
			"signing certificate (PEM: the leaf, then its intermediates), or use "
			"--cert "
			"FILE [--chain FILE] --ca ROOT.pem",
			path,
			f.encrypted ? "its certificates are encrypted with its password"
				    : "it holds no signing certificate that can be told apart");
	if (!error && leaf) {
		snprintf(from, sizeof(from), "signing.pkcs12 (%s)", path);
		error = agree(ex, leaf, from);
		for (int i = 0; !error && i < sk_X509_num(f.certs); i++)
			error = push_unique(pool, sk_X509_value(f.certs, i));
		if (!error && !p12_mac_ok(p12)) {
			ex->unauthenticated = 1;
			snprintf(ex->note, sizeof(ex->note),
				 "%s: its certificates were read without its password, so its MAC "
				 "(integrity) was not checked; the signer was accepted because it "
				 "chains to the trust anchors%s",
				 path,
				 strcmp(ex->leaf_from, from) != 0
					 ? " and is the certificate of signing.certificate"
					 : "; set \"signing.certificate\" to pin it");
		}
	}
done:
	PKCS12_free(p12);
	free(buf);
	sk_X509_pop_free(f.certs, X509_free);
	for (size_t i = 0; i < f.n_ids; i++)
		ASN1_OCTET_STRING_free(f.cert_ids[i]);
	free(f.cert_ids);
	ASN1_OCTET_STRING_free(f.key_id);
	ERR_clear_error();
	return error;
}

/* A cert_chain's leaf: the one equal to the leaf found so far, else its only non-CA. */
static int from_chain(sg_export *ex, STACK_OF(X509) * pool, const char *path)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509 *only = NULL;
	int n = 0, error = certs ? read_certs(certs, path, "certificate chain")
				 : sg_error_set(SG_ERR_NOMEM, "out of memory");
	char from[600];

	for (int i = 0; !error && i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		if (X509_check_ca(x) == 0) {
			only = x;
			n++;
		}
		error = push_unique(pool, x);
	}
	snprintf(from, sizeof(from), "signing.cert_chain (%s)", path);
	if (!error && ex->leaf) {
		int in = 0;
		for (int i = 0; i < sk_X509_num(certs); i++)
			in |= X509_cmp(sk_X509_value(certs, i), ex->leaf) == 0;
		if (!in && n > 0)
			error = agree(ex, only ? only : sk_X509_value(certs, 0), from);
	} else if (!error && n != 1)
		error = sg_error_set(SG_ERR_CONFIG,
				     "%s: %s: set \"signing.certificate\" to say which one signs",
				     path,
				     n ? "more than one certificate in it could be the signer"
				       : "no certificate in it can sign (each is a CA)");
	else if (!error)
		error = agree(ex, only, from);
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return error;
}

/* The leaf and a pool of candidate intermediates from the sources of `in`. */
static int find_leaf(sg_export *ex, STACK_OF(X509) * pool, const sg_export_input *in)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	char from[600];
	int error = certs ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	if (!error && in->certificate) {
		error = read_certs(certs, in->certificate, "certificate");
		snprintf(from, sizeof(from), "%s (%s)",
			 in->certificate_what ? in->certificate_what : "signing.certificate",
			 in->certificate);
		if (!error)
			error = agree(ex, sk_X509_value(certs, 0), from);
		for (int i = 1; !error && i < sk_X509_num(certs); i++)
			error = push_unique(pool, sk_X509_value(certs, i));
	}
	if (!error && in->cert_chain)
		error = from_chain(ex, pool, in->cert_chain);
	if (!error && in->pkcs12)
		error = from_pkcs12(ex, pool, in->pkcs12);
	sk_X509_pop_free(certs, X509_free);
	if (!error && in->chain) {
		certs = sk_X509_new_null();
		error = certs ? read_certs(certs, in->chain, "certificate chain")
			      : sg_error_set(SG_ERR_NOMEM, "out of memory");
		for (int i = 0; !error && i < sk_X509_num(certs); i++)
			error = push_unique(pool, sk_X509_value(certs, i));
		sk_X509_pop_free(certs, X509_free);
	}
	if (!error && !ex->leaf)
		error = sg_error_set(SG_ERR_CONFIG, "no signing certificate configured: set "
						    "\"signing.certificate\" or use --cert FILE");
	return error;
}

/* The verified path's CA certificates below the anchor: the intermediates to export. */
static int chain_path(sg_export *ex, STACK_OF(X509) * pool)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *path = NULL;
	int error = SG_OK;

	for (int i = 0; store && i < sk_X509_num(ex->roots); i++)
		X509_STORE_add_cert(store, sk_X509_value(ex->roots, i));
	if (!store || !ctx || !X509_STORE_CTX_init(ctx, store, ex->leaf, pool) ||
	    X509_verify_cert(ctx) != 1 || !(path = X509_STORE_CTX_get1_chain(ctx)))
		error = sg_error_set(
			SG_ERR_VERIFY, "%s: cannot build the signer's chain: %s", ex->leaf_from,
			X509_verify_cert_error_string(ctx ? X509_STORE_CTX_get_error(ctx) : 0));
	for (int i = 1; !error && i < sk_X509_num(path) - 1; i++)
		error = push_unique(ex->intermediates, sk_X509_value(path, i));
	sk_X509_pop_free(path, X509_free);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return error;
}

static int verify(sg_export *ex, STACK_OF(X509) * pool, const sg_export_input *in)
{
	char why[SG_ERROR_MAX];
	int error = sg_cert_verify_chain(ex->leaf, pool, in->ca_file,
					 in->ignore_crl ? NULL : in->crl_file, 0);

	if (error != SG_ERR_VERIFY)
		return error;
	snprintf(why, sizeof(why), "%s", sg_error_last());
	return sg_error_set(SG_ERR_VERIFY, "%s: %s%s", ex->leaf_from, why,
			    ex->pkcs12_unread ? " (the PKCS#12's certificates are encrypted with "
						"its password, which export never uses: put the "
						"intermediates into signing.certificate after the "
						"leaf, or give --chain FILE)"
					      : "");
}

int sg_export_load(sg_export *out, const sg_export_input *in)
{
	STACK_OF(X509) *pool = sk_X509_new_null();
	int error;

	memset(out, 0, sizeof(*out));
	out->intermediates = sk_X509_new_null();
	out->roots = sk_X509_new_null();
	out->crls = sk_X509_CRL_new_null();
	if (!pool || !out->intermediates || !out->roots || !out->crls) {
		sk_X509_free(pool);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	if (!in->ca_file)
		error = sg_error_set(SG_ERR_CONFIG, "no trust anchors (trust.ca_file or --ca)");
	else
		error = find_leaf(out, pool, in);
	if (!error)
		error = sg_trust_read_pem(out->roots, NULL, in->ca_file, "trust anchors", NULL);
	if (!error && sk_X509_num(out->roots) == 0)
		error = sg_error_set(SG_ERR_CONFIG, "%s: no certificate in the trust anchors",
				     in->ca_file);
	if (!error && in->crl_file)
		error = sg_trust_read_pem(NULL, out->crls, in->crl_file, "CRLs", NULL);
	/* The verdict as signing judges it: the EKU of each CA, revocation. */
	if (!error)
		error = verify(out, pool, in);
	if (!error)
		error = chain_path(out, pool);
	if (!error)
		error = sg_cert_info_from_x509(&out->signer, out->leaf);
	sk_X509_pop_free(pool, X509_free);
	return error;
}

void sg_export_free(sg_export *ex)
{
	if (!ex)
		return;
	for (size_t i = 0; i < ex->n_files; i++)
		free(ex->files[i].data);
	free(ex->files);
	X509_free(ex->leaf);
	sk_X509_pop_free(ex->intermediates, X509_free);
	sk_X509_pop_free(ex->roots, X509_free);
	sk_X509_CRL_pop_free(ex->crls, X509_CRL_free);
	memset(ex, 0, sizeof(*ex));
}

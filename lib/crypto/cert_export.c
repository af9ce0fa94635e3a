/*
 * cert export, part 1: the certificates (signgate/cert_export.h). Nothing
 * here asks for a secret or decrypts a key: of a PKCS#12 file only the
 * certificate bags readable without its password are taken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "cert_export_internal.h"
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

/* The certificates of the bags (key bags are never decrypted nor taken). */
typedef struct p12_found {
	STACK_OF(X509) * certs;
	int encrypted;   /* a part could not be read without the password */
	int clear_certs; /* certificate bags read from a part the password did not protect */
} p12_found;

static void take_bags(p12_found *f, const STACK_OF(PKCS12_SAFEBAG) * bags)
{
	for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
		const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
		X509 *x;

		if (PKCS12_SAFEBAG_get_nid(bag) != NID_certBag ||
		    PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate)
			continue;
		x = PKCS12_SAFEBAG_get1_cert(bag);
		if (x && !sk_X509_push(f->certs, x))
			X509_free(x);
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
		else {
			int before = sk_X509_num(f->certs);
			take_bags(f, bags);
			f->clear_certs |= sk_X509_num(f->certs) > before;
		}
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	}
	sk_PKCS7_pop_free(safes, PKCS7_free);
	ERR_clear_error();
}

/* What the leaf search has so far. */
typedef struct found_leaf {
	X509 *leaf; /* borrowed from pool */
	STACK_OF(X509) * pool;
} found_leaf;

/* The leaf read from `path` under the config key or option `key`, unless one was found. */
static int agree(sg_export *ex, X509 *leaf, const char *key, const char *path)
{
	const char *base = strrchr(path, '/');
	char from[600];

	snprintf(from, sizeof(from), "%s (%s)", key, path);
	if (!ex->leaf) {
		if (!X509_up_ref(leaf))
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		ex->leaf = leaf;
		snprintf(ex->leaf_from, sizeof(ex->leaf_from), "%s", from);
		snprintf(ex->leaf_named, sizeof(ex->leaf_named), "%s (%s)", key,
			 base ? base + 1 : path);
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

/* 1 when `want` (hex, SHA-1 or SHA-256; ':' and ' ' ignored, any case) is `x`'s thumbprint. */
static int thumbprint_is(X509 *x, const char *want)
{
	char hex[80];
	size_t n = 0;
	sg_cert_info info;

	for (const char *p = want; *p; p++)
		if (*p != ':' && *p != ' ') {
			if (n + 1 >= sizeof(hex))
				return 0;
			hex[n++] = *p;
		}
	hex[n] = '\0';
	if (sg_cert_info_from_x509(&info, x) != SG_OK) {
		ERR_clear_error();
		return 0;
	}
	return (n == 40 && strcasecmp(hex, info.sha1_thumbprint) == 0) ||
	       (n == 64 && strcasecmp(hex, info.sha256) == 0);
}

/* The PKCS#12's certificate with the --expect-thumbprint `want`, else NULL. */
static X509 *p12_pinned(const p12_found *f, const char *want)
{
	for (int i = 0; i < sk_X509_num(f->certs); i++)
		if (thumbprint_is(sk_X509_value(f->certs, i), want))
			return sk_X509_value(f->certs, i);
	return NULL;
}

/*
 * The leaf of a parsed PKCS#12. Certificates read without its password are
 * authenticated by nothing (a MAC keyed by the empty password is one anyone
 * can compute): the leaf is the one --expect-thumbprint names, or none.
 */
static int p12_choose(sg_export *ex, X509 **leaf, const p12_found *f, const sg_export_input *in)
{
	const char *path = in->pkcs12;

	*leaf = NULL;
	if (f->encrypted && f->clear_certs)
		return sg_error_set(
			SG_ERR_CONFIG,
			"%s: it holds certificates readable without its password beside parts "
			"encrypted with it: no PKCS#12 writer makes such a file, and its MAC no "
			"longer protects what can be read; refused (export it again, or set "
			"\"signing.certificate\")",
			path);
	if (sk_X509_num(f->certs) > 0) {
		ex->unauthenticated = 1;
		if (!in->expect_thumbprint)
			return sg_error_set(
				SG_ERR_CONFIG,
				"%s: its certificates can be read without its password, so "
				"nothing authenticates them (no MAC keyed by its password is "
				"checked) and whoever can write the file would choose the "
				"signer: pin it with "
				"\"signing.certificate\" (the signing certificate, PEM) or "
				"--expect-thumbprint HEX (its SHA-1 or SHA-256 thumbprint, from "
				"your PKI team)",
				path);
		if (!(*leaf = p12_pinned(f, in->expect_thumbprint)))
			return sg_error_set(SG_ERR_CONFIG,
					    "%s: no certificate in it has the thumbprint %s "
					    "(--expect-thumbprint); nothing exported",
					    path, in->expect_thumbprint);
		snprintf(ex->note, sizeof(ex->note),
			 "%s: its certificates were read without its password, so its MAC "
			 "(integrity) was not checked; the signer was taken because "
			 "--expect-thumbprint names it and it chains to the trust anchors",
			 path);
		return SG_OK;
	}
	ex->pkcs12_unread = f->encrypted;
	return sg_error_set(
		SG_ERR_CONFIG,
		"%s: %s: export never uses its password: set \"signing.certificate\" to "
		"the signing certificate (PEM: the leaf, then its intermediates), or use "
		"--cert FILE [--chain FILE] --ca ROOT.pem",
		path,
		f->encrypted ? "its certificates are encrypted with its password"
			     : "it holds no certificate");
}

/* Only when nothing else named the leaf (the file is not opened otherwise). */
static int from_pkcs12(sg_export *ex, STACK_OF(X509) * pool, const sg_export_input *in)
{
	unsigned char *buf = NULL;
	const unsigned char *p;
	size_t len = 0;
	p12_found f = { sk_X509_new_null(), 0, 0 };
	PKCS12 *p12 = NULL;
	X509 *leaf = NULL;
	int error = f.certs ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	if (!error)
		error = sg_read_file(&buf, &len, in->pkcs12, CERT_FILE_MAX, "PKCS#12 file",
				     SG_READ_CONFIG);
	p = buf;
	if (!error && !(p12 = d2i_PKCS12(NULL, &p, (long)len)))
		error = sg_error_set(SG_ERR_CONFIG, "%s: not a PKCS#12 file", in->pkcs12);
	if (!error)
		p12_walk(&f, p12);
	if (!error)
		error = p12_choose(ex, &leaf, &f, in);
	if (!error) {
		error = agree(ex, leaf, "signing.pkcs12", in->pkcs12);
		for (int i = 0; !error && i < sk_X509_num(f.certs); i++)
			error = push_unique(pool, sk_X509_value(f.certs, i));
	}
	PKCS12_free(p12);
	OPENSSL_cleanse(buf, len);
	free(buf);
	sk_X509_pop_free(f.certs, X509_free);
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

	for (int i = 0; !error && i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);
		if (X509_check_ca(x) == 0) {
			only = x;
			n++;
		}
		error = push_unique(pool, x);
	}
	if (!error && ex->leaf) {
		int in = 0;
		for (int i = 0; i < sk_X509_num(certs); i++)
			in |= X509_cmp(sk_X509_value(certs, i), ex->leaf) == 0;
		if (!in && n > 0)
			error = agree(ex, only ? only : sk_X509_value(certs, 0),
				      "signing.cert_chain", path);
	} else if (!error && n != 1)
		error = sg_error_set(SG_ERR_CONFIG,
				     "%s: %s: set \"signing.certificate\" to say which one signs",
				     path,
				     n ? "more than one certificate in it could be the signer"
				       : "no certificate in it can sign (each is a CA)");
	else if (!error)
		error = agree(ex, only, "signing.cert_chain", path);
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return error;
}

/* The leaf and a pool of candidate intermediates from the sources of `in`. */
static int find_leaf(sg_export *ex, STACK_OF(X509) * pool, const sg_export_input *in)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	int error = certs ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	if (!error && in->certificate) {
		error = read_certs(certs, in->certificate, "certificate");
		if (!error)
			error = agree(ex, sk_X509_value(certs, 0),
				      in->certificate_what ? in->certificate_what
							   : "signing.certificate",
				      in->certificate);
		for (int i = 1; !error && i < sk_X509_num(certs); i++)
			error = push_unique(pool, sk_X509_value(certs, i));
	}
	if (!error && in->cert_chain)
		error = from_chain(ex, pool, in->cert_chain);
	/* A leaf named already: the PKCS#12 (and its key) is never opened. */
	if (!error && in->pkcs12 && !ex->leaf)
		error = from_pkcs12(ex, pool, in);
	else if (!error && in->pkcs12)
		ex->pkcs12_unread = 1;
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

/*
 * The verified path: its CA certificates below the anchor are the
 * intermediates to export, its anchor the one root (the other anchors of
 * ca_file are signgate's trust, not what Windows should trust).
 */
static int chain_path(sg_export *ex, STACK_OF(X509) * pool, STACK_OF(X509) * anchors)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *path = NULL;
	int error = SG_OK;

	for (int i = 0; store && i < sk_X509_num(anchors); i++)
		X509_STORE_add_cert(store, sk_X509_value(anchors, i));
	if (!store || !ctx || !X509_STORE_CTX_init(ctx, store, ex->leaf, pool) ||
	    X509_verify_cert(ctx) != 1 || !(path = X509_STORE_CTX_get1_chain(ctx)))
		error = sg_error_set(
			SG_ERR_VERIFY, "%s: cannot build the signer's chain: %s", ex->leaf_from,
			X509_verify_cert_error_string(ctx ? X509_STORE_CTX_get_error(ctx) : 0));
	for (int i = 1; !error && i < sk_X509_num(path) - 1; i++)
		error = push_unique(ex->intermediates, sk_X509_value(path, i));
	if (!error && sk_X509_num(path) > 1)
		error = push_unique(ex->roots, sk_X509_value(path, sk_X509_num(path) - 1));
	ex->roots_left_out = sk_X509_num(anchors) - sk_X509_num(ex->roots);
	sk_X509_pop_free(path, X509_free);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return error;
}

/* Each CRL exported must be signed by one of the exported CAs: its issuer, checked. */
static int check_crls(const sg_export *ex, const char *crl_file)
{
	for (int i = 0; i < sk_X509_CRL_num(ex->crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(ex->crls, i);
		int signed_ok = 0, named = 0;
		export_crl_facts facts;

		for (int k = 0;
		     !signed_ok && k < sk_X509_num(ex->roots) + sk_X509_num(ex->intermediates);
		     k++) {
			X509 *ca = k < sk_X509_num(ex->roots)
					   ? sk_X509_value(ex->roots, k)
					   : sk_X509_value(ex->intermediates,
							   k - sk_X509_num(ex->roots));
			if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)))
				continue;
			named = 1;
			EVP_PKEY *key = X509_get0_pubkey(ca);
			signed_ok = key && X509_CRL_verify(crl, key) == 1;
		}
		ERR_clear_error();
		if (signed_ok)
			continue;
		export_crl_facts_of(&facts, crl);
		return sg_error_set(SG_ERR_VERIFY,
				    "%s: CRL %d (issuer \"%s\", number %s): %s; remove it from "
				    "the CRL file (export takes the CRLs of the signer's CAs only)",
				    crl_file, i + 1, facts.issuer,
				    facts.number[0] ? facts.number : "(none)",
				    named ? "its signature does not verify with its issuer's key"
					  : "its issuer is none of the CAs of the signer's chain");
	}
	return SG_OK;
}

/* The leaf may sign code, as sign requires (sg_cert_check_codesign()). */
static int check_leaf(const sg_export *ex, const sg_export_input *in)
{
	sg_cert_info info;
	char why[SG_ERROR_MAX];
	int error = sg_cert_info_from_x509(&info, ex->leaf);

	if (!error && in->expect_thumbprint && !thumbprint_is(ex->leaf, in->expect_thumbprint))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: the signer \"%s\" has the thumbprint %s (SHA-256 %s), "
				    "not %s (--expect-thumbprint); nothing exported",
				    ex->leaf_from, info.subject, info.sha1_thumbprint, info.sha256,
				    in->expect_thumbprint);
	if (!error && sg_cert_check_codesign(ex->leaf, "x") != SG_OK) {
		snprintf(why, sizeof(why), "%s", sg_error_last() + 3);
		return sg_error_set(SG_ERR_VERIFY,
				    "%s: \"%s\" (thumbprint %s) is not a code-signing certificate "
				    "(sign requires codeSigning, not a CA): %s",
				    ex->leaf_from, info.subject, info.sha1_thumbprint, why);
	}
	/* As sign: a certificate naming CRL distribution points needs the CRLs or an explicit no.
	 */
	if (!error && in->require_crl && !in->crl_file && !in->ignore_crl &&
	    X509_get_ext_by_NID(ex->leaf, NID_crl_distribution_points, -1) >= 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: the signing certificate names CRL distribution points, "
				    "so export (as sign) needs \"trust.crl_file\" (offline CRLs) "
				    "or, explicitly, \"trust.ignore_crl\": true",
				    ex->leaf_from);
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
			    ex->pkcs12_unread ? " (export takes no intermediates from the "
						"PKCS#12 here: put them into signing.certificate "
						"after the leaf, or give --chain FILE)"
					      : "");
}

int sg_export_load(sg_export *out, const sg_export_input *in)
{
	STACK_OF(X509) *pool = sk_X509_new_null(), *anchors = sk_X509_new_null();
	int error;

	memset(out, 0, sizeof(*out));
	out->intermediates = sk_X509_new_null();
	out->roots = sk_X509_new_null();
	out->crls = sk_X509_CRL_new_null();
	if (!pool || !anchors || !out->intermediates || !out->roots || !out->crls) {
		sk_X509_free(pool);
		sk_X509_free(anchors);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	if (!in->ca_file)
		error = sg_error_set(SG_ERR_CONFIG, "no trust anchors (trust.ca_file or --ca)");
	else
		error = find_leaf(out, pool, in);
	if (!error)
		error = check_leaf(out, in);
	if (!error)
		error = sg_trust_read_pem(anchors, NULL, in->ca_file, "trust anchors", NULL);
	if (!error && sk_X509_num(anchors) == 0)
		error = sg_error_set(SG_ERR_CONFIG, "%s: no certificate in the trust anchors",
				     in->ca_file);
	if (!error && in->crl_file)
		error = sg_trust_read_pem(NULL, out->crls, in->crl_file, "CRLs", NULL);
	/* The verdict as signing judges it: the EKU of each CA, revocation. */
	if (!error)
		error = verify(out, pool, in);
	if (!error)
		error = chain_path(out, pool, anchors);
	if (!error)
		error = check_crls(out, in->crl_file);
	if (!error)
		error = sg_cert_info_from_x509(&out->signer, out->leaf);
	sk_X509_pop_free(pool, X509_free);
	sk_X509_pop_free(anchors, X509_free);
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

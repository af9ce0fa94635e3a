/*
 * cert export, part 2: the files, in memory (signgate/cert_export.h): the
 * certificates as DER, the chain as PKCS#7, the CRLs as DER, the
 * thumbprint and the import script. README.txt: cert_export_readme.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "cert_export_internal.h"
#include "signgate/error.h"

void sg_export_escape(char *out, size_t size, const char *in)
{
	size_t n = 0;

	if (!size)
		return;
	for (const unsigned char *p = (const unsigned char *)in; *p && n + 5 < size; p++) {
		if (*p >= 0x20 && *p <= 0x7e && *p != '"')
			out[n++] = (char)*p;
		else
			n += (size_t)snprintf(out + n, size - n, "\\x%02X", *p);
	}
	out[n] = '\0';
}

void export_crl_facts_of(export_crl_facts *out, const X509_CRL *crl)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char issuer[300] = "?";
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	BIGNUM *bn = num ? ASN1_INTEGER_to_BN(num, NULL) : NULL;
	char *dec = bn ? BN_bn2dec(bn) : NULL;

	memset(out, 0, sizeof(*out));
	/* The same one-line RFC 2253 form as the certificates' subjects. */
	if (bio && X509_NAME_print_ex(bio, X509_CRL_get_issuer(crl), 0, XN_FLAG_RFC2253) >= 0) {
		int n = BIO_read(bio, issuer, sizeof(issuer) - 1);
		issuer[n > 0 ? n : 0] = '\0';
	}
	BIO_free(bio);
	sg_export_escape(out->issuer, sizeof(out->issuer), issuer);
	sg_asn1_time_iso(out->this_update, X509_CRL_get0_lastUpdate(crl));
	if (X509_CRL_get0_nextUpdate(crl))
		sg_asn1_time_iso(out->next_update, X509_CRL_get0_nextUpdate(crl));
	if (dec)
		snprintf(out->number, sizeof(out->number), "%s", dec);
	OPENSSL_free(dec);
	BN_free(bn);
	ASN1_INTEGER_free(num);
	ERR_clear_error();
}

/* Add a file; takes `data` (malloc'd) in every case. */
static int add_file(sg_export *ex, sg_export_kind kind, const char *name, unsigned char *data,
		    size_t len)
{
	sg_export_file *f = realloc(ex->files, (ex->n_files + 1) * sizeof(*f));

	if (!f) {
		free(data);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	ex->files = f;
	f += ex->n_files++;
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->kind = kind;
	f->data = data;
	f->len = len;
	return SG_OK;
}

/* i2d into a new buffer. */
#define TO_DER(fn, obj, out, len)                                                                  \
	do {                                                                                       \
		int n_ = fn(obj, NULL);                                                            \
		unsigned char *p_;                                                                 \
		*(out) = n_ > 0 ? malloc((size_t)n_) : NULL;                                       \
		p_ = *(out);                                                                       \
		if (*(out) && fn(obj, &p_) != n_) {                                                \
			free(*(out));                                                              \
			*(out) = NULL;                                                             \
		}                                                                                  \
		*(len) = *(out) ? (size_t)n_ : 0;                                                  \
	} while (0)

static int add_cert(sg_export *ex, sg_export_kind kind, const char *name, X509 *x)
{
	unsigned char *der;
	size_t len;
	int error;

	TO_DER(i2d_X509, x, &der, &len);
	ERR_clear_error();
	if (!der)
		return sg_error_set(SG_ERR_CRYPTO, "%s: cannot encode the certificate", name);
	error = add_file(ex, kind, name, der, len);
	if (!error)
		ex->files[ex->n_files - 1].cert = x;
	return error;
}

int export_writes(const sg_export *ex, const char *name)
{
	for (size_t i = 0; i < ex->n_files; i++)
		if (strcmp(ex->files[i].name, name) == 0)
			return 1;
	return 0;
}

/* "root-<CN>.cer" with only [A-Za-z0-9._-] in it; "root-N.cer" when that fails. */
static void root_name(char *out, size_t size, const sg_export *ex, X509 *x, int index)
{
	X509_NAME *subj = X509_get_subject_name(x);
	int pos = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	unsigned char *cn = NULL;
	char safe[64];
	size_t n = 0;

	if (pos >= 0 &&
	    ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, pos))) > 0)
		for (unsigned char *p = cn; *p && n < sizeof(safe) - 1; p++)
			safe[n++] =
				(*p < 0x80 && (isalnum(*p) || strchr("._-", *p))) ? (char)*p : '-';
	safe[n] = '\0';
	OPENSSL_free(cn);
	ERR_clear_error();
	/* A name of dots alone ("..") is no file name: keep it from counting as one. */
	if (strspn(safe, ".") == n)
		n = 0;
	snprintf(out, size, "root-%s.cer", safe);
	if (!n || export_writes(ex, out))
		snprintf(out, size, "root-%d.cer", index);
}

static int add_certs(sg_export *ex)
{
	char name[96];
	int error = SG_OK, n_roots = sk_X509_num(ex->roots);

	for (int i = 0; !error && i < n_roots; i++) {
		X509 *x = sk_X509_value(ex->roots, i);
		if (n_roots == 1)
			snprintf(name, sizeof(name), "root.cer");
		else
			root_name(name, sizeof(name), ex, x, i + 1);
		error = add_cert(ex, SG_EXPORT_ROOT, name, x);
	}
	for (int i = 0; !error && i < sk_X509_num(ex->intermediates); i++) {
		snprintf(name, sizeof(name), "intermediate-%d.cer", i + 1);
		error = add_cert(ex, SG_EXPORT_INTERMEDIATE, name,
				 sk_X509_value(ex->intermediates, i));
	}
	if (!error)
		error = add_cert(ex, SG_EXPORT_SIGNER, "signer.cer", ex->leaf);
	return error;
}

/* DER PKCS#7 SignedData, certificates only: the leaf, the intermediates, the roots. */
static int add_p7b(sg_export *ex)
{
	PKCS7 *p7 = PKCS7_new();
	unsigned char *der = NULL;
	size_t len = 0;
	int ok = p7 && PKCS7_set_type(p7, NID_pkcs7_signed) &&
		 PKCS7_content_new(p7, NID_pkcs7_data) && PKCS7_add_certificate(p7, ex->leaf);

	for (int i = 0; ok && i < sk_X509_num(ex->intermediates); i++)
		ok = PKCS7_add_certificate(p7, sk_X509_value(ex->intermediates, i));
	for (int i = 0; ok && i < sk_X509_num(ex->roots); i++)
		ok = PKCS7_add_certificate(p7, sk_X509_value(ex->roots, i));
	if (ok)
		TO_DER(i2d_PKCS7, p7, &der, &len);
	PKCS7_free(p7);
	ERR_clear_error();
	if (!der)
		return sg_error_set(SG_ERR_CRYPTO, "signgate-chain.p7b: cannot encode the chain");
	return add_file(ex, SG_EXPORT_P7B, "signgate-chain.p7b", der, len);
}

static int add_crls(sg_export *ex)
{
	char name[96];
	int error = SG_OK;

	for (int i = 0; !error && i < sk_X509_CRL_num(ex->crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(ex->crls, i);
		unsigned char *der;
		size_t len;

		snprintf(name, sizeof(name), "crl-%d.crl", i + 1);
		TO_DER(i2d_X509_CRL, crl, &der, &len);
		ERR_clear_error();
		if (!der)
			error = sg_error_set(SG_ERR_CRYPTO, "%s: cannot encode the CRL", name);
		else if (len > EXPORT_FILE_MAX) {
			free(der);
			error = sg_error_set(SG_ERR_CONFIG,
					     "%s: the CRL is %zu bytes, more than the %u export "
					     "writes and checks",
					     name, len, EXPORT_FILE_MAX);
		} else {
			error = add_file(ex, SG_EXPORT_CRL, name, der, len); /* frees der on failure */
		}
		if (!error)
			ex->files[ex->n_files - 1].crl = crl;
	}
	return error;
}

static int add_text(sg_export *ex, sg_export_kind kind, const char *name,
		    int (*make)(char **, size_t *, const sg_export *))
{
	char *buf = NULL;
	size_t len = 0;
	int error = make(&buf, &len, ex);

	return error ? error : add_file(ex, kind, name, (unsigned char *)buf, len);
}

static int thumbprint_text(char **out, size_t *len, const sg_export *ex)
{
	*out = malloc(sizeof(ex->signer.sha1_thumbprint) + 1);
	if (!*out)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	snprintf(*out, sizeof(ex->signer.sha1_thumbprint) + 1, "%s\n", ex->signer.sha1_thumbprint);
	*len = strlen(*out);
	return SG_OK;
}

int sg_export_build(sg_export *ex)
{
	int error = add_certs(ex);

	if (!error)
		error = add_p7b(ex);
	if (!error)
		error = add_crls(ex);
	if (!error)
		error = add_text(ex, SG_EXPORT_THUMBPRINT, "thumbprint.txt", thumbprint_text);
	if (!error)
		error = add_text(ex, SG_EXPORT_SCRIPT, "import-signgate-trust.ps1", export_script);
	/* Last: it lists the files above. */
	if (!error)
		error = add_text(ex, SG_EXPORT_README, "README.txt", export_readme);
	return error;
}

/* The signing key's checks; see include/signgate/signer.h. */
#include "signgate/signer.h"
#include "signgate/keys.h"
#include "signgate/lint.h"
#include "signgate/error.h"
#include "signgate/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>


static int check_cert(const sg_key_material *km, const char *what)
{
	if (km->key && X509_check_private_key(km->cert, km->key) != 1) {
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
	X509 *cert = sg_keys_read_cert(path);
	int error = cert ? sg_cert_info_from_x509(out, cert) : sg_error_code();

	X509_free(cert);
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

/* Signing refuses a certificate that fails the profile lint, with the finding. */
static int lint_gate(const sg_key_material *km, const sg_config *cfg, const char *what)
{
	sg_lint_report report;
	int error = sg_lint_cert(&report, km->cert, km->chain, cfg->ca_file, cfg->crl_file, km->key,
				 km->in_token, time(NULL));

	for (size_t i = 0; error == SG_OK && i < report.n; i++)
		if (report.findings[i].level == SG_LINT_FAIL)
			error = sg_error_set(
				SG_ERR_CRYPTO,
				"%s: the signing certificate fails the profile (%s: %s); "
				"see `signgate cert lint`",
				what, report.findings[i].check, report.findings[i].message);
	sg_lint_report_free(&report);
	return error;
}

/*
 * A certificate that names CRL distribution points is verified only with a
 * CRL file or with CRL checks explicitly off: say so before signing, not after.
 */
static int check_revocation_config(const sg_key_material *km, const sg_config *cfg)
{
	if (cfg->crl_file || cfg->ignore_crl ||
	    X509_get_ext_by_NID(km->cert, NID_crl_distribution_points, -1) < 0)
		return SG_OK;
	return sg_error_set(SG_ERR_CONFIG,
			    "%s: the signing certificate names CRL distribution points, so "
			    "verification needs \"trust.crl_file\" (offline CRLs) or, explicitly, "
			    "\"trust.ignore_crl\": true",
			    cfg->path);
}

int sg_signer_check_material(sg_cert_info *out, const sg_key_material *km, const sg_config *cfg)
{
	const char *what = cfg->pkcs12 ? cfg->pkcs12 : cfg->cert_chain;
	int error = check_cert(km, what);

	if (error == SG_OK)
		error = check_revocation_config(km, cfg);
	if (error == SG_OK)
		error = lint_gate(km, cfg, what);
	if (error == SG_OK)
		error = sg_cert_info_from_x509(out, km->cert);
	if (error == SG_OK)
		error = check_configured_cert(out, cfg);
	return error;
}

int sg_signer_load(sg_cert_info *out, const sg_config *cfg, const sg_secret *secret)
{
	sg_key_material km;
	int error = sg_keys_open(&km, cfg, secret);

	if (error == SG_OK)
		error = sg_signer_check_material(out, &km, cfg);
	sg_key_material_free(&km);
	return error;
}

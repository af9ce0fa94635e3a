/* Signing through osslsigncode; see include/signgate/signer.h. */
#include "signgate/signer.h"
#include "signgate/keys.h"
#include "signgate/lint.h"
#include "signgate/error.h"
#include "signgate/proc.h"
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

#define SIGN_TIMEOUT_NO_TSA 600
#define MAX_ARGS            32

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

int sg_signer_identify(sg_cert_info *out, const sg_config *cfg, const sg_secret *secret)
{
	sg_key_material km;
	int error;

	if (cfg->certificate)
		return sg_signer_load_certificate(out, cfg->certificate);
	error = sg_keys_open(&km, cfg, secret);
	if (error == SG_OK)
		error = sg_cert_info_from_x509(out, km.cert);
	sg_key_material_free(&km);
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
		       const char *tsa_url, int has_secret)
{
	b->n = 0;
	arg(b, cfg->osslsigncode);
	arg(b, "sign");
	arg(b, "-h");
	arg(b, "sha256");
	if (cfg->pkcs11_module) {
		if (cfg->pkcs11_engine) {
			arg(b, "-pkcs11engine");
			arg(b, cfg->pkcs11_engine);
		}
		arg(b, "-pkcs11module");
		arg(b, cfg->pkcs11_module);
		arg(b, "-certs");
		arg(b, cfg->cert_chain);
		arg(b, "-key");
		arg(b, cfg->key);
	} else if (cfg->pkcs12) {
		arg(b, "-pkcs12");
		arg(b, cfg->pkcs12);
	} else {
		arg(b, "-certs");
		arg(b, cfg->cert_chain);
		arg(b, "-key");
		arg(b, cfg->key);
	}
	if (has_secret) {
		arg(b, "-readpass"); /* "-" reads the password or PIN from our pipe */
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
	if (req->add_msi_dse)
		arg(b, "-add-msi-dse");
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

/*
 * Did the key fail (wrong PIN or password, no such token or object)? Then
 * no later input can succeed, and a real HSM may lock after a few tries.
 */
static int key_failure(const sg_proc_result *r)
{
	static const char *const marks[] = { "PIN",
					     "pkcs11",
					     "PKCS11",
					     "PKCS#11",
					     "Failed to load private key",
					     "private key",
					     "Failed to read key",
					     NULL };

	for (size_t i = 0; marks[i]; i++)
		if (strstr(r->err, marks[i]) || strstr(r->out, marks[i]))
			return 1;
	return 0;
}

/* The child's environment: the minimal one plus what a PKCS#11 module needs. */
static const char **child_env(const sg_config *cfg)
{
	size_t n = 0;
	const char **env;

	while (cfg->pkcs11_env && cfg->pkcs11_env[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	env[0] = "PATH=/usr/bin:/bin";
	env[1] = "LC_ALL=C";
	for (size_t i = 0; i < n; i++)
		env[i + 2] = cfg->pkcs11_env[i];
	return env;
}

static int describe_failure(const sg_config *cfg, const sg_proc_result *r, int timeout_sec)
{
	char how[64], line[512];

	first_line(line, sizeof(line), r);
	if (cfg->pkcs11_module && key_failure(r))
		return sg_error_set(
			SG_ERR_CRYPTO,
			"the token refused the key or the PIN (osslsigncode sign %s: %s)",
			sg_proc_describe(r, timeout_sec, how, sizeof(how)),
			line[0] ? line : "(no message)");
	return sg_error_set(SG_ERR_TOOL, "osslsigncode sign %s: %s",
			    sg_proc_describe(r, timeout_sec, how, sizeof(how)),
			    line[0] ? line : "(no message)");
}

/* One osslsigncode run; on failure the last error says why. */
static int run_once(const sg_config *cfg, const sg_sign_request *req, const char *tsa_url,
		    const sg_secret *secret, int *tsa_failed)
{
	argv_builder b;
	sg_proc_result r;
	sg_proc_spec spec = { 0 };
	const char **env = child_env(cfg);
	struct stat st;
	int error;

	*tsa_failed = 0;
	if (!env)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	build_argv(&b, cfg, req, tsa_url, secret && secret->data);
	spec.argv = b.v;
	spec.envp = env;
	spec.stdin_data = secret ? secret->data : NULL;
	spec.stdin_len = secret ? secret->len : 0;
	spec.timeout_sec = tsa_url ? cfg->timestamp_timeout : SIGN_TIMEOUT_NO_TSA;
	unlink(req->output);
	error = sg_proc_run(&r, &spec);
	free(env);
	if (error)
		return error;
	if (r.exited && r.exit_status == 0 && stat(req->output, &st) == 0 && st.st_size > 0) {
		sg_proc_result_free(&r);
		return SG_OK;
	}
	error = describe_failure(cfg, &r, spec.timeout_sec);
	*tsa_failed = tsa_url && error == SG_ERR_TOOL && tsa_failure(&r);
	sg_proc_result_free(&r);
	unlink(req->output);
	return error;
}

static int sign_untimestamped(sg_sign_result *out, const sg_config *cfg, const sg_sign_request *req,
			      const sg_secret *secret)
{
	int tsa_failed;

	return run_once(cfg, req, NULL, secret, &tsa_failed) == SG_OK
		       ? SG_OK
		       : sg_error_prefix("no TSA answered (%s), and signing without a timestamp "
					 "failed too",
					 out->attempts);
}

int sg_signer_sign(sg_sign_result *out, const sg_config *cfg, const sg_secret *secret,
		   const sg_sign_request *req)
{
	size_t used = 0;
	int error = sg_config_require_signing(cfg), tsa_failed;

	memset(out, 0, sizeof(*out));
	if (error)
		return error;
	if (cfg->n_timestamp_urls == 0)
		return run_once(cfg, req, NULL, secret, &tsa_failed);
	for (size_t i = 0; i < cfg->n_timestamp_urls; i++) {
		const char *url = cfg->timestamp_urls[i];
		error = run_once(cfg, req, url, secret, &tsa_failed);
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
	if (!cfg->timestamp_required)
		return sign_untimestamped(out, cfg, req, secret);
	return sg_error_set(SG_ERR_TOOL,
			    "timestamping is required and no TSA answered (%zu tried): %s",
			    cfg->n_timestamp_urls, out->attempts);
}

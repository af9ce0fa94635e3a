/*
 * Opening the audit log's sealing key; see audit_seal_internal.h. A key in
 * a PKCS#11 token is reached through libp11's engine (pkcs11_internal.h).
 */
#include "audit_seal_internal.h"
#include "cms_internal.h"
#include "pkcs11_internal.h"
#include "signgate/error.h"
#include "signgate/secret.h"
#include "signgate/util.h"

#include <string.h>

static int open_pem(sg_seal_key *out, const sg_config *cfg, const sg_secret *secret)
{
	return sg_pem_key_read(&out->key, cfg->seal_key, secret, "the sealing key",
			       "\"audit_seal\" names no password (password_file, password_env "
			       "or password_prompt)");
}

static int open_token(sg_seal_key *out, const sg_config *cfg, const sg_secret *secret)
{
	return sg_pkcs11_key_load(&out->key, &out->engine, cfg->seal_pkcs11_module, cfg->seal_key,
				  secret, "the sealing key");
}

int sg_seal_key_open(sg_seal_key *out, const sg_config *cfg)
{
	sg_secret secret = { 0 };
	int error = SG_OK;

	memset(out, 0, sizeof(*out));
	if (!cfg->seal_pkcs11_module && sg_secret_check_file(cfg->seal_key) != SG_OK)
		return sg_error_code();
	error = sg_secret_obtain_from(&secret, &cfg->seal_secret, cfg->path, cfg->seal_key);
	if (!error)
		error = cfg->seal_pkcs11_module ? open_token(out, cfg, &secret)
						: open_pem(out, cfg, &secret);
	sg_secret_clear(&secret);
	if (error)
		sg_seal_key_free(out);
	return error;
}

void sg_seal_key_free(sg_seal_key *k)
{
	sg_pkcs11_key_free(k->key, k->engine);
	memset(k, 0, sizeof(*k));
}

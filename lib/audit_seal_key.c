/*
 * Opening the audit log's sealing key; see audit_seal_internal.h.
 *
 * A key in a PKCS#11 token is reached through libp11's OpenSSL engine
 * (engine id "pkcs11", Debian package libengine-pkcs11-openssl), the same
 * engine osslsigncode uses for the signing key. The ENGINE API is
 * deprecated in OpenSSL 3, but its replacement, pkcs11-provider, is not in
 * Debian 12. The build treats warnings as errors, so the deprecation
 * warnings are switched off here, in this one file, and nowhere else.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "audit_seal_internal.h"
#include "cms_internal.h"
#include "signgate/error.h"
#include "signgate/secret.h"
#include "signgate/util.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/ui.h>

static int open_pem(sg_seal_key *out, const sg_config *cfg, const sg_secret *secret)
{
	return sg_pem_key_read(&out->key, cfg->seal_key, secret, "the sealing key",
			       "\"audit_seal\" names no password (password_file, password_env "
			       "or password_prompt)");
}

/* The libp11 engine on the configured module; a functional reference in *out. */
static int start_engine(ENGINE **out, const char *module)
{
	struct stat st;
	ENGINE *e;

	if (stat(module, &st) != 0)
		return sg_error_set(SG_ERR_TOOL, "%s: cannot use the PKCS#11 module: %s", module,
				    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sg_error_set(SG_ERR_TOOL, "%s: the PKCS#11 module is not a file", module);
	e = ENGINE_by_id("pkcs11");
	if (!e) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_TOOL,
				    "cannot load OpenSSL's \"pkcs11\" engine (Debian package "
				    "libengine-pkcs11-openssl) for the sealing key");
	}
	if (!ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0) || !ENGINE_init(e)) {
		ENGINE_free(e);
		ERR_clear_error();
		return sg_error_set(SG_ERR_TOOL, "%s: the pkcs11 engine cannot load this module",
				    module);
	}
	/* The structural reference is not needed beside the functional one. */
	ENGINE_free(e);
	*out = e;
	return SG_OK;
}

static int open_token(sg_seal_key *out, const sg_config *cfg, const sg_secret *secret)
{
	ENGINE *e = NULL;
	int error = start_engine(&e, cfg->seal_pkcs11_module);

	if (error)
		return error;
	out->engine = e;
	/*
	 * libp11 keeps its own copy of the PIN until the engine is destroyed,
	 * and cleanses it then (see sg_seal_key_free()).
	 */
	if (secret->data && !ENGINE_ctrl_cmd_string(e, "PIN", secret->data, 0)) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_TOOL, "the pkcs11 engine refused the PIN of %s",
				    cfg->seal_key);
	}
	/*
	 * UI_null(): without a configured PIN the engine must fail, not prompt.
	 * The cast drops a const the old ENGINE prototype lacks; nothing writes it.
	 */
	out->key = ENGINE_load_private_key(e, cfg->seal_key, (UI_METHOD *)UI_null(), NULL);
	ERR_clear_error();
	if (!out->key)
		return sg_error_set(SG_ERR_CRYPTO,
				    "%s: cannot load the sealing key from the token (module %s): "
				    "wrong PIN, no PIN configured, no such key, or the module "
				    "does not find the token (its environment, e.g. SOFTHSM2_CONF)",
				    cfg->seal_key, cfg->seal_pkcs11_module);
	return SG_OK;
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
	EVP_PKEY_free(k->key);
	/*
	 * Off OpenSSL's engine list, the engine is destroyed when its last
	 * reference goes (ours, once the key is freed), and libp11 cleanses
	 * its copy of the PIN then rather than at exit.
	 */
	if (k->engine) {
		ENGINE_remove(k->engine);
		ENGINE_finish(k->engine);
	}
	memset(k, 0, sizeof(*k));
}

/*
 * Private keys in PKCS#11 tokens; see pkcs11_internal.h.
 *
 * The ENGINE API is deprecated in OpenSSL 3, but its replacement,
 * pkcs11-provider, is not in Debian 12. The build treats warnings as
 * errors, so the deprecation warnings are switched off here, in this one
 * file, and nowhere else.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "pkcs11_key.h"
#include "signgate/error.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/ui.h>

/*
 * The engine named by its shared object `path` (signing.pkcs11_engine),
 * loaded through OpenSSL's "dynamic" engine; NULL and a message otherwise.
 */
static ENGINE *engine_from_path(const char *path)
{
	ENGINE *e = ENGINE_by_id("dynamic");

	if (e && ENGINE_ctrl_cmd_string(e, "SO_PATH", path, 0) &&
	    ENGINE_ctrl_cmd_string(e, "LOAD", NULL, 0))
		return e;
	ENGINE_free(e);
	ERR_clear_error();
	sg_error_set(SG_ERR_TOOL, "%s: cannot load this OpenSSL engine (\"pkcs11_engine\")",
		     path);
	return NULL;
}

/* The libp11 engine (or the one at `engine_path`) on `module`; a functional reference in *out. */
static int start_engine(ENGINE **out, const char *engine_path, const char *module,
			const char *what)
{
	struct stat st;
	ENGINE *e;

	if (stat(module, &st) != 0)
		return sg_error_set(SG_ERR_TOOL, "%s: cannot use the PKCS#11 module: %s", module,
				    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sg_error_set(SG_ERR_TOOL, "%s: the PKCS#11 module is not a file", module);
	if (engine_path) {
		e = engine_from_path(engine_path);
		if (!e)
			return sg_error_code();
	} else {
		e = ENGINE_by_id("pkcs11");
	}
	if (!e) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_TOOL,
				    "cannot load OpenSSL's \"pkcs11\" engine (Debian package "
				    "libengine-pkcs11-openssl) for %s",
				    what);
	}
	if (!ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0) || !ENGINE_init(e)) {
		ENGINE_free(e);
		ERR_clear_error();
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the %s engine%s%s cannot load this module (in the confined "
				    "key helper a module reads only what the config names: its "
				    "token's files, e.g. SoftHSM2's token folder, belong in "
				    "\"signing.pkcs11_paths\")",
				    module, engine_path ? "configured" : "pkcs11",
				    engine_path ? " " : "", engine_path ? engine_path : "");
	}
	/* The structural reference is not needed beside the functional one. */
	ENGINE_free(e);
	*out = e;
	return SG_OK;
}

int sg_pkcs11_key_load(EVP_PKEY **key, void **engine, const char *module, const char *uri,
		       const sg_secret *pin, const char *what)
{
	return sg_pkcs11_key_load_engine(key, engine, NULL, module, uri, pin, what);
}

int sg_pkcs11_key_load_engine(EVP_PKEY **key, void **engine, const char *engine_path,
			      const char *module, const char *uri, const sg_secret *pin,
			      const char *what)
{
	ENGINE *e = NULL;
	int error = start_engine(&e, engine_path, module, what);

	*key = NULL;
	*engine = NULL;
	if (error)
		return error;
	*engine = e;
	/*
	 * libp11 copies the PIN into the ordinary heap twice: the engine's copy
	 * (taken back below once the key is loaded) and the slot's, which it
	 * keeps for logging in again until the process ends (README).
	 */
	if (pin && pin->data && !ENGINE_ctrl_cmd_string(e, "PIN", pin->data, 0)) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_TOOL, "the pkcs11 engine refused the PIN of %s", uri);
	}
	/*
	 * UI_null(): without a configured PIN the engine must fail, not prompt.
	 * The cast drops a const the old ENGINE prototype lacks; nothing writes it.
	 */
	*key = ENGINE_load_private_key(e, uri, (UI_METHOD *)UI_null(), NULL);
	/*
	 * The session is logged in (or the login failed): replacing the PIN
	 * makes libp11 cleanse and free its engine copy now, not at exit.
	 */
	if (pin && pin->data)
		ENGINE_ctrl_cmd_string(e, "PIN", "-", 0);
	ERR_clear_error();
	if (!*key)
		return sg_error_set(SG_ERR_CRYPTO,
				    "%s: cannot load %s from the token (module %s): wrong PIN, "
				    "no PIN configured, no such key, or the module does not find "
				    "the token (its environment, e.g. SOFTHSM2_CONF, or a token "
				    "folder missing from \"signing.pkcs11_paths\")",
				    uri, what, module);
	return SG_OK;
}

void sg_pkcs11_key_free(EVP_PKEY *key, void *engine)
{
	EVP_PKEY_free(key);
	/*
	 * Off OpenSSL's engine list, the engine can go with its last reference.
	 * libp11's slot copy of the PIN was still in memory after this in
	 * tests/integration/test_coredump.sh (it stays until exit).
	 */
	if (engine) {
		ENGINE_remove(engine);
		ENGINE_finish(engine);
	}
}

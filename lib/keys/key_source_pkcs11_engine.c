/*
 * Key source "pkcs11-engine": a private key in a PKCS#11 token through
 * libp11's OpenSSL engine (engine id "pkcs11", Debian package
 * libengine-pkcs11-openssl; "pkcs11_engine" names another engine file),
 * the module "pkcs11_module", the key a "pkcs11:" URI, its certificates in
 * "cert_chain". A config with "pkcs11_module" and no "key_source" means
 * this row.
 *
 * The ENGINE API is deprecated in OpenSSL 3; its replacement is the
 * "pkcs11-provider" row (key_source_pkcs11_provider.c). The build treats
 * warnings as errors, so the deprecation warnings are switched off here, in
 * this one file: nothing else includes openssl/engine.h or calls ENGINE_*.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "key_source.h"
#include "signgate/error.h"

#include <string.h>

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
	sg_error_set(SG_ERR_TOOL, "%s: cannot load this OpenSSL engine (\"pkcs11_engine\")", path);
	return NULL;
}

/* The libp11 engine (or the one at `engine_path`) on `module`; a functional reference in *out. */
static int start_engine(ENGINE **out, const char *engine_path, const char *module, const char *what)
{
	ENGINE *e;

	if (sg_keys_module_file(module) != SG_OK)
		return sg_error_code();
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
		return sg_error_set(
			SG_ERR_TOOL,
			"%s: the %s engine%s%s cannot load this module (in the confined "
			"key helper a module reads only what the config names: its "
			"token's files, e.g. SoftHSM2's token folder, belong in "
			"\"signing.pkcs11_paths\")",
			module, engine_path ? "configured" : "pkcs11", engine_path ? " " : "",
			engine_path ? engine_path : "");
	}
	/* The structural reference is not needed beside the functional one. */
	ENGINE_free(e);
	*out = e;
	return SG_OK;
}

static int load_key(EVP_PKEY **key, ENGINE **engine, const char *engine_path, const char *module,
		    const char *uri, const sg_secret *pin, const char *what)
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

static void release(void *keep)
{
	ENGINE *engine = keep;

	/*
	 * Off OpenSSL's engine list, the engine can go with its last reference.
	 * libp11's slot copy of the PIN was still in memory after this in
	 * tests/integration/test_coredump.sh (it stays until exit).
	 */
	ENGINE_remove(engine);
	ENGINE_finish(engine);
}

static int private_key(sg_key *out, const sg_key_view *v, const sg_secret *secret, const char *what)
{
	ENGINE *e = NULL;
	int error =
		load_key(&out->pkey, &e, v->pkcs11_engine, v->pkcs11_module, v->key, secret, what);

	out->keep = e;
	return error;
}

static int material(sg_key_material *km, const sg_key_view *v, const sg_secret *secret)
{
	(void)secret;
	return sg_keys_token_material(km, v);
}

/* A module, or a pkcs11: URI (its check then says the module is missing). */
static int implied_by(const sg_key_view *v)
{
	return v->pkcs11_module != NULL || (v->key && strncmp(v->key, "pkcs11:", 7) == 0);
}

static void allow(sg_key_allow *a, const sg_key_view *v)
{
	sg_key_allow_token(a, v);
	sg_key_allow_read(a, v->pkcs11_engine);
}

static const char *const keys[] = { "pkcs11_module",  "key",        "cert_chain",
				    "pkcs11_engine",  "pkcs11_env", "pkcs11_paths",
				    "pkcs11_network", "pin_file",   "pin_env",
				    "pin_prompt",     NULL };

const sg_key_source_ops sg_key_source_pkcs11_engine = {
	.name = "pkcs11-engine",
	.title = "PKCS#11 token, libp11 engine",
	.config_keys = keys,
	.secret = "PIN",
	.key_in_file = 0,
	.implied_by = implied_by,
	.check = sg_keys_check_token,
	.material = material,
	.private_key = private_key,
	.release = release,
	.set_env = sg_keys_put_env,
	.allow = allow,
};

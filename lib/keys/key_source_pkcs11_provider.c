/*
 * Key source "pkcs11-provider": a private key in a PKCS#11 token through
 * pkcs11-provider, OpenSSL 3's replacement for the engine (Debian package
 * pkcs11-provider, in bookworm-backports for Debian 12). Settings as for
 * "pkcs11-engine" ("pkcs11_module", a "pkcs11:" key URI, "cert_chain",
 * "pkcs11_env", "pkcs11_paths", "pkcs11_network"), without "pkcs11_engine";
 * "key_source": "pkcs11-provider" chooses it (never implied).
 *
 * The provider is loaded into an OpenSSL library context of its own
 * (OSSL_LIB_CTX), from a configuration made in memory that names the
 * module; the key is opened with OSSL_STORE from the "pkcs11:" URI, and the
 * PIN reaches the provider only through OSSL_STORE's UI method, from the
 * secret signgate holds: never through argv, the environment or a file the
 * provider reads. pkcs11-provider caches no PIN unless told to
 * (pkcs11-module-cache-pins), and wipes its copy after the login.
 */
#include "key_source.h"
#include "signgate/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/conf.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/ui.h>

/* What pkcs11-provider reads from the environment: another module, a debug file. */
static const char *const provider_vars[] = { "PKCS11_PROVIDER_MODULE", "PKCS11_PROVIDER_DEBUG",
					     NULL };

#define PROVIDER_SO     "pkcs11.so"
#define STORE_LOADS_MAX 256

/* pkcs11-provider's shared object, in OpenSSL's (built-in) modules folder. */
static int provider_path(char *out, size_t cap)
{
	const char *dir = OPENSSL_info(OPENSSL_INFO_MODULES_DIR);
	int n = dir ? snprintf(out, cap, "%s/%s", dir, PROVIDER_SO) : -1;

	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/*
 * A library context with pkcs11-provider on `module`, and OpenSSL's base
 * provider (encoders and decoders for OSSL_STORE), from a configuration in
 * memory. NULL and a message otherwise.
 */
static OSSL_LIB_CTX *start_provider(const char *module)
{
	char so[512] = "", text[2048];
	OSSL_LIB_CTX *lc = NULL;
	CONF *conf = NULL;
	BIO *bio = NULL;
	long line = 0;
	int ok = 0;

	if (provider_path(so, sizeof(so)) == 0 &&
	    snprintf(text, sizeof(text),
		     "openssl_conf = sg_init\n[sg_init]\nproviders = sg_providers\n"
		     "[sg_providers]\npkcs11 = sg_pkcs11\nbase = sg_base\n"
		     "[sg_base]\nactivate = 1\n"
		     "[sg_pkcs11]\nmodule = %s\npkcs11-module-path = %s\nactivate = 1\n",
		     so, module) < (int)sizeof(text)) {
		OPENSSL_load_builtin_modules();
		lc = OSSL_LIB_CTX_new();
		conf = lc ? NCONF_new_ex(lc, NULL) : NULL;
		bio = conf ? BIO_new_mem_buf(text, -1) : NULL;
		ok = bio && NCONF_load_bio(conf, bio, &line) > 0 &&
		     CONF_modules_load(conf, NULL, 0) > 0 && OSSL_PROVIDER_available(lc, "pkcs11");
	}
	BIO_free(bio);
	NCONF_free(conf);
	ERR_clear_error();
	if (ok)
		return lc;
	OSSL_LIB_CTX_free(lc);
	sg_error_set(SG_ERR_TOOL,
		     "%s: cannot load pkcs11-provider (Debian package pkcs11-provider, from "
		     "bookworm-backports on Debian 12) for the module %s",
		     so, module);
	return NULL;
}

/* The PIN for OSSL_STORE's UI method: the secret, or "" (the provider then gives up). */
typedef struct pin_ui {
	const sg_secret *pin;
	int asked;
} pin_ui;

static int ui_read(UI *ui, UI_STRING *uis)
{
	pin_ui *p = UI_get0_user_data(ui);
	enum UI_string_types type = UI_get_string_type(uis);

	if (type != UIT_PROMPT && type != UIT_VERIFY)
		return 1;
	p->asked++;
	/* An empty answer ends the login (CKR_CANCEL): the provider never prompts itself. */
	return UI_set_result(ui, uis, p->pin && p->pin->data ? p->pin->data : "") == 0;
}

/* The first object of `type` (OSSL_STORE_INFO_PKEY or _PUBKEY) at `uri`, or NULL. */
static EVP_PKEY *store_load(OSSL_LIB_CTX *lc, const char *uri, int type, pin_ui *p)
{
	UI_METHOD *ui = UI_create_method("signgate PIN");
	OSSL_STORE_CTX *s = NULL;
	EVP_PKEY *key = NULL;

	if (ui && UI_method_set_reader(ui, ui_read) == 0)
		s = OSSL_STORE_open_ex(uri, lc, NULL, ui, p, NULL, NULL, NULL);
	if (s && OSSL_STORE_expect(s, type) != 1) {
		OSSL_STORE_close(s);
		s = NULL;
	}
	for (int i = 0; s && !key && i < STORE_LOADS_MAX && !OSSL_STORE_eof(s); i++) {
		OSSL_STORE_INFO *info = OSSL_STORE_load(s);

		if (!info && OSSL_STORE_error(s))
			break;
		if (info && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
			key = OSSL_STORE_INFO_get1_PKEY(info);
		else if (info && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PUBKEY)
			key = OSSL_STORE_INFO_get1_PUBKEY(info);
		OSSL_STORE_INFO_free(info);
	}
	OSSL_STORE_close(s);
	UI_destroy_method(ui);
	sg_secret_scrub_stack();
	ERR_clear_error();
	return key;
}

/*
 * Whether the token shows the public half of the object the URI names
 * (without logging in: the UI method has no PIN to give): then a private
 * key that did not load was refused for its PIN.
 */
static int public_half_found(OSSL_LIB_CTX *lc, const char *uri)
{
	const char *type = strstr(uri, "type=private");
	char probe[2048];
	pin_ui none = { NULL, 0 };
	EVP_PKEY *pub;

	if (!type || strlen(uri) >= sizeof(probe))
		return 0;
	snprintf(probe, sizeof(probe), "%.*stype=public%s", (int)(type - uri), uri,
		 type + strlen("type=private"));
	pub = store_load(lc, probe, OSSL_STORE_INFO_PUBKEY, &none);
	EVP_PKEY_free(pub);
	return pub != NULL;
}

/* Why the key did not load: no token, no PIN, a wrong PIN, no such key. */
static int classify(OSSL_LIB_CTX *lc, const sg_key_view *v, const pin_ui *p, const char *what)
{
	if (!p->asked)
		return sg_error_set(SG_ERR_CRYPTO,
				    "%s: cannot load %s: no token matches the URI (module %s; "
				    "check the token label, the module's environment such as "
				    "SOFTHSM2_CONF, and \"%s.pkcs11_paths\")",
				    v->key, what, v->pkcs11_module, v->section);
	if (!p->pin || !p->pin->data)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: the token asks for a PIN for %s and \"%s\" names none "
				    "(pin_file, pin_env or pin_prompt)",
				    v->key, what, v->section);
	if (public_half_found(lc, v->key))
		return sg_error_set(SG_ERR_CRYPTO,
				    "%s: cannot load %s: wrong PIN (the token refused the login; "
				    "module %s)",
				    v->key, what, v->pkcs11_module);
	return sg_error_set(SG_ERR_CRYPTO,
			    "%s: cannot load %s: the token holds no private key that matches the "
			    "URI, or refused the PIN (module %s)",
			    v->key, what, v->pkcs11_module);
}

static int private_key(sg_key *out, const sg_key_view *v, const sg_secret *secret, const char *what)
{
	pin_ui p = { secret, 0 };
	OSSL_LIB_CTX *lc;

	/* Whoever sets these would choose the module, or get the provider's debug output. */
	for (size_t i = 0; provider_vars[i]; i++)
		unsetenv(provider_vars[i]);
	if (sg_keys_module_file(v->pkcs11_module) != SG_OK)
		return sg_error_code();
	lc = start_provider(v->pkcs11_module);
	if (!lc)
		return sg_error_code();
	out->keep = lc;
	out->pkey = store_load(lc, v->key, OSSL_STORE_INFO_PKEY, &p);
	return out->pkey ? SG_OK : classify(lc, v, &p, what);
}

static void release(void *keep)
{
	OSSL_LIB_CTX_free(keep);
}

static int material(sg_key_material *km, const sg_key_view *v, const sg_secret *secret)
{
	(void)secret;
	return sg_keys_token_material(km, v);
}

/*
 * The module path goes into a configuration text: only characters that
 * need no quoting there (no '$', '#', quotes or line breaks).
 */
static int check(const sg_key_view *v)
{
	int error = sg_keys_check_token(v);

	if (error)
		return error;
	if (strspn(v->pkcs11_module, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789/._+-") != strlen(v->pkcs11_module))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"%s.pkcs11_module\" %s: only letters, digits and "
				    "/._+- in the path of a module for pkcs11-provider",
				    v->config, v->section, v->pkcs11_module);
	return SG_OK;
}

/* The provider's shared object beside the token's allowances; p11-kit's module list. */
static void allow(sg_key_allow *a, const sg_key_view *v)
{
	sg_key_allow_token(a, v);
	sg_key_allow_read(a, OPENSSL_info(OPENSSL_INFO_MODULES_DIR));
	sg_key_allow_read(a, "/etc/pkcs11");
}

static const char *const keys[] = {
	"key_source",     "pkcs11_module", "key",     "cert_chain", "pkcs11_env", "pkcs11_paths",
	"pkcs11_network", "pin_file",      "pin_env", "pin_prompt", NULL
};

const sg_key_source_ops sg_key_source_pkcs11_provider = {
	.name = "pkcs11-provider",
	.title = "PKCS#11 token, pkcs11-provider",
	.config_keys = keys,
	.secret = "PIN",
	.key_in_file = 0,
	.implied_by = NULL,
	.check = check,
	.material = material,
	.private_key = private_key,
	.release = release,
	.set_env = sg_keys_put_env,
	.allow = allow,
};

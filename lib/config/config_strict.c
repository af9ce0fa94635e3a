/* The files a config names, held to the strict-mode rule; see sg_config_check_files(). */
#include "signgate/config.h"
#include "signgate/error.h"
#include "signgate/strict.h"
#include "signgate/util.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct checker {
	sg_strict_report *rep;
	int error; /* the first finding's code (its message is the last error) */
	char first[2 * PATH_MAX + 1024];
} checker;

/* 1: go on; 0: stop (a finding and no report). */
static int check_one(checker *c, const char *path, const sg_strict_rule *rule, unsigned flags)
{
	int error;

	if (!path || c->error == SG_ERR_NOMEM || (c->error && !c->rep))
		return c->error == SG_OK;
	error = sg_strict_check(c->rep, path, rule, flags);
	if (error && !c->error) {
		c->error = error;
		snprintf(c->first, sizeof(c->first), "%s", sg_error_last());
	}
	return c->error == SG_OK || c->rep != NULL;
}

/* A finding made here rather than by sg_strict_check(): into the report, or the first one. */
static void note(checker *c, const char *msg)
{
	char **grown;

	if (!c->error) {
		c->error = SG_ERR_CONFIG;
		snprintf(c->first, sizeof(c->first), "%s", msg);
	}
	if (!c->rep)
		return;
	grown = realloc(c->rep->msgs, (c->rep->n + 1) * sizeof(*grown));
	if (grown)
		c->rep->msgs = grown;
	if (grown && (grown[c->rep->n] = strdup(msg)) != NULL)
		c->rep->n++;
}

/*
 * The folders the caller's environment makes OpenSSL load code from, read
 * as OpenSSL reads them (secure_getenv): OPENSSL_ENGINES (the "pkcs11"
 * engine the key helper, a sealing key or an approver's token key loads)
 * and OPENSSL_MODULES (providers a configuration names). Held to the rule
 * with every entry; an empty or relative value is refused outright (OpenSSL
 * would load from "/" or from the working folder).
 */
static void check_openssl_env(checker *c, const sg_strict_rule *plain)
{
	static const char *const vars[][2] = { { "OPENSSL_ENGINES", "engines" },
					       { "OPENSSL_MODULES", "providers" } };
	char msg[2 * PATH_MAX + 1024], found[PATH_MAX + 1024];

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *dir = secure_getenv(vars[i][0]);
		int error;

		if (!dir || (c->error && !c->rep) || c->error == SG_ERR_NOMEM)
			continue;
		if (dir[0] != '/') {
			snprintf(msg, sizeof(msg),
				 "%s=\"%s\" in the environment: OpenSSL would load %s from %s; "
				 "unset it, or name an absolute folder that only root or you "
				 "can write",
				 vars[i][0], dir, vars[i][1],
				 dir[0] ? "a folder relative to the working folder"
					: "\"/\" (an empty value)");
			note(c, msg);
			continue;
		}
		error = sg_strict_check(NULL, dir, plain, SG_STRICT_ENTRIES);
		if (error == SG_ERR_NOMEM) {
			c->error = error;
			continue;
		}
		if (!error)
			continue;
		snprintf(found, sizeof(found), "%s", sg_error_last());
		snprintf(msg, sizeof(msg),
			 "%s=%s in the environment, the folder OpenSSL loads %s from: %s; "
			 "unset it or fix the folder",
			 vars[i][0], dir, vars[i][1], found);
		note(c, msg);
	}
}

/*
 * The dynamic linker's variables: LD_LIBRARY_PATH is searched first for
 * every library loaded later (libp11, a module's own libraries, in signgate
 * and in the key helper it forks), LD_PRELOAD and LD_AUDIT name code
 * outright. ld.so has acted on them before main(), so this cannot undo a
 * load; it refuses to go on to open a key in such a process. Every entry
 * must be an absolute path without ld.so's $ORIGIN-style tokens (an empty
 * entry is the working folder), held to the rule: a folder with each file
 * in it, a library file by itself. With them the variables by which a
 * PKCS#11 module loads another module (OpenSC's
 * pkcs11-spy.so loads the one PKCS11SPY names): a token key opened in
 * signgate itself (an approver's, the sealing key) is not confined, and
 * its module sees the caller's environment.
 */
static void check_loader_env(checker *c, const sg_strict_rule *plain)
{
	static const struct {
		const char *name, *seps;
		unsigned flags;
	} vars[] = { { "LD_LIBRARY_PATH", ":;", SG_STRICT_ENTRIES },
		     { "LD_PRELOAD", ": \t", 0 },
		     { "LD_AUDIT", ":", 0 },
		     { "PKCS11SPY", "", 0 } };
	char msg[2 * PATH_MAX + 1024], entry[PATH_MAX];

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *value = secure_getenv(vars[i].name), *p = value;

		while (p && !(c->error && !c->rep) && c->error != SG_ERR_NOMEM) {
			size_t len = strcspn(p, vars[i].seps);
			int error;

			/* A trailing separator in LD_PRELOAD's list is no entry; in a path it is "." */
			if (len == 0 && vars[i].flags == 0) {
				p = p[len] ? p + len + 1 : NULL;
				continue;
			}
			snprintf(entry, sizeof(entry), "%.*s", (int)len, p);
			p = p[len] ? p + len + 1 : NULL;
			if (entry[0] != '/' || strchr(entry, '$') || len >= sizeof(entry)) {
				snprintf(msg, sizeof(msg),
					 "%s=\"%s\" in the environment: the entry \"%s\" is %s; "
					 "unset it, or name absolute paths that only root or you "
					 "can write",
					 vars[i].name, value, entry,
					 !entry[0] ? "the working folder (an empty entry)"
					 : entry[0] != '/' ? "not an absolute path"
							   : "expanded by the dynamic linker");
				note(c, msg);
				continue;
			}
			error = sg_strict_check(NULL, entry, plain, vars[i].flags);
			if (error == SG_ERR_NOMEM)
				c->error = error;
			if (!error || error == SG_ERR_NOMEM)
				continue;
			snprintf(msg, sizeof(msg),
				 "%s=%s in the environment, code %s loads: %s; "
				 "unset it or fix the path",
				 vars[i].name, value,
				 vars[i].seps[0] ? "the dynamic linker" : "a PKCS#11 module",
				 sg_error_last());
			note(c, msg);
		}
	}
}

/*
 * What OpenSSL and the dynamic linker load code by. signgate itself never
 * reads an OpenSSL configuration file (tools/signgate.c starts OpenSSL with
 * OPENSSL_INIT_NO_LOAD_CONFIG: a file could name modules, engines and
 * includes anywhere, which no check here follows), so OPENSSL_CONF is not
 * consulted. osslsigncode runs with a clean environment and reads OpenSSL's
 * own configuration file: that file is checked, with the built-in folders
 * of providers and engines and every file in them, the folders the
 * environment names for them, and the loader's variables.
 */
static void check_openssl(checker *c, const sg_strict_rule *plain)
{
	const char *dir = OPENSSL_info(OPENSSL_INFO_CONFIG_DIR);
	char *own = dir ? sg_path_join(dir, "openssl.cnf") : NULL;

	check_one(c, own, plain, 0);
	check_one(c, OPENSSL_info(OPENSSL_INFO_MODULES_DIR), plain, SG_STRICT_ENTRIES);
	check_one(c, OPENSSL_info(OPENSSL_INFO_ENGINES_DIR), plain, SG_STRICT_ENTRIES);
	check_openssl_env(c, plain);
	check_loader_env(c, plain);
	free(own);
}

int sg_config_check_openssl(uid_t uid, sg_strict_report *rep)
{
	sg_strict_rule plain;
	checker c = { .rep = rep };

	sg_strict_rule_init(&plain, uid);
	check_openssl(&c, &plain);
	if (c.error && c.error != SG_ERR_NOMEM)
		return sg_error_set(c.error, "%s", c.first);
	return c.error;
}

void sg_config_policy_rule(const sg_config *cfg, uid_t uid, sg_strict_rule *out)
{
	sg_strict_rule_init(out, uid);
	out->has_gid = cfg->has_policy_gid;
	out->gid = cfg->policy_gid;
	out->group_key = "policy_group";
}

int sg_config_check_files(const sg_config *cfg, uid_t uid, sg_strict_report *rep, unsigned flags)
{
	const char *anchors[] = { cfg->ca_file,           cfg->tsa_ca_file,        cfg->crl_file,
				  cfg->approvers_ca_file, cfg->approvers_crl_file, cfg->certificate,
				  cfg->cert_chain,        cfg->seal_cert };
	const char *programs[] = { cfg->osslsigncode, cfg->pkcs11_module, cfg->pkcs11_engine,
				   cfg->seal_pkcs11_module };
	sg_strict_rule plain, policy, audit;
	checker c = { .rep = rep };
	char *audit_dir = cfg->audit_log ? sg_path_dir(cfg->audit_log) : NULL;

	sg_strict_rule_init(&plain, uid);
	sg_config_policy_rule(cfg, uid, &policy);
	sg_strict_rule_init(&audit, uid);
	audit.has_gid = cfg->has_audit_gid;
	audit.gid = cfg->audit_gid;
	audit.group_key = "audit_group";
	check_one(&c, cfg->path, &plain, 0);
	check_one(&c, cfg->policy, &policy,
		  SG_STRICT_GROUP | SG_STRICT_ENTRIES |
			  (flags & SG_CONFIG_POLICY_FILES_LATER ? SG_STRICT_ENTRIES_NO_JSON : 0));
	for (size_t i = 0; i < sizeof(anchors) / sizeof(anchors[0]); i++)
		check_one(&c, anchors[i], &plain, 0);
	/* What runs with the key: whoever may replace it signs anything. */
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
		check_one(&c, programs[i], &plain, 0);
	/* A module the token's module loads by "pkcs11_env" (PKCS11SPY). */
	for (size_t i = 0; cfg->pkcs11_env && cfg->pkcs11_env[i]; i++)
		if (strncmp(cfg->pkcs11_env[i], "PKCS11SPY=", 10) == 0)
			check_one(&c, cfg->pkcs11_env[i] + 10, &plain, 0);
	check_openssl(&c, &plain);
	/* Its entries too: the rotated archives already-signed and audit verify read. */
	check_one(&c, audit_dir, &audit, SG_STRICT_GROUP | SG_STRICT_ENTRIES);
	check_one(&c, cfg->audit_log, &audit, SG_STRICT_GROUP | SG_STRICT_GROUP_PARENT);
	check_one(&c, cfg->seal_file, &audit, SG_STRICT_GROUP | SG_STRICT_GROUP_PARENT);
	free(audit_dir);
	if (c.error && c.error != SG_ERR_NOMEM)
		return sg_error_set(c.error, "%s", c.first);
	return c.error;
}

int sg_config_check_signing_files(const sg_config *cfg)
{
	const struct {
		const char *key, *path;
	} files[] = {
		{ "signing.pkcs12", cfg->pkcs12 },
		{ "signing.cert_chain", cfg->cert_chain },
		{ "signing.key", cfg->key },
		{ "signing.certificate", cfg->certificate },
		{ cfg->secret.name && strcmp(cfg->secret.name, "PIN") == 0 ? "signing.pin_file"
									   : "signing.password_file",
		  cfg->secret.file },
	};
	struct stat st;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *p = files[i].path;

		if (!p || strncmp(p, "pkcs11:", 7) == 0)
			continue;
		if (stat(p, &st) != 0)
			return sg_error_set(SG_ERR_CONFIG, "%s: \"%s\" names %s: %s", cfg->path,
					    files[i].key, p, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return sg_error_set(SG_ERR_CONFIG, "%s: \"%s\" names %s: not a regular file",
					    cfg->path, files[i].key, p);
	}
	return SG_OK;
}

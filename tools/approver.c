/* Who approves in `signgate policy approve`; see approver.h. */
#include "approver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "signgate/error.h"
#include "signgate/keys.h"

int approver_key_usage(const char *cmd, const char *key, const char *pkcs11_module,
		       const char *key_source)
{
	int uri = key && strncmp(key, "pkcs11:", 7) == 0;

	if (key_source && !key)
		return cli_usage_error(cmd, "--key-source goes with --key");

	if (pkcs11_module && !uri)
		return cli_usage_error(cmd, "--pkcs11-module goes with a pkcs11: URI as --key");
	if (uri && !pkcs11_module)
		return cli_usage_error(cmd, "a pkcs11: URI as --key needs --pkcs11-module");
	if (pkcs11_module && pkcs11_module[0] != '/')
		return cli_usage_error(cmd, "--pkcs11-module takes an absolute path");
	/* The module runs with the key: the rule a config's module is held to. */
	if (pkcs11_module && sg_keys_check_module_strict(pkcs11_module, "--pkcs11-module") != SG_OK)
		return cli_fail();
	return CLI_EXIT_OK;
}

int approver_secret(sg_secret *out, sg_secret_source *src, const char *what, const char *key)
{
	int fd;

	if (src->prompt) {
		/* Say which option cannot work, rather than a config key that does not exist. */
		fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("--password-prompt: no terminal to ask on (%s)", strerror(errno));
			return CLI_EXIT_USAGE;
		}
		close(fd);
	}
	if (sg_secret_obtain_from(out, src, what, key) != SG_OK)
		return cli_fail();
	return CLI_EXIT_OK;
}

int approver_opts_check(const approver_opts *o, int have_config)
{
	if (!o->cert != !o->key)
		return cli_usage_error("policy approve", "--cert and --key go together");
	if (!o->cert && (o->pkcs11_module || o->key_source || o->secret.file || o->secret.prompt ||
			 o->approvers_ca))
		return cli_usage_error(
			"policy approve",
			"--pkcs11-module, --key-source, --password-file, "
			"--password-prompt and --approvers-ca go with --cert and --key");
	if (o->secret.file && o->secret.prompt)
		return cli_usage_error("policy approve",
				       "--password-file and --password-prompt exclude each other");
	if (!o->cert)
		return CLI_EXIT_OK;
	if (!o->approvers_ca && !have_config)
		return cli_usage_error(
			"policy approve",
			"--cert needs the approvers' CA: --approvers-ca or --config");
	return approver_key_usage("policy approve", o->key, o->pkcs11_module, o->key_source);
}

int approver_open(sg_approver *ap, approver_opts *o, const sg_config *cfg)
{
	sg_secret secret = { NULL, 0 };
	int rc, error;

	if (!o->cert)
		return CLI_EXIT_OK;
	sg_approvers_trust_from_config(&ap->trust, cfg);
	if (o->approvers_ca)
		ap->trust.ca_file = o->approvers_ca;
	if (!ap->trust.ca_file) {
		cli_error(
			"%s: no \"trust.approvers_ca_file\": name the approvers' CA there or give "
			"--approvers-ca",
			cfg ? cfg->path : "the config");
		return CLI_EXIT_USAGE;
	}
	o->secret.name = o->pkcs11_module ? "PIN" : "password";
	o->secret.section = "approve";
	rc = approver_secret(&secret, &o->secret, "signgate policy approve", o->key);
	if (rc)
		return rc;
	error = sg_approver_key_open(&ap->key, o->cert, o->key, o->pkcs11_module, o->key_source,
				     &secret);
	sg_secret_clear(&secret);
	if (!error)
		error = sg_approver_key_identity(&ap->signer, ap->key);
	return error ? cli_fail() : CLI_EXIT_OK;
}

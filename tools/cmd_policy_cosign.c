/* signgate policy cosign: the second approver's co-signature over an approval file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "signgate/config.h"
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/secret.h"

static const char cosign_help[] =
	"Usage: signgate policy cosign (--approvers-ca CA.pem | --config FILE)\n"
	"                              --cert ME.pem --key ME.key\n"
	"                              [--password-file F | --password-prompt]\n"
	"                              [--replace] [--json] APPROVAL_FILE\n"
	"\n"
	"Co-sign an approval file (a policy file) as its second approver: a detached\n"
	"CMS signature over the file's exact bytes, with your certificate from the\n"
	"approvers' CA, written beside it as APPROVAL_FILE.cosign.p7s. With\n"
	"\"require_cosign\": true in the policy, signing refuses approvals without a\n"
	"valid co-signature by someone other than their approver. Any later change of\n"
	"the approval file voids the co-signature.\n"
	"\n"
	"The signature is checked before it is written, as signing will check it: your\n"
	"certificate must chain to the approvers' CA, be valid now, and carry the\n"
	"key usage digitalSignature and the extended key usage emailProtection.\n"
	"\n"
	"Options:\n"
	"      --approvers-ca FILE  the approvers' CA certificate(s), PEM\n"
	"  -c, --config FILE        take it from \"trust.approvers_ca_file\" of this config\n"
	"      --cert FILE          your certificate (PEM; further certificates in the\n"
	"                           file, your CAs, go into the signature too)\n"
	"      --key FILE           your private key (PEM, mode 0600; plain or encrypted)\n"
	"      --password-file F    the key's password, in a file of mode 0600\n"
	"      --password-prompt    ask for the key's password on the terminal\n"
	"      --replace            replace an existing co-signature\n"
	"      --json               machine-readable output\n"
	"  -h, --help               this text\n"
	"\n"
	"No password is ever taken from the command line or the environment.\n"
	"\n"
	"Exit codes: 0 co-signed; 1 operational error (I/O, wrong password, key does\n"
	"not match the certificate, a co-signature exists already); 2 usage or\n"
	"configuration error (unsafe key file, unreadable CA file); 3 the co-signature\n"
	"would not count (certificate not from the approvers' CA, expired, wrong key\n"
	"usage): nothing was written.\n";

struct cosign_args {
	const char *approvers_ca, *config, *cert, *key, *file;
	sg_secret_source secret;
	int replace, json;
};

static int parse(struct cosign_args *a, int argc, char **argv)
{
	enum { O_CA = 256, O_CERT, O_KEY, O_PWFILE, O_PWPROMPT, O_REPLACE, O_JSON };
	static const struct option longopts[] = {
		{ "approvers-ca", required_argument, NULL, O_CA },
		{ "config", required_argument, NULL, 'c' },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "password-file", required_argument, NULL, O_PWFILE },
		{ "password-prompt", no_argument, NULL, O_PWPROMPT },
		{ "replace", no_argument, NULL, O_REPLACE },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case O_CA: a->approvers_ca = optarg; break;
		case 'c': a->config = optarg; break;
		case O_CERT: a->cert = optarg; break;
		case O_KEY: a->key = optarg; break;
		case O_PWFILE: a->secret.file = optarg; break;
		case O_PWPROMPT: a->secret.prompt = 1; break;
		case O_REPLACE: a->replace = 1; break;
		case O_JSON: a->json = 1; break;
		case 'h': fputs(cosign_help, stdout); return -1;
		default: return cli_usage_error("policy cosign", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("policy cosign", "%s",
				       optind == argc ? "APPROVAL_FILE is missing"
						      : "only one APPROVAL_FILE may be given");
	a->file = argv[optind];
	if (!a->approvers_ca == !a->config)
		return cli_usage_error("policy cosign", "give one of --approvers-ca and --config");
	if (!a->cert || !a->key)
		return cli_usage_error("policy cosign", "--cert and --key are required");
	if (a->secret.file && a->secret.prompt)
		return cli_usage_error("policy cosign",
				       "--password-file and --password-prompt exclude each other");
	return CLI_EXIT_OK;
}

/* The approvers' CA: given, or the config's; *cfg is kept for the path's lifetime. */
static int approvers_ca(const char **out, sg_config **cfg, const struct cosign_args *a)
{
	*out = a->approvers_ca;
	if (*out) {
		cli_strict_warn(*out, 0); /* given without a config: a warning */
		return CLI_EXIT_OK;
	}
	if (sg_config_load(cfg, a->config) != SG_OK)
		return cli_fail();
	*out = (*cfg)->approvers_ca_file;
	if (*out)
		return CLI_EXIT_OK;
	cli_error("%s: no \"trust.approvers_ca_file\": name the approvers' CA there or give "
		  "--approvers-ca",
		  (*cfg)->path);
	return CLI_EXIT_USAGE;
}

/* The key's password from a private file or the terminal; none when neither is given. */
static int obtain_password(sg_secret *out, struct cosign_args *a)
{
	int fd;

	a->secret.name = "password";
	a->secret.section = "cosign";
	if (a->secret.prompt) {
		/* Say which option cannot work, rather than a config key that does not exist. */
		fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("--password-prompt: no terminal to ask on (%s)", strerror(errno));
			return CLI_EXIT_USAGE;
		}
		close(fd);
	}
	if (sg_secret_obtain_from(out, &a->secret, "signgate policy cosign", a->key) != SG_OK)
		return cli_fail();
	return CLI_EXIT_OK;
}

static void print_cosigned(const struct cosign_args *a, const sg_cosigner *c, int json)
{
	char *sig = sg_cosign_path(a->file);
	json_t *obj;

	if (!json) {
		printf("cosigned %s as %s (%s), signature %s\n", a->file, c->name, c->subject,
		       sig ? sig : "?");
		free(sig);
		return;
	}
	obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s?}", "file", a->file, "cosigner",
			c->name, "email", c->email, "subject", c->subject, "cert_sha256",
			c->cert_sha256, "signing_time", (json_int_t)c->signing_time, "signature",
			sig);
	if (obj)
		cli_print_json(obj);
	json_decref(obj);
	free(sig);
}

int cmd_policy_cosign(int argc, char **argv)
{
	struct cosign_args a;
	sg_secret secret = { NULL, 0 };
	sg_config *cfg = NULL;
	const char *ca = NULL;
	sg_cosigner c;
	int rc, error;

	memset(&a, 0, sizeof(a));
	rc = parse(&a, argc, argv);
	if (rc != CLI_EXIT_OK)
		return rc < 0 ? CLI_EXIT_OK : rc;
	rc = approvers_ca(&ca, &cfg, &a);
	if (rc == CLI_EXIT_OK)
		rc = obtain_password(&secret, &a);
	if (rc == CLI_EXIT_OK) {
		error = sg_cosign_create(a.file, a.cert, a.key, &secret, ca, a.replace, &c);
		/* The secret is wiped before anything is reported. */
		sg_secret_clear(&secret);
		if (error == SG_OK)
			print_cosigned(&a, &c, a.json);
		else if (error == SG_ERR_EXISTS)
			cli_error("%s; --replace replaces it", sg_error_last());
		else
			cli_fail();
		rc = cli_exit_code(error);
	}
	sg_secret_clear(&secret);
	sg_config_free(cfg);
	return rc;
}

/* signgate policy cosign: the second approver's co-signature over an approval file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "approver.h"
#include "cli.h"
#include "signgate/config.h"
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/secret.h"

static const char cosign_help[] =
	"Usage: signgate policy cosign (--approvers-ca CA.pem | --config FILE)\n"
	"                              --cert ME.pem --key (ME.key | pkcs11:URI\n"
	"                              --pkcs11-module MODULE\n"
	"                              [--key-source pkcs11-provider])\n"
	"                              [--password-file F | --password-prompt]\n"
	"                              [--sha256 HEX] [--first] [--replace] [--json]\n"
	"                              APPROVAL_FILE\n"
	"\n"
	"Sign an approval file (a policy file) as its second approver: a detached CMS\n"
	"signature over the file's exact bytes, with your certificate from the\n"
	"approvers' CA, written beside it as APPROVAL_FILE.cosign.p7s. With --first,\n"
	"sign as its first approver instead (APPROVAL_FILE.approve.p7s), as\n"
	"'policy approve --cert --key' does when it writes an approval; that serves\n"
	"approvals written before, or by hand. Under the two-person rule\n"
	"(\"require_cosign\": true in the policy, or \"trust.require_cosign\" in the\n"
	"config) signing uses an approval only with both signatures, by two different\n"
	"approvers (different certificates, keys, subjects, CNs and emails). Any\n"
	"later change of the approval file voids both.\n"
	"\n"
	"You sign the file's bytes as they are when this command reads them. Whoever\n"
	"may write the policy folder could swap the file between your review and your\n"
	"signature: give --sha256 with the SHA-256 of the file you reviewed (e.g.\n"
	"'sha256sum FILE' on your reviewed copy) and nothing else is signed. The output\n"
	"names the SHA-256 of the bytes signed.\n"
	"\n"
	"The signature is checked before it is written, as signing will check it: your\n"
	"certificate must chain to the approvers' CA, be valid now, not be revoked\n"
	"(when the config names the approvers' CRLs), and carry the key usage\n"
	"digitalSignature and the extended key usage emailProtection; and the other\n"
	"approver's signature, when it is there, must not be yours.\n"
	"\n"
	"Options:\n"
	"      --approvers-ca FILE  the approvers' CA certificate(s), PEM\n"
	"  -c, --config FILE        take it (and trust.approvers_crl_file) from this config\n"
	"      --cert FILE          your certificate (PEM; further certificates in the\n"
	"                           file, your CAs, go into the signature too; only\n"
	"                           the approvers' CA file's CAs are trusted)\n"
	"      --key FILE|URI       your private key (PEM, mode 0600; plain or encrypted),\n"
	"                           or a pkcs11: URI with --pkcs11-module\n"
	"      --pkcs11-module F    the PKCS#11 module (absolute path) of your token\n"
	"      --key-source NAME    pkcs11-provider: open the token through pkcs11-provider\n"
	"                           (default: libp11's engine for a pkcs11: URI)\n"
	"      --password-file F    the key's password or the token's PIN, in a file of\n"
	"                           mode 0600\n"
	"      --password-prompt    ask for it on the terminal\n"
	"      --sha256 HEX         sign only if the file's SHA-256 is HEX (what you reviewed)\n"
	"      --first              sign as the first approver (APPROVAL_FILE.approve.p7s)\n"
	"      --replace            replace an existing signature of that role\n"
	"      --json               machine-readable output\n"
	"  -h, --help               this text\n"
	"\n"
	"No password or PIN is ever taken from the command line or the environment.\n"
	"\n"
	"Exit codes: 0 signed; 1 operational error (I/O, wrong password or PIN, key does\n"
	"not match the certificate, a signature exists already); 2 usage or\n"
	"configuration error (unsafe key file, unreadable CA file); 3 the signature\n"
	"would not count (certificate not from the approvers' CA, revoked, expired,\n"
	"wrong key usage, or the other signature is yours) or the file is not the one\n"
	"--sha256 names: nothing was written.\n";

struct cosign_args {
	const char *approvers_ca, *config, *cert, *key, *pkcs11_module, *key_source, *file, *sha256;
	sg_secret_source secret;
	int first, replace, json;
};

static int parse(struct cosign_args *a, int argc, char **argv)
{
	enum {
		O_CA = 256,
		O_CERT,
		O_KEY,
		O_MODULE,
		O_KEY_SOURCE,
		O_PWFILE,
		O_PWPROMPT,
		O_FIRST,
		O_REPLACE,
		O_JSON,
		O_SHA256
	};
	static const struct option longopts[] = {
		{ "approvers-ca", required_argument, NULL, O_CA },
		{ "config", required_argument, NULL, 'c' },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "pkcs11-module", required_argument, NULL, O_MODULE },
		{ "key-source", required_argument, NULL, O_KEY_SOURCE },
		{ "first", no_argument, NULL, O_FIRST },
		{ "password-file", required_argument, NULL, O_PWFILE },
		{ "password-prompt", no_argument, NULL, O_PWPROMPT },
		{ "replace", no_argument, NULL, O_REPLACE },
		{ "json", no_argument, NULL, O_JSON },
		{ "sha256", required_argument, NULL, O_SHA256 },
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
		case O_MODULE: a->pkcs11_module = optarg; break;
		case O_KEY_SOURCE: a->key_source = optarg; break;
		case O_FIRST: a->first = 1; break;
		case O_PWFILE: a->secret.file = optarg; break;
		case O_PWPROMPT: a->secret.prompt = 1; break;
		case O_REPLACE: a->replace = 1; break;
		case O_JSON: a->json = 1; break;
		case O_SHA256: a->sha256 = optarg; break;
		case 'h': fputs(cosign_help, stdout); return -1;
		default: return cli_usage_error("policy cosign", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("policy cosign", "%s",
				       optind == argc ? "APPROVAL_FILE is missing"
						      : "only one APPROVAL_FILE may be given");
	a->file = argv[optind];
	if (!a->approvers_ca && cli_config_lookup(&a->config, "policy cosign") != CLI_EXIT_OK)
		return CLI_EXIT_USAGE;
	if (!a->approvers_ca == !a->config)
		return cli_usage_error("policy cosign", "give one of --approvers-ca and --config");
	if (!a->cert || !a->key)
		return cli_usage_error("policy cosign", "--cert and --key are required");
	if (cli_file_given(a->approvers_ca, "--approvers-ca") || cli_file_given(a->cert, "--cert"))
		return CLI_EXIT_USAGE;
	if (a->secret.file && a->secret.prompt)
		return cli_usage_error("policy cosign",
				       "--password-file and --password-prompt exclude each other");
	if (a->sha256 && !sg_hex_is_valid(a->sha256, 32))
		return cli_usage_error("policy cosign", "--sha256 takes 64 hex digits");
	return approver_key_usage("policy cosign", a->key, a->pkcs11_module, a->key_source);
}

/* The approvers' CA: given, or the config's (with its CRLs); *cfg is kept for the paths. */
static int approvers_trust(sg_approvers_trust *t, sg_config **cfg, const struct cosign_args *a)
{
	memset(t, 0, sizeof(*t));
	t->ca_file = a->approvers_ca;
	/* Given without a config, it is held to the strict rule when read, as the config's is. */
	if (t->ca_file)
		return CLI_EXIT_OK;
	if (sg_config_load(cfg, a->config) != SG_OK)
		return cli_fail();
	sg_approvers_trust_from_config(t, *cfg);
	if (t->ca_file)
		return CLI_EXIT_OK;
	cli_error("%s: no \"trust.approvers_ca_file\": name the approvers' CA there or give "
		  "--approvers-ca",
		  (*cfg)->path);
	return CLI_EXIT_USAGE;
}

/* The key's password or PIN from a private file or the terminal; none when neither is given. */
static int obtain_password(sg_secret *out, struct cosign_args *a)
{
	a->secret.name = a->pkcs11_module ? "PIN" : "password";
	a->secret.section = "cosign";
	return approver_secret(out, &a->secret, "signgate policy cosign", a->key);
}

static void print_cosigned(const struct cosign_args *a, const sg_cosigner *c, const char *sha,
			   int json)
{
	char *sig = sg_cosign_sig_path(a->file, a->first ? SG_COSIGN_FIRST : SG_COSIGN_SECOND);
	json_t *obj;

	if (!json) {
		printf("%s %s as %s (%s), signature %s, file SHA-256 %s\n",
		       a->first ? "signed" : "cosigned", a->file, c->name, c->subject,
		       sig ? sig : "?", sha);
		free(sig);
		return;
	}
	obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s?}", "file", a->file,
			"file_sha256", sha, "role", a->first ? "first" : "second", "cosigner",
			c->name, "email", c->email, "subject", c->subject, "cert_sha256",
			c->cert_sha256, "key_sha256", c->key_sha256, "signing_time",
			(json_int_t)c->signing_time, "signature", sig);
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
	sg_approvers_trust t;
	sg_approver_key *key = NULL;
	sg_cosigner c;
	char sha[65] = "";
	int rc, error = SG_OK;

	memset(&a, 0, sizeof(a));
	rc = parse(&a, argc, argv);
	if (rc != CLI_EXIT_OK)
		return rc < 0 ? CLI_EXIT_OK : rc;
	rc = approvers_trust(&t, &cfg, &a);
	if (rc == CLI_EXIT_OK)
		rc = obtain_password(&secret, &a);
	if (rc == CLI_EXIT_OK) {
		error = sg_approver_key_open(&key, a.cert, a.key, a.pkcs11_module, a.key_source,
					     &secret);
		/* The secret is wiped before anything is reported. */
		sg_secret_clear(&secret);
		if (!error)
			error = sg_cosign_create(&c, sha, a.file,
						 a.first ? SG_COSIGN_FIRST : SG_COSIGN_SECOND, key,
						 &t, a.replace, a.sha256);
		if (error == SG_OK)
			print_cosigned(&a, &c, sha, a.json);
		else if (error == SG_ERR_EXISTS)
			cli_error("%s; --replace replaces it", sg_error_last());
		else
			cli_fail();
		rc = cli_exit_code(error);
	}
	sg_approver_key_free(key);
	sg_secret_clear(&secret);
	sg_config_free(cfg);
	return rc;
}

/* signgate verify. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "signgate/confine.h"
#include "signgate/error.h"
#include "signgate/keyhelper.h"
#include "signgate/pipeline.h"
#include "signgate/secret.h"

static const char verify_help[] =
	"Usage: signgate verify (--config FILE | --ca ROOT.pem [--tsa-ca FILE] [--crl FILE])\n"
	"                       [--pin SHA256] [--json] INPUT...\n"
	"\n"
	"Verify the primary Authenticode signature of each INPUT as the ConfigMgr site\n"
	"server will once the enterprise root is trusted: the file's digest matches the\n"
	"signed digest, the signer chains to the trust anchor, the signer certificate\n"
	"allows code signing, the digest algorithm is SHA-256, and a timestamp, when\n"
	"present, verifies against the TSA trust anchor. The PKCS#7 is checked with\n"
	"OpenSSL (signature over the signed attributes, messageDigest, timestamp token,\n"
	"chain, EKU, pin), signgate's own digest of the file (PE, MSI, MSP, MSM,\n"
	"MST, CAB) must be the signed digest (any other file is refused), and\n"
	"osslsigncode verify -index 0 must succeed as well; neither osslsigncode's\n"
	"exit status alone nor its text is trusted.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   take the trust anchors from signgate.json and record each\n"
	"                      result in its audit log; the signer must be the configured\n"
	"                      signing certificate when one is configured\n"
	"      --ca FILE       trust anchor(s) (PEM) without a config\n"
	"      --tsa-ca FILE   trust anchor(s) for timestamps (default: --ca plus the\n"
	"                      system CA bundle, for public TSAs)\n"
	"      --crl FILE      CRLs (PEM) to check the chain against; without it revocation\n"
	"                      is not checked (and the result says so); never fetched\n"
	"      --pin SHA256    require this signer certificate (SHA-256 of its DER, hex)\n"
	"      --json          one JSON object per input on stdout\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit codes: 0 all valid; 1 operational error; 2 usage or configuration error;\n"
	"3 at least one input failed verification.\n";

typedef struct verify_opts {
	const char *config, *ca, *tsa_ca, *crl;
	char *pin;
	int json;
} verify_opts;

static int parse(verify_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "ca", required_argument, NULL, 'a' },
		{ "tsa-ca", required_argument, NULL, 't' }, { "crl", required_argument, NULL, 'r' },
		{ "pin", required_argument, NULL, 'p' },    { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'a': o->ca = optarg; break;
		case 't': o->tsa_ca = optarg; break;
		case 'r': o->crl = optarg; break;
		case 'p': o->pin = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': fputs(verify_help, stdout); return -1;
		default: return cli_usage_error("verify", "bad option");
		}
	}
	/* --ca alone: only the files the options name, never a config found elsewhere. */
	if (!o->ca && cli_config_lookup(&o->config, "verify") != CLI_EXIT_OK)
		return CLI_EXIT_USAGE;
	if (!o->config == !o->ca)
		return cli_usage_error("verify",
				       "give exactly one of --config FILE or --ca ROOT.pem");
	if (o->config && (o->tsa_ca || o->crl))
		return cli_usage_error("verify", "--tsa-ca and --crl go with --ca; a config names "
						 "its own trust settings");
	if (o->pin && !sg_hex_is_valid(o->pin, SG_SHA256_LEN))
		return cli_usage_error("verify", "--pin takes the 64 hex digits of a SHA-256");
	if (optind >= argc)
		return cli_usage_error("verify", "no INPUT given");
	return 0;
}

/* Trust settings from the config; the pin is the configured signer when there is a key. */
static int context_from_config(sg_context *ctx, sg_config **cfg, sg_cert_info *signer,
			       const char *path)
{
	int error = sg_config_load(cfg, path);

	if (error)
		return error;
	sg_context_use_config(ctx, *cfg);
	/* A trust file that cannot be used is the config's fault, not the input's. */
	if ((error = sg_context_load_trust(ctx)) != SG_OK)
		return error;
	/*
	 * The certificate alone pins the signer. Without it, the key helper
	 * (keyhelper.h) opens the key material and reports its certificate: this
	 * process, which reads the files to verify, never holds the key or its
	 * secret. The helper is stopped before any input is read.
	 */
	if ((*cfg)->certificate) {
		error = sg_signer_load_certificate(signer, (*cfg)->certificate);
	} else if (sg_config_require_signing(*cfg) == SG_OK) {
		/* A key file that is not there is the config's fault (exit 2), as for sign. */
		error = sg_config_check_signing_files(*cfg);
		if (!error)
			error = sg_keyhelper_identify(signer, *cfg);
	} else {
		sg_error_clear();
		return SG_OK;
	}
	if (error)
		return error;
	ctx->verify.pin_sha256 = signer->sha256;
	sg_error_clear();
	return SG_OK;
}

/* Before the first input is opened: this process, which parses them, is confined (confine.h). */
static int confine_self(const sg_config *cfg, const verify_opts *o, char **inputs, size_t n)
{
	const char *trust[] = { o->ca, o->tsa_ca, o->crl, NULL };
	sg_confine_self_run run = { cfg, (const char *const *)inputs, n, NULL, trust };
	char warn[512];
	int error;

	/* The list ends at the first option not given. */
	if (!o->tsa_ca) {
		trust[1] = o->crl;
		trust[2] = NULL;
	}
	error = sg_confine_self(&run, warn, sizeof(warn));
	if (error == SG_OK && warn[0])
		fprintf(stderr, "signgate: warning: %s\n", warn);
	return error;
}

int cmd_verify(int argc, char **argv)
{
	verify_opts o;
	sg_context ctx = { 0 };
	sg_config *cfg = NULL;
	sg_cert_info signer;
	int rc = parse(&o, argc, argv), worst = CLI_EXIT_OK;

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	rc = cli_private_folders(NULL);
	if (rc)
		return rc;
	if ((o.config && context_from_config(&ctx, &cfg, &signer, o.config) != SG_OK) ||
	    cli_confine_setup(cfg) != SG_OK) {
		rc = cli_fail();
		sg_context_free_trust(&ctx);
		sg_config_free(cfg);
		return rc;
	}
	/* Which osslsigncode: one that cannot be run or is too old stops the run (exit 2). */
	if ((rc = cli_osslsigncode_check(cfg)) != CLI_EXIT_OK) {
		sg_context_free_trust(&ctx);
		sg_config_free(cfg);
		return rc;
	}
	if (!o.config) {
		ctx.verify.osslsigncode = sg_config_default_osslsigncode();
		ctx.verify.ca_file = o.ca;
		ctx.verify.tsa_ca_file = o.tsa_ca;
		ctx.verify.crl_file = o.crl;
		/* Ad hoc: revocation is checked with --crl, else not, and the result says so. */
		ctx.verify.ignore_crl = o.crl == NULL;
		/* A reviewer's own copies: a warning, not a refusal (README "Strict modes"). */
		cli_strict_warn(o.ca, 0);
		cli_strict_warn(o.tsa_ca, 0);
		cli_strict_warn(o.crl, 0);
		if (sg_context_load_trust(&ctx) != SG_OK)
			return cli_fail();
	}
	if (confine_self(cfg, &o, argv + optind, (size_t)(argc - optind)) != SG_OK) {
		rc = cli_fail();
		sg_context_free_trust(&ctx);
		sg_config_free(cfg);
		return rc;
	}
	if (o.pin) {
		for (char *p = o.pin; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		ctx.verify.pin_sha256 = o.pin;
	}
	for (int i = optind; i < argc; i++) {
		sg_job job = { SG_ACTION_VERIFY, argv[i], NULL, 0 };
		sg_outcome *r = calloc(1, sizeof(*r));
		if (!r) {
			worst = cli_worse(worst, CLI_EXIT_OPERATIONAL);
			continue;
		}
		sg_pipeline_run(r, &ctx, &job);
		cli_print_outcome(r, &job, o.json);
		worst = cli_worse(worst, cli_exit_code(r->status));
		free(r);
	}
	sg_confine_self_end();
	sg_context_free_trust(&ctx);
	sg_config_free(cfg);
	return worst;
}

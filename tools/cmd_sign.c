/* signgate sign / signgate check. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "signgate/error.h"
#include "signgate/pipeline.h"
#include "signgate/secret.h"
#include "signgate/util.h"

static const char sign_help[] =
	"Usage: signgate sign --config FILE [--out-dir DIR | --out FILE] [--force] [--json] "
	"INPUT...\n"
	"\n"
	"For each INPUT: read it once into a private copy, compute SHA-256 and SHA-512,\n"
	"check its structure (PE or MSI), decide against the policy (default deny),\n"
	"add the enterprise Authenticode signature (SHA-256, RFC 3161 timestamp when\n"
	"TSA URLs are configured), verify the result against the configured root,\n"
	"record the outcome in the audit log, and only then move the output into\n"
	"place. Inputs are never modified.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   signgate.json (policy, audit log, trust, signing key)\n"
	"  -o, --out-dir DIR   write each output as DIR/<input base name>; DIR and its\n"
	"                      parents are created when missing (default: ./signed)\n"
	"      --out FILE      output path (exactly one INPUT)\n"
	"  -f, --force         replace an existing output file (never the input)\n"
	"      --json          one JSON object per input on stdout\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit codes: 0 all signed; 1 operational error; 2 usage or configuration\n"
	"error; 3 at least one input denied or failed verification.\n"
	"Example:\n"
	"  signgate sign --config signgate.json --out-dir signed/ downloads/7z2408-x64.msi\n";

static const char check_help[] =
	"Usage: signgate check --config FILE [--json] INPUT...\n"
	"\n"
	"Decide on each INPUT exactly as 'signgate sign' would (digests, structure,\n"
	"policy) without signing it. Each decision is recorded in the audit log.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   signgate.json\n"
	"      --json          one JSON object per input on stdout\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit codes: 0 all approved; 1 operational error; 2 usage or configuration\n"
	"error; 3 at least one input denied.\n";

/* Where outputs go when neither --out-dir nor --out is given. */
#define DEFAULT_OUT_DIR "signed"

typedef struct sign_opts {
	const char *config, *out_dir, *out;
	int force, json;
} sign_opts;

static int parse(sign_opts *o, int argc, char **argv, int signing)
{
	static const struct option longopts[] = { { "config", required_argument, NULL, 'c' },
						  { "out-dir", required_argument, NULL, 'o' },
						  { "out", required_argument, NULL, 'O' },
						  { "force", no_argument, NULL, 'f' },
						  { "json", no_argument, NULL, 'j' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	const char *cmd = signing ? "sign" : "check";
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, signing ? "c:o:fh" : "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'o': o->out_dir = optarg; break;
		case 'O': o->out = optarg; break;
		case 'f': o->force = 1; break;
		case 'j': o->json = 1; break;
		case 'h': fputs(signing ? sign_help : check_help, stdout); return -1;
		default: return cli_usage_error(cmd, "bad option");
		}
	}
	if (!signing && (o->out_dir || o->out || o->force))
		return cli_usage_error(cmd, "check writes no output: --out-dir, --out and --force "
					    "belong to 'signgate sign'");
	if (!o->config)
		return cli_usage_error(cmd, "--config FILE is required");
	if (optind >= argc)
		return cli_usage_error(cmd, "no INPUT given");
	if (o->out_dir && o->out)
		return cli_usage_error(cmd, "give --out-dir DIR or --out FILE, not both");
	if (signing && !o->out_dir && !o->out)
		o->out_dir = DEFAULT_OUT_DIR;
	if (o->out && argc - optind != 1)
		return cli_usage_error(cmd,
				       "--out takes exactly one INPUT; use --out-dir for several");
	return 0;
}

/* The output path for `input`, refusing one that would be the input itself. */
static char *output_for(const sign_opts *o, const char *input)
{
	char rin[PATH_MAX], rout[PATH_MAX];
	char *out = o->out ? strdup(o->out) : sg_path_join(o->out_dir, sg_path_base(input));

	if (out && realpath(input, rin) && realpath(out, rout) && strcmp(rin, rout) == 0) {
		cli_error("%s: the output would replace the input; choose another --out-dir",
			  input);
		free(out);
		return NULL;
	}
	return out;
}

static void print_outcome(const sg_outcome *r, const sg_job *job, int json)
{
	if (json || r->status != SG_OK || job->action != SG_ACTION_SIGN) {
		cli_print_outcome(r, job, json);
		return;
	}
	printf("signed   %s -> %s (approval %s, signer SHA-1 %s%s%s)\n", job->input, job->output,
	       r->decision_detail.approval->id, r->verify.signer.sha1_thumbprint,
	       r->verify.timestamped ? ", timestamp " : ", no timestamp",
	       r->verify.timestamped ? r->verify.timestamp : "");
	fflush(stdout);
}

/* Create the output folder and its parents as needed (0755: outputs are shared). */
static int ensure_out_dir(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
		cli_error("%s: path too long", dir);
		return -1;
	}
	for (char *p = path + 1;; p++) {
		char c = *p;
		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (stat(path, &st) != 0 && mkdir(path, 0755) != 0 && errno != EEXIST) {
			cli_error("%s: cannot create the output folder: %s", path, strerror(errno));
			return -1;
		}
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
			cli_error("%s: cannot use as the output folder: not a folder", path);
			return -1;
		}
		*p = c;
		if (c == '\0')
			return 0;
	}
}

/* --out FILE: its folder must exist (checked before any work is done). */
static int check_out_parent(const char *out)
{
	char *dir = sg_path_dir(out);
	struct stat st;
	int ok = dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);

	if (!ok)
		cli_error("%s: the output folder %s does not exist", out, dir ? dir : "?");
	free(dir);
	return ok ? 0 : -1;
}

typedef struct run_state {
	sign_opts o;
	sg_context ctx;
	sg_config *cfg;
	sg_policy *policy;
	sg_cert_info signer;
	sg_secret secret;
} run_state;

static int load_config_and_policy(run_state *st)
{
	int error = sg_config_load(&st->cfg, st->o.config);

	if (!error)
		error = sg_policy_load(&st->policy, st->cfg->policy);
	if (error)
		return error;
	sg_context_use_config(&st->ctx, st->cfg);
	st->ctx.policy = st->policy;
	return SG_OK;
}

/* The key's secret is obtained once per run; the key is checked before any input. */
static int load_signer(run_state *st)
{
	int error = sg_secret_obtain(&st->secret, st->cfg);

	if (!error)
		error = sg_signer_load(&st->signer, st->cfg, &st->secret);
	if (error)
		return error;
	st->ctx.signer = &st->signer;
	st->ctx.secret = &st->secret;
	return SG_OK;
}

/* Each input gets a "failed" record when the run cannot attempt it; returns the exit code. */
static int fail_inputs(run_state *st, int first, int argc, char **argv, int status)
{
	char why[1024];
	int worst = cli_exit_code(status);

	snprintf(why, sizeof(why), "%s", sg_error_last());
	for (int i = first; i < argc; i++) {
		sg_job job = { SG_ACTION_SIGN, argv[i], NULL, st->o.force };
		sg_outcome *r = calloc(1, sizeof(*r));
		if (!r)
			return CLI_EXIT_OPERATIONAL;
		sg_error_set(status, "%s: not signed: %s", sg_path_base(argv[i]), why);
		sg_pipeline_record_failure(r, &st->ctx, &job, status);
		print_outcome(r, &job, st->o.json);
		worst = cli_worse(worst, cli_exit_code(r->status));
		free(r);
	}
	return worst;
}

static int run_inputs(run_state *st, int argc, char **argv, int signing)
{
	int worst = CLI_EXIT_OK;

	for (int i = optind; i < argc; i++) {
		sg_job job = { signing ? SG_ACTION_SIGN : SG_ACTION_CHECK, argv[i], NULL,
			       st->o.force };
		sg_outcome *r = calloc(1, sizeof(*r));
		char *out = signing ? output_for(&st->o, argv[i]) : NULL;
		int key_failed;
		if (!r || (signing && !out)) {
			worst = cli_worse(worst, r ? CLI_EXIT_USAGE : CLI_EXIT_OPERATIONAL);
			free(out);
			free(r);
			continue;
		}
		job.output = out;
		sg_pipeline_run(r, &st->ctx, &job);
		print_outcome(r, &job, st->o.json);
		worst = cli_worse(worst, cli_exit_code(r->status));
		/* A token that refused the key or PIN would refuse every input: stop asking it. */
		key_failed = signing && r->status == SG_ERR_CRYPTO;
		if (key_failed)
			sg_error_set(SG_ERR_CRYPTO, "%s", r->message);
		free(out);
		free(r);
		if (key_failed)
			return cli_worse(worst, fail_inputs(st, i + 1, argc, argv, SG_ERR_CRYPTO));
	}
	return worst;
}

static int run(int argc, char **argv, int signing)
{
	run_state st;
	int rc;

	memset(&st, 0, sizeof(st));
	rc = parse(&st.o, argc, argv, signing);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (load_config_and_policy(&st) != SG_OK) {
		rc = cli_fail();
	} else if (signing && load_signer(&st) != SG_OK) {
		int status = sg_error_code();
		cli_error("%s", sg_error_last());
		rc = fail_inputs(&st, optind, argc, argv, status);
	} else if ((st.o.out_dir && ensure_out_dir(st.o.out_dir) != 0) ||
		   (st.o.out && check_out_parent(st.o.out) != 0)) {
		rc = CLI_EXIT_OPERATIONAL;
	} else {
		rc = run_inputs(&st, argc, argv, signing);
	}
	sg_secret_clear(&st.secret);
	sg_policy_free(st.policy);
	sg_config_free(st.cfg);
	return rc;
}

int cmd_sign(int argc, char **argv)
{
	return run(argc, argv, 1);
}

int cmd_check(int argc, char **argv)
{
	return run(argc, argv, 0);
}

/* signgate timestamp: a timestamp added later to files signed without one (signgate/restamp.h). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "signgate/audit_signings.h"
#include "signgate/policy.h"
#include "signgate/strict.h"
#include "signgate/confine.h"
#include "signgate/error.h"
#include "signgate/pipeline.h"
#include "signgate/restamp.h"
#include "signgate/signer.h"
#include "signgate/tsa_proc.h"
#include "signgate/util.h"

static const char timestamp_help[] =
	"Usage: signgate timestamp [--config FILE] (--out FILE | --out-dir DIR) [--force]\n"
	"                          [--json] INPUT...\n"
	"\n"
	"Add an RFC 3161 timestamp to files signgate signed while every TSA was down\n"
	"(\"timestamp\": \"optional\"). Without a timestamp a signature dies with the\n"
	"signing certificate; with one it stays valid after the certificate expires.\n"
	"\n"
	"Keyless: no key, password, PIN or key helper is opened. The signature is not\n"
	"made again: the configured TSAs (signing.timestamp_urls, in order) are asked,\n"
	"through the confined timestamp fetcher, for a token over the signature value,\n"
	"and the token is added to the signature as its one unsigned attribute.\n"
	"\n"
	"Each INPUT must carry exactly one signature, ours: it verifies like `verify\n"
	"--config`, its signer is signing.certificate (required: the key is never\n"
	"opened to find it) and it is a signature signgate made. A timestamp keeps a\n"
	"signature alive, so it is decided like a signing: the INPUT's signing record\n"
	"is found in the audit log by its SHA-256, and the vendor file it names must\n"
	"still be approved by the policy (as `sign` judges a file already ours); no\n"
	"log, no record or records that disagree deny it. Anything else is\n"
	"refused (\"denied\", exit 3, nothing written). An INPUT that is timestamped\n"
	"already is \"skipped\" (exit 0, nothing written). The new file is verified\n"
	"before it appears: the same signature (signed content and signature value\n"
	"unchanged) plus a timestamp that verifies under trust.tsa_ca_file, and the\n"
	"same Authenticode digest. It is then recorded in the audit log (action\n"
	"\"timestamp\", with the input's and the output's SHA-256, the TSA that\n"
	"answered and those that failed) and renamed into place. INPUT is never\n"
	"modified: the output is a new file.\n"
	"\n"
	"The output's SHA-256 and SHA-1 differ from the input's: a catalog\n"
	"(sign --catalog-out) or any hash list made with the old digests must be\n"
	"made again from the new files.\n"
	"\n"
	"Formats: PE (.exe, .dll, ...), MSI, MSP, MSM, MST, CAB and PowerShell\n"
	"scripts, as signing attaches them.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE     signgate.json: trust, signing.certificate,\n"
	"                        signing.timestamp_urls, the policy, the audit log\n"
	"                        (default: $SIGNGATE_CONFIG, else\n"
	"                        " CLI_CONFIG_DEFAULT ")\n"
	"  -o, --out-dir DIR     write each output as DIR/<input base name> (DIR is\n"
	"                        made when its parent exists; not the input's folder)\n"
	"      --out FILE        output path (exactly one INPUT)\n"
	"  -f, --force           replace an existing output file (never the input);\n"
	"                        without it, an output that is this input timestamped\n"
	"                        already is \"skipped\", anything else there refused\n"
	"      --json            one JSON object per input on stdout\n"
	"  -h, --help            this text\n"
	"\n"
	"Exit codes: 0 every input timestamped (or timestamped already); 1 operational\n"
	"error (no TSA answered, output exists, I/O); 2 usage or configuration error;\n"
	"3 an input is not our valid signature, or its output did not verify.\n"
	"\n"
	"Example (the TSA was down when these were signed):\n"
	"  signgate timestamp --config signgate.json --out-dir stamped/ signed/*.exe\n";

typedef struct ts_opts {
	const char *config, *out, *out_dir;
	int force, json;
} ts_opts;

static int parse(ts_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = { { "config", required_argument, NULL, 'c' },
						  { "out-dir", required_argument, NULL, 'o' },
						  { "out", required_argument, NULL, 'O' },
						  { "force", no_argument, NULL, 'f' },
						  { "json", no_argument, NULL, 'j' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "c:o:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'o': o->out_dir = optarg; break;
		case 'O': o->out = optarg; break;
		case 'f': o->force = 1; break;
		case 'j': o->json = 1; break;
		case 'h': fputs(timestamp_help, stdout); return -1;
		default: return cli_usage_error("timestamp", "bad option");
		}
	}
	if (cli_config_lookup(&o->config, "timestamp") != CLI_EXIT_OK)
		return CLI_EXIT_USAGE;
	if (!o->config)
		return cli_usage_error("timestamp",
				       "--config FILE is required (or SIGNGATE_CONFIG, or a config "
				       "at " CLI_CONFIG_DEFAULT ")");
	if (!o->out == !o->out_dir)
		return cli_usage_error("timestamp",
				       "give exactly one of --out FILE or --out-dir DIR");
	if (optind >= argc)
		return cli_usage_error("timestamp", "no INPUT given");
	if (o->out && argc - optind != 1)
		return cli_usage_error("timestamp",
				       "--out takes exactly one INPUT; use --out-dir for several");
	return 0;
}

/* The configuration timestamping needs, checked before any input is touched. */
static int check_config(const sg_config *cfg)
{
	if (cfg->n_timestamp_urls == 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"signing.timestamp_urls\" names no TSA: there is nothing "
				    "to ask for a timestamp",
				    cfg->path);
	if (!cfg->certificate)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: timestamping needs \"signing.certificate\" (the signing "
				    "certificate, PEM): it pins our signer without opening the key",
				    cfg->path);
	return SG_OK;
}

/*
 * A folder outputs go to: --out-dir is made when its parent exists, 0755
 * exactly (set after mkdir: the run's umask is 077), since the outputs in it
 * are 0644 for whoever publishes them; a folder that exists keeps its mode.
 * Anything else missing is the command line's fault.
 */
static int check_folder(const char *dir, const char *what, int make)
{
	struct stat st;

	if (make && mkdir(dir, 0755) == 0) {
		if (chmod(dir, 0755) != 0) {
			cli_error("%s: cannot make the %s 0755: %s", dir, what, strerror(errno));
			return CLI_EXIT_OPERATIONAL;
		}
	} else if (make && errno != EEXIST) {
		cli_error("%s: cannot create the %s: %s", dir, what, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	cli_error("%s: the %s does not exist or is not a folder", dir, what);
	return CLI_EXIT_USAGE;
}

/* The output path for `input` (said why when NULL: out of memory). */
static char *output_for(const ts_opts *o, const char *input)
{
	char *out = o->out ? strdup(o->out) : sg_path_join(o->out_dir, sg_path_base(input));

	if (!out)
		cli_error("out of memory");
	return out;
}

/* 1 when `a` and `b` both exist and are the same file (a link, another spelling). */
static int same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

/*
 * Every output, refused before any input is touched when one would replace
 * an input (this one's or a later one's: --force must never destroy an
 * input) or two inputs would write the same output. Returns an exit code.
 */
static int outputs_for(char **outs, const ts_opts *o, char **inputs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(outs[i] = output_for(o, inputs[i])))
			return CLI_EXIT_OPERATIONAL;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			if (same_file(inputs[j], outs[i])) {
				if (i == j)
					cli_error("%s: the output would replace the input; the input "
						  "is never modified: choose another %s",
						  inputs[i], o->out ? "--out" : "--out-dir");
				else
					cli_error("%s: the output of %s would replace the input %s; "
						  "an input is never modified: choose another %s "
						  "(nothing was timestamped)",
						  outs[i], inputs[i], inputs[j],
						  o->out ? "--out" : "--out-dir");
				return CLI_EXIT_USAGE;
			}
			if (j > i && strcmp(outs[i], outs[j]) == 0) {
				cli_error("%s: %s and %s would both be written there (nothing was "
					  "timestamped)",
					  outs[i], inputs[i], inputs[j]);
				return CLI_EXIT_USAGE;
			}
		}
	return CLI_EXIT_OK;
}

/* What a run holds besides the context: freed by cmd_timestamp(). */
typedef struct ts_held {
	sg_config *cfg;
	sg_policy *policy;
	sg_audit_signings *signings; /* each input is traced to its signing record */
} ts_held;

/*
 * The config, the policy (a timestamp is decided again like a signing: the
 * vendor bytes the input was signed from must still be approved) and the
 * audit log's signing records, as `sign` loads them.
 */
static int load_config_and_policy(sg_context *ctx, ts_held *h, const char *path)
{
	int error = cli_decide_load(ctx, path, &h->cfg, &h->policy, &h->signings);

	return error ? error : check_config(h->cfg);
}

/* Config, policy, trust, signer certificate; the output folder. Returns an exit code. */
static int prepare(sg_context *ctx, ts_held *h, sg_cert_info *signer, ts_opts *o,
		   char **out_dir)
{
	char *parent = o->out ? sg_path_dir(o->out) : NULL;
	int rc;

	if (load_config_and_policy(ctx, h, o->config) != SG_OK) {
		free(parent);
		return cli_fail();
	}
	if (sg_context_load_trust(ctx) != SG_OK ||
	    sg_signer_load_certificate(signer, h->cfg->certificate) != SG_OK) {
		free(parent);
		return cli_fail();
	}
	ctx->signer = signer;
	sg_error_clear();
	/* attach-signature (MSI family) and verify: osslsigncode 2.9 or later, recorded. */
	if ((rc = cli_osslsigncode_check(h->cfg)) != CLI_EXIT_OK) {
		free(parent);
		return rc;
	}
	rc = check_folder(o->out ? (parent ? parent : ".") : o->out_dir, "output folder", !o->out);
	if (rc == 0 && o->out_dir && !(*out_dir = cli_out_dir_resolve(o->out_dir, "--out-dir")))
		rc = CLI_EXIT_OPERATIONAL;
	if (*out_dir)
		o->out_dir = *out_dir;
	if (rc == 0)
		rc = cli_private_folders(o->out ? (parent ? parent : ".") : o->out_dir);
	if (rc == 0 && cli_confine_setup(h->cfg) != SG_OK)
		rc = cli_fail();
	free(parent);
	return rc;
}

/* The fetcher is forked, then this process (the parser of the inputs) confines itself. */
static int start(sg_context *ctx, sg_tsa **tsa, const ts_opts *o, char **inputs, size_t n)
{
	char warn[512], *parent = o->out ? sg_path_dir(o->out) : NULL;
	const char *outs[] = { o->out ? (parent ? parent : ".") : o->out_dir, NULL };
	sg_confine_self_run run = { ctx->cfg, (const char *const *)inputs, n, outs, NULL };
	int error = sg_tsa_start(tsa, ctx->cfg);

	ctx->tsa = *tsa;
	if (error == SG_OK)
		error = sg_confine_self(&run, warn, sizeof(warn));
	if (error == SG_OK && warn[0])
		fprintf(stderr, "signgate: warning: %s\n", warn);
	free(parent);
	return error;
}

static int run_inputs(const sg_context *ctx, const ts_opts *o, char **inputs, char **outs,
		      size_t n)
{
	int worst = CLI_EXIT_OK;
	size_t changed = 0;

	for (size_t i = 0; i < n; i++) {
		sg_job job = { SG_ACTION_TIMESTAMP, inputs[i], outs[i], o->force };
		sg_outcome *r = calloc(1, sizeof(*r));

		if (!r) {
			worst = cli_worse(worst, CLI_EXIT_OPERATIONAL);
			continue;
		}
		sg_restamp_run(r, ctx, &job);
		cli_print_outcome(r, &job, o->json);
		if (r->status == SG_OK && strcmp(r->decision, "timestamped") == 0)
			changed++;
		worst = cli_worse(worst, cli_exit_code(r->status));
		free(r);
	}
	if (changed)
		fprintf(stderr,
			"signgate: note: %zu file%s got a new SHA-256 and SHA-1: remake any "
			"catalog "
			"(sign --catalog-out) or hash list made before from the timestamped "
			"files\n",
			changed, changed == 1 ? "" : "s");
	return worst;
}

int cmd_timestamp(int argc, char **argv)
{
	ts_opts o;
	sg_context ctx = { 0 };
	ts_held held = { 0 };
	sg_cert_info signer;
	sg_tsa *tsa = NULL;
	char *out_dir = NULL, **outs = NULL;
	size_t n;
	int rc = parse(&o, argc, argv);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	n = (size_t)(argc - optind);
	rc = prepare(&ctx, &held, &signer, &o, &out_dir);
	if (rc == CLI_EXIT_OK && !(outs = calloc(n, sizeof(*outs)))) {
		cli_error("out of memory");
		rc = CLI_EXIT_OPERATIONAL;
	}
	if (rc == CLI_EXIT_OK)
		rc = outputs_for(outs, &o, argv + optind, n);
	if (rc == CLI_EXIT_OK && start(&ctx, &tsa, &o, argv + optind, n) != SG_OK)
		rc = cli_fail();
	else if (rc == CLI_EXIT_OK)
		rc = run_inputs(&ctx, &o, argv + optind, outs, n);
	for (size_t i = 0; outs && i < n; i++)
		free(outs[i]);
	free(outs);
	sg_confine_self_end();
	sg_tsa_stop(tsa);
	sg_context_free_trust(&ctx);
	sg_audit_signings_free(held.signings);
	sg_policy_free(held.policy);
	sg_config_free(held.cfg);
	free(out_dir);
	return rc;
}

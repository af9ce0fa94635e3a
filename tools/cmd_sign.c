/* signgate sign / signgate check. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "signgate/batch.h"
#include "signgate/confine.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/pipeline.h"
#include "signgate/secret.h"
#include "signgate/strict.h"
#include "signgate/util.h"

static const char sign_help[] =
	"Usage: signgate sign --config FILE [--out-dir DIR | --out FILE] [OPTIONS] INPUT...\n"
	"\n"
	"For each INPUT: read it once into a private copy, compute SHA-256 (and SHA-512\n"
	"when the policy names SHA-512 values), check the structure its format\n"
	"requires, decide against the policy (default deny), add the enterprise\n"
	"Authenticode signature (SHA-256, RFC 3161 timestamp when TSA URLs are\n"
	"configured), verify the result against the configured root,\n"
	"record the outcome in the audit log, and only then move the output into\n"
	"place. The signing key is opened by a key helper process started before any\n"
	"input is read: only it obtains the password or PIN and holds the key, and it\n"
	"signs only the Authenticode digests signgate computes, at most one per INPUT;\n"
	"signgate itself and osslsigncode (which attaches signatures to MSI packages\n"
	"and cabinets, offline) never see the key. Inputs are never modified. An input\n"
	"that already carries our valid signature (the configured signer) is not\n"
	"signed twice: it is skipped while the vendor file its signing record in the\n"
	"audit log names is still approved, and denied when that file is now revoked\n"
	"or no longer approved, or when no signing record of it is found. An output\n"
	"that exists already (a re-run) is kept: it is reported as already signed\n"
	"(skipped) when it is our valid signature over this approved input, which\n"
	"the audit log shows signgate published; otherwise the input fails with\n"
	"\"exists already\" unless --force. Every signature without an RFC 3161\n"
	"timestamp is warned about on stderr: it dies with the certificate.\n"
	"\n"
	"INPUT is a file, or with --recursive a folder (its installers and scripts in\n"
	"name order, symbolic links not followed; by extension: @EXTENSIONS@).\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE     signgate.json (policy, audit log, trust, signing key)\n"
	"  -o, --out-dir DIR     write each output as DIR/<input base name>; DIR and its\n"
	"                        parents are created when missing (default: ./signed);\n"
	"                        a DIR that is a symbolic link is followed once, with a\n"
	"                        warning; DIR and the folders above it must be owned by\n"
	"                        root or you and not writable by others (sticky is fine)\n"
	"      --out FILE        output path (exactly one INPUT)\n"
	"  -f, --force           replace an existing output file (never the input)\n"
	"  -r, --recursive       INPUT folders: their installers and scripts by\n"
	"                        extension (@EXTENSIONS@), at any depth\n"
	"      --files-from LIST more INPUTs, one path a line ('-': standard input)\n"
	"  -j, --jobs N          sign N inputs at once (default: the number of cores);\n"
	"                        results still print in input order\n"
	"      --fail-fast       start no new input after the first that is not signed\n"
	"      --json            one JSON object per input on stdout (JSON Lines), in\n"
	"                        input order as each finishes\n"
	"      --catalog-out F   write every signed file's digests (SHA-1 and SHA-256,\n"
	"                        hex and base64 as WSUS update metadata carries them) as\n"
	"                        one JSON document F\n"
	"  -q, --quiet           no progress line and no summary on stderr\n"
	"  -h, --help            this text\n"
	"\n"
	"At the start, the private folders of runs killed meanwhile (no process holds\n"
	"their lock) are removed from $TMPDIR and DIR, one line each on stderr.\n"
	"\n"
	"On a terminal, a progress line (inputs done/total, bytes, rate) is kept on\n"
	"stderr; at the end a summary counts signed, skipped, denied and failed.\n"
	"\n"
	"Exit codes (the worst outcome wins): 0 all signed or skipped; 1 operational\n"
	"error; 2 usage or configuration error; 3 at least one input denied or failed\n"
	"verification.\n"
	"Example:\n"
	"  signgate sign --config signgate.json -r --out-dir signed/ downloads/\n";

static const char check_help[] =
	"Usage: signgate check --config FILE [OPTIONS] INPUT...\n"
	"\n"
	"Decide on each INPUT exactly as 'signgate sign' would (digests, structure,\n"
	"policy) without signing it. Each decision is recorded in the audit log.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE     signgate.json\n"
	"  -r, --recursive       INPUT folders: their @EXTENSIONS@ files\n"
	"      --files-from LIST more INPUTs, one path a line ('-': standard input)\n"
	"  -j, --jobs N          check N inputs at once (default: the number of cores)\n"
	"      --fail-fast       start no new input after the first that is denied\n"
	"      --json            one JSON object per input on stdout\n"
	"  -q, --quiet           no progress line and no summary on stderr\n"
	"  -h, --help            this text\n"
	"\n"
	"Exit codes: 0 all approved; 1 operational error; 2 usage or configuration\n"
	"error; 3 at least one input denied.\n";

/* The marker in a help text that stands for the extensions the format table owns. */
#define EXTENSIONS_MARK "@EXTENSIONS@"
#define HELP_WIDTH      79

/* ".exe .msi ..." (every row's extensions, from the table) into `out`, cut to fit. */
static void extension_list(char *out, size_t cap)
{
	size_t len = 0;
	const char *e;

	out[0] = '\0';
	for (size_t i = 0; (e = sg_format_extension_at(i)) != NULL; i++) {
		int n = snprintf(out + len, cap - len, "%s%s", i ? " " : "", e);

		if (n < 0 || (size_t)n >= cap - len)
			break;
		len += (size_t)n;
	}
}

/*
 * Print `text`, each EXTENSIONS_MARK replaced by the table's extensions,
 * wrapped at HELP_WIDTH: an option's description continues under its own
 * column (24), a paragraph at the margin.
 */
static void print_help(const char *text)
{
	const char *mark, *line = text, *e;
	size_t col, indent;

	while ((mark = strstr(text, EXTENSIONS_MARK)) != NULL) {
		fwrite(text, 1, (size_t)(mark - text), stdout);
		for (const char *p = text; p < mark; p++)
			if (*p == '\n')
				line = p + 1;
		col = (size_t)(mark - line);
		indent = line[0] == ' ' && col >= 24 ? 24 : 0;
		for (size_t i = 0; (e = sg_format_extension_at(i)) != NULL; i++) {
			if (i && col + 1 + strlen(e) + 2 > HELP_WIDTH) { /* room for ")." */
				printf("\n%*s", (int)indent, "");
				col = indent;
			} else if (i) {
				putchar(' ');
				col++;
			}
			fputs(e, stdout);
			col += strlen(e);
		}
		text = mark + strlen(EXTENSIONS_MARK);
	}
	fputs(text, stdout);
}

/* Where outputs go when neither --out-dir nor --out is given. */
#define DEFAULT_OUT_DIR "signed"
#define MAX_JOBS        SG_BATCH_MAX_JOBS

typedef struct sign_opts {
	const char *config, *out_dir, *out, *files_from, *catalog_out;
	int force, json, recursive, jobs, fail_fast, quiet;
} sign_opts;

static int parse(sign_opts *o, int argc, char **argv, int signing)
{
	static const struct option longopts[] = { { "config", required_argument, NULL, 'c' },
						  { "out-dir", required_argument, NULL, 'o' },
						  { "out", required_argument, NULL, 'O' },
						  { "force", no_argument, NULL, 'f' },
						  { "json", no_argument, NULL, 'J' },
						  { "recursive", no_argument, NULL, 'r' },
						  { "files-from", required_argument, NULL, 'F' },
						  { "jobs", required_argument, NULL, 'j' },
						  { "fail-fast", no_argument, NULL, 'x' },
						  { "catalog-out", required_argument, NULL, 'C' },
						  { "quiet", no_argument, NULL, 'q' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	const char *cmd = signing ? "sign" : "check";
	char *end;
	long n;
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, signing ? "c:o:frj:qh" : "c:rj:qh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'o': o->out_dir = optarg; break;
		case 'O': o->out = optarg; break;
		case 'f': o->force = 1; break;
		case 'J': o->json = 1; break;
		case 'r': o->recursive = 1; break;
		case 'F': o->files_from = optarg; break;
		case 'x': o->fail_fast = 1; break;
		case 'C': o->catalog_out = optarg; break;
		case 'q': o->quiet = 1; break;
		case 'j':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 || n > MAX_JOBS)
				return cli_usage_error(cmd, "--jobs takes a number from 1 to %d",
						       MAX_JOBS);
			o->jobs = (int)n;
			break;
		case 'h': print_help(signing ? sign_help : check_help); return -1;
		default: return cli_usage_error(cmd, "bad option");
		}
	}
	if (!signing && (o->out_dir || o->out || o->force || o->catalog_out))
		return cli_usage_error(cmd, "check writes no output: --out-dir, --out, --force and "
					    "--catalog-out belong to 'signgate sign'");
	if (cli_config_lookup(&o->config, cmd) != CLI_EXIT_OK)
		return CLI_EXIT_USAGE;
	if (!o->config)
		return cli_usage_error(cmd, "--config FILE is required (or SIGNGATE_CONFIG, or a "
					    "config at " CLI_CONFIG_DEFAULT ")");
	if (optind >= argc && !o->files_from)
		return cli_usage_error(cmd, "no INPUT given");
	if (o->out_dir && o->out)
		return cli_usage_error(cmd, "give --out-dir DIR or --out FILE, not both");
	if (signing && !o->out_dir && !o->out)
		o->out_dir = DEFAULT_OUT_DIR;
	if (o->jobs == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		o->jobs = cores < 1 ? 1 : cores > MAX_JOBS ? MAX_JOBS : (int)cores;
	}
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
	char warning[SG_ERROR_MAX + 256];

	/* A signature without a timestamp dies with the certificate: say so, every time. */
	if (sg_outcome_timestamp_warning(warning, sizeof(warning), r, job))
		fprintf(stderr, "signgate: warning: %s\n", warning);
	/* Only a signing made now is "signed"; already signed outputs say why, as skips do. */
	if (json || r->status != SG_OK || job->action != SG_ACTION_SIGN || !r->have_output ||
	    strcmp(r->decision, "signed") != 0) {
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

/* Signing stages its outputs in their folder: it is checked and cleaned too. */
static int private_folders(const sign_opts *o, int signing)
{
	char *dir = signing && o->out ? sg_path_dir(o->out) : NULL;
	int rc = cli_private_folders(!signing ? NULL : o->out ? dir : o->out_dir);

	free(dir);
	return rc;
}

/* The inputs of one run, in order: arguments, folder contents, --files-from lines. */
typedef struct input_list {
	char **paths;
	size_t n, cap;
} input_list;

static int add_path(input_list *l, const char *path)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **grown = realloc(l->paths, cap * sizeof(*grown));
		if (!grown)
			return -1;
		l->paths = grown;
		l->cap = cap;
	}
	l->paths[l->n] = strdup(path);
	return l->paths[l->n++] ? 0 : -1;
}

static void free_list(input_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
}

static int no_dots(const struct dirent *e)
{
	return strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
}

/*
 * The installers under `dir` (by extension: sg_format_name_is_installer()),
 * in name order; links are not followed.
 */
static int add_folder(input_list *l, const char *dir, int depth)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, no_dots, alphasort), rc = 0;

	if (n < 0) {
		cli_error("%s: cannot read the folder: %s", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *path = rc ? NULL : sg_path_join(dir, names[i]->d_name);
		struct stat st;

		if (!rc && !path)
			rc = -1;
		else if (!rc && lstat(path, &st) != 0)
			rc = (cli_error("%s: %s", path, strerror(errno)), -1);
		else if (!rc && S_ISDIR(st.st_mode) && depth < 64)
			rc = add_folder(l, path, depth + 1);
		else if (!rc && S_ISREG(st.st_mode) &&
			 sg_format_name_is_installer(names[i]->d_name))
			rc = add_path(l, path);
		free(path);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int add_input(input_list *l, const char *path, const sign_opts *o, const char *cmd)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (!o->recursive) {
			cli_usage_error(cmd,
					"%s is a folder: give --recursive to take the installers "
					"in it",
					path);
			return -1;
		}
		return add_folder(l, path, 0);
	}
	/* Anything else is an input: a missing file is reported as that input's failure. */
	return add_path(l, path);
}

/* --files-from: one path a line; blank lines are skipped, CR LF is accepted. */
static int add_files_from(input_list *l, const sign_opts *o, const char *cmd)
{
	FILE *f = strcmp(o->files_from, "-") == 0 ? stdin : fopen(o->files_from, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	if (!f) {
		cli_error("%s: cannot read the list of inputs: %s", o->files_from, strerror(errno));
		return -1;
	}
	while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len > 0)
			rc = add_input(l, line, o, cmd);
	}
	if (rc == 0 && ferror(f)) {
		cli_error("%s: cannot read the list of inputs", o->files_from);
		rc = -1;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two inputs that would write one output would race: refuse the run. */
static int check_outputs_unique(char **outputs, size_t n, const char *cmd)
{
	char **sorted = malloc(n * sizeof(*sorted));
	int rc = 0;

	if (!sorted)
		return -1;
	memcpy(sorted, outputs, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	for (size_t i = 1; i < n && rc == 0; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			rc = cli_usage_error(cmd,
					     "two inputs would both be written to %s: sign them "
					     "in separate runs or to separate --out-dir folders",
					     sorted[i]);
	free(sorted);
	return rc ? -1 : 0;
}

typedef struct run_state {
	sign_opts o;
	sg_context ctx;
	sg_config *cfg;
	sg_policy *policy;
	sg_keyhelper *keyhelper;     /* sign: the process that holds the key */
	sg_tsa *tsa;                 /* sign: the timestamp fetcher; NULL without TSA URLs */
	sg_audit_signings *signings; /* read once, when an input is already ours */
	size_t n_inputs;
} run_state;

static int load_config_and_policy(run_state *st)
{
	return cli_decide_load(&st->ctx, st->o.config, &st->cfg, &st->policy, &st->signings);
}

/*
 * The key helper is started before any input is read: only it obtains the
 * secret and opens the key, and it checks the key before the first input.
 * It signs at most one digest per input of the run. The timestamp fetcher
 * (when TSAs are configured) is started right after it, as early.
 */
static int start_key_helper(run_state *st, size_t n_inputs)
{
	int error;

	/* "confinement": "required" on a kernel without Landlock or seccomp: no input is signed. */
	if ((error = cli_confine_setup(st->cfg)) != SG_OK)
		return error;
	error = sg_keyhelper_start(&st->keyhelper, st->cfg, (unsigned long)n_inputs);

	if (error)
		return error;
	st->ctx.signer = sg_keyhelper_signer(st->keyhelper);
	st->ctx.keyhelper = st->keyhelper;
	/* The one process that may use the network, forked still before any input or thread. */
	error = sg_tsa_start(&st->tsa, st->cfg);
	st->ctx.tsa = st->tsa;
	return error;
}

/*
 * With the key helper started, before the first input is opened and any
 * thread started: this process, the parser of hostile bytes, is confined
 * (confine.h) to what the run needs.
 */
static int confine_self(run_state *st, input_list *in, int signing)
{
	char warn[512], *out_parent = st->o.out ? sg_path_dir(st->o.out) : NULL;
	char *catalog = st->o.catalog_out ? sg_path_dir(st->o.catalog_out) : NULL;
	const char *outs[] = { out_parent ? out_parent : st->o.out_dir, catalog, NULL };
	/* The timestamp fetcher asks the TSAs: this process needs no network. */
	sg_confine_self_run run = { st->cfg, (const char *const *)in->paths, in->n, outs, NULL };
	int error = signing ? SG_OK : cli_confine_setup(st->cfg);

	if (error == SG_OK)
		error = sg_confine_self(&run, warn, sizeof(warn));
	if (error == SG_OK && warn[0])
		fprintf(stderr, "signgate: warning: %s\n", warn);
	free(out_parent);
	free(catalog);
	return error;
}

typedef struct tally {
	size_t signed_, skipped, denied, failed, done;
	uint64_t bytes;
} tally;

static void count(tally *t, const sg_outcome *r)
{
	t->done++;
	if (r->have_input)
		t->bytes += r->input.size;
	if (r->status == SG_OK && strcmp(r->decision, "skipped") == 0)
		t->skipped++;
	else if (r->status == SG_OK)
		t->signed_++;
	/* A job that failed (a torn log: exit 3 all the same) is no denial of its input. */
	else if (cli_exit_code(r->status) == CLI_EXIT_REJECTED &&
		 !(r->decision && strcmp(r->decision, "failed") == 0))
		t->denied++;
	else
		t->failed++;
}

static void human_bytes(char *buf, size_t len, double v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(const tally *t, size_t n, double start)
{
	char bytes[32], rate[32];
	double secs = now_seconds() - start;

	human_bytes(bytes, sizeof(bytes), (double)t->bytes);
	human_bytes(rate, sizeof(rate), secs > 0 ? (double)t->bytes / secs : 0);
	fprintf(stderr, "\r\033[K%zu/%zu input%s, %s, %s/s", t->done, n, cli_s(n), bytes, rate);
	fflush(stderr);
}

/* What the caller's thread makes of each outcome, in input order. */
typedef struct report {
	const run_state *st;
	int signing, show_progress, worst;
	json_t *catalog; /* --catalog-out: the entries so far; NULL without */
	tally t;
	double start;
} report;

static void report_one(const sg_outcome *r, const sg_job *job, size_t i, void *arg)
{
	report *rep = arg;
	size_t n = rep->st->n_inputs;

	if (!r) {
		rep->worst = cli_worse(rep->worst, CLI_EXIT_OPERATIONAL);
		return;
	}
	if (rep->show_progress)
		fprintf(stderr, "\r\033[K");
	print_outcome(r, job, rep->st->o.json);
	count(&rep->t, r);
	rep->worst = cli_worse(rep->worst, cli_exit_code(r->status));
	if (rep->catalog && r->have_output)
		json_array_append_new(rep->catalog, sg_catalog_entry(r, job->input, job->output));
	if (rep->show_progress)
		progress(&rep->t, n, rep->start);
	(void)i;
}

static int run_batch(const run_state *st, char **inputs, char **outputs, size_t n, int signing)
{
	const sign_opts *o = &st->o;
	report rep = { .st = st,
		       .signing = signing,
		       .show_progress = !o->quiet && isatty(STDERR_FILENO),
		       .catalog = o->catalog_out ? json_array() : NULL,
		       .start = now_seconds() };
	sg_batch_spec spec = { &st->ctx,
			       signing ? SG_ACTION_SIGN : SG_ACTION_CHECK,
			       inputs,
			       outputs,
			       n,
			       o->force,
			       o->fail_fast,
			       o->jobs,
			       report_one,
			       &rep };

	if (sg_batch_run(&spec) != SG_OK) {
		cli_error("%s", sg_error_last());
		json_decref(rep.catalog);
		return CLI_EXIT_OPERATIONAL;
	}
	if (rep.show_progress)
		fprintf(stderr, "\r\033[K");
	if (rep.catalog && sg_catalog_write(o->catalog_out, rep.catalog,
					    st->ctx.signer->sha1_thumbprint) != SG_OK) {
		cli_error("cannot write the catalog: %s", sg_error_last());
		rep.worst = cli_worse(rep.worst, CLI_EXIT_OPERATIONAL);
	}
	json_decref(rep.catalog);
	if (!o->quiet)
		fprintf(stderr,
			"signgate: %zu input%s: %zu %s, %zu skipped, %zu denied, %zu failed\n", n,
			cli_s(n), rep.t.signed_, signing ? "signed" : "approved", rep.t.skipped, rep.t.denied,
			rep.t.failed);
	return rep.worst;
}

static int run_inputs(run_state *st, input_list *in, int signing)
{
	const char *cmd = signing ? "sign" : "check";
	char **outputs = signing ? calloc(in->n ? in->n : 1, sizeof(*outputs)) : NULL;
	int rc = signing && !outputs ? CLI_EXIT_OPERATIONAL : CLI_EXIT_OK;

	for (size_t i = 0; rc == CLI_EXIT_OK && signing && i < in->n; i++)
		if (!(outputs[i] = output_for(&st->o, in->paths[i])))
			rc = CLI_EXIT_USAGE;
	if (rc == CLI_EXIT_OK && signing && check_outputs_unique(outputs, in->n, cmd) != 0)
		rc = CLI_EXIT_USAGE;
	st->n_inputs = in->n;
	if (rc == CLI_EXIT_OK)
		rc = run_batch(st, in->paths, outputs, in->n, signing);
	for (size_t i = 0; outputs && i < in->n; i++)
		free(outputs[i]);
	free(outputs);
	return rc;
}

/* Each input receives a "failed" record when the run cannot attempt it; returns the exit code. */
static int fail_inputs(run_state *st, input_list *in, int status)
{
	char why[SG_ERROR_MAX];
	int worst = cli_exit_code(status);

	snprintf(why, sizeof(why), "%s", sg_error_last());
	for (size_t i = 0; i < in->n; i++) {
		sg_job job = { SG_ACTION_SIGN, in->paths[i], NULL, st->o.force };
		sg_outcome *r = calloc(1, sizeof(*r));
		if (!r)
			return CLI_EXIT_OPERATIONAL;
		sg_error_set(status, "%s: not signed: %s", sg_path_base(in->paths[i]), why);
		sg_pipeline_record_failure(r, &st->ctx, &job, status);
		print_outcome(r, &job, st->o.json);
		worst = cli_worse(worst, cli_exit_code(r->status));
		free(r);
	}
	return worst;
}

static int collect_inputs(input_list *in, const sign_opts *o, int argc, char **argv, int signing)
{
	const char *cmd = signing ? "sign" : "check";

	for (int i = optind; i < argc; i++)
		if (add_input(in, argv[i], o, cmd) != 0)
			return CLI_EXIT_USAGE;
	if (o->files_from && add_files_from(in, o, cmd) != 0)
		return CLI_EXIT_USAGE;
	if (in->n == 0) {
		char ext[256];

		extension_list(ext, sizeof(ext));
		return cli_usage_error(cmd,
				       "no INPUT: the folders and lists given hold no "
				       "installer or script (%s)",
				       ext);
	}
	if (o->out && in->n != 1)
		return cli_usage_error(cmd,
				       "--out takes exactly one INPUT; use --out-dir for several");
	return 0;
}

static int run(int argc, char **argv, int signing)
{
	input_list in = { 0 };
	run_state st;
	char *out_dir = NULL; /* --out-dir, resolved once when it is a link */
	int rc;

	memset(&st, 0, sizeof(st));
	rc = parse(&st.o, argc, argv, signing);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	rc = collect_inputs(&in, &st.o, argc, argv, signing);
	if (rc) {
		free_list(&in);
		return rc;
	}
	/*
	 * Configuration problems (exit 2) are found before any input is touched
	 * and before the key is opened: the config, its policy and trust files,
	 * which osslsigncode (its version), where the outputs go.
	 */
	if (load_config_and_policy(&st) != SG_OK ||
	    (signing && sg_context_load_trust(&st.ctx) != SG_OK)) {
		rc = cli_fail();
	} else if (signing && (sg_config_check_signing_files(st.cfg) != SG_OK ||
			       sg_config_check_audit_folder(st.cfg) != SG_OK)) {
		rc = cli_fail();
	} else if ((rc = cli_osslsigncode_check(st.cfg)) != CLI_EXIT_OK) {
		/* said */
	} else if ((st.o.out_dir && ensure_out_dir(st.o.out_dir) != 0) ||
		   (st.o.out && check_out_parent(st.o.out) != 0) ||
		   (st.o.out_dir && !(out_dir = cli_out_dir_resolve(st.o.out_dir, "--out-dir")))) {
		rc = CLI_EXIT_USAGE;
	} else if (signing && start_key_helper(&st, in.n) != SG_OK) {
		int status = sg_error_code();
		cli_error("%s", sg_error_last());
		rc = fail_inputs(&st, &in, status);
	} else {
		/* Left-overs go before the run makes its own folders (confine_self). */
		st.o.out_dir = out_dir ? out_dir : st.o.out_dir;
		rc = private_folders(&st.o, signing);
		if (rc == CLI_EXIT_OK && confine_self(&st, &in, signing) != SG_OK) {
			int status = sg_error_code();
			cli_error("%s", sg_error_last());
			rc = fail_inputs(&st, &in, status);
		} else if (rc == CLI_EXIT_OK) {
			rc = run_inputs(&st, &in, signing);
		}
	}
	sg_confine_self_end();
	sg_tsa_stop(st.tsa);
	if (sg_keyhelper_stop(st.keyhelper, NULL) != SG_OK && rc == CLI_EXIT_OK)
		rc = cli_fail();
	sg_audit_signings_free(st.signings);
	sg_context_free_trust(&st.ctx);
	sg_policy_free(st.policy);
	sg_config_free(st.cfg);
	free_list(&in);
	free(out_dir);
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

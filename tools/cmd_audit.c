/* signgate audit verify | show | summary | repair | rotate (seal: cmd_audit_seal.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "signgate/audit.h"
#include "signgate/audit_query.h"
#include "signgate/audit_seal.h"
#include "signgate/config.h"
#include "signgate/error.h"
#include "signgate/util.h"

static const char audit_intro[] =
	"The audit log is JSON Lines: one record per decision or signature. Each record\n"
	"carries a sequence number, the SHA-256 of the previous line (\"prev\") and the\n"
	"SHA-256 of its own content (\"hash\"), so editing, deleting, inserting or\n"
	"reordering records breaks the chain.\n";

static const char audit_exit[] =
	"Exit codes: 0 valid; 1 the log cannot be read; 2 usage or configuration error\n"
	"(a --log, --seal-cert or --against file that does not exist); 3 the chain is\n"
	"broken: tampered, torn, cut off after a seal, a bad seal, seals that cannot be\n"
	"checked (without --partial), or an interrupted seal.\n";

/* Which options a verb takes (help texts). */
enum { H_VERIFY = 1, H_SHOW = 2, H_SUMMARY = 4, H_REPAIR = 8, H_ROTATE = 16 };

/* Each verb: its usage, what it does, which options apply. */
static const struct verb_help {
	const char *verb, *usage, *about;
	unsigned bit;
} verb_helps[] = {
	{ "verify",
	  "signgate audit verify  (--config FILE | --log FILE...) [SEALS] [--partial]\n"
	  "                              [--against FILE] [--json]",
	  "  verify    check every record and the whole chain; names the first bad line.\n"
	  "            Several --log files are one chain, oldest first (a rotated log's\n"
	  "            archives, then the current file); with --config, --log names the\n"
	  "            archives before the configured log. Seals (--seals FILE with\n"
	  "            --seal-cert PEM, else the config's audit_seal) must each match the\n"
	  "            chain: a rewritten chain or records cut off the end are found.\n"
	  "            Seals of records before the files given (the first file starts\n"
	  "            with a rotate record) fail the check unless --partial; a seal\n"
	  "            record whose seal is missing is an interrupted seal (run 'audit\n"
	  "            seal' again). --against FILE also checks the seals forwarded off\n"
	  "            the host (syslog \"audit-seal\" lines): a log cut back together\n"
	  "            with its seals file, or seals deleted, are found\n",
	  H_VERIFY },
	{ "show", "signgate audit show    (--config FILE | --log FILE) [FILTERS] [--json | --csv]",
	  "  show      the records: a table (seq, time, action, decision, input, SHA-256,\n"
	  "            approval, actor, reason), the JSON lines themselves (--json), or CSV\n"
	  "            (--csv, with the signgate and osslsigncode versions of each record)\n",
	  H_SHOW },
	{ "summary", "signgate audit summary (--config FILE | --log FILE) [FILTERS]",
	  "  summary   how many records, denials and failures first, counts by decision,\n"
	  "            product and actor; with --thumbprint, every file signed with that\n"
	  "            certificate (what must be re-signed when it is replaced)\n",
	  H_SUMMARY },
	{ "repair", "signgate audit repair  (--config FILE | --log FILE)",
	  "  repair    after a crash mid-append (a torn last line), move the torn bytes\n"
	  "            into <log>.torn-TIME-PID and record the repair in the chain;\n"
	  "            refuses when what precedes them is not a valid record\n",
	  H_REPAIR },
	{ "rotate", "signgate audit rotate  (--config FILE | --log FILE)",
	  "  rotate    move the log to <log>.<YYYYMMDDTHHMMSSZ> and start a new file whose\n"
	  "            first record chains to the old file's last (atomic; appends wait)\n",
	  H_ROTATE },
};
#define N_VERBS (sizeof(verb_helps) / sizeof(verb_helps[0]))

static const struct {
	const char *text;
	unsigned verbs;
} option_helps[] = {
	{ "  -c, --config FILE   take the log path from signgate.json (default: $SIGNGATE_CONFIG,\n"
	  "                      else " CLI_CONFIG_DEFAULT " when there is one)\n",
	  H_VERIFY | H_SHOW | H_SUMMARY | H_REPAIR | H_ROTATE },
	{ "  -l, --log FILE      the log file itself, and no config (verify: may be repeated,\n"
	  "                      oldest first)\n",
	  H_VERIFY | H_SHOW | H_SUMMARY | H_REPAIR | H_ROTATE },
	{ "      --seals FILE    the seals file (default: the config's)\n", H_VERIFY },
	{ "      --seal-cert PEM the sealing certificate the seals are pinned to\n", H_VERIFY },
	{ "      --partial       only count, and list, the seals of records before the files\n"
	  "                      given; exit 0 when a seal within them matches\n",
	  H_VERIFY },
	{ "      --against FILE  the off-host copy of the seals (syslog/SIEM lines)\n", H_VERIFY },
	{ "      --json          machine-readable output\n", H_VERIFY | H_SHOW },
	{ "      --csv           CSV (RFC 4180)\n", H_SHOW },
	{ "  -h, --help          this text\n",
	  H_VERIFY | H_SHOW | H_SUMMARY | H_REPAIR | H_ROTATE },
};

/* FILTERS, with the words of --action and --decision from the table the filter checks. */
static void print_filters(void)
{
	char actions[512], decisions[512];

	printf("Filters (all that are given must hold):\n"
	       "  --product NAME  --approval ID  --sha256 PREFIX (input or output)\n"
	       "  --thumbprint SHA1 (signer)  --actor USER\n"
	       "  --action %s\n"
	       "  --decision %s\n"
	       "  --since TIME  --until TIME   (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC; a bare\n"
	       "                                --until date includes that whole day)\n",
	       sg_audit_words(actions, sizeof(actions), sg_audit_actions, "|"),
	       sg_audit_words(decisions, sizeof(decisions), sg_audit_decisions, "|"));
}

static void print_options(unsigned verbs)
{
	printf("Options:\n");
	for (size_t i = 0; i < sizeof(option_helps) / sizeof(option_helps[0]); i++)
		if (option_helps[i].verbs & verbs)
			fputs(option_helps[i].text, stdout);
}

/* `verb` NULL: the group's help; else that subcommand's. */
static void print_help(const char *verb)
{
	const struct verb_help *v = NULL;

	for (size_t i = 0; verb && i < N_VERBS; i++)
		if (strcmp(verb, verb_helps[i].verb) == 0)
			v = &verb_helps[i];
	if (v) {
		printf("Usage: %s\n\n%s\n%s\n", v->usage, audit_intro, v->about);
		if (v->bit & (H_SHOW | H_SUMMARY)) {
			print_filters();
			printf("\n");
		}
		print_options(v->bit);
		printf("\n%s", audit_exit);
		return;
	}
	for (size_t i = 0; i < N_VERBS; i++)
		printf("%s %s\n", i ? "      " : "Usage:", verb_helps[i].usage);
	printf("       signgate audit seal    --config FILE [--json]   (see 'audit seal --help')\n"
	       "       signgate audit report  (--config FILE | --log FILE...) [--json] [--out FILE]\n"
	       "                              (see 'audit report --help')\n"
	       "\n%s\n",
	       audit_intro);
	for (size_t i = 0; i < N_VERBS; i++)
		fputs(verb_helps[i].about, stdout);
	printf("  seal      append a seal record and sign the head that includes it with the\n"
	       "            sealing key into the seals file\n"
	       "  report    the auditor's report (HTML, or --json): the verdict, signings,\n"
	       "            denials and failures per day, signed files, certificates\n\n");
	print_filters();
	printf("\n");
	print_options(~0u);
	printf("\n%s", audit_exit);
}

#define MAX_LOGS 4096

typedef struct audit_opts {
	const char *config, *log;
	const char *logs[MAX_LOGS]; /* verify: every --log, oldest first */
	size_t n_logs;
	const char *seals, *seal_cert, *against;
	int json, csv, partial;
	sg_audit_filter filter;
} audit_opts;

static int parse(audit_opts *o, const char *verb, int argc, char **argv)
{
	static const struct option longopts[] = { { "config", required_argument, NULL, 'c' },
						  { "log", required_argument, NULL, 'l' },
						  { "json", no_argument, NULL, 'j' },
						  { "csv", no_argument, NULL, 'v' },
						  { "product", required_argument, NULL, 'P' },
						  { "approval", required_argument, NULL, 'A' },
						  { "sha256", required_argument, NULL, 'S' },
						  { "thumbprint", required_argument, NULL, 'T' },
						  { "actor", required_argument, NULL, 'U' },
						  { "action", required_argument, NULL, 'a' },
						  { "decision", required_argument, NULL, 'D' },
						  { "since", required_argument, NULL, 's' },
						  { "until", required_argument, NULL, 'u' },
						  { "seals", required_argument, NULL, 'e' },
						  { "seal-cert", required_argument, NULL, 'E' },
						  { "partial", no_argument, NULL, 'p' },
						  { "against", required_argument, NULL, 'g' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	sg_audit_filter *f = &o->filter;
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "c:l:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'l':
			if (o->n_logs == MAX_LOGS)
				return cli_usage_error("audit", "more than %d log files", MAX_LOGS);
			o->log = o->logs[o->n_logs++] = optarg;
			break;
		case 'e': o->seals = optarg; break;
		case 'E': o->seal_cert = optarg; break;
		case 'p': o->partial = 1; break;
		case 'g': o->against = optarg; break;
		case 'j': o->json = 1; break;
		case 'v': o->csv = 1; break;
		case 'P': f->product = optarg; break;
		case 'A': f->approval = optarg; break;
		case 'S': f->sha256 = optarg; break;
		case 'T': f->thumbprint = optarg; break;
		case 'U': f->actor = optarg; break;
		case 'a': f->action = optarg; break;
		case 'D': f->decision = optarg; break;
		case 's': f->since = optarg; break;
		case 'u': f->until = optarg; break;
		case 'h': print_help(verb); return -1;
		default: return cli_usage_error("audit", "bad option");
		}
	}
	/* --log alone: only the files the options name, never a config found elsewhere. */
	if (!o->log && cli_config_lookup(&o->config, "audit") != CLI_EXIT_OK)
		return CLI_EXIT_USAGE;
	if (!o->config && !o->log)
		return cli_usage_error("audit", "give --config FILE or --log FILE (or set "
						"SIGNGATE_CONFIG, or a config at " CLI_CONFIG_DEFAULT
						")");
	if (o->config && o->log && strcmp(verb, "verify") != 0)
		return cli_usage_error("audit",
				       "give one of --config FILE or --log FILE, not both");
	if (o->n_logs > 1 && strcmp(verb, "verify") != 0)
		return cli_usage_error("audit", "only 'audit verify' takes more than one --log");
	if (!o->seals != !o->seal_cert && !o->config)
		return cli_usage_error("audit", "give --seals FILE and --seal-cert FILE together");
	if ((o->seals || o->seal_cert || o->partial || o->against) && strcmp(verb, "verify") != 0)
		return cli_usage_error("audit", "--seals, --seal-cert, --partial and --against go "
						"with 'audit verify'");
	if (o->json && o->csv)
		return cli_usage_error("audit", "give --json or --csv, not both");
	if (optind != argc)
		return cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);
	if (sg_audit_filter_check(f) != SG_OK)
		return cli_usage_error("audit", "%s", sg_error_last());
	/* A log that is not there is named as such, not reported invalid (--seals: none yet). */
	for (size_t i = 0; i < o->n_logs; i++)
		if (cli_file_given(o->logs[i], "--log"))
			return CLI_EXIT_USAGE;
	if (cli_file_given(o->seal_cert, "--seal-cert") || cli_file_given(o->against, "--against"))
		return CLI_EXIT_USAGE;
	return 0;
}

/* What verify compares the chain with. */
typedef struct verify_seals {
	sg_audit_seals seals;   /* the seals file, merged with the off-host copy */
	const char *file;       /* the seals file; NULL: no seals checked */
	size_t offhost_n;       /* seals found in the off-host copy */
	size_t offhost_ignored; /* lines of it that look like seals but do not verify */
} verify_seals;

/*
 * The seals to check against the chain: --seals with --seal-cert, else the
 * config's "audit_seal" section. v->file stays NULL when there are none to
 * use. With --against, the off-host copy's seals are merged in.
 */
static int load_seals(verify_seals *v, const audit_opts *o, const sg_config *cfg)
{
	const char *cert = o->seal_cert ? o->seal_cert : cfg ? cfg->seal_cert : NULL;
	sg_audit_seals off;
	int error;

	memset(v, 0, sizeof(*v));
	v->file = o->seals ? o->seals : cfg ? cfg->seal_file : NULL;
	if (!v->file || !cert) {
		v->file = NULL;
		return o->against ? sg_error_set(SG_ERR_USAGE,
						 "--against needs the sealing certificate: "
						 "give --seals and --seal-cert, or a config "
						 "with \"audit_seal\"")
				  : SG_OK;
	}
	error = sg_audit_seals_load(&v->seals, v->file, cert);
	if (error || !o->against)
		return error;
	error = sg_audit_seals_load_offhost(&off, o->against, sg_path_base(o->logs[o->n_logs - 1]),
					    cert, &v->offhost_ignored);
	if (!error && off.n == 0)
		error = sg_error_set(SG_ERR_CONFIG,
				     "%s: holds no seal of %s made with %s (%zu seal-like lines "
				     "do not verify): nothing to check against",
				     o->against, sg_path_base(o->logs[o->n_logs - 1]), cert,
				     v->offhost_ignored);
	if (!error) {
		v->offhost_n = off.n;
		error = sg_audit_seals_merge(&v->seals, &off);
	}
	sg_audit_seals_free(&off);
	return error;
}

/* The failure is an interrupted sealing run, not a broken chain. */
static int is_interrupted(const sg_audit_report *rep)
{
	return rep->interrupted && rep->bad_file == rep->interrupted_file &&
	       rep->bad_line == rep->interrupted_line;
}

static void add_verify_json(json_t *obj, const audit_opts *o, const sg_audit_report *rep,
			    const verify_seals *v)
{
	json_object_set_new(obj, "partial", json_boolean(o->partial));
	json_object_set_new(obj, "seals_before_lines",
			    rep->seals_before
				    ? json_pack("[I, I]", (json_int_t)rep->before_first_line,
						(json_int_t)rep->before_last_line)
				    : json_null());
	json_object_set_new(obj, "seals_before_seqs",
			    rep->seals_before
				    ? json_pack("[I, I]", (json_int_t)rep->before_first_seq,
						(json_int_t)rep->before_last_seq)
				    : json_null());
	json_object_set_new(obj, "interrupted_seals", json_integer((json_int_t)rep->interrupted));
	json_object_set_new(obj, "interrupted", json_boolean(is_interrupted(rep)));
	json_object_set_new(obj, "unsealed_seal_records",
			    json_integer((json_int_t)rep->unsealed_covered));
	json_object_set_new(obj, "against", o->against ? json_string(o->against) : json_null());
	json_object_set_new(obj, "offhost_seals", json_integer((json_int_t)v->offhost_n));
	json_object_set_new(obj, "offhost_ignored", json_integer((json_int_t)v->offhost_ignored));
}

static void print_verify_json(const audit_opts *o, const sg_audit_report *rep, int error,
			      const verify_seals *v)
{
	json_t *files = json_array(), *obj;

	for (size_t i = 0; i < o->n_logs; i++)
		json_array_append_new(files, json_string(o->logs[i]));
	obj = json_pack("{s:o, s:b, s:I, s:I, s:I, s:s?, s:I, s:s, s:s?, s:b, s:I, s:I, s:I, "
			"s:s?, s:s}",
			"files", files, "valid", error == SG_OK, "records",
			(json_int_t)rep->records, "first_seq", (json_int_t)rep->first_seq,
			"last_seq", (json_int_t)rep->last_seq, "bad_file",
			error && error != SG_ERR_IO ? o->logs[rep->bad_file] : NULL, "bad_line",
			(json_int_t)rep->bad_line, "head", rep->head, "seals", v->file,
			"seals_missing", v->file && v->seals.missing && v->seals.n == 0,
			"seals_checked", (json_int_t)rep->seals_checked, "seals_before",
			(json_int_t)rep->seals_before, "sealed_seq", (json_int_t)rep->sealed_seq,
			"sealed_time", rep->sealed_time[0] ? rep->sealed_time : NULL, "message",
			error ? sg_error_last() : "");
	if (obj) {
		add_verify_json(obj, o, rep, v);
		cli_print_json(obj);
	}
	json_decref(obj);
}

/* The notes on seals after a valid chain: what was checked, what was not. */
static void print_seal_notes(const audit_opts *o, const sg_audit_report *rep, const verify_seals *v)
{
	if (rep->seals_before)
		printf("partial  %zu seal%s NOT checked (seals lines %zu-%zu, seq %lld-%lld): "
		       "%s records before seq %lld, in archives not given\n",
		       rep->seals_before, cli_s(rep->seals_before), rep->before_first_line, rep->before_last_line,
		       rep->before_first_seq, rep->before_last_seq,
		       rep->seals_before == 1 ? "it covers" : "they cover", rep->first_seq);
	if (rep->unsealed_covered)
		printf("note     seal record seq %lld has no seal of its own (%zu such record%s: a "
		       "sealing run stopped before writing it); the seal of seq %lld covers it\n",
		       rep->unsealed_covered_seq, rep->unsealed_covered,
		       cli_s(rep->unsealed_covered), rep->sealed_seq);
	if (o->against)
		printf("against  %zu seal%s of the off-host copy %s agree%s with the seals file "
		       "and the chain\n",
		       v->offhost_n, cli_s(v->offhost_n), o->against, v->offhost_n == 1 ? "s" : "");
	if (v->offhost_ignored)
		printf("note     %zu line%s of %s look%s like seals but do%s not verify: ignored\n",
		       v->offhost_ignored, cli_s(v->offhost_ignored), o->against,
		       v->offhost_ignored == 1 ? "s" : "", v->offhost_ignored == 1 ? "es" : "");
	if (rep->last_seq > rep->sealed_seq && v->seals.n > 0)
		printf("note     records after seq %lld are not sealed yet\n", rep->sealed_seq);
}

static void print_verify_text(const audit_opts *o, const sg_audit_report *rep,
			      const verify_seals *v)
{
	const char *what = o->n_logs > 1 ? "files" : o->logs[0];

	if (o->n_logs > 1)
		printf("valid    %zu files, %s ... %s:", o->n_logs, o->logs[0],
		       o->logs[o->n_logs - 1]);
	else
		printf("valid    %s:", what);
	printf(" %zu record%s, chain intact (seq %lld-%lld, head %.16s...)\n", rep->records,
	       cli_s(rep->records), rep->first_seq, rep->last_seq, rep->head);
	if (rep->first_seq > 1)
		printf("note     the first record continues a rotated log (seq %lld before it): "
		       "give the older files first to check that link\n",
		       rep->first_seq - 1);
	if (!v->file)
		printf("note     no seals checked: records cut off the end, or a chain rewritten "
		       "from scratch, would not show (configure audit_seal, or give --seals "
		       "and --seal-cert)\n");
	else if (v->seals.n == 0)
		printf("note     no seals yet (%s %s): run `signgate audit seal`\n", v->file,
		       v->seals.missing ? "does not exist" : "is empty");
	else
		printf("sealed   %zu seal%s the chain; the newest covers seq %lld (made %s)\n",
		       rep->seals_checked, rep->seals_checked == 1 ? " matches" : "s match",
		       rep->sealed_seq,
		       rep->sealed_time[0] ? rep->sealed_time : "-");
	if (v->file)
		print_seal_notes(o, rep, v);
}

/* The seals file's identity and size (zeros when missing): a sealing run changes it. */
static void seals_state(struct stat *st, const audit_opts *o, const sg_config *cfg)
{
	const char *file = o->seals ? o->seals : cfg ? cfg->seal_file : NULL;

	memset(st, 0, sizeof(*st));
	if (file && stat(file, st) != 0)
		memset(st, 0, sizeof(*st));
}

/*
 * Load the seals and verify. A sealing run appends its record before its
 * seal: one that runs between loading the seals and reading the log shows
 * as an interrupted seal (or a seals file that did not exist yet). When a
 * check fails and the seals file changed meanwhile, it runs again on the
 * fresh seals (a genuine finding does not go away).
 */
static int verify_once(sg_audit_report *rep, verify_seals *v, const audit_opts *o,
		       const sg_config *cfg)
{
	struct stat before, after;
	int error;

	for (int attempt = 0;; attempt++) {
		seals_state(&before, o, cfg);
		error = load_seals(v, o, cfg);
		if (error)
			return error;
		error = sg_audit_verify_files(o->logs, o->n_logs, v->file ? &v->seals : NULL,
					      o->partial ? SG_AUDIT_VERIFY_PARTIAL : 0, rep);
		seals_state(&after, o, cfg);
		if (error != SG_ERR_TAMPER || attempt == 2 ||
		    (before.st_ino == after.st_ino && before.st_dev == after.st_dev &&
		     before.st_size == after.st_size))
			return error;
		sg_audit_seals_free(&v->seals);
	}
}

static int audit_verify(audit_opts *o, const sg_config *cfg)
{
	sg_audit_report rep = { 0 };
	verify_seals v = { 0 };
	int error;

	if (cfg && o->n_logs < MAX_LOGS)
		o->logs[o->n_logs++] = cfg->audit_log; /* the current log comes last */
	error = verify_once(&rep, &v, o, cfg);
	if (error && error != SG_ERR_TAMPER) {
		sg_audit_seals_free(&v.seals);
		return cli_fail();
	}
	if (o->json)
		print_verify_json(o, &rep, error, &v);
	else if (error == SG_OK)
		print_verify_text(o, &rep, &v);
	else
		printf("%s %s\n", is_interrupted(&rep) ? "interrupted" : "invalid ",
		       sg_error_last());
	sg_audit_seals_free(&v.seals);
	return cli_exit_code(error);
}

/*
 * The log's own records (rotate, repair) go to syslog like any other when the
 * config forwards records, so a SIEM sees every seq.
 */
static void forward(const sg_config *cfg, const sg_audit_receipt *r, const char *action,
		    const char *decision)
{
	json_t *rec;

	if (!cfg || cfg->syslog_facility < 0)
		return;
	rec = json_pack("{s:s, s:s}", "action", action, "decision", decision);
	if (rec)
		sg_audit_syslog(r, rec, cfg->syslog_facility, cfg->syslog_tag);
	json_decref(rec);
}

static int audit_rotate(const char *log, const sg_config *cfg)
{
	sg_audit_rotate_report rep;

	if (sg_audit_rotate(log, &rep) != SG_OK)
		return cli_fail();
	if (rep.archive[0])
		forward(cfg, &rep.record, "rotate", "rotated");
	if (!rep.archive[0])
		printf("empty    %s: no records yet; nothing to rotate\n", log);
	else
		printf("rotated  %s: records up to seq %lld are now in %s; the new log starts "
		       "with record %s, chained to them\n",
		       log, rep.last_seq, rep.archive, rep.record.id);
	return CLI_EXIT_OK;
}

static const char *field_or_dash(const json_t *rec, const char *path)
{
	const char *v = sg_audit_field(rec, path);

	return v ? v : "-";
}

/* The reason a reviewer reads first: the error, else the first reason. */
static const char *why_of(const json_t *rec)
{
	const json_t *error = json_object_get(rec, "error");
	const json_t *why =
		json_is_string(error) ? error : json_array_get(json_object_get(rec, "reasons"), 0);

	return json_is_string(why) ? json_string_value(why) : "";
}

/* RFC 4180: quote every field, double the quotes inside. */
static void csv_field(const char *v, int last)
{
	putchar('"');
	for (; *v; v++) {
		if (*v == '"')
			putchar('"');
		putchar(*v);
	}
	fputs(last ? "\"\r\n" : "\",", stdout);
}

static const char *const csv_columns[] = {
	"seq",
	"time",
	"action",
	"decision",
	"input.name",
	"input.sha256",
	"approval.id",
	"approval.product",
	"approval.version",
	"actor.user",
	"output.sha256",
	"signature.signer.sha1_thumbprint",
	"signgate_version",
	"osslsigncode_version",
	"why",
};
#define N_CSV (sizeof(csv_columns) / sizeof(csv_columns[0]))

static void show_csv(const json_t *rec)
{
	char seq[32];

	snprintf(seq, sizeof(seq), "%lld",
		 (long long)json_integer_value(json_object_get(rec, "seq")));
	csv_field(seq, 0);
	for (size_t i = 1; i + 1 < N_CSV; i++)
		csv_field(sg_audit_field(rec, csv_columns[i]) ? sg_audit_field(rec, csv_columns[i])
							      : "",
			  0);
	csv_field(why_of(rec), 1);
}

static int show_one(const json_t *rec, size_t line, void *arg)
{
	const audit_opts *o = arg;

	(void)line;
	if (!sg_audit_filter_match(&o->filter, rec))
		return 0;
	if (o->json)
		cli_print_json(rec);
	else if (o->csv)
		show_csv(rec);
	else
		printf("%5lld %s %-6s %-8s %-28s %-12.12s %-20s %-10s %s\n",
		       (long long)json_integer_value(json_object_get(rec, "seq")),
		       field_or_dash(rec, "time"), field_or_dash(rec, "action"),
		       field_or_dash(rec, "decision"), field_or_dash(rec, "input.name"),
		       field_or_dash(rec, "input.sha256"), field_or_dash(rec, "approval.id"),
		       field_or_dash(rec, "actor.user"), why_of(rec));
	return 0;
}

/* Lines that cannot match are skipped unparsed: large logs stay quick to query. */
static int might_show(const char *line, size_t len, void *arg)
{
	const audit_opts *o = arg;

	return sg_audit_filter_might_match(&o->filter, line, len);
}

static int audit_show(const audit_opts *o)
{
	int error;

	if (o->csv)
		for (size_t i = 0; i < N_CSV; i++)
			csv_field(csv_columns[i], i + 1 == N_CSV);
	else if (!o->json)
		printf("%5s %-20s %-6s %-8s %-28s %-12s %-20s %-10s %s\n", "SEQ", "TIME (UTC)",
		       "ACTION", "DECISION", "INPUT", "SHA-256", "APPROVAL", "ACTOR", "REASON");
	error = sg_audit_foreach_where(o->log, might_show, show_one, (void *)o);
	if (error)
		return cli_fail();
	return CLI_EXIT_OK;
}

/* A small tally: names and their counts, in first-seen order. */
typedef struct tally {
	char names[64][128];
	long counts[64];
	size_t n;
	long other;
} tally;

static void count(tally *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->names[i], name) == 0) {
			t->counts[i]++;
			return;
		}
	if (t->n == 64) {
		t->other++;
		return;
	}
	snprintf(t->names[t->n], sizeof(t->names[0]), "%s", name);
	t->counts[t->n++] = 1;
}

typedef struct summary {
	const audit_opts *o;
	tally by_product, by_decision, by_actor;
	long records, problems;
} summary;

static int is_problem(const char *decision)
{
	return decision && (strcmp(decision, "denied") == 0 || strcmp(decision, "failed") == 0 ||
			    strcmp(decision, "invalid") == 0);
}

static int summarize_one(const json_t *rec, size_t line, void *arg)
{
	summary *s = arg;

	(void)line;
	if (!sg_audit_filter_match(&s->o->filter, rec))
		return 0;
	s->records++;
	s->problems += is_problem(sg_audit_field(rec, "decision"));
	count(&s->by_product, field_or_dash(rec, "approval.product"));
	count(&s->by_decision, field_or_dash(rec, "decision"));
	count(&s->by_actor, field_or_dash(rec, "actor.user"));
	return 0;
}

/* Denials and failures first: the lines a reviewer must look at. */
static int list_problem(const json_t *rec, size_t line, void *arg)
{
	const audit_opts *o = arg;

	if (is_problem(sg_audit_field(rec, "decision")))
		show_one(rec, line, (void *)o);
	return 0;
}

static int list_signed(const json_t *rec, size_t line, void *arg)
{
	const audit_opts *o = arg;
	const char *d = sg_audit_field(rec, "decision");

	if (d && strcmp(d, "signed") == 0)
		show_one(rec, line, (void *)o);
	return 0;
}

static void print_tally(const char *title, const tally *t)
{
	printf("%s:\n", title);
	for (size_t i = 0; i < t->n; i++)
		printf("  %-40s %ld\n", t->names[i], t->counts[i]);
	if (t->other)
		printf("  %-40s %ld\n", "(others)", t->other);
}

static int audit_summary(const audit_opts *o)
{
	summary *s = calloc(1, sizeof(*s));
	int error;

	if (!s)
		return CLI_EXIT_OPERATIONAL;
	s->o = o;
	error = sg_audit_foreach(o->log, summarize_one, s);
	if (!error) {
		printf("%ld record%s, %ld denied, failed or invalid\n", s->records,
		       cli_s((unsigned long long)s->records), s->problems);
		if (s->problems) {
			printf("\nDenials and failures:\n");
			error = sg_audit_foreach(o->log, list_problem, (void *)o);
		}
	}
	if (!error) {
		printf("\n");
		print_tally("By decision", &s->by_decision);
		print_tally("By product", &s->by_product);
		print_tally("By actor", &s->by_actor);
	}
	if (!error && o->filter.thumbprint) {
		/* What must be re-signed when this certificate goes. */
		printf("\nFiles signed with certificate %s:\n", o->filter.thumbprint);
		error = sg_audit_foreach(o->log, list_signed, (void *)o);
	}
	free(s);
	return error ? cli_fail() : CLI_EXIT_OK;
}

static int audit_repair(const char *log, const sg_config *cfg)
{
	sg_audit_repair_report rep;

	if (sg_audit_repair(log, &rep) != SG_OK)
		return cli_fail();
	if (rep.torn_bytes)
		forward(cfg, &rep.record, "repair", "repaired");
	if (rep.torn_bytes == 0)
		printf("intact   %s: its last line is complete; nothing to repair\n", log);
	else
		printf("repaired %s: %zu torn bytes (SHA-256 %.16s...) moved to %s; recorded as "
		       "%s\n",
		       log, rep.torn_bytes, rep.torn_sha256, rep.quarantine, rep.record.id);
	return CLI_EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;
	audit_opts o;
	sg_config *cfg = NULL;
	int rc;

	if (verb && (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0)) {
		print_help(NULL);
		return CLI_EXIT_OK;
	}
	if (verb && strcmp(verb, "seal") == 0)
		return cmd_audit_seal(argc - 1, argv + 1);
	if (verb && strcmp(verb, "report") == 0)
		return cmd_audit_report(argc - 1, argv + 1);
	if (!verb || (strcmp(verb, "verify") && strcmp(verb, "show") && strcmp(verb, "summary") &&
		      strcmp(verb, "repair") && strcmp(verb, "rotate")))
		return cli_usage_error("audit", "expected 'audit verify', 'audit show', "
						"'audit summary', 'audit repair', 'audit rotate', "
						"'audit seal' or 'audit report'");
	rc = parse(&o, verb, argc - 1, argv + 1);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (o.config && sg_config_load(&cfg, o.config) != SG_OK)
		return cli_fail();
	/* Files named on the command line (a reviewer's copies): warnings, not refusals. */
	cli_strict_warn_audit(o.logs, o.n_logs, o.seals, o.seal_cert, o.against);
	if (cfg)
		o.log = cfg->audit_log;
	if (strcmp(verb, "verify") == 0)
		rc = audit_verify(&o, cfg);
	else if (strcmp(verb, "rotate") == 0)
		rc = audit_rotate(o.log, cfg);
	else if (strcmp(verb, "show") == 0)
		rc = audit_show(&o);
	else if (strcmp(verb, "repair") == 0)
		rc = audit_repair(o.log, cfg);
	else
		rc = audit_summary(&o);
	sg_config_free(cfg);
	return rc;
}

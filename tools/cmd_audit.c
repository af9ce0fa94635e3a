/* signgate audit verify | show | summary | repair | rotate (seal: cmd_audit_seal.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "signgate/audit.h"
#include "signgate/audit_query.h"
#include "signgate/audit_seal.h"
#include "signgate/config.h"
#include "signgate/error.h"

static const char audit_help[] =
	"Usage: signgate audit verify  (--config FILE | --log FILE...) [SEALS] [--json]\n"
	"       signgate audit show    (--config FILE | --log FILE) [FILTERS] [--json | --csv]\n"
	"       signgate audit summary (--config FILE | --log FILE) [FILTERS]\n"
	"       signgate audit repair  (--config FILE | --log FILE)\n"
	"       signgate audit rotate  (--config FILE | --log FILE)\n"
	"       signgate audit seal    --config FILE [--json]   (see 'audit seal --help')\n"
	"\n"
	"The audit log is JSON Lines: one record per decision or signature. Each record\n"
	"carries a sequence number, the SHA-256 of the previous line (\"prev\") and the\n"
	"SHA-256 of its own content (\"hash\"), so editing, deleting, inserting or\n"
	"reordering records breaks the chain.\n"
	"\n"
	"  verify    check every record and the whole chain; names the first bad line.\n"
	"            Several --log files are one chain, oldest first (a rotated log's\n"
	"            archives, then the current file); with --config, --log names the\n"
	"            archives before the configured log. Seals (--seals FILE with\n"
	"            --seal-cert PEM, else the config's audit_seal) must each match the\n"
	"            chain: a rewritten chain or records cut off the end are found\n"
	"  show      the records: a table (seq, time, action, decision, input, SHA-256,\n"
	"            approval, actor, reason), the JSON lines themselves (--json), or CSV\n"
	"            (--csv)\n"
	"  summary   how many records, denials and failures first, counts by decision,\n"
	"            product and actor; with --thumbprint, every file signed with that\n"
	"            certificate (what must be re-signed when it is replaced)\n"
	"  repair    after a crash mid-append (a torn last line), move the torn bytes\n"
	"            into <log>.torn-TIME-PID and record the repair in the chain;\n"
	"            refuses when what precedes them is not a valid record\n"
	"  rotate    move the log to <log>.<YYYYMMDDTHHMMSSZ> and start a new file whose\n"
	"            first record chains to the old file's last (atomic; appends wait)\n"
	"  seal      sign the log's head with the sealing key into the seals file\n"
	"\n"
	"Filters (all that are given must hold):\n"
	"  --product NAME  --approval ID  --sha256 PREFIX (input or output)\n"
	"  --thumbprint SHA1 (signer)  --actor USER  --action check|sign|verify\n"
	"  --decision approved|denied|signed|failed|valid|invalid\n"
	"  --since TIME  --until TIME   (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC; a bare\n"
	"                                --until date includes that whole day)\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   take the log path from signgate.json\n"
	"  -l, --log FILE      the log file itself (verify: may be repeated, oldest first)\n"
	"      --seals FILE    verify: the seals file (default: the config's)\n"
	"      --seal-cert PEM verify: the sealing certificate the seals are pinned to\n"
	"      --json          machine-readable output\n"
	"      --csv           CSV (RFC 4180) for show\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit codes: 0 valid; 1 the log cannot be read; 2 usage or configuration error;\n"
	"3 the chain is broken: tampered, torn, cut off after a seal, or a bad seal.\n";

#define MAX_LOGS 4096

typedef struct audit_opts {
	const char *config, *log;
	const char *logs[MAX_LOGS]; /* verify: every --log, oldest first */
	size_t n_logs;
	const char *seals, *seal_cert;
	int json, csv;
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
		case 'h': fputs(audit_help, stdout); return -1;
		default: return cli_usage_error("audit", "bad option");
		}
	}
	if (!o->config && !o->log)
		return cli_usage_error("audit", "give --config FILE or --log FILE");
	if (o->config && o->log && strcmp(verb, "verify") != 0)
		return cli_usage_error("audit",
				       "give one of --config FILE or --log FILE, not both");
	if (o->n_logs > 1 && strcmp(verb, "verify") != 0)
		return cli_usage_error("audit", "only 'audit verify' takes more than one --log");
	if (!o->seals != !o->seal_cert && !o->config)
		return cli_usage_error("audit", "give --seals FILE and --seal-cert FILE together");
	if ((o->seals || o->seal_cert) && strcmp(verb, "verify") != 0)
		return cli_usage_error("audit", "--seals and --seal-cert go with 'audit verify'");
	if (o->json && o->csv)
		return cli_usage_error("audit", "give --json or --csv, not both");
	if (optind != argc)
		return cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);
	return 0;
}

/*
 * The seals to check against the chain: --seals with --seal-cert, else the
 * config's "audit_seal" section. *file stays NULL when there are none to use.
 */
static int load_seals(sg_audit_seals *seals, const char **file, const audit_opts *o,
		      const sg_config *cfg)
{
	const char *cert = o->seal_cert ? o->seal_cert : cfg ? cfg->seal_cert : NULL;

	*file = o->seals ? o->seals : cfg ? cfg->seal_file : NULL;
	memset(seals, 0, sizeof(*seals));
	if (!*file || !cert) {
		*file = NULL;
		return SG_OK;
	}
	return sg_audit_seals_load(seals, *file, cert);
}

static void print_verify_json(const audit_opts *o, const sg_audit_report *rep, int error,
			      const char *seals_file, const sg_audit_seals *seals)
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
			(json_int_t)rep->bad_line, "head", rep->head, "seals", seals_file,
			"seals_missing", seals_file && seals->missing, "seals_checked",
			(json_int_t)rep->seals_checked, "seals_before",
			(json_int_t)rep->seals_before, "sealed_seq", (json_int_t)rep->sealed_seq,
			"sealed_time", rep->sealed_time[0] ? rep->sealed_time : NULL, "message",
			error ? sg_error_last() : "");
	if (obj)
		cli_print_json(obj);
	json_decref(obj);
}

static void print_verify_text(const audit_opts *o, const sg_audit_report *rep,
			      const char *seals_file, const sg_audit_seals *seals)
{
	const char *what = o->n_logs > 1 ? "files" : o->logs[0];

	if (o->n_logs > 1)
		printf("valid    %zu files, %s ... %s:", o->n_logs, o->logs[0],
		       o->logs[o->n_logs - 1]);
	else
		printf("valid    %s:", what);
	printf(" %zu records, chain intact (seq %lld-%lld, head %.16s...)\n", rep->records,
	       rep->first_seq, rep->last_seq, rep->head);
	if (rep->first_seq > 1)
		printf("note     the first record continues a rotated log (seq %lld before it): "
		       "give the older files first to check that link\n",
		       rep->first_seq - 1);
	if (!seals_file)
		printf("note     no seals checked: records cut off the end, or a chain rewritten "
		       "from scratch, would not show (configure audit_seal, or give --seals "
		       "and --seal-cert)\n");
	else if (seals->missing)
		printf("note     no seals yet (%s does not exist): run `signgate audit seal`\n",
		       seals_file);
	else
		printf("sealed   %zu seals match the chain; the newest covers seq %lld (made %s)"
		       "%s\n",
		       rep->seals_checked, rep->sealed_seq,
		       rep->sealed_time[0] ? rep->sealed_time : "-",
		       rep->seals_before ? "; older seals cover files not given" : "");
	if (seals_file && rep->last_seq > rep->sealed_seq && !seals->missing)
		printf("note     records after seq %lld are not sealed yet\n", rep->sealed_seq);
}

static int audit_verify(audit_opts *o, const sg_config *cfg)
{
	sg_audit_report rep = { 0 };
	sg_audit_seals seals;
	const char *seals_file;
	int error;

	if (cfg && o->n_logs < MAX_LOGS)
		o->logs[o->n_logs++] = cfg->audit_log; /* the current log comes last */
	error = load_seals(&seals, &seals_file, o, cfg);
	if (error == SG_ERR_TAMPER) {
		if (o->json)
			print_verify_json(o, &rep, error, seals_file, &seals);
		else
			printf("invalid  %s\n", sg_error_last());
		return cli_exit_code(error);
	}
	if (error)
		return cli_fail();
	error = sg_audit_verify_files(o->logs, o->n_logs, seals_file ? &seals : NULL, &rep);
	if (o->json)
		print_verify_json(o, &rep, error, seals_file, &seals);
	else if (error == SG_OK)
		print_verify_text(o, &rep, seals_file, &seals);
	else
		printf("invalid  %s\n", sg_error_last());
	sg_audit_seals_free(&seals);
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
		printf("%ld records, %ld denied, failed or invalid\n", s->records, s->problems);
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
		fputs(audit_help, stdout);
		return CLI_EXIT_OK;
	}
	if (verb && strcmp(verb, "seal") == 0)
		return cmd_audit_seal(argc - 1, argv + 1);
	if (!verb || (strcmp(verb, "verify") && strcmp(verb, "show") && strcmp(verb, "summary") &&
		      strcmp(verb, "repair") && strcmp(verb, "rotate")))
		return cli_usage_error("audit", "expected 'audit verify', 'audit show', "
						"'audit summary', 'audit repair', 'audit rotate' "
						"or 'audit seal'");
	rc = parse(&o, verb, argc - 1, argv + 1);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (o.config && sg_config_load(&cfg, o.config) != SG_OK)
		return cli_fail();
	/* Files named on the command line (a reviewer's copies): warnings, not refusals. */
	for (size_t i = 0; i < o.n_logs; i++)
		cli_strict_warn(o.logs[i], 0);
	cli_strict_warn(o.seals, 0);
	cli_strict_warn(o.seal_cert, 0);
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

/* signgate audit verify / signgate audit show. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "signgate/audit.h"
#include "signgate/config.h"
#include "signgate/error.h"

static const char audit_help[] =
	"Usage: signgate audit verify (--config FILE | --log FILE) [--json]\n"
	"       signgate audit show   (--config FILE | --log FILE) [--json]\n"
	"\n"
	"The audit log is JSON Lines: one record per decision or signature. Each record\n"
	"carries a sequence number, the SHA-256 of the previous line (\"prev\") and the\n"
	"SHA-256 of its own content (\"hash\"), so editing, deleting, inserting or\n"
	"reordering records breaks the chain.\n"
	"\n"
	"  verify   check every record and the whole chain; names the first bad line\n"
	"  show     print the records: one line each (seq, time, action, decision,\n"
	"           input, SHA-256 prefix, approval, actor, reason), or the JSON lines\n"
	"           themselves with --json\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   take the log path from signgate.json\n"
	"  -l, --log FILE      the log file itself\n"
	"      --json          machine-readable output\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit codes: 0 valid; 1 the log cannot be read; 2 usage or configuration error;\n"
	"3 the chain is broken (tampered or torn).\n";

typedef struct audit_opts {
	const char *config, *log;
	int json;
} audit_opts;

static int parse(audit_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = { { "config", required_argument, NULL, 'c' },
						  { "log", required_argument, NULL, 'l' },
						  { "json", no_argument, NULL, 'j' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "c:l:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'l': o->log = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': fputs(audit_help, stdout); return -1;
		default: return cli_usage_error("audit", "bad option");
		}
	}
	if (!o->config == !o->log)
		return cli_usage_error("audit", "give exactly one of --config FILE or --log FILE");
	if (optind != argc)
		return cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);
	return 0;
}

static int audit_verify(const char *log, int json)
{
	sg_audit_report rep = { 0 };
	int error = sg_audit_verify(log, &rep);

	if (json) {
		json_t *obj = json_pack("{s:s, s:b, s:I, s:I, s:s, s:s}", "log", log, "valid",
					error == SG_OK, "records", (json_int_t)rep.records,
					"bad_line", (json_int_t)rep.bad_line, "head", rep.head,
					"message", error ? sg_error_last() : "");
		if (obj)
			cli_print_json(obj);
		json_decref(obj);
	} else if (error == SG_OK) {
		printf("valid    %s: %zu records, chain intact (head %.16s...)\n", log, rep.records,
		       rep.head);
	} else {
		printf("invalid  %s\n", sg_error_last());
	}
	return cli_exit_code(error);
}

static const char *str_at(const json_t *rec, const char *obj, const char *key)
{
	const json_t *v =
		obj ? json_object_get(json_object_get(rec, obj), key) : json_object_get(rec, key);

	return json_is_string(v) ? json_string_value(v) : "-";
}

static int show_one(const json_t *rec, size_t line, void *arg)
{
	const json_t *reasons = json_object_get(rec, "reasons");
	const json_t *error = json_object_get(rec, "error");
	const json_t *why = json_is_string(error) ? error : json_array_get(reasons, 0);
	int json = *(int *)arg;

	if (json) {
		cli_print_json(rec);
		return 0;
	}
	(void)line;
	printf("%5lld %s %-6s %-8s %-28s %.12s %-20s %-10s %s\n",
	       (long long)json_integer_value(json_object_get(rec, "seq")),
	       str_at(rec, NULL, "time"), str_at(rec, NULL, "action"),
	       str_at(rec, NULL, "decision"), str_at(rec, "input", "name"),
	       str_at(rec, "input", "sha256"), str_at(rec, "approval", "id"),
	       str_at(rec, "actor", "user"), json_is_string(why) ? json_string_value(why) : "");
	return 0;
}

static int audit_show(const char *log, int json)
{
	int error;

	if (!json)
		printf("%5s %-20s %-6s %-8s %-28s %-12s %-20s %-10s %s\n", "SEQ", "TIME (UTC)",
		       "ACTION", "DECISION", "INPUT", "SHA-256", "APPROVAL", "ACTOR", "REASON");
	error = sg_audit_foreach(log, show_one, &json);
	if (error)
		return cli_fail();
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
	if (!verb || (strcmp(verb, "verify") && strcmp(verb, "show")))
		return cli_usage_error("audit", "expected 'audit verify' or 'audit show'");
	rc = parse(&o, argc - 1, argv + 1);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (o.config && sg_config_load(&cfg, o.config) != SG_OK)
		return cli_fail();
	if (cfg)
		o.log = cfg->audit_log;
	rc = strcmp(verb, "verify") == 0 ? audit_verify(o.log, o.json) : audit_show(o.log, o.json);
	sg_config_free(cfg);
	return rc;
}

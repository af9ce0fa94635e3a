/* signgate audit seal: sign the audit log's head with the sealing key. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "signgate/audit_seal.h"
#include "signgate/config.h"
#include "signgate/error.h"

static const char seal_help[] =
	"Usage: signgate audit seal --config FILE [--if-needed] [--json]\n"
	"\n"
	"Append a seal record to the audit log, sign the head that includes it (its seq\n"
	"and the SHA-256 of its line) with the sealing key of \"audit_seal\" in the\n"
	"config, and append the seal to the seals file (\"audit_seal.file\", default\n"
	"<audit_log>.seals). The hash chain alone cannot show a log rewritten from\n"
	"scratch or records cut off its end; 'audit verify' checks the seals against\n"
	"the chain. The seal covers its own record, so right after 'audit seal' no\n"
	"record is unsealed. A run stopped between the two (a crash) leaves a seal\n"
	"record without its seal: 'audit verify' reports an interrupted seal, and the\n"
	"next 'audit seal' mends it (a torn last seal line is first moved to\n"
	"<seals>.torn-TIME-PID, as its seal record says). A log that does not exist or\n"
	"has no record yet has nothing to seal: exit 0, nothing written. With\n"
	"\"audit_syslog\", each seal also goes to syslog as \"audit-seal <line>\" (for\n"
	"'audit verify --against'). Seal after each signing run, or from a timer. The\n"
	"sealing key must not be the code-signing key. With --if-needed (a timer's\n"
	"run), a log with no record since its newest seal is not sealed again: exit 0,\n"
	"\"already\" and that seal's line are printed, nothing is written and the\n"
	"sealing key is not opened.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   signgate.json with an \"audit_seal\" section (required)\n"
	"      --if-needed     seal only when a record was appended since the newest seal\n"
	"      --json          machine-readable output\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit codes: 0 sealed, nothing to seal yet, or sealed already (--if-needed); 1\n"
	"operational error (I/O, wrong password or PIN, key does not match the\n"
	"certificate, token unavailable); 2 usage or configuration error (no\n"
	"\"audit_seal\", the sealing key is the code-signing key, unsafe key file); 3\n"
	"the log or the seals file is damaged, or the log is behind its last seal\n"
	"(records were cut off, or the log was deleted): nothing was sealed.\n";

static void print_seal(const sg_config *cfg, const sg_audit_seal *s, int json)
{
	if (s->line == 0 && json) {
		json_t *obj = json_pack("{s:s, s:b, s:s}", "log", cfg->audit_log, "sealed", 0,
					"message", "nothing to seal yet: the log has no record");
		if (obj)
			cli_print_json(obj);
		json_decref(obj);
		return;
	}
	if (s->already && json) {
		json_t *obj = json_pack("{s:s, s:b, s:b, s:I, s:s, s:s, s:s, s:I}", "log",
					cfg->audit_log, "sealed", 0, "already", 1, "seq",
					(json_int_t)s->seq, "head", s->head, "time", s->time,
					"file", cfg->seal_file, "line", (json_int_t)s->line);
		if (obj)
			cli_print_json(obj);
		json_decref(obj);
		return;
	}
	if (s->already) {
		printf("already  %s: seq %lld, head %.16s..., is sealed by seal line %zu of %s "
		       "(%s); no record since: nothing was written\n",
		       cfg->audit_log, s->seq, s->head, s->line, cfg->seal_file, s->time);
		return;
	}
	if (s->line == 0) {
		printf("nothing  %s: nothing to seal yet (the log has no record); nothing was "
		       "written\n",
		       cfg->audit_log);
		return;
	}
	if (json) {
		json_t *obj = json_pack("{s:s, s:b, s:I, s:s, s:s, s:s, s:s, s:I, s:I}", "log",
					cfg->audit_log, "sealed", 1, "seq", (json_int_t)s->seq,
					"head", s->head, "time", s->time, "signer", s->signer,
					"file", cfg->seal_file, "line", (json_int_t)s->line,
					"torn_bytes", (json_int_t)s->torn_bytes);
		if (obj)
			cli_print_json(obj);
		json_decref(obj);
		return;
	}
	if (s->torn_bytes)
		printf("repaired %s: its last line was torn (an interrupted write): %zu bytes "
		       "moved aside, as the seal record says\n",
		       cfg->seal_file, s->torn_bytes);
	printf("sealed   %s: seq %lld, head %.16s..., seal line %zu of %s\n", cfg->audit_log,
	       s->seq, s->head, s->line, cfg->seal_file);
}

int cmd_audit_seal(int argc, char **argv)
{
	static const struct option longopts[] = { { "config", required_argument, NULL, 'c' },
						  { "json", no_argument, NULL, 'j' },
						  { "if-needed", no_argument, NULL, 'n' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	const char *config = NULL;
	sg_config *cfg = NULL;
	sg_audit_seal seal;
	unsigned flags = 0;
	int json = 0, c, error;

	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'j': json = 1; break;
		case 'n': flags |= SG_AUDIT_SEAL_IF_NEEDED; break;
		case 'h': fputs(seal_help, stdout); return CLI_EXIT_OK;
		default: return cli_usage_error("audit seal", "bad option");
		}
	}
	if (optind != argc)
		return cli_usage_error("audit seal", "unexpected argument '%s'", argv[optind]);
	if (cli_config_lookup(&config, "audit seal") != CLI_EXIT_OK)
		return CLI_EXIT_USAGE;
	if (!config)
		return cli_usage_error("audit seal", "--config FILE is required");
	if (sg_config_load(&cfg, config) != SG_OK)
		return cli_fail();
	if (!cfg->seal_key) {
		cli_error("%s: no \"audit_seal\" section: name the sealing \"key\" and \"cert\" "
			  "there",
			  cfg->path);
		sg_config_free(cfg);
		return CLI_EXIT_USAGE;
	}
	error = sg_audit_seal_create_flags(cfg, flags, &seal);
	if (error == SG_OK)
		print_seal(cfg, &seal, json);
	else
		cli_fail();
	sg_config_free(cfg);
	return cli_exit_code(error);
}

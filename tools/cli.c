/* Exit codes and reporting helpers shared by the commands. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "signgate/confine.h"
#include "signgate/error.h"
#include "signgate/pipeline.h"
#include "signgate/strict.h"

#include <unistd.h>

int cli_exit_code(int status)
{
	switch (status) {
	case SG_OK: return CLI_EXIT_OK;
	case SG_ERR_USAGE:
	case SG_ERR_CONFIG: return CLI_EXIT_USAGE;
	case SG_ERR_DENIED:
	case SG_ERR_FORMAT:
	case SG_ERR_VERIFY:
	case SG_ERR_TAMPER: return CLI_EXIT_REJECTED;
	default: return CLI_EXIT_OPERATIONAL;
	}
}

static int rank(int code)
{
	static const int ranks[] = { 0, 2, 3, 1 };

	return code >= 0 && code <= 3 ? ranks[code] : 2;
}

int cli_worse(int a, int b)
{
	return rank(a) >= rank(b) ? a : b;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("signgate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_fail(void)
{
	cli_error("%s", sg_error_last());
	return cli_exit_code(sg_error_code());
}

void cli_print_json(const json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);

	if (text) {
		puts(text);
		free(text);
	}
	fflush(stdout);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("signgate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'signgate %s --help'.\n", cmd);
	return CLI_EXIT_USAGE;
}

void cli_print_outcome(const sg_outcome *r, const sg_job *job, int json)
{
	json_t *obj;

	if (!json) {
		printf("%-8s %s: %s\n", r->decision, job->input, r->message);
		fflush(stdout);
		return;
	}
	obj = sg_outcome_to_json(r, job);
	if (!obj)
		return;
	if (r->audit_id[0])
		json_object_set_new(obj, "audit_id", json_string(r->audit_id));
	json_object_set_new(obj, "exit_code", json_integer(cli_exit_code(r->status)));
	cli_print_json(obj);
	json_decref(obj);
}

void cli_strict_warn(const char *path, unsigned flags)
{
	sg_strict_report rep = { 0 };
	sg_strict_rule rule;

	if (!path)
		return;
	sg_strict_rule_init(&rule, geteuid());
	sg_strict_check(&rep, path, &rule, flags);
	for (size_t i = 0; i < rep.n; i++)
		fprintf(stderr, "signgate: warning: %s\n", rep.msgs[i]);
	sg_strict_report_free(&rep);
	sg_error_clear();
}

int cli_confine_setup(const sg_config *cfg)
{
	static int warned;
	char lack[256];

	sg_confine_set_mode(cfg && cfg->confinement_required ? SG_CONFINE_REQUIRED
							     : SG_CONFINE_AUTO);
	if (sg_confine_get_mode() == SG_CONFINE_REQUIRED)
		return sg_confine_require();
	if (!warned && sg_confine_lacking(lack, sizeof(lack))[0])
		fprintf(stderr,
			"signgate: warning: osslsigncode and gpgv run with less confinement: %s "
			"(\"confinement\": \"required\" would refuse)\n",
			lack);
	warned = 1;
	return SG_OK;
}

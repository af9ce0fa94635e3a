/* Exit codes and reporting helpers shared by the commands. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "signgate/audit.h"
#include "signgate/config.h"
#include "signgate/confine.h"
#include "signgate/error.h"
#include "signgate/osslsigncode.h"
#include "signgate/pipeline.h"
#include "signgate/strict.h"
#include "signgate/util.h"

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

/* Where the run's config came from when not --config (cli_config_lookup), for messages. */
static const char *config_origin;

int cli_fail(void)
{
	int code = sg_error_code();

	if (config_origin && code == SG_ERR_CONFIG)
		cli_error("%s (the config was found by %s; --config FILE names another)",
			  sg_error_last(), config_origin);
	else
		cli_error("%s", sg_error_last());
	return cli_exit_code(code);
}

int cli_file_given(const char *path, const char *option)
{
	struct stat st;

	if (!path || lstat(path, &st) == 0 || errno != ENOENT)
		return CLI_EXIT_OK;
	cli_error("%s: no such file or folder (given as %s)", path, option);
	return CLI_EXIT_USAGE;
}

int cli_config_lookup(const char **config, const char *cmd)
{
	const char *env = getenv("SIGNGATE_CONFIG");
	struct stat st;

	if (*config)
		return CLI_EXIT_OK;
	if (env && !*env)
		return cli_usage_error(cmd, "SIGNGATE_CONFIG is set but empty: unset it, or give "
					    "--config FILE");
	if (env) {
		/* It only names the file: the file is held to every check --config's is. */
		*config = env;
		config_origin = "$SIGNGATE_CONFIG";
	} else if (lstat(CLI_CONFIG_DEFAULT, &st) == 0) {
		*config = CLI_CONFIG_DEFAULT;
		config_origin = "the default path " CLI_CONFIG_DEFAULT;
	}
	return CLI_EXIT_OK;
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

void cli_strict_warn_audit(const char *const *logs, size_t n_logs, const char *seals,
			   const char *seal_cert, const char *against)
{
	for (size_t i = 0; i < n_logs; i++)
		cli_strict_warn(logs[i], 0);
	cli_strict_warn(seals, 0);
	cli_strict_warn(seal_cert, 0);
	cli_strict_warn(against, 0);
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

static void say_removed(const char *path, void *arg)
{
	(void)arg;
	fprintf(stderr,
		"signgate: removed %s: the private folder of a run that was killed before it "
		"could remove it (no process holds its lock)\n",
		path);
}

int cli_private_folders(const char *stage_dir)
{
	if (sg_workdir_check_parent(sg_workdir_parent(), "TMPDIR ") != SG_OK ||
	    (stage_dir && sg_workdir_check_parent(stage_dir, "output folder ") != SG_OK))
		return cli_fail();
	cli_clean_leftovers(stage_dir);
	return CLI_EXIT_OK;
}

void cli_clean_leftovers(const char *stage_dir)
{
	sg_leftovers_clean(sg_workdir_parent(), SG_LEFTOVERS_WORK, say_removed, NULL, NULL);
	if (stage_dir)
		sg_leftovers_clean(stage_dir, SG_LEFTOVERS_STAGE, say_removed, NULL, NULL);
	sg_error_clear();
}

char *cli_out_dir_resolve(const char *dir, const char *option)
{
	struct stat st;
	char *real;

	if (lstat(dir, &st) != 0 || !S_ISLNK(st.st_mode))
		return strdup(dir);
	real = realpath(dir, NULL);
	if (!real) {
		cli_error("%s: cannot follow the symbolic link given as %s: %s", dir, option,
			  strerror(errno));
		return NULL;
	}
	fprintf(stderr,
		"signgate: warning: %s %s is a symbolic link to %s: it is followed once, now, "
		"and everything is written there\n",
		option, dir, real);
	return real;
}

int cli_osslsigncode_check(const sg_config *cfg)
{
	const char *hide[SG_CONFIG_SECRET_FILES_MAX + 1] = { NULL };
	const char *path = cfg ? cfg->osslsigncode : sg_config_default_osslsigncode();
	char version[SG_OSSLSIGNCODE_VERSION_MAX];
	int error;

	if (cfg)
		sg_config_secret_files(hide, cfg);
	error = sg_osslsigncode_check(version, path, hide);
	/*
	 * Binding /dev/null over the key material needs a mount namespace, which
	 * a hardened unit may not grant (signgate-watch signs PE files without
	 * any other osslsigncode run). Where Landlock file rules are in force
	 * they keep the query from the key material as well (it may read only
	 * the system's files), so it runs without the binds then; never without both.
	 */
	if (error == SG_ERR_TOOL && cfg && sg_confine_probe()->landlock_abi > 0 &&
	    strstr(sg_error_last(), "cannot hide the key material"))
		error = sg_osslsigncode_check(version, path, NULL);
	if (error == SG_ERR_CONFIG && cfg)
		cli_error("%s: \"osslsigncode\": %s", cfg->path, sg_error_last());
	else if (error == SG_ERR_CONFIG)
		cli_error("%s (signgate's default osslsigncode; a config's \"osslsigncode\" names "
			  "another)",
			  sg_error_last());
	else if (error)
		cli_error("%s", sg_error_last());
	if (error)
		return cli_exit_code(error);
	sg_audit_set_osslsigncode_version(version);
	return CLI_EXIT_OK;
}

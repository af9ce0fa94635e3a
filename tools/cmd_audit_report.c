/* signgate audit report: the auditor's report, HTML or JSON (lib/report, signgate/report.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_audit_report.h"
#include "signgate/audit.h"
#include "signgate/audit_seal.h"
#include "signgate/config.h"
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/policy.h"
#include "signgate/report.h"
#include "signgate/report_policy.h"
#include "signgate/strict.h"
#include "signgate/util.h"


static const char report_help[] =
	"Usage: signgate audit report (--config FILE | --log FILE...) [--seals FILE --seal-cert PEM]\n"
	"                             [--against FILE]\n"
	"                             [--since TIME] [--until TIME] [--policy PATH] [--json]\n"
	"                             [--out FILE [--force]]\n"
	"\n"
	"  report    what an auditor reviews, made from the audit log: the verdict first\n"
	"            (chain intact, partial or broken; sealed up to which record; the\n"
	"            `audit verify` line that reproduces it; the SHA-256 of each file),\n"
	"            signings, denials and failures per day, every denial and failure\n"
	"            with its reason, every signed file with its approval, approver,\n"
	"            signer and timestamp, the signer certificates and their expiry\n"
	"            (warned within 60 days); with --policy, the approvals in force now\n"
	"            and the signed files whose input it would no longer approve. One\n"
	"            self-contained HTML page (no script, no external reference), or\n"
	"            --json. With --config: the configured log, the archives it\n"
	"            continues (found through its rotate records) and the configured\n"
	"            seals; with --log, the files given, oldest first. A broken chain\n"
	"            gives the verdict and the files, and no records. Records appended\n"
	"            while the report is made are not in it; a log changed otherwise\n"
	"            fails it.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   the log, its archives and seals from signgate.json (default:\n"
	"                      $SIGNGATE_CONFIG, else " CLI_CONFIG_DEFAULT " when there is one)\n"
	"  -l, --log FILE      a log file, and no config; repeat, oldest first\n"
	"      --seals FILE    the seals file (with --log; with --config: the config's)\n"
	"      --seal-cert PEM the sealing certificate the seals are pinned to\n"
	"      --against FILE  the off-host copy of the seals (syslog/SIEM lines), as\n"
	"                      'audit verify --against' takes it: a log cut back together\n"
	"                      with its seals file shows only against such a copy\n"
	"      --since TIME    from this UTC day (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SSZ)\n"
	"      --until TIME    up to this time; a bare day includes that whole day\n"
	"                      (default: the first to the last record's day; at most 3660\n"
	"                      days)\n"
	"      --policy PATH   the policy in force now (a file or a folder of *.json),\n"
	"                      judged as signing would judge it (with --config: its\n"
	"                      two-person rule and approvers' CA); held to the strict\n"
	"                      modes for the account running the report (root, you, the\n"
	"                      config's policy_group): another account's is refused\n"
	"      --json          the JSON document (format signgate-audit-report/1), not HTML\n"
	"  -o, --out FILE      write the report there (atomically, mode 0640), not to stdout\n"
	"      --force         replace an existing --out FILE\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit codes: 0 the report is made and the chain intact (or partial: the verdict\n"
	"says so); 3 the report is made and the chain is broken, or the seals are not\n"
	"valid (an edited seal; an --against copy that seals a record with another\n"
	"head): the verdict says which, as 'audit verify' does; 1 the log cannot be\n"
	"read, or changed while the report was made (other than by appends); 2 usage\n"
	"or configuration error.\n";


static int parse(report_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "log", required_argument, NULL, 'l' },
		{ "seals", required_argument, NULL, 'e' },  { "seal-cert", required_argument, NULL, 'E' },
		{ "against", required_argument, NULL, 'g' },
		{ "since", required_argument, NULL, 's' },  { "until", required_argument, NULL, 'u' },
		{ "policy", required_argument, NULL, 'p' }, { "json", no_argument, NULL, 'j' },
		{ "out", required_argument, NULL, 'o' },    { "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 }
	};
	struct stat st;
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "c:l:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'l':
			if (o->n_logs == MAX_LOGS)
				return cli_usage_error("audit report", "more than %d log files",
						       MAX_LOGS);
			o->logs[o->n_logs++] = optarg;
			break;
		case 'e': o->seals = optarg; break;
		case 'E': o->seal_cert = optarg; break;
		case 'g': o->against = optarg; break;
		case 's': o->since = optarg; break;
		case 'u': o->until = optarg; break;
		case 'p': o->policy = optarg; break;
		case 'j': o->json = 1; break;
		case 'o': o->out = optarg; break;
		case 'f': o->force = 1; break;
		case 'h': fputs(report_help, stdout); return -1;
		default: return cli_usage_error("audit report", "bad option");
		}
	}
	if (optind != argc)
		return cli_usage_error("audit report", "unexpected argument '%s'", argv[optind]);
	/* --log alone: only the files the options name, never a config found elsewhere. */
	if (o->n_logs == 0 && cli_config_lookup(&o->config, "audit report") != CLI_EXIT_OK)
		return CLI_EXIT_USAGE;
	if (!o->config && o->n_logs == 0)
		return cli_usage_error("audit report",
				       "give --config FILE or --log FILE (or set SIGNGATE_CONFIG, "
				       "or a config at " CLI_CONFIG_DEFAULT ")");
	if (o->config && o->n_logs)
		return cli_usage_error("audit report",
				       "give --config FILE or --log FILE..., not both");
	if (o->config && (o->seals || o->seal_cert))
		return cli_usage_error("audit report", "with --config the seals are the config's "
						       "(audit_seal): --seals and --seal-cert go "
						       "with --log");
	if (!o->seals != !o->seal_cert)
		return cli_usage_error("audit report",
				       "give --seals FILE and --seal-cert FILE together");
	if (o->force && !o->out)
		return cli_usage_error("audit report", "--force goes with --out FILE");
	for (size_t i = 0; i < o->n_logs; i++)
		if (cli_file_given(o->logs[i], "--log"))
			return CLI_EXIT_USAGE;
	if (cli_file_given(o->seal_cert, "--seal-cert") || cli_file_given(o->policy, "--policy") ||
	    cli_file_given(o->against, "--against"))
		return CLI_EXIT_USAGE;
	if (o->out && !o->force && lstat(o->out, &st) == 0)
		return cli_usage_error("audit report", "%s exists already: give --force to replace it",
				       o->out);
	return 0;
}

/* What one attempt at the report uses. */

/* `s` in single quotes for a POSIX shell. */
static void shell_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

/*
 * The `audit verify` line that checks what the report checked. With
 * --config, the archives found (never the log, nor the files read while a
 * broken chain of archives was followed: the config finds them again).
 */
static int verify_command(report_run *r)
{
	FILE *f = open_memstream(&r->verify_command, &r->command_len);
	size_t archives = !r->o->config ? r->n_logs
			  : r->chain_broken[0] || r->n_logs == 0 ? 0
								 : r->n_logs - 1;

	if (!f)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	fputs("signgate audit verify", f);
	if (r->o->config) {
		fputs(" --config ", f);
		shell_quote(f, r->o->config);
	}
	for (size_t i = 0; i < archives; i++) {
		fputs(" --log ", f);
		shell_quote(f, r->logs[i]);
	}
	if (r->o->seals) {
		fputs(" --seals ", f);
		shell_quote(f, r->o->seals);
		fputs(" --seal-cert ", f);
		shell_quote(f, r->o->seal_cert);
	}
	if (r->o->against) {
		fputs(" --against ", f);
		shell_quote(f, r->o->against);
	}
	return fclose(f) == 0 ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

static void run_clear(report_run *r)
{
	sg_audit_chain_files_free(r->chain, r->n_chain);
	free(r->chain_read);
	free(r->missing);
	r->missing = NULL;
	r->chain = NULL;
	r->chain_read = NULL;
	r->n_chain = 0;
	if (r->have_seals)
		sg_audit_seals_free(&r->seals);
	r->have_seals = 0;
	if (r->have_offhost)
		sg_audit_seals_free(&r->offhost);
	r->have_offhost = 0;
	free(r->verify_command);
	r->verify_command = NULL;
}

/* What a load that ended in SG_ERR_TAMPER read: the bytes the verdict is about. */
static void keep_read(sg_audit_file_read *out, sg_audit_seals *s)
{
	memset(out, 0, sizeof(*out));
	out->read = s->sha256[0] != '\0';
	out->whole = 1;
	out->bytes = s->bytes;
	memcpy(out->sha256, s->sha256, sizeof(out->sha256));
	sg_audit_seals_free(s);
}

/*
 * --against: the off-host copy's seals of the current log, merged into the
 * seals file's as `audit verify --against` merges them.
 */
static int load_offhost(report_run *r)
{
	const char *log = r->n_logs ? sg_path_base(r->logs[r->n_logs - 1]) : "";
	int error = sg_audit_seals_load_offhost(&r->offhost, r->o->against, log, r->seal_cert,
						&r->offhost_ignored);

	if (error == SG_ERR_TAMPER)
		keep_read(&r->offhost_read, &r->offhost);
	if (error)
		return error;
	r->have_offhost = 1;
	if (r->offhost.n == 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: holds no seal of %s made with %s (%zu seal-like lines do "
				    "not verify): nothing to check against",
				    r->o->against, log, r->seal_cert, r->offhost_ignored);
	return sg_audit_seals_merge(&r->seals, &r->offhost);
}

/*
 * --config: the log and the archives it continues. Rotate records that
 * loop, too many archives, or a first line that cannot be read are the
 * verdict, broken, with the files read to find them (no seals are needed to
 * say so); `audit verify --config` says the same.
 */
static int load_chain(report_run *r)
{
	int error = sg_audit_chain_files_read(r->cfg->audit_log, &r->chain, &r->chain_read,
					      &r->n_chain, r->gap, sizeof(r->gap), &r->missing);

	r->logs = (const char *const *)r->chain;
	r->n_logs = r->n_chain;
	if (error == SG_ERR_TAMPER) {
		snprintf(r->chain_broken, sizeof(r->chain_broken), "%s", sg_error_last());
		error = SG_OK;
	}
	return error;
}

/*
 * The seals and the off-host copy. Seals that are not valid seals (an
 * edited line, a seal that does not verify, an off-host copy that seals a
 * seq with another head) are no change to wait out: they are the verdict,
 * broken, as `audit verify` says (read under the seals' lock, so never a
 * sealing run half-written).
 */
static int load_seals(report_run *r)
{
	const report_opts *o = r->o;
	int error = SG_OK;

	if (r->seals_path && r->seal_cert) {
		error = sg_audit_seals_load(&r->seals, r->seals_path, r->seal_cert);
		r->have_seals = error == SG_OK;
		if (error == SG_ERR_TAMPER)
			keep_read(&r->seals_read, &r->seals);
	} else if (o->against) {
		return sg_error_set(SG_ERR_USAGE,
				    "--against needs the seals: a config with \"audit_seal\", or "
				    "--seals and --seal-cert");
	}
	if (!error && o->against)
		error = load_offhost(r);
	if (error == SG_ERR_TAMPER) {
		snprintf(r->seals_broken, sizeof(r->seals_broken), "%s", sg_error_last());
		error = SG_OK;
	}
	return error;
}

/* The files and seals of this attempt (again after a rotation or a seal meanwhile). */
static int run_load(report_run *r)
{
	const report_opts *o = r->o;
	int error = SG_OK;

	r->logs = o->logs;
	r->n_logs = o->n_logs;
	r->seals_path = o->seals;
	r->seal_cert = o->seal_cert;
	r->chain_broken[0] = r->seals_broken[0] = '\0';
	memset(&r->seals_read, 0, sizeof(r->seals_read));
	memset(&r->offhost_read, 0, sizeof(r->offhost_read));
	if (r->cfg) {
		r->seals_path = r->cfg->seal_file;
		r->seal_cert = r->cfg->seal_file ? r->cfg->seal_cert : NULL;
		error = load_chain(r);
	}
	if (!error && !r->chain_broken[0])
		error = load_seals(r);
	if (!error)
		error = verify_command(r);
	return error;
}

/* The seals file's identity and size: a sealing run changes it. */
static void seals_state(struct stat *st, const char *path)
{
	memset(st, 0, sizeof(*st));
	if (path && stat(path, st) != 0)
		memset(st, 0, sizeof(*st));
}

static int seals_changed(const struct stat *a, const struct stat *b)
{
	return a->st_ino != b->st_ino || a->st_dev != b->st_dev || a->st_size != b->st_size;
}

/* One attempt: the report into `f` (truncated first). */
static int attempt(report_run *r, FILE *f, int *verdict, int *retry)
{
	sg_report_options opt = { 0 };
	sg_report_sink sink = { 0 };
	struct stat before, after;
	int error;

	*retry = 0;
	seals_state(&before, r->o->seals ? r->o->seals : r->cfg ? r->cfg->seal_file : NULL);
	error = run_load(r);
	if (!error && (fflush(f) != 0 || ftruncate(fileno(f), 0) != 0 || fseek(f, 0, SEEK_SET)))
		error = sg_error_set(SG_ERR_IO, "cannot write the report: %s", strerror(errno));
	if (!error)
		error = r->o->json ? sg_report_sink_json(&sink, f) : sg_report_sink_html(&sink, f);
	opt.logs = r->logs;
	opt.n_logs = r->n_logs;
	opt.seals = r->have_seals ? &r->seals : NULL;
	opt.seals_path = r->have_seals || r->seals_broken[0] ? r->seals_path : NULL;
	opt.seals_broken = r->seals_broken[0] ? r->seals_broken : NULL;
	opt.seals_read = r->seals_read.read ? &r->seals_read : NULL;
	opt.offhost_path = r->have_offhost || r->offhost_read.read ? r->o->against : NULL;
	opt.offhost = r->have_offhost ? &r->offhost : NULL;
	opt.offhost_read = r->offhost_read.read ? &r->offhost_read : NULL;
	opt.chain_broken = r->chain_broken[0] ? r->chain_broken : NULL;
	opt.logs_read = r->chain_read;
	opt.verify_flags = SG_AUDIT_VERIFY_PARTIAL;
	opt.since = r->o->since;
	opt.until = r->o->until;
	opt.policy = r->policy;
	opt.policy_path = r->o->policy;
	opt.approvers = r->cfg && r->policy ? &r->approvers : NULL;
	opt.require_cosign = r->cfg && r->cfg->require_cosign;
	opt.config_path = r->o->config;
	opt.verify_command = r->verify_command;
	opt.now = time(NULL);
	if (!error && r->o->out)
		error = report_out_is_input(r);
	if (!error)
		error = sg_report_make(&opt, &sink, verdict);
	sg_report_sink_free(&sink);
	seals_state(&after, r->o->seals ? r->o->seals : r->cfg ? r->cfg->seal_file : NULL);
	/* A rotation or an edit while reading; a seal made between loading and verifying. */
	*retry = error == SG_ERR_TAMPER ||
		 (!error && *verdict == 3 && !opt.seals_broken && !opt.chain_broken &&
		  seals_changed(&before, &after));
	run_clear(r);
	return error;
}

/* Up to three attempts; the last one's result stands. */
static int make_report(report_run *r, FILE *f, int *verdict)
{
	int error = SG_OK, retry = 1;

	for (int i = 0; i < 3 && retry; i++)
		error = attempt(r, f, verdict, &retry);
	if (!error && fflush(f) != 0)
		error = sg_error_set(SG_ERR_IO, "cannot write the report: %s", strerror(errno));
	return error;
}

/* stdout: the whole report only once it is made (a failed one prints nothing). */
static int to_stdout(report_run *r, int *verdict)
{
	FILE *f = tmpfile();
	char buf[65536];
	size_t n;
	int error;

	if (!f)
		return sg_error_set(SG_ERR_IO, "cannot create a temporary file: %s", strerror(errno));
	error = make_report(r, f, verdict);
	if (!error && fseek(f, 0, SEEK_SET) != 0)
		error = sg_error_set(SG_ERR_IO, "cannot read the report back: %s", strerror(errno));
	while (!error && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (fwrite(buf, 1, n, stdout) != n)
			error = sg_error_set(SG_ERR_IO, "cannot write to stdout: %s",
					     strerror(errno));
	if (!error && (ferror(f) || fflush(stdout) != 0))
		error = sg_error_set(SG_ERR_IO, "cannot write the report: %s", strerror(errno));
	fclose(f);
	return error;
}

/* --out: a temporary file beside it, published whole or not at all. */
static int to_file(report_run *r, int *verdict)
{
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, error = sg_publish_temp(&tmp, r->o->out, "", 0, 0640);

	if (!error) {
		fd = open(tmp, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		f = fd >= 0 ? fdopen(fd, "w+") : NULL;
		if (!f)
			error = sg_error_set(SG_ERR_IO, "%s: cannot open: %s", tmp, strerror(errno));
	}
	if (!f && fd >= 0)
		close(fd);
	if (!error)
		error = make_report(r, f, verdict);
	if (!error && fsync(fileno(f)) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot sync: %s", tmp, strerror(errno));
	if (f && fclose(f) != 0 && !error)
		error = sg_error_set(SG_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
	if (!error)
		error = sg_publish_commit(tmp, r->o->out, r->o->force);
	else if (tmp)
		unlink(tmp);
	free(tmp);
	return error;
}

static void print_notes(const report_run *r, int verdict)
{
	if (r->gap[0])
		fprintf(stderr, "signgate: note: %s: the report is partial\n", r->gap);
	if (verdict == 3)
		fprintf(stderr, "signgate: the audit chain is broken: the report gives the verdict "
				"and no records\n");
	if (r->o->out)
		printf("report   %s\n", r->o->out);
}

/*
 * A path the report names (in JSON, in HTML) must be valid UTF-8, which a
 * file name need not be: refused with the reason, the bytes shown escaped.
 */
static int path_utf8(const char *what, const char *path)
{
	json_t *probe = path ? json_string(path) : NULL;
	char shown[1024];
	size_t used = 0;

	json_decref(probe);
	if (!path || probe)
		return CLI_EXIT_OK;
	for (const unsigned char *p = (const unsigned char *)path; *p && used + 5 < sizeof(shown);
	     p++)
		used += (size_t)snprintf(shown + used, sizeof(shown) - used,
					 *p < 0x20 || *p >= 0x7f ? "\\x%02x" : "%c", *p);
	cli_error("%s %s: the path is not valid UTF-8, and the report names every file it is "
		  "made from as UTF-8 text: rename it, or give a link to it whose name is",
		  what, shown);
	return CLI_EXIT_USAGE;
}

/* Every path the options give, and the policy's files found in a folder. */
static int paths_utf8(const report_opts *o, const struct sg_policy *policy)
{
	int rc = path_utf8("--config", o->config);

	for (size_t i = 0; i < o->n_logs && !rc; i++)
		rc = path_utf8("--log", o->logs[i]);
	if (!rc)
		rc = path_utf8("--seals", o->seals);
	if (!rc)
		rc = path_utf8("--seal-cert", o->seal_cert);
	if (!rc)
		rc = path_utf8("--against", o->against);
	if (!rc)
		rc = path_utf8("--policy", o->policy);
	if (!rc)
		rc = path_utf8("--out", o->out);
	for (size_t i = 0; policy && i < policy->n_files && !rc; i++)
		rc = path_utf8("the policy file", policy->files[i].path);
	return rc;
}

/*
 * --policy: loaded in full and held to the strict modes (report_policy.h)
 * with the rule signing would apply to it for the account running the
 * report: root, the effective user, and the config's "policy_group". A
 * policy another account owns, or others may write, is one signing would
 * not load: refused, exit 2, naming the file and why (never the file's own
 * owner, which any file would satisfy). The approvers' CA and CRLs are
 * read under the same rule, as signing reads them.
 */
static int load_policy(report_run *r, const char *path, const sg_config *cfg)
{
	if (cfg)
		sg_config_policy_rule(cfg, geteuid(), &r->policy_rule);
	else
		sg_strict_rule_init(&r->policy_rule, geteuid());
	/* A co-signed approval is checked as signing checks it, under the same rule. */
	sg_approvers_trust_from_config(&r->approvers, cfg);
	r->approvers.rule = &r->policy_rule;
	return sg_report_policy_load(&r->policy, path, &r->policy_rule);
}

int cmd_audit_report(int argc, char **argv)
{
	report_opts o;
	report_run r = { 0 };
	sg_config *cfg = NULL;
	int rc = parse(&o, argc, argv), verdict = 0, error = SG_OK;

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	rc = paths_utf8(&o, NULL);
	if (rc)
		return rc;
	if (o.config && sg_config_load(&cfg, o.config) != SG_OK)
		return cli_fail();
	/* Files named on the command line (a reviewer's copies): warnings, not refusals. */
	cli_strict_warn_audit(o.logs, o.n_logs, o.seals, o.seal_cert, o.against);
	r.o = &o;
	r.cfg = cfg;
	if (o.policy)
		error = load_policy(&r, o.policy, cfg);
	if (!error && paths_utf8(&o, r.policy) != CLI_EXIT_OK) {
		sg_policy_free(r.policy);
		sg_config_free(cfg);
		return CLI_EXIT_USAGE;
	}
	if (!error)
		error = o.out ? to_file(&r, &verdict) : to_stdout(&r, &verdict);
	if (error == SG_ERR_TAMPER) { /* changed while read: 1 (the message is copied first) */
		char why[SG_ERROR_MAX];

		snprintf(why, sizeof(why), "%s", sg_error_last());
		error = sg_error_set(SG_ERR_IO, "%s", why);
	}
	rc = error ? cli_fail() : verdict;
	if (!error)
		print_notes(&r, verdict);
	sg_policy_free(r.policy);
	sg_config_free(cfg);
	return rc;
}

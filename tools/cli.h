/*
 * Shared pieces of the signgate command line: the exit-code table and the
 * helpers every command uses to report.
 *
 * Exit codes (every command):
 *   0  every input approved / signed / valid
 *   1  operational error: I/O, osslsigncode failed, bad key, output exists
 *   2  usage or configuration error
 *   3  at least one input denied by policy, failed its hash or structure
 *      check, or failed verification; a tampered audit log
 */
#ifndef SIGNGATE_CLI_H
#define SIGNGATE_CLI_H

#include <jansson.h>

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_OPERATIONAL = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_REJECTED = 3,
};

/* "s" after a count that is not 1 ("1 input", "2 inputs"). */
static inline const char *cli_s(unsigned long long n)
{
	return n == 1 ? "" : "s";
}

/* The exit code for a library status. */
int cli_exit_code(int status);

/* The worse of two exit codes: usage > operational > rejected > ok. */
int cli_worse(int a, int b);

/* Print "signgate: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Print "signgate: <last library error>" and return its exit code; for a
 * configuration error with a config cli_config_lookup() found, say where.
 */
int cli_fail(void);

/* The config used when neither --config nor a mode that needs none is given. */
#define CLI_CONFIG_DEFAULT "/etc/signgate/signgate.json"

/*
 * The config of a command given no --config (*config NULL) and no option
 * of a mode that needs none (--ca, --log, --policy, --cert, --approvers-ca:
 * those use only what their options name, and the caller does not call
 * this): $SIGNGATE_CONFIG when set, else CLI_CONFIG_DEFAULT when it exists,
 * else *config stays NULL (the caller's usage error follows). The file is
 * loaded and checked as --config's would be; errors about it then say where
 * it was found (cli_fail). Returns CLI_EXIT_OK, or CLI_EXIT_USAGE after
 * printing why ($SIGNGATE_CONFIG set but empty).
 */
int cli_config_lookup(const char **config, const char *cmd);

/*
 * A file or folder an option names (`option`, "--seal-cert") must exist:
 * one that does not is a usage error found before anything is read
 * ("PATH: no such file or folder (given as OPTION)", returns CLI_EXIT_USAGE);
 * NULL `path` and any other failure of lstat (left to the reader, which
 * says why) return CLI_EXIT_OK.
 */
int cli_file_given(const char *path, const char *option);

/* Print a JSON object as one compact line on stdout. */
void cli_print_json(const json_t *obj);

/* Usage error: print the message and "try 'signgate CMD --help'"; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Print one outcome: the JSON object (with audit_id and exit_code) when
 * `json`, else "DECISION INPUT: message".
 */
struct sg_outcome;
struct sg_job;
void cli_print_outcome(const struct sg_outcome *r, const struct sg_job *job, int json);

/*
 * Open the policy for signing (sg_policy_open()): through its index when it
 * is current, else in full, with one note on stderr when an index exists but
 * is not used, or when a policy of CLI_POLICY_INDEX_HINT approvals or more
 * has none. Each policy file is held to `strict` (sg_policy_open_strict();
 * NULL: not). Returns as sg_policy_open() does; prints nothing else.
 */
#define CLI_POLICY_INDEX_HINT 5000
struct sg_policy;
struct sg_strict_rule;
int cli_policy_open(struct sg_policy **out, const char *path, const struct sg_strict_rule *strict);

/*
 * What a run that decides its inputs (sign, check, watch, timestamp) loads
 * before the first one: the config (its policy files checked as they are
 * opened), the policy with the config's two-person rule, and the audit log's
 * signing records, all set into ctx. The caller frees *cfg, *policy and
 * *signings, also on failure. Returns an SG_* status with the error set.
 */
struct sg_context;
struct sg_config;
struct sg_audit_signings;
int cli_decide_load(struct sg_context *ctx, const char *config, struct sg_config **cfg,
		    struct sg_policy **policy, struct sg_audit_signings **signings);

/*
 * A file given on the command line without a config (a reviewer's copy, say):
 * held to the strict-mode rule (signgate/strict.h) for the running account;
 * each finding prints "signgate: warning: ..." on stderr and nothing is
 * refused. `flags` are SG_STRICT_*; NULL `path` is ignored.
 */
void cli_strict_warn(const char *path, unsigned flags);

/* cli_strict_warn() of an audit command's files: its n_logs logs, seals, seal_cert, against. */
void cli_strict_warn_audit(const char *const *logs, size_t n_logs, const char *seals,
			   const char *seal_cert, const char *against);

/*
 * The config's "confinement" for this run's children (cfg NULL: "auto").
 * "auto": one warning on stderr, once per run, naming what this kernel
 * lacks (sg_confine_lacking). "required": SG_ERR_TOOL when it lacks
 * Landlock file rules or seccomp (sg_confine_require), else SG_OK.
 */
struct sg_config;
int cli_confine_setup(const struct sg_config *cfg);

/*
 * Remove the left-overs of killed runs (sg_leftovers_clean()): work folders
 * in $TMPDIR and, with `stage_dir` (an output folder), stage folders there.
 * One line on stderr for each folder removed; failures are ignored.
 */
void cli_clean_leftovers(const char *stage_dir);

/*
 * Before any input: $TMPDIR and, with `stage_dir`, that output folder must
 * be folders private folders may be made in (sg_workdir_check_parent()),
 * then cli_clean_leftovers(stage_dir). Returns CLI_EXIT_OK, or the exit code
 * after printing why (nothing is cleaned then).
 */
int cli_private_folders(const char *stage_dir);

/*
 * An output folder named on the command line by `option` ("--out-dir"):
 * when `dir` itself is a symbolic link it is followed once, here, with a
 * warning naming where it leads, and the resolved folder is used for the
 * rest of the run (a link swapped later changes nothing). Returns a newly
 * allocated path (a copy of `dir` when it is no link), or NULL after
 * printing why.
 */
char *cli_out_dir_resolve(const char *dir, const char *option);

/*
 * Once per run, before any input is touched: the osslsigncode the run uses
 * (cfg's, or the build's default when cfg is NULL) is asked its version,
 * confined (sg_osslsigncode_check()); one that cannot be run, does not
 * answer like osslsigncode or is older than 2.9 is a configuration problem
 * (exit 2, the message names the config). The version then goes into every
 * audit record of the run (sg_audit_set_osslsigncode_version()). Returns
 * CLI_EXIT_OK, or the exit code after printing why. Call it before the
 * confinement mode is set (cli_confine_setup): `--version` reads nothing of
 * ours, and a kernel that lacks what "required" needs is refused there, as
 * before, with its inputs' records.
 */
int cli_osslsigncode_check(const struct sg_config *cfg);

int cmd_sign(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_timestamp(int argc, char **argv);
int cmd_audit(int argc, char **argv);
/* "audit seal": argv[0] is "seal". */
int cmd_audit_seal(int argc, char **argv);
int cmd_audit_report(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_policy_approve(int argc, char **argv);
int cmd_policy_cosign(int argc, char **argv);
int cmd_watch(int argc, char **argv);

#endif

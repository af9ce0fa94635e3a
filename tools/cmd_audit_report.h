/* signgate audit report: what its parts share (tools/cmd_audit_report*.c). */
#ifndef SG_TOOLS_CMD_AUDIT_REPORT_H
#define SG_TOOLS_CMD_AUDIT_REPORT_H

#include <stddef.h>

#include "signgate/audit.h"
#include "signgate/audit_seal.h"
#include "signgate/config.h"
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/strict.h"

#define MAX_LOGS 4096

typedef struct report_opts {
	const char *config, *seals, *seal_cert, *against, *since, *until, *policy, *out;
	const char *logs[MAX_LOGS];
	size_t n_logs;
	int json, force;
} report_opts;

struct sg_policy;

typedef struct report_run {
	const report_opts *o;
	const sg_config *cfg;
	char **chain; /* --config: the log and the archives it continues */
	sg_audit_file_read *chain_read; /* what finding them read of each */
	size_t n_chain;
	char chain_broken[SG_ERROR_MAX]; /* "": the archives were found */
	char gap[SG_ERROR_MAX];
	char *missing; /* the archive gap names (a rotate record's), NULL: none */
	const char *const *logs;
	size_t n_logs;
	const char *seals_path, *seal_cert;
	sg_audit_seals seals; /* with --against, the off-host copy's seals merged in */
	int have_seals;
	sg_audit_seals offhost; /* --against, as read */
	int have_offhost;
	size_t offhost_ignored;
	char seals_broken[SG_ERROR_MAX]; /* "": the seals loaded as valid seals */
	/* What was read of seals (or an off-host copy) that are not valid seals. */
	sg_audit_file_read seals_read, offhost_read;
	struct sg_policy *policy;
	sg_strict_rule policy_rule; /* whose the policy's files may be */
	sg_approvers_trust approvers;
	char *verify_command;
	size_t command_len;
} report_run;

/*
 * SG_OK when --out names nothing the report reads or may read (the
 * comparison in cmd_audit_report_out.c), else SG_ERR_USAGE (or
 * SG_ERR_NOMEM) with the reason.
 */
int report_out_is_input(const report_run *r);

#endif

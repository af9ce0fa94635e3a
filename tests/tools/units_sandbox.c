/*
 * sg_units_sandbox: run a program under the system-call side of a unit's
 * hardening, where systemd is not PID 1 (test_units_run.sh). Two stacked
 * seccomp filters, as systemd 252 installs them:
 *   1. the allow list (SystemCallFilter=, expanded by the test with
 *      `systemd-analyze syscall-filter`), every other call failing EPERM
 *      (SystemCallErrorNumber=EPERM);
 *   2. MemoryDenyWriteExecute= (mmap asking for write and execute, mprotect
 *      and pkey_mprotect asking for execute: EPERM) and
 *      RestrictAddressFamilies= (socket() of another family: EAFNOSUPPORT).
 * NoNewPrivileges= is set first (seccomp needs it without CAP_SYS_ADMIN).
 *
 * Usage: sg_units_sandbox SYSCALLS_FILE FAMILIES -- PROGRAM [ARG...]
 *   SYSCALLS_FILE  one system call name per line (unknown names are skipped)
 *   FAMILIES       comma-separated: AF_UNIX, AF_INET, AF_INET6 ("-": any)
 * Exit 125 when the sandbox cannot be set up; else the program's.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int die(const char *what, int err)
{
	fprintf(stderr, "sg_units_sandbox: %s: %s\n", what, strerror(err));
	return 125;
}

static int allow_list(const char *path)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	char line[128];
	FILE *f = fopen(path, "r");
	int rc = 0, n = 0;

	if (!ctx || !f)
		return -ENOMEM;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		int nr;

		line[strcspn(line, "\r\n \t")] = '\0';
		if (!line[0] || (nr = seccomp_syscall_resolve_name(line)) == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		n++;
	}
	fclose(f);
	if (rc == 0 && n == 0)
		rc = -EINVAL;
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}

static int family(const char *name)
{
	if (strcmp(name, "AF_UNIX") == 0)
		return AF_UNIX;
	if (strcmp(name, "AF_INET") == 0)
		return AF_INET;
	if (strcmp(name, "AF_INET6") == 0)
		return AF_INET6;
	return -1;
}

/* Families listed stay allowed: every other one fails with EAFNOSUPPORT. */
static int restrict_families(scmp_filter_ctx ctx, char *list)
{
	int allowed[8], n = 0, rc = 0;

	for (char *tok = strtok(list, ","); tok && n < 8; tok = strtok(NULL, ",")) {
		if ((allowed[n] = family(tok)) < 0)
			return -EINVAL;
		n++;
	}
	for (int af = 0; af < AF_MAX && rc == 0; af++) {
		struct scmp_arg_cmp first = {
			.arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)af, .datum_b = 0
		};
		int keep = 0;

		for (int i = 0; i < n; i++)
			keep |= allowed[i] == af;
		if (!keep)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket),
					      1, first);
	}
	return rc;
}

static int mdwe_and_families(char *families)
{
	const scmp_datum_t wx = PROT_WRITE | PROT_EXEC;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc;

	if (!ctx)
		return -ENOMEM;
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1,
			      SCMP_A2(SCMP_CMP_MASKED_EQ, wx, wx));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pkey_mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	if (rc == 0 && strcmp(families, "-") != 0)
		rc = restrict_families(ctx, families);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr,
			"usage: sg_units_sandbox SYSCALLS_FILE FAMILIES -- PROGRAM [ARG...]\n");
		return 125;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return die("prctl(PR_SET_NO_NEW_PRIVS)", errno);
	/* The second filter first: the allow list would refuse seccomp() itself. */
	if ((rc = mdwe_and_families(argv[2])) != 0)
		return die("MemoryDenyWriteExecute/RestrictAddressFamilies filter", -rc);
	if ((rc = allow_list(argv[1])) != 0)
		return die("SystemCallFilter allow list", -rc);
	execv(argv[4], argv + 4);
	return die(argv[4], errno);
}

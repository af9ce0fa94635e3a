/*
 * Who may hold the seals file, and whether the sealing run writes the log:
 * see audit_seal_internal.h.
 */
#include "signgate/error.h"
#include "audit_seal_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void owner_name(char *out, size_t size, uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(out, size, "uid %lu (%s)", (unsigned long)uid, res->pw_name);
	else
		snprintf(out, size, "uid %lu", (unsigned long)uid);
}

int sg_seal_check_owner(const struct stat *st, const char *path)
{
	char owner[300], me[300];

	if (st->st_uid == 0 || st->st_uid == geteuid())
		return SG_OK;
	owner_name(owner, sizeof(owner), st->st_uid);
	owner_name(me, sizeof(me), geteuid());
	return sg_error_set(SG_ERR_CONFIG,
			    "%s: the seals file is owned by %s, not by the account sealing (%s) "
			    "or root: its owner could rewrite or remove the seals. Nothing was "
			    "sealed; check its seals, then give it to the sealing account (the "
			    "units' tmpfiles.d creates it so)",
			    path, owner, me);
}

int sg_seal_check_owner_path(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT
			       ? SG_OK
			       : sg_error_set(SG_ERR_IO, "%s: cannot stat the seals file: %s", path,
					      strerror(errno));
	return sg_seal_check_owner(&st, path);
}

int sg_seal_log_writable(const char *log)
{
	if (faccessat(AT_FDCWD, log, W_OK, AT_EACCESS) == 0)
		return 1;
	return !(errno == EACCES || errno == EPERM || errno == EROFS);
}

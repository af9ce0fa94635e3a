/*
 * Strict modes: the one rule for every file signgate decides by (the config,
 * the policy, the trust anchors, the audit log and seals, key and secret
 * files), in the spirit of OpenSSH's StrictModes.
 *
 * The file and every folder the kernel passes through to reach it, from "/",
 * must be owned by root or by the trusted account (normally the effective
 * user running signgate) and must not be writable by group or others. A
 * folder above the file that is sticky and owned by root (/tmp) is fine:
 * there no one can rename or remove an entry they do not own. Symbolic links
 * are followed as the kernel would, but one component at a time: each link
 * must be owned by root or the trusted account, and its target is walked
 * with the same checks (at most 40 links). Every folder is opened with
 * O_PATH | O_NOFOLLOW relative to the checked folder above it and checked
 * with fstat() on that descriptor, so a path swapped during the walk is
 * either refused or never reached. A POSIX ACL entry that may write raises
 * the ACL's mask, which the mode shows as group-write: refused as such; where
 * the exception group's group-write is allowed, the access ACL is read and
 * a named user or group other than the exception (and the trusted accounts)
 * that may write is a finding. Default ACLs are not looked at.
 *
 * The one exception is a group named in the config ("policy_group",
 * "audit_group"), where the caller asks for it: that group may write the
 * object (and, with SG_STRICT_GROUP_PARENT, the folder holding it), and a
 * member of it may own them (a member can write them anyway).
 *
 * A missing component is no finding (the caller that needs the file reports
 * it missing), unless the folder that lacks it is sticky and writable by
 * others (or a group other than the exception's): there anyone could create
 * it between the check and its use, so that is a finding. A component that cannot be examined (EACCES) is no finding
 * either: the account that cannot examine it cannot use it.
 */
#ifndef SIGNGATE_STRICT_H
#define SIGNGATE_STRICT_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

typedef struct sg_strict_rule {
	uid_t uid;   /* trusted besides root: geteuid(), or the policy's owner for a review */
	gid_t gid;   /* the exception group, when has_gid */
	int has_gid; /* 0: no exception group */
	const char
		*group_key; /* the config key that named the group ("policy_group"), for messages */
	const char *noun;   /* with SG_STRICT_PRIVATE: "key file", "secret file" */
} sg_strict_rule;

/* The exception group may write (and a member own) the object itself. */
#define SG_STRICT_GROUP 0x1
/* ... and the folder that holds it (the audit folder of the log and seals). */
#define SG_STRICT_GROUP_PARENT 0x2
/* A folder: every entry directly in it is checked too (SG_STRICT_GROUP applies to them). */
#define SG_STRICT_ENTRIES 0x4
/*
 * Key material and secrets: the file must not be a symbolic link, must be a
 * regular file, and group and others may not access it at all; the message
 * then reads "PATH: <noun> is accessible by group or others (mode M); chmod
 * 600 it".
 */
#define SG_STRICT_PRIVATE 0x8
/*
 * With SG_STRICT_ENTRIES: leave out the regular files named like policy
 * files ("*.json" not starting with "."; links are still followed and
 * checked, with the folders they lead through): the caller checks each on the
 * descriptor it reads it from, with sg_strict_stat_check() (signing, whose
 * policy index already stats every policy file).
 */
#define SG_STRICT_ENTRIES_NO_JSON 0x10

/* Findings, one message each ("PATH: writable by others (mode 0757, owner root)..."). */
typedef struct sg_strict_report {
	char **msgs;
	size_t n;
} sg_strict_report;

/* A rule that trusts root and `uid` only, with no exception group. */
void sg_strict_rule_init(sg_strict_rule *rule, uid_t uid);

/*
 * Resolve the group `name` into `*gid`. Returns SG_OK, or SG_ERR_CONFIG
 * ("CFG: \"KEY\" names the group \"NAME\", which does not exist") with
 * `cfg_path` and `key` in the message.
 */
int sg_strict_group(gid_t *gid, const char *name, const char *cfg_path, const char *key);

/*
 * Check `path` and everything above it against `rule` (see above); `flags`
 * are SG_STRICT_*. With `rep` NULL, stop at the first finding and return
 * SG_ERR_CONFIG with it as the last error; with `rep`, add every finding to
 * it and return SG_ERR_CONFIG with the first one when there was any. Returns
 * SG_OK when nothing was found (or the path does not exist), SG_ERR_NOMEM.
 */
int sg_strict_check(sg_strict_report *rep, const char *path, const sg_strict_rule *rule,
		    unsigned flags);

/*
 * sg_strict_check() without a report, opening the file for reading on the
 * way: `*fd` is a descriptor (O_RDONLY | O_CLOEXEC | O_NOFOLLOW) of the very
 * file that was checked, reached through the checked folders. A missing file
 * is SG_ERR_IO ("PATH: cannot open: No such file or directory"), a symbolic
 * link at the end with SG_STRICT_PRIVATE SG_ERR_CONFIG ("PATH: cannot open:
 * it is a symbolic link (name the file itself)"). On failure `*fd` is -1.
 */
int sg_strict_open(int *fd, const char *path, const sg_strict_rule *rule, unsigned flags);

/*
 * The rule applied to one stat (no walk): NULL when `st` passes, else the
 * reason ("writable by others") in `why`. `flags`: SG_STRICT_GROUP,
 * SG_STRICT_PRIVATE; `above`: `st` is a folder above the object (a sticky
 * root-owned one passes).
 */
const char *sg_strict_stat_why(const struct stat *st, const sg_strict_rule *rule, unsigned flags,
			       int above, char *why, size_t why_size);

/*
 * The rule applied to the stat `st` of `shown` (no walk): SG_OK, or
 * SG_ERR_CONFIG with the message sg_strict_check() would give.
 */
int sg_strict_stat_check(const struct stat *st, const char *shown, const sg_strict_rule *rule,
			 unsigned flags);

/* Print nothing; free the messages. NULL-safe. */
void sg_strict_report_free(sg_strict_report *rep);

#endif

/* Strict modes for the files signgate decides by; see include/signgate/strict.h. */
#include "signgate/strict.h"
#include "signgate/error.h"
#include "signgate/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_LINKS 40

typedef struct walker {
	const sg_strict_rule *rule;
	unsigned flags;
	sg_strict_report *rep; /* NULL: stop at the first finding */
	const char *shown;     /* the object as the caller named it */
	int found;
	int open_errno; /* why the object could not be opened for reading (0: it was) */
} walker;

void sg_strict_rule_init(sg_strict_rule *rule, uid_t uid)
{
	memset(rule, 0, sizeof(*rule));
	rule->uid = uid;
}

int sg_strict_group(gid_t *gid, const char *name, const char *cfg_path, const char *key)
{
	struct group gr, *res = NULL;
	char buf[16384];

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: \"%s\" names the group \"%s\", which does not exist",
				    cfg_path, key, name);
	*gid = res->gr_gid;
	return SG_OK;
}

static void user_name(char *out, size_t size, uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(out, size, "%s", res->pw_name);
	else
		snprintf(out, size, "%u", (unsigned)uid);
}

static void group_name(char *out, size_t size, gid_t gid)
{
	struct group gr, *res = NULL;
	char buf[16384];

	if (getgrgid_r(gid, &gr, buf, sizeof(buf), &res) == 0 && res)
		snprintf(out, size, "%s", res->gr_name);
	else
		snprintf(out, size, "%u", (unsigned)gid);
}

/* `uid` belongs to group `gid`: as its primary group or as a listed member. */
static int is_member(uid_t uid, gid_t gid)
{
	struct passwd pw, *pres = NULL;
	struct group gr, *gres = NULL;
	char pbuf[4096], gbuf[16384];

	if (getpwuid_r(uid, &pw, pbuf, sizeof(pbuf), &pres) != 0 || !pres)
		return 0;
	if (pres->pw_gid == gid)
		return 1;
	if (getgrgid_r(gid, &gr, gbuf, sizeof(gbuf), &gres) != 0 || !gres)
		return 0;
	for (char **m = gres->gr_mem; *m; m++)
		if (strcmp(*m, pres->pw_name) == 0)
			return 1;
	return 0;
}

const char *sg_strict_stat_why(const struct stat *st, const sg_strict_rule *rule, unsigned flags,
			       int above, char *why, size_t why_size)
{
	int group = (flags & SG_STRICT_GROUP) && rule->has_gid;
	char name[64];

	/* /tmp: no one can rename or remove the entry of another there. */
	if (above && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && st->st_uid == 0)
		return NULL;
	if (st->st_uid != 0 && st->st_uid != rule->uid &&
	    !(group && is_member(st->st_uid, rule->gid)))
		snprintf(why, why_size, "owned by another account");
	else if (S_ISLNK(st->st_mode)) /* a link's own mode means nothing */
		return NULL;
	else if (!above && (flags & SG_STRICT_PRIVATE) && S_ISREG(st->st_mode) &&
		 (st->st_mode & (S_IRWXG | S_IRWXO)))
		snprintf(why, why_size, "accessible by group or others");
	else if (st->st_mode & S_IWOTH)
		snprintf(why, why_size, "writable by others");
	else if ((st->st_mode & S_IWGRP) && !(group && st->st_gid == rule->gid)) {
		group_name(name, sizeof(name), st->st_gid);
		snprintf(why, why_size, "writable by group %s", name);
	} else
		return NULL;
	return why;
}

static int add_finding(walker *w, const char *msg)
{
	char **grown;

	if (!w->found++)
		sg_error_set(SG_ERR_CONFIG, "%s", msg);
	if (!w->rep)
		return 0;
	grown = realloc(w->rep->msgs, (w->rep->n + 1) * sizeof(*grown));
	if (grown)
		w->rep->msgs = grown;
	if (grown && (grown[w->rep->n] = strdup(msg)) != NULL)
		w->rep->n++;
	return 1;
}

/*
 * With an access ACL, the group bits of the mode are the ACL's mask: a named
 * entry that may write shows as group-write, which the rule refuses, except
 * where the exception group's group-write is allowed. There, read the ACL
 * (Linux's xattr form: a version, then little-endian {tag, perm, id}
 * entries) and name an entry other than the exception group or a trusted
 * account that may write. 0: none.
 */
static int acl_writer(char *who, size_t size, const char *path, const sg_strict_rule *r)
{
	unsigned char buf[8192];
	ssize_t n = getxattr(path, "system.posix_acl_access", buf, sizeof(buf));

	if (n < 4)
		return 0;
	for (ssize_t i = 4; i + 8 <= n; i += 8) {
		unsigned tag = buf[i] | (unsigned)buf[i + 1] << 8, perm = buf[i + 2];
		unsigned id = buf[i + 4] | (unsigned)buf[i + 5] << 8 | (unsigned)buf[i + 6] << 16 |
			      (unsigned)buf[i + 7] << 24;
		char name[64];

		if (!(perm & 2))
			continue;
		if (tag == 0x02 && id != 0 && id != r->uid && !is_member(id, r->gid)) {
			user_name(name, sizeof(name), id);
			snprintf(who, size, "user %s", name);
			return 1;
		}
		if (tag == 0x08 && id != r->gid) {
			group_name(name, sizeof(name), id);
			snprintf(who, size, "group %s", name);
			return 1;
		}
	}
	return 0;
}

/* Group-write that the exception allowed, and an ACL entry that widens it; 1: a finding. */
static int acl_finding(walker *w, const char *shown, const struct stat *st, unsigned flags)
{
	char who[96], msg[PATH_MAX + 320];

	if (!(flags & SG_STRICT_GROUP) || S_ISLNK(st->st_mode) || !(st->st_mode & S_IWGRP) ||
	    !w->rule->has_gid || !acl_writer(who, sizeof(who), shown, w->rule))
		return 0;
	snprintf(msg, sizeof(msg),
		 "%s: a POSIX ACL lets %s write it (mode %04o): only the group \"%s\" names may "
		 "write what signgate decides by; remove the entry (setfacl -x)",
		 shown, who, (unsigned)(st->st_mode & 07777),
		 w->rule->group_key ? w->rule->group_key : "group");
	add_finding(w, msg);
	return 1;
}

/* Judge one stat; 1: go on, 0: stop (a finding and no report to collect it in). */
static int judge(walker *w, const char *shown, const struct stat *st, unsigned flags, int above)
{
	char why[128], owner[64], group[160], who[160], msg[PATH_MAX + 640];
	const sg_strict_rule *r = w->rule;

	if (!sg_strict_stat_why(st, r, flags, above, why, sizeof(why)))
		return !acl_finding(w, shown, st, flags) || w->rep != NULL;
	user_name(owner, sizeof(owner), st->st_uid);
	if (strcmp(why, "accessible by group or others") == 0) {
		snprintf(msg, sizeof(msg),
			 "%s: %s is accessible by group or others (mode %04o); "
			 "chmod 600 it",
			 shown, r->noun ? r->noun : "the file", (unsigned)(st->st_mode & 07777));
		return add_finding(w, msg);
	}
	if (r->uid == 0) {
		snprintf(who, sizeof(who), "root");
	} else {
		char trusted[64];
		user_name(trusted, sizeof(trusted), r->uid);
		snprintf(who, sizeof(who), "root or %s", trusted);
	}
	group[0] = '\0';
	if ((flags & SG_STRICT_GROUP) && r->has_gid) {
		char g[64];
		group_name(g, sizeof(g), r->gid);
		snprintf(group, sizeof(group), " (group %s may write it: \"%s\")", g,
			 r->group_key ? r->group_key : "group");
	}
	snprintf(msg, sizeof(msg),
		 "%s: %s (mode %04o, owner %s): what signgate decides by must be owned by %s "
		 "and writable by no one else%s",
		 shown, why, (unsigned)(st->st_mode & 07777), owner, who, group);
	return add_finding(w, msg);
}

/* A newly allocated absolute form of `path` (against the working folder). */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return strdup(path);
	return getcwd(cwd, sizeof(cwd)) ? sg_path_resolve(cwd, path) : NULL;
}

/* The folder `real` (a physical path, "" for "/") after entering `name` or "..". */
static void real_step(char *real, size_t size, const char *name)
{
	char *slash;
	size_t len = strlen(real);

	if (strcmp(name, "..") == 0) {
		if ((slash = strrchr(real, '/')) != NULL)
			*slash = '\0';
	} else if (len + 1 + strlen(name) < size) {
		real[len] = '/';
		memcpy(real + len + 1, name, strlen(name) + 1);
	}
}

typedef struct walk_state {
	int cur;             /* the folder reached so far (O_PATH) */
	int cur_judged;      /* it has been judged */
	char real[PATH_MAX]; /* its physical path, "" for "/" */
	char *rest;          /* the path still to walk */
	size_t links;
} walk_state;

static int walk(walker *w, const char *path, int *fd);

static int go_root(walk_state *s)
{
	if (s->cur >= 0)
		close(s->cur);
	s->cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	s->real[0] = '\0';
	s->cur_judged = 0;
	return s->cur >= 0 ? 0 : -1;
}

/* Judge the folder reached, once; `parent`: it holds the object. 1: go on, 0: stop. */
static int judge_cur(walker *w, walk_state *s, int parent)
{
	unsigned f = parent && (w->flags & SG_STRICT_GROUP_PARENT) ? SG_STRICT_GROUP : 0;
	struct stat st;

	if (s->cur_judged)
		return 1;
	s->cur_judged = 1;
	if (fstat(s->cur, &st) != 0)
		return 1;
	return judge(w, s->real[0] ? s->real : "/", &st, f, 1);
}

/* Continue the walk at the target of link `name` in the folder reached, then `after`. */
static int follow(walker *w, walk_state *s, const char *name, const char *after)
{
	char target[PATH_MAX], *next, msg[PATH_MAX + 64];
	ssize_t n = readlinkat(s->cur, name, target, sizeof(target) - 1);
	size_t len;

	if (n <= 0)
		return w->open_errno = errno, 1;
	target[n] = '\0';
	if (++s->links > MAX_LINKS) {
		snprintf(msg, sizeof(msg), "%s: too many symbolic links", w->shown);
		add_finding(w, msg);
		return 1;
	}
	len = (size_t)n + strlen(after) + 2;
	if (!(next = malloc(len)))
		return -1;
	snprintf(next, len, "%s/%s", target, after);
	free(s->rest);
	s->rest = next;
	return target[0] == '/' && go_root(s) != 0 ? 1 : 0;
}

/* A name the policy loader reads as a policy file (sg_policy_is_json_name(), roughly). */
static int json_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".json") == 0;
}

/* Check every entry directly in the folder `dfd` (the object), following links. */
static void entries(walker *w, int dfd)
{
	int nfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), go = 1;
	DIR *d = nfd >= 0 ? fdopendir(nfd) : NULL;
	unsigned f = w->flags & SG_STRICT_GROUP;
	struct dirent *e;
	struct stat st;

	if (!d && nfd >= 0)
		close(nfd);
	while (go && d && (e = readdir(d)) != NULL) {
		char *shown;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    ((w->flags & SG_STRICT_ENTRIES_NO_JSON) && e->d_type == DT_REG &&
		     json_name(e->d_name)) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !(shown = sg_path_join(w->shown, e->d_name)))
			continue;
		go = judge(w, shown, &st, f, 0);
		if (go && S_ISLNK(st.st_mode)) {
			walker sub = *w;
			int sfd;
			sub.shown = shown;
			sub.flags = f | (f ? SG_STRICT_GROUP_PARENT : 0);
			walk(&sub, shown, &sfd);
			if (sfd >= 0)
				close(sfd);
			go = !(sub.found > w->found && !w->rep);
			w->found = sub.found;
		}
		/* The index beside the policy files: the same rule (policy/README.md). */
		if (go && S_ISDIR(st.st_mode) && strcmp(e->d_name, ".signgate") == 0 &&
		    fstatat(dirfd(d), ".signgate/index", &st, AT_SYMLINK_NOFOLLOW) == 0) {
			char *index = sg_path_join(shown, "index");
			go = !index || judge(w, index, &st, f, 0);
			free(index);
		}
		free(shown);
	}
	if (d)
		closedir(d);
}

/* The last component: opened without following a link, judged on that descriptor. */
static int open_object(walker *w, walk_state *s, const char *comp, int *fd)
{
	int pfd = *fd =
		openat(s->cur, comp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	char msg[PATH_MAX + 64];
	struct stat st;

	if (*fd < 0) {
		w->open_errno = errno;
		if (errno == ELOOP) { /* a link now, where the walk saw none */
			snprintf(msg, sizeof(msg), "%s: changed while it was checked", w->shown);
			add_finding(w, msg);
			return 1;
		}
		if (errno == ENOENT ||
		    (pfd = openat(s->cur, comp, O_PATH | O_CLOEXEC | O_NOFOLLOW)) < 0)
			return 1;
	}
	if (fstat(pfd, &st) != 0 || S_ISLNK(st.st_mode)) {
		snprintf(msg, sizeof(msg), "%s: changed while it was checked", w->shown);
		add_finding(w, msg);
	} else if (judge(w, w->shown, &st, w->flags, 0) && (w->flags & SG_STRICT_ENTRIES) &&
		   S_ISDIR(st.st_mode) && *fd >= 0) {
		entries(w, *fd);
	}
	if (pfd != *fd)
		close(pfd);
	return 0;
}

/* The path reached its end on a folder ("x/.."): that folder is the object. */
static int object_is_cur(walker *w, walk_state *s, int *fd)
{
	struct stat st;

	*fd = openat(s->cur, ".", O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	if (fstat(s->cur, &st) == 0 && judge(w, w->shown, &st, w->flags, 0) &&
	    (w->flags & SG_STRICT_ENTRIES) && *fd >= 0)
		entries(w, *fd);
	return 0;
}

/*
 * `comp` does not exist in the folder reached. Where others may create
 * entries (a sticky folder such as /tmp, passed above), anyone could create
 * it between this check and its use (the audit folder or log signgate
 * creates, a file read later by path): a finding.
 */
static void missing_in_sticky(walker *w, walk_state *s, const char *comp)
{
	char msg[2 * PATH_MAX + 128];
	struct stat st;

	if (fstat(s->cur, &st) != 0 || !(st.st_mode & S_ISVTX))
		return;
	if (!(st.st_mode & S_IWOTH) &&
	    (!(st.st_mode & S_IWGRP) || (w->rule->has_gid && st.st_gid == w->rule->gid)))
		return;
	snprintf(msg, sizeof(msg),
		 "%s/%s: does not exist, and others may create it in the sticky folder %s "
		 "(mode %04o): create it first, or name a path in a folder only root or the "
		 "running account may write",
		 s->real, comp, s->real[0] ? s->real : "/", (unsigned)(st.st_mode & 07777));
	add_finding(w, msg);
}

/*
 * One step into `comp`; `after` is what follows it. 0: go on, 2: go on at the
 * start of s->rest (a link was followed), 1: stop, -1: out of memory.
 */
static int step(walker *w, walk_state *s, const char *comp, char *after, int last, int *fd)
{
	struct stat st;
	char msg[PATH_MAX + 64];
	int next;

	if (!judge_cur(w, s, last))
		return 1;
	if (strcmp(comp, ".") == 0)
		return 0;
	if (strcmp(comp, "..") == 0) {
		if ((next = openat(s->cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			return w->open_errno = errno, 1;
		close(s->cur);
		s->cur = next;
		s->cur_judged = 0;
		real_step(s->real, sizeof(s->real), "..");
		return 0;
	}
	if (fstatat(s->cur, comp, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		w->open_errno = errno;
		if (errno == ENOENT)
			missing_in_sticky(w, s, comp);
		return 1;
	}
	if (S_ISLNK(st.st_mode)) {
		if (last && (w->flags & SG_STRICT_PRIVATE)) {
			snprintf(msg, sizeof(msg),
				 "%s: cannot open: it is a symbolic link (name the file itself)",
				 w->shown);
			add_finding(w, msg);
			return 1;
		}
		snprintf(msg, sizeof(msg), "%s/%s", s->real, comp);
		if (!judge(w, msg, &st, last ? w->flags & SG_STRICT_GROUP : 0, 1))
			return 1;
		next = follow(w, s, comp, after);
		return next == 0 ? 2 : next;
	}
	if (last) {
		open_object(w, s, comp, fd);
		return 1;
	}
	if ((next = openat(s->cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return w->open_errno = errno, 1;
	close(s->cur);
	s->cur = next;
	s->cur_judged = 0;
	real_step(s->real, sizeof(s->real), comp);
	return 0;
}

/*
 * Walk `path` from "/", one component at a time. On return `*fd` is the
 * object opened for reading, or -1. Returns 0, or -1 when out of memory;
 * findings are counted in `w`.
 */
static int walk(walker *w, const char *path, int *fd)
{
	walk_state s = { .cur = -1 };
	char comp[NAME_MAX + 1], *p;
	int rc = 0;

	*fd = -1;
	if (!(s.rest = absolute(path)))
		return -1;
	if (go_root(&s) != 0) {
		free(s.rest);
		return 0;
	}
	p = s.rest;
	while (rc == 0) {
		char *end, *q;
		while (*p == '/')
			p++;
		if (!*p) {
			object_is_cur(w, &s, fd);
			break;
		}
		end = strchrnul(p, '/');
		for (q = end; *q == '/'; q++)
			;
		if ((size_t)(end - p) > NAME_MAX) {
			w->open_errno = ENAMETOOLONG;
			break;
		}
		memcpy(comp, p, (size_t)(end - p));
		comp[end - p] = '\0';
		rc = step(w, &s, comp, q, *q == '\0', fd);
		if (rc == 2) /* a link: the walk goes on at its target */
			p = s.rest;
		if (rc == 0 || rc == 2)
			p = rc == 0 ? q : p, rc = 0;
	}
	if (s.cur >= 0)
		close(s.cur);
	free(s.rest);
	return rc < 0 ? -1 : 0;
}

int sg_strict_check(sg_strict_report *rep, const char *path, const sg_strict_rule *rule,
		    unsigned flags)
{
	walker w = { .rule = rule, .flags = flags, .rep = rep, .shown = path };
	int fd, rc = walk(&w, path, &fd);

	if (fd >= 0)
		close(fd);
	if (rc < 0)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	return w.found ? SG_ERR_CONFIG : SG_OK;
}

int sg_strict_open(int *fd, const char *path, const sg_strict_rule *rule, unsigned flags)
{
	walker w = { .rule = rule, .flags = flags, .shown = path };
	int rc = walk(&w, path, fd), e;

	if (rc < 0 || w.found) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return rc < 0 ? sg_error_set(SG_ERR_NOMEM, "out of memory") : SG_ERR_CONFIG;
	}
	if (*fd >= 0)
		return SG_OK;
	e = w.open_errno ? w.open_errno : ENOENT;
	sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(e));
	errno = e;
	return SG_ERR_IO;
}

int sg_strict_stat_check(const struct stat *st, const char *shown, const sg_strict_rule *rule,
			 unsigned flags)
{
	walker w = { .rule = rule, .flags = flags, .shown = shown };

	judge(&w, shown, st, flags, 0);
	return w.found ? SG_ERR_CONFIG : SG_OK;
}

void sg_strict_report_free(sg_strict_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->n; i++)
		free(rep->msgs[i]);
	free(rep->msgs);
	rep->msgs = NULL;
	rep->n = 0;
}

/*
 * The inbox service's claims (signgate/watch.h): taking a dropped file by
 * one rename into a private claim folder, examining it there (where no one
 * else can swap it) without following or opening it, and each pass over
 * the work folder and the inbox.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "signgate/error.h"
#include "signgate/util.h"
#include "watch_internal.h"

/* A name the inbox convention lets us take: complete, not hidden, not in progress. */
static int name_complete(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && !(len >= 5 && strcmp(name + len - 5, ".part") == 0);
}

void sg_watch_claims_free(sg_watch_claim *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].dir);
		free(c[i].name);
		free(c[i].input);
		free(c[i].output);
	}
	free(c);
}

typedef struct claims {
	sg_watch_claim *v;
	size_t n, cap;
} claims;

static sg_watch_claim *claims_add(claims *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		sg_watch_claim *g = realloc(l->v, cap * sizeof(*g));
		if (!g)
			return NULL;
		l->v = g;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

/* The one entry of a claim folder that is not ours (ours start with '.'). */
static int claim_entry(int dfd, char **name)
{
	DIR *d = watch_opendir(dfd);
	struct dirent *e;

	*name = NULL;
	if (!d)
		return sg_error_set(SG_ERR_IO, "cannot read a claim folder: %s", strerror(errno));
	while ((e = readdir(d)) != NULL && !*name)
		if (e->d_name[0] != '.' && !(*name = strdup(e->d_name))) {
			closedir(d);
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		}
	closedir(d);
	return SG_OK;
}

void watch_claim_remove(sg_watch *w, const char *dir)
{
	int dfd = openat(w->work_fd, sg_path_base(dir), WATCH_DIR_FLAGS);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *e;

	/* A rejected folder moved in is never moved back out: remove only files here. */
	while (d && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	else if (dfd >= 0)
		close(dfd);
	unlinkat(w->work_fd, sg_path_base(dir), AT_REMOVEDIR);
	fsync(w->work_fd);
}

/* An inbox others than its owner may write: group or world writable. */
int watch_shared_inbox(const sg_watch *w)
{
	return (w->inbox_st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/* Whether `uid` could have written the inbox: the folder's rule decides who may drop. */
static int owner_allowed(const sg_watch *w, uid_t uid)
{
	const struct stat *st = &w->inbox_st;
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[256];
	int n = 256;

	if (uid == 0 || uid == geteuid())
		return !watch_shared_inbox(w);
	if (uid == st->st_uid || (st->st_mode & S_IWOTH))
		return 1;
	if (!(st->st_mode & S_IWGRP))
		return 0;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return 0;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (groups[i] == st->st_gid)
			return 1;
	return 0;
}

/* What a claimed entry that is no regular file is, for its refusal; NULL for a regular file. */
static const char *type_name(mode_t mode)
{
	if (S_ISREG(mode))
		return NULL;
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISDIR(mode))
		return "a folder";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	return "a device";
}

/* Examine the claimed file (never following it): why it is refused, or "". */
static void examine(const sg_watch *w, sg_watch_claim *c, const struct stat *st)
{
	const char *type = type_name(st->st_mode);

	c->refuse[0] = '\0';
	if (type)
		snprintf(c->refuse, sizeof(c->refuse), "%s, not a regular file", type);
	else if (st->st_nlink != 1)
		snprintf(c->refuse, sizeof(c->refuse),
			 "the file has %lu hard links (another name could change it)",
			 (unsigned long)st->st_nlink);
	else if ((st->st_uid == 0 || st->st_uid == geteuid()) && watch_shared_inbox(w))
		snprintf(c->refuse, sizeof(c->refuse),
			 "its owner uid %u is root or signgate's own account: in an inbox "
			 "others may write (mode %04o) such a file cannot be told from one a "
			 "member moved in",
			 (unsigned)st->st_uid, (unsigned)(w->inbox_st.st_mode & 07777));
	else if (!owner_allowed(w, st->st_uid))
		snprintf(c->refuse, sizeof(c->refuse),
			 "its owner uid %u may not write the inbox (mode %04o, group %u)",
			 (unsigned)st->st_uid, (unsigned)(w->inbox_st.st_mode & 07777),
			 (unsigned)w->inbox_st.st_gid);
}

/* "claim.TIME.XXXXXX" becomes "claim.TIME.XXXXXX.uUID": the dropper in the input's path. */
static int name_with_uid(sg_watch *w, char **dir, uid_t uid)
{
	const char *base = sg_path_base(*dir);
	char name[NAME_MAX + 1];
	char *path;
	int dots = 0;

	/* TIME and XXXXXX hold no dot: a third one starts ".uUID". */
	for (const char *p = base; *p; p++)
		dots += *p == '.';
	if (dots >= 3)
		return SG_OK;
	if (snprintf(name, sizeof(name), "%s.u%u", base, (unsigned)uid) >= (int)sizeof(name))
		return sg_error_set(SG_ERR_IO, "%s: name too long", *dir);
	if (renameat(w->work_fd, base, w->work_fd, name) != 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot rename: %s", *dir, strerror(errno));
	fsync(w->work_fd);
	if (!(path = sg_path_join(w->work, name)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	free(*dir);
	*dir = path;
	return SG_OK;
}

/* How many signing runs started claim folder `dfd`'s file (".started.N"). */
static unsigned count_starts(int dfd)
{
	DIR *d = watch_opendir(dfd);
	struct dirent *e;
	unsigned n = 0;

	while (d && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, ".started.", 9) == 0;
	if (d)
		closedir(d);
	return n;
}

/* Fill claim `c` from its folder `base` in the work folder; `*empty` when it holds nothing. */
static int load_claim(sg_watch *w, sg_watch_claim *c, const char *base, int *empty)
{
	int dfd = openat(w->work_fd, base, WATCH_DIR_FLAGS), error;
	unsigned starts;
	struct stat st;

	*empty = 0;
	if (dfd < 0)
		return sg_error_set(SG_ERR_IO, "%s/%s: %s", w->work, base, strerror(errno));
	error = claim_entry(dfd, &c->name);
	if (!error && !c->name)
		*empty = 1;
	if (!error && !*empty && fstatat(dfd, c->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		error = sg_error_set(SG_ERR_IO, "%s/%s: %s", base, c->name, strerror(errno));
	starts = error || *empty ? 0 : count_starts(dfd);
	close(dfd);
	if (error || *empty)
		return error;
	c->uid = st.st_uid;
	examine(w, c, &st);
	/* A file that kills the run that reads it is not tried for ever. */
	if (!c->refuse[0] && starts >= SG_WATCH_MAX_STARTS)
		snprintf(c->refuse, sizeof(c->refuse),
			 "the signing run ended %u times with this file in hand (killed or "
			 "crashed); it is not tried again",
			 starts);
	if (!(c->dir = sg_path_join(w->work, base)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if ((error = name_with_uid(w, &c->dir, st.st_uid)) != SG_OK)
		return error;
	c->input = sg_path_join(c->dir, c->name);
	c->output = sg_path_join(w->outbox, c->name);
	return c->input && c->output ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/* Claim INBOX/name: a new claim folder, then one rename; nothing is opened before. */
static int claim_one(sg_watch *w, const char *name, char *base, size_t base_len)
{
	char stamp[32], *tmpl;
	time_t now = time(NULL);
	struct stat st;
	struct tm tm;
	int dfd, e;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (snprintf(base, base_len, "%s%s.XXXXXX", WATCH_CLAIM_PREFIX, stamp) >= (int)base_len ||
	    !(tmpl = sg_path_join(w->work, base)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!mkdtemp(tmpl)) {
		e = errno;
		free(tmpl);
		return sg_error_set(SG_ERR_IO, "%s: cannot create a claim folder: %s", w->work,
				    strerror(e));
	}
	snprintf(base, base_len, "%s", sg_path_base(tmpl));
	free(tmpl);
	if ((dfd = openat(w->work_fd, base, WATCH_DIR_FLAGS)) < 0)
		return sg_error_set(SG_ERR_IO, "%s/%s: %s", w->work, base, strerror(errno));
	if (renameat2(w->inbox_fd, name, dfd, name, RENAME_NOREPLACE) == 0) {
		fsync(dfd);
		close(dfd);
		fsync(w->work_fd);
		fsync(w->inbox_fd);
		return SG_OK;
	}
	e = errno;
	close(dfd);
	unlinkat(w->work_fd, base, AT_REMOVEDIR);
	/*
	 * Gone meanwhile (another reader of the inbox): nothing to claim. A
	 * folder we may not move (moving one rewrites its ".."): ignored, as
	 * it would be refused anyway.
	 */
	if (e == ENOENT ||
	    ((e == EACCES || e == EPERM) &&
	     fstatat(w->inbox_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)))
		return 1;
	return sg_error_set(SG_ERR_IO, "%s/%s: cannot claim: %s", w->inbox, name, strerror(e));
}

static int name_claimed(const claims *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return 1;
	return 0;
}

static int cmp_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_claim(const struct dirent *e)
{
	return strncmp(e->d_name, WATCH_CLAIM_PREFIX, strlen(WATCH_CLAIM_PREFIX)) == 0;
}

static int is_complete(const struct dirent *e)
{
	return name_complete(e->d_name);
}

int sg_watch_mark_started(const sg_watch_claim *c)
{
	int dfd = open(c->dir, WATCH_DIR_FLAGS), fd = -1;
	char name[32];

	if (dfd < 0)
		return sg_error_set(SG_ERR_IO, "%s: %s", c->dir, strerror(errno));
	for (unsigned k = 1; fd < 0 && k < 1000; k++) {
		snprintf(name, sizeof(name), ".started.%u", k);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd >= 0) {
		fsync(fd);
		close(fd);
		fsync(dfd);
	}
	close(dfd);
	return fd >= 0 ? SG_OK
		       : sg_error_set(SG_ERR_IO, "%s: cannot mark the claim started", c->dir);
}

static void problem(const sg_watch_events *ev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(const sg_watch_events *ev, const char *fmt, ...)
{
	char msg[SG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ev && ev->problem)
		ev->problem(msg, ev->arg);
}

static void claim_drop(claims *l)
{
	sg_watch_claim *c = &l->v[--l->n];

	free(c->dir);
	free(c->name);
	free(c->input);
	free(c->output);
}

/*
 * Open one claim folder of the work folder: publish its outcome, or the one
 * the audit log holds, or keep it to run. SG_ERR_NOMEM stops the pass; any
 * other failure leaves this claim for the next pass and is reported.
 */
static int take_claim(sg_watch *w, claims *l, const char *base, int fresh,
		      const sg_watch_events *ev, size_t *problems)
{
	sg_watch_claim *c = claims_add(l);
	int empty = 0, found = 0, error;

	if (!c)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = load_claim(w, c, base, &empty);
	if (!error && empty) {
		watch_claim_remove(w, base);
		claim_drop(l);
		return SG_OK;
	}
	/* A claim made in this pass has no outcome and no record yet: no search of the log. */
	if (!error && !fresh)
		error = sg_watch_publish(w, c, ev);
	if (!error && !fresh && !c->published && !(error = watch_recover_from_log(w, c, &found)) &&
	    found)
		error = sg_watch_publish(w, c, ev);
	if (error || c->published)
		claim_drop(l);
	if (error && error != SG_ERR_NOMEM) {
		problem(ev, "%s/%s: left for the next pass: %s", w->work, base, sg_error_last());
		++*problems;
		return SG_OK;
	}
	return error;
}

/* The claim folders in the work folder (left by a crash, or just made). */
static int scan_work(sg_watch *w, claims *l, const sg_watch_events *ev, size_t *problems)
{
	struct dirent **names = NULL;
	int n = scandirat(w->work_fd, ".", &names, is_claim, cmp_name), error = SG_OK;

	if (n < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot read: %s", w->work, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (!error)
			error = take_claim(w, l, names[i]->d_name, 0, ev, problems);
		free(names[i]);
	}
	free(names);
	return error;
}

/* Claim the complete files of the inbox, one claim per name at a time. */
static int scan_inbox(sg_watch *w, claims *l, size_t max, const sg_watch_events *ev,
		      size_t *problems)
{
	struct dirent **names = NULL;
	int n = scandirat(w->inbox_fd, ".", &names, is_complete, cmp_name), error = SG_OK;
	char base[NAME_MAX + 1];

	if (n < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot read: %s", w->inbox, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		int rc = 1;

		if (!error && l->n < max && !name_claimed(l, name))
			rc = claim_one(w, name, base, sizeof(base));
		if (rc == 0)
			error = take_claim(w, l, base, 1, ev, problems);
		else if (rc < 0 && rc != SG_ERR_NOMEM) {
			problem(ev, "%s", sg_error_last());
			++*problems;
		} else if (rc < 0) {
			error = rc;
		}
		free(names[i]);
	}
	free(names);
	return error;
}

int sg_watch_scan(sg_watch *w, size_t max, sg_watch_claim **out, size_t *n, size_t *problems,
		  const sg_watch_events *ev)
{
	claims l = { 0 };
	int error;

	*problems = 0;
	error = scan_work(w, &l, ev, problems);
	if (!error)
		error = scan_inbox(w, &l, max, ev, problems);
	if (error) {
		sg_watch_claims_free(l.v, l.n);
		*out = NULL;
		*n = 0;
		return error;
	}
	*out = l.v;
	*n = l.n;
	return SG_OK;
}

/*
 * The inbox service's folders and claims (signgate/watch.h): the rules a
 * folder must meet, the lock, claiming a dropped file by one rename into a
 * private folder, and examining it there, where no one else can swap it.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "signgate/error.h"
#include "signgate/util.h"
#include "watch_internal.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* The inbox: owned by root or us; others may write it only when it is sticky. */
static int check_inbox(sg_watch *w)
{
	const struct stat *st = &w->inbox_st;

	if (fstat(w->inbox_fd, &w->inbox_st) != 0)
		return sg_error_set(SG_ERR_IO, "inbox %s: cannot examine: %s", w->inbox,
				    strerror(errno));
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return sg_error_set(SG_ERR_CONFIG,
				    "inbox %s: owned by uid %u, not by root or the account "
				    "signgate runs as (uid %u)",
				    w->inbox, (unsigned)st->st_uid, (unsigned)geteuid());
	if ((st->st_mode & S_IWOTH) && !(st->st_mode & S_ISVTX))
		return sg_error_set(SG_ERR_CONFIG,
				    "inbox %s: others may write this folder and it has no sticky "
				    "bit (mode %04o): anyone could remove or replace a dropped file; "
				    "chmod o-w or +t it",
				    w->inbox, (unsigned)(st->st_mode & 07777));
	return SG_OK;
}

/* `path` as a real folder, made absolute; `*fd` opened on it. */
static int open_folder(char **abs, int *fd, const char *path, const char *what, int create)
{
	if (create && mkdir(path, 0700) != 0 && errno != EEXIST)
		return sg_error_set(SG_ERR_IO, "%s %s: cannot create: %s", what, path,
				    strerror(errno));
	*abs = realpath(path, NULL);
	if (!*abs)
		return sg_error_set(SG_ERR_CONFIG, "%s %s: %s", what, path, strerror(errno));
	*fd = open(*abs, DIR_FLAGS);
	if (*fd < 0)
		return sg_error_set(SG_ERR_CONFIG, "%s %s: cannot open the folder: %s", what, *abs,
				    strerror(errno));
	return SG_OK;
}

/* The work folder: ours, 0700, on the inbox's file system; then its lock. */
static int open_work(sg_watch *w)
{
	char *parent = sg_path_dir(w->inbox), *path = parent ? sg_path_join(parent, "work") : NULL;
	struct stat st;
	int error = path ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	if (!error)
		error = open_folder(&w->work, &w->work_fd, path, "work folder", 1);
	if (!error && fstat(w->work_fd, &st) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: %s", w->work, strerror(errno));
	if (!error && (st.st_uid != geteuid() || (st.st_mode & 077)))
		error = sg_error_set(SG_ERR_CONFIG,
				     "work folder %s: must be owned by uid %u with mode 0700 (it "
				     "is uid %u, mode %04o)",
				     w->work, (unsigned)geteuid(), (unsigned)st.st_uid,
				     (unsigned)(st.st_mode & 07777));
	if (!error && st.st_dev != w->inbox_st.st_dev)
		error = sg_error_set(SG_ERR_CONFIG,
				     "work folder %s: not on the inbox's file system (a claim is "
				     "a rename)",
				     w->work);
	if (!error && flock(w->work_fd, LOCK_EX | LOCK_NB) != 0)
		error = errno == EWOULDBLOCK
				? sg_error_set(SG_ERR_EXISTS,
					       "%s: another signgate watch holds this inbox",
					       w->work)
				: sg_error_set(SG_ERR_IO, "%s: cannot lock: %s", w->work,
					       strerror(errno));
	free(parent);
	free(path);
	return error;
}

static int open_all(sg_watch *w, const char *inbox, const char *outbox, const char *rejected)
{
	char *parent = NULL, *rej = NULL;
	int error = open_folder(&w->inbox, &w->inbox_fd, inbox, "inbox", 0);

	if (!error)
		error = check_inbox(w);
	/* No one else may rename the inbox, the work folder or the rejected folder. */
	if (!error && !(parent = sg_path_dir(w->inbox)))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error)
		error = sg_workdir_check_parent(parent, "the inbox's folder ");
	if (!error)
		error = open_folder(&w->outbox, &w->outbox_fd, outbox, "outbox", 0);
	if (!error)
		error = sg_workdir_check_parent(w->outbox, "outbox ");
	if (!error && !rejected && !(rej = sg_path_join(parent, "rejected")))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error)
		error = open_folder(&w->rejected, &w->rejected_fd, rejected ? rejected : rej,
				    "rejected folder", 1);
	if (!error)
		error = sg_workdir_check_parent(w->rejected, "rejected folder ");
	if (!error)
		error = open_work(w);
	free(parent);
	free(rej);
	return error;
}

int sg_watch_open(sg_watch **out, const char *inbox, const char *outbox, const char *rejected,
		  const char *audit_log)
{
	sg_watch *w = calloc(1, sizeof(*w));
	int error;

	*out = NULL;
	if (!w)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	w->inbox_fd = w->outbox_fd = w->rejected_fd = w->work_fd = -1;
	if (audit_log && !(w->audit_log = strdup(audit_log))) {
		free(w);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	error = open_all(w, inbox, outbox, rejected);
	if (error) {
		sg_watch_free(w);
		return error;
	}
	*out = w;
	return SG_OK;
}

void sg_watch_free(sg_watch *w)
{
	if (!w)
		return;
	for (int *fd = &w->inbox_fd; fd <= &w->work_fd; fd++)
		if (*fd >= 0)
			close(*fd);
	free(w->inbox);
	free(w->outbox);
	free(w->rejected);
	free(w->work);
	free(w->audit_log);
	free(w);
}

const char *sg_watch_inbox(const sg_watch *w) { return w->inbox; }
const char *sg_watch_outbox(const sg_watch *w) { return w->outbox; }
const char *sg_watch_rejected(const sg_watch *w) { return w->rejected; }
const char *sg_watch_work(const sg_watch *w) { return w->work; }
int sg_watch_lock_fd(const sg_watch *w) { return w->work_fd; }

/* ---- claims ---- */

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
	DIR *d = fdopendir(dup(dfd));
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
	int dfd = openat(w->work_fd, sg_path_base(dir), DIR_FLAGS);
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

/* Whether `uid` could have written the inbox: the folder's rule decides who may drop. */
static int owner_allowed(const sg_watch *w, uid_t uid)
{
	const struct stat *st = &w->inbox_st;
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[256];
	int n = 256;

	if (uid == 0 || uid == geteuid() || uid == st->st_uid || (st->st_mode & S_IWOTH))
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

/* Examine the claimed file (never following it): why it is refused, or "". */
static void examine(const sg_watch *w, sg_watch_claim *c, const struct stat *st)
{
	const char *type = S_ISLNK(st->st_mode)	   ? "a symbolic link"
			   : S_ISDIR(st->st_mode)  ? "a folder"
			   : S_ISFIFO(st->st_mode) ? "a FIFO"
			   : S_ISSOCK(st->st_mode) ? "a socket"
			   : S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? "a device"
			   : NULL;

	c->refuse[0] = '\0';
	if (type)
		snprintf(c->refuse, sizeof(c->refuse), "%s, not a regular file", type);
	else if (st->st_nlink != 1)
		snprintf(c->refuse, sizeof(c->refuse),
			 "the file has %lu hard links (another name could change it)",
			 (unsigned long)st->st_nlink);
	else if (!owner_allowed(w, st->st_uid))
		snprintf(c->refuse, sizeof(c->refuse),
			 "its owner uid %u may not write the inbox (mode %04o, group %u)",
			 (unsigned)st->st_uid, (unsigned)(w->inbox_st.st_mode & 07777),
			 (unsigned)w->inbox_st.st_gid);
}

/* "claim.TIME.XXXXXX" becomes "claim.TIME.XXXXXX.uUID": the dropper in the input's path. */
static int name_with_uid(sg_watch *w, char **dir, uid_t uid)
{
	const char *base = sg_path_base(*dir), *u = strstr(base + strlen(WATCH_CLAIM_PREFIX), ".u");
	char name[NAME_MAX + 1];
	char *path;

	if (u)
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

/* Fill claim `c` from its folder `base` in the work folder; `*empty` when it holds nothing. */
static int load_claim(sg_watch *w, sg_watch_claim *c, const char *base, int *empty)
{
	int dfd = openat(w->work_fd, base, DIR_FLAGS), error;
	struct stat st;

	*empty = 0;
	if (dfd < 0)
		return sg_error_set(SG_ERR_IO, "%s/%s: %s", w->work, base, strerror(errno));
	error = claim_entry(dfd, &c->name);
	if (!error && !c->name)
		*empty = 1;
	if (!error && !*empty && fstatat(dfd, c->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		error = sg_error_set(SG_ERR_IO, "%s/%s: %s", base, c->name, strerror(errno));
	close(dfd);
	if (error || *empty)
		return error;
	c->uid = st.st_uid;
	examine(w, c, &st);
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
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int dfd;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int tries = 0; tries < 100; tries++) {
		char *tmpl = NULL;
		if (snprintf(base, base_len, "%s%s.XXXXXX", WATCH_CLAIM_PREFIX, stamp) >=
			    (int)base_len ||
		    !(tmpl = sg_path_join(w->work, base)))
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		if (!mkdtemp(tmpl)) {
			int e = errno;
			free(tmpl);
			return sg_error_set(SG_ERR_IO, "%s: cannot create a claim folder: %s",
					    w->work, strerror(e));
		}
		snprintf(base, base_len, "%s", sg_path_base(tmpl));
		free(tmpl);
		if ((dfd = openat(w->work_fd, base, DIR_FLAGS)) < 0)
			return sg_error_set(SG_ERR_IO, "%s/%s: %s", w->work, base,
					    strerror(errno));
		if (renameat2(w->inbox_fd, name, dfd, name, RENAME_NOREPLACE) == 0) {
			fsync(dfd);
			close(dfd);
			fsync(w->work_fd);
			fsync(w->inbox_fd);
			return SG_OK;
		}
		close(dfd);
		unlinkat(w->work_fd, base, AT_REMOVEDIR);
		/* Gone meanwhile (another reader of the inbox): nothing to claim. */
		return errno == ENOENT ? 1
				       : sg_error_set(SG_ERR_IO, "%s/%s: cannot claim: %s",
						      w->inbox, name, strerror(errno));
	}
	return sg_error_set(SG_ERR_IO, "%s: cannot create a claim folder", w->work);
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

/* Open one claim folder of the work folder: publish, recover, or keep it to run. */
static int take_claim(sg_watch *w, claims *l, const char *base, sg_watch_note_fn note, void *arg)
{
	sg_watch_claim *c = claims_add(l);
	int empty, found = 0, error;

	if (!c)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = load_claim(w, c, base, &empty);
	if (!error && empty) {
		watch_claim_remove(w, base);
		free(c->dir);
		free(c->name);
		l->n--;
		return SG_OK;
	}
	if (!error)
		error = sg_watch_publish(w, c, note, arg);
	if (!error && !c->published && !(error = watch_recover_from_log(w, c, &found)) && found)
		error = sg_watch_publish(w, c, note, arg);
	if (!error && c->published) {
		free(c->dir);
		free(c->name);
		free(c->input);
		free(c->output);
		l->n--;
	}
	return error;
}

/* The claim folders in the work folder (left by a crash, or just made). */
static int scan_work(sg_watch *w, claims *l, sg_watch_note_fn note, void *arg)
{
	struct dirent **names = NULL;
	int n = scandirat(w->work_fd, ".", &names, is_claim, cmp_name), error = SG_OK;

	if (n < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot read: %s", w->work, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (!error)
			error = take_claim(w, l, names[i]->d_name, note, arg);
		free(names[i]);
	}
	free(names);
	return error;
}

/* Claim the complete files of the inbox, one claim per name at a time. */
static int scan_inbox(sg_watch *w, claims *l, size_t max, sg_watch_note_fn note, void *arg)
{
	struct dirent **names = NULL;
	int n = scandirat(w->inbox_fd, ".", &names, is_complete, cmp_name), error = SG_OK;
	char base[NAME_MAX + 1];

	if (n < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot read: %s", w->inbox, strerror(errno));
	for (int i = 0; i < n; i++) {
		int rc;
		if (!error && l->n < max && !name_claimed(l, names[i]->d_name)) {
			rc = claim_one(w, names[i]->d_name, base, sizeof(base));
			if (rc < 0)
				error = rc;
			else if (rc == 0)
				error = take_claim(w, l, base, note, arg);
		}
		free(names[i]);
	}
	free(names);
	return error;
}

int sg_watch_scan(sg_watch *w, size_t max, sg_watch_claim **out, size_t *n, sg_watch_note_fn note,
		  void *arg)
{
	claims l = { 0 };
	int error = scan_work(w, &l, note, arg);

	if (!error)
		error = scan_inbox(w, &l, max, note, arg);
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

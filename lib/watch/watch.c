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
		return sg_error_set(
			SG_ERR_CONFIG,
			"inbox %s: others may write this folder and it has no sticky "
			"bit (mode %04o): anyone could remove or replace a dropped file; "
			"chmod o-w or +t it",
			w->inbox, (unsigned)(st->st_mode & 07777));
	/* A group inbox without the sticky bit: one dropper may swap another's file. */
	if ((st->st_mode & S_IWGRP) && !(st->st_mode & S_ISVTX))
		return sg_error_set(
			SG_ERR_CONFIG,
			"inbox %s: group members may write this folder and it has no sticky "
			"bit (mode %04o): one member could remove or replace another's file; "
			"chmod g-w or +t it (1770)",
			w->inbox, (unsigned)(st->st_mode & 07777));
	/* Claiming is a rename out of the inbox: found now, not at every file. */
	if (faccessat(w->inbox_fd, ".", W_OK | X_OK, AT_EACCESS) != 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "inbox %s: signgate (uid %u) may not take files from it: %s",
				    w->inbox, (unsigned)geteuid(), strerror(errno));
	if ((st->st_mode & S_ISVTX) && geteuid() != 0 && st->st_uid != geteuid())
		return sg_error_set(SG_ERR_CONFIG,
				    "inbox %s: sticky and owned by uid %u: signgate (uid %u) could "
				    "take only its own files from it; make it signgate's",
				    w->inbox, (unsigned)st->st_uid, (unsigned)geteuid());
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
	*fd = open(*abs, WATCH_DIR_FLAGS);
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

	/* signgate's own folder: a link in its place is not followed. */
	if (!error && lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		error = sg_error_set(SG_ERR_CONFIG, "work folder %s: not a folder (a link?)", path);
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
				     "work folder %s: not on the inbox's file system: a claim is "
				     "a rename",
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

/* 1 when `path` is `dir` or inside it (both real paths). */
static int within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/' || n == 1);
}

/*
 * Four different folders, none inside the inbox (it would be claimed) and
 * the inbox inside none of the others.
 */
static int check_distinct(const sg_watch *w)
{
	const char *const names[] = { "outbox", "rejected folder", "work folder" };
	const char *const paths[] = { w->outbox, w->rejected, w->work };
	struct stat st;

	for (size_t i = 0; i < 3; i++)
		if (within(paths[i], w->inbox) || within(w->inbox, paths[i]))
			return sg_error_set(
				SG_ERR_CONFIG,
				"%s %s: must not be the inbox %s, inside it or above it", names[i],
				paths[i], w->inbox);
	if (strcmp(w->outbox, w->rejected) == 0)
		return sg_error_set(SG_ERR_CONFIG, "outbox %s: must not be the rejected folder too",
				    w->outbox);
	/* A rejected file is moved there by a rename. */
	if (fstat(w->rejected_fd, &st) != 0 || st.st_dev != w->inbox_st.st_dev)
		return sg_error_set(SG_ERR_CONFIG,
				    "rejected folder %s: not on the inbox's file system: a file is "
				    "moved there by a rename",
				    w->rejected);
	return SG_OK;
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
	if (!error)
		error = check_distinct(w);
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

DIR *watch_opendir(int fd)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = copy >= 0 ? fdopendir(copy) : NULL;

	if (!d && copy >= 0)
		close(copy);
	if (d)
		rewinddir(d);
	return d;
}

const char *sg_watch_inbox(const sg_watch *w)
{
	return w->inbox;
}
const char *sg_watch_outbox(const sg_watch *w)
{
	return w->outbox;
}
const char *sg_watch_rejected(const sg_watch *w)
{
	return w->rejected;
}
const char *sg_watch_work(const sg_watch *w)
{
	return w->work;
}

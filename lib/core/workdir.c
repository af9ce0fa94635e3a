/*
 * The private folders of a run (issue 13): the work folder under $TMPDIR
 * and the stage folder beside an output; see signgate/util.h.
 *
 * Each is locked (flock LOCK_EX on a descriptor of the folder itself) from
 * before its name can be found until the run removes it: it is made under a
 * pending name, opened, locked, and only then renamed to the name the
 * left-over cleanup (lib/leftovers.c) looks for. A killed run's lock goes
 * with its last descriptor, so an unlocked folder under the final name is
 * a left-over, whatever process namespace its run was in.
 *
 * Its parent must be one that no one else can rearrange (owned by root or
 * us, and not writable by group or others unless sticky), and so must every
 * folder above it: paths inside the folder are then ours to reopen.
 */
#include "signgate/util.h"
#include "signgate/error.h"
#include "workdir_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NAME_TRIES 100

int sg_rundir_safe_parent(const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return 0;
	return !(st->st_mode & (S_IWGRP | S_IWOTH)) || (st->st_mode & S_ISVTX);
}

static int unsafe(const char *what, const char *dir, const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return sg_error_set(SG_ERR_CONFIG,
				    "%s%s: owned by another account (uid %lu), who could swap "
				    "signgate's private folder in it; choose a folder of root or "
				    "of this account",
				    what, dir, (unsigned long)st->st_uid);
	return sg_error_set(SG_ERR_CONFIG,
			    "%s%s: others may write this folder and it has no sticky bit "
			    "(mode %04o), so they could swap signgate's private folder in it; "
			    "remove their write access, chmod +t it or choose another folder",
			    what, dir, (unsigned)(st->st_mode & 07777));
}

/*
 * Each prefix of the absolute `path` as the kernel resolves it: the folder
 * its next name is looked up in must be safe, and a link on the way must be
 * root's or ours (in a sticky folder, its owner may replace it).
 */
static int walk(const char *what, char *path)
{
	struct stat st;

	if (stat("/", &st) == 0 && !sg_rundir_safe_parent(&st))
		return unsafe(what, "/", &st);
	for (char *p = path + 1;; p++) {
		char c = *p;
		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (p[-1] != '/' && lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
		    st.st_uid != 0 && st.st_uid != geteuid())
			return sg_error_set(
				SG_ERR_CONFIG,
				"%s%s: a symbolic link of another account (uid %lu), "
				"who could point it elsewhere; give the folder's real path",
				what, path, (unsigned long)st.st_uid);
		if (p[-1] != '/' && stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
		    !sg_rundir_safe_parent(&st))
			return unsafe(what, path, &st);
		*p = c;
		if (c == '\0')
			return SG_OK;
	}
}

/*
 * `dir` (opened as `fd`) and every folder above it: the kernel passes
 * through each to reach the private folder, so each must be safe, along the
 * path as given and along the path with every link resolved (a link's
 * target's folders). The real path goes to `real_out`: the one the run uses
 * later, with no link left for anyone to swap.
 */
static int check_parents(const char *what, const char *dir, int fd, char *real_out, size_t real_cap)
{
	char path[PATH_MAX];
	struct stat st, real;
	size_t n;
	int error;

	if (fstat(fd, &st) != 0)
		return sg_error_set(SG_ERR_IO, "%s%s: %s", what, dir, strerror(errno));
	if (!sg_rundir_safe_parent(&st))
		return unsafe(what, dir, &st);
	if (dir[0] == '/')
		n = (size_t)snprintf(path, sizeof(path), "%s", dir);
	else if (getcwd(path, sizeof(path)))
		n = strlen(path) +
		    (size_t)snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", dir);
	else
		return sg_error_set(SG_ERR_IO, "%s: cannot find the current folder: %s", dir,
				    strerror(errno));
	if (n >= sizeof(path))
		return sg_error_set(SG_ERR_IO, "%s%s: path too long", what, dir);
	if ((error = walk(what, path)) != SG_OK)
		return error;
	if (!realpath(dir, path))
		return sg_error_set(SG_ERR_IO, "%s%s: cannot resolve the folder: %s", what, dir,
				    strerror(errno));
	if (stat(path, &real) != 0 || real.st_dev != st.st_dev || real.st_ino != st.st_ino)
		return sg_error_set(SG_ERR_IO, "%s%s: changed while it was checked", what, dir);
	n = strlen(path);
	if (real_out && n + 1 > real_cap)
		return sg_error_set(SG_ERR_IO, "%s%s: path too long", what, dir);
	if (real_out)
		memcpy(real_out, path, n + 1);
	return walk(what, path);
}

/* Six random characters of the set mkdtemp uses. */
static void random_suffix(char out[7])
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[6];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)((unsigned long)ts.tv_nsec >> (i * 5)) ^
			       (unsigned char)getpid();
	}
	for (size_t i = 0; i < 6; i++)
		out[i] = set[r[i] % (sizeof(set) - 1)];
	out[6] = '\0';
}

/* Make the folder under a pending name, open it, lock it: `*fd`, its name in `pending`. */
static int make_locked(int parent, const char *pending_prefix, char *pending, size_t cap, int *fd)
{
	char sfx[7];

	*fd = -1;
	for (int i = 0; i < NAME_TRIES; i++) {
		random_suffix(sfx);
		snprintf(pending, cap, "%s%s", pending_prefix, sfx);
		if (mkdirat(parent, pending, 0700) == 0)
			break;
		if (errno != EEXIST)
			return -1;
		pending[0] = '\0';
	}
	if (!pending[0]) {
		errno = EEXIST;
		return -1;
	}
	*fd = openat(parent, pending, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* Fresh and still under its pending name: no one else holds its lock. */
	if (*fd < 0 || fchmod(*fd, 0700) != 0 || flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		unlinkat(parent, pending, AT_REMOVEDIR);
		errno = e;
		return -1;
	}
	return 0;
}

/* Locked, it takes a final name (RENAME_NOREPLACE), where the cleanup may see it. */
static int name_it(int parent, const char *pending, const char *prefix, char *name, size_t cap)
{
	char sfx[7];

	for (int i = 0; i < NAME_TRIES; i++) {
		random_suffix(sfx);
		snprintf(name, cap, "%s%s", prefix, sfx);
		if (renameat2(parent, pending, parent, name, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* Create, lock and name one private folder in `dir`; `what` prefixes messages ("TMPDIR "). */
static int rundir_create(sg_workdir *out, const char *dir, const char *what,
			 const char *pending_prefix, const char *prefix, const char *fail)
{
	char pending[64], name[64], real[PATH_MAX];
	int parent, fd = -1, error, e;

	*out = (sg_workdir)SG_WORKDIR_INIT;
	parent = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0)
		return sg_error_set(SG_ERR_IO, "%s: %s: %s", dir, fail, strerror(errno));
	error = check_parents(what, dir, parent, real, sizeof(real));
	if (!error && make_locked(parent, pending_prefix, pending, sizeof(pending), &fd) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: %s: %s", dir, fail, strerror(errno));
	if (!error && name_it(parent, pending, prefix, name, sizeof(name)) != 0) {
		e = errno;
		unlinkat(parent, pending, AT_REMOVEDIR);
		error = sg_error_set(SG_ERR_IO, "%s: %s: %s", dir, fail, strerror(e));
	}
	if (!error && !(out->path = sg_path_join(real, name))) {
		unlinkat(parent, name, AT_REMOVEDIR);
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	if (error) {
		if (fd >= 0)
			close(fd);
		close(parent);
		return error;
	}
	out->fd = fd;
	out->parent_fd = parent;
	out->name = sg_path_base(out->path);
	return SG_OK;
}

int sg_workdir_check_parent(const char *dir, const char *what)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), error;

	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s%s: cannot open the folder: %s", what, dir,
				    strerror(errno));
	error = check_parents(what, dir, fd, NULL, 0);
	close(fd);
	return error;
}

const char *sg_workdir_parent(void)
{
	const char *tmp = getenv("TMPDIR");

	return tmp && tmp[0] == '/' ? tmp : "/tmp";
}

int sg_workdir_create(sg_workdir *out)
{
	return rundir_create(out, sg_workdir_parent(), "TMPDIR ", SG_WORKDIR_PENDING,
			     SG_WORKDIR_PREFIX, "cannot create a private working folder");
}

int sg_stage_create(sg_workdir *out, const char *dest)
{
	char *dir = sg_path_dir(dest);
	int error;

	*out = (sg_workdir)SG_WORKDIR_INIT;
	if (!dir)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = rundir_create(out, dir, "output folder ", SG_STAGE_PENDING, SG_STAGE_PREFIX,
			      "cannot create a private folder for the output");
	free(dir);
	return error;
}

int sg_rundir_same(int parent, const char *name, int fd)
{
	struct stat a, b;

	return fstatat(parent, name, &a, AT_SYMLINK_NOFOLLOW) == 0 && fstat(fd, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int sg_rundir_same_mount(int a, int b)
{
	struct statx x, y;
	struct stat s, t;

	if (fstat(a, &s) != 0 || fstat(b, &t) != 0 || s.st_dev != t.st_dev)
		return 0;
	/* A bind of a folder of the same file system has its st_dev: the mount ids tell. */
	if (statx(a, "", AT_EMPTY_PATH, STATX_MNT_ID, &x) != 0 ||
	    statx(b, "", AT_EMPTY_PATH, STATX_MNT_ID, &y) != 0 ||
	    !(x.stx_mask & y.stx_mask & STATX_MNT_ID))
		return 1;
	return x.stx_mnt_id == y.stx_mnt_id;
}

void sg_rundir_empty(int fd, int depth)
{
	DIR *d;
	struct dirent *ent;
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (dup_fd < 0 || !(d = fdopendir(dup_fd))) {
		if (dup_fd >= 0)
			close(dup_fd);
		return;
	}
	while ((ent = readdir(d)) != NULL) {
		int sub;
		if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
			continue;
		if (unlinkat(fd, ent->d_name, 0) == 0 || errno != EISDIR || depth <= 0)
			continue;
		/* A folder of the run's (a child's output folder): emptied, never followed. */
		sub = openat(fd, ent->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		/* A mount point (a bind of some other folder) is never entered. */
		if (!sg_rundir_same_mount(fd, sub)) {
			close(sub);
			continue;
		}
		sg_rundir_empty(sub, depth - 1);
		close(sub);
		unlinkat(fd, ent->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

void sg_workdir_remove(sg_workdir *wd)
{
	if (!wd)
		return;
	/*
	 * Through the descriptors taken when it was made: a link put at its name
	 * (by whoever may write the folder above) is never followed, and the
	 * name is removed only while it is a folder (an empty one).
	 */
	if (wd->fd >= 0) {
		sg_rundir_empty(wd->fd, SG_RUNDIR_DEPTH);
		if (wd->parent_fd >= 0 && wd->name &&
		    sg_rundir_same(wd->parent_fd, wd->name, wd->fd))
			unlinkat(wd->parent_fd, wd->name, AT_REMOVEDIR);
		close(wd->fd); /* and with it the lock */
	}
	if (wd->parent_fd >= 0)
		close(wd->parent_fd);
	free(wd->path);
	*wd = (sg_workdir)SG_WORKDIR_INIT;
}

/*
 * The left-overs of killed runs (issue 13): a run's private folders are
 * locked while it lives (lib/workdir.c), so a folder of ours whose lock
 * nobody holds belongs to a run that ended without removing it. Process ids
 * are not looked at: they mean nothing across containers that share a
 * folder. See sg_leftovers_clean() in signgate/util.h.
 */
#include "signgate/util.h"
#include "signgate/error.h"
#include "workdir_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A pending folder is locked a few system calls after it is made: older, it is left over. */
#define PENDING_AGE 60

static int named(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(name, prefix, n) != 0 || strlen(name) != n + 6)
		return 0;
	for (const char *p = name + n; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

/* -1: not ours; 0: ours, any age; else the age in seconds a pending one must have. */
static int kind_of(const char *name, unsigned kind)
{
	const char *prefix = kind == SG_LEFTOVERS_STAGE ? SG_STAGE_PREFIX : SG_WORKDIR_PREFIX;
	const char *pending = kind == SG_LEFTOVERS_STAGE ? SG_STAGE_PENDING : SG_WORKDIR_PENDING;

	if (named(name, pending))
		return PENDING_AGE;
	return named(name, prefix) ? 0 : -1;
}

/*
 * Remove `name` in `parent` when it is clearly ours and no run holds it: a
 * real folder (not a link, not a mount point), owned by us, mode 0700, old
 * enough, unlocked, and still at its name once locked. 1 when it was removed.
 */
static int remove_if_left(int parent, const char *name, int min_age)
{
	struct stat st;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), gone = 0;

	if (fd < 0)
		return 0;
	/* Not a mount point either: a bind of another folder at the name is not ours. */
	if (fstat(fd, &st) == 0 && sg_rundir_same_mount(parent, fd) && S_ISDIR(st.st_mode) &&
	    st.st_uid == geteuid() && (st.st_mode & 07777) == 0700 &&
	    time(NULL) - st.st_mtime >= min_age && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    sg_rundir_same(parent, name, fd)) {
		sg_rundir_empty(fd, SG_RUNDIR_DEPTH);
		gone = unlinkat(parent, name, AT_REMOVEDIR) == 0;
	}
	close(fd); /* and the lock, if taken */
	return gone;
}

int sg_leftovers_clean(const char *dir, unsigned kind, sg_leftovers_fn fn, void *arg,
		       size_t *removed)
{
	struct dirent *ent;
	struct stat st;
	DIR *d;
	int parent = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), scan, error = SG_OK;

	if (removed)
		*removed = 0;
	/* Nothing to clean where there is no folder, or where others could have put it. */
	if (parent < 0)
		return SG_OK;
	if (fstat(parent, &st) != 0 || !sg_rundir_safe_parent(&st) ||
	    (scan = fcntl(parent, F_DUPFD_CLOEXEC, 0)) < 0 || !(d = fdopendir(scan))) {
		close(parent);
		return SG_OK;
	}
	while ((ent = readdir(d)) != NULL) {
		int min_age = kind_of(ent->d_name, kind);
		char *path;
		if (min_age < 0 || !remove_if_left(parent, ent->d_name, min_age))
			continue;
		if (removed)
			(*removed)++;
		if (!fn)
			continue;
		if (!(path = sg_path_join(dir, ent->d_name))) {
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
			break;
		}
		fn(path, arg);
		free(path);
	}
	closedir(d);
	close(parent);
	return error;
}

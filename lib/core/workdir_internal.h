/* Shared by lib/workdir.c and lib/leftovers.c: the names and removal of run folders. */
#ifndef SIGNGATE_WORKDIR_INTERNAL_H
#define SIGNGATE_WORKDIR_INTERNAL_H

#include <sys/stat.h>

/*
 * Names: a prefix and six characters of [A-Za-z0-9]. A folder is made under
 * its pending name and renamed to its final one once locked.
 */
#define SG_WORKDIR_PREFIX  "signgate-work."
#define SG_WORKDIR_PENDING "signgate-new."
#define SG_STAGE_PREFIX    ".signgate-"
#define SG_STAGE_PENDING   ".signgate-new."

/* How deep a run's folder may hold folders of its own (a child's output folder). */
#define SG_RUNDIR_DEPTH 4

/* 1 when no one but root and us can rearrange the entries of the folder `st`. */
int sg_rundir_safe_parent(const struct stat *st);

/* 1 when `name` in the folder `parent` is (not a link to) the file open as `fd`. */
int sg_rundir_same(int parent, const char *name, int fd);

/* 1 when the folders open as `a` and `b` are on the same mount (neither a bind). */
int sg_rundir_same_mount(int a, int b);
/*
 * Remove everything inside the folder open as `fd`, at most `depth` folders
 * deep, with *at() calls relative to it: no link is followed. Errors are
 * ignored (what remains makes the folder's own removal fail).
 */
void sg_rundir_empty(int fd, int depth);

#endif

/* The inbox service's own pieces, shared by watch.c and watch_outcome.c. */
#ifndef SIGNGATE_WATCH_INTERNAL_H
#define SIGNGATE_WATCH_INTERNAL_H

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "signgate/watch.h"

struct sg_watch {
	char *inbox, *outbox, *rejected, *work, *audit_log;
	int inbox_fd, outbox_fd, rejected_fd, work_fd; /* work_fd holds the lock */
	struct stat inbox_st;
};

#define WATCH_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* The name of a claim's outcome file, inside its folder. */
#define WATCH_OUTCOME ".outcome"
/* Claim folders: "claim.TIME.XXXXXX", then "claim.TIME.XXXXXX.uUID" once examined. */
#define WATCH_CLAIM_PREFIX "claim."

/*
 * Finish claim `c`, which has no outcome file: when the audit log holds a
 * record of its input (a crash after the pipeline recorded it), write the
 * outcome from that record, first moving a signed output left in a stage
 * folder of the outbox into place. Returns SG_OK (`*found` 1 when a record
 * was found), SG_ERR_TAMPER or SG_ERR_IO (the log), SG_ERR_NOMEM.
 */
int watch_recover_from_log(sg_watch *w, sg_watch_claim *c, int *found);

/*
 * A DIR on a duplicate of the folder descriptor `fd`, read from its start
 * (a duplicate shares the offset a reader before left at the end); NULL on
 * failure. closedir() it.
 */
DIR *watch_opendir(int fd);

/* Remove the claim folder `dir` (in the work folder) and what is in it. */
void watch_claim_remove(sg_watch *w, const char *dir);
int watch_shared_inbox(const sg_watch *w);

#endif

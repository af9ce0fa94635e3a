/*
 * The inbox service (`signgate watch`): files dropped into an inbox folder
 * are claimed, decided and signed by the ordinary pipeline (pipeline.h,
 * batch.h) into an outbox, or moved to a rejected folder with a
 * NAME.reason file. This module owns the folders and the states of a file;
 * the command runs the pipeline.
 *
 * A file is complete when it appears under its final name: writers write
 * NAME.part (or a dot-file) and rename it to NAME. Names starting with '.'
 * or ending in ".part" are never taken.
 *
 * The states of a dropped file, each a place on disk, so that a crash at
 * any point leaves a state that sg_watch_scan() finishes:
 *
 *   INBOX/NAME                      dropped, not claimed
 *   WORK/claim.TIME.XXXXXX/NAME     claimed (one rename), not yet examined
 *   WORK/claim.TIME.XXXXXX.uUID/NAME
 *                                   examined: UID is the file's owner (fstat),
 *                                   the dropper; this path is the input the
 *                                   audit record names
 *   .../.outcome                    the pipeline decided; its audit record id
 *   OUTBOX/NAME or REJECTED/NAME + REJECTED/NAME.reason
 *                                   published; the claim folder is removed
 *
 * WORK is the folder "work" beside INBOX (created 0700); the process that
 * holds its flock() is the one watcher of this inbox.
 */
#ifndef SIGNGATE_WATCH_H
#define SIGNGATE_WATCH_H

#include <stddef.h>
#include <sys/types.h>

#include "signgate/pipeline.h"

typedef struct sg_watch sg_watch;

/* One claimed file. */
typedef struct sg_watch_claim {
	char *dir;    /* the claim folder, absolute */
	char *name;   /* the name it was dropped under */
	char *input;  /* dir/name: the pipeline's input */
	char *output; /* OUTBOX/name */
	uid_t uid;    /* its owner: the dropper */
	/* Not "": refused before it is read (a link, not a regular file, ...). */
	char refuse[256];
	int published; /* its outcome is published; nothing left to do */
} sg_watch_claim;

/*
 * Open the watcher's folders: `inbox` (a folder owned by root or the
 * effective user; others may write it only with the sticky bit), `outbox`
 * (must exist; held to the output folder rule, sg_workdir_check_parent()),
 * `rejected` (NULL: "rejected" beside the inbox; created when missing) and
 * the work folder "work" beside the inbox (created 0700; must be the
 * effective user's, 0700, a real folder, on the inbox's file system). The
 * folder holding the inbox is held to the strict rule (strict.h): no one
 * else may rename the folders in it. `audit_log` (copied) is where records
 * are looked for after a crash. Takes the work folder's lock: a second
 * watcher receives SG_ERR_EXISTS ("WORK: another signgate watch holds this
 * inbox"). Returns SG_OK, SG_ERR_CONFIG (a folder fails its rule, missing),
 * SG_ERR_EXISTS, SG_ERR_IO, SG_ERR_NOMEM.
 */
int sg_watch_open(sg_watch **out, const char *inbox, const char *outbox, const char *rejected,
		  const char *audit_log);

/* Close the folders and release the lock; NULL is accepted. */
void sg_watch_free(sg_watch *w);

/* The inbox, outbox, rejected and work folders (absolute). */
const char *sg_watch_inbox(const sg_watch *w);
const char *sg_watch_outbox(const sg_watch *w);
const char *sg_watch_rejected(const sg_watch *w);
const char *sg_watch_work(const sg_watch *w);

/* What a pass tells its caller as it goes (each may be NULL). */
typedef struct sg_watch_events {
	/*
	 * A file was published: `rejected_as` NULL when it was signed into
	 * the outbox, else its name in the rejected folder.
	 */
	void (*published)(const sg_watch_claim *c, const char *rejected_as, const char *decision,
			  const char *message, const char *audit_id, void *arg);
	/*
	 * A file that could not be claimed or published this pass (it stays
	 * where it is, for the next pass): `message` says which and why.
	 */
	void (*problem)(const char *message, void *arg);
	void *arg;
} sg_watch_events;

/*
 * How many signing runs may die (killed, crashed) with a claim in hand
 * before it is refused unread ("the signing run ended N times ..."): a file
 * that kills the run is not retried for ever.
 */
#define SG_WATCH_MAX_STARTS 3

/*
 * In the signing run, before claim `c` is read: mark that a run started
 * it (".started.N" in its folder). Returns SG_OK or SG_ERR_IO.
 */
int sg_watch_mark_started(const sg_watch_claim *c);

/*
 * One pass: finish the claims a crash left (an outcome written: publish it;
 * a record of the claim in the audit log: publish that; a signed output
 * still in a left-over stage folder of the outbox: move it into place),
 * claim the complete files of the inbox (at most `max` claims in all), and
 * examine each claim (owner, type, links). `*out` receives the claims the
 * pipeline must still run (refused ones too: they need a record), `*n`
 * their count; free them with sg_watch_claims_free(). `ev` (may be NULL)
 * is told each outcome published during the pass and each file left for a
 * problem of its own (`*problems` counts them; the pass goes on). Returns
 * SG_OK, SG_ERR_IO (the inbox or work folder cannot be read), SG_ERR_NOMEM.
 */
int sg_watch_scan(sg_watch *w, size_t max, sg_watch_claim **out, size_t *n, size_t *problems,
		  const sg_watch_events *ev);

void sg_watch_claims_free(sg_watch_claim *c, size_t n);

/*
 * After the pipeline ran claim `c` (or recorded its refusal): write its
 * outcome beside it (".outcome", atomically), from `r`. A result with no
 * audit record (nothing was recorded: the job never started) is not written
 * and returns SG_ERR_IO: the claim stays and is run again. Returns SG_OK,
 * SG_ERR_IO, SG_ERR_NOMEM.
 */
int sg_watch_write_outcome(const sg_watch_claim *c, const sg_outcome *r);

/*
 * Publish the outcomes written for `c` (sg_watch_write_outcome()): signed,
 * the claim folder is removed (the output is in the outbox already);
 * otherwise REJECTED/NAME.reason is written and the file moved to
 * REJECTED/NAME (NAME.1, NAME.2, ... when taken; a name too long for the
 * suffixes is cut). Returns SG_OK with
 * c->published set, SG_OK with it unset when there is no outcome yet,
 * SG_ERR_IO, SG_ERR_NOMEM.
 */
int sg_watch_publish(sg_watch *w, sg_watch_claim *c, const sg_watch_events *ev);

#endif

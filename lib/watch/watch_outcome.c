/*
 * The inbox service's outcomes (signgate/watch.h): the ".outcome" file of a
 * claim, publishing it (the claim removed, or the file moved to the
 * rejected folder beside its NAME.reason), and after a crash, the outcome
 * found again in the audit log.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "signgate/audit.h"
#include "signgate/audit_query.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/util.h"
#include "watch_internal.h"

#define OUTCOME_MAX  (64 * 1024)
#define REJECT_TRIES 1000

/* The outcome as written beside the claim. */
typedef struct outcome {
	char decision[32], status[32], audit_id[SG_AUDIT_ID_LEN];
	char output_sha256[65];
	char message[SG_ERROR_MAX];
	char rejected_as[NAME_MAX + 1]; /* "": not chosen yet */
} outcome;

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static int outcome_save(const sg_watch_claim *c, const outcome *o)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "name", c->name,
			      "decision", o->decision, "status", o->status, "audit_id", o->audit_id,
			      "output_sha256", o->output_sha256, "message", o->message,
			      "rejected_as", o->rejected_as, "uid", (int)c->uid);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL, *path;
	int error;

	json_decref(j);
	if (!text)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	path = sg_path_join(c->dir, WATCH_OUTCOME);
	error = path ? sg_publish_bytes(path, text, strlen(text), 0600, 1)
		     : sg_error_set(SG_ERR_NOMEM, "out of memory");
	free(text);
	free(path);
	return error;
}

/* Read the outcome of `c`: SG_OK with `*have` 0 when there is none yet. */
static int outcome_load(const sg_watch_claim *c, outcome *o, int *have)
{
	char *path = sg_path_join(c->dir, WATCH_OUTCOME);
	unsigned char *text = NULL;
	size_t len;
	json_t *j;
	int error;

	*have = 0;
	memset(o, 0, sizeof(*o));
	if (!path)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = sg_read_file(&text, &len, path, OUTCOME_MAX, NULL, SG_READ_MISSING_OK);
	free(path);
	if (error || !text)
		return error;
	j = json_loadb((const char *)text, len, 0, NULL);
	free(text);
	if (!json_is_object(j)) {
		json_decref(j);
		return sg_error_set(SG_ERR_IO, "%s/%s: not an outcome", c->dir, WATCH_OUTCOME);
	}
	copy_str(o->decision, sizeof(o->decision),
		 json_string_value(json_object_get(j, "decision")));
	copy_str(o->status, sizeof(o->status), json_string_value(json_object_get(j, "status")));
	copy_str(o->audit_id, sizeof(o->audit_id),
		 json_string_value(json_object_get(j, "audit_id")));
	copy_str(o->output_sha256, sizeof(o->output_sha256),
		 json_string_value(json_object_get(j, "output_sha256")));
	copy_str(o->message, sizeof(o->message), json_string_value(json_object_get(j, "message")));
	copy_str(o->rejected_as, sizeof(o->rejected_as),
		 json_string_value(json_object_get(j, "rejected_as")));
	json_decref(j);
	*have = 1;
	return SG_OK;
}

int sg_watch_write_outcome(const sg_watch_claim *c, const sg_outcome *r)
{
	outcome o;

	if (!r->audit_id[0])
		return sg_error_set(SG_ERR_IO, "%s: not recorded, left to run again: %s", c->name,
				    r->message);
	memset(&o, 0, sizeof(o));
	copy_str(o.decision, sizeof(o.decision), r->decision ? r->decision : "failed");
	copy_str(o.status, sizeof(o.status), sg_status_name(r->status));
	copy_str(o.audit_id, sizeof(o.audit_id), r->audit_id);
	copy_str(o.message, sizeof(o.message), r->message);
	if (r->have_output)
		copy_str(o.output_sha256, sizeof(o.output_sha256), r->output.sha256_hex);
	return outcome_save(c, &o);
}

/* ---- publishing ---- */

static int ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), m = strlen(end);

	return n >= m && strcmp(s + n - m, end) == 0;
}

/*
 * A name NAME, NAME.1, ... free in the rejected folder, with its .reason
 * free too; NAME is cut to leave room for ".NNN.reason".
 */
static int choose_rejected_name(sg_watch *w, const sg_watch_claim *c, outcome *o)
{
	char name[NAME_MAX + 1], reason[NAME_MAX + 1];
	/* Room for ".dropped" and ".NNN.reason", or for the claim's own name. */
	int keep = (int)strlen(c->name) > NAME_MAX - 64 ? NAME_MAX - 64 : (int)strlen(c->name);
	/* A rejected file's name never ends in ".reason": only reasons do. */
	const char *tail = ends_with(c->name, ".reason") ? ".dropped" : "";
	struct stat st;

	for (int i = 0; i <= REJECT_TRIES; i++) {
		if (i == REJECT_TRIES) /* the claim folder's name is ours alone */
			snprintf(name, sizeof(name), "%.*s%s.%s", keep, c->name, tail,
				 sg_path_base(c->dir));
		else if (i)
			snprintf(name, sizeof(name), "%.*s%s.%d", keep, c->name, tail, i);
		else
			snprintf(name, sizeof(name), "%.*s%s", keep, c->name, tail);
		snprintf(reason, sizeof(reason), "%.*s.reason", NAME_MAX - 7, name);
		if (fstatat(w->rejected_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 &&
		    fstatat(w->rejected_fd, reason, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			copy_str(o->rejected_as, sizeof(o->rejected_as), name);
			return outcome_save(c, o);
		}
	}
	return sg_error_set(SG_ERR_IO, "%s: no free name for %s in the rejected folder",
			    w->rejected, c->name);
}

/* `s` with control characters as '?': one value, one line of the .reason. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* The text of NAME.reason: what was decided, why, and the record that says so. */
static char *reason_text(const sg_watch_claim *c, const outcome *o)
{
	struct passwd pw, *res = NULL;
	char buf[4096], who[300], name[NAME_MAX + 1];
	size_t cap = strlen(o->message) + strlen(c->input) + 2048;
	char *text = malloc(cap), *msg = strdup(o->message), *input = strdup(c->input);

	if (!text || !msg || !input) {
		free(text);
		free(msg);
		free(input);
		return NULL;
	}
	if (getpwuid_r(c->uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(who, sizeof(who), "uid %u (%s)", (unsigned)c->uid, pw.pw_name);
	else
		snprintf(who, sizeof(who), "uid %u", (unsigned)c->uid);
	/* A dropped name is anybody's text: it may not start a line of its own. */
	snprintf(name, sizeof(name), "%s", c->name);
	one_line(name);
	one_line(msg);
	one_line(input);
	one_line(who);
	snprintf(text, cap,
		 "file: %s\n"
		 "rejected by: signgate watch\n"
		 "decision: %s\n"
		 "status: %s\n"
		 "reason: %s\n"
		 "audit record: %s\n"
		 "file owner: %s\n"
		 "claimed as: %s\n",
		 name, o->decision, o->status, msg, o->audit_id, who, input);
	free(msg);
	free(input);
	return text;
}

/* The temporary files ".NAME.reason.XXXXXX" a crash left in the rejected folder. */
static void remove_reason_temps(sg_watch *w, const char *reason_name)
{
	DIR *d = watch_opendir(w->rejected_fd);
	size_t len = strlen(reason_name);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] == '.' && strncmp(e->d_name + 1, reason_name, len) == 0 &&
		    e->d_name[1 + len] == '.' && strlen(e->d_name) == len + 8)
			unlinkat(w->rejected_fd, e->d_name, 0);
	if (d)
		closedir(d);
}

/* Claim folder `c->dir` itself into the rejected folder as rejected_as: it holds the entry. */
static int move_claim_folder(sg_watch *w, const sg_watch_claim *c, const outcome *o)
{
	if (renameat2(w->work_fd, sg_path_base(c->dir), w->rejected_fd, o->rejected_as,
		      RENAME_NOREPLACE) != 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot move to %s/%s: %s", c->dir,
				    w->rejected, o->rejected_as, strerror(errno));
	fsync(w->work_fd);
	return SG_OK;
}

static int publish_rejected(sg_watch *w, sg_watch_claim *c, outcome *o)
{
	char reason_name[NAME_MAX + 1], *reason_path = NULL, *text = NULL;
	int dfd, error = SG_OK;

	if (!o->rejected_as[0] && (error = choose_rejected_name(w, c, o)) != SG_OK)
		return error;
	if (snprintf(reason_name, sizeof(reason_name), "%.*s.reason", NAME_MAX - 7,
		     o->rejected_as) >= (int)sizeof(reason_name))
		return sg_error_set(SG_ERR_IO, "%s: name too long", o->rejected_as);
	if (!(reason_path = sg_path_join(w->rejected, reason_name)) || !(text = reason_text(c, o)))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	/* Our own name, chosen free and written again after a crash with the same text. */
	if (!error)
		remove_reason_temps(w, reason_name);
	if (!error)
		error = sg_publish_bytes(reason_path, text, strlen(text), 0644, 1);
	free(reason_path);
	free(text);
	if (error)
		return error;
	dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return sg_error_set(SG_ERR_IO, "%s: %s", c->dir, strerror(errno));
	if (renameat2(dfd, c->name, w->rejected_fd, o->rejected_as, RENAME_NOREPLACE) != 0) {
		if (errno == EACCES || errno == EPERM)
			/* A dropped folder we may not move: the claim folder (ours) goes instead. */
			error = move_claim_folder(w, c, o);
		else if (errno != ENOENT)
			error = sg_error_set(SG_ERR_IO, "%s: cannot move to %s/%s: %s", c->input,
					     w->rejected, o->rejected_as, strerror(errno));
	}
	close(dfd);
	if (!error && fsync(w->rejected_fd) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot sync: %s", w->rejected,
				     strerror(errno));
	return error;
}

int sg_watch_publish(sg_watch *w, sg_watch_claim *c, const sg_watch_events *ev)
{
	outcome *o = calloc(1, sizeof(*o));
	int have = 0, error, rejected;
	struct stat st;

	if (!o)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = outcome_load(c, o, &have);
	if (error || !have) {
		free(o);
		return error;
	}
	/*
	 * "skipped" (the input was ours already) leaves no output: the dropper
	 * receives it back. A "signed" one was published (a reader may have taken
	 * it since).
	 */
	rejected = strcmp(o->status, sg_status_name(SG_OK)) != 0 ||
		   (strcmp(o->decision, "signed") != 0 &&
		    fstatat(w->outbox_fd, c->name, &st, AT_SYMLINK_NOFOLLOW) != 0);
	if (rejected)
		error = publish_rejected(w, c, o);
	if (!error) {
		watch_claim_remove(w, c->dir);
		c->published = 1;
		if (ev && ev->published)
			ev->published(c, rejected ? o->rejected_as : NULL, o->decision, o->message,
				      o->audit_id, ev->arg);
	}
	free(o);
	return error;
}

/* ---- after a crash: the audit log ---- */

typedef struct search {
	const sg_watch_claim *c;
	const char *needle; /* the claim folder's name: in every record of it */
	outcome o;
	int found;
} search;

static int keep_line(const char *line, size_t len, void *arg)
{
	const search *s = arg;

	return memmem(line, len, s->needle, strlen(s->needle)) != NULL;
}

/* The record's reasons (or error) as one line. */
static void record_message(char *out, size_t cap, const json_t *rec)
{
	const json_t *reasons = json_object_get(rec, "reasons"), *r;
	const char *error = json_string_value(json_object_get(rec, "error"));
	size_t i, len = 0;

	out[0] = '\0';
	json_array_foreach(reasons, i, r) {
		int n = snprintf(out + len, cap - len, "%s%s", len ? "; " : "",
				 json_string_value(r) ? json_string_value(r) : "");
		if (n < 0 || (size_t)n >= cap - len)
			return;
		len += (size_t)n;
	}
	if (!len && error)
		snprintf(out, cap, "%s", error);
}

static int each_record(const json_t *rec, size_t line, void *arg)
{
	search *s = arg;
	const char *in = sg_audit_field(rec, "input.path"), *act = sg_audit_field(rec, "action");

	(void)line;
	if (!in || strcmp(in, s->c->input) != 0 || !act || strcmp(act, "sign") != 0)
		return 0;
	memset(&s->o, 0, sizeof(s->o));
	copy_str(s->o.decision, sizeof(s->o.decision), sg_audit_field(rec, "decision"));
	copy_str(s->o.status, sizeof(s->o.status), sg_audit_field(rec, "status"));
	copy_str(s->o.audit_id, sizeof(s->o.audit_id), sg_audit_field(rec, "id"));
	copy_str(s->o.output_sha256, sizeof(s->o.output_sha256),
		 sg_audit_field(rec, "output.sha256"));
	record_message(s->o.message, sizeof(s->o.message), rec);
	s->found = 1;
	return 0;
}

/* 1 when the file `name` in the folder `dfd` is a regular file of SHA-256 `want`. */
static int file_has_sha256(int dfd, const char *name, const char *want)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	sg_digests d;
	int same = 0;

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    sg_hash_stream_some(&d, fd, -1, name, SG_DIGEST_SHA256) == SG_OK)
		same = strcmp(d.sha256_hex, want) == 0;
	close(fd);
	return same;
}

/* Move the file of SHA-256 `sha256` in the stage folder `sfd` to OUTBOX/name: 1 when done. */
static int rescue_in(sg_watch *w, int sfd, const char *name, const char *sha256)
{
	DIR *d = watch_opendir(sfd);
	struct dirent *e;
	int done = 0;

	while (d && !done && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && file_has_sha256(sfd, e->d_name, sha256) &&
		    renameat2(sfd, e->d_name, w->outbox_fd, name, RENAME_NOREPLACE) == 0) {
			fsync(w->outbox_fd);
			done = 1;
		}
	if (d)
		closedir(d);
	return done;
}

/*
 * The output of a "signed" record whose run died before it left its stage
 * folder (".signgate-*" in the outbox, no longer locked; the signed file
 * there is named as the pipeline names it): found by its SHA-256, which the
 * record holds, and moved into place. Returns 1 when it was, 0 when no such
 * file is left.
 */
static int rescue_from_stage(sg_watch *w, const sg_watch_claim *c, const char *sha256)
{
	DIR *d = watch_opendir(w->outbox_fd);
	struct dirent *e;
	int done = 0;

	while (d && !done && (e = readdir(d)) != NULL) {
		int sfd;
		if (strncmp(e->d_name, ".signgate-", 10) != 0)
			continue;
		sfd = openat(w->outbox_fd, e->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0)
			continue;
		if (flock(sfd, LOCK_EX | LOCK_NB) == 0)
			done = rescue_in(w, sfd, c->name, sha256);
		close(sfd);
	}
	if (d)
		closedir(d);
	return done;
}

int watch_recover_from_log(sg_watch *w, sg_watch_claim *c, int *found)
{
	search *s = calloc(1, sizeof(*s));
	int error;

	*found = 0;
	if (!s)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	s->c = c;
	s->needle = sg_path_base(c->dir);
	error = w->audit_log ? sg_audit_foreach_where(w->audit_log, keep_line, each_record, s)
			     : SG_OK;
	if (error == SG_ERR_IO && !sg_path_exists(w->audit_log))
		error = SG_OK;
	/*
	 * Signed: the pipeline records before it publishes, and a failed
	 * publication is recorded too (a later record of the claim cancels it).
	 * So the output was published, unless the run died in between: then
	 * it is still in its stage folder (left-overs are removed only after
	 * this recovery), and is moved into place. Not in the outbox now: a
	 * reader took it; signing again would process the file twice.
	 */
	if (!error && s->found && strcmp(s->o.status, sg_status_name(SG_OK)) == 0 &&
	    s->o.output_sha256[0] && !file_has_sha256(w->outbox_fd, c->name, s->o.output_sha256))
		rescue_from_stage(w, c, s->o.output_sha256);
	if (!error && s->found) {
		error = outcome_save(c, &s->o);
		*found = !error;
	}
	free(s);
	return error;
}

/* The hash-chained audit log, append path; see include/signgate/audit.h. */
#include "signgate/audit.h"
#include "signgate/util.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/osslsigncode.h"
#include "audit_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uuid/uuid.h>

#define TAIL_BLOCK   4096
#define OPEN_RETRIES 8

/* Where a CI system says which job runs us, most specific first. */
static const char *const build_id_vars[] = {
	"SIGNGATE_BUILD_ID", "CI_JOB_ID", "BUILD_TAG", "GITHUB_RUN_ID", "BUILD_BUILDID",
};

/* sg_audit_set_osslsigncode_version(): one value per process, set before any thread. */
static char osslsigncode_version[SG_OSSLSIGNCODE_VERSION_MAX];

void sg_audit_set_osslsigncode_version(const char *version)
{
	snprintf(osslsigncode_version, sizeof(osslsigncode_version), "%s", version ? version : "");
}

/* "signgate_version" and "osslsigncode_version" (null when this run used none). */
static int add_versions(json_t *rec)
{
	return json_object_set_new(rec, "signgate_version", json_string(SG_VERSION)) ||
	       json_object_set_new(rec, "osslsigncode_version",
				   osslsigncode_version[0] ? json_string(osslsigncode_version)
							   : json_null());
}

/* The effective user's name, or the uid as text when it has none. */
static json_t *user_name(uid_t uid)
{
	struct passwd pw, *found = NULL;
	char buf[16384];
	json_t *name = NULL;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found)
		name = json_string(found->pw_name);
	return name ? name : json_sprintf("%lu", (unsigned long)uid);
}

/* Add "build_id" and "build_id_source" from the first CI variable set. */
static int add_build_id(json_t *actor)
{
	for (size_t i = 0; i < ARRAY_SIZE(build_id_vars); i++) {
		const char *value = secure_getenv(build_id_vars[i]);

		if (!value || !*value)
			continue;
		return json_object_set_new(actor, "build_id", json_string(value)) ||
		       json_object_set_new(actor, "build_id_source", json_string(build_id_vars[i]));
	}
	return 0;
}

static int make_actor(json_t **out)
{
	char host[HOST_NAME_MAX + 1];
	uid_t uid = geteuid();
	json_t *actor;

	*out = NULL;
	if (gethostname(host, sizeof(host)) != 0)
		return sg_error_set(SG_ERR_IO, "cannot read the host name: %s", strerror(errno));
	host[sizeof(host) - 1] = '\0';
	actor = json_object();
	if (!actor || json_object_set_new(actor, "user", user_name(uid)) ||
	    json_object_set_new(actor, "uid", json_integer(uid)) ||
	    json_object_set_new(actor, "host", json_string(host)) || add_build_id(actor)) {
		json_decref(actor);
		return sg_error_set(SG_ERR_NOMEM, "cannot describe the actor of an audit record "
						  "(out of memory, or the host name or build id "
						  "is not UTF-8)");
	}
	*out = actor;
	return SG_OK;
}

int sg_audit_utc_now(char out[TIME_LEN + 1])
{
	struct timespec ts;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || !gmtime_r(&ts.tv_sec, &tm) ||
	    strftime(out, TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != TIME_LEN)
		return sg_error_set(SG_ERR_IO, "cannot read the clock");
	return SG_OK;
}

/* The caller's fields plus the library's, "hash" last since it covers the rest. */
static int build_record(json_t **out, const json_t *fields, json_int_t seq, const char *prev,
			char id[SG_AUDIT_ID_LEN])
{
	char when[TIME_LEN + 1], hash[HEX_LEN + 1];
	json_t *rec, *actor;
	uuid_t uu;
	int error;

	*out = NULL;
	error = make_actor(&actor);
	if (!error)
		error = sg_audit_utc_now(when);
	if (error) {
		json_decref(actor);
		return error;
	}
	uuid_generate_random(uu);
	uuid_unparse_lower(uu, id);
	rec = json_deep_copy(fields);
	if (!rec || json_object_set_new(rec, "actor", actor) ||
	    json_object_set_new(rec, "id", json_string(id)) ||
	    json_object_set_new(rec, "time", json_string(when)) ||
	    json_object_set_new(rec, "seq", json_integer(seq)) ||
	    json_object_set_new(rec, "prev", json_string(prev)) || add_versions(rec)) {
		if (!rec)
			json_decref(actor);
		json_decref(rec);
		return sg_error_set(SG_ERR_NOMEM, "out of memory while building an audit record");
	}
	error = sg_audit_content_hash(hash, rec);
	if (!error && json_object_set_new(rec, "hash", json_string(hash)))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory while building an audit record");
	if (error)
		json_decref(rec);
	else
		*out = rec;
	return error;
}

/*
 * The new line, newline included, in one buffer for one write(). The line is
 * checked as verify will check it, so that nothing is appended that the log
 * could not read back (a string holding NUL, say).
 */
static int make_line(char **out, size_t *out_len, const char *path, const json_t *fields,
		     json_int_t seq, const char *prev, char id[SG_AUDIT_ID_LEN])
{
	char why[WHY_MAX];
	json_t *rec, *back;
	char *line, *grown;
	size_t len;
	int error;

	error = build_record(&rec, fields, seq, prev, id);
	if (error)
		return error;
	line = json_dumps(rec, DUMP_FLAGS);
	json_decref(rec);
	if (!line)
		return sg_error_set(SG_ERR_NOMEM, "%s: cannot serialize the audit record", path);
	len = strlen(line);
	if (len > SG_AUDIT_LINE_MAX) {
		free(line);
		return sg_error_set(SG_ERR_USAGE,
				    "%s: the audit record is %zu bytes; the limit is %d", path, len,
				    SG_AUDIT_LINE_MAX);
	}
	error = sg_audit_check_record(&back, line, len, why);
	json_decref(back);
	if (error == SG_ERR_TAMPER)
		error = sg_error_set(SG_ERR_USAGE,
				     "%s: the audit record cannot be stored faithfully: %s", path,
				     why);
	grown = error ? NULL : realloc(line, len + 1);
	if (!error && !grown)
		error = sg_error_set(SG_ERR_NOMEM, "%s: out of memory", path);
	if (error) {
		free(line);
		return error;
	}
	grown[len] = '\n';
	*out = grown;
	*out_len = len + 1;
	return SG_OK;
}

static int check_caller_record(const json_t *record)
{
	if (!json_is_object(record))
		return sg_error_set(SG_ERR_USAGE, "an audit record must be a JSON object");
	for (size_t i = 0; i < ARRAY_SIZE(sg_audit_lib_fields); i++)
		if (json_object_get(record, sg_audit_lib_fields[i].key))
			return sg_error_set(
				SG_ERR_USAGE,
				"an audit record must not set \"%s\": the library sets it",
				sg_audit_lib_fields[i].key);
	for (size_t i = 0; i < ARRAY_SIZE(sg_audit_lib_info_fields); i++)
		if (json_object_get(record, sg_audit_lib_info_fields[i]))
			return sg_error_set(
				SG_ERR_USAGE,
				"an audit record must not set \"%s\": the library sets it",
				sg_audit_lib_info_fields[i]);
	return SG_OK;
}

/* The folder of `path` (sg_path_dir), as an error code when out of memory. */
static int parent_of(char **dir, const char *path)
{
	*dir = sg_path_dir(path);
	return *dir ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/* Open or create the log; create its folder when that is what is missing. */
static int open_or_create(int *out, const char *path)
{
	const int flags = O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
	struct stat st;
	int fd = open(path, flags, 0600);

	if (fd < 0 && errno == ENOENT) {
		char *dir;
		int error = parent_of(&dir, path);

		if (error)
			return error;
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			error = sg_error_set(SG_ERR_IO, "%s: cannot create the folder %s: %s", path,
					     dir, strerror(errno));
		free(dir);
		if (error)
			return error;
		fd = open(path, flags, 0600);
	}
	if (fd < 0 && errno == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return sg_error_set(SG_ERR_IO, "%s: is a symbolic link; refusing to follow it",
				    path);
	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	*out = fd;
	return SG_OK;
}

/*
 * Open the log for appending and hold its exclusive lock. Reading the last
 * line needs O_RDWR, not O_WRONLY: we must read the very file we lock and
 * append to. A log renamed over while we waited for the lock (a repair, say)
 * is not the log any more, so then we open it again.
 */
static int open_locked(int *out, struct stat *st, const char *path)
{
	int fd = -1, error;

	for (int attempt = 0; attempt < OPEN_RETRIES; attempt++) {
		struct stat now = { 0 }; /* st_ino 0 names no file: a gone path is "replaced" */

		error = open_or_create(&fd, path);
		if (error)
			return error;
		error = sg_audit_lock(fd, LOCK_EX, path);
		if (!error && fstat(fd, st) != 0)
			error = sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", path,
					     strerror(errno));
		if (!error && !S_ISREG(st->st_mode))
			error = sg_error_set(SG_ERR_IO, "%s: not a regular file", path);
		if (!error && lstat(path, &now) != 0 && errno != ENOENT)
			error = sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", path,
					     strerror(errno));
		if (!error && now.st_ino == st->st_ino && now.st_dev == st->st_dev) {
			*out = fd;
			return SG_OK;
		}
		close(fd);
		if (error)
			return error;
	}
	return sg_error_set(SG_ERR_IO, "%s: the log kept being replaced while waiting for its lock",
			    path);
}

/*
 * Read `len` bytes at `off`; -1 with errno set otherwise. Under our lock, a
 * short read of a regular file means it shrank: that is an error too.
 */
static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n;

	do
		n = pread(fd, buf, len, off);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n != len)
		errno = EIO;
	return n >= 0 && (size_t)n == len ? 0 : -1;
}

/*
 * Find the start of the line that ends at offset `end` (its newline not
 * counted), reading backwards at most SG_AUDIT_LINE_MAX bytes. Returns 1 and
 * sets *start, 0 when the line is longer than that, -1 on a read error.
 */
static int line_start(int fd, off_t end, off_t *start)
{
	char block[TAIL_BLOCK];
	off_t pos = end;

	while (pos > 0 && end - pos <= SG_AUDIT_LINE_MAX) {
		size_t n = pos < TAIL_BLOCK ? (size_t)pos : TAIL_BLOCK;
		char *nl;

		pos -= (off_t)n;
		if (pread_all(fd, block, n, pos) != 0)
			return -1;
		nl = memrchr(block, '\n', n);
		if (nl) {
			*start = pos + (nl - block) + 1;
			return end - *start <= SG_AUDIT_LINE_MAX;
		}
	}
	*start = 0;
	return end <= SG_AUDIT_LINE_MAX;
}

/*
 * Read and check the line that ends at offset `end`. Returns SG_OK with the
 * record and the line's bytes (the caller frees both), SG_ERR_TAMPER with the
 * reason in `why`, SG_ERR_IO or SG_ERR_NOMEM.
 */
static int record_before(json_t **obj, char **line, size_t *len, int fd, off_t end,
			 const char *path, char *why)
{
	off_t start;
	int found = line_start(fd, end, &start);
	int error;

	*obj = NULL;
	*line = NULL;
	if (found < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
	if (!found)
		return sg_audit_tamper(why, "longer than %d bytes", SG_AUDIT_LINE_MAX);
	*len = (size_t)(end - start);
	*line = malloc(*len + 1);
	if (!*line)
		return sg_error_set(SG_ERR_NOMEM, "%s: out of memory", path);
	if (pread_all(fd, *line, *len, start) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
	else
		error = sg_audit_check_record(obj, *line, *len, why);
	if (error) {
		free(*line);
		*line = NULL;
	}
	return error;
}

/*
 * The log does not end in a newline: a write was cut short, or someone
 * edited the file. Name the torn line by the seq of the record before it.
 */
static int refuse_torn(int fd, off_t size, const char *path)
{
	char why[WHY_MAX], number[32] = "";
	json_t *obj = NULL;
	char *line = NULL;
	off_t start = 0;
	size_t len;

	if (line_start(fd, size, &start) == 1 && start == 0)
		snprintf(number, sizeof(number), " 1");
	else if (start > 0 && record_before(&obj, &line, &len, fd, start - 1, path, why) == SG_OK)
		snprintf(number, sizeof(number), " %llu",
			 (unsigned long long)json_integer_value(json_object_get(obj, "seq")) + 1);
	json_decref(obj);
	free(line);
	return sg_error_set(
		SG_ERR_TAMPER,
		"%s: last line%s is torn (no newline, an interrupted write?); nothing was "
		"appended: run `signgate audit repair` to set the torn bytes aside",
		path, number);
}

/*
 * Under the lock: the new record's seq and prev, from the log's last line.
 * Only that line is read; the chain before it is verify's business.
 */
static int chain_head(json_int_t *seq, char prev[HEX_LEN + 1], int fd, off_t size, const char *path)
{
	char why[WHY_MAX], last;
	json_t *obj;
	char *line;
	size_t len;
	int error;

	*seq = 1;
	memcpy(prev, sg_audit_zero_hash, sizeof(sg_audit_zero_hash));
	if (size == 0)
		return SG_OK;
	if (pread_all(fd, &last, 1, size - 1) != 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
	if (last != '\n')
		return refuse_torn(fd, size, path);
	error = record_before(&obj, &line, &len, fd, size - 1, path, why);
	if (error == SG_ERR_TAMPER)
		return sg_error_set(
			error,
			"%s: the last line is not a valid audit record (%s); nothing was "
			"appended; run `signgate audit verify`",
			path, why);
	if (error)
		return error;
	*seq = json_integer_value(json_object_get(obj, "seq"));
	if (*seq == LLONG_MAX)
		error = sg_error_set(SG_ERR_TAMPER, "%s: the last record's seq is at its maximum",
				     path);
	else
		error = sg_sha256_hex(prev, line, len);
	(*seq)++;
	json_decref(obj);
	free(line);
	return error;
}

/*
 * One write() of the whole line: under the lock nobody else writes, so a
 * short write can only be a full disk or an I/O error. We then cut the
 * partial line off again rather than leave a torn log or write a second
 * piece.
 */
static int write_line(int fd, const char *line, size_t len, off_t old_size, const char *path)
{
	const char *undo = "";
	ssize_t n;
	int saved;

	do
		n = write(fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len) {
		if (fsync(fd) != 0)
			return sg_error_set(SG_ERR_IO,
					    "%s: fsync failed: %s; the record may not be on disk",
					    path, strerror(errno));
		return SG_OK;
	}
	saved = errno;
	if (ftruncate(fd, old_size) != 0)
		undo = "; the log may now end in a torn line";
	if (n < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot write: %s%s", path, strerror(saved),
				    undo);
	return sg_error_set(SG_ERR_IO, "%s: short write (%zd of %zu bytes)%s", path, n, len, undo);
}

int sg_audit_append(const char *path, const json_t *record, char out_id[SG_AUDIT_ID_LEN])
{
	sg_audit_receipt r;
	int error = sg_audit_append_receipt(path, record, &r);

	if (!error && out_id)
		memcpy(out_id, r.id, sizeof(r.id));
	return error;
}

int sg_audit_append_receipt(const char *path, const json_t *record, sg_audit_receipt *out)
{
	char id[SG_AUDIT_ID_LEN], prev[HEX_LEN + 1];
	char *line = NULL;
	struct stat st;
	json_int_t seq;
	size_t len = 0;
	int fd = -1, error;

	if (!path || !*path)
		return sg_error_set(SG_ERR_USAGE, "no audit log path given");
	error = check_caller_record(record);
	if (error)
		return error;
	error = open_locked(&fd, &st, path);
	if (error)
		return error;
	error = chain_head(&seq, prev, fd, st.st_size, path);
	if (!error)
		error = make_line(&line, &len, path, record, seq, prev, id);
	if (!error)
		error = write_line(fd, line, len, st.st_size, path);
	if (!error && st.st_size == 0)
		error = sg_fsync_dir_of(path); /* a new name must reach the disk too */
	if (!error && out) {
		memcpy(out->id, id, sizeof(id));
		out->seq = (long long)seq;
		error = sg_sha256_hex(out->line_sha256, line, len - 1);
	}
	/* Unlock explicitly: a child forked meanwhile may hold a copy of fd. */
	flock(fd, LOCK_UN);
	close(fd);
	free(line);
	return error;
}

int sg_audit_head(const char *path, long long *seq, char head[65])
{
	struct stat st;
	json_int_t next;
	int fd, error;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	error = sg_audit_lock(fd, LOCK_SH, path);
	if (!error && fstat(fd, &st) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
	if (!error && !S_ISREG(st.st_mode))
		error = sg_error_set(SG_ERR_IO, "%s: not a regular file", path);
	if (!error)
		error = chain_head(&next, head, fd, st.st_size, path);
	flock(fd, LOCK_UN);
	close(fd);
	if (!error)
		*seq = (long long)next - 1;
	return error;
}

/*
 * Create the archive name "<log>.<UTC time>" (with "-2", "-3"... when taken)
 * as a new empty private file, so that no other rotation can take it.
 */
static int create_archive(int *fd, char *out, size_t size, const char *path)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm))
		return sg_error_set(SG_ERR_IO, "cannot read the time");
	for (int n = 1; n < 1000; n++) {
		if (n == 1)
			snprintf(out, size, "%s.%s", path, stamp);
		else
			snprintf(out, size, "%s.%s-%d", path, stamp, n);
		*fd = open(out, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (*fd >= 0)
			return SG_OK;
		if (errno != EEXIST)
			break;
	}
	return sg_error_set(SG_ERR_IO, "%s: cannot create the archive %s: %s", path, out,
			    strerror(errno));
}

/*
 * The new log (still the archive name) receives the old log's owner, group and
 * mode (read and write bits only), so that whoever appended to or read the
 * old log does so to the new one. As far as this account may: a group it
 * cannot give (not a member, or chown refused by a unit's system call
 * filter) leaves the group bits off, another owner (not root) its own. In a
 * setgid folder the file has the folder's group already: no chown is tried.
 */
static int keep_access(int fd, const struct stat *old, const char *path)
{
	mode_t mode = old->st_mode & 0660;
	struct stat now;

	if (fstat(fd, &now) != 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
	if (now.st_uid != old->st_uid || now.st_gid != old->st_gid) {
		if (fchown(fd, old->st_uid, old->st_gid) != 0)
			(void)!fchown(fd, (uid_t)-1, old->st_gid);
		if (fstat(fd, &now) != 0)
			return sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", path,
					    strerror(errno));
	}
	if (now.st_gid != old->st_gid)
		mode &= 0600;
	if (fchmod(fd, mode) != 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot set its mode: %s", path,
				    strerror(errno));
	return SG_OK;
}

/*
 * Under the old log's lock: write the new log's first record into the
 * archive name, then swap the two names in one step (RENAME_EXCHANGE). There
 * is no moment without a log at `path`, and no crash leaves a half-rotated
 * pair: before the swap the archive name holds a spare file, after it holds
 * the old log. Appends waiting for the old log's lock find it renamed and
 * open the new one (open_locked).
 */
static int rotate_locked(sg_audit_rotate_report *out, int fd, const struct stat *st,
			 const char *path)
{
	off_t size = st->st_size;
	char id[SG_AUDIT_ID_LEN], prev[HEX_LEN + 1];
	char *line = NULL, *base;
	json_int_t seq;
	json_t *rec;
	size_t len;
	int afd = -1, error;

	error = chain_head(&seq, prev, fd, size, path);
	if (error || size == 0)
		return error;
	error = create_archive(&afd, out->archive, sizeof(out->archive), path);
	if (error)
		return error;
	error = keep_access(afd, st, out->archive);
	base = strrchr(out->archive, '/');
	rec = json_pack("{s:s, s:s, s:{s:s, s:I, s:s}}", "action", "rotate", "decision", "rotated",
			"previous", "file", base ? base + 1 : out->archive, "last_seq", seq - 1,
			"head", prev);
	if (!error && !rec)
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error)
		error = make_line(&line, &len, path, rec, seq, prev, id);
	if (!error)
		error = write_line(afd, line, len, 0, out->archive);
	if (!error && renameat2(AT_FDCWD, out->archive, AT_FDCWD, path, RENAME_EXCHANGE) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot swap in the new log: %s", path,
				     strerror(errno));
	if (error)
		unlink(out->archive);
	else
		error = sg_fsync_dir_of(path);
	if (!error) {
		memcpy(out->record.id, id, sizeof(id));
		out->record.seq = (long long)seq;
		error = sg_sha256_hex(out->record.line_sha256, line, len - 1);
		out->last_seq = (long long)seq - 1;
		memcpy(out->head, prev, sizeof(prev));
	}
	close(afd);
	json_decref(rec);
	free(line);
	return error;
}

int sg_audit_rotate(const char *path, sg_audit_rotate_report *out)
{
	struct stat st;
	int fd = -1, error;

	memset(out, 0, sizeof(*out));
	/* open_locked() would create a missing log: there is nothing to rotate. */
	if (lstat(path, &st) != 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot rotate: %s", path, strerror(errno));
	error = open_locked(&fd, &st, path);
	if (error)
		return error;
	error = rotate_locked(out, fd, &st, path);
	flock(fd, LOCK_UN);
	close(fd);
	return error;
}

/* Copy [start, size) of the log into a new private quarantine file, fsynced. */
static int quarantine_tail(sg_audit_repair_report *out, int fd, off_t start, off_t size,
			   const char *path)
{
	size_t n = (size_t)(size - start);
	char *buf = malloc(n);
	int error = SG_OK;

	if (!buf)
		return sg_error_set(SG_ERR_NOMEM, "%s: out of memory", path);
	snprintf(out->quarantine, sizeof(out->quarantine), "%s.torn-%lld-%d", path,
		 (long long)time(NULL), (int)getpid());
	if (pread_all(fd, buf, n, start) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
	else
		error = sg_write_private_synced(out->quarantine, buf, n);
	if (!error && (error = sg_sha256_hex(out->torn_sha256, buf, n)) != SG_OK)
		unlink(out->quarantine);
	free(buf);
	out->torn_bytes = error ? 0 : n;
	return error;
}

/* Under the lock: find the torn tail, check what precedes it, set it aside, cut it. */
static int cut_torn_tail(sg_audit_repair_report *out, int fd, off_t size, const char *path)
{
	char why[WHY_MAX], last;
	json_t *obj = NULL;
	char *line = NULL;
	off_t start;
	size_t len;
	int found, error;

	if (size == 0 || pread_all(fd, &last, 1, size - 1) != 0 || last == '\n')
		return SG_OK;
	found = line_start(fd, size, &start);
	if (found < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
	if (!found)
		return sg_error_set(SG_ERR_TAMPER,
				    "%s: the unterminated tail is longer than %d bytes: not an "
				    "interrupted write; nothing was changed",
				    path, SG_AUDIT_LINE_MAX);
	if (start > 0 && (error = record_before(&obj, &line, &len, fd, start - 1, path, why))) {
		if (error == SG_ERR_TAMPER)
			sg_error_set(
				error,
				"%s: the line before the torn bytes is not a valid record (%s): "
				"this is not an interrupted write; nothing was changed",
				path, why);
		return error;
	}
	json_decref(obj);
	free(line);
	error = quarantine_tail(out, fd, start, size, path);
	if (!error && (ftruncate(fd, start) != 0 || fsync(fd) != 0))
		error = sg_error_set(SG_ERR_IO, "%s: cannot cut the torn bytes: %s", path,
				     strerror(errno));
	return error;
}

int sg_audit_repair(const char *path, sg_audit_repair_report *out)
{
	json_t *rec;
	struct stat st;
	int fd = -1, error;

	memset(out, 0, sizeof(*out));
	error = open_locked(&fd, &st, path);
	if (error)
		return error;
	error = cut_torn_tail(out, fd, st.st_size, path);
	flock(fd, LOCK_UN);
	close(fd);
	if (error || out->torn_bytes == 0)
		return error;
	/* The repair itself is evidence: it is recorded in the chain it mended. */
	rec = json_pack("{s:s, s:s, s:s, s:I, s:s}", "action", "repair", "decision", "repaired",
			"quarantine", out->quarantine, "torn_bytes", (json_int_t)out->torn_bytes,
			"torn_sha256", out->torn_sha256);
	if (!rec)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = sg_audit_append_receipt(path, rec, &out->record);
	json_decref(rec);
	return error;
}

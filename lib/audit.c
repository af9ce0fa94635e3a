/* The hash-chained audit log; see include/signgate/audit.h. */
#include "signgate/audit.h"
#include "signgate/error.h"
#include "signgate/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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

/* The canonical text of a record: what the log stores and what "hash" covers. */
#define DUMP_FLAGS    (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
#define HEX_LEN       (2 * SG_SHA256_LEN)
#define TIME_LEN      20 /* "YYYY-MM-DDTHH:MM:SSZ" */
#define WHY_MAX       512
#define TAIL_BLOCK    4096
#define OPEN_RETRIES  8
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char zero_hash[HEX_LEN + 1] = "00000000000000000000000000000000"
					   "00000000000000000000000000000000";

/* The keys the library sets on every record, with their JSON types. */
static const struct {
	const char *key;
	json_type type;
	const char *type_name;
} lib_fields[] = {
	{ "actor", JSON_OBJECT, "an object" }, { "hash", JSON_STRING, "a string" },
	{ "id", JSON_STRING, "a string" },     { "prev", JSON_STRING, "a string" },
	{ "seq", JSON_INTEGER, "an integer" }, { "time", JSON_STRING, "a string" },
};

/* Where a CI system says which job runs us, most specific first. */
static const char *const build_id_vars[] = {
	"SIGNGATE_BUILD_ID", "CI_JOB_ID", "BUILD_TAG", "GITHUB_RUN_ID", "BUILD_BUILDID",
};

/* Record a line's defect in `why` and return SG_ERR_TAMPER. */
__attribute__((format(printf, 2, 3))) static int tamper(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, WHY_MAX, fmt, ap);
	va_end(ap);
	return SG_ERR_TAMPER;
}

static int is_lower_hex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

static int is_uuid(const char *s)
{
	uuid_t uu;

	return strlen(s) == SG_AUDIT_ID_LEN - 1 && strspn(s, "0123456789abcdef-") == strlen(s) &&
	       uuid_parse(s, uu) == 0;
}

static int is_utc_time(const char *s)
{
	static const char shape[] = "0000-00-00T00:00:00Z";

	if (strlen(s) != TIME_LEN)
		return 0;
	for (size_t i = 0; i < TIME_LEN; i++)
		if (shape[i] == '0' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
			return 0;
	return 1;
}

/* SHA-256 hex of the canonical text of `obj` without its "hash" member. */
static int content_hash(char out[HEX_LEN + 1], json_t *obj)
{
	json_t *copy = json_copy(obj);
	char *text = NULL;
	int error = SG_ERR_NOMEM;

	if (copy) {
		json_object_del(copy, "hash");
		text = json_dumps(copy, DUMP_FLAGS);
	}
	if (text)
		error = sg_sha256_hex(out, text, strlen(text));
	else
		sg_error_set(error, "out of memory while hashing an audit record");
	free(text);
	json_decref(copy);
	return error;
}

/* Parse one line as a JSON object, the first thing verify and foreach ask. */
static json_t *parse_object(const char *line, size_t len, char *why)
{
	json_error_t jerr;
	json_t *obj;

	if (len == 0) {
		tamper(why, "empty line");
		return NULL;
	}
	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		tamper(why, "not a JSON object: %s", jerr.text);
		return NULL;
	}
	if (!json_is_object(obj)) {
		tamper(why, "not a JSON object: it is a JSON %s",
		       json_is_array(obj) ? "array" : "scalar");
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static int check_actor(const json_t *actor, char *why)
{
	json_t *id = json_object_get(actor, "build_id");
	json_t *src = json_object_get(actor, "build_id_source");

	if (!json_is_string(json_object_get(actor, "user")))
		return tamper(why, "\"actor.user\" is missing or not a string");
	if (!json_is_integer(json_object_get(actor, "uid")) ||
	    json_integer_value(json_object_get(actor, "uid")) < 0)
		return tamper(why, "\"actor.uid\" is missing or not a non-negative integer");
	if (!json_is_string(json_object_get(actor, "host")))
		return tamper(why, "\"actor.host\" is missing or not a string");
	if ((id || src) && !(json_is_string(id) && json_is_string(src)))
		return tamper(why, "\"actor.build_id\" and \"actor.build_id_source\" must be "
				   "strings and come together");
	return SG_OK;
}

/* Are the library's fields all present, of the right types and well-formed? */
static int check_fields(const json_t *obj, char *why)
{
	for (size_t i = 0; i < ARRAY_SIZE(lib_fields); i++) {
		json_t *v = json_object_get(obj, lib_fields[i].key);

		if (!v)
			return tamper(why, "\"%s\" is missing", lib_fields[i].key);
		if (json_typeof(v) != lib_fields[i].type)
			return tamper(why, "\"%s\" is not %s", lib_fields[i].key,
				      lib_fields[i].type_name);
	}
	if (!is_uuid(json_string_value(json_object_get(obj, "id"))))
		return tamper(why, "\"id\" is not a lower-case UUID");
	if (!is_utc_time(json_string_value(json_object_get(obj, "time"))))
		return tamper(why, "\"time\" is not of the form YYYY-MM-DDTHH:MM:SSZ");
	if (json_integer_value(json_object_get(obj, "seq")) < 1)
		return tamper(why, "\"seq\" is not a positive integer");
	if (!is_lower_hex(json_string_value(json_object_get(obj, "prev")), HEX_LEN))
		return tamper(why, "\"prev\" is not 64 lower-case hex digits");
	if (!is_lower_hex(json_string_value(json_object_get(obj, "hash")), HEX_LEN))
		return tamper(why, "\"hash\" is not 64 lower-case hex digits");
	return check_actor(json_object_get(obj, "actor"), why);
}

/*
 * Does "hash" match the content, and are the line's bytes exactly the
 * canonical text? The second check catches a reformatted line, which the
 * hash over the parsed content cannot see.
 */
static int check_hash(json_t *obj, const char *line, size_t len, char *why)
{
	char want[HEX_LEN + 1];
	char *text;
	int same, error;

	error = content_hash(want, obj);
	if (error)
		return error;
	if (strcmp(json_string_value(json_object_get(obj, "hash")), want) != 0)
		return tamper(why,
			      "hash does not match the record's content (the record was edited)");
	text = json_dumps(obj, DUMP_FLAGS);
	if (!text)
		return sg_error_set(SG_ERR_NOMEM, "out of memory while checking an audit record");
	same = strlen(text) == len && memcmp(text, line, len) == 0;
	free(text);
	if (!same)
		return tamper(why, "the bytes are not in the canonical form signgate writes "
				   "(the line was reformatted or rewritten by another tool)");
	return SG_OK;
}

/*
 * Check one line on its own, without its neighbours. Returns SG_OK with the
 * parsed record in *out (the caller frees it), SG_ERR_TAMPER with the reason
 * in `why`, or SG_ERR_NOMEM / SG_ERR_CRYPTO.
 */
static int check_record(json_t **out, const char *line, size_t len, char *why)
{
	json_t *obj = parse_object(line, len, why);
	int error;

	*out = NULL;
	if (!obj)
		return SG_ERR_TAMPER;
	error = check_fields(obj, why);
	if (!error)
		error = check_hash(obj, line, len, why);
	if (error)
		json_decref(obj);
	else
		*out = obj;
	return error;
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

static int utc_now(char out[TIME_LEN + 1])
{
	struct timespec ts;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || !gmtime_r(&ts.tv_sec, &tm) ||
	    strftime(out, TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != TIME_LEN)
		return sg_error_set(SG_ERR_IO, "cannot read the time for an audit record");
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
		error = utc_now(when);
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
	    json_object_set_new(rec, "prev", json_string(prev))) {
		if (!rec)
			json_decref(actor);
		json_decref(rec);
		return sg_error_set(SG_ERR_NOMEM, "out of memory while building an audit record");
	}
	error = content_hash(hash, rec);
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
	error = check_record(&back, line, len, why);
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
	for (size_t i = 0; i < ARRAY_SIZE(lib_fields); i++)
		if (json_object_get(record, lib_fields[i].key))
			return sg_error_set(
				SG_ERR_USAGE,
				"an audit record must not set \"%s\": the library sets it",
				lib_fields[i].key);
	return SG_OK;
}

static int lock_fd(int fd, int op, const char *path)
{
	while (flock(fd, op) != 0)
		if (errno != EINTR)
			return sg_error_set(SG_ERR_IO, "%s: cannot lock: %s", path,
					    strerror(errno));
	return SG_OK;
}

/* The folder of `path` into `dir` (PATH_MAX bytes). */
static int parent_of(char *dir, const char *path)
{
	char copy[PATH_MAX];

	if (strlen(path) >= sizeof(copy))
		return sg_error_set(SG_ERR_USAGE, "%s: path too long", path);
	strcpy(copy, path);
	strcpy(dir, dirname(copy));
	return SG_OK;
}

/* Open or create the log; create its folder when that is what is missing. */
static int open_or_create(int *out, const char *path)
{
	const int flags = O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
	char dir[PATH_MAX];
	struct stat st;
	int fd = open(path, flags, 0600);

	if (fd < 0 && errno == ENOENT) {
		int error = parent_of(dir, path);

		if (error)
			return error;
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return sg_error_set(SG_ERR_IO, "%s: cannot create the folder %s: %s", path,
					    dir, strerror(errno));
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
	int fd, error;

	for (int attempt = 0; attempt < OPEN_RETRIES; attempt++) {
		struct stat now = { 0 }; /* st_ino 0 names no file: a gone path is "replaced" */

		error = open_or_create(&fd, path);
		if (error)
			return error;
		error = lock_fd(fd, LOCK_EX, path);
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
		return tamper(why, "longer than %d bytes", SG_AUDIT_LINE_MAX);
	*len = (size_t)(end - start);
	*line = malloc(*len + 1);
	if (!*line)
		return sg_error_set(SG_ERR_NOMEM, "%s: out of memory", path);
	if (pread_all(fd, *line, *len, start) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
	else
		error = check_record(obj, *line, *len, why);
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
		"appended: check the log with `signgate audit verify` and set the torn bytes aside",
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
	memcpy(prev, zero_hash, sizeof(zero_hash));
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

/* A new log's directory entry must reach the disk too. */
static int sync_parent(const char *path)
{
	char dir[PATH_MAX];
	int fd, error = parent_of(dir, path);

	if (error)
		return error;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot sync the folder %s: %s", path, dir,
				     strerror(errno));
	if (fd >= 0)
		close(fd);
	return error;
}

int sg_audit_append(const char *path, const json_t *record, char out_id[SG_AUDIT_ID_LEN])
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
		error = sync_parent(path);
	if (!error && out_id)
		memcpy(out_id, id, sizeof(id));
	/* Unlock explicitly: a child forked meanwhile may hold a copy of fd. */
	flock(fd, LOCK_UN);
	close(fd);
	free(line);
	return error;
}

/* Reads a snapshot of the log line by line into one SG_AUDIT_LINE_MAX buffer. */
struct reader {
	const char *path;
	FILE *f;
	off_t left; /* bytes of the snapshot not read yet */
	char *buf;
	size_t lineno;
};

static void reader_close(struct reader *r)
{
	if (r->f)
		fclose(r->f);
	free(r->buf);
}

/*
 * Appends hold the exclusive lock until their line is complete, so the size
 * seen under a brief shared lock ends on a line boundary: reading up to it
 * never sees a half-written record, and appends are not held up meanwhile.
 */
static int reader_open(struct reader *r, const char *path)
{
	struct stat st;
	int error, fd;

	memset(r, 0, sizeof(*r));
	r->path = path;
	/* O_NONBLOCK: a FIFO at this path must fail below, not hang here. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	error = lock_fd(fd, LOCK_SH, path);
	if (!error && fstat(fd, &st) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
	flock(fd, LOCK_UN);
	if (!error && !S_ISREG(st.st_mode))
		error = sg_error_set(SG_ERR_IO, "%s: not a regular file", path);
	if (!error && (!(r->buf = malloc(SG_AUDIT_LINE_MAX)) || !(r->f = fdopen(fd, "r"))))
		error = sg_error_set(SG_ERR_NOMEM, "%s: out of memory", path);
	if (error && !r->f)
		close(fd);
	if (error)
		reader_close(r);
	else
		r->left = st.st_size;
	return error;
}

/*
 * The next line, without its newline, in r->buf. Returns 1 with *torn set
 * when the line has no newline (the end of the log), 0 at the end, or an
 * error: SG_ERR_TAMPER for a line longer than SG_AUDIT_LINE_MAX (r->lineno is
 * then that line), SG_ERR_IO.
 */
static int reader_next(struct reader *r, size_t *len, int *torn)
{
	int c = EOF;

	for (*len = 0; r->left > 0 && (c = getc_unlocked(r->f)) != EOF; (*len)++) {
		r->left--;
		if (c == '\n')
			break;
		if (*len == SG_AUDIT_LINE_MAX)
			return sg_error_set(SG_ERR_TAMPER, "%s: line %zu is longer than %d bytes",
					    r->path, ++r->lineno, SG_AUDIT_LINE_MAX);
		r->buf[*len] = (char)c;
	}
	if (c == EOF && ferror(r->f))
		return sg_error_set(SG_ERR_IO, "%s: cannot read: %s", r->path, strerror(errno));
	if (c != '\n' && *len == 0)
		return 0;
	*torn = c != '\n';
	r->lineno++;
	return 1;
}

/*
 * Call `fn` on each line of the log at `path`, in order. A torn last line is
 * tampering. Returns the first non-zero value of fn or an error of the
 * reader, with *lineno the line it concerns.
 */
static int walk(const char *path, int (*fn)(const char *line, size_t len, size_t lineno, void *arg),
		void *arg, size_t *lineno)
{
	struct reader r;
	size_t len;
	int torn = 0, more = 0, error = reader_open(&r, path);

	*lineno = 0;
	if (error)
		return error;
	while (!error && (more = reader_next(&r, &len, &torn)) == 1) {
		if (torn)
			error = sg_error_set(SG_ERR_TAMPER,
					     "%s: line %zu is torn (no final newline)", path,
					     r.lineno);
		else
			error = fn(r.buf, len, r.lineno, arg);
	}
	if (!error && more < 0)
		error = more;
	*lineno = r.lineno;
	reader_close(&r);
	return error;
}

struct verify_state {
	const char *path;
	sg_audit_report *report; /* head: the SHA-256 of the line before */
};

/* Check one line on its own, then against the line before it. */
static int verify_line(const char *line, size_t len, size_t lineno, void *arg)
{
	struct verify_state *st = arg;
	char why[WHY_MAX];
	json_t *obj;
	json_int_t seq;
	int error = check_record(&obj, line, len, why);

	if (error == SG_ERR_TAMPER)
		return sg_error_set(error, "%s: line %zu: %s", st->path, lineno, why);
	if (error)
		return error;
	seq = json_integer_value(json_object_get(obj, "seq"));
	if (seq != (json_int_t)lineno)
		error = sg_error_set(SG_ERR_TAMPER, "%s: line %zu: seq is %lld, expected %zu (%s)",
				     st->path, lineno, (long long)seq, lineno,
				     seq > (json_int_t)lineno
					     ? "records were removed or reordered before this line"
					     : "a record was duplicated, inserted or reordered");
	else if (strcmp(json_string_value(json_object_get(obj, "prev")), st->report->head) == 0)
		error = sg_sha256_hex(st->report->head, line, len);
	else if (lineno == 1)
		error = sg_error_set(SG_ERR_TAMPER,
				     "%s: line 1: prev is not 64 zeros, so this is not the first "
				     "record of a log (the records before it were removed)",
				     st->path);
	else
		error = sg_error_set(SG_ERR_TAMPER,
				     "%s: line %zu: prev does not match the SHA-256 of line %zu (a "
				     "record was edited, removed, inserted or reordered before "
				     "this line)",
				     st->path, lineno, lineno - 1);
	json_decref(obj);
	if (!error)
		st->report->records++;
	return error;
}

int sg_audit_verify(const char *path, sg_audit_report *out)
{
	sg_audit_report unused;
	struct verify_state st = { path, out ? out : &unused };
	size_t lineno;
	int error;

	memset(st.report, 0, sizeof(*st.report));
	memcpy(st.report->head, zero_hash, sizeof(zero_hash));
	error = walk(path, verify_line, &st, &lineno);
	if (error == SG_ERR_TAMPER)
		st.report->bad_line = lineno;
	return error;
}

struct foreach_state {
	const char *path;
	int (*fn)(const json_t *record, size_t line, void *arg);
	void *arg;
};

static int foreach_line(const char *line, size_t len, size_t lineno, void *arg)
{
	struct foreach_state *st = arg;
	char why[WHY_MAX];
	json_t *obj = parse_object(line, len, why);
	int ret;

	if (!obj)
		return sg_error_set(SG_ERR_TAMPER, "%s: line %zu: %s", st->path, lineno, why);
	ret = st->fn(obj, lineno, st->arg);
	json_decref(obj);
	return ret;
}

int sg_audit_foreach(const char *path, int (*fn)(const json_t *record, size_t line, void *arg),
		     void *arg)
{
	struct foreach_state st = { path, fn, arg };
	size_t lineno;

	return walk(path, foreach_line, &st, &lineno);
}

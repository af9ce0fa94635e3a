/* The hash-chained audit log, verify and foreach; see include/signgate/audit.h. */
#include "signgate/audit.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "audit_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uuid/uuid.h>

int sg_audit_tamper(char *why, const char *fmt, ...)
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
int sg_audit_content_hash(char out[HEX_LEN + 1], json_t *obj)
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
		sg_audit_tamper(why, "empty line");
		return NULL;
	}
	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		sg_audit_tamper(why, "not a JSON object: %s", jerr.text);
		return NULL;
	}
	if (!json_is_object(obj)) {
		sg_audit_tamper(why, "not a JSON object: it is a JSON %s",
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
		return sg_audit_tamper(why, "\"actor.user\" is missing or not a string");
	if (!json_is_integer(json_object_get(actor, "uid")) ||
	    json_integer_value(json_object_get(actor, "uid")) < 0)
		return sg_audit_tamper(why,
				       "\"actor.uid\" is missing or not a non-negative integer");
	if (!json_is_string(json_object_get(actor, "host")))
		return sg_audit_tamper(why, "\"actor.host\" is missing or not a string");
	if ((id || src) && !(json_is_string(id) && json_is_string(src)))
		return sg_audit_tamper(why,
				       "\"actor.build_id\" and \"actor.build_id_source\" must be "
				       "strings and come together");
	return SG_OK;
}

/* Are the library's fields all present, of the right types and well-formed? */
static int check_fields(const json_t *obj, char *why)
{
	for (size_t i = 0; i < ARRAY_SIZE(sg_audit_lib_fields); i++) {
		json_t *v = json_object_get(obj, sg_audit_lib_fields[i].key);

		if (!v)
			return sg_audit_tamper(why, "\"%s\" is missing",
					       sg_audit_lib_fields[i].key);
		if (json_typeof(v) != sg_audit_lib_fields[i].type)
			return sg_audit_tamper(why, "\"%s\" is not %s", sg_audit_lib_fields[i].key,
					       sg_audit_lib_fields[i].type_name);
	}
	if (!is_uuid(json_string_value(json_object_get(obj, "id"))))
		return sg_audit_tamper(why, "\"id\" is not a lower-case UUID");
	if (!is_utc_time(json_string_value(json_object_get(obj, "time"))))
		return sg_audit_tamper(why, "\"time\" is not of the form YYYY-MM-DDTHH:MM:SSZ");
	if (json_integer_value(json_object_get(obj, "seq")) < 1)
		return sg_audit_tamper(why, "\"seq\" is not a positive integer");
	if (!is_lower_hex(json_string_value(json_object_get(obj, "prev")), HEX_LEN))
		return sg_audit_tamper(why, "\"prev\" is not 64 lower-case hex digits");
	if (!is_lower_hex(json_string_value(json_object_get(obj, "hash")), HEX_LEN))
		return sg_audit_tamper(why, "\"hash\" is not 64 lower-case hex digits");
	return check_actor(json_object_get(obj, "actor"), why);
}

/*
 * Does "hash" match the content, and are the line's bytes exactly the
 * canonical text? The second check catches a reformatted line, which the
 * hash over the parsed content cannot see.
 */
/* The smallest top-level key after "hash": the one that must follow it. */
static const char *key_after_hash(json_t *obj)
{
	const char *key, *best = NULL;
	json_t *val;

	json_object_foreach(obj, key, val) {
		if (strcmp(key, "hash") > 0 && (!best || strcmp(key, best) < 0))
			best = key;
	}
	return best;
}

/*
 * The fast check, without serializing anything: the writer hashed the
 * canonical text of the record without "hash", which is the line with its
 * `,"hash":"H"` member cut out. When that cut line hashes to H, and the
 * member stands where sorted keys put it (right before the next key), the
 * line is canonical and its content is what was hashed. Any other outcome
 * is left to the slow check, which tells which problem it is.
 */
static int hash_fast_ok(json_t *obj, const char *line, size_t len)
{
	const char *h = json_string_value(json_object_get(obj, "hash"));
	const char *next = key_after_hash(obj);
	char member[HEX_LEN + 16], got[HEX_LEN + 1], follow[160];
	const char *at;
	size_t mlen, flen, pos;
	char *cut;
	int ok;

	if (!h || !next)
		return 0;
	mlen = (size_t)snprintf(member, sizeof(member), ",\"hash\":\"%s\"", h);
	at = memmem(line, len, member, mlen);
	if (!at)
		return 0;
	pos = (size_t)(at - line);
	if (memmem(at + 1, len - pos - 1, member, mlen))
		return 0;
	flen = (size_t)snprintf(follow, sizeof(follow), ",\"%s\":", next);
	if (flen >= sizeof(follow) || len - pos - mlen < flen ||
	    memcmp(at + mlen, follow, flen) != 0)
		return 0;
	cut = malloc(len - mlen + 1);
	if (!cut)
		return 0;
	memcpy(cut, line, pos);
	memcpy(cut + pos, at + mlen, len - pos - mlen);
	ok = sg_sha256_hex(got, cut, len - mlen) == SG_OK && strcmp(got, h) == 0;
	free(cut);
	return ok;
}

static int check_hash(json_t *obj, const char *line, size_t len, char *why)
{
	char want[HEX_LEN + 1];
	char *text;
	int same, error;

	if (hash_fast_ok(obj, line, len))
		return SG_OK;
	error = sg_audit_content_hash(want, obj);
	if (error)
		return error;
	if (strcmp(json_string_value(json_object_get(obj, "hash")), want) != 0)
		return sg_audit_tamper(
			why, "hash does not match the record's content (the record was edited)");
	text = json_dumps(obj, DUMP_FLAGS);
	if (!text)
		return sg_error_set(SG_ERR_NOMEM, "out of memory while checking an audit record");
	same = strlen(text) == len && memcmp(text, line, len) == 0;
	free(text);
	if (!same)
		return sg_audit_tamper(why,
				       "the bytes are not in the canonical form signgate writes "
				       "(the line was reformatted or rewritten by another tool)");
	return SG_OK;
}

/* Check one line on its own, without its neighbours; see audit_internal.h. */
int sg_audit_check_record(json_t **out, const char *line, size_t len, char *why)
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

/*
 * Reads a snapshot of the log line by line, in blocks of READ_BLOCK bytes
 * into one buffer that also holds the longest line the log may have.
 */
#define READ_BLOCK (256 * 1024)

struct reader {
	const char *path;
	int fd;
	off_t left; /* bytes of the snapshot not read yet */
	char *buf;  /* SG_AUDIT_LINE_MAX + 1 + READ_BLOCK bytes */
	size_t pos, end; /* the unread bytes are buf[pos, end) */
	size_t lineno;
};

static void reader_close(struct reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
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
	int error;

	memset(r, 0, sizeof(*r));
	r->path = path;
	/* O_NONBLOCK: a FIFO at this path must fail below, not hang here. */
	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (r->fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	error = sg_audit_lock(r->fd, LOCK_SH, path);
	if (!error && fstat(r->fd, &st) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
	flock(r->fd, LOCK_UN);
	if (!error && !S_ISREG(st.st_mode))
		error = sg_error_set(SG_ERR_IO, "%s: not a regular file", path);
	if (!error && !(r->buf = malloc(SG_AUDIT_LINE_MAX + 1 + READ_BLOCK)))
		error = sg_error_set(SG_ERR_NOMEM, "%s: out of memory", path);
	if (error)
		reader_close(r);
	else
		r->left = st.st_size;
	return error;
}

/* Move the unread bytes to the front and read the next block after them. */
static int reader_fill(struct reader *r)
{
	size_t want = r->left < READ_BLOCK ? (size_t)r->left : READ_BLOCK;
	ssize_t n;

	memmove(r->buf, r->buf + r->pos, r->end - r->pos);
	r->end -= r->pos;
	r->pos = 0;
	do
		n = read(r->fd, r->buf + r->end, want);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot read: %s", r->path, strerror(errno));
	if ((size_t)n != want) /* the snapshot ends on a line; a shorter file was cut */
		r->left = 0;
	else
		r->left -= n;
	r->end += (size_t)n;
	return SG_OK;
}

/*
 * The next line, without its newline: *line points into the reader's buffer
 * until the next call. Returns 1 with *torn set when the line has no newline
 * (the end of the log), 0 at the end, or an error: SG_ERR_TAMPER for a line
 * longer than SG_AUDIT_LINE_MAX (r->lineno is then that line), SG_ERR_IO.
 */
static int reader_next(struct reader *r, const char **line, size_t *len, int *torn)
{
	size_t scanned = 0;
	char *nl;
	int error;

	for (;;) {
		nl = memchr(r->buf + r->pos + scanned, '\n', r->end - r->pos - scanned);
		if (nl || r->left == 0)
			break;
		scanned = r->end - r->pos;
		if (scanned > SG_AUDIT_LINE_MAX)
			break;
		error = reader_fill(r);
		if (error)
			return error;
	}
	*len = nl ? (size_t)(nl - (r->buf + r->pos)) : r->end - r->pos;
	if (*len > SG_AUDIT_LINE_MAX)
		return sg_error_set(SG_ERR_TAMPER, "%s: line %zu is longer than %d bytes", r->path,
				    ++r->lineno, SG_AUDIT_LINE_MAX);
	if (!nl && *len == 0)
		return 0;
	*line = r->buf + r->pos;
	*torn = !nl;
	r->pos += *len + (nl ? 1 : 0);
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
	const char *line = NULL;
	size_t len = 0;
	int torn = 0, more = 0, error = reader_open(&r, path);

	*lineno = 0;
	if (error)
		return error;
	while (!error && (more = reader_next(&r, &line, &len, &torn)) == 1) {
		if (torn)
			error = sg_error_set(SG_ERR_TAMPER,
					     "%s: line %zu is torn (no final newline)", path,
					     r.lineno);
		else
			error = fn(line, len, r.lineno, arg);
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
	int error = sg_audit_check_record(&obj, line, len, why);

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
	memcpy(st.report->head, sg_audit_zero_hash, sizeof(sg_audit_zero_hash));
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

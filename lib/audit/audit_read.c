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

/*
 * Here, not in lib/audit.c: the append path (audit.c) uses the reader and
 * its checks, the reader never the append path.
 */
int sg_audit_lock(int fd, int op, const char *path)
{
	while (flock(fd, op) != 0)
		if (errno != EINTR)
			return sg_error_set(SG_ERR_IO, "%s: cannot lock: %s", path,
					    strerror(errno));
	return SG_OK;
}

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
 * hash over the parsed content cannot see. (Verify takes most lines through
 * the faster lib/audit_fast.c, which checks the same two things at once.)
 */
static int check_hash(json_t *obj, const char *line, size_t len, char *why)
{
	char want[HEX_LEN + 1];
	char *text;
	int same, error;

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

void sg_audit_reader_close(struct sg_audit_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	EVP_MD_CTX_free(r->md);
	r->fd = -1;
	r->buf = NULL;
	r->md = NULL;
}

int sg_audit_reader_hash(struct sg_audit_reader *r)
{
	r->md = EVP_MD_CTX_new();
	if (!r->md || EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
		return sg_error_set(SG_ERR_CRYPTO, "%s: cannot start a SHA-256", r->path);
	return SG_OK;
}

/* A copy of the running digest is finished, so that reading may go on. */
int sg_audit_reader_digest(struct sg_audit_reader *r, sg_audit_file_read *out)
{
	unsigned char md[SG_SHA256_LEN];
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	int ok = r->md && copy && EVP_MD_CTX_copy_ex(copy, r->md) == 1 &&
		 EVP_DigestFinal_ex(copy, md, NULL) == 1;

	EVP_MD_CTX_free(copy);
	if (!ok)
		return sg_error_set(SG_ERR_CRYPTO, "%s: SHA-256 failed", r->path);
	out->read = 1;
	out->bytes = r->read;
	out->whole = r->left == 0;
	sg_hex_encode(out->sha256, md, SG_SHA256_LEN);
	return SG_OK;
}

/*
 * Appends hold the exclusive lock until their line is complete, so the size
 * seen under a brief shared lock ends on a line boundary: reading up to it
 * never sees a half-written record, and appends are not held up meanwhile.
 */
int sg_audit_reader_open(struct sg_audit_reader *r, const char *path)
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
	if (!error && !(r->buf = malloc(SG_AUDIT_LINE_MAX + 1 + SG_AUDIT_READ_BLOCK)))
		error = sg_error_set(SG_ERR_NOMEM, "%s: out of memory", path);
	if (error)
		sg_audit_reader_close(r);
	else
		r->left = st.st_size;
	return error;
}

/* Move the unread bytes to the front and read the next block after them. */
static int reader_fill(struct sg_audit_reader *r)
{
	size_t want = r->left < SG_AUDIT_READ_BLOCK ? (size_t)r->left : SG_AUDIT_READ_BLOCK;
	ssize_t n;

	memmove(r->buf, r->buf + r->pos, r->end - r->pos);
	r->end -= r->pos;
	r->pos = 0;
	do
		n = read(r->fd, r->buf + r->end, want);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot read: %s", r->path, strerror(errno));
	if (r->md && EVP_DigestUpdate(r->md, r->buf + r->end, (size_t)n) != 1)
		return sg_error_set(SG_ERR_CRYPTO, "%s: SHA-256 failed", r->path);
	r->read += (unsigned long long)n;
	if ((size_t)n != want) /* the snapshot ends on a line; a shorter file was cut */
		r->left = 0;
	else
		r->left -= n;
	r->end += (size_t)n;
	return SG_OK;
}

/* The next line; see audit_internal.h. */
int sg_audit_reader_next(struct sg_audit_reader *r, const char **line, size_t *len, int *torn)
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

int sg_audit_walk(const char *path,
		  int (*fn)(const char *line, size_t len, size_t lineno, void *arg), void *arg,
		  size_t *lineno)
{
	struct sg_audit_reader r;
	const char *line = NULL;
	size_t len = 0;
	int torn = 0, more = 0, error = sg_audit_reader_open(&r, path);

	*lineno = 0;
	if (error)
		return error;
	while (!error && (more = sg_audit_reader_next(&r, &line, &len, &torn)) == 1) {
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
	sg_audit_reader_close(&r);
	return error;
}

struct foreach_state {
	const char *path;
	int (*keep)(const char *line, size_t len, void *arg);
	int (*fn)(const json_t *record, size_t line, void *arg);
	void *arg;
};

static int foreach_line(const char *line, size_t len, size_t lineno, void *arg)
{
	struct foreach_state *st = arg;
	char why[WHY_MAX];
	json_t *obj;
	int ret;

	if (st->keep && !st->keep(line, len, st->arg))
		return 0;
	obj = parse_object(line, len, why);
	if (!obj)
		return sg_error_set(SG_ERR_TAMPER, "%s: line %zu: %s", st->path, lineno, why);
	ret = st->fn(obj, lineno, st->arg);
	json_decref(obj);
	return ret;
}

int sg_audit_foreach_where(const char *path, int (*keep)(const char *line, size_t len, void *arg),
			   int (*fn)(const json_t *record, size_t line, void *arg), void *arg)
{
	struct foreach_state st = { path, keep, fn, arg };
	size_t lineno;

	return sg_audit_walk(path, foreach_line, &st, &lineno);
}

int sg_audit_foreach(const char *path, int (*fn)(const json_t *record, size_t line, void *arg),
		     void *arg)
{
	return sg_audit_foreach_where(path, NULL, fn, arg);
}

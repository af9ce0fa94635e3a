/*
 * Unit tests of the audit log: record fields, the chain, every kind of
 * tampering verify must name (line and message), refused appends, 16
 * processes appending to one log at once, and a log replaced by rename()
 * while an append waits for its lock.
 */
#include "signgate/audit.h"
#include "signgate/error.h"
#include "signgate/hash.h"

#include "check.h"

#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uuid/uuid.h>

#define MAX_LINES    64
#define BASE_RECORDS 10
#define CHILDREN     16
#define PER_CHILD    25

static char dir[] = "/tmp/test_audit.XXXXXX";

static const char *const ci_vars[] = {
	"SIGNGATE_BUILD_ID", "CI_JOB_ID", "BUILD_TAG", "GITHUB_RUN_ID", "BUILD_BUILDID",
};

/* A path in the test folder, valid until the 8th next call. */
static const char *tmp_path(const char *name)
{
	return check_path(dir, name);
}

static int append_event(const char *path, const char *event, int n)
{
	json_t *rec = json_pack("{s:s, s:i}", "event", event, "n", n);
	int rc = sg_audit_append(path, rec, NULL);

	json_decref(rec);
	return rc;
}

static size_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (size_t)st.st_size : (size_t)-1;
}

/* What an attacker who knows the format does: recompute "hash" after an edit. */
static char *rehash(json_t *rec)
{
	char hex[65], *text;

	json_object_del(rec, "hash");
	text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	sg_sha256_hex(hex, text, strlen(text));
	free(text);
	json_object_set_new(rec, "hash", json_string(hex));
	text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(rec);
	return text;
}

static json_t *parse(const char *line)
{
	return json_loads(line, 0, NULL);
}

static void expect_tamper(const char *what, const char *path, size_t bad_line, const char *msg)
{
	sg_audit_report rep;
	int rc = sg_audit_verify(path, &rep);

	if (rc != SG_ERR_TAMPER || rep.bad_line != bad_line || !strstr(sg_error_last(), msg))
		fprintf(stderr, "case: %s\n", what);
	CHECK_INT(rc, SG_ERR_TAMPER);
	CHECK_INT(rep.bad_line, bad_line);
	CHECK_CONTAINS(sg_error_last(), msg);
}

static int is_time(const char *s)
{
	static const char shape[] = "0000-00-00T00:00:00Z";

	if (strlen(s) != strlen(shape))
		return 0;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == '0' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return 0;
	return 1;
}

static void check_line_fields(char *lines[], size_t i, const char *out_id)
{
	json_t *rec = parse(lines[i]), *actor = json_object_get(rec, "actor");
	struct passwd *pw = getpwuid(geteuid());
	const char *id = json_string_value(json_object_get(rec, "id"));
	char want_prev[65];
	uuid_t uu;

	CHECK(rec != NULL);
	CHECK_INT(json_integer_value(json_object_get(rec, "seq")), i + 1);
	if (i == 0)
		memset(want_prev, '0', 64), want_prev[64] = '\0';
	else
		sg_sha256_hex(want_prev, lines[i - 1], strlen(lines[i - 1]));
	CHECK_STR(json_string_value(json_object_get(rec, "prev")), want_prev);
	CHECK(id && strlen(id) == 36 && uuid_parse(id, uu) == 0);
	if (out_id)
		CHECK_STR(id, out_id);
	CHECK(is_time(json_string_value(json_object_get(rec, "time"))));
	CHECK_STR(json_string_value(json_object_get(actor, "user")), pw ? pw->pw_name : "?");
	CHECK_INT(json_integer_value(json_object_get(actor, "uid")), geteuid());
	CHECK(json_string_length(json_object_get(actor, "host")) > 0);
	CHECK(json_object_get(actor, "build_id") == NULL);
	CHECK_STR(json_string_value(json_object_get(rec, "event")), "approve");
	CHECK_INT(json_integer_value(json_object_get(rec, "n")), i);
	json_decref(rec);
}

/* Every record names signgate's version and the run's osslsigncode (null before it is known). */
static void test_versions(void)
{
	const char *path = tmp_path("versions.jsonl");
	char *lines[MAX_LINES];
	json_t *rec;
	size_t n;

	CHECK_INT(append_event(path, "rotate", 1), SG_OK);
	sg_audit_set_osslsigncode_version("2.9");
	CHECK_INT(append_event(path, "sign", 2), SG_OK);
	sg_audit_set_osslsigncode_version(NULL);
	n = check_read_lines(path, lines, MAX_LINES);
	CHECK_INT(n, 2);
	rec = parse(lines[0]);
	CHECK(json_is_null(json_object_get(rec, "osslsigncode_version")));
	CHECK_STR(json_string_value(json_object_get(rec, "signgate_version")), SG_VERSION);
	json_decref(rec);
	rec = parse(lines[1]);
	CHECK_STR(json_string_value(json_object_get(rec, "osslsigncode_version")), "2.9");
	CHECK_STR(json_string_value(json_object_get(rec, "signgate_version")), SG_VERSION);
	json_decref(rec);
	CHECK_INT(sg_audit_verify(path, NULL), SG_OK);
	check_free_lines(lines, n);
}

static void test_append_fields(void)
{
	const char *path = tmp_path("new/audit.jsonl");
	char id[SG_AUDIT_ID_LEN], *lines[MAX_LINES];
	struct stat st;
	size_t n;

	for (int i = 0; i < 3; i++) {
		json_t *rec = json_pack("{s:s, s:i}", "event", "approve", "n", i);

		CHECK_INT(sg_audit_append(path, rec, id), SG_OK);
		CHECK_INT(json_object_size(rec), 2); /* the caller's object is untouched */
		json_decref(rec);
	}
	CHECK(stat(tmp_path("new"), &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	n = check_read_lines(path, lines, MAX_LINES);
	CHECK_INT(n, 3);
	for (size_t i = 0; i < n; i++)
		check_line_fields(lines, i, i == n - 1 ? id : NULL);
	check_free_lines(lines, n);
	test_versions();
}

static void test_build_id(void)
{
	const char *path = tmp_path("build.jsonl");
	char *lines[MAX_LINES];
	json_t *actor, *rec;
	size_t n;

	setenv("GITHUB_RUN_ID", "gh-7", 1);
	setenv("CI_JOB_ID", "4242", 1);
	CHECK_INT(append_event(path, "sign", 1), SG_OK);
	for (size_t i = 0; i < sizeof(ci_vars) / sizeof(ci_vars[0]); i++)
		unsetenv(ci_vars[i]);
	n = check_read_lines(path, lines, MAX_LINES);
	CHECK_INT(n, 1);
	rec = parse(lines[0]);
	actor = json_object_get(rec, "actor");
	CHECK_STR(json_string_value(json_object_get(actor, "build_id")), "4242");
	CHECK_STR(json_string_value(json_object_get(actor, "build_id_source")), "CI_JOB_ID");
	json_decref(rec);
	check_free_lines(lines, n);
	CHECK_INT(sg_audit_verify(path, NULL), SG_OK);
}

static void test_verify_ok(const char *path)
{
	sg_audit_report rep;
	char *lines[MAX_LINES], head[65];
	size_t n;

	CHECK_INT(sg_audit_verify(path, &rep), SG_OK);
	CHECK_INT(rep.records, BASE_RECORDS);
	CHECK_INT(rep.bad_line, 0);
	n = check_read_lines(path, lines, MAX_LINES);
	sg_sha256_hex(head, lines[n - 1], strlen(lines[n - 1]));
	CHECK_STR(rep.head, head);
	check_free_lines(lines, n);

	check_write_lines(tmp_path("empty.jsonl"), NULL, 0, 0);
	CHECK_INT(sg_audit_verify(tmp_path("empty.jsonl"), &rep), SG_OK);
	CHECK_INT(rep.records, 0);
	CHECK_STR(rep.head, "0000000000000000000000000000000000000000000000000000000000000000");

	CHECK_INT(sg_audit_verify(tmp_path("missing.jsonl"), &rep), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "missing.jsonl: cannot open");
	CHECK_INT(sg_audit_foreach(tmp_path("missing.jsonl"), NULL, NULL), SG_ERR_IO);
}

/* Copy the base log's lines, let `edit` change the copy, write it, verify it. */
static void tamper_case(char *base[], const char *what, size_t bad_line, const char *msg,
			void (*edit)(char *l[], size_t *n, int *torn))
{
	const char *path = tmp_path("tampered.jsonl");
	char *l[MAX_LINES];
	size_t n = BASE_RECORDS;
	int torn = 0;

	for (size_t i = 0; i < n; i++)
		l[i] = strdup(base[i]);
	edit(l, &n, &torn);
	check_write_lines(path, l, n, torn);
	check_free_lines(l, n);
	expect_tamper(what, path, bad_line, msg);
}

static void replace(char *l[], size_t i, char *text)
{
	free(l[i]);
	l[i] = text;
}

static void edit_value(char *l[], size_t i)
{
	char *p = strstr(l[i], "\"event\":\"approve\"");

	memcpy(p, "\"event\":\"APPROVE\"", 17);
}

static void edit_middle(char *l[], size_t *n, int *torn)
{
	(void)n, (void)torn;
	edit_value(l, 3);
}

static void edit_last(char *l[], size_t *n, int *torn)
{
	(void)torn;
	edit_value(l, *n - 1);
}

static void edit_rehash(char *l[], size_t *n, int *torn)
{
	json_t *rec = parse(l[3]);

	(void)n, (void)torn;
	json_object_set_new(rec, "event", json_string("deny"));
	replace(l, 3, rehash(rec));
}

static void delete_line(char *l[], size_t *n, int *torn)
{
	(void)torn;
	free(l[3]);
	memmove(&l[3], &l[4], (*n - 4) * sizeof(l[0]));
	(*n)--;
}

static void delete_first(char *l[], size_t *n, int *torn)
{
	(void)torn;
	free(l[0]);
	memmove(&l[0], &l[1], (*n - 1) * sizeof(l[0]));
	(*n)--;
}

static void swap_lines(char *l[], size_t *n, int *torn)
{
	char *t = l[3];

	(void)n, (void)torn;
	l[3] = l[4];
	l[4] = t;
}

static void insert_at(char *l[], size_t *n, size_t i, char *text)
{
	memmove(&l[i + 1], &l[i], (*n - i) * sizeof(l[0]));
	l[i] = text;
	(*n)++;
}

static void duplicate_line(char *l[], size_t *n, int *torn)
{
	(void)torn;
	insert_at(l, n, 4, strdup(l[3]));
}

/* A forged record that is perfect on its own: right seq, prev and hash. */
static void insert_forged(char *l[], size_t *n, int *torn)
{
	json_t *rec = parse(l[3]);
	char prev[65];

	(void)torn;
	sg_sha256_hex(prev, l[2], strlen(l[2]));
	json_object_set_new(rec, "prev", json_string(prev));
	json_object_set_new(rec, "event", json_string("forged"));
	insert_at(l, n, 3, rehash(rec));
}

static void tear_last(char *l[], size_t *n, int *torn)
{
	(void)l, (void)n;
	*torn = 1;
}

static void cut_last(char *l[], size_t *n, int *torn)
{
	l[*n - 1][strlen(l[*n - 1]) / 2] = '\0';
	*torn = 1;
}

static void garbage_line(char *l[], size_t *n, int *torn)
{
	(void)n, (void)torn;
	replace(l, 5, strdup("garbage"));
}

/* Same content, different bytes: spaces after ',' and ':'. */
static void reformat_line(char *l[], size_t *n, int *torn)
{
	json_t *rec = parse(l[2]);

	(void)n, (void)torn;
	replace(l, 2, json_dumps(rec, JSON_SORT_KEYS | JSON_ENSURE_ASCII));
	json_decref(rec);
}

static void drop_seq(char *l[], size_t *n, int *torn)
{
	json_t *rec = parse(l[1]);

	(void)n, (void)torn;
	json_object_del(rec, "seq");
	replace(l, 1, rehash(rec));
}

static void first_prev(char *l[], size_t *n, int *torn)
{
	json_t *rec = parse(l[0]);

	(void)n, (void)torn;
	json_object_set_new(
		rec, "prev",
		json_string("1111111111111111111111111111111111111111111111111111111111111111"));
	replace(l, 0, rehash(rec));
}

static void duplicate_key(char *l[], size_t *n, int *torn)
{
	size_t size = strlen(l[6]) + 16;
	char *text = malloc(size);

	(void)n, (void)torn;
	snprintf(text, size, "{\"n\":1,%s", l[6] + 1);
	replace(l, 6, text);
}

static void empty_line(char *l[], size_t *n, int *torn)
{
	(void)torn;
	insert_at(l, n, 7, strdup(""));
}

static void array_line(char *l[], size_t *n, int *torn)
{
	(void)n, (void)torn;
	replace(l, 8, strdup("[1,2,3]"));
}

static void test_tampering(char *base[])
{
	tamper_case(base, "edit middle", 4,
		    "line 4: hash does not match the record's content (the record was edited)",
		    edit_middle);
	tamper_case(base, "edit last", 10, "line 10: hash does not match", edit_last);
	tamper_case(base, "edit and rehash", 5,
		    "line 5: prev does not match the SHA-256 of line 4 (a record was edited, "
		    "removed, inserted or reordered",
		    edit_rehash);
	tamper_case(base, "delete", 4,
		    "line 4: seq is 5, expected 4 (records were removed or reordered", delete_line);
	tamper_case(base, "delete first", 1, "line 1: seq is 2, expected 1", delete_first);
	tamper_case(base, "swap", 4, "line 4: seq is 5, expected 4", swap_lines);
	tamper_case(base, "duplicate", 5,
		    "line 5: seq is 4, expected 5 (a record was duplicated, inserted or reordered)",
		    duplicate_line);
	tamper_case(base, "insert forged", 5, "line 5: seq is 4, expected 5", insert_forged);
	tamper_case(base, "torn", 10, "line 10 is torn (no final newline)", tear_last);
	tamper_case(base, "cut", 10, "line 10 is torn (no final newline)", cut_last);
	tamper_case(base, "garbage", 6,
		    "line 6: not a JSON object: '[' or '{' expected near 'garbage'", garbage_line);
	tamper_case(base, "reformatted", 3, "line 3: the bytes are not in the canonical form",
		    reformat_line);
	tamper_case(base, "missing seq", 2, "line 2: \"seq\" is missing", drop_seq);
	tamper_case(base, "first prev", 1, "line 1: prev is not 64 zeros", first_prev);
	tamper_case(base, "duplicate key", 7, "line 7: not a JSON object: duplicate object key",
		    duplicate_key);
	tamper_case(base, "empty line", 8, "line 8: empty line", empty_line);
	tamper_case(base, "array", 9, "line 9: not a JSON object: it is a JSON array", array_line);
}

static void test_refused_appends(char *base[])
{
	const char *path = tmp_path("refused.jsonl");
	static const char *const reserved[] = { "id",    "time",  "seq",
						"prev",  "hash",  "actor",
						"signgate_version", "osslsigncode_version" };
	json_t *rec;
	size_t size;

	check_write_lines(path, base, BASE_RECORDS, 1);
	size = file_size(path);
	CHECK_INT(append_event(path, "approve", 11), SG_ERR_TAMPER);
	CHECK_CONTAINS(
		sg_error_last(),
		"refused.jsonl: last line 10 is torn (no newline, an interrupted write?); nothing "
		"was appended");
	CHECK_INT(file_size(path), size);

	check_write_lines(path, (char *[]){ "{\"seq\":" }, 1, 1);
	CHECK_INT(append_event(path, "approve", 1), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(), "last line 1 is torn (no newline");

	check_write_lines(path, (char *[]){ base[0], "garbage" }, 2, 0);
	size = file_size(path);
	CHECK_INT(append_event(path, "approve", 3), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(),
		       "the last line is not a valid audit record (not a JSON object");
	CHECK_INT(file_size(path), size);

	check_write_lines(path, base, BASE_RECORDS, 0);
	size = file_size(path);
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		rec = json_pack("{s:s, s:i}", "event", "approve", reserved[i], 1);
		CHECK_INT(sg_audit_append(path, rec, NULL), SG_ERR_USAGE);
		CHECK_CONTAINS(sg_error_last(), "must not set");
		CHECK_CONTAINS(sg_error_last(), reserved[i]);
		json_decref(rec);
	}
	rec = json_array();
	CHECK_INT(sg_audit_append(path, rec, NULL), SG_ERR_USAGE);
	json_decref(rec);
	rec = json_pack("{s:s%}", "note", "a\0b", (size_t)3);
	CHECK_INT(sg_audit_append(path, rec, NULL), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "cannot be stored faithfully");
	json_decref(rec);
	CHECK_INT(file_size(path), size);
	CHECK_INT(append_event(path, "approve", 10), SG_OK);
	CHECK_INT(sg_audit_verify(path, NULL), SG_OK);

	CHECK(symlink(path, tmp_path("link.jsonl")) == 0);
	CHECK_INT(append_event(tmp_path("link.jsonl"), "approve", 1), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "is a symbolic link");
}

static void test_too_long(void)
{
	const char *path = tmp_path("long.jsonl");
	char *big = malloc(SG_AUDIT_LINE_MAX + 2);
	json_t *rec;

	memset(big, 'x', SG_AUDIT_LINE_MAX + 1);
	big[SG_AUDIT_LINE_MAX + 1] = '\0';
	rec = json_pack("{s:s}", "note", big);
	CHECK_INT(sg_audit_append(path, rec, NULL), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "the limit is");
	json_decref(rec);

	check_write_lines(path, (char *[]){ big }, 1, 0);
	expect_tamper("long line", path, 1, "line 1 is longer than 1048576 bytes");
	CHECK_INT(append_event(path, "approve", 1), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(),
		       "the last line is not a valid audit record (longer than 1048576 bytes)");
	free(big);
}

struct seen {
	size_t count, last_line;
	int stop_at;
};

static int count_record(const json_t *record, size_t line, void *arg)
{
	struct seen *s = arg;

	s->count++;
	s->last_line = line;
	if (json_integer_value(json_object_get(record, "seq")) != (json_int_t)line)
		return -100;
	return s->stop_at && (int)line == s->stop_at ? 42 : 0;
}

static void test_foreach(const char *path, char *base[])
{
	struct seen s = { 0, 0, 0 };

	CHECK_INT(sg_audit_foreach(path, count_record, &s), SG_OK);
	CHECK_INT(s.count, BASE_RECORDS);
	CHECK_INT(s.last_line, BASE_RECORDS);
	s = (struct seen){ 0, 0, 3 };
	CHECK_INT(sg_audit_foreach(path, count_record, &s), 42);
	CHECK_INT(s.count, 3);

	check_write_lines(tmp_path("show.jsonl"), (char *[]){ base[0], "garbage" }, 2, 0);
	s = (struct seen){ 0, 0, 0 };
	CHECK_INT(sg_audit_foreach(tmp_path("show.jsonl"), count_record, &s), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(), "show.jsonl: line 2: not a JSON object");
	CHECK_INT(s.count, 1);
}

/* Fork `n` processes that each append PER_CHILD records to `path`. */
static void start_appenders(const char *path, pid_t *pids, int n)
{
	for (int c = 0; c < n; c++) {
		pids[c] = fork();
		if (pids[c] == 0) {
			int bad = 0;

			for (int i = 0; i < PER_CHILD; i++)
				bad |= append_event(path, "approve", c * 100 + i) != SG_OK;
			_exit(bad);
		}
	}
}

/* Wait for them; how many could not start or did not append every record. */
static int failed_appenders(const pid_t *pids, int n)
{
	int failed = 0, status;

	for (int c = 0; c < n; c++)
		if (pids[c] <= 0 || waitpid(pids[c], &status, 0) != pids[c] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed++;
	return failed;
}

static void test_concurrency(void)
{
	const char *path = tmp_path("concurrent.jsonl");
	sg_audit_report rep;
	pid_t pids[CHILDREN];

	start_appenders(path, pids, CHILDREN);
	CHECK_INT(failed_appenders(pids, CHILDREN), 0);
	CHECK_INT(sg_audit_verify(path, &rep), SG_OK);
	CHECK_INT(rep.records, CHILDREN * PER_CHILD);
	CHECK_INT(rep.bad_line, 0);
}

/*
 * A repair replaces the log by rename() while an append waits for the lock:
 * the append must land in the new file, not in the unlinked old one.
 */
static void test_replaced_while_waiting(char *base[])
{
	const char *path = tmp_path("swap.jsonl"), *fresh = tmp_path("swap.new");
	char *lines[MAX_LINES];
	int fd, status = -1;
	pid_t pid;
	size_t n;

	check_write_lines(path, base, 2, 0);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
	pid = fork();
	if (pid == 0)
		_exit(append_event(path, "approve", 99) != SG_OK);
	usleep(200 * 1000); /* let the child block on the lock; the test holds either way */
	check_write_lines(fresh, base, 1, 0);
	CHECK(rename(fresh, path) == 0);
	flock(fd, LOCK_UN);
	close(fd);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	n = check_read_lines(path, lines, MAX_LINES);
	CHECK_INT(n, 2);
	CHECK_STR(lines[0], base[0]);
	check_free_lines(lines, n);
	CHECK_INT(sg_audit_verify(path, NULL), SG_OK);
}

/* The archives of `path` in name order (which is rotation order here). */
static size_t archives(const char *path, const char *files[], size_t max)
{
	static glob_t g;
	char pattern[600];
	size_t n = 0;

	globfree(&g);
	snprintf(pattern, sizeof(pattern), "%s.2*", path);
	if (glob(pattern, 0, NULL, &g) == 0)
		for (; n < g.gl_pathc && n < max; n++)
			files[n] = g.gl_pathv[n];
	return n;
}

/*
 * Rotations while 8 processes append: every record lands in exactly one
 * file, the files chain in order, and the ways of getting the list wrong
 * are named.
 */
static void test_rotation(char *base[])
{
	const char *path = tmp_path("rot.jsonl"), *files[16];
	sg_audit_rotate_report rr;
	sg_audit_report rep;
	pid_t pids[8];
	int rotations = 0;
	size_t n;

	CHECK_INT(sg_audit_rotate(path, &rr), SG_ERR_IO); /* no log at all */
	check_write_lines(path, base, 0, 0);
	CHECK_INT(sg_audit_rotate(path, &rr), SG_OK); /* empty: nothing to do */
	CHECK_STR(rr.archive, "");
	CHECK_INT(archives(path, files, 16), 0);
	start_appenders(path, pids, 8);
	for (int r = 0; r < 5; r++) {
		usleep(20 * 1000);
		if (sg_audit_rotate(path, &rr) == SG_OK && rr.archive[0])
			rotations++;
	}
	CHECK_INT(failed_appenders(pids, 8), 0);
	CHECK(rotations > 0);
	n = archives(path, files, 15);
	CHECK_INT(n, rotations);
	files[n] = path;
	CHECK_INT(sg_audit_verify_files(files, n + 1, NULL, 0, &rep), SG_OK);
	CHECK_INT(rep.records, 8 * PER_CHILD + rotations);
	CHECK_INT(rep.first_seq, 1);
	CHECK_INT(rep.last_seq, 8 * PER_CHILD + rotations);

	/* The current file alone: valid, starting after the archives. */
	CHECK_INT(sg_audit_verify_files(&path, 1, NULL, 0, &rep), SG_OK);
	CHECK(rep.first_seq > 1);
	/* The archives in the wrong order, or one left out. */
	if (n >= 1) {
		const char *swapped[] = { path, files[0] };

		CHECK_INT(sg_audit_verify_files(swapped, 2, NULL, 0, &rep), SG_ERR_TAMPER);
		CHECK_CONTAINS(sg_error_last(), "files given out of order");
		CHECK_INT(rep.bad_file, 1);
		CHECK_INT(rep.bad_line, 1);
	}
	if (n >= 2) {
		files[1] = path;
		CHECK_INT(sg_audit_verify_files(files, 2, NULL, 0, &rep), SG_ERR_TAMPER);
		CHECK_CONTAINS(sg_error_last(), "records missing between them");
	}
	/* A torn log is not rotated, and nothing is moved. */
	CHECK_INT(append_event(path, "approve", 1), SG_OK);
	{
		int fd = open(path, O_WRONLY | O_APPEND);

		CHECK(fd >= 0 && write(fd, "{\"torn", 6) == 6);
		close(fd);
	}
	CHECK_INT(sg_audit_rotate(path, &rr), SG_ERR_TAMPER);
	CHECK_INT(archives(path, files, 16), n);
}

/* SHA-256 hex of the first `len` bytes of the file at `path`. */
static void prefix_sha256(char hex[65], const char *path, size_t len)
{
	unsigned char *buf = NULL;
	size_t size = 0;

	hex[0] = '\0';
	CHECK_INT(sg_read_file(&buf, &size, path, 64 << 20, "test", 0), SG_OK);
	if (buf && len <= size)
		sg_sha256_hex(hex, buf, len);
	free(buf);
}

/*
 * What a check read, digested as it read it: a broken file's bytes up to
 * where the check stopped, nothing of a file after it; the files a broken
 * chain of archives was followed through (a rotate record that names its
 * own log; a first line longer than a line may be), kept with what was read.
 */
static void test_read_digests(char *base[])
{
	const char *bad = tmp_path("digest-bad.jsonl"), *good = tmp_path("digest-good.jsonl");
	const char *loop = tmp_path("loop.jsonl"), *longf = tmp_path("long.jsonl");
	const char *two[2] = { bad, good };
	sg_audit_file_read read[2], *cread = NULL;
	char *l[BASE_RECORDS], hex[65], **files = NULL;
	json_t *rec;
	size_t n = 0;

	for (size_t i = 0; i < BASE_RECORDS; i++)
		l[i] = base[i];
	check_write_lines(good, l, BASE_RECORDS, 0);
	l[2] = "{\"edited\":true}";
	check_write_lines(bad, l, BASE_RECORDS, 0);
	CHECK_INT(sg_audit_verify_files_read(two, 2, NULL, 0, NULL, read), SG_ERR_TAMPER);
	CHECK_INT(read[0].read, 1);
	CHECK_INT(read[0].bytes, file_size(bad));
	CHECK_INT(read[0].whole, 1);
	prefix_sha256(hex, bad, file_size(bad));
	CHECK_STR(read[0].sha256, hex);
	CHECK_INT(read[1].read, 0);
	CHECK_INT(sg_audit_verify_files_read(&good, 1, NULL, 0, NULL, read), SG_OK);
	prefix_sha256(hex, good, file_size(good));
	CHECK_STR(read[0].sha256, hex);

	/* Record 1 made a rotate record continuing the log itself: a loop. */
	rec = parse(base[0]);
	json_object_set_new(rec, "action", json_string("rotate"));
	json_object_set_new(rec, "previous", json_pack("{s:s, s:i, s:s}", "file", "loop.jsonl",
							 "last_seq", 0, "head", "00"));
	l[0] = rehash(rec);
	l[2] = base[2];
	check_write_lines(loop, l, BASE_RECORDS, 0);
	sg_error_clear();
	CHECK_INT(sg_audit_chain_files_read(loop, &files, &cread, &n, NULL, 0, NULL), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(), "which is already in the chain of archives (a loop)");
	CHECK_INT(n, 1);
	CHECK(files && cread && strcmp(files[0], loop) == 0);
	if (cread) {
		CHECK_INT(cread[0].read, 1);
		CHECK(cread[0].bytes >= strlen(l[0]) + 1 && cread[0].bytes <= file_size(loop));
		prefix_sha256(hex, loop, (size_t)cread[0].bytes);
		CHECK_STR(cread[0].sha256, hex);
	}
	sg_audit_chain_files_free(files, n);
	free(cread);
	/* The plain call frees what it found on a loop. */
	CHECK_INT(sg_audit_chain_files(loop, &files, &n, NULL, 0), SG_ERR_TAMPER);
	CHECK(files == NULL && n == 0);
	free(l[0]);

	/* A first line longer than a line may be: the bytes read up to there. */
	{
		char *line = malloc(SG_AUDIT_LINE_MAX + 2);

		memset(line, 'x', SG_AUDIT_LINE_MAX + 1);
		line[SG_AUDIT_LINE_MAX + 1] = '\0';
		l[0] = line;
		check_write_lines(longf, l, 1, 0);
		free(line);
	}
	CHECK_INT(sg_audit_chain_files_read(longf, &files, &cread, &n, NULL, 0, NULL), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(), "is longer than");
	CHECK_INT(n, 1);
	if (cread && n == 1) {
		CHECK(cread[0].read && cread[0].bytes > SG_AUDIT_LINE_MAX);
		prefix_sha256(hex, longf, (size_t)cread[0].bytes);
		CHECK_STR(cread[0].sha256, hex);
	}
	sg_audit_chain_files_free(files, n);
	free(cread);
}

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

int main(void)
{
	char base_path[512], *base[MAX_LINES];
	size_t n;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	for (size_t i = 0; i < sizeof(ci_vars) / sizeof(ci_vars[0]); i++)
		unsetenv(ci_vars[i]);
	test_append_fields();
	test_build_id();

	snprintf(base_path, sizeof(base_path), "%s", tmp_path("base.jsonl"));
	for (int i = 0; i < BASE_RECORDS; i++)
		CHECK_INT(append_event(base_path, "approve", i), SG_OK);
	n = check_read_lines(base_path, base, MAX_LINES);
	CHECK_INT(n, BASE_RECORDS);
	test_verify_ok(base_path);
	test_tampering(base);
	test_refused_appends(base);
	test_too_long();
	test_foreach(base_path, base);
	test_concurrency();
	test_replaced_while_waiting(base);
	test_rotation(base);
	test_read_digests(base);
	check_free_lines(base, n);

	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return check_done();
}

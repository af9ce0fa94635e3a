/*
 * Unit tests for lib/report (report.c, report_pass.c, report_json.c): the
 * calls a sink receives, in order; and the passes bound to the verified chain:
 * records appended while the report is made are not in it, and a log
 * edited, replaced or rotated meanwhile fails the report (SG_ERR_TAMPER)
 * instead of feeding it other records. A broken chain: the summary and no
 * section. The JSON sink's output is one JSON object.
 */
#include "signgate/audit.h"
#include "signgate/audit_seal.h"
#include "signgate/hash.h"
#include "signgate/error.h"
#include "signgate/report.h"

#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *tmpdir;

enum { HOOK_NONE, HOOK_APPEND, HOOK_EDIT, HOOK_REPLACE, HOOK_ROTATE };

/* A sink that counts what it receives and, once, changes the log (at begin or at a row). */
struct rec_sink {
	json_t *summary;
	char calls[512]; /* "B", "S(name,count)", "r", "E(name)", "Z" in order */
	size_t rows;
	int hook, hook_at_row, hooked, fail_row;
	const char *log;
};

static void note(struct rec_sink *s, const char *text)
{
	size_t used = strlen(s->calls);

	snprintf(s->calls + used, sizeof(s->calls) - used, "%s", text);
}

static void append(const char *log, const char *action, const char *decision, const char *name)
{
	json_t *rec = json_pack("{s:s, s:s, s:{s:s, s:s}, s:[s]}", "action", action, "decision",
				decision, "input", "name", name, "sha256",
				"0101010101010101010101010101010101010101010101010101010101010101",
				"reasons", "a reason");

	CHECK_INT(sg_audit_append(log, rec, NULL), SG_OK);
	json_decref(rec);
}

/* Flip one byte of the reason of line 2 ("a reason" -> "b reason"), in place. */
static void edit_in_place(const char *log)
{
	FILE *f = fopen(log, "r+");
	char buf[65536];
	size_t n;
	char *line2, *at;

	CHECK(f != NULL);
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	line2 = strchr(buf, '\n');
	at = line2 ? strstr(line2 + 1, "a reason") : NULL;
	CHECK(at != NULL);
	if (at) {
		fseek(f, (long)(at - buf), SEEK_SET);
		fputc('b', f);
	}
	fclose(f);
}

/* Another log of as many records, renamed over this one. */
static void replace(const char *log)
{
	const char *other = check_path(tmpdir, "other.jsonl");

	unlink(other);
	for (int i = 0; i < 5; i++)
		append(other, "check", "approved", "other.exe");
	CHECK_INT(rename(other, log), 0);
}

static void run_hook(struct rec_sink *s)
{
	sg_audit_rotate_report rot;

	if (s->hooked || s->hook == HOOK_NONE)
		return;
	s->hooked = 1;
	if (s->hook == HOOK_APPEND)
		for (int i = 0; i < 3; i++)
			append(s->log, "sign", "denied", "late.exe");
	else if (s->hook == HOOK_EDIT)
		edit_in_place(s->log);
	else if (s->hook == HOOK_REPLACE)
		replace(s->log);
	else
		CHECK_INT(sg_audit_rotate(s->log, &rot), SG_OK);
}

static int s_begin(void *arg, const json_t *summary)
{
	struct rec_sink *s = arg;

	s->summary = json_deep_copy(summary);
	note(s, "B");
	if (!s->hook_at_row)
		run_hook(s);
	return SG_OK;
}

static int s_section(void *arg, const char *name, size_t count)
{
	char text[64];

	snprintf(text, sizeof(text), "S(%s,%zu)", name, count);
	note(arg, text);
	return SG_OK;
}

static int s_row(void *arg, const char *section, const json_t *row)
{
	struct rec_sink *s = arg;

	(void)section;
	(void)row;
	s->rows++;
	note(s, "r");
	if (s->hook_at_row)
		run_hook(s);
	return s->fail_row ? sg_error_set(SG_ERR_IO, "the sink failed") : SG_OK;
}

static int s_end_section(void *arg, const char *name)
{
	char text[64];

	snprintf(text, sizeof(text), "E(%s)", name);
	note(arg, text);
	return SG_OK;
}

static int s_end(void *arg)
{
	note(arg, "Z");
	return SG_OK;
}

static const char *new_log(const char *name)
{
	const char *log = check_path(tmpdir, name);

	append(log, "sign", "signed", "a.exe");
	append(log, "sign", "denied", "b.exe");
	append(log, "sign", "failed", "c.exe");
	append(log, "check", "approved", "d.exe");
	append(log, "sign", "signed", "e.exe");
	return log;
}

static int make(struct rec_sink *s, const char *log, int *verdict)
{
	const char *logs[1] = { log };
	sg_report_options o = { .logs = logs, .n_logs = 1, .now = time(NULL) };
	sg_report_sink sink = { s, s_begin, s_section, s_row, s_end_section, s_end, NULL };

	s->log = log;
	return sg_report_make(&o, &sink, verdict);
}

static void test_calls(void)
{
	struct rec_sink s = { 0 };
	int verdict = -1;

	CHECK_INT(make(&s, new_log("calls.jsonl"), &verdict), SG_OK);
	CHECK_INT(verdict, 0);
	CHECK_STR(s.calls, "BS(problems,2)rrE(problems)S(signings,2)rrE(signings)Z");
	CHECK_STR(json_string_value(json_object_get(json_object_get(s.summary, "verdict"), "status")),
		  "intact");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(s.summary, "totals"), "records")),
		  5);
	json_decref(s.summary);
}

/* Records appended after the check are not read: the rows stop at the verified head. */
static void test_appended(void)
{
	struct rec_sink s = { .hook = HOOK_APPEND };
	int verdict = -1;

	CHECK_INT(make(&s, new_log("appended.jsonl"), &verdict), SG_OK);
	CHECK_STR(s.calls, "BS(problems,2)rrE(problems)S(signings,2)rrE(signings)Z");
	CHECK_INT(s.rows, 4);
	json_decref(s.summary);
}

static void expect_changed(int hook, int at_row, const char *name, const char *why)
{
	struct rec_sink s = { .hook = hook, .hook_at_row = at_row };
	int verdict = -1;

	CHECK_INT(make(&s, new_log(name), &verdict), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(), "changed while the report was made");
	CHECK_CONTAINS(sg_error_last(), why);
	CHECK(strchr(s.calls, 'Z') == NULL); /* never ended: the output is discarded */
	json_decref(s.summary);
}

static void test_changed(void)
{
	/* Edited before the rows: line 2's record no longer chains (line 3's prev). */
	expect_changed(HOOK_EDIT, 0, "edit.jsonl", "a line does not chain to the one before it");
	/* Edited during the rows of the first section. */
	expect_changed(HOOK_EDIT, 1, "edit-row.jsonl", "a line does not chain");
	/* Replaced by another valid chain of as many records: not the verified head. */
	expect_changed(HOOK_REPLACE, 0, "replace.jsonl", "not the verified head");
	/* Rotated: the file at the path now starts with the rotate record. */
	expect_changed(HOOK_ROTATE, 0, "rotate.jsonl", "another seq");
}

/* A broken chain: the summary, no section, verdict 3; nothing of the records. */
static void test_broken(void)
{
	const char *log = new_log("broken.jsonl");
	struct rec_sink s = { 0 };
	int verdict = -1;

	edit_in_place(log);
	CHECK_INT(make(&s, log, &verdict), SG_OK);
	CHECK_INT(verdict, 3);
	CHECK_STR(s.calls, "BZ");
	CHECK_STR(json_string_value(json_object_get(json_object_get(s.summary, "verdict"), "status")),
		  "broken");
	CHECK(json_is_null(json_object_get(s.summary, "totals")));
	CHECK_INT(json_array_size(json_object_get(s.summary, "days")), 0);
	json_decref(s.summary);
}

/* A sink's error stops the report with that error. */
static void test_sink_error(void)
{
	struct rec_sink s = { .fail_row = 1 };
	int verdict = -1;

	CHECK_INT(make(&s, new_log("sinkerr.jsonl"), &verdict), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "the sink failed");
	CHECK_STR(s.calls, "BS(problems,2)r");
	json_decref(s.summary);
}

/* The JSON sink writes one object: the summary's members, then each section's rows. */
static void test_json_sink(void)
{
	const char *logs[1] = { new_log("json.jsonl") };
	sg_report_options o = { .logs = logs, .n_logs = 1, .now = time(NULL),
				.since = "2026-01-01" };
	sg_report_sink sink;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int verdict = -1;
	json_t *doc;

	CHECK(f != NULL);
	CHECK_INT(sg_report_sink_json(&sink, f), SG_OK);
	CHECK_INT(sg_report_make(&o, &sink, &verdict), SG_OK);
	sg_report_sink_free(&sink);
	fclose(f);
	doc = json_loads(text ? text : "", 0, NULL);
	CHECK(json_is_object(doc));
	CHECK_INT(json_array_size(json_object_get(doc, "problems")), 2);
	CHECK_INT(json_array_size(json_object_get(doc, "signings")), 2);
	CHECK_STR(json_string_value(json_object_get(json_object_get(doc, "report"), "since")),
		  "2026-01-01");
	CHECK(json_object_get(doc, "no_longer_approved") == NULL);
	json_decref(doc);
	free(text);
}

/*
 * The seals file's "files" entry is the bytes the seals were checked from
 * (sg_audit_seals_load() keeps their size and SHA-256), never a later read
 * of the file: a seal appended meanwhile is not named as checked.
 */
static void test_seals_digest(void)
{
	struct rec_sink s = { 0 };
	const char *logs[1] = { new_log("sealed.jsonl") };
	const char *seals_path = check_path(tmpdir, "seals.jsonl");
	sg_audit_seals seals = { .bytes = 11 };
	sg_report_options o = { .logs = logs, .n_logs = 1, .now = time(NULL), .seals = &seals,
				.seals_path = seals_path };
	sg_report_sink sink = { &s, s_begin, s_section, s_row, s_end_section, s_end, NULL };
	json_t *files, *last;
	FILE *f = fopen(seals_path, "w");
	int verdict = -1;

	CHECK(f != NULL);
	fputs("checked seals, and a seal appended after the check\n", f);
	fclose(f);
	CHECK_INT(sg_sha256_hex(seals.sha256, "checked sea", 11), SG_OK);
	CHECK_INT(sg_report_make(&o, &sink, &verdict), SG_OK);
	files = json_object_get(s.summary, "files");
	last = json_array_get(files, json_array_size(files) - 1);
	CHECK_STR(json_string_value(json_object_get(last, "role")), "seals");
	CHECK_INT(json_integer_value(json_object_get(last, "bytes")), 11);
	CHECK_STR(json_string_value(json_object_get(last, "sha256")), seals.sha256);
	json_decref(s.summary);
}

static void test_usage(void)
{
	struct rec_sink s = { 0 };
	const char *logs[1] = { new_log("usage.jsonl") };
	sg_report_options o = { .logs = logs, .n_logs = 1, .since = "2026-01-02",
				.until = "2026-01-01" };
	sg_report_sink sink = { &s, s_begin, s_section, s_row, s_end_section, s_end, NULL };
	int verdict = -1;

	CHECK_INT(sg_report_make(&o, &sink, &verdict), SG_ERR_USAGE);
	CHECK_STR(s.calls, "");
	o.since = "2026-01-01T24:00:00Z";
	o.until = NULL;
	CHECK_INT(sg_report_make(&o, &sink, &verdict), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "--since 2026-01-01T24:00:00Z");
}

int main(void)
{
	if (check_workdir_create(&tmpdir) != 0)
		return 1;
	test_calls();
	test_appended();
	test_changed();
	test_broken();
	test_sink_error();
	test_json_sink();
	test_seals_digest();
	test_usage();
	check_workdir_remove(&tmpdir);
	return check_done();
}

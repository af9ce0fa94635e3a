/*
 * Unit tests for lib/audit_signings.c: the map from a signed output's
 * SHA-256 to the input its signing record names, read in one pass per map
 * (a record appended afterwards is not seen), across rotated archives, and
 * refused whole when a line or a link of the chain is bad.
 */
#include "signgate/audit.h"
#include "signgate/audit_signings.h"
#include "signgate/error.h"

#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_audit_signings.XXXXXX";

/* A 64-digit hex digest made of `c`. */
static const char *hex(char c)
{
	static char buf[8][65];
	static int next;
	char *p = buf[next++ % 8];

	memset(p, c, 64);
	p[64] = '\0';
	return p;
}

static void append(const char *log, const char *action, const char *decision, char out, char in,
		   const char *name)
{
	json_t *rec = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:b}, s:{s:s}, s:{s:s}}", "action",
				action, "decision", decision, "status", "ok", "input", "name", name,
				"sha256", hex(in), "signed_before", 0, "output", "sha256", hex(out),
				"approval", "id", "app-1");

	CHECK_INT(sg_audit_append(log, rec, NULL), SG_OK);
	json_decref(rec);
}

static const sg_audit_signing *find(sg_audit_signings *m, const char *out, char *gap)
{
	const sg_audit_signing *s = (const sg_audit_signing *)&s;

	CHECK_INT(sg_audit_signings_find(m, out, &s, gap, 512), SG_OK);
	return s;
}

struct lookup {
	sg_audit_signings *m;
	const sg_audit_signing *got;
};

static void *lookup_thread(void *arg)
{
	struct lookup *l = arg;
	char gap[512];

	sg_audit_signings_find(l->m, hex('a'), &l->got, gap, sizeof(gap));
	return NULL;
}

static void test_map(const char *log)
{
	sg_audit_signings *m = NULL;
	const sg_audit_signing *s;
	struct lookup l[4];
	pthread_t tid[4];
	char gap[512];

	CHECK_INT(sg_audit_signings_new(&m, log), SG_OK);
	CHECK(find(m, hex('a'), gap) == NULL);
	CHECK_CONTAINS(gap, "there is no audit log at");
	sg_audit_signings_free(m);

	append(log, "check", "approved", 'b', '1', "x.exe");
	append(log, "sign", "signed", 'a', '2', "hello.exe");
	append(log, "sign", "failed", 'c', '3', "failed.exe");
	append(log, "sign", "denied", 'd', '4', "denied.exe");
	append(log, "sign", "signed", 'e', '5', "e.exe");
	append(log, "sign", "signed", 'e', '6', "e2.exe"); /* the same output, other bytes */
	sg_audit_signings_new(&m, log);
	/* Threads look up at once: one builds the map, all find the same record. */
	for (int i = 0; i < 4; i++) {
		l[i] = (struct lookup){ m, NULL };
		pthread_create(&tid[i], NULL, lookup_thread, &l[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		CHECK(l[i].got != NULL && l[i].got == l[0].got);
	}
	s = find(m, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", gap);
	CHECK(s != NULL);
	if (s) {
		CHECK_STR(s->input_sha256, hex('2'));
		CHECK_STR(s->input_name, "hello.exe");
		CHECK_STR(s->approval_id, "app-1");
		CHECK_INT(s->seq, 2);
		CHECK_INT(s->conflict, 0);
		CHECK(s->input_sha512 == NULL);
	}
	CHECK_STR(gap, "");
	CHECK(find(m, hex('b'), gap) == NULL); /* a check record is no signing */
	CHECK(find(m, hex('c'), gap) == NULL);
	CHECK(find(m, hex('d'), gap) == NULL);
	s = find(m, hex('e'), gap);
	CHECK(s && s->conflict == 1 && s->seq == 6);
	/* One pass per map: what is appended later is not read again. */
	append(log, "sign", "signed", 'f', '7', "f.exe");
	CHECK(find(m, hex('f'), gap) == NULL);
	sg_audit_signings_free(m);
	sg_audit_signings_new(&m, log);
	CHECK(find(m, hex('f'), gap) != NULL);
	sg_audit_signings_free(m);
}

/*
 * A "timestamp" record that says "timestamped" (signgate timestamp): its
 * output maps to the signing record of its input, also through a second
 * timestamping; other decisions, and inputs the log never signed, add
 * nothing.
 */
static void test_timestamped(const char *log)
{
	sg_audit_signings *m = NULL;
	const sg_audit_signing *s;
	char gap[512];

	append(log, "sign", "signed", 'a', '2', "hello.exe");
	append(log, "timestamp", "timestamped", 'b', 'a', "hello.exe");
	append(log, "timestamp", "timestamped", 'c', 'b', "hello.exe");
	append(log, "timestamp", "failed", 'd', 'a', "hello.exe");
	append(log, "timestamp", "skipped", 'e', 'a', "hello.exe");
	append(log, "timestamp", "timestamped", 'f', '9', "unknown.exe");
	append(log, "verify", "timestamped", '8', 'a', "hello.exe");
	CHECK_INT(sg_audit_signings_new(&m, log), SG_OK);
	for (const char *c = "abc"; *c; c++) {
		s = find(m, hex(*c), gap);
		CHECK(s != NULL);
		if (!s)
			continue;
		CHECK_STR(s->output_sha256, hex(*c));
		CHECK_STR(s->input_sha256, hex('2'));
		CHECK_STR(s->input_name, "hello.exe");
		CHECK_STR(s->approval_id, "app-1");
		CHECK_INT(s->seq, 1); /* the signing record it was made from */
		CHECK_INT(s->conflict, 0);
	}
	for (const char *c = "def89"; *c; c++)
		CHECK(find(m, hex(*c), gap) == NULL);
	sg_audit_signings_free(m);
}

static void test_rotated(const char *log)
{
	sg_audit_rotate_report rep;
	sg_audit_signings *m = NULL;
	char gap[512], moved[PATH_MAX + 8];

	CHECK_INT(sg_audit_rotate(log, &rep), SG_OK);
	append(log, "sign", "signed", '9', '8', "new.exe");
	CHECK_INT(sg_audit_rotate(log, &rep), SG_OK);
	sg_audit_signings_new(&m, log);
	CHECK(find(m, hex('a'), gap) != NULL); /* in the first archive */
	CHECK(find(m, hex('9'), gap) != NULL); /* in the second */
	CHECK_STR(gap, "");
	sg_audit_signings_free(m);
	/* Without the newest archive, the older records are not known, and the gap says so. */
	snprintf(moved, sizeof(moved), "%s.away", rep.archive);
	CHECK_INT(rename(rep.archive, moved), 0);
	sg_audit_signings_new(&m, log);
	CHECK(find(m, hex('a'), gap) == NULL);
	CHECK_CONTAINS(gap, "which is not beside it");
	CHECK_CONTAINS(gap, rep.archive);
	sg_audit_signings_free(m);
	CHECK_INT(rename(moved, rep.archive), 0);
}

/*
 * The archive a rotate record names is replaced: by a FIFO (read at once as
 * "not a regular file", never waited on), by a symlink to another chain
 * that holds a signing record of its own (it does not end where the log's
 * rotate record says: refused), or by a copy with a record dropped.
 */
static void test_archive_swapped(const char *log)
{
	sg_audit_rotate_report rep;
	sg_audit_signings *m = NULL;
	const sg_audit_signing *s;
	char gap[512], saved[PATH_MAX + 8], forged[PATH_MAX];

	CHECK_INT(sg_audit_rotate(log, &rep), SG_OK);
	snprintf(saved, sizeof(saved), "%s.saved", rep.archive);
	CHECK_INT(rename(rep.archive, saved), 0);

	CHECK_INT(mkfifo(rep.archive, 0600), 0);
	sg_audit_signings_new(&m, log);
	CHECK_INT(sg_audit_signings_find(m, hex('a'), &s, gap, sizeof(gap)), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "not a regular file");
	sg_audit_signings_free(m);
	CHECK_INT(unlink(rep.archive), 0);

	/* a chain of its own, from seq 1, with a signing of output 'z' */
	snprintf(forged, sizeof(forged), "%s", check_path(tmpdir, "forged.jsonl"));
	append(forged, "sign", "signed", 'z', '1', "forged.exe");
	CHECK_INT(symlink(forged, rep.archive), 0);
	sg_audit_signings_new(&m, log);
	CHECK_INT(sg_audit_signings_find(m, hex('z'), &s, gap, sizeof(gap)), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(), "does not follow the record before it");
	sg_audit_signings_free(m);
	CHECK_INT(unlink(rep.archive), 0);

	/* the genuine archive without its last line (all lines still well-formed) */
	{
		FILE *in = fopen(saved, "r"), *out = fopen(rep.archive, "w");
		char line[65536], prev[65536] = "";
		int first = 1;
		while (in && out && fgets(line, sizeof(line), in)) {
			if (!first)
				fputs(prev, out);
			snprintf(prev, sizeof(prev), "%s", line);
			first = 0;
		}
		if (in)
			fclose(in);
		if (out)
			fclose(out);
	}
	sg_audit_signings_new(&m, log);
	CHECK_INT(sg_audit_signings_find(m, hex('a'), &s, gap, sizeof(gap)), SG_ERR_TAMPER);
	sg_audit_signings_free(m);
	CHECK_INT(rename(saved, rep.archive), 0);
	sg_audit_signings_new(&m, log);
	CHECK(find(m, hex('a'), gap) != NULL);
	sg_audit_signings_free(m);
}

/* Replace the first `from` in the file at `path` with `to` (same length). */
static void edit(const char *path, const char *from, const char *to)
{
	FILE *f = fopen(path, "r+");
	char buf[65536], *hit;
	size_t len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	buf[len] = '\0';
	hit = strstr(buf, from);
	if (!f || !hit || strlen(from) != strlen(to))
		exit(2);
	memcpy(hit, to, strlen(to));
	rewind(f);
	fwrite(buf, 1, len, f);
	fclose(f);
}

static void test_tampered(const char *log)
{
	sg_audit_signings *m = NULL;
	const sg_audit_signing *s;
	char gap[512];

	append(log, "sign", "signed", '7', '7', "last.exe");
	edit(log, "\"name\":\"last.exe\"", "\"name\":\"LAST.exe\"");
	sg_audit_signings_new(&m, log);
	for (int i = 0; i < 2; i++) { /* the same error on every lookup */
		sg_error_clear();
		CHECK_INT(sg_audit_signings_find(m, hex('a'), &s, gap, sizeof(gap)), SG_ERR_TAMPER);
		CHECK_CONTAINS(sg_error_last(), "line 2: hash does not match");
	}
	sg_audit_signings_free(m);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 2;
	test_map(check_path(tmpdir, "audit.jsonl"));
	test_rotated(check_path(tmpdir, "audit.jsonl"));
	test_archive_swapped(check_path(tmpdir, "audit.jsonl"));
	test_tampered(check_path(tmpdir, "audit.jsonl"));
	test_timestamped(check_path(tmpdir, "timestamped.jsonl"));
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
	return check_done();
}

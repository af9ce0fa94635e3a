/*
 * Unit tests for lib/watch (signgate/watch.h): the folder rules and the
 * lock, what a pass claims and refuses, outcomes and their publication,
 * and the states a crash leaves (an empty claim folder, a claim with its
 * .outcome, a claim whose run died SG_WATCH_MAX_STARTS times).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "signgate/error.h"
#include "signgate/util.h"
#include "signgate/watch.h"

static char base[PATH_MAX], inbox[PATH_MAX], outbox[PATH_MAX], rejected[PATH_MAX], work[PATH_MAX];

static void path_in(char *out, const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		out[0] = '\0';
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	path_in(p, dir, name);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int exists(const char *dir, const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	path_in(p, dir, name);
	return lstat(p, &st) == 0;
}

static char *slurp(const char *dir, const char *name)
{
	char p[PATH_MAX];
	unsigned char *buf = NULL;
	size_t len;

	path_in(p, dir, name);
	if (sg_read_file(&buf, &len, p, 1 << 20, NULL, 0) != SG_OK)
		return NULL;
	return (char *)buf;
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	if (d)
		closedir(d);
	return n;
}

static void fresh(void)
{
	static int round;
	char p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s/r%d", base, ++round) >= (int)sizeof(p))
		return;
	mkdir(p, 0700);
	path_in(inbox, p, "inbox");
	path_in(outbox, p, "outbox");
	path_in(rejected, p, "rejected");
	path_in(work, p, "work");
	mkdir(inbox, 0700);
	mkdir(outbox, 0755);
	chmod(inbox, 0700); /* group-writable needs the sticky bit (README "Inbox service") */
}

typedef struct seen {
	int published, rejected, problems;
	char last[256];
} seen;

static void on_published(const sg_watch_claim *c, const char *rejected_as, const char *decision,
			 const char *message, const char *audit_id, void *arg)
{
	seen *s = arg;

	(void)decision;
	(void)message;
	(void)audit_id;
	s->published++;
	s->rejected += rejected_as != NULL;
	snprintf(s->last, sizeof(s->last), "%s", c->name);
}

static void on_problem(const char *message, void *arg)
{
	seen *s = arg;

	s->problems++;
	snprintf(s->last, sizeof(s->last), "%s", message);
}

static void test_folder_rules(void)
{
	sg_watch *w = NULL, *w2 = NULL;
	char link[PATH_MAX];

	fresh();
	chmod(inbox, 0777);
	CHECK_INT(sg_watch_open(&w, inbox, outbox, NULL, NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "others may write this folder and it has no sticky bit");
	CHECK(w == NULL);
	chmod(inbox, 01777);
	CHECK_INT(sg_watch_open(&w, inbox, outbox, NULL, NULL), SG_OK);
	CHECK_STR(sg_watch_work(w), work);
	CHECK_STR(sg_watch_rejected(w), rejected);
	/* The lock: a second watcher of the same inbox is refused. */
	CHECK_INT(sg_watch_open(&w2, inbox, outbox, NULL, NULL), SG_ERR_EXISTS);
	CHECK_CONTAINS(sg_error_last(), "another signgate watch holds this inbox");
	sg_watch_free(w);
	CHECK_INT(sg_watch_open(&w2, inbox, outbox, NULL, NULL), SG_OK);
	sg_watch_free(w2);
	/* A work folder others can read, or a link in its place: refused. */
	chmod(work, 0755);
	CHECK_INT(sg_watch_open(&w, inbox, outbox, NULL, NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "must be owned by uid");
	rmdir(work);
	path_in(link, base, "elsewhere");
	mkdir(link, 0700);
	CHECK_INT(symlink(link, work), 0);
	CHECK_INT(sg_watch_open(&w, inbox, outbox, NULL, NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "not a folder (a link?)");
	unlink(work);
	/* A missing outbox; an outbox that is the rejected folder. */
	CHECK_INT(sg_watch_open(&w, inbox, link, link, NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "must not be the rejected folder too");
	path_in(link, base, "no-such-folder");
	CHECK_INT(sg_watch_open(&w, inbox, link, NULL, NULL), SG_ERR_CONFIG);
	CHECK(w == NULL);
	if (geteuid() == 0) { /* an inbox owned by another account */
		CHECK_INT(chown(inbox, 65534, 0), 0);
		CHECK_INT(sg_watch_open(&w, inbox, outbox, NULL, NULL), SG_ERR_CONFIG);
		CHECK_CONTAINS(sg_error_last(), "owned by uid 65534");
	}
}

static void test_claims(void)
{
	sg_watch *w = NULL;
	sg_watch_claim *c = NULL;
	size_t n = 0, problems = 9;
	char p[PATH_MAX], q[PATH_MAX];

	fresh();
	CHECK_INT(sg_watch_open(&w, inbox, outbox, NULL, NULL), SG_OK);
	put(inbox, "a.exe.part", "in progress");
	put(inbox, ".hidden", "hidden");
	put(inbox, "b.exe", "complete");
	put(inbox, "c.exe", "complete too");
	path_in(p, inbox, "c.exe");
	path_in(q, base, "c-link");
	CHECK_INT(link(p, q), 0);
	path_in(p, inbox, "d.exe");
	CHECK_INT(symlink("/etc/passwd", p), 0);
	/* At most `max` claims a pass, in name order. */
	CHECK_INT(sg_watch_scan(w, 1, &c, &n, &problems, NULL), SG_OK);
	CHECK_INT(n, 1);
	CHECK_INT(problems, 0);
	CHECK_STR(c[0].name, "b.exe");
	CHECK_STR(c[0].refuse, "");
	CHECK_INT(c[0].uid, geteuid());
	snprintf(p, sizeof(p), ".u%u/b.exe", (unsigned)geteuid());
	CHECK_CONTAINS(c[0].input, p);
	CHECK(strncmp(c[0].input, work, strlen(work)) == 0);
	path_in(p, outbox, "b.exe");
	CHECK_STR(c[0].output, p);
	CHECK(!exists(inbox, "b.exe"));
	sg_watch_claims_free(c, n);
	/* The next pass: b.exe is still claimed (no outcome), c.exe and d.exe are refused. */
	CHECK_INT(sg_watch_scan(w, 64, &c, &n, &problems, NULL), SG_OK);
	CHECK_INT(n, 3);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(c[i].name, "c.exe") == 0)
			CHECK_CONTAINS(c[i].refuse, "the file has 2 hard links");
		else if (strcmp(c[i].name, "d.exe") == 0)
			CHECK_STR(c[i].refuse, "a symbolic link, not a regular file");
		else
			CHECK_STR(c[i].name, "b.exe");
	}
	CHECK(exists(inbox, "a.exe.part") && exists(inbox, ".hidden"));
	sg_watch_claims_free(c, n);
	sg_watch_free(w);
}

/* An outcome as the pipeline hands it back. */
static void outcome_of(sg_outcome *r, int status, const char *decision, const char *id)
{
	memset(r, 0, sizeof(*r));
	r->status = status;
	r->decision = decision;
	snprintf(r->message, sizeof(r->message), "x.exe: no approval matches (default deny)");
	snprintf(r->audit_id, sizeof(r->audit_id), "%s", id);
}

static void test_outcomes(void)
{
	sg_watch *w = NULL;
	sg_watch_claim *c = NULL;
	size_t n = 0, problems = 0;
	sg_watch_events ev;
	seen s = { 0 };
	sg_outcome *r = calloc(1, sizeof(*r));
	char *text, dir[PATH_MAX];

	ev.published = on_published;
	ev.problem = on_problem;
	ev.arg = &s;
	fresh();
	CHECK_INT(sg_watch_open(&w, inbox, outbox, NULL, NULL), SG_OK);
	put(inbox, "x.exe", "denied bytes");
	put(rejected, "x.exe", "an earlier rejection");
	CHECK_INT(sg_watch_scan(w, 64, &c, &n, &problems, &ev), SG_OK);
	CHECK_INT(n, 1);
	/* Nothing recorded: no outcome, the claim stays. */
	outcome_of(r, SG_ERR_IO, "failed", "");
	CHECK_INT(sg_watch_write_outcome(&c[0], r), SG_ERR_IO);
	CHECK_INT(sg_watch_publish(w, &c[0], &ev), SG_OK);
	CHECK(!c[0].published);
	/* Denied: x.exe is taken in the rejected folder, so x.exe.1 and its .reason. */
	outcome_of(r, SG_ERR_DENIED, "denied", "11111111-2222-3333-4444-555555555555");
	CHECK_INT(sg_watch_write_outcome(&c[0], r), SG_OK);
	snprintf(dir, sizeof(dir), "%s", c[0].dir);
	CHECK_INT(sg_watch_publish(w, &c[0], &ev), SG_OK);
	CHECK(c[0].published);
	CHECK_INT(s.rejected, 1);
	text = slurp(rejected, "x.exe.1");
	CHECK_STR(text, "denied bytes");
	free(text);
	text = slurp(rejected, "x.exe.1.reason");
	CHECK_CONTAINS(text, "file: x.exe\n");
	CHECK_CONTAINS(text, "decision: denied\nstatus: denied\n");
	CHECK_CONTAINS(text, "reason: x.exe: no approval matches (default deny)\n");
	CHECK_CONTAINS(text, "audit record: 11111111-2222-3333-4444-555555555555\n");
	free(text);
	CHECK(access(dir, F_OK) != 0);
	sg_watch_claims_free(c, n);
	CHECK_INT(entries(work), 0);
	sg_watch_free(w);
	free(r);
}

/* The states a crash leaves, as the next pass finds them. */
static void test_recovery(void)
{
	sg_watch *w = NULL;
	sg_watch_claim *c = NULL;
	size_t n = 0, problems = 0;
	sg_watch_events ev;
	seen s = { 0 };
	sg_outcome *r = calloc(1, sizeof(*r));
	char p[PATH_MAX];

	ev.published = on_published;
	ev.problem = on_problem;
	ev.arg = &s;
	fresh();
	CHECK_INT(sg_watch_open(&w, inbox, outbox, NULL, NULL), SG_OK);
	/* An empty claim folder (killed between its mkdir and the rename): removed. */
	path_in(p, work, "claim.20260101T000000Z.AAAAAA");
	CHECK_INT(mkdir(p, 0700), 0);
	/* A signed claim killed after its .outcome: published, not run again. */
	put(inbox, "s.exe", "vendor bytes");
	put(inbox, "t.exe", "dies every time");
	CHECK_INT(sg_watch_scan(w, 64, &c, &n, &problems, &ev), SG_OK);
	CHECK_INT(n, 2);
	CHECK_INT(entries(work), 2);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(c[i].name, "s.exe") == 0) {
			outcome_of(r, SG_OK, "signed", "aaaaaaaa-2222-3333-4444-555555555555");
			CHECK_INT(sg_watch_write_outcome(&c[i], r), SG_OK);
			put(outbox, "s.exe", "signed bytes");
		} else {
			for (int k = 0; k < SG_WATCH_MAX_STARTS; k++)
				CHECK_INT(sg_watch_mark_started(&c[i]), SG_OK);
		}
	}
	sg_watch_claims_free(c, n);
	CHECK_INT(sg_watch_scan(w, 64, &c, &n, &problems, &ev), SG_OK);
	CHECK_INT(s.published, 1);
	CHECK_INT(s.rejected, 0);
	CHECK_STR(s.last, "s.exe");
	CHECK_INT(n, 1);
	CHECK_STR(c[0].name, "t.exe");
	CHECK_CONTAINS(c[0].refuse, "the signing run ended 3 times with this file in hand");
	CHECK_INT(entries(work), 1);
	sg_watch_claims_free(c, n);
	sg_watch_free(w);
	free(r);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	umask(022);
	snprintf(base, sizeof(base), "%s/sg-watch-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	test_folder_rules();
	test_claims();
	test_outcomes();
	test_recovery();
	{
		char *argv[] = { "rm", "-rf", base, NULL };
		pid_t pid = fork();
		if (pid == 0) {
			execv("/bin/rm", argv);
			_exit(127);
		}
		waitpid(pid, NULL, 0);
	}
	return check_done();
}

/*
 * Unit tests for lib/policy.c: policy files and folders written into a
 * mkdtemp() folder, the error for each kind of broken approval, and
 * sg_policy_decide() at fixed times around expiry dates.
 */
#include "signgate/error.h"
#include "signgate/policy.h"

#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_policy.XXXXXX";

/* Fake vendor digests: "S<n>" is a SHA-256 of n repeated, "T<n>" a SHA-512. */
static char s256[10][65], s512[10][129], upper256[10][65], upper512[10][129];

static void make_digests(void)
{
	for (int n = 0; n < 10; n++) {
		for (int i = 0; i < 64; i++)
			s256[n][i] = i % 2 ? "0123456789"[n] : 'a' + (i / 2) % 6;
		for (int i = 0; i < 128; i++)
			s512[n][i] = i % 2 ? "0123456789"[n] : 'a' + (i / 2) % 6;
		memcpy(upper256[n], s256[n], 65);
		memcpy(upper512[n], s512[n], 129);
		for (int i = 0; i < 64; i++)
			upper256[n][i] = (char)(upper256[n][i] >= 'a' ? upper256[n][i] - 32
								      : upper256[n][i]);
		for (int i = 0; i < 128; i++)
			upper512[n][i] = (char)(upper512[n][i] >= 'a' ? upper512[n][i] - 32
								      : upper512[n][i]);
	}
}

static const char *at(const char *name)
{
	return check_path(tmpdir, name);
}

static void put_file(const char *name, const char *text)
{
	const char *path = at(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0) {
		perror(path);
		exit(2);
	}
}

/*
 * One approval with every required field, `id` and the JSON members in
 * `extra` (each starting with ","), into a static buffer.
 */
static const char *approval(const char *id, const char *extra)
{
	static char buf[4][2048];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]),
		 "{\"id\": \"%s\", \"product\": \"Prod\", \"version\": \"1.0\", "
		 "\"approved_by\": \"Jane Doe\", \"ticket\": \"CHG-1\", "
		 "\"approved_at\": \"2026-01-10\"%s}",
		 id, extra);
	return p;
}

static char *with_sha256(int n)
{
	static char buf[4][128];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), ", \"sha256\": \"%s\"", s256[n]);
	return p;
}

/* Load the policy at `path`; expect SG_ERR_CONFIG and the substrings `a` and `b`. */
static void expect_load_error(const char *path, const char *a, const char *b)
{
	sg_policy *p = (sg_policy *)&p;

	sg_error_clear();
	CHECK_INT(sg_policy_load(&p, path), SG_ERR_CONFIG);
	CHECK(p == NULL);
	if (p != (sg_policy *)&p)
		sg_policy_free(p);
	CHECK_INT(sg_error_code(), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), a);
	if (b)
		CHECK_CONTAINS(sg_error_last(), b);
}

/* A policy file holding approval `json` as approval #2 (after a valid one). */
static void expect_approval_error(const char *json, const char *want)
{
	char text[4096];

	snprintf(text, sizeof(text), "{\"approvals\": [%s, %s]}", approval("first", with_sha256(0)),
		 json);
	put_file("bad.json", text);
	expect_load_error(at("bad.json"), "bad.json: approval #2", want);
}

static sg_policy *load_ok(const char *path)
{
	sg_policy *p = NULL;

	sg_error_clear();
	CHECK_INT(sg_policy_load(&p, path), SG_OK);
	if (!p) {
		fprintf(stderr, "unexpected error: %s\n", sg_error_last());
		exit(1);
	}
	return p;
}

static void test_load_file(void)
{
	char text[8192], extra[512], replace[256], nest[256];
	sg_policy *p;

	snprintf(extra, sizeof(extra),
		 ", \"sha256\": \"%s\", \"sha512\": \"%s\", \"vendor\": \"V\", "
		 "\"file\": \"one.msi\", \"expires\": \"2026-06-30\", \"comment\": \"c\"",
		 upper256[1], upper512[1]);
	snprintf(replace, sizeof(replace), "%s, \"existing_signature\": \"replace\"",
		 with_sha256(2));
	snprintf(nest, sizeof(nest), "%s, \"existing_signature\": \"nest\"", with_sha256(4));
	snprintf(text, sizeof(text),
		 "{\"$schema\": \"./approval.schema.json\", \"comment\": \"x\",\n"
		 " \"approvals\": [%s,\n  %s,\n  %s,\n  %s],\n"
		 " \"revoked\": [{\"sha512\": \"%s\", \"reason\": \"withdrawn\", "
		 "\"comment\": \"c\"}]}\n",
		 approval("one", extra), approval("two", replace),
		 approval("three", with_sha256(3)), approval("four", nest), upper512[9]);
	put_file("policy.json", text);
	p = load_ok(at("policy.json"));
	CHECK_INT(p->n_approvals, 4);
	CHECK_INT(p->n_revoked, 1);
	if (p->n_approvals == 4 && p->n_revoked == 1) {
		const sg_approval *a = &p->approvals[0];
		CHECK_STR(a->id, "one");
		CHECK_STR(a->product, "Prod");
		CHECK_STR(a->vendor, "V");
		CHECK_STR(a->version, "1.0");
		CHECK_STR(a->file, "one.msi");
		CHECK_STR(a->sha256, s256[1]); /* lower-cased */
		CHECK_STR(a->sha512, s512[1]);
		CHECK_STR(a->approved_by, "Jane Doe");
		CHECK_STR(a->ticket, "CHG-1");
		CHECK_STR(a->approved_at, "2026-01-10");
		CHECK_STR(a->expires, "2026-06-30");
		CHECK(a->source == NULL && a->description == NULL && a->url == NULL);
		CHECK_INT(a->existing, SG_EXISTING_REFUSE);
		CHECK_STR(a->origin, at("policy.json"));
		CHECK_INT(p->approvals[1].existing, SG_EXISTING_REPLACE);
		CHECK(p->approvals[1].sha512 == NULL && p->approvals[1].expires == NULL);
		CHECK_INT(p->approvals[3].existing, SG_EXISTING_NEST);
		CHECK(p->revoked[0].sha256 == NULL);
		CHECK_STR(p->revoked[0].sha512, s512[9]);
		CHECK_STR(p->revoked[0].reason, "withdrawn");
		CHECK_STR(p->revoked[0].origin, at("policy.json"));
	}
	sg_policy_free(p);
	sg_policy_free(NULL);

	put_file("empty.json", "{}");
	p = load_ok(at("empty.json"));
	CHECK_INT(p->n_approvals, 0);
	CHECK_INT(p->n_revoked, 0);
	sg_policy_free(p);

	CHECK_STR(sg_existing_rule_name(SG_EXISTING_REFUSE), "refuse");
	CHECK_STR(sg_existing_rule_name(SG_EXISTING_REPLACE), "replace");
	CHECK_STR(sg_existing_rule_name(SG_EXISTING_NEST), "nest");
	unlink(at("policy.json"));
	unlink(at("empty.json"));
}

static void test_load_folder(void)
{
	char text[4096];
	sg_policy *p;

	CHECK_INT(mkdir(at("pol"), 0700), 0);
	expect_load_error(at("pol"), "pol: the policy folder holds no *.json file", NULL);

	/* Only files that must be ignored: still empty. */
	put_file("pol/approval.schema.json", "not json at all");
	put_file("pol/notes.txt", "not json at all");
	put_file("pol/.hidden.json", "not json at all");
	put_file("pol/old.json.bak", "not json at all");
	CHECK_INT(mkdir(at("pol/sub"), 0700), 0);
	put_file("pol/sub/deep.json", "not json at all");
	expect_load_error(at("pol"), "holds no *.json file", NULL);

	/* Byte-wise name order: "10-" sorts before "2-". */
	snprintf(text, sizeof(text), "{\"approvals\": [%s]}", approval("from-2", with_sha256(2)));
	put_file("pol/2-second.json", text);
	snprintf(text, sizeof(text), "{\"approvals\": [%s, %s]}",
		 approval("from-10-a", with_sha256(1)), approval("from-10-b", with_sha256(3)));
	put_file("pol/10-first.json", text);
	snprintf(text, sizeof(text), "{\"revoked\": [{\"sha256\": \"%s\", \"reason\": \"bad\"}]}",
		 s256[8]);
	put_file("pol/revoked.json", text);
	p = load_ok(at("pol"));
	CHECK_INT(p->n_approvals, 3);
	CHECK_INT(p->n_revoked, 1);
	if (p->n_approvals == 3 && p->n_revoked == 1) {
		CHECK_STR(p->approvals[0].id, "from-10-a");
		CHECK_STR(p->approvals[1].id, "from-10-b");
		CHECK_STR(p->approvals[2].id, "from-2");
		CHECK_STR(p->approvals[0].origin, at("pol/10-first.json"));
		CHECK_STR(p->approvals[2].origin, at("pol/2-second.json"));
		CHECK_STR(p->revoked[0].origin, at("pol/revoked.json"));
	}
	sg_policy_free(p);

	/* The same id in two files: both files are named. */
	snprintf(text, sizeof(text), "{\"approvals\": [%s]}", approval("from-2", with_sha256(5)));
	put_file("pol/3-again.json", text);
	expect_load_error(at("pol"), "approval id \"from-2\" is used twice", "2-second.json");
	expect_load_error(at("pol"), "3-again.json", NULL);
	unlink(at("pol/3-again.json"));

	/* One broken file fails the whole folder and is named. */
	put_file("pol/4-broken.json", "{\"approvals\": [\n  {\"id\": }\n]}");
	expect_load_error(at("pol"), "4-broken.json:2:", "invalid JSON");

	const char *names[] = { "pol/approval.schema.json", "pol/notes.txt",
				"pol/.hidden.json",         "pol/old.json.bak",
				"pol/sub/deep.json",        "pol/2-second.json",
				"pol/10-first.json",        "pol/revoked.json",
				"pol/4-broken.json" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK_INT(unlink(at(names[i])), 0);
	CHECK_INT(rmdir(at("pol/sub")), 0);
	CHECK_INT(rmdir(at("pol")), 0);
}

static void test_load_errors(void)
{
	static const char *const required[] = { "id",          "product", "version",
						"approved_by", "ticket",  "approved_at" };
	char text[4096], json[2048];

	/* Each required field, missing in turn: the message names it and the approval. */
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		char want[64];
		const char *fields[] = { "\"id\": \"req-x\"",  "\"product\": \"P\"",
					 "\"version\": \"1\"", "\"approved_by\": \"J\"",
					 "\"ticket\": \"T\"",  "\"approved_at\": \"2026-01-01\"" };
		size_t n = (size_t)snprintf(json, sizeof(json), "{\"sha256\": \"%s\"", s256[2]);
		for (size_t k = 0; k < 6; k++)
			if (k != i)
				n += (size_t)snprintf(json + n, sizeof(json) - n, ", %s",
						      fields[k]);
		snprintf(json + n, sizeof(json) - n, "}");
		snprintf(want, sizeof(want), "\"%s\" is required", required[i]);
		expect_approval_error(json, want);
		if (i > 0)
			expect_approval_error(json, "approval #2 (req-x)");
	}
	expect_approval_error(approval("no-digest", ""),
			      "(no-digest): \"sha256\" or \"sha512\" is required");

	/* Digests. */
	snprintf(json, sizeof(json), ", \"sha256\": \"%.63s\"", s256[1]);
	expect_approval_error(approval("short", json), "(short): \"sha256\" must be 64 hex digits");
	snprintf(json, sizeof(json), ", \"sha256\": \"%s0\"", s256[1]);
	expect_approval_error(approval("long", json), "\"sha256\" must be 64 hex digits");
	snprintf(json, sizeof(json), ", \"sha512\": \"%.127sg\"", s512[1]);
	expect_approval_error(approval("nonhex", json), "\"sha512\" must be 128 hex digits");
	snprintf(json, sizeof(json), ", \"sha512\": \"%s\"", s256[1]); /* a SHA-256 as SHA-512 */
	expect_approval_error(approval("swapped", json), "\"sha512\" must be 128 hex digits");

	/* Dates: real calendar dates only. */
	static const char *const bad_dates[] = {
		"2026-02-30",           "2025-02-29", "2100-02-29", "2026-04-31", "2026-13-01",
		"2026-00-10",           "2026-01-00", "2026-1-01",  "26-01-01",   "2026/01/01",
		"2026-01-01T00:00:00Z", "",           "2026-01-+1", "2026-+1-01", "2026-01- 1"
	};
	for (size_t i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
		char extra[256];
		snprintf(extra, sizeof(extra), "%s, \"expires\": \"%s\"", with_sha256(1),
			 bad_dates[i]);
		expect_approval_error(approval("date", extra),
				      bad_dates[i][0] ? "(date): \"expires\" must be a date"
						      : "(date): \"expires\" must be a non-empty");
	}
	snprintf(json, sizeof(json),
		 "{\"id\": \"at\", \"product\": \"P\", \"version\": \"1\", \"approved_by\": \"J\", "
		 "\"ticket\": \"T\", \"approved_at\": \"2026-02-30\"%s}",
		 with_sha256(1));
	expect_approval_error(json, "(at): \"approved_at\" must be a date YYYY-MM-DD");
	/* Leap days that exist, and the last day of a year. */
	char leap24[256], leap00[256], dec31[256];
	snprintf(leap24, sizeof(leap24), "%s, \"expires\": \"2024-02-29\"", with_sha256(1));
	snprintf(leap00, sizeof(leap00), "%s, \"expires\": \"2000-02-29\"", with_sha256(2));
	snprintf(dec31, sizeof(dec31), "%s, \"expires\": \"2026-12-31\"", with_sha256(3));
	snprintf(text, sizeof(text), "{\"approvals\": [%s, %s, %s]}", approval("leap-2024", leap24),
		 approval("leap-2000", leap00), approval("dec-31", dec31));
	put_file("dates.json", text);
	sg_policy_free(load_ok(at("dates.json")));
	unlink(at("dates.json"));

	/* Unknown fields, at every level. */
	snprintf(json, sizeof(json), ", \"sha265\": \"%s\"", s256[1]);
	expect_approval_error(approval("typo", json), "(typo): \"sha265\" is not a known field");
	put_file("bad.json", "{\"aprovals\": []}");
	expect_load_error(at("bad.json"), "bad.json: unknown key \"aprovals\"", NULL);
	/* Too large to be a policy, or a FIFO: a broken policy (SG_ERR_CONFIG), not I/O. */
	put_file("bad.json", "");
	CHECK_INT(truncate(at("bad.json"), 256L * 1024 * 1024 + 1), 0);
	expect_load_error(at("bad.json"), "bad.json: larger than 268435456 bytes", NULL);
	unlink(at("bad.json"));
	CHECK_INT(mkfifo(at("bad.json"), 0600), 0);
	expect_load_error(at("bad.json"), "bad.json: the policy must be a folder or a regular file",
			  NULL);
	unlink(at("bad.json"));
	snprintf(text, sizeof(text),
		 "{\"revoked\": [{\"sha256\": \"%s\", \"reason\": \"r\", "
		 "\"why\": \"x\"}]}",
		 s256[1]);
	put_file("bad.json", text);
	expect_load_error(at("bad.json"), "bad.json: revocation #1: \"why\" is not a known field",
			  NULL);

	/* Revocations. */
	snprintf(text, sizeof(text), "{\"revoked\": [{\"sha256\": \"%s\"}]}", s256[1]);
	put_file("bad.json", text);
	expect_load_error(at("bad.json"), "revocation #1: \"reason\" is required", NULL);
	put_file("bad.json", "{\"revoked\": [{\"reason\": \"r\"}]}");
	expect_load_error(at("bad.json"), "revocation #1: \"sha256\" or \"sha512\" is required",
			  NULL);
	put_file("bad.json", "{\"revoked\": [{\"sha512\": \"abc\", \"reason\": \"r\"}]}");
	expect_load_error(at("bad.json"), "revocation #1: \"sha512\" must be 128 hex digits", NULL);

	/* existing_signature. */
	snprintf(json, sizeof(json), "%s, \"existing_signature\": \"keep\"", with_sha256(1));
	expect_approval_error(approval("keep", json),
			      "(keep): \"existing_signature\" must be refuse, replace or nest");
	snprintf(json, sizeof(json), "%s, \"existing_signature\": \"Replace\"", with_sha256(1));
	expect_approval_error(approval("case", json), "must be refuse, replace or nest");
	snprintf(json, sizeof(json), "%s, \"existing_signature\": true", with_sha256(1));
	expect_approval_error(approval("bool", json),
			      "\"existing_signature\" must be a non-empty string");

	/* Other shapes. */
	expect_approval_error(approval("bad id", with_sha256(1)), "\"id\" must be 1-128 of");
	expect_approval_error(approval("-lead", with_sha256(1)), "\"id\" must be 1-128 of");
	snprintf(json, sizeof(json), "%s, \"file\": \"dir/one.msi\"", with_sha256(1));
	expect_approval_error(approval("slash", json), "\"file\" must be a base name");
	snprintf(json, sizeof(json),
		 "{\"id\": \"empty\", \"product\": \"\", \"version\": \"1\", "
		 "\"approved_by\": \"J\", \"ticket\": \"T\", \"approved_at\": \"2026-01-01\"%s}",
		 with_sha256(1));
	expect_approval_error(json, "(empty): \"product\" must be a non-empty string");
	expect_approval_error("[]", "\"approval\" must be an object");
	put_file("bad.json", "{\"approvals\": {}}");
	expect_load_error(at("bad.json"), "bad.json: \"approvals\" must be an array", NULL);
	put_file("bad.json", "[]");
	expect_load_error(at("bad.json"), "bad.json: a policy must be a JSON object", NULL);
	put_file("bad.json", "{\"approvals\": [\n]\n,}");
	expect_load_error(at("bad.json"), "bad.json:3:", "invalid JSON");
	expect_load_error(at("absent.json"), "absent.json: cannot read the policy", NULL);
	expect_load_error("/dev/null", "/dev/null: the policy must be a folder or a regular file",
			  NULL);
	unlink(at("bad.json"));
}

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

static sg_policy *decision_policy(void)
{
	char text[16384], e[12][640];
	size_t n = 0;

	snprintf(e[0], sizeof(e[0]),
		 ", \"sha256\": \"%s\", \"file\": \"one.msi\", "
		 "\"expires\": \"2026-06-30\"",
		 upper256[1]);
	snprintf(e[1], sizeof(e[1]), ", \"sha512\": \"%s\"", s512[2]);
	snprintf(e[2], sizeof(e[2]),
		 ", \"sha256\": \"%s\", \"sha512\": \"%s\", "
		 "\"file\": \"three.exe\"",
		 s256[3], s512[3]);
	snprintf(e[3], sizeof(e[3]), "%s, \"existing_signature\": \"replace\"", with_sha256(4));
	snprintf(e[4], sizeof(e[4]), "%s, \"existing_signature\": \"nest\"", with_sha256(5));
	snprintf(e[5], sizeof(e[5]), "%s, \"expires\": \"2026-01-31\"", with_sha256(7));
	snprintf(e[6], sizeof(e[6]), "%s, \"expires\": \"2026-12-31\"", with_sha256(7));
	snprintf(e[7], sizeof(e[7]), "%s, \"existing_signature\": \"replace\"", with_sha256(8));
	snprintf(e[8], sizeof(e[8]), ", \"sha512\": \"%s\"", s512[9]);
	snprintf(e[9], sizeof(e[9]), "%s, \"expires\": \"2026-02-28\"", with_sha256(6));
	snprintf(e[10], sizeof(e[10]), "%s, \"expires\": \"2026-03-31\", \"file\": \"six.msi\"",
		 with_sha256(6));
	n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"approvals\": [%s, %s, %s, %s,\n",
			      approval("by256", e[0]), approval("by512", e[1]),
			      approval("both", e[2]), approval("replace-ok", e[3]));
	n += (size_t)snprintf(text + n, sizeof(text) - n, "%s, %s, %s, %s,\n",
			      approval("nest-ok", e[4]), approval("exp-first", e[5]),
			      approval("valid-second", e[6]), approval("revoked-256", e[7]));
	n += (size_t)snprintf(text + n, sizeof(text) - n, "%s, %s, %s],\n",
			      approval("revoked-512", e[8]), approval("six-a", e[9]),
			      approval("six-b", e[10]));
	snprintf(text + n, sizeof(text) - n,
		 " \"revoked\": [{\"sha256\": \"%s\", \"reason\": \"withdrawn (INC-1)\"},\n"
		 "              {\"sha512\": \"%s\", \"reason\": \"tampered mirror\"}]}",
		 upper256[8], upper512[9]);
	put_file("decide.json", text);
	return load_ok(at("decide.json"));
}

/* Decide on an input; `n256`/`n512` select the fake digests (0: one no approval names). */
static void decide(sg_decision *d, const sg_policy *p, const char *name, int n256, int n512,
		   int has_signature, time_t now)
{
	sg_policy_input in = { name, s256[n256], s512[n512], has_signature, 0 };

	memset(d, 0x5a, sizeof(*d)); /* sg_policy_decide() must fill everything */
	sg_policy_decide(d, p, &in, now);
}

static const char *approval_id(const sg_decision *d)
{
	return d->approval ? d->approval->id : "(none)";
}

static void test_decisions(void)
{
	const time_t mid = utc(2026, 3, 1, 12, 0, 0);
	sg_policy *p = decision_policy();
	sg_decision d;
	char want[400];

	/* By SHA-256 (upper case in the policy) and by SHA-512. */
	decide(&d, p, "one.msi", 1, 0, 0, mid);
	CHECK_INT(d.approved, 1);
	CHECK_STR(approval_id(&d), "by256");
	CHECK_INT(d.n_reasons, 1);
	CHECK_STR(
		d.reasons[0],
		"approved by by256 (the approval file names Jane Doe, not verified; ticket CHG-1)");
	decide(&d, p, "anything.exe", 0, 2, 0, mid);
	CHECK_INT(d.approved, 1);
	CHECK_STR(approval_id(&d), "by512");

	/* Both digests given: both must match. */
	decide(&d, p, "three.exe", 3, 3, 0, mid);
	CHECK_INT(d.approved, 1);
	CHECK_STR(approval_id(&d), "both");
	decide(&d, p, "three.exe", 3, 0, 0, mid);
	CHECK_INT(d.approved, 0);
	CHECK_STR(approval_id(&d), "both");
	CHECK_INT(d.n_reasons, 1);
	CHECK_STR(d.reasons[0],
		  "three.exe: SHA-512 does not match the vendor value in approval both");
	decide(&d, p, "three.exe", 0, 3, 0, mid);
	CHECK_INT(d.approved, 0);
	CHECK_STR(d.reasons[0],
		  "three.exe: SHA-256 does not match the vendor value in approval both");

	/* Nothing matches: default deny. */
	decide(&d, p, "setup.exe", 0, 0, 0, mid);
	CHECK_INT(d.approved, 0);
	CHECK(d.approval == NULL);
	CHECK_INT(d.n_reasons, 1);
	snprintf(want, sizeof(want), "setup.exe: no approval matches SHA-256 %s (default deny)",
		 s256[0]);
	CHECK_STR(d.reasons[0], want);

	/* The approved file name with another digest. */
	decide(&d, p, "one.msi", 0, 0, 0, mid);
	CHECK_INT(d.approved, 0);
	CHECK_STR(approval_id(&d), "by256");
	CHECK_STR(d.reasons[0],
		  "one.msi: SHA-256 does not match the vendor value in approval by256");

	/* expires is the last valid day, in UTC. */
	decide(&d, p, "one.msi", 1, 0, 0, utc(2026, 6, 30, 0, 0, 0));
	CHECK_INT(d.approved, 1);
	decide(&d, p, "one.msi", 1, 0, 0, utc(2026, 6, 30, 23, 59, 59));
	CHECK_INT(d.approved, 1);
	decide(&d, p, "one.msi", 1, 0, 0, utc(2026, 7, 1, 0, 0, 0));
	CHECK_INT(d.approved, 0);
	CHECK_STR(approval_id(&d), "by256");
	CHECK_INT(d.n_reasons, 1);
	CHECK_STR(d.reasons[0], "approval by256 expired on 2026-06-30");

	/* Revocation wins over a matching approval, by either digest. */
	decide(&d, p, "eight.msi", 8, 0, 0, mid);
	CHECK_INT(d.approved, 0);
	CHECK_INT(d.n_reasons, 1);
	CHECK_STR(d.reasons[0], "eight.msi: digest is revoked: withdrawn (INC-1)");
	decide(&d, p, "nine.msi", 0, 9, 0, mid);
	CHECK_INT(d.approved, 0);
	CHECK_STR(d.reasons[0], "nine.msi: digest is revoked: tampered mirror");
	decide(&d, p, "three.exe", 3, 9, 0, mid); /* "both" would match SHA-256 only anyway */
	CHECK_INT(d.approved, 0);
	CHECK_CONTAINS(d.reasons[0], "digest is revoked");

	/* File name. */
	decide(&d, p, "other.msi", 1, 0, 0, mid);
	CHECK_INT(d.approved, 0);
	CHECK_STR(approval_id(&d), "by256");
	CHECK_STR(d.reasons[0], "approval by256 is for file \"one.msi\", not \"other.msi\"");

	/* An existing signature, per rule. */
	decide(&d, p, "one.msi", 1, 0, 1, mid);
	CHECK_INT(d.approved, 0);
	CHECK_STR(d.reasons[0], "input already carries an Authenticode signature and approval "
				"by256 says existing_signature=refuse");
	decide(&d, p, "four.msi", 4, 0, 1, mid);
	CHECK_INT(d.approved, 1);
	CHECK_STR(d.reasons[0], "approved by replace-ok (the approval file names Jane Doe, not "
				"verified; ticket CHG-1); "
				"existing signature: replace");
	decide(&d, p, "five.msi", 5, 0, 1, mid);
	CHECK_INT(d.approved, 1);
	CHECK_STR(d.reasons[0], "approved by nest-ok (the approval file names Jane Doe, not "
				"verified; ticket CHG-1); "
				"existing signature: nest");
	decide(&d, p, "five.msi", 5, 0, 0, mid); /* unsigned input: the rule does not matter */
	CHECK_INT(d.approved, 1);
	CHECK_STR(d.reasons[0], "approved by nest-ok (the approval file names Jane Doe, not "
				"verified; ticket CHG-1)");

	/* Two approvals of one digest: the first expired, the second valid. */
	decide(&d, p, "seven.msi", 7, 0, 0, utc(2026, 1, 31, 23, 0, 0));
	CHECK_INT(d.approved, 1);
	CHECK_STR(approval_id(&d), "exp-first");
	decide(&d, p, "seven.msi", 7, 0, 0, mid);
	CHECK_INT(d.approved, 1);
	CHECK_STR(approval_id(&d), "valid-second");
	CHECK_INT(d.n_reasons, 1);
	CHECK_STR(d.reasons[0], "approved by valid-second (the approval file names Jane Doe, not "
				"verified; ticket CHG-1)");
	decide(&d, p, "seven.msi", 7, 0, 0, utc(2027, 1, 1, 0, 0, 0));
	CHECK_INT(d.approved, 0);
	CHECK_INT(d.n_reasons, 2);
	CHECK_STR(d.reasons[0], "approval exp-first expired on 2026-01-31");
	CHECK_STR(d.reasons[1], "approval valid-second expired on 2026-12-31");

	/* Every failing candidate reports every reason. */
	decide(&d, p, "wrong.msi", 6, 0, 1, utc(2026, 4, 1, 0, 0, 0));
	CHECK_INT(d.approved, 0);
	CHECK_STR(approval_id(&d), "six-b");
	CHECK_INT(d.n_reasons, 5);
	CHECK_STR(d.reasons[0], "approval six-a expired on 2026-02-28");
	CHECK_CONTAINS(d.reasons[1], "approval six-a says existing_signature=refuse");
	CHECK_STR(d.reasons[2], "approval six-b expired on 2026-03-31");
	CHECK_STR(d.reasons[3], "approval six-b is for file \"six.msi\", not \"wrong.msi\"");
	CHECK_CONTAINS(d.reasons[4], "approval six-b says existing_signature=refuse");

	sg_policy_free(p);
	unlink(at("decide.json"));
}

/*
 * The catalog, the checks that stop a policy from loading (disagreeing
 * approvals of one digest, weak provenance, a product listed twice), the
 * two-person switch, the bytes kept per file, and what lint warns of.
 */
static void test_catalog_and_lint(void)
{
	const time_t now = utc(2026, 3, 1, 12, 0, 0);
	char text[8192], e[4][700];
	sg_policy_finding f[16];
	sg_policy *p;
	sg_decision d;
	size_t n;

	snprintf(e[0], sizeof(e[0]), "%s, \"expires\": \"2026-03-10\"", with_sha256(1));
	snprintf(e[1], sizeof(e[1]),
		 "%s, \"accept_unsigned\": \"vendor dropped signing in 2.0 (CHG-9)\", "
		 "\"provenance\": {\"vendor_values\": [{\"alg\": \"MD5\"}, {\"alg\": "
		 "\"SHA-256\"}]}",
		 with_sha256(2));
	snprintf(text, sizeof(text),
		 "{\"require_cosign\": true, \"products\": [{\"product\": \"Prod\", "
		 "\"vendor_signs\": true}, {\"product\": \"Other\", \"vendor_signs\": false, "
		 "\"formats\": \"msi\"}],\n \"approvals\": [%s, %s, %s]}",
		 approval("signed-prod", e[0]), approval("accepts", e[1]),
		 approval("renewal", with_sha256(1)));
	put_file("catalog.json", text);
	p = load_ok(at("catalog.json"));
	CHECK_INT(p->require_cosign, 1);
	CHECK_INT(p->n_products, 2);
	CHECK_INT(p->n_files, 1);
	CHECK_INT(p->files[0].len, strlen(text));
	CHECK(p->files[0].len == strlen(text) &&
	      memcmp(p->files[0].bytes, text, strlen(text)) == 0);
	CHECK_INT(p->approvals[1].file_index, 0);
	CHECK(sg_policy_product(p, "prod") == &p->products[0]);
	CHECK(sg_policy_product(p, "Nope") == NULL);
	CHECK_STR(p->approvals[1].provenance, "{\"vendor_values\":[{\"alg\":\"MD5\"},{\"alg\":"
					      "\"SHA-256\"}]}");
	/* An unsigned file of a vendor-signed product: denied unless accepted. */
	decide(&d, p, "x.msi", 1, 0, 0, now);
	CHECK_INT(d.approved, 0);
	CHECK_CONTAINS(d.reasons[0], "Prod is listed as vendor-signed, but x.msi carries no "
				     "signature");
	CHECK_CONTAINS(d.reasons[0], "approval signed-prod does not say accept_unsigned");
	decide(&d, p, "x.msi", 2, 0, 0, now);
	CHECK_INT(d.approved, 1);
	CHECK_STR(approval_id(&d), "accepts");
	n = sg_policy_lint(p, now, 30, f, 16);
	CHECK_INT(n, 6);
	CHECK_STR(f[0].id, "signed-prod");
	CHECK_CONTAINS(f[0].message, "expires on 2026-03-10, within 30 days");
	CHECK_CONTAINS(f[1].message, "Prod is listed as vendor-signed: an unsigned file will be "
				     "denied");
	CHECK_CONTAINS(f[2].message, "no provenance");
	CHECK_CONTAINS(f[3].message, "accepts unsigned files of Prod");
	CHECK_CONTAINS(f[3].message, "vendor dropped signing in 2.0 (CHG-9)");
	CHECK_INT(f[0].error, 0);
	/* Later: expired; 10 days' notice only: not yet "soon". */
	CHECK_INT(sg_policy_lint(p, utc(2026, 3, 11, 0, 0, 0), 30, f, 16), 6);
	CHECK_CONTAINS(f[0].message, "expired on 2026-03-10");
	CHECK_INT(sg_policy_lint(p, now, 5, f, 1), 5);
	CHECK_CONTAINS(f[0].message, "listed as vendor-signed");
	sg_policy_free(p);

	/* Errors that stop the load. */
	snprintf(e[2], sizeof(e[2]), "%s, \"file\": \"a.msi\"", with_sha256(3));
	snprintf(e[3], sizeof(e[3]), "%s, \"file\": \"b.msi\"", with_sha256(3));
	snprintf(text, sizeof(text), "{\"approvals\": [%s, %s]}", approval("a", e[2]),
		 approval("b", e[3]));
	put_file("catalog.json", text);
	expect_load_error(at("catalog.json"), "approval b and approval a",
			  "are for the same SHA-256 but disagree");
	snprintf(e[2], sizeof(e[2]), "%s, \"existing_signature\": \"replace\"", with_sha256(3));
	snprintf(text, sizeof(text), "{\"approvals\": [%s, %s]}", approval("a", e[2]),
		 approval("b", with_sha256(3)));
	put_file("catalog.json", text);
	expect_load_error(at("catalog.json"), "approval b and approval a", "existing_signature");
	expect_approval_error(approval("weak", ", \"sha256\": \"ab\""), "\"sha256\"");
	snprintf(e[2], sizeof(e[2]),
		 "%s, \"provenance\": {\"vendor_values\": [{\"alg\": \"MD5\"}, {\"alg\": "
		 "\"SHA-1\"}]}",
		 with_sha256(4));
	expect_approval_error(approval("weak", e[2]), "holds no SHA-256 or SHA-512 value");
	expect_approval_error(approval("weak", ", \"sha256\": \"x\", \"provenance\": 1"),
			      "\"sha256\"");
	snprintf(e[2], sizeof(e[2]), "%s, \"provenance\": []", with_sha256(4));
	expect_approval_error(approval("prov", e[2]), "\"provenance\" must be an object");
	snprintf(e[2], sizeof(e[2]), "%s, \"accept_unsigned\": \"\"", with_sha256(4));
	expect_approval_error(approval("acc", e[2]), "\"accept_unsigned\" must be a non-empty");
	put_file("catalog.json", "{\"products\": [{\"product\": \"A\", \"vendor_signs\": true}, "
				 "{\"product\": \"a\", \"vendor_signs\": false}]}");
	expect_load_error(at("catalog.json"), "product \"a\" is listed twice", NULL);
	put_file("catalog.json", "{\"products\": [{\"product\": \"A\"}]}");
	expect_load_error(at("catalog.json"), "product #1 (A): \"vendor_signs\" is required", NULL);
	put_file("catalog.json", "{\"products\": [{\"product\": \"A\", \"vendor_signs\": true, "
				 "\"signs\": 1}]}");
	expect_load_error(at("catalog.json"), "\"signs\" is not a known field", NULL);
	put_file("catalog.json", "{\"require_cosign\": \"yes\"}");
	expect_load_error(at("catalog.json"), "\"require_cosign\" must be true or false", NULL);
	unlink(at("catalog.json"));
	unlink(at("bad.json"));
}

/* An approval of product `product` (JSON string contents) with SHA-256 #n and `extra`. */
static const char *product_approval(const char *id, const char *product, int n, const char *extra)
{
	static char buf[8][2048];
	static int next;
	char *p = buf[next++ % 8];

	snprintf(p, sizeof(buf[0]),
		 "{\"id\": \"%s\", \"product\": \"%s\", \"version\": \"1.0\", "
		 "\"approved_by\": \"Jane Doe\", \"ticket\": \"CHG-1\", "
		 "\"approved_at\": \"2026-01-10\"%s%s}",
		 id, product, with_sha256(n), extra);
	return p;
}

/*
 * Product names: printable ASCII, compared ignoring case and runs of spaces,
 * so that a look-alike name cannot escape the catalog's vendor_signs; a
 * product the catalog does not list is denied unless the approval says why.
 */
static void test_product_names(void)
{
	const time_t now = utc(2026, 3, 1, 12, 0, 0);
	static const char catalog[] =
		"\"products\": [{\"product\": \"WinMerge\", \"vendor_signs\": true}, "
		"{\"product\": \"7-Zip\", \"vendor_signs\": false}]";
	char text[8192];
	sg_policy_finding f[16];
	sg_policy *p;
	sg_decision d;

	CHECK_INT(sg_policy_product_same("  Win   Merge ", "win merge"), 1);
	CHECK_INT(sg_policy_product_same("WinMerge", "WinMerge "), 1);
	CHECK_INT(sg_policy_product_same("WinMerge", "Win Merge"), 0);
	CHECK_INT(sg_policy_product_same("WinMerge", "WinMerge2"), 0);
	CHECK_INT(sg_policy_product_same("a b", "ab"), 0);
	CHECK_INT(sg_policy_product_valid("7-Zip"), 1);
	CHECK_INT(sg_policy_product_valid("7\xe2\x80\x91Zip"), 0);
	CHECK_INT(sg_policy_product_valid("   "), 0);
	CHECK_INT(sg_policy_product_valid("a\tb"), 0);

	/* A trailing space or another case no longer escapes vendor_signs. */
	snprintf(text, sizeof(text), "{%s, \"approvals\": [%s, %s, %s, %s, %s]}", catalog,
		 product_approval("space", "WinMerge ", 1, ""),
		 product_approval("case", "  winMERGE", 2, ""),
		 product_approval("absent", "Win Merge", 3, ""),
		 product_approval("why", "In-house Tool", 4,
				  ", \"not_in_catalog\": \"built in-house, never signed (CHG-7)\""),
		 product_approval("zip", "7-zip", 5, ""));
	put_file("names.json", text);
	p = load_ok(at("names.json"));
	decide(&d, p, "x.exe", 1, 0, 0, now);
	CHECK_INT(d.approved, 0);
	CHECK_CONTAINS(d.reasons[0], "WinMerge is listed as vendor-signed, but x.exe carries no "
				     "signature");
	decide(&d, p, "x.exe", 2, 0, 0, now);
	CHECK_INT(d.approved, 0);
	CHECK_CONTAINS(d.reasons[0], "approval case does not say accept_unsigned");
	/* A name the catalog does not list: denied, signed or not, unless it says why. */
	decide(&d, p, "x.exe", 3, 0, 0, now);
	CHECK_INT(d.approved, 0);
	CHECK_STR(approval_id(&d), "absent");
	CHECK_STR(d.reasons[0], "product \"Win Merge\" of approval absent is not in the catalog "
				"(a look-alike name?); the approval does not say not_in_catalog");
	decide(&d, p, "x.exe", 3, 0, 1, now);
	CHECK_INT(d.approved, 0);
	decide(&d, p, "x.exe", 4, 0, 0, now);
	CHECK_INT(d.approved, 1);
	CHECK_STR(approval_id(&d), "why");
	decide(&d, p, "x.exe", 5, 0, 0, now);
	CHECK_INT(d.approved, 1);
	CHECK(sg_policy_product(p, " 7-ZIP ") == &p->products[1]);
	/* Lint names both, and the reason of the one that says why. */
	CHECK_INT(sg_policy_lint(p, now, 30, f, 16), 9);
	CHECK_STR(f[5].id, "absent");
	CHECK_CONTAINS(f[5].message, "product \"Win Merge\" is not in the catalog: signing denies "
				     "it");
	CHECK_STR(f[7].id, "why");
	CHECK_CONTAINS(f[7].message, "signed anyway because: \"built in-house, never signed "
				     "(CHG-7)\"");
	sg_policy_free(p);

	/* Without a catalog, the rule does not apply. */
	snprintf(text, sizeof(text), "{\"approvals\": [%s]}",
		 product_approval("absent", "Win Merge", 3, ""));
	put_file("names.json", text);
	p = load_ok(at("names.json"));
	decide(&d, p, "x.exe", 3, 0, 0, now);
	CHECK_INT(d.approved, 1);
	sg_policy_free(p);

	/* Look-alike names do not load: the file and the approval or product are named. */
	snprintf(text, sizeof(text), "{%s, \"approvals\": [%s]}", catalog,
		 product_approval("dash", "Win\\u2011Merge", 1, ""));
	put_file("names.json", text);
	expect_load_error(at("names.json"),
			  "names.json: approval #1 (dash): \"product\" must be "
			  "printable ASCII: byte 0xe2 at offset 3",
			  NULL);
	snprintf(text, sizeof(text), "{\"approvals\": [%s]}",
		 product_approval("zw", "WinMerge\\u200b", 1, ""));
	put_file("names.json", text);
	expect_load_error(at("names.json"), "approval #1 (zw): \"product\" must be printable ASCII",
			  NULL);
	snprintf(text, sizeof(text), "{\"approvals\": [%s]}", product_approval("sp", "   ", 1, ""));
	put_file("names.json", text);
	expect_load_error(at("names.json"), "approval #1 (sp): \"product\" must not be only spaces",
			  NULL);
	put_file("names.json", "{\"products\": [{\"product\": \"7\\u2010Zip\", \"vendor_signs\": "
			       "false}]}");
	expect_load_error(at("names.json"), "names.json: product #1", "must be printable ASCII");
	put_file("names.json", "{\"products\": [{\"product\": \"Win Merge\", \"vendor_signs\": "
			       "true}, {\"product\": \" win  merge \", \"vendor_signs\": false}]}");
	expect_load_error(at("names.json"), "is listed twice in the catalog", NULL);
	snprintf(text, sizeof(text), "{\"approvals\": [%s]}",
		 product_approval("nic", "X", 1, ", \"not_in_catalog\": \"\""));
	put_file("names.json", text);
	expect_load_error(at("names.json"), "\"not_in_catalog\" must be a non-empty string", NULL);
	snprintf(text, sizeof(text), "{\"approvals\": [%s]}",
		 product_approval("nic", "X", 1, ", \"not_in_catalog\": \"   \""));
	put_file("names.json", text);
	expect_load_error(at("names.json"),
			  "approval #1 (nic): \"not_in_catalog\" must say why, not be only spaces",
			  NULL);
	/* Two approvals of one digest that differ only in spacing and case agree. */
	snprintf(text, sizeof(text), "{\"approvals\": [%s, %s]}",
		 product_approval("one", "Win Merge", 1, ""),
		 product_approval("two", " win   MERGE", 1, ""));
	put_file("names.json", text);
	sg_policy_free(load_ok(at("names.json")));
	unlink(at("names.json"));
}

/* The one reading of refuse|replace|nest: an unknown word is an error, never "refuse". */
static void test_existing_rule_parse(void)
{
	const char *bad[] = { "keep", "Refuse", "nest ", "", "replace\n" };
	sg_existing_rule r = SG_EXISTING_NEST;

	CHECK_INT(sg_existing_rule_parse(&r, NULL), SG_OK);
	CHECK_INT(r, SG_EXISTING_REFUSE);
	CHECK_INT(sg_existing_rule_parse(&r, "replace"), SG_OK);
	CHECK_INT(r, SG_EXISTING_REPLACE);
	CHECK_INT(sg_existing_rule_parse(&r, "nest"), SG_OK);
	CHECK_INT(r, SG_EXISTING_NEST);
	CHECK_INT(sg_existing_rule_parse(&r, "refuse"), SG_OK);
	CHECK_INT(r, SG_EXISTING_REFUSE);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = SG_EXISTING_NEST;
		sg_error_clear();
		CHECK_INT(sg_existing_rule_parse(&r, bad[i]), SG_ERR_USAGE);
		CHECK_INT(r, SG_EXISTING_NEST); /* left alone */
		CHECK_CONTAINS(sg_error_last(),
			       "is not an existing-signature rule: refuse, replace or nest");
	}
	CHECK_STR(sg_error_last(), "\"replace\n\" is not an existing-signature rule: refuse, "
				   "replace or nest");
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	make_digests();
	test_load_file();
	test_load_folder();
	test_load_errors();
	test_decisions();
	test_catalog_and_lint();
	test_product_names();
	test_existing_rule_parse();
	if (rmdir(tmpdir) != 0) {
		perror(tmpdir);
		check_failed++;
	}
	return check_done();
}

/*
 * Unit tests for lib/report/report_policy.c: the policy loaded for a report
 * (strict modes, never through the index), the approvals in force at a fixed
 * time, and which signing records the policy would no longer approve:
 * revoked by SHA-256, by SHA-512 (recorded or paired through an approval),
 * expired, bound to another file name, removed, and a SHA-512 revocation the
 * record cannot be checked against.
 */
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/secret.h"
#include "signgate/policy.h"
#include "signgate/report.h"
#include "signgate/report_policy.h"
#include "signgate/strict.h"

#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_report_policy.XXXXXX";

/* 2026-06-01 12:00:00 UTC */
#define NOW ((time_t)1780315200)

/* Fake digests: S(n) a SHA-256, T(n) a SHA-512, all different. */
static char s256[10][65], s512[10][129];

static void make_digests(void)
{
	for (int n = 0; n < 10; n++) {
		for (int i = 0; i < 64; i++)
			s256[n][i] = i % 2 ? "0123456789"[n] : 'a' + (i / 2) % 6;
		for (int i = 0; i < 128; i++)
			s512[n][i] = i % 2 ? "0123456789"[n] : 'b' + (i / 3) % 5;
	}
}

static const char *at(const char *name)
{
	return check_path(tmpdir, name);
}

/* One approval: `id`, approved by `who`, the members in `extra` (each starting with ","). */
static const char *approval(const char *id, const char *who, const char *extra)
{
	static char buf[8][1024];
	static int next;
	char *p = buf[next++ % 8];

	snprintf(p, sizeof(buf[0]),
		 "{\"id\": \"%s\", \"product\": \"Prod %s\", \"vendor\": \"Vendor\", "
		 "\"version\": \"1.0\", \"approved_by\": \"%s\", \"ticket\": \"CHG-%s\", "
		 "\"approved_at\": \"2026-01-10\"%s}",
		 id, id, who, id, extra);
	return p;
}

/* The digest, file and expiry members of an approval (NULL: left out). */
static const char *fields(const char *sha256, const char *sha512, const char *file,
			  const char *expires)
{
	static char buf[8][512];
	static int next;
	char *p = buf[next++ % 8];
	size_t n = 0;

	n += (size_t)snprintf(p + n, sizeof(buf[0]) - n, ", \"sha256\": \"%s\"", sha256);
	if (sha512)
		n += (size_t)snprintf(p + n, sizeof(buf[0]) - n, ", \"sha512\": \"%s\"", sha512);
	if (file)
		n += (size_t)snprintf(p + n, sizeof(buf[0]) - n, ", \"file\": \"%s\"", file);
	if (expires)
		snprintf(p + n, sizeof(buf[0]) - n, ", \"expires\": \"%s\"", expires);
	return p;
}

/* `f` and "existing_signature": "nest". */
static const char *nested(const char *f)
{
	static char buf[600];

	snprintf(buf, sizeof(buf), "%s, \"existing_signature\": \"nest\"", f);
	return buf;
}

/* The policy of the tests: one folder, two approval files and a revocation file. */
static void write_policy(const char *dir, const char *extra_revoked)
{
	char path[PATH_MAX], text[8192];

	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/a.json", dir);
	snprintf(text, sizeof(text), "{\"approvals\": [%s, %s, %s, %s]}",
		 approval("live", "Jane Doe", fields(s256[1], NULL, NULL, NULL)),
		 approval("gone", "Jane Doe", fields(s256[2], NULL, NULL, "2026-05-31")),
		 approval("lastday", "Jane Doe", fields(s256[6], NULL, NULL, "2026-06-01")),
		 approval("revd", "Jane Doe", fields(s256[3], NULL, NULL, NULL)));
	check_write_file(path, text, strlen(text), 0644);
	snprintf(path, sizeof(path), "%s/b.json", dir);
	snprintf(text, sizeof(text), "{\"approvals\": [%s, %s, %s]}",
		 approval("pair", "Jane Doe", fields(s256[4], s512[4], NULL, NULL)),
		 approval("named", "Jane Doe", fields(s256[5], NULL, "setup.exe", NULL)),
		 approval("typed", "<b>Admin</b> \\u202e CISO",
			  nested(fields(s256[7], NULL, NULL, NULL))));
	check_write_file(path, text, strlen(text), 0644);
	snprintf(path, sizeof(path), "%s/r.json", dir);
	snprintf(text, sizeof(text),
		 "{\"revoked\": [{\"sha256\": \"%s\", \"reason\": \"vendor recall\"}, "
		 "{\"sha512\": \"%s\", \"reason\": \"bad build\"}%s]}",
		 s256[3], s512[4], extra_revoked);
	check_write_file(path, text, strlen(text), 0644);
}

static json_t *find_id(json_t *list, const char *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
			return v;
	}
	return NULL;
}

static void test_load_strict(void)
{
	const char *dir = at("strict");
	sg_policy *p = (sg_policy *)1;
	int loaded = 0;

	write_policy(dir, "");
	CHECK_INT(sg_report_policy_load(&p, dir, NULL), SG_OK);
	CHECK(p && !p->index);
	CHECK_INT(p ? p->n_approvals : 0, 7);
	CHECK_INT(p ? p->n_revoked : 0, 2);
	sg_policy_free(p);

	/* An index is there: the report still reads every file, so it lists every approval. */
	CHECK_INT(sg_policy_index_write(dir, &loaded), SG_OK);
	CHECK_INT(sg_report_policy_load(&p, dir, NULL), SG_OK);
	CHECK(p && !p->index);
	CHECK_INT(p ? p->n_approvals : 0, 7);
	sg_policy_free(p);

	/* A policy file others may write: refused, naming it. */
	chmod(check_path(dir, "b.json"), 0646);
	p = (sg_policy *)1;
	CHECK_INT(sg_report_policy_load(&p, dir, NULL), SG_ERR_CONFIG);
	CHECK(p == NULL);
	CHECK_CONTAINS(sg_error_last(), "b.json");
	CHECK_CONTAINS(sg_error_last(), "writable by others");
	chmod(check_path(dir, "b.json"), 0644);

	/* The folder writable by its group: anyone in it could add an approval. */
	chmod(dir, 0775);
	CHECK_INT(sg_report_policy_load(&p, dir, NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "writable by group");
	chmod(dir, 0755);

	/* A single policy file given as the path, writable by others. */
	chmod(check_path(dir, "a.json"), 0666);
	CHECK_INT(sg_report_policy_load(&p, check_path(dir, "a.json"), NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "a.json");
	chmod(check_path(dir, "a.json"), 0644);

	/* Missing: an error naming it, not an empty policy. */
	CHECK(sg_report_policy_load(&p, at("nowhere"), NULL) != SG_OK);
	CHECK_CONTAINS(sg_error_last(), "nowhere");
}

static void test_approvals(void)
{
	const char *dir = at("approvals");
	sg_policy *p = NULL;
	json_t *list, *a;

	write_policy(dir, "");
	if (sg_report_policy_load(&p, dir, NULL) != SG_OK) {
		CHECK(!"policy loads");
		return;
	}
	list = sg_report_policy_approvals(p, NOW);
	CHECK(json_is_array(list));
	/* In force: live, lastday (expires today), named, typed; not gone, revd, pair. */
	CHECK_INT(json_array_size(list), 4);
	CHECK(find_id(list, "live") && find_id(list, "lastday") && find_id(list, "named") &&
	      find_id(list, "typed"));
	CHECK(!find_id(list, "gone") && !find_id(list, "revd") && !find_id(list, "pair"));

	a = find_id(list, "named");
	CHECK_STR(json_string_value(json_object_get(a, "file")), "setup.exe");
	CHECK_STR(json_string_value(json_object_get(a, "sha256")), s256[5]);
	CHECK_STR(json_string_value(json_object_get(a, "ticket")), "CHG-named");
	CHECK_STR(json_string_value(json_object_get(a, "vendor")), "Vendor");
	CHECK_STR(json_string_value(json_object_get(a, "product")), "Prod named");
	CHECK_STR(json_string_value(json_object_get(a, "version")), "1.0");
	CHECK(json_is_null(json_object_get(a, "expires")));
	CHECK_STR(json_string_value(json_object_get(find_id(list, "lastday"), "expires")),
		  "2026-06-01");
	CHECK(json_is_null(json_object_get(find_id(list, "live"), "file")));

	/* Typed text is shown as typed text, whatever it says. */
	a = find_id(list, "typed");
	CHECK_STR(json_string_value(json_object_get(a, "approved_by")), "<b>Admin</b> \u202e CISO");
	CHECK_STR(json_string_value(json_object_get(a, "approved_by_from")),
		  "approval file (not verified)");
	for (size_t i = 0; i < json_array_size(list); i++)
		CHECK_STR(json_string_value(
				  json_object_get(json_array_get(list, i), "approved_by_from")),
			  SG_REPORT_FROM_FILE);
	json_decref(list);

	/* A trust without the approvers' CA verifies nothing: still the file's text. */
	{
		sg_approvers_trust t = { 0 };
		list = sg_report_policy_approvals_trust(p, NOW, &t);
		CHECK_STR(json_string_value(
				  json_object_get(find_id(list, "typed"), "approved_by_from")),
			  SG_REPORT_FROM_FILE);
		json_decref(list);
	}

	/* A year later only the approvals without an expiry are in force. */
	list = sg_report_policy_approvals(p, NOW + 365 * 86400);
	CHECK_INT(json_array_size(list), 3);
	CHECK(!find_id(list, "lastday"));
	json_decref(list);
	sg_policy_free(p);
}

/* A "signed" record of input `name` with SHA-256 `sha256` and maybe SHA-512 `sha512`. */
static json_t *signing(long long seq, const char *name, const char *sha256, const char *sha512,
		       const char *approval_id)
{
	json_t *rec =
		json_pack("{s:I, s:s, s:s, s:s, s:{s:s, s:I, s:s, s:s, s:b}, s:{s:s}, "
			  "s:{s:s, s:s}}",
			  "seq", (json_int_t)seq, "time", "2026-03-02T10:00:00Z", "action", "sign",
			  "decision", "signed", "input", "name", name, "size", (json_int_t)1234,
			  "sha256", sha256, "format", "pe", "signed_before", 0, "output", "sha256",
			  s256[9], "approval", "id", approval_id, "approved_by", "Jane Doe");

	if (rec && sha512)
		json_object_set_new(json_object_get(rec, "input"), "sha512", json_string(sha512));
	return rec;
}

/* The row for one signing (NULL when still approved); `rc` is set to the call's return. */
static json_t *check_one(const sg_policy *p, json_t *rec)
{
	json_t *row = (json_t *)1;

	CHECK_INT(sg_report_policy_check(p, rec, NOW, &row), SG_OK);
	json_decref(rec);
	return row;
}

static const char *status(const json_t *row)
{
	return json_string_value(json_object_get(row, "status"));
}

static const char *reason(const json_t *row, size_t i)
{
	return json_string_value(json_array_get(json_object_get(row, "reasons"), i));
}

static void test_check(void)
{
	const char *dir = at("check");
	sg_policy *p = NULL;
	json_t *row;

	write_policy(dir, "");
	if (sg_report_policy_load(&p, dir, NULL) != SG_OK) {
		CHECK(!"policy loads");
		return;
	}
	/* Still approved: no row (the policy names SHA-512s; the pairing explains T4). */
	CHECK(check_one(p, signing(1, "a.exe", s256[1], NULL, "live")) == NULL);
	CHECK(check_one(p, signing(2, "setup.exe", s256[5], NULL, "named")) == NULL);
	CHECK(check_one(p, signing(3, "z.exe", s256[6], NULL, "lastday")) == NULL);

	/* Revoked by SHA-256: the row, field by field. */
	row = check_one(p, signing(4, "r.exe", s256[3], NULL, "revd"));
	CHECK_STR(status(row), "revoked");
	CHECK_INT(json_integer_value(json_object_get(row, "seq")), 4);
	CHECK_STR(json_string_value(json_object_get(row, "time")), "2026-03-02T10:00:00Z");
	CHECK_STR(json_string_value(json_object_get(json_object_get(row, "input"), "name")),
		  "r.exe");
	CHECK_STR(json_string_value(json_object_get(json_object_get(row, "input"), "sha256")),
		  s256[3]);
	CHECK_STR(json_string_value(json_object_get(row, "output_sha256")), s256[9]);
	CHECK_STR(json_string_value(json_object_get(row, "approval_id")), "revd");
	CHECK_INT(json_array_size(json_object_get(row, "reasons")), 1);
	CHECK_CONTAINS(reason(row, 0), "digest is revoked: vendor recall");
	json_decref(row);

	/*
	 * Revoked wins however the reason reads: a name so long that the
	 * decision's reason is cut before "digest is revoked" is still "revoked".
	 */
	{
		char *name = malloc(SG_ERROR_MAX + 100);
		if (name) {
			memset(name, 'n', SG_ERROR_MAX + 99);
			name[SG_ERROR_MAX + 99] = '\0';
			row = check_one(p, signing(4, name, s256[3], NULL, "revd"));
			CHECK_STR(status(row), "revoked");
			json_decref(row);
			free(name);
		}
	}

	/* Revoked by SHA-512 alone, the record holding the SHA-512. */
	row = check_one(p, signing(5, "p.exe", s256[4], s512[4], "pair"));
	CHECK_STR(status(row), "revoked");
	CHECK_CONTAINS(reason(row, 0), "digest is revoked: bad build");
	json_decref(row);

	/* ... and the record without it: the approval pairs that SHA-512 with its SHA-256. */
	row = check_one(p, signing(6, "p.exe", s256[4], NULL, "pair"));
	CHECK_STR(status(row), "revoked");
	CHECK_CONTAINS(reason(row, 0), "digest is revoked: bad build");
	CHECK_CONTAINS(reason(row, 0), "approval pair");
	json_decref(row);

	/* Expired since. */
	row = check_one(p, signing(7, "g.exe", s256[2], NULL, "gone"));
	CHECK_STR(status(row), "not_approved");
	CHECK_CONTAINS(reason(row, 0), "approval gone expired on 2026-05-31");
	CHECK_STR(json_string_value(json_object_get(row, "approval_id")), "gone");
	json_decref(row);

	/* Bound to another file name. */
	row = check_one(p, signing(8, "other.exe", s256[5], NULL, "named"));
	CHECK_STR(status(row), "not_approved");
	CHECK_CONTAINS(reason(row, 0),
		       "approval named is for file \"setup.exe\", not \"other.exe\"");
	json_decref(row);

	/* Its approval removed. */
	row = check_one(p, signing(9, "x.exe", s256[8], NULL, "removed-1"));
	CHECK_STR(status(row), "not_approved");
	CHECK_CONTAINS(reason(row, 0), "no approval matches SHA-256");
	CHECK_STR(json_string_value(json_object_get(row, "approval_id")), "removed-1");
	json_decref(row);

	/* A signed input nested under ours: the format decides, which the report does not know. */
	{
		json_t *rec = signing(11, "v.exe", s256[7], NULL, "typed");
		json_object_set_new(json_object_get(rec, "input"), "signed_before", json_true());
		row = check_one(p, rec);
		CHECK_STR(status(row), "not_approved");
		CHECK_CONTAINS(reason(row, 0), "existing_signature=nest");
		CHECK_CONTAINS(reason(row, 0), "format (pe)");
		json_decref(row);
		/* Unsigned, the same approval still approves it. */
		CHECK(check_one(p, signing(12, "v.exe", s256[7], NULL, "typed")) == NULL);
		/* Signed before, approval "live" says refuse (the default): not approved now. */
		rec = signing(13, "a.exe", s256[1], NULL, "live");
		json_object_set_new(json_object_get(rec, "input"), "signed_before", json_true());
		row = check_one(p, rec);
		CHECK_STR(status(row), "not_approved");
		CHECK_CONTAINS(reason(row, 0), "existing_signature=refuse");
		json_decref(row);
	}

	/* A name that reads like a revocation does not make a denial one. */
	row = check_one(p, signing(14, "x: digest is revoked: y.exe", s256[8], NULL, "none"));
	CHECK_STR(status(row), "not_approved");
	CHECK_CONTAINS(reason(row, 0), "no approval matches SHA-256");
	json_decref(row);

	/* A record without a SHA-256 cannot be checked: never taken as approved. */
	{
		json_t *rec = signing(10, "n.exe", s256[1], NULL, "live");
		json_object_del(json_object_get(rec, "input"), "sha256");
		row = check_one(p, rec);
		CHECK_STR(status(row), "not_approved");
		CHECK_CONTAINS(reason(row, 0), "no SHA-256");
		CHECK(json_is_null(json_object_get(json_object_get(row, "input"), "sha256")));
		json_decref(row);
	}
	sg_policy_free(p);
}

/* A revocation by a SHA-512 no approval pairs: a record without SHA-512 cannot be cleared. */
static void test_unpaired_sha512(void)
{
	const char *dir = at("unpaired");
	char extra[256];
	sg_policy *p = NULL;
	json_t *row;

	snprintf(extra, sizeof(extra), ", {\"sha512\": \"%s\", \"reason\": \"leaked\"}", s512[8]);
	write_policy(dir, extra);
	if (sg_report_policy_load(&p, dir, NULL) != SG_OK) {
		CHECK(!"policy loads");
		return;
	}
	row = check_one(p, signing(1, "a.exe", s256[1], NULL, "live"));
	CHECK_STR(status(row), "not_approved");
	CHECK_INT(json_array_size(json_object_get(row, "reasons")), 1);
	CHECK_CONTAINS(reason(row, 0), "holds no SHA-512 of a.exe");
	CHECK_CONTAINS(reason(row, 0), "cannot be checked");
	json_decref(row);
	/* With the input's SHA-512 recorded, it is checked: another digest, still approved. */
	CHECK(check_one(p, signing(2, "a.exe", s256[1], s512[1], "live")) == NULL);
	/* The revoked SHA-512 itself. */
	row = check_one(p, signing(3, "a.exe", s256[1], s512[8], "live"));
	CHECK_STR(status(row), "revoked");
	CHECK_CONTAINS(reason(row, 0), "digest is revoked: leaked");
	json_decref(row);
	sg_policy_free(p);
}

/*
 * The one rule for signings and approvals (lib/report/report_pairing.h): a
 * subject's known digests are its own plus those an approval naming both
 * pairs with them; revoked when a revocation names one of them; else not
 * checked when a revocation may name it by a digest of it nobody knows.
 */

/* The digest members of an approval (NULL: left out). */
static const char *digests(const char *sha256, const char *sha512)
{
	static char buf[8][256];
	static int next;
	char *p = buf[next++ % 8];
	size_t n = 0;

	p[0] = '\0';
	if (sha256)
		n += (size_t)snprintf(p, sizeof(buf[0]), ", \"sha256\": \"%s\"", sha256);
	if (sha512)
		snprintf(p + n, sizeof(buf[0]) - n, ", \"sha512\": \"%s\"", sha512);
	return p;
}

/* One approval of product "P" (approvals of one file must agree on it). */
static const char *approval_p(const char *id, const char *extra)
{
	static char buf[8][1024];
	static int next;
	char *p = buf[next++ % 8];

	snprintf(p, sizeof(buf[0]),
		 "{\"id\": \"%s\", \"product\": \"P\", \"vendor\": \"Vendor\", "
		 "\"version\": \"1.0\", \"approved_by\": \"J\", \"ticket\": \"CHG-%s\", "
		 "\"approved_at\": \"2026-01-10\"%s}",
		 id, id, extra);
	return p;
}

/* One revocation (NULL: that digest left out). */
static const char *revocation(const char *sha256, const char *sha512, const char *reason)
{
	static char buf[8][320];
	static int next;
	char *p = buf[next++ % 8];

	snprintf(p, sizeof(buf[0]), "{\"reason\": \"%s\"%s}", reason, digests(sha256, sha512));
	return p;
}

/* A judge over a policy folder `name` of one approvals file and one revocations file. */
static sg_report_judge *judge_of(const char *name, const char *approvals, const char *revoked,
				 sg_policy **p)
{
	const char *dir = at(name);
	char text[8192];
	sg_report_judge *j = NULL;

	*p = NULL;
	mkdir(dir, 0755);
	snprintf(text, sizeof(text), "{\"approvals\": [%s]}", approvals);
	check_write_file(check_path(dir, "a.json"), text, strlen(text), 0644);
	snprintf(text, sizeof(text), "{\"revoked\": [%s]}", revoked);
	check_write_file(check_path(dir, "r.json"), text, strlen(text), 0644);
	CHECK_INT(sg_report_policy_load(p, dir, NULL), SG_OK);
	if (*p)
		CHECK_INT(sg_report_judge_new(&j, *p, NULL, 0), SG_OK);
	return j;
}

/* The ids of `list`, in order, space-separated (`list` released). */
static const char *ids(json_t *list)
{
	static char buf[4][256];
	static int next;
	char *p = buf[next++ % 4];
	size_t i, n = 0;
	json_t *v;

	CHECK(json_is_array(list));
	p[0] = '\0';
	json_array_foreach(list, i, v) {
		n += (size_t)snprintf(p + n, sizeof(buf[0]) - n, "%s%s", n ? " " : "",
				      json_string_value(json_object_get(v, "id")));
	}
	json_decref(list);
	return p;
}

/* The judge's row for one signing (NULL when approved now). */
static json_t *judged(sg_report_judge *j, json_t *rec)
{
	json_t *row = (json_t *)1;

	CHECK_INT(sg_report_judge_check(j, rec, NOW, &row), SG_OK);
	json_decref(rec);
	return row;
}

/* The reason of the unchecked approval `id`. */
static const char *unchecked_reason(sg_report_judge *j, const char *id)
{
	static char buf[SG_ERROR_MAX];
	json_t *list = sg_report_judge_approvals_unchecked(j, NOW);

	snprintf(buf, sizeof(buf), "%s",
		 json_string_value(json_object_get(find_id(list, id), "reason"))
			 ? json_string_value(json_object_get(find_id(list, id), "reason"))
			 : "(none)");
	json_decref(list);
	return buf;
}

/*
 * A revocation naming both digests, {sha256: another, sha512: T1}, and an
 * approval pairing S1 with T1: S1 is revoked, by its SHA-512 (red team X 1).
 */
static void test_rule_revoked_both_digests(void)
{
	sg_policy *p;
	sg_report_judge *j;
	json_t *row;
	char approvals[2048];

	snprintf(approvals, sizeof(approvals), "%s, %s, %s",
		 approval_p("by256", digests(s256[1], NULL)),
		 approval_p("both", digests(s256[1], s512[1])),
		 approval_p("other", digests(s256[2], NULL)));
	j = judge_of("rule-both", approvals, revocation(s256[8], s512[1], "recall"), &p);
	if (!j)
		goto done;
	CHECK_STR(ids(sg_report_judge_approvals(j, NOW)), "other");
	CHECK_STR(ids(sg_report_judge_approvals_unchecked(j, NOW)), "");
	/* The record holds S1 only: revoked through the pair. */
	row = judged(j, signing(1, "a.exe", s256[1], NULL, "by256"));
	CHECK_STR(status(row), "revoked");
	CHECK_STR(reason(row, 0), "a.exe: digest is revoked: recall (revoked by SHA-512, which "
				  "approval both gives for this SHA-256)");
	json_decref(row);
	/* Another file: still approved (the revocation's SHA-512 is paired, so checked). */
	CHECK(judged(j, signing(2, "b.exe", s256[2], NULL, "other")) == NULL);
done:
	sg_report_judge_free(j);
	sg_policy_free(p);
}

/*
 * A revocation by SHA-256 and an approval by SHA-512 alone of the same file
 * (another approval pairs the two): revoked, the mirror (red team X 2).
 */
static void test_rule_sha512_approval(void)
{
	sg_policy *p;
	sg_report_judge *j;
	json_t *row;
	char approvals[2048];

	snprintf(approvals, sizeof(approvals), "%s, %s, %s",
		 approval_p("a512", digests(NULL, s512[1])),
		 approval_p("both", digests(s256[1], s512[1])),
		 approval_p("other512", digests(NULL, s512[2])));
	j = judge_of("rule-mirror", approvals, revocation(s256[1], NULL, "recall"), &p);
	if (!j)
		goto done;
	/*
	 * a512 and both: revoked. other512: no SHA-256 of it is known and the
	 * revocation's SHA-256 is paired with a SHA-512 (T1), so it is checked.
	 */
	CHECK_STR(ids(sg_report_judge_approvals(j, NOW)), "other512");
	CHECK_STR(ids(sg_report_judge_approvals_unchecked(j, NOW)), "");
	/*
	 * A record holding the SHA-512 that approval both pairs with the revoked
	 * SHA-256, and another SHA-256: the record proves the pair wrong for its
	 * file, and signing the same bytes (SHA-256 s256[4], not revoked) is
	 * approved by a512: so is the record (red team Y 3). A record always
	 * holds its SHA-256, so the pair's SHA-256 never stands in for it.
	 */
	row = judged(j, signing(1, "a.exe", s256[4], s512[1], "a512"));
	CHECK(row == NULL);
	json_decref(row);
	row = judged(j, signing(2, "a.exe", s256[1], s512[1], "both"));
	CHECK_STR(status(row), "revoked");
	json_decref(row);
done:
	sg_report_judge_free(j);
	sg_policy_free(p);
}

/*
 * A revocation by a SHA-512 no approval pairs with a SHA-256: an approval
 * with no known SHA-512 cannot be checked (red team X 3), one whose SHA-256
 * an approval pairs with another SHA-512 can; the same for the signings.
 */
static void test_rule_unpaired_sha512(void)
{
	sg_policy *p;
	sg_report_judge *j;
	json_t *row, *list;
	char approvals[2048];

	snprintf(approvals, sizeof(approvals), "%s, %s, %s",
		 approval_p("by256", digests(s256[1], NULL)),
		 approval_p("by256p", digests(s256[2], NULL)),
		 approval_p("pair2", digests(s256[2], s512[2])));
	j = judge_of("rule-unpaired512", approvals, revocation(NULL, s512[8], "leaked"), &p);
	if (!j)
		goto done;
	CHECK_STR(ids(sg_report_judge_approvals(j, NOW)), "by256p pair2");
	CHECK_STR(ids(sg_report_judge_approvals_unchecked(j, NOW)), "by256");
	CHECK_STR(unchecked_reason(j, "by256"),
		  "approval by256 names no SHA-512 of its file and no approval pairs its SHA-256 "
		  "with one, and 1 revocation(s) of the policy name a SHA-512 that no approval "
		  "pairs with a SHA-256: it is in force unless one of them names its file, and "
		  "whether it is revoked cannot be checked");
	/* Same members as an approval in force, plus the reason. */
	list = sg_report_judge_approvals_unchecked(j, NOW);
	CHECK_STR(json_string_value(json_object_get(find_id(list, "by256"), "sha256")), s256[1]);
	CHECK_STR(json_string_value(json_object_get(find_id(list, "by256"), "approved_by_from")),
		  SG_REPORT_FROM_FILE);
	CHECK_STR(json_string_value(json_object_get(find_id(list, "by256"), "ticket")),
		  "CHG-by256");
	json_decref(list);
	/* The signing of S1 without its SHA-512: not approved, cannot be checked. */
	row = judged(j, signing(1, "a.exe", s256[1], NULL, "by256"));
	CHECK_STR(status(row), "not_approved");
	CHECK_CONTAINS(reason(row, 0), "holds no SHA-512 of a.exe");
	CHECK_CONTAINS(reason(row, 0), "whether it is revoked cannot be checked");
	json_decref(row);
	/* S2, whose SHA-512 approval pair2 gives: checked, approved by by256p. */
	CHECK(judged(j, signing(2, "b.exe", s256[2], NULL, "by256p")) == NULL);
done:
	sg_report_judge_free(j);
	sg_policy_free(p);
}

/*
 * The same when the revocation names a SHA-256 too: its SHA-512 is still
 * unpaired (red team X 1), and its SHA-256 unpaired for the mirror.
 */
static void test_rule_unpaired_both(void)
{
	sg_policy *p;
	sg_report_judge *j;
	json_t *row;
	char approvals[2048];

	snprintf(approvals, sizeof(approvals), "%s, %s",
		 approval_p("by256", digests(s256[1], NULL)),
		 approval_p("by512", digests(NULL, s512[1])));
	j = judge_of("rule-unpaired-both", approvals, revocation(s256[9], s512[9], "recall"), &p);
	if (!j)
		goto done;
	CHECK_STR(ids(sg_report_judge_approvals(j, NOW)), "");
	CHECK_STR(ids(sg_report_judge_approvals_unchecked(j, NOW)), "by256 by512");
	CHECK_CONTAINS(unchecked_reason(j, "by256"), "names no SHA-512 of its file");
	CHECK_CONTAINS(unchecked_reason(j, "by512"),
		       "approval by512 names no SHA-256 of its file and no approval pairs its "
		       "SHA-512 with one, and 1 revocation(s) of the policy name a SHA-256 that no "
		       "approval pairs with a SHA-512");
	row = judged(j, signing(1, "a.exe", s256[1], NULL, "by256"));
	CHECK_STR(status(row), "not_approved");
	CHECK_CONTAINS(reason(row, 0), "whether it is revoked cannot be checked");
	json_decref(row);
	/* The record holding the SHA-512: checked, approved. */
	CHECK(judged(j, signing(2, "a.exe", s256[1], s512[1], "by256")) == NULL);
done:
	sg_report_judge_free(j);
	sg_policy_free(p);
}

/*
 * The mirror: a revocation by a SHA-256 no approval pairs with a SHA-512
 * leaves an approval by SHA-512 alone unchecked, unless an approval pairs
 * its SHA-512 with a SHA-256; approvals by SHA-256 are checked.
 */
static void test_rule_unpaired_sha256(void)
{
	sg_policy *p;
	sg_report_judge *j;
	char approvals[2048];

	snprintf(approvals, sizeof(approvals), "%s, %s, %s, %s",
		 approval_p("a512", digests(NULL, s512[1])),
		 approval_p("b512", digests(NULL, s512[2])),
		 approval_p("both2", digests(s256[2], s512[2])),
		 approval_p("by256", digests(s256[3], NULL)));
	j = judge_of("rule-unpaired256", approvals, revocation(s256[8], NULL, "recall"), &p);
	if (!j)
		goto done;
	CHECK_STR(ids(sg_report_judge_approvals(j, NOW)), "b512 both2 by256");
	CHECK_STR(ids(sg_report_judge_approvals_unchecked(j, NOW)), "a512");
	CHECK_CONTAINS(unchecked_reason(j, "a512"), "names no SHA-256 of its file");
	CHECK(judged(j, signing(1, "c.exe", s256[3], NULL, "by256")) == NULL);
done:
	sg_report_judge_free(j);
	sg_policy_free(p);
}

/* Expired or revoked: in neither list, a revocation unpaired or not. */
static void test_rule_neither_list(void)
{
	sg_policy *p;
	sg_report_judge *j;
	char approvals[2048], revoked[1024];

	snprintf(approvals, sizeof(approvals), "%s, %s",
		 approval("old", "J", fields(s256[1], NULL, NULL, "2026-05-31")),
		 approval("revd", "J", digests(s256[3], NULL)));
	snprintf(revoked, sizeof(revoked), "%s, %s", revocation(s256[3], NULL, "recall"),
		 revocation(NULL, s512[8], "leaked"));
	j = judge_of("rule-neither", approvals, revoked, &p);
	if (!j)
		goto done;
	CHECK_STR(ids(sg_report_judge_approvals(j, NOW)), "");
	CHECK_STR(ids(sg_report_judge_approvals_unchecked(j, NOW)), "");
done:
	sg_report_judge_free(j);
	sg_policy_free(p);
}

/* A policy opened through its index: no list to show; a revocation is still found. */
static void test_indexed(void)
{
	const char *dir = at("indexed");
	sg_policy *p = NULL;
	int loaded = 0;
	json_t *row;

	write_policy(dir, "");
	CHECK_INT(sg_policy_index_write(dir, &loaded), SG_OK);
	CHECK_INT(sg_policy_open(&p, dir, NULL), SG_OK);
	if (!p || !p->index) {
		CHECK(!"opened through the index");
		sg_policy_free(p);
		return;
	}
	CHECK(sg_report_policy_approvals(p, NOW) == NULL);
	CHECK_CONTAINS(sg_error_last(), "loaded in full");
	row = check_one(p, signing(4, "r.exe", s256[3], NULL, "revd"));
	CHECK_STR(status(row), "revoked");
	json_decref(row);
	sg_policy_free(p);
}

static sg_approver_key *approver(const char *fixdir, const char *name)
{
	char cert[PATH_MAX], key[PATH_MAX];
	sg_approver_key *k = NULL;

	snprintf(cert, sizeof(cert), "%s/pki/approver-%s.pem", fixdir, name);
	snprintf(key, sizeof(key), "%s/pki/approver-%s.key", fixdir, name);
	CHECK_INT(sg_approver_key_open(&k, cert, key, NULL, NULL, &(sg_secret){ NULL, 0 }), SG_OK);
	return k;
}

/*
 * With the approvers' CA (the fixture's): an approval file signed by two
 * approvers shows the first one's certificate name; one signed by one
 * approver only, or by none, shows its typed text as not verified.
 */
static void test_cosigned(const char *fixdir)
{
	const char *dir = at("cosigned");
	char ca[PATH_MAX], sha[65], text[2048];
	sg_approver_key *alice = approver(fixdir, "alice"), *bob = approver(fixdir, "bob");
	sg_approvers_trust t = { 0 };
	sg_cosigner first, second;
	sg_policy *p = NULL;
	json_t *list;

	snprintf(ca, sizeof(ca), "%s/pki/approvers-ca.pem", fixdir);
	t.ca_file = ca;
	mkdir(dir, 0755);
	snprintf(text, sizeof(text), "{\"approvals\": [%s]}",
		 approval("both", "Mallory (typed)", fields(s256[1], NULL, NULL, NULL)));
	check_write_file(check_path(dir, "both.json"), text, strlen(text), 0644);
	snprintf(text, sizeof(text), "{\"approvals\": [%s]}",
		 approval("one", "Mallory (typed)", fields(s256[2], NULL, NULL, NULL)));
	check_write_file(check_path(dir, "one.json"), text, strlen(text), 0644);
	snprintf(text, sizeof(text), "{\"approvals\": [%s]}",
		 approval("none", "Mallory (typed)", fields(s256[3], NULL, NULL, NULL)));
	check_write_file(check_path(dir, "none.json"), text, strlen(text), 0644);
	if (!alice || !bob)
		goto done;
	CHECK_INT(sg_cosign_create(&first, sha, check_path(dir, "both.json"), SG_COSIGN_FIRST,
				   alice, &t, 0, NULL),
		  SG_OK);
	CHECK_INT(sg_cosign_create(&second, sha, check_path(dir, "both.json"), SG_COSIGN_SECOND,
				   bob, &t, 0, NULL),
		  SG_OK);
	CHECK_INT(sg_cosign_create(&second, sha, check_path(dir, "one.json"), SG_COSIGN_FIRST,
				   alice, &t, 0, NULL),
		  SG_OK);
	CHECK_INT(sg_report_policy_load(&p, dir, NULL), SG_OK);
	if (!p)
		goto done;
	list = sg_report_policy_approvals_trust(p, NOW, &t);
	CHECK_STR(json_string_value(json_object_get(find_id(list, "both"), "approved_by")),
		  first.name);
	CHECK(strcmp(first.name, "Mallory (typed)") != 0);
	CHECK_STR(json_string_value(json_object_get(find_id(list, "both"), "approved_by_from")),
		  SG_REPORT_FROM_CERT);
	CHECK_STR(json_string_value(json_object_get(find_id(list, "one"), "approved_by")),
		  "Mallory (typed)");
	CHECK_STR(json_string_value(json_object_get(find_id(list, "one"), "approved_by_from")),
		  SG_REPORT_FROM_FILE);
	CHECK_STR(json_string_value(json_object_get(find_id(list, "none"), "approved_by_from")),
		  SG_REPORT_FROM_FILE);
	json_decref(list);
	/* Without the approvers' trust nothing is verified, signatures or not. */
	list = sg_report_policy_approvals(p, NOW);
	CHECK_STR(json_string_value(json_object_get(find_id(list, "both"), "approved_by")),
		  "Mallory (typed)");
	CHECK_STR(json_string_value(json_object_get(find_id(list, "both"), "approved_by_from")),
		  SG_REPORT_FROM_FILE);
	json_decref(list);
done:
	sg_policy_free(p);
	sg_approver_key_free(alice);
	sg_approver_key_free(bob);
}

/*
 * Under the two-person rule, signing takes the first approval that allows a
 * file and refuses the file when that one is not co-signed. "old" (not
 * co-signed, first) allows only a signed file (vendor_signs, no
 * accept_unsigned); "new" (co-signed) allows both: an unsigned file reaches
 * "new", a signed one is refused at "old". The report cannot see which the
 * vendor ships: "new" is neither in force nor shadowed but unchecked, with
 * both sides said (red team Z 1). Without accept_unsigned on "new" too,
 * only a signed file is approved at all, and it never reaches "new":
 * shadowed.
 */
static void test_shadow_states(const char *fixdir)
{
	char ca[PATH_MAX], sha[65], dir[256], extra[512], both[600], file[2048];
	const char *text;
	sg_approver_key *alice = approver(fixdir, "alice"), *bob = approver(fixdir, "bob");
	sg_approvers_trust t = { 0 };
	sg_cosigner c;
	sg_report_judge *j = NULL;
	sg_policy *p = NULL;
	json_t *list;

	snprintf(ca, sizeof(ca), "%s/pki/approvers-ca.pem", fixdir);
	t.ca_file = ca;
	for (int round = 0; round < 2 && alice && bob; round++) {
		snprintf(dir, sizeof(dir), "%s/%s", tmpdir, round ? "shadow-signed" : "shadow-both");
		mkdir(dir, 0755);
		text = "{\"products\": [{\"product\": \"P\", \"vendor_signs\": true}]}";
		check_write_file(check_path(dir, "catalog.json"), text, strlen(text), 0644);
		snprintf(extra, sizeof(extra), "%s, \"existing_signature\": \"replace\"",
			 digests(s256[4], NULL));
		snprintf(file, sizeof(file), "{\"approvals\": [%s]}", approval_p("old", extra));
		check_write_file(check_path(dir, "a-old.json"), file, strlen(file), 0644);
		/* Round 0: "new" allows an unsigned file too. */
		snprintf(both, sizeof(both), "%s, \"accept_unsigned\": \"both\"", extra);
		snprintf(file, sizeof(file), "{\"approvals\": [%s]}",
			 approval_p("new", round ? extra : both));
		check_write_file(check_path(dir, "b-new.json"), file, strlen(file), 0644);
		CHECK_INT(sg_cosign_create(&c, sha, check_path(dir, "b-new.json"), SG_COSIGN_FIRST,
					   alice, &t, 0, NULL),
			  SG_OK);
		CHECK_INT(sg_cosign_create(&c, sha, check_path(dir, "b-new.json"), SG_COSIGN_SECOND,
					   bob, &t, 0, NULL),
			  SG_OK);
		CHECK_INT(sg_report_policy_load(&p, dir, NULL), SG_OK);
		if (!p || sg_report_judge_new(&j, p, &t, 1) != SG_OK)
			break;
		CHECK_STR(ids(sg_report_judge_approvals(j, NOW)), "");
		list = sg_report_judge_approvals_unchecked(j, NOW);
		if (round) {
			CHECK(json_array_size(list) == 0);
		} else {
			const char *why =
				json_string_value(json_object_get(find_id(list, "new"), "reason"));

			CHECK_CONTAINS(why ? why : "", "signing this file when it carries a signature "
						       "takes approval old first");
			CHECK_CONTAINS(why ? why : "", "; an unsigned file reaches approval new: "
						       "whether signing reaches it depends on the file");
		}
		json_decref(list);
		CHECK_STR(ids(sg_report_judge_approvals_shadowed(j, NOW)), round ? "new" : "");
		sg_report_judge_free(j);
		j = NULL;
		sg_policy_free(p);
		p = NULL;
	}
	sg_report_judge_free(j);
	sg_policy_free(p);
	sg_approver_key_free(alice);
	sg_approver_key_free(bob);
}

int main(int argc, char **argv)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	chmod(tmpdir, 0755);
	make_digests();
	test_load_strict();
	test_approvals();
	test_check();
	test_unpaired_sha512();
	test_rule_revoked_both_digests();
	test_rule_sha512_approval();
	test_rule_unpaired_sha512();
	test_rule_unpaired_both();
	test_rule_unpaired_sha256();
	test_rule_neither_list();
	test_indexed();
	/* With the fixture's folder: the approvers' certificates (unit.report_policy_cosign). */
	if (argc > 1)
		test_cosigned(argv[1]);
	if (argc > 1)
		test_shadow_states(argv[1]);
	{
		const char *rm[] = { "/bin/rm", "-rf", "--", tmpdir, NULL };
		pid_t pid = fork();
		if (pid == 0) {
			execv(rm[0], (char *const *)rm);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	return check_done();
}

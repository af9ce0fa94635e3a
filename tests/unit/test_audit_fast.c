/*
 * The fast path of audit verify (lib/audit_fast.c) against the slow path
 * (sg_audit_check_record, jansson): the fast path must accept the records
 * signgate writes in its narrow dialect, report the same facts as the slow
 * path, and never accept a line the slow path refuses. The last point is
 * checked on many mutated lines whose "hash" is recomputed after the
 * mutation, so that only the form and the fields can make them bad.
 */
#include "signgate/audit.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "audit_internal.h"

#include "check.h"

#include <stdlib.h>
#include <unistd.h>

#define MAX_LINES 64
#define MUTATIONS 3000
#define SEED      20261126u

static char dir[] = "/tmp/test_audit_fast.XXXXXX";
static struct sg_audit_hasher hasher;

static void append(const char *path, json_t *rec)
{
	CHECK_INT(sg_audit_append(path, rec, NULL), SG_OK);
	json_decref(rec);
}

/* Records that use every corner of the dialect, and some outside it. */
static size_t make_log(const char *path, char *lines[MAX_LINES])
{
	append(path, json_pack("{s:s, s:s, s:{s:s, s:I}}", "action", "sign", "decision", "signed",
			       "input", "name", "setup \"x\"\\ tab\t nl\n.exe", "size",
			       (json_int_t)-12345));
	append(path, json_pack("{s:s, s:[i, b, b, n, [], {}], s:{}}", "action", "check", "list", 0,
			       1, 0, "empty"));
	append(path, json_pack("{s:s, s:s}", "action", "rotate", "decision", "rotated"));
	append(path, json_pack("{s:s, s:{s:I, s:s}}", "action", "seal", "seal", "seq",
			       (json_int_t)2, "head",
			       "0000000000000000000000000000000000000000000000000000000000000000"));
	append(path, json_pack("{s:s, s:f}", "action", "check", "ratio", 0.5));         /* a real */
	append(path, json_pack("{s:s, s:s}", "action", "check", "who", "J\xc3\xb6rg")); /* \u */
	append(path, json_pack("{s:s, s:s}", "action", "check", "ctl", "a\x01z\x7f")); /* \u, DEL */
	append(path, json_pack("{s:s, s:{s:s}}", "action", "check", "k\"ey", "a", "b"));
	setenv("SIGNGATE_BUILD_ID", "build 7", 1);
	append(path,
	       json_pack("{s:s, s:I}", "action", "verify", "big", (json_int_t)999999999999999999));
	unsetenv("SIGNGATE_BUILD_ID");
	return check_read_lines(path, lines, MAX_LINES);
}

static int slow_ok(const char *line, size_t len, json_t **obj)
{
	char why[WHY_MAX];

	return sg_audit_check_record(obj, line, len, why) == SG_OK;
}

/* The base lines: which the fast path takes, with the slow path's facts. */
static void test_base(char *lines[], size_t n)
{
	/*
	 * Outside the dialect: the seal record (4), the real (5), \u escapes
	 * (6, 7), a key with an escape (8).
	 */
	static const int want_fast[] = { 1, 1, 1, 0, 0, 0, 0, 0, 1 };

	CHECK_INT(n, 9);
	for (size_t i = 0; i < n && i < 9; i++) {
		struct sg_audit_fast fast;
		char hash[HEX_LEN + 1];
		json_t *obj = NULL;
		size_t len = strlen(lines[i]);
		int got = sg_audit_fast_check(lines[i], len, &fast, &hasher);

		CHECK(slow_ok(lines[i], len, &obj));
		CHECK_INT(got, want_fast[i]);
		if (got != want_fast[i])
			fprintf(stderr, "  base line %zu: %s\n", i + 1, lines[i]);
		if (got && obj) {
			CHECK_INT(fast.seq, json_integer_value(json_object_get(obj, "seq")));
			CHECK_STR(fast.prev, json_string_value(json_object_get(obj, "prev")));
			CHECK_INT(sg_sha256_hex(hash, lines[i], len), SG_OK);
			CHECK_STR(fast.line_hash, hash);
			CHECK_INT(fast.rotate, i == 2);
		}
		json_decref(obj);
	}
}

/*
 * Put the SHA-256 of the line without its `,"hash":"H"` member into H, as a
 * forger would. Returns 0 when the line has no such member any more.
 */
static int rehash(char *line, size_t len)
{
	char *member = strstr(line, ",\"hash\":\"");
	char *cut, hex[HEX_LEN + 1];
	size_t mlen = 9 + HEX_LEN + 1, pos;

	if (!member || (size_t)(member - line) + mlen > len || member[mlen - 1] != '"')
		return 0;
	pos = (size_t)(member - line);
	cut = malloc(len);
	memcpy(cut, line, pos);
	memcpy(cut + pos, member + mlen, len - pos - mlen);
	sg_sha256_hex(hex, cut, len - mlen);
	memcpy(member + 9, hex, HEX_LEN);
	free(cut);
	return 1;
}

static const char noise[] = "{}[]\":,\\0123456789-.eE+tfnrualse ab/\x7f\x01\x80";

/* One random edit of `in` into `out` (room for len + 2); returns the new length. */
static size_t mutate(char *out, const char *in, size_t len)
{
	size_t at = (size_t)rand() % len;
	char c = rand() % 4 ? noise[rand() % (sizeof(noise) - 1)] : (char)(rand() % 256);

	memcpy(out, in, len);
	switch (rand() % 4) {
	case 0: out[at] = c; break;
	case 1:
		memmove(out + at, out + at + 1, len - at - 1);
		len--;
		break;
	case 2:
		memmove(out + at + 1, out + at, len - at);
		out[at] = c;
		len++;
		break;
	default:
		if (at + 1 < len) {
			out[at] = in[at + 1];
			out[at + 1] = in[at];
		}
	}
	out[len] = '\0';
	return len;
}

static void test_mutations(char *lines[], size_t n)
{
	size_t fast_taken = 0, both = 0, disagree = 0;

	srand(SEED);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(lines[i]);
		char *m = malloc(len + 3);

		for (int k = 0; k < MUTATIONS; k++) {
			struct sg_audit_fast fast;
			json_t *obj = NULL;
			size_t mlen = mutate(m, lines[i], len);
			int f, s;

			if (memchr(m, '\0', mlen) || !rehash(m, mlen))
				continue;
			f = sg_audit_fast_check(m, mlen, &fast, &hasher);
			s = slow_ok(m, mlen, &obj);
			fast_taken += f;
			both += f && s;
			if (f && !s) {
				disagree++;
				fprintf(stderr, "fast path took a line jansson refuses: %s\n", m);
			}
			if (f && s && fast.seq != json_integer_value(json_object_get(obj, "seq")))
				disagree++;
			json_decref(obj);
		}
		free(m);
	}
	printf("mutations: fast path took %zu, all also valid for jansson: %zu\n", fast_taken,
	       both);
	CHECK_INT(disagree, 0);
	/* Mutations inside string values keep a line valid: the fast path must see some. */
	CHECK(fast_taken > 100);
}

/* Hand-made lines the fast path must leave alone, hash recomputed each time. */
static void test_crafted(const char *base)
{
	static const struct {
		const char *from, *to;
	} edits[] = {
		{ "{\"action\"", "{ \"action\"" }, /* whitespace */
		{ "\"seq\":", "\"seq\": " },       /* whitespace */
		{ "\"uid\":", "\"uid\":-" },       /* negative uid */
		{ "\"action\":\"sign\",", "" },    /* still canonical: must pass */
		{ "\"decision\":\"signed\"", "\"decision\":\"signed\",\"decision\":\"x\"" },
		{ "\"size\":-12345", "\"size\":-012345" },  /* leading zero */
		{ "\"size\":-12345", "\"size\":-12345.0" }, /* a real */
		{ "\"size\":-12345", "\"size\":-0" },
		{ "\"actor\":{", "\"actor\":{\"zz\":1,\"\":2," }, /* unsorted keys */
	};
	static const int want[] = { 0, 0, 0, 1, 0, 0, 0, 0, 0 };
	/* -12345.0 is how jansson writes that real: valid, but for the slow path. */
	static const int want_slow[] = { 0, 0, 0, 1, 0, 0, 1, 0, 0 };

	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char line[4096];
		const char *at = strstr(base, edits[i].from);
		struct sg_audit_fast fast;
		json_t *obj = NULL;
		size_t len;
		int f;

		CHECK(at != NULL);
		if (!at)
			continue;
		snprintf(line, sizeof(line), "%.*s%s%s", (int)(at - base), base, edits[i].to,
			 at + strlen(edits[i].from));
		len = strlen(line);
		CHECK(rehash(line, len));
		f = sg_audit_fast_check(line, len, &fast, &hasher);
		CHECK_INT(f, want[i]);
		CHECK_INT(slow_ok(line, len, &obj), want_slow[i]);
		if (f != want[i])
			fprintf(stderr, "  crafted line %zu: %s\n", i + 1, line);
		json_decref(obj);
	}
}

/*
 * A line without "actor" (its hash recomputed): neither path takes it, and
 * the fast path must not do pointer arithmetic on the absent member.
 */
static void test_no_actor(const char *base)
{
	const char *from = strstr(base, "\"actor\":{"), *to = from ? strstr(from, "},") : NULL;
	struct sg_audit_fast fast;
	json_t *obj = NULL;
	char line[4096];
	size_t len;

	CHECK(from != NULL && to != NULL);
	if (!from || !to)
		return;
	snprintf(line, sizeof(line), "%.*s%s", (int)(from - base), base, to + 2);
	len = strlen(line);
	CHECK(strstr(line, "actor") == NULL);
	CHECK(rehash(line, len));
	CHECK_INT(sg_audit_fast_check(line, len, &fast, &hasher), 0);
	CHECK_INT(slow_ok(line, len, &obj), 0);
	json_decref(obj);
}

/*
 * A NUL byte after a backslash inside a string: jansson refuses the escape,
 * so the fast path must too (strchr() finds the terminator of its escape
 * list). Made by hand, since the mutations above skip lines with a NUL.
 */
static void test_nul_escape(const char *base)
{
	const char *at = strstr(base, "setup ");
	char line[4096];
	struct sg_audit_fast fast;
	json_t *obj = NULL;
	size_t pre, len;

	CHECK(at != NULL && strlen(base) + 3 < sizeof(line));
	if (!at || strlen(base) + 3 >= sizeof(line))
		return;
	pre = (size_t)(at - base);
	memcpy(line, base, pre);
	line[pre] = '\\'; /* a backslash, then NUL */
	line[pre + 1] = '\0';
	memcpy(line + pre + 2, at, strlen(at) + 1);
	len = strlen(base) + 2;
	CHECK(rehash(line, len));
	CHECK_INT(slow_ok(line, len, &obj), 0);
	CHECK_INT(sg_audit_fast_check(line, len, &fast, &hasher), 0);
	json_decref(obj);
}

int main(void)
{
	char *lines[MAX_LINES];
	size_t n;

	if (!mkdtemp(dir))
		return 1;
	hasher.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	hasher.a = EVP_MD_CTX_new();
	hasher.b = EVP_MD_CTX_new();
	n = make_log(check_path(dir, "log.jsonl"), lines);
	test_base(lines, n);
	if (n > 0) {
		test_crafted(lines[0]);
		test_no_actor(lines[0]);
		test_nul_escape(lines[0]);
	}
	test_mutations(lines, n);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	EVP_MD_CTX_free(hasher.a);
	EVP_MD_CTX_free(hasher.b);
	EVP_MD_free(hasher.sha256);
	unlink(check_path(dir, "log.jsonl"));
	rmdir(dir);
	return check_done();
}

/*
 * The fast path of audit verify: recognize a line that is exactly what
 * signgate writes, without building a JSON tree.
 *
 * Parsing every line with jansson costs about 19 microseconds a record here,
 * which makes a million-record log take half a minute. But a log signgate
 * wrote holds one narrow dialect of JSON: compact, keys sorted, ASCII only,
 * integers only. This recognizer accepts that dialect and nothing else; any
 * line it is unsure of (a \u escape, a real number, a key with an escape, a
 * byte outside printable ASCII, deep nesting, a seal record) goes to the slow
 * path, sg_audit_check_record() with jansson, which also words the error. So
 * the fast path never decides that a line is bad, and it accepts a line only
 * when the slow path would accept it too: tests/unit/test_audit_fast.c checks
 * that against jansson on mutated records.
 */
#include "audit_internal.h"

#include <string.h>

#include <openssl/evp.h>
#include <uuid/uuid.h>

#define FAST_DEPTH_MAX 32
#define FAST_DIGITS    18 /* more could overflow long long: let jansson judge */

/* A value's bytes within the line. */
struct span {
	const char *p;
	size_t len;
	char type; /* 'o' object, 'a' array, 's' string, 'i' integer, 'l' literal */
};

struct scan {
	const char *p, *end;
};

static int value(struct scan *s, struct span *out, int depth);

static int lit(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return 0;
	s->p += n;
	return 1;
}

/* A string of printable ASCII with only the escapes jansson writes for them. */
static int string(struct scan *s, int escapes_ok)
{
	if (s->p == s->end || *s->p++ != '"')
		return 0;
	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p++;

		if (c == '"')
			return 1;
		if (c < 0x20 || c > 0x7e)
			return 0;
		if (c == '\\') {
			/* *s->p != 0: strchr() would find a NUL byte as the list's end. */
			if (!escapes_ok || s->p == s->end || *s->p == '\0' ||
			    !strchr("\"\\bfnrt", *s->p))
				return 0;
			s->p++;
		}
	}
	return 0;
}

/* -?(0|[1-9][0-9]*), short enough for a long long; "-0" is not canonical. */
static int integer(struct scan *s)
{
	const char *start = s->p;
	size_t digits = 0;

	if (s->p < s->end && *s->p == '-')
		s->p++;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		s->p++;
		digits++;
	}
	if (digits == 0 || digits > FAST_DIGITS)
		return 0;
	if (s->p[-(long)digits] == '0' && (digits > 1 || *start == '-'))
		return 0;
	/* A fraction or exponent makes it a real: not ours. */
	return s->p == s->end || (*s->p != '.' && *s->p != 'e' && *s->p != 'E');
}

/*
 * An object with keys in strictly increasing byte order (so no duplicates;
 * keys hold no escapes, so byte order is jansson's sort order). When `keys`
 * is given, the values of those keys (sorted, NULL-terminated) go to `found`.
 */
static int object(struct scan *s, int depth, const char *const *keys, struct span *found)
{
	const char *prev = NULL;
	size_t prev_len = 0;

	if (depth > FAST_DEPTH_MAX || !lit(s, "{"))
		return 0;
	if (lit(s, "}"))
		return 1;
	for (;;) {
		const char *key = s->p + 1;
		size_t key_len;
		struct span v;
		int cmp;

		if (!string(s, 0))
			return 0;
		key_len = (size_t)(s->p - 1 - key);
		if (prev) {
			cmp = memcmp(prev, key, prev_len < key_len ? prev_len : key_len);
			if (cmp > 0 || (cmp == 0 && prev_len >= key_len))
				return 0;
		}
		prev = key;
		prev_len = key_len;
		if (!lit(s, ":") || !value(s, &v, depth + 1))
			return 0;
		for (size_t i = 0; keys && keys[i]; i++)
			if (strlen(keys[i]) == key_len && memcmp(keys[i], key, key_len) == 0)
				found[i] = v;
		if (lit(s, "}"))
			return 1;
		if (!lit(s, ","))
			return 0;
	}
}

static int array(struct scan *s, int depth)
{
	struct span v;

	if (depth > FAST_DEPTH_MAX || !lit(s, "["))
		return 0;
	if (lit(s, "]"))
		return 1;
	for (;;) {
		if (!value(s, &v, depth + 1))
			return 0;
		if (lit(s, "]"))
			return 1;
		if (!lit(s, ","))
			return 0;
	}
}

static int value(struct scan *s, struct span *out, int depth)
{
	int ok;

	out->p = s->p;
	if (s->p == s->end)
		return 0;
	switch (*s->p) {
	case '{':
		out->type = 'o';
		ok = object(s, depth, NULL, NULL);
		break;
	case '[':
		out->type = 'a';
		ok = array(s, depth);
		break;
	case '"':
		out->type = 's';
		ok = string(s, 1);
		break;
	case 't':
		out->type = 'l';
		ok = lit(s, "true");
		break;
	case 'f':
		out->type = 'l';
		ok = lit(s, "false");
		break;
	case 'n':
		out->type = 'l';
		ok = lit(s, "null");
		break;
	default:
		out->type = 'i';
		ok = integer(s);
		break;
	}
	out->len = (size_t)(s->p - out->p);
	return ok;
}

/* A string value of exactly `len` characters from `alphabet`, quotes excluded. */
static int is_plain(const struct span *v, size_t len, const char *alphabet)
{
	if (v->type != 's' || v->len != len + 2)
		return 0;
	for (size_t i = 1; i <= len; i++)
		if (!strchr(alphabet, v->p[i]) || v->p[i] == '\0')
			return 0;
	return 1;
}

static int is_uuid(const struct span *v)
{
	char text[SG_AUDIT_ID_LEN];
	uuid_t uu;

	if (!is_plain(v, SG_AUDIT_ID_LEN - 1, "0123456789abcdef-"))
		return 0;
	memcpy(text, v->p + 1, SG_AUDIT_ID_LEN - 1);
	text[SG_AUDIT_ID_LEN - 1] = '\0';
	return uuid_parse(text, uu) == 0;
}

static int is_time(const struct span *v)
{
	static const char shape[] = "0000-00-00T00:00:00Z";

	if (v->type != 's' || v->len != TIME_LEN + 2)
		return 0;
	for (size_t i = 0; i < TIME_LEN; i++) {
		char c = v->p[i + 1];

		if (shape[i] == '0' ? !(c >= '0' && c <= '9') : c != shape[i])
			return 0;
	}
	return 1;
}

static long long int_of(const struct span *v)
{
	long long n = 0;
	int neg = v->p[0] == '-';

	for (size_t i = neg; i < v->len; i++)
		n = n * 10 + (v->p[i] - '0');
	return neg ? -n : n;
}

/* The actor's members as check_actor() in audit_read.c wants them. */
static int actor_ok(const struct span *v)
{
	static const char *const keys[] = { "build_id", "build_id_source", "host", "uid", "user",
					    NULL };
	struct span f[5] = { { 0 } };
	struct scan s;

	/* No "actor" member: v->p is NULL, and NULL + 0 is undefined. */
	if (v->type != 'o')
		return 0;
	s = (struct scan){ v->p, v->p + v->len };
	if (!object(&s, 1, keys, f))
		return 0;
	if (f[2].type != 's' || f[4].type != 's' || f[3].type != 'i' || f[3].p[0] == '-')
		return 0;
	return (!f[0].p && !f[1].p) || (f[0].type == 's' && f[1].type == 's');
}

enum { K_ACTION, K_ACTOR, K_HASH, K_ID, K_PREV, K_SEQ, K_TIME, K_COUNT };

int sg_audit_fast_check(const char *line, size_t len, struct sg_audit_fast *out,
			struct sg_audit_hasher *h)
{
	static const char *const keys[] = { "action", "actor", "hash", "id",
					    "prev",   "seq",   "time", NULL };
	struct span f[K_COUNT] = { { 0 } };
	struct scan s = { line, line + len };
	unsigned char md[EVP_MAX_MD_SIZE];
	char got[HEX_LEN + 1];
	const char *member, *rest;
	size_t member_len, rest_len;

	if (!object(&s, 0, keys, f) || s.p != s.end)
		return 0;
	if (!actor_ok(&f[K_ACTOR]) || !is_uuid(&f[K_ID]) || !is_time(&f[K_TIME]) ||
	    f[K_SEQ].type != 'i' || int_of(&f[K_SEQ]) < 1 ||
	    !is_plain(&f[K_PREV], HEX_LEN, "0123456789abcdef") ||
	    !is_plain(&f[K_HASH], HEX_LEN, "0123456789abcdef"))
		return 0;
	/* Seal records carry facts inside an object: the slow path reads them. */
	if (f[K_ACTION].p && f[K_ACTION].len == 6 && memcmp(f[K_ACTION].p, "\"seal\"", 6) == 0)
		return 0;
	/*
	 * "actor" sorts before "hash", so the member is `,"hash":"H"`: the line
	 * without it is the canonical text the writer hashed. One pass over the
	 * bytes before it serves both digests: the line's and the content's.
	 */
	member = f[K_HASH].p - 8;
	member_len = f[K_HASH].len + 8;
	if (member <= line || memcmp(member, ",\"hash\":", 8) != 0)
		return 0;
	rest = member + member_len;
	rest_len = len - (size_t)(rest - line);
	if (!EVP_DigestInit_ex(h->a, h->sha256, NULL) ||
	    !EVP_DigestUpdate(h->a, line, (size_t)(member - line)) ||
	    !EVP_MD_CTX_copy_ex(h->b, h->a) || !EVP_DigestUpdate(h->a, member, member_len) ||
	    !EVP_DigestUpdate(h->a, rest, rest_len) || !EVP_DigestFinal_ex(h->a, md, NULL))
		return 0;
	sg_hex_encode(out->line_hash, md, SG_SHA256_LEN);
	if (!EVP_DigestUpdate(h->b, rest, rest_len) || !EVP_DigestFinal_ex(h->b, md, NULL))
		return 0;
	sg_hex_encode(got, md, SG_SHA256_LEN);
	if (memcmp(got, f[K_HASH].p + 1, HEX_LEN) != 0)
		return 0;
	out->seq = int_of(&f[K_SEQ]);
	memcpy(out->prev, f[K_PREV].p + 1, HEX_LEN);
	out->prev[HEX_LEN] = '\0';
	out->rotate = f[K_ACTION].len == 8 && memcmp(f[K_ACTION].p, "\"rotate\"", 8) == 0;
	return 1;
}

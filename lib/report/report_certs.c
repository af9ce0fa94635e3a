/*
 * The signer certificates seen in the period's signing records, with
 * their expiry against `now` (see "certificates" in signgate/report.h).
 * A jansson object (a hash table) finds a record's certificate by its
 * thumbprints in constant time; at most CERTS_LISTED certificates are
 * kept and listed, the others are counted ("certificates_not_listed").
 * Thumbprints are remembered for CERTS_TRACKED distinct certificates at
 * most, so memory stays bounded whatever the log holds.
 */
#include "signgate/error.h"
#include "report_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WARN_DAYS 60

struct rp_cert {
	json_t *subject, *sha1, *sha256, *not_after; /* strings or null */
	size_t signings;
	int disagree; /* a later record gave another subject or not_after */
	char first[21], last[21];
};

static int same(const json_t *a, const json_t *b)
{
	return json_equal((json_t *)a, (json_t *)b) || (json_is_null(a) && json_is_null(b));
}

void rp_certs_free(struct rp_certs *c)
{
	for (size_t i = 0; i < c->n; i++) {
		json_decref(c->v[i].subject);
		json_decref(c->v[i].sha1);
		json_decref(c->v[i].sha256);
		json_decref(c->v[i].not_after);
	}
	free(c->v);
	json_decref(c->index);
	json_decref(c->subjects);
	memset(c, 0, sizeof(*c));
}

/* "s<len>:<text>" or "n" for each of two strings: a key no other pair makes. */
static char *pair_key(const json_t *a, const json_t *b)
{
	const char *sa = json_string_value(a), *sb = json_string_value(b);
	size_t n = (sa ? strlen(sa) : 0) + (sb ? strlen(sb) : 0) + 64;
	char *k = malloc(n);
	int w;

	if (!k)
		return NULL;
	w = snprintf(k, n, "%s%zu:%s|%s%zu:%s", sa ? "s" : "n", sa ? strlen(sa) : 0,
		     sa ? sa : "", sb ? "s" : "n", sb ? strlen(sb) : 0, sb ? sb : "");
	if (w < 0 || (size_t)w >= n) {
		free(k);
		return NULL;
	}
	return k;
}

/* One more distinct certificate with this subject (compared case-insensitively). */
static int subject_count(struct rp_certs *c, const json_t *subject)
{
	const char *s = json_string_value(subject);
	char *low;
	json_int_t had;
	int rc;

	if (!s)
		return 0;
	low = strdup(s);
	if (!low)
		return -1;
	for (char *p = low; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	had = json_integer_value(json_object_get(c->subjects, low));
	rc = json_object_set_new(c->subjects, low, json_integer(had + 1));
	free(low);
	return rc;
}

static int grow(struct rp_certs *c)
{
	size_t cap = c->cap ? 2 * c->cap : 8;
	struct rp_cert *grown;

	if (c->n < c->cap)
		return 0;
	if (cap > CERTS_LISTED)
		cap = CERTS_LISTED;
	grown = realloc(c->v, cap * sizeof(*grown));
	if (!grown)
		return -1;
	c->v = grown;
	c->cap = cap;
	return 0;
}

static struct rp_cert *add_listed(struct rp_certs *c, const json_t *rec, json_t *sha1,
				  json_t *sha256)
{
	struct rp_cert *e;

	if (grow(c))
		return NULL;
	e = &c->v[c->n++];
	memset(e, 0, sizeof(*e));
	e->sha1 = json_incref(sha1);
	e->sha256 = json_incref(sha256);
	e->subject = rp_str(rec, "signature.signer.subject");
	e->not_after = rp_str(rec, "signature.signer.not_after");
	return e;
}

/*
 * The listed entry of rec's certificate, added when new and there is room;
 * *unlisted is set when it is counted among those not listed instead.
 * -1: out of memory.
 */
static int find_or_add(struct rp_certs *c, const json_t *rec, json_t *sha1, json_t *sha256,
		       struct rp_cert **out, int *unlisted)
{
	char *key = pair_key(sha1, sha256);
	json_t *at, *subject;
	int rc = 0;

	*out = NULL;
	*unlisted = 0;
	if (!key)
		return -1;
	at = json_object_get(c->index, key);
	if (json_is_integer(at)) {
		*out = &c->v[json_integer_value(at)];
	} else if (at) {
		*unlisted = 1;
	} else if (json_object_size(c->index) >= CERTS_TRACKED) {
		*unlisted = 1; /* cannot tell whether it was seen: a lower bound */
		c->more_partial = 1;
	} else {
		subject = rp_str(rec, "signature.signer.subject");
		rc = subject ? subject_count(c, subject) : -1;
		json_decref(subject);
		if (rc == 0 && c->n < CERTS_LISTED) {
			*out = add_listed(c, rec, sha1, sha256);
			rc = *out ? json_object_set_new(c->index, key,
							json_integer((json_int_t)(c->n - 1)))
				  : -1;
		} else if (rc == 0) {
			*unlisted = 1;
			c->more++;
			rc = json_object_set_new(c->index, key, json_true());
		}
	}
	free(key);
	return rc;
}

/* A later record's subject or not_after that differs from the entry's. */
static int check_agree(struct rp_cert *e, const json_t *rec)
{
	json_t *subject = rp_str(rec, "signature.signer.subject");
	json_t *not_after = rp_str(rec, "signature.signer.not_after");
	int rc = subject && not_after ? 0 : -1;

	if (rc == 0 && (!same(subject, e->subject) || !same(not_after, e->not_after)))
		e->disagree = 1;
	json_decref(subject);
	json_decref(not_after);
	return rc;
}

static int counted(struct rp_cert *e, const json_t *rec, const char *time)
{
	if (e->signings > 0 && check_agree(e, rec))
		return -1;
	if (!e->subject || !e->not_after)
		return -1;
	if (e->signings++ == 0 || strcmp(time, e->first) < 0)
		memcpy(e->first, time, sizeof(e->first));
	if (strcmp(time, e->last) > 0)
		memcpy(e->last, time, sizeof(e->last));
	return 0;
}

int rp_certs_add(struct rp_certs *c, const json_t *rec)
{
	const char *time = json_string_value(json_object_get(rec, "time"));
	json_t *sha1, *sha256;
	struct rp_cert *e = NULL;
	int unlisted = 0, rc;

	if (!json_is_object(json_object_get(json_object_get(rec, "signature"), "signer")))
		return SG_OK;
	if (!c->index)
		c->index = json_object();
	if (!c->subjects)
		c->subjects = json_object();
	sha1 = rp_str(rec, "signature.signer.sha1_thumbprint");
	sha256 = rp_str(rec, "signature.signer.sha256");
	rc = c->index && c->subjects && sha1 && sha256 ?
		     find_or_add(c, rec, sha1, sha256, &e, &unlisted) :
		     -1;
	json_decref(sha1);
	json_decref(sha256);
	if (rc == 0 && unlisted)
		c->more_signings++;
	else if (rc == 0)
		rc = e ? counted(e, rec, time) : -1;
	return rc ? sg_error_set(SG_ERR_NOMEM, "out of memory") : SG_OK;
}

/* "YYYY-MM-DDTHH:MM:SSZ" as a time_t; -1 when it is not one. */
static int parse_utc(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

	if (!end || *end)
		return -1;
	*out = timegm(&tm);
	return 0;
}

static const char *expiry_warning(const struct rp_cert *e, time_t now, json_t **days_left)
{
	time_t end;

	if (parse_utc(json_string_value(e->not_after), &end) != 0) {
		*days_left = json_null();
		return "expiry unknown";
	}
	*days_left = json_integer((json_int_t)((long long)(end - now) / 86400));
	if (end <= now)
		return "expired";
	if (end - now <= (time_t)WARN_DAYS * 86400)
		return "expires within 60 days";
	return NULL;
}

/* Other distinct certificates seen with this certificate's subject. */
static json_int_t same_subject(const struct rp_certs *c, const struct rp_cert *e)
{
	const char *s = json_string_value(e->subject);
	char *low = s ? strdup(s) : NULL;
	json_int_t n;

	if (!low)
		return 0;
	for (char *p = low; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	n = json_integer_value(json_object_get(c->subjects, low));
	free(low);
	return n > 0 ? n - 1 : 0;
}

static json_t *cert_json(const struct rp_certs *c, const struct rp_cert *e, time_t now)
{
	json_t *days_left = NULL;
	const char *warning = expiry_warning(e, now, &days_left);
	json_int_t others = same_subject(c, e);
	char note[96];
	int w = snprintf(note, sizeof(note),
			 "same subject as %lld other certificate(s): a renewal or an impostor",
			 (long long)others);

	if (w < 0 || (size_t)w >= sizeof(note))
		note[0] = '\0';
	return json_pack("{s:O, s:O, s:O, s:O, s:o, s:s?, s:I, s:s?, s:b, s:s?, s:I, s:s, s:s}",
			 "subject", e->subject, "sha1_thumbprint", e->sha1, "sha256", e->sha256,
			 "not_after", e->not_after, "days_left", days_left, "expiry_warning",
			 warning, "same_subject_as", others, "subject_warning",
			 others > 0 ? note : NULL, "records_disagree", e->disagree,
			 "records_warning",
			 e->disagree ? "records disagree about this certificate" : NULL,
			 "signings", (json_int_t)e->signings, "first_used", e->first,
			 "last_used", e->last);
}

json_t *rp_certs_json(const struct rp_certs *c, time_t now)
{
	json_t *out = json_array();

	for (size_t i = 0; out && i < c->n; i++)
		if (json_array_append_new(out, cert_json(c, &c->v[i], now))) {
			json_decref(out);
			return NULL;
		}
	return out;
}

json_t *rp_certs_more_json(const struct rp_certs *c)
{
	char note[128];
	int w = snprintf(note, sizeof(note), "%s%zu more certificate%s not listed",
			 c->more_partial ? "at least " : "", c->more, c->more == 1 ? "" : "s");

	if (w < 0 || (size_t)w >= sizeof(note))
		note[0] = '\0';
	return json_pack("{s:I, s:I, s:b, s:I, s:s}", "listed_at_most", (json_int_t)CERTS_LISTED,
			 "certificates", (json_int_t)c->more, "at_least", c->more_partial,
			 "signings", (json_int_t)c->more_signings, "note", note);
}

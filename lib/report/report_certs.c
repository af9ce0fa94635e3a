/*
 * The signer certificates seen in the period's signing records, with
 * their expiry against `now` (see "certificates" in signgate/report.h).
 * Memory grows with the distinct certificates, not with the records.
 */
#include "signgate/error.h"
#include "report_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WARN_DAYS 60

struct rp_cert {
	json_t *subject, *sha1, *sha256, *not_after; /* strings or null */
	size_t signings;
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
	memset(c, 0, sizeof(*c));
}

static struct rp_cert *find_or_add(struct rp_certs *c, const json_t *rec)
{
	json_t *sha1 = rp_str(rec, "signature.signer.sha1_thumbprint");
	json_t *sha256 = rp_str(rec, "signature.signer.sha256");
	struct rp_cert *e = NULL;

	for (size_t i = 0; i < c->n && !e; i++)
		if (same(c->v[i].sha1, sha1) && same(c->v[i].sha256, sha256))
			e = &c->v[i];
	if (!e && c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		struct rp_cert *grown = realloc(c->v, cap * sizeof(*grown));

		if (grown) {
			c->v = grown;
			c->cap = cap;
		}
	}
	if (!e && c->n < c->cap && sha1 && sha256) {
		e = &c->v[c->n++];
		memset(e, 0, sizeof(*e));
		e->sha1 = json_incref(sha1);
		e->sha256 = json_incref(sha256);
		e->subject = rp_str(rec, "signature.signer.subject");
		e->not_after = rp_str(rec, "signature.signer.not_after");
	}
	json_decref(sha1);
	json_decref(sha256);
	return e;
}

int rp_certs_add(struct rp_certs *c, const json_t *rec)
{
	const char *time = json_string_value(json_object_get(rec, "time"));
	struct rp_cert *e;

	if (!json_is_object(json_object_get(json_object_get(rec, "signature"), "signer")))
		return SG_OK;
	e = find_or_add(c, rec);
	if (!e || !e->subject || !e->not_after)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (e->signings++ == 0 || strcmp(time, e->first) < 0)
		memcpy(e->first, time, sizeof(e->first));
	if (strcmp(time, e->last) > 0)
		memcpy(e->last, time, sizeof(e->last));
	return SG_OK;
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

static json_t *cert_json(const struct rp_cert *e, time_t now)
{
	time_t end;
	long long left = 0;
	int known = parse_utc(json_string_value(e->not_after), &end) == 0;
	const char *warning = NULL;

	if (known) {
		left = (long long)(end - now) / 86400;
		if (end <= now)
			warning = "expired";
		else if (end - now <= (time_t)WARN_DAYS * 86400)
			warning = "expires within 60 days";
	}
	return json_pack("{s:O, s:O, s:O, s:O, s:o, s:s?, s:I, s:s, s:s}", "subject", e->subject,
			 "sha1_thumbprint", e->sha1, "sha256", e->sha256, "not_after",
			 e->not_after, "days_left", known ? json_integer(left) : json_null(),
			 "expiry_warning", warning, "signings", (json_int_t)e->signings,
			 "first_used", e->first, "last_used", e->last);
}

json_t *rp_certs_json(const struct rp_certs *c, time_t now)
{
	json_t *out = json_array();

	for (size_t i = 0; out && i < c->n; i++)
		if (json_array_append_new(out, cert_json(&c->v[i], now))) {
			json_decref(out);
			return NULL;
		}
	return out;
}

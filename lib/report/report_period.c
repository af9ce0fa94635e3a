/*
 * The report's period and its per-day counts (see report_internal.h): days
 * are UTC, numbered from 1970-01-01; a period is at most RP_MAX_DAYS days.
 */
#include "signgate/error.h"
#include "report_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Days from 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

void rp_day_text(long day, char out[11])
{
	long z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	long y = (long)yoe + era * 400 + (m <= 2);

	char text[32];

	snprintf(text, sizeof(text), "%04ld-%02u-%02u", ((y % 10000) + 10000) % 10000, m % 100,
		 d % 100);
	memcpy(out, text, 10);
	out[10] = '\0';
}

static int digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int rp_day_of(const char *text, long *day)
{
	char back[11];

	if (!text || strlen(text) < 10 || !digits(text, 4) || text[4] != '-' ||
	    !digits(text + 5, 2) || text[7] != '-' || !digits(text + 8, 2))
		return -1;
	*day = days_from_civil(atol(text), (unsigned)atoi(text + 5), (unsigned)atoi(text + 8));
	rp_day_text(*day, back);
	return memcmp(back, text, 10) == 0 ? 0 : -1; /* 2026-02-30 is not a day */
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ", a real day and time. */
static int valid_bound(const char *s)
{
	long day;

	if (rp_day_of(s, &day) != 0)
		return 0;
	if (strlen(s) == 10)
		return 1;
	return strlen(s) == 20 && s[10] == 'T' && digits(s + 11, 2) && s[13] == ':' &&
	       digits(s + 14, 2) && s[16] == ':' && digits(s + 17, 2) && s[19] == 'Z' &&
	       atoi(s + 11) < 24 && atoi(s + 14) < 60 && atoi(s + 17) < 60;
}

int rp_period_open(struct rp_period *p, const char *since, const char *until)
{
	memset(p, 0, sizeof(*p));
	if (since && !valid_bound(since))
		return sg_error_set(SG_ERR_USAGE,
				    "--since %s: give a UTC day YYYY-MM-DD or a time "
				    "YYYY-MM-DDTHH:MM:SSZ",
				    since);
	if (until && !valid_bound(until))
		return sg_error_set(SG_ERR_USAGE,
				    "--until %s: give a UTC day YYYY-MM-DD or a time "
				    "YYYY-MM-DDTHH:MM:SSZ",
				    until);
	if (since)
		snprintf(p->since, sizeof(p->since), "%.10sT00:00:00Z%s", since, "");
	if (since && strlen(since) == 20)
		snprintf(p->since, sizeof(p->since), "%s", since);
	/* A bare day as the end covers that whole day. */
	if (until)
		snprintf(p->until, sizeof(p->until), "%.10sT23:59:59Z", until);
	if (until && strlen(until) == 20)
		snprintf(p->until, sizeof(p->until), "%s", until);
	if (since && until && strcmp(p->since, p->until) > 0)
		return sg_error_set(SG_ERR_USAGE, "--since %s is after --until %s", since, until);
	p->has_since = since != NULL;
	p->has_until = until != NULL;
	if (since)
		rp_day_of(since, &p->from);
	if (until)
		rp_day_of(until, &p->to);
	if (since && until && p->to - p->from + 1 > RP_MAX_DAYS)
		return sg_error_set(SG_ERR_USAGE,
				    "the period %s to %s is %ld days: a report covers at most %d "
				    "days; give a shorter --since/--until",
				    since, until, p->to - p->from + 1, RP_MAX_DAYS);
	return SG_OK;
}

int rp_period_has(const struct rp_period *p, const char *time)
{
	if (!time)
		return 0;
	if (p->has_since && strcmp(time, p->since) < 0)
		return 0;
	return !p->has_until || strcmp(time, p->until) <= 0;
}

/* Count one record of `day`; the range grows both ways, at most RP_MAX_DAYS wide. */
int rp_days_add(struct rp_days *d, long day, int kind)
{
	d->min = d->any && d->min < day ? d->min : day;
	d->max = d->any && d->max > day ? d->max : day;
	d->any = 1;
	if (d->n == 0 || day < d->base || day >= d->base + (long)d->n) {
		long lo = d->n && d->base < day ? d->base : day;
		long hi = d->n && d->base + (long)d->n - 1 > day ? d->base + (long)d->n - 1 : day;
		size_t n = (size_t)(hi - lo + 1);
		struct rp_count *v;

		if (hi - lo + 1 > RP_MAX_DAYS) {
			d->too_wide = 1;
			return SG_OK;
		}
		v = calloc(n, sizeof(*v));
		if (!v)
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		if (d->n)
			memcpy(v + (d->base - lo), d->v, d->n * sizeof(*v));
		free(d->v);
		d->v = v;
		d->base = lo;
		d->n = n;
	}
	if (kind == RP_SIGNED)
		d->v[day - d->base].signed_n++;
	else if (kind == RP_DENIED)
		d->v[day - d->base].denied++;
	else if (kind == RP_FAILED)
		d->v[day - d->base].failed++;
	return SG_OK;
}

/* Fix the period's ends from the records' days when not given. */
int rp_period_close(struct rp_period *p, const struct rp_days *d, time_t now)
{
	long first = d->any ? d->min : (long)(now / 86400);
	long last = d->any ? d->max : (long)(now / 86400);

	if (!p->has_since)
		p->from = p->has_until && p->to < first ? p->to : first;
	if (!p->has_until)
		p->to = p->from > last ? p->from : last;
	char from[11], to[11];

	rp_day_text(p->from, from);
	rp_day_text(p->to, to);
	/* Counts stop growing past RP_MAX_DAYS only for a period longer than that. */
	if (d->too_wide || p->to - p->from + 1 > RP_MAX_DAYS)
		return sg_error_set(SG_ERR_USAGE,
				    "the period %s to %s is %ld days: a report covers at most %d "
				    "days; give %s",
				    from, to, p->to - p->from + 1, RP_MAX_DAYS,
				    p->has_since ? "a later --since, or --until" : "--since and --until");
	return SG_OK;
}

json_t *rp_days_json(const struct rp_period *p, const struct rp_days *d)
{
	json_t *days = json_array();
	char text[11];

	for (long day = p->from; days && day <= p->to; day++) {
		struct rp_count c = { 0 };

		if (d->n && day >= d->base && day < d->base + (long)d->n)
			c = d->v[day - d->base];
		rp_day_text(day, text);
		if (json_array_append_new(days, json_pack("{s:s, s:I, s:I, s:I}", "date", text,
							  "signed", (json_int_t)c.signed_n,
							  "denied", (json_int_t)c.denied, "failed",
							  (json_int_t)c.failed))) {
			json_decref(days);
			return NULL;
		}
	}
	return days;
}

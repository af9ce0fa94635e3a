/*
 * report_svg.c: the per-day chart of the HTML report as inline SVG
 * (report_html_internal.h). Signed, denied and failed stacked per day; over
 * more than 366 days, per month, so that a bar stays wider than a pixel.
 * Labels follow the period: each day for a short one, the first of each
 * month within a year, each January (the year) over longer periods.
 *
 * Only numbers and the dates of "days" reach the SVG; a date that is not
 * YYYY-MM-DD is never used as a label, and none of it goes into an
 * attribute.
 */
#include <stdlib.h>
#include <string.h>

#include "signgate/error.h"
#include "report_html_internal.h"

/* The drawing, in SVG user units. */
#define W      960
#define H      300
#define LEFT   64
#define RIGHT  944
#define TOP    16
#define BOTTOM 236

#define C_SIGNED "#2e7d32"
#define C_DENIED "#ef6c00"
#define C_FAILED "#c62828"

struct bin {
	int y, m, d; /* the first day of the bin; 0 when its date is not valid */
	long long signed_, denied, failed;
};

struct chart {
	struct bin *bins;
	size_t n;
	int monthly;
	long long max;
};

/* "YYYY-MM-DD" into its numbers; 0 when it is not such a date. */
static int parse_date(const char *s, int *y, int *m, int *d)
{
	int i;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	*y = atoi(s);
	*m = (s[5] - '0') * 10 + (s[6] - '0');
	*d = (s[8] - '0') * 10 + (s[9] - '0');
	return *m >= 1 && *m <= 12 && *d >= 1 && *d <= 31;
}

static long long count_of(const json_t *day, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(day, key));

	return v > 0 ? (long long)v : 0;
}

/* The bins of the chart: one per day, or one per month when `monthly`. */
static int chart_bins(struct chart *c, const json_t *days)
{
	size_t i, n = json_array_size(days);
	const json_t *day;
	struct bin *b;
	int y, m, d;

	c->monthly = n > 366;
	c->bins = calloc(n ? n : 1, sizeof(*c->bins));
	if (!c->bins)
		return sg_error_set(SG_ERR_NOMEM, "the report's chart: out of memory");
	json_array_foreach (days, i, day) {
		if (!parse_date(json_string_value(json_object_get(day, "date")), &y, &m, &d))
			y = m = d = 0;
		b = c->n ? &c->bins[c->n - 1] : NULL;
		if (!c->monthly || !b || !y || b->y != y || b->m != m) {
			b = &c->bins[c->n++];
			b->y = y, b->m = m, b->d = d;
		}
		b->signed_ += count_of(day, "signed");
		b->denied += count_of(day, "denied");
		b->failed += count_of(day, "failed");
	}
	for (i = 0; i < c->n; i++) {
		long long t = c->bins[i].signed_ + c->bins[i].denied + c->bins[i].failed;

		if (t > c->max)
			c->max = t;
	}
	return SG_OK;
}

/* A round top for the y axis (1, 2 or 5 times a power of ten, times the ticks). */
static long long nice_step(long long max, int ticks)
{
	long long step = 1, raw = (max + ticks - 1) / ticks;

	for (;;) {
		if (step >= raw)
			return step;
		if (step * 2 >= raw)
			return step * 2;
		if (step * 5 >= raw)
			return step * 5;
		step *= 10;
	}
}

static void y_axis(FILE *f, long long step, long long top, int monthly)
{
	long long v;
	double y;

	for (v = 0; v <= top; v += step) {
		y = BOTTOM - (double)(BOTTOM - TOP) * (double)v / (double)top;
		fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>", LEFT,
			RIGHT, y, y);
		fprintf(f, "<text class=\"yl\" x=\"%d\" y=\"%.1f\">%lld</text>", LEFT - 6, y + 4, v);
	}
	fprintf(f,
		"<text class=\"at\" transform=\"translate(16 %d) rotate(-90)\">records per %s</text>",
		(TOP + BOTTOM) / 2, monthly ? "month" : "day");
}

/* Is bin i labelled, and with what text (`buf`)? */
static int x_label(const struct chart *c, size_t i, char *buf, size_t size)
{
	const struct bin *b = &c->bins[i];
	size_t every;

	if (!b->y)
		return 0;
	if (c->monthly) {
		if (c->n <= 24) {
			every = c->n <= 12 ? 1 : 2;
			if (i % every)
				return 0;
			return snprintf(buf, size, "%04d-%02d", b->y, b->m) > 0;
		}
		if (b->m != 1 && i != 0)
			return 0;
		every = (size_t)(c->n / 12 / 12) + 1; /* in years */
		if (((size_t)b->y % every) && i != 0)
			return 0;
		return snprintf(buf, size, "%04d", b->y) > 0;
	}
	if (c->n == 1)
		return snprintf(buf, size, "%04d-%02d-%02d", b->y, b->m, b->d) > 0;
	if (c->n <= 92) {
		every = c->n <= 16 ? 1 : (c->n + 11) / 12;
		if (i % every)
			return 0;
		return snprintf(buf, size, "%02d-%02d", b->m, b->d) > 0;
	}
	if (b->d != 1 && i != 0)
		return 0;
	return snprintf(buf, size, "%04d-%02d", b->y, b->m) > 0;
}

static void bar(FILE *f, const char *colour, double x, double w, double *y, long long v,
		long long top)
{
	double h;

	if (v <= 0)
		return;
	h = (double)(BOTTOM - TOP) * (double)v / (double)top;
	/* One denial beside thousands of signings stays visible (the numbers are in a table). */
	if (h < 2.0)
		h = 2.0;
	*y -= h;
	fprintf(f, "<rect fill=\"%s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>", colour,
		x, *y, w, h);
}

static void bars(FILE *f, const struct chart *c, long long top)
{
	double bw = (double)(RIGHT - LEFT) / (double)c->n, gap = bw > 4 ? bw * 0.15 : 0;
	double x, y, inset;
	char label[16];
	size_t i;

	for (i = 0; i < c->n; i++) {
		x = LEFT + bw * (double)i;
		y = BOTTOM;
		/* a few days: bars of at most 60 units, centred in their day */
		inset = bw - gap > 60 ? (bw - 60) / 2 : gap / 2;
		bar(f, C_SIGNED, x + inset, bw - 2 * inset, &y, c->bins[i].signed_, top);
		bar(f, C_DENIED, x + inset, bw - 2 * inset, &y, c->bins[i].denied, top);
		bar(f, C_FAILED, x + inset, bw - 2 * inset, &y, c->bins[i].failed, top);
		if (x_label(c, i, label, sizeof(label))) {
			x += bw / 2;
			fprintf(f, "<line class=\"tick\" x1=\"%.2f\" x2=\"%.2f\" y1=\"%d\" y2=\"%d\"/>",
				x, x, BOTTOM, BOTTOM + 5);
			fprintf(f, "<text class=\"xl\" x=\"%.2f\" y=\"%d\">%s</text>", x, BOTTOM + 18,
				label);
		}
	}
}

static void legend(FILE *f, const struct chart *c)
{
	static const struct {
		const char *colour, *name;
	} keys[] = { { C_SIGNED, "signed" }, { C_DENIED, "denied" }, { C_FAILED, "failed" } };
	long long totals[3] = { 0, 0, 0 };
	size_t i;
	int x = LEFT;

	for (i = 0; i < c->n; i++) {
		totals[0] += c->bins[i].signed_;
		totals[1] += c->bins[i].denied;
		totals[2] += c->bins[i].failed;
	}
	for (i = 0; i < 3; i++, x += 190) {
		fprintf(f, "<rect fill=\"%s\" x=\"%d\" y=\"%d\" width=\"14\" height=\"14\"/>",
			keys[i].colour, x, H - 30);
		fprintf(f, "<text class=\"lg\" x=\"%d\" y=\"%d\">%s (%lld)</text>", x + 20, H - 18,
			keys[i].name, totals[i]);
	}
}

int sg_report_html_chart(FILE *f, const json_t *summary)
{
	const json_t *days = json_object_get(summary, "days");
	struct chart c = { 0 };
	long long step, top;
	int err;

	if (!json_is_array(days) || json_array_size(days) == 0) {
		fputs("<p class=\"none\">No day in the period: nothing to chart.</p>\n", f);
		return SG_OK;
	}
	err = chart_bins(&c, days);
	if (err != SG_OK)
		return err;
	step = nice_step(c.max ? c.max : 1, 5);
	top = step * ((c.max + step - 1) / step);
	if (top < step)
		top = step;
	fprintf(f, "<figure class=\"chart\"><figcaption>Signings, denials and failures per %s",
		c.monthly ? "month (the period is longer than a year)" : "day");
	if (c.max == 0)
		fputs(": none in the period", f);
	fputs("</figcaption>\n", f);
	fprintf(f,
		"<svg viewBox=\"0 0 %d %d\" role=\"img\" "
		"aria-label=\"records per %s\">",
		W, H, c.monthly ? "month" : "day");
	y_axis(f, step, top, c.monthly);
	bars(f, &c, top);
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", LEFT, RIGHT,
		BOTTOM, BOTTOM);
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", LEFT, LEFT, TOP,
		BOTTOM);
	legend(f, &c);
	fputs("</svg></figure>\n", f);
	free(c.bins);
	return SG_OK;
}

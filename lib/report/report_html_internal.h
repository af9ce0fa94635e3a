/*
 * Internals of the HTML report (report_html.c, report_html_text.c,
 * report_svg.c): the text that reaches the page and the chart.
 *
 * Every string of a report is chosen by someone hostile (a vendor names the
 * file, a person types the approval file), so it reaches the page only
 * through sg_report_html_text(): markup characters escaped, and every
 * character that could disguise text (C0 and C1 controls, bidi controls,
 * zero-width and other invisible characters, look-alike spaces) written as
 * a visible ‹U+XXXX› mark instead of itself. Other non-ASCII characters
 * stay, highlighted, and are listed by code point after the string, so that
 * a Cyrillic "а" in "microsoft" is seen. Bytes that are not UTF-8 show as
 * ‹0xHH›. Such text never goes into an attribute or the style sheet.
 */
#ifndef SIGNGATE_REPORT_HTML_INTERNAL_H
#define SIGNGATE_REPORT_HTML_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Write `len` bytes of `s` to `f` as page text, as above (a span of class "v"). */
void sg_report_html_text(FILE *f, const char *s, size_t len);

/* sg_report_html_text() of a NUL-terminated string. */
void sg_report_html_str(FILE *f, const char *s);

/*
 * Write a JSON value as page text: a string as sg_report_html_text(), a
 * number as digits, null or a missing value as a greyed "none", an array
 * item by item, an object "key: value" per member.
 */
void sg_report_html_value(FILE *f, const json_t *v);

/*
 * How `cp` is shown: 0 as itself (ASCII printable), 1 highlighted and
 * listed (other non-ASCII), 2 as a ‹U+XXXX› mark (could disguise text).
 */
int sg_report_html_class(unsigned long cp);

/*
 * Write the per-day chart of the summary's "days" (signed, denied, failed
 * stacked per day, or per month over periods longer than a year) as an
 * inline SVG with axes and a legend. Returns SG_OK or SG_ERR_NOMEM.
 */
int sg_report_html_chart(FILE *f, const json_t *summary);

#endif

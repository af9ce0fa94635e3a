/*
 * report_html_text.c: hostile strings as page text (report_html_internal.h).
 * Nothing here writes a '<' that came from the input: the only markup is
 * the spans this file chooses.
 */
#include <inttypes.h>
#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <wchar.h>

#include "report_html_internal.h"

/* At most this many distinct non-ASCII code points are listed after a string. */
#define NOTE_MAX 8
/*
 * At most this many zero-width code points (combining marks of any script)
 * in a row are passed through: real text stacks one or two on a letter; a
 * run of hundreds is one unbreakable grapheme that widens a table off the
 * page or draws over the rows below. The rest are shown as code points.
 */
#define MARKS_MAX 2

/* Code point ranges that could disguise text: invisible, bidi, look-alike spaces. */
static const struct {
	unsigned long lo, hi;
} disguise[] = {
	{ 0x00A0, 0x00A0 },   /* no-break space */
	{ 0x00AD, 0x00AD },   /* soft hyphen */
	{ 0x0300, 0x036F },   /* combining diacritics: stacked, they draw over other rows */
	{ 0x061C, 0x061C },   /* Arabic letter mark */
	{ 0x115F, 0x1160 },   /* Hangul fillers */
	{ 0x1680, 0x1680 },   /* Ogham space mark */
	{ 0x17B4, 0x17B5 },   /* Khmer invisible vowels */
	{ 0x180B, 0x180F },   /* Mongolian selectors and separator */
	{ 0x1AB0, 0x1AFF },   /* combining diacritics extended */
	{ 0x1DC0, 0x1DFF },   /* combining diacritics supplement */
	{ 0x2000, 0x200F },   /* spaces, zero-width, LRM, RLM */
	{ 0x2028, 0x202F },   /* line/paragraph separators, LRE..RLO, narrow space */
	{ 0x205F, 0x206F },   /* math space, word joiner, invisible operators, isolates */
	{ 0x20D0, 0x20FF },   /* combining marks for symbols */
	{ 0x2800, 0x2800 },   /* braille blank */
	{ 0x3000, 0x3000 },   /* ideographic space */
	{ 0x3164, 0x3164 },   /* Hangul filler */
	{ 0xD800, 0xDFFF },   /* surrogates (not UTF-8; kept for safety) */
	{ 0xE000, 0xF8FF },   /* private use */
	{ 0xFDD0, 0xFDEF },   /* noncharacters */
	{ 0xFE00, 0xFE0F },   /* variation selectors */
	{ 0xFE20, 0xFE2F },   /* combining half marks */
	{ 0xFEFF, 0xFEFF },   /* zero-width no-break space, BOM */
	{ 0xFFA0, 0xFFA0 },   /* halfwidth Hangul filler */
	{ 0xFFF0, 0xFFFB },   /* specials, interlinear annotation */
	{ 0x1BCA0, 0x1BCA3 }, /* shorthand format controls */
	{ 0x1D173, 0x1D17A }, /* musical formatting */
	{ 0xE0000, 0xE0FFF }, /* tags, variation selectors supplement */
	{ 0xF0000, 0x10FFFF }, /* private use planes */
};

/* C.UTF-8 for wcwidth(), set per thread around a call (the process's locale is untouched). */
static locale_t utf8_ctype;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_init(void)
{
	utf8_ctype = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/*
 * Is `cp` drawn with no width of its own (a combining mark, a format
 * character)? Unicode's data as glibc's C.UTF-8 has it; without that
 * locale, every non-ASCII code point counts as one (runs then shown as
 * code points after MARKS_MAX: safe, if plainer).
 */
static int zero_width(unsigned long cp)
{
	locale_t old;
	int w;

	pthread_once(&utf8_once, utf8_init);
	if (utf8_ctype == (locale_t)0)
		return 1;
	old = uselocale(utf8_ctype);
	w = wcwidth((wchar_t)cp);
	uselocale(old);
	return w == 0;
}

int sg_report_html_class(unsigned long cp)
{
	size_t i;

	if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
		return 2;
	if (cp < 0x80)
		return 0;
	if ((cp & 0xFFFE) == 0xFFFE || cp > 0x10FFFF)
		return 2;
	for (i = 0; i < sizeof(disguise) / sizeof(disguise[0]); i++)
		if (cp >= disguise[i].lo && cp <= disguise[i].hi)
			return 2;
	return 1;
}

/*
 * Decode one UTF-8 character at s (n bytes left). Returns its length and
 * sets *cp, or 0 when the bytes are not well-formed UTF-8 (overlong forms
 * and surrogates included).
 */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len, i;
	unsigned long c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2, c = s[0] & 0x1F, min = 0x80;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3, c = s[0] & 0x0F, min = 0x800;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static void put_ascii(FILE *f, unsigned char c)
{
	switch (c) {
	case '&': fputs("&amp;", f); break;
	case '<': fputs("&lt;", f); break;
	case '>': fputs("&gt;", f); break;
	case '"': fputs("&quot;", f); break;
	case '\'': fputs("&#39;", f); break;
	default: fputc(c, f); break;
	}
}

/* Remember a non-ASCII code point for the note; returns the new count. */
static size_t note_add(unsigned long *note, size_t n, size_t *more, unsigned long cp)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (note[i] == cp)
			return n;
	if (n < NOTE_MAX) {
		note[n] = cp;
		return n + 1;
	}
	(*more)++;
	return n;
}

static void put_note(FILE *f, const unsigned long *note, size_t n, size_t more)
{
	size_t i;

	if (n == 0)
		return;
	fputs("<span class=\"nn\">non-ASCII:", f);
	for (i = 0; i < n; i++)
		fprintf(f, " U+%04lX", note[i]);
	if (more)
		fprintf(f, " and %zu more", more);
	fputs("</span>", f);
}

void sg_report_html_text(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long note[NOTE_MAX], cp;
	size_t n_note = 0, more = 0, i = 0, k, marks = 0;

	fputs("<span class=\"v\">", f);
	while (i < len) {
		k = utf8_decode(p + i, len - i, &cp);
		if (k == 0) {
			fprintf(f, "<span class=\"cp\">\u20390x%02X\u203A</span>", p[i]);
			i++;
			continue;
		}
		switch (sg_report_html_class(cp)) {
		case 0:
			marks = 0;
			put_ascii(f, p[i]);
			break;
		case 1:
			marks = zero_width(cp) ? marks + 1 : 0;
			if (marks > MARKS_MAX) {
				fprintf(f, "<span class=\"cp\">\u2039U+%04lX\u203A</span>", cp);
				break;
			}
			fputs("<span class=\"na\">", f);
			fwrite(p + i, 1, k, f);
			fputs("</span>", f);
			n_note = note_add(note, n_note, &more, cp);
			break;
		default:
			marks = 0;
			fprintf(f, "<span class=\"cp\">\u2039U+%04lX\u203A</span>", cp);
			break;
		}
		i += k;
	}
	fputs("</span>", f);
	put_note(f, note, n_note, more);
}

void sg_report_html_str(FILE *f, const char *s)
{
	sg_report_html_text(f, s, strlen(s));
}

static void put_none(FILE *f)
{
	fputs("<span class=\"none\">none</span>", f);
}

void sg_report_html_value(FILE *f, const json_t *v)
{
	size_t i;
	const char *key;
	const json_t *m;

	if (!v || json_is_null(v)) {
		put_none(f);
	} else if (json_is_string(v)) {
		sg_report_html_text(f, json_string_value(v), json_string_length(v));
	} else if (json_is_integer(v)) {
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		fprintf(f, "%g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		fputs(json_is_true(v) ? "yes" : "no", f);
	} else if (json_is_array(v)) {
		if (json_array_size(v) == 0)
			put_none(f);
		json_array_foreach (v, i, m) {
			fputs("<div class=\"item\">", f);
			sg_report_html_value(f, m);
			fputs("</div>", f);
		}
	} else if (json_is_object(v)) {
		json_object_foreach ((json_t *)v, key, m) {
			fputs("<div class=\"item\"><span class=\"k\">", f);
			sg_report_html_str(f, key);
			fputs(":</span> ", f);
			sg_report_html_value(f, m);
			fputs("</div>", f);
		}
	}
}

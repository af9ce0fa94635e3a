/*
 * Unit tests of the HTML report's sink (lib/report/report_html*.c,
 * report_svg.c), driven directly with hand-made summaries and rows as
 * include/signgate/report.h describes them: hostile strings (markup, bidi
 * overrides, zero-width and control characters, look-alike letters, bytes
 * that are not UTF-8) never become markup and are shown visibly; every tag
 * and attribute of the page is from a short list (no script, no link, no
 * reference); the verdict's gaps are said; a broken chain shows no row; the
 * chart over one day, a year, ten years and an empty period; a failing
 * write is an error.
 */
#include <ctype.h>

#include <jansson.h>

#include "check.h"
#include "signgate/error.h"
#include "signgate/report.h"
#include "report_html_internal.h"

static const char *summary_json =
	"{\"report\": {\"format\": \"signgate-audit-report/1\", \"generated\": "
	"\"2026-12-04T06:00:00Z\", \"signgate_version\": \"0.16.0\", \"generated_by\": "
	"{\"user\": \"root\", \"uid\": 0, \"host\": \"gate\\u202e1\"}, \"since\": null, "
	"\"until\": null, \"config\": \"/etc/signgate/config.json\", \"policy\": null},"
	"\"verdict\": {\"status\": \"intact\", \"exit_code\": 0, \"message\": \"chain intact: "
	"12 records\", \"records\": 12, \"first_seq\": 1, \"last_seq\": 12, \"head\": "
	"\"ab12\", \"seals\": {\"configured\": true, \"checked\": 4, \"sealed_seq\": 9, "
	"\"sealed_time\": \"2026-12-04T05:00:00Z\", \"unsealed_records\": 3}, "
	"\"verify_command\": \"signgate audit verify --config /etc/signgate/config.json\"},"
	"\"files\": [{\"role\": \"log\", \"path\": \"/var/log/<b>x</b>.log\", \"bytes\": 100, "
	"\"sha256\": \"ffee\"}],"
	"\"period\": {\"from\": \"2026-11-05\", \"to\": \"2026-12-04\", \"days\": 30},"
	"\"days\": [], \"totals\": {\"records\": 12, \"signed\": 7, \"denied\": 3, \"failed\": 2},"
	"\"certificates\": [{\"subject\": \"CN=Contoso\\u200b Signing\", \"sha1_thumbprint\": "
	"\"0011\", \"sha256\": \"2233\", \"not_after\": \"2027-01-01T00:00:00Z\", "
	"\"days_left\": 27, \"expiry_warning\": \"expires within 60 days\", \"signings\": 7, "
	"\"first_used\": \"2026-11-05T10:00:00Z\", \"last_used\": \"2026-12-04T04:00:00Z\"}],"
	"\"policy\": {\"path\": \"/etc/signgate/policy.d\", \"sha256\": \"4455\", "
	"\"approvals_in_force\": [{\"id\": \"7zip-24.08\", \"product\": \"7-Zip\", \"vendor\": "
	"\"Igor\", \"version\": \"24.08\", \"file\": \"7z.exe\", \"sha256\": \"6677\", "
	"\"approved_by\": \"m\\u0430llory\", \"approved_by_from\": \"approval file (not "
	"verified)\", \"ticket\": \"CHG-1\", \"expires\": null}], \"no_longer_approved\": 1}}";

/* A problem row whose strings are all hostile. */
static const char *problem_json =
	"{\"seq\": 4, \"time\": \"2026-12-01T10:00:00Z\", \"action\": \"sign\", \"decision\": "
	"\"denied\", \"input\": {\"name\": \"<img src=http://127.0.0.1:9/x>\\u202egpj.exe\", "
	"\"sha256\": \"<svg onload=alert(1)>\"}, \"approval_id\": \"a\\u0000b\", \"reasons\": "
	"[\"not approved\\u001b[31m\", \"x\\u007fy\\u0085z\\ufeff\\u2066\\ud83d\\ude00\"], "
	"\"error\": null, \"actor\": {\"user\": \"eve\\nroot\", \"uid\": 1000, \"host\": "
	"\"h&amp;\\\"'\"}}";

static const char *signing_json =
	"{\"seq\": 5, \"id\": \"r5\", \"time\": \"2026-12-01T11:00:00Z\", \"input\": {\"name\": "
	"\"setup.exe\", \"sha256\": \"aa\", \"size\": 10}, \"output\": {\"sha256\": \"bb\", "
	"\"size\": 20}, \"approval\": {\"id\": \"ap1\", \"product\": \"P\", \"vendor\": \"V\", "
	"\"version\": \"1\", \"ticket\": \"T-9\", \"approved_by\": \"alice\", "
	"\"approved_by_from\": \"certificate\", \"cosigned_by\": {\"name\": \"bob\", "
	"\"subject\": \"CN=bob\"}, \"policy_file_sha256\": \"cc\"}, \"signer\": {\"subject\": "
	"\"CN=Contoso\", \"sha1_thumbprint\": \"dd\", \"not_after\": \"2027-01-01\"}, "
	"\"timestamp\": null, \"tsa_url\": null, \"actor\": {\"user\": \"root\", \"uid\": 0, "
	"\"host\": \"gate\"}}";

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &e);

	if (!j)
		fprintf(stderr, "test JSON: %s at %d\n", e.text, e.position);
	return j;
}

/*
 * Render `summary` and then each section of `sections` ([[name, [rows]]...])
 * into a string (malloc'ed). *rc is set to the first error.
 */
static char *render(const json_t *summary, const json_t *sections, int *rc)
{
	sg_report_sink sink = { 0 };
	char *buf = NULL;
	size_t len = 0, i, j;
	FILE *f = open_memstream(&buf, &len);
	const json_t *s, *r;

	*rc = sg_report_sink_html(&sink, f);
	if (*rc == SG_OK)
		*rc = sink.begin(sink.arg, summary);
	json_array_foreach (sections, i, s) {
		const char *name = json_string_value(json_array_get(s, 0));
		const json_t *rows = json_array_get(s, 1);

		if (*rc == SG_OK)
			*rc = sink.section(sink.arg, name, json_array_size(rows));
		json_array_foreach (rows, j, r)
			if (*rc == SG_OK)
				*rc = sink.row(sink.arg, name, r);
		if (*rc == SG_OK)
			*rc = sink.end_section(sink.arg, name);
	}
	if (*rc == SG_OK)
		*rc = sink.end(sink.arg);
	sg_report_sink_free(&sink);
	fclose(f);
	return buf;
}

static int in_list(const char *name, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == n && strncmp(*list, name, n) == 0)
			return 1;
	return 0;
}

/*
 * Every tag of the page is one of a short list, with attributes of a short
 * list (no on*, src, href, style), and every '<' or '>' of the text outside
 * the style sheet is part of such a tag. Returns the number of bad tags.
 */
static int bad_markup(const char *page)
{
	static const char *const tags[] = { "!DOCTYPE", "html", "head", "meta", "title", "style",
		"body", "h1", "h2", "h3", "section", "p", "div", "span", "table", "thead", "tbody",
		"tr", "th", "td", "pre", "code", "figure", "figcaption", "svg", "line", "rect",
		"text", "dl", "dt", "dd", "ul", "li", "strong", "br", "footer", NULL };
	static const char *const attrs[] = { "html", "lang", "charset", "http-equiv", "content",
		"name", "class", "viewBox", "role", "aria-label", "x", "y", "x1", "x2", "y1", "y2",
		"fill", "width", "height", "transform", NULL };
	const char *p = page, *q, *end;
	int bad = 0, quote;
	size_t n;

	while ((p = strpbrk(p, "<>")) != NULL) {
		if (*p == '>' || !(end = strchr(p, '>'))) {
			fprintf(stderr, "stray '%c' at: %.60s\n", *p, p);
			return bad + 1;
		}
		q = p + 1 + (p[1] == '/');
		n = strcspn(q, " \t\n/>");
		if (!in_list(q, n, tags)) {
			fprintf(stderr, "tag not allowed: %.60s\n", p);
			bad++;
		}
		for (q += n; q < end;) {
			q += strspn(q, " \t\n/");
			n = strcspn(q, "= \t\n/>");
			if (n && q < end && !in_list(q, n, attrs) && strncmp(p, "<!DOCTYPE", 9)) {
				fprintf(stderr, "attribute not allowed: %.60s\n", q);
				bad++;
			}
			q += n;
			if (*q == '=' && (q[1] == '"' || q[1] == '\'')) {
				quote = q[1];
				q = strchr(q + 2, quote);
				if (!q || q > end)
					return bad + 1;
				q++;
			} else if (q < end && *q != '/' && !isspace((unsigned char)*q)) {
				q++;
			}
		}
		p = end + 1;
		if (strncmp(end - 6, "<style", 6) == 0) {
			p = strstr(p, "</style>");
			if (!p)
				return bad + 1;
		}
	}
	return bad;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL)
		n++, hay++;
	return n;
}

static json_t *sections_of(const char *problem, const char *signing)
{
	return json_pack("[[s,[o]],[s,[o]],[s,[]]]", "problems", load(problem), "signings",
			 load(signing), "no_longer_approved");
}

static void test_hostile(void)
{
	json_t *s = load(summary_json), *secs = sections_of(problem_json, signing_json);
	json_t *bad = json_stringn_nocheck("bad\xff\xc0\xafutf8", 10);
	char *page, *style;
	int rc;

	json_object_set_new(json_object_get(s, "verdict"), "head", bad);
	page = render(s, secs, &rc);
	CHECK_INT(rc, SG_OK);
	CHECK_INT(bad_markup(page), 0);
	CHECK_INT(count(page, "<svg"), 0); /* no day: no chart */
	CHECK(strstr(page, "\xe2\x80\xae") == NULL);     /* U+202E */
	CHECK(strstr(page, "\xe2\x80\x8b") == NULL);     /* U+200B */
	CHECK(strstr(page, "\xef\xbb\xbf") == NULL);     /* U+FEFF */
	CHECK(strstr(page, "\xe2\x81\xa6") == NULL);     /* U+2066 */
	CHECK(strstr(page, "\xc2\x85") == NULL);         /* U+0085 */
	CHECK(strstr(page, "\x1b") == NULL && strstr(page, "\x7f") == NULL);
	CHECK(strstr(page, "\xff") == NULL);
	CHECK_CONTAINS(page, "&lt;img src=http://127.0.0.1:9/x&gt;<span class=\"cp\">"
			     "\u2039U+202E\u203A</span>gpj.exe");
	CHECK_CONTAINS(page, "&lt;svg onload=alert(1)&gt;");
	CHECK_CONTAINS(page, "\u2039U+200B\u203A");
	CHECK_CONTAINS(page, "\u2039U+0000\u203A");
	CHECK_CONTAINS(page, "\u2039U+001B\u203A</span>[31m");
	CHECK_CONTAINS(page, "x<span class=\"cp\">\u2039U+007F\u203A</span>y");
	CHECK_CONTAINS(page, "\u2039U+0085\u203A");
	CHECK_CONTAINS(page, "\u2039U+FEFF\u203A");
	CHECK_CONTAINS(page, "\u2039U+2066\u203A");
	CHECK_CONTAINS(page, "eve<span class=\"cp\">\u2039U+000A\u203A</span>root");
	CHECK_CONTAINS(page, "h&amp;amp;&quot;&#39;");
	CHECK_CONTAINS(page, "bad<span class=\"cp\">\u20390xFF\u203A</span>"
			     "<span class=\"cp\">\u20390xC0\u203A</span>");
	/* look-alike letters: highlighted and listed */
	CHECK_CONTAINS(page, "m<span class=\"na\">\xd0\xb0</span>llory</span>"
			     "<span class=\"nn\">non-ASCII: U+0430</span>");
	CHECK_CONTAINS(page, "non-ASCII: U+1F600");
	CHECK_CONTAINS(page, "&lt;b&gt;x&lt;/b&gt;.log");
	/* the verdict and its gaps */
	CHECK_CONTAINS(page, "Verdict: INTACT");
	CHECK(strstr(page, "Verdict: INTACT") < strstr(page, "Files the report"));
	CHECK_CONTAINS(page, "Sealed up to record seq 9 at");
	CHECK_CONTAINS(page, "3 records are not sealed yet");
	CHECK_CONTAINS(page, "<pre class=\"cmd\"><span class=\"v\">signgate audit verify "
			     "--config /etc/signgate/config.json</span></pre>");
	/* where approvers come from, warnings, timestamps */
	CHECK_CONTAINS(page, "badge src-typed\">&#9888; <span class=\"v\">approval file (not "
			     "verified)</span>");
	CHECK_CONTAINS(page, "badge src-cert\"><span class=\"v\">certificate</span>");
	CHECK_CONTAINS(page, "<tr class=\"warnrow\"><td><span class=\"v\">CN=Contoso");
	CHECK_CONTAINS(page, "expires within 60 days");
	CHECK_CONTAINS(page, "<span class=\"warn\">none</span>");
	CHECK_CONTAINS(page, "Signed files the policy would not approve now (0)</h2>\n"
			     "<p class=\"none\">None in the period.</p>");
	CHECK_CONTAINS(page, "<footer>End of the report.");
	/* no reference, no script, the policy that forbids them */
	CHECK_CONTAINS(page, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
			     "'none'; style-src 'unsafe-inline'; img-src data:;");
	CHECK(strcasestr(page, "<script") == NULL && strcasestr(page, "<img") == NULL);
	style = strstr(page, "<style>");
	CHECK(style && strstr(style, "</style>"));
	if (style) {
		*strstr(style, "</style>") = '\0';
		CHECK(strstr(style, "url(") == NULL && strstr(style, "@import") == NULL &&
		      strstr(style, "http") == NULL && strchr(style + 7, '<') == NULL &&
		      strstr(style, "expression") == NULL);
	}
	free(page);
	json_decref(s);
	json_decref(secs);
}

/* A broken chain: the verdict says so and no row reaches the page. */
static void test_broken(void)
{
	json_t *s = load(summary_json), *secs = sections_of(problem_json, signing_json);
	char *page;
	int rc;

	json_object_set_new(json_object_get(s, "verdict"), "status", json_string("broken"));
	json_object_set_new(s, "period", json_null());
	json_object_set_new(s, "totals", json_null());
	page = render(s, secs, &rc);
	CHECK_CONTAINS(page, "none: the records are not counted");
	CHECK_INT(rc, SG_OK);
	CHECK_INT(bad_markup(page), 0);
	CHECK_CONTAINS(page, "<section class=\"verdict broken\">\n<h2>Verdict: BROKEN");
	CHECK_CONTAINS(page, "No record of the log is shown");
	CHECK(strstr(page, "gpj.exe") == NULL && strstr(page, "setup.exe") == NULL);
	CHECK_CONTAINS(page, "2 rows withheld");
	free(page);

	json_object_set_new(json_object_get(s, "verdict"), "status", json_string("<i>ok"));
	page = render(s, secs, &rc);
	CHECK_CONTAINS(page, "Verdict: UNKNOWN (<span class=\"v\">&lt;i&gt;ok</span>)");
	CHECK(strstr(page, "setup.exe") == NULL);
	free(page);

	json_object_set_new(json_object_get(s, "verdict"), "status", json_string("partial"));
	json_object_set_new(json_object_get(s, "verdict"), "seals", json_null());
	page = render(s, secs, &rc);
	CHECK_CONTAINS(page, "Verdict: PARTIAL");
	CHECK_CONTAINS(page, "No seals are configured");
	CHECK_CONTAINS(page, "setup.exe");
	free(page);
	json_decref(s);
	json_decref(secs);
}

/* A summary whose "days" runs `n` days from `y`-01-01, with some counts. */
static json_t *with_days(int y, int n)
{
	json_t *s = load(summary_json), *days = json_array();
	struct tm tm = { 0 };
	char date[16];
	time_t t;
	int i;

	tm.tm_year = y - 1900, tm.tm_mday = 1;
	t = timegm(&tm);
	for (i = 0; i < n; i++, t += 86400) {
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		json_array_append_new(days, json_pack("{s:s,s:i,s:i,s:i}", "date", date, "signed",
						      i % 3, "denied", i % 7 == 0, "failed",
						      i % 11 == 0));
	}
	json_object_set_new(s, "days", days);
	return s;
}

static void test_chart(void)
{
	json_t *s, *none = json_array();
	char *page;
	int rc;

	s = with_days(2017, 3660);
	page = render(s, none, &rc);
	CHECK_INT(rc, SG_OK);
	CHECK_INT(bad_markup(page), 0);
	CHECK_INT(count(page, "<svg"), 1);
	CHECK_CONTAINS(page, "per month (the period is longer than a year)");
	CHECK_CONTAINS(page, ">2017</text>");
	CHECK_CONTAINS(page, ">2026</text>");
	CHECK(count(page, "<rect") <= 121 * 3 + 3);
	CHECK_CONTAINS(page, "fill=\"#2e7d32\"");
	CHECK_CONTAINS(page, "fill=\"#ef6c00\"");
	CHECK_CONTAINS(page, "fill=\"#c62828\"");
	free(page);
	json_decref(s);

	s = with_days(2026, 365);
	page = render(s, none, &rc);
	CHECK_CONTAINS(page, "Signings, denials and failures per day");
	CHECK_CONTAINS(page, ">2026-01</text>");
	CHECK_CONTAINS(page, ">2026-12</text>");
	CHECK(strstr(page, ">2026-12-01</text>") == NULL);
	free(page);
	json_decref(s);

	s = with_days(2026, 1);
	page = render(s, none, &rc);
	CHECK_CONTAINS(page, ">2026-01-01</text>");
	CHECK_CONTAINS(page, "signed (0)");
	CHECK_CONTAINS(page, "denied (1)");
	CHECK_CONTAINS(page, "width=\"60.00\"");
	/* The numbers behind the bars: each day with a denial or a failure. */
	CHECK_CONTAINS(page, "Days with denials or failures (1)");
	CHECK_CONTAINS(page, "<tr><td><span class=\"v\">2026-01-01</span></td><td>0</td><td>1</td>"
			     "<td>1</td></tr>");
	free(page);
	json_decref(s);

	/* One denial beside 3000 signings: its bar is still drawn, 2 units high. */
	s = with_days(2026, 1);
	json_object_set_new(json_array_get(json_object_get(s, "days"), 0), "signed",
			    json_integer(3000));
	page = render(s, none, &rc);
	CHECK_CONTAINS(page, "<rect fill=\"#ef6c00\"");
	CHECK(strstr(page, "height=\"2.00\"/>") != NULL);
	free(page);
	json_decref(s);

	s = with_days(2026, 3);
	json_object_set_new(json_array_get(json_object_get(s, "days"), 0), "denied", json_integer(0));
	json_object_set_new(json_array_get(json_object_get(s, "days"), 0), "failed", json_integer(0));
	json_object_set_new(json_array_get(json_object_get(s, "days"), 1), "signed", json_integer(0));
	json_object_set_new(json_array_get(json_object_get(s, "days"), 2), "signed", json_integer(0));
	page = render(s, none, &rc);
	CHECK_CONTAINS(page, "per day: none in the period");
	CHECK(strstr(page, "<rect fill=\"#2e7d32\" x=") == strstr(page, "<rect fill=\"#2e7d32\" x=\"64\""));
	free(page);
	json_decref(s);

	s = with_days(2026, 10);
	json_object_set_new(json_array_get(json_object_get(s, "days"), 3), "date",
			    json_string("<script>"));
	page = render(s, none, &rc);
	CHECK_INT(bad_markup(page), 0);
	CHECK_CONTAINS(page, ">01-02</text>");
	CHECK(strcasestr(page, "script>") == NULL);
	free(page);
	json_decref(s);

	/* an empty period */
	s = load(summary_json);
	page = render(s, none, &rc);
	CHECK_INT(rc, SG_OK);
	CHECK_CONTAINS(page, "No day in the period: nothing to chart.");
	free(page);
	json_decref(s);
	json_decref(none);
}

/* A mark typed as text is not a mark: its brackets are non-ASCII, highlighted and listed. */
static void test_fake_mark(void)
{
	json_t *s = load(summary_json);
	char *page;
	int rc;

	json_object_set_new(json_object_get(s, "report"), "config",
			    json_string("x\u2039U+202E\u203Ay e\u0301\u0301\u0301"));
	page = render(s, NULL, &rc);
	CHECK_INT(rc, SG_OK);
	CHECK_CONTAINS(page, "x<span class=\"na\">\u2039</span>U+202E<span class=\"na\">\u203A</span>y");
	CHECK_CONTAINS(page, "non-ASCII: U+2039 U+203A</span>");
	CHECK_CONTAINS(page, "e<span class=\"cp\">\u2039U+0301\u203A</span><span class=\"cp\">");
	free(page);
	json_decref(s);
}

static void test_classes_and_errors(void)
{
	sg_report_sink sink = { 0 };
	json_t *s = load(summary_json);
	FILE *full = fopen("/dev/full", "w");
	int rc;

	CHECK_INT(sg_report_html_class('a'), 0);
	CHECK_INT(sg_report_html_class('\t'), 2);
	CHECK_INT(sg_report_html_class(0x9B), 2);   /* CSI */
	CHECK_INT(sg_report_html_class(0x202D), 2); /* LRO */
	CHECK_INT(sg_report_html_class(0x200D), 2); /* ZWJ */
	CHECK_INT(sg_report_html_class(0xE0041), 2); /* tag A */
	CHECK_INT(sg_report_html_class(0x0301), 2); /* combining acute */
	CHECK_INT(sg_report_html_class(0x034F), 2);
	CHECK_INT(sg_report_html_class(0x20E3), 2);
	CHECK_INT(sg_report_html_class(0xFFFF), 2);
	CHECK_INT(sg_report_html_class(0x1FFFE), 2);
	CHECK_INT(sg_report_html_class(0x00E9), 1);
	CHECK_INT(sg_report_html_class(0x0430), 1);
	CHECK_INT(sg_report_sink_html(NULL, stdout), SG_ERR_USAGE);
	CHECK(full != NULL);
	if (full) {
		CHECK_INT(sg_report_sink_html(&sink, full), SG_OK);
		rc = sink.begin(sink.arg, s);
		if (rc == SG_OK)
			rc = sink.end(sink.arg);
		CHECK_INT(rc, SG_ERR_IO);
		CHECK_CONTAINS(sg_error_last(), "the HTML report: writing failed");
		sg_report_sink_free(&sink);
		fclose(full);
	}
	json_decref(s);
}

/* --write FILE: a page with every part, to look at in a browser. */
static int write_sample(const char *path)
{
	json_t *s = with_days(2026, 120), *secs = sections_of(problem_json, signing_json);
	char *page;
	int rc;
	FILE *f = fopen(path, "w");

	page = render(s, secs, &rc);
	if (f) {
		fputs(page, f);
		fclose(f);
	}
	free(page);
	json_decref(s);
	json_decref(secs);
	return f && rc == SG_OK ? 0 : 1;
}

/*
 * Combining marks of any script: up to two in a row pass (Thai "thi" with its
 * vowel and tone mark), a longer run (one grapheme no line can break) is
 * shown as code points from the third on.
 */
static void test_mark_runs(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const char *thai = "\xe0\xb8\x97\xe0\xb8\xb5\xe0\xb9\x88"; /* U+0E17 U+0E35 U+0E48 */
	const char *run = "S\xe0\xb9\x89\xe0\xb9\x89\xe0\xb9\x89\xe0\xb9\x89.exe";

	CHECK(f != NULL);
	sg_report_html_str(f, thai);
	sg_report_html_str(f, run);
	fclose(f);
	CHECK_CONTAINS(text, "<span class=\"na\">\xe0\xb9\x88</span>");
	CHECK_CONTAINS(text, "S<span class=\"na\">\xe0\xb9\x89</span><span class=\"na\">"
			     "\xe0\xb9\x89</span><span class=\"cp\">\u2039U+0E49\u203A</span>"
			     "<span class=\"cp\">\u2039U+0E49\u203A</span>.exe");
	free(text);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_sample(argv[2]);
	test_hostile();
	test_broken();
	test_chart();
	test_fake_mark();
	test_classes_and_errors();
	test_mark_runs();
	return check_done();
}

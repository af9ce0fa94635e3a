/*
 * report_html.c: the HTML sink of the audit report (include/signgate/report.h).
 *
 * One self-contained page: inline CSS (report_html_css.h) and SVG
 * (report_svg.c), no script, no external reference of any kind, and a
 * Content-Security-Policy that forbids both should anything slip through.
 * The verdict comes first. Rows are written as they come, so memory does not
 * grow with the log. Every string of the report reaches the page through
 * report_html_text.c; the only other text is this file's own and numbers.
 * A page ends with a footer line: one without it was cut short.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "signgate/error.h"
#include "signgate/report.h"
#include "report_html_css.h"
#include "report_html_internal.h"

#define CSP                                                                                        \
	"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "          \
	"form-action 'none'"

enum section_kind { SEC_OTHER, SEC_PROBLEMS, SEC_SIGNINGS, SEC_NO_LONGER };

struct html {
	FILE *out;
	int broken;         /* the verdict is not intact or partial: no row is shown */
	enum section_kind kind;
	size_t sec; /* index into sections[] */
	int table_open;
	size_t rows, withheld;
};

static const json_t *at(const json_t *obj, const char *k1, const char *k2)
{
	const json_t *v = json_object_get(obj, k1);

	return k2 ? json_object_get(v, k2) : v;
}

static const char *str_at(const json_t *obj, const char *k1, const char *k2)
{
	return json_string_value(at(obj, k1, k2));
}

static int written(const struct html *h)
{
	if (ferror(h->out))
		return sg_error_set(SG_ERR_IO, "the HTML report: writing failed");
	return SG_OK;
}

/* "<div><span class=k>label</span> value</div>" with the value in class `cls`. */
static void field(FILE *f, const char *label, const json_t *v, const char *cls)
{
	fprintf(f, "<div class=\"item\"><span class=\"k\">%s</span> ", label);
	if (cls)
		fprintf(f, "<span class=\"%s\">", cls);
	sg_report_html_value(f, v);
	if (cls)
		fputs("</span>", f);
	fputs("</div>", f);
}

static void head(FILE *f)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"" CSP "\">\n"
	      "<meta name=\"referrer\" content=\"no-referrer\">\n"
	      "<meta name=\"color-scheme\" content=\"light\">\n"
	      "<title>signgate audit report</title>\n<style>\n",
	      f);
	fputs(report_css, f);
	fputs("</style>\n</head>\n<body>\n<h1>signgate audit report</h1>\n", f);
}

/* The seals' lines of the verdict: each gap said plainly. */
static void verdict_seals(FILE *f, const json_t *seals)
{
	const json_t *seq = json_object_get(seals, "sealed_seq");
	json_int_t unsealed = json_integer_value(json_object_get(seals, "unsealed_records"));

	json_int_t records = json_integer_value(json_object_get(seals, "seal_records"));

	if (!json_is_true(json_object_get(seals, "configured")) && records > 0) {
		fprintf(f,
			"<li class=\"warn\">No seals were given, yet the log holds %" JSON_INTEGER_FORMAT
			" seal record%s (the last at seq %" JSON_INTEGER_FORMAT "): its seals file "
			"exists and was left out of this report, so records cut off the end of the "
			"log would not show.</li>\n",
			records, records == 1 ? "" : "s",
			json_integer_value(json_object_get(seals, "last_seal_record_seq")));
		return;
	}
	if (!json_is_true(json_object_get(seals, "configured"))) {
		fputs("<li class=\"warn\">No seals are configured: nothing outside the log vouches "
		      "for it, and whoever can write the log can rewrite it whole.</li>\n",
		      f);
		return;
	}
	/* "checked" counts the seals checked; anything else was not checked. */
	if (!json_is_integer(json_object_get(seals, "checked"))) {
		fputs("<li class=\"warn\">Seals are configured but were NOT checked for this "
		      "report.</li>\n",
		      f);
		return;
	}
	if (json_is_string(json_object_get(seals, "certificate_sha256"))) {
		fputs("<li>Seals checked with the sealing certificate of SHA-256 ", f);
		sg_report_html_value(f, json_object_get(seals, "certificate_sha256"));
		fputs(".</li>\n", f);
	}
	if (!json_is_integer(seq)) {
		fputs("<li class=\"warn\">No record is sealed yet.</li>\n", f);
	} else {
		fprintf(f, "<li>Sealed up to record seq %" JSON_INTEGER_FORMAT " at ",
			json_integer_value(seq));
		sg_report_html_value(f, json_object_get(seals, "sealed_time"));
		fputs(".</li>\n", f);
	}
	if (unsealed > 0)
		fprintf(f,
			"<li class=\"warn\">%" JSON_INTEGER_FORMAT " record%s not sealed yet: "
			"nothing outside the log vouches for %s.</li>\n",
			unsealed, unsealed == 1 ? " is" : "s are", unsealed == 1 ? "it" : "them");
	else if (json_is_integer(seq))
		fputs("<li class=\"ok\">Every record is sealed.</li>\n", f);
	if (json_is_string(json_object_get(seals, "against"))) {
		fputs("<li class=\"ok\">Checked against the off-host copy of the seals ", f);
		sg_report_html_value(f, json_object_get(seals, "against"));
		fputs(".</li>\n", f);
	} else {
		fputs("<li class=\"warn\">No off-host copy of the seals was checked (audit "
		      "report --against): a log cut back together with its seals file would "
		      "still read as intact here.</li>\n",
		      f);
	}
}

/* The verdict's headline; returns 1 when the rows must be withheld. */
static int verdict_title(FILE *f, const char *status)
{
	if (status && strcmp(status, "intact") == 0) {
		fputs("<section class=\"verdict intact\">\n<h2>Verdict: INTACT &#8212; the "
		      "chain of records verifies</h2>\n",
		      f);
		return 0;
	}
	if (status && strcmp(status, "partial") == 0) {
		fputs("<section class=\"verdict partial\">\n<h2>Verdict: PARTIAL &#8212; the "
		      "chain verifies, but not all of it could be checked</h2>\n",
		      f);
		return 0;
	}
	if (status && strcmp(status, "broken") == 0) {
		fputs("<section class=\"verdict broken\">\n<h2>Verdict: BROKEN &#8212; the log "
		      "was altered or damaged</h2>\n",
		      f);
	} else {
		fputs("<section class=\"verdict broken\">\n<h2>Verdict: UNKNOWN (", f);
		sg_report_html_str(f, status ? status : "missing");
		fputs(") &#8212; treat the log as not verified</h2>\n", f);
	}
	fputs("<p class=\"warn\">No record of the log is shown: a report that repeated the "
	      "records of an altered log would launder them.</p>\n",
	      f);
	return 1;
}

static int verdict(struct html *h, const json_t *s)
{
	FILE *f = h->out;
	const json_t *v = json_object_get(s, "verdict");

	h->broken = verdict_title(f, json_string_value(json_object_get(v, "status")));
	fputs("<p>", f);
	sg_report_html_value(f, json_object_get(v, "message"));
	fputs("</p>\n<ul>\n<li>Records: ", f);
	sg_report_html_value(f, json_object_get(v, "records"));
	fputs(" (seq ", f);
	sg_report_html_value(f, json_object_get(v, "first_seq"));
	fputs(" to ", f);
	sg_report_html_value(f, json_object_get(v, "last_seq"));
	fputs("); head <span class=\"h\">", f);
	sg_report_html_value(f, json_object_get(v, "head"));
	fputs("</span></li>\n", f);
	verdict_seals(f, json_object_get(v, "seals"));
	fputs("<li><code>audit verify</code> exits with ", f);
	sg_report_html_value(f, json_object_get(v, "exit_code"));
	fputs(" on these files. To reproduce the verdict, run:</li>\n</ul>\n<pre class=\"cmd\">",
	      f);
	sg_report_html_value(f, json_object_get(v, "verify_command"));
	fputs("</pre>\n</section>\n", f);
	return written(h);
}

static void files(FILE *f, const json_t *list)
{
	size_t i;
	const json_t *file;

	fputs("<h2>Files the report was made from</h2>\n", f);
	if (json_array_size(list) == 0) {
		fputs("<p class=\"warn\">No file is listed.</p>\n", f);
		return;
	}
	fputs("<table><thead><tr><th>Role</th><th>Path</th><th>Bytes</th><th>SHA-256</th></tr>"
	      "</thead><tbody>\n",
	      f);
	json_array_foreach (list, i, file) {
		fputs("<tr><td>", f);
		sg_report_html_value(f, json_object_get(file, "role"));
		fputs("</td><td>", f);
		sg_report_html_value(f, json_object_get(file, "path"));
		fputs("</td><td>", f);
		sg_report_html_value(f, json_object_get(file, "bytes"));
		/* A broken verdict's file: which bytes were judged (the first N, as read). */
		if (json_object_get(file, "note")) {
			fputs("<br><span class=\"warn\">", f);
			sg_report_html_value(f, json_object_get(file, "note"));
			fputs("</span>", f);
		}
		fputs("</td><td class=\"h\">", f);
		sg_report_html_value(f, json_object_get(file, "sha256"));
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

static void about(FILE *f, const json_t *s)
{
	const json_t *r = json_object_get(s, "report"), *by = json_object_get(r, "generated_by");
	const json_t *t = json_object_get(s, "totals"), *p = json_object_get(s, "period");

	fputs("<h2>This report</h2>\n<dl class=\"kv\">\n<dt>Period</dt><dd>", f);
	if (!json_is_object(p) || !json_is_object(t)) {
		fputs("<span class=\"warn\">none: the records are not counted, the chain is not "
		      "verified</span>",
		      f);
		goto generated;
	}
	sg_report_html_value(f, json_object_get(p, "from"));
	fputs(" to ", f);
	sg_report_html_value(f, json_object_get(p, "to"));
	fputs(" (", f);
	sg_report_html_value(f, json_object_get(p, "days"));
	fputs(" days, UTC; asked: since ", f);
	sg_report_html_value(f, json_object_get(r, "since"));
	fputs(", until ", f);
	sg_report_html_value(f, json_object_get(r, "until"));
	fputs(")</dd>\n<dt>In the period</dt><dd>", f);
	sg_report_html_value(f, json_object_get(t, "records"));
	fputs(" records: ", f);
	sg_report_html_value(f, json_object_get(t, "signed"));
	fputs(" signed, ", f);
	sg_report_html_value(f, json_object_get(t, "denied"));
	fputs(" denied, ", f);
	sg_report_html_value(f, json_object_get(t, "failed"));
	fputs(" failed", f);
generated:
	fputs("</dd>\n<dt>Generated</dt><dd>", f);
	sg_report_html_value(f, json_object_get(r, "generated"));
	fputs(" by ", f);
	sg_report_html_value(f, json_object_get(by, "user"));
	fputs(" (uid ", f);
	sg_report_html_value(f, json_object_get(by, "uid"));
	fputs(") on ", f);
	sg_report_html_value(f, json_object_get(by, "host"));
	fputs(", signgate ", f);
	sg_report_html_value(f, json_object_get(r, "signgate_version"));
	fputs(", format ", f);
	sg_report_html_value(f, json_object_get(r, "format"));
	fputs("</dd>\n<dt>Config</dt><dd>", f);
	sg_report_html_value(f, json_object_get(r, "config"));
	fputs("</dd>\n<dt>Policy</dt><dd>", f);
	sg_report_html_value(f, json_object_get(r, "policy"));
	fputs("</dd>\n</dl>\n<p class=\"legend\">Strings are shown as the log holds them: "
	      "<span class=\"cp\">\u2039U+202E\u203A</span> marks an invisible, control or "
	      "direction-changing character, <span class=\"cp\">\u20390xFF\u203A</span> a byte "
	      "that is not UTF-8, and <span class=\"na\">highlighted</span> letters are not ASCII "
	      "(their code points follow the string). Text runs left to right exactly as "
	      "stored.</p>\n",
	      f);
}

/* A certificate row's warning, when there is one. */
static void cert_warning(FILE *f, const json_t *warn)
{
	if (!json_is_string(warn))
		return;
	fputs("<div class=\"warn\">&#9888; ", f);
	sg_report_html_value(f, warn);
	fputs("</div>", f);
}

static void certificates(FILE *f, const json_t *list, const json_t *more)
{
	size_t i;
	const json_t *c, *warn;

	fputs("<h2>Signer certificates seen</h2>\n", f);
	if (json_array_size(list) == 0) {
		fputs("<p class=\"none\">None in the period.</p>\n", f);
		return;
	}
	fputs("<table><thead><tr><th>Subject</th><th>SHA-1 thumbprint / SHA-256</th>"
	      "<th>Not after</th><th>Days left</th><th>Signings</th><th>First / last used</th>"
	      "</tr></thead><tbody>\n",
	      f);
	json_array_foreach (list, i, c) {
		warn = json_object_get(c, "expiry_warning");
		fputs(json_is_string(warn) || json_is_string(json_object_get(c, "subject_warning")) ||
				      json_is_string(json_object_get(c, "records_warning")) ?
			      "<tr class=\"warnrow\"><td>" :
			      "<tr><td>",
		      f);
		sg_report_html_value(f, json_object_get(c, "subject"));
		cert_warning(f, json_object_get(c, "subject_warning"));
		cert_warning(f, json_object_get(c, "records_warning"));
		fputs("</td><td>", f);
		field(f, "SHA-1", json_object_get(c, "sha1_thumbprint"), "h");
		field(f, "SHA-256", json_object_get(c, "sha256"), "h");
		fputs("</td><td>", f);
		sg_report_html_value(f, json_object_get(c, "not_after"));
		fputs("</td><td>", f);
		sg_report_html_value(f, json_object_get(c, "days_left"));
		if (json_is_string(warn)) {
			fputs("<div class=\"warn\">&#9888; ", f);
			sg_report_html_value(f, warn);
			fputs("</div>", f);
		}
		fputs("</td><td>", f);
		sg_report_html_value(f, json_object_get(c, "signings"));
		fputs("</td><td>", f);
		sg_report_html_value(f, json_object_get(c, "first_used"));
		fputs("<br>", f);
		sg_report_html_value(f, json_object_get(c, "last_used"));
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	if (json_integer_value(json_object_get(more, "certificates")) > 0 ||
	    json_integer_value(json_object_get(more, "signings")) > 0) {
		fputs("<p class=\"warn\">&#9888; ", f);
		sg_report_html_value(f, json_object_get(more, "note"));
		fputs(" (their ", f);
		sg_report_html_value(f, json_object_get(more, "signings"));
		fputs(" signing(s) are counted in the totals; the JSON report lists the same "
		      "certificates).</p>\n",
		      f);
	}
}

/* "approved_by" with where it came from, a typed name looking unlike a certificate's. */
static void approver(FILE *f, const json_t *ap)
{
	const char *from = str_at(ap, "approved_by_from", NULL);
	int cert = from && strcmp(from, "certificate") == 0;

	sg_report_html_value(f, json_object_get(ap, "approved_by"));
	fprintf(f, "<span class=\"badge %s\">%s", cert ? "src-cert" : "src-typed",
		cert ? "" : "&#9888; ");
	sg_report_html_value(f, json_object_get(ap, "approved_by_from"));
	fputs("</span>", f);
}

/* A table of approvals; `reasons` (not NULL): the heading of a column for each one's "reason". */
static void approvals_table(FILE *f, const json_t *list, const char *reasons)
{
	size_t i;
	const json_t *a;

	fprintf(f,
		"<table><thead><tr><th>Approval</th><th>Product</th><th>File / SHA-256</th>"
		"<th>Approved by</th><th>Ticket</th><th>Expires</th>%s%s%s</tr></thead><tbody>\n",
		reasons ? "<th>" : "", reasons ? reasons : "", reasons ? "</th>" : "");
	json_array_foreach (list, i, a) {
		fputs(reasons ? "<tr class=\"warnrow\"><td>" : "<tr><td>", f);
		sg_report_html_value(f, json_object_get(a, "id"));
		fputs("</td><td>", f);
		field(f, "product", json_object_get(a, "product"), NULL);
		field(f, "vendor", json_object_get(a, "vendor"), NULL);
		field(f, "version", json_object_get(a, "version"), NULL);
		fputs("</td><td>", f);
		sg_report_html_value(f, json_object_get(a, "file"));
		field(f, "", json_object_get(a, "sha256"), "h");
		fputs("</td><td>", f);
		approver(f, a);
		fputs("</td><td>", f);
		sg_report_html_value(f, json_object_get(a, "ticket"));
		fputs("</td><td>", f);
		sg_report_html_value(f, json_object_get(a, "expires"));
		if (reasons) {
			fputs("</td><td>", f);
			sg_report_html_value(f, json_object_get(a, "reason"));
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

/* "policy.two_person_rule": an unchecked one stands out (nothing is in force). */
static void two_person_rule(FILE *f, const json_t *rule)
{
	if (!json_is_object(rule))
		return;
	fprintf(f, "<dt>Two-person rule</dt><dd%s>required by ",
		json_is_true(json_object_get(rule, "checked")) ? "" : " class=\"warn\"");
	sg_report_html_value(f, json_object_get(rule, "required_by"));
	fputs(": ", f);
	sg_report_html_value(f, json_object_get(rule, "note"));
	fputs("</dd>", f);
}

/* "approvals_shadowed": approvals signing never reaches (two-person rule). */
static void shadowed(FILE *f, const json_t *list)
{
	if (json_array_size(list) == 0)
		return;
	fprintf(f,
		"<h3 class=\"warn\">&#9888; Approvals signing never reaches (%zu)</h3>\n"
		"<p class=\"warn\">Signing takes the first approval of a file in policy order and, "
		"under the two-person rule, refuses the file when that approval is not signed by "
		"two approvers: each of these is co-signed, but an earlier approval of the same "
		"file is not, so the file is refused. Not counted in force.</p>\n",
		json_array_size(list));
	approvals_table(f, list, "Why signing does not reach it");
}

static void policy(FILE *f, const json_t *p)
{
	const json_t *list = json_object_get(p, "approvals_in_force");
	const json_t *unchecked = json_object_get(p, "approvals_unchecked");
	json_int_t gone = json_integer_value(json_object_get(p, "no_longer_approved"));
	size_t n_unchecked = json_array_size(unchecked);
	size_t n_shadowed = json_array_size(json_object_get(p, "approvals_shadowed"));

	if (!json_is_object(p))
		return;
	fputs("<h2>Policy in force now</h2>\n<dl class=\"kv\"><dt>Policy</dt><dd>", f);
	sg_report_html_value(f, json_object_get(p, "path"));
	fputs("</dd><dt>SHA-256</dt><dd class=\"h\">", f);
	sg_report_html_value(f, json_object_get(p, "sha256"));
	fprintf(f, "</dd><dt>Signed files no longer approved</dt><dd%s>%" JSON_INTEGER_FORMAT
		   "</dd>",
		gone > 0 ? " class=\"warn\"" : "", gone);
	fprintf(f, "<dt>Approvals that cannot be checked</dt><dd%s>%zu</dd>",
		n_unchecked > 0 ? " class=\"warn\"" : "", n_unchecked);
	fprintf(f, "<dt>Approvals signing never reaches</dt><dd%s>%zu</dd>",
		n_shadowed > 0 ? " class=\"warn\"" : "", n_shadowed);
	two_person_rule(f, json_object_get(p, "two_person_rule"));
	fputs("</dl>\n", f);
	fprintf(f, "<h3>Approvals in force (%zu)</h3>\n", json_array_size(list));
	if (json_array_size(list) == 0)
		fputs("<p class=\"none\">None.</p>\n", f);
	else
		approvals_table(f, list, NULL);
	shadowed(f, json_object_get(p, "approvals_shadowed"));
	if (n_unchecked == 0)
		return;
	fprintf(f,
		"<h3 class=\"warn\">&#9888; Approvals that cannot be checked (%zu)</h3>\n"
		"<p class=\"warn\">Each would be in force, but something the report cannot see "
		"decides, as its reason says: a revocation that may name its file by a digest "
		"that neither it nor any approval gives (a revocation by SHA-512 of a file "
		"approved by SHA-256 alone, or the mirror), or, under the two-person rule, "
		"whether the file carries a signature (signing reaches it in one case and not "
		"in the other). Signing sees the file and decides; these are not counted in "
		"force.</p>\n",
		n_unchecked);
	approvals_table(f, unchecked, "Why it cannot be checked");
}

/*
 * The numbers behind the chart's smallest bars: every day of the period with
 * a denial or a failure (at most the period's 3660 days).
 */
static int problem_day(const json_t *d)
{
	return json_integer_value(json_object_get(d, "denied")) +
		       json_integer_value(json_object_get(d, "failed")) >
	       0;
}

static void problem_days(FILE *f, const json_t *days)
{
	static const char *const cols[] = { "date", "signed", "denied", "failed" };
	const json_t *d;
	size_t i, n = 0;

	json_array_foreach (days, i, d)
		n += (size_t)problem_day(d);
	fprintf(f, "<h3>Days with denials or failures (%zu)</h3>\n", n);
	if (n == 0)
		return;
	fputs("<table><thead><tr><th>Day (UTC)</th><th>Signed</th><th>Denied</th><th>Failed</th>"
	      "</tr></thead><tbody>\n",
	      f);
	json_array_foreach (days, i, d) {
		if (!problem_day(d))
			continue;
		fputs("<tr>", f);
		for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
			fputs("<td>", f);
			sg_report_html_value(f, json_object_get(d, cols[c]));
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

static int html_begin(void *arg, const json_t *summary)
{
	struct html *h = arg;
	int err;

	head(h->out);
	err = verdict(h, summary);
	if (err != SG_OK)
		return err;
	about(h->out, summary);
	files(h->out, json_object_get(summary, "files"));
	fputs("<h2>Per day</h2>\n", h->out);
	err = sg_report_html_chart(h->out, summary);
	if (err != SG_OK)
		return err;
	problem_days(h->out, json_object_get(summary, "days"));
	certificates(h->out, json_object_get(summary, "certificates"),
		     json_object_get(summary, "certificates_not_listed"));
	policy(h->out, json_object_get(summary, "policy"));
	return written(h);
}

static const struct {
	const char *name, *title, *head;
	enum section_kind kind;
} sections[] = {
	{ "problems", "Denials and failures",
	  "<th>Seq</th><th>Time (UTC)</th><th>Action / decision</th><th>Input</th>"
	  "<th>Approval</th><th>Reasons / error</th><th>Actor</th>",
	  SEC_PROBLEMS },
	{ "signings", "Signed files",
	  "<th>Seq</th><th>Time (UTC)</th><th>Input / output</th><th>Approval</th>"
	  "<th>Approved by</th><th>Signer</th><th>Timestamp</th><th>Actor</th>",
	  SEC_SIGNINGS },
	{ "no_longer_approved", "Signed files the policy would not approve now",
	  "<th>Seq</th><th>Time (UTC)</th><th>Input</th><th>Output SHA-256</th><th>Approval</th>"
	  "<th>Status</th><th>Reasons</th>",
	  SEC_NO_LONGER },
};

static size_t section_index(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (name && strcmp(name, sections[i].name) == 0)
			return i;
	return i;
}

static int html_section(void *arg, const char *name, size_t count)
{
	struct html *h = arg;
	size_t i = section_index(name);

	h->kind = i < sizeof(sections) / sizeof(sections[0]) ? sections[i].kind : SEC_OTHER;
	h->sec = i;
	h->table_open = 0;
	h->rows = 0;
	fputs("<h2>", h->out);
	if (h->kind == SEC_OTHER)
		sg_report_html_str(h->out, name ? name : "(unnamed)");
	else
		fputs(sections[i].title, h->out);
	fprintf(h->out, " (%zu)</h2>\n", count);
	if (h->broken)
		fputs("<p class=\"warn\">Not shown: the chain is not verified.</p>\n", h->out);
	else if (count == 0)
		fputs("<p class=\"none\">None in the period.</p>\n", h->out);
	return written(h);
}

static void actor(FILE *f, const json_t *a)
{
	sg_report_html_value(f, json_object_get(a, "user"));
	fputs(" (uid ", f);
	sg_report_html_value(f, json_object_get(a, "uid"));
	fputs(")<br>", f);
	sg_report_html_value(f, json_object_get(a, "host"));
}

static void seq_time(FILE *f, const json_t *row)
{
	fputs("<tr><td>", f);
	sg_report_html_value(f, json_object_get(row, "seq"));
	fputs("</td><td class=\"t\">", f);
	sg_report_html_value(f, json_object_get(row, "time"));
	fputs("</td><td>", f);
}

static void row_problem(FILE *f, const json_t *r)
{
	const json_t *in = json_object_get(r, "input");

	seq_time(f, r);
	sg_report_html_value(f, json_object_get(r, "action"));
	fputs("<br><strong>", f);
	sg_report_html_value(f, json_object_get(r, "decision"));
	fputs("</strong></td><td>", f);
	if (json_is_object(in)) {
		sg_report_html_value(f, json_object_get(in, "name"));
		field(f, "SHA-256", json_object_get(in, "sha256"), "h");
	} else {
		sg_report_html_value(f, in);
	}
	fputs("</td><td>", f);
	sg_report_html_value(f, json_object_get(r, "approval_id"));
	fputs("</td><td>", f);
	sg_report_html_value(f, json_object_get(r, "reasons"));
	if (!json_is_null(json_object_get(r, "error")) && json_object_get(r, "error"))
		field(f, "error:", json_object_get(r, "error"), NULL);
	fputs("</td><td>", f);
	actor(f, json_object_get(r, "actor"));
	fputs("</td></tr>\n", f);
}

static void row_signing(FILE *f, const json_t *r)
{
	const json_t *ap = json_object_get(r, "approval"), *ts = json_object_get(r, "timestamp");

	seq_time(f, r);
	sg_report_html_value(f, at(r, "input", "name"));
	field(f, "input SHA-256", at(r, "input", "sha256"), "h");
	field(f, "size", at(r, "input", "size"), NULL);
	field(f, "output SHA-256", at(r, "output", "sha256"), "h");
	fputs("</td><td>", f);
	sg_report_html_value(f, json_object_get(ap, "id"));
	field(f, "product", json_object_get(ap, "product"), NULL);
	field(f, "vendor", json_object_get(ap, "vendor"), NULL);
	field(f, "version", json_object_get(ap, "version"), NULL);
	field(f, "ticket", json_object_get(ap, "ticket"), NULL);
	field(f, "policy SHA-256", json_object_get(ap, "policy_file_sha256"), "h");
	fputs("</td><td>", f);
	approver(f, ap);
	field(f, "co-signed by", json_object_get(ap, "cosigned_by"), NULL);
	fputs("</td><td>", f);
	sg_report_html_value(f, at(r, "signer", "subject"));
	field(f, "SHA-1", at(r, "signer", "sha1_thumbprint"), "h");
	field(f, "not after", at(r, "signer", "not_after"), NULL);
	fputs("</td><td>", f);
	if (!ts || json_is_null(ts)) {
		fputs("<span class=\"warn\">none</span>", f);
	} else {
		sg_report_html_value(f, ts);
		field(f, "TSA", json_object_get(r, "tsa_url"), NULL);
	}
	fputs("</td><td>", f);
	actor(f, json_object_get(r, "actor"));
	fputs("</td></tr>\n", f);
}

static void row_no_longer(FILE *f, const json_t *r)
{
	seq_time(f, r);
	sg_report_html_value(f, at(r, "input", "name"));
	field(f, "SHA-256", at(r, "input", "sha256"), "h");
	fputs("</td><td class=\"h\">", f);
	sg_report_html_value(f, json_object_get(r, "output_sha256"));
	fputs("</td><td>", f);
	sg_report_html_value(f, json_object_get(r, "approval_id"));
	fputs("</td><td class=\"warn\">", f);
	sg_report_html_value(f, json_object_get(r, "status"));
	fputs("</td><td>", f);
	sg_report_html_value(f, json_object_get(r, "reasons"));
	fputs("</td></tr>\n", f);
}

static int html_row(void *arg, const char *section, const json_t *row)
{
	struct html *h = arg;
	FILE *f = h->out;

	(void)section;
	if (h->broken) {
		h->withheld++;
		return SG_OK;
	}
	if (!h->table_open) {
		fprintf(f, "<table><thead><tr>%s</tr></thead><tbody>\n",
			h->kind == SEC_OTHER ? "<th>Row</th>" : sections[h->sec].head);
		h->table_open = 1;
	}
	h->rows++;
	switch (h->kind) {
	case SEC_PROBLEMS: row_problem(f, row); break;
	case SEC_SIGNINGS: row_signing(f, row); break;
	case SEC_NO_LONGER: row_no_longer(f, row); break;
	default:
		fputs("<tr><td>", f);
		sg_report_html_value(f, row);
		fputs("</td></tr>\n", f);
		break;
	}
	return written(h);
}

static int html_end_section(void *arg, const char *name)
{
	struct html *h = arg;

	(void)name;
	if (h->table_open)
		fputs("</tbody></table>\n", h->out);
	h->table_open = 0;
	return written(h);
}

static int html_end(void *arg)
{
	struct html *h = arg;

	if (h->table_open)
		fputs("</tbody></table>\n", h->out);
	h->table_open = 0;
	if (h->withheld)
		fprintf(h->out, "<p class=\"warn\">%zu rows withheld: the chain is not verified.</p>\n",
			h->withheld);
	fputs("<footer>End of the report. A copy without this line was cut short.</footer>\n"
	      "</body>\n</html>\n",
	      h->out);
	if (fflush(h->out) != 0)
		return sg_error_set(SG_ERR_IO, "the HTML report: writing failed: %s",
				    strerror(errno));
	return written(h);
}

static void html_free(void *arg)
{
	free(arg);
}

int sg_report_sink_html(sg_report_sink *sink, FILE *out)
{
	struct html *h;

	if (!sink || !out)
		return sg_error_set(SG_ERR_USAGE, "the HTML report: no sink or no output");
	h = calloc(1, sizeof(*h));
	if (!h)
		return sg_error_set(SG_ERR_NOMEM, "the HTML report: out of memory");
	h->out = out;
	memset(sink, 0, sizeof(*sink));
	sink->arg = h;
	sink->begin = html_begin;
	sink->section = html_section;
	sink->row = html_row;
	sink->end_section = html_end_section;
	sink->end = html_end;
	sink->free = html_free;
	return SG_OK;
}

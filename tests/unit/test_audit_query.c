/* Unit tests for lib/audit_query.c: record selection for review. */
#include "check.h"

#include <stdlib.h>

#include "signgate/audit_query.h"

static json_t *record(void)
{
	json_error_t err;

	return json_loads("{\"time\":\"2026-11-26T12:00:00Z\",\"action\":\"sign\","
			  "\"decision\":\"signed\",\"actor\":{\"user\":\"j.doe\"},"
			  "\"approval\":{\"id\":\"7zip-24.08\",\"product\":\"7-Zip\"},"
			  "\"input\":{\"sha256\":\"ab12cd\"},\"output\":{\"sha256\":\"ef34aa\"},"
			  "\"signature\":{\"signer\":{\"sha1_thumbprint\":\"C888AA19\"}}}",
			  0, &err);
}

/*
 * The raw-line shortcut: 0 only where the full match is 0 too; and it does
 * say 0 for the plain case, or it would save nothing.
 */
static void test_might_match(json_t *rec)
{
	char *line = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	const char *escaped = "{\"decision\":\"\\u0064enied\"}";
	json_t *esc = json_loads(escaped, 0, NULL);
	static const char *const values[] = { "signed", "denied", "7-Zip",    "7-zip", "j.doe",
					      "sign",   "a\"b",   "\xc3\xa9", NULL };
	sg_audit_filter f;

	for (size_t i = 0; values[i]; i++) {
		const char **fields[] = { &f.product, &f.approval, &f.actor, &f.action,
					  &f.decision };

		for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
			int might, full;

			memset(&f, 0, sizeof(f));
			*fields[k] = values[i];
			might = sg_audit_filter_might_match(&f, line, strlen(line));
			full = sg_audit_filter_match(&f, rec);
			CHECK(might || !full);
		}
	}
	memset(&f, 0, sizeof(f));
	f.decision = "denied";
	CHECK_INT(sg_audit_filter_might_match(&f, line, strlen(line)), 0);
	f.decision = "signed";
	CHECK_INT(sg_audit_filter_might_match(&f, line, strlen(line)), 1);
	f.product = "7-Zip";
	CHECK_INT(sg_audit_filter_might_match(&f, line, strlen(line)), 1);
	f.product = "7-zip"; /* exact, so case matters */
	CHECK_INT(sg_audit_filter_might_match(&f, line, strlen(line)), 0);
	/* A value spelt with an escape is left to the full match. */
	memset(&f, 0, sizeof(f));
	f.decision = "denied";
	CHECK_INT(sg_audit_filter_might_match(&f, escaped, strlen(escaped)), 1);
	CHECK_INT(sg_audit_filter_match(&f, esc), 1);
	/* A value JSON must escape is not looked for as raw bytes. */
	f.decision = "a\"b";
	CHECK_INT(sg_audit_filter_might_match(&f, line, strlen(line)), 1);
	json_decref(esc);
	free(line);
}

int main(void)
{
	json_t *rec = record();
	sg_audit_filter f = { 0 };

	CHECK(rec != NULL);
	CHECK_INT(sg_audit_filter_match(&f, rec), 1);
	CHECK_STR(sg_audit_field(rec, "approval.id"), "7zip-24.08");
	CHECK(sg_audit_field(rec, "approval.missing") == NULL);
	CHECK(sg_audit_field(rec, "actor") == NULL); /* an object, not a string */

	f.product = "7-Zip";
	f.approval = "7zip-24.08";
	f.actor = "j.doe";
	f.action = "sign";
	f.decision = "signed";
	CHECK_INT(sg_audit_filter_match(&f, rec), 1);
	f.decision = "denied";
	CHECK_INT(sg_audit_filter_match(&f, rec), 0);
	f = (sg_audit_filter){ 0 };

	f.sha256 = "AB12"; /* a prefix of the input digest, any case */
	CHECK_INT(sg_audit_filter_match(&f, rec), 1);
	f.sha256 = "ef3"; /* or of the output digest */
	CHECK_INT(sg_audit_filter_match(&f, rec), 1);
	f.sha256 = "b12"; /* not a prefix */
	CHECK_INT(sg_audit_filter_match(&f, rec), 0);
	f = (sg_audit_filter){ 0 };

	f.thumbprint = "c888aa19";
	CHECK_INT(sg_audit_filter_match(&f, rec), 1);
	f.thumbprint = "C888AA";
	CHECK_INT(sg_audit_filter_match(&f, rec), 0); /* the whole thumbprint, not a prefix */
	f = (sg_audit_filter){ 0 };

	f.since = "2026-11-26";
	f.until = "2026-11-26"; /* a bare date covers the whole day */
	CHECK_INT(sg_audit_filter_match(&f, rec), 1);
	f.until = "2026-11-26T11:59:59Z";
	CHECK_INT(sg_audit_filter_match(&f, rec), 0);
	f.until = NULL;
	f.since = "2026-11-26T12:00:01Z";
	CHECK_INT(sg_audit_filter_match(&f, rec), 0);
	f.since = "2026-11-25";
	f.until = "2026-11-25";
	CHECK_INT(sg_audit_filter_match(&f, rec), 0);

	test_might_match(rec);
	json_decref(rec);
	return check_done();
}

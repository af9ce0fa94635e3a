/* Unit tests for lib/audit_query.c: record selection for review. */
#include "check.h"

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

	json_decref(rec);
	return check_done();
}

/*
 * Unit tests for lib/policy_json.c: the one writer of an approval as JSON,
 * in each of its views (policy file, audit record, `policy show`), and of
 * an approver's certificate.
 */
#include "signgate/policy_json.h"

#include "check.h"

#include <stdlib.h>
#include <string.h>

/* The object as compact text with its keys in order, for comparison. */
static char *dump(json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(obj);
	return s;
}

static void fill(sg_approval *a)
{
	memset(a, 0, sizeof(*a));
	a->id = "hello-1.0";
	a->product = "Hello";
	a->version = "1.0";
	a->file = "hello.msi";
	a->sha256 = "aa";
	a->approved_by = "alice";
	a->ticket = "CHG-1";
	a->approved_at = "2026-12-03";
	a->origin = "/pol/hello-1.0.json";
	a->provenance = "{}";
}

static void test_views(void)
{
	sg_approval a;
	char *s;

	fill(&a);
	/* A policy file: the fields given, approved_by, no default rule, no policy_file. */
	CHECK_STR(s = dump(sg_approval_json(&a, SG_APPROVAL_AS_FILE)),
		  "{\"id\":\"hello-1.0\",\"product\":\"Hello\",\"version\":\"1.0\",\"file\":"
		  "\"hello.msi\",\"sha256\":\"aa\",\"approved_by\":\"alice\",\"ticket\":\"CHG-1\","
		  "\"approved_at\":\"2026-12-03\"}");
	free(s);
	a.existing = SG_EXISTING_NEST;
	a.vendor = "Example";
	a.not_in_catalog = "internal tool";
	a.description = "Hello Installer";
	CHECK_STR(s = dump(sg_approval_json(&a, SG_APPROVAL_AS_FILE)),
		  "{\"id\":\"hello-1.0\",\"product\":\"Hello\",\"vendor\":\"Example\",\"version\":"
		  "\"1.0\",\"file\":\"hello.msi\",\"sha256\":\"aa\",\"approved_by\":\"alice\","
		  "\"ticket\":\"CHG-1\",\"approved_at\":\"2026-12-03\",\"existing_signature\":"
		  "\"nest\",\"not_in_catalog\":\"internal tool\",\"description\":\"Hello "
		  "Installer\"}");
	free(s);

	/* An audit record: what allowed the file and where it was written; no digests, no who. */
	CHECK_STR(s = dump(sg_approval_json(&a, SG_APPROVAL_AS_RECORD)),
		  "{\"id\":\"hello-1.0\",\"product\":\"Hello\",\"vendor\":\"Example\",\"version\":"
		  "\"1.0\",\"ticket\":\"CHG-1\",\"existing_signature\":\"nest\",\"not_in_catalog\":"
		  "\"internal tool\",\"policy_file\":\"/pol/hello-1.0.json\"}");
	free(s);

	/* `policy show`: absent fields are null, the default rule is named. */
	fill(&a);
	CHECK_STR(s = dump(sg_approval_json(&a, SG_APPROVAL_AS_SHOW)),
		  "{\"id\":\"hello-1.0\",\"product\":\"Hello\",\"vendor\":null,\"version\":\"1.0\","
		  "\"file\":\"hello.msi\",\"sha256\":\"aa\",\"sha512\":null,\"ticket\":\"CHG-1\","
		  "\"approved_at\":\"2026-12-03\",\"source\":null,\"expires\":null,"
		  "\"existing_signature\":\"refuse\",\"accept_unsigned\":null,\"policy_file\":"
		  "\"/pol/hello-1.0.json\"}");
	free(s);

	/* A policy file path that is not UTF-8 stays readable rather than failing the record. */
	a.origin = "/pol/caf\xe9.json";
	s = dump(sg_approval_json(&a, SG_APPROVAL_AS_RECORD));
	CHECK_CONTAINS(s, "\"policy_file\":\"/pol/caf\\\\xe9.json\"");
	free(s);
}

static void test_cosigner(void)
{
	sg_cosigner c;
	char *s;

	memset(&c, 0, sizeof(c));
	memcpy(c.name, "Alice", 6);
	memcpy(c.subject, "CN=Alice", 9);
	memcpy(c.cert_sha256, "cc", 3);
	memcpy(c.key_sha256, "kk", 3);
	c.signing_time = 1764720000;
	CHECK_STR(s = dump(sg_cosigner_json(&c, 0)),
		  "{\"name\":\"Alice\",\"subject\":\"CN=Alice\",\"email\":\"\",\"cert_sha256\":"
		  "\"cc\",\"key_sha256\":\"kk\"}");
	free(s);
	s = dump(sg_cosigner_json(&c, 1));
	CHECK_CONTAINS(s, "\"key_sha256\":\"kk\",\"signing_time\":1764720000}");
	free(s);
}

int main(void)
{
	test_views();
	test_cosigner();
	return check_done();
}

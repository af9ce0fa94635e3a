/* Audit record selection; see include/signgate/audit_query.h. */
#include "signgate/audit_query.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *sg_audit_field(const json_t *record, const char *path)
{
	char key[64];
	const json_t *v = record;

	while (v && *path) {
		size_t n = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		v = json_object_get(v, key);
		path += n + (path[n] == '.');
	}
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int equals(const char *want, const json_t *rec, const char *path)
{
	const char *got = sg_audit_field(rec, path);

	return !want || (got && strcmp(got, want) == 0);
}

static int has_prefix_nocase(const char *s, const char *prefix)
{
	return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Times are "YYYY-MM-DDTHH:MM:SSZ": string order is time order. */
static int in_range(const sg_audit_filter *f, const json_t *rec)
{
	const char *t = sg_audit_field(rec, "time");

	if (!f->since && !f->until)
		return 1;
	if (!t)
		return 0;
	if (f->since && strcmp(t, f->since) < 0)
		return 0;
	if (!f->until)
		return 1;
	/* A bare date as the end covers that whole day. */
	if (strlen(f->until) == 10)
		return strncmp(t, f->until, 10) <= 0;
	return strcmp(t, f->until) <= 0;
}

int sg_audit_filter_match(const sg_audit_filter *f, const json_t *rec)
{
	const char *thumb = sg_audit_field(rec, "signature.signer.sha1_thumbprint");

	if (!equals(f->product, rec, "approval.product") ||
	    !equals(f->approval, rec, "approval.id") || !equals(f->actor, rec, "actor.user") ||
	    !equals(f->action, rec, "action") || !equals(f->decision, rec, "decision"))
		return 0;
	if (f->sha256 && !has_prefix_nocase(sg_audit_field(rec, "input.sha256"), f->sha256) &&
	    !has_prefix_nocase(sg_audit_field(rec, "output.sha256"), f->sha256))
		return 0;
	if (f->thumbprint && !(thumb && strcasecmp(thumb, f->thumbprint) == 0))
		return 0;
	return in_range(f, rec);
}

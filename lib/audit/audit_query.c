/* Audit record selection; see include/signgate/audit_query.h. */
#include "signgate/audit_query.h"
#include "signgate/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Printable ASCII without '"' or '\\': a string that a canonical line holds
 * byte for byte, unescaped.
 */
static int is_plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

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

/* pipeline.c (check, sign, verify), restamp.c (timestamp), approve.c, audit.c (repair, rotate), audit_seal.c. */
const char *const sg_audit_actions[] = { "check",   "sign",   "verify", "timestamp", "approve",
					 "repair",  "rotate", "seal",   NULL };
const char *const sg_audit_decisions[] = { "approved", "denied", "signed",   "timestamped",
					   "skipped",  "failed", "valid",    "invalid",
					   "repaired", "rotated", "sealed",  NULL };

const char *sg_audit_words(char *buf, size_t len, const char *const *words, const char *sep)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; words[i] && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? sep : "", words[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

static int known(const char *value, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		if (strcmp(value, words[i]) == 0)
			return 1;
	return 0;
}

int sg_audit_filter_check(const sg_audit_filter *f)
{
	char list[512];

	if (f->action && !known(f->action, sg_audit_actions))
		return sg_error_set(SG_ERR_USAGE, "--action %s: no record has that action; give one of %s",
				    f->action, sg_audit_words(list, sizeof(list), sg_audit_actions, ", "));
	if (f->decision && !known(f->decision, sg_audit_decisions))
		return sg_error_set(SG_ERR_USAGE,
				    "--decision %s: no record has that decision; give one of %s",
				    f->decision,
				    sg_audit_words(list, sizeof(list), sg_audit_decisions, ", "));
	return SG_OK;
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

/* Does the line hold `value` as a JSON string, quotes included? */
static int holds_string(const char *line, size_t len, const char *value)
{
	char quoted[256];
	int n;

	if (!value)
		return 1;
	n = snprintf(quoted, sizeof(quoted), "\"%s\"", value);
	/* A value that JSON escapes, or a long one: no shortcut, parse the line. */
	if (n < 0 || (size_t)n >= sizeof(quoted) || !is_plain(value))
		return 1;
	return memmem(line, len, quoted, (size_t)n) != NULL;
}

int sg_audit_filter_might_match(const sg_audit_filter *f, const char *line, size_t len)
{
	/*
	 * An escape could spell a value without its plain bytes ("\u0064enied"):
	 * signgate never writes one for such values, but a line it did not write
	 * might. Such a line is parsed and judged like any other.
	 */
	if (memchr(line, '\\', len))
		return 1;
	return holds_string(line, len, f->product) && holds_string(line, len, f->approval) &&
	       holds_string(line, len, f->actor) && holds_string(line, len, f->action) &&
	       holds_string(line, len, f->decision);
}

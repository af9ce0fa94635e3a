/*
 * The rows of the report's sections, built from one record each (see
 * include/signgate/report.h for their fields). A field the record lacks, or
 * holds with another type, is null: the record's strings are copied as they
 * are, never interpreted.
 */
#include "signgate/audit_query.h"
#include "signgate/error.h"
#include "report_internal.h"

#include <stdio.h>
#include <string.h>

/* The value at `path` ("a.b.c") of rec, or NULL. */
static json_t *at(const json_t *rec, const char *path)
{
	char key[64];
	json_t *v = (json_t *)rec;

	while (v && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		v = json_object_get(v, key);
		path += n + (path[n] == '.');
	}
	return v;
}

json_t *rp_str(const json_t *rec, const char *path)
{
	json_t *v = at(rec, path);

	return json_is_string(v) ? json_string(json_string_value(v)) : json_null();
}

static json_t *integer_at(const json_t *rec, const char *path)
{
	json_t *v = at(rec, path);

	return json_is_integer(v) ? json_integer(json_integer_value(v)) : json_null();
}

/* The co-signer's certificate (sg_cosigner_json()): its strings only, or null. */
static json_t *cosigner(const json_t *rec)
{
	if (!json_is_object(at(rec, "approval.cosigned_by")))
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o}", "name", rp_str(rec, "approval.cosigned_by.name"),
			 "subject", rp_str(rec, "approval.cosigned_by.subject"), "email",
			 rp_str(rec, "approval.cosigned_by.email"), "cert_sha256",
			 rp_str(rec, "approval.cosigned_by.cert_sha256"));
}

/* An array of the strings at `path` (others dropped); [] when there is none. */
static json_t *strings_at(const json_t *rec, const char *path)
{
	json_t *v = at(rec, path), *out = json_array(), *item;
	size_t i;

	if (!out || !json_is_array(v))
		return out;
	json_array_foreach(v, i, item)
		if (json_is_string(item))
			json_array_append_new(out, json_string(json_string_value(item)));
	return out;
}

int rp_kind(const json_t *rec)
{
	const char *d = sg_audit_field(rec, "decision");

	if (!d)
		return RP_OTHER;
	if (strcmp(d, "signed") == 0)
		return RP_SIGNED;
	if (strcmp(d, "denied") == 0)
		return RP_DENIED;
	if (strcmp(d, "failed") == 0 || strcmp(d, "invalid") == 0)
		return RP_FAILED;
	return RP_OTHER;
}

static json_t *actor(const json_t *rec)
{
	return json_pack("{s:o, s:o, s:o}", "user", rp_str(rec, "actor.user"), "uid",
			 integer_at(rec, "actor.uid"), "host", rp_str(rec, "actor.host"));
}

json_t *rp_problem_row(const json_t *rec)
{
	json_t *input = json_is_object(at(rec, "input"))
				? json_pack("{s:o, s:o}", "name", rp_str(rec, "input.name"),
					    "sha256", rp_str(rec, "input.sha256"))
				: json_null();

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "seq",
			 integer_at(rec, "seq"), "time", rp_str(rec, "time"), "action",
			 rp_str(rec, "action"), "decision", rp_str(rec, "decision"), "input",
			 input, "approval_id", rp_str(rec, "approval.id"), "reasons",
			 strings_at(rec, "reasons"), "error", rp_str(rec, "error"), "actor",
			 actor(rec));
}

static json_t *approval(const json_t *rec)
{
	if (!json_is_object(at(rec, "approval")))
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
			 rp_str(rec, "approval.id"), "product", rp_str(rec, "approval.product"),
			 "vendor", rp_str(rec, "approval.vendor"), "version",
			 rp_str(rec, "approval.version"), "ticket", rp_str(rec, "approval.ticket"),
			 "approved_by", rp_str(rec, "approval.approved_by"), "approved_by_from",
			 rp_str(rec, "approval.approved_by_from"), "cosigned_by",
			 cosigner(rec), "policy_file_sha256",
			 rp_str(rec, "approval.policy_file_sha256"));
}

json_t *rp_signing_row(const json_t *rec)
{
	return json_pack(
		"{s:o, s:o, s:o, s:{s:o, s:o, s:o}, s:{s:o, s:o}, s:o, s:{s:o, s:o, s:o}, s:o, "
		"s:o, s:o}",
		"seq", integer_at(rec, "seq"), "id", rp_str(rec, "id"), "time", rp_str(rec, "time"),
		"input", "name", rp_str(rec, "input.name"), "sha256", rp_str(rec, "input.sha256"),
		"size", integer_at(rec, "input.size"), "output", "sha256",
		rp_str(rec, "output.sha256"), "size", integer_at(rec, "output.size"), "approval",
		approval(rec), "signer", "subject", rp_str(rec, "signature.signer.subject"),
		"sha1_thumbprint", rp_str(rec, "signature.signer.sha1_thumbprint"), "not_after",
		rp_str(rec, "signature.signer.not_after"), "timestamp",
		rp_str(rec, "signature.timestamp"), "tsa_url", rp_str(rec, "signature.tsa_url"),
		"actor", actor(rec));
}

int rp_restamp_remember(json_t *outputs, const json_t *signing, const json_t *row)
{
	const char *out = sg_audit_field(signing, "output.sha256");

	if (!out || !row)
		return SG_OK;
	return json_object_set(outputs, out, (json_t *)row) == 0
		       ? SG_OK
		       : sg_error_set(SG_ERR_NOMEM, "out of memory while making the report");
}

int rp_restamp_row(json_t *outputs, const json_t *rec, json_t **row)
{
	const char *in = sg_audit_field(rec, "input.sha256");
	const json_t *of = in ? json_object_get(outputs, in) : NULL;
	json_t *r, *reasons;
	char first[160];

	*row = NULL;
	if (!of)
		return SG_OK;
	r = json_deep_copy(of);
	reasons = json_array();
	snprintf(first, sizeof(first),
		 "a copy of the output of seq %" JSON_INTEGER_FORMAT
		 ", timestamped again by signgate timestamp: the same signature over the same input",
		 json_integer_value(json_object_get(of, "seq")));
	/* r owns reasons from here (json_object_set_new() takes it even when it fails). */
	if (!r || json_object_set_new(r, "reasons", reasons) || !reasons ||
	    json_array_append_new(reasons, json_string(first)) ||
	    json_array_extend(reasons, json_object_get(of, "reasons")) ||
	    json_object_set_new(r, "restamp_of", json_deep_copy(json_object_get(of, "seq"))) ||
	    json_object_set_new(r, "seq", integer_at(rec, "seq")) ||
	    json_object_set_new(r, "time", rp_str(rec, "time")) ||
	    json_object_set_new(r, "output_sha256", rp_str(rec, "output.sha256"))) {
		if (!r)
			json_decref(reasons);
		json_decref(r);
		return sg_error_set(SG_ERR_NOMEM, "out of memory while making the report");
	}
	/* A copy of a copy is found the same way. */
	if (rp_restamp_remember(outputs, rec, r) != SG_OK) {
		json_decref(r);
		return SG_ERR_NOMEM;
	}
	*row = r;
	return SG_OK;
}

/*
 * The one writer of an approval as JSON: in a policy file (`policy approve`),
 * in an audit record (signing, approving) and in `policy show --json`; and of
 * an approver's certificate. See include/signgate/policy_json.h.
 */
#include "signgate/policy_json.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IN_FILE   (1u << SG_APPROVAL_AS_FILE)
#define IN_RECORD (1u << SG_APPROVAL_AS_RECORD)
#define IN_SHOW   (1u << SG_APPROVAL_AS_SHOW)

/* One field: its key, where it is in sg_approval, the views that write it. */
typedef struct field {
	const char *key;
	size_t offset;
	unsigned views;
	unsigned null_in; /* views that write an absent value as null rather than leave it out */
} field;

#define F(name, views, nulls) { #name, offsetof(sg_approval, name), views, nulls }

/* The order of the keys in every view: that of the approval files people review. */
static const field fields[] = {
	F(id, IN_FILE | IN_RECORD | IN_SHOW, 0),
	F(product, IN_FILE | IN_RECORD | IN_SHOW, 0),
	F(vendor, IN_FILE | IN_RECORD | IN_SHOW, IN_SHOW),
	F(version, IN_FILE | IN_RECORD | IN_SHOW, 0),
	F(file, IN_FILE | IN_SHOW, IN_SHOW),
	F(sha256, IN_FILE | IN_SHOW, IN_SHOW),
	F(sha512, IN_FILE | IN_SHOW, IN_SHOW),
	F(approved_by, IN_FILE, 0),
	F(ticket, IN_FILE | IN_RECORD | IN_SHOW, 0),
	F(approved_at, IN_FILE | IN_SHOW, 0),
	F(source, IN_FILE | IN_SHOW, IN_SHOW),
	F(expires, IN_FILE | IN_SHOW, IN_SHOW),
};

static const field tail_fields[] = {
	F(accept_unsigned, IN_FILE | IN_RECORD | IN_SHOW, IN_SHOW),
	F(not_in_catalog, IN_FILE | IN_RECORD | IN_SHOW, 0),
	F(description, IN_FILE, 0),
	F(origin, IN_RECORD | IN_SHOW, 0),
};

json_t *sg_json_text(const char *s)
{
	json_t *v = s ? json_string(s) : json_null();
	size_t n = 0;
	char *esc;

	if (v || !s)
		return v;
	esc = malloc(4 * strlen(s) + 1);
	if (!esc)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (size_t)snprintf(esc + n, 5, *p < 0x80 ? "%c" : "\\x%02x", *p);
	v = json_string(esc);
	free(esc);
	return v;
}

/* Set the fields of `list` that `view` writes; 0, or -1 when out of memory. */
static int put_fields(json_t *obj, const sg_approval *a, const field *list, size_t n,
		      sg_approval_view view)
{
	for (size_t i = 0; i < n; i++) {
		const field *f = &list[i];
		const char *value = *(char *const *)((const char *)a + f->offset);
		const char *key = f->offset == offsetof(sg_approval, origin) ? "policy_file" : f->key;
		json_t *v;

		if (!(f->views & (1u << view)))
			continue;
		if (value)
			v = sg_json_text(value);
		else if (f->null_in & (1u << view))
			v = json_null();
		else
			continue;
		if (!v || json_object_set_new(obj, key, v) != 0)
			return -1;
	}
	return 0;
}

json_t *sg_approval_json(const sg_approval *a, sg_approval_view view)
{
	json_t *obj = json_object();
	int bad = !obj || put_fields(obj, a, fields, sizeof(fields) / sizeof(fields[0]), view);

	/* A policy file says nothing of the default; a record and `show` always name the rule. */
	if (!bad && (view != SG_APPROVAL_AS_FILE || a->existing != SG_EXISTING_REFUSE))
		bad = json_object_set_new(obj, "existing_signature",
					  json_string(sg_existing_rule_name(a->existing))) != 0;
	if (!bad)
		bad = put_fields(obj, a, tail_fields, sizeof(tail_fields) / sizeof(tail_fields[0]),
				 view);
	if (bad) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *sg_cosigner_json(const sg_cosigner *c, int with_time)
{
	json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", c->name, "subject",
				c->subject, "email", c->email, "cert_sha256", c->cert_sha256,
				"key_sha256", c->key_sha256);

	if (obj && with_time &&
	    json_object_set_new(obj, "signing_time", json_integer(c->signing_time)) != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

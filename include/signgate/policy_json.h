/*
 * Approvals and approvers as JSON, written in one place: what a policy file
 * holds, what an audit record says of the approval that allowed (or was
 * denied) a file, what `policy show --json` lists. Keys come in one order,
 * that of the approval files.
 */
#ifndef SIGNGATE_POLICY_JSON_H
#define SIGNGATE_POLICY_JSON_H

#include <jansson.h>

#include "signgate/cosign.h"
#include "signgate/policy.h"

typedef enum sg_approval_view {
	/* As `policy approve` writes it into POLICY/ID.json: every field given, including
	 * approved_by; existing_signature only when it is not the default; no provenance
	 * (the writer adds its own object). */
	SG_APPROVAL_AS_FILE,
	/* In an audit record: id, product, vendor, version, ticket, existing_signature,
	 * accept_unsigned, not_in_catalog, policy_file (its origin, when set). Who approved
	 * is the caller's to add: it depends on what was verified. */
	SG_APPROVAL_AS_RECORD,
	/* In `policy show --json`: the file's fields (absent ones as null), policy_file. */
	SG_APPROVAL_AS_SHOW,
} sg_approval_view;

/*
 * A new JSON object describing `a` as `view` shows it (fields NULL in `a`
 * are left out, or null where the view says so). Returns NULL when out of
 * memory. The caller owns the object.
 */
json_t *sg_approval_json(const sg_approval *a, sg_approval_view view);

/*
 * A JSON string for text that may not be UTF-8 (file names are bytes): such
 * text is kept readable with each byte of 0x80 and above written as \xHH.
 * NULL gives a JSON null. Returns NULL when out of memory.
 */
json_t *sg_json_text(const char *s);

/*
 * An approver as their certificate names them: name, subject, email,
 * cert_sha256, key_sha256, and with `with_time` the signature's
 * signing_time. A new object (NULL when out of memory).
 */
json_t *sg_cosigner_json(const sg_cosigner *c, int with_time);

#endif

/*
 * Internal: what the audit log's writer (audit.c) and reader (audit_read.c)
 * share, so that both hold one idea of a well-formed record.
 */
#ifndef SIGNGATE_LIB_AUDIT_INTERNAL_H
#define SIGNGATE_LIB_AUDIT_INTERNAL_H

#include <stddef.h>
#include <jansson.h>

#include "signgate/audit.h"
#include "signgate/hash.h"

/* The canonical text of a record: what the log stores and what "hash" covers. */
#define DUMP_FLAGS    (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
#define HEX_LEN       (2 * SG_SHA256_LEN)
#define TIME_LEN      20 /* "YYYY-MM-DDTHH:MM:SSZ" */
#define WHY_MAX       512
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char sg_audit_zero_hash[HEX_LEN + 1] = "00000000000000000000000000000000"
						    "00000000000000000000000000000000";

/* The keys the library sets on every record, with their JSON types. */
static const struct {
	const char *key;
	json_type type;
	const char *type_name;
} sg_audit_lib_fields[] = {
	{ "actor", JSON_OBJECT, "an object" }, { "hash", JSON_STRING, "a string" },
	{ "id", JSON_STRING, "a string" },     { "prev", JSON_STRING, "a string" },
	{ "seq", JSON_INTEGER, "an integer" }, { "time", JSON_STRING, "a string" },
};

/* Record a line's defect in `why` (WHY_MAX bytes) and return SG_ERR_TAMPER. */
int sg_audit_tamper(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * SHA-256 hex of the canonical text of `obj` without its "hash" member.
 * Returns SG_OK, SG_ERR_NOMEM or SG_ERR_CRYPTO with the last error set.
 */
int sg_audit_content_hash(char out[HEX_LEN + 1], json_t *obj);

/*
 * Check one line on its own, without its neighbours. Returns SG_OK with the
 * parsed record in *out (the caller frees it), SG_ERR_TAMPER with the reason
 * in `why` (WHY_MAX bytes), or SG_ERR_NOMEM / SG_ERR_CRYPTO.
 */
int sg_audit_check_record(json_t **out, const char *line, size_t len, char *why);

/* flock(fd, op), retried on EINTR; SG_ERR_IO naming `path` on failure. */
int sg_audit_lock(int fd, int op, const char *path);

#endif

/*
 * The audit log: JSON Lines, one record per decision or signature, chained by
 * hashes so that editing, deleting or reordering a record is detected.
 *
 * Each appended line is one compact JSON object whose keys are sorted
 * (jansson JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII). The library adds:
 *   "id"   a random UUID (libuuid), lower-case
 *   "time" UTC time, "YYYY-MM-DDTHH:MM:SSZ"
 *   "seq"  1 for the first record of a log, then +1 per record
 *   "prev" SHA-256 hex of the previous line's exact bytes (without its newline);
 *          64 zeros for the first record
 *   "hash" SHA-256 hex of the record serialized as above without "hash"
 *   "actor" {"user", "uid", "host", "build_id" (when the environment has one)}
 * to the caller's fields. Appends take an exclusive flock() on the log, read
 * the last line, write the new line with a single write() and fsync() before
 * returning, so concurrent signgate processes never interleave or fork the
 * chain.
 */
#ifndef SIGNGATE_AUDIT_H
#define SIGNGATE_AUDIT_H

#include <stddef.h>
#include <jansson.h>

#define SG_AUDIT_ID_LEN 37 /* UUID text plus NUL */

/*
 * Append `record` (a JSON object the caller owns; it is not modified) to the
 * log at `path`, creating the file (mode 0600) and its folder (0700) when they
 * do not exist. On success writes the new record's id into `out_id` (may be
 * NULL). Returns SG_OK, SG_ERR_IO (cannot open, lock, write or sync),
 * SG_ERR_TAMPER (the last line is torn or not a record: nothing is appended)
 * or SG_ERR_USAGE.
 */
int sg_audit_append(const char *path, const json_t *record, char out_id[SG_AUDIT_ID_LEN]);

typedef struct sg_audit_report {
	size_t records;	   /* records read and found valid */
	size_t bad_line;   /* first bad line (1-based), 0 when the log is valid */
} sg_audit_report;

/*
 * Check the whole chain of the log at `path`, streaming it line by line.
 * Returns SG_OK when every record is well-formed, its "hash" matches, its
 * "seq" follows the previous one and its "prev" is the SHA-256 of the
 * previous line. Returns SG_ERR_TAMPER with `out->bad_line` set and a message
 * naming the line and what is wrong, or SG_ERR_IO when the log cannot be read.
 * An empty or missing-but-readable-empty log is valid with 0 records; a
 * missing file is SG_ERR_IO.
 */
int sg_audit_verify(const char *path, sg_audit_report *out);

/*
 * Call `fn` for each record of the log in order with the parsed object (owned
 * by the library, valid during the call) and its 1-based line number. Stops
 * early and returns fn's value when fn returns non-zero. Returns SG_OK,
 * SG_ERR_IO, or SG_ERR_TAMPER for a line that is not a JSON object.
 */
int sg_audit_foreach(const char *path,
		     int (*fn)(const json_t *record, size_t line, void *arg),
		     void *arg);

#endif

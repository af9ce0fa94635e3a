/*
 * Internal: what the audit log's writer (audit.c) and reader (audit_read.c)
 * share, so that both hold one idea of a well-formed record.
 */
#ifndef SIGNGATE_LIB_AUDIT_INTERNAL_H
#define SIGNGATE_LIB_AUDIT_INTERNAL_H

#include <stddef.h>
#include <jansson.h>
#include <openssl/evp.h>

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

/*
 * The keys the library sets on every record it writes since version 0.1.0
 * of the record format grew them; older records lack them. Callers may not
 * set them; readers take them as they are (a string, or null).
 */
static const char *const sg_audit_lib_info_fields[] = { "osslsigncode_version",
							 "signgate_version" };

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

/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ"; SG_ERR_IO when the clock fails. */
int sg_audit_utc_now(char out[TIME_LEN + 1]);

/* flock(fd, op), retried on EINTR; SG_ERR_IO naming `path` on failure. */
int sg_audit_lock(int fd, int op, const char *path);

/* What the fast path learns of a line it accepts. */
struct sg_audit_fast {
	long long seq;
	char prev[HEX_LEN + 1];
	char line_hash[HEX_LEN + 1]; /* SHA-256 of the line's bytes */
	int rotate;                  /* a "rotate" record */
};

/* SHA-256, fetched once, and two contexts for one thread's use. */
struct sg_audit_hasher {
	EVP_MD *sha256;
	EVP_MD_CTX *a, *b;
};

/*
 * The fast path of verify (lib/audit_fast.c). Returns 1 when the line is a
 * record exactly as signgate writes it (canonical, library fields
 * well-formed, "hash" matching), filling *out; 0 when unsure, and the line
 * must then go through sg_audit_check_record(). Never 1 for a line that
 * sg_audit_check_record() refuses.
 */
int sg_audit_fast_check(const char *line, size_t len, struct sg_audit_fast *out,
			struct sg_audit_hasher *h);

/*
 * Reads a snapshot of a log line by line, in blocks of SG_AUDIT_READ_BLOCK
 * bytes into one buffer that also holds the longest line a log may have.
 */
#define SG_AUDIT_READ_BLOCK (256 * 1024)

struct sg_audit_reader {
	const char *path;
	int fd;
	long long left;  /* bytes of the snapshot not read yet */
	char *buf;       /* SG_AUDIT_LINE_MAX + 1 + SG_AUDIT_READ_BLOCK bytes */
	size_t pos, end; /* the unread bytes are buf[pos, end) */
	size_t lineno;   /* of the line last returned */
	/*
	 * With sg_audit_reader_hash(): every byte read() returns goes into
	 * this SHA-256 as it is read, and is counted in `read`.
	 */
	EVP_MD_CTX *md;
	unsigned long long read;
};

/*
 * Open `path` and take the size of its snapshot under a brief shared lock.
 * Returns SG_OK, SG_ERR_IO (also: not a regular file) or SG_ERR_NOMEM.
 */
int sg_audit_reader_open(struct sg_audit_reader *r, const char *path);

/*
 * The next line, without its newline: *line points into the reader's buffer
 * until the next call. Returns 1 with *torn set when the line has no newline
 * (the end of the log), 0 at the end, or an error: SG_ERR_TAMPER for a line
 * longer than SG_AUDIT_LINE_MAX (r->lineno is then that line), SG_ERR_IO.
 */
int sg_audit_reader_next(struct sg_audit_reader *r, const char **line, size_t *len, int *torn);

void sg_audit_reader_close(struct sg_audit_reader *r);

/*
 * Hash the bytes the reader reads from now on (call right after open):
 * SG_OK or SG_ERR_CRYPTO. sg_audit_reader_digest() then fills `out` with the
 * count and SHA-256 of the bytes read so far (a prefix of the file), and
 * whether they run to the end of the snapshot taken at open.
 */
int sg_audit_reader_hash(struct sg_audit_reader *r);
int sg_audit_reader_digest(struct sg_audit_reader *r, sg_audit_file_read *out);

/*
 * Call `fn` on each line of the log at `path`, in order. A torn last line is
 * tampering (SG_ERR_TAMPER, "PATH: line N is torn (no final newline)").
 * Returns the first non-zero value of fn or an error of the reader, with
 * *lineno the line it concerns.
 */
int sg_audit_walk(const char *path,
		  int (*fn)(const char *line, size_t len, size_t lineno, void *arg), void *arg,
		  size_t *lineno);

#endif

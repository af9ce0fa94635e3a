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
 *          "user" is the effective user's name (the uid as text when it has
 *          none); "build_id" is the first of SIGNGATE_BUILD_ID, CI_JOB_ID,
 *          BUILD_TAG, GITHUB_RUN_ID, BUILD_BUILDID that is set and not empty,
 *          with that variable's name in "build_id_source"
 *   "signgate_version"     this program's version (the CMake project version)
 *   "osslsigncode_version" the osslsigncode version this run checked
 *          (sg_audit_set_osslsigncode_version(), e.g. "2.9"); null when the
 *          run used no osslsigncode (a seal, a rotation, an approval)
 * to the caller's fields, which must not use these eight keys (records
 * written before the last two existed lack them and stay valid). Appends take
 * an exclusive flock() on the log, read the last line, write the new line
 * with a single write() and fsync() before returning, so concurrent signgate
 * processes never interleave or fork the chain.
 */
#ifndef SIGNGATE_AUDIT_H
#define SIGNGATE_AUDIT_H

#include <stddef.h>
#include <jansson.h>

#define SG_AUDIT_ID_LEN 37 /* UUID text plus NUL */

/*
 * The longest line (one record, without its newline) the log may hold. It
 * bounds the memory of every read: a longer record is refused on append and a
 * longer line is reported as tampering by verify and foreach.
 */
#define SG_AUDIT_LINE_MAX (1024 * 1024)

/*
 * Append `record` (a JSON object the caller owns; it is not modified) to the
 * log at `path`, creating the file (mode 0600) and its folder (0700) when they
 * do not exist. On success writes the new record's id into `out_id` (may be
 * NULL). Returns SG_OK, SG_ERR_IO (cannot open, lock, write or sync; the
 * path is a symbolic link), SG_ERR_TAMPER (the last line is torn or not a
 * record: nothing is appended), SG_ERR_USAGE (`record` is not an object, sets
 * one of the library's keys, or would serialize to more than
 * SG_AUDIT_LINE_MAX bytes or to a line the log could not read back) or
 * SG_ERR_NOMEM.
 */
int sg_audit_append(const char *path, const json_t *record, char out_id[SG_AUDIT_ID_LEN]);

/*
 * The osslsigncode version this run checked (sg_osslsigncode_check()), put
 * into every record appended afterwards by this process; NULL or "" puts
 * null. Set once per run by the program, before its first append and before
 * it starts any thread.
 */
void sg_audit_set_osslsigncode_version(const char *version);

/* What an append wrote: enough to prove elsewhere that the record existed. */
typedef struct sg_audit_receipt {
	char id[SG_AUDIT_ID_LEN];
	long long seq;
	char line_sha256[65]; /* SHA-256 hex of the line: the next record's "prev" */
} sg_audit_receipt;

/* sg_audit_append() that also fills `out` (may be NULL) on success. */
int sg_audit_append_receipt(const char *path, const json_t *record, sg_audit_receipt *out);

/*
 * Forward an appended record to syslog(3) with `facility` (LOG_LOCAL0 ...)
 * and `tag`: one line with its id, seq, line hash, action, decision, input
 * name and SHA-256, approval id and signer thumbprint, so that a copy leaves
 * the machine as it is written. Never fails the caller.
 */
void sg_audit_syslog(const sg_audit_receipt *r, const json_t *record, int facility,
		     const char *tag);

/*
 * The head of the log at `path`: the last record's seq (0 for an empty log)
 * and the SHA-256 hex of its line (64 zeros for an empty log), read under a
 * shared lock so that no append is half-seen. Only the last line is checked;
 * the chain before it is sg_audit_verify()'s business. Returns SG_OK,
 * SG_ERR_IO, or SG_ERR_TAMPER (the last line is torn or not a record).
 */
int sg_audit_head(const char *path, long long *seq, char head[65]);

typedef struct sg_audit_report {
	size_t records;                /* records read and found valid, over all files */
	size_t bad_line;               /* first bad line (1-based) of file bad_file; 0: valid */
	size_t bad_file;               /* index into the list of files given */
	long long first_seq, last_seq; /* of the valid records; 0 when none */
	/*
	 * SHA-256 hex of the last valid line, i.e. the "prev" the next record
	 * will carry (64 zeros for an empty log).
	 */
	char head[65];
	/* Seals (when given): how many were compared with the chain, and the newest. */
	size_t seals_checked;
	size_t offhost_checked; /* of them, seals only the off-host copy holds */
	long long sealed_seq;
	char sealed_time[21];
	/*
	 * Seals of records before the first file given (it starts with a
	 * rotate record): not checked. Their count, first and last line in the
	 * seals file and the seqs they seal.
	 */
	size_t seals_before;
	size_t before_first_line, before_last_line;
	long long before_first_seq, before_last_seq;
	size_t seal_records; /* "seal" records in the chain made with the seals' certificate */
	/*
	 * Every "seal" record in the chain, seals given or not, and the seq of
	 * the last: a log that says it was sealed, checked without its seals.
	 */
	size_t seal_records_seen;
	long long last_seal_record_seq;
	/* Seal records without their own seal that a later seal covers (first seq). */
	size_t unsealed_covered;
	long long unsealed_covered_seq;
	/* Seal records after the newest seal without their seal: interrupted runs. */
	size_t interrupted;
	long long interrupted_seq;
	size_t interrupted_file, interrupted_line; /* of the first */
} sg_audit_report;

struct sg_audit_seals;

/*
 * What a check read of one file, digested while it was read (never by
 * opening the file again): the first `bytes` bytes of the file, so that
 * `head -c BYTES FILE | sha256sum` gives `sha256` while the file is
 * unchanged.
 */
typedef struct sg_audit_file_read {
	int read;                 /* 0: the file was not read (the check stopped before it) */
	unsigned long long bytes; /* how many bytes were read, from the start */
	char sha256[65];          /* SHA-256 hex of those bytes */
	int whole;                /* 1: they run to the end of the file as it was at open */
} sg_audit_file_read;

/*
 * Check the chain across `n` log files given in order (a rotated log's
 * archives, oldest first, then the current file), streaming each one. Every
 * record must be well-formed, its "hash" must match its content, each line
 * must be byte for byte the canonical serialization of its record (so a
 * reformatted line is found even where no hash covers its bytes: the last
 * line), "seq" must follow the previous record's and "prev" must be the
 * SHA-256 of the previous line, also from the last line of one file to the
 * first of the next. The first record is seq 1 with 64 zeros as "prev", or a
 * "rotate" record that continues a file not given (that link is unchecked).
 *
 * With `seals` (may be NULL; already loaded and their signatures checked by
 * sg_audit_seals_load(), maybe merged with an off-host copy by
 * sg_audit_seals_merge()):
 *   - each seal must match the line of its seq;
 *   - no seal may lie beyond the last record (records cut off the end, or,
 *     for a seal only the off-host copy holds, the log and its seals file
 *     cut back together);
 *   - a seal only the off-host copy holds means seals were deleted from the
 *     seals file;
 *   - each "seal" record made with the seals' certificate must have its
 *     seal. A record of an older version (written after its seal, naming the
 *     head) without it means the seals file was deleted or replaced by an
 *     older copy. A record that covers itself (written before its seal)
 *     without it is counted in unsealed_covered when a later seal covers it,
 *     and else in `interrupted`: the sealing run stopped between the record
 *     and the seal (a seal deleted afterwards looks the same without the
 *     off-host copy). Interrupted seals fail the check (SG_ERR_TAMPER, with
 *     a message saying so and that the next `audit seal` mends it);
 *   - seals of records before the first file given (a list that starts with
 *     a rotate record) cannot be checked: they fail the check unless `flags`
 *     has SG_AUDIT_VERIFY_PARTIAL; even then at least one seal must fall
 *     within the files given and match, so that they are tied to the
 *     sealed log. They are counted in seals_before (with lines and seqs).
 * A rotate record after the first record must describe the chain before it
 * in "previous" (last_seq, head) and, at the start of a file, name the base
 * name of the file given before it.
 *
 * A sealing run appends its record before its seal: one that runs between
 * loading the seals and this call shows as an interrupted seal. Callers
 * check again with freshly loaded seals when the seals file changed
 * meanwhile (tools/cmd_audit.c does).
 *
 * Returns SG_OK; SG_ERR_TAMPER with bad_file/bad_line set (bad_line is 0 for
 * a cut-off end or a problem of the files as a whole) and a message naming
 * the file, the line and what is wrong; SG_ERR_IO when a file cannot be
 * read; SG_ERR_NOMEM. `out` may be NULL. The work is spread over the
 * machine's cores; lines written by appends that finish meanwhile are not
 * read.
 */
#define SG_AUDIT_VERIFY_PARTIAL 1u /* seals before the files given are only counted */

int sg_audit_verify_files(const char *const *paths, size_t n, const struct sg_audit_seals *seals,
			  unsigned flags, sg_audit_report *out);

/*
 * sg_audit_verify_files() that also fills `read` (n entries, may be NULL)
 * with what it read of each file, whatever it returns: a file after the one
 * where the check stopped has read 0; the one where it stopped, the bytes
 * read up to then (the bad line included). What a report of a broken chain
 * names as the bytes it judged.
 */
int sg_audit_verify_files_read(const char *const *paths, size_t n,
			       const struct sg_audit_seals *seals, unsigned flags,
			       sg_audit_report *out, sg_audit_file_read *read);

/* sg_audit_verify_files() of one file without seals. A missing file is SG_ERR_IO. */
int sg_audit_verify(const char *path, sg_audit_report *out);

/*
 * Call `fn` for each record of the log in order with the parsed object (owned
 * by the library, valid during the call) and its 1-based line number. Stops
 * early and returns fn's value when fn returns non-zero. Returns SG_OK,
 * SG_ERR_IO, or SG_ERR_TAMPER for a line that is not a JSON object, longer
 * than SG_AUDIT_LINE_MAX or torn (no final newline). Hashes and the chain
 * are not checked: that is sg_audit_verify().
 */
int sg_audit_foreach(const char *path, int (*fn)(const json_t *record, size_t line, void *arg),
		     void *arg);

/*
 * sg_audit_foreach() that first asks `keep` (may be NULL) about each line's
 * raw bytes and parses only the lines it keeps: a query skips most of a large
 * log without building its records. Lines not kept are not checked either.
 */
int sg_audit_foreach_where(const char *path, int (*keep)(const char *line, size_t len, void *arg),
			   int (*fn)(const json_t *record, size_t line, void *arg), void *arg);

/*
 * The files of the chain that the log at `log` ends: the archives it
 * continues, oldest first, then `log` itself, in *files (*n of them, newly
 * allocated; free with sg_audit_chain_files_free()). Each file's first
 * record, when it is a "rotate" record, names the archive before it in
 * "previous"."file": a base name, looked for beside the log (a name with a
 * '/' or "." or ".." is not followed). When that archive is not there, the
 * list starts after it and `gap` (`gap_size` bytes, may be 0) says "FILE
 * continues the archive ARCHIVE, which is not beside it"; else gap is "".
 * Nothing is verified here: give the list to sg_audit_verify_files().
 * Returns SG_OK, SG_ERR_IO (a file cannot be read; `log` does not exist),
 * SG_ERR_TAMPER (the rotate records loop, or name more than 10000
 * archives), SG_ERR_NOMEM.
 */
int sg_audit_chain_files(const char *log, char ***files, size_t *n, char *gap, size_t gap_size);

/*
 * sg_audit_chain_files() that also says what it read of each file (the
 * start of it, up to its first line at least) in *read (*n entries, newly
 * allocated; free() it). On SG_ERR_TAMPER the lists are kept, not freed:
 * the files whose first line was read, oldest first (the one where the
 * chain broke first, `log` last), with what was read of each: what a report
 * of the broken chain names. On other errors both are NULL and *n 0.
 * `missing` (may be NULL): the path of the archive that `gap` names (newly
 * allocated), NULL when none or on an error.
 */
int sg_audit_chain_files_read(const char *log, char ***files, sg_audit_file_read **read,
			      size_t *n, char *gap, size_t gap_size, char **missing);

/* Free what sg_audit_chain_files() returned; NULL is accepted. */
void sg_audit_chain_files_free(char **files, size_t n);

typedef struct sg_audit_repair_report {
	size_t torn_bytes;              /* 0: nothing was torn, nothing was done */
	char quarantine[4096];          /* where the torn bytes now are */
	char torn_sha256[65];           /* SHA-256 hex of those bytes */
	sg_audit_receipt record;        /* the repair record */
} sg_audit_repair_report;

/*
 * After a crash mid-append the log ends in a torn line (no newline) and
 * appends are refused. Under the log's lock, move those bytes into a new
 * quarantine file "<log>.torn-<unix time>-<pid>" (0600, fsynced), cut them
 * off the log, then append a "repair" record naming the file, the byte count
 * and their SHA-256. Refuses (SG_ERR_TAMPER) when the line before the torn
 * bytes is not a valid record, or the tail is longer than SG_AUDIT_LINE_MAX:
 * that is not an interrupted write. Returns SG_OK (also when nothing was torn),
 * SG_ERR_TAMPER, SG_ERR_IO.
 */
int sg_audit_repair(const char *path, sg_audit_repair_report *out);

typedef struct sg_audit_rotate_report {
	char archive[4096];             /* where the old log now is; "" when it was empty */
	long long last_seq;             /* its last record */
	char head[65];                  /* and that record's line SHA-256 */
	sg_audit_receipt record;        /* the new log's first record */
} sg_audit_rotate_report;

/*
 * Start a new log file at `path`. Under the log's lock, the old file moves to
 * "<path>.<YYYYMMDDTHHMMSSZ>" (a "-N" suffix when that name is taken) and a
 * new file takes its place, atomically, whose first record is a "rotate"
 * record (seq one past the old last record, prev its line's SHA-256, and
 * "previous": {"file", "last_seq", "head"}), so the chain runs on across the
 * files: verify them with sg_audit_verify_files(), oldest first. An empty log
 * is left as it is (out->archive empty); a missing one is SG_ERR_IO. Refuses
 * (SG_ERR_TAMPER) a log whose last line is torn or not a record. Returns
 * SG_OK, SG_ERR_TAMPER, SG_ERR_IO.
 */
int sg_audit_rotate(const char *path, sg_audit_rotate_report *out);

#endif

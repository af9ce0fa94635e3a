/*
 * Internal to lib/report: the pass over the verified chain (report_pass.c),
 * the period and the per-day counts (report_period.c), the rows
 * (report_rows.c), shared by report.c.
 */
#ifndef SIGNGATE_LIB_REPORT_INTERNAL_H
#define SIGNGATE_LIB_REPORT_INTERNAL_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "signgate/audit.h"

/* What a pass must find: the chain `audit verify` checked, no more, no less. */
struct rp_chain {
	const char *const *paths;
	size_t n;
	size_t records;
	long long first_seq, last_seq;
	char head[65]; /* SHA-256 hex of the last record's line */
};

/* What the first pass learns of each file: the bytes the verified records take. */
struct rp_file {
	unsigned long long bytes;
	char sha256[65];
};

/* A record's callback: non-zero stops the pass with that value (an SG_* error). */
typedef int (*rp_fn)(const json_t *rec, void *arg);

/*
 * What a pass reads of a line without parsing it: its top-level "seq",
 * "time" and "decision" (not NUL-terminated). `plain` is 0 when a key or
 * one of these values holds an escape ("\u0064enied" is "denied" once
 * parsed): then nothing here may be trusted and the line is parsed.
 */
struct rp_line {
	int plain;
	long long seq;
	const char *prev, *time, *decision;
	size_t prev_len, time_len, decision_len;
};

/*
 * A pass's filter on a plain line: 1 to parse it and call rp_fn, 0 to skip
 * it. It must keep every line rp_fn would act on (a line that is not plain
 * goes to rp_fn regardless).
 */
typedef int (*rp_want)(const struct rp_line *line, void *arg);

/*
 * Scan a line for its top-level "seq" (-1 unless a whole number below
 * 10^17), "prev", "time" and "decision". Returns 0, or -1 when the line is
 * not a JSON object as far as the scan can tell. For a plain line that
 * jansson parses (JSON_REJECT_DUPLICATES), the values are jansson's
 * (tests/fuzz/fuzz_report_line.c checks it).
 */
int rp_scan_line(const char *s, size_t len, struct rp_line *l);

/* Is the plain value of `len` bytes at `v` exactly `word`? */
int rp_is(const char *v, size_t len, const char *word);

/* The kind (RP_*) of a plain line's decision. */
int rp_line_kind(const struct rp_line *l);

/*
 * Read the verified records of c->paths in order, once, calling `fn` on
 * each that `want` (NULL: all) keeps, and check as it goes that they are
 * the ones verified (from the line's bytes, parsed only when kept): seq from
 * first_seq one more each time, "prev" the SHA-256 of the line before, and
 * at last_seq, the line's SHA-256 the head and the count `records`. Lines
 * after last_seq (appended since) are not read. `files` (may be NULL; n of
 * them) receives the bytes and SHA-256 of each file's verified part. Returns
 * SG_OK, fn's error, SG_ERR_IO, or SG_ERR_TAMPER (the files are no longer
 * those verified: "changed while the report was made").
 */
int rp_pass(const struct rp_chain *c, rp_want want, rp_fn fn, void *arg, struct rp_file *files);

/* Day numbers: days since 1970-01-01 (UTC). */
int rp_day_of(const char *text, long *day);  /* "YYYY-MM-DD..." -> day; 0 or -1 */
void rp_day_text(long day, char out[11]);    /* day -> "YYYY-MM-DD" */

/* The longest period a report covers (about ten years). */
#define RP_MAX_DAYS 3660

struct rp_period {
	int has_since, has_until;
	char since[21], until[21]; /* full UTC times to compare a record's "time" with */
	long from, to;             /* the period's first and last day */
};

struct rp_count {
	unsigned long signed_n, denied, failed;
};

/* Counts per day over [base, base + n); too_wide: records beyond RP_MAX_DAYS. */
struct rp_days {
	long base;
	size_t n;
	struct rp_count *v;
	int too_wide;
	long min, max; /* the first and last day seen (any: one was) */
	int any;
};

/* Check --since/--until (SG_ERR_USAGE with a message) and fill what they fix. */
int rp_period_open(struct rp_period *p, const char *since, const char *until);
/* Is a record's "time" within the period's given bounds? */
int rp_period_has(const struct rp_period *p, const char *time);
int rp_days_add(struct rp_days *d, long day, int kind);
/* The ends not given, from the records counted (today for none); SG_ERR_USAGE: too long. */
int rp_period_close(struct rp_period *p, const struct rp_days *d, time_t now);
/* "days": every day of the period with its counts; NULL when out of memory. */
json_t *rp_days_json(const struct rp_period *p, const struct rp_days *d);

/* The signer certificates seen (report_certs.c). */
struct rp_cert;
#define CERTS_LISTED 1000 /* certificates listed at most */
#define CERTS_TRACKED 100000 /* distinct thumbprints remembered at most */
struct rp_certs {
	struct rp_cert *v; /* the listed ones, in order of first use */
	size_t n, cap;
	json_t *index;    /* thumbprints key -> index in v, or true (not listed) */
	json_t *subjects; /* lowercased subject -> distinct certificates seen */
	size_t more, more_signings; /* not listed: distinct certificates, signings */
	int more_partial; /* past CERTS_TRACKED: `more` is a lower bound */
};
/* Count a "signed" record's signature.signer; SG_OK or SG_ERR_NOMEM. */
int rp_certs_add(struct rp_certs *c, const json_t *rec);
/* "certificates", with days_left and expiry_warning against `now`; NULL: out of memory. */
json_t *rp_certs_json(const struct rp_certs *c, time_t now);
/* "certificates_not_listed": the count beyond CERTS_LISTED; NULL: out of memory. */
json_t *rp_certs_more_json(const struct rp_certs *c);
void rp_certs_free(struct rp_certs *c);

/* A decision's kind for the counts. */
enum { RP_OTHER, RP_SIGNED, RP_DENIED, RP_FAILED };
int rp_kind(const json_t *rec);

/* The rows (report_rows.c): new references, or NULL when out of memory. */
json_t *rp_problem_row(const json_t *rec);
json_t *rp_signing_row(const json_t *rec);

/*
 * With --policy, a signed file the policy would no longer approve may have
 * been timestamped again (`signgate timestamp`, decision "timestamped": the
 * same signature, a new SHA-256). `outputs` (a JSON object) maps the output
 * SHA-256 of each such signing to its row: rp_restamp_remember() adds one
 * (nothing for a NULL row); rp_restamp_row() gives, for a "timestamped"
 * record whose input is such an output, a row of its own ("restamp_of" the
 * seq copied, its own seq, time and output_sha256, the reasons after a first
 * one that says what it is), remembered in turn; *row NULL when its input is
 * no such output. SG_OK or SG_ERR_NOMEM.
 */
int rp_restamp_remember(json_t *outputs, const json_t *signing, const json_t *row);
int rp_restamp_row(json_t *outputs, const json_t *rec, json_t **row);

/* A copy of the string at `path` ("a.b") of rec, or JSON null. */
json_t *rp_str(const json_t *rec, const char *path);

#endif

/*
 * Verifying the audit chain over one or more files, with seals; see
 * include/signgate/audit.h.
 *
 * Checking a line on its own (parse, fields, hash, canonical form, the line's
 * SHA-256) is nearly all the work and needs nothing from the other lines, so
 * it runs on all cores: the reader cuts the log into batches of lines, worker
 * threads check the batches, and then one thread walks the results in order
 * and checks what links the lines (seq, prev, seals). The first problem in
 * line order is the one reported, whichever thread saw it.
 */
#include "signgate/audit.h"
#include "signgate/audit_seal.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/util.h"
#include "audit_internal.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_LINES 2048
#define BATCH_BYTES (4 * 1024 * 1024) /* a batch stops growing past this */
#define MAX_THREADS 8
#define MSG_MAX     (WHY_MAX + 64)

/* What the linking pass needs to know of one line. */
struct facts {
	long long seq;
	char prev[HEX_LEN + 1];
	char line_hash[HEX_LEN + 1]; /* SHA-256 of the line's bytes */
	unsigned char rotate;        /* a "rotate" record: may start a file list */
	unsigned char seal;          /* a "seal" record: its seal must exist */
	unsigned char seal_self;     /* ... and that seal covers the record itself */
	long long seal_seq;
	char seal_head[HEX_LEN + 1];
	char seal_signer[HEX_LEN + 1];
};

struct batch {
	char *bytes; /* the lines, copied out of the reader's buffer */
	size_t used, cap;
	size_t off[BATCH_LINES], len[BATCH_LINES];
	size_t n, first_line; /* lines in the batch; the file's line number of the first */
	int torn_last;        /* the last line has no newline */
	struct facts facts[BATCH_LINES];
	size_t bad;                    /* the first line failing its own check; n when none */
	int error;                     /* and its error */
	char msg[MSG_MAX];             /* and why */
	struct sg_audit_hasher hasher; /* this batch's worker's */
};

/* The state of the linking pass, carried from line to line and file to file. */
struct chain {
	const char *const *paths;
	size_t file; /* index of the file being read */
	const sg_audit_seals *seals;
	size_t next_seal; /* the first seal not yet compared */
	unsigned flags;   /* SG_AUDIT_VERIFY_* */
	sg_audit_report *report;
	sg_audit_file_read *read; /* per file, or NULL */
};

static int batch_add(struct batch *b, const char *line, size_t len)
{
	if (b->used + len > b->cap) {
		size_t cap = b->cap ? b->cap : BATCH_BYTES;
		char *grown;

		while (cap < b->used + len)
			cap *= 2;
		grown = realloc(b->bytes, cap);
		if (!grown)
			return sg_error_set(SG_ERR_NOMEM, "out of memory while reading the log");
		b->bytes = grown;
		b->cap = cap;
	}
	memcpy(b->bytes + b->used, line, len);
	b->off[b->n] = b->used;
	b->len[b->n] = len;
	b->used += len;
	b->n++;
	return SG_OK;
}

static int batch_full(const struct batch *b)
{
	return b->n == BATCH_LINES || b->used >= BATCH_BYTES || b->torn_last;
}

/* The fields the linking pass needs; the record is already checked. */
static void take_facts(struct facts *f, json_t *obj)
{
	const char *action = json_string_value(json_object_get(obj, "action"));
	json_t *seal = json_object_get(obj, "seal");
	const char *head = json_string_value(json_object_get(seal, "head"));
	const char *signer = json_string_value(json_object_get(seal, "signer"));
	const char *covers = json_string_value(json_object_get(seal, "covers"));

	f->seq = (long long)json_integer_value(json_object_get(obj, "seq"));
	memcpy(f->prev, json_string_value(json_object_get(obj, "prev")), HEX_LEN + 1);
	f->rotate = action && strcmp(action, "rotate") == 0;
	f->seal = action && strcmp(action, "seal") == 0;
	f->seal_self = covers && strcmp(covers, SG_AUDIT_SEAL_COVERS_SELF) == 0;
	f->seal_seq = json_is_integer(json_object_get(seal, "seq"))
			      ? (long long)json_integer_value(json_object_get(seal, "seq"))
			      : -1;
	snprintf(f->seal_head, sizeof(f->seal_head), "%s", head ? head : "");
	snprintf(f->seal_signer, sizeof(f->seal_signer), "%s", signer ? signer : "");
}

/* Check each line of the batch on its own; stop at the first that fails. */
static void *check_batch(void *arg)
{
	struct batch *b = arg;
	char why[WHY_MAX];
	json_t *obj;

	b->bad = b->n;
	for (size_t i = 0; i < b->n; i++) {
		const char *line = b->bytes + b->off[i];
		int error;

		struct sg_audit_fast fast;

		if (i == b->n - 1 && b->torn_last) {
			error = SG_ERR_TAMPER;
			snprintf(why, sizeof(why), "torn");
		} else if (sg_audit_fast_check(line, b->len[i], &fast, &b->hasher)) {
			struct facts *f = &b->facts[i];

			memset(f, 0, sizeof(*f));
			f->seq = fast.seq;
			memcpy(f->prev, fast.prev, sizeof(f->prev));
			memcpy(f->line_hash, fast.line_hash, sizeof(f->line_hash));
			f->rotate = (unsigned char)fast.rotate;
			continue;
		} else {
			error = sg_audit_check_record(&obj, line, b->len[i], why);
		}
		if (!error) {
			take_facts(&b->facts[i], obj);
			json_decref(obj);
			error = sg_sha256_hex(b->facts[i].line_hash, line, b->len[i]);
		}
		if (error) {
			b->bad = i;
			b->error = error;
			snprintf(b->msg, sizeof(b->msg), "%s",
				 error == SG_ERR_TAMPER ? why : sg_error_last());
			break;
		}
	}
	return NULL;
}

static int tamper_at(struct chain *c, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Report tampering at `line` of the current file. */
static int tamper_at(struct chain *c, size_t line, const char *fmt, ...)
{
	char why[WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	c->report->bad_file = c->file;
	c->report->bad_line = line;
	return sg_error_set(SG_ERR_TAMPER, "%s: line %zu: %s", c->paths[c->file], line, why);
}

/* Is there a seal of (seq, head)? Seals are in seq order. */
static int seal_exists(const sg_audit_seals *s, long long seq, const char *head)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->seals[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->n && s->seals[lo].seq == seq; lo++)
		if (strcmp(s->seals[lo].head, head) == 0)
			return 1;
	return 0;
}

/* A seal of the records before the files given: counted, not checked. */
static void note_unchecked(sg_audit_report *rep, const sg_audit_seal *seal)
{
	if (rep->seals_before++ == 0) {
		rep->before_first_seq = seal->seq;
		rep->before_first_line = seal->line;
	}
	rep->before_last_seq = seal->seq;
	rep->before_last_line = seal->line;
}

/* Compare the seals of every seq up to `seq` (whose line hashes to `head`). */
static int check_seals_upto(struct chain *c, long long seq, const char *head, size_t line)
{
	const sg_audit_seals *s = c->seals;
	sg_audit_report *rep = c->report;

	while (s && c->next_seal < s->n && s->seals[c->next_seal].seq <= seq) {
		const sg_audit_seal *seal = &s->seals[c->next_seal++];

		/*
		 * A file list that starts with a rotate record: the seals of the
		 * records before it cannot be checked. Not even the seal of
		 * first_seq - 1 against the rotate record's prev: anyone can copy
		 * a sealed head out of the seals file into a forged record.
		 */
		if (rep->first_seq > 1 && seal->seq < rep->first_seq) {
			note_unchecked(rep, seal);
			continue;
		}
		if (seal->seq != seq)
			return tamper_at(c, line,
					 "seq %lld was sealed (seals line %zu, %s) but is not in "
					 "the chain",
					 seal->seq, seal->line, seal->time);
		if (strcmp(seal->head, head) != 0)
			return tamper_at(c, line,
					 "the seal of seq %lld (seals line %zu, made %s) does not "
					 "match this line: the record was rewritten after it was "
					 "sealed",
					 seq, seal->line, seal->time);
		rep->seals_checked++;
		rep->offhost_checked += seal->offhost != 0;
		rep->sealed_seq = seal->seq;
		snprintf(rep->sealed_time, sizeof(rep->sealed_time), "%s", seal->time);
	}
	return SG_OK;
}

/* The first record given: seq 1 after 64 zeros, or a rotation's first record. */
static int link_first(struct chain *c, const struct facts *f, size_t line)
{
	if (f->seq == 1 && strcmp(f->prev, sg_audit_zero_hash) == 0)
		return SG_OK;
	if (f->seq == 1)
		return tamper_at(c, line,
				 "prev is not 64 zeros, so this is not the first record of a log "
				 "(the records before it were removed)");
	if (!f->rotate)
		return tamper_at(c, line,
				 "seq is %lld, expected 1 (records were removed or reordered "
				 "before this line)",
				 f->seq);
	return SG_OK; /* it continues a file not given: the link cannot be checked */
}

/*
 * A rotate record after other records: its "previous" must describe the
 * chain before it, and at the start of a file, name the file given before.
 */
static int check_rotate(struct chain *c, const char *text, size_t len, size_t line)
{
	const sg_audit_report *rep = c->report;
	json_t *obj = json_loadb(text, len, 0, NULL);
	json_t *prev = json_object_get(obj, "previous");
	const char *file = json_string_value(json_object_get(prev, "file"));
	const char *head = json_string_value(json_object_get(prev, "head"));
	json_t *last = json_object_get(prev, "last_seq");
	const char *before = line == 1 && c->file > 0 ? sg_path_base(c->paths[c->file - 1]) : NULL;
	int error = SG_OK;

	if (!file || !head || !json_is_integer(last))
		error = tamper_at(c, line,
				  "this rotate record lacks \"previous\" {file, last_seq, head}");
	else if (json_integer_value(last) != rep->last_seq || strcmp(head, rep->head) != 0)
		error = tamper_at(c, line,
				  "this rotate record says the log before it ended at seq %lld "
				  "(head %.16s...), but the chain before it ends at seq %lld (head "
				  "%.16s...)",
				  (long long)json_integer_value(last), head, rep->last_seq,
				  rep->head);
	else if (before && strcmp(file, before) != 0)
		error = tamper_at(c, line,
				  "this rotate record continues the archive %s, but the file "
				  "given before it is %s",
				  file, before);
	json_decref(obj);
	return error;
}

/*
 * A "seal" record made with the seals file's certificate must have its seal.
 * One written before its seal (covers: this record) may lack it after a
 * crash between the two writes: when a later seal covers it, that is a
 * note; when none does, the run was interrupted, reported at the end. One
 * written after its seal (older versions) lacking it is tampering.
 */
static int check_seal_record(struct chain *c, const struct facts *f, size_t line)
{
	const sg_audit_seals *s = c->seals;
	sg_audit_report *rep = c->report;

	if (f->seal) {
		rep->seal_records_seen++;
		rep->last_seal_record_seq = f->seq;
	}
	if (!f->seal || !s || strcmp(s->pinned, f->seal_signer) != 0)
		return SG_OK;
	rep->seal_records++;
	/* A sealing run creates the seals file (and syncs its folder) before its record. */
	if (s->missing && s->n == 0)
		return tamper_at(c, line,
				 "this record says a seal was made, but the seals file does not "
				 "exist: it was deleted (a sealing run creates it before it "
				 "appends its record)");
	if (!f->seal_self && !seal_exists(s, f->seal_seq, f->seal_head))
		return tamper_at(c, line,
				 "this record says seq %lld was sealed, but the seals file holds "
				 "no such seal (the seals file was replaced or cut)",
				 f->seal_seq);
	if (!f->seal_self || seal_exists(s, f->seq, f->line_hash))
		return SG_OK;
	if (s->n > 0 && s->seals[s->n - 1].seq > f->seq) {
		if (rep->unsealed_covered++ == 0)
			rep->unsealed_covered_seq = f->seq;
		return SG_OK;
	}
	if (rep->interrupted++ == 0) {
		rep->interrupted_seq = f->seq;
		rep->interrupted_file = c->file;
		rep->interrupted_line = line;
	}
	return SG_OK;
}

/* Check one line against the one before it (maybe in the previous file). */
static int link_line(struct chain *c, const struct facts *f, const char *text, size_t len,
		     size_t line)
{
	sg_audit_report *rep = c->report;
	long long want = rep->last_seq < LLONG_MAX ? rep->last_seq + 1 : LLONG_MAX;
	int error;

	if (rep->records > 0 && rep->last_seq == LLONG_MAX)
		return tamper_at(c, line,
				 "a record follows seq %lld, the largest seq a record can have",
				 rep->last_seq);
	if (rep->records == 0) {
		error = link_first(c, f, line);
		if (error)
			return error;
		rep->first_seq = f->seq;
		/* Seals of the record before: zeros for seq 1, else the prev we trust. */
		error = check_seals_upto(c, f->seq - 1, f->prev, line);
		if (error)
			return error;
	} else if (f->seq != want && line == 1) {
		return tamper_at(c, line,
				 "seq is %lld, expected %lld to continue %s (files given out of "
				 "order, or records missing between them)",
				 f->seq, want, c->paths[c->file - 1]);
	} else if (f->seq != want) {
		return tamper_at(c, line, "seq is %lld, expected %lld (%s)", f->seq, want,
				 f->seq > want
					 ? "records were removed or reordered before this line"
					 : "a record was duplicated, inserted or reordered");
	} else if (strcmp(f->prev, rep->head) != 0 && line == 1) {
		return tamper_at(c, line,
				 "prev does not match the SHA-256 of the last line of %s (the "
				 "files do not chain: edited, or not given in order)",
				 c->paths[c->file - 1]);
	} else if (strcmp(f->prev, rep->head) != 0) {
		return tamper_at(c, line,
				 "prev does not match the SHA-256 of line %zu (a record was "
				 "edited, removed, inserted or reordered before this line)",
				 line - 1);
	}
	if (f->rotate && rep->records > 0) {
		error = check_rotate(c, text, len, line);
		if (error)
			return error;
	}
	error = check_seals_upto(c, f->seq, f->line_hash, line);
	if (!error)
		error = check_seal_record(c, f, line);
	if (error)
		return error;
	memcpy(rep->head, f->line_hash, sizeof(rep->head));
	rep->last_seq = f->seq;
	rep->records++;
	return SG_OK;
}

/* Link the lines of a checked batch in order; then report its own first failure. */
static int link_batch(struct chain *c, const struct batch *b)
{
	for (size_t i = 0; i < b->bad; i++) {
		int error = link_line(c, &b->facts[i], b->bytes + b->off[i], b->len[i],
				      b->first_line + i);

		if (error)
			return error;
	}
	if (b->bad == b->n)
		return SG_OK;
	c->report->bad_file = c->file;
	c->report->bad_line = b->first_line + b->bad;
	if (b->error != SG_ERR_TAMPER)
		return sg_error_set(b->error, "%s", b->msg);
	if (b->torn_last && b->bad == b->n - 1)
		return sg_error_set(SG_ERR_TAMPER,
				    "%s: line %zu is torn (no final newline); after an interrupted "
				    "write, `signgate audit repair` sets it aside",
				    c->paths[c->file], b->first_line + b->bad);
	return sg_error_set(SG_ERR_TAMPER, "%s: line %zu: %s", c->paths[c->file],
			    b->first_line + b->bad, b->msg);
}

/* Check batches [0, n) on up to n threads, this one included. */
static void check_batches(struct batch *batches, size_t n)
{
	pthread_t tid[MAX_THREADS];
	int started[MAX_THREADS] = { 0 };

	for (size_t i = 1; i < n; i++)
		started[i] = pthread_create(&tid[i], NULL, check_batch, &batches[i]) == 0;
	check_batch(&batches[0]);
	for (size_t i = 1; i < n; i++) {
		if (started[i])
			pthread_join(tid[i], NULL);
		else
			check_batch(&batches[i]); /* no thread to be had: do it here */
	}
}

static size_t thread_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (size_t)n;
}

/*
 * Fill up to `max` batches from the reader. Returns SG_OK with *filled
 * batches (0 at the end of the file), or the reader's error (a line too long,
 * I/O) after the batches read before it.
 */
static int fill_batches(struct batch *batches, size_t max, size_t *filled,
			struct sg_audit_reader *r, int *reader_error)
{
	const char *line;
	size_t len;
	int torn, more = 1, error = SG_OK;

	*filled = 0;
	for (size_t i = 0; i < max && more == 1 && !*reader_error; i++) {
		struct batch *b = &batches[i];

		b->n = b->used = 0;
		b->torn_last = 0;
		b->first_line = r->lineno + 1;
		while (!batch_full(b) &&
		       (more = sg_audit_reader_next(r, &line, &len, &torn)) == 1) {
			error = batch_add(b, line, len);
			if (error)
				return error;
			b->torn_last = torn;
		}
		if (more < 0)
			*reader_error = more;
		if (b->n > 0)
			(*filled)++;
	}
	return SG_OK;
}

static int verify_file(struct chain *c, struct batch *batches, size_t threads)
{
	struct sg_audit_reader r;
	size_t filled;
	int reader_error = SG_OK, error;

	error = sg_audit_reader_open(&r, c->paths[c->file]);
	if (error)
		return error;
	if (c->read)
		error = sg_audit_reader_hash(&r);
	while (!error) {
		error = fill_batches(batches, threads, &filled, &r, &reader_error);
		if (error || filled == 0)
			break;
		check_batches(batches, filled);
		for (size_t i = 0; i < filled && !error; i++)
			error = link_batch(c, &batches[i]);
		if (reader_error)
			break;
	}
	if (!error && reader_error) {
		error = reader_error;
		if (error == SG_ERR_TAMPER) {
			c->report->bad_file = c->file;
			c->report->bad_line = r.lineno;
		}
	}
	/*
	 * What was read, up to where the check stopped: what a report names. A
	 * failure of the digest itself never overwrites the check's own message.
	 */
	if (c->read && r.md) {
		char kept[SG_ERROR_MAX];

		snprintf(kept, sizeof(kept), "%s", sg_error_last());
		if (sg_audit_reader_digest(&r, &c->read[c->file]) != SG_OK && !error)
			error = sg_error_code();
		else if (error)
			sg_error_set(error, "%s", kept);
	}
	sg_audit_reader_close(&r);
	return error;
}

/* After the last file: a seal beyond the last record means records were cut off. */
static int check_seals_beyond(struct chain *c)
{
	const sg_audit_seals *s = c->seals;
	sg_audit_report *rep = c->report;
	const sg_audit_seal *last;

	/* An empty log's seals of seq 0: the zeros are its head. */
	if (rep->records == 0 && check_seals_upto(c, 0, sg_audit_zero_hash, 0))
		return SG_ERR_TAMPER;
	if (c->next_seal == s->n)
		return SG_OK;
	last = &s->seals[s->n - 1];
	rep->bad_file = c->file;
	rep->bad_line = 0;
	return sg_error_set(
		SG_ERR_TAMPER,
		"%s: the chain ends at seq %lld, but seq %lld was sealed on %s (%s line "
		"%zu): records were cut off the end of the log%s",
		c->paths[c->file], rep->last_seq, last->seq, last->time,
		last->offhost ? "off-host copy" : "seals", last->line,
		last->offhost ? ", and the seals file was cut back with it"
			      : ", or newer files were not given");
}

/* A seal of the off-host copy that the seals file lacks: seals were deleted from it. */
static int check_offhost_only(struct chain *c)
{
	const sg_audit_seals *s = c->seals;

	for (size_t i = 0; i < s->n; i++) {
		const sg_audit_seal *seal = &s->seals[i];

		if (!seal->offhost)
			continue;
		c->report->bad_file = c->file;
		c->report->bad_line = 0;
		return sg_error_set(SG_ERR_TAMPER,
				    "seq %lld was sealed on %s (off-host copy line %zu), but the "
				    "seals file lacks that seal: seals were deleted from it, or it "
				    "was replaced by an older copy",
				    seal->seq, seal->time, seal->line);
	}
	return SG_OK;
}

/*
 * Seals of records before the files given cannot be checked: a log that
 * starts with a forged rotate record would otherwise pass with the genuine
 * seals file. Unless a partial check was asked for, that fails; even then,
 * some seal must pin the files given.
 */
static int check_unchecked(struct chain *c)
{
	sg_audit_report *rep = c->report;

	if (rep->seals_before == 0)
		return SG_OK;
	rep->bad_file = 0;
	rep->bad_line = 0;
	if (!(c->flags & SG_AUDIT_VERIFY_PARTIAL))
		return sg_error_set(
			SG_ERR_TAMPER,
			"%s: it starts at seq %lld with a rotate record, and %zu seals "
			"(seals lines %zu-%zu, seq %lld-%lld) cover records before it: "
			"they cannot be checked without the archives it continues; give "
			"them first with --log (oldest first), or ask for --partial",
			c->paths[0], rep->first_seq, rep->seals_before, rep->before_first_line,
			rep->before_last_line, rep->before_first_seq, rep->before_last_seq);
	if (rep->seals_checked == 0)
		return sg_error_set(
			SG_ERR_TAMPER,
			"%s: no seal falls within the files given: all %zu seals (seals "
			"lines %zu-%zu, seq %lld-%lld) cover records before their first, "
			"seq %lld, and none was checked: nothing ties these files to the "
			"sealed log, even partially; give the archives, or seal the log",
			c->paths[0], rep->seals_before, rep->before_first_line,
			rep->before_last_line, rep->before_first_seq, rep->before_last_seq,
			rep->first_seq);
	return SG_OK;
}

/* Seal records after the newest seal without their own seal: a sealing run stopped. */
static int check_interrupted(struct chain *c)
{
	sg_audit_report *rep = c->report;

	if (rep->interrupted == 0)
		return SG_OK;
	rep->bad_file = rep->interrupted_file;
	rep->bad_line = rep->interrupted_line;
	return sg_error_set(SG_ERR_TAMPER,
			    "%s: line %zu: interrupted seal: seal record seq %lld has no seal (%zu "
			    "such record%s after the newest seal): the sealing run stopped before "
			    "writing it; run `signgate audit seal` again, whose seal covers it. A "
			    "seal deleted afterwards looks the same here: compare with the "
			    "forwarded seals (`audit verify --against`)",
			    c->paths[rep->interrupted_file], rep->interrupted_line,
			    rep->interrupted_seq, rep->interrupted,
			    rep->interrupted == 1 ? "" : "s");
}

/* After the last file: what the seals say of the files as a whole. */
static int check_seals_end(struct chain *c)
{
	int error;

	c->file--; /* the last file given: what the messages name */
	if (!c->seals)
		return SG_OK;
	error = check_seals_beyond(c);
	if (!error)
		error = check_offhost_only(c);
	if (!error)
		error = check_unchecked(c);
	if (!error)
		error = check_interrupted(c);
	return error;
}

int sg_audit_verify_files(const char *const *paths, size_t n, const struct sg_audit_seals *seals,
			  unsigned flags, sg_audit_report *out)
{
	return sg_audit_verify_files_read(paths, n, seals, flags, out, NULL);
}

int sg_audit_verify_files_read(const char *const *paths, size_t n,
			       const struct sg_audit_seals *seals, unsigned flags,
			       sg_audit_report *out, sg_audit_file_read *read)
{
	sg_audit_report unused;
	struct chain c = { paths, 0, seals, 0, flags, out ? out : &unused, read };
	size_t threads = thread_count();
	struct batch *batches;
	EVP_MD *sha256;
	int error = SG_OK;

	memset(c.report, 0, sizeof(*c.report));
	if (read)
		memset(read, 0, n * sizeof(*read));
	memcpy(c.report->head, sg_audit_zero_hash, sizeof(sg_audit_zero_hash));
	if (n == 0)
		return sg_error_set(SG_ERR_USAGE, "no audit log to verify");
	batches = calloc(threads, sizeof(*batches));
	if (!batches)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	for (size_t i = 0; i < threads; i++) {
		batches[i].hasher.sha256 = sha256;
		batches[i].hasher.a = EVP_MD_CTX_new();
		batches[i].hasher.b = EVP_MD_CTX_new();
		if (!sha256 || !batches[i].hasher.a || !batches[i].hasher.b)
			error = sg_error_set(SG_ERR_CRYPTO, "cannot set up SHA-256");
	}
	json_object_seed(0); /* once, before the threads parse */
	for (c.file = 0; c.file < n && !error; c.file++)
		error = verify_file(&c, batches, threads);
	if (!error)
		error = check_seals_end(&c);
	for (size_t i = 0; i < threads; i++) {
		EVP_MD_CTX_free(batches[i].hasher.a);
		EVP_MD_CTX_free(batches[i].hasher.b);
		free(batches[i].bytes);
	}
	EVP_MD_free(sha256);
	free(batches);
	return error;
}

int sg_audit_verify(const char *path, sg_audit_report *out)
{
	return sg_audit_verify_files(&path, 1, NULL, 0, out);
}

/*
 * What each signed file was signed from, by the audit log; see
 * include/signgate/audit_signings.h. One pass over the log and the archives
 * it continues, with the log reader of lib/audit_read.c and the line checks
 * of `audit verify` (lib/audit_fast.c, then sg_audit_check_record()).
 */
#include "signgate/audit_signings.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/util.h"
#include "audit_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* What a missing archive means here. */
#define GAP_TAIL ": what was signed before that is not known here"

struct sg_audit_signings {
	char *log;
	pthread_mutex_t mu;
	int built;
	int error; /* the build's result, returned by every lookup */
	char message[SG_ERROR_MAX]; /* a copy of sg_error_last(): whole */
	char gap[SG_ERROR_MAX];     /* names the log or two archives: user paths */
	sg_audit_signing *v; /* sorted by output, then seq */
	size_t n, cap;
};

/* What the pass carries from line to line and file to file. */
struct pass {
	sg_audit_signings *m;
	struct sg_audit_hasher h;
	const char *path;
	size_t records;
	long long last_seq;
	char head[HEX_LEN + 1];
};

int sg_audit_signings_new(sg_audit_signings **out, const char *log_path)
{
	sg_audit_signings *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m || !(m->log = strdup(log_path))) {
		free(m);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	pthread_mutex_init(&m->mu, NULL);
	*out = m;
	return SG_OK;
}

static void signing_clear(sg_audit_signing *s)
{
	free(s->input_sha512);
	free(s->input_name);
	free(s->approval_id);
}

void sg_audit_signings_free(sg_audit_signings *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		signing_clear(&m->v[i]);
	pthread_mutex_destroy(&m->mu);
	free(m->v);
	free(m->log);
	free(m);
}

static int lower_hex(const char *s, size_t len)
{
	return s && strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int is(const json_t *rec, const char *key, const char *value)
{
	const char *s = json_string_value(json_object_get(rec, key));

	return s && strcmp(s, value) == 0;
}

static sg_audit_signing *grow(sg_audit_signings *m)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		sg_audit_signing *grown = realloc(m->v, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		m->v = grown;
		m->cap = cap;
	}
	return &m->v[m->n++];
}

/*
 * A "timestamp" record that says "timestamped" (signgate timestamp,
 * restamp.h): its output is the same signature over the same content as its
 * input, so it was made from what the input was made from. The newest
 * signing entry of the input (earlier in the log: the map is not sorted yet)
 * is copied under the output's digest; an input the log never signed adds
 * nothing.
 */
static int add_timestamping(sg_audit_signings *m, const char *o256, const char *i256)
{
	const sg_audit_signing *from = NULL;
	sg_audit_signing *s;
	size_t i;

	for (i = m->n; i-- > 0 && !from;)
		if (strcmp(m->v[i].output_sha256, i256) == 0)
			from = &m->v[i];
	if (!from)
		return SG_OK;
	i = (size_t)(from - m->v);
	if (!(s = grow(m)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	from = &m->v[i]; /* grow() may have moved it */
	*s = *from;
	memcpy(s->output_sha256, o256, sizeof(s->output_sha256));
	memcpy(s->stamped_from, i256, sizeof(s->stamped_from));
	s->input_sha512 = dup_or_null(from->input_sha512);
	s->input_name = dup_or_null(from->input_name);
	s->approval_id = dup_or_null(from->approval_id);
	if ((from->input_sha512 && !s->input_sha512) || (from->input_name && !s->input_name) ||
	    (from->approval_id && !s->approval_id))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	return SG_OK;
}

/* A "sign" record that says "signed": what its output was made from. */
static int add_signing(sg_audit_signings *m, const json_t *rec)
{
	const json_t *in = json_object_get(rec, "input"), *out = json_object_get(rec, "output");
	const char *o256 = json_string_value(json_object_get(out, "sha256"));
	const char *i256 = json_string_value(json_object_get(in, "sha256"));
	const char *i512 = json_string_value(json_object_get(in, "sha512"));
	sg_audit_signing *s;

	if (!lower_hex(o256, HEX_LEN) || !lower_hex(i256, HEX_LEN))
		return SG_OK;
	if (is(rec, "action", "timestamp") && is(rec, "decision", "timestamped"))
		return add_timestamping(m, o256, i256);
	if (!is(rec, "action", "sign") || !is(rec, "decision", "signed"))
		return SG_OK;
	if (!(s = grow(m)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	memset(s, 0, sizeof(*s));
	memcpy(s->output_sha256, o256, sizeof(s->output_sha256));
	memcpy(s->input_sha256, i256, sizeof(s->input_sha256));
	s->input_sha512 = dup_or_null(lower_hex(i512, 2 * SG_SHA512_LEN) ? i512 : NULL);
	s->input_name = dup_or_null(json_string_value(json_object_get(in, "name")));
	s->approval_id = dup_or_null(
		json_string_value(json_object_get(json_object_get(rec, "approval"), "id")));
	if ((lower_hex(i512, 2 * SG_SHA512_LEN) && !s->input_sha512) ||
	    (json_is_string(json_object_get(in, "name")) && !s->input_name) ||
	    (json_is_string(json_object_get(json_object_get(rec, "approval"), "id")) &&
	     !s->approval_id))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	s->signed_before = json_is_true(json_object_get(in, "signed_before"));
	s->seq = (long long)json_integer_value(json_object_get(rec, "seq"));
	snprintf(s->id, sizeof(s->id), "%s", json_string_value(json_object_get(rec, "id")));
	snprintf(s->time, sizeof(s->time), "%s", json_string_value(json_object_get(rec, "time")));
	return SG_OK;
}

/*
 * Every line passed the canonical check, so a signing record holds these
 * bytes literally; other lines are not parsed.
 */
static int maybe_signing(const char *line, size_t len)
{
	static const char a[] = "\"action\":\"sign\"", d[] = "\"decision\":\"signed\"";
	static const char ta[] = "\"action\":\"timestamp\"", td[] = "\"decision\":\"timestamped\"";

	return (memmem(line, len, a, sizeof(a) - 1) && memmem(line, len, d, sizeof(d) - 1)) ||
	       (memmem(line, len, ta, sizeof(ta) - 1) && memmem(line, len, td, sizeof(td) - 1));
}

static int link_line(struct pass *p, long long seq, const char *prev, int rotate, size_t lineno)
{
	if (p->records == 0) {
		if ((seq == 1 && strcmp(prev, sg_audit_zero_hash) == 0) || (rotate && p->m->gap[0]))
			return SG_OK;
		return sg_error_set(
			SG_ERR_TAMPER,
			"%s: line %zu: seq %lld is not the start of a log (records were "
			"removed before it); run signgate audit verify",
			p->path, lineno, seq);
	}
	/* No record can follow seq LLONG_MAX: checked first, +1 would overflow. */
	if (p->last_seq == LLONG_MAX || seq != p->last_seq + 1 || strcmp(prev, p->head) != 0)
		return sg_error_set(SG_ERR_TAMPER,
				    "%s: line %zu: does not follow the record before it (seq %lld "
				    "after %lld, or prev differs): records were removed, inserted, "
				    "reordered or edited; run signgate audit verify",
				    p->path, lineno, seq, p->last_seq);
	return SG_OK;
}

/* Check one line on its own and against the one before; keep it if it is a signing. */
static int take_line(struct pass *p, const char *line, size_t len, size_t lineno)
{
	struct sg_audit_fast fast;
	char why[WHY_MAX], hash[HEX_LEN + 1];
	json_t *obj = NULL;
	int error = SG_OK;

	if (sg_audit_fast_check(line, len, &fast, &p->h)) {
		memcpy(hash, fast.line_hash, sizeof(hash));
		error = link_line(p, fast.seq, fast.prev, fast.rotate, lineno);
	} else {
		const char *action;

		error = sg_audit_check_record(&obj, line, len, why);
		if (error == SG_ERR_TAMPER)
			return sg_error_set(SG_ERR_TAMPER, "%s: line %zu: %s", p->path, lineno,
					    why);
		if (error)
			return error;
		action = json_string_value(json_object_get(obj, "action"));
		fast.seq = (long long)json_integer_value(json_object_get(obj, "seq"));
		error = sg_sha256_hex(hash, line, len);
		if (!error)
			error = link_line(p, fast.seq,
					  json_string_value(json_object_get(obj, "prev")),
					  action && strcmp(action, "rotate") == 0, lineno);
	}
	if (!error && maybe_signing(line, len)) {
		if (!obj && !(obj = json_loadb(line, len, 0, NULL)))
			error = sg_error_set(SG_ERR_NOMEM, "%s: line %zu: cannot parse", p->path,
					     lineno);
		if (!error)
			error = add_signing(p->m, obj);
	}
	json_decref(obj);
	if (error)
		return error;
	memcpy(p->head, hash, sizeof(p->head));
	p->last_seq = fast.seq;
	p->records++;
	return SG_OK;
}

static int take(const char *line, size_t len, size_t lineno, void *arg)
{
	return take_line(arg, line, len, lineno);
}

static int read_file(struct pass *p, const char *path)
{
	size_t lineno;

	p->path = path;
	return sg_audit_walk(path, take, p, &lineno);
}

static int cmp_signing(const void *a, const void *b)
{
	const sg_audit_signing *x = a, *y = b;
	int c = strcmp(x->output_sha256, y->output_sha256);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sort by output; the newest of each output notes whether an older one names other bytes. */
static void index_signings(sg_audit_signings *m)
{
	if (m->n == 0) /* qsort() of NULL, even of 0 elements, is undefined */
		return;
	qsort(m->v, m->n, sizeof(*m->v), cmp_signing);
	for (size_t i = 1; i < m->n; i++)
		if (strcmp(m->v[i - 1].output_sha256, m->v[i].output_sha256) == 0)
			m->v[i].conflict =
				m->v[i - 1].conflict ||
				strcmp(m->v[i - 1].input_sha256, m->v[i].input_sha256) != 0;
}

static int build(sg_audit_signings *m)
{
	struct pass p = { .m = m };
	char **files = NULL;
	size_t n = 0;
	int error;

	struct stat st;

	if (stat(m->log, &st) != 0 && errno == ENOENT) {
		snprintf(m->gap, sizeof(m->gap), "there is no audit log at %s", m->log);
		return SG_OK;
	}
	error = sg_audit_chain_files(m->log, &files, &n, m->gap, sizeof(m->gap));
	if (!error && m->gap[0] &&
	    strlen(m->gap) + sizeof(GAP_TAIL) <= sizeof(m->gap)) /* the rest is room enough */
		memcpy(m->gap + strlen(m->gap), GAP_TAIL, sizeof(GAP_TAIL));
	p.h.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	p.h.a = EVP_MD_CTX_new();
	p.h.b = EVP_MD_CTX_new();
	if (!error && (!p.h.sha256 || !p.h.a || !p.h.b))
		error = sg_error_set(SG_ERR_CRYPTO, "cannot set up SHA-256");
	for (size_t i = 0; i < n && !error; i++)
		error = read_file(&p, files[i]);
	sg_audit_chain_files_free(files, n);
	EVP_MD_CTX_free(p.h.a);
	EVP_MD_CTX_free(p.h.b);
	EVP_MD_free(p.h.sha256);
	if (!error)
		index_signings(m);
	return error;
}

/* Drop what a failed build found. */
static void forget(sg_audit_signings *m)
{
	for (size_t i = 0; i < m->n; i++)
		signing_clear(&m->v[i]);
	m->n = 0;
	m->gap[0] = '\0';
}

int sg_audit_signings_find(sg_audit_signings *m, const char *output_sha256,
			   const sg_audit_signing **out, char *gap, size_t gap_size)
{
	char key[HEX_LEN + 1];
	size_t lo = 0, hi;

	*out = NULL;
	pthread_mutex_lock(&m->mu);
	if (!m->built) {
		m->error = build(m);
		/* A rotation between listing the files and reading them breaks a link: once more.
		 */
		if (m->error == SG_ERR_TAMPER) {
			forget(m);
			m->error = build(m);
		}
		if (m->error)
			snprintf(m->message, sizeof(m->message), "%s", sg_error_last());
		m->built = 1;
	}
	pthread_mutex_unlock(&m->mu);
	if (m->error)
		return sg_error_set(m->error, "%s", m->message);
	if (gap_size)
		snprintf(gap, gap_size, "%s", m->gap);
	if (strlen(output_sha256) != HEX_LEN)
		return SG_OK;
	for (size_t i = 0; i <= HEX_LEN; i++)
		key[i] = (char)tolower((unsigned char)output_sha256[i]);
	/* The last (newest) record of this output. */
	for (hi = m->n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(m->v[mid].output_sha256, key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && strcmp(m->v[lo - 1].output_sha256, key) == 0)
		*out = &m->v[lo - 1];
	return SG_OK;
}

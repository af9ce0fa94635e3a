/*
 * Unit tests of the audit log's seals: seals made with EC keys generated
 * here, loaded back, and every kind of damage the loader must name (file,
 * line, reason); seals refused for a cut log, a shared code-signing key, a
 * mismatched or unprotected key, a wrong password.
 */
#include "signgate/audit.h"
#include "signgate/audit_seal.h"
#include "signgate/config.h"
#include "signgate/error.h"
#include "signgate/hash.h"

#include "check.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define MAX_LINES 16

static char dir[] = "/tmp/test_audit_seal.XXXXXX";

static const char *tmp_path(const char *name)
{
	return check_path(dir, name);
}

static void die(const char *what)
{
	fprintf(stderr, "test setup failed: %s (%s)\n", what, sg_error_last());
	exit(2);
}

static void write_bio(const char *path, BIO *bio, mode_t mode)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);

	check_write_file(path, data, (size_t)n, mode);
	BIO_free(bio);
}

/* An EC P-256 key NAME.key (encrypted with `pass` when given) and a self-signed NAME.pem. */
static void make_identity(const char *name, const char *pass)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *subj = X509_NAME_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	char path[256];

	if (!key || !x || !subj || !kb || !cb ||
	    !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)name, -1,
					-1, 0) ||
	    !X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    !X509_set_subject_name(x, subj) || !X509_set_issuer_name(x, subj) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -60) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 86400) || !X509_set_pubkey(x, key) ||
	    !X509_sign(x, key, EVP_sha256()) ||
	    !PEM_write_bio_PrivateKey(kb, key, pass ? EVP_aes_256_cbc() : NULL, NULL, 0, NULL,
				      (void *)pass) ||
	    !PEM_write_bio_X509(cb, x))
		die(name);
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	write_bio(path, kb, 0600);
	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	write_bio(path, cb, 0644);
	X509_NAME_free(subj);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* A config in the test folder with `seal` as the body of "audit_seal". */
static sg_config *config(const char *name, const char *log, const char *seal, const char *signing)
{
	char json[2048], path[256];
	sg_config *cfg = NULL;

	snprintf(json, sizeof(json),
		 "{ \"policy\": \"policy/\", \"audit_log\": \"%s\", "
		 "\"trust\": { \"ca_file\": \"root.pem\" }%s%s%s, \"audit_seal\": { %s } }",
		 log, signing ? ", \"signing\": { " : "", signing ? signing : "",
		 signing ? " }" : "", seal);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	check_write_file(path, json, strlen(json), 0600);
	if (sg_config_load(&cfg, path) != SG_OK)
		die(path);
	return cfg;
}

static int append_event(const char *path, int n)
{
	json_t *rec = json_pack("{s:s, s:i}", "event", "test", "n", n);
	int rc = sg_audit_append(path, rec, NULL);

	json_decref(rec);
	return rc;
}

/* SHA-256 hex of line `n` (1-based) of `path`. */
static void line_hash(char out[65], const char *path, size_t n)
{
	char *lines[MAX_LINES];
	size_t count = check_read_lines(path, lines, MAX_LINES);

	CHECK(n >= 1 && n <= count);
	if (n >= 1 && n <= count)
		sg_sha256_hex(out, lines[n - 1], strlen(lines[n - 1]));
	check_free_lines(lines, count);
}

/* The thumbprint the loader pins: SHA-256 of the certificate's DER. */
static void thumbprint(char out[65], const char *pem)
{
	FILE *f = fopen(pem, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	unsigned char md[32];
	unsigned int len = 0;

	if (!x || !X509_digest(x, EVP_sha256(), md, &len))
		die(pem);
	sg_hex_encode(out, md, sizeof(md));
	X509_free(x);
	fclose(f);
}

/* `s` holds the size and SHA-256 of the whole file at `path`. */
static void expect_digest(const sg_audit_seals *s, const char *path)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	char hex[65] = "";

	CHECK_INT(sg_read_file(&buf, &len, path, 64 << 20, "test", 0), SG_OK);
	if (buf)
		sg_sha256_hex(hex, buf, len);
	free(buf);
	CHECK_INT(s->bytes, len);
	CHECK_STR(s->sha256, hex);
}

static void expect_tamper(const char *what, const char *path, size_t line, const char *msg)
{
	sg_audit_seals s = { 0 };
	char where[64];

	sg_error_clear();
	CHECK_INT(sg_audit_seals_load(&s, path, tmp_path("seal.pem")), SG_ERR_TAMPER);
	CHECK_INT(s.n, 0);
	expect_digest(&s, path); /* the bytes found wanting, as read: what a report names */
	snprintf(where, sizeof(where), "line %zu: ", line);
	CHECK_CONTAINS(sg_error_last(), path);
	CHECK_CONTAINS(sg_error_last(), where);
	CHECK_CONTAINS(sg_error_last(), msg);
	if (!strstr(sg_error_last(), msg))
		fprintf(stderr, "  (case: %s)\n", what);
	sg_audit_seals_free(&s);
}

/* Replace character `at` of line `i` with another of the same class. */
/* Replace character `at` of line `i` with another of the same class (digit, hex, letter). */
static void flip(char *lines[], size_t i, size_t at)
{
	char c = lines[i][at];

	if (c >= '0' && c <= '9')
		c = (char)('0' + (c - '0' + 1) % 10);
	else if (c >= 'a' && c <= 'e')
		c++;
	else if (c >= 'A' && c <= 'Y')
		c++;
	else
		c = c == 'f' ? '0' : 'A';
	lines[i][at] = c;
}

/* Offset of the value of "key" in a seal line. */
static size_t value_at(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	CHECK(p != NULL);
	return p ? (size_t)(p - line) + strlen(pat) + (p[strlen(pat)] == '"') : 0;
}

static void test_missing_and_empty_log(const sg_config *cfg)
{
	sg_audit_seals s = { .missing = 7 };
	sg_audit_seal seal;
	struct stat st;

	CHECK_INT(sg_audit_seals_load(&s, cfg->seal_file, cfg->seal_cert), SG_OK);
	CHECK_INT(s.missing, 1);
	CHECK_INT(s.n, 0);
	sg_audit_seals_free(&s);

	/* No log at all: nothing to seal yet, and nothing is written. */
	sg_error_clear();
	CHECK_INT(sg_audit_seal_create(cfg, &seal), SG_OK);
	CHECK_INT(seal.line, 0);
	CHECK(access(cfg->seal_file, F_OK) != 0); /* no seals file was made */
	CHECK(access(cfg->audit_log, F_OK) != 0); /* nor a log */

	/* An empty log: the same, and the log stays empty. */
	check_write_file(cfg->audit_log, "", 0, 0600);
	CHECK_INT(sg_audit_seal_create(cfg, &seal), SG_OK);
	CHECK_INT(seal.line, 0);
	CHECK_INT(seal.seq, 0);
	CHECK(access(cfg->seal_file, F_OK) != 0);
	CHECK(stat(cfg->audit_log, &st) == 0 && st.st_size == 0);
}

/*
 * Three records, then two seals: each run appends its seal record first and
 * seals it, so the seals cover seq 4 and seq 5, the seal records themselves.
 */
static void test_seal_and_load(const sg_config *cfg)
{
	sg_audit_seals s = { 0 };
	sg_audit_seal seal;
	char head[65], head4[65], thumb[65];
	struct stat st;
	json_t *last, *sealobj;
	char *lines[MAX_LINES];
	size_t n;

	for (int i = 0; i < 3; i++)
		CHECK_INT(append_event(cfg->audit_log, i), SG_OK);
	CHECK_INT(sg_audit_seal_create(cfg, &seal), SG_OK);
	line_hash(head4, cfg->audit_log, 4);
	CHECK_INT(seal.seq, 4);
	CHECK_STR(seal.head, head4);
	CHECK_INT(seal.line, 1);
	CHECK_INT(sg_audit_seal_create(cfg, &seal), SG_OK);
	line_hash(head, cfg->audit_log, 5);
	thumbprint(thumb, cfg->seal_cert);
	CHECK_INT(seal.seq, 5);
	CHECK_STR(seal.head, head);
	CHECK_STR(seal.signer, thumb);
	CHECK_INT(seal.line, 2);
	CHECK_INT(strlen(seal.time), 20);
	CHECK(stat(cfg->seal_file, &st) == 0 && (st.st_mode & 0777) == 0600);

	CHECK_INT(sg_audit_seals_load(&s, cfg->seal_file, cfg->seal_cert), SG_OK);
	CHECK_INT(s.missing, 0);
	CHECK_INT(s.n, 2);
	if (s.n == 2) {
		CHECK_INT(s.seals[0].seq, 4);
		CHECK_STR(s.seals[0].head, head4);
		CHECK_INT(s.seals[0].line, 1);
		CHECK_INT(s.seals[1].seq, 5);
		CHECK_STR(s.seals[1].head, head);
		CHECK_STR(s.seals[1].time, seal.time);
		CHECK_STR(s.seals[1].signer, thumb);
		CHECK_INT(s.seals[1].line, 2);
	}
	sg_audit_seals_free(&s);
	sg_audit_seals_free(NULL);

	/* The sealed line is the seal record: it names no head, it is covered. */
	n = check_read_lines(cfg->audit_log, lines, MAX_LINES);
	CHECK_INT(n, 5);
	last = n == 5 ? json_loads(lines[4], 0, NULL) : NULL;
	sealobj = json_object_get(last, "seal");
	CHECK_STR(json_string_value(json_object_get(last, "action")), "seal");
	CHECK_STR(json_string_value(json_object_get(last, "decision")), "sealed");
	CHECK_STR(json_string_value(json_object_get(sealobj, "covers")), "this record");
	CHECK(json_object_get(sealobj, "seq") == NULL && json_object_get(sealobj, "head") == NULL);
	CHECK_STR(json_string_value(json_object_get(sealobj, "file")), cfg->seal_file);
	CHECK_STR(json_string_value(json_object_get(sealobj, "signer")), thumb);
	json_decref(last);
	check_free_lines(lines, n);
	/* The seal line itself: canonical members, in sorted order. */
	n = check_read_lines(cfg->seal_file, lines, MAX_LINES);
	CHECK_INT(n, 2);
	CHECK(n == 2 && strncmp(lines[1], "{\"head\":\"", 9) == 0);
	CHECK_CONTAINS(n == 2 ? lines[1] : "", "\"log\":\"log.jsonl\",\"seq\":5,\"signature\":\"");
	CHECK_CONTAINS(n == 2 ? lines[1] : "", "\"type\":\"signgate-audit-seal\",\"version\":1}");
	check_free_lines(lines, n);
}

typedef void (*edit_fn)(char *l[], size_t *n, int *torn);

static void edit_head(char *l[], size_t *n, int *torn)
{
	(void)n, (void)torn;
	flip(l, 1, value_at(l[1], "head") + 10);
}

static void edit_seq(char *l[], size_t *n, int *torn)
{
	(void)n, (void)torn;
	l[1][value_at(l[1], "seq")] = '7';
}

static void edit_time(char *l[], size_t *n, int *torn)
{
	(void)n, (void)torn;
	flip(l, 1, value_at(l[1], "time") + 3);
}

static void edit_log(char *l[], size_t *n, int *torn)
{
	(void)n, (void)torn;
	l[1][value_at(l[1], "log")] = 'L';
}

/* A character near the end of the base64: the signature value itself. */
static void edit_signature(char *l[], size_t *n, int *torn)
{
	size_t at = value_at(l[1], "signature");
	const char *end = strchr(l[1] + at, '"');

	(void)n, (void)torn;
	flip(l, 1, (size_t)(end - l[1]) - 8);
}

static void non_canonical(char *l[], size_t *n, int *torn)
{
	char *spaced = malloc(strlen(l[1]) + 2);

	(void)n, (void)torn;
	sprintf(spaced, "{ %s", l[1] + 1);
	free(l[1]);
	l[1] = spaced;
}

static void unknown_member(char *l[], size_t *n, int *torn)
{
	char *more = malloc(strlen(l[1]) + 16);

	(void)n, (void)torn;
	sprintf(more, "{\"a\":1,%s", l[1] + 1);
	free(l[1]);
	l[1] = more;
}

static void swap(char *l[], size_t *n, int *torn)
{
	char *t = l[0];

	(void)n, (void)torn;
	l[0] = l[1];
	l[1] = t;
}

static void tear(char *l[], size_t *n, int *torn)
{
	(void)n;
	l[1][strlen(l[1]) / 2] = '\0';
	*torn = 1;
}

static void no_newline(char *l[], size_t *n, int *torn)
{
	(void)l, (void)n;
	*torn = 1;
}

static void garbage(char *l[], size_t *n, int *torn)
{
	(void)torn;
	l[(*n)++] = strdup("not json");
}

static void tamper_case(const sg_config *cfg, const char *what, edit_fn edit, size_t line,
			const char *msg)
{
	char *l[MAX_LINES];
	size_t n = check_read_lines(cfg->seal_file, l, MAX_LINES);
	const char *path = tmp_path("tampered.seals");
	int torn = 0;

	edit(l, &n, &torn);
	check_write_lines(path, l, n, torn);
	expect_tamper(what, path, line, msg);
	check_free_lines(l, n);
}

static void test_tampering(const sg_config *cfg)
{
	tamper_case(cfg, "head", edit_head, 2, "bad signature");
	tamper_case(cfg, "seq", edit_seq, 2, "bad signature");
	tamper_case(cfg, "time", edit_time, 2, "bad signature");
	tamper_case(cfg, "log", edit_log, 2, "bad signature");
	tamper_case(cfg, "signature", edit_signature, 2, "bad signature");
	tamper_case(cfg, "non-canonical", non_canonical, 2, "not in the canonical form");
	tamper_case(cfg, "unknown member", unknown_member, 2, "unexpected member \"a\"");
	tamper_case(cfg, "backwards", swap, 2, "seq 4 goes backwards (line 1 sealed seq 5)");
	tamper_case(cfg, "torn", tear, 2, "torn");
	tamper_case(cfg, "no newline", no_newline, 2, "torn");
	tamper_case(cfg, "garbage", garbage, 3, "not a JSON object");
}

/*
 * Seals by another key: one made with cfg2 (another certificate) appended
 * as it is, and one whose "signer" was edited to the pinned thumbprint.
 */
static void test_other_key(const sg_config *cfg, const sg_config *cfg2)
{
	char *l[MAX_LINES], *other[MAX_LINES], thumb[65], thumb2[65];
	size_t n, n2;
	sg_audit_seal seal;
	const char *path = tmp_path("mixed.seals");

	CHECK_INT(append_event(cfg2->audit_log, 9), SG_OK);
	CHECK_INT(sg_audit_seal_create(cfg2, &seal), SG_OK);
	n = check_read_lines(cfg->seal_file, l, MAX_LINES);
	n2 = check_read_lines(cfg2->seal_file, other, MAX_LINES);
	CHECK_INT(n2, 1);
	l[n++] = strdup(other[0]);
	check_write_lines(path, l, n, 0);
	expect_tamper("other key", path, 3, "signed by another certificate");

	thumbprint(thumb, cfg->seal_cert);
	thumbprint(thumb2, cfg2->seal_cert);
	memcpy(strstr(l[n - 1], thumb2), thumb, 64);
	check_write_lines(path, l, n, 0);
	expect_tamper("signer edited", path, 3, "bad signature");
	check_free_lines(l, n);
	check_free_lines(other, n2);
}

/* Two logs at the same seq with different heads: one seq, two heads. */
static void test_same_seq_other_head(const sg_config *cfg)
{
	sg_config *a = config("a.json", "a/log.jsonl",
			      "\"key\": \"seal.key\", \"cert\": \"seal.pem\"", NULL);
	sg_config *b = config("b.json", "b/log.jsonl",
			      "\"key\": \"seal.key\", \"cert\": \"seal.pem\"", NULL);
	char *la[MAX_LINES], *lb[MAX_LINES];
	sg_audit_seal seal;
	size_t na, nb;

	(void)cfg;
	CHECK_INT(append_event(a->audit_log, 1), SG_OK);
	CHECK_INT(append_event(b->audit_log, 2), SG_OK);
	CHECK_INT(sg_audit_seal_create(a, &seal), SG_OK);
	CHECK_INT(seal.seq, 2);
	CHECK_INT(sg_audit_seal_create(b, &seal), SG_OK);
	CHECK_INT(seal.seq, 2);
	na = check_read_lines(a->seal_file, la, MAX_LINES);
	nb = check_read_lines(b->seal_file, lb, MAX_LINES);
	CHECK(na == 1 && nb == 1);
	la[na++] = strdup(lb[0]);
	check_write_lines(tmp_path("two-heads.seals"), la, na, 0);
	expect_tamper("same seq", tmp_path("two-heads.seals"), 2,
		      "seals seq 2 with a different head than line 1");

	/* Each run seals its own record: the next seal is of seq 3. */
	CHECK_INT(sg_audit_seal_create(a, &seal), SG_OK);
	CHECK_INT(seal.seq, 3);
	check_free_lines(la, na);
	check_free_lines(lb, nb);
	sg_config_free(a);
	sg_config_free(b);
}

/*
 * A log cut behind its last seal is not sealed again: cut to seq 3, or to
 * seq 4 (the newest seal's own record dropped), or emptied.
 */
static void expect_cut(const sg_config *cfg, char *l[], size_t keep, const char *msg)
{
	sg_audit_seal seal;
	struct stat before, after;

	stat(cfg->seal_file, &before);
	check_write_lines(cfg->audit_log, l, keep, 0);
	sg_error_clear();
	CHECK_INT(sg_audit_seal_create(cfg, &seal), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(), msg);
	stat(cfg->seal_file, &after);
	CHECK_INT(after.st_size, before.st_size);
}

static void test_cut_log(const sg_config *cfg)
{
	char *l[MAX_LINES];
	size_t n = check_read_lines(cfg->audit_log, l, MAX_LINES);

	CHECK(n == 5);
	expect_cut(cfg, l, 3, "the log ends at seq 3, but line 2 of");
	CHECK_CONTAINS(sg_error_last(), "sealed seq 5: records were cut off the log");
	expect_cut(cfg, l, 4, "the log ends at seq 4, but line 2 of");
	expect_cut(cfg, l, 0, "the log has no record, but line 2 of");
	CHECK_CONTAINS(sg_error_last(), "the log was deleted or emptied");
	check_write_lines(cfg->audit_log, l, n, 0);
	check_free_lines(l, n);
}

static void concat(const char *out, const char *a, const char *b);

/* Write `path` from seal lines, each behind a syslog prefix; `extra` appended as is. */
static void write_offhost(const char *path, char *l[], size_t n, const char *extra)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die(path);
	for (size_t i = 0; i < n; i++)
		/* A brace before the marker (structured data, say) must not hide the seal. */
		fprintf(f, "<133>Dec  3 10:00:0%zu host signgate[7]: {ctx} audit-seal %s\n", i,
			l[i]);
	fputs(extra, f);
	fclose(f);
}

static int verify_with(const sg_config *cfg, const sg_audit_seals *s, sg_audit_report *rep)
{
	const char *log = cfg->audit_log;

	sg_error_clear();
	return sg_audit_verify_files(&log, 1, s, 0, rep);
}

/*
 * The off-host copy: loaded from syslog lines (forged and foreign lines
 * skipped), merged with the seals file, and what verify then finds: seals
 * deleted from the seals file, the log and its seals cut back together, and
 * a seal record whose seal is missing (an interrupted run).
 */
static void test_offhost(const sg_config *cfg)
{
	char *l[MAX_LINES], *log[MAX_LINES];
	size_t n = check_read_lines(cfg->seal_file, l, MAX_LINES), ignored = 9;
	size_t nlog = check_read_lines(cfg->audit_log, log, MAX_LINES);
	const char *off = tmp_path("offhost.txt");
	char forged[2048];
	sg_audit_seals o = { 0 }, s = { 0 };
	sg_audit_report rep;

	CHECK(n == 2 && nlog == 5);
	snprintf(forged, sizeof(forged), "x audit-seal %s\nnot a seal {\"a\":1}\n", l[1]);
	forged[value_at(forged, "signature") + 12] ^= 1; /* a forged signature */
	write_offhost(off, l, n, forged);
	CHECK_INT(sg_audit_seals_load_offhost(&o, off, "log.jsonl", cfg->seal_cert, &ignored),
		  SG_OK);
	CHECK_INT(ignored, 1);
	CHECK_INT(o.n, 2);
	if (o.n == 2) {
		CHECK_INT(o.seals[1].seq, 5);
		CHECK_INT(o.seals[1].line, 2);
	}
	/* Seals of another log name are not this log's. */
	CHECK_INT(sg_audit_seals_load_offhost(&s, off, "other.jsonl", cfg->seal_cert, NULL), SG_OK);
	CHECK_INT(s.n, 0);
	sg_audit_seals_free(&s);

	/* The seals file lost its newest seal: the copy still has it. */
	check_write_lines(tmp_path("one.seals"), l, 1, 0);
	CHECK_INT(sg_audit_seals_load(&s, tmp_path("one.seals"), cfg->seal_cert), SG_OK);
	CHECK_INT(verify_with(cfg, &s, &rep), SG_ERR_TAMPER);
	CHECK_INT(rep.interrupted, 1);
	CHECK_INT(rep.interrupted_seq, 5);
	CHECK_CONTAINS(sg_error_last(), "line 5: interrupted seal: seal record seq 5 has no seal");
	CHECK_INT(sg_audit_seals_merge(&s, &o), SG_OK);
	CHECK_INT(s.n, 2);
	CHECK(s.n == 2 && s.seals[1].offhost && !s.seals[0].offhost);
	CHECK_INT(verify_with(cfg, &s, &rep), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(),
		       "(off-host copy line 2), but the seals file lacks that seal");

	/* The log and the seals file cut back together: only the copy shows it. */
	check_write_lines(cfg->audit_log, log, 4, 0);
	sg_audit_seals_free(&s);
	CHECK_INT(sg_audit_seals_load(&s, tmp_path("one.seals"), cfg->seal_cert), SG_OK);
	CHECK_INT(verify_with(cfg, &s, &rep), SG_OK);
	CHECK_INT(sg_audit_seals_merge(&s, &o), SG_OK);
	CHECK_INT(verify_with(cfg, &s, &rep), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(), "the chain ends at seq 4, but seq 5 was sealed");
	CHECK_CONTAINS(sg_error_last(), "and the seals file was cut back with it");
	check_write_lines(cfg->audit_log, log, nlog, 0);
	sg_audit_seals_free(&s);
	sg_audit_seals_free(&o);

	/* Two seals of one seq with different heads (two logs, one key) in the copy. */
	concat(tmp_path("ab.seals"), tmp_path("a/log.jsonl.seals"), tmp_path("b/log.jsonl.seals"));
	check_free_lines(l, n);
	n = check_read_lines(tmp_path("ab.seals"), l, MAX_LINES);
	write_offhost(off, l, n, "");
	sg_error_clear();
	CHECK_INT(sg_audit_seals_load_offhost(&o, off, "log.jsonl", cfg->seal_cert, NULL),
		  SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(), "seal seq 2 with different heads");
	CHECK_INT(o.n, 0);
	expect_digest(&o, off); /* the copy that decided the verdict, as read */
	sg_audit_seals_free(&o);
	/* A FIFO as the copy: refused at once, never waited on. */
	CHECK_INT(mkfifo(tmp_path("offhost.fifo"), 0600), 0);
	sg_error_clear();
	CHECK_INT(sg_audit_seals_load_offhost(&o, tmp_path("offhost.fifo"), "log.jsonl",
					      cfg->seal_cert, NULL),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "is not a regular file");
	check_free_lines(l, n);
	check_free_lines(log, nlog);
}

/*
 * After a rotation, the current file alone: the archive's seals cannot be
 * checked, which fails unless SG_AUDIT_VERIFY_PARTIAL, and even then some
 * seal must fall within the files given.
 */
static void test_partial(const sg_config *cfg)
{
	sg_audit_rotate_report rot;
	sg_audit_report rep;
	sg_audit_seals s = { 0 };
	sg_audit_seal seal;
	const char *files[2];

	CHECK_INT(sg_audit_rotate(cfg->audit_log, &rot), SG_OK);
	CHECK_INT(sg_audit_seal_create(cfg, &seal), SG_OK);
	CHECK_INT(seal.seq, 7);
	CHECK_INT(sg_audit_seals_load(&s, cfg->seal_file, cfg->seal_cert), SG_OK);
	CHECK_INT(verify_with(cfg, &s, &rep), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(), "it starts at seq 6 with a rotate record, and 2 seals "
					"(seals lines 1-2, seq 4-5) cover records before it");
	files[0] = cfg->audit_log;
	CHECK_INT(sg_audit_verify_files(files, 1, &s, SG_AUDIT_VERIFY_PARTIAL, &rep), SG_OK);
	CHECK_INT(rep.seals_before, 2);
	CHECK_INT(rep.before_first_line, 1);
	CHECK_INT(rep.before_last_seq, 5);
	CHECK_INT(rep.seals_checked, 1);
	files[0] = rot.archive;
	files[1] = cfg->audit_log;
	CHECK_INT(sg_audit_verify_files(files, 2, &s, 0, &rep), SG_OK);
	CHECK_INT(rep.seals_checked, 3);
	CHECK_INT(rep.seals_before, 0);
	sg_audit_seals_free(&s);

	/* Rotated again, not sealed since: nothing ties the new file to the seals. */
	CHECK_INT(sg_audit_rotate(cfg->audit_log, &rot), SG_OK);
	CHECK_INT(sg_audit_seals_load(&s, cfg->seal_file, cfg->seal_cert), SG_OK);
	files[0] = cfg->audit_log;
	sg_error_clear();
	CHECK_INT(sg_audit_verify_files(files, 1, &s, SG_AUDIT_VERIFY_PARTIAL, &rep),
		  SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(), "no seal falls within the files given: all 3 seals");
	sg_audit_seals_free(&s);
}

static void expect_create_error(const sg_config *cfg, int code, const char *msg)
{
	sg_audit_seal seal;

	sg_error_clear();
	CHECK_INT(sg_audit_seal_create(cfg, &seal), code);
	CHECK_CONTAINS(sg_error_last(), msg);
	if (sg_error_code() != code)
		fprintf(stderr, "  (%s: %s)\n", cfg->path, sg_error_last());
}

static void test_refusals(void)
{
	sg_config *c;

	/* One record: with none, there would be nothing to seal and no key to open. */
	CHECK_INT(append_event(tmp_path("log.jsonl"), 1), SG_OK);

	/* The sealing certificate is the code-signing one, or in its chain. */
	c = config("sep1.json", "log.jsonl", "\"key\": \"seal.key\", \"cert\": \"seal.pem\"",
		   "\"pkcs12\": \"s.p12\", \"certificate\": \"seal.pem\"");
	expect_create_error(c, SG_ERR_CONFIG, "seal the audit log with a key of its own");
	CHECK_CONTAINS(sg_error_last(), c->path);
	sg_config_free(c);
	c = config("sep2.json", "log.jsonl", "\"key\": \"seal.key\", \"cert\": \"seal.pem\"",
		   "\"cert_chain\": \"chain.pem\", \"key\": \"other.key\"");
	expect_create_error(c, SG_ERR_CONFIG, "has the public key of the code-signing certificate");
	CHECK_CONTAINS(sg_error_last(), tmp_path("chain.pem"));
	sg_config_free(c);
	/* A different signing certificate is fine. */
	c = config("sep3.json", "log.jsonl", "\"key\": \"seal.key\", \"cert\": \"seal.pem\"",
		   "\"pkcs12\": \"s.p12\", \"certificate\": \"other.pem\"");
	expect_create_error(c, SG_OK, "");
	sg_config_free(c);

	c = config("mismatch.json", "log.jsonl", "\"key\": \"other.key\", \"cert\": \"seal.pem\"",
		   NULL);
	expect_create_error(c, SG_ERR_CRYPTO, "the sealing key does not match");
	sg_config_free(c);

	chmod(tmp_path("other.key"), 0640);
	c = config("open.json", "log.jsonl", "\"key\": \"other.key\", \"cert\": \"other.pem\"",
		   NULL);
	expect_create_error(c, SG_ERR_CONFIG, "accessible by group or others");
	CHECK_CONTAINS(sg_error_last(), tmp_path("other.key"));
	chmod(tmp_path("other.key"), 0600);
	sg_config_free(c);

	c = config("nokey.json", "log.jsonl", "\"key\": \"absent.key\", \"cert\": \"seal.pem\"",
		   NULL);
	expect_create_error(c, SG_ERR_IO, tmp_path("absent.key"));
	sg_config_free(c);

	c = config("nocert.json", "log.jsonl", "\"key\": \"seal.key\", \"cert\": \"absent.pem\"",
		   NULL);
	expect_create_error(c, SG_ERR_IO, tmp_path("absent.pem"));
	sg_config_free(c);
}

static void test_encrypted_key(void)
{
	sg_config *c;

	/* A log of its own: the seals of log.jsonl are pinned to seal.pem. */
	CHECK_INT(append_event(tmp_path("enc.jsonl"), 1), SG_OK);
	check_write_file(tmp_path("enc.pass"), "s3cret-seal\n", 12, 0600);
	check_write_file(tmp_path("wrong.pass"), "wrong\n", 6, 0600);
	c = config("enc.json", "enc.jsonl",
		   "\"key\": \"enc.key\", \"cert\": \"enc.pem\", \"password_file\": \"enc.pass\"",
		   NULL);
	expect_create_error(c, SG_OK, "");
	sg_config_free(c);
	c = config("enc-wrong.json", "enc.jsonl",
		   "\"key\": \"enc.key\", \"cert\": \"enc.pem\", \"password_file\": \"wrong.pass\"",
		   NULL);
	expect_create_error(c, SG_ERR_CRYPTO, "wrong password");
	CHECK_CONTAINS(sg_error_last(), tmp_path("enc.key"));
	sg_config_free(c);
	c = config("enc-none.json", "enc.jsonl", "\"key\": \"enc.key\", \"cert\": \"enc.pem\"",
		   NULL);
	expect_create_error(c, SG_ERR_CONFIG, "the sealing key is encrypted but");
	sg_config_free(c);
}

static void test_load_errors(const sg_config *cfg)
{
	sg_audit_seals s = { 0 };

	sg_error_clear();
	CHECK_INT(sg_audit_seals_load(&s, cfg->seal_file, tmp_path("absent.pem")), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), tmp_path("absent.pem"));
	CHECK_CONTAINS(sg_error_last(), "cannot open");
	/* A file that holds no certificate is the configuration's problem. */
	CHECK_INT(sg_audit_seals_load(&s, cfg->seal_file, cfg->seal_file), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "no PEM certificate found");
	/* Pinned to another certificate, the whole file is "another certificate". */
	CHECK_INT(sg_audit_seals_load(&s, cfg->seal_file, tmp_path("other.pem")), SG_ERR_TAMPER);
	CHECK_CONTAINS(sg_error_last(), "line 1: signed by another certificate");
	CHECK_INT(symlink(cfg->seal_file, tmp_path("link.seals")), 0);
	CHECK_INT(sg_audit_seals_load(&s, tmp_path("link.seals"), cfg->seal_cert), SG_ERR_IO);
	/*
	 * A seals file too large to read whole (sparse here) is no I/O error: its
	 * seals cannot be checked (SG_ERR_FORMAT), and the message says so.
	 */
	check_write_file(tmp_path("big.seals"), "", 0, 0600);
	CHECK_INT(truncate(tmp_path("big.seals"), 256L * 1024 * 1024 + 1), 0);
	CHECK_INT(sg_audit_seals_load(&s, tmp_path("big.seals"), cfg->seal_cert), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), tmp_path("big.seals"));
	CHECK_CONTAINS(sg_error_last(), "larger than 268435456 bytes");
	CHECK_CONTAINS(sg_error_last(), "nothing was checked against it");
	unlink(tmp_path("big.seals"));
}

/* `out` = the lines of `a` followed by those of `b`. */
static void concat(const char *out, const char *a, const char *b)
{
	char *l[2 * MAX_LINES];
	size_t n = check_read_lines(a, l, MAX_LINES);

	n += check_read_lines(b, l + n, MAX_LINES);
	check_write_lines(out, l, n, 0);
	check_free_lines(l, n);
}

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

int main(void)
{
	sg_config *cfg, *cfg2;

	if (!mkdtemp(dir))
		die("mkdtemp");
	make_identity("seal", NULL);
	make_identity("other", NULL);
	make_identity("enc", "s3cret-seal");
	/* A code-signing chain file that holds the sealing certificate second. */
	concat(tmp_path("chain.pem"), tmp_path("other.pem"), tmp_path("seal.pem"));
	mkdir(tmp_path("audit"), 0700);
	mkdir(tmp_path("a"), 0700);
	mkdir(tmp_path("b"), 0700);
	cfg = config("seal.json", "audit/log.jsonl",
		     "\"key\": \"seal.key\", \"cert\": \"seal.pem\"", NULL);
	cfg2 = config("other.json", "audit/other.jsonl",
		      "\"key\": \"other.key\", \"cert\": \"other.pem\", \"file\": \"other.seals\"",
		      NULL);
	CHECK_STR(cfg->seal_file, tmp_path("audit/log.jsonl.seals"));
	CHECK_STR(cfg2->seal_file, tmp_path("other.seals"));

	test_missing_and_empty_log(cfg);
	test_seal_and_load(cfg);
	test_tampering(cfg);
	test_other_key(cfg, cfg2);
	test_same_seq_other_head(cfg);
	test_cut_log(cfg);
	test_offhost(cfg);
	test_partial(cfg);
	test_refusals();
	test_encrypted_key();
	test_load_errors(cfg);

	sg_config_free(cfg);
	sg_config_free(cfg2);
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return check_done();
}

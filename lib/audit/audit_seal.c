/* Seals of the audit log's head; see include/signgate/audit_seal.h. */
#include "signgate/audit_seal.h"
#include "signgate/audit.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/keys.h"
#include "signgate/util.h"
#include "audit_internal.h"
#include "audit_seal_internal.h"
#include "cms.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>

/* A seal line is about 1 KiB; anything near this is not one of ours. */
#define SEAL_LINE_MAX (64 * 1024)
/* Bounds the memory of a read: some 200,000 seals. */
#define SEALS_FILE_MAX (256L * 1024 * 1024)
#define SEAL_VERSION   1

/* The members of a seal, sorted as the canonical text has them. */
static const char *const seal_keys[] = { "head",   "log",  "seq",  "signature",
					 "signer", "time", "type", "version" };
#define N_SEAL_KEYS (sizeof(seal_keys) / sizeof(seal_keys[0]))

typedef sg_seal_pin pin;

/* Torn bytes at the end of the seals file, set aside by a sealing run. */
struct torn {
	off_t at; /* where they start; -1: the file ends in a complete line */
	size_t bytes;
	char file[PATH_MAX + 64];
	char sha256[HEX_LEN + 1];
};

int sg_seal_pin_load(pin *p, const char *cert_path)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	p->cert = sg_keys_read_cert(cert_path);
	/* Its own code: cannot be opened SG_ERR_IO (as the key), no PEM SG_ERR_CONFIG. */
	if (!p->cert)
		return sg_error_code();
	if (!X509_digest(p->cert, EVP_sha256(), md, &len) || len != SG_SHA256_LEN) {
		X509_free(p->cert);
		p->cert = NULL;
		ERR_clear_error();
		return sg_error_set(SG_ERR_CRYPTO, "%s: cannot compute the certificate's digest",
				    cert_path);
	}
	sg_hex_encode(p->thumb, md, SG_SHA256_LEN);
	return SG_OK;
}

static int is_lower_hex(const char *s)
{
	if (!s || strlen(s) != HEX_LEN)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int is_time(const char *s)
{
	struct tm tm = { 0 };
	const char *end =
		s && strlen(s) == TIME_LEN ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

	return end && *end == '\0';
}

/* base64 (padded, canonical) into a new buffer; -1 when `b64` is not that. */
static int b64_decode(unsigned char **out, size_t *out_len, const char *b64)
{
	size_t len = strlen(b64);
	unsigned char *buf;
	long n;

	*out = NULL;
	if (len == 0 || len > SEAL_LINE_MAX || !(buf = malloc(len / 4 * 3 + 1)))
		return -1;
	n = sg_base64_decode(buf, b64, len, 1);
	if (n < 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = (size_t)n;
	return 0;
}

/* The canonical text of `seal` without "signature": what the signature covers. */
static char *signed_text(const json_t *seal)
{
	json_t *copy = json_copy((json_t *)seal);
	char *text = NULL;

	if (copy) {
		json_object_del(copy, "signature");
		text = json_dumps(copy, DUMP_FLAGS);
	}
	json_decref(copy);
	return text;
}

/*
 * The detached CMS signature (base64 DER) checks over `text` with the pinned
 * certificate only: certificates inside the CMS are ignored (CMS_NOINTERN),
 * and the certificate's chain and validity are not judged, since the seal is
 * pinned to it and outlives it.
 */
static int check_signature(const char *b64, const char *text, const pin *p, char *why)
{
	const int flags = CMS_NOINTERN | CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY;
	STACK_OF(X509) *certs = sk_X509_new_null();
	const unsigned char *q;
	CMS_ContentInfo *cms = NULL;
	unsigned char *der = NULL;
	BIO *data = NULL;
	size_t len = 0;
	int error = SG_OK;

	if (!certs || !sk_X509_push(certs, p->cert)) {
		sk_X509_free(certs);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	if (b64_decode(&der, &len, b64) != 0) {
		error = sg_audit_tamper(why, "\"signature\" is not base64");
		goto done;
	}
	q = der;
	cms = d2i_CMS_ContentInfo(NULL, &q, (long)len);
	if (!cms || q != der + len || CMS_is_detached(cms) != 1) {
		error = sg_audit_tamper(why, "\"signature\" is not a detached CMS signature");
		goto done;
	}
	data = BIO_new_mem_buf(text, (int)strlen(text));
	if (!data) {
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
		goto done;
	}
	if (CMS_verify(cms, certs, NULL, data, NULL, flags) != 1)
		error = sg_audit_tamper(
			why, "bad signature: the seal was edited, or not signed with the "
			     "sealing key");
done:
	BIO_free(data);
	CMS_ContentInfo_free(cms);
	free(der);
	sk_X509_free(certs);
	ERR_clear_error();
	return error;
}

/* The members are exactly ours, with their types and forms. */
static int check_members(const json_t *obj, const pin *p, char *why)
{
	const char *key;
	json_t *v;
	size_t i = 0;

	json_object_foreach((json_t *)obj, key, v) {
		int known = 0;
		for (i = 0; i < N_SEAL_KEYS && !known; i++)
			known = strcmp(key, seal_keys[i]) == 0;
		if (!known)
			return sg_audit_tamper(why, "unexpected member \"%.64s\"", key);
	}
	for (i = 0; i < N_SEAL_KEYS; i++)
		if (!json_object_get(obj, seal_keys[i]))
			return sg_audit_tamper(why, "no \"%s\"", seal_keys[i]);
	if (!json_is_string(json_object_get(obj, "type")) ||
	    strcmp(json_string_value(json_object_get(obj, "type")), SG_AUDIT_SEAL_TYPE) != 0)
		return sg_audit_tamper(why, "\"type\" is not \"%s\"", SG_AUDIT_SEAL_TYPE);
	v = json_object_get(obj, "version");
	if (!json_is_integer(v) || json_integer_value(v) != SEAL_VERSION)
		return sg_audit_tamper(why, "\"version\" is not %d", SEAL_VERSION);
	v = json_object_get(obj, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return sg_audit_tamper(why, "\"seq\" is not an integer >= 0");
	if (!is_lower_hex(json_string_value(json_object_get(obj, "head"))))
		return sg_audit_tamper(why, "\"head\" is not 64 lower-case hex digits");
	if (!is_time(json_string_value(json_object_get(obj, "time"))))
		return sg_audit_tamper(why, "\"time\" is not YYYY-MM-DDTHH:MM:SSZ");
	if (!json_is_string(json_object_get(obj, "log")) ||
	    !json_is_string(json_object_get(obj, "signature")))
		return sg_audit_tamper(why, "\"log\" and \"signature\" must be strings");
	if (!is_lower_hex(json_string_value(json_object_get(obj, "signer"))))
		return sg_audit_tamper(why, "\"signer\" is not 64 lower-case hex digits");
	if (strcmp(json_string_value(json_object_get(obj, "signer")), p->thumb) != 0)
		return sg_audit_tamper(
			why,
			"signed by another certificate (signer %.16s..., the sealing "
			"certificate is %.16s...)",
			json_string_value(json_object_get(obj, "signer")), p->thumb);
	return SG_OK;
}

int sg_seal_check_line(sg_audit_seal *out, const char *line, size_t len, const pin *p, char *why)
{
	json_error_t jerr;
	json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	char *canon = NULL, *text = NULL;
	int error;

	if (!json_is_object(obj)) {
		json_decref(obj);
		return sg_audit_tamper(why, "not a JSON object");
	}
	error = check_members(obj, p, why);
	if (!error && (!(canon = json_dumps(obj, DUMP_FLAGS)) || !(text = signed_text(obj))))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error && (strlen(canon) != len || memcmp(canon, line, len) != 0))
		error = sg_audit_tamper(why, "not in the canonical form signgate writes (edited?)");
	if (!error)
		error = check_signature(json_string_value(json_object_get(obj, "signature")), text,
					p, why);
	if (!error) {
		out->seq = (long long)json_integer_value(json_object_get(obj, "seq"));
		snprintf(out->head, sizeof(out->head), "%s",
			 json_string_value(json_object_get(obj, "head")));
		snprintf(out->time, sizeof(out->time), "%s",
			 json_string_value(json_object_get(obj, "time")));
		memcpy(out->signer, p->thumb, sizeof(out->signer));
	}
	free(canon);
	free(text);
	json_decref(obj);
	return error;
}

/* A seal follows the one before it: seq never decreases, one head per seq. */
static int check_order(const sg_audit_seal *prev, const sg_audit_seal *s, char *why)
{
	if (!prev)
		return SG_OK;
	if (s->seq < prev->seq)
		return sg_audit_tamper(why, "seq %lld goes backwards (line %zu sealed seq %lld)",
				       s->seq, prev->line, prev->seq);
	if (s->seq == prev->seq && strcmp(s->head, prev->head) != 0)
		return sg_audit_tamper(why, "seals seq %lld with a different head than line %zu",
				       s->seq, prev->line);
	return SG_OK;
}

/*
 * Parse and check every line of the file's bytes into `out`. A last line
 * without its newline is torn: tampering for a reader (torn_at NULL); for a
 * sealing run, which sets it aside, *torn_at is where it starts (else -1).
 */
static int check_all(sg_audit_seals *out, const char *buf, size_t size, const char *path,
		     const pin *p, off_t *torn_at)
{
	char why[WHY_MAX] = "";
	size_t off = 0, line = 0;
	int error = SG_OK;

	while (!error && off < size) {
		const char *nl = memchr(buf + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (buf + off)) : size - off;
		sg_audit_seal s = { 0 }, *grown;

		line++;
		if (!nl && torn_at && len <= SEAL_LINE_MAX) {
			*torn_at = (off_t)off;
			break;
		}
		if (!nl)
			error = sg_audit_tamper(
				why, "%s",
				torn_at ? "torn, and longer than a seal: not an interrupted write"
					: "torn (no newline at the end: an interrupted write?); "
					  "`signgate audit seal` sets the torn bytes aside");
		else if (len > SEAL_LINE_MAX)
			error = sg_audit_tamper(why, "longer than %d bytes", SEAL_LINE_MAX);
		else
			error = sg_seal_check_line(&s, buf + off, len, p, why);
		s.line = line;
		if (!error)
			error = check_order(out->n ? &out->seals[out->n - 1] : NULL, &s, why);
		if (error)
			break;
		grown = realloc(out->seals, (out->n + 1) * sizeof(*grown));
		if (!grown)
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		out->seals = grown;
		out->seals[out->n++] = s;
		off += len + 1;
	}
	if (error == SG_ERR_TAMPER)
		sg_error_set(error, "%s: line %zu: %s", path, line, why);
	return error;
}

/* Read the whole of the open seals file (under the caller's lock) and check it. */
static int read_and_check(sg_audit_seals *out, int fd, const char *path, const pin *p,
			  off_t *torn_at)
{
	unsigned char *buf;
	size_t len;
	int error;

	memset(out, 0, sizeof(*out));
	error = sg_read_fd(&buf, &len, fd, path, SEALS_FILE_MAX, NULL);
	/*
	 * Too big to be read whole: not proof of tampering, not a failure to
	 * read either. The seals cannot be checked, so nothing rests on them.
	 */
	if (error == SG_ERR_FORMAT)
		return sg_error_set(SG_ERR_FORMAT,
				    "%s: larger than %ld bytes: more seals than signgate checks "
				    "in one file; nothing was checked against it (start a new "
				    "seals file, audit_seal.file)",
				    path, SEALS_FILE_MAX);
	if (error)
		return error;
	if (torn_at)
		*torn_at = -1;
	/*
	 * What was checked is what a report names: these bytes, not a later
	 * read, also when they are not valid seals (the verdict is then theirs).
	 */
	out->bytes = len;
	error = sg_sha256_hex(out->sha256, buf, len);
	if (!error)
		error = check_all(out, (const char *)buf, len, path, p, torn_at);
	free(buf);
	if (error == SG_ERR_TAMPER) {
		free(out->seals);
		out->seals = NULL;
		out->n = 0;
	} else if (error) {
		sg_audit_seals_free(out);
	}
	return error;
}

static int lock_fd(int fd, int op, const char *path)
{
	while (flock(fd, op) != 0)
		if (errno != EINTR)
			return sg_error_set(SG_ERR_IO, "%s: cannot lock: %s", path,
					    strerror(errno));
	return SG_OK;
}

int sg_audit_seals_load(sg_audit_seals *out, const char *seals_path, const char *cert_path)
{
	pin p = { 0 };
	int fd, error;

	memset(out, 0, sizeof(*out));
	error = sg_seal_pin_load(&p, cert_path);
	if (error)
		return error;
	fd = open(seals_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		out->missing = 1;
	} else if (fd < 0) {
		error = sg_error_set(SG_ERR_IO, "%s: cannot open: %s", seals_path, strerror(errno));
	} else {
		error = lock_fd(fd, LOCK_SH, seals_path);
		if (!error)
			error = read_and_check(out, fd, seals_path, &p, NULL);
		flock(fd, LOCK_UN);
		close(fd);
	}
	if (!error)
		memcpy(out->pinned, p.thumb, sizeof(out->pinned));
	X509_free(p.cert);
	return error;
}

void sg_audit_seals_free(sg_audit_seals *s)
{
	if (!s)
		return;
	free(s->seals);
	memset(s, 0, sizeof(*s));
}

/* base64 of the DER CMS SignedData over `text`: detached, SHA-256, no certificates. */
static int sign_text(char **out, const char *text, const pin *p, EVP_PKEY *key)
{
	unsigned char *der = NULL;
	size_t len = 0, cap;
	int error = sg_cms_sign_detached(&der, &len, text, strlen(text), p->cert, NULL, key,
					 "the seal");

	*out = NULL;
	cap = 4 * ((len + 2) / 3) + 1;
	if (!error && !(*out = malloc(cap)))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error)
		sg_base64_encode(*out, cap, der, len);
	OPENSSL_free(der);
	return error;
}

/*
 * The new seal's line, newline included. It is checked as a reader will
 * check it before anything is written: a seal that would not verify (a key
 * that signs wrongly, say) is never stored.
 */
static int make_seal_line(char **out, size_t *out_len, sg_audit_seal *s, const sg_config *cfg,
			  const pin *p, EVP_PKEY *key)
{
	char why[WHY_MAX], *text = NULL, *sig = NULL, *line = NULL;
	sg_audit_seal back;
	json_t *obj;
	int error = sg_audit_utc_now(s->time);

	if (error)
		return error;
	memcpy(s->signer, p->thumb, sizeof(s->signer));
	obj = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:i}", "head", s->head, "log",
			sg_path_base(cfg->audit_log), "seq", (json_int_t)s->seq, "signer",
			s->signer, "time", s->time, "type", SG_AUDIT_SEAL_TYPE, "version",
			SEAL_VERSION);
	if (!obj || !(text = json_dumps(obj, DUMP_FLAGS)))
		error = sg_error_set(SG_ERR_NOMEM,
				     "%s: cannot serialize the seal (is the log's "
				     "name UTF-8?)",
				     cfg->seal_file);
	if (!error)
		error = sign_text(&sig, text, p, key);
	if (!error && (json_object_set_new(obj, "signature", json_string(sig)) ||
		       !(line = json_dumps(obj, DUMP_FLAGS))))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error)
		error = sg_seal_check_line(&back, line, strlen(line), p, why);
	if (error == SG_ERR_TAMPER)
		error = sg_error_set(SG_ERR_CRYPTO,
				     "%s: the new seal does not verify with %s (%s); nothing was "
				     "written",
				     cfg->seal_file, cfg->seal_cert, why);
	if (!error) {
		size_t len = strlen(line);
		char *grown = realloc(line, len + 2);
		if (!grown) {
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
		} else {
			line = grown;
			memcpy(line + len, "\n", 2);
			*out_len = len + 1;
		}
	}
	if (error) {
		free(line);
		line = NULL;
	}
	*out = line;
	free(text);
	free(sig);
	json_decref(obj);
	return error;
}

/* Under the seals lock: the log's head must not be behind what is sealed already. */
static int check_head(const sg_audit_seals *seals, const sg_audit_seal *s, const sg_config *cfg)
{
	const sg_audit_seal *last = seals->n ? &seals->seals[seals->n - 1] : NULL;

	if (last && s->seq < last->seq)
		return sg_error_set(SG_ERR_TAMPER,
				    "%s: the log ends at seq %lld, but line %zu of %s sealed seq "
				    "%lld: records were cut off the log; nothing was sealed",
				    cfg->audit_log, s->seq, last->line, cfg->seal_file, last->seq);
	if (last && s->seq == last->seq && strcmp(s->head, last->head) != 0)
		return sg_error_set(SG_ERR_TAMPER,
				    "%s: record seq %lld is not the one line %zu of %s sealed (its "
				    "hash differs): the log was rewritten; nothing was sealed",
				    cfg->audit_log, s->seq, last->line, cfg->seal_file);
	return SG_OK;
}

/* One write() of the line; a partial line is cut off again. */
static int append_line(int fd, const char *line, size_t len, off_t old_size, const char *path)
{
	ssize_t n;

	do
		n = write(fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len)
		return fsync(fd) == 0 ? SG_OK
				      : sg_error_set(SG_ERR_IO, "%s: fsync failed: %s", path,
						     strerror(errno));
	if (n < 0)
		n = -errno;
	if (ftruncate(fd, old_size) != 0)
		return sg_error_set(SG_ERR_IO,
				    "%s: write failed; the file may now end in a torn "
				    "line",
				    path);
	return sg_error_set(SG_ERR_IO, "%s: cannot write: %s", path,
			    n < 0 ? strerror((int)-n) : "short write");
}

/*
 * A sealing run killed inside its write() (one write can stop short between
 * pages) or a crash leaves a torn last seal line: move those bytes to
 * "<seals>.torn-TIME-PID" (0600, fsynced) and cut them off, so that the
 * chain of seals goes on. What precedes them was checked already. A torn
 * seal covered no more than the seal this run makes.
 */
static int set_torn_aside(struct torn *t, int fd, const char *path)
{
	struct stat st;
	size_t n;
	char *buf;
	int error = SG_OK;

	if (fstat(fd, &st) != 0 || st.st_size <= t->at)
		return sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
	n = (size_t)(st.st_size - t->at);
	if (!(buf = malloc(n)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	snprintf(t->file, sizeof(t->file), "%s.torn-%lld-%d", path, (long long)time(NULL),
		 (int)getpid());
	if (pread(fd, buf, n, t->at) != (ssize_t)n)
		error = sg_error_set(SG_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
	else
		error = sg_write_private_synced(t->file, buf, n);
	if (!error && (error = sg_sha256_hex(t->sha256, buf, n)) != SG_OK)
		unlink(t->file);
	if (!error && (ftruncate(fd, t->at) != 0 || fsync(fd) != 0))
		error = sg_error_set(SG_ERR_IO, "%s: cannot cut the torn bytes: %s", path,
				     strerror(errno));
	if (!error)
		error = sg_fsync_dir_of(path);
	free(buf);
	t->bytes = error ? 0 : n;
	return error;
}

/*
 * The "seal" record. It names no head: the seal written right after it
 * covers this very record (its seq and the SHA-256 of its line), so that
 * right after `audit seal` no record is unsealed; "covers" says so to
 * verify. The record goes to syslog like any other when the config forwards
 * records.
 */
static int append_seal_record(sg_audit_receipt *r, const sg_config *cfg, const pin *p,
			      const struct torn *t)
{
	json_t *rec = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "action", "seal", "decision",
				"sealed", "seal", "covers", SG_AUDIT_SEAL_COVERS_SELF, "file",
				cfg->seal_file, "signer", p->thumb);
	int error;

	/* Torn seal bytes set aside: where they went, as a repair record says. */
	if (rec && t->bytes &&
	    json_object_set_new(json_object_get(rec, "seal"), "torn",
				json_pack("{s:s, s:I, s:s}", "file", t->file, "bytes",
					  (json_int_t)t->bytes, "sha256", t->sha256)) != 0) {
		json_decref(rec);
		rec = NULL;
	}
	if (!rec)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = sg_audit_append_receipt(cfg->audit_log, rec, r);
	if (!error && cfg->syslog_facility >= 0)
		sg_audit_syslog(r, rec, cfg->syslog_facility, cfg->syslog_tag);
	json_decref(rec);
	if (error)
		sg_error_prefix("%s: cannot append the seal record; nothing was sealed",
				cfg->seal_file);
	return error;
}

/*
 * Sign the record just appended and append its seal. A failure now leaves a
 * seal record without its seal: say what verify will report and how to mend it.
 */
static int write_seal(sg_audit_seal *out, int fd, off_t size, const sg_config *cfg, const pin *p,
		      EVP_PKEY *key)
{
	char *line = NULL;
	size_t len = 0;
	int error = make_seal_line(&line, &len, out, cfg, p, key);

	if (!error)
		error = append_line(fd, line, len, size, cfg->seal_file);
	if (!error && cfg->syslog_facility >= 0) {
		line[len - 1] = '\0';
		sg_audit_syslog_seal(line, cfg->syslog_facility, cfg->syslog_tag);
	}
	if (error)
		sg_error_prefix("%s: seal record seq %lld was appended, but its seal could not be "
				"written (`audit verify` reports an interrupted seal until "
				"`signgate audit seal` runs again)",
				cfg->audit_log, out->seq);
	free(line);
	return error;
}

/*
 * 1 when the newest of `seals` covers the head (seq, line hash): nothing was
 * appended since. Then `out` becomes that seal, marked already.
 */
static int covers_head(const sg_audit_seals *seals, long long seq, const char *head,
		       sg_audit_seal *out)
{
	const sg_audit_seal *last = seals->n ? &seals->seals[seals->n - 1] : NULL;

	if (!last || last->seq != seq || strcmp(last->head, head) != 0)
		return 0;
	*out = *last;
	out->already = 1;
	return 1;
}

/*
 * SG_AUDIT_SEAL_IF_NEEDED, before the key is opened: 1 when the newest seal
 * covers the log's head. Any problem (no seals file, a torn or damaged one,
 * an unreadable log) is 0: the sealing run that follows reports or mends it.
 */
static int sealed_already(const sg_config *cfg, sg_audit_seal *out)
{
	sg_audit_seals seals;
	long long seq = 0;
	char head[65];
	int found = 0;

	if (sg_audit_seals_load(&seals, cfg->seal_file, cfg->seal_cert) != SG_OK)
		return 0;
	if (seals.n && sg_audit_head(cfg->audit_log, &seq, head) == SG_OK)
		found = covers_head(&seals, seq, head, out);
	sg_audit_seals_free(&seals);
	return found;
}

/*
 * Under the seals file's exclusive lock, so that concurrent seals come in
 * the order of their records: check the seals so far and that the log is
 * not behind them, append the seal record, sign that record's line, append
 * the seal.
 */
static int seal_locked(sg_audit_seal *out, const sg_config *cfg, const pin *p, EVP_PKEY *key,
		       unsigned flags)
{
	const int oflags = O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
	sg_audit_seals seals = { 0 };
	sg_audit_receipt receipt;
	struct torn torn = { .at = -1 };
	struct stat st;
	int fd = open(cfg->seal_file, oflags, 0600), skip = 0, error;

	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open the seals file: %s", cfg->seal_file,
				    errno == ELOOP ? "it is a symbolic link" : strerror(errno));
	error = lock_fd(fd, LOCK_EX, cfg->seal_file);
	if (!error && fstat(fd, &st) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", cfg->seal_file,
				     strerror(errno));
	if (!error)
		error = sg_seal_check_owner(&st, cfg->seal_file);
	if (!error)
		error = read_and_check(&seals, fd, cfg->seal_file, p, &torn.at);
	if (!error && torn.at >= 0)
		error = set_torn_aside(&torn, fd, cfg->seal_file);
	out->torn_bytes = torn.bytes;
	if (!error && fstat(fd, &st) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot stat: %s", cfg->seal_file,
				     strerror(errno));
	if (!error)
		error = sg_audit_head(cfg->audit_log, &out->seq, out->head);
	if (!error)
		error = check_head(&seals, out, cfg);
	/* Sealed by another run since the look before the key was opened. */
	if (!error && (flags & SG_AUDIT_SEAL_IF_NEEDED) && torn.bytes == 0)
		skip = covers_head(&seals, out->seq, out->head, out);
	/* The seals file exists on disk before the record that names it: see verify. */
	if (!error && !skip && st.st_size == 0)
		error = sg_fsync_dir_of(cfg->seal_file);
	/* A log only the signing account writes: its head is sealed as it is. */
	if (!error && !skip && sg_seal_log_writable(cfg->audit_log)) {
		error = append_seal_record(&receipt, cfg, p, &torn);
		if (!error) {
			out->seq = receipt.seq;
			memcpy(out->head, receipt.line_sha256, sizeof(out->head));
		}
	}
	if (!error && !skip) {
		out->line = seals.n + 1;
		error = write_seal(out, fd, st.st_size, cfg, p, key);
	}
	flock(fd, LOCK_UN);
	close(fd);
	sg_audit_seals_free(&seals);
	return error;
}

/*
 * No record yet (no log, or an empty one): nothing to seal, unless seals of
 * records exist, which means the log was deleted or emptied.
 */
static int check_nothing_yet(int *nothing, const sg_config *cfg)
{
	sg_audit_seals seals;
	struct stat st;
	int found = lstat(cfg->audit_log, &st) == 0, error;

	*nothing = 0;
	if (found && st.st_size > 0)
		return SG_OK;
	if (!found && errno != ENOENT)
		return sg_error_set(SG_ERR_IO, "%s: cannot seal the audit log: %s", cfg->audit_log,
				    strerror(errno));
	error = sg_audit_seals_load(&seals, cfg->seal_file, cfg->seal_cert);
	if (error)
		return error;
	if (seals.n > 0 && seals.seals[seals.n - 1].seq > 0)
		error = sg_error_set(SG_ERR_TAMPER,
				     "%s: the log has no record, but line %zu of %s sealed seq "
				     "%lld: the log was deleted or emptied; nothing was sealed",
				     cfg->audit_log, seals.seals[seals.n - 1].line, cfg->seal_file,
				     seals.seals[seals.n - 1].seq);
	sg_audit_seals_free(&seals);
	*nothing = !error;
	return error;
}

int sg_audit_seal_create(const sg_config *cfg, sg_audit_seal *out)
{
	return sg_audit_seal_create_flags(cfg, 0, out);
}

int sg_audit_seal_create_flags(const sg_config *cfg, unsigned flags, sg_audit_seal *out)
{
	sg_seal_key key = { 0 };
	pin p = { 0 };
	int nothing = 0, error;

	memset(out, 0, sizeof(*out));
	if (!cfg->seal_key || !cfg->seal_cert || !cfg->seal_file)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: no \"audit_seal\" section: name the sealing \"key\" and "
				    "\"cert\" there",
				    cfg->path);
	error = sg_seal_pin_load(&p, cfg->seal_cert);
	if (!error)
		error = sg_seal_key_check_separation(cfg, p.cert);
	/* Seals another account could rewrite are refused, also when nothing is to be done. */
	if (!error)
		error = sg_seal_check_owner_path(cfg->seal_file);
	/* Before the key: a timer on a fresh host must not need its secret for nothing. */
	if (!error)
		error = check_nothing_yet(&nothing, cfg);
	/* Nor for a head sealed already: the key (a token, its PIN) stays closed. */
	if (!error && !nothing && (flags & SG_AUDIT_SEAL_IF_NEEDED) && sealed_already(cfg, out))
		nothing = 1;
	/* The key is opened before any lock is taken: a prompt must not hold up others. */
	if (!error && !nothing)
		error = sg_seal_key_open(&key, cfg);
	if (!error && !nothing && X509_check_private_key(p.cert, key.key) != 1)
		error = sg_error_set(SG_ERR_CRYPTO, "%s: the sealing key does not match %s",
				     cfg->seal_key, cfg->seal_cert);
	ERR_clear_error();
	if (!error && !nothing)
		error = seal_locked(out, cfg, &p, key.key, flags);
	sg_seal_key_free(&key);
	X509_free(p.cert);
	return error;
}

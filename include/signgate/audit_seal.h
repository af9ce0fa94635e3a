/*
 * Seals of the audit log: the log's head (the last record's seq and the
 * SHA-256 of its line) signed with a sealing key that is not the
 * code-signing key. The hash chain shows edits inside the log but not a log
 * rewritten from scratch, nor records cut off its end; a seal shows both,
 * for everything up to the sealed record, to whoever holds the sealing
 * certificate.
 *
 * A sealing run first appends its "seal" record to the log, then seals the
 * head that includes that record: the seal covers its own record, so right
 * after `audit seal` no record is unsealed and the log cannot be cut back
 * to the previous head unnoticed. Such a record carries
 * "seal": {"covers": "this record", "file", "signer"}; records of earlier
 * versions ("seal": {"seq", "head", "file", "signer"}) were written after
 * their seal and name the head it covers.
 *
 * The seals file (config "audit_seal.file", default "<audit_log>.seals") is
 * JSON Lines, one seal per line, each the canonical text (jansson
 * JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) of:
 *   {"head":    SHA-256 hex of the sealed record's line (64 zeros: empty log),
 *    "log":     the audit log's base name,
 *    "seq":     the sealed record's seq (0: an empty log),
 *    "signature": base64 of a DER CMS SignedData, detached, SHA-256, with
 *               signed attributes and no certificates, over the canonical
 *               text of this object without "signature",
 *    "signer":  SHA-256 hex of the sealing certificate's DER,
 *    "time":    UTC "YYYY-MM-DDTHH:MM:SSZ" when the seal was made,
 *    "type":    "signgate-audit-seal",
 *    "version": 1}
 * Seals are appended (flock, one write, fsync) and never rewritten; their
 * seq never decreases.
 *
 * Checking one seal by hand (line 3 of the file; seal.pem the sealing cert):
 *   sed -n 3p audit.jsonl.seals >seal.json
 *   jq -r .signature seal.json | base64 -d >seal.der
 *   jq -cjS 'del(.signature)' seal.json >seal.txt
 *   openssl cms -verify -binary -inform DER -in seal.der -content seal.txt \
 *       -certfile seal.pem -nointern -noverify -out /dev/null
 * ("Verification successful"), and compare "signer" with
 *   openssl x509 -in seal.pem -outform DER | sha256sum
 * jq -cjS prints the same bytes as signgate's canonical form as long as the
 * values are ASCII (they are: hex, digits, a time and the log's base name).
 * -noverify skips the certificate's chain and expiry: the seal is pinned to
 * this certificate, and a seal stays valid after the certificate expires.
 * To see that the seal matches the log, compare "head" with
 *   sed -n "${seq}p" audit.jsonl | tr -d '\n' | sha256sum
 * (record seq N is on line N of a log that was never rotated).
 */
#ifndef SIGNGATE_AUDIT_SEAL_H
#define SIGNGATE_AUDIT_SEAL_H

#include <stddef.h>

#include "signgate/config.h"

#define SG_AUDIT_SEAL_TYPE "signgate-audit-seal"
/* The "covers" of a seal record whose seal covers the record itself. */
#define SG_AUDIT_SEAL_COVERS_SELF "this record"

typedef struct sg_audit_seal {
	long long seq;     /* the sealed record's seq (0: sealed an empty log) */
	char head[65];     /* SHA-256 hex of that record's line (64 zeros for an empty log) */
	char time[21];     /* when the seal was made, UTC "YYYY-MM-DDTHH:MM:SSZ" */
	char signer[65];   /* SHA-256 hex of the sealing certificate's DER */
	size_t line;       /* its line in the seals file (1-based), or in the off-host copy */
	int offhost;       /* 1: only in the off-host copy (sg_audit_seals_merge()) */
	size_t torn_bytes; /* sg_audit_seal_create(): torn bytes it set aside first */
	int already;       /* sg_audit_seal_create_flags(SG_AUDIT_SEAL_IF_NEEDED): the head
			    * was sealed already and nothing was written; the fields above
			    * are those of that newest seal */
} sg_audit_seal;

typedef struct sg_audit_seals {
	sg_audit_seal *seals; /* in file order; seq never decreases */
	size_t n;
	int missing;     /* 1: the seals file does not exist (n == 0) */
	char pinned[65]; /* SHA-256 hex of the certificate the seals were checked with */
	/*
	 * sg_audit_seals_load() and _load_offhost(): the size of the bytes read
	 * and checked, and their SHA-256 hex (kept by sg_audit_seals_merge()).
	 */
	unsigned long long bytes;
	char sha256[65];
} sg_audit_seals;

/*
 * Read the seals file, check every seal's signature with the pinned sealing
 * certificate (PEM at cert_path) and its form. SG_OK (also for a missing
 * file: missing = 1), SG_ERR_TAMPER naming the seals file and line and what is
 * wrong (bad signature, signed by another certificate, edited field, seq going
 * backwards, same seq with a different head, torn line), SG_ERR_IO, SG_ERR_CONFIG
 * (cert unreadable). The certificate's validity period is not judged: a
 * seal made while it was valid stays valid. The file is read under a shared
 * flock(). `out` is filled on SG_OK; on SG_ERR_TAMPER it holds no seal,
 * only `bytes` and `sha256` of the bytes read and found wanting (what a report
 * of that verdict names). Free it with sg_audit_seals_free() either way.
 */
int sg_audit_seals_load(sg_audit_seals *out, const char *seals_path, const char *cert_path);

/* Free what sg_audit_seals_load() filled; safe on a zeroed struct. */
void sg_audit_seals_free(sg_audit_seals *s);

/*
 * Seal cfg->audit_log with the configured sealing key. Under the seals
 * file's exclusive lock (create 0600): check the existing seals as
 * sg_audit_seals_load() does, read the log's head with sg_audit_head(), then
 * append the audit record {"action":"seal","decision":"sealed","seal":
 * {"covers":"this record","file":seals path,"signer":thumbprint}} to the log,
 * sign the head that includes it (its seq, the SHA-256 of its line) and
 * append that seal (one write; fsync; fsync the folder when created). When
 * the config forwards records to syslog, the seal record goes there as any
 * record does, and the seal's own line follows as "audit-seal <line>" (what
 * `audit verify --against` reads). Fills *out.
 *
 * A torn last line of the seals file (no newline, no longer than a seal: a
 * run killed inside its write) is first moved to "<seals>.torn-TIME-PID"
 * (0600) and cut off; the seal record names it ("seal": {"torn": {"file",
 * "bytes", "sha256"}}) and out->torn_bytes counts it. Longer unterminated
 * bytes are SG_ERR_TAMPER.
 *
 * A log that does not exist or holds no record yet has nothing to seal:
 * SG_OK with out->line 0, and nothing is written (neither record nor seals
 * file), unless the seals file already holds a seal of a record
 * (SG_ERR_TAMPER: the log was deleted or emptied).
 *
 * Before anything is signed: the config must have an "audit_seal" section
 * (else SG_ERR_CONFIG); a PEM key must be a private file
 * (sg_secret_check_file) and open with the configured password; the key
 * must match "audit_seal.cert"; and that certificate's public key must differ
 * from every code-signing certificate the config names without a secret
 * ("signing.certificate", each of "signing.cert_chain", the certificates of
 * "signing.pkcs12" when they are readable without its password), else
 * SG_ERR_CONFIG. A log head behind the last seal (the log was cut), or the
 * same seq with another head, is SG_ERR_TAMPER and nothing is written. The
 * new seal is checked against the certificate before it is written. Returns
 * SG_OK, SG_ERR_CONFIG, SG_ERR_IO, SG_ERR_CRYPTO (wrong password or PIN, key
 * does not match), SG_ERR_TOOL (the PKCS#11 engine or module cannot be
 * loaded), SG_ERR_TAMPER or SG_ERR_NOMEM. When the record was appended but
 * the seal could not be written, the error says so: verify then reports an
 * interrupted seal, which the next `audit seal` mends.
 */
int sg_audit_seal_create(const sg_config *cfg, sg_audit_seal *out);

/* Seal only when the log's head is not sealed yet (a timer's run). */
#define SG_AUDIT_SEAL_IF_NEEDED 1u

/*
 * sg_audit_seal_create() with `flags`. With SG_AUDIT_SEAL_IF_NEEDED, a log
 * whose last record is the one the newest seal covers (same seq, same
 * SHA-256 of its line: nothing was appended since that seal, which covers
 * its own "seal" record) is not sealed again: SG_OK with out->already 1 and
 * out filled from that seal (its seq, head, time, signer and line), and
 * nothing is written, no record, no seal, no syslog line. This is judged
 * once before the sealing key is opened (a timer needs no password or PIN
 * while nothing changes) and again under the seals file's lock (two runs at
 * once seal once). Anything else (no seals file, a torn last seal, an
 * interrupted seal, records since the seal, a damaged log or seals file)
 * goes the way of sg_audit_seal_create(), with its codes.
 */
int sg_audit_seal_create_flags(const sg_config *cfg, unsigned flags, sg_audit_seal *out);

/*
 * Read the seals forwarded off the host (syslog, a SIEM export): every line
 * of `path` that holds a seal line (up to the line's last '}') of the log
 * named `log_name` (its base name, as seals carry it) signed by the pinned
 * certificate at `cert_path`. Lines may carry any prefix (syslog's time,
 * host and tag): the seal starts after "audit-seal " when the line has it,
 * else at the first '{'. Lines without a seal, and seals of other logs or
 * other certificates, are skipped; a seal that does not verify (forged,
 * injected through syslog by a local user, or mangled in transport) is
 * skipped and counted in *ignored (may be NULL). The seals are returned in
 * seq order (`line` is their line in `path`). SG_OK (also when none is
 * found), SG_ERR_IO (the file cannot be read), SG_ERR_CONFIG (the
 * certificate), SG_ERR_TAMPER (two verified seals of one seq with different
 * heads), SG_ERR_NOMEM. `bytes` and `sha256` are those of the whole file as
 * it was read, on SG_OK and on SG_ERR_TAMPER (then no seal is kept). The
 * file is opened without blocking: anything but a regular file (a FIFO, a
 * device) is SG_ERR_IO. Free with sg_audit_seals_free().
 */
int sg_audit_seals_load_offhost(sg_audit_seals *out, const char *path, const char *log_name,
				const char *cert_path, size_t *ignored);

/*
 * Add to `local` (the seals file, loaded) each seal of `offhost` that it
 * does not hold, marked offhost = 1, keeping seq order. A seal of a seq that
 * `local` seals with another head is SG_ERR_TAMPER naming both lines.
 * sg_audit_verify_files() then checks the off-host seals against the chain
 * too, and reports any seal missing from the seals file. SG_OK,
 * SG_ERR_TAMPER, SG_ERR_NOMEM.
 */
int sg_audit_seals_merge(sg_audit_seals *local, const sg_audit_seals *offhost);

#endif

/*
 * What the audit log says each signed file was signed from: a map from a
 * signed output's SHA-256 to the input of its signing record (a "sign"
 * record with decision "signed"), so that an input that already carries our
 * signature can be traced back to the vendor bytes it was made from. A
 * "timestamp" record with decision "timestamped" (signgate/restamp.h) maps
 * its output to the signing record of its input: the same signature over
 * the same content, made from the same vendor bytes.
 *
 * The map is built lazily, on the first lookup, in ONE pass over the log:
 * the rotated archives it continues (each "rotate" record names its
 * archive, looked for beside the log, oldest first) and then the log. That
 * pass checks every line as `audit verify` does on its own (well-formed,
 * "hash" matching, canonical bytes) and the chain that links them ("seq"
 * one more, "prev" the SHA-256 of the line before), without seals: a log
 * that fails is reported, never half used. Several threads may look up at
 * once; the first builds the map, the others wait for it.
 */
#ifndef SIGNGATE_AUDIT_SIGNINGS_H
#define SIGNGATE_AUDIT_SIGNINGS_H

#include <stddef.h>

#include "signgate/audit.h"

/* One signing record, as the log holds it. */
typedef struct sg_audit_signing {
	char output_sha256[65]; /* lower-case hex */
	char input_sha256[65];  /* lower-case hex */
	char *input_sha512;     /* lower-case hex; NULL when the record has none */
	char *input_name;       /* the input's base name; NULL when the record has none */
	int signed_before;      /* the input already carried a signature */
	char *approval_id;      /* NULL when the record has none */
	char id[SG_AUDIT_ID_LEN];
	long long seq;
	char time[21];
	/* Another signing record of the same output names other input bytes. */
	int conflict;
	/*
	 * Taken from a "timestamped" record: the SHA-256 (lower-case hex) of the
	 * file it timestamped into this output; "" for a signing record.
	 */
	char stamped_from[65];
} sg_audit_signing;

typedef struct sg_audit_signings sg_audit_signings;

/*
 * A map of the log at `log_path` (copied), not read yet. Returns SG_OK or
 * SG_ERR_NOMEM. Free with sg_audit_signings_free().
 */
int sg_audit_signings_new(sg_audit_signings **out, const char *log_path);

/*
 * The signing record of the output whose SHA-256 is `output_sha256` (hex,
 * any case). Returns SG_OK with *out pointing into the map (valid until it
 * is freed), or SG_OK with *out NULL when the log holds no such record;
 * then `gap` (`gap_size` bytes, may be 0) says what the log could not show:
 * e.g. that it continues an archive that is not beside it (else ""). A log
 * that does not exist holds no record. Errors, the same on every call
 * once the map was built: SG_ERR_TAMPER (a line or a link of the chain is
 * bad; the message names the file and the line), SG_ERR_IO, SG_ERR_NOMEM.
 */
int sg_audit_signings_find(sg_audit_signings *m, const char *output_sha256,
			   const sg_audit_signing **out, char *gap, size_t gap_size);

/* Free the map; NULL is accepted. */
void sg_audit_signings_free(sg_audit_signings *m);

#endif

/*
 * Timestamping later (issue 15): `signgate timestamp` adds an RFC 3161
 * timestamp to a file signgate signed while every TSA was down, without the
 * key. Nothing is signed again: the signature's SignerInfo gains the one
 * unsigned attribute 1.3.6.1.4.1.311.3.3.1 (the token over its signature
 * value, asked by lib/sign/timestamp.c through the confined timestamp
 * fetcher, the configured TSAs in order), and the signature is put back into
 * a private copy of the file the way signing attaches one (a PE by signgate
 * in place, anything else by a keyless, offline, confined `osslsigncode
 * attach-signature`).
 *
 * Before: the input (a private copy of it, read once) must carry exactly one
 * signature, ours: it verifies with the configured trust, its signer is the
 * configured signing certificate (signing.certificate: the key is never
 * opened) and it is, byte for byte, the signature its container holds, with
 * signgate's signed attributes. An input already timestamped is "skipped"
 * (SG_OK, nothing written); anything else is "denied".
 * After: the new file verifies with the same trust, carries the timestamp
 * (its chain under trust.tsa_ca_file), its signature is the old one plus
 * the token and nothing else (the old DER is what remains without the
 * token: same signed attributes, same signature value), its own Authenticode
 * digest is the input's, and it carries one signature. Only then is it
 * recorded (action "timestamp") and published atomically (a rename beside
 * the output). The input is never modified.
 */
#ifndef SIGNGATE_RESTAMP_H
#define SIGNGATE_RESTAMP_H

#include "signgate/pipeline.h"

/*
 * Timestamp job->input into job->output (job->action SG_ACTION_TIMESTAMP,
 * job->force replaces an existing output) with ctx: cfg, trust (verify),
 * signer (the configured certificate, required), tsa (the fetcher, required),
 * audit_log. Fills `o` as the pipeline does (decision "timestamped",
 * "skipped", "denied" or "failed"; o->sign says which TSA answered and which
 * failed before; o->verify the output's verification) and records the
 * outcome (decision "denied" and "failed" too) when ctx has an audit log.
 * Returns o->status: SG_OK (timestamped or skipped), SG_ERR_DENIED (unsigned),
 * SG_ERR_VERIFY or SG_ERR_FORMAT (not our valid signature, or an output that
 * did not verify), SG_ERR_EXISTS, SG_ERR_TOOL (no TSA answered, osslsigncode
 * failed), SG_ERR_IO, SG_ERR_NOMEM, SG_ERR_CONFIG.
 */
int sg_restamp_run(sg_outcome *o, const sg_context *ctx, const sg_job *job);

#endif

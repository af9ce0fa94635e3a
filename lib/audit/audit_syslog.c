/* Forwarding audit records to syslog(3); see include/signgate/audit.h. */
#include "signgate/audit.h"
#include "signgate/audit_query.h"
#include "audit_seal_internal.h"

#include <syslog.h>

static const char *or_dash(const json_t *rec, const char *path)
{
	const char *v = sg_audit_field(rec, path);

	return v ? v : "-";
}

void sg_audit_syslog(const sg_audit_receipt *r, const json_t *record, int facility, const char *tag)
{
	openlog(tag, LOG_PID | LOG_NDELAY, facility);
	/* Key=value pairs, as RFC 5424 structured data would carry them, on one line. */
	syslog(LOG_NOTICE,
	       "audit id=%s seq=%lld line_sha256=%s action=%s decision=%s input=%s "
	       "input_sha256=%s approval=%s output_sha256=%s signer_sha1=%s",
	       r->id, r->seq, r->line_sha256, or_dash(record, "action"),
	       or_dash(record, "decision"), or_dash(record, "input.name"),
	       or_dash(record, "input.sha256"), or_dash(record, "approval.id"),
	       or_dash(record, "output.sha256"),
	       or_dash(record, "signature.signer.sha1_thumbprint"));
	closelog();
}

void sg_audit_syslog_seal(const char *line, int facility, const char *tag)
{
	openlog(tag, LOG_PID | LOG_NDELAY, facility);
	/* The whole seal, about 1 KiB: checkable off the host with the certificate alone. */
	syslog(LOG_NOTICE, "audit-seal %s", line);
	closelog();
}

/* Thread-local last-error message; see include/signgate/error.h. */
#include "signgate/error.h"

#include <stdio.h>
#include <string.h>

#define MSG_MAX SG_ERROR_MAX

static _Thread_local char last_msg[MSG_MAX];
static _Thread_local int last_code;

int sg_error_setv(int code, const char *fmt, va_list ap)
{
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	last_code = code;
	return code;
}

int sg_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sg_error_setv(code, fmt, ap);
	va_end(ap);
	return code;
}

int sg_error_prefix(const char *fmt, ...)
{
	char prefix[SG_ERROR_MAX / 2]; /* half: the message keeps room after it */
	size_t plen, mlen = strlen(last_msg);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	plen = strlen(prefix) + 2;
	if (plen + mlen >= MSG_MAX)
		mlen = MSG_MAX - 1 - plen;
	memmove(last_msg + plen, last_msg, mlen);
	memcpy(last_msg, prefix, plen - 2);
	memcpy(last_msg + plen - 2, ": ", 2);
	last_msg[plen + mlen] = '\0';
	return last_code;
}

const char *sg_error_last(void)
{
	return last_msg;
}

int sg_error_code(void)
{
	return last_code;
}

void sg_error_clear(void)
{
	last_msg[0] = '\0';
	last_code = SG_OK;
}

const char *sg_status_name(int code)
{
	switch (code) {
	case SG_OK: return "ok";
	case SG_ERR_IO: return "io";
	case SG_ERR_NOMEM: return "nomem";
	case SG_ERR_USAGE: return "usage";
	case SG_ERR_CONFIG: return "config";
	case SG_ERR_FORMAT: return "format";
	case SG_ERR_DENIED: return "denied";
	case SG_ERR_VERIFY: return "verify";
	case SG_ERR_TOOL: return "tool";
	case SG_ERR_CRYPTO: return "crypto";
	case SG_ERR_TAMPER: return "tamper";
	case SG_ERR_EXISTS: return "exists";
	}
	return "unknown";
}

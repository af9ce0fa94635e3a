/*
 * signgate error convention.
 *
 * Every library function that can fail returns an int: SG_OK (0) on success or one
 * of the negative sg_status codes below. On failure it also leaves a message in a
 * thread-local buffer that names the file and the reason; read it with
 * sg_error_last(). The library never prints and never exits.
 */
#ifndef SIGNGATE_ERROR_H
#define SIGNGATE_ERROR_H

#include <stdarg.h>

/*
 * The longest message (with its NUL) the last-error buffer holds. Every
 * buffer a message passes through on its way to the user and the audit
 * record (a verification's reason, a job's message) is this size, so that
 * it is cut, if ever, in one place and not a little more at each hop.
 */
#define SG_ERROR_MAX 4096

typedef enum sg_status {
	SG_OK = 0,
	SG_ERR_IO = -1,      /* reading or writing a file failed */
	SG_ERR_NOMEM = -2,   /* an allocation failed */
	SG_ERR_USAGE = -3,   /* the caller passed bad arguments */
	SG_ERR_CONFIG = -4,  /* the config or the policy is broken */
	SG_ERR_FORMAT = -5,  /* input is not a supported installer or is malformed */
	SG_ERR_DENIED = -6,  /* the policy refused the input */
	SG_ERR_VERIFY = -7,  /* a signature or a digest did not verify */
	SG_ERR_TOOL = -8,    /* osslsigncode is missing, failed or misbehaved */
	SG_ERR_CRYPTO = -9,  /* a key, certificate or OpenSSL operation failed */
	SG_ERR_TAMPER = -10, /* the audit log's chain is broken */
	SG_ERR_EXISTS = -11, /* an output file exists already */
} sg_status;

/*
 * Record `code` with a printf-style message as this thread's last error and
 * return `code`, so that callers can write `return sg_error_set(...)`.
 */
int sg_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like sg_error_set() with a va_list. */
int sg_error_setv(int code, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/*
 * Prefix the current message with "prefix: ", keeping the code. Returns the
 * code of the last error.
 */
int sg_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last error's message ("" when none). Valid until the next sg_error_* call. */
const char *sg_error_last(void);

/* The last error's code (SG_OK when none). */
int sg_error_code(void);

/* Forget the last error. */
void sg_error_clear(void);

/* A short constant name for a status code, e.g. "denied". */
const char *sg_status_name(int code);

#endif

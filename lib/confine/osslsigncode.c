/* Which osslsigncode a run uses; see include/signgate/osslsigncode.h. */
#include "signgate/osslsigncode.h"
#include "signgate/error.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"

#define VERSION_TIMEOUT 30          /* seconds: it prints a few lines */
#define VERSION_FSIZE   (64u << 10) /* bytes, as a verification may write */

/* A decimal number of at most 6 digits at *p, advancing *p; -1 when none. */
static int number(const char **p)
{
	int n = 0, digits = 0;

	while (isdigit((unsigned char)**p) && digits < 6) {
		n = n * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	return digits && !isdigit((unsigned char)**p) ? n : -1;
}

int sg_osslsigncode_version_parse(char out[SG_OSSLSIGNCODE_VERSION_MAX], int *major, int *minor,
				  const char *text)
{
	static const char prefix[] = "osslsigncode ";
	const char *start, *p;

	if (!text || strncmp(text, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	start = p = text + sizeof(prefix) - 1;
	*major = number(&p);
	if (*major < 0 || *p++ != '.' || (*minor = number(&p)) < 0)
		return -1;
	while (*p == '.' && isdigit((unsigned char)p[1])) {
		p++;
		if (number(&p) < 0)
			return -1;
	}
	/* "2.9, using:" as 2.9 prints it; a bare "2.9" at the end of its line too. */
	if (*p != ',' && *p != '\n' && *p != '\r' && *p != '\0')
		return -1;
	if ((size_t)(p - start) >= SG_OSSLSIGNCODE_VERSION_MAX)
		return -1;
	memcpy(out, start, (size_t)(p - start));
	out[p - start] = '\0';
	return 0;
}

/* Not a file this process could run: a configuration problem, before anything runs. */
static int check_path(const char *path)
{
	struct stat st;

	if (!path || path[0] != '/')
		return sg_error_set(SG_ERR_CONFIG, "%s: not an absolute path",
				    path ? path : "(none)");
	if (stat(path, &st) != 0)
		return sg_error_set(SG_ERR_CONFIG, "%s: cannot be run: %s", path,
				    strerror(errno));
	/* Root's access(X_OK) holds for a file without any x bit: the mode says it too. */
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111) || access(path, X_OK) != 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: cannot be run: not an executable file", path);
	return SG_OK;
}

/* The first line of what it printed, for a message. */
static void first_line(char *buf, size_t len, const sg_proc_result *r)
{
	const char *t = r->out && r->out[0] ? r->out : r->err ? r->err : "";
	int n = (int)strcspn(t, "\r\n");

	snprintf(buf, len, "%.*s", n > 120 ? 120 : n, t);
}

static int judge(char out[SG_OSSLSIGNCODE_VERSION_MAX], const char *path,
		 const sg_proc_result *r)
{
	char line[128], how[64];
	int major, minor;

	first_line(line, sizeof(line), r);
	if (!r->exited || r->exit_status != 0 ||
	    sg_osslsigncode_version_parse(out, &major, &minor, r->out) != 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: does not answer --version as osslsigncode does "
				    "(it %s%s%s%s)",
				    path, sg_proc_describe(r, VERSION_TIMEOUT, how, sizeof(how)),
				    line[0] ? " and printed \"" : ", printing nothing", line,
				    line[0] ? "\"" : "");
	if (major < SG_OSSLSIGNCODE_MIN_MAJOR ||
	    (major == SG_OSSLSIGNCODE_MIN_MAJOR && minor < SG_OSSLSIGNCODE_MIN_MINOR))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s is osslsigncode %s: signgate needs %s or newer "
				    "(what it parses of 'osslsigncode verify', and 'attach-signature' "
				    "for MSI packages and scripts, are those of %s; Debian 12 has it "
				    "in bookworm-backports)",
				    path, out, SG_OSSLSIGNCODE_MIN, SG_OSSLSIGNCODE_MIN);
	return SG_OK;
}

int sg_osslsigncode_check(char out[SG_OSSLSIGNCODE_VERSION_MAX], const char *path,
			  const char *const *hide)
{
	const char *argv[] = { path, "--version", NULL };
	/* It reads nothing of ours and has nothing to write: where Landlock cannot say so, a little. */
	sg_confine_spec cs = { .name = "osslsigncode",
			       .system_files = 1,
			       .fsize_bytes = VERSION_FSIZE,
			       .cpu_sec = VERSION_TIMEOUT };
	sg_proc_confine pc = { &cs, NULL, 1, hide };
	sg_proc_spec spec = { argv, NULL, NULL, 0, VERSION_TIMEOUT };
	sg_proc_result r;
	int error;

	out[0] = '\0';
	if ((error = check_path(path)) != SG_OK)
		return error;
	if ((error = sg_proc_run_confined(&r, &spec, &pc)) != SG_OK)
		return sg_error_prefix("%s --version", path);
	error = judge(out, path, &r);
	sg_proc_result_free(&r);
	if (error)
		out[0] = '\0';
	return error;
}

/*
 * For unit tests that run the real osslsigncode on the CTest fixture:
 * `fixdir` (the fixture), `osslsigncode` (its path, overridable), a
 * `workdir` removed when setup fails, ossl() to run it and slurp() to read
 * a file whole,
 * ossl_report_value() to read a line of its verify report. Include after
 * check.h and signgate/proc.h, signgate/util.h.
 */
#ifndef SIGNGATE_TEST_CHECK_OSSL_H
#define SIGNGATE_TEST_CHECK_OSSL_H

static const char *fixdir;
static const char *osslsigncode = "/usr/bin/osslsigncode";
static char *workdir;

/* The test cannot run: say why, clean up, exit 2 (not a test failure). */
__attribute__((noreturn)) static void setup_fail(const char *what)
{
	fprintf(stderr, "setup failed: %s\n", what);
	check_workdir_remove(&workdir);
	exit(2);
}

/* Run osslsigncode (argv[0] is set here); its stdout into `out`. Setup fails unless it exits 0. */
static void ossl(char *out, size_t out_len, const char **argv)
{
	sg_proc_spec spec = { argv, NULL, NULL, 0, 120 };
	sg_proc_result r;

	argv[0] = osslsigncode;
	if (sg_proc_run(&r, &spec) != SG_OK)
		setup_fail(sg_error_last());
	if (!r.exited || r.exit_status != 0) {
		fprintf(stderr, "osslsigncode %s %s %s\n%s\n%s\n", argv[1], argv[2] ? argv[2] : "",
			argv[2] && argv[3] ? argv[3] : "", r.out, r.err);
		setup_fail("osslsigncode");
	}
	if (out)
		snprintf(out, out_len, "%s", r.out);
	sg_proc_result_free(&r);
}

/*
 * The value after `key` ("Calculated message digest") in osslsigncode
 * verify's report on signature `index` ("0", "1") of `path`, trust from the
 * fixture; "" when the report has no such line.
 */
__attribute__((unused)) static void ossl_report_value(char *out, size_t len, const char *path,
						      const char *index, const char *key)
{
	static char report[1 << 16];
	char ca[PATH_MAX];
	const char *argv[] = { NULL,          "verify",      "-in",    path,  "-CAfile", ca,
			       "-ignore-cdp", "-ignore-crl", "-index", index, NULL };
	const char *line;

	snprintf(ca, sizeof(ca), "%s", check_path(fixdir, "pki/root.pem"));
	ossl(report, sizeof(report), argv);
	out[0] = '\0';
	line = strstr(report, key);
	if (line && (line = strchr(line, ':')))
		snprintf(out, len, "%.*s", (int)strcspn(line + 2, " \n"), line + 2);
}

/* The whole file at `path` (at most 64 MiB), or setup fails; the caller frees it. */
static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || sg_read_fd(&buf, len, fd, path, 1u << 26, "file") != SG_OK)
		setup_fail(path);
	close(fd);
	return buf;
}

#endif

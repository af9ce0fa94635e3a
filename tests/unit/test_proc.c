/*
 * Unit tests for lib/proc.c: real programs run by absolute path (/bin/echo,
 * /bin/cat, /bin/ls, /bin/sleep, /bin/dd, /usr/bin/env) and this test binary
 * itself, re-run with "--raise SIG" or "--exit N" to end in a known way.
 */
#include "signgate/error.h"
#include "signgate/proc.h"

#include "check.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CAPTURE_MAX (4u << 20)

static char tmpdir[] = "/tmp/test_proc.XXXXXX";
static char self[PATH_MAX];

static int run(sg_proc_result *r, const char *const *argv, const void *in, size_t in_len,
	       int timeout_sec)
{
	sg_proc_spec spec = { argv, NULL, in, in_len, timeout_sec };

	sg_error_clear();
	return sg_proc_run(r, &spec);
}

static void test_stdout_stdin(void)
{
	const char *echo[] = { "/bin/echo", "hello", "two words", NULL };
	const char *cat[] = { "/bin/cat", NULL };
	const char data[] = "line 1\nline 2\0after a NUL\n";
	sg_proc_result r;
	char desc[64];

	CHECK_INT(run(&r, echo, NULL, 0, 10), SG_OK);
	CHECK_INT(r.exited, 1);
	CHECK_INT(r.exit_status, 0);
	CHECK_INT(r.signo, 0);
	CHECK_INT(r.timed_out, 0);
	CHECK_STR(r.out, "hello two words\n");
	CHECK_INT(r.out_len, 16);
	CHECK_STR(r.err, "");
	CHECK_INT(r.err_len, 0);
	CHECK_STR(sg_proc_describe(&r, 10, desc, sizeof(desc)), "exited with status 0");
	sg_proc_result_free(&r);
	CHECK(r.out == NULL && r.err == NULL && r.out_len == 0);
	sg_proc_result_free(&r); /* twice is harmless */

	/* Binary stdin, including a NUL, comes back byte for byte. */
	CHECK_INT(run(&r, cat, data, sizeof(data) - 1, 10), SG_OK);
	CHECK_INT(r.exit_status, 0);
	CHECK_INT(r.out_len, sizeof(data) - 1);
	CHECK(r.out && memcmp(r.out, data, sizeof(data) - 1) == 0);
	CHECK(r.out && r.out[r.out_len] == '\0');
	sg_proc_result_free(&r);

	/* No stdin data: the child reads /dev/null, and the outputs are "" rather than NULL. */
	CHECK_INT(run(&r, cat, NULL, 0, 10), SG_OK);
	CHECK_INT(r.exit_status, 0);
	CHECK_STR(r.out, "");
	CHECK_STR(r.err, "");
	sg_proc_result_free(&r);

	/* The largest stdin allowed (one pipe buffer), then one byte more. */
	char *big = malloc(65537);
	if (!big)
		exit(2);
	memset(big, 'p', 65537);
	CHECK_INT(run(&r, cat, big, 65536, 10), SG_OK);
	CHECK_INT(r.out_len, 65536);
	CHECK(r.out && memcmp(r.out, big, 65536) == 0);
	sg_proc_result_free(&r);
	CHECK_INT(run(&r, cat, big, 65537, 10), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "child input larger than 65536 bytes");
	CHECK(r.out == NULL && r.err == NULL);
	free(big);
}

static void test_stderr_and_status(void)
{
	const char *ls[] = { "/bin/ls", "/nonexistent-signgate-test", NULL };
	const char *exit7[] = { self, "--exit", "7", NULL };
	const char *term[] = { self, "--raise", "15", NULL };
	sg_proc_result r;
	char desc[64];

	CHECK_INT(run(&r, ls, NULL, 0, 10), SG_OK);
	CHECK_INT(r.exited, 1);
	CHECK_INT(r.exit_status, 2);
	CHECK_INT(r.signo, 0);
	CHECK_STR(r.out, "");
	CHECK_CONTAINS(r.err, "/nonexistent-signgate-test");
	CHECK_CONTAINS(r.err, "No such file or directory");
	CHECK_INT(r.err_len, strlen(r.err));
	CHECK_STR(sg_proc_describe(&r, 10, desc, sizeof(desc)), "exited with status 2");
	sg_proc_result_free(&r);

	CHECK_INT(run(&r, exit7, NULL, 0, 10), SG_OK);
	CHECK_INT(r.exited, 1);
	CHECK_INT(r.exit_status, 7);
	CHECK_STR(r.out, "about to exit\n");
	CHECK_STR(r.err, "on stderr\n");
	sg_proc_result_free(&r);

	CHECK_INT(run(&r, term, NULL, 0, 10), SG_OK);
	CHECK_INT(r.exited, 0);
	CHECK_INT(r.exit_status, -1);
	CHECK_INT(r.signo, SIGTERM);
	CHECK_INT(r.timed_out, 0);
	CHECK_STR(sg_proc_describe(&r, 10, desc, sizeof(desc)), "killed by signal 15");
	sg_proc_result_free(&r);
}

static void test_timeout(void)
{
	const char *sleep30[] = { "/bin/sleep", "30", NULL };
	struct timespec t0, t1;
	sg_proc_result r;
	char desc[64];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(run(&r, sleep30, NULL, 0, 1), SG_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_INT(r.timed_out, 1);
	CHECK_INT(r.exited, 0);
	CHECK_INT(r.signo, SIGKILL);
	CHECK(t1.tv_sec - t0.tv_sec < 5);
	CHECK_STR(sg_proc_describe(&r, 1, desc, sizeof(desc)), "timed out after 1 s");
	sg_proc_result_free(&r);
}

static void test_refused(void)
{
	const char *rel[] = { "bin/echo", "x", NULL };
	const char *bare[] = { "echo", "x", NULL };
	const char *missing[] = { "/nonexistent/osslsigncode", NULL };
	const char *dir[] = { "/tmp", NULL };
	const char *noexec[] = { NULL, NULL };
	const char *none[] = { NULL };
	char path[512];
	sg_proc_result r;
	int fd;

	CHECK_INT(run(&r, rel, NULL, 0, 10), SG_ERR_TOOL);
	CHECK_STR(sg_error_last(), "bin/echo: programs are run by absolute path only");
	CHECK(r.out == NULL && r.err == NULL);
	CHECK_INT(run(&r, bare, NULL, 0, 10), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "echo: programs are run by absolute path only");
	CHECK_INT(run(&r, none, NULL, 0, 10), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "(null): programs are run by absolute path only");

	CHECK_INT(run(&r, missing, NULL, 0, 10), SG_ERR_TOOL);
	CHECK_INT(sg_error_code(), SG_ERR_TOOL);
	CHECK_STR(sg_error_last(),
		  "/nonexistent/osslsigncode: cannot run: No such file or directory");

	CHECK_INT(run(&r, dir, NULL, 0, 10), SG_ERR_TOOL);
	CHECK_STR(sg_error_last(), "/tmp: not an executable file");

	snprintf(path, sizeof(path), "%s/not-executable", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && write(fd, "#!/bin/sh\n", 10) == 10);
	if (fd >= 0)
		close(fd);
	noexec[0] = path;
	CHECK_INT(run(&r, noexec, NULL, 0, 10), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "not-executable: not an executable file");
	unlink(path);
}

static void test_environment(void)
{
	const char *env[] = { "/usr/bin/env", NULL };
	const char *mine[] = { "SG_ONLY=1", NULL };
	sg_proc_spec spec = { env, NULL, NULL, 0, 10 };
	sg_proc_result r;

	/* Nothing of ours leaks into the child. */
	setenv("SG_TEST_SECRET", "hunter2", 1);
	CHECK_INT(sg_proc_run(&r, &spec), SG_OK);
	CHECK_STR(r.out, "PATH=/usr/bin:/bin\nLC_ALL=C\n");
	sg_proc_result_free(&r);
	unsetenv("SG_TEST_SECRET");

	spec.envp = mine;
	CHECK_INT(sg_proc_run(&r, &spec), SG_OK);
	CHECK_STR(r.out, "SG_ONLY=1\n");
	sg_proc_result_free(&r);
}

/* 6 MiB of output: the first 4 MiB are kept in order, the rest drained, no deadlock. */
static void test_output_cap(void)
{
	const size_t len = 6u << 20;
	char path[512], ifarg[600];
	const char *cat[] = { "/bin/cat", path, NULL };
	/* dd writes in small, odd blocks, so reads end at arbitrary places near the cap. */
	const char *dd[] = { "/bin/dd", ifarg, "bs=1000", "status=none", NULL };
	unsigned char *buf = malloc(len);
	sg_proc_result r;
	int fd;

	if (!buf)
		exit(2);
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7 + (i >> 12));
	snprintf(path, sizeof(path), "%s/six-mib", tmpdir);
	snprintf(ifarg, sizeof(ifarg), "if=%s", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, buf, len) == (ssize_t)len);
	if (fd >= 0)
		close(fd);

	CHECK_INT(run(&r, cat, NULL, 0, 30), SG_OK);
	CHECK_INT(r.timed_out, 0);
	CHECK_INT(r.exited, 1);
	CHECK_INT(r.exit_status, 0);
	CHECK_INT(r.out_len, CAPTURE_MAX);
	CHECK(r.out && memcmp(r.out, buf, CAPTURE_MAX) == 0);
	CHECK(r.out && r.out[r.out_len] == '\0');
	sg_proc_result_free(&r);

	CHECK_INT(run(&r, dd, NULL, 0, 30), SG_OK);
	CHECK_INT(r.timed_out, 0);
	CHECK_INT(r.exit_status, 0);
	CHECK_INT(r.out_len, CAPTURE_MAX);
	CHECK(r.out && memcmp(r.out, buf, CAPTURE_MAX) == 0);
	sg_proc_result_free(&r);

	unlink(path);
	free(buf);
}

/* The child side of the self-runs. */
static int child_main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--raise") == 0) {
		raise(atoi(argv[2]));
		return 99;
	}
	if (argc == 3 && strcmp(argv[1], "--exit") == 0) {
		fputs("about to exit\n", stdout);
		fputs("on stderr\n", stderr);
		return atoi(argv[2]);
	}
	return 98;
}

int main(int argc, char **argv)
{
	ssize_t n;

	if (argc > 1)
		return child_main(argc, argv);
	alarm(120); /* a deadlock fails the test instead of hanging it */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || !mkdtemp(tmpdir)) {
		perror("setup");
		return 2;
	}
	self[n] = '\0';
	test_stdout_stdin();
	test_stderr_and_status();
	test_timeout();
	test_refused();
	test_environment();
	test_output_cap();
	if (rmdir(tmpdir) != 0) {
		perror(tmpdir);
		check_failed++;
	}
	return check_done();
}

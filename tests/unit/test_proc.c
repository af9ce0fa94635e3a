/*
 * Unit tests for lib/proc.c: real programs run by absolute path (/bin/echo,
 * /bin/cat, /bin/ls, /bin/sleep, /bin/dd, /usr/bin/env) and this test binary
 * itself, re-run with "--raise SIG" or "--exit N" to end in a known way.
 */
#include "signgate/error.h"
#include "signgate/osslsigncode.h"
#include "proc.h"

#include "check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <grp.h>
#include <sched.h>
#include <errno.h>
#include <stdint.h>
#include <sys/wait.h>
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

static int run_offline(sg_proc_result *r, const char *const *argv, int timeout_sec)
{
	sg_proc_spec spec = { argv, NULL, NULL, 0, timeout_sec };

	sg_error_clear();
	return sg_proc_run_offline(r, &spec);
}

/* A TCP socket listening on 127.0.0.1; its port in `port`. */
static int listen_loopback(char port[8])
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		perror("listen on 127.0.0.1");
		exit(2);
	}
	snprintf(port, 8, "%u", ntohs(sa.sin_port));
	return fd;
}

/* The same program reaches 127.0.0.1 with sg_proc_run and nothing with sg_proc_run_offline. */
static void test_offline_network(void)
{
	char port[8], netns[64], how[64];
	int lfd = listen_loopback(port);
	const char *probe[] = { self, "--connect", port, NULL };
	const char *ns[] = { self, "--netns", NULL };
	sg_proc_result r;
	ssize_t n = readlink("/proc/self/ns/net", netns, sizeof(netns) - 1);

	netns[n > 0 ? n : 0] = '\0';
	CHECK_INT(run(&r, probe, NULL, 0, 10), SG_OK);
	CHECK_INT(r.exit_status, 0);
	CHECK_STR(r.out, "connected\n");
	sg_proc_result_free(&r);

	CHECK_INT(run_offline(&r, probe, 10), SG_OK);
	CHECK_STR(sg_proc_describe(&r, 10, how, sizeof(how)), "exited with status 1");
	CHECK_STR(r.out, "socket: Permission denied\n");
	sg_proc_result_free(&r);

	/* Its own namespace, not the caller's; the caller's stays as it was. */
	CHECK_INT(run_offline(&r, ns, 10), SG_OK);
	CHECK(r.out && strncmp(r.out, "net:[", 5) == 0);
	CHECK(r.out && strncmp(r.out, netns, strlen(netns)) != 0);
	sg_proc_result_free(&r);
	CHECK_INT(run(&r, probe, NULL, 0, 10), SG_OK);
	CHECK_STR(r.out, "connected\n");
	sg_proc_result_free(&r);
	close(lfd);
}

static int run_offline_as(char *out, size_t out_len, const char *const *argv, const char *jail,
			  int uid, int dumpable);

/*
 * Inside: only a loopback interface; no socket at all, so a socket file on
 * the file system (which no network namespace hides) is out of reach too,
 * and so is io_uring.
 */
static void test_offline_no_sockets(void)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const char *unix_probe[] = { self, "--unix", path, NULL };
	const char *ifaces[] = { self, "--ifaces", NULL };
	const char *uring[] = { self, "--uring", NULL };
	sg_proc_result r;

	snprintf(path, sizeof(path), "%s/sock", tmpdir);
	memcpy(sa.sun_path, path, sizeof(path));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0) {
		perror("socket file");
		exit(2);
	}
	CHECK_INT(run(&r, unix_probe, NULL, 0, 10), SG_OK);
	CHECK_STR(r.out, "connected\n");
	sg_proc_result_free(&r);
	CHECK_INT(run_offline(&r, unix_probe, 10), SG_OK);
	CHECK_STR(r.out, "socket: Permission denied\n");
	sg_proc_result_free(&r);
	CHECK_INT(run_offline(&r, ifaces, 10), SG_OK);
	CHECK_STR(r.out, "lo\n");
	sg_proc_result_free(&r);
	CHECK_INT(run_offline(&r, uring, 10), SG_OK);
	CHECK_STR(r.out, "io_uring: Permission denied\n");
	sg_proc_result_free(&r);
	close(fd);
	unlink(path);
}

/*
 * The child cannot join our network namespace again (as root, a bare
 * network namespace would let it: setns through /proc/PID/ns/net), and
 * root keeps its ids inside, dumpable or not.
 */
static void test_offline_no_way_back(void)
{
	char port[8], pid[16], out[1024];
	int lfd = listen_loopback(port);
	const char *escape[] = { self, "--escape", pid, port, NULL };
	const char *ids[] = { self, "--ids", NULL };
	sg_proc_result r;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	CHECK_INT(run_offline(&r, escape, 10), SG_OK);
	/* EACCES opening it, or EPERM joining it: either way it stays out. */
	CHECK(r.out && (strcmp(r.out, "setns: Permission denied\n"
				      "socket: Permission denied\n") == 0 ||
			strcmp(r.out, "setns: Operation not permitted\n"
				      "socket: Permission denied\n") == 0));
	sg_proc_result_free(&r);
	close(lfd);
	if (geteuid() != 0)
		return;
	CHECK_INT(run_offline_as(out, sizeof(out), ids, NULL, -1, 1), 10);
	CHECK_STR(out, "0 0\n");
	CHECK_INT(run_offline_as(out, sizeof(out), ids, NULL, -1, 0), 10);
	CHECK_STR(out, "0 0\n");
}

/* Input, output, status, signals, time limit and descriptors as with sg_proc_run. */
static void test_offline_runs_alike(void)
{
	const char *cat[] = { "/bin/cat", NULL };
	const char *fds[] = { self, "--fds", NULL };
	const char *killed[] = { self, "--raise", "9", NULL };
	const char *failing[] = { self, "--exit", "3", NULL };
	const char *sleep_[] = { "/bin/sleep", "30", NULL };
	const char *env[] = { "/usr/bin/env", NULL };
	sg_proc_spec spec = { cat, NULL, "secret\n", 7, 10 };
	sg_proc_result r;
	int leak = open("/dev/null", O_RDONLY); /* without O_CLOEXEC: must not reach the child */

	CHECK_INT(sg_proc_run_offline(&r, &spec), SG_OK);
	CHECK_STR(r.out, "secret\n");
	sg_proc_result_free(&r);
	CHECK_INT(run_offline(&r, fds, 10), SG_OK);
	CHECK_STR(r.out, "0 1 2\n");
	sg_proc_result_free(&r);
	CHECK_INT(run_offline(&r, killed, 10), SG_OK);
	CHECK_INT(r.signo, 9);
	sg_proc_result_free(&r);
	CHECK_INT(run_offline(&r, failing, 10), SG_OK);
	CHECK_INT(r.exit_status, 3);
	CHECK_STR(r.out, "about to exit\n");
	CHECK_STR(r.err, "on stderr\n");
	sg_proc_result_free(&r);
	CHECK_INT(run_offline(&r, sleep_, 1), SG_OK);
	CHECK_INT(r.timed_out, 1);
	sg_proc_result_free(&r);
	CHECK_INT(run_offline(&r, env, 10), SG_OK);
	CHECK_STR(r.out, "PATH=/usr/bin:/bin\nLC_ALL=C\n");
	sg_proc_result_free(&r);
	if (leak >= 0)
		close(leak);
}

/* A file that is executable but no program: execve's error comes back from the child. */
static void test_offline_exec_error(void)
{
	char path[512];
	const char *argv[] = { path, NULL };
	sg_proc_result r;

	snprintf(path, sizeof(path), "%s/no-program", tmpdir);
	check_write_file(path,
			 "\x7f"
			 "ELF garbage",
			 12, 0755);
	CHECK_INT(run_offline(&r, argv, 10), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "no-program: cannot start: Exec format error");
	unlink(path);
}

#define OTHER_ID 12345 /* an account without a name, so that no map can show it by chance */

/*
 * Run `argv` offline in a child process as `uid` (-1: as we are), in a
 * chroot to `jail` when it is not NULL, dumpable or not; what it printed (or the error) in
 * `out`, sg_proc_run_offline's code as 10 - code. Only root can do this.
 */
static int run_offline_as(char *out, size_t out_len, const char *const *argv, const char *jail,
			  int uid, int dumpable)
{
	int p[2], status = 0;
	pid_t pid;
	ssize_t n;

	if (pipe(p) != 0 || (pid = fork()) < 0)
		exit(2);
	if (pid == 0) {
		sg_proc_spec spec = { argv, NULL, "", 0, 10 };
		sg_proc_result r;
		int rc;

		close(p[0]);
		if ((jail && (chroot(jail) != 0 || chdir("/") != 0)) ||
		    (uid >= 0 && (setgroups(0, NULL) != 0 || setgid((gid_t)uid) != 0 ||
				  setuid((uid_t)uid) != 0)) ||
		    prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0) != 0)
			_exit(100);
		rc = sg_proc_run_offline(&r, &spec);
		dprintf(p[1], "%s%s", rc == SG_OK ? r.out : sg_error_last(),
			rc == SG_OK ? r.err : "");
		_exit(10 - rc);
	}
	close(p[1]);
	n = read(p[0], out, out_len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Not root: the network namespace comes with a user namespace, which maps
 * the caller's own ids when it is dumpable and none when it is not (the
 * files it owns are still its own); where no user namespace can be made (a
 * chroot forbids it), the program is not run and the error says why.
 */
static void test_offline_unprivileged(void)
{
	char port[8], script[1024], out[1024], jail[512], bin[600], prog[700], own[600];
	int lfd;
	const char *probe[] = { "/bin/bash", "-c", script, NULL };
	const char *jailed[] = { "/bin/prog", NULL };
	const char *unreachable = "/dev/tcp/127.0.0.1/";

	if (geteuid() != 0) {
		fprintf(stderr,
			"test_offline_unprivileged: skipped (needs root to change users)\n");
		return;
	}
	lfd = listen_loopback(port);
	snprintf(own, sizeof(own), "%s/own", tmpdir);
	check_write_file(own, "mine\n", 5, 0600);
	CHECK(chown(own, OTHER_ID, OTHER_ID) == 0 && chmod(tmpdir, 0711) == 0);
	snprintf(script, sizeof(script),
		 "echo $(id -u) $(id -g); cat %s; exec 3<>/dev/tcp/127.0.0.1/%s && echo connected",
		 own, port);
	CHECK_INT(run_offline_as(out, sizeof(out), probe, NULL, OTHER_ID, 1), 10);
	CHECK(strncmp(out, "12345 12345\nmine\n", 17) == 0);
	CHECK_CONTAINS(out, "socket: Permission denied");
	CHECK(!strstr(out, "connected"));
	CHECK_INT(run_offline_as(out, sizeof(out), probe, NULL, OTHER_ID, 0), 10);
	CHECK(strncmp(out, "65534 65534\nmine\n", 17) == 0);
	CHECK_CONTAINS(out, unreachable);
	CHECK(!strstr(out, "connected"));
	close(lfd);
	unlink(own);
	chmod(tmpdir, 0700);

	snprintf(jail, sizeof(jail), "%s/jail", tmpdir);
	snprintf(bin, sizeof(bin), "%s/bin", jail);
	snprintf(prog, sizeof(prog), "%s/prog", bin);
	CHECK(mkdir(jail, 0755) == 0 && mkdir(bin, 0755) == 0);
	check_write_file(prog, "#!/bin/sh\n", 10, 0755);
	CHECK_INT(run_offline_as(out, sizeof(out), jailed, jail, OTHER_ID, 1), 10 - SG_ERR_TOOL);
	CHECK_STR(out, "cannot keep prog off the network: unshare(CLONE_NEWUSER|CLONE_NEWNET): "
		       "Operation not permitted");
	/* Root there receives a bare network namespace: the run goes on to execve (no /bin/sh). */
	CHECK_INT(run_offline_as(out, sizeof(out), jailed, jail, -1, 1), 10 - SG_ERR_TOOL);
	CHECK_STR(out, "/bin/prog: cannot start: No such file or directory");
	unlink(prog);
	rmdir(bin);
	rmdir(jail);
}

/* Child: connect to 127.0.0.1:PORT; "connected" (0) or "connect: REASON" (1). */
static int probe_connect(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)atoi(port));
	if (fd < 0) {
		printf("socket: %s\n", strerror(errno));
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		printf("connect: %s\n", strerror(errno));
		return 1;
	}
	puts("connected");
	return 0;
}

/* Child: join the network namespace of process PID, then connect to 127.0.0.1:PORT. */
static int probe_escape(const char *pid, const char *port)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
		printf("setns: %s\n", strerror(errno));
	else
		printf("setns: joined\n");
	fflush(stdout);
	return probe_connect(port);
}

/* Child: connect to the socket file PATH; "connected" or "socket|connect: REASON". */
static int probe_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0) {
		printf("socket: %s\n", strerror(errno));
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		printf("connect: %s\n", strerror(errno));
		return 1;
	}
	puts("connected");
	return 0;
}

/* Child: the interfaces of its network namespace, from /proc/self/net/dev. */
static int list_ifaces(void)
{
	FILE *f = fopen("/proc/self/net/dev", "r");
	char line[256], name[64];

	if (!f)
		return 2;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %63[^:]:", name) == 1 && !strchr(name, '|'))
			printf("%s\n", name);
	fclose(f);
	return 0;
}

/* Child: can it set up an io_uring (which makes sockets without socket(2))? */
static int probe_uring(void)
{
	unsigned char params[120] = { 0 }; /* struct io_uring_params */
	long fd = syscall(__NR_io_uring_setup, 1, params);

	printf("io_uring: %s\n", fd >= 0 ? "ok" : strerror(errno));
	return 0;
}

/* Child: the open descriptors, but for the one listing them. */
static int list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	const char *sep = "";

	if (!d)
		return 2;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d)) {
			printf("%s%s", sep, e->d_name);
			sep = " ";
		}
	closedir(d);
	printf("\n");
	return 0;
}

/* The child side of the self-runs. */
static int child_main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--raise") == 0) {
		raise(atoi(argv[2]));
		return 99;
	}
	if (argc == 3 && strcmp(argv[1], "--connect") == 0)
		return probe_connect(argv[2]);
	if (argc == 4 && strcmp(argv[1], "--escape") == 0)
		return probe_escape(argv[2], argv[3]);
	if (argc == 2 && strcmp(argv[1], "--ids") == 0) {
		printf("%u %u\n", (unsigned)getuid(), (unsigned)getgid());
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--unix") == 0)
		return probe_unix(argv[2]);
	if (argc == 2 && strcmp(argv[1], "--ifaces") == 0)
		return list_ifaces();
	if (argc == 2 && strcmp(argv[1], "--uring") == 0)
		return probe_uring();
	if (argc == 2 && strcmp(argv[1], "--fds") == 0)
		return list_fds();
	if (argc == 2 && strcmp(argv[1], "--netns") == 0) {
		char buf[64];
		ssize_t n = readlink("/proc/self/ns/net", buf, sizeof(buf) - 1);
		printf("%.*s\n", n > 0 ? (int)n : 0, buf);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--exit") == 0) {
		fputs("about to exit\n", stdout);
		fputs("on stderr\n", stderr);
		return atoi(argv[2]);
	}
	return 98;
}

/* osslsigncode's --version text, and the check that runs it (lib/confine/osslsigncode.c). */
static void test_osslsigncode_version(void)
{
	static const struct {
		const char *text, *want;
		int major, minor;
	} ok[] = {
		{ "osslsigncode 2.9, using:\n\tOpenSSL 3.0.13\n", "2.9", 2, 9 },
		{ "osslsigncode 2.10.1, using:\n", "2.10.1", 2, 10 },
		{ "osslsigncode 2.5\n", "2.5", 2, 5 },
		{ "osslsigncode 3.0", "3.0", 3, 0 },
	};
	static const char *const bad[] = {
		"", "osslsigncode", "osslsigncode 2", "osslsigncode 2.", "osslsigncode .9, using:",
		"osslsigncode 2.9beta, using:", "Osslsigncode 2.9, using:", "usage: osslsigncode",
		"osslsigncode 1234567.9, using:", "osslsigncode 2.9.",
	};
	char v[SG_OSSLSIGNCODE_VERSION_MAX], path[PATH_MAX];
	int major, minor;
	FILE *f;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK_INT(sg_osslsigncode_version_parse(v, &major, &minor, ok[i].text), 0);
		CHECK_STR(v, ok[i].want);
		CHECK_INT(major, ok[i].major);
		CHECK_INT(minor, ok[i].minor);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(sg_osslsigncode_version_parse(v, &major, &minor, bad[i]), -1);

	CHECK_INT(sg_osslsigncode_check(v, "/nonexistent/osslsigncode", NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "/nonexistent/osslsigncode: cannot be run: No such file");
	CHECK_INT(sg_osslsigncode_check(v, "osslsigncode", NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "osslsigncode: not an absolute path");
	/* A script: run confined, it answers "2.4" and is refused with the reason. */
	snprintf(path, sizeof(path), "%s/old-osslsigncode", tmpdir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("#!/bin/sh\necho 'osslsigncode 2.4, using:'\n", f);
		fclose(f);
	}
	CHECK_INT(sg_osslsigncode_check(v, path, NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "cannot be run: not an executable file");
	chmod(path, 0755);
	CHECK_INT(sg_osslsigncode_check(v, path, NULL), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "old-osslsigncode is osslsigncode 2.4: signgate needs 2.9 or newer");
	CHECK_STR(v, "");
	unlink(path);
	/* The real one (scripts/setup.sh installs 2.9 or newer). */
	if (access("/usr/bin/osslsigncode", X_OK) == 0) {
		CHECK_INT(sg_osslsigncode_check(v, "/usr/bin/osslsigncode", NULL), SG_OK);
		CHECK(v[0] >= '2' && strchr(v, '.') != NULL);
	}
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
	test_offline_network();
	test_offline_no_sockets();
	test_offline_no_way_back();
	test_offline_runs_alike();
	test_offline_exec_error();
	test_offline_unprivileged();
	test_osslsigncode_version();
	if (rmdir(tmpdir) != 0) {
		perror(tmpdir);
		check_failed++;
	}
	return check_done();
}

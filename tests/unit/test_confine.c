/*
 * Unit tests for lib/confine.c and lib/confine_child.c: the probe, the
 * force knob, the report's JSON, and forked children that apply a spec and
 * then try what it forbids. Run twice by CTest: as the kernel is, and with
 * SIGNGATE_CONFINE_FORCE lowering it (Landlock ABI 2, no user notification).
 */
#include "signgate/confine.h"
#include "signgate/error.h"

#include "check.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static char tmpdir[] = "/tmp/test_confine.XXXXXX";
static char outdir[PATH_MAX], secret[PATH_MAX], readable[PATH_MAX];

static void test_force_parse(void)
{
	sg_confine_caps c = { 7, 1, 1, 1, 0 };

	CHECK_INT(sg_confine_force_parse(&c, NULL), SG_OK);
	CHECK_INT(c.forced, 0);
	CHECK_INT(sg_confine_force_parse(&c, "landlock=9"), SG_OK); /* never raises */
	CHECK_INT(c.landlock_abi, 7);
	CHECK_INT(c.forced, 0);
	CHECK_INT(sg_confine_force_parse(&c, "landlock=2,notify=0"), SG_OK);
	CHECK_INT(c.landlock_abi, 2);
	CHECK_INT(c.seccomp, 1);
	CHECK_INT(c.seccomp_notify, 0);
	CHECK_INT(c.forced, 1);
	CHECK_INT(sg_confine_force_parse(&c, "seccomp=0,userns=0"), SG_OK);
	CHECK_INT(c.seccomp, 0);
	CHECK_INT(c.userns, 0);

	sg_confine_caps d = { 7, 1, 1, 1, 0 };
	CHECK_INT(sg_confine_force_parse(&d, "landlok=1"), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "SIGNGATE_CONFINE_FORCE: cannot understand \"landlok=1\"");
	CHECK_INT(d.landlock_abi + d.seccomp + d.seccomp_notify + d.userns, 0);
	sg_confine_caps e = { 7, 1, 1, 1, 0 };
	CHECK_INT(sg_confine_force_parse(&e, "seccomp=2"), SG_ERR_CONFIG);
	sg_confine_caps f = { 7, 1, 1, 1, 0 };
	CHECK_INT(sg_confine_force_parse(&f, "landlock="), SG_ERR_CONFIG);
}

static void test_mode(void)
{
	sg_confine_mode m;

	CHECK_INT(sg_confine_mode_parse(&m, "required"), SG_OK);
	CHECK_INT(m, SG_CONFINE_REQUIRED);
	CHECK_INT(sg_confine_mode_parse(&m, "auto"), SG_OK);
	CHECK_INT(m, SG_CONFINE_AUTO);
	CHECK_INT(sg_confine_mode_parse(&m, "strict"), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "\"strict\" is neither \"auto\" nor \"required\"");
}

static void test_report_json(void)
{
	sg_confine_report rep = { 0 };
	json_t *j;
	char *s;

	rep.landlock_abi = 7;
	rep.seccomp = rep.named = rep.no_network = rep.netns = rep.rlimits = 1;
	j = sg_confine_report_json(&rep);
	s = json_dumps(j, JSON_COMPACT);
	CHECK_STR(s, "{\"landlock_abi\":7,\"seccomp\":true,\"named\":true,\"network\":\"none\","
		     "\"netns\":true,\"rlimits\":true}");
	free(s);
	json_decref(j);
	memset(&rep, 0, sizeof(rep));
	rep.landlock_abi = 2;
	rep.forced = rep.violation = 1;
	snprintf(rep.reason, sizeof(rep.reason), "killed by SIGSYS");
	j = sg_confine_report_json(&rep);
	s = json_dumps(j, JSON_COMPACT);
	CHECK_STR(s, "{\"landlock_abi\":2,\"seccomp\":false,\"named\":false,\"network\":\"open\","
		     "\"netns\":false,\"rlimits\":false,\"forced\":true,"
		     "\"violation\":\"killed by SIGSYS\"}");
	free(s);
	json_decref(j);
}

/* What the confined child tries; its exit status is 0 on success, else the errno. */
static int attack(const char *what)
{
	char path[PATH_MAX + 16];
	int fd;

	if (strcmp(what, "read-allowed") == 0)
		fd = open(readable, O_RDONLY);
	else if (strcmp(what, "read-secret") == 0)
		fd = open(secret, O_RDONLY);
	else if (strcmp(what, "create-outside") == 0) {
		snprintf(path, sizeof(path), "%s/planted", tmpdir);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	} else if (strcmp(what, "create-inside") == 0) {
		snprintf(path, sizeof(path), "%s/out.bin", outdir);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	} else if (strcmp(what, "fsize") == 0) {
		static char buf[8192];
		snprintf(path, sizeof(path), "%s/big.bin", outdir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		/* The first write stops at the limit; the next one meets it. */
		for (int i = 0; fd >= 0 && i < 2; i++)
			if (write(fd, buf, sizeof(buf)) < 0)
				return errno;
	} else if (strcmp(what, "ptrace") == 0) {
		return ptrace(PTRACE_ATTACH, getppid(), 0, 0) == 0 ? 0 : errno;
	} else if (strcmp(what, "socket") == 0) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
	} else if (strcmp(what, "x32") == 0) {
		return syscall(0x40000000 | 39 /* x32 getpid */) < 0 ? errno : 0;
	} else if (strcmp(what, "signal-parent") == 0) {
		return kill(getppid(), 0) == 0 ? 0 : errno;
	} else {
		return 200;
	}
	return fd >= 0 ? 0 : errno;
}

typedef struct outcome {
	int exited, status, signo;
	sg_confine_report rep;
} outcome;

/* Fork, confine the child by `spec`, let it try `what`; watch and report as proc.c does. */
static void run_confined(outcome *o, const char *what)
{
	const char *reads[] = { readable, NULL };
	sg_confine_spec spec = { "test child", reads, NULL, outdir, NULL, 1, 0, 10, 0, 4096, 0, 0 };
	sg_confine_prepared *p = NULL;
	int sv[2], listener = -1, status = 0;
	const char *step;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (sg_confine_prepare(&p, &spec) != SG_OK ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		fprintf(stderr, "prepare: %s\n", sg_error_last());
		exit(2);
	}
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		int err = sg_confine_apply_child(p, sv[1], &step);
		if (err) {
			fprintf(stderr, "apply: %s: %s\n", step, strerror(err));
			_exit(101);
		}
		_exit(attack(what));
	}
	close(sv[1]);
	CHECK_INT(sg_confine_recv_listener(sv[0], &listener), SG_OK);
	close(sv[0]);
	CHECK_INT(listener >= 0, sg_confine_probe()->seccomp_notify);
	o->rep.named = listener >= 0;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		struct pollfd pfd = { listener, POLLIN, 0 };
		if (listener >= 0 && poll(&pfd, 1, 50) > 0 && (pfd.revents & POLLIN))
			sg_confine_handle_notify(listener, pid, &o->rep);
		else if (listener < 0)
			usleep(20000);
	}
	if (listener >= 0)
		close(listener);
	o->exited = WIFEXITED(status);
	o->status = o->exited ? WEXITSTATUS(status) : -1;
	o->signo = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	sg_confine_report_finish(&o->rep, p, o->exited, o->signo);
	sg_confine_prepared_free(p);
}

static void test_children(void)
{
	const sg_confine_caps *c = sg_confine_probe();
	outcome o;

	if (c->landlock_abi == 0 || !c->seccomp) {
		fprintf(stderr, "no Landlock or seccomp here: the children are not tested\n");
		return;
	}
	run_confined(&o, "read-allowed");
	CHECK_INT(o.status, 0);
	CHECK_INT(o.rep.landlock_abi, c->landlock_abi);
	CHECK_INT(o.rep.seccomp, 1);
	CHECK_INT(o.rep.named, c->seccomp_notify);
	CHECK_INT(o.rep.violation, 0);
	run_confined(&o, "read-secret");
	CHECK_INT(o.status, EACCES);
	run_confined(&o, "create-outside");
	CHECK_INT(o.status, EACCES);
	CHECK(access(check_path(tmpdir, "planted"), F_OK) != 0);
	run_confined(&o, "create-inside");
	CHECK_INT(o.status, 0);
	run_confined(&o, "socket");
	CHECK_INT(o.status, EACCES);
	CHECK_INT(o.rep.no_network, 1);

	run_confined(&o, "fsize");
	CHECK_INT(o.signo, SIGXFSZ);
	CHECK_INT(o.rep.violation, 1);
	CHECK_STR(o.rep.reason, "file size limit (SIGXFSZ, 4096 bytes)");

	run_confined(&o, "ptrace");
	CHECK_INT(o.rep.violation, 1);
	if (c->seccomp_notify) {
		CHECK_INT(o.signo, SIGKILL);
		CHECK_STR(o.rep.syscall, "ptrace");
		CHECK_STR(o.rep.reason, "system call ptrace");
	} else {
		CHECK_INT(o.signo, SIGSYS);
		CHECK_STR(o.rep.reason, "killed by SIGSYS");
	}
	/* Another ABI's number for a call is no way round the filter. */
	run_confined(&o, "x32");
	CHECK_INT(o.signo, SIGSYS);
	CHECK_STR(o.rep.reason, "killed by SIGSYS");

	run_confined(&o, "signal-parent");
	CHECK_INT(o.status, c->landlock_abi >= 6 ? EPERM : 0);
}

static void test_required(void)
{
	const sg_confine_caps *c = sg_confine_probe();
	sg_confine_spec spec = { "osslsigncode", NULL, NULL, NULL, NULL, 1, 0, 0, 0, 0, 0, 0 };
	sg_confine_prepared *p = NULL;
	char lack[256];

	sg_confine_lacking(lack, sizeof(lack));
	sg_confine_set_mode(SG_CONFINE_REQUIRED);
	if (c->landlock_abi > 0 && c->seccomp) {
		CHECK_INT(sg_confine_prepare(&p, &spec), SG_OK);
	} else {
		CHECK_INT(sg_confine_prepare(&p, &spec), SG_ERR_TOOL);
		CHECK_CONTAINS(sg_error_last(), "cannot confine osslsigncode: the configuration "
						"requires Landlock file rules and seccomp");
		CHECK(lack[0] != '\0');
	}
	sg_confine_prepared_free(p);
	sg_confine_set_mode(SG_CONFINE_AUTO);
	CHECK_INT(sg_confine_prepare(&p, &spec), SG_OK);
	sg_confine_prepared_free(p);
	if (c->landlock_abi == 2 && !c->seccomp_notify)
		CHECK_STR(lack, "Landlock: ABI 2 (no TCP rules, no signal scoping); "
				"seccomp user notification: none (violations not named); "
				"lowered by SIGNGATE_CONFINE_FORCE");
}

int main(void)
{
	const sg_confine_caps *c;

	if (!mkdtemp(tmpdir))
		return 2;
	snprintf(outdir, sizeof(outdir), "%s/out", tmpdir);
	snprintf(secret, sizeof(secret), "%s/key.pem", tmpdir);
	snprintf(readable, sizeof(readable), "%s/input.bin", tmpdir);
	if (mkdir(outdir, 0700) != 0)
		return 2;
	check_write_file(secret, "key", 3, 0600);
	check_write_file(readable, "input", 5, 0600);
	c = sg_confine_probe();
	fprintf(stderr, "caps: landlock %d seccomp %d notify %d userns %d forced %d\n",
		c->landlock_abi, c->seccomp, c->seccomp_notify, c->userns, c->forced);
	test_force_parse();
	test_mode();
	test_report_json();
	test_children();
	test_required();
	unlink(check_path(outdir, "out.bin"));
	unlink(check_path(outdir, "big.bin"));
	unlink(secret);
	unlink(readable);
	rmdir(outdir);
	rmdir(tmpdir);
	return check_done();
}

/*
 * A hostile osslsigncode for tests/integration/test_confine.sh: named in the
 * config as signgate's osslsigncode, it tries one thing its confinement
 * forbids, picked by its own file name (the test makes copies):
 *
 *   read-*        read `secret` beside itself, then /etc/shadow
 *   create-*      create `planted` beside itself
 *   connect-PORT  connect to 127.0.0.1:PORT
 *   ptrace-*      PTRACE_ATTACH its parent (signgate)
 *   fsize-*       write 64 MiB into its -out file
 *   meta-*        change `victim` beside itself without opening it: chmod
 *                 (set-user-ID), chown, an extended attribute, its times
 *   peek-*        open /etc/ssl/private (where Debian keeps TLS keys),
 *                 signgate's /proc/PID/environ, signal signgate (0), make
 *                 a socket
 *   misc-*        raise its file size limit, make System V shared memory,
 *                 set an inode flag (nodump) on its own program file,
 *                 list descriptors other than 0 to 2 ("misc fds" when none);
 *                 always ends with status 1 (the test reads the line)
 *   linger-*      leave a process of its own session behind that opens the
 *                 -out file as it appears, then run the real osslsigncode; once that
 *                 has ended and signgate has taken the output, the process
 *                 writes "TAMPERED" at its start (within 10 s)
 *   x32-*         PTRACE_ATTACH its parent by the x32 system call number
 *
 * Asked `--version` (signgate asks once per run), every copy answers as
 * osslsigncode 2.9 does, except:
 *   version-X.Y-*  "osslsigncode X.Y, using:" (an old one: version-2.5-x)
 *   noversion-*    something that is not osslsigncode's answer, status 0
 *
 * A refused attempt is printed on stderr with its errno ("fake-osslsigncode:
 * open /x/secret: Permission denied") and ends it with status 1; one that
 * worked says so and ends it with status 0, writing a small -out file if it
 * was given one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <linux/fs.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <signal.h>
#include <unistd.h>

static char here[PATH_MAX], self_path[PATH_MAX];

static int refused(const char *what, const char *path)
{
	fprintf(stderr, "fake-osslsigncode: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

static int try_read(void)
{
	char path[PATH_MAX + 16], buf[64];
	int fd;

	snprintf(path, sizeof(path), "%s/secret", here);
	if ((fd = open(path, O_RDONLY)) < 0)
		return refused("open", path);
	printf("read %zd bytes of %s\n", read(fd, buf, sizeof(buf)), path);
	close(fd);
	if ((fd = open("/etc/shadow", O_RDONLY)) < 0)
		return refused("open", "/etc/shadow");
	close(fd);
	return 0;
}

static int try_create(void)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/planted", here);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0)
		return refused("create", path);
	close(fd);
	return 0;
}

static int try_connect(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return refused("socket", "AF_INET");
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)atoi(port));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return refused("connect", "127.0.0.1");
	if (write(fd, "stolen\n", 7) != 7)
		return refused("write", "127.0.0.1");
	close(fd);
	return 0;
}

static int try_ptrace(void)
{
	char parent[32];

	snprintf(parent, sizeof(parent), "%d", (int)getppid());
	if (ptrace(PTRACE_ATTACH, getppid(), NULL, NULL) != 0)
		return refused("ptrace", parent);
	return 0;
}

static int try_fsize(const char *out)
{
	static char block[1 << 16];
	int fd;

	if (!out)
		return refused("write", "(no -out)");
	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		return refused("create", out);
	/* A write that stops short at the limit is followed by one that meets it. */
	for (size_t left = (size_t)64 << 20; left > 0;) {
		ssize_t n = write(fd, block, left < sizeof(block) ? left : sizeof(block));
		if (n < 0)
			return refused("write", out);
		left -= (size_t)n;
	}
	close(fd);
	return 0;
}

/* The tries of one run, one line on stderr: "fake-osslsigncode: meta chmod: ok; ..." */
static char tries[1024];

static int tried(const char *what, int rc)
{
	size_t used = strlen(tries);

	snprintf(tries + used, sizeof(tries) - used, "%s%s: %s",
		 used ? "; " : "fake-osslsigncode: ", what, rc == 0 ? "ok" : strerror(errno));
	return rc == 0;
}

static int try_meta(void)
{
	char path[PATH_MAX + 16];
	const struct timespec zero[2] = { { 0, 0 }, { 0, 0 } };
	int got = 0;

	snprintf(path, sizeof(path), "%s/victim", here);
	got += tried("meta chmod", chmod(path, 04777));
	got += tried("meta chown", chown(path, getuid(), getgid()));
	got += tried("meta setxattr", setxattr(path, "user.signgate", "x", 1, 0));
	got += tried("meta utimensat", utimensat(AT_FDCWD, path, zero, 0));
	return got ? 0 : 1;
}

static int try_peek(void)
{
	char path[64];
	int got = 0, fd;

	fd = open("/etc/ssl/private", O_RDONLY | O_DIRECTORY);
	got += tried("peek /etc/ssl/private", fd < 0 ? -1 : 0);
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)getppid());
	fd = open(path, O_RDONLY);
	got += tried("peek environ", fd < 0 ? -1 : 0);
	got += tried("peek kill", kill(getppid(), 0));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	got += tried("peek socket", fd < 0 ? -1 : 0);
	return got ? 0 : 1;
}

static int try_misc(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	char fds[256] = "";
	int got = 0, fd;

	got += tried("misc raise fsize", setrlimit(RLIMIT_FSIZE, &rl));
	got += tried("misc shmget", shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) < 0 ? -1 : 0);
	/* Its own copy (Landlock lets it read that): the nodump flag, as its owner. */
	if ((fd = open(self_path, O_RDONLY)) >= 0) {
		int flags = 0;
		if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
			flags |= FS_NODUMP_FL;
			got += tried("misc setflags", ioctl(fd, FS_IOC_SETFLAGS, &flags));
		}
		close(fd);
	}
	for (fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0) {
			size_t used = strlen(fds);
			snprintf(fds + used, sizeof(fds) - used, " %d", fd);
		}
	errno = EBADF;
	got += tried(fds[0] ? fds : "misc fds", fds[0] ? 0 : -1);
	(void)got;
	return 1; /* the test reads the line */
}

/* The left-behind process: opens the output as it appears, waits for its parent to end. */
static void linger(int watch, const char *out, pid_t parent)
{
	char ev[4096];
	int fd = -1, devnull = open("/dev/null", O_RDWR);

	setsid();
	for (int i = 0; i < 3; i++)
		dup2(devnull, i);
	alarm(15);
	while (fd < 0 && read(watch, ev, sizeof(ev)) > 0)
		fd = open(out, O_WRONLY);
	for (int i = 0; i < 200 && getppid() == parent; i++)
		usleep(50 * 1000);
	sleep(2); /* signgate takes the output, checks it, publishes it */
	if (fd < 0 || pwrite(fd, "TAMPERED", 8, 0) != 8)
		_exit(1);
	_exit(0);
}

static int try_linger(char **argv, const char *out)
{
	char dir[PATH_MAX];
	pid_t parent = getpid(), pid;
	int watch = inotify_init1(IN_CLOEXEC);

	if (!out || watch < 0)
		return refused("linger", out ? out : "(no -out)");
	snprintf(dir, sizeof(dir), "%s", out);
	if (inotify_add_watch(watch, dirname(dir), IN_CREATE) < 0)
		return refused("inotify_add_watch", out);
	if ((pid = fork()) < 0)
		return refused("fork", "linger");
	if (pid == 0)
		linger(watch, out, parent);
	close(watch);
	argv[0] = "/usr/bin/osslsigncode";
	execv(argv[0], argv);
	return refused("execv", argv[0]);
}

static int version(const char *name)
{
	const char *v = "2.9";
	char buf[32];

	if (strncmp(name, "noversion-", 10) == 0) {
		puts("usage: fake [--help]");
		return 0;
	}
	if (strncmp(name, "version-", 8) == 0) {
		snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(name + 8, "-"), name + 8);
		v = buf;
	}
	printf("osslsigncode %s, using:\n\tOpenSSL (fake)\n", v);
	return 0;
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], *name;
	const char *out = NULL;
	int rc = 2;

	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(self_path, sizeof(self_path), "%s", argv[0]);
	snprintf(here, sizeof(here), "%s", dirname(self));
	snprintf(self, sizeof(self), "%s", argv[0]);
	name = basename(self);
	if (argc == 2 && strcmp(argv[1], "--version") == 0)
		return version(name);
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "-out") == 0)
			out = argv[i + 1];
	if (strncmp(name, "read-", 5) == 0)
		rc = try_read();
	else if (strncmp(name, "create-", 7) == 0)
		rc = try_create();
	else if (strncmp(name, "connect-", 8) == 0)
		rc = try_connect(name + 8);
	else if (strncmp(name, "ptrace-", 7) == 0)
		rc = try_ptrace();
	else if (strncmp(name, "meta-", 5) == 0)
		rc = try_meta();
	else if (strncmp(name, "peek-", 5) == 0)
		rc = try_peek();
	else if (strncmp(name, "linger-", 7) == 0)
		return try_linger(argv, out);
	else if (strncmp(name, "misc-", 5) == 0)
		rc = try_misc();
#ifdef __x86_64__
	else if (strncmp(name, "x32-", 4) == 0)
		rc = tried("x32 ptrace",
			   (int)syscall(0x40000000 | __NR_ptrace, PTRACE_ATTACH, getppid(), 0, 0))
			     ? 0
			     : 1;
#endif
	else if (strncmp(name, "fsize-", 6) == 0)
		return try_fsize(out);
	else
		fprintf(stderr, "fake-osslsigncode: no attack is named %s\n", name);
	if (tries[0])
		fprintf(stderr, "%s\n", tries);
	if (rc == 0) {
		printf("fake-osslsigncode: %s got through\n", name);
		if (out) {
			FILE *f = fopen(out, "w");
			if (f) {
				fputs("not a signed file\n", f);
				fclose(f);
			}
		}
	}
	return rc;
}

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
#include <sys/socket.h>
#include <unistd.h>

static char here[PATH_MAX];

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

int main(int argc, char **argv)
{
	char self[PATH_MAX], *name;
	const char *out = NULL;
	int rc = 2;

	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(here, sizeof(here), "%s", dirname(self));
	snprintf(self, sizeof(self), "%s", argv[0]);
	name = basename(self);
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
	else if (strncmp(name, "fsize-", 6) == 0)
		return try_fsize(out);
	else
		fprintf(stderr, "fake-osslsigncode: no attack is named %s\n", name);
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

/*
 * LD_PRELOAD shim for test_cert_export_all_or_nothing.sh: plays what can
 * happen to `cert export --out-dir` between its check of the names and its
 * renames, at the renames themselves (renameat, renameat2). Each is set by
 * an environment variable naming a file of the set (a base name):
 *   SG_RACE_PLANT=NAME   at the first rename, create $SG_RACE_DIR/NAME
 *                        ("planted"), immutable with SG_RACE_IMMUTABLE=1
 *                        (root: chattr +i), as if it appeared meanwhile;
 *                        with SG_RACE_FOLDER=1 a folder instead, in place of
 *                        the file there (removed first)
 *   SG_RACE_FAIL=NAME    the rename of the new file over NAME fails (EBUSY)
 *   SG_RACE_FAIL_BACK=NAME  the rename that puts NAME's old file back fails (EIO)
 *   SG_RACE_KILL=NAME    SIGKILL just before the new file is renamed over NAME
 * Nothing else is changed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void plant(void)
{
	static int done;
	const char *name = getenv("SG_RACE_PLANT"), *dir = getenv("SG_RACE_DIR");
	char path[4096];
	int fd, flags = 0;

	if (done || !name || !dir)
		return;
	done = 1;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (getenv("SG_RACE_FOLDER")) {
		unlink(path);
		mkdir(path, 0755);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, "planted\n", 8) != 8)
		_exit(99);
	if (getenv("SG_RACE_IMMUTABLE") && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags |= FS_IMMUTABLE_FL;
		if (ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0)
			_exit(98);
	}
	close(fd);
}

/* 0 to go on, or -1 with errno set: what the rename of `from` to `to` should do. */
static int play(const char *from, const char *to)
{
	const char *fail = getenv("SG_RACE_FAIL"), *back = getenv("SG_RACE_FAIL_BACK");
	const char *kill_at = getenv("SG_RACE_KILL");
	int hidden = base(from)[0] == '.';

	plant();
	if (!hidden || strcmp(base(to), base(from)) == 0)
		return 0;
	if (strstr(base(from), ".old-")) {
		if (back && strcmp(base(to), back) == 0) {
			errno = EIO;
			return -1;
		}
		return 0;
	}
	if (kill_at && strcmp(base(to), kill_at) == 0)
		raise(SIGKILL);
	if (fail && strcmp(base(to), fail) == 0) {
		errno = EBUSY;
		return -1;
	}
	return 0;
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	static int (*real)(int, const char *, int, const char *);

	if (!real)
		real = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
	if (play(oldpath, newpath) != 0)
		return -1;
	return real(olddirfd, oldpath, newdirfd, newpath);
}

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
	      unsigned int flags)
{
	static int (*real)(int, const char *, int, const char *, unsigned int);

	if (!real)
		real = (int (*)(int, const char *, int, const char *, unsigned int))dlsym(
			RTLD_NEXT, "renameat2");
	if (play(oldpath, newpath) != 0)
		return -1;
	return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

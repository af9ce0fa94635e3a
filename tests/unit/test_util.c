/*
 * Unit tests for lib/util.c: path helpers, the private copy of an input,
 * atomic publication of an output, bounded reads of whole files, private
 * copies of bytes, secret files and private working folders.
 * Everything happens under one mkdtemp() folder that is removed at the end.
 */
#include "signgate/error.h"
#include "signgate/util.h"

#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_util.XXXXXX";

static const char *at(const char *name)
{
	return check_path(tmpdir, name);
}

/* Create `name` under tmpdir with `len` bytes of `data` and mode `mode`. */
static void put_file(const char *name, const void *data, size_t len, mode_t mode)
{
	const char *path = at(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len) || fchmod(fd, mode) != 0 ||
	    close(fd) != 0) {
		perror(path);
		exit(2);
	}
}

/* The whole file as a NUL-terminated string (NULL when it cannot be read). */
static char *slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, &st) == 0 && (buf = calloc(1, (size_t)st.st_size + 1)) &&
	    read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	if (fd >= 0)
		close(fd);
	if (buf && len)
		*len = (size_t)st.st_size;
	return buf;
}

static int file_mode(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* Entries in tmpdir other than "." and "..". */
static int count_entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *ent;
	int n = 0;

	while (d && (ent = readdir(d)) != NULL)
		n += strcmp(ent->d_name, ".") && strcmp(ent->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static void test_paths(void)
{
	char *s;

	CHECK_STR(s = sg_path_join("a", "b"), "a/b");
	free(s);
	CHECK_STR(s = sg_path_join("/etc/", "signgate.json"), "/etc/signgate.json");
	free(s);
	CHECK_STR(s = sg_path_join("/", "x"), "/x");
	free(s);

	CHECK_STR(s = sg_path_resolve("/srv/cfg", "policy/"), "/srv/cfg/policy/");
	free(s);
	CHECK_STR(s = sg_path_resolve("/srv/cfg", "/abs/audit.jsonl"), "/abs/audit.jsonl");
	free(s);
	CHECK_STR(s = sg_path_resolve(".", "pki/root.pem"), "./pki/root.pem");
	free(s);
	CHECK_STR(s = sg_path_resolve(NULL, "rel"), "rel");
	free(s);

	CHECK_STR(sg_path_base("/in/7z2408-x64.msi"), "7z2408-x64.msi");
	CHECK_STR(sg_path_base("setup.exe"), "setup.exe");
	CHECK_STR(sg_path_base("/in/"), "");
	CHECK_STR(sg_path_base("/"), "");

	CHECK_STR(s = sg_path_dir("/in/setup.exe"), "/in");
	free(s);
	CHECK_STR(s = sg_path_dir("a/b/c"), "a/b");
	free(s);
	CHECK_STR(s = sg_path_dir("setup.exe"), ".");
	free(s);
	CHECK_STR(s = sg_path_dir("/setup.exe"), "/");
	free(s);

	put_file("exists", "x", 1, 0600);
	CHECK_INT(sg_path_exists(at("exists")), 1);
	CHECK_INT(sg_path_exists(at("absent")), 0);
	CHECK_INT(symlink("absent", at("dangling")), 0);
	CHECK_INT(sg_path_exists(at("dangling")), 1); /* lstat: the link itself exists */
	unlink(at("exists"));
	unlink(at("dangling"));
}

static void test_private_copy_ok(void)
{
	const struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct stat before, after;
	sg_digests d;
	char *copy;
	size_t len;

	put_file("in.msi", "abc", 3, 0644);
	CHECK_INT(utimensat(AT_FDCWD, at("in.msi"), old, 0), 0);
	CHECK_INT(stat(at("in.msi"), &before), 0);

	CHECK_INT(sg_private_copy(&d, at("in.msi"), at("copy.msi"), "in.msi", SG_DIGEST_ALL),
		  SG_OK);
	CHECK_INT(d.size, 3);
	CHECK_STR(d.sha256_hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK_STR(copy = slurp(at("copy.msi"), &len), "abc");
	CHECK_INT(len, 3);
	free(copy);
	CHECK_INT(file_mode(at("copy.msi")), 0600);

	/* The input is untouched: same bytes, mode, mtime and ctime. */
	CHECK_INT(stat(at("in.msi"), &after), 0);
	CHECK_INT(after.st_size, 3);
	CHECK_INT(after.st_mode, before.st_mode);
	CHECK_INT(after.st_mtim.tv_sec, 1000000000);
	CHECK_INT(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	CHECK_INT(after.st_ctim.tv_sec, before.st_ctim.tv_sec);
	CHECK_INT(after.st_ctim.tv_nsec, before.st_ctim.tv_nsec);
	CHECK_STR(copy = slurp(at("in.msi"), NULL), "abc");
	free(copy);

	/* An existing copy path is never overwritten. */
	sg_error_clear();
	CHECK_INT(sg_private_copy(&d, at("in.msi"), at("copy.msi"), "in.msi", SG_DIGEST_ALL),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "copy.msi: cannot create the private copy");
	CHECK_CONTAINS(sg_error_last(), "File exists");
	CHECK_STR(copy = slurp(at("copy.msi"), NULL), "abc");
	free(copy);

	/* Nor is a symlink followed, even a dangling one. */
	CHECK_INT(symlink("target", at("link.msi")), 0);
	CHECK_INT(sg_private_copy(&d, at("in.msi"), at("link.msi"), "in.msi", SG_DIGEST_ALL),
		  SG_ERR_IO);
	CHECK_INT(sg_path_exists(at("target")), 0);
	unlink(at("link.msi"));

	/* Nor a folder swapped for a link: the copy never lands in the folder it names. */
	CHECK_INT(mkdir(at("victim"), 0700), 0);
	CHECK_INT(symlink(at("victim"), at("stage")), 0);
	{
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/input", at("stage"));
		CHECK_INT(sg_private_copy(&d, at("in.msi"), path, "in.msi", SG_DIGEST_ALL),
			  SG_ERR_IO);
		CHECK_CONTAINS(sg_error_last(), "cannot create the private copy");
	}
	CHECK_INT(sg_path_exists(at("victim/input")), 0);
	unlink(at("stage"));
	rmdir(at("victim"));
	unlink(at("copy.msi"));
	unlink(at("in.msi"));
}

static void test_private_copy_refused(void)
{
	sg_digests d;

	CHECK_INT(mkdir(at("dir.msi"), 0700), 0);
	sg_error_clear();
	CHECK_INT(sg_private_copy(&d, at("dir.msi"), at("copy"), "dir.msi", SG_DIGEST_ALL),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "dir.msi: not a regular file");
	CHECK_INT(sg_path_exists(at("copy")), 0);
	rmdir(at("dir.msi"));

	/* A FIFO without a writer must be refused, not block the open(). */
	CHECK_INT(mkfifo(at("fifo.msi"), 0600), 0);
	sg_error_clear();
	CHECK_INT(sg_private_copy(&d, at("fifo.msi"), at("copy"), "fifo.msi", SG_DIGEST_ALL),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "fifo.msi: not a regular file");
	CHECK_INT(sg_path_exists(at("copy")), 0);
	unlink(at("fifo.msi"));

	sg_error_clear();
	CHECK_INT(sg_private_copy(&d, at("missing.msi"), at("copy"), "missing.msi", SG_DIGEST_ALL),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "missing.msi: cannot open: No such file or directory");
	CHECK_INT(sg_path_exists(at("copy")), 0);

	/* A regular file whose read fails: the partial copy is removed. */
	sg_error_clear();
	CHECK_INT(sg_private_copy(&d, "/proc/self/mem", at("copy"), "mem", SG_DIGEST_ALL),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "mem: read failed");
	CHECK_INT(sg_path_exists(at("copy")), 0);
	CHECK_INT(count_entries(), 0);
}

/* Stage a signed file beside `dest` as the pipeline does; returns its path. */
static char *stage_file(sg_workdir *stage, const char *dest, const char *text)
{
	char *path;
	int fd;

	CHECK_INT(sg_stage_create(stage, dest), SG_OK);
	if (!stage->path)
		return NULL;
	path = sg_path_join(stage->path, "signed");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_publish(void)
{
	sg_workdir stage = SG_WORKDIR_INIT;
	char *tmp, *s;
	sg_digests d;
	struct stat st;

	/* A new destination: the stage is private and beside it; publishing is a rename. */
	tmp = stage_file(&stage, at("out.msi"), "NEW");
	CHECK(stage.path && strncmp(stage.path, at(".signgate-"), strlen(at(".signgate-"))) == 0);
	CHECK(stage.path && strlen(stage.path) == strlen(at(".signgate-XXXXXX")));
	CHECK(stage.path && stat(stage.path, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK_INT(sg_publish_in_place(&d, tmp, SG_DIGEST_SHA1 | SG_DIGEST_SHA256, NULL), SG_OK);
	CHECK_INT(d.size, 3);
	CHECK(d.sha256_hex[0] && d.sha1_hex[0] && !d.sha512_hex[0]);
	CHECK_INT(file_mode(tmp), 0644);
	CHECK_INT(sg_path_exists(at("out.msi")), 0); /* nothing visible before the commit */
	CHECK_INT(sg_publish_commit(tmp, at("out.msi"), 0), SG_OK);
	CHECK_INT(sg_path_exists(tmp), 0);
	CHECK_STR(s = slurp(at("out.msi"), NULL), "NEW");
	free(s);
	CHECK_INT(file_mode(at("out.msi")), 0644);
	sg_workdir_remove(&stage);
	CHECK(stage.path == NULL && stage.fd == -1 && stage.parent_fd == -1);
	free(tmp);
	CHECK_INT(count_entries(), 1);

	/* Without force an existing destination is kept and the staged file removed. */
	put_file("out.msi", "OLD", 3, 0640);
	tmp = stage_file(&stage, at("out.msi"), "NEW");
	CHECK_INT(sg_publish_in_place(&d, tmp, SG_DIGEST_SHA256, NULL), SG_OK);
	sg_error_clear();
	CHECK_INT(sg_publish_commit(tmp, at("out.msi"), 0), SG_ERR_EXISTS);
	CHECK_INT(sg_error_code(), SG_ERR_EXISTS);
	CHECK_CONTAINS(sg_error_last(), "out.msi: exists already (use --force to replace it)");
	CHECK_INT(sg_path_exists(tmp), 0);
	CHECK_STR(s = slurp(at("out.msi"), NULL), "OLD");
	free(s);
	CHECK_INT(file_mode(at("out.msi")), 0640);

	/* With force it is replaced, and the result is 0644. */
	free(tmp);
	sg_workdir_remove(&stage);
	tmp = stage_file(&stage, at("out.msi"), "NEW");
	CHECK_INT(sg_publish_in_place(&d, tmp, SG_DIGEST_SHA256, NULL), SG_OK);
	CHECK_INT(sg_publish_commit(tmp, at("out.msi"), 1), SG_OK);
	CHECK_STR(s = slurp(at("out.msi"), NULL), "NEW");
	free(s);
	CHECK_INT(file_mode(at("out.msi")), 0644);
	sg_workdir_remove(&stage);
	free(tmp);
	CHECK_INT(count_entries(), 1);

	/* A missing staged file; a destination folder that does not exist. */
	sg_error_clear();
	CHECK_INT(sg_publish_in_place(&d, at("absent.tmp"), SG_DIGEST_SHA256, NULL), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "absent.tmp: cannot open the output");
	CHECK_INT(sg_stage_create(&stage, at("nodir/out.msi")), SG_ERR_IO);
	CHECK(stage.path == NULL && stage.fd == -1);
	CHECK_CONTAINS(sg_error_last(), "cannot create a private folder for the output");
	unlink(at("out.msi"));
	CHECK_INT(count_entries(), 0);
}

/* sg_publish_bytes(): the whole file or nothing, no temporary left, no replacement without force.
 */
static void test_publish_bytes(void)
{
	char *s, *tmp;

	CHECK_INT(sg_publish_bytes(at("a.json"), "ONE\n", 4, 0640, 0), SG_OK);
	CHECK_STR(s = slurp(at("a.json"), NULL), "ONE\n");
	free(s);
	CHECK_INT(file_mode(at("a.json")), 0640);
	CHECK_INT(count_entries(), 1);

	sg_error_clear();
	CHECK_INT(sg_publish_bytes(at("a.json"), "TWO\n", 4, 0644, 0), SG_ERR_EXISTS);
	CHECK_CONTAINS(sg_error_last(), "a.json: exists already (use --force to replace it)");
	CHECK_STR(s = slurp(at("a.json"), NULL), "ONE\n");
	free(s);
	CHECK_INT(count_entries(), 1);

	CHECK_INT(sg_publish_bytes(at("a.json"), "TWO\n", 4, 0644, 1), SG_OK);
	CHECK_STR(s = slurp(at("a.json"), NULL), "TWO\n");
	free(s);
	CHECK_INT(file_mode(at("a.json")), 0644);
	CHECK_INT(count_entries(), 1);

	/* The temporary file is hidden, beside the destination, and holds the bytes already. */
	CHECK_INT(sg_publish_temp(&tmp, at("b.json"), "B", 1, 0600), SG_OK);
	CHECK(tmp && strncmp(tmp, at(".b.json."), strlen(at(".b.json."))) == 0);
	CHECK_INT(file_mode(tmp), 0600);
	CHECK_INT(sg_path_exists(at("b.json")), 0);
	CHECK_INT(sg_publish_commit(tmp, at("b.json"), 0), SG_OK);
	CHECK_INT(sg_path_exists(tmp), 0);
	free(tmp);

	sg_error_clear();
	CHECK_INT(sg_publish_bytes(at("nodir/c.json"), "C", 1, 0644, 0), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "nodir/c.json: cannot create a temporary file beside it");
	unlink(at("a.json"));
	unlink(at("b.json"));
	CHECK_INT(count_entries(), 0);
}

/* A new temporary file `tmp` in the folder `dfd`, as sg_publish_at()'s callers make one. */
static int temp_at(int dfd, const char *tmp, int flags)
{
	int fd = openat(dfd, tmp, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	return fd;
}

/*
 * sg_publish_at(): through a folder descriptor, the whole file with its mode
 * or nothing; the temporary file is gone either way.
 */
static void test_publish_at(void)
{
	int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *s;

	CHECK(dfd >= 0);
	put_file("idx", "OLD", 3, 0640);
	CHECK_INT(sg_publish_at(dfd, temp_at(dfd, "idx.tmp", O_WRONLY), "idx.tmp", "idx", "NEW!", 4,
				0604, "shown/idx.tmp"),
		  SG_OK);
	CHECK_STR(s = slurp(at("idx"), NULL), "NEW!");
	free(s);
	CHECK_INT(file_mode(at("idx")), 0604);
	CHECK_INT(sg_path_exists(at("idx.tmp")), 0);
	CHECK_INT(count_entries(), 1);

	/* A write that fails: nothing published, no temporary left, the message names it. */
	sg_error_clear();
	CHECK_INT(sg_publish_at(dfd, temp_at(dfd, "idx.tmp", O_RDONLY), "idx.tmp", "idx", "BAD", 3,
				0644, "shown/idx.tmp"),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "shown/idx.tmp: cannot write");
	CHECK_STR(s = slurp(at("idx"), NULL), "NEW!");
	free(s);
	CHECK_INT(sg_path_exists(at("idx.tmp")), 0);

	/* A rename that fails (a folder with an entry in the way): the same. */
	CHECK_INT(mkdir(at("busy"), 0700), 0);
	put_file("busy/x", "x", 1, 0600);
	sg_error_clear();
	CHECK_INT(sg_publish_at(dfd, temp_at(dfd, "busy.tmp", O_WRONLY), "busy.tmp", "busy", "B", 1,
				0644, "shown/busy.tmp"),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "shown/busy.tmp: cannot move the output into place");
	CHECK_INT(sg_path_exists(at("busy.tmp")), 0);
	CHECK_INT(unlink(at("busy/x")), 0);
	CHECK_INT(rmdir(at("busy")), 0);
	CHECK_INT(unlink(at("idx")), 0);
	CHECK_INT(count_entries(), 0);
	close(dfd);
}

/* Read the secret file `name`; expect `code` and, on success, `want`. */
static void expect_secret(const char *name, int code, const char *want)
{
	char *secret = (char *)"sentinel";
	size_t len = 99;
	int rc;

	sg_error_clear();
	rc = sg_secret_read_file(&secret, &len, at(name));
	CHECK_INT(rc, code);
	if (code == SG_OK) {
		CHECK_STR(secret, want);
		CHECK_INT(len, want ? strlen(want) : 0);
	} else {
		CHECK(secret == NULL);
		CHECK_INT(len, 0);
		CHECK_CONTAINS(sg_error_last(), name);
		CHECK_CONTAINS(sg_error_last(), want);
	}
	sg_secret_free(rc == SG_OK ? secret : NULL);
}

static void test_secrets(void)
{
	char big[4098];

	put_file("pw-lf", "hunter2\n", 8, 0600);
	expect_secret("pw-lf", SG_OK, "hunter2");
	put_file("pw-crlf", "hunter2\r\n", 9, 0600);
	expect_secret("pw-crlf", SG_OK, "hunter2");
	put_file("pw-bare", "hunter2", 7, 0600);
	expect_secret("pw-bare", SG_OK, "hunter2");
	put_file("pw-0400", "pin 1234 ", 9, 0400);
	expect_secret("pw-0400", SG_OK, "pin 1234 ");

	put_file("pw-0640", "hunter2\n", 8, 0640);
	expect_secret("pw-0640", SG_ERR_CONFIG, "chmod 600");
	expect_secret("pw-0640", SG_ERR_CONFIG, "mode 0640");
	put_file("pw-0604", "hunter2\n", 8, 0604);
	expect_secret("pw-0604", SG_ERR_CONFIG, "chmod 600");
	put_file("pw-0602", "hunter2\n", 8, 0602);
	expect_secret("pw-0602", SG_ERR_CONFIG, "chmod 600");

	put_file("pw-empty", "", 0, 0600);
	expect_secret("pw-empty", SG_ERR_CONFIG, "must hold one non-empty line");
	put_file("pw-nl", "\n", 1, 0600);
	expect_secret("pw-nl", SG_ERR_CONFIG, "must hold one non-empty line");
	put_file("pw-crnl", "\r\n", 2, 0600);
	expect_secret("pw-crnl", SG_ERR_CONFIG, "must hold one non-empty line");
	put_file("pw-2nl", "hunter2\n\n", 9, 0600); /* only one newline is dropped */
	expect_secret("pw-2nl", SG_ERR_CONFIG, "must hold one non-empty line");
	put_file("pw-2lines", "user\nhunter2\n", 13, 0600);
	expect_secret("pw-2lines", SG_ERR_CONFIG, "must hold one non-empty line");
	put_file("pw-nul", "hun\0ter2", 8, 0600);
	expect_secret("pw-nul", SG_ERR_CONFIG, "must hold one non-empty line");

	memset(big, 'a', sizeof(big));
	put_file("pw-4096", big, 4096, 0600);
	big[4096] = '\0';
	expect_secret("pw-4096", SG_OK, big);
	put_file("pw-4097", big, 4097, 0600);
	expect_secret("pw-4097", SG_ERR_CONFIG, "larger than 4096 bytes");

	CHECK_INT(symlink(at("pw-lf"), at("pw-link")), 0);
	expect_secret("pw-link", SG_ERR_CONFIG, "it is a symbolic link");
	expect_secret("pw-absent", SG_ERR_CONFIG, "No such file or directory");
	CHECK_INT(mkdir(at("pw-dir"), 0700), 0);
	expect_secret("pw-dir", SG_ERR_CONFIG, "must be a regular file");

	sg_secret_free(NULL);
	rmdir(at("pw-dir"));
	unlink(at("pw-link"));
	const char *names[] = { "pw-lf",   "pw-crlf",   "pw-bare",  "pw-0400", "pw-0640",
				"pw-0604", "pw-0602",   "pw-empty", "pw-nl",   "pw-crnl",
				"pw-2nl",  "pw-2lines", "pw-nul",   "pw-4096", "pw-4097" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK_INT(unlink(at(names[i])), 0);
}

/* sg_read_file() of `name` under tmpdir must fail with `code` and `want` in the message. */
static void expect_read_error(const char *name, size_t max, const char *what, int flags, int code,
			      const char *want)
{
	unsigned char *buf = (unsigned char *)"not reset";
	size_t len = 99;

	sg_error_clear();
	CHECK_INT(sg_read_file(&buf, &len, at(name), max, what, flags), code);
	CHECK(buf == NULL);
	CHECK_INT(len, 0);
	CHECK_CONTAINS(sg_error_last(), want);
}

/* sg_read_file() of `name` under tmpdir must give exactly `want` (`want_len` bytes). */
static void expect_read(const char *name, size_t max, const char *want, size_t want_len)
{
	unsigned char *buf = NULL;
	size_t len = 99;

	CHECK_INT(sg_read_file(&buf, &len, at(name), max, NULL, 0), SG_OK);
	CHECK_INT(len, want_len);
	CHECK(buf && memcmp(buf, want, want_len) == 0 && buf[want_len] == '\0');
	free(buf);
}

static void test_read_file(void)
{
	const char *names[] = { "text", "empty", "sixteen",  "seventeen",
				"fifo", "link",  "dir-link", "dangling" };
	unsigned char *buf = NULL;
	char want[sizeof(tmpdir) + 32];
	size_t len = 99;
	int fd;

	put_file("text", "hello\n", 6, 0644);
	expect_read("text", 1024, "hello\n", 6);
	put_file("empty", "", 0, 0644);
	expect_read("empty", 1024, "", 0);
	expect_read("empty", 0, "", 0);
	put_file("sixteen", "0123456789abcdef", 16, 0644);
	expect_read("sixteen", 16, "0123456789abcdef", 16);
	put_file("seventeen", "0123456789abcdefg", 17, 0644);
	expect_read_error("seventeen", 16, NULL, 0, SG_ERR_FORMAT,
			  "/seventeen: larger than 16 bytes");
	expect_read_error("seventeen", 16, "keyring", 0, SG_ERR_FORMAT,
			  "/seventeen: the keyring is larger than 16 bytes");

	/* Missing: an error, unless the caller asks to be told instead. */
	expect_read_error("none", 16, NULL, 0, SG_ERR_IO,
			  "/none: cannot open: No such file or directory");
	expect_read_error("none", 16, "keyring", 0, SG_ERR_IO,
			  "/none: cannot open the keyring: No such file or directory");
	sg_error_clear();
	CHECK_INT(sg_read_file(&buf, &len, at("none"), 16, NULL, SG_READ_MISSING_OK), SG_OK);
	CHECK(buf == NULL);
	CHECK_INT(len, 0);
	CHECK_INT(sg_error_code(), SG_OK);
	CHECK_INT(sg_read_file(&buf, &len, at("empty"), 16, NULL, SG_READ_MISSING_OK), SG_OK);
	CHECK(buf != NULL && len == 0);
	free(buf);

	/* Not regular files: refused at once, a FIFO without waiting for a writer. */
	CHECK_INT(sg_read_file(&buf, &len, tmpdir, 16, NULL, SG_READ_MISSING_OK), SG_ERR_IO);
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	CHECK_STR(sg_error_last(), want);
	CHECK_INT(mkfifo(at("fifo"), 0600), 0);
	expect_read_error("fifo", 16, NULL, 0, SG_ERR_IO, "/fifo: not a regular file");
	expect_read_error("fifo", 16, "signature file", 0, SG_ERR_IO,
			  "/fifo: the signature file is not a regular file");
	CHECK_INT(sg_read_file(&buf, &len, "/dev/null", 16, NULL, 0), SG_ERR_IO);
	CHECK_STR(sg_error_last(), "/dev/null: not a regular file");

	/* Symbolic links are followed; what they name is judged. */
	CHECK_INT(symlink(at("text"), at("link")), 0);
	expect_read("link", 16, "hello\n", 6);
	CHECK_INT(symlink(tmpdir, at("dir-link")), 0);
	expect_read_error("dir-link", 16, NULL, 0, SG_ERR_IO, "/dir-link: not a regular file");
	CHECK_INT(symlink(at("absent"), at("dangling")), 0);
	expect_read_error("dangling", 16, NULL, 0, SG_ERR_IO, "/dangling: cannot open: No such");

	/* sg_read_fd() reads from the start and leaves the offset where it was. */
	fd = open(at("sixteen"), O_RDWR | O_APPEND | O_CLOEXEC);
	CHECK(fd >= 0 && lseek(fd, 5, SEEK_SET) == 5);
	CHECK_INT(sg_read_fd(&buf, &len, fd, "sixteen", 16, NULL), SG_OK);
	CHECK(buf && len == 16 && memcmp(buf, "0123456789abcdef", 17) == 0);
	CHECK_INT(lseek(fd, 0, SEEK_CUR), 5);
	free(buf);
	CHECK_INT(sg_read_fd(&buf, &len, fd, "sixteen", 15, "seals file"), SG_ERR_FORMAT);
	CHECK_STR(sg_error_last(), "sixteen: the seals file is larger than 15 bytes");
	CHECK(buf == NULL && len == 0);
	if (fd >= 0)
		close(fd);

	/* A file with more bytes than fstat said (as /proc's have) is refused, not cut short. */
	CHECK_INT(sg_read_file(&buf, &len, "/proc/self/status", 1 << 20, NULL, 0), SG_ERR_IO);
	CHECK_STR(sg_error_last(), "/proc/self/status: cannot read: it changed while being read");

	/*
	 * SG_READ_CONFIG: what is wrong with a configuration file is the config's
	 * fault (SG_ERR_CONFIG), same messages; a read that fails stays SG_ERR_IO.
	 */
	expect_read_error("seventeen", 16, "keyring", SG_READ_CONFIG, SG_ERR_CONFIG,
			  "/seventeen: the keyring is larger than 16 bytes");
	expect_read_error("none", 16, "keyring", SG_READ_CONFIG, SG_ERR_CONFIG,
			  "/none: cannot open the keyring: No such file or directory");
	expect_read_error("fifo", 16, "keyring", SG_READ_CONFIG, SG_ERR_CONFIG,
			  "/fifo: the keyring is not a regular file");
	CHECK_INT(
		sg_read_file(&buf, &len, at("none"), 16, NULL, SG_READ_MISSING_OK | SG_READ_CONFIG),
		SG_OK);
	CHECK(buf == NULL && len == 0);
	CHECK_INT(sg_read_file(&buf, &len, "/proc/self/status", 1 << 20, NULL, SG_READ_CONFIG),
		  SG_ERR_IO);
	CHECK_STR(sg_error_last(), "/proc/self/status: cannot read: it changed while being read");
	fd = open(at("sixteen"), O_RDONLY | O_CLOEXEC);
	CHECK_INT(sg_read_fd_flags(&buf, &len, fd, "sixteen", 15, NULL, SG_READ_CONFIG),
		  SG_ERR_CONFIG);
	CHECK_STR(sg_error_last(), "sixteen: larger than 15 bytes");
	CHECK_INT(sg_read_fd_flags(&buf, &len, fd, "sixteen", 16, NULL, SG_READ_CONFIG), SG_OK);
	CHECK(buf && len == 16);
	free(buf);
	if (fd >= 0)
		close(fd);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK_INT(unlink(at(names[i])), 0);
}

static void test_write_private(void)
{
	char *text;
	size_t len = 0;

	CHECK_INT(sg_write_private(at("copy"), "abc\0def", 7), SG_OK);
	text = slurp(at("copy"), &len);
	CHECK(text && len == 7 && memcmp(text, "abc\0def", 7) == 0);
	free(text);
	CHECK_INT(file_mode(at("copy")), 0600);

	/* Never over an existing file, nor through a link. */
	CHECK_INT(sg_write_private(at("copy"), "x", 1), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "/copy: cannot create: File exists");
	text = slurp(at("copy"), &len);
	CHECK(text && len == 7);
	free(text);
	CHECK_INT(symlink(at("elsewhere"), at("link")), 0);
	CHECK_INT(sg_write_private(at("link"), "x", 1), SG_ERR_IO);
	CHECK_INT(sg_path_exists(at("elsewhere")), 0);
	CHECK_INT(sg_write_private(at("absent/copy"), "x", 1), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "/absent/copy: cannot create: No such file or directory");

	CHECK_INT(sg_write_private(at("empty"), "", 0), SG_OK);
	CHECK_INT(file_mode(at("empty")), 0600);
	CHECK_INT(unlink(at("copy")), 0);
	CHECK_INT(unlink(at("link")), 0);
	CHECK_INT(unlink(at("empty")), 0);
}

/* 1 when another open file description can take the lock of `path` now. */
static int lock_free(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), free_now;

	if (fd < 0)
		return -1;
	free_now = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return free_now;
}

static void test_workdir(void)
{
	sg_workdir wd = SG_WORKDIR_INIT;
	char *file, *sub;
	struct stat st;
	int flags;

	CHECK_INT(setenv("TMPDIR", tmpdir, 1), 0);
	CHECK_INT(sg_workdir_create(&wd), SG_OK);
	CHECK(wd.path != NULL);
	if (!wd.path)
		return;
	CHECK(strncmp(wd.path, at("signgate-work."), strlen(at("signgate-work."))) == 0);
	CHECK_STR(wd.name, wd.path + strlen(tmpdir) + 1);
	CHECK_INT(lstat(wd.path, &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	CHECK_INT(st.st_mode & 07777, 0700);
	/* Locked by this run, on a descriptor no child inherits. */
	CHECK_INT(lock_free(wd.path), 0);
	flags = fcntl(wd.fd, F_GETFD);
	CHECK(flags >= 0 && (flags & FD_CLOEXEC));
	flags = fcntl(wd.parent_fd, F_GETFD);
	CHECK(flags >= 0 && (flags & FD_CLOEXEC));

	file = sg_path_join(wd.path, "key.pass");
	put_file(file + strlen(tmpdir) + 1, "x", 1, 0600);
	free(file);
	file = sg_path_join(wd.path, "unsigned.msi");
	put_file(file + strlen(tmpdir) + 1, "y", 1, 0600);
	free(file);
	/* A child's output folder inside it goes too. */
	sub = sg_path_join(wd.path, "out");
	CHECK_INT(mkdir(sub, 0700), 0);
	file = sg_path_join(sub, "signed");
	put_file(file + strlen(tmpdir) + 1, "z", 1, 0600);
	free(file);
	free(sub);
	file = strdup(wd.path);
	sg_workdir_remove(&wd);
	CHECK_INT(sg_path_exists(file), 0);
	CHECK(wd.path == NULL && wd.fd == -1);
	free(file);
	sg_workdir_remove(NULL);
	sg_workdir_remove(&wd);

	/* A relative TMPDIR is not trusted: /tmp is used. */
	CHECK_INT(setenv("TMPDIR", "relative", 1), 0);
	CHECK_INT(sg_workdir_create(&wd), SG_OK);
	CHECK(wd.path && strncmp(wd.path, "/tmp/signgate-work.", 19) == 0);
	file = wd.path ? strdup(wd.path) : NULL;
	sg_workdir_remove(&wd);
	CHECK(file && !sg_path_exists(file));
	free(file);

	CHECK_INT(setenv("TMPDIR", at("absent"), 1), 0);
	sg_error_clear();
	CHECK_INT(sg_workdir_create(&wd), SG_ERR_IO);
	CHECK(wd.path == NULL);
	CHECK_CONTAINS(sg_error_last(), "cannot create a private working folder");
	unsetenv("TMPDIR");
	CHECK_INT(count_entries(), 0);
}

static void note_removed(const char *path, void *arg)
{
	char *seen = arg;
	size_t n = strlen(seen);

	snprintf(seen + n, 1024 - n, "%s;", sg_path_base(path));
}

/* mkdir `name` in tmpdir with `mode`, and a file in it. */
static void left_folder(const char *name, mode_t mode)
{
	char *file = sg_path_join(name, "input");

	CHECK_INT(mkdir(at(name), 0700), 0);
	put_file(file, "left", 4, 0600);
	CHECK_INT(chmod(at(name), mode), 0);
	free(file);
}

static void test_leftovers(void)
{
	sg_workdir live = SG_WORKDIR_INIT, stage = SG_WORKDIR_INIT;
	struct timeval old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char seen[1024] = "";
	size_t n = 99;

	CHECK_INT(setenv("TMPDIR", tmpdir, 1), 0);
	CHECK_INT(sg_workdir_create(&live), SG_OK);               /* a live run's: locked */
	CHECK_INT(sg_stage_create(&stage, at("out.exe")), SG_OK); /* another kind */
	left_folder("signgate-work.Dead01", 0700);                /* a killed run's */
	left_folder("signgate-work.Dead02", 0700);
	CHECK_INT(mkdir(at("signgate-work.Dead02/out"), 0700), 0); /* with a child's folder */
	left_folder("signgate-new.Young1", 0700);                  /* pending, just made */
	left_folder("signgate-new.Old001", 0700);                  /* pending, long ago */
	CHECK_INT(utimes(at("signgate-new.Old001"), old), 0);
	left_folder("signgate-work.Mode75", 0750);   /* not 0700: not clearly ours */
	left_folder("signgate-work.TooLong1", 0700); /* not our name */
	left_folder("signgate.Old123", 0700);        /* the name before locks */
	left_folder("victim", 0700);
	CHECK_INT(symlink(at("victim"), at("signgate-work.Link01")),
		  0); /* a link: never followed */

	CHECK_INT(sg_leftovers_clean(tmpdir, SG_LEFTOVERS_WORK, note_removed, seen, &n), SG_OK);
	CHECK_INT(n, 3);
	CHECK_CONTAINS(seen, "signgate-work.Dead01;");
	CHECK_CONTAINS(seen, "signgate-work.Dead02;");
	CHECK_CONTAINS(seen, "signgate-new.Old001;");
	CHECK_INT(sg_path_exists(at("signgate-work.Dead01")), 0);
	CHECK_INT(sg_path_exists(at("signgate-work.Dead02")), 0);
	CHECK_INT(sg_path_exists(at("signgate-new.Old001")), 0);
	CHECK_INT(sg_path_exists(live.path), 1);
	CHECK_INT(sg_path_exists(stage.path), 1);
	CHECK_INT(sg_path_exists(at("signgate-new.Young1/input")), 1);
	CHECK_INT(sg_path_exists(at("signgate-work.Mode75/input")), 1);
	CHECK_INT(sg_path_exists(at("signgate-work.TooLong1/input")), 1);
	CHECK_INT(sg_path_exists(at("signgate.Old123/input")), 1);
	CHECK_INT(sg_path_exists(at("victim/input")), 1);
	CHECK_INT(sg_path_exists(at("signgate-work.Link01")), 1);

	/* Stages: the live one stays; a dead one beside it goes. */
	left_folder(".signgate-Dead03", 0700);
	seen[0] = '\0';
	CHECK_INT(sg_leftovers_clean(tmpdir, SG_LEFTOVERS_STAGE, note_removed, seen, &n), SG_OK);
	CHECK_INT(n, 1);
	CHECK_STR(seen, ".signgate-Dead03;");
	CHECK_INT(sg_path_exists(stage.path), 1);
	/* Once its run ends, the live folder is removed by it; nothing left to clean. */
	sg_workdir_remove(&live);
	sg_workdir_remove(&stage);
	CHECK_INT(sg_leftovers_clean(tmpdir, SG_LEFTOVERS_WORK, NULL, NULL, &n), SG_OK);
	CHECK_INT(n, 0);
	CHECK_INT(sg_leftovers_clean(at("absent"), SG_LEFTOVERS_WORK, NULL, NULL, &n), SG_OK);
	CHECK_INT(n, 0);

	/* Nothing is cleaned in, and nothing created in, a folder others could rearrange. */
	CHECK_INT(mkdir(at("open"), 0700), 0);
	CHECK_INT(chmod(at("open"), 0777), 0);
	CHECK_INT(mkdir(at("open/signgate-work.Dead04"), 0700), 0);
	CHECK_INT(setenv("TMPDIR", at("open"), 1), 0);
	CHECK_INT(sg_leftovers_clean(at("open"), SG_LEFTOVERS_WORK, NULL, NULL, &n), SG_OK);
	CHECK_INT(n, 0);
	sg_error_clear();
	CHECK_INT(sg_workdir_create(&live), SG_ERR_CONFIG);
	CHECK(live.path == NULL && live.fd == -1);
	CHECK_CONTAINS(sg_error_last(), "TMPDIR ");
	CHECK_CONTAINS(sg_error_last(), "/open: others may write this folder and it has no sticky "
					"bit (mode 0777)");
	CHECK_INT(sg_stage_create(&stage, at("open/out.exe")), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "output folder ");
	/* A folder below it is no better: the folder above could be swapped. */
	CHECK_INT(mkdir(at("open/below"), 0700), 0);
	CHECK_INT(sg_stage_create(&stage, at("open/below/out.exe")), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "/open: others may write");
	/* With the sticky bit no one else can rename or remove our entries: fine. */
	CHECK_INT(chmod(at("open"), 01777), 0);
	CHECK_INT(sg_workdir_create(&live), SG_OK);
	CHECK(live.path && strncmp(live.path, at("open/signgate-work."),
				   strlen(at("open/signgate-work."))) == 0);
	sg_workdir_remove(&live);
	CHECK_INT(sg_leftovers_clean(at("open"), SG_LEFTOVERS_WORK, NULL, NULL, &n), SG_OK);
	CHECK_INT(n, 1);
	unsetenv("TMPDIR");
	CHECK_INT(rmdir(at("open/below")), 0);
	CHECK_INT(rmdir(at("open")), 0);
	for (const char *const *d =
		     (const char *const[]){ "signgate-new.Young1", "signgate-work.Mode75",
					    "signgate-work.TooLong1", "signgate.Old123", "victim",
					    NULL };
	     *d; d++) {
		char *file = sg_path_join(*d, "input");
		CHECK_INT(unlink(at(file)), 0);
		CHECK_INT(rmdir(at(*d)), 0);
		free(file);
	}
	CHECK_INT(unlink(at("signgate-work.Link01")), 0);
	CHECK_INT(count_entries(), 0);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	for (struct dirent *e; d && (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n - 1; /* the one opendir holds */
}

/*
 * The write-back helper waits for the file another process will write,
 * holds it open while it runs, and lets go of it when stopped; the file is
 * left as it was written.
 */
static void test_writeback(void)
{
	static unsigned char data[4 << 20];
	const char *path = at("writeback.out");
	int before = open_fds(), fd;
	sg_writeback *w;
	char want[65], got[65];
	unsigned char *back = NULL;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 31 + 7);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	w = sg_writeback_start(fd);
	CHECK(w != NULL);
	CHECK_INT(open_fds(), before + 2); /* ours and the helper's duplicate */
	CHECK(fd >= 0 && write(fd, data, sizeof(data)) == (ssize_t)sizeof(data));
	usleep(120000); /* a few rounds of write-back */
	CHECK(fd >= 0 && write(fd, data, 1000) == 1000);
	sg_writeback_stop(w);
	CHECK_INT(open_fds(), before + 1);
	if (fd >= 0)
		close(fd);
	sg_sha256_hex(want, data, sizeof(data));
	CHECK_INT(sg_read_file(&back, &len, path, sizeof(data) + 1000, "output", 0), SG_OK);
	CHECK_INT(len, sizeof(data) + 1000);
	if (back) {
		sg_sha256_hex(got, back, sizeof(data));
		CHECK_STR(got, want);
		CHECK(memcmp(back + sizeof(data), data, 1000) == 0);
	}
	free(back);
	unlink(path);
	sg_writeback_stop(NULL);
	CHECK(sg_writeback_start(-1) == NULL); /* no descriptor, no thread */
}

int main(void)
{
	alarm(60); /* a blocking open() or read() fails the test instead of hanging it */
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_paths();
	test_private_copy_ok();
	test_private_copy_refused();
	test_publish();
	test_publish_bytes();
	test_publish_at();
	test_read_file();
	test_write_private();
	test_secrets();
	test_workdir();
	test_leftovers();
	test_writeback();
	if (rmdir(tmpdir) != 0) {
		perror(tmpdir);
		check_failed++;
	}
	return check_done();
}

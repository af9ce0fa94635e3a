/* Paths, private copies, whole-file reads, atomic outputs, secrets; see signgate/util.h. */
#include "signgate/util.h"
#include "signgate/strict.h"
#include "signgate/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

char *sg_path_join(const char *dir, const char *name)
{
	size_t dlen = strlen(dir), len = dlen + strlen(name) + 2;
	char *out = malloc(len);

	if (out)
		snprintf(out, len, "%s%s%s", dir, dlen && dir[dlen - 1] == '/' ? "" : "/", name);
	return out;
}

char *sg_path_resolve(const char *base_dir, const char *path)
{
	if (path[0] == '/' || !base_dir)
		return strdup(path);
	return sg_path_join(base_dir, path);
}

const char *sg_path_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

char *sg_path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int sg_path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int open_input(const char *input, const char *name)
{
	struct stat st;
	int fd = open(input, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK); /* no FIFO hang */

	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sg_error_set(SG_ERR_IO, "%s: not a regular file", name);
	}
	return fd;
}

/*
 * Create the copy in its folder, opened without following a link there: a
 * folder swapped for a link (by whoever may write the folder above it)
 * never receives the copy, and a failed copy is removed from our folder only.
 */
static int create_copy(int *dir_fd, const char *copy_path)
{
	char *dir = sg_path_dir(copy_path);
	int fd = -1;

	*dir_fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (*dir_fd >= 0)
		fd = openat(*dir_fd, sg_path_base(copy_path),
			    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(dir);
	return fd;
}

int sg_private_copy_fd(sg_digests *out, const char *input, const char *copy_path, const char *name,
		       unsigned want, const sg_stream_sink *sink, int writeback, int *copy_fd)
{
	sg_writeback *wb;
	int in_fd, out_fd, dir_fd, error;

	*copy_fd = -1;
	in_fd = open_input(input, name);
	if (in_fd < 0)
		return in_fd;
	out_fd = create_copy(&dir_fd, copy_path);
	if (out_fd < 0) {
		error = sg_error_set(SG_ERR_IO, "%s: cannot create the private copy: %s", copy_path,
				     strerror(errno));
		if (dir_fd >= 0)
			close(dir_fd);
		close(in_fd);
		return error;
	}
	wb = writeback ? sg_writeback_start(out_fd) : NULL;
	error = sg_hash_stream_with(out, in_fd, out_fd, name, want, sink);
	sg_writeback_stop(wb);
	close(in_fd);
	if (error != SG_OK) {
		close(out_fd);
		unlinkat(dir_fd, sg_path_base(copy_path), 0);
	} else {
		*copy_fd = out_fd;
	}
	close(dir_fd);
	return error;
}

int sg_private_copy(sg_digests *out, const char *input, const char *copy_path, const char *name,
		    unsigned want)
{
	int fd, error = sg_private_copy_fd(out, input, copy_path, name, want, NULL, 0, &fd);

	if (error == SG_OK && close(fd) != 0) {
		error = sg_error_set(SG_ERR_IO, "%s: writing the private copy failed: %s",
				     copy_path, strerror(errno));
		unlink(copy_path);
	}
	return error;
}

/* "PATH: cannot VERB[ the WHAT]: REASON" */
static int cannot(int code, const char *path, const char *verb, const char *what,
		  const char *reason)
{
	return sg_error_set(code, "%s: cannot %s%s%s: %s", path, verb, what ? " the " : "",
			    what ? what : "", reason);
}

/* "PATH: [the WHAT is ]STATE" */
static int file_is(int code, const char *path, const char *what, const char *state)
{
	return sg_error_set(code, "%s: %s%s%s%s", path, what ? "the " : "", what ? what : "",
			    what ? " is " : "", state);
}

int sg_read_fd(unsigned char **out, size_t *len, int fd, const char *path, size_t max,
	       const char *what)
{
	return sg_read_fd_flags(out, len, fd, path, max, what, 0);
}

int sg_read_fd_flags(unsigned char **out, size_t *len, int fd, const char *path, size_t max,
		     const char *what, int flags)
{
	unsigned char *buf, probe;
	char too_big[64];
	struct stat st;
	size_t size, got = 0;
	ssize_t n;
	int error = SG_OK;

	*out = NULL;
	*len = 0;
	if (fstat(fd, &st) != 0)
		return cannot(SG_ERR_IO, path, "stat", what, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return file_is(flags & SG_READ_CONFIG ? SG_ERR_CONFIG : SG_ERR_IO, path, what,
			       "not a regular file");
	if ((uintmax_t)st.st_size > max) {
		snprintf(too_big, sizeof(too_big), "larger than %zu bytes", max);
		return file_is(flags & SG_READ_CONFIG ? SG_ERR_CONFIG : SG_ERR_FORMAT, path, what,
			       too_big);
	}
	size = (size_t)st.st_size;
	if (!(buf = malloc(size + 1)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	while (!error && got < size) {
		n = pread(fd, buf + got, size - got, (off_t)got);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			error = cannot(SG_ERR_IO, path, "read", what,
				       "it changed while being read");
		else if (errno != EINTR)
			error = cannot(SG_ERR_IO, path, "read", what, strerror(errno));
	}
	/* One byte past the size: a file that grew since fstat is refused, not cut short. */
	while (!error && (n = pread(fd, &probe, 1, (off_t)size)) != 0) {
		if (n > 0)
			error = cannot(SG_ERR_IO, path, "read", what,
				       "it changed while being read");
		else if (errno != EINTR)
			error = cannot(SG_ERR_IO, path, "read", what, strerror(errno));
	}
	if (error) {
		free(buf);
		return error;
	}
	buf[size] = '\0';
	*out = buf;
	*len = size;
	return SG_OK;
}

int sg_read_file(unsigned char **out, size_t *len, const char *path, size_t max, const char *what,
		 int flags)
{
	int fd, error;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT && (flags & SG_READ_MISSING_OK))
		return SG_OK;
	if (fd < 0)
		return cannot(flags & SG_READ_CONFIG ? SG_ERR_CONFIG : SG_ERR_IO, path, "open",
			      what, strerror(errno));
	error = sg_read_fd_flags(out, len, fd, path, max, what, flags);
	close(fd);
	return error;
}

int sg_write_all(int fd, const void *buf, size_t len, const char *what)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sg_error_set(SG_ERR_IO, "%s: cannot write: %s", what,
					    n < 0 ? strerror(errno) : "short write");
		p += n;
		len -= (size_t)n;
	}
	return SG_OK;
}

int sg_pwrite_all(int fd, const void *buf, size_t len, unsigned long long off, const char *what)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sg_error_set(SG_ERR_IO, "%s: cannot write: %s", what,
					    n < 0 ? strerror(errno) : "short write");
		p += n;
		len -= (size_t)n;
		off += (unsigned long long)n;
	}
	return SG_OK;
}

int sg_fsync_dir_of(const char *path)
{
	char *dir = sg_path_dir(path);
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1, error = SG_OK;

	if (fd < 0 || fsync(fd) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot sync its folder: %s", path,
				     dir ? strerror(errno) : "out of memory");
	if (fd >= 0)
		close(fd);
	free(dir);
	return error;
}

static int write_private(const char *path, const void *data, size_t len, int sync)
{
	int error, fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
	error = sg_write_all(fd, data, len, path);
	if (!error && sync && fsync(fd) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
	if (close(fd) != 0 && !error)
		error = sg_error_set(SG_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
	if (error)
		unlink(path);
	return error;
}

int sg_write_private(const char *path, const void *data, size_t len)
{
	return write_private(path, data, len, 0);
}

int sg_write_private_synced(const char *path, const void *data, size_t len)
{
	return write_private(path, data, len, 1);
}

struct sg_writeback {
	int fd; /* a duplicate of the caller's */
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC */
	pthread_t tid;
};

#define WRITEBACK_PERIOD_NS 50000000L

static void *writeback_loop(void *arg)
{
	sg_writeback *w = arg;
	struct timespec next;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		pthread_mutex_unlock(&w->mu);
		sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_nsec += WRITEBACK_PERIOD_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&w->mu);
		while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &next) == 0)
			;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

sg_writeback *sg_writeback_start(int fd)
{
	sg_writeback *w = calloc(1, sizeof(*w));
	pthread_condattr_t attr;

	if (!w || (w->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&w->tid, NULL, writeback_loop, w) == 0)
		return w;
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	close(w->fd);
	free(w);
	return NULL;
}

void sg_writeback_stop(sg_writeback *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->tid, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	close(w->fd);
	free(w);
}

int sg_publish_in_place(sg_digests *out, const char *path, unsigned want,
			const sg_stream_sink *sink)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), error;

	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open the output: %s", path,
				    strerror(errno));
	/* Start writing it to disk now, so that the fsync below has little left to wait for. */
	sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	error = sg_hash_stream_with(out, fd, -1, path, want, sink);
	if (error == SG_OK && fchmod(fd, 0644) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: chmod failed: %s", path, strerror(errno));
	if (error == SG_OK && fsync(fd) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
	close(fd);
	return error;
}

/*
 * The one move into place: `tmp` to `dest` (both relative to the folder
 * `dfd`, or AT_FDCWD), never replacing without `force`; `tmp` is removed on
 * failure; the folder is fsynced after. `shown` names `dest` in messages.
 */
static int move_into_place(int dfd, const char *tmp, const char *dest, int force, const char *shown)
{
	int rc = force ? renameat(dfd, tmp, dfd, dest)
		       : renameat2(dfd, tmp, dfd, dest, RENAME_NOREPLACE);

	if (rc != 0) {
		int e = errno;
		unlinkat(dfd, tmp, 0);
		if (e == EEXIST)
			return sg_error_set(SG_ERR_EXISTS,
					    "%s: exists already (use --force to replace it)",
					    shown);
		return sg_error_set(SG_ERR_IO, "%s: cannot move the output into place: %s", shown,
				    strerror(e));
	}
	/* Published already: a folder that cannot be synced does not undo that. */
	if (dfd != AT_FDCWD)
		fsync(dfd);
	else if (sg_fsync_dir_of(dest) != SG_OK)
		sg_error_clear();
	return SG_OK;
}

int sg_publish_commit(const char *tmp, const char *dest, int force)
{
	return move_into_place(AT_FDCWD, tmp, dest, force, dest);
}

int sg_publish_fill(int fd, const void *data, size_t len, unsigned mode, const char *shown)
{
	int error = sg_write_all(fd, data, len, shown);

	if (!error && (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0))
		error = sg_error_set(SG_ERR_IO, "%s: cannot write: %s", shown, strerror(errno));
	if (close(fd) != 0 && !error)
		error = sg_error_set(SG_ERR_IO, "%s: cannot write: %s", shown, strerror(errno));
	return error;
}

int sg_publish_at(int dfd, int fd, const char *tmp, const char *dest, const void *data, size_t len,
		  unsigned mode, const char *shown)
{
	int error = sg_publish_fill(fd, data, len, mode, shown);

	if (error) {
		unlinkat(dfd, tmp, 0);
		return error;
	}
	return move_into_place(dfd, tmp, dest, 1, shown);
}

/* "DIR/.BASE.XXXXXX" for `dest`: hidden, so that no reader of the folder takes it up. */
static char *temp_name(const char *dest)
{
	char *dir = sg_path_dir(dest), *name = NULL, *path = NULL;
	size_t len = strlen(sg_path_base(dest)) + sizeof("..XXXXXX");

	if (dir && (name = malloc(len)) != NULL) {
		snprintf(name, len, ".%s.XXXXXX", sg_path_base(dest));
		path = sg_path_join(dir, name);
	}
	free(name);
	free(dir);
	return path;
}

int sg_publish_temp(char **out_tmp, const char *dest, const void *data, size_t len, unsigned mode)
{
	char *tmp = temp_name(dest);
	int fd, error;

	*out_tmp = NULL;
	if (!tmp)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		error = sg_error_set(SG_ERR_IO, "%s: cannot create a temporary file beside it: %s",
				     dest, strerror(errno));
		free(tmp);
		return error;
	}
	error = sg_publish_fill(fd, data, len, mode, dest);
	if (error) {
		unlink(tmp);
		free(tmp);
		return error;
	}
	*out_tmp = tmp;
	return SG_OK;
}

int sg_publish_bytes(const char *dest, const void *data, size_t len, unsigned mode, int force)
{
	char *tmp;
	int error = sg_publish_temp(&tmp, dest, data, len, mode);

	if (!error)
		error = sg_publish_commit(tmp, dest, force);
	free(tmp);
	return error;
}

/* What the strict-mode rule does not say of a secret file: a regular file, and small. */
static int check_secret_file(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return sg_error_set(SG_ERR_IO, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sg_error_set(SG_ERR_CONFIG, "%s: a secret file must be a regular file",
				    path);
	if (st.st_size > SG_SECRET_MAX)
		return sg_error_set(SG_ERR_CONFIG, "%s: secret file is larger than %d bytes", path,
				    SG_SECRET_MAX);
	return SG_OK;
}

/*
 * Open key material or a secret file through the strict-mode rule (strict.h)
 * for private files: owned by root or us, no access for group or others, no
 * link at the end, every folder above safe.
 */
static int open_private(int *fd, const char *path, const char *noun)
{
	sg_strict_rule rule;

	sg_strict_rule_init(&rule, geteuid());
	rule.noun = noun;
	return sg_strict_open(fd, path, &rule, SG_STRICT_PRIVATE);
}

int sg_secret_check_file(const char *path)
{
	struct stat st;
	int fd, error = open_private(&fd, path, "key file");

	if (error)
		return error;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		error = sg_error_set(SG_ERR_CONFIG, "%s: key material must be a regular file",
				     path);
	close(fd);
	return error;
}

int sg_secret_read_file(char **out, size_t *out_len, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, error = open_private(&fd, path, "secret file");

	*out = NULL;
	*out_len = 0;
	if (error == SG_ERR_IO)
		return sg_error_set(errno == ENOENT ? SG_ERR_CONFIG : SG_ERR_IO,
				    "%s: cannot open the secret file: %s", path, strerror(errno));
	if (error)
		return error;
	error = check_secret_file(fd, path);
	if (error == SG_OK && !(buf = OPENSSL_secure_zalloc(SG_SECRET_MAX + 1)))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	while (error == SG_OK && len < SG_SECRET_MAX &&
	       (n = read(fd, buf + len, SG_SECRET_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			error = sg_error_set(SG_ERR_IO, "%s: read failed: %s", path,
					     strerror(errno));
		else
			len += (size_t)n;
	}
	close(fd);
	if (error == SG_OK && len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (error == SG_OK && len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (error == SG_OK && (len == 0 || memchr(buf, '\n', len) || memchr(buf, '\0', len)))
		error = sg_error_set(SG_ERR_CONFIG,
				     "%s: the secret file must hold one non-empty line", path);
	if (error != SG_OK) {
		sg_secret_free(buf);
		return error;
	}
	*out = buf;
	*out_len = len;
	return SG_OK;
}

void sg_secret_free(char *secret)
{
	if (secret)
		OPENSSL_secure_clear_free(secret, SG_SECRET_MAX + 1);
}

const char *sg_message_without_name(const char *message, const char *name)
{
	size_t n = strlen(name);

	return strncmp(message, name, n) == 0 && strncmp(message + n, ": ", 2) == 0
		       ? message + n + 2
		       : message;
}

/*
 * cert export, part 5: the set of files moved into --out-dir all or nothing
 * (signgate/cert_export.h). The folder itself stays (shares and GPO paths
 * point at it), so the switch is made name by name: every name checked and
 * every new file written and fsynced beside it first; then, per name, the
 * new file swapped in (RENAME_EXCHANGE; where the file system cannot, a
 * hard link kept to what was there and the new file renamed in), the old
 * one kept under a hidden name. When one
 * step fails, every name done so far is put back. All through the folder's
 * descriptor, never following a link.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "signgate/cert_export.h"
#include "signgate/error.h"
#include "signgate/util.h"

/* One name of the set. */
typedef struct slot {
	char tmp[160]; /* ".signgate-export-TOKEN.new-NAME": the new file until it is moved in */
	char old[160]; /* ".signgate-export-TOKEN.old-NAME": what NAME held (tmp if it could not be renamed) */
	int existed;   /* NAME was there (a file or a link) when it was checked */
	int made;      /* tmp exists */
	int kept;      /* old exists */
	int moved;     /* NAME holds the new file */
	int swapped_out; /* tmp holds a folder or special file that appeared at NAME */
} slot;

typedef struct set {
	int dfd;
	const char *dir;
	const sg_export *ex;
	slot *s;
	int force;
} set;

/* Append to the message in `out` (`size` bytes, NUL-terminated). */
static void append(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void append(char *out, size_t size, const char *fmt, ...)
{
	size_t len = strlen(out);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(out + len, size - len, fmt, ap);
	va_end(ap);
}

/* "DIR/NAME" for messages. */
static const char *shown(char *out, size_t size, const set *p, const char *name)
{
	size_t n = strlen(p->dir);

	snprintf(out, size, "%s%s%s", p->dir, n && p->dir[n - 1] == '/' ? "" : "/", name);
	return out;
}

/* Open the folder and name every slot's hidden files with one random token. */
static int set_open(set *p)
{
	unsigned char r[6];
	char token[sizeof(r) * 2 + 1];

	p->dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dfd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open the folder: %s; nothing replaced",
				    p->dir, strerror(errno));
	if (!(p->s = calloc(p->ex->n_files + 1, sizeof(*p->s))))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (RAND_bytes(r, sizeof(r)) != 1)
		return sg_error_set(SG_ERR_CRYPTO, "no random bytes for the temporary names");
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(token + 2 * i, 3, "%02x", r[i]);
	for (size_t i = 0; i < p->ex->n_files; i++) {
		snprintf(p->s[i].tmp, sizeof(p->s[i].tmp), "%s%s.new-%s", SG_EXPORT_HIDDEN_PREFIX,
			 token, p->ex->files[i].name);
		snprintf(p->s[i].old, sizeof(p->s[i].old), "%s%s.old-%s", SG_EXPORT_HIDDEN_PREFIX,
			 token, p->ex->files[i].name);
	}
	return SG_OK;
}

/*
 * Whether name i may be replaced by a rename: absent, or (with force) a
 * regular file or a symbolic link (the link itself is replaced, never
 * followed). A folder or a special file is refused before anything is
 * written.
 */
static int check_name(set *p, size_t i)
{
	const char *name = p->ex->files[i].name;
	char where[PATH_MAX];
	struct stat st;

	shown(where, sizeof(where), p, name);
	if (fstatat(p->dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? SG_OK
				       : sg_error_set(SG_ERR_IO,
						      "%s: cannot read it: %s; nothing "
						      "replaced",
						      where, strerror(errno));
	if (!p->force)
		return sg_error_set(SG_ERR_EXISTS, "%s: exists already (use --force to replace it)",
				    where);
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return sg_error_set(
			SG_ERR_EXISTS,
			"%s: %s, not a file: export cannot replace it; nothing replaced "
			"(remove it, then export again)",
			where, S_ISDIR(st.st_mode) ? "a folder" : "a special file");
	p->s[i].existed = 1;
	return SG_OK;
}

/* The new file of name i, beside it: written, mode 0644, fsynced. */
static int write_new(set *p, size_t i)
{
	const sg_export_file *f = &p->ex->files[i];
	char where[PATH_MAX];
	int fd = openat(p->dfd, p->s[i].tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0600),
	    e = errno;

	shown(where, sizeof(where), p, f->name);
	if (fd < 0)
		return sg_error_set(SG_ERR_IO,
				    "%s: cannot create a temporary file beside it: %s; nothing "
				    "replaced",
				    where, strerror(e));
	p->s[i].made = 1;
	return sg_publish_fill(fd, f->data, f->len, 0644, where);
}

/*
 * Name i, when a file or link was there at the check: swap the new file in
 * with RENAME_EXCHANGE (the old one then stands at the temporary name, and
 * is renamed to the ".old-" name); where the file system cannot swap, a hard
 * link to the old file first (never following a link), then a rename over
 * it. 1 when done (s->kept says whether the old file is kept), 0 when NAME
 * is gone since the check (nothing to keep), -1 on an error (set).
 */
static int swap_in(set *p, size_t i, const char *where)
{
	slot *s = &p->s[i];
	const char *name = p->ex->files[i].name;
	const char *failed = "cannot move the output into place";

	if (renameat2(p->dfd, s->tmp, p->dfd, name, RENAME_EXCHANGE) == 0) {
		struct stat st;

		/* What was swapped out must be what the check allowed: a file or a link. */
		if (fstatat(p->dfd, s->tmp, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))) {
			if (renameat2(p->dfd, s->tmp, p->dfd, name, RENAME_EXCHANGE) != 0) {
				/*
				 * The new file stands at NAME, what appeared at tmp: put_back()
				 * removes the new file and renames tmp back to NAME.
				 */
				s->moved = 1;
				s->swapped_out = 1;
			}
			sg_error_set(SG_ERR_EXISTS,
				     "%s: a folder or special file appeared at this name after export "
				     "checked the folder: not replaced",
				     where);
			return -1;
		}
		s->made = 0;
		s->moved = s->kept = 1;
		/* The old file is at tmp now: under its own hidden name if it can be. */
		if (renameat2(p->dfd, s->tmp, p->dfd, s->old, RENAME_NOREPLACE) != 0)
			memcpy(s->old, s->tmp, sizeof(s->old));
		return 1;
	}
	if (errno == ENOENT)
		return 0;
	if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
		failed = "cannot keep the old file (a hard link beside it) before replacing it";
		if (linkat(p->dfd, name, p->dfd, s->old, 0) == 0) {
			s->kept = 1;
			failed = "cannot move the output into place";
			if (renameat(p->dfd, s->tmp, p->dfd, name) == 0) {
				s->made = 0;
				s->moved = 1;
				return 1;
			}
		} else if (errno == ENOENT) {
			return 0;
		}
	}
	sg_error_set(SG_ERR_IO, "%s: %s: %s", where, failed, strerror(errno));
	return -1;
}

/*
 * Name i: the new file moved in, the old one kept (swap_in). A name that
 * was absent is never replaced: a file that appeared there since the check
 * stays.
 */
static int move_in(set *p, size_t i)
{
	slot *s = &p->s[i];
	const char *name = p->ex->files[i].name;
	char where[PATH_MAX];
	int e;

	shown(where, sizeof(where), p, name);
	if (s->existed) {
		int done = swap_in(p, i, where);

		if (done != 0)
			return done > 0 ? SG_OK : sg_error_code();
	}
	if (renameat2(p->dfd, s->tmp, p->dfd, name, RENAME_NOREPLACE) == 0) {
		s->made = 0;
		s->moved = 1;
		return SG_OK;
	}
	e = errno;
	if (e == EEXIST)
		return sg_error_set(SG_ERR_EXISTS,
				    "%s: a file appeared at this name after export checked the "
				    "folder: not replaced%s",
				    where, p->force ? "" : " (use --force to replace it)");
	return sg_error_set(SG_ERR_IO, "%s: cannot move the output into place: %s", where,
			    strerror(e));
}

/* Name i as it was: the old file renamed back over the new one, or the new name removed. */
static int put_back(set *p, size_t i, char *why, size_t size)
{
	slot *s = &p->s[i];
	const char *name = p->ex->files[i].name;
	char where[PATH_MAX];

	if (s->swapped_out) {
		if (unlinkat(p->dfd, name, 0) != 0 || renameat(p->dfd, s->tmp, p->dfd, name) != 0) {
			int e = errno;
			append(why, size, "%s%s: cannot put back what appeared there (now at %s): %s",
			       why[0] ? "; " : "", shown(where, sizeof(where), p, name), s->tmp,
			       strerror(e));
			return -1;
		}
		s->swapped_out = s->moved = 0;
		return 0;
	}
	if (s->moved &&
	    (s->kept ? renameat(p->dfd, s->old, p->dfd, name) : unlinkat(p->dfd, name, 0)) != 0) {
		int e = errno;
		append(why, size, "%s%s: cannot %s: %s", why[0] ? "; " : "",
		       shown(where, sizeof(where), p, name),
		       s->kept ? "put the old file back" : "remove the new file", strerror(e));
		return -1;
	}
	if (s->moved)
		s->kept = 0; /* renamed back: the hidden name is gone */
	s->moved = 0;
	return 0;
}

/* Remove what is hidden and no longer needed; what cannot be removed is named in `left`. */
static void remove_hidden(set *p, size_t i, char *left, size_t size)
{
	slot *s = &p->s[i];
	char where[PATH_MAX];

	if (s->made && unlinkat(p->dfd, s->tmp, 0) == 0)
		s->made = 0;
	if (s->kept && !s->moved && unlinkat(p->dfd, s->old, 0) == 0)
		s->kept = 0;
	if (s->made)
		append(left, size, " %s", shown(where, sizeof(where), p, s->tmp));
	if (s->kept && !s->moved)
		append(left, size, " %s", shown(where, sizeof(where), p, s->old));
}

/*
 * What the folder holds after a roll back that failed somewhere: which names
 * hold the new file (and where the old one is kept), which are as before.
 */
static void describe(set *p, char *out, size_t size)
{
	append(out, size, "; new now:");
	for (size_t i = 0; i < p->ex->n_files; i++)
		if (p->s[i].moved)
			append(out, size, " %s%s%s%s", p->ex->files[i].name,
			       p->s[i].kept ? " (the old one kept beside it as " : "",
			       p->s[i].kept ? p->s[i].old : "", p->s[i].kept ? ")" : "");
	append(out, size, "; as before:");
	for (size_t i = 0; i < p->ex->n_files; i++)
		if (!p->s[i].moved)
			append(out, size, " %s", p->ex->files[i].name);
}

/*
 * After a failure (its message is the last error): the hidden files
 * removed, and after the first rename every name put back as it was; the
 * folder fsynced. The message then says what the folder holds ("nothing
 * replaced" only when that is so). Returns the failure's code.
 */
static int roll_back(set *p, int committing)
{
	char msg[SG_ERROR_MAX], why[2048] = "", left[2048] = "";
	int code = sg_error_code(), failed = 0;
	size_t restored = 0, removed = 0;

	snprintf(msg, sizeof(msg), "%s", sg_error_last());
	for (size_t i = p->ex->n_files; i-- > 0;) {
		restored += p->s[i].moved && p->s[i].kept;
		removed += p->s[i].moved && !p->s[i].kept;
		failed |= put_back(p, i, why, sizeof(why));
	}
	for (size_t i = 0; i < p->ex->n_files; i++)
		remove_hidden(p, i, left, sizeof(left));
	if (committing)
		fsync(p->dfd);
	if (failed) {
		append(msg, sizeof(msg), "; the roll back failed too (%s)", why);
		describe(p, msg, sizeof(msg));
	} else if (restored + removed)
		append(msg, sizeof(msg),
		       "; nothing replaced (put back as they were: %zu old file(s) restored, %zu "
		       "new name(s) removed)",
		       restored, removed);
	else if (!strstr(msg, "nothing replaced") && !strstr(msg, "exists already"))
		append(msg, sizeof(msg), "; nothing replaced");
	if (left[0])
		append(msg, sizeof(msg), "; left behind (remove them):%s", left);
	return sg_error_set(code, "%s", msg);
}

/* Success: the kept old files removed, the folder fsynced; what failed goes to `warn`. */
static void finish(set *p, char *warn, size_t size)
{
	char where[PATH_MAX];

	for (size_t i = 0; i < p->ex->n_files; i++) {
		if (!p->s[i].kept || unlinkat(p->dfd, p->s[i].old, 0) == 0)
			continue;
		int e = errno;
		append(warn, size, "%s%s: cannot remove the replaced file's copy: %s (remove it)",
		       warn[0] ? "; " : "", shown(where, sizeof(where), p, p->s[i].old),
		       strerror(e));
	}
	if (fsync(p->dfd) != 0) {
		int e = errno;
		append(warn, size,
		       "%s%s: cannot sync the folder: %s (the files are in place; a crash now may "
		       "undo some)",
		       warn[0] ? "; " : "", p->dir, strerror(e));
	}
}

int sg_export_publish(char *warn, size_t warn_size, const sg_export *ex, const char *dir, int force)
{
	set p = { .dfd = -1, .dir = dir, .ex = ex, .force = force };
	int error = set_open(&p), committing = 0;

	warn[0] = '\0';
	for (size_t i = 0; !error && i < ex->n_files; i++)
		error = check_name(&p, i);
	for (size_t i = 0; !error && i < ex->n_files; i++)
		error = write_new(&p, i);
	committing = !error;
	for (size_t i = 0; !error && i < ex->n_files; i++)
		error = move_in(&p, i);
	if (error && p.s)
		error = roll_back(&p, committing);
	else if (!error)
		finish(&p, warn, warn_size);
	if (p.dfd >= 0)
		close(p.dfd);
	free(p.s);
	return error;
}

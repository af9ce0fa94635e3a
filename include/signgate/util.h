/*
 * File and path helpers shared by the library: private working folders,
 * the single-pass private copy of an input, bounded reads of whole files,
 * atomic publication of outputs, and secret files.
 */
#ifndef SIGNGATE_UTIL_H
#define SIGNGATE_UTIL_H

#include <stddef.h>

#include "signgate/hash.h"

/* A newly allocated "dir/name". Returns NULL when out of memory. */
char *sg_path_join(const char *dir, const char *name);

/*
 * `path` made absolute against `base_dir` when it is relative; a newly
 * allocated string (NULL when out of memory). An absolute path is copied.
 */
char *sg_path_resolve(const char *base_dir, const char *path);

/* The base name of `path` (a pointer into it); "" for a path ending in '/'. */
const char *sg_path_base(const char *path);

/* A newly allocated copy of the folder part of `path` ("." when none). */
char *sg_path_dir(const char *path);

/*
 * A private folder of one run (issue 13): the work folder under $TMPDIR or
 * the stage folder beside an output. While the run holds it, `fd` (the
 * folder itself, opened O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC: no child
 * inherits it) carries an exclusive flock(); a folder whose lock nobody holds
 * is a left-over of a killed run (sg_leftovers_clean()). The folder is made
 * under a pending name and renamed to its final one only once locked, so a
 * cleanup started at the same time never sees it unlocked. Work from `fd`
 * (openat) where that is easy; `path` is safe to reopen too: its parent and
 * every folder above it are checked to be ones no one else can rearrange.
 * Initialise with SG_WORKDIR_INIT; remove with sg_workdir_remove().
 */
typedef struct sg_workdir {
	char *path;       /* "<parent>/<name>", newly allocated */
	const char *name; /* its last component, in `path` */
	int fd;           /* the folder, locked; -1 when none */
	int parent_fd;    /* the folder it is in (O_DIRECTORY | O_CLOEXEC); -1 when none */
} sg_workdir;

#define SG_WORKDIR_INIT                                                                            \
	{                                                                                          \
		NULL, NULL, -1, -1                                                                 \
	}

/* The folder work folders are made in: $TMPDIR when it is an absolute path, else /tmp. */
const char *sg_workdir_parent(void);

/*
 * Create a private working folder (mode 0700, "signgate-work.XXXXXX") under
 * sg_workdir_parent(), locked as above, into `out`. Returns SG_OK;
 * SG_ERR_CONFIG when that folder or one above it is owned by another
 * account or writable by group or others without the sticky bit ("TMPDIR
 * /x: others may write this folder and it has no sticky bit (mode 0777)
 * ..."); SG_ERR_IO ("/x: cannot create a private working folder: REASON").
 */
int sg_workdir_create(sg_workdir *out);

/*
 * Remove everything inside the folder (folders in it too, a few levels
 * deep) through its descriptor, then the folder itself while its name is
 * still that folder (a link put in its place is not followed and nothing is
 * removed through it), release its lock, free `path` and reset `wd` to
 * SG_WORKDIR_INIT. NULL and an initialised, empty `wd` are accepted.
 * Errors are ignored: this is cleanup.
 */
void sg_workdir_remove(sg_workdir *wd);

/*
 * Check, before any work, that private folders may be made in `dir` (as
 * sg_workdir_create() and sg_stage_create() check it again when they make
 * one); `what` prefixes the folder in messages ("TMPDIR ", "output folder ").
 * Returns SG_OK, SG_ERR_CONFIG (as there) or SG_ERR_IO ("WHAT DIR: cannot
 * open the folder: REASON").
 */
int sg_workdir_check_parent(const char *dir, const char *what);

/* sg_leftovers_clean() kinds. */
#define SG_LEFTOVERS_WORK  1 /* work folders, in sg_workdir_parent() */
#define SG_LEFTOVERS_STAGE 2 /* stage folders, in an output folder */

/* Called with the path of each folder removed (valid during the call). */
typedef void (*sg_leftovers_fn)(const char *path, void *arg);

/*
 * Remove, in the folder `dir`, the private folders of `kind` that runs
 * killed before they could remove them left there: only an entry named as
 * signgate names them, a real folder (not a link), owned by the effective
 * user, of mode 0700, whose lock no process holds (flock LOCK_EX | LOCK_NB
 * succeeds) and that is still at its name once locked; a folder under its
 * pending name also must be a minute old. Nothing is removed in a folder
 * that others could rearrange (see sg_workdir_create()). Removal is by
 * *at() calls relative to descriptors, following no link. `fn` (may be
 * NULL) is told each folder removed, `*removed` (may be NULL) their count.
 * A `dir` that cannot be opened has nothing to clean: SG_OK. Returns SG_OK
 * or SG_ERR_NOMEM.
 */
int sg_leftovers_clean(const char *dir, unsigned kind, sg_leftovers_fn fn, void *arg,
		       size_t *removed);

/*
 * Read the input file at `input` once, computing its digests in `want`
 * (SG_DIGEST_* of hash.h) into `out` and
 * writing the same bytes to a new file `copy_path` (created O_EXCL, 0600).
 * The input must be a regular file; it is opened read-only and never
 * changed. `name` is used in messages. On failure `copy_path` is removed.
 * Returns SG_OK, SG_ERR_IO or SG_ERR_CRYPTO.
 */
int sg_private_copy(sg_digests *out, const char *input, const char *copy_path, const char *name,
		    unsigned want);

/*
 * sg_private_copy(), keeping the copy open: on SG_OK `*copy_fd` is the
 * descriptor the copy was written through (read-write, close-on-exec; the
 * caller closes it), else -1. Whoever can write the copy's folder can put
 * another file at `copy_path` at any time: what must be the bytes hashed
 * is read through this descriptor, never through the path. `sink` (may be
 * NULL) is fed the bytes as they are copied (sg_hash_stream_with()); with
 * `writeback`, the copy is written to disk as it is made (sg_writeback), for
 * a copy that will be made durable.
 */
int sg_private_copy_fd(sg_digests *out, const char *input, const char *copy_path, const char *name,
		       unsigned want, const sg_stream_sink *sink, int writeback, int *copy_fd);

/*
 * Create a private folder (0700, ".signgate-XXXXXX") beside `dest`, on its
 * file system, for the output to be written in before it is published: the
 * publication is then a rename, not a copy. It is an sg_workdir (locked;
 * remove it with sg_workdir_remove()), and its parent is held to the same
 * rule ("output folder /x: others may write this folder ..."). Returns
 * SG_OK, SG_ERR_CONFIG, SG_ERR_IO or SG_ERR_NOMEM.
 */
int sg_stage_create(sg_workdir *out, const char *dest);

/*
 * Make the finished output at `path` (in a stage folder) ready to publish:
 * compute the digests in `want` of its bytes into `out`, feeding them to
 * `sink` too (NULL: none; see sg_hash_stream_with()), make it 0644 and
 * fsync it. Returns SG_OK, SG_ERR_IO or SG_ERR_CRYPTO.
 */
/*
 * Start writing to disk a file that is being written on `fd`, so that the
 * fsync making it durable later finds little left: a thread, on its own
 * duplicate of `fd`, asks the kernel every 50 ms to start writing the
 * file's dirty pages back (sync_file_range with SYNC_FILE_RANGE_WRITE:
 * nothing waits). Only a head start; the fsync still decides. Returns a
 * handle for sg_writeback_stop(), or NULL when no thread could be started
 * (then nothing is done, and nothing is lost).
 */
typedef struct sg_writeback sg_writeback;
sg_writeback *sg_writeback_start(int fd);

/* Stop and free it; NULL is accepted. */
void sg_writeback_stop(sg_writeback *w);

int sg_publish_in_place(sg_digests *out, const char *path, unsigned want,
			const sg_stream_sink *sink);

/*
 * Move `tmp` to `dest` atomically. Without `force` an existing `dest` is
 * never replaced (SG_ERR_EXISTS); with it, it is. The folder is fsynced.
 * On failure `tmp` is removed. Returns SG_OK, SG_ERR_EXISTS or SG_ERR_IO.
 */
int sg_publish_commit(const char *tmp, const char *dest, int force);

/*
 * Write the `len` bytes of `data` into a new temporary file beside `dest`
 * (in its folder, named ".BASE.XXXXXX", created O_EXCL, close-on-exec),
 * make it `mode` and fsync it; its path, newly allocated, in `*out_tmp`.
 * Nothing is visible at `dest` yet: publish with sg_publish_commit(). On
 * failure nothing is left behind and `*out_tmp` is NULL. Returns SG_OK,
 * SG_ERR_NOMEM or SG_ERR_IO ("DEST: cannot create a temporary file beside
 * it: REASON", "DEST: cannot write: REASON").
 */
int sg_publish_temp(char **out_tmp, const char *dest, const void *data, size_t len, unsigned mode);

/*
 * The one atomic write of a small output: sg_publish_temp() then
 * sg_publish_commit(). `dest` afterwards holds exactly `data` with `mode`,
 * or is as it was. Returns as those two do.
 */
int sg_publish_bytes(const char *dest, const void *data, size_t len, unsigned mode, int force);

/*
 * The atomic write through a folder descriptor, for a caller that made the
 * temporary file itself (say, to read the file system's clock on it before
 * it knows the bytes): `fd` is the new file `tmp` (created O_EXCL |
 * O_NOFOLLOW) in the folder `dfd`. Write the `len` bytes of `data` to it,
 * make it `mode`, fsync it, close `fd` (always), rename it over `dest` in
 * the same folder and fsync the folder. On failure `tmp` is removed and
 * `dest` is as it was. `shown` names the file in messages. Returns SG_OK or
 * SG_ERR_IO ("SHOWN: cannot write: REASON", "SHOWN: cannot move the output
 * into place: REASON").
 */
int sg_publish_at(int dfd, int fd, const char *tmp, const char *dest, const void *data, size_t len,
		  unsigned mode, const char *shown);

/*
 * The one write of a temporary file a caller made itself (O_EXCL |
 * O_NOFOLLOW): the `len` bytes of `data` onto `fd`, then mode `mode`,
 * fsync, and close `fd` (always). Nothing is renamed: the caller publishes
 * it (a set of files moved in together, say). Returns SG_OK or SG_ERR_IO
 * ("SHOWN: cannot write: REASON").
 */
int sg_publish_fill(int fd, const void *data, size_t len, unsigned mode, const char *shown);

/* The longest secret signgate accepts; secret buffers hold this plus a NUL. */
#define SG_SECRET_MAX 4096

/*
 * Read a secret (a password or PIN) from the file at `path` into a newly
 * allocated NUL-terminated buffer of length `*out_len`, dropping one final
 * "\n" or "\r\n". The file must be a regular file that is not readable or
 * writable by group or others. Free with sg_secret_free().
 * Returns SG_OK, SG_ERR_IO or SG_ERR_CONFIG (unsafe mode, empty secret).
 */
int sg_secret_read_file(char **out, size_t *out_len, const char *path);

/*
 * Check that key material at `path` (a PKCS#12 or PEM private key) is a
 * regular file, not a symbolic link, that group and others cannot access.
 * Returns SG_OK, SG_ERR_IO or SG_ERR_CONFIG with the reason.
 */
int sg_secret_check_file(const char *path);

/*
 * Wipe and free a secret buffer of SG_SECRET_MAX + 1 bytes (from
 * sg_secret_read_file() or sg_secret_obtain()); NULL is accepted.
 */
void sg_secret_free(char *secret);

/* sg_read_file() flag: a missing file (ENOENT) is no error, see there. */
#define SG_READ_MISSING_OK 1
/*
 * sg_read_file() and sg_read_fd_flags() flag: the file is configuration (a
 * keyring, a policy or approval file, a trust file): what is wrong with the
 * file itself (it cannot be opened, is not a regular file, is larger than
 * `max`) is SG_ERR_CONFIG, the configuration's fault (exit 2), rather than
 * SG_ERR_IO or SG_ERR_FORMAT (which would judge an input). A read that
 * fails or a file that changes while read stays SG_ERR_IO.
 */
#define SG_READ_CONFIG 2

/*
 * Read the whole regular file at `path`, at most `max` bytes, into a newly
 * allocated buffer `*out` of `*len` bytes and a NUL that `*len` does not
 * count. Symbolic links are followed; what they name must be a regular file.
 * The file is opened O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK (a FIFO
 * or a device in its place must not hang us) and checked with fstat; a file
 * whose size changes while it is read is an error, never cut short.
 *
 * `what` names the file in messages: "keyring" gives "PATH: cannot open the
 * keyring: REASON", "PATH: the keyring is not a regular file"; NULL gives
 * "PATH: cannot open: REASON", "PATH: not a regular file". `flags` is 0 or
 * SG_READ_MISSING_OK: then a file that does not exist returns SG_OK with
 * `*out` NULL and `*len` 0 (an empty file gives a buffer holding "").
 *
 * Returns SG_OK; SG_ERR_IO when the file cannot be opened or read, is not a
 * regular file or changes size while read; SG_ERR_FORMAT when it is larger
 * than `max` ("PATH: larger than MAX bytes"); SG_ERR_NOMEM. With
 * SG_READ_CONFIG in `flags`, a file that cannot be opened, is no regular
 * file or is too large is SG_ERR_CONFIG instead (same message). On failure
 * `*out` is NULL. Free `*out` with free().
 */
int sg_read_file(unsigned char **out, size_t *len, const char *path, size_t max, const char *what,
		 int flags);

/*
 * sg_read_file() for a file the caller holds open as `fd` (say, under its
 * lock): read from its start with pread(), so the file offset is unchanged.
 * `path` names the file in messages; `fd` is left open. Returns as
 * sg_read_file() does, less the failure to open.
 */
int sg_read_fd(unsigned char **out, size_t *len, int fd, const char *path, size_t max,
	       const char *what);

/* sg_read_fd() with sg_read_file()'s `flags` (SG_READ_CONFIG; SG_READ_MISSING_OK has no use). */
int sg_read_fd_flags(unsigned char **out, size_t *len, int fd, const char *path, size_t max,
		     const char *what, int flags);

/*
 * Create the new file `path` (O_EXCL | O_NOFOLLOW, mode 0600) and write the
 * `len` bytes of `data` to it: a private copy in a working folder. On failure
 * the file is removed. Returns SG_OK or SG_ERR_IO naming the file.
 */
int sg_write_private(const char *path, const void *data, size_t len);

/* sg_write_private(), and the bytes are on disk (fsync) before it returns SG_OK. */
int sg_write_private_synced(const char *path, const void *data, size_t len);

/*
 * Write all `len` bytes of `buf` to `fd`, retrying short writes and EINTR.
 * Returns SG_OK, or SG_ERR_IO "WHAT: cannot write: REASON" (`what` names
 * the file: its path, or e.g. "x.exe: its private copy").
 */
int sg_write_all(int fd, const void *buf, size_t len, const char *what);

/*
 * sg_write_all() at offset `off` of `fd` (pwrite: the file offset is
 * unchanged). Returns SG_OK, or SG_ERR_IO "WHAT: cannot write: REASON".
 */
int sg_pwrite_all(int fd, const void *buf, size_t len, unsigned long long off, const char *what);

/*
 * fsync the folder that holds `path`, so that a file created or renamed
 * there survives a crash. Returns SG_OK, or SG_ERR_IO "PATH: cannot sync
 * its folder: REASON".
 */
int sg_fsync_dir_of(const char *path);

/* 1 when `path` exists (lstat succeeds), 0 otherwise. */
int sg_path_exists(const char *path);

/*
 * `message` without its leading "NAME: " (a message about `name` quoted in
 * another about it), else `message` itself. Points into `message`.
 */
const char *sg_message_without_name(const char *message, const char *name);

#endif

/*
 * The policy index file (lib/policy_index_write.c writes it,
 * lib/policy_index.c reads it). It is a cache of a function of the policy's
 * bytes: it tells the loader which policy files hold the approvals and
 * revocations of a digest, and where in the file each one is, so that only
 * those files are read and only those objects parsed. It is never trusted
 * for a decision's content: what decides is always parsed from policy files
 * whose SHA-256 equals the one the index recorded.
 *
 * Layout, in the byte order of the machine that wrote it (a header field
 * tells; another byte order is simply not used), every part 8-byte aligned:
 *   idx_header
 *   idx_file     [n_files]      in the order the full load reads the files
 *   idx_object   [n_approvals]  every approval, in the full load's order
 *   idx_object   [n_revoked]    every revocation, in the full load's order
 *   idx_key      [n_keys[t]]    for each table t, sorted by (key, object)
 *   SHA-256      [n_blocks]     of each IDX_BLOCK bytes of the big files
 *   names        [names_size]   the files' base names, NUL-terminated
 *   SHA-256 of everything before it (32 bytes)
 * A key is the first 8 bytes of a digest, or of the SHA-256 of an approval's
 * "file" name: a lookup may find more than it needs (never less), and what
 * it finds is checked against the parsed object.
 */
#ifndef SIGNGATE_POLICY_INDEX_FORMAT_H
#define SIGNGATE_POLICY_INDEX_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define IDX_MAGIC      "SGPOLIX\n"
#define IDX_BYTE_ORDER 0x01020304u
#define IDX_FORMAT     1
/*
 * A folder's index lives in a subfolder, so that writing it (a temporary
 * file renamed into place) never changes the policy folder's own mtime: an
 * unchanged folder stat then shows that no policy file was added, removed or
 * renamed, without reading 100,000 names. A one-file policy's index is
 * FILE.sgindex beside it.
 */
#define IDX_SUBDIR      ".signgate"
#define IDX_SUBDIR_FILE "index"
#define IDX_FILE_SUFFIX ".sgindex"
#define IDX_MAX_BYTES   ((size_t)UINT32_MAX) /* offsets in an index are 32-bit */

/*
 * A file (or the folder) whose mtime or ctime is not older than the start
 * of the index's build (a time read from the same file system) by this
 * margin is "racy": a change within the same timestamp tick would leave its
 * stat unchanged, so the loader reads and hashes such a file (lists such a
 * folder). The margin covers small clock steps; timestamps of the same
 * tick compare equal, which is racy.
 */
#define IDX_RACY_NS (100LL * 1000000LL)

/*
 * A file larger than IDX_BIG_FILE also has the SHA-256 of each IDX_BLOCK
 * bytes: a decision then reads and checks only the blocks holding its
 * objects (unless co-signatures are required: they cover the whole file).
 */
#define IDX_BIG_FILE     (1024 * 1024)
#define IDX_BLOCK        (64 * 1024)
#define IDX_BLOCKS(size) ((size) > IDX_BIG_FILE ? ((size) + IDX_BLOCK - 1) / IDX_BLOCK : 0)

enum idx_flags {
	IDX_F_FOLDER = 1,
	IDX_F_REQUIRE_COSIGN = 2,
	IDX_F_USES_SHA512 = 4,
	IDX_F_FOLDER_RACY = 8, /* the folder's stat proves nothing: list it */
};

enum idx_file_flags {
	IDX_FILE_RACY = 1,     /* read and hashed when the policy is opened */
	IDX_FILE_PRODUCTS = 2, /* holds catalog entries: parsed when the policy is opened */
};

enum idx_table {
	IDX_APPROVAL_SHA256,
	IDX_APPROVAL_SHA512,
	IDX_APPROVAL_NAME,
	IDX_REVOKED_SHA256,
	IDX_REVOKED_SHA512,
	IDX_TABLES
};

typedef struct idx_header {
	char magic[8];
	uint32_t byte_order, format, rules, flags;
	uint64_t n_files, n_approvals, n_revoked, names_size, n_blocks;
	uint64_t n_keys[IDX_TABLES];
	int64_t built_ns; /* the file system's time when the build started */
	/* The policy folder's stat before its files were listed (folders only). */
	uint64_t dir_dev, dir_ino;
	int64_t dir_mtime_ns, dir_ctime_ns;
} idx_header;

typedef struct idx_file {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	uint64_t name_off;    /* into names */
	uint64_t block_first; /* its first block's SHA-256 (big files) */
	uint32_t flags, pad;
	unsigned char sha256[32];
} idx_file;

typedef struct idx_object {
	uint64_t file; /* index into the files */
	uint64_t off;  /* the object's JSON text in that file */
	uint64_t len;
	uint64_t ordinal; /* its place in the file's list (for messages) */
} idx_object;

typedef struct idx_key {
	uint64_t key;
	uint64_t object; /* index of the approval or revocation */
} idx_key;

/*
 * The key of a digest given as `2 * nbytes` lower-case hex digits; 0 when
 * `hex` is anything else (then nothing can equal it: the decision compares
 * the text). Writes the key to `out`.
 */
int sg_idx_digest_key(uint64_t *out, const char *hex, size_t nbytes);

/* The key of an approval's "file" name. */
uint64_t sg_idx_name_key(const char *name);

/* A stat time in nanoseconds. */
#define IDX_NS(ts) ((int64_t)(ts).tv_sec * 1000000000LL + (int64_t)(ts).tv_nsec)

#endif

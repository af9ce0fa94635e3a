/*
 * Vendor checksum files ("manifests"): the hashes a vendor publishes next to
 * an unsigned installer, parsed so that an approval can rest on them.
 *
 * Line forms read (one entry per line unless said otherwise):
 *   coreutils text    "<hex>  <file>"      sha256sum, md5sum, ...
 *   coreutils binary  "<hex> *<file>"      sha512sum -b, openssl dgst -r, Apache .sha512
 *   one space         "<hex> <file>"       BSD "sha256 -r"; sha256sum --check accepts it
 *                                          too. As in coreutils, the character after the
 *                                          first space decides: ' ' text, '*' binary,
 *                                          anything else starts the name. Reported as
 *                                          format "coreutils".
 *   BSD tag           "SHA256 (<file>) = <hex>"   sha256sum --tag, BSD sha256
 *   OpenSSL           "SHA2-256(<file>)= <hex>"   OpenSSL 3; "SHA256(<file>)= " OpenSSL 1.x
 *   gpg --print-md    "<file>: E7C22B99 4C59D9CF ..." groups of 8 digits (4 for SHA-1,
 *                     2 for MD5), wrapped onto following lines that start with spaces.
 *                     When the name is longer than 38 characters gpg ends the first line
 *                     after "<file>:" and starts the digest, unindented, on the next
 *                     line. "<file>: SHA256 = ..." (gpg --print-mds) is read too. The name
 *                     is everything before the first ": " after which only digest groups
 *                     follow, so it may contain spaces.
 *   bare              "<hex>" alone, or "<hex groups>" as gpg prints a digest read from
 *                     stdin; name NULL, format "bare". Only in a file of bare digests: a
 *                     bare digest in a file that names its files is a bad line.
 * A coreutils or BSD line that starts with '\' has an escaped name ("\\", "\n", "\r"), as
 * coreutils writes for names with those characters. A leading "./" (repeated) is dropped
 * from names. Hex digits are read in any case and stored lower-case.
 *
 * The algorithm comes from the tag (BSD, OpenSSL, gpg --print-mds: MD5, SHA1, SHA224,
 * SHA256, SHA384, SHA512, each also as SHA-256 and SHA2-256), else from the manifest's
 * name (extension .md5 .sha1 .sha224 .sha256 .sha384 .sha512, each also with "sum" or
 * "sums" appended; or a name such as SHA256SUMS or sha512sums.txt), else from the number
 * of hex digits (32 MD5, 40 SHA-1, 56 SHA-224, 64 SHA-256, 96 SHA-384, 128 SHA-512). A
 * tag or a name whose length disagrees with the digest is a bad line. SHA-3, BLAKE2,
 * RMD160, SHA-512/256 and other tags are bad lines ("unsupported algorithm"). An untagged
 * SHA3-256 or SHA-512/256 value in a file whose name does not say so is taken as SHA-256
 * by its length: it can only fail to match, never approve the wrong bytes.
 *
 * Skipped: blank lines and lines starting with '#'. Accepted: CRLF, trailing spaces
 * and tabs, leading spaces, a UTF-8 BOM. The whole file is refused (SG_ERR_FORMAT)
 * for a NUL or other control character (except tab, and CR before LF), an OpenPGP
 * armor line ("-----BEGIN PGP SIGNED MESSAGE-----": clearsigned manifests are not read,
 * the caller verifies a detached signature), more than 1 MiB, an empty file, or a file
 * with no entry at all. Any other line that does not parse is kept in `bad` with the
 * reason: it is never silently skipped, sg_manifest_find() refuses to answer for a
 * name it might concern.
 *
 * Memory: one pass over the text, no recursion; the structure holds copies of the
 * names and of the bad lines, so it is at most a few times the file's size.
 */
#ifndef SIGNGATE_MANIFEST_H
#define SIGNGATE_MANIFEST_H

#include <stddef.h>

typedef enum sg_hash_alg {
	SG_ALG_UNKNOWN = 0,
	SG_ALG_MD5,
	SG_ALG_SHA1,
	SG_ALG_SHA224,
	SG_ALG_SHA256,
	SG_ALG_SHA384,
	SG_ALG_SHA512,
} sg_hash_alg;

typedef struct sg_manifest_entry {
	sg_hash_alg alg;
	char hex[129]; /* lower-case */
	/* the file name as written (binary marker '*' and a leading "./" removed); NULL for a
	 * bare digest */
	char *name;
	size_t line;        /* 1-based line where the entry starts */
	const char *format; /* "coreutils", "coreutils-binary", "bsd", "openssl", "gpg", "bare" */
} sg_manifest_entry;

typedef struct sg_manifest {
	char *path; /* as given, for messages */
	sg_manifest_entry *entries;
	size_t n;
	/* lines that are neither blank, comment nor a parsable entry: kept, so that a lookup
	 * can refuse them when they might concern its file */
	struct sg_manifest_bad {
		size_t line;
		char *text;
		char *why;
	} * bad;
	size_t n_bad;
} sg_manifest;

/*
 * Read and parse the file at `path` (at most 1 MiB; a regular file, not a FIFO or a
 * device; UTF-8 BOM and CRLF accepted) into `out`, which the caller frees with
 * sg_manifest_free() after SG_OK (on failure `out` is left empty). Returns SG_OK,
 * SG_ERR_IO (cannot open or read, not a regular file), SG_ERR_NOMEM or SG_ERR_FORMAT
 * (empty file, binary data, too big, clearsigned, or nothing in it is an entry: the
 * message names the file and the first bad line).
 */
int sg_manifest_load(sg_manifest *out, const char *path);

/*
 * The same from `len` bytes of memory at `text` (need not be NUL-terminated). `path`
 * is used in messages and for the algorithm-from-name rule.
 */
int sg_manifest_parse(sg_manifest *out, const char *path, const char *text, size_t len);

/*
 * The vendor values for the file called `name` (a base name, no '/'): every entry whose
 * name's last path component ('/' or '\' separated) equals `name` exactly
 * (case-sensitive), or every bare digest when the manifest is a bare-digest file.
 * Stores pointers into `m` in found[0..*n_found). Errors, each naming the manifest and
 * the line(s):
 *   SG_ERR_FORMAT  a bad line is about `name`, mentions it (as a whole word), or
 *                  cannot be tied to any file name (then it might concern this one);
 *   SG_ERR_VERIFY  two entries for `name` give different values of the same algorithm;
 *   SG_ERR_DENIED  nothing names it (the message lists up to 5 names the manifest holds);
 *   SG_ERR_USAGE   bad arguments, or more than `max` entries match (nothing is dropped
 *                  silently).
 * MD5 and SHA-1 entries are returned like the others: the caller must require
 * sg_hash_alg_strong() of the value it approves with. `m` must come from
 * sg_manifest_load() or sg_manifest_parse() (a bad line's record holds more than the
 * public fields show).
 */
int sg_manifest_find(const sg_manifest *m, const char *name, const sg_manifest_entry **found,
		     size_t max, size_t *n_found);

/* "MD5", "SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512" ("unknown" otherwise). */
const char *sg_hash_alg_name(sg_hash_alg alg);

/* The number of hex digits of a digest of `alg` (0 for unknown). */
size_t sg_hash_alg_hexlen(sg_hash_alg alg);

/* 1 for SHA-256 and SHA-512: the only ones an approval may rest on; 0 otherwise. */
int sg_hash_alg_strong(sg_hash_alg alg);

/* Free what `m` holds and zero it; NULL and a zeroed structure are accepted. */
void sg_manifest_free(sg_manifest *m);

#endif

/*
 * An MSI's Authenticode digest, computed by signgate itself.
 *
 * Windows hashes an MSI (an OLE compound file) by its content, not its
 * bytes: the streams of each storage in a fixed order of their names (the
 * UTF-16LE name bytes compared as memcmp does; of two names where one is a
 * prefix of the other, the longer first), a sub-storage's streams where the
 * storage sorts, then the storage's CLSID; the root storage's
 * \x05DigitalSignature and \x05MsiDigitalSignatureEx streams are left out,
 * and so are empty streams. With MsiDigitalSignatureEx (signtool's default,
 * osslsigncode -add-msi-dse) the digest hashes first a "pre-hash": the
 * digest, with the same algorithm, of the metadata of the storages and
 * streams in the same order (name, CLSID or size, state bits, creation and
 * modification times; the root: CLSID and state bits); the stream holds
 * that pre-hash, and here it must equal the pre-hash of the file's metadata.
 *
 * The file is read with pread only, a sector at a time (runs of adjacent
 * sectors up to 1 MiB at once); it is never held in memory. Memory grows
 * with the directory (at most 2^17 entries of 136 bytes) and the mini
 * stream's sector list (4 bytes per 512-byte sector), never with stream
 * sizes. Every sector number, chain, size and link is checked: a chain must
 * end exactly where its stream's size says, so loops end the read, and the
 * streams together must fit in the file (and the small ones in the mini
 * stream), so that the work is bounded by the file's size too. Two entries
 * of one storage whose names differ only in case (ASCII, Latin-1) are
 * refused: a compound file's directory takes them as one name.
 */
#ifndef SIGNGATE_MSI_DIGEST_H
#define SIGNGATE_MSI_DIGEST_H

#include <stddef.h>

#define SG_MSI_DIGEST_MAX 64 /* the longest digest (SHA-512) */

/* Whether the pre-hash of MsiDigitalSignatureEx goes first. */
typedef enum sg_msi_dse {
	SG_MSI_DSE_AS_FILE = 0, /* when the file carries the stream (verifying) */
	SG_MSI_DSE_WITHOUT = 1, /* never (signing without MsiDigitalSignatureEx) */
	SG_MSI_DSE_WITH = 2,    /* always (signing with it, as signtool does) */
} sg_msi_dse;

typedef struct sg_msi_digest_result {
	unsigned char md[SG_MSI_DIGEST_MAX];
	size_t md_len;     /* bytes of md in use */
	int has_dse;       /* the file carries \x05MsiDigitalSignatureEx */
	int dse_prepended; /* the pre-hash went first */
	int has_signature; /* the file carries \x05DigitalSignature */
} sg_msi_digest_result;

/*
 * The Authenticode digest of the MSI open on `fd` (signed or not; read with
 * pread only), with the digest algorithm `md_nid` (an OpenSSL NID: SHA-1,
 * SHA-256, SHA-384 or SHA-512); `name` is for messages. Returns SG_OK with
 * `out` filled; SG_ERR_USAGE for another algorithm; SG_ERR_FORMAT naming
 * the broken structure; SG_ERR_VERIFY when the file's MsiDigitalSignatureEx
 * is not the pre-hash of its metadata (or not of the algorithm's length);
 * SG_ERR_IO, SG_ERR_NOMEM or SG_ERR_CRYPTO.
 */
int sg_msi_digest(sg_msi_digest_result *out, int fd, int md_nid, sg_msi_dse dse, const char *name);

/*
 * The bytes of the root's \x05DigitalSignature stream of the MSI open on
 * `fd`, as stored (no DER parsing), into `*out` (free with free()): the
 * exact-signature check compares them with the signature signgate attached.
 * Returns SG_OK; SG_ERR_FORMAT naming the broken structure, a file without
 * the stream, or a stream larger than `max`; SG_ERR_IO or SG_ERR_NOMEM.
 */
int sg_msi_signature_read(unsigned char **out, size_t *len, int fd, size_t max, const char *name);

#endif

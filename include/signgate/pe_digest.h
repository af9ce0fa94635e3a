/*
 * A PE's Authenticode digest, computed by signgate itself, and the check
 * that a signed PE is the unsigned file it was made from plus a signature.
 *
 * Windows hashes a PE in file order, whole, except the three places that
 * signing changes: the CheckSum field (4 bytes), the certificate table's
 * data directory entry (8 bytes) and the certificate table at the end.
 * Before appending the table, a signer pads the file with zeros to a
 * multiple of 8 bytes, and those zeros are hashed: the digest of an unsigned
 * file is taken as if it were padded so (as osslsigncode does), which makes
 * it the digest its signed form carries.
 *
 * Signing a PE uses these so that the signed output is checked without a
 * second program reading it: the digest of the private copy is computed
 * while osslsigncode signs it, the signature must sign that digest, and the
 * output must equal the copy outside the three places (and the padding must
 * be zeros), so that the output's own digest is the one signed.
 */
#ifndef SIGNGATE_PE_DIGEST_H
#define SIGNGATE_PE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "signgate/format.h"

#define SG_PE_DIGEST_LEN 32 /* SHA-256 */

/*
 * The Authenticode SHA-256 of the PE open on `fd` (read with pread only),
 * which sg_format_inspect() described in `info`; `name` is for messages.
 * Returns SG_OK, SG_ERR_USAGE when `info` is not a PE, SG_ERR_IO (also when
 * the file is shorter than `info` says) or SG_ERR_CRYPTO.
 */
int sg_pe_digest(unsigned char out[SG_PE_DIGEST_LEN], int fd, const sg_format_info *info,
		 const char *name);

/*
 * Comparing a signed PE, as a pass streams it (sg_stream_sink), with the
 * unsigned PE it was signed from. Use: sg_pe_compare_init(), then the sink
 * sg_pe_compare_update() in sg_hash_stream_with(), then
 * sg_pe_compare_finish(), then sg_pe_compare_free().
 */
typedef struct sg_pe_compare {
	int orig_fd;           /* the unsigned original, read with pread */
	sg_format_info orig;   /* its sg_format_inspect() */
	/* A window of the original mapped read-only: comparing it costs no copy. */
	const unsigned char *map;
	uint64_t map_off;
	size_t map_len;
	uint64_t seen;         /* bytes of the signed file streamed so far */
	uint64_t mismatch;     /* the first offset that differs; UINT64_MAX: none */
	int read_error;        /* errno of a failed mapping of the original; 0: none */
} sg_pe_compare;

/* Returns SG_OK, SG_ERR_USAGE when `orig` is not an unsigned PE, or SG_ERR_NOMEM. */
int sg_pe_compare_init(sg_pe_compare *c, int orig_fd, const sg_format_info *orig);

/* The sink's update: `arg` is the sg_pe_compare. */
void sg_pe_compare_update(void *arg, const unsigned char *data, size_t len, uint64_t offset);

/*
 * After the whole signed file was streamed: `signed_info` is its
 * sg_format_inspect(). Returns SG_OK when the signed file is the original,
 * padded with zeros to 8 bytes, with one certificate table appended there
 * and only the CheckSum and the table's directory entry changed; else
 * SG_ERR_VERIFY naming the first difference, or SG_ERR_IO.
 */
int sg_pe_compare_finish(sg_pe_compare *c, const sg_format_info *signed_info, const char *name);

void sg_pe_compare_free(sg_pe_compare *c);

#endif

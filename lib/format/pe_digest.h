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
 * Signing a PE: the digest of the private copy is taken as the copy is
 * written (sg_pe_stream below), the key helper signs it, and the output's
 * own digest must be that one.
 */
#ifndef SIGNGATE_PE_DIGEST_H
#define SIGNGATE_PE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "signgate/format.h"
#include "signgate/hash.h"

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
 * The same digest taken from a pass that streams the file (sg_stream_sink),
 * such as the pass that writes the private copy: the copy is hashed once,
 * as it is written, not read again. The headers (the first
 * SG_PE_STREAM_HEAD bytes at most) are kept until the CheckSum field and
 * the certificate table's directory entry are found; then everything the
 * digest covers is hashed as it passes. Use: sg_pe_stream_init(), the sink
 * sg_pe_stream_update() in sg_hash_stream_with(), then, with the file's
 * sg_format_inspect(), sg_pe_stream_finish(), then sg_pe_stream_free().
 */
#define SG_PE_STREAM_HEAD 65536

typedef struct sg_pe_stream {
	void *ctx; /* EVP_MD_CTX */
	unsigned char head[SG_PE_STREAM_HEAD];
	size_t head_len;
	int hashing; /* the layout is known; hashing as the bytes pass */
	int failed;  /* not a layout the stream can take, or a chunk out of order */
	uint64_t checksum_off, certdir_off, table_off; /* table_off UINT64_MAX: none */
	uint64_t seen;
} sg_pe_stream;

/* Returns SG_OK or SG_ERR_NOMEM. */
int sg_pe_stream_init(sg_pe_stream *d);

/* The sink's update: `arg` is the sg_pe_stream. */
void sg_pe_stream_update(void *arg, const unsigned char *data, size_t len, uint64_t offset);

/*
 * After the whole file was streamed: `info` is its sg_format_inspect().
 * Returns SG_OK with the digest in `out` (the one sg_pe_digest() computes)
 * when the layout the stream found is the inspected one and every byte
 * passed; SG_ERR_USAGE otherwise (the caller computes it from the file);
 * SG_ERR_CRYPTO.
 */
int sg_pe_stream_finish(sg_pe_stream *d, unsigned char out[SG_PE_DIGEST_LEN],
			const sg_format_info *info);

void sg_pe_stream_free(sg_pe_stream *d);

struct sg_format_ops;

/* The PE row (format_pe.c): the PE digest and writer check a file is one. */
extern const struct sg_format_ops sg_format_pe_ops;

#endif

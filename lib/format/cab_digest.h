/*
 * A cabinet's (.cab) Authenticode digest, computed by signgate itself, and
 * the signature blob it carries.
 *
 * A signed cabinet carries its signature at its end, announced by a 20-byte
 * reserve area in the CFHEADER (cbCFHeader 20: the fixed value 0x00100000,
 * the blob's offset and size, eight zero bytes; flag RESERVE_PRESENT), and
 * cbCabinet, coffFiles and every folder's coffCabStart count the reserve's
 * 24 bytes (cbCFHeader, cbCFFolder, cbCFData and the reserve). The digest of
 * such a cabinet hashes, in file order:
 *   - bytes 0-3 (the magic "MSCF");
 *   - bytes 8-33: cbCabinet, reserved2, coffFiles, reserved3, the version,
 *     cFolders, cFiles, flags and setID;
 *   - bytes 56 up to the signature: the reserve's last four bytes, the
 *     CFFOLDER entries, the CFFILE entries and all the data.
 * Skipped: reserved1 (4-7), iCabinet, cbCFHeader/cbCFFolder/cbCFData and
 * the reserve's first 16 bytes (34-55: the signature's offset and size are
 * there), and the signature blob. The structure check (lib/format_cab.c)
 * holds every skipped header byte to its one possible value.
 *
 * An unsigned cabinet has no reserve: signing (osslsigncode attach-signature
 * as sign) inserts those 24 bytes after byte 35 and adds 24 to cbCabinet,
 * coffFiles and each coffCabStart. Its digest here is the one of the file
 * as it will be once signed: the same bytes, with those three fields plus
 * 24, flags with RESERVE_PRESENT set, the reserve's last four bytes (zeros)
 * and the rest of the file from byte 36 on unchanged. So the digest taken of
 * the private copy is the one its signed form carries, and the one
 * `osslsigncode verify` prints as "Calculated message digest".
 */
#ifndef SIGNGATE_CAB_DIGEST_H
#define SIGNGATE_CAB_DIGEST_H

#include <stddef.h>

#define SG_CAB_DIGEST_MAX 64 /* the longest digest (SHA-512) */

/*
 * The Authenticode digest, as above, of the cabinet open on `fd` (signed or
 * not; read with pread only, 1 MiB at a time) with the algorithm `md_nid`
 * (an OpenSSL NID: SHA-1, SHA-256, SHA-384, SHA-512) into `md`, its length
 * into `*md_len`; `name` is for messages. Only the header is checked here
 * (run sg_format_inspect() first for the whole structure). Returns SG_OK;
 * SG_ERR_USAGE for another algorithm; SG_ERR_FORMAT naming the broken
 * header field; SG_ERR_IO, SG_ERR_CRYPTO.
 */
int sg_cab_digest(unsigned char md[SG_CAB_DIGEST_MAX], size_t *md_len, int fd, int md_nid,
		  const char *name);

/*
 * The signature blob of the signed cabinet open on `fd`, as stored (the DER
 * and its zero padding), into `*out` (free with free()). Returns SG_OK;
 * SG_ERR_FORMAT naming the broken header, or a cabinet without a signature
 * or with one larger than `max`; SG_ERR_IO or SG_ERR_NOMEM.
 */
int sg_cab_signature_read(unsigned char **out, size_t *len, int fd, size_t max, const char *name);

#endif

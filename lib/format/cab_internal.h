/*
 * Internal: the cabinet (.cab) header as format_cab.c checks it and
 * cab_digest.c hashes it. Field names are those of Microsoft's cabinet
 * format specification (CFHEADER, CFFOLDER, CFFILE, CFDATA).
 */
#ifndef SIGNGATE_LIB_CAB_INTERNAL_H
#define SIGNGATE_LIB_CAB_INTERNAL_H

#include <stdint.h>

#include "format_internal.h"

#define CAB_HEADER_LEN  36u /* CFHEADER without the optional fields */
#define CAB_RESERVE_LEN 20u /* the reserve an Authenticode signature uses (cbCFHeader) */
#define CAB_FOLDER_LEN  8u  /* CFFOLDER without a per-folder reserve */
#define CAB_FLAG_PREV    0x0001
#define CAB_FLAG_NEXT    0x0002
#define CAB_FLAG_RESERVE 0x0004

/* What the CFHEADER says, once sg_cab_header_read() has checked it. */
struct cab_layout {
	uint64_t end;        /* cbCabinet: the cabinet's bytes, the signature excluded */
	uint32_t coff_files; /* the first CFFILE: right after the CFFOLDER array */
	uint32_t folders_at; /* the first CFFOLDER: 36, or 60 with the reserve */
	uint16_t n_folders;
	uint16_t n_files;
	uint16_t flags;
	int reserve;         /* the 20-byte reserve of a signed cabinet is present */
	uint32_t sig_offset; /* with the reserve: where the signature blob starts */
	uint32_t sig_size;   /* and its size (the DER and padding to 8 bytes) */
};

/*
 * Read and check the CFHEADER of the cabinet `s` (the magic "MSCF", the
 * version 1.3, reserved fields zero, no multi-cabinet set, a reserve only
 * as an Authenticode signature lays it out, cbCabinet, the signature
 * inside the file, coffFiles right after the CFFOLDER array, at least one
 * folder and one file). SG_ERR_FORMAT names the field and the value.
 */
int sg_cab_header_read(struct cab_layout *out, const struct src *s);

/* The whole structure check of a cabinet, for sg_format_inspect(). */
int sg_format_inspect_cab(const struct src *s, sg_format_info *out);

#endif

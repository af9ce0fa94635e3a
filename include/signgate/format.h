/*
 * Installer format detection and structural validation.
 *
 * signgate signs two kinds of installer: PE images (.exe/.dll, including NSIS,
 * Inno Setup and 7-Zip SFX installers) and MSI packages (OLE compound files).
 * Before a file goes anywhere near osslsigncode its structure is checked here,
 * with bounded reads (pread) so that memory use does not grow with file size.
 * Anything else, or a structurally broken file, is refused with a reason.
 */
#ifndef SIGNGATE_FORMAT_H
#define SIGNGATE_FORMAT_H

#include <stdint.h>

typedef enum sg_format_kind {
	SG_FORMAT_UNKNOWN = 0,
	SG_FORMAT_PE = 1,
	SG_FORMAT_MSI = 2,
	SG_FORMAT_SCRIPT = 4, /* a PowerShell script (.ps1, .psm1, .psd1): script.h */
} sg_format_kind;

typedef struct sg_format_info {
	sg_format_kind kind;
	int pe_bits;         /* PE: 32 (PE32) or 64 (PE32+); 0 for MSI */
	int has_signature;   /* 1 when an Authenticode signature is present */
	uint64_t size;       /* file size in bytes */
	uint64_t sig_offset; /* PE: file offset of the attribute certificate table;
			      * script: of the signature block (the CRLF before it) */
	uint64_t sig_size;   /* PE: its size; MSI: size of \x05DigitalSignature;
			      * script: the block's, up to the end of the file */
	int msi_dse;         /* MSI: the root holds a \x05MsiDigitalSignatureEx stream */
	/* PE: file offsets of the CheckSum field (4 bytes) and of the certificate
	 * table's data directory entry (8 bytes), which the Authenticode digest skips */
	uint64_t pe_checksum_offset;
	uint64_t pe_certdir_offset;
	int script_encoding; /* script: its sg_script_encoding */
} sg_format_info;

/*
 * Inspect the regular file open on `fd` (read with pread only; the offset is
 * not used or changed). `name` is the file name used in error messages.
 *
 * On success fills `out` and returns SG_OK. Returns SG_ERR_FORMAT with a
 * message such as "setup.exe: truncated: section .rsrc ends at 90112, beyond
 * the end of the file (4096 bytes)" or "notes.txt: not a PE or MSI installer",
 * and SG_ERR_IO when reading fails.
 */
int sg_format_inspect(sg_format_info *out, int fd, const char *name);

/* "pe", "msi", "powershell" or "unknown". */
const char *sg_format_name(sg_format_kind kind);

#endif

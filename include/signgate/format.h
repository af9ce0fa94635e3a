/*
 * Installer formats: detection, structural validation, and what signing and
 * verifying need to know about each format.
 *
 * Each format signgate handles is one row of a table (lib/format/format_ops.h,
 * the rows listed in lib/format/format_table.c, each defined in its own
 * file): its name, the file extensions it owns, how it is recognised, its
 * structure check, its Authenticode digest, the SpcIndirectData content the
 * key helper builds for it, where its embedded signature lives, and how a
 * signature is attached. The functions here look the row up; nothing
 * outside lib/format/ asks "is this a PE or an MSI".
 *
 * Before a file goes anywhere near osslsigncode its structure is checked here,
 * with bounded reads (pread) so that memory use does not grow with file size.
 * Anything else, or a structurally broken file, is refused with a reason.
 */
#ifndef SIGNGATE_FORMAT_H
#define SIGNGATE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/*
 * A format: its row's number in the table (1 for the first row, ...), 0
 * (SG_FORMAT_UNKNOWN) for none. The number follows the table's order, so
 * it means nothing outside one build: compare names (sg_format_name(),
 * sg_format_by_name()), never numbers. Adding a format adds no value here.
 */
typedef int sg_format_kind;
#define SG_FORMAT_UNKNOWN 0

/*
 * The ASN.1 shapes of the SpcIndirectDataContent's value signgate builds
 * (lib/crypto/authenticode_sign.c has one builder per shape; the type OID
 * follows from the shape).
 */
typedef enum sg_spc_shape {
	SG_SPC_PE_IMAGE_DATA = 1, /* SpcPeImageData: flags and the SpcLink "<<<Obsolete>>>" */
	SG_SPC_SIP_INFO = 2,      /* SpcSipInfo: version, the SIP's GUID, five integers */
	SG_SPC_CAB_DATA = 3,      /* SpcCabData: the SpcLink file "<<<Obsolete>>>" */
} sg_spc_shape;

/*
 * What a signature over a format signs as its SpcIndirectDataContent type
 * and value: data in the format's row, built by shape. Rows sharing a SIP
 * (the MSI family) share one.
 */
typedef struct sg_spc_content {
	const char *name;           /* "PE", "MSI", "PowerShell": logs */
	const char *what;           /* "a PE": messages ("the signed content is not a PE's") */
	sg_spc_shape shape;
	unsigned char sip_guid[16]; /* SpcSipInfo: the SIP's GUID, as stored */
	long sip_version;           /* SpcSipInfo: the first INTEGER (1; PowerShell 65536) */
	long sip_ints[5];           /* SpcSipInfo: the five INTEGERs after the GUID */
} sg_spc_content;

/* What the PE check found: the fields the PE digest and attachment use. */
typedef struct sg_format_pe {
	int bits; /* 32 (PE32) or 64 (PE32+) */
	/* file offsets of the CheckSum field (4 bytes) and of the certificate
	 * table's data directory entry (8 bytes), which the Authenticode digest skips */
	uint64_t checksum_offset;
	uint64_t certdir_offset;
} sg_format_pe;

/* What the compound file (MSI family) check found. */
typedef struct sg_format_cfb {
	int dse;                 /* the root holds a \x05MsiDigitalSignatureEx stream */
	unsigned char clsid[16]; /* the root entry's class, as stored */
} sg_format_cfb;

/* What the PowerShell script check found. */
typedef struct sg_format_script {
	int encoding;   /* its sg_script_encoding (lib/format/format_script.h) */
	size_t b64_len; /* base64 characters in its signature block (0: none) */
} sg_format_script;

typedef struct sg_format_info {
	sg_format_kind kind;
	int has_signature;   /* 1 when an Authenticode signature is present */
	uint64_t size;       /* file size in bytes */
	uint64_t sig_offset; /* PE: file offset of the attribute certificate table;
			      * CAB: of the signature blob; script: of its signature block
			      * (the CRLF that starts it); else 0 */
	uint64_t sig_size;   /* bytes of the signature container (PE: the table;
			      * MSI family: \x05DigitalSignature; CAB: the blob,
			      * the DER and zeros to 8 bytes; script: the block) */
	union {              /* the part of the format the row names (kind) */
		sg_format_pe pe;
		sg_format_cfb cfb;
		sg_format_script script;
	};
} sg_format_info;

/*
 * Inspect the regular file open on `fd` (read with pread only; the offset is
 * not used or changed). `name` is the file name: messages use it, and when
 * it ends in an extension a format owns (".msp"), the content must be that
 * format's, or the file is refused naming both ("x.msp: named as a Windows
 * Installer patch (.msp) but it is a Windows Installer package (root CLSID
 * {000C1084-...})"). Any other name takes the content's usual format.
 *
 * On success fills `out` and returns SG_OK. Returns SG_ERR_FORMAT with a
 * message such as "setup.exe: truncated: section .rsrc ends at 90112, beyond
 * the end of the file (4096 bytes)" or "notes.txt: not an installer signgate
 * knows ...", and SG_ERR_IO when reading fails.
 */
int sg_format_inspect(sg_format_info *out, int fd, const char *name);

/* The row's name ("pe", "msi", "msp", ...) or "unknown". */
const char *sg_format_name(sg_format_kind kind);

/* The format whose row is named `name` ("msi"), or SG_FORMAT_UNKNOWN. */
sg_format_kind sg_format_by_name(const char *name);

/*
 * 1 when `filename` (a base name) ends in an extension some format owns
 * (case-insensitive; ".exe", ".msi", ".msp", ...) and does not start with a
 * dot: what `sign --recursive` picks up. 0 otherwise.
 */
int sg_format_name_is_installer(const char *filename);

/*
 * The `i`th extension some format owns (".exe", ".msi", ...: each row's,
 * in table order, 0 first), or NULL after the last: what help texts list.
 */
const char *sg_format_extension_at(size_t i);

/*
 * The extension of `filename` (a base name), as spelt there, when a format
 * known by its name alone owns it (a PowerShell script: ".ps1"), else NULL.
 * Such a file is that format by its name only, for osslsigncode and Windows
 * too: its private copy and its signed output must keep such an extension.
 */
const char *sg_format_by_name_extension(const char *filename);

/* Which Authenticode digest a caller needs (MSI family: whether the
 * MsiDigitalSignatureEx pre-hash goes first). */
typedef enum sg_format_digest_use {
	SG_FORMAT_DIGEST_SIGN = 0, /* a new primary signature (the old one replaced) */
	SG_FORMAT_DIGEST_NEST = 1, /* a nested signature added to the file's own */
	SG_FORMAT_DIGEST_FILE = 2, /* the digest the file's signature signs (verifying) */
} sg_format_digest_use;

#define SG_FORMAT_DIGEST_MAX 64

/*
 * signgate's own SHA-256 Authenticode digest of the file open on `fd`, which
 * sg_format_inspect() described in `info`, for `use`. Returns SG_OK with
 * `md` and `*md_len` set; SG_ERR_USAGE for a format without a digest;
 * SG_ERR_FORMAT, SG_ERR_VERIFY (a file whose own pre-hash is wrong),
 * SG_ERR_IO, SG_ERR_NOMEM, SG_ERR_CRYPTO, with the last error naming `name`.
 */
int sg_format_digest(unsigned char md[SG_FORMAT_DIGEST_MAX], size_t *md_len, int fd,
		     const sg_format_info *info, sg_format_digest_use use, const char *name);

/*
 * The SpcIndirectDataContent a signature over a file of `kind` carries
 * (the row's data): what the key helper builds and what verification
 * requires. NULL for an unknown kind or a row without one.
 */
const sg_spc_content *sg_format_content(sg_format_kind kind);

/*
 * `kind` when its row names signed content (the number the key helper's
 * request carries: sg_format_content() of it), else 0.
 */
int sg_format_spc_kind(sg_format_kind kind);

/*
 * The embedded signature's container of the signed file open on `fd`, as
 * stored, into `*out` (free with free()), at most `max` bytes. The PKCS#7
 * DER is `*der_len` bytes at `*der_at` inside it (PE: after the 8-byte
 * WIN_CERTIFICATE header, dwLength - 8 bytes; MSI family: all of it; not
 * parsed here). Returns SG_OK; SG_ERR_FORMAT (no signature, too large,
 * broken), SG_ERR_IO or SG_ERR_NOMEM.
 */
int sg_format_signature_read(unsigned char **out, size_t *len, size_t *der_at, size_t *der_len,
			     int fd, const sg_format_info *info, size_t max, const char *name);

/*
 * 1 when the container `box` (as sg_format_signature_read() gave it) is
 * exactly what signgate writes for the signature `der`: a PE's table is one
 * WIN_CERTIFICATE (revision 2.0, PKCS#7; dwLength 8 + the DER, with or
 * without the padding), the DER, zero bytes to a multiple of 8; an MSI's
 * stream is the DER. 0 otherwise.
 */
int sg_format_container_holds(const sg_format_info *info, const unsigned char *box, size_t len,
			      const unsigned char *der, size_t der_len);

/*
 * 1 when verification takes the signature's DER from
 * sg_format_signature_read() (a PE: no osslsigncode run reads the whole file
 * for it); 0 when osslsigncode extract-signature, confined, extracts it (the
 * MSI family).
 */
int sg_format_extracts_own(const sg_format_info *info);

/*
 * Why a nested signature on `kind` is never checked by Windows (so
 * existing_signature "nest" signs nothing it sees), or NULL when it is.
 */
const char *sg_format_nest_unseen(sg_format_kind kind);

/* What holds a format's signature, for messages: "certificate table". */
const char *sg_format_container_name(sg_format_kind kind);

/*
 * How a signature is attached to a file of this format: signgate's own
 * writer in place on the copy (a PE's first signature), or osslsigncode
 * attach-signature, keyless, with -add-msi-dse when `*add_msi_dse`.
 * `nested`: the signature is added beside the file's own.
 */
typedef int (*sg_format_attach_fn)(int fd, const char *path, const sg_format_info *info,
				   const unsigned char *der, size_t der_len, const char *name);
sg_format_attach_fn sg_format_attach_in_place(const sg_format_info *info, int nested);
int sg_format_attach_add_msi_dse(const sg_format_info *info, int nested);

#endif

/*
 * PowerShell scripts (.ps1, .psm1, .psd1): their structure, their
 * Authenticode digest and their signature block, read by signgate itself.
 *
 * A signed script ends with its signature block, which osslsigncode 2.9,
 * signtool and Set-AuthenticodeSignature all write the same way, in the
 * script's own encoding:
 *
 *   <script text>\r\n# SIG # Begin signature block\r\n
 *   # <64 base64 characters>\r\n   (the last line 1 to 64)
 *   ...
 *   # SIG # End signature block\r\n<end of file>
 *
 * The Authenticode digest (SHA-256) is taken over the script text, without
 * the block and without the CRLF before it, converted to UTF-16LE: a BOM is
 * part of the text (U+FEFF, hashed as FF FE), a UTF-16LE file is hashed as
 * its bytes. osslsigncode 2.9 and jsign compute the same (unit.script
 * checks osslsigncode's "Calculated message digest" for each encoding).
 *
 * Accepted encodings: UTF-8 with a BOM (strict: no overlong form, no
 * surrogate, nothing beyond U+10FFFF, no truncated sequence); UTF-8
 * without a BOM only when every byte is ASCII (Windows reads a script
 * without a BOM in the machine's ANSI code page, so a non-ASCII script
 * would hash differently per locale, Microsoft's "signed PowerShell script
 * fails with hash mismatch"); UTF-16LE with its BOM (surrogates paired).
 * Refused: UTF-16BE, UTF-32, UTF-16 without a BOM, a NUL character, a
 * file of nothing but a BOM, a file over SG_SCRIPT_MAX bytes. A signature
 * block must be the one above exactly, once, at the very end: any other
 * "SIG # Begin signature block" or "SIG # End signature block" (in any
 * case, anywhere in the text) is refused, and so is anything after the end
 * marker, so the digest covers every byte but the block's own.
 */
#ifndef SIGNGATE_LIB_FORMAT_SCRIPT_H
#define SIGNGATE_LIB_FORMAT_SCRIPT_H

#include <stddef.h>

#define SG_SCRIPT_MAX        (16u << 20) /* bytes of a script file */
#define SG_SCRIPT_SIG_MAX    (1u << 20)  /* bytes of the DER in a signature block */
#define SG_SCRIPT_DIGEST_LEN 32          /* SHA-256 */

typedef enum sg_script_encoding {
	SG_SCRIPT_UNKNOWN = 0,
	SG_SCRIPT_ASCII = 1,   /* UTF-8 without a BOM, every byte ASCII */
	SG_SCRIPT_UTF8BOM = 2, /* UTF-8 with its BOM EF BB BF */
	SG_SCRIPT_UTF16LE = 3, /* UTF-16LE with its BOM FF FE */
} sg_script_encoding;

/* What sg_script_parse() found; byte offsets into the file. */
typedef struct sg_script_layout {
	sg_script_encoding encoding;
	size_t size;       /* the file */
	size_t text_end;   /* the digest covers bytes [0, text_end) */
	int has_signature; /* a signature block follows, up to the end */
	size_t b64_len;    /* base64 characters in the block */
} sg_script_layout;

/* "ASCII", "UTF-8 with BOM", "UTF-16LE" or "unknown". */
const char *sg_script_encoding_name(sg_script_encoding e);

/*
 * Check the script in `buf` (`len` bytes) as described above and fill
 * `out`. Returns SG_OK, or SG_ERR_FORMAT with the message "<name>: <reason
 * and byte offset>".
 */
int sg_script_parse(sg_script_layout *out, const unsigned char *buf, size_t len, const char *name);

/* The SHA-256 digest of a script `buf` that sg_script_parse() laid out as `l`. */
int sg_script_digest_buffer(unsigned char md[SG_SCRIPT_DIGEST_LEN], const unsigned char *buf,
			    const sg_script_layout *l);

/*
 * The Authenticode digest (SHA-256) of the script open on `fd` (read with
 * pread, whole; checked again first). Returns SG_OK; SG_ERR_FORMAT;
 * SG_ERR_IO; SG_ERR_NOMEM; SG_ERR_CRYPTO.
 */
int sg_script_digest(unsigned char md[SG_SCRIPT_DIGEST_LEN], int fd, const char *name);

/*
 * The DER in the signature block of the script open on `fd`, decoded, into
 * `*der` (free with free()). Returns SG_OK; SG_ERR_FORMAT for a script
 * without a block, a block that is not canonical base64 or does not hold
 * exactly one DER SEQUENCE; SG_ERR_IO; SG_ERR_NOMEM.
 */
int sg_script_signature_read(unsigned char **der, size_t *len, int fd, const char *name);

#endif

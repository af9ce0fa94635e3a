/*
 * Internal: one row per installer format (see include/signgate/format.h).
 *
 * Adding a format: one file (lib/format/format_<name>.c, listed in the
 * folder's CMakeLists.txt) that defines
 *   const struct sg_format_ops sg_format_<name>_ops = { ... };
 * with its structure check, digest, signature reader and signed content
 * (an sg_spc_content: data, e.g. SpcSipInfo with its SIP's GUID), and one
 * line in lib/format/format_table.c naming that row. A format's number
 * (sg_format_kind) is its place in the table. Nothing else in signgate
 * branches on the format: sign --recursive, the key helper's request,
 * the SpcIndirectDataContent (built by its shape), attachment, verification
 * and "already signed" go through the row. Only a new ASN.1 shape of
 * signed content needs a builder in lib/crypto/authenticode_sign.c.
 *
 * Rows use only format_internal.h's shared helpers (bounded reads, messages)
 * and their own code; format.c knows only the table, never a row's insides.
 */
#ifndef SIGNGATE_LIB_FORMAT_OPS_H
#define SIGNGATE_LIB_FORMAT_OPS_H

#include <stddef.h>

#include "signgate/format.h"
#include "format_internal.h"

/* The first bytes a detect() sees (fewer for a shorter file). */
#define SG_FORMAT_HEAD 16

struct sg_format_ops {
	const char *name; /* "pe", "msi": records, messages, approvals */
	const char *what; /* "a PE image": messages ("... but it is a PE image") */
	/* lower-case extensions with the dot, NULL-terminated; the first is the usual one */
	const char *const *extensions;

	/*
	 * 1 when the file's first `n` bytes `head` are this format's magic.
	 * `name` (the file's base name, never NULL) is for formats without one
	 * (a script: its extension); rows are tried in table order, so those
	 * go after the rows with magic. Rows sharing a container (the compound
	 * file: MSI, MSP, MSM, MST) share one detect() and one inspect() and
	 * tell themselves apart by `clsid`.
	 */
	int (*detect)(const unsigned char *head, size_t n, const char *name);
	/*
	 * 1 for a format without magic, known by its extension alone (to
	 * osslsigncode and Windows too): the private copy and the output keep
	 * the extension (sg_format_by_name_extension()).
	 */
	int by_name;
	/* the root storage's class this row owns (16 bytes as stored), or NULL */
	const unsigned char *clsid;
	/*
	 * Check the structure with bounded reads (the file is no larger than
	 * 4 GiB - 1 and no smaller than 1 byte); fill the signature fields and
	 * the row's part of `out` (not `kind`: the table sets it). Returns SG_OK,
	 * or SG_ERR_FORMAT / SG_ERR_IO / SG_ERR_NOMEM with the reason.
	 */
	int (*inspect)(const struct src *s, sg_format_info *out);

	/* signgate's own SHA-256 Authenticode digest: see sg_format_digest() */
	int (*digest)(unsigned char md[SG_FORMAT_DIGEST_MAX], size_t *md_len, int fd,
		      const sg_format_info *info, sg_format_digest_use use, const char *name);
	/* the SpcIndirectDataContent the key helper builds */
	const sg_spc_content *content;

	/* the embedded signature's container as stored: see sg_format_signature_read() */
	int (*signature_read)(unsigned char **out, size_t *len, size_t *der_at, size_t *der_len,
			      int fd, const sg_format_info *info, size_t max, const char *name);
	/* see sg_format_container_holds() */
	int (*container_holds)(const unsigned char *box, size_t len, const unsigned char *der,
			       size_t der_len);
	const char *container; /* what holds it, for messages: "certificate table" */
	int extracts_own;      /* see sg_format_extracts_own() */

	/*
	 * Attaching: signgate's own writer for a first signature, or NULL for
	 * osslsigncode attach-signature (keyless); with `dse_when_nested`, a
	 * nested signature on a file carrying MsiDigitalSignatureEx is attached
	 * with -add-msi-dse (and its digest takes the pre-hash).
	 */
	sg_format_attach_fn attach_own;
	int dse_when_nested;
	/*
	 * Non-NULL when Windows never checks a nested signature on this format:
	 * why (existing_signature "nest" is then refused for it, as it would
	 * sign nothing Windows sees).
	 */
	const char *nest_unseen;
};

/* The table (format_table.c), NULL-terminated, in detection order. */
extern const struct sg_format_ops *const sg_format_table[];

/* The row of `kind`, or NULL. */
const struct sg_format_ops *sg_format_ops_of(sg_format_kind kind);

/* 1 when `info` describes a file of the format `row` (inspected). */
int sg_format_info_is(const sg_format_info *info, const struct sg_format_ops *row);

#endif

/*
 * Installer formats through the table; see include/signgate/format.h. This
 * file knows the table (format_ops.h) and nothing of any row's insides.
 */
#include "signgate/format.h"
#include "signgate/error.h"
#include "format_ops.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* osslsigncode (and the 32-bit PE certificate table offset) stop at 4 GiB - 1. */
#define MAX_INPUT_SIZE UINT32_MAX

const struct sg_format_ops *sg_format_ops_of(sg_format_kind kind)
{
	for (size_t i = 0; kind > 0 && sg_format_table[i]; i++)
		if ((size_t)kind == i + 1)
			return sg_format_table[i];
	return NULL;
}

/* The number of `row` (its place in the table, from 1), or SG_FORMAT_UNKNOWN. */
static sg_format_kind kind_of(const struct sg_format_ops *row)
{
	for (size_t i = 0; row && sg_format_table[i]; i++)
		if (sg_format_table[i] == row)
			return (sg_format_kind)(i + 1);
	return SG_FORMAT_UNKNOWN;
}

int sg_format_info_is(const sg_format_info *info, const struct sg_format_ops *row)
{
	return info && row && info->kind != SG_FORMAT_UNKNOWN &&
	       sg_format_ops_of(info->kind) == row;
}

sg_format_kind sg_format_by_name(const char *name)
{
	for (size_t i = 0; name && sg_format_table[i]; i++)
		if (strcmp(sg_format_table[i]->name, name) == 0)
			return (sg_format_kind)(i + 1);
	return SG_FORMAT_UNKNOWN;
}

/* The extension of `name` a row owns ("setup.MSP": .msp), or NULL. */
static const struct sg_format_ops *row_by_name(const char *name, const char **ext)
{
	for (size_t i = 0; sg_format_table[i]; i++)
		if (sg_format_name_ext(name, sg_format_table[i]->extensions, ext))
			return sg_format_table[i];
	return NULL;
}

const char *sg_format_by_name_extension(const char *filename)
{
	const struct sg_format_ops *row;
	const char *ext = NULL;

	if (!filename || !(row = row_by_name(filename, &ext)) || !row->by_name)
		return NULL;
	return filename + strlen(filename) - strlen(ext);
}

const char *sg_format_extension_at(size_t i)
{
	for (size_t r = 0; sg_format_table[r]; r++)
		for (const char *const *e = sg_format_table[r]->extensions; e && *e; e++)
			if (i-- == 0)
				return *e;
	return NULL;
}

int sg_format_name_is_installer(const char *filename)
{
	const char *ext;

	return filename && filename[0] != '.' && row_by_name(filename, &ext) != NULL;
}

/* "{000C1084-0000-0000-C000-000000000046}" from 16 bytes as stored. */
static void clsid_text(char out[39], const unsigned char *id)
{
	snprintf(out, 39, "{%08" PRIX32 "-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", le32(id),
		 le16(id + 4), le16(id + 6), id[8], id[9], id[10], id[11], id[12], id[13], id[14],
		 id[15]);
}

static int not_an_installer(const struct src *s, const unsigned char *head, size_t n)
{
	char hex[3 * 8 + 1], text[8 + 1], names[128] = "";

	if (n > 8)
		n = 8;
	for (size_t i = 0; i < n; i++) {
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", head[i]);
		text[i] = head[i] >= 0x20 && head[i] < 0x7f ? (char)head[i] : '.';
	}
	hex[3 * n - 1] = '\0';
	text[n] = '\0';
	for (size_t i = 0, at = 0; sg_format_table[i] && at < sizeof(names); i++)
		at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s", i ? ", " : "",
				       sg_format_table[i]->name);
	return sg_format_bad(s, "not an installer signgate signs (%s): it starts with %s \"%s\"",
			     names, hex, text);
}

/* The row's class test: rows without one own whatever their detect() took. */
static int class_fits(const struct sg_format_ops *row, const sg_format_info *info)
{
	return !row->clsid || memcmp(row->clsid, info->cfb.clsid, sizeof(info->cfb.clsid)) == 0;
}

/* What the content is, for a refusal: "an MSI package (root CLSID {...})". */
static void content_text(char *out, size_t cap, const struct sg_format_ops *row,
			 const sg_format_info *info)
{
	char id[39];

	if (!row->clsid) {
		snprintf(out, cap, "%s", row->what);
		return;
	}
	clsid_text(id, info->cfb.clsid);
	snprintf(out, cap, "%s (root CLSID %s)", row->what, id);
}

/*
 * Of the rows whose detect() took the file (`first` the first of them, whose
 * inspect() ran), the one its class and name say. A name that ends in a
 * row's extension must be that row's content; any other name takes the
 * first row that fits the content.
 */
static int choose_row(const struct sg_format_ops **out, const struct src *s, size_t first,
		      const unsigned char *head, size_t n, const sg_format_info *info)
{
	const struct sg_format_ops *named, *fit = NULL;
	const char *ext = NULL;
	char what[160], id[39];

	named = row_by_name(s->name, &ext);
	for (size_t i = first; sg_format_table[i]; i++) {
		const struct sg_format_ops *r = sg_format_table[i];

		if (r->inspect != sg_format_table[first]->inspect || !r->detect(head, n, s->name) ||
		    !class_fits(r, info))
			continue;
		if (r == named) {
			*out = r;
			return SG_OK;
		}
		if (!fit)
			fit = r;
	}
	if (fit && !named) {
		*out = fit;
		return SG_OK;
	}
	if (fit) {
		content_text(what, sizeof(what), fit, info);
		return sg_format_bad(s, "named as %s (%s) but it is %s", named->what, ext, what);
	}
	clsid_text(id, info->cfb.clsid);
	return sg_format_bad(s, "not %s (compound file with CLSID %s)",
			     named ? named->what : "an installer signgate signs", id);
}

/* The file's size, and that it is a regular file signgate can take. */
static int check_file(struct src *s, sg_format_info *out)
{
	int error = sg_format_src_of(s, s->fd, s->name);

	if (error < 0)
		return error;
	out->size = s->size;
	if (s->size == 0)
		return sg_format_bad(s, "empty file");
	return SG_OK;
}

int sg_format_inspect(sg_format_info *out, int fd, const char *name)
{
	struct src s = { fd, name ? name : "(unnamed)", 0 };
	const struct sg_format_ops *row = NULL;
	unsigned char head[SG_FORMAT_HEAD];
	size_t n, first;
	int error;

	if (!out)
		return sg_error_set(SG_ERR_USAGE, "sg_format_inspect: no output structure");
	memset(out, 0, sizeof(*out));
	if ((error = check_file(&s, out)) < 0)
		return error;
	n = s.size < sizeof(head) ? (size_t)s.size : sizeof(head);
	if ((error = sg_format_read_at(&s, head, n, 0)) < 0)
		return error;
	for (first = 0; sg_format_table[first]; first++)
		if (sg_format_table[first]->detect(head, n, s.name))
			break;
	if (!sg_format_table[first])
		return not_an_installer(&s, head, n);
	if (s.size > MAX_INPUT_SIZE)
		return sg_format_bad(
			&s, "too large: %" PRIu64 " bytes (osslsigncode takes at most %" PRIu32 ")",
			s.size, MAX_INPUT_SIZE);
	error = sg_format_table[first]->inspect(&s, out);
	if (error == SG_OK)
		error = choose_row(&row, &s, first, head, n, out);
	if (error < 0)
		memset(out, 0, sizeof(*out));
	else
		out->kind = kind_of(row);
	out->size = s.size;
	return error;
}

const char *sg_format_name(sg_format_kind kind)
{
	const struct sg_format_ops *row = sg_format_ops_of(kind);

	return row ? row->name : "unknown";
}

int sg_format_digest(unsigned char md[SG_FORMAT_DIGEST_MAX], size_t *md_len, int fd,
		     const sg_format_info *info, sg_format_digest_use use, const char *name)
{
	const struct sg_format_ops *row = info ? sg_format_ops_of(info->kind) : NULL;

	*md_len = 0;
	if (!row || !row->digest)
		return sg_error_set(SG_ERR_USAGE, "%s: signgate has no Authenticode digest for %s",
				    name, row ? row->what : "a file of unknown format");
	return row->digest(md, md_len, fd, info, use, name);
}

const sg_spc_content *sg_format_content(sg_format_kind kind)
{
	const struct sg_format_ops *row = sg_format_ops_of(kind);

	return row ? row->content : NULL;
}

int sg_format_spc_kind(sg_format_kind kind)
{
	return sg_format_content(kind) ? kind : 0;
}

int sg_format_signature_read(unsigned char **out, size_t *len, size_t *der_at, size_t *der_len,
			     int fd, const sg_format_info *info, size_t max, const char *name)
{
	const struct sg_format_ops *row = info ? sg_format_ops_of(info->kind) : NULL;

	*out = NULL;
	*len = *der_at = *der_len = 0;
	if (!row || !row->signature_read)
		return sg_error_set(SG_ERR_USAGE, "%s: signgate cannot read the signature of %s",
				    name, row ? row->what : "a file of unknown format");
	return row->signature_read(out, len, der_at, der_len, fd, info, max, name);
}

int sg_format_container_holds(const sg_format_info *info, const unsigned char *box, size_t len,
			      const unsigned char *der, size_t der_len)
{
	const struct sg_format_ops *row = info ? sg_format_ops_of(info->kind) : NULL;

	return row && row->container_holds && box && der &&
	       row->container_holds(box, len, der, der_len);
}

int sg_format_extracts_own(const sg_format_info *info)
{
	const struct sg_format_ops *row = info ? sg_format_ops_of(info->kind) : NULL;

	return row && row->signature_read && row->extracts_own;
}

const char *sg_format_nest_unseen(sg_format_kind kind)
{
	const struct sg_format_ops *row = sg_format_ops_of(kind);

	return row ? row->nest_unseen : NULL;
}

const char *sg_format_container_name(sg_format_kind kind)
{
	const struct sg_format_ops *row = sg_format_ops_of(kind);

	return row && row->container ? row->container : "signature";
}

sg_format_attach_fn sg_format_attach_in_place(const sg_format_info *info, int nested)
{
	const struct sg_format_ops *row = info ? sg_format_ops_of(info->kind) : NULL;

	return row && !nested ? row->attach_own : NULL;
}

int sg_format_attach_add_msi_dse(const sg_format_info *info, int nested)
{
	const struct sg_format_ops *row = info ? sg_format_ops_of(info->kind) : NULL;

	return row && nested && row->dse_when_nested && info->cfb.dse;
}

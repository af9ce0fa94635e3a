/*
 * The Windows Installer formats: MSI packages, patches (MSP), merge modules
 * (MSM) and transforms (MST). All four are OLE compound files signed the
 * same way (\x05DigitalSignature, optional \x05MsiDigitalSignatureEx, the
 * MSI SIP); they share the structure check, digest and signature reader
 * here, and differ in the root storage's class (and extension): one table
 * row each. See format_ops.h.
 */
#include "signgate/error.h"
#include "msi_digest.h"
#include "cfb_internal.h"
#include "format_ops.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/obj_mac.h>

/*
 * Root classes as stored (the first three fields little-endian):
 * {000C1084-...} package, {000C1086-...} patch, {000C1082-...} transform. A
 * merge module is an MSI database and is taken with the package's class
 * (only its extension tells it apart); no merge module built by Windows
 * tools was at hand to confirm the class they write, and wixl cannot build
 * one ("unhandled child Wix node Module").
 */
static const unsigned char package_clsid[16] = { 0x84, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
						 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 };
static const unsigned char patch_clsid[16] = { 0x86, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
					       0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 };
static const unsigned char transform_clsid[16] = { 0x82, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
						   0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 };

/* "\x05DigitalSignature" in UTF-16LE with its terminator, as the name field holds it */
static const unsigned char sig_stream_name[36] = {
	0x05, 0, 'D', 0, 'i', 0, 'g', 0, 'i', 0, 't', 0, 'a', 0, 'l', 0, 'S', 0,
	'i',  0, 'g', 0, 'n', 0, 'a', 0, 't', 0, 'u', 0, 'r', 0, 'e', 0, 0,   0
};

/* "\x05MsiDigitalSignatureEx" likewise */
static const unsigned char dse_stream_name[46] = { 0x05, 0, 'M', 0, 's', 0, 'i', 0, 'D', 0, 'i', 0,
						   'g',  0, 'i', 0, 't', 0, 'a', 0, 'l', 0, 'S', 0,
						   'i',  0, 'g', 0, 'n', 0, 'a', 0, 't', 0, 'u', 0,
						   'r',  0, 'e', 0, 'E', 0, 'x', 0, 0,   0 };

struct walk {
	uint32_t *stack; /* entry id << 1 | 1 when the entry sits in the root storage */
	uint32_t depth;
	unsigned char *seen;
	uint32_t nent;
};

/* Queue a child or sibling link; each entry may be reached once only. */
static int walk_push(const struct cfb *c, struct walk *w, uint32_t from, uint32_t id, int in_root)
{
	if (id == CFB_NOSTREAM)
		return SG_OK;
	if (id == 0 || id >= w->nent)
		return sg_format_bad(
			c->s, "directory entry %u links to entry %u (the directory has %u entries)",
			from, id, w->nent);
	if (w->seen[id / 8] & (1U << (id % 8)))
		return sg_format_bad(c->s, "directory tree has a cycle (entry %u is reached twice)",
				     id);
	w->seen[id / 8] |= (unsigned char)(1U << (id % 8));
	w->stack[w->depth++] = id << 1 | (in_root ? 1 : 0);
	return SG_OK;
}

static int walk_entry(struct cfb *c, struct walk *w, uint32_t item, sg_format_info *out)
{
	uint32_t id = item >> 1, in_root = item & 1;
	unsigned char e[CFB_DIRENT_SIZE];
	int error;

	if ((error = sg_cfb_entry(c, id, e)) < 0)
		return error;
	if ((error = sg_cfb_entry_check(c, id, e)) < 0)
		return error;
	/* osslsigncode takes any entry so named for the signature; Windows only a stream */
	if (in_root && e[0x42] != CFB_TYPE_STREAM &&
	    ((le16(e + 0x40) == sizeof(sig_stream_name) &&
	      memcmp(e, sig_stream_name, sizeof(sig_stream_name)) == 0) ||
	     (le16(e + 0x40) == sizeof(dse_stream_name) &&
	      memcmp(e, dse_stream_name, sizeof(dse_stream_name)) == 0)))
		return sg_format_bad(
			c->s, "directory entry %u is a storage named like a signature stream", id);
	if (in_root && e[0x42] == CFB_TYPE_STREAM && le16(e + 0x40) == sizeof(sig_stream_name) &&
	    memcmp(e, sig_stream_name, sizeof(sig_stream_name)) == 0) {
		out->has_signature = 1;
		out->sig_size = sg_cfb_entry_size(c, e);
	}
	if (in_root && e[0x42] == CFB_TYPE_STREAM && le16(e + 0x40) == sizeof(dse_stream_name) &&
	    memcmp(e, dse_stream_name, sizeof(dse_stream_name)) == 0)
		out->cfb.dse = 1;
	if ((error = walk_push(c, w, id, le32(e + 0x44), in_root)) < 0)
		return error;
	if ((error = walk_push(c, w, id, le32(e + 0x48), in_root)) < 0)
		return error;
	/* osslsigncode follows every child link, so a stream may not have one */
	if (e[0x42] == CFB_TYPE_STREAM && le32(e + 0x4c) != CFB_NOSTREAM)
		return sg_format_bad(c->s, "directory entry %u is a stream with a child link", id);
	return walk_push(c, w, id, le32(e + 0x4c), 0);
}

/* Visit every entry reachable from the root, as osslsigncode does, iteratively. */
static int cfb_tree(struct cfb *c, uint32_t root_child, sg_format_info *out)
{
	struct walk w = { 0 };
	int error;

	w.nent = sg_cfb_nentries(c);
	w.stack = calloc(w.nent, sizeof(*w.stack));
	w.seen = calloc(w.nent / 8 + 1, 1);
	if (!w.stack || !w.seen) {
		error = sg_error_set(SG_ERR_NOMEM, "%s: out of memory for the directory tree",
				     c->s->name);
		goto done;
	}
	w.seen[0] = 1;
	if ((error = walk_push(c, &w, 0, root_child, 1)) < 0)
		goto done;
	while (w.depth > 0)
		if ((error = walk_entry(c, &w, w.stack[--w.depth], out)) < 0)
			goto done;
	error = SG_OK;
done:
	free(w.stack);
	free(w.seen);
	return error;
}

static int cfb_detect(const unsigned char *head, size_t n, const char *name)
{
	static const unsigned char magic[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };

	(void)name;
	return n >= sizeof(magic) && memcmp(head, magic, sizeof(magic)) == 0;
}

static int msi_inspect(const struct src *s, sg_format_info *out)
{
	uint32_t root_child;
	struct cfb *c;
	int error;

	/* heap, not stack: the FAT cache is a whole 4 KiB sector */
	c = calloc(1, sizeof(*c));
	if (!c)
		return sg_error_set(SG_ERR_NOMEM, "%s: out of memory", s->name);
	error = sg_cfb_open(c, s, &root_child);
	if (error == SG_OK) {
		memcpy(out->cfb.clsid, c->root_clsid, sizeof(out->cfb.clsid));
		error = cfb_tree(c, root_child, out);
	}
	sg_cfb_close(c);
	free(c);
	return error;
}

/*
 * Signing anew hashes without the pre-hash; a nested signature on a file
 * that carries MsiDigitalSignatureEx takes it (and is attached with
 * -add-msi-dse); verifying follows the file.
 */
static int msi_digest(unsigned char md[SG_FORMAT_DIGEST_MAX], size_t *md_len, int fd,
		      const sg_format_info *info, sg_format_digest_use use, const char *name)
{
	sg_msi_dse dse = use == SG_FORMAT_DIGEST_FILE                    ? SG_MSI_DSE_AS_FILE
			 : use == SG_FORMAT_DIGEST_NEST && info->cfb.dse ? SG_MSI_DSE_WITH
									 : SG_MSI_DSE_WITHOUT;
	sg_msi_digest_result r;
	int error = sg_msi_digest(&r, fd, NID_sha256, dse, name);

	if (error == SG_OK) {
		memcpy(md, r.md, r.md_len);
		*md_len = r.md_len;
	}
	return error;
}

static int msi_signature_read(unsigned char **out, size_t *len, size_t *der_at, size_t *der_len,
			      int fd, const sg_format_info *info, size_t max, const char *name)
{
	int error = sg_msi_signature_read(out, len, fd, max, name);

	(void)info;
	*der_at = 0;
	*der_len = error == SG_OK ? *len : 0;
	return error;
}

/* The stream is the DER and nothing else. */
/* SpcSipInfo version 1 with the MSI SIP's GUID {000C10F1-0000-0000-C000-000000000046} */
static const sg_spc_content msi_content = {
	.name = "MSI",
	.what = "an MSI",
	.shape = SG_SPC_SIP_INFO,
	.sip_guid = { 0xf1, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00,
		      0x00, 0x00, 0x46 },
	.sip_version = 1,
};

#define MSI_FAMILY                                                                                 \
	.detect = cfb_detect, .inspect = msi_inspect, .digest = msi_digest,                        \
	.content = &msi_content, .signature_read = msi_signature_read,                             \
	.container_holds = sg_format_holds_exactly, .container = "DigitalSignature stream",        \
	.extracts_own = 0, .attach_own = NULL, .dse_when_nested = 1

static const char *const msi_ext[] = { ".msi", NULL };
static const char *const msp_ext[] = { ".msp", NULL };
static const char *const msm_ext[] = { ".msm", NULL };
static const char *const mst_ext[] = { ".mst", NULL };

const struct sg_format_ops sg_format_msi_ops = {
	.name = "msi",
	.what = "an MSI package",
	.extensions = msi_ext,
	.clsid = package_clsid,
	MSI_FAMILY,
};

const struct sg_format_ops sg_format_msp_ops = {
	.name = "msp",
	.what = "an MSI patch",
	.extensions = msp_ext,
	.clsid = patch_clsid,
	MSI_FAMILY,
};

const struct sg_format_ops sg_format_msm_ops = {
	.name = "msm",
	.what = "an MSI merge module",
	.extensions = msm_ext,
	.clsid = package_clsid,
	MSI_FAMILY,
};

const struct sg_format_ops sg_format_mst_ops = {
	.name = "mst",
	.what = "an MSI transform",
	.extensions = mst_ext,
	.clsid = transform_clsid,
	MSI_FAMILY,
};

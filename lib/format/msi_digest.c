/* An MSI's Authenticode digest; see include/signgate/msi_digest.h. */
#include "msi_digest.h"
#include "signgate/error.h"
#include "cfb_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/objects.h>

#define BLOCK     (1u << 20)
#define MAX_DEPTH 32 /* storages inside storages; MSIs nest one or two */

struct node {
	unsigned char e[CFB_DIRENT_SIZE];
	uint32_t kids; /* first of its children in msi.kids, in hashing order */
	uint32_t nkids;
};

/* Where the bytes of a stream go: a digest, or a small buffer. */
struct sink {
	EVP_MD_CTX *ctx;
	unsigned char *buf;
	size_t len, cap;
};

struct msi {
	struct cfb c;
	struct src s;
	uint32_t nent;
	struct node *nodes; /* [0] is the root */
	uint32_t nnodes;
	uint32_t *kids; /* node indexes, each storage's children together */
	uint32_t nkids;
	uint32_t *stack;
	unsigned char *seen;
	uint32_t *mini; /* the mini stream's sectors, in order */
	uint64_t mini_size;
	uint32_t *minifat; /* the miniFAT's sectors, in order */
	uint32_t nminifat;
	uint32_t mf_cached;
	unsigned char mf_cache[CFB_MAX_SECTOR];
	unsigned char *buf;
};

/* Entry `e` is a stream named `ascii` (UTF-16LE, terminated, nothing more). */
static int stream_named(const unsigned char *e, const char *ascii)
{
	size_t n = strlen(ascii);

	if (e[CFB_E_TYPE] != CFB_TYPE_STREAM || le16(e + CFB_E_NAME_LEN) != 2 * (n + 1))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (le16(e + 2 * i) != (unsigned char)ascii[i])
			return 0;
	return 1;
}

static int is_ds(const unsigned char *e)
{
	return stream_named(e, "\x05"
			       "DigitalSignature");
}

static int is_dse(const unsigned char *e)
{
	return stream_named(e, "\x05"
			       "MsiDigitalSignatureEx");
}

/* osslsigncode's order: name bytes as memcmp sees them; of a prefix pair, the longer first. */
static int name_cmp(const void *a, const void *b, void *arg)
{
	const struct node *nodes = arg;
	const unsigned char *x = nodes[*(const uint32_t *)a].e, *y = nodes[*(const uint32_t *)b].e;
	uint16_t lx = le16(x + CFB_E_NAME_LEN), ly = le16(y + CFB_E_NAME_LEN);
	int d = memcmp(x, y, lx < ly ? lx : ly);

	if (d != 0)
		return d;
	return lx == ly ? 0 : lx > ly ? -1 : 1;
}

/* A UTF-16 code unit upper-cased as far as compound files compare names (ASCII, Latin-1). */
static uint16_t fold(uint16_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 0xe0 && c <= 0xfe && c != 0xf7))
		return (uint16_t)(c - 0x20);
	return c;
}

/* Names compared as a compound file's directory does: length, then code units upper-cased. */
static int name_cmp_fold(const void *a, const void *b, void *arg)
{
	const struct node *nodes = arg;
	const unsigned char *x = nodes[*(const uint32_t *)a].e, *y = nodes[*(const uint32_t *)b].e;
	uint16_t lx = le16(x + CFB_E_NAME_LEN), ly = le16(y + CFB_E_NAME_LEN);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	for (uint16_t i = 0; i + 2 < lx; i += 2)
		if (fold(le16(x + i)) != fold(le16(y + i)))
			return fold(le16(x + i)) < fold(le16(y + i)) ? -1 : 1;
	return 0;
}

/*
 * No two entries of one storage whose names differ only in case: a compound
 * file compares names upper-cased (MS-CFB), so Windows may open either for
 * the other, and in which order it hashes them is not known.
 */
static int unique_names(struct msi *m, uint32_t first, uint32_t n)
{
	uint32_t *v = m->stack; /* free while no tree is walked */
	char name[SG_CFB_NAME_TEXT];

	memcpy(v, m->kids + first, n * sizeof(*v));
	qsort_r(v, n, sizeof(*v), name_cmp_fold, m->nodes);
	for (uint32_t i = 1; i < n; i++)
		if (name_cmp_fold(&v[i - 1], &v[i], m->nodes) == 0) {
			sg_cfb_entry_name(name, m->nodes[v[i]].e);
			return sg_format_bad(&m->s,
					     "a storage holds two entries named \"%s\" (names "
					     "that differ only in case are one name)",
					     name);
		}
	return SG_OK;
}

/* Queue a sibling link of a storage's tree; each entry may be reached once only. */
static int push(struct msi *m, uint32_t *sp, uint32_t from, uint32_t id)
{
	if (id == CFB_NOSTREAM)
		return SG_OK;
	if (id == 0 || id >= m->nent)
		return sg_format_bad(&m->s,
				     "directory entry %u links to entry %u (the directory has %u "
				     "entries)",
				     from, id, m->nent);
	if (m->seen[id / 8] & (1U << (id % 8)))
		return sg_format_bad(&m->s,
				     "directory tree has a cycle (entry %u is reached twice)", id);
	m->seen[id / 8] |= (unsigned char)(1U << (id % 8));
	m->stack[(*sp)++] = id;
	return SG_OK;
}

/* Read the entries of storage `parent`'s tree into its children, sorted. */
static int collect(struct msi *m, uint32_t parent)
{
	uint32_t sp = 0, first = m->nkids, id;
	int error;

	if ((error = push(m, &sp, parent, le32(m->nodes[parent].e + CFB_E_CHILD))) < 0)
		return error;
	while (sp > 0) {
		struct node *n = &m->nodes[m->nnodes];

		id = m->stack[--sp];
		if ((error = sg_cfb_entry(&m->c, id, n->e)) < 0 ||
		    (error = sg_cfb_entry_check(&m->c, id, n->e)) < 0)
			return error;
		if (n->e[CFB_E_TYPE] == CFB_TYPE_STREAM && le32(n->e + CFB_E_CHILD) != CFB_NOSTREAM)
			return sg_format_bad(
				&m->s, "directory entry %u is a stream with a child link", id);
		m->kids[m->nkids++] = m->nnodes++;
		if ((error = push(m, &sp, id, le32(n->e + CFB_E_LEFT))) < 0 ||
		    (error = push(m, &sp, id, le32(n->e + CFB_E_RIGHT))) < 0)
			return error;
	}
	m->nodes[parent].kids = first;
	m->nodes[parent].nkids = m->nkids - first;
	qsort_r(m->kids + first, m->nkids - first, sizeof(*m->kids), name_cmp, m->nodes);
	for (uint32_t i = first + 1; i < m->nkids; i++)
		if (name_cmp(&m->kids[i - 1], &m->kids[i], m->nodes) == 0) {
			char name[SG_CFB_NAME_TEXT];
			sg_cfb_entry_name(name, m->nodes[m->kids[i]].e);
			return sg_format_bad(&m->s, "a storage holds two entries named \"%s\"",
					     name);
		}
	return unique_names(m, first, m->nkids - first);
}

static int build(struct msi *m, uint32_t storage, unsigned depth)
{
	int error;

	if (depth > MAX_DEPTH)
		return sg_format_bad(&m->s, "storages nest more than %u deep", MAX_DEPTH);
	if ((error = collect(m, storage)) < 0)
		return error;
	for (uint32_t i = 0; i < m->nodes[storage].nkids; i++) {
		uint32_t kid = m->kids[m->nodes[storage].kids + i];
		if (m->nodes[kid].e[CFB_E_TYPE] == CFB_TYPE_STORAGE &&
		    (error = build(m, kid, depth + 1)) < 0)
			return error;
	}
	return SG_OK;
}

/*
 * The link after sector `cur` of a chain that needs `left` more sectors:
 * ENDOFCHAIN when none, else a sector inside the file.
 */
static int chain_next(struct msi *m, uint32_t cur, uint64_t left, uint32_t *next, const char *what)
{
	int error;

	if ((error = sg_cfb_fat_next(&m->c, cur, next)) < 0)
		return error;
	if (left == 0 && *next != CFB_ENDOFCHAIN)
		return sg_format_bad(&m->s,
				     "%s: the sector chain goes on past its size "
				     "(sector %u links to 0x%08x)",
				     what, cur, *next);
	if (left == 0)
		return SG_OK;
	if (*next == CFB_ENDOFCHAIN)
		return sg_format_bad(
			&m->s, "%s: the sector chain ends %" PRIu64 " sectors before its size",
			what, left);
	/* osslsigncode takes a link to sector 0 for a broken chain */
	if (*next == 0)
		return sg_format_bad(&m->s,
				     "%s: sector %u links to sector 0, which osslsigncode "
				     "refuses",
				     what, cur);
	return sg_cfb_sector_check(&m->c, *next, what);
}

/* The `n` sectors of the chain from `start`, which must end right after them. */
static int chain_list(struct msi *m, uint32_t start, uint32_t n, uint32_t **out, const char *what)
{
	uint32_t cur = start, next;
	int error;

	*out = NULL;
	if (n == 0)
		return SG_OK;
	if ((error = sg_cfb_sector_check(&m->c, start, what)) < 0)
		return error;
	if (!(*out = calloc(n, sizeof(**out))))
		return sg_error_set(SG_ERR_NOMEM, "%s: out of memory for the %s", m->s.name, what);
	for (uint32_t i = 0; i < n; i++) {
		(*out)[i] = cur;
		if ((error = chain_next(m, cur, n - i - 1, &next, what)) < 0)
			return error;
		cur = next;
	}
	return SG_OK;
}

/* The mini stream (the root's stream) and the miniFAT, as sector lists. */
static int mini_maps(struct msi *m)
{
	const unsigned char *root = m->nodes[0].e;
	uint64_t n;
	int error;

	m->mini_size = sg_cfb_entry_size(&m->c, root);
	n = (m->mini_size + m->c.ssz - 1) / m->c.ssz;
	if (n > m->c.nsectors)
		return sg_format_bad(&m->s,
				     "the mini stream claims %" PRIu64 " bytes, more sectors than "
				     "the file has",
				     m->mini_size);
	if (n > 0 && (error = chain_list(m, le32(root + CFB_E_START), (uint32_t)n, &m->mini,
					 "mini stream")) < 0)
		return error;
	m->nminifat = m->c.nminifat;
	if (m->nminifat > m->c.nsectors)
		return sg_format_bad(&m->s, "the header lists %u miniFAT sectors, the file has %u",
				     m->nminifat, m->c.nsectors);
	return chain_list(m, m->c.first_minifat, m->nminifat, &m->minifat, "miniFAT");
}

static int sink_put(struct msi *m, struct sink *k, const unsigned char *p, size_t n)
{
	if (k->ctx)
		return EVP_DigestUpdate(k->ctx, p, n)
			       ? SG_OK
			       : sg_error_set(SG_ERR_CRYPTO, "%s: digest update failed", m->s.name);
	if (n > k->cap - k->len)
		return sg_error_set(SG_ERR_FORMAT, "%s: stream larger than expected", m->s.name);
	memcpy(k->buf + k->len, p, n);
	k->len += n;
	return SG_OK;
}

/* A stream of 4096 bytes or more: runs of adjacent sectors are read at once. */
static int read_big(struct msi *m, uint32_t start, uint64_t size, const char *nm, struct sink *k)
{
	uint64_t nsec = (size + m->c.ssz - 1) / m->c.ssz, left = size;
	uint32_t cur = start, next = 0, run = start, runlen = 0;
	int error;

	if ((error = sg_cfb_sector_check(&m->c, start, nm)) < 0)
		return error;
	for (uint64_t i = 0; i < nsec; i++, cur = next) {
		runlen++;
		if ((error = chain_next(m, cur, nsec - i - 1, &next, nm)) < 0)
			return error;
		if (i + 1 < nsec && next == cur + 1 && (uint64_t)runlen * m->c.ssz < BLOCK)
			continue;
		size_t n = (uint64_t)runlen * m->c.ssz < left ? (size_t)runlen * m->c.ssz
							      : (size_t)left;
		if ((error = sg_format_read_at(&m->s, m->buf, n, sg_cfb_sector_off(&m->c, run))) <
			    0 ||
		    (error = sink_put(m, k, m->buf, n)) < 0)
			return error;
		left -= n;
		run = next;
		runlen = 0;
	}
	return SG_OK;
}

/* The miniFAT's link after mini sector `cur`. */
static int mini_next(struct msi *m, uint32_t cur, uint32_t *next, const char *nm)
{
	uint32_t per = m->c.ssz / 4, idx = cur / per;
	int error;

	if (idx >= m->nminifat)
		return sg_format_bad(&m->s, "%s: mini sector %u is not covered by the miniFAT", nm,
				     cur);
	if (m->mf_cached != m->minifat[idx]) {
		m->mf_cached = CFB_FREESECT;
		if ((error = sg_format_read_at(&m->s, m->mf_cache, m->c.ssz,
					       sg_cfb_sector_off(&m->c, m->minifat[idx]))) < 0)
			return error;
		m->mf_cached = m->minifat[idx];
	}
	*next = le32(m->mf_cache + 4 * (cur % per));
	return SG_OK;
}

/* A stream under 4096 bytes, in 64-byte sectors of the mini stream. */
static int read_small(struct msi *m, uint32_t start, uint64_t size, const char *nm, struct sink *k)
{
	uint64_t nsec = (size + CFB_MINI_SECTOR - 1) / CFB_MINI_SECTOR, left = size;
	uint32_t cur = start, next = 0;
	int error;

	for (uint64_t i = 0; i < nsec; i++, cur = next) {
		uint64_t off = (uint64_t)cur * CFB_MINI_SECTOR;
		size_t n = left < CFB_MINI_SECTOR ? (size_t)left : CFB_MINI_SECTOR;

		if (cur > CFB_MAXREGSECT || off + n > m->mini_size)
			return sg_format_bad(&m->s,
					     "%s: mini sector 0x%08x is beyond the mini stream "
					     "(%" PRIu64 " bytes)",
					     nm, cur, m->mini_size);
		if ((error = sg_format_read_at(&m->s, m->buf, n,
					       sg_cfb_sector_off(&m->c, m->mini[off / m->c.ssz]) +
						       off % m->c.ssz)) < 0 ||
		    (error = sink_put(m, k, m->buf, n)) < 0 ||
		    (error = mini_next(m, cur, &next, nm)) < 0)
			return error;
		left -= n;
		if (i + 1 == nsec && next != CFB_ENDOFCHAIN)
			return sg_format_bad(&m->s,
					     "%s: the mini sector chain goes on past its "
					     "size (mini sector %u links to 0x%08x)",
					     nm, cur, next);
		if (i + 1 < nsec && (next == 0 || next > CFB_MAXREGSECT))
			return sg_format_bad(&m->s,
					     "%s: mini sector %u links to 0x%08x before the "
					     "stream's end",
					     nm, cur, next);
	}
	return SG_OK;
}

static int read_stream(struct msi *m, const unsigned char *e, struct sink *k)
{
	uint64_t size = sg_cfb_entry_size(&m->c, e);
	char name[SG_CFB_NAME_TEXT], nm[SG_CFB_NAME_TEXT + 16];

	sg_cfb_entry_name(name, e);
	snprintf(nm, sizeof(nm), "stream \"%s\"", name);
	if (size >= CFB_MAXREGSECT)
		return sg_format_bad(&m->s, "%s is too large (%" PRIu64 " bytes)", nm, size);
	if (size == 0)
		return SG_OK;
	if (size < CFB_MINI_CUTOFF)
		return read_small(m, le32(e + CFB_E_START), size, nm, k);
	return read_big(m, le32(e + CFB_E_START), size, nm, k);
}

/* The metadata of one entry, as the pre-hash takes it. */
static int meta(EVP_MD_CTX *h, const unsigned char *e)
{
	uint8_t type = e[CFB_E_TYPE];
	int ok = 1;

	if (type != CFB_TYPE_ROOT)
		ok &= EVP_DigestUpdate(h, e, le16(e + CFB_E_NAME_LEN) - 2u);
	if (type != CFB_TYPE_STREAM)
		ok &= EVP_DigestUpdate(h, e + CFB_E_CLSID, 16);
	else
		ok &= EVP_DigestUpdate(h, e + CFB_E_SIZE, 4);
	ok &= EVP_DigestUpdate(h, e + CFB_E_STATE, 4);
	if (type != CFB_TYPE_ROOT) {
		ok &= EVP_DigestUpdate(h, e + CFB_E_CTIME, 8);
		ok &= EVP_DigestUpdate(h, e + CFB_E_MTIME, 8);
	}
	return ok;
}

/* The storage's own metadata, then its children's in order. Returns 1 when hashed. */
static int prehash_dir(const struct msi *m, EVP_MD_CTX *h, uint32_t idx, int is_root)
{
	const struct node *n = &m->nodes[idx];
	int ok = meta(h, n->e);

	for (uint32_t i = 0; ok && i < n->nkids; i++) {
		const struct node *kid = &m->nodes[m->kids[n->kids + i]];
		if (is_root && (is_ds(kid->e) || is_dse(kid->e)))
			continue;
		if (kid->e[CFB_E_TYPE] == CFB_TYPE_STREAM)
			ok = meta(h, kid->e);
		else
			ok = prehash_dir(m, h, m->kids[n->kids + i], 0);
	}
	return ok;
}

/* The storage's children's content in order, then its CLSID. */
static int hash_dir(struct msi *m, struct sink *k, uint32_t idx, int is_root)
{
	int error;

	for (uint32_t i = 0; i < m->nodes[idx].nkids; i++) {
		uint32_t kid = m->kids[m->nodes[idx].kids + i];
		const unsigned char *e = m->nodes[kid].e;
		if (is_root && (is_ds(e) || is_dse(e)))
			continue;
		error = e[CFB_E_TYPE] == CFB_TYPE_STREAM ? read_stream(m, e, k)
							 : hash_dir(m, k, kid, 0);
		if (error < 0)
			return error;
	}
	return sink_put(m, k, m->nodes[idx].e + CFB_E_CLSID, 16);
}

/*
 * Streams do not share sectors: together they fit in the file (and the small
 * ones in the mini stream). Without this, entries that all name one long
 * chain would make a small file cost its size times the entries to hash.
 */
static int check_totals(struct msi *m)
{
	uint64_t big = 0, small = 0;

	for (uint32_t i = 1; i < m->nnodes; i++) {
		uint64_t size = sg_cfb_entry_size(&m->c, m->nodes[i].e);
		if (m->nodes[i].e[CFB_E_TYPE] != CFB_TYPE_STREAM || size == 0)
			continue;
		if (size >= CFB_MINI_CUTOFF)
			big += (size + m->c.ssz - 1) / m->c.ssz;
		else
			small += (size + CFB_MINI_SECTOR - 1) / CFB_MINI_SECTOR;
	}
	if (big > m->c.nsectors)
		return sg_format_bad(&m->s,
				     "the streams claim %" PRIu64 " sectors, the file has %u "
				     "(streams share sectors)",
				     big, m->c.nsectors);
	if (small * CFB_MINI_SECTOR > m->mini_size)
		return sg_format_bad(&m->s,
				     "the small streams claim %" PRIu64
				     " bytes of the mini stream, "
				     "it has %" PRIu64 " (streams share sectors)",
				     small * CFB_MINI_SECTOR, m->mini_size);
	return SG_OK;
}

static int load(struct msi *m)
{
	uint32_t root_child;
	int error;

	if ((error = sg_cfb_open(&m->c, &m->s, &root_child)) < 0)
		return error;
	m->nent = sg_cfb_nentries(&m->c);
	m->nodes = calloc(m->nent, sizeof(*m->nodes));
	m->kids = calloc(m->nent, sizeof(*m->kids));
	m->stack = calloc(m->nent, sizeof(*m->stack));
	m->seen = calloc(m->nent / 8 + 1, 1);
	m->buf = malloc(BLOCK);
	if (!m->nodes || !m->kids || !m->stack || !m->seen || !m->buf)
		return sg_error_set(SG_ERR_NOMEM, "%s: out of memory", m->s.name);
	if ((error = sg_cfb_entry(&m->c, 0, m->nodes[0].e)) < 0)
		return error;
	m->nnodes = 1;
	m->seen[0] = 1;
	if ((error = build(m, 0, 0)) < 0)
		return error;
	if ((error = mini_maps(m)) < 0)
		return error;
	return check_totals(m);
}

static void unload(struct msi *m)
{
	sg_cfb_close(&m->c);
	free(m->nodes);
	free(m->kids);
	free(m->stack);
	free(m->seen);
	free(m->mini);
	free(m->minifat);
	free(m->buf);
	free(m);
}

/* The root's child named like `is`, or NULL. */
static const unsigned char *root_stream(const struct msi *m, int (*is)(const unsigned char *))
{
	for (uint32_t i = 0; i < m->nodes[0].nkids; i++)
		if (is(m->nodes[m->kids[m->nodes[0].kids + i]].e))
			return m->nodes[m->kids[m->nodes[0].kids + i]].e;
	return NULL;
}

/* The pre-hash into `pre`; the file's MsiDigitalSignatureEx, when it has one, must hold it. */
static int prehash(struct msi *m, const EVP_MD *md, unsigned char *pre, unsigned *len)
{
	const unsigned char *dse = root_stream(m, is_dse);
	unsigned char stored[SG_MSI_DIGEST_MAX];
	struct sink k = { NULL, stored, 0, sizeof(stored) };
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	int ok = h && EVP_DigestInit_ex(h, md, NULL) && prehash_dir(m, h, 0, 1) &&
		 EVP_DigestFinal_ex(h, pre, len);
	int error;

	EVP_MD_CTX_free(h);
	if (!ok)
		return sg_error_set(SG_ERR_CRYPTO, "%s: pre-hash computation failed", m->s.name);
	if (!dse)
		return SG_OK;
	if (sg_cfb_entry_size(&m->c, dse) != *len)
		return sg_error_set(SG_ERR_VERIFY,
				    "%s: MsiDigitalSignatureEx holds %" PRIu64
				    " bytes, not a %s digest",
				    m->s.name, sg_cfb_entry_size(&m->c, dse), EVP_MD_get0_name(md));
	if ((error = read_stream(m, dse, &k)) < 0)
		return error;
	if (k.len != *len || memcmp(stored, pre, *len) != 0)
		return sg_error_set(
			SG_ERR_VERIFY,
			"%s: MsiDigitalSignatureEx is not the pre-hash of the file's "
			"streams and storages (their names, sizes or times were changed "
			"after signing)",
			m->s.name);
	return SG_OK;
}

static int digest(sg_msi_digest_result *out, struct msi *m, const EVP_MD *md, sg_msi_dse dse)
{
	unsigned char pre[SG_MSI_DIGEST_MAX];
	unsigned len = 0;
	struct sink k = { EVP_MD_CTX_new(), NULL, 0, 0 };
	int error = SG_OK;

	out->has_signature = root_stream(m, is_ds) != NULL;
	out->has_dse = root_stream(m, is_dse) != NULL;
	out->dse_prepended = dse == SG_MSI_DSE_WITH || (dse == SG_MSI_DSE_AS_FILE && out->has_dse);
	if (!k.ctx || !EVP_DigestInit_ex(k.ctx, md, NULL)) {
		error = sg_error_set(SG_ERR_CRYPTO, "%s: digest initialisation failed", m->s.name);
		goto done;
	}
	if (out->dse_prepended &&
	    ((error = prehash(m, md, pre, &len)) < 0 || (error = sink_put(m, &k, pre, len)) < 0))
		goto done;
	if ((error = hash_dir(m, &k, 0, 1)) < 0)
		goto done;
	if (!EVP_DigestFinal_ex(k.ctx, out->md, &len)) {
		error = sg_error_set(SG_ERR_CRYPTO, "%s: digest computation failed", m->s.name);
		goto done;
	}
	out->md_len = len;
done:
	EVP_MD_CTX_free(k.ctx);
	return error;
}

/* `m` for the file open on `fd`, loaded; unload() it whatever this returns (when set). */
static int open_msi(struct msi **out, int fd, const char *name)
{
	struct src s;
	struct msi *m;
	int error;

	*out = NULL;
	if ((error = sg_format_src_of(&s, fd, name)) < 0)
		return error;
	/* heap, not stack: two 4 KiB sector caches */
	if (!(m = calloc(1, sizeof(*m))))
		return sg_error_set(SG_ERR_NOMEM, "%s: out of memory", s.name);
	m->s = s;
	m->mf_cached = CFB_FREESECT;
	*out = m;
	return load(m);
}

int sg_msi_signature_read(unsigned char **out, size_t *len, int fd, size_t max, const char *name)
{
	struct sink k = { NULL, NULL, 0, 0 };
	const unsigned char *ds;
	struct msi *m;
	uint64_t size;
	int error = open_msi(&m, fd, name);

	*out = NULL;
	*len = 0;
	if (!error && !(ds = root_stream(m, is_ds)))
		error = sg_error_set(SG_ERR_FORMAT, "%s: no \\x05DigitalSignature stream", name);
	if (!error && (size = sg_cfb_entry_size(&m->c, ds)) > max)
		error = sg_error_set(
			SG_ERR_FORMAT,
			"%s: the \\x05DigitalSignature stream is larger than %zu bytes", name, max);
	if (!error && !(k.buf = malloc(size ? (size_t)size : 1)))
		error = sg_error_set(SG_ERR_NOMEM, "%s: out of memory", name);
	k.cap = !error ? (size_t)size : 0;
	if (!error)
		error = read_stream(m, ds, &k);
	if (!error && k.len != k.cap)
		error = sg_error_set(SG_ERR_FORMAT, "%s: the \\x05DigitalSignature stream is short",
				     name);
	if (error)
		free(k.buf);
	else
		*out = k.buf, *len = k.len;
	if (m)
		unload(m);
	return error;
}

int sg_msi_digest(sg_msi_digest_result *out, int fd, int md_nid, sg_msi_dse dse, const char *name)
{
	const EVP_MD *md = sg_format_md(md_nid);
	struct msi *m = NULL;
	int error;

	memset(out, 0, sizeof(*out));
	if (!md)
		return sg_error_set(SG_ERR_USAGE, "%s: MSI digest algorithm %s is not supported",
				    name, OBJ_nid2sn(md_nid));
	error = open_msi(&m, fd, name);
	if (error == SG_OK)
		error = digest(out, m, md, dse);
	if (error != SG_OK)
		memset(out, 0, sizeof(*out));
	if (m)
		unload(m);
	return error;
}

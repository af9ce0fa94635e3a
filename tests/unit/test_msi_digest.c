/*
 * Unit tests for lib/msi_digest.c: signgate's own Authenticode digest of an
 * MSI, checked against the digest osslsigncode computes and signs.
 *
 *   test_msi_digest FIXDIR [OSSLSIGNCODE]
 *
 * FIXDIR is the CTest fixture (tests/integration/fixture-setup.sh): pki/ and
 * inst/hello-1.0.msi (built by wixl). Compound files with storages, many
 * streams and streams around the mini stream cutoff (4096 bytes) are written
 * here (write_cfb), since wixl makes none; so are broken ones.
 */
#include "signgate/error.h"
#include "signgate/hash.h"
#include "msi_digest.h"
#include "proc.h"
#include "signgate/util.h"

#include "check.h"
#include "check_ossl.h"

#include <limits.h>
#include <stdint.h>
#include <uchar.h>

#include <openssl/objects.h>

/* Sign `in` into `out` with `hash` ("sha256", "sha1"); `dse`: -add-msi-dse; `nest`: -nest. */
static void sign(const char *in, const char *out, const char *hash, int dse, int nest)
{
	char p12[PATH_MAX], pass[PATH_MAX];
	const char *argv[16] = { NULL, "sign", "-pkcs12", p12, "-readpass", pass,
				 "-h", hash,   "-in",     in,  "-out",      out };
	int n = 12;

	snprintf(p12, sizeof(p12), "%s", check_path(fixdir, "pki/signer.p12"));
	snprintf(pass, sizeof(pass), "%s", check_path(fixdir, "pki/signer.pass"));
	if (dse)
		argv[n++] = "-add-msi-dse";
	if (nest)
		argv[n++] = "-nest";
	argv[n] = NULL;
	unlink(out);
	ossl(NULL, 0, argv);
}

/* sg_msi_digest() of the file at `path`, upper-case hex; "" and the error in *rc when it fails. */
static int own(char *out, const char *path, int nid, sg_msi_dse dse)
{
	sg_msi_digest_result r;
	int fd = open(path, O_RDONLY), rc;

	out[0] = '\0';
	if (fd < 0)
		setup_fail(path);
	rc = sg_msi_digest(&r, fd, nid, dse, path);
	if (rc == SG_OK)
		sg_hex_encode_upper(out, r.md, r.md_len);
	close(fd);
	return rc;
}

/*
 * Sign `unsigned_path` as `label` and compare: the digest of the signed
 * file equals osslsigncode's calculated DigitalSignature and the signed one,
 * and the digest of the unsigned file (pre-hash first or not, as signing
 * will do) equals them too: the digest of a private copy before signing.
 */
static void check_signed(const char *label, const char *unsigned_path, const char *hash, int dse)
{
	char signed_path[PATH_MAX], cur[160], calc[160], ours[160], before[160];
	int nid = strcmp(hash, "sha1") == 0 ? NID_sha1 : NID_sha256;

	snprintf(signed_path, sizeof(signed_path), "%s", check_path(workdir, label));
	sign(unsigned_path, signed_path, hash, dse, 0);
	ossl_report_value(cur, sizeof(cur), signed_path, "0", "Current DigitalSignature");
	ossl_report_value(calc, sizeof(calc), signed_path, "0", "Calculated DigitalSignature");
	CHECK_STR(calc, cur);
	CHECK_INT(own(ours, signed_path, nid, SG_MSI_DSE_AS_FILE), SG_OK);
	CHECK_STR(ours, cur);
	CHECK_INT(own(before, unsigned_path, nid, dse ? SG_MSI_DSE_WITH : SG_MSI_DSE_WITHOUT),
		  SG_OK);
	CHECK_STR(before, cur);
	if (strcmp(ours, cur) != 0 || strcmp(before, cur) != 0)
		fprintf(stderr, "  (%s: osslsigncode %s, signgate %s, before signing %s)\n", label,
			cur, ours, before);
}

/*
 * osslsigncode extract-data computes the digest of the unsigned file as
 * signing does, without writing a compound file (2.9's writer breaks the
 * directory tree of files with sub-storages: their signed output is
 * unreadable, to osslsigncode and to signgate alike). Our digest of the
 * unsigned file must be the one its SpcIndirectData carries.
 */
static void check_extract_data(const char *label, const char *path, const char *hash, int dse)
{
	char out[PATH_MAX];
	const char *argv[12] = { NULL, "extract-data", "-h", hash, "-in", path, "-out", out };
	int nid = strcmp(hash, "sha1") == 0 ? NID_sha1 : NID_sha256, n = 8;
	sg_msi_digest_result r;
	unsigned char *der;
	size_t len;
	int fd = open(path, O_RDONLY);

	snprintf(out, sizeof(out), "%s", check_path(workdir, label));
	if (dse)
		argv[n++] = "-add-msi-dse";
	argv[n] = NULL;
	unlink(out);
	ossl(NULL, 0, argv);
	der = slurp(out, &len);
	CHECK_INT(sg_msi_digest(&r, fd, nid, dse ? SG_MSI_DSE_WITH : SG_MSI_DSE_WITHOUT, path),
		  SG_OK);
	CHECK(r.md_len > 0 && memmem(der, len, r.md, r.md_len) != NULL);
	close(fd);
	free(der);
}

/* ---- a small compound file writer: version 3 or 4, no DIFAT ---- */

#define NOSTREAM   0xffffffffU
#define ENDOFCHAIN 0xfffffffeU
#define FATSECT    0xfffffffdU
#define MAXENT     400

struct ent {
	const char16_t *name; /* NULL: the root */
	int type;             /* 1 storage, 2 stream */
	int parent;
	uint32_t size;
	int fragment; /* big stream: sectors in descending order */
	uint32_t start, child, right;
};

struct cfbw {
	struct ent e[MAXENT];
	int n;
	/* breakage for the hostile cases */
	int loop_big;     /* the first big stream's last sector links to its first */
	int long_chain;   /* the first big stream's chain goes one sector further */
	int cycle;        /* the last entry's right sibling is the first child of the root */
	int mini_beyond;  /* the first small stream starts past the mini stream */
	int share_big;    /* entries 1-300 name the chain of entry 301 ("big") */
	int share_small;  /* every small stream claims 4095 bytes from mini sector 0 */
	int root_sibling; /* the root entry has a right sibling */
	int v4;           /* version 4: 4096-byte sectors */
};

static int add(struct cfbw *w, const char16_t *name, int type, int parent, uint32_t size)
{
	struct ent *e = &w->e[w->n];

	memset(e, 0, sizeof(*e));
	e->name = name;
	e->type = type;
	e->parent = parent;
	e->size = size;
	e->child = e->right = NOSTREAM;
	return w->n++;
}

static void put16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static unsigned char content(int i, uint32_t off)
{
	return (unsigned char)(i * 31 + off * 7 + (off >> 9));
}

static const unsigned char msi_clsid[16] = { 0x84, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
					     0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 };

static void dirent(unsigned char *d, const struct ent *e, int i)
{
	size_t len = 0;

	/* U+FFFF stands for a NUL inside the name */
	if (e->name)
		for (; e->name[len]; len++)
			put16(d + 2 * len, e->name[len] == 0xffff ? 0 : e->name[len]);
	else
		for (const char *r = "Root Entry"; r[len]; len++)
			put16(d + 2 * len, (unsigned char)r[len]);
	put16(d + 0x40, (uint32_t)(2 * len + 2));
	d[0x42] = (unsigned char)(e->name ? e->type : 5);
	d[0x43] = 1;
	put32(d + 0x44, NOSTREAM);
	put32(d + 0x48, e->right);
	put32(d + 0x4c, e->child);
	if (!e->name)
		memcpy(d + 0x50, msi_clsid, 16);
	else if (e->type == 1)
		memset(d + 0x50, 0x10 + i, 16);
	put32(d + 0x60, (uint32_t)i); /* state bits */
	if (e->name && e->type == 1) {
		memset(d + 0x64, 0x20 + i, 8); /* storages carry times */
		memset(d + 0x6c, 0x40 + i, 8);
	}
	put32(d + 0x74, e->start);
	put32(d + 0x78, e->size);
}

/* Where write_cfb() puts things: sector numbers, counts, the file image. */
struct layout {
	uint32_t ss; /* sector size */
	uint32_t nfat, ndir, nmf, nms, nmini, nbig;
	uint32_t dir0, mf0, ms0, next; /* first sectors; the next free one */
	uint32_t mini;                 /* the next free mini sector */
	unsigned char *f;
	size_t flen;
};

#define L_FAT(l, n) ((l)->f + (l)->ss + 4 * (size_t)(n))
#define L_AT(l, n)  ((l)->f + (l)->ss * (size_t)((n) + 1))

/* Each storage's children as a chain of right siblings; count the sectors. */
static void link_tree(struct cfbw *w, struct layout *l)
{
	int last[MAXENT];

	for (int i = 0; i < w->n; i++)
		last[i] = -1;
	for (int i = 1; i < w->n; i++) {
		int p = w->e[i].parent;
		if (last[p] < 0)
			w->e[p].child = (uint32_t)i;
		else
			w->e[last[p]].right = (uint32_t)i;
		last[p] = i;
		if (w->e[i].type == 2 && w->e[i].size > 0 && w->e[i].size < 4096)
			l->nmini += (w->e[i].size + 63) / 64;
		else if (w->e[i].type == 2)
			l->nbig += (w->e[i].size + l->ss - 1) / l->ss;
	}
	if (w->cycle)
		w->e[w->n - 1].right = w->e[0].child;
}

/* FAT sectors first, then directory, miniFAT and mini stream: each one contiguous chain. */
static void lay_out(struct cfbw *w, struct layout *l)
{
	uint32_t rest;

	l->ss = w->v4 ? 4096u : 512u;
	l->ndir = ((uint32_t)w->n + l->ss / 128 - 1) / (l->ss / 128);
	link_tree(w, l);
	l->nmf = (l->nmini * 4 + l->ss - 1) / l->ss;
	l->nms = (l->nmini * 64 + l->ss - 1) / l->ss;
	rest = l->ndir + l->nmf + l->nms + l->nbig;
	for (l->nfat = 1; l->nfat * (l->ss / 4) < l->nfat + rest; l->nfat++)
		;
	if (l->nfat > 109)
		setup_fail("write_cfb: too large for a header-only DIFAT");
	l->flen = (size_t)(1 + l->nfat + rest) * l->ss;
	if (!(l->f = calloc(1, l->flen)))
		setup_fail("out of memory");
	memset(l->f + l->ss, 0xff, (size_t)l->nfat * l->ss);
	for (uint32_t i = 0; i < l->nfat; i++)
		put32(L_FAT(l, i), FATSECT);
	l->dir0 = l->nfat;
	l->mf0 = l->dir0 + l->ndir;
	l->ms0 = l->mf0 + l->nmf;
	for (uint32_t s = l->dir0; s < l->ms0 + l->nms; s++) {
		int end = s + 1 == l->mf0 || s + 1 == l->ms0 || s + 1 == l->ms0 + l->nms;
		put32(L_FAT(l, s), end ? ENDOFCHAIN : s + 1);
	}
	l->next = l->ms0 + l->nms;
	/* unused miniFAT entries are FREESECT */
	memset(L_AT(l, l->mf0), 0xff, (size_t)l->nmf * l->ss);
}

static void place_small(struct cfbw *w, struct layout *l, int i, int first)
{
	struct ent *e = &w->e[i];
	uint32_t k = (e->size + 63) / 64;

	e->start = l->mini;
	for (uint32_t j = 0; j < k; j++) {
		put32(L_AT(l, l->mf0) + 4 * (l->mini + j),
		      j + 1 == k ? ENDOFCHAIN : l->mini + j + 1);
		for (uint32_t b = 0; b < 64 && j * 64 + b < e->size; b++)
			L_AT(l, l->ms0)[(l->mini + j) * 64 + b] = content(i, j * 64 + b);
	}
	if (first && w->mini_beyond)
		e->start = l->nms * l->ss / 64 + 3;
	l->mini += k;
}

static void place_big(struct cfbw *w, struct layout *l, int i, int first)
{
	struct ent *e = &w->e[i];
	uint32_t k = (e->size + l->ss - 1) / l->ss;

	for (uint32_t j = 0; j < k; j++) {
		uint32_t s = e->fragment ? l->next + k - 1 - j : l->next + j;
		uint32_t nx = j + 1 == k ? ENDOFCHAIN : e->fragment ? s - 1 : s + 1;
		if (j == 0)
			e->start = s;
		if (j + 1 == k && first && w->loop_big)
			nx = e->start;
		if (j + 1 == k && first && w->long_chain)
			nx = l->dir0;
		put32(L_FAT(l, s), nx);
		for (uint32_t b = 0; b < l->ss && j * l->ss + b < e->size; b++)
			L_AT(l, s)[b] = content(i, j * l->ss + b);
	}
	l->next += k;
}

/* The breakage that names sectors other streams own. */
static void share(struct cfbw *w)
{
	for (int i = 1; i < w->n; i++) {
		struct ent *e = &w->e[i];
		if (w->share_big && i <= 300) {
			e->start = w->e[301].start;
			e->size = w->e[301].size;
		}
		if (w->share_small && e->type == 2 && e->size > 0 && e->size < 4096) {
			e->start = 0;
			e->size = 4095;
		}
	}
}

static void header(const struct cfbw *w, struct layout *l)
{
	static const unsigned char magic[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };
	unsigned char *f = l->f;

	memcpy(f, magic, 8);
	put16(f + 0x18, 0x3e);
	put16(f + 0x1a, w->v4 ? 4 : 3);
	put16(f + 0x1c, 0xfffe);
	put16(f + 0x1e, w->v4 ? 12 : 9);
	put16(f + 0x20, 6);
	if (w->v4)
		put32(f + 0x28, l->ndir);
	put32(f + 0x2c, l->nfat);
	put32(f + 0x30, l->dir0);
	put32(f + 0x38, 4096);
	put32(f + 0x3c, l->nmf ? l->mf0 : ENDOFCHAIN);
	put32(f + 0x40, l->nmf);
	put32(f + 0x44, ENDOFCHAIN);
	memset(f + 0x4c, 0xff, 4 * 109);
	for (uint32_t i = 0; i < l->nfat; i++)
		put32(f + 0x4c + 4 * i, i);
}

/* Link children, lay out sectors, write the file. */
static void write_cfb(struct cfbw *w, const char *path)
{
	struct layout l = { 0 };
	int first_big = 1, first_small = 1;

	lay_out(w, &l);
	for (int i = 1; i < w->n; i++) {
		struct ent *e = &w->e[i];
		if (e->type != 2 || e->size == 0) {
			e->start = e->type == 2 ? ENDOFCHAIN : 0;
		} else if (e->size < 4096) {
			place_small(w, &l, i, first_small);
			first_small = 0;
		} else {
			place_big(w, &l, i, first_big);
			first_big = 0;
		}
	}
	share(w);
	if (w->root_sibling)
		w->e[0].right = (uint32_t)w->n - 1;
	w->e[0].start = l.nms ? l.ms0 : ENDOFCHAIN;
	w->e[0].size = l.nmini * 64;
	for (uint32_t i = 0; i < l.ndir * (l.ss / 128); i++) {
		unsigned char *d = L_AT(&l, l.dir0) + 128 * i;
		if ((int)i < w->n) {
			dirent(d, &w->e[i], (int)i);
		} else {
			put32(d + 0x44, NOSTREAM);
			put32(d + 0x48, NOSTREAM);
			put32(d + 0x4c, NOSTREAM);
		}
	}
	header(w, &l);
	check_write_file(path, l.f, l.flen, 0600);
	free(l.f);
}

/* ---- the cases ---- */

/* The names of many streams, kept for the writer. */
static char16_t names[MAXENT][8];

static const char16_t *name_n(int i)
{
	char ascii[8];

	snprintf(ascii, sizeof(ascii), "s%03d", i);
	for (int j = 0; j < 8; j++)
		names[i][j] = (unsigned char)ascii[j];
	return names[i];
}

/* Storages, sub-storages, names that sort byte-wise, sizes around the cutoff. */
static void storages(struct cfbw *w)
{
	int sub, deep;

	memset(w, 0, sizeof(*w));
	add(w, NULL, 5, 0, 0);
	/* byte order (A AB C b e) is not case-blind order (A AB b C e) */
	add(w, u"C", 2, 0, 5000);
	add(w, u"A", 2, 0, 100);
	add(w, u"AB", 2, 0, 0);
	add(w, u"b", 2, 0, 4095);
	add(w, u"e", 2, 0, 4096);
	add(w, u"\u4840\u3b3f\u4872", 2, 0, 300);
	add(w, u"\u0100", 2, 0, 200);
	sub = add(w, u"Sub", 1, 0, 0);
	add(w, u"y", 2, sub, 4097);
	w->e[w->n - 1].fragment = 1;
	add(w, u"x", 2, sub, 70);
	deep = add(w, u"Deep", 1, sub, 0);
	add(w, u"z", 2, deep, 10);
	/* signature names below the root are hashed like any stream */
	add(w,
	    u"\x05"
	    "DigitalSignature",
	    2, sub, 40);
	add(w,
	    u"\x05"
	    "MsiDigitalSignatureEx",
	    2, deep, 32);
	/* an unpaired surrogate and a pair: code units, compared as bytes */
	add(w, u"\xd800q", 2, 0, 33);
	add(w, u"\U0001F600", 2, 0, 34);
	add(w, u"empty", 1, 0, 0);
}

/* 300 streams of sizes about the sector and cutoff boundaries, and large ones. */
static void many(struct cfbw *w)
{
	static const uint32_t sizes[] = { 0, 1, 63, 64, 65, 511, 512, 513, 4095, 4096, 4097 };

	memset(w, 0, sizeof(*w));
	add(w, NULL, 5, 0, 0);
	for (int i = 1; i <= 300; i++)
		add(w, name_n(i), 2, 0, sizes[i % (sizeof(sizes) / sizeof(sizes[0]))]);
	add(w, u"big", 2, 0, 3u << 20);
	add(w, u"frag", 2, 0, 20000);
	w->e[w->n - 1].fragment = 1;
}

static void test_against_osslsigncode(void)
{
	char hello[PATH_MAX], path[PATH_MAX];
	struct cfbw w;

	snprintf(hello, sizeof(hello), "%s", check_path(fixdir, "inst/hello-1.0.msi"));
	check_signed("hello-sha256.msi", hello, "sha256", 0);
	check_signed("hello-dse.msi", hello, "sha256", 1);
	check_signed("hello-sha1.msi", hello, "sha1", 0);
	check_signed("hello-sha1-dse.msi", hello, "sha1", 1);
	storages(&w);
	snprintf(path, sizeof(path), "%s", check_path(workdir, "storages.msi"));
	write_cfb(&w, path);
	/* osslsigncode 2.9 signs it into a file whose directory tree is broken */
	{
		char broken[PATH_MAX], ours[160];
		snprintf(broken, sizeof(broken), "%s", check_path(workdir, "storages-signed.msi"));
		sign(path, broken, "sha256", 0, 0);
		CHECK_INT(own(ours, broken, NID_sha256, SG_MSI_DSE_AS_FILE), SG_ERR_FORMAT);
		CHECK_CONTAINS(sg_error_last(), "directory tree has a cycle");
	}
	check_extract_data("storages.der", path, "sha256", 0);
	check_extract_data("storages-dse.der", path, "sha256", 1);
	check_extract_data("storages-sha1-dse.der", path, "sha1", 1);
	check_extract_data("hello.der", hello, "sha256", 0);
	check_extract_data("hello-dse.der", hello, "sha256", 1);
	many(&w);
	snprintf(path, sizeof(path), "%s", check_path(workdir, "many.msi"));
	write_cfb(&w, path);
	check_signed("many-signed.msi", path, "sha256", 0);
	check_signed("many-dse.msi", path, "sha256", 1);
	check_extract_data("many.der", path, "sha256", 1);
	storages(&w);
	w.v4 = 1;
	snprintf(path, sizeof(path), "%s", check_path(workdir, "storages-v4.msi"));
	write_cfb(&w, path);
	check_extract_data("storages-v4.der", path, "sha256", 1);
	many(&w);
	w.v4 = 1;
	snprintf(path, sizeof(path), "%s", check_path(workdir, "many-v4.msi"));
	write_cfb(&w, path);
	check_signed("many-v4-signed.msi", path, "sha256", 1);
}

/* A nested signature signs the same digest; the pre-hash stays first. */
static void test_nested(void)
{
	char in[PATH_MAX], out[PATH_MAX], cur[160], ours[160];
	static const int dse[] = { 0, 1 };

	for (int i = 0; i < 2; i++) {
		snprintf(in, sizeof(in), "%s",
			 check_path(workdir, dse[i] ? "hello-dse.msi" : "hello-sha256.msi"));
		snprintf(out, sizeof(out), "%s", check_path(workdir, "nested.msi"));
		sign(in, out, "sha256", dse[i], 1);
		ossl_report_value(cur, sizeof(cur), out, "0", "Current DigitalSignature");
		CHECK_INT(own(ours, out, NID_sha256, SG_MSI_DSE_AS_FILE), SG_OK);
		CHECK_STR(ours, cur);
	}
}

/* Flip the byte `delta` after the first occurrence of `needle` in the file at `path`. */
static void flip_after(const char *path, const unsigned char *needle, size_t nlen, size_t delta)
{
	size_t len;
	unsigned char *b = slurp(path, &len), *hit = memmem(b, len, needle, nlen);

	if (!hit || (size_t)(hit - b) + delta >= len)
		setup_fail("flip_after: pattern not found");
	hit[delta] ^= 0x01;
	check_write_file(path, b, len, 0600);
	free(b);
}

/* A stream changed after signing, or the MsiDigitalSignatureEx value. */
static void test_tampered(void)
{
	char signed_path[PATH_MAX], copy[PATH_MAX], cur[160], dse_hex[160], ours[160];
	unsigned char pattern[64], dse[32], *b;
	size_t len;

	snprintf(signed_path, sizeof(signed_path), "%s", check_path(workdir, "many-dse.msi"));
	b = slurp(signed_path, &len);
	ossl_report_value(cur, sizeof(cur), signed_path, "0", "Current DigitalSignature");
	ossl_report_value(dse_hex, sizeof(dse_hex), signed_path, "0", "Current MsiDigitalSignatureEx");
	snprintf(copy, sizeof(copy), "%s", check_path(workdir, "tampered.msi"));

	/* stream "big" (entry 301, 3 MiB): one bit of its content */
	for (uint32_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = content(301, i);
	check_write_file(copy, b, len, 0600);
	flip_after(copy, pattern, sizeof(pattern), 4000);
	CHECK_INT(own(ours, copy, NID_sha256, SG_MSI_DSE_AS_FILE), SG_OK);
	CHECK(ours[0] && strcmp(ours, cur) != 0);

	/* the stored pre-hash */
	CHECK_INT(strlen(dse_hex), 64);
	for (int i = 0; i < 32; i++)
		sscanf(dse_hex + 2 * i, "%2hhx", &dse[i]);
	check_write_file(copy, b, len, 0600);
	flip_after(copy, dse, sizeof(dse), 31);
	CHECK_INT(own(ours, copy, NID_sha256, SG_MSI_DSE_AS_FILE), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "MsiDigitalSignatureEx is not the pre-hash");
	/* without the pre-hash, the digest is not the signed one either */
	CHECK_INT(own(ours, copy, NID_sha256, SG_MSI_DSE_WITHOUT), SG_OK);
	CHECK(strcmp(ours, cur) != 0);
	free(b);
}

/* Write `w` broken as `how` says, and expect SG_ERR_FORMAT with `why`. */
static void expect_broken(struct cfbw *w, const char *file, const char *why)
{
	char path[PATH_MAX], ours[160];

	snprintf(path, sizeof(path), "%s", check_path(workdir, file));
	write_cfb(w, path);
	CHECK_INT(own(ours, path, NID_sha256, SG_MSI_DSE_AS_FILE), SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), why);
}

static void test_hostile(void)
{
	struct cfbw w;
	char ours[160];
	int parent = 0;

	storages(&w);
	w.loop_big = 1;
	expect_broken(&w, "loop.msi", "the sector chain goes on past its size");
	storages(&w);
	w.long_chain = 1;
	expect_broken(&w, "long.msi", "the sector chain goes on past its size");
	storages(&w);
	w.cycle = 1;
	expect_broken(&w, "cycle.msi", "directory tree has a cycle");
	storages(&w);
	w.mini_beyond = 1;
	expect_broken(&w, "mini.msi", "is beyond the mini stream");
	storages(&w);
	add(&w, u"A", 2, 0, 10);
	expect_broken(&w, "dup.msi", "a storage holds two entries named \"A\"");
	/* names that differ only in case: a compound file takes them as one */
	storages(&w);
	add(&w, u"a", 2, 0, 10);
	expect_broken(&w, "case.msi",
		      "a storage holds two entries named \"a\" (names that "
		      "differ only in case are one name)");
	storages(&w);
	add(&w, u"x\u00e9", 2, 8, 10); /* in "Sub" */
	add(&w, u"X\u00c9", 2, 8, 20);
	expect_broken(&w, "case-latin1.msi", "differ only in case");
	storages(&w);
	add(&w,
	    u"\x05"
	    "DigitalSignature\xffff"
	    "x",
	    2, 0, 10);
	expect_broken(&w, "nul.msi", "has a NUL inside its name");
	storages(&w);
	for (int i = 0; i < 34; i++)
		parent = add(&w, u"d", 1, parent, 0);
	expect_broken(&w, "deep.msi", "storages nest more than 32 deep");
	/* 300 streams that all name the 3 MiB chain of "big": 900 MiB to hash from 4 MiB */
	many(&w);
	w.share_big = 1;
	expect_broken(&w, "shared.msi", "the streams claim");
	storages(&w);
	w.share_small = 1;
	expect_broken(&w, "shared-small.msi", "the small streams claim");
	storages(&w);
	w.root_sibling = 1;
	expect_broken(&w, "sibling.msi", "root directory entry has siblings");
	CHECK_INT(own(ours, check_path(workdir, "storages.msi"), NID_md5, SG_MSI_DSE_AS_FILE),
		  SG_ERR_USAGE);
	CHECK_INT(
		own(ours, check_path(fixdir, "inst/truncated.msi"), NID_sha256, SG_MSI_DSE_AS_FILE),
		SG_ERR_FORMAT);
}

/*
 * Bytes of a signed MSI's header, FAT, directory and miniFAT changed at
 * random (a fixed seed): each copy is either hashed or refused with a
 * reason, never read out of bounds (run under SG_SANITIZE to see).
 */
static void test_mutations(void)
{
	char path[PATH_MAX], signed_path[PATH_MAX], ours[160];
	unsigned char *orig, *b;
	size_t len;
	unsigned seed = 11;
	int outcomes[3] = { 0 };

	snprintf(signed_path, sizeof(signed_path), "%s", check_path(workdir, "hello-dse.msi"));
	snprintf(path, sizeof(path), "%s", check_path(workdir, "mutated.msi"));
	orig = slurp(signed_path, &len);
	if (!(b = malloc(len)))
		setup_fail("out of memory");
	for (int round = 0; round < 1500; round++) {
		memcpy(b, orig, len);
		for (int k = 0; k < 1 + round % 4; k++) {
			size_t at = (size_t)rand_r(&seed) % (len < 8192 ? len : 8192);
			b[at] = (unsigned char)rand_r(&seed);
		}
		check_write_file(path, b, len, 0600);
		int rc = own(ours, path, NID_sha256, SG_MSI_DSE_AS_FILE);
		CHECK(rc == SG_OK || rc == SG_ERR_FORMAT || rc == SG_ERR_VERIFY);
		outcomes[rc == SG_OK ? 0 : rc == SG_ERR_FORMAT ? 1 : 2]++;
	}
	/* the mutations reach all three outcomes */
	CHECK(outcomes[0] > 0 && outcomes[1] > 0 && outcomes[2] > 0);
	free(b);
	free(orig);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_msi_digest FIXDIR [OSSLSIGNCODE]\n");
		return 2;
	}
	fixdir = argv[1];
	if (argc > 2)
		osslsigncode = argv[2];
	if (check_workdir_create(&workdir) != SG_OK)
		setup_fail(sg_error_last());
	test_against_osslsigncode();
	test_nested();
	test_tampered();
	test_hostile();
	test_mutations();
	check_workdir_remove(&workdir);
	free(workdir);
	return check_done();
}

/*
 * Opening a policy through its index, and deciding with it (the index file
 * is described in lib/policy_index_format.h, written by
 * lib/policy_index_write.c). Any doubt about the index when the policy is
 * opened means the full load, as without an index.
 */
#include "policy_index_format.h"
#include "policy_internal.h"
#include "signgate/error.h"
#include "signgate/strict.h"
#include "signgate/hash.h"
#include "signgate/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <openssl/evp.h>

struct sg_policy_index {
	/* First: what policy.c and policy_decide.c call (policy_internal.h). */
	const sg_policy_index_hooks *hooks;
	pthread_mutex_t mu; /* decisions of several workers fill the same caches */
	unsigned char *raw; /* the index file */
	size_t raw_len;
	const idx_header *h;
	const idx_file *files;
	const idx_object *objects; /* approvals, then revocations */
	const idx_key *keys[IDX_TABLES];
	const unsigned char *blocks; /* SHA-256 of each block of the big files */
	const char *names;
	char *dir;               /* the policy folder; NULL for a one-file policy */
	char *single;            /* the one-file policy */
	sg_approval **approvals; /* parsed when a decision needs them */
	sg_revocation **revoked;
	const sg_strict_rule *strict; /* sg_policy_open_strict()'s; NULL: none */
};

static void index_free(struct sg_policy_index *ix);
static void index_decide(sg_decision *out, const sg_policy *p, const sg_policy_input *in,
			 time_t now);
static const sg_policy_index_hooks index_hooks = { index_decide, index_free };

int sg_idx_digest_key(uint64_t *out, const char *hex, size_t nbytes)
{
	uint64_t key = 0;

	if (!hex || strlen(hex) != 2 * nbytes || strspn(hex, "0123456789abcdef") != 2 * nbytes)
		return 0;
	for (int i = 0; i < 16; i++)
		key = key << 4 | (uint64_t)(hex[i] >= 'a' ? hex[i] - 'a' + 10 : hex[i] - '0');
	*out = key;
	return 1;
}

uint64_t sg_idx_name_key(const char *name)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	uint64_t key = 0;

	if (!EVP_Digest(name, strlen(name), md, NULL, EVP_sha256(), NULL))
		return 0; /* every name then shares one key: slower, never wrong */
	for (int i = 0; i < 8; i++)
		key = key << 8 | md[i];
	return key;
}

char *sg_policy_index_path(const char *path)
{
	struct stat st;
	char *out = NULL;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *sub = sg_path_join(path, IDX_SUBDIR);
		out = sub ? sg_path_join(sub, IDX_SUBDIR_FILE) : NULL;
		free(sub);
		return out;
	}
	return asprintf(&out, "%s%s", path, IDX_FILE_SUFFIX) < 0 ? NULL : out;
}

static void index_free(struct sg_policy_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; ix->approvals && i < ix->h->n_approvals; i++) {
		if (ix->approvals[i])
			sg_policy_approval_clear(ix->approvals[i]);
		free(ix->approvals[i]);
	}
	for (size_t i = 0; ix->revoked && i < ix->h->n_revoked; i++) {
		if (ix->revoked[i])
			sg_policy_revocation_clear(ix->revoked[i]);
		free(ix->revoked[i]);
	}
	pthread_mutex_destroy(&ix->mu);
	free(ix->approvals);
	free(ix->revoked);
	free(ix->raw);
	free(ix->dir);
	free(ix->single);
	free(ix);
}

/* Why the index is not used: recorded in `why`; returns 1 (a doubt, not an error). */
static int doubt(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int doubt(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return 1;
}

#define DOUBT(...) doubt(why, why_size, __VA_ARGS__)

/* Carve the parts out of the index bytes; every count and offset is checked. */
static int check_layout(struct sg_policy_index *ix, char *why, size_t why_size)
{
	const idx_header *h = (const idx_header *)ix->raw;
	size_t at = sizeof(*h), n_obj;
	unsigned char md[EVP_MAX_MD_SIZE];

	if (ix->raw_len < sizeof(*h) + 32 || memcmp(h->magic, IDX_MAGIC, 8) != 0)
		return DOUBT("it is not a signgate policy index");
	if (h->byte_order != IDX_BYTE_ORDER || h->format != IDX_FORMAT)
		return DOUBT("it has another format (written by another signgate)");
	if (h->rules != SG_POLICY_RULES_VERSION)
		return DOUBT("it was made with other policy rules (rules version %u, not %u)",
			     h->rules, SG_POLICY_RULES_VERSION);
	if (!EVP_Digest(ix->raw, ix->raw_len - 32, md, NULL, EVP_sha256(), NULL) ||
	    memcmp(md, ix->raw + ix->raw_len - 32, 32) != 0)
		return DOUBT("it is damaged (its SHA-256 does not match)");
	/* Bound each count by the bytes there are before multiplying. */
	if (h->n_files == 0 || h->n_files > ix->raw_len / sizeof(idx_file) ||
	    h->n_approvals > ix->raw_len / sizeof(idx_object) ||
	    h->n_revoked > ix->raw_len / sizeof(idx_object) || h->names_size > ix->raw_len)
		return DOUBT("it is damaged (counts out of range)");
	n_obj = h->n_approvals + h->n_revoked;
	ix->h = h;
	ix->files = (const idx_file *)(ix->raw + at);
	at += h->n_files * sizeof(idx_file);
	ix->objects = (const idx_object *)(ix->raw + at);
	at += n_obj * sizeof(idx_object);
	for (int t = 0; t < IDX_TABLES; t++) {
		if (h->n_keys[t] > ix->raw_len / sizeof(idx_key) || at > ix->raw_len)
			return DOUBT("it is damaged (counts out of range)");
		ix->keys[t] = (const idx_key *)(ix->raw + at);
		at += h->n_keys[t] * sizeof(idx_key);
	}
	if (h->n_blocks > ix->raw_len / 32 || at > ix->raw_len)
		return DOUBT("it is damaged (counts out of range)");
	ix->blocks = ix->raw + at;
	at += h->n_blocks * 32;
	ix->names = (const char *)ix->raw + at;
	if (at + h->names_size + 32 != ix->raw_len || h->names_size == 0 ||
	    ix->names[h->names_size - 1] != '\0')
		return DOUBT("it is damaged (sizes do not add up)");
	return 0;
}

/* The references inside the index: names, objects and keys point where they may. */
static int check_references(const struct sg_policy_index *ix, char *why, size_t why_size)
{
	const idx_header *h = ix->h;
	size_t n_obj = h->n_approvals + h->n_revoked;

	for (size_t i = 0; i < h->n_files; i++) {
		const idx_file *f = &ix->files[i];
		if (f->name_off >= h->names_size)
			return DOUBT("it is damaged (a name out of range)");
		if (f->block_first > h->n_blocks ||
		    IDX_BLOCKS(f->size) > h->n_blocks - f->block_first)
			return DOUBT("it is damaged (blocks out of range)");
	}
	for (size_t i = 0; i < n_obj; i++) {
		const idx_object *o = &ix->objects[i];
		if (o->file >= h->n_files || o->off > ix->files[o->file].size ||
		    o->len > ix->files[o->file].size - o->off || o->len == 0)
			return DOUBT("it is damaged (an object out of range)");
	}
	for (int t = 0; t < IDX_TABLES; t++) {
		size_t n = t <= IDX_APPROVAL_NAME ? h->n_approvals : h->n_revoked;
		for (size_t i = 0; i < h->n_keys[t]; i++)
			if (ix->keys[t][i].object >= n ||
			    (i > 0 && ix->keys[t][i - 1].key > ix->keys[t][i].key))
				return DOUBT("it is damaged (a key out of range or order)");
	}
	return 0;
}

static int same_stat(const idx_file *f, const struct stat *st)
{
	return S_ISREG(st->st_mode) && f->dev == (uint64_t)st->st_dev &&
	       f->ino == (uint64_t)st->st_ino && f->size == (uint64_t)st->st_size &&
	       f->mtime_ns == IDX_NS(st->st_mtim) && f->ctime_ns == IDX_NS(st->st_ctim);
}

/* The index's file names as a hash set, for the folder's names to be looked up in. */
typedef struct name_set {
	uint32_t *slot; /* file index + 1; 0: empty */
	size_t mask;
} name_set;

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static const char *name_of(const struct sg_policy_index *ix, size_t i)
{
	return ix->names + ix->files[i].name_off;
}

/* 0, or 1 when a name is there twice (a damaged index), or -1 out of memory. */
static int name_set_make(name_set *set, const struct sg_policy_index *ix)
{
	size_t size = 16;

	while (size < 2 * ix->h->n_files)
		size *= 2;
	if (!(set->slot = calloc(size, sizeof(*set->slot))))
		return -1;
	set->mask = size - 1;
	for (size_t i = 0; i < ix->h->n_files; i++) {
		size_t at = name_hash(name_of(ix, i)) & set->mask;
		for (; set->slot[at]; at = (at + 1) & set->mask)
			if (strcmp(name_of(ix, set->slot[at] - 1), name_of(ix, i)) == 0)
				return 1;
		set->slot[at] = (uint32_t)i + 1;
	}
	return 0;
}

static int name_set_has(const name_set *set, const struct sg_policy_index *ix, const char *name)
{
	for (size_t at = name_hash(name) & set->mask; set->slot[at]; at = (at + 1) & set->mask)
		if (strcmp(name_of(ix, set->slot[at] - 1), name) == 0)
			return 1;
	return 0;
}

/* Every *.json name in the folder is one of the index's; `*found` of them. */
static int check_names(const struct sg_policy_index *ix, DIR *d, size_t *found, char *why,
		       size_t why_size)
{
	name_set set = { 0 };
	struct dirent *e;
	int rc = name_set_make(&set, ix);

	if (rc)
		rc = rc < 0 ? DOUBT("out of memory") : DOUBT("it is damaged (a name twice)");
	while (!rc && (errno = 0, e = readdir(d))) {
		if (!sg_policy_is_json_name(e->d_name))
			continue;
		if (!name_set_has(&set, ix, e->d_name))
			rc = DOUBT("%s is new since it was made", e->d_name);
		(*found)++;
	}
	if (!rc && errno)
		rc = DOUBT("cannot read the folder: %s", strerror(errno));
	free(set.slot);
	return rc;
}

static char *file_path(const struct sg_policy_index *ix, size_t i);

/*
 * Group-write that the exception group allows may come from a POSIX ACL
 * entry for another account (strict.h): then file `i` is judged in full,
 * ACL included. 1: it fails the rule (the full load reports it).
 */
static int acl_doubt(const struct sg_policy_index *ix, size_t i, const struct stat *st)
{
	char *path;
	int bad;

	if (!(st->st_mode & S_IWGRP) || !ix->strict->has_gid)
		return 0;
	if (!(path = file_path(ix, i)))
		return 1;
	bad = sg_strict_stat_check(st, path, ix->strict, SG_STRICT_GROUP) != SG_OK;
	sg_error_clear();
	free(path);
	return bad;
}

/*
 * The folder holds exactly the index's *.json files, each with the stat it
 * had. Its names are read only when the folder's own stat (`dir`) differs
 * from the one recorded before the index's build listed them: adding,
 * removing or renaming a file changes the folder's mtime and ctime.
 */
static int check_folder(const struct sg_policy_index *ix, const struct stat *dir, char *why,
			size_t why_size)
{
	const idx_header *h = ix->h;
	DIR *d = NULL;
	struct stat st;
	char rule_why[128];
	size_t found = h->n_files;
	int rc = 0, dfd = -1;

	if ((h->flags & IDX_F_FOLDER_RACY) || h->dir_dev != (uint64_t)dir->st_dev ||
	    h->dir_ino != (uint64_t)dir->st_ino || h->dir_mtime_ns != IDX_NS(dir->st_mtim) ||
	    h->dir_ctime_ns != IDX_NS(dir->st_ctim)) {
		if (!(d = opendir(ix->dir)))
			return DOUBT("cannot read the folder: %s", strerror(errno));
		found = 0;
		rc = check_names(ix, d, &found, why, why_size);
		closedir(d);
	}
	if (!rc && (dfd = open(ix->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = DOUBT("cannot read the folder: %s", strerror(errno));
	for (size_t i = 0; !rc && i < h->n_files; i++) {
		if (fstatat(dfd, name_of(ix, i), &st, 0) != 0)
			rc = DOUBT(errno == ENOENT ? "%s is gone since it was made"
						   : "%s changed since it was made",
				   name_of(ix, i));
		else if (!same_stat(&ix->files[i], &st))
			rc = DOUBT("%s changed since it was made", name_of(ix, i));
		else if (ix->strict && sg_strict_stat_why(&st, ix->strict, SG_STRICT_GROUP, 0,
							  rule_why, sizeof(rule_why)))
			rc = DOUBT("%s is %s", name_of(ix, i), rule_why);
		else if (ix->strict && acl_doubt(ix, i, &st))
			rc = DOUBT("%s has a POSIX ACL that lets another account write it",
				   name_of(ix, i));
	}
	if (dfd >= 0)
		close(dfd);
	/* Fewer names than files: the stat of the one missing has said which. */
	return rc || found == h->n_files ? rc : DOUBT("a policy file is gone since it was made");
}

static char *file_path(const struct sg_policy_index *ix, size_t i)
{
	return ix->dir ? sg_path_join(ix->dir, ix->names + ix->files[i].name_off)
		       : strdup(ix->single);
}

/*
 * Read policy file `i` into p->files[i]: its bytes must be the ones the
 * index was made from. Returns 0, or 1 with `why`.
 */
static int load_file(const struct sg_policy_index *ix, const sg_policy *p, size_t i, char *why,
		     size_t why_size)
{
	sg_policy_file *f = &p->files[i];
	unsigned char md[EVP_MAX_MD_SIZE], *bytes = NULL;
	char *path;
	size_t len = 0;

	if (f->bytes)
		return 0;
	if (!(path = file_path(ix, i)))
		return DOUBT("out of memory");
	if (sg_read_file(&bytes, &len, path, ix->files[i].size, NULL, 0) != SG_OK ||
	    len != ix->files[i].size || !EVP_Digest(bytes, len, md, NULL, EVP_sha256(), NULL) ||
	    memcmp(md, ix->files[i].sha256, 32) != 0) {
		DOUBT("%s no longer has the bytes the index was made from", path);
		free(path);
		free(bytes);
		return 1;
	}
	free(f->path); /* set when only some blocks were read before */
	f->path = path;
	f->bytes = bytes;
	f->len = len;
	sg_hex_encode(f->sha256, md, 32);
	return 0;
}

/* A file with catalog entries: parsed in full now, its products added to the policy's. */
static int load_products(const struct sg_policy_index *ix, sg_policy *p, size_t i, char *why,
			 size_t why_size)
{
	char *path = file_path(ix, i), hex[65];
	sg_policy *one = NULL;
	sg_product *all;
	int rc = 0;

	if (!path || sg_policy_load_one(&one, path) != SG_OK)
		rc = DOUBT("%s does not load: %s", path ? path : "", sg_error_last());
	sg_hex_encode(hex, ix->files[i].sha256, 32);
	if (!rc && (strcmp(hex, one->files[0].sha256) != 0 ||
		    one->files[0].len != ix->files[i].size))
		rc = DOUBT("%s no longer has the bytes the index was made from", path);
	all = rc ? NULL : realloc(p->products, (p->n_products + one->n_products) * sizeof(*all));
	if (!rc && !all)
		rc = DOUBT("out of memory");
	if (!rc) {
		if (one->n_products > 0) /* else one->products may be NULL */
			memcpy(all + p->n_products, one->products, one->n_products * sizeof(*all));
		p->products = all;
		p->n_products += one->n_products;
		one->n_products = 0;
		p->files[i] = one->files[0];
		one->n_files = 0;
	}
	sg_policy_free(one);
	free(path);
	return rc;
}

/*
 * The index may be changed only by whoever may change the policy: no new
 * way in. It is held to the strict-mode rule (strict.h) with the policy's
 * owner as the trusted account and, when the policy is group-writable, the
 * policy's group as the exception: owned by root, the policy's owner or a
 * member of that group; writable by that group only; never by the world.
 */
static int no_wider(const struct stat *x, const struct stat *policy)
{
	sg_strict_rule rule;
	char why[128];

	sg_strict_rule_init(&rule, policy->st_uid);
	rule.has_gid = (policy->st_mode & S_IWGRP) != 0;
	rule.gid = policy->st_gid;
	return !sg_strict_stat_why(x, &rule, SG_STRICT_GROUP, 0, why, sizeof(why));
}

/* File systems whose cached attributes cannot prove a file unchanged (statfs(2) magic). */
static int network_fs(const char *path)
{
	static const unsigned long magic[] = {
		0x6969,     /* NFS */
		0x517B,     /* SMB */
		0xFF534D42, /* CIFS */
		0xFE534D42, /* SMB2 */
		0x65735546, /* FUSE (sshfs and others) */
		0x00C36400, /* Ceph */
		0x5346414F, /* AFS */
		0x47504653, /* GPFS */
		0x0BD00BD0, /* Lustre */
	};
	struct statfs fs;

	if (statfs(path, &fs) != 0)
		return 1;
	for (size_t i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if ((unsigned long)fs.f_type == magic[i])
			return 1;
	return 0;
}

/*
 * The index file, opened without following a link and checked on that
 * descriptor (owner, mode, subfolder) before a byte of it is trusted.
 * Returns the descriptor, -2 when there is none, or -1 with `why`.
 */
static int open_index(const char *index, const struct stat *policy, char *why, size_t why_size)
{
	int fd = open(index, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	char *sub = S_ISDIR(policy->st_mode) ? sg_path_dir(index) : NULL;
	struct stat st;
	int ok;

	if (fd < 0 && errno == ENOENT) {
		free(sub);
		return -2;
	}
	ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && no_wider(&st, policy);
	if (ok && S_ISDIR(policy->st_mode))
		ok = sub && lstat(sub, &st) == 0 && S_ISDIR(st.st_mode) && no_wider(&st, policy);
	free(sub);
	if (ok)
		return fd;
	if (fd >= 0)
		close(fd);
	DOUBT(fd < 0 && errno == ELOOP ? "it is a symbolic link"
		  : fd < 0		 ? "it cannot be opened"
				     : "its owner or mode lets others change it than may change the policy");
	return -1;
}

static int read_index(struct sg_policy_index *ix, const char *index, const char *path,
		      sg_policy_open_info *info)
{
	char *why = info->why;
	size_t why_size = sizeof(info->why);
	struct stat st;
	int fd, error;

	if (stat(path, &st) != 0)
		return DOUBT("%s cannot be read: %s", path, strerror(errno));
	if ((fd = open_index(index, &st, why, why_size)) == -2)
		return DOUBT("%s has no index", path);
	info->index_exists = 1;
	if (fd >= 0 && network_fs(path)) {
		close(fd);
		return DOUBT("%s is on a network file system, whose cached file times cannot "
			     "show that the policy is unchanged",
			     path);
	}
	if (fd < 0)
		return 1;
	error = sg_read_fd(&ix->raw, &ix->raw_len, fd, index, IDX_MAX_BYTES, NULL);
	close(fd);
	if (error)
		return DOUBT("%s", sg_error_last());
	if (check_layout(ix, why, why_size) || check_references(ix, why, why_size))
		return 1;
	if (!!S_ISDIR(st.st_mode) != !!(ix->h->flags & IDX_F_FOLDER))
		return DOUBT("it is for another kind of policy");
	if (S_ISDIR(st.st_mode))
		return !(ix->dir = strdup(path)) ? DOUBT("out of memory")
						 : check_folder(ix, &st, why, why_size);
	if (!(ix->single = strdup(path)))
		return DOUBT("out of memory");
	return ix->h->n_files != 1 || !same_stat(&ix->files[0], &st)
		       ? DOUBT("%s changed since it was made", path)
		       : 0;
}

/* Open through the index: 0 with *out, or 1 with info->why (then the full load). */
static int open_indexed(sg_policy **out, const char *path, const sg_strict_rule *strict,
			sg_policy_open_info *info)
{
	char *index = sg_policy_index_path(path), *why = info->why;
	size_t why_size = sizeof(info->why);
	struct sg_policy_index *ix = calloc(1, sizeof(*ix));
	sg_policy *p = calloc(1, sizeof(*p));
	int rc = !index || !ix || !p ? DOUBT("out of memory") : 0;

	if (ix) {
		ix->hooks = &index_hooks;
		pthread_mutex_init(&ix->mu, NULL);
		ix->strict = strict;
	}
	if (p)
		p->index = ix;
	if (!rc)
		rc = read_index(ix, index, path, info);
	if (!rc) {
		p->n_files = ix->h->n_files;
		p->files = calloc(p->n_files, sizeof(*p->files));
		ix->approvals = calloc(ix->h->n_approvals + 1, sizeof(*ix->approvals));
		ix->revoked = calloc(ix->h->n_revoked + 1, sizeof(*ix->revoked));
		if (!p->files || !ix->approvals || !ix->revoked)
			rc = DOUBT("out of memory");
		p->require_cosign = !!(ix->h->flags & IDX_F_REQUIRE_COSIGN);
		p->uses_sha512 = !!(ix->h->flags & IDX_F_USES_SHA512);
	}
	for (size_t i = 0; !rc && i < p->n_files; i++) {
		if (ix->files[i].flags & IDX_FILE_PRODUCTS)
			rc = load_products(ix, p, i, why, why_size);
		else if (ix->files[i].flags & IDX_FILE_RACY)
			rc = load_file(ix, p, i, why, why_size);
	}
	free(index);
	if (rc) {
		if (p)
			sg_policy_free(p);
		else
			index_free(ix);
		return 1;
	}
	*out = p;
	return 0;
}

/* Every policy file of a full load, on the stat of the descriptor it was read from. */
static int check_strict(sg_policy **p, const sg_strict_rule *strict)
{
	for (size_t i = 0; strict && i < (*p)->n_files; i++)
		if (sg_strict_stat_check(&(*p)->files[i].st, (*p)->files[i].path, strict,
					 SG_STRICT_GROUP) != SG_OK) {
			sg_policy_free(*p);
			*p = NULL;
			return SG_ERR_CONFIG;
		}
	return SG_OK;
}

int sg_policy_open(sg_policy **out, const char *path, sg_policy_open_info *info)
{
	return sg_policy_open_strict(out, path, NULL, info);
}

int sg_policy_open_strict(sg_policy **out, const char *path, const sg_strict_rule *strict,
			  sg_policy_open_info *info)
{
	sg_policy_open_info local;
	int error;

	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));
	*out = NULL;
	if (open_indexed(out, path, strict, info) == 0) {
		info->indexed = 1;
		return SG_OK;
	}
	error = sg_policy_load(out, path);
	return error ? error : check_strict(out, strict);
}

/* A growing list of object numbers (approvals or revocations). */
typedef struct idlist {
	uint64_t *v;
	size_t n, cap;
} idlist;

static int idlist_add(idlist *l, uint64_t id)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		uint64_t *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = id;
	return 0;
}

static int cmp_id(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Sort and drop repeats: the policy's order. */
static void idlist_order(idlist *l)
{
	size_t n = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_id);
	for (size_t i = 0; i < l->n; i++)
		if (n == 0 || l->v[n - 1] != l->v[i])
			l->v[n++] = l->v[i];
	l->n = n;
}

/* Every object of table `t` under `key`. */
static int lookup(const struct sg_policy_index *ix, int t, uint64_t key, idlist *out)
{
	const idx_key *k = ix->keys[t];
	size_t lo = 0, hi = ix->h->n_keys[t];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ix->h->n_keys[t] && k[lo].key == key; lo++)
		if (idlist_add(out, k[lo].object) != 0)
			return -1;
	return 0;
}

static int lookup_digest(const struct sg_policy_index *ix, int t, const char *hex, size_t nbytes,
			 idlist *out)
{
	uint64_t key;

	return sg_idx_digest_key(&key, hex, nbytes) ? lookup(ix, t, key, out) : 0;
}

/* Name, SHA-256 and size of a file whose bytes are not all read (see object_text()). */
static int describe_file(const struct sg_policy_index *ix, const sg_policy *p, size_t i, char *why,
			 size_t why_size)
{
	sg_policy_file *f = &p->files[i];

	/* Once: other workers read these without the lock once a decision has named the file. */
	if (f->path)
		return 0;
	if (!(f->path = file_path(ix, i)))
		return DOUBT("out of memory");
	sg_hex_encode(f->sha256, ix->files[i].sha256, 32);
	f->len = ix->files[i].size;
	return 0;
}

/*
 * Read the blocks of big file `i` that hold bytes off..off+len, each checked
 * against its SHA-256 in the index, into a new buffer `*buf`; `*text` is
 * the object's first byte in it.
 */
static int read_blocks(const struct sg_policy_index *ix, const sg_policy *p, size_t i,
		       const idx_object *o, char **buf, const char **text, char *why,
		       size_t why_size)
{
	const idx_file *rec = &ix->files[i];
	uint64_t first = o->off / IDX_BLOCK, last = (o->off + o->len - 1) / IDX_BLOCK;
	uint64_t start = first * IDX_BLOCK, end = (last + 1) * IDX_BLOCK;
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t got = 0;
	int fd, rc = 0;

	if (end > rec->size)
		end = rec->size;
	if (describe_file(ix, p, i, why, why_size))
		return 1;
	if (!(*buf = malloc(end - start)))
		return DOUBT("out of memory");
	fd = open(p->files[i].path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	while (fd >= 0 && got < end - start) {
		ssize_t n = pread(fd, *buf + got, end - start - got, (off_t)(start + got));
		if (n <= 0 && !(n < 0 && errno == EINTR))
			break;
		got += n > 0 ? (size_t)n : 0;
	}
	if (fd >= 0)
		close(fd);
	for (uint64_t k = first; got == end - start && !rc && k <= last; k++) {
		size_t off = (k - first) * IDX_BLOCK;
		size_t n = end - start - off < IDX_BLOCK ? end - start - off : IDX_BLOCK;
		rc = !EVP_Digest(*buf + off, n, md, NULL, EVP_sha256(), NULL) ||
		     memcmp(md, ix->blocks + 32 * (rec->block_first + k), 32) != 0;
	}
	if (rc || got != end - start) {
		free(*buf);
		*buf = NULL;
		return DOUBT("%s no longer has the bytes the index was made from",
			     p->files[i].path);
	}
	*text = *buf + (o->off - start);
	return 0;
}

/*
 * The JSON text of object `o`: in its file's bytes, read (and checked)
 * whole; or, for a big file when no co-signature needs its bytes, only the
 * blocks that hold it, in `*buf` (free it).
 */
static int object_text(const struct sg_policy_index *ix, const sg_policy *p, const idx_object *o,
		       char **buf, const char **text, char *why, size_t why_size)
{
	const sg_policy_file *f = &p->files[o->file];

	*buf = NULL;
	if (!f->bytes && IDX_BLOCKS(ix->files[o->file].size) && !p->require_cosign)
		return read_blocks(ix, p, o->file, o, buf, text, why, why_size);
	if (load_file(ix, p, o->file, why, why_size))
		return 1;
	*text = (const char *)f->bytes + o->off;
	return 0;
}

static const sg_approval *approval_at(struct sg_policy_index *ix, const sg_policy *p, uint64_t id,
				      char *why, size_t why_size)
{
	const idx_object *o = &ix->objects[id];
	const char *text;
	char *buf;
	sg_approval *a;
	int error;

	if (ix->approvals[id])
		return ix->approvals[id];
	if (object_text(ix, p, o, &buf, &text, why, why_size))
		return NULL;
	if (!(a = malloc(sizeof(*a)))) {
		free(buf);
		return DOUBT("out of memory"), NULL;
	}
	error = sg_policy_parse_approval(a, text, o->len, p->files[o->file].path, o->file,
					 o->ordinal);
	free(buf);
	if (error) {
		DOUBT("%s", sg_error_last());
		free(a);
		return NULL;
	}
	return ix->approvals[id] = a;
}

static const sg_revocation *revocation_at(struct sg_policy_index *ix, const sg_policy *p,
					  uint64_t id, char *why, size_t why_size)
{
	const idx_object *o = &ix->objects[ix->h->n_approvals + id];
	const char *text;
	char *buf;
	sg_revocation *r;
	int error;

	if (ix->revoked[id])
		return ix->revoked[id];
	if (object_text(ix, p, o, &buf, &text, why, why_size))
		return NULL;
	if (!(r = malloc(sizeof(*r)))) {
		free(buf);
		return DOUBT("out of memory"), NULL;
	}
	error = sg_policy_parse_revocation(r, text, o->len, p->files[o->file].path, o->ordinal);
	free(buf);
	if (error) {
		DOUBT("%s", sg_error_last());
		free(r);
		return NULL;
	}
	return ix->revoked[id] = r;
}

/*
 * The first approval whose "file" is the input's name: what a denial names
 * when no digest matches. Keys of names may collide; the text decides.
 */
static int first_of_name(struct sg_policy_index *ix, const sg_policy *p, const char *name,
			 idlist *apps, char *why, size_t why_size)
{
	idlist named = { 0 };
	int rc = lookup(ix, IDX_APPROVAL_NAME, sg_idx_name_key(name), &named)
			 ? DOUBT("out of memory")
			 : 0;

	idlist_order(&named);
	for (size_t i = 0; !rc && i < named.n; i++) {
		const sg_approval *a = approval_at(ix, p, named.v[i], why, why_size);
		if (!a)
			rc = 1;
		else if (a->file && strcmp(a->file, name) == 0) {
			rc = idlist_add(apps, named.v[i]) ? DOUBT("out of memory") : 0;
			break;
		}
	}
	free(named.v);
	return rc;
}

/* The view of every approval and revocation that can bear on `in`. */
static int gather(struct sg_policy_index *ix, const sg_policy *p, const sg_policy_input *in,
		  sg_policy_view *v, char *why, size_t why_size)
{
	idlist apps = { 0 }, revs = { 0 };
	const sg_approval **ap = NULL;
	const sg_revocation **rp = NULL;
	int rc = 0;

	if (lookup_digest(ix, IDX_APPROVAL_SHA256, in->sha256_hex, 32, &apps) ||
	    lookup_digest(ix, IDX_APPROVAL_SHA512, in->sha512_hex, 64, &apps) ||
	    lookup_digest(ix, IDX_REVOKED_SHA256, in->sha256_hex, 32, &revs) ||
	    lookup_digest(ix, IDX_REVOKED_SHA512, in->sha512_hex, 64, &revs))
		rc = DOUBT("out of memory");
	if (!rc && in->name)
		rc = first_of_name(ix, p, in->name, &apps, why, why_size);
	idlist_order(&apps);
	idlist_order(&revs);
	ap = rc ? NULL : calloc(apps.n + 1, sizeof(*ap));
	rp = rc ? NULL : calloc(revs.n + 1, sizeof(*rp));
	if (!rc && (!ap || !rp))
		rc = DOUBT("out of memory");
	for (size_t i = 0; !rc && i < apps.n; i++)
		rc = !(ap[i] = approval_at(ix, p, apps.v[i], why, why_size));
	for (size_t i = 0; !rc && i < revs.n; i++)
		rc = !(rp[i] = revocation_at(ix, p, revs.v[i], why, why_size));
	v->approval_ptrs = ap;
	v->n_approvals = apps.n;
	v->revoked_ptrs = rp;
	v->n_revoked = revs.n;
	free(apps.v);
	free(revs.v);
	return rc;
}

static void index_decide(sg_decision *out, const sg_policy *p, const sg_policy_input *in,
			 time_t now)
{
	struct sg_policy_index *ix = p->index;
	sg_policy_view v = { 0 };
	char why[SG_ERROR_MAX] = "";
	int rc;

	pthread_mutex_lock(&ix->mu);
	rc = gather(ix, p, in, &v, why, sizeof(why));
	if (rc == 0)
		sg_policy_decide_view(out, p, &v, in, now);
	pthread_mutex_unlock(&ix->mu);
	if (rc != 0) {
		/* Never approve from a policy in doubt. */
		memset(out, 0, sizeof(*out));
		out->n_reasons = 1;
		/* A reason longer than its slot is cut, as every reason is. */
		if (snprintf(out->reasons[0], sizeof(out->reasons[0]),
			     "%s: the policy changed while signgate ran (%s): nothing is approved "
			     "from it; run again",
			     in->name ? in->name : "input", why) >= (int)sizeof(out->reasons[0]))
			out->reasons[0][sizeof(out->reasons[0]) - 2] = '.';
	}
	free((void *)v.approval_ptrs);
	free((void *)v.revoked_ptrs);
}

/*
 * Writing a policy's index (see lib/policy_index_format.h): a full load,
 * then where each approval and revocation lies in its file, checked by
 * parsing every object again from that place and comparing it with what the
 * full load made of it. An index that would not give the same objects is
 * never written.
 */
#include "policy_index_format.h"
#include "policy_internal.h"
#include "signgate/error.h"
#include "signgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* Where one object of a list lies in its file. */
typedef struct span {
	size_t off, len;
} span;

typedef struct cursor {
	const char *s;
	size_t len, pos;
} cursor;

static void skip_ws(cursor *c)
{
	while (c->pos < c->len && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' ||
				   c->s[c->pos] == '\n' || c->s[c->pos] == '\r'))
		c->pos++;
}

static int skip_string(cursor *c)
{
	for (c->pos++; c->pos < c->len; c->pos++) {
		if (c->s[c->pos] == '\\')
			c->pos++;
		else if (c->s[c->pos] == '"')
			return c->pos++, 0;
	}
	return -1;
}

/* Skip one JSON value; the text is known to be valid JSON (jansson read it). */
static int skip_value(cursor *c)
{
	int depth = 0;

	skip_ws(c);
	if (c->pos >= c->len)
		return -1;
	if (c->s[c->pos] == '"')
		return skip_string(c);
	if (c->s[c->pos] != '{' && c->s[c->pos] != '[') {
		while (c->pos < c->len && !strchr(",]} \t\r\n", c->s[c->pos]))
			c->pos++;
		return 0;
	}
	do {
		char ch = c->s[c->pos];
		if (ch == '"') {
			if (skip_string(c) != 0)
				return -1;
			continue;
		}
		depth += (ch == '{' || ch == '[') - (ch == '}' || ch == ']');
		c->pos++;
	} while (depth > 0 && c->pos < c->len);
	return depth == 0 ? 0 : -1;
}

/* The top-level key at c->pos, decoded ("approvals" may be written with escapes). */
static char *read_key(cursor *c)
{
	size_t start = c->pos;
	json_t *k;
	char *out;

	if (c->s[c->pos] != '"' || skip_string(c) != 0)
		return NULL;
	if (!memchr(c->s + start, '\\', c->pos - start))
		return strndup(c->s + start + 1, c->pos - start - 2);
	k = json_loadb(c->s + start, c->pos - start, JSON_DECODE_ANY, NULL);
	out = json_is_string(k) ? strdup(json_string_value(k)) : NULL;
	json_decref(k);
	return out;
}

static int scan_list(cursor *c, span **out, size_t *n)
{
	size_t cap = 0;

	c->pos++; /* '[' */
	skip_ws(c);
	if (c->pos < c->len && c->s[c->pos] == ']')
		return c->pos++, 0;
	for (;;) {
		span sp;
		skip_ws(c);
		sp.off = c->pos;
		if (skip_value(c) != 0)
			return -1;
		sp.len = c->pos - sp.off;
		if (*n == cap) {
			span *grown = realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof(*grown));
			if (!grown)
				return -1;
			*out = grown;
		}
		(*out)[(*n)++] = sp;
		skip_ws(c);
		if (c->pos < c->len && c->s[c->pos] == ',')
			c->pos++;
		else if (c->pos < c->len && c->s[c->pos] == ']')
			return c->pos++, 0;
		else
			return -1;
	}
}

/* Find the text of each element of the top-level "approvals" and "revoked" lists. */
static int scan_file(const unsigned char *bytes, size_t len, span **apps, size_t *n_apps,
		     span **revs, size_t *n_revs)
{
	cursor c = { (const char *)bytes, len, 0 };

	skip_ws(&c);
	if (c.pos >= len || c.s[c.pos++] != '{')
		return -1;
	skip_ws(&c);
	if (c.pos < len && c.s[c.pos] == '}')
		return 0;
	for (;;) {
		char *key;
		int rc;

		skip_ws(&c);
		if (c.pos >= len || !(key = read_key(&c)))
			return -1;
		skip_ws(&c);
		rc = c.pos < len && c.s[c.pos] == ':' ? 0 : -1;
		c.pos++;
		skip_ws(&c);
		if (rc == 0 && c.pos < len && c.s[c.pos] == '[' && strcmp(key, "approvals") == 0)
			rc = scan_list(&c, apps, n_apps);
		else if (rc == 0 && c.pos < len && c.s[c.pos] == '[' && strcmp(key, "revoked") == 0)
			rc = scan_list(&c, revs, n_revs);
		else if (rc == 0)
			rc = skip_value(&c);
		free(key);
		if (rc != 0)
			return -1;
		skip_ws(&c);
		if (c.pos < len && c.s[c.pos] == ',')
			c.pos++;
		else
			return c.pos < len && c.s[c.pos] == '}' ? 0 : -1;
	}
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same_approval(const sg_approval *a, const sg_approval *b)
{
	const char *x[] = { a->id,          a->product,       a->vendor,          a->version,
			    a->file,        a->sha256,        a->sha512,          a->source,
			    a->approved_by, a->ticket,        a->approved_at,     a->expires,
			    a->description, a->url,           a->accept_unsigned, a->provenance,
			    a->origin,      a->not_in_catalog };
	const char *y[] = { b->id,          b->product,       b->vendor,          b->version,
			    b->file,        b->sha256,        b->sha512,          b->source,
			    b->approved_by, b->ticket,        b->approved_at,     b->expires,
			    b->description, b->url,           b->accept_unsigned, b->provenance,
			    b->origin,      b->not_in_catalog };

	for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++)
		if (!same_str(x[i], y[i]))
			return 0;
	return a->existing == b->existing && a->file_index == b->file_index;
}

static int same_revocation(const sg_revocation *a, const sg_revocation *b)
{
	return same_str(a->sha256, b->sha256) && same_str(a->sha512, b->sha512) &&
	       same_str(a->reason, b->reason) && same_str(a->origin, b->origin);
}

typedef struct builder {
	idx_header h;
	idx_file *files;
	idx_object *objects; /* approvals, then revocations */
	idx_key *keys[IDX_TABLES];
	unsigned char *blocks; /* n_blocks SHA-256 */
	char *names;
	size_t names_cap;
} builder;

static void builder_free(builder *b)
{
	free(b->files);
	free(b->objects);
	for (int t = 0; t < IDX_TABLES; t++)
		free(b->keys[t]);
	free(b->blocks);
	free(b->names);
}

static int add_name(builder *b, idx_file *f, const char *name)
{
	size_t len = strlen(name) + 1;

	if (b->h.names_size + len > b->names_cap) {
		size_t cap = 2 * (b->names_cap + len);
		char *grown = realloc(b->names, cap);
		if (!grown)
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		b->names = grown;
		b->names_cap = cap;
	}
	f->name_off = b->h.names_size;
	memcpy(b->names + b->h.names_size, name, len);
	b->h.names_size += len;
	return SG_OK;
}

static int check_object(const sg_policy_file *f, const span *sp, size_t i, size_t ordinal,
			const sg_approval *a, const sg_revocation *r)
{
	const char *text = (const char *)f->bytes + sp->off;
	int error, same;

	if (a) {
		sg_approval got;
		error = sg_policy_parse_approval(&got, text, sp->len, f->path, i, ordinal);
		same = !error && same_approval(&got, a);
		sg_policy_approval_clear(&got);
	} else {
		sg_revocation got;
		error = sg_policy_parse_revocation(&got, text, sp->len, f->path, ordinal);
		same = !error && same_revocation(&got, r);
		sg_policy_revocation_clear(&got);
	}
	if (error == SG_ERR_NOMEM)
		return error;
	return same ? SG_OK
		    : sg_error_set(SG_ERR_CONFIG,
				   "%s: %s #%zu: read again on its own, it does not give what the "
				   "policy gave: no index is written",
				   f->path, a ? "approval" : "revocation", ordinal + 1);
}

/* The objects of file `i`, found in its text and checked against the full load. */
static int add_objects(builder *b, const sg_policy *p, size_t i, size_t *next_a, size_t *next_r)
{
	const sg_policy_file *f = &p->files[i];
	span *apps = NULL, *revs = NULL;
	size_t na = 0, nr = 0;
	int error = SG_OK;

	if (scan_file(f->bytes, f->len, &apps, &na, &revs, &nr) != 0)
		error = sg_error_set(SG_ERR_CONFIG, "%s: cannot find its lists for the index",
				     f->path);
	else if (*next_a + na > p->n_approvals || *next_r + nr > p->n_revoked)
		error = sg_error_set(SG_ERR_CONFIG, "%s: more objects than the policy has",
				     f->path);
	for (size_t k = 0; !error && k < na; k++) {
		const sg_approval *a = &p->approvals[*next_a + k];
		idx_object o = { i, apps[k].off, apps[k].len, k };
		b->objects[*next_a + k] = o;
		error = check_object(f, &apps[k], i, k, a, NULL);
	}
	for (size_t k = 0; !error && k < nr; k++) {
		idx_object o = { i, revs[k].off, revs[k].len, k };
		b->objects[p->n_approvals + *next_r + k] = o;
		error = check_object(f, &revs[k], i, k, NULL, &p->revoked[*next_r + k]);
	}
	*next_a += na;
	*next_r += nr;
	free(apps);
	free(revs);
	return error;
}

static unsigned hex_value(char c)
{
	return c >= 'a' ? (unsigned)(c - 'a' + 10) : (unsigned)(c - '0');
}

static int add_file(builder *b, const sg_policy *p, size_t i)
{
	const sg_policy_file *f = &p->files[i];
	idx_file *rec = &b->files[i];
	const char *name = sg_path_base(f->path);
	/* The stat of the file the bytes came from, taken after reading them. */
	const struct stat st = f->st;
	int error;

	rec->dev = st.st_dev;
	rec->ino = st.st_ino;
	rec->size = (uint64_t)st.st_size;
	rec->mtime_ns = IDX_NS(st.st_mtim);
	rec->ctime_ns = IDX_NS(st.st_ctim);
	if (rec->size != f->len)
		return sg_error_set(SG_ERR_IO, "%s: changed while the index was made", f->path);
	if (rec->mtime_ns >= b->h.built_ns - IDX_RACY_NS ||
	    rec->ctime_ns >= b->h.built_ns - IDX_RACY_NS)
		rec->flags |= IDX_FILE_RACY;
	for (size_t k = 0; k < p->n_products; k++)
		if (strcmp(p->products[k].origin, f->path) == 0)
			rec->flags |= IDX_FILE_PRODUCTS;
	for (int k = 0; k < 32; k++)
		rec->sha256[k] = (unsigned char)(hex_value(f->sha256[2 * k]) << 4 |
						 hex_value(f->sha256[2 * k + 1]));
	rec->block_first = b->h.n_blocks;
	for (uint64_t k = 0; k < IDX_BLOCKS(rec->size); k++) {
		size_t off = k * IDX_BLOCK, n = f->len - off < IDX_BLOCK ? f->len - off : IDX_BLOCK;
		if (!EVP_Digest(f->bytes + off, n, b->blocks + 32 * b->h.n_blocks++, NULL,
				EVP_sha256(), NULL))
			return sg_error_set(SG_ERR_CRYPTO, "SHA-256 failed");
	}
	error = add_name(b, rec, name);
	return error;
}

static int cmp_key(const void *x, const void *y)
{
	const idx_key *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->object < b->object ? -1 : a->object > b->object;
}

static void add_key(builder *b, int table, uint64_t key, size_t object)
{
	idx_key k = { key, object };

	b->keys[table][b->h.n_keys[table]++] = k;
}

static int build_keys(builder *b, const sg_policy *p)
{
	uint64_t key;

	for (int t = 0; t < IDX_TABLES; t++) {
		size_t n = t <= IDX_APPROVAL_NAME ? p->n_approvals : p->n_revoked;
		if (!(b->keys[t] = malloc((n ? n : 1) * sizeof(idx_key))))
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < p->n_approvals; i++) {
		const sg_approval *a = &p->approvals[i];
		if (a->sha256 && sg_idx_digest_key(&key, a->sha256, 32))
			add_key(b, IDX_APPROVAL_SHA256, key, i);
		if (a->sha512 && sg_idx_digest_key(&key, a->sha512, 64))
			add_key(b, IDX_APPROVAL_SHA512, key, i);
		if (a->file)
			add_key(b, IDX_APPROVAL_NAME, sg_idx_name_key(a->file), i);
	}
	for (size_t i = 0; i < p->n_revoked; i++) {
		const sg_revocation *r = &p->revoked[i];
		if (r->sha256 && sg_idx_digest_key(&key, r->sha256, 32))
			add_key(b, IDX_REVOKED_SHA256, key, i);
		if (r->sha512 && sg_idx_digest_key(&key, r->sha512, 64))
			add_key(b, IDX_REVOKED_SHA512, key, i);
	}
	for (int t = 0; t < IDX_TABLES; t++)
		qsort(b->keys[t], b->h.n_keys[t], sizeof(idx_key), cmp_key);
	return SG_OK;
}

static int build(builder *b, const sg_policy *p, int folder)
{
	size_t next_a = 0, next_r = 0, blocks = 0;
	int error = SG_OK;

	memcpy(b->h.magic, IDX_MAGIC, sizeof(b->h.magic));
	b->h.byte_order = IDX_BYTE_ORDER;
	b->h.format = IDX_FORMAT;
	b->h.rules = SG_POLICY_RULES_VERSION;
	b->h.flags |= (folder ? IDX_F_FOLDER : 0) | (p->require_cosign ? IDX_F_REQUIRE_COSIGN : 0) |
		      (p->uses_sha512 ? IDX_F_USES_SHA512 : 0);
	b->h.n_files = p->n_files;
	b->h.n_approvals = p->n_approvals;
	b->h.n_revoked = p->n_revoked;
	for (size_t i = 0; i < p->n_files; i++)
		blocks += IDX_BLOCKS(p->files[i].len);
	b->blocks = malloc(32 * (blocks + 1));
	b->files = calloc(p->n_files ? p->n_files : 1, sizeof(*b->files));
	b->objects = calloc(p->n_approvals + p->n_revoked + 1, sizeof(*b->objects));
	if (!b->files || !b->objects || !b->blocks)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < p->n_files && !error; i++)
		if (!(error = add_file(b, p, i)))
			error = add_objects(b, p, i, &next_a, &next_r);
	if (!error && (next_a != p->n_approvals || next_r != p->n_revoked))
		error = sg_error_set(SG_ERR_CONFIG,
				     "the policy's lists were not all found for the index");
	if (!error)
		error = build_keys(b, p);
	/* Pad the names so that the digest after them stays aligned. */
	while (!error && b->h.names_size % 8)
		error = add_name(b, &(idx_file){ 0 }, "");
	return error;
}

/* The index as bytes, its SHA-256 last. */
static int serialize(unsigned char **out, size_t *len, const builder *b)
{
	size_t n_objects = b->h.n_approvals + b->h.n_revoked, size, at = 0;
	unsigned char *buf;

	size = sizeof(b->h) + b->h.n_files * sizeof(idx_file) + n_objects * sizeof(idx_object) +
	       b->h.n_blocks * 32 + b->h.names_size + 32;
	for (int t = 0; t < IDX_TABLES; t++)
		size += b->h.n_keys[t] * sizeof(idx_key);
	if (!(buf = malloc(size)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
#define PUT(src, n) (memcpy(buf + at, (src), (n)), at += (n))
	PUT(&b->h, sizeof(b->h));
	PUT(b->files, b->h.n_files * sizeof(idx_file));
	PUT(b->objects, n_objects * sizeof(idx_object));
	for (int t = 0; t < IDX_TABLES; t++)
		PUT(b->keys[t], b->h.n_keys[t] * sizeof(idx_key));
	PUT(b->blocks, b->h.n_blocks * 32);
	PUT(b->names, b->h.names_size);
#undef PUT
	if (!EVP_Digest(buf, at, buf + at, NULL, EVP_sha256(), NULL)) {
		free(buf);
		return sg_error_set(SG_ERR_CRYPTO, "SHA-256 failed");
	}
	*out = buf;
	*len = size;
	return SG_OK;
}

/* No finding of sg_policy_lint() may be an error: signing refuses such a policy. */
static int check_lint(const sg_policy *p)
{
	size_t n = sg_policy_lint(p, time(NULL), 0, NULL, 0);
	sg_policy_finding *f = n ? calloc(n, sizeof(*f)) : NULL;
	int error = SG_OK;

	if (n && !f)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	n = sg_policy_lint(p, time(NULL), 0, f, n);
	for (size_t i = 0; i < n && !error; i++)
		if (f[i].error)
			error = sg_error_set(SG_ERR_CONFIG, "%s: %s", f[i].file, f[i].message);
	free(f);
	return error;
}

/*
 * Where the index is written: every step goes through one descriptor of
 * the folder that holds it, never through its path again, so that whoever
 * owns the policy folder cannot swap a component for a link meanwhile and
 * send the writes (root's, say) elsewhere.
 */
typedef struct target {
	int dfd;        /* the folder that holds the index */
	char *leaf;     /* the index's name in it */
	char tmp[320];  /* the temporary file's name in it */
	char *shown;    /* the temporary file's path, for messages */
} target;

/* The index's bytes onto `fd` (closed here), published atomically in t->dfd. */
static int commit(int fd, target *t, const builder *b, mode_t mode)
{
	unsigned char *bytes = NULL;
	size_t len = 0;
	int error = serialize(&bytes, &len, b);

	if (error) {
		close(fd);
		unlinkat(t->dfd, t->tmp, 0);
	} else {
		error = sg_publish_at(t->dfd, fd, t->tmp, t->leaf, bytes, len, mode, t->shown);
	}
	free(bytes);
	return error;
}

/*
 * Open the folder that will hold the index: for a policy folder its
 * .signgate subfolder (made with the folder's mode and owner when missing,
 * and never a link), for a one-file policy the file's own folder.
 */
static int open_target(target *t, const char *path, const char *index, const struct stat *policy)
{
	char *dir = sg_path_dir(S_ISDIR(policy->st_mode) ? index : path);
	const char *base = sg_path_base(index);
	struct stat st;
	int pfd = -1, error = SG_OK;

	t->dfd = -1;
	if (!dir || !(t->leaf = strdup(base))) {
		free(dir);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	if (!S_ISDIR(policy->st_mode)) {
		t->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (t->dfd < 0)
			error = sg_error_set(SG_ERR_IO, "%s: %s", dir, strerror(errno));
		free(dir);
		return error;
	}
	pfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		error = sg_error_set(SG_ERR_IO, "%s: %s", path, strerror(errno));
	if (!error && mkdirat(pfd, IDX_SUBDIR, policy->st_mode & 0777) != 0 && errno != EEXIST)
		error = sg_error_set(SG_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
	if (!error && (t->dfd = openat(pfd, IDX_SUBDIR,
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		error = sg_error_set(SG_ERR_IO, "%s: not a folder", dir);
	/* The policy's owner and group, where we may (root indexing someone's policy). */
	if (!error && fstat(t->dfd, &st) == 0 &&
	    (st.st_uid != policy->st_uid || st.st_gid != policy->st_gid) &&
	    fchown(t->dfd, policy->st_uid, policy->st_gid) != 0 && errno != EPERM)
		error = sg_error_set(SG_ERR_IO, "%s: %s", dir, strerror(errno));
	if (pfd >= 0)
		close(pfd);
	free(dir);
	return error;
}

/* A new temporary file beside the index, under a random name, in t->dfd. */
static int create_tmp(target *t, const char *index)
{
	for (int tries = 0; tries < 16; tries++) {
		unsigned char r[6];
		int fd;

		if (RAND_bytes(r, sizeof(r)) != 1)
			return sg_error_set(SG_ERR_CRYPTO, "no random bytes for a temporary name");
		snprintf(t->tmp, sizeof(t->tmp), "%.250s.%02x%02x%02x%02x%02x%02x", t->leaf, r[0],
			 r[1], r[2], r[3], r[4], r[5]);
		free(t->shown);
		if (asprintf(&t->shown, "%s.%s", index, t->tmp + strlen(t->leaf) + 1) < 0) {
			t->shown = NULL;
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		}
		fd = openat(t->dfd, t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			break;
	}
	return sg_error_set(SG_ERR_IO, "%s: cannot create: %s", index, strerror(errno));
}

static void sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * The build's start on the file system's own clock (the temporary index's
 * mtime, set to now), read before any policy file is listed or read; for a
 * folder, also its stat, after waiting (at most 3 s) until the clock has
 * left the folder's last change behind: a policy just approved would
 * otherwise leave the folder racy, and every signing would list it.
 */
static int start_build(builder *b, int fd, const char *path, const char *tmp, int folder)
{
	struct stat st;

	for (int tries = 0;; tries++) {
		if (futimens(fd, NULL) != 0 || fstat(fd, &st) != 0)
			return sg_error_set(SG_ERR_IO, "%s: %s", tmp, strerror(errno));
		b->h.built_ns = IDX_NS(st.st_mtim);
		if (!folder)
			return SG_OK;
		if (stat(path, &st) != 0)
			return sg_error_set(SG_ERR_IO, "%s: %s", path, strerror(errno));
		if ((IDX_NS(st.st_mtim) < b->h.built_ns - IDX_RACY_NS &&
		     IDX_NS(st.st_ctim) < b->h.built_ns - IDX_RACY_NS) ||
		    tries == 300)
			break;
		sleep_ms(10);
	}
	b->h.dir_dev = st.st_dev;
	b->h.dir_ino = st.st_ino;
	b->h.dir_mtime_ns = IDX_NS(st.st_mtim);
	b->h.dir_ctime_ns = IDX_NS(st.st_ctim);
	if (b->h.dir_mtime_ns >= b->h.built_ns - IDX_RACY_NS ||
	    b->h.dir_ctime_ns >= b->h.built_ns - IDX_RACY_NS)
		b->h.flags |= IDX_F_FOLDER_RACY;
	return SG_OK;
}

/* The temporary index and the build's start, before the policy is read. */
static int prepare(builder *b, int *fd, target *t, const char *index, const char *path,
		   const struct stat *st)
{
	int error = open_target(t, path, index, st);

	if (!error && (*fd = create_tmp(t, index)) < 0)
		error = *fd;
	if (!error)
		error = start_build(b, *fd, path, t->shown, S_ISDIR(st->st_mode));
	return error;
}

int sg_policy_index_write(const char *path, int *loaded)
{
	char *index = sg_policy_index_path(path);
	target t = { .dfd = -1 };
	builder b = { 0 };
	sg_policy *p = NULL;
	struct stat st;
	int fd = -1, error, prepared;

	*loaded = 0;
	if (stat(path, &st) != 0)
		return sg_error_set(SG_ERR_CONFIG, "%s: cannot read the policy: %s", path,
				    strerror(errno));
	prepared = !index ? sg_error_set(SG_ERR_NOMEM, "out of memory")
			  : prepare(&b, &fd, &t, index, path, &st);
	/* The policy is loaded even when no index can be written: the caller must know. */
	if ((error = sg_policy_load(&p, path)) == SG_OK) {
		*loaded = 1;
		if (prepared)
			error = prepared;
		else if (!(error = check_lint(p)) && !(error = build(&b, p, S_ISDIR(st.st_mode))) &&
			 fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM)
			/* The policy's owner, where we may (root indexing someone's policy). */
			error = sg_error_set(SG_ERR_IO, "%s: %s", t.shown, strerror(errno));
		if (!error) {
			error = commit(fd, &t, &b, st.st_mode & 0666);
			fd = -1;
		}
	}
	if (fd >= 0) {
		close(fd);
		unlinkat(t.dfd, t.tmp, 0);
	}
	if (t.dfd >= 0)
		close(t.dfd);
	free(t.leaf);
	free(t.shown);
	builder_free(&b);
	sg_policy_free(p);
	free(index);
	return error;
}

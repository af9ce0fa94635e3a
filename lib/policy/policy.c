/* Policy loading and decisions; see include/signgate/policy.h. */
#include "signgate/policy.h"
#include "policy_internal.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

static const char *const approval_keys[] = { "id",
					     "product",
					     "vendor",
					     "version",
					     "file",
					     "sha256",
					     "sha512",
					     "source",
					     "approved_by",
					     "ticket",
					     "approved_at",
					     "expires",
					     "existing_signature",
					     "description",
					     "url",
					     "accept_unsigned",
					     "not_in_catalog",
					     "provenance",
					     "comment",
					     NULL };
static const char *const revoked_keys[] = { "sha256", "sha512", "reason", "comment", NULL };
static const char *const product_keys[] = { "product", "vendor", "vendor_signs",
					    "formats", "hashes", "comment",
					    NULL };

/*
 * A bound on one policy file's size, so that a wrong path cannot make us
 * read anything huge into memory; 100,000 approvals with their provenance
 * in one file stay well below it.
 */
#define POLICY_FILE_MAX (256L * 1024 * 1024)

const char *sg_existing_rule_name(sg_existing_rule rule)
{
	switch (rule) {
	case SG_EXISTING_REPLACE: return "replace";
	case SG_EXISTING_NEST: return "nest";
	default: return "refuse";
	}
}

int sg_existing_rule_parse(sg_existing_rule *out, const char *word)
{
	static const sg_existing_rule rules[] = { SG_EXISTING_REFUSE, SG_EXISTING_REPLACE,
						  SG_EXISTING_NEST };

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!word || strcmp(word, sg_existing_rule_name(rules[i])) == 0) {
			*out = word ? rules[i] : SG_EXISTING_REFUSE;
			return SG_OK;
		}
	return sg_error_set(SG_ERR_USAGE,
			    "\"%s\" is not an existing-signature rule: refuse, replace or nest",
			    word);
}

static int key_allowed(const char *key, const char *const allowed[])
{
	for (size_t i = 0; allowed[i]; i++)
		if (strcmp(key, allowed[i]) == 0)
			return 1;
	return 0;
}

static int valid_id(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 128 || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

static int valid_date(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, n = 0;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
		return 0;
	if (strspn(s, "0123456789") != 4 || strspn(s + 5, "0123456789") != 2 ||
	    strspn(s + 8, "0123456789") != 2) /* sscanf() would take "+1" and " 1" */
		return 0;
	if (s[4] != '-' || s[7] != '-' || y < 2000 || m < 1 || m > 12 || d < 1)
		return 0;
	if (m == 2 && d == 29)
		return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1];
}

/* Where a field error is reported: "policy.json: approval #2 (7zip-24.08)". */
typedef struct where {
	const char *file;
	const char *kind;
	size_t index;
	const char *id;
} where;

__attribute__((format(printf, 3, 4)))
static int field_error(const where *w, const char *field, const char *fmt, ...)
{
	char msg[SG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sg_error_set(SG_ERR_CONFIG, "%s: %s #%zu%s%s%s: \"%s\" %s", w->file, w->kind,
			    w->index + 1, w->id ? " (" : "", w->id ? w->id : "", w->id ? ")" : "",
			    field, msg);
}

static int get_str(char **out, const json_t *obj, const char *key, int required, const where *w)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v)
		return required ? field_error(w, key, "is required") : SG_OK;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return field_error(w, key, "must be a non-empty string");
	/* Values reach osslsigncode's argv, messages and the audit log: one clean line. */
	for (size_t i = 0; i < json_string_length(v); i++) {
		unsigned char c = (unsigned char)json_string_value(v)[i];
		if (c < 0x20 || c == 0x7f)
			return field_error(w, key, "must not contain control characters");
	}
	*out = strdup(json_string_value(v));
	return *out ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/* A reason that lifts a rule: it must say something, not only spaces. */
static int get_reason(char **out, const json_t *obj, const char *key, const where *w)
{
	int error = get_str(out, obj, key, 0, w);

	if (error || !*out || (*out)[strspn(*out, " ")] != '\0')
		return error;
	free(*out);
	*out = NULL;
	return field_error(w, key, "must say why, not be only spaces");
}

/* A product name: one clean line, and printable ASCII so that no look-alike passes. */
static int get_product(char **out, const json_t *obj, const where *w)
{
	int error = get_str(out, obj, "product", 1, w);

	if (error || sg_policy_product_valid(*out))
		return error;
	for (const unsigned char *p = (const unsigned char *)*out; *p; p++)
		if (*p > 0x7e) {
			error = field_error(w, "product",
					    "must be printable ASCII: byte 0x%02x at offset %zu "
					    "(a look-alike of another name?)",
					    *p, (size_t)(p - (const unsigned char *)*out));
			break;
		}
	if (!error)
		error = field_error(w, "product", "must not be only spaces");
	free(*out);
	*out = NULL;
	return error;
}

static int get_digest(char **out, const json_t *obj, const char *key, size_t nbytes, const where *w)
{
	int error = get_str(out, obj, key, 0, w);

	if (error || !*out)
		return error;
	if (!sg_hex_is_valid(*out, nbytes))
		return field_error(w, key, "must be %zu hex digits", 2 * nbytes);
	for (char *p = *out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return SG_OK;
}

static int check_unknown(const json_t *obj, const char *const allowed[], const where *w)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)obj, key, val) {
		if (!key_allowed(key, allowed))
			return field_error(w, key, "is not a known field");
	}
	return SG_OK;
}

static int parse_existing(sg_approval *a, const json_t *obj, const where *w)
{
	char *rule = NULL;
	int error = get_str(&rule, obj, "existing_signature", 0, w);

	a->existing = SG_EXISTING_REFUSE;
	if (error || !rule)
		return error;
	/* Said where it is in the policy file: the policy is broken (SG_ERR_CONFIG). */
	if (sg_existing_rule_parse(&a->existing, rule) != SG_OK)
		error = field_error(w, "existing_signature", "must be refuse, replace or nest");
	free(rule);
	return error;
}

/*
 * "provenance" is what `signgate policy approve` recorded: kept as canonical
 * text for the audit log. Its vendor values must include SHA-256 or SHA-512:
 * MD5 and SHA-1 alone never approve anything.
 */
static int parse_provenance(sg_approval *a, const json_t *obj, const where *w)
{
	const json_t *prov = json_object_get(obj, "provenance");
	const json_t *values = json_object_get(prov, "vendor_values"), *v;
	size_t i;
	int strong = 0;

	if (!prov)
		return SG_OK;
	if (!json_is_object(prov))
		return field_error(w, "provenance", "must be an object");
	if (values && !json_is_array(values))
		return field_error(w, "provenance.vendor_values", "must be an array");
	json_array_foreach(values, i, v) {
		const char *alg = json_string_value(json_object_get(v, "alg"));

		if (!alg)
			return field_error(w, "provenance.vendor_values",
					   "entries need an \"alg\"");
		strong |= strcmp(alg, "SHA-256") == 0 || strcmp(alg, "SHA-512") == 0;
	}
	if (values && !strong)
		return field_error(
			w, "provenance.vendor_values",
			"holds no SHA-256 or SHA-512 value (MD5 and SHA-1 never approve)");
	a->provenance = json_dumps(prov, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	return a->provenance ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

static int parse_product(sg_product *pr, const json_t *obj, where *w)
{
	const json_t *signs;
	int error;

	if (!json_is_object(obj))
		return field_error(w, "product", "must be an object");
	w->id = json_string_value(json_object_get(obj, "product"));
	signs = json_object_get(obj, "vendor_signs");
	if ((error = check_unknown(obj, product_keys, w)) ||
	    (error = get_product(&pr->product, obj, w)) ||
	    (error = get_str(&pr->vendor, obj, "vendor", 0, w)) ||
	    (error = get_str(&pr->formats, obj, "formats", 0, w)) ||
	    (error = get_str(&pr->hashes, obj, "hashes", 0, w)))
		return error;
	if (!json_is_boolean(signs))
		return field_error(w, "vendor_signs", "is required: true or false");
	pr->vendor_signs = json_is_true(signs);
	return SG_OK;
}

static int parse_approval(sg_approval *a, const json_t *obj, where *w)
{
	int error;

	if (!json_is_object(obj))
		return field_error(w, "approval", "must be an object");
	w->id = json_string_value(json_object_get(obj, "id"));
	if ((error = check_unknown(obj, approval_keys, w)) ||
	    (error = get_str(&a->id, obj, "id", 1, w)) ||
	    (error = get_product(&a->product, obj, w)) ||
	    (error = get_str(&a->vendor, obj, "vendor", 0, w)) ||
	    (error = get_str(&a->version, obj, "version", 1, w)) ||
	    (error = get_str(&a->file, obj, "file", 0, w)) ||
	    (error = get_digest(&a->sha256, obj, "sha256", SG_SHA256_LEN, w)) ||
	    (error = get_digest(&a->sha512, obj, "sha512", SG_SHA512_LEN, w)) ||
	    (error = get_str(&a->source, obj, "source", 0, w)) ||
	    (error = get_str(&a->approved_by, obj, "approved_by", 1, w)) ||
	    (error = get_str(&a->ticket, obj, "ticket", 1, w)) ||
	    (error = get_str(&a->approved_at, obj, "approved_at", 1, w)) ||
	    (error = get_str(&a->expires, obj, "expires", 0, w)) ||
	    (error = get_str(&a->description, obj, "description", 0, w)) ||
	    (error = get_str(&a->url, obj, "url", 0, w)) ||
	    (error = get_str(&a->accept_unsigned, obj, "accept_unsigned", 0, w)) ||
	    (error = get_reason(&a->not_in_catalog, obj, "not_in_catalog", w)) ||
	    (error = parse_existing(a, obj, w)) || (error = parse_provenance(a, obj, w)))
		return error;
	if (!valid_id(a->id))
		return field_error(
			w, "id",
			"must be 1-128 of A-Z a-z 0-9 . _ - starting with a letter or digit");
	if (!a->sha256 && !a->sha512)
		return field_error(w, "sha256",
				   "or \"sha512\" is required (MD5 and SHA-1 never approve)");
	if (a->file && strchr(a->file, '/'))
		return field_error(w, "file", "must be a base name without '/'");
	if (!valid_date(a->approved_at))
		return field_error(w, "approved_at", "must be a date YYYY-MM-DD");
	if (a->expires && !valid_date(a->expires))
		return field_error(w, "expires", "must be a date YYYY-MM-DD");
	return SG_OK;
}

static int parse_revocation(sg_revocation *r, const json_t *obj, where *w)
{
	int error;

	if (!json_is_object(obj))
		return field_error(w, "revoked", "must be an object");
	if ((error = check_unknown(obj, revoked_keys, w)) ||
	    (error = get_digest(&r->sha256, obj, "sha256", SG_SHA256_LEN, w)) ||
	    (error = get_digest(&r->sha512, obj, "sha512", SG_SHA512_LEN, w)) ||
	    (error = get_str(&r->reason, obj, "reason", 1, w)))
		return error;
	if (!r->sha256 && !r->sha512)
		return field_error(w, "sha256", "or \"sha512\" is required");
	return SG_OK;
}

static int grow(void **arr, size_t count, size_t add, size_t elem)
{
	void *n = realloc(*arr, (count + add) * elem);

	if (!n && count + add > 0)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	*arr = n;
	memset((char *)n + count * elem, 0, add * elem);
	return SG_OK;
}

enum list_kind { LIST_APPROVALS, LIST_REVOKED, LIST_PRODUCTS };

static int merge_list(sg_policy *p, const json_t *list, const char *file, size_t file_index,
		      enum list_kind kind)
{
	static const char *const names[] = { "approvals", "revoked", "products" };
	static const char *const kinds[] = { "approval", "revocation", "product" };
	where w = { file, kinds[kind], 0, NULL };
	size_t *count = kind == LIST_APPROVALS ? &p->n_approvals
			: kind == LIST_REVOKED ? &p->n_revoked
					       : &p->n_products;
	size_t elem = kind == LIST_APPROVALS ? sizeof(sg_approval)
		      : kind == LIST_REVOKED ? sizeof(sg_revocation)
					     : sizeof(sg_product);
	void **arr = kind == LIST_APPROVALS ? (void **)&p->approvals
		     : kind == LIST_REVOKED ? (void **)&p->revoked
					    : (void **)&p->products;
	json_t *item;
	int error;

	if (!list)
		return SG_OK;
	if (!json_is_array(list))
		return sg_error_set(SG_ERR_CONFIG, "%s: \"%s\" must be an array", file,
				    names[kind]);
	if ((error = grow(arr, *count, json_array_size(list), elem)))
		return error;
	json_array_foreach(list, w.index, item) {
		char *origin = strdup(file);
		if (!origin)
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		if (kind == LIST_APPROVALS) {
			p->approvals[*count].origin = origin;
			p->approvals[*count].file_index = file_index;
			error = parse_approval(&p->approvals[*count], item, &w);
		} else if (kind == LIST_REVOKED) {
			p->revoked[*count].origin = origin;
			error = parse_revocation(&p->revoked[*count], item, &w);
		} else {
			p->products[*count].origin = origin;
			error = parse_product(&p->products[*count], item, &w);
		}
		(*count)++;
		if (error)
			return error;
	}
	return SG_OK;
}

/* One object of a list, from its own text: what the index's loader parses. */
static json_t *load_object(const char *text, size_t len, const where *w)
{
	json_error_t jerr;
	json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!obj)
		field_error(w, w->kind, "is not valid JSON: %s", jerr.text);
	return obj;
}

int sg_policy_parse_approval(sg_approval *out, const char *text, size_t len, const char *origin,
			     size_t file_index, size_t ordinal)
{
	where w = { origin, "approval", ordinal, NULL };
	json_t *obj = load_object(text, len, &w);
	int error;

	memset(out, 0, sizeof(*out));
	if (!obj)
		return SG_ERR_CONFIG;
	out->file_index = file_index;
	out->origin = strdup(origin);
	error = out->origin ? parse_approval(out, obj, &w)
			    : sg_error_set(SG_ERR_NOMEM, "out of memory");
	json_decref(obj);
	if (error)
		sg_policy_approval_clear(out);
	return error;
}

int sg_policy_parse_revocation(sg_revocation *out, const char *text, size_t len, const char *origin,
			       size_t ordinal)
{
	where w = { origin, "revocation", ordinal, NULL };
	json_t *obj = load_object(text, len, &w);
	int error;

	memset(out, 0, sizeof(*out));
	if (!obj)
		return SG_ERR_CONFIG;
	out->origin = strdup(origin);
	error = out->origin ? parse_revocation(out, obj, &w)
			    : sg_error_set(SG_ERR_NOMEM, "out of memory");
	json_decref(obj);
	if (error)
		sg_policy_revocation_clear(out);
	return error;
}

/* Read a policy file's bytes once: what is parsed is what a co-signature covers. */
static int read_policy_file(sg_policy_file *f, const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), error;

	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", file, strerror(errno));
	/* Too big or no regular file: a broken policy (SG_ERR_CONFIG), not a rejected input. */
	error = sg_read_fd_flags(&f->bytes, &f->len, fd, file, POLICY_FILE_MAX, NULL,
				 SG_READ_CONFIG);
	if (!error && fstat(fd, &f->st) != 0)
		error = sg_error_set(SG_ERR_IO, "%s: %s", file, strerror(errno));
	close(fd);
	if (error)
		return error;
	if (!(f->path = strdup(file)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	return sg_sha256_hex(f->sha256, f->bytes, f->len);
}

static int load_file(sg_policy *p, const char *file)
{
	static const char *const top_keys[] = {
		"approvals", "revoked", "products", "require_cosign", "$schema", "comment", NULL
	};
	size_t index = p->n_files;
	json_error_t jerr;
	json_t *root, *cosign, *val;
	const char *key;
	int error = grow((void **)&p->files, p->n_files, 1, sizeof(*p->files));

	if (error)
		return error;
	p->n_files++;
	error = read_policy_file(&p->files[index], file);
	if (error)
		return error;
	root = json_loadb((const char *)p->files[index].bytes, p->files[index].len,
			  JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return sg_error_set(SG_ERR_CONFIG, "%s:%d:%d: invalid JSON: %s", file, jerr.line,
				    jerr.column, jerr.text);
	if (!json_is_object(root))
		error = sg_error_set(SG_ERR_CONFIG, "%s: a policy must be a JSON object", file);
	json_object_foreach(root, key, val) {
		if (error == SG_OK && !key_allowed(key, top_keys))
			error = sg_error_set(SG_ERR_CONFIG, "%s: unknown key \"%s\"", file, key);
	}
	cosign = json_object_get(root, "require_cosign");
	if (error == SG_OK && cosign && !json_is_boolean(cosign))
		error = sg_error_set(SG_ERR_CONFIG, "%s: \"require_cosign\" must be true or false",
				     file);
	/* One file asking for the two-person rule is enough; another cannot switch it off. */
	p->require_cosign |= json_is_true(cosign);
	if (error == SG_OK)
		error = merge_list(p, json_object_get(root, "approvals"), file, index,
				   LIST_APPROVALS);
	if (error == SG_OK)
		error = merge_list(p, json_object_get(root, "revoked"), file, index, LIST_REVOKED);
	if (error == SG_OK)
		error = merge_list(p, json_object_get(root, "products"), file, index,
				   LIST_PRODUCTS);
	json_decref(root);
	return error;
}

int sg_policy_is_json_name(const char *name)
{
	size_t len = strlen(name);

	/* A copy of the JSON Schema may sit beside the policy; nothing else is skipped. */
	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".json") == 0 &&
	       !(len > 12 && strcmp(name + len - 12, ".schema.json") == 0);
}

static int is_json_name(const struct dirent *ent)
{
	return sg_policy_is_json_name(ent->d_name);
}

static int load_dir(sg_policy *p, const char *dir, int allow_empty)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, is_json_name, alphasort), error = SG_OK;

	if (n < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot read the policy folder: %s", dir,
				    strerror(errno));
	for (int i = 0; i < n; i++) {
		char *file = error ? NULL : sg_path_join(dir, names[i]->d_name);
		if (!error)
			error = file ? load_file(p, file)
				     : sg_error_set(SG_ERR_NOMEM, "out of memory");
		free(file);
		free(names[i]);
	}
	free(names);
	if (error == SG_OK && n == 0 && !allow_empty)
		error = sg_error_set(SG_ERR_CONFIG, "%s: the policy folder holds no *.json file",
				     dir);
	return error;
}

static int cmp_approval_id(const void *a, const void *b)
{
	const sg_approval *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

/* Sort pointers by id so that a large policy is checked in O(n log n). */
static int check_duplicates(const sg_policy *p)
{
	const sg_approval **sorted;
	int error = SG_OK;

	if (p->n_approvals < 2)
		return SG_OK;
	sorted = malloc(p->n_approvals * sizeof(*sorted));
	if (!sorted)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < p->n_approvals; i++)
		sorted[i] = &p->approvals[i];
	qsort(sorted, p->n_approvals, sizeof(*sorted), cmp_approval_id);
	for (size_t i = 1; i < p->n_approvals && error == SG_OK; i++)
		if (strcmp(sorted[i - 1]->id, sorted[i]->id) == 0)
			error = sg_error_set(
				SG_ERR_CONFIG, "%s: approval id \"%s\" is used twice (also in %s)",
				sorted[i]->origin, sorted[i]->id, sorted[i - 1]->origin);
	free(sorted);
	return error;
}

/*
 * Do two approvals of one digest say the same thing about the file? A file
 * name given by one only narrows it; two different names contradict.
 */
static int agree(const sg_approval *a, const sg_approval *b)
{
	return sg_policy_product_same(a->product, b->product) &&
	       strcmp(a->version, b->version) == 0 &&
	       (!a->file || !b->file || strcmp(a->file, b->file) == 0) &&
	       a->existing == b->existing;
}

static const char *sort_digest_of(const sg_approval *a, int sha512)
{
	return sha512 ? a->sha512 : a->sha256;
}

static int sort_sha512;

static int cmp_digest(const void *x, const void *y)
{
	const char *a = sort_digest_of(*(const sg_approval *const *)x, sort_sha512);
	const char *b = sort_digest_of(*(const sg_approval *const *)y, sort_sha512);

	return strcmp(a, b);
}

/*
 * Approvals of one digest may repeat (a renewal under a new ticket), but
 * they must not disagree on what the file is: which one would win would then
 * depend on the order of files in the folder.
 */
static int check_disagreements(const sg_policy *p)
{
	const sg_approval **v = malloc((p->n_approvals + 1) * sizeof(*v));
	int error = SG_OK;

	if (!v)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	for (sort_sha512 = 0; sort_sha512 <= 1 && !error; sort_sha512++) {
		size_t n = 0;

		for (size_t i = 0; i < p->n_approvals; i++)
			if (sort_digest_of(&p->approvals[i], sort_sha512))
				v[n++] = &p->approvals[i];
		qsort(v, n, sizeof(*v), cmp_digest);
		for (size_t i = 1; i < n && !error; i++)
			if (strcmp(sort_digest_of(v[i - 1], sort_sha512),
				   sort_digest_of(v[i], sort_sha512)) == 0 &&
			    !agree(v[i - 1], v[i]))
				error = sg_error_set(
					SG_ERR_CONFIG,
					"%s: approval %s and approval %s (%s) are for the same %s "
					"but disagree on product, version, file or "
					"existing_signature",
					v[i]->origin, v[i]->id, v[i - 1]->id, v[i - 1]->origin,
					sort_sha512 ? "SHA-512" : "SHA-256");
	}
	free(v);
	return error;
}

static int check_products(const sg_policy *p)
{
	for (size_t i = 0; i < p->n_products; i++)
		for (size_t j = 0; j < i; j++)
			if (sg_policy_product_same(p->products[i].product, p->products[j].product))
				return sg_error_set(SG_ERR_CONFIG,
						    "%s: product \"%s\" is listed twice in the "
						    "catalog (also in %s)",
						    p->products[i].origin, p->products[i].product,
						    p->products[j].origin);
	return SG_OK;
}

int sg_policy_product_valid(const char *name)
{
	int blank = 1;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p > 0x7e)
			return 0;
		blank &= *p == ' ';
	}
	return !blank;
}

/* The next character of a product name as compared: spaces trimmed, runs made one. */
static int fold_next(const char **s, int *started)
{
	int space = 0;

	while (**s == ' ') {
		(*s)++;
		space = 1;
	}
	if (**s == '\0')
		return 0;
	if (space && *started)
		return ' '; /* the character after the run comes on the next call */
	*started = 1;
	return tolower((unsigned char)*(*s)++);
}

int sg_policy_product_same(const char *a, const char *b)
{
	int sa = 0, sb = 0, ca, cb;

	if (!a || !b)
		return 0;
	do {
		ca = fold_next(&a, &sa);
		cb = fold_next(&b, &sb);
	} while (ca == cb && ca != 0);
	return ca == cb;
}

const sg_product *sg_policy_product(const sg_policy *p, const char *product)
{
	for (size_t i = 0; product && i < p->n_products; i++)
		if (sg_policy_product_same(p->products[i].product, product))
			return &p->products[i];
	return NULL;
}

static int load_policy(sg_policy **out, const char *path, int allow_empty)
{
	struct stat st;
	sg_policy *p = calloc(1, sizeof(*p));
	int error;

	*out = NULL;
	if (!p)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (stat(path, &st) != 0)
		error = sg_error_set(SG_ERR_CONFIG, "%s: cannot read the policy: %s", path,
				     strerror(errno));
	else if (S_ISDIR(st.st_mode))
		error = load_dir(p, path, allow_empty);
	else if (!S_ISREG(st.st_mode))
		error = sg_error_set(SG_ERR_CONFIG,
				     "%s: the policy must be a folder or a regular file", path);
	else
		error = load_file(p, path);
	if (error == SG_OK)
		error = check_duplicates(p);
	if (error == SG_OK)
		error = check_disagreements(p);
	if (error == SG_OK)
		error = check_products(p);
	for (size_t i = 0; i < p->n_approvals; i++)
		p->uses_sha512 |= p->approvals[i].sha512 != NULL;
	for (size_t i = 0; i < p->n_revoked; i++)
		p->uses_sha512 |= p->revoked[i].sha512 != NULL;
	if (error != SG_OK) {
		sg_policy_free(p);
		return error;
	}
	*out = p;
	return SG_OK;
}

int sg_policy_load(sg_policy **out, const char *path)
{
	return load_policy(out, path, 0);
}

int sg_policy_load_for_approve(sg_policy **out, const char *path)
{
	return load_policy(out, path, 1);
}

int sg_policy_load_one(sg_policy **out, const char *file)
{
	sg_policy *p = calloc(1, sizeof(*p));
	int error;

	*out = NULL;
	if (!p)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = load_file(p, file);
	if (error) {
		sg_policy_free(p);
		return error;
	}
	*out = p;
	return SG_OK;
}

void sg_policy_approval_clear(sg_approval *a)
{
	char *fields[] = { a->id,          a->product,       a->vendor,      a->version,
			   a->file,        a->sha256,        a->sha512,      a->source,
			   a->approved_by, a->ticket,        a->approved_at, a->expires,
			   a->description, a->url,           a->origin,      a->accept_unsigned,
			   a->provenance,  a->not_in_catalog };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		free(fields[i]);
	memset(a, 0, sizeof(*a));
}

void sg_policy_revocation_clear(sg_revocation *r)
{
	free(r->sha256);
	free(r->sha512);
	free(r->reason);
	free(r->origin);
	memset(r, 0, sizeof(*r));
}

void sg_policy_free(sg_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_approvals; i++)
		sg_policy_approval_clear(&p->approvals[i]);
	for (size_t i = 0; i < p->n_revoked; i++)
		sg_policy_revocation_clear(&p->revoked[i]);
	for (size_t i = 0; i < p->n_products; i++) {
		free(p->products[i].product);
		free(p->products[i].vendor);
		free(p->products[i].formats);
		free(p->products[i].hashes);
		free(p->products[i].origin);
	}
	for (size_t i = 0; i < p->n_files; i++) {
		free(p->files[i].path);
		free(p->files[i].bytes);
	}
	if (p->index)
		sg_policy_index_hooks_of(p->index)->free(p->index);
	free(p->approvals);
	free(p->revoked);
	free(p->products);
	free(p->files);
	free(p);
}

static void finding(sg_policy_finding *out, size_t max, size_t *n, int error, const sg_approval *a,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void finding(sg_policy_finding *out, size_t max, size_t *n, int error, const sg_approval *a,
		    const char *fmt, ...)
{
	va_list ap;

	if (*n < max) {
		out[*n].error = error;
		out[*n].file = a->origin;
		out[*n].id = a->id;
		va_start(ap, fmt);
		vsnprintf(out[*n].message, sizeof(out[*n].message), fmt, ap);
		va_end(ap);
	}
	(*n)++;
}

/* The date `days` after `now`, as YYYY-MM-DD. */
static void date_after(char out[16], time_t now, int days)
{
	time_t t = now + (time_t)days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

size_t sg_policy_lint(const sg_policy *p, time_t now, int soon_days, sg_policy_finding *out,
		      size_t max)
{
	char today[16], soon[16];
	size_t n = 0;

	date_after(today, now, 0);
	date_after(soon, now, soon_days);
	for (size_t i = 0; i < p->n_approvals; i++) {
		const sg_approval *a = &p->approvals[i];
		const sg_product *pr = sg_policy_product(p, a->product);

		if (a->expires && strcmp(today, a->expires) > 0)
			finding(out, max, &n, 0, a, "expired on %s: it approves nothing any more",
				a->expires);
		else if (a->expires && strcmp(soon, a->expires) >= 0)
			finding(out, max, &n, 0, a, "expires on %s, within %d days", a->expires,
				soon_days);
		if (pr && pr->vendor_signs && a->accept_unsigned)
			finding(out, max, &n, 0, a,
				"accepts unsigned files of %s, which the catalog lists as "
				"vendor-signed: \"%s\"",
				pr->product, a->accept_unsigned);
		else if (pr && pr->vendor_signs)
			finding(out, max, &n, 0, a,
				"%s is listed as vendor-signed: an unsigned file will be denied "
				"(set accept_unsigned with the reason to sign one anyway)",
				pr->product);
		if (!a->provenance)
			finding(out, max, &n, 0, a,
				"no provenance: where the vendor value came from is not recorded "
				"(approvals made with `signgate policy approve` have it)");
		if (!pr && p->n_products > 0 && a->not_in_catalog)
			finding(out, max, &n, 0, a,
				"product \"%s\" is not in the catalog; signed anyway because: "
				"\"%s\"",
				a->product, a->not_in_catalog);
		else if (!pr && p->n_products > 0)
			finding(out, max, &n, 0, a,
				"product \"%s\" is not in the catalog: signing denies it (a "
				"look-alike name?); add the product to the catalog, or say why in "
				"not_in_catalog",
				a->product);
	}
	return n;
}

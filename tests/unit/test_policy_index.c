/*
 * Unit tests for the policy index (lib/policy_index*.c): every decision made
 * through the index equals the full load's (approved, each reason, the
 * approval, its file's bytes and SHA-256) over a grid of inputs, for a
 * folder and a one-file policy; and every kind of change to the policy or
 * to the index after indexing makes sg_policy_open() fall back to the full
 * load (or, during a run, deny) instead of deciding from a stale index.
 */
#include "policy_index_format.h"
#include "policy_internal.h"
#include "signgate/error.h"
#include "signgate/policy.h"

#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

static char tmpdir[] = "/tmp/test_policy_index.XXXXXX";

/*
 * Fake digests. Even ones share their first 8 bytes, so that the index's
 * keys collide and a lookup finds more than it needs: decisions must not
 * change. Index 10 is a digest no policy names.
 */
#define N_DIGESTS 13
static char s256[N_DIGESTS][65], s512[N_DIGESTS][129];

static void make_digests(void)
{
	for (int n = 0; n < N_DIGESTS; n++) {
		for (int i = 0; i < 128; i++) {
			int shared = n % 2 == 0 && i < 16;
			char c = "0123456789abcdef"[shared ? i % 16 : (i * 7 + n * 3) % 16];
			if (i < 64)
				s256[n][i] = c;
			s512[n][i] = c;
		}
		s256[n][16] = "0123456789abc"[n]; /* distinct past the shared key */
		s512[n][16] = "0123456789abc"[n];
	}
}

static const char *at(const char *name)
{
	return check_path(tmpdir, name);
}

static void put(const char *path, const char *text)
{
	check_write_file(path, text, strlen(text), 0644);
}

/* An approval of `product` with digests S<h256> / T<h512> (-1: none) and `extra`. */
static char *approval(const char *id, const char *product, int h256, int h512, const char *extra)
{
	char *out = NULL, d256[96] = "", d512[160] = "";

	if (h256 >= 0)
		snprintf(d256, sizeof(d256), ", \"sha256\": \"%s\"", s256[h256]);
	if (h512 >= 0)
		snprintf(d512, sizeof(d512), ",\n  \"sha512\" : \"%s\"", s512[h512]);
	if (asprintf(&out,
		     "{\"id\": \"%s\", \"product\": \"%s\", \"version\": \"1.0\", "
		     "\"approved_by\": \"Jane Doe\", \"ticket\": \"CHG-%s\", "
		     "\"approved_at\": \"2026-01-10\"%s%s%s}",
		     id, product, id, d256, d512, extra) < 0)
		exit(2);
	return out;
}

static char *revocation(int h256, int h512, const char *reason)
{
	char *out = NULL, d256[96] = "", d512[160] = "";

	if (h256 >= 0)
		snprintf(d256, sizeof(d256), ", \"sha256\": \"%s\"", s256[h256]);
	if (h512 >= 0)
		snprintf(d512, sizeof(d512), ", \"sha512\": \"%s\"", s512[h512]);
	if (asprintf(&out, "{\"reason\": \"%s\"%s%s}", reason, d256, d512) < 0)
		exit(2);
	return out;
}

/* The policy's approvals and revocations by file, in the order of the file names. */
typedef struct pfile {
	const char *name;
	char *approvals[6];
	char *revoked[3];
	const char *products; /* a JSON array, or NULL */
} pfile;

static pfile files[5];

static void make_policy_text(void)
{
	const char *awkward =
		", \"description\": \"a \\\"}]\\\" [{ b\", \"comment\": [1, {\"x\": \"]\"}]";

	files[0] = (pfile){ "a.json",
			    { approval("a1", "Plain", 0, -1,
				       ", \"file\": \"zero.exe\", \"expires\": \"2030-01-01\""),
			      approval("a2", "Plain", 1, 1, ", \"expires\": \"2020-01-01\""),
			      approval("a3", "Plain", -1, 2, awkward),
			      approval("a4", "Signed", 3, -1, ", \"file\": \"three.exe\""),
			      approval("a5", "Plain", 4, -1,
				       ", \"existing_signature\": \"replace\"") },
			    { NULL },
			    NULL };
	files[1] = (pfile){ "b.json",
			    { approval("b1", "Plain", 1, -1, ", \"expires\": \"2031-01-01\""),
			      approval("b2", "Plain", 5, -1, ", \"file\": \"five.exe\""),
			      approval("b3", "Signed", 6, 6,
				       ", \"accept_unsigned\": \"vendor ships unsigned\""),
			      approval("b4", "Plain", 0, -1,
				       ", \"file\": \"zero.exe\", \"expires\": \"2028-01-01\"") },
			    { revocation(5, -1, "b2 pulled by the vendor") },
			    NULL };
	files[2] = (pfile){ "c.json",
			    { NULL },
			    { revocation(-1, 2, "bad build"), revocation(7, -1, "never approved"),
			      revocation(8, 8, "revoked twice") },
			    NULL };
	files[3] =
		(pfile){ "d.json",
			 { approval("d1", "Plain", 8, -1, ", \"file\": \"zero.exe\""),
			   approval("d2", "Plain", 9, 9,
				    ", \"file\": \"nine.exe\", \"existing_signature\": \"nest\""),
			   approval("d3", "Plain", 0, 3, ", \"file\": \"zero.exe\"") },
			 { revocation(8, -1, "revoked again") },
			 NULL };
	/* Product names as the catalog compares them: a look-alike spacing, and one it lacks. */
	files[4] = (pfile){ "e.json",
			    { approval("e1", "Signed", 6, -1, ", \"expires\": \"2027-06-30\""),
			      approval("e2", "  signed ", 11, -1, ""),
			      approval("e3", "Unlisted", 12, -1, ""),
			      approval("e4", "unlisted", 12, -1,
				       ", \"not_in_catalog\": \"in-house tool (CHG-8)\"") },
			    { NULL },
			    NULL };
}

static void append(char **buf, const char *text)
{
	size_t len = *buf ? strlen(*buf) : 0;

	*buf = realloc(*buf, len + strlen(text) + 1);
	strcpy(*buf + len, text);
}

/* The JSON of a list of objects, written with uneven whitespace. */
static void append_list(char **buf, const char *key, char *const items[], size_t max)
{
	append(buf, key);
	append(buf, " :\n\t[ ");
	for (size_t i = 0; i < max && items[i]; i++) {
		if (i)
			append(buf, " ,\r\n   ");
		append(buf, items[i]);
	}
	append(buf, "\n]");
}

static void write_folder(const char *dir, int catalog)
{
	mkdir(dir, 0755);
	for (size_t f = 0; f < 5; f++) {
		char *text = NULL;
		append(&text, "{ \"comment\": \"x\", ");
		append_list(&text, "\"approvals\"", files[f].approvals, 6);
		append(&text, ",\n");
		append_list(&text, "\"revoked\"", files[f].revoked, 3);
		append(&text, "}\n");
		put(check_path(dir, files[f].name), text);
		free(text);
	}
	if (catalog)
		put(check_path(dir, "catalog.json"),
		    "{\"products\": [{\"product\": \"Plain\", \"vendor_signs\": false},\n"
		    " {\"product\": \"Signed\", \"vendor_signs\": true}]}");
}

/*
 * One file holding every list in the folder's order, its first key written
 * with escapes; `fillers` more approvals of other digests around them make
 * it a big file (read by blocks, unless `cosign` requires co-signatures).
 */
static void write_one_file(const char *path, size_t fillers, int cosign)
{
	char *text = NULL, **apps = calloc(32 + fillers, sizeof(*apps)), *revs[16] = { 0 };
	size_t na = 0, nr = 0;

	for (size_t i = 0; i < fillers / 2; i++) {
		char id[32], extra[160];
		snprintf(id, sizeof(id), "filler-%zu", i);
		snprintf(extra, sizeof(extra), ", \"sha256\": \"%064zx\", \"file\": \"f%zu.exe\"",
			 i + 1, i);
		apps[na++] = approval(id, "Plain", -1, -1, extra);
	}
	for (size_t f = 0; f < 5; f++) {
		for (size_t i = 0; i < 6 && files[f].approvals[i]; i++)
			apps[na++] = files[f].approvals[i];
		for (size_t i = 0; i < 3 && files[f].revoked[i]; i++)
			revs[nr++] = files[f].revoked[i];
	}
	for (size_t i = fillers / 2; i < fillers; i++) {
		char id[32], extra[160];
		snprintf(id, sizeof(id), "filler-%zu", i);
		snprintf(extra, sizeof(extra), ", \"sha256\": \"%064zx\", \"file\": \"f%zu.exe\"",
			 i + 1, i);
		apps[na++] = approval(id, "Plain", -1, -1, extra);
	}
	append(&text, cosign ? "{\"$schema\": \"x\", \"require_cosign\": true,\n"
			     : "{\"$schema\": \"x\", \"require_cosign\": false,\n");
	append_list(&text, "\"appro\\u0076als\"", apps, na);
	append(&text, ", ");
	append_list(&text, "\"revoked\"", revs, 16);
	append(&text, "}");
	put(path, text);
	free(text);
	for (size_t i = 0; i < fillers / 2; i++) /* the fillers, before and after the others */
		free(apps[i]);
	for (size_t i = na - (fillers - fillers / 2); i < na; i++)
		free(apps[i]);
	free(apps);
}

static sg_policy *full_load(const char *path)
{
	sg_policy *p = NULL;

	if (sg_policy_load(&p, path) != SG_OK) {
		fprintf(stderr, "%s does not load: %s\n", path, sg_error_last());
		exit(1);
	}
	return p;
}

static sg_policy *open_policy(const char *path, sg_policy_open_info *info)
{
	sg_policy *p = NULL;

	if (sg_policy_open(&p, path, info) != SG_OK) {
		fprintf(stderr, "%s does not open: %s\n", path, sg_error_last());
		exit(1);
	}
	return p;
}

static void index_ok(const char *path)
{
	int loaded = -1;

	CHECK_INT(sg_policy_index_write(path, &loaded), SG_OK);
	CHECK_INT(loaded, 1);
}

static time_t utc(int y, int mo, int d)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = 12 };

	return timegm(&tm);
}

static int same_decision(const sg_policy *full, const sg_policy *fast, const sg_policy_input *in,
			 time_t now)
{
	sg_decision a, b;
	int before = check_failed;

	sg_policy_decide(&a, full, in, now);
	sg_policy_decide(&b, fast, in, now);
	CHECK_INT(b.approved, a.approved);
	CHECK_INT(b.n_reasons, a.n_reasons);
	for (size_t i = 0; i < a.n_reasons && i < b.n_reasons; i++)
		CHECK_STR(b.reasons[i], a.reasons[i]);
	CHECK_INT(!b.approval, !a.approval);
	if (a.approval && b.approval) {
		const sg_policy_file *fa = &full->files[a.approval->file_index];
		const sg_policy_file *fb = &fast->files[b.approval->file_index];
		CHECK_STR(b.approval->id, a.approval->id);
		CHECK_STR(b.approval->origin, a.approval->origin);
		CHECK_STR(fb->path, fa->path);
		CHECK_STR(fb->sha256, fa->sha256);
		CHECK_INT(fb->len, fa->len);
		/* A big file is read by blocks when no co-signature needs all its bytes. */
		if (fast->index && fb->len > 1024 * 1024 && !fast->require_cosign)
			CHECK(fb->bytes == NULL);
		else
			CHECK(fb->bytes && memcmp(fb->bytes, fa->bytes, fa->len) == 0);
	}
	if (check_failed != before)
		fprintf(stderr, "  for %s sha256 %.20s sha512 %.20s signed %d\n", in->name,
			in->sha256_hex, in->sha512_hex, in->has_signature);
	return a.approved;
}

/* Every name x SHA-256 x SHA-512 x signed x date; returns how many were approved. */
static int compare_grid(const sg_policy *full, const sg_policy *fast)
{
	static const char *const names[] = { "zero.exe", "three.exe", "five.exe", "nine.exe",
					     "x.exe" };
	const time_t dates[] = { utc(2026, 6, 1), utc(2029, 6, 1) };
	int approved = 0;

	for (size_t n = 0; n < 5; n++)
		for (int h = 0; h < N_DIGESTS; h++)
			for (int k = 0; k < 3; k++)
				for (int sig = 0; sig < 2; sig++)
					for (size_t t = 0; t < 2; t++) {
						sg_policy_input in = {
							names[n], s256[h],
							k == 0   ? s512[h]
							: k == 1 ? s512[(h + 1) % N_DIGESTS]
								 : "",
							sig, 0
						};
						approved +=
							same_decision(full, fast, &in, dates[t]);
					}
	return approved;
}

static void test_same_decisions(const char *path, int want_files_at_open)
{
	sg_policy_open_info info;
	sg_policy *full = full_load(path), *fast;
	int approved;

	index_ok(path);
	fast = open_policy(path, &info);
	CHECK_INT(info.indexed, 1);
	CHECK_INT(fast->n_approvals, 0);
	CHECK_INT(fast->n_files, full->n_files);
	CHECK_INT(fast->require_cosign, full->require_cosign);
	CHECK_INT(fast->uses_sha512, full->uses_sha512);
	CHECK_INT(fast->n_products, full->n_products);
	{
		int loaded = 0;
		for (size_t i = 0; i < fast->n_files; i++)
			loaded += fast->files[i].bytes != NULL;
		CHECK_INT(loaded, want_files_at_open);
	}
	approved = compare_grid(full, fast);
	CHECK(approved > 10); /* the grid is not all denials */
	sg_policy_free(fast);
	sg_policy_free(full);
}

/* Open `path` expecting the index not to be used (`why` says `reason`), and the full load's
 * decisions. */
static void expect_stale(const char *path, const char *reason)
{
	sg_policy_open_info info;
	sg_policy *full = full_load(path), *p = open_policy(path, &info);

	CHECK_INT(info.indexed, 0);
	CHECK_INT(info.index_exists, 1);
	if (reason)
		CHECK_CONTAINS(info.why, reason);
	CHECK(p->index == NULL && p->n_approvals == full->n_approvals);
	compare_grid(full, p);
	sg_policy_free(p);
	sg_policy_free(full);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cp -- '%s' '%s'", from, to);
	if (system(cmd) != 0)
		exit(2);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = malloc(stat(path, &st) == 0 ? (size_t)st.st_size + 1 : 1);

	*len = f ? fread(buf, 1, (size_t)st.st_size, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

/* Change a byte of `path` in place (same size), keeping its mtime: as `touch -d` would set it back.
 */
static void edit_in_place(const char *path, const char *from, const char *to)
{
	struct stat st;
	size_t len;
	char *text = slurp(path, &len), *hit;
	struct timespec times[2];

	stat(path, &st);
	hit = memmem(text, len, from, strlen(from));
	if (!hit || strlen(from) != strlen(to))
		exit(2);
	memcpy(hit, to, strlen(to));
	check_write_file(path, text, len, 0644);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	utimensat(AT_FDCWD, path, times, 0);
	free(text);
}

static void test_staleness(void)
{
	char *s = NULL;
	size_t len;
	char *bytes;

	/* A file edited in place, same size, its mtime set back. */
	edit_in_place(at("edit/b.json"), "2031-01-01", "2032-01-01");
	expect_stale(at("edit"), "b.json changed since it was made");

	/* A file added: a revocation written after indexing is never missed. */
	s = revocation(0, -1, "found tampered");
	{
		char *text = NULL;
		append(&text, "{\"revoked\": [");
		append(&text, s);
		append(&text, "]}");
		put(at("add/f.json"), text);
		free(text);
	}
	free(s);
	expect_stale(at("add"), "f.json is new since it was made");
	{
		sg_policy *p = open_policy(at("add"), NULL);
		sg_decision d;
		sg_policy_input in = { "zero.exe", s256[0], "", 0, 0 };
		sg_policy_decide(&d, p, &in, utc(2026, 6, 1));
		CHECK_INT(d.approved, 0);
		CHECK_CONTAINS(d.reasons[0], "digest is revoked: found tampered");
		sg_policy_free(p);
	}

	/* A file removed, and one renamed. */
	unlink(at("remove/c.json"));
	expect_stale(at("remove"), "c.json is gone since it was made");
	rename(at("rename/c.json"), at("rename/c2.json"));
	expect_stale(at("rename"), "c2.json is new since it was made");
	rename(at("rename2/c.json"), at("rename2/c.json.off"));
	expect_stale(at("rename2"), "c.json is gone since it was made");

	/* The index truncated, one byte of it flipped (header, tables, names, digest). */
	bytes = slurp(at("trunc/.signgate/index"), &len);
	check_write_file(at("trunc/.signgate/index"), bytes, len - 1, 0644);
	expect_stale(at("trunc"), "damaged");
	check_write_file(at("trunc/.signgate/index"), bytes, 10, 0644);
	expect_stale(at("trunc"), "not a signgate policy index");
	check_write_file(at("trunc/.signgate/index"), "", 0, 0644);
	expect_stale(at("trunc"), "not a signgate policy index");
	{
		const size_t where[] = { 9, 20, 120, len / 3, len / 2, len - 40, len - 1 };
		for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
			bytes[where[i]] ^= 0x01;
			check_write_file(at("trunc/.signgate/index"), bytes, len, 0644);
			expect_stale(at("trunc"), NULL);
			bytes[where[i]] ^= 0x01;
		}
		/* The index as it was: the policy did not change, so it is used again. */
		check_write_file(at("trunc/.signgate/index"), bytes, len, 0644);
		{
			sg_policy_open_info info;
			sg_policy *p = open_policy(at("trunc"), &info);
			CHECK_INT(info.indexed, 1);
			sg_policy_free(p);
		}
	}
	free(bytes);

	/* An index from another policy (same names and bytes, other files) copied in. */
	copy_file(at("eq/.signgate/index"), at("other/.signgate/index"));
	expect_stale(at("other"), "changed since it was made");
	/* The index of a one-file policy copied beside a folder, and the reverse. */
	copy_file(at("one.json.sgindex"), at("kind/.signgate/index"));
	expect_stale(at("kind"), "another kind of policy");

	/* An index others may write (the folder is 0755): not used. */
	chmod(at("eq/.signgate/index"), 0666);
	expect_stale(at("eq"), "lets others change it");
	chmod(at("eq/.signgate/index"), 0644);
	chmod(at("eq/.signgate"), 0777);
	expect_stale(at("eq"), "lets others change it");
	chmod(at("eq/.signgate"), 0755);
}

/*
 * A file changed in place just before indexing is racy (a change in the same
 * timestamp tick would not show in its stat): the loader reads and hashes it.
 */
static void test_racy(void)
{
	sg_policy_open_info info;
	sg_policy *full, *p;

	write_folder(at("racy"), 1);
	/*
	 * Index once first: making the index's subfolder changes the folder, and
	 * the build then waits until the clock has passed that change, by which
	 * time no file is racy any more.
	 */
	index_ok(at("racy"));
	sleep(1);
	edit_in_place(at("racy/b.json"), "2031-01-01", "2031-01-02");
	index_ok(at("racy"));
	full = full_load(at("racy"));
	p = open_policy(at("racy"), &info);
	CHECK_INT(info.indexed, 1);
	for (size_t i = 0; i < p->n_files; i++) /* b.json, and the catalog, parsed when opened */
		CHECK_INT(p->files[i].bytes != NULL,
			  strstr(full->files[i].path, "/b.json") ||
				  strstr(full->files[i].path, "/catalog.json"));
	compare_grid(full, p);
	sg_policy_free(p);
	sg_policy_free(full);
	/* An edit right after indexing, in the same timestamp tick or not, same size and mtime. */
	edit_in_place(at("racy/b.json"), "2031-01-02", "2032-01-02");
	expect_stale(at("racy"), "b.json");
}

/* A policy file changed after the policy was opened: nothing is approved from it. */
static void test_changed_during_run(void)
{
	sg_policy_open_info info;
	sg_policy *p = open_policy(at("during"), &info);
	sg_policy_input in = { "x.exe", s256[1], "", 0, 0 };
	sg_decision d;

	CHECK_INT(info.indexed, 1);
	sg_policy_decide(&d, p, &in, utc(2026, 6, 1));
	CHECK_INT(d.approved, 1); /* b1, through b.json, read now */
	CHECK_STR(d.approval->id, "b1");
	/* e.json, not read yet, changes: an input whose approvals are in it is denied. */
	edit_in_place(at("during/e.json"), "2027-06-30", "2037-06-30");
	in.sha256_hex = s256[6];
	sg_policy_decide(&d, p, &in, utc(2026, 6, 1));
	CHECK_INT(d.approved, 0);
	CHECK(d.approval == NULL);
	CHECK_CONTAINS(d.reasons[0], "the policy changed while signgate ran");
	CHECK_CONTAINS(d.reasons[0], "e.json no longer has the bytes the index was made from");
	/* a.json and b.json were read before the change: their bytes still decide, as in a full
	 * load. */
	in.sha256_hex = s256[1];
	in.name = "x.exe";
	sg_policy_decide(&d, p, &in, utc(2026, 6, 1));
	CHECK_INT(d.approved, 1);
	sg_policy_free(p);
}

/* A big file read by blocks: a block changed after opening denies what it holds. */
static void test_big_file_changed(const char *path)
{
	sg_policy_open_info info;
	sg_policy *p;
	sg_policy_input in = { "x.exe", s256[1], "", 0, 0 };
	sg_decision d;
	struct stat st;

	index_ok(path);
	p = open_policy(path, &info);
	CHECK_INT(info.indexed, 1);
	stat(path, &st);
	CHECK(st.st_size > 1024 * 1024);
	sg_policy_decide(&d, p, &in, utc(2026, 6, 1));
	CHECK_INT(d.approved, 1);
	CHECK_STR(d.approval->id, "b1");
	CHECK_STR(p->files[0].path, path);
	CHECK(p->files[0].bytes == NULL);
	edit_in_place(path, "2027-06-30", "2037-06-30"); /* e1, not read yet */
	in.sha256_hex = s256[6];
	sg_policy_decide(&d, p, &in, utc(2026, 6, 1));
	CHECK_INT(d.approved, 0);
	CHECK_CONTAINS(d.reasons[0], "big2.json no longer has the bytes the index was made from");
	sg_policy_free(p);
	/* Opened again: the file's stat changed, so the full load decides. */
	expect_stale(path, "changed since it was made");
}

/*
 * An index rewritten by someone who may write it, its trailing SHA-256
 * recomputed so that only the checks behind it can catch the change.
 */
typedef void (*index_change)(unsigned char *raw, idx_header *h);

static void rewrite_index(const char *index, index_change change)
{
	size_t len;
	unsigned char *raw = (unsigned char *)slurp(index, &len);
	idx_header h;

	memcpy(&h, raw, sizeof(h));
	change(raw, &h);
	EVP_Digest(raw, len - 32, raw + len - 32, NULL, EVP_sha256(), NULL);
	check_write_file(index, raw, len, 0644);
	free(raw);
}

static idx_file *index_files(unsigned char *raw)
{
	return (idx_file *)(raw + sizeof(idx_header));
}

static idx_object *index_objects(unsigned char *raw, const idx_header *h)
{
	return (idx_object *)(raw + sizeof(idx_header) + h->n_files * sizeof(idx_file));
}

/* An index made by a signgate with the rules before this one's (version 1: no product rules). */
static void older_rules(unsigned char *raw, idx_header *h)
{
	h->rules = SG_POLICY_RULES_VERSION - 1;
	memcpy(raw, h, sizeof(*h));
}

static void object_out_of_range(unsigned char *raw, idx_header *h)
{
	idx_object *o = index_objects(raw, h);

	o[0].off = index_files(raw)[o[0].file].size;
}

static void keys_out_of_order(unsigned char *raw, idx_header *h)
{
	idx_key *k = (idx_key *)(index_objects(raw, h) + h->n_approvals + h->n_revoked), t;

	for (size_t i = 1; i < h->n_keys[IDX_APPROVAL_SHA256]; i++)
		if (k[i].key != k[0].key) {
			t = k[0];
			k[0] = k[i];
			k[i] = t;
			return;
		}
}

/* What a.json will hold: far shorter than the file the index describes. */
static const char short_policy[] = "{\"approvals\": []}";

static void records_short_file(unsigned char *raw, idx_header *h)
{
	(void)h;
	EVP_Digest(short_policy, strlen(short_policy), index_files(raw)[0].sha256, NULL,
		   EVP_sha256(), NULL);
}

/* a.json is marked as holding catalog entries; it holds none. */
static void products_without_products(unsigned char *raw, idx_header *h)
{
	(void)h;
	index_files(raw)[0].flags |= IDX_FILE_PRODUCTS;
}

static void test_crafted(void)
{
	sg_policy_input in = { "zero.exe", s256[0], "", 0, 0 };
	sg_policy_open_info info;
	sg_decision d;
	sg_policy *p;

	rewrite_index(at("crafted/.signgate/index"), older_rules);
	expect_stale(at("crafted"), "it was made with other policy rules (rules version 1, not 2)");
	index_ok(at("crafted"));
	rewrite_index(at("crafted/.signgate/index"), object_out_of_range);
	expect_stale(at("crafted"), "an object out of range");
	index_ok(at("crafted"));
	rewrite_index(at("crafted/.signgate/index"), keys_out_of_order);
	expect_stale(at("crafted"), "a key out of range or order");
	/*
	 * A file flagged for its catalog entries is parsed at open and adds
	 * none (zero products copied, from a NULL list: UBSan's memcpy case).
	 */
	index_ok(at("crafted"));
	rewrite_index(at("crafted/.signgate/index"), products_without_products);
	p = open_policy(at("crafted"), &info);
	CHECK_INT(info.indexed, 1);
	CHECK_INT((int)p->n_products, 0);
	{
		sg_policy *full = full_load(at("crafted"));
		same_decision(full, p, &in, utc(2026, 6, 1));
		sg_policy_free(full);
	}
	sg_policy_free(p);
	/*
	 * The index records for a.json the SHA-256 of a short text; a.json
	 * becomes that text after the policy was opened. Its bytes then match
	 * the digest, but not the size the offsets were checked against: the
	 * input is denied, and nothing is read past the short file's end.
	 */
	index_ok(at("crafted"));
	rewrite_index(at("crafted/.signgate/index"), records_short_file);
	p = open_policy(at("crafted"), &info);
	CHECK_INT(info.indexed, 1);
	check_write_file(at("crafted/a.json"), short_policy, strlen(short_policy), 0644);
	sg_policy_decide(&d, p, &in, utc(2026, 6, 1));
	CHECK_INT(d.approved, 0);
	CHECK_CONTAINS(d.reasons[0], "the policy changed while signgate ran");
	CHECK_CONTAINS(d.reasons[0], "a.json no longer has the bytes the index was made from");
	sg_policy_free(p);
}

/*
 * Who may write the index: a group may only when it is the policy's own
 * group and may write the policy (root only: it needs chown); a link is
 * never followed.
 */
static void test_index_owner(void)
{
	char index[PATH_MAX];
	sg_policy_open_info info;
	struct stat st;
	sg_policy *p;
	gid_t other;

	snprintf(index, sizeof(index), "%s", at("owner/.signgate/index"));
	CHECK_INT(symlink("index.real", at("owner/.signgate/link")), 0);
	CHECK_INT(rename(index, at("owner/.signgate/index.real")), 0);
	CHECK_INT(rename(at("owner/.signgate/link"), index), 0);
	expect_stale(at("owner"), "it is a symbolic link");
	CHECK_INT(rename(at("owner/.signgate/index.real"), index), 0);
	if (geteuid() != 0) {
		printf("skipped: the group checks need root (chown)\n");
		return;
	}
	CHECK_INT(stat(at("owner"), &st), 0);
	other = st.st_gid == 65534 ? 65533 : 65534;
	chmod(at("owner"), 0775);
	chmod(index, 0664);
	p = open_policy(at("owner"), &info);
	CHECK_INT(info.indexed, 1); /* the policy's group may write both */
	sg_policy_free(p);
	CHECK_INT(chown(index, (uid_t)-1, other), 0);
	expect_stale(at("owner"), "lets others change it");
	CHECK_INT(chown(index, (uid_t)-1, st.st_gid), 0);
	CHECK_INT(chown(at("owner"), (uid_t)-1, other), 0); /* the group lost the policy */
	expect_stale(at("owner"), "lets others change it");
	CHECK_INT(chown(at("owner"), (uid_t)-1, st.st_gid), 0);
	chmod(at("owner"), 0755);
	expect_stale(at("owner"), "lets others change it");
	chmod(index, 0644);
	p = open_policy(at("owner"), &info);
	CHECK_INT(info.indexed, 1);
	sg_policy_free(p);
}

static void test_write_refusals(void)
{
	int loaded = -1;

	mkdir(at("broken"), 0755);
	put(at("broken/a.json"), "{\"approvals\": [{\"id\": \"x\"}]}");
	CHECK_INT(sg_policy_index_write(at("broken"), &loaded), SG_ERR_CONFIG);
	CHECK_INT(loaded, 0);
	CHECK(access(at("broken/.signgate/index"), F_OK) != 0);
	/* A policy that loads, but whose index cannot be written: the caller can tell. */
	mkdir(at("blocked"), 0755);
	put(at("blocked/a.json"), "{\"approvals\": []}");
	put(at("blocked/.signgate"), "not a folder");
	loaded = -1;
	CHECK_INT(sg_policy_index_write(at("blocked"), &loaded), SG_ERR_IO);
	CHECK_INT(loaded, 1);
	CHECK_CONTAINS(sg_error_last(), ".signgate: not a folder");
	/* A .signgate that is a link to another folder: nothing is written there. */
	mkdir(at("linked"), 0755);
	mkdir(at("elsewhere"), 0755);
	put(at("linked/a.json"), "{\"approvals\": []}");
	CHECK_INT(symlink(at("elsewhere"), at("linked/.signgate")), 0);
	loaded = -1;
	CHECK_INT(sg_policy_index_write(at("linked"), &loaded), SG_ERR_IO);
	CHECK_INT(loaded, 1);
	CHECK_CONTAINS(sg_error_last(), ".signgate: not a folder");
	{
		DIR *d = opendir(at("elsewhere"));
		int entries = 0;
		for (struct dirent *e; d && (e = readdir(d)) != NULL;)
			entries += e->d_name[0] != '.';
		if (d)
			closedir(d);
		CHECK_INT(entries, 0);
	}
	{
		sg_policy_open_info info;
		sg_policy *p = (sg_policy *)&info;
		CHECK_INT(sg_policy_open(&p, at("broken"), &info), SG_ERR_CONFIG);
		CHECK(p == NULL);
		CHECK_INT(info.indexed, 0);
		CHECK_INT(info.index_exists, 0);
		CHECK_CONTAINS(info.why, "has no index");
	}
}

int main(void)
{
	static const char *const copies[] = { "eq",     "edit",  "add",  "remove",  "rename",
					      "rename2", "trunc", "other", "kind", "during",
					      "crafted", "owner" };

	if (!mkdtemp(tmpdir))
		return 2;
	make_digests();
	make_policy_text();
	for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]); i++)
		write_folder(at(copies[i]), strcmp(copies[i], "eq") == 0 ||
						    strcmp(copies[i], "edit") == 0 ||
						    strcmp(copies[i], "other") == 0);
	write_one_file(at("one.json"), 0, 0);
	write_one_file(at("big.json"), 6000, 0);
	write_one_file(at("big2.json"), 6000, 0);
	write_one_file(at("big3.json"), 6000, 1);
	/* Older than the racy margin (2 s), so that the stat checks are what is tested. */
	sleep(3);
	test_same_decisions(at("eq"), 1);       /* the catalog is parsed when opened */
	test_same_decisions(at("one.json"), 0); /* no catalog: nothing read until a decision */
	test_same_decisions(at("big.json"), 0);
	test_same_decisions(at("big3.json"), 0); /* co-signatures: the whole file is read */
	test_big_file_changed(at("big2.json"));
	for (size_t i = 1; i < sizeof(copies) / sizeof(copies[0]); i++)
		index_ok(at(copies[i]));
	test_staleness();
	test_racy();
	test_changed_during_run();
	test_crafted();
	test_index_owner();
	test_write_refusals();
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
	return check_done();
}

/*
 * The approve workflow: vendor evidence into one policy approval, recorded
 * in the audit log; see include/signgate/approve.h.
 */
#include "signgate/approve.h"
#include "authenticode.h"
#include "signgate/audit.h"
#include "signgate/error.h"
#include "signgate/manifest.h"
#include "signgate/openpgp.h"
#include "signgate/policy.h"
#include "signgate/policy_json.h"
#include "signgate/strict.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define SMALL_FILE   (1024 * 1024) /* manifests and signatures */
#define DEFAULT_KEYS "KEYS"

/* PRODUCT-VERSION in lower case, other characters as '-'. */
static void default_id(char *out, size_t size, const char *product, const char *version)
{
	size_t n = 0;

	for (const char *parts[] = { product, "-", version, NULL }, **p = parts; *p; p++)
		for (const char *c = *p; *c && n + 1 < size; c++)
			out[n++] = (char)(isalnum((unsigned char)*c) || strchr("._", *c)
						  ? tolower((unsigned char)*c)
						  : '-');
	out[n] = '\0';
	if (n > 0 && !isalnum((unsigned char)out[0]))
		out[0] = 'x';
}

/*
 * Read a small file (a manifest, a signature) once, whole. One larger than
 * SMALL_FILE is not a manifest or a signature: SG_ERR_FORMAT naming it, as
 * the manifest parser says of a long one; SG_ERR_IO when it cannot be read.
 */
static int read_small(char **out, size_t *len, const char *path)
{
	unsigned char *buf;
	int error = sg_read_file(&buf, len, path, SMALL_FILE, NULL, 0);

	*out = (char *)buf;
	return error;
}

/* A private copy of a small file in the working folder, as `copy_name`. */
static int copy_small(char **copy, const char *workdir, const char *path, const char *copy_name)
{
	char *data;
	size_t len;
	int error = read_small(&data, &len, path);

	*copy = error ? NULL : sg_path_join(workdir, copy_name);
	if (!error && !*copy)
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error)
		error = sg_write_private(*copy, data, len);
	free(data);
	return error;
}

static const char *evp_name(sg_hash_alg alg)
{
	switch (alg) {
	case SG_ALG_MD5: return "MD5";
	case SG_ALG_SHA1: return "SHA1";
	case SG_ALG_SHA224: return "SHA224";
	case SG_ALG_SHA256: return "SHA256";
	case SG_ALG_SHA384: return "SHA384";
	case SG_ALG_SHA512: return "SHA512";
	default: return NULL;
	}
}

/* The private copy's digest in `alg`, lower-case hex (SHA-1/256/512 are known already). */
static int digest_of(char out[129], const sg_approve *st, sg_hash_alg alg)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD *md_alg = NULL;
	EVP_MD_CTX *ctx = NULL;
	ssize_t n;
	int fd = -1, ok = 0;

	if (alg == SG_ALG_SHA256 || alg == SG_ALG_SHA512 || alg == SG_ALG_SHA1) {
		snprintf(out, 129, "%s",
			 alg == SG_ALG_SHA256   ? st->digests.sha256_hex
			 : alg == SG_ALG_SHA512 ? st->digests.sha512_hex
						: st->digests.sha1_hex);
		return SG_OK;
	}
	md_alg = evp_name(alg) ? EVP_MD_fetch(NULL, evp_name(alg), NULL) : NULL;
	ctx = EVP_MD_CTX_new();
	fd = open(st->copy, O_RDONLY | O_CLOEXEC);
	if (md_alg && ctx && fd >= 0 && EVP_DigestInit_ex(ctx, md_alg, NULL)) {
		ok = 1;
		while (ok && (n = read(fd, buf, sizeof(buf))) > 0)
			ok = EVP_DigestUpdate(ctx, buf, (size_t)n);
		ok = ok && n == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen);
	}
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md_alg);
	if (!ok)
		return sg_error_set(SG_ERR_CRYPTO, "%s: cannot compute its %s", st->name,
				    sg_hash_alg_name(alg));
	sg_hex_encode(out, md, mdlen);
	return SG_OK;
}

static int add_value(sg_approve *st, sg_hash_alg alg, const char *hex, const char *from,
		     size_t line, const char *format)
{
	sg_approve_value *v;

	if (st->n_values == SG_APPROVE_MAX_VALUES)
		return sg_error_set(SG_ERR_FORMAT, "more than %d vendor values for %s", SG_APPROVE_MAX_VALUES,
				    st->name);
	v = &st->values[st->n_values++];
	v->alg = alg;
	snprintf(v->hex, sizeof(v->hex), "%s", hex);
	for (char *p = v->hex; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	v->from = from;
	v->line = line;
	v->format = format;
	return SG_OK;
}

/* The vendor values: the manifest's entries for the name, and the command line's. */
static int gather_values(sg_approve *st)
{
	const sg_approve_request *o = st->o;
	const sg_manifest_entry *found[SG_APPROVE_MAX_VALUES];
	sg_manifest m = { 0 };
	size_t n = 0;
	int error = SG_OK;

	if (o->sha256 && !sg_hex_is_valid(o->sha256, SG_SHA256_LEN))
		return sg_error_set(SG_ERR_USAGE, "--sha256 must be 64 hex digits");
	if (o->sha512 && !sg_hex_is_valid(o->sha512, SG_SHA512_LEN))
		return sg_error_set(SG_ERR_USAGE, "--sha512 must be 128 hex digits");
	if (o->manifest) {
		error = sg_manifest_parse(&m, o->manifest, st->manifest_text, st->manifest_len);
		if (!error)
			error = sg_manifest_find(&m, st->name, found, SG_APPROVE_MAX_VALUES, &n);
		for (size_t i = 0; !error && i < n; i++)
			error = add_value(st, found[i]->alg, found[i]->hex, "manifest",
					  found[i]->line, found[i]->format);
		sg_manifest_free(&m);
	}
	if (!error && o->sha256)
		error = add_value(st, SG_ALG_SHA256, o->sha256, "command line", 0, NULL);
	if (!error && o->sha512)
		error = add_value(st, SG_ALG_SHA512, o->sha512, "command line", 0, NULL);
	return error;
}

/* Every vendor value must match; one of them must be SHA-256 or SHA-512. */
static int compare_values(sg_approve *st)
{
	int strong = 0;

	for (size_t i = 0; i < st->n_values; i++) {
		const sg_approve_value *v = &st->values[i];
		char have[129];
		int error = digest_of(have, st, v->alg);

		if (error)
			return error;
		if (strcmp(have, v->hex) != 0) {
			char where[64] = "";

			if (v->line)
				snprintf(where, sizeof(where), " line %zu", v->line);
			return sg_error_set(SG_ERR_VERIFY,
					    "%s: its %s is %s, but the vendor's value (%s%s%s) is "
					    "%s: not the file the vendor published; nothing was "
					    "written",
					    st->name, sg_hash_alg_name(v->alg), have,
					    strcmp(v->from, "manifest") == 0 ? st->o->manifest
									     : v->from,
					    where, "", v->hex);
		}
		strong |= sg_hash_alg_strong(v->alg);
	}
	if (!strong)
		return sg_error_set(SG_ERR_DENIED,
				    "%s: the vendor values are MD5 or SHA-1 only, which never "
				    "approve anything: find a SHA-256 or SHA-512 value from the "
				    "vendor (see policy/README.md)",
				    st->name);
	return SG_OK;
}

/*
 * The keyring decides whose signatures count, and it may sit in a subfolder
 * that the policy folder's check (its direct entries) does not walk: it is
 * held to the policy's rule itself (README "Strict modes"), a warning
 * without a config.
 */
static int keyring_strict(const sg_approve *st, const char *path)
{
	sg_strict_rule rule;

	if (!st->cfg) {
		if (st->o->strict_warn)
			st->o->strict_warn(path);
		return SG_OK;
	}
	sg_config_policy_rule(st->cfg, geteuid(), &rule);
	return sg_strict_check(NULL, path, &rule, SG_STRICT_GROUP);
}

/* The keyring must sit inside the policy folder: reviewed with the policy. */
static int find_keyring(sg_approve *st)
{
	char real_dir[PATH_MAX], real_key[PATH_MAX];
	const char *given = st->o->keyring;
	char *path = given ? strdup(given) : sg_path_join(st->policy_dir, DEFAULT_KEYS);
	size_t dlen;
	int error;

	if (!path)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!realpath(st->policy_dir, real_dir) || !realpath(path, real_key)) {
		error = sg_error_set(SG_ERR_CONFIG,
				     "%s: cannot find the vendor keyring: %s (keep the vendor's "
				     "OpenPGP keys in the policy folder, default %s/%s)",
				     path, strerror(errno), st->policy_dir, DEFAULT_KEYS);
		free(path);
		return error;
	}
	free(path);
	dlen = strlen(real_dir);
	if (strncmp(real_key, real_dir, dlen) != 0 || real_key[dlen] != '/')
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: the vendor keyring must be inside the policy folder %s, "
				    "where it is reviewed with the approvals",
				    real_key, real_dir);
	if ((error = keyring_strict(st, real_key)))
		return error;
	st->keyring_path = strdup(real_key);
	st->keyring_rel = st->keyring_path ? st->keyring_path + dlen + 1 : NULL;
	return st->keyring_path ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/* Fingerprints compared ignoring case and the spaces people copy with them. */
static int same_fpr(const char *given, const char *fpr)
{
	for (;; given++) {
		while (*given == ' ')
			given++;
		if (toupper((unsigned char)*given) != toupper((unsigned char)*fpr))
			return 0;
		if (!*fpr)
			return 1;
		fpr++;
	}
}

/* Check one detached signature over a private copy; add what gpgv said. */
static int check_openpgp(sg_approve *st, const char *sig, const char *data, const char *what)
{
	sg_openpgp_result r;
	char *sig_copy = NULL;
	int error;

	error = copy_small(&sig_copy, st->wd.path, sig, sg_path_base(sig));
	if (!error)
		error = sg_openpgp_verify(&r, SG_GPGV_DEFAULT, st->keyring_path, sig_copy, data);
	free(sig_copy);
	if (!error && st->o->openpgp_key && !same_fpr(st->o->openpgp_key, r.primary_fingerprint) &&
	    !same_fpr(st->o->openpgp_key, r.fingerprint))
		error = sg_error_set(SG_ERR_VERIFY,
				     "made by key %s, not by the expected --openpgp-key %s",
				     r.primary_fingerprint, st->o->openpgp_key);
	if (error) {
		sg_error_prefix("%s signature %s", what, sig);
		return error;
	}
	if (!st->openpgp)
		st->openpgp = json_array();
	json_array_append_new(
		st->openpgp, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "signed", what,
				       "signature_file", sig, "fingerprint", r.fingerprint,
				       "primary_fingerprint", r.primary_fingerprint, "uid", r.uid,
				       "signature_time", (json_int_t)r.sig_time, "signature_sha256",
				       r.sig_sha256, "keyring", st->keyring_rel));
	return SG_OK;
}

static json_t *values_json(const sg_approve *st)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < st->n_values; i++) {
		const sg_approve_value *v = &st->values[i];
		json_t *obj = json_pack("{s:s, s:s, s:s}", "alg", sg_hash_alg_name(v->alg), "value",
					v->hex, "from", v->from);

		if (obj && strcmp(v->from, "manifest") == 0) {
			json_object_set_new(obj, "manifest", json_string(st->o->manifest));
			json_object_set_new(obj, "manifest_sha256",
					    json_string(st->manifest_sha256));
			json_object_set_new(obj, "line", json_integer((json_int_t)v->line));
			json_object_set_new(obj, "format", json_string(v->format));
		}
		json_array_append_new(arr, obj);
	}
	return arr;
}

/* `day` (YYYY-MM-DD) and, unless NULL, `now` (an RFC 3339 UTC time) of one reading of the clock. */
static void today_and_now(char day[16], char now[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(day, 16, "%Y-%m-%d", &tm);
	if (now)
		strftime(now, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * The approval as sg_approval holds it: the options and what was measured
 * (the strings are borrowed from `st`; nothing in `a` is to be freed).
 */
static void approval_of(sg_approval *a, const sg_approve *st, char *day)
{
	const sg_approve_request *o = st->o;

	memset(a, 0, sizeof(*a));
	a->id = (char *)st->id;
	a->product = (char *)o->product;
	a->vendor = (char *)o->vendor;
	a->version = (char *)o->version;
	a->file = (char *)st->name;
	a->sha256 = (char *)st->digests.sha256_hex;
	a->sha512 = (char *)st->digests.sha512_hex;
	a->approved_by = (char *)st->who.name;
	a->ticket = (char *)o->ticket;
	a->approved_at = day;
	a->source = (char *)o->source;
	a->expires = (char *)o->expires;
	a->existing = st->existing;
	a->accept_unsigned = (char *)o->accept_unsigned;
	a->not_in_catalog = (char *)o->not_in_catalog;
	a->description = (char *)o->description;
}

static json_t *approval_json(const sg_approve *st)
{
	char day[16], now[32];
	sg_approval ap;
	json_t *prov, *a;

	today_and_now(day, now);
	prov = json_pack("{s:s, s:s, s:o, s:{s:s, s:I, s:s, s:s, s:s, s:s, s:b}, s:o}", "tool",
			 "signgate " SG_VERSION " policy approve", "time", now, "approver",
			 sg_approver_json(&st->who), "installer", "name", st->name, "size",
			 (json_int_t)st->digests.size, "sha256", st->digests.sha256_hex, "sha512",
			 st->digests.sha512_hex, "sha1", st->digests.sha1_hex, "format",
			 sg_format_name(st->format.kind), "signed", st->format.has_signature,
			 "vendor_values", values_json(st));
	if (prov && st->openpgp)
		json_object_set(prov, "openpgp", st->openpgp);
	approval_of(&ap, st, day);
	a = sg_approval_json(&ap, SG_APPROVAL_AS_FILE);
	if (!a || !prov || json_object_set_new(a, "provenance", prov) != 0) {
		json_decref(a);
		json_decref(prov);
		return NULL;
	}
	return a;
}

/* What the existing policy says about this approval before it is written. */
static int check_against_policy(sg_approve *st, const char *policy_path)
{
	sg_policy *p = NULL;
	const sg_product *pr;
	/* An empty folder is a new policy: its first approval is written here. */
	int error = sg_policy_load_for_approve(&p, policy_path);

	if (error) {
		sg_error_prefix("the policy does not load as it is; fix it first");
		return error;
	}
	st->require_cosign |= p->require_cosign;
	for (size_t i = 0; i < p->n_approvals; i++)
		if (strcmp(p->approvals[i].id, st->id) == 0)
			error = sg_error_set(SG_ERR_EXISTS,
					     "approval id %s exists already (%s): choose another "
					     "--id",
					     st->id, p->approvals[i].origin);
	pr = sg_policy_product(p, st->o->product);
	if (!error && pr && pr->vendor_signs && !st->format.has_signature &&
	    !st->o->accept_unsigned)
		error = sg_error_set(SG_ERR_DENIED,
				     "%s: %s is listed as vendor-signed in the catalog (%s), but "
				     "this file carries no signature: a tampered or look-alike "
				     "download? Check it; to approve it anyway, give "
				     "--accept-unsigned with the reason and ticket",
				     st->name, pr->product, pr->origin);
	if (!error && !pr && p->n_products > 0 && !st->o->not_in_catalog)
		error = sg_error_set(
			SG_ERR_DENIED,
			"%s: product \"%s\" is not in the policy's catalog, so signing "
			"would deny it: add it to the catalog, or give --not-in-catalog "
			"with the reason and ticket",
			st->name, st->o->product);
	sg_policy_free(p);
	return error;
}

/*
 * Write POLICY/ID.json atomically, never over an existing file; with
 * --cert/--key its first approver's signature beside it, or neither.
 */
static int write_approval(sg_approve *st, json_t *approval)
{
	json_t *doc = json_pack("{s:s, s:[O]}", "$schema", "./approval.schema.json", "approvals",
				approval);
	char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	char name[160];
	unsigned char *der = NULL;
	size_t len, der_len = 0;
	int error = SG_OK;

	json_decref(doc);
	snprintf(name, sizeof(name), "%s.json", st->id);
	st->approval_path = sg_path_join(st->policy_dir, name);
	if (!text || !st->approval_path) {
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
		goto out;
	}
	len = strlen(text);
	text[len] = '\n'; /* json_dumps leaves room: we replace the NUL and write len + 1 */
	if ((error = sg_approver_sign(&st->who, &der, &der_len, st->approval_path, text, len + 1)))
		goto out;
	error = sg_publish_bytes(st->approval_path, text, len + 1, 0644, 0);
	/* A signature left by an earlier file of this name is replaced. */
	if (!error && der &&
	    (error = sg_cosign_publish(st->approval_path, SG_COSIGN_FIRST, der, der_len, 1)) !=
		    SG_OK) {
		unlink(st->approval_path);
		sg_error_prefix("%s was taken back", st->approval_path);
	}
out:
	free(der);
	free(text);
	return error;
}

void sg_approve_free(sg_approve *st)
{
	sg_workdir_remove(&st->wd);
	free(st->copy);
	free(st->manifest_copy);
	free(st->policy_dir);
	free(st->keyring_path);
	free(st->approval_path);
	free(st->manifest_text);
	json_decref(st->openpgp);
	json_decref(st->approval);
	free(st->index_warning);
	sg_approver_free(&st->who);
}

/* The folder of the policy: approvals are one file each, so it must be a folder. */
static int policy_folder(sg_approve *st, const char *policy_path)
{
	struct stat st_dir;

	if (stat(policy_path, &st_dir) != 0)
		return sg_error_set(SG_ERR_CONFIG, "%s: cannot read the policy: %s", policy_path,
				    strerror(errno));
	if (!S_ISDIR(st_dir.st_mode))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: policy approve writes one file per approval, so the "
				    "policy must be a folder",
				    policy_path);
	st->policy_dir = strdup(policy_path);
	return st->policy_dir ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/* Copy the installer privately (hashing it once) and check that it is one, signed or not. */
static int take_installer(sg_approve *st)
{
	int fd, error;

	/* Named like the original: gpgv's messages name the data file. */
	st->copy = sg_path_join(st->wd.path, st->name);
	if (!st->copy)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = sg_private_copy(&st->digests, st->o->installer, st->copy, st->name, SG_DIGEST_ALL);
	if (error)
		return error;
	fd = open(st->copy, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot reopen the private copy", st->name);
	error = sg_format_inspect(&st->format, fd, st->name);
	/*
	 * "Signed" as sign judges it, by the same check: a container that
	 * claims a signature nobody can read is refused here as sign would deny
	 * it, never approved as the vendor's signature.
	 */
	if (!error)
		error = sg_authenticode_readable(&st->format, fd, st->name);
	close(fd);
	return error;
}

/* The manifest: read once; parsed from memory, and its copy goes to gpgv. */
static int take_manifest(sg_approve *st)
{
	int error;

	if (!st->o->manifest)
		return SG_OK;
	error = read_small(&st->manifest_text, &st->manifest_len, st->o->manifest);
	if (!error)
		error = sg_sha256_hex(st->manifest_sha256, st->manifest_text, st->manifest_len);
	st->manifest_copy = error ? NULL : sg_path_join(st->wd.path, sg_path_base(st->o->manifest));
	if (!error && !st->manifest_copy)
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error)
		error = sg_write_private(st->manifest_copy, st->manifest_text, st->manifest_len);
	return error;
}

/* Remove the approval file just written, and its first approver's signature. */
static void take_back(const sg_approve *st)
{
	char *sig = st->who.key ? sg_cosign_sig_path(st->approval_path, SG_COSIGN_FIRST) : NULL;

	unlink(st->approval_path);
	if (sig)
		unlink(sig);
	free(sig);
}

/*
 * The folder must still load as signing will load it; else take the file
 * back. The same full load writes the policy's index, so that signing need
 * not load every file: an index that cannot be written is only a warning.
 */
static int reindex(sg_approve *st, const char *policy_path)
{
	int loaded = 0, error = sg_policy_index_write(policy_path, &loaded);

	if (error && !loaded) {
		take_back(st);
		return sg_error_prefix("%s was taken back: with it the policy does not load",
				       st->approval_path);
	}
	/* Not an error: the caller warns. */
	if (error && !(st->index_warning = strdup(sg_error_last())))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	sg_error_clear();
	return SG_OK;
}

static int run(sg_approve *st, const char *policy_path)
{
	const sg_approve_request *o = st->o;
	int error;

	if (o->id)
		snprintf(st->id, sizeof(st->id), "%s", o->id);
	else
		default_id(st->id, sizeof(st->id), o->product, o->version);
	/* An unknown word is an error, never taken for "refuse". */
	if ((error = sg_existing_rule_parse(&st->existing, o->existing)) ||
	    (error = sg_approver_identify(&st->who)) || (error = policy_folder(st, policy_path)) ||
	    (error = sg_workdir_create(&st->wd)) || (error = take_installer(st)) ||
	    (error = take_manifest(st)) || (error = check_against_policy(st, policy_path)) ||
	    (error = gather_values(st)) || (error = compare_values(st)))
		return error;
	if (o->manifest_sig || o->installer_sig)
		error = find_keyring(st);
	if (!error && o->manifest_sig)
		error = check_openpgp(st, o->manifest_sig, st->manifest_copy, "manifest");
	if (!error && o->installer_sig)
		error = check_openpgp(st, o->installer_sig, st->copy, "installer");
	if (error)
		return error;
	st->approval = approval_json(st);
	if (!st->approval)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = write_approval(st, st->approval);
	if (error)
		return error;
	return reindex(st, policy_path);
}

/* With --config, the decision goes into the audit log like any other. */
static int record(const sg_config *cfg, const sg_approve *st, const json_t *approval, int status)
{
	const char *written = json_string_value(json_object_get(approval, "approved_at"));
	char day[16];
	json_t *rec, *ap_json;
	sg_approval ap;
	sg_audit_receipt r;
	int error;

	if (!cfg)
		return SG_OK;
	/* The record says the day the approval file says (midnight may pass in between). */
	if (written)
		snprintf(day, sizeof(day), "%s", written);
	else
		today_and_now(day, NULL);
	approval_of(&ap, st, day);
	ap.origin = status ? NULL : st->approval_path;
	ap_json = sg_approval_json(&ap, SG_APPROVAL_AS_RECORD);
	rec = ap_json ? json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:I, s:s?, s:s?}, s:o}", "action",
				  "approve", "decision", status ? "denied" : "approved", "status",
				  sg_status_name(status), "input", "path", st->o->installer, "name",
				  st->name, "size", (json_int_t)st->digests.size, "sha256",
				  st->digests.size || st->digests.sha256_hex[0]
					  ? st->digests.sha256_hex
					  : NULL,
				  "sha512",
				  st->digests.sha512_hex[0] ? st->digests.sha512_hex : NULL,
				  "approval", ap_json)
		      : NULL;
	if (!rec)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	json_object_set_new(ap_json, "approved_by", json_string(st->who.name));
	json_object_set_new(ap_json, "approved_by_from",
			    json_string(st->who.key ? "certificate" : "account"));
	if (st->who.key)
		json_object_set_new(ap_json, "approved_by_cert",
				    sg_cosigner_json(&st->who.signer, 0));
	if (status)
		json_object_set_new(rec, "reasons", json_pack("[s]", sg_error_last()));
	if (approval)
		json_object_set(rec, "provenance", json_object_get(approval, "provenance"));
	error = sg_audit_append_receipt(cfg->audit_log, rec, &r);
	if (!error && cfg->syslog_facility >= 0)
		sg_audit_syslog(&r, rec, cfg->syslog_facility, cfg->syslog_tag);
	json_decref(rec);
	return error;
}

int sg_approve_run(sg_approve *st, const char *policy_path)
{
	int status = run(st, policy_path), rec_error;
	char *saved;

	/* Usage and configuration errors are not decisions; refusals and approvals are. */
	if (status == SG_ERR_USAGE || status == SG_ERR_CONFIG || status == SG_ERR_NOMEM)
		return status;
	saved = strdup(sg_error_last());
	rec_error = record(st->cfg, st, st->approval, status);
	if (rec_error && !status) {
		/* No approval without its record: take the file back. */
		take_back(st);
		status = sg_error_prefix("%s was taken back: the approval could not be recorded",
					 st->approval_path);
	} else if (status) {
		sg_error_set(status, "%s", saved ? saved : "out of memory");
	}
	free(saved);
	return status;
}

/*
 * signgate audit report: --out never replaces, creates or lands beside what
 * the report reads (tools/cmd_audit_report.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_audit_report.h"
#include "signgate/policy.h"
#include "signgate/util.h"

/*
 * What --out names now: the file (stat) and, when it is a link, the link
 * (lstat); and the path it names, whether a file is there or not.
 */
struct out_ids {
	struct stat st[2];
	int n;
	char *key; /* path_key() of --out; NULL: its folder is not there */
	int nomem;
};

/*
 * `path` as a name in a real folder: the realpath() of its folder joined
 * with its base name, so that a file not made yet has one too (a path
 * ending in "/", "." or "..": its own realpath()). NULL when the folder is
 * not there; *nomem set when out of memory.
 */
static char *path_key(const char *path, int *nomem)
{
	const char *base = sg_path_base(path);
	char *dir, *real, *key;

	errno = 0;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		key = realpath(path, NULL);
		*nomem |= !key && errno == ENOMEM;
		return key;
	}
	dir = sg_path_dir(path);
	real = dir ? realpath(dir, NULL) : NULL;
	key = real ? sg_path_join(real, base) : NULL;
	*nomem |= !dir || (!real && errno == ENOMEM) || (real && !key);
	free(dir);
	free(real);
	return key;
}

static int is_out(const struct out_ids *out, const struct stat *st)
{
	for (int i = 0; i < out->n; i++)
		if (out->st[i].st_dev == st->st_dev && out->st[i].st_ino == st->st_ino)
			return 1;
	return 0;
}

/*
 * Is `other` what --out names: the same file (followed or not: a hard link
 * or a symlink to it), or the same path, also when no file is there yet (the
 * seals before the first seal, an archive a rotate record names)?
 */
/* Is `path`'s name (path_key) --out's? */
static int same_key(struct out_ids *out, const char *path)
{
	char *key;
	int same;

	if (!out->key)
		return 0;
	key = path_key(path, &out->nomem);
	same = key && strcmp(key, out->key) == 0;
	free(key);
	return same;
}

/*
 * Where the symbolic link `link` points, as a path (relative targets taken
 * from the link's folder), newly allocated; NULL when it is no link or out
 * of memory (*nomem set).
 */
static char *link_target(const char *link, int *nomem)
{
	char target[PATH_MAX], *dir, *path;
	ssize_t n = readlink(link, target, sizeof(target) - 1);

	if (n <= 0)
		return NULL;
	target[n] = '\0';
	if (target[0] == '/')
		path = strdup(target);
	else if ((dir = sg_path_dir(link)) != NULL) {
		path = sg_path_join(dir, target);
		free(dir);
	} else
		path = NULL;
	*nomem |= !path;
	return path;
}

/*
 * Is `other` (an input; NULL: none) what --out names: the same file, the
 * same link, the same name, or, for a link to a file not there yet (a
 * dangling link), the name it points at (up to 8 links), which --out
 * would create?
 */
static int is_input(struct out_ids *out, const char *other)
{
	struct stat st;
	char *hop = NULL, *next;
	int same = 0;

	if (!other)
		return 0;
	if (stat(other, &st) == 0 && is_out(out, &st))
		return 1;
	if (lstat(other, &st) == 0 && S_ISLNK(st.st_mode) && is_out(out, &st))
		return 1;
	if (same_key(out, other))
		return 1;
	for (int i = 0; i < 8 && !same; i++) {
		next = link_target(hop ? hop : other, &out->nomem);
		free(hop);
		hop = next;
		if (!hop)
			break;
		same = same_key(out, hop);
	}
	free(hop);
	return same;
}

/* A path of the config, or NULL for none or a token's URI ("pkcs11:..."). */
static const char *file_of(const char *path)
{
	return path && strncmp(path, "pkcs11:", 7) != 0 ? path : NULL;
}

/*
 * A file the config names that --out is (by inode or by path), or NULL:
 * whatever decides for signgate, whether or not this report reads it (the
 * policy, a file or a folder; the trust anchors and CRLs; the signing and
 * sealing certificates and keys; the seals; the programs and modules it
 * runs). A report written over one of them would stop or mislead every
 * later run.
 */
static const char *config_input(const sg_config *c, struct out_ids *out)
{
	const char *paths[] = { c->policy,	       c->audit_log,	      c->ca_file,
				c->tsa_ca_file,	       c->crl_file,	      c->approvers_ca_file,
				c->approvers_crl_file, c->pkcs12,	      c->cert_chain,
				file_of(c->key),       c->pkcs11_module,      c->certificate,
				c->osslsigncode,       file_of(c->seal_key),  c->seal_cert,
				c->seal_pkcs11_module, c->seal_file };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (is_input(out, paths[i]))
			return paths[i];
	return NULL;
}

/* The input --out would replace or create, or NULL. */
static const char *out_input(const report_run *r, struct out_ids *out)
{
	const report_opts *o = r->o;
	const sg_approvers_trust *a = r->policy && r->cfg ? &r->approvers : NULL;
	const char *paths[] = { r->seals_path,
				r->missing, /* the archive a rotate record names, not there */
				r->seal_cert,
				o->policy,
				o->config,
				o->against,
				a ? a->ca_file : NULL,
				a ? a->crl_file : NULL,
				a ? a->shared_crl_file : NULL };

	for (size_t i = 0; i < r->n_logs; i++)
		if (is_input(out, r->logs[i]))
			return r->logs[i];
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (is_input(out, paths[i]))
			return paths[i];
	/* Each policy file as it was read (a folder's too). */
	for (size_t i = 0; r->policy && i < r->policy->n_files; i++)
		if (is_out(out, &r->policy->files[i].st) || is_input(out, r->policy->files[i].path))
			return r->policy->files[i].path;
	return r->cfg ? config_input(r->cfg, out) : NULL;
}

/* Is the folder `dir` the policy folder `policy`, or inside it? */
static int in_folder(const char *dir, const char *policy)
{
	struct stat pol, st;
	char *real, *end;
	int found = 0;

	if (!policy || stat(policy, &pol) != 0 || !S_ISDIR(pol.st_mode) ||
	    !(real = realpath(dir, NULL)))
		return 0;
	for (end = real + strlen(real); !found; *end = '\0') {
		found = stat(real[0] ? real : "/", &st) == 0 && st.st_dev == pol.st_dev &&
			st.st_ino == pol.st_ino;
		end = strrchr(real, '/');
		if (!end)
			break;
	}
	free(real);
	return found;
}

/*
 * The folder of a policy file the report read (a --policy file's as well
 * as a folder's) that `dir` is or lies inside, newly allocated in *found,
 * with that file in *file; *found NULL when there is none.
 */
static int in_policy_files_folder(char **found, const char **file, const report_run *r,
				  const char *dir)
{
	char *prev = NULL, *cur;

	*found = NULL;
	for (size_t i = 0; r->policy && i < r->policy->n_files; i++) {
		if (!r->policy->files[i].path)
			continue;
		cur = sg_path_dir(r->policy->files[i].path);
		if (!cur) {
			free(prev);
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		}
		if (prev && strcmp(prev, cur) == 0) { /* a folder's files: the folder once */
			free(cur);
			continue;
		}
		free(prev);
		prev = cur;
		if (in_folder(dir, cur)) {
			*found = cur;
			*file = r->policy->files[i].path;
			return SG_OK;
		}
	}
	free(prev);
	return SG_OK;
}

/* Is --out inside a folder the next signing reads as policy? */
static int out_in_policy(const report_run *r)
{
	const char *out = r->o->out, *pol = r->cfg ? r->cfg->policy : NULL, *file = NULL;
	char *dir = sg_path_dir(out), *folder = NULL;
	int error = dir ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	if (!error && (in_folder(dir, r->o->policy) || in_folder(dir, pol)))
		error = sg_error_set(SG_ERR_USAGE,
				     "--out %s is inside the policy folder %s: the next signing "
				     "would read a report there as policy: give another",
				     out, in_folder(dir, r->o->policy) ? r->o->policy : pol);
	if (!error)
		error = in_policy_files_folder(&folder, &file, r, dir);
	if (!error && folder)
		error = sg_error_set(SG_ERR_USAGE,
				     "--out %s is inside the policy folder %s (the folder of the "
				     "policy file %s): the next signing would read a report there "
				     "as policy: give another",
				     out, folder, file);
	free(dir);
	free(folder);
	return error;
}

/* The refusal of an --out that is `input`, there or not yet. */
static int refuse_input(const char *out, const char *input)
{
	struct stat st;
	int other = strcmp(input, out) != 0;

	return sg_error_set(SG_ERR_USAGE,
			    "--out %s is a file the report is made from%s: give another%s%s%s", out,
			    lstat(input, &st) != 0 ? " (not there yet: the report names it)" : "",
			    other ? " (it is " : "", other ? input : "", other ? ")" : "");
}

/*
 * --out --force may replace a report, never a file the report is made from,
 * compared by inode (a hard link or a symlink to one is the same file) and
 * by path (the real path of the folder and the name: so --out never makes
 * an input the report names that is not there yet, such as the seals before
 * the first seal or the archive a rotate record names); and never lands in
 * a policy folder, where the next signing would read a report named *.json
 * as policy: the --policy folder, the folder of any policy file read, the
 * config's policy folder.
 */
int report_out_is_input(const report_run *r)
{
	const char *out_path = r->o->out, *input;
	struct out_ids out = { .n = 0 };
	int error;

	if (stat(out_path, &out.st[0]) == 0)
		out.n++;
	if (lstat(out_path, &out.st[out.n]) == 0 && S_ISLNK(out.st[out.n].st_mode))
		out.n++;
	out.key = path_key(out_path, &out.nomem);
	input = out_input(r, &out);
	if (out.nomem)
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	else if (input)
		error = refuse_input(out_path, input);
	else
		error = out_in_policy(r);
	free(out.key);
	return error;
}

/*
 * signgate cert export: the Windows side's files from the certificates
 * alone (signgate/cert_export.h), written atomically into --out-dir, or
 * compared with a folder (--check DIR).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_cert.h"
#include "signgate/cert_export.h"
#include "signgate/config.h"
#include "signgate/error.h"
#include "signgate/util.h"

/*
 * The folder `path` is about to be created in: it and every folder above it
 * must be safe (sg_workdir_check_parent()) before anything is made in it.
 */
static int check_before_mkdir(char *path)
{
	char *slash = strrchr(path, '/');
	int error;

	if (!slash)
		return sg_workdir_check_parent(".", "export folder ");
	if (slash == path)
		return sg_workdir_check_parent("/", "export folder ");
	*slash = '\0';
	error = sg_workdir_check_parent(path, "export folder ");
	*slash = '/';
	return error;
}

/*
 * Create `dir` and its parents as needed (mode 0755: public material for
 * the Windows side), each only in a folder that passed the parent check.
 */
static int ensure_dir(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return sg_error_set(SG_ERR_USAGE, "%s: path too long", dir);
	for (char *p = path + 1;; p++) {
		char c = *p;
		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (stat(path, &st) != 0) {
			int error = check_before_mkdir(path);
			if (error)
				return error;
			if (mkdir(path, 0755) == 0)
				(void)chmod(path, 0755);
			else if (errno != EEXIST)
				return sg_error_set(SG_ERR_IO, "%s: cannot create the folder: %s",
						    path, strerror(errno));
		}
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			return sg_error_set(SG_ERR_IO, "%s: not a folder", path);
		*p = c;
		if (c == '\0')
			return SG_OK;
	}
}

/* The certificates' sources: the config's signing section, or --cert/--chain/--ca/--crl. */
static int load(sg_export *ex, sg_config **cfg, const cert_opts *o)
{
	sg_export_input in = { 0 };
	int error = SG_OK;

	if (o->config) {
		error = sg_config_load(cfg, o->config);
		if (error)
			return error;
		in.certificate = (*cfg)->certificate;
		in.cert_chain = (*cfg)->cert_chain;
		in.pkcs12 = (*cfg)->pkcs12;
		in.ca_file = (*cfg)->ca_file;
		in.crl_file = (*cfg)->crl_file;
		in.ignore_crl = (*cfg)->ignore_crl;
		in.require_crl = 1;
	} else {
		/* A reviewer's own copies: a warning, not a refusal (README "Strict modes"). */
		cli_strict_warn(o->ca, 0);
		cli_strict_warn(o->crl, 0);
		in.certificate = o->cert;
		in.certificate_what = "--cert";
		in.ca_file = o->ca;
		in.crl_file = o->crl;
	}
	in.chain = o->chain;
	in.expect_thumbprint = o->expect_thumbprint;
	error = sg_export_load(ex, &in);
	if (!error && ex->note[0])
		cli_error("warning: %s", ex->note);
	if (!error && !o->config && !o->crl)
		cli_error("warning: revocation not checked (no --crl): the chain was verified "
			  "without CRLs");
	if (!error)
		error = sg_export_build(ex);
	return error;
}

static void note_extra(const sg_export *ex, const char *dir)
{
	sg_export_diff *d = NULL;
	size_t n = 0, differ = 0;

	if (sg_export_check(&d, &n, &differ, ex, dir) != SG_OK)
		return;
	for (size_t i = 0; i < n; i++)
		if (d[i].status == SG_EXPORT_EXTRA)
			cli_error("note: %s/%s: %s; remove it if it is stale", dir, d[i].name,
				  d[i].reason);
	free(d);
}

/*
 * After an export with --allow-older-crl: the newer CRLs it left in the
 * folder (export removes no file it does not write), each with what to do.
 */
static void note_newer_crls(const sg_export *ex, const char *dir)
{
	sg_export_diff *d = NULL;
	size_t n = 0;

	if (sg_export_newer_crls(&d, &n, ex, dir) != SG_OK) {
		cli_error("warning: %s", sg_error_last());
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (d[i].status == SG_EXPORT_UNSAFE)
			cli_error("warning: %s/%s: %s, so whether it holds a newer CRL was not "
				  "checked (--allow-older-crl)",
				  dir, d[i].name, d[i].reason);
		else
			cli_error("warning: %s/%s: %s; left in the folder (--allow-older-crl): "
				  "remove it if the older CRL is meant, or Windows may be given "
				  "either (until then --check lists it and export refuses without "
				  "--allow-older-crl)",
				  dir, d[i].name, d[i].reason);
	free(d);
}

static int run_write(const sg_export *ex, const cert_opts *o)
{
	char *dir, warn[2048] = "";
	int error = ensure_dir(o->out_dir);

	if (error)
		return cli_fail();
	if (!(dir = cli_out_dir_resolve(o->out_dir, "--out-dir")))
		return CLI_EXIT_OPERATIONAL;
	error = sg_export_check_folder(dir);
	if (!error && !o->allow_older_crl)
		error = sg_export_check_crl_rollback(ex, dir);
	if (!error)
		error = sg_export_publish(warn, sizeof(warn), ex, dir, o->force);
	if (!error) {
		printf("thumbprint  %s\n", ex->signer.sha1_thumbprint);
		for (size_t i = 0; i < ex->n_files; i++)
			printf("wrote       %s/%s\n", dir, ex->files[i].name);
		fflush(stdout);
		if (warn[0])
			cli_error("warning: %s", warn);
		if (o->allow_older_crl)
			note_newer_crls(ex, dir);
		note_extra(ex, dir);
	}
	free(dir);
	return error ? cli_fail() : CLI_EXIT_OK;
}

static int print_check_json(const sg_export *ex, const char *dir, const sg_export_diff *d, size_t n,
			    int rc)
{
	json_t *files = json_array(), *obj;

	for (size_t i = 0; files && i < n; i++) {
		json_t *e = json_pack("{s:s, s:s, s:s}", "name", d[i].name, "status",
				      sg_export_status_name(d[i].status), "reason", d[i].reason);
		if (json_array_append_new(files, e) != 0) {
			json_decref(files);
			files = NULL;
		}
	}
	if (!files)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	obj = json_pack("{s:s, s:s, s:b, s:s, s:s, s:o, s:i}", "format",
			"signgate-cert-export-check/1", "dir", dir, "up_to_date", rc == 0,
			"sha1_thumbprint", ex->signer.sha1_thumbprint, "not_after",
			ex->signer.not_after, "files", files, "exit_code", rc);
	if (!obj)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	cli_print_json(obj);
	json_decref(obj);
	return SG_OK;
}

static int run_check(const sg_export *ex, const cert_opts *o)
{
	sg_export_diff *d = NULL;
	size_t n = 0, differ = 0, count[SG_EXPORT_UNSAFE + 1] = { 0 }, folder_unsafe = 0;
	char *dir = cli_out_dir_resolve(o->check_dir, "--check");
	int rc;

	if (!dir)
		return CLI_EXIT_OPERATIONAL;
	if (sg_export_check(&d, &n, &differ, ex, dir) != SG_OK) {
		free(dir);
		return cli_fail();
	}
	rc = differ ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		count[d[i].status]++;
		folder_unsafe += d[i].status == SG_EXPORT_UNSAFE && strcmp(d[i].name, ".") == 0;
	}
	if (o->json) {
		if (print_check_json(ex, dir, d, n, rc) != SG_OK)
			rc = cli_fail();
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%-10s %s%s%s\n", sg_export_status_name(d[i].status), d[i].name,
			       d[i].reason[0] ? ": " : "", d[i].reason);
		if (!differ)
			printf("%s: up to date (signer %s)\n", dir, ex->signer.sha1_thumbprint);
		else
			printf("%s: differs from what export writes now: %zu changed, %zu "
			       "missing, %zu extra, %zu unsafe file(s)%s\n",
			       dir, count[SG_EXPORT_CHANGED], count[SG_EXPORT_MISSING],
			       count[SG_EXPORT_EXTRA], count[SG_EXPORT_UNSAFE] - folder_unsafe,
			       folder_unsafe ? ", and others may write the folder" : "");
		fflush(stdout);
	}
	free(d);
	free(dir);
	return rc;
}

int cert_export_run(const cert_opts *o)
{
	sg_export ex = { 0 };
	sg_config *cfg = NULL;
	int error = load(&ex, &cfg, o), rc;

	if (error == SG_ERR_VERIFY) {
		cli_error("%s; %s", sg_error_last(),
			  o->check_dir ? "nothing compared" : "nothing exported");
		rc = CLI_EXIT_REJECTED;
	} else if (error)
		rc = cli_fail();
	else
		rc = o->check_dir ? run_check(&ex, o) : run_write(&ex, o);
	sg_export_free(&ex);
	sg_config_free(cfg);
	return rc;
}

/*
 * A signature attached by `osslsigncode attach-signature`, for what signgate
 * does not sign in place (MSI, nested signatures); see
 * include/signgate/attach.h.
 */
#include "attach.h"
#include "signgate/error.h"
#include "proc.h"
#include "signgate/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ATTACH_TIMEOUT 600 /* seconds: it reads and writes the whole file once */
#define ATTACH_ARGV    24

/*
 * No key, no secret, no URL: only the signature, the trust anchors and CRLs
 * for the check it makes after attaching (that check's verdict is not used,
 * but without -CAfile 2.9 refuses to start), the input and the output.
 */
static void build_argv(const char *argv[ATTACH_ARGV], const sg_config *cfg,
		       const sg_attach_request *req, const char *sig, const char *output)
{
	size_t n = 0;

	argv[n++] = cfg->osslsigncode;
	argv[n++] = "attach-signature";
	argv[n++] = "-sigin";
	argv[n++] = sig;
	argv[n++] = "-CAfile";
	argv[n++] = req->ca_file;
	if (req->crl_file) {
		argv[n++] = "-CRLfile";
		argv[n++] = req->crl_file;
		argv[n++] = "-TSA-CRLfile";
		argv[n++] = req->crl_file;
	}
	if (req->tsa_ca_file) {
		argv[n++] = "-TSA-CAfile";
		argv[n++] = req->tsa_ca_file;
	}
	if (req->nest)
		argv[n++] = "-nest";
	if (req->add_msi_dse)
		argv[n++] = "-add-msi-dse";
	argv[n++] = "-in";
	argv[n++] = req->input;
	argv[n++] = "-out";
	argv[n++] = output;
	argv[n] = NULL;
}

/* The first line osslsigncode wrote, stderr first: "Unable to extract valid signature". */
static void first_line(char *out, size_t len, const sg_proc_result *r)
{
	const char *src = r->err + strspn(r->err, "\r\n");

	if (!*src)
		src = r->out + strspn(r->out, "\r\n");
	snprintf(out, len, "%.*s", (int)strcspn(src, "\r\n"), src);
}

/*
 * Its exit status says nothing either way: 2.9 exits 1 and keeps the
 * output when only its own check of the result fails (an offline CRL, a
 * chain it cannot build), and a zero status would prove nothing about the
 * bytes. An output that exists is the caller's to judge; a run that was
 * killed or timed out left nothing worth judging.
 */
static int judge(const sg_proc_result *r, const sg_attach_request *req, const char *name)
{
	char how[64], line[512];
	struct stat st;

	first_line(line, sizeof(line), r);
	sg_proc_describe(r, ATTACH_TIMEOUT, how, sizeof(how));
	if (r->timed_out || r->signo)
		return sg_error_set(SG_ERR_TOOL, "%s: osslsigncode attach-signature %s: %s", name,
				    how, line[0] ? line : "(no message)");
	if (lstat(req->output, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return sg_error_set(SG_ERR_TOOL,
				    "%s: osslsigncode attach-signature %s and wrote no output: %s",
				    name, how, line[0] ? line : "(no message)");
	return SG_OK;
}

static int check_request(const sg_config *cfg, const sg_attach_request *req, const char *name)
{
	if (!cfg->osslsigncode || !req->ca_file || !req->input || !req->output || !req->workdir ||
	    !req->der || req->der_len == 0)
		return sg_error_set(SG_ERR_USAGE, "%s: incomplete request to attach a signature",
				    name);
	if (sg_path_exists(req->output))
		return sg_error_set(SG_ERR_USAGE, "%s: the output %s exists already", name,
				    req->output);
	return SG_OK;
}

/* What it may do: read its input, signature and trust files, write in `dir` only. */
static void confine_spec(sg_confine_spec *cs, const char *reads[6], const sg_attach_request *req,
			 const char *sig, const char *dir)
{
	struct stat st;
	size_t n = 0;
	unsigned long long size = stat(req->input, &st) == 0 ? (unsigned long long)st.st_size : 0;

	reads[n++] = req->input;
	reads[n++] = sig;
	reads[n++] = req->ca_file;
	if (req->crl_file)
		reads[n++] = req->crl_file;
	if (req->tsa_ca_file)
		reads[n++] = req->tsa_ca_file;
	reads[n] = NULL;
	memset(cs, 0, sizeof(*cs));
	cs->name = "osslsigncode";
	cs->read_paths = reads;
	cs->write_dir = dir;
	cs->system_files = 1;
	/* The input again with the signature; an MSI's compound file may grow by its tables. */
	cs->fsize_bytes = size + size / 8 + 2 * (unsigned long long)req->der_len + (1u << 20);
	cs->cpu_sec = ATTACH_TIMEOUT; /* a large MSI takes its time; the wall clock bounds it too */
}

/* Run it with its output in an empty folder of its own, then move the output into place. */
static int run_confined(sg_proc_result *r, const char *argv[ATTACH_ARGV], const sg_config *cfg,
			const sg_attach_request *req, const char *sig)
{
	const char *hide[SG_CONFIG_SECRET_FILES_MAX + 1], *reads[6];
	sg_confine_report local;
	sg_confine_spec cs;
	sg_proc_confine pc = { &cs, req->confinement ? req->confinement : &local, 1, hide };
	sg_proc_spec spec = { argv, NULL, NULL, 0, ATTACH_TIMEOUT };
	char *dir = NULL, *tmp = NULL;
	int error = sg_confine_outdir_create(&dir, req->workdir);

	if (!error && !(tmp = sg_path_join(dir, sg_path_base(req->output))))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error) {
		build_argv(argv, cfg, req, sig, tmp);
		confine_spec(&cs, reads, req, sig, dir);
		/* It runs as signgate's account: the key material and secrets are hidden from it.
		 */
		sg_config_secret_files(hide, cfg);
		error = sg_proc_run_confined(r, &spec, &pc);
	}
	if (!error && sg_path_exists(tmp) &&
	    sg_confine_outdir_collect(dir, sg_path_base(req->output), req->output) != SG_OK) {
		sg_proc_result_free(r);
		error = SG_ERR_TOOL;
	}
	sg_confine_outdir_remove(dir);
	free(dir);
	free(tmp);
	return error;
}

int sg_attach_osslsigncode(const sg_config *cfg, const sg_attach_request *req)
{
	const char *name = req->name ? req->name : req->input ? req->input : "(unnamed)";
	const char *argv[ATTACH_ARGV];
	sg_proc_result r;
	char *sig = NULL;
	int error;

	if ((error = check_request(cfg, req, name)) != SG_OK)
		return error;
	/* A .der name: osslsigncode picks the signature's format by extension. */
	if (!(sig = sg_path_join(req->workdir, "sig.der")))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if ((error = sg_write_private(sig, req->der, req->der_len)) != SG_OK) {
		free(sig);
		return sg_error_prefix("%s", name);
	}
	error = run_confined(&r, argv, cfg, req, sig);
	unlink(sig);
	free(sig);
	if (error != SG_OK) {
		unlink(req->output);
		return sg_error_prefix("%s", name);
	}
	error = judge(&r, req, name);
	sg_proc_result_free(&r);
	if (error != SG_OK)
		unlink(req->output);
	return error;
}

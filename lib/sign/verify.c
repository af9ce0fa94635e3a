/* Verification as the site server does it; see include/signgate/verify.h. */
#include "signgate/verify.h"
#include "authenticode.h"
#include "signgate/authenticode_sign.h"
#include "signgate/cert.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/hash.h"
#include "proc.h"
#include "trust.h"
#include "signgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>

#define VERIFY_FSIZE   (64u << 10) /* bytes: without Landlock, the little it may write */
#define VERIFY_TIMEOUT 300

__attribute__((format(printf, 3, 4)))
static int fail(sg_verify_result *out, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return sg_error_set(SG_ERR_VERIFY, "%s: %s", name, out->reason);
}

/* The value after "key:" on the line starting with `key` in [start, end), trimmed. */
static int field(char *val, size_t len, const char *start, const char *end, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = start; p && p < end; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *q = p;
		while (*q == '\t' || *q == ' ')
			q++;
		if (strncmp(q, key, klen) == 0) {
			const char *v = strchr(q + klen, ':'), *e;
			if (!v)
				continue;
			for (v++; *v == ' '; v++)
				;
			e = strchr(v, '\n');
			if (!e || e > end)
				e = end;
			while (e > v && (e[-1] == ' ' || e[-1] == '\r'))
				e--;
			snprintf(val, len, "%.*s", (int)(e - v), v);
			return 1;
		}
	}
	return 0;
}

/* A line in [start, end) that contains `needle`, copied into line; 1 when found. */
static int find_line(char *line, size_t len, const char *start, const char *end, const char *needle)
{
	const char *hit = start;

	while ((hit = strstr(hit, needle)) != NULL && hit < end) {
		const char *b = hit, *e = strchr(hit, '\n');
		while (b > start && b[-1] != '\n')
			b--;
		if (!e || e > end)
			e = end;
		snprintf(line, len, "%.*s", (int)(e - b), b);
		return 1;
	}
	return 0;
}

/*
 * Every "Current X: value" line of the block needs a "Calculated X: value"
 * line with the same value (PE: message digest; MSI: DigitalSignature and
 * MsiDigitalSignatureEx). `first_calc` receives the first calculated value that
 * is a file digest (not MsiDigitalSignatureEx's pre-hash). Returns the
 * number of pairs, or -1 on a mismatch with the pair described in `why`.
 */
static int compare_digests(char *why, size_t len, const char *b, const char *e,
			   char first_calc[160])
{
	int pairs = 0;

	for (const char *p = b; p && p < e; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char key[96], calc_key[112], cur[160], calc[160];
		size_t klen;
		if (strncmp(p, "Current ", 8) != 0)
			continue;
		klen = strcspn(p + 8, ":\n");
		while (klen > 0 && p[8 + klen - 1] == ' ')
			klen--;
		snprintf(key, sizeof(key), "Current %.*s", (int)klen, p + 8);
		snprintf(calc_key, sizeof(calc_key), "Calculated %.*s", (int)klen, p + 8);
		if (!field(cur, sizeof(cur), p, e, key) ||
		    !field(calc, sizeof(calc), b, e, calc_key)) {
			snprintf(why, len, "osslsigncode reported no \"%s\"", calc_key);
			return -1;
		}
		if (strcmp(cur, calc) != 0) {
			snprintf(why, len,
				 "%s %s does not match the signed value %s "
				 "(the file was changed after signing)",
				 calc_key, calc, cur);
			return -1;
		}
		/* MsiDigitalSignatureEx's pre-hash is not the file's digest, only part of it */
		if (!first_calc[0] && strcmp(key, "Current MsiDigitalSignatureEx") != 0)
			snprintf(first_calc, 160, "%s", calc);
		pairs++;
	}
	if (pairs == 0)
		snprintf(why, len, "osslsigncode reported no digests to compare");
	return pairs;
}

/*
 * osslsigncode's report for the one signature checked (-index). Its exit
 * status must be 0: with -index it speaks for that signature alone. The text
 * is only read for the digests it computed from the file, and the first
 * calculated file digest (PE: message digest; MSI: DigitalSignature, which
 * follows the MsiDigitalSignatureEx pre-hash) must be the one the signature
 * signs; text after the digests can come from the signature itself and is
 * not trusted.
 */
static int check_report(sg_verify_result *out, const char *name, const sg_proc_result *r,
			const char *signed_digest)
{
	const char *b = strstr(r->out, "Signature Index: "), *e;
	char why[512], calc[160] = "", line[256] = "";

	if (!r->exited || r->exit_status != 0) {
		if (find_line(line, sizeof(line), r->out, r->out + r->out_len, "MISMATCH"))
			return fail(
				out, name,
				"signature %d: the file's digest does not match the signed value "
				"(the file was changed after signing): %s",
				out->index, line);
		if (strstr(r->out, "-CRLfile\" option"))
			return fail(
				out, name,
				"signature %d: its certificates name CRL distribution points "
				"and no CRL is configured: set trust.crl_file (offline CRLs) or, "
				"explicitly, trust.ignore_crl",
				out->index);
		find_line(line, sizeof(line), r->out, r->out + r->out_len, "Error:");
		if (!line[0])
			find_line(line, sizeof(line), r->err, r->err + r->err_len, "rror");
		return fail(out, name,
			    "signature %d does not verify (osslsigncode exit status %d)%s%s",
			    out->index, r->exit_status, line[0] ? ": " : "",
			    line + strspn(line, "\t "));
	}
	if (!b)
		return fail(out, name, "signature %d: osslsigncode printed no report", out->index);
	e = r->out + r->out_len;
	if (compare_digests(why, sizeof(why), b, e, calc) <= 0)
		return fail(out, name, "signature %d: %s", out->index, why);
	if (strcmp(calc, signed_digest) != 0)
		return fail(out, name,
			    "signature %d: the file's digest %s is not the signed digest %s",
			    out->index, calc, signed_digest);
	return SG_OK;
}

/* What every osslsigncode run of a verification may read: the trust files. */
static size_t trust_paths(const char *paths[6], const sg_verify_opts *o, const char *path)
{
	size_t n = 0;

	paths[n++] = path;
	paths[n++] = o->ca_file;
	if (o->tsa_ca_file)
		paths[n++] = o->tsa_ca_file;
	if (o->crl_file)
		paths[n++] = o->crl_file;
	paths[n] = NULL;
	return n;
}

static int run_verify(sg_verify_result *out, const sg_verify_opts *o, const char *path,
		      const char *name, const char *signed_digest)
{
	char index[16];
	const char *argv[18] = {
		o->osslsigncode, "verify", "-in", path, "-CAfile", o->ca_file, "-TSA-CAfile",
		o->tsa_ca_file ? o->tsa_ca_file : o->ca_file,
		/* Revocation data comes from a file or nowhere: no network fetch. */
		"-ignore-cdp", "-index", index
	};
	const char *reads[6];
	size_t n = 11;

	if (o->crl_file) {
		argv[n++] = "-CRLfile";
		argv[n++] = o->crl_file;
		argv[n++] = "-TSA-CRLfile";
		argv[n++] = o->crl_file;
	}
	if (o->ignore_crl)
		argv[n++] = "-ignore-crl";
	argv[n] = NULL;
	trust_paths(reads, o, path);
	/* It reads the file and the trust files, and writes nothing (Landlock) or little. */
	sg_confine_spec cs = { .name = "osslsigncode",
			       .read_paths = reads,
			       .system_files = 1,
			       .fsize_bytes = VERIFY_FSIZE,
			       .cpu_sec = VERIFY_TIMEOUT };
	sg_proc_confine pc = { &cs, &out->verify_confinement, 1, o->hide };
	sg_proc_spec spec = { argv, NULL, NULL, 0, VERIFY_TIMEOUT };
	sg_proc_result r;
	int error;

	snprintf(index, sizeof(index), "%d", out->index);
	out->verify_ran = 1;
	error = sg_proc_run_confined(&r, &spec, &pc);
	if (error)
		return sg_error_prefix("%s", name);
	if (r.signo || r.timed_out) {
		char how[64];
		error = sg_error_set(SG_ERR_TOOL, "%s: osslsigncode verify %s", name,
				     sg_proc_describe(&r, VERIFY_TIMEOUT, how, sizeof(how)));
	} else {
		error = check_report(out, name, &r, signed_digest);
	}
	sg_proc_result_free(&r);
	return error;
}

/*
 * osslsigncode extract-signature, confined: it reads the file and writes
 * only into an empty folder of its own beside `sig_path`, from where the
 * signature is moved to `sig_path`.
 */
static int extract_signature(const sg_verify_opts *o, const char *path, const char *sig_path,
			     sg_verify_result *out, const char *name)
{
	char *dir = NULL, *parent = sg_path_dir(sig_path), *tmp = NULL;
	const char *argv[] = {
		o->osslsigncode, "extract-signature", "-in", path, "-out", NULL, NULL
	};
	const char *reads[] = { path, NULL };
	struct stat st;
	sg_confine_spec cs = { .name = "osslsigncode",
			       .read_paths = reads,
			       .system_files = 1,
			       .cpu_sec = VERIFY_TIMEOUT };
	sg_proc_confine pc = { &cs, &out->extract_confinement, 1, o->hide };
	sg_proc_spec spec = { argv, NULL, NULL, 0, VERIFY_TIMEOUT };
	sg_proc_result r;
	int error = parent ? sg_confine_outdir_create(&dir, parent)
			   : sg_error_set(SG_ERR_NOMEM, "out of memory");

	if (!error && !(tmp = sg_path_join(dir, sg_path_base(sig_path))))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (error)
		goto done;
	/* The signature is smaller than the file; PEM would make it a third larger. */
	cs.fsize_bytes = stat(path, &st) == 0 ? 2 * (unsigned long long)st.st_size + 65536 : 65536;
	cs.write_dir = dir;
	argv[5] = tmp;
	out->extract_ran = 1;
	/* It parses the installer: offline, and blind to signgate's key material. */
	if ((error = sg_proc_run_confined(&r, &spec, &pc)) != SG_OK) {
		error = sg_error_prefix("%s", name);
		goto done;
	}
	if (!r.exited || r.exit_status != 0 || !sg_path_exists(tmp) ||
	    sg_confine_outdir_collect(dir, sg_path_base(sig_path), sig_path) != SG_OK) {
		/* Its first words on stderr, e.g. a file its confinement kept from it. */
		const char *e = r.err + strspn(r.err, "\r\n");
		int len = (int)strcspn(e, "\r\n");
		error = len ? fail(out, name,
				   "no Authenticode signature found (osslsigncode: %.*s)",
				   len > 200 ? 200 : len, e)
			    : fail(out, name, "no Authenticode signature found");
	}
	sg_proc_result_free(&r);
done:
	sg_confine_outdir_remove(dir);
	free(dir);
	free(tmp);
	free(parent);
	return error;
}

/* The last error's text without its leading "NAME: ", for a reason about NAME. */
static const char *reason_about(const char *name)
{
	return sg_message_without_name(sg_error_last(), name);
}

/*
 * signgate's own digest of the signed file open on `fd`, upper-case hex,
 * into `own`. A structure it cannot hash, or an MsiDigitalSignatureEx that
 * is not the pre-hash of the file's metadata, is a verdict on the file
 * (SG_ERR_VERIFY), not an operational error.
 */
static int own_digest(sg_verify_result *out, int fd, const sg_format_info *info, const char *name,
		      char own[2 * SG_FORMAT_DIGEST_MAX + 1])
{
	unsigned char md[SG_FORMAT_DIGEST_MAX];
	const char *kind = sg_authenticode_kind_name(sg_format_spc_kind(info->kind));
	size_t md_len = 0;
	int error = sg_format_digest(md, &md_len, fd, info, SG_FORMAT_DIGEST_FILE, name);

	if (error == SG_ERR_VERIFY || error == SG_ERR_FORMAT)
		return fail(out, name, "the file's %s digest cannot be established: %s",
			    kind ? kind : sg_format_name(info->kind), reason_about(name));
	if (error == SG_OK)
		sg_hex_encode_upper(own, md, md_len);
	return error;
}

/*
 * The signature sits where the file's format keeps it (a PE's certificate
 * table, an MSI's \x05DigitalSignature stream), which the structure check
 * has already taken apart (`info` of the file open as `fd`): its DER is
 * read from there directly, instead of having osslsigncode read the whole
 * file for it. Returns 1 when done, 0 when the file has no signature, the
 * container does not hold one PKCS#7, or the format leaves extraction to
 * osslsigncode (sg_format_extracts_own()): then osslsigncode extracts it,
 * confined, and the verdict says why it cannot. Or an error. With `own`,
 * signgate's own digest of the signed file goes there, upper-case hex.
 */
static int extract_own(sg_verify_result *out, int fd, const sg_format_info *info,
		       const char *sig_path, const char *name,
		       char own[2 * SG_FORMAT_DIGEST_MAX + 1])
{
	unsigned char *box = NULL;
	const unsigned char *p, *der;
	size_t len = 0, at = 0, der_len = 0;
	PKCS7 *p7;
	int done = 0, error = SG_OK;

	if (!info->has_signature)
		return 0;
	/* The digest is signgate's own check of a signed file, however its signature is read. */
	if (own && (error = own_digest(out, fd, info, name, own)) != SG_OK)
		return error;
	if (!sg_format_extracts_own(info) ||
	    sg_format_signature_read(&box, &len, &at, &der_len, fd, info, SG_SIG_CONTAINER_MAX,
				     name) != SG_OK ||
	    der_len == 0 || der_len > LONG_MAX)
		goto out;
	p = der = box + at;
	p7 = d2i_PKCS7(NULL, &p, (long)der_len);
	if (!p7) {
		ERR_clear_error();
		goto out;
	}
	PKCS7_free(p7);
	error = sg_write_private(sig_path, der, (size_t)(p - der));
	done = error == SG_OK;
out:
	if (error == SG_OK && !done)
		sg_error_clear(); /* what signgate cannot read is osslsigncode's to read */
	free(box);
	return error ? error : done;
}

int sg_verify_check_trust(const sg_verify_opts *opts)
{
	sg_trust_files files = { opts->ca_file, opts->tsa_ca_file, opts->crl_file, 1 };
	sg_trust *t = NULL;
	int error;

	if (opts->trust)
		return sg_trust_check(opts->trust);
	error = sg_trust_load(&t, &files);
	sg_trust_free(t);
	return error;
}

static void copy_result(sg_verify_result *out, const sg_authenticode_result *a)
{
	struct tm tm;

	out->n_signatures = a->n_signatures;
	out->index = a->index;
	out->signer = a->signer;
	out->timestamped = a->timestamped;
	if (a->timestamped && gmtime_r(&a->timestamp, &tm))
		strftime(out->timestamp, sizeof(out->timestamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* signgate's own digest of the file must be the one the signature signs. */
static int check_digest(sg_verify_result *out, const char *name, const char *computed,
			const char *signed_digest)
{
	if (strcmp(computed, signed_digest) == 0)
		return SG_OK;
	return fail(out, name,
		    "signature %d: the file's digest does not match the signed value (the file "
		    "was changed after signing): signgate computed %s, the signature signs %s",
		    out->index, computed, signed_digest);
}

/*
 * Neither a PE nor an MSI that signgate reads gave its own digest: the
 * verdict would rest on osslsigncode's reading of the file alone, so the
 * file is invalid, with the structure check's reason (`refused`) when it
 * has one.
 */
static int no_own_digest(sg_verify_result *out, const char *refused, const char *name)
{
	if (refused)
		return fail(out, name, "the file's structure is refused: %s", refused);
	return fail(out, name,
		    "signgate cannot compute this file's own Authenticode digest (it verifies "
		    "signed files of the formats it signs only)");
}

/* The first byte at which `got` differs from `want` (the shorter length when one is a prefix). */
static size_t first_difference(const unsigned char *got, size_t got_len, const unsigned char *want,
			       size_t want_len)
{
	size_t at = 0;

	while (at < got_len && at < want_len && got[at] == want[at])
		at++;
	return at;
}

int sg_verify_count_signatures_info(int *count, unsigned char *primary, int fd,
				    const sg_format_info *info, const char *name)
{
	return sg_authenticode_count_file(count, primary, fd, info, name);
}

int sg_verify_count_signatures(int *count, unsigned char *primary, int fd, const char *name)
{
	sg_format_info info;
	int error = sg_format_inspect(&info, fd, name);

	*count = 0;
	if (primary)
		memset(primary, 0, 32);
	return error ? error : sg_verify_count_signatures_info(count, primary, fd, &info, name);
}

/*
 * With expect_der and the primary signature checked, what holds it must
 * hold those bytes and nothing more, read from the file by signgate
 * (sg_format_container_holds(): a PE's certificate table is one
 * WIN_CERTIFICATE, the DER and zero padding; an MSI's \x05DigitalSignature
 * stream is the DER).
 */
static int check_container(sg_verify_result *out, const sg_verify_opts *o, int index, int fd,
			   const sg_format_info *info, const char *name)
{
	size_t len = o->expect_der_len, got_len = 0, at = 0, der_len = 0;
	unsigned char *got = NULL;
	int error;

	/* Without a signature sg_authenticode_check judged the kind already. */
	if (!o->expect_der || index != 0 || !info || !info->has_signature)
		return SG_OK;
	error = sg_format_signature_read(&got, &got_len, &at, &der_len, fd, info, SG_SIG_CONTAINER_MAX,
					 name);
	if (error == SG_ERR_FORMAT)
		return fail(out, name, "signature 0: %s", reason_about(name));
	if (error)
		return error;
	if (!sg_format_container_holds(info, got, got_len, o->expect_der, len))
		error = fail(out, name,
			     "signature 0 is not the signature signgate attached: the file's %s "
			     "(%zu bytes) is not exactly it (%zu bytes), from byte %zu on",
			     sg_format_container_name(info->kind), got_len, len,
			     got_len >= at ? at + first_difference(got + at, got_len - at,
								   o->expect_der, len)
					   : first_difference(got, got_len, o->expect_der, len));
	free(got);
	return error;
}

/* A private copy in `dir` of trust file `which` of `t`, named `base`, into `*out` (freed by the
 * caller). */
static int trust_copy(const char **out, const sg_trust *t, sg_trust_file which, const char *dir,
		      const char *base)
{
	char *copy = sg_path_join(dir, base);

	*out = copy;
	if (!copy)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	return sg_trust_write_copy(t, which, copy);
}

/*
 * The trust of `opts` (the run's), checked, else one loaded for this
 * verification into `*own`. `o` is `opts` with the trust files osslsigncode
 * reads: private copies in `dir` of the bytes that were checked, so that a
 * file replaced during the run reaches neither signgate nor osslsigncode.
 */
static int trust_for(const sg_trust **t, sg_trust **own, sg_verify_opts *o,
		     const sg_verify_opts *opts, const char *dir)
{
	sg_trust_files files = { opts->ca_file, opts->tsa_ca_file, opts->crl_file, 1 };
	int error;

	*own = NULL;
	*o = *opts;
	o->ca_file = o->tsa_ca_file = o->crl_file = NULL;
	if (opts->trust)
		error = sg_trust_check(opts->trust);
	else
		error = sg_trust_load(own, &files);
	*t = opts->trust ? opts->trust : *own;
	if (!error && opts->ca_file)
		error = trust_copy(&o->ca_file, *t, SG_TRUST_CA, dir, "anchors.pem");
	if (!error && opts->tsa_ca_file)
		error = trust_copy(&o->tsa_ca_file, *t, SG_TRUST_TSA, dir, "tsa-anchors.pem");
	if (!error && opts->crl_file)
		error = trust_copy(&o->crl_file, *t, SG_TRUST_CRL, dir, "crls.pem");
	return error;
}

/*
 * The file as signgate reads it for one verification: one descriptor, one
 * structure check. Every read signgate makes goes through `fd`, so a path
 * swapped after the open reaches none of them (osslsigncode still reads
 * the path; its report must agree with what was read here).
 */
struct opened {
	int fd;
	sg_format_info info;
	const sg_format_info *ok; /* &info when the structure check took the file */
	char *refused;            /* else its reason, without the leading name */
};

static int open_once(struct opened *f, const char *path, const char *name)
{
	int error;

	f->ok = NULL;
	f->refused = NULL;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
	error = sg_format_inspect(&f->info, f->fd, name);
	if (error == SG_ERR_IO || error == SG_ERR_NOMEM)
		return error;
	if (!error)
		f->ok = &f->info;
	else if (!(f->refused = strdup(reason_about(name))))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	sg_error_clear();
	return SG_OK;
}

/* The signature's DER into `sig`: signgate's own reading, else osslsigncode's (confined). */
static int take_signature(sg_verify_result *out, const sg_verify_opts *opts, const char *path,
			  const struct opened *f, const char *sig, const char *name, char *own)
{
	int error =
		f->ok ? extract_own(out, f->fd, f->ok, sig, name, opts->file_digest ? NULL : own)
		      : 0;

	if (error == 0)
		error = extract_signature(opts, path, sig, out, name);
	else if (error == 1)
		error = SG_OK;
	if (!error && !opts->file_digest && !own[0])
		error = no_own_digest(out, f->refused, name);
	return error;
}

/* The signature at `sig`, checked by signgate, over the file `f`. */
static int check_signature(sg_verify_result *out, const sg_verify_opts *opts,
			   sg_authenticode_opts *ao, const struct opened *f, const char *sig,
			   const char *name, const char *own, char *signed_digest)
{
	sg_authenticode_result *a = calloc(1, sizeof(*a));
	int error = a ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	/* The content kind a signature on the file must carry (0: the structure is refused). */
	ao->kind = f->ok ? sg_format_spc_kind(f->ok->kind) : 0;
	if (!error && (error = sg_authenticode_check(a, ao, sig)) == SG_ERR_VERIFY)
		error = fail(out, name, "%s", a->reason);
	if (!error)
		error = check_container(out, opts, a->index, f->fd, f->ok, name);
	if (!error) {
		copy_result(out, a);
		snprintf(signed_digest, 2 * SG_FORMAT_DIGEST_MAX + 1, "%s", a->file_digest);
		if (opts->file_digest && strcmp(opts->file_digest, a->file_digest) != 0)
			error = fail(
				out, name,
				"signature %d does not sign the approved bytes: their digest is "
				"%s, the signature signs %s",
				out->index, opts->file_digest, a->file_digest);
		else if (!opts->file_digest && own[0])
			error = check_digest(out, name, own, a->file_digest);
	}
	free(a);
	return error;
}

int sg_verify_file(sg_verify_result *out, const sg_verify_opts *opts, const char *path,
		   const char *name)
{
	sg_authenticode_opts ao = { .pin_sha256 = opts->pin_sha256,
				    .index = opts->index,
				    /* a signature signgate attached is held to what it makes */
				    .exact_attributes = opts->expect_der != NULL,
				    .expect_der = opts->expect_der,
				    .expect_der_len = opts->expect_der_len };
	struct opened f = { .fd = -1 };
	sg_workdir wd = SG_WORKDIR_INIT;
	char *sig = NULL, own[2 * SG_FORMAT_DIGEST_MAX + 1] = "";
	char signed_digest[2 * SG_FORMAT_DIGEST_MAX + 1] = "";
	sg_trust *own_trust = NULL;
	sg_verify_opts o = { 0 };
	int error;

	memset(out, 0, sizeof(*out));
	error = sg_workdir_create(&wd);
	if (!error)
		error = trust_for(&ao.trust, &own_trust, &o, opts, wd.path);
	if (!error && !(sig = sg_path_join(wd.path, "signature.p7")))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error)
		error = open_once(&f, path, name);
	if (!error)
		error = take_signature(out, opts, path, &f, sig, name, own);
	if (!error)
		error = check_signature(out, opts, &ao, &f, sig, name, own, signed_digest);
	if (!error && !opts->file_digest)
		error = run_verify(out, &o, path, name, signed_digest);
	if (f.fd >= 0)
		close(f.fd);
	free(f.refused);
	free(sig);
	free((char *)o.ca_file);
	free((char *)o.tsa_ca_file);
	free((char *)o.crl_file);
	sg_workdir_remove(&wd);
	sg_trust_free(own_trust);
	return error;
}

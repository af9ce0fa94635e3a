/* Verification as the site server does it; see include/signgate/verify.h. */
#include "signgate/verify.h"
#include "authenticode.h"
#include "signgate/cert.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/hash.h"
#include "signgate/msi_digest.h"
#include "signgate/pe_digest.h"
#include "signgate/proc.h"
#include "signgate/script.h"
#include "signgate/util.h"

#include <errno.h>
#include <fcntl.h>
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
 * MsiDigitalSignatureEx). `first_calc` gets the first calculated value that
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

/*
 * A PE's signature sits in its certificate table, which the structure check
 * has already taken apart: one WIN_CERTIFICATE (revision 2.0, PKCS#7) whose
 * DER is read from there directly, instead of having osslsigncode read the
 * whole file for it. Returns 1 when done, 0 when the file is not a PE with
 * exactly one certificate entry (then osslsigncode extracts it), or an error.
 * With `own_digest`, a signed PE's Authenticode digest as signgate computes
 * it goes there, upper-case hex (left empty for anything else).
 */
static int extract_pe_signature(const char *path, const char *sig_path, const char *name,
				char own_digest[2 * SG_PE_DIGEST_LEN + 1])
{
	unsigned char h[8], *der = NULL, md[SG_PE_DIGEST_LEN];
	const unsigned char *p;
	sg_format_info info;
	uint32_t len;
	PKCS7 *p7;
	int fd = open(path, O_RDONLY | O_CLOEXEC), done = 0, error = SG_OK;

	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
	if (sg_format_inspect(&info, fd, name) != SG_OK || info.kind != SG_FORMAT_PE ||
	    !info.has_signature)
		goto out;
	/* The digest is signgate's own check of a signed PE, however its signature is read. */
	if (own_digest) {
		if ((error = sg_pe_digest(md, fd, &info, name)) != SG_OK)
			goto out;
		sg_hex_encode_upper(own_digest, md, sizeof(md));
	}
	if (pread(fd, h, sizeof(h), (off_t)info.sig_offset) != sizeof(h))
		goto out;
	len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
	/*
	 * One WIN_CERTIFICATE (revision 2.0, PKCS#7), padded to 8 bytes, fills
	 * the table; anything else is osslsigncode's to read and judge.
	 */
	if (h[4] != 0x00 || h[5] != 0x02 || h[6] != 0x02 || h[7] != 0x00 || len <= sizeof(h) ||
	    ((uint64_t)len + 7) / 8 * 8 != info.sig_size || !(der = malloc(len - sizeof(h))) ||
	    pread(fd, der, len - sizeof(h), (off_t)info.sig_offset + 8) != (ssize_t)(len - 8))
		goto out;
	p = der;
	p7 = d2i_PKCS7(NULL, &p, (long)(len - sizeof(h)));
	if (!p7) {
		ERR_clear_error();
		goto out;
	}
	PKCS7_free(p7);
	error = sg_write_private(sig_path, der, (size_t)(p - der));
	done = error == SG_OK;
out:
	if (error == SG_OK)
		sg_error_clear(); /* a file that is not one PE entry is osslsigncode's to read */
	free(der);
	close(fd);
	return error ? error : done;
}

/* The last error's text without its leading "NAME: ", for a reason about NAME. */
static const char *reason_about(const char *name)
{
	const char *why = sg_error_last();
	size_t n = strlen(name);

	if (strncmp(why, name, n) == 0 && strncmp(why + n, ": ", 2) == 0)
		why += n + 2;
	return why;
}

/*
 * A PowerShell script's signature block is read by signgate itself
 * (lib/format_script.c), never by osslsigncode: its DER goes to `sig_path`
 * and, with `own_digest`, the script's Authenticode digest there
 * (upper-case hex). Returns 1 when done, 0 when `name` is no script's, or
 * an error: a script refused by the structure check, or without a block,
 * is a verdict (SG_ERR_VERIFY).
 */
static int extract_script_signature(sg_verify_result *out, const char *path, const char *sig_path,
				    const char *name, char own_digest[2 * SG_PE_DIGEST_LEN + 1])
{
	unsigned char *der = NULL, md[SG_SCRIPT_DIGEST_LEN];
	size_t len = 0;
	int fd, error;

	if (!sg_script_extension(name))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
	error = sg_script_signature_read(&der, &len, fd, name);
	if (!error && own_digest && (error = sg_script_digest(md, fd, name)) == SG_OK)
		sg_hex_encode_upper(own_digest, md, sizeof(md));
	close(fd);
	if (error == SG_ERR_FORMAT)
		error = fail(out, name, "no valid Authenticode signature: %s", reason_about(name));
	if (!error)
		error = sg_write_private(sig_path, der, len);
	free(der);
	return error ? error : 1;
}

/*
 * signgate's own digest of a signed MSI, upper-case hex, into `own` (left
 * empty for anything else). A structure it cannot hash, or an
 * MsiDigitalSignatureEx that is not the pre-hash of the file's metadata, is
 * a verdict on the file (SG_ERR_VERIFY), not an operational error.
 */
static int msi_own_digest(sg_verify_result *out, const char *path, const char *name,
			  char own[2 * SG_PE_DIGEST_LEN + 1])
{
	static const unsigned char cfb_magic[8] = {
		0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1
	};
	unsigned char magic[8];
	sg_msi_digest_result r;
	sg_format_info info;
	const char *why;
	int fd = open(path, O_RDONLY | O_CLOEXEC), error = SG_OK;

	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
	if (pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
	    memcmp(magic, cfb_magic, sizeof(magic)) != 0)
		goto out; /* not a compound file: nothing of signgate's own to compute */
	/*
	 * osslsigncode found a signature in it: signgate must read the same
	 * one, or the verdict would rest on osslsigncode's reading alone.
	 */
	if ((error = sg_format_inspect(&info, fd, name)) != SG_OK || info.kind != SG_FORMAT_MSI ||
	    !info.has_signature) {
		if (error == SG_ERR_IO || error == SG_ERR_NOMEM)
			goto out;
		why = error ? reason_about(name)
			    : "the root storage holds no \\x05DigitalSignature "
			      "stream, yet osslsigncode read a signature";
		error = fail(out, name, "the file's MSI structure is refused: %s", why);
		goto out;
	}
	error = sg_msi_digest(&r, fd, NID_sha256, SG_MSI_DSE_AS_FILE, name);
	if (error == SG_ERR_VERIFY || error == SG_ERR_FORMAT) {
		error = fail(out, name, "the file's MSI digest cannot be established: %s",
			     reason_about(name));
	} else if (error == SG_OK) {
		sg_hex_encode_upper(own, r.md, r.md_len);
	}
out:
	close(fd);
	return error;
}

/* A configuration error naming `file` and why it cannot be read, if it cannot. */
static int trust_file_readable(const char *file, const char *what)
{
	char c;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), e;
	struct stat st;
	ssize_t n = fd < 0 ? -1 : read(fd, &c, 1);

	e = errno;
	/*
	 * A FIFO or device would read here as empty and then block OpenSSL's
	 * (and osslsigncode's) open for ever; a folder fails the read.
	 */
	if (n >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		return sg_error_set(SG_ERR_CONFIG, "%s: cannot read %s: not a regular file", file,
				    what);
	}
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return sg_error_set(SG_ERR_CONFIG, "%s: cannot read %s: %s", file, what,
				    strerror(e));
	return SG_OK;
}

/* Fail early, and as a configuration problem, when a trust file is unusable. */
static int check_trust_file(const char *file, const char *what)
{
	X509_STORE *store;

	if (!file)
		return SG_OK;
	if (trust_file_readable(file, what) != SG_OK)
		return SG_ERR_CONFIG;
	store = X509_STORE_new();
	if (!store)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (X509_STORE_load_file(store, file) != 1) {
		X509_STORE_free(store);
		ERR_clear_error();
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: cannot load %s (missing, unreadable or not "
				    "PEM certificates)",
				    file, what);
	}
	X509_STORE_free(store);
	return SG_OK;
}

/* The configuration error for a CRL outside its validity period, else SG_OK. */
static int crl_out_of_date(const char *file, const X509_CRL *crl)
{
	const ASN1_TIME *last = X509_CRL_get0_lastUpdate(crl),
			*next = X509_CRL_get0_nextUpdate(crl);
	char issuer[256], when[32];

	X509_NAME_oneline(X509_CRL_get_issuer(crl), issuer, sizeof(issuer));
	if (last && X509_cmp_time(last, NULL) > 0) {
		sg_asn1_time_iso(when, last);
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: the CRL of %s is not valid until %s (lastUpdate ahead of "
				    "this host's clock)",
				    file, issuer, when);
	}
	if (next && X509_cmp_time(next, NULL) < 0) {
		sg_asn1_time_iso(when, next);
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: the CRL of %s expired on %s: renew it "
				    "(certs-example/make-pki.sh --renew-crl)",
				    file, issuer, when);
	}
	return SG_OK;
}

/*
 * A CRL outside its validity period (expired, or not valid yet) fails every
 * chain it covers: that is a stale configuration (renew the CRL, check the
 * clock), not a verdict on the files checked against it.
 */
static int check_crl_dates(const char *file)
{
	BIO *bio = BIO_new_file(file, "r");
	X509_CRL *crl;
	int error = SG_OK;

	if (!bio) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_CONFIG, "%s: cannot read the CRLs: %s", file,
				    strerror(errno));
	}
	while (!error && (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		error = crl_out_of_date(file, crl);
		X509_CRL_free(crl);
	}
	BIO_free(bio);
	ERR_clear_error();
	return error;
}

/* A CRL file that holds no CRL would check nothing: as unusable as a missing one. */
static int check_crl_file(const char *file)
{
	X509_STORE *store;
	X509_LOOKUP *lu;
	int n;

	if (!file)
		return SG_OK;
	if (trust_file_readable(file, "the CRLs") != SG_OK)
		return SG_ERR_CONFIG;
	store = X509_STORE_new();
	lu = store ? X509_STORE_add_lookup(store, X509_LOOKUP_file()) : NULL;
	n = lu ? X509_load_crl_file(lu, file, X509_FILETYPE_PEM) : -1;
	X509_STORE_free(store);
	ERR_clear_error();
	if (!lu)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (n <= 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: cannot load the CRLs: the file holds no PEM CRL (or a "
				    "damaged one)",
				    file);
	return check_crl_dates(file);
}

int sg_verify_check_trust(const sg_verify_opts *opts)
{
	int error = check_trust_file(opts->ca_file, "the trust anchors");

	if (!error)
		error = check_trust_file(opts->tsa_ca_file, "the timestamp trust anchors");
	if (!error)
		error = check_crl_file(opts->crl_file);
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

/* sg_format_inspect() of the file at `path`, opened here. */
static int inspect_path(sg_format_info *info, const char *path, const char *name)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), error;

	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
	error = sg_format_inspect(info, fd, name);
	close(fd);
	return error;
}

/*
 * Neither a PE nor an MSI that signgate reads gave its own digest: the
 * verdict would rest on osslsigncode's reading of the file alone, so the
 * file is invalid, with the structure check's reason when it has one.
 */
static int no_own_digest(sg_verify_result *out, const char *path, const char *name)
{
	sg_format_info info;
	int error = inspect_path(&info, path, name);

	if (error == SG_ERR_IO || error == SG_ERR_NOMEM)
		return error;
	if (error)
		return fail(out, name, "the file's structure is refused: %s", reason_about(name));
	return fail(out, name,
		    "signgate cannot compute this file's own Authenticode digest (it verifies "
		    "signed PE, MSI and PowerShell script files only)");
}

/* The file's format (SG_FORMAT_UNKNOWN when the structure check refuses it). */
static int file_kind(int *kind, const char *path, const char *name)
{
	sg_format_info info;
	int error = inspect_path(&info, path, name);

	*kind = SG_FORMAT_UNKNOWN;
	if (error == SG_ERR_IO || error == SG_ERR_NOMEM)
		return error;
	sg_error_clear();
	if (!error)
		*kind = (int)info.kind;
	return SG_OK;
}

/* `table` (8 + len + pad bytes) is one WIN_CERTIFICATE of `der` with zero padding. */
static int pe_table_holds(const unsigned char *table, const unsigned char *der, size_t len,
			  size_t pad)
{
	uint32_t dw = (uint32_t)table[0] | (uint32_t)table[1] << 8 | (uint32_t)table[2] << 16 |
		      (uint32_t)table[3] << 24;
	size_t at = 0;

	while (at < pad && table[8 + len + at] == 0)
		at++;
	return (dw == 8 + len || dw == 8 + len + pad) && table[4] == 0x00 && table[5] == 0x02 &&
	       table[6] == 0x02 && table[7] == 0x00 && memcmp(table + 8, der, len) == 0 &&
	       at == pad;
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

/*
 * A PE's certificate table, an MSI's \x05DigitalSignature stream, as
 * stored, or the DER of a script's signature block (its base64, canonical
 * and in lines of 64, is a function of the DER).
 */
static int read_container(unsigned char **out, size_t *len, int fd, const sg_format_info *info,
			  const char *name)
{
	*out = NULL;
	*len = 0;
	if (info->kind == SG_FORMAT_MSI)
		return sg_msi_signature_read(out, len, fd, 64u * 1024 * 1024, name);
	if (info->kind == SG_FORMAT_SCRIPT)
		return sg_script_signature_read(out, len, fd, name);
	if (info->sig_size > 64u * 1024 * 1024)
		return sg_error_set(SG_ERR_FORMAT, "%s: the certificate table is too large", name);
	if (!(*out = malloc(info->sig_size ? (size_t)info->sig_size : 1)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	*len = (size_t)info->sig_size;
	if (pread(fd, *out, *len, (off_t)info->sig_offset) != (ssize_t)*len) {
		free(*out);
		*out = NULL;
		return sg_error_set(SG_ERR_IO, "%s: cannot read the certificate table", name);
	}
	return SG_OK;
}

int sg_verify_count_signatures(int *count, unsigned char *primary, int fd, const char *name)
{
	unsigned char *got = NULL;
	size_t len = 0, skip;
	sg_format_info info;
	int error = sg_format_inspect(&info, fd, name);

	*count = 0;
	if (primary)
		memset(primary, 0, 32);
	if (error || !info.has_signature)
		return error;
	error = read_container(&got, &len, fd, &info, name);
	/* A PE's table: the DER follows the 8-byte WIN_CERTIFICATE header. */
	skip = info.kind == SG_FORMAT_PE ? 8 : 0;
	if (!error && len <= skip)
		error = sg_error_set(SG_ERR_VERIFY, "%s: its signature is empty", name);
	if (!error && sg_authenticode_count(count, primary, got + skip, len - skip) != SG_OK)
		error = sg_error_set(SG_ERR_VERIFY, "%s: %s", name, sg_error_last());
	free(got);
	return error;
}

/*
 * With expect_der and the primary signature checked, what holds it must
 * hold those bytes and nothing more, read from the file by signgate: a
 * PE's certificate table is one WIN_CERTIFICATE (revision 2.0, PKCS#7;
 * dwLength 8 + the DER, with or without the padding), the DER, and zero
 * bytes up to the next multiple of 8; an MSI's \x05DigitalSignature stream
 * is the DER; a script's signature block decodes to the DER.
 */
static int check_container(sg_verify_result *out, const sg_verify_opts *o, int index,
			   const char *path, const char *name)
{
	size_t len = o->expect_der_len, pad = (8 - len % 8) % 8, got_len = 0;
	unsigned char *got = NULL;
	sg_format_info info;
	int fd, error, same;

	if (!o->expect_der || index != 0)
		return SG_OK;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
	error = sg_format_inspect(&info, fd, name);
	if (error ||
	    (info.kind != SG_FORMAT_PE && info.kind != SG_FORMAT_MSI &&
	     info.kind != SG_FORMAT_SCRIPT) ||
	    !info.has_signature) {
		close(fd);
		if (error == SG_ERR_IO || error == SG_ERR_NOMEM)
			return error;
		sg_error_clear(); /* sg_authenticode_check judged the kind already */
		return SG_OK;
	}
	error = read_container(&got, &got_len, fd, &info, name);
	close(fd);
	if (error == SG_ERR_FORMAT)
		return fail(out, name, "signature 0: %s", reason_about(name));
	if (error)
		return error;
	same = info.kind == SG_FORMAT_PE
		       ? got_len == 8 + len + pad && pe_table_holds(got, o->expect_der, len, pad)
		       : got_len == len && memcmp(got, o->expect_der, len) == 0;
	if (!same)
		error = fail(
			out, name,
			"signature 0 is not the signature signgate attached: the file's %s "
			"(%zu bytes) is not exactly it (%zu bytes%s), from byte %zu on",
			info.kind == SG_FORMAT_PE	 ? "certificate table"
			: info.kind == SG_FORMAT_MSI ? "DigitalSignature"
						     : "signature block",
			got_len, len, info.kind == SG_FORMAT_PE ? " in one WIN_CERTIFICATE" : "",
			info.kind == SG_FORMAT_PE && got_len >= 8
				? 8 + first_difference(got + 8, got_len - 8, o->expect_der, len)
				: first_difference(got, got_len, o->expect_der, len));
	free(got);
	return error;
}

/* Larger CRL files are not offline CRLs for one enterprise CA. */
#define CRL_FILE_MAX (64u * 1024 * 1024)

/*
 * The chain check and osslsigncode read the CRLs from a private copy in
 * `dir`, made and checked once per file: a CRL file replaced, truncated or
 * removed while signgate runs (a renewal that is not atomic) is a
 * configuration error, never a verdict on the file. *out is the copy's path.
 */
static int snapshot_crls(char **out, const char *crl_file, const char *dir)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int error;

	*out = NULL;
	if (!crl_file)
		return SG_OK;
	if (!(*out = sg_path_join(dir, "crls.pem")))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = sg_read_file(&data, &len, crl_file, CRL_FILE_MAX, "the CRLs", 0);
	if (error && error != SG_ERR_NOMEM)
		error = sg_error_recode(SG_ERR_CONFIG);
	if (!error)
		error = sg_write_private(*out, data, len);
	free(data);
	if (!error && check_crl_file(*out) != SG_OK) {
		/* Name the configured file: its own problem, else that it changed. */
		error = check_crl_file(crl_file);
		if (!error)
			error = sg_error_set(SG_ERR_CONFIG,
					     "%s: the CRLs changed while signgate read them",
					     crl_file);
	}
	return error;
}

int sg_verify_file(sg_verify_result *out, const sg_verify_opts *opts, const char *path,
		   const char *name)
{
	sg_authenticode_opts ao = { .ca_file = opts->ca_file,
				    .tsa_ca_file = opts->tsa_ca_file,
				    .pin_sha256 = opts->pin_sha256,
				    .index = opts->index,
				    .kind = SG_FORMAT_UNKNOWN,
				    /* a signature signgate attached is held to what it makes */
				    .exact_attributes = opts->expect_der != NULL,
				    .expect_der = opts->expect_der,
				    .expect_der_len = opts->expect_der_len };
	sg_authenticode_result *a = calloc(1, sizeof(*a));
	sg_workdir wd = SG_WORKDIR_INIT;
	char *dir = NULL, *sig = NULL, *crls = NULL, own[2 * SG_PE_DIGEST_LEN + 1] = "";
	sg_verify_opts o = *opts;
	int error;

	memset(out, 0, sizeof(*out));
	if (!a)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = sg_verify_check_trust(opts);
	if (!error)
		error = sg_workdir_create(&wd);
	dir = wd.path;
	if (!error)
		error = snapshot_crls(&crls, opts->crl_file, dir);
	ao.crl_file = o.crl_file = crls;
	if (!error && !(sig = sg_path_join(dir, "signature.p7")))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error &&
	    (error = extract_script_signature(out, path, sig, name,
					      opts->file_digest ? NULL : own)) == 0 &&
	    (error = extract_pe_signature(path, sig, name, opts->file_digest ? NULL : own)) == 0)
		error = extract_signature(opts, path, sig, out, name);
	else if (error == 1)
		error = SG_OK;
	if (!error && !opts->file_digest && !own[0])
		error = msi_own_digest(out, path, name, own);
	if (!error && !opts->file_digest && !own[0])
		error = no_own_digest(out, path, name);
	if (!error)
		error = file_kind(&ao.kind, path, name);
	if (!error && (error = sg_authenticode_check(a, &ao, sig)) == SG_ERR_VERIFY)
		error = fail(out, name, "%s", a->reason);
	if (!error)
		error = check_container(out, opts, a->index, path, name);
	if (!error) {
		copy_result(out, a);
		if (opts->file_digest && strcmp(opts->file_digest, a->file_digest) != 0)
			error = fail(
				out, name,
				"signature %d does not sign the approved bytes: their digest is "
				"%s, the signature signs %s",
				out->index, opts->file_digest, a->file_digest);
		else if (!opts->file_digest && own[0])
			error = check_digest(out, name, own, a->file_digest);
	}
	if (!error && !opts->file_digest)
		error = run_verify(out, &o, path, name, a->file_digest);
	free(sig);
	free(crls);
	sg_workdir_remove(&wd);
	free(a);
	return error;
}

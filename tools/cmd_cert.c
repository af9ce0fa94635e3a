/* signgate cert lint / signgate cert export. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "signgate/cert.h"
#include "signgate/config.h"
#include "signgate/error.h"
#include "signgate/keys.h"
#include "signgate/lint.h"
#include "signgate/secret.h"
#include "signgate/util.h"
#include "signgate/verify.h"

static const char cert_help[] =
	"Usage: signgate cert lint   (--config FILE | --cert FILE [--chain FILE] --ca ROOT.pem\n"
	"                             [--crl FILE]) [--json]\n"
	"       signgate cert export (--config FILE | --cert FILE [--chain FILE] --ca ROOT.pem)\n"
	"                             --out-dir DIR [--force]\n"
	"\n"
	"  lint     check the signing certificate against the code-signing profile:\n"
	"           key (RSA >= 3072 or ECDSA P-256+), keyUsage critical digitalSignature,\n"
	"           EKU codeSigning without anyExtendedKeyUsage, serverAuth or Lifetime\n"
	"           Signing, CA:FALSE, validity (over 460 days warns; days left), signature\n"
	"           algorithm, chain to the trust anchor (and CRLs), HTTP CDP and AIA,\n"
	"           and that the key matches. One line per finding: pass, warn or fail.\n"
	"  export   write what the ConfigMgr site server needs into DIR (created if\n"
	"           missing): root.cer (DER; root-<CN>.cer each with several trust\n"
	"           anchors), intermediate-N.cer, signer.cer, thumbprint.txt (the\n"
	"           signer's SHA-1 thumbprint as certutil and ConfigMgr print it) and\n"
	"           import-signgate-trust.ps1, which imports them into LocalMachine\\Root,\n"
	"           LocalMachine\\CA and LocalMachine\\TrustedPublisher. The files are\n"
	"           public (mode 0644) and appear atomically.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   the signing key and trust anchors of signgate.json (opens the\n"
	"                      key with its configured secret; a token's key stays inside)\n"
	"      --cert FILE     the signing certificate (PEM or DER); more PEM certificates\n"
	"                      in it are intermediates\n"
	"      --chain FILE    intermediates (PEM)\n"
	"      --ca FILE       trust anchor(s) (PEM)\n"
	"      --crl FILE      CRLs (PEM) to check the chain against (lint)\n"
	"      --json          one JSON object on stdout (lint)\n"
	"  -o, --out-dir DIR   where export writes (required); a DIR that is a symbolic\n"
	"                      link is followed once, with a warning\n"
	"      --force         let export replace existing files\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit codes: 0 nothing fails (lint) / exported; 1 operational error (I/O, bad\n"
	"key or password, a file exists); 2 usage or configuration error; 3 the\n"
	"certificate fails the profile (lint).\n";

typedef struct cert_opts {
	const char *verb, *config, *cert, *chain, *ca, *crl, *out_dir;
	int json, force;
} cert_opts;

static int check_opts(const cert_opts *o, int lint)
{
	if (!o->config == !o->cert)
		return cli_usage_error("cert", "give exactly one of --config FILE or --cert FILE");
	if (o->config && (o->chain || o->ca || o->crl))
		return cli_usage_error("cert", "--chain, --ca and --crl go with --cert; a config "
					       "names its own chain and trust");
	if (o->cert && !o->ca)
		return cli_usage_error("cert", "--cert needs --ca ROOT.pem");
	if (lint && (o->out_dir || o->force))
		return cli_usage_error("cert", "--out-dir and --force go with 'cert export'");
	if (!lint && (o->json || o->crl))
		return cli_usage_error("cert", "--json and --crl go with 'cert lint'");
	if (!lint && !o->out_dir)
		return cli_usage_error("cert", "'cert export' needs --out-dir DIR");
	return 0;
}

static int parse(cert_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = { { "config", required_argument, NULL, 'c' },
						  { "cert", required_argument, NULL, 'C' },
						  { "chain", required_argument, NULL, 'i' },
						  { "ca", required_argument, NULL, 'a' },
						  { "crl", required_argument, NULL, 'r' },
						  { "out-dir", required_argument, NULL, 'o' },
						  { "json", no_argument, NULL, 'j' },
						  { "force", no_argument, NULL, 'f' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	int c;

	memset(o, 0, sizeof(*o));
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(cert_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : -1;
	}
	o->verb = argv[1];
	if (strcmp(o->verb, "lint") != 0 && strcmp(o->verb, "export") != 0)
		return cli_usage_error("cert", "unknown cert command '%s' (lint or export)",
				       o->verb);
	while ((c = getopt_long(argc - 1, argv + 1, "c:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'C': o->cert = optarg; break;
		case 'i': o->chain = optarg; break;
		case 'a': o->ca = optarg; break;
		case 'r': o->crl = optarg; break;
		case 'o': o->out_dir = optarg; break;
		case 'j': o->json = 1; break;
		case 'f': o->force = 1; break;
		case 'h': fputs(cert_help, stdout); return -1;
		default: return cli_usage_error("cert", "bad option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("cert", "unexpected argument '%s'", argv[optind + 1]);
	/* --cert alone: only the files the options name, never a config found elsewhere. */
	if (!o->cert && cli_config_lookup(&o->config, "cert") != CLI_EXIT_OK)
		return CLI_EXIT_USAGE;
	/* (--ca and --crl: the trust reader says "cannot read the trust anchors", exit 2.) */
	if (cli_file_given(o->cert, "--cert") || cli_file_given(o->chain, "--chain"))
		return CLI_EXIT_USAGE;
	return check_opts(o, strcmp(o->verb, "lint") == 0);
}

/* Append the certificates of `path` to `out`: every PEM certificate, else one DER. */
static int read_certs(STACK_OF(X509) * out, const char *path)
{
	BIO *bio = BIO_new_file(path, "rb");
	int before = sk_X509_num(out);
	X509 *x;

	if (!bio)
		return sg_error_set(SG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			BIO_free(bio);
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		}
	if (sk_X509_num(out) == before && BIO_reset(bio) == 0 &&
	    (x = d2i_X509_bio(bio, NULL)) != NULL && !sk_X509_push(out, x))
		X509_free(x);
	BIO_free(bio);
	ERR_clear_error();
	if (sk_X509_num(out) == before)
		return sg_error_set(SG_ERR_CONFIG, "%s: no certificate found (PEM or DER)", path);
	return SG_OK;
}

/* The leaf and its chain from --cert/--chain, into `km` (no key). */
static int load_files(sg_key_material *km, const cert_opts *o)
{
	int error;

	memset(km, 0, sizeof(*km));
	/* A reviewer's own copies: a warning, not a refusal (README "Strict modes"). */
	cli_strict_warn(o->ca, 0);
	cli_strict_warn(o->crl, 0);
	km->chain = sk_X509_new_null();
	if (!km->chain)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = read_certs(km->chain, o->cert);
	if (!error && o->chain)
		error = read_certs(km->chain, o->chain);
	if (!error)
		km->cert = sk_X509_shift(km->chain);
	return error;
}

/* The key material of the config; a token needs no secret to read its chain. */
static int load_config(sg_key_material *km, sg_config **cfg, const char *path)
{
	sg_secret secret = { 0 };
	int error = sg_config_load(cfg, path);

	memset(km, 0, sizeof(*km));
	if (!error)
		error = sg_config_require_signing(*cfg);
	if (!error)
		error = sg_config_check_signing_files(*cfg);
	if (!error && sg_keys_material_needs_secret(*cfg))
		error = sg_secret_obtain(&secret, *cfg);
	if (!error)
		error = sg_keys_open(km, *cfg, &secret);
	sg_secret_clear(&secret);
	return error;
}

static void print_lint_text(const sg_lint_report *rep, const sg_cert_info *info)
{
	for (size_t i = 0; i < rep->n; i++) {
		const sg_lint_finding *f = &rep->findings[i];
		printf("%-5s %-12s %s\n", sg_lint_level_name(f->level), f->check, f->message);
	}
	printf("%s  %d fail, %d warn, %zu pass: %s (SHA-1 thumbprint %s)\n",
	       rep->fails ? "FAIL" : "OK  ", rep->fails, rep->warns,
	       rep->n - (size_t)rep->fails - (size_t)rep->warns, info->subject,
	       info->sha1_thumbprint);
	fflush(stdout);
}

static int print_lint_json(const sg_lint_report *rep, const sg_cert_info *info, int exit_code)
{
	json_t *findings = json_array(), *obj;

	for (size_t i = 0; findings && i < rep->n; i++) {
		const sg_lint_finding *f = &rep->findings[i];
		if (json_array_append_new(findings, json_pack("{s:s, s:s, s:s}", "level",
							      sg_lint_level_name(f->level), "check",
							      f->check, "message", f->message)) !=
		    0) {
			json_decref(findings);
			findings = NULL;
		}
	}
	if (!findings)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	obj = json_pack("{s:o, s:{s:I, s:I, s:I}, s:s, s:s, s:s, s:s, s:i}", "findings", findings,
			"counts", "pass", (json_int_t)(rep->n - rep->fails - rep->warns), "warn",
			(json_int_t)rep->warns, "fail", (json_int_t)rep->fails, "sha1_thumbprint",
			info->sha1_thumbprint, "sha256", info->sha256, "subject", info->subject,
			"not_after", info->not_after, "exit_code", exit_code);
	if (!obj)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	cli_print_json(obj);
	json_decref(obj);
	return SG_OK;
}

static int run_lint(const cert_opts *o, const sg_key_material *km, const char *ca, const char *crl)
{
	sg_lint_report rep = { 0 };
	const sg_verify_opts trust = { .crl_file = crl };
	sg_cert_info info;
	int error, rc;

	/* An unusable CRL file is the setting's fault, not a finding (the CA file: lint). */
	if (sg_verify_check_trust(&trust) != SG_OK)
		return cli_fail();
	error = sg_lint_cert(&rep, km->cert, km->chain, ca, crl, km->key, km->in_token, time(NULL));
	if (!error)
		error = sg_cert_info_from_x509(&info, km->cert);
	if (error) {
		sg_lint_report_free(&rep);
		return cli_fail();
	}
	rc = rep.fails ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
	if (!o->json)
		print_lint_text(&rep, &info);
	else if (print_lint_json(&rep, &info, rc) != SG_OK)
		rc = cli_fail();
	sg_lint_report_free(&rep);
	return rc;
}

/* One file that export writes: its bytes, then its temporary path. */
typedef enum out_kind { OUT_ROOT, OUT_INTERMEDIATE, OUT_SIGNER, OUT_OTHER } out_kind;

typedef struct out_file {
	char name[96];
	out_kind kind;
	char *data;
	size_t len;
	char *tmp;
} out_file;

typedef struct export_set {
	const char *dir;
	out_file *files;
	size_t n;
	sg_cert_info signer;
} export_set;

static void export_free(export_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->files[i].tmp)
			unlink(s->files[i].tmp);
		free(s->files[i].tmp);
		free(s->files[i].data);
	}
	free(s->files);
}

/* Add a file; takes `data` (malloc'd) in every case. */
static int add_file(export_set *s, out_kind kind, const char *name, char *data, size_t len)
{
	out_file *f = realloc(s->files, (s->n + 1) * sizeof(*f));

	if (!f) {
		free(data);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	s->files = f;
	f += s->n++;
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->kind = kind;
	f->data = data;
	f->len = len;
	return SG_OK;
}

static int add_der(export_set *s, out_kind kind, const char *name, X509 *x)
{
	int len = i2d_X509(x, NULL);
	unsigned char *buf = len > 0 ? malloc((size_t)len) : NULL, *p = buf;

	if (!buf || i2d_X509(x, &p) != len) {
		free(buf);
		ERR_clear_error();
		return sg_error_set(SG_ERR_CRYPTO, "%s: cannot encode the certificate", name);
	}
	return add_file(s, kind, name, (char *)buf, (size_t)len);
}

static int has_name(const export_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->files[i].name, name) == 0)
			return 1;
	return 0;
}

/* "root-<CN>.cer" with only [A-Za-z0-9._-] in it; "root-N.cer" when that fails. */
static void root_name(char *out, size_t size, const export_set *s, X509 *x, int index)
{
	X509_NAME *subj = X509_get_subject_name(x);
	int pos = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	unsigned char *cn = NULL;
	char safe[64];
	size_t n = 0;

	if (pos >= 0 &&
	    ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, pos))) > 0)
		for (unsigned char *p = cn; *p && n < sizeof(safe) - 1; p++)
			safe[n++] =
				(*p < 0x80 && (isalnum(*p) || strchr("._-", *p))) ? (char)*p : '-';
	safe[n] = '\0';
	OPENSSL_free(cn);
	ERR_clear_error();
	snprintf(out, size, "root-%s.cer", safe);
	if (!n || has_name(s, out))
		snprintf(out, size, "root-%d.cer", index);
}

static int add_roots(export_set *s, const char *ca_file)
{
	STACK_OF(X509) *roots = sk_X509_new_null();
	char name[96];
	int error =
		roots ? read_certs(roots, ca_file) : sg_error_set(SG_ERR_NOMEM, "out of memory");

	for (int i = 0; !error && i < sk_X509_num(roots); i++) {
		X509 *x = sk_X509_value(roots, i);
		if (sk_X509_num(roots) == 1)
			snprintf(name, sizeof(name), "root.cer");
		else
			root_name(name, sizeof(name), s, x, i + 1);
		error = add_der(s, OUT_ROOT, name, x);
	}
	sk_X509_pop_free(roots, X509_free);
	return error;
}

/* The chain's CA certificates that are not self-signed roots. */
static int add_intermediates(export_set *s, const sg_key_material *km)
{
	char name[96];
	int n = 0, error = SG_OK;

	for (int i = 0; !error && i < sk_X509_num(km->chain); i++) {
		X509 *x = sk_X509_value(km->chain, i);
		if (X509_check_ca(x) == 0 || X509_self_signed(x, 0) == 1 ||
		    X509_cmp(x, km->cert) == 0)
			continue;
		snprintf(name, sizeof(name), "intermediate-%d.cer", ++n);
		error = add_der(s, OUT_INTERMEDIATE, name, x);
	}
	ERR_clear_error();
	return error;
}

/* `s` with everything outside printable ASCII replaced: it goes into a script comment. */
static void ascii_only(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

#define NL "\r\n" /* the script is for Windows */

static const char *const ps1_intro[] = {
	"# import-signgate-trust.ps1: trust the signgate code-signing certificate.",
	"# Written by 'signgate cert export'.",
	"#",
};

static const char *const ps1_run[] = {
	"#",
	"# Run it on the ConfigMgr site server, in an elevated PowerShell, from the",
	"# folder that holds the .cer files:",
	"#   powershell.exe -ExecutionPolicy Bypass -File .\\import-signgate-trust.ps1",
	"#Requires -RunAsAdministrator",
	"$ErrorActionPreference = 'Stop'",
};

static const char *const ps1_body[] = {
	"",
	"function Import-Cer([string]$File, [string]$Store) {",
	"    $path = Join-Path $PSScriptRoot $File",
	"    Import-Certificate -FilePath $path -CertStoreLocation $Store | Out-Null",
	"    Write-Host \"imported $File into $Store\"",
	"}",
	"",
	"# Refuse a signer.cer that is not the certificate this script was written for.",
	"$signerFile = Join-Path $PSScriptRoot 'signer.cer'",
	"$signer = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 $signerFile",
	"if ($signer.Thumbprint -ne $thumbprint) {",
	"    throw \"signer.cer has thumbprint $($signer.Thumbprint), expected $thumbprint\"",
	"}",
};

static void put_lines(FILE *f, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s" NL, lines[i]);
}

#define PUT_LINES(f, a) put_lines(f, a, sizeof(a) / sizeof(a[0]))

static void ps1_head(FILE *f, const export_set *s, const char *subject)
{
	const char *tp = s->signer.sha1_thumbprint;

	PUT_LINES(f, ps1_intro);
	fprintf(f, "# Signer:     %s" NL, subject);
	fprintf(f, "# Thumbprint: %s (SHA-1, as certutil and ConfigMgr print it)" NL, tp);
	PUT_LINES(f, ps1_run);
	fprintf(f, "$thumbprint = '%s'" NL, tp);
	PUT_LINES(f, ps1_body);
}

static void ps1_imports(FILE *f, const export_set *s)
{
	static const char *const what[] = {
		[OUT_ROOT] = "# The enterprise root: the signer's chain must end in Trusted Root "
			     "Certification Authorities.",
		[OUT_INTERMEDIATE] = "# Intermediate CAs, so that the chain builds without "
				     "fetching them.",
		[OUT_SIGNER] = "# The signing certificate itself: Trusted Publishers.",
	};
	static const char *const store[] = {
		[OUT_ROOT] = "Cert:\\LocalMachine\\Root",
		[OUT_INTERMEDIATE] = "Cert:\\LocalMachine\\CA",
		[OUT_SIGNER] = "Cert:\\LocalMachine\\TrustedPublisher",
	};

	for (out_kind k = OUT_ROOT; k <= OUT_SIGNER; k++) {
		int first = 1;
		for (size_t i = 0; i < s->n; i++) {
			if (s->files[i].kind != k)
				continue;
			if (first)
				fprintf(f, NL "%s" NL, what[k]);
			first = 0;
			fprintf(f, "Import-Cer '%s' '%s'" NL, s->files[i].name, store[k]);
		}
	}
	fputs(NL "Write-Host \"Signing certificate thumbprint: $thumbprint\"" NL
		 "Write-Host 'Next, in the ConfigMgr console: Administration > Security > "
		 "Certificates:'" NL
		 "Write-Host 'allow this thumbprint (unblock it if it is listed as Blocked).'" NL,
	      f);
}

static int add_script(export_set *s)
{
	char subject[sizeof(s->signer.subject)], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int bad;

	if (!f)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	snprintf(subject, sizeof(subject), "%s", s->signer.subject);
	ascii_only(subject);
	ps1_head(f, s, subject);
	ps1_imports(f, s);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(buf);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	return add_file(s, OUT_OTHER, "import-signgate-trust.ps1", buf, len);
}

static int add_thumbprint(export_set *s)
{
	char *buf = malloc(sizeof(s->signer.sha1_thumbprint) + 1);

	if (!buf)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	snprintf(buf, sizeof(s->signer.sha1_thumbprint) + 1, "%s\n", s->signer.sha1_thumbprint);
	return add_file(s, OUT_OTHER, "thumbprint.txt", buf, strlen(buf));
}

/* Create `dir` and its parents as needed (mode 0755). */
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
		/* Public material for the Windows side: 0755 despite the private umask. */
		if (stat(path, &st) != 0) {
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

/* Write `f` into a new temporary file in the export folder (0644, fsynced). */
static int write_temp(out_file *f, const char *dir)
{
	char *dest = sg_path_join(dir, f->name);
	int error = dest ? sg_publish_temp(&f->tmp, dest, f->data, f->len, 0644)
			 : sg_error_set(SG_ERR_NOMEM, "out of memory");

	free(dest);
	return error;
}

/* Refuse before writing anything when a file is there; then write all, then move all. */
static int publish(export_set *s, int force)
{
	char *dest;
	int error = SG_OK;

	for (size_t i = 0; !error && !force && i < s->n; i++) {
		dest = sg_path_join(s->dir, s->files[i].name);
		if (!dest)
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		if (sg_path_exists(dest))
			error = sg_error_set(SG_ERR_EXISTS,
					     "%s: exists already (use --force to replace it)",
					     dest);
		free(dest);
	}
	for (size_t i = 0; !error && i < s->n; i++)
		error = write_temp(&s->files[i], s->dir);
	for (size_t i = 0; !error && i < s->n; i++) {
		dest = sg_path_join(s->dir, s->files[i].name);
		if (!dest)
			return sg_error_set(SG_ERR_NOMEM, "out of memory");
		error = sg_publish_commit(s->files[i].tmp, dest, force);
		free(s->files[i].tmp);
		s->files[i].tmp = NULL;
		free(dest);
	}
	return error;
}

static int run_export(const cert_opts *o, const sg_key_material *km, const char *ca)
{
	export_set s = { .dir = o->out_dir };
	char *dir = NULL; /* --out-dir, resolved once when it is a link */
	int error = sg_cert_info_from_x509(&s.signer, km->cert);

	/* Only a root the signer really chains to is worth importing anywhere. */
	if (!error && sg_cert_verify_chain(km->cert, km->chain, ca, NULL, 0) != SG_OK) {
		cli_error("%s; nothing exported", sg_error_last());
		export_free(&s);
		return CLI_EXIT_REJECTED;
	}
	if (!error)
		error = add_roots(&s, ca);
	if (!error)
		error = add_intermediates(&s, km);
	if (!error)
		error = add_der(&s, OUT_SIGNER, "signer.cer", km->cert);
	if (!error)
		error = add_thumbprint(&s);
	if (!error)
		error = add_script(&s);
	if (!error)
		error = ensure_dir(o->out_dir);
	if (!error && !(dir = cli_out_dir_resolve(o->out_dir, "--out-dir"))) {
		export_free(&s);
		return CLI_EXIT_OPERATIONAL;
	}
	s.dir = dir;
	if (!error)
		error = publish(&s, o->force);
	if (!error) {
		printf("thumbprint  %s\n", s.signer.sha1_thumbprint);
		for (size_t i = 0; i < s.n; i++)
			printf("wrote       %s/%s\n", dir, s.files[i].name);
		fflush(stdout);
	}
	export_free(&s);
	free(dir);
	return error ? cli_fail() : CLI_EXIT_OK;
}

int cmd_cert(int argc, char **argv)
{
	cert_opts o;
	sg_key_material km = { 0 };
	sg_config *cfg = NULL;
	const char *ca, *crl;
	int rc = parse(&o, argc, argv), error;

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	error = o.config ? load_config(&km, &cfg, o.config) : load_files(&km, &o);
	if (error) {
		rc = cli_fail();
		goto done;
	}
	ca = cfg ? cfg->ca_file : o.ca;
	crl = cfg ? cfg->crl_file : o.crl;
	if (strcmp(o.verb, "lint") == 0)
		rc = run_lint(&o, &km, ca, crl);
	else
		rc = run_export(&o, &km, ca);
done:
	sg_key_material_free(&km);
	sg_config_free(cfg);
	return rc;
}

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
#include "cmd_cert.h"
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
	"       signgate cert export (--config FILE | --cert FILE --ca ROOT.pem [--crl FILE])\n"
	"                             [--chain FILE] [--expect-thumbprint HEX]\n"
	"                             (--out-dir DIR [--force] [--allow-older-crl]\n"
	"                             | --check DIR [--json])\n"
	"\n"
	"  lint     check the signing certificate against the code-signing profile:\n"
	"           key (RSA >= 3072 or ECDSA P-256+), keyUsage critical digitalSignature,\n"
	"           EKU codeSigning without anyExtendedKeyUsage, serverAuth or Lifetime\n"
	"           Signing, CA:FALSE, validity (over 460 days warns; days left), signature\n"
	"           algorithm, chain to the trust anchor (and CRLs), HTTP CDP and AIA,\n"
	"           and that the key matches. One line per finding: pass, warn or fail.\n"
	"  export   write what Windows needs to trust signgate's signatures into DIR\n"
	"           (created if missing), from certificates alone: the signing key is\n"
	"           never opened and no password or PIN is asked for. The certificates\n"
	"           come from signing.certificate (the leaf, then intermediates),\n"
	"           signing.cert_chain, or, when neither names the leaf, a PKCS#12's\n"
	"           certificates when it lets them be read without its password (the\n"
	"           PKCS#12 is not opened otherwise). Nothing authenticates them (no\n"
	"           MAC keyed by its password is checked): its leaf is taken only\n"
	"           when --expect-thumbprint names it (exit 2 otherwise), and a PKCS#12\n"
	"           mixing such certificates with encrypted parts is refused (exit 2).\n"
	"           The leaf must be a code-signing certificate as sign requires\n"
	"           (codeSigning, not a CA: exit 3 otherwise) and chain to\n"
	"           trust.ca_file (and pass its CRLs); each CRL must be signed by a CA of\n"
	"           that chain (exit 3 otherwise). Files: root.cer (the root of the\n"
	"           verified chain only; other anchors of ca_file are left out),\n"
	"           intermediate-N.cer, signer.cer, signgate-chain.p7b (the chain as\n"
	"           one DER PKCS#7), crl-N.crl (each CRL of trust.crl_file, DER),\n"
	"           thumbprint.txt (the signer's SHA-1 thumbprint as certutil and\n"
	"           ConfigMgr print it), import-signgate-trust.ps1 (checks every\n"
	"           thumbprint, then imports into LocalMachine\\Root, \\CA and\n"
	"           \\TrustedPublisher) and README.txt (the steps for the site server, the\n"
	"           ConfigMgr console, Group Policy, Intune and certutil -dspublish).\n"
	"           The files are public (mode 0644) and appear atomically; a folder\n"
	"           others may write is refused.\n"
	"           --check DIR compares DIR with what export writes now, file by file:\n"
	"           unchanged, changed (and why: a renewed signer, a new or an OLDER\n"
	"           CRL, another root), missing, extra, unsafe (a file or the folder\n"
	"           others may write, another account owns, a link); a signed copy of\n"
	"           the import script counts as unchanged.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   the certificates and trust anchors of signgate.json (lint\n"
	"                      opens the key with its configured secret; export never does)\n"
	"      --cert FILE     the signing certificate (PEM or DER); more PEM certificates\n"
	"                      in it are intermediates\n"
	"      --chain FILE    intermediates (PEM); with --config for export too\n"
	"      --ca FILE       trust anchor(s) (PEM)\n"
	"      --crl FILE      CRLs (PEM) to check the chain against (and to export)\n"
	"      --json          one JSON object on stdout (lint, export --check)\n"
	"  -o, --out-dir DIR   where export writes; a DIR that is a symbolic link is\n"
	"                      followed once, with a warning\n"
	"      --force         let export replace existing files (all or nothing; a CRL\n"
	"                      older than any CRL of the same CA in DIR, a lower number\n"
	"                      or earlier thisUpdate, is refused, exit 2)\n"
	"      --allow-older-crl  export a CRL older than one in DIR (a rollback); a newer\n"
	"                      CRL at a name export does not write is left and reported\n"
	"      --check DIR     compare DIR with what export would write (writes nothing)\n"
	"      --expect-thumbprint HEX  export: the signer's SHA-1 or SHA-256 thumbprint\n"
	"                      (':' allowed); another leaf is refused (exit 2). Pins the\n"
	"                      leaf of a PKCS#12 read without its password\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit codes: 0 nothing fails (lint) / exported / DIR up to date (--check); 1\n"
	"operational error (I/O, bad key or password, a file exists); 2 usage or\n"
	"configuration error; 3 the certificate fails the profile (lint), the chain\n"
	"does not verify, the leaf may not sign code or a CRL is not its CA's (export),\n"
	"DIR differs or others may write it (--check).\n";

static int check_opts(const cert_opts *o, int lint)
{
	if (!o->config == !o->cert)
		return cli_usage_error("cert", "give exactly one of --config FILE or --cert FILE");
	if (o->config && (o->ca || o->crl || (lint && o->chain)))
		return cli_usage_error("cert",
				       "%s go with --cert; a config names its own chain "
				       "and trust",
				       lint ? "--chain, --ca and --crl" : "--ca and --crl");
	if (o->cert && !o->ca)
		return cli_usage_error("cert", "--cert needs --ca ROOT.pem");
	if (lint && (o->out_dir || o->force || o->check_dir))
		return cli_usage_error("cert",
				       "--out-dir, --force and --check go with 'cert export'");
	if (!lint && !o->out_dir == !o->check_dir)
		return cli_usage_error("cert", "'cert export' needs --out-dir DIR or --check DIR");
	if (!lint && o->check_dir && (o->force || o->allow_older_crl))
		return cli_usage_error("cert", "--check writes nothing: %s goes with --out-dir",
				       o->force ? "--force" : "--allow-older-crl");
	if (lint && o->allow_older_crl)
		return cli_usage_error("cert", "--allow-older-crl goes with 'cert export'");
	if (lint && o->expect_thumbprint)
		return cli_usage_error("cert", "--expect-thumbprint goes with 'cert export'");
	if (o->expect_thumbprint &&
	    strspn(o->expect_thumbprint, "0123456789abcdefABCDEF:") != strlen(o->expect_thumbprint))
		return cli_usage_error("cert",
				       "--expect-thumbprint: '%s' is not a hex thumbprint "
				       "(SHA-1: 40 digits, SHA-256: 64)",
				       o->expect_thumbprint);
	if (!lint && o->json && !o->check_dir)
		return cli_usage_error("cert",
				       "--json goes with 'cert lint' and 'cert export --check'");
	return 0;
}

static int parse(cert_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "cert", required_argument, NULL, 'C' },
		{ "chain", required_argument, NULL, 'i' },
		{ "ca", required_argument, NULL, 'a' },
		{ "crl", required_argument, NULL, 'r' },
		{ "out-dir", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "allow-older-crl", no_argument, NULL, 'O' },
		{ "check", required_argument, NULL, 'K' },
		{ "expect-thumbprint", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
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
		case 'O': o->allow_older_crl = 1; break;
		case 'K': o->check_dir = optarg; break;
		case 'T': o->expect_thumbprint = optarg; break;
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

int cmd_cert(int argc, char **argv)
{
	cert_opts o;
	sg_key_material km = { 0 };
	sg_config *cfg = NULL;
	int rc = parse(&o, argc, argv), error;

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	/* Export reads certificates alone: no key material is loaded for it. */
	if (strcmp(o.verb, "export") == 0)
		return cert_export_run(&o);
	error = o.config ? load_config(&km, &cfg, o.config) : load_files(&km, &o);
	if (error)
		rc = cli_fail();
	else
		rc = run_lint(&o, &km, cfg ? cfg->ca_file : o.ca, cfg ? cfg->crl_file : o.crl);
	sg_key_material_free(&km);
	sg_config_free(cfg);
	return rc;
}

/*
 * signgate policy approve: check an installer against the vendor's values and
 * write one approval file with its provenance.
 *
 * Every check reads private copies made once: the installer is copied and
 * hashed in one pass, the manifest and signature files are read once, and
 * gpgv and the digest comparisons see those copies, so that what was checked
 * is what the approval names.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "approver.h"
#include "signgate/approve.h"
#include "cli.h"
#include "signgate/audit.h"
#include "signgate/config.h"
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/hash.h"
#include "signgate/manifest.h"
#include "signgate/openpgp.h"
#include "signgate/policy.h"
#include "signgate/policy_json.h"
#include "signgate/strict.h"
#include "signgate/util.h"

static const char approve_help[] =
	"Usage: signgate policy approve (--policy DIR | --config FILE)\n"
	"           --product NAME --vendor NAME --version V --ticket T\n"
	"           [--manifest FILE [--manifest-sig FILE]] [--installer-sig FILE]\n"
	"           [--sha256 HEX] [--sha512 HEX] [--keyring FILE] [--openpgp-key FPR]\n"
	"           [--source URL]\n"
	"           [--expires YYYY-MM-DD] [--id ID] [--file NAME]\n"
	"           [--existing-signature refuse|replace|nest] [--accept-unsigned REASON]\n"
	"           [--not-in-catalog REASON]\n"
	"           [--description TEXT] [--json]\n"
	"           [--cert ME.pem --key (ME.key | pkcs11:URI --pkcs11-module MODULE\n"
	"            [--key-source pkcs11-provider])\n"
	"            [--password-file F | --password-prompt] [--approvers-ca CA.pem]]\n"
	"           INSTALLER\n"
	"\n"
	"Compute the installer's digests, check them against the vendor's values, and\n"
	"write one approval file POLICY/ID.json (never over an existing one) with its\n"
	"provenance: each vendor value and where it came from, the manifest's digest\n"
	"and line, the OpenPGP key that signed the manifest or installer, who approved\n"
	"and when. Any mismatch refuses, and nothing is written.\n"
	"\n"
	"Vendor values (at least one; SHA-256 or SHA-512 among them):\n"
	"  --manifest FILE        the hash file the vendor publishes (sha256sum and\n"
	"                         sha512sum output, BSD tags, OpenSSL, gpg --print-md,\n"
	"                         a bare digest); its entries for the installer's name\n"
	"  --manifest-sig FILE    the vendor's detached OpenPGP signature of the manifest\n"
	"  --installer-sig FILE   the vendor's detached OpenPGP signature of the installer\n"
	"  --sha256 HEX, --sha512 HEX   a value copied from the vendor's page\n"
	"  --keyring FILE         the vendor keys for gpgv, inside the policy folder\n"
	"                         (default POLICY/KEYS; armored or binary)\n"
	"  --openpgp-key FPR      the fingerprint the signature must be made with (its\n"
	"                         primary key or signing subkey); without it, any key\n"
	"                         of the keyring is accepted\n"
	"\n"
	"The approval:\n"
	"  --product, --vendor, --version, --ticket   required\n"
	"  --id ID                default: PRODUCT-VERSION in lower case, [a-z0-9._-]\n"
	"  --file NAME            the name the installer must have (default: its name)\n"
	"  --source URL           where it was downloaded from\n"
	"  --expires DATE         its last valid day (UTC)\n"
	"  --existing-signature   refuse (default), replace or nest\n"
	"  --accept-unsigned WHY  sign an unsigned file of a product the catalog lists\n"
	"                         as vendor-signed; WHY names the reason and the ticket\n"
	"  --not-in-catalog WHY   approve a product the (non-empty) catalog does not\n"
	"                         list; without it such an approval is refused\n"
	"  --description TEXT     what Windows shows as the program name\n"
	"\n"
	"Who approves is never typed in: it is the account that runs signgate (its\n"
	"name and uid), or, with --cert and --key, the approver's certificate.\n"
	"SIGNGATE_APPROVER may add a display name, recorded as self-declared\n"
	"(\"approved_by\": \"ACCOUNT (self-declared: NAME)\"). With --config the\n"
	"decision is also recorded in the audit log.\n"
	"\n"
	"The two-person rule (\"require_cosign\" in the policy or the config) needs\n"
	"two approvers' signatures over the approval file (see policy/README.md):\n"
	"  --cert FILE            sign as its first approver with your certificate\n"
	"                         from the approvers' CA: APPROVAL.json.approve.p7s\n"
	"  --key FILE|URI         your private key (PEM, mode 0600), or a pkcs11: URI\n"
	"  --pkcs11-module F      the PKCS#11 module (absolute path) of your token\n"
	"  --key-source NAME      pkcs11-provider: open the token through pkcs11-provider\n"
	"                         (default: libp11's engine for a pkcs11: URI)\n"
	"  --password-file F      the key's password or the token's PIN (mode 0600)\n"
	"  --password-prompt      ask for it on the terminal\n"
	"  --approvers-ca FILE    the approvers' CA (default: the config's\n"
	"                         trust.approvers_ca_file)\n"
	"The second approver then runs 'signgate policy cosign'.\n"
	"\n"
	"Exit codes: 0 approved and written; 1 a file cannot be read or written;\n"
	"2 usage or configuration error (an approval with that id exists); 3 refused\n"
	"(mismatch, weak values only, bad OpenPGP signature, not an installer,\n"
	"vendor-signed product arrived unsigned, product not in the catalog).\n";

typedef struct approve_opts {
	sg_approve_request r; /* what the workflow is asked */
	approver_opts signer; /* --cert, --key and the rest */
	int json;
} approve_opts;

static int parse(approve_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "product", required_argument, NULL, 'P' },
		{ "vendor", required_argument, NULL, 'V' },
		{ "version", required_argument, NULL, 'v' },
		{ "ticket", required_argument, NULL, 't' },
		{ "manifest", required_argument, NULL, 'm' },
		{ "manifest-sig", required_argument, NULL, 'M' },
		{ "installer-sig", required_argument, NULL, 'I' },
		{ "keyring", required_argument, NULL, 'k' },
		{ "openpgp-key", required_argument, NULL, 'K' },
		{ "sha256", required_argument, NULL, '2' },
		{ "sha512", required_argument, NULL, '5' },
		{ "source", required_argument, NULL, 's' },
		{ "expires", required_argument, NULL, 'e' },
		{ "id", required_argument, NULL, 'i' },
		{ "file", required_argument, NULL, 'f' },
		{ "existing-signature", required_argument, NULL, 'x' },
		{ "accept-unsigned", required_argument, NULL, 'a' },
		{ "not-in-catalog", required_argument, NULL, 'N' },
		{ "description", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'Y' },
		{ "pkcs11-module", required_argument, NULL, 'L' },
		{ "key-source", required_argument, NULL, 'S' },
		{ "password-file", required_argument, NULL, 'W' },
		{ "password-prompt", no_argument, NULL, 'Q' },
		{ "approvers-ca", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	sg_existing_rule rule;
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "p:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->r.policy = optarg; break;
		case 'c': o->r.config = optarg; break;
		case 'P': o->r.product = optarg; break;
		case 'V': o->r.vendor = optarg; break;
		case 'v': o->r.version = optarg; break;
		case 't': o->r.ticket = optarg; break;
		case 'm': o->r.manifest = optarg; break;
		case 'M': o->r.manifest_sig = optarg; break;
		case 'I': o->r.installer_sig = optarg; break;
		case 'k': o->r.keyring = optarg; break;
		case 'K': o->r.openpgp_key = optarg; break;
		case '2': o->r.sha256 = optarg; break;
		case '5': o->r.sha512 = optarg; break;
		case 's': o->r.source = optarg; break;
		case 'e': o->r.expires = optarg; break;
		case 'i': o->r.id = optarg; break;
		case 'f': o->r.file = optarg; break;
		case 'x': o->r.existing = optarg; break;
		case 'a': o->r.accept_unsigned = optarg; break;
		case 'N': o->r.not_in_catalog = optarg; break;
		case 'd': o->r.description = optarg; break;
		case 'j': o->json = 1; break;
		case 'C': o->signer.cert = optarg; break;
		case 'Y': o->signer.key = optarg; break;
		case 'L': o->signer.pkcs11_module = optarg; break;
		case 'S': o->signer.key_source = optarg; break;
		case 'W': o->signer.secret.file = optarg; break;
		case 'Q': o->signer.secret.prompt = 1; break;
		case 'A': o->signer.approvers_ca = optarg; break;
		case 'h': fputs(approve_help, stdout); return -1;
		default: return cli_usage_error("policy approve", "bad option");
		}
	}
	if (!o->r.policy && cli_config_lookup(&o->r.config, "policy approve") != CLI_EXIT_OK)
		return CLI_EXIT_USAGE;
	if (!o->r.policy == !o->r.config)
		return cli_usage_error("policy approve",
				       "give exactly one of --policy DIR or --config FILE");
	if (!o->r.product || !o->r.vendor || !o->r.version || !o->r.ticket)
		return cli_usage_error("policy approve",
				       "--product, --vendor, --version and --ticket are required");
	if (!o->r.manifest && !o->r.sha256 && !o->r.sha512)
		return cli_usage_error("policy approve",
				       "give the vendor's values: --manifest FILE, --sha256 HEX "
				       "or --sha512 HEX");
	if (!sg_policy_product_valid(o->r.product))
		return cli_usage_error("policy approve",
				       "--product must be printable ASCII (a look-alike name?)");
	if (o->r.manifest_sig && !o->r.manifest)
		return cli_usage_error("policy approve", "--manifest-sig goes with --manifest");
	if (sg_existing_rule_parse(&rule, o->r.existing) != SG_OK)
		return cli_usage_error("policy approve", "--existing-signature: %s",
				       sg_error_last());
	if (o->r.file && strchr(o->r.file, '/'))
		return cli_usage_error("policy approve", "--file is a base name, without '/'");
	if (o->r.not_in_catalog && o->r.not_in_catalog[strspn(o->r.not_in_catalog, " ")] == '\0')
		return cli_usage_error("policy approve", "--not-in-catalog must say why");
	if (optind + 1 != argc)
		return cli_usage_error("policy approve", "give exactly one INSTALLER");
	o->r.installer = argv[optind];
	if (cli_file_given(o->r.policy, "--policy") || cli_file_given(o->r.manifest, "--manifest") ||
	    cli_file_given(o->r.manifest_sig, "--manifest-sig") ||
	    cli_file_given(o->r.installer_sig, "--installer-sig") ||
	    cli_file_given(o->r.keyring, "--keyring") ||
	    cli_file_given(o->signer.approvers_ca, "--approvers-ca") ||
	    cli_file_given(o->signer.cert, "--cert"))
		return CLI_EXIT_USAGE;
	return approver_opts_check(&o->signer, o->r.config != NULL);
}

static void print_result(const sg_approve *st, const approve_opts *o, int status)
{
	const char *word = !status                                      ? "approved"
			   : cli_exit_code(status) == CLI_EXIT_REJECTED ? "denied"
									: "error";

	if (o->json) {
		json_t *obj = json_pack("{s:s, s:s, s:s?, s:s?}", "decision", word, "installer",
					o->r.installer, "approval_file",
					status ? NULL : st->approval_path, "message",
					status ? sg_error_last() : NULL);
		if (obj && st->approval)
			json_object_set(obj, "approval", st->approval);
		cli_print_json(obj);
		json_decref(obj);
		return;
	}
	if (status) {
		printf("%-8s %s\n", word, sg_error_last());
		return;
	}
	printf("approved %s: wrote %s\n", st->name, st->approval_path);
	printf("         SHA-256 %s\n", st->digests.sha256_hex);
	for (size_t i = 0; i < st->n_values; i++) {
		const sg_approve_value *v = &st->values[i];

		if (v->line)
			printf("         %-7s matches the vendor's value (%s line %zu)\n",
			       sg_hash_alg_name(v->alg), o->r.manifest, v->line);
		else
			printf("         %-7s matches the vendor's value (%s)\n",
			       sg_hash_alg_name(v->alg), v->from);
	}
	for (size_t i = 0; st->openpgp && i < json_array_size(st->openpgp); i++)
		printf("         OpenPGP signature of the %s by %s (%s)\n",
		       json_string_value(json_object_get(json_array_get(st->openpgp, i), "signed")),
		       json_string_value(json_object_get(json_array_get(st->openpgp, i),
							 "primary_fingerprint")),
		       json_string_value(json_object_get(json_array_get(st->openpgp, i), "uid")));
	if (st->who.key)
		printf("         approved by %s (certificate %s), signed %s%s\n", st->who.name,
		       st->who.signer.subject, st->approval_path, SG_APPROVE_SUFFIX);
	else
		printf("         approved by %s (the account running signgate, uid %lu)\n",
		       st->who.name, st->who.uid);
	if (st->require_cosign)
		printf("         the two-person rule applies: %s%s\n",
		       st->who.key ? "a second approver signs it with 'signgate policy cosign'"
				   : "sign it with 'signgate policy cosign --first', and a second "
				     "approver with 'signgate policy cosign'",
		       "; until then signing refuses it");
}

/* A policy working copy's keyring: a warning, not a refusal (README "Strict modes"). */
static void keyring_warn(const char *path)
{
	cli_strict_warn(path, 0);
}

int cmd_policy_approve(int argc, char **argv)
{
	sg_approve st = SG_APPROVE_INIT;
	approve_opts o;
	sg_config *cfg = NULL;
	int rc = parse(&o, argc, argv), status;

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (o.r.config && sg_config_load(&cfg, o.r.config) != SG_OK)
		return cli_fail();
	/* gpgv checks the vendor's OpenPGP signatures, confined. */
	if (cli_confine_setup(cfg) != SG_OK) {
		sg_config_free(cfg);
		return cli_fail();
	}
	if (!o.r.config) /* a policy working copy: a warning (README "Strict modes") */
		cli_strict_warn(o.r.policy, SG_STRICT_ENTRIES);
	o.r.strict_warn = keyring_warn;
	st.o = &o.r;
	st.cfg = cfg;
	st.require_cosign = cfg && cfg->require_cosign;
	rc = approver_open(&st.who, &o.signer, cfg);
	if (rc) {
		sg_approve_free(&st);
		sg_config_free(cfg);
		return rc;
	}
	st.name = o.r.file ? o.r.file : sg_path_base(o.r.installer);
	cli_clean_leftovers(NULL);
	status = sg_approve_run(&st, cfg ? cfg->policy : o.r.policy);
	if (st.index_warning)
		fprintf(stderr,
			"signgate: warning: the approval is written, but not the policy index "
			"(%s); signing reads every policy file until 'signgate policy index' "
			"succeeds\n",
			st.index_warning);
	print_result(&st, &o, status);
	rc = status ? cli_exit_code(status) : CLI_EXIT_OK;
	if (status == SG_ERR_EXISTS)
		rc = CLI_EXIT_USAGE;
	sg_approve_free(&st);
	sg_config_free(cfg);
	return rc;
}

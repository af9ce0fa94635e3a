/*
 * signgate: approve unsigned vendor installers and re-sign them with the
 * enterprise code-signing CA. main() parses the command word and dispatches.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "signgate/config.h"
#include "signgate/error.h"
#include "signgate/keys.h"
#include "signgate/secret.h"

static const char usage_text[] =
	"Usage: signgate COMMAND [OPTIONS] ...\n"
	"\n"
	"Approve unsigned vendor installers against a policy, check them against the\n"
	"vendor's published hashes, add the enterprise Authenticode signature with\n"
	"osslsigncode, verify it the way the ConfigMgr site server will, and record\n"
	"every decision in a hash-chained audit log.\n"
	"\n"
	"Commands:\n"
	"  sign    --config FILE [--out-dir DIR | --out FILE] [--force] [-r] [--files-from LIST]\n"
	"          [-j N] [--fail-fast] [--json] [--catalog-out FILE] [-q] INPUT...\n"
	"          decide, sign, verify and publish each approved installer\n"
	"  check   --config FILE [-r] [--files-from LIST] [-j N] [--json] INPUT...\n"
	"          decide without signing (the decision is recorded)\n"
	"  watch   [--config FILE] [--once] [--rejected DIR] INBOX OUTBOX\n"
	"          the inbox service: sign each file dropped into INBOX into OUTBOX,\n"
	"          or reject it with a .reason file\n"
	"  verify  (--config FILE | --ca ROOT.pem [--tsa-ca FILE] [--crl FILE]) [--pin SHA256]\n"
	"          [--json] INPUT...\n"
	"          verify signed files as the site server will\n"
	"  timestamp [--config FILE] (--out FILE | --out-dir DIR) [--force] [--json] INPUT...\n"
	"          add an RFC 3161 timestamp, keyless, to files signed while every TSA\n"
	"          was down (their SHA-256 changes: remake catalogs made before)\n"
	"  audit verify (--config FILE | --log FILE...) [--seals FILE --seal-cert PEM]\n"
	"               [--partial] [--against FILE] [--json]\n"
	"          check the audit log's hash chain (and seals, and the seals forwarded\n"
	"          off the host); names the first bad line\n"
	"  audit show   (--config FILE | --log FILE) [FILTERS] [--json | --csv]\n"
	"          print the audit records, filtered\n"
	"  audit summary (--config FILE | --log FILE) [FILTERS]\n"
	"          counts, denials and failures first, files signed per certificate\n"
	"  audit repair (--config FILE | --log FILE)\n"
	"          set a torn last line aside after a crash, and record that\n"
	"  audit rotate (--config FILE | --log FILE)\n"
	"          start a new log file chained to the old one\n"
	"  audit seal   --config FILE [--if-needed]\n"
	"          append a seal record and sign the head that includes it (cut-off\n"
	"          tails show); nothing to seal yet on a log without records\n"
	"  audit report (--config FILE | --log FILE...) [--since TIME] [--until TIME]\n"
	"               [--policy PATH] [--json] [--out FILE [--force]]\n"
	"          the auditor's report, verdict first: one self-contained HTML page,\n"
	"          or JSON\n"
	"  policy approve (--policy DIR | --config FILE) --product P --vendor V --version V\n"
	"                 --ticket T [--manifest FILE [--manifest-sig FILE]] [--sha256 HEX]\n"
	"                 INSTALLER\n"
	"          check an installer against the vendor's values; write its approval\n"
	"  policy lint | show (--policy DIR | --config FILE)\n"
	"          check the policy as signing will; list approvals\n"
	"  policy index (--policy DIR | --config FILE)\n"
	"          write the policy's index: signing then opens a large policy fast\n"
	"  policy cosign [--first] [--sha256 HEX] ... APPROVAL_FILE\n"
	"          an approver's signature over an approval (two-person rule)\n"
	"  cert lint   (--config FILE | --cert FILE [--chain FILE] --ca ROOT.pem [--crl FILE])\n"
	"              [--json]\n"
	"          check the signing certificate against the code-signing profile\n"
	"  cert export (--config FILE | --cert FILE --ca ROOT.pem [--crl FILE]) [--chain FILE]\n"
	"              [--expect-thumbprint HEX] (--out-dir DIR [--force] | --check DIR [--json])\n"
	"          what Windows imports, from the certificates alone (never the key): .cer\n"
	"          files, the chain as .p7b, the CRLs, the thumbprint, an import script and\n"
	"          README.txt; --check compares an exported folder with them\n"
	"\n"
	"Without --config, a command that takes one uses $SIGNGATE_CONFIG, else\n"
	"/etc/signgate/signgate.json when it exists; --ca, --log, --policy, --cert\n"
	"and --approvers-ca use only the files they name.\n"
	"\n"
	"Exit codes: 0 all inputs approved/signed/valid; 1 operational error (I/O,\n"
	"osslsigncode failed, bad key, output exists); 2 usage or configuration\n"
	"error, found before any input is touched (a missing config, key file or\n"
	"osslsigncode, osslsigncode older than 2.9, a file an option names that does\n"
	"not exist); 3 at least one input denied, failed its hash or structure check,\n"
	"or failed verification (or a tampered audit log).\n"
	"\n"
	"Run 'signgate COMMAND --help' for the options of one command.\n";

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	/* Everything signgate creates is private unless it says otherwise. */
	umask(077);
	/*
	 * No OpenSSL configuration file, ever (OPENSSL_CONF or OpenSSL's own):
	 * one can load providers, engines and includes from anywhere, before any
	 * check of ours, and the key helper forked later would inherit them (an
	 * engine named "pkcs11" from such a file would be handed the PIN). What
	 * signgate needs it loads by absolute path, each held to the strict rule.
	 */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1) {
		fputs("signgate: cannot start OpenSSL\n", stderr);
		return CLI_EXIT_OPERATIONAL;
	}
	if (!cmd) {
		fputs(usage_text, stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("signgate %s (%s)\n", SG_VERSION, OpenSSL_version(OPENSSL_VERSION));
		return CLI_EXIT_OK;
	}
	/* A config names only key sources the table knows, checked as it loads. */
	sg_config_set_checker(sg_keys_check_config);
	/* Fail closed: no command runs without the protection of its secrets. */
	if (sg_secret_protect_process() != SG_OK)
		return cli_fail();
	if (strcmp(cmd, "sign") == 0)
		return cmd_sign(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(cmd, "timestamp") == 0)
		return cmd_timestamp(argc - 1, argv + 1);
	if (strcmp(cmd, "audit") == 0)
		return cmd_audit(argc - 1, argv + 1);
	if (strcmp(cmd, "cert") == 0)
		return cmd_cert(argc - 1, argv + 1);
	if (strcmp(cmd, "policy") == 0)
		return cmd_policy(argc - 1, argv + 1);
	if (strcmp(cmd, "watch") == 0)
		return cmd_watch(argc - 1, argv + 1);
	cli_error("unknown command '%s'", cmd);
	fputs("Run 'signgate --help' for the list of commands.\n", stderr);
	return CLI_EXIT_USAGE;
}

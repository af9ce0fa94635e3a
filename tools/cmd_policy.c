/*
 * signgate policy lint | show | index (approve: cmd_policy_approve.c; cosign:
 * cmd_policy_cosign.c), and how the sign path opens the policy.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "signgate/config.h"
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/policy.h"
#include "signgate/audit_signings.h"
#include "signgate/pipeline.h"
#include "signgate/policy_json.h"
#include "signgate/strict.h"
#include "signgate/util.h"

#define DEFAULT_SOON 30
#define MAX_FINDINGS 10000

static const char policy_help[] =
	"Usage: signgate policy approve (--policy DIR | --config FILE) ... INSTALLER\n"
	"       signgate policy lint    (--policy DIR | --config FILE) [--soon DAYS] [--json]\n"
	"       signgate policy show    (--policy DIR | --config FILE) [--product NAME]\n"
	"                               [--expired | --expiring DAYS] [--json]\n"
	"       signgate policy index   (--policy DIR | --config FILE) [--json]\n"
	"       signgate policy cosign  ... APPROVAL_FILE\n"
	"\n"
	"The policy (a JSON file or a folder of them) says which exact vendor files may\n"
	"be signed; see policy/README.md.\n"
	"\n"
	"  approve  check an installer against the vendor's hash values (a manifest\n"
	"           the vendor publishes, optionally OpenPGP-signed, or a value copied\n"
	"           from the vendor's page) and write one approval file with its\n"
	"           provenance: see 'signgate policy approve --help'\n"
	"  lint     load the policy as signing does (any error stops signing: exit 2)\n"
	"           and warn of expired and soon-expiring approvals, approvals of\n"
	"           products the catalog lists as vendor-signed, approvals\n"
	"           without provenance, under the two-person rule approvals\n"
	"           missing an approver's signature (with --config: whose\n"
	"           signatures do not make them usable, and why); and the files\n"
	"           that anyone but root and the policy's owner may write (README\n"
	"           \"Strict modes\"): errors (exit 2) for the policy's owner,\n"
	"           warnings when another account runs it\n"
	"  show     the approvals as a table or JSON Lines, filtered\n"
	"  index    load the policy in full and write its index (DIR/.signgate/index,\n"
	"           or FILE.sgindex beside a one-file policy), so that signing opens\n"
	"           a large policy in milliseconds; 'policy approve' rewrites it. A\n"
	"           missing or out-of-date index only makes signing load every file\n"
	"  cosign   an approver's detached CMS signature over an approval file (the\n"
	"           two-person rule): see 'signgate policy cosign --help'\n"
	"\n"
	"Options:\n"
	"  -p, --policy DIR     the policy file or folder\n"
	"  -c, --config FILE    take the policy from signgate.json\n"
	"      --soon DAYS      lint: warn of approvals expiring within DAYS (default 30)\n"
	"      --product NAME   show: one product (ignoring case)\n"
	"      --expired        show: only expired approvals\n"
	"      --expiring DAYS  show: only approvals expiring within DAYS (not yet expired)\n"
	"      --json           machine-readable output\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit codes: 0 the policy loads (warnings may be printed); 1 a file cannot be\n"
	"read or the index cannot be written; 2 usage error, or the policy has errors\n"
	"(signing refuses it; no index is written).\n";

typedef struct policy_opts {
	const char *policy, *config, *product;
	int json, expired, expiring, soon;
} policy_opts;

static int parse_days(int *out, const char *text, const char *what)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v < 0 || v > 36500)
		return cli_usage_error("policy", "%s takes a number of days (0-36500)", what);
	*out = (int)v;
	return 0;
}

static int parse(policy_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = { { "policy", required_argument, NULL, 'p' },
						  { "config", required_argument, NULL, 'c' },
						  { "soon", required_argument, NULL, 's' },
						  { "product", required_argument, NULL, 'P' },
						  { "expired", no_argument, NULL, 'x' },
						  { "expiring", required_argument, NULL, 'e' },
						  { "json", no_argument, NULL, 'j' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	int c, rc = 0;

	memset(o, 0, sizeof(*o));
	o->soon = DEFAULT_SOON;
	o->expiring = -1;
	while (rc == 0 && (c = getopt_long(argc, argv, "p:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->policy = optarg; break;
		case 'c': o->config = optarg; break;
		case 's': rc = parse_days(&o->soon, optarg, "--soon"); break;
		case 'P': o->product = optarg; break;
		case 'x': o->expired = 1; break;
		case 'e': rc = parse_days(&o->expiring, optarg, "--expiring"); break;
		case 'j': o->json = 1; break;
		case 'h': fputs(policy_help, stdout); return -1;
		default: return cli_usage_error("policy", "bad option");
		}
	}
	if (rc)
		return rc;
	/* --policy alone: only that policy, never a config found elsewhere. */
	if (!o->policy && cli_config_lookup(&o->config, "policy") != CLI_EXIT_OK)
		return CLI_EXIT_USAGE;
	if (!o->policy == !o->config)
		return cli_usage_error("policy",
				       "give exactly one of --policy DIR or --config FILE");
	if (o->expired && o->expiring >= 0)
		return cli_usage_error("policy", "give --expired or --expiring, not both");
	if (optind != argc)
		return cli_usage_error("policy", "unexpected argument '%s'", argv[optind]);
	if (cli_file_given(o->policy, "--policy"))
		return CLI_EXIT_USAGE;
	return 0;
}

/*
 * The policy path from --policy or the config. Returns 0 with *path (free
 * *cfg after use), or an exit code.
 */
static int policy_path(const policy_opts *o, sg_config **cfg, const char **path, int lint)
{
	*cfg = NULL;
	*path = o->policy;
	if (!o->config) {
		if (!lint) /* a policy working copy: a warning (README "Strict modes") */
			cli_strict_warn(o->policy, SG_STRICT_ENTRIES);
		return 0;
	}
	/* lint judges the files itself (lint_modes), as a review when run by another account */
	if (sg_config_load_flags(cfg, o->config, lint ? SG_CONFIG_LENIENT : 0) != SG_OK)
		return cli_fail();
	*path = (*cfg)->policy;
	return 0;
}

/* The two-person rule applies: the policy or the config says so. */
static int two_person(const sg_policy *p, const sg_config *cfg)
{
	return p->require_cosign || (cfg && cfg->require_cosign);
}

/*
 * The rule a review judges the policy's files by: as if the policy's owner
 * ran it (root or that account), as lint_modes() does. `out` filled and
 * returned; NULL (root or the effective user) when the policy cannot be
 * stat'ed (its load says why).
 */
static const sg_strict_rule *owner_rule(sg_strict_rule *out, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return NULL;
	sg_strict_rule_init(out, st.st_uid);
	return out;
}

/*
 * The strict-mode findings (README "Strict modes") for the policy and, with a
 * config, for every file it names. Run by the policy's owner they are errors
 * (exit 2: signing would refuse); run by another account (a policy
 * repository's CI, a reviewer) they are warnings, judged as if the owner ran
 * it. Returns CLI_EXIT_OK or CLI_EXIT_USAGE.
 */
static int lint_modes(const policy_opts *o, const sg_config *cfg, const char *path)
{
	sg_strict_report rep = { 0 };
	sg_strict_rule rule;
	struct stat st;
	uid_t uid = geteuid();
	int review;

	if (stat(path, &st) != 0)
		return CLI_EXIT_OK; /* the load says why */
	review = st.st_uid != uid;
	uid = st.st_uid;
	sg_strict_rule_init(&rule, uid);
	if (cfg)
		sg_config_check_files(cfg, uid, &rep, 0);
	else
		sg_strict_check(&rep, path, &rule, SG_STRICT_ENTRIES);
	sg_error_clear();
	for (size_t i = 0; i < rep.n; i++) {
		if (o->json) {
			json_t *obj = json_pack("{s:s, s:s}", review ? "warning" : "error",
						rep.msgs[i], "rule", "strict-modes");
			cli_print_json(obj);
			json_decref(obj);
		} else {
			printf("%-8s %s\n", review ? "warning" : "error", rep.msgs[i]);
		}
	}
	if (rep.n && !o->json)
		printf(review ? "note     run by another account than the policy's owner: the "
				"findings above are warnings here; signing refuses such files\n"
			      : "signing refuses these files until their owner or mode is "
				"fixed\n");
	review = review || rep.n == 0;
	sg_strict_report_free(&rep);
	return review ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static int lint(const policy_opts *o, const sg_config *cfg, const char *path)
{
	sg_policy_finding *f = calloc(MAX_FINDINGS, sizeof(*f));
	sg_policy *p = NULL;
	size_t n, shown;
	int error, modes = lint_modes(o, cfg, path);

	if (!f)
		return cli_fail();
	error = sg_policy_load(&p, path);
	if (error) {
		if (o->json) {
			json_t *obj = json_pack("{s:s, s:b, s:s}", "policy", path, "ok", 0, "error",
						sg_error_last());
			cli_print_json(obj);
			json_decref(obj);
		} else {
			printf("error    %s\n", sg_error_last());
			printf("signing refuses this policy until the error is fixed\n");
		}
		free(f);
		return cli_worse(modes, cli_exit_code(error));
	}
	n = sg_policy_lint(p, time(NULL), o->soon, f, MAX_FINDINGS);
	shown = n < MAX_FINDINGS ? n : MAX_FINDINGS;
	if (two_person(p, cfg)) {
		sg_approvers_trust t;
		sg_strict_rule owner;

		/* With the config, each pair of signatures is checked as signing checks it. */
		sg_approvers_trust_from_config(&t, cfg);
		t.rule = owner_rule(&owner, path);
		n += sg_cosign_lint(p, &t, f + shown, MAX_FINDINGS - shown);
		shown = n < MAX_FINDINGS ? n : MAX_FINDINGS;
	}
	for (size_t i = 0; i < shown; i++) {
		if (o->json) {
			json_t *obj = json_pack("{s:s, s:s?, s:s}", "file", f[i].file, "approval",
						f[i].id, "warning", f[i].message);
			cli_print_json(obj);
			json_decref(obj);
		} else {
			printf("warning  %s: approval %s: %s\n", f[i].file, f[i].id, f[i].message);
		}
	}
	if (o->json) {
		json_t *obj =
			json_pack("{s:s, s:b, s:I, s:I, s:I, s:b, s:I}", "policy", path, "ok", 1,
				  "approvals", (json_int_t)p->n_approvals, "revoked",
				  (json_int_t)p->n_revoked, "products", (json_int_t)p->n_products,
				  "require_cosign", two_person(p, cfg), "warnings", (json_int_t)n);
		cli_print_json(obj);
		json_decref(obj);
	} else {
		printf("ok       %s: %zu approval%s, %zu revocation%s, %zu product%s in the "
		       "catalog%s; %zu warning%s\n",
		       path, p->n_approvals, cli_s(p->n_approvals), p->n_revoked,
		       cli_s(p->n_revoked), p->n_products, cli_s(p->n_products),
		       two_person(p, cfg) ? ", co-signatures required" : "", n, cli_s(n));
	}
	sg_policy_free(p);
	free(f);
	return modes;
}

/*
 * "expired", "expiring" (within `soon` days) or "valid", as of `today`; show
 * prints "unusable" instead when the two-person rule's signatures do not
 * make the approval usable.
 */
static const char *state_of(const sg_approval *a, const char *today, const char *soon)
{
	if (a->expires && strcmp(today, a->expires) > 0)
		return "expired";
	if (a->expires && strcmp(soon, a->expires) >= 0)
		return "expiring";
	return "valid";
}

static void date_in(char out[16], int days)
{
	time_t t = time(NULL) + (time_t)days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

/* Under the two-person rule, what the signatures of one policy file say. */
typedef struct file_signers {
	int checked; /* 1 once looked at */
	int valid;   /* both signatures valid, by two approvers */
	sg_cosigner first, second;
	char why[SG_ERROR_MAX]; /* when not valid */
} file_signers;

static const file_signers *signers_of(file_signers *cache, const sg_policy *p, const sg_approval *a,
				      const sg_approvers_trust *t)
{
	file_signers *s = &cache[a->file_index];
	const sg_policy_file *f = &p->files[a->file_index];

	if (s->checked)
		return s;
	s->checked = 1;
	if (!t->ca_file)
		snprintf(s->why, sizeof(s->why),
			 "not verified: no approvers' CA (give --config with "
			 "trust.approvers_ca_file)");
	else if (sg_cosign_verify_pair(&s->first, &s->second, f->path, f->bytes, f->len, t) ==
		 SG_OK)
		s->valid = 1;
	else
		snprintf(s->why, sizeof(s->why), "%s", sg_error_last());
	return s;
}

/*
 * Who approved: under the two-person rule the certificates only (`s`), else
 * the approval's own text, which nothing verifies.
 */
static void approved_by_json(json_t *obj, const sg_approval *a, const file_signers *s)
{
	if (!s) {
		json_object_set_new(obj, "approved_by", json_string(a->approved_by));
		json_object_set_new(obj, "approved_by_from",
				    json_string("approval file (not verified)"));
		return;
	}
	json_object_set_new(obj, "approved_by",
			    s->valid ? json_string(s->first.name) : json_null());
	json_object_set_new(obj, "approved_by_from", json_string("certificate"));
	if (s->valid) {
		json_object_set_new(obj, "approved_by_cert", sg_cosigner_json(&s->first, 1));
		json_object_set_new(obj, "cosigned_by", sg_cosigner_json(&s->second, 1));
	} else {
		json_object_set_new(obj, "signatures", json_string(s->why));
	}
}

static json_t *approval_json(const sg_approval *a, const char *state, const file_signers *s)
{
	json_t *obj = sg_approval_json(a, SG_APPROVAL_AS_SHOW);

	if (obj)
		json_object_set_new(obj, "state", json_string(state));
	if (obj)
		approved_by_json(obj, a, s);
	if (obj && a->provenance)
		json_object_set_new(obj, "provenance", json_loads(a->provenance, 0, NULL));
	return obj;
}

/* The APPROVED BY column: the first approver's certificate name under the rule. */
static const char *approved_by_text(const sg_approval *a, const file_signers *s)
{
	if (!s)
		return a->approved_by;
	return s->valid ? s->first.name : "(not signed by two approvers)";
}

static int show(const policy_opts *o, const char *path, const sg_config *cfg)
{
	char today[16], soon[16];
	sg_policy *p = NULL;
	file_signers *cache = NULL;
	sg_approvers_trust t;
	sg_strict_rule owner;

	if (sg_policy_load(&p, path) != SG_OK)
		return cli_fail();
	sg_approvers_trust_from_config(&t, cfg);
	t.rule = owner_rule(&owner, path);
	if (two_person(p, cfg) && !(cache = calloc(p->n_files + 1, sizeof(*cache)))) {
		sg_policy_free(p);
		cli_error("out of memory");
		return CLI_EXIT_OPERATIONAL;
	}
	date_in(today, 0);
	date_in(soon, o->expiring >= 0 ? o->expiring : DEFAULT_SOON);
	if (!o->json)
		printf("%-28s %-20s %-10s %-16s %-10s %-9s %-14s %s\n", "ID", "PRODUCT", "VERSION",
		       "SHA-256", "EXPIRES", "STATE", "APPROVED BY", "TICKET");
	for (size_t i = 0; i < p->n_approvals; i++) {
		const sg_approval *a = &p->approvals[i];
		const char *state = state_of(a, today, soon);
		const file_signers *s;

		if (o->product && !sg_policy_product_same(o->product, a->product))
			continue;
		if ((o->expired && strcmp(state, "expired") != 0) ||
		    (o->expiring >= 0 && strcmp(state, "expiring") != 0))
			continue;
		s = cache ? signers_of(cache, p, a, &t) : NULL;
		if (s && !s->valid)
			state = "unusable"; /* signing denies it, whatever its dates say */
		if (o->json) {
			json_t *obj = approval_json(a, state, s);
			cli_print_json(obj);
			json_decref(obj);
		} else {
			printf("%-28s %-20s %-10s %-16.16s %-10s %-9s %-14s %s\n", a->id,
			       a->product, a->version, a->sha256 ? a->sha256 : "(SHA-512 only)",
			       a->expires ? a->expires : "-", state, approved_by_text(a, s),
			       a->ticket);
		}
	}
	free(cache);
	sg_policy_free(p);
	return CLI_EXIT_OK;
}

static int index_policy(const policy_opts *o, const char *path)
{
	int loaded = 0, error = sg_policy_index_write(path, &loaded);
	char *index = sg_policy_index_path(path);

	if (error) {
		int rc = cli_fail();
		if (!loaded)
			fprintf(stderr, "signgate: no index is written for a policy that does not "
					"load\n");
		free(index);
		return rc; /* the cause's own code: a policy signing refuses is exit 2 */
	}
	if (o->json) {
		json_t *obj =
			json_pack("{s:s, s:b, s:s?}", "policy", path, "ok", 1, "index", index);
		cli_print_json(obj);
		json_decref(obj);
	} else {
		printf("%s: index written to %s\n", path, index ? index : "?");
	}
	free(index);
	return CLI_EXIT_OK;
}

int cli_policy_open(sg_policy **out, const char *path, const sg_strict_rule *strict)
{
	sg_policy_open_info info;
	int error = sg_policy_open_strict(out, path, strict, &info);

	if (error || info.indexed)
		return error;
	/* Only worth a word when an index was there, or the policy is big enough to matter. */
	if (info.index_exists)
		fprintf(stderr,
			"signgate: note: the policy index is not used (%s); every policy file "
			"was read instead. 'signgate policy index --policy %s' rebuilds it\n",
			info.why, path);
	else if ((*out)->n_approvals >= CLI_POLICY_INDEX_HINT)
		fprintf(stderr,
			"signgate: note: %s has %zu approvals and no index; every policy file "
			"was read. 'signgate policy index --policy %s' makes this faster\n",
			path, (*out)->n_approvals, path);
	return SG_OK;
}

int cmd_policy(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL, *path;
	sg_config *cfg;
	policy_opts o;
	int rc;

	if (verb && (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0)) {
		fputs(policy_help, stdout);
		return CLI_EXIT_OK;
	}
	if (verb && strcmp(verb, "approve") == 0)
		return cmd_policy_approve(argc - 1, argv + 1);
	if (verb && strcmp(verb, "cosign") == 0)
		return cmd_policy_cosign(argc - 1, argv + 1);
	if (!verb || (strcmp(verb, "lint") && strcmp(verb, "show") && strcmp(verb, "index")))
		return cli_usage_error("policy",
				       "expected 'policy approve', 'policy lint', "
				       "'policy show', 'policy index' or 'policy cosign'");
	rc = parse(&o, argc - 1, argv + 1);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	rc = policy_path(&o, &cfg, &path, strcmp(verb, "lint") == 0);
	if (rc)
		return rc;
	rc = strcmp(verb, "lint") == 0    ? lint(&o, cfg, path)
	     : strcmp(verb, "index") == 0 ? index_policy(&o, path)
					  : show(&o, path, cfg);
	sg_config_free(cfg);
	return rc;
}

int cli_decide_load(sg_context *ctx, const char *config, sg_config **cfg, sg_policy **policy,
		    sg_audit_signings **signings)
{
	/* The policy files are checked as they are opened (strict modes, README). */
	int error = sg_config_load_flags(cfg, config, SG_CONFIG_POLICY_FILES_LATER);
	sg_strict_rule strict;

	if (!error) {
		sg_config_policy_rule(*cfg, geteuid(), &strict);
		error = cli_policy_open(policy, (*cfg)->policy, &strict);
	}
	if (error)
		return error;
	/* The config's two-person rule: an indexed policy then keeps each file's bytes too. */
	if ((*cfg)->require_cosign)
		(*policy)->require_cosign = 1;
	sg_context_use_config(ctx, *cfg);
	ctx->policy = *policy;
	error = sg_audit_signings_new(signings, (*cfg)->audit_log);
	ctx->signings = *signings;
	return error;
}

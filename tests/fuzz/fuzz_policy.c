/*
 * Policy JSON and decisions (lib/policy.c, lib/policy_decide.c, and the
 * index's writer and reader, lib/policy_index*.c): the input is one policy
 * file. When it loads, decisions on the digests and names it holds (signed
 * and not, at two dates) are taken from the full load and again through an
 * index written for it: they must be the same (policy.h promises it), else
 * the harness aborts. The lint runs too.
 */
#include "fuzz_common.h"
#include "signgate/policy.h"

#include <time.h>

#define MAX_INPUTS 12

static char *policy_path, *index_path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	policy_path = fuzz_path("policy.json");
	index_path = sg_policy_index_path(policy_path);
	fuzz_require(index_path != NULL, "out of memory");
	return 0;
}

static void same_decision(const sg_policy *full, const sg_policy *fast, const sg_policy_input *in,
			  time_t now)
{
	sg_decision a, b;

	sg_policy_decide(&a, full, in, now);
	sg_policy_decide(&b, fast, in, now);
	fuzz_require(a.approved == b.approved && a.n_reasons == b.n_reasons,
		     "decision on %s differs: full %d (%s), indexed %d (%s)", in->name, a.approved,
		     a.n_reasons ? a.reasons[0] : "", b.approved, b.n_reasons ? b.reasons[0] : "");
	for (size_t i = 0; i < a.n_reasons; i++)
		fuzz_require(strcmp(a.reasons[i], b.reasons[i]) == 0,
			     "reason %zu differs: full \"%s\", indexed \"%s\"", i, a.reasons[i],
			     b.reasons[i]);
	fuzz_require(!a.approval == !b.approval &&
			     (!a.approval || strcmp(a.approval->id, b.approval->id) == 0),
		     "the deciding approval differs");
}

/* The inputs to decide on: each approval's and revocation's digests and names. */
static size_t inputs(sg_policy_input *in, const sg_policy *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_approvals && n < MAX_INPUTS - 2; i++) {
		const sg_approval *a = &p->approvals[i];
		in[n++] = (sg_policy_input){ .name = a->file ? a->file : "x.exe",
					     .sha256_hex = a->sha256 ? a->sha256 : "",
					     .sha512_hex = a->sha512 ? a->sha512 : "",
					     .has_signature = (int)(i & 1),
					     .format = 0 };
	}
	for (size_t i = 0; i < p->n_revoked && n < MAX_INPUTS - 1; i++)
		in[n++] = (sg_policy_input){ .name = "r.exe",
					     .sha256_hex = p->revoked[i].sha256 ? p->revoked[i].sha256
										: "",
					     .sha512_hex = p->revoked[i].sha512 ? p->revoked[i].sha512
										: "",
					     .format = 0 };
	in[n++] = (sg_policy_input){
		.name = "setup.exe",
		.sha256_hex = "0000000000000000000000000000000000000000000000000000000000000000",
		.sha512_hex = "",
		.format = 0
	};
	return n;
}

static void decide_both(const sg_policy *full)
{
	const time_t dates[] = { 1780315200 /* 2026-06-01 */, 1906545600 /* 2030-06-01 */ };
	sg_policy_input in[MAX_INPUTS];
	sg_policy_open_info info;
	sg_policy_finding findings[8];
	sg_policy *fast = NULL;
	size_t n = inputs(in, full);
	int loaded = 0;

	sg_policy_lint(full, dates[0], 30, findings, 8);
	if (sg_policy_index_write(policy_path, &loaded) != SG_OK) {
		fuzz_require(loaded, "a policy that loaded does not load to be indexed");
		sg_error_clear();
		return;
	}
	fuzz_require(sg_policy_open(&fast, policy_path, &info) == SG_OK,
		     "the indexed policy does not open");
	fuzz_trace("%zu approvals, indexed %d: %s", full->n_approvals, info.indexed, info.why);
	for (size_t i = 0; i < n; i++)
		for (size_t t = 0; t < 2; t++)
			same_decision(full, fast, &in[i], dates[t]);
	sg_policy_free(fast);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	sg_policy *full = NULL;

	unlink(index_path);
	fuzz_write(policy_path, data, len);
	if (sg_policy_load(&full, policy_path) == SG_OK)
		decide_both(full);
	sg_policy_free(full);
	sg_error_clear();
	return 0;
}

/*
 * policy_bench [--open] POLICY NAME SHA256 SHA512: time sg_policy_load() of
 * POLICY (with --open: sg_policy_open(), through the policy's index when it
 * is current, as signing opens it) and one sg_policy_decide() for an input
 * NAME with these digests, as signgate does at the start of every run.
 * Prints the counts, whether the index was used and both times; exit 0 when
 * the input is approved, 3 when denied, 2 when the policy does not load.
 * Built and run by bench/policy_bench.sh against the build's lib/ libraries.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "signgate/error.h"
#include "signgate/policy.h"

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1, t2;
	sg_policy *policy = NULL;
	sg_policy_open_info info = { 0 };
	sg_decision d;
	sg_policy_input in = { 0 };
	int open = argc > 1 && strcmp(argv[1], "--open") == 0, error;

	argv += open;
	argc -= open;
	if (argc != 5) {
		fprintf(stderr, "usage: policy_bench [--open] POLICY NAME SHA256 SHA512\n");
		return 2;
	}
	in.name = argv[2];
	in.sha256_hex = argv[3];
	in.sha512_hex = argv[4];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	error = open ? sg_policy_open(&policy, argv[1], &info) : sg_policy_load(&policy, argv[1]);
	if (error != SG_OK) {
		fprintf(stderr, "policy_bench: %s\n", sg_error_last());
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sg_policy_decide(&d, policy, &in, time(NULL));
	clock_gettime(CLOCK_MONOTONIC, &t2);
	if (open && !info.indexed)
		fprintf(stderr, "policy_bench: the index was not used: %s\n", info.why);
	printf("approvals %zu files %zu load_ms %.1f decide_ms %.3f indexed %s %s\n",
	       policy->n_approvals, policy->n_files, ms_between(&t0, &t1), ms_between(&t1, &t2),
	       info.indexed ? "yes" : "no", d.approved ? "approved" : "denied");
	sg_policy_free(policy);
	return d.approved ? 0 : 3;
}

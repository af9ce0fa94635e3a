/*
 * The policy index reader (lib/policy_index.c): the input is the index
 * file of a one-file policy (tests/fuzz/data/policy-index.json, copied into
 * the private folder once). So that inputs get past the two checks no
 * mutation survives, the harness writes into the input, where it has room
 * for them, the policy file's stat (device, inode, size, times: the first
 * idx_file) and the SHA-256 of the index's bytes (its last 32 bytes), as
 * the writer would. Decisions are then taken through it; an approval must
 * name the digest it approved.
 *
 * A forged index may hide approvals or revocations (it is trusted as far
 * as its owner and mode say: policy.h), so decisions are not compared with
 * the full load's here; fuzz_policy compares those for indexes signgate
 * writes. SG_FUZZ_WRITE_SEED=FILE writes the real index to FILE (the seed).
 */
#include "fuzz_common.h"
#include "policy_index_format.h"
#include "signgate/hash.h"
#include "signgate/policy.h"

#include <stddef.h>
#include <sys/stat.h>

#include <openssl/sha.h>

static char *policy_path, *index_path;
static struct stat policy_st;

static void write_seed(const char *to)
{
	unsigned char *bytes = NULL;
	size_t len = 0;

	fuzz_require(sg_read_file(&bytes, &len, index_path, IDX_MAX_BYTES, NULL, 0) == SG_OK,
		     "cannot read the index");
	unlink(to);
	fuzz_require(sg_write_private(to, bytes, len) == SG_OK, "cannot write %s", to);
	free(bytes);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char *policy;
	size_t len = 0;
	int loaded = 0;
	const char *seed = getenv("SG_FUZZ_WRITE_SEED");

	(void)argc, (void)argv;
	policy = fuzz_data_file("policy-index.json", &len);
	policy_path = fuzz_path("policy.json");
	index_path = sg_policy_index_path(policy_path);
	fuzz_require(index_path != NULL, "out of memory");
	fuzz_write(policy_path, policy, len);
	free(policy);
	fuzz_require(stat(policy_path, &policy_st) == 0, "cannot stat the policy");
	if (seed) {
		fuzz_require(sg_policy_index_write(policy_path, &loaded) == SG_OK,
			     "cannot index the policy");
		write_seed(seed);
	}
	return 0;
}

/* The stat of the policy file into the first idx_file, the SHA-256 at the end. */
static void fix_up(uint8_t *buf, size_t len)
{
	const size_t at = sizeof(idx_header);
	idx_file f;

	if (len >= at + sizeof(idx_file)) {
		memcpy(&f, buf + at, sizeof(f));
		f.dev = (uint64_t)policy_st.st_dev;
		f.ino = (uint64_t)policy_st.st_ino;
		f.size = (uint64_t)policy_st.st_size;
		f.mtime_ns = IDX_NS(policy_st.st_mtim);
		f.ctime_ns = IDX_NS(policy_st.st_ctim);
		memcpy(buf + at, &f, sizeof(f));
	}
	if (len >= SHA256_DIGEST_LENGTH)
		SHA256(buf, len - SHA256_DIGEST_LENGTH, buf + len - SHA256_DIGEST_LENGTH);
}

static void decide(const sg_policy *p)
{
	static const sg_policy_input in[] = {
		/* The last field, the format, is 0: not known. */
		{ "7z2408-x64.msi", "deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
		  "", 0, 0 },
		{ "WinMerge-2.16.44-x64-Setup.exe",
		  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "", 1, 0 },
		{ "x.exe", "badc0ffeebadc0ffeebadc0ffeebadc0ffeebadc0ffeebadc0ffeebadc0ffee0", "", 0, 0 },
		{ "y.exe", "00", "", 0, 0 },
	};
	sg_decision d;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		sg_policy_decide(&d, p, &in[i], 1730000000 /* 2024-10-27 */);
		fuzz_require(!d.approved || (d.approval && d.approval->sha256 &&
					     strcmp(d.approval->sha256, in[i].sha256_hex) == 0),
			     "approved %s by an approval of another digest", in[i].name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);
	sg_policy_open_info info;
	sg_policy *p = NULL;

	fuzz_require(buf != NULL, "out of memory");
	memcpy(buf, data, len);
	fix_up(buf, len);
	fuzz_write(index_path, buf, len);
	free(buf);
	if (sg_policy_open(&p, policy_path, &info) == SG_OK)
		decide(p);
	fuzz_trace("opened %d, indexed %d: %s", p != NULL, info.indexed, info.why);
	sg_policy_free(p);
	sg_error_clear();
	return 0;
}

/*
 * The key helper's request parser (lib/keyhelper.c), which reads what the
 * unprivileged signgate process sends to the process that holds the key.
 * A request it accepts must encode back to exactly its bytes.
 */
#include "fuzz_common.h"
#include "signgate/keyhelper.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	sg_keyhelper_request req, again;
	sg_authenticode_sign_req sign = { 0 };
	unsigned char out[SG_KEYHELPER_REQUEST_MAX];
	size_t out_len = 0;

	int error = sg_keyhelper_request_parse(&req, data, len);

	fuzz_trace("request %d", error);
	if (error != SG_OK) {
		sg_error_clear();
		return 0;
	}
	sg_keyhelper_request_apply(&sign, &req);
	fuzz_require(sg_keyhelper_request_encode(out, sizeof(out), &out_len, &req) == SG_OK,
		     "an accepted request does not encode");
	fuzz_require(out_len == len && memcmp(out, data, len) == 0,
		     "an accepted request encodes to other bytes");
	fuzz_require(sg_keyhelper_request_parse(&again, out, out_len) == SG_OK &&
			     memcmp(&again, &req, sizeof(req)) == 0,
		     "the encoded request parses differently");
	return 0;
}

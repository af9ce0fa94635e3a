/*
 * Audit log lines: the fast path of verify (lib/audit_fast.c) against the
 * full check through jansson (sg_audit_check_record). The fast path may
 * say "unsure" for any line; when it accepts one, the full check must
 * accept it too and find the same seq, prev and rotate flag, and the line
 * must be no seal record (verify takes no seal facts from the fast path).
 * Anything else aborts. So that lines get past the content hash, the
 * harness first writes into the first `,"hash":"<64 characters>"` member the
 * SHA-256 of the line without that member, as the writer would.
 */
#include "fuzz_common.h"
#include "audit_internal.h"

static struct sg_audit_hasher hasher;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	hasher.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	hasher.a = EVP_MD_CTX_new();
	hasher.b = EVP_MD_CTX_new();
	fuzz_require(hasher.sha256 && hasher.a && hasher.b, "cannot set up SHA-256");
	return 0;
}

static void compare(const struct sg_audit_fast *fast, const uint8_t *data, size_t len,
		    json_t *obj)
{
	const char *action = json_string_value(json_object_get(obj, "action"));
	const char *prev = json_string_value(json_object_get(obj, "prev"));
	char hex[HEX_LEN + 1];

	fuzz_require(json_is_integer(json_object_get(obj, "seq")) &&
			     fast->seq == (long long)json_integer_value(json_object_get(obj, "seq")),
		     "seq differs: fast %lld", fast->seq);
	fuzz_require(prev && strcmp(prev, fast->prev) == 0, "prev differs: fast %s", fast->prev);
	fuzz_require(fast->rotate == (action && strcmp(action, "rotate") == 0),
		     "rotate differs: fast %d", fast->rotate);
	fuzz_require(!action || strcmp(action, "seal") != 0, "the fast path took a seal record");
	fuzz_require(sg_sha256_hex(hex, data, len) == SG_OK && strcmp(hex, fast->line_hash) == 0,
		     "line hash differs");
}

/* Set the first "hash" member of `line` to the SHA-256 of the line without it. */
static void fix_hash(uint8_t *line, size_t len)
{
	static const char tag[] = ",\"hash\":\"";
	const size_t tag_len = sizeof(tag) - 1, member_len = tag_len + HEX_LEN + 1;
	unsigned char md[SG_SHA256_LEN];
	uint8_t *at = memmem(line, len, tag, tag_len);
	size_t before;

	if (!at || (size_t)(line + len - at) < member_len || at[member_len - 1] != '"')
		return;
	before = (size_t)(at - line);
	if (!EVP_DigestInit_ex(hasher.a, hasher.sha256, NULL) ||
	    !EVP_DigestUpdate(hasher.a, line, before) ||
	    !EVP_DigestUpdate(hasher.a, at + member_len, len - before - member_len) ||
	    !EVP_DigestFinal_ex(hasher.a, md, NULL))
		return;
	sg_hex_encode((char *)at + tag_len, md, SG_SHA256_LEN);
	at[member_len - 1] = '"'; /* sg_hex_encode ends with a NUL */
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t len)
{
	uint8_t *data = malloc(len ? len : 1);
	struct sg_audit_fast fast;
	char why[WHY_MAX];
	json_t *obj = NULL;
	int accepted, error;

	fuzz_require(data != NULL, "out of memory");
	memcpy(data, input, len);
	fix_hash(data, len);
	memset(&fast, 0, sizeof(fast));
	accepted = sg_audit_fast_check((const char *)data, len, &fast, &hasher);
	error = sg_audit_check_record(&obj, (const char *)data, len, why);
	fuzz_trace("fast path %d, full check %d %s", accepted, error,
		   error == SG_ERR_TAMPER ? why : "");
	if (accepted) {
		fuzz_require(error == SG_OK, "the fast path accepted a line the full check refuses: %s",
			     error == SG_ERR_TAMPER ? why : sg_error_last());
		compare(&fast, data, len, obj);
	}
	json_decref(obj);
	free(data);
	sg_error_clear();
	return 0;
}

/*
 * Audit lines as the report's passes scan them (lib/report/report_pass.c,
 * rp_scan_line()): the passes link each line from its top-level "seq" and
 * "prev" and choose what to parse from its "time" and "decision" without
 * parsing it. For any line the scan calls plain and jansson parses into an
 * object (JSON_REJECT_DUPLICATES, as the reader), each of those four must be
 * exactly what jansson reads: a string of those bytes, absent or of another
 * type when the scan found none; "seq" jansson's integer when the scan found
 * one. Anything else aborts.
 */
#include "fuzz_common.h"
#include "report_internal.h"

#include <jansson.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	return 0;
}

static void same_string(json_t *obj, const char *key, const char *v, size_t len)
{
	json_t *j = json_object_get(obj, key);

	if (!v) {
		fuzz_require(!json_is_string(j), "\"%s\": jansson reads a string, the scan none", key);
		return;
	}
	fuzz_require(json_is_string(j) && json_string_length(j) == len &&
			     memcmp(json_string_value(j), v, len) == 0,
		     "\"%s\": the scan reads \"%.*s\", jansson another value", key, (int)len, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct rp_line l;
	json_t *obj, *seq;

	if (rp_scan_line((const char *)data, len, &l) != 0 || !l.plain)
		return 0;
	obj = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return 0;
	}
	fuzz_trace("plain, seq %lld", l.seq);
	same_string(obj, "prev", l.prev, l.prev_len);
	same_string(obj, "time", l.time, l.time_len);
	same_string(obj, "decision", l.decision, l.decision_len);
	seq = json_object_get(obj, "seq");
	if (l.seq >= 0)
		fuzz_require(json_is_integer(seq) && json_integer_value(seq) == l.seq,
			     "seq: the scan reads %lld, jansson another value", l.seq);
	json_decref(obj);
	return 0;
}

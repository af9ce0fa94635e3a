/*
 * The JSON sink: the report as one JSON object (see signgate/report.h), the
 * summary's members first, then one array per section, a member or a row
 * per line, written as it comes (memory does not grow with the rows).
 * Strings are escaped to ASCII (JSON_ENSURE_ASCII): a bidi override or a
 * control character in a record reaches the reader as \uXXXX, never raw.
 */
#include "signgate/error.h"
#include "signgate/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII)

struct json_sink {
	FILE *out;
	size_t rows; /* of the current section */
};

static int failed(FILE *out)
{
	return ferror(out) ? sg_error_set(SG_ERR_IO, "cannot write the report: %s", strerror(errno))
			   : SG_OK;
}

/* "key": value, written with its separator. */
static int member(FILE *out, const char *key, const json_t *value, int first)
{
	json_t *k = json_string(key);
	int error = k ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	if (!error) {
		fputs(first ? "{\n" : ",\n", out);
		if (json_dumpf(k, out, FLAGS | JSON_ENCODE_ANY) != 0 || fputs(": ", out) < 0 ||
		    (value && json_dumpf(value, out, FLAGS | JSON_ENCODE_ANY) != 0))
			error = SG_ERR_IO;
	}
	json_decref(k);
	if (error == SG_ERR_IO)
		error = sg_error_set(SG_ERR_IO, "cannot write the report: %s", strerror(errno));
	return error ? error : failed(out);
}

static int begin(void *arg, const json_t *summary)
{
	struct json_sink *s = arg;
	const char *key;
	json_t *value;
	int first = 1, error = SG_OK;

	if (!json_is_object(summary))
		return sg_error_set(SG_ERR_USAGE, "the report's summary is not an object");
	json_object_foreach((json_t *)summary, key, value) {
		error = member(s->out, key, value, first);
		first = 0;
		if (error)
			return error;
	}
	return error;
}

static int section(void *arg, const char *name, size_t count)
{
	struct json_sink *s = arg;
	int error = member(s->out, name, NULL, 0);

	(void)count;
	s->rows = 0;
	if (!error)
		fputs("[", s->out);
	return error ? error : failed(s->out);
}

static int row(void *arg, const char *section, const json_t *r)
{
	struct json_sink *s = arg;

	(void)section;
	fputs(s->rows++ ? ",\n" : "\n", s->out);
	if (json_dumpf(r, s->out, FLAGS) != 0)
		return sg_error_set(SG_ERR_IO, "cannot write the report: %s", strerror(errno));
	return failed(s->out);
}

static int end_section(void *arg, const char *name)
{
	struct json_sink *s = arg;

	(void)name;
	fputs(s->rows ? "\n]" : "]", s->out);
	return failed(s->out);
}

static int end(void *arg)
{
	struct json_sink *s = arg;

	fputs("\n}\n", s->out);
	if (fflush(s->out) != 0)
		return sg_error_set(SG_ERR_IO, "cannot write the report: %s", strerror(errno));
	return failed(s->out);
}

static void sink_free(void *arg)
{
	free(arg);
}

int sg_report_sink_json(sg_report_sink *sink, FILE *out)
{
	struct json_sink *s = calloc(1, sizeof(*s));

	memset(sink, 0, sizeof(*sink));
	if (!s)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	s->out = out;
	sink->arg = s;
	sink->begin = begin;
	sink->section = section;
	sink->row = row;
	sink->end_section = end_section;
	sink->end = end;
	sink->free = sink_free;
	return SG_OK;
}

/* report_json.c: see include/signgate/report.h (being written this session). */
#include "signgate/error.h"
#include "signgate/report.h"

int sg_report_sink_json(sg_report_sink *sink, FILE *out)
{
	(void)sink;
	(void)out;
	return sg_error_set(SG_ERR_USAGE, "the JSON report: not written yet");
}

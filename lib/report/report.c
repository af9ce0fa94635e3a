/* report.c: see include/signgate/report.h (being written this session). */
#include "signgate/error.h"
#include "signgate/report.h"

void sg_report_sink_free(sg_report_sink *sink)
{
	if (sink && sink->free)
		sink->free(sink->arg);
	if (sink)
		sink->free = NULL;
}

int sg_report_make(const sg_report_options *o, const sg_report_sink *sink, int *verdict_exit)
{
	(void)o;
	(void)sink;
	*verdict_exit = 0;
	return sg_error_set(SG_ERR_USAGE, "audit report: not written yet");
}

/* The audit record's "confinement" object; see lib/pipeline_internal.h. */
#include "pipeline_internal.h"

static int add(json_t *c, const char *key, int ran, const sg_confine_report *rep)
{
	json_t *v;

	if (!ran)
		return 0;
	v = sg_confine_report_json(rep);
	return !v || json_object_set_new(c, key, v) != 0;
}

json_t *sg_pipeline_confinement_json(const sg_outcome *o)
{
	json_t *c = json_object();
	int bad = !c;

	bad = bad || add(c, "attach", o->confinement.attach_ran, &o->confinement.attach);
	bad = bad || add(c, "extract", o->verify.extract_ran, &o->verify.extract_confinement);
	bad = bad || add(c, "verify", o->verify.verify_ran, &o->verify.verify_confinement);
	if (bad || json_object_size(c) == 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/*
 * The formats signgate signs, one row each (format_ops.h). Detection tries
 * the rows in this order: of rows that share a container and a class (MSI
 * and MSM), the first is the one a file takes when its name does not say.
 */
#include "format_ops.h"

/* Each defined in its format's file. */
extern const struct sg_format_ops sg_format_pe_ops;
extern const struct sg_format_ops sg_format_msi_ops;
extern const struct sg_format_ops sg_format_msp_ops;
extern const struct sg_format_ops sg_format_msm_ops;
extern const struct sg_format_ops sg_format_mst_ops;
extern const struct sg_format_ops sg_format_cab_ops;
extern const struct sg_format_ops sg_format_script_ops;

const struct sg_format_ops *const sg_format_table[] = {
	&sg_format_pe_ops,
	&sg_format_msi_ops,
	&sg_format_msp_ops,
	&sg_format_msm_ops,
	&sg_format_mst_ops,
	&sg_format_cab_ops,
	&sg_format_script_ops, /* no magic: by its name, after the rows with one */
	NULL,
};

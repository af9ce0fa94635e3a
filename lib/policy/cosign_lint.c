/* `policy lint` under the two-person rule; see include/signgate/cosign.h. */
#include "signgate/cosign.h"
#include "signgate/error.h"
#include "signgate/policy.h"
#include "signgate/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Without the approvers' CA: only which signature files are missing. */
static int missing_files(char *why, size_t cap, const char *file)
{
	char *first = sg_cosign_sig_path(file, SG_COSIGN_FIRST);
	char *second = sg_cosign_sig_path(file, SG_COSIGN_SECOND);
	int miss_first = first && !sg_path_exists(first);
	int miss_second = second && !sg_path_exists(second);

	if (miss_first || miss_second)
		snprintf(why, cap, "%s%s%s%s%s (two-person rule: signing refuses it)",
			 miss_first ? "no first approver's signature " : "",
			 miss_first ? first : "", miss_first && miss_second ? " and " : "",
			 miss_second ? "no second approver's signature " : "",
			 miss_second ? second : "");
	free(first);
	free(second);
	return miss_first || miss_second;
}

/* Why the approvals of file `i` are unusable under the rule; 0 when they are usable. */
static int file_problem(char *why, size_t cap, const sg_policy_file *f, const sg_approvers_trust *t)
{
	sg_cosigner first, second;

	if (!t || !t->ca_file)
		return missing_files(why, cap, f->path);
	if (sg_cosign_verify_pair(&first, &second, f->path, f->bytes, f->len, t) == SG_OK)
		return 0;
	snprintf(why, cap, "%s", sg_error_last());
	return 1;
}

size_t sg_cosign_lint(const sg_policy *p, const sg_approvers_trust *t, sg_policy_finding *out,
		      size_t max)
{
	size_t n = 0, last_file = (size_t)-1;
	char why[sizeof(out->message)] = "";
	int bad = 0;

	for (size_t i = 0; i < p->n_approvals; i++) {
		const sg_approval *a = &p->approvals[i];

		if (a->file_index != last_file) {
			last_file = a->file_index;
			bad = file_problem(why, sizeof(why), &p->files[a->file_index], t);
		}
		if (!bad)
			continue;
		if (n < max) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].file = a->origin;
			out[n].id = a->id;
			snprintf(out[n].message, sizeof(out[n].message), "%s", why);
		}
		n++;
	}
	return n;
}

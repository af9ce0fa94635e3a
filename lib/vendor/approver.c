/* Who approves in `signgate policy approve`; see include/signgate/approve.h. */
#include "signgate/approve.h"
#include "signgate/error.h"
#include "signgate/policy_json.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Valid UTF-8, as JSON needs: jansson refuses anything else. */
static int is_utf8(const char *text)
{
	json_t *probe = json_string(text);
	int ok = probe != NULL;

	json_decref(probe);
	return ok;
}

int sg_approver_identify(sg_approver *ap)
{
	const char *env = getenv("SIGNGATE_APPROVER");
	struct passwd pw, *found = NULL;
	char buf[16384];

	/* The account whose rights write the approval: the effective uid. */
	ap->uid = (unsigned long)geteuid();
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &found) == 0 && found)
		snprintf(ap->account, sizeof(ap->account), "%s", found->pw_name);
	else
		snprintf(ap->account, sizeof(ap->account), "uid %lu", ap->uid);
	if (gethostname(ap->host, sizeof(ap->host)) != 0)
		snprintf(ap->host, sizeof(ap->host), "unknown");
	ap->host[sizeof(ap->host) - 1] = '\0';
	for (const char *p = env ? env : ""; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return sg_error_set(SG_ERR_CONFIG,
					    "SIGNGATE_APPROVER holds control characters");
	if (env && !is_utf8(env))
		return sg_error_set(SG_ERR_CONFIG, "SIGNGATE_APPROVER is not UTF-8 text");
	if (env && strlen(env) >= sizeof(ap->display))
		return sg_error_set(SG_ERR_CONFIG, "SIGNGATE_APPROVER is longer than %zu bytes",
				    sizeof(ap->display) - 1);
	/* A display name anyone can set to anything: recorded as self-declared. */
	snprintf(ap->display, sizeof(ap->display), "%s", env ? env : "");
	snprintf(ap->name, sizeof(ap->name), "%s", ap->key ? ap->signer.name : ap->account);
	if (ap->display[0])
		snprintf(ap->name + strlen(ap->name), sizeof(ap->name) - strlen(ap->name),
			 " (self-declared: %s)", ap->display);
	return SG_OK;
}

json_t *sg_approver_json(const sg_approver *ap)
{
	json_t *obj = json_pack("{s:s, s:s, s:s, s:I, s:s}", "name", ap->name, "from",
				ap->key ? "certificate" : "account", "account", ap->account, "uid",
				(json_int_t)ap->uid, "host", ap->host);

	if (obj && ap->key)
		json_object_set_new(obj, "certificate", sg_cosigner_json(&ap->signer, 0));
	if (obj && ap->display[0]) {
		json_object_set_new(obj, "display_name", json_string(ap->display));
		json_object_set_new(obj, "display_name_is",
				    json_string("self-declared (SIGNGATE_APPROVER), not verified"));
	}
	return obj;
}

int sg_approver_sign(const sg_approver *ap, unsigned char **der, size_t *der_len,
		     const char *approval_path, const char *text, size_t len)
{
	sg_cosigner made;

	*der = NULL;
	*der_len = 0;
	if (!ap->key)
		return SG_OK;
	return sg_cosign_sign(der, der_len, &made, ap->key, SG_COSIGN_FIRST, approval_path,
			      (const unsigned char *)text, len, &ap->trust);
}

void sg_approver_free(sg_approver *ap)
{
	sg_approver_key_free(ap->key);
	ap->key = NULL;
}

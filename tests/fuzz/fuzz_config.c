/*
 * The config (lib/config.c): the input is signgate.json, loaded as `config
 * check` and `policy lint` load it (SG_CONFIG_LENIENT: the files it names
 * are not opened, so an input cannot make the harness read the host's
 * files). What tools ask of a loaded config runs too.
 */
#include "fuzz_common.h"
#include "signgate/config.h"
#include "signgate/strict.h"

static char *config_path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	config_path = fuzz_path("signgate.json");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *secrets[SG_CONFIG_SECRET_FILES_MAX + 1];
	sg_strict_rule rule;
	sg_config *cfg = NULL;

	fuzz_write(config_path, data, len);
	int error = sg_config_load_flags(&cfg, config_path, SG_CONFIG_LENIENT);

	fuzz_trace("config %d", error);
	if (error == SG_OK) {
		if (sg_config_require_signing(cfg) != SG_OK)
			sg_error_clear();
		sg_config_secret_files(secrets, cfg);
		for (size_t i = 0; secrets[i]; i++)
			fuzz_require(i < SG_CONFIG_SECRET_FILES_MAX && secrets[i][0],
				     "secret file list overflows or holds an empty name");
		sg_config_policy_rule(cfg, getuid(), &rule);
	}
	sg_config_free(cfg);
	sg_error_clear();
	return 0;
}

/*
 * Which osslsigncode a run uses: asked once per run, before any input, so
 * that one too old to trust is refused as a configuration problem rather
 * than found out input by input.
 */
#ifndef SIGNGATE_OSSLSIGNCODE_H
#define SIGNGATE_OSSLSIGNCODE_H

#include <stddef.h>

/* The oldest osslsigncode signgate runs (README "Install"). */
#define SG_OSSLSIGNCODE_MIN_MAJOR 2
#define SG_OSSLSIGNCODE_MIN_MINOR 9
#define SG_OSSLSIGNCODE_MIN       "2.9"

/* Room for a version as parsed ("2.9", "2.10.1") with its NUL. */
#define SG_OSSLSIGNCODE_VERSION_MAX 32

/*
 * The version in osslsigncode's `--version` text: its first line must be
 * "osslsigncode X.Y[.Z...], using:" (or end after the version); "X.Y..."
 * goes into `out` (SG_OSSLSIGNCODE_VERSION_MAX bytes) and *major, *minor
 * receive X and Y. Returns 0, or -1 when the text has no such line.
 */
int sg_osslsigncode_version_parse(char out[SG_OSSLSIGNCODE_VERSION_MAX], int *major, int *minor,
				  const char *text);

/*
 * Run `path --version` confined like every osslsigncode run (offline,
 * Landlock and seccomp as the kernel allows, the files of `hide`
 * (NULL-terminated, may be NULL) read as empty) and parse its answer into
 * `out` (SG_OSSLSIGNCODE_VERSION_MAX bytes). Returns SG_OK; SG_ERR_CONFIG
 * naming `path` when it is not an absolute path to an executable file, does
 * not answer like osslsigncode, or is older than SG_OSSLSIGNCODE_MIN (the
 * message says why signgate needs that one); SG_ERR_TOOL when it cannot be
 * run confined as the confinement mode requires; SG_ERR_NOMEM, SG_ERR_IO.
 */
int sg_osslsigncode_check(char out[SG_OSSLSIGNCODE_VERSION_MAX], const char *path,
			  const char *const *hide);

#endif

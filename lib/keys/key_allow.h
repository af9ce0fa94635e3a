/*
 * Internal: what the key helper and the timestamp fetcher may touch, as
 * confinement specs (include/signgate/confine.h), in one place
 * (lib/key_allow.c): each key source declares its allowances in one table
 * row, for issue 14's key-source table to absorb.
 */
#ifndef SIGNGATE_LIB_KEY_ALLOW_H
#define SIGNGATE_LIB_KEY_ALLOW_H

#include "signgate/confine.h"
#include "signgate/config.h"

/*
 * The key helper's confinement for the key source of `cfg`, built before
 * the fork: it reads its key material, the certificates and CRLs its
 * checks read, its secret file and the system files; a token's module,
 * engine, the module's configuration file (pkcs11_env SOFTHSM2_CONF) and
 * "pkcs11_paths" (read and write); no network unless "pkcs11_network".
 * `*closes_files` is 1 when the source needs no file once the key is open
 * (PKCS#12, PEM): the helper then takes all file access away
 * (sg_key_allow_no_files). SG_OK, or the error of sg_confine_prepare.
 */
int sg_key_allow_prepare(sg_confine_prepared **out, int *closes_files, const sg_config *cfg);

/* The timestamp fetcher's confinement: network, system and resolver files, no writes. */
int sg_tsa_allow_prepare(sg_confine_prepared **out);

/*
 * Before the fork: a Landlock ruleset that handles every file access the
 * kernel (or the forced ABI) knows and allows none, as a descriptor; -1
 * when there is no Landlock. In the helper, after its key is open:
 * sg_key_allow_no_files_apply() (0, or an errno). Close it in the parent.
 */
int sg_key_allow_no_files(void);
int sg_key_allow_no_files_apply(int ruleset_fd);

#endif

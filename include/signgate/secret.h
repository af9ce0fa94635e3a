/*
 * The secret that opens a key (the signing key, or the audit log's sealing
 * key): a PKCS#12 or PEM password, or a PKCS#11 PIN. It comes from a private file, from an
 * environment variable named in the config (read by signgate only: children get a minimal
 * environment), or from the terminal with echo off. It is obtained once per
 * run, kept in OpenSSL's secure heap, handed to osslsigncode through a pipe,
 * and wiped with sg_secret_clear().
 */
#ifndef SIGNGATE_SECRET_H
#define SIGNGATE_SECRET_H

#include <stddef.h>

#include "signgate/config.h"

typedef struct sg_secret {
	char *data; /* NUL-terminated; NULL when the config names no secret */
	size_t len;
} sg_secret;

/*
 * Obtain the secret that `src` names (a section's "password_file" / "_env" /
 * "_prompt", or the "pin_" forms) of the config at `cfg_path`; a prompt
 * names `what` (the key). `out->data` stays NULL when `src` names none. An
 * environment variable is scrubbed from our environment once read. Returns
 * SG_OK, SG_ERR_CONFIG (unsafe file, unset variable, no terminal, empty
 * secret) or SG_ERR_IO, with a message that names the source, never the
 * secret.
 */
int sg_secret_obtain_from(sg_secret *out, const sg_secret_source *src, const char *cfg_path,
			  const char *what);

/*
 * Wipe and unset the environment variable `src` names ("_env"), if any,
 * without reading it: for a process that leaves obtaining the secret to
 * another (the key helper, lib/keyhelper_proc.c).
 */
void sg_secret_scrub_env(const sg_secret_source *src);

/* sg_secret_obtain_from() for the signing key ("signing.*"). */
int sg_secret_obtain(sg_secret *out, const sg_config *cfg);

/*
 * Protect this process's secrets before any is read: make it non-dumpable
 * (PR_SET_DUMPABLE 0), set its core file limit, soft and hard, to 0 (children
 * inherit that), and set up OpenSSL's secure heap (locked into memory, left
 * out of core dumps), where secrets and decoded private keys live. Call it
 * once, first thing, before any thread starts. Returns SG_OK, SG_ERR_CONFIG
 * (the locked-memory limit is too small for the secure heap) or SG_ERR_IO;
 * on error the caller must not go on.
 */
int sg_secret_protect_process(void);

/*
 * Wipe 64 KiB of this thread's stack below the caller's frame, where
 * OpenSSL's key decoders passed the password through their buffers. Call
 * it right after opening a key with a password.
 */
void sg_secret_scrub_stack(void);

/* Wipe and free; safe on a zeroed or cleared secret. */
void sg_secret_clear(sg_secret *s);

#endif

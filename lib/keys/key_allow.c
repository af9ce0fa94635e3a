/*
 * What the key helper and the timestamp fetcher may touch; see
 * lib/key_allow.h. What a key source reads (and reads and writes), whether
 * it may use the network, and whether it still needs files once its key is
 * open is that source's column of the key sources' table
 * (lib/key_source.h: `allow`, `key_in_file`).
 */
#include "key_allow.h"
#include "key_source.h"
#include "confine_landlock.h"
#include "signgate/error.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEY_HELPER_AS  (1024ULL * 1024 * 1024)
#define KEY_HELPER_CPU 3600                  /* CPU seconds over a whole batch of signatures */
#define TOKEN_FSIZE    (64ULL * 1024 * 1024) /* a token's own files */
#define FETCHER_CPU    3600
#define FETCHER_NOFILE 128 /* a socket and a reply socket per request, 16 at once */

void sg_key_allow_read(sg_key_allow *a, const char *path)
{
	if (path && path[0] == '/' && a->n_read < SG_KEY_ALLOW_MAX)
		a->read[a->n_read++] = path;
}

void sg_key_allow_rw(sg_key_allow *a, const char *path)
{
	if (path && path[0] == '/' && a->n_rw < SG_KEY_ALLOW_MAX)
		a->rw[a->n_rw++] = path;
}

/*
 * Variables of "pkcs11_env" known to name a configuration file the module
 * reads; any other file the token needs is listed in "pkcs11_paths".
 */
static const char *const module_conf_vars[] = { "SOFTHSM2_CONF", NULL };

static void add_module_conf(sg_key_allow *a, const char *entry)
{
	for (size_t i = 0; module_conf_vars[i]; i++) {
		size_t n = strlen(module_conf_vars[i]);
		if (strncmp(entry, module_conf_vars[i], n) == 0 && entry[n] == '=')
			sg_key_allow_read(a, entry + n + 1);
	}
}

/*
 * A token: the module (dlopen reads it), its configuration file
 * (SOFTHSM2_CONF), the token's own files and folders ("pkcs11_paths", read
 * and write), the chain, and the network for a network HSM.
 */
void sg_key_allow_token(sg_key_allow *a, const sg_key_view *v)
{
	sg_key_allow_read(a, v->pkcs11_module);
	sg_key_allow_read(a, v->cert_chain);
	for (size_t i = 0; v->pkcs11_env && v->pkcs11_env[i]; i++)
		add_module_conf(a, v->pkcs11_env[i]);
	for (size_t i = 0; v->pkcs11_paths && v->pkcs11_paths[i]; i++)
		sg_key_allow_rw(a, v->pkcs11_paths[i]);
	a->network = v->pkcs11_network;
	a->ipc = 1; /* a vendor's module may lock with System V semaphores */
}

/* Owners' names in the strict-mode messages about the key and secret files. */
static const char *const account_files[] = { "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
					     NULL };

int sg_key_allow_prepare(sg_confine_prepared **out, int *closes_files, const sg_config *cfg)
{
	const sg_key_source_ops *ks = NULL;
	sg_key_allow a;
	sg_key_view v;
	sg_confine_spec spec = { .name = "key helper",
				 .system_files = 1,
				 .cpu_sec = KEY_HELPER_CPU,
				 .as_bytes = KEY_HELPER_AS };
	int error;

	memset(&a, 0, sizeof(a));
	*out = NULL;
	*closes_files = 0;
	sg_key_view_signing(&v, cfg);
	error = sg_key_source_find(&ks, &v);
	if (error)
		return error;
	/* What every source's checks read (sg_signer_check_material), and its secret. */
	for (size_t i = 0; account_files[i]; i++)
		sg_key_allow_read(&a, account_files[i]);
	sg_key_allow_read(&a, cfg->certificate);
	sg_key_allow_read(&a, cfg->ca_file);
	sg_key_allow_read(&a, cfg->crl_file);
	sg_key_allow_read(&a, cfg->secret.file);
	/* The key source's own column (lib/key_source.h). */
	ks->allow(&a, &v);
	*closes_files = ks->key_in_file;
	spec.read_paths = a.read;
	spec.rw_paths = a.n_rw ? a.rw : NULL;
	spec.network = a.network;
	spec.ipc = a.ipc;
	/* A token may write its own files; the key helper itself writes none. */
	spec.fsize_bytes = a.n_rw ? TOKEN_FSIZE : 0;
	return sg_confine_prepare(out, &spec);
}

int sg_tsa_allow_prepare(sg_confine_prepared **out)
{
	/* The resolver's files and the CA store (TLS to an https:// TSA); not /etc/ssl/private. */
	static const char *const reads[] = { "/etc/resolv.conf",
					     "/etc/hosts",
					     "/etc/nsswitch.conf",
					     "/etc/gai.conf",
					     "/etc/host.conf",
					     "/etc/services",
					     "/etc/protocols",
					     "/etc/ssl/certs",
					     "/etc/ssl/openssl.cnf",
					     "/usr/lib/ssl",
					     NULL };
	const sg_confine_spec spec = { .name = "timestamp fetcher",
				       .read_paths = reads,
				       .system_files = 1,
				       .network = 1,
				       .cpu_sec = FETCHER_CPU,
				       .fsize_bytes = 0,
				       .nofile = FETCHER_NOFILE };

	*out = NULL;
	return sg_confine_prepare(out, &spec);
}

/* Every file access right of Landlock ABI `abi`. */
int sg_key_allow_no_files(void)
{
	const sg_confine_caps *caps = sg_confine_probe();
	struct ll_ruleset_attr attr = { 0, 0, 0 };

	if (caps->landlock_abi <= 0)
		return -1;
	attr.handled_access_fs = ll_fs_rights(caps->landlock_abi);
	/* The first ABI's struct has only the file field. */
	return (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr.handled_access_fs), 0);
}

int sg_key_allow_no_files_apply(int ruleset_fd)
{
	if (ruleset_fd < 0)
		return 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(__NR_landlock_restrict_self, ruleset_fd, 0) != 0)
		return errno;
	return 0;
}

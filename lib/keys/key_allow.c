/*
 * What the key helper and the timestamp fetcher may touch; see
 * lib/key_allow.h. Each key source is one row of `sources`: how to know
 * it from the config, what it reads (and reads and writes), whether it
 * may use the network, and whether it still needs files once its key is
 * open.
 */
#include "key_allow.h"
#include "confine_landlock.h"
#include "signgate/error.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ALLOW_MAX      48
#define KEY_HELPER_AS  (1024ULL * 1024 * 1024)
#define KEY_HELPER_CPU 3600                  /* CPU seconds over a whole batch of signatures */
#define TOKEN_FSIZE    (64ULL * 1024 * 1024) /* a token's own files */
#define FETCHER_CPU    3600
#define FETCHER_NOFILE 128 /* a socket and a reply socket per request, 16 at once */

/* The paths one helper may read and may read and write, collected from the config. */
typedef struct allow {
	const char *read[ALLOW_MAX + 1];
	size_t n_read;
	const char *rw[ALLOW_MAX + 1];
	size_t n_rw;
	int network;
	int ipc;
} allow;

static void add_read(allow *a, const char *path)
{
	if (path && path[0] == '/' && a->n_read < ALLOW_MAX)
		a->read[a->n_read++] = path;
}

static void add_rw(allow *a, const char *path)
{
	if (path && path[0] == '/' && a->n_rw < ALLOW_MAX)
		a->rw[a->n_rw++] = path;
}

typedef struct key_source_allow {
	const char *name;
	int (*is)(const sg_config *cfg);
	void (*add)(allow *a, const sg_config *cfg);
	int files_after_open; /* 1: it reads files while it signs (a token) */
} key_source_allow;

static int is_pkcs11(const sg_config *cfg)
{
	return cfg->pkcs11_module != NULL;
}

static int is_pkcs12(const sg_config *cfg)
{
	return cfg->pkcs12 != NULL;
}

static int is_pem(const sg_config *cfg)
{
	return !cfg->pkcs11_module && !cfg->pkcs12;
}

/*
 * Variables of "pkcs11_env" known to name a configuration file the module
 * reads; any other file the token needs is listed in "pkcs11_paths".
 */
static const char *const module_conf_vars[] = { "SOFTHSM2_CONF", NULL };

static void add_module_conf(allow *a, const char *entry)
{
	for (size_t i = 0; module_conf_vars[i]; i++) {
		size_t n = strlen(module_conf_vars[i]);
		if (strncmp(entry, module_conf_vars[i], n) == 0 && entry[n] == '=')
			add_read(a, entry + n + 1);
	}
}

/*
 * The module and the engine (dlopen reads them), the module's
 * configuration file (SOFTHSM2_CONF), the token's own files and folders
 * ("pkcs11_paths", read and write) and the network for a network HSM.
 */
static void add_pkcs11(allow *a, const sg_config *cfg)
{
	add_read(a, cfg->pkcs11_module);
	add_read(a, cfg->pkcs11_engine);
	add_read(a, cfg->cert_chain);
	for (size_t i = 0; cfg->pkcs11_env && cfg->pkcs11_env[i]; i++)
		add_module_conf(a, cfg->pkcs11_env[i]);
	for (size_t i = 0; cfg->pkcs11_paths && cfg->pkcs11_paths[i]; i++)
		add_rw(a, cfg->pkcs11_paths[i]);
	a->network = cfg->pkcs11_network;
	a->ipc = 1; /* a vendor's module may lock with System V semaphores */
}

static void add_pkcs12(allow *a, const sg_config *cfg)
{
	add_read(a, cfg->pkcs12);
}

static void add_pem(allow *a, const sg_config *cfg)
{
	add_read(a, cfg->key);
	add_read(a, cfg->cert_chain);
}

static const key_source_allow sources[] = {
	{ "PKCS#11", is_pkcs11, add_pkcs11, 1 },
	{ "PKCS#12", is_pkcs12, add_pkcs12, 0 },
	{ "PEM", is_pem, add_pem, 0 },
};

/* Owners' names in the strict-mode messages about the key and secret files. */
static const char *const account_files[] = { "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
					     NULL };

int sg_key_allow_prepare(sg_confine_prepared **out, int *closes_files, const sg_config *cfg)
{
	allow a;
	sg_confine_spec spec = { .name = "key helper",
				 .system_files = 1,
				 .cpu_sec = KEY_HELPER_CPU,
				 .as_bytes = KEY_HELPER_AS };

	memset(&a, 0, sizeof(a));
	*out = NULL;
	*closes_files = 0;
	/* What every source's checks read (sg_signer_check_material), and its secret. */
	for (size_t i = 0; account_files[i]; i++)
		add_read(&a, account_files[i]);
	add_read(&a, cfg->certificate);
	add_read(&a, cfg->ca_file);
	add_read(&a, cfg->crl_file);
	add_read(&a, cfg->secret.file);
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		if (!sources[i].is(cfg))
			continue;
		sources[i].add(&a, cfg);
		*closes_files = !sources[i].files_after_open;
		break;
	}
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

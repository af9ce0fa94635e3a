/*
 * Confinement of signgate's own process, the parser of hostile bytes: the
 * allow-list of one run, Landlock and seccomp applied to the process
 * itself, and its record. See include/signgate/confine.h ("signgate's own
 * process"); lib/confine.c confines the children.
 */
#include "confine_landlock.h"
#include "signgate/config.h"
#include "signgate/confine.h"
#include "signgate/error.h"
#include "signgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_OWNED 4
#if defined(__SANITIZE_ADDRESS__)
#define SELF_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SELF_SANITIZED 1
#endif
#endif
#ifndef SELF_SANITIZED
#define SELF_SANITIZED 0
#endif

/* What the process has: set once by sg_confine_self(). */
static struct {
	int called;
	int landlock_abi; /* of the ruleset applied; 0: none */
	int files;        /* Landlock file rules in force */
	int seccomp;
	int tcp; /* Landlock TCP rules in force */
	int forced;
	char files_reason[320]; /* why the file rules are off */
	sg_workdir work_dir;    /* the run's work folder (locked), removed by sg_confine_self_end() */
} self = { .work_dir = SG_WORKDIR_INIT };

/* ---- the allow-list ---- */

/* Paths, borrowed or (`owned`) this module's; `oom` once an addition failed. */
typedef struct list {
	const char **p;
	size_t n, cap;
	char *owned[MAX_OWNED];
	size_t n_owned;
	int oom;
} list;

static void add(list *l, const char *path)
{
	if (!path || l->oom)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		const char **grown = realloc(l->p, cap * sizeof(*grown));
		if (!grown) {
			l->oom = 1;
			return;
		}
		l->p = grown;
		l->cap = cap;
	}
	l->p[l->n++] = path;
}

static void add_owned(list *l, char *path)
{
	if (!path)
		return; /* no /proc, say: the rule is not made */
	if (l->n_owned == MAX_OWNED) {
		l->oom = 1;
		free(path);
		return;
	}
	l->owned[l->n_owned++] = path;
	add(l, path);
}

static void list_free(list *l)
{
	for (size_t i = 0; i < l->n_owned; i++)
		free(l->owned[i]);
	free(l->p);
}

/* Libraries and programs: folders of public files, also executed. */
static const char *const sys_exec[] = { "/usr",    "/lib", "/lib64", "/lib32",
					"/libx32", "/bin", "/sbin",  NULL };
/*
 * Read by the loader, libc (passwd, group and nsswitch name the audit
 * record's user; malloc reads overcommit_memory; sysconf the CPUs) and
 * OpenSSL (configuration, CA certificates): found with strace -f on
 * signgate sign, check and verify. Not /etc/ssl as a whole: keys are kept
 * in /etc/ssl/private.
 */
static const char *const sys_read[] = { "/etc/ld.so.cache",
					"/etc/ssl/certs",
					"/etc/ssl/openssl.cnf",
					"/etc/localtime",
					"/etc/gcrypt",
					"/etc/passwd",
					"/etc/group",
					"/etc/nsswitch.conf",
					"/dev/urandom",
					"/dev/random",
					"/proc/sys/vm/overcommit_memory",
					"/sys/devices/system/cpu",
					NULL };

static void add_all(list *l, const char *const *paths)
{
	for (; paths && *paths; paths++)
		add(l, *paths);
}

/* The files of the config that decide: the config, policy, trust, certificates, CRLs. */
static void add_config_reads(list *l, const sg_config *cfg)
{
	if (!cfg)
		return;
	add(l, cfg->path);
	add(l, cfg->policy);
	add(l, cfg->ca_file);
	add(l, cfg->tsa_ca_file);
	add(l, cfg->crl_file);
	add(l, cfg->approvers_ca_file);
	add(l, cfg->approvers_crl_file);
	add(l, cfg->certificate);
	add(l, cfg->cert_chain);
	add(l, cfg->seal_cert);
}

/* ---- secret files that the rules would let through ---- */

/* `path` is `dir` or lies below it (both real paths). */
static int is_within(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* The first secret that lies in (or is) an allowed path: its message in self.files_reason. */
static int secret_reachable(const char *const *secrets, const list *const lists[], size_t n_lists)
{
	char s[PATH_MAX], a[PATH_MAX];

	for (; secrets && *secrets; secrets++) {
		if (!realpath(*secrets, s))
			continue;
		for (size_t k = 0; k < n_lists; k++)
			for (size_t i = 0; i < lists[k]->n; i++) {
				if (!realpath(lists[k]->p[i], a) || !is_within(s, a))
					continue;
				snprintf(self.files_reason, sizeof(self.files_reason),
					 "%s (key material or its secret) lies in %s, which "
					 "signgate must use",
					 *secrets, lists[k]->p[i]);
				return 1;
			}
	}
	return 0;
}

/* ---- Landlock ---- */

#define R_READ (LL_FS_READ_FILE | LL_FS_READ_DIR)
#define R_EXEC (R_READ | LL_FS_EXECUTE)
#define R_RW                                                                                       \
	(R_READ | LL_FS_WRITE_FILE | LL_FS_TRUNCATE | LL_FS_MAKE_REG | LL_FS_REMOVE_FILE |         \
	 LL_FS_MAKE_DIR | LL_FS_REMOVE_DIR | LL_FS_REFER)

static int add_rule(int fd, uint64_t handled, const char *path, uint64_t access)
{
	struct ll_path_beneath_attr pb;
	struct stat st;
	int pfd = open(path, O_PATH | O_CLOEXEC), error = SG_OK;

	if (pfd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return SG_OK;
	if (pfd < 0 || fstat(pfd, &st) != 0) {
		error = sg_error_set(SG_ERR_TOOL, "cannot confine signgate: %s: %s", path,
				     strerror(errno));
	} else {
		pb.allowed_access = access & handled;
		if (!S_ISDIR(st.st_mode))
			pb.allowed_access &= LL_FS_FILE_RIGHTS;
		pb.parent_fd = pfd;
		if (pb.allowed_access &&
		    syscall(__NR_landlock_add_rule, fd, LL_RULE_PATH_BENEATH, &pb, 0) != 0)
			error = sg_error_set(SG_ERR_TOOL,
					     "cannot confine signgate: landlock_add_rule(%s): %s",
					     path, strerror(errno));
	}
	if (pfd >= 0)
		close(pfd);
	return error;
}

static int add_rules(int fd, uint64_t handled, const list *l, uint64_t access)
{
	int error = SG_OK;

	for (size_t i = 0; i < l->n && error == SG_OK; i++)
		error = add_rule(fd, handled, l->p[i], access);
	return error;
}

/* What one Landlock ruleset of the process receives. */
typedef struct allow {
	list read, rw, exec;
	const char *work_parent; /* it may remove its work folder from here */
} allow;

static int add_fs_rules(int fd, uint64_t handled, const allow *a)
{
	static const char *const dev_null[] = { "/dev/null", NULL };
	int error = add_rules(fd, handled, &a->read, R_READ);

	if (error == SG_OK)
		error = add_rules(fd, handled, &a->exec, R_EXEC);
	if (error == SG_OK)
		error = add_rules(fd, handled, &a->rw, R_RW);
	if (error == SG_OK)
		error = add_rule(fd, handled, dev_null[0], R_READ | LL_FS_WRITE_FILE);
	if (error == SG_OK && a->work_parent)
		error = add_rule(fd, handled, a->work_parent, LL_FS_REMOVE_DIR);
	return error;
}

/* One ruleset for the file rules (when `files`) and TCP (ABI >= 4); applied to this thread. */
static int apply_landlock(int abi, int files, const allow *a)
{
	struct ll_ruleset_attr attr = { files ? ll_fs_rights(abi) : 0, 0, 0 };
	int fd, error = SG_OK;

	if (abi >= 4)
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	/* No abstract UNIX socket outside; no signal scoping: it ends the key helper. */
	if (abi >= 6)
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET;
	if (!attr.handled_access_fs && !attr.handled_access_net)
		return SG_OK;
	fd = (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return sg_error_set(SG_ERR_TOOL,
				    "cannot confine signgate: landlock_create_ruleset: %s",
				    strerror(errno));
	if (files)
		error = add_fs_rules(fd, attr.handled_access_fs, a);
	if (error == SG_OK && syscall(__NR_landlock_restrict_self, fd, 0) != 0)
		error = sg_error_set(SG_ERR_TOOL,
				     "cannot confine signgate: landlock_restrict_self: %s",
				     strerror(errno));
	close(fd);
	if (error == SG_OK) {
		self.landlock_abi = abi;
		self.files = files;
		self.tcp = abi >= 4;
	}
	return error;
}

/* ---- seccomp ---- */

/*
 * What signgate's own process never calls once its children are started
 * as planned. The action is SECCOMP_RET_TRACE, which fails the call with
 * ENOSYS when no tracer asked for it: below the children's own filters in
 * precedence (ERRNO would override their user notification), so that a
 * child's call to one of these is still reported as its violation by name.
 * ptrace itself is left to Landlock where it applies (EPERM for any process
 * outside the domain: the key helper, the parent; LeakSanitizer still
 * ptraces the process's own threads at exit), and to this filter where not
 * (not in sanitizer builds).
 */
static const char *const denied_calls[] = { "process_vm_readv",
					    "process_vm_writev",
					    "pidfd_getfd",
					    "kcmp",
					    "bpf",
					    "kexec_load",
					    "kexec_file_load",
					    "init_module",
					    "finit_module",
					    "delete_module",
					    "create_module",
					    "keyctl",
					    "add_key",
					    "request_key",
					    "personality",
					    "perf_event_open",
					    "userfaultfd",
					    "io_uring_setup",
					    "io_uring_enter",
					    "io_uring_register",
					    "setns",
					    "chroot",
					    "pivot_root",
					    "umount",
					    "umount2",
					    "move_mount",
					    "open_tree",
					    "fsopen",
					    "fsconfig",
					    "fsmount",
					    "fspick",
					    "mount_setattr",
					    "open_by_handle_at",
					    "name_to_handle_at",
					    "fanotify_init",
					    "swapon",
					    "swapoff",
					    "reboot",
					    "acct",
					    "quotactl",
					    "quotactl_fd",
					    "iopl",
					    "ioperm",
					    "syslog",
					    "vhangup",
					    "lookup_dcookie",
					    "uselib",
					    "_sysctl",
					    "settimeofday",
					    "clock_settime",
					    "clock_adjtime",
					    "adjtimex",
					    "nfsservctl",
					    "process_madvise",
					    NULL };

static int deny(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	return nr == __NR_SCMP_ERROR ? 0 : seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), nr, 0);
}

/*
 * Changes by path to a file's mode, owner, extended attributes or times,
 * which Landlock does not govern (a set-user-ID bit on a program, as root):
 * EPERM. signgate changes only its own new files, through their descriptors
 * (fchmod, fchown, futimens: utimensat without a path).
 */
static const char *const metadata_calls[] = {
	"chmod",    "fchmodat",  "fchmodat2",  "chown",       "lchown",       "fchownat",
	"setxattr", "lsetxattr", "setxattrat", "removexattr", "lremovexattr", "removexattrat",
	"utime",    "utimes",    "futimesat",  NULL
};

static int add_metadata_rules(scmp_filter_ctx ctx)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && metadata_calls[i]; i++) {
		int nr = seccomp_syscall_resolve_name(metadata_calls[i]);
		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(utimensat), 1,
				      SCMP_A1(SCMP_CMP_NE, 0, 0));
	return rc;
}

/* socket(2) for any family but AF_UNIX fails with EACCES, as a refused socket does. */
static int add_socket_rules(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
				SCMP_A0(SCMP_CMP_NE, AF_UNIX, 0));
}

static int apply_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc = ctx ? 0 : -ENOMEM;

	/* Another ABI (i386, x32) could name the denied calls by other numbers. */
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; rc == 0 && denied_calls[i]; i++)
		rc = deny(ctx, denied_calls[i]);
	if (rc == 0 && !self.landlock_abi && !SELF_SANITIZED)
		rc = deny(ctx, "ptrace");
	/* clone3 passes its flags in memory a filter cannot read: libc falls back to clone. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc == 0)
		rc = add_socket_rules(ctx);
	if (rc == 0)
		rc = add_metadata_rules(ctx);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		return sg_error_set(SG_ERR_TOOL, "cannot confine signgate: seccomp: %s",
				    strerror(rc < 0 ? -rc : rc));
	self.seccomp = 1;
	return SG_OK;
}

/* ---- the run ---- */

static int build_allow(allow *a, const sg_confine_self_run *run)
{
	const sg_config *cfg = run->cfg;
	char *proc_self = realpath("/proc/self", NULL);

	memset(a, 0, sizeof(*a));
	add_all(&a->read, sys_read);
	/* Its own /proc entries (as /proc/PID: the name /proc/self is another's in a child). */
	add_owned(&a->read, proc_self);
	for (size_t i = 0; i < run->n_inputs; i++)
		add(&a->read, run->inputs[i]);
	add_config_reads(&a->read, cfg);
	add_all(&a->read, run->trust_files);
	add_all(&a->exec, sys_exec);
	add(&a->exec,
	    cfg && cfg->osslsigncode ? cfg->osslsigncode : sg_config_default_osslsigncode());
	add(&a->exec, SG_GPGV_DEFAULT);
	add_all(&a->rw, run->out_dirs);
	if (cfg && cfg->audit_log)
		add_owned(&a->rw, sg_path_dir(cfg->audit_log));
	if (a->read.oom || a->rw.oom || a->exec.oom)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	return SG_OK;
}

/* The work folder: $TMPDIR is pointed at it, so that the run's work folders are made in it. */
static int make_work_dir(allow *a)
{
	const char *tmp = getenv("TMPDIR");
	int error;

	a->work_parent = tmp && tmp[0] == '/' ? tmp : "/tmp";
	if ((error = sg_workdir_create(&self.work_dir)) != SG_OK)
		return error;
	if (setenv("TMPDIR", self.work_dir.path, 1) != 0)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	add(&a->rw, self.work_dir.path);
	return SG_OK;
}

static int refuse(const char *why)
{
	return sg_error_set(SG_ERR_CONFIG,
			    "cannot confine signgate: %s; the configuration requires "
			    "confinement (\"confinement\": \"required\")",
			    why);
}

/* Whether the file rules can keep the secrets out; "required" refuses when not. */
static int decide_files(const sg_confine_self_run *run, const allow *a, int abi)
{
	const char *secrets[SG_CONFIG_SECRET_FILES_MAX + 1] = { NULL };
	const list *const lists[] = { &a->read, &a->rw, &a->exec };

	if (run->cfg)
		sg_config_secret_files(secrets, run->cfg);
	if (abi < 2) {
		/* ABI 1 refuses every rename between folders: the stage's, the publication's. */
		snprintf(self.files_reason, sizeof(self.files_reason), "%s%s",
			 abi ? "Landlock ABI 1 (no REFER right: signgate could not move its "
			       "outputs into place)"
			     : "no Landlock",
			 self.forced ? " (lowered by SIGNGATE_CONFINE_FORCE)" : "");
		return 0;
	}
	return !secret_reachable(secrets, lists, 3);
}

static void warn_line(char *warn, size_t len)
{
	if (!len)
		return;
	warn[0] = '\0';
	if (!self.files)
		snprintf(warn, len,
			 "signgate's own process runs without Landlock file rules: %s (README "
			 "\"Confinement\")",
			 self.files_reason);
}

int sg_confine_self(const sg_confine_self_run *run, char *warn, size_t warn_len)
{
	const sg_confine_caps *c = sg_confine_probe();
	int required = sg_confine_get_mode() == SG_CONFINE_REQUIRED, files, error = SG_OK;
	allow a;

	if (warn_len)
		warn[0] = '\0';
	self.forced = c->forced;
	if (required && (c->landlock_abi == 0 || !c->seccomp))
		return refuse(c->landlock_abi ? "no seccomp" : "no Landlock");
	error = build_allow(&a, run);
	files = error == SG_OK && decide_files(run, &a, c->landlock_abi);
	if (error == SG_OK && !files && required)
		error = refuse(self.files_reason);
	self.called = error == SG_OK;
	if (error == SG_OK && files)
		error = make_work_dir(&a);
	if (error == SG_OK && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		error = sg_error_set(SG_ERR_TOOL,
				     "cannot confine signgate: PR_SET_NO_NEW_PRIVS: %s",
				     strerror(errno));
	if (error == SG_OK && c->landlock_abi)
		error = apply_landlock(c->landlock_abi, files, &a);
	if (error == SG_OK && c->seccomp)
		error = apply_seccomp();
	list_free(&a.read);
	list_free(&a.rw);
	list_free(&a.exec);
	/* Without Landlock, or at ABI 1, the children's warning (sg_confine_lacking) says so. */
	if (error == SG_OK && c->landlock_abi >= 2)
		warn_line(warn, warn_len);
	return error;
}

void sg_confine_self_end(void)
{
	sg_workdir_remove(&self.work_dir);
}

int sg_confine_self_files(void)
{
	return self.files;
}

static const char *network_text(void)
{
	if (self.seccomp)
		return self.tcp ? "none (AF_UNIX sockets only)"
				: "none (AF_UNIX sockets only; no Landlock TCP rules)";
	return self.tcp ? "no TCP (other sockets open: no seccomp)"
			: "not confined: no seccomp and no Landlock TCP rules";
}

json_t *sg_confine_self_json(void)
{
	char files[400];
	json_t *o;

	if (!self.called)
		return json_string("not confined: not started");
	if (!self.landlock_abi && !self.seccomp)
		return json_string(self.forced
					   ? "not confined: no Landlock and no seccomp (lowered "
					     "by SIGNGATE_CONFINE_FORCE)"
					   : "not confined: no Landlock and no seccomp");
	snprintf(files, sizeof(files), "%s%s",
		 self.files ? "confined" : "not confined: ", self.files ? "" : self.files_reason);
	o = json_pack("{s:i, s:s, s:b, s:s}", "landlock_abi", self.landlock_abi, "files", files,
		      "seccomp", self.seccomp, "network", network_text());
	if (o && self.forced && json_object_set_new(o, "forced", json_true()) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

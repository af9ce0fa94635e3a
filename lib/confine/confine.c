/*
 * Confinement of children, the part before the fork: what the kernel
 * offers, the mode, the Landlock ruleset and the seccomp programs. See
 * include/signgate/confine.h; lib/confine_child.c installs them.
 */
#include "confine_prepared.h"
#include "confine_landlock.h"
#include "signgate/error.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_CPU_SEC  120
#define DEFAULT_AS_BYTES (2ull << 30)
#define DEFAULT_NOFILE   64
#define RULESET_FD_MIN   10

/* AddressSanitizer (gcc says so with a macro, clang with __has_feature). */
#if defined(__SANITIZE_ADDRESS__)
#define SG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SG_ASAN 1
#endif
#endif
#ifndef SG_ASAN
#define SG_ASAN 0
#endif

/* ---- what the kernel offers ---- */

static sg_confine_caps caps_probed;
static pthread_once_t caps_once = PTHREAD_ONCE_INIT;
static sg_confine_mode mode_now = SG_CONFINE_AUTO;

static int seccomp_action_avail(unsigned int action)
{
	return syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

/* A number from a /proc/sys file; -1 when it cannot be read. */
static long sysctl_value(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/*
 * Whether user namespaces may be made, from the kernel's settings: no
 * throw-away child (a fork here would be the first child a debugger
 * following forks sees). proc.c tries anyway and falls back as it always did.
 */
static int userns_allowed(void)
{
	if (sysctl_value("/proc/sys/user/max_user_namespaces") == 0)
		return 0;
	/* Debian's switch for accounts other than root. */
	if (geteuid() != 0 && sysctl_value("/proc/sys/kernel/unprivileged_userns_clone") == 0)
		return 0;
	return 1;
}

static void probe_once(void)
{
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);

	caps_probed.landlock_abi = abi > 0 ? (int)abi : 0;
	caps_probed.seccomp = seccomp_action_avail(SECCOMP_RET_KILL_PROCESS);
	caps_probed.seccomp_notify =
		caps_probed.seccomp && seccomp_action_avail(SECCOMP_RET_USER_NOTIF);
	caps_probed.userns = userns_allowed();
	sg_confine_force_parse(&caps_probed, getenv("SIGNGATE_CONFINE_FORCE"));
}

const sg_confine_caps *sg_confine_probe(void)
{
	pthread_once(&caps_once, probe_once);
	return &caps_probed;
}

/* "name=value" at *s (up to ',' or the end); advances *s. 0 or -1. */
static int force_item(sg_confine_caps *caps, const char **s)
{
	static const char *const names[] = { "landlock", "seccomp", "notify", "userns" };
	int *fields[] = { &caps->landlock_abi, &caps->seccomp, &caps->seccomp_notify,
			  &caps->userns };
	size_t len = strcspn(*s, ",");
	const char *eq = memchr(*s, '=', len);
	char *end;
	long v;

	if (!eq)
		return -1;
	v = strtol(eq + 1, &end, 10);
	if (end != *s + len || end == eq + 1 || v < 0)
		return -1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) != (size_t)(eq - *s) || strncmp(*s, names[i], eq - *s) != 0)
			continue;
		if (i > 0 && v > 1)
			return -1;
		if (v < *fields[i]) {
			*fields[i] = (int)v;
			caps->forced = 1;
		}
		*s += len + ((*s)[len] == ',');
		return 0;
	}
	return -1;
}

int sg_confine_force_parse(sg_confine_caps *caps, const char *text)
{
	const char *s = text;

	while (s && *s) {
		if (force_item(caps, &s) != 0) {
			caps->landlock_abi = caps->seccomp = caps->seccomp_notify = 0;
			caps->userns = 0;
			caps->forced = 1;
			return sg_error_set(SG_ERR_CONFIG,
					    "SIGNGATE_CONFINE_FORCE: cannot understand \"%s\"",
					    text);
		}
	}
	/* Without filters there is nothing to notify about. */
	if (!caps->seccomp)
		caps->seccomp_notify = 0;
	return SG_OK;
}

static void append(char *buf, size_t len, const char *text)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, "%s%s", used ? "; " : "", text);
}

const char *sg_confine_lacking(char *buf, size_t len)
{
	const sg_confine_caps *c = sg_confine_probe();
	char ll[96];

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (c->landlock_abi == 0)
		append(buf, len, "Landlock: none (no file rules)");
	else if (c->landlock_abi < 4) {
		snprintf(ll, sizeof(ll), "Landlock: ABI %d (no TCP rules, no signal scoping)",
			 c->landlock_abi);
		append(buf, len, ll);
	} else if (c->landlock_abi < 6) {
		snprintf(ll, sizeof(ll), "Landlock: ABI %d (no signal scoping)", c->landlock_abi);
		append(buf, len, ll);
	}
	if (!c->seccomp)
		append(buf, len, "seccomp: none");
	else if (!c->seccomp_notify)
		append(buf, len, "seccomp user notification: none (violations not named)");
	if (!c->userns)
		append(buf, len, "user namespaces: none");
	if (buf[0] && c->forced)
		append(buf, len, "lowered by SIGNGATE_CONFINE_FORCE");
	return buf;
}

void sg_confine_set_mode(sg_confine_mode mode)
{
	mode_now = mode;
}

sg_confine_mode sg_confine_get_mode(void)
{
	return mode_now;
}

int sg_confine_mode_parse(sg_confine_mode *out, const char *text)
{
	if (text && strcmp(text, "auto") == 0)
		*out = SG_CONFINE_AUTO;
	else if (text && strcmp(text, "required") == 0)
		*out = SG_CONFINE_REQUIRED;
	else
		return sg_error_set(SG_ERR_CONFIG,
				    "confinement: \"%s\" is neither \"auto\" nor \"required\"",
				    text ? text : "(null)");
	return SG_OK;
}

/* ---- Landlock ---- */

#define R_READ  (LL_FS_READ_FILE | LL_FS_READ_DIR)
#define R_EXEC  (R_READ | LL_FS_EXECUTE)
#define R_WRITE (R_READ | LL_FS_WRITE_FILE | LL_FS_TRUNCATE | LL_FS_MAKE_REG | LL_FS_REMOVE_FILE)
#define R_RW    (R_WRITE | LL_FS_MAKE_DIR | LL_FS_REMOVE_DIR)

/*
 * What the dynamic loader, libc and OpenSSL read: found with strace -f on
 * osslsigncode 2.9 and gpgv 2.2 (sign, attach, verify, extract). Folders
 * that hold only public files.
 */
static const char *const system_exec[] = { "/usr",    "/lib", "/lib64", "/lib32",
					   "/libx32", "/bin", "/sbin",  NULL };
/* Not /etc/ssl as a whole: Debian keeps private keys in /etc/ssl/private. */
static const char *const system_read[] = {
	"/etc/ld.so.cache", "/etc/ssl/certs", "/etc/ssl/openssl.cnf",
	"/etc/localtime",   "/usr/lib/ssl",   "/etc/gcrypt",
	"/dev/urandom",     "/dev/random",    NULL
};
static const char *const system_rw[] = { "/dev/null", NULL };

typedef struct ruleset {
	int fd;
	uint64_t handled;
	const char *name;
} ruleset;

static int add_path(const ruleset *rs, const char *path, uint64_t access)
{
	struct ll_path_beneath_attr pb;
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC), error = SG_OK;

	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return SG_OK;
	if (fd < 0 || fstat(fd, &st) != 0) {
		error = sg_error_set(SG_ERR_TOOL, "cannot confine %s: %s: %s", rs->name, path,
				     strerror(errno));
		goto done;
	}
	pb.allowed_access = access & rs->handled;
	if (!S_ISDIR(st.st_mode))
		pb.allowed_access &= LL_FS_FILE_RIGHTS;
	pb.parent_fd = fd;
	if (pb.allowed_access &&
	    syscall(__NR_landlock_add_rule, rs->fd, LL_RULE_PATH_BENEATH, &pb, 0) != 0)
		error = sg_error_set(SG_ERR_TOOL, "cannot confine %s: landlock_add_rule(%s): %s",
				     rs->name, path, strerror(errno));
done:
	if (fd >= 0)
		close(fd);
	return error;
}

static int add_paths(const ruleset *rs, const char *const *paths, uint64_t access)
{
	int error = SG_OK;

	for (; paths && *paths && error == SG_OK; paths++)
		error = add_path(rs, *paths, access);
	return error;
}

static int add_rules(const ruleset *rs, const sg_confine_spec *spec)
{
	int error = SG_OK;

	if (spec->system_files) {
		error = add_paths(rs, system_exec, R_EXEC);
		if (error == SG_OK)
			error = add_paths(rs, system_read, R_READ);
		if (error == SG_OK)
			error = add_paths(rs, system_rw, R_READ | LL_FS_WRITE_FILE);
	}
	if (error == SG_OK)
		error = add_paths(rs, spec->read_paths, R_READ);
	if (error == SG_OK)
		error = add_paths(rs, spec->exec_paths, LL_FS_EXECUTE | LL_FS_READ_FILE);
	if (error == SG_OK)
		error = add_paths(rs, spec->rw_paths, R_RW);
	if (error == SG_OK && spec->write_dir)
		error = add_path(rs, spec->write_dir, R_WRITE);
	return error;
}

/* The ruleset for `abi`: every right of that ABI handled, only the spec's allowed. */
static int make_ruleset(sg_confine_prepared *p, const sg_confine_spec *spec, int abi)
{
	struct ll_ruleset_attr attr = { ll_fs_rights(abi), 0, 0 };
	ruleset rs = { -1, attr.handled_access_fs, p->name };
	int error;

	if (abi >= 4 && !spec->network)
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if (abi >= 6)
		attr.scoped = LL_SCOPE_SIGNAL | (spec->network ? 0 : LL_SCOPE_ABSTRACT_UNIX_SOCKET);
	rs.fd = (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs.fd < 0)
		return sg_error_set(SG_ERR_TOOL, "cannot confine %s: landlock_create_ruleset: %s",
				    p->name, strerror(errno));
	/* Above the descriptors a child rearranges (0 to 3) before it applies the rules. */
	if (rs.fd < RULESET_FD_MIN) {
		int high = fcntl(rs.fd, F_DUPFD_CLOEXEC, RULESET_FD_MIN);
		close(rs.fd);
		if ((rs.fd = high) < 0)
			return sg_error_set(SG_ERR_TOOL, "cannot confine %s: fcntl: %s", p->name,
					    strerror(errno));
	}
	p->ruleset_fd = rs.fd;
	p->landlock_abi = abi;
	error = add_rules(&rs, spec);
	return error;
}

/* ---- seccomp ---- */

/* What no run of osslsigncode, gpgv, the key helper or the fetcher needs. */
static const char *const denied_calls[] = { "ptrace",
					    "process_vm_readv",
					    "process_vm_writev",
					    "pidfd_getfd",
					    "kcmp",
					    "mount",
					    "umount",
					    "umount2",
					    "pivot_root",
					    "chroot",
					    "move_mount",
					    "open_tree",
					    "fsopen",
					    "fsconfig",
					    "fsmount",
					    "fspick",
					    "mount_setattr",
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
					    "unshare",
					    "setns",
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
					    "open_by_handle_at",
					    "name_to_handle_at",
					    "fanotify_init",
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

/*
 * What Landlock does not govern: a file's mode, owner, extended attributes
 * and times are changed by path (or through a descriptor opened only for
 * reading) wherever the account may. As root, a set-user-ID bit on any
 * program; as anyone, the input's or the audit log's metadata. No run
 * needs them; they fail with EPERM.
 */
static const char *const metadata_calls[] = { "chmod",         "fchmod",       "fchmodat",
					      "fchmodat2",     "chown",        "fchown",
					      "lchown",        "fchownat",     "setxattr",
					      "lsetxattr",     "fsetxattr",    "setxattrat",
					      "removexattr",   "lremovexattr", "fremovexattr",
					      "removexattrat", "utime",        "utimes",
					      "futimesat",     "utimensat",    NULL };

/*
 * System V shared memory, message queues and semaphores, and POSIX message
 * queues: named by key or a small id, not by path, so Landlock does not
 * govern them, and a child shares the host's IPC namespace with every
 * process of its account. Only a PKCS#11 module may need them (spec->ipc).
 */
static const char *const ipc_calls[] = {
	"shmget",          "shmat",     "shmctl",        "shmdt",     "msgget",
	"msgsnd",          "msgrcv",    "msgctl",        "semget",    "semop",
	"semtimedop",      "semctl",    "mq_open",       "mq_unlink", "mq_timedsend",
	"mq_timedreceive", "mq_notify", "mq_getsetattr", NULL
};

/* ioctl(FS_IOC_SETFLAGS) and ioctl(FS_IOC_FSSETXATTR) fail with EPERM. */
static int add_inode_flag_rules(scmp_filter_ctx ctx)
{
	static const unsigned long cmds[] = { FS_IOC_SETFLAGS, FS_IOC32_SETFLAGS,
					      FS_IOC_FSSETXATTR };
	int rc = 0;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, cmds[i]));
	return rc;
}

static int add_errno_calls(scmp_filter_ctx ctx, const char *const *calls)
{
	int rc = 0;

	for (size_t i = 0; calls[i] && rc == 0; i++) {
		int nr = seccomp_syscall_resolve_name(calls[i]);
		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	return rc;
}

/* clone(2) flags that make a namespace: unshare by another name. */
static const unsigned long ns_flags[] = { CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS,
					  CLONE_NEWIPC, CLONE_NEWUSER,   CLONE_NEWPID,
					  CLONE_NEWNET };

static int add_denials(scmp_filter_ctx ctx, uint32_t action, int network, int ipc)
{
	int rc = 0;

	for (size_t i = 0; denied_calls[i] && rc == 0; i++) {
		int nr = seccomp_syscall_resolve_name(denied_calls[i]);
		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(ctx, action, nr, 0);
	}
	if (rc == 0)
		rc = add_errno_calls(ctx, metadata_calls);
	if (rc == 0 && !ipc)
		rc = add_errno_calls(ctx, ipc_calls);
	/*
	 * Its limits stay: no new limit at all (root with CAP_SYS_RESOURCE, the
	 * key helper's and the fetcher's case, could raise them); reading them
	 * (prlimit64 without a new limit) is fine. No inode flags either
	 * (chattr: immutable, append-only, as root), which Landlock does not govern.
	 */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setrlimit), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(prlimit64), 1,
				      SCMP_A2(SCMP_CMP_NE, 0, 0));
	if (rc == 0)
		rc = add_inode_flag_rules(ctx);
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, action, SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
	/* clone3 passes its flags in memory a filter cannot read: libc falls back to clone. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/*
	 * No new socket: a socket file is reached by path, not through the
	 * network namespace; io_uring can make sockets without socket(2).
	 * They fail (EACCES), as they did before: libc's own lookups (nscd)
	 * then fall back quietly.
	 */
	if (rc == 0 && !network)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 0);
	if (rc == 0 && !network)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(io_uring_setup), 0);
	return rc;
}

/* The filter as raw BPF in `out` (malloc'ed): exported through a memfd. */
static int export_filter(scmp_filter_ctx ctx, struct sock_fprog *out)
{
	int fd = memfd_create("signgate-seccomp", MFD_CLOEXEC), rc = -1;
	off_t size;

	if (fd < 0)
		return -errno;
	if ((rc = seccomp_export_bpf(ctx, fd)) == 0) {
		size = lseek(fd, 0, SEEK_END);
		rc = -EIO;
		if (size > 0 && size % sizeof(struct sock_filter) == 0 &&
		    (out->filter = malloc((size_t)size)) != NULL) {
			if (pread(fd, out->filter, (size_t)size, 0) == size) {
				out->len = (unsigned short)(size / sizeof(struct sock_filter));
				rc = 0;
			} else {
				free(out->filter);
				out->filter = NULL;
			}
		}
	}
	close(fd);
	return rc;
}

static int make_filter(struct sock_fprog *out, uint32_t action, const sg_confine_spec *spec,
		       const char *name)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc = -ENOMEM;

	/* Other ABIs (i386, x32) could name the denied calls by other numbers. */
	if (ctx &&
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) == 0 &&
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) == 0 &&
	    (rc = add_denials(ctx, action, spec->network, spec->ipc)) == 0)
		rc = export_filter(ctx, out);
	seccomp_release(ctx);
	if (rc != 0)
		return sg_error_set(SG_ERR_TOOL,
				    "cannot confine %s: building its seccomp filter: %s", name,
				    strerror(-rc));
	return SG_OK;
}

/* ---- the prepared confinement ---- */

static void set_rlimits(sg_confine_prepared *p, const sg_confine_spec *spec)
{
	unsigned long long as = spec->as_bytes ? spec->as_bytes : DEFAULT_AS_BYTES;
	unsigned long nofile = spec->nofile ? spec->nofile : DEFAULT_NOFILE;

	p->cpu_sec = spec->cpu_sec ? spec->cpu_sec : DEFAULT_CPU_SEC;
	p->fsize = spec->fsize_bytes;
	p->rlimit_res[0] = RLIMIT_CPU;
	/* The hard limit a little later: SIGXCPU first, which is reported by name. */
	p->rlimit_val[0] = (struct rlimit){ p->cpu_sec, p->cpu_sec + 5 };
	p->rlimit_res[1] = RLIMIT_FSIZE;
	p->rlimit_val[1] = (struct rlimit){ p->fsize, p->fsize };
	p->rlimit_res[2] = RLIMIT_CORE;
	p->rlimit_val[2] = (struct rlimit){ 0, 0 };
	p->rlimit_res[3] = RLIMIT_NOFILE;
	p->rlimit_val[3] = (struct rlimit){ nofile, nofile };
	p->rlimit_res[4] = RLIMIT_AS;
	p->rlimit_val[4] = (struct rlimit){ as, as };
#if SG_ASAN
	/* AddressSanitizer reserves terabytes of shadow: a forked helper could not run. */
	p->rlimit_res[4] = RLIMIT_CORE;
	p->rlimit_val[4] = (struct rlimit){ 0, 0 };
#endif
}

/* "this kernel offers no Landlock and seccomp (lowered by SIGNGATE_CONFINE_FORCE)" */
static int refuse(const sg_confine_caps *c, const char *what)
{
	return sg_error_set(SG_ERR_TOOL,
			    "%s: the configuration requires Landlock file rules and seccomp, and "
			    "this kernel offers %s%s%s",
			    what, c->landlock_abi ? "Landlock" : "no Landlock",
			    c->seccomp ? " and seccomp" : " and no seccomp",
			    c->forced ? " (lowered by SIGNGATE_CONFINE_FORCE)" : "");
}

int sg_confine_require(void)
{
	const sg_confine_caps *c = sg_confine_probe();

	if (sg_confine_get_mode() != SG_CONFINE_REQUIRED || (c->landlock_abi > 0 && c->seccomp))
		return SG_OK;
	return refuse(c, "confinement");
}

static int check_required(const sg_confine_caps *c, const char *name)
{
	char what[96];

	if (sg_confine_get_mode() != SG_CONFINE_REQUIRED || (c->landlock_abi > 0 && c->seccomp))
		return SG_OK;
	snprintf(what, sizeof(what), "cannot confine %s", name);
	return refuse(c, what);
}

int sg_confine_prepare(sg_confine_prepared **out, const sg_confine_spec *spec)
{
	const sg_confine_caps *c = sg_confine_probe();
	sg_confine_prepared *p;
	int error;

	*out = NULL;
	if ((error = check_required(c, spec->name ? spec->name : "a child")) != SG_OK)
		return error;
	if (!(p = calloc(1, sizeof(*p))))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	p->ruleset_fd = -1;
	snprintf(p->name, sizeof(p->name), "%s", spec->name ? spec->name : "a child");
	p->network = spec->network;
	p->forced = c->forced;
	set_rlimits(p, spec);
	error = SG_OK;
	if (c->landlock_abi > 0)
		error = make_ruleset(p, spec, c->landlock_abi);
	if (error == SG_OK && c->seccomp)
		error = make_filter(&p->kill_prog, SCMP_ACT_KILL_PROCESS, spec, p->name);
	if (error == SG_OK && c->seccomp_notify)
		error = make_filter(&p->notify_prog, SCMP_ACT_NOTIFY, spec, p->name);
	if (error != SG_OK) {
		sg_confine_prepared_free(p);
		return error;
	}
	*out = p;
	return SG_OK;
}

void sg_confine_prepared_free(sg_confine_prepared *p)
{
	if (!p)
		return;
	if (p->ruleset_fd >= 0)
		close(p->ruleset_fd);
	free(p->notify_prog.filter);
	free(p->kill_prog.filter);
	free(p);
}

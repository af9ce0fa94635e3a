/*
 * Confinement of signgate's children (issue 13): what a compromised
 * osslsigncode, gpgv, key helper or timestamp fetcher could still do.
 *
 * Every child receives, where the kernel offers it:
 *   - PR_SET_NO_NEW_PRIVS, its own session, only the descriptors it is
 *     handed, the clean environment it already had;
 *   - rlimits: CPU time, address space, file size (sized to the job), no
 *     core dumps, few open files;
 *   - Landlock file rules: it reads the files it works on and the system
 *     files it needs (libraries, OpenSSL configuration), may create files
 *     only in one per-run folder (or nowhere), executes only its program
 *     and the libraries;
 *   - a network it cannot use (its own network namespace, and seccomp
 *     against socket(2)) unless the spec allows the network (the timestamp
 *     fetcher only);
 *   - a seccomp filter against what no run needs (ptrace, process_vm_*,
 *     mount, bpf, kexec, module loading, keyctl, personality, ...). A
 *     call to one of them ends the child and is reported as a confinement
 *     violation: by the system call's name when the filter could notify
 *     signgate (a user-notification listener), else "killed by SIGSYS".
 *
 * The filters and the Landlock ruleset are built before the fork
 * (sg_confine_prepare); the child only installs them, with
 * async-signal-safe system calls (sg_confine_apply_child).
 *
 * Mode (config "confinement"): "auto" (default) uses what the kernel
 * offers (the tools warn once per run about what it lacks, from
 * sg_confine_lacking); "required" refuses to start a child without
 * Landlock file rules and seccomp.
 * What each run had is recorded (sg_confine_report, sg_confine_report_json).
 */
#ifndef SIGNGATE_CONFINE_H
#define SIGNGATE_CONFINE_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

typedef enum sg_confine_mode {
	SG_CONFINE_AUTO = 0, /* use what is there, warn once about what is not */
	SG_CONFINE_REQUIRED  /* no child without Landlock file rules and seccomp */
} sg_confine_mode;

/*
 * What the kernel offers, probed once per process. For tests, the
 * environment variable SIGNGATE_CONFINE_FORCE may only lower it:
 * "landlock=N" (N below the kernel's ABI, 0 for none), "seccomp=0",
 * "notify=0", "userns=0", comma-separated; `forced` is then 1 and is
 * recorded with every run.
 */
typedef struct sg_confine_caps {
	int landlock_abi;   /* 0: no Landlock */
	int seccomp;        /* seccomp filters */
	int seccomp_notify; /* user-notification filters: violations named */
	int userns;         /* a user namespace can be made (network namespace as non-root) */
	int forced;         /* lowered by SIGNGATE_CONFINE_FORCE */
} sg_confine_caps;

const sg_confine_caps *sg_confine_probe(void);

/*
 * Lower `caps` as the SIGNGATE_CONFINE_FORCE text `text` says (the parser
 * sg_confine_probe uses; NULL or "" changes nothing). A value never raises
 * what `caps` has. Returns SG_OK, or SG_ERR_CONFIG for a text it does not
 * understand, after lowering everything to nothing (a mistyped knob must
 * not leave a test believing it ran the lower path). Sets caps->forced
 * when it changed anything.
 */
int sg_confine_force_parse(sg_confine_caps *caps, const char *text);

/*
 * What this kernel (or the forced caps) lacks for full confinement, as one
 * line for a warning ("Landlock: none; seccomp user notification: none"),
 * or "" when nothing is missing. Writes at most `len` bytes; returns `buf`.
 */
const char *sg_confine_lacking(char *buf, size_t len);

/* Process-wide mode, set once from the config before the first child. */
void sg_confine_set_mode(sg_confine_mode mode);
sg_confine_mode sg_confine_get_mode(void);

/*
 * In "required" mode, SG_ERR_TOOL when the kernel (or the forced caps)
 * lacks Landlock file rules or seccomp: "confinement is required and this
 * kernel offers no Landlock and seccomp" (a run refuses before any input);
 * SG_OK otherwise.
 */
int sg_confine_require(void);

/* "auto" or "required" -> mode; SG_OK or SG_ERR_CONFIG. */
int sg_confine_mode_parse(sg_confine_mode *out, const char *text);

/* What one child may do. Paths are absolute; lists are NULL-terminated or NULL. */
typedef struct sg_confine_spec {
	const char *name;              /* for messages: "osslsigncode", "gpgv", "key helper" */
	const char *const *read_paths; /* files or folders (with everything below) to read */
	const char *const *exec_paths; /* programs it may execute (besides the libraries) */
	const char *write_dir;       /* the one folder where it may create and write; NULL: none */
	const char *const *rw_paths; /* files or folders it may read and write (a token store) */
	int system_files;            /* 1: the libraries, ld.so cache, OpenSSL config, locale */
	int network;                 /* 1: may use the network (the timestamp fetcher only) */
	unsigned long cpu_sec;       /* RLIMIT_CPU; 0: the default (120 s) */
	unsigned long long as_bytes; /* RLIMIT_AS; 0: the default (2 GiB) */
	unsigned long long fsize_bytes; /* RLIMIT_FSIZE; 0: no file may be written */
	unsigned long nofile;           /* RLIMIT_NOFILE; 0: the default (64) */
	int ipc; /* 1: may use System V IPC and POSIX message queues (a PKCS#11 module) */
} sg_confine_spec;

/* What one child had, and how it broke its confinement if it did. */
typedef struct sg_confine_report {
	int landlock_abi; /* the ABI whose rules were applied; 0: none */
	int seccomp;      /* 1: the deny filter was installed */
	int named;        /* 1: violations are reported by name: the caller sets it when
			     sg_confine_recv_listener gave it a listener */
	int network;      /* 1: the spec allowed the network */
	int no_network;   /* 1: own network namespace and/or seccomp against sockets */
	int netns;        /* 1: its own network namespace (set by the caller that made it) */
	int rlimits;      /* 1: the rlimits were set */
	int forced;       /* the caps were lowered by SIGNGATE_CONFINE_FORCE */
	int violation;    /* 1: the child broke its confinement and was ended */
	char syscall[32]; /* the system call by name, "" when not known */
	char reason[160]; /* e.g. "system call ptrace", "killed by SIGSYS",
			     "file size limit (SIGXFSZ, 1048576 bytes)" */
} sg_confine_report;

/* Built before the fork; opaque. */
typedef struct sg_confine_prepared sg_confine_prepared;

/*
 * Build the Landlock ruleset (a descriptor) and the seccomp programs for
 * `spec`, before the fork. In "required" mode, SG_ERR_TOOL when the kernel
 * lacks Landlock file rules or seccomp ("cannot confine NAME: REASON");
 * in "auto" mode it uses what there is. A path of the spec that does not exist is skipped.
 * Free with sg_confine_prepared_free() (NULL-safe).
 */
int sg_confine_prepare(sg_confine_prepared **out, const sg_confine_spec *spec);
void sg_confine_prepared_free(sg_confine_prepared *p);

/*
 * In the child after fork, before execve (or, for a forked helper that
 * does not exec, before it reads anything untrusted): no_new_privs, setsid,
 * rlimits, Landlock, then seccomp. Only async-signal-safe system calls.
 * When `notify_sock` >= 0 and the kernel offers user notification, the
 * listener descriptor is sent over it (SCM_RIGHTS) to the parent; the child
 * then closes `notify_sock` (so the parent's sg_confine_recv_listener sees
 * the end when there is no listener), and its copy of the ruleset.
 * SIGXFSZ, SIGXCPU and SIGSYS get their default actions back.
 * Returns 0, or an errno with `*step` naming what failed (static string).
 */
int sg_confine_apply_child(const sg_confine_prepared *p, int notify_sock, const char **step);

/*
 * In the parent: sg_confine_recv_listener() waits for the child's listener
 * (the parent must have closed its copy of the child's end of the socket
 * pair): *out_fd is the listener, or -1 when the child sent none (no user
 * notification, or it ended). Watch the listener (poll, POLLIN): sg_confine_handle_notify() is
 * called when the listener is readable: it reads the notification, records the system call's name
 * in `rep`, and kills `pid` and its process group (SIGKILL; the system call fails with EPERM should
 * the caller survive). Returns SG_OK.
 */
int sg_confine_recv_listener(int sock, int *out_fd);
int sg_confine_handle_notify(int listener_fd, pid_t pid, sg_confine_report *rep);

/*
 * After the child ended: classify a death by SIGSYS (seccomp without
 * notify), SIGXFSZ (file size limit) or SIGXCPU (CPU limit) as a violation
 * in `rep` (one already named by sg_confine_handle_notify stays); fill the
 * confinement fields from `p` (NULL: the child had no confinement).
 */
void sg_confine_report_finish(sg_confine_report *rep, const sg_confine_prepared *p, int exited,
			      int signo);

/*
 * The report as a JSON object for the audit record (a new reference, NULL
 * when out of memory), e.g.
 * {"landlock_abi":7,"seccomp":true,"named":true,"network":"none","netns":true,
 *  "rlimits":true}
 * "network" is "none" (no socket at all: seccomp), "namespace" (only a
 * network namespace of its own: no interface, but a socket file is
 * reachable), "allowed" (the spec allows it) or "open" (kept off by
 * nothing); plus "forced":true, and
 * "violation":"system call ptrace" when there was one.
 */
json_t *sg_confine_report_json(const sg_confine_report *rep);

/*
 * The empty per-run folder where a confined child may write (its
 * write_dir): PARENT/.confined-XXXXXX, 0700, made with mkdtemp; *out is
 * its path (free it). SG_OK, SG_ERR_IO (naming PARENT), SG_ERR_NOMEM.
 */
int sg_confine_outdir_create(char **out, const char *parent);

/*
 * Take the child's output DIR/NAME out to DEST (a copy, created O_EXCL
 * 0600: a process the child left behind may still hold DIR/NAME open for
 * writing), then remove DIR with whatever else the child left there
 * (sg_confine_outdir_remove). SG_OK; SG_ERR_IO when DIR/NAME is not a
 * regular file or cannot be copied (DIR is removed all the same).
 */
int sg_confine_outdir_collect(const char *dir, const char *name, const char *dest);

/* Remove DIR and the files in it (the child may make no folder there). NULL-safe. */
void sg_confine_outdir_remove(const char *dir);

/* ==================================================================== */
/*
 * signgate's own process (lib/confine_self.c). signgate parses the
 * vendor's bytes itself (PE and MSI structure, digests, compound files,
 * signatures). After the key helper is started and before the first input
 * is opened, sign, check and verify confine their own process, so that a
 * parser bug that a hostile installer exploits can neither read the key
 * material or its secret, nor reach the key helper, nor send anything out:
 *   - Landlock file rules: it reads the inputs, the files of the config
 *     that decide (the config, policy, trust files, certificates, CRLs),
 *     the system files (libraries, the OpenSSL configuration and CA
 *     certificates, passwd, group and nsswitch for the audit record's
 *     user) and its own /proc entries; it reads and writes the audit log's folder, the output
 *     folders and a work folder of its own (made in $TMPDIR, which is then
 *     set to it, and which it may remove from there); it executes the
 *     libraries, osslsigncode and gpgv. Nothing else: not the key material
 *     nor the password or PIN files (sg_config_secret_files). A process in
 *     a Landlock domain cannot ptrace one outside it (the key helper).
 *   - Network: no socket but AF_UNIX (syslog's /dev/log, nscd, the key
 *     helper's and timestamp fetcher's socket pairs), by seccomp; with
 *     Landlock ABI >= 4 no TCP bind and no TCP connect either. The
 *     timestamp fetcher (tsa_proc.h), started before, asks the TSAs.
 *   - seccomp, failing with ENOSYS (SECCOMP_RET_TRACE without a tracer:
 *     below a child's own filter in precedence, so that the child's
 *     violation is still named): process_vm_*, pidfd_getfd, kcmp, bpf,
 *     kexec, modules, keyctl, personality, perf_event_open, userfaultfd,
 *     io_uring, setns, chroot, pivot_root, umount and the new mount API,
 *     and more (lib/confine_self.c); ptrace too where Landlock does not
 *     already refuse it (EPERM for any process outside the domain) and the
 *     build is not a sanitizer build (LeakSanitizer ptraces the process's
 *     own threads at exit). Not unshare(2) nor mount(2): the children need
 *     them before their own filters (a network namespace; the key files
 *     hidden when signgate's own file rules cannot keep them out).
 * A key or secret file that lies in (or is) a file or folder the run must
 * use cannot be kept out by the rules: "auto" warns (naming it) and the
 * process runs without Landlock file rules (the network and seccomp rules
 * still apply); "required" refuses. "required" also refuses without
 * Landlock or seccomp. What the process had is recorded with each record.
 */

struct sg_config;

/* What one run of signgate uses: sg_confine_self() makes the allow-list of it. */
typedef struct sg_confine_self_run {
	const struct sg_config *cfg; /* NULL: verify --ca (no config) */
	const char *const *inputs;   /* the inputs (files), `n_inputs` of them */
	size_t n_inputs;
	const char *const *out_dirs;    /* folders it writes outputs in (NULL-terminated; NULL) */
	const char *const *trust_files; /* verify --ca: the CA, TSA CA and CRL files; NULL */
} sg_confine_self_run;

/*
 * Confine the calling process for the rest of its life, as above. Call it
 * before any thread is started (Landlock binds the calling thread and the
 * threads it starts later) and after every child that must stay outside
 * (the key helper). Sets $TMPDIR to the run's work folder when Landlock
 * file rules are applied (remove it with sg_confine_self_end()). `warn`
 * (`warn_len` bytes) receives one line for the user when the process runs with
 * less than it could ("" otherwise). Returns SG_OK; SG_ERR_CONFIG when
 * "required" cannot be met ("cannot confine signgate: ..."), SG_ERR_TOOL
 * when the kernel refused a step, SG_ERR_IO for the work folder,
 * SG_ERR_NOMEM.
 */
int sg_confine_self(const sg_confine_self_run *run, char *warn, size_t warn_len);

/* Remove the work folder sg_confine_self() made (it must be empty by then). */
void sg_confine_self_end(void);

/*
 * 1 when signgate's own Landlock file rules are in force: the key material
 * is out of its reach and its children's (they need not hide it), and
 * neither it nor its children may mount or write /proc. Async-signal-safe.
 */
int sg_confine_self_files(void);

/*
 * What the process has, for the audit record's "confinement.signgate" (a new
 * reference; NULL when out of memory), e.g.
 * {"landlock_abi":7,"files":"confined","seccomp":true,"network":"none"};
 * "files": "not confined: REASON" when its file rules are off;
 * "network": "none (AF_UNIX sockets only)", or what is missing;
 * "forced": true when SIGNGATE_CONFINE_FORCE lowered it; the string
 * "not confined: REASON" when it has none of it (or sg_confine_self was not called).
 */
json_t *sg_confine_self_json(void);

#endif

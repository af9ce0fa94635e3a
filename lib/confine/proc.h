/*
 * Running a helper program (osslsigncode) without a shell: posix_spawn by
 * absolute path with an argv array, an explicit minimal environment,
 * O_CLOEXEC pipes for stdin/stdout/stderr, and a bounded run time.
 */
#ifndef SIGNGATE_PROC_H
#define SIGNGATE_PROC_H

#include "signgate/confine.h"

#include <stddef.h>

typedef struct sg_proc_result {
	int exited;      /* 1 when the child exited normally */
	int exit_status; /* its exit status when exited */
	int signo;       /* the signal that ended it, 0 when none */
	int timed_out;   /* 1 when signgate killed it after the time limit */
	char *out;       /* captured stdout, NUL-terminated (never NULL after success) */
	size_t out_len;
	char *err; /* captured stderr, NUL-terminated (never NULL after success) */
	size_t err_len;
} sg_proc_result;

typedef struct sg_proc_spec {
	const char *const *argv; /* argv[0] is the absolute path of the program */
	const char *const
		*envp;          /* NULL-terminated; NULL means {"PATH=/usr/bin:/bin", "LC_ALL=C"} */
	const void *stdin_data; /* written to the child's stdin, then closed; may be a secret */
	size_t stdin_len;       /* at most 65536 bytes (one pipe buffer) */
	int timeout_sec;        /* 0 for no limit */
} sg_proc_spec;

/*
 * Run the program and wait for it, capturing at most 4 MiB of each output
 * stream (the rest is drained and dropped). `out` is filled even when the
 * child fails; the caller judges its status. Returns SG_OK when the child ran
 * to an end (whatever its status), SG_ERR_TOOL when the program is not an
 * absolute path to an executable file or cannot be started, SG_ERR_IO or
 * SG_ERR_NOMEM otherwise. Free `out` with sg_proc_result_free().
 */
int sg_proc_run(sg_proc_result *out, const sg_proc_spec *spec);

/*
 * sg_proc_run(), with the child in a network namespace of its own: no
 * interface but a loopback that is down, so no socket reaches anything, not
 * even 127.0.0.1. The runner forks and, before execve, unshares a user
 * namespace together with the network namespace (also as root: root in a
 * bare network namespace keeps CAP_SYS_ADMIN and could setns() back into
 * the host's), which maps the caller's own uid and gid; a caller that is
 * neither root nor dumpable leaves it unmapped (writing the map would need
 * it to become dumpable) and the child sees itself as 65534, while files
 * are still checked against the real ids. Where no user namespace can be
 * made, root receives a bare network namespace; anyone else receives nothing: the
 * program is not run, SG_ERR_TOOL "cannot keep osslsigncode off the
 * network: unshare(CLONE_NEWUSER|CLONE_NEWNET): REASON". A socket file on
 * the file system is outside any network namespace: a seccomp filter (with
 * no_new_privs; x86-64 and arm64 only) makes socket(2), io_uring_setup(2)
 * and every system call of another ABI fail with EACCES in the child.
 */
int sg_proc_run_offline(sg_proc_result *out, const sg_proc_spec *spec);

/*
 * sg_proc_run_offline(), and the files of `hide` (NULL-terminated; a file
 * that does not exist is skipped) read as empty in the child: it receives a
 * mount namespace of its own (all mounts private) in which /dev/null is
 * bound over each. A file that cannot be hidden so stops the run
 * (SG_ERR_TOOL, "cannot hide the key material from PROGRAM: STEP: REASON").
 * The child of a caller that is not root loses its capabilities at execve
 * and cannot undo the binds; root's child moves on into a further user
 * namespace (root mapped to itself), where the binds are locked. Root
 * without user namespaces (a bare network namespace) could undo them.
 */
int sg_proc_run_offline_hiding(sg_proc_result *out, const sg_proc_spec *spec,
			       const char *const *hide);

/* How sg_proc_run_confined runs a child. */
typedef struct sg_proc_confine {
	const sg_confine_spec *confine; /* what it may do; its exec_paths NULL: argv[0];
					   its name NULL: argv[0]'s last component */
	sg_confine_report *report;      /* filled with what it had; may be NULL */
	int offline;                    /* 1: as sg_proc_run_offline (a network namespace) */
	const char *const *hide;        /* with offline: as sg_proc_run_offline_hiding */
} sg_proc_confine;

/*
 * sg_proc_run() (or, with c->offline, sg_proc_run_offline_hiding()) with
 * the child forked and confined before execve (sg_confine_prepare,
 * sg_confine_apply_child); a seccomp listener, when the kernel gives one,
 * is watched with its output. A child that broke its confinement (a denied
 * system call, its file size or CPU limit) makes it SG_ERR_TOOL
 * "confinement violation in NAME: REASON" (e.g. "system call ptrace",
 * "killed by SIGSYS", "file size limit (SIGXFSZ, N bytes)"), with
 * c->report saying so and `out` freed; a confinement the mode requires and
 * the kernel lacks, SG_ERR_TOOL "cannot confine NAME: ..." (the program is
 * not run).
 */
int sg_proc_run_confined(sg_proc_result *out, const sg_proc_spec *spec, const sg_proc_confine *c);

/* Release the captured output; safe on a zeroed or already-freed result. */
void sg_proc_result_free(sg_proc_result *r);

/*
 * Describe how the child ended, e.g. "exited with status 1",
 * "killed by signal 9", "timed out after 120 s", into buf.
 */
const char *sg_proc_describe(const sg_proc_result *r, int timeout_sec, char *buf, size_t len);

#endif

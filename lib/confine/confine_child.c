/*
 * Confinement of children, the part in and after the child: installing what
 * lib/confine.c prepared, watching the seccomp listener, and the report.
 * See include/signgate/confine.h.
 */
#include "confine_prepared.h"
#include "confine_landlock.h"
#include "signgate/error.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Send `fd` over the socket `sock` (SCM_RIGHTS); async-signal-safe. 0 or an errno. */
static int send_fd(int sock, int fd)
{
	char byte = 'L';
	struct iovec iov = { &byte, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;

	memset(&u, 0, sizeof(u));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return errno;
	return 0;
}

static int fail(const char **step, const char *what)
{
	int err = errno ? errno : EINVAL;

	*step = what;
	return err;
}

/*
 * The deny filter, by user notification when it can (the listener goes to
 * the parent), else killing. A listener exists already when signgate itself
 * runs under one (EBUSY): then the killing filter.
 */
static int install_seccomp(const sg_confine_prepared *p, int notify_sock, const char **step)
{
	int fd, err;

	if (p->notify_prog.filter && notify_sock >= 0) {
		fd = (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER,
				  SECCOMP_FILTER_FLAG_NEW_LISTENER, &p->notify_prog);
		if (fd >= 0) {
			err = send_fd(notify_sock, fd);
			close(fd);
			if (err) {
				*step = "sending the seccomp listener";
				return err;
			}
			return 0;
		}
		if (errno != EBUSY)
			return fail(step, "seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)");
	}
	if (p->kill_prog.filter &&
	    syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->kill_prog) != 0)
		return fail(step, "seccomp(SECCOMP_SET_MODE_FILTER)");
	return 0;
}

int sg_confine_apply_child(const sg_confine_prepared *p, int notify_sock, const char **step)
{
	static const int sigs[] = { SIGXFSZ, SIGXCPU, SIGSYS };
	struct sigaction dfl;
	int err = 0;

	*step = "";
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &dfl, NULL) != 0)
			return fail(step, "sigaction");
	/* Its own session: no terminal, no signals to signgate's process group. */
	if (setsid() < 0)
		return fail(step, "setsid");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return fail(step, "prctl(PR_SET_NO_NEW_PRIVS)");
	for (int i = 0; i < CONFINE_RLIMITS; i++)
		if (setrlimit(p->rlimit_res[i], &p->rlimit_val[i]) != 0)
			return fail(step, "setrlimit");
	if (p->ruleset_fd >= 0) {
		if (syscall(__NR_landlock_restrict_self, p->ruleset_fd, 0) != 0)
			return fail(step, "landlock_restrict_self");
		close(p->ruleset_fd);
	}
	err = install_seccomp(p, notify_sock, step);
	if (notify_sock >= 0)
		close(notify_sock);
	return err;
}

int sg_confine_recv_listener(int sock, int *out_fd)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	ssize_t n;

	*out_fd = -1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			return sg_error_set(SG_ERR_IO, "receiving the seccomp listener: %s",
					    strerror(errno));
	cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(out_fd, CMSG_DATA(cm), sizeof(int));
	return SG_OK;
}

int sg_confine_handle_notify(int listener_fd, pid_t pid, sg_confine_report *rep)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	char *name;

	memset(&req, 0, sizeof(req));
	if (ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0)
		return SG_OK; /* it ended, or the call was interrupted: nothing to judge */
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	if ((pid_t)req.pid != pid)
		kill((pid_t)req.pid, SIGKILL);
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.error = -EPERM;
	(void)ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	if (rep->violation)
		return SG_OK; /* the first one is the one to report */
	name = seccomp_syscall_resolve_num_arch(req.data.arch, req.data.nr);
	rep->violation = 1;
	if (name)
		snprintf(rep->syscall, sizeof(rep->syscall), "%s", name);
	else
		snprintf(rep->syscall, sizeof(rep->syscall), "#%d", req.data.nr);
	snprintf(rep->reason, sizeof(rep->reason), "system call %s", rep->syscall);
	free(name);
	return SG_OK;
}

void sg_confine_report_finish(sg_confine_report *rep, const sg_confine_prepared *p, int exited,
			      int signo)
{
	rep->landlock_abi = p && p->ruleset_fd >= 0 ? p->landlock_abi : 0;
	rep->seccomp = p && p->kill_prog.filter;
	rep->named = rep->named && p && p->notify_prog.filter;
	rep->network = p && p->network;
	rep->no_network = !rep->network && (rep->seccomp || rep->netns);
	rep->rlimits = p != NULL;
	rep->forced = p && p->forced;
	if (rep->violation || exited || !p)
		return;
	rep->violation = 1;
	if (signo == SIGSYS)
		snprintf(rep->reason, sizeof(rep->reason), "killed by SIGSYS");
	else if (signo == SIGXFSZ)
		snprintf(rep->reason, sizeof(rep->reason), "file size limit (SIGXFSZ, %llu bytes)",
			 p->fsize);
	else if (signo == SIGXCPU)
		snprintf(rep->reason, sizeof(rep->reason), "CPU time limit (SIGXCPU, %lu s)",
			 p->cpu_sec);
	else
		rep->violation = 0;
}

json_t *sg_confine_report_json(const sg_confine_report *rep)
{
	json_t *o = json_object();
	const char *net = rep->network   ? "allowed"
			  : rep->seccomp ? "none"
			  : rep->netns   ? "namespace"
					 : "open";
	int bad = !o;

	bad = bad || json_object_set_new(o, "landlock_abi", json_integer(rep->landlock_abi));
	bad = bad || json_object_set_new(o, "seccomp", json_boolean(rep->seccomp));
	bad = bad || json_object_set_new(o, "named", json_boolean(rep->named));
	bad = bad || json_object_set_new(o, "network", json_string(net));
	bad = bad || json_object_set_new(o, "netns", json_boolean(rep->netns));
	bad = bad || json_object_set_new(o, "rlimits", json_boolean(rep->rlimits));
	if (rep->forced)
		bad = bad || json_object_set_new(o, "forced", json_true());
	if (rep->violation)
		bad = bad || json_object_set_new(o, "violation", json_string(rep->reason));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

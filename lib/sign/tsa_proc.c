/*
 * The timestamp fetcher process; see include/signgate/tsa_proc.h.
 *
 * A request, one message on the control socket, with the socket for its
 * reply attached (SCM_RIGHTS):
 *   0   4  magic "SGTQ"
 *   4   1  version, 1
 *   5   1  zero
 *   6   2  the URL's index in the configuration (big-endian)
 *   8   4  timeout in seconds (big-endian), 1..TIMEOUT_MAX
 *   12  4  request length n (big-endian), 1..REQ_MAX
 *   16  n  the TimeStampReq DER
 * The reply, written on the request's own socket (a stream, closed after
 * it), and the fetcher's hello (a message on the control socket, once it
 * is confined) share a header:
 *   0   4  magic "SGTA" (reply) or "SGTH" (hello)
 *   4   1  version, 1
 *   5   1  status: 0 the TSA's body follows (hello: ready); else the
 *          sg_status of the failure, negated, and its message follows
 *   6   2  zero
 *   8   4  payload length p (big-endian)
 *   12  p  the body (at most SG_TS_REPLY_MAX bytes) or the message
 */
#include "signgate/tsa_proc.h"
#include "keyhelper_child.h"
#include "signgate/error.h"
#include "wire.h"
#include "timestamp_internal.h"
#include "key_allow.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAGIC    "SGTQ"
#define REPLY_MAGIC  "SGTA"
#define HELLO_MAGIC  "SGTH"
#define VERSION      1
#define REQ_HEADER   16
#define REPLY_HEADER 12
#define REQ_MAX      (16 * 1024) /* a TimeStampReq is about 100 bytes */
#define TIMEOUT_MAX  3600
#define GRACE_SEC    10 /* the fetcher's own deadline is the request's: this is slack */
#define HELLO_MS     (30 * 1000)
#define EXIT_WAIT_MS (5 * 1000)
#define THREADS_MAX  16 /* requests answered at once; more wait for the control loop */
/* The fetcher's error: its sg_error_last(), so whole by construction. */
#define MESSAGE_MAX  SG_ERROR_MAX

struct sg_tsa {
	int fd;
	pid_t pid;
	char **urls;
	size_t n_urls;
	int *failed; /* per URL, set atomically: it failed every attempt once in this run */
	sg_confine_prepared *confine;
	pthread_mutex_t lock; /* guards what follows */
	int gone;             /* the fetcher ended */
	sg_confine_report report;
	/* Bounded by construction: the longest is 48 bytes and report.reason (160). */
	char why_gone[300];
};

/* One message of header + payload on `fd`: 0, or -1. */
static int send_answer(int fd, const char *magic, int status, const void *payload, size_t len)
{
	unsigned char h[REPLY_HEADER] = { 0 };
	struct iovec iov[2] = { { h, sizeof(h) }, { (void *)payload, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	memcpy(h, magic, 4);
	h[4] = VERSION;
	h[5] = (unsigned char)status;
	sg_wire_put_u32(h + 8, (unsigned long)len);
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)(sizeof(h) + len) ? 0 : -1;
}

/* ---- The fetcher itself (the child) ---- */

/* One request being answered. */
struct job {
	int reply_fd;
	const char *url;
	int timeout_sec;
	unsigned char der[REQ_MAX];
	size_t len;
};

static atomic_int busy;

static int send_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The answer on the request's stream: header, then payload. */
static void stream_answer(int fd, int status, const void *payload, size_t len)
{
	unsigned char h[REPLY_HEADER] = { 0 };

	memcpy(h, REPLY_MAGIC, 4);
	h[4] = VERSION;
	h[5] = (unsigned char)status;
	sg_wire_put_u32(h + 8, (unsigned long)len);
	if (send_all(fd, h, sizeof(h)) == 0 && len > 0)
		send_all(fd, payload, len);
}

static void answer(struct job *j)
{
	unsigned char *body = NULL;
	size_t body_len = 0;
	int error = sg_ts_http_post(&body, &body_len, j->url, j->der, j->len, j->timeout_sec);
	const char *msg = sg_error_last();

	if (error == SG_OK)
		stream_answer(j->reply_fd, 0, body, body_len);
	else
		stream_answer(j->reply_fd, -error, msg, strnlen(msg, MESSAGE_MAX));
	free(body);
	close(j->reply_fd);
	free(j);
}

static void *answer_thread(void *arg)
{
	answer(arg);
	atomic_fetch_sub(&busy, 1);
	return NULL;
}

/* A request's header and body; the job, or NULL for a message out of protocol (dropped). */
static struct job *parse_request(const unsigned char *msg, size_t n, int reply_fd,
				 char *const *urls, size_t n_urls)
{
	unsigned long idx, timeout, len;
	struct job *j;

	if (n < REQ_HEADER || memcmp(msg, REQ_MAGIC, 4) != 0 || msg[4] != VERSION || msg[5])
		return NULL;
	idx = (unsigned long)msg[6] << 8 | msg[7];
	timeout = sg_wire_get_u32(msg + 8);
	len = sg_wire_get_u32(msg + 12);
	if (idx >= n_urls || timeout == 0 || timeout > TIMEOUT_MAX || len == 0 || len > REQ_MAX ||
	    n != REQ_HEADER + len || !(j = calloc(1, sizeof(*j))))
		return NULL;
	j->reply_fd = reply_fd;
	j->url = urls[idx];
	j->timeout_sec = (int)timeout;
	memcpy(j->der, msg + REQ_HEADER, len);
	j->len = len;
	return j;
}

/* The descriptor passed with a message, or -1. */
static int passed_fd(struct msghdr *m)
{
	struct cmsghdr *c = CMSG_FIRSTHDR(m);
	int fd = -1;

	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* Read requests until the control socket closes; each answered on a thread when one is free. */
static void serve(int fd, char *const *urls, size_t n_urls)
{
	static unsigned char msg[REQ_HEADER + REQ_MAX];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;

	for (;;) {
		struct iovec iov = { msg, sizeof(msg) };
		struct msghdr m = { .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf) };
		ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
		int reply_fd = n >= 0 ? passed_fd(&m) : -1;
		struct job *j;
		pthread_t th;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 && reply_fd < 0)
			return;
		j = (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || reply_fd < 0
			    ? NULL
			    : parse_request(msg, (size_t)n, reply_fd, urls, n_urls);
		if (!j) {
			if (reply_fd >= 0)
				close(reply_fd); /* the asker sees the end: out of protocol */
			continue;
		}
		if (atomic_fetch_add(&busy, 1) < THREADS_MAX &&
		    pthread_create(&th, NULL, answer_thread, j) == 0) {
			pthread_detach(th);
			continue;
		}
		atomic_fetch_sub(&busy, 1);
		answer(j);
	}
}

__attribute__((noreturn)) static void child_run(int sock, int other, const sg_tsa *t, pid_t parent)
{
	const char *step = "";
	int fd, e, keep;
	char why[200]; /* bounded: a step's name (a constant) and strerror() */

	close(other);
	sg_kh_keep_ruleset(t->confine);
	keep = sg_kh_ruleset_fd(t->confine);
	sg_kh_reset_signals();
	/* Never outlive signgate, and no core or ptrace by a peer: it is not dumpable. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		_exit(1);
	fd = sg_kh_isolate_fds(sock, 0, &keep, 1);
	if (fd < 0)
		_exit(1);
	e = sg_confine_apply_child(t->confine, -1, &step);
	if (keep >= 0)
		close(keep);
	if (e != 0) {
		snprintf(why, sizeof(why), "cannot confine the timestamp fetcher: %s: %s", step,
			 strerror(e));
		send_answer(fd, HELLO_MAGIC, -SG_ERR_TOOL, why, strlen(why));
		_exit(1);
	}
	if (send_answer(fd, HELLO_MAGIC, 0, NULL, 0) != 0)
		_exit(1);
	serve(fd, t->urls, t->n_urls);
	_exit(0);
}

/* ---- The parent's side ---- */

enum got { GOT_ONE, GOT_NOTHING_IN_TIME, GOT_END, GOT_OUT_OF_PROTOCOL, GOT_NO_MEMORY };

/* Wait for one message on `fd` and read it whole (at most `max` bytes). */
static enum got read_one(unsigned char **out, size_t *out_len, int fd, size_t max, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long long end = sg_wire_now_ms() + timeout_ms;
	ssize_t n;
	int r;

	*out = NULL;
	do {
		long long left = end - sg_wire_now_ms();
		r = poll(&p, 1, left > 0 ? (int)left : 0);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return GOT_NOTHING_IN_TIME;
	do
		n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n <= 0 || (size_t)n < REPLY_HEADER || (size_t)n > max)
		return n <= 0 ? GOT_END : GOT_OUT_OF_PROTOCOL;
	if (!(*out = malloc((size_t)n)))
		return GOT_NO_MEMORY;
	if (recv(fd, *out, (size_t)n, MSG_DONTWAIT) != n) {
		free(*out);
		*out = NULL;
		return GOT_END;
	}
	*out_len = (size_t)n;
	return GOT_ONE;
}

/* Read the answer on a request's stream until its end (at most `max` bytes, within `timeout_ms`).
 */
static enum got read_stream(unsigned char **out, size_t *out_len, int fd, size_t max,
			    int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long long end = sg_wire_now_ms() + timeout_ms;
	unsigned char *buf = malloc(max + 1);
	size_t len = 0;

	*out = NULL;
	if (!buf)
		return GOT_NO_MEMORY;
	for (;;) {
		long long left = end - sg_wire_now_ms();
		ssize_t n;
		int r = poll(&p, 1, left > 0 ? (int)left : 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return GOT_NOTHING_IN_TIME;
		}
		n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return GOT_OUT_OF_PROTOCOL;
		}
	}
	if (len < REPLY_HEADER) {
		free(buf);
		return GOT_END;
	}
	*out = buf;
	*out_len = len;
	return GOT_ONE;
}

/* 1 when the fetcher has hung up its control socket (it ended), waiting up to a second. */
static int hung_up(sg_tsa *t)
{
	struct pollfd p = { .fd = t->fd, .events = POLLRDHUP };
	int r;

	do
		r = poll(&p, 1, 1000);
	while (r < 0 && errno == EINTR);
	return r > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

/* The header of an answer with `magic`: its status, its payload; -1 when out of protocol. */
static int check_answer(const unsigned char *m, size_t len, const char *magic, int *status)
{
	if (memcmp(m, magic, 4) != 0 || m[4] != VERSION || m[6] || m[7] ||
	    sg_wire_get_u32(m + 8) != len - REPLY_HEADER)
		return -1;
	*status = m[5];
	/* A failure is an sg_status, negated, with its message. */
	return *status == 0 || *status <= -SG_ERR_EXISTS ? 0 : -1;
}

/*
 * The fetcher ended (its socket closed): wait for it (bounded), and keep
 * why, a confinement violation by name. Called with t->lock held.
 */
static void note_gone(sg_tsa *t)
{
	long long end = sg_wire_now_ms() + EXIT_WAIT_MS;
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	int st = 0;
	pid_t r;

	if (t->gone)
		return;
	t->gone = 1;
	while ((r = waitpid(t->pid, &st, WNOHANG)) == 0 && sg_wire_now_ms() < end)
		nanosleep(&tick, NULL);
	if (r != t->pid) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &st, 0);
	}
	sg_confine_report_finish(&t->report, t->confine, WIFEXITED(st),
				 WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	if (t->report.violation)
		snprintf(t->why_gone, sizeof(t->why_gone),
			 "confinement violation in the timestamp fetcher: %s", t->report.reason);
	else if (WIFSIGNALED(st))
		snprintf(t->why_gone, sizeof(t->why_gone),
			 "the timestamp fetcher (pid %d) was killed by signal %d", (int)t->pid,
			 WTERMSIG(st));
	else
		snprintf(t->why_gone, sizeof(t->why_gone),
			 "the timestamp fetcher (pid %d) ended with status %d", (int)t->pid,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int gone_error(sg_tsa *t, const char *url)
{
	char why[sizeof(t->why_gone)];

	pthread_mutex_lock(&t->lock);
	note_gone(t);
	snprintf(why, sizeof(why), "%s", t->why_gone);
	pthread_mutex_unlock(&t->lock);
	return sg_error_set(SG_ERR_TOOL, "%s: no answer: %s", url, why);
}

/* The hello: the fetcher is confined and ready, or why it cannot be. */
static int read_hello(sg_tsa *t)
{
	unsigned char *m = NULL;
	size_t len = 0;
	int status = 0, error;
	enum got got = read_one(&m, &len, t->fd, REPLY_HEADER + MESSAGE_MAX, HELLO_MS);

	if (got == GOT_ONE && check_answer(m, len, HELLO_MAGIC, &status) == 0 && status == 0)
		error = SG_OK;
	else if (got == GOT_ONE && check_answer(m, len, HELLO_MAGIC, &status) == 0)
		error = sg_error_set(-status, "%.*s", (int)(len - REPLY_HEADER),
				     (const char *)m + REPLY_HEADER);
	else if (got == GOT_END)
		error = gone_error(t, "the timestamp fetcher");
	else
		error = sg_error_set(SG_ERR_TOOL, "the timestamp fetcher did not say it is ready");
	free(m);
	return error;
}

static void tsa_free(sg_tsa *t)
{
	for (size_t i = 0; t->urls && i < t->n_urls; i++)
		free(t->urls[i]);
	free(t->urls);
	free(t->failed);
	sg_confine_prepared_free(t->confine);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static sg_tsa *tsa_new(const sg_config *cfg)
{
	sg_tsa *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fd = -1;
	pthread_mutex_init(&t->lock, NULL);
	t->urls = calloc(cfg->n_timestamp_urls, sizeof(char *));
	t->failed = calloc(cfg->n_timestamp_urls, sizeof(int));
	for (size_t i = 0; t->urls && i < cfg->n_timestamp_urls; i++, t->n_urls++)
		if (!(t->urls[i] = strdup(cfg->timestamp_urls[i])))
			break;
	if (!t->urls || !t->failed || t->n_urls != cfg->n_timestamp_urls) {
		tsa_free(t);
		return NULL;
	}
	return t;
}

int sg_tsa_start(sg_tsa **out, const sg_config *cfg)
{
	sg_tsa *t;
	int sv[2], error;
	pid_t parent = getpid();

	*out = NULL;
	if (cfg->n_timestamp_urls == 0)
		return SG_OK;
	if (cfg->n_timestamp_urls > 0xffff)
		return sg_error_set(SG_ERR_CONFIG, "too many timestamp URLs");
	if (!(t = tsa_new(cfg)))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = sg_tsa_allow_prepare(&t->confine);
	if (error == SG_OK && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		error = sg_error_set(SG_ERR_IO, "cannot make the timestamp fetcher's socket: %s",
				     strerror(errno));
	if (error != SG_OK) {
		tsa_free(t);
		return error;
	}
	t->pid = fork();
	if (t->pid == 0)
		child_run(sv[1], sv[0], t, parent);
	close(sv[1]);
	t->fd = sv[0];
	if (t->pid < 0)
		error = sg_error_set(SG_ERR_IO, "cannot start the timestamp fetcher: %s",
				     strerror(errno));
	else
		error = read_hello(t);
	if (error != SG_OK) {
		sg_tsa_stop(t);
		return error;
	}
	sg_confine_report_finish(&t->report, t->confine, 1, 0);
	*out = t;
	return SG_OK;
}

/* Send the request with its reply socket `reply_fd` attached; 0 or -1. */
static int send_request(sg_tsa *t, size_t idx, const unsigned char *req, size_t len,
			int timeout_sec, int reply_fd)
{
	unsigned char h[REQ_HEADER] = { 0 };
	struct iovec iov[2] = { { h, sizeof(h) }, { (void *)req, len } };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr m = { .msg_iov = iov,
			    .msg_iovlen = 2,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n;

	memset(&ctl, 0, sizeof(ctl));
	memcpy(h, REQ_MAGIC, 4);
	h[4] = VERSION;
	h[6] = (unsigned char)(idx >> 8);
	h[7] = (unsigned char)idx;
	sg_wire_put_u32(h + 8, (unsigned long)timeout_sec);
	sg_wire_put_u32(h + 12, (unsigned long)len);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &reply_fd, sizeof(int));
	do
		n = sendmsg(t->fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)(sizeof(h) + len) ? 0 : -1;
}

/* The answer to a request: the body, or the fetcher's error with its message. */
static int take_answer(unsigned char **reply, size_t *reply_len, unsigned char *m, size_t len,
		       const char *url)
{
	int status = 0;

	if (check_answer(m, len, REPLY_MAGIC, &status) != 0 ||
	    (status != 0 && len - REPLY_HEADER > MESSAGE_MAX)) {
		free(m);
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the timestamp fetcher answered out of protocol", url);
	}
	if (status != 0) {
		int error = sg_error_set(-status, "%.*s", (int)(len - REPLY_HEADER),
					 (const char *)m + REPLY_HEADER);
		free(m);
		return error;
	}
	/* The body moves to the front of the buffer. */
	memmove(m, m + REPLY_HEADER, len - REPLY_HEADER);
	*reply = m;
	*reply_len = len - REPLY_HEADER;
	return SG_OK;
}

int sg_tsa_fetch(sg_tsa *t, size_t url_index, const unsigned char *req, size_t req_len,
		 int timeout_sec, unsigned char **reply, size_t *reply_len)
{
	const char *url = sg_tsa_url(t, url_index);
	unsigned char *m = NULL;
	size_t len = 0;
	enum got got;
	int sv[2];

	*reply = NULL;
	*reply_len = 0;
	if (!url || !req || req_len == 0 || req_len > REQ_MAX || timeout_sec <= 0 ||
	    timeout_sec > TIMEOUT_MAX)
		return sg_error_set(SG_ERR_USAGE, "%s: not a request for the timestamp fetcher",
				    url ? url : "(no TSA URL)");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return sg_error_set(SG_ERR_IO,
				    "%s: cannot make a socket for the timestamp "
				    "fetcher's answer: %s",
				    url, strerror(errno));
	if (send_request(t, url_index, req, req_len, timeout_sec, sv[1]) != 0) {
		close(sv[0]);
		close(sv[1]);
		return gone_error(t, url);
	}
	close(sv[1]);
	got = read_stream(&m, &len, sv[0], REPLY_HEADER + SG_TS_REPLY_MAX,
			  (timeout_sec + GRACE_SEC) * 1000);
	close(sv[0]);
	switch (got) {
	case GOT_ONE: return take_answer(reply, reply_len, m, len, url);
	case GOT_NOTHING_IN_TIME:
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the timestamp fetcher did not answer within %d s", url,
				    timeout_sec + GRACE_SEC);
	case GOT_END:
		if (hung_up(t))
			return gone_error(t, url);
		return sg_error_set(SG_ERR_TOOL, "%s: the timestamp fetcher gave no answer", url);
	case GOT_NO_MEMORY: return sg_error_set(SG_ERR_NOMEM, "out of memory");
	default:
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the timestamp fetcher answered out of protocol", url);
	}
}

const char *sg_tsa_url(const sg_tsa *t, size_t i)
{
	return t && i < t->n_urls ? t->urls[i] : NULL;
}

int *sg_tsa_failed(sg_tsa *t)
{
	return t ? t->failed : NULL;
}

int sg_tsa_gone(sg_tsa *t)
{
	int gone;

	if (!t)
		return 1;
	pthread_mutex_lock(&t->lock);
	gone = t->gone;
	pthread_mutex_unlock(&t->lock);
	return gone;
}

pid_t sg_tsa_pid(const sg_tsa *t)
{
	return t->pid;
}

void sg_tsa_confinement(sg_tsa *t, sg_confine_report *out)
{
	pthread_mutex_lock(&t->lock);
	*out = t->report;
	pthread_mutex_unlock(&t->lock);
}

void sg_tsa_stop(sg_tsa *t)
{
	if (!t)
		return;
	if (t->fd >= 0) {
		shutdown(t->fd, SHUT_RDWR);
		close(t->fd);
	}
	if (t->pid > 0) {
		pthread_mutex_lock(&t->lock);
		note_gone(t);
		pthread_mutex_unlock(&t->lock);
	}
	tsa_free(t);
}

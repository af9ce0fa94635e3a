/*
 * The key helper process, the parent's side; see include/signgate/keyhelper.h
 * and, for the helper and the reply format, keyhelper_child.c and
 * keyhelper_internal.h.
 */
#include "keyhelper_child.h"
#include "key_source.h"
#include "signgate/error.h"
#include "wire.h"
#include "signgate/keyhelper.h"
#include "signgate/secret.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#define REPLY_TIMEOUT_MS  (120 * 1000) /* a PKCS#11 token can be slow */
#define PROMPT_TIMEOUT_MS (600 * 1000) /* the hello, when a person types the secret */
#define EXIT_WAIT_MS      (10 * 1000)
#define MESSAGE_SHOWN     1000 /* at most this much of a helper's message */

struct sg_keyhelper {
	int fd;
	pid_t pid;
	pthread_mutex_t lock;
	int broken; /* out of step with the helper: no more requests */
	unsigned long count;
	X509 *cert;
	STACK_OF(X509) * chain;
	sg_cert_info info;
	const char *key_source;   /* its key source's name (lib/key_source.h); "" when unknown */
	sg_confine_report report; /* what the helper applied; under `lock` once it runs */
	int report_no_files;      /* its second layer: no file once the key is open */
	int ended;                /* reaped: `status` holds how it ended */
	int status;
};

/* One reply or the hello, read from the socket. */
typedef struct msg {
	unsigned char *buf; /* the whole message, plus a NUL after it */
	size_t len;
	int status;
	unsigned long word;
	const unsigned char *payload;
	size_t payload_len;
} msg;

/* Wait until a message is there; SG_OK, or SG_ERR_TOOL on a timeout. */
static int wait_readable(int fd, int timeout_ms)
{
	long long end = sg_wire_now_ms() + timeout_ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	for (;;) {
		long long left = end - sg_wire_now_ms();
		n = poll(&p, 1, left > 0 ? (int)left : 0);
		if (n > 0)
			return SG_OK;
		if (n == 0)
			return sg_error_set(SG_ERR_TOOL,
					    "the key helper did not answer within %d s",
					    timeout_ms / 1000);
		if (errno != EINTR)
			return sg_error_set(SG_ERR_TOOL, "the key helper's socket: %s",
					    strerror(errno));
	}
}

/* The next message's length, from a peek (MSG_TRUNC: the whole length). */
static int next_length(int fd, size_t *len)
{
	ssize_t n;

	do
		n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sg_error_set(SG_ERR_TOOL, "the key helper's socket: %s", strerror(errno));
	if (n == 0)
		return sg_error_set(SG_ERR_TOOL, "the key helper closed its socket (it ended)");
	*len = (size_t)n;
	return SG_OK;
}

/* Read one message with `magic`, at most SG_KH_MSG_MAX bytes, and check its header. */
static int read_msg(msg *m, int fd, const char *magic, int timeout_ms)
{
	int error = wait_readable(fd, timeout_ms);
	unsigned char drop;

	memset(m, 0, sizeof(*m));
	if (error == SG_OK)
		error = next_length(fd, &m->len);
	if (error != SG_OK)
		return error;
	if (m->len < SG_KH_MSG_HEADER || m->len > SG_KH_MSG_MAX) {
		recv(fd, &drop, 1, MSG_DONTWAIT);
		return sg_error_set(SG_ERR_TOOL, "the key helper sent a message of %zu bytes",
				    m->len);
	}
	m->buf = malloc(m->len + 1);
	if (!m->buf)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (recv(fd, m->buf, m->len, MSG_DONTWAIT) != (ssize_t)m->len)
		return sg_error_set(SG_ERR_TOOL, "the key helper's socket: a short read");
	m->buf[m->len] = '\0';
	m->status = m->buf[5];
	m->word = sg_wire_get_u32(m->buf + 8);
	m->payload = m->buf + SG_KH_MSG_HEADER;
	m->payload_len = sg_wire_get_u32(m->buf + 12);
	if (memcmp(m->buf, magic, 4) != 0 || m->buf[4] != SG_KEYHELPER_VERSION ||
	    m->status > SG_KH_STATUS_FAILED || m->buf[6] || m->buf[7] ||
	    m->payload_len != m->len - SG_KH_MSG_HEADER)
		return sg_error_set(SG_ERR_TOOL, "the key helper answered out of protocol");
	return SG_OK;
}

static void msg_free(msg *m)
{
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

/* The certificates of a ready hello: the leaf, then the chain, each DER, nothing else. */
static int take_certs(sg_keyhelper *kh, const msg *m)
{
	const unsigned char *p = m->payload, *end = m->payload + m->payload_len;
	X509 *x;

	kh->chain = sk_X509_new_null();
	while (kh->chain && p < end && (x = d2i_X509(NULL, &p, end - p)) != NULL) {
		if (!kh->cert)
			kh->cert = x;
		else if (!sk_X509_push(kh->chain, x))
			X509_free(x);
	}
	ERR_clear_error();
	if (!kh->chain)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!kh->cert || p != end)
		return sg_error_set(SG_ERR_TOOL, "the key helper's hello holds no certificates");
	return sg_cert_info_from_x509(&kh->info, kh->cert);
}

/* The hello: the certificates, or the error of the helper's checks, code and message. */
static int read_hello(sg_keyhelper *kh, int timeout_ms)
{
	msg m;
	int error = read_msg(&m, kh->fd, SG_KH_HELLO_MAGIC, timeout_ms);

	if (error == SG_OK && m.status == SG_KH_STATUS_OK && m.word == 0)
		error = take_certs(kh, &m);
	else if (error == SG_OK && m.status == SG_KH_STATUS_FAILED && m.word > 0 &&
		 m.word <= (unsigned long)-SG_ERR_EXISTS)
		error = sg_error_set(-(int)m.word, "%.*s", MESSAGE_SHOWN, (const char *)m.payload);
	else if (error == SG_OK)
		error = sg_error_set(SG_ERR_TOOL, "the key helper answered out of protocol");
	msg_free(&m);
	return error;
}

/* A death by a signal its confinement sends is a violation. */
static void note_violation(sg_confine_report *r, int signo)
{
	const char *why = signo == SIGSYS    ? "killed by SIGSYS"
			  : signo == SIGXFSZ ? "file size limit (SIGXFSZ)"
			  : signo == SIGXCPU ? "CPU time limit (SIGXCPU)"
					     : NULL;

	if (!why || r->violation)
		return;
	r->violation = 1;
	snprintf(r->reason, sizeof(r->reason), "%s", why);
}

/*
 * Wait (bounded) for the helper to end, SIGKILL after `wait_ms`, and keep
 * how it ended; a death by SIGSYS (seccomp) is a confinement violation in
 * kh->report. Returns 0 when it is reaped. Called with no other waiter.
 */
static int wait_end(sg_keyhelper *kh, long long wait_ms, int *killed)
{
	long long end = sg_wire_now_ms() + wait_ms;
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	int st = 0;
	pid_t r;

	*killed = 0;
	if (kh->ended)
		return 0;
	while ((r = waitpid(kh->pid, &st, WNOHANG)) == 0 && sg_wire_now_ms() < end)
		nanosleep(&tick, NULL);
	if (r == 0) {
		kill(kh->pid, SIGKILL);
		*killed = 1;
		while ((r = waitpid(kh->pid, &st, 0)) < 0 && errno == EINTR)
			;
	}
	if (r < 0)
		return -1;
	kh->ended = 1;
	kh->status = st;
	if (!*killed && WIFSIGNALED(st))
		note_violation(&kh->report, WTERMSIG(st));
	return 0;
}

/* What confinement the helper applied (keyhelper_internal.h). */
static int read_confined(sg_keyhelper *kh, int timeout_ms)
{
	msg m;
	int error = read_msg(&m, kh->fd, SG_KH_CONF_MAGIC, timeout_ms);
	const unsigned char *c = m.payload;

	if (error == SG_OK && (m.status != SG_KH_STATUS_OK || m.payload_len != SG_KH_CONF_LEN))
		error = sg_error_set(SG_ERR_TOOL, "the key helper answered out of protocol");
	if (error == SG_OK) {
		kh->report.landlock_abi = c[0];
		kh->report.seccomp = c[1];
		kh->report.named = c[2];
		kh->report.no_network = c[3];
		kh->report.netns = c[4];
		kh->report.rlimits = c[5];
		kh->report.forced = c[6];
		kh->report_no_files = c[7];
		kh->report.network = c[8];
	}
	msg_free(&m);
	return error;
}

/* Wait (bounded) for the helper to end; SIGKILL after EXIT_WAIT_MS. */
static int reap(sg_keyhelper *kh)
{
	int killed, st, error = wait_end(kh, EXIT_WAIT_MS, &killed);
	pid_t pid = kh->pid;

	if (error)
		return sg_error_set(SG_ERR_TOOL, "the key helper (pid %d): %s", (int)pid,
				    strerror(errno));
	if (killed)
		return sg_error_set(SG_ERR_TOOL,
				    "the key helper (pid %d) did not end within %d s "
				    "and was killed",
				    (int)pid, EXIT_WAIT_MS / 1000);
	st = kh->status;
	if (kh->report.violation)
		return sg_error_set(SG_ERR_TOOL, "confinement violation in the key helper: %s",
				    kh->report.reason);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return SG_OK;
	if (WIFSIGNALED(st))
		return sg_error_set(SG_ERR_TOOL, "the key helper (pid %d) was killed by signal %d",
				    (int)pid, WTERMSIG(st));
	return sg_error_set(SG_ERR_TOOL, "the key helper (pid %d) exited with status %d", (int)pid,
			    WEXITSTATUS(st));
}

/*
 * A request or the hello failed: when the helper has hung up, it ended;
 * a confinement violation replaces the message (the error stays `error`).
 */
static int maybe_violation(sg_keyhelper *kh, int error)
{
	struct pollfd p = { .fd = kh->fd, .events = POLLRDHUP };
	int killed;

	if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLHUP | POLLRDHUP | POLLERR)))
		return error;
	if (wait_end(kh, 1000, &killed) != 0 || killed || !kh->report.violation)
		return error;
	return sg_error_set(error, "confinement violation in the key helper: %s",
			    kh->report.reason);
}

static void kh_free(sg_keyhelper *kh)
{
	X509_free(kh->cert);
	sk_X509_pop_free(kh->chain, X509_free);
	pthread_mutex_destroy(&kh->lock);
	free(kh);
}

int sg_keyhelper_stop(sg_keyhelper *kh, unsigned long *count)
{
	int error;

	if (count)
		*count = kh ? kh->count : 0;
	if (!kh)
		return SG_OK;
	shutdown(kh->fd, SHUT_RDWR);
	close(kh->fd);
	error = reap(kh);
	kh_free(kh);
	return error;
}

/* Start failed after the fork: stop the helper, keeping the first error. */
static int abandon(sg_keyhelper *kh, int error)
{
	char why[SG_ERROR_MAX];

	snprintf(why, sizeof(why), "%s", sg_error_last());
	shutdown(kh->fd, SHUT_RDWR);
	close(kh->fd);
	reap(kh);
	kh_free(kh);
	return sg_error_set(error, "%s", why);
}

/* The name of the key source of `cfg`'s signing key, a string of the table; "" when none. */
static const char *key_source_name(const sg_config *cfg)
{
	const sg_key_source_ops *ks = NULL;
	sg_key_view v;

	sg_key_view_signing(&v, cfg);
	if (sg_key_source_find(&ks, &v) != SG_OK) {
		sg_error_clear();
		return "";
	}
	return ks->name;
}

static int start(sg_keyhelper **out, const sg_config *cfg, unsigned long max_signatures,
		 int identify_only)
{
	sg_keyhelper *kh = calloc(1, sizeof(*kh));
	int sv[2], error;
	pid_t parent = getpid();

	*out = NULL;
	if (!kh)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (pthread_mutex_init(&kh->lock, NULL) != 0) {
		free(kh);
		return sg_error_set(SG_ERR_NOMEM, "cannot make a mutex");
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		error = sg_error_set(SG_ERR_IO, "cannot make the key helper's socket: %s",
				     strerror(errno));
		kh_free(kh);
		return error;
	}
	/* Which key source the helper opens (the helper says why, should it be none). */
	kh->key_source = key_source_name(cfg);
	/* The kernel is probed here (a probe forks): the helper inherits the answer. */
	(void)sg_confine_probe();
	kh->pid = fork();
	if (kh->pid == 0)
		sg_kh_child_run(sv[1], sv[0], cfg, max_signatures, identify_only, parent);
	close(sv[1]);
	kh->fd = sv[0];
	if (kh->pid < 0) {
		error = sg_error_set(SG_ERR_IO, "cannot start the key helper: %s", strerror(errno));
		close(kh->fd);
		kh_free(kh);
		return error;
	}
	/* The helper has its own copy of the environment: ours must not keep the secret. */
	sg_secret_scrub_env(&cfg->secret);
	error = read_confined(kh, cfg->secret.prompt ? PROMPT_TIMEOUT_MS : REPLY_TIMEOUT_MS);
	if (error == SG_OK)
		error = read_hello(kh, REPLY_TIMEOUT_MS);
	if (error != SG_OK)
		return abandon(kh, maybe_violation(kh, error));
	*out = kh;
	return SG_OK;
}

const char *sg_keyhelper_key_source(const sg_keyhelper *kh)
{
	return kh->key_source;
}

int sg_keyhelper_start(sg_keyhelper **out, const sg_config *cfg, unsigned long max_signatures)
{
	return start(out, cfg, max_signatures, 0);
}

int sg_keyhelper_identify(sg_cert_info *out, const sg_config *cfg)
{
	sg_keyhelper *kh = NULL;
	int error = start(&kh, cfg, 0, 1);

	if (error == SG_OK)
		*out = kh->info;
	/* The helper exits by itself after its hello. */
	sg_keyhelper_stop(kh, NULL);
	return error;
}

const sg_cert_info *sg_keyhelper_signer(const sg_keyhelper *kh)
{
	return &kh->info;
}

X509 *sg_keyhelper_cert(const sg_keyhelper *kh)
{
	return kh->cert;
}

STACK_OF(X509) * sg_keyhelper_chain(const sg_keyhelper *kh)
{
	return kh->chain;
}

pid_t sg_keyhelper_pid(const sg_keyhelper *kh)
{
	return kh->pid;
}

void sg_keyhelper_confinement(sg_keyhelper *kh, sg_confine_report *out, int *no_files)
{
	pthread_mutex_lock(&kh->lock);
	*out = kh->report;
	if (no_files)
		*no_files = kh->report_no_files;
	pthread_mutex_unlock(&kh->lock);
}

/* Send one request and read its reply; the caller holds the lock. */
static int exchange(sg_keyhelper *kh, const void *req, size_t len, msg *m)
{
	ssize_t n;
	int error;

	if (kh->broken)
		return sg_error_set(SG_ERR_TOOL, "the key helper is out of use after an earlier "
						 "failure");
	do
		n = send(kh->fd, req, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		error = sg_error_set(SG_ERR_TOOL, "cannot send to the key helper: %s",
				     n < 0 ? strerror(errno) : "a short write");
	else
		error = read_msg(m, kh->fd, SG_KH_REPLY_MAGIC, REPLY_TIMEOUT_MS);
	/* A signature counts once: the count goes up by one with each, and only then. */
	if (error == SG_OK && m->word != kh->count + (m->status == SG_KH_STATUS_OK ? 1 : 0))
		error = sg_error_set(SG_ERR_TOOL, "the key helper's count went from %lu to %lu",
				     kh->count, m->word);
	if (error == SG_OK)
		kh->count = m->word;
	else
		kh->broken = 1;
	if (error != SG_OK)
		error = maybe_violation(kh, error);
	return error;
}

int sg_keyhelper_exchange_raw(sg_keyhelper *kh, const void *req, size_t len, int *status,
			      unsigned long *count, unsigned char **payload, size_t *payload_len)
{
	msg m = { 0 };
	int error;

	*payload = NULL;
	*payload_len = 0;
	pthread_mutex_lock(&kh->lock);
	error = exchange(kh, req, len, &m);
	pthread_mutex_unlock(&kh->lock);
	if (error != SG_OK) {
		msg_free(&m);
		return error;
	}
	*status = m.status;
	*count = m.word;
	*payload_len = m.payload_len;
	/* The payload moves to the front of the buffer, still NUL-terminated. */
	memmove(m.buf, m.payload, m.payload_len + 1);
	*payload = m.buf;
	return SG_OK;
}

int sg_keyhelper_sign(sg_keyhelper *kh, const sg_keyhelper_request *req, unsigned char **der,
		      size_t *der_len, unsigned long *count)
{
	unsigned char wire[SG_KEYHELPER_REQUEST_MAX], *payload;
	size_t len, payload_len;
	int status, error;

	*der = NULL;
	*der_len = 0;
	error = sg_keyhelper_request_encode(wire, sizeof(wire), &len, req);
	if (error == SG_OK)
		error = sg_keyhelper_exchange_raw(kh, wire, len, &status, count, &payload,
						  &payload_len);
	if (error != SG_OK)
		return error;
	if (status == SG_KH_STATUS_OK && payload_len > 0) {
		*der = payload;
		*der_len = payload_len;
		return SG_OK;
	}
	if (status == SG_KH_STATUS_OK)
		error = sg_error_set(SG_ERR_TOOL, "the key helper signed nothing");
	else
		error = sg_error_set(status == SG_KH_STATUS_REFUSED ? SG_ERR_USAGE : SG_ERR_CRYPTO,
				     "the key helper %s: %.*s",
				     status == SG_KH_STATUS_REFUSED ? "refused the request"
								    : "could not sign",
				     MESSAGE_SHOWN, (const char *)payload);
	free(payload);
	return error;
}

/*
 * The key helper itself: the child that sg_keyhelper_start() forks. It
 * holds nothing but its socket, stdin (when a prompt may ask for the
 * secret), stdout on /dev/null and stderr; obtains the secret; opens and
 * checks the key as sg_signer_load() does; says hello; then signs
 * Authenticode digests, one request a message, until the socket closes.
 * After its setup it opens nothing, and it writes only to its socket.
 */
#include "keyhelper_child.h"
#include "confine_prepared.h"
#include "key_allow.h"
#include "key_source.h"
#include "signgate/authenticode_sign.h"
#include "signgate/error.h"
#include "signgate/keyhelper.h"
#include "signgate/keys.h"
#include "signgate/secret.h"
#include "signgate/signer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

typedef struct helper {
	int fd;
	sg_secret secret;
	sg_key_material km;
	sg_key token; /* a token's key, opened through its key source's row */
	unsigned long count, max;
	sg_confine_report confined; /* what it applied (lib/key_allow.c) */
	int no_files;               /* it gave up all file access once the key was open */
} helper;

void sg_kh_header(unsigned char *h, const char *magic, int status, unsigned long word,
		  size_t payload_len)
{
	memcpy(h, magic, 4);
	h[4] = SG_KEYHELPER_VERSION;
	h[5] = (unsigned char)status;
	h[6] = h[7] = 0;
	for (int i = 0; i < 4; i++) {
		h[8 + i] = (unsigned char)(word >> (24 - 8 * i));
		h[12 + i] = (unsigned char)(payload_len >> (24 - 8 * i));
	}
}

/* One message: the header and `len` bytes of payload. 0, or -1 when the parent is gone. */
static int send_msg(int fd, const char *magic, int status, unsigned long word, const void *payload,
		    size_t len)
{
	unsigned char h[SG_KH_MSG_HEADER];
	struct iovec iov[2] = { { h, sizeof(h) }, { (void *)payload, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	sg_kh_header(h, magic, status, word, len);
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)(sizeof(h) + len) ? 0 : -1;
}

static int send_text(int fd, const char *magic, int status, unsigned long word, const char *text)
{
	return send_msg(fd, magic, status, word, text, strlen(text));
}

/*
 * Signals as a fresh process has them: the parent's handlers (which would
 * run here on its copy of its state) go, and nothing stays blocked.
 */
void sg_kh_reset_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGALRM };
	sigset_t none;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa;

		if (sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler != SIG_IGN) {
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = SIG_DFL;
			sigaction(sigs[i], &sa, NULL);
		}
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int kept(int fd, const int *keep, size_t n_keep)
{
	for (size_t i = 0; i < n_keep; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

/* Close every descriptor from `lowest` up, but those of `keep`. */
static void close_from(int lowest, const int *keep, size_t n_keep)
{
	struct rlimit lim;
	int from = lowest;

	for (int fd = lowest; fd < 1024; fd++) {
		if (!kept(fd, keep, n_keep))
			continue;
		if (fd > from && close_range((unsigned int)from, (unsigned int)fd - 1, 0) != 0)
			break;
		from = fd + 1;
	}
	if (close_range((unsigned int)from, ~0U, 0) == 0)
		return;
	/* Kernels before 5.9: every descriptor number the limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
		lim.rlim_cur = 65536;
	for (rlim_t fd = (rlim_t)lowest; fd < lim.rlim_cur; fd++)
		if (!kept((int)fd, keep, n_keep))
			close((int)fd);
}

int sg_kh_ruleset_fd(const sg_confine_prepared *p)
{
	return p ? p->ruleset_fd : -1;
}

/* A descriptor to keep, moved off SG_KH_CHILD_FD (where the socket goes). */
static int off_socket_fd(int fd)
{
	return fd == SG_KH_CHILD_FD ? fcntl(fd, F_DUPFD_CLOEXEC, SG_KH_CHILD_FD + 1) : fd;
}

void sg_kh_keep_ruleset(const sg_confine_prepared *p)
{
	/* The child's own copy of the parent's memory: changing it affects no one else. */
	sg_confine_prepared *mine = (sg_confine_prepared *)p;

	if (mine)
		mine->ruleset_fd = off_socket_fd(mine->ruleset_fd);
}

/*
 * Keep the socket (moved to SG_KH_CHILD_FD), stdin when a prompt may be
 * needed, stderr, and /dev/null on stdout (and on stdin otherwise), so
 * that no later open can land on 0 or 1; and the descriptors of `keep`
 * (the confinement's, not yet applied); close everything else. Returns
 * the socket, or -1.
 */
int sg_kh_isolate_fds(int sock, int keep_stdin, const int *keep, size_t n_keep)
{
	int null;

	if (kept(SG_KH_CHILD_FD, keep, n_keep))
		return -1;
	if (sock != SG_KH_CHILD_FD) {
		if (dup2(sock, SG_KH_CHILD_FD) < 0)
			return -1;
		close(sock);
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 1) < 0 || (!keep_stdin && dup2(null, 0) < 0))
		return -1;
	if (null > 2)
		close(null);
	close_from(SG_KH_CHILD_FD + 1, keep, n_keep);
	return SG_KH_CHILD_FD;
}

/*
 * mlock() does not pass over fork(): a secure heap the parent set up is not
 * locked in this process. Release it (it must be unused) so that
 * sg_secret_protect_process() makes a locked one of our own.
 */
static int fresh_secure_heap(void)
{
	if (CRYPTO_secure_malloc_initialized() && CRYPTO_secure_malloc_done() != 1)
		return sg_error_set(SG_ERR_IO,
				    "the key helper cannot set up its own locked secure heap: the "
				    "parent's holds data (start the key helper before any secret "
				    "or key is read)");
	return SG_OK;
}

/*
 * libp11 and the module print the token's own words ("Login failed") on
 * stderr: while the key loads, stderr is a pipe (non-blocking: a flood is
 * dropped, not waited on), and the words join the error message instead.
 */
static int catch_stderr(int *saved, int *pipe_read)
{
	int p[2];

	*saved = *pipe_read = -1;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	*saved = dup(2);
	if (*saved < 0 || dup2(p[1], 2) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	*pipe_read = p[0];
	return 0;
}

/* Star out every copy of pattern in buf[0..n), and a start of it cut off at the end. */
static void star_out(char *buf, size_t n, const char *pattern, size_t plen)
{
	if (plen == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		size_t k = n - i < plen ? n - i : plen;

		if (memcmp(buf + i, pattern, k) == 0)
			memset(buf + i, '*', k);
	}
}

/*
 * A module or engine that echoes the PIN (a debugging module, pkcs11-spy)
 * must not carry it into our message and the audit record: its bytes, and
 * their hex in either case, are starred out of what was caught.
 */
static void scrub_secret(char *said, size_t n, const sg_secret *pin)
{
	static const char *const digits[] = { "0123456789abcdef", "0123456789ABCDEF" };
	char *hex;

	if (!pin || !pin->data || pin->len == 0)
		return;
	star_out(said, n, pin->data, pin->len);
	if (!(hex = OPENSSL_secure_malloc(2 * pin->len + 1)))
		return;
	for (size_t d = 0; d < 2; d++) {
		for (size_t i = 0; i < pin->len; i++) {
			hex[2 * i] = digits[d][(unsigned char)pin->data[i] >> 4];
			hex[2 * i + 1] = digits[d][(unsigned char)pin->data[i] & 0xf];
		}
		star_out(said, n, hex, 2 * pin->len);
	}
	OPENSSL_secure_clear_free(hex, 2 * pin->len + 1);
}

/*
 * Put stderr back; on `error`, add what was caught, one line after another,
 * to the message, with the PIN starred out.
 */
static int release_stderr(int saved, int pipe_read, int error, const sg_secret *pin)
{
	char said[512], words[700], msg[SG_ERROR_MAX];
	ssize_t n = -1;
	size_t w = 0;

	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
	if (pipe_read >= 0) {
		n = read(pipe_read, said, sizeof(said));
		close(pipe_read);
	}
	if (error == SG_OK || n <= 0) {
		OPENSSL_cleanse(said, sizeof(said));
		return error;
	}
	scrub_secret(said, (size_t)n, pin);
	for (ssize_t i = 0; i < n && w + 3 < sizeof(words); i++) {
		if (said[i] != '\n' && said[i] != '\r')
			words[w++] = said[i] >= 0x20 && said[i] < 0x7f ? said[i] : '?';
		else if (w > 0 && words[w - 1] != ' ' && i + 1 < n)
			w += (size_t)snprintf(words + w, sizeof(words) - w, "; ");
	}
	words[w] = '\0';
	OPENSSL_cleanse(said, sizeof(said));
	snprintf(msg, sizeof(msg), "%s", sg_error_last());
	return sg_error_set(error, "%s (the token said: %s)", msg, words);
}

/* A token: log in, load the key through its row (sg_key_open), match it to the certificate. */
static int open_token_key(helper *h, const sg_config *cfg)
{
	sg_key_view v;
	int error, saved, caught;

	sg_key_view_signing(&v, cfg);
	catch_stderr(&saved, &caught);
	error = sg_key_open(&h->token, &v, &h->secret, "the signing key");
	error = release_stderr(saved, caught, error, &h->secret);
	if (error == SG_OK && X509_check_private_key(h->km.cert, h->token.pkey) != 1)
		error = sg_error_set(SG_ERR_CRYPTO,
				     "%s: the key in the token does not match the certificate",
				     cfg->key);
	ERR_clear_error();
	return error;
}

/* Confine the helper to its key source's allowances (lib/key_allow.c). */
static int confine(helper *h, const sg_config *cfg, int *closes_files)
{
	sg_confine_prepared *p = NULL;
	const char *step = "";
	int e, error = sg_key_allow_prepare(&p, closes_files, cfg);

	if (error != SG_OK) {
		sg_confine_prepared_free(p);
		return error;
	}
	e = sg_confine_apply_child(p, -1, &step);
	if (e == 0)
		sg_confine_report_finish(&h->confined, p, 1, 0);
	sg_confine_prepared_free(p);
	if (e != 0)
		return sg_error_set(SG_ERR_TOOL, "cannot confine the key helper: %s: %s", step,
				    strerror(e));
	return SG_OK;
}

/* The key is open: no file at all from now on (PKCS#12, PEM). */
static int close_files(helper *h)
{
	int fd = sg_key_allow_no_files(), e = sg_key_allow_no_files_apply(fd);

	if (fd >= 0)
		close(fd);
	if (e != 0)
		return sg_error_set(SG_ERR_TOOL,
				    "cannot confine the key helper: landlock_restrict_self (no "
				    "files once the key is open): %s",
				    strerror(e));
	h->no_files = fd >= 0;
	return SG_OK;
}

static int open_key(helper *h, const sg_config *cfg, int identify_only)
{
	sg_cert_info info;
	int closes_files = 0, error = fresh_secure_heap();

	if (error == SG_OK)
		error = sg_secret_protect_process();
	/* A prompt needs the terminal, which the helper's own session (setsid) has not. */
	if (error == SG_OK && !cfg->secret.prompt)
		error = confine(h, cfg, &closes_files);
	if (error == SG_OK)
		error = sg_secret_obtain(&h->secret, cfg);
	if (error == SG_OK && cfg->secret.prompt)
		error = confine(h, cfg, &closes_files);
	if (error == SG_OK)
		error = sg_keys_open(&h->km, cfg, &h->secret);
	if (error == SG_OK && !identify_only)
		error = sg_signer_check_material(&info, &h->km, cfg);
	if (error == SG_OK && h->km.in_token && !identify_only)
		error = open_token_key(h, cfg);
	/* The key is open (or will not be): the secret is not needed any more. */
	sg_secret_clear(&h->secret);
	if (error == SG_OK && closes_files)
		error = close_files(h);
	return error;
}

static void helper_free(helper *h)
{
	sg_secret_clear(&h->secret);
	sg_key_close(&h->token);
	sg_key_material_free(&h->km);
}

/* What confinement the helper has (keyhelper_internal.h), right before the hello. */
static int say_confined(const helper *h)
{
	const sg_confine_report *r = &h->confined;
	const unsigned char c[SG_KH_CONF_LEN] = {
		(unsigned char)r->landlock_abi, (unsigned char)r->seccomp,
		(unsigned char)r->named,        (unsigned char)r->no_network,
		(unsigned char)r->netns,        (unsigned char)r->rlimits,
		(unsigned char)r->forced,       (unsigned char)h->no_files,
		(unsigned char)r->network
	};

	return send_msg(h->fd, SG_KH_CONF_MAGIC, SG_KH_STATUS_OK, 0, c, sizeof(c));
}

/* The hello: the certificates (leaf first), or why the helper cannot sign. */
static int say_hello(const helper *h, int error)
{
	unsigned char *buf = NULL, *p;
	int len = i2d_X509(h->km.cert, NULL), n = sk_X509_num(h->km.chain), rc;

	if (error != SG_OK)
		return send_text(h->fd, SG_KH_HELLO_MAGIC, SG_KH_STATUS_FAILED,
				 (unsigned long)-error, sg_error_last());
	for (int i = 0; len > 0 && i < n; i++) {
		int one = i2d_X509(sk_X509_value(h->km.chain, i), NULL);
		len = one > 0 && len < SG_KH_MSG_MAX ? len + one : -1;
	}
	if (len <= 0 || len > SG_KH_MSG_MAX - SG_KH_MSG_HEADER || !(buf = malloc((size_t)len))) {
		send_text(h->fd, SG_KH_HELLO_MAGIC, SG_KH_STATUS_FAILED,
			  (unsigned long)-SG_ERR_CRYPTO,
			  "the key helper cannot encode its certificates");
		return -1;
	}
	p = buf;
	i2d_X509(h->km.cert, &p);
	for (int i = 0; i < n; i++)
		i2d_X509(sk_X509_value(h->km.chain, i), &p);
	rc = send_msg(h->fd, SG_KH_HELLO_MAGIC, SG_KH_STATUS_OK, 0, buf, (size_t)len);
	free(buf);
	return rc;
}

static int sign_one(helper *h, const sg_keyhelper_request *req)
{
	sg_authenticode_sign_req sreq = { 0 };
	unsigned char *der = NULL;
	size_t len = 0;
	int error, rc;

	sg_keyhelper_request_apply(&sreq, req);
	sreq.key = h->km.key ? h->km.key : h->token.pkey;
	sreq.cert = h->km.cert;
	sreq.chain = h->km.chain;
	error = sg_authenticode_sign(&der, &len, &sreq);
	ERR_clear_error();
	if (error != SG_OK)
		return send_text(h->fd, SG_KH_REPLY_MAGIC,
				 error == SG_ERR_USAGE ? SG_KH_STATUS_REFUSED : SG_KH_STATUS_FAILED,
				 h->count, sg_error_last());
	h->count++;
	rc = send_msg(h->fd, SG_KH_REPLY_MAGIC, SG_KH_STATUS_OK, h->count, der, len);
	OPENSSL_free(der);
	return rc;
}

/* One request of `n` bytes (more than the buffer when it was truncated). */
static int answer(helper *h, const unsigned char *msg, size_t n)
{
	sg_keyhelper_request req;
	char why[128];

	if (n > SG_KEYHELPER_REQUEST_MAX) {
		snprintf(why, sizeof(why), "key helper request: %zu bytes, over the maximum of %d",
			 n, SG_KEYHELPER_REQUEST_MAX);
		return send_text(h->fd, SG_KH_REPLY_MAGIC, SG_KH_STATUS_REFUSED, h->count, why);
	}
	if (sg_keyhelper_request_parse(&req, msg, n) != SG_OK)
		return send_text(h->fd, SG_KH_REPLY_MAGIC, SG_KH_STATUS_REFUSED, h->count,
				 sg_error_last());
	if (h->max && h->count >= h->max) {
		snprintf(why, sizeof(why),
			 "key helper: the limit of %lu signatures for this run is reached", h->max);
		return send_text(h->fd, SG_KH_REPLY_MAGIC, SG_KH_STATUS_REFUSED, h->count, why);
	}
	return sign_one(h, &req);
}

/*
 * recv() says 0 both at the end and for an empty message: the end is
 * when the peer has hung up as well.
 */
static int peer_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };

	return poll(&p, 1, 0) != 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}

static void serve(helper *h)
{
	unsigned char msg[SG_KEYHELPER_REQUEST_MAX];

	for (;;) {
		ssize_t n = recv(h->fd, msg, sizeof(msg), MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n == 0 && peer_gone(h->fd)))
			return;
		if (answer(h, msg, (size_t)n) != 0)
			return;
	}
}

void sg_kh_child_run(int sock, int other, const sg_config *cfg, unsigned long max_signatures,
		     int identify_only, pid_t parent)
{
	helper h = { .fd = -1, .max = max_signatures };
	int error;

	close(other);
	sg_kh_reset_signals();
	/* Never outlive signgate: a helper nobody asks would only hold the key. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent)
		_exit(1);
	h.fd = sg_kh_isolate_fds(sock, cfg->secret.prompt, NULL, 0);
	if (h.fd < 0)
		_exit(1);
	error = open_key(&h, cfg, identify_only);
	if (say_confined(&h) != 0 || say_hello(&h, error) != 0 || error != SG_OK || identify_only) {
		helper_free(&h);
		_exit(1);
	}
	serve(&h);
	helper_free(&h);
	_exit(0);
}

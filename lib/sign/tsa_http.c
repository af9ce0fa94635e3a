/*
 * The HTTP side of an RFC 3161 request: POST a TimeStampReq to a TSA and
 * read its reply, bounded in time and size; see lib/timestamp_internal.h.
 * In a signing run this runs in the timestamp fetcher (lib/tsa_proc.c),
 * the one process of signgate that may use the network.
 */
#include "timestamp_internal.h"
#include "signgate/error.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ssl.h>

/* The request's DER, as the body of the POST. */
struct ts_body {
	const unsigned char *der;
	size_t len;
};

/* Text that came from the network, made safe to print: printable ASCII, bounded. */
void sg_ts_printable(char *out, size_t size, const unsigned char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size && n < SG_TS_TEXT_MAX; i++)
		out[n++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	out[n] = '\0';
}

/*
 * OpenSSL's error queue as one reason, the innermost cause first (e.g.
 * "Connection refused (calling connect()), connect error, error
 * connecting"), then cleared. `fallback` when the queue is empty.
 */
static void openssl_reason(char *out, size_t size, const char *fallback)
{
	unsigned long e;
	const char *data;
	int flags;
	size_t n = 0;

	out[0] = '\0';
	while (n + 1 < size && (e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		const char *r = ERR_reason_error_string(e);
		char safe[SG_TS_TEXT_MAX + 1] = "";
		if (data && (flags & ERR_TXT_STRING) && *data)
			sg_ts_printable(safe, sizeof(safe), (const unsigned char *)data,
					strlen(data));
		n += (size_t)snprintf(out + n, size - n, "%s%s%s%s%s", n ? ", " : "",
				      r ? r : "unknown error", safe[0] ? " (" : "", safe,
				      safe[0] ? ")" : "");
	}
	ERR_clear_error();
	if (!out[0])
		snprintf(out, size, "%s", fallback);
}

/* Milliseconds left until `deadline` (CLOCK_MONOTONIC), at least 0. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

/* A non-blocking connect to `ai` within the deadline; the errno on failure. */
static int connect_one(int *fd, const struct addrinfo *ai, const struct timespec *deadline)
{
	struct pollfd pfd;
	socklen_t elen = sizeof(int);
	int e = 0, n;

	*fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		     ai->ai_protocol);
	if (*fd < 0)
		return errno;
	if (connect(*fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		e = errno;
		if (e == EINPROGRESS) {
			pfd.fd = *fd;
			pfd.events = POLLOUT;
			do
				n = poll(&pfd, 1, ms_left(deadline));
			while (n < 0 && errno == EINTR);
			e = n == 0 ? ETIMEDOUT : n < 0 ? errno : 0;
			if (n > 0 && getsockopt(*fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0)
				e = errno;
		}
	}
	if (e) {
		close(*fd);
		*fd = -1;
	}
	return e;
}

/*
 * A TCP connection to host:port before the deadline, as a non-blocking
 * socket BIO (OpenSSL's HTTP client then bounds every read and write by
 * the time left). signgate connects itself, so that a refused connection
 * fails at once with its reason instead of being retried until the timeout.
 */
static int connect_tsa(BIO **out, const char *url, const char *host, const char *port,
		       const struct timespec *deadline)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	int fd = -1, e = 0, g = getaddrinfo(host, port, &hints, &res);

	*out = NULL;
	if (g != 0)
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the TSA did not answer: cannot resolve %s: %s", url, host,
				    gai_strerror(g));
	for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		e = connect_one(&fd, ai, deadline);
	freeaddrinfo(res);
	if (fd < 0)
		return sg_error_set(SG_ERR_TOOL, "%s: the TSA did not answer: cannot connect: %s",
				    url, e == ETIMEDOUT ? "connect timeout" : strerror(e));
	if (!(*out = BIO_new_socket(fd, BIO_CLOSE))) {
		close(fd);
		ERR_clear_error();
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	return SG_OK;
}

/*
 * POST the request over `conn` and return the reply body (DER, at most
 * SG_TS_REPLY_MAX bytes) before the deadline. The connection is signgate's
 * own: no proxy is used, whatever the environment says.
 */
static int exchange(BIO **reply, BIO *conn, const char *url, const char *host, const char *path,
		    const struct ts_body *req, const struct timespec *deadline)
{
	BIO *body = req->len <= INT_MAX ? BIO_new_mem_buf(req->der, (int)req->len) : NULL;
	int left = (ms_left(deadline) + 999) / 1000, error = SG_OK;
	char why[SG_ERROR_MAX];

	if (!body) {
		ERR_clear_error();
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	*reply = OSSL_HTTP_transfer(NULL, host, NULL, path, 0, NULL, NULL, conn, conn, NULL, NULL,
				    0, NULL, "application/timestamp-query", body,
				    "application/timestamp-reply", 1, SG_TS_REPLY_MAX,
				    left > 0 ? left : 1, 0);
	if (!*reply) {
		openssl_reason(why, sizeof(why), "no reply");
		error = sg_error_set(SG_ERR_TOOL, "%s: no usable reply from the TSA: %s", url, why);
	}
	BIO_free(body);
	return error;
}

/*
 * exchange() with SIGPIPE blocked for this thread: a TSA that closes the
 * connection while the request is written fails the request (EPIPE), it
 * does not kill the process. A SIGPIPE raised meanwhile is taken off the
 * pending set before the mask is restored.
 */
static int exchange_nosigpipe(BIO **reply, BIO *conn, const char *url, const char *host,
			      const char *path, const struct ts_body *req,
			      const struct timespec *deadline)
{
	const struct timespec zero = { 0, 0 };
	sigset_t pipe_set, old;
	int error, was_blocked;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &pipe_set, &old) != 0)
		return exchange(reply, conn, url, host, path, req, deadline);
	was_blocked = sigismember(&old, SIGPIPE) == 1;
	error = exchange(reply, conn, url, host, path, req, deadline);
	if (!was_blocked) {
		while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
			;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	return error;
}

/*
 * TLS over `*conn` for an https:// TSA. The peer is not authenticated, as
 * osslsigncode did not without -HTTPS-CAfile: what is trusted is the token
 * (its signature and TSA chain, judged by verification, and the imprint
 * and nonce checked here), which no one on the path can forge; TLS is
 * there for a TSA that speaks nothing else.
 */
static int start_tls(BIO **conn, const char *url, const char *host)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	BIO *tls = NULL;
	SSL *ssl = NULL;

	if (ctx && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		tls = BIO_new_ssl(ctx, 1);
	SSL_CTX_free(ctx); /* the SSL holds its own reference */
	if (!tls || BIO_get_ssl(tls, &ssl) <= 0 || !ssl || !SSL_set_tlsext_host_name(ssl, host)) {
		BIO_free(tls);
		ERR_clear_error();
		return sg_error_set(SG_ERR_CRYPTO, "%s: cannot set up TLS", url);
	}
	*conn = BIO_push(tls, *conn);
	return SG_OK;
}

/* Ask the TSA at `url` with `req`; the reply body in `*reply`, within timeout_sec. */
static int post_request(BIO **reply, const char *url, const struct ts_body *req, int timeout_sec)
{
	char *host = NULL, *port = NULL, *path = NULL, why[SG_ERROR_MAX];
	int use_ssl = 0, error = SG_OK;
	struct timespec deadline;
	BIO *conn = NULL;

	*reply = NULL;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_sec;
	if (!OSSL_HTTP_parse_url(url, &use_ssl, NULL, &host, &port, NULL, &path, NULL, NULL)) {
		openssl_reason(why, sizeof(why), "unparsable");
		error = sg_error_set(SG_ERR_USAGE, "%s: not a usable TSA URL: %s", url, why);
	} else if ((error = connect_tsa(&conn, url, host, port, &deadline)) == SG_OK &&
		   (!use_ssl || (error = start_tls(&conn, url, host)) == SG_OK)) {
		error = exchange_nosigpipe(reply, conn, url, host, path, req, &deadline);
	}
	BIO_free_all(conn);
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	return error;
}

/* The reply body as a buffer of malloc(), at most SG_TS_REPLY_MAX bytes (the HTTP client's bound
 * too). */
static int take_body(unsigned char **out, size_t *out_len, BIO *reply, const char *url)
{
	unsigned char *buf = malloc(SG_TS_REPLY_MAX);
	size_t len = 0;
	int n = 0;

	if (!buf)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	while (len < SG_TS_REPLY_MAX &&
	       (n = BIO_read(reply, buf + len, (int)(SG_TS_REPLY_MAX - len))) > 0)
		len += (size_t)n;
	ERR_clear_error();
	if (len == SG_TS_REPLY_MAX && BIO_pending(reply) > 0) {
		free(buf);
		return sg_error_set(SG_ERR_TOOL, "%s: the TSA's reply is over %d bytes", url,
				    SG_TS_REPLY_MAX);
	}
	*out = buf;
	*out_len = len;
	return SG_OK;
}

int sg_ts_http_post(unsigned char **reply, size_t *reply_len, const char *url,
		    const unsigned char *req, size_t req_len, int timeout_sec)
{
	struct ts_body body = { req, req_len };
	BIO *got = NULL;
	int error;

	*reply = NULL;
	*reply_len = 0;
	error = post_request(&got, url, &body, timeout_sec);
	if (error == SG_OK)
		error = take_body(reply, reply_len, got, url);
	BIO_free_all(got);
	return error;
}

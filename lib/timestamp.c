/*
 * RFC 3161 timestamps asked by signgate itself; see
 * include/signgate/timestamp.h.
 *
 * The request is made, sent and its answer judged here with OpenSSL's TS
 * and HTTP APIs alone. The answer must be for this request (imprint and
 * nonce), or a TSA (or anything between) could hand back a token made for
 * some other signature, which would only fail much later, in verification,
 * where no other TSA can be tried any more.
 */
#include "signgate/timestamp.h"
#include "signgate/error.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/http.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#define OID_RFC3161_TIMESTAMP "1.3.6.1.4.1.311.3.3.1"
#define TS_REPLY_MAX          (1024 * 1024) /* a token with a chain is a few KiB */
#define TS_NONCE_LEN          8
#define TS_IMPRINT_LEN        32 /* SHA-256 */
#define TS_TEXT_MAX           200

/* What one request asked for, to hold the answer against. */
struct ts_ask {
	unsigned char imprint[TS_IMPRINT_LEN];
	ASN1_INTEGER *nonce;
	TS_REQ *req;
};

/* Text that came from the network, made safe to print: printable ASCII, bounded. */
static void printable(char *out, size_t size, const unsigned char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size && n < TS_TEXT_MAX; i++)
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
		char safe[TS_TEXT_MAX + 1] = "";
		if (data && (flags & ERR_TXT_STRING) && *data)
			printable(safe, sizeof(safe), (const unsigned char *)data, strlen(data));
		n += (size_t)snprintf(out + n, size - n, "%s%s%s%s%s", n ? ", " : "",
				      r ? r : "unknown error", safe[0] ? " (" : "", safe,
				      safe[0] ? ")" : "");
	}
	ERR_clear_error();
	if (!out[0])
		snprintf(out, size, "%s", fallback);
}

/*
 * The signature to timestamp: DER (it must encode back to the same bytes,
 * so that the output differs from it by the token alone), SignedData with
 * one SignerInfo that has a signature value and no unsigned attribute.
 */
static int load_signature(PKCS7 **out, const unsigned char *der, size_t len, const char *url)
{
	const unsigned char *p = der;
	PKCS7 *p7 = len <= (size_t)LONG_MAX ? d2i_PKCS7(NULL, &p, (long)len) : NULL;
	STACK_OF(PKCS7_SIGNER_INFO) *sis =
		p7 && PKCS7_type_is_signed(p7) ? PKCS7_get_signer_info(p7) : NULL;
	PKCS7_SIGNER_INFO *si =
		sk_PKCS7_SIGNER_INFO_num(sis) == 1 ? sk_PKCS7_SIGNER_INFO_value(sis, 0) : NULL;
	unsigned char *again = NULL;
	const char *why = NULL;
	int again_len;

	if (!p7 || p != der + len)
		why = "it is not one DER PKCS#7";
	else if (!sis)
		why = "it is not a PKCS#7 SignedData";
	else if (!si)
		why = "it does not have exactly one SignerInfo";
	else if (!si->enc_digest || si->enc_digest->length <= 0)
		why = "its SignerInfo has no signature value";
	else if (sk_X509_ATTRIBUTE_num(si->unauth_attr) > 0)
		why = "its SignerInfo already has an unsigned attribute";
	else if ((again_len = i2d_PKCS7(p7, &again)) < 0 || (size_t)again_len != len ||
		 memcmp(again, der, len) != 0)
		why = "it is not in DER (it does not encode back to the same bytes)";
	OPENSSL_free(again);
	ERR_clear_error();
	if (why) {
		PKCS7_free(p7);
		return sg_error_set(SG_ERR_USAGE, "%s: the signature cannot be timestamped: %s",
				    url, why);
	}
	*out = p7;
	return SG_OK;
}

static PKCS7_SIGNER_INFO *the_signer(PKCS7 *p7)
{
	return sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
}

/* A random positive 64-bit nonce. */
static ASN1_INTEGER *random_nonce(void)
{
	unsigned char buf[TS_NONCE_LEN];
	BIGNUM *bn = RAND_bytes(buf, sizeof(buf)) == 1 ? BN_bin2bn(buf, sizeof(buf), NULL) : NULL;
	ASN1_INTEGER *nonce = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;

	BN_free(bn);
	return nonce;
}

/* The TimeStampReq over `si`'s signature value: SHA-256, a nonce, certReq. */
static int make_request(struct ts_ask *ask, PKCS7_SIGNER_INFO *si)
{
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	int ok;

	ok = mi && alg &&
	     EVP_Digest(si->enc_digest->data, (size_t)si->enc_digest->length, ask->imprint, NULL,
			EVP_sha256(), NULL) &&
	     X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) &&
	     TS_MSG_IMPRINT_set_algo(mi, alg) &&
	     TS_MSG_IMPRINT_set_msg(mi, ask->imprint, sizeof(ask->imprint)) &&
	     (ask->nonce = random_nonce()) != NULL && (ask->req = TS_REQ_new()) != NULL &&
	     TS_REQ_set_version(ask->req, 1) && TS_REQ_set_msg_imprint(ask->req, mi) &&
	     TS_REQ_set_nonce(ask->req, ask->nonce) && TS_REQ_set_cert_req(ask->req, 1);
	TS_MSG_IMPRINT_free(mi);
	X509_ALGOR_free(alg);
	if (ok)
		return SG_OK;
	ERR_clear_error();
	return sg_error_set(SG_ERR_CRYPTO, "cannot build the timestamp request");
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
 * TS_REPLY_MAX bytes) before the deadline. The connection is signgate's
 * own: no proxy is used, whatever the environment says.
 */
static int exchange(BIO **reply, BIO *conn, const char *url, const char *host, const char *path,
		    TS_REQ *req, const struct timespec *deadline)
{
	BIO *body = BIO_new(BIO_s_mem());
	int left = (ms_left(deadline) + 999) / 1000, error = SG_OK;
	char why[512];

	if (!body || i2d_TS_REQ_bio(body, req) != 1) {
		BIO_free(body);
		ERR_clear_error();
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	*reply = OSSL_HTTP_transfer(NULL, host, NULL, path, 0, NULL, NULL, conn, conn, NULL, NULL,
				    0, NULL, "application/timestamp-query", body,
				    "application/timestamp-reply", 1, TS_REPLY_MAX,
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
			      const char *path, TS_REQ *req, const struct timespec *deadline)
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
static int post_request(BIO **reply, const char *url, TS_REQ *req, int timeout_sec)
{
	char *host = NULL, *port = NULL, *path = NULL, why[512];
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

static const char *status_name(long status)
{
	static const char *const names[] = { "granted",           "grantedWithMods",
					     "rejection",         "waiting",
					     "revocationWarning", "revocationNotification" };

	return status >= 0 && status < 6 ? names[status] : "an unknown status";
}

/* The TSA's refusal as text: status, failure bits and its own words. */
static int refused(const char *url, const TS_STATUS_INFO *si, long status)
{
	static const struct {
		int bit;
		const char *name;
	} fails[] = { { 0, "badAlg" },
		      { 2, "badRequest" },
		      { 5, "badDataFormat" },
		      { 14, "timeNotAvailable" },
		      { 15, "unacceptedPolicy" },
		      { 16, "unacceptedExtension" },
		      { 17, "addInfoNotAvailable" },
		      { 25, "systemFailure" } };
	const ASN1_BIT_STRING *bits = TS_STATUS_INFO_get0_failure_info(si);
	const STACK_OF(ASN1_UTF8STRING) *text = TS_STATUS_INFO_get0_text(si);
	char what[512] = "", safe[TS_TEXT_MAX + 1];
	size_t n = 0;

	for (size_t i = 0; bits && i < sizeof(fails) / sizeof(fails[0]); i++)
		if (ASN1_BIT_STRING_get_bit(bits, fails[i].bit))
			n += (size_t)snprintf(what + n, sizeof(what) - n, " %s", fails[i].name);
	for (int i = 0; i < sk_ASN1_UTF8STRING_num(text) && n < sizeof(what); i++) {
		const ASN1_UTF8STRING *s = sk_ASN1_UTF8STRING_value(text, i);
		printable(safe, sizeof(safe), ASN1_STRING_get0_data(s),
			  (size_t)ASN1_STRING_length(s));
		n += (size_t)snprintf(what + n, sizeof(what) - n, " \"%s\"", safe);
	}
	return sg_error_set(SG_ERR_TOOL, "%s: the TSA refused the request: status %ld (%s)%s", url,
			    status, status_name(status), what);
}

/* The reply must grant a token for exactly what `ask` asked. */
static int check_reply(const char *url, TS_RESP *resp, const struct ts_ask *ask)
{
	TS_STATUS_INFO *st = TS_RESP_get_status_info(resp);
	long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(st));
	TS_TST_INFO *tst = TS_RESP_get_tst_info(resp);
	PKCS7 *token = TS_RESP_get_token(resp);
	TS_MSG_IMPRINT *mi = tst ? TS_TST_INFO_get_msg_imprint(tst) : NULL;
	X509_ALGOR *alg = mi ? TS_MSG_IMPRINT_get_algo(mi) : NULL;
	ASN1_OCTET_STRING *md = mi ? TS_MSG_IMPRINT_get_msg(mi) : NULL;
	const ASN1_INTEGER *nonce = tst ? TS_TST_INFO_get_nonce(tst) : NULL;

	if (status != 0 && status != 1)
		return refused(url, st, status);
	if (!token || !tst || !PKCS7_type_is_signed(token))
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the TSA granted the request but sent no token", url);
	if (!alg || OBJ_obj2nid(alg->algorithm) != NID_sha256 || !md ||
	    ASN1_STRING_length(md) != TS_IMPRINT_LEN ||
	    memcmp(ASN1_STRING_get0_data(md), ask->imprint, TS_IMPRINT_LEN) != 0)
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the TSA's token is for another imprint than the "
				    "SHA-256 of this signature value",
				    url);
	if (!nonce || ASN1_INTEGER_cmp(nonce, ask->nonce) != 0)
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the TSA's token does not carry this request's nonce "
				    "(a replayed or misdirected answer)",
				    url);
	if (sk_X509_num(token->d.sign->cert) <= 0)
		return sg_error_set(SG_ERR_TOOL,
				    "%s: the TSA's token carries no certificate although one "
				    "was asked for",
				    url);
	return SG_OK;
}

/* Add `token` as the unsigned attribute 1.3.6.1.4.1.311.3.3.1 of `si`. */
static int add_token(PKCS7_SIGNER_INFO *si, PKCS7 *token)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(OID_RFC3161_TIMESTAMP, 1);
	unsigned char *der = NULL;
	int len = i2d_PKCS7(token, &der), ok;

	ok = obj && len > 0 &&
	     X509at_add1_attr_by_OBJ(&si->unauth_attr, obj, V_ASN1_SEQUENCE, der, len) != NULL;
	ASN1_OBJECT_free(obj);
	OPENSSL_free(der);
	ERR_clear_error();
	return ok ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/* `p7` as DER in a buffer of malloc(). */
static int encode(unsigned char **out, size_t *out_len, PKCS7 *p7)
{
	unsigned char *der = NULL;
	int len = i2d_PKCS7(p7, &der);

	if (len <= 0 || !(*out = malloc((size_t)len))) {
		OPENSSL_free(der);
		ERR_clear_error();
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	memcpy(*out, der, (size_t)len);
	*out_len = (size_t)len;
	OPENSSL_free(der);
	return SG_OK;
}

/* Ask `url` for a token over `p7`'s signature and add it. */
static int stamp(PKCS7 *p7, const char *url, int timeout_sec)
{
	struct ts_ask ask = { { 0 }, NULL, NULL };
	BIO *reply = NULL;
	TS_RESP *resp = NULL;
	int error = make_request(&ask, the_signer(p7));

	if (!error)
		error = post_request(&reply, url, ask.req, timeout_sec);
	if (!error && !(resp = d2i_TS_RESP_bio(reply, NULL))) {
		ERR_clear_error();
		error = sg_error_set(SG_ERR_TOOL,
				     "%s: the TSA's reply is not an RFC 3161 TimeStampResp (or "
				     "one that grants without a token)",
				     url);
	}
	if (!error)
		error = check_reply(url, resp, &ask);
	if (!error)
		error = add_token(the_signer(p7), TS_RESP_get_token(resp));
	TS_RESP_free(resp);
	BIO_free_all(reply);
	TS_REQ_free(ask.req);
	ASN1_INTEGER_free(ask.nonce);
	return error;
}

int sg_timestamp_add(unsigned char **out_der, size_t *out_len, const unsigned char *p7_der,
		     size_t p7_len, const char *url, int timeout_sec)
{
	PKCS7 *p7 = NULL;
	int error;

	*out_der = NULL;
	*out_len = 0;
	if (!url || !p7_der || timeout_sec <= 0)
		return sg_error_set(SG_ERR_USAGE,
				    "%s: timestamping needs a signature, a URL and a timeout",
				    url ? url : "(no TSA URL)");
	error = load_signature(&p7, p7_der, p7_len, url);
	if (!error)
		error = stamp(p7, url, timeout_sec);
	if (!error)
		error = encode(out_der, out_len, p7);
	PKCS7_free(p7);
	return error;
}

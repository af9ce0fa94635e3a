/*
 * Unit tests for lib/timestamp.c (sg_timestamp_add): signatures made by
 * sg_authenticode_sign get a token from the fixture's loopback TSA that
 * sg_authenticode_check accepts; every way a TSA can fail or lie is refused
 * with its reason:
 *
 *   test_timestamp FIXDIR TSA_SERVER
 *
 * FIXDIR is the CTest fixture (tests/integration/fixture-setup.sh): pki/
 * (signer.p12, signer.pass, root.pem, tsa.cnf), tsa.port (the answering
 * TSA) and tsa-down.port (HTTP 500). TSA_SERVER is tests/fixtures/
 * tsa_server.py: this test starts one more with --bad-paths for the lies.
 */
#include "authenticode.h"
#include "signgate/authenticode_sign.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/secret.h"
#include "timestamp.h"
#include "signgate/util.h"

#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

static const char *fixdir, *tsa_server;
static char *workdir;
static EVP_PKEY *key;
static X509 *cert;
static STACK_OF(X509) * chain;
static pid_t bad_tsa;
static char bad_url[64];

static void stop_bad_tsa(void)
{
	if (bad_tsa > 0) {
		kill(bad_tsa, SIGTERM);
		waitpid(bad_tsa, NULL, 0);
		bad_tsa = 0;
	}
}

__attribute__((noreturn)) static void setup_fail(const char *what)
{
	fprintf(stderr, "setup failed: %s\n", what);
	stop_bad_tsa();
	check_workdir_remove(&workdir);
	exit(2);
}

#include "check_pki.h"

static void load_signer(void)
{
	load_fixture_signer(&key, &cert, &chain);
}

/* A fresh signature (PE content) over a made-up digest, DER in OPENSSL_malloc(). */
static unsigned char *make_signature(size_t *len)
{
	unsigned char digest[32], *der = NULL;
	sg_authenticode_sign_req req = {
		sg_format_by_name("pe"), NID_sha256, digest, 32, key, cert, chain,
		"timestamp test",        NULL
	};

	memset(digest, 0x5a, sizeof(digest));
	if (sg_authenticode_sign(&der, len, &req) != SG_OK)
		setup_fail(sg_error_last());
	return der;
}

/* "http://127.0.0.1:PORT/tsr" from a port file of the fixture. */
static void fixture_url(char *url, size_t size, const char *port_file)
{
	char port[16] = "";
	FILE *f = fopen(fx(port_file), "r");

	if (!f || !fgets(port, sizeof(port), f))
		setup_fail(port_file);
	fclose(f);
	port[strcspn(port, "\n")] = '\0';
	snprintf(url, size, "http://127.0.0.1:%s/tsr", port);
}

/*
 * tsa_server.py --bad-paths (with --tls CERT KEY when `tls`, else with
 * --fail-first `fail_first`) on a free port.
 */
static pid_t start_tsa(char *url, size_t size, const char *port_file, int tls, int fail_first)
{
	char failing[16], port[16] = "";
	char *argv[16] = { "/usr/bin/python3", (char *)tsa_server, "--port", "0", "--config",
			   (char *)fx("pki/tsa.cnf"), "--port-file", (char *)port_file,
			   "--bad-paths" };
	size_t n = 9;
	pid_t pid;

	snprintf(failing, sizeof(failing), "%d", fail_first);
	if (tls) {
		argv[n++] = "--tls";
		argv[n++] = (char *)fx("pki/tsa.pem");
		argv[n++] = (char *)fx("pki/tsa.key");
	} else {
		argv[n++] = "--fail-first";
		argv[n++] = failing;
	}
	pid = fork();
	if (pid < 0)
		setup_fail("fork");
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 100 && !port[0]; i++) {
		FILE *f = fopen(port_file, "r");
		if (!f || !fgets(port, sizeof(port), f))
			port[0] = '\0';
		if (f)
			fclose(f);
		if (!port[0])
			usleep(100000);
	}
	if (!port[0]) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		setup_fail("a --bad-paths TSA did not start");
	}
	port[strcspn(port, "\n")] = '\0';
	snprintf(url, size, "%s://127.0.0.1:%s", tls ? "https" : "http", port);
	return pid;
}

static void start_bad_tsa(void)
{
	bad_tsa = start_tsa(bad_url, sizeof(bad_url), wk("bad.port"), 0, 0);
}

/* sg_authenticode_check of `der` (written to a work file), as a PE's signature. */
static int check_der(sg_authenticode_result *r, const unsigned char *der, size_t len, int exact)
{
	sg_authenticode_opts o = { .ca_file = fx("pki/root.pem"),
				   .kind = sg_format_by_name("pe"),
				   .exact_attributes = exact };

	check_write_file(wk("checked.der"), der, len, 0600);
	return sg_authenticode_check(r, &o, wk("checked.der"));
}

static PKCS7 *parse(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);

	if (!p7)
		setup_fail("parse");
	return p7;
}

static PKCS7_SIGNER_INFO *signer0(PKCS7 *p7)
{
	return sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0);
}

/* The token verifies where signgate verifies, and nothing else changed. */
static void test_granted(void)
{
	char url[64];
	size_t len, out_len = 0, again_len = 0;
	unsigned char *der = make_signature(&len), *out = NULL, *again = NULL;
	sg_authenticode_result *r = calloc(1, sizeof(*r));
	PKCS7 *in, *got;

	fixture_url(url, sizeof(url), "tsa.port");
	CHECK_INT(sg_timestamp_add(&out, &out_len, der, len, url, 30), SG_OK);
	if (!out || !r)
		setup_fail(sg_error_last());
	CHECK_INT(check_der(r, out, out_len, 0), SG_OK);
	CHECK_INT(r->timestamped, 1);
	CHECK(r->timestamp > time(NULL) - 600 && r->timestamp < time(NULL) + 600);
	CHECK_INT(check_der(r, out, out_len, 1), SG_OK);
	CHECK_STR(r->reason, "");
	in = parse(der, len);
	got = parse(out, out_len);
	CHECK_INT(ASN1_STRING_cmp(signer0(in)->enc_digest, signer0(got)->enc_digest), 0);
	CHECK_INT(sk_X509_ATTRIBUTE_num(signer0(got)->unauth_attr), 1);
	CHECK_INT(OBJ_obj2nid(X509_ATTRIBUTE_get0_object(
			  sk_X509_ATTRIBUTE_value(signer0(got)->unauth_attr, 0))),
		  NID_undef);
	/* Exactly the input with the attribute: dropping it gives the input back. */
	sk_X509_ATTRIBUTE_pop_free(signer0(got)->unauth_attr, X509_ATTRIBUTE_free);
	signer0(got)->unauth_attr = NULL;
	CHECK_INT(i2d_PKCS7(got, NULL), (int)len);
	/* A timestamped signature is not timestamped twice. */
	CHECK_INT(sg_timestamp_add(&again, &again_len, out, out_len, url, 30), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "already has an unsigned attribute");
	CHECK(again == NULL && again_len == 0);
	PKCS7_free(in);
	PKCS7_free(got);
	free(out);
	free(r);
	OPENSSL_free(der);
}

/* sg_timestamp_add(url) fails with `code` and a message that names url and `why`. */
static void expect_fail(const char *url, int timeout, int code, const char *why)
{
	size_t len, out_len = 7;
	unsigned char *der = make_signature(&len), *out = (unsigned char *)"x";

	CHECK_INT(sg_timestamp_add(&out, &out_len, der, len, url, timeout), code);
	fprintf(stderr, "refused as expected: %s\n", sg_error_last());
	CHECK(out == NULL && out_len == 0);
	CHECK_CONTAINS(sg_error_last(), url);
	CHECK_CONTAINS(sg_error_last(), why);
	OPENSSL_free(der);
}

static void test_unreachable(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char url[64];

	/* A port that was free a moment ago and is closed now. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		setup_fail("cannot find a closed port");
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/tsr", ntohs(sa.sin_port));
	expect_fail(url, 10, SG_ERR_TOOL,
		    "the TSA did not answer: cannot connect: Connection refused");
	fixture_url(url, sizeof(url), "tsa-down.port");
	expect_fail(url, 10, SG_ERR_TOOL, "no usable reply from the TSA: received error (code=500");
}

/* A TSA that answers, but not with a token for this request. */
static void test_lies(void)
{
	static const struct {
		const char *path, *why;
	} cases[] = {
		{ "/reject", "the TSA refused the request: status 2 (rejection) unacceptedPolicy "
			     "\"test TSA: policy refused\"" },
		{ "/other-imprint", "the TSA's token is for another imprint" },
		{ "/other-nonce", "the TSA's token does not carry this request's nonce" },
		{ "/no-cert", "the TSA's token carries no certificate" },
		{ "/garbage", "no usable reply from the TSA: missing asn1 encoding" },
		{ "/not-resp", "the TSA's reply is not an RFC 3161 TimeStampResp" },
		{ "/huge", "no usable reply from the TSA: max resp len exceeded" },
		{ "/html", "no usable reply from the TSA: unexpected content type" },
		{ "/redirect", "no usable reply from the TSA: redirection not enabled" },
	};
	char url[96];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(url, sizeof(url), "%s%s", bad_url, cases[i].path);
		expect_fail(url, 20, SG_ERR_TOOL, cases[i].why);
	}
	/* The same server answers a plain path: the lies above came from the paths. */
	snprintf(url, sizeof(url), "%s/tsr", bad_url);
	{
		size_t len, out_len;
		unsigned char *der = make_signature(&len), *out = NULL;
		CHECK_INT(sg_timestamp_add(&out, &out_len, der, len, url, 20), SG_OK);
		free(out);
		OPENSSL_free(der);
	}
}

/* A TSA slower than the timeout: refused in about the timeout, not after the answer. */
static void test_slow(void)
{
	char url[96];
	time_t start = time(NULL);

	snprintf(url, sizeof(url), "%s/slow", bad_url);
	expect_fail(url, 1, SG_ERR_TOOL, "no usable reply from the TSA: transfer timeout");
	CHECK(time(NULL) - start <= 3);
}

/*
 * https://: TLS (the peer unauthenticated: the token is what is trusted),
 * and TLS to a TSA that speaks plain HTTP fails with a reason.
 */
static void test_https(void)
{
	char base[64], url[96];
	size_t len, out_len = 0;
	unsigned char *der = make_signature(&len), *out = NULL;
	sg_authenticode_result *r = calloc(1, sizeof(*r));
	pid_t pid = start_tsa(base, sizeof(base), wk("tls.port"), 1, 0);

	if (!r)
		setup_fail("calloc");
	snprintf(url, sizeof(url), "%s/tsr", base);
	CHECK_INT(sg_timestamp_add(&out, &out_len, der, len, url, 20), SG_OK);
	if (out) {
		CHECK_INT(check_der(r, out, out_len, 1), SG_OK);
		CHECK_INT(r->timestamped, 1);
	}
	snprintf(url, sizeof(url), "%s/other-nonce", base);
	expect_fail(url, 20, SG_ERR_TOOL, "the TSA's token does not carry this request's nonce");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(url, sizeof(url), "https://%s/tsr", bad_url + strlen("http://"));
	expect_fail(url, 10, SG_ERR_TOOL, "no usable reply from the TSA: ");
	free(out);
	free(r);
	OPENSSL_free(der);
}

/* Bad arguments: SG_ERR_USAGE, the TSA is never asked. */
static void test_usage(void)
{
	size_t len, out_len, two_len = 0;
	unsigned char *der = make_signature(&len), *out = NULL, *two = NULL, *junk;
	PKCS7 *p7 = parse(der, len);
	PKCS7_SIGNER_INFO *dup;

	expect_fail("ftp://127.0.0.1/", 5, SG_ERR_USAGE, "not a usable TSA URL");
	CHECK_INT(sg_timestamp_add(&out, &out_len, der, len, "http://127.0.0.1:1/", 0),
		  SG_ERR_USAGE);
	/* One byte after the DER: not one DER PKCS#7. */
	junk = malloc(len + 1);
	if (!junk)
		setup_fail("malloc");
	memcpy(junk, der, len);
	junk[len] = 0;
	CHECK_INT(sg_timestamp_add(&out, &out_len, junk, len + 1, "http://127.0.0.1:1/", 5),
		  SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "it is not one DER PKCS#7");
	free(junk);
	/* Two SignerInfos: which one would the token be for? */
	dup = ASN1_item_dup(ASN1_ITEM_rptr(PKCS7_SIGNER_INFO), signer0(p7));
	if (!dup || !sk_PKCS7_SIGNER_INFO_push(PKCS7_get_signer_info(p7), dup))
		setup_fail("dup");
	two_len = (size_t)i2d_PKCS7(p7, &two);
	CHECK_INT(sg_timestamp_add(&out, &out_len, two, two_len, "http://127.0.0.1:1/", 5),
		  SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "it does not have exactly one SignerInfo");
	OPENSSL_free(two);
	PKCS7_free(p7);
	OPENSSL_free(der);
}

/* An unsigned attribute (not a token) already there is refused too. */
static void test_has_unsigned(void)
{
	size_t len, out_len;
	unsigned char *der = make_signature(&len), *out = NULL, *with = NULL,
		      blob[] = { 0x04, 0x01, 0x41 };
	PKCS7 *p7 = parse(der, len);
	ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
	int with_len;

	if (!obj || !X509at_add1_attr_by_OBJ(&signer0(p7)->unauth_attr, obj, V_ASN1_SEQUENCE, blob,
					     sizeof(blob)))
		setup_fail("unsigned attribute");
	with_len = i2d_PKCS7(p7, &with);
	CHECK_INT(
		sg_timestamp_add(&out, &out_len, with, (size_t)with_len, "http://127.0.0.1:1/", 5),
		SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "already has an unsigned attribute");
	ASN1_OBJECT_free(obj);
	OPENSSL_free(with);
	PKCS7_free(p7);
	OPENSSL_free(der);
}

/*
 * The retry loop (sg_timestamp_add_retrying) with scripted attempts: each
 * TSA answers with the codes of its script in turn (SG_OK: a "stamped"
 * signature), and the calls are counted.
 */
struct script {
	const int *codes[3]; /* per TSA, ended by SG_OK or run off after n_codes */
	int n_codes[3];
	const char *const *why; /* per TSA: the failure's message; NULL: "down" */
	int calls[3];
	int gone_after; /* 0: never; else the fetcher is gone after this many calls */
	int total;
};

static int scripted(unsigned char **out, size_t *out_len, const unsigned char *der, size_t len,
		    size_t i, void *arg)
{
	struct script *sc = arg;
	int k = sc->calls[i]++, code = k < sc->n_codes[i] ? sc->codes[i][k] : SG_ERR_TOOL;

	sc->total++;
	(void)der;
	(void)len;
	if (code == SG_OK) {
		*out = (unsigned char *)strdup("stamped");
		*out_len = 7;
		return SG_OK;
	}
	return sg_error_set(code, "u%zu: %s", i, sc->why ? sc->why[k % 2] : "down");
}

static int scripted_gone(void *arg)
{
	const struct script *sc = arg;

	return sc->gone_after && sc->total >= sc->gone_after;
}

static const char *const urls3[] = { "u0", "u1", "u2" };

/* Run the loop over `n` TSAs with `retries`, `wait`; returns its code, `res` filled. */
static int run_plan(sg_sign_result *res, struct script *sc, size_t n, int retries, int wait,
		    unsigned char **der, size_t *der_len)
{
	sg_timestamp_plan plan = { urls3, n, retries, wait, scripted, sc, scripted_gone };

	memset(res, 0, sizeof(*res));
	*der = (unsigned char *)strdup("plain");
	*der_len = 5;
	return sg_timestamp_add_retrying(res, der, der_len, &plan);
}

static void test_retry_plans(void)
{
	static const int fail2_ok[] = { SG_ERR_TOOL, SG_ERR_TOOL, SG_OK };
	static const int ok[] = { SG_OK };
	static const int usage[] = { SG_ERR_USAGE };
	static const char *const two_whys[] = { "refused", "timeout" };
	sg_sign_result *res = calloc(1, sizeof(*res));
	unsigned char *der = NULL;
	size_t der_len = 0;
	struct script sc;

	if (!res)
		setup_fail("out of memory");
	/* Fails twice, answers the third time: retries 2 are enough. */
	sc = (struct script){ .codes = { fail2_ok, ok }, .n_codes = { 3, 1 } };
	CHECK_INT(run_plan(res, &sc, 2, 2, 0, &der, &der_len), SG_OK);
	CHECK_INT(sc.calls[0], 3);
	CHECK_INT(sc.calls[1], 0);
	CHECK_STR(res->tsa_url, "u0");
	CHECK_INT(res->timestamped, 1);
	CHECK(der_len == 7 && memcmp(der, "stamped", 7) == 0);
	CHECK_STR(res->attempts, "u0: down (attempts 1-2 of 3)");
	free(der);
	/* Retries 1: the first TSA gives up after two, the next one answers. */
	sc = (struct script){ .codes = { fail2_ok, ok }, .n_codes = { 3, 1 } };
	CHECK_INT(run_plan(res, &sc, 2, 1, 0, &der, &der_len), SG_OK);
	CHECK_INT(sc.calls[0], 2);
	CHECK_INT(sc.calls[1], 1);
	CHECK_STR(res->tsa_url, "u1");
	CHECK_STR(res->attempts, "u0: down (attempts 1-2 of 2)");
	free(der);
	/* Retries 1, one TSA: nobody answered; the signature is left as it was. */
	sc = (struct script){ .codes = { fail2_ok }, .n_codes = { 3 } };
	CHECK_INT(run_plan(res, &sc, 1, 1, 0, &der, &der_len), SG_ERR_TOOL);
	CHECK_STR(sg_error_last(), "no TSA answered (1 tried): u0: down (attempts 1-2 of 2)");
	CHECK_INT(res->timestamped, 0);
	CHECK(der_len == 5 && memcmp(der, "plain", 5) == 0);
	free(der);
	/* No retries: the list reads as it did before retries existed. */
	sc = (struct script){ .codes = { NULL, NULL }, .n_codes = { 0, 0 } };
	CHECK_INT(run_plan(res, &sc, 2, 0, 0, &der, &der_len), SG_ERR_TOOL);
	CHECK_STR(res->attempts, "u0: down; u1: down");
	CHECK_INT(sc.total, 2);
	free(der);
	/* Different reasons are listed one by one, each with its attempt. */
	sc = (struct script){ .why = two_whys };
	CHECK_INT(run_plan(res, &sc, 1, 2, 0, &der, &der_len), SG_ERR_TOOL);
	CHECK_STR(res->attempts, "u0: refused (attempt 1 of 3); u0: timeout (attempt 2 of 3); "
				 "u0: refused (attempt 3 of 3)");
	free(der);
	/* Not the TSA's failure (a bad signature): no retry, no next TSA. */
	sc = (struct script){ .codes = { usage, ok }, .n_codes = { 1, 1 } };
	CHECK_INT(run_plan(res, &sc, 2, 3, 0, &der, &der_len), SG_ERR_USAGE);
	CHECK_INT(sc.total, 1);
	CHECK_STR(sg_error_last(), "u0: down");
	free(der);
	/* The fetcher ended: nothing more is asked. */
	sc = (struct script){ .codes = { NULL, ok }, .n_codes = { 0, 1 }, .gone_after = 1 };
	CHECK_INT(run_plan(res, &sc, 2, 3, 0, &der, &der_len), SG_ERR_TOOL);
	CHECK_INT(sc.total, 1);
	CHECK_STR(res->attempts, "u0: down (attempt 1 of 4)");
	free(der);
	/* Out of range: refused before anything is asked. */
	sc = (struct script){ .codes = { ok }, .n_codes = { 1 } };
	CHECK_INT(run_plan(res, &sc, 1, SG_TS_RETRIES_MAX + 1, 0, &der, &der_len), SG_ERR_USAGE);
	free(der);
	CHECK_INT(run_plan(res, &sc, 1, 0, SG_TS_RETRY_WAIT_MAX + 1, &der, &der_len),
		  SG_ERR_USAGE);
	CHECK_INT(sc.total, 0);
	free(der);
	free(res);
}

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The wait is between attempts at one TSA, not after its last one. */
static void test_retry_wait(void)
{
	static const int fail1_ok[] = { SG_ERR_TOOL, SG_OK };
	sg_sign_result *res = calloc(1, sizeof(*res));
	unsigned char *der = NULL;
	size_t der_len = 0;
	struct script sc = { .codes = { fail1_ok }, .n_codes = { 2 } };
	double t0 = seconds_now(), took;

	if (!res)
		setup_fail("out of memory");
	CHECK_INT(run_plan(res, &sc, 1, 3, 1, &der, &der_len), SG_OK);
	took = seconds_now() - t0;
	CHECK(took >= 1.0 && took < 1.9);
	free(der);
	sc = (struct script){ .codes = { NULL, fail1_ok }, .n_codes = { 0, 2 } };
	t0 = seconds_now();
	CHECK_INT(run_plan(res, &sc, 2, 1, 1, &der, &der_len), SG_OK);
	took = seconds_now() - t0;
	/* u0: attempt, wait, attempt; u1: attempt, wait, attempt. */
	CHECK(took >= 2.0 && took < 2.9);
	CHECK_STR(res->attempts, "u0: down (attempts 1-2 of 2); u1: down (attempt 1 of 2)");
	free(der);
	free(res);
}

/* sg_timestamp_add() as one attempt of a plan. */
struct real_arg {
	const char *const *urls;
	int timeout;
};

static int real_attempt(unsigned char **out, size_t *out_len, const unsigned char *der,
			size_t len, size_t i, void *arg)
{
	const struct real_arg *a = arg;

	return sg_timestamp_add(out, out_len, der, len, a->urls[i], a->timeout);
}

/* A real TSA that fails its first two queries (tsa_server.py --fail-first 2). */
static void test_retry_real(void)
{
	char base[64], url[96];
	const char *one[1] = { url };
	pid_t pid = start_tsa(base, sizeof(base), wk("fail2.port"), 0, 2);
	size_t len;
	unsigned char *sig = make_signature(&len), *der = malloc(len);
	sg_sign_result *res = calloc(1, sizeof(*res));
	sg_authenticode_result *r = calloc(1, sizeof(*r));
	struct real_arg arg = { one, 10 };
	sg_timestamp_plan plan = { one, 1, 2, 0, real_attempt, &arg, NULL };
	size_t der_len = len;

	if (!der || !res || !r)
		setup_fail("out of memory");
	memcpy(der, sig, len);
	snprintf(url, sizeof(url), "%s/retry-a/tsr", base);
	CHECK_INT(sg_timestamp_add_retrying(res, &der, &der_len, &plan), SG_OK);
	CHECK_INT(res->timestamped, 1);
	CHECK_STR(res->tsa_url, url);
	CHECK_CONTAINS(res->attempts, "/retry-a/tsr: no usable reply from the TSA: received error "
				      "(code=500");
	CHECK_CONTAINS(res->attempts, "(attempts 1-2 of 3)");
	CHECK_INT(check_der(r, der, der_len, 1), SG_OK);
	CHECK_INT(r->timestamped, 1);
	/* Another path fails its own first two: retries 1 are not enough. */
	snprintf(url, sizeof(url), "%s/retry-b/tsr", base);
	memset(res, 0, sizeof(*res));
	plan.retries = 1;
	free(der);
	der = malloc(len);
	if (!der)
		setup_fail("out of memory");
	memcpy(der, sig, len);
	der_len = len;
	CHECK_INT(sg_timestamp_add_retrying(res, &der, &der_len, &plan), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "no TSA answered (1 tried): ");
	CHECK_CONTAINS(sg_error_last(), "/retry-b/tsr: no usable reply from the TSA: received "
					"error (code=500");
	CHECK_CONTAINS(sg_error_last(), "(attempts 1-2 of 2)");
	CHECK(der_len == len && memcmp(der, sig, len) == 0);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(der);
	free(res);
	free(r);
	OPENSSL_free(sig);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_timestamp FIXDIR TSA_SERVER\n");
		return 2;
	}
	fixdir = argv[1];
	tsa_server = argv[2];
	if (check_workdir_create(&workdir) != SG_OK)
		setup_fail(sg_error_last());
	load_signer();
	start_bad_tsa();
	test_granted();
	test_unreachable();
	test_lies();
	test_slow();
	test_https();
	test_usage();
	test_has_unsigned();
	test_retry_plans();
	test_retry_wait();
	test_retry_real();
	stop_bad_tsa();
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	check_workdir_remove(&workdir);
	free(workdir);
	return check_done();
}
